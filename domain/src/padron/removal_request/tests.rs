//! The removal request's rules, given past events, when a command, then the events or the refusal.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{NamedPerson, RemovalRequest, RequestCommand, RequestEvent, RequestRefusal};
use crate::lpac::{Reasons, RegistryEntry, SubmissionKind};
use crate::procedure::{CaseEffect, CaseParty, PartyRole, Procedure};
use crate::testing::given;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).unwrap()
}
fn entry() -> RegistryEntry {
    let at = d(3, 2).and_hms_opt(9, 0, 0).unwrap().and_utc();
    RegistryEntry {
        number: crate::values::RegistryNumber::new(
            &"28079".parse().unwrap(),
            2026,
            crate::values::RegistryDirection::In,
            7,
        )
        .unwrap(),
        kind: SubmissionKind::Application,
        presented_at: at,
        counts_from: at,
        verification_code: "ABCDEFGHJKMNPQRSTVWX".parse().unwrap(),
    }
}
fn requester() -> CaseParty {
    CaseParty {
        document: "12345678Z".parse().unwrap(),
        name: "Ana García".into(),
        role: PartyRole::Interested,
    }
}
fn submit(whereabouts: &str) -> RequestCommand {
    RequestCommand::Submit {
        entry: entry(),
        case_number: "28079/2026/000011".parse().unwrap(),
        sia_code: "999999".parse().unwrap(),
        requester: requester(),
        person: NamedPerson {
            name: "Bilal Haddad".into(),
            document: None,
        },
        address: "Calle Mayor 1, 2º".into(),
        whereabouts: whereabouts.into(),
        declared_true: true,
        on: d(3, 2),
        answer_due: d(6, 2),
    }
}
fn submitted() -> RequestEvent {
    RequestEvent::Submitted {
        entry: entry(),
        case_number: "28079/2026/000011".parse().unwrap(),
        sia_code: "999999".parse().unwrap(),
        requester: requester(),
        person: NamedPerson {
            name: "Bilal Haddad".into(),
            document: None,
        },
        address: "Calle Mayor 1, 2º".into(),
        whereabouts: "vive en Getafe desde 2025".into(),
        declared_true: true,
        on: d(3, 2),
        answer_due: d(6, 2),
    }
}
fn grounds() -> Reasons {
    Reasons::try_from("La persona figura inscrita en otro domicilio".to_owned()).unwrap()
}
fn declined() -> RequestEvent {
    RequestEvent::Declined {
        grounds: grounds(),
        on: d(3, 10),
    }
}

#[test]
fn a_request_is_submitted_with_what_is_known_of_the_whereabouts() {
    given::<RemovalRequest>([])
        .when(submit("vive en Getafe desde 2025"))
        .then([submitted()]);
    given::<RemovalRequest>([])
        .when(submit("  "))
        .then_refused(|r| *r == RequestRefusal::WhereaboutsMissing);
    let mut undeclared = submit("vive en Getafe desde 2025");
    if let RequestCommand::Submit { declared_true, .. } = &mut undeclared {
        *declared_true = false;
    }
    given::<RemovalRequest>([])
        .when(undeclared)
        .then_refused(|r| *r == RequestRefusal::NotDeclaredTrue);
}

#[test]
fn a_caseworker_opens_a_file_from_it_or_declines_it_once() {
    let file = Uuid::from_u128(5);
    let state = given::<RemovalRequest>([submitted()])
        .when(RequestCommand::RecordFileOpened { file, on: d(3, 4) })
        .then([
            RequestEvent::Examined { on: d(3, 4) },
            RequestEvent::FileOpened { file, on: d(3, 4) },
        ]);
    assert_eq!(state.file, Some(file));
    given::<RemovalRequest>([submitted()])
        .when(RequestCommand::Decline {
            grounds: grounds(),
            on: d(3, 10),
        })
        .then([RequestEvent::Examined { on: d(3, 10) }, declined()]);
    given::<RemovalRequest>([submitted(), RequestEvent::FileOpened { file, on: d(3, 4) }])
        .when(RequestCommand::Decline {
            grounds: grounds(),
            on: d(3, 5),
        })
        .then_refused(|r| *r == RequestRefusal::Examined("file_opened"));
    given::<RemovalRequest>([submitted(), declined()])
        .when(RequestCommand::RecordFileOpened { file, on: d(3, 11) })
        .then_refused(|r| *r == RequestRefusal::Examined("declined"));
    given::<RemovalRequest>([])
        .when(RequestCommand::RecordFileOpened { file, on: d(3, 4) })
        .then_refused(|r| *r == RequestRefusal::NotSubmitted);
    given::<RemovalRequest>([submitted()])
        .when(submit("otra vez"))
        .then_refused(|r| *r == RequestRefusal::AlreadySubmitted);
}

#[test]
fn the_requester_sees_it_examined_the_same_way_whatever_was_decided() {
    let effects = RemovalRequest::case_effects(&submitted());
    assert!(
        matches!(&effects[0], CaseEffect::Opened { parties, .. } if parties == &vec![requester()])
    );
    assert!(effects.contains(&CaseEffect::ResolutionDue(Some(d(6, 2)))));
    let closed_as = |event: &RequestEvent| {
        RemovalRequest::case_effects(event)
            .into_iter()
            .find_map(|e| match e {
                CaseEffect::Closed { state, .. } => Some(state),
                _ => None,
            })
    };
    // What a citizen's view is rebuilt from (the outcome's own event is withheld from them).
    assert_eq!(
        closed_as(&RequestEvent::Examined { on: d(3, 4) }).as_deref(),
        Some("examined")
    );
    assert_eq!(closed_as(&declined()).as_deref(), Some("declined"));
    assert_eq!(
        RemovalRequest::registry_entries(&submitted()),
        vec![entry()]
    );
}
