//! What happened in a removal file, as stored in the event log.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{FileDecision, NotificationChannel, NotificationOutcome, RemovalBasis};
use crate::lpac::{Appeal, Reasons};
use crate::procedure::{CaseParty, DeadlineRule, DomainEvent};
use crate::values::{CaseNumber, SiaCode};

/// Events of a removal file.
// The log stores `event_type()`: strum derives it from the variant names, in the same
// snake_case as the serde tag, so renaming a variant renames stored events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FileEvent {
    /// Opened.
    Opened {
        /// The file's number.
        case_number: CaseNumber,
        /// The procedure's SIA code.
        sia_code: SiaCode,
        /// The inscribed person.
        person: CaseParty,
        /// The inscription.
        inscription: Uuid,
        /// How it started.
        basis: RemovalBasis,
        /// The local date.
        on: NaiveDate,
        /// The last day to resolve.
        max_time_due: NaiveDate,
        /// How that day was counted (absent in files opened before it was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_time_rule: Option<DeadlineRule>,
        /// At a person's request: the request's registry entry. Absent in older events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// Notification sent.
    NotificationSent {
        /// How.
        channel: NotificationChannel,
        /// The local date.
        on: NaiveDate,
        /// Electronic: the hearing's last day if deemed rejected.
        hearing_due_if_rejected: Option<NaiveDate>,
    },
    /// A paper attempt failed.
    DeliveryFailed {
        /// Which attempt.
        attempt: u8,
        /// The local date.
        on: NaiveDate,
    },
    /// Notified.
    Notified {
        /// The notification (absent in files notified before notifications were records).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notification: Option<Uuid>,
        /// How.
        outcome: NotificationOutcome,
        /// Effective day.
        on: NaiveDate,
        /// The last day to regularise or allege.
        hearing_due: NaiveDate,
    },
    /// Regularised.
    Regularised {
        /// The local date.
        on: NaiveDate,
    },
    /// An agreement or allegations recorded by a material error were corrected (art. 109.2).
    HearingFactCorrected {
        /// What was corrected and why.
        correction: crate::lpac::Correction,
        /// The local date.
        on: NaiveDate,
        /// The hearing restored.
        restored: super::state::HearingAsItStood,
    },
    /// Agreed.
    Agreed {
        /// The local date.
        on: NaiveDate,
    },
    /// Allegations filed.
    AllegationsFiled {
        /// Summary.
        summary: String,
        /// The local date.
        on: NaiveDate,
        /// Its registry entry (art. 16): the submission it records. Absent in older events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// Report requested.
    ReportRequested {
        /// The local date.
        on: NaiveDate,
        /// The maximum time's last day if the report does not come (absent in files from before
        /// it was computed with the legal calendar).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_time_due_if_unanswered: Option<NaiveDate>,
    },
    /// The wait for the report ended without it (three months).
    ReportWaitEnded {
        /// The local date.
        on: NaiveDate,
        /// The moved maximum time.
        max_time_due: NaiveDate,
        /// How it is counted, the suspension included (absent in older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_time_rule: Option<DeadlineRule>,
    },
    /// Report received.
    ReportReceived {
        /// Favourable?
        favourable: bool,
        /// The local date.
        on: NaiveDate,
        /// The moved maximum time.
        max_time_due: NaiveDate,
        /// How it is counted, the suspension included (absent in older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_time_rule: Option<DeadlineRule>,
    },
    /// Resolved.
    Resolved {
        /// The decision.
        decision: FileDecision,
        /// Its reasons (absent in files resolved before they were recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grounds: Option<Reasons>,
        /// The appeals that may be brought.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        appeals: Vec<Appeal>,
        /// The local date.
        on: NaiveDate,
    },
    /// The resolution's notification took effect (the appeals' time counts from the next day).
    ResolutionNotified {
        /// The notification.
        notification: Uuid,
        /// How it took effect.
        outcome: NotificationOutcome,
        /// The day.
        on: NaiveDate,
    },
    /// The maximum time passed without resolution: the lapse is proposed (art. 25.1.b).
    LapseProposed {
        /// The last day that passed.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// Lapsed (declared by resolution; in older files, by the timer).
    Lapsed {
        /// The local date.
        on: NaiveDate,
        /// The inscription it concerned, which the lapse releases (absent in events recorded
        /// before it was carried here, whose inscriptions were released when they lapsed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inscription: Option<Uuid>,
        /// The resolution's reasons (absent in files lapsed by the timer).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grounds: Option<Reasons>,
        /// The appeals that may be brought.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        appeals: Vec<Appeal>,
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
    },
    /// The hearing ended without allegations nor agreement.
    HearingEnded {
        /// The local date.
        on: NaiveDate,
    },
}

impl DomainEvent for FileEvent {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}
