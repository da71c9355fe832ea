//! What can be asked of a notification. Dates computed with the legal calendar (the last day to
//! send it) come from the caller; "today" is the council's local day of the command.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::{Act, Addressee, AttemptResult, CaseRef, Delivery};
use crate::lpac::RegistryEntry;
use crate::values::DocumentNumber;

/// The commands of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A procedure's act is to be notified (issued with the act, in the same append).
    Issue {
        /// The file.
        case: CaseRef,
        /// The act.
        act: Act,
        /// The person notified; `None` when unknown (then only the edict is possible).
        addressee: Option<Addressee>,
        /// How.
        delivery: Delivery,
        /// Its exit entry in the registry (art. 16.1).
        exit: RegistryEntry,
        /// The last day to send it: ten business days from the act (art. 40.2).
        sending_due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// The council's local day now.
        today: NaiveDate,
    },
    /// The letter was handed to the postal service.
    Dispatch {
        /// The day.
        on: NaiveDate,
        /// The council's local day now.
        today: NaiveDate,
    },
    /// A paper delivery attempt, as the postal worker recorded it.
    RecordAttempt {
        /// The local moment of the attempt.
        at: NaiveDateTime,
        /// What it found.
        result: AttemptResult,
        /// The council's local moment now.
        now: NaiveDateTime,
        /// After a first attempt that found nobody: the third business day after it, the last
        /// on which the second may be made (art. 42.2), counted by the caller.
        second_attempt_by: Option<NaiveDate>,
    },
    /// The addressee (or their representative) opens the electronic notification.
    Access {
        /// Who opened it.
        by: DocumentNumber,
        /// Whether they act for the addressee (a representation in force, checked by the
        /// caller); otherwise `by` must be the addressee.
        for_the_addressee: bool,
        /// When.
        at: DateTime<Utc>,
        /// The council's local day of `at`.
        on: NaiveDate,
    },
    /// Timer: ten calendar days since it was made available without access (art. 43.2).
    DeemRejected {
        /// The council's local day now.
        today: NaiveDate,
    },
    /// The edict was published in the BOE (art. 44).
    PublishEdict {
        /// The day of publication.
        on: NaiveDate,
        /// The BOE's reference of the announcement.
        reference: String,
        /// The council's local day now.
        today: NaiveDate,
    },
    /// Timer: the ten business days to send it passed and it was not sent (art. 40.2).
    WarnSendingOverdue {
        /// The council's local day now.
        today: NaiveDate,
    },
}
