//! Where an inscription is, rebuilt from its events.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::renewal_due;
use crate::identity::IdentityDocument;
use crate::padron::{Dwelling, ResidenceStatus};

/// Where an inscription is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InscriptionStage {
    /// Not inscribed.
    #[default]
    NotInscribed,
    /// Inscribed.
    Inscribed,
    /// Removed.
    Removed,
}

/// The inscription's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InscriptionState {
    /// Stage.
    pub stage: InscriptionStage,
    /// Residence status.
    pub residence: Option<ResidenceStatus>,
    /// The person's documents on record (the foreigner card takes precedence over a passport).
    pub document: Option<IdentityDocument>,
    /// Where.
    pub dwelling: Option<Dwelling>,
    /// The last padrón change that counts as renewal (inscription, express renewal, change of
    /// address, modification of personal data).
    pub renewal_basis: Option<NaiveDate>,
    /// The open removal file against the person, if any.
    pub open_removal_file: Option<Uuid>,
    /// Whether the inscription was proposed for lapse.
    pub lapse_proposed: bool,
    /// The notification of the resolution declaring the lapse, once dictated.
    pub lapse_resolution: Option<Uuid>,
    /// Why it was removed, while removed.
    pub removal: Option<crate::padron::RemovalCause>,
    /// The removal file that was open when it was removed (restored if the removal is corrected).
    pub file_when_removed: Option<Uuid>,
    /// The person's date of birth: who may act for them depends on their age on the day.
    pub birth_date: Option<NaiveDate>,
    /// Whether the residence went unconfirmed past its day (listed for a removal file).
    pub confirmation_overdue: bool,
    /// The confirmation day last recorded (`ConfirmationDue`), which its timers carry.
    pub confirmation_day: Option<NaiveDate>,
}

impl InscriptionState {
    /// The day by which an EU citizen or non-EU permanent resident must confirm their
    /// residence, as the rule counts it now: five years from the last padrón change for those in
    /// the Central Register of Foreigners (shown by an EU registration certificate or a foreigner
    /// card on record), two for the others (DOMAIN.md, "unconfirmed" as to the source: the
    /// periods are `CONFIRMATION_YEARS_*`). The timers follow the day recorded
    /// (`confirmation_day`), so a later change of the rule leaves recorded days as they were.
    pub fn confirmation_due(&self) -> Option<NaiveDate> {
        if self.stage != InscriptionStage::Inscribed {
            return None;
        }
        if !matches!(
            self.residence?,
            ResidenceStatus::EuCitizen | ResidenceStatus::NonEuPermanent
        ) {
            return None;
        }
        let years = match self.document.as_ref()? {
            IdentityDocument::EuRegistrationCertificate { .. }
            | IdentityDocument::ResidenceCard { .. } => {
                super::CONFIRMATION_YEARS_IN_CENTRAL_REGISTER
            }
            _ => super::CONFIRMATION_YEARS_OTHERWISE,
        };
        self.renewal_basis?
            .checked_add_months(chrono::Months::new(12 * years))
    }

    /// The renewal due date, for those who must renew.
    pub fn renewal_due(&self) -> Option<NaiveDate> {
        match self.residence {
            Some(ResidenceStatus::NonEuTemporary) => self.renewal_basis.map(renewal_due),
            _ => None,
        }
    }
}
