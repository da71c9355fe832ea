//! A person's request to remove someone wrongly inscribed, over HTTP (seed 004, "a instancia de
//! parte"): the person submits it (entered in the registry, always the same answer, whoever is or
//! is not on the padrón); a caseworker examines it — reads it with the inscriptions that match
//! the person named — and opens the removal file against the inscription found, or decides not to
//! open one. Nothing is blocked until a caseworker opens the file, and the requester is shown only
//! that it was examined (see `domain::padron::removal_request` for why).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use expedientes_domain::lpac::SubmissionKind;
use expedientes_domain::padron::{
    NamedPerson, RemovalBasis, RemovalRequest, RequestCommand, RequestStage, ANSWER_MONTHS,
};
use expedientes_domain::{CaseParty, DocumentNumber, PartyRole};
use expedientes_eventlog::{LoadError, Until};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::removal_files::{open_removal_file, NotifyBy, NotifyChoice};
use super::{inscription_id, row, RegisterRow, REGISTER_COLUMNS};
use crate::auth::Role;
use crate::extract::resource_id;
use crate::pipeline::{CommandContext, CommandResponse, Incoming};
use crate::problem::{ApiError, RefusalProblem};
use crate::state::AppState;

/// The request's machine name.
pub const REMOVAL_REQUEST: &str = <RemovalRequest as esrs::Aggregate>::NAME;

impl RefusalProblem for expedientes_domain::padron::RequestRefusal {}

/// The longest address a request gives.
const ADDRESS_MAX: usize = 300;
/// The longest account of the person's whereabouts.
const WHEREABOUTS_MAX: usize = 2000;

fn location(id: Uuid) -> String {
    format!("/v1/cases/{id}")
}

/// The person a request concerns, as the requester knows them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedPersonInput {
    /// Their name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Their document number, if known.
    #[schema(max_length = 20)]
    pub document: Option<String>,
}

/// A request to remove someone who does not live at an address.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ana García", "person": {"name": "Bilal Haddad"}, "address": "Calle de Toledo 10, 2º B", "whereabouts": "vive en Getafe desde 2025", "declares_true": true}))]
pub struct SubmitRequestInput {
    /// Your name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The person who does not live there.
    pub person: NamedPersonInput,
    /// The address where they are inscribed without living there.
    #[schema(min_length = 1, max_length = 300)]
    pub address: String,
    /// What you know of where they live now (required).
    #[schema(min_length = 1, max_length = 2000)]
    pub whereabouts: String,
    /// `true`: you declare these data true, warned that declaring false data may be an offence
    /// (seed 004). Required.
    pub declares_true: bool,
}

fn text(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(ApiError::invalid_field(
            field,
            format!("1 to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A person asks the council to remove someone inscribed at an address where they do not live.
/// The request is entered in the registry and examined by a caseworker; the answer is the same
/// whether or not that person is on the padrón, and nothing changes for them until a caseworker
/// opens a removal file. Refused (409) only when the requester's own inscription has a removal
/// file open (seed 004).
#[utoipa::path(post, path = "/v1/padron/removal-requests", request_body = SubmitRequestInput,
    responses((status = 201, description = "Submitted: the request, to be examined", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn submit_removal_request(
    State(state): State<AppState>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Citizen])?;
    let input: SubmitRequestInput = incoming.json()?;
    let requester_name = text("name", &input.name, 200)?;
    let person = NamedPerson {
        name: text("person.name", &input.person.name, 200)?,
        document: match input.person.document.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(
                raw.parse::<DocumentNumber>()
                    .map_err(|e| ApiError::invalid_field("person.document", e.to_string()))?,
            ),
        },
    };
    let address = text("address", &input.address, ADDRESS_MAX)?;
    let whereabouts = text("whereabouts", &input.whereabouts, WHEREABOUTS_MAX)?;
    if !input.declares_true {
        return Err(ApiError::invalid_field(
            "declares_true",
            "declare the data true: declaring false data may be an offence",
        ));
    }
    let requester = CaseParty {
        document: caller
            .subject
            .parse()
            .map_err(|_| ApiError::Forbidden("your identity has no document number".into()))?,
        name: requester_name,
        role: PartyRole::Interested,
    };
    let tenant = caller.tenant.clone();
    let ctx = CommandContext::open(&state, &incoming, &tenant, REMOVAL_REQUEST, "submit").await?;
    let id = ctx.new_stream_id();
    if let Some(earlier) = ctx.earlier(&state, id).await? {
        return Ok(earlier.reply(location(id)));
    }
    // The requester's own inscription, if any: with a removal file open they may not ask for the
    // removal of others (their own file, so the answer tells them nothing new).
    let own = inscription_id(&state, &tenant, &caller.subject).await?;
    if let Ok(own) = row(&state, &tenant, own).await {
        if own.open_removal_file.is_some() {
            return Err(ApiError::Refused {
                detail: "a removal file is open on your own inscription: regularise it before \
                         asking for the removal of others"
                    .into(),
                current_version: None,
            });
        }
    }
    let now = state.clock.now();
    let on = crate::deadlines::local_date(&state, now);
    let calendar = crate::deadlines::calendar_for(&state, &tenant).await?;
    let case_number = crate::case_numbers::next(&state, &tenant, on).await?;
    let entry =
        crate::registry_entries::submission_now(&state, &tenant, SubmissionKind::Application)
            .await?;
    // Three months from its entry in the registry, which on a non-business day counts from the
    // next business day (arts. 21.3.b and 31.2.b).
    let filed_on = crate::deadlines::local_date(&state, entry.counts_from);
    let answer_due = crate::deadlines::months_after(&calendar, &tenant, filed_on, ANSWER_MONTHS)?;
    let sia_code = state.config.sia_code(super::REMOVAL_FILE);
    let executed = ctx
        .execute::<RemovalRequest>(&state, id, |_, _| RequestCommand::Submit {
            entry: entry.clone(),
            case_number: case_number.clone(),
            sia_code: sia_code.clone(),
            requester: requester.clone(),
            person: person.clone(),
            address: address.clone(),
            whereabouts: whereabouts.clone(),
            declared_true: input.declares_true,
            on,
            answer_due,
        })
        .await?;
    Ok(executed.reply(location(id)))
}

/// A removal request as a caseworker examines it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemovalRequestDto {
    /// The request (also its case id).
    pub id: Uuid,
    /// Where it is: `examining`, `file_opened` or `declined`.
    pub stage: String,
    /// The requester's document number.
    pub requester: Option<String>,
    /// The person named.
    pub person_name: Option<String>,
    /// Their document number, if the requester gave it.
    pub person_document: Option<String>,
    /// The address given.
    pub address: String,
    /// What the requester knows of the person's whereabouts.
    pub whereabouts: String,
    /// The day it was submitted.
    pub submitted_on: Option<NaiveDate>,
    /// The removal file opened from it.
    pub file: Option<Uuid>,
    /// The inscriptions in force that match the person named (by document, or by name), for the
    /// caseworker to check against the address.
    pub candidates: Vec<RegisterRow>,
    /// The version (also the `ETag`).
    pub version: i32,
}

async fn load_request(
    state: &AppState,
    tenant: &str,
    id: Uuid,
) -> Result<(expedientes_domain::padron::RequestState, i32), ApiError> {
    let loaded = state
        .log
        .load_aggregate::<RemovalRequest>(tenant, id, Until::End)
        .await
        .map_err(|e| match e {
            LoadError::WrongStream => ApiError::NotFound("no such removal request".into()),
            other => ApiError::Internal(format!("removal request {id}: {other}")),
        })?;
    if loaded.state.stage == RequestStage::NotSubmitted {
        return Err(ApiError::NotFound("no such removal request".into()));
    }
    Ok((loaded.state, loaded.version))
}

/// A caseworker reads a removal request, with the inscriptions in force that match the person
/// named.
#[utoipa::path(get, path = "/v1/padron/removal-requests/{id}", params(("id" = Uuid, Path, description = "The request")),
    responses((status = 200, description = "The request", body = RemovalRequestDto,
               headers(("ETag" = String, description = "The request's version"))),
              (status = 404, description = "No such request in your council", body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn get_removal_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: crate::auth::Caller,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Caseworker])?;
    let id = resource_id(&id, "request")?;
    let (request, version) = load_request(&state, caller.tenant.as_str(), id).await?;
    let person = request.person.clone();
    let candidates: Vec<RegisterRow> = match &person {
        Some(person) => {
            sqlx::query_as(&format!(
                "SELECT {REGISTER_COLUMNS} FROM padron_register
             WHERE tenant = $1 AND removed_on IS NULL
               AND (document = $2 OR lower(name) = lower($3))
             ORDER BY inscribed_on, inscription_id LIMIT 20"
            ))
            .bind(caller.tenant.as_str())
            .bind(person.document.as_ref().map(|d| d.to_string()))
            .bind(&person.name)
            .fetch_all(&state.pool)
            .await?
        }
        None => Vec::new(),
    };
    let stage: &'static str = request.stage.into();
    let body = RemovalRequestDto {
        id,
        stage: stage.to_owned(),
        requester: request.requester,
        person_name: person.as_ref().map(|p| p.name.clone()),
        person_document: person.and_then(|p| p.document.map(|d| d.to_string())),
        address: request.address,
        whereabouts: request.whereabouts,
        submitted_on: request.submitted_on,
        file: request.file,
        candidates,
        version,
    };
    Ok(([(header::ETAG, crate::pipeline::etag(version))], Json(body)).into_response())
}

/// Opening the removal file a request asks for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"inscription_id": "6f1c2a4e-35b4-5d7e-9a43-0c1b2d3e4f50", "notify_by": "paper"}))]
pub struct OpenFromRequestInput {
    /// The inscription the caseworker found for the person named.
    pub inscription_id: Uuid,
    /// How the opening is notified to the person (a letter by default).
    pub notify_by: Option<NotifyBy>,
    /// For a letter: the address, when it is not the inscribed dwelling's.
    #[schema(max_length = 300)]
    pub address: Option<String>,
}

/// A caseworker opens the removal file a request asks for, against the inscription found: the
/// file, the request and the inscriptions (the person's, blocked from now; the requester's own,
/// recording the request) change in one append.
#[utoipa::path(post, path = "/v1/padron/removal-requests/{id}/file", params(("id" = Uuid, Path, description = "The request")),
    request_body = OpenFromRequestInput,
    responses((status = 201, description = "Opened: the new removal file", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn open_file_from_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let request = resource_id(&id, "request")?;
    let input: OpenFromRequestInput = incoming.json()?;
    let tenant = caller.tenant.clone();
    let (found, version) = load_request(&state, tenant.as_str(), request).await?;
    row(&state, &tenant, input.inscription_id).await?;
    if let Some(address) = &input.address {
        if address.trim().is_empty() || address.chars().count() > ADDRESS_MAX {
            return Err(ApiError::invalid_field("address", "1 to 300 characters"));
        }
    }
    let mut ctx = CommandContext::open(
        &state,
        &incoming,
        &tenant,
        super::REMOVAL_FILE,
        "open_from_request",
    )
    .await?;
    // A retry answers its first outcome, whatever the request is now.
    if let Some(earlier) = ctx.earlier(&state, ctx.new_stream_id()).await? {
        let file = earlier.id();
        return Ok(earlier.reply(location(file)));
    }
    // `If-Match` names the request's version (its ETag as read); the new file has none. The
    // request is appended with the file, so one changed meanwhile is refused by its stage.
    ctx.check_if_match_against(version)?;
    // Refused before a number is spent for it.
    if found.stage != RequestStage::Examining {
        let stage: &'static str = found.stage.into();
        return Err(ApiError::Refused {
            detail: format!("the request was already examined ({stage})"),
            current_version: Some(version),
        });
    }
    let basis = RemovalBasis::Request {
        requester: found.requester.clone().unwrap_or_default(),
        whereabouts: found.whereabouts.clone(),
        request: Some(request),
    };
    let notify = NotifyChoice {
        by: input.notify_by.unwrap_or_default(),
        address: input.address.map(|a| a.trim().to_owned()),
    };
    let executed = open_removal_file(&state, &ctx, input.inscription_id, basis, notify).await?;
    let file = executed.id();
    Ok(executed.reply(location(file)))
}

/// Not opening the file a request asks for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grounds": "Tras las comprobaciones oportunas, no procede iniciar el expediente."}))]
pub struct DeclineRequestInput {
    /// The reasons.
    #[schema(min_length = 1, max_length = 10000)]
    pub grounds: String,
}

/// A caseworker decides not to open the file a request asks for, with the reasons (recorded for
/// the council and its auditors; the requester is shown only that the request was examined).
#[utoipa::path(post, path = "/v1/padron/removal-requests/{id}/refusal", params(("id" = Uuid, Path, description = "The request")),
    request_body = DeclineRequestInput,
    responses((status = 200, description = "Recorded", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn decline_removal_request(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let request = resource_id(&id, "request")?;
    let input: DeclineRequestInput = incoming.json()?;
    let grounds = expedientes_domain::lpac::Reasons::try_from(input.grounds)
        .map_err(|e| ApiError::invalid_field("grounds", e))?;
    let tenant = caller.tenant.clone();
    load_request(&state, tenant.as_str(), request).await?;
    let ctx = CommandContext::open(&state, &incoming, &tenant, REMOVAL_REQUEST, "decline").await?;
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let executed = ctx
        .execute::<RemovalRequest>(&state, request, |_, _| RequestCommand::Decline {
            grounds: grounds.clone(),
            on: today,
        })
        .await?;
    Ok(executed.reply(location(request)))
}

/// The events of a request that record what was decided: the council's record, withheld from
/// citizens (who see the `examined` recorded with them), by [`crate::routes::cases::withheld_from`].
pub const STAFF_ONLY_EVENTS: &[(&str, &str)] = &[
    (REMOVAL_REQUEST, "file_opened"),
    (REMOVAL_REQUEST, "declined"),
];
