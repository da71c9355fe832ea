//! Registry entries (art. 16 LPAC) as the API gives them: a number from the council's sequence of
//! the year and direction, and a fresh secure verification code. The entry is carried by the
//! event that records the submission (the registry book is its read model), so an entry exists
//! exactly when its submission does; a number allocated for a command then refused is a gap, as
//! with file numbers. A retried keyed command is answered from its first outcome before it gets
//! here.

use chrono::{DateTime, Datelike, Utc};
use expedientes_domain::lpac::{RegistryEntry, SubmissionKind};
use expedientes_domain::{MunicipalityCode, RegistryDirection, RegistryNumber, VerificationCode};

use crate::problem::ApiError;
use crate::state::AppState;

/// A new entry of the council's registry for something presented at `presented_at`, counting
/// from `counts_from` (art. 31.2.b, already applied by the caller).
pub async fn enter(
    state: &AppState,
    tenant: &MunicipalityCode,
    kind: SubmissionKind,
    presented_at: DateTime<Utc>,
    counts_from: DateTime<Utc>,
) -> Result<RegistryEntry, ApiError> {
    let direction = match kind {
        SubmissionKind::Notification => RegistryDirection::Out,
        _ => RegistryDirection::In,
    };
    // The registry's year is the sede's (local) year of the presentation.
    let year = presented_at
        .with_timezone(&state.config.timezone)
        .date_naive()
        .year();
    let sequence: i64 = sqlx::query_scalar(
        "INSERT INTO registry_sequences (tenant, year, direction, last) VALUES ($1, $2, $3, 1)
         ON CONFLICT (tenant, year, direction) DO UPDATE SET last = registry_sequences.last + 1
         RETURNING last",
    )
    .bind(tenant.as_str())
    .bind(year)
    .bind(<&'static str>::from(direction))
    .fetch_one(&state.pool)
    .await?;
    let number = RegistryNumber::new(tenant, year, direction, sequence as u64)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(RegistryEntry {
        number,
        kind,
        presented_at,
        counts_from,
        // 256 is a multiple of 32, so each character is uniform over the alphabet.
        verification_code: VerificationCode::from_random(rand::random()),
    })
}

/// A new entry for something presented now: it counts from now on a business day, from the
/// first hour of the next business day otherwise (art. 31.2.b).
pub async fn submission_now(
    state: &AppState,
    tenant: &MunicipalityCode,
    kind: SubmissionKind,
) -> Result<RegistryEntry, ApiError> {
    let now = state.clock.now();
    let calendar = crate::deadlines::calendar_for(state, tenant).await?;
    let counts_from = crate::deadlines::registry_entry(state, &calendar, tenant, now);
    enter(state, tenant, kind, now, counts_from).await
}
