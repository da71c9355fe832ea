//! The value types a notification carries: the file and the act it notifies, its addressee, how
//! it is delivered, what a paper delivery attempt found and how it took effect.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{CaseNumber, DocumentNumber};

/// The file whose act is notified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRef {
    /// The file's procedure (its stream type), which the effect is reported back to.
    pub stream_type: String,
    /// The file (its stream).
    pub stream_id: Uuid,
    /// The file's number.
    pub case_number: CaseNumber,
}

/// What kind of act is notified: the file's procedure reacts to the effect by kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ActKind {
    /// The agreement that opens an ex officio procedure (acuerdo de inicio), with its hearing.
    Opening,
    /// A resolution (art. 40.1: resolutions are notified to the interested parties).
    Resolution,
    /// A request to fix an application (art. 68.1): its ten days count from the day after it
    /// takes effect, and the maximum time stands still from that day (art. 22.1.a).
    RectificationRequest,
}

/// The act notified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Act {
    /// Its kind.
    pub kind: ActKind,
    /// A one-line summary (what the addressee sees before opening it).
    pub summary: String,
    /// The full text of the act, with what art. 40.2 requires (the appeals, the body, the time).
    pub text: String,
    /// The day the act was dictated (the 10 days to send it run from here, art. 40.2).
    pub on: NaiveDate,
}

/// The person notified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addressee {
    /// Their identification number (the one who may open an electronic notification).
    pub document: DocumentNumber,
    /// Their name.
    pub name: String,
}

/// Why a notification goes straight to the edict (art. 44).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EdictReason {
    /// The interested party is unknown.
    AddresseeUnknown,
    /// The place of notification is unknown.
    AddressUnknown,
}

/// How a notification is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Delivery {
    /// Made available in the electronic office (Mi Carpeta); takes effect when the addressee
    /// opens it, or is deemed rejected after ten calendar days (art. 43).
    Electronic,
    /// A letter to an address; two attempts, then the edict (art. 42.2).
    Paper {
        /// The postal address.
        address: String,
    },
    /// Published in the Boletín Oficial del Estado at once (art. 44).
    Edict {
        /// Why.
        reason: EdictReason,
    },
}

impl Delivery {
    /// The channel's code.
    pub fn channel(&self) -> &'static str {
        match self {
            Delivery::Electronic => "electronic",
            Delivery::Paper { .. } => "paper",
            Delivery::Edict { .. } => "edict",
        }
    }
}

/// What a paper delivery attempt found (art. 42.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AttemptResult {
    /// Handed to the addressee or to a person at the address over 14 who identified themselves.
    Delivered {
        /// Who received it and their document, as the postal worker wrote it.
        received_by: String,
    },
    /// Nobody at the address.
    Absent,
    /// The addressee refused it: the notification is done (art. 41.5).
    Refused,
    /// The addressee is unknown at the address: the edict follows (art. 44).
    UnknownAtAddress,
}

/// How a notification took effect.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    /// The addressee opened the electronic notification (art. 43.2).
    Accessed,
    /// Rejected: refused by the addressee, or ten calendar days passed without opening it
    /// (arts. 41.5 and 43.2); the procedure goes on.
    Rejected,
    /// The letter was delivered (art. 42.2).
    Delivered,
    /// Published by edict in the BOE (art. 44).
    Edict,
}
