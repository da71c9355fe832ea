//! File numbers (`28079/2026/000042`): one sequence per council and year, for every procedure.
//! Gaps are allowed (a number allocated for a command that is then refused is not reused); a
//! retried keyed command is answered from its first outcome before it allocates another.

use chrono::{Datelike, NaiveDate};
use expedientes_domain::{CaseNumber, MunicipalityCode};

use crate::problem::ApiError;
use crate::state::AppState;

/// The next file number of the council for the year of `on` (the council's local date).
pub async fn next(
    state: &AppState,
    tenant: &MunicipalityCode,
    on: NaiveDate,
) -> Result<CaseNumber, ApiError> {
    let year = on.year();
    let sequence: i64 = sqlx::query_scalar(
        "INSERT INTO case_number_sequences (tenant, year, last) VALUES ($1, $2, 1)
         ON CONFLICT (tenant, year) DO UPDATE SET last = case_number_sequences.last + 1
         RETURNING last",
    )
    .bind(tenant.as_str())
    .bind(year)
    .fetch_one(&state.pool)
    .await?;
    CaseNumber::new(tenant, year, sequence as u64).map_err(|e| ApiError::Internal(e.to_string()))
}
