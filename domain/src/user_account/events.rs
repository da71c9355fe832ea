//! What happened to an account, as stored in the event log. No event carries a secret.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Applicant, Channel, Contact, Representative, RequestChannel, UnlockChannel, VerificationMethod,
};
use crate::procedure::DomainEvent;
use crate::values::{CaseNumber, SiaCode};

/// The events. None carries a secret.
// The log stores `event_type()`: strum derives it from the variant names, in the same
// snake_case as the serde tag, so renaming a variant renames stored events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    /// The registration was made.
    Registered {
        /// The registration file's number.
        case_number: CaseNumber,
        /// The procedure's SIA code.
        sia_code: SiaCode,
        /// The channel.
        channel: Channel,
        /// Who.
        applicant: Applicant,
        /// Contact data.
        contact: Contact,
        /// The representative who acted, if any.
        representative: Option<Representative>,
        /// The caseworker who checked the document (in person).
        document_checked_by: Option<String>,
        /// When.
        at: DateTime<Utc>,
        /// Its registry entry (art. 16): the submission it records. Absent in older events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// An online registration without a certificate, not yet verified, was closed because the
    /// person registered with their identity proved (a certificate, or in person): the verified
    /// registration wins, and the unverified one's contact data go with it.
    RegistrationSuperseded {
        /// The channel of the registration that supersedes it.
        by: Channel,
        /// When.
        at: DateTime<Utc>,
    },
    /// A single-use e-mail link was issued (certificate registrations).
    EmailConfirmationIssued {
        /// When.
        at: DateTime<Utc>,
    },
    /// The council was notified of a new registration and the person told verification is pending.
    VerificationRequested {
        /// When.
        at: DateTime<Utc>,
    },
    /// The identity was verified.
    IdentityVerified {
        /// How.
        method: VerificationMethod,
        /// By whom.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The key was reset: a one-time activation was sent.
    KeyReset {
        /// By whom.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A password was set; the account is active.
    PasswordSet {
        /// When.
        at: DateTime<Utc>,
        /// The council's local date then (absent in older events: the UTC date).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<NaiveDate>,
    },
    /// A successful login with the password.
    LoggedIn {
        /// When.
        at: DateTime<Utc>,
        /// The council's local date then (absent in older events: the UTC date).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<NaiveDate>,
    },
    /// A successful login with a PIN (not a use of the password).
    LoggedInWithPin {
        /// When.
        at: DateTime<Utc>,
    },
    /// A wrong password.
    LoginFailed {
        /// Wrong passwords in a row in this login session, this one included.
        consecutive: u8,
        /// When.
        at: DateTime<Utc>,
        /// The login session (absent in older events).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<String>,
    },
    /// Locked after three wrong passwords.
    Locked {
        /// When.
        at: DateTime<Utc>,
    },
    /// Unlocked.
    Unlocked {
        /// How.
        channel: UnlockChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// The password expired after a year unused.
    PasswordExpired {
        /// When.
        at: DateTime<Utc>,
    },
    /// A recovery was requested: a one-time activation is sent.
    RecoveryRequested {
        /// Where.
        channel: RequestChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// The contact data changed.
    ContactChanged {
        /// The new data.
        contact: Contact,
        /// When.
        at: DateTime<Utc>,
    },
    /// The mobile phone was verified.
    MobileVerified {
        /// When.
        at: DateTime<Utc>,
    },
    /// A one-time PIN (10 minutes) was issued.
    PinIssued {
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}
