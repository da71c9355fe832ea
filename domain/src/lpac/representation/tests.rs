//! Representation: given past events, when a command, then the events or the refusal.

use chrono::{DateTime, NaiveDate, Utc};

use super::*;
use crate::lpac::SubmissionKind;
use crate::testing::given;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
fn at() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().unwrap()
}
fn ana() -> Person {
    Person {
        document: "12345678Z".parse().unwrap(),
        name: "Ana García".into(),
    }
}
fn luis() -> Person {
    Person {
        document: "00000000T".parse().unwrap(),
        name: "Luis Pérez".into(),
    }
}
fn grant(means: Means, until: &str) -> Command {
    Command::Grant {
        principal: ana(),
        representative: luis(),
        scope: Scope::AllProcedures,
        means,
        evidence: None,
        from: d("2026-03-02"),
        until: d(until),
        entry: None,
        at: at(),
    }
}
fn granted() -> Event {
    Event::Granted {
        principal: ana(),
        representative: luis(),
        scope: Scope::AllProcedures,
        means: Means::ApudActaInPerson,
        evidence: None,
        from: d("2026-03-02"),
        until: d("2031-03-02"),
        entry: None,
        at: at(),
    }
}

#[test]
fn apud_acta_in_person_is_recorded_for_up_to_five_years() {
    let state = given::<Representation>([])
        .when(grant(Means::ApudActaInPerson, "2031-03-02"))
        .then([granted()]);
    assert_eq!(state.stage, Stage::Recorded);
}

#[test]
fn more_than_five_years_or_a_last_day_before_the_first_is_refused() {
    for until in ["2031-03-03", "2026-03-01"] {
        given::<Representation>([])
            .when(grant(Means::ApudActaInPerson, until))
            .then_refused(|r| *r == Refusal::Validity);
    }
}

#[test]
fn nobody_represents_themselves() {
    let mut command = grant(Means::ApudActaInPerson, "2027-03-02");
    if let Command::Grant { representative, .. } = &mut command {
        *representative = ana();
    }
    given::<Representation>([])
        .when(command)
        .then_refused(|r| *r == Refusal::SelfRepresentation);
}

#[test]
fn a_power_shown_says_what_was_shown() {
    given::<Representation>([])
        .when(grant(Means::PowerShown, "2027-03-02"))
        .then_refused(|r| *r == Refusal::EvidenceMissing);
    let mut command = grant(Means::PowerShown, "2027-03-02");
    if let Command::Grant { evidence, .. } = &mut command {
        *evidence = Some("  Escritura del notario Juan Ruiz, protocolo 1234  ".into());
    }
    let events = given::<Representation>([]).when(command).outcome().unwrap();
    assert!(matches!(
        &events[0],
        Event::Granted { evidence: Some(e), .. } if e == "Escritura del notario Juan Ruiz, protocolo 1234"
    ));
}

#[test]
fn an_online_apud_acta_is_entered_in_the_registry() {
    given::<Representation>([])
        .when(grant(Means::ApudActaOnline, "2027-03-02"))
        .then_refused(|r| *r == Refusal::EntryMissing);
    let entry = RegistryEntry {
        number: "28079/2026/E/0000001".parse().unwrap(),
        kind: SubmissionKind::Representation,
        presented_at: at(),
        counts_from: at(),
        verification_code: "ABCDEFGHJKMNPQRSTVWX".parse().unwrap(),
    };
    let mut command = grant(Means::ApudActaOnline, "2027-03-02");
    if let Command::Grant { entry: e, .. } = &mut command {
        *e = Some(entry.clone());
    }
    let events = given::<Representation>([]).when(command).outcome().unwrap();
    assert_eq!(Representation::registry_entries(&events[0]), vec![entry]);
}

#[test]
fn a_scope_names_a_procedure_or_covers_all() {
    let mut command = grant(Means::ApudActaInPerson, "2027-03-02");
    if let Command::Grant { scope, .. } = &mut command {
        *scope = Scope::Procedures(vec![]);
    }
    given::<Representation>([])
        .when(command)
        .then_refused(|r| *r == Refusal::EmptyScope);
    let some = Scope::Procedures(vec!["general_application".into()]);
    assert!(some.covers("general_application"));
    assert!(!some.covers("padron_removal_file"));
    assert!(Scope::AllProcedures.covers("padron_removal_file"));
}

#[test]
fn revoked_once_and_not_granted_twice() {
    let revoked = Event::Revoked {
        reason: None,
        at: at(),
    };
    given::<Representation>([granted()])
        .when(Command::Revoke {
            reason: Some("  ".into()),
            at: at(),
        })
        .then([revoked.clone()]);
    given::<Representation>([granted(), revoked])
        .when(Command::Revoke {
            reason: None,
            at: at(),
        })
        .then_refused(|r| *r == Refusal::AlreadyRevoked);
    given::<Representation>([granted()])
        .when(grant(Means::ApudActaInPerson, "2027-03-02"))
        .then_refused(|r| *r == Refusal::AlreadyRecorded);
    given::<Representation>([])
        .when(Command::Revoke {
            reason: None,
            at: at(),
        })
        .then_refused(|r| *r == Refusal::NotRecorded);
}
