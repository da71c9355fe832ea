//! Case files: a file's view (now or as it was at a moment), its history, and the caseworkers'
//! list. A citizen reaches only files where they are a party; anything else answers 404, as if it
//! did not exist.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use expedientes_eventlog::{StoredEvent, Until};
use expedientes_projections::CaseRow;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::extract::{resource_id, ApiQuery};
use crate::problem::ApiError;
use crate::state::AppState;

/// A party to a file.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct PartyDto {
    /// Document number (DNI, NIE or a legal person's NIF).
    pub document: String,
    /// Name.
    pub name: String,
    /// `interested` or `representative`.
    pub role: String,
}

/// Something the citizen must do, and by when.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ActionDto {
    /// What.
    pub what: String,
    /// The last day (legal calendar).
    pub due: NaiveDate,
}

/// The meaning of the council's silence on a file (arts. 24–25 LPAC).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct SilenceDto {
    /// `estimatory` (deemed granted), `desestimatory` (deemed refused) or `lapse`.
    pub meaning: String,
    /// The maximum time and the articles.
    pub basis: String,
    /// The first day after the maximum time, once it passed without a resolution (the duty to
    /// resolve remains, art. 24.3).
    pub reached_on: Option<NaiveDate>,
}

/// A case file as the case view holds it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseDto {
    /// Its id.
    pub id: Uuid,
    /// Its number, e.g. 28079/2026/000042.
    pub case_number: String,
    /// The council's INE code.
    pub tenant: String,
    /// The procedure's machine name.
    pub procedure: String,
    /// The procedure's name.
    pub procedure_title: String,
    /// The procedure's SIA code.
    pub sia_code: String,
    /// Subject.
    pub subject: String,
    /// Parties.
    pub parties: Vec<PartyDto>,
    /// State code.
    pub state: String,
    /// State for people.
    pub state_description: String,
    /// Whether it is open.
    pub open: bool,
    /// Opened at.
    pub opened_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Closed at.
    pub closed_at: Option<DateTime<Utc>>,
    /// What the citizen must do, if anything.
    pub citizen_action: Option<ActionDto>,
    /// Whether the citizen must act.
    pub citizen_must_act: bool,
    /// The council's last day to resolve, while running.
    pub resolution_due: Option<NaiveDate>,
    /// The nearest deadline.
    pub next_deadline: Option<NaiveDate>,
    /// Whether the nearest deadline has passed.
    pub overdue: bool,
    /// What the council's silence means on this file, and whether it has taken effect.
    pub silence: Option<SilenceDto>,
    /// Why the file's dates are provisional (a year they span has no published calendar, or its
    /// regional or local holidays are not known), or null when every day they count is known.
    pub provisional: Option<String>,
    /// An act of this file is being notified and its notification has not yet taken effect. A
    /// citizen then sees the file as it was before that act, until they open the notification
    /// or it takes effect otherwise (arts. 40 and 43 LPAC: its content is known when notified).
    pub notification_pending: bool,
    /// The file's version (also its ETag).
    pub version: i32,
}

impl CaseDto {
    /// Marks the file's dates provisional where the legal calendar does not know every day they
    /// count (read when shown, so the mark goes once the missing calendar is published).
    pub fn mark_provisional(
        mut self,
        calendar: &expedientes_domain::calendar::HolidayCalendar,
        today: NaiveDate,
    ) -> Self {
        let last = [
            self.citizen_action.as_ref().map(|a| a.due),
            self.resolution_due,
        ]
        .into_iter()
        .flatten()
        .max();
        self.provisional = last
            .filter(|_| self.open)
            .and_then(|last| calendar.provisional(today.min(last), last, &self.tenant));
        self
    }

    /// From a case-view row, judged overdue against `today`.
    pub fn from_row(row: CaseRow, today: NaiveDate) -> Self {
        Self {
            id: row.case_id,
            case_number: row.case_number,
            tenant: row.tenant,
            procedure: row.procedure,
            procedure_title: row.procedure_title,
            sia_code: row.sia_code,
            subject: row.subject,
            parties: row.parties.0.iter().map(party_dto).collect(),
            state: row.state,
            state_description: row.state_description,
            open: row.closed_at.is_none(),
            opened_at: row.opened_at,
            updated_at: row.updated_at,
            closed_at: row.closed_at,
            citizen_action: match (row.citizen_action, row.citizen_action_due) {
                (Some(what), Some(due)) => Some(ActionDto { what, due }),
                _ => None,
            },
            citizen_must_act: row.citizen_must_act,
            resolution_due: row.resolution_due,
            overdue: row.next_deadline.is_some_and(|d| d < today),
            next_deadline: row.next_deadline,
            silence: row.silence.map(|meaning| SilenceDto {
                meaning,
                basis: row.silence_basis.unwrap_or_default(),
                reached_on: row.silence_reached_on,
            }),
            provisional: None,
            notification_pending: false,
            version: row.version,
        }
    }

    /// Whether an act of the file is still being notified (see [`withheld_from`]).
    pub fn pending(mut self, pending: bool) -> Self {
        self.notification_pending = pending;
        self
    }
}

/// The events of a file that record an act whose notification has not yet taken effect (the
/// act's events are appended with the notification's issue, in one transaction), and those a
/// procedure keeps for the council, by file: their positions, and whether the file's opening is
/// one of them. Read from the log itself, so no
/// read model's lag can show an act early.
#[derive(Debug, Clone, Default)]
pub struct Withheld {
    /// The positions of the events withheld.
    pub positions: Vec<i64>,
    /// Whether the file's first event (its opening) is one of them.
    pub opening: bool,
    /// Whether any is an act being notified (the file shows `notification_pending`); the others
    /// are only the council's.
    pub notification: bool,
}

/// [`Withheld`] for each of `cases` that has any.
pub async fn withheld_from(
    state: &AppState,
    tenant: &str,
    cases: &[Uuid],
) -> Result<HashMap<Uuid, Withheld>, ApiError> {
    if cases.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, i64, i32)> = sqlx::query_as(
        "SELECT DISTINCT e.stream_id, e.position, e.version
           FROM events e
           JOIN events n ON n.transaction_id = e.transaction_id AND n.tenant = e.tenant
                        AND n.stream_type = 'notification' AND n.version = 1
                        AND n.payload -> 'case' ->> 'stream_id' = e.stream_id::text
          WHERE e.tenant = $1 AND e.stream_id = ANY($2)
            AND NOT EXISTS (SELECT 1 FROM events t
                             WHERE t.stream_id = n.stream_id AND t.event_type = 'took_effect')",
    )
    .bind(tenant)
    .bind(cases)
    .fetch_all(&state.pool)
    .await?;
    // And the events a procedure keeps for the council (what was decided on a person's removal
    // request, which would tell the requester about someone else's inscription).
    let (types, events): (Vec<&str>, Vec<&str>) =
        crate::routes::padron::removal_requests::STAFF_ONLY_EVENTS
            .iter()
            .copied()
            .unzip();
    let staff_only: Vec<(Uuid, i64, i32)> = sqlx::query_as(
        "SELECT e.stream_id, e.position, e.version FROM events e
          WHERE e.tenant = $1 AND e.stream_id = ANY($2)
            AND (e.stream_type, e.event_type) IN (SELECT * FROM unnest($3::text[], $4::text[]))",
    )
    .bind(tenant)
    .bind(cases)
    .bind(&types)
    .bind(&events)
    .fetch_all(&state.pool)
    .await?;
    let rows = rows
        .into_iter()
        .map(|row| (row, true))
        .chain(staff_only.into_iter().map(|row| (row, false)));
    let mut withheld: HashMap<Uuid, Withheld> = HashMap::new();
    for ((case, position, version), notified) in rows {
        let entry = withheld.entry(case).or_default();
        entry.positions.push(position);
        entry.opening |= version == 1;
        entry.notification |= notified;
    }
    Ok(withheld)
}

/// The file as a citizen may see it: without the acts still being notified (rebuilt from its
/// other events, the citizen's own included). A file whose opening is such an act shows only
/// that a notification about it waits (its number, procedure and subject, as the notification's
/// summary does). Staff see the row as it is. The version stays the file's, so `ETag`,
/// `If-None-Match` and `If-Match` follow every change.
pub async fn as_seen_by(
    state: &AppState,
    caller: &Caller,
    row: CaseRow,
    withheld: Option<&Withheld>,
) -> Result<CaseRow, ApiError> {
    let Some(withheld) = withheld.filter(|_| caller.role == Role::Citizen) else {
        return Ok(row);
    };
    let version = row.version;
    if withheld.opening {
        return Ok(CaseRow {
            state: "notification_pending".into(),
            state_description: "The council has sent you a notification about this file: what it says shows here once the notification takes effect (arts. 40-43 LPAC)".into(),
            closed_at: None,
            citizen_action: None,
            citizen_action_due: None,
            resolution_due: None,
            next_deadline: None,
            citizen_must_act: false,
            silence: None,
            silence_basis: None,
            silence_reached_on: None,
            ..row
        });
    }
    let events = state
        .log
        .load_stream(&row.tenant, row.case_id, Until::End)
        .await?;
    let seen: Vec<StoredEvent> = events
        .into_iter()
        .filter(|e| !withheld.positions.contains(&e.position))
        .collect();
    let mut past = state
        .case_view
        .replay(&seen)
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .unwrap_or(row);
    past.version = version;
    Ok(past)
}

/// Converts a domain party.
pub fn party_dto(p: &expedientes_domain::CaseParty) -> PartyDto {
    PartyDto {
        document: p.document.to_string(),
        name: p.name.clone(),
        role: <&'static str>::from(p.role).to_owned(),
    }
}

pub(crate) use expedientes_projections::case_view::COLUMNS as CASE_COLUMNS;

/// The case-view row of a file the caller may see, or 404.
pub async fn visible_case(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<CaseRow, ApiError> {
    let row: Option<CaseRow> = sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM case_view WHERE case_id = $1 AND tenant = $2"
    ))
    .bind(id)
    .bind(caller.tenant.as_str())
    .fetch_optional(&state.pool)
    .await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such file".into()))?;
    if caller.reads_whole_tenant() {
        return Ok(row);
    }
    if caller.role == Role::Citizen && row.party_documents.contains(&caller.subject) {
        Ok(row)
    } else {
        Err(ApiError::NotFound("no such file".into()))
    }
}

/// `?as_of=`: the moment to reconstruct.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// Reconstruct the file as it was at this moment (RFC 3339). Caseworkers and auditors.
    pub as_of: Option<DateTime<Utc>>,
}

/// Whether an `If-None-Match` value matches the file's version: `*`, or a list of entity tags
/// compared weakly (RFC 9110, 13.1.2).
fn none_match(value: &str, version: i32) -> bool {
    let ours = version.to_string();
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"') == ours)
}

fn etag(version: i32) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a number is a valid header")
}

/// A file's view. With `as_of`, the file as it was at that moment, rebuilt from its events.
#[utoipa::path(get, path = "/v1/cases/{id}", params(("id" = Uuid, Path, description = "The file"), AsOf,
        ("If-None-Match" = Option<String>, Header, description = "ETags (or `*`) the caller holds: 304 when the file still has one of them")),
    responses((status = 200, description = "The file (or, with `as_of`, as it was then)", body = CaseDto,
               headers(("ETag" = String, description = "The file's version"))),
              (status = 304, description = "Not modified: the file still has the given ETag")),
    security(("bearer" = [])), tag = "cases")]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<AsOf>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = resource_id(&id, "file")?;
    let row = visible_case(&state, &caller, id).await?;
    let today = crate::deadlines::local_date(&state, state.clock.now());
    if let Some(moment) = query.as_of {
        caller.require(&[Role::Caseworker, Role::Auditor, Role::Admin])?;
        let events = state
            .log
            .load_stream(caller.tenant.as_str(), id, Until::Time(moment))
            .await?;
        let past = state
            .case_view
            .replay(&events)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .ok_or_else(|| ApiError::NotFound("the file did not exist at that moment".into()))?;
        return Ok(Json(CaseDto::from_row(past, moment.date_naive())).into_response());
    }
    let withheld = withheld_from(&state, caller.tenant.as_str(), &[id])
        .await?
        .remove(&id);
    let row = as_seen_by(&state, &caller, row, withheld.as_ref()).await?;
    let tag = etag(row.version);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| none_match(v, row.version))
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response());
    }
    let calendar = crate::deadlines::calendar_for(&state, &caller.tenant).await?;
    Ok((
        [(header::ETAG, tag)],
        Json(
            CaseDto::from_row(row, today)
                .mark_provisional(&calendar, today)
                .pending(withheld.as_ref().is_some_and(|w| w.notification)),
        ),
    )
        .into_response())
}

/// One event of a file's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventDto {
    /// Global position.
    pub position: i64,
    /// The file.
    pub stream_id: Uuid,
    /// The procedure.
    pub stream_type: String,
    /// Version in the file.
    pub version: i32,
    /// Type.
    pub event_type: String,
    /// Schema version of the payload.
    pub schema_version: i32,
    /// What happened.
    pub payload: serde_json::Value,
    /// Who, for whom, how (not shown to citizens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// When the log recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Its hash in the file's chain (hex).
    pub hash: String,
}

impl EventDto {
    /// From a stored event; `with_metadata` is false for citizens.
    pub fn from_stored(e: StoredEvent, with_metadata: bool) -> Self {
        Self {
            position: e.position,
            stream_id: e.stream_id,
            stream_type: e.stream_type,
            version: e.version,
            event_type: e.event_type,
            schema_version: e.schema_version,
            payload: e.payload,
            metadata: with_metadata.then_some(e.metadata),
            recorded_at: e.recorded_at,
            hash: e.hash,
        }
    }
}

/// A file's history, in order; with `as_of`, only what had happened by then.
#[utoipa::path(get, path = "/v1/cases/{id}/events", params(("id" = Uuid, Path), AsOf),
    responses((status = 200, body = [EventDto]), (status = 404, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "cases")]
pub async fn case_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<AsOf>,
) -> Result<Json<Vec<EventDto>>, ApiError> {
    let id = resource_id(&id, "file")?;
    visible_case(&state, &caller, id).await?;
    let until = query.as_of.map_or(Until::End, Until::Time);
    let events = state
        .log
        .load_stream(caller.tenant.as_str(), id, until)
        .await?;
    // A citizen does not see an act before its notification takes effect.
    let withheld = match caller.role {
        Role::Citizen => withheld_from(&state, caller.tenant.as_str(), &[id])
            .await?
            .remove(&id),
        _ => None,
    };
    let with_metadata = caller.reads_whole_tenant();
    let seen: Vec<EventDto> = events
        .into_iter()
        .filter(|e| {
            withheld
                .as_ref()
                .is_none_or(|w| !w.positions.contains(&e.position))
        })
        .map(|e| EventDto::from_stored(e, with_metadata))
        .collect();
    Ok(Json(seen))
}

/// Filters and paging of the caseworkers' list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this procedure (machine name).
    pub procedure: Option<String>,
    /// Only this state code.
    pub state: Option<String>,
    /// Only files whose next deadline is before this day.
    pub due_before: Option<NaiveDate>,
    /// Include closed files (default false).
    pub include_closed: Option<bool>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Page size, 1 to 200 (default 50).
    pub per_page: Option<u32>,
}

/// A page of files.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// The files: overdue first, then by nearest deadline, then oldest.
    pub items: Vec<CaseDto>,
    /// This page.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Files matching in all.
    pub total: i64,
}

/// The caseworkers' list of the tenant's files, overdue first.
#[utoipa::path(get, path = "/v1/cases", params(ListQuery),
    responses((status = 200, body = CaseList), (status = 403, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "cases")]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<CaseList>, ApiError> {
    caller.require(&[Role::Caseworker, Role::Auditor, Role::Admin])?;
    let per_page = query.per_page.unwrap_or(50);
    if !(1..=200).contains(&per_page) {
        return Err(ApiError::invalid_field("per_page", "must be from 1 to 200"));
    }
    if let Some(procedure) = &query.procedure {
        if state.registry.get(procedure).is_none() {
            return Err(ApiError::invalid_field(
                "procedure",
                format!("one of {}", state.registry.names().join(", ")),
            ));
        }
    }
    let page = query.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::invalid_field("page", "pages start at 1"));
    }
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let filter =
        "tenant = $1 AND ($2::text IS NULL OR procedure = $2) AND ($3::text IS NULL OR state = $3)
        AND ($4::date IS NULL OR next_deadline < $4) AND ($5 OR closed_at IS NULL)";
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM case_view WHERE {filter}"))
        .bind(caller.tenant.as_str())
        .bind(&query.procedure)
        .bind(&query.state)
        .bind(query.due_before)
        .bind(query.include_closed.unwrap_or(false))
        .fetch_one(&state.pool)
        .await?;
    let rows: Vec<CaseRow> = sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM case_view WHERE {filter}
         ORDER BY (next_deadline IS NOT NULL AND next_deadline < $6) DESC, next_deadline ASC NULLS LAST,
                  opened_at ASC, case_id
         LIMIT $7 OFFSET $8"
    ))
    .bind(caller.tenant.as_str())
    .bind(&query.procedure)
    .bind(&query.state)
    .bind(query.due_before)
    .bind(query.include_closed.unwrap_or(false))
    .bind(today)
    .bind(i64::from(per_page))
    .bind(i64::from(page - 1) * i64::from(per_page))
    .fetch_all(&state.pool)
    .await?;
    let calendar = crate::deadlines::calendar_for(&state, &caller.tenant).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.case_id).collect();
    let pending = withheld_from(&state, caller.tenant.as_str(), &ids).await?;
    Ok(Json(CaseList {
        items: rows
            .into_iter()
            .map(|r| {
                let waiting = pending.get(&r.case_id).is_some_and(|w| w.notification);
                CaseDto::from_row(r, today)
                    .mark_provisional(&calendar, today)
                    .pending(waiting)
            })
            .collect(),
        page,
        per_page,
        total,
    }))
}
