//! Where a removal request is, rebuilt from its events.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NamedPerson;

/// The stage of a removal request.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequestStage {
    /// Not submitted.
    #[default]
    NotSubmitted,
    /// Submitted: a caseworker examines it.
    Examining,
    /// A removal file was opened from it.
    FileOpened,
    /// The council resolved not to open one.
    Declined,
}

/// A removal request as it stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestState {
    /// Its stage.
    pub stage: RequestStage,
    /// The requester's document number.
    pub requester: Option<String>,
    /// Who they say does not live there.
    pub person: Option<NamedPerson>,
    /// The address given.
    pub address: String,
    /// What they know of the whereabouts.
    pub whereabouts: String,
    /// The day it was submitted.
    pub submitted_on: Option<NaiveDate>,
    /// The file opened from it.
    pub file: Option<Uuid>,
}
