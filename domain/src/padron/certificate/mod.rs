//! Certificates and volantes of the padrón (seed 004: individual or collective of a dwelling,
//! current or historical): what the council certifies from the register, issued as a document
//! with a secure verification code anyone can check (art. 27.3.a LPAC). One stream per document
//! issued; its event records what it certifies, for whom, the digest of the bytes (kept apart, in
//! the document store) and the code. A certificate has the value of a public document (art. 16.1
//! LBRL), here issued by an automated action authenticated by its code (art. 42.b Ley 40/2015); a
//! volante only informs (seed 004).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::lpac::document::Digest;
use crate::procedure::{CaseEffect, DomainEvent, Procedure};
use crate::values::VerificationCode;

#[cfg(test)]
mod tests;

/// A certificate or a volante.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CertificateKind {
    /// Certificado: a public document, signed by the secretary.
    Certificate,
    /// Volante: informative.
    Volante,
}

/// Whom it covers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumIter,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CertificateScope {
    /// The person alone.
    Individual,
    /// Everyone inscribed at the person's dwelling today.
    Collective,
}

/// What a certificate states of one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertifiedPerson {
    /// The inscription.
    pub inscription: Uuid,
    /// The name as inscribed.
    pub name: String,
    /// The document number as inscribed.
    pub document: String,
    /// The periods certified, oldest first.
    pub periods: Vec<CertifiedPeriod>,
    /// Inscribed in the municipality without a break since (the start of the period in force,
    /// through any moves within it), when inscribed now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_municipality_since: Option<NaiveDate>,
}

/// A stretch of time at one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertifiedPeriod {
    /// The address.
    pub address: String,
    /// From.
    pub from: NaiveDate,
    /// Until (absent while it lasts).
    pub until: Option<NaiveDate>,
    /// Why it ended, when it ended in a removal (death, lapse, wrong inscription, change of
    /// residence).
    pub removal_cause: Option<String>,
}

/// The document issued: what it certifies and how to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Certificate or volante.
    pub kind: CertificateKind,
    /// Individual or collective.
    pub scope: CertificateScope,
    /// Historical (every period) or current (the period in force).
    pub historical: bool,
    /// The inscription it was asked for.
    pub inscription: Uuid,
    /// The persons it states.
    pub persons: Vec<CertifiedPerson>,
    /// The date the register is certified at.
    pub as_of: NaiveDate,
    /// The digest of the document's bytes.
    pub sha256: Digest,
    /// Their size.
    pub size: u64,
    /// The secure verification code printed on it.
    pub verification_code: VerificationCode,
    /// Who asked (a document number, or a caseworker's id).
    pub requested_by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateCommand {
    /// Issues it.
    Issue(Issue),
}

/// Events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CertificateEvent {
    /// Issued.
    Issued(Issue),
}

impl DomainEvent for CertificateEvent {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}

/// Why issuing is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateRefusal {
    /// Issued already (a document is issued once; ask for another).
    #[error("this document was already issued")]
    AlreadyIssued,
    /// Nothing to certify.
    #[error("there is nobody to certify")]
    NobodyToCertify,
    /// A current document for someone not inscribed now.
    #[error("the person is not inscribed now: ask for a historical certificate")]
    NotInscribedNow,
}

/// The state: issued or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateState {
    /// What was issued.
    pub issued: Option<Issue>,
}

/// The aggregate.
#[derive(Debug)]
pub struct PadronCertificate;

impl esrs::Aggregate for PadronCertificate {
    const NAME: &'static str = "padron_certificate";
    type State = CertificateState;
    type Command = CertificateCommand;
    type Event = CertificateEvent;
    type Error = CertificateRefusal;

    fn handle_command(
        state: &CertificateState,
        command: CertificateCommand,
    ) -> Result<Vec<CertificateEvent>, CertificateRefusal> {
        let CertificateCommand::Issue(issue) = command;
        if state.issued.is_some() {
            return Err(CertificateRefusal::AlreadyIssued);
        }
        if issue.persons.is_empty() || issue.persons.iter().any(|p| p.periods.is_empty()) {
            return Err(CertificateRefusal::NobodyToCertify);
        }
        // A current document states periods in force only.
        if !issue.historical
            && issue
                .persons
                .iter()
                .any(|p| p.periods.iter().any(|period| period.until.is_some()))
        {
            return Err(CertificateRefusal::NotInscribedNow);
        }
        Ok(vec![CertificateEvent::Issued(issue)])
    }

    fn apply_event(mut state: CertificateState, event: CertificateEvent) -> CertificateState {
        let CertificateEvent::Issued(issue) = event;
        state.issued = Some(issue);
        state
    }
}

impl Procedure for PadronCertificate {
    const TITLE: &'static str = "Certificado o volante de empadronamiento";

    /// A document issued, not a case file.
    fn case_effects(_event: &CertificateEvent) -> Vec<CaseEffect> {
        Vec::new()
    }
}
