//! A person's inscription in the padrón: the aggregate, its command handling and what its events
//! mean for the rest of the system (timers and the renewal warning letter; no case view, it is a
//! register entry).

use chrono::NaiveDate;

use crate::identity::{age_on, IdentityDocument};
use crate::padron::{Actor, RemovalCause, ResidenceStatus};
use crate::procedure::{
    CaseEffect, Notice, NoticeChannel, NoticeRecipient, Procedure, TimerContext, TimerEffect,
};

mod commands;
mod events;
mod refusals;
mod state;
#[cfg(test)]
mod tests;
mod timers;

pub use commands::InscriptionCommand;
pub use events::InscriptionEvent;
pub use refusals::InscriptionRefusal;
pub use state::{InscriptionStage, InscriptionState};
pub use timers::{
    renewal_due, renewal_timers, CONFIRMATION_EXPIRY_TIMER, CONFIRMATION_WARNING_TIMER,
    REMOVAL_FILE_LAPSED, RENEWAL_EXPIRY_TIMER, RENEWAL_MONTHS, RENEWAL_WARNING_TIMER,
    WARNING_MONTHS,
};

/// One person's inscription in a council's padrón.
#[derive(Debug)]
pub struct Inscription;

/// The renewal due date after a change on `on`, for those who must renew.
/// Years between confirmations of residence for those in the Central Register of Foreigners.
pub const CONFIRMATION_YEARS_IN_CENTRAL_REGISTER: u32 = 5;
/// Years between confirmations of residence for the others.
pub const CONFIRMATION_YEARS_OTHERWISE: u32 = 2;

fn due_after(state: &InscriptionState, on: NaiveDate) -> Option<NaiveDate> {
    (state.residence == Some(ResidenceStatus::NonEuTemporary)).then(|| renewal_due(on))
}

/// The actor rules on a procedure of an inscription already recorded (every padrón procedure, not
/// only the inscription): checked against the person's age on the day.
fn check_actor_on(
    state: &InscriptionState,
    actor: &Actor,
    on: NaiveDate,
) -> Result<(), InscriptionRefusal> {
    match state.birth_date {
        Some(birth) => check_actor(actor, birth, on),
        None => Ok(()),
    }
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
        // (A legal representative may act for an adult too: one with judicial support
        // measures.)
        Actor::Parent { .. } if !minor => Err(InscriptionRefusal::ActorNotEntitled(
            "an adult acts personally, through an accredited representative or, with judicial support measures, through their legal representative",
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
        let mut events = decide(state, command)?;
        // A change that moves the day an EU citizen or permanent resident must confirm their
        // residence by records the new day with it (for the timers and the register); so does
        // one that cancels the confirmation's timers to set them again (a change of status, a
        // new period, a removal undone), even when the day stays.
        let after = events
            .iter()
            .cloned()
            .fold(state.clone(), <Self as esrs::Aggregate>::apply_event);
        let resets = events.iter().any(|e| {
            matches!(
                e,
                InscriptionEvent::ResidenceStatusChanged { .. }
                    | InscriptionEvent::Reinscribed { .. }
                    | InscriptionEvent::RemovalCorrected { .. }
            )
        });
        if let Some(due) = after.confirmation_due() {
            if resets || after.confirmation_day != Some(due) {
                events.push(InscriptionEvent::ConfirmationDue { due });
            }
        }
        Ok(events)
    }

    fn apply_event(state: InscriptionState, event: InscriptionEvent) -> InscriptionState {
        apply(state, event)
    }
}

fn decide(
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
                entry,
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
                entry,
            }])
        }
        (S::NotInscribed, _) => Err(InscriptionRefusal::NotInscribed),
        // A removed person is inscribed again: a new period of the same inscription.
        (
            S::Removed,
            C::Inscribe {
                person,
                residence,
                dwelling,
                declares_nobody_else,
                actor,
                on,
                entry,
                ..
            },
        ) => {
            // The stream is this document's person: someone else with the same number (a
            // passport of another country, a number recorded wrongly) is not merged into it.
            if state.birth_date.is_some_and(|b| b != person.birth_date) {
                return Err(InscriptionRefusal::DocumentOfAnotherPerson);
            }
            check_actor(&actor, person.birth_date, on)?;
            Ok(vec![E::Reinscribed {
                renewal_due: (residence == ResidenceStatus::NonEuTemporary)
                    .then(|| renewal_due(on)),
                person,
                residence,
                dwelling,
                declares_nobody_else,
                actor,
                on,
                entry,
            }])
        }
        (_, C::Inscribe { .. }) => Err(InscriptionRefusal::AlreadyInscribed),
        (S::Removed, C::CorrectRemoval { correction, on }) => match state.removal {
            // A removal that a resolution decided is reviewed by appeal or ex officio
            // revision (arts. 106–126), not corrected as a material error.
            Some(RemovalCause::Lapse | RemovalCause::WrongInscription) => {
                Err(InscriptionRefusal::RemovalByResolution)
            }
            _ => Ok(vec![E::RemovalCorrected {
                correction,
                renewal_due: state.renewal_due(),
                open_removal_file: state.file_when_removed,
                on,
            }]),
        },
        (S::Removed, _) => Err(InscriptionRefusal::Removed),
        (_, C::CorrectRemoval { .. }) => Err(InscriptionRefusal::NotRemoved),
        (
            _,
            C::ResolveLapse {
                grounds,
                appeals,
                notification,
                on,
            },
        ) => {
            if !state.lapse_proposed {
                return Err(InscriptionRefusal::LapseNotProposed);
            }
            if state.lapse_resolution.is_some() {
                return Err(InscriptionRefusal::LapseAlreadyResolved);
            }
            Ok(vec![E::LapseResolved {
                grounds,
                appeals,
                notification,
                on,
            }])
        }
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
                file,
            },
        ) => match cause {
            RemovalCause::Lapse if !state.lapse_proposed => {
                Err(InscriptionRefusal::LapseNotProposed)
            }
            RemovalCause::WrongInscription
                if state.open_removal_file.is_none() || state.open_removal_file != file =>
            {
                Err(InscriptionRefusal::NoRemovalFile)
            }
            _ => Ok(vec![E::Removed {
                cause,
                effective_on,
            }]),
        },
        // Everything below but a change of address (the way to regularise, seed 004) is
        // blocked while a removal file is open (a change of residence status is a change of
        // the personal data).
        (
            _,
            C::ModifyPersonalData { .. }
            | C::ChangeResidenceStatus { .. }
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
                regularises,
            },
        ) => {
            check_actor_on(state, &actor, on)?;
            if let Some(file) = regularises {
                if state.open_removal_file != Some(file) {
                    return Err(InscriptionRefusal::NoRemovalFile);
                }
                let same = state
                    .dwelling
                    .as_ref()
                    .is_some_and(|d| d.key.eq_ignore_ascii_case(&dwelling.key));
                if same {
                    return Err(InscriptionRefusal::SameDwelling);
                }
            }
            let mut events = vec![E::AddressChanged {
                renewal_due: due_after(state, on),
                dwelling,
                actor,
                on,
            }];
            if let Some(file) = regularises {
                events.push(E::RemovalFileClosed { file, on });
            }
            Ok(events)
        }
        (
            _,
            C::ModifyPersonalData {
                name,
                document,
                actor,
                on,
            },
        ) => {
            check_actor_on(state, &actor, on)?;
            // The foreigner card takes precedence over the passport in every padrón
            // procedure (seed 004): a card on record is not replaced by a passport.
            let card_on_record =
                matches!(state.document, Some(IdentityDocument::ResidenceCard { .. }));
            if card_on_record && matches!(document, IdentityDocument::Passport { .. }) {
                return Err(InscriptionRefusal::CardTakesPrecedence);
            }
            Ok(vec![E::PersonalDataModified {
                renewal_due: due_after(state, on),
                name,
                document,
                actor,
                on,
            }])
        }
        (
            _,
            C::ChangeResidenceStatus {
                residence,
                evidence,
                on,
            },
        ) => {
            if state.residence == Some(residence) {
                return Err(InscriptionRefusal::SameResidenceStatus);
            }
            // The lapse declared is notified and removes the inscription when it takes
            // effect: a status recorded meanwhile does not undo it (a new inscription does).
            if state.lapse_resolution.is_some() {
                return Err(InscriptionRefusal::LapseAlreadyResolved);
            }
            if evidence.trim().is_empty() {
                return Err(InscriptionRefusal::EvidenceMissing);
            }
            // Only a non-EU resident without permanent residence renews (art. 16.1 LBRL):
            // two years from this change; any other status ends the duty.
            Ok(vec![E::ResidenceStatusChanged {
                renewal_due: (residence == ResidenceStatus::NonEuTemporary)
                    .then(|| renewal_due(on)),
                residence,
                evidence,
                on,
            }])
        }
        (
            _,
            C::Renew {
                document,
                actor,
                on,
                entry,
            },
        ) => {
            check_actor_on(state, &actor, on)?;
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
                entry,
            }])
        }
        (_, C::ConfirmResidence { actor, on }) => {
            check_actor_on(state, &actor, on)?;
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
        // (The day itself is appended by `handle_command`, as for every change.)
        (_, C::RecordConfirmationDay) => {
            let due = state.confirmation_due();
            if due.is_none() || state.confirmation_day == due {
                return Err(InscriptionRefusal::ConfirmationDayRecorded);
            }
            Ok(Vec::new())
        }
        (_, C::SendConfirmationWarning { due, on }) => {
            // (A warning on or after the day would warn of nothing.)
            if state.confirmation_day != Some(due) || on >= due {
                return Err(InscriptionRefusal::StaleTimer);
            }
            Ok(vec![E::ConfirmationWarningSent { due, on }])
        }
        (_, C::RecordConfirmationOverdue { due, on }) => {
            if state.confirmation_day != Some(due) || on <= due || state.confirmation_overdue {
                return Err(InscriptionRefusal::StaleTimer);
            }
            Ok(vec![E::ConfirmationOverdue { due, on }])
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

fn apply(mut state: InscriptionState, event: InscriptionEvent) -> InscriptionState {
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
            state.birth_date = Some(person.birth_date);
            state.document = Some(person.document);
            state.dwelling = Some(dwelling);
            state.renewal_basis = Some(on);
        }
        E::Reinscribed {
            person,
            residence,
            dwelling,
            on,
            ..
        } => {
            // A new period: nothing of the last one's removal or lapse carries over.
            state = InscriptionState {
                stage: InscriptionStage::Inscribed,
                residence: Some(residence),
                birth_date: Some(person.birth_date),
                document: Some(person.document),
                dwelling: Some(dwelling),
                renewal_basis: Some(on),
                ..InscriptionState::default()
            };
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
        E::ResidenceStatusChanged { residence, on, .. } => {
            state.confirmation_day = None;
            state.confirmation_overdue = false;
            state.residence = Some(residence);
            state.renewal_basis = Some(on);
            state.lapse_proposed = false;
        }
        E::Renewed { on, .. } => {
            state.renewal_basis = Some(on);
            state.lapse_proposed = false;
        }
        // A confirmation is a padrón change: the next one counts from it.
        E::ResidenceConfirmed { on, .. } => {
            state.renewal_basis = Some(on);
            state.confirmation_overdue = false;
        }
        E::NewInscriptionAuthorised { .. } | E::RemovalRequested { .. } => {}
        E::ConfirmationDue { due } => {
            state.confirmation_day = Some(due);
            state.confirmation_overdue = false;
        }
        E::ConfirmationWarningSent { .. } => {}
        E::ConfirmationOverdue { .. } => state.confirmation_overdue = true,
        E::RemovalFileOpened { file, .. } => state.open_removal_file = Some(file),
        E::RemovalFileClosed { .. } => state.open_removal_file = None,
        E::RenewalWarningSent { .. } => {}
        E::LapseProposed { .. } => state.lapse_proposed = true,
        E::LapseResolved { notification, .. } => state.lapse_resolution = Some(notification),
        E::Removed { cause, .. } => {
            state.confirmation_day = None;
            state.stage = InscriptionStage::Removed;
            state.removal = Some(cause);
            state.file_when_removed = state.open_removal_file.take();
        }
        E::RemovalCorrected {
            open_removal_file, ..
        } => {
            state.stage = InscriptionStage::Inscribed;
            state.removal = None;
            state.file_when_removed = None;
            state.open_removal_file = open_removal_file;
        }
    }
    state
}

impl Procedure for Inscription {
    fn registry_entries(event: &InscriptionEvent) -> Vec<crate::lpac::RegistryEntry> {
        match event {
            InscriptionEvent::Inscribed {
                entry: Some(entry), ..
            }
            | InscriptionEvent::Reinscribed {
                entry: Some(entry), ..
            }
            | InscriptionEvent::Renewed {
                entry: Some(entry), ..
            } => vec![entry.clone()],
            _ => Vec::new(),
        }
    }

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
        state: &InscriptionState,
        context: &TimerContext<'_>,
    ) -> Option<InscriptionCommand> {
        // The resolution declaring the lapse took effect: the removal, that day.
        if let Some(effect) = crate::lpac::notification::Effect::from_follow_up(kind, data) {
            // Only the notification of this period's lapse resolution removes it.
            if state.lapse_resolution != Some(effect.notification) {
                return None;
            }
            return Some(InscriptionCommand::Remove {
                cause: RemovalCause::Lapse,
                effective_on: effect.on,
                file: None,
            });
        }
        if kind == REMOVAL_FILE_LAPSED {
            return Some(InscriptionCommand::RecordRemovalFileClosed {
                file: serde_json::from_value(data.get("file")?.clone()).ok()?,
                on: context.today,
            });
        }
        let due = serde_json::from_value(data.get("due")?.clone()).ok()?;
        match kind {
            CONFIRMATION_WARNING_TIMER => Some(InscriptionCommand::SendConfirmationWarning {
                due,
                on: context.today,
            }),
            CONFIRMATION_EXPIRY_TIMER => Some(InscriptionCommand::RecordConfirmationOverdue {
                due,
                on: context.today,
            }),
            RENEWAL_WARNING_TIMER => Some(InscriptionCommand::SendRenewalWarning {
                due,
                on: context.today,
            }),
            RENEWAL_EXPIRY_TIMER => Some(InscriptionCommand::ProposeLapse {
                due,
                on: context.today,
            }),
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
            InscriptionEvent::ConfirmationWarningSent { .. } => vec![Notice {
                kind: "confirmation_warning".into(),
                recipient: NoticeRecipient::Person,
                channel: NoticeChannel::Post,
            }],
            _ => Vec::new(),
        }
    }
}
