//! Who may see what, and who is let in: citizens reach only their own files (and what they filed
//! for others), however their token spells the document number; auditors read everything and write
//! nothing, and only they audit; a council sees nothing of another's; a request without a valid
//! token (none, expired, badly signed, for another audience or issuer, another scheme or
//! algorithm, garbage) is unauthenticated and writes nothing.

use expedientes_api::auth::{Claims, Keys, AUDIENCE, ISSUER};

use super::*;

// ---------------------------------------------------------------------------------------------
// Citizens reach only their own files
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn citizens_reach_only_their_own_files_and_representatives_see_what_they_filed() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let owner = app.citizen(ANA);
    let stranger = app.citizen(BORIS);
    let id = submit_own(&app, &owner, "Poda de un árbol", "Ana García").await;

    // The owner reads the file and its history.
    let case = get(case_uri(&id)).bearer(&owner).send(&app).await.ok_json();
    assert_eq!(case["id"], id.as_str());
    assert_eq!(case["parties"][0]["document"], ANA);
    assert_eq!(case["parties"][0]["role"], "interested");
    let history = get(format!("{}/events", case_uri(&id)))
        .bearer(&owner)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(history.as_array().map(Vec::len), Some(1));

    // Someone else gets exactly what a file that does not exist gives: 404.
    let missing = get(case_uri("0b7e5d43-8c59-4d0c-9a61-2f4a3c1e9b10"))
        .bearer(&stranger)
        .send(&app)
        .await;
    let missing = assert_problem(&missing, StatusCode::NOT_FOUND, "not-found");
    for uri in [case_uri(&id), format!("{}/events", case_uri(&id))] {
        let reply = get(&uri).bearer(&stranger).send(&app).await;
        let problem = assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
        assert_eq!(
            problem["detail"], missing["detail"],
            "GET {uri} must not tell a hidden file from a missing one"
        );
    }
    let commands = [
        ("rectifications", json!({"note": "adjunto"})),
        ("withdrawals", json!({})),
        // Not a citizen's command at all: still 404, so that the role check tells nothing.
        ("rectification-requests", json!({"what": "x"})),
        ("resolutions", json!({"decision": "denied", "grounds": "x"})),
    ];
    for (command, body) in &commands {
        let reply = post(format!("{}/{command}", case_uri(&id)))
            .bearer(&stranger)
            .json(body)
            .send(&app)
            .await;
        assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    }
    // A withdrawal with no body at all is refused the same way.
    let reply = post(format!("{}/withdrawals", case_uri(&id)))
        .bearer(&stranger)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    // Nothing was written by any of that.
    let case = get(case_uri(&id)).bearer(&owner).send(&app).await.ok_json();
    assert_eq!(case["version"], 1);
    assert_eq!(case["state"], "submitted");

    // A citizen may not ask themselves to fix their application: their file, but not their role.
    let reply = post(format!("{}/rectification-requests", case_uri(&id)))
        .bearer(&owner)
        .json(&json!({"what": "x"}))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");

    // A representative files for someone else (with a representation on record, art. 5); both
    // see it in their folder.
    represent(&app, DIEGO, CARMEN).await;
    let representative = app.citizen(CARMEN);
    let represented = app.citizen(DIEGO);
    let reply = post("/v1/general-applications")
        .bearer(&representative)
        .json(&json!({
            "subject": "Licencia de vado",
            "applicant": {"document": DIEGO, "name": "Diego Pérez"},
            "name": "Carmen Gestora",
        }))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let represented_id = id_of(&reply.json());

    let folder = get("/v1/carpeta")
        .bearer(&representative)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(folder["person"], CARMEN);
    let files = folder["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{folder}");
    assert_eq!(files[0]["id"], represented_id.as_str());
    assert_eq!(files[0]["role"], "representative");
    assert_eq!(files[0]["body_ine_code"], MADRID);
    assert_eq!(files[0]["state"], "open");
    assert_eq!(files[0]["url"], case_uri(&represented_id));

    let folder = get("/v1/carpeta")
        .bearer(&represented)
        .send(&app)
        .await
        .ok_json();
    let files = folder["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{folder}");
    assert_eq!(files[0]["id"], represented_id.as_str());
    assert_eq!(files[0]["role"], "interested");

    // Both may read it; its parties name both.
    for token in [&representative, &represented] {
        let case = get(case_uri(&represented_id))
            .bearer(token)
            .send(&app)
            .await
            .ok_json();
        let parties: Vec<(String, String)> = case["parties"]
            .as_array()
            .expect("parties")
            .iter()
            .map(|p| {
                (
                    p["document"].as_str().unwrap_or("").to_owned(),
                    p["role"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        assert!(parties.contains(&(DIEGO.to_owned(), "interested".to_owned())));
        assert!(parties.contains(&(CARMEN.to_owned(), "representative".to_owned())));
    }
    // The history of a represented filing shows no metadata to citizens.
    let history = get(format!("{}/events", case_uri(&represented_id)))
        .bearer(&represented)
        .send(&app)
        .await
        .ok_json();
    assert!(history[0].get("metadata").is_none(), "{history}");

    // The folders hold only each person's own files.
    let folder = get("/v1/carpeta").bearer(&owner).send(&app).await.ok_json();
    let ids: Vec<&Value> = folder["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| &f["id"])
        .collect();
    assert_eq!(ids, vec![&Value::from(id.as_str())]);
    let folder = get("/v1/carpeta")
        .bearer(&stranger)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(folder["files"], json!([]));
    let reply = get(case_uri(&represented_id))
        .bearer(&owner)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");

    // The owner acts on their own file.
    let outcome = post(format!("{}/withdrawals", case_uri(&id)))
        .bearer(&owner)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(outcome["version"], 2);
    let case = get(case_uri(&id)).bearer(&owner).send(&app).await.ok_json();
    assert_eq!(case["state"], "withdrawn");
    assert_eq!(case["open"], false);
}

/// A citizen token's subject is a document number, which the service validates with the
/// document-number parser: that parser accepts other spellings of the same number (lower case,
/// dots, dashes). Whatever the service does with such a token must be consistent: either refuse it
/// (401), or treat it as the person it names, who then reads the files filed with it and the files
/// filed under the canonical spelling.
#[tokio::test]
async fn a_citizen_is_recognised_however_the_token_spells_the_document_number() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let canonical = app.citizen(ANA);
    let id = submit_own(&app, &canonical, "Poda", "Ana García").await;
    for spelling in ["12345678z", "12.345.678-Z", "12345678-z"] {
        let token = app.citizen(spelling);
        let folder = get("/v1/carpeta").bearer(&token).send(&app).await;
        if folder.status == StatusCode::UNAUTHORIZED {
            // Refused: then refused everywhere.
            let reply = get(case_uri(&id)).bearer(&token).send(&app).await;
            assert_unauthenticated(&reply);
            continue;
        }
        // Accepted: then it is Ana.
        let reply = post("/v1/general-applications")
            .bearer(&token)
            .json(&json!({"subject": format!("Vado ({spelling})"), "name": "Ana García"}))
            .send(&app)
            .await
            .expect(StatusCode::CREATED);
        let filed = id_of(&reply.json());
        let reply = get(case_uri(&filed)).bearer(&token).send(&app).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{spelling}: the file this token has just filed: {}",
            reply.text()
        );
        let reply = get(case_uri(&id)).bearer(&token).send(&app).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{spelling}: Ana's file filed under {ANA}: {}",
            reply.text()
        );
        let folder = get("/v1/carpeta").bearer(&token).send(&app).await.ok_json();
        let files: Vec<&Value> = folder["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| &f["id"])
            .collect();
        assert!(
            files.contains(&&Value::from(id.as_str()))
                && files.contains(&&Value::from(filed.as_str())),
            "{spelling}: her folder holds both files: {folder}"
        );
        get(case_uri(&filed))
            .bearer(&canonical)
            .send(&app)
            .await
            .expect(StatusCode::OK);
    }
}

// ---------------------------------------------------------------------------------------------
// Auditors read everything and write nothing; only auditors audit
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn auditors_read_but_cannot_write_and_only_auditors_audit() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let auditor = app.auditor();
    let id = register(&app, ANA, "Cambio de titularidad").await;

    let reply = post("/v1/general-applications")
        .bearer(&auditor)
        .json(&json!({
            "subject": "x",
            "applicant": {"document": ANA, "name": "Ana García"},
            "name": "Auditor",
        }))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    // Neither may an administrator file applications.
    let admin = app.token(Role::Admin, MADRID, "admin-1");
    let reply = post("/v1/general-applications")
        .bearer(&admin)
        .json(&json!({"subject": "x", "applicant": {"document": ANA, "name": "Ana"}}))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");

    let commands = [
        (
            "rectification-requests",
            Some(json!({"what": "Falta el DNI"})),
        ),
        ("rectification-extensions", None),
        ("rectifications", Some(json!({"note": "adjunto"}))),
        (
            "resolutions",
            Some(json!({"decision": "granted", "grounds": "Procede"})),
        ),
        ("withdrawals", None),
    ];
    for (command, body) in &commands {
        let mut request = post(format!("{}/{command}", case_uri(&id))).bearer(&auditor);
        if let Some(body) = body {
            request = request.json(body);
        }
        let reply = request.send(&app).await;
        let problem = assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("auditor")),
            "{command}: {problem}"
        );
    }

    // It reads the file (unchanged), its history with metadata and any past state.
    let case = get(case_uri(&id))
        .bearer(&auditor)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["version"], 1);
    let history = get(format!("{}/events", case_uri(&id)))
        .bearer(&auditor)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(history.as_array().map(Vec::len), Some(1));
    assert_eq!(history[0]["metadata"]["actor_role"], "caseworker");

    // It audits.
    let events = audit_log(&app, &auditor, 100, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["stream_id"], id.as_str());
    let verification = get("/v1/audit/verify")
        .bearer(&auditor)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(verification["ok"], true, "{verification}");

    // Nobody else does; and the auditor has no folder of its own.
    for token in [app.caseworker(), app.citizen(ANA), admin] {
        for uri in ["/v1/audit/events", "/v1/audit/verify"] {
            let reply = get(uri).bearer(&token).send(&app).await;
            assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
        }
    }
    let reply = get("/v1/carpeta").bearer(&auditor).send(&app).await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
}

// ---------------------------------------------------------------------------------------------
// Tenants are isolated
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_tenant_sees_nothing_of_another() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let madrid_case = register(&app, ANA, "Madrid: poda").await;
    let leganes_case = register_in(&app, LEGANES, BORIS, "Leganés: vado").await;

    let leganes_caseworker = app.token(Role::Caseworker, LEGANES, "funcionario-leganes");
    let leganes_auditor = app.token(Role::Auditor, LEGANES, "auditor-leganes");
    let leganes_ana = app.token(Role::Citizen, LEGANES, ANA);

    for token in [&leganes_caseworker, &leganes_auditor, &leganes_ana] {
        for uri in [
            case_uri(&madrid_case),
            format!("{}/events", case_uri(&madrid_case)),
            format!(
                "{}?as_of={}",
                case_uri(&madrid_case),
                query_time(Utc::now())
            ),
        ] {
            let reply = get(&uri).bearer(token).send(&app).await;
            assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
        }
    }
    // Nor can it act on it.
    for (command, body) in [
        ("rectification-requests", json!({"what": "x"})),
        ("withdrawals", json!({})),
    ] {
        let reply = post(format!("{}/{command}", case_uri(&madrid_case)))
            .bearer(&leganes_caseworker)
            .json(&body)
            .send(&app)
            .await;
        assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    }

    // Lists and folders hold only the tenant's own files.
    let list = get("/v1/cases")
        .bearer(&leganes_caseworker)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["id"], leganes_case.as_str());
    let list = get("/v1/cases")
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["id"], madrid_case.as_str());
    let folder = get("/v1/carpeta")
        .bearer(&leganes_ana)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(folder["files"], json!([]), "{folder}");

    // The audit stream of one tenant holds none of the other's events.
    let leganes_events = audit_log(&app, &leganes_auditor, 100, 1).await;
    assert_eq!(leganes_events.len(), 1);
    assert!(leganes_events
        .iter()
        .all(|e| e["stream_id"] == leganes_case.as_str()));
    let madrid_events = audit_log(&app, &app.auditor(), 100, 1).await;
    assert_eq!(madrid_events.len(), 1);
    assert!(madrid_events
        .iter()
        .all(|e| e["stream_id"] == madrid_case.as_str()));
}

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

/// A token with these claims, signed with `key`.
fn token_with(key: &[u8], claims: &Claims) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .expect("signing works")
}

fn claims(role: Role, subject: &str, issued: i64, expires: i64) -> Claims {
    let now = Utc::now().timestamp();
    Claims {
        sub: subject.to_owned(),
        role,
        tenant: MADRID.to_owned(),
        aal: Assurance::Substantial,
        iat: u64::try_from(now + issued).expect("after the epoch"),
        exp: u64::try_from(now + expires).expect("after the epoch"),
        nbf: None,
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
    }
}

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthenticated() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let valid = app.caseworker();
    let id = register(&app, ANA, "Poda").await;

    let expired = token_with(
        SIGNING_KEY,
        &claims(Role::Caseworker, "funcionaria", -7200, -3600),
    );
    let just_expired_beyond_leeway = token_with(
        SIGNING_KEY,
        &claims(Role::Caseworker, "funcionaria", -120, -60),
    );
    let badly_signed = Keys::from_secret(b"another-key-of-at-least-32-bytes!!").mint(
        Role::Caseworker,
        &MADRID.parse().expect("an INE code"),
        "funcionaria",
        Assurance::Substantial,
        3600,
    );
    let wrong_audience = {
        let mut c = claims(Role::Caseworker, "funcionaria", 0, 3600);
        c.aud = "someone-else".into();
        token_with(SIGNING_KEY, &c)
    };
    let wrong_issuer = {
        let mut c = claims(Role::Caseworker, "funcionaria", 0, 3600);
        c.iss = "someone-else".into();
        token_with(SIGNING_KEY, &c)
    };
    let citizen_without_document = token_with(
        SIGNING_KEY,
        &claims(Role::Citizen, "not-a-document", 0, 3600),
    );
    let invalid_tenant = {
        let mut c = claims(Role::Caseworker, "funcionaria", 0, 3600);
        c.tenant = "99999".into();
        token_with(SIGNING_KEY, &c)
    };
    let other_algorithm = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(Role::Caseworker, "funcionaria", 0, 3600),
        &jsonwebtoken::EncodingKey::from_secret(SIGNING_KEY),
    )
    .expect("signing works");

    let authorizations: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("expired", Some(format!("Bearer {expired}"))),
        (
            "expired beyond the leeway",
            Some(format!("Bearer {just_expired_beyond_leeway}")),
        ),
        ("badly signed", Some(format!("Bearer {badly_signed}"))),
        ("wrong audience", Some(format!("Bearer {wrong_audience}"))),
        ("wrong issuer", Some(format!("Bearer {wrong_issuer}"))),
        (
            "citizen without a document number",
            Some(format!("Bearer {citizen_without_document}")),
        ),
        ("garbage", Some("Bearer not.a.jwt".to_owned())),
        ("garbage without dots", Some("Bearer garbage".to_owned())),
        ("empty bearer", Some("Bearer ".to_owned())),
        (
            "basic scheme",
            Some("Basic dXNlcjpwYXNzd29yZA==".to_owned()),
        ),
        ("token scheme", Some(format!("Token {valid}"))),
        ("no scheme", Some(valid.clone())),
        ("invalid tenant", Some(format!("Bearer {invalid_tenant}"))),
        ("HS512", Some(format!("Bearer {other_algorithm}"))),
    ];
    for (what, authorization) in &authorizations {
        for request in [
            get(case_uri(&id)),
            get("/v1/cases"),
            get("/v1/carpeta"),
            get("/v1/deadlines?from=2026-07-20&amount=10&unit=business-days"),
            post("/v1/general-applications")
                .json(&json!({"subject": "x", "applicant": {"document": ANA, "name": "Ana"}})),
            post(format!("{}/withdrawals", case_uri(&id))),
        ] {
            let description = format!("{} {} with a {what} token", request.method, request.uri);
            let request = match authorization {
                Some(value) => request.header("authorization", value),
                None => request,
            };
            let reply = request.send(&app).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{description}: {}",
                reply.text()
            );
            assert_unauthenticated(&reply);
        }
    }

    // The expired token's problem says so; the badly signed one's too.
    let reply = get("/v1/cases").bearer(&expired).send(&app).await;
    let problem = assert_unauthenticated(&reply);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("expired")),
        "{problem}"
    );
    let reply = get("/v1/cases").bearer(&badly_signed).send(&app).await;
    let problem = assert_unauthenticated(&reply);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("signature")),
        "{problem}"
    );

    // Nothing was written, and the valid token still works.
    let case = get(case_uri(&id)).bearer(&valid).send(&app).await.ok_json();
    assert_eq!(case["version"], 1);
    let list = get("/v1/cases").bearer(&valid).send(&app).await.ok_json();
    assert_eq!(list["total"], 1);
}

/// Tokens that claim to be issued (or valid) in the future, or to last beyond the longest a token
/// may last (an `exp` in 9999), are refused; a token within the bounds is accepted.
#[tokio::test]
async fn tokens_from_the_future_or_lasting_for_ever_are_refused() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let future_issue = token_with(
        SIGNING_KEY,
        &claims(Role::Caseworker, "funcionaria", 3600, 7200),
    );
    let not_yet_valid = {
        let mut c = claims(Role::Caseworker, "funcionaria", 0, 3600);
        c.nbf = Some(c.iat + 3600);
        token_with(SIGNING_KEY, &c)
    };
    let for_ever = {
        let mut c = claims(Role::Caseworker, "funcionaria", 0, 3600);
        c.exp = 253_402_300_799; // 9999-12-31T23:59:59Z
        token_with(SIGNING_KEY, &c)
    };
    let too_long = token_with(
        SIGNING_KEY,
        &claims(Role::Caseworker, "funcionaria", 0, 13 * 3600),
    );
    for (what, token) in [
        ("issued in the future", &future_issue),
        ("not valid yet", &not_yet_valid),
        ("expiring in 9999", &for_ever),
        ("lasting 13 hours", &too_long),
    ] {
        let reply = get("/v1/cases").bearer(token).send(&app).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            reply.text()
        );
        assert_unauthenticated(&reply);
    }
    let within = token_with(
        SIGNING_KEY,
        &claims(Role::Caseworker, "funcionaria", -30, 12 * 3600 - 60),
    );
    get("/v1/cases")
        .bearer(&within)
        .send(&app)
        .await
        .expect(StatusCode::OK);
}
