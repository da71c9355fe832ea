//! The state of a vehicle-crossing file, rebuilt from its events.

use chrono::NaiveDate;
use uuid::Uuid;

use super::values::{
    ChecklistItem, CrossingNumber, Deposit, EndReason, Insurance, ItemStatus, Liquidation,
    Measures, Purpose, Requirement, Sign, Standing, Works,
};
use crate::lpac::notification::Delivery;
use crate::lpac::SilenceMeaning;
use crate::procedure::CaseParty;

/// The life of a vehicle-crossing file: the application until its resolution, then (for a
/// granted authorisation) the crossing until it ends.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Stage {
    /// Nothing filed (an empty stream).
    #[default]
    NotApplied,
    /// Filed; the documents are being brought and checked (the month to resolve has not
    /// started: it counts from the complete documentation's entry).
    Applied,
    /// The applicant was asked to bring what is missing (art. 68.1 LPAC).
    AwaitingRectification,
    /// The period ended without the documents: the desistimiento is to be declared.
    DesistimientoProposed,
    /// The documentation is complete: the month to resolve runs.
    UnderReview,
    /// Granted: the fees, and with works by the applicant the insurance and deposit, are to be
    /// recorded before the authorisation is issued.
    Granted,
    /// The crossing is authorised and in force.
    Authorised,
    /// Denied.
    Denied,
    /// Declared withdrawn (desistimiento).
    DeemedWithdrawn,
    /// Withdrawn by the applicant.
    Withdrawn,
    /// Protective islands granted (the file's purpose done).
    IslandGranted,
    /// The crossing ended.
    Ended,
}

impl Stage {
    /// Its code as stored.
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// Whether the file is closed.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Stage::Denied
                | Stage::DeemedWithdrawn
                | Stage::Withdrawn
                | Stage::IslandGranted
                | Stage::Ended
        )
    }
}

/// The state rebuilt from a file's events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    /// Where the file is.
    pub stage: Stage,
    /// The parties (the holder first).
    pub parties: Vec<CaseParty>,
    /// The holder's standing.
    pub standing: Option<Standing>,
    /// The property's address.
    pub address: String,
    /// What the file asks for.
    pub purpose: Option<Purpose>,
    /// Who does the works.
    pub works: Option<Works>,
    /// The measures.
    pub measures: Option<Measures>,
    /// A provisional crossing's last day.
    pub provisional_until: Option<NaiveDate>,
    /// The checklist.
    pub checklist: Vec<ChecklistItem>,
    /// How the applicant is notified.
    pub notify_by: Option<Delivery>,
    /// The running request to bring documents: its notification, until it takes effect.
    pub rectification_notification: Option<Uuid>,
    /// Its last day, once it runs.
    pub rectification_due: Option<NaiveDate>,
    /// The month to resolve's last day, once the documentation is complete.
    pub resolution_due: Option<NaiveDate>,
    /// The silence, once the month passed.
    pub silence_reached: Option<SilenceMeaning>,
    /// The resolution's notification.
    pub resolution_notification: Option<Uuid>,
    /// The liquidation.
    pub liquidation: Option<Liquidation>,
    /// The deposit required.
    pub restoration_cost: Option<i64>,
    /// Whether the liquidation is paid.
    pub paid: bool,
    /// The last day of voluntary payment.
    pub payment_due: Option<NaiveDate>,
    /// The insurance.
    pub insurance: Option<Insurance>,
    /// The deposit.
    pub deposit: Option<Deposit>,
    /// The plate number.
    pub number: Option<CrossingNumber>,
    /// The authorisation's notification.
    pub authorisation_notification: Option<Uuid>,
    /// Whether the authorisation's notification took effect.
    pub authorisation_notified: bool,
    /// Whether the works were accepted.
    pub works_accepted: bool,
    /// The sign.
    pub sign: Sign,
    /// A pending extension's asked last day.
    pub extension_asked: Option<NaiveDate>,
    /// Files of protective islands authorised for it.
    pub islands: Vec<Uuid>,
    /// Why it ended.
    pub ended: Option<EndReason>,
}

impl State {
    /// The items still missing or rejected.
    pub fn to_fix(&self) -> Vec<Requirement> {
        self.checklist
            .iter()
            .filter(|i| matches!(i.status, ItemStatus::Missing | ItemStatus::Rejected))
            .map(|i| i.requirement)
            .collect()
    }

    /// The item of a requirement.
    pub fn item(&self, requirement: Requirement) -> Option<&ChecklistItem> {
        self.checklist.iter().find(|i| i.requirement == requirement)
    }

    /// The day the documentation would be complete if `requirement` were accepted now: the last
    /// entry among the items (`None` while another is not accepted).
    pub fn complete_on_accepting(&self, requirement: Requirement) -> Option<NaiveDate> {
        let mut last = None;
        for item in &self.checklist {
            let accepted = item.status == ItemStatus::Accepted
                || (item.requirement == requirement && item.status == ItemStatus::Provided);
            if !accepted {
                return None;
            }
            last = last.max(item.entered_on);
        }
        last
    }

    /// Whether works by the applicant make insurance and a deposit necessary.
    pub fn needs_guarantees(&self) -> bool {
        self.works == Some(Works::ByApplicant)
    }

    /// The holder, as the case's interested party.
    pub fn holder(&self) -> Vec<CaseParty> {
        self.parties.clone()
    }
}
