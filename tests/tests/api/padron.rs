//! The padrón through the whole service with a driven clock: a renewal cycle (warning letter three
//! months before, renewal, new expiry two years on) and an expiry ending in lapse, with the read
//! models' dates equal to the rules'.

use expedientes_api::notices::{process_outbox, MemorySender};

use super::*;

const BILAL: &str = "X1234567L";
/// Someone with nothing to do with the inscriptions of a test.
const ANA_DNI: &str = "12345678Z";

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
        .follow(&app)
        .await;
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
        .expect(StatusCode::OK).follow(&app).await;
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
        .expect(StatusCode::OK)
        .follow(&app)
        .await;
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
        .follow(&app).await;
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
        .follow(&app)
        .await;
    let id = created["inscription_id"].as_str().unwrap().to_owned();
    // A resolution before the proposal is refused.
    let early = post(format!("/v1/padron/inscriptions/{id}/lapse-resolutions"))
        .bearer(&app.caseworker())
        .json(&json!({"grounds": "No ha renovado en plazo"}))
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
    // The lapse is declared by reasoned resolution (art. 16.1 Ley 7/1985), notified by letter;
    // the inscription stays until the notification takes effect.
    post(format!("/v1/padron/inscriptions/{id}/lapse-resolutions"))
        .bearer(&app.caseworker())
        .json(&json!({"grounds": "No ha renovado su inscripción en el plazo de dos años"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let pending = get(format!("/v1/padron/inscriptions/{id}"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(pending["removed_on"], Value::Null);
    let letters = get("/v1/notifications?pending=true")
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .ok_json();
    let letter = &letters[0];
    assert_eq!(
        (letter["act_kind"].as_str(), letter["channel"].as_str()),
        (Some("resolution"), Some("paper"))
    );
    // Delivered on Thursday 16 March 2028: removed that day.
    app.clock.set(utc(2028, 3, 16, 9, 0));
    let letter_id = letter["id"].as_str().unwrap();
    post(format!("/v1/notifications/{letter_id}/dispatch"))
        .bearer(&app.caseworker())
        .json(&json!({"on": "2028-03-13"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    post(format!("/v1/notifications/{letter_id}/delivery-attempts"))
        .bearer(&app.caseworker())
        .json(&json!({"at": "2028-03-16T09:30:00", "result": "delivered", "received_by": "Bilal Haddad"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let removed = get(format!("/v1/padron/inscriptions/{id}"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        (
            removed["removal_cause"].as_str(),
            removed["removed_on"].as_str()
        ),
        (Some("lapse"), Some("2028-03-16"))
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

async fn inscribed(app: &TestApp, document: Value, name: &str) -> String {
    let mut body = inscription("non_eu_temporary");
    body["document"] = document;
    body["name"] = json!(name);
    post("/v1/padron/inscriptions")
        .bearer(&app.caseworker())
        .json(&body)
        .send(app)
        .await
        .expect(StatusCode::CREATED)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn step(app: &TestApp, token: &str, file: &str, step: &str) -> Reply {
    post(format!("/v1/padron/removal-files/{file}/steps"))
        .bearer(token)
        .json(&json!({"step": step, "summary": "sigo viviendo aquí", "grounds": "La persona no reside en el domicilio (informe de la policía local)"}))
        .send(app)
        .await
}

/// A person's request to remove `name` from the dwelling where the tests inscribe people.
fn removal_request(name: &str, document: Option<&str>, whereabouts: &str) -> Value {
    json!({
        "name": "Ana García",
        "person": {"name": name, "document": document},
        "address": "Calle de Toledo 10, 2º B, 28005 Madrid",
        "whereabouts": whereabouts,
        "declares_true": true,
    })
}

async fn open(app: &TestApp, inscription: &str) -> String {
    open_notified_by(app, inscription, "paper").await
}

async fn open_notified_by(app: &TestApp, inscription: &str, notify_by: &str) -> String {
    post("/v1/padron/removal-files")
        .bearer(&app.caseworker())
        .json(&json!({"inscription_id": inscription, "reason": "a new inscription declared nobody else lives there", "notify_by": notify_by}))
        .send(app)
        .await
        .expect(StatusCode::CREATED)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn removal_files_through_each_notification_path() {
    // Monday 2 March 2026, Madrid.
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let nie = |n: &str| json!({"kind": "residence_card", "number": n});

    // 1. Electronic, accessed; allegations; the Consejo's report; removal (and the inscription goes).
    let first = inscribed(&app, nie(BILAL), "Bilal Haddad").await;
    let file = open_notified_by(&app, &first, "electronic").await;
    let blocked = post(format!("/v1/padron/inscriptions/{first}/renewals"))
        .bearer(&cw)
        .json(&json!({"document": nie(BILAL), "actor": {"kind": "themselves"}}))
        .send(&app)
        .await;
    assert!(
        assert_problem(&blocked, StatusCode::CONFLICT, "refused")["detail"]
            .as_str()
            .unwrap()
            .contains("removal file")
    );
    // The person finds the notification waiting in the electronic office: what it is about, not
    // its text, until they open it; nobody else may open it.
    drive(&app).await;
    let waiting = get("/v1/notifications?pending=true")
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(waiting.as_array().unwrap().len(), 1, "{waiting}");
    let notification = waiting[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(waiting[0]["channel"], "electronic");
    assert_eq!(waiting[0]["act_text"], Value::Null);
    assert_eq!(
        waiting[0]["open_by"], "2026-03-12",
        "ten calendar days (art. 43.2)"
    );
    assert!(waiting[0]["exit_number"]
        .as_str()
        .unwrap()
        .starts_with("28079/2026/S/"));
    post(format!("/v1/notifications/{notification}/access"))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .expect(StatusCode::NOT_FOUND);
    post(format!("/v1/notifications/{notification}/access"))
        .bearer(&cw)
        .send(&app)
        .await
        .expect(StatusCode::FORBIDDEN);
    post(format!("/v1/notifications/{notification}/access"))
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let opened = get(format!("/v1/notifications/{notification}"))
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        (opened["outcome"].as_str(), opened["effective_on"].as_str()),
        (Some("accessed"), Some("2026-03-02"))
    );
    assert!(opened["accessed_at"].is_string());
    assert!(opened["act_text"]
        .as_str()
        .unwrap()
        .contains("quince días hábiles"));
    let case = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(case["state"], "hearing");
    // 15 business days from the day after 2 March 2026 (legal calendar).
    assert_eq!(
        case["citizen_action"]["due"],
        business_days_after(day(2026, 3, 2), 15).to_string()
    );
    assert_eq!(
        case["resolution_due"], "2026-06-02",
        "three months from the opening"
    );
    // The person sees it in Mi Carpeta and alleges.
    let carpeta = get("/v1/carpeta")
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(carpeta["files"][0]["citizen_must_act"], true);
    step(&app, &app.citizen(BILAL), &file, "allegations")
        .await
        .expect(StatusCode::OK);
    assert_problem(
        &step(&app, &cw, &file, "resolve_remove").await,
        StatusCode::CONFLICT,
        "refused",
    );
    step(&app, &cw, &file, "request_report")
        .await
        .expect(StatusCode::OK);
    let waiting = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(
        (
            waiting["state"].as_str(),
            waiting["resolution_due"].as_str()
        ),
        (Some("awaiting_report"), None)
    );
    app.clock.advance(Duration::days(25));
    step(&app, &cw, &file, "report_favourable")
        .await
        .expect(StatusCode::OK);
    let resumed = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(
        resumed["resolution_due"], "2026-06-29",
        "requested on Monday 2 March, received on Friday 27 March: 19 business days suspended \
         (art. 22), so Tuesday 2 June moves to Monday 29 June (not Saturday 27 June, art. 30.5)"
    );
    step(&app, &cw, &file, "resolve_remove")
        .await
        .expect(StatusCode::OK);
    let person = get(format!("/v1/padron/inscriptions/{first}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(person["removal_cause"], "wrong_inscription");
    // The resolution, with its reasons and appeals, is notified the way the opening was.
    let resolution = notification_of(&app, &file, "resolution").await;
    assert_eq!(resolution["channel"], "electronic");
    let text = resolution["act_text"].as_str().unwrap();
    assert!(
        text.contains("policía local") && text.contains("reposición") && text.contains("un mes"),
        "{text}"
    );

    // 2. Electronic, not accessed: deemed rejected after 10 calendar days (the timer); archived.
    let second = inscribed(&app, nie("Y1234567X"), "Carmen Ruiz").await;
    let file = open_notified_by(&app, &second, "electronic").await;
    let sent_on = local_date(app.clock_now());
    drive(&app).await;
    app.clock.set(app.clock_now() + Duration::days(10));
    assert_eq!(drive(&app).await, 0, "not on the tenth day");
    app.clock.set(app.clock_now() + Duration::days(1));
    // The rejection, then its effect on the file (and the first file's resolution, also
    // electronic and not opened, is deemed rejected too).
    assert!(drive(&app).await >= 2);
    let rejected = notification_of(&app, &file, "opening").await;
    assert_eq!(rejected["outcome"], "rejected");
    let case = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(case["state"], "hearing");
    let rejected_on = sent_on + chrono::Days::new(10);
    assert_eq!(
        case["citizen_action"]["due"],
        business_days_after(rejected_on, 15).to_string()
    );
    step(&app, &cw, &file, "resolve_archive")
        .await
        .expect(StatusCode::OK);
    let person = get(format!("/v1/padron/inscriptions/{second}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        (
            person["removed_on"].clone(),
            person["open_removal_file"].clone()
        ),
        (Value::Null, Value::Null)
    );
}

#[tokio::test]
async fn a_letter_nobody_receives_twice_goes_to_the_edict_and_an_unknown_address_at_once() {
    // Monday 2 March 2026, Madrid.
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let nie = |n: &str| json!({"kind": "residence_card", "number": n});
    // 3. Paper: two failed attempts, then an edict in the BOE; express agreement; removal.
    let third = inscribed(&app, nie("Z1234567R"), "Diego Sanz").await;
    let file = open(&app, &third).await;
    drive(&app).await;
    let letter = notification_of(&app, &file, "opening").await;
    assert_eq!(letter["address"], "Calle de Toledo 10, 2º B, 28005 Madrid");
    let letter = letter["id"].as_str().unwrap().to_owned();
    let edict = |on: String| {
        post(format!("/v1/notifications/{letter}/edict"))
            .bearer(&cw)
            .json(&json!({"on": on, "reference": "BOE-B-2026-1234"}))
    };
    let today = local_date(app.clock_now());
    assert_problem(
        &edict(today.to_string()).send(&app).await,
        StatusCode::CONFLICT,
        "refused",
    );
    post(format!("/v1/notifications/{letter}/dispatch"))
        .bearer(&cw)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let attempt = |at: String| {
        post(format!("/v1/notifications/{letter}/delivery-attempts"))
            .bearer(&cw)
            .json(&json!({"at": at, "result": "absent"}))
    };
    // Nobody at home at 10:00 on Tuesday 3 March, nor at 17:30 on Wednesday 4 March (art. 42.2).
    app.clock.set(utc(2026, 3, 4, 18, 0));
    attempt("2026-03-03T10:00:00".into())
        .send(&app)
        .await
        .expect(StatusCode::OK);
    // A second attempt at the same time of day is out of rule.
    assert_problem(
        &attempt("2026-03-04T11:00:00".into()).send(&app).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    attempt("2026-03-04T17:30:00".into())
        .send(&app)
        .await
        .expect(StatusCode::OK);
    // The edict cannot be dated before the attempts, nor ahead.
    assert_problem(
        &edict("2026-03-02".into()).send(&app).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    assert_problem(
        &edict("2026-03-05".into()).send(&app).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    edict("2026-03-04".into())
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let case = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(case["state"], "hearing");
    assert_eq!(
        case["citizen_action"]["due"],
        business_days_after(day(2026, 3, 4), 15).to_string()
    );
    step(&app, &cw, &file, "agreement")
        .await
        .expect(StatusCode::OK);
    step(&app, &cw, &file, "resolve_remove")
        .await
        .expect(StatusCode::OK);
    let person = get(format!("/v1/padron/inscriptions/{third}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(person["removal_cause"], "wrong_inscription");

    // 4. The person's whereabouts are unknown: the edict at once, no letter.
    let fourth = inscribed(&app, nie("Y7654321G"), "Elena Mora").await;
    let file = open_notified_by(&app, &fourth, "edict_address_unknown").await;
    drive(&app).await;
    let edict = notification_of(&app, &file, "opening").await;
    assert_eq!(
        (
            edict["channel"].as_str(),
            edict["stage"].as_str(),
            edict["edict_reason"].as_str()
        ),
        (Some("edict"), Some("edict_due"), Some("address_unknown"))
    );
    let id = edict["id"].as_str().unwrap();
    post(format!("/v1/notifications/{id}/dispatch"))
        .bearer(&cw)
        .send(&app)
        .await
        .expect(StatusCode::CONFLICT);
    post(format!("/v1/notifications/{id}/edict"))
        .bearer(&cw)
        .json(&json!({"on": local_date(app.clock_now()), "reference": "BOE-B-2026-2000"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let case = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(case["state"], "hearing");
}

#[tokio::test]
async fn a_file_not_resolved_in_its_maximum_time_lapses_and_cannot_remove() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let id = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    let file = open(&app, &id).await;
    drive(&app).await;
    deliver_on_paper(&app, &file, "opening").await;
    // Nobody alleges: the hearing ends by its timer and the file waits for the resolution.
    let hearing_due = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json()["citizen_action"]
        ["due"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        hearing_due,
        business_days_after(day(2026, 3, 2), 15).to_string()
    );
    app.clock.set(utc(2026, 4, 1, 8, 0));
    assert_eq!(drive(&app).await, 1, "the hearing's end");
    let case = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(
        (case["state"].as_str(), case["citizen_must_act"].as_bool()),
        (Some("to_resolve"), Some(false))
    );
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    // 2 June 2026 is the last day; at 00:00 Madrid on 3 June it lapses.
    app.clock.set(utc(2026, 6, 2, 21, 0));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 0);
    app.clock.set(utc(2026, 6, 2, 22, 0));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 1);
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    // Art. 25.1.b: the timer proposes the lapse; the file shows it and what silence meant.
    let case = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(case["state"], "lapse_proposed");
    assert_eq!(case["open"], true);
    assert_eq!(
        (
            case["silence"]["meaning"].as_str(),
            case["silence"]["reached_on"].as_str()
        ),
        (Some("lapse"), Some("2026-06-03"))
    );
    let refused = step(&app, &cw, &file, "resolve_remove").await;
    assert!(
        assert_problem(&refused, StatusCode::CONFLICT, "refused")["detail"]
            .as_str()
            .unwrap()
            .contains("25.1.b")
    );
    // The caseworker declares it by resolution, notified to the person.
    step(&app, &cw, &file, "declare_lapse")
        .await
        .expect(StatusCode::OK);
    let case = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(case["state"], "lapsed");
    let resolution = notification_of(&app, &file, "resolution").await;
    assert!(resolution["act_text"]
        .as_str()
        .unwrap()
        .contains("caducidad"));
    // The lapse's follow-up releases the inscription, through the scheduler (and doing it twice
    // changes nothing).
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 1);
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(app.state.scheduler.run_once().await.unwrap().handled(), 0);
    let person = get(format!("/v1/padron/inscriptions/{id}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        (
            person["removed_on"].clone(),
            person["open_removal_file"].clone()
        ),
        (Value::Null, Value::Null)
    );
    // Unblocked: the renewal is possible again.
    post(format!("/v1/padron/inscriptions/{id}/renewals"))
        .bearer(&cw)
        .json(&json!({"document": {"kind": "residence_card", "number": BILAL}, "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn declaring_that_nobody_else_lives_there_opens_files_for_the_others() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let earlier = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    let mut newcomer = inscription("spanish");
    newcomer["nationality"] = json!("spanish");
    newcomer["document"] = json!({"kind": "dni", "number": ANA});
    newcomer["name"] = json!("Ana García");
    newcomer["declares_nobody_else"] = json!(true);
    post("/v1/padron/inscriptions")
        .bearer(&cw)
        .json(&newcomer)
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let person = get(format!("/v1/padron/inscriptions/{earlier}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    let file = person["open_removal_file"]
        .as_str()
        .expect("a file was opened ex officio");
    let case = get(case_uri(file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(
        (case["procedure"].as_str(), case["state"].as_str()),
        (Some("padron_removal_file"), Some("notifying"))
    );
    // The person with an open file cannot ask for the removal of others.
    let refused = post("/v1/padron/removal-requests")
        .bearer(&app.citizen(BILAL))
        .json(&removal_request("Nadie", None, "x"))
        .send(&app)
        .await;
    assert_problem(&refused, StatusCode::CONFLICT, "refused");
}

#[tokio::test]
async fn an_open_file_blocks_every_procedure_the_law_names() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let host = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    // Mi Carpeta shows the renewal and its date.
    let mine = get("/v1/carpeta/padron")
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(mine["due"], "2028-03-02");
    assert!(mine["next_step"].as_str().unwrap().contains("Renew"));
    // Authorised by the host, a newcomer is inscribed at the dwelling.
    let mut newcomer = inscription("non_eu_permanent");
    newcomer["document"] = json!({"kind": "residence_card", "number": "Y1234567X"});
    newcomer["name"] = json!("Carmen Ruiz");
    newcomer["authorised_by"] = json!(host);
    post("/v1/padron/inscriptions")
        .bearer(&cw)
        .json(&newcomer)
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    // Once a file is open against the host, nothing of the list goes through.
    let file = open(&app, &host).await;
    let mine = get("/v1/carpeta/padron")
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .ok_json();
    assert!(mine["next_step"].as_str().unwrap().contains("removal file"));
    let mut another = inscription("spanish");
    another["nationality"] = json!("spanish");
    another["document"] = json!({"kind": "dni", "number": ANA});
    another["name"] = json!("Ana García");
    another["authorised_by"] = json!(host);
    let refused = post("/v1/padron/inscriptions")
        .bearer(&cw)
        .json(&another)
        .send(&app)
        .await;
    assert_problem(&refused, StatusCode::CONFLICT, "refused");
    let refused = post(format!("/v1/padron/inscriptions/{host}/personal-data"))
        .bearer(&cw)
        .json(&json!({"name": "B. Haddad", "document": {"kind": "residence_card", "number": BILAL}, "actor": {"kind": "themselves"}}))
        .send(&app)
        .await;
    assert_problem(&refused, StatusCode::CONFLICT, "refused");
    // The newcomer (a permanent resident) confirms residence; the host could not.
    let carmen = get("/v1/carpeta/padron")
        .bearer(&app.citizen("Y1234567X"))
        .send(&app)
        .await
        .ok_json();
    let carmen_id = carmen["inscription"]["inscription_id"]
        .as_str()
        .unwrap()
        .to_owned();
    post(format!(
        "/v1/padron/inscriptions/{carmen_id}/residence-confirmations"
    ))
    .bearer(&cw)
    .json(&json!({"kind": "themselves"}))
    .send(&app)
    .await
    .expect(StatusCode::OK);
    // The file is archived: the host is free again, and can authorise.
    drive(&app).await;
    deliver_on_paper(&app, &file, "opening").await;
    step(&app, &app.citizen(BILAL), &file, "allegations")
        .await
        .expect(StatusCode::OK);
    step(&app, &cw, &file, "resolve_archive")
        .await
        .expect(StatusCode::OK);
    post("/v1/padron/inscriptions")
        .bearer(&cw)
        .json(&another)
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    // Removal for death.
    let gone = post(format!("/v1/padron/inscriptions/{carmen_id}/removals"))
        .bearer(&cw)
        .json(&json!({"cause": "death", "effective_on": "2026-03-10"}))
        .send(&app)
        .await
        .expect(StatusCode::OK)
        .follow(&app)
        .await;
    assert_eq!(gone["removal_cause"], "death");
}

#[tokio::test]
async fn a_citizen_with_a_certificate_renews_their_own_inscription_online() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let id = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    let card = json!({"document": {"kind": "residence_card", "number": BILAL}, "actor": {"kind": "themselves"}});
    let uri = format!("/v1/padron/inscriptions/{id}/renewals");
    let weak = post(&uri)
        .bearer(&app.citizen(BILAL))
        .json(&card)
        .send(&app)
        .await;
    assert_problem(&weak, StatusCode::FORBIDDEN, "forbidden");
    let other = app.state.keys.mint(
        Role::Citizen,
        &MADRID.parse().unwrap(),
        ANA,
        Assurance::High,
        600,
    );
    assert_problem(
        &post(&uri).bearer(&other).json(&card).send(&app).await,
        StatusCode::NOT_FOUND,
        "not-found",
    );
    let certified = app.state.keys.mint(
        Role::Citizen,
        &MADRID.parse().unwrap(),
        BILAL,
        Assurance::High,
        600,
    );
    app.clock.advance(Duration::days(30));
    let renewed = post(&uri)
        .bearer(&certified)
        .json(&card)
        .send(&app)
        .await
        .expect(StatusCode::OK)
        .follow(&app)
        .await;
    assert_eq!(renewed["renewal_due"], "2028-04-01");
}

#[tokio::test]
async fn a_person_with_an_open_file_cannot_request_the_removal_of_others() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let blocked = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    let other = inscribed(
        &app,
        json!({"kind": "residence_card", "number": "Y1234567X"}),
        "Carmen Ruiz",
    )
    .await;
    open(&app, &blocked).await;
    let request = |token: String| {
        post("/v1/padron/removal-requests")
            .bearer(&token)
            .json(&removal_request(
                "Carmen Ruiz",
                Some("Y1234567X"),
                "vive en Getafe desde 2025",
            ))
    };
    let refused = request(app.citizen(BILAL)).send(&app).await;
    assert!(
        assert_problem(&refused, StatusCode::CONFLICT, "refused")["detail"]
            .as_str()
            .unwrap()
            .contains("removal file")
    );
    // Someone not blocked may request it; the request is recorded on their own inscription when
    // a caseworker opens the file.
    let ana = inscribed(
        &app,
        json!({"kind": "residence_card", "number": "Z1234567R"}),
        "Diego Sanz",
    )
    .await;
    let submitted = request(app.citizen("Z1234567R"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let asked = id_of(&submitted.json());
    // Nothing was opened against the other person yet.
    let carmen = get(format!("/v1/padron/inscriptions/{other}"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(carmen["open_removal_file"], Value::Null);
    // The request is an application entered in the registry (art. 16).
    let receipts = get(format!("{}/registry-entries", case_uri(&asked)))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert!(
        receipts
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "application" && r["direction"] == "in"),
        "{receipts}"
    );
    post(format!("/v1/padron/removal-requests/{asked}/file"))
        .bearer(&app.caseworker())
        .json(&json!({"inscription_id": other}))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    // The log shows it once the cluster-wide watermark passes it (other tests' transactions may
    // hold it back a moment).
    let mut recorded = false;
    for _ in 0..200 {
        let history = get("/v1/audit/events?limit=1000")
            .bearer(&app.auditor())
            .send(&app)
            .await
            .ok_json();
        recorded = history["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_type"] == "removal_requested" && e["stream_id"] == ana.as_str());
        if recorded {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert!(
        recorded,
        "the request is recorded on the requester's inscription"
    );
}

#[tokio::test]
async fn a_death_recorded_on_the_wrong_person_is_corrected_and_the_removal_undone() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let id = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    let before = get(format!("/v1/padron/inscriptions/{id}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    let today = local_date(app.clock_now()).to_string();
    post(format!("/v1/padron/inscriptions/{id}/removals"))
        .bearer(&cw)
        .json(&json!({"cause": "death", "effective_on": today}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let renewal_timers = |app: &TestApp| {
        let pool = app.state.pool.clone();
        let id: uuid::Uuid = id.parse().unwrap();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM deadline_timers WHERE case_id = $1 AND state = 'pending'",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(
        renewal_timers(&app).await,
        0,
        "a removed inscription renews nothing"
    );
    let correct = |version: i32, reason: &str| {
        post(format!("/v1/padron/inscriptions/{id}/corrections"))
            .bearer(&cw)
            .json(&json!({"corrects_version": version, "reason": reason}))
    };
    // The version must name the removal; the reason is required.
    let reply = correct(1, "La defunción era de otra persona")
        .send(&app)
        .await;
    assert_eq!(
        problem_fields(&assert_problem(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation"
        )),
        ["corrects_version"]
    );
    let reply = correct(2, " ").send(&app).await;
    assert_eq!(
        problem_fields(&assert_problem(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation"
        )),
        ["reason"]
    );
    // A citizen cannot correct.
    post(format!("/v1/padron/inscriptions/{id}/corrections"))
        .bearer(&app.citizen(BILAL))
        .json(&json!({"corrects_version": 2, "reason": "La defunción era de otra persona"}))
        .send(&app)
        .await
        .expect(StatusCode::FORBIDDEN);
    correct(
        2,
        "La defunción comunicada por el Registro Civil era de otra persona",
    )
    .send(&app)
    .await
    .expect(StatusCode::OK);
    drive(&app).await;
    let after = get(format!("/v1/padron/inscriptions/{id}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        (
            after["removed_on"].clone(),
            after["removal_cause"].clone(),
            after["renewal_due"].clone()
        ),
        (Value::Null, Value::Null, before["renewal_due"].clone())
    );
    assert_eq!(
        renewal_timers(&app).await,
        2,
        "the warning and the expiry run again"
    );
    // Nothing to correct twice.
    correct(2, "otra vez")
        .send(&app)
        .await
        .expect(StatusCode::CONFLICT);
    // The auditor sees the correction beside the event it corrects, which is unchanged.
    let page = get("/v1/audit/corrections")
        .bearer(&app.auditor())
        .send(&app)
        .await
        .ok_json();
    let found = &page["corrections"][0];
    assert_eq!(found["correction"]["event_type"], "removal_corrected");
    assert_eq!(
        found["correction"]["payload"]["correction"]["by"],
        "funcionaria-0042"
    );
    assert_eq!(found["corrected"]["event_type"], "removed");
    assert_eq!(found["corrected"]["payload"]["cause"], "death");
    get("/v1/audit/corrections")
        .bearer(&cw)
        .send(&app)
        .await
        .expect(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_persons_submissions_in_the_padron_are_entered_in_the_registry() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let kinds_of = |stream: String| {
        let pool = app.state.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT kind FROM registry_book WHERE stream_id = $1::uuid ORDER BY number",
            )
            .bind(stream)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    // The hoja padronal presented at the counter, and the express renewal.
    let id = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    post(format!("/v1/padron/inscriptions/{id}/renewals"))
        .bearer(&cw)
        .json(&json!({"document": {"kind": "residence_card", "number": BILAL}, "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert_eq!(kinds_of(id.clone()).await, ["application", "application"]);
    // A removal file opened ex officio has no entry; the person's allegations do.
    let file = open(&app, &id).await;
    drive(&app).await;
    deliver_on_paper(&app, &file, "opening").await;
    // Sent twice with one key (a retry): one allegation, one registry number.
    for _ in 0..2 {
        post(format!("/v1/padron/removal-files/{file}/steps"))
            .bearer(&app.citizen(BILAL))
            .header("idempotency-key", "alegaciones-1")
            .json(&json!({"step": "allegations", "summary": "sigo viviendo aquí"}))
            .send(&app)
            .await
            .expect(StatusCode::OK);
    }
    let receipts = get(format!("{}/registry-entries", case_uri(&file)))
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .ok_json();
    let kinds: Vec<&str> = receipts
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    // The opening's letter went out with an exit number; the allegations came in, with the
    // number after the hoja padronal's and the renewal's (the retry took none).
    assert_eq!(kinds, ["notification", "allegation"], "{receipts}");
    assert_eq!(receipts[1]["number"], "28079/2026/E/0000003");
    let numbers_taken: i64 = sqlx::query_scalar(
        "SELECT last FROM registry_sequences WHERE tenant = '28079' AND direction = 'in'",
    )
    .fetch_one(&app.state.pool)
    .await
    .unwrap();
    assert_eq!(numbers_taken, 3, "no number was spent on the retry");
}

#[tokio::test]
async fn allegations_recorded_on_the_wrong_file_are_corrected_and_the_hearing_stands_again() {
    // Monday 2 March 2026: the opening is delivered on paper today; the hearing runs 15
    // business days from the 3rd.
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let inscription = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    let file = open(&app, &inscription).await;
    deliver_on_paper(&app, &file, "opening").await;
    let due = business_days_after(day(2026, 3, 2), 15).to_string();
    // A caseworker records, on this file, allegations another person filed at the office.
    app.clock.set(utc(2026, 3, 4, 9, 0));
    let recorded = step(&app, &cw, &file, "allegations").await.ok_json();
    let version = recorded["version"].as_i64().unwrap();
    let staff = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(staff["state"], "to_resolve");
    // Corrected the next day: the hearing stands again with its last day.
    app.clock.set(utc(2026, 3, 5, 9, 0));
    post(format!("{}/corrections", case_uri(&file)))
        .bearer(&cw)
        .json(&json!({"corrects_version": version,
            "reason": "Las alegaciones eran del expediente de otra persona"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let his = get(case_uri(&file))
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(his["state"], "hearing", "{his}");
    assert_eq!(his["citizen_action"]["due"], due);
    // Nobody alleges: the hearing's timer ends it after its last day, as before.
    let last: NaiveDate = due.parse().unwrap();
    app.clock
        .set(Utc.from_utc_datetime(&last.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap()));
    drive(&app).await;
    let staff = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(staff["state"], "to_resolve", "{staff}");
    // A second correction of the same step finds nothing to correct.
    let reply = post(format!("{}/corrections", case_uri(&file)))
        .bearer(&cw)
        .json(&json!({"corrects_version": version, "reason": "otra vez"}))
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::CONFLICT, "refused");
}

/// Issue 10: a person's request is registered and examined; nothing is blocked until a caseworker
/// opens the file; the answer is the same whether the person named is on the padrón or not; and
/// an inscription's id cannot be worked out from the document number.
#[tokio::test]
async fn a_persons_removal_request_is_examined_before_any_file_opens_and_tells_nothing() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    const ANA: &str = "12345678Z";
    let bilal = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    // The id is keyed: not the UUIDv5 of the document it used to be, and found by document.
    assert_ne!(
        bilal,
        uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_URL,
            format!("expedientes:padron:28079:{BILAL}").as_bytes()
        )
        .to_string()
    );
    let found = get(format!("/v1/padron/inscriptions?document={BILAL}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        found["items"][0]["inscription_id"],
        bilal.as_str(),
        "{found}"
    );
    assert_eq!(found["total"], 1);
    // By part of the name or the address, a page at a time; wildcards are taken as written.
    for query in [
        "name=haddad",
        "address=toledo%2010",
        "name=Bil&per_page=1&page=1",
    ] {
        let page = get(format!("/v1/padron/inscriptions?{query}"))
            .bearer(&cw)
            .send(&app)
            .await
            .ok_json();
        assert_eq!(
            page["items"][0]["inscription_id"],
            bilal.as_str(),
            "{query}: {page}"
        );
    }
    let wildcard = get("/v1/padron/inscriptions?name=%25%25%25")
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(wildcard["total"], 0, "{wildcard}");
    let short = get("/v1/padron/inscriptions?name=ab")
        .bearer(&cw)
        .send(&app)
        .await;
    assert_problem(&short, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let citizen_search = get(format!("/v1/padron/inscriptions?document={BILAL}"))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await;
    assert_eq!(citizen_search.status, StatusCode::FORBIDDEN);
    let nobody = get("/v1/padron/inscriptions").bearer(&cw).send(&app).await;
    assert_problem(&nobody, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    // A citizen cannot open a file directly.
    let direct = post("/v1/padron/removal-files")
        .bearer(&app.citizen(ANA))
        .json(&json!({"inscription_id": bilal, "reason": "no vive allí"}))
        .send(&app)
        .await;
    assert_eq!(direct.status, StatusCode::FORBIDDEN);

    // Without whereabouts: 422 whoever is named, before anything else.
    for document in [Some(BILAL), Some("Y7654321G"), None] {
        let reply = post("/v1/padron/removal-requests")
            .bearer(&app.citizen(ANA))
            .json(&removal_request("Bilal Haddad", document, " "))
            .send(&app)
            .await;
        let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
        assert_eq!(problem["errors"][0]["field"], "whereabouts", "{problem}");
    }
    // Without declaring the data true, warned that false data may be an offence (seed 004): 422.
    let mut undeclared = removal_request("Bilal Haddad", Some(BILAL), "vive en Getafe");
    undeclared["declares_true"] = json!(false);
    let reply = post("/v1/padron/removal-requests")
        .bearer(&app.citizen(ANA))
        .json(&undeclared)
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem["errors"][0]["field"], "declares_true", "{problem}");
    // The same answer for a person inscribed and for one who is not.
    let submit = |name: &str, document: &str| {
        post("/v1/padron/removal-requests")
            .bearer(&app.citizen(ANA))
            .json(&removal_request(
                name,
                Some(document),
                "vive en Getafe desde 2025",
            ))
    };
    let about_bilal = submit("Bilal Haddad", BILAL).send(&app).await;
    let about_nobody = submit("Nadie Inventado", "Y7654321G").send(&app).await;
    assert_eq!(about_bilal.status, StatusCode::CREATED);
    assert_eq!(about_nobody.status, StatusCode::CREATED);
    let keys = |reply: &Reply| {
        let mut keys: Vec<String> = reply.json().as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&about_bilal), keys(&about_nobody));
    let (asked, declined) = (id_of(&about_bilal.json()), id_of(&about_nobody.json()));
    // Nothing is blocked: the person's inscription has no file, and his procedures go on.
    let row = get(format!("/v1/padron/inscriptions/{bilal}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(row["open_removal_file"], Value::Null);
    post(format!("/v1/padron/inscriptions/{bilal}/personal-data"))
        .bearer(&cw)
        .json(&json!({"name": "Bilal Haddad", "document": {"kind": "residence_card", "number": BILAL}, "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    // Ana sees her request being examined, with the three months to answer (art. 21.3.b).
    let mine = get(case_uri(&asked))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(mine["state"], "examining", "{mine}");
    assert_eq!(mine["resolution_due"], "2026-06-02");
    assert_eq!(mine["procedure"], "padron_removal_request");

    // The caseworker reads it with the inscriptions that match, and opens the file.
    let examined = get(format!("/v1/padron/removal-requests/{asked}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(examined["stage"], "examining");
    assert_eq!(examined["whereabouts"], "vive en Getafe desde 2025");
    assert_eq!(examined["candidates"][0]["inscription_id"], bilal.as_str());
    let citizen_reads = get(format!("/v1/padron/removal-requests/{asked}"))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await;
    assert_eq!(citizen_reads.status, StatusCode::FORBIDDEN);
    // If-Match names the request's version as read.
    let stale = post(format!("/v1/padron/removal-requests/{asked}/file"))
        .bearer(&cw)
        .header("if-match", "\"7\"")
        .json(&json!({"inscription_id": bilal}))
        .send(&app)
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.text()
    );
    let open_it = || {
        post(format!("/v1/padron/removal-requests/{asked}/file"))
            .bearer(&cw)
            .header("if-match", "\"1\"")
            .header("idempotency-key", "abrir-1")
            .json(&json!({"inscription_id": bilal}))
    };
    let opened = open_it().send(&app).await.expect(StatusCode::CREATED);
    let replayed = open_it().send(&app).await.expect(StatusCode::CREATED);
    assert_eq!(replayed.json()["replayed"], true);
    assert_eq!(replayed.json()["id"], opened.json()["id"]);
    let file = id_of(&opened.json());
    let row = get(format!("/v1/padron/inscriptions/{bilal}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(row["open_removal_file"], file.as_str());
    let request_case = get(case_uri(&asked)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(request_case["state"], "file_opened");
    // Only once.
    let again = post(format!("/v1/padron/removal-requests/{asked}/file"))
        .bearer(&cw)
        .json(&json!({"inscription_id": bilal}))
        .send(&app)
        .await;
    assert_problem(&again, StatusCode::CONFLICT, "refused");
    // The file's opening names the request it came from.
    let opening: Value =
        sqlx::query_scalar("SELECT payload FROM events WHERE stream_id = $1::uuid AND version = 1")
            .bind(&file)
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    assert_eq!(opening["basis"]["request"], asked.as_str(), "{opening}");
    assert_eq!(opening["basis"]["requester"], ANA);

    // The other request: nobody matches; the caseworker declines it, with reasons.
    let examined = get(format!("/v1/padron/removal-requests/{declined}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(examined["candidates"], json!([]));
    post(format!("/v1/padron/removal-requests/{declined}/refusal"))
        .bearer(&cw)
        .json(&json!({"grounds": "Tras las comprobaciones oportunas, no procede iniciar el expediente."}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let staff_view = get(case_uri(&declined))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(staff_view["state"], "declined");
    // Ana is shown both the same way: examined, closed, nothing waiting, nothing of the outcome
    // in their histories, and no notification about either.
    drive(&app).await;
    let mut seen = Vec::new();
    for request in [&asked, &declined] {
        let view = get(case_uri(request))
            .bearer(&app.citizen(ANA))
            .send(&app)
            .await
            .ok_json();
        assert_eq!(view["state"], "examined", "{view}");
        assert_eq!(view["notification_pending"], false, "{view}");
        assert!(view["closed_at"].is_string(), "{view}");
        let history = get(format!("{}/events", case_uri(request)))
            .bearer(&app.citizen(ANA))
            .send(&app)
            .await
            .ok_json();
        let types: Vec<String> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(types, ["submitted", "examined"], "{history}");
        seen.push((view["state"].clone(), view["state_description"].clone()));
    }
    assert_eq!(seen[0], seen[1]);
    let folder = get("/v1/carpeta")
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    let phases: Vec<&str> = folder["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["phase_code"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["examined", "examined"], "{folder}");
    let letters = get("/v1/notifications")
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(letters, json!([]), "{letters}");
    // Bilal's own view knows nothing of the requests.
    let his = get(case_uri(&asked))
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await;
    assert_eq!(his.status, StatusCode::NOT_FOUND);
    // A retried submission answers its first outcome.
    let submit_once = || {
        post("/v1/padron/removal-requests")
            .bearer(&app.citizen(ANA))
            .header("idempotency-key", "solicitud-1")
            .json(&removal_request("Carmen Ruiz", None, "vive en Toledo"))
    };
    let first = submit_once().send(&app).await.expect(StatusCode::CREATED);
    let retry = submit_once().send(&app).await.expect(StatusCode::CREATED);
    assert_eq!(retry.json()["id"], first.json()["id"]);
    assert_eq!(retry.json()["replayed"], true);
}

/// Issue 14: regularisation is a padrón act the council records — a change of address while the
/// file is open, which archives it (notified) — and the person concerned may allege or agree but
/// never archive the file themselves.
#[tokio::test]
async fn a_removal_file_is_regularised_by_a_change_of_address_and_never_archived_by_the_person() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let id = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    let file = open(&app, &id).await;
    deliver_on_paper(&app, &file, "opening").await;
    drive(&app).await;
    let hearing = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(hearing["state"], "hearing", "{hearing}");
    // The person cannot archive it.
    let own = post(format!("/v1/padron/removal-files/{file}/steps"))
        .bearer(&app.citizen(BILAL))
        .json(&json!({"step": "regularised"}))
        .send(&app)
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text());
    // A move within the same dwelling changes nothing of the file.
    post(format!("/v1/padron/inscriptions/{id}/address-changes"))
        .bearer(&cw)
        .json(&json!({"dwelling_key": "9872023VK4797S0001WX", "address": "Calle de Toledo 10, 2º B, 28005 Madrid", "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let still = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(still["state"], "hearing");
    // A move he records online himself (with his certificate) is recorded, but the file stays
    // for the caseworker: the person concerned never closes it.
    let certified = app.state.keys.mint(
        Role::Citizen,
        &MADRID.parse().unwrap(),
        BILAL,
        Assurance::High,
        600,
    );
    post(format!("/v1/padron/inscriptions/{id}/address-changes"))
        .bearer(&certified)
        .json(&json!({"dwelling_key": "2222222VK4797S0001CD", "address": "Calle de Atocha 5, 28012 Madrid", "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let still = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(still["state"], "hearing", "{still}");
    // He registers where he lives now: the file is archived in the same append, and notified.
    let moved = post(format!("/v1/padron/inscriptions/{id}/address-changes"))
        .bearer(&cw)
        .header("idempotency-key", "mudanza-1")
        .json(&json!({"dwelling_key": "1111111VK4797S0001AB", "address": "Calle de Alcalá 200, 3º A, 28028 Madrid", "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let streams: Vec<String> = moved.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["stream_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(streams.contains(&file), "{}", moved.text());
    let replay = post(format!("/v1/padron/inscriptions/{id}/address-changes"))
        .bearer(&cw)
        .header("idempotency-key", "mudanza-1")
        .json(&json!({"dwelling_key": "1111111VK4797S0001AB", "address": "Calle de Alcalá 200, 3º A, 28028 Madrid", "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert_eq!(replay.json()["replayed"], true);
    let archived = get(case_uri(&file)).bearer(&cw).send(&app).await.ok_json();
    assert_eq!(archived["state"], "archived", "{archived}");
    let row = get(format!("/v1/padron/inscriptions/{id}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(row["open_removal_file"], Value::Null);
    assert_eq!(row["removed_on"], Value::Null);
    assert_eq!(row["dwelling_key"], "1111111VK4797S0001AB");
    // The archive is notified by the file's channel: a letter, to where he lives now.
    drive(&app).await;
    let letter = notification_of(&app, &file, "resolution").await;
    assert_eq!(letter["channel"], "paper", "{letter}");
    assert_eq!(
        letter["address"], "Calle de Alcalá 200, 3º A, 28028 Madrid",
        "{letter}"
    );
}

/// Issue 14: a person removed (here, having moved away) is inscribed again in the same council
/// with the same document — a new period of the same inscription, the earlier one kept in its
/// history — and a person whose document changed keeps their inscription and Mi Carpeta.
#[tokio::test]
async fn a_person_removed_is_inscribed_again_and_a_new_document_keeps_the_inscription() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let id = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    post(format!("/v1/padron/inscriptions/{id}/removals"))
        .bearer(&cw)
        .json(&json!({"cause": "change_of_residence", "effective_on": "2026-03-02"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    app.clock.advance(Duration::days(30));
    let mut again = inscription("non_eu_temporary");
    again["dwelling_key"] = json!("1111111VK4797S0001AB");
    again["address"] = json!("Calle de Alcalá 200, 3º A, 28028 Madrid");
    let back = post("/v1/padron/inscriptions")
        .bearer(&cw)
        .json(&again)
        .send(&app)
        .await;
    assert!(back.status.is_success(), "{}", back.text());
    assert_eq!(id_of(&back.json()), id, "the same person's inscription");
    let row = get(format!("/v1/padron/inscriptions/{id}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(row["removed_on"], Value::Null, "{row}");
    assert_eq!(row["removal_cause"], Value::Null);
    assert_eq!(row["inscribed_on"], "2026-04-01");
    assert_eq!(row["dwelling_key"], "1111111VK4797S0001AB");
    // Two years from the new inscription, with its timers.
    assert_eq!(row["renewal_due"], "2028-04-01");
    // While inscribed, a second inscription is still refused.
    let twice = post("/v1/padron/inscriptions")
        .bearer(&cw)
        .json(&again)
        .send(&app)
        .await;
    assert_problem(&twice, StatusCode::CONFLICT, "refused");
    let history: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE stream_id = $1::uuid ORDER BY version",
    )
    .bind(&id)
    .fetch_all(&app.state.pool)
    .await
    .unwrap();
    assert_eq!(history, ["inscribed", "removed", "reinscribed"]);
    // Staff read it through the API.
    let read = get(format!("/v1/padron/inscriptions/{id}/history"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    let types: Vec<&str> = read
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["inscribed", "removed", "reinscribed"]);
    let theirs = get(format!("/v1/padron/inscriptions/{id}/history"))
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    let mine = get("/v1/carpeta/padron")
        .bearer(&app.citizen(BILAL))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(mine["inscription"]["inscription_id"], id.as_str());

    // Carmen, inscribed with her passport, gets a foreigner card: the same inscription, found by
    // the new number (Mi Carpeta, a new inscription attempt).
    let mut carmen = inscription("non_eu_temporary");
    carmen["name"] = json!("Carmen Ruiz");
    carmen["document"] = json!({"kind": "passport", "number": "PA1234567"});
    let carmen_id = id_of(
        &post("/v1/padron/inscriptions")
            .bearer(&cw)
            .json(&carmen)
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    post(format!("/v1/padron/inscriptions/{carmen_id}/personal-data"))
        .bearer(&cw)
        .json(&json!({"name": "Carmen Ruiz", "document": {"kind": "residence_card", "number": "Y1234567X"}, "actor": {"kind": "themselves"}}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let hers = get("/v1/carpeta/padron")
        .bearer(&app.citizen("Y1234567X"))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        hers["inscription"]["inscription_id"],
        carmen_id.as_str(),
        "{hers}"
    );
    // One document, one person: a number another inscription holds is refused.
    let taken = post(format!("/v1/padron/inscriptions/{carmen_id}/personal-data"))
        .bearer(&cw)
        .json(&json!({"name": "Carmen Ruiz", "document": {"kind": "residence_card", "number": BILAL}, "actor": {"kind": "themselves"}}))
        .send(&app)
        .await;
    assert_problem(&taken, StatusCode::CONFLICT, "refused");
    // Whoever holds her first number sees nothing of hers.
    let old_number = get("/v1/carpeta/padron")
        .bearer(&app.citizen("PA1234567"))
        .send(&app)
        .await;
    assert_eq!(old_number.status, StatusCode::NOT_FOUND);
    carmen["document"] = json!({"kind": "residence_card", "number": "Y1234567X"});
    let duplicate = post("/v1/padron/inscriptions")
        .bearer(&cw)
        .json(&carmen)
        .send(&app)
        .await;
    assert_problem(&duplicate, StatusCode::CONFLICT, "refused");
}

/// Issue 14: a minor's padrón procedures are a parent's (or legal representative's), not only
/// the inscription: a renewal by the child alone is refused, by a parent accepted.
#[tokio::test]
async fn a_minors_renewal_is_made_by_a_parent() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let mut child = inscription("non_eu_temporary");
    child["name"] = json!("Amira Haddad");
    child["birth_date"] = json!("2015-06-01");
    child["document"] = json!({"kind": "residence_card", "number": "Y1234567X"});
    child["actor"] = json!({"kind": "parent", "document": BILAL});
    let id = id_of(
        &post("/v1/padron/inscriptions")
            .bearer(&cw)
            .json(&child)
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    let renew = |actor: Value| {
        post(format!("/v1/padron/inscriptions/{id}/renewals"))
            .bearer(&cw)
            .json(&json!({"document": {"kind": "residence_card", "number": "Y1234567X"}, "actor": actor}))
    };
    let alone = renew(json!({"kind": "themselves"})).send(&app).await;
    assert!(
        assert_problem(&alone, StatusCode::CONFLICT, "refused")["detail"]
            .as_str()
            .unwrap()
            .contains("minors act through the parents"),
        "{}",
        alone.text()
    );
    renew(json!({"kind": "parent", "document": BILAL}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
}

/// Issue 14: EU citizens and permanent residents confirm their residence periodically (seed 004:
/// every five years in the Central Register of Foreigners, every two otherwise), warned by letter
/// three months before; unconfirmed, they are listed for a removal file. And a person who obtains
/// nationality no longer renews.
#[tokio::test]
async fn residence_is_confirmed_periodically_and_nationality_ends_the_duty_to_renew() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();
    let cw = app.caseworker();
    let mut eu = inscription("eu_citizen");
    eu["name"] = json!("Marie Dubois");
    eu["nationality"] = json!("european_union");
    eu["document"] = json!({"kind": "eu_identity_card", "number": "FR1234567"});
    let id = id_of(
        &post("/v1/padron/inscriptions")
            .bearer(&cw)
            .json(&eu)
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    async fn row_of(app: &TestApp, id: &str) -> Value {
        get(format!("/v1/padron/inscriptions/{id}"))
            .bearer(&app.caseworker())
            .send(app)
            .await
            .ok_json()
    }

    assert_eq!(row_of(&app, &id).await["confirmation_due"], "2028-03-02");
    assert_eq!(row_of(&app, &id).await["renewal_due"], Value::Null);
    // Three months before: the warning letter.
    assert_eq!(on_day(&app, day(2027, 12, 1)).await, 0);
    assert_eq!(on_day(&app, day(2027, 12, 2)).await, 1);
    process_outbox(&app.state, &sender).await.unwrap();
    assert!(
        sender
            .sent()
            .iter()
            .any(|m| m.kind == "confirmation_warning"),
        "{:?}",
        sender.sent()
    );
    // The day after, unconfirmed: listed for a removal file; Mi Carpeta says so.
    assert_eq!(on_day(&app, day(2028, 3, 3)).await, 1);
    assert_eq!(row_of(&app, &id).await["confirmation_overdue"], true);
    let queue = get("/v1/padron/renewals?which=unconfirmed")
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(queue[0]["inscription_id"], id.as_str(), "{queue}");
    let mine = get("/v1/carpeta/padron")
        .bearer(&app.citizen("FR1234567"))
        .send(&app)
        .await
        .ok_json();
    assert!(
        mine["next_step"]
            .as_str()
            .unwrap()
            .contains("not confirmed"),
        "{mine}"
    );
    // She confirms at the office: two more years, off the list.
    post(format!(
        "/v1/padron/inscriptions/{id}/residence-confirmations"
    ))
    .bearer(&cw)
    .json(&json!({"kind": "themselves"}))
    .send(&app)
    .await
    .expect(StatusCode::OK);
    let confirmed = row_of(&app, &id).await;
    assert_eq!(confirmed["confirmation_due"], "2030-03-03", "{confirmed}");
    assert_eq!(confirmed["confirmation_overdue"], false);
    let queue = get("/v1/padron/renewals?which=unconfirmed")
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(queue, json!([]));

    // Bilal (ENCSARP) obtains Spanish nationality: no renewal, no letters, no lapse.
    let bilal = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    post(format!("/v1/padron/inscriptions/{bilal}/residence-status"))
        .bearer(&cw)
        .json(&json!({"residence": "spanish", "evidence": "Resolución de concesión de la nacionalidad española de 1 de marzo de 2028"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let his = get(format!("/v1/padron/inscriptions/{bilal}"))
        .bearer(&cw)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(his["residence"], "spanish");
    assert_eq!(his["renewal_due"], Value::Null);
    assert_eq!(his["confirmation_due"], Value::Null);
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deadline_timers WHERE case_id = $1::uuid AND state = 'pending'",
    )
    .bind(&bilal)
    .fetch_one(&app.state.pool)
    .await
    .unwrap();
    assert_eq!(pending, 0, "no timer runs for him");
}

/// Issue 14: certificates and volantes — individual or collective of the dwelling, current or
/// historical — issued as PDFs with a secure verification code anyone can check.
#[tokio::test]
async fn certificates_and_volantes_are_issued_and_checked_by_their_code() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let cw = app.caseworker();
    let bilal = inscribed(
        &app,
        json!({"kind": "residence_card", "number": BILAL}),
        "Bilal Haddad",
    )
    .await;
    let mut other = inscription("non_eu_temporary");
    other["name"] = json!("Carmen Ruiz");
    other["document"] = json!({"kind": "residence_card", "number": "Y1234567X"});
    post("/v1/padron/inscriptions")
        .bearer(&cw)
        .json(&other)
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let ask = |token: String, body: Value| {
        post(format!("/v1/padron/inscriptions/{bilal}/certificates"))
            .bearer(&token)
            .json(&body)
    };
    // Someone else cannot ask for his.
    let theirs = ask(
        app.citizen(ANA_DNI),
        json!({"kind": "volante", "scope": "individual"}),
    )
    .send(&app)
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    // Online: a volante, with an electronic certificate; a certificate is the counter's.
    let weak = ask(
        app.citizen(BILAL),
        json!({"kind": "volante", "scope": "individual"}),
    )
    .send(&app)
    .await;
    assert_eq!(weak.status, StatusCode::FORBIDDEN);
    let certified = app.state.keys.mint(
        Role::Citizen,
        &MADRID.parse().unwrap(),
        BILAL,
        Assurance::High,
        600,
    );
    let certificate_online = ask(
        certified.clone(),
        json!({"kind": "certificate", "scope": "individual"}),
    )
    .send(&app)
    .await;
    assert_eq!(certificate_online.status, StatusCode::FORBIDDEN);
    // If-Match names the inscription's version.
    let stale = ask(
        certified.clone(),
        json!({"kind": "volante", "scope": "individual"}),
    )
    .header("if-match", "\"9\"")
    .send(&app)
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let first = ask(
        certified.clone(),
        json!({"kind": "volante", "scope": "individual"}),
    )
    .header("if-match", "\"1\"")
    .header("idempotency-key", "volante-1")
    .send(&app)
    .await
    .expect(StatusCode::CREATED);
    // A retry answers the same document.
    let again = ask(
        certified.clone(),
        json!({"kind": "volante", "scope": "individual"}),
    )
    .header("if-match", "\"1\"")
    .header("idempotency-key", "volante-1")
    .send(&app)
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(again.json()["replayed"], true);
    let issued = first.follow(&app).await;
    let code = issued["verification_code"].as_str().unwrap().to_owned();
    assert_eq!(issued["kind"], "volante");
    // Anyone with the code checks it, and gets the copy.
    let checked = get(format!("/v1/verification/documents/{code}"))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(checked["procedure"], "padron_certificate", "{checked}");
    assert_eq!(checked["sha256"], issued["sha256"]);
    let copy = get(format!("/v1/verification/documents/{code}/content"))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert!(copy.body.starts_with(b"%PDF-1.4"));
    let text = String::from_utf8_lossy(&copy.body).into_owned();
    assert!(
        text.contains("VOLANTE DE EMPADRONAMIENTO INDIVIDUAL"),
        "{text}"
    );
    assert!(text.contains("Bilal Haddad"));
    assert!(text.contains(&code));
    // A collective certificate of the dwelling, at the counter: both of them.
    let collective = ask(
        cw.clone(),
        json!({"kind": "certificate", "scope": "collective"}),
    )
    .send(&app)
    .await
    .expect(StatusCode::CREATED)
    .follow(&app)
    .await;
    let copy = get(format!(
        "/v1/verification/documents/{}/content",
        collective["verification_code"].as_str().unwrap()
    ))
    .send(&app)
    .await
    .expect(StatusCode::OK);
    let text = String::from_utf8_lossy(&copy.body).into_owned();
    assert!(
        text.contains("Bilal Haddad") && text.contains("Carmen Ruiz"),
        "{text}"
    );
    // He moves away and is removed: a current document is refused, a historical one says when
    // and why.
    app.clock.advance(Duration::days(40));
    post(format!("/v1/padron/inscriptions/{bilal}/removals"))
        .bearer(&cw)
        .json(&json!({"cause": "change_of_residence", "effective_on": "2026-04-10"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let current = ask(
        cw.clone(),
        json!({"kind": "certificate", "scope": "individual"}),
    )
    .send(&app)
    .await;
    assert_problem(&current, StatusCode::CONFLICT, "refused");
    let historical = ask(
        cw.clone(),
        json!({"kind": "certificate", "scope": "individual", "historical": true}),
    )
    .send(&app)
    .await
    .expect(StatusCode::CREATED)
    .follow(&app)
    .await;
    let copy = get(format!(
        "/v1/verification/documents/{}/content",
        historical["verification_code"].as_str().unwrap()
    ))
    .send(&app)
    .await
    .expect(StatusCode::OK);
    let text = String::from_utf8_lossy(&copy.body).into_owned();
    assert!(text.contains("HIST"), "{text}");
    assert!(text.contains("cambio de residencia"), "{text}");
    assert!(
        // (the line breaks after "10 de")
        text.contains("del 2 de marzo de 2026 al 10 de")
            && text.contains("(abril de 2026, en que caus"),
        "{text}"
    );
    // Someone else's document is not theirs to read.
    let id = id_of(&json!({"id": historical["certificate_id"]}));
    let foreign = get(format!("/v1/padron/certificates/{id}"))
        .bearer(&app.citizen(ANA_DNI))
        .send(&app)
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

/// Issue 14's migration path: an EU citizen inscribed before confirmation days were recorded (an
/// `inscribed` event alone, as the log holds it) gets hers from the operator's one-off backfill,
/// once; nothing is rewritten.
#[tokio::test]
async fn inscriptions_recorded_before_confirmation_days_get_theirs_from_the_backfill() {
    use expedientes_domain::padron::{Actor, Dwelling, InscriptionEvent, Person, ResidenceStatus};
    use expedientes_domain::user_account::{IdentityDocument, Nationality};
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let tenant: expedientes_domain::MunicipalityCode = MADRID.parse().unwrap();
    let id = uuid::Uuid::new_v4();
    let legacy = InscriptionEvent::Inscribed {
        entry: None,
        renewal_due: None,
        person: Person {
            name: "Marie Dubois".into(),
            birth_date: day(1980, 1, 1),
            nationality: Nationality::EuropeanUnion,
            document: IdentityDocument::EuIdentityCard {
                number: "FR7654321".parse().unwrap(),
            },
        },
        residence: ResidenceStatus::EuCitizen,
        dwelling: Dwelling {
            key: "9872023VK4797S0001WX".into(),
            address: "Calle de Toledo 10".into(),
        },
        declares_nobody_else: false,
        actor: Actor::Themselves,
        on: day(2023, 6, 1),
    };
    app.state
        .log
        .append(expedientes_eventlog::AppendRequest {
            tenant: tenant.clone(),
            metadata: expedientes_eventlog::Metadata {
                actor_id: "an earlier version".into(),
                actor_role: "caseworker".into(),
                correlation_id: uuid::Uuid::new_v4(),
                command_id: Some(uuid::Uuid::new_v4()),
                ..Default::default()
            },
            request_hash: None,
            streams: vec![expedientes_eventlog::StreamAppend {
                stream_type: "padron_inscription".into(),
                stream_id: id,
                expected_version: 0,
                events: vec![expedientes_eventlog::NewEvent {
                    event_type: "inscribed".into(),
                    schema_version: 1,
                    payload: serde_json::to_value(&legacy).unwrap(),
                }],
            }],
        })
        .await
        .unwrap();
    drive(&app).await;
    let row = || async {
        get(format!("/v1/padron/inscriptions/{id}"))
            .bearer(&app.caseworker())
            .send(&app)
            .await
            .ok_json()
    };
    assert_eq!(row().await["confirmation_due"], Value::Null);
    let first = expedientes_api::routes::padron::record_confirmation_days(&app.state, &tenant)
        .await
        .unwrap();
    assert_eq!(first, 1);
    // Two years from 1 June 2023 passed: the overdue list takes her at once.
    drive(&app).await;
    let now = row().await;
    assert_eq!(now["confirmation_due"], "2025-06-01", "{now}");
    assert_eq!(now["confirmation_overdue"], true, "{now}");
    let again = expedientes_api::routes::padron::record_confirmation_days(&app.state, &tenant)
        .await
        .unwrap();
    assert_eq!(again, 0);
}
