//! Malformed requests get problem details that say what is wrong, never a 500: bodies that are not
//! JSON, not of the expected shape, of another content type, empty or too large; invalid values,
//! query parameters, ids and headers; unknown routes and methods. None of them writes anything.

use super::*;

// ---------------------------------------------------------------------------------------------
// Malformed requests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_requests_get_problems_never_a_500() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);
    let caseworker = app.caseworker();
    let auditor = app.auditor();
    let id = submit_own(&app, &citizen, "Poda", "Ana García").await;
    let submit = || post("/v1/general-applications").bearer(&citizen);

    // Not JSON: 400.
    let reply = submit()
        .raw("application/json", r#"{"subject": "Poda", "name": "#)
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("JSON")),
        "{problem}"
    );
    let reply = submit()
        .raw(
            "application/json",
            r#"{"subject": "Poda", "name": "Ana"} trailing"#,
        )
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");

    // A value of the wrong type: 422 naming the field.
    let reply = submit()
        .json(&json!({"subject": 42, "name": "Ana"}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem), vec!["subject"], "{problem}");
    let reply = submit()
        .json(&json!({"subject": "Poda", "applicant": {"document": 12345678, "name": "Ana"}, "name": "Rep"}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(
        problem_fields(&problem),
        vec!["applicant.document"],
        "{problem}"
    );
    // A body that is JSON but not an object.
    let reply = submit().json(&json!(["Poda"])).send(&app).await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert!(!problem_fields(&problem).is_empty(), "{problem}");

    // A missing required field: 422 that names it.
    let reply = submit().json(&json!({"name": "Ana"})).send(&app).await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem).len(), 1, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("subject")),
        "the problem names the missing field: {problem}"
    );
    let reply = post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&caseworker)
        .json(&json!({"grounds": "Procede"}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("decision")),
        "{problem}"
    );

    // An unknown field: 422 that names it.
    let reply = submit()
        .json(&json!({"subject": "Poda", "name": "Ana", "colour": "red"}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem).len(), 1, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("colour")),
        "the problem names the unknown field: {problem}"
    );

    // A value outside an enumeration.
    let reply = post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&caseworker)
        .json(&json!({"decision": "maybe", "grounds": "Procede"}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem), vec!["decision"], "{problem}");

    // JSON declared with parameters, or as a +json type, is JSON.
    for content_type in ["application/json; charset=utf-8", "Application/JSON"] {
        submit()
            .raw(content_type, r#"{"subject": "Con charset", "name": "Ana"}"#)
            .send(&app)
            .await
            .expect(StatusCode::CREATED);
    }

    // Not JSON at all: 415.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let reply = submit()
            .raw(content_type, r#"{"subject": "Poda", "name": "Ana"}"#)
            .send(&app)
            .await;
        assert_problem(
            &reply,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        );
    }
    let reply = submit().header("x-no-content-type", "1").send(&app).await;
    assert!(
        reply.status == StatusCode::BAD_REQUEST
            || reply.status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        reply.text()
    );
    let mut no_type = post("/v1/general-applications").bearer(&citizen);
    no_type.body = br#"{"subject": "Poda", "name": "Ana"}"#.to_vec();
    let reply = no_type.send(&app).await;
    assert_problem(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );

    // An empty body where one is required: not JSON, 400.
    let reply = submit().raw("application/json", "").send(&app).await;
    assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");
    for command in ["rectification-requests", "resolutions"] {
        let reply = post(format!("{}/{command}", case_uri(&id)))
            .bearer(&caseworker)
            .raw("application/json", "")
            .send(&app)
            .await;
        assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");
    }

    // Invalid values: an applicant's document number, an empty subject, a missing name.
    let reply = post("/v1/general-applications")
        .bearer(&caseworker)
        .json(&json!({"subject": "Poda", "applicant": {"document": "12345678A", "name": "Ana"}}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(
        problem_fields(&problem),
        vec!["applicant.document"],
        "{problem}"
    );
    let reply = submit()
        .json(&json!({"subject": "Poda", "applicant": {"document": "XYZ", "name": "Ana"}, "name": "Rep"}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(
        problem_fields(&problem),
        vec!["applicant.document"],
        "{problem}"
    );
    let reply = submit()
        .json(&json!({"subject": "   ", "name": "Ana"}))
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem), vec!["subject"], "{problem}");
    let reply = submit().json(&json!({"subject": "Poda"})).send(&app).await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem), vec!["name"], "{problem}");

    // Query parameters.
    let reply = get("/v1/cases?per_page=0")
        .bearer(&caseworker)
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem), vec!["per_page"], "{problem}");
    let reply = get("/v1/cases?per_page=201")
        .bearer(&caseworker)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let reply = get("/v1/cases?page=0").bearer(&caseworker).send(&app).await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem), vec!["page"], "{problem}");
    for query in [
        "due_before=notadate",
        "per_page=many",
        "page=-1",
        "include_closed=perhaps",
    ] {
        let reply = get(format!("/v1/cases?{query}"))
            .bearer(&caseworker)
            .send(&app)
            .await;
        let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");
        let name = query.split('=').next().expect("a name");
        assert!(
            problem["detail"].as_str().is_some_and(|d| d.contains(name)),
            "?{query}: the problem names the parameter: {problem}"
        );
    }
    let reply = get(format!("{}?as_of=yesterday", case_uri(&id)))
        .bearer(&caseworker)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");
    for query in ["after=-1", "limit=0", "limit=1001", "after=999999"] {
        let reply = get(format!("/v1/audit/events?{query}"))
            .bearer(&auditor)
            .send(&app)
            .await;
        let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        let name = query.split('=').next().expect("a name");
        assert_eq!(problem_fields(&problem), vec![name], "?{query}: {problem}");
    }
    let reply = get("/v1/audit/events?after=first")
        .bearer(&auditor)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");

    // Paths: a malformed id names nothing (404); so does an unknown route.
    for request in [
        get("/v1/cases/not-a-uuid"),
        get("/v1/cases/not-a-uuid/events"),
        post("/v1/cases/not-a-uuid/withdrawals"),
        post("/v1/cases/12345/resolutions").json(&json!({"decision": "granted", "grounds": "x"})),
        get("/v1/nothing-here"),
        get("/v2/cases"),
        get(format!("{}/attachments", case_uri(&id))),
    ] {
        let reply = request.bearer(&caseworker).send(&app).await;
        assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    }
    // Unknown routes answer 404 even without a token.
    let reply = get("/nothing-here").send(&app).await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");

    // A route with another method: 405.
    for request in [
        call(Method::DELETE, case_uri(&id)),
        call(Method::PUT, case_uri(&id)).json(&json!({})),
        get("/v1/general-applications"),
        get(format!("{}/withdrawals", case_uri(&id))),
        post("/v1/cases").json(&json!({})),
        post("/health"),
    ] {
        let description = format!("{} {}", request.method, request.uri);
        let reply = request.bearer(&caseworker).send(&app).await;
        assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
        // RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
        assert!(
            reply.header("allow").is_some_and(|a| !a.is_empty()),
            "{description}: a 405 carries Allow; headers: {:?}",
            reply.headers
        );
    }

    // Headers: a garbage If-Match or Idempotency-Key is 400, and writes nothing.
    for value in ["garbage", "\"-1\"", "\"1.5\"", "W/\"x\""] {
        let reply = post(format!("{}/withdrawals", case_uri(&id)))
            .bearer(&citizen)
            .header("if-match", value)
            .send(&app)
            .await;
        let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("If-Match")),
            "{problem}"
        );
    }
    let too_long = "k".repeat(256);
    for key in ["", "\"\"", too_long.as_str()] {
        let reply = submit()
            .header("idempotency-key", key)
            .json(&json!({"subject": "Poda", "name": "Ana"}))
            .send(&app)
            .await;
        let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("Idempotency-Key")),
            "{problem}"
        );
    }

    // A body over 1 MiB: 413, with or without a declared length.
    let oversized = serde_json::to_vec(&json!({
        "subject": "Poda",
        "name": "Ana",
        "body": "a".repeat(1024 * 1024 + 16),
    }))
    .expect("JSON");
    let length = oversized.len().to_string();
    let reply = submit()
        .raw("application/json", oversized.clone())
        .header("content-length", &length)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    let reply = submit().raw("application/json", oversized).send(&app).await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    let reply = post(format!("{}/rectification-requests", case_uri(&id)))
        .bearer(&caseworker)
        .raw(
            "application/json",
            format!(r#"{{"what": "{}"}}"#, "b".repeat(1024 * 1024 + 1)),
        )
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");

    // After all that, the file is untouched and no malformed request filed anything.
    let case = get(case_uri(&id))
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["version"], 1);
    assert_eq!(case["state"], "submitted");
    let list = get("/v1/cases")
        .bearer(&caseworker)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        list["total"], 3,
        "the first and the two filed with a charset: {list}"
    );
}

/// Every input is bounded and checked: control characters and overlong strings in any field are
/// refused naming the field (without repeating the value), and dates must make sense for what
/// they mean; nothing is appended.
#[tokio::test]
async fn control_characters_overlong_strings_and_implausible_dates_are_refused() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let citizen = app.citizen(ANA);
    let refused = |reply: &Reply, field: &str| {
        let problem = assert_problem(reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        assert!(
            reply.body.len() < 2_000,
            "a problem never echoes a huge value"
        );
    };
    // A NUL or another control character, in any string field, of any endpoint.
    for (field, body) in [
        ("subject", json!({"subject": "Poda\u{0}", "name": "Ana"})),
        ("name", json!({"subject": "Poda", "name": "Ana\u{7}"})),
        (
            "applicant.name",
            json!({"subject": "Poda", "name": "Ana",
            "applicant": {"document": BORIS, "name": "Boris\u{1b}[2J"}}),
        ),
    ] {
        let reply = post("/v1/general-applications")
            .bearer(&citizen)
            .json(&body)
            .send(&app)
            .await;
        refused(&reply, field);
    }
    let reply = post("/v1/councils/28079/sessions")
        .json(&json!({"document": "12345678Z\u{0}", "password": "x"}))
        .send(&app)
        .await;
    refused(&reply, "document");
    // A huge value.
    let reply = post("/v1/general-applications")
        .bearer(&citizen)
        .json(&json!({"subject": "P".repeat(200_000), "name": "Ana"}))
        .send(&app)
        .await;
    refused(&reply, "subject");
    // Line breaks and tabs are text, not control characters.
    post("/v1/general-applications")
        .bearer(&citizen)
        .json(&json!({"subject": "Poda", "body": "Primero:\n\tel árbol.\r\n", "name": "Ana"}))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let events_before = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
        .fetch_one(&app.state.pool)
        .await
        .unwrap();

    // Dates of birth in the past and within 130 years.
    for birth in ["0000-01-01", "9999-12-31", "2026-03-03", "1890-01-01"] {
        let reply = post("/v1/padron/inscriptions")
            .bearer(&cw)
            .json(&json!({"name": "Boris Petrov", "birth_date": birth, "nationality": "non_eu",
                "residence": "non_eu_temporary", "document": {"kind": "residence_card", "number": BORIS},
                "dwelling_key": "9872023VK4797S0001WX", "address": "Calle de Toledo 10",
                "actor": {"kind": "themselves"}}))
            .send(&app)
            .await;
        refused(&reply, "birth_date");
        let reply = post("/v1/councils/28079/accounts")
            .json(
                &json!({"channel": "online_without_certificate", "person": "natural",
                "name": "Elena Ruiz", "birth_date": birth, "nationality": "spanish",
                "document": {"kind": "dni", "number": ELENA}, "mobile": "+34600111222",
                "email": "elena@example.es", "address": "Calle Mayor 1"}),
            )
            .send(&app)
            .await;
        refused(&reply, "birth_date");
    }
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
            .fetch_one(&app.state.pool)
            .await
            .unwrap(),
        events_before,
        "nothing refused was appended"
    );

    // Acts not before what they follow, nor in the future.
    let inscription = id_of(
        &post("/v1/padron/inscriptions")
            .bearer(&cw)
            .json(&json!({"name": "Boris Petrov", "birth_date": "1990-01-01", "nationality": "non_eu",
                "residence": "non_eu_temporary", "document": {"kind": "residence_card", "number": BORIS},
                "dwelling_key": "9872023VK4797S0001WX", "address": "Calle de Toledo 10",
                "actor": {"kind": "themselves"}}))
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    for effective_on in ["2030-01-01", "2026-03-01"] {
        let reply = post(format!("/v1/padron/inscriptions/{inscription}/removals"))
            .bearer(&cw)
            .json(&json!({"cause": "death", "effective_on": effective_on}))
            .send(&app)
            .await;
        refused(&reply, "effective_on");
    }
    let file = id_of(
        &post("/v1/padron/removal-files")
            .bearer(&cw)
            .json(&json!({"inscription_id": inscription, "reason": "no vive allí"}))
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    drive(&app).await;
    let letter = notification_of(&app, &file, "opening").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Posted, on a day not before the act nor ahead.
    for on in ["2026-02-27", "2026-03-09"] {
        let reply = post(format!("/v1/notifications/{letter}/dispatch"))
            .bearer(&cw)
            .json(&json!({"on": on}))
            .send(&app)
            .await;
        refused(&reply, "on");
    }
    post(format!("/v1/notifications/{letter}/dispatch"))
        .bearer(&cw)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    // A delivery before the letter was posted, or ahead, is refused.
    for at in ["2026-02-27T10:00:00", "2026-03-09T10:00:00"] {
        let reply = post(format!("/v1/notifications/{letter}/delivery-attempts"))
            .bearer(&cw)
            .json(&json!({"at": at, "result": "delivered", "received_by": "la persona"}))
            .send(&app)
            .await;
        refused(&reply, "at");
    }
}
