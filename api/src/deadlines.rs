//! The bridge between the service and the legal calendar: each council's effective calendar (the
//! bundled official data plus the changes its administrators recorded as events), local dates in
//! the council's time zone, and calendar refusals as problems. Every due date the API writes comes
//! from here.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use expedientes_domain::calendar::{
    CalendarError, DeadlineRequest, DeadlineResult, HolidayCalendar, Unit,
};
use expedientes_domain::council_calendar::{self, CouncilCalendar};
use expedientes_domain::MunicipalityCode;
use expedientes_eventlog::Until;

use crate::problem::ApiError;
use crate::state::AppState;

/// The council's effective calendar. Cached per council and reloaded when its stream has a new
/// version (one indexed lookup per use), so a change made through another instance is seen at once.
pub async fn calendar_for(
    state: &AppState,
    tenant: &MunicipalityCode,
) -> Result<Arc<HolidayCalendar>, ApiError> {
    let stream = council_calendar::stream_id(tenant);
    let version: Option<i32> =
        sqlx::query_scalar("SELECT max(version) FROM events WHERE stream_id = $1")
            .bind(stream)
            .fetch_one(&state.pool)
            .await?;
    let version = version.unwrap_or(0);
    if let Some((cached, calendar)) = state
        .calendars
        .lock()
        .expect("calendar cache")
        .get(tenant.as_str())
    {
        if *cached == version {
            return Ok(calendar.clone());
        }
    }
    let loaded = state
        .log
        .load_aggregate::<CouncilCalendar>(tenant.as_str(), stream, Until::End)
        .await
        .map_err(|e| ApiError::Internal(format!("the council's calendar cannot be loaded: {e}")))?;
    let calendar = Arc::new(loaded.state.calendar());
    state
        .calendars
        .lock()
        .expect("calendar cache")
        .insert(tenant.to_string(), (loaded.version, calendar.clone()));
    Ok(calendar)
}

/// The council's local date of an instant.
pub fn local_date(state: &AppState, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&state.config.timezone).date_naive()
}

/// Computes a deadline, refusing as a problem; warnings (missing calendars) are logged.
pub fn compute(
    calendar: &HolidayCalendar,
    request: &DeadlineRequest,
) -> Result<DeadlineResult, ApiError> {
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
    calendar: &HolidayCalendar,
    tenant: &MunicipalityCode,
    from: NaiveDate,
    amount: u32,
    unit: Unit,
) -> Result<NaiveDate, ApiError> {
    due_at(calendar, tenant, None, from, amount, unit)
}

/// `amount` units after `from` at the seat and, when known, at the interested party's residence:
/// a day that is a holiday at either is not a business day (art. 30.6).
pub fn due_at(
    calendar: &HolidayCalendar,
    tenant: &MunicipalityCode,
    residence: Option<&MunicipalityCode>,
    from: NaiveDate,
    amount: u32,
    unit: Unit,
) -> Result<NaiveDate, ApiError> {
    compute(
        calendar,
        &DeadlineRequest {
            from,
            at: None,
            amount,
            unit,
            seat: Some(tenant.to_string()),
            residence: residence.map(|r| r.to_string()),
        },
    )
    .map(|r| r.due_date)
}

/// `amount` business days after a notification on `from`, at the council's seat.
pub fn business_days_after(
    calendar: &HolidayCalendar,
    tenant: &MunicipalityCode,
    from: NaiveDate,
    amount: u32,
) -> Result<NaiveDate, ApiError> {
    due(calendar, tenant, from, amount, Unit::BusinessDays)
}

/// `amount` months after `from`, date to date, moved off a non-business last day.
pub fn months_after(
    calendar: &HolidayCalendar,
    tenant: &MunicipalityCode,
    from: NaiveDate,
    amount: u32,
) -> Result<NaiveDate, ApiError> {
    due(calendar, tenant, from, amount, Unit::Months)
}

/// Art. 31: a filing in the electronic registry on a non-business day counts, for deadlines, as
/// made at the first hour of the next business day (it keeps its real order in the log).
pub fn registry_entry(
    state: &AppState,
    calendar: &HolidayCalendar,
    tenant: &MunicipalityCode,
    at: DateTime<Utc>,
) -> DateTime<Utc> {
    let tz = state.config.timezone;
    let local = at.with_timezone(&tz).naive_local();
    match calendar.effective_filing_time(local, tenant.as_str()) {
        Ok(effective) if effective.effective_at != local => tz
            .from_local_datetime(&effective.effective_at)
            .earliest()
            .map_or(at, |t| t.with_timezone(&Utc)),
        _ => at,
    }
}
