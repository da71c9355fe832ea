//! Mi Carpeta: a citizen's own files, open first, each with its state and what they must do by
//! when. The fields follow the citizen-folder hub contract the State's Carpeta Ciudadana answers
//! are modelled on (file id, role, body's INE code, procedure, start date, subject, URL, state;
//! expected resolution date, end date, phase, registry number, last action, whether to act).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use expedientes_projections::CaseRow;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::problem::ApiError;
use crate::routes::cases::{ActionDto, CASE_COLUMNS};
use crate::state::AppState;

/// One file in the citizen's folder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CarpetaEntry {
    /// The file's id.
    pub id: Uuid,
    /// The registry number of the file.
    pub case_number: String,
    /// The person's role on it: `interested` or `representative`.
    pub role: String,
    /// The body's INE code.
    pub body_ine_code: String,
    /// The procedure's name.
    pub procedure: String,
    /// The procedure's SIA code.
    pub sia_code: String,
    /// Subject.
    pub subject: String,
    /// Start date.
    pub start_date: DateTime<Utc>,
    /// `open` or `closed`.
    pub state: String,
    /// The phase code.
    pub phase_code: String,
    /// The phase for people.
    pub phase_description: String,
    /// The expected resolution date (maximum time), while running.
    pub expected_resolution_date: Option<NaiveDate>,
    /// End date.
    pub end_date: Option<DateTime<Utc>>,
    /// Last action date.
    pub last_action_date: DateTime<Utc>,
    /// Whether the citizen must act.
    pub citizen_must_act: bool,
    /// What they must do and by when.
    pub action: Option<ActionDto>,
    /// The file's detail in this API.
    pub url: String,
    /// Why its dates are provisional (a year they span has no published calendar), or null.
    pub provisional: Option<String>,
    /// An act of the file is being notified to you: it shows here once you open the
    /// notification, or once it takes effect otherwise (arts. 40 and 43 LPAC).
    pub notification_pending: bool,
}

/// A citizen's folder.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Carpeta {
    /// The person (document number).
    pub person: String,
    /// Their files: open first (those needing action first, by due date), then closed, newest first.
    pub files: Vec<CarpetaEntry>,
}

/// Ascending, with the absent last (as SQL's `ASC NULLS LAST`).
fn nulls_last(a: Option<NaiveDate>, b: Option<NaiveDate>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// The citizen's own files.
#[utoipa::path(get, path = "/v1/carpeta",
    responses((status = 200, body = Carpeta), (status = 403, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "citizens")]
pub async fn carpeta(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Carpeta>, ApiError> {
    caller.require(&[Role::Citizen])?;
    let document = caller.subject.clone();
    let rows: Vec<CaseRow> = sqlx::query_as(&format!(
        "SELECT {CASE_COLUMNS} FROM case_view
         WHERE tenant = $1 AND party_documents @> ARRAY[$2]::text[]
         ORDER BY (closed_at IS NULL) DESC, citizen_must_act DESC, citizen_action_due ASC NULLS LAST,
                  next_deadline ASC NULLS LAST, opened_at DESC
         LIMIT 1000"
    ))
    .bind(caller.tenant.as_str())
    .bind(document.as_str())
    .fetch_all(&state.pool)
    .await?;
    let calendar = crate::deadlines::calendar_for(&state, &caller.tenant).await?;
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let ids: Vec<Uuid> = rows.iter().map(|r| r.case_id).collect();
    let withheld =
        crate::routes::cases::withheld_from(&state, caller.tenant.as_str(), &ids).await?;
    // A file with an act still being notified shows as it was without that act (or only as a
    // notification waiting, when the act is its opening), and is ordered as it shows.
    let mut seen = Vec::with_capacity(rows.len());
    for row in rows {
        let pending = withheld.get(&row.case_id);
        let notification_pending = pending.is_some_and(|w| w.notification);
        let row = crate::routes::cases::as_seen_by(&state, &caller, row, pending).await?;
        seen.push((row, notification_pending));
    }
    seen.sort_by(|(a, _), (b, _)| {
        (a.closed_at.is_some(), !a.citizen_must_act)
            .cmp(&(b.closed_at.is_some(), !b.citizen_must_act))
            .then_with(|| nulls_last(a.citizen_action_due, b.citizen_action_due))
            .then_with(|| nulls_last(a.next_deadline, b.next_deadline))
            .then_with(|| b.opened_at.cmp(&a.opened_at))
    });
    let files = seen
        .into_iter()
        .map(|(row, notification_pending)| {
            let last = [row.citizen_action_due, row.resolution_due]
                .into_iter()
                .flatten()
                .max()
                .filter(|_| row.closed_at.is_none());
            let provisional =
                last.and_then(|last| calendar.provisional(today.min(last), last, &row.tenant));
            let role = row
                .parties
                .0
                .iter()
                .find(|p| p.document.as_str() == document)
                .map(|p| <&'static str>::from(p.role))
                .unwrap_or("interested")
                .to_owned();
            CarpetaEntry {
                url: format!("/v1/cases/{}", row.case_id),
                id: row.case_id,
                case_number: row.case_number,
                role,
                body_ine_code: row.tenant,
                procedure: row.procedure_title,
                sia_code: row.sia_code,
                subject: row.subject,
                start_date: row.opened_at,
                state: if row.closed_at.is_none() {
                    "open"
                } else {
                    "closed"
                }
                .into(),
                phase_code: row.state,
                phase_description: row.state_description,
                expected_resolution_date: row.resolution_due,
                end_date: row.closed_at,
                last_action_date: row.updated_at,
                citizen_must_act: row.citizen_must_act,
                action: match (row.citizen_action, row.citizen_action_due) {
                    (Some(what), Some(due)) => Some(ActionDto { what, due }),
                    _ => None,
                },
                provisional,
                notification_pending,
            }
        })
        .collect();
    Ok(Json(Carpeta {
        person: document.to_string(),
        files,
    }))
}
