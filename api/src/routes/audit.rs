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

/// `GET /v1/audit/corrections` paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CorrectionsQuery {
    /// The position of the last correction already read (0, or absent, to start).
    pub after: Option<i64>,
    /// How many, 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

/// Every correction of a material error (art. 109.2 LPAC) recorded in the council's log, of any
/// procedure, in order: the event that corrects (with who and why, in its `correction`) beside
/// the event it corrects.
#[utoipa::path(get, path = "/v1/audit/corrections", params(CorrectionsQuery),
    responses((status = 200, body = CorrectionPage), (status = 403, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "audit")]
pub async fn audit_corrections(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CorrectionsQuery>,
) -> Result<Json<CorrectionPage>, ApiError> {
    caller.require(&[Role::Auditor])?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "must be from 1 to 1000"));
    }
    let after = query.after.unwrap_or(0).max(0);
    let positions: Vec<i64> = sqlx::query_scalar(
        "SELECT position FROM events WHERE tenant = $1 AND position > $2 AND payload ? 'correction'
         ORDER BY position LIMIT $3",
    )
    .bind(caller.tenant.as_str())
    .bind(after)
    .bind(limit)
    .fetch_all(&state.pool)
    .await?;
    let mut corrections = Vec::new();
    for position in &positions {
        let Some(correcting) = state.log.event_at(*position).await? else {
            continue;
        };
        let version = correcting.payload["correction"]["corrects_version"].as_i64();
        let corrected_position: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM events WHERE tenant = $1 AND stream_id = $2 AND version = $3",
        )
        .bind(caller.tenant.as_str())
        .bind(correcting.stream_id)
        .bind(version.unwrap_or(0) as i32)
        .fetch_optional(&state.pool)
        .await?;
        let corrected = match corrected_position {
            Some(p) => state.log.event_at(p).await?,
            None => None,
        };
        corrections.push(CorrectionDto {
            correction: EventDto::from_stored(correcting, true),
            corrected: corrected.map(|e| EventDto::from_stored(e, true)),
        });
    }
    Ok(Json(CorrectionPage {
        next_after: positions.last().copied(),
        corrections,
    }))
}

/// A correction beside the event it corrects.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionDto {
    /// The correcting event (its `correction` says what, why and who).
    pub correction: EventDto,
    /// The event it corrects, unchanged in the log.
    pub corrected: Option<EventDto>,
}

/// A page of corrections.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionPage {
    /// In the log's order.
    pub corrections: Vec<CorrectionDto>,
    /// Pass as `after` to read on (absent when this page is empty).
    pub next_after: Option<i64>,
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
