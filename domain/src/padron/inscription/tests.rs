//! The inscription's rules, given past events, when a command, then the events or the refusal.

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use crate::identity::{IdentityDocument, Nationality};
use crate::padron::{
    renewal_due, renewal_timers, Actor, Dwelling, Inscription, InscriptionCommand,
    InscriptionEvent, InscriptionRefusal, InscriptionStage, Person, RemovalCause, ResidenceStatus,
    CONFIRMATION_EXPIRY_TIMER, CONFIRMATION_WARNING_TIMER, RENEWAL_EXPIRY_TIMER,
    RENEWAL_WARNING_TIMER,
};
use crate::procedure::{DomainEvent, TimerEffect};
use crate::testing::given;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn person(birth: NaiveDate) -> Person {
    Person {
        name: "Bilal Haddad".into(),
        birth_date: birth,
        nationality: Nationality::NonEu,
        document: IdentityDocument::ResidenceCard {
            number: "X1234567L".parse().unwrap(),
        },
    }
}
fn home() -> Dwelling {
    Dwelling {
        key: "9872023VK4797S0001WX".into(),
        address: "Calle de Toledo 10, 2º B".into(),
    }
}
fn inscribed(residence: ResidenceStatus, on: NaiveDate) -> InscriptionEvent {
    InscriptionEvent::Inscribed {
        entry: None,
        renewal_due: (residence == ResidenceStatus::NonEuTemporary).then(|| renewal_due(on)),
        person: person(d(1990, 1, 1)),
        residence,
        dwelling: home(),
        declares_nobody_else: false,
        actor: Actor::Themselves,
        on,
    }
}
fn renew_with(document: IdentityDocument, on: NaiveDate) -> InscriptionCommand {
    InscriptionCommand::Renew {
        entry: None,
        document,
        actor: Actor::Themselves,
        on,
    }
}
fn card() -> IdentityDocument {
    IdentityDocument::ResidenceCard {
        number: "X1234567L".parse().unwrap(),
    }
}

#[test]
fn renewal_is_due_two_years_after_the_last_change() {
    let state = given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2024, 2, 29))])
        .when(renew_with(card(), d(2025, 6, 1)))
        .then([InscriptionEvent::Renewed {
            entry: None,
            renewal_due: Some(d(2027, 6, 1)),
            actor: Actor::Themselves,
            on: d(2025, 6, 1),
        }]);
    assert_eq!(state.renewal_due(), Some(d(2027, 6, 1)));
    // A change of address restarts the count (the ombudsman's point).
    let moved = InscriptionEvent::AddressChanged {
        renewal_due: Some(d(2028, 1, 10)),
        dwelling: home(),
        actor: Actor::Themselves,
        on: d(2026, 1, 10),
    };
    let state = given::<Inscription>([
        inscribed(ResidenceStatus::NonEuTemporary, d(2024, 2, 29)),
        moved,
    ])
    .state()
    .clone();
    assert_eq!(state.renewal_due(), Some(d(2028, 1, 10)));
    // 29 Feb + 2 years is 28 Feb.
    let state = given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2024, 2, 29))])
        .state()
        .clone();
    assert_eq!(state.renewal_due(), Some(d(2026, 2, 28)));
}

#[test]
fn only_non_eu_without_permanent_residence_renew() {
    for residence in [
        ResidenceStatus::Spanish,
        ResidenceStatus::EuCitizen,
        ResidenceStatus::NonEuPermanent,
    ] {
        given::<Inscription>([inscribed(residence, d(2025, 1, 1))])
            .when(renew_with(card(), d(2026, 1, 1)))
            .then_refused(|e| *e == InscriptionRefusal::RenewalNotRequired);
    }
}

#[test]
fn the_foreigner_card_takes_precedence_over_the_passport() {
    given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 1))])
        .when(renew_with(
            IdentityDocument::Passport {
                number: "PAA123456".parse().unwrap(),
            },
            d(2026, 1, 1),
        ))
        .then_refused(|e| *e == InscriptionRefusal::CardTakesPrecedence);
}

#[test]
fn an_open_removal_file_blocks_renewal_and_changes_but_not_a_move() {
    let file = Uuid::new_v4();
    let history = [
        inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 1)),
        InscriptionEvent::RemovalFileOpened {
            file,
            on: d(2026, 1, 5),
        },
    ];
    for command in [
        renew_with(card(), d(2026, 1, 6)),
        InscriptionCommand::ModifyPersonalData {
            name: "B. Haddad".into(),
            document: card(),
            actor: Actor::Themselves,
            on: d(2026, 1, 6),
        },
        InscriptionCommand::AuthoriseNewInscription {
            newcomer: Uuid::new_v4(),
            on: d(2026, 1, 6),
        },
        InscriptionCommand::RequestRemovalOf {
            file: Uuid::new_v4(),
            target: Uuid::new_v4(),
            on: d(2026, 1, 6),
        },
    ] {
        given::<Inscription>(history.clone())
            .when(command)
            .then_refused(|e| *e == InscriptionRefusal::BlockedByRemovalFile);
    }
    // A change of address is how the person regularises (seed 004): not blocked.
    assert!(given::<Inscription>(history.clone())
        .when(InscriptionCommand::ChangeAddress {
            dwelling: home(),
            actor: Actor::Themselves,
            on: d(2026, 1, 6),
            regularises: None,
        })
        .outcome()
        .is_ok());
    // Regularising the file closes it on the inscription in the same command.
    let elsewhere = Dwelling {
        key: "1111111VK4797S0001AB".into(),
        address: "Calle de Alcalá 200".into(),
    };
    let state = given::<Inscription>(history.clone())
        .when(InscriptionCommand::ChangeAddress {
            dwelling: elsewhere.clone(),
            actor: Actor::Themselves,
            on: d(2026, 1, 6),
            regularises: Some(file),
        })
        .then([
            InscriptionEvent::AddressChanged {
                renewal_due: Some(renewal_due(d(2026, 1, 6))),
                dwelling: elsewhere.clone(),
                actor: Actor::Themselves,
                on: d(2026, 1, 6),
            },
            InscriptionEvent::RemovalFileClosed {
                file,
                on: d(2026, 1, 6),
            },
        ]);
    assert_eq!(state.open_removal_file, None);
    given::<Inscription>(history.clone())
        .when(InscriptionCommand::ChangeAddress {
            dwelling: home(),
            actor: Actor::Themselves,
            on: d(2026, 1, 6),
            regularises: Some(Uuid::new_v4()),
        })
        .then_refused(|e| *e == InscriptionRefusal::NoRemovalFile);
    given::<Inscription>(history.clone())
        .when(InscriptionCommand::RecordRemovalFileOpened {
            file: Uuid::new_v4(),
            on: d(2026, 1, 6),
        })
        .then_refused(|e| *e == InscriptionRefusal::FileAlreadyOpen);
    let mut closed = history.to_vec();
    closed.push(InscriptionEvent::RemovalFileClosed {
        file,
        on: d(2026, 2, 1),
    });
    assert!(given::<Inscription>(closed)
        .when(renew_with(card(), d(2026, 2, 2)))
        .outcome()
        .is_ok());
}

#[test]
fn eu_citizens_and_permanent_residents_confirm_residence_unless_blocked() {
    let confirm = InscriptionCommand::ConfirmResidence {
        actor: Actor::Themselves,
        on: d(2026, 5, 1),
    };
    given::<Inscription>([inscribed(ResidenceStatus::EuCitizen, d(2025, 1, 1))])
        .when(confirm.clone())
        .then([
            InscriptionEvent::ResidenceConfirmed {
                actor: Actor::Themselves,
                on: d(2026, 5, 1),
            },
            // The next confirmation: five years on (a foreigner card on record: in the Central
            // Register of Foreigners).
            InscriptionEvent::ConfirmationDue { due: d(2031, 5, 1) },
        ]);
    given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 1))])
        .when(confirm.clone())
        .then_refused(|e| *e == InscriptionRefusal::ConfirmationNotRequired);
    given::<Inscription>([
        inscribed(ResidenceStatus::NonEuPermanent, d(2025, 1, 1)),
        InscriptionEvent::RemovalFileOpened {
            file: Uuid::nil(),
            on: d(2026, 4, 1),
        },
    ])
    .when(confirm)
    .then_refused(|e| *e == InscriptionRefusal::BlockedByRemovalFile);
}

#[test]
fn minors_act_through_parents_and_adults_need_authorised_representatives() {
    let minor = person(d(2015, 1, 1));
    let inscribe = |actor: Actor, who: Person| InscriptionCommand::Inscribe {
        entry: None,
        person: who,
        residence: ResidenceStatus::NonEuTemporary,
        dwelling: home(),
        declares_nobody_else: false,
        actor,
        on: d(2026, 1, 1),
        at: Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
    };
    given::<Inscription>([])
        .when(inscribe(Actor::Themselves, minor.clone()))
        .then_refused(|e| matches!(e, InscriptionRefusal::ActorNotEntitled(_)));
    assert!(given::<Inscription>([])
        .when(inscribe(
            Actor::Parent {
                document: "12345678Z".into()
            },
            minor
        ))
        .outcome()
        .is_ok());
    given::<Inscription>([])
        .when(inscribe(
            Actor::Representative {
                document: "12345678Z".into(),
                authorisation: String::new(),
            },
            person(d(1990, 1, 1)),
        ))
        .then_refused(|e| matches!(e, InscriptionRefusal::ActorNotEntitled(_)));
}

#[test]
fn renewal_timers_warn_three_months_before_and_propose_lapse_after_the_expiry() {
    let event = inscribed(ResidenceStatus::NonEuTemporary, d(2025, 3, 10));
    let timers = renewal_timers(&event);
    assert_eq!(
        timers,
        vec![
            TimerEffect::Set {
                kind: RENEWAL_WARNING_TIMER.into(),
                fires_on: d(2026, 12, 10),
                data: serde_json::json!({"due": "2027-03-10"}),
            },
            TimerEffect::Set {
                kind: RENEWAL_EXPIRY_TIMER.into(),
                fires_on: d(2027, 3, 11),
                data: serde_json::json!({"due": "2027-03-10"}),
            },
        ]
    );
    given::<Inscription>([event.clone()])
        .when(InscriptionCommand::ProposeLapse {
            due: d(2027, 3, 10),
            on: d(2027, 3, 10),
        })
        .then_refused(|e| *e == InscriptionRefusal::StaleTimer);
    let proposed = InscriptionEvent::LapseProposed {
        due: d(2027, 3, 10),
        on: d(2027, 3, 11),
    };
    given::<Inscription>([event.clone()])
        .when(InscriptionCommand::ProposeLapse {
            due: d(2027, 3, 10),
            on: d(2027, 3, 11),
        })
        .then([proposed.clone()]);
    // A stale timer (renewed since) proposes nothing.
    let renewed = InscriptionEvent::Renewed {
        entry: None,
        renewal_due: Some(d(2029, 1, 5)),
        actor: Actor::Themselves,
        on: d(2027, 1, 5),
    };
    given::<Inscription>([event.clone(), renewed])
        .when(InscriptionCommand::ProposeLapse {
            due: d(2027, 3, 10),
            on: d(2027, 3, 11),
        })
        .then_refused(|e| *e == InscriptionRefusal::StaleTimer);
    // Removal for lapse needs the proposal; then it is removed without a hearing.
    given::<Inscription>([event.clone()])
        .when(InscriptionCommand::Remove {
            cause: RemovalCause::Lapse,
            effective_on: d(2027, 4, 1),
            file: None,
        })
        .then_refused(|e| *e == InscriptionRefusal::LapseNotProposed);
    given::<Inscription>([event, proposed])
        .when(InscriptionCommand::Remove {
            cause: RemovalCause::Lapse,
            effective_on: d(2027, 4, 1),
            file: None,
        })
        .then([InscriptionEvent::Removed {
            cause: RemovalCause::Lapse,
            effective_on: d(2027, 4, 1),
        }]);
}

fn correction(version: i32) -> crate::lpac::Correction {
    crate::lpac::Correction {
        corrects_version: version,
        corrects_type: "removed".into(),
        reason: crate::lpac::Reasons::try_from(
            "La defunción comunicada era de otra persona".to_owned(),
        )
        .unwrap(),
        by: "caseworker-1".into(),
    }
}

#[test]
fn a_removal_recorded_by_mistake_is_corrected_and_the_inscription_runs_again() {
    let on = d(2026, 1, 6);
    let death = InscriptionEvent::Removed {
        cause: RemovalCause::Death,
        effective_on: d(2026, 3, 2),
    };
    let file = Uuid::from_u128(3);
    let history = [
        inscribed(ResidenceStatus::NonEuTemporary, on),
        InscriptionEvent::RemovalFileOpened {
            file,
            on: d(2026, 2, 2),
        },
        death.clone(),
    ];
    let corrected = InscriptionEvent::RemovalCorrected {
        correction: correction(3),
        renewal_due: Some(renewal_due(on)),
        open_removal_file: Some(file),
        on: d(2026, 3, 5),
    };
    let state = given::<Inscription>(history.clone())
        .when(InscriptionCommand::CorrectRemoval {
            correction: correction(3),
            on: d(2026, 3, 5),
        })
        .then([corrected.clone()]);
    // As it was: inscribed, the removal file open again, the renewal's timers set again.
    assert_eq!(state.stage, crate::padron::InscriptionStage::Inscribed);
    assert_eq!(state.open_removal_file, Some(file));
    assert!(
        matches!(&renewal_timers(&corrected)[..], [TimerEffect::Set { .. }, TimerEffect::Set { kind, .. }]
        if kind == RENEWAL_EXPIRY_TIMER)
    );
    // Nothing left to correct.
    let mut after = history.to_vec();
    after.push(corrected);
    given::<Inscription>(after)
        .when(InscriptionCommand::CorrectRemoval {
            correction: correction(3),
            on: d(2026, 3, 6),
        })
        .then_refused(|e| *e == InscriptionRefusal::NotRemoved);
    // A removal decided by resolution is not a material error.
    given::<Inscription>([
        inscribed(ResidenceStatus::NonEuTemporary, on),
        InscriptionEvent::RemovalFileOpened {
            file,
            on: d(2026, 2, 2),
        },
        InscriptionEvent::Removed {
            cause: RemovalCause::WrongInscription,
            effective_on: d(2026, 3, 2),
        },
    ])
    .when(InscriptionCommand::CorrectRemoval {
        correction: correction(3),
        on: d(2026, 3, 5),
    })
    .then_refused(|e| *e == InscriptionRefusal::RemovalByResolution);
}

#[test]
fn event_types_are_the_names_stored_in_the_log() {
    let on = d(2026, 1, 6);
    let file = Uuid::nil();
    for (event, name) in [
        (inscribed(ResidenceStatus::NonEuTemporary, on), "inscribed"),
        (
            InscriptionEvent::AddressChanged {
                renewal_due: Some(renewal_due(on)),
                dwelling: home(),
                actor: Actor::Themselves,
                on,
            },
            "address_changed",
        ),
        (
            InscriptionEvent::PersonalDataModified {
                renewal_due: None,
                name: "B. Haddad".into(),
                document: card(),
                actor: Actor::Themselves,
                on,
            },
            "personal_data_modified",
        ),
        (
            InscriptionEvent::Renewed {
                entry: None,
                renewal_due: Some(renewal_due(on)),
                actor: Actor::Themselves,
                on,
            },
            "renewed",
        ),
        (
            InscriptionEvent::ResidenceConfirmed {
                actor: Actor::Themselves,
                on,
            },
            "residence_confirmed",
        ),
        (
            InscriptionEvent::NewInscriptionAuthorised { newcomer: file, on },
            "new_inscription_authorised",
        ),
        (
            InscriptionEvent::RemovalRequested {
                file,
                target: file,
                on,
            },
            "removal_requested",
        ),
        (
            InscriptionEvent::RemovalFileOpened { file, on },
            "removal_file_opened",
        ),
        (
            InscriptionEvent::RemovalFileClosed { file, on },
            "removal_file_closed",
        ),
        (
            InscriptionEvent::RenewalWarningSent { due: on, on },
            "renewal_warning_sent",
        ),
        (
            InscriptionEvent::LapseProposed { due: on, on },
            "lapse_proposed",
        ),
        (
            InscriptionEvent::Removed {
                cause: RemovalCause::Death,
                effective_on: on,
            },
            "removed",
        ),
    ] {
        assert_eq!(event.event_type(), name);
        assert_eq!(serde_json::to_value(&event).unwrap()["type"], name);
    }
}

#[test]
fn the_lapse_is_declared_by_resolution_and_the_removal_follows_its_notification() {
    let on = d(2026, 1, 6);
    let proposed = InscriptionEvent::LapseProposed {
        due: renewal_due(on),
        on: d(2028, 1, 7),
    };
    let grounds = crate::lpac::Reasons::try_from("No ha renovado en plazo".to_owned()).unwrap();
    let resolve = InscriptionCommand::ResolveLapse {
        grounds: grounds.clone(),
        appeals: Vec::new(),
        notification: Uuid::from_u128(5),
        on: d(2028, 1, 10),
    };
    given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, on)])
        .when(resolve.clone())
        .then_refused(|e| *e == InscriptionRefusal::LapseNotProposed);
    let resolved = InscriptionEvent::LapseResolved {
        grounds,
        appeals: Vec::new(),
        notification: Uuid::from_u128(5),
        on: d(2028, 1, 10),
    };
    given::<Inscription>([
        inscribed(ResidenceStatus::NonEuTemporary, on),
        proposed.clone(),
    ])
    .when(resolve.clone())
    .then([resolved.clone()]);
    let after = given::<Inscription>([
        inscribed(ResidenceStatus::NonEuTemporary, on),
        proposed,
        resolved,
    ]);
    let resolved_state = after.state().clone();
    after
        .when(resolve)
        .then_refused(|e| *e == InscriptionRefusal::LapseAlreadyResolved);
    // Its notification's effect removes the inscription that day.
    let effect = crate::lpac::notification::Effect {
        notification: Uuid::from_u128(5),
        act: crate::lpac::notification::ActKind::Resolution,
        outcome: crate::lpac::notification::Outcome::Delivered,
        on: d(2028, 1, 14),
    };
    assert_eq!(
        crate::testing::fire::<Inscription>(
            &crate::lpac::notification::follow_up_kind(effect.notification),
            &serde_json::to_value(effect).unwrap(),
            &resolved_state,
            Utc::now(),
            d(2028, 1, 14),
        ),
        Some(InscriptionCommand::Remove {
            cause: RemovalCause::Lapse,
            effective_on: d(2028, 1, 14),
            file: None,
        })
    );
}

#[test]
fn a_removed_person_is_inscribed_again_as_a_new_period_and_not_twice() {
    let removed = [
        inscribed(ResidenceStatus::NonEuTemporary, d(2024, 1, 10)),
        InscriptionEvent::LapseProposed {
            due: d(2026, 1, 10),
            on: d(2026, 1, 11),
        },
        InscriptionEvent::Removed {
            cause: RemovalCause::Lapse,
            effective_on: d(2026, 2, 1),
        },
    ];
    let again = InscriptionCommand::Inscribe {
        entry: None,
        person: person(d(1990, 1, 1)),
        residence: ResidenceStatus::NonEuTemporary,
        dwelling: home(),
        declares_nobody_else: false,
        actor: Actor::Themselves,
        on: d(2026, 3, 2),
        at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    };
    let state = given::<Inscription>(removed.clone())
        .when(again.clone())
        .then([InscriptionEvent::Reinscribed {
            entry: None,
            renewal_due: Some(d(2028, 3, 2)),
            person: person(d(1990, 1, 1)),
            residence: ResidenceStatus::NonEuTemporary,
            dwelling: home(),
            declares_nobody_else: false,
            actor: Actor::Themselves,
            on: d(2026, 3, 2),
        }]);
    // Nothing of the earlier period's lapse or removal remains.
    assert_eq!(state.stage, InscriptionStage::Inscribed);
    assert!(!state.lapse_proposed && state.removal.is_none());
    assert_eq!(state.renewal_due(), Some(d(2028, 3, 2)));
    // Its timers are set again.
    let reinscribed = InscriptionEvent::Reinscribed {
        entry: None,
        renewal_due: Some(d(2028, 3, 2)),
        person: person(d(1990, 1, 1)),
        residence: ResidenceStatus::NonEuTemporary,
        dwelling: home(),
        declares_nobody_else: false,
        actor: Actor::Themselves,
        on: d(2026, 3, 2),
    };
    assert!(renewal_timers(&reinscribed)
        .iter()
        .any(|t| matches!(t, TimerEffect::Set { fires_on, .. } if *fires_on == d(2028, 3, 3))));
    assert_eq!(reinscribed.event_type(), "reinscribed");
    // While inscribed, not again.
    let mut history = removed.to_vec();
    history.push(reinscribed);
    given::<Inscription>(history)
        .when(again)
        .then_refused(|e| *e == InscriptionRefusal::AlreadyInscribed);
}

#[test]
fn a_change_of_residence_status_decides_the_duty_to_renew() {
    let temporary = [inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 10))];
    let change = |residence, evidence: &str| InscriptionCommand::ChangeResidenceStatus {
        residence,
        evidence: evidence.into(),
        on: d(2026, 3, 2),
    };
    // Permanent residence ends the duty: no renewal due, the timers cancelled.
    let state = given::<Inscription>(temporary.clone())
        .when(change(
            ResidenceStatus::NonEuPermanent,
            "tarjeta de larga duración",
        ))
        .then([
            InscriptionEvent::ResidenceStatusChanged {
                residence: ResidenceStatus::NonEuPermanent,
                evidence: "tarjeta de larga duración".into(),
                renewal_due: None,
                on: d(2026, 3, 2),
            },
            // A permanent resident with a foreigner card confirms every five years instead.
            InscriptionEvent::ConfirmationDue { due: d(2031, 3, 2) },
        ]);
    assert_eq!(state.renewal_due(), None);
    let ended = InscriptionEvent::ResidenceStatusChanged {
        residence: ResidenceStatus::Spanish,
        evidence: "nacionalidad".into(),
        renewal_due: None,
        on: d(2026, 3, 2),
    };
    assert!(renewal_timers(&ended)
        .iter()
        .all(|t| matches!(t, TimerEffect::Cancel { .. })));
    // Losing permanent residence starts it: two years from the change.
    given::<Inscription>([inscribed(ResidenceStatus::NonEuPermanent, d(2025, 1, 10))])
        .when(change(
            ResidenceStatus::NonEuTemporary,
            "resolución de extinción",
        ))
        .then([InscriptionEvent::ResidenceStatusChanged {
            residence: ResidenceStatus::NonEuTemporary,
            evidence: "resolución de extinción".into(),
            renewal_due: Some(d(2028, 3, 2)),
            on: d(2026, 3, 2),
        }]);
    given::<Inscription>(temporary.clone())
        .when(change(ResidenceStatus::NonEuTemporary, "la misma"))
        .then_refused(|e| *e == InscriptionRefusal::SameResidenceStatus);
    given::<Inscription>(temporary.clone())
        .when(change(ResidenceStatus::Spanish, "  "))
        .then_refused(|e| *e == InscriptionRefusal::EvidenceMissing);
    let mut blocked = temporary.to_vec();
    blocked.push(InscriptionEvent::RemovalFileOpened {
        file: Uuid::nil(),
        on: d(2026, 2, 1),
    });
    given::<Inscription>(blocked)
        .when(change(ResidenceStatus::Spanish, "nacionalidad"))
        .then_refused(|e| *e == InscriptionRefusal::BlockedByRemovalFile);
}

#[test]
fn the_actor_rules_hold_in_every_padron_procedure_not_only_the_inscription() {
    // A child inscribed by a parent: later procedures are a parent's too.
    let child = InscriptionEvent::Inscribed {
        entry: None,
        renewal_due: Some(renewal_due(d(2025, 1, 10))),
        person: person(d(2015, 6, 1)),
        residence: ResidenceStatus::NonEuTemporary,
        dwelling: home(),
        declares_nobody_else: false,
        actor: Actor::Parent {
            document: "12345678Z".into(),
        },
        on: d(2025, 1, 10),
    };
    let alone = [
        renew_with(card(), d(2026, 6, 1)),
        InscriptionCommand::ChangeAddress {
            dwelling: home(),
            actor: Actor::Themselves,
            on: d(2026, 6, 1),
            regularises: None,
        },
        InscriptionCommand::ModifyPersonalData {
            name: "B. Haddad".into(),
            document: card(),
            actor: Actor::Themselves,
            on: d(2026, 6, 1),
        },
    ];
    for command in alone {
        given::<Inscription>([child.clone()])
            .when(command)
            .then_refused(|e| matches!(e, InscriptionRefusal::ActorNotEntitled(_)));
    }
    let mut by_parent = renew_with(card(), d(2026, 6, 1));
    if let InscriptionCommand::Renew { actor, .. } = &mut by_parent {
        *actor = Actor::Parent {
            document: "12345678Z".into(),
        };
    }
    assert!(given::<Inscription>([child])
        .when(by_parent)
        .outcome()
        .is_ok());
    // An adult's representative needs the written authorisation, in a renewal too.
    let mut represented = renew_with(card(), d(2026, 6, 1));
    if let InscriptionCommand::Renew { actor, .. } = &mut represented {
        *actor = Actor::Representative {
            document: "12345678Z".into(),
            authorisation: " ".into(),
        };
    }
    given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 10))])
        .when(represented)
        .then_refused(|e| matches!(e, InscriptionRefusal::ActorNotEntitled(_)));
}

#[test]
fn a_card_on_record_is_not_replaced_by_a_passport_through_a_change_of_data() {
    given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 10))])
        .when(InscriptionCommand::ModifyPersonalData {
            name: "Bilal Haddad".into(),
            document: IdentityDocument::Passport {
                number: "PA1234567".parse().unwrap(),
            },
            actor: Actor::Themselves,
            on: d(2026, 6, 1),
        })
        .then_refused(|e| *e == InscriptionRefusal::CardTakesPrecedence);
}

#[test]
fn another_person_with_the_same_number_is_not_merged_into_a_removed_inscription() {
    let removed = [
        inscribed(ResidenceStatus::NonEuTemporary, d(2024, 1, 10)),
        InscriptionEvent::Removed {
            cause: RemovalCause::ChangeOfResidence,
            effective_on: d(2026, 2, 1),
        },
    ];
    given::<Inscription>(removed)
        .when(InscriptionCommand::Inscribe {
            entry: None,
            person: person(d(1985, 7, 7)),
            residence: ResidenceStatus::NonEuTemporary,
            dwelling: home(),
            declares_nobody_else: false,
            actor: Actor::Themselves,
            on: d(2026, 3, 2),
            at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
        })
        .then_refused(|e| *e == InscriptionRefusal::DocumentOfAnotherPerson);
}

#[test]
fn a_move_to_the_same_dwelling_does_not_regularise_a_file() {
    let file = Uuid::new_v4();
    given::<Inscription>([
        inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 1)),
        InscriptionEvent::RemovalFileOpened {
            file,
            on: d(2026, 1, 5),
        },
    ])
    .when(InscriptionCommand::ChangeAddress {
        dwelling: Dwelling {
            key: home().key.to_lowercase(),
            address: "Calle de Toledo 10, 2º B".into(),
        },
        actor: Actor::Themselves,
        on: d(2026, 1, 6),
        regularises: Some(file),
    })
    .then_refused(|e| *e == InscriptionRefusal::SameDwelling);
}

#[test]
fn a_lapse_declared_is_not_undone_by_a_status_and_only_its_own_notification_removes() {
    let notification = Uuid::from_u128(7);
    let history = [
        inscribed(ResidenceStatus::NonEuTemporary, d(2024, 1, 10)),
        InscriptionEvent::LapseProposed {
            due: d(2026, 1, 10),
            on: d(2026, 1, 11),
        },
        InscriptionEvent::LapseResolved {
            grounds: crate::lpac::Reasons::try_from("No ha renovado".to_owned()).unwrap(),
            appeals: Vec::new(),
            notification,
            on: d(2026, 1, 20),
        },
    ];
    given::<Inscription>(history.clone())
        .when(InscriptionCommand::ChangeResidenceStatus {
            residence: ResidenceStatus::NonEuPermanent,
            evidence: "tarjeta de larga duración".into(),
            on: d(2026, 1, 25),
        })
        .then_refused(|e| *e == InscriptionRefusal::LapseAlreadyResolved);
    let state = given::<Inscription>(history).state().clone();
    let calendar = crate::calendar::HolidayCalendar::bundled();
    let context = crate::procedure::TimerContext {
        now: Utc.with_ymd_and_hms(2026, 2, 1, 9, 0, 0).unwrap(),
        today: d(2026, 2, 1),
        calendar: &calendar,
        seat: "28079",
    };
    let effect = |id: Uuid| {
        serde_json::to_value(crate::lpac::notification::Effect {
            notification: id,
            act: crate::lpac::notification::ActKind::Resolution,
            outcome: crate::lpac::notification::Outcome::Delivered,
            on: d(2026, 2, 1),
        })
        .unwrap()
    };
    let kind = |id: Uuid| format!("{}/{id}", crate::lpac::notification::TOOK_EFFECT);
    use crate::procedure::Procedure;
    assert_eq!(
        Inscription::timer_command(&kind(notification), &effect(notification), &state, &context),
        Some(InscriptionCommand::Remove {
            cause: RemovalCause::Lapse,
            effective_on: d(2026, 2, 1),
            file: None,
        })
    );
    let other = Uuid::from_u128(8);
    assert_eq!(
        Inscription::timer_command(&kind(other), &effect(other), &state, &context),
        None
    );
}

#[test]
fn eu_citizens_and_permanent_residents_confirm_periodically_with_a_warning_and_an_overdue_list() {
    let eu = |document: IdentityDocument| InscriptionEvent::Inscribed {
        entry: None,
        renewal_due: None,
        person: Person {
            document,
            nationality: Nationality::EuropeanUnion,
            ..person(d(1980, 1, 1))
        },
        residence: ResidenceStatus::EuCitizen,
        dwelling: home(),
        declares_nobody_else: false,
        actor: Actor::Themselves,
        on: d(2025, 1, 10),
    };
    // In the Central Register of Foreigners (an EU registration certificate): five years.
    let certificate = IdentityDocument::EuRegistrationCertificate {
        number: "X1234567L".parse().unwrap(),
        passport: "PA7654321".parse().unwrap(),
    };
    let state = given::<Inscription>([eu(certificate)]).state().clone();
    assert_eq!(state.confirmation_due(), Some(d(2030, 1, 10)));
    // Otherwise (a passport): two.
    let passport = IdentityDocument::Passport {
        number: "PA1234567".parse().unwrap(),
    };
    let history = [
        eu(passport),
        InscriptionEvent::ConfirmationDue {
            due: d(2027, 1, 10),
        },
    ];
    let state = given::<Inscription>(history.clone()).state().clone();
    assert_eq!(state.confirmation_due(), Some(d(2027, 1, 10)));
    // Its timers: the warning three months before, the overdue list the day after.
    let timers = renewal_timers(&InscriptionEvent::ConfirmationDue {
        due: d(2027, 1, 10),
    });
    assert!(timers
        .iter()
        .any(|t| matches!(t, TimerEffect::Set { kind, fires_on, .. }
        if kind == CONFIRMATION_WARNING_TIMER && *fires_on == d(2026, 10, 10))));
    assert!(timers
        .iter()
        .any(|t| matches!(t, TimerEffect::Set { kind, fires_on, .. }
        if kind == CONFIRMATION_EXPIRY_TIMER && *fires_on == d(2027, 1, 11))));
    given::<Inscription>(history.clone())
        .when(InscriptionCommand::SendConfirmationWarning {
            due: d(2027, 1, 10),
            on: d(2026, 10, 10),
        })
        .then([InscriptionEvent::ConfirmationWarningSent {
            due: d(2027, 1, 10),
            on: d(2026, 10, 10),
        }]);
    let overdue = given::<Inscription>(history.clone())
        .when(InscriptionCommand::RecordConfirmationOverdue {
            due: d(2027, 1, 10),
            on: d(2027, 1, 11),
        })
        .then([InscriptionEvent::ConfirmationOverdue {
            due: d(2027, 1, 10),
            on: d(2027, 1, 11),
        }]);
    assert!(overdue.confirmation_overdue);
    // A timer for a day that moved since (she confirmed) does nothing.
    let mut confirmed = history.to_vec();
    confirmed.push(InscriptionEvent::ResidenceConfirmed {
        actor: Actor::Themselves,
        on: d(2026, 11, 2),
    });
    confirmed.push(InscriptionEvent::ConfirmationDue {
        due: d(2028, 11, 2),
    });
    given::<Inscription>(confirmed)
        .when(InscriptionCommand::RecordConfirmationOverdue {
            due: d(2027, 1, 10),
            on: d(2027, 1, 11),
        })
        .then_refused(|e| *e == InscriptionRefusal::StaleTimer);
    // Whoever renews (ENCSARP) has no confirmation.
    let temporary =
        given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 10))]);
    assert_eq!(temporary.state().confirmation_due(), None);
    assert!(renewal_timers(&InscriptionEvent::Removed {
        cause: RemovalCause::Death,
        effective_on: d(2026, 1, 1),
    })
    .iter()
    .any(|t| matches!(t, TimerEffect::Cancel { kind } if kind == CONFIRMATION_EXPIRY_TIMER)));
}

#[test]
fn a_change_of_status_that_keeps_the_confirmation_day_sets_its_timers_again() {
    let card = IdentityDocument::EuIdentityCard {
        number: "FR1234567".parse().unwrap(),
    };
    let history = [
        InscriptionEvent::Inscribed {
            entry: None,
            renewal_due: None,
            person: Person {
                document: card,
                nationality: Nationality::EuropeanUnion,
                ..person(d(1980, 1, 1))
            },
            residence: ResidenceStatus::EuCitizen,
            dwelling: home(),
            declares_nobody_else: false,
            actor: Actor::Themselves,
            on: d(2026, 3, 2),
        },
        InscriptionEvent::ConfirmationDue { due: d(2028, 3, 2) },
    ];
    // The same day, a permanent resident with the same card: the day stays, the timers the
    // status change cancels are set again.
    given::<Inscription>(history)
        .when(InscriptionCommand::ChangeResidenceStatus {
            residence: ResidenceStatus::NonEuPermanent,
            evidence: "resolución".into(),
            on: d(2026, 3, 2),
        })
        .then([
            InscriptionEvent::ResidenceStatusChanged {
                residence: ResidenceStatus::NonEuPermanent,
                evidence: "resolución".into(),
                renewal_due: None,
                on: d(2026, 3, 2),
            },
            InscriptionEvent::ConfirmationDue { due: d(2028, 3, 2) },
        ]);
}

#[test]
fn a_removal_for_wrong_inscription_is_the_open_files_own() {
    let open = Uuid::from_u128(1);
    let history = [
        inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 1)),
        InscriptionEvent::RemovalFileOpened {
            file: open,
            on: d(2026, 1, 5),
        },
    ];
    let remove = |file| InscriptionCommand::Remove {
        cause: RemovalCause::WrongInscription,
        effective_on: d(2026, 3, 1),
        file,
    };
    // A file left from an earlier period (or none) does not remove this one.
    given::<Inscription>(history.clone())
        .when(remove(Some(Uuid::from_u128(2))))
        .then_refused(|e| *e == InscriptionRefusal::NoRemovalFile);
    given::<Inscription>(history.clone())
        .when(remove(None))
        .then_refused(|e| *e == InscriptionRefusal::NoRemovalFile);
    given::<Inscription>(history)
        .when(remove(Some(open)))
        .then([InscriptionEvent::Removed {
            cause: RemovalCause::WrongInscription,
            effective_on: d(2026, 3, 1),
        }]);
}

#[test]
fn an_inscription_recorded_before_confirmation_days_gets_its_day_once() {
    let legacy = [InscriptionEvent::Inscribed {
        entry: None,
        renewal_due: None,
        person: Person {
            document: IdentityDocument::EuIdentityCard {
                number: "FR1234567".parse().unwrap(),
            },
            nationality: Nationality::EuropeanUnion,
            ..person(d(1980, 1, 1))
        },
        residence: ResidenceStatus::EuCitizen,
        dwelling: home(),
        declares_nobody_else: false,
        actor: Actor::Themselves,
        on: d(2023, 6, 1),
    }];
    given::<Inscription>(legacy.clone())
        .when(InscriptionCommand::RecordConfirmationDay)
        .then([InscriptionEvent::ConfirmationDue { due: d(2025, 6, 1) }]);
    let mut recorded = legacy.to_vec();
    recorded.push(InscriptionEvent::ConfirmationDue { due: d(2025, 6, 1) });
    given::<Inscription>(recorded)
        .when(InscriptionCommand::RecordConfirmationDay)
        .then_refused(|e| *e == InscriptionRefusal::ConfirmationDayRecorded);
    given::<Inscription>([inscribed(ResidenceStatus::NonEuTemporary, d(2025, 1, 1))])
        .when(InscriptionCommand::RecordConfirmationDay)
        .then_refused(|e| *e == InscriptionRefusal::ConfirmationDayRecorded);
}
