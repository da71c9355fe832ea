//! Notifications: given past events, when a command, then the events or the refusal. Dates are
//! the ones a court would look at: 2 March 2026 is a Monday.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::*;
use crate::lpac::SubmissionKind;
use crate::testing::given;
use crate::values::{DocumentNumber, RegistryNumber, VerificationCode};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
fn local(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}
fn at() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().unwrap()
}
fn ana() -> Addressee {
    Addressee {
        document: "12345678Z".parse().unwrap(),
        name: "Ana García".into(),
    }
}
fn luis() -> DocumentNumber {
    "00000000T".parse().unwrap()
}
fn file() -> Uuid {
    Uuid::from_u128(7)
}
fn case() -> CaseRef {
    CaseRef {
        stream_type: "padron_removal_file".into(),
        stream_id: file(),
        case_number: "28079/2026/000001".parse().unwrap(),
    }
}
fn act() -> Act {
    Act {
        kind: ActKind::Opening,
        summary: "Acuerdo de inicio".into(),
        text: "Se inicia el expediente…".into(),
        on: d("2026-03-02"),
    }
}
fn exit() -> RegistryEntry {
    RegistryEntry {
        number: RegistryNumber::new(
            &"28079".parse().unwrap(),
            2026,
            crate::RegistryDirection::Out,
            1,
        )
        .unwrap(),
        kind: SubmissionKind::Notification,
        presented_at: at(),
        counts_from: at(),
        verification_code: VerificationCode::from_random([7; 20]),
    }
}
fn issue(addressee: Option<Addressee>, delivery: Delivery) -> Command {
    Command::Issue {
        case: case(),
        act: act(),
        addressee,
        delivery,
        exit: exit(),
        sending_due: d("2026-03-16"),
        at: at(),
        today: d("2026-03-02"),
    }
}
fn issued(addressee: Option<Addressee>, delivery: Delivery) -> Event {
    let available_on = (delivery == Delivery::Electronic).then(|| d("2026-03-02"));
    Event::Issued {
        case: case(),
        act: act(),
        addressee,
        delivery,
        exit: exit(),
        sending_due: d("2026-03-16"),
        at: at(),
        available_on,
    }
}
fn electronic() -> Event {
    issued(Some(ana()), Delivery::Electronic)
}
fn paper() -> Event {
    issued(
        Some(ana()),
        Delivery::Paper {
            address: "Calle Mayor 1, 28013 Madrid".into(),
        },
    )
}
fn effect(outcome: Outcome, on: &str) -> Event {
    Event::TookEffect {
        case_type: "padron_removal_file".into(),
        case_id: file(),
        act: ActKind::Opening,
        outcome,
        on: d(on),
    }
}
fn attempt(n: u8, when: &str, result: AttemptResult) -> Event {
    Event::AttemptRecorded {
        attempt: n,
        at: local(when),
        result,
    }
}
fn record(when: &str, result: AttemptResult) -> Command {
    Command::RecordAttempt {
        at: local(when),
        result,
        now: local("2026-03-20 20:00"),
        // The first attempt on Wednesday 4 March: the third business day after is Monday 9.
        second_attempt_by: Some(d("2026-03-09")),
    }
}
fn access(by: DocumentNumber, on: &str) -> Command {
    Command::Access {
        by,
        for_the_addressee: false,
        at: at(),
        on: d(on),
    }
}

#[test]
fn an_electronic_notification_is_made_available_on_the_day_it_is_issued() {
    given::<Notification>([])
        .when(issue(Some(ana()), Delivery::Electronic))
        .then([electronic()]);
}

#[test]
fn an_electronic_notification_takes_effect_when_its_addressee_opens_it() {
    let state = given::<Notification>([electronic()])
        .when(access(ana().document, "2026-03-05"))
        .then([
            Event::Accessed {
                by: ana().document,
                at: at(),
            },
            effect(Outcome::Accessed, "2026-03-05"),
        ]);
    assert_eq!(state.stage, Stage::TookEffect);
    // Opening it again shows it again and records nothing.
    given::<Notification>([electronic(), effect(Outcome::Accessed, "2026-03-05")])
        .when(access(ana().document, "2026-03-09"))
        .then([]);
}

#[test]
fn opened_after_the_tenth_day_it_was_already_rejected_on_the_tenth() {
    given::<Notification>([electronic()])
        .when(access(ana().document, "2026-03-13"))
        .then([
            Event::Accessed {
                by: ana().document,
                at: at(),
            },
            effect(Outcome::Rejected, "2026-03-12"),
        ]);
}

#[test]
fn only_the_addressee_or_their_representative_opens_it() {
    given::<Notification>([electronic()])
        .when(access(luis(), "2026-03-05"))
        .then_refused(|r| *r == Refusal::NotTheAddressee);
    given::<Notification>([electronic()])
        .when(Command::Access {
            by: luis(),
            for_the_addressee: true,
            at: at(),
            on: d("2026-03-05"),
        })
        .then([
            Event::Accessed {
                by: luis(),
                at: at(),
            },
            effect(Outcome::Accessed, "2026-03-05"),
        ]);
}

#[test]
fn ten_calendar_days_without_access_and_it_is_deemed_rejected_on_the_tenth() {
    // Made available on Monday 2 March: the tenth calendar day is Thursday 12 March (art. 43.2).
    assert_eq!(rejected_on(d("2026-03-02")), d("2026-03-12"));
    let timers = Notification::timer_effects(&electronic());
    assert!(
        matches!(&timers[..], [TimerEffect::Set { kind, fires_on, .. }]
        if kind == REJECTION_TIMER && *fires_on == d("2026-03-13"))
    );
    given::<Notification>([electronic()])
        .when(Command::DeemRejected {
            today: d("2026-03-12"),
        })
        .then_refused(|r| *r == Refusal::NotDue(d("2026-03-12")));
    // However late the scheduler runs, the effect is the tenth day.
    given::<Notification>([electronic()])
        .when(Command::DeemRejected {
            today: d("2026-03-15"),
        })
        .then([effect(Outcome::Rejected, "2026-03-12")]);
    // Opened in time, nothing to reject.
    given::<Notification>([electronic(), effect(Outcome::Accessed, "2026-03-05")])
        .when(Command::DeemRejected {
            today: d("2026-03-13"),
        })
        .then_refused(|r| matches!(r, Refusal::AlreadyTookEffect(_)));
}

#[test]
fn a_letter_is_posted_not_before_its_act_nor_in_the_future() {
    given::<Notification>([paper()])
        .when(Command::Dispatch {
            on: d("2026-03-01"),
            today: d("2026-03-03"),
        })
        .then_refused(|r| matches!(r, Refusal::TooEarly { .. }));
    given::<Notification>([paper()])
        .when(Command::Dispatch {
            on: d("2026-03-04"),
            today: d("2026-03-03"),
        })
        .then_refused(|r| *r == Refusal::InFuture("the dispatch"));
    given::<Notification>([paper()])
        .when(Command::Dispatch {
            on: d("2026-03-03"),
            today: d("2026-03-03"),
        })
        .then([Event::Dispatched {
            on: d("2026-03-03"),
        }]);
}

#[test]
fn a_delivered_letter_takes_effect_on_the_day_of_delivery() {
    let posted = [
        paper(),
        Event::Dispatched {
            on: d("2026-03-03"),
        },
    ];
    given::<Notification>(posted.clone())
        .when(record("2026-03-02 10:00", AttemptResult::Absent))
        .then_refused(|r| matches!(r, Refusal::TooEarly { .. }));
    given::<Notification>(posted.clone())
        .when(record("2026-03-21 10:00", AttemptResult::Absent))
        .then_refused(|r| *r == Refusal::InFuture("a delivery attempt"));
    let delivered = AttemptResult::Delivered {
        received_by: "Ana García, 12345678Z".into(),
    };
    given::<Notification>(posted.clone())
        .when(record("2026-03-04 10:00", delivered.clone()))
        .then([
            attempt(1, "2026-03-04 10:00", delivered),
            effect(Outcome::Delivered, "2026-03-04"),
        ]);
    // A refusal by the addressee is a notification done (art. 41.5).
    given::<Notification>(posted)
        .when(record("2026-03-04 10:00", AttemptResult::Refused))
        .then([
            attempt(1, "2026-03-04 10:00", AttemptResult::Refused),
            effect(Outcome::Rejected, "2026-03-04"),
        ]);
}

#[test]
fn nobody_at_home_twice_at_different_times_and_then_the_edict() {
    let first = [
        paper(),
        Event::Dispatched {
            on: d("2026-03-03"),
        },
        attempt(1, "2026-03-04 10:00", AttemptResult::Absent),
    ];
    // Art. 42.2: the second attempt on the other side of 15:00, three hours apart, within three
    // days.
    for refused in [
        "2026-03-04 13:30", // the same side of 15:00
        "2026-03-04 17:00", // the same day (the days after, art. 42.2)
        "2026-03-05 09:00", // the same side, the next day
    ] {
        given::<Notification>(first.clone())
            .when(record(refused, AttemptResult::Absent))
            .then_refused(|r| *r == Refusal::SecondAttemptOutOfRule);
    }
    // Other side of 15:00 but less than three hours apart (13:00 and 15:30).
    given::<Notification>([
        paper(),
        Event::Dispatched {
            on: d("2026-03-03"),
        },
        attempt(1, "2026-03-04 13:00", AttemptResult::Absent),
    ])
    .when(record("2026-03-05 15:30", AttemptResult::Absent))
    .then_refused(|r| *r == Refusal::SecondAttemptOutOfRule);
    // Too late for a second (after the third business day): the postal service starts over, and
    // it counts as a first attempt again.
    let state = given::<Notification>(first.clone())
        .when(record("2026-03-10 17:00", AttemptResult::Absent))
        .then([attempt(1, "2026-03-10 17:00", AttemptResult::Absent)]);
    assert_eq!(state.stage, Stage::SecondAttemptDue);
    // Over a weekend, within the three business days: Monday 9 at 17:00 is a second attempt.
    given::<Notification>(first.clone())
        .when(record("2026-03-09 17:00", AttemptResult::Absent))
        .then([attempt(2, "2026-03-09 17:00", AttemptResult::Absent)]);
    // The edict is not yet possible after one attempt.
    given::<Notification>(first.clone())
        .when(Command::PublishEdict {
            on: d("2026-03-05"),
            reference: "BOE-N-2026-100".into(),
            today: d("2026-03-05"),
        })
        .then_refused(|r| *r == Refusal::EdictNotYet);
    let state = given::<Notification>(first.clone())
        .when(record("2026-03-06 17:00", AttemptResult::Absent))
        .then([attempt(2, "2026-03-06 17:00", AttemptResult::Absent)]);
    assert_eq!(state.stage, Stage::EdictDue);
    let failed: Vec<Event> = first
        .into_iter()
        .chain([attempt(2, "2026-03-06 17:00", AttemptResult::Absent)])
        .collect();
    given::<Notification>(failed.clone())
        .when(Command::PublishEdict {
            on: d("2026-03-05"),
            reference: "BOE-N-2026-100".into(),
            today: d("2026-03-12"),
        })
        .then_refused(|r| matches!(r, Refusal::TooEarly { .. }));
    given::<Notification>(failed.clone())
        .when(Command::PublishEdict {
            on: d("2026-03-12"),
            reference: "  ".into(),
            today: d("2026-03-12"),
        })
        .then_refused(|r| *r == Refusal::EdictReferenceMissing);
    given::<Notification>(failed)
        .when(Command::PublishEdict {
            on: d("2026-03-12"),
            reference: "BOE-N-2026-100".into(),
            today: d("2026-03-12"),
        })
        .then([
            Event::EdictPublished {
                on: d("2026-03-12"),
                reference: "BOE-N-2026-100".into(),
            },
            effect(Outcome::Edict, "2026-03-12"),
        ]);
}

#[test]
fn an_unknown_address_goes_to_the_edict_at_once() {
    let unknown = Delivery::Edict {
        reason: EdictReason::AddressUnknown,
    };
    let state = given::<Notification>([])
        .when(issue(Some(ana()), unknown.clone()))
        .then([issued(Some(ana()), unknown.clone())]);
    assert_eq!(state.stage, Stage::EdictDue);
    given::<Notification>([issued(Some(ana()), unknown.clone())])
        .when(Command::PublishEdict {
            on: d("2026-03-13"),
            reference: "BOE-N-2026-101".into(),
            today: d("2026-03-12"),
        })
        .then_refused(|r| *r == Refusal::InFuture("the edict"));
    given::<Notification>([issued(Some(ana()), unknown)])
        .when(Command::PublishEdict {
            on: d("2026-03-09"),
            reference: "BOE-N-2026-101".into(),
            today: d("2026-03-12"),
        })
        .then([
            Event::EdictPublished {
                on: d("2026-03-09"),
                reference: "BOE-N-2026-101".into(),
            },
            effect(Outcome::Edict, "2026-03-09"),
        ]);
}

#[test]
fn issuing_needs_an_addressee_that_fits_the_channel_and_an_act_not_ahead() {
    given::<Notification>([])
        .when(issue(None, Delivery::Electronic))
        .then_refused(|r| matches!(r, Refusal::Addressee(_)));
    given::<Notification>([])
        .when(issue(
            Some(ana()),
            Delivery::Edict {
                reason: EdictReason::AddresseeUnknown,
            },
        ))
        .then_refused(|r| matches!(r, Refusal::Addressee(_)));
    given::<Notification>([])
        .when(issue(
            Some(ana()),
            Delivery::Paper {
                address: " ".into(),
            },
        ))
        .then_refused(|r| *r == Refusal::AddressMissing);
    let mut ahead = issue(Some(ana()), Delivery::Electronic);
    if let Command::Issue { act, .. } = &mut ahead {
        act.on = d("2026-03-03");
    }
    given::<Notification>([])
        .when(ahead)
        .then_refused(|r| *r == Refusal::InFuture("the act's date"));
    given::<Notification>([electronic()])
        .when(issue(Some(ana()), Delivery::Electronic))
        .then_refused(|r| *r == Refusal::AlreadyIssued);
}

#[test]
fn a_letter_not_posted_within_ten_business_days_warns_the_caseworker_once() {
    let timers = Notification::timer_effects(&paper());
    assert!(
        matches!(&timers[..], [TimerEffect::Set { kind, fires_on, .. }]
        if kind == SENDING_TIMER && *fires_on == d("2026-03-17"))
    );
    given::<Notification>([paper()])
        .when(Command::WarnSendingOverdue {
            today: d("2026-03-16"),
        })
        .then_refused(|r| *r == Refusal::NotDue(d("2026-03-16")));
    given::<Notification>([paper()])
        .when(Command::WarnSendingOverdue {
            today: d("2026-03-17"),
        })
        .then([Event::SendingOverdue {
            due: d("2026-03-16"),
            on: d("2026-03-17"),
        }]);
    given::<Notification>([
        paper(),
        Event::SendingOverdue {
            due: d("2026-03-16"),
            on: d("2026-03-17"),
        },
    ])
    .when(Command::WarnSendingOverdue {
        today: d("2026-03-18"),
    })
    .then_refused(|r| matches!(r, Refusal::NotNow(_)));
    given::<Notification>([
        paper(),
        Event::Dispatched {
            on: d("2026-03-03"),
        },
    ])
    .when(Command::WarnSendingOverdue {
        today: d("2026-03-17"),
    })
    .then_refused(|r| matches!(r, Refusal::NotNow(_)));
    // Posting it cancels the warning.
    assert_eq!(
        Notification::timer_effects(&Event::Dispatched {
            on: d("2026-03-03")
        }),
        vec![TimerEffect::Cancel {
            kind: SENDING_TIMER.into()
        }]
    );
}

#[test]
fn the_effect_is_reported_to_the_file_once_per_notification() {
    let notification = Uuid::from_u128(42);
    let follow_ups =
        Notification::follow_ups(notification, &effect(Outcome::Delivered, "2026-03-04"));
    assert_eq!(follow_ups.len(), 1);
    let f = &follow_ups[0];
    assert_eq!(
        (f.stream_type.as_str(), f.stream_id),
        ("padron_removal_file", file())
    );
    assert_eq!(f.kind, follow_up_kind(notification));
    assert_eq!(
        Effect::from_follow_up(&f.kind, &f.data),
        Some(Effect {
            notification,
            act: ActKind::Opening,
            outcome: Outcome::Delivered,
            on: d("2026-03-04"),
        })
    );
    assert_eq!(Effect::from_follow_up("removal_file_lapse", &f.data), None);
    // The exit entry is in the registry book.
    assert_eq!(Notification::registry_entries(&paper()), vec![exit()]);
}

#[test]
fn event_names_are_the_serde_tags() {
    for event in [
        electronic(),
        Event::Dispatched {
            on: d("2026-03-03"),
        },
        attempt(1, "2026-03-04 10:00", AttemptResult::Absent),
        effect(Outcome::Edict, "2026-03-12"),
    ] {
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json["type"],
            crate::procedure::DomainEvent::event_type(&event)
        );
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
