//! The removal file's rules, given past events, when a command, then the events or the refusal.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::lpac::notification::ActKind;
use crate::lpac::Reasons;
use crate::padron::{
    file_timers, FileCommand, FileDecision, FileEvent, FileRefusal, FileStage, NotificationChannel,
    NotificationOutcome, RemovalBasis, RemovalFile, ELECTRONIC_REJECTION_TIMER, FILE_LAPSE_TIMER,
    REPORT_WAIT_TIMER,
};
use crate::procedure::{CaseEffect, CaseParty, DomainEvent, Procedure, TimerEffect};
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
        entry: None,
        case_number: "28079/2026/000010".parse().unwrap(),
        sia_code: "999999".parse().unwrap(),
        person: party(),
        inscription: Uuid::nil(),
        basis: RemovalBasis::ExOfficio {
            reason: "a new inscription declared nobody else lives there".into(),
        },
        on: d(3, 2),
        max_time_due: d(6, 2),
        max_time_rule: None,
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
        notification: None,
        outcome,
        on: d(3, 5),
        hearing_due: d(3, 26),
    }
}

#[test]
fn a_request_must_say_where_the_person_is() {
    given::<RemovalFile>([])
        .when(FileCommand::Open {
            entry: None,
            case_number: "28079/2026/000010".parse().unwrap(),
            sia_code: "999999".parse().unwrap(),
            person: party(),
            inscription: Uuid::nil(),
            basis: RemovalBasis::Request {
                requester: "12345678Z".into(),
                whereabouts: " ".into(),
                request: None,
            },
            on: d(3, 2),
            max_time_due: d(6, 2),
            max_time_rule: None,
        })
        .then_refused(|e| *e == FileRefusal::WhereaboutsMissing);
}

fn resolve(decision: FileDecision, on: NaiveDate) -> FileCommand {
    FileCommand::Resolve {
        decision,
        grounds: Reasons::try_from("Informe favorable del Consejo".to_owned()).unwrap(),
        appeals: Vec::new(),
        on,
    }
}
fn took_effect(
    act: ActKind,
    outcome: NotificationOutcome,
    hearing_due: Option<NaiveDate>,
) -> FileCommand {
    FileCommand::RecordNotificationEffect {
        notification: Some(Uuid::from_u128(9)),
        act,
        outcome,
        on: d(3, 5),
        hearing_due,
    }
}

#[test]
fn the_notification_of_the_opening_starts_the_hearing_however_it_took_effect() {
    for outcome in [
        NotificationOutcome::Accessed,
        NotificationOutcome::Rejected,
        NotificationOutcome::Delivered,
        NotificationOutcome::Edict,
    ] {
        let state = given::<RemovalFile>([opened()])
            .when(took_effect(ActKind::Opening, outcome, Some(d(3, 26))))
            .then([FileEvent::Notified {
                notification: Some(Uuid::from_u128(9)),
                outcome,
                on: d(3, 5),
                hearing_due: d(3, 26),
            }]);
        assert_eq!(state.stage, FileStage::Hearing);
    }
    // A resolution's notification does not start a hearing on an open file.
    given::<RemovalFile>([opened()])
        .when(took_effect(
            ActKind::Resolution,
            NotificationOutcome::Delivered,
            None,
        ))
        .then_refused(|e| matches!(e, FileRefusal::WrongStage(_)));
    // Once in the hearing, a second report of the opening's effect is refused.
    given::<RemovalFile>([opened(), notified(NotificationOutcome::Accessed)])
        .when(took_effect(
            ActKind::Opening,
            NotificationOutcome::Accessed,
            Some(d(3, 26)),
        ))
        .then_refused(|e| matches!(e, FileRefusal::WrongStage(_)));
}

#[test]
fn a_resolution_has_reasons_and_its_notification_is_recorded_on_the_closed_file() {
    let agreed = [
        opened(),
        notified(NotificationOutcome::Delivered),
        FileEvent::Agreed { on: d(3, 6) },
    ];
    let state = given::<RemovalFile>(agreed.clone())
        .when(resolve(FileDecision::Remove, d(3, 9)))
        .then([FileEvent::Resolved {
            decision: FileDecision::Remove,
            grounds: Some(Reasons::try_from("Informe favorable del Consejo".to_owned()).unwrap()),
            appeals: Vec::new(),
            on: d(3, 9),
        }]);
    assert_eq!(state.stage, FileStage::Removed);
    let mut resolved = agreed.to_vec();
    resolved.push(FileEvent::Resolved {
        decision: FileDecision::Remove,
        grounds: None,
        appeals: Vec::new(),
        on: d(3, 9),
    });
    given::<RemovalFile>(resolved.clone())
        .when(took_effect(
            ActKind::Resolution,
            NotificationOutcome::Accessed,
            None,
        ))
        .then([FileEvent::ResolutionNotified {
            notification: Uuid::from_u128(9),
            outcome: NotificationOutcome::Accessed,
            on: d(3, 5),
        }]);
    // Anything else on the closed file is refused.
    given::<RemovalFile>(resolved)
        .when(took_effect(
            ActKind::Opening,
            NotificationOutcome::Accessed,
            Some(d(3, 26)),
        ))
        .then_refused(|e| *e == FileRefusal::Closed("removed"));
}

#[test]
fn the_hearing_after_a_notification_is_counted_with_the_council_calendar_when_it_is_reported() {
    // Delivered on Monday 23 March 2026; 15 business days in Madrid from Tuesday 24 March skip
    // Holy Thursday (2 April, Comunidad de Madrid) and Good Friday (3 April, national): the last
    // day is Wednesday 15 April.
    let effect = crate::lpac::notification::Effect {
        notification: Uuid::from_u128(9),
        act: ActKind::Opening,
        outcome: NotificationOutcome::Delivered,
        on: d(3, 23),
    };
    let kind = crate::lpac::notification::follow_up_kind(effect.notification);
    let data = serde_json::to_value(effect).unwrap();
    assert_eq!(
        crate::testing::fire::<RemovalFile>(
            &kind,
            &data,
            &super::FileState::default(),
            chrono::Utc::now(),
            d(3, 23)
        ),
        Some(FileCommand::RecordNotificationEffect {
            notification: Some(Uuid::from_u128(9)),
            act: ActKind::Opening,
            outcome: NotificationOutcome::Delivered,
            on: d(3, 23),
            hearing_due: Some(d(4, 15)),
        })
    );
}

#[test]
fn removal_needs_agreement_or_a_favourable_report_after_the_hearing() {
    let base = [
        opened(),
        sent(NotificationChannel::Electronic),
        notified(NotificationOutcome::Accessed),
    ];
    given::<RemovalFile>(base.clone())
        .when(resolve(FileDecision::Remove, d(3, 20)))
        .then_refused(|e| *e == FileRefusal::HearingRunning(d(3, 26)));
    given::<RemovalFile>(base.clone())
        .when(resolve(FileDecision::Remove, d(3, 27)))
        .then_refused(|e| *e == FileRefusal::ReportNeeded);
    let mut agreed = base.to_vec();
    agreed.push(FileEvent::Agreed { on: d(3, 10) });
    given::<RemovalFile>(agreed)
        .when(resolve(FileDecision::Remove, d(3, 11)))
        .then([FileEvent::Resolved {
            decision: FileDecision::Remove,
            grounds: Some(Reasons::try_from("Informe favorable del Consejo".to_owned()).unwrap()),
            appeals: Vec::new(),
            on: d(3, 11),
        }]);
    let mut reported = base.to_vec();
    reported.push(FileEvent::ReportRequested {
        on: d(3, 27),
        max_time_due_if_unanswered: None,
    });
    reported.push(FileEvent::ReportReceived {
        favourable: true,
        on: d(4, 20),
        max_time_due: d(7, 26),
        max_time_rule: None,
    });
    assert!(given::<RemovalFile>(reported)
        .when(resolve(FileDecision::Remove, d(4, 21)))
        .outcome()
        .is_ok());
}

#[test]
fn the_report_suspends_the_maximum_time_and_a_lapsed_file_refuses_removal() {
    assert_eq!(
        file_timers(&FileEvent::ReportRequested {
            on: d(3, 27),
            max_time_due_if_unanswered: None,
        }),
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
    waiting.push(FileEvent::ReportRequested {
        on: d(3, 27),
        max_time_due_if_unanswered: None,
    });
    // The caller gives the last day computed with the legal calendar (art. 22, moved by the
    // suspended business days); the aggregate records it.
    given::<RemovalFile>(waiting.clone())
        .when(FileCommand::RecordReport {
            favourable: false,
            on: d(4, 16),
            max_time_due: d(6, 29),
            max_time_rule: None,
        })
        .then([FileEvent::ReportReceived {
            favourable: false,
            on: d(4, 16),
            max_time_due: d(6, 29),
            max_time_rule: None,
        }]);
    given::<RemovalFile>(waiting.clone())
        .when(FileCommand::EndReportWait {
            on: d(6, 27),
            max_time_due: None,
            max_time_rule: None,
        })
        .then_refused(|e| matches!(e, FileRefusal::WrongStage(_)));
    // A request recorded before the calendar computed its unanswered day: calendar days.
    given::<RemovalFile>(waiting)
        .when(FileCommand::EndReportWait {
            on: d(6, 28),
            max_time_due: None,
            max_time_rule: None,
        })
        .then([FileEvent::ReportWaitEnded {
            on: d(6, 28),
            max_time_due: d(9, 3),
            max_time_rule: None,
        }]);
    // A request that carries it: the timer's end of the wait uses that day.
    let mut computed = base.to_vec();
    computed.push(FileEvent::ReportRequested {
        on: d(3, 27),
        max_time_due_if_unanswered: Some(d(9, 7)),
    });
    given::<RemovalFile>(computed)
        .when(FileCommand::EndReportWait {
            on: d(6, 28),
            max_time_due: None,
            max_time_rule: None,
        })
        .then([FileEvent::ReportWaitEnded {
            on: d(6, 28),
            max_time_due: d(9, 7),
            max_time_rule: None,
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
        .then([FileEvent::LapseProposed {
            due: d(6, 2),
            on: d(6, 3),
        }]);
    // Art. 25.1.b: the timer proposes; the file stays open until the lapse is declared, and
    // nothing but the lapse may be decided.
    assert!(!state.stage.is_closed());
    let mut proposed = base.to_vec();
    proposed.push(FileEvent::LapseProposed {
        due: d(6, 2),
        on: d(6, 3),
    });
    given::<RemovalFile>(proposed.clone())
        .when(resolve(FileDecision::Remove, d(6, 4)))
        .then_refused(|e| *e == FileRefusal::LapseProposed);
    given::<RemovalFile>(base.clone())
        .when(FileCommand::DeclareLapse {
            grounds: Reasons::try_from("Transcurrido el plazo máximo".to_owned()).unwrap(),
            appeals: Vec::new(),
            on: d(6, 4),
        })
        .then_refused(|e| *e == FileRefusal::LapseNotProposed);
    let state = given::<RemovalFile>(proposed.clone())
        .when(FileCommand::DeclareLapse {
            grounds: Reasons::try_from("Transcurrido el plazo máximo".to_owned()).unwrap(),
            appeals: Vec::new(),
            on: d(6, 4),
        })
        .then([FileEvent::Lapsed {
            on: d(6, 4),
            inscription: Some(Uuid::nil()),
            grounds: Some(Reasons::try_from("Transcurrido el plazo máximo".to_owned()).unwrap()),
            appeals: Vec::new(),
        }]);
    assert!(state.stage.is_closed());
    let mut lapsed = proposed.to_vec();
    lapsed.push(FileEvent::Lapsed {
        on: d(6, 4),
        inscription: Some(Uuid::nil()),
        grounds: None,
        appeals: Vec::new(),
    });
    given::<RemovalFile>(lapsed)
        .when(resolve(FileDecision::Remove, d(6, 4)))
        .then_refused(|e| *e == FileRefusal::Closed("lapsed"));
    // While the report is awaited the file does not lapse.
    let mut waiting = base.to_vec();
    waiting.push(FileEvent::ReportRequested {
        on: d(3, 27),
        max_time_due_if_unanswered: None,
    });
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
        crate::testing::fire::<RemovalFile>(
            kind,
            data,
            &super::FileState::default(),
            now,
            d(3, 14)
        ),
        Some(FileCommand::RecordNotificationEffect {
            notification: None,
            act: ActKind::Opening,
            outcome: NotificationOutcome::Rejected,
            on: d(3, 14),
            hearing_due: Some(d(4, 7)),
        })
    );
    let TimerEffect::Set { kind, data, .. } = &file_timers(&opened())[0] else {
        unreachable!()
    };
    assert_eq!(
        crate::testing::fire::<RemovalFile>(kind, data, &super::FileState::default(), now, d(6, 3)),
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
fn regularising_waits_for_the_openings_notification_and_not_after_the_resolution() {
    given::<RemovalFile>([opened()])
        .when(FileCommand::RecordRegularised {
            on: d(3, 3),
            appeals: Vec::new(),
        })
        .then_refused(|e| matches!(e, FileRefusal::WrongStage(_)));
    given::<RemovalFile>([
        opened(),
        sent(NotificationChannel::Paper),
        notified(NotificationOutcome::Delivered),
        FileEvent::Regularised { on: d(3, 10) },
        FileEvent::Resolved {
            decision: FileDecision::Archive,
            grounds: None,
            appeals: Vec::new(),
            on: d(3, 10),
        },
    ])
    .when(FileCommand::RecordRegularised {
        on: d(3, 11),
        appeals: Vec::new(),
    })
    .then_refused(|e| matches!(e, FileRefusal::Closed(_)));
}

#[test]
fn regularising_archives_the_file() {
    let base = [
        opened(),
        sent(NotificationChannel::Paper),
        notified(NotificationOutcome::Delivered),
    ];
    given::<RemovalFile>(base)
        .when(FileCommand::RecordRegularised {
            on: d(3, 10),
            appeals: Vec::new(),
        })
        .then([
            FileEvent::Regularised { on: d(3, 10) },
            FileEvent::Resolved {
                decision: FileDecision::Archive,
                grounds: Some(Reasons::try_from(super::REGULARISED_GROUNDS.to_owned()).unwrap()),
                appeals: Vec::new(),
                on: d(3, 10),
            },
        ]);
}

#[test]
fn event_types_are_the_names_stored_in_the_log() {
    for (event, name) in [
        (opened(), "opened"),
        (sent(NotificationChannel::Paper), "notification_sent"),
        (
            FileEvent::DeliveryFailed {
                attempt: 1,
                on: d(3, 4),
            },
            "delivery_failed",
        ),
        (notified(NotificationOutcome::Delivered), "notified"),
        (FileEvent::Regularised { on: d(3, 10) }, "regularised"),
        (FileEvent::Agreed { on: d(3, 10) }, "agreed"),
        (
            FileEvent::AllegationsFiled {
                entry: None,
                summary: "still lives there".into(),
                on: d(3, 10),
            },
            "allegations_filed",
        ),
        (
            FileEvent::ReportRequested {
                on: d(3, 27),
                max_time_due_if_unanswered: None,
            },
            "report_requested",
        ),
        (
            FileEvent::ReportReceived {
                favourable: true,
                on: d(4, 16),
                max_time_due: d(6, 22),
                max_time_rule: None,
            },
            "report_received",
        ),
        (
            FileEvent::ReportWaitEnded {
                on: d(6, 28),
                max_time_due: d(9, 3),
                max_time_rule: None,
            },
            "report_wait_ended",
        ),
        (
            FileEvent::Resolved {
                decision: FileDecision::Archive,
                grounds: None,
                appeals: Vec::new(),
                on: d(4, 21),
            },
            "resolved",
        ),
        (
            FileEvent::Lapsed {
                on: d(6, 3),
                inscription: Some(Uuid::nil()),
                grounds: None,
                appeals: Vec::new(),
            },
            "lapsed",
        ),
    ] {
        assert_eq!(event.event_type(), name);
        assert_eq!(serde_json::to_value(&event).unwrap()["type"], name);
    }
}

#[test]
fn a_lapse_releases_the_persons_inscription_as_a_follow_up() {
    use crate::padron::{Inscription, InscriptionCommand, REMOVAL_FILE_LAPSED};
    // Given a lapsed file, its lapse asks the person's inscription to record the file's end.
    let file = Uuid::from_u128(7);
    let inscription = Uuid::from_u128(9);
    let follow_ups = RemovalFile::follow_ups(
        file,
        &FileEvent::Lapsed {
            on: d(6, 3),
            inscription: Some(inscription),
            grounds: None,
            appeals: Vec::new(),
        },
    );
    assert_eq!(follow_ups.len(), 1);
    let follow_up = &follow_ups[0];
    assert_eq!(follow_up.stream_type, "padron_inscription");
    assert_eq!(follow_up.stream_id, inscription);
    assert_eq!(follow_up.kind, REMOVAL_FILE_LAPSED);
    // When the scheduler carries it out, the inscription's command is the release of that file.
    let now = d(6, 3).and_hms_opt(8, 0, 0).unwrap().and_utc();
    assert_eq!(
        crate::testing::fire::<Inscription>(
            &follow_up.kind,
            &follow_up.data,
            &crate::padron::InscriptionState::default(),
            now,
            d(6, 3)
        ),
        Some(InscriptionCommand::RecordRemovalFileClosed { file, on: d(6, 3) })
    );
    // A lapse recorded before the inscription was carried in the event asks nothing.
    assert!(RemovalFile::follow_ups(
        file,
        &FileEvent::Lapsed {
            on: d(6, 3),
            inscription: None,
            grounds: None,
            appeals: Vec::new(),
        }
    )
    .is_empty());
    // No other event has follow-ups.
    assert!(RemovalFile::follow_ups(file, &opened()).is_empty());
}

#[test]
fn the_hearing_ends_by_its_timer_and_moves_with_the_calendar() {
    let notified = notified(NotificationOutcome::Delivered);
    // Notified on 5 March: the hearing's timer fires after 26 March, saying how it was counted.
    let timers = file_timers(&notified);
    assert!(
        matches!(&timers[..], [_, TimerEffect::Set { kind, fires_on, data }]
        if kind == crate::padron::HEARING_TIMER && *fires_on == d(3, 27)
            && data["rule"]["amount"] == 15)
    );
    given::<RemovalFile>([opened(), notified.clone()])
        .when(FileCommand::EndHearing {
            due: d(3, 26),
            on: d(3, 26),
        })
        .then_refused(|e| *e == FileRefusal::HearingRunning(d(3, 26)));
    let state = given::<RemovalFile>([opened(), notified.clone()])
        .when(FileCommand::EndHearing {
            due: d(3, 26),
            on: d(3, 27),
        })
        .then([FileEvent::HearingEnded { on: d(3, 27) }]);
    assert_eq!(state.stage, FileStage::ToResolve);
    // Allegations in time cancel it; after them the timer is refused.
    assert_eq!(
        file_timers(&FileEvent::AllegationsFiled {
            summary: "vivo aquí".into(),
            on: d(3, 10),
            entry: None,
        }),
        vec![TimerEffect::Cancel {
            kind: crate::padron::HEARING_TIMER.into()
        }]
    );
    // A calendar change moves the hearing's last day; the view shows it.
    let rule = crate::DeadlineRule::new(d(3, 5), 15, crate::calendar::Unit::BusinessDays, None);
    let moved = FileEvent::DeadlineMoved {
        kind: crate::padron::HEARING_TIMER.into(),
        was: d(3, 26),
        due: d(3, 27),
        rule: rule.clone(),
    };
    let state = given::<RemovalFile>([opened(), notified])
        .when(FileCommand::MoveDeadline {
            kind: crate::padron::HEARING_TIMER.into(),
            was: d(3, 26),
            due: d(3, 27),
            rule,
        })
        .then([moved.clone()]);
    assert_eq!(state.hearing_due, Some(d(3, 27)));
    assert_eq!(
        RemovalFile::case_effects(&moved),
        vec![CaseEffect::CitizenActionDue(d(3, 27))]
    );
}

#[test]
fn the_reports_suspension_is_carried_in_the_maximum_times_rule() {
    // Opened Monday 2 March 2026: three months, to Tuesday 2 June. The report is requested on
    // Friday 27 March and arrives on Thursday 16 April: twelve business days in Madrid (Holy
    // Thursday and Good Friday, 2 and 3 April, are holidays), so the maximum time ends twelve
    // business days after 2 June: Thursday 18 June. The rule says so, and a calendar change
    // counts both again.
    let rule = crate::DeadlineRule::new(d(3, 2), 3, crate::calendar::Unit::Months, None);
    let mut with_rule = opened();
    if let FileEvent::Opened { max_time_rule, .. } = &mut with_rule {
        *max_time_rule = Some(rule.clone());
    }
    let waiting = [
        with_rule,
        sent(NotificationChannel::Electronic),
        notified(NotificationOutcome::Accessed),
        FileEvent::ReportRequested {
            on: d(3, 27),
            max_time_due_if_unanswered: None,
        },
    ];
    let state = waiting.clone().into_iter().fold(
        super::FileState::default(),
        <RemovalFile as esrs::Aggregate>::apply_event,
    );
    let calendar = crate::calendar::HolidayCalendar::bundled();
    let (due, suspended) = state
        .resumed_maximum_time(d(4, 16), &calendar, "28079")
        .unwrap();
    assert_eq!(due, d(6, 18));
    let expected = rule.suspended(crate::calendar::Suspension::new(d(3, 27), d(4, 16)).unwrap());
    assert_eq!(suspended, Some(expected.clone()));
    let received = FileEvent::ReportReceived {
        favourable: true,
        on: d(4, 16),
        max_time_due: due,
        max_time_rule: suspended.clone(),
    };
    let after = given::<RemovalFile>(waiting.clone())
        .when(FileCommand::RecordReport {
            favourable: true,
            on: d(4, 16),
            max_time_due: due,
            max_time_rule: suspended,
        })
        .then([received.clone()]);
    assert_eq!(after.max_time_rule, Some(expected.clone()));
    assert_eq!(
        file_timers(&received)[0],
        TimerEffect::Set {
            kind: FILE_LAPSE_TIMER.into(),
            fires_on: d(6, 19),
            data: crate::deadline_data(d(6, 18), Some(expected)),
        }
    );
    // Without the report, the timer ends the wait after three months and resumes the time
    // with the calendar as it is then: suspended from 27 March to 27 June.
    let command = crate::testing::fire::<RemovalFile>(
        REPORT_WAIT_TIMER,
        &serde_json::json!({"requested_on": "2026-03-27"}),
        &state,
        chrono::Utc::now(),
        d(6, 28),
    );
    let Some(FileCommand::EndReportWait {
        max_time_due: Some(_),
        max_time_rule: Some(rule_then),
        ..
    }) = command
    else {
        panic!("{command:?}")
    };
    assert_eq!(
        rule_then.suspensions,
        vec![crate::calendar::Suspension::new(d(3, 27), d(6, 27)).unwrap()]
    );
}

#[test]
fn an_agreement_recorded_by_mistake_is_corrected_and_the_hearing_stands_again() {
    let correction = |event_type: &str| crate::lpac::Correction {
        corrects_version: 4,
        corrects_type: event_type.into(),
        reason: Reasons::try_from("La conformidad era de otra persona".to_owned()).unwrap(),
        by: "funcionaria-0042".into(),
    };
    let history = [
        opened(),
        sent(NotificationChannel::Electronic),
        notified(NotificationOutcome::Accessed),
        FileEvent::Agreed { on: d(3, 10) },
    ];
    let restored = super::state::HearingAsItStood {
        stage: FileStage::Hearing,
        hearing_due: Some(d(3, 26)),
        hearing_rule: Some(super::hearing_rule(d(3, 5))),
        agreed: false,
    };
    let corrected = FileEvent::HearingFactCorrected {
        correction: correction("agreed"),
        on: d(3, 12),
        restored: restored.clone(),
    };
    let state = given::<RemovalFile>(history.clone())
        .when(FileCommand::CorrectHearingFact {
            correction: correction("agreed"),
            on: d(3, 12),
        })
        .then([corrected.clone()]);
    assert_eq!(state.stage, FileStage::Hearing);
    assert!(
        !state.agreed,
        "without the agreement, removal needs the report again"
    );
    assert_eq!(state.hearing_due, Some(d(3, 26)));
    assert_eq!(
        file_timers(&corrected),
        vec![TimerEffect::Set {
            kind: super::HEARING_TIMER.into(),
            fires_on: d(3, 27),
            data: crate::deadline_data(d(3, 26), Some(super::hearing_rule(d(3, 5)))),
        }]
    );
    // Not a fact of the person's hearing, or not the last step: refused.
    given::<RemovalFile>(history.clone())
        .when(FileCommand::CorrectHearingFact {
            correction: correction("opened"),
            on: d(3, 12),
        })
        .then_refused(|e| *e == FileRefusal::NothingToCorrect);
    let mut later = history.to_vec();
    later.push(FileEvent::ReportRequested {
        on: d(3, 11),
        max_time_due_if_unanswered: None,
    });
    given::<RemovalFile>(later)
        .when(FileCommand::CorrectHearingFact {
            correction: correction("agreed"),
            on: d(3, 12),
        })
        .then_refused(|e| *e == FileRefusal::NothingToCorrect);
}
