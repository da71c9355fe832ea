//! What can be asked of a removal request. Dates and the registry entry come from the caller.

use chrono::NaiveDate;
use uuid::Uuid;

use super::NamedPerson;
use crate::lpac::{Reasons, RegistryEntry};
use crate::procedure::CaseParty;
use crate::values::{CaseNumber, SiaCode};

/// Commands of a removal request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestCommand {
    /// A person asks the council to remove someone who does not live at an address.
    Submit {
        /// Its registry entry (art. 16 LPAC).
        entry: RegistryEntry,
        /// Its number.
        case_number: CaseNumber,
        /// The procedure's SIA code (the removal's).
        sia_code: SiaCode,
        /// Who asks.
        requester: CaseParty,
        /// Who they say does not live there.
        person: NamedPerson,
        /// The address, as the requester gives it.
        address: String,
        /// What they know of where the person lives now (seed 004).
        whereabouts: String,
        /// The requester declared the data true, warned that declaring false data may be an
        /// offence (seed 004).
        declared_true: bool,
        /// The local date.
        on: NaiveDate,
        /// The last day to answer it: three months from its entry (art. 21.3.b LPAC).
        answer_due: NaiveDate,
    },
    /// A caseworker opened a removal file from it (in the same append as the file).
    RecordFileOpened {
        /// The file.
        file: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// A caseworker decides not to open a file, with the reasons (kept for the council and its
    /// auditors; art. 62.3 LPAC).
    Decline {
        /// Why.
        grounds: Reasons,
        /// The local date.
        on: NaiveDate,
    },
}
