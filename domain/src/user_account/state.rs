//! Where an account is, rebuilt from its events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Channel;

/// The account's life.
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
    /// No registration.
    #[default]
    Unregistered,
    /// Registered with a certificate; waiting for the e-mail link to be followed.
    AwaitingEmailConfirmation,
    /// Registered online without certificate; waiting for the council to verify the identity.
    AwaitingVerification,
    /// Identity verified; waiting for a caseworker to reset the key.
    AwaitingKey,
    /// A one-time activation was sent; waiting for the person to set a password.
    AwaitingPassword,
    /// Usable.
    Active,
    /// Locked after three wrong passwords.
    Locked,
    /// The password expired after a year without use.
    Expired,
}

impl Stage {
    /// Its code.
    pub fn code(self) -> &'static str {
        self.into()
    }
}

/// The state rebuilt from an account's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Where it is.
    pub stage: Stage,
    /// How it was registered.
    pub channel: Option<Channel>,
    /// Whether it is a legal person's.
    pub legal_person: bool,
    /// The registration file's number.
    pub case_number: Option<crate::values::CaseNumber>,
    /// Wrong passwords in a row in the current login session.
    pub consecutive_failures: u8,
    /// The last wrong password: its login session and moment.
    pub last_failure: Option<(Option<String>, DateTime<Utc>)>,
    /// The login sessions with wrong passwords still open: each one's count and last attempt.
    pub session_failures: Vec<(Option<String>, u8, DateTime<Utc>)>,
    /// The last successful login with the password (or the moment the password was set).
    pub last_used: Option<DateTime<Utc>>,
    /// Its local date.
    pub last_used_on: Option<chrono::NaiveDate>,
    /// Whether the mobile phone was verified (for PIN logins).
    pub mobile_verified: bool,
}
