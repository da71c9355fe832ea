//! Alta de usuario: a person's registration in the council's user-and-password system (the access to
//! Mi Carpeta and the electronic registry for people without an electronic certificate), and the
//! life of that account: verification, key assignment, login, lock, expiry, recovery.
//!
//! Secrets never reach this aggregate: passwords, activation tokens and PINs are checked outside
//! (hashed, in their own table) and the commands only say what the check found. Events say that a
//! secret was issued, used or expired, never what it is.
//!
//! The aggregate and its rules are here; its commands, events, state, refusals, timers and notices
//! are in the submodules, all re-exported under `user_account::`. The person's identity types
//! live in [`crate::identity`] and are re-exported here too.

use chrono::{DateTime, Utc};

use crate::identity::age_on;
use crate::procedure::{
    CaseEffect, CaseParty, CitizenAction, Notice, NoticeChannel, NoticeRecipient, PartyRole,
    Procedure, TimerContext, TimerEffect,
};
use crate::values::DocumentNumber;

mod commands;
mod events;
mod notices;
mod refusals;
mod state;
#[cfg(test)]
mod tests;
mod timers;
mod values;

pub use crate::identity::{IdentityDocument, Nationality, PassportNumber};
pub use commands::Command;
pub use events::Event;
pub use notices::{
    ACTIVATION_DAYS, NOTICE_ACTIVATION, NOTICE_EMAIL_CONFIRMATION, NOTICE_PIN, PIN_MINUTES,
};
pub use refusals::Refusal;
pub use state::{Stage, State};
pub use timers::EXPIRY_TIMER;
pub use values::{
    Applicant, Channel, Contact, Representative, RequestChannel, UnlockChannel, VerificationMethod,
};

use timers::expiry_day;

/// The aggregate.
#[derive(Debug)]
pub struct UserAccount;

/// Whether `command`, a registration, supersedes the account's unverified online registration:
/// made in person (the document checked) or with the holder's own certificate.
fn supersedes(state: &State, command: &Command) -> bool {
    let Command::Register {
        channel,
        applicant,
        certificate_subject,
        ..
    } = command
    else {
        return false;
    };
    state.channel == Some(Channel::OnlineWithoutCertificate)
        && (*channel == Channel::InPerson
            || (*channel == Channel::OnlineWithCertificate
                && certificate_subject.as_deref() == Some(applicant.login_number().as_str())))
}

/// Three wrong passwords in a row, in one login session, lock the account (seed 000).
pub const MAX_CONSECUTIVE_FAILURES: u8 = 3;
/// A login session: the attempts from one device while no more than this many minutes pass
/// between one and the next (a browser's login form left open; a new visit is a new session).
pub const LOGIN_SESSION_MINUTES: i64 = 30;

fn check_contact(contact: &Contact) -> Result<(), Refusal> {
    let mobile = contact.mobile.replace([' ', '-'], "");
    let digits = mobile.strip_prefix('+').unwrap_or(&mobile);
    if !(9..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::InvalidContact("a mobile phone number is required"));
    }
    let spanish = digits
        .strip_prefix("34")
        .filter(|_| mobile.starts_with('+'))
        .unwrap_or(digits);
    if spanish.len() == 9 && !(spanish.starts_with('6') || spanish.starts_with('7')) {
        return Err(Refusal::InvalidContact(
            "a Spanish mobile number starts with 6 or 7",
        ));
    }
    let email = contact.email.trim();
    let valid_email = email.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if !valid_email {
        return Err(Refusal::InvalidContact(
            "a valid e-mail address is required",
        ));
    }
    if contact.address.trim().len() < 5 {
        return Err(Refusal::InvalidContact("a postal address is required"));
    }
    Ok(())
}

fn document_refusal(nationality: Nationality) -> Refusal {
    Refusal::DocumentNotValidForNationality(match nationality {
        Nationality::Spanish => "Spanish nationals identify with a DNI or a passport",
        Nationality::EuropeanUnion => {
            "EU nationals identify with their national identity card, a residence card, or the EU registration certificate and passport"
        }
        Nationality::NonEu => "non-EU nationals identify with their residence card (NIE)",
    })
}

impl esrs::Aggregate for UserAccount {
    const NAME: &'static str = "user_account";
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle_command(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
        use Stage as S;
        match (state.stage, command) {
            (
                S::Unregistered,
                Command::Register {
                    case_number,
                    sia_code,
                    channel,
                    applicant,
                    contact,
                    representative,
                    known_to_council,
                    document_checked_by,
                    certificate_subject,
                    at,
                    entry,
                },
            ) => {
                match &applicant {
                    // Seed 000: legal persons register online, and online means with an
                    // electronic certificate; in person is for natural persons only.
                    Applicant::Legal { nif, .. } => {
                        if channel != Channel::OnlineWithCertificate {
                            return Err(Refusal::LegalPersonWithCertificateOnly);
                        }
                        if nif.is_natural_person() {
                            return Err(Refusal::NotALegalPersonNif);
                        }
                    }
                    Applicant::Natural {
                        birth_date,
                        nationality,
                        document,
                        emancipation_proof,
                        ..
                    } => {
                        let age = age_on(*birth_date, at.date_naive());
                        let emancipated = emancipation_proof
                            .as_deref()
                            .is_some_and(|p| !p.trim().is_empty());
                        if age < 18 && !(age >= 16 && emancipated) {
                            return Err(Refusal::MinorNotEmancipated);
                        }
                        if !document.valid_for(*nationality) {
                            return Err(document_refusal(*nationality));
                        }
                    }
                }
                if let Some(rep) = &representative {
                    if rep.notarial_power.trim().is_empty() || !rep.both_documents_presented {
                        return Err(Refusal::RepresentationNotAccredited);
                    }
                }
                check_contact(&contact)?;
                match channel {
                    Channel::Phone if !known_to_council => {
                        return Err(Refusal::PhoneOnlyForKnownPersons)
                    }
                    Channel::InPerson
                        if document_checked_by
                            .as_deref()
                            .is_none_or(|b| b.trim().is_empty()) =>
                    {
                        return Err(Refusal::DocumentNotChecked)
                    }
                    Channel::OnlineWithCertificate => {
                        let subject = certificate_subject.unwrap_or_default();
                        let matches_applicant = subject == applicant.login_number();
                        let matches_representative = representative
                            .as_ref()
                            .is_some_and(|r| r.document.login_number() == subject);
                        if !(matches_applicant || matches_representative) {
                            return Err(Refusal::CertificateMismatch);
                        }
                    }
                    _ => {}
                }
                let registered = Event::Registered {
                    case_number,
                    sia_code,
                    channel,
                    applicant,
                    contact,
                    representative,
                    document_checked_by,
                    at,
                    entry,
                };
                Ok(match channel {
                    Channel::OnlineWithCertificate => {
                        vec![registered, Event::EmailConfirmationIssued { at }]
                    }
                    Channel::OnlineWithoutCertificate => {
                        vec![registered, Event::VerificationRequested { at }]
                    }
                    // The identity was checked (in person) or is on record (phone): the key can be
                    // assigned at once.
                    Channel::InPerson | Channel::Phone => vec![registered],
                })
            }
            (S::Unregistered, _) => Err(Refusal::NotRegistered),
            // No squatting: an unverified online registration never blocks the holder's
            // registration with their identity proved; it is closed, and the file goes on with
            // the verified one (its number kept).
            (S::AwaitingVerification, mut command @ Command::Register { .. })
                if supersedes(state, &command) =>
            {
                let Command::Register {
                    case_number,
                    channel,
                    at,
                    ..
                } = &mut command
                else {
                    unreachable!("matched above")
                };
                let (by, at) = (*channel, *at);
                if let Some(kept) = &state.case_number {
                    *case_number = kept.clone();
                }
                let mut events = vec![Event::RegistrationSuperseded { by, at }];
                events.extend(Self::handle_command(&State::default(), command)?);
                Ok(events)
            }
            (_, Command::Register { .. }) => Err(Refusal::AlreadyRegistered),
            (S::AwaitingEmailConfirmation, Command::ConfirmEmail { at, on }) => {
                Ok(vec![Event::PasswordSet { at, on: Some(on) }])
            }
            (S::AwaitingVerification, Command::VerifyIdentity { method, by, at }) => {
                Ok(vec![Event::IdentityVerified { method, by, at }])
            }
            // A key can be reset once the identity is known: after verification, for in-person and
            // phone registrations, and to replace a lost key of a usable account.
            (
                S::AwaitingKey | S::AwaitingPassword | S::Active | S::Expired,
                Command::ResetKey { by, at },
            ) => Ok(vec![Event::KeyReset { by, at }]),
            (S::AwaitingPassword, Command::SetPassword { at, on }) => {
                Ok(vec![Event::PasswordSet { at, on: Some(on) }])
            }
            (S::Locked, Command::Login { .. } | Command::LoginWithPin { .. }) => {
                Err(Refusal::AccountLocked)
            }
            (S::Expired, Command::Login { .. }) => Err(Refusal::PasswordExpired),
            // The PIN is its own credential: the password's expiry does not stop it.
            (S::Active | S::Expired, Command::LoginWithPin { at }) => {
                Ok(vec![Event::LoggedInWithPin { at }])
            }
            (
                S::Active,
                Command::Login {
                    password_correct: true,
                    at,
                    on,
                    ..
                },
            ) => Ok(vec![Event::LoggedIn { at, on: Some(on) }]),
            (
                S::Active,
                Command::Login {
                    password_correct: false,
                    at,
                    session,
                    ..
                },
            ) => {
                // Consecutive within one login session: the same device, with no more than the
                // session's minutes since its previous wrong attempt. Each session keeps its own
                // count, so attempts from other devices in between neither reset nor add to it.
                let consecutive = state
                    .session_failures
                    .iter()
                    .find(|(s, _, when)| {
                        s.as_deref() == Some(session.as_str())
                            && at - *when <= chrono::Duration::minutes(LOGIN_SESSION_MINUTES)
                    })
                    .map_or(1, |(_, count, _)| count.saturating_add(1));
                let mut events = vec![Event::LoginFailed {
                    consecutive,
                    at,
                    session: Some(session),
                }];
                if consecutive >= MAX_CONSECUTIVE_FAILURES {
                    events.push(Event::Locked { at });
                }
                Ok(events)
            }
            (S::Active, Command::ExpirePassword { at, today }) => {
                let used = state
                    .last_used_on
                    .or(state.last_used.map(|at| at.date_naive()))
                    .map(expiry_day);
                if used.is_some_and(|day| today < day) {
                    return Err(Refusal::NotExpired);
                }
                Ok(vec![Event::PasswordExpired { at }])
            }
            (
                S::Locked,
                Command::RequestRecovery {
                    channel: RequestChannel::Online,
                    ..
                },
            ) => Err(Refusal::RecoveryWhileLocked),
            (S::Active | S::Expired | S::Locked, Command::RequestRecovery { channel, at }) => {
                let mut events = Vec::new();
                if state.stage == S::Locked {
                    events.push(Event::Unlocked {
                        channel: match channel {
                            RequestChannel::Certificate => UnlockChannel::Certificate,
                            _ => UnlockChannel::InPerson,
                        },
                        at,
                    });
                }
                events.push(Event::RecoveryRequested { channel, at });
                Ok(events)
            }
            (S::Locked, Command::Unlock { channel, at }) => {
                Ok(vec![Event::Unlocked { channel, at }])
            }
            (_, Command::ChangeContact { channel, .. }) if channel != RequestChannel::InPerson => {
                Err(Refusal::DataChangeOnlyInPerson)
            }
            (_, Command::ChangeContact { .. }) if state.legal_person => {
                Err(Refusal::DataChangeOnlyInPerson)
            }
            (_, Command::ChangeContact { contact, at, .. }) => {
                check_contact(&contact)?;
                Ok(vec![Event::ContactChanged { contact, at }])
            }
            (S::Active, Command::VerifyMobile { at }) => Ok(vec![Event::MobileVerified { at }]),
            (S::Active | S::Expired, Command::RequestPin { at }) => {
                if !state.mobile_verified {
                    return Err(Refusal::MobileNotVerified);
                }
                Ok(vec![Event::PinIssued { at }])
            }
            (stage, _) => Err(Refusal::WrongStage(stage.code())),
        }
    }

    fn apply_event(mut state: State, event: Event) -> State {
        match event {
            Event::RegistrationSuperseded { .. } => state = State::default(),
            Event::Registered {
                channel,
                applicant,
                case_number,
                ..
            } => {
                state.case_number = Some(case_number);
                state.channel = Some(channel);
                state.legal_person = matches!(applicant, Applicant::Legal { .. });
                state.stage = match channel {
                    Channel::OnlineWithCertificate => Stage::AwaitingEmailConfirmation,
                    Channel::OnlineWithoutCertificate => Stage::AwaitingVerification,
                    Channel::InPerson | Channel::Phone => Stage::AwaitingKey,
                };
            }
            Event::EmailConfirmationIssued { .. }
            | Event::VerificationRequested { .. }
            | Event::PinIssued { .. } => {}
            Event::IdentityVerified { .. } => state.stage = Stage::AwaitingKey,
            Event::KeyReset { .. } | Event::RecoveryRequested { .. } => {
                state.stage = Stage::AwaitingPassword
            }
            Event::PasswordSet { at, on } | Event::LoggedIn { at, on } => {
                state.stage = Stage::Active;
                state.consecutive_failures = 0;
                state.last_failure = None;
                state.session_failures.clear();
                state.last_used = Some(at);
                state.last_used_on = Some(on.unwrap_or(at.date_naive()));
            }
            // A PIN login ends the login session; the password's year runs on.
            Event::LoggedInWithPin { .. } => {
                state.consecutive_failures = 0;
                state.last_failure = None;
                state.session_failures.clear();
            }
            Event::LoginFailed {
                consecutive,
                at,
                session,
            } => {
                state.consecutive_failures = consecutive;
                // The sessions still open at this attempt, this one's count updated.
                let window = chrono::Duration::minutes(LOGIN_SESSION_MINUTES);
                state
                    .session_failures
                    .retain(|(s, _, when)| *s != session && at - *when <= window);
                state
                    .session_failures
                    .push((session.clone(), consecutive, at));
                state.last_failure = Some((session, at));
            }
            Event::Locked { .. } => state.stage = Stage::Locked,
            Event::Unlocked { .. } => {
                state.stage = Stage::Active;
                state.consecutive_failures = 0;
                state.last_failure = None;
                state.session_failures.clear();
            }
            Event::PasswordExpired { .. } => state.stage = Stage::Expired,
            Event::ContactChanged { .. } => state.mobile_verified = false,
            Event::MobileVerified { .. } => state.mobile_verified = true,
        }
        state
    }
}

impl Procedure for UserAccount {
    fn registry_entries(event: &Event) -> Vec<crate::lpac::RegistryEntry> {
        match event {
            Event::Registered {
                entry: Some(entry), ..
            } => vec![entry.clone()],
            _ => Vec::new(),
        }
    }

    const TITLE: &'static str = "Alta de usuario (municipal user and password)";

    fn case_effects(event: &Event) -> Vec<CaseEffect> {
        let changed =
            |stage: Stage, description: &str, at: DateTime<Utc>| CaseEffect::StateChanged {
                state: stage.code().to_owned(),
                description: description.to_owned(),
                at,
            };
        let act = |what: &str, due: DateTime<Utc>| {
            CaseEffect::CitizenMustAct(Some(CitizenAction {
                what: what.to_owned(),
                due: due.date_naive(),
            }))
        };
        match event {
            Event::Registered {
                case_number,
                sia_code,
                channel,
                applicant,
                representative,
                at,
                ..
            } => {
                let mut parties = Vec::new();
                if let Ok(document) = applicant.login_number().parse::<DocumentNumber>() {
                    parties.push(CaseParty {
                        document,
                        name: match applicant {
                            Applicant::Natural { name, .. } | Applicant::Legal { name, .. } => {
                                name.clone()
                            }
                        },
                        role: PartyRole::Interested,
                    });
                }
                if let Some(rep) = representative {
                    if let Ok(document) = rep.document.login_number().parse::<DocumentNumber>() {
                        parties.push(CaseParty {
                            document,
                            name: rep.name.clone(),
                            role: PartyRole::Representative,
                        });
                    }
                }
                let (stage, text) = match channel {
                    Channel::OnlineWithCertificate => (
                        Stage::AwaitingEmailConfirmation,
                        "Registered: follow the link sent to your e-mail to activate the account",
                    ),
                    Channel::OnlineWithoutCertificate => (
                        Stage::AwaitingVerification,
                        "Registered: the council will verify your identity before assigning the key",
                    ),
                    Channel::InPerson | Channel::Phone => {
                        (Stage::AwaitingKey, "Registered: the council will send your key by e-mail")
                    }
                };
                let mut effects = vec![
                    CaseEffect::Opened {
                        case_number: case_number.clone(),
                        sia_code: sia_code.clone(),
                        subject: "Alta en el sistema de usuario y contraseña".into(),
                        parties,
                        at: *at,
                    },
                    changed(stage, text, *at),
                ];
                if *channel == Channel::OnlineWithCertificate {
                    effects.push(act(
                        "Follow the link sent to your e-mail",
                        *at + chrono::Duration::days(ACTIVATION_DAYS),
                    ));
                }
                effects
            }
            Event::IdentityVerified { at, .. } => {
                vec![changed(
                    Stage::AwaitingKey,
                    "Identity verified: the key will be sent by e-mail",
                    *at,
                )]
            }
            Event::KeyReset { at, .. } | Event::RecoveryRequested { at, .. } => vec![
                changed(
                    Stage::AwaitingPassword,
                    "Key sent: follow the e-mail to set your password",
                    *at,
                ),
                act(
                    "Set your password with the link sent to your e-mail",
                    *at + chrono::Duration::days(ACTIVATION_DAYS),
                ),
            ],
            Event::PasswordSet { at, .. } => vec![
                CaseEffect::CitizenMustAct(None),
                CaseEffect::Closed {
                    state: Stage::Active.code().into(),
                    description: "Account active".into(),
                    at: *at,
                },
            ],
            Event::Locked { at } => vec![
                changed(Stage::Locked, "Locked after three wrong passwords", *at),
                CaseEffect::CitizenMustAct(None),
            ],
            Event::Unlocked { at, .. } => vec![changed(Stage::Active, "Account active", *at)],
            Event::PasswordExpired { at } => vec![changed(
                Stage::Expired,
                "Password expired after a year without use: recover it",
                *at,
            )],
            _ => Vec::new(),
        }
    }

    fn timer_effects(event: &Event) -> Vec<TimerEffect> {
        match event {
            Event::PasswordSet { at, on } | Event::LoggedIn { at, on } => vec![TimerEffect::Set {
                kind: EXPIRY_TIMER.into(),
                fires_on: expiry_day(on.unwrap_or(at.date_naive())),
                data: serde_json::json!({}),
            }],
            Event::PasswordExpired { .. }
            | Event::KeyReset { .. }
            | Event::RecoveryRequested { .. } => {
                vec![TimerEffect::Cancel {
                    kind: EXPIRY_TIMER.into(),
                }]
            }
            _ => Vec::new(),
        }
    }

    fn timer_command(
        kind: &str,
        _data: &serde_json::Value,
        _state: &State,
        context: &TimerContext<'_>,
    ) -> Option<Command> {
        (kind == EXPIRY_TIMER).then_some(Command::ExpirePassword {
            at: context.now,
            today: context.today,
        })
    }

    fn notices(event: &Event) -> Vec<Notice> {
        let to_person = |kind: &str, channel: NoticeChannel| Notice {
            kind: kind.to_owned(),
            recipient: NoticeRecipient::Person,
            channel,
        };
        match event {
            Event::EmailConfirmationIssued { .. } => {
                vec![to_person(NOTICE_EMAIL_CONFIRMATION, NoticeChannel::Email)]
            }
            Event::VerificationRequested { .. } => vec![
                Notice {
                    kind: "new_registration".into(),
                    recipient: NoticeRecipient::Council,
                    channel: NoticeChannel::Email,
                },
                to_person("verification_pending", NoticeChannel::Email),
            ],
            Event::KeyReset { .. } | Event::RecoveryRequested { .. } => {
                vec![to_person(NOTICE_ACTIVATION, NoticeChannel::Email)]
            }
            Event::Locked { .. } => vec![to_person("account_locked", NoticeChannel::Email)],
            Event::PasswordExpired { .. } => {
                vec![to_person("password_expired", NoticeChannel::Email)]
            }
            Event::PinIssued { .. } => vec![to_person(NOTICE_PIN, NoticeChannel::Sms)],
            _ => Vec::new(),
        }
    }
}
