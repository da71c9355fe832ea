//! The general application (instancia general) over HTTP: submit, ask for subsanación, extend it,
//! fix, resolve, withdraw. Every command goes through the pipeline (`crate::pipeline`).

use axum::extract::{Path, State};
use axum::response::Response;
use expedientes_domain::calendar::Unit;
use expedientes_domain::general_application::{
    Command, Decision, GeneralApplication, MAXIMUM_TIME,
};
use expedientes_domain::lpac::notification::{Addressee, CaseRef, Delivery, Notification};
use expedientes_domain::lpac::SubmissionKind;
use expedientes_domain::{
    CaseParty, DeadlineRule, DocumentNumber, MunicipalityCode, ParseError, PartyRole,
};
use expedientes_eventlog::Streams;
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
            max_time_rule: Some(DeadlineRule {
                residence: residence.as_ref().map(|r| r.to_string()),
                from: filed_on,
                amount: MAXIMUM_TIME.months,
                unit: Unit::Months,
            }),
        })
        .await?;
    Ok(executed.reply(location(case_id)))
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
    let input = match which {
        CaseCommand::RequestRectification => {
            let input: RectificationRequestInput = incoming.json()?;
            if input.what.trim().is_empty() {
                return Err(ApiError::invalid_field("what", "say what must be fixed"));
            }
            // The request is notified electronically when issued; the 10 days start the next day
            // (counted in the decision, with the applicant's residence, art. 30.6). The maximum
            // time if unanswered depends on the file too.
            Command::RequestRectification {
                residence: None,
                what: input.what.trim().to_owned(),
                at: now,
                on: today,
                due: today,
                resolution_due_if_unanswered: today,
            }
        }
        CaseCommand::ExtendRectification => {
            let _: NoInput = incoming.json_or_default()?;
            // The new last day depends on the current one: computed in the decision below.
            Command::ExtendRectification {
                at: now,
                due: today,
                resolution_due_if_unanswered: today,
            }
        }
        CaseCommand::Rectify => {
            let input: RectificationInput = incoming.json_or_default()?;
            let counts_from = deadlines::registry_entry(&state, &calendar, &tenant, now);
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
            }
        }
        CaseCommand::Resolve => {
            let input: ResolutionInput = incoming.json()?;
            let (reasons, appeals) = crate::routes::notifications::resolution_parts(
                input.grounds,
                input.body.as_deref(),
            )?;
            Command::Resolve {
                decision: match input.decision {
                    DecisionInput::Granted => Decision::Granted,
                    DecisionInput::Denied => Decision::Denied,
                    DecisionInput::Desistimiento => Decision::Desistimiento,
                },
                reasons,
                appeals,
                at: now,
            }
        }
        CaseCommand::Withdraw => {
            let _: NoInput = incoming.json_or_default()?;
            Command::Withdraw { at: now }
        }
    };
    // A resolution is notified to the applicant (art. 40.1) in the electronic office, where the
    // application was filed (art. 41.1), in the same append.
    let notification = match &input {
        Command::Resolve {
            decision,
            reasons,
            appeals,
            ..
        } => {
            let applicant = row
                .parties
                .0
                .iter()
                .find(|p| p.role == PartyRole::Interested)
                .ok_or_else(|| ApiError::Internal("an application without its applicant".into()))?;
            let decided = match decision {
                Decision::Granted => "se estima la solicitud",
                Decision::Denied => "se desestima la solicitud",
                Decision::Desistimiento => {
                    "se declara el desistimiento de la solicitud por no haberse subsanado en plazo \
                     (art. 68.1 de la Ley 39/2015) y se archiva"
                }
            };
            Some(
                crate::routes::notifications::prepare(
                    &state,
                    &ctx,
                    CaseRef {
                        stream_type: NAME.to_owned(),
                        stream_id: id,
                        case_number: row.case_number.parse().map_err(|_| {
                            ApiError::Internal("a file number that does not parse".into())
                        })?,
                    },
                    crate::routes::notifications::ToNotify {
                        act: crate::routes::notifications::resolution_act(
                            &row.case_number,
                            decided,
                            reasons.as_str(),
                            appeals,
                            today,
                        ),
                        addressee: Some(Addressee {
                            document: applicant.document.clone(),
                            name: applicant.name.clone(),
                        }),
                        delivery: Delivery::Electronic,
                    },
                )
                .await?,
            )
        }
        _ => None,
    };
    let mut streams = Streams::of::<GeneralApplication>(id);
    if let Some((notification, _)) = &notification {
        streams = streams.and::<Notification>(*notification);
    }
    let executed = ctx
        .run(&state, id, streams, |decision| -> Result<(), ApiError> {
            let current = decision.state::<GeneralApplication>(id);
            // Art. 22.1.a: the maximum time stands still from the notification of the request
            // to fix until the fix, or else until the period's last day; the suspended
            // business days are added to its last day.
            // Art. 30.6: a holiday at the applicant's residence is not a business day either.
            let residence = current.residence.as_ref();
            let suspended = |from, to| {
                let due = current.resolution_due.unwrap_or(to);
                deadlines::after_suspension_at(&calendar, &tenant, residence, due, from, to)
            };
            let command = match &input {
                Command::RequestRectification { what, at, on, .. } => {
                    let due = deadlines::due_at(
                        &calendar,
                        &tenant,
                        residence,
                        *on,
                        expedientes_domain::general_application::RECTIFICATION_BUSINESS_DAYS,
                        Unit::BusinessDays,
                    )?;
                    Command::RequestRectification {
                        residence: current.residence.clone(),
                        what: what.clone(),
                        at: *at,
                        on: *on,
                        due,
                        resolution_due_if_unanswered: suspended(*on, due)?,
                    }
                }
                Command::ExtendRectification { at, .. } => {
                    // Art. 68.2: up to five more business days, from the current last day.
                    let from = current.rectification_due.unwrap_or(today);
                    let due = deadlines::due_at(
                        &calendar,
                        &tenant,
                        residence,
                        from,
                        5,
                        Unit::BusinessDays,
                    )?;
                    Command::ExtendRectification {
                        at: *at,
                        due,
                        resolution_due_if_unanswered: suspended(
                            current.suspended_on.unwrap_or(today),
                            due,
                        )?,
                    }
                }
                Command::Rectify {
                    note, at, entry, ..
                } => Command::Rectify {
                    note: note.clone(),
                    at: *at,
                    entry: entry.clone(),
                    resolution_due: match current.suspended_on {
                        Some(on) => suspended(on, today)?,
                        None => current.resolution_due.unwrap_or(today),
                    },
                },
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
