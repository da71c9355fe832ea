//! What can be asked of an account. Secrets are checked by the caller; times are injected.

use chrono::{DateTime, NaiveDate, Utc};

use super::{
    Applicant, Channel, Contact, Representative, RequestChannel, UnlockChannel, VerificationMethod,
};
use crate::values::{CaseNumber, SiaCode};

/// The commands. Secrets are checked by the caller; times are injected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Registers.
    Register {
        /// The registration file's number.
        case_number: CaseNumber,
        /// The procedure's SIA code for this council.
        sia_code: SiaCode,
        /// The channel.
        channel: Channel,
        /// Who.
        applicant: Applicant,
        /// Contact data.
        contact: Contact,
        /// A representative, if one acts.
        representative: Option<Representative>,
        /// For the phone channel: whether the person is already in the council's records.
        known_to_council: bool,
        /// For in-person registrations: the caseworker who checked the identity document.
        document_checked_by: Option<String>,
        /// For the certificate channel: the certificate's subject (must be the applicant or the
        /// representative).
        certificate_subject: Option<String>,
        /// When.
        at: DateTime<Utc>,
        /// Its registry entry (art. 16): the submission it records.
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// The single-use e-mail link of a certificate registration was followed (token checked by
    /// the caller) and a password set.
    ConfirmEmail {
        /// When.
        at: DateTime<Utc>,
        /// The council's local date then (the password's year of use counts from it).
        on: NaiveDate,
    },
    /// A caseworker records how the identity was verified.
    VerifyIdentity {
        /// How.
        method: VerificationMethod,
        /// The caseworker.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A caseworker resets the key: a one-time activation is sent by e-mail (also for a lost key).
    ResetKey {
        /// The caseworker.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The person followed the activation and set a password (token checked by the caller).
    SetPassword {
        /// When.
        at: DateTime<Utc>,
        /// The council's local date then.
        on: NaiveDate,
    },
    /// A login attempt with document number and password; the caller checked the password.
    Login {
        /// Whether the password was right.
        password_correct: bool,
        /// When.
        at: DateTime<Utc>,
        /// The council's local date then.
        on: NaiveDate,
        /// The login session the attempt belongs to (seed 000: three consecutive wrong
        /// attempts *in the same session* lock the password): an opaque key of the device the
        /// attempts come from, which the caller derives without storing the address itself.
        session: String,
    },
    /// A login with a single-use PIN sent to the verified mobile (the caller checked it): not a
    /// use of the password, whose year without use runs on.
    LoginWithPin {
        /// When.
        at: DateTime<Utc>,
    },
    /// The expiry timer fired.
    ExpirePassword {
        /// When.
        at: DateTime<Utc>,
        /// The council's local date then.
        today: NaiveDate,
    },
    /// The person asks to recover the password.
    RequestRecovery {
        /// Where.
        channel: RequestChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// A locked account is unlocked.
    Unlock {
        /// How.
        channel: UnlockChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// Personal data given at registration is changed.
    ChangeContact {
        /// The new data.
        contact: Contact,
        /// Where the request was made.
        channel: RequestChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// The person proved the mobile phone (a code sent by SMS; checked by the caller).
    VerifyMobile {
        /// When.
        at: DateTime<Utc>,
    },
    /// A one-time PIN was requested for login.
    RequestPin {
        /// When.
        at: DateTime<Utc>,
    },
}
