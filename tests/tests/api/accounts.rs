//! Alta de usuario end to end: every registration channel to a first login, the lock after three
//! wrong passwords, expiry after a year without use (driven clock and the real scheduler),
//! single-use links, refusals, throttling, and no secret in the log, the logs or the answers.

use std::io::Write;
use std::sync::{Arc, Mutex};

use expedientes_api::notices::{process_outbox, MemorySender, OutgoingMessage};

use super::*;

const ACCOUNTS: &str = "/v1/councils/28079/accounts";
const SESSIONS: &str = "/v1/councils/28079/sessions";
const PASSWORD: &str = "correcto-caballo-batería-grapa";

fn natural(channel: &str, document: Value, nationality: &str) -> Value {
    json!({
        "channel": channel,
        "person": "natural",
        "name": "Ana García",
        "birth_date": "1980-05-01",
        "nationality": nationality,
        "document": document,
        "mobile": "+34600111222",
        "email": "ana@example.es",
        "address": "Calle Mayor 1, 28013 Madrid",
    })
}

fn dni(number: &str) -> Value {
    json!({"kind": "dni", "number": number})
}

/// Sends the outbox and returns what went out.
async fn send_notices(app: &TestApp, sender: &MemorySender) -> Vec<OutgoingMessage> {
    let before = sender.sent().len();
    process_outbox(&app.state, sender)
        .await
        .expect("the outbox is sent");
    sender.sent()[before..].to_vec()
}

/// The single-use code in the last message of a kind.
fn code_in(messages: &[OutgoingMessage], kind: &str) -> String {
    let message = messages
        .iter()
        .rev()
        .find(|m| m.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} message in {messages:?}"));
    message
        .body
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .expect("a 64-hex-digit code")
        .to_owned()
}

async fn activate(app: &TestApp, token: &str, password: &str) -> Reply {
    post(format!("{ACCOUNTS}/activation"))
        .json(&json!({"token": token, "password": password}))
        .send(app)
        .await
}

async fn login(app: &TestApp, document: &str, password: &str) -> Reply {
    post(SESSIONS)
        .json(&json!({"document": document, "password": password}))
        .send(app)
        .await
}

/// Registers in person (by a caseworker), resets the key and sets the password: an active account.
async fn active_account(app: &TestApp, sender: &MemorySender, document: &str) -> String {
    let registered = post(ACCOUNTS)
        .bearer(&app.caseworker())
        .json(&natural("in_person", dni(document), "spanish"))
        .send(app)
        .await
        .expect(StatusCode::CREATED)
        .follow(app)
        .await;
    let id = registered["account_id"].as_str().unwrap().to_owned();
    post(format!("/v1/accounts/{id}/key-resets"))
        .bearer(&app.caseworker())
        .send(app)
        .await
        .expect(StatusCode::OK);
    let code = code_in(&send_notices(app, sender).await, "activation_link");
    activate(app, &code, PASSWORD).await.expect(StatusCode::OK);
    id
}

#[tokio::test]
async fn every_channel_leads_to_a_first_login() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();

    // Online without a certificate: the council verifies the identity, then assigns the key.
    let account = post(ACCOUNTS)
        .json(&natural("online_without_certificate", dni(ANA), "spanish"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .follow(&app)
        .await;
    assert_eq!(account["stage"], "awaiting_verification");
    let id = account["account_id"].as_str().unwrap().to_owned();
    // The registration is an application entered in the registry (art. 16).
    let entered: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM registry_book WHERE stream_id = $1::uuid")
            .bind(&id)
            .fetch_all(&app.state.pool)
            .await
            .unwrap();
    assert_eq!(entered, ["application"]);
    let sent = send_notices(&app, &sender).await;
    assert!(sent
        .iter()
        .any(|m| m.kind == "new_registration" && m.to == "registro@ayuntamiento.test"));
    assert!(sent
        .iter()
        .any(|m| m.kind == "verification_pending" && m.to == "ana@example.es"));
    // A second, later registration: the queue is oldest first.
    app.clock.advance(Duration::minutes(5));
    post(ACCOUNTS)
        .json(&natural(
            "online_without_certificate",
            dni(DIEGO),
            "spanish",
        ))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let queue = get("/v1/accounts/verification-queue")
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    let queue: Vec<&str> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["login_number"].as_str().unwrap())
        .collect();
    assert_eq!(queue, vec![ANA, DIEGO]);
    // The key cannot be reset before the identity is verified.
    let early = post(format!("/v1/accounts/{id}/key-resets"))
        .bearer(&app.caseworker())
        .send(&app)
        .await;
    assert_problem(&early, StatusCode::CONFLICT, "refused");
    post(format!("/v1/accounts/{id}/identity-verifications"))
        .bearer(&app.caseworker())
        .json(&json!({"method": "phone_control_questions"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let reset = post(format!("/v1/accounts/{id}/key-resets"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .expect(StatusCode::OK)
        .follow(&app)
        .await;
    assert_eq!(reset["stage"], "awaiting_password");
    let code = code_in(&send_notices(&app, &sender).await, "activation_link");
    activate(&app, &code, PASSWORD).await.expect(StatusCode::OK);
    let session = login(&app, ANA, PASSWORD).await.ok_json();
    let token = session["token"].as_str().unwrap();
    let mine = get("/v1/carpeta/account")
        .bearer(token)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        (mine["stage"].as_str(), mine["channel"].as_str()),
        (Some("active"), Some("online_without_certificate"))
    );
    // The registration file is a case of the person's, closed when the account became active.
    let carpeta = get("/v1/carpeta").bearer(token).send(&app).await.ok_json();
    assert!(carpeta["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["sia_code"] == "999998" && f["state"] == "closed"));

    // Online with a certificate: the e-mail link activates.
    let certified = app.state.keys.mint(
        Role::Citizen,
        &MADRID.parse().unwrap(),
        BORIS,
        Assurance::High,
        600,
    );
    let weak = app.citizen(BORIS);
    let nie = json!({"kind": "residence_card", "number": BORIS});
    let refused = post(ACCOUNTS)
        .bearer(&weak)
        .json(&natural("online_with_certificate", nie.clone(), "non_eu"))
        .send(&app)
        .await;
    assert_problem(&refused, StatusCode::UNAUTHORIZED, "unauthenticated");
    let account = post(ACCOUNTS)
        .bearer(&certified)
        .json(&natural("online_with_certificate", nie, "non_eu"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .follow(&app)
        .await;
    assert_eq!(account["stage"], "awaiting_email_confirmation");
    let code = code_in(
        &send_notices(&app, &sender).await,
        "email_confirmation_link",
    );
    activate(&app, &code, PASSWORD).await.expect(StatusCode::OK);
    login(&app, BORIS, PASSWORD).await.expect(StatusCode::OK);

    // In person and by phone: a caseworker registers, the key follows at once.
    active_account(&app, &sender, CARMEN_DNI).await;
    login(&app, CARMEN_DNI, PASSWORD)
        .await
        .expect(StatusCode::OK);
    let mut by_phone = natural("phone", dni(ELENA), "spanish");
    by_phone["known_to_council"] = json!(true);
    let account = post(ACCOUNTS)
        .bearer(&app.caseworker())
        .json(&by_phone)
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .follow(&app)
        .await;
    assert_eq!(account["stage"], "awaiting_key");
    // A citizen cannot record a phone registration.
    let refused = post(ACCOUNTS)
        .bearer(&app.citizen(ELENA))
        .json(&by_phone)
        .send(&app)
        .await;
    assert_problem(&refused, StatusCode::FORBIDDEN, "forbidden");

    // A legal person, online with its certificate (seed 000: online means with a certificate;
    // without one it is refused and nothing is written).
    let mut company = json!({
        "channel": "online_without_certificate", "person": "legal", "name": "Construcciones SL",
        "nif": "B12345674", "mobile": "+34600111333", "email": "admin@construcciones.es",
        "address": "Calle Industria 5, Madrid",
    });
    let refused = post(ACCOUNTS).json(&company).send(&app).await;
    assert!(
        assert_problem(&refused, StatusCode::CONFLICT, "refused")["detail"]
            .as_str()
            .unwrap()
            .contains("certificate"),
        "{}",
        refused.text()
    );
    company["channel"] = json!("online_with_certificate");
    let company_certificate = app.state.keys.mint(
        Role::Citizen,
        &MADRID.parse().unwrap(),
        "B12345674",
        Assurance::High,
        600,
    );
    post(ACCOUNTS)
        .bearer(&company_certificate)
        .json(&company)
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
}

/// A DNI for the in-person path (Carmen's NIE is used elsewhere).
const CARMEN_DNI: &str = "11111111H";

#[tokio::test]
async fn registrations_the_rules_refuse_change_nothing() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let company_in_person = json!({
        "channel": "in_person", "person": "legal", "name": "Construcciones SL", "nif": "B12345674",
        "mobile": "+34600111333", "email": "admin@construcciones.es", "address": "Calle Industria 5, Madrid",
    });
    let refused = post(ACCOUNTS)
        .bearer(&app.caseworker())
        .json(&company_in_person)
        .send(&app)
        .await;
    assert!(
        assert_problem(&refused, StatusCode::CONFLICT, "refused")["detail"]
            .as_str()
            .unwrap()
            .contains("certificate")
    );
    let mut minor = natural("online_without_certificate", dni(ANA), "spanish");
    minor["birth_date"] = json!("2010-01-01");
    let refused = post(ACCOUNTS).json(&minor).send(&app).await;
    assert!(
        assert_problem(&refused, StatusCode::CONFLICT, "refused")["detail"]
            .as_str()
            .unwrap()
            .contains("emancipated")
    );
    let wrong_document = natural(
        "online_without_certificate",
        json!({"kind": "passport", "number": "PAA123456"}),
        "non_eu",
    );
    let refused = post(ACCOUNTS).json(&wrong_document).send(&app).await;
    assert!(
        assert_problem(&refused, StatusCode::CONFLICT, "refused")["detail"]
            .as_str()
            .unwrap()
            .contains("residence card")
    );
    let bad_dni = post(ACCOUNTS)
        .json(&natural(
            "online_without_certificate",
            dni("12345678A"),
            "spanish",
        ))
        .send(&app)
        .await;
    assert_problem(&bad_dni, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let queue = get("/v1/accounts/verification-queue")
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(queue, json!([]));
    // Registering twice.
    post(ACCOUNTS)
        .json(&natural("online_without_certificate", dni(ANA), "spanish"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let twice = post(ACCOUNTS)
        .json(&natural("online_without_certificate", dni(ANA), "spanish"))
        .send(&app)
        .await;
    assert_problem(&twice, StatusCode::CONFLICT, "refused");
}

#[tokio::test]
async fn three_wrong_passwords_lock_until_unlocked_in_person() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();
    let id = active_account(&app, &sender, ANA).await;
    for _ in 0..2 {
        assert_unauthenticated(&login(&app, ANA, "wrong password").await);
    }
    // A right one resets the count.
    login(&app, ANA, PASSWORD).await.expect(StatusCode::OK);
    for _ in 0..3 {
        assert_unauthenticated(&login(&app, ANA, "wrong password").await);
    }
    // The fourth attempt, even right, meets the lock.
    assert_problem(
        &login(&app, ANA, PASSWORD).await,
        StatusCode::FORBIDDEN,
        "account-locked",
    );
    // A wrong one answers as for a document without an account: the lock is told only to
    // someone who knows the password.
    let wrong_on_locked = login(&app, ANA, "wrong password").await;
    let unknown = login(&app, ELENA, "wrong password").await;
    assert_unauthenticated(&wrong_on_locked);
    assert_eq!(wrong_on_locked.json(), {
        let mut same = unknown.json();
        same["instance"] = wrong_on_locked.json()["instance"].clone();
        same
    });
    assert!(send_notices(&app, &sender)
        .await
        .iter()
        .any(|m| m.kind == "account_locked"));
    // Online recovery is not possible while locked: it answers like any other, and sends no code.
    post(format!("{ACCOUNTS}/recovery"))
        .json(&json!({"document": ANA}))
        .send(&app)
        .await
        .expect(StatusCode::ACCEPTED);
    assert!(!send_notices(&app, &sender)
        .await
        .iter()
        .any(|m| m.kind == "activation_link"));
    // In person, a caseworker unlocks it.
    post(format!("/v1/accounts/{id}/unlocks"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .expect(StatusCode::OK);
    login(&app, ANA, PASSWORD).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn a_year_without_use_expires_the_password() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();
    active_account(&app, &sender, ANA).await;
    // Used a month later: the year counts from then.
    app.clock.advance(Duration::days(30));
    login(&app, ANA, PASSWORD).await.expect(StatusCode::OK);
    let last_use = app.clock_now();
    app.clock.set(last_use + Duration::days(365));
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(
        app.state.scheduler.run_once().await.unwrap().fired,
        0,
        "a full year has not passed yet"
    );
    app.clock.set(last_use + Duration::days(367));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 1);
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    assert_problem(
        &login(&app, ANA, PASSWORD).await,
        StatusCode::FORBIDDEN,
        "password-expired",
    );
    assert!(send_notices(&app, &sender)
        .await
        .iter()
        .any(|m| m.kind == "password_expired"));
    // Recovery online sets a new password.
    post(format!("{ACCOUNTS}/recovery"))
        .json(&json!({"document": ANA}))
        .send(&app)
        .await
        .expect(StatusCode::ACCEPTED);
    let code = code_in(&send_notices(&app, &sender).await, "activation_link");
    activate(&app, &code, "otra-contraseña-larga")
        .await
        .expect(StatusCode::OK);
    login(&app, ANA, "otra-contraseña-larga")
        .await
        .expect(StatusCode::OK);
    assert_unauthenticated(&login(&app, ANA, PASSWORD).await);
}

#[tokio::test]
async fn the_email_link_works_once() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();
    let registered = post(ACCOUNTS)
        .bearer(&app.caseworker())
        .json(&natural("in_person", dni(ANA), "spanish"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .follow(&app)
        .await;
    let id = registered["account_id"].as_str().unwrap();
    post(format!("/v1/accounts/{id}/key-resets"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let code = code_in(&send_notices(&app, &sender).await, "activation_link");
    assert_problem(
        &activate(&app, &code, "short").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
    );
    activate(&app, &code, PASSWORD).await.expect(StatusCode::OK);
    assert_problem(
        &activate(&app, &code, PASSWORD).await,
        StatusCode::GONE,
        "link-not-valid",
    );
    assert_problem(
        &activate(&app, &"0".repeat(64), PASSWORD).await,
        StatusCode::GONE,
        "link-not-valid",
    );
    // A code expires after its days.
    post(format!("/v1/accounts/{id}/key-resets"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let late = code_in(&send_notices(&app, &sender).await, "activation_link");
    app.clock.advance(Duration::days(8));
    assert_problem(
        &activate(&app, &late, PASSWORD).await,
        StatusCode::GONE,
        "link-not-valid",
    );
}

#[tokio::test]
async fn personal_data_changes_only_in_person() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();
    let id = active_account(&app, &sender, ANA).await;
    let session = login(&app, ANA, PASSWORD).await.ok_json();
    let token = session["token"].as_str().unwrap();
    let new = json!({"mobile": "+34600999888", "email": "ana.nueva@example.es", "address": "Calle Nueva 2, Madrid"});
    let online = call(Method::PUT, format!("/v1/accounts/{id}/contact"))
        .bearer(token)
        .json(&new)
        .send(&app)
        .await;
    assert!(
        assert_problem(&online, StatusCode::CONFLICT, "refused")["detail"]
            .as_str()
            .unwrap()
            .contains("in person")
    );
    call(Method::PUT, format!("/v1/accounts/{id}/contact"))
        .bearer(&app.caseworker())
        .json(&new)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    // Another person's account is out of reach.
    let other = call(Method::PUT, format!("/v1/accounts/{id}/contact"))
        .bearer(&app.citizen(DIEGO))
        .json(&new)
        .send(&app)
        .await;
    assert_problem(&other, StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn failed_logins_are_throttled_per_document() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    // No account at all: every attempt looks like a wrong password, then the throttle answers.
    for _ in 0..10 {
        assert_unauthenticated(&login(&app, DIEGO, "guess").await);
    }
    let throttled = login(&app, DIEGO, "guess").await;
    assert_problem(
        &throttled,
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-attempts",
    );
    assert!(throttled.header("retry-after").is_some());
    // Other documents are not affected.
    assert_unauthenticated(&login(&app, ANA, "guess").await);
    // After the window, attempts are allowed again.
    app.clock.advance(Duration::minutes(16));
    assert_unauthenticated(&login(&app, DIEGO, "guess").await);
}

/// A log writer that keeps everything written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_password_code_or_pin_reaches_the_log_the_logs_or_an_answer() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // This test's runtime has one thread, so every task it spawns logs here.
    let _guard = tracing::subscriber::set_default(subscriber);
    // Callsites first hit by other tests, with no subscriber, were cached as uninteresting.
    tracing::callsite::rebuild_interest_cache();

    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();
    let registered = post(ACCOUNTS)
        .bearer(&app.caseworker())
        .json(&natural("in_person", dni(ANA), "spanish"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .follow(&app)
        .await;
    let id = registered["account_id"].as_str().unwrap();
    post(format!("/v1/accounts/{id}/key-resets"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let code = code_in(&send_notices(&app, &sender).await, "activation_link");
    let mut answers = Vec::new();
    answers.push(activate(&app, &code, PASSWORD).await.text());
    answers.push(activate(&app, &code, PASSWORD).await.text());
    answers.push(login(&app, ANA, PASSWORD).await.text());
    answers.push(login(&app, ANA, "una-contraseña-equivocada").await.text());
    answers.push(
        post(SESSIONS)
            .json(&json!({"document": ANA, "password": PASSWORD, "extra": 1}))
            .send(&app)
            .await
            .text(),
    );
    let log: String =
        sqlx::query_scalar("SELECT string_agg(payload::text || metadata::text, ' ') FROM events")
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(!logs.is_empty(), "the logs were captured");
    for secret in [PASSWORD, "una-contraseña-equivocada", code.as_str()] {
        assert!(!log.contains(secret), "a secret is in the event log");
        assert!(!logs.contains(secret), "a secret is in the logs");
        for answer in &answers {
            assert!(
                !answer.contains(secret),
                "a secret is in an answer: {answer}"
            );
        }
    }
}

#[tokio::test]
async fn a_pin_logs_in_once_within_ten_minutes_and_needs_a_verified_mobile() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();
    let id = active_account(&app, &sender, ANA).await;
    let ask = || post(format!("{SESSIONS}/pin-requests")).json(&json!({"document": ANA}));
    let pin_in = |messages: &[OutgoingMessage]| -> Option<String> {
        messages
            .iter()
            .rev()
            .find(|m| m.kind == "login_pin")
            .map(|m| {
                assert_eq!((m.channel.as_str(), m.to.as_str()), ("sms", "+34600111222"));
                m.body
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                    .unwrap()
                    .to_owned()
            })
    };
    let with_pin =
        |pin: &str| post(format!("{SESSIONS}/pin")).json(&json!({"document": ANA, "pin": pin}));
    // No verified mobile: nothing is sent (and the answer does not tell).
    ask().send(&app).await.expect(StatusCode::ACCEPTED);
    assert_eq!(pin_in(&send_notices(&app, &sender).await), None);
    post(format!("/v1/accounts/{id}/mobile-verifications"))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .expect(StatusCode::OK);
    ask().send(&app).await.expect(StatusCode::ACCEPTED);
    let pin = pin_in(&send_notices(&app, &sender).await).expect("a PIN by SMS");
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    assert_unauthenticated(&with_pin(wrong).send(&app).await);
    let session = with_pin(&pin).send(&app).await.ok_json();
    get("/v1/carpeta/account")
        .bearer(session["token"].as_str().unwrap())
        .send(&app)
        .await
        .expect(StatusCode::OK);
    // Once only.
    assert_unauthenticated(&with_pin(&pin).send(&app).await);
    // Ten minutes only.
    ask().send(&app).await.expect(StatusCode::ACCEPTED);
    let late = pin_in(&send_notices(&app, &sender).await).expect("another PIN");
    app.clock.advance(Duration::minutes(11));
    assert_unauthenticated(&with_pin(&late).send(&app).await);
    // The PIN is not in the event log (as a value; six digits may occur inside an id by chance).
    let log: String =
        sqlx::query_scalar("SELECT string_agg(payload::text || metadata::text, ' ') FROM events")
            .fetch_one(&app.state.pool)
            .await
            .unwrap();
    for secret in [&pin, &late] {
        assert!(!log.contains(&format!("\"{secret}\"")) && !log.contains(&format!(": {secret}")));
    }
}

/// Anonymous registrations (each writes a file that can never be deleted) are limited per client
/// address: the eleventh in a quarter of an hour is refused with `Retry-After`, and writes nothing;
/// a caseworker's registration is not limited.
#[tokio::test]
async fn anonymous_registrations_are_throttled_per_address() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let dni_for = |n: u32| {
        const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
        let number = 20_000_000 + n;
        format!("{number:08}{}", LETTERS[(number % 23) as usize] as char)
    };
    for n in 0..10 {
        post(ACCOUNTS)
            .json(&natural(
                "online_without_certificate",
                dni(&dni_for(n)),
                "spanish",
            ))
            .send(&app)
            .await
            .expect(StatusCode::CREATED);
    }
    let events = |app: &TestApp| {
        let pool = app.state.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let before = events(&app).await;
    let refused = post(ACCOUNTS)
        .json(&natural(
            "online_without_certificate",
            dni(&dni_for(10)),
            "spanish",
        ))
        .send(&app)
        .await;
    assert_problem(&refused, StatusCode::TOO_MANY_REQUESTS, "too-many-attempts");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(events(&app).await, before, "nothing was written");
    post(ACCOUNTS)
        .bearer(&app.caseworker())
        .json(&natural("in_person", dni(&dni_for(11)), "spanish"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
}

#[tokio::test]
async fn a_person_with_an_account_is_told_by_email_that_a_notification_is_waiting() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();
    post(ACCOUNTS)
        .json(&natural("online_without_certificate", dni(ANA), "spanish"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    send_notices(&app, &sender).await;
    let id = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&app.caseworker())
        .json(&json!({"decision": "granted", "grounds": "Procede"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    let sent = send_notices(&app, &sender).await;
    let aviso = sent
        .iter()
        .find(|m| m.kind == "notification_available")
        .expect("the aviso of art. 41.6");
    assert_eq!(aviso.to, "ana@example.es");
    assert!(aviso.body.contains("diez días naturales"));
    assert!(
        !aviso.body.contains("Procede"),
        "the aviso does not carry the notification"
    );
    // Someone without an account has nowhere to be told: nothing is sent to nobody.
    let other = submit_own(&app, &app.citizen(BORIS), "Otra", "Boris").await;
    post(format!("{}/resolutions", case_uri(&other)))
        .bearer(&app.caseworker())
        .json(&json!({"decision": "denied", "grounds": "No procede"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    drive(&app).await;
    assert!(send_notices(&app, &sender)
        .await
        .iter()
        .all(|m| !m.to.is_empty()));
}

#[tokio::test]
async fn only_three_consecutive_wrong_passwords_in_one_login_session_lock() {
    // Seed 000: "tres intentos de acceso erróneos consecutivos en la misma sesión". A session is
    // one device's attempts with no more than 30 minutes between them (docs/API.md).
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let sender = MemorySender::default();
    active_account(&app, &sender, ANA).await;
    let attempt = |from: &str, password: &str| {
        post(SESSIONS)
            .from(from)
            .json(&json!({"document": ANA, "password": password}))
    };
    // Two wrong at home, one wrong from another device: no lock.
    for from in ["192.0.2.1", "192.0.2.1", "198.51.100.7"] {
        assert_unauthenticated(&attempt(from, "wrong password").send(&app).await);
    }
    attempt("192.0.2.1", PASSWORD)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    // Two wrong, then the third 31 minutes later: a new session, no lock.
    for _ in 0..2 {
        assert_unauthenticated(&attempt("192.0.2.1", "wrong password").send(&app).await);
    }
    app.clock.advance(Duration::minutes(31));
    assert_unauthenticated(&attempt("192.0.2.1", "wrong password").send(&app).await);
    attempt("192.0.2.1", PASSWORD)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    // Three in a row from one device within the session: locked, even for the right one.
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(10));
        assert_unauthenticated(&attempt("203.0.113.9", "wrong password").send(&app).await);
    }
    assert_problem(
        &attempt("192.0.2.1", PASSWORD).send(&app).await,
        StatusCode::FORBIDDEN,
        "account-locked",
    );
    // The log keeps no address: only the session's key.
    let failed: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT payload FROM events WHERE event_type = 'login_failed' ORDER BY position",
    )
    .fetch_all(&app.db.pool(1).await)
    .await
    .unwrap();
    assert!(failed.iter().all(|p| !p.to_string().contains("192.0.2")
        && p["session"].as_str().is_some_and(|s| s.len() == 24)));
}

#[tokio::test]
async fn an_unverified_online_registration_never_blocks_the_holders_registration() {
    // Someone registers Ana's DNI online, without a certificate, with their own e-mail.
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let mut squat = natural("online_without_certificate", dni(ANA), "spanish");
    squat["email"] = json!("intruso@example.com");
    squat["mobile"] = json!("+34600999999");
    let squatted = post(ACCOUNTS)
        .from("203.0.113.66")
        .json(&squat)
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .json();
    // Ana registers in person, her document checked: accepted, and the file goes on with her
    // registration (the same account and file, so 200), the intruder's contact data gone.
    let hers = post(ACCOUNTS)
        .bearer(&app.caseworker())
        .json(&natural("in_person", dni(ANA), "spanish"))
        .send(&app)
        .await
        .expect(StatusCode::OK)
        .follow(&app)
        .await;
    assert_eq!(hers["account_id"], squatted["id"]);
    assert_eq!(hers["channel"], "in_person", "{hers}");
    assert_eq!(hers["stage"], "awaiting_key");
    let (email, mobile): (String, String) =
        sqlx::query_as("SELECT email, mobile FROM account_view WHERE account_id = $1")
            .bind(uuid::Uuid::parse_str(squatted["id"].as_str().unwrap()).unwrap())
            .fetch_one(&app.db.pool(1).await)
            .await
            .unwrap();
    assert_eq!(
        (email.as_str(), mobile.as_str()),
        ("ana@example.es", "+34600111222")
    );
    let history = get(format!(
        "{}/events",
        case_uri(squatted["id"].as_str().unwrap())
    ))
    .bearer(&app.caseworker())
    .send(&app)
    .await
    .ok_json();
    let types: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "registered",
            "verification_requested",
            "registration_superseded",
            "registered"
        ]
    );
    // Another unverified registration of her DNI now is refused, and spends no registry number
    // (the sequences' last numbers stay where they were).
    let entries = |app: &TestApp| {
        let pool = app.state.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT coalesce(sum(last), 0)::bigint FROM registry_sequences",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let before = entries(&app).await;
    let again = post(ACCOUNTS)
        .from("203.0.113.66")
        .json(&squat)
        .send(&app)
        .await;
    assert_problem(&again, StatusCode::CONFLICT, "refused");
    drive(&app).await;
    assert_eq!(entries(&app).await, before);
    // The superseding registration kept the file's number and spent none: the next file takes
    // the number after it.
    let next = post(ACCOUNTS)
        .bearer(&app.caseworker())
        .json(&natural("in_person", dni(DIEGO), "spanish"))
        .send(&app)
        .await
        .expect(StatusCode::CREATED)
        .follow(&app)
        .await;
    let number = |view: &Value| view["case_number"].as_str().unwrap().to_owned();
    let file = get(case_uri(squatted["id"].as_str().unwrap()))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(number(&file), "28079/2026/000001", "{file}");
    let diegos = get(case_uri(next["account_id"].as_str().unwrap()))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(number(&diegos), "28079/2026/000002", "{diegos}");
}

#[tokio::test]
async fn guesses_spread_over_many_windows_are_capped_per_day() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    // Ten a window (the window's limit) for five windows: fifty in eighty minutes.
    for _ in 0..5 {
        for _ in 0..10 {
            assert_unauthenticated(&login(&app, DIEGO, "guess").await);
        }
        app.clock.advance(Duration::minutes(16));
    }
    // A fresh window, but the day's fifty are spent: refused until the day is over.
    let throttled = login(&app, DIEGO, "guess").await;
    assert_problem(
        &throttled,
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-attempts",
    );
    let retry: i64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 22 * 3600, "retry after the day: {retry}");
    app.clock.advance(Duration::hours(23));
    assert_unauthenticated(&login(&app, DIEGO, "guess").await);
}
