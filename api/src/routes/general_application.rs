//! The general application (instancia general) over HTTP: submit, ask for subsanación, extend it,
//! fix, resolve, withdraw. Every command goes through the pipeline (`crate::pipeline`).

use axum::extract::{Path, State};
use axum::response::Response;
use expedientes_domain::calendar::Unit;
use expedientes_domain::general_application::{
    Command, Decision, GeneralApplication, MAXIMUM_TIME,
};
use expedientes_domain::lpac::notification::{
    Act, ActKind, Addressee, CaseRef, Delivery, Notification,
};
use expedientes_domain::lpac::SubmissionKind;
use expedientes_domain::{
    CaseParty, DeadlineRule, DocumentNumber, MunicipalityCode, ParseError, PartyRole,
};
use expedientes_eventlog::{Streams, Until};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Role;
use crate::deadlines;
use crate::extract::resource_id;
use crate::pipeline::{CommandContext, CommandResponse, Incoming, NoInput};
use crate::problem::{ApiError, RefusalProblem};
use crate::procedures::Plugin;
use crate::routes::cases::visible_case;
use crate::routes::notifications::{prepare, ToNotify};
use crate::state::AppState;

/// The general application's registration.
pub const PLUGIN: Plugin = Plugin {
    name: "general application",
    register: |registry| registry.register::<GeneralApplication>(),
    read_models: Vec::new,
    routes: || {
        OpenApiRouter::new()
            .routes(routes!(submit))
            .routes(routes!(request_rectification))
            .routes(routes!(extend_rectification))
            .routes(routes!(rectify))
            .routes(routes!(resolve))
            .routes(routes!(withdraw))
    },
    notice: crate::procedures::no_notices,
};

const NAME: &str = <GeneralApplication as esrs::Aggregate>::NAME;

/// The extension of the period to fix an application: up to five business days (art. 68.2).
const EXTENSION_BUSINESS_DAYS: u32 = 5;

/// The act of a request to fix an application, as it is notified: what is missing, the ten
/// business days from the day after the notification, the warning of desistimiento and the
/// suspension of the time to resolve (arts. 68.1 and 22.1.a).
fn rectification_act(case_number: &str, what: &str, on: chrono::NaiveDate) -> Act {
    Act {
        kind: ActKind::RectificationRequest,
        summary: format!("Requerimiento de subsanación del expediente {case_number}"),
        text: format!(
            "En el expediente {case_number}, se le requiere para que, en el plazo de diez días \
             hábiles contados desde el día siguiente al de la notificación de este requerimiento, \
             subsane la solicitud: {what}. Si así no lo hiciera, se le tendrá por desistido de su \
             petición, previa resolución (art. 68.1 de la Ley 39/2015). El plazo máximo para \
             resolver queda suspendido desde esta notificación hasta su cumplimiento o, en su \
             defecto, hasta el fin del plazo concedido (art. 22.1.a)."
        ),
        on,
    }
}

/// Every refusal of a general application answers 409 in its own words.
impl RefusalProblem for expedientes_domain::general_application::Refusal {}

/// A person named in a request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// DNI, NIE or a legal person's NIF.
    pub document: String,
    /// Full name.
    #[schema(max_length = 200)]
    pub name: String,
}

/// A general application.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "Poda de un árbol frente al portal", "body": "El árbol de la calle de Toledo 10 tapa la farola.", "name": "Ana García"}))]
pub struct SubmitRequest {
    /// What is asked, in one line.
    #[schema(max_length = 300)]
    pub subject: String,
    /// The application's text.
    #[serde(default)]
    pub body: String,
    /// The applicant. A citizen applying for themselves leaves it out and gives `name`; a
    /// caseworker registering a paper application, or a representative, names the applicant.
    pub applicant: Option<PersonInput>,
    /// The caller's own name, when a citizen applies for themselves or as a representative.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// The applicant's municipality of residence (INE code, e.g. `08019`), when it is not the
    /// council's: its holidays are not business days for the file's deadlines either (art. 30.6).
    #[schema(max_length = 5)]
    pub residence: Option<String>,
    /// How the applicant is notified: `electronic` (in Mi Carpeta; the default, except for a
    /// paper application registered with an `address`) or `paper` (letters to `address`). A
    /// natural person may choose paper (art. 14.1 LPAC); a legal person is notified
    /// electronically (art. 14.2.a).
    pub notify_by: Option<NotifyByInput>,
    /// The postal address for letters (1 to 300 characters), with `notify_by: paper`.
    #[schema(max_length = 300)]
    pub address: Option<String>,
}

/// How an applicant is notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyByInput {
    /// In the electronic office (Mi Carpeta), with an aviso by e-mail when there is an account.
    Electronic,
    /// A letter to the address given.
    Paper,
}

/// How the applicant `applicant` asked to be notified, checked (arts. 14 and 41.1 LPAC).
fn notification_choice(
    input: &SubmitRequest,
    applicant: &DocumentNumber,
    registered_on_paper: bool,
) -> Result<Delivery, ApiError> {
    let address = match input.address.as_deref().map(str::trim) {
        None => None,
        Some(address) if address.is_empty() || address.chars().count() > 300 => {
            return Err(ApiError::invalid_field(
                "address",
                "give a postal address of 1 to 300 characters",
            ))
        }
        Some(address) if address.chars().any(char::is_control) => {
            return Err(ApiError::invalid_field(
                "address",
                "one line, without control characters",
            ))
        }
        Some(address) => Some(address.to_owned()),
    };
    let by = input
        .notify_by
        .unwrap_or(if registered_on_paper && address.is_some() {
            NotifyByInput::Paper
        } else {
            NotifyByInput::Electronic
        });
    match (by, address) {
        (NotifyByInput::Electronic, None) => Ok(Delivery::Electronic),
        (NotifyByInput::Electronic, Some(_)) => Err(ApiError::invalid_field(
            "address",
            "an address is for notifications on paper: leave it out, or choose notify_by paper",
        )),
        (NotifyByInput::Paper, _) if !applicant.is_natural_person() => {
            Err(ApiError::invalid_field(
                "notify_by",
                "a legal person is notified electronically (art. 14.2.a LPAC)",
            ))
        }
        (NotifyByInput::Paper, None) => Err(ApiError::invalid_field(
            "address",
            "give the postal address for notifications on paper",
        )),
        (NotifyByInput::Paper, Some(address)) => Ok(Delivery::Paper { address }),
    }
}

/// Ask the applicant to fix the application (art. 68 LPAC: 10 business days).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"what": "Falta la fotografía del árbol"}))]
pub struct RectificationRequestInput {
    /// What is missing or wrong.
    pub what: String,
}

/// The applicant's fix.
#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"note": "Adjunto la fotografía"}))]
pub struct RectificationInput {
    /// A note.
    #[serde(default)]
    pub note: String,
}

/// A resolution (art. 88 LPAC). The appeals that may be brought against it (reposición before
/// the body that resolved, within one month; contencioso-administrativo, within two) are
/// recorded with it, as its notification must state them (art. 40.2).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "granted", "grounds": "Procede la poda según el informe del servicio de arbolado", "body": "la Junta de Gobierno"}))]
pub struct ResolutionInput {
    /// `granted`, `denied`, or `desistimiento` (only when the period to fix the application ended
    /// without a fix, art. 68.1).
    pub decision: DecisionInput,
    /// The reasons (art. 35).
    #[schema(max_length = 10000)]
    pub grounds: String,
    /// The body that resolves, before which reposición is brought; by default "the same body
    /// that resolved".
    #[schema(max_length = 200)]
    pub body: Option<String>,
}

/// A decision.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionInput {
    /// Granted.
    Granted,
    /// Denied.
    Denied,
    /// The applicant is declared to have withdrawn (art. 68.1).
    Desistimiento,
}

/// A person named in a request, checked: a valid document number and a name of 1 to 200
/// characters.
pub(crate) fn parse_person(
    input: &PersonInput,
    field: &str,
) -> Result<(DocumentNumber, String), ApiError> {
    let document = input
        .document
        .parse::<DocumentNumber>()
        .map_err(|e| ApiError::invalid_field(&format!("{field}.document"), e.to_string()))?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            &format!("{field}.name"),
            "give a name of 1 to 200 characters",
        ));
    }
    Ok((document, name.to_owned()))
}

fn location(id: Uuid) -> String {
    format!("/v1/cases/{id}")
}

/// Files a general application.
#[utoipa::path(post, path = "/v1/general-applications", request_body = SubmitRequest,
    responses((status = 201, description = "Filed: the new file", body = CommandResponse)),
    security(("bearer" = [])), tag = "general applications")]
pub async fn submit(
    State(state): State<AppState>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Citizen, Role::Caseworker])?;
    let input: SubmitRequest = incoming.json()?;
    let subject = input.subject.trim().to_owned();
    if subject.is_empty() || subject.chars().count() > 300 {
        return Err(ApiError::invalid_field(
            "subject",
            "give a subject of 1 to 300 characters",
        ));
    }
    if input.body.len() > 100_000 {
        return Err(ApiError::invalid_field(
            "body",
            "at most 100,000 characters",
        ));
    }
    if input
        .name
        .as_deref()
        .is_some_and(|n| n.trim().chars().count() > 200)
    {
        return Err(ApiError::invalid_field("name", "at most 200 characters"));
    }
    let mut on_behalf_of = None;
    let mut channel = None;
    let parties = match (caller.role, &input.applicant, &caller.document) {
        (Role::Citizen, None, Some(own)) => {
            let name = input.name.as_deref().map(str::trim).unwrap_or("");
            if name.is_empty() {
                return Err(ApiError::invalid_field("name", "give your name"));
            }
            vec![CaseParty {
                document: own.clone(),
                name: name.to_owned(),
                role: PartyRole::Interested,
            }]
        }
        (Role::Citizen, Some(applicant), Some(own)) => {
            // Acting as a representative (art. 5): only with a representation on record, in
            // force today and covering this procedure; the events record who acted for whom.
            let (document, name) = parse_person(applicant, "applicant")?;
            if &document == own {
                return Err(ApiError::invalid_field(
                    "applicant",
                    "leave it out to apply for yourself",
                ));
            }
            let today = deadlines::local_date(&state, state.clock.now());
            if !crate::routes::representations::in_force(
                &state,
                &caller.tenant,
                &document,
                own,
                NAME,
                today,
            )
            .await?
            {
                return Err(ApiError::Forbidden(format!(
                    "you have no representation of {document} on record for this procedure (art. 5 LPAC): they can grant you one apud acta, online with a certificate or in person"
                )));
            }
            let own_name = input.name.as_deref().map(str::trim).unwrap_or("");
            if own_name.is_empty() {
                return Err(ApiError::invalid_field(
                    "name",
                    "give your name as the representative",
                ));
            }
            on_behalf_of = Some(document.to_string());
            vec![
                CaseParty {
                    document,
                    name,
                    role: PartyRole::Interested,
                },
                CaseParty {
                    document: own.clone(),
                    name: own_name.to_owned(),
                    role: PartyRole::Representative,
                },
            ]
        }
        (Role::Caseworker, Some(applicant), _) => {
            let (document, name) = parse_person(applicant, "applicant")?;
            on_behalf_of = Some(document.to_string());
            channel = Some("in_person_registry");
            vec![CaseParty {
                document,
                name,
                role: PartyRole::Interested,
            }]
        }
        (Role::Caseworker, None, _) => {
            return Err(ApiError::invalid_field(
                "applicant",
                "name the applicant whose application you register",
            ))
        }
        _ => {
            return Err(ApiError::Forbidden(
                "this role may not file applications".into(),
            ))
        }
    };
    let applicant = &parties
        .iter()
        .find(|p| p.role == PartyRole::Interested)
        .ok_or_else(|| ApiError::Internal("an application without its applicant".into()))?
        .document;
    let notify_by = notification_choice(&input, applicant, channel.is_some())?;
    let tenant = caller.tenant.clone();
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "submit")
        .await?
        .on_behalf_of(on_behalf_of);
    if let Some(channel) = channel {
        ctx = ctx.channel(channel);
    }
    // The same Idempotency-Key always names the same new file.
    let case_id = ctx.new_stream_id();
    if let Some(earlier) = ctx.earlier(&state, case_id).await? {
        return Ok(earlier.reply(location(case_id)));
    }
    let now = state.clock.now();
    let calendar = deadlines::calendar_for(&state, &tenant).await?;
    let residence: Option<MunicipalityCode> = match input.residence.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => {
            let code: MunicipalityCode = code
                .parse()
                .map_err(|e: ParseError| ApiError::invalid_field("residence", e.reason))?;
            calendar
                .places(Some(tenant.as_str()), Some(code.as_str()))
                .map_err(|e| ApiError::invalid_field("residence", e.to_string()))?;
            Some(code)
        }
    };
    let filed = deadlines::registry_entry(&state, &calendar, &tenant, now);
    let filed_on = deadlines::local_date(&state, filed);
    // Art. 21.3.b: the maximum time counts from the entry of the application in the registry;
    // its last day is moved off a holiday at the seat or the residence (arts. 30.5, 30.6).
    let resolution_due = deadlines::due_at(
        &calendar,
        &tenant,
        residence.as_ref(),
        filed_on,
        MAXIMUM_TIME.months,
        Unit::Months,
    )?;
    let case_number = crate::case_numbers::next(&state, &tenant, filed_on).await?;
    let entry =
        crate::registry_entries::enter(&state, &tenant, SubmissionKind::Application, now, filed)
            .await?;
    let sia_code = state.config.sia_code(NAME);
    let executed = ctx
        .execute::<GeneralApplication>(&state, case_id, |_, _| Command::Submit {
            residence: residence.clone(),
            case_number: case_number.clone(),
            sia_code: sia_code.clone(),
            parties: parties.clone(),
            subject: subject.clone(),
            body: input.body.clone(),
            at: filed,
            entry: entry.clone(),
            resolution_due,
            max_time_rule: Some(DeadlineRule::new(
                filed_on,
                MAXIMUM_TIME.months,
                Unit::Months,
                residence.as_ref(),
            )),
            notify_by: notify_by.clone(),
        })
        .await?;
    Ok(executed.reply(location(case_id)))
}

/// Refuses a command the file as loaded refuses, before anything is spent for it (the exit
/// number of its notification); the command is decided again in its append.
fn refused_first(
    file: &expedientes_domain::general_application::State,
    command: Command,
) -> Result<(), ApiError> {
    <GeneralApplication as esrs::Aggregate>::handle_command(file, command)
        .map(|_| ())
        .map_err(RefusalProblem::into_problem)
}

/// Which case command a route carries out.
#[derive(Debug, Clone, Copy)]
enum CaseCommand {
    RequestRectification,
    ExtendRectification,
    Rectify,
    Resolve,
    Withdraw,
}

async fn case_command(
    state: AppState,
    id: String,
    incoming: Incoming,
    which: CaseCommand,
) -> Result<Response, ApiError> {
    let id = resource_id(&id, "file")?;
    let caller = incoming.caller()?;
    let allowed: &[Role] = match which {
        CaseCommand::RequestRectification
        | CaseCommand::ExtendRectification
        | CaseCommand::Resolve => &[Role::Caseworker],
        CaseCommand::Rectify | CaseCommand::Withdraw => &[Role::Citizen, Role::Caseworker],
    };
    // A citizen who is not a party gets 404 before the role check can tell the file exists.
    let row = visible_case(&state, caller, id).await?;
    caller.require(allowed)?;
    if row.procedure != NAME {
        return Err(ApiError::NotFound("no such general application".into()));
    }
    let now = state.clock.now();
    let today = deadlines::local_date(&state, now);
    let tenant = caller.tenant.clone();
    let calendar = deadlines::calendar_for(&state, &tenant).await?;
    let label = match which {
        CaseCommand::RequestRectification => "request_rectification",
        CaseCommand::ExtendRectification => "extend_rectification",
        CaseCommand::Rectify => "rectify",
        CaseCommand::Resolve => "resolve",
        CaseCommand::Withdraw => "withdraw",
    };
    let ctx = CommandContext::open(&state, &incoming, &tenant, NAME, label).await?;
    // A retry is answered from its first outcome, before anything is allocated for it (a
    // registry number, a notification).
    if let Some(earlier) = ctx.earlier(&state, id).await? {
        return Ok(earlier.reply(location(id)));
    }
    // The file as it is: how its applicant is notified, its rules and suspensions.
    let file = state
        .log
        .load_aggregate::<GeneralApplication>(tenant.as_str(), id, Until::End)
        .await?
        .state;
    let case = CaseRef {
        stream_type: NAME.to_owned(),
        stream_id: id,
        case_number: row
            .case_number
            .parse()
            .map_err(|_| ApiError::Internal("a file number that does not parse".into()))?,
    };
    let applicant = row
        .parties
        .0
        .iter()
        .find(|p| p.role == PartyRole::Interested)
        .map(|p| Addressee {
            document: p.document.clone(),
            name: p.name.clone(),
        })
        .ok_or_else(|| ApiError::Internal("an application without its applicant".into()))?;
    // Acts are notified to the applicant (art. 40.1) as they chose when applying (art. 41.1),
    // in the same append as the act.
    let notify = |act: Act| ToNotify {
        act,
        addressee: Some(applicant.clone()),
        delivery: file.notify_by.clone(),
    };
    let (input, notification) = match which {
        CaseCommand::RequestRectification => {
            let input: RectificationRequestInput = incoming.json()?;
            let what = input.what.trim();
            if what.is_empty() || what.chars().count() > 2_000 {
                return Err(ApiError::invalid_field(
                    "what",
                    "say what must be fixed, in 1 to 2,000 characters",
                ));
            }
            refused_first(
                &file,
                Command::RequestRectification {
                    what: what.to_owned(),
                    at: now,
                    notification: Uuid::nil(),
                },
            )?;
            let notification = prepare(
                &state,
                &ctx,
                case,
                notify(rectification_act(&row.case_number, what, today)),
            )
            .await?;
            (
                Command::RequestRectification {
                    what: what.to_owned(),
                    at: now,
                    notification: notification.0,
                },
                Some(notification),
            )
        }
        CaseCommand::ExtendRectification => {
            let _: NoInput = incoming.json_or_default()?;
            // The new last day depends on the current one: computed in the decision below.
            (
                Command::ExtendRectification {
                    at: now,
                    due: today,
                    rule: None,
                    resolution_due_if_unanswered: today,
                },
                None,
            )
        }
        CaseCommand::Rectify => {
            let input: RectificationInput = incoming.json_or_default()?;
            if input.note.chars().count() > 10_000 {
                return Err(ApiError::invalid_field("note", "at most 10,000 characters"));
            }
            let counts_from = deadlines::registry_entry(&state, &calendar, &tenant, now);
            (
                Command::Rectify {
                    note: input.note,
                    at: counts_from,
                    entry: crate::registry_entries::enter(
                        &state,
                        &tenant,
                        SubmissionKind::Rectification,
                        now,
                        counts_from,
                    )
                    .await?,
                    // The maximum time once the suspension ends: computed in the decision below.
                    resolution_due: today,
                    max_time_rule: None,
                },
                None,
            )
        }
        CaseCommand::Resolve => {
            let input: ResolutionInput = incoming.json()?;
            let (reasons, appeals) = crate::routes::notifications::resolution_parts(
                input.grounds,
                input.body.as_deref(),
            )?;
            let decision = match input.decision {
                DecisionInput::Granted => Decision::Granted,
                DecisionInput::Denied => Decision::Denied,
                DecisionInput::Desistimiento => Decision::Desistimiento,
            };
            let decided = match decision {
                Decision::Granted => "se estima la solicitud",
                Decision::Denied => "se desestima la solicitud",
                Decision::Desistimiento => {
                    "se declara el desistimiento de la solicitud por no haberse subsanado en plazo \
                     (art. 68.1 de la Ley 39/2015) y se archiva"
                }
            };
            let act = crate::routes::notifications::resolution_act(
                &row.case_number,
                decided,
                reasons.as_str(),
                &appeals,
                today,
            );
            let command = Command::Resolve {
                decision,
                reasons,
                appeals,
                at: now,
            };
            refused_first(&file, command.clone())?;
            let notification = prepare(&state, &ctx, case, notify(act)).await?;
            (command, Some(notification))
        }
        CaseCommand::Withdraw => {
            let _: NoInput = incoming.json_or_default()?;
            (Command::Withdraw { at: now }, None)
        }
    };
    let mut streams = Streams::of::<GeneralApplication>(id);
    if let Some((notification, _)) = &notification {
        streams = streams.and::<Notification>(*notification);
    }
    let executed = ctx
        .run(&state, id, streams, |decision| -> Result<(), ApiError> {
            let current = decision.state::<GeneralApplication>(id);
            let command = match &input {
                Command::ExtendRectification { at, .. } => {
                    // Art. 68.2: up to five more business days, from the current last day (the
                    // rule counts fifteen from the request's notification).
                    let rule = current.rectification_rule.clone().map(|mut rule| {
                        rule.amount += EXTENSION_BUSINESS_DAYS;
                        rule
                    });
                    let due = match (&rule, current.rectification_due) {
                        (Some(rule), _) => rule
                            .due(&calendar, tenant.as_str())
                            .map_err(deadlines::calendar_problem)?,
                        (None, from) => deadlines::due_at(
                            &calendar,
                            &tenant,
                            current.residence.as_ref(),
                            from.unwrap_or(today),
                            EXTENSION_BUSINESS_DAYS,
                            Unit::BusinessDays,
                        )?,
                    };
                    // Art. 22.1.a: unanswered, the maximum time stands still until the
                    // extended period's end.
                    let (resolution_due_if_unanswered, _) = current
                        .resumed_maximum_time(
                            current.suspended_on.unwrap_or(today),
                            due,
                            &calendar,
                            tenant.as_str(),
                        )
                        .map_err(deadlines::calendar_problem)?;
                    Command::ExtendRectification {
                        at: *at,
                        due,
                        rule,
                        resolution_due_if_unanswered,
                    }
                }
                Command::Rectify {
                    note, at, entry, ..
                } => {
                    // Art. 22.1.a: the maximum time stood still from the request's notification
                    // until today's fix; a fix before the request took effect suspended nothing.
                    let (resolution_due, max_time_rule) = match current.suspended_on {
                        Some(on) => current
                            .resumed_maximum_time(on, today, &calendar, tenant.as_str())
                            .map_err(deadlines::calendar_problem)?,
                        None => (
                            current.resolution_due.unwrap_or(today),
                            current.max_time_rule.clone(),
                        ),
                    };
                    Command::Rectify {
                        note: note.clone(),
                        at: *at,
                        entry: entry.clone(),
                        resolution_due,
                        max_time_rule,
                    }
                }
                other => other.clone(),
            };
            decision
                .handle::<GeneralApplication>(id, command)
                .map_err(RefusalProblem::into_problem)?;
            if let Some((notification, issue)) = &notification {
                decision
                    .handle::<Notification>(*notification, issue.clone())
                    .map_err(RefusalProblem::into_problem)?;
            }
            Ok(())
        })
        .await?;
    Ok(executed.reply(location(id)))
}

macro_rules! case_route {
    ($name:ident, $which:expr, $path:literal, $body:ty, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, request_body = $body,
                    params(("id" = Uuid, Path, description = "The file")),
                    responses((status = 200, description = "Carried out", body = CommandResponse)),
                    security(("bearer" = [])), tag = "general applications")]
        pub async fn $name(
            State(state): State<AppState>,
            Path(id): Path<String>,
            incoming: Incoming,
        ) -> Result<Response, ApiError> {
            case_command(state, id, incoming, $which).await
        }
    };
}

case_route!(
    request_rectification,
    CaseCommand::RequestRectification,
    "/v1/cases/{id}/rectification-requests",
    RectificationRequestInput,
    "A caseworker asks the applicant to fix the application (10 business days)."
);
case_route!(
    extend_rectification,
    CaseCommand::ExtendRectification,
    "/v1/cases/{id}/rectification-extensions",
    NoInput,
    "A caseworker extends the period to fix the application by 5 business days, once."
);
case_route!(
    rectify,
    CaseCommand::Rectify,
    "/v1/cases/{id}/rectifications",
    RectificationInput,
    "The applicant fixes the application."
);
case_route!(
    resolve,
    CaseCommand::Resolve,
    "/v1/cases/{id}/resolutions",
    ResolutionInput,
    "A caseworker resolves."
);
case_route!(
    withdraw,
    CaseCommand::Withdraw,
    "/v1/cases/{id}/withdrawals",
    NoInput,
    "The applicant withdraws (or a caseworker records a withdrawal filed on paper)."
);
