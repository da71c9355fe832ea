//! What happened to a notification, as stored in the event log.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Act, ActKind, Addressee, AttemptResult, CaseRef, Delivery, Outcome};
use crate::lpac::RegistryEntry;
use crate::procedure::DomainEvent;
use crate::values::DocumentNumber;

/// The events of a notification.
// The log stores `event_type()`, derived from the variant names in the serde tag's snake_case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    /// Issued with its act.
    Issued {
        /// The file.
        case: CaseRef,
        /// The act.
        act: Act,
        /// The person notified, when known.
        addressee: Option<Addressee>,
        /// How.
        delivery: Delivery,
        /// Its exit entry in the registry.
        exit: RegistryEntry,
        /// The last day to send it (art. 40.2).
        sending_due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// Electronic: the day it was made available (the ten days of art. 43.2 run from here).
        available_on: Option<NaiveDate>,
    },
    /// The letter was handed to the postal service.
    Dispatched {
        /// The day.
        on: NaiveDate,
    },
    /// A paper delivery attempt.
    AttemptRecorded {
        /// Which (1 or 2).
        attempt: u8,
        /// The local moment.
        at: NaiveDateTime,
        /// What it found.
        result: AttemptResult,
    },
    /// The electronic notification was opened.
    Accessed {
        /// Who opened it.
        by: DocumentNumber,
        /// When.
        at: DateTime<Utc>,
    },
    /// Published by edict.
    EdictPublished {
        /// The day of publication.
        on: NaiveDate,
        /// The BOE's reference.
        reference: String,
    },
    /// The notification took effect: the procedure's deadlines count from `on`.
    TookEffect {
        /// The file's procedure.
        case_type: String,
        /// The file.
        case_id: Uuid,
        /// The act's kind.
        act: ActKind,
        /// How.
        outcome: Outcome,
        /// The day it took effect.
        on: NaiveDate,
    },
    /// The ten business days to send it passed without sending it: the caseworker is warned.
    SendingOverdue {
        /// The last day it should have been sent.
        due: NaiveDate,
        /// The day noticed.
        on: NaiveDate,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}
