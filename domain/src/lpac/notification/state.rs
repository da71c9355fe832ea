//! Where a notification is, rebuilt from its events.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::{Act, Addressee, CaseRef, Delivery, Outcome};

/// The stage of a notification.
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
    /// Not issued.
    #[default]
    NotIssued,
    /// Electronic: available to the addressee, not opened yet.
    Available,
    /// Paper: waiting to be handed to the postal service.
    ToDispatch,
    /// Paper: posted, no attempt recorded yet.
    Dispatched,
    /// Paper: the first attempt found nobody; the second is due within three days.
    SecondAttemptDue,
    /// The edict is to be published (unknown addressee or address, or delivery failed).
    EdictDue,
    /// It took effect.
    TookEffect,
}

/// The state of a notification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Stage.
    pub stage: Stage,
    /// The file.
    pub case: Option<CaseRef>,
    /// The act.
    pub act: Option<Act>,
    /// The addressee.
    pub addressee: Option<Addressee>,
    /// How.
    pub delivery: Option<Delivery>,
    /// The last day to send it.
    pub sending_due: Option<NaiveDate>,
    /// Electronic: made available on.
    pub available_on: Option<NaiveDate>,
    /// Paper: posted on.
    pub dispatched_on: Option<NaiveDate>,
    /// Paper: the first failed attempt.
    pub first_attempt: Option<NaiveDateTime>,
    /// Paper: the day of the last attempt.
    pub last_attempt_on: Option<NaiveDate>,
    /// The caseworker was warned that it was not sent in time.
    pub overdue_warned: bool,
    /// How and when it took effect.
    pub effect: Option<(Outcome, NaiveDate)>,
}
