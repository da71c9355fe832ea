//! Representation (art. 5 LPAC): a person acts for another only with a representation on record.
//! One stream per representation: granted apud acta — in person before a caseworker, or online by
//! the principal with an electronic certificate (art. 6.1) —, or a power shown to a caseworker and
//! recorded by them (art. 5.4); with its scope (every procedure, or some) and its validity, at
//! most five years (art. 6.6). The principal may revoke it at any time.
//!
//! Filings in another's name are checked against the representations in force (the
//! `representations` read model); without one they are refused.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::lpac::RegistryEntry;
use crate::procedure::{CaseEffect, DomainEvent, Procedure};
use crate::values::DocumentNumber;

#[cfg(test)]
mod tests;

/// The aggregate.
#[derive(Debug)]
pub struct Representation;

/// A person named in a representation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Their identification number.
    pub document: DocumentNumber,
    /// Their name.
    pub name: String,
}

/// What a representation covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", content = "procedures", rename_all = "snake_case")]
pub enum Scope {
    /// Every procedure of the council (a general power, art. 6.4.a).
    AllProcedures,
    /// Only these procedures (machine names, checked by the caller against the service's).
    Procedures(Vec<String>),
}

impl Scope {
    /// Whether it covers the procedure.
    pub fn covers(&self, procedure: &str) -> bool {
        match self {
            Scope::AllProcedures => true,
            Scope::Procedures(names) => names.iter().any(|n| n == procedure),
        }
    }
}

/// How the representation was accredited.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Means {
    /// Apud acta, the principal appearing in person before a caseworker (art. 6.1).
    ApudActaInPerson,
    /// Apud acta, online, by the principal with an electronic certificate (art. 6.1).
    ApudActaOnline,
    /// A power (a notarial deed, say) shown to a caseworker and recorded (art. 5.4).
    PowerShown,
}

/// The longest a representation on record lasts (art. 6.6: five years).
pub const MAX_YEARS: u32 = 5;

/// The commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Records a representation.
    Grant {
        /// Who is represented.
        principal: Person,
        /// Who acts for them.
        representative: Person,
        /// What it covers.
        scope: Scope,
        /// How it was accredited.
        means: Means,
        /// What was shown, for a power shown (e.g. the notary and protocol number).
        evidence: Option<String>,
        /// The first day it is in force (the council's local date of the grant).
        from: NaiveDate,
        /// The last day it is in force.
        until: NaiveDate,
        /// The registry entry of an apud acta granted online.
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The principal (or a caseworker on their written word) revokes it (art. 6.5 ends it from
    /// its record).
    Revoke {
        /// Why, if said.
        reason: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
}

/// The events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    /// The representation was recorded.
    Granted {
        /// Who is represented.
        principal: Person,
        /// Who acts for them.
        representative: Person,
        /// What it covers.
        scope: Scope,
        /// How it was accredited.
        means: Means,
        /// What was shown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<String>,
        /// First day in force.
        from: NaiveDate,
        /// Last day in force.
        until: NaiveDate,
        /// Its registry entry, when granted online.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<RegistryEntry>,
        /// When.
        at: DateTime<Utc>,
    },
    /// It was revoked.
    Revoked {
        /// Why, if said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}

/// Where a representation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// Nothing recorded (an empty stream).
    #[default]
    None,
    /// Recorded, and not revoked (it may still have run out: see `until`).
    Recorded,
    /// Revoked.
    Revoked,
}

/// The state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Where it is.
    pub stage: Stage,
    /// The principal's document.
    pub principal: Option<DocumentNumber>,
    /// Its last day.
    pub until: Option<NaiveDate>,
}

/// Why a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Grant on a stream that has one.
    #[error("this representation is already recorded")]
    AlreadyRecorded,
    /// Revoke on an empty stream.
    #[error("there is no such representation")]
    NotRecorded,
    /// Revoke twice.
    #[error("the representation was already revoked")]
    AlreadyRevoked,
    /// A person cannot represent themselves.
    #[error("a person cannot be their own representative")]
    SelfRepresentation,
    /// A scope naming no procedure.
    #[error("the representation must cover every procedure or name at least one")]
    EmptyScope,
    /// The last day is before the first, or more than five years after it.
    #[error("a representation lasts from its grant to a later day at most five years ahead (art. 6.6 LPAC)")]
    Validity,
    /// A power shown, recorded without saying what was shown.
    #[error("say which power was shown (e.g. the notary and protocol number)")]
    EvidenceMissing,
    /// An online apud acta without its registry entry.
    #[error("an apud acta granted online is entered in the registry")]
    EntryMissing,
}

impl esrs::Aggregate for Representation {
    const NAME: &'static str = "representation";
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle_command(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
        match (state.stage, command) {
            (
                Stage::None,
                Command::Grant {
                    principal,
                    representative,
                    scope,
                    means,
                    evidence,
                    from,
                    until,
                    entry,
                    at,
                },
            ) => {
                if principal.document == representative.document {
                    return Err(Refusal::SelfRepresentation);
                }
                if matches!(&scope, Scope::Procedures(names) if names.is_empty()) {
                    return Err(Refusal::EmptyScope);
                }
                let latest = from
                    .checked_add_months(Months::new(12 * MAX_YEARS))
                    .unwrap_or(from);
                if until < from || until > latest {
                    return Err(Refusal::Validity);
                }
                let evidence = evidence
                    .map(|e| e.trim().to_owned())
                    .filter(|e| !e.is_empty());
                if means == Means::PowerShown && evidence.is_none() {
                    return Err(Refusal::EvidenceMissing);
                }
                if means == Means::ApudActaOnline && entry.is_none() {
                    return Err(Refusal::EntryMissing);
                }
                Ok(vec![Event::Granted {
                    principal,
                    representative,
                    scope,
                    means,
                    evidence,
                    from,
                    until,
                    entry,
                    at,
                }])
            }
            (Stage::None, Command::Revoke { .. }) => Err(Refusal::NotRecorded),
            (_, Command::Grant { .. }) => Err(Refusal::AlreadyRecorded),
            (Stage::Revoked, Command::Revoke { .. }) => Err(Refusal::AlreadyRevoked),
            (Stage::Recorded, Command::Revoke { reason, at }) => Ok(vec![Event::Revoked {
                reason: reason
                    .map(|r| r.trim().to_owned())
                    .filter(|r| !r.is_empty()),
                at,
            }]),
        }
    }

    fn apply_event(mut state: State, event: Event) -> State {
        match event {
            Event::Granted {
                principal, until, ..
            } => {
                state.stage = Stage::Recorded;
                state.principal = Some(principal.document);
                state.until = Some(until);
            }
            Event::Revoked { .. } => state.stage = Stage::Revoked,
        }
        state
    }
}

impl Procedure for Representation {
    const TITLE: &'static str = "Apoderamiento (representation)";

    // A representation is not a case file: it has no row in the case view.
    fn case_effects(_event: &Event) -> Vec<CaseEffect> {
        Vec::new()
    }

    fn registry_entries(event: &Event) -> Vec<RegistryEntry> {
        match event {
            Event::Granted {
                entry: Some(entry), ..
            } => vec![entry.clone()],
            _ => Vec::new(),
        }
    }
}
