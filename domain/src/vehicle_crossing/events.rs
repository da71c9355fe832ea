//! The events of a vehicle-crossing file, as stored in the log.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::Decision;
use super::values::{
    CrossingNumber, Deposit, EndReason, Insurance, Liquidation, Measures, Purpose, Requirement,
    Standing, Works,
};
use crate::lpac::notification::{Delivery, Outcome};
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
    Applied {
        /// The file's number.
        case_number: CaseNumber,
        /// The SIA code.
        sia_code: SiaCode,
        /// The parties.
        parties: Vec<CaseParty>,
        /// The applicant's standing.
        standing: Standing,
        /// The property's address.
        address: String,
        /// What is asked.
        purpose: Purpose,
        /// Who does the works.
        works: Works,
        /// The measures.
        measures: Measures,
        /// A provisional crossing's last day.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provisional_until: Option<NaiveDate>,
        /// Why it is needed.
        need: String,
        /// The documents it needs.
        required: Vec<Requirement>,
        /// When it counts as filed.
        at: DateTime<Utc>,
        /// Its registry entry.
        entry: RegistryEntry,
        /// How the applicant is notified.
        notify_by: Delivery,
    },
    /// A document was brought for an item.
    DocumentProvided {
        /// The item.
        requirement: Requirement,
        /// The document.
        document: Uuid,
        /// The day it entered the registry.
        entered_on: NaiveDate,
        /// When.
        at: DateTime<Utc>,
    },
    /// A caseworker found an item's document valid.
    DocumentAccepted {
        /// The item.
        requirement: Requirement,
        /// When.
        at: DateTime<Utc>,
    },
    /// A caseworker found an item's document not valid.
    DocumentRejected {
        /// The item.
        requirement: Requirement,
        /// Why.
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Every document was accepted: the file is initiated and the month to resolve runs from the
    /// day after the last one's entry.
    DocumentationCompleted {
        /// The day the last document entered the registry.
        complete_on: NaiveDate,
        /// The last day to resolve.
        resolution_due: NaiveDate,
        /// How it is counted.
        max_time_rule: DeadlineRule,
        /// When.
        at: DateTime<Utc>,
    },
    /// The applicant was asked to bring what is missing; the request is being notified.
    RectificationIssued {
        /// The items missing or rejected.
        items: Vec<Requirement>,
        /// What else is asked.
        note: String,
        /// When.
        at: DateTime<Utc>,
        /// The notification.
        notification: Uuid,
    },
    /// The request took effect: the period runs.
    RectificationNotified {
        /// The notification.
        notification: Uuid,
        /// How.
        outcome: Outcome,
        /// The day.
        on: NaiveDate,
        /// The last day.
        due: NaiveDate,
        /// How it is counted.
        rule: DeadlineRule,
    },
    /// The period ended with documents still missing: the desistimiento is to be declared by
    /// resolution.
    DesistimientoProposed {
        /// When.
        at: DateTime<Utc>,
    },
    /// The month passed without a resolution: the application is deemed refused (art. 24.1
    /// LPAC, use of public property); the duty to resolve remains (art. 24.3.b).
    SilenceReached {
        /// What it means.
        meaning: SilenceMeaning,
        /// The last day that passed.
        due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
    },
    /// Resolved.
    Resolved {
        /// The decision.
        decision: Decision,
        /// The reasons.
        grounds: String,
        /// The appeals.
        appeals: Vec<Appeal>,
        /// The notification.
        notification: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The fees were liquidated with the grant (notified with it).
    FeesLiquidated {
        /// The liquidation.
        liquidation: Liquidation,
        /// The deposit required, with works by the applicant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restoration_cost: Option<i64>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Protective islands were granted for a crossing (this file's purpose).
    ProtectiveIslandGranted {
        /// The crossing.
        crossing: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The resolution's notification took effect.
    ResolutionNotified {
        /// The notification.
        notification: Uuid,
        /// How.
        outcome: Outcome,
        /// The day.
        on: NaiveDate,
        /// The last day of voluntary payment of the liquidation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment_due: Option<NaiveDate>,
    },
    /// The liquidation was paid.
    PaymentRecorded {
        /// The amount.
        amount: i64,
        /// The receipt.
        receipt: String,
        /// The day paid.
        paid_on: NaiveDate,
        /// When recorded.
        at: DateTime<Utc>,
    },
    /// The insurance was recorded.
    InsuranceRecorded {
        /// The policy.
        insurance: Insurance,
        /// When.
        at: DateTime<Utc>,
    },
    /// The deposit was recorded.
    DepositRecorded {
        /// The deposit.
        deposit: Deposit,
        /// When.
        at: DateTime<Utc>,
    },
    /// The authorisation was issued.
    AuthorisationIssued {
        /// The plate number.
        number: CrossingNumber,
        /// The holder.
        holder: Vec<CaseParty>,
        /// The property's address.
        address: String,
        /// The measures.
        measures: Measures,
        /// A provisional crossing's last day.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        provisional_until: Option<NaiveDate>,
        /// The crossing it replaces.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaces: Option<Uuid>,
        /// The notification.
        notification: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The authorisation's notification took effect.
    AuthorisationNotified {
        /// The notification.
        notification: Uuid,
        /// How.
        outcome: Outcome,
        /// The day.
        on: NaiveDate,
        /// The sign's last day, when it counts from here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sign_due: Option<NaiveDate>,
    },
    /// The works were accepted.
    WorksAccepted {
        /// The day.
        on: NaiveDate,
        /// The sign's last day.
        sign_due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
    },
    /// The sign is in place.
    SignInstalled {
        /// The day.
        on: NaiveDate,
        /// Whether after its last day.
        late: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// The month for the sign passed without it.
    SignOverdue {
        /// The last day that passed.
        due: NaiveDate,
        /// When.
        at: DateTime<Utc>,
    },
    /// The holder changed.
    HolderChanged {
        /// The new holder.
        parties: Vec<CaseParty>,
        /// Their standing.
        standing: Standing,
        /// The act's day.
        act_on: NaiveDate,
        /// The last day to communicate it.
        due: NaiveDate,
        /// The day it was filed.
        filed_on: NaiveDate,
        /// Whether it was communicated after its last day.
        late: bool,
        /// The proof.
        proof: Uuid,
        /// Its registry entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A modification was communicated.
    ModificationCommunicated {
        /// What changed.
        description: String,
        /// The day it happened.
        occurred_on: NaiveDate,
        /// The last day to communicate it.
        due: NaiveDate,
        /// The day it was filed.
        filed_on: NaiveDate,
        /// Whether late.
        late: bool,
        /// Whether it ends the crossing.
        ends_crossing: bool,
        /// Its registry entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// An extension of the provisional term was asked.
    ExtensionRequested {
        /// The new last day asked.
        until: NaiveDate,
        /// Why.
        need: String,
        /// Its registry entry.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The extension was granted.
    TermExtended {
        /// The term until now.
        was: NaiveDate,
        /// The new last day.
        until: NaiveDate,
        /// The reasons.
        grounds: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The extension was denied.
    ExtensionDenied {
        /// The reasons.
        grounds: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Protective islands were authorised for this crossing.
    ProtectiveIslandAuthorised {
        /// The file that authorised them.
        file: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The crossing ended: its authorisation and its fees.
    Ended {
        /// Why.
        reason: EndReason,
        /// The reasons, when a resolution ended it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grounds: Option<String>,
        /// The file that replaced it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaced_by: Option<Uuid>,
        /// The day it ended.
        on: NaiveDate,
        /// Its registry entry, when the holder asked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The applicant withdrew.
    Withdrawn {
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}
