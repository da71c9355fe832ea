//! The padrón (municipal register of inhabitants): a person's inscription, the renewal that
//! non-EU foreigners without permanent residence owe every two years (ENCSARP), and the removal
//! file for a wrong inscription (baja por inscripción indebida).
//!
//! Two aggregates: [`Inscription`] (one per person and council) and [`RemovalFile`]. While a
//! removal file is open against a person, their inscription refuses renewals, confirmations,
//! data changes, new inscriptions at the address and removal requests against others. The file
//! and the inscription are changed together, in one atomic append of both streams, so a renewal
//! racing the opening of a file either happens before it or is refused: never recorded while the
//! file is open.
//!
//! Dates are the council's local dates, and every due date is computed by the caller with the
//! legal calendar and carried in the command.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::procedure::{
    CaseEffect, CaseParty, CitizenAction, DomainEvent, Notice, NoticeChannel, NoticeRecipient,
    Procedure, TimerEffect,
};
use crate::user_account::{age_on, IdentityDocument, Nationality};
use crate::values::{CaseNumber, SiaCode};

/// The residence status that decides whether an inscription must be renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResidenceStatus {
    /// Spanish.
    Spanish,
    /// EU citizen (or family): confirms residence instead of renewing.
    EuCitizen,
    /// Non-EU with permanent residence: no renewal.
    NonEuPermanent,
    /// Non-EU without permanent residence: renews every two years (ENCSARP).
    NonEuTemporary,
}

/// Who acted for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// The person themselves (an adult).
    Themselves,
    /// A parent with custody (for a minor).
    Parent {
        /// Their document number.
        document: String,
    },
    /// A legal representative (for a minor or a person without capacity).
    LegalRepresentative {
        /// Their document number.
        document: String,
    },
    /// An accredited representative of an adult (written authorisation and both documents).
    Representative {
        /// Their document number.
        document: String,
        /// The written authorisation's reference.
        authorisation: String,
    },
}

/// Why a person left the padrón.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovalCause {
    /// Death.
    Death,
    /// Lapse (caducidad) of a non-renewed inscription.
    Lapse,
    /// Wrong inscription (baja por inscripción indebida).
    WrongInscription,
    /// Moved to another municipality.
    ChangeOfResidence,
}

/// A person as inscribed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Full name.
    pub name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Nationality.
    pub nationality: Nationality,
    /// The identity document.
    pub document: IdentityDocument,
}

/// A dwelling: the address and a stable key for it (e.g. the cadastral reference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dwelling {
    /// Stable key.
    pub key: String,
    /// The address as written.
    pub address: String,
}

/// The renewal period of ENCSARP.
pub const RENEWAL_MONTHS: u32 = 24;
/// The warning letter is sent this many months before the expiry.
pub const WARNING_MONTHS: u32 = 3;
/// Timer kinds.
pub const RENEWAL_WARNING_TIMER: &str = "renewal_warning";
/// Timer kinds.
pub const RENEWAL_EXPIRY_TIMER: &str = "renewal_expiry";

/// The renewal expiry for a renewal basis: two years date to date.
pub fn renewal_due(basis: NaiveDate) -> NaiveDate {
    basis
        .checked_add_months(Months::new(RENEWAL_MONTHS))
        .unwrap_or(basis)
}

/// One person's inscription in a council's padrón.
#[derive(Debug)]
pub struct Inscription;

/// Where an inscription is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InscriptionStage {
    /// Not inscribed.
    #[default]
    NotInscribed,
    /// Inscribed.
    Inscribed,
    /// Removed.
    Removed,
}

/// The inscription's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InscriptionState {
    /// Stage.
    pub stage: InscriptionStage,
    /// Residence status.
    pub residence: Option<ResidenceStatus>,
    /// The person's documents on record (the foreigner card takes precedence over a passport).
    pub document: Option<IdentityDocument>,
    /// Where.
    pub dwelling: Option<Dwelling>,
    /// The last padrón change that counts as renewal (inscription, express renewal, change of
    /// address, modification of personal data).
    pub renewal_basis: Option<NaiveDate>,
    /// The open removal file against the person, if any.
    pub open_removal_file: Option<Uuid>,
    /// Whether the inscription was proposed for lapse.
    pub lapse_proposed: bool,
}

impl InscriptionState {
    /// The renewal due date, for those who must renew.
    pub fn renewal_due(&self) -> Option<NaiveDate> {
        match self.residence {
            Some(ResidenceStatus::NonEuTemporary) => self.renewal_basis.map(renewal_due),
            _ => None,
        }
    }
}

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
    },
    /// Moves to another dwelling in the municipality (counts as renewal).
    ChangeAddress {
        /// The new dwelling.
        dwelling: Dwelling,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
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
    /// Express renewal: ratification of the data and declaration of continued residence.
    Renew {
        /// The document shown.
        document: IdentityDocument,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
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
    /// Removes the inscription (lapse by a caseworker's resolution, effective on its notification;
    /// wrong inscription by a removal file's resolution; death; change of residence).
    Remove {
        /// Why.
        cause: RemovalCause,
        /// The day it takes effect.
        effective_on: NaiveDate,
    },
}

/// Events of an inscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
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
    /// Renewed expressly.
    Renewed {
        /// The renewal due date this change sets (only for those who must renew).
        renewal_due: Option<NaiveDate>,
        /// Who acted.
        actor: Actor,
        /// The local date.
        on: NaiveDate,
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
}

impl DomainEvent for InscriptionEvent {
    fn event_type(&self) -> &'static str {
        match self {
            InscriptionEvent::Inscribed { .. } => "inscribed",
            InscriptionEvent::AddressChanged { .. } => "address_changed",
            InscriptionEvent::PersonalDataModified { .. } => "personal_data_modified",
            InscriptionEvent::Renewed { .. } => "renewed",
            InscriptionEvent::ResidenceConfirmed { .. } => "residence_confirmed",
            InscriptionEvent::NewInscriptionAuthorised { .. } => "new_inscription_authorised",
            InscriptionEvent::RemovalRequested { .. } => "removal_requested",
            InscriptionEvent::RemovalFileOpened { .. } => "removal_file_opened",
            InscriptionEvent::RemovalFileClosed { .. } => "removal_file_closed",
            InscriptionEvent::RenewalWarningSent { .. } => "renewal_warning_sent",
            InscriptionEvent::LapseProposed { .. } => "lapse_proposed",
            InscriptionEvent::Removed { .. } => "removed",
        }
    }
}

/// Why an inscription command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InscriptionRefusal {
    /// Inscribe twice.
    #[error("the person is already inscribed")]
    AlreadyInscribed,
    /// Anything on a person not inscribed.
    #[error("the person is not inscribed")]
    NotInscribed,
    /// Anything on a removed inscription.
    #[error("the inscription was removed")]
    Removed,
    /// A removal file is open.
    #[error(
        "a removal file for wrong inscription is open against this person: regularise it first"
    )]
    BlockedByRemovalFile,
    /// Confirmation by someone who renews instead.
    #[error("only EU citizens and non-EU permanent residents confirm their residence")]
    ConfirmationNotRequired,
    /// Renewal by someone who does not have to.
    #[error("only non-EU foreigners without permanent residence renew their inscription")]
    RenewalNotRequired,
    /// Renewal with a passport when a foreigner card is on record.
    #[error("the foreigner card takes precedence over the passport: show the card")]
    CardTakesPrecedence,
    /// A minor acting alone, or an adult's representative without authorisation.
    #[error("{0}")]
    ActorNotEntitled(&'static str),
    /// A timer for an expiry that is no longer the current one.
    #[error("the inscription's renewal is now due on another date")]
    StaleTimer,
    /// Lapse removal not proposed.
    #[error("a removal for lapse needs the inscription to have been proposed for lapse")]
    LapseNotProposed,
    /// Removing for a wrong inscription without the file.
    #[error("a removal for wrong inscription comes from a removal file's resolution")]
    NoRemovalFile,
    /// A second file while one is open.
    #[error("a removal file is already open against this person")]
    FileAlreadyOpen,
}

/// The renewal due date after a change on `on`, for those who must renew.
fn due_after(state: &InscriptionState, on: NaiveDate) -> Option<NaiveDate> {
    (state.residence == Some(ResidenceStatus::NonEuTemporary)).then(|| renewal_due(on))
}

fn check_actor(
    actor: &Actor,
    person_birth: NaiveDate,
    on: NaiveDate,
) -> Result<(), InscriptionRefusal> {
    let minor = age_on(person_birth, on) < 18;
    match actor {
        Actor::Themselves if minor => Err(InscriptionRefusal::ActorNotEntitled(
            "minors act through the parents with custody or their legal representatives",
        )),
        Actor::Parent { .. } | Actor::LegalRepresentative { .. } if !minor => Err(InscriptionRefusal::ActorNotEntitled(
            "an adult acts personally or through an accredited representative",
        )),
        Actor::Representative { authorisation, .. } if minor || authorisation.trim().is_empty() => {
            Err(InscriptionRefusal::ActorNotEntitled(
                "a representative of an adult needs a written authorisation (and both identity documents)",
            ))
        }
        _ => Ok(()),
    }
}

impl esrs::Aggregate for Inscription {
    const NAME: &'static str = "padron_inscription";
    type State = InscriptionState;
    type Command = InscriptionCommand;
    type Event = InscriptionEvent;
    type Error = InscriptionRefusal;

    fn handle_command(
        state: &InscriptionState,
        command: InscriptionCommand,
    ) -> Result<Vec<InscriptionEvent>, InscriptionRefusal> {
        use InscriptionCommand as C;
        use InscriptionEvent as E;
        use InscriptionStage as S;
        match (state.stage, command) {
            (
                S::NotInscribed,
                C::Inscribe {
                    person,
                    residence,
                    dwelling,
                    declares_nobody_else,
                    actor,
                    on,
                    ..
                },
            ) => {
                check_actor(&actor, person.birth_date, on)?;
                Ok(vec![E::Inscribed {
                    renewal_due: (residence == ResidenceStatus::NonEuTemporary)
                        .then(|| renewal_due(on)),
                    person,
                    residence,
                    dwelling,
                    declares_nobody_else,
                    actor,
                    on,
                }])
            }
            (S::NotInscribed, _) => Err(InscriptionRefusal::NotInscribed),
            // A removed person is inscribed again as a new inscription (a new stream).
            (_, C::Inscribe { .. }) => Err(InscriptionRefusal::AlreadyInscribed),
            (S::Removed, _) => Err(InscriptionRefusal::Removed),
            (_, C::RecordRemovalFileOpened { file, on }) => {
                if state.open_removal_file.is_some() {
                    return Err(InscriptionRefusal::FileAlreadyOpen);
                }
                Ok(vec![E::RemovalFileOpened { file, on }])
            }
            (_, C::RecordRemovalFileClosed { file, on }) => {
                if state.open_removal_file != Some(file) {
                    return Err(InscriptionRefusal::NoRemovalFile);
                }
                Ok(vec![E::RemovalFileClosed { file, on }])
            }
            (
                _,
                C::Remove {
                    cause,
                    effective_on,
                },
            ) => match cause {
                RemovalCause::Lapse if !state.lapse_proposed => {
                    Err(InscriptionRefusal::LapseNotProposed)
                }
                RemovalCause::WrongInscription if state.open_removal_file.is_none() => {
                    Err(InscriptionRefusal::NoRemovalFile)
                }
                _ => Ok(vec![E::Removed {
                    cause,
                    effective_on,
                }]),
            },
            // Everything below is blocked while a removal file is open.
            (
                _,
                C::ChangeAddress { .. }
                | C::ModifyPersonalData { .. }
                | C::Renew { .. }
                | C::ConfirmResidence { .. }
                | C::AuthoriseNewInscription { .. }
                | C::RequestRemovalOf { .. },
            ) if state.open_removal_file.is_some() => Err(InscriptionRefusal::BlockedByRemovalFile),
            (
                _,
                C::ChangeAddress {
                    dwelling,
                    actor,
                    on,
                },
            ) => Ok(vec![E::AddressChanged {
                renewal_due: due_after(state, on),
                dwelling,
                actor,
                on,
            }]),
            (
                _,
                C::ModifyPersonalData {
                    name,
                    document,
                    actor,
                    on,
                },
            ) => Ok(vec![E::PersonalDataModified {
                renewal_due: due_after(state, on),
                name,
                document,
                actor,
                on,
            }]),
            (
                _,
                C::Renew {
                    document,
                    actor,
                    on,
                },
            ) => {
                if state.residence != Some(ResidenceStatus::NonEuTemporary) {
                    return Err(InscriptionRefusal::RenewalNotRequired);
                }
                let card_on_record =
                    matches!(state.document, Some(IdentityDocument::ResidenceCard { .. }));
                if card_on_record && matches!(document, IdentityDocument::Passport { .. }) {
                    return Err(InscriptionRefusal::CardTakesPrecedence);
                }
                Ok(vec![E::Renewed {
                    renewal_due: due_after(state, on),
                    actor,
                    on,
                }])
            }
            (_, C::ConfirmResidence { actor, on }) => {
                if !matches!(
                    state.residence,
                    Some(ResidenceStatus::EuCitizen | ResidenceStatus::NonEuPermanent)
                ) {
                    return Err(InscriptionRefusal::ConfirmationNotRequired);
                }
                Ok(vec![E::ResidenceConfirmed { actor, on }])
            }
            (_, C::AuthoriseNewInscription { newcomer, on }) => {
                Ok(vec![E::NewInscriptionAuthorised { newcomer, on }])
            }
            (_, C::RequestRemovalOf { file, target, on }) => {
                Ok(vec![E::RemovalRequested { file, target, on }])
            }
            (_, C::SendRenewalWarning { due, on }) => {
                if state.renewal_due() != Some(due) {
                    return Err(InscriptionRefusal::StaleTimer);
                }
                Ok(vec![E::RenewalWarningSent { due, on }])
            }
            (_, C::ProposeLapse { due, on }) => {
                if state.renewal_due() != Some(due) || on <= due {
                    return Err(InscriptionRefusal::StaleTimer);
                }
                Ok(vec![E::LapseProposed { due, on }])
            }
        }
    }

    fn apply_event(mut state: InscriptionState, event: InscriptionEvent) -> InscriptionState {
        use InscriptionEvent as E;
        match event {
            E::Inscribed {
                person,
                residence,
                dwelling,
                on,
                ..
            } => {
                state.stage = InscriptionStage::Inscribed;
                state.residence = Some(residence);
                state.document = Some(person.document);
                state.dwelling = Some(dwelling);
                state.renewal_basis = Some(on);
            }
            E::AddressChanged { dwelling, on, .. } => {
                state.dwelling = Some(dwelling);
                state.renewal_basis = Some(on);
                state.lapse_proposed = false;
            }
            E::PersonalDataModified { document, on, .. } => {
                state.document = Some(document);
                state.renewal_basis = Some(on);
                state.lapse_proposed = false;
            }
            E::Renewed { on, .. } => {
                state.renewal_basis = Some(on);
                state.lapse_proposed = false;
            }
            E::ResidenceConfirmed { .. }
            | E::NewInscriptionAuthorised { .. }
            | E::RemovalRequested { .. } => {}
            E::RemovalFileOpened { file, .. } => state.open_removal_file = Some(file),
            E::RemovalFileClosed { .. } => state.open_removal_file = None,
            E::RenewalWarningSent { .. } => {}
            E::LapseProposed { .. } => state.lapse_proposed = true,
            E::Removed { .. } => {
                state.stage = InscriptionStage::Removed;
                state.open_removal_file = None;
            }
        }
        state
    }
}

/// The renewal timers an inscription event sets or cancels: the warning letter three months before
/// the expiry, and the lapse proposal the day after it.
pub fn renewal_timers(event: &InscriptionEvent) -> Vec<TimerEffect> {
    use InscriptionEvent as E;
    let cancel = || {
        vec![
            TimerEffect::Cancel {
                kind: RENEWAL_WARNING_TIMER.into(),
            },
            TimerEffect::Cancel {
                kind: RENEWAL_EXPIRY_TIMER.into(),
            },
        ]
    };
    match event {
        E::Inscribed { renewal_due, .. }
        | E::AddressChanged { renewal_due, .. }
        | E::PersonalDataModified { renewal_due, .. }
        | E::Renewed { renewal_due, .. } => match renewal_due {
            Some(due) => {
                let warn_on = due
                    .checked_sub_months(Months::new(WARNING_MONTHS))
                    .unwrap_or(*due);
                let data = serde_json::json!({ "due": due });
                vec![
                    TimerEffect::Set {
                        kind: RENEWAL_WARNING_TIMER.into(),
                        fires_on: warn_on,
                        data: data.clone(),
                    },
                    TimerEffect::Set {
                        kind: RENEWAL_EXPIRY_TIMER.into(),
                        fires_on: due.succ_opt().unwrap_or(*due),
                        data,
                    },
                ]
            }
            None => cancel(),
        },
        E::Removed { .. } => cancel(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::given;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn person(birth: NaiveDate) -> Person {
        Person {
            name: "Bilal Haddad".into(),
            birth_date: birth,
            nationality: Nationality::NonEu,
            document: IdentityDocument::ResidenceCard {
                number: "X1234567L".parse().unwrap(),
            },
        }
    }
    fn home() -> Dwelling {
        Dwelling {
            key: "9872023VK4797S0001WX".into(),
            address: "Calle de Toledo 10, 2º B".into(),
        }
    }
    fn inscribed(residence: ResidenceStatus, on: NaiveDate) -> InscriptionEvent {
        InscriptionEvent::Inscribed {
            renewal_due: (residence == ResidenceStatus::NonEuTemporary).then(|| renewal_due(on)),
            person: person(d(1990, 1, 1)),
            residence,
            dwelling: home(),
            declares_nobody_else: false,
            actor: Actor::Themselves,
            on,
        }
    }
    fn renew_with(document: IdentityDocument, on: NaiveDate) -> InscriptionCommand {
        InscriptionCommand::Renew {
            document,
            actor: Actor::Themselves,
            on,
        }
    }
    fn card() -> IdentityDocument {
        IdentityDocument::ResidenceCard {
            number: "X1234567L".parse().unwrap(),
        }
    }

    #[test]
    fn renewal_is_due_two_years_after_the_last_change() {
        let state =
            given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2024, 2, 29))])
                .when(renew_with(card(), d(2025, 6, 1)))
                .then([InscriptionEvent::Renewed {
                    renewal_due: Some(d(2027, 6, 1)),
                    actor: Actor::Themselves,
                    on: d(2025, 6, 1),
                }]);
        assert_eq!(state.renewal_due(), Some(d(2027, 6, 1)));
        // A change of address restarts the count (the ombudsman's point).
        let moved = InscriptionEvent::AddressChanged {
            renewal_due: Some(d(2028, 1, 10)),
            dwelling: home(),
            actor: Actor::Themselves,
            on: d(2026, 1, 10),
        };
        let state = given::<Inscription>([
            inscribed(ResidenceStatus::NonEuTemporary, d(2024, 2, 29)),
            moved,
        ])
        .state()
        .clone();
        assert_eq!(state.renewal_due(), Some(d(2028, 1, 10)));
        // 29 Feb + 2 years is 28 Feb.
        let state =
            given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2024, 2, 29))])
                .state()
                .clone();
        assert_eq!(state.renewal_due(), Some(d(2026, 2, 28)));
    }

    #[test]
    fn only_non_eu_without_permanent_residence_renew() {
        for residence in [
            ResidenceStatus::Spanish,
            ResidenceStatus::EuCitizen,
            ResidenceStatus::NonEuPermanent,
        ] {
            given::<Inscription>([inscribed(residence, d(2025, 1, 1))])
                .when(renew_with(card(), d(2026, 1, 1)))
                .then_refused(|e| *e == InscriptionRefusal::RenewalNotRequired);
        }
    }

    #[test]
    fn the_foreigner_card_takes_precedence_over_the_passport() {
        given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 1))])
            .when(renew_with(
                IdentityDocument::Passport {
                    number: "PAA123456".parse().unwrap(),
                },
                d(2026, 1, 1),
            ))
            .then_refused(|e| *e == InscriptionRefusal::CardTakesPrecedence);
    }

    #[test]
    fn an_open_removal_file_blocks_renewal_and_changes() {
        let file = Uuid::new_v4();
        let history = [
            inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 1)),
            InscriptionEvent::RemovalFileOpened {
                file,
                on: d(2026, 1, 5),
            },
        ];
        for command in [
            renew_with(card(), d(2026, 1, 6)),
            InscriptionCommand::ChangeAddress {
                dwelling: home(),
                actor: Actor::Themselves,
                on: d(2026, 1, 6),
            },
            InscriptionCommand::ModifyPersonalData {
                name: "B. Haddad".into(),
                document: card(),
                actor: Actor::Themselves,
                on: d(2026, 1, 6),
            },
            InscriptionCommand::AuthoriseNewInscription {
                newcomer: Uuid::new_v4(),
                on: d(2026, 1, 6),
            },
            InscriptionCommand::RequestRemovalOf {
                file: Uuid::new_v4(),
                target: Uuid::new_v4(),
                on: d(2026, 1, 6),
            },
        ] {
            given::<Inscription>(history.clone())
                .when(command)
                .then_refused(|e| *e == InscriptionRefusal::BlockedByRemovalFile);
        }
        given::<Inscription>(history.clone())
            .when(InscriptionCommand::RecordRemovalFileOpened {
                file: Uuid::new_v4(),
                on: d(2026, 1, 6),
            })
            .then_refused(|e| *e == InscriptionRefusal::FileAlreadyOpen);
        let mut closed = history.to_vec();
        closed.push(InscriptionEvent::RemovalFileClosed {
            file,
            on: d(2026, 2, 1),
        });
        assert!(given::<Inscription>(closed)
            .when(renew_with(card(), d(2026, 2, 2)))
            .outcome()
            .is_ok());
    }

    #[test]
    fn eu_citizens_and_permanent_residents_confirm_residence_unless_blocked() {
        let confirm = InscriptionCommand::ConfirmResidence {
            actor: Actor::Themselves,
            on: d(2026, 5, 1),
        };
        given::<Inscription>([inscribed(ResidenceStatus::EuCitizen, d(2025, 1, 1))])
            .when(confirm.clone())
            .then([InscriptionEvent::ResidenceConfirmed {
                actor: Actor::Themselves,
                on: d(2026, 5, 1),
            }]);
        given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 1))])
            .when(confirm.clone())
            .then_refused(|e| *e == InscriptionRefusal::ConfirmationNotRequired);
        given::<Inscription>([
            inscribed(ResidenceStatus::NonEuPermanent, d(2025, 1, 1)),
            InscriptionEvent::RemovalFileOpened {
                file: Uuid::nil(),
                on: d(2026, 4, 1),
            },
        ])
        .when(confirm)
        .then_refused(|e| *e == InscriptionRefusal::BlockedByRemovalFile);
    }

    #[test]
    fn minors_act_through_parents_and_adults_need_authorised_representatives() {
        let minor = person(d(2015, 1, 1));
        let inscribe = |actor: Actor, who: Person| InscriptionCommand::Inscribe {
            person: who,
            residence: ResidenceStatus::NonEuTemporary,
            dwelling: home(),
            declares_nobody_else: false,
            actor,
            on: d(2026, 1, 1),
            at: Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
        };
        given::<Inscription>([])
            .when(inscribe(Actor::Themselves, minor.clone()))
            .then_refused(|e| matches!(e, InscriptionRefusal::ActorNotEntitled(_)));
        assert!(given::<Inscription>([])
            .when(inscribe(
                Actor::Parent {
                    document: "12345678Z".into()
                },
                minor
            ))
            .outcome()
            .is_ok());
        given::<Inscription>([])
            .when(inscribe(
                Actor::Representative {
                    document: "12345678Z".into(),
                    authorisation: String::new(),
                },
                person(d(1990, 1, 1)),
            ))
            .then_refused(|e| matches!(e, InscriptionRefusal::ActorNotEntitled(_)));
    }

    #[test]
    fn renewal_timers_warn_three_months_before_and_propose_lapse_after_the_expiry() {
        let event = inscribed(ResidenceStatus::NonEuTemporary, d(2025, 3, 10));
        let timers = renewal_timers(&event);
        assert_eq!(
            timers,
            vec![
                TimerEffect::Set {
                    kind: RENEWAL_WARNING_TIMER.into(),
                    fires_on: d(2026, 12, 10),
                    data: serde_json::json!({"due": "2027-03-10"}),
                },
                TimerEffect::Set {
                    kind: RENEWAL_EXPIRY_TIMER.into(),
                    fires_on: d(2027, 3, 11),
                    data: serde_json::json!({"due": "2027-03-10"}),
                },
            ]
        );
        given::<Inscription>([event.clone()])
            .when(InscriptionCommand::ProposeLapse {
                due: d(2027, 3, 10),
                on: d(2027, 3, 10),
            })
            .then_refused(|e| *e == InscriptionRefusal::StaleTimer);
        let proposed = InscriptionEvent::LapseProposed {
            due: d(2027, 3, 10),
            on: d(2027, 3, 11),
        };
        given::<Inscription>([event.clone()])
            .when(InscriptionCommand::ProposeLapse {
                due: d(2027, 3, 10),
                on: d(2027, 3, 11),
            })
            .then([proposed.clone()]);
        // A stale timer (renewed since) proposes nothing.
        let renewed = InscriptionEvent::Renewed {
            renewal_due: Some(d(2029, 1, 5)),
            actor: Actor::Themselves,
            on: d(2027, 1, 5),
        };
        given::<Inscription>([event.clone(), renewed])
            .when(InscriptionCommand::ProposeLapse {
                due: d(2027, 3, 10),
                on: d(2027, 3, 11),
            })
            .then_refused(|e| *e == InscriptionRefusal::StaleTimer);
        // Removal for lapse needs the proposal; then it is removed without a hearing.
        given::<Inscription>([event.clone()])
            .when(InscriptionCommand::Remove {
                cause: RemovalCause::Lapse,
                effective_on: d(2027, 4, 1),
            })
            .then_refused(|e| *e == InscriptionRefusal::LapseNotProposed);
        given::<Inscription>([event, proposed])
            .when(InscriptionCommand::Remove {
                cause: RemovalCause::Lapse,
                effective_on: d(2027, 4, 1),
            })
            .then([InscriptionEvent::Removed {
                cause: RemovalCause::Lapse,
                effective_on: d(2027, 4, 1),
            }]);
    }
}

/// A removal file for a wrong inscription (baja por inscripción indebida).
#[derive(Debug)]
pub struct RemovalFile;

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
    },
}

/// How the opening was notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationChannel {
    /// Electronic (sede): effective on access, or rejected after 10 calendar days.
    Electronic,
    /// Paper with acknowledgement of receipt: two attempts; failing both, an edict in the BOE.
    Paper,
}

/// How the notification took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationOutcome {
    /// The person accessed the electronic notification.
    Accessed,
    /// Ten calendar days passed without access: deemed rejected, the procedure goes on.
    Rejected,
    /// Delivered on paper.
    Delivered,
    /// Published as an edict in the BOE after two failed paper attempts.
    Edict,
}

/// The stage of a removal file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStage {
    /// Not opened.
    #[default]
    NotOpened,
    /// Opened; the notification is being delivered.
    Notifying,
    /// Notified: the person has 15 business days to regularise or allege.
    Hearing,
    /// Waiting for the Consejo de Empadronamiento's report (the maximum-time clock is suspended).
    AwaitingReport,
    /// Ready to resolve.
    ToResolve,
    /// Resolved with removal.
    Removed,
    /// Archived (the person still lives there, or regularised).
    Archived,
    /// Lapsed: the maximum time passed without resolution.
    Lapsed,
}

impl FileStage {
    /// Whether the file is over.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            FileStage::Removed | FileStage::Archived | FileStage::Lapsed
        )
    }
}

/// The state of a removal file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileState {
    /// Stage.
    pub stage: FileStage,
    /// The inscription it concerns.
    pub inscription: Option<Uuid>,
    /// How the opening is being notified.
    pub channel: Option<NotificationChannel>,
    /// Failed paper attempts.
    pub paper_attempts_failed: u8,
    /// The last day to regularise or allege.
    pub hearing_due: Option<NaiveDate>,
    /// The person agreed expressly to the removal.
    pub agreed: bool,
    /// The Consejo's report, once received.
    pub report_favourable: Option<bool>,
    /// The last day of the maximum time to resolve (moved by suspensions).
    pub max_time_due: Option<NaiveDate>,
    /// When the Consejo's report was requested, while it is awaited.
    pub report_requested_on: Option<NaiveDate>,
}

impl FileState {
    /// The maximum time moved by the days the report has been awaited until `on`.
    fn resumed_due(&self, on: NaiveDate) -> NaiveDate {
        let current = self.max_time_due.unwrap_or(on);
        let suspended = self
            .report_requested_on
            .map_or(0, |requested| (on - requested).num_days().max(0) as u64);
        current + chrono::Days::new(suspended)
    }
}

/// The decision of a removal file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileDecision {
    /// Remove the inscription (cause: wrong inscription).
    Remove,
    /// Archive: the person stays inscribed.
    Archive,
}

/// Commands of a removal file. Due dates come from the legal calendar, computed by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCommand {
    /// Opens the file against an inscription.
    Open {
        /// The file's number.
        case_number: CaseNumber,
        /// The procedure's SIA code.
        sia_code: SiaCode,
        /// The inscribed person (the interested party).
        person: CaseParty,
        /// The inscription.
        inscription: Uuid,
        /// Ex officio or at request.
        basis: RemovalBasis,
        /// The local date.
        on: NaiveDate,
        /// The last day of the maximum time to resolve (3 months unless configured otherwise).
        max_time_due: NaiveDate,
    },
    /// The notification of the opening was sent.
    SendNotification {
        /// How.
        channel: NotificationChannel,
        /// The local date.
        on: NaiveDate,
        /// Electronic: the last day of the hearing if the notification is deemed rejected after
        /// 10 calendar days (computed now with the legal calendar, used by the rejection timer).
        hearing_due_if_rejected: Option<NaiveDate>,
    },
    /// A paper delivery attempt failed.
    RecordFailedDelivery {
        /// The local date.
        on: NaiveDate,
    },
    /// The notification took effect (accessed, rejected after 10 days, delivered, or by edict).
    RecordNotified {
        /// How.
        outcome: NotificationOutcome,
        /// The day it took effect.
        on: NaiveDate,
        /// The last day of the 15 business days that start the next day.
        hearing_due: NaiveDate,
    },
    /// The person regularised their situation (e.g. registered where they live now).
    RecordRegularised {
        /// The local date.
        on: NaiveDate,
    },
    /// The person expressly agreed to the removal.
    RecordAgreement {
        /// The local date.
        on: NaiveDate,
    },
    /// The person alleges they still live there, with documents.
    RecordAllegations {
        /// A summary.
        summary: String,
        /// The local date.
        on: NaiveDate,
    },
    /// Asks the Consejo de Empadronamiento for its report (suspends the maximum-time clock).
    RequestReport {
        /// The local date.
        on: NaiveDate,
    },
    /// The report arrived; the clock resumes with the maximum time moved by the days it was
    /// suspended.
    RecordReport {
        /// Favourable to the removal?
        favourable: bool,
        /// The local date.
        on: NaiveDate,
    },
    /// Timer: three months passed without the report; the suspension ends (art. 22: at most three
    /// months) and the procedure goes on without it.
    EndReportWait {
        /// The local date.
        on: NaiveDate,
    },
    /// Resolves.
    Resolve {
        /// Remove or archive.
        decision: FileDecision,
        /// The local date.
        on: NaiveDate,
    },
    /// Timer: the maximum time passed without resolution.
    Lapse {
        /// The last day that passed.
        due: NaiveDate,
        /// The local date.
        on: NaiveDate,
    },
}

/// Events of a removal file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FileEvent {
    /// Opened.
    Opened {
        /// The file's number.
        case_number: CaseNumber,
        /// The procedure's SIA code.
        sia_code: SiaCode,
        /// The inscribed person.
        person: CaseParty,
        /// The inscription.
        inscription: Uuid,
        /// How it started.
        basis: RemovalBasis,
        /// The local date.
        on: NaiveDate,
        /// The last day to resolve.
        max_time_due: NaiveDate,
    },
    /// Notification sent.
    NotificationSent {
        /// How.
        channel: NotificationChannel,
        /// The local date.
        on: NaiveDate,
        /// Electronic: the hearing's last day if deemed rejected.
        hearing_due_if_rejected: Option<NaiveDate>,
    },
    /// A paper attempt failed.
    DeliveryFailed {
        /// Which attempt.
        attempt: u8,
        /// The local date.
        on: NaiveDate,
    },
    /// Notified.
    Notified {
        /// How.
        outcome: NotificationOutcome,
        /// Effective day.
        on: NaiveDate,
        /// The last day to regularise or allege.
        hearing_due: NaiveDate,
    },
    /// Regularised.
    Regularised {
        /// The local date.
        on: NaiveDate,
    },
    /// Agreed.
    Agreed {
        /// The local date.
        on: NaiveDate,
    },
    /// Allegations filed.
    AllegationsFiled {
        /// Summary.
        summary: String,
        /// The local date.
        on: NaiveDate,
    },
    /// Report requested.
    ReportRequested {
        /// The local date.
        on: NaiveDate,
    },
    /// The wait for the report ended without it (three months).
    ReportWaitEnded {
        /// The local date.
        on: NaiveDate,
        /// The moved maximum time.
        max_time_due: NaiveDate,
    },
    /// Report received.
    ReportReceived {
        /// Favourable?
        favourable: bool,
        /// The local date.
        on: NaiveDate,
        /// The moved maximum time.
        max_time_due: NaiveDate,
    },
    /// Resolved.
    Resolved {
        /// The decision.
        decision: FileDecision,
        /// The local date.
        on: NaiveDate,
    },
    /// Lapsed.
    Lapsed {
        /// The local date.
        on: NaiveDate,
    },
}

impl DomainEvent for FileEvent {
    fn event_type(&self) -> &'static str {
        match self {
            FileEvent::Opened { .. } => "opened",
            FileEvent::NotificationSent { .. } => "notification_sent",
            FileEvent::DeliveryFailed { .. } => "delivery_failed",
            FileEvent::Notified { .. } => "notified",
            FileEvent::Regularised { .. } => "regularised",
            FileEvent::Agreed { .. } => "agreed",
            FileEvent::AllegationsFiled { .. } => "allegations_filed",
            FileEvent::ReportRequested { .. } => "report_requested",
            FileEvent::ReportReceived { .. } => "report_received",
            FileEvent::ReportWaitEnded { .. } => "report_wait_ended",
            FileEvent::Resolved { .. } => "resolved",
            FileEvent::Lapsed { .. } => "lapsed",
        }
    }
}

/// Why a removal-file command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    /// Open twice.
    #[error("the file is already open")]
    AlreadyOpen,
    /// Anything on a file never opened.
    #[error("there is no such removal file")]
    NotOpened,
    /// The file is over.
    #[error("the file is closed ({0})")]
    Closed(&'static str),
    /// A request without whereabouts.
    #[error("a request for removal must say what is known of the person's whereabouts")]
    WhereaboutsMissing,
    /// A step out of order.
    #[error("not possible at this stage of the file ({0})")]
    WrongStage(&'static str),
    /// An edict before two failed paper attempts.
    #[error("an edict is published only after two failed delivery attempts on paper")]
    EdictTooEarly,
    /// An outcome that does not fit the channel.
    #[error("that outcome does not fit the notification channel")]
    OutcomeNotForChannel,
    /// Removal without agreement nor favourable report.
    #[error("without the person's express agreement, removal needs the Consejo de Empadronamiento's favourable report")]
    ReportNeeded,
    /// Resolving while the person still has time.
    #[error("the person has until {0} to regularise or allege")]
    HearingRunning(NaiveDate),
    /// A lapse timer before its day, or for another day.
    #[error("the maximum time runs until {0}")]
    NotLapsedYet(NaiveDate),
}

fn file_stage_code(stage: FileStage) -> &'static str {
    match stage {
        FileStage::NotOpened => "not_opened",
        FileStage::Notifying => "notifying",
        FileStage::Hearing => "hearing",
        FileStage::AwaitingReport => "awaiting_report",
        FileStage::ToResolve => "to_resolve",
        FileStage::Removed => "removed",
        FileStage::Archived => "archived",
        FileStage::Lapsed => "lapsed",
    }
}

impl esrs::Aggregate for RemovalFile {
    const NAME: &'static str = "padron_removal_file";
    type State = FileState;
    type Command = FileCommand;
    type Event = FileEvent;
    type Error = FileRefusal;

    fn handle_command(
        state: &FileState,
        command: FileCommand,
    ) -> Result<Vec<FileEvent>, FileRefusal> {
        use FileCommand as C;
        use FileEvent as E;
        use FileStage as S;
        let stage = state.stage;
        match (stage, command) {
            (
                S::NotOpened,
                C::Open {
                    case_number,
                    sia_code,
                    person,
                    inscription,
                    basis,
                    on,
                    max_time_due,
                },
            ) => {
                if let RemovalBasis::Request { whereabouts, .. } = &basis {
                    if whereabouts.trim().is_empty() {
                        return Err(FileRefusal::WhereaboutsMissing);
                    }
                }
                Ok(vec![E::Opened {
                    case_number,
                    sia_code,
                    person,
                    inscription,
                    basis,
                    on,
                    max_time_due,
                }])
            }
            (S::NotOpened, _) => Err(FileRefusal::NotOpened),
            (_, C::Open { .. }) => Err(FileRefusal::AlreadyOpen),
            (s, _) if s.is_closed() => Err(FileRefusal::Closed(file_stage_code(s))),
            (_, C::Lapse { due, on }) => {
                let current = state.max_time_due.unwrap_or(due);
                if stage == S::AwaitingReport || due != current || on <= current {
                    return Err(FileRefusal::NotLapsedYet(current));
                }
                Ok(vec![E::Lapsed { on }])
            }
            (
                S::Notifying,
                C::SendNotification {
                    channel,
                    on,
                    hearing_due_if_rejected,
                },
            ) => {
                if channel == NotificationChannel::Electronic && hearing_due_if_rejected.is_none() {
                    return Err(FileRefusal::WrongStage(
                        "an electronic notification needs its rejection hearing date",
                    ));
                }
                Ok(vec![E::NotificationSent {
                    channel,
                    on,
                    hearing_due_if_rejected,
                }])
            }
            (S::Notifying, C::RecordFailedDelivery { on }) => {
                if state.channel != Some(NotificationChannel::Paper)
                    || state.paper_attempts_failed >= 2
                {
                    return Err(FileRefusal::WrongStage(file_stage_code(stage)));
                }
                Ok(vec![E::DeliveryFailed {
                    attempt: state.paper_attempts_failed + 1,
                    on,
                }])
            }
            (
                S::Notifying,
                C::RecordNotified {
                    outcome,
                    on,
                    hearing_due,
                },
            ) => {
                let fits = matches!(
                    (state.channel, outcome),
                    (
                        Some(NotificationChannel::Electronic),
                        NotificationOutcome::Accessed | NotificationOutcome::Rejected
                    ) | (
                        Some(NotificationChannel::Paper),
                        NotificationOutcome::Delivered | NotificationOutcome::Edict
                    )
                );
                if !fits {
                    return Err(FileRefusal::OutcomeNotForChannel);
                }
                if outcome == NotificationOutcome::Edict && state.paper_attempts_failed < 2 {
                    return Err(FileRefusal::EdictTooEarly);
                }
                Ok(vec![E::Notified {
                    outcome,
                    on,
                    hearing_due,
                }])
            }
            (S::Hearing | S::ToResolve, C::RecordRegularised { on }) => Ok(vec![
                E::Regularised { on },
                E::Resolved {
                    decision: FileDecision::Archive,
                    on,
                },
            ]),
            (S::Hearing | S::ToResolve, C::RecordAgreement { on }) => Ok(vec![E::Agreed { on }]),
            (S::Hearing, C::RecordAllegations { summary, on }) => {
                Ok(vec![E::AllegationsFiled { summary, on }])
            }
            (S::Hearing | S::ToResolve, C::RequestReport { on }) => {
                if state.agreed || state.report_favourable.is_some() {
                    return Err(FileRefusal::WrongStage(file_stage_code(stage)));
                }
                Ok(vec![E::ReportRequested { on }])
            }
            (S::AwaitingReport, C::RecordReport { favourable, on }) => {
                Ok(vec![E::ReportReceived {
                    favourable,
                    on,
                    max_time_due: state.resumed_due(on),
                }])
            }
            (S::AwaitingReport, C::EndReportWait { on }) => {
                let limit = state
                    .report_requested_on
                    .and_then(|r| r.checked_add_months(Months::new(REPORT_WAIT_MONTHS)))
                    .unwrap_or(on);
                if on <= limit {
                    return Err(FileRefusal::WrongStage("the report may still arrive"));
                }
                Ok(vec![E::ReportWaitEnded {
                    on,
                    max_time_due: state.resumed_due(on),
                }])
            }
            (S::Hearing | S::ToResolve, C::Resolve { decision, on }) => {
                if decision == FileDecision::Remove {
                    if let Some(due) = state.hearing_due {
                        if on <= due && !state.agreed {
                            return Err(FileRefusal::HearingRunning(due));
                        }
                    }
                    if !state.agreed && state.report_favourable != Some(true) {
                        return Err(FileRefusal::ReportNeeded);
                    }
                }
                Ok(vec![E::Resolved { decision, on }])
            }
            (s, _) => Err(FileRefusal::WrongStage(file_stage_code(s))),
        }
    }

    fn apply_event(mut state: FileState, event: FileEvent) -> FileState {
        use FileEvent as E;
        match event {
            E::Opened {
                inscription,
                max_time_due,
                ..
            } => {
                state.stage = FileStage::Notifying;
                state.inscription = Some(inscription);
                state.max_time_due = Some(max_time_due);
            }
            E::NotificationSent { channel, .. } => state.channel = Some(channel),
            E::DeliveryFailed { attempt, .. } => state.paper_attempts_failed = attempt,
            E::Notified { hearing_due, .. } => {
                state.stage = FileStage::Hearing;
                state.hearing_due = Some(hearing_due);
            }
            E::Regularised { .. } => {}
            E::Agreed { .. } => {
                state.agreed = true;
                state.stage = FileStage::ToResolve;
            }
            E::AllegationsFiled { .. } => state.stage = FileStage::ToResolve,
            E::ReportRequested { on } => {
                state.stage = FileStage::AwaitingReport;
                state.report_requested_on = Some(on);
            }
            E::ReportWaitEnded { max_time_due, .. } => {
                state.max_time_due = Some(max_time_due);
                state.report_requested_on = None;
                state.stage = FileStage::ToResolve;
            }
            E::ReportReceived {
                favourable,
                max_time_due,
                ..
            } => {
                state.report_favourable = Some(favourable);
                state.max_time_due = Some(max_time_due);
                state.report_requested_on = None;
                state.stage = FileStage::ToResolve;
            }
            E::Resolved { decision, .. } => {
                state.stage = match decision {
                    FileDecision::Remove => FileStage::Removed,
                    FileDecision::Archive => FileStage::Archived,
                }
            }
            E::Lapsed { .. } => state.stage = FileStage::Lapsed,
        }
        state
    }
}

/// The maximum-time timer of a removal file.
pub const FILE_LAPSE_TIMER: &str = "removal_file_lapse";
/// The electronic notification is deemed rejected after this many calendar days without access.
pub const ELECTRONIC_REJECTION_DAYS: u64 = 10;
/// The electronic-rejection timer.
pub const ELECTRONIC_REJECTION_TIMER: &str = "electronic_notification_rejection";
/// The longest the Consejo's report suspends the maximum time (art. 22: three months).
pub const REPORT_WAIT_MONTHS: u32 = 3;
/// The timer that ends the wait for the report.
pub const REPORT_WAIT_TIMER: &str = "report_wait";

/// The timers a removal-file event sets, suspends or cancels.
pub fn file_timers(event: &FileEvent) -> Vec<TimerEffect> {
    use FileEvent as E;
    let lapse = |due: NaiveDate| TimerEffect::Set {
        kind: FILE_LAPSE_TIMER.into(),
        fires_on: due.succ_opt().unwrap_or(due),
        data: serde_json::json!({ "due": due }),
    };
    let cancel = |kind: &str| TimerEffect::Cancel { kind: kind.into() };
    match event {
        E::Opened { max_time_due, .. } => vec![lapse(*max_time_due)],
        E::NotificationSent {
            channel: NotificationChannel::Electronic,
            on,
            hearing_due_if_rejected,
        } => vec![TimerEffect::Set {
            kind: ELECTRONIC_REJECTION_TIMER.into(),
            fires_on: *on + chrono::Days::new(ELECTRONIC_REJECTION_DAYS + 1),
            data: serde_json::json!({ "sent_on": on, "hearing_due": hearing_due_if_rejected }),
        }],
        E::Notified { .. } => vec![cancel(ELECTRONIC_REJECTION_TIMER)],
        // The maximum-time clock stops while the Consejo's report is awaited (art. 22).
        E::ReportRequested { on } => vec![
            TimerEffect::Suspend {
                kind: FILE_LAPSE_TIMER.into(),
            },
            TimerEffect::Set {
                kind: REPORT_WAIT_TIMER.into(),
                fires_on: on
                    .checked_add_months(Months::new(REPORT_WAIT_MONTHS))
                    .and_then(|d| d.succ_opt())
                    .unwrap_or(*on),
                data: serde_json::json!({ "requested_on": on }),
            },
        ],
        E::ReportReceived { max_time_due, .. } | E::ReportWaitEnded { max_time_due, .. } => {
            vec![lapse(*max_time_due), cancel(REPORT_WAIT_TIMER)]
        }
        E::Resolved { .. } | E::Lapsed { .. } => {
            vec![
                cancel(FILE_LAPSE_TIMER),
                cancel(ELECTRONIC_REJECTION_TIMER),
                cancel(REPORT_WAIT_TIMER),
            ]
        }
        _ => Vec::new(),
    }
}

impl Procedure for Inscription {
    const TITLE: &'static str = "Inscripción en el padrón municipal";

    /// An inscription is a register entry, not a case file: the padrón register shows it.
    fn case_effects(_event: &InscriptionEvent) -> Vec<CaseEffect> {
        Vec::new()
    }

    fn timer_effects(event: &InscriptionEvent) -> Vec<TimerEffect> {
        renewal_timers(event)
    }

    fn timer_command(
        kind: &str,
        data: &serde_json::Value,
        _now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Option<InscriptionCommand> {
        let due = serde_json::from_value(data.get("due")?.clone()).ok()?;
        match kind {
            RENEWAL_WARNING_TIMER => {
                Some(InscriptionCommand::SendRenewalWarning { due, on: today })
            }
            RENEWAL_EXPIRY_TIMER => Some(InscriptionCommand::ProposeLapse { due, on: today }),
            _ => None,
        }
    }

    fn notices(event: &InscriptionEvent) -> Vec<Notice> {
        match event {
            InscriptionEvent::RenewalWarningSent { .. } => vec![Notice {
                kind: "renewal_warning".into(),
                recipient: NoticeRecipient::Person,
                channel: NoticeChannel::Post,
            }],
            _ => Vec::new(),
        }
    }
}

impl Procedure for RemovalFile {
    const TITLE: &'static str = "Baja por inscripción indebida";

    fn case_effects(event: &FileEvent) -> Vec<CaseEffect> {
        let at = |on: &NaiveDate| on.and_hms_opt(12, 0, 0).expect("noon exists").and_utc();
        let changed = |state: &str, description: &str, on: &NaiveDate| CaseEffect::StateChanged {
            state: state.to_owned(),
            description: description.to_owned(),
            at: at(on),
        };
        let closed = |state: &str, description: &str, on: &NaiveDate| {
            vec![
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
                CaseEffect::Closed {
                    state: state.to_owned(),
                    description: description.to_owned(),
                    at: at(on),
                },
            ]
        };
        match event {
            FileEvent::Opened {
                case_number,
                sia_code,
                person,
                on,
                max_time_due,
                ..
            } => vec![
                CaseEffect::Opened {
                    case_number: case_number.clone(),
                    sia_code: sia_code.clone(),
                    subject: "Baja por inscripción indebida en el padrón".into(),
                    parties: vec![person.clone()],
                    at: at(on),
                },
                changed("notifying", "Opened: the opening is being notified", on),
                CaseEffect::ResolutionDue(Some(*max_time_due)),
            ],
            FileEvent::Notified { on, hearing_due, .. } => vec![
                changed("hearing", "Notified: you may regularise your situation or allege", on),
                CaseEffect::CitizenMustAct(Some(CitizenAction {
                    what: "Regularise your padrón inscription, or file allegations that you still live there".into(),
                    due: *hearing_due,
                })),
            ],
            FileEvent::Agreed { on } | FileEvent::AllegationsFiled { on, .. } => vec![
                changed("to_resolve", "Waiting for the council's resolution", on),
                CaseEffect::CitizenMustAct(None),
            ],
            FileEvent::ReportRequested { on } => vec![
                changed(
                    "awaiting_report",
                    "Waiting for the Consejo de Empadronamiento's report (the time limit is suspended)",
                    on,
                ),
                CaseEffect::CitizenMustAct(None),
                CaseEffect::ResolutionDue(None),
            ],
            FileEvent::ReportWaitEnded { on, max_time_due } => vec![
                changed("to_resolve", "No report after three months: the procedure goes on without it", on),
                CaseEffect::ResolutionDue(Some(*max_time_due)),
            ],
            FileEvent::ReportReceived { on, max_time_due, .. } => vec![
                changed("to_resolve", "Report received: waiting for the council's resolution", on),
                CaseEffect::ResolutionDue(Some(*max_time_due)),
            ],
            FileEvent::Resolved { decision, on } => match decision {
                FileDecision::Remove => closed("removed", "Resolved: removed for wrong inscription", on),
                FileDecision::Archive => closed("archived", "Resolved: archived, the inscription stays", on),
            },
            FileEvent::Lapsed { on } => closed("lapsed", "Lapsed: not resolved in time", on),
            _ => Vec::new(),
        }
    }

    fn timer_effects(event: &FileEvent) -> Vec<TimerEffect> {
        file_timers(event)
    }

    fn timer_command(
        kind: &str,
        data: &serde_json::Value,
        _now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Option<FileCommand> {
        match kind {
            FILE_LAPSE_TIMER => Some(FileCommand::Lapse {
                due: serde_json::from_value(data.get("due")?.clone()).ok()?,
                on: today,
            }),
            REPORT_WAIT_TIMER => Some(FileCommand::EndReportWait { on: today }),
            ELECTRONIC_REJECTION_TIMER => Some(FileCommand::RecordNotified {
                outcome: NotificationOutcome::Rejected,
                on: today,
                hearing_due: serde_json::from_value(data.get("hearing_due")?.clone()).ok()?,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;
    use crate::testing::given;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }
    fn party() -> CaseParty {
        CaseParty {
            document: "X1234567L".parse().unwrap(),
            name: "Bilal Haddad".into(),
            role: crate::procedure::PartyRole::Interested,
        }
    }
    fn opened() -> FileEvent {
        FileEvent::Opened {
            case_number: "28079/2026/000010".parse().unwrap(),
            sia_code: "999999".parse().unwrap(),
            person: party(),
            inscription: Uuid::nil(),
            basis: RemovalBasis::ExOfficio {
                reason: "a new inscription declared nobody else lives there".into(),
            },
            on: d(3, 2),
            max_time_due: d(6, 2),
        }
    }
    fn sent(channel: NotificationChannel) -> FileEvent {
        FileEvent::NotificationSent {
            channel,
            on: d(3, 3),
            hearing_due_if_rejected: (channel == NotificationChannel::Electronic).then(|| d(4, 7)),
        }
    }
    fn notified(outcome: NotificationOutcome) -> FileEvent {
        FileEvent::Notified {
            outcome,
            on: d(3, 5),
            hearing_due: d(3, 26),
        }
    }

    #[test]
    fn a_request_must_say_where_the_person_is() {
        given::<RemovalFile>([])
            .when(FileCommand::Open {
                case_number: "28079/2026/000010".parse().unwrap(),
                sia_code: "999999".parse().unwrap(),
                person: party(),
                inscription: Uuid::nil(),
                basis: RemovalBasis::Request {
                    requester: "12345678Z".into(),
                    whereabouts: " ".into(),
                },
                on: d(3, 2),
                max_time_due: d(6, 2),
            })
            .then_refused(|e| *e == FileRefusal::WhereaboutsMissing);
    }

    #[test]
    fn each_notification_path_reaches_the_hearing() {
        for (channel, outcome) in [
            (
                NotificationChannel::Electronic,
                NotificationOutcome::Accessed,
            ),
            (
                NotificationChannel::Electronic,
                NotificationOutcome::Rejected,
            ),
            (NotificationChannel::Paper, NotificationOutcome::Delivered),
        ] {
            let state = given::<RemovalFile>([opened(), sent(channel)])
                .when(FileCommand::RecordNotified {
                    outcome,
                    on: d(3, 5),
                    hearing_due: d(3, 26),
                })
                .then([notified(outcome)]);
            assert_eq!(state.stage, FileStage::Hearing);
        }
        // Paper: the edict only after two failed attempts.
        given::<RemovalFile>([opened(), sent(NotificationChannel::Paper)])
            .when(FileCommand::RecordNotified {
                outcome: NotificationOutcome::Edict,
                on: d(3, 20),
                hearing_due: d(4, 13),
            })
            .then_refused(|e| *e == FileRefusal::EdictTooEarly);
        let failed = |attempt| FileEvent::DeliveryFailed {
            attempt,
            on: d(3, 4),
        };
        given::<RemovalFile>([
            opened(),
            sent(NotificationChannel::Paper),
            failed(1),
            failed(2),
        ])
        .when(FileCommand::RecordFailedDelivery { on: d(3, 6) })
        .then_refused(|e| matches!(e, FileRefusal::WrongStage(_)));
        assert!(given::<RemovalFile>([
            opened(),
            sent(NotificationChannel::Paper),
            failed(1),
            failed(2)
        ])
        .when(FileCommand::RecordNotified {
            outcome: NotificationOutcome::Edict,
            on: d(3, 20),
            hearing_due: d(4, 13),
        })
        .outcome()
        .is_ok());
        given::<RemovalFile>([opened(), sent(NotificationChannel::Electronic)])
            .when(FileCommand::RecordNotified {
                outcome: NotificationOutcome::Delivered,
                on: d(3, 5),
                hearing_due: d(3, 26),
            })
            .then_refused(|e| *e == FileRefusal::OutcomeNotForChannel);
    }

    #[test]
    fn removal_needs_agreement_or_a_favourable_report_after_the_hearing() {
        let base = [
            opened(),
            sent(NotificationChannel::Electronic),
            notified(NotificationOutcome::Accessed),
        ];
        given::<RemovalFile>(base.clone())
            .when(FileCommand::Resolve {
                decision: FileDecision::Remove,
                on: d(3, 20),
            })
            .then_refused(|e| *e == FileRefusal::HearingRunning(d(3, 26)));
        given::<RemovalFile>(base.clone())
            .when(FileCommand::Resolve {
                decision: FileDecision::Remove,
                on: d(3, 27),
            })
            .then_refused(|e| *e == FileRefusal::ReportNeeded);
        let mut agreed = base.to_vec();
        agreed.push(FileEvent::Agreed { on: d(3, 10) });
        given::<RemovalFile>(agreed)
            .when(FileCommand::Resolve {
                decision: FileDecision::Remove,
                on: d(3, 11),
            })
            .then([FileEvent::Resolved {
                decision: FileDecision::Remove,
                on: d(3, 11),
            }]);
        let mut reported = base.to_vec();
        reported.push(FileEvent::ReportRequested { on: d(3, 27) });
        reported.push(FileEvent::ReportReceived {
            favourable: true,
            on: d(4, 20),
            max_time_due: d(7, 26),
        });
        assert!(given::<RemovalFile>(reported)
            .when(FileCommand::Resolve {
                decision: FileDecision::Remove,
                on: d(4, 21),
            })
            .outcome()
            .is_ok());
    }

    #[test]
    fn the_report_suspends_the_maximum_time_and_a_lapsed_file_refuses_removal() {
        assert_eq!(
            file_timers(&FileEvent::ReportRequested { on: d(3, 27) }),
            vec![
                TimerEffect::Suspend {
                    kind: FILE_LAPSE_TIMER.into()
                },
                TimerEffect::Set {
                    kind: REPORT_WAIT_TIMER.into(),
                    fires_on: d(6, 28),
                    data: serde_json::json!({"requested_on": "2026-03-27"}),
                },
            ]
        );
        // The report moves the maximum time by the days it was awaited; without it, three months
        // at most.
        let base = [
            opened(),
            sent(NotificationChannel::Electronic),
            notified(NotificationOutcome::Accessed),
        ];
        let mut waiting = base.to_vec();
        waiting.push(FileEvent::ReportRequested { on: d(3, 27) });
        given::<RemovalFile>(waiting.clone())
            .when(FileCommand::RecordReport {
                favourable: false,
                on: d(4, 16),
            })
            .then([FileEvent::ReportReceived {
                favourable: false,
                on: d(4, 16),
                max_time_due: d(6, 22),
            }]);
        given::<RemovalFile>(waiting.clone())
            .when(FileCommand::EndReportWait { on: d(6, 27) })
            .then_refused(|e| matches!(e, FileRefusal::WrongStage(_)));
        given::<RemovalFile>(waiting)
            .when(FileCommand::EndReportWait { on: d(6, 28) })
            .then([FileEvent::ReportWaitEnded {
                on: d(6, 28),
                max_time_due: d(9, 3),
            }]);
        let base = [
            opened(),
            sent(NotificationChannel::Electronic),
            notified(NotificationOutcome::Accessed),
        ];
        given::<RemovalFile>(base.clone())
            .when(FileCommand::Lapse {
                due: d(6, 2),
                on: d(6, 2),
            })
            .then_refused(|e| *e == FileRefusal::NotLapsedYet(d(6, 2)));
        let state = given::<RemovalFile>(base.clone())
            .when(FileCommand::Lapse {
                due: d(6, 2),
                on: d(6, 3),
            })
            .then([FileEvent::Lapsed { on: d(6, 3) }]);
        assert!(state.stage.is_closed());
        let mut lapsed = base.to_vec();
        lapsed.push(FileEvent::Lapsed { on: d(6, 3) });
        given::<RemovalFile>(lapsed)
            .when(FileCommand::Resolve {
                decision: FileDecision::Remove,
                on: d(6, 4),
            })
            .then_refused(|e| *e == FileRefusal::Closed("lapsed"));
        // While the report is awaited the file does not lapse.
        let mut waiting = base.to_vec();
        waiting.push(FileEvent::ReportRequested { on: d(3, 27) });
        given::<RemovalFile>(waiting)
            .when(FileCommand::Lapse {
                due: d(6, 2),
                on: d(6, 3),
            })
            .then_refused(|e| matches!(e, FileRefusal::NotLapsedYet(_)));
    }

    #[test]
    fn electronic_notifications_are_deemed_rejected_after_ten_calendar_days() {
        assert_eq!(
            file_timers(&sent(NotificationChannel::Electronic)),
            vec![TimerEffect::Set {
                kind: ELECTRONIC_REJECTION_TIMER.into(),
                fires_on: d(3, 14),
                data: serde_json::json!({"sent_on": "2026-03-03", "hearing_due": "2026-04-07"}),
            }]
        );
    }

    #[test]
    fn timers_send_the_commands_the_deadlines_imply() {
        let now = chrono::Utc::now();
        let TimerEffect::Set { kind, data, .. } =
            &file_timers(&sent(NotificationChannel::Electronic))[0]
        else {
            unreachable!()
        };
        assert_eq!(
            RemovalFile::timer_command(kind, data, now, d(3, 14)),
            Some(FileCommand::RecordNotified {
                outcome: NotificationOutcome::Rejected,
                on: d(3, 14),
                hearing_due: d(4, 7),
            })
        );
        let TimerEffect::Set { kind, data, .. } = &file_timers(&opened())[0] else {
            unreachable!()
        };
        assert_eq!(
            RemovalFile::timer_command(kind, data, now, d(6, 3)),
            Some(FileCommand::Lapse {
                due: d(6, 2),
                on: d(6, 3)
            })
        );
        // The case view shows what the person must do by when.
        let effects = RemovalFile::case_effects(&notified(NotificationOutcome::Accessed));
        assert!(effects
            .iter()
            .any(|e| matches!(e, CaseEffect::CitizenMustAct(Some(a)) if a.due == d(3, 26))));
    }

    #[test]
    fn regularising_archives_the_file() {
        let base = [
            opened(),
            sent(NotificationChannel::Paper),
            notified(NotificationOutcome::Delivered),
        ];
        given::<RemovalFile>(base)
            .when(FileCommand::RecordRegularised { on: d(3, 10) })
            .then([
                FileEvent::Regularised { on: d(3, 10) },
                FileEvent::Resolved {
                    decision: FileDecision::Archive,
                    on: d(3, 10),
                },
            ]);
    }
}
