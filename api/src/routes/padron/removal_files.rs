//! Removal files for wrong inscription (baja por inscripción indebida) over HTTP: the opening, ex
//! officio or at a person's request, and the file's steps. The file and the person's inscription
//! change together, in one atomic command; the file's view is the case view (`/v1/cases/{id}`).

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::NaiveDate;
use expedientes_domain::padron::{
    FileCommand, FileDecision, FileStage, Inscription, InscriptionCommand, NotificationChannel,
    NotificationOutcome, RemovalBasis, RemovalCause, RemovalFile, REPORT_WAIT_MONTHS,
};
use expedientes_domain::{CaseParty, MunicipalityCode, PartyRole};
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

/// Opening a removal file.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"inscription_id": "6f1c2a4e-35b4-5d7e-9a43-0c1b2d3e4f50", "reason": "the police report that nobody lives there"}))]
pub struct OpenFileInput {
    /// The inscription concerned.
    pub inscription_id: Uuid,
    /// Ex officio (caseworker): why.
    pub reason: Option<String>,
    /// At request (citizen): what is known of the person's whereabouts.
    pub whereabouts: Option<String>,
}

/// Opens a removal file for wrong inscription: ex officio (caseworker, with a reason) or at the
/// request of a person (citizen, with what they know of the person's whereabouts). The file and the
/// person's inscription change together.
#[utoipa::path(post, path = "/v1/padron/removal-files", request_body = OpenFileInput,
    responses((status = 201, description = "Opened: the new file", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn open_file(
    State(state): State<AppState>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker, Role::Citizen])?;
    let input: OpenFileInput = incoming.json()?;
    row(&state, &caller.tenant, input.inscription_id).await?;
    let basis = match caller.role {
        Role::Caseworker => RemovalBasis::ExOfficio {
            reason: input
                .reason
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| ApiError::invalid_field("reason", "say why the file is opened"))?,
        },
        _ => RemovalBasis::Request {
            requester: caller.subject.clone(),
            whereabouts: input.whereabouts.unwrap_or_default(),
        },
    };
    let ctx = CommandContext::open(&state, &incoming, &caller.tenant, REMOVAL_FILE, "open").await?;
    let executed = open_removal_file(&state, &ctx, input.inscription_id, basis).await?;
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
    // the request in the same append: it refuses while a file is open against them.
    let requester = match &basis {
        RemovalBasis::Request { requester, .. } => {
            let own = inscription_id(&tenant, requester);
            row(state, &tenant, own)
                .await
                .ok()
                .map(|_| own)
                .filter(|own| *own != target)
        }
        RemovalBasis::ExOfficio { .. } => None,
    };
    let mut streams = Streams::of::<RemovalFile>(file).and::<Inscription>(target);
    if let Some(own) = requester {
        streams = streams.and::<Inscription>(own);
    }
    ctx.run(
        state,
        file,
        streams,
        |decision| -> Result<(), PadronRefusal> {
            decision.handle::<RemovalFile>(
                file,
                FileCommand::Open {
                    case_number: case_number.clone(),
                    sia_code: sia_code.clone(),
                    person: person.clone(),
                    inscription: target,
                    basis: basis.clone(),
                    on,
                    max_time_due,
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
            Ok(())
        },
    )
    .await
}

/// A step of a removal file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStep {
    /// The council sends the notification electronically (deemed rejected after 10 days).
    SendElectronic,
    /// The council sends it on paper.
    SendPaper,
    /// A paper delivery attempt failed.
    DeliveryFailed,
    /// The person accessed the electronic notification.
    Accessed,
    /// The paper notification was delivered.
    Delivered,
    /// Published by edict (BOE).
    Edict,
    /// The person filed allegations (the person or a caseworker).
    Allegations,
    /// The person agreed to the removal (the person or a caseworker).
    Agreement,
    /// The person regularised their situation (the person or a caseworker).
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
    /// A file that lapsed releases the person's inscription (the lapse's follow-up does it by
    /// itself; this step does it by hand, e.g. for a file that lapsed before follow-ups existed).
    ReleaseLapsed,
}

impl FileStep {
    /// The steps the person concerned may record themselves.
    fn is_the_persons(self) -> bool {
        matches!(
            self,
            FileStep::Allegations | FileStep::Agreement | FileStep::Regularised
        )
    }
}

/// A removal file's step.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"step": "send_paper"}))]
pub struct FileStepInput {
    /// The step.
    pub step: FileStep,
    /// For allegations: a summary.
    pub summary: Option<String>,
    /// For `accessed`, `delivered`, `edict`: the day the notification took effect (default today).
    pub on: Option<NaiveDate>,
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

/// Records a step of a removal file. Notification dates start the 15 business days of the hearing
/// (legal calendar); the resolution to remove also removes the inscription, atomically.
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
    let hearing =
        |from: NaiveDate| crate::deadlines::business_days_after(&calendar, &tenant, from, 15);
    let file_command = match input.step {
        // A file that lapsed by its timer: its inscription is unblocked (the timer changes only
        // the file).
        FileStep::ReleaseLapsed => None,
        FileStep::SendElectronic => {
            // Deemed rejected after 10 calendar days; the hearing then starts the next day.
            let rejected_on = today + chrono::Days::new(10);
            Some(FileCommand::SendNotification {
                channel: NotificationChannel::Electronic,
                on: today,
                hearing_due_if_rejected: Some(hearing(rejected_on)?),
            })
        }
        FileStep::SendPaper => Some(FileCommand::SendNotification {
            channel: NotificationChannel::Paper,
            on: today,
            hearing_due_if_rejected: None,
        }),
        FileStep::DeliveryFailed => Some(FileCommand::RecordFailedDelivery { on: today }),
        FileStep::Accessed | FileStep::Delivered | FileStep::Edict => {
            // Not before the file was opened, not in the future.
            let opened_on = crate::deadlines::local_date(&state, case.opened_at);
            let on = crate::extract::past_date("on", input.on.unwrap_or(today), opened_on, today)?;
            Some(FileCommand::RecordNotified {
                outcome: match input.step {
                    FileStep::Accessed => NotificationOutcome::Accessed,
                    FileStep::Delivered => NotificationOutcome::Delivered,
                    _ => NotificationOutcome::Edict,
                },
                on,
                hearing_due: hearing(on)?,
            })
        }
        FileStep::Allegations => Some(FileCommand::RecordAllegations {
            summary: input.summary.clone().unwrap_or_default(),
            on: today,
        }),
        FileStep::Agreement => Some(FileCommand::RecordAgreement { on: today }),
        FileStep::Regularised => Some(FileCommand::RecordRegularised { on: today }),
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
            })
        }
        FileStep::ResolveRemove | FileStep::ResolveArchive => Some(FileCommand::Resolve {
            decision: if input.step == FileStep::ResolveRemove {
                FileDecision::Remove
            } else {
                FileDecision::Archive
            },
            on: today,
        }),
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
    let executed = ctx
        .run(
            &state,
            file,
            Streams::of::<RemovalFile>(file).and::<Inscription>(inscription),
            |decision| -> Result<(), ApiError> {
                match &file_command {
                    Some(command) => {
                        let current = decision.state::<RemovalFile>(file);
                        // Art. 22.1.d: the maximum time stands still while the report is awaited,
                        // three months at most; the suspended business days move its last day
                        // (so it lands on a business day, art. 30.5).
                        let suspended = |from, to| {
                            let due = current.max_time_due.unwrap_or(to);
                            crate::deadlines::after_suspension(&calendar, &tenant, due, from, to)
                        };
                        let command = match command {
                            FileCommand::RequestReport { on, .. } => FileCommand::RequestReport {
                                on: *on,
                                max_time_due_if_unanswered: suspended(
                                    *on,
                                    on.checked_add_months(chrono::Months::new(REPORT_WAIT_MONTHS))
                                        .unwrap_or(*on),
                                )?,
                            },
                            FileCommand::RecordReport { favourable, on, .. } => {
                                FileCommand::RecordReport {
                                    favourable: *favourable,
                                    on: *on,
                                    max_time_due: suspended(
                                        current.report_requested_on.unwrap_or(*on),
                                        *on,
                                    )?,
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
                    }
                    None => {
                        let lapsed = decision.state::<RemovalFile>(file).stage == FileStage::Lapsed;
                        let marked = decision.state::<Inscription>(inscription).open_removal_file
                            == Some(file);
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
            },
        )
        .await?;
    Ok(executed.reply(location(file)))
}
