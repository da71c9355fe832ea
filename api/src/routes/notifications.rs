//! Notifications (arts. 40–46 LPAC) over HTTP. A procedure issues a notification with the act it
//! notifies ([`prepare`], in the act's own append); the addressee (or their representative) opens
//! an electronic one in the electronic office; a caseworker posts a letter, records its delivery
//! attempts and publishes the edict. When it takes effect the file is told (a follow-up), and its
//! deadlines count from that day.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use expedientes_domain::lpac::notification::{
    rejected_on, Act, Addressee, AttemptResult, CaseRef, Command, Delivery, Notification, Refusal,
    SENDING_BUSINESS_DAYS,
};
use expedientes_domain::lpac::SubmissionKind;
use expedientes_domain::MunicipalityCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::extract::{resource_id, ApiQuery};
use crate::pipeline::{CommandContext, CommandResponse, Incoming, NoInput};
use crate::problem::{ApiError, RefusalProblem};
use crate::procedures::Plugin;
use crate::state::AppState;

/// Notifications' registration.
pub const PLUGIN: Plugin = Plugin {
    name: "notification",
    register: |registry| registry.register::<Notification>(),
    read_models: || vec![std::sync::Arc::new(expedientes_projections::Notifications)],
    routes: || {
        OpenApiRouter::new()
            .routes(routes!(list_notifications))
            .routes(routes!(get_notification))
            .routes(routes!(access_notification))
            .routes(routes!(dispatch_notification))
            .routes(routes!(record_delivery_attempt))
            .routes(routes!(publish_edict))
    },
    notice: notification_notice,
};

/// How the aviso of art. 41.6 reads.
fn notification_notice(stream_type: &str, kind: &str) -> Option<crate::notices::NoticeText> {
    (stream_type == NAME && kind == expedientes_domain::lpac::notification::NOTICE_AVAILABLE).then_some(
        crate::notices::NoticeText {
            subject: "Tiene una notificación del Ayuntamiento",
            body: "Tiene una notificación del Ayuntamiento a su disposición en la sede electrónica \
                   (Mi Carpeta). Dispone de diez días naturales para acceder a ella; si no lo hace, \
                   se entenderá rechazada y el procedimiento seguirá (arts. 41.6 y 43.2 de la Ley \
                   39/2015). Este aviso no contiene la notificación.",
            secret: None,
        },
    )
}

const NAME: &str = <Notification as esrs::Aggregate>::NAME;

/// Dates and texts out of rule are invalid input (422); the rest are conflicts with where the
/// notification is (409).
impl RefusalProblem for Refusal {
    fn into_problem(self) -> ApiError {
        match self {
            Refusal::TooEarly { .. }
            | Refusal::InFuture(_)
            | Refusal::SecondAttemptOutOfRule
            | Refusal::EdictReferenceMissing
            | Refusal::AddressMissing
            | Refusal::ActIncomplete => ApiError::Invalid {
                detail: self.to_string(),
                errors: Vec::new(),
            },
            other => ApiError::Refused {
                detail: other.to_string(),
                current_version: None,
            },
        }
    }
}

fn location(id: Uuid) -> String {
    format!("/v1/notifications/{id}")
}

/// What a procedure notifies with one of its acts.
#[derive(Debug, Clone)]
pub(crate) struct ToNotify {
    /// The act.
    pub act: Act,
    /// The person, when known.
    pub addressee: Option<Addressee>,
    /// How.
    pub delivery: Delivery,
}

/// The notification of an act, for the procedure's command to issue in its own append: its id
/// (derived from the command's, so a retry names the same notification), and the command with
/// its exit entry (art. 16.1) and the last day to send it (ten business days, art. 40.2).
pub(crate) async fn prepare(
    state: &AppState,
    ctx: &CommandContext,
    case: CaseRef,
    notify: ToNotify,
) -> Result<(Uuid, Command), ApiError> {
    let tenant = &ctx.tenant;
    let kind: &'static str = notify.act.kind.into();
    let id = Uuid::new_v5(&ctx.command_id(), format!("notification/{kind}").as_bytes());
    let now = state.clock.now();
    let today = crate::deadlines::local_date(state, now);
    let calendar = crate::deadlines::calendar_for(state, tenant).await?;
    let sending_due = crate::deadlines::business_days_after(
        &calendar,
        tenant,
        notify.act.on,
        SENDING_BUSINESS_DAYS,
    )?;
    let exit =
        crate::registry_entries::enter(state, tenant, SubmissionKind::Notification, now, now)
            .await?;
    Ok((
        id,
        Command::Issue {
            case,
            act: notify.act,
            addressee: notify.addressee,
            delivery: notify.delivery,
            exit,
            sending_due,
            at: now,
            today,
        },
    ))
}

/// A resolution's reasons and appeals as a caseworker's request gives them: the reasons required
/// (art. 35, field `grounds`), and the body that resolved (field `body`, at most 200 characters;
/// by default "the same body", art. 123.1) before which reposición is brought.
pub(crate) fn resolution_parts(
    grounds: String,
    body: Option<&str>,
) -> Result<
    (
        expedientes_domain::lpac::Reasons,
        Vec<expedientes_domain::lpac::Appeal>,
    ),
    ApiError,
> {
    let reasons = expedientes_domain::lpac::Reasons::try_from(grounds)
        .map_err(|e| ApiError::invalid_field("grounds", e))?;
    Ok((reasons, appeals(body)?))
}

/// The appeals against a resolution, before the body that resolved (field `body`, at most 200
/// characters; "the same body" by default, art. 123.1).
pub(crate) fn appeals(
    body: Option<&str>,
) -> Result<Vec<expedientes_domain::lpac::Appeal>, ApiError> {
    let body = body.map(str::trim).unwrap_or("");
    if body.chars().count() > 200 {
        return Err(ApiError::invalid_field("body", "at most 200 characters"));
    }
    let body = if body.is_empty() {
        "el mismo órgano que dictó esta resolución"
    } else {
        body
    };
    Ok(expedientes_domain::lpac::Appeal::ending_administrative_route(body))
}

/// The act of a resolution as it is notified: what was decided, its reasons and the appeals, with
/// the body and the time to bring each (art. 40.2).
pub(crate) fn resolution_act(
    case_number: &str,
    decided: &str,
    grounds: &str,
    appeals: &[expedientes_domain::lpac::Appeal],
    on: NaiveDate,
) -> Act {
    let appeals: Vec<String> = appeals
        .iter()
        .map(|a| {
            format!(
                "recurso de {} ante {}, en el plazo de {} ({})",
                a.kind.label(),
                a.before,
                a.within,
                a.basis
            )
        })
        .collect();
    let appeals = if appeals.is_empty() {
        String::new()
    } else {
        format!(
            " Contra esta resolución, que pone fin a la vía administrativa, puede interponer {}, \
             contados desde el día siguiente al de esta notificación.",
            appeals.join("; o ")
        )
    };
    Act {
        kind: expedientes_domain::lpac::notification::ActKind::Resolution,
        summary: format!("Resolución del expediente {case_number}"),
        text: format!("En el expediente {case_number} {decided}. Motivos: {grounds}{appeals}"),
        on,
    }
}

/// A delivery attempt as the notification shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttemptDto {
    /// 1 or 2.
    pub attempt: u8,
    /// The local moment.
    pub at: String,
    /// `delivered`, `absent`, `refused` or `unknown_at_address`.
    pub result: String,
    /// Who received it, when delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_by: Option<String>,
}

/// A notification.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct NotificationDto {
    /// Its id.
    #[sqlx(rename = "notification_id")]
    pub id: Uuid,
    /// The file.
    pub case_id: Uuid,
    /// The file's number.
    pub case_number: String,
    /// The file's procedure.
    #[sqlx(rename = "case_type")]
    pub procedure: String,
    /// The act: `opening`, `resolution` or `rectification_request`.
    pub act_kind: String,
    /// What it is about.
    pub act_summary: String,
    /// The act's full text: shown to the addressee once opened (or once it took effect), to
    /// staff always.
    pub act_text: Option<String>,
    /// The day the act was dictated.
    pub act_on: NaiveDate,
    /// The addressee's document number (none when unknown).
    pub addressee: Option<String>,
    /// The addressee's name.
    pub addressee_name: Option<String>,
    /// `electronic`, `paper` or `edict`.
    pub channel: String,
    /// Paper: the address (staff only).
    pub address: Option<String>,
    /// Edict at once: `addressee_unknown` or `address_unknown`.
    pub edict_reason: Option<String>,
    /// Its exit entry in the registry.
    pub exit_number: String,
    /// The secure verification code of the exit entry.
    pub verification_code: String,
    /// `available`, `to_dispatch`, `dispatched`, `second_attempt_due`, `edict_due` or
    /// `took_effect`.
    pub stage: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// Electronic: the day it was made available.
    pub available_on: Option<NaiveDate>,
    /// Electronic: it is deemed rejected if not opened by the end of this day (art. 43.2).
    #[sqlx(skip)]
    pub open_by: Option<NaiveDate>,
    /// The last day to send it (art. 40.2).
    pub sending_due: NaiveDate,
    /// It was not sent by then.
    pub sending_overdue: bool,
    /// Paper: the day it was posted.
    pub dispatched_on: Option<NaiveDate>,
    /// Paper: the delivery attempts.
    #[sqlx(json)]
    pub attempts: Vec<AttemptDto>,
    /// Electronic: when it was opened.
    pub accessed_at: Option<DateTime<Utc>>,
    /// Electronic: who opened it.
    pub accessed_by: Option<String>,
    /// The edict's day of publication.
    pub edict_on: Option<NaiveDate>,
    /// The BOE's reference of the edict.
    pub edict_reference: Option<String>,
    /// How it took effect: `accessed`, `rejected`, `delivered` or `edict`.
    pub outcome: Option<String>,
    /// The day it took effect: the file's deadlines count from the next day.
    pub effective_on: Option<NaiveDate>,
}

const COLUMNS: &str = "notification_id, case_id, case_number, case_type, act_kind, act_summary,
    act_text, act_on, addressee, addressee_name, channel, address, edict_reason, exit_number,
    verification_code, stage, issued_at, available_on, sending_due, sending_overdue, dispatched_on,
    attempts, accessed_at, accessed_by, edict_on, edict_reference, outcome, effective_on";

impl NotificationDto {
    /// What the caller may see of it.
    fn for_caller(mut self, caller: &Caller) -> Self {
        self.open_by = self.available_on.map(rejected_on);
        if caller.role == Role::Citizen {
            self.address = None;
            if self.accessed_at.is_none() && self.outcome.is_none() {
                self.act_text = None;
            }
        }
        self
    }
}

/// The notification, if the caller may see it: staff of its council, its addressee, or someone
/// with a representation in force from the addressee for the file's procedure.
async fn visible(state: &AppState, caller: &Caller, id: Uuid) -> Result<NotificationDto, ApiError> {
    let row: Option<NotificationDto> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE notification_id = $1 AND tenant = $2"
    ))
    .bind(id)
    .bind(caller.tenant.as_str())
    .fetch_optional(&state.pool)
    .await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such notification".into()))?;
    if caller.reads_whole_tenant() || acts_for_addressee(state, caller, &row).await? {
        Ok(row.for_caller(caller))
    } else {
        Err(ApiError::NotFound("no such notification".into()))
    }
}

/// Whether a citizen is the addressee or represents them for the file's procedure today.
async fn acts_for_addressee(
    state: &AppState,
    caller: &Caller,
    row: &NotificationDto,
) -> Result<bool, ApiError> {
    if caller.role != Role::Citizen {
        return Ok(false);
    }
    let Some(addressee) = &row.addressee else {
        return Ok(false);
    };
    if *addressee == caller.subject {
        return Ok(true);
    }
    let (Ok(principal), Ok(representative)) = (addressee.parse(), caller.subject.parse()) else {
        return Ok(false);
    };
    let today = crate::deadlines::local_date(state, state.clock.now());
    crate::routes::representations::in_force(
        state,
        &caller.tenant,
        &principal,
        &representative,
        &row.procedure,
        today,
    )
    .await
}

/// `GET /v1/notifications` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// Only this file's.
    pub case: Option<Uuid>,
    /// Only those that have not taken effect.
    pub pending: Option<bool>,
    /// Staff: only those not sent within the ten business days (art. 40.2).
    pub overdue: Option<bool>,
    /// At most this many (1 to 200; 50 by default), newest first.
    pub limit: Option<u32>,
}

/// Notifications, newest first: a citizen's own (as addressee); staff, the council's (a file's,
/// those still pending, those not sent in time).
#[utoipa::path(get, path = "/v1/notifications", params(NotificationQuery),
    responses((status = 200, description = "The notifications", body = [NotificationDto])),
    security(("bearer" = [])), tag = "notifications")]
pub async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Json<Vec<NotificationDto>>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "from 1 to 200"));
    }
    let addressee = (!caller.reads_whole_tenant()).then(|| caller.subject.clone());
    let rows: Vec<NotificationDto> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications
         WHERE tenant = $1 AND ($2::text IS NULL OR addressee = $2)
           AND ($3::uuid IS NULL OR case_id = $3)
           AND (NOT $4 OR outcome IS NULL)
           AND (NOT $5 OR sending_overdue)
         ORDER BY issued_at DESC, notification_id LIMIT $6"
    ))
    .bind(caller.tenant.as_str())
    .bind(addressee)
    .bind(query.case)
    .bind(query.pending.unwrap_or(false))
    .bind(query.overdue.unwrap_or(false))
    .bind(i64::from(limit))
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(
        rows.into_iter().map(|r| r.for_caller(&caller)).collect(),
    ))
}

/// A notification: its addressee (or their representative) sees what it is about, and its text
/// once opened; staff see all of it.
#[utoipa::path(get, path = "/v1/notifications/{id}",
    params(("id" = Uuid, Path, description = "The notification")),
    responses((status = 200, description = "The notification", body = NotificationDto)),
    security(("bearer" = [])), tag = "notifications")]
pub async fn get_notification(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<NotificationDto>, ApiError> {
    let id = resource_id(&id, "notification")?;
    Ok(Json(visible(&state, &caller, id).await?))
}

/// The addressee (or their representative) opens an electronic notification: the access is
/// recorded with its moment and the notification takes effect that day (art. 43.2). Opening it
/// again records nothing. The text is then in `GET` of the `Location`.
#[utoipa::path(post, path = "/v1/notifications/{id}/access",
    params(("id" = Uuid, Path, description = "The notification")),
    request_body(content = Option<NoInput>, description = "No input"),
    responses((status = 200, description = "Opened", body = CommandResponse)),
    security(("bearer" = [])), tag = "notifications")]
pub async fn access_notification(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Citizen])?;
    let id = resource_id(&id, "notification")?;
    let row = visible(&state, caller, id).await?;
    let _: NoInput = incoming.json_or_default()?;
    let by: expedientes_domain::DocumentNumber = caller
        .subject
        .parse()
        .map_err(|_| ApiError::Forbidden("a citizen identified by a document number".into()))?;
    let for_the_addressee = row.addressee.as_deref() != Some(caller.subject.as_str());
    let now = state.clock.now();
    let on = crate::deadlines::local_date(&state, now);
    let ctx = CommandContext::open(&state, &incoming, &caller.tenant, NAME, "access")
        .await?
        .on_behalf_of(for_the_addressee.then(|| row.addressee.clone()).flatten());
    let executed = ctx
        .execute::<Notification>(&state, id, |_, _| Command::Access {
            by: by.clone(),
            for_the_addressee,
            at: now,
            on,
        })
        .await?;
    Ok(executed.reply(location(id)))
}

/// The day a letter was posted.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"on": "2026-03-03"}))]
pub struct DispatchInput {
    /// The day it was handed to the postal service (today by default; not before the act, not
    /// in the future).
    pub on: Option<NaiveDate>,
}

/// A caseworker records that the letter was posted (it cancels the warning of art. 40.2).
#[utoipa::path(post, path = "/v1/notifications/{id}/dispatch",
    params(("id" = Uuid, Path, description = "The notification")),
    request_body(content = Option<DispatchInput>, description = "The day"),
    responses((status = 200, description = "Recorded", body = CommandResponse)),
    security(("bearer" = [])), tag = "notifications")]
pub async fn dispatch_notification(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let id = resource_id(&id, "notification")?;
    let row = visible(&state, caller, id).await?;
    let input: DispatchInput = incoming.json_or_default()?;
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let on = crate::extract::past_date("on", input.on.unwrap_or(today), row.act_on, today)?;
    staff_command(
        &state,
        &incoming,
        &caller.tenant,
        id,
        "dispatch",
        move || Command::Dispatch { on, today },
    )
    .await
}

/// What an attempt found.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResultInput {
    /// Delivered (say to whom in `received_by`).
    Delivered,
    /// Nobody at the address.
    Absent,
    /// The addressee refused it (art. 41.5: the notification is done).
    Refused,
    /// The addressee is unknown at the address (the edict follows, art. 44).
    UnknownAtAddress,
}

/// A delivery attempt, as the postal worker's record says.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"at": "2026-03-04T10:15:00", "result": "absent"}))]
pub struct AttemptInput {
    /// The local moment of the attempt (the council's time zone), not before the letter was
    /// posted and not in the future.
    pub at: NaiveDateTime,
    /// What it found.
    pub result: AttemptResultInput,
    /// Delivered: who received it and their document.
    #[schema(max_length = 200)]
    pub received_by: Option<String>,
}

/// A caseworker records a paper delivery attempt. A delivery (or a refusal) takes effect that
/// day; a second attempt must be on one of the three business days after the first, on the
/// other side of 15:00 and three hours apart (art. 42.2); after two, the edict. One made later
/// counts as a first attempt again.
#[utoipa::path(post, path = "/v1/notifications/{id}/delivery-attempts",
    params(("id" = Uuid, Path, description = "The notification")),
    request_body = AttemptInput,
    responses((status = 200, description = "Recorded", body = CommandResponse)),
    security(("bearer" = [])), tag = "notifications")]
pub async fn record_delivery_attempt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let id = resource_id(&id, "notification")?;
    let row = visible(&state, caller, id).await?;
    let input: AttemptInput = incoming.json()?;
    let received_by = input.received_by.unwrap_or_default();
    if received_by.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            "received_by",
            "at most 200 characters",
        ));
    }
    let result = match input.result {
        AttemptResultInput::Delivered if received_by.trim().is_empty() => {
            return Err(ApiError::invalid_field(
                "received_by",
                "say who received the letter and their document",
            ))
        }
        AttemptResultInput::Delivered => AttemptResult::Delivered {
            received_by: received_by.trim().to_owned(),
        },
        AttemptResultInput::Absent => AttemptResult::Absent,
        AttemptResultInput::Refused => AttemptResult::Refused,
        AttemptResultInput::UnknownAtAddress => AttemptResult::UnknownAtAddress,
    };
    let now = state
        .clock
        .now()
        .with_timezone(&state.config.timezone)
        .naive_local();
    let at = input.at;
    // Art. 42.2: after a first attempt that found nobody, the second within the three business
    // days after it (arts. 30.2 and 42.2), counted with the council's calendar.
    let second_attempt_by = match row.attempts.last() {
        Some(first) if row.stage == "second_attempt_due" => {
            let day = first
                .at
                .get(..10)
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .ok_or_else(|| ApiError::Internal("an attempt without its day".into()))?;
            let calendar = crate::deadlines::calendar_for(&state, &caller.tenant).await?;
            Some(crate::deadlines::business_days_after(
                &calendar,
                &caller.tenant,
                day,
                3,
            )?)
        }
        _ => None,
    };
    crate::extract::past_date(
        "at",
        at.date(),
        row.dispatched_on.unwrap_or(row.act_on),
        now.date(),
    )?;
    if at > now {
        return Err(ApiError::invalid_field("at", "it cannot be in the future"));
    }
    staff_command(
        &state,
        &incoming,
        &caller.tenant,
        id,
        "attempt",
        move || Command::RecordAttempt {
            at,
            result: result.clone(),
            now,
            second_attempt_by,
        },
    )
    .await
}

/// An edict published in the BOE.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"on": "2026-03-12", "reference": "BOE-B-2026-1234"}))]
pub struct EdictInput {
    /// The day of publication (not before what it follows, not in the future).
    pub on: NaiveDate,
    /// The BOE's reference of the announcement.
    #[schema(max_length = 100)]
    pub reference: String,
}

/// A caseworker records the edict's publication in the BOE (art. 44): the notification takes
/// effect that day.
#[utoipa::path(post, path = "/v1/notifications/{id}/edict",
    params(("id" = Uuid, Path, description = "The notification")),
    request_body = EdictInput,
    responses((status = 200, description = "Recorded", body = CommandResponse)),
    security(("bearer" = [])), tag = "notifications")]
pub async fn publish_edict(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let id = resource_id(&id, "notification")?;
    let row = visible(&state, caller, id).await?;
    let input: EdictInput = incoming.json()?;
    if input.reference.trim().is_empty() || input.reference.chars().count() > 100 {
        return Err(ApiError::invalid_field("reference", "1 to 100 characters"));
    }
    let today = crate::deadlines::local_date(&state, state.clock.now());
    crate::extract::past_date("on", input.on, row.act_on, today)?;
    staff_command(&state, &incoming, &caller.tenant, id, "edict", move || {
        Command::PublishEdict {
            on: input.on,
            reference: input.reference.clone(),
            today,
        }
    })
    .await
}

async fn staff_command(
    state: &AppState,
    incoming: &Incoming,
    tenant: &MunicipalityCode,
    id: Uuid,
    label: &'static str,
    command: impl Fn() -> Command,
) -> Result<Response, ApiError> {
    let ctx = CommandContext::open(state, incoming, tenant, NAME, label).await?;
    let executed = ctx
        .execute::<Notification>(state, id, |_, _| command())
        .await?;
    Ok(executed.reply(location(id)))
}
