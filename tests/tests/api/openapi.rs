//! The guarantees of the command pipeline, shown over the whole service by walking the OpenAPI
//! document: every operation that changes something is sent twice with the same
//! `Idempotency-Key` (the second appends nothing and answers the same), and every operation that
//! takes `If-Match` is sent with a stale one (412, nothing appended). An operation without a sample
//! request here fails the test, so a new command cannot skip the guarantees.
//!
//! Also: the document itself (a snapshot, so that drift shows in review; an example for every
//! request body; 401 on every secured operation; problem+json on every error).

use expedientes_api::notices::{process_outbox, MemorySender, OutgoingMessage};

use super::*;

const COUNCIL: &str = "/v1/councils/28079";
const PASSWORD: &str = "correcto-caballo-batería-grapa";

/// A valid DNI for a number (the check letter of the number modulo 23).
fn dni_for(n: u32) -> String {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let number = 10_000_000 + n;
    format!("{number:08}{}", LETTERS[(number % 23) as usize] as char)
}

/// A valid NIE (X…) for a number.
fn nie_for(n: u32) -> String {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let number = 1_000_000 + n;
    format!("X{number:07}{}", LETTERS[(number % 23) as usize] as char)
}

/// A request that an operation's check sends.
struct Sample {
    method: Method,
    uri: String,
    token: Option<String>,
    body: Option<Value>,
    /// A body that is not JSON (a document): its media type and bytes.
    raw: Option<(&'static str, Vec<u8>)>,
}

impl Sample {
    fn call(&self) -> Call {
        let mut call = call(self.method.clone(), self.uri.clone());
        if let Some(token) = &self.token {
            call = call.bearer(token);
        }
        if let Some(body) = &self.body {
            call = call.json(body);
        }
        if let Some((content_type, bytes)) = &self.raw {
            call = call.raw(content_type, bytes.clone());
        }
        call
    }
}

fn sample(method: Method, uri: impl Into<String>, token: Option<String>, body: Value) -> Sample {
    Sample {
        method,
        uri: uri.into(),
        token,
        body: Some(body),
        raw: None,
    }
}

async fn events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&app.state.pool)
        .await
        .expect("count events")
}

async fn send_notices(app: &TestApp, sender: &MemorySender) -> Vec<OutgoingMessage> {
    let before = sender.sent().len();
    process_outbox(&app.state, sender)
        .await
        .expect("the outbox is sent");
    sender.sent()[before..].to_vec()
}

/// The code (64 hex digits) or the PIN (6 digits) in the last message of a kind.
fn secret_in(messages: &[OutgoingMessage], kind: &str, length: usize) -> String {
    let message = messages
        .iter()
        .rev()
        .find(|m| m.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} message in {messages:?}"));
    message
        .body
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == length)
        .unwrap_or_else(|| panic!("no secret of {length} characters in the {kind} message"))
        .to_owned()
}

/// Files a general application as a citizen; returns its id.
async fn application(app: &TestApp, citizen: &str) -> String {
    let reply = post("/v1/general-applications")
        .bearer(&app.citizen(citizen))
        .json(&json!({"subject": "Poda de un árbol", "name": "Ana García"}))
        .send(app)
        .await
        .expect(StatusCode::CREATED);
    id_of(&reply.json())
}

/// Asks to fix an application; returns nothing.
/// Asks the applicant to fix the file; the applicant opens the request, so its period runs.
async fn rectification_requested(app: &TestApp, id: &str) {
    ask_to_fix(app, id, "Falta la fotografía").await;
}

/// Registers a person in person (by a caseworker); returns the account's id.
async fn account_in_person(app: &TestApp, document: &str) -> String {
    let reply = post(format!("{COUNCIL}/accounts"))
        .bearer(&app.caseworker())
        .json(&registration("in_person", document))
        .send(app)
        .await
        .expect(StatusCode::CREATED);
    id_of(&reply.json())
}

fn registration(channel: &str, document: &str) -> Value {
    json!({
        "channel": channel,
        "person": "natural",
        "name": "Ana García",
        "birth_date": "1980-05-01",
        "nationality": "spanish",
        "document": {"kind": "dni", "number": document},
        "mobile": "+34600111222",
        "email": "ana@example.es",
        "address": "Calle Mayor 1, 28013 Madrid",
    })
}

/// An active account with [`PASSWORD`]; returns its id.
async fn active_account(app: &TestApp, sender: &MemorySender, document: &str) -> String {
    let id = account_in_person(app, document).await;
    post(format!("/v1/accounts/{id}/key-resets"))
        .bearer(&app.caseworker())
        .send(app)
        .await
        .expect(StatusCode::OK);
    let code = secret_in(&send_notices(app, sender).await, "activation_link", 64);
    post(format!("{COUNCIL}/accounts/activation"))
        .json(&json!({"token": code, "password": PASSWORD}))
        .send(app)
        .await
        .expect(StatusCode::OK);
    id
}

fn inscription_body(document: &str, dwelling: &str) -> Value {
    json!({
        "name": "Bilal Haddad",
        "birth_date": "1990-01-01",
        "nationality": "non_eu",
        "residence": "non_eu_temporary",
        "document": {"kind": "residence_card", "number": document},
        "dwelling_key": dwelling,
        "address": "Calle de Toledo 10, 2º B, 28005 Madrid",
        "actor": {"kind": "themselves"},
    })
}

/// A person's request to remove someone from the dwelling the samples inscribe people at.
fn removal_request_body() -> Value {
    json!({"name": "Ana García", "person": {"name": "Bilal Haddad"},
        "address": "Calle de Toledo 10, 2º B, 28005 Madrid", "whereabouts": "vive en Getafe",
        "declares_true": true})
}

/// Inscribes a person; returns the inscription's id.
async fn inscribed(app: &TestApp, document: &str) -> String {
    let reply = post("/v1/padron/inscriptions")
        .bearer(&app.caseworker())
        .json(&inscription_body(document, "9872023VK4797S0001WX"))
        .send(app)
        .await
        .expect(StatusCode::CREATED);
    id_of(&reply.json())
}

/// Opens a removal file ex officio against an inscription; returns the file's id.
async fn removal_file(app: &TestApp, inscription: &str) -> String {
    let reply = post("/v1/padron/removal-files")
        .bearer(&app.caseworker())
        .json(&json!({"inscription_id": inscription, "reason": "la policía informa de que no vive allí"}))
        .send(app)
        .await
        .expect(StatusCode::CREATED);
    id_of(&reply.json())
}

/// Opens a removal file whose person's whereabouts are unknown (notified by edict at once);
/// returns the file's id.
async fn open_for_edict(app: &TestApp) -> String {
    let inscription = inscribed(app, &nie_for(3)).await;
    let reply = post("/v1/padron/removal-files")
        .bearer(&app.caseworker())
        .json(&json!({"inscription_id": inscription, "reason": "no vive allí", "notify_by": "edict_address_unknown"}))
        .send(app)
        .await
        .expect(StatusCode::CREATED);
    id_of(&reply.json())
}

/// Builds, in `app`, what an operation needs, and returns the request that carries it out.
async fn prepare(app: &TestApp, sender: &MemorySender, operation: &str) -> Option<Sample> {
    let cw = || Some(app.caseworker());
    let ana = dni_for(1);
    Some(match operation {
        // The general application.
        "submit" => sample(
            Method::POST,
            "/v1/general-applications",
            Some(app.citizen(&ana)),
            json!({"subject": "Poda de un árbol", "name": "Ana García"}),
        ),
        "request_rectification" => {
            let id = application(app, &ana).await;
            sample(
                Method::POST,
                format!("/v1/cases/{id}/rectification-requests"),
                cw(),
                json!({"what": "Falta la fotografía"}),
            )
        }
        "extend_rectification" => {
            let id = application(app, &ana).await;
            rectification_requested(app, &id).await;
            sample(
                Method::POST,
                format!("/v1/cases/{id}/rectification-extensions"),
                cw(),
                json!({}),
            )
        }
        "rectify" => {
            let id = application(app, &ana).await;
            rectification_requested(app, &id).await;
            sample(
                Method::POST,
                format!("/v1/cases/{id}/rectifications"),
                Some(app.citizen(&ana)),
                json!({"note": "Adjunto la fotografía"}),
            )
        }
        "resolve" => {
            let id = application(app, &ana).await;
            sample(
                Method::POST,
                format!("/v1/cases/{id}/resolutions"),
                cw(),
                json!({"decision": "granted", "grounds": "Procede"}),
            )
        }
        "withdraw" => {
            let id = application(app, &ana).await;
            sample(
                Method::POST,
                format!("/v1/cases/{id}/withdrawals"),
                Some(app.citizen(&ana)),
                json!({}),
            )
        }
        // Representation.
        "grant_representation" => sample(
            Method::POST,
            "/v1/representations",
            cw(),
            json!({"means": "apud_acta_in_person",
                   "principal": {"document": ana, "name": "Ana García"},
                   "representative": {"document": dni_for(2), "name": "Luis Pérez"},
                   "valid_until": "2027-12-31"}),
        ),
        "revoke_representation" => {
            let id = represent(app, &ana, &dni_for(2)).await;
            sample(
                Method::POST,
                format!("/v1/representations/{id}/revocations"),
                Some(app.citizen(&ana)),
                json!({"reason": "Ya no gestiona mis asuntos"}),
            )
        }
        // The calendar.
        "publish_year" => sample(
            Method::PUT,
            "/v1/calendars/2027",
            Some(app.token(Role::Admin, MADRID, "admin-0001")),
            json!({"source": "BOE-A-2025-21667", "calendar": {"year": 2027, "official": true,
                "national": ["2027-01-01", "2027-01-06", "2027-03-26", "2027-05-01",
                             "2027-10-12", "2027-11-01", "2027-12-06", "2027-12-08", "2027-12-25"]}}),
        ),
        "set_local_days" => sample(
            Method::PUT,
            "/v1/calendars/2026/municipalities/28079",
            Some(app.token(Role::Admin, MADRID, "admin-0001")),
            json!({"source": "BOCM-20251030-1", "days": ["2026-05-15", "2026-11-09"]}),
        ),
        // Alta de usuario.
        "register" => sample(
            Method::POST,
            format!("{COUNCIL}/accounts"),
            None,
            registration("online_without_certificate", &ana),
        ),
        "activate" => {
            let id = account_in_person(app, &ana).await;
            post(format!("/v1/accounts/{id}/key-resets"))
                .bearer(&app.caseworker())
                .send(app)
                .await
                .expect(StatusCode::OK);
            let code = secret_in(&send_notices(app, sender).await, "activation_link", 64);
            sample(
                Method::POST,
                format!("{COUNCIL}/accounts/activation"),
                None,
                json!({"token": code, "password": PASSWORD}),
            )
        }
        "login" => {
            active_account(app, sender, &ana).await;
            sample(
                Method::POST,
                format!("{COUNCIL}/sessions"),
                None,
                json!({"document": ana, "password": PASSWORD}),
            )
        }
        "recover" => {
            active_account(app, sender, &ana).await;
            sample(
                Method::POST,
                format!("{COUNCIL}/accounts/recovery"),
                None,
                json!({"document": ana}),
            )
        }
        "verify_identity" => {
            let reply = post(format!("{COUNCIL}/accounts"))
                .json(&registration("online_without_certificate", &ana))
                .send(app)
                .await
                .expect(StatusCode::CREATED);
            let id = id_of(&reply.json());
            sample(
                Method::POST,
                format!("/v1/accounts/{id}/identity-verifications"),
                cw(),
                json!({"method": "phone_control_questions"}),
            )
        }
        "reset_key" => {
            let id = account_in_person(app, &ana).await;
            sample(
                Method::POST,
                format!("/v1/accounts/{id}/key-resets"),
                cw(),
                json!({}),
            )
        }
        "unlock" => {
            let id = active_account(app, sender, &ana).await;
            for _ in 0..3 {
                post(format!("{COUNCIL}/sessions"))
                    .json(&json!({"document": ana, "password": "una-contraseña-equivocada"}))
                    .send(app)
                    .await;
            }
            sample(
                Method::POST,
                format!("/v1/accounts/{id}/unlocks"),
                cw(),
                json!({}),
            )
        }
        "change_contact" => {
            let id = account_in_person(app, &ana).await;
            sample(
                Method::PUT,
                format!("/v1/accounts/{id}/contact"),
                cw(),
                json!({"mobile": "+34600333444", "email": "ana.garcia@example.es",
                       "address": "Calle Mayor 5, 28013 Madrid"}),
            )
        }
        "verify_mobile" => {
            let id = active_account(app, sender, &ana).await;
            sample(
                Method::POST,
                format!("/v1/accounts/{id}/mobile-verifications"),
                cw(),
                json!({}),
            )
        }
        "request_pin" => {
            let id = active_account(app, sender, &ana).await;
            post(format!("/v1/accounts/{id}/mobile-verifications"))
                .bearer(&app.caseworker())
                .send(app)
                .await
                .expect(StatusCode::OK);
            sample(
                Method::POST,
                format!("{COUNCIL}/sessions/pin-requests"),
                None,
                json!({"document": ana}),
            )
        }
        "login_with_pin" => {
            let id = active_account(app, sender, &ana).await;
            post(format!("/v1/accounts/{id}/mobile-verifications"))
                .bearer(&app.caseworker())
                .send(app)
                .await
                .expect(StatusCode::OK);
            post(format!("{COUNCIL}/sessions/pin-requests"))
                .json(&json!({"document": ana}))
                .send(app)
                .await
                .expect(StatusCode::ACCEPTED);
            let pin = secret_in(&send_notices(app, sender).await, "login_pin", 6);
            sample(
                Method::POST,
                format!("{COUNCIL}/sessions/pin"),
                None,
                json!({"document": ana, "pin": pin}),
            )
        }
        // The padrón.
        "inscribe" => sample(
            Method::POST,
            "/v1/padron/inscriptions",
            cw(),
            inscription_body(&nie_for(1), "9872023VK4797S0001WX"),
        ),
        "renew" => {
            let id = inscribed(app, &nie_for(1)).await;
            sample(
                Method::POST,
                format!("/v1/padron/inscriptions/{id}/renewals"),
                cw(),
                json!({"document": {"kind": "residence_card", "number": nie_for(1)},
                       "actor": {"kind": "themselves"}}),
            )
        }
        "change_address" => {
            let id = inscribed(app, &nie_for(1)).await;
            sample(
                Method::POST,
                format!("/v1/padron/inscriptions/{id}/address-changes"),
                cw(),
                json!({"dwelling_key": "9872023VK4797S0002YZ", "address": "Calle de Atocha 3",
                       "actor": {"kind": "themselves"}}),
            )
        }
        "resolve_lapse" => {
            // Inscribed two years and a day ago, not renewed: the expiry timer proposes the lapse.
            let now = app.clock_now();
            app.clock.set(now - Duration::days(2 * 365 + 30));
            let id = inscribed(app, &nie_for(1)).await;
            app.clock.set(now);
            app.state
                .runner
                .settle(StdDuration::from_secs(20))
                .await
                .expect("settle");
            app.state.scheduler.run_once().await.expect("timers fire");
            app.state
                .runner
                .settle(StdDuration::from_secs(20))
                .await
                .expect("settle");
            sample(
                Method::POST,
                format!("/v1/padron/inscriptions/{id}/lapse-resolutions"),
                cw(),
                json!({"grounds": "No ha renovado en plazo"}),
            )
        }
        "modify_personal_data" => {
            let id = inscribed(app, &nie_for(1)).await;
            sample(
                Method::POST,
                format!("/v1/padron/inscriptions/{id}/personal-data"),
                cw(),
                json!({"name": "Bilal Haddad Amrani",
                       "document": {"kind": "residence_card", "number": nie_for(1)},
                       "actor": {"kind": "themselves"}}),
            )
        }
        "confirm_residence" => {
            let mut body = inscription_body(&nie_for(1), "9872023VK4797S0001WX");
            body["residence"] = json!("non_eu_permanent");
            let reply = post("/v1/padron/inscriptions")
                .bearer(&app.caseworker())
                .json(&body)
                .send(app)
                .await
                .expect(StatusCode::CREATED);
            let id = id_of(&reply.json());
            sample(
                Method::POST,
                format!("/v1/padron/inscriptions/{id}/residence-confirmations"),
                cw(),
                json!({"kind": "themselves"}),
            )
        }
        "remove" => {
            let id = inscribed(app, &nie_for(1)).await;
            let today = local_date(app.clock_now()).to_string();
            sample(
                Method::POST,
                format!("/v1/padron/inscriptions/{id}/removals"),
                cw(),
                json!({"cause": "change_of_residence", "effective_on": today}),
            )
        }
        "add_document" => {
            let id = id_of(
                &post("/v1/general-applications")
                    .bearer(&app.citizen(&ana))
                    .json(&json!({"subject": "Poda de un árbol", "name": "Ana García"}))
                    .send(app)
                    .await
                    .expect(StatusCode::CREATED)
                    .json(),
            );
            Sample {
                method: Method::POST,
                uri: format!("/v1/cases/{id}/documents?name=plano.pdf"),
                token: Some(app.citizen(&ana)),
                body: None,
                raw: Some(("application/pdf", b"%PDF-1.7\nplano\n%%EOF\n".to_vec())),
            }
        }
        "correct_case" => {
            let id = application(app, &ana).await;
            rectification_requested(app, &id).await;
            // A caseworker records a paper fix (version 4) on the wrong file.
            post(format!("/v1/cases/{id}/rectifications"))
                .bearer(&app.caseworker())
                .json(&json!({"note": "Subsanación en papel"}))
                .send(app)
                .await
                .expect(StatusCode::OK);
            sample(
                Method::POST,
                format!("/v1/cases/{id}/corrections"),
                cw(),
                json!({"corrects_version": 4, "reason": "La subsanación era de otra solicitud"}),
            )
        }
        "correct_inscription" => {
            let id = inscribed(app, &nie_for(1)).await;
            let today = local_date(app.clock_now()).to_string();
            post(format!("/v1/padron/inscriptions/{id}/removals"))
                .bearer(&app.caseworker())
                .json(&json!({"cause": "death", "effective_on": today}))
                .send(app)
                .await
                .expect(StatusCode::OK);
            sample(
                Method::POST,
                format!("/v1/padron/inscriptions/{id}/corrections"),
                cw(),
                json!({"corrects_version": 2, "reason": "La defunción era de otra persona"}),
            )
        }
        "submit_removal_request" => sample(
            Method::POST,
            "/v1/padron/removal-requests",
            Some(app.citizen(&ana)),
            removal_request_body(),
        ),
        "open_file_from_request" | "decline_removal_request" => {
            let inscription = inscribed(app, &nie_for(1)).await;
            let reply = post("/v1/padron/removal-requests")
                .bearer(&app.citizen(&ana))
                .json(&removal_request_body())
                .send(app)
                .await
                .expect(StatusCode::CREATED);
            let request = id_of(&reply.json());
            if operation == "open_file_from_request" {
                sample(
                    Method::POST,
                    format!("/v1/padron/removal-requests/{request}/file"),
                    cw(),
                    json!({"inscription_id": inscription}),
                )
            } else {
                sample(
                    Method::POST,
                    format!("/v1/padron/removal-requests/{request}/refusal"),
                    cw(),
                    json!({"grounds": "Tras las comprobaciones oportunas, no procede iniciar el expediente."}),
                )
            }
        }
        "issue_certificate" => {
            let id = inscribed(app, &nie_for(1)).await;
            sample(
                Method::POST,
                format!("/v1/padron/inscriptions/{id}/certificates"),
                cw(),
                json!({"kind": "volante", "scope": "individual"}),
            )
        }
        "change_residence_status" => {
            let id = inscribed(app, &nie_for(1)).await;
            sample(
                Method::POST,
                format!("/v1/padron/inscriptions/{id}/residence-status"),
                cw(),
                json!({"residence": "non_eu_permanent", "evidence": "Tarjeta de larga duración"}),
            )
        }
        "open_file" => {
            let id = inscribed(app, &nie_for(1)).await;
            sample(
                Method::POST,
                "/v1/padron/removal-files",
                cw(),
                json!({"inscription_id": id, "reason": "la policía informa de que no vive allí"}),
            )
        }
        "file_step" => {
            let inscription = inscribed(app, &nie_for(1)).await;
            let file = removal_file(app, &inscription).await;
            deliver_on_paper(app, &file, "opening").await;
            sample(
                Method::POST,
                format!("/v1/padron/removal-files/{file}/steps"),
                cw(),
                json!({"step": "agreement"}),
            )
        }
        // Notifications (of a removal file's opening).
        "dispatch_notification" | "record_delivery_attempt" | "publish_edict" => {
            let inscription = inscribed(app, &nie_for(1)).await;
            let file = removal_file(app, &inscription).await;
            let letter = id_of(&notification_of(app, &file, "opening").await);
            let today = local_date(app.clock_now()).to_string();
            match operation {
                "dispatch_notification" => sample(
                    Method::POST,
                    format!("/v1/notifications/{letter}/dispatch"),
                    cw(),
                    json!({"on": today}),
                ),
                "record_delivery_attempt" => {
                    post(format!("/v1/notifications/{letter}/dispatch"))
                        .bearer(&app.caseworker())
                        .send(app)
                        .await
                        .expect(StatusCode::OK);
                    sample(
                        Method::POST,
                        format!("/v1/notifications/{letter}/delivery-attempts"),
                        cw(),
                        json!({"at": local_moment(app.clock_now()), "result": "absent"}),
                    )
                }
                _ => {
                    let file = open_for_edict(app).await;
                    let edict = id_of(&notification_of(app, &file, "opening").await);
                    sample(
                        Method::POST,
                        format!("/v1/notifications/{edict}/edict"),
                        cw(),
                        json!({"on": today, "reference": "BOE-B-2026-1"}),
                    )
                }
            }
        }
        "access_notification" => {
            let inscription = inscribed(app, &nie_for(2)).await;
            let reply = post("/v1/padron/removal-files")
                .bearer(&app.caseworker())
                .json(&json!({"inscription_id": inscription, "reason": "no vive allí", "notify_by": "electronic"}))
                .send(app)
                .await
                .expect(StatusCode::CREATED);
            let file = id_of(&reply.json());
            let id = id_of(&notification_of(app, &file, "opening").await);
            sample(
                Method::POST,
                format!("/v1/notifications/{id}/access"),
                Some(app.citizen(&nie_for(2))),
                json!({}),
            )
        }
        _ => return None,
    })
}

/// The operations that change something, with whether they take `If-Match`.
fn commands(document: &Value) -> Vec<(String, String, bool)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in ["post", "put", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
                .to_owned();
            let if_match = operation["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "If-Match"));
            found.push((id, format!("{} {path}", method.to_uppercase()), if_match));
        }
    }
    found
}

/// The answer without what a replay may change: the `replayed` flag, and a session's fresh token.
fn comparable(body: &[u8]) -> Value {
    let mut value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.remove("replayed");
        object.remove("token");
    }
    value
}

async fn served_document() -> Value {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    get("/openapi.json").send(&app).await.ok_json()
}

#[tokio::test]
async fn every_command_of_every_procedure_is_idempotent_and_conditional() {
    let document = served_document().await;
    let commands = commands(&document);
    assert!(commands.len() >= 28, "the commands: {commands:?}");
    let mut missing = Vec::new();
    for (operation, route, if_match) in &commands {
        // Twice with the same key: the second appends nothing and answers the same.
        let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
        let sender = MemorySender::default();
        let Some(sample) = prepare(&app, &sender, operation).await else {
            missing.push(route.clone());
            continue;
        };
        let key = format!("clave-{operation}");
        let first = sample
            .call()
            .header("idempotency-key", &key)
            .send(&app)
            .await;
        assert!(
            first.status.is_success(),
            "{route}: the sample request succeeds: {} {}",
            first.status,
            first.text()
        );
        assert_ne!(
            first.header("idempotent-replayed"),
            Some("true"),
            "{route}: the first answer is not a replay"
        );
        let after_first = events(&app).await;
        let second = sample
            .call()
            .header("idempotency-key", &key)
            .send(&app)
            .await;
        assert_eq!(
            second.status,
            first.status,
            "{route}: a retry answers the same status: {}",
            second.text()
        );
        assert_eq!(
            second.header("idempotent-replayed"),
            Some("true"),
            "{route}: a retry says it is one"
        );
        assert_eq!(
            comparable(&second.body),
            comparable(&first.body),
            "{route}: a retry answers the same"
        );
        assert_eq!(
            second.header("etag"),
            first.header("etag"),
            "{route}: a retry answers the same ETag"
        );
        assert_eq!(
            events(&app).await,
            after_first,
            "{route}: a retry appends nothing"
        );

        // A stale If-Match: 412, nothing appended.
        if *if_match {
            let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
            let sender = MemorySender::default();
            let sample = prepare(&app, &sender, operation)
                .await
                .expect("prepared above");
            let before = events(&app).await;
            let stale = sample.call().header("if-match", "\"999\"").send(&app).await;
            let problem =
                assert_problem(&stale, StatusCode::PRECONDITION_FAILED, "version-mismatch");
            assert!(
                problem["current_version"]
                    .as_i64()
                    .is_some_and(|v| v != 999),
                "{route}: the 412 tells the current version: {problem}"
            );
            assert_eq!(
                events(&app).await,
                before,
                "{route}: a stale If-Match appends nothing"
            );
        }
    }
    assert!(
        missing.is_empty(),
        "commands without a sample request in tests/tests/api/openapi.rs: {missing:?}"
    );
}

#[tokio::test]
async fn every_command_on_an_existing_resource_takes_if_match() {
    let document = served_document().await;
    for (_, route, if_match) in commands(&document) {
        if route.contains("{id}") || route.starts_with("PUT ") {
            assert!(if_match, "{route} declares If-Match");
        }
    }
}

/// Resolves a `$ref` to a component schema.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .rsplit('/')
                .next()
                .expect("a reference names a schema");
            &document["components"]["schemas"][name]
        }
        None => schema,
    }
}

#[tokio::test]
async fn the_openapi_document_is_complete_and_stable() {
    let document = served_document().await;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let route = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"].as_object().expect("responses");
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.trim().is_empty()),
                    "{route} {status} has a description"
                );
                if status.starts_with('4') || (status.starts_with('5') && path != "/ready") {
                    assert!(
                        response["content"]
                            .get("application/problem+json")
                            .is_some(),
                        "{route} {status} is a problem: {response}"
                    );
                    assert!(
                        response["content"].get("application/json").is_none(),
                        "{route} {status} is not declared as plain JSON"
                    );
                }
            }
            if operation.get("security").is_some() {
                assert!(responses.contains_key("401"), "{route} declares 401");
            }
            // A JSON body has an example; a document's body is bytes of the declared types.
            if let Some(body) = operation
                .get("requestBody")
                .filter(|b| b["content"].get("application/json").is_some())
            {
                let schema = &body["content"]["application/json"]["schema"];
                let schema = match schema.get("oneOf") {
                    Some(alternatives) => alternatives
                        .as_array()
                        .and_then(|a| a.iter().find(|s| s.get("$ref").is_some()))
                        .expect("an optional body names its schema"),
                    None => schema,
                };
                let resolved = resolve(&document, schema);
                assert!(
                    resolved.get("example").is_some()
                        || body["content"]["application/json"].get("example").is_some(),
                    "{route}'s request body has an example: {resolved}"
                );
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] == "path" {
                    let name = parameter["name"].as_str().unwrap_or_default();
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{route}: {name} is a query parameter declared in the path"
                    );
                }
            }
        }
    }
    // Drift shows in review: the document is kept in tests/tests/api/snapshots/.
    insta::assert_json_snapshot!("openapi", document);
}
