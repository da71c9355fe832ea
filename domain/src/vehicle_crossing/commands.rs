//! The commands of a vehicle-crossing file. Times, registry entries, due dates, the tariff and
//! the plate number are resolved by the caller (injected clock, registry, legal calendar, the
//! council's tariff, the district), so the aggregate stays pure.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::values::{
    CrossingNumber, Deposit, Insurance, Liquidation, Measures, Purpose, Requirement, Standing,
    Works,
};
use crate::lpac::notification::{Delivery, Outcome};
use crate::lpac::{Appeal, Reasons, RegistryEntry};
use crate::procedure::{CaseParty, DeadlineRule};
use crate::values::{CaseNumber, SiaCode};

/// The decision of a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Granted.
    Granted,
    /// Denied.
    Denied,
    /// The applicant is declared to have withdrawn, the documents not having been brought in
    /// time (art. 68.1 LPAC).
    Desistimiento,
}

/// How a caseworker finds a document brought for an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Valid.
    Accept,
    /// Not valid, and why.
    Reject(String),
}

/// The commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Files the application (its registry entry given).
    Apply {
        /// The new file's number.
        case_number: CaseNumber,
        /// The procedure's SIA code for this council.
        sia_code: SiaCode,
        /// The applicant (holder to be), and a representative if one acts for them.
        parties: Vec<CaseParty>,
        /// The applicant's standing.
        standing: Standing,
        /// The address of the property the crossing gives access to.
        address: String,
        /// What is asked.
        purpose: Purpose,
        /// Who does the works.
        works: Works,
        /// The crossing's measures.
        measures: Measures,
        /// For a provisional crossing, its last day.
        provisional_until: Option<NaiveDate>,
        /// Why the crossing is needed.
        need: String,
        /// When it counts as filed (art. 31).
        at: DateTime<Utc>,
        /// The council's local date then.
        today: NaiveDate,
        /// Its registry entry.
        entry: RegistryEntry,
        /// How the applicant is notified.
        notify_by: Delivery,
    },
    /// A document of the file is brought for an item of the checklist.
    ProvideDocument {
        /// The item.
        requirement: Requirement,
        /// The document (already part of the file).
        document: Uuid,
        /// The local day it entered the registry.
        entered_on: NaiveDate,
        /// When.
        at: DateTime<Utc>,
    },
    /// A caseworker checks the document brought for an item. When it is the last item to be
    /// accepted, the documentation is complete and the month to resolve starts.
    ReviewDocument {
        /// The item.
        requirement: Requirement,
        /// Valid or not.
        verdict: Verdict,
        /// When.
        at: DateTime<Utc>,
        /// The maximum time's last day if this completes the documentation (one month from the
        /// day after the last document's entry, computed by the caller from the file's state).
        resolution_due: NaiveDate,
        /// How that day is counted.
        max_time_rule: DeadlineRule,
    },
    /// A caseworker asks the applicant to bring what is missing or was rejected (art. 68.1 LPAC):
    /// notified in the same append; the ten business days count from the day after it takes
    /// effect.
    RequestRectification {
        /// What is asked, besides the items missing or rejected.
        note: String,
        /// When.
        at: DateTime<Utc>,
        /// The notification that carries it.
        notification: Uuid,
    },
    /// The request's notification took effect (the notification's follow-up).
    RecordRectificationNotified {
        /// The notification.
        notification: Uuid,
        /// How it took effect.
        outcome: Outcome,
        /// The day.
        on: NaiveDate,
        /// The last day to bring the documents.
        due: NaiveDate,
        /// How it is counted.
        rule: DeadlineRule,
    },
    /// The timer: the period to bring the documents ended.
    CloseRectificationPeriod {
        /// The period's last day.
        due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// The council's local date.
        today: NaiveDate,
    },
    /// The timer: the month to resolve passed (silence, art. 24.1 LPAC).
    ReachMaximumTime {
        /// The last day that passed.
        due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// The council's local date.
        today: NaiveDate,
    },
    /// A caseworker resolves; a grant of an authorisation carries its liquidation (the tariff of
    /// the year), and with works by the applicant the cost of restoring the pavement the deposit
    /// must cover.
    Resolve {
        /// The decision.
        decision: Decision,
        /// The reasons (art. 35).
        reasons: Reasons,
        /// The appeals (art. 88.3).
        appeals: Vec<Appeal>,
        /// The liquidation, for a granted authorisation.
        liquidation: Option<Liquidation>,
        /// The deposit required, for a granted authorisation with works by the applicant.
        restoration_cost: Option<i64>,
        /// The notification of the resolution (issued in the same append).
        notification: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The resolution's notification took effect: a liquidation's voluntary payment runs until
    /// `payment_due` (art. 62.2 LGT).
    RecordResolutionNotified {
        /// The notification.
        notification: Uuid,
        /// How.
        outcome: Outcome,
        /// The day.
        on: NaiveDate,
        /// The last day of voluntary payment, for a liquidation.
        payment_due: Option<NaiveDate>,
    },
    /// The payment of the liquidation is recorded.
    RecordPayment {
        /// The amount paid (the whole liquidation).
        amount: i64,
        /// The bank's or Treasury's receipt.
        receipt: String,
        /// The day paid.
        paid_on: NaiveDate,
        /// When recorded.
        at: DateTime<Utc>,
        /// The council's local date.
        today: NaiveDate,
    },
    /// The civil liability insurance for the works is recorded.
    RecordInsurance {
        /// The policy.
        insurance: Insurance,
        /// When.
        at: DateTime<Utc>,
        /// The council's local date.
        today: NaiveDate,
    },
    /// The deposit for restoring the pavement is recorded.
    RecordDeposit {
        /// The deposit.
        deposit: Deposit,
        /// When.
        at: DateTime<Utc>,
    },
    /// The authorisation is issued with the district's plate number, once what must precede it
    /// is recorded; it is notified in the same append.
    IssueAuthorisation {
        /// The plate number.
        number: CrossingNumber,
        /// The notification.
        notification: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The authorisation's notification took effect: without works to accept, the month to put
    /// up the sign runs from the next day.
    RecordAuthorisationNotified {
        /// The notification.
        notification: Uuid,
        /// How.
        outcome: Outcome,
        /// The day.
        on: NaiveDate,
        /// The sign's last day (one month from the next day).
        sign_due: NaiveDate,
    },
    /// The works were received or accepted: the month for the sign runs from the next day.
    AcceptWorks {
        /// The day.
        on: NaiveDate,
        /// The sign's last day.
        sign_due: NaiveDate,
        /// When recorded.
        at: DateTime<Utc>,
    },
    /// The sign was checked in place.
    RecordSign {
        /// The day.
        on: NaiveDate,
        /// When recorded.
        at: DateTime<Utc>,
    },
    /// The timer: the month for the sign passed.
    MarkSignOverdue {
        /// The last day that passed.
        due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// The council's local date.
        today: NaiveDate,
    },
    /// A change of holder is communicated, with its proof.
    ChangeHolder {
        /// The new holder (and representative).
        parties: Vec<CaseParty>,
        /// Their standing.
        standing: Standing,
        /// The day of the act that causes the change.
        act_on: NaiveDate,
        /// The last day to communicate it (ten business days from the next day).
        due: NaiveDate,
        /// The local day it was filed.
        filed_on: NaiveDate,
        /// The proof (a document of the file).
        proof: Uuid,
        /// Its registry entry, when filed by a party.
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A modification of the crossing's physical or legal circumstances is communicated.
    CommunicateModification {
        /// What changed.
        description: String,
        /// The day it happened.
        occurred_on: NaiveDate,
        /// The last day to communicate it (ten business days from the next day).
        due: NaiveDate,
        /// The local day it was filed.
        filed_on: NaiveDate,
        /// Whether it needs works (then it is a new authorisation).
        with_works: bool,
        /// Whether it ends the crossing.
        ends_crossing: bool,
        /// Its registry entry, when filed by a party.
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The holder asks to extend a provisional crossing, before its term ends.
    RequestExtension {
        /// The new last day.
        until: NaiveDate,
        /// Why.
        need: String,
        /// The local day.
        today: NaiveDate,
        /// Its registry entry, when filed by a party.
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A caseworker decides the extension.
    DecideExtension {
        /// Granted or not.
        granted: bool,
        /// The reasons.
        reasons: Reasons,
        /// The local day.
        today: NaiveDate,
        /// When.
        at: DateTime<Utc>,
    },
    /// The timer: a provisional crossing's term passed.
    EndTerm {
        /// The last day that passed.
        until: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// The council's local date.
        today: NaiveDate,
    },
    /// The crossing is removed (baja), at the holder's request or by the council.
    Remove {
        /// At the holder's request (else by the council).
        at_holder_request: bool,
        /// The reasons.
        reasons: Reasons,
        /// The day it takes effect.
        on: NaiveDate,
        /// Its registry entry, when the holder asked.
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Another file's authorisation replaced this crossing (its follow-up).
    RecordReplacement {
        /// The file.
        by: Uuid,
        /// When.
        at: DateTime<Utc>,
        /// The local day.
        on: NaiveDate,
    },
    /// Protective islands were authorised for this crossing by another file (its follow-up).
    RecordProtectiveIsland {
        /// The file.
        file: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The applicant withdraws the application (art. 94).
    Withdraw {
        /// When.
        at: DateTime<Utc>,
    },
}
