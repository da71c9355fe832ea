//! The removal file for a wrong inscription (baja por inscripción indebida): the aggregate, its
//! command handling and what its events mean for the case view and the deadline timers.

use chrono::{Months, NaiveDate};

use crate::lpac::notification::{ActKind, Effect};
use crate::lpac::Reasons;
use crate::padron::{Inscription, REMOVAL_FILE_LAPSED};
use crate::procedure::{
    CaseEffect, CitizenAction, DeadlineRule, FollowUp, Procedure, TimerContext, TimerEffect,
};

mod commands;
mod events;
mod refusals;
mod state;
#[cfg(test)]
mod tests;
mod timers;
mod values;

pub use commands::FileCommand;
pub use events::FileEvent;
pub use refusals::FileRefusal;
pub use state::{FileStage, FileState};
pub use timers::{
    file_timers, hearing_rule, ELECTRONIC_REJECTION_DAYS, ELECTRONIC_REJECTION_TIMER,
    FILE_LAPSE_TIMER, HEARING_BUSINESS_DAYS, HEARING_TIMER, REPORT_WAIT_MONTHS, REPORT_WAIT_TIMER,
};
pub use values::{FileDecision, NotificationChannel, NotificationOutcome, RemovalBasis};

/// The grounds of the archive when the person regularised their inscription.
const REGULARISED_GROUNDS: &str = "La persona interesada ha regularizado su inscripción padronal: \
     desaparece la causa del expediente y se archiva (art. 72 del Reglamento de Población y \
     Demarcación Territorial).";

/// The maximum time of a removal file: three months from the agreement to open it, unless the
/// council's configuration sets otherwise (art. 21.3.a), and, the procedure being ex officio and
/// adverse, its lapse when it passes (art. 25.1.b).
pub const MAXIMUM_TIME: crate::lpac::MaximumTime = crate::lpac::MaximumTime {
    months: 3,
    silence: crate::lpac::SilenceMeaning::Lapse,
    article: "arts. 21.3 and 25.1.b LPAC",
};

/// A removal file for a wrong inscription (baja por inscripción indebida).
#[derive(Debug)]
pub struct RemovalFile;

fn file_stage_code(stage: FileStage) -> &'static str {
    stage.into()
}

impl esrs::Aggregate for RemovalFile {
    const NAME: &'static str = "padron_removal_file";
    type State = FileState;
    type Command = FileCommand;
    type Event = FileEvent;
    type Error = FileRefusal;

    fn handle_command(
        state: &FileState,
        command: FileCommand,
    ) -> Result<Vec<FileEvent>, FileRefusal> {
        use FileCommand as C;
        use FileEvent as E;
        use FileStage as S;
        let stage = state.stage;
        match (stage, command) {
            (
                S::NotOpened,
                C::Open {
                    case_number,
                    sia_code,
                    person,
                    inscription,
                    basis,
                    on,
                    max_time_due,
                    max_time_rule,
                    entry,
                },
            ) => {
                if let RemovalBasis::Request { whereabouts, .. } = &basis {
                    if whereabouts.trim().is_empty() {
                        return Err(FileRefusal::WhereaboutsMissing);
                    }
                }
                Ok(vec![E::Opened {
                    case_number,
                    sia_code,
                    person,
                    inscription,
                    basis,
                    on,
                    max_time_due,
                    max_time_rule,
                    entry,
                }])
            }
            (S::NotOpened, _) => Err(FileRefusal::NotOpened),
            (_, C::Open { .. }) => Err(FileRefusal::AlreadyOpen),
            (
                S::Removed | S::Archived | S::Lapsed,
                C::RecordNotificationEffect {
                    notification: Some(notification),
                    act: ActKind::Resolution,
                    outcome,
                    on,
                    ..
                },
            ) => Ok(vec![E::ResolutionNotified {
                notification,
                outcome,
                on,
            }]),
            (s, _) if s.is_closed() => Err(FileRefusal::Closed(file_stage_code(s))),
            (
                stage,
                C::MoveDeadline {
                    kind,
                    was,
                    due,
                    rule,
                },
            ) => {
                // The maximum time moves only while it runs (not while the report is awaited);
                // the hearing, while it runs.
                let running = match kind.as_str() {
                    FILE_LAPSE_TIMER => {
                        stage != S::AwaitingReport && state.max_time_due == Some(was)
                    }
                    HEARING_TIMER => stage == S::Hearing && state.hearing_due == Some(was),
                    _ => false,
                };
                if !running || was == due {
                    return Err(FileRefusal::WrongStage("that deadline is not running"));
                }
                Ok(vec![E::DeadlineMoved {
                    kind,
                    was,
                    due,
                    rule,
                }])
            }
            (S::Hearing, C::EndHearing { due, on }) => {
                if state.hearing_due != Some(due) || on <= due {
                    return Err(FileRefusal::HearingRunning(
                        state.hearing_due.unwrap_or(due),
                    ));
                }
                Ok(vec![E::HearingEnded { on }])
            }
            (_, C::EndHearing { .. }) => Err(FileRefusal::WrongStage(
                "the hearing is over: the person alleged, agreed or the file moved on",
            )),
            (S::LapseProposed, C::Lapse { .. }) => Err(FileRefusal::LapseProposed),
            (_, C::Lapse { due, on }) => {
                let current = state.max_time_due.unwrap_or(due);
                if stage == S::AwaitingReport || due != current || on <= current {
                    return Err(FileRefusal::NotLapsedYet(current));
                }
                Ok(vec![E::LapseProposed { due, on }])
            }
            (
                S::LapseProposed,
                C::DeclareLapse {
                    grounds,
                    appeals,
                    on,
                },
            ) => Ok(vec![E::Lapsed {
                on,
                inscription: state.inscription,
                grounds: Some(grounds),
                appeals,
            }]),
            (_, C::DeclareLapse { .. }) => Err(FileRefusal::LapseNotProposed),
            (S::LapseProposed, C::Resolve { .. }) => Err(FileRefusal::LapseProposed),
            (
                S::Notifying,
                C::RecordNotificationEffect {
                    notification,
                    act: ActKind::Opening,
                    outcome,
                    on,
                    hearing_due: Some(hearing_due),
                },
            ) => Ok(vec![E::Notified {
                notification,
                outcome,
                on,
                hearing_due,
            }]),
            // The person registered where they live (a change of address the council recorded),
            // once the opening was notified (before, its notification is still under way) and
            // before the resolution.
            (
                S::Hearing | S::AwaitingReport | S::ToResolve,
                C::RecordRegularised { on, appeals },
            ) => Ok(vec![
                E::Regularised { on },
                E::Resolved {
                    decision: FileDecision::Archive,
                    grounds: Some(
                        Reasons::try_from(REGULARISED_GROUNDS.to_owned())
                            .expect("the fixed grounds are valid reasons"),
                    ),
                    appeals,
                    on,
                },
            ]),
            (S::ToResolve, C::CorrectHearingFact { correction, on }) => {
                match (
                    &state.before_hearing_fact,
                    correction.corrects_type.as_str(),
                ) {
                    (Some(restored), "agreed" | "allegations_filed") => {
                        Ok(vec![E::HearingFactCorrected {
                            correction,
                            on,
                            restored: restored.clone(),
                        }])
                    }
                    _ => Err(FileRefusal::NothingToCorrect),
                }
            }
            (_, C::CorrectHearingFact { .. }) => Err(FileRefusal::NothingToCorrect),
            (S::Hearing | S::ToResolve, C::RecordAgreement { on }) => Ok(vec![E::Agreed { on }]),
            (S::Hearing, C::RecordAllegations { summary, on, entry }) => {
                Ok(vec![E::AllegationsFiled { summary, on, entry }])
            }
            (
                S::Hearing | S::ToResolve,
                C::RequestReport {
                    on,
                    max_time_due_if_unanswered,
                },
            ) => {
                if state.agreed || state.report_favourable.is_some() {
                    return Err(FileRefusal::WrongStage(file_stage_code(stage)));
                }
                Ok(vec![E::ReportRequested {
                    on,
                    max_time_due_if_unanswered: Some(max_time_due_if_unanswered),
                }])
            }
            (
                S::AwaitingReport,
                C::RecordReport {
                    favourable,
                    on,
                    max_time_due,
                    max_time_rule,
                },
            ) => Ok(vec![E::ReportReceived {
                favourable,
                on,
                max_time_due,
                max_time_rule,
            }]),
            (
                S::AwaitingReport,
                C::EndReportWait {
                    on,
                    max_time_due,
                    max_time_rule,
                },
            ) => {
                let limit = state
                    .report_requested_on
                    .and_then(|r| r.checked_add_months(Months::new(REPORT_WAIT_MONTHS)))
                    .unwrap_or(on);
                if on <= limit {
                    return Err(FileRefusal::WrongStage("the report may still arrive"));
                }
                Ok(vec![E::ReportWaitEnded {
                    on,
                    max_time_due: max_time_due
                        .or(state.max_time_due_if_unanswered)
                        .unwrap_or_else(|| state.resumed_due(on)),
                    max_time_rule,
                }])
            }
            (
                S::Hearing | S::ToResolve,
                C::Resolve {
                    decision,
                    grounds,
                    appeals,
                    on,
                },
            ) => {
                if decision == FileDecision::Remove {
                    if let Some(due) = state.hearing_due {
                        if on <= due && !state.agreed {
                            return Err(FileRefusal::HearingRunning(due));
                        }
                    }
                    if !state.agreed && state.report_favourable != Some(true) {
                        return Err(FileRefusal::ReportNeeded);
                    }
                }
                Ok(vec![E::Resolved {
                    decision,
                    grounds: Some(grounds),
                    appeals,
                    on,
                }])
            }
            (s, _) => Err(FileRefusal::WrongStage(file_stage_code(s))),
        }
    }

    fn apply_event(mut state: FileState, event: FileEvent) -> FileState {
        use FileEvent as E;
        // The hearing as it stands, kept only across an agreement or allegations (which a
        // correction may undo while they are the file's last step).
        state.before_hearing_fact = None;
        let hearing = state::HearingAsItStood {
            stage: state.stage,
            hearing_due: state.hearing_due,
            hearing_rule: state.hearing_rule.clone(),
            agreed: state.agreed,
        };
        match event {
            E::Opened {
                inscription,
                max_time_due,
                max_time_rule,
                ..
            } => {
                state.stage = FileStage::Notifying;
                state.inscription = Some(inscription);
                state.max_time_due = Some(max_time_due);
                state.max_time_rule = max_time_rule;
            }
            // Older files' notification steps: history only.
            E::NotificationSent { .. }
            | E::DeliveryFailed { .. }
            | E::Regularised { .. }
            | E::ResolutionNotified { .. } => {}
            E::Notified {
                on, hearing_due, ..
            } => {
                state.stage = FileStage::Hearing;
                state.hearing_due = Some(hearing_due);
                state.hearing_rule = Some(hearing_rule(on));
            }
            E::Agreed { .. } => {
                state.agreed = true;
                state.stage = FileStage::ToResolve;
                state.before_hearing_fact = Some(hearing);
            }
            E::AllegationsFiled { .. } => {
                state.stage = FileStage::ToResolve;
                state.before_hearing_fact = Some(hearing);
            }
            E::HearingFactCorrected { restored, .. } => {
                state.stage = restored.stage;
                state.hearing_due = restored.hearing_due;
                state.hearing_rule = restored.hearing_rule;
                state.agreed = restored.agreed;
            }
            E::ReportRequested {
                on,
                max_time_due_if_unanswered,
            } => {
                state.stage = FileStage::AwaitingReport;
                state.report_requested_on = Some(on);
                state.max_time_due_if_unanswered = max_time_due_if_unanswered;
            }
            E::ReportWaitEnded {
                max_time_due,
                max_time_rule,
                ..
            } => {
                state.max_time_due = Some(max_time_due);
                // Without its rule (recorded before rules carried suspensions) the day stands
                // by itself.
                state.max_time_rule = max_time_rule;
                state.report_requested_on = None;
                state.stage = FileStage::ToResolve;
            }
            E::ReportReceived {
                favourable,
                max_time_due,
                max_time_rule,
                ..
            } => {
                state.report_favourable = Some(favourable);
                state.max_time_due = Some(max_time_due);
                // Without its rule (recorded before rules carried suspensions) the day stands
                // by itself.
                state.max_time_rule = max_time_rule;
                state.report_requested_on = None;
                state.stage = FileStage::ToResolve;
            }
            E::Resolved { decision, .. } => {
                state.stage = match decision {
                    FileDecision::Remove => FileStage::Removed,
                    FileDecision::Archive => FileStage::Archived,
                }
            }
            E::LapseProposed { .. } => state.stage = FileStage::LapseProposed,
            E::Lapsed { .. } => state.stage = FileStage::Lapsed,
            E::DeadlineMoved {
                kind, due, rule, ..
            } => {
                if kind == HEARING_TIMER {
                    state.hearing_due = Some(due);
                    state.hearing_rule = Some(rule);
                } else {
                    state.max_time_due = Some(due);
                    state.max_time_rule = Some(rule);
                }
            }
            E::HearingEnded { .. } => state.stage = FileStage::ToResolve,
        }
        state
    }
}

impl Procedure for RemovalFile {
    fn registry_entries(event: &FileEvent) -> Vec<crate::lpac::RegistryEntry> {
        match event {
            FileEvent::Opened {
                entry: Some(entry), ..
            }
            | FileEvent::AllegationsFiled {
                entry: Some(entry), ..
            } => vec![entry.clone()],
            _ => Vec::new(),
        }
    }

    const TITLE: &'static str = "Baja por inscripción indebida";

    /// A file that lapses releases the person's inscription, which it had blocked.
    fn follow_ups(file: uuid::Uuid, event: &FileEvent) -> Vec<FollowUp> {
        match event {
            FileEvent::Lapsed {
                inscription: Some(inscription),
                on,
                ..
            } => vec![FollowUp {
                stream_type: <Inscription as esrs::Aggregate>::NAME.to_owned(),
                stream_id: *inscription,
                kind: REMOVAL_FILE_LAPSED.to_owned(),
                data: serde_json::json!({ "file": file }),
                on: *on,
            }],
            _ => Vec::new(),
        }
    }

    fn case_effects(event: &FileEvent) -> Vec<CaseEffect> {
        let at = |on: &NaiveDate| on.and_hms_opt(12, 0, 0).expect("noon exists").and_utc();
        let changed = |state: &str, description: &str, on: &NaiveDate| CaseEffect::StateChanged {
            state: state.to_owned(),
            description: description.to_owned(),
            at: at(on),
        };
        let closed = |state: &str, description: &str, on: &NaiveDate| {
            vec![
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
                CaseEffect::Closed {
                    state: state.to_owned(),
                    description: description.to_owned(),
                    at: at(on),
                },
            ]
        };
        match event {
            FileEvent::Opened {
                case_number,
                sia_code,
                person,
                on,
                max_time_due,
                ..
            } => vec![
                CaseEffect::Opened {
                    case_number: case_number.clone(),
                    sia_code: sia_code.clone(),
                    subject: "Baja por inscripción indebida en el padrón".into(),
                    parties: vec![person.clone()],
                    at: at(on),
                },
                changed("notifying", "Opened: the opening is being notified", on),
                CaseEffect::ResolutionDue(Some(*max_time_due)),
                CaseEffect::Silence {
                    meaning: MAXIMUM_TIME.silence,
                    basis: MAXIMUM_TIME.describe(),
                    reached_on: None,
                },
            ],
            FileEvent::Notified { on, hearing_due, .. } => vec![
                changed("hearing", "Notified: you may regularise your situation or allege", on),
                CaseEffect::CitizenMustAct(Some(CitizenAction {
                    what: "Regularise your padrón inscription, or file allegations that you still live there".into(),
                    due: *hearing_due,
                })),
            ],
            FileEvent::HearingFactCorrected { on, restored, .. } => {
                match (restored.stage, restored.hearing_due) {
                    (FileStage::Hearing, Some(due)) => vec![
                        changed("hearing", "An agreement or allegations recorded by mistake were corrected (art. 109.2 LPAC): the hearing stands again", on),
                        CaseEffect::CitizenMustAct(Some(CitizenAction {
                            what: "Regularise your padrón inscription, or file allegations that you still live there".into(),
                            due,
                        })),
                    ],
                    _ => vec![changed(
                        "to_resolve",
                        "An agreement or allegations recorded by mistake were corrected (art. 109.2 LPAC): waiting for the council's resolution",
                        on,
                    )],
                }
            }
            FileEvent::Agreed { on } | FileEvent::AllegationsFiled { on, .. } => vec![
                changed("to_resolve", "Waiting for the council's resolution", on),
                CaseEffect::CitizenMustAct(None),
            ],
            FileEvent::ReportRequested { on, .. } => vec![
                changed(
                    "awaiting_report",
                    "Waiting for the Consejo de Empadronamiento's report (the time limit is suspended)",
                    on,
                ),
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
            ],
            FileEvent::ReportWaitEnded {
                on, max_time_due, ..
            } => vec![
                changed("to_resolve", "No report after three months: the procedure goes on without it", on),
                CaseEffect::ResolutionDue(Some(*max_time_due)),
            ],
            FileEvent::ReportReceived { on, max_time_due, .. } => vec![
                changed("to_resolve", "Report received: waiting for the council's resolution", on),
                CaseEffect::ResolutionDue(Some(*max_time_due)),
            ],
            FileEvent::Resolved { decision, on, .. } => match decision {
                FileDecision::Remove => closed("removed", "Resolved: removed for wrong inscription", on),
                FileDecision::Archive => closed("archived", "Resolved: archived, the inscription stays", on),
            },
            FileEvent::LapseProposed { due, on } => vec![
                changed(
                    "lapse_proposed",
                    "The maximum time passed without a resolution: the council will declare the file lapsed (art. 25.1.b LPAC)",
                    on,
                ),
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
                CaseEffect::Silence {
                    meaning: MAXIMUM_TIME.silence,
                    basis: MAXIMUM_TIME.describe(),
                    reached_on: due.succ_opt(),
                },
            ],
            FileEvent::Lapsed { on, .. } => closed("lapsed", "Lapsed: not resolved in time (art. 25.1.b LPAC), archived", on),
            FileEvent::DeadlineMoved { kind, due, .. } if kind.as_str() == HEARING_TIMER => {
                vec![CaseEffect::CitizenActionDue(*due)]
            }
            FileEvent::DeadlineMoved { due, .. } => vec![CaseEffect::ResolutionDue(Some(*due))],
            FileEvent::HearingEnded { on } => vec![
                changed(
                    "to_resolve",
                    "The hearing ended without allegations: waiting for the council's resolution",
                    on,
                ),
                CaseEffect::CitizenMustAct(None),
            ],
            _ => Vec::new(),
        }
    }

    fn timer_effects(event: &FileEvent) -> Vec<TimerEffect> {
        file_timers(event)
    }

    fn timer_command(
        kind: &str,
        data: &serde_json::Value,
        state: &FileState,
        context: &TimerContext<'_>,
    ) -> Option<FileCommand> {
        // A notification of the file took effect: the hearing counts from the next day.
        if let Some(effect) = Effect::from_follow_up(kind, data) {
            let hearing_due = match effect.act {
                ActKind::Opening => {
                    Some(context.business_days_after(effect.on, HEARING_BUSINESS_DAYS)?)
                }
                ActKind::Resolution => None,
                // A removal file asks nobody to fix anything.
                ActKind::RectificationRequest => return None,
            };
            return Some(FileCommand::RecordNotificationEffect {
                notification: Some(effect.notification),
                act: effect.act,
                outcome: effect.outcome,
                on: effect.on,
                hearing_due,
            });
        }
        match kind {
            FILE_LAPSE_TIMER => Some(FileCommand::Lapse {
                due: serde_json::from_value(data.get("due")?.clone()).ok()?,
                on: context.today,
            }),
            // The maximum time resumes after the three months (art. 22.1.d), counted with the
            // calendar as it is now.
            REPORT_WAIT_TIMER => {
                let until = state
                    .report_requested_on
                    .and_then(|r| r.checked_add_months(Months::new(REPORT_WAIT_MONTHS)))
                    .unwrap_or(context.today);
                let (max_time_due, max_time_rule) = state
                    .resumed_maximum_time(until, context.calendar, context.seat)
                    .ok()
                    .unzip();
                Some(FileCommand::EndReportWait {
                    on: context.today,
                    max_time_due,
                    max_time_rule: max_time_rule.flatten(),
                })
            }
            HEARING_TIMER => Some(FileCommand::EndHearing {
                due: serde_json::from_value(data.get("due")?.clone()).ok()?,
                on: context.today,
            }),
            // Files notified before notifications were records: their rejection timer.
            ELECTRONIC_REJECTION_TIMER => Some(FileCommand::RecordNotificationEffect {
                notification: None,
                act: ActKind::Opening,
                outcome: NotificationOutcome::Rejected,
                on: context.today,
                hearing_due: Some(serde_json::from_value(data.get("hearing_due")?.clone()).ok()?),
            }),
            _ => None,
        }
    }

    fn move_deadline(
        kind: &str,
        was: NaiveDate,
        due: NaiveDate,
        rule: DeadlineRule,
        _context: &TimerContext<'_>,
    ) -> Option<FileCommand> {
        matches!(kind, FILE_LAPSE_TIMER | HEARING_TIMER).then(|| FileCommand::MoveDeadline {
            kind: kind.to_owned(),
            was,
            due,
            rule,
        })
    }
}
