//! What can be asked of an inscription. Dates are the council's local dates, resolved by the
//! caller.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::identity::IdentityDocument;
use crate::padron::{Actor, Dwelling, Person, RemovalCause, ResidenceStatus};

/// Commands on an inscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InscriptionCommand {
    /// Inscribes the person at a dwelling.
    Inscribe {
        /// Who.
        person: Person,
        /// Residence status.
        residence: ResidenceStatus,
        /// Where.
        dwelling: Dwelling,
        /// Declares that nobody else lives at the dwelling (opens removal files ex officio for
        /// those inscribed there).
        declares_nobody_else: bool,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
        /// When.
        at: DateTime<Utc>,
        /// Its registry entry (art. 16): the submission it records.
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// Moves to another dwelling in the municipality (counts as renewal).
    ChangeAddress {
        /// The new dwelling.
        dwelling: Dwelling,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
        /// The removal file open on the inscription that this move regularises (archived in the
        /// same append): the inscription records the file closed too.
        regularises: Option<Uuid>,
    },
    /// Modifies personal data (counts as renewal).
    ModifyPersonalData {
        /// The new name.
        name: String,
        /// The new document.
        document: IdentityDocument,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
    },
    /// Records a change of residence status with its evidence (permanent residence granted,
    /// Spanish or EU nationality obtained, or the other way): it decides the duty to renew
    /// (ENCSARP, only for non-EU residents without permanent residence) and counts as a change.
    ChangeResidenceStatus {
        /// The new status.
        residence: ResidenceStatus,
        /// What proves it (the resolution or card seen, its date and issuer).
        evidence: String,
        /// The local date.
        on: NaiveDate,
    },
    /// Express renewal: ratification of the data and declaration of continued residence.
    Renew {
        /// The document shown.
        document: IdentityDocument,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
        /// Its registry entry (art. 16): the submission it records.
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// Confirms continued residence (EU citizens and non-EU permanent residents).
    ConfirmResidence {
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
    },
    /// The person, inscribed at their dwelling, authorises someone new to be inscribed there
    /// (appended together with the newcomer's inscription).
    AuthoriseNewInscription {
        /// The newcomer's inscription.
        newcomer: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// The person asks for the removal of someone else inscribed at their dwelling (appended together
    /// with the opening of that file; refused while a file is open against the person).
    RequestRemovalOf {
        /// The file opened at the request.
        file: Uuid,
        /// The inscription concerned.
        target: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// A removal file was opened against the person (appended together with the file's opening).
    RecordRemovalFileOpened {
        /// The file.
        file: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// The removal file was closed without removal (archived, lapsed or regularised).
    RecordRemovalFileClosed {
        /// The file.
        file: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// Timer: the warning letter three months before the expiry.
    SendRenewalWarning {
        /// The expiry it warns about.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// Timer: the expiry passed without renewal; the inscription is proposed for lapse.
    ProposeLapse {
        /// The expiry that passed.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// Records the confirmation day of an inscription recorded before confirmation days were
    /// (an operator's one-off backfill): appends it, with its timers.
    RecordConfirmationDay,
    /// Timer: the letter three months before the residence must be confirmed (EU citizens and
    /// permanent residents).
    SendConfirmationWarning {
        /// The day it must be confirmed by.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// Timer: the residence was not confirmed in time: the inscription is listed for the council
    /// to open a removal file for wrong inscription.
    RecordConfirmationOverdue {
        /// The day that passed.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// Removes the inscription (lapse by a caseworker's resolution, effective on its notification;
    /// wrong inscription by a removal file's resolution; death; change of residence).
    Remove {
        /// Why.
        cause: RemovalCause,
        /// The day it takes effect.
        effective_on: NaiveDate,
        /// For a wrong inscription, the removal file that resolved it: it must be the one open
        /// on this inscription (not one left from an earlier period).
        file: Option<Uuid>,
    },
    /// A caseworker corrects a removal recorded by a material error (art. 109.2 LPAC): the
    /// inscription is as it was before it, and its renewal deadlines run again.
    CorrectRemoval {
        /// What is corrected and why.
        correction: crate::lpac::Correction,
        /// The local date.
        on: NaiveDate,
    },
    /// A caseworker declares the lapse proposed by the timer (art. 16.1 Ley 7/1985: by reasoned
    /// resolution, without a hearing); the removal takes effect when its notification does.
    ResolveLapse {
        /// Its reasons.
        grounds: crate::lpac::Reasons,
        /// The appeals that may be brought.
        appeals: Vec<crate::lpac::Appeal>,
        /// The notification issued with it.
        notification: Uuid,
        /// The local date.
        on: NaiveDate,
    },
}
