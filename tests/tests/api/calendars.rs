//! The council's holiday calendar through the API: an administrator's change is recorded with who
//! made it and its source, and deadlines follow it at once; others may only read.

use super::*;

#[tokio::test]
async fn an_administrators_calendar_change_is_recorded_and_used() {
    let app = TestApp::start(utc(2026, 7, 1, 9, 0)).await;
    let admin = app.token(Role::Admin, LEGANES, "admin-0001");
    let citizen = app.token(Role::Citizen, LEGANES, ANA);
    let deadline = "/v1/deadlines?from=2026-07-20&amount=1&unit=business-days";
    // Leganés has no local days in the bundled data: a warning says so.
    let before = get(deadline).bearer(&citizen).send(&app).await.ok_json();
    assert_eq!(before["due_date"], "2026-07-21");
    assert!(before["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("28074")));

    let change =
        json!({"source": "BOCM n.º 300, de 16-12-2025", "days": ["2026-07-21", "2026-08-17"]});
    let uri = "/v1/calendars/2026/municipalities/28074";
    for token in [
        &citizen,
        &app.token(Role::Caseworker, LEGANES, "E1"),
        &app.token(Role::Auditor, LEGANES, "A1"),
    ] {
        let refused = call(Method::PUT, uri)
            .bearer(token)
            .json(&change)
            .send(&app)
            .await;
        assert_problem(&refused, StatusCode::FORBIDDEN, "forbidden");
    }
    let outside = json!({"source": "x", "days": ["2027-01-05"]});
    let refused = call(Method::PUT, uri)
        .bearer(&admin)
        .json(&outside)
        .send(&app)
        .await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let no_source = json!({"source": " ", "days": ["2026-07-21"]});
    let refused = call(Method::PUT, uri)
        .bearer(&admin)
        .json(&no_source)
        .send(&app)
        .await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "validation");

    call(Method::PUT, uri)
        .bearer(&admin)
        .json(&change)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let after = get(deadline).bearer(&citizen).send(&app).await.ok_json();
    assert_eq!(after["due_date"], "2026-07-22");
    assert!(after["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["date"] == "2026-07-21" && d["reason"].as_str().unwrap().contains("28074")));
    let year = get("/v1/calendars/2026")
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        year["calendar"]["local"]["28074"]["days"],
        json!(["2026-07-21", "2026-08-17"])
    );
    assert_eq!(
        year["calendar"]["sources"]["local.28074"],
        "BOCM n.º 300, de 16-12-2025"
    );
    // Madrid's calendar is its own: unchanged.
    let madrid = get(deadline)
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(madrid["due_date"], "2026-07-21");

    // The change is an event of the council's calendar stream: who, when, which source.
    let events = audit_log(&app, &app.token(Role::Auditor, LEGANES, "A1"), 100, 1).await;
    let recorded = events
        .iter()
        .find(|e| e["event_type"] == "local_days_set")
        .expect("the change is in the log");
    assert_eq!(recorded["metadata"]["actor_id"], "admin-0001");
    assert_eq!(recorded["metadata"]["actor_role"], "admin");
    assert_eq!(recorded["payload"]["source"], "BOCM n.º 300, de 16-12-2025");
}
