//! The value types an account's commands and events carry: who registers, through which
//! channel, their contact data and representative, and how later steps were made.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::identity::{IdentityDocument, Nationality};
use crate::values::DocumentNumber;

/// How the registration was made.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Channel {
    /// Online, identified by an electronic certificate (assurance high).
    OnlineWithCertificate,
    /// Online without a certificate: the council must verify the identity.
    OnlineWithoutCertificate,
    /// At a citizen office, with an identity document checked by a caseworker.
    InPerson,
    /// By phone, only for a person already in the council's records.
    Phone,
}

/// Who registers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Applicant {
    /// A natural person.
    Natural {
        /// Full name.
        name: String,
        /// Date of birth (to tell adults from minors).
        birth_date: NaiveDate,
        /// Nationality.
        nationality: Nationality,
        /// The identity document.
        document: IdentityDocument,
        /// For a minor: the reference of the document proving emancipation.
        emancipation_proof: Option<String>,
    },
    /// A legal person (registers online only).
    Legal {
        /// Company name.
        name: String,
        /// Its NIF.
        nif: DocumentNumber,
    },
}

impl Applicant {
    /// The number the account logs in with.
    pub fn login_number(&self) -> String {
        match self {
            Applicant::Natural { document, .. } => document.login_number(),
            Applicant::Legal { nif, .. } => nif.to_string(),
        }
    }
}

/// Contact data, all required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Mobile phone (E.164, e.g. +34600111222).
    pub mobile: String,
    /// E-mail.
    pub email: String,
    /// Postal address.
    pub address: String,
}

/// A representative acting for the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representative {
    /// Name.
    pub name: String,
    /// Their identity document.
    pub document: IdentityDocument,
    /// The general notarial power for administrative matters (protocol reference).
    pub notarial_power: String,
    /// Whether both identity documents were presented (originals or copies).
    pub both_documents_presented: bool,
}

/// How the council verified the identity of an online registration without certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// A phone call with control questions.
    PhoneControlQuestions,
    /// An appointment in person with the identity document.
    InPersonDocument,
}

/// How a locked account is unlocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockChannel {
    /// At a citizen office.
    InPerson,
    /// Online with an electronic certificate.
    Certificate,
}

/// Where a request was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestChannel {
    /// Online without a certificate.
    Online,
    /// Online with an electronic certificate.
    Certificate,
    /// In person.
    InPerson,
}
