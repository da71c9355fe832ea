//! What can be asked of a removal file. Due dates come from the legal calendar, computed by the
//! caller.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{FileDecision, NotificationOutcome, RemovalBasis};
use crate::lpac::notification::ActKind;
use crate::lpac::{Appeal, Reasons};
use crate::procedure::{CaseParty, DeadlineRule};
use crate::values::{CaseNumber, SiaCode};

/// Commands of a removal file. Due dates come from the legal calendar, computed by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCommand {
    /// Opens the file against an inscription.
    Open {
        /// The file's number.
        case_number: CaseNumber,
        /// The procedure's SIA code.
        sia_code: SiaCode,
        /// The inscribed person (the interested party).
        person: CaseParty,
        /// The inscription.
        inscription: Uuid,
        /// Ex officio or at request.
        basis: RemovalBasis,
        /// The local date.
        on: NaiveDate,
        /// The last day of the maximum time to resolve (3 months unless configured otherwise).
        max_time_due: NaiveDate,
        /// How that day was counted (to count it again if the legal calendar changes).
        max_time_rule: Option<DeadlineRule>,
        /// At a person's request: the request's registry entry (art. 16).
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// A notification of the file took effect (reported by the notification's follow-up, with
    /// the legal calendar): the opening's starts the hearing; a resolution's is recorded on the
    /// closed file.
    RecordNotificationEffect {
        /// The notification (absent for files notified before notifications were records).
        notification: Option<Uuid>,
        /// The act it notified.
        act: ActKind,
        /// How it took effect.
        outcome: NotificationOutcome,
        /// The day it took effect.
        on: NaiveDate,
        /// The opening's: the last day of the 15 business days that start the next day.
        hearing_due: Option<NaiveDate>,
    },
    /// The person regularised their situation (e.g. registered where they live now): the file
    /// is archived by a resolution, with the appeals against it (art. 88.3).
    RecordRegularised {
        /// The local date.
        on: NaiveDate,
        /// The appeals against the archive.
        appeals: Vec<Appeal>,
    },
    /// A caseworker corrects the person's agreement or allegations recorded by a material error
    /// (art. 109.2: entered on the wrong file, say): the hearing stands again as it was (its
    /// timer runs again, and ends it at once if its last day passed). Only while that record is
    /// the file's last step.
    CorrectHearingFact {
        /// What is corrected and why.
        correction: crate::lpac::Correction,
        /// The local date.
        on: NaiveDate,
    },
    /// The person expressly agreed to the removal.
    RecordAgreement {
        /// The local date.
        on: NaiveDate,
    },
    /// The person alleges they still live there, with documents.
    RecordAllegations {
        /// A summary.
        summary: String,
        /// The local date.
        on: NaiveDate,
        /// Its registry entry (art. 16): the submission it records.
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// Asks the Consejo de Empadronamiento for its report (suspends the maximum-time clock).
    RequestReport {
        /// The local date.
        on: NaiveDate,
        /// The maximum time's last day if the report does not come within the three months the
        /// suspension may last (art. 22.1.d), computed by the caller with the legal calendar.
        max_time_due_if_unanswered: NaiveDate,
    },
    /// The report arrived; the clock resumes with the maximum time moved by the days it was
    /// suspended.
    RecordReport {
        /// Favourable to the removal?
        favourable: bool,
        /// The local date.
        on: NaiveDate,
        /// The maximum time's last day, the suspension over (computed by the caller with the
        /// legal calendar: the suspended business days added, art. 22).
        max_time_due: NaiveDate,
        /// How that day is counted, the suspension included.
        max_time_rule: Option<DeadlineRule>,
    },
    /// Timer: three months passed without the report; the suspension ends (art. 22: at most three
    /// months) and the procedure goes on without it.
    EndReportWait {
        /// The local date.
        on: NaiveDate,
        /// The maximum time's last day, moved by the three months' suspension (computed with
        /// the calendar as it is when the wait ends; absent when it cannot be).
        max_time_due: Option<NaiveDate>,
        /// How that day is counted.
        max_time_rule: Option<DeadlineRule>,
    },
    /// Resolves.
    Resolve {
        /// Remove or archive.
        decision: FileDecision,
        /// Its reasons (art. 35).
        grounds: Reasons,
        /// The appeals that may be brought (art. 88.3).
        appeals: Vec<Appeal>,
        /// The local date.
        on: NaiveDate,
    },
    /// Timer: the maximum time passed without resolution; the lapse is proposed.
    Lapse {
        /// The last day that passed.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// The council's legal calendar changed: the maximum time is counted again (sent by the
    /// scheduler).
    MoveDeadline {
        /// The timer's kind (`removal_file_lapse`).
        kind: String,
        /// Its last day until now.
        was: NaiveDate,
        /// Its last day by the calendar as it is now.
        due: NaiveDate,
        /// How it is counted.
        rule: DeadlineRule,
    },
    /// A caseworker declares the lapse the timer proposed (art. 25.1.b: the resolution orders the
    /// file archived); it is notified like any resolution.
    DeclareLapse {
        /// Its reasons.
        grounds: Reasons,
        /// The appeals that may be brought.
        appeals: Vec<Appeal>,
        /// The local date.
        on: NaiveDate,
    },
    /// Timer: the hearing's last day passed without allegations nor agreement; the file waits
    /// for the resolution.
    EndHearing {
        /// The last day that passed.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
}
