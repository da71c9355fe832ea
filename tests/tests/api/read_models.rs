//! No event can stop a read model for everyone: an event the padrón register cannot apply (a
//! dwelling key too long for its index, as one request could write before inputs were bounded)
//! is set aside with its error, its stream's later events wait behind it, every other stream and
//! tenant goes on, `/ready` names the stuck model, and an operator retries it after a fix.

use expedientes_domain::padron::{
    Actor, Dwelling, Inscription, InscriptionCommand, Person, ResidenceStatus,
};
use expedientes_domain::user_account::{IdentityDocument, Nationality};
use expedientes_eventlog::{CommandRequest, Metadata};
use uuid::Uuid;

use super::*;

fn inscribe(document: &str, dwelling_key: String) -> InscriptionCommand {
    InscriptionCommand::Inscribe {
        entry: None,
        person: Person {
            name: "Bilal Haddad".into(),
            birth_date: day(1990, 1, 1),
            nationality: Nationality::NonEu,
            document: IdentityDocument::ResidenceCard {
                number: document.parse().expect("a NIE"),
            },
        },
        residence: ResidenceStatus::NonEuTemporary,
        dwelling: Dwelling {
            key: dwelling_key,
            address: "Calle de Toledo 10".into(),
        },
        declares_nobody_else: false,
        actor: Actor::Themselves,
        on: day(2026, 3, 2),
        at: utc(2026, 3, 2, 9, 0),
    }
}

/// Text that does not compress (PostgreSQL would compress a repeated letter into an index row).
fn incompressible(length: usize) -> String {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..length)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            char::from(b'!' + ((state >> 33) % 94) as u8)
        })
        .collect()
}

fn request(tenant: &str, stream: Uuid) -> CommandRequest {
    CommandRequest {
        tenant: tenant.parse().expect("an INE code"),
        stream_id: stream,
        expected_version: None,
        metadata: Metadata {
            actor_id: "funcionaria-0042".into(),
            actor_role: "caseworker".into(),
            correlation_id: Uuid::new_v4(),
            command_id: Some(Uuid::new_v4()),
            ..Metadata::default()
        },
        request_hash: None,
    }
}

#[tokio::test]
async fn an_event_a_read_model_cannot_apply_stops_nothing_else_and_can_be_retried() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    // A poison event in Leganés (written straight to the log, as before inputs were bounded): the
    // register's index refuses a 6,000-character dwelling key.
    let poisoned = Uuid::new_v4();
    app.state
        .log
        .execute::<Inscription>(request(LEGANES, poisoned), |_, _| {
            inscribe(BORIS, incompressible(6000))
        })
        .await
        .expect("the log takes it");
    // And the same stream's next event, which must wait behind it.
    app.state
        .log
        .execute::<Inscription>(request(LEGANES, poisoned), |_, _| {
            InscriptionCommand::Renew {
                entry: None,
                document: IdentityDocument::ResidenceCard {
                    number: BORIS.parse().unwrap(),
                },
                actor: Actor::Themselves,
                on: day(2026, 3, 3),
            }
        })
        .await
        .expect("the log takes it");
    // Madrid goes on: an inscription through the API is in the register at once.
    let reply = post("/v1/padron/inscriptions")
        .bearer(&app.caseworker())
        .json(&json!({"name": "Carmen Ruiz", "birth_date": "1985-01-01", "nationality": "non_eu",
            "residence": "non_eu_temporary", "document": {"kind": "residence_card", "number": CARMEN},
            "dwelling_key": "9872023VK4797S0001WX", "address": "Calle de Toledo 10",
            "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let row = reply.follow(&app).await;
    assert_eq!(row["document"], CARMEN);
    // Other models applied the poisoned stream's events (the timers of its renewal are set).
    let timers: i64 = sqlx::query_scalar("SELECT count(*) FROM deadline_timers WHERE case_id = $1")
        .bind(poisoned)
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert!(timers > 0, "the timers model went on with the stream");
    // The register set the event aside, with its error, and the next one behind it.
    let failures = app.state.runner.failures("padron_register").await.unwrap();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert_eq!(failures[0].stream_id, poisoned);
    assert_eq!(failures[0].tenant, LEGANES);
    assert!(failures[0].error.contains("index"), "{}", failures[0].error);
    assert!(
        failures[1].error.contains("set aside behind"),
        "{}",
        failures[1].error
    );
    // /ready names the stuck model, and stays ready for everything else.
    let ready = get("/ready").send(&app).await.ok_json();
    assert_eq!(ready["status"], "degraded");
    assert_eq!(ready["stuck"][0]["model"], "padron_register");
    assert_eq!(ready["stuck"][0]["set_aside"], 2);
    let lag = app
        .state
        .runner
        .lag(app.state.runner.model("padron_register").unwrap().as_ref())
        .await
        .unwrap();
    assert_eq!((lag.events_behind, lag.set_aside), (0, 2));

    // A retry before any fix changes nothing.
    let model = app.state.runner.model("padron_register").unwrap();
    assert_eq!(
        app.state
            .runner
            .retry_failures(model.as_ref())
            .await
            .unwrap(),
        (0, 2)
    );
    // The fix (here: the index that refused the key is replaced by one on its digest), then the
    // retry applies both events in order.
    let owner = app.db.pool(1).await;
    sqlx::query("DROP INDEX padron_register_dwelling")
        .execute(&owner)
        .await
        .unwrap();
    sqlx::query(
        "CREATE INDEX padron_register_dwelling ON padron_register (tenant, md5(dwelling_key)) WHERE removed_on IS NULL",
    )
    .execute(&owner)
    .await
    .unwrap();
    assert_eq!(
        app.state
            .runner
            .retry_failures(model.as_ref())
            .await
            .unwrap(),
        (2, 0)
    );
    let version: i32 =
        sqlx::query_scalar("SELECT version FROM padron_register WHERE inscription_id = $1")
            .bind(poisoned)
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    assert_eq!(version, 2, "both events applied, in order");
    assert!(app
        .state
        .runner
        .failures("padron_register")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(get("/ready").send(&app).await.ok_json()["status"], "ok");
}

#[tokio::test]
async fn a_dwelling_key_or_address_beyond_their_bounds_is_refused_and_changes_nothing() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    for (field, dwelling_key, address) in [
        (
            "dwelling_key",
            "K".repeat(2700),
            "Calle de Toledo 10".to_owned(),
        ),
        (
            "dwelling_key",
            "9872023VK\u{0}4797S".to_owned(),
            "Calle de Toledo 10".to_owned(),
        ),
        (
            "address",
            "9872023VK4797S0001WX".to_owned(),
            "C".repeat(301),
        ),
    ] {
        let reply = post("/v1/padron/inscriptions")
            .bearer(&app.caseworker())
            .json(&json!({"name": "Carmen Ruiz", "birth_date": "1985-01-01", "nationality": "non_eu",
                "residence": "non_eu_temporary", "document": {"kind": "residence_card", "number": CARMEN},
                "dwelling_key": dwelling_key, "address": address, "actor": {"kind": "themselves"}}))
            .send(&app)
            .await;
        let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(problem["errors"][0]["field"], field);
        assert!(
            reply.body.len() < 1000,
            "the problem does not echo the value"
        );
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(events, 0);
}
