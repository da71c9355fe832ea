//! Procedures are declared once: each one's files carry its own SIA code (configured by the
//! procedure's name), in the case view and in Mi Carpeta.

use super::*;

fn sia(procedure: &str) -> &'static str {
    SIA_CODES
        .iter()
        .find(|(name, _)| *name == procedure)
        .map(|(_, code)| *code)
        .unwrap_or_else(|| panic!("no SIA code configured for {procedure}"))
}

#[tokio::test]
async fn each_procedures_files_show_its_own_sia_code() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    // A general application and a registration of Ana; a removal file against Boris.
    let application = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    let registration = id_of(
        &post("/v1/councils/28079/accounts")
            .json(
                &json!({"channel": "online_without_certificate", "person": "natural",
                "name": "Ana García", "birth_date": "1980-05-01", "nationality": "spanish",
                "document": {"kind": "dni", "number": ANA}, "mobile": "+34600111222",
                "email": "ana@example.es", "address": "Calle Mayor 1, 28013 Madrid"}),
            )
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    let inscription = id_of(
        &post("/v1/padron/inscriptions")
            .bearer(&cw)
            .json(&json!({"name": "Boris Petrov", "birth_date": "1990-01-01",
                "nationality": "non_eu", "residence": "non_eu_temporary",
                "document": {"kind": "residence_card", "number": BORIS},
                "dwelling_key": "9872023VK4797S0001WX", "address": "Calle de Toledo 10",
                "actor": {"kind": "themselves"}}))
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    let file = id_of(
        &post("/v1/padron/removal-files")
            .bearer(&cw)
            .json(&json!({"inscription_id": inscription, "reason": "no vive allí"}))
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    for (id, procedure) in [
        (&application, "general_application"),
        (&registration, "user_account"),
        (&file, "padron_removal_file"),
    ] {
        let view = get(case_uri(id)).bearer(&cw).send(&app).await.ok_json();
        assert_eq!(view["procedure"], procedure);
        assert_eq!(
            view["sia_code"],
            sia(procedure),
            "{procedure} in the case view"
        );
    }
    // Before its letter reaches him, Boris sees only that a notification about the file waits.
    drive(&app).await;
    let waiting = get(case_uri(&file))
        .bearer(&app.citizen(BORIS))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(waiting["state"], "notification_pending", "{waiting}");
    assert_eq!(waiting["notification_pending"], true);
    assert_eq!(waiting["citizen_action"], Value::Null);
    assert_eq!(waiting["resolution_due"], Value::Null);
    let events = get(format!("{}/events", case_uri(&file)))
        .bearer(&app.citizen(BORIS))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        events,
        json!([]),
        "the opening is not shown before it is notified"
    );
    // In Mi Carpeta too: Ana's two files, Boris's one (then as it is, once its letter reached
    // him).
    deliver_on_paper(&app, &file, "opening").await;
    let ana = get("/v1/carpeta")
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    let codes = |carpeta: &Value| {
        let mut codes: Vec<(String, String)> = carpeta["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_owned(),
                    f["sia_code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        codes.sort();
        codes
    };
    let mut expected = vec![
        (application.clone(), sia("general_application").to_owned()),
        (registration.clone(), sia("user_account").to_owned()),
    ];
    expected.sort();
    assert_eq!(codes(&ana), expected);
    let boris = get("/v1/carpeta")
        .bearer(&app.citizen(BORIS))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        codes(&boris),
        vec![(file.clone(), sia("padron_removal_file").to_owned())]
    );
}
