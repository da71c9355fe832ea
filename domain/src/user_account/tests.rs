//! The account's rules, given past events, when a command, then the events or the refusal.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::procedure::DomainEvent;
use crate::testing::given;

fn on(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
}
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
        entry: None,
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
        entry: None,
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
        Event::PasswordSet {
            at: at(2),
            on: Some(on(2)),
        },
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
        .when(Command::ConfirmEmail {
            at: at(2),
            on: on(2),
        })
        .then([Event::PasswordSet {
            at: at(2),
            on: Some(on(2)),
        }]);
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
        .when(Command::SetPassword {
            at: at(2),
            on: on(2),
        })
        .then([Event::PasswordSet {
            at: at(2),
            on: Some(on(2)),
        }]);
        assert_eq!(state.stage, Stage::Active);
    }
}

#[test]
fn legal_persons_register_online_with_a_certificate_only() {
    // Seed 000: online means with an electronic certificate; in person is for natural persons.
    let company = Applicant::Legal {
        name: "Construcciones SL".into(),
        nif: "B12345674".parse().unwrap(),
    };
    for channel in [
        Channel::InPerson,
        Channel::Phone,
        Channel::OnlineWithoutCertificate,
    ] {
        given::<UserAccount>([])
            .when(register(channel, company.clone()))
            .then_refused(|e| *e == Refusal::LegalPersonWithCertificateOnly);
    }
    let mut certified = register(Channel::OnlineWithCertificate, company.clone());
    if let Command::Register {
        certificate_subject,
        ..
    } = &mut certified
    {
        *certificate_subject = Some("B12345674".into());
    }
    assert!(given::<UserAccount>([]).when(certified).outcome().is_ok());
    let mut online = register(Channel::OnlineWithCertificate, company);
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
        session: Some("s1".into()),
    };
    let mut history = active();
    history.push(fail(1));
    history.push(fail(2));
    given::<UserAccount>(history.clone())
        .when(Command::Login {
            password_correct: true,
            at: at(3),
            on: at(3).date_naive(),
            session: "s1".into(),
        })
        .then([Event::LoggedIn {
            at: at(3),
            on: Some(on(3)),
        }]);
    let state = given::<UserAccount>(history.clone())
        .when(Command::Login {
            password_correct: false,
            at: at(3),
            on: at(3).date_naive(),
            session: "s1".into(),
        })
        .then([fail(3), Event::Locked { at: at(3) }]);
    assert_eq!(state.stage, Stage::Locked);
    // After a success the count starts again.
    let mut reset = history.clone();
    reset.push(Event::LoggedIn {
        at: at(3),
        on: Some(on(3)),
    });
    given::<UserAccount>(reset)
        .when(Command::Login {
            password_correct: false,
            at: at(4),
            on: at(4).date_naive(),
            session: "s1".into(),
        })
        .then([Event::LoginFailed {
            consecutive: 1,
            at: at(4),
            session: Some("s1".into()),
        }]);
    // The fourth attempt, even with the right password, is refused.
    history.push(fail(3));
    history.push(Event::Locked { at: at(3) });
    given::<UserAccount>(history)
        .when(Command::Login {
            password_correct: true,
            at: at(4),
            on: at(4).date_naive(),
            session: "s1".into(),
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
    let effects = UserAccount::timer_effects(&Event::PasswordSet { at: set, on: None });
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
            crate::testing::fire::<UserAccount>(
                EXPIRY_TIMER,
                &serde_json::json!({}),
                &State::default(),
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
            on: a_year_later.date_naive(),
            session: "s1".into(),
        })
        .then_refused(|e| *e == Refusal::PasswordExpired);
    // A stale timer (the password was used since) expires nothing.
    let mut used = active();
    used.push(Event::LoggedIn {
        at: at(20),
        on: Some(on(20)),
    });
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

#[test]
fn event_types_are_the_names_stored_in_the_log() {
    for (event, name) in [
        (registered(Channel::InPerson), "registered"),
        (
            Event::EmailConfirmationIssued { at: at(1) },
            "email_confirmation_issued",
        ),
        (
            Event::VerificationRequested { at: at(1) },
            "verification_requested",
        ),
        (
            Event::IdentityVerified {
                method: VerificationMethod::InPersonDocument,
                by: "E1".into(),
                at: at(2),
            },
            "identity_verified",
        ),
        (
            Event::KeyReset {
                by: "E1".into(),
                at: at(2),
            },
            "key_reset",
        ),
        (
            Event::PasswordSet {
                at: at(2),
                on: Some(on(2)),
            },
            "password_set",
        ),
        (
            Event::LoggedIn {
                at: at(3),
                on: Some(on(3)),
            },
            "logged_in",
        ),
        (
            Event::LoginFailed {
                consecutive: 1,
                at: at(3),
                session: Some("s1".into()),
            },
            "login_failed",
        ),
        (Event::Locked { at: at(3) }, "locked"),
        (
            Event::Unlocked {
                channel: UnlockChannel::InPerson,
                at: at(4),
            },
            "unlocked",
        ),
        (Event::PasswordExpired { at: at(4) }, "password_expired"),
        (
            Event::RecoveryRequested {
                channel: RequestChannel::InPerson,
                at: at(4),
            },
            "recovery_requested",
        ),
        (
            Event::ContactChanged {
                contact: contact(),
                at: at(5),
            },
            "contact_changed",
        ),
        (Event::MobileVerified { at: at(5) }, "mobile_verified"),
        (Event::PinIssued { at: at(5) }, "pin_issued"),
    ] {
        assert_eq!(event.event_type(), name);
        assert_eq!(serde_json::to_value(&event).unwrap()["type"], name);
    }
}

#[test]
fn wrong_passwords_lock_only_when_consecutive_in_one_login_session() {
    // Seed 000: three consecutive wrong attempts in the same session. Attempts from another
    // device, or after half an hour, start a new session: a holder's own mistakes on other days
    // do not add up, nor do a stranger's with theirs.
    let login = |session: &str, at: DateTime<Utc>| Command::Login {
        password_correct: false,
        at,
        on: at.date_naive(),
        session: session.into(),
    };
    let failed = |n: u8, session: &str, at: DateTime<Utc>| Event::LoginFailed {
        consecutive: n,
        at,
        session: Some(session.into()),
    };
    let t = at(3);
    let mut history = active();
    history.push(failed(1, "home", t));
    history.push(failed(2, "home", t + chrono::Duration::minutes(1)));
    // Another device: a session of its own.
    given::<UserAccount>(history.clone())
        .when(login("elsewhere", t + chrono::Duration::minutes(2)))
        .then([failed(1, "elsewhere", t + chrono::Duration::minutes(2))]);
    // The same device 31 minutes after its last attempt: a new session.
    given::<UserAccount>(history.clone())
        .when(login("home", t + chrono::Duration::minutes(32)))
        .then([failed(1, "home", t + chrono::Duration::minutes(32))]);
    // The third in the session locks.
    let state = given::<UserAccount>(history)
        .when(login("home", t + chrono::Duration::minutes(30)))
        .then([
            failed(3, "home", t + chrono::Duration::minutes(30)),
            Event::Locked {
                at: t + chrono::Duration::minutes(30),
            },
        ]);
    assert_eq!(state.stage, Stage::Locked);
}

#[test]
fn a_pin_login_is_not_a_use_of_the_password() {
    let mut history = active();
    history.push(Event::MobileVerified { at: at(3) });
    let state = given::<UserAccount>(history.clone())
        .when(Command::LoginWithPin { at: at(20) })
        .then([Event::LoggedInWithPin { at: at(20) }]);
    assert_eq!(state.last_used, Some(at(2)), "the password's year runs on");
    assert!(UserAccount::timer_effects(&Event::LoggedInWithPin { at: at(20) }).is_empty());
    // The PIN still works once the password expired; not while the account is locked.
    let mut expired = history.clone();
    expired.push(Event::PasswordExpired { at: at(25) });
    assert!(given::<UserAccount>(expired)
        .when(Command::LoginWithPin { at: at(26) })
        .outcome()
        .is_ok());
    let mut locked = history;
    locked.push(Event::Locked { at: at(25) });
    given::<UserAccount>(locked)
        .when(Command::LoginWithPin { at: at(26) })
        .then_refused(|e| *e == Refusal::AccountLocked);
}

#[test]
fn the_year_without_use_counts_from_the_councils_local_date() {
    // 23:30 UTC on 31 March 2026 is already 1 April in Madrid: a year without use ends with
    // 1 April 2027, and the timer fires on 2 April, not on 1 April.
    let late = Utc.with_ymd_and_hms(2026, 3, 31, 23, 30, 0).unwrap();
    let effects = UserAccount::timer_effects(&Event::LoggedIn {
        at: late,
        on: Some(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()),
    });
    assert!(matches!(&effects[..], [TimerEffect::Set { fires_on, .. }]
        if *fires_on == NaiveDate::from_ymd_opt(2027, 4, 2).unwrap()));
}

#[test]
fn an_unverified_online_registration_is_superseded_by_the_holders_verified_one() {
    // Anyone can register a DNI online without a certificate; until the council verifies it,
    // the holder's registration in person or with a certificate wins (no squatting).
    let mut squatter = registered(Channel::OnlineWithoutCertificate);
    if let Event::Registered { contact, .. } = &mut squatter {
        contact.email = "intruso@example.com".into();
    }
    let squat = [squatter, Event::VerificationRequested { at: at(1) }];
    let mut holder = registered(Channel::InPerson);
    if let Event::Registered { at: when, .. } = &mut holder {
        *when = at(2);
    }
    let mut in_person = register(Channel::InPerson, adult());
    if let Command::Register {
        case_number,
        at: when,
        ..
    } = &mut in_person
    {
        // A new number was allocated for it; the file keeps its own.
        *case_number = "28079/2026/000002".parse().unwrap();
        *when = at(2);
    }
    let state = given::<UserAccount>(squat.clone())
        .when(in_person.clone())
        .then([
            Event::RegistrationSuperseded {
                by: Channel::InPerson,
                at: at(2),
            },
            holder,
        ]);
    assert_eq!(state.stage, Stage::AwaitingKey);
    assert_eq!(state.channel, Some(Channel::InPerson));
    // Another unverified registration never supersedes; nor anything once verified.
    given::<UserAccount>(squat.clone())
        .when(register(Channel::OnlineWithoutCertificate, adult()))
        .then_refused(|e| *e == Refusal::AlreadyRegistered);
    let mut verified = squat.to_vec();
    verified.push(Event::IdentityVerified {
        method: VerificationMethod::InPersonDocument,
        by: "E1".into(),
        at: at(2),
    });
    given::<UserAccount>(verified)
        .when(in_person)
        .then_refused(|e| *e == Refusal::AlreadyRegistered);
}

#[test]
fn interleaving_devices_neither_resets_nor_escapes_a_sessions_count() {
    let login = |session: &str, at: DateTime<Utc>| Command::Login {
        password_correct: false,
        at,
        on: at.date_naive(),
        session: session.into(),
    };
    let t = at(3);
    let mut state = active().into_iter().fold(
        State::default(),
        <UserAccount as esrs::Aggregate>::apply_event,
    );
    for (i, session) in ["a", "b", "a", "b"].iter().enumerate() {
        let when = t + chrono::Duration::minutes(i as i64 + 1);
        let events =
            <UserAccount as esrs::Aggregate>::handle_command(&state, login(session, when)).unwrap();
        state = events
            .into_iter()
            .fold(state, <UserAccount as esrs::Aggregate>::apply_event);
    }
    // a: 2, b: 2 — the third from a, interleaved, locks.
    let events = <UserAccount as esrs::Aggregate>::handle_command(
        &state,
        login("a", t + chrono::Duration::minutes(5)),
    )
    .unwrap();
    assert!(matches!(
        &events[..],
        [
            Event::LoginFailed { consecutive: 3, .. },
            Event::Locked { .. }
        ]
    ));
}

#[test]
fn only_the_holders_own_certificate_or_an_office_supersedes() {
    let mut squatter = registered(Channel::OnlineWithoutCertificate);
    if let Event::Registered { contact, .. } = &mut squatter {
        contact.email = "intruso@example.com".into();
    }
    let squat = [squatter, Event::VerificationRequested { at: at(1) }];
    // A certificate of someone else, claiming to represent the holder: refused.
    let mut as_representative = register(Channel::OnlineWithCertificate, adult());
    if let Command::Register {
        certificate_subject,
        ..
    } = &mut as_representative
    {
        *certificate_subject = Some("X1234567L".into());
    }
    given::<UserAccount>(squat.clone())
        .when(as_representative)
        .then_refused(|e| *e == Refusal::AlreadyRegistered);
    // The holder's own certificate: it supersedes.
    let own = register(Channel::OnlineWithCertificate, adult());
    assert!(given::<UserAccount>(squat).when(own).outcome().is_ok());
}
