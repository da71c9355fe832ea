//! Rebuilds never act twice: rebuilding every read model of a database whose notices were sent
//! and whose timers fired sends nothing, issues no secret and fires nothing; a rebuild that would
//! act (its outbox holds notices the live one lost) refuses unless told to send them or to mark
//! them as done.

use expedientes_api::notices::{process_outbox, MemorySender};
use expedientes_projections::{ProjectionError, RebuildEffects};
use uuid::Uuid;

use super::*;

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.state.pool)
        .await
        .expect("count")
}

/// The service's runner over the owner's connection, as `expedientes rebuild` builds it.
async fn owner_state(app: &TestApp) -> AppState {
    let owner = app.db.pool(4).await;
    expedientes_api::build_state(
        owner,
        (*app.state.config).clone(),
        Arc::new(app.clock.clone()),
    )
}

async fn rebuild_all(
    state: &AppState,
    effects: RebuildEffects,
) -> Result<(), (&'static str, ProjectionError)> {
    for model in state.runner.models() {
        state
            .runner
            .rebuild(model.as_ref(), effects, &mut |_| {})
            .await
            .map_err(|e| (model.name(), e))?;
    }
    Ok(())
}

#[tokio::test]
async fn rebuilding_every_read_model_sends_nothing_issues_no_secret_and_fires_nothing() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let sender = MemorySender::default();
    let cw = app.caseworker();
    // Notices of every kind the accounts send, with their secrets: an online registration (two
    // notices), an in-person one whose key is reset (an activation code).
    post("/v1/councils/28079/accounts")
        .json(
            &json!({"channel": "online_without_certificate", "person": "natural",
            "name": "Ana García", "birth_date": "1980-05-01", "nationality": "spanish",
            "document": {"kind": "dni", "number": ANA}, "mobile": "+34600111222",
            "email": "ana@example.es", "address": "Calle Mayor 1, 28013 Madrid"}),
        )
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let account = id_of(
        &post("/v1/councils/28079/accounts")
            .bearer(&cw)
            .json(&json!({"channel": "in_person", "person": "natural",
                "name": "Elena Ruiz", "birth_date": "1975-02-01", "nationality": "spanish",
                "document": {"kind": "dni", "number": ELENA}, "mobile": "+34600333444",
                "email": "elena@example.es", "address": "Calle Mayor 2, 28013 Madrid"}))
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    post(format!("/v1/accounts/{account}/key-resets"))
        .bearer(&cw)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    process_outbox(&app.state, &sender).await.expect("sent");
    let sent = sender.sent().len();
    assert!(sent >= 3, "the notices went out: {:?}", sender.sent());
    // A timer that fired: a subsanación period that ended unfixed.
    let file = submit_own(&app, &app.citizen(DIEGO), "Poda de un árbol", "Diego Sanz").await;
    ask_to_fix(&app, &file, "falta el plano").await;
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    app.clock.set(utc(2026, 8, 4, 8, 0));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 1);
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    let secrets = count(&app, "SELECT count(*) FROM account_secrets").await;
    let events = count(&app, "SELECT count(*) FROM events").await;

    // Every model rebuilt from the log, the way an operator does it.
    let owner = owner_state(&app).await;
    rebuild_all(&owner, RebuildEffects::Refuse)
        .await
        .expect("nothing to refuse: every notice was sent, every timer fired");

    // Nothing is sent again, no secret is issued, no timer fires again, nothing is appended.
    assert_eq!(process_outbox(&app.state, &sender).await.unwrap(), 0);
    assert_eq!(sender.sent().len(), sent);
    assert_eq!(
        count(&app, "SELECT count(*) FROM account_secrets").await,
        secrets
    );
    assert_eq!(app.state.scheduler.run_once().await.unwrap().handled(), 0);
    assert_eq!(count(&app, "SELECT count(*) FROM events").await, events);
    // The views are whole again.
    let view = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(view["state"], "desistimiento_proposed");

    // An outbox that lost a notice it had sent, and the record of that delivery: the rebuilt
    // outbox would send it again, so the rebuild refuses and changes nothing...
    let admin = app.db.pool(1).await;
    let lost: Uuid = sqlx::query_scalar("SELECT notice_id FROM notice_deliveries LIMIT 1")
        .fetch_one(&admin)
        .await
        .unwrap();
    for table in ["notice_deliveries", "notices_outbox"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE notice_id = $1"))
            .bind(lost)
            .execute(&admin)
            .await
            .unwrap();
    }
    let outbox = owner.runner.model("notices_outbox").expect("the outbox");
    match owner
        .runner
        .rebuild(outbox.as_ref(), RebuildEffects::Refuse, &mut |_| {})
        .await
    {
        Err(ProjectionError::RebuildWouldAct { model, count }) => {
            assert_eq!((model, count), ("notices_outbox", 1))
        }
        other => panic!("the rebuild must refuse: {other:?}"),
    }
    assert_eq!(process_outbox(&app.state, &sender).await.unwrap(), 0);
    // ...unless told to record it as done (then nothing is sent)...
    owner
        .runner
        .rebuild(outbox.as_ref(), RebuildEffects::MarkDone, &mut |_| {})
        .await
        .expect("marked as done");
    assert_eq!(process_outbox(&app.state, &sender).await.unwrap(), 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM notice_deliveries WHERE not_sent"
        )
        .await,
        1
    );
    // ...or to send it (then it is sent once).
    for table in ["notice_deliveries", "notices_outbox"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE notice_id = $1"))
            .bind(lost)
            .execute(&admin)
            .await
            .unwrap();
    }
    owner
        .runner
        .rebuild(outbox.as_ref(), RebuildEffects::Perform, &mut |_| {})
        .await
        .expect("kept to be sent");
    assert_eq!(process_outbox(&app.state, &sender).await.unwrap(), 1);
    assert_eq!(process_outbox(&app.state, &sender).await.unwrap(), 0);
}
