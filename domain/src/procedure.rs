//! What every procedure tells the rest of the system about its case files.
//!
//! The event log stores any procedure's events without knowing them; the generic case view (one row
//! per file, used by caseworkers, Mi Carpeta and the Carpeta Ciudadana answers) needs to know what an
//! event means for the file. Each procedure translates its own events into [`CaseEffect`]s here, in
//! pure code, and the projection applies them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::values::{CaseNumber, DocumentNumber, SiaCode};

/// How a person takes part in a file.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PartyRole {
    /// The person the file concerns (interesado).
    Interested,
    /// Someone acting for an interested party (representante, with a power of attorney; a parent
    /// or guardian for a minor).
    Representative,
}

/// An interested party or representative of a file, identified by document number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseParty {
    /// Their identification number; a citizen's token subject is matched against it.
    pub document: DocumentNumber,
    /// Their name as recorded on the file.
    pub name: String,
    /// How they take part.
    pub role: PartyRole,
}

/// Something the citizen must do on a file, and by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitizenAction {
    /// What they must do, in plain words.
    pub what: String,
    /// The last day to do it (already computed with the legal calendar).
    pub due: NaiveDate,
}

/// What one event means for the generic view of its case file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum CaseEffect {
    /// The file was opened.
    Opened {
        /// The human-readable number.
        case_number: CaseNumber,
        /// The procedure's SIA code.
        sia_code: SiaCode,
        /// A one-line subject.
        subject: String,
        /// Its parties at opening.
        parties: Vec<CaseParty>,
        /// When it was opened (the registry entry's time).
        at: DateTime<Utc>,
    },
    /// A party joined the file.
    PartyAdded(CaseParty),
    /// The file moved to a new state.
    StateChanged {
        /// The new state's code (`snake_case`), e.g. `awaiting_rectification`.
        state: String,
        /// A short description for people.
        description: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The citizen now has something to do (or nothing, when `None`).
    CitizenMustAct(Option<CitizenAction>),
    /// The date by which the council must resolve (maximum time), or `None` when no longer running.
    ResolutionDue(Option<NaiveDate>),
    /// The last day of what the citizen must do moved (the legal calendar changed); what they
    /// must do is the same.
    CitizenActionDue(NaiveDate),
    /// What the silence of the council means on this file (arts. 24–25 LPAC) and, once the
    /// maximum time has passed without a resolution, the day it took effect.
    Silence {
        /// Its meaning.
        meaning: crate::lpac::SilenceMeaning,
        /// The maximum time and the articles, as the file shows them.
        basis: String,
        /// The first day after the maximum time, once it passed unresolved.
        reached_on: Option<NaiveDate>,
    },
    /// The file was closed in the given state.
    Closed {
        /// Its final state code.
        state: String,
        /// A short description for people.
        description: String,
        /// When.
        at: DateTime<Utc>,
    },
}

/// What one event means for a file's deadline timers. A timer fires (once) when its day comes:
/// the scheduler then sends the command the procedure derives from it with
/// [`Procedure::timer_command`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "timer", rename_all = "snake_case")]
pub enum TimerEffect {
    /// Starts (or moves) the file's timer of this kind: it fires at the start of `fires_on` in
    /// the council's time zone, i.e. once the last day of the period is over.
    Set {
        /// The kind of deadline (e.g. `rectification_period`); one timer per kind and file.
        kind: String,
        /// The first day after the period.
        fires_on: NaiveDate,
        /// What the command will need (e.g. which period it closes).
        data: serde_json::Value,
    },
    /// Stops the clock (art. 22 suspension): the timer does not fire until set again.
    Suspend {
        /// The kind.
        kind: String,
    },
    /// The deadline no longer runs (the file moved on).
    Cancel {
        /// The kind.
        kind: String,
    },
}

/// How a timer's last day was counted, carried in the timer's data (`"rule"`) so that it can be
/// counted again when the council's legal calendar changes (see [`Procedure::move_deadline`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRule {
    /// The day of the notification or act it counts from (the count starts the day after).
    pub from: NaiveDate,
    /// How many units.
    pub amount: u32,
    /// Business days, calendar days, months…
    pub unit: crate::calendar::Unit,
    /// The interested party's municipality of residence (INE code), when known: a day that is
    /// a holiday there or at the seat is not a business day (art. 30.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence: Option<String>,
    /// The suspensions that moved it (art. 22), in order: counted again with the calendar too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspensions: Vec<crate::calendar::Suspension>,
}

impl DeadlineRule {
    /// A rule without suspensions.
    pub fn new(
        from: NaiveDate,
        amount: u32,
        unit: crate::calendar::Unit,
        residence: Option<&crate::MunicipalityCode>,
    ) -> Self {
        Self {
            from,
            amount,
            unit,
            residence: residence.map(|r| r.to_string()),
            suspensions: Vec::new(),
        }
    }

    /// The same rule, moved by one more suspension.
    pub fn suspended(&self, suspension: crate::calendar::Suspension) -> Self {
        let mut rule = self.clone();
        rule.suspensions.push(suspension);
        rule
    }

    /// The last day by this calendar at `seat`, its suspensions applied in order.
    pub fn due(
        &self,
        calendar: &crate::calendar::HolidayCalendar,
        seat: &str,
    ) -> Result<NaiveDate, crate::calendar::CalendarError> {
        calendar
            .compute_with_suspensions(
                &crate::calendar::DeadlineRequest {
                    from: self.from,
                    at: None,
                    amount: self.amount,
                    unit: self.unit,
                    seat: Some(seat.to_owned()),
                    residence: self.residence.clone(),
                },
                &self.suspensions,
            )
            .map(|r| r.due_date)
    }
}

/// A maximum time's last day, and how it is counted, once it stood still from `from` to `until`
/// (art. 22 LPAC): the suspended business days move it, at the seat and at the residence (art.
/// 30.6), so it lands on a business day (art. 30.5). With the file's `rule`, the suspension is
/// added to it (and counted again whenever the calendar changes); files recorded before rules
/// were move their last day `due` as it stood.
pub fn resumed_after_suspension(
    rule: Option<&DeadlineRule>,
    due: Option<NaiveDate>,
    residence: Option<&str>,
    from: NaiveDate,
    until: NaiveDate,
    calendar: &crate::calendar::HolidayCalendar,
    seat: &str,
) -> Result<(NaiveDate, Option<DeadlineRule>), crate::calendar::CalendarError> {
    let suspension = crate::calendar::Suspension::new(from, until.max(from))?;
    match rule {
        Some(rule) => {
            let rule = rule.suspended(suspension);
            Ok((rule.due(calendar, seat)?, Some(rule)))
        }
        None => {
            let due = due.unwrap_or(until);
            let moved = calendar.apply_suspension(due, &suspension, Some(seat), residence)?;
            Ok((moved.due_date, None))
        }
    }
}

/// A command an event asks to carry out on another stream (a process step across aggregates: a
/// removal file that lapses releases the person's inscription). The scheduler carries it out once,
/// through the target procedure's [`Procedure::timer_command`] with this kind and data, as a timer
/// of the target stream that is due at once; the target's aggregate refuses it if it no longer
/// applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// The target stream's type (its procedure's machine name).
    pub stream_type: String,
    /// The target stream.
    pub stream_id: uuid::Uuid,
    /// The kind of follow-up, as the target procedure's `timer_command` knows it.
    pub kind: String,
    /// What the command needs.
    pub data: serde_json::Value,
    /// The council's local day of the event that asks it: it is due from the start of that day.
    pub on: NaiveDate,
}

/// A message an event asks the system to send (an outbox entry). What it says, and any one-time
/// secret it carries, is produced by the sender when it sends it: the event never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// What the message is (e.g. `activation_link`, `verification_pending`, `account_locked`).
    pub kind: String,
    /// Who receives it.
    pub recipient: NoticeRecipient,
    /// How.
    pub channel: NoticeChannel,
}

/// Who receives a notice.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum NoticeRecipient {
    /// The person the file concerns.
    Person,
    /// The council's internal mailbox.
    Council,
}

/// How a notice is sent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum NoticeChannel {
    /// E-mail.
    Email,
    /// SMS to the mobile phone.
    Sms,
    /// A letter to the postal address.
    Post,
}

/// An event that knows its own stable name and schema version, as stored in the event log.
pub trait DomainEvent: Serialize + DeserializeOwned {
    /// The stable name of this event's variant, stored in the log's `event_type` column.
    fn event_type(&self) -> &'static str;
    /// The version of this event's payload schema; bumped when its shape changes, with an
    /// upcaster for older versions registered where events are read.
    const SCHEMA_VERSION: i32 = 1;
}

/// A procedure: an aggregate whose streams are case files.
pub trait Procedure: esrs::Aggregate
where
    Self::Event: DomainEvent,
{
    /// The procedure's name for people. (Its machine name, [`esrs::Aggregate::NAME`], is the
    /// stream type in the event log.)
    const TITLE: &'static str;

    /// What an event means for the generic case view.
    fn case_effects(event: &Self::Event) -> Vec<CaseEffect>;

    /// What an event means for the file's deadline timers.
    fn timer_effects(_event: &Self::Event) -> Vec<TimerEffect> {
        Vec::new()
    }

    /// The messages an event asks to send.
    fn notices(_event: &Self::Event) -> Vec<Notice> {
        Vec::new()
    }

    /// The registry entries an event records (art. 16 LPAC): the council's registry book reads
    /// them from here, so an entry exists exactly when the event that carries it does.
    fn registry_entries(_event: &Self::Event) -> Vec<crate::lpac::RegistryEntry> {
        Vec::new()
    }

    /// The commands an event of stream `stream_id` asks to carry out on other streams.
    fn follow_ups(_stream_id: uuid::Uuid, _event: &Self::Event) -> Vec<FollowUp> {
        Vec::new()
    }

    /// The command a fired timer sends, built from the timer's kind and data, the file as it is
    /// when the timer fires, the firing time and the council's local date at that time
    /// (deadlines end with local days, not UTC ones); `None` for a kind this procedure does not
    /// know (the timer is then closed as failed). The file's state is there for what a timer's
    /// effect computes from the file (the request to fix's ten days count from its notification,
    /// with the applicant's residence, and suspend the maximum time as it then stands).
    fn timer_command(
        _kind: &str,
        _data: &serde_json::Value,
        _state: &Self::State,
        _context: &TimerContext<'_>,
    ) -> Option<Self::Command> {
        None
    }

    /// The command that moves the file's deadline of timer kind `kind` from its last day `was`
    /// to `due`, because the council's legal calendar changed (an administrator published a year
    /// or its local holidays): the file records the move, its timer and its view follow. `None`
    /// for a kind this procedure does not move.
    fn move_deadline(
        _kind: &str,
        _was: NaiveDate,
        _due: NaiveDate,
        _rule: DeadlineRule,
        _context: &TimerContext<'_>,
    ) -> Option<Self::Command> {
        None
    }
}

/// The timer data of a deadline: its last day, and how it was counted when the rule is known.
pub fn deadline_data(due: NaiveDate, rule: Option<DeadlineRule>) -> serde_json::Value {
    match rule {
        Some(rule) => serde_json::json!({ "due": due, "rule": rule }),
        None => serde_json::json!({ "due": due }),
    }
}

/// What the command of a fired timer (or a follow-up) may use besides the timer's data: the
/// firing moment, the council's local day then, and the council's legal calendar as it is at that
/// moment (resolved by the scheduler, so a deadline that follows from a timer — the hearing after
/// a notification deemed rejected — is computed like any deadline a caseworker's command carries).
#[derive(Debug, Clone, Copy)]
pub struct TimerContext<'a> {
    /// The firing time.
    pub now: DateTime<Utc>,
    /// The council's local date at the firing time (deadlines end with local days).
    pub today: NaiveDate,
    /// The council (the seat of the body, for the calendar).
    pub seat: &'a str,
    /// The council's effective legal calendar.
    pub calendar: &'a crate::calendar::HolidayCalendar,
}

impl TimerContext<'_> {
    /// The last day of `amount` business days counted from the day after `from`, at the seat
    /// (arts. 30.2 and 30.3); `None` when the calendar refuses the request.
    pub fn business_days_after(&self, from: NaiveDate, amount: u32) -> Option<NaiveDate> {
        self.calendar
            .compute(&crate::calendar::DeadlineRequest {
                from,
                at: None,
                amount,
                unit: crate::calendar::Unit::BusinessDays,
                seat: Some(self.seat.to_owned()),
                residence: None,
            })
            .ok()
            .map(|r| r.due_date)
    }
}
