//! The council's legal calendar: read it, and (administrators) publish a year or set a
//! municipality's local holidays. Each change is an event of the council's calendar stream,
//! recording who made it, when, and on which official source.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::NaiveDate;
use expedientes_domain::calendar::YearCalendar;
use expedientes_domain::council_calendar::{self, Command, CouncilCalendar};
use expedientes_domain::MunicipalityCode;
use expedientes_eventlog::{CommandError, CommandRequest, Metadata};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::deadlines;
use crate::extract::parse_json;
use crate::problem::ApiError;
use crate::state::AppState;

/// A year's calendar, as the council computes deadlines with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct YearView {
    /// The year's data in the documented file format (national, regional, islands, local, sources).
    #[schema(value_type = Object)]
    pub calendar: YearCalendar,
}

/// Publishes (adds or replaces) a year.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishYearInput {
    /// The official publication (e.g. "BOE-A-2026-…").
    pub source: String,
    /// The year's data in the documented file format.
    #[schema(value_type = Object)]
    pub calendar: YearCalendar,
}

/// Sets a municipality's local holidays.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalDaysInput {
    /// The official publication.
    pub source: String,
    /// The days (YYYY-MM-DD), all in the year of the path.
    pub days: Vec<NaiveDate>,
}

/// The calendar stream's version after a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarChanged {
    /// The version of the council's calendar stream.
    pub version: i32,
}

/// The council's calendar for a year.
#[utoipa::path(get, path = "/v1/calendars/{year}", params(("year" = i32, Path)),
    responses((status = 200, body = YearView), (status = 404, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "deadlines")]
pub async fn get_year(
    State(state): State<AppState>,
    caller: Caller,
    Path(year): Path<String>,
) -> Result<Json<YearView>, ApiError> {
    let year: i32 = year
        .parse()
        .map_err(|_| ApiError::NotFound("no such year".into()))?;
    let calendar = deadlines::calendar_for(&state, &caller.tenant).await?;
    let data = calendar
        .year(year)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("no calendar for {year} is known")))?;
    Ok(Json(YearView { calendar: data }))
}

async fn change(
    state: &AppState,
    caller: &Caller,
    command: Command,
) -> Result<Json<CalendarChanged>, ApiError> {
    let result = state
        .log
        .execute::<CouncilCalendar>(
            CommandRequest {
                tenant: caller.tenant.clone(),
                stream_id: council_calendar::stream_id(&caller.tenant),
                expected_version: None,
                metadata: Metadata {
                    actor_id: caller.subject.clone(),
                    actor_role: caller.role.as_str().into(),
                    channel: Some("admin_api".into()),
                    correlation_id: Uuid::new_v4(),
                    command_id: Some(Uuid::new_v4()),
                    ..Metadata::default()
                },
                request_hash: None,
            },
            move |_, _| command.clone(),
        )
        .await;
    match result {
        Ok(outcome) => Ok(Json(CalendarChanged {
            version: outcome.version,
        })),
        Err(CommandError::Refused(refusal)) => Err(ApiError::Invalid {
            detail: refusal.to_string(),
            errors: Vec::new(),
        }),
        Err(CommandError::VersionMismatch { .. }) => Err(ApiError::ConcurrentChange),
        Err(CommandError::Infrastructure(e)) => Err(e.into()),
        Err(other) => Err(ApiError::Internal(other.to_string())),
    }
}

/// Publishes (adds or replaces) a year of the council's calendar. Administrators.
#[utoipa::path(put, path = "/v1/calendars/{year}", params(("year" = i32, Path)), request_body = PublishYearInput,
    responses((status = 200, body = CalendarChanged), (status = 422, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "deadlines")]
pub async fn publish_year(
    State(state): State<AppState>,
    caller: Caller,
    Path(year): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CalendarChanged>, ApiError> {
    caller.require(&[Role::Admin])?;
    let year: i32 = year
        .parse()
        .map_err(|_| ApiError::NotFound("no such year".into()))?;
    crate::extract::require_json(&headers)?;
    let input: PublishYearInput = parse_json(&body)?;
    if input.calendar.year != year {
        return Err(ApiError::invalid_field(
            "calendar.year",
            format!("must be {year}, the year in the path"),
        ));
    }
    let at = state.clock.now();
    change(
        &state,
        &caller,
        Command::PublishYear {
            calendar: input.calendar,
            source: input.source,
            at,
        },
    )
    .await
}

/// Sets a municipality's local holidays for a year. Administrators.
#[utoipa::path(put, path = "/v1/calendars/{year}/municipalities/{ine}", params(("year" = i32, Path), ("ine" = String, Path)),
    request_body = LocalDaysInput,
    responses((status = 200, body = CalendarChanged), (status = 422, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "deadlines")]
pub async fn set_local_days(
    State(state): State<AppState>,
    caller: Caller,
    Path((year, ine)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CalendarChanged>, ApiError> {
    caller.require(&[Role::Admin])?;
    let year: i32 = year
        .parse()
        .map_err(|_| ApiError::NotFound("no such year".into()))?;
    let municipality: MunicipalityCode =
        ine.parse().map_err(|e: expedientes_domain::ParseError| {
            ApiError::invalid_field("ine", e.to_string())
        })?;
    crate::extract::require_json(&headers)?;
    let input: LocalDaysInput = parse_json(&body)?;
    let at = state.clock.now();
    change(
        &state,
        &caller,
        Command::SetLocalDays {
            year,
            municipality,
            days: input.days,
            source: input.source,
            at,
        },
    )
    .await
}
