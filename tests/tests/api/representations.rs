//! Representation (arts. 5–6 LPAC) through the whole service: a filing in another's name is
//! refused without a representation on record and accepted with one; an online apud acta needs a
//! certificate and is entered in the registry; a revoked or expired representation, or one that
//! does not cover the procedure, no longer counts.

use super::*;

fn file_for(applicant: &str) -> Value {
    json!({
        "subject": "Licencia de vado",
        "applicant": {"document": applicant, "name": "Diego Pérez"},
        "name": "Carmen Gestora",
    })
}

#[tokio::test]
async fn a_filing_for_another_is_refused_without_representation_and_accepted_with_it() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let carmen = app.citizen(CARMEN);
    let reply = post("/v1/general-applications")
        .bearer(&carmen)
        .json(&file_for(DIEGO))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    assert!(reply.text().contains("art. 5"), "{}", reply.text());
    // Nothing was filed: Diego's folder is empty.
    let folder = get("/v1/carpeta")
        .bearer(&app.citizen(DIEGO))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(folder["files"].as_array().unwrap().len(), 0);

    let representation = represent(&app, DIEGO, CARMEN).await;
    let reply = post("/v1/general-applications")
        .bearer(&carmen)
        .json(&file_for(DIEGO))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let id = id_of(&reply.json());
    let view = get(case_uri(&id))
        .bearer(&app.citizen(DIEGO))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["parties"][1]["role"], "representative");

    // Both see the representation; a stranger does not.
    for (who, count) in [(DIEGO, 1), (CARMEN, 1), (ANA, 0)] {
        let list = get("/v1/representations")
            .bearer(&app.citizen(who))
            .send(&app)
            .await
            .ok_json();
        assert_eq!(list.as_array().unwrap().len(), count, "{who}");
    }
    // Its Location answers to both sides and to staff, not to a stranger.
    for (token, status) in [
        (app.citizen(DIEGO), StatusCode::OK),
        (carmen.clone(), StatusCode::OK),
        (app.caseworker(), StatusCode::OK),
        (app.citizen(ANA), StatusCode::NOT_FOUND),
    ] {
        get(format!("/v1/representations/{representation}"))
            .bearer(&token)
            .send(&app)
            .await
            .expect(status);
    }
    // Only the principal revokes; to the representative it does not exist.
    post(format!("/v1/representations/{representation}/revocations"))
        .bearer(&carmen)
        .json(&json!({}))
        .send(&app)
        .await
        .expect(StatusCode::NOT_FOUND);
    post(format!("/v1/representations/{representation}/revocations"))
        .bearer(&app.citizen(DIEGO))
        .json(&json!({"reason": "Ya no trabaja para mí"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let reply = post("/v1/general-applications")
        .bearer(&carmen)
        .json(&file_for(DIEGO))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn an_online_apud_acta_needs_a_certificate_is_entered_in_the_registry_and_keeps_to_its_scope()
{
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let grant = json!({
        "means": "apud_acta_online",
        "principal_name": "Diego Pérez",
        "representative": {"document": CARMEN, "name": "Carmen Gestora"},
        "procedures": ["padron_removal_file"],
        "valid_until": "2027-07-20",
    });
    // With a password (substantial assurance): refused.
    let reply = post("/v1/representations")
        .bearer(&app.citizen(DIEGO))
        .json(&grant)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    let certificate = app.state.keys.mint(
        Role::Citizen,
        &MADRID.parse().unwrap(),
        DIEGO,
        Assurance::High,
        3600,
    );
    // More than five years (art. 6.6), or an unknown procedure: refused.
    let mut too_long = grant.clone();
    too_long["valid_until"] = json!("2031-07-21");
    post("/v1/representations")
        .bearer(&certificate)
        .json(&too_long)
        .send(&app)
        .await
        .expect(StatusCode::CONFLICT);
    let mut unknown = grant.clone();
    unknown["procedures"] = json!(["no_such_procedure"]);
    post("/v1/representations")
        .bearer(&certificate)
        .json(&unknown)
        .send(&app)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    post("/v1/representations")
        .bearer(&certificate)
        .json(&grant)
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let entries: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM registry_book WHERE kind = 'representation' AND stream_type = 'representation'",
    )
    .fetch_one(&app.state.pool)
    .await
    .unwrap();
    assert_eq!(entries, 1, "an online apud acta is a registry entry");
    // It covers removal files only: a general application in Diego's name is still refused.
    let reply = post("/v1/general-applications")
        .bearer(&app.citizen(CARMEN))
        .json(&file_for(DIEGO))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    // A citizen cannot record the in-person means themselves.
    let mut in_person = grant.clone();
    in_person["means"] = json!("apud_acta_in_person");
    let reply = post("/v1/representations")
        .bearer(&certificate)
        .json(&in_person)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn an_expired_representation_no_longer_counts() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    represent(&app, DIEGO, CARMEN).await;
    app.clock.set(utc(2028, 1, 3, 9, 0));
    let reply = post("/v1/general-applications")
        .bearer(&app.citizen(CARMEN))
        .json(&file_for(DIEGO))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
}
