//! Commands under contention: conditional on the `ETag` (`If-Match`, and `If-None-Match` on reads),
//! done once for a retried `Idempotency-Key` (even when the retry races its first attempt to the
//! log, across instances), answered promptly with more clients than pool connections, and readable
//! as soon as answered even while another transaction runs.

use super::*;

// ---------------------------------------------------------------------------------------------
// ETag, If-Match, If-None-Match
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn commands_are_conditional_on_the_etag() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let caseworker = app.caseworker();
    let id = register(&app, ANA, "Poda").await;

    let reply = get(case_uri(&id)).bearer(&caseworker).send(&app).await;
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(reply.ok_json()["version"], 1);

    // A stale version: 412 with the current one; nothing written.
    for stale in ["\"0\"", "\"2\"", "W/\"7\""] {
        let reply = post(format!("{}/rectification-requests", case_uri(&id)))
            .bearer(&caseworker)
            .header("if-match", stale)
            .json(&json!({"what": "Falta el DNI"}))
            .send(&app)
            .await;
        let problem = assert_problem(&reply, StatusCode::PRECONDITION_FAILED, "version-mismatch");
        assert_eq!(problem["current_version"], 1, "{problem}");
    }
    let case = get(case_uri(&id))
        .bearer(&caseworker)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["version"], 1);
    assert_eq!(case["state"], "submitted");

    // The right one: done; the new ETag comes back.
    let reply = post(format!("{}/rectification-requests", case_uri(&id)))
        .bearer(&caseworker)
        .header("if-match", "\"1\"")
        .json(&json!({"what": "Falta el DNI"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.header("etag"), Some("\"2\""));
    assert_eq!(reply.json()["version"], 2);

    // The old ETag is stale now, and a weak form of the right one is accepted.
    let reply = post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&app.citizen(ANA))
        .header("if-match", "\"1\"")
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::PRECONDITION_FAILED, "version-mismatch");
    assert_eq!(problem["current_version"], 2);
    let reply = post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&app.citizen(ANA))
        .header("if-match", "W/\"2\"")
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.header("etag"), Some("\"3\""));

    // If-None-Match: 304 with the current ETag, the file with a stale one.
    let reply = get(case_uri(&id))
        .bearer(&caseworker)
        .header("if-none-match", "\"3\"")
        .send(&app)
        .await
        .expect(StatusCode::NOT_MODIFIED);
    assert_eq!(reply.header("etag"), Some("\"3\""));
    assert!(reply.body.is_empty(), "a 304 has no body");
    let reply = get(case_uri(&id))
        .bearer(&caseworker)
        .header("if-none-match", "\"2\"")
        .send(&app)
        .await;
    assert_eq!(reply.header("etag"), Some("\"3\""));
    assert_eq!(reply.ok_json()["version"], 3);
    // A conditional GET still hides other people's files.
    let reply = get(case_uri(&id))
        .bearer(&app.citizen(BORIS))
        .header("if-none-match", "\"3\"")
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
}

/// RFC 9110 §13.1.2: `If-None-Match` uses the weak comparison, may list several entity tags, and
/// `*` matches any current representation; each of these answers 304 on a GET.
#[tokio::test]
async fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let caseworker = app.caseworker();
    let id = register(&app, ANA, "Poda").await;
    for value in ["\"1\"", "W/\"1\"", "\"0\", \"1\"", "\"7\",W/\"1\"", "*"] {
        let reply = get(case_uri(&id))
            .bearer(&caseworker)
            .header("if-none-match", value)
            .send(&app)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_MODIFIED,
            "If-None-Match: {value}"
        );
    }
    let reply = get(case_uri(&id))
        .bearer(&caseworker)
        .header("if-none-match", "\"0\", W/\"2\"")
        .send(&app)
        .await;
    assert_eq!(reply.ok_json()["version"], 1);
}

// ---------------------------------------------------------------------------------------------
// Idempotency-Key
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_retried_command_with_the_same_idempotency_key_is_done_once() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);
    let body = json!({"subject": "Poda de un árbol", "name": "Ana García"});
    let send = |key: &'static str, body: Value, token: String| {
        let app = &app;
        async move {
            post("/v1/general-applications")
                .bearer(&token)
                .header("idempotency-key", key)
                .json(&body)
                .send(app)
                .await
        }
    };

    let first = send("8c1f-solicitud-1", body.clone(), citizen.clone())
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first.header("idempotent-replayed"), None);
    let first_body = first.json();
    assert_eq!(first_body["replayed"], false);

    let second = send("8c1f-solicitud-1", body.clone(), citizen.clone()).await;
    assert!(
        second.status == StatusCode::OK || second.status == StatusCode::CREATED,
        "a replay answers the first result: {}",
        second.text()
    );
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.header("etag"), first.header("etag"));
    let second_body = second.json();
    assert_eq!(second_body["replayed"], true);
    assert_eq!(second_body["id"], first_body["id"]);
    assert_eq!(second_body["version"], first_body["version"]);
    assert_eq!(second_body["events"], first_body["events"]);
    let id = id_of(&first_body);

    // The log holds one event, and the caseworkers' list one file.
    let auditor = app.auditor();
    let events = audit_log(&app, &auditor, 100, 1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["stream_id"], id.as_str());
    let list = get("/v1/cases")
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(list["total"], 1);

    // The same key for a different request: 422, nothing written.
    let reply = send(
        "8c1f-solicitud-1",
        json!({"subject": "Otra cosa", "name": "Ana García"}),
        citizen.clone(),
    )
    .await;
    let problem = assert_problem(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    );
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));

    // Keys are the caller's: another citizen's same key files another application.
    let others = send("8c1f-solicitud-1", body.clone(), app.citizen(BORIS))
        .await
        .expect(StatusCode::CREATED);
    assert_ne!(others.json()["id"], first_body["id"]);

    // Case commands too: a retried withdrawal is done once.
    let withdraw = || {
        post(format!("{}/withdrawals", case_uri(&id)))
            .bearer(&citizen)
            .header("idempotency-key", "retirada-1")
    };
    let first = withdraw().send(&app).await.ok_json();
    assert_eq!(first["version"], 2);
    assert_eq!(first["replayed"], false);
    let reply = withdraw().send(&app).await.expect(StatusCode::OK);
    assert_eq!(reply.header("idempotent-replayed"), Some("true"));
    let again = reply.json();
    assert_eq!(again["replayed"], true);
    assert_eq!(again["version"], 2);
    assert_eq!(again["events"], first["events"]);

    let events = audit_log(&app, &auditor, 100, 3).await;
    assert_eq!(events.len(), 3, "{events:?}");
    let mine: Vec<&Value> = events
        .iter()
        .filter(|e| e["stream_id"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 2, "one submission and one withdrawal");
}

// ---------------------------------------------------------------------------------------------
// Concurrency: retries racing their first attempt, many clients at once, read-your-writes
// ---------------------------------------------------------------------------------------------

/// Sends `requests` at once while the log refuses writes, lets them all reach their append, then
/// lets them through together: the interleaving of a client's retry racing its first attempt.
async fn race_appends(app: &TestApp, requests: Vec<Call>) -> Vec<Reply> {
    // Copies sent to one instance run one after the other (its in-process key lock); across
    // instances only the log can tell a retry from a first attempt: each copy goes to its own.
    let mut instances = vec![app.router.clone()];
    while instances.len() < requests.len() {
        instances.push(app.another_instance().await);
    }
    let owner = app.db.pool(2).await;
    let mut gate = owner.begin().await.expect("begin");
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
        .execute(&mut *gate)
        .await
        .expect("hold back appends (reads go on)");
    let expected = requests.len() as i64;
    let tasks: Vec<_> = requests
        .into_iter()
        .zip(instances)
        .map(|(request, router)| tokio::spawn(async move { request.send_to(router).await }))
        .collect();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks WHERE relation = 'events'::regclass AND NOT granted",
        )
        .fetch_one(&owner)
        .await
        .expect("pg_locks");
        if waiting >= expected || tasks.iter().any(|t| t.is_finished()) {
            eprintln!(
                "DEBUG waiting={waiting} finished={}",
                tasks.iter().filter(|t| t.is_finished()).count()
            );
            break;
        }
        tokio::task::yield_now().await;
    }
    gate.commit().await.expect("let the appends through");
    owner.close().await;
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("the request task"));
    }
    replies
}

/// Sends the requests at once, each from its own task, and returns the replies in order.
async fn concurrently(app: &TestApp, requests: Vec<Call>) -> Vec<Reply> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let router = app.router.clone();
            tokio::spawn(async move { request.send_to(router).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("the request task"));
    }
    replies
}

/// A client that retries while its first attempt is still being processed (a timeout, a double
/// click) must get the first result, as the documentation promises for any retry with the same
/// key. Here both copies reach the append before either commits.
#[tokio::test]
async fn retries_that_reach_the_log_together_get_the_first_result() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);
    let auditor = app.auditor();
    let submit = || {
        post("/v1/general-applications")
            .bearer(&citizen)
            .header("idempotency-key", "carrera-1")
            .json(&json!({"subject": "Reserva de espacio", "name": "Ana García"}))
    };

    let replies = race_appends(&app, vec![submit(), submit()]).await;
    for reply in &replies {
        assert!(
            reply.status.is_success(),
            "both copies of the submission get its result: {} {}",
            reply.status,
            reply.text()
        );
    }
    let bodies: Vec<Value> = replies.iter().map(Reply::json).collect();
    assert_eq!(bodies[0]["id"], bodies[1]["id"]);
    assert_eq!(bodies[0]["version"], bodies[1]["version"]);
    assert_eq!(
        bodies.iter().filter(|b| b["replayed"] == true).count(),
        1,
        "exactly one of them is the replay: {bodies:?}"
    );
    let id = id_of(&bodies[0]);
    assert_eq!(audit_log(&app, &auditor, 100, 1).await.len(), 1);

    // The same for a command on the file.
    let withdraw = || {
        post(format!("{}/withdrawals", case_uri(&id)))
            .bearer(&citizen)
            .header("idempotency-key", "retirada-carrera")
    };
    let replies = race_appends(&app, vec![withdraw(), withdraw()]).await;
    for reply in &replies {
        assert!(
            reply.status.is_success(),
            "both copies of the withdrawal get its result: {} {}",
            reply.status,
            reply.text()
        );
        assert_eq!(reply.json()["version"], 2);
    }
    assert_eq!(audit_log(&app, &auditor, 100, 2).await.len(), 2);
}

/// The same as above when the copies arrive a moment apart, so that one copy looks for an earlier
/// result before the first copy has committed, and reads the file after it has: it must still get
/// the first result, not a refusal decided on a state that already holds its own first attempt.
#[tokio::test]
async fn copies_of_one_request_sent_at_once_all_get_the_first_result() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);
    let mut failures = Vec::new();
    let mut files = Vec::new();
    for round in 0..10 {
        let key = format!("doble-clic-{round}");
        let replies = concurrently(
            &app,
            (0..4)
                .map(|_| {
                    post("/v1/general-applications")
                        .bearer(&citizen)
                        .header("idempotency-key", &key)
                        .json(&json!({"subject": "Reserva de espacio", "name": "Ana García"}))
                })
                .collect(),
        )
        .await;
        let mut ids = std::collections::BTreeSet::new();
        for reply in &replies {
            if reply.status.is_success() {
                ids.insert(id_of(&reply.json()));
            } else {
                failures.push(format!(
                    "submission {round}: {} {}",
                    reply.status,
                    reply.text()
                ));
            }
        }
        assert!(ids.len() <= 1, "one key names one file: {ids:?}");
        files.extend(ids);
    }
    for (round, id) in files.iter().enumerate() {
        let key = format!("retirada-{round}");
        let replies = concurrently(
            &app,
            (0..4)
                .map(|_| {
                    post(format!("{}/withdrawals", case_uri(id)))
                        .bearer(&citizen)
                        .header("idempotency-key", &key)
                })
                .collect(),
        )
        .await;
        for reply in &replies {
            if !reply.status.is_success() {
                failures.push(format!(
                    "withdrawal {round}: {} {}",
                    reply.status,
                    reply.text()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} copies were not answered with the first result:\n{}",
        failures.len(),
        4 * (10 + files.len()),
        failures.join("\n")
    );
}

/// More clients at once than the service's pool has connections (8 here): each is answered
/// promptly (not after the pool's 10-second acquire timeout) and reads its own write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn more_concurrent_commands_than_pool_connections_are_answered_promptly() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let caseworker = app.caseworker();
    let started = std::time::Instant::now();
    let replies = concurrently(
        &app,
        (0..16)
            .map(|n| {
                post("/v1/general-applications")
                    .bearer(&caseworker)
                    .json(&json!({
                        "subject": format!("Solicitud {n}"),
                        "applicant": {"document": ANA, "name": "Ana García"},
                    }))
            })
            .collect(),
    )
    .await;
    let elapsed = started.elapsed();
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 201),
        "every application is filed: {statuses:?}"
    );
    assert!(
        elapsed < StdDuration::from_secs(5),
        "16 concurrent submissions took {elapsed:?}"
    );
    for reply in &replies {
        let id = id_of(&reply.json());
        get(case_uri(&id))
            .bearer(&caseworker)
            .send(&app)
            .await
            .expect(StatusCode::OK);
    }
}

/// The handler catches the read models up before answering "so the caller reads its own write"
/// (docs/ARCHITECTURE.md). The log's reading watermark is held back by every transaction still
/// running in the database cluster (another request, another service, another database of the
/// same server), so a command that commits while another transaction runs must still answer only
/// once its own write can be read.
#[tokio::test]
async fn a_command_is_readable_as_soon_as_it_is_answered_even_while_another_transaction_runs() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);

    // Another transaction that holds a transaction id, as every writer does while it runs.
    let owner = app.db.pool(2).await;
    let mut other = owner.begin().await.expect("begin");
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *other)
        .await
        .expect("take a transaction id");

    // The application is filed while it runs...
    let submitting = {
        let request = post("/v1/general-applications")
            .bearer(&citizen)
            .json(&json!({"subject": "Poda", "name": "Ana García"}));
        let router = app.router.clone();
        tokio::spawn(async move { request.send_to(router).await })
    };
    // ...and the other transaction ends once the application's event is in the log.
    loop {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&owner)
            .await
            .expect("count events");
        if count > 0 || submitting.is_finished() {
            break;
        }
        tokio::task::yield_now().await;
    }
    other.rollback().await.expect("rollback");
    let reply = submitting
        .await
        .expect("the request task")
        .expect(StatusCode::CREATED);
    let id = id_of(&reply.json());
    owner.close().await;

    // Once answered, the write is readable, and the file can be acted on.
    let read = get(case_uri(&id)).bearer(&citizen).send(&app).await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "GET of the file just filed: {}",
        read.text()
    );
    let folder = get("/v1/carpeta")
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        folder["files"].as_array().map(Vec::len),
        Some(1),
        "the folder holds the file just filed: {folder}"
    );
    post(format!("{}/withdrawals", case_uri(&id)))
        .bearer(&citizen)
        .send(&app)
        .await
        .expect(StatusCode::OK);
}
