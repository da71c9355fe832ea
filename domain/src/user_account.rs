//! Alta de usuario: a person's registration in the council's user-and-password system (the access to
//! Mi Carpeta and the electronic registry for people without an electronic certificate), and the
//! life of that account: verification, key assignment, login, lock, expiry, recovery.
//!
//! Secrets never reach this aggregate: passwords, activation tokens and PINs are checked outside
//! (hashed, in their own table) and the commands only say what the check found. Events say that a
//! secret was issued, used or expired, never what it is.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::procedure::{
    CaseEffect, CaseParty, CitizenAction, DomainEvent, Notice, NoticeChannel, NoticeRecipient,
    PartyRole, Procedure, TimerEffect,
};
use crate::values::{CaseNumber, DocumentKind, DocumentNumber, ParseError, SiaCode};

/// The aggregate.
#[derive(Debug)]
pub struct UserAccount;

/// How the registration was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Online, identified by an electronic certificate (assurance high).
    OnlineWithCertificate,
    /// Online without a certificate: the council must verify the identity.
    OnlineWithoutCertificate,
    /// At a citizen office, with an identity document checked by a caseworker.
    InPerson,
    /// By phone, only for a person already in the council's records.
    Phone,
}

/// A passport number: 5 to 20 letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PassportNumber(String);

impl FromStr for PassportNumber {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s.trim().to_ascii_uppercase();
        if !(5..=20).contains(&norm.len()) || !norm.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ParseError {
                what: "passport number",
                input: s.chars().take(64).collect(),
                reason: "it must be 5 to 20 letters and digits",
            });
        }
        Ok(Self(norm))
    }
}

impl fmt::Display for PassportNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PassportNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PassportNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A person's nationality, as far as the identity documents it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nationality {
    /// Spanish.
    Spanish,
    /// Of another member state of the European Union.
    EuropeanUnion,
    /// Of any other country.
    NonEu,
}

/// An identity document in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IdentityDocument {
    /// Spanish DNI.
    Dni {
        /// Its number (check letter verified).
        number: DocumentNumber,
    },
    /// A passport.
    Passport {
        /// Its number.
        number: PassportNumber,
    },
    /// The national identity card of another EU state.
    EuIdentityCard {
        /// Its number.
        number: PassportNumber,
    },
    /// A residence card (tarjeta de residencia), with an NIE.
    ResidenceCard {
        /// The NIE (check letter verified).
        number: DocumentNumber,
    },
    /// The EU citizen registration certificate (with its NIE) plus the passport.
    EuRegistrationCertificate {
        /// The NIE on the certificate.
        number: DocumentNumber,
        /// The passport that goes with it.
        passport: PassportNumber,
    },
}

impl IdentityDocument {
    /// The number the person logs in with.
    pub fn login_number(&self) -> String {
        match self {
            IdentityDocument::Dni { number }
            | IdentityDocument::ResidenceCard { number }
            | IdentityDocument::EuRegistrationCertificate { number, .. } => number.to_string(),
            IdentityDocument::Passport { number } | IdentityDocument::EuIdentityCard { number } => {
                number.to_string()
            }
        }
    }

    /// Whether this document proves the identity of someone of this nationality (seed 000).
    pub fn valid_for(&self, nationality: Nationality) -> bool {
        match (nationality, self) {
            (Nationality::Spanish, IdentityDocument::Dni { number }) => {
                number.kind() == DocumentKind::Dni
            }
            (Nationality::Spanish, IdentityDocument::Passport { .. }) => true,
            (Nationality::EuropeanUnion, IdentityDocument::EuIdentityCard { .. }) => true,
            (Nationality::EuropeanUnion, IdentityDocument::ResidenceCard { number })
            | (
                Nationality::EuropeanUnion,
                IdentityDocument::EuRegistrationCertificate { number, .. },
            )
            | (Nationality::NonEu, IdentityDocument::ResidenceCard { number }) => {
                number.kind() == DocumentKind::Nie
            }
            _ => false,
        }
    }
}

/// Who registers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Applicant {
    /// A natural person.
    Natural {
        /// Full name.
        name: String,
        /// Date of birth (to tell adults from minors).
        birth_date: NaiveDate,
        /// Nationality.
        nationality: Nationality,
        /// The identity document.
        document: IdentityDocument,
        /// For a minor: the reference of the document proving emancipation.
        emancipation_proof: Option<String>,
    },
    /// A legal person (registers online only).
    Legal {
        /// Company name.
        name: String,
        /// Its NIF.
        nif: DocumentNumber,
    },
}

impl Applicant {
    /// The number the account logs in with.
    pub fn login_number(&self) -> String {
        match self {
            Applicant::Natural { document, .. } => document.login_number(),
            Applicant::Legal { nif, .. } => nif.to_string(),
        }
    }
}

/// Contact data, all required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Mobile phone (E.164, e.g. +34600111222).
    pub mobile: String,
    /// E-mail.
    pub email: String,
    /// Postal address.
    pub address: String,
}

/// A representative acting for the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representative {
    /// Name.
    pub name: String,
    /// Their identity document.
    pub document: IdentityDocument,
    /// The general notarial power for administrative matters (protocol reference).
    pub notarial_power: String,
    /// Whether both identity documents were presented (originals or copies).
    pub both_documents_presented: bool,
}

/// How the council verified the identity of an online registration without certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// A phone call with control questions.
    PhoneControlQuestions,
    /// An appointment in person with the identity document.
    InPersonDocument,
}

/// How a locked account is unlocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockChannel {
    /// At a citizen office.
    InPerson,
    /// Online with an electronic certificate.
    Certificate,
}

/// Where a request was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestChannel {
    /// Online without a certificate.
    Online,
    /// Online with an electronic certificate.
    Certificate,
    /// In person.
    InPerson,
}

/// The account's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// No registration.
    #[default]
    Unregistered,
    /// Registered with a certificate; waiting for the e-mail link to be followed.
    AwaitingEmailConfirmation,
    /// Registered online without certificate; waiting for the council to verify the identity.
    AwaitingVerification,
    /// Identity verified; waiting for a caseworker to reset the key.
    AwaitingKey,
    /// A one-time activation was sent; waiting for the person to set a password.
    AwaitingPassword,
    /// Usable.
    Active,
    /// Locked after three wrong passwords.
    Locked,
    /// The password expired after a year without use.
    Expired,
}

impl Stage {
    /// Its code.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Unregistered => "unregistered",
            Stage::AwaitingEmailConfirmation => "awaiting_email_confirmation",
            Stage::AwaitingVerification => "awaiting_verification",
            Stage::AwaitingKey => "awaiting_key",
            Stage::AwaitingPassword => "awaiting_password",
            Stage::Active => "active",
            Stage::Locked => "locked",
            Stage::Expired => "expired",
        }
    }
}

/// The state rebuilt from an account's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Where it is.
    pub stage: Stage,
    /// How it was registered.
    pub channel: Option<Channel>,
    /// Whether it is a legal person's.
    pub legal_person: bool,
    /// Wrong passwords in a row.
    pub consecutive_failures: u8,
    /// The last successful login (or the day the password was set).
    pub last_used: Option<DateTime<Utc>>,
    /// Whether the mobile phone was verified (for PIN logins).
    pub mobile_verified: bool,
}

/// Three wrong passwords in a row lock the account.
pub const MAX_CONSECUTIVE_FAILURES: u8 = 3;
/// The password-expiry timer.
pub const EXPIRY_TIMER: &str = "password_expiry";

/// The commands. Secrets are checked by the caller; times are injected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Registers.
    Register {
        /// The registration file's number.
        case_number: CaseNumber,
        /// The procedure's SIA code for this council.
        sia_code: SiaCode,
        /// The channel.
        channel: Channel,
        /// Who.
        applicant: Applicant,
        /// Contact data.
        contact: Contact,
        /// A representative, if one acts.
        representative: Option<Representative>,
        /// For the phone channel: whether the person is already in the council's records.
        known_to_council: bool,
        /// For in-person registrations: the caseworker who checked the identity document.
        document_checked_by: Option<String>,
        /// For the certificate channel: the certificate's subject (must be the applicant or the
        /// representative).
        certificate_subject: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The single-use e-mail link of a certificate registration was followed (token checked by
    /// the caller) and a password set.
    ConfirmEmail {
        /// When.
        at: DateTime<Utc>,
    },
    /// A caseworker records how the identity was verified.
    VerifyIdentity {
        /// How.
        method: VerificationMethod,
        /// The caseworker.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A caseworker resets the key: a one-time activation is sent by e-mail (also for a lost key).
    ResetKey {
        /// The caseworker.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The person followed the activation and set a password (token checked by the caller).
    SetPassword {
        /// When.
        at: DateTime<Utc>,
    },
    /// A login attempt with document number and password; the caller checked the password.
    Login {
        /// Whether the password was right.
        password_correct: bool,
        /// When.
        at: DateTime<Utc>,
    },
    /// The expiry timer fired.
    ExpirePassword {
        /// When.
        at: DateTime<Utc>,
        /// The council's local date then.
        today: NaiveDate,
    },
    /// The person asks to recover the password.
    RequestRecovery {
        /// Where.
        channel: RequestChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// A locked account is unlocked.
    Unlock {
        /// How.
        channel: UnlockChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// Personal data given at registration is changed.
    ChangeContact {
        /// The new data.
        contact: Contact,
        /// Where the request was made.
        channel: RequestChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// The person proved the mobile phone (a code sent by SMS; checked by the caller).
    VerifyMobile {
        /// When.
        at: DateTime<Utc>,
    },
    /// A one-time PIN was requested for login.
    RequestPin {
        /// When.
        at: DateTime<Utc>,
    },
}

/// The events. None carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The registration was made.
    Registered {
        /// The registration file's number.
        case_number: CaseNumber,
        /// The procedure's SIA code.
        sia_code: SiaCode,
        /// The channel.
        channel: Channel,
        /// Who.
        applicant: Applicant,
        /// Contact data.
        contact: Contact,
        /// The representative who acted, if any.
        representative: Option<Representative>,
        /// The caseworker who checked the document (in person).
        document_checked_by: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A single-use e-mail link was issued (certificate registrations).
    EmailConfirmationIssued {
        /// When.
        at: DateTime<Utc>,
    },
    /// The council was notified of a new registration and the person told verification is pending.
    VerificationRequested {
        /// When.
        at: DateTime<Utc>,
    },
    /// The identity was verified.
    IdentityVerified {
        /// How.
        method: VerificationMethod,
        /// By whom.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The key was reset: a one-time activation was sent.
    KeyReset {
        /// By whom.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A password was set; the account is active.
    PasswordSet {
        /// When.
        at: DateTime<Utc>,
    },
    /// A successful login.
    LoggedIn {
        /// When.
        at: DateTime<Utc>,
    },
    /// A wrong password.
    LoginFailed {
        /// Wrong passwords in a row, this one included.
        consecutive: u8,
        /// When.
        at: DateTime<Utc>,
    },
    /// Locked after three wrong passwords.
    Locked {
        /// When.
        at: DateTime<Utc>,
    },
    /// Unlocked.
    Unlocked {
        /// How.
        channel: UnlockChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// The password expired after a year unused.
    PasswordExpired {
        /// When.
        at: DateTime<Utc>,
    },
    /// A recovery was requested: a one-time activation is sent.
    RecoveryRequested {
        /// Where.
        channel: RequestChannel,
        /// When.
        at: DateTime<Utc>,
    },
    /// The contact data changed.
    ContactChanged {
        /// The new data.
        contact: Contact,
        /// When.
        at: DateTime<Utc>,
    },
    /// The mobile phone was verified.
    MobileVerified {
        /// When.
        at: DateTime<Utc>,
    },
    /// A one-time PIN (10 minutes) was issued.
    PinIssued {
        /// When.
        at: DateTime<Utc>,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::Registered { .. } => "registered",
            Event::EmailConfirmationIssued { .. } => "email_confirmation_issued",
            Event::VerificationRequested { .. } => "verification_requested",
            Event::IdentityVerified { .. } => "identity_verified",
            Event::KeyReset { .. } => "key_reset",
            Event::PasswordSet { .. } => "password_set",
            Event::LoggedIn { .. } => "logged_in",
            Event::LoginFailed { .. } => "login_failed",
            Event::Locked { .. } => "locked",
            Event::Unlocked { .. } => "unlocked",
            Event::PasswordExpired { .. } => "password_expired",
            Event::RecoveryRequested { .. } => "recovery_requested",
            Event::ContactChanged { .. } => "contact_changed",
            Event::MobileVerified { .. } => "mobile_verified",
            Event::PinIssued { .. } => "pin_issued",
        }
    }
}

/// Why a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Register twice.
    #[error("this person is already registered")]
    AlreadyRegistered,
    /// Anything on an unregistered account.
    #[error("there is no such registration")]
    NotRegistered,
    /// A legal person outside the online channels.
    #[error("legal persons register online only")]
    LegalPersonOnlyOnline,
    /// A legal person's NIF that is not one.
    #[error("a legal person registers with its NIF")]
    NotALegalPersonNif,
    /// A minor who is not emancipated.
    #[error("minors can register only if emancipated")]
    MinorNotEmancipated,
    /// The identity document does not fit the nationality.
    #[error("{0}")]
    DocumentNotValidForNationality(&'static str),
    /// Phone registration of an unknown person.
    #[error("registration by phone is only for people already in the council's records")]
    PhoneOnlyForKnownPersons,
    /// In person without a document check.
    #[error("in person, a caseworker must check the identity document")]
    DocumentNotChecked,
    /// Certificate channel whose certificate is someone else's.
    #[error("the electronic certificate is not the applicant's nor the representative's")]
    CertificateMismatch,
    /// A representative without power or documents.
    #[error("a representative needs a general notarial power and both identity documents")]
    RepresentationNotAccredited,
    /// Missing or malformed contact data.
    #[error("contact data: {0}")]
    InvalidContact(&'static str),
    /// A command that does not fit the account's stage.
    #[error("not possible while the account is {0}")]
    WrongStage(&'static str),
    /// Login on a locked account (the fourth attempt and after).
    #[error("the account is locked after three wrong passwords: unlock it in person or with an electronic certificate")]
    AccountLocked,
    /// Login with an expired password.
    #[error("the password expired after a year without use: recover it")]
    PasswordExpired,
    /// Online recovery while locked.
    #[error("a locked account cannot recover its password online: go in person or use an electronic certificate")]
    RecoveryWhileLocked,
    /// Personal data changed other than in person.
    #[error("personal data given at registration can only be changed in person")]
    DataChangeOnlyInPerson,
    /// The expiry timer of a password used since.
    #[error("the password was used since; it does not expire yet")]
    NotExpired,
    /// A PIN without a verified mobile.
    #[error("a PIN needs a verified mobile phone")]
    MobileNotVerified,
}

/// A person's age in whole years on a day.
pub(crate) fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

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

/// When the expiry timer fires: the day after one full year without use.
fn expiry_day(last_used: DateTime<Utc>) -> NaiveDate {
    let day = last_used.date_naive();
    let year_later = day.checked_add_months(Months::new(12)).unwrap_or(day);
    year_later.succ_opt().unwrap_or(year_later)
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
                },
            ) => {
                match &applicant {
                    Applicant::Legal { nif, .. } => {
                        if !matches!(
                            channel,
                            Channel::OnlineWithCertificate | Channel::OnlineWithoutCertificate
                        ) {
                            return Err(Refusal::LegalPersonOnlyOnline);
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
            (_, Command::Register { .. }) => Err(Refusal::AlreadyRegistered),
            (S::AwaitingEmailConfirmation, Command::ConfirmEmail { at }) => {
                Ok(vec![Event::PasswordSet { at }])
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
            (S::AwaitingPassword, Command::SetPassword { at }) => {
                Ok(vec![Event::PasswordSet { at }])
            }
            (S::Locked, Command::Login { .. }) => Err(Refusal::AccountLocked),
            (S::Expired, Command::Login { .. }) => Err(Refusal::PasswordExpired),
            (
                S::Active,
                Command::Login {
                    password_correct: true,
                    at,
                },
            ) => Ok(vec![Event::LoggedIn { at }]),
            (
                S::Active,
                Command::Login {
                    password_correct: false,
                    at,
                },
            ) => {
                let consecutive = state.consecutive_failures.saturating_add(1);
                let mut events = vec![Event::LoginFailed { consecutive, at }];
                if consecutive >= MAX_CONSECUTIVE_FAILURES {
                    events.push(Event::Locked { at });
                }
                Ok(events)
            }
            (S::Active, Command::ExpirePassword { at, today }) => {
                let used = state.last_used.map(expiry_day);
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
            (S::Active, Command::RequestPin { at }) => {
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
            Event::Registered {
                channel, applicant, ..
            } => {
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
            Event::PasswordSet { at } | Event::LoggedIn { at } => {
                state.stage = Stage::Active;
                state.consecutive_failures = 0;
                state.last_used = Some(at);
            }
            Event::LoginFailed { consecutive, .. } => state.consecutive_failures = consecutive,
            Event::Locked { .. } => state.stage = Stage::Locked,
            Event::Unlocked { .. } => {
                state.stage = Stage::Active;
                state.consecutive_failures = 0;
            }
            Event::PasswordExpired { .. } => state.stage = Stage::Expired,
            Event::ContactChanged { .. } => state.mobile_verified = false,
            Event::MobileVerified { .. } => state.mobile_verified = true,
        }
        state
    }
}

impl Procedure for UserAccount {
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
            Event::PasswordSet { at } => vec![
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
            Event::PasswordSet { at } | Event::LoggedIn { at } => vec![TimerEffect::Set {
                kind: EXPIRY_TIMER.into(),
                fires_on: expiry_day(*at),
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
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Option<Command> {
        (kind == EXPIRY_TIMER).then_some(Command::ExpirePassword { at: now, today })
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

/// The notice that carries the single-use link of a certificate registration.
pub const NOTICE_EMAIL_CONFIRMATION: &str = "email_confirmation_link";
/// The notice that carries the one-time activation to set a password.
pub const NOTICE_ACTIVATION: &str = "activation_link";
/// The notice that carries a one-time PIN.
pub const NOTICE_PIN: &str = "login_pin";
/// How long a one-time PIN is valid, in minutes.
pub const PIN_MINUTES: i64 = 10;

/// How long a one-time activation link stays valid.
pub const ACTIVATION_DAYS: i64 = 7;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::given;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 10, 0, 0).unwrap()
    }
    fn contact() -> Contact {
        Contact {
            mobile: "+34600111222".into(),
            email: "ana@example.es".into(),
            address: "Calle Mayor 1, 28013 Madrid".into(),
        }
    }
    fn dni() -> IdentityDocument {
        IdentityDocument::Dni {
            number: "12345678Z".parse().unwrap(),
        }
    }
    fn ana(document: IdentityDocument, nationality: Nationality, birth: NaiveDate) -> Applicant {
        Applicant::Natural {
            name: "Ana García".into(),
            birth_date: birth,
            nationality,
            document,
            emancipation_proof: None,
        }
    }
    fn adult() -> Applicant {
        ana(
            dni(),
            Nationality::Spanish,
            NaiveDate::from_ymd_opt(1980, 5, 1).unwrap(),
        )
    }
    fn register(channel: Channel, applicant: Applicant) -> Command {
        Command::Register {
            case_number: "28079/2026/000001".parse().unwrap(),
            sia_code: "999999".parse().unwrap(),
            channel,
            applicant,
            contact: contact(),
            representative: None,
            known_to_council: true,
            document_checked_by: Some("E0001".into()),
            certificate_subject: Some("12345678Z".into()),
            at: at(1),
        }
    }
    fn registered(channel: Channel) -> Event {
        Event::Registered {
            case_number: "28079/2026/000001".parse().unwrap(),
            sia_code: "999999".parse().unwrap(),
            channel,
            applicant: adult(),
            contact: contact(),
            representative: None,
            document_checked_by: Some("E0001".into()),
            at: at(1),
        }
    }
    fn active() -> Vec<Event> {
        vec![
            registered(Channel::InPerson),
            Event::KeyReset {
                by: "E1".into(),
                at: at(1),
            },
            Event::PasswordSet { at: at(2) },
        ]
    }

    #[test]
    fn each_channel_has_its_path_to_an_active_account() {
        // Online with certificate: the e-mail link activates.
        let state = given::<UserAccount>([])
            .when(register(Channel::OnlineWithCertificate, adult()))
            .then([
                registered(Channel::OnlineWithCertificate),
                Event::EmailConfirmationIssued { at: at(1) },
            ]);
        assert_eq!(state.stage, Stage::AwaitingEmailConfirmation);
        given::<UserAccount>([registered(Channel::OnlineWithCertificate)])
            .when(Command::ConfirmEmail { at: at(2) })
            .then([Event::PasswordSet { at: at(2) }]);
        // Online without certificate: verification, key reset, password.
        given::<UserAccount>([])
            .when(register(Channel::OnlineWithoutCertificate, adult()))
            .then([
                registered(Channel::OnlineWithoutCertificate),
                Event::VerificationRequested { at: at(1) },
            ]);
        let verified = Event::IdentityVerified {
            method: VerificationMethod::PhoneControlQuestions,
            by: "E1".into(),
            at: at(2),
        };
        given::<UserAccount>([registered(Channel::OnlineWithoutCertificate)])
            .when(Command::VerifyIdentity {
                method: VerificationMethod::PhoneControlQuestions,
                by: "E1".into(),
                at: at(2),
            })
            .then([verified.clone()]);
        given::<UserAccount>([registered(Channel::OnlineWithoutCertificate)])
            .when(Command::ResetKey {
                by: "E1".into(),
                at: at(2),
            })
            .then_refused(|e| *e == Refusal::WrongStage("awaiting_verification"));
        let state = given::<UserAccount>([registered(Channel::OnlineWithoutCertificate), verified])
            .when(Command::ResetKey {
                by: "E1".into(),
                at: at(3),
            })
            .then([Event::KeyReset {
                by: "E1".into(),
                at: at(3),
            }]);
        assert_eq!(state.stage, Stage::AwaitingPassword);
        // In person and by phone: the key can be reset at once.
        for channel in [Channel::InPerson, Channel::Phone] {
            given::<UserAccount>([])
                .when(register(channel, adult()))
                .then([registered(channel)]);
            let state = given::<UserAccount>([
                registered(channel),
                Event::KeyReset {
                    by: "E1".into(),
                    at: at(1),
                },
            ])
            .when(Command::SetPassword { at: at(2) })
            .then([Event::PasswordSet { at: at(2) }]);
            assert_eq!(state.stage, Stage::Active);
        }
    }

    #[test]
    fn legal_persons_register_online_only() {
        let company = Applicant::Legal {
            name: "Construcciones SL".into(),
            nif: "B12345674".parse().unwrap(),
        };
        for channel in [Channel::InPerson, Channel::Phone] {
            given::<UserAccount>([])
                .when(register(channel, company.clone()))
                .then_refused(|e| *e == Refusal::LegalPersonOnlyOnline);
        }
        let mut online = register(Channel::OnlineWithoutCertificate, company);
        if let Command::Register { applicant, .. } = &mut online {
            *applicant = Applicant::Legal {
                name: "X".into(),
                nif: "12345678Z".parse().unwrap(),
            };
        }
        given::<UserAccount>([])
            .when(online)
            .then_refused(|e| *e == Refusal::NotALegalPersonNif);
    }

    #[test]
    fn minors_only_if_emancipated() {
        let minor = NaiveDate::from_ymd_opt(2009, 6, 1).unwrap(); // 16 on 1 March 2026
        given::<UserAccount>([])
            .when(register(
                Channel::InPerson,
                ana(dni(), Nationality::Spanish, minor),
            ))
            .then_refused(|e| *e == Refusal::MinorNotEmancipated);
        let mut emancipated = ana(dni(), Nationality::Spanish, minor);
        if let Applicant::Natural {
            emancipation_proof, ..
        } = &mut emancipated
        {
            *emancipation_proof = Some("Escritura de emancipación 123/2025".into());
        }
        assert!(given::<UserAccount>([])
            .when(register(Channel::InPerson, emancipated))
            .outcome()
            .is_ok());
        // Turning 18 on the day counts.
        let eighteen_today = NaiveDate::from_ymd_opt(2008, 3, 1).unwrap();
        assert!(given::<UserAccount>([])
            .when(register(
                Channel::InPerson,
                ana(dni(), Nationality::Spanish, eighteen_today)
            ))
            .outcome()
            .is_ok());
    }

    #[test]
    fn the_document_must_fit_the_nationality() {
        let birth = NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
        let nie = IdentityDocument::ResidenceCard {
            number: "X1234567L".parse().unwrap(),
        };
        let passport = IdentityDocument::Passport {
            number: "PAA123456".parse().unwrap(),
        };
        for (document, nationality, ok) in [
            (dni(), Nationality::Spanish, true),
            (passport.clone(), Nationality::Spanish, true),
            (nie.clone(), Nationality::Spanish, false),
            (nie.clone(), Nationality::NonEu, true),
            (passport.clone(), Nationality::NonEu, false),
            (dni(), Nationality::NonEu, false),
            (nie.clone(), Nationality::EuropeanUnion, true),
            (
                IdentityDocument::EuIdentityCard {
                    number: "T22000129".parse().unwrap(),
                },
                Nationality::EuropeanUnion,
                true,
            ),
            (
                IdentityDocument::EuRegistrationCertificate {
                    number: "Y1234567X".parse().unwrap(),
                    passport: "C01X00T47".parse().unwrap(),
                },
                Nationality::EuropeanUnion,
                true,
            ),
            (passport, Nationality::EuropeanUnion, false),
            (
                IdentityDocument::ResidenceCard {
                    number: "12345678Z".parse().unwrap(),
                },
                Nationality::NonEu,
                false,
            ),
        ] {
            let outcome = given::<UserAccount>([])
                .when(register(
                    Channel::Phone,
                    ana(document.clone(), nationality, birth),
                ))
                .outcome();
            match outcome {
                Ok(_) => assert!(ok, "{document:?} for {nationality:?} must be refused"),
                Err(e) => {
                    assert!(!ok, "{document:?} for {nationality:?}: {e}");
                    assert!(matches!(e, Refusal::DocumentNotValidForNationality(_)));
                }
            }
        }
    }

    #[test]
    fn channel_rules() {
        let mut unknown = register(Channel::Phone, adult());
        if let Command::Register {
            known_to_council, ..
        } = &mut unknown
        {
            *known_to_council = false;
        }
        given::<UserAccount>([])
            .when(unknown)
            .then_refused(|e| *e == Refusal::PhoneOnlyForKnownPersons);
        let mut unchecked = register(Channel::InPerson, adult());
        if let Command::Register {
            document_checked_by,
            ..
        } = &mut unchecked
        {
            *document_checked_by = None;
        }
        given::<UserAccount>([])
            .when(unchecked)
            .then_refused(|e| *e == Refusal::DocumentNotChecked);
        let mut other_certificate = register(Channel::OnlineWithCertificate, adult());
        if let Command::Register {
            certificate_subject,
            ..
        } = &mut other_certificate
        {
            *certificate_subject = Some("00000000T".into());
        }
        given::<UserAccount>([])
            .when(other_certificate)
            .then_refused(|e| *e == Refusal::CertificateMismatch);
        given::<UserAccount>([registered(Channel::InPerson)])
            .when(register(Channel::InPerson, adult()))
            .then_refused(|e| *e == Refusal::AlreadyRegistered);
    }

    #[test]
    fn a_representative_needs_power_and_documents() {
        let mut command = register(Channel::InPerson, adult());
        if let Command::Register { representative, .. } = &mut command {
            *representative = Some(Representative {
                name: "Luis Pérez".into(),
                document: IdentityDocument::Dni {
                    number: "00000000T".parse().unwrap(),
                },
                notarial_power: String::new(),
                both_documents_presented: true,
            });
        }
        given::<UserAccount>([])
            .when(command.clone())
            .then_refused(|e| *e == Refusal::RepresentationNotAccredited);
        if let Command::Register {
            representative: Some(r),
            ..
        } = &mut command
        {
            r.notarial_power = "Protocolo 1234/2025".into();
        }
        let events = given::<UserAccount>([]).when(command).outcome().unwrap();
        let effects = UserAccount::case_effects(&events[0]);
        let CaseEffect::Opened { parties, .. } = &effects[0] else {
            panic!()
        };
        assert_eq!(
            parties.len(),
            2,
            "both the person and the representative are parties"
        );
    }

    #[test]
    fn contact_data_is_required() {
        for (mobile, email, address) in [
            ("", "a@b.es", "Calle Mayor 1"),
            ("+34910000000", "a@b.es", "Calle Mayor 1"),
            ("+34600111222", "not-an-email", "Calle Mayor 1"),
            ("+34600111222", "a@b.es", ""),
        ] {
            let mut command = register(Channel::InPerson, adult());
            if let Command::Register { contact, .. } = &mut command {
                *contact = Contact {
                    mobile: mobile.into(),
                    email: email.into(),
                    address: address.into(),
                };
            }
            given::<UserAccount>([])
                .when(command)
                .then_refused(|e| matches!(e, Refusal::InvalidContact(_)));
        }
    }

    #[test]
    fn three_wrong_passwords_lock_and_a_right_one_resets_the_count() {
        let fail = |n: u8| Event::LoginFailed {
            consecutive: n,
            at: at(3),
        };
        let mut history = active();
        history.push(fail(1));
        history.push(fail(2));
        given::<UserAccount>(history.clone())
            .when(Command::Login {
                password_correct: true,
                at: at(3),
            })
            .then([Event::LoggedIn { at: at(3) }]);
        let state = given::<UserAccount>(history.clone())
            .when(Command::Login {
                password_correct: false,
                at: at(3),
            })
            .then([fail(3), Event::Locked { at: at(3) }]);
        assert_eq!(state.stage, Stage::Locked);
        // After a success the count starts again.
        let mut reset = history.clone();
        reset.push(Event::LoggedIn { at: at(3) });
        given::<UserAccount>(reset)
            .when(Command::Login {
                password_correct: false,
                at: at(4),
            })
            .then([Event::LoginFailed {
                consecutive: 1,
                at: at(4),
            }]);
        // The fourth attempt, even with the right password, is refused.
        history.push(fail(3));
        history.push(Event::Locked { at: at(3) });
        given::<UserAccount>(history)
            .when(Command::Login {
                password_correct: true,
                at: at(4),
            })
            .then_refused(|e| *e == Refusal::AccountLocked);
    }

    #[test]
    fn locked_accounts_recover_only_in_person_or_with_a_certificate() {
        let mut locked = active();
        locked.push(Event::Locked { at: at(3) });
        given::<UserAccount>(locked.clone())
            .when(Command::RequestRecovery {
                channel: RequestChannel::Online,
                at: at(4),
            })
            .then_refused(|e| *e == Refusal::RecoveryWhileLocked);
        given::<UserAccount>(locked.clone())
            .when(Command::RequestRecovery {
                channel: RequestChannel::Certificate,
                at: at(4),
            })
            .then([
                Event::Unlocked {
                    channel: UnlockChannel::Certificate,
                    at: at(4),
                },
                Event::RecoveryRequested {
                    channel: RequestChannel::Certificate,
                    at: at(4),
                },
            ]);
        given::<UserAccount>(locked)
            .when(Command::Unlock {
                channel: UnlockChannel::InPerson,
                at: at(4),
            })
            .then([Event::Unlocked {
                channel: UnlockChannel::InPerson,
                at: at(4),
            }]);
        given::<UserAccount>(active())
            .when(Command::RequestRecovery {
                channel: RequestChannel::Online,
                at: at(4),
            })
            .then([Event::RecoveryRequested {
                channel: RequestChannel::Online,
                at: at(4),
            }]);
    }

    #[test]
    fn personal_data_changes_in_person_only() {
        let mut new = contact();
        new.email = "ana.garcia@example.es".into();
        for channel in [RequestChannel::Online, RequestChannel::Certificate] {
            given::<UserAccount>(active())
                .when(Command::ChangeContact {
                    contact: new.clone(),
                    channel,
                    at: at(5),
                })
                .then_refused(|e| *e == Refusal::DataChangeOnlyInPerson);
        }
        given::<UserAccount>(active())
            .when(Command::ChangeContact {
                contact: new.clone(),
                channel: RequestChannel::InPerson,
                at: at(5),
            })
            .then([Event::ContactChanged {
                contact: new,
                at: at(5),
            }]);
    }

    #[test]
    fn a_password_unused_for_a_year_expires() {
        let set = at(2);
        let effects = UserAccount::timer_effects(&Event::PasswordSet { at: set });
        assert_eq!(
            effects,
            vec![TimerEffect::Set {
                kind: EXPIRY_TIMER.into(),
                fires_on: NaiveDate::from_ymd_opt(2027, 3, 3).unwrap(),
                data: serde_json::json!({}),
            }]
        );
        let a_year_later = Utc.with_ymd_and_hms(2027, 3, 3, 0, 0, 0).unwrap();
        let state = given::<UserAccount>(active())
            .when(
                UserAccount::timer_command(
                    EXPIRY_TIMER,
                    &serde_json::json!({}),
                    a_year_later,
                    a_year_later.date_naive(),
                )
                .unwrap(),
            )
            .then([Event::PasswordExpired { at: a_year_later }]);
        assert_eq!(state.stage, Stage::Expired);
        let mut expired = active();
        expired.push(Event::PasswordExpired { at: a_year_later });
        given::<UserAccount>(expired)
            .when(Command::Login {
                password_correct: true,
                at: a_year_later,
            })
            .then_refused(|e| *e == Refusal::PasswordExpired);
        // A stale timer (the password was used since) expires nothing.
        let mut used = active();
        used.push(Event::LoggedIn { at: at(20) });
        given::<UserAccount>(used)
            .when(Command::ExpirePassword {
                at: a_year_later,
                today: a_year_later.date_naive(),
            })
            .then_refused(|e| *e == Refusal::NotExpired);
    }

    #[test]
    fn a_pin_needs_a_verified_mobile() {
        given::<UserAccount>(active())
            .when(Command::RequestPin { at: at(3) })
            .then_refused(|e| *e == Refusal::MobileNotVerified);
        let mut verified = active();
        verified.push(Event::MobileVerified { at: at(3) });
        given::<UserAccount>(verified)
            .when(Command::RequestPin { at: at(3) })
            .then([Event::PinIssued { at: at(3) }]);
    }

    #[test]
    fn no_event_carries_a_secret() {
        for event in active() {
            let json = serde_json::to_string(&event).unwrap().to_lowercase();
            for word in ["password\":", "token", "pin\":", "hash"] {
                assert!(!json.contains(word), "{json}");
            }
        }
    }
}
