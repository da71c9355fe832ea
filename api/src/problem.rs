//! RFC 9457 problem details: every error the API returns, and the one place where domain refusals
//! and infrastructure failures become HTTP statuses. Each problem type is listed, with its status,
//! in docs/API.md.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A field that failed validation.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name (JSON pointer-like: `applicant.document`).
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

/// An `application/problem+json` body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI reference identifying the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for people.
    pub detail: String,
    /// The request id, to find the request in the logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// For validation problems: the offending fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For refusals: the file's current version, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i32>,
}

/// Every way a request can fail. Statuses are documented in docs/API.md.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no token, a malformed, expired or badly signed one.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403: the caller's role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource, or not one the caller may see.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists, not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 400: the body is not JSON, or not the JSON expected; or a query/path parameter is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 415: not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 413: too large.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// 422: well-formed but invalid values.
    #[error("{detail}")]
    Invalid {
        /// Summary.
        detail: String,
        /// The fields.
        errors: Vec<FieldError>,
    },
    /// 409: a domain rule refuses the command in the file's current state.
    #[error("{detail}")]
    Refused {
        /// The refusal, in words a caseworker understands.
        detail: String,
        /// The file's version.
        current_version: Option<i32>,
    },
    /// 412: `If-Match` does not match the file's version.
    #[error("the file is at version {actual}, not {expected}")]
    PreconditionFailed {
        /// What the caller sent.
        expected: i32,
        /// What it is.
        actual: i32,
    },
    /// 409: the file kept changing while the command was being decided.
    #[error("the file was changed by someone else at the same time; try again")]
    ConcurrentChange,
    /// 422: an idempotency key reused for a different request.
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    /// 403: the account is locked after three wrong passwords.
    #[error("the account is locked after three wrong passwords: unlock it in person or with an electronic certificate")]
    AccountLocked,
    /// 403: the password expired after a year without use.
    #[error("the password expired after a year without use: recover it")]
    PasswordExpired,
    /// 410: a single-use link or code that is unknown, used or expired.
    #[error("this link or code is not valid: it was already used, it expired, or it is wrong")]
    LinkNotValid,
    /// 429: too many failed attempts; retry after the given seconds.
    #[error("too many failed attempts; try again later")]
    TooManyAttempts(u64),
    /// 503: a dependency (the database) is unavailable.
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// 500: a bug or an unexpected failure; details are logged, never shown.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A validation failure of one field.
    pub fn invalid_field(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        ApiError::Invalid {
            detail: format!("{field}: {detail}"),
            errors: vec![FieldError {
                field: field.to_owned(),
                detail,
            }],
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Unauthenticated(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ApiError::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for your role",
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            ApiError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "malformed-request",
                "Malformed request",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            ApiError::Invalid { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid values",
            ),
            ApiError::Refused { .. } => (
                StatusCode::CONFLICT,
                "refused",
                "Refused by the procedure's rules",
            ),
            ApiError::PreconditionFailed { .. } => (
                StatusCode::PRECONDITION_FAILED,
                "version-mismatch",
                "The file has changed",
            ),
            ApiError::ConcurrentChange => (
                StatusCode::CONFLICT,
                "concurrent-change",
                "Concurrent change",
            ),
            ApiError::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
            ),
            ApiError::AccountLocked => (StatusCode::FORBIDDEN, "account-locked", "Account locked"),
            ApiError::PasswordExpired => (
                StatusCode::FORBIDDEN,
                "password-expired",
                "Password expired",
            ),
            ApiError::LinkNotValid => (StatusCode::GONE, "link-not-valid", "Link not valid"),
            ApiError::TooManyAttempts(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                "Too many attempts",
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The problem body (the request id is added by the middleware).
    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.parts();
        let detail = match self {
            // Never show internals.
            ApiError::Internal(_) => "An unexpected error occurred; it has been logged.".to_owned(),
            other => other.to_string(),
        };
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            instance: None,
            errors: match self {
                ApiError::Invalid { errors, .. } => errors.clone(),
                _ => Vec::new(),
            },
            current_version: match self {
                ApiError::Refused {
                    current_version, ..
                } => *current_version,
                ApiError::PreconditionFailed { actual, .. } => Some(*actual),
                _ => None,
            },
        }
    }
}

impl ApiError {
    /// The answer to a command that was not carried out: a domain refusal is 409 in its own words;
    /// a version mismatch is 412 when the caller pinned the version (`If-Match`), else 409.
    pub fn from_command<E: std::error::Error>(
        error: expedientes_eventlog::CommandError<E>,
        pinned: bool,
    ) -> Self {
        use expedientes_eventlog::CommandError;
        match error {
            CommandError::Refused(refusal) => ApiError::Refused {
                detail: refusal.to_string(),
                current_version: None,
            },
            CommandError::VersionMismatch { expected, actual } if pinned => {
                ApiError::PreconditionFailed { expected, actual }
            }
            CommandError::VersionMismatch { .. } | CommandError::ConcurrentChange => {
                ApiError::ConcurrentChange
            }
            CommandError::CommandIdReused => ApiError::IdempotencyKeyReused,
            CommandError::WrongStream => ApiError::NotFound("no such file".into()),
            CommandError::Undecodable { position, reason } => {
                ApiError::Internal(format!("event {position} cannot be decoded: {reason}"))
            }
            CommandError::Store(e) => e.into(),
        }
    }
}

/// How a domain refusal is answered over HTTP. The default is 409 `refused` in the refusal's own
/// words; a refusal with a problem type of its own (a locked account) says so here, and only here.
pub trait RefusalProblem: std::error::Error {
    /// The problem that answers this refusal.
    fn into_problem(self) -> ApiError
    where
        Self: Sized,
    {
        ApiError::Refused {
            detail: self.to_string(),
            current_version: None,
        }
    }
}

impl RefusalProblem for std::convert::Infallible {}

/// A decision may also fail on something it computes from the state (a deadline): that problem
/// is answered as it is, and nothing is appended.
impl RefusalProblem for ApiError {
    fn into_problem(self) -> ApiError {
        self
    }
}
/// A calendar change the calendar refuses is invalid input (a day outside the year, …): 422.
impl RefusalProblem for expedientes_domain::council_calendar::Refusal {
    fn into_problem(self) -> ApiError {
        ApiError::Invalid {
            detail: self.to_string(),
            errors: Vec::new(),
        }
    }
}

impl From<expedientes_eventlog::StoreError> for ApiError {
    fn from(error: expedientes_eventlog::StoreError) -> Self {
        if error.is_unavailable() {
            tracing::error!(%error, "database unavailable");
            ApiError::Unavailable
        } else {
            ApiError::Internal(error.to_string())
        }
    }
}

impl From<expedientes_eventlog::LoadError> for ApiError {
    fn from(error: expedientes_eventlog::LoadError) -> Self {
        match error {
            expedientes_eventlog::LoadError::WrongStream => {
                ApiError::NotFound("no such file".into())
            }
            expedientes_eventlog::LoadError::Store(e) => e.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::error!(%error, "database unavailable");
                ApiError::Unavailable
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<expedientes_projections::ProjectionError> for ApiError {
    fn from(error: expedientes_projections::ProjectionError) -> Self {
        match error {
            expedientes_projections::ProjectionError::Database(e) => e.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Turns a problem into a response with the right content type.
pub fn problem_response(problem: Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(details) = &self {
            tracing::error!(error = %details, "internal error");
        }
        let retry_after = match &self {
            ApiError::TooManyAttempts(seconds) => Some(*seconds),
            _ => None,
        };
        let mut response = problem_response(self.problem());
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
