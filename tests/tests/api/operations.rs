//! Running the service: the health, readiness, metrics and OpenAPI endpoints; deadlines by the
//! legal calendar; the audit stream's verification, which finds a tampered event, and its paging,
//! which goes through every event once, in order, per council.

use super::*;

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn operations_endpoints_answer() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;

    let health = get("/health").send(&app).await.ok_json();
    assert_eq!(health["status"], "ok");
    let ready = get("/ready").send(&app).await.ok_json();
    assert_eq!(ready["status"], "ok");

    let reply = get("/openapi.json").send(&app).await.expect(StatusCode::OK);
    assert!(reply
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json")));
    let document = reply.json();
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/v1/cases/{id}",
        "/v1/cases",
        "/v1/general-applications",
        "/v1/carpeta",
        "/v1/audit/verify",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }

    // Not on the public address: on the operations one only.
    assert_problem(
        &get("/metrics").send(&app).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    assert!(!paths.contains_key("/metrics"));
    let reply = get("/metrics")
        .send_to(expedientes_api::routes::metrics_router(app.state.clone()))
        .await
        .expect(StatusCode::OK);
    assert!(reply
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain")));
    let text = reply.text();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/health\""),
        "requests are counted per route: {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deadlines_are_computed_by_the_legal_calendar() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);

    let result = get("/v1/deadlines?from=2026-07-20&amount=10&unit=business-days")
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(result["due_date"], "2026-08-03", "{result}");
    assert_eq!(
        result["due_date"],
        business_days_after(day(2026, 7, 20), 10).to_string()
    );
    assert!(result["steps"].as_array().is_some_and(|s| !s.is_empty()));

    let reply = get("/v1/deadlines?from=2026-07-20&amount=10&unit=fortnights")
        .bearer(&citizen)
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem), vec!["unit"], "{problem}");
    let reply = get("/v1/deadlines?from=2026-07-20&amount=0&unit=business-days")
        .bearer(&citizen)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    for query in [
        "from=20-07-2026&amount=10&unit=business-days",
        "from=2026-07-20&amount=ten&unit=business-days",
        "from=2026-07-20&unit=business-days",
    ] {
        let reply = get(format!("/v1/deadlines?{query}"))
            .bearer(&citizen)
            .send(&app)
            .await;
        assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");
    }
    let reply = get("/v1/deadlines?from=2026-07-20&amount=10&unit=business-days")
        .send(&app)
        .await;
    assert_unauthenticated(&reply);
}

// ---------------------------------------------------------------------------------------------
// Audit: verification and paging
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn verification_finds_a_tampered_event() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let auditor = app.auditor();
    let first = register(&app, ANA, "Poda").await;
    let reply = post("/v1/general-applications")
        .bearer(&app.caseworker())
        .json(&json!({"subject": "Vado", "applicant": {"document": BORIS, "name": "Boris"}}))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let second = reply.json();
    let tampered = second["events"][0]["position"]
        .as_i64()
        .expect("a position");
    request_fix(&app, &first, "Falta el DNI").await;
    post(format!("{}/withdrawals", case_uri(&id_of(&second))))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .expect(StatusCode::OK);

    let report = get("/v1/audit/verify")
        .bearer(&auditor)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(report["ok"], true, "{report}");
    // Two filings, the request to fix with its notification, the withdrawal.
    assert_eq!(report["events_checked"], 5, "{report}");
    assert_eq!(report["first_failure"], Value::Null);
    assert_eq!(report["failures"], json!([]));

    // Someone with the owner's rights rewrites history behind the service's back.
    let owner = app.db.pool(2).await;
    for statement in [
        "ALTER TABLE events DISABLE TRIGGER events_append_only".to_owned(),
        format!(
            "UPDATE events SET payload = jsonb_set(payload, '{{subject}}', '\"x\"') WHERE position = {tampered}"
        ),
        "ALTER TABLE events ENABLE TRIGGER events_append_only".to_owned(),
    ] {
        sqlx::query(&statement)
            .execute(&owner)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    owner.close().await;

    let report = get("/v1/audit/verify")
        .bearer(&auditor)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(
        report["first_failure"]["position"], tampered,
        "the first failure names the tampered event: {report}"
    );
    assert_eq!(report["first_failure"]["stream_id"], id_of(&second));
    assert!(report["first_failure"]["reason"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert!(report["failures"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f["position"] == tampered)));

    // Another council's auditor learns that something failed, and where, but not which file.
    let report = get("/v1/audit/verify")
        .bearer(&app.token(Role::Auditor, LEGANES, "auditor-leganes"))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_failure"]["position"], tampered);
    assert!(
        report["first_failure"].get("stream_id").is_none(),
        "{report}"
    );
    assert_ne!(report["first_failure"]["tenant"], MADRID);
}

#[tokio::test]
async fn the_audit_stream_pages_through_every_event_once_in_order() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let auditor = app.auditor();
    let caseworker = app.caseworker();
    let mut ids = Vec::new();
    for (applicant, subject) in [(ANA, "Uno"), (BORIS, "Dos"), (CARMEN, "Tres")] {
        ids.push(register(&app, applicant, subject).await);
    }
    // Another council's event, between Madrid's: never shown to Madrid's auditor.
    register_in(&app, LEGANES, ELENA, "Leganés").await;
    request_fix(&app, &ids[0], "Falta el DNI").await;
    post(format!("{}/withdrawals", case_uri(&ids[1])))
        .bearer(&caseworker)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    post(format!("{}/resolutions", case_uri(&ids[2])))
        .bearer(&caseworker)
        .json(&json!({"decision": "denied", "grounds": "No procede"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    // Six events of the files, and the notifications issued with the request and the
    // resolution.
    let expected = 8;

    let all = audit_log(&app, &auditor, 1000, expected).await;
    assert_eq!(all.len(), expected, "{all:?}");
    let positions = |events: &[Value]| -> Vec<i64> {
        events
            .iter()
            .map(|e| e["position"].as_i64().expect("a position"))
            .collect()
    };
    let all_positions = positions(&all);
    assert!(
        all_positions.windows(2).all(|w| w[0] < w[1]),
        "in order, each once: {all_positions:?}"
    );
    assert!(all.iter().all(|e| e["metadata"].is_object()));
    for id in &ids {
        assert!(all.iter().any(|e| e["stream_id"] == id.as_str()));
    }

    // Page by page, two and then one at a time: the same events, once each, in the same order.
    for limit in [2, 1, 4] {
        let paged = audit_log(&app, &auditor, limit, expected).await;
        assert_eq!(
            positions(&paged),
            all_positions,
            "pages of {limit} hold every event once, in order"
        );
        assert_eq!(paged, all);
    }

    // Reading on from the last event: nothing more yet.
    let last = *all_positions.last().expect("events");
    let page = get(format!("/v1/audit/events?after={last}"))
        .bearer(&auditor)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(page["events"], json!([]));
    assert!(page.get("next_after").is_none_or(Value::is_null));

    // Leganés' auditor reads only Leganés' event.
    let leganes = audit_log(
        &app,
        &app.token(Role::Auditor, LEGANES, "auditor-leganes"),
        1000,
        1,
    )
    .await;
    assert_eq!(leganes.len(), 1);
    assert!(leganes
        .iter()
        .all(|e| !all_positions.contains(&e["position"].as_i64().expect("position"))));
}
