//! Bearer-token authentication (JWT, HS256) and what each role may reach.
//!
//! A token carries the subject (a citizen's document number or an employee id), the role, the
//! tenant (INE code) and the assurance level. Tokens are minted by the command line for local use
//! (`expedientes token`) and, in production, by the council's identity provider sharing the key.

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

/// The signing key, shared by the service and the token minter.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
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
        }
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
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = decode::<Claims>(token, &self.decoding, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            ApiError::Unauthenticated(match e.kind() {
                ErrorKind::ExpiredSignature => "the token has expired".into(),
                ErrorKind::ImmatureSignature => "the token is not valid yet".into(),
                ErrorKind::InvalidSignature => "the token's signature is not valid".into(),
                _ => format!("the token is not valid: {e}"),
            })
        })?;
        let claims = data.claims;
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
