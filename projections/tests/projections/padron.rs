//! The padrón register read model: kept from inscription events, the renewal due date following
//! the last change that counts as renewal.

use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use expedientes_domain::padron::{
    Actor, Dwelling, Inscription, InscriptionCommand, Person, ResidenceStatus,
};
use expedientes_domain::user_account::{IdentityDocument, Nationality};
use expedientes_eventlog::{CommandRequest, EventLog, Metadata, MIGRATOR};
use expedientes_projections::{PadronRegister, ReadModel, RebuildEffects, Runner};
use expedientes_tests::TestDatabase;
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn request(id: Uuid) -> CommandRequest {
    CommandRequest {
        tenant: "28079".parse().unwrap(),
        stream_id: id,
        expected_version: None,
        metadata: Metadata {
            actor_id: "E1".into(),
            actor_role: "caseworker".into(),
            correlation_id: Uuid::new_v4(),
            ..Metadata::default()
        },
        request_hash: None,
    }
}

fn dwelling(key: &str) -> Dwelling {
    Dwelling {
        key: key.into(),
        address: format!("Calle {key}"),
    }
}

#[tokio::test]
async fn the_register_follows_inscriptions_and_their_renewal_due_dates() {
    let db = TestDatabase::create(&MIGRATOR).await;
    let pool = db.pool(8).await;
    let log = EventLog::new(pool.clone());
    let models: Vec<Arc<dyn ReadModel>> = vec![Arc::new(PadronRegister)];
    let runner = Runner::new(log.clone(), models);
    let mut ids = Vec::new();
    for (i, residence) in [ResidenceStatus::NonEuTemporary, ResidenceStatus::Spanish]
        .into_iter()
        .enumerate()
    {
        let id = Uuid::new_v4();
        ids.push(id);
        log.execute::<Inscription>(request(id), move |_, _| InscriptionCommand::Inscribe {
            entry: None,
            person: Person {
                name: format!("Persona {i}"),
                birth_date: d(1990, 1, 1),
                nationality: Nationality::NonEu,
                document: IdentityDocument::ResidenceCard {
                    number: "X1234567L".parse().unwrap(),
                },
            },
            residence,
            dwelling: dwelling("A"),
            declares_nobody_else: false,
            actor: Actor::Themselves,
            on: d(2025, 3, 10),
            at: Utc::now(),
        })
        .await
        .unwrap();
    }
    log.execute::<Inscription>(request(ids[0]), |_, _| InscriptionCommand::ChangeAddress {
        dwelling: dwelling("B"),
        actor: Actor::Themselves,
        on: d(2026, 1, 15),
        regularises: None,
    })
    .await
    .unwrap();
    runner.settle(super::SETTLE).await.unwrap();
    let rows: Vec<(Uuid, String, NaiveDate, Option<NaiveDate>)> = sqlx::query_as(
        "SELECT inscription_id, dwelling_key, last_change_on, renewal_due FROM padron_register ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        rows[0],
        (ids[0], "B".to_owned(), d(2026, 1, 15), Some(d(2028, 1, 15)))
    );
    assert_eq!(rows[1], (ids[1], "A".to_owned(), d(2025, 3, 10), None));
    // Rebuilt from scratch: the same.
    let model = runner.model("padron_register").unwrap();
    runner
        .rebuild(model.as_ref(), RebuildEffects::Refuse, &mut |_| {})
        .await
        .unwrap();
    let again: Vec<(Uuid, String, NaiveDate, Option<NaiveDate>)> = sqlx::query_as(
        "SELECT inscription_id, dwelling_key, last_change_on, renewal_due FROM padron_register ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows, again);
}
