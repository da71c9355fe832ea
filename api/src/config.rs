//! Configuration from the environment, with defaults that run on a developer's machine.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use expedientes_domain::SiaCode;

/// The service's configuration.
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: the PostgreSQL database (the README's run command starts a private one).
    pub database_url: String,
    /// `EXPEDIENTES_ADDR`: where to listen (default 127.0.0.1:8080).
    pub addr: SocketAddr,
    /// `EXPEDIENTES_SIGNING_KEY`: the JWT signing secret (at least 32 bytes). Without it, a
    /// development key is created in `.expedientes/signing-key` and a warning is logged.
    pub signing_key: Vec<u8>,
    /// Where the key came from, for the log.
    pub signing_key_source: String,
    /// `EXPEDIENTES_LOG_FORMAT=json` for JSON logs.
    pub log_json: bool,
    /// `EXPEDIENTES_SIA_<PROCEDURE>` (e.g. `EXPEDIENTES_SIA_GENERAL_APPLICATION`,
    /// `EXPEDIENTES_SIA_PADRON_REMOVAL_FILE`): each procedure's SIA code, keyed by the procedure's
    /// machine name; a procedure without one gets [`DEFAULT_SIA_CODE`].
    pub sia_codes: BTreeMap<String, SiaCode>,
    /// `EXPEDIENTES_SEAL_INTERVAL_SECS` (default 60): how often the log is sealed.
    pub seal_interval: Duration,
    /// `EXPEDIENTES_PROJECTION_INTERVAL_MS` (default 200): how often read models poll the log.
    pub projection_interval: Duration,
    /// `EXPEDIENTES_TIMEZONE` (default Europe/Madrid): the council's time zone, for local dates.
    pub timezone: chrono_tz::Tz,
    /// `EXPEDIENTES_COUNCIL_NOTICES_EMAIL`: the council's internal mailbox for notices such as new
    /// registrations.
    pub council_notices_email: String,
    /// `EXPEDIENTES_REMOVAL_FILE_MAX_MONTHS` (default 3, art. 21.3): the maximum time to resolve a
    /// removal file for wrong inscription.
    pub removal_file_max_months: u32,
    /// `EXPEDIENTES_MAX_CONNECTIONS` (default 4096) and `EXPEDIENTES_HEADER_TIMEOUT_SECS` (default
    /// 10): connections served at once, and how long one may take to send a request's headers.
    pub limits: crate::server::Limits,
    /// `EXPEDIENTES_METRICS_ADDR` (default `127.0.0.1:9464`; `off` for none): where `/metrics` is
    /// served, apart from the public address.
    pub metrics_addr: Option<SocketAddr>,
    /// `EXPEDIENTES_TRUSTED_PROXIES`: the reverse proxies (addresses or CIDR blocks, separated by
    /// commas) whose `X-Forwarded-For` names the client; by default none, and the connection's
    /// address is the client's.
    pub trusted_proxies: Vec<TrustedProxy>,
    /// The council's identity provider for staff tokens: `EXPEDIENTES_STAFF_JWKS_FILE` (its
    /// published keys, kept up to date by the deployment), `EXPEDIENTES_STAFF_ISSUER` and
    /// `EXPEDIENTES_STAFF_AUDIENCE`, all three or none. Without it, the development key's staff
    /// tokens are accepted (local use only).
    pub staff_identity: Option<crate::auth::StaffIdentity>,
}

/// A reverse proxy's address, or a block of them (`10.0.0.0/8`, `2001:db8::/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: std::net::IpAddr,
    prefix: u8,
}

impl std::str::FromStr for TrustedProxy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not an address or a CIDR block");
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: std::net::IpAddr = address.parse().map_err(|_| bad())?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(bad)?,
            None => bits,
        };
        // Trusting every address would let any client name itself.
        if prefix == 0 {
            return Err(format!("{text:?} would trust every address"));
        }
        Ok(Self { network, prefix })
    }
}

impl TrustedProxy {
    /// Whether `ip` is this proxy, or in this block.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        let (a, b, bits) = match (self.network, ip) {
            (V4(n), V4(i)) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
            (V6(n), V6(i)) => (u128::from(n), u128::from(i), 128),
            (V6(n), V4(i)) => match n.to_ipv4_mapped() {
                Some(n) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32),
                None => return false,
            },
            (V4(_), V6(i)) => match i.to_ipv4_mapped() {
                Some(i) => return self.contains(V4(i)),
                None => return false,
            },
        };
        let bits: u32 = bits;
        let prefix = u32::from(self.prefix).min(bits);
        if prefix == 0 {
            return true;
        }
        let shift = bits - prefix;
        (a >> shift) == (b >> shift)
    }
}

/// The client of a request that came over a connection from `peer`: the peer itself, unless it
/// is a trusted proxy; then the right-most address of `X-Forwarded-For` that is not a trusted
/// proxy (each proxy appends the address it saw, so only the trusted ones' entries are believed).
/// A malformed entry ends the walk at the last address believed.
pub fn client_address<'a>(
    trusted: &[TrustedProxy],
    peer: std::net::IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
) -> std::net::IpAddr {
    let trusts = |ip: std::net::IpAddr| trusted.iter().any(|p| p.contains(ip));
    if !trusts(peer) {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for
        .flat_map(|header| header.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        // Some proxies write `1.2.3.4:5678` or `[2001:db8::1]:5678`.
        let bare = match entry.parse::<SocketAddr>() {
            Ok(with_port) => with_port.ip().to_string(),
            Err(_) => entry
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        };
        match bare.parse::<std::net::IpAddr>() {
            Ok(ip) if trusts(ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => {
                tracing::warn!(entry = %entry, "an X-Forwarded-For entry that is not an address");
                return client;
            }
        }
    }
    client
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("signing_key", &"<secret>")
            .field("signing_key_source", &self.signing_key_source)
            .field("log_json", &self.log_json)
            .finish_non_exhaustive()
    }
}

/// The SIA code of a procedure the council has not configured. (Each council registers its own
/// procedures in the SIA inventory: set `EXPEDIENTES_SIA_<PROCEDURE>`.)
pub const DEFAULT_SIA_CODE: &str = "999999";

/// The prefix of the variables that give each procedure's SIA code.
pub const SIA_PREFIX: &str = "EXPEDIENTES_SIA_";

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Reads the environment. `database_required` is false for commands that need no database.
    pub fn from_env(database_required: bool) -> Result<Self, String> {
        let database_url = match var("DATABASE_URL") {
            Some(url) => url,
            None if database_required => {
                return Err("DATABASE_URL is not set: run through scripts/run, or point it at a PostgreSQL database".into())
            }
            None => String::new(),
        };
        let addr = var("EXPEDIENTES_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|_| "EXPEDIENTES_ADDR must be host:port, e.g. 127.0.0.1:8080".to_string())?;
        let metrics_addr = match var("EXPEDIENTES_METRICS_ADDR") {
            Some(off) if off.eq_ignore_ascii_case("off") => None,
            value => Some(
                value
                    .unwrap_or_else(|| "127.0.0.1:9464".into())
                    .parse()
                    .map_err(|_| {
                        "EXPEDIENTES_METRICS_ADDR must be host:port, e.g. 127.0.0.1:9464, or off"
                            .to_string()
                    })?,
            ),
        };
        let (signing_key, signing_key_source) = match var("EXPEDIENTES_SIGNING_KEY") {
            Some(key) if key.len() >= 32 => {
                (key.into_bytes(), "EXPEDIENTES_SIGNING_KEY".to_owned())
            }
            Some(_) => return Err("EXPEDIENTES_SIGNING_KEY must be at least 32 characters".into()),
            None => {
                let path = PathBuf::from(".expedientes/signing-key");
                (
                    development_key(&path)?,
                    format!("development key in {}", path.display()),
                )
            }
        };
        let mut sia_codes = BTreeMap::new();
        for (name, value) in std::env::vars() {
            if let Some(procedure) = name.strip_prefix(SIA_PREFIX) {
                if value.trim().is_empty() {
                    continue;
                }
                let code: SiaCode = value.trim().parse().map_err(|e| format!("{name}: {e}"))?;
                sia_codes.insert(procedure.to_ascii_lowercase(), code);
            }
        }
        let seconds = |name: &str, default: u64| -> Result<u64, String> {
            var(name)
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| format!("{name} must be a whole number"))
                })
                .transpose()
                .map(|v| v.unwrap_or(default))
        };
        let config = Self {
            database_url,
            addr,
            signing_key,
            signing_key_source,
            log_json: var("EXPEDIENTES_LOG_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json")),
            sia_codes,
            seal_interval: Duration::from_secs(
                seconds("EXPEDIENTES_SEAL_INTERVAL_SECS", 60)?.max(1),
            ),
            timezone: var("EXPEDIENTES_TIMEZONE")
                .unwrap_or_else(|| "Europe/Madrid".into())
                .parse()
                .map_err(|_| {
                    "EXPEDIENTES_TIMEZONE must be an IANA time zone such as Europe/Madrid"
                        .to_string()
                })?,
            council_notices_email: var("EXPEDIENTES_COUNCIL_NOTICES_EMAIL")
                .unwrap_or_else(|| "registro@localhost".into()),
            removal_file_max_months: seconds("EXPEDIENTES_REMOVAL_FILE_MAX_MONTHS", 3)?.clamp(1, 24)
                as u32,
            metrics_addr,
            staff_identity: match (
                var("EXPEDIENTES_STAFF_JWKS_FILE"),
                var("EXPEDIENTES_STAFF_ISSUER"),
                var("EXPEDIENTES_STAFF_AUDIENCE"),
            ) {
                (None, None, None) => None,
                (Some(jwks), Some(issuer), Some(audience)) => Some(
                    crate::auth::StaffIdentity::load(jwks, &issuer, &audience)?,
                ),
                _ => return Err(
                    "set EXPEDIENTES_STAFF_JWKS_FILE, EXPEDIENTES_STAFF_ISSUER and EXPEDIENTES_STAFF_AUDIENCE together"
                        .into(),
                ),
            },
            trusted_proxies: match var("EXPEDIENTES_TRUSTED_PROXIES") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| {
                        p.parse::<TrustedProxy>()
                            .map_err(|e| format!("EXPEDIENTES_TRUSTED_PROXIES: {e}"))
                    })
                    .collect::<Result<_, _>>()?,
            },
            limits: crate::server::Limits {
                max_connections: seconds("EXPEDIENTES_MAX_CONNECTIONS", 4096)?.clamp(1, 1 << 20)
                    as usize,
                header_read_timeout: Duration::from_secs(
                    seconds("EXPEDIENTES_HEADER_TIMEOUT_SECS", 10)?.clamp(1, 300),
                ),
                ..crate::server::Limits::default()
            },
            projection_interval: Duration::from_millis(
                seconds("EXPEDIENTES_PROJECTION_INTERVAL_MS", 200)?.max(10),
            ),
        };
        // The development key signs citizens' tokens too, certificate-level ones included: with
        // a real identity provider for staff, the deployment is a real one and needs its key.
        if config.staff_identity.is_some() && config.signing_key_source != "EXPEDIENTES_SIGNING_KEY"
        {
            return Err("with the council's identity provider configured, set EXPEDIENTES_SIGNING_KEY: the development key is for local use only".into());
        }
        Ok(config)
    }
}

impl Config {
    /// The configuration a developer's machine and the tests start from: every default, this
    /// database and signing key.
    pub fn defaults(database_url: &str, signing_key: &[u8]) -> Self {
        Self {
            database_url: database_url.to_owned(),
            addr: "127.0.0.1:8080".parse().expect("a valid address"),
            signing_key: signing_key.to_vec(),
            signing_key_source: "given".into(),
            log_json: false,
            sia_codes: BTreeMap::new(),
            seal_interval: Duration::from_secs(60),
            projection_interval: Duration::from_millis(200),
            timezone: chrono_tz::Europe::Madrid,
            council_notices_email: "registro@localhost".into(),
            removal_file_max_months: 3,
            limits: crate::server::Limits::default(),
            metrics_addr: None,
            trusted_proxies: Vec::new(),
            staff_identity: None,
        }
    }

    /// The SIA code of a procedure (by its machine name).
    pub fn sia_code(&self, procedure: &str) -> SiaCode {
        self.sia_codes.get(procedure).cloned().unwrap_or_else(|| {
            DEFAULT_SIA_CODE
                .parse()
                .expect("the default SIA code is valid")
        })
    }
}

/// Reads, or creates with 256 random bits, the development signing key.
fn development_key(path: &Path) -> Result<Vec<u8>, String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let key = existing.trim().to_owned();
        if key.len() >= 32 {
            return Ok(key.into_bytes());
        }
    }
    // A new key is made only in the project's own folder (where scripts/run runs): elsewhere a
    // silent new key would sign tokens that no running service accepts, or replace the one that
    // does. Outside it, the key must be given.
    if !Path::new("scripts/run").is_file() {
        return Err(format!(
            "EXPEDIENTES_SIGNING_KEY is not set and there is no development key in {}: set \
             EXPEDIENTES_SIGNING_KEY, or run from the project's folder to use its development key",
            path.display()
        ));
    }
    let key = hex::encode(rand::random::<[u8; 32]>());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, &key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(key.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> std::net::IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_behind_trusted_proxies_is_the_first_address_they_did_not_add() {
        let trusted: Vec<TrustedProxy> = ["10.0.0.0/8", "2001:db8::1"]
            .iter()
            .map(|p| p.parse().unwrap())
            .collect();
        // Straight from the Internet: the connection's address, whatever the header says.
        assert_eq!(
            client_address(&trusted, ip("203.0.113.5"), ["198.51.100.1"].into_iter()),
            ip("203.0.113.5")
        );
        // Through the proxy: the address the proxy saw, not what the client claimed before it.
        assert_eq!(
            client_address(
                &trusted,
                ip("10.1.2.3"),
                ["1.2.3.4, 198.51.100.7", "10.9.9.9"].into_iter()
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(&trusted, ip("2001:db8::1"), ["192.0.2.44"].into_iter()),
            ip("192.0.2.44")
        );
        // With a port, or an IPv6 address in brackets.
        assert_eq!(
            client_address(&trusted, ip("10.1.2.3"), ["198.51.100.7:5678"].into_iter()),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(&trusted, ip("10.1.2.3"), ["[2001:db8::9]:443"].into_iter()),
            ip("2001:db8::9")
        );
        // A proxy with no header, or a malformed entry: the last address believed.
        assert_eq!(
            client_address(&trusted, ip("10.1.2.3"), std::iter::empty()),
            ip("10.1.2.3")
        );
        assert_eq!(
            client_address(
                &trusted,
                ip("10.1.2.3"),
                ["198.51.100.7, garbage"].into_iter()
            ),
            ip("10.1.2.3")
        );
        // Without trusted proxies the header is never believed.
        assert_eq!(
            client_address(&[], ip("10.1.2.3"), ["198.51.100.7"].into_iter()),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn proxies_parse_as_addresses_or_blocks() {
        assert!("10.0.0.0/8"
            .parse::<TrustedProxy>()
            .unwrap()
            .contains(ip("10.255.0.1")));
        assert!(!"10.0.0.0/8"
            .parse::<TrustedProxy>()
            .unwrap()
            .contains(ip("11.0.0.1")));
        assert!(
            "0.0.0.0/0".parse::<TrustedProxy>().is_err(),
            "not every address"
        );
        assert!("::/0".parse::<TrustedProxy>().is_err());
        assert!("192.0.2.1"
            .parse::<TrustedProxy>()
            .unwrap()
            .contains(ip("::ffff:192.0.2.1")));
        for bad in ["10.0.0.0/33", "proxy", "10.0.0.1/x", ""] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
    }
}
