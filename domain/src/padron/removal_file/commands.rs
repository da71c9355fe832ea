//! What can be asked of a removal file. Due dates come from the legal calendar, computed by the
//! caller.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{FileDecision, NotificationChannel, NotificationOutcome, RemovalBasis};
use crate::procedure::CaseParty;
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
    },
    /// The notification of the opening was sent.
    SendNotification {
        /// How.
        channel: NotificationChannel,
        /// The local date.
        on: NaiveDate,
        /// Electronic: the last day of the hearing if the notification is deemed rejected after
        /// 10 calendar days (computed now with the legal calendar, used by the rejection timer).
        hearing_due_if_rejected: Option<NaiveDate>,
    },
    /// A paper delivery attempt failed.
    RecordFailedDelivery {
        /// The local date.
        on: NaiveDate,
    },
    /// The notification took effect (accessed, rejected after 10 days, delivered, or by edict).
    RecordNotified {
        /// How.
        outcome: NotificationOutcome,
        /// The day it took effect.
        on: NaiveDate,
        /// The last day of the 15 business days that start the next day.
        hearing_due: NaiveDate,
    },
    /// The person regularised their situation (e.g. registered where they live now).
    RecordRegularised {
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
    },
    /// Timer: three months passed without the report; the suspension ends (art. 22: at most three
    /// months) and the procedure goes on without it.
    EndReportWait {
        /// The local date.
        on: NaiveDate,
    },
    /// Resolves.
    Resolve {
        /// Remove or archive.
        decision: FileDecision,
        /// The local date.
        on: NaiveDate,
    },
    /// Timer: the maximum time passed without resolution.
    Lapse {
        /// The last day that passed.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
}
