//! Removal files for wrong inscription (baja por inscripción indebida) over HTTP: the opening, ex
//! officio or at a person's request, and the file's steps. The file and the person's inscription
//! change together, in one atomic command; the file's view is the case view (`/v1/cases/{id}`).

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use expedientes_domain::calendar::Unit;
use expedientes_domain::lpac::notification::{
    Act, ActKind, Addressee, CaseRef, Command as NotificationCommand, Delivery, EdictReason,
    Notification,
};
use expedientes_domain::lpac::{Appeal, SubmissionKind};
use expedientes_domain::padron::{
    FileCommand, FileDecision, FileStage, Inscription, InscriptionCommand, RemovalBasis,
    RemovalCause, RemovalFile, RemovalRequest, RequestCommand, REPORT_WAIT_MONTHS,
};
use expedientes_domain::{CaseNumber, CaseParty, DeadlineRule, MunicipalityCode, PartyRole};
use expedientes_eventlog::Streams;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::PadronRefusal;
use super::{inscription_id, row, REMOVAL_FILE};
use crate::auth::Role;
use crate::extract::resource_id;
use crate::pipeline::{CommandContext, CommandResponse, Executed, Incoming};
use crate::problem::{ApiError, RefusalProblem};
use crate::state::AppState;

fn location(file: Uuid) -> String {
    format!("/v1/cases/{file}")
}

/// Opening a removal file ex officio.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"inscription_id": "6f1c2a4e-35b4-5d7e-9a43-0c1b2d3e4f50", "reason": "the police report that nobody lives there", "notify_by": "paper"}))]
pub struct OpenFileInput {
    /// The inscription concerned.
    pub inscription_id: Uuid,
    /// Why the file is opened.
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
    /// How the opening is notified to the person (a letter by default).
    pub notify_by: Option<NotifyBy>,
    /// For a letter: the address, when it is not the inscribed dwelling's.
    #[schema(max_length = 300)]
    pub address: Option<String>,
}

/// How a removal file's opening is notified to the inscribed person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyBy {
    /// A letter to the inscribed address (or to `address`): two attempts, then the edict.
    #[default]
    Paper,
    /// In the electronic office, when the person chose it or must use it (art. 41.1).
    Electronic,
    /// The person's whereabouts are unknown: the edict at once (art. 44).
    EdictAddressUnknown,
}

/// How the file's acts are notified, as chosen at its opening.
#[derive(Debug, Clone, Default)]
pub(super) struct NotifyChoice {
    /// The channel.
    pub by: NotifyBy,
    /// A letter's address other than the inscribed dwelling's.
    pub address: Option<String>,
}

/// A caseworker opens a removal file for wrong inscription ex officio, with the reason. (A
/// person's request is submitted to `/v1/padron/removal-requests` and examined first.) The file
/// and the person's inscription change together.
#[utoipa::path(post, path = "/v1/padron/removal-files", request_body = OpenFileInput,
    responses((status = 201, description = "Opened: the new file", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn open_file(
    State(state): State<AppState>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let input: OpenFileInput = incoming.json()?;
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(ApiError::invalid_field(
            "reason",
            "say why the file is opened, in 1 to 2000 characters",
        ));
    }
    let basis = RemovalBasis::ExOfficio {
        reason: reason.to_owned(),
    };
    row(&state, &caller.tenant, input.inscription_id).await?;
    if let Some(address) = &input.address {
        if address.trim().is_empty() || address.chars().count() > 300 {
            return Err(ApiError::invalid_field("address", "1 to 300 characters"));
        }
    }
    let notify = NotifyChoice {
        by: input.notify_by.unwrap_or_default(),
        address: input.address.map(|a| a.trim().to_owned()),
    };
    let ctx = CommandContext::open(&state, &incoming, &caller.tenant, REMOVAL_FILE, "open").await?;
    let executed = open_removal_file(&state, &ctx, input.inscription_id, basis, notify).await?;
    let file = executed.id();
    Ok(executed.reply(location(file)))
}

/// Opens a removal file against an inscription, changing the file and the inscription together.
/// The file's id derives from the command's, so a retry names the same file.
pub(super) async fn open_removal_file(
    state: &AppState,
    ctx: &CommandContext,
    target: Uuid,
    basis: RemovalBasis,
    notify: NotifyChoice,
) -> Result<Executed, ApiError> {
    let tenant = ctx.tenant.clone();
    let file = ctx.new_stream_id();
    if let Some(earlier) = ctx.earlier(state, file).await? {
        return Ok(earlier);
    }
    let inscription = row(state, &tenant, target).await?;
    let now = state.clock.now();
    let on = crate::deadlines::local_date(state, now);
    let calendar = crate::deadlines::calendar_for(state, &tenant).await?;
    // Art. 21.3: three months unless the council configures otherwise.
    let max_time_due = crate::deadlines::months_after(
        &calendar,
        &tenant,
        on,
        state.config.removal_file_max_months,
    )?;
    let case_number = crate::case_numbers::next(state, &tenant, on).await?;
    let person = CaseParty {
        document: inscription
            .document
            .parse()
            .map_err(|_| ApiError::Internal("an inscribed document that does not parse".into()))?,
        name: inscription.name.clone(),
        role: PartyRole::Interested,
    };
    let sia_code = state.config.sia_code(REMOVAL_FILE);
    // At a person's request, the requester's own inscription (if they are inscribed here) records
    // the request in the same append: it refuses while a file is open against them. The request
    // itself records the file.
    let (requester, request) = match &basis {
        RemovalBasis::Request {
            requester, request, ..
        } => {
            // Checked when the request was submitted (seed 004); a file opened against the
            // requester since does not stop the one they asked for: the request is then not
            // recorded on their inscription, which refuses it while that file is open.
            let own = inscription_id(state, &tenant, requester).await?;
            let own = row(state, &tenant, own)
                .await
                .ok()
                .filter(|r| r.open_removal_file.is_none() && r.removed_on.is_none())
                .map(|_| own)
                .filter(|own| *own != target);
            (own, *request)
        }
        RemovalBasis::ExOfficio { .. } => (None, None),
    };
    // The opening is notified to the person with the hearing it gives (art. 82 LPAC), in the
    // same append.
    let reason = match &basis {
        RemovalBasis::ExOfficio { reason } => reason.clone(),
        RemovalBasis::Request { .. } => {
            "a solicitud de una persona interesada, que manifiesta que no reside en el domicilio"
                .to_owned()
        }
    };
    let act = Act {
        kind: ActKind::Opening,
        summary: format!(
            "Inicio del expediente {case_number} de baja por inscripción indebida en el padrón"
        ),
        text: format!(
            "Se inicia el expediente {case_number} de baja de oficio por inscripción indebida de \
             {name} en el padrón municipal, en {address} ({reason}). Dispone de quince días \
             hábiles, contados desde el día siguiente al de esta notificación, para manifestar si \
             está o no de acuerdo con la baja, alegar y presentar los documentos que estime \
             pertinentes (art. 72 del Reglamento de Población y Demarcación Territorial y art. 82 \
             de la Ley 39/2015).",
            name = person.name,
            address = inscription.address,
        ),
        on,
    };
    let (notification, issue) = notify_person(
        state,
        ctx,
        file,
        &case_number,
        &person,
        &notify,
        &inscription.address,
        act,
    )
    .await?;
    let mut streams = Streams::of::<RemovalFile>(file)
        .and::<Inscription>(target)
        .and::<Notification>(notification);
    if let Some(own) = requester {
        streams = streams.and::<Inscription>(own);
    }
    if let Some(request) = request {
        streams = streams.and::<RemovalRequest>(request);
    }
    ctx.run(
        state,
        file,
        streams,
        |decision| -> Result<(), PadronRefusal> {
            decision.handle::<Notification>(notification, issue.clone())?;
            decision.handle::<RemovalFile>(
                file,
                FileCommand::Open {
                    // The request, if any, holds the registry entry.
                    entry: None,
                    case_number: case_number.clone(),
                    sia_code: sia_code.clone(),
                    person: person.clone(),
                    inscription: target,
                    basis: basis.clone(),
                    on,
                    max_time_due,
                    max_time_rule: Some(DeadlineRule::new(
                        on,
                        state.config.removal_file_max_months,
                        Unit::Months,
                        None,
                    )),
                },
            )?;
            decision.handle::<Inscription>(
                target,
                InscriptionCommand::RecordRemovalFileOpened { file, on },
            )?;
            if let Some(own) = requester {
                decision.handle::<Inscription>(
                    own,
                    InscriptionCommand::RequestRemovalOf { file, target, on },
                )?;
            }
            if let Some(request) = request {
                decision.handle::<RemovalRequest>(
                    request,
                    RequestCommand::RecordFileOpened { file, on },
                )?;
            }
            Ok(())
        },
    )
    .await
}

/// The notification of one of the file's acts to the inscribed person, by the channel chosen at
/// the opening.
#[allow(clippy::too_many_arguments)]
async fn notify_person(
    state: &AppState,
    ctx: &CommandContext,
    file: Uuid,
    case_number: &CaseNumber,
    person: &CaseParty,
    notify: &NotifyChoice,
    inscribed_address: &str,
    act: Act,
) -> Result<(Uuid, NotificationCommand), ApiError> {
    let delivery = match notify.by {
        NotifyBy::Paper => Delivery::Paper {
            address: notify
                .address
                .clone()
                .unwrap_or_else(|| inscribed_address.to_owned()),
        },
        NotifyBy::Electronic => Delivery::Electronic,
        NotifyBy::EdictAddressUnknown => Delivery::Edict {
            reason: EdictReason::AddressUnknown,
        },
    };
    crate::routes::notifications::prepare(
        state,
        ctx,
        CaseRef {
            stream_type: REMOVAL_FILE.to_owned(),
            stream_id: file,
            case_number: case_number.clone(),
        },
        crate::routes::notifications::ToNotify {
            act,
            addressee: Some(Addressee {
                document: person.document.clone(),
                name: person.name.clone(),
            }),
            delivery,
        },
    )
    .await
}

/// How the opening of a file was notified (its resolution goes the same way; after an edict, by
/// edict again, the whereabouts being unknown).
async fn opening_choice(
    state: &AppState,
    tenant: &MunicipalityCode,
    file: Uuid,
) -> Result<NotifyChoice, ApiError> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT channel, address, outcome FROM notifications
         WHERE tenant = $1 AND case_id = $2 AND act_kind = 'opening'
         ORDER BY issued_at LIMIT 1",
    )
    .bind(tenant.as_str())
    .bind(file)
    .fetch_optional(&state.pool)
    .await?;
    Ok(match row {
        Some((channel, _, _)) if channel == "electronic" => NotifyChoice {
            by: NotifyBy::Electronic,
            address: None,
        },
        Some((channel, _, outcome))
            if channel == "edict" || outcome.as_deref() == Some("edict") =>
        {
            NotifyChoice {
                by: NotifyBy::EdictAddressUnknown,
                address: None,
            }
        }
        Some((_, address, _)) => NotifyChoice {
            by: NotifyBy::Paper,
            address,
        },
        None => NotifyChoice::default(),
    })
}

/// A step of a removal file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStep {
    /// The person filed allegations (the person or a caseworker).
    Allegations,
    /// The person agreed to the removal (the person or a caseworker).
    Agreement,
    /// The person regularised their situation (a caseworker, having recorded the padrón act that
    /// does it; a change of address of the inscription records it by itself).
    Regularised,
    /// The Consejo de Empadronamiento's report is requested (suspends the maximum time).
    RequestReport,
    /// The report is favourable to the removal.
    ReportFavourable,
    /// The report is unfavourable.
    ReportUnfavourable,
    /// Resolved: removal.
    ResolveRemove,
    /// Resolved: archive.
    ResolveArchive,
    /// The maximum time passed (the file shows `lapse_proposed`): the lapse is declared by
    /// resolution and the file archived (art. 25.1.b), with its reasons and appeals.
    DeclareLapse,
    /// A file that lapsed releases the person's inscription (the lapse's follow-up does it by
    /// itself; this step does it by hand, e.g. for a file that lapsed before follow-ups existed).
    ReleaseLapsed,
}

impl FileStep {
    /// The steps the person concerned may record themselves.
    fn is_the_persons(self) -> bool {
        matches!(self, FileStep::Allegations | FileStep::Agreement)
    }
}

/// A removal file's step.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"step": "request_report"}))]
pub struct FileStepInput {
    /// The step.
    pub step: FileStep,
    /// For allegations: a summary.
    pub summary: Option<String>,
    /// For a resolution: its reasons (art. 35).
    #[schema(max_length = 10000)]
    pub grounds: Option<String>,
    /// For a resolution: the body that resolves, before which reposición is brought ("the same
    /// body that resolved" by default).
    #[schema(max_length = 200)]
    pub body: Option<String>,
}

/// The inscription a removal file concerns (from its opening event).
async fn file_inscription(
    state: &AppState,
    tenant: &MunicipalityCode,
    file: Uuid,
) -> Result<Uuid, ApiError> {
    let inscription: Option<Uuid> = sqlx::query_scalar(
        "SELECT (payload->>'inscription')::uuid FROM events
         WHERE tenant = $1 AND stream_id = $2 AND version = 1",
    )
    .bind(tenant.as_str())
    .bind(file)
    .fetch_optional(&state.pool)
    .await?;
    inscription.ok_or_else(|| ApiError::NotFound("no such removal file".into()))
}

/// Records a step of a removal file. The notification of its opening (see `/v1/notifications`)
/// starts the 15 business days of the hearing; a resolution has its reasons and appeals, removes
/// the inscription (or releases it) atomically, and is notified to the person.
#[utoipa::path(post, path = "/v1/padron/removal-files/{id}/steps", params(("id" = Uuid, Path, description = "The removal file")),
    request_body = FileStepInput,
    responses((status = 200, description = "Recorded", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn file_step(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller()?;
    let file = resource_id(&id, "file")?;
    let case = crate::routes::cases::visible_case(&state, caller, file).await?;
    if case.procedure != REMOVAL_FILE {
        return Err(ApiError::NotFound("no such removal file".into()));
    }
    let input: FileStepInput = incoming.json()?;
    if caller.role == Role::Citizen {
        if !input.step.is_the_persons() {
            return Err(ApiError::Forbidden("this step is the council's".into()));
        }
    } else {
        caller.require(&[Role::Caseworker])?;
    }
    let tenant = caller.tenant.clone();
    let calendar = crate::deadlines::calendar_for(&state, &tenant).await?;
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let file_command = match input.step {
        // A file that lapsed by its timer: its inscription is unblocked (the timer changes only
        // the file).
        FileStep::ReleaseLapsed => None,
        // Allegations are a submission: entered in the registry (art. 16), whether filed online
        // or at the counter.
        // (The entry is allocated below, once a retry has been told apart.)
        FileStep::Allegations => Some(FileCommand::RecordAllegations {
            entry: None,
            summary: input.summary.clone().unwrap_or_default(),
            on: today,
        }),
        FileStep::Agreement => Some(FileCommand::RecordAgreement { on: today }),
        FileStep::Regularised => Some(FileCommand::RecordRegularised {
            on: today,
            appeals: crate::routes::notifications::appeals(input.body.as_deref())?,
        }),
        // The maximum time's new last day depends on the file: computed in the decision below.
        FileStep::RequestReport => Some(FileCommand::RequestReport {
            on: today,
            max_time_due_if_unanswered: today,
        }),
        FileStep::ReportFavourable | FileStep::ReportUnfavourable => {
            Some(FileCommand::RecordReport {
                favourable: input.step == FileStep::ReportFavourable,
                on: today,
                max_time_due: today,
                max_time_rule: None,
            })
        }
        FileStep::ResolveRemove | FileStep::ResolveArchive | FileStep::DeclareLapse => {
            let (grounds, appeals) = crate::routes::notifications::resolution_parts(
                input.grounds.clone().unwrap_or_default(),
                input.body.as_deref(),
            )?;
            if input.step == FileStep::DeclareLapse {
                Some(FileCommand::DeclareLapse {
                    grounds,
                    appeals: appeals.clone(),
                    on: today,
                })
            } else {
                Some(FileCommand::Resolve {
                    decision: if input.step == FileStep::ResolveRemove {
                        FileDecision::Remove
                    } else {
                        FileDecision::Archive
                    },
                    grounds,
                    appeals: appeals.clone(),
                    on: today,
                })
            }
        }
    };
    // The inscription changes with the file when the file ends.
    let inscription = file_inscription(&state, &tenant, file).await?;
    let closes: Option<InscriptionCommand> = match &file_command {
        Some(FileCommand::Resolve {
            decision: FileDecision::Remove,
            ..
        }) => Some(InscriptionCommand::Remove {
            cause: RemovalCause::WrongInscription,
            effective_on: today,
            file: Some(file),
        }),
        Some(FileCommand::Resolve { .. } | FileCommand::RecordRegularised { .. }) => {
            Some(InscriptionCommand::RecordRemovalFileClosed { file, on: today })
        }
        _ => None,
    };
    let label = match input.step {
        FileStep::ReleaseLapsed => "release_lapsed",
        _ => "step",
    };
    let ctx = CommandContext::open(&state, &incoming, &tenant, REMOVAL_FILE, label).await?;
    if let Some(earlier) = ctx.earlier(&state, file).await? {
        return Ok(earlier.reply(location(file)));
    }
    let file_command = match file_command {
        Some(FileCommand::RecordAllegations { summary, on, .. }) => {
            Some(FileCommand::RecordAllegations {
                summary,
                on,
                entry: Some(
                    crate::registry_entries::submission_now(
                        &state,
                        &tenant,
                        SubmissionKind::Allegation,
                    )
                    .await?,
                ),
            })
        }
        other => other,
    };
    // A resolution (including the archive when the person regularised) is notified (art. 40.1),
    // in the same append.
    let resolution = match &file_command {
        Some(FileCommand::Resolve {
            decision,
            grounds,
            appeals,
            ..
        }) => Some(resolution_act(
            &case,
            *decision,
            grounds.as_str(),
            appeals,
            today,
        )),
        Some(FileCommand::DeclareLapse {
            grounds, appeals, ..
        }) => Some(crate::routes::notifications::resolution_act(
            &case.case_number,
            "se declara la caducidad del procedimiento por haber transcurrido su plazo máximo sin \
             resolución y se archivan las actuaciones (art. 25.1.b de la Ley 39/2015); la \
             inscripción se mantiene",
            grounds.as_str(),
            appeals,
            today,
        )),
        Some(FileCommand::RecordRegularised { appeals, .. }) => Some(resolution_act(
            &case,
            FileDecision::Archive,
            "La persona interesada ha regularizado su inscripción padronal.",
            appeals,
            today,
        )),
        _ => None,
    };
    let notification = match resolution {
        Some(act) => {
            let choice = opening_choice(&state, &tenant, file).await?;
            let inscribed = row(&state, &tenant, inscription).await?.address;
            Some(notify_resolution(&state, &ctx, &case, file, &choice, &inscribed, act).await?)
        }
        _ => None,
    };
    let mut streams = Streams::of::<RemovalFile>(file).and::<Inscription>(inscription);
    if let Some((id, _)) = &notification {
        streams = streams.and::<Notification>(*id);
    }
    let executed = ctx
        .run(&state, file, streams, |decision| -> Result<(), ApiError> {
            match &file_command {
                Some(command) => {
                    let current = decision.state::<RemovalFile>(file);
                    // Art. 22.1.d: the maximum time stands still while the report is awaited,
                    // three months at most; the suspended business days move its last day
                    // (so it lands on a business day, art. 30.5), and the file's rule carries
                    // the suspension (counted again if the calendar changes).
                    let command = match command {
                        FileCommand::RequestReport { on, .. } => {
                            let mut awaiting = current.clone();
                            awaiting.report_requested_on = Some(*on);
                            let until = on
                                .checked_add_months(chrono::Months::new(REPORT_WAIT_MONTHS))
                                .unwrap_or(*on);
                            FileCommand::RequestReport {
                                on: *on,
                                max_time_due_if_unanswered: awaiting
                                    .resumed_maximum_time(until, &calendar, tenant.as_str())
                                    .map_err(crate::deadlines::calendar_problem)?
                                    .0,
                            }
                        }
                        FileCommand::RecordReport { favourable, on, .. } => {
                            let (max_time_due, max_time_rule) = current
                                .resumed_maximum_time(*on, &calendar, tenant.as_str())
                                .map_err(crate::deadlines::calendar_problem)?;
                            FileCommand::RecordReport {
                                favourable: *favourable,
                                on: *on,
                                max_time_due,
                                max_time_rule,
                            }
                        }
                        other => other.clone(),
                    };
                    decision
                        .handle::<RemovalFile>(file, command)
                        .map_err(|e| PadronRefusal::from(e).into_problem())?;
                    if let Some(closes) = &closes {
                        decision
                            .handle::<Inscription>(inscription, closes.clone())
                            .map_err(|e| PadronRefusal::from(e).into_problem())?;
                    }
                    if let Some((id, issue)) = &notification {
                        decision
                            .handle::<Notification>(*id, issue.clone())
                            .map_err(|e| PadronRefusal::from(e).into_problem())?;
                    }
                }
                None => {
                    let lapsed = decision.state::<RemovalFile>(file).stage == FileStage::Lapsed;
                    let marked =
                        decision.state::<Inscription>(inscription).open_removal_file == Some(file);
                    if lapsed && marked {
                        decision
                            .handle::<Inscription>(
                                inscription,
                                InscriptionCommand::RecordRemovalFileClosed { file, on: today },
                            )
                            .map_err(|e| PadronRefusal::from(e).into_problem())?;
                    }
                }
            }
            Ok(())
        })
        .await?;
    Ok(executed.reply(location(file)))
}

/// What a change of address appends to the removal file open on the inscription it moves: the
/// person registered where they live, which regularises the file (seed 004): archived, and that
/// resolution notified as the file's others are.
pub(super) struct Regularisation {
    /// The appeals against the archive.
    pub appeals: Vec<Appeal>,
    /// The archive's notification.
    pub notification: Uuid,
    /// Its issue.
    pub issue: NotificationCommand,
}

/// The [`Regularisation`] of `file`, for a change of address to `new_address` carried out by
/// `ctx`.
pub(super) async fn regularisation(
    state: &AppState,
    ctx: &CommandContext,
    file: Uuid,
    new_address: &str,
) -> Result<Regularisation, ApiError> {
    let tenant = ctx.tenant.clone();
    let case: Option<expedientes_projections::CaseRow> = sqlx::query_as(&format!(
        "SELECT {} FROM case_view WHERE case_id = $1 AND tenant = $2",
        crate::routes::cases::CASE_COLUMNS
    ))
    .bind(file)
    .bind(tenant.as_str())
    .fetch_optional(&state.pool)
    .await?;
    let case = case.ok_or_else(|| ApiError::Internal("an open removal file not in view".into()))?;
    let today = crate::deadlines::local_date(state, state.clock.now());
    let appeals = crate::routes::notifications::appeals(None)?;
    let act = resolution_act(
        &case,
        FileDecision::Archive,
        "La persona interesada ha regularizado su inscripción padronal: consta inscrita en su \
         domicilio actual.",
        &appeals,
        today,
    );
    // A letter goes to where the person now lives, known now even if the opening had to go by
    // edict (art. 44 applies only when notification cannot be made).
    let choice = match opening_choice(state, &tenant, file).await?.by {
        NotifyBy::Electronic => NotifyChoice {
            by: NotifyBy::Electronic,
            address: None,
        },
        _ => NotifyChoice {
            by: NotifyBy::Paper,
            address: None,
        },
    };
    let (notification, issue) =
        notify_resolution(state, ctx, &case, file, &choice, new_address, act).await?;
    Ok(Regularisation {
        appeals,
        notification,
        issue,
    })
}

/// The notification of a resolution of the file (`case`) to its person, by `choice`.
async fn notify_resolution(
    state: &AppState,
    ctx: &CommandContext,
    case: &expedientes_projections::CaseRow,
    file: Uuid,
    choice: &NotifyChoice,
    address: &str,
    act: Act,
) -> Result<(Uuid, NotificationCommand), ApiError> {
    let person = case
        .parties
        .0
        .iter()
        .find(|p| p.role == PartyRole::Interested)
        .cloned()
        .ok_or_else(|| ApiError::Internal("a removal file without its person".into()))?;
    let number: CaseNumber = case
        .case_number
        .parse()
        .map_err(|_| ApiError::Internal("a file number that does not parse".into()))?;
    notify_person(state, ctx, file, &number, &person, choice, address, act).await
}

/// The act of a removal file's resolution as it is notified (art. 40.2).
fn resolution_act(
    case: &expedientes_projections::CaseRow,
    decision: FileDecision,
    grounds: &str,
    appeals: &[Appeal],
    on: NaiveDate,
) -> Act {
    let decided = match decision {
        FileDecision::Remove => {
            "se acuerda la baja por inscripción indebida en el padrón municipal"
        }
        FileDecision::Archive => "se acuerda el archivo del expediente; la inscripción se mantiene",
    };
    crate::routes::notifications::resolution_act(&case.case_number, decided, grounds, appeals, on)
}
