//! The council's legal calendar: read it, and (administrators) publish a year or set a
//! municipality's local holidays. Each change is an event of the council's calendar stream,
//! recording who made it, when, and on which official source.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use expedientes_domain::calendar::YearCalendar;
use expedientes_domain::council_calendar::{self, Command, CouncilCalendar};
use expedientes_domain::MunicipalityCode;
use expedientes_eventlog::Until;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Caller, Role};
use crate::deadlines;
use crate::pipeline::{etag, CommandContext, CommandResponse, Incoming};
use crate::problem::ApiError;
use crate::state::AppState;

const NAME: &str = <CouncilCalendar as esrs::Aggregate>::NAME;

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
#[schema(example = json!({"source": "BOE-A-2025-21667", "calendar": {"year": 2027, "official": true,
    "sources": {"national": "BOE-A-2025-21667"},
    "national": ["2027-01-01", "2027-01-06", "2027-03-26", "2027-05-01", "2027-08-16", "2027-10-12",
                 "2027-11-01", "2027-12-06", "2027-12-08", "2027-12-25"]}}))]
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
#[schema(example = json!({"source": "BOCM 2025-10-30, Decreto de fiestas locales", "days": ["2026-05-15", "2026-11-09"]}))]
pub struct LocalDaysInput {
    /// The official publication.
    pub source: String,
    /// The days (YYYY-MM-DD), all in the year of the path.
    pub days: Vec<NaiveDate>,
}

/// The council's calendar for a year.
#[utoipa::path(get, path = "/v1/calendars/{year}", params(("year" = i32, Path)),
    responses((status = 200, description = "The year's calendar", body = YearView,
               headers(("ETag" = String, description = "The council calendar's version")))),
    security(("bearer" = [])), tag = "deadlines")]
pub async fn get_year(
    State(state): State<AppState>,
    caller: Caller,
    Path(year): Path<String>,
) -> Result<Response, ApiError> {
    let year: i32 = year
        .parse()
        .map_err(|_| ApiError::NotFound("no such year".into()))?;
    let calendar = deadlines::calendar_for(&state, &caller.tenant).await?;
    let data = calendar
        .year(year)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("no calendar for {year} is known")))?;
    // The ETag is the council calendar's version: what `If-Match` on a change compares with.
    let version = state
        .log
        .load_aggregate::<CouncilCalendar>(
            caller.tenant.as_str(),
            council_calendar::stream_id(&caller.tenant),
            Until::End,
        )
        .await?
        .version;
    Ok((
        [(header::ETAG, etag(version))],
        Json(YearView { calendar: data }),
    )
        .into_response())
}

async fn change(
    state: &AppState,
    incoming: &Incoming,
    label: &'static str,
    year: i32,
    command: Command,
) -> Result<Response, ApiError> {
    let caller = incoming.caller()?;
    let stream = council_calendar::stream_id(&caller.tenant);
    let ctx = CommandContext::open(state, incoming, &caller.tenant, NAME, label)
        .await?
        .channel("admin_api");
    Ok(ctx
        .execute::<CouncilCalendar>(state, stream, move |_, _| command.clone())
        .await?
        .reply_changed(format!("/v1/calendars/{year}")))
}

/// Publishes (adds or replaces) a year of the council's calendar. Administrators.
#[utoipa::path(put, path = "/v1/calendars/{year}", params(("year" = i32, Path)), request_body = PublishYearInput,
    responses((status = 200, description = "Recorded; deadlines use it at once", body = CommandResponse)),
    security(("bearer" = [])), tag = "deadlines")]
pub async fn publish_year(
    State(state): State<AppState>,
    Path(year): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    incoming.caller_in(&[Role::Admin])?;
    let year: i32 = year
        .parse()
        .map_err(|_| ApiError::NotFound("no such year".into()))?;
    let input: PublishYearInput = incoming.json()?;
    if input.calendar.year != year {
        return Err(ApiError::invalid_field(
            "calendar.year",
            format!("must be {year}, the year in the path"),
        ));
    }
    let at = state.clock.now();
    change(
        &state,
        &incoming,
        "publish_year",
        year,
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
    responses((status = 200, description = "Recorded; deadlines use it at once", body = CommandResponse)),
    security(("bearer" = [])), tag = "deadlines")]
pub async fn set_local_days(
    State(state): State<AppState>,
    Path((year, ine)): Path<(String, String)>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    incoming.caller_in(&[Role::Admin])?;
    let year: i32 = year
        .parse()
        .map_err(|_| ApiError::NotFound("no such year".into()))?;
    let municipality: MunicipalityCode =
        ine.parse().map_err(|e: expedientes_domain::ParseError| {
            ApiError::invalid_field("ine", e.to_string())
        })?;
    let input: LocalDaysInput = incoming.json()?;
    let at = state.clock.now();
    change(
        &state,
        &incoming,
        "set_local_days",
        year,
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
