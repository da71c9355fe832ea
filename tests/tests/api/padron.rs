//! The padrón through the whole service with a driven clock: a renewal cycle (warning letter three
//! months before, renewal, new expiry two years on) and an expiry ending in lapse, with the read
//! models' dates equal to the rules'.

use expedientes_api::notices::{process_outbox, MemorySender};

use super::*;

const BILAL: &str = "X1234567L";

fn inscription(residence: &str) -> Value {
    json!({
        "name": "Bilal Haddad",
        "birth_date": "1990-01-01",
        "nationality": "non_eu",
        "residence": residence,
        "document": {"kind": "residence_card", "number": BILAL},
        "dwelling_key": "9872023VK4797S0001WX",
        "address": "Calle de Toledo 10, 2º B, 28005 Madrid",
        "actor": {"kind": "themselves"},
    })
}

/// Moves the clock to 09:00 Madrid on `day` and lets the scheduler work.
async fn on_day(app: &TestApp, day: NaiveDate) -> u64 {
    app.clock
        .set(Utc.from_utc_datetime(&day.and_hms_opt(8, 0, 0).unwrap()));
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    let fired = app.state.scheduler.run_once().await.unwrap().fired;
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    fired
}

#[tokio::test]
async fn a_renewal_cycle_warns_renews_and_sets_a_new_expiry() {
    let app = TestApp::start(utc(2026, 3, 10, 9, 0)).await;
    let sender = MemorySender::default();
    let created = post("/v1/padron/inscriptions")
        .bearer(&app.caseworker())
        .json(&inscription("non_eu_temporary"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .json();
    let id = created["inscription_id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["renewal_due"], "2028-03-10",
        "two years from the inscription"
    );
    // A change of address restarts the two years.
    let moved = post(format!("/v1/padron/inscriptions/{id}/address-changes"))
        .bearer(&app.caseworker())
        .json(&json!({"dwelling_key": "OTHER", "address": "Calle Mayor 3", "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(moved["renewal_due"], "2028-03-10");
    // Nothing before three months ahead; then the warning letter, by post to the address.
    assert_eq!(on_day(&app, day(2027, 12, 9)).await, 0);
    let queue = get("/v1/padron/renewals")
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(queue.as_array().unwrap().len(), 0);
    assert_eq!(on_day(&app, day(2027, 12, 10)).await, 1);
    process_outbox(&app.state, &sender).await.unwrap();
    let letters: Vec<_> = sender
        .sent()
        .into_iter()
        .filter(|m| m.kind == "renewal_warning")
        .collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].channel, "post");
    assert!(letters[0].to.contains("Calle Mayor 3"));
    let queue = get("/v1/padron/renewals")
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(queue[0]["inscription_id"], id.as_str());
    // The passport is refused while the card is on record; the card renews.
    let passport = json!({"document": {"kind": "passport", "number": "PAA123456"}, "actor": {"kind": "themselves"}});
    let refused = post(format!("/v1/padron/inscriptions/{id}/renewals"))
        .bearer(&app.caseworker())
        .json(&passport)
        .send(&app)
        .await;
    assert_problem(&refused, StatusCode::CONFLICT, "refused");
    let card = json!({"document": {"kind": "residence_card", "number": BILAL}, "actor": {"kind": "themselves"}});
    let renewed = post(format!("/v1/padron/inscriptions/{id}/renewals"))
        .bearer(&app.caseworker())
        .json(&card)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        renewed["renewal_due"], "2029-12-10",
        "two years from the renewal"
    );
    // The old expiry passes with nothing proposed.
    assert_eq!(on_day(&app, day(2028, 3, 11)).await, 0);
    let row = get(format!("/v1/padron/inscriptions/{id}"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(row["lapse_proposed"], false);
    // Who must not renew cannot.
    let spanish = post("/v1/padron/inscriptions")
        .bearer(&app.caseworker())
        .json(&json!({
            "name": "Ana García", "birth_date": "1980-05-01", "nationality": "spanish", "residence": "spanish",
            "document": {"kind": "dni", "number": ANA}, "dwelling_key": "K2", "address": "Calle Sol 1",
            "actor": {"kind": "themselves"},
        }))
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(spanish["renewal_due"], Value::Null);
    let refused = post(format!(
        "/v1/padron/inscriptions/{}/renewals",
        spanish["inscription_id"].as_str().unwrap()
    ))
    .bearer(&app.caseworker())
    .json(&json!({"document": {"kind": "dni", "number": ANA}, "actor": {"kind": "themselves"}}))
    .send(&app)
    .await;
    assert_problem(&refused, StatusCode::CONFLICT, "refused");
}

#[tokio::test]
async fn an_expiry_without_renewal_ends_in_lapse() {
    let app = TestApp::start(utc(2026, 3, 10, 9, 0)).await;
    let created = post("/v1/padron/inscriptions")
        .bearer(&app.caseworker())
        .json(&inscription("non_eu_temporary"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .json();
    let id = created["inscription_id"].as_str().unwrap().to_owned();
    // A resolution before the proposal is refused.
    let early = post(format!("/v1/padron/inscriptions/{id}/lapse-resolutions"))
        .bearer(&app.caseworker())
        .json(&json!({"notified_on": "2026-04-01"}))
        .send(&app)
        .await;
    assert_problem(&early, StatusCode::CONFLICT, "refused");
    assert_eq!(on_day(&app, day(2027, 12, 10)).await, 1, "the warning");
    assert_eq!(
        on_day(&app, day(2028, 3, 10)).await,
        0,
        "the expiry day itself still counts"
    );
    assert_eq!(
        on_day(&app, day(2028, 3, 11)).await,
        1,
        "proposed for lapse"
    );
    let expired = get("/v1/padron/renewals?which=expired")
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(expired[0]["inscription_id"], id.as_str());
    let removed = post(format!("/v1/padron/inscriptions/{id}/lapse-resolutions"))
        .bearer(&app.caseworker())
        .json(&json!({"notified_on": "2028-04-02"}))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        (
            removed["removal_cause"].as_str(),
            removed["removed_on"].as_str()
        ),
        (Some("lapse"), Some("2028-04-02"))
    );
    // Roles: citizens and auditors cannot act on the padrón.
    for token in [app.citizen(BILAL), app.auditor()] {
        let refused = post("/v1/padron/inscriptions")
            .bearer(&token)
            .json(&inscription("non_eu_temporary"))
            .send(&app)
            .await;
        assert_problem(&refused, StatusCode::FORBIDDEN, "forbidden");
    }
}
