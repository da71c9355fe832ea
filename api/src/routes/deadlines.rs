//! `GET /v1/deadlines`: the legal calendar's computation, for any authenticated user.

use axum::extract::State;
use axum::Json;
use chrono::{NaiveDate, NaiveTime};
use expedientes_domain::calendar::{DeadlineRequest, DeadlineResult, Unit};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::deadlines;
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::state::AppState;

/// What to compute.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineQuery {
    /// The day of the notification (YYYY-MM-DD).
    pub from: NaiveDate,
    /// How many units, at least 1.
    pub amount: u32,
    /// `business-days`, `calendar-days`, `months`, `years` or `hours`.
    pub unit: String,
    /// The time of the notification (HH:MM), for hours.
    pub at: Option<String>,
    /// INE code of the body's seat (default: the caller's council).
    pub municipality: Option<String>,
    /// INE code of the person's residence (art. 30.6).
    pub residence: Option<String>,
}

/// Computes a deadline as the law counts it, explaining each step.
#[utoipa::path(get, path = "/v1/deadlines", params(DeadlineQuery),
    responses((status = 200, description = "due_date, due_at, excluded, warnings, steps"),
              (status = 422, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "deadlines")]
pub async fn compute(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DeadlineQuery>,
) -> Result<Json<DeadlineResult>, ApiError> {
    let unit: Unit =
        query
            .unit
            .parse()
            .map_err(|e: expedientes_domain::calendar::CalendarError| {
                ApiError::invalid_field("unit", e.to_string())
            })?;
    let at = query
        .at
        .as_deref()
        .map(|t| NaiveTime::parse_from_str(t, "%H:%M"))
        .transpose()
        .map_err(|_| ApiError::invalid_field("at", "give the time as HH:MM"))?;
    let request = DeadlineRequest {
        from: query.from,
        at,
        amount: query.amount,
        unit,
        seat: Some(
            query
                .municipality
                .unwrap_or_else(|| caller.tenant.to_string()),
        ),
        residence: query.residence,
    };
    let calendar = deadlines::calendar_for(&state, &caller.tenant).await?;
    deadlines::compute(&calendar, &request).map(Json)
}
