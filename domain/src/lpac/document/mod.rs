//! Documents of a file and its electronic index (arts. 26–28 and 70 LPAC): a plan, a title, the
//! evidence of an allegation — uploaded by a party or by a caseworker. One stream per document:
//! its event records what it is (name, type, size, SHA-256 digest), who brought it, its secure
//! verification code and, for a party's upload, its registry entry (an upload is a submission
//! like any other, art. 16). The bytes are kept apart, addressed by their digest; the file's
//! electronic index is the read model of its documents in order, each with its digest.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::lpac::notification::CaseRef;
use crate::lpac::RegistryEntry;
use crate::procedure::{CaseEffect, DomainEvent, Procedure};
use crate::values::{ParseError, VerificationCode};

#[cfg(test)]
mod tests;

/// The aggregate.
#[derive(Debug)]
pub struct Document;

/// The largest document accepted (10 MiB).
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;

/// A SHA-256 digest, as 64 lowercase hexadecimal characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest(String);

impl Digest {
    /// The digest of these bytes.
    pub fn of(bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        Self(hex::encode(sha2::Sha256::digest(bytes)))
    }

    /// As text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Digest {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.len() == 64
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(value))
        } else {
            Err(ParseError::new(
                "digest",
                &value,
                "64 lowercase hexadecimal characters (SHA-256)",
            ))
        }
    }
}

impl From<Digest> for String {
    fn from(value: Digest) -> Self {
        value.0
    }
}

/// The types of document accepted: what the electronic file keeps (ENI formats).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MediaType {
    /// PDF.
    Pdf,
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
}

impl MediaType {
    /// The media type as HTTP names it.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
        }
    }

    /// From an HTTP media type (parameters ignored); `None` for a type not accepted.
    pub fn from_mime(mime: &str) -> Option<Self> {
        let essence = mime.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/pdf" => Some(MediaType::Pdf),
            "image/jpeg" => Some(MediaType::Jpeg),
            "image/png" => Some(MediaType::Png),
            _ => None,
        }
    }

    /// Whether the bytes begin as this type's files do (a declared type is checked, not
    /// trusted).
    pub fn matches(self, bytes: &[u8]) -> bool {
        match self {
            MediaType::Pdf => bytes.starts_with(b"%PDF-"),
            MediaType::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
            MediaType::Png => bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
        }
    }
}

/// A document's name as the person gave it: 1 to 200 characters, no control characters, no path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentName(String);

impl DocumentName {
    /// As text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocumentName {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let trimmed = value.trim();
        let count = trimmed.chars().count();
        if count == 0 || count > 200 {
            return Err(ParseError::new(
                "document name",
                &value,
                "1 to 200 characters",
            ));
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
        {
            return Err(ParseError::new(
                "document name",
                &value,
                "no control characters and no path separators",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

impl From<DocumentName> for String {
    fn from(value: DocumentName) -> Self {
        value.0
    }
}

/// Who brought a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploader {
    /// `citizen` (a party, or their representative) or `caseworker`.
    pub role: String,
    /// Their identifier (a document number, a caseworker's id).
    pub subject: String,
}

/// The commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Adds a document to a file (its bytes already stored under `sha256`).
    Add {
        /// The file.
        case: CaseRef,
        /// Its name.
        name: DocumentName,
        /// Its type (checked against its first bytes by the caller).
        media_type: MediaType,
        /// Its size in bytes.
        size: u64,
        /// Its SHA-256 digest.
        sha256: Digest,
        /// Who brought it.
        by: Uploader,
        /// A party's upload: its registry entry (whose code is the document's).
        entry: Option<RegistryEntry>,
        /// Its secure verification code (art. 27.3.a).
        verification_code: VerificationCode,
        /// When.
        at: DateTime<Utc>,
    },
}

/// The events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    /// The document joined the file.
    Added {
        /// The file.
        case: CaseRef,
        /// Its name.
        name: DocumentName,
        /// Its type.
        media_type: MediaType,
        /// Its size in bytes.
        size: u64,
        /// Its SHA-256 digest.
        sha256: Digest,
        /// Who brought it.
        by: Uploader,
        /// A party's upload: its registry entry.
        entry: Option<RegistryEntry>,
        /// Its secure verification code.
        verification_code: VerificationCode,
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}

/// The state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Whether it was added.
    pub added: bool,
}

/// The refusals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Added once.
    #[error("the document was already added")]
    AlreadyAdded,
    /// Empty, or over the limit.
    #[error("a document has from 1 byte to {MAX_BYTES} bytes")]
    Size,
}

impl esrs::Aggregate for Document {
    const NAME: &'static str = "case_document";
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle_command(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
        match command {
            Command::Add { .. } if state.added => Err(Refusal::AlreadyAdded),
            Command::Add { size, .. } if size == 0 || size > MAX_BYTES => Err(Refusal::Size),
            Command::Add {
                case,
                name,
                media_type,
                size,
                sha256,
                by,
                entry,
                verification_code,
                at,
            } => Ok(vec![Event::Added {
                case,
                name,
                media_type,
                size,
                sha256,
                by,
                entry,
                verification_code,
                at,
            }]),
        }
    }

    fn apply_event(mut state: State, event: Event) -> State {
        match event {
            Event::Added { .. } => state.added = true,
        }
        state
    }
}

impl Procedure for Document {
    const TITLE: &'static str = "Documento del expediente";

    /// A document is part of its file, not a file: the electronic index shows it.
    fn case_effects(_event: &Event) -> Vec<CaseEffect> {
        Vec::new()
    }

    fn registry_entries(event: &Event) -> Vec<RegistryEntry> {
        match event {
            Event::Added {
                entry: Some(entry), ..
            } => vec![entry.clone()],
            _ => Vec::new(),
        }
    }
}
