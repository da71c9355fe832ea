//! Notifications (arts. 40–46 LPAC) as records of their own: one stream per notification, issued
//! by a procedure together with the act it notifies (in the same append), with its exit entry in
//! the registry (art. 16.1).
//!
//! - Every act is sent within ten business days of being dictated (art. 40.2): a timer warns the
//!   caseworker when a letter or an edict has not gone out by then.
//! - Electronic (art. 43): made available in the electronic office; it takes effect when the
//!   addressee (or their representative) opens it, and is deemed rejected when ten calendar days
//!   pass without that (the procedure goes on, art. 41.5).
//! - Paper (art. 42.2): an attempt that finds nobody is repeated once, within the three days
//!   after, at another time (one before 15:00 and the other after, at least three hours apart);
//!   a refusal by the addressee is a notification done (art. 41.5); after two failed attempts, or
//!   an addressee unknown at the address, the edict in the BOE (art. 44).
//! - Edict at once when the addressee or the address is unknown (art. 44).
//!
//! When it takes effect, the file's procedure is told by a follow-up ([`Effect`]), and its
//! deadlines (a hearing, an appeal) count from that day. Every date typed in is checked against
//! what it follows and against today.

use chrono::{Days, NaiveDate, NaiveTime, TimeDelta};
use uuid::Uuid;

use crate::lpac::RegistryEntry;
use crate::procedure::{CaseEffect, FollowUp, Procedure, TimerContext, TimerEffect};

mod commands;
mod events;
mod refusals;
mod state;
#[cfg(test)]
mod tests;
mod values;

pub use commands::Command;
pub use events::Event;
pub use refusals::Refusal;
pub use state::{Stage, State};
pub use values::{Act, ActKind, Addressee, AttemptResult, CaseRef, Delivery, EdictReason, Outcome};

/// The aggregate.
#[derive(Debug)]
pub struct Notification;

/// An electronic notification is deemed rejected after this many calendar days without access
/// (art. 43.2).
pub const REJECTION_DAYS: u64 = 10;
/// Every act is sent within this many business days of being dictated (art. 40.2).
pub const SENDING_BUSINESS_DAYS: u32 = 10;
/// The timer of the deemed rejection.
pub const REJECTION_TIMER: &str = "notification_rejection";
/// The timer that warns of a notification not sent in time.
pub const SENDING_TIMER: &str = "notification_sending";
/// The aviso of an electronic notification waiting (art. 41.6).
pub const NOTICE_AVAILABLE: &str = "notification_available";
/// The follow-up kind (per notification) that tells the file its notification took effect.
pub const TOOK_EFFECT: &str = "notification_took_effect";

/// The follow-up kind for one notification: one per notification, so that a file's several
/// notifications are each carried out once.
pub fn follow_up_kind(notification: Uuid) -> String {
    format!("{TOOK_EFFECT}/{notification}")
}

/// What a file's procedure learns when one of its notifications took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Effect {
    /// The notification.
    pub notification: Uuid,
    /// The act it notified.
    pub act: ActKind,
    /// How it took effect.
    pub outcome: Outcome,
    /// The day it took effect (the procedure's deadlines count from the next day).
    pub on: NaiveDate,
}

impl Effect {
    /// The effect a follow-up of this kind and data reports, for the file's `timer_command`.
    pub fn from_follow_up(kind: &str, data: &serde_json::Value) -> Option<Effect> {
        kind.strip_prefix(TOOK_EFFECT)?.strip_prefix('/')?;
        serde_json::from_value(data.clone()).ok()
    }
}

/// The last day before an electronic notification made available on `available_on` is deemed
/// rejected (the tenth calendar day after, art. 43.2).
pub fn rejected_on(available_on: NaiveDate) -> NaiveDate {
    available_on + Days::new(REJECTION_DAYS)
}

fn afternoon() -> NaiveTime {
    NaiveTime::from_hms_opt(15, 0, 0).expect("15:00 exists")
}

/// Art. 42.2: the second attempt on one of the three (business, art. 30.2) days after the first's
/// — `last_day` is the third, counted by the caller with the calendar —, one before 15:00 and the
/// other after, at least three hours apart (as times of the day).
fn second_attempt_fits(
    first: chrono::NaiveDateTime,
    second: chrono::NaiveDateTime,
    last_day: NaiveDate,
) -> bool {
    let sides_differ = (first.time() < afternoon()) != (second.time() < afternoon());
    let apart = (second.time() - first.time()).abs() >= TimeDelta::hours(3);
    second.date() > first.date() && second.date() <= last_day && sides_differ && apart
}

fn took_effect(state: &State, outcome: Outcome, on: NaiveDate) -> Event {
    let case = state
        .case
        .as_ref()
        .expect("an issued notification has its file");
    Event::TookEffect {
        case_type: case.stream_type.clone(),
        case_id: case.stream_id,
        act: state
            .act
            .as_ref()
            .expect("an issued notification has its act")
            .kind,
        outcome,
        on,
    }
}

impl esrs::Aggregate for Notification {
    const NAME: &'static str = "notification";
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle_command(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
        use Command as C;
        use Stage as S;
        match (state.stage, command) {
            (
                S::NotIssued,
                C::Issue {
                    case,
                    act,
                    addressee,
                    delivery,
                    exit,
                    sending_due,
                    at,
                    today,
                },
            ) => {
                if act.summary.trim().is_empty() || act.text.trim().is_empty() {
                    return Err(Refusal::ActIncomplete);
                }
                if act.on > today {
                    return Err(Refusal::InFuture("the act's date"));
                }
                match (&delivery, &addressee) {
                    (Delivery::Electronic, None) => {
                        return Err(Refusal::Addressee(
                            "an electronic notification needs its addressee",
                        ))
                    }
                    (Delivery::Paper { .. }, None) => {
                        return Err(Refusal::Addressee("a letter needs its addressee"))
                    }
                    (Delivery::Paper { address }, Some(_)) if address.trim().is_empty() => {
                        return Err(Refusal::AddressMissing)
                    }
                    (
                        Delivery::Edict {
                            reason: EdictReason::AddresseeUnknown,
                        },
                        Some(_),
                    ) => {
                        return Err(Refusal::Addressee(
                            "an edict for an unknown addressee names nobody",
                        ))
                    }
                    (
                        Delivery::Edict {
                            reason: EdictReason::AddressUnknown,
                        },
                        None,
                    ) => {
                        return Err(Refusal::Addressee(
                            "an edict for an unknown address names its addressee",
                        ))
                    }
                    _ => {}
                }
                let available_on = (delivery == Delivery::Electronic).then_some(today);
                Ok(vec![Event::Issued {
                    case,
                    act,
                    addressee,
                    delivery,
                    exit,
                    sending_due,
                    at,
                    available_on,
                }])
            }
            (S::NotIssued, _) => Err(Refusal::NotIssued),
            (_, C::Issue { .. }) => Err(Refusal::AlreadyIssued),
            // Opening it again shows it again; the first access (or the rejection) stands.
            (
                S::TookEffect,
                C::Access {
                    by,
                    for_the_addressee,
                    ..
                },
            ) => {
                check_opener(state, &by, for_the_addressee)?;
                Ok(Vec::new())
            }
            (S::TookEffect, _) => Err(Refusal::AlreadyTookEffect(
                state
                    .effect
                    .map(|(_, on)| on)
                    .expect("took effect on a day"),
            )),
            (S::ToDispatch, C::Dispatch { on, today }) => {
                let act_on = state.act.as_ref().map_or(on, |a| a.on);
                if on < act_on {
                    return Err(Refusal::TooEarly {
                        what: "the dispatch",
                        earliest: act_on,
                    });
                }
                if on > today {
                    return Err(Refusal::InFuture("the dispatch"));
                }
                Ok(vec![Event::Dispatched { on }])
            }
            (_, C::Dispatch { .. }) => Err(Refusal::NotNow(
                "only a letter waiting to be posted is dispatched",
            )),
            (
                stage @ (S::Dispatched | S::SecondAttemptDue),
                C::RecordAttempt {
                    at,
                    result,
                    now,
                    second_attempt_by,
                },
            ) => {
                let posted = state
                    .dispatched_on
                    .expect("a dispatched letter has its day");
                if at.date() < posted {
                    return Err(Refusal::TooEarly {
                        what: "a delivery attempt",
                        earliest: posted,
                    });
                }
                if at > now {
                    return Err(Refusal::InFuture("a delivery attempt"));
                }
                if let AttemptResult::Delivered { received_by } = &result {
                    if received_by.trim().is_empty() {
                        return Err(Refusal::NotNow("say who received the letter"));
                    }
                }
                let attempt = match (stage, second_attempt_by) {
                    (S::SecondAttemptDue, Some(last_day)) => {
                        let first = state.first_attempt.expect("a first attempt was recorded");
                        if at.date() > last_day {
                            // Too late to be the second: the postal service starts again, and
                            // two attempts in rule are still needed before the edict.
                            1
                        } else if !second_attempt_fits(first, at, last_day) {
                            return Err(Refusal::SecondAttemptOutOfRule);
                        } else {
                            2
                        }
                    }
                    (S::SecondAttemptDue, None) => {
                        return Err(Refusal::NotNow(
                            "the second attempt needs the last day it may be made",
                        ))
                    }
                    _ => 1,
                };
                let mut events = vec![Event::AttemptRecorded {
                    attempt,
                    at,
                    result: result.clone(),
                }];
                match result {
                    AttemptResult::Delivered { .. } => {
                        events.push(took_effect(state, Outcome::Delivered, at.date()))
                    }
                    AttemptResult::Refused => {
                        events.push(took_effect(state, Outcome::Rejected, at.date()))
                    }
                    AttemptResult::Absent | AttemptResult::UnknownAtAddress => {}
                }
                Ok(events)
            }
            (_, C::RecordAttempt { .. }) => Err(Refusal::NotNow(
                "delivery attempts are recorded for a posted letter still to be delivered",
            )),
            (
                stage,
                C::Access {
                    by,
                    for_the_addressee,
                    at,
                    on,
                },
            ) => {
                if state.delivery != Some(Delivery::Electronic) || stage != S::Available {
                    return Err(Refusal::NotNow(
                        "only an electronic notification is opened in the electronic office",
                    ));
                }
                check_opener(state, &by, for_the_addressee)?;
                // Opened after the tenth day (before the rejection timer ran): the access is
                // recorded, but the notification was already rejected on the tenth (art. 43.2).
                let last = rejected_on(state.available_on.expect("available on a day"));
                let effect = if on > last {
                    took_effect(state, Outcome::Rejected, last)
                } else {
                    took_effect(state, Outcome::Accessed, on)
                };
                Ok(vec![Event::Accessed { by, at }, effect])
            }
            (S::Available, C::DeemRejected { today }) => {
                let last = rejected_on(state.available_on.expect("available on a day"));
                if today <= last {
                    return Err(Refusal::NotDue(last));
                }
                Ok(vec![took_effect(state, Outcome::Rejected, last)])
            }
            (_, C::DeemRejected { .. }) => Err(Refusal::NotNow(
                "only an electronic notification not opened is deemed rejected",
            )),
            (
                S::EdictDue,
                C::PublishEdict {
                    on,
                    reference,
                    today,
                },
            ) => {
                if reference.trim().is_empty() {
                    return Err(Refusal::EdictReferenceMissing);
                }
                let earliest = state
                    .last_attempt_on
                    .or(state.act.as_ref().map(|a| a.on))
                    .unwrap_or(on);
                if on < earliest {
                    return Err(Refusal::TooEarly {
                        what: "the edict",
                        earliest,
                    });
                }
                if on > today {
                    return Err(Refusal::InFuture("the edict"));
                }
                Ok(vec![
                    Event::EdictPublished {
                        on,
                        reference: reference.trim().to_owned(),
                    },
                    took_effect(state, Outcome::Edict, on),
                ])
            }
            (_, C::PublishEdict { .. }) => Err(Refusal::EdictNotYet),
            (stage, C::WarnSendingOverdue { today }) => {
                let unsent = stage == S::ToDispatch
                    || (stage == S::EdictDue && state.dispatched_on.is_none());
                let due = state.sending_due.expect("issued with its last day to send");
                if !unsent || state.overdue_warned {
                    return Err(Refusal::NotNow("it was sent"));
                }
                if today <= due {
                    return Err(Refusal::NotDue(due));
                }
                Ok(vec![Event::SendingOverdue { due, on: today }])
            }
        }
    }

    fn apply_event(mut state: State, event: Event) -> State {
        match event {
            Event::Issued {
                case,
                act,
                addressee,
                delivery,
                sending_due,
                available_on,
                ..
            } => {
                state.stage = match delivery {
                    Delivery::Electronic => Stage::Available,
                    Delivery::Paper { .. } => Stage::ToDispatch,
                    Delivery::Edict { .. } => Stage::EdictDue,
                };
                state.case = Some(case);
                state.act = Some(act);
                state.addressee = addressee;
                state.delivery = Some(delivery);
                state.sending_due = Some(sending_due);
                state.available_on = available_on;
            }
            Event::Dispatched { on } => {
                state.stage = Stage::Dispatched;
                state.dispatched_on = Some(on);
            }
            Event::AttemptRecorded {
                attempt,
                at,
                result,
            } => {
                state.last_attempt_on = Some(at.date());
                match result {
                    AttemptResult::Absent if attempt == 1 => {
                        state.stage = Stage::SecondAttemptDue;
                        state.first_attempt = Some(at);
                    }
                    AttemptResult::Absent | AttemptResult::UnknownAtAddress => {
                        state.stage = Stage::EdictDue
                    }
                    AttemptResult::Delivered { .. } | AttemptResult::Refused => {}
                }
            }
            Event::Accessed { .. } | Event::EdictPublished { .. } => {}
            Event::TookEffect { outcome, on, .. } => {
                state.stage = Stage::TookEffect;
                state.effect = Some((outcome, on));
            }
            Event::SendingOverdue { .. } => state.overdue_warned = true,
        }
        state
    }
}

fn check_opener(
    state: &State,
    by: &crate::values::DocumentNumber,
    for_the_addressee: bool,
) -> Result<(), Refusal> {
    let addressee = state.addressee.as_ref().map(|a| &a.document);
    if for_the_addressee || addressee == Some(by) {
        Ok(())
    } else {
        Err(Refusal::NotTheAddressee)
    }
}

impl Procedure for Notification {
    const TITLE: &'static str = "Notificación";

    /// A notification is a record of its file, not a file: the file's own events say what its
    /// effect means for it.
    fn case_effects(_event: &Event) -> Vec<CaseEffect> {
        Vec::new()
    }

    fn timer_effects(event: &Event) -> Vec<TimerEffect> {
        let cancel = |kind: &str| TimerEffect::Cancel { kind: kind.into() };
        match event {
            Event::Issued {
                available_on: Some(available_on),
                ..
            } => vec![TimerEffect::Set {
                kind: REJECTION_TIMER.into(),
                fires_on: rejected_on(*available_on) + Days::new(1),
                data: serde_json::json!({ "available_on": available_on }),
            }],
            Event::Issued { sending_due, .. } => vec![TimerEffect::Set {
                kind: SENDING_TIMER.into(),
                fires_on: *sending_due + Days::new(1),
                data: serde_json::json!({ "due": sending_due }),
            }],
            Event::Dispatched { .. } | Event::EdictPublished { .. } => vec![cancel(SENDING_TIMER)],
            Event::TookEffect { .. } => vec![cancel(REJECTION_TIMER), cancel(SENDING_TIMER)],
            _ => Vec::new(),
        }
    }

    fn timer_command(
        kind: &str,
        _data: &serde_json::Value,
        _state: &State,
        context: &TimerContext<'_>,
    ) -> Option<Command> {
        match kind {
            REJECTION_TIMER => Some(Command::DeemRejected {
                today: context.today,
            }),
            SENDING_TIMER => Some(Command::WarnSendingOverdue {
                today: context.today,
            }),
            _ => None,
        }
    }

    /// Art. 41.6: the addressee of an electronic notification is told, by e-mail, that it is
    /// waiting (whether or not the aviso arrives, the notification is valid).
    fn notices(event: &Event) -> Vec<crate::Notice> {
        match event {
            Event::Issued {
                available_on: Some(_),
                addressee: Some(_),
                ..
            } => vec![crate::Notice {
                kind: NOTICE_AVAILABLE.into(),
                recipient: crate::NoticeRecipient::Person,
                channel: crate::NoticeChannel::Email,
            }],
            _ => Vec::new(),
        }
    }

    fn registry_entries(event: &Event) -> Vec<RegistryEntry> {
        match event {
            Event::Issued { exit, .. } => vec![exit.clone()],
            _ => Vec::new(),
        }
    }

    fn follow_ups(notification: Uuid, event: &Event) -> Vec<FollowUp> {
        match event {
            Event::TookEffect {
                case_type,
                case_id,
                act,
                outcome,
                on,
            } => vec![FollowUp {
                stream_type: case_type.clone(),
                stream_id: *case_id,
                kind: follow_up_kind(notification),
                data: serde_json::to_value(Effect {
                    notification,
                    act: *act,
                    outcome: *outcome,
                    on: *on,
                })
                .expect("an effect serialises"),
                on: *on,
            }],
            _ => Vec::new(),
        }
    }
}
