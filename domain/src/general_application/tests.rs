//! The general application's rules: given past events, when a command, then the events or the
//! refusal. Dates are those a court would use: the application enters the registry on Wednesday
//! 2026-07-01 (Madrid), so the three months end on Thursday 2026-10-01.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::lpac::notification::Delivery;
use crate::lpac::{Appeal, Reasons, SubmissionKind};
use crate::procedure::CitizenAction;
use crate::procedure::{CaseParty, DomainEvent};
use crate::testing::given;
use crate::values::DocumentNumber;

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, day, 10, 0, 0).unwrap()
}
fn date(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}
fn applicant() -> CaseParty {
    CaseParty {
        document: "12345678Z".parse::<DocumentNumber>().unwrap(),
        name: "Ana García".into(),
        role: PartyRole::Interested,
    }
}
fn entry(kind: SubmissionKind, seq: u64, day: u32) -> RegistryEntry {
    RegistryEntry {
        number: crate::values::RegistryNumber::new(
            &"28079".parse().unwrap(),
            2026,
            crate::values::RegistryDirection::In,
            seq,
        )
        .unwrap(),
        kind,
        presented_at: at(day),
        counts_from: at(day),
        verification_code: "ABCDEFGHJKMNPQRSTVWX".parse().unwrap(),
    }
}
fn submitted() -> Event {
    Event::Submitted {
        residence: None,
        case_number: "28079/2026/000001".parse().unwrap(),
        sia_code: "123456".parse().unwrap(),
        parties: vec![applicant()],
        subject: "Poda de un árbol".into(),
        body: "Solicito…".into(),
        at: at(1),
        entry: Some(entry(SubmissionKind::Application, 1, 1)),
        resolution_due: date(10, 1),
        max_time_rule: Some(max_time_rule()),
        notify_by: Some(Delivery::Electronic),
    }
}
/// Three months from the entry (art. 21.3.b).
fn max_time_rule() -> crate::DeadlineRule {
    crate::DeadlineRule::new(date(7, 1), 3, crate::calendar::Unit::Months, None)
}
fn rectification_rule() -> crate::DeadlineRule {
    crate::DeadlineRule::new(
        date(7, 2),
        RECTIFICATION_BUSINESS_DAYS,
        crate::calendar::Unit::BusinessDays,
        None,
    )
}
fn suspended(from: NaiveDate, to: NaiveDate) -> crate::DeadlineRule {
    max_time_rule().suspended(crate::calendar::Suspension::new(from, to).unwrap())
}
fn notification() -> uuid::Uuid {
    uuid::Uuid::from_u128(7)
}
fn submit_command(parties: Vec<CaseParty>) -> Command {
    Command::Submit {
        residence: None,
        case_number: "28079/2026/000001".parse().unwrap(),
        sia_code: "123456".parse().unwrap(),
        parties,
        subject: "Poda de un árbol".into(),
        body: "Solicito…".into(),
        at: at(1),
        entry: entry(SubmissionKind::Application, 1, 1),
        resolution_due: date(10, 1),
        max_time_rule: Some(max_time_rule()),
        notify_by: Delivery::Electronic,
    }
}
// Notified Thursday 2 July: ten business days end on Thursday 16 July; unanswered, the time to
// resolve stood still for the eleven business days from 3 to 17 July, so it ends on 16 October.
fn request_command() -> Command {
    Command::RequestRectification {
        what: "falta el plano".into(),
        at: at(2),
        notification: notification(),
    }
}
fn issued() -> Event {
    Event::RectificationIssued {
        what: "falta el plano".into(),
        at: at(2),
        notification: notification(),
    }
}
fn notified() -> Event {
    Event::RectificationNotified {
        notification: notification(),
        outcome: crate::lpac::notification::Outcome::Accessed,
        what: "falta el plano".into(),
        on: date(7, 2),
        at: Some(at(2)),
        due: date(7, 16),
        rule: rectification_rule(),
        resolution_due_if_unanswered: date(10, 16),
    }
}
/// A request recorded before requests were notification records (read, no longer emitted).
fn legacy_requested() -> Event {
    Event::RectificationRequested {
        residence: None,
        what: "falta el plano".into(),
        at: at(2),
        on: Some(date(7, 2)),
        due: date(7, 16),
        resolution_due_if_unanswered: Some(date(10, 16)),
    }
}
fn rectify(day: u32, resolution_due: NaiveDate) -> Command {
    Command::Rectify {
        note: "adjunto".into(),
        at: at(day),
        entry: entry(SubmissionKind::Rectification, 2, day),
        resolution_due,
        max_time_rule: None,
    }
}
fn rectified(day: u32, resolution_due: NaiveDate) -> Event {
    Event::Rectified {
        note: "adjunto".into(),
        at: at(day),
        entry: Some(entry(SubmissionKind::Rectification, 2, day)),
        resolution_due: Some(resolution_due),
        max_time_rule: None,
    }
}
fn reasons(text: &str) -> Reasons {
    Reasons::try_from(text.to_owned()).unwrap()
}
fn resolve(decision: Decision) -> Command {
    Command::Resolve {
        decision,
        reasons: reasons("según el informe del servicio"),
        appeals: Appeal::ending_administrative_route("la Junta de Gobierno"),
        at: at(20),
    }
}
fn proposed() -> Event {
    Event::DesistimientoProposed {
        at: at(17),
        resolution_due: Some(date(10, 16)),
        max_time_rule: Some(suspended(date(7, 2), date(7, 16))),
    }
}

#[test]
fn submit_opens_the_file_with_its_registry_entry() {
    given::<GeneralApplication>([])
        .when(submit_command(vec![applicant()]))
        .then([submitted()]);
    assert_eq!(
        GeneralApplication::registry_entries(&submitted()),
        vec![entry(SubmissionKind::Application, 1, 1)]
    );
}

#[test]
fn submit_needs_an_interested_party() {
    let mut representative = applicant();
    representative.role = PartyRole::Representative;
    given::<GeneralApplication>([])
        .when(submit_command(vec![representative]))
        .then_refused(|e| matches!(e, Refusal::Incomplete(_)));
}

#[test]
fn submit_twice_is_refused() {
    given::<GeneralApplication>([submitted()])
        .when(submit_command(vec![applicant()]))
        .then_refused(|e| *e == Refusal::AlreadySubmitted);
}

#[test]
fn commands_on_an_empty_stream_are_refused() {
    given::<GeneralApplication>([])
        .when(Command::Withdraw { at: at(2) })
        .then_refused(|e| *e == Refusal::NotSubmitted);
}

#[test]
fn a_request_to_fix_is_notified_before_its_period_runs() {
    // Art. 68.1 with arts. 40-43: the ten days count from the day after the request takes
    // effect, not from the day it is made; until then nothing is suspended.
    let state = given::<GeneralApplication>([submitted()])
        .when(request_command())
        .then([issued()]);
    assert_eq!(state.stage, Stage::AwaitingRectification);
    assert_eq!(state.rectification_due, None);
    assert_eq!(
        state.suspended_on, None,
        "not suspended before it is notified"
    );
    assert!(GeneralApplication::timer_effects(&issued()).is_empty());
    assert!(GeneralApplication::case_effects(&issued())
        .iter()
        .all(|e| !matches!(
            e,
            CaseEffect::CitizenMustAct(Some(_)) | CaseEffect::ResolutionDue(None)
        )));
    given::<GeneralApplication>([submitted(), issued()])
        .when(resolve(Decision::Granted))
        .then_refused(|e| *e == Refusal::RectificationBeingNotified);
    given::<GeneralApplication>([submitted(), issued()])
        .when(request_command())
        .then_refused(|e| *e == Refusal::RectificationBeingNotified);
    given::<GeneralApplication>([submitted(), issued()])
        .when(Command::ExtendRectification {
            at: at(3),
            due: date(7, 23),
            rule: None,
            resolution_due_if_unanswered: date(10, 23),
        })
        .then_refused(|e| *e == Refusal::RectificationBeingNotified);
}

#[test]
fn the_requests_notification_starts_its_period_and_suspends_the_maximum_time() {
    // Opened by the applicant on Thursday 2 July: ten business days in Madrid end on Thursday
    // 16 July; unanswered, the time to resolve stands still for the business days 3 to 16 July
    // and ends on Friday 16 October.
    let effect = crate::lpac::notification::Effect {
        notification: notification(),
        act: crate::lpac::notification::ActKind::RectificationRequest,
        outcome: crate::lpac::notification::Outcome::Accessed,
        on: date(7, 2),
    };
    let waiting = given::<GeneralApplication>([submitted(), issued()])
        .when(Command::Withdraw { at: at(2) })
        .outcome();
    assert!(waiting.is_ok(), "the applicant may still withdraw");
    let state = [submitted(), issued()].into_iter().fold(
        State::default(),
        <GeneralApplication as esrs::Aggregate>::apply_event,
    );
    let command = crate::testing::fire::<GeneralApplication>(
        &crate::lpac::notification::follow_up_kind(notification()),
        &serde_json::to_value(effect).unwrap(),
        &state,
        at(2),
        date(7, 2),
    )
    .expect("the effect is a command of the file");
    assert_eq!(
        command,
        Command::RecordRectificationNotified {
            notification: notification(),
            outcome: crate::lpac::notification::Outcome::Accessed,
            on: date(7, 2),
            at: at(2),
            due: date(7, 16),
            rule: rectification_rule(),
            resolution_due_if_unanswered: date(10, 16),
        }
    );
    let state = given::<GeneralApplication>([submitted(), issued()])
        .when(command)
        .then([notified()]);
    assert_eq!(
        state.suspended_on,
        Some(date(7, 2)),
        "suspended (art. 22.1.a)"
    );
    assert_eq!(state.rectification_due, Some(date(7, 16)));
    assert_eq!(
        GeneralApplication::timer_effects(&notified()),
        vec![
            set_counted(RECTIFICATION_TIMER, date(7, 16), Some(rectification_rule())),
            TimerEffect::Suspend {
                kind: MAXIMUM_TIME_TIMER.into()
            }
        ]
    );
    assert!(
        GeneralApplication::case_effects(&notified()).contains(&CaseEffect::CitizenMustAct(Some(
            CitizenAction {
                what: "Fix the application: falta el plano".into(),
                due: date(7, 16),
            }
        )))
    );
    // Another notification's effect is not this request's.
    given::<GeneralApplication>([submitted(), issued()])
        .when(Command::RecordRectificationNotified {
            notification: uuid::Uuid::from_u128(8),
            outcome: crate::lpac::notification::Outcome::Accessed,
            on: date(7, 2),
            at: at(2),
            due: date(7, 16),
            rule: rectification_rule(),
            resolution_due_if_unanswered: date(10, 16),
        })
        .then_refused(|e| *e == Refusal::NotThisRequest);
}

#[test]
fn the_fix_resumes_the_maximum_time_with_its_suspension_in_the_rule() {
    // Fixed on Friday 10 July: the time stood still six business days (3 to 10 July), so the
    // three months end on Friday 9 October instead of 1 October; the rule carries the
    // suspension, so a calendar change counts both again.
    let state = [submitted(), issued(), notified()].into_iter().fold(
        State::default(),
        <GeneralApplication as esrs::Aggregate>::apply_event,
    );
    let calendar = crate::calendar::HolidayCalendar::bundled();
    let (due, rule) = state
        .resumed_maximum_time(date(7, 2), date(7, 10), &calendar, "28079")
        .unwrap();
    assert_eq!(due, date(10, 9));
    assert_eq!(rule, Some(suspended(date(7, 2), date(7, 10))));
    let fixed = Event::Rectified {
        note: "adjunto".into(),
        at: at(10),
        entry: Some(entry(SubmissionKind::Rectification, 2, 10)),
        resolution_due: Some(due),
        max_time_rule: rule.clone(),
    };
    let state = given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(Command::Rectify {
            note: "adjunto".into(),
            at: at(10),
            entry: entry(SubmissionKind::Rectification, 2, 10),
            resolution_due: due,
            max_time_rule: rule.clone(),
        })
        .then([fixed.clone()]);
    assert_eq!(state.resolution_due, Some(date(10, 9)));
    assert_eq!(state.max_time_rule, rule);
    assert_eq!(
        GeneralApplication::timer_effects(&fixed),
        vec![
            cancel(RECTIFICATION_TIMER),
            set_counted(MAXIMUM_TIME_TIMER, date(10, 9), rule)
        ]
    );
    assert_eq!(
        GeneralApplication::registry_entries(&fixed).len(),
        1,
        "a fix is a submission, entered in the registry"
    );
}

#[test]
fn a_fix_before_the_request_took_effect_ends_it_without_suspending_anything() {
    let state = given::<GeneralApplication>([submitted(), issued()])
        .when(rectify(2, date(10, 1)))
        .then([rectified(2, date(10, 1))]);
    assert_eq!(state.stage, Stage::Submitted);
    assert_eq!(state.resolution_due, Some(date(10, 1)));
    // The notification's later effect finds nothing to start.
    given::<GeneralApplication>([submitted(), issued(), rectified(2, date(10, 1))])
        .when(Command::RecordRectificationNotified {
            notification: notification(),
            outcome: crate::lpac::notification::Outcome::Accessed,
            on: date(7, 3),
            at: at(2),
            due: date(7, 17),
            rule: rectification_rule(),
            resolution_due_if_unanswered: date(10, 16),
        })
        .then_refused(|e| *e == Refusal::NotThisRequest);
}

#[test]
fn a_request_recorded_before_requests_were_notified_still_suspends() {
    let state = [submitted(), legacy_requested()].into_iter().fold(
        State::default(),
        <GeneralApplication as esrs::Aggregate>::apply_event,
    );
    assert_eq!(state.stage, Stage::AwaitingRectification);
    assert_eq!(state.suspended_on, Some(date(7, 2)));
    assert_eq!(state.rectification_due, Some(date(7, 16)));
    assert_eq!(state.rectification_rule, Some(rectification_rule()));
    assert_eq!(state.rectification_what.as_deref(), Some("falta el plano"));
    assert!(matches!(
        &GeneralApplication::timer_effects(&legacy_requested())[0],
        TimerEffect::Set { data, .. } if data["rule"]["amount"] == 10
    ));
}

#[test]
fn a_second_rectification_request_is_refused_while_one_runs() {
    given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(request_command())
        .then_refused(|e| *e == Refusal::RectificationAlreadyRunning(date(7, 16)));
}

#[test]
fn extension_once_and_only_later() {
    let mut fifteen = rectification_rule();
    fifteen.amount = 15;
    let extended = Event::RectificationExtended {
        at: at(3),
        due: date(7, 23),
        rule: Some(fifteen.clone()),
        resolution_due_if_unanswered: Some(date(10, 23)),
    };
    let extend = |due| Command::ExtendRectification {
        at: at(3),
        due,
        rule: Some(fifteen.clone()),
        resolution_due_if_unanswered: date(10, 23),
    };
    let state = given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(extend(date(7, 23)))
        .then([extended.clone()]);
    assert_eq!(state.resolution_due_if_unanswered, Some(date(10, 23)));
    assert_eq!(state.rectification_rule, Some(fifteen.clone()));
    assert_eq!(
        GeneralApplication::timer_effects(&extended),
        vec![set_counted(
            RECTIFICATION_TIMER,
            date(7, 23),
            Some(fifteen.clone())
        )]
    );
    given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(extend(date(7, 15)))
        .then_refused(|e| *e == Refusal::ExtensionNotAllowed);
    given::<GeneralApplication>([submitted(), issued(), notified(), extended])
        .when(extend(date(7, 30)))
        .then_refused(|e| *e == Refusal::ExtensionNotAllowed);
}

#[test]
fn the_period_ends_in_a_proposal_only_after_its_last_local_day() {
    // 22:00 UTC on 16 July is already 17 July in Madrid: the period (last day 16 July) is over.
    let madrid_midnight = Utc.with_ymd_and_hms(2026, 7, 16, 22, 0, 0).unwrap();
    given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(Command::CloseRectificationPeriod {
            due: date(7, 16),
            at: madrid_midnight - chrono::Duration::minutes(1),
            today: date(7, 16),
            resolution_due: None,
            max_time_rule: None,
        })
        .then_refused(|e| *e == Refusal::PeriodStillRunning(date(7, 16)));
    let state = given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(Command::CloseRectificationPeriod {
            due: date(7, 16),
            at: madrid_midnight,
            today: date(7, 17),
            resolution_due: None,
            max_time_rule: None,
        })
        .then([Event::DesistimientoProposed {
            at: madrid_midnight,
            resolution_due: Some(date(10, 16)),
            max_time_rule: Some(suspended(date(7, 2), date(7, 16))),
        }]);
    // Not closed: art. 68.1 wants a resolution, and the time to resolve runs again.
    assert_eq!(state.stage, Stage::DesistimientoProposed);
    assert!(!state.stage.is_closed());
    assert_eq!(state.resolution_due, Some(date(10, 16)));
}

#[test]
fn desistimiento_is_declared_by_a_resolution_with_reasons_and_appeals() {
    given::<GeneralApplication>([submitted(), issued(), notified(), proposed()])
        .when(resolve(Decision::Granted))
        .then_refused(|e| *e == Refusal::DesistimientoPending);
    given::<GeneralApplication>([submitted()])
        .when(resolve(Decision::Desistimiento))
        .then_refused(|e| *e == Refusal::NoDesistimientoProposed);
    let state = given::<GeneralApplication>([submitted(), issued(), notified(), proposed()])
        .when(resolve(Decision::Desistimiento))
        .then([Event::Resolved {
            decision: Decision::Desistimiento,
            grounds: "según el informe del servicio".into(),
            appeals: Appeal::ending_administrative_route("la Junta de Gobierno"),
            at: at(20),
        }]);
    assert_eq!(state.stage, Stage::DeemedWithdrawn);
}

#[test]
fn a_late_fix_before_the_declaration_still_counts() {
    // Art. 73.3: the applicant's act is admitted until the resolution is notified.
    let state = given::<GeneralApplication>([submitted(), issued(), notified(), proposed()])
        .when(rectify(20, date(10, 16)))
        .then([rectified(20, date(10, 16))]);
    assert_eq!(state.stage, Stage::Submitted);
}

#[test]
fn a_stale_timer_is_refused() {
    given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(Command::CloseRectificationPeriod {
            due: date(7, 10),
            at: at(20),
            today: date(7, 20),
            resolution_due: None,
            max_time_rule: None,
        })
        .then_refused(|e| *e == Refusal::StalePeriod(date(7, 10)));
    given::<GeneralApplication>([submitted(), issued(), notified(), rectified(3, date(10, 2))])
        .when(Command::CloseRectificationPeriod {
            due: date(7, 16),
            at: at(20),
            today: date(7, 20),
            resolution_due: None,
            max_time_rule: None,
        })
        .then_refused(|e| *e == Refusal::NoRectificationRunning);
}

#[test]
fn silence_is_reached_the_day_after_the_maximum_time() {
    let reach = |due, today| Command::ReachMaximumTime {
        due,
        at: Utc.with_ymd_and_hms(2026, 10, 1, 22, 0, 0).unwrap(),
        today,
    };
    given::<GeneralApplication>([submitted()])
        .when(reach(date(10, 1), date(10, 1)))
        .then_refused(|e| *e == Refusal::MaximumTimeRunning(date(10, 1)));
    // A timer of a last day that the suspension moved is stale.
    given::<GeneralApplication>([
        submitted(),
        issued(),
        notified(),
        rectified(10, date(10, 9)),
    ])
    .when(reach(date(10, 1), date(10, 2)))
    .then_refused(|e| *e == Refusal::StaleMaximumTime(date(10, 1)));
    // While suspended, the time does not run out.
    given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(reach(date(10, 1), date(10, 2)))
        .then_refused(|e| *e == Refusal::StaleMaximumTime(date(10, 1)));
    let reached = Event::SilenceReached {
        meaning: SilenceMeaning::Estimatory,
        due: date(10, 1),
        at: Utc.with_ymd_and_hms(2026, 10, 1, 22, 0, 0).unwrap(),
    };
    let state = given::<GeneralApplication>([submitted()])
        .when(reach(date(10, 1), date(10, 2)))
        .then([reached.clone()]);
    // The duty to resolve remains (art. 24.3): the file is still open.
    assert_eq!(state.stage, Stage::Submitted);
    assert_eq!(
        GeneralApplication::case_effects(&reached),
        vec![CaseEffect::Silence {
            meaning: SilenceMeaning::Estimatory,
            basis: MAXIMUM_TIME.describe(),
            reached_on: Some(date(10, 2)),
        }]
    );
    given::<GeneralApplication>([submitted(), reached.clone()])
        .when(reach(date(10, 1), date(10, 3)))
        .then_refused(|e| *e == Refusal::SilenceAlreadyReached);
    // Art. 24.3.a: after estimatory silence a resolution may only confirm it.
    given::<GeneralApplication>([submitted(), reached.clone()])
        .when(resolve(Decision::Denied))
        .then_refused(|e| *e == Refusal::GrantedBySilence(date(10, 1)));
    given::<GeneralApplication>([submitted(), reached])
        .when(resolve(Decision::Granted))
        .outcome()
        .unwrap();
}

#[test]
fn resolve_waits_for_the_applicant() {
    given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(resolve(Decision::Granted))
        .then_refused(|e| *e == Refusal::AwaitingApplicant(date(7, 16)));
    let state = given::<GeneralApplication>([submitted()])
        .when(resolve(Decision::Denied))
        .then([Event::Resolved {
            decision: Decision::Denied,
            grounds: "según el informe del servicio".into(),
            appeals: Appeal::ending_administrative_route("la Junta de Gobierno"),
            at: at(20),
        }]);
    assert!(state.stage.is_closed());
}

#[test]
fn reasons_are_never_empty() {
    assert!(Reasons::try_from("   ".to_owned()).is_err());
    assert!(Reasons::try_from("x".repeat(10_001)).is_err());
}

#[test]
fn closed_files_refuse_everything() {
    let withdrawn = Event::Withdrawn { at: at(4) };
    given::<GeneralApplication>([submitted(), withdrawn])
        .when(Command::Withdraw { at: at(5) })
        .then_refused(|e| *e == Refusal::Closed("withdrawn"));
}

#[test]
fn the_timers_fire_the_commands_they_stand_for() {
    let effects = GeneralApplication::timer_effects(&submitted());
    assert_eq!(
        effects,
        vec![set_counted(
            MAXIMUM_TIME_TIMER,
            date(10, 1),
            Some(max_time_rule())
        )]
    );
    let TimerEffect::Set { kind, data, .. } = &effects[0] else {
        unreachable!()
    };
    let open = State::default();
    assert_eq!(
        crate::testing::fire::<GeneralApplication>(kind, data, &open, at(17), date(10, 2)),
        Some(Command::ReachMaximumTime {
            due: date(10, 1),
            at: at(17),
            today: date(10, 2),
        })
    );
    // The period's end resumes the maximum time counted with the calendar as it is then: the
    // suspension from the notification (2 July) to the period's last day (16 July) added.
    let data = serde_json::json!({"due": "2026-07-16"});
    let waiting = [submitted(), issued(), notified()].into_iter().fold(
        State::default(),
        <GeneralApplication as esrs::Aggregate>::apply_event,
    );
    assert_eq!(
        crate::testing::fire::<GeneralApplication>(
            RECTIFICATION_TIMER,
            &data,
            &waiting,
            at(17),
            date(7, 17)
        ),
        Some(Command::CloseRectificationPeriod {
            due: date(7, 16),
            at: at(17),
            today: date(7, 17),
            resolution_due: Some(date(10, 16)),
            max_time_rule: Some(suspended(date(7, 2), date(7, 16))),
        })
    );
    assert!(crate::testing::fire::<GeneralApplication>(
        "unknown",
        &data,
        &waiting,
        at(17),
        date(7, 17)
    )
    .is_none());
    for closing in [
        Event::Withdrawn { at: at(4) },
        Event::Resolved {
            decision: Decision::Granted,
            grounds: "x".into(),
            appeals: vec![],
            at: at(4),
        },
    ] {
        assert_eq!(
            GeneralApplication::timer_effects(&closing),
            vec![cancel(RECTIFICATION_TIMER), cancel(MAXIMUM_TIME_TIMER)]
        );
    }
}

#[test]
fn events_of_files_opened_before_the_registry_still_read() {
    // Stored before entries, suspensions and appeals existed.
    let old = serde_json::json!({"type": "submitted", "case_number": "28079/2026/000001",
        "sia_code": "123456", "parties": [], "subject": "s", "body": "", "at": "2026-07-01T10:00:00Z",
        "resolution_due": "2026-10-01"});
    assert!(matches!(
        serde_json::from_value::<Event>(old).unwrap(),
        Event::Submitted { entry: None, .. }
    ));
    let old = serde_json::json!({"type": "rectification_requested", "what": "x",
        "at": "2026-07-02T10:00:00Z", "due": "2026-07-16"});
    let event: Event = serde_json::from_value(old).unwrap();
    // An old request did not suspend the time: its last day keeps running.
    let state = [submitted(), event].into_iter().fold(
        State::default(),
        <GeneralApplication as esrs::Aggregate>::apply_event,
    );
    assert_eq!(state.resolution_due, Some(date(10, 1)));
    let old = serde_json::json!({"type": "resolved", "decision": "granted", "grounds": "g",
        "at": "2026-07-02T10:00:00Z"});
    assert!(serde_json::from_value::<Event>(old).is_ok());
}

#[test]
fn events_round_trip_through_json() {
    for event in [
        submitted(),
        issued(),
        notified(),
        legacy_requested(),
        proposed(),
        rectified(10, date(10, 9)),
        Event::Withdrawn { at: at(4) },
    ] {
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], event.event_type());
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}

#[test]
fn event_types_are_the_names_stored_in_the_log() {
    // The log's `event_type` column holds these names: they must never change, and they are the
    // JSON tag too.
    for (event, name) in [
        (submitted(), "submitted"),
        (legacy_requested(), "rectification_requested"),
        (issued(), "rectification_issued"),
        (notified(), "rectification_notified"),
        (
            Event::RectificationExtended {
                at: at(3),
                due: date(7, 23),
                rule: None,
                resolution_due_if_unanswered: None,
            },
            "rectification_extended",
        ),
        (rectified(3, date(10, 2)), "rectified"),
        (proposed(), "desistimiento_proposed"),
        (Event::DeemedWithdrawn { at: at(20) }, "deemed_withdrawn"),
        (
            Event::SilenceReached {
                meaning: SilenceMeaning::Estimatory,
                due: date(10, 1),
                at: at(20),
            },
            "silence_reached",
        ),
        (
            Event::Resolved {
                decision: Decision::Granted,
                grounds: "conforme".into(),
                appeals: vec![],
                at: at(9),
            },
            "resolved",
        ),
        (Event::Withdrawn { at: at(4) }, "withdrawn"),
    ] {
        assert_eq!(event.event_type(), name);
        assert_eq!(serde_json::to_value(&event).unwrap()["type"], name);
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_command() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(submit_command(vec![applicant()])),
            (1u32..28).prop_map(|d| Command::RequestRectification {
                what: "x".into(),
                at: at(d),
                notification: uuid::Uuid::from_u128(u128::from(d % 2)),
            }),
            (1u32..28).prop_map(|d| Command::RecordRectificationNotified {
                notification: uuid::Uuid::from_u128(u128::from(d % 2)),
                outcome: crate::lpac::notification::Outcome::Accessed,
                on: date(7, d),
                at: at(2),
                due: date(8, d),
                rule: rectification_rule(),
                resolution_due_if_unanswered: date(11, d),
            }),
            (1u32..28).prop_map(|d| Command::ExtendRectification {
                at: at(d),
                due: date(8, d),
                rule: None,
                resolution_due_if_unanswered: date(11, d),
            }),
            (1u32..28).prop_map(|d| rectify(d, date(10, d))),
            (1u32..28).prop_map(|d| Command::CloseRectificationPeriod {
                due: date(8, d),
                at: Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap(),
                today: date(9, 1),
                resolution_due: None,
                max_time_rule: None,
            }),
            (1u32..28).prop_map(|d| Command::ReachMaximumTime {
                due: date(10, d),
                at: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
                today: date(12, 1),
            }),
            Just(resolve(Decision::Granted)),
            Just(resolve(Decision::Denied)),
            Just(resolve(Decision::Desistimiento)),
            Just(Command::Withdraw { at: at(9) }),
            Just(Command::CorrectRectification {
                correction: correction_of(4, "rectified"),
                at: at(10),
            }),
        ]
    }

    proptest! {
        /// Whatever sequence of commands arrives, a closed file never changes again, a
        /// citizen-facing period exists exactly while awaiting rectification, the maximum time
        /// stands still exactly while the applicant is asked to fix the application, a denial
        /// never follows estimatory silence, and replaying the accepted events rebuilds the
        /// same state.
        #[test]
        fn state_machine_invariants(commands in proptest::collection::vec(any_command(), 0..30)) {
            let mut state = State::default();
            let mut history = Vec::new();
            for command in commands {
                let before = state.clone();
                match <GeneralApplication as esrs::Aggregate>::handle_command(&state, command) {
                    Ok(events) => {
                        prop_assert!(!before.stage.is_closed());
                        for e in events {
                            if let Event::Resolved { decision: Decision::Denied, .. } = e {
                                prop_assert_ne!(before.silence_reached, Some(SilenceMeaning::Estimatory));
                            }
                            history.push(e.clone());
                            state = <GeneralApplication as esrs::Aggregate>::apply_event(state, e);
                        }
                    }
                    Err(_) => prop_assert_eq!(&state, &before),
                }
                // Awaiting a fix: the request is either being notified or its period runs.
                prop_assert_eq!(
                    state.rectification_due.is_some() || state.rectification_notification.is_some(),
                    state.stage == Stage::AwaitingRectification
                );
                prop_assert!(state.rectification_due.is_none() || state.rectification_notification.is_none());
                if !state.stage.is_closed() {
                    // Suspended exactly while the notified request's period runs.
                    prop_assert_eq!(state.suspended_on.is_some(), state.rectification_due.is_some());
                }
            }
            let replayed = history.into_iter().fold(State::default(), <GeneralApplication as esrs::Aggregate>::apply_event);
            prop_assert_eq!(replayed, state);
        }
    }
}

#[test]
fn a_calendar_change_moves_a_running_deadline_once_and_the_file_records_it() {
    let rule = rectification_rule();
    let moving = |was: NaiveDate| Command::MoveDeadline {
        kind: RECTIFICATION_TIMER.into(),
        was,
        due: date(7, 17),
        rule: rule.clone(),
        at: at(10),
    };
    let moved = Event::DeadlineMoved {
        kind: RECTIFICATION_TIMER.into(),
        was: date(7, 16),
        due: date(7, 17),
        rule: rule.clone(),
        at: at(10),
    };
    let state = given::<GeneralApplication>([submitted(), issued(), notified()])
        .when(moving(date(7, 16)))
        .then([moved.clone()]);
    assert_eq!(state.rectification_due, Some(date(7, 17)));
    // The timer follows, still saying how it is counted; the view shows the new day.
    assert_eq!(
        GeneralApplication::timer_effects(&moved),
        vec![TimerEffect::Set {
            kind: RECTIFICATION_TIMER.into(),
            fires_on: date(7, 18),
            data: crate::deadline_data(date(7, 17), Some(rule.clone())),
        }]
    );
    assert_eq!(
        GeneralApplication::case_effects(&moved),
        vec![CaseEffect::CitizenActionDue(date(7, 17))]
    );
    // A second move from the old day, or of a deadline no longer running, is refused.
    given::<GeneralApplication>([submitted(), issued(), notified(), moved])
        .when(moving(date(7, 16)))
        .then_refused(|r| *r == Refusal::DeadlineNotRunning);
    given::<GeneralApplication>([submitted()])
        .when(moving(date(7, 16)))
        .then_refused(|r| *r == Refusal::DeadlineNotRunning);
    // The request's timer says how it was counted: ten business days from the notification.
    assert!(matches!(&GeneralApplication::timer_effects(&notified())[0],
        TimerEffect::Set { data, .. } if data["rule"]["amount"] == 10));
}

fn correction_of(version: i32, event_type: &str) -> crate::lpac::Correction {
    crate::lpac::Correction {
        corrects_version: version,
        corrects_type: event_type.into(),
        reason: reasons("La subsanación en papel se registró en este expediente por error"),
        by: "funcionaria-0042".into(),
    }
}

#[test]
fn a_fix_recorded_by_mistake_is_corrected_and_the_period_runs_again() {
    // Art. 109.2: the fix of 10 July was entered on the wrong file. Corrected, the request
    // stands again as it was: its period to 16 July (the timer fires at once if that day
    // passed), the maximum time standing still again from 2 July.
    let history = [
        submitted(),
        issued(),
        notified(),
        rectified(10, date(10, 9)),
    ];
    let corrected = Event::RectificationCorrected {
        correction: correction_of(4, "rectified"),
        at: at(13),
        restored: PeriodToFix {
            stage: Stage::AwaitingRectification,
            what: Some("falta el plano".into()),
            due: Some(date(7, 16)),
            rule: Some(rectification_rule()),
            extended: false,
            suspended_on: Some(date(7, 2)),
            resolution_due_if_unanswered: Some(date(10, 16)),
            resolution_due: Some(date(10, 1)),
            max_time_rule: Some(max_time_rule()),
        },
    };
    let state = given::<GeneralApplication>(history.clone())
        .when(Command::CorrectRectification {
            correction: correction_of(4, "rectified"),
            at: at(13),
        })
        .then([corrected.clone()]);
    let before = history[..3].iter().cloned().fold(
        State::default(),
        <GeneralApplication as esrs::Aggregate>::apply_event,
    );
    assert_eq!(state, before, "the file stands as it was before the fix");
    assert_eq!(
        GeneralApplication::timer_effects(&corrected),
        vec![
            set_counted(RECTIFICATION_TIMER, date(7, 16), Some(rectification_rule())),
            TimerEffect::Suspend {
                kind: MAXIMUM_TIME_TIMER.into()
            }
        ]
    );
    assert!(GeneralApplication::case_effects(&corrected).contains(&CaseEffect::ResolutionDue(None)));
    // Only while the fix is the last step, and only a fix.
    let mut later = history.to_vec();
    later.push(Event::Resolved {
        decision: Decision::Granted,
        grounds: "conforme".into(),
        appeals: vec![],
        at: at(14),
    });
    given::<GeneralApplication>(later)
        .when(Command::CorrectRectification {
            correction: correction_of(4, "rectified"),
            at: at(15),
        })
        .then_refused(|e| *e == Refusal::Closed("granted"));
    let mut moved_on = history.to_vec();
    moved_on.push(Event::SilenceReached {
        meaning: SilenceMeaning::Estimatory,
        due: date(10, 9),
        at: at(20),
    });
    given::<GeneralApplication>(moved_on)
        .when(Command::CorrectRectification {
            correction: correction_of(4, "rectified"),
            at: at(21),
        })
        .then_refused(|e| *e == Refusal::NothingToCorrect);
    given::<GeneralApplication>(history)
        .when(Command::CorrectRectification {
            correction: correction_of(1, "submitted"),
            at: at(13),
        })
        .then_refused(|e| *e == Refusal::NothingToCorrect);
    // A fix recorded before the request took effect: its notification's effect may have passed
    // unheeded meanwhile, so the request is made again instead.
    given::<GeneralApplication>([submitted(), issued(), rectified(3, date(10, 1))])
        .when(Command::CorrectRectification {
            correction: correction_of(3, "rectified"),
            at: at(13),
        })
        .then_refused(|e| *e == Refusal::FixedBeforeNotified);
}

#[test]
fn an_older_fix_without_its_rule_leaves_its_moved_day_standing() {
    // Recorded before rules carried suspensions: the fix moved the last day to 9 October, but
    // said nothing of how. A later request's "if unanswered" must start from 9 October, not from
    // the three months of the filing (which would drop the first suspension).
    let older_fix = Event::Rectified {
        note: "adjunto".into(),
        at: at(10),
        entry: Some(entry(SubmissionKind::Rectification, 2, 10)),
        resolution_due: Some(date(10, 9)),
        max_time_rule: None,
    };
    let state = [submitted(), legacy_requested(), older_fix]
        .into_iter()
        .fold(
            State::default(),
            <GeneralApplication as esrs::Aggregate>::apply_event,
        );
    assert_eq!(state.resolution_due, Some(date(10, 9)));
    assert_eq!(
        state.max_time_rule, None,
        "the rule no longer counts that day"
    );
    let calendar = crate::calendar::HolidayCalendar::bundled();
    // Asked again on Monday 13 July, unanswered to Monday 27 July: ten more business days after
    // 9 October (12 October is a national holiday).
    let (due, rule) = state
        .resumed_maximum_time(date(7, 13), date(7, 27), &calendar, "28079")
        .unwrap();
    assert_eq!(due, date(10, 26));
    assert_eq!(rule, None);
}

#[test]
fn silence_reached_while_a_request_is_being_notified_leaves_only_the_grant() {
    // Art. 24.3.a: granted by silence, the application may only be confirmed, whatever the
    // request to fix was doing.
    let reached = Event::SilenceReached {
        meaning: SilenceMeaning::Estimatory,
        due: date(10, 1),
        at: at(2),
    };
    let history = [submitted(), issued(), reached.clone()];
    given::<GeneralApplication>(history.clone())
        .when(resolve(Decision::Granted))
        .outcome()
        .expect("the grant confirms the silence");
    given::<GeneralApplication>(history.clone())
        .when(resolve(Decision::Denied))
        .then_refused(|e| *e == Refusal::GrantedBySilence(date(10, 1)));
    let mut proposed_after = history.to_vec();
    proposed_after.push(notified());
    proposed_after.push(proposed());
    given::<GeneralApplication>(proposed_after)
        .when(resolve(Decision::Granted))
        .outcome()
        .expect("not stuck between a desistimiento and the silence");
    given::<GeneralApplication>([submitted(), reached])
        .when(request_command())
        .then_refused(|e| *e == Refusal::GrantedBySilence(date(10, 1)));
}
