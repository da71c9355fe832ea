//! Corrections of material errors (art. 109.2 LPAC): a fact recorded wrongly — a death recorded
//! on the wrong person, say — is never rewritten; a new event names the event it corrects (by its
//! version in the stream), says why, and undoes what followed from it. The caller checks that the
//! version named is the fact being corrected; the aggregate decides whether it can be corrected
//! and what the correction restores.

use serde::{Deserialize, Serialize};

use crate::lpac::Reasons;

/// A correction, as the event that carries it records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The version (position in its stream) of the event corrected.
    pub corrects_version: i32,
    /// That event's type, as stored.
    pub corrects_type: String,
    /// Why it was wrong (the error and how it was found).
    pub reason: Reasons,
    /// The caseworker who corrects it.
    pub by: String,
}
