//! The general application (instancia general / solicitud genérica): the procedure every council
//! offers for a request that no specific procedure covers. It is the smallest complete LPAC file —
//! submission, subsanación (art. 68), resolution, withdrawal — and the first procedure plugged into
//! the event log, the case view and the deadline timers.
//!
//! Deadlines are computed by the caller with the legal calendar and carried in the commands, so
//! this aggregate stays pure.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::procedure::{
    CaseEffect, CaseParty, CitizenAction, DomainEvent, PartyRole, Procedure, TimerEffect,
};
use crate::values::{CaseNumber, SiaCode};

/// The aggregate.
#[derive(Debug)]
pub struct GeneralApplication;

/// The life of a general application.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Stage {
    /// Nothing submitted yet (an empty stream).
    #[default]
    NotSubmitted,
    /// Submitted and waiting for the council.
    Submitted,
    /// The applicant was asked to fix the application (subsanación) and the period is running.
    AwaitingRectification,
    /// Resolved: granted.
    Granted,
    /// Resolved: denied.
    Denied,
    /// Withdrawn by the applicant.
    Withdrawn,
    /// Deemed withdrawn because the application was not fixed in time (desistimiento, art. 68.1).
    DeemedWithdrawn,
}

impl Stage {
    /// Its code as stored in read models.
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// Whether the file is closed.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Stage::Granted | Stage::Denied | Stage::Withdrawn | Stage::DeemedWithdrawn
        )
    }
}

/// The state rebuilt from a file's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Where the file is.
    pub stage: Stage,
    /// The parties (applicant first).
    pub parties: Vec<CaseParty>,
    /// The running subsanación period's last day, if any.
    pub rectification_due: Option<NaiveDate>,
    /// Whether the subsanación period was already extended once (art. 68.2).
    pub rectification_extended: bool,
}

/// The decision of a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// What was asked is granted.
    Granted,
    /// What was asked is denied.
    Denied,
}

/// The commands. Times and due dates are resolved by the caller (injected clock, legal calendar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Files the application (registry entry).
    Submit {
        /// The number given to the new file.
        case_number: CaseNumber,
        /// The procedure's SIA code for this council.
        sia_code: SiaCode,
        /// The applicant, and a representative if one acts for them.
        parties: Vec<CaseParty>,
        /// What is asked, in one line.
        subject: String,
        /// The application's text.
        body: String,
        /// When it was filed (art. 31 already applied by the caller).
        at: DateTime<Utc>,
        /// The last day of the maximum time to resolve (art. 21).
        resolution_due: NaiveDate,
    },
    /// A caseworker asks the applicant to fix the application (art. 68.1).
    RequestRectification {
        /// What is missing or wrong.
        what: String,
        /// When the request was notified.
        at: DateTime<Utc>,
        /// The last day to fix it (10 business days from the notification).
        due: NaiveDate,
    },
    /// The period is extended by up to 5 business days (art. 68.2), once.
    ExtendRectification {
        /// When.
        at: DateTime<Utc>,
        /// The new last day.
        due: NaiveDate,
    },
    /// The applicant provides what was missing.
    Rectify {
        /// A note from the applicant.
        note: String,
        /// When (art. 31 already applied).
        at: DateTime<Utc>,
    },
    /// The deadline timer: the subsanación period ended without the application being fixed.
    CloseRectificationPeriod {
        /// The period that is being closed (guards against a timer of an older period).
        due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// The council's local date at that moment: the period ends with its last local day.
        today: NaiveDate,
    },
    /// A caseworker resolves.
    Resolve {
        /// Granted or denied.
        decision: Decision,
        /// The grounds.
        grounds: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The applicant withdraws (art. 94).
    Withdraw {
        /// When.
        at: DateTime<Utc>,
    },
}

/// The events.
// The log stores `event_type()`: strum derives it from the variant names, in the same
// snake_case as the serde tag, so renaming a variant renames stored events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    /// The application was filed.
    Submitted {
        /// The file's number.
        case_number: CaseNumber,
        /// The SIA code.
        sia_code: SiaCode,
        /// The parties.
        parties: Vec<CaseParty>,
        /// One-line subject.
        subject: String,
        /// The text.
        body: String,
        /// When it was filed.
        at: DateTime<Utc>,
        /// The last day to resolve.
        resolution_due: NaiveDate,
    },
    /// Subsanación was requested.
    RectificationRequested {
        /// What to fix.
        what: String,
        /// When notified.
        at: DateTime<Utc>,
        /// The last day.
        due: NaiveDate,
    },
    /// The subsanación period was extended.
    RectificationExtended {
        /// When.
        at: DateTime<Utc>,
        /// The new last day.
        due: NaiveDate,
    },
    /// The applicant fixed the application.
    Rectified {
        /// Their note.
        note: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The period ended without a fix: the applicant is deemed to have withdrawn.
    DeemedWithdrawn {
        /// When.
        at: DateTime<Utc>,
    },
    /// Resolved.
    Resolved {
        /// The decision.
        decision: Decision,
        /// Its grounds.
        grounds: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Withdrawn by the applicant.
    Withdrawn {
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}

/// Why a command is refused, in words a caseworker understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Submit on a file that exists.
    #[error("this file was already submitted")]
    AlreadySubmitted,
    /// Any command but Submit on an empty stream.
    #[error("there is no such application")]
    NotSubmitted,
    /// A command on a closed file.
    #[error("the file is closed ({0})")]
    Closed(&'static str),
    /// Submit without an interested party, or with an empty subject.
    #[error("the application is incomplete: {0}")]
    Incomplete(&'static str),
    /// Subsanación requested while one is already running.
    #[error("a request to fix the application is already running until {0}")]
    RectificationAlreadyRunning(NaiveDate),
    /// Rectify, extend or close the period while none is running.
    #[error("no request to fix the application is running")]
    NoRectificationRunning,
    /// A second extension, or one longer than 5 business days (checked by the caller's calendar:
    /// the new day must come after the current one).
    #[error("the period to fix the application can be extended only once, to a later day")]
    ExtensionNotAllowed,
    /// The timer for an older period fired.
    #[error("the period ending on {0} is not the one running")]
    StalePeriod(NaiveDate),
    /// The period has not ended yet.
    #[error("the period to fix the application runs until {0}")]
    PeriodStillRunning(NaiveDate),
    /// Resolve while the applicant still has time to fix the application.
    #[error("the applicant has until {0} to fix the application; resolve after that")]
    AwaitingApplicant(NaiveDate),
}

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
                    resolution_due,
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
                    resolution_due,
                }])
            }
            (S::NotSubmitted, _) => Err(Refusal::NotSubmitted),
            (_, Command::Submit { .. }) => Err(Refusal::AlreadySubmitted),
            (stage, _) if stage.is_closed() => Err(Refusal::Closed(stage.code())),
            (S::Submitted, Command::RequestRectification { what, at, due }) => {
                if what.trim().is_empty() {
                    return Err(Refusal::Incomplete("say what must be fixed"));
                }
                Ok(vec![Event::RectificationRequested { what, at, due }])
            }
            (S::AwaitingRectification, Command::RequestRectification { .. }) => Err(
                Refusal::RectificationAlreadyRunning(state.rectification_due.unwrap_or_default()),
            ),
            (S::AwaitingRectification, Command::ExtendRectification { at, due }) => {
                let current = state.rectification_due.unwrap_or_default();
                if state.rectification_extended || due <= current {
                    return Err(Refusal::ExtensionNotAllowed);
                }
                Ok(vec![Event::RectificationExtended { at, due }])
            }
            (S::AwaitingRectification, Command::Rectify { note, at }) => {
                Ok(vec![Event::Rectified { note, at }])
            }
            (S::AwaitingRectification, Command::CloseRectificationPeriod { due, at, today }) => {
                let current = state.rectification_due.unwrap_or_default();
                if due != current {
                    return Err(Refusal::StalePeriod(due));
                }
                if today <= current {
                    return Err(Refusal::PeriodStillRunning(current));
                }
                Ok(vec![Event::DeemedWithdrawn { at }])
            }
            (
                S::Submitted,
                Command::ExtendRectification { .. }
                | Command::Rectify { .. }
                | Command::CloseRectificationPeriod { .. },
            ) => Err(Refusal::NoRectificationRunning),
            (S::AwaitingRectification, Command::Resolve { .. }) => Err(Refusal::AwaitingApplicant(
                state.rectification_due.unwrap_or_default(),
            )),
            (
                S::Submitted,
                Command::Resolve {
                    decision,
                    grounds,
                    at,
                },
            ) => {
                if grounds.trim().is_empty() {
                    return Err(Refusal::Incomplete("a resolution states its grounds"));
                }
                Ok(vec![Event::Resolved {
                    decision,
                    grounds,
                    at,
                }])
            }
            (_, Command::Withdraw { at }) => Ok(vec![Event::Withdrawn { at }]),
            // Every open stage is matched above; closed stages were refused earlier.
            (stage, _) => Err(Refusal::Closed(stage.code())),
        }
    }

    fn apply_event(mut state: State, event: Event) -> State {
        match event {
            Event::Submitted { parties, .. } => {
                state.stage = Stage::Submitted;
                state.parties = parties;
            }
            Event::RectificationRequested { due, .. } => {
                state.stage = Stage::AwaitingRectification;
                state.rectification_due = Some(due);
                state.rectification_extended = false;
            }
            Event::RectificationExtended { due, .. } => {
                state.rectification_due = Some(due);
                state.rectification_extended = true;
            }
            Event::Rectified { .. } => {
                state.stage = Stage::Submitted;
                state.rectification_due = None;
            }
            Event::DeemedWithdrawn { .. } => {
                state.stage = Stage::DeemedWithdrawn;
                state.rectification_due = None;
            }
            Event::Resolved { decision, .. } => {
                state.stage = match decision {
                    Decision::Granted => Stage::Granted,
                    Decision::Denied => Stage::Denied,
                };
            }
            Event::Withdrawn { .. } => {
                state.stage = Stage::Withdrawn;
                state.rectification_due = None;
            }
        }
        state
    }
}

/// The timer of the subsanación period.
pub const RECTIFICATION_TIMER: &str = "rectification_period";

impl Procedure for GeneralApplication {
    const TITLE: &'static str = "Instancia general (general application)";

    fn timer_effects(event: &Event) -> Vec<TimerEffect> {
        let set = |due: NaiveDate| TimerEffect::Set {
            kind: RECTIFICATION_TIMER.to_owned(),
            fires_on: due.succ_opt().unwrap_or(due),
            data: serde_json::json!({ "due": due }),
        };
        match event {
            Event::RectificationRequested { due, .. }
            | Event::RectificationExtended { due, .. } => vec![set(*due)],
            Event::Rectified { .. }
            | Event::DeemedWithdrawn { .. }
            | Event::Resolved { .. }
            | Event::Withdrawn { .. } => {
                vec![TimerEffect::Cancel {
                    kind: RECTIFICATION_TIMER.to_owned(),
                }]
            }
            Event::Submitted { .. } => Vec::new(),
        }
    }

    fn timer_command(
        kind: &str,
        data: &serde_json::Value,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Option<Command> {
        match kind {
            RECTIFICATION_TIMER => {
                let due = serde_json::from_value(data.get("due")?.clone()).ok()?;
                Some(Command::CloseRectificationPeriod {
                    due,
                    at: now,
                    today,
                })
            }
            _ => None,
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
            ],
            Event::RectificationRequested { what, at, due } => vec![
                changed(
                    Stage::AwaitingRectification,
                    "The council asked you to fix the application",
                    *at,
                ),
                CaseEffect::CitizenMustAct(Some(CitizenAction {
                    what: format!("Fix the application: {what}"),
                    due: *due,
                })),
            ],
            Event::RectificationExtended { due, .. } => {
                vec![CaseEffect::CitizenMustAct(Some(CitizenAction {
                    what: "Fix the application (period extended)".to_owned(),
                    due: *due,
                }))]
            }
            Event::Rectified { at, .. } => vec![
                changed(Stage::Submitted, "Fixed; waiting for the council", *at),
                CaseEffect::CitizenMustAct(None),
            ],
            Event::DeemedWithdrawn { at } => vec![
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
                closed(
                    Stage::DeemedWithdrawn,
                    "Deemed withdrawn: the application was not fixed in time",
                    *at,
                ),
            ],
            Event::Resolved { decision, at, .. } => {
                let (stage, text) = match decision {
                    Decision::Granted => (Stage::Granted, "Resolved: granted"),
                    Decision::Denied => (Stage::Denied, "Resolved: denied"),
                };
                vec![
                    CaseEffect::CitizenMustAct(None),
                    CaseEffect::ResolutionDue(None),
                    closed(stage, text, *at),
                ]
            }
            Event::Withdrawn { at } => vec![
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
                closed(Stage::Withdrawn, "Withdrawn by the applicant", *at),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::given;
    use crate::values::DocumentNumber;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, day, 10, 0, 0).unwrap()
    }
    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }
    fn applicant() -> CaseParty {
        CaseParty {
            document: "12345678Z".parse::<DocumentNumber>().unwrap(),
            name: "Ana García".into(),
            role: PartyRole::Interested,
        }
    }
    fn submitted() -> Event {
        Event::Submitted {
            case_number: "28079/2026/000001".parse().unwrap(),
            sia_code: "123456".parse().unwrap(),
            parties: vec![applicant()],
            subject: "Poda de un árbol".into(),
            body: "Solicito…".into(),
            at: at(1),
            resolution_due: date(10, 1),
        }
    }
    fn submit_command(parties: Vec<CaseParty>) -> Command {
        Command::Submit {
            case_number: "28079/2026/000001".parse().unwrap(),
            sia_code: "123456".parse().unwrap(),
            parties,
            subject: "Poda de un árbol".into(),
            body: "Solicito…".into(),
            at: at(1),
            resolution_due: date(10, 1),
        }
    }
    fn requested() -> Event {
        Event::RectificationRequested {
            what: "falta el plano".into(),
            at: at(2),
            due: date(7, 16),
        }
    }

    #[test]
    fn submit_opens_the_file() {
        given::<GeneralApplication>([])
            .when(submit_command(vec![applicant()]))
            .then([submitted()]);
    }

    #[test]
    fn submit_needs_an_interested_party() {
        let mut representative = applicant();
        representative.role = PartyRole::Representative;
        given::<GeneralApplication>([])
            .when(submit_command(vec![representative]))
            .then_refused(|e| matches!(e, Refusal::Incomplete(_)));
    }

    #[test]
    fn submit_twice_is_refused() {
        given::<GeneralApplication>([submitted()])
            .when(submit_command(vec![applicant()]))
            .then_refused(|e| *e == Refusal::AlreadySubmitted);
    }

    #[test]
    fn commands_on_an_empty_stream_are_refused() {
        given::<GeneralApplication>([])
            .when(Command::Withdraw { at: at(2) })
            .then_refused(|e| *e == Refusal::NotSubmitted);
    }

    #[test]
    fn rectification_request_then_fix() {
        let state = given::<GeneralApplication>([submitted()])
            .when(Command::RequestRectification {
                what: "falta el plano".into(),
                at: at(2),
                due: date(7, 16),
            })
            .then([requested()]);
        assert_eq!(state.stage, Stage::AwaitingRectification);
        given::<GeneralApplication>([submitted(), requested()])
            .when(Command::Rectify {
                note: "adjunto".into(),
                at: at(3),
            })
            .then([Event::Rectified {
                note: "adjunto".into(),
                at: at(3),
            }]);
    }

    #[test]
    fn a_second_rectification_request_is_refused_while_one_runs() {
        given::<GeneralApplication>([submitted(), requested()])
            .when(Command::RequestRectification {
                what: "otra cosa".into(),
                at: at(3),
                due: date(7, 17),
            })
            .then_refused(|e| *e == Refusal::RectificationAlreadyRunning(date(7, 16)));
    }

    #[test]
    fn extension_once_and_only_later() {
        let extended = Event::RectificationExtended {
            at: at(3),
            due: date(7, 23),
        };
        given::<GeneralApplication>([submitted(), requested()])
            .when(Command::ExtendRectification {
                at: at(3),
                due: date(7, 23),
            })
            .then([extended.clone()]);
        given::<GeneralApplication>([submitted(), requested()])
            .when(Command::ExtendRectification {
                at: at(3),
                due: date(7, 15),
            })
            .then_refused(|e| *e == Refusal::ExtensionNotAllowed);
        given::<GeneralApplication>([submitted(), requested(), extended])
            .when(Command::ExtendRectification {
                at: at(4),
                due: date(7, 30),
            })
            .then_refused(|e| *e == Refusal::ExtensionNotAllowed);
    }

    #[test]
    fn period_closes_only_after_its_last_local_day() {
        // 23:00 UTC on 16 July is already 17 July in Madrid: the period (last day 16 July) is over.
        let madrid_midnight = Utc.with_ymd_and_hms(2026, 7, 16, 22, 0, 0).unwrap();
        given::<GeneralApplication>([submitted(), requested()])
            .when(Command::CloseRectificationPeriod {
                due: date(7, 16),
                at: madrid_midnight - chrono::Duration::minutes(1),
                today: date(7, 16),
            })
            .then_refused(|e| *e == Refusal::PeriodStillRunning(date(7, 16)));
        given::<GeneralApplication>([submitted(), requested()])
            .when(Command::CloseRectificationPeriod {
                due: date(7, 16),
                at: madrid_midnight,
                today: date(7, 17),
            })
            .then([Event::DeemedWithdrawn {
                at: madrid_midnight,
            }]);
    }

    #[test]
    fn a_stale_timer_is_refused() {
        given::<GeneralApplication>([submitted(), requested()])
            .when(Command::CloseRectificationPeriod {
                due: date(7, 10),
                at: at(20),
                today: date(7, 20),
            })
            .then_refused(|e| *e == Refusal::StalePeriod(date(7, 10)));
        let fixed = Event::Rectified {
            note: String::new(),
            at: at(3),
        };
        given::<GeneralApplication>([submitted(), requested(), fixed])
            .when(Command::CloseRectificationPeriod {
                due: date(7, 16),
                at: at(20),
                today: date(7, 20),
            })
            .then_refused(|e| *e == Refusal::NoRectificationRunning);
    }

    #[test]
    fn resolve_waits_for_the_applicant() {
        given::<GeneralApplication>([submitted(), requested()])
            .when(Command::Resolve {
                decision: Decision::Granted,
                grounds: "ok".into(),
                at: at(5),
            })
            .then_refused(|e| *e == Refusal::AwaitingApplicant(date(7, 16)));
        let state = given::<GeneralApplication>([submitted()])
            .when(Command::Resolve {
                decision: Decision::Denied,
                grounds: "no procede".into(),
                at: at(5),
            })
            .then([Event::Resolved {
                decision: Decision::Denied,
                grounds: "no procede".into(),
                at: at(5),
            }]);
        assert!(state.stage.is_closed());
    }

    #[test]
    fn closed_files_refuse_everything() {
        let withdrawn = Event::Withdrawn { at: at(4) };
        given::<GeneralApplication>([submitted(), withdrawn])
            .when(Command::Withdraw { at: at(5) })
            .then_refused(|e| *e == Refusal::Closed("withdrawn"));
    }

    #[test]
    fn the_rectification_period_sets_and_cancels_its_timer() {
        let effects = GeneralApplication::timer_effects(&requested());
        assert_eq!(
            effects,
            vec![TimerEffect::Set {
                kind: RECTIFICATION_TIMER.into(),
                fires_on: date(7, 17),
                data: serde_json::json!({"due": "2026-07-16"}),
            }]
        );
        let TimerEffect::Set { kind, data, .. } = &effects[0] else {
            unreachable!()
        };
        assert_eq!(
            GeneralApplication::timer_command(kind, data, at(17), date(7, 17)),
            Some(Command::CloseRectificationPeriod {
                due: date(7, 16),
                at: at(17),
                today: date(7, 17),
            })
        );
        assert!(GeneralApplication::timer_command("unknown", data, at(17), date(7, 17)).is_none());
        for closing in [
            Event::Withdrawn { at: at(4) },
            Event::Rectified {
                note: String::new(),
                at: at(4),
            },
        ] {
            assert!(matches!(
                GeneralApplication::timer_effects(&closing)[..],
                [TimerEffect::Cancel { .. }]
            ));
        }
    }

    #[test]
    fn events_round_trip_through_json() {
        for event in [submitted(), requested(), Event::Withdrawn { at: at(4) }] {
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], event.event_type());
            assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
        }
    }

    #[test]
    fn event_types_are_the_names_stored_in_the_log() {
        // The log's `event_type` column holds these names: they must never change, and they are
        // the JSON tag too.
        for (event, name) in [
            (submitted(), "submitted"),
            (requested(), "rectification_requested"),
            (
                Event::RectificationExtended {
                    at: at(3),
                    due: date(7, 23),
                },
                "rectification_extended",
            ),
            (
                Event::Rectified {
                    note: "plano adjunto".into(),
                    at: at(3),
                },
                "rectified",
            ),
            (Event::DeemedWithdrawn { at: at(20) }, "deemed_withdrawn"),
            (
                Event::Resolved {
                    decision: Decision::Granted,
                    grounds: "conforme".into(),
                    at: at(9),
                },
                "resolved",
            ),
            (Event::Withdrawn { at: at(4) }, "withdrawn"),
        ] {
            assert_eq!(event.event_type(), name);
            assert_eq!(serde_json::to_value(&event).unwrap()["type"], name);
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_command() -> impl Strategy<Value = Command> {
            prop_oneof![
                Just(submit_command(vec![applicant()])),
                (1u32..28).prop_map(|d| Command::RequestRectification {
                    what: "x".into(),
                    at: at(d),
                    due: date(8, d)
                }),
                (1u32..28).prop_map(|d| Command::ExtendRectification {
                    at: at(d),
                    due: date(8, d)
                }),
                (1u32..28).prop_map(|d| Command::Rectify {
                    note: String::new(),
                    at: at(d)
                }),
                (1u32..28).prop_map(|d| Command::CloseRectificationPeriod {
                    due: date(8, d),
                    at: Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap(),
                    today: date(9, 1),
                }),
                Just(Command::Resolve {
                    decision: Decision::Granted,
                    grounds: "g".into(),
                    at: at(9)
                }),
                Just(Command::Withdraw { at: at(9) }),
            ]
        }

        proptest! {
            /// Whatever sequence of commands arrives, a closed file never changes again, a
            /// citizen-facing period exists exactly while awaiting rectification, and replaying
            /// the accepted events rebuilds the same state.
            #[test]
            fn state_machine_invariants(commands in proptest::collection::vec(any_command(), 0..30)) {
                let mut state = State::default();
                let mut history = Vec::new();
                for command in commands {
                    let before = state.clone();
                    match <GeneralApplication as esrs::Aggregate>::handle_command(&state, command) {
                        Ok(events) => {
                            prop_assert!(!before.stage.is_closed());
                            for e in events {
                                history.push(e.clone());
                                state = <GeneralApplication as esrs::Aggregate>::apply_event(state, e);
                            }
                        }
                        Err(_) => prop_assert_eq!(&state, &before),
                    }
                    prop_assert_eq!(
                        state.rectification_due.is_some(),
                        state.stage == Stage::AwaitingRectification
                    );
                }
                let replayed = history.into_iter().fold(State::default(), <GeneralApplication as esrs::Aggregate>::apply_event);
                prop_assert_eq!(replayed, state);
            }
        }
    }
}
