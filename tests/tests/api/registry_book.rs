//! The registry (art. 16 LPAC) through the whole service: every submission gets a numbered entry
//! with the moment it was presented and the moment it counts from (art. 31.2.b), its receipt
//! carries a secure verification code, and anyone can check the code without a login and without
//! seeing who filed what.

use super::*;

async fn receipts(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    get(format!("{}/registry-entries", case_uri(id)))
        .bearer(token)
        .send(app)
        .await
        .ok_json()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn an_application_and_its_fix_get_numbered_entries_whose_codes_anyone_can_check() {
    // Saturday 18 July 2026, 11:00 in Madrid: presented then, it counts from 00:00 of Monday 20
    // July (art. 31.2.b).
    let app = TestApp::start(utc(2026, 7, 18, 9, 0)).await;
    let id = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    let entries = receipts(&app, &app.citizen(ANA), &id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry["number"], "28079/2026/E/0000001");
    assert_eq!(
        (entry["direction"].as_str(), entry["kind"].as_str()),
        (Some("in"), Some("application"))
    );
    assert_eq!(entry["presented_at"], "2026-07-18T09:00:00Z");
    assert_eq!(entry["counts_from"], "2026-07-19T22:00:00Z");

    // The fix is a submission too: the next number.
    app.clock.set(utc(2026, 7, 20, 8, 0));
    ask_to_fix(&app, &id, "falta el plano").await;
    post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&app.citizen(ANA))
        .json(&json!({"note": "adjunto el plano"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let entries = receipts(&app, &app.caseworker(), &id).await;
    // The request to fix went out with an exit number (its notification, art. 16.1).
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[1]["number"], "28079/2026/S/0000001");
    assert_eq!(entries[1]["kind"], "notification");
    assert_eq!(entries[2]["number"], "28079/2026/E/0000002");
    assert_eq!(entries[2]["kind"], "rectification");

    // Anyone checks a code without a login, typed in small letters too; nothing personal shows.
    let code = entries[0]["verification_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 20);
    let reply = get(format!("/v1/verification/{}", code.to_lowercase()))
        .send(&app)
        .await;
    let text = reply.text();
    let checked = reply.ok_json();
    assert_eq!(checked["number"], "28079/2026/E/0000001");
    assert_eq!(checked["council"], "28079");
    assert_eq!(checked["kind"], "application");
    assert_eq!(checked["procedure"], "general_application");
    assert_eq!(checked["record_hash"].as_str().unwrap().len(), 64);
    for personal in ["Ana", "12345678Z", "Poda"] {
        assert!(!text.contains(personal), "{personal} shown: {text}");
    }
    // A code of the wrong shape is a problem; a well-formed unknown one is not found.
    get("/v1/verification/not-a-code")
        .send(&app)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    get("/v1/verification/ABCDEFGHJKMNPQRSTVWX")
        .send(&app)
        .await
        .expect(StatusCode::NOT_FOUND);

    // Another citizen cannot read the file's receipts.
    get(format!("{}/registry-entries", case_uri(&id)))
        .bearer(&app.citizen(BORIS))
        .send(&app)
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rebuilt_registry_book_is_the_same_book() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    for subject in ["Uno", "Dos", "Tres"] {
        submit_own(&app, &app.citizen(ANA), subject, "Ana García").await;
    }
    let book = || async {
        sqlx::query_as::<_, (String, String, i64)>(
            "SELECT number, verification_code, event_position FROM registry_book ORDER BY number",
        )
        .fetch_all(&app.state.pool)
        .await
        .unwrap()
    };
    let before = book().await;
    assert_eq!(before.len(), 3);
    // Rebuilding creates tables: the owner's connection does it, as `expedientes rebuild` does.
    let owner = expedientes_api::build_state(
        app.db.pool(2).await,
        (*app.state.config).clone(),
        Arc::new(app.clock.clone()),
    );
    let model = owner.runner.model("registry_book").unwrap();
    owner
        .runner
        .rebuild(
            model.as_ref(),
            expedientes_projections::RebuildEffects::Refuse,
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(book().await, before);
}
