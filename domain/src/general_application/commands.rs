//! The commands of a general application. Times, registry entries and due dates are resolved by
//! the caller (injected clock, registry, legal calendar), so the aggregate stays pure.

use crate::procedure::DeadlineRule;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::lpac::{Appeal, Reasons, RegistryEntry};
use crate::procedure::CaseParty;
use crate::values::{CaseNumber, SiaCode};

/// The decision of a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// What was asked is granted.
    Granted,
    /// What was asked is denied.
    Denied,
    /// The applicant is declared to have withdrawn, the application not having been fixed in
    /// time (art. 68.1, in a resolution under art. 21.1).
    Desistimiento,
}

/// The commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Files the application (its registry entry given).
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
        /// When it counts as filed (art. 31 already applied by the caller).
        at: DateTime<Utc>,
        /// Its registry entry.
        entry: RegistryEntry,
        /// The last day of the maximum time to resolve (art. 21.3, from the entry).
        resolution_due: NaiveDate,
        /// How that day was counted (to count it again if the legal calendar changes).
        max_time_rule: Option<DeadlineRule>,
        /// The applicant's municipality of residence (INE code), when known: its holidays count too (art. 30.6).
        residence: Option<crate::MunicipalityCode>,
        /// How the applicant is notified: electronically, or on paper at an address when they
        /// are not obliged to deal electronically and chose it (arts. 14, 41.1).
        notify_by: crate::lpac::notification::Delivery,
    },
    /// A caseworker asks the applicant to fix the application (art. 68.1); the request is
    /// notified (the notification issued in the same append), and its period starts when the
    /// notification takes effect.
    RequestRectification {
        /// What is missing or wrong.
        what: String,
        /// When the request was made.
        at: DateTime<Utc>,
        /// The notification that carries it.
        notification: uuid::Uuid,
    },
    /// The request's notification took effect (reported by the notification's follow-up): the
    /// ten business days run from the next day (art. 68.1, with the residence's holidays, art.
    /// 30.6) and the maximum time stands still from that day (art. 22.1.a).
    RecordRectificationNotified {
        /// The notification.
        notification: uuid::Uuid,
        /// How it took effect.
        outcome: crate::lpac::notification::Outcome,
        /// The day it took effect.
        on: NaiveDate,
        /// When the file learned it.
        at: DateTime<Utc>,
        /// The last day to fix the application.
        due: NaiveDate,
        /// How that day is counted.
        rule: DeadlineRule,
        /// The maximum time's last day if the period ends without a fix.
        resolution_due_if_unanswered: NaiveDate,
    },
    /// The period is extended by up to 5 business days (art. 68.2), once.
    ExtendRectification {
        /// When.
        at: DateTime<Utc>,
        /// The new last day.
        due: NaiveDate,
        /// How it is counted (absent for requests recorded before rules were).
        rule: Option<DeadlineRule>,
        /// The maximum time's last day if the extended period ends without a fix.
        resolution_due_if_unanswered: NaiveDate,
    },
    /// The applicant provides what was missing (also after the period, until the desistimiento is
    /// declared, art. 73.3).
    Rectify {
        /// A note from the applicant.
        note: String,
        /// When it counts as filed (art. 31 already applied).
        at: DateTime<Utc>,
        /// Its registry entry.
        entry: RegistryEntry,
        /// The maximum time's last day now that the suspension ended.
        resolution_due: NaiveDate,
        /// How that day is counted (the suspension included), when the file knows its rule.
        max_time_rule: Option<DeadlineRule>,
    },
    /// The deadline timer: the subsanación period ended without the application being fixed.
    CloseRectificationPeriod {
        /// The period that is being closed (guards against a timer of an older period).
        due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// The council's local date at that moment: the period ends with its last local day.
        today: NaiveDate,
        /// The maximum time's last day, the suspension having lasted the whole period (computed
        /// with the calendar as it is when the period ends; absent when it cannot be).
        resolution_due: Option<NaiveDate>,
        /// How that day is counted.
        max_time_rule: Option<DeadlineRule>,
    },
    /// The deadline timer: the maximum time to resolve passed (art. 24).
    ReachMaximumTime {
        /// The last day that passed (guards against a timer of an older last day).
        due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// The council's local date at that moment.
        today: NaiveDate,
    },
    /// A caseworker resolves.
    Resolve {
        /// Granted, denied, or the declaration of desistimiento.
        decision: Decision,
        /// The reasons (art. 35).
        reasons: Reasons,
        /// The appeals that may be brought (art. 88.3, told in the notification, art. 40.2).
        appeals: Vec<Appeal>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The applicant withdraws (art. 94).
    Withdraw {
        /// When.
        at: DateTime<Utc>,
    },
    /// The council's legal calendar changed: a deadline of the file (by its timer's kind) is
    /// counted again and moves from `was` to `due` (sent by the scheduler).
    MoveDeadline {
        /// The timer's kind (`rectification_period`, `maximum_time`).
        kind: String,
        /// Its last day until now.
        was: NaiveDate,
        /// Its last day by the calendar as it is now.
        due: NaiveDate,
        /// How it is counted.
        rule: DeadlineRule,
        /// When.
        at: DateTime<Utc>,
    },
    /// A caseworker corrects a fix recorded by a material error (art. 109.2: a paper fix entered
    /// on the wrong file, say): the period to fix stands again as it was, and the maximum time
    /// stands still again. Only while that fix is the file's last step.
    CorrectRectification {
        /// What is corrected and why.
        correction: crate::lpac::Correction,
        /// When.
        at: DateTime<Utc>,
    },
    /// The resolution's notification took effect (reported by the notification's follow-up):
    /// the appeals' time counts from the next day.
    RecordResolutionNotified {
        /// The notification.
        notification: uuid::Uuid,
        /// How it took effect.
        outcome: crate::lpac::notification::Outcome,
        /// The day.
        on: NaiveDate,
    },
}
