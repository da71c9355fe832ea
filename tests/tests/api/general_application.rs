//! The general application (solicitud general): its whole life on the driven clock (filed, asked to
//! be fixed, fixed, granted), the caseworkers' list (overdue files first, filters, pages) and the
//! commands the procedure refuses, answered 409 in words.

use super::*;

// ---------------------------------------------------------------------------------------------
// A general application's whole life, on the driven clock
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_general_application_is_filed_fixed_and_granted() {
    // Monday 20 July 2026, 10:00 in Madrid.
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);
    let caseworker = app.caseworker();

    // The citizen files.
    let reply = post("/v1/general-applications")
        .bearer(&citizen)
        .json(&json!({"subject": "Poda de un árbol", "body": "En la calle Mayor 1.", "name": "Ana García"}))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let submitted = reply.json();
    let id = id_of(&submitted);
    assert_eq!(reply.header("location"), Some(case_uri(&id).as_str()));
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(submitted["version"], 1);
    assert_eq!(submitted["replayed"], false);
    assert_eq!(submitted["events"].as_array().map(Vec::len), Some(1));

    let case = get(case_uri(&id))
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["state"], "submitted");
    assert_eq!(case["open"], true);
    assert_eq!(case["citizen_must_act"], false);
    assert_eq!(case["citizen_action"], Value::Null);
    assert_eq!(case["procedure"], "general_application");
    assert_eq!(case["tenant"], MADRID);
    assert_eq!(case["sia_code"], "999999");
    assert!(
        case["case_number"]
            .as_str()
            .is_some_and(|n| n.starts_with("28079/2026/")),
        "{case}"
    );

    // An hour later, a second application of hers, newer than the first.
    app.clock.advance(Duration::hours(1));
    let other = submit_own(&app, &citizen, "Licencia de vado", "Ana García").await;

    // On Sunday 26 July at 22:30 UTC (already Monday 27 in Madrid) the council asks her to fix
    // the first one: ten business days counted from Madrid's date, not from UTC's.
    let asked_at = utc(2026, 7, 26, 22, 30);
    app.clock.set(asked_at);
    let expected_due = business_days_after(local_date(asked_at), 10);
    assert_ne!(
        expected_due,
        business_days_after(asked_at.date_naive(), 10),
        "the moment is chosen so that the local date matters"
    );
    let asked = ask_to_fix(&app, &id, "Falta el plano de situación").await;
    assert_eq!(asked["version"], 2);
    assert_eq!(asked["replayed"], false);

    // She opened the request's notification at once: the file recorded it (version 3).
    let reply = get(case_uri(&id)).bearer(&citizen).send(&app).await;
    assert_eq!(reply.header("etag"), Some("\"3\""));
    let case = reply.ok_json();
    assert_eq!(case["state"], "awaiting_rectification");
    assert_eq!(case["open"], true);
    assert_eq!(case["citizen_must_act"], true);
    assert_eq!(
        case["citizen_action"]["due"],
        expected_due.to_string(),
        "{case}"
    );
    assert!(
        case["citizen_action"]["what"]
            .as_str()
            .is_some_and(|w| w.contains("Falta el plano")),
        "{case}"
    );
    assert_eq!(case["next_deadline"], expected_due.to_string());
    assert_eq!(case["overdue"], false);

    // Her folder shows it first, with what to do and by when, before the newer file.
    let folder = get("/v1/carpeta")
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    let files = folder["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{folder}");
    assert_eq!(files[0]["id"], id.as_str());
    assert_eq!(files[0]["citizen_must_act"], true);
    assert_eq!(files[0]["action"]["due"], expected_due.to_string());
    assert_eq!(files[0]["phase_code"], "awaiting_rectification");
    assert_eq!(files[1]["id"], other.as_str());
    assert_eq!(files[1]["citizen_must_act"], false);
    assert_eq!(files[1]["action"], Value::Null);

    // She fixes it two days later.
    app.clock.set(utc(2026, 7, 29, 9, 0));
    let fixed = post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&citizen)
        .json(&json!({"note": "Adjunto el plano"}))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(fixed["version"], 4);
    let case = get(case_uri(&id))
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["state"], "submitted");
    assert_eq!(case["citizen_must_act"], false);
    assert_eq!(case["citizen_action"], Value::Null);

    // The council grants it the next day.
    app.clock.set(utc(2026, 7, 30, 9, 0));
    let resolved = post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&caseworker)
        .json(&json!({"decision": "granted", "grounds": "Cumple la ordenanza"}))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(resolved["version"], 5);
    // Until she opens the resolution's notification, she sees the file as it was before it
    // (art. 43 LPAC); staff see it resolved.
    let case = get(case_uri(&id))
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["state"], "submitted", "{case}");
    assert_eq!(case["notification_pending"], true);
    assert_eq!(case["version"], 5, "the file's version, for If-Match");
    let events = get(format!("{}/events", case_uri(&id)))
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(events.as_array().map(Vec::len), Some(4), "{events}");
    let staff = get(case_uri(&id))
        .bearer(&caseworker)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(staff["state"], "granted");
    assert_eq!(staff["notification_pending"], true);
    open_notification(&app, &id, "resolution", ANA).await;
    let case = get(case_uri(&id))
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["notification_pending"], false);
    assert_eq!(case["state"], "granted");
    assert_eq!(case["open"], false);
    assert!(case["closed_at"].is_string(), "{case}");
    assert_eq!(case["citizen_must_act"], false);
    assert_eq!(case["resolution_due"], Value::Null);
    assert_eq!(
        case["version"], 6,
        "the file recorded the notification's effect"
    );

    // Closed files come after open ones in her folder.
    let folder = get("/v1/carpeta")
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    let files = folder["files"].as_array().expect("files");
    assert_eq!(files[0]["id"], other.as_str());
    assert_eq!(files[1]["id"], id.as_str());
    assert_eq!(files[1]["state"], "closed");
    assert!(files[1]["end_date"].is_string());

    // The history, in version order: staff see who did what, citizens do not.
    let history = get(format!("{}/events", case_uri(&id)))
        .bearer(&caseworker)
        .send(&app)
        .await
        .ok_json();
    let history = history.as_array().expect("events").clone();
    let versions: Vec<i64> = history
        .iter()
        .map(|e| e["version"].as_i64().expect("version"))
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4, 5, 6]);
    let types: Vec<&str> = history
        .iter()
        .map(|e| e["event_type"].as_str().expect("event_type"))
        .collect();
    assert_eq!(
        types,
        vec![
            "submitted",
            "rectification_issued",
            "rectification_notified",
            "rectified",
            "resolved",
            "resolution_notified"
        ]
    );
    let positions: Vec<i64> = history
        .iter()
        .map(|e| e["position"].as_i64().expect("position"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let roles: Vec<&str> = history
        .iter()
        .map(|e| e["metadata"]["actor_role"].as_str().expect("metadata"))
        .collect();
    assert_eq!(
        roles,
        vec![
            "citizen",
            "caseworker",
            "system",
            "citizen",
            "caseworker",
            "system"
        ]
    );
    assert_eq!(history[0]["metadata"]["actor_id"], ANA);
    assert!(history.iter().all(|e| e["stream_id"] == id.as_str()));
    assert!(history
        .iter()
        .all(|e| e["hash"].as_str().is_some_and(|h| h.len() == 64)));

    let citizen_history = get(format!("{}/events", case_uri(&id)))
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    let citizen_history = citizen_history.as_array().expect("events");
    assert_eq!(citizen_history.len(), 6);
    for (seen, full) in citizen_history.iter().zip(&history) {
        assert!(
            seen.get("metadata").is_none(),
            "citizens see no metadata: {seen}"
        );
        assert_eq!(seen["payload"], full["payload"]);
        assert_eq!(seen["version"], full["version"]);
    }

    // The file as it was at a moment between steps, rebuilt from its events.
    let recorded = |version: usize| -> DateTime<Utc> {
        serde_json::from_value(history[version - 1]["recorded_at"].clone()).expect("a time")
    };
    let past = get(format!(
        "{}?as_of={}",
        case_uri(&id),
        query_time(recorded(2))
    ))
    .bearer(&caseworker)
    .send(&app)
    .await
    .ok_json();
    // Asked, the request not yet notified: nothing to do yet.
    assert_eq!(past["state"], "awaiting_rectification", "{past}");
    assert_eq!(past["version"], 2);
    assert_eq!(past["citizen_must_act"], false);
    let past = get(format!(
        "{}?as_of={}",
        case_uri(&id),
        query_time(recorded(3))
    ))
    .bearer(&caseworker)
    .send(&app)
    .await
    .ok_json();
    assert_eq!(past["version"], 3);
    assert_eq!(past["citizen_must_act"], true);
    assert_eq!(past["citizen_action"]["due"], expected_due.to_string());
    let past = get(format!(
        "{}?as_of={}",
        case_uri(&id),
        query_time(recorded(4))
    ))
    .bearer(&caseworker)
    .send(&app)
    .await
    .ok_json();
    assert_eq!(past["state"], "submitted");
    assert_eq!(past["version"], 4);
    let past_events = get(format!(
        "{}/events?as_of={}",
        case_uri(&id),
        query_time(recorded(2))
    ))
    .bearer(&caseworker)
    .send(&app)
    .await
    .ok_json();
    assert_eq!(past_events.as_array().map(Vec::len), Some(2));
    let reply = get(format!(
        "{}?as_of={}",
        case_uri(&id),
        query_time(recorded(1) - Duration::seconds(1))
    ))
    .bearer(&caseworker)
    .send(&app)
    .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    // Citizens see the present only.
    let reply = get(format!(
        "{}?as_of={}",
        case_uri(&id),
        query_time(recorded(2))
    ))
    .bearer(&citizen)
    .send(&app)
    .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
}

// ---------------------------------------------------------------------------------------------
// The caseworkers' list
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_caseworkers_list_puts_overdue_files_first_and_filters_and_pages() {
    // Wednesday 1 July 2026, 10:00 in Madrid.
    let start = utc(2026, 7, 1, 8, 0);
    let app = TestApp::start(start).await;
    let caseworker = app.caseworker();

    let a = register(&app, ANA, "A: sin requerimiento").await;
    let b = register(&app, BORIS, "B: requerido después").await;
    let c = register(&app, CARMEN, "C: requerido primero").await;
    let d = register(&app, DIEGO, "D: retirado").await;
    post(format!("{}/withdrawals", case_uri(&d)))
        .bearer(&caseworker)
        .send(&app)
        .await
        .expect(StatusCode::OK);

    // C is asked to fix its application today; B two days later.
    ask_to_fix(&app, &c, "Falta el DNI").await;
    let c_due = business_days_after(local_date(start), 10);
    app.clock.advance(Duration::days(2));
    ask_to_fix(&app, &b, "Falta la firma").await;
    let b_due = business_days_after(local_date(app.clock_now()), 10);
    assert!(c_due < b_due);

    // The day after C's last day: C is overdue, B is not yet.
    let today = c_due.succ_opt().expect("a day");
    assert!(today <= b_due, "the test needs B to be still running");
    app.clock
        .set(today.and_hms_opt(10, 0, 0).expect("a time").and_utc());
    assert_eq!(local_date(app.clock_now()), today);

    let ids = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let list = get("/v1/cases")
        .bearer(&caseworker)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(ids(&list), vec![c.clone(), b.clone(), a.clone()], "{list}");
    assert_eq!(list["total"], 3);
    assert_eq!(list["page"], 1);
    assert_eq!(list["per_page"], 50);
    let items = list["items"].as_array().expect("items");
    assert_eq!(items[0]["overdue"], true, "{}", items[0]);
    assert_eq!(items[0]["next_deadline"], c_due.to_string());
    assert_eq!(items[1]["overdue"], false);
    assert_eq!(items[1]["next_deadline"], b_due.to_string());
    assert_eq!(items[2]["overdue"], false);
    assert_eq!(items[2]["state"], "submitted");

    // Auditors and administrators read the list too; citizens do not.
    for token in [app.auditor(), app.token(Role::Admin, MADRID, "admin-1")] {
        let list = get("/v1/cases").bearer(&token).send(&app).await.ok_json();
        assert_eq!(list["total"], 3);
    }
    let reply = get("/v1/cases").bearer(&app.citizen(ANA)).send(&app).await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");

    // Filters.
    let query = |q: String| {
        let app = &app;
        let caseworker = caseworker.clone();
        async move {
            get(format!("/v1/cases?{q}"))
                .bearer(&caseworker)
                .send(app)
                .await
                .ok_json()
        }
    };
    let list = query("state=awaiting_rectification".into()).await;
    assert_eq!(ids(&list), vec![c.clone(), b.clone()]);
    assert_eq!(list["total"], 2);
    let list = query("state=withdrawn".into()).await;
    assert_eq!(list["total"], 0, "closed files are left out by default");
    let list = query("state=withdrawn&include_closed=true".into()).await;
    assert_eq!(ids(&list), vec![d.clone()]);
    let list = query("procedure=general_application".into()).await;
    assert_eq!(list["total"], 3);
    // A procedure with no files lists none; a procedure that does not exist is refused.
    let list = query("procedure=padron_removal_file".into()).await;
    assert_eq!(list["total"], 0);
    assert_eq!(list["items"], json!([]));
    let unknown = get("/v1/cases?procedure=building_permit")
        .bearer(&caseworker)
        .send(&app)
        .await;
    assert_problem(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let list = query(format!("due_before={b_due}")).await;
    assert_eq!(
        ids(&list),
        vec![c.clone()],
        "only deadlines before that day"
    );
    let list = query(format!("due_before={}", b_due.succ_opt().expect("a day"))).await;
    assert_eq!(ids(&list), vec![c.clone(), b.clone()]);
    let list = query("include_closed=true".into()).await;
    assert_eq!(
        ids(&list),
        vec![c.clone(), b.clone(), a.clone(), d.clone()],
        "a closed file has no deadline and comes last"
    );
    assert_eq!(list["total"], 4);

    // Pages.
    let list = query("per_page=2".into()).await;
    assert_eq!(ids(&list), vec![c.clone(), b.clone()]);
    assert_eq!(
        (&list["page"], &list["per_page"], &list["total"]),
        (&json!(1), &json!(2), &json!(3))
    );
    let list = query("per_page=2&page=2".into()).await;
    assert_eq!(ids(&list), vec![a.clone()]);
    assert_eq!(
        (&list["page"], &list["per_page"], &list["total"]),
        (&json!(2), &json!(2), &json!(3))
    );
    let list = query("per_page=2&page=3".into()).await;
    assert_eq!(list["items"], json!([]));
    assert_eq!(list["total"], 3);
    let list = query("state=awaiting_rectification&per_page=1&page=2".into()).await;
    assert_eq!(ids(&list), vec![b.clone()]);
    assert_eq!(list["total"], 2);
}

// ---------------------------------------------------------------------------------------------
// Domain refusals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn commands_the_procedure_refuses_answer_409_in_words() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let caseworker = app.caseworker();
    let citizen = app.citizen(ANA);
    let id = register(&app, ANA, "Poda").await;

    // Fixing when nothing was asked.
    let reply = post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&citizen)
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::CONFLICT, "refused");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no request to fix")),
        "{problem}"
    );

    // Resolving while the applicant has time to fix the application.
    ask_to_fix(&app, &id, "Falta el DNI").await;
    let due = business_days_after(day(2026, 7, 20), 10);
    let reply = post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&caseworker)
        .json(&json!({"decision": "denied", "grounds": "No aporta el DNI"}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::CONFLICT, "refused");
    let detail = problem["detail"].as_str().expect("detail");
    assert!(
        detail.contains("fix the application") && detail.contains(&due.to_string()),
        "the refusal says why and until when: {problem}"
    );
    // Asking twice.
    let reply = post(format!("{}/rectification-requests", case_uri(&id)))
        .bearer(&caseworker)
        .json(&json!({"what": "Otra vez"}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::CONFLICT, "refused");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("already running")),
        "{problem}"
    );

    // Withdrawing a closed file.
    post(format!("{}/withdrawals", case_uri(&id)))
        .bearer(&citizen)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let reply = post(format!("{}/withdrawals", case_uri(&id)))
        .bearer(&citizen)
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::CONFLICT, "refused");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("closed") && d.contains("withdrawn")),
        "{problem}"
    );
    let reply = post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&caseworker)
        .json(&json!({"decision": "granted", "grounds": "Procede"}))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::CONFLICT, "refused");

    // Refusals write nothing.
    let case = get(case_uri(&id))
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["version"], 4);
    assert_eq!(case["state"], "withdrawn");
}

#[tokio::test]
async fn a_resolution_is_notified_to_the_applicant_who_opens_it_and_the_file_records_it() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let ana = app.citizen(ANA);
    let id = submit_own(&app, &ana, "Poda de un árbol", "Ana García").await;
    post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&app.caseworker())
        .json(&json!({"decision": "granted", "grounds": "Procede la poda según el informe", "body": "la Junta de Gobierno"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let waiting = get("/v1/notifications?pending=true")
        .bearer(&ana)
        .send(&app)
        .await
        .ok_json();
    let notice = &waiting[0];
    assert_eq!(
        (notice["act_kind"].as_str(), notice["channel"].as_str()),
        (Some("resolution"), Some("electronic"))
    );
    let id_n = notice["id"].as_str().unwrap();
    post(format!("/v1/notifications/{id_n}/access"))
        .bearer(&ana)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let opened = get(format!("/v1/notifications/{id_n}"))
        .bearer(&ana)
        .send(&app)
        .await
        .ok_json();
    let text = opened["act_text"].as_str().unwrap();
    assert!(
        text.contains("se estima")
            && text.contains("Junta de Gobierno")
            && text.contains("contencioso-administrativo"),
        "{text}"
    );
    let history = get(format!("{}/events", case_uri(&id)))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["event_type"] == "resolution_notified"));
    // Its exit entry is in the registry book, with the file's receipts.
    let receipts = get(format!("/v1/notifications?case={id}"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert!(receipts[0]["exit_number"].as_str().unwrap().contains("/S/"));
    let failed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM deadline_timers WHERE state = 'failed'")
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    assert_eq!(failed, 0, "every follow-up was understood");
}

#[tokio::test]
async fn a_person_who_applied_on_paper_is_notified_by_letter_and_the_ten_days_count_from_delivery()
{
    // Monday 20 July 2026: Ana applies at the registry office and gives her address for letters
    // (art. 14.1 LPAC: a natural person may choose; arts. 41.1, 42).
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let caseworker = app.caseworker();
    let filed = |body: Value| {
        post("/v1/general-applications")
            .bearer(&caseworker)
            .json(&body)
    };
    let id = id_of(
        &filed(json!({"subject": "Poda de un árbol",
            "applicant": {"document": ANA, "name": "Ana García"},
            "address": "Calle Mayor 1, 28013 Madrid"}))
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .json(),
    );
    // What cannot be chosen is refused, and files nothing.
    for (body, field) in [
        (
            json!({"subject": "s", "applicant": {"document": "B12345674", "name": "Podas SL"},
                "notify_by": "paper", "address": "Calle Mayor 1"}),
            "notify_by",
        ),
        (
            json!({"subject": "s", "applicant": {"document": BORIS, "name": "Boris"},
                "notify_by": "paper"}),
            "address",
        ),
        (
            json!({"subject": "s", "applicant": {"document": BORIS, "name": "Boris"},
                "notify_by": "electronic", "address": "Calle Mayor 1"}),
            "address",
        ),
        (
            json!({"subject": "s", "applicant": {"document": BORIS, "name": "Boris"},
                "address": "Calle\u{0}Mayor"}),
            "address",
        ),
    ] {
        let reply = filed(body).send(&app).await;
        let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert!(
            problem_fields(&problem).contains(&field.to_owned()),
            "{problem}"
        );
    }

    // The council asks her to fix it: a letter, not an electronic notification.
    request_fix(&app, &id, "Falta la fotografía del árbol").await;
    drive(&app).await;
    let letter = notification_of(&app, &id, "rectification_request").await;
    assert_eq!(letter["channel"], "paper", "{letter}");
    assert_eq!(letter["address"], "Calle Mayor 1, 28013 Madrid");
    let reply = post(format!(
        "/v1/notifications/{}/access",
        letter["id"].as_str().unwrap()
    ))
    .bearer(&app.citizen(ANA))
    .send(&app)
    .await;
    assert_problem(&reply, StatusCode::CONFLICT, "refused");
    // Until the letter is delivered nothing runs, and she does not see the request online.
    let staff = get(case_uri(&id))
        .bearer(&caseworker)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(staff["state"], "awaiting_rectification");
    assert_eq!(staff["citizen_action"], Value::Null, "{staff}");
    assert_eq!(staff["resolution_due"], "2026-10-20", "not suspended yet");
    let hers = get(case_uri(&id))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(hers["state"], "submitted", "{hers}");
    assert_eq!(hers["notification_pending"], true);

    // Delivered on Thursday 23 July: ten business days from Friday 24 July.
    app.clock.set(utc(2026, 7, 23, 9, 0));
    deliver_on_paper(&app, &id, "rectification_request").await;
    let hers = get(case_uri(&id))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(hers["state"], "awaiting_rectification");
    assert_eq!(hers["notification_pending"], false);
    assert_eq!(
        hers["citizen_action"]["due"],
        business_days_after(day(2026, 7, 23), 10).to_string()
    );
    assert_eq!(
        hers["resolution_due"],
        Value::Null,
        "suspended (art. 22.1.a)"
    );

    // The resolution goes by letter too.
    post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&caseworker)
        .json(&json!({"note": "Aporta la fotografía en el registro"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&caseworker)
        .json(&json!({"decision": "granted", "grounds": "Procede la poda"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let resolution = notification_of(&app, &id, "resolution").await;
    assert_eq!(resolution["channel"], "paper");
}

#[tokio::test]
async fn a_fix_recorded_on_the_wrong_file_is_corrected_and_the_period_to_fix_runs_again() {
    // Monday 20 July 2026: Ana is asked to fix her application and opens the request at once;
    // her ten business days end on Monday 3 August, and the time to resolve stands still.
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let caseworker = app.caseworker();
    let id = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    ask_to_fix(&app, &id, "Falta la fotografía").await;
    let due = business_days_after(day(2026, 7, 20), 10).to_string();
    // On 22 July a caseworker enters, on Ana's file, a paper fix that was another person's.
    app.clock.set(utc(2026, 7, 22, 9, 0));
    let fixed = post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&caseworker)
        .json(&json!({"note": "Subsanación en papel"}))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(fixed["version"], 4);
    let correct = |version: i64, reason: &str| {
        post(format!("{}/corrections", case_uri(&id)))
            .bearer(&caseworker)
            .json(&json!({"corrects_version": version, "reason": reason}))
    };
    // What cannot be corrected is refused in words, and changes nothing.
    for (version, status, slug, why) in [
        (
            9,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "no event with that version",
        ),
        (1, StatusCode::CONFLICT, "refused", "caseworker recorded"),
        (2, StatusCode::CONFLICT, "refused", "last step"),
    ] {
        let reply = correct(version, "por error").send(&app).await;
        let problem = assert_problem(&reply, status, slug);
        assert!(
            problem["detail"].as_str().unwrap().contains(why),
            "{problem}"
        );
    }
    let reply = correct(4, "  ").send(&app).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let reply = post(format!("{}/corrections", case_uri(&id)))
        .bearer(&app.citizen(ANA))
        .json(&json!({"corrects_version": 4, "reason": "x"}))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");

    // Corrected on 23 July: the request stands again as it was, with its last day.
    app.clock.set(utc(2026, 7, 23, 9, 0));
    let corrected = correct(
        4,
        "La subsanación en papel era de la solicitud 28079/2026/000099",
    )
    .send(&app)
    .await
    .ok_json();
    assert_eq!(corrected["version"], 5);
    drive(&app).await;
    let hers = get(case_uri(&id))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(hers["state"], "awaiting_rectification", "{hers}");
    assert_eq!(hers["citizen_action"]["due"], due);
    assert_eq!(hers["resolution_due"], Value::Null, "suspended again");
    // Auditors see the correction beside the fix it corrects; nothing was rewritten.
    let audit = get("/v1/audit/corrections")
        .bearer(&app.auditor())
        .send(&app)
        .await
        .ok_json();
    let entry = &audit["corrections"][0];
    assert_eq!(entry["correction"]["event_type"], "rectification_corrected");
    assert_eq!(entry["corrected"]["event_type"], "rectified");
    assert_eq!(
        entry["correction"]["payload"]["correction"]["by"],
        "funcionaria-0042"
    );
    // The period's timer runs again: unfixed, the desistimiento is proposed after 3 August.
    app.clock.set(utc(2026, 8, 3, 21, 59));
    assert_eq!(drive(&app).await, 0);
    app.clock.set(utc(2026, 8, 3, 22, 0));
    assert_eq!(drive(&app).await, 1);
    let staff = get(case_uri(&id))
        .bearer(&caseworker)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(staff["state"], "desistimiento_proposed", "{staff}");
}

#[tokio::test]
async fn what_the_applicant_does_while_a_request_is_being_notified_shows_and_the_request_does_not()
{
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let ana = app.citizen(ANA);
    let id = submit_own(&app, &ana, "Poda de un árbol", "Ana García").await;
    request_fix(&app, &id, "Falta la fotografía").await;
    // She withdraws before opening the request: her own act shows; the request does not.
    post(format!("{}/withdrawals", case_uri(&id)))
        .bearer(&ana)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let hers = get(case_uri(&id)).bearer(&ana).send(&app).await.ok_json();
    assert_eq!(hers["state"], "withdrawn", "{hers}");
    assert_eq!(hers["notification_pending"], true);
    let types: Vec<String> = get(format!("{}/events", case_uri(&id)))
        .bearer(&ana)
        .send(&app)
        .await
        .ok_json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["submitted", "withdrawn"]);
    let folder = get("/v1/carpeta").bearer(&ana).send(&app).await.ok_json();
    assert_eq!(folder["files"][0]["state"], "closed", "{folder}");
    // A second request after the first was refused spends no exit number.
    let reply = post(format!("{}/rectification-requests", case_uri(&id)))
        .bearer(&app.caseworker())
        .json(&json!({"what": "otra cosa"}))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::CONFLICT, "refused");
    let exits: Vec<Value> = get(format!("{}/registry-entries", case_uri(&id)))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["direction"] == "out")
        .cloned()
        .collect();
    assert_eq!(exits.len(), 1, "{exits:?}");
    // The next exit takes the next number: nothing was spent by the refusal.
    let other = submit_own(&app, &ana, "Otra solicitud", "Ana García").await;
    request_fix(&app, &other, "Falta la firma").await;
    let numbers: Vec<String> = get(format!("{}/registry-entries", case_uri(&other)))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["direction"] == "out")
        .map(|e| e["number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers, ["28079/2026/S/0000002"]);
}
