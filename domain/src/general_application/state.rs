//! The state of a general application, rebuilt from its events.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::lpac::SilenceMeaning;
use crate::procedure::CaseParty;

/// The life of a general application.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Stage {
    /// Nothing submitted yet (an empty stream).
    #[default]
    NotSubmitted,
    /// Submitted and waiting for the council.
    Submitted,
    /// The applicant was asked to fix the application (subsanación) and the period is running.
    AwaitingRectification,
    /// The period to fix the application ended without a fix: the council must declare the
    /// withdrawal by resolution (art. 68.1); a fix that arrives before that still counts
    /// (art. 73.3).
    DesistimientoProposed,
    /// Resolved: granted.
    Granted,
    /// Resolved: denied.
    Denied,
    /// Withdrawn by the applicant.
    Withdrawn,
    /// Declared withdrawn because the application was not fixed in time (desistimiento,
    /// art. 68.1).
    DeemedWithdrawn,
}

impl Stage {
    /// Its code as stored in read models.
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// Whether the file is closed.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Stage::Granted | Stage::Denied | Stage::Withdrawn | Stage::DeemedWithdrawn
        )
    }
}

/// The state rebuilt from a file's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Where the file is.
    pub stage: Stage,
    /// The parties (applicant first).
    pub parties: Vec<CaseParty>,
    /// The applicant's municipality of residence, when known (art. 30.6).
    pub residence: Option<crate::MunicipalityCode>,
    /// The running subsanación period's last day, if any.
    pub rectification_due: Option<NaiveDate>,
    /// Whether the subsanación period was already extended once (art. 68.2).
    pub rectification_extended: bool,
    /// The last day of the maximum time to resolve as it stands (while suspended, as it stood
    /// when the suspension began).
    pub resolution_due: Option<NaiveDate>,
    /// The day the maximum time was suspended (the request to fix was notified), while it is.
    pub suspended_on: Option<NaiveDate>,
    /// The last day of the maximum time if the period to fix ends without a fix (the suspension
    /// then lasts until the period's end, art. 22.1.a).
    pub resolution_due_if_unanswered: Option<NaiveDate>,
    /// The meaning of the silence once the maximum time passed without a resolution.
    pub silence_reached: Option<SilenceMeaning>,
}
