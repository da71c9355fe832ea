//! What happened to a removal request, as stored in the event log.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NamedPerson;
use crate::lpac::{Reasons, RegistryEntry};
use crate::procedure::{CaseParty, DomainEvent};
use crate::values::{CaseNumber, SiaCode};

/// Events of a removal request.
// The log stores `event_type()`: strum derives it from the variant names, in the same
// snake_case as the serde tag, so renaming a variant renames stored events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequestEvent {
    /// Submitted and entered in the registry.
    Submitted {
        /// Its registry entry.
        entry: RegistryEntry,
        /// Its number.
        case_number: CaseNumber,
        /// The SIA code.
        sia_code: SiaCode,
        /// Who asks.
        requester: CaseParty,
        /// Who they say does not live there.
        person: NamedPerson,
        /// The address given.
        address: String,
        /// What they know of the person's whereabouts.
        whereabouts: String,
        /// The requester declared the data true, warned that declaring false data may be an
        /// offence (seed 004); `false` in requests recorded before it was asked.
        #[serde(default)]
        declared_true: bool,
        /// The local date.
        on: NaiveDate,
        /// The last day to answer it.
        answer_due: NaiveDate,
    },
    /// It was examined (recorded with either outcome, before it): all the requester is shown of
    /// the outcome, which would otherwise tell them whether the person is on the padrón.
    Examined {
        /// The local date.
        on: NaiveDate,
    },
    /// A removal file was opened from it.
    FileOpened {
        /// The file.
        file: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// The council decided not to open a file.
    Declined {
        /// Why.
        grounds: Reasons,
        /// The local date.
        on: NaiveDate,
    },
}

impl DomainEvent for RequestEvent {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}
