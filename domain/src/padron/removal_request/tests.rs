//! The removal request's rules, given past events, when a command, then the events or the refusal.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{NamedPerson, RemovalRequest, RequestCommand, RequestEvent, RequestRefusal};
use crate::lpac::notification::{ActKind, Outcome, TOOK_EFFECT};
use crate::lpac::{Appeal, Reasons, RegistryEntry, SubmissionKind};
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
        on: d(3, 2),
        answer_due: d(6, 2),
    }
}
fn grounds() -> Reasons {
    Reasons::try_from("La persona figura inscrita en otro domicilio".to_owned()).unwrap()
}
fn declined(notification: Uuid) -> RequestEvent {
    RequestEvent::Declined {
        grounds: grounds(),
        appeals: Appeal::ending_administrative_route("la Alcaldía"),
        notification,
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
}

#[test]
fn a_caseworker_opens_a_file_from_it_or_declines_it_once() {
    let file = Uuid::from_u128(5);
    let state = given::<RemovalRequest>([submitted()])
        .when(RequestCommand::RecordFileOpened { file, on: d(3, 4) })
        .then([RequestEvent::FileOpened { file, on: d(3, 4) }]);
    assert_eq!(state.file, Some(file));
    let notification = Uuid::from_u128(9);
    given::<RemovalRequest>([submitted(), RequestEvent::FileOpened { file, on: d(3, 4) }])
        .when(RequestCommand::Decline {
            grounds: grounds(),
            appeals: Vec::new(),
            notification,
            on: d(3, 5),
        })
        .then_refused(|r| *r == RequestRefusal::Examined("file_opened"));
    given::<RemovalRequest>([submitted(), declined(notification)])
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
fn the_refusal_is_notified_to_the_requester_once() {
    let notification = Uuid::from_u128(9);
    let took_effect = RequestCommand::RecordNotificationEffect {
        notification,
        outcome: Outcome::Accessed,
        on: d(3, 12),
    };
    given::<RemovalRequest>([submitted()])
        .when(RequestCommand::Decline {
            grounds: grounds(),
            appeals: Appeal::ending_administrative_route("la Alcaldía"),
            notification,
            on: d(3, 10),
        })
        .then([declined(notification)]);
    given::<RemovalRequest>([submitted(), declined(notification)])
        .when(took_effect.clone())
        .then([RequestEvent::DeclineNotified {
            notification,
            outcome: Outcome::Accessed,
            on: d(3, 12),
        }]);
    given::<RemovalRequest>([
        submitted(),
        declined(notification),
        RequestEvent::DeclineNotified {
            notification,
            outcome: Outcome::Accessed,
            on: d(3, 12),
        },
    ])
    .when(took_effect)
    .then_refused(|r| *r == RequestRefusal::OtherNotification);
    given::<RemovalRequest>([submitted(), declined(notification)])
        .when(RequestCommand::RecordNotificationEffect {
            notification: Uuid::from_u128(10),
            outcome: Outcome::Accessed,
            on: d(3, 12),
        })
        .then_refused(|r| *r == RequestRefusal::OtherNotification);
}

#[test]
fn the_requester_sees_it_examined_with_the_three_months_to_answer_and_then_its_outcome() {
    let effects = RemovalRequest::case_effects(&submitted());
    assert!(
        matches!(&effects[0], CaseEffect::Opened { parties, .. } if parties == &vec![requester()])
    );
    assert!(effects.contains(&CaseEffect::ResolutionDue(Some(d(6, 2)))));
    let closed = RemovalRequest::case_effects(&declined(Uuid::nil()));
    assert!(closed
        .iter()
        .any(|e| matches!(e, CaseEffect::Closed { state, .. } if state == "declined")));
    assert_eq!(
        RemovalRequest::registry_entries(&submitted()),
        vec![entry()]
    );
}

#[test]
fn the_refusals_notification_reaches_the_request_by_its_follow_up() {
    let notification = Uuid::from_u128(9);
    let calendar = crate::calendar::HolidayCalendar::bundled();
    let context = crate::procedure::TimerContext {
        now: d(3, 12).and_hms_opt(9, 0, 0).unwrap().and_utc(),
        today: d(3, 12),
        calendar: &calendar,
        seat: "28079",
    };
    let data = serde_json::to_value(crate::lpac::notification::Effect {
        notification,
        act: ActKind::Resolution,
        outcome: Outcome::Rejected,
        on: d(3, 20),
    })
    .unwrap();
    assert_eq!(
        RemovalRequest::timer_command(
            &format!("{TOOK_EFFECT}/{notification}"),
            &data,
            &Default::default(),
            &context
        ),
        Some(RequestCommand::RecordNotificationEffect {
            notification,
            outcome: Outcome::Rejected,
            on: d(3, 20),
        })
    );
}
