//! The events of a general application, as stored in the log. Fields added after the first
//! version are optional, so the events of files opened before still read.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::Decision;
use crate::lpac::{Appeal, RegistryEntry, SilenceMeaning};
use crate::procedure::{CaseParty, DeadlineRule, DomainEvent};
use crate::values::{CaseNumber, SiaCode};

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
        /// When it counts as filed.
        at: DateTime<Utc>,
        /// Its registry entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<RegistryEntry>,
        /// The last day to resolve.
        resolution_due: NaiveDate,
        /// How that day was counted (absent in files filed before it was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_time_rule: Option<DeadlineRule>,
        /// The applicant's municipality of residence, when known (absent in older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        residence: Option<crate::MunicipalityCode>,
        /// How the applicant is notified (absent in older events: electronically).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notify_by: Option<crate::lpac::notification::Delivery>,
    },
    /// Subsanación was requested, to be notified: its period starts when the notification takes
    /// effect.
    RectificationIssued {
        /// What to fix.
        what: String,
        /// When it was requested.
        at: DateTime<Utc>,
        /// The notification that carries it.
        notification: uuid::Uuid,
    },
    /// The request to fix was notified: its period runs and the maximum time stands still.
    RectificationNotified {
        /// The notification.
        notification: uuid::Uuid,
        /// How it took effect.
        outcome: crate::lpac::notification::Outcome,
        /// What to fix.
        what: String,
        /// The day it took effect.
        on: NaiveDate,
        /// When the file learned it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<DateTime<Utc>>,
        /// The last day to fix the application.
        due: NaiveDate,
        /// How that day is counted.
        rule: DeadlineRule,
        /// The maximum time's last day if no fix arrives.
        resolution_due_if_unanswered: NaiveDate,
    },
    /// Subsanación was requested and notified at once (files before requests were notification
    /// records; no longer emitted).
    RectificationRequested {
        /// What to fix.
        what: String,
        /// When notified.
        at: DateTime<Utc>,
        /// The local day of the notification (the maximum time is suspended from it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<NaiveDate>,
        /// The last day.
        due: NaiveDate,
        /// The maximum time's last day if no fix arrives.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolution_due_if_unanswered: Option<NaiveDate>,
        /// The applicant's municipality of residence the period was counted with (art. 30.6).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        residence: Option<crate::MunicipalityCode>,
    },
    /// The subsanación period was extended.
    RectificationExtended {
        /// When.
        at: DateTime<Utc>,
        /// The new last day.
        due: NaiveDate,
        /// How it is counted (absent in older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<DeadlineRule>,
        /// The maximum time's last day if no fix arrives.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolution_due_if_unanswered: Option<NaiveDate>,
    },
    /// The applicant fixed the application.
    Rectified {
        /// Their note.
        note: String,
        /// When it counts as filed.
        at: DateTime<Utc>,
        /// Its registry entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<RegistryEntry>,
        /// The maximum time's last day, the suspension over.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolution_due: Option<NaiveDate>,
        /// How that day is counted, the suspension included (absent in older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_time_rule: Option<DeadlineRule>,
    },
    /// The period to fix ended without a fix: the timer proposes the desistimiento, which the
    /// council declares by resolution (art. 68.1).
    DesistimientoProposed {
        /// When.
        at: DateTime<Utc>,
        /// The maximum time's last day, running again since the period ended.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolution_due: Option<NaiveDate>,
        /// How that day is counted, the suspension included (absent in older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_time_rule: Option<DeadlineRule>,
    },
    /// Files before desistimiento was declared by resolution: the timer itself closed them.
    /// Kept so that their history reads; no longer emitted.
    DeemedWithdrawn {
        /// When.
        at: DateTime<Utc>,
    },
    /// The maximum time passed without a resolution (art. 24): the silence has its effect; the
    /// duty to resolve remains (art. 24.3).
    SilenceReached {
        /// What the silence means.
        meaning: SilenceMeaning,
        /// The last day that passed.
        due: NaiveDate,
        /// When it was recorded.
        at: DateTime<Utc>,
    },
    /// Resolved.
    Resolved {
        /// The decision.
        decision: Decision,
        /// Its reasons (art. 35).
        grounds: String,
        /// The appeals that may be brought against it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        appeals: Vec<Appeal>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Withdrawn by the applicant.
    Withdrawn {
        /// When.
        at: DateTime<Utc>,
    },
    /// A deadline was counted again because the council's legal calendar changed.
    DeadlineMoved {
        /// The timer's kind.
        kind: String,
        /// The last day until now.
        was: NaiveDate,
        /// The new last day.
        due: NaiveDate,
        /// How it is counted.
        rule: DeadlineRule,
        /// When.
        at: DateTime<Utc>,
    },
    /// A fix recorded by a material error was corrected (art. 109.2): the period to fix stands
    /// again as it was.
    RectificationCorrected {
        /// What was corrected and why.
        correction: crate::lpac::Correction,
        /// When.
        at: DateTime<Utc>,
        /// The period restored.
        restored: super::state::PeriodToFix,
    },
    /// The resolution's notification took effect.
    ResolutionNotified {
        /// The notification.
        notification: uuid::Uuid,
        /// How it took effect.
        outcome: crate::lpac::notification::Outcome,
        /// The day.
        on: NaiveDate,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}
