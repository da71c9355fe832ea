//! The auditors' view: the tenant's whole log in reading order, and the verification of the
//! log's integrity.

use axum::extract::State;
use axum::Json;
use expedientes_eventlog::{VerificationFailure, VerificationReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, Role};
use crate::extract::ApiQuery;
use crate::problem::ApiError;
use crate::routes::cases::EventDto;
use crate::state::AppState;

/// Paging of the audit stream.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The position of the last event already read (0, or absent, to start).
    pub after: Option<i64>,
    /// How many events, 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

/// A page of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Events in the log's reading order: every committed event appears once, none is skipped,
    /// even when transactions commit out of position order.
    pub events: Vec<EventDto>,
    /// Pass as `after` to read on (absent when this page is empty: nothing more yet).
    pub next_after: Option<i64>,
}

/// The tenant's log, in order, from a position.
#[utoipa::path(get, path = "/v1/audit/events", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "audit")]
pub async fn audit_events(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.require(&[Role::Auditor])?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "must be from 1 to 1000"));
    }
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid_field(
            "after",
            "a position is not negative",
        ));
    }
    let cursor = state
        .log
        .cursor_at(after)
        .await?
        .ok_or_else(|| ApiError::invalid_field("after", "no event has that position"))?;
    let events = state
        .log
        .read_after(cursor, limit, Some(caller.tenant.as_str()), None)
        .await?;
    let next_after = events.last().map(|e| e.position);
    Ok(Json(AuditPage {
        events: events
            .into_iter()
            .map(|e| EventDto::from_stored(e, true))
            .collect(),
        next_after,
    }))
}

/// The result of a verification, as auditors see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationDto {
    /// Whether everything matched.
    pub ok: bool,
    /// Events whose hash was recomputed (the whole log, every tenant).
    pub events_checked: u64,
    /// Streams whose chain was followed.
    pub streams_checked: u64,
    /// Seals recomputed.
    pub seals_checked: u64,
    /// The highest position.
    pub last_position: i64,
    /// The latest seal's digest, to compare with the one published elsewhere.
    pub latest_seal_digest: Option<String>,
    /// The first failure.
    #[schema(value_type = Option<Object>)]
    pub first_failure: Option<VerificationFailure>,
    /// Every failure found (at most 100).
    #[schema(value_type = Vec<Object>)]
    pub failures: Vec<VerificationFailure>,
    /// When.
    pub verified_at: chrono::DateTime<chrono::Utc>,
}

/// Hides which stream of another tenant failed; its position is still named.
pub fn for_tenant(report: VerificationReport, tenant: &str) -> VerificationDto {
    let redact = |mut f: VerificationFailure| {
        if f.tenant.as_deref().is_some_and(|t| t != tenant) {
            f.stream_id = None;
            f.version = None;
            f.tenant = Some("(another council)".into());
        }
        f
    };
    VerificationDto {
        ok: report.ok,
        events_checked: report.events_checked,
        streams_checked: report.streams_checked,
        seals_checked: report.seals_checked,
        last_position: report.last_position,
        latest_seal_digest: report.latest_seal_digest,
        first_failure: report.first_failure.map(redact),
        failures: report.failures.into_iter().map(redact).collect(),
        verified_at: report.verified_at,
    }
}

/// Recomputes every hash, chain link and seal of the log.
#[utoipa::path(get, path = "/v1/audit/verify",
    responses((status = 200, body = VerificationDto), (status = 403, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "audit")]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<VerificationDto>, ApiError> {
    caller.require(&[Role::Auditor])?;
    let report = state.log.verify().await?;
    metrics::counter!("verifications_total", "ok" => report.ok.to_string()).increment(1);
    Ok(Json(for_tenant(report, caller.tenant.as_str())))
}
