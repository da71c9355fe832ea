//! The value types a removal file's commands and events carry: how it started, how its opening
//! was notified and what was decided.

use serde::{Deserialize, Serialize};

/// How the file was started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RemovalBasis {
    /// Ex officio, e.g. because someone registered at the dwelling declaring nobody else lives there.
    ExOfficio {
        /// Why.
        reason: String,
    },
    /// At the request of a person, who says what they know of the person's whereabouts.
    Request {
        /// The requester's document number.
        requester: String,
        /// What they know of where the person lives now.
        whereabouts: String,
        /// The removal request it was opened from (absent in files opened at a person's request
        /// before requests were examined first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<uuid::Uuid>,
    },
}

/// How the opening was notified, in files notified before notifications were records of their
/// own (kept to read their events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationChannel {
    /// Electronic (sede).
    Electronic,
    /// Paper with acknowledgement of receipt.
    Paper,
}

/// How a notification of the file took effect: the notification's own outcome.
pub use crate::lpac::notification::Outcome as NotificationOutcome;

/// The decision of a removal file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileDecision {
    /// Remove the inscription (cause: wrong inscription).
    Remove,
    /// Archive: the person stays inscribed.
    Archive,
}
