//! What happened to an inscription, as stored in the event log.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::identity::IdentityDocument;
use crate::padron::{Actor, Dwelling, Person, RemovalCause, ResidenceStatus};
use crate::procedure::DomainEvent;

/// Events of an inscription.
// The log stores `event_type()`: strum derives it from the variant names, in the same
// snake_case as the serde tag, so renaming a variant renames stored events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum InscriptionEvent {
    /// Inscribed.
    Inscribed {
        /// The renewal due date this change sets (only for those who must renew).
        renewal_due: Option<NaiveDate>,
        /// Who.
        person: Person,
        /// Residence status.
        residence: ResidenceStatus,
        /// Where.
        dwelling: Dwelling,
        /// The declaration that nobody else lives there.
        declares_nobody_else: bool,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
        /// Its registry entry (art. 16): the submission it records. Absent in older events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// Inscribed again, after a removal (a new period of the person's inscription in the council:
    /// after a lapse, a removal for wrong inscription or a move away; issue 14). The earlier
    /// periods stay in the stream's history.
    Reinscribed {
        /// The renewal due date it sets (only for those who must renew).
        renewal_due: Option<NaiveDate>,
        /// Who.
        person: Person,
        /// Residence status.
        residence: ResidenceStatus,
        /// Where.
        dwelling: Dwelling,
        /// The declaration that nobody else lives there.
        declares_nobody_else: bool,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
        /// Its registry entry (art. 16): the hoja padronal it records.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// Moved.
    AddressChanged {
        /// The renewal due date this change sets (only for those who must renew).
        renewal_due: Option<NaiveDate>,
        /// Where to.
        dwelling: Dwelling,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
    },
    /// Personal data modified.
    PersonalDataModified {
        /// The renewal due date this change sets (only for those who must renew).
        renewal_due: Option<NaiveDate>,
        /// New name.
        name: String,
        /// New document.
        document: IdentityDocument,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
    },
    /// The residence status changed, with its evidence: the duty to renew follows it.
    ResidenceStatusChanged {
        /// The new status.
        residence: ResidenceStatus,
        /// What proves it.
        evidence: String,
        /// The renewal due date it sets (only for those who must renew; `None` ends the duty).
        renewal_due: Option<NaiveDate>,
        /// The local date.
        on: NaiveDate,
    },
    /// The day by which an EU citizen or permanent resident must confirm their residence, set
    /// by the change just recorded (appended with it).
    ConfirmationDue {
        /// That day.
        due: NaiveDate,
    },
    /// The letter warning that the residence must be confirmed was sent.
    ConfirmationWarningSent {
        /// The day it must be confirmed by.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// The residence was not confirmed in time.
    ConfirmationOverdue {
        /// The day that passed.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// Renewed expressly.
    Renewed {
        /// The renewal due date this change sets (only for those who must renew).
        renewal_due: Option<NaiveDate>,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
        /// Its registry entry (art. 16): the submission it records. Absent in older events.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<crate::lpac::RegistryEntry>,
    },
    /// Residence confirmed.
    ResidenceConfirmed {
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
    },
    /// A new inscription at the dwelling was authorised by this person.
    NewInscriptionAuthorised {
        /// The newcomer's inscription.
        newcomer: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// The person requested the removal of someone else.
    RemovalRequested {
        /// The file.
        file: Uuid,
        /// The inscription concerned.
        target: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// A removal file was opened.
    RemovalFileOpened {
        /// The file.
        file: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// The removal file closed without removal.
    RemovalFileClosed {
        /// The file.
        file: Uuid,
        /// The local date.
        on: NaiveDate,
    },
    /// The warning letter was sent.
    RenewalWarningSent {
        /// The expiry.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// Proposed for lapse.
    LapseProposed {
        /// The expiry that passed.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
    /// Removed.
    Removed {
        /// Why.
        cause: RemovalCause,
        /// Effective on.
        effective_on: NaiveDate,
    },
    /// A removal recorded by a material error was corrected (art. 109.2): the inscription is in
    /// force again as it was.
    RemovalCorrected {
        /// What was corrected and why.
        correction: crate::lpac::Correction,
        /// The renewal's last day again, for those who must renew.
        renewal_due: Option<NaiveDate>,
        /// The removal file that was open when the wrong removal was recorded, open again.
        open_removal_file: Option<Uuid>,
        /// The local date.
        on: NaiveDate,
    },
    /// The lapse was declared by resolution; the removal follows its notification.
    LapseResolved {
        /// Its reasons.
        grounds: crate::lpac::Reasons,
        /// The appeals that may be brought.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        appeals: Vec<crate::lpac::Appeal>,
        /// The notification issued with it.
        notification: Uuid,
        /// The local date.
        on: NaiveDate,
    },
}

impl DomainEvent for InscriptionEvent {
    fn event_type(&self) -> &'static str {
        self.into()
    }
}
