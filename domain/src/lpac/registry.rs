//! Registry entries (arts. 16 and 31 LPAC). Every submission by a person — an application, a fix,
//! an allegation, a document, a representation granted apud acta — is entered in the council's
//! registry with a number per council and year, the exact moment it was presented, and the moment
//! it counts from for deadlines (a filing on a non-business day counts from the first hour of the
//! next business day, art. 31.2.b). The receipt (art. 16.3) is the entry itself with its secure
//! verification code.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::values::{RegistryNumber, VerificationCode};

/// What was submitted.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SubmissionKind {
    /// An application that opens a file (solicitud, art. 66).
    Application,
    /// The fix of an application the council asked for (subsanación, art. 68).
    Rectification,
    /// Allegations in a hearing (art. 82).
    Allegation,
    /// A representation granted apud acta (art. 6).
    Representation,
    /// A document added to a file by a party (art. 16.1).
    Document,
    /// A notification sent by the council (an exit, art. 16.1).
    Notification,
}

/// One entry of the council's registry, as the event that records the submission carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryEntry {
    /// Its number (per council, year and direction).
    pub number: RegistryNumber,
    /// What was submitted.
    pub kind: SubmissionKind,
    /// The exact moment it was presented (the sede's clock).
    pub presented_at: DateTime<Utc>,
    /// The moment it counts from for deadlines (art. 31.2.b): the same moment on a business day,
    /// the first hour of the next business day otherwise.
    pub counts_from: DateTime<Utc>,
    /// The code anyone can check the receipt with.
    pub verification_code: VerificationCode,
}
