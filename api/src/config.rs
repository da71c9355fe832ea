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
        Ok(Self {
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
        })
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
