//! The bridge between the service and the legal calendar: local dates in the council's time zone,
//! the calendar's computation, and its refusals as problems. Every due date the API writes comes
//! from here.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use expedientes_domain::calendar::{CalendarError, DeadlineRequest, DeadlineResult, Unit};
use expedientes_domain::MunicipalityCode;

use crate::problem::ApiError;
use crate::state::AppState;

/// The council's local date of an instant (Spain's peninsular time unless configured otherwise).
pub fn local_date(state: &AppState, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&state.config.timezone).date_naive()
}

/// Computes a deadline for the council (`seat`), refusing as a problem.
pub fn compute(state: &AppState, request: &DeadlineRequest) -> Result<DeadlineResult, ApiError> {
    let calendar = state
        .calendar
        .read()
        .map_err(|_| ApiError::Internal("calendar lock poisoned".into()))?;
    let result = calendar.compute(request).map_err(calendar_problem)?;
    for warning in &result.warnings {
        tracing::warn!(%warning, "deadline computed with a missing calendar");
    }
    Ok(result)
}

/// A calendar refusal as a 422.
pub fn calendar_problem(error: CalendarError) -> ApiError {
    ApiError::Invalid {
        detail: error.to_string(),
        errors: Vec::new(),
    }
}

fn due(
    state: &AppState,
    tenant: &MunicipalityCode,
    from: NaiveDate,
    amount: u32,
    unit: Unit,
) -> Result<NaiveDate, ApiError> {
    compute(
        state,
        &DeadlineRequest {
            from,
            at: None,
            amount,
            unit,
            seat: Some(tenant.to_string()),
            residence: None,
        },
    )
    .map(|r| r.due_date)
}

/// `amount` business days after a notification on `from`.
pub fn business_days_after(
    state: &AppState,
    tenant: &MunicipalityCode,
    from: NaiveDate,
    amount: u32,
) -> Result<NaiveDate, ApiError> {
    due(state, tenant, from, amount, Unit::BusinessDays)
}

/// `amount` months after `from`, date to date.
pub fn months_after(
    state: &AppState,
    tenant: &MunicipalityCode,
    from: NaiveDate,
    amount: u32,
) -> Result<NaiveDate, ApiError> {
    due(state, tenant, from, amount, Unit::Months)
}

/// Art. 31: a filing in the electronic registry on a non-business day counts, for deadlines, as
/// made at the first hour of the next business day (it keeps its real order in the log).
pub fn registry_entry(
    state: &AppState,
    tenant: &MunicipalityCode,
    at: DateTime<Utc>,
) -> DateTime<Utc> {
    let local = at.with_timezone(&state.config.timezone).naive_local();
    let Ok(calendar) = state.calendar.read() else {
        return at;
    };
    match calendar.effective_filing_time(local, tenant.as_str()) {
        Ok(effective) if effective.effective_at != local => state
            .config
            .timezone
            .from_local_datetime(&effective.effective_at)
            .earliest()
            .map_or(at, |t| t.with_timezone(&Utc)),
        _ => at,
    }
}
