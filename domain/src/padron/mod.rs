//! The padrón (municipal register of inhabitants): a person's inscription, the renewal that
//! non-EU foreigners without permanent residence owe every two years (ENCSARP), and the removal
//! file for a wrong inscription (baja por inscripción indebida).
//!
//! Three aggregates: [`Inscription`] (one per person and council), [`RemovalFile`], and the
//! [`RemovalRequest`] a person files, which a caseworker examines before any file opens. While a
//! removal file is open against a person, their inscription refuses renewals, confirmations,
//! data changes, new inscriptions at the address and removal requests against others. The file
//! and the inscription are changed together, in one atomic append of both streams, so a renewal
//! racing the opening of a file either happens before it or is refused: never recorded while the
//! file is open.
//!
//! Dates are the council's local dates, and every due date is computed by the caller with the
//! legal calendar and carried in the command.
//!
//! Each aggregate lives in its own folder (commands, events, state, refusals, timers); this module
//! holds what both share — who the person is, where they live, who acts for them, why they leave
//! the register — and re-exports everything under `padron::`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::identity::{IdentityDocument, Nationality};

mod certificate;
mod inscription;
mod removal_file;
mod removal_request;

pub use certificate::{
    CertificateCommand, CertificateEvent, CertificateKind, CertificateRefusal, CertificateScope,
    CertificateState, CertifiedPeriod, CertifiedPerson, Issue as CertificateIssue,
    PadronCertificate,
};
pub use inscription::{
    renewal_due, renewal_timers, Inscription, InscriptionCommand, InscriptionEvent,
    InscriptionRefusal, InscriptionStage, InscriptionState, CONFIRMATION_EXPIRY_TIMER,
    CONFIRMATION_WARNING_TIMER, CONFIRMATION_YEARS_IN_CENTRAL_REGISTER,
    CONFIRMATION_YEARS_OTHERWISE, REMOVAL_FILE_LAPSED, RENEWAL_EXPIRY_TIMER, RENEWAL_MONTHS,
    RENEWAL_WARNING_TIMER, WARNING_MONTHS,
};
pub use removal_file::{
    file_timers, FileCommand, FileDecision, FileEvent, FileRefusal, FileStage, FileState,
    NotificationChannel, NotificationOutcome, RemovalBasis, RemovalFile, ELECTRONIC_REJECTION_DAYS,
    ELECTRONIC_REJECTION_TIMER, FILE_LAPSE_TIMER, HEARING_BUSINESS_DAYS, HEARING_TIMER,
    REPORT_WAIT_MONTHS, REPORT_WAIT_TIMER,
};
pub use removal_request::{
    NamedPerson, RemovalRequest, RequestCommand, RequestEvent, RequestRefusal, RequestStage,
    RequestState, ANSWER_MONTHS,
};

/// The residence status that decides whether an inscription must be renewed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ResidenceStatus {
    /// Spanish.
    Spanish,
    /// EU citizen (or family): confirms residence instead of renewing.
    EuCitizen,
    /// Non-EU with permanent residence: no renewal.
    NonEuPermanent,
    /// Non-EU without permanent residence: renews every two years (ENCSARP).
    NonEuTemporary,
}

/// Who acted for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// The person themselves (an adult).
    Themselves,
    /// A parent with custody (for a minor).
    Parent {
        /// Their document number.
        document: String,
    },
    /// A legal representative (for a minor or a person without capacity).
    LegalRepresentative {
        /// Their document number.
        document: String,
    },
    /// An accredited representative of an adult (written authorisation and both documents).
    Representative {
        /// Their document number.
        document: String,
        /// The written authorisation's reference.
        authorisation: String,
    },
}

/// Why a person left the padrón.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RemovalCause {
    /// Death.
    Death,
    /// Lapse (caducidad) of a non-renewed inscription.
    Lapse,
    /// Wrong inscription (baja por inscripción indebida).
    WrongInscription,
    /// Moved to another municipality.
    ChangeOfResidence,
}

/// A person as inscribed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Full name.
    pub name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Nationality.
    pub nationality: Nationality,
    /// The identity document.
    pub document: IdentityDocument,
}

/// A dwelling: the address and a stable key for it (e.g. the cadastral reference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dwelling {
    /// Stable key.
    pub key: String,
    /// The address as written.
    pub address: String,
}
