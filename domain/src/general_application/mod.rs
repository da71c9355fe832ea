//! The general application (instancia general / solicitud genérica): the procedure every council
//! offers for a request that no specific procedure covers. It is the smallest complete LPAC file
//! and uses the shared parts of [`crate::lpac`]: a registry entry for the application and for each
//! fix (art. 16), a maximum time of three months with estimatory silence (arts. 21.3, 24.1),
//! suspended while the applicant is asked to fix the application (art. 22.1.a), subsanación
//! (art. 68) ending, when unanswered, in a desistimiento the council declares by resolution, and
//! resolutions with reasons and appeals (arts. 35, 88).
//!
//! Deadlines are computed by the caller with the legal calendar and carried in the commands, so
//! this aggregate stays pure.

use chrono::{DateTime, NaiveDate, Utc};

use crate::calendar::Unit;
use crate::lpac::notification::{ActKind, Delivery};
use crate::lpac::{MaximumTime, RegistryEntry, SilenceMeaning};
use crate::procedure::{
    deadline_data, CaseEffect, CitizenAction, DeadlineRule, PartyRole, Procedure, TimerContext,
    TimerEffect,
};

mod commands;
mod events;
mod refusals;
mod state;
#[cfg(test)]
mod tests;

pub use commands::{Command, Decision};
pub use events::Event;
pub use refusals::Refusal;
pub use state::{PeriodToFix, Stage, State};

/// The aggregate.
#[derive(Debug)]
pub struct GeneralApplication;

/// The maximum time to resolve: the general application has no rule of its own, so three months
/// from the entry of the application in the registry (art. 21.3.b); silence grants it, the
/// general rule for applications (art. 24.1).
pub const MAXIMUM_TIME: MaximumTime = MaximumTime {
    months: 3,
    silence: SilenceMeaning::Estimatory,
    article: "arts. 21.3 and 24.1 LPAC",
};

/// The timer of the subsanación period.
pub const RECTIFICATION_TIMER: &str = "rectification_period";
/// The period to fix an application: ten business days (art. 68.1).
pub const RECTIFICATION_BUSINESS_DAYS: u32 = 10;
/// The timer of the maximum time to resolve.
pub const MAXIMUM_TIME_TIMER: &str = "maximum_time";

impl esrs::Aggregate for GeneralApplication {
    const NAME: &'static str = "general_application";
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle_command(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
        use Stage as S;
        match (state.stage, command) {
            (
                S::NotSubmitted,
                Command::Submit {
                    case_number,
                    sia_code,
                    parties,
                    subject,
                    body,
                    at,
                    entry,
                    resolution_due,
                    max_time_rule,
                    residence,
                    notify_by,
                },
            ) => {
                if !parties.iter().any(|p| p.role == PartyRole::Interested) {
                    return Err(Refusal::Incomplete("it names no interested party"));
                }
                if subject.trim().is_empty() {
                    return Err(Refusal::Incomplete("it has no subject"));
                }
                Ok(vec![Event::Submitted {
                    case_number,
                    sia_code,
                    parties,
                    subject: subject.trim().to_owned(),
                    body,
                    at,
                    entry: Some(entry),
                    resolution_due,
                    max_time_rule,
                    residence,
                    notify_by: Some(notify_by),
                }])
            }
            (S::NotSubmitted, _) => Err(Refusal::NotSubmitted),
            (_, Command::Submit { .. }) => Err(Refusal::AlreadySubmitted),
            (
                S::Granted | S::Denied | S::DeemedWithdrawn,
                Command::RecordResolutionNotified {
                    notification,
                    outcome,
                    on,
                },
            ) => Ok(vec![Event::ResolutionNotified {
                notification,
                outcome,
                on,
            }]),
            (stage, _) if stage.is_closed() => Err(Refusal::Closed(stage.code())),
            (
                stage,
                Command::MoveDeadline {
                    kind,
                    was,
                    due,
                    rule,
                    at,
                },
            ) => {
                let running = match kind.as_str() {
                    RECTIFICATION_TIMER => {
                        stage == S::AwaitingRectification && state.rectification_due == Some(was)
                    }
                    // Only while it runs: not while suspended, nor once silence took effect.
                    MAXIMUM_TIME_TIMER => {
                        state.resolution_due == Some(was)
                            && state.suspended_on.is_none()
                            && state.silence_reached.is_none()
                    }
                    _ => false,
                };
                if !running || was == due {
                    return Err(Refusal::DeadlineNotRunning);
                }
                Ok(vec![Event::DeadlineMoved {
                    kind,
                    was,
                    due,
                    rule,
                    at,
                }])
            }
            // Art. 24.3.a: granted by silence, the application is only confirmed; nothing is
            // asked of the applicant any more.
            (_, Command::RequestRectification { .. })
                if state.silence_reached == Some(SilenceMeaning::Estimatory) =>
            {
                Err(Refusal::GrantedBySilence(
                    state.resolution_due.unwrap_or_default(),
                ))
            }
            (
                _,
                Command::Resolve {
                    decision,
                    reasons,
                    appeals,
                    at,
                },
            ) if state.silence_reached == Some(SilenceMeaning::Estimatory) => {
                if decision != Decision::Granted {
                    return Err(Refusal::GrantedBySilence(
                        state.resolution_due.unwrap_or_default(),
                    ));
                }
                Ok(vec![Event::Resolved {
                    decision,
                    grounds: reasons.into(),
                    appeals,
                    at,
                }])
            }
            (
                S::Submitted,
                Command::RequestRectification {
                    what,
                    at,
                    notification,
                },
            ) => {
                if what.trim().is_empty() {
                    return Err(Refusal::Incomplete("say what must be fixed"));
                }
                Ok(vec![Event::RectificationIssued {
                    what: what.trim().to_owned(),
                    at,
                    notification,
                }])
            }
            (S::AwaitingRectification, Command::RequestRectification { .. }) => {
                match state.rectification_due {
                    Some(due) => Err(Refusal::RectificationAlreadyRunning(due)),
                    None => Err(Refusal::RectificationBeingNotified),
                }
            }
            (
                S::AwaitingRectification,
                Command::RecordRectificationNotified {
                    notification,
                    outcome,
                    on,
                    at,
                    due,
                    rule,
                    resolution_due_if_unanswered,
                },
            ) => {
                if state.rectification_notification != Some(notification) {
                    return Err(Refusal::NotThisRequest);
                }
                Ok(vec![Event::RectificationNotified {
                    notification,
                    outcome,
                    at: Some(at),
                    what: state.rectification_what.clone().unwrap_or_default(),
                    on,
                    due,
                    rule,
                    resolution_due_if_unanswered,
                }])
            }
            (_, Command::RecordRectificationNotified { .. }) => Err(Refusal::NotThisRequest),
            (S::DesistimientoProposed, Command::RequestRectification { .. }) => {
                Err(Refusal::DesistimientoPending)
            }
            (
                S::AwaitingRectification,
                Command::ExtendRectification {
                    at,
                    due,
                    rule,
                    resolution_due_if_unanswered,
                },
            ) => {
                let Some(current) = state.rectification_due else {
                    return Err(Refusal::RectificationBeingNotified);
                };
                if state.rectification_extended || due <= current {
                    return Err(Refusal::ExtensionNotAllowed);
                }
                Ok(vec![Event::RectificationExtended {
                    at,
                    due,
                    rule,
                    resolution_due_if_unanswered: Some(resolution_due_if_unanswered),
                }])
            }
            (
                S::AwaitingRectification | S::DesistimientoProposed,
                Command::Rectify {
                    note,
                    at,
                    entry,
                    resolution_due,
                    max_time_rule,
                },
            ) => Ok(vec![Event::Rectified {
                note,
                at,
                entry: Some(entry),
                resolution_due: Some(resolution_due),
                max_time_rule,
            }]),
            (
                S::AwaitingRectification,
                Command::CloseRectificationPeriod {
                    due,
                    at,
                    today,
                    resolution_due,
                    max_time_rule,
                },
            ) => {
                let current = state.rectification_due.unwrap_or_default();
                if due != current {
                    return Err(Refusal::StalePeriod(due));
                }
                if today <= current {
                    return Err(Refusal::PeriodStillRunning(current));
                }
                // Without the day computed when the period ended, the one computed when the
                // request took effect; the rule is the file's with this suspension added.
                let max_time_rule = max_time_rule.or_else(|| {
                    let rule = state.max_time_rule.as_ref()?;
                    let from = state.suspended_on?;
                    Some(rule.suspended(crate::calendar::Suspension {
                        suspended_on: from,
                        resumed_on: current.max(from),
                    }))
                });
                Ok(vec![Event::DesistimientoProposed {
                    at,
                    resolution_due: resolution_due.or(state.resolution_due_if_unanswered),
                    max_time_rule,
                }])
            }
            (
                S::Submitted | S::DesistimientoProposed,
                Command::ExtendRectification { .. } | Command::CloseRectificationPeriod { .. },
            )
            | (S::Submitted, Command::Rectify { .. }) => Err(Refusal::NoRectificationRunning),
            (_, Command::ReachMaximumTime { due, at, today }) => {
                if state.silence_reached.is_some() {
                    return Err(Refusal::SilenceAlreadyReached);
                }
                if state.suspended_on.is_some() {
                    return Err(Refusal::StaleMaximumTime(due));
                }
                match state.resolution_due {
                    Some(current) if current == due => {}
                    _ => return Err(Refusal::StaleMaximumTime(due)),
                }
                if today <= due {
                    return Err(Refusal::MaximumTimeRunning(due));
                }
                Ok(vec![Event::SilenceReached {
                    meaning: MAXIMUM_TIME.silence,
                    due,
                    at,
                }])
            }
            (S::Submitted, Command::CorrectRectification { correction, at }) => {
                match (&state.before_fix, correction.corrects_type.as_str()) {
                    // The request's notification may have taken effect meanwhile, unheeded:
                    // the request is made again instead.
                    (Some(restored), "rectified")
                        if restored.stage == Stage::AwaitingRectification
                            && restored.due.is_none() =>
                    {
                        Err(Refusal::FixedBeforeNotified)
                    }
                    (Some(restored), "rectified") => Ok(vec![Event::RectificationCorrected {
                        correction,
                        at,
                        restored: restored.clone(),
                    }]),
                    _ => Err(Refusal::NothingToCorrect),
                }
            }
            (_, Command::CorrectRectification { .. }) => Err(Refusal::NothingToCorrect),
            (S::AwaitingRectification, Command::Resolve { .. }) => match state.rectification_due {
                Some(due) => Err(Refusal::AwaitingApplicant(due)),
                None => Err(Refusal::RectificationBeingNotified),
            },
            (
                stage @ (S::Submitted | S::DesistimientoProposed),
                Command::Resolve {
                    decision,
                    reasons,
                    appeals,
                    at,
                },
            ) => {
                match (stage, decision) {
                    (S::DesistimientoProposed, Decision::Desistimiento) => {}
                    (S::DesistimientoProposed, _) => return Err(Refusal::DesistimientoPending),
                    (_, Decision::Desistimiento) => return Err(Refusal::NoDesistimientoProposed),
                    _ => {}
                }
                // After estimatory silence the arm above has decided (art. 24.3.a).
                Ok(vec![Event::Resolved {
                    decision,
                    grounds: reasons.into(),
                    appeals,
                    at,
                }])
            }
            (_, Command::Withdraw { at }) => Ok(vec![Event::Withdrawn { at }]),
            // Every open stage is matched above; closed stages were refused earlier.
            (stage, _) => Err(Refusal::Closed(stage.code())),
        }
    }

    fn apply_event(mut state: State, event: Event) -> State {
        // A fix can be corrected only while it is the file's last step.
        state.before_fix = None;
        match event {
            Event::Submitted {
                parties,
                resolution_due,
                residence,
                max_time_rule,
                notify_by,
                ..
            } => {
                state.stage = Stage::Submitted;
                state.parties = parties;
                state.residence = residence;
                state.resolution_due = Some(resolution_due);
                state.max_time_rule = max_time_rule;
                state.notify_by = notify_by.unwrap_or(Delivery::Electronic);
            }
            Event::RectificationIssued {
                what, notification, ..
            } => {
                state.stage = Stage::AwaitingRectification;
                state.rectification_what = Some(what);
                state.rectification_notification = Some(notification);
                state.rectification_due = None;
                state.rectification_rule = None;
                state.rectification_extended = false;
            }
            Event::RectificationNotified {
                on,
                due,
                rule,
                resolution_due_if_unanswered,
                ..
            } => {
                state.rectification_notification = None;
                state.rectification_due = Some(due);
                state.rectification_rule = Some(rule);
                state.suspended_on = Some(on);
                state.resolution_due_if_unanswered = Some(resolution_due_if_unanswered);
            }
            Event::RectificationRequested {
                what,
                due,
                on,
                resolution_due_if_unanswered,
                residence,
                ..
            } => {
                state.stage = Stage::AwaitingRectification;
                state.rectification_due = Some(due);
                state.rectification_extended = false;
                state.rectification_what = Some(what);
                state.rectification_rule = on.map(|from| {
                    DeadlineRule::new(
                        from,
                        RECTIFICATION_BUSINESS_DAYS,
                        Unit::BusinessDays,
                        residence.as_ref(),
                    )
                });
                // Files from before suspensions were recorded keep their last day running.
                if on.is_some() {
                    state.suspended_on = on;
                    state.resolution_due_if_unanswered = resolution_due_if_unanswered;
                }
            }
            Event::RectificationExtended {
                due,
                rule,
                resolution_due_if_unanswered,
                ..
            } => {
                state.rectification_due = Some(due);
                state.rectification_extended = true;
                if rule.is_some() {
                    state.rectification_rule = rule;
                }
                if resolution_due_if_unanswered.is_some() {
                    state.resolution_due_if_unanswered = resolution_due_if_unanswered;
                }
            }
            Event::Rectified {
                resolution_due,
                max_time_rule,
                ..
            } => {
                let before = state.period_to_fix();
                state.stage = Stage::Submitted;
                state = state.period_over(resolution_due, max_time_rule);
                state.before_fix = Some(before);
            }
            Event::RectificationCorrected { restored, .. } => {
                state.stage = restored.stage;
                state.rectification_what = restored.what;
                state.rectification_due = restored.due;
                state.rectification_rule = restored.rule;
                state.rectification_extended = restored.extended;
                state.suspended_on = restored.suspended_on;
                state.resolution_due_if_unanswered = restored.resolution_due_if_unanswered;
                state.resolution_due = restored.resolution_due;
                state.max_time_rule = restored.max_time_rule;
            }
            Event::DesistimientoProposed {
                resolution_due,
                max_time_rule,
                ..
            } => {
                state.stage = Stage::DesistimientoProposed;
                state = state.period_over(resolution_due, max_time_rule);
            }
            Event::DeemedWithdrawn { .. } => {
                state.stage = Stage::DeemedWithdrawn;
                state.rectification_due = None;
            }
            Event::SilenceReached { meaning, .. } => state.silence_reached = Some(meaning),
            Event::Resolved { decision, .. } => {
                // A grant after estimatory silence may end a request to fix still running.
                state = state.period_over(None, None);
                state.stage = match decision {
                    Decision::Granted => Stage::Granted,
                    Decision::Denied => Stage::Denied,
                    Decision::Desistimiento => Stage::DeemedWithdrawn,
                };
            }
            Event::ResolutionNotified { .. } => {}
            Event::DeadlineMoved {
                kind, due, rule, ..
            } => match kind.as_str() {
                RECTIFICATION_TIMER => {
                    state.rectification_due = Some(due);
                    state.rectification_rule = Some(rule);
                }
                MAXIMUM_TIME_TIMER => {
                    state.resolution_due = Some(due);
                    state.max_time_rule = Some(rule);
                }
                _ => {}
            },
            Event::Withdrawn { .. } => {
                state.stage = Stage::Withdrawn;
                state.rectification_due = None;
                state.rectification_notification = None;
            }
        }
        state
    }
}

/// A deadline's timer whose data says how its last day was counted.
fn set_counted(kind: &str, due: NaiveDate, rule: Option<DeadlineRule>) -> TimerEffect {
    TimerEffect::Set {
        kind: kind.to_owned(),
        fires_on: due.succ_opt().unwrap_or(due),
        data: deadline_data(due, rule),
    }
}

fn cancel(kind: &str) -> TimerEffect {
    TimerEffect::Cancel {
        kind: kind.to_owned(),
    }
}

impl State {
    /// The file once the period to fix is over (fixed, or proposed for desistimiento): the
    /// maximum time runs again from `resolution_due`, counted by `max_time_rule`.
    fn period_over(
        mut self,
        resolution_due: Option<NaiveDate>,
        max_time_rule: Option<DeadlineRule>,
    ) -> Self {
        self.rectification_due = None;
        self.rectification_what = None;
        self.rectification_notification = None;
        self.rectification_rule = None;
        self.suspended_on = None;
        self.resolution_due_if_unanswered = None;
        if resolution_due.is_some() {
            self.resolution_due = resolution_due;
            // A day moved without its rule (an event recorded before rules carried suspensions):
            // the file's rule no longer counts it, so later moves start from the day itself.
            self.max_time_rule = max_time_rule;
        }
        self
    }
}

impl Procedure for GeneralApplication {
    const TITLE: &'static str = "Instancia general (general application)";

    fn timer_effects(event: &Event) -> Vec<TimerEffect> {
        match event {
            Event::Submitted {
                resolution_due,
                max_time_rule,
                ..
            } => {
                vec![set_counted(
                    MAXIMUM_TIME_TIMER,
                    *resolution_due,
                    max_time_rule.clone(),
                )]
            }
            Event::DeadlineMoved {
                kind, due, rule, ..
            } => {
                vec![set_counted(kind, *due, Some(rule.clone()))]
            }
            Event::RectificationIssued { .. } => Vec::new(),
            Event::RectificationNotified { due, rule, .. } => vec![
                set_counted(RECTIFICATION_TIMER, *due, Some(rule.clone())),
                TimerEffect::Suspend {
                    kind: MAXIMUM_TIME_TIMER.to_owned(),
                },
            ],
            Event::RectificationRequested {
                due, on, residence, ..
            } => {
                // Ten business days from the day after the notification (art. 68.1), at the seat
                // and at the applicant's residence (art. 30.6).
                let rule = on.map(|from| {
                    DeadlineRule::new(
                        from,
                        RECTIFICATION_BUSINESS_DAYS,
                        Unit::BusinessDays,
                        residence.as_ref(),
                    )
                });
                let mut effects = vec![set_counted(RECTIFICATION_TIMER, *due, rule)];
                if on.is_some() {
                    effects.push(TimerEffect::Suspend {
                        kind: MAXIMUM_TIME_TIMER.to_owned(),
                    });
                }
                effects
            }
            Event::RectificationExtended { due, rule, .. } => {
                vec![set_counted(RECTIFICATION_TIMER, *due, rule.clone())]
            }
            Event::Rectified {
                resolution_due,
                max_time_rule,
                ..
            }
            | Event::DesistimientoProposed {
                resolution_due,
                max_time_rule,
                ..
            } => {
                let mut effects = vec![cancel(RECTIFICATION_TIMER)];
                effects.extend(
                    resolution_due
                        .map(|due| set_counted(MAXIMUM_TIME_TIMER, due, max_time_rule.clone())),
                );
                effects
            }
            // The period runs again as it was (its timer fires at once if its last day passed:
            // the period ended unfixed), and the maximum time stands still again.
            Event::RectificationCorrected { restored, .. } => match restored.due {
                Some(due) if restored.stage == Stage::AwaitingRectification => vec![
                    set_counted(RECTIFICATION_TIMER, due, restored.rule.clone()),
                    TimerEffect::Suspend {
                        kind: MAXIMUM_TIME_TIMER.to_owned(),
                    },
                ],
                _ => Vec::new(),
            },
            Event::SilenceReached { .. } | Event::ResolutionNotified { .. } => Vec::new(),
            Event::DeemedWithdrawn { .. } | Event::Resolved { .. } | Event::Withdrawn { .. } => {
                vec![cancel(RECTIFICATION_TIMER), cancel(MAXIMUM_TIME_TIMER)]
            }
        }
    }

    fn timer_command(
        kind: &str,
        data: &serde_json::Value,
        state: &State,
        context: &TimerContext<'_>,
    ) -> Option<Command> {
        if let Some(effect) = crate::lpac::notification::Effect::from_follow_up(kind, data) {
            return match effect.act {
                ActKind::Resolution | ActKind::Opening => Some(Command::RecordResolutionNotified {
                    notification: effect.notification,
                    outcome: effect.outcome,
                    on: effect.on,
                }),
                // The request to fix took effect: its ten business days from the next day, at
                // the seat and the residence (arts. 68.1, 30.6); the maximum time stands still
                // from that day until the period ends, unless fixed earlier (art. 22.1.a).
                ActKind::RectificationRequest => {
                    let counted = |residence| {
                        let rule = DeadlineRule::new(
                            effect.on,
                            RECTIFICATION_BUSINESS_DAYS,
                            Unit::BusinessDays,
                            residence,
                        );
                        rule.due(context.calendar, context.seat)
                            .map(|due| (rule, due))
                    };
                    // A residence the calendar no longer knows still leaves the seat's count,
                    // so the file is never left waiting with no period.
                    let (rule, due) = counted(state.residence.as_ref())
                        .or_else(|_| counted(None))
                        .ok()?;
                    let resolution_due_if_unanswered = state
                        .resumed_maximum_time(effect.on, due, context.calendar, context.seat)
                        .map(|(day, _)| day)
                        .unwrap_or(state.resolution_due.unwrap_or(due));
                    Some(Command::RecordRectificationNotified {
                        notification: effect.notification,
                        outcome: effect.outcome,
                        on: effect.on,
                        at: context.now,
                        due,
                        rule,
                        resolution_due_if_unanswered,
                    })
                }
            };
        }
        let due = serde_json::from_value(data.get("due")?.clone()).ok()?;
        match kind {
            // The maximum time resumes after the whole period, counted with the calendar as it
            // is now (the period may have moved since the request took effect).
            RECTIFICATION_TIMER => {
                let resumed = state.suspended_on.and_then(|from| {
                    let until = state.rectification_due.unwrap_or(due);
                    state
                        .resumed_maximum_time(from, until, context.calendar, context.seat)
                        .ok()
                });
                let (resolution_due, max_time_rule) = resumed.unzip();
                Some(Command::CloseRectificationPeriod {
                    due,
                    at: context.now,
                    today: context.today,
                    resolution_due,
                    max_time_rule: max_time_rule.flatten(),
                })
            }
            MAXIMUM_TIME_TIMER => Some(Command::ReachMaximumTime {
                due,
                at: context.now,
                today: context.today,
            }),
            _ => None,
        }
    }

    fn move_deadline(
        kind: &str,
        was: NaiveDate,
        due: NaiveDate,
        rule: DeadlineRule,
        context: &TimerContext<'_>,
    ) -> Option<Command> {
        matches!(kind, RECTIFICATION_TIMER | MAXIMUM_TIME_TIMER).then(|| Command::MoveDeadline {
            kind: kind.to_owned(),
            was,
            due,
            rule,
            at: context.now,
        })
    }

    fn registry_entries(event: &Event) -> Vec<RegistryEntry> {
        match event {
            Event::Submitted {
                entry: Some(entry), ..
            }
            | Event::Rectified {
                entry: Some(entry), ..
            } => vec![entry.clone()],
            _ => Vec::new(),
        }
    }

    fn case_effects(event: &Event) -> Vec<CaseEffect> {
        let changed =
            |stage: Stage, description: &str, at: DateTime<Utc>| CaseEffect::StateChanged {
                state: stage.code().to_owned(),
                description: description.to_owned(),
                at,
            };
        let closed = |stage: Stage, description: &str, at: DateTime<Utc>| CaseEffect::Closed {
            state: stage.code().to_owned(),
            description: description.to_owned(),
            at,
        };
        let closing = |stage: Stage, description: &str, at: DateTime<Utc>| {
            vec![
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
                closed(stage, description, at),
            ]
        };
        match event {
            Event::Submitted {
                case_number,
                sia_code,
                parties,
                subject,
                at,
                resolution_due,
                ..
            } => vec![
                CaseEffect::Opened {
                    case_number: case_number.clone(),
                    sia_code: sia_code.clone(),
                    subject: subject.clone(),
                    parties: parties.clone(),
                    at: *at,
                },
                changed(Stage::Submitted, "Submitted; waiting for the council", *at),
                CaseEffect::ResolutionDue(Some(*resolution_due)),
                CaseEffect::Silence {
                    meaning: MAXIMUM_TIME.silence,
                    basis: MAXIMUM_TIME.describe(),
                    reached_on: None,
                },
            ],
            Event::RectificationIssued { at, .. } => vec![
                changed(
                    Stage::AwaitingRectification,
                    "The council asked the applicant to fix the application: the request is being notified, and the ten business days to fix it count from the day after it takes effect (arts. 41 and 68.1 LPAC)",
                    *at,
                ),
                CaseEffect::CitizenMustAct(None),
            ],
            Event::RectificationNotified {
                what, due, at, on, ..
            } => vec![
                changed(
                    Stage::AwaitingRectification,
                    "The request to fix the application was notified: fix it by the day shown; the time to resolve is suspended meanwhile (arts. 68.1 and 22.1.a LPAC)",
                    at.unwrap_or_else(|| on.and_hms_opt(12, 0, 0).expect("noon exists").and_utc()),
                ),
                CaseEffect::CitizenMustAct(Some(CitizenAction {
                    what: format!("Fix the application: {what}"),
                    due: *due,
                })),
                CaseEffect::ResolutionDue(None),
            ],
            Event::RectificationRequested {
                what, at, due, on, ..
            } => {
                let mut effects = vec![
                    changed(
                        Stage::AwaitingRectification,
                        if on.is_some() {
                            "The council asked you to fix the application; the time to resolve is suspended meanwhile (art. 22.1.a LPAC)"
                        } else {
                            "The council asked you to fix the application"
                        },
                        *at,
                    ),
                    CaseEffect::CitizenMustAct(Some(CitizenAction {
                        what: format!("Fix the application: {what}"),
                        due: *due,
                    })),
                ];
                if on.is_some() {
                    effects.push(CaseEffect::ResolutionDue(None));
                }
                effects
            }
            Event::RectificationExtended { due, .. } => {
                vec![CaseEffect::CitizenMustAct(Some(CitizenAction {
                    what: "Fix the application (period extended)".to_owned(),
                    due: *due,
                }))]
            }
            Event::Rectified {
                at, resolution_due, ..
            } => {
                let mut effects = vec![
                    changed(Stage::Submitted, "Fixed; waiting for the council", *at),
                    CaseEffect::CitizenMustAct(None),
                ];
                effects.extend(resolution_due.map(|due| CaseEffect::ResolutionDue(Some(due))));
                effects
            }
            Event::DesistimientoProposed {
                at, resolution_due, ..
            } => {
                let mut effects = vec![
                    changed(
                        Stage::DesistimientoProposed,
                        "The period to fix the application ended without a fix: the council will declare the withdrawal by resolution (art. 68.1 LPAC); a fix filed before that resolution is notified still counts (art. 73.3)",
                        *at,
                    ),
                    CaseEffect::CitizenMustAct(None),
                ];
                effects.extend(resolution_due.map(|due| CaseEffect::ResolutionDue(Some(due))));
                effects
            }
            Event::ResolutionNotified { .. } => Vec::new(),
            Event::RectificationCorrected { at, restored, .. } => {
                let mut effects = vec![changed(
                    restored.stage,
                    "A fix recorded by mistake was corrected (art. 109.2 LPAC): the request to fix the application stands again",
                    *at,
                )];
                match (restored.stage, restored.due) {
                    (Stage::AwaitingRectification, Some(due)) => {
                        effects.push(CaseEffect::CitizenMustAct(Some(CitizenAction {
                            what: format!(
                                "Fix the application: {}",
                                restored.what.as_deref().unwrap_or_default()
                            ),
                            due,
                        })));
                        effects.push(CaseEffect::ResolutionDue(None));
                    }
                    _ => {
                        effects.push(CaseEffect::CitizenMustAct(None));
                        effects.push(CaseEffect::ResolutionDue(restored.resolution_due));
                    }
                }
                effects
            }
            Event::DeadlineMoved { kind, due, .. } => match kind.as_str() {
                RECTIFICATION_TIMER => vec![CaseEffect::CitizenActionDue(*due)],
                MAXIMUM_TIME_TIMER => vec![CaseEffect::ResolutionDue(Some(*due))],
                _ => Vec::new(),
            },
            Event::DeemedWithdrawn { at } => closing(
                Stage::DeemedWithdrawn,
                "Deemed withdrawn: the application was not fixed in time",
                *at,
            ),
            Event::SilenceReached { meaning, due, .. } => vec![CaseEffect::Silence {
                meaning: *meaning,
                basis: MAXIMUM_TIME.describe(),
                reached_on: due.succ_opt(),
            }],
            Event::Resolved { decision, at, .. } => {
                let (stage, text) = match decision {
                    Decision::Granted => (Stage::Granted, "Resolved: granted"),
                    Decision::Denied => (Stage::Denied, "Resolved: denied"),
                    Decision::Desistimiento => (
                        Stage::DeemedWithdrawn,
                        "Resolved: the applicant is declared to have withdrawn, the application not having been fixed in time (art. 68.1 LPAC)",
                    ),
                };
                closing(stage, text, *at)
            }
            Event::Withdrawn { at } => closing(Stage::Withdrawn, "Withdrawn by the applicant", *at),
        }
    }
}
