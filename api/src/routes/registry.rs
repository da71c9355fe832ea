//! The registry (art. 16 LPAC) over HTTP: a file's registry entries as receipts, and the public
//! check of a secure verification code (art. 27.3.a), which anyone may use without a login and
//! which shows what was filed and when, never who filed it or what it said.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use expedientes_domain::VerificationCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::extract::resource_id;
use crate::problem::ApiError;
use crate::routes::cases::visible_case;
use crate::state::AppState;

/// A registry entry as its receipt shows it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ReceiptDto {
    /// The entry's number, e.g. `28079/2026/E/0000123`.
    pub number: String,
    /// `in` (something presented) or `out` (something the council sent).
    pub direction: String,
    /// What was submitted: `application`, `rectification`, `allegation`, `representation`,
    /// `notification`.
    pub kind: String,
    /// The exact moment it was presented (the sede's clock).
    pub presented_at: DateTime<Utc>,
    /// The moment it counts from for deadlines (art. 31.2.b).
    pub counts_from: DateTime<Utc>,
    /// The secure verification code printed on the receipt.
    pub verification_code: String,
}

/// A file's registry entries, oldest first: the receipts of what was filed on it (its documents
/// included) and the exits of its notifications.
#[utoipa::path(get, path = "/v1/cases/{id}/registry-entries",
    params(("id" = Uuid, Path, description = "The file")),
    responses((status = 200, description = "The file's receipts", body = [ReceiptDto])),
    security(("bearer" = [])), tag = "registry")]
pub async fn case_entries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<ReceiptDto>>, ApiError> {
    let id = resource_id(&id, "file")?;
    visible_case(&state, &caller, id).await?;
    let rows: Vec<ReceiptDto> = sqlx::query_as(
        // The file's own entries, and those of its documents and notifications (their streams).
        "SELECT number, direction, kind, presented_at, counts_from, verification_code
         FROM registry_book
         WHERE tenant = $2 AND (stream_id = $1
            OR stream_id IN (SELECT document_id FROM case_documents WHERE case_id = $1 AND tenant = $2)
            OR stream_id IN (SELECT notification_id FROM notifications WHERE case_id = $1 AND tenant = $2))
         ORDER BY presented_at, event_position",
    )
    .bind(id)
    .bind(caller.tenant.as_str())
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows))
}

/// What the public check of a verification code shows: no personal data.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct VerifiedEntryDto {
    /// The code checked.
    pub verification_code: String,
    /// The council (INE code) whose registry holds it.
    pub council: String,
    /// The entry's number.
    pub number: String,
    /// `in` or `out`.
    pub direction: String,
    /// What was submitted.
    pub kind: String,
    /// The procedure's machine name.
    pub procedure: String,
    /// When it was presented.
    pub presented_at: DateTime<Utc>,
    /// When it counts from for deadlines.
    pub counts_from: DateTime<Utc>,
    /// The hash of the event that recorded it in the council's tamper-evident log (hex): an
    /// auditor can find it and check the chain.
    pub record_hash: String,
}

/// Checks a secure verification code, without a login: what was filed, where and when.
#[utoipa::path(get, path = "/v1/verification/{code}",
    params(("code" = String, Path, description = "The 20-character code printed on the receipt")),
    responses((status = 200, description = "The entry the code belongs to", body = VerifiedEntryDto),
              (status = 404, description = "No entry has this code")),
    tag = "registry")]
pub async fn verify_code(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<VerifiedEntryDto>, ApiError> {
    // Codes are printed in capitals; people type them as they come.
    let code: VerificationCode = code
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|e: expedientes_domain::ParseError| ApiError::invalid_field("code", e.reason))?;
    let row: Option<VerifiedEntryDto> = sqlx::query_as(
        "SELECT verification_code, tenant AS council, number, direction, kind,
                stream_type AS procedure, presented_at, counts_from, event_hash AS record_hash
         FROM registry_book WHERE verification_code = $1",
    )
    .bind(code.as_str())
    .fetch_optional(&state.pool)
    .await?;
    row.map(Json)
        .ok_or_else(|| ApiError::NotFound("no registry entry has this verification code".into()))
}
