//! Bearer-token authentication (JWT, HS256) and what each role may reach.
//!
//! A token carries the subject (a citizen's document number or an employee id), the role, the
//! tenant (INE code) and the assurance level. Citizens' tokens are minted by the service itself
//! when they log in (HS256, the service's key). Staff tokens come, in production, from the
//! council's identity provider (RS256 or ES256, verified against its published keys, a JWKS,
//! with its issuer and audience: [`StaffIdentity`]); without one configured, the development
//! key's HS256 staff tokens (`expedientes token`) are accepted, for local use only.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use expedientes_domain::{DocumentNumber, MunicipalityCode};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::problem::ApiError;
use crate::state::AppState;

/// The issuer and audience written into and required from every token.
pub const ISSUER: &str = "expedientes";
/// See [`ISSUER`].
pub const AUDIENCE: &str = "expedientes-api";

/// Who a caller is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    clap::ValueEnum,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// A person, acting on their own files (or those they represent).
    Citizen,
    /// Council staff who process files.
    Caseworker,
    /// Read-only: history, reconstruction, verification.
    Auditor,
    /// Administers the council's configuration (calendars).
    Admin,
}

impl Role {
    /// Its name as in tokens and metadata.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// eIDAS level of assurance of the authentication behind the token.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Assurance {
    /// Low.
    Low,
    /// Substantial (e.g. Cl@ve PIN, permanent password).
    Substantial,
    /// High (electronic certificate, DNIe).
    High,
}

/// The token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: document number (citizen) or employee id.
    pub sub: String,
    /// Role.
    pub role: Role,
    /// Tenant: INE municipality code.
    pub tenant: String,
    /// Assurance level.
    pub aal: Assurance,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// Not before (seconds since the epoch), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
}

/// The longest a token may last, from its issue to its expiry (a working day and a half): a token
/// that claims to last longer (an `exp` in 9999) is refused.
pub const MAX_TOKEN_LIFETIME: u64 = 12 * 3600;

/// How far in the future a token's `iat` or `nbf` may be (clocks drift a little).
pub const CLOCK_SKEW: u64 = 60;

/// The signing key, shared by the service and the token minter; and the council's identity
/// provider for staff tokens, when configured.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    staff: Option<StaffIdentity>,
}

/// The council's identity provider: where its published keys are (a JWKS file the deployment
/// keeps up to date from the provider's `jwks_uri`; read again when it changes), and the issuer
/// and audience its staff tokens must name. Its tokens carry `sub` (the employee), `role`
/// (`caseworker`, `auditor` or `admin`) and `tenant` (the council's INE code).
#[derive(Clone)]
pub struct StaffIdentity {
    jwks: std::path::PathBuf,
    issuer: String,
    audience: String,
    keys: std::sync::Arc<std::sync::RwLock<PublishedKeys>>,
}

impl std::fmt::Debug for StaffIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffIdentity")
            .field("jwks", &self.jwks)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct PublishedKeys {
    modified: Option<SystemTime>,
    checked: Option<std::time::Instant>,
    keys: Vec<(Option<String>, DecodingKey)>,
}

/// How often the JWKS file is looked at for a change.
const JWKS_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

impl StaffIdentity {
    /// Reads the provider's keys (refused if the file cannot be read, is not a JWKS, or holds no
    /// RSA or EC signing key).
    pub fn load(
        jwks: impl Into<std::path::PathBuf>,
        issuer: &str,
        audience: &str,
    ) -> Result<Self, String> {
        let identity = Self {
            jwks: jwks.into(),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            keys: Default::default(),
        };
        identity.reload(true)?;
        Ok(identity)
    }

    /// Reads the file again if it changed (at most every [`JWKS_CHECK`], unless `now`).
    fn reload(&self, now: bool) -> Result<(), String> {
        {
            let keys = self.keys.read().map_err(|_| "the keys' lock is poisoned")?;
            if !now && keys.checked.is_some_and(|c| c.elapsed() < JWKS_CHECK) {
                return Ok(());
            }
        }
        let path = self.jwks.display();
        let modified = std::fs::metadata(&self.jwks)
            .and_then(|m| m.modified())
            .map_err(|e| format!("the identity provider's keys ({path}): {e}"))?;
        let mut keys = self
            .keys
            .write()
            .map_err(|_| "the keys' lock is poisoned")?;
        keys.checked = Some(std::time::Instant::now());
        if keys.modified == Some(modified) {
            return Ok(());
        }
        let text = std::fs::read_to_string(&self.jwks)
            .map_err(|e| format!("the identity provider's keys ({path}): {e}"))?;
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&text)
            .map_err(|e| format!("the identity provider's keys ({path}) are not a JWKS: {e}"))?;
        let parsed: Vec<(Option<String>, DecodingKey)> = set
            .keys
            .iter()
            .filter(|k| {
                // Signing keys only: not those published for encryption.
                k.common.public_key_use != Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
                    && matches!(
                        k.algorithm,
                        jsonwebtoken::jwk::AlgorithmParameters::RSA(_)
                            | jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_)
                    )
            })
            .filter_map(|k| Some((k.common.key_id.clone(), DecodingKey::from_jwk(k).ok()?)))
            .collect();
        if parsed.is_empty() {
            return Err(format!(
                "the identity provider's keys ({path}) hold no RSA or EC key"
            ));
        }
        keys.keys = parsed;
        keys.modified = Some(modified);
        Ok(())
    }

    /// Verifies a staff token signed by the provider.
    fn verify(&self, token: &str, header: &Header) -> Result<Claims, ApiError> {
        if let Err(error) = self.reload(false) {
            // The keys read before stay in use; operators are told.
            tracing::warn!(%error, "the identity provider's keys could not be read again");
        }
        let keys = self
            .keys
            .read()
            .map_err(|_| ApiError::Internal("the keys' lock is poisoned".into()))?;
        let candidates: Vec<&DecodingKey> = keys
            .keys
            .iter()
            .filter(|(kid, _)| header.kid.is_none() || kid.as_deref() == header.kid.as_deref())
            .map(|(_, key)| key)
            .collect();
        if candidates.is_empty() {
            return Err(ApiError::Unauthenticated(
                "the token names a key the identity provider does not publish".into(),
            ));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[self.issuer.as_str()]);
        validation.set_audience(&[self.audience.as_str()]);
        validation.leeway = 5;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let mut last = None;
        for key in candidates {
            match decode::<StaffClaims>(token, key, &validation) {
                Ok(data) => {
                    let claims = data.claims;
                    if claims.role == Role::Citizen {
                        return Err(ApiError::Unauthenticated(
                            "the identity provider issues staff tokens only".into(),
                        ));
                    }
                    return Ok(Claims {
                        sub: claims.sub,
                        role: claims.role,
                        tenant: claims.tenant,
                        aal: Assurance::Substantial,
                        iat: claims.iat,
                        exp: claims.exp,
                        nbf: claims.nbf,
                        iss: self.issuer.clone(),
                        aud: self.audience.clone(),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(token_problem(last.expect("at least one key was tried")))
    }
}

/// The claims of a staff token from the identity provider.
#[derive(Debug, Deserialize)]
struct StaffClaims {
    sub: String,
    role: Role,
    tenant: String,
    iat: u64,
    exp: u64,
    #[serde(default)]
    nbf: Option<u64>,
}

fn token_problem(e: jsonwebtoken::errors::Error) -> ApiError {
    use jsonwebtoken::errors::ErrorKind;
    ApiError::Unauthenticated(match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet".into(),
        ErrorKind::InvalidSignature => "the token's signature is not valid".into(),
        _ => format!("the token is not valid: {e}"),
    })
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<secret>)")
    }
}

impl Keys {
    /// Keys from a shared secret (at least 32 bytes).
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            staff: None,
        }
    }

    /// Staff tokens from this identity provider only (the development key's staff tokens are
    /// then refused).
    pub fn with_staff_identity(mut self, staff: StaffIdentity) -> Self {
        self.staff = Some(staff);
        self
    }

    /// Signs a token.
    pub fn mint(
        &self,
        role: Role,
        tenant: &MunicipalityCode,
        subject: &str,
        assurance: Assurance,
        ttl_seconds: u64,
    ) -> String {
        let now = now_seconds();
        let claims = Claims {
            sub: subject.to_owned(),
            role,
            tenant: tenant.to_string(),
            aal: assurance,
            iat: now,
            exp: now + ttl_seconds.min(MAX_TOKEN_LIFETIME),
            nbf: None,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing does not fail")
    }

    /// Checks a token's signature, expiry, issuer and audience, and the shape of its claims.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let header = jsonwebtoken::decode_header(token).map_err(token_problem)?;
        let claims = match (header.alg, &self.staff) {
            (Algorithm::HS256, _) => {
                let mut validation = Validation::new(Algorithm::HS256);
                validation.set_issuer(&[ISSUER]);
                validation.set_audience(&[AUDIENCE]);
                validation.leeway = 5;
                validation.validate_nbf = true;
                validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
                let claims = decode::<Claims>(token, &self.decoding, &validation)
                    .map_err(token_problem)?
                    .claims;
                if claims.role != Role::Citizen && self.staff.is_some() {
                    return Err(ApiError::Unauthenticated(
                        "staff tokens come from the council's identity provider".into(),
                    ));
                }
                claims
            }
            (Algorithm::RS256 | Algorithm::ES256, Some(staff)) => staff.verify(token, &header)?,
            _ => {
                return Err(ApiError::Unauthenticated(
                    "the token's algorithm is not accepted".into(),
                ))
            }
        };
        let now = now_seconds();
        if claims.iat > now + CLOCK_SKEW || claims.nbf.is_some_and(|nbf| nbf > now + CLOCK_SKEW) {
            return Err(ApiError::Unauthenticated(
                "the token says it was issued in the future".into(),
            ));
        }
        if claims.exp.saturating_sub(claims.iat) > MAX_TOKEN_LIFETIME {
            return Err(ApiError::Unauthenticated(format!(
                "the token lasts longer than {} hours",
                MAX_TOKEN_LIFETIME / 3600
            )));
        }
        let tenant: MunicipalityCode = claims.tenant.parse().map_err(|_| {
            ApiError::Unauthenticated("the token's tenant is not an INE code".into())
        })?;
        // A citizen is identified by a document number (DNI, NIE, NIF) or, for those who log in
        // with one, a passport or EU identity card number.
        let document = match claims.role {
            Role::Citizen => {
                let valid = claims.sub.parse::<DocumentNumber>().is_ok()
                    || claims
                        .sub
                        .parse::<expedientes_domain::user_account::PassportNumber>()
                        .is_ok();
                if !valid {
                    return Err(ApiError::Unauthenticated(
                        "a citizen token's subject must be a document number".into(),
                    ));
                }
                claims.sub.parse::<DocumentNumber>().ok()
            }
            _ => None,
        };
        // A citizen is known by the canonical spelling of their number (upper case, no
        // separators), whatever the token wrote: it is what files and accounts record.
        let subject = match (claims.role, &document) {
            (Role::Citizen, Some(number)) => number.to_string(),
            (Role::Citizen, None) => claims
                .sub
                .parse::<expedientes_domain::user_account::PassportNumber>()
                .map(|p| p.to_string())
                .unwrap_or(claims.sub.clone()),
            _ => claims.sub.clone(),
        };
        if claims.sub.trim().is_empty() {
            return Err(ApiError::Unauthenticated("the token has no subject".into()));
        }
        Ok(Caller {
            subject,
            document,
            role: claims.role,
            tenant,
            assurance: claims.aal,
        })
    }
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's subject.
    pub subject: String,
    /// For citizens, their document number.
    pub document: Option<DocumentNumber>,
    /// Role.
    pub role: Role,
    /// The tenant they act in.
    pub tenant: MunicipalityCode,
    /// Assurance level.
    pub assurance: Assurance,
}

impl Caller {
    /// Refuses unless the caller has one of these roles.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the {} role may not do this",
                self.role.as_str()
            )))
        }
    }

    /// Whether the caller may read every file of its tenant.
    pub fn reads_whole_tenant(&self) -> bool {
        matches!(self.role, Role::Caseworker | Role::Auditor | Role::Admin)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::Unauthenticated("an Authorization: Bearer token is required".into())
            })?;
        let value = header.to_str().map_err(|_| {
            ApiError::Unauthenticated("the Authorization header is not valid text".into())
        })?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| {
                ApiError::Unauthenticated(
                    "the Authorization header must be 'Bearer <token>'".into(),
                )
            })?;
        state.keys.verify(token.trim())
    }
}

/// The caller if the request carries a token (which must then be valid); `None` without one.
pub async fn optional_caller(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<Caller>, ApiError> {
    if parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .is_none()
    {
        return Ok(None);
    }
    Caller::from_request_parts(parts, state).await.map(Some)
}

#[cfg(test)]
mod staff_identity_tests {
    use super::*;

    /// A P-256 key made for these tests only (no secret of anyone's), and its public JWK.
    const IDP_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnUKk9RL912Pk5TqZ
3gL/iA4/N7KSkfq1e+Ly/uyDp5KhRANCAAQiaRZjkEQ25JZwWhH8w1993yo52+mb
14Psj34THW2s39xNmocGJC3laFISSg4Iaok3/+LLPV8WhhqqZq7bDSPY
-----END PRIVATE KEY-----
";
    const IDP_JWKS: &str = r#"{"keys": [{"kty": "EC", "crv": "P-256", "kid": "idp-2026", "use": "sig", "alg": "ES256",
        "x": "ImkWY5BENuSWcFoR_MNffd8qOdvpm9eD7I9-Ex1trN8", "y": "3E2ahwYkLeVoUhJKDghqiTf_4ss9XxaGGqpmrtsNI9g"}]}"#;

    fn identity() -> StaffIdentity {
        let path = std::env::temp_dir().join(format!("jwks-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&path, IDP_JWKS).unwrap();
        StaffIdentity::load(path, "https://idp.madrid.es", "expedientes").unwrap()
    }

    fn staff_token(kid: &str, role: &str, audience: &str) -> String {
        let now = now_seconds();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.into());
        encode(
            &header,
            &serde_json::json!({"sub": "funcionaria-0042", "role": role, "tenant": "28079",
                "iat": now, "exp": now + 600, "iss": "https://idp.madrid.es", "aud": audience}),
            &EncodingKey::from_ec_pem(IDP_KEY.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn staff_tokens_are_verified_against_the_identity_providers_keys() {
        let keys = Keys::from_secret(&[7; 32]).with_staff_identity(identity());
        let caller = keys
            .verify(&staff_token("idp-2026", "caseworker", "expedientes"))
            .unwrap();
        assert_eq!(
            (caller.role, caller.subject.as_str()),
            (Role::Caseworker, "funcionaria-0042")
        );
        for (token, why) in [
            (
                staff_token("idp-2026", "caseworker", "another-api"),
                "audience",
            ),
            (
                staff_token("idp-2025", "caseworker", "expedientes"),
                "does not publish",
            ),
            (
                staff_token("idp-2026", "citizen", "expedientes"),
                "staff tokens only",
            ),
        ] {
            match keys.verify(&token) {
                Err(ApiError::Unauthenticated(detail)) => {
                    assert!(detail.contains(why) || why == "audience", "{detail}")
                }
                other => panic!("{why}: {other:?}"),
            }
        }
        // The development key's staff tokens are refused; citizens' own still work.
        let dev = Keys::from_secret(&[7; 32]);
        let madrid = "28079".parse().unwrap();
        assert!(keys
            .verify(&dev.mint(Role::Caseworker, &madrid, "e1", Assurance::Substantial, 600))
            .is_err());
        assert!(keys
            .verify(&dev.mint(
                Role::Citizen,
                &madrid,
                "12345678Z",
                Assurance::Substantial,
                600
            ))
            .is_ok());
        // Without a provider configured, a provider's token is not accepted.
        assert!(dev
            .verify(&staff_token("idp-2026", "caseworker", "expedientes"))
            .is_err());
    }

    #[test]
    fn a_file_that_is_not_a_jwks_stops_the_start() {
        let path = std::env::temp_dir().join(format!("jwks-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&path, "{\"keys\": []}").unwrap();
        assert!(StaffIdentity::load(&path, "i", "a").is_err());
        std::fs::write(&path, "not json").unwrap();
        assert!(StaffIdentity::load(&path, "i", "a").is_err());
        assert!(StaffIdentity::load("/nonexistent/jwks.json", "i", "a").is_err());
    }
}
