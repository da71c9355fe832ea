//! End-to-end tests of the HTTP API.
//!
//! Each test builds the application the way production does (`connect` with the runtime role,
//! `build_state`, `router`) over its own freshly migrated database, with a [`ManualClock`] that
//! the test drives forward (nothing sleeps to let time pass), and sends requests through the whole
//! router in-process with `tower::ServiceExt::oneshot`: authentication, extractors, problem
//! details, middleware, the event log and the read models all take part.
//!
//! Layout:
//! - helpers: the app under test, a request builder, replies, the problem-details assertion and a
//!   few domain shortcuts (file an application, ask to fix it, the legal calendar);
//! - one test per concern, in numbered sections: who may see what (citizens, auditors, tenants),
//!   authentication, malformed requests, the general application's whole life,
//!   `ETag`/`If-Match`/`If-None-Match`, `Idempotency-Key`, concurrency (retries racing their first
//!   attempt, more clients than pool connections, reading one's own write while other transactions
//!   run), the caseworkers' list, domain refusals, operations, deadlines, audit;
//! - further suites (user accounts, timers) live in `api/*.rs`, modules of this binary declared at
//!   the end of this file, which share these helpers.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, TimeZone, Utc};
use expedientes_api::auth::{Assurance, Claims, Keys, Role, AUDIENCE, ISSUER};
use expedientes_api::config::Config;
use expedientes_api::AppState;
use expedientes_domain::calendar::{DeadlineRequest, HolidayCalendar, Unit};
use expedientes_domain::MunicipalityCode;
use expedientes_projections::ManualClock;
use expedientes_tests::TestDatabase;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// The application under test
// ---------------------------------------------------------------------------------------------

/// The key every test's service signs its tokens with.
const SIGNING_KEY: &[u8] = b"the-end-to-end-tests-signing-key-0123456789";
/// Madrid: the tenant most tests act in.
const MADRID: &str = "28079";
/// Leganés: the other tenant.
const LEGANES: &str = "28074";
/// Citizens (valid document numbers).
const ANA: &str = "12345678Z";
const BORIS: &str = "X1234567L";
const CARMEN: &str = "Y1234567X";
const DIEGO: &str = "00000000T";
const ELENA: &str = "87654321X";

/// The SIA code each procedure is configured with in the tests.
const SIA_CODES: &[(&str, &str)] = &[
    ("general_application", "999999"),
    ("user_account", "999998"),
    ("padron_inscription", "999997"),
    ("padron_removal_file", "999996"),
];

/// The service over a private database, with a clock the test drives.
#[derive(Debug)]
struct TestApp {
    db: TestDatabase,
    state: AppState,
    clock: ManualClock,
    router: Router,
}

impl TestApp {
    /// Builds the service as production does, with the clock stopped at `now`.
    async fn start(now: DateTime<Utc>) -> Self {
        let db = TestDatabase::create(&expedientes_eventlog::MIGRATOR).await;
        let pool = expedientes_api::connect(&db.url, true, 8)
            .await
            .expect("connect as the runtime role");
        let mut config = Config::defaults(&db.url, SIGNING_KEY);
        config.addr = "127.0.0.1:0".parse().expect("an address");
        config.council_notices_email = "registro@ayuntamiento.test".into();
        // Each procedure its own SIA code, so that a file showing another's is caught.
        for (procedure, code) in SIA_CODES {
            config
                .sia_codes
                .insert((*procedure).to_owned(), code.parse().expect("a SIA code"));
        }
        let clock = ManualClock::new(now);
        let state = expedientes_api::build_state(pool, config, Arc::new(clock.clone()));
        let router = expedientes_api::router(state.clone());
        Self {
            db,
            state,
            clock,
            router,
        }
    }

    /// A second instance of the service over the same database (as when a load balancer sends
    /// two copies of a request to two processes): it shares the database, nothing in memory.
    async fn another_instance(&self) -> Router {
        let pool = expedientes_api::connect(&self.db.url, true, 8)
            .await
            .expect("connect as the runtime role");
        let config = (*self.state.config).clone();
        let state = expedientes_api::build_state(pool, config, Arc::new(self.clock.clone()));
        expedientes_api::router(state)
    }

    /// A token signed with the service's key, valid for an hour.
    fn token(&self, role: Role, tenant: &str, subject: &str) -> String {
        let tenant: MunicipalityCode = tenant.parse().expect("an INE code");
        self.state
            .keys
            .mint(role, &tenant, subject, Assurance::Substantial, 3600)
    }

    /// A citizen of Madrid.
    fn citizen(&self, document: &str) -> String {
        self.token(Role::Citizen, MADRID, document)
    }

    /// A caseworker of Madrid.
    fn caseworker(&self) -> String {
        self.token(Role::Caseworker, MADRID, "funcionaria-0042")
    }

    /// An auditor of Madrid.
    fn auditor(&self) -> String {
        self.token(Role::Auditor, MADRID, "interventor-0007")
    }

    /// The driven clock's time.
    fn clock_now(&self) -> DateTime<Utc> {
        expedientes_projections::Clock::now(&self.clock)
    }
}

/// A UTC instant.
fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, 0)
        .single()
        .expect("a valid instant")
}

/// A date.
fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

/// The local (Madrid) date of an instant.
fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::Madrid).date_naive()
}

/// `amount` business days after a notification on `from` at Madrid's seat, by the legal calendar.
fn business_days_after(from: NaiveDate, amount: u32) -> NaiveDate {
    HolidayCalendar::bundled()
        .compute(&DeadlineRequest {
            from,
            at: None,
            amount,
            unit: Unit::BusinessDays,
            seat: Some(MADRID.to_owned()),
            residence: None,
        })
        .expect("the calendar computes the deadline")
        .due_date
}

/// An instant as a query parameter (RFC 3339, UTC, no `+` to escape).
fn query_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

// ---------------------------------------------------------------------------------------------
// Requests and replies
// ---------------------------------------------------------------------------------------------

/// A request being built.
#[derive(Debug)]
struct Call {
    method: Method,
    uri: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn call(method: Method, uri: impl Into<String>) -> Call {
    Call {
        method,
        uri: uri.into(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn get(uri: impl Into<String>) -> Call {
    call(Method::GET, uri)
}

fn post(uri: impl Into<String>) -> Call {
    call(Method::POST, uri)
}

impl Call {
    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// A body with this content type.
    fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.header("content-type", content_type)
    }

    /// A JSON body.
    fn json(self, body: &Value) -> Self {
        self.raw(
            "application/json",
            serde_json::to_vec(body).expect("JSON serialises"),
        )
    }

    /// Sends it through the whole router.
    async fn send(self, app: &TestApp) -> Reply {
        self.send_to(app.router.clone()).await
    }

    /// Sends it through this router (for requests sent from another task).
    async fn send_to(self, router: Router) -> Reply {
        let mut builder = Request::builder().method(self.method).uri(&self.uri);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Body::from(self.body))
            .expect("a valid request");
        let response = router
            .oneshot(request)
            .await
            .expect("the router does not fail");
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .expect("the body can be read")
            .to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status (showing the body when it differs) and returns the reply.
    #[track_caller]
    fn expect(self, status: StatusCode) -> Self {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }

    /// Asserts a 200 and returns the JSON body.
    #[track_caller]
    fn ok_json(self) -> Value {
        self.expect(StatusCode::OK).json()
    }

    /// A command's answer names what it acted on (`Location`): reads it, as a caseworker of
    /// Madrid, and returns it.
    async fn follow(self, app: &TestApp) -> Value {
        assert!(
            self.status.is_success(),
            "unexpected status; body: {}",
            self.text()
        );
        let location = self
            .header("location")
            .unwrap_or_else(|| panic!("a command's answer has a Location: {}", self.text()))
            .to_owned();
        get(location)
            .bearer(&app.caseworker())
            .send(app)
            .await
            .ok_json()
    }
}

/// Asserts an RFC 9457 problem: the status, `application/problem+json`, `type`
/// `/problems/<slug>`, `status`, a non-empty `detail` and the request id as `instance`. Returns the
/// body for further checks.
#[track_caller]
fn assert_problem(reply: &Reply, status: StatusCode, slug: &str) -> Value {
    assert_eq!(
        reply.status,
        status,
        "unexpected status; body: {}",
        reply.text()
    );
    let content_type = reply.header("content-type").unwrap_or("");
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type:?} of a {status} problem; body: {}",
        reply.text()
    );
    let problem = reply.json();
    assert_eq!(
        problem["type"],
        format!("/problems/{slug}"),
        "type: {problem}"
    );
    assert_eq!(problem["status"], status.as_u16(), "status: {problem}");
    assert!(
        problem["title"].as_str().is_some_and(|t| !t.is_empty()),
        "title: {problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty()),
        "a problem says what happened: {problem}"
    );
    assert!(
        problem["instance"]
            .as_str()
            .is_some_and(|i| i.starts_with("urn:request:") && i.len() > "urn:request:".len()),
        "a problem names its request: {problem}"
    );
    problem
}

/// Asserts a 401 problem with the challenge.
#[track_caller]
fn assert_unauthenticated(reply: &Reply) -> Value {
    let problem = assert_problem(reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer"),
        "a 401 carries the challenge"
    );
    problem
}

/// The fields named by a validation problem.
fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Domain shortcuts
// ---------------------------------------------------------------------------------------------

fn case_uri(id: &str) -> String {
    format!("/v1/cases/{id}")
}

fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// A citizen files a general application for themselves; returns the new file's id.
async fn submit_own(app: &TestApp, token: &str, subject: &str, name: &str) -> String {
    let reply = post("/v1/general-applications")
        .bearer(token)
        .json(&json!({"subject": subject, "body": "Solicito lo indicado.", "name": name}))
        .send(app)
        .await
        .expect(StatusCode::CREATED);
    id_of(&reply.json())
}

/// A caseworker of `tenant` registers a paper application for `applicant`; returns its id.
async fn register_in(app: &TestApp, tenant: &str, applicant: &str, subject: &str) -> String {
    let token = app.token(Role::Caseworker, tenant, "funcionario-registro");
    let reply = post("/v1/general-applications")
        .bearer(&token)
        .json(&json!({
            "subject": subject,
            "applicant": {"document": applicant, "name": "Persona Solicitante"},
        }))
        .send(app)
        .await
        .expect(StatusCode::CREATED);
    id_of(&reply.json())
}

/// A Madrid caseworker registers a paper application for `applicant`; returns its id.
async fn register(app: &TestApp, applicant: &str, subject: &str) -> String {
    register_in(app, MADRID, applicant, subject).await
}

/// A Madrid caseworker asks the applicant to fix the application; returns the command's answer.
async fn ask_to_fix(app: &TestApp, id: &str, what: &str) -> Value {
    post(format!("{}/rectification-requests", case_uri(id)))
        .bearer(&app.caseworker())
        .json(&json!({"what": what}))
        .send(app)
        .await
        .ok_json()
}

/// Reads a tenant's whole log through the audit API, `limit` events per page, until at least
/// `at_least` events are visible. The log shows only events of transactions older than every
/// transaction still running in the database cluster (other tests' included), so a just-committed
/// event may take a moment to appear; this waits for the database, not for the test's clock.
async fn audit_log(app: &TestApp, token: &str, limit: u32, at_least: usize) -> Vec<Value> {
    let mut attempts = 0;
    loop {
        let mut events = Vec::new();
        let mut after = 0_i64;
        loop {
            let page = get(format!("/v1/audit/events?after={after}&limit={limit}"))
                .bearer(token)
                .send(app)
                .await
                .ok_json();
            let batch = page["events"].as_array().expect("events").clone();
            if batch.is_empty() {
                assert!(
                    page.get("next_after").is_none_or(Value::is_null),
                    "an empty page has no next_after: {page}"
                );
                break;
            }
            assert!(
                batch.len() <= limit as usize,
                "a page holds at most `limit` events"
            );
            let last = batch.last().expect("not empty")["position"]
                .as_i64()
                .expect("a position");
            assert_eq!(
                page["next_after"], last,
                "next_after is the page's last position"
            );
            events.extend(batch);
            after = last;
        }
        attempts += 1;
        if events.len() >= at_least || attempts >= 200 {
            return events;
        }
        tokio::time::sleep(StdDuration::from_millis(25)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Citizens reach only their own files
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

    // A representative files for someone else; both see it in their folder.
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
// 2. Auditors read everything and write nothing; only auditors audit
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
// 3. Tenants are isolated
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
// 4. Authentication
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

// ---------------------------------------------------------------------------------------------
// 5. Malformed requests
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

// ---------------------------------------------------------------------------------------------
// 6. A general application's whole life, on the driven clock
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

    let reply = get(case_uri(&id)).bearer(&citizen).send(&app).await;
    assert_eq!(reply.header("etag"), Some("\"2\""));
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
    assert_eq!(fixed["version"], 3);
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
    assert_eq!(resolved["version"], 4);
    let case = get(case_uri(&id))
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["state"], "granted");
    assert_eq!(case["open"], false);
    assert!(case["closed_at"].is_string(), "{case}");
    assert_eq!(case["citizen_must_act"], false);
    assert_eq!(case["resolution_due"], Value::Null);
    assert_eq!(case["version"], 4);

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
    assert_eq!(versions, vec![1, 2, 3, 4]);
    let types: Vec<&str> = history
        .iter()
        .map(|e| e["event_type"].as_str().expect("event_type"))
        .collect();
    assert_eq!(
        types,
        vec![
            "submitted",
            "rectification_requested",
            "rectified",
            "resolved"
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
        vec!["citizen", "caseworker", "citizen", "caseworker"]
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
    assert_eq!(citizen_history.len(), 4);
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
    assert_eq!(past["state"], "awaiting_rectification", "{past}");
    assert_eq!(past["version"], 2);
    assert_eq!(past["citizen_must_act"], true);
    assert_eq!(past["citizen_action"]["due"], expected_due.to_string());
    let past = get(format!(
        "{}?as_of={}",
        case_uri(&id),
        query_time(recorded(3))
    ))
    .bearer(&caseworker)
    .send(&app)
    .await
    .ok_json();
    assert_eq!(past["state"], "submitted");
    assert_eq!(past["version"], 3);
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
// 7. ETag, If-Match, If-None-Match
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn commands_are_conditional_on_the_etag() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let caseworker = app.caseworker();
    let id = register(&app, ANA, "Poda").await;

    let reply = get(case_uri(&id)).bearer(&caseworker).send(&app).await;
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(reply.ok_json()["version"], 1);

    // A stale version: 412 with the current one; nothing written.
    for stale in ["\"0\"", "\"2\"", "W/\"7\""] {
        let reply = post(format!("{}/rectification-requests", case_uri(&id)))
            .bearer(&caseworker)
            .header("if-match", stale)
            .json(&json!({"what": "Falta el DNI"}))
            .send(&app)
            .await;
        let problem = assert_problem(&reply, StatusCode::PRECONDITION_FAILED, "version-mismatch");
        assert_eq!(problem["current_version"], 1, "{problem}");
    }
    let case = get(case_uri(&id))
        .bearer(&caseworker)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(case["version"], 1);
    assert_eq!(case["state"], "submitted");

    // The right one: done; the new ETag comes back.
    let reply = post(format!("{}/rectification-requests", case_uri(&id)))
        .bearer(&caseworker)
        .header("if-match", "\"1\"")
        .json(&json!({"what": "Falta el DNI"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.header("etag"), Some("\"2\""));
    assert_eq!(reply.json()["version"], 2);

    // The old ETag is stale now, and a weak form of the right one is accepted.
    let reply = post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&app.citizen(ANA))
        .header("if-match", "\"1\"")
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::PRECONDITION_FAILED, "version-mismatch");
    assert_eq!(problem["current_version"], 2);
    let reply = post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&app.citizen(ANA))
        .header("if-match", "W/\"2\"")
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert_eq!(reply.header("etag"), Some("\"3\""));

    // If-None-Match: 304 with the current ETag, the file with a stale one.
    let reply = get(case_uri(&id))
        .bearer(&caseworker)
        .header("if-none-match", "\"3\"")
        .send(&app)
        .await
        .expect(StatusCode::NOT_MODIFIED);
    assert_eq!(reply.header("etag"), Some("\"3\""));
    assert!(reply.body.is_empty(), "a 304 has no body");
    let reply = get(case_uri(&id))
        .bearer(&caseworker)
        .header("if-none-match", "\"2\"")
        .send(&app)
        .await;
    assert_eq!(reply.header("etag"), Some("\"3\""));
    assert_eq!(reply.ok_json()["version"], 3);
    // A conditional GET still hides other people's files.
    let reply = get(case_uri(&id))
        .bearer(&app.citizen(BORIS))
        .header("if-none-match", "\"3\"")
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
}

/// RFC 9110 §13.1.2: `If-None-Match` uses the weak comparison, may list several entity tags, and
/// `*` matches any current representation; each of these answers 304 on a GET.
#[tokio::test]
async fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let caseworker = app.caseworker();
    let id = register(&app, ANA, "Poda").await;
    for value in ["\"1\"", "W/\"1\"", "\"0\", \"1\"", "\"7\",W/\"1\"", "*"] {
        let reply = get(case_uri(&id))
            .bearer(&caseworker)
            .header("if-none-match", value)
            .send(&app)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_MODIFIED,
            "If-None-Match: {value}"
        );
    }
    let reply = get(case_uri(&id))
        .bearer(&caseworker)
        .header("if-none-match", "\"0\", W/\"2\"")
        .send(&app)
        .await;
    assert_eq!(reply.ok_json()["version"], 1);
}

// ---------------------------------------------------------------------------------------------
// 8. Idempotency-Key
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_retried_command_with_the_same_idempotency_key_is_done_once() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);
    let body = json!({"subject": "Poda de un árbol", "name": "Ana García"});
    let send = |key: &'static str, body: Value, token: String| {
        let app = &app;
        async move {
            post("/v1/general-applications")
                .bearer(&token)
                .header("idempotency-key", key)
                .json(&body)
                .send(app)
                .await
        }
    };

    let first = send("8c1f-solicitud-1", body.clone(), citizen.clone())
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first.header("idempotent-replayed"), None);
    let first_body = first.json();
    assert_eq!(first_body["replayed"], false);

    let second = send("8c1f-solicitud-1", body.clone(), citizen.clone()).await;
    assert!(
        second.status == StatusCode::OK || second.status == StatusCode::CREATED,
        "a replay answers the first result: {}",
        second.text()
    );
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.header("etag"), first.header("etag"));
    let second_body = second.json();
    assert_eq!(second_body["replayed"], true);
    assert_eq!(second_body["id"], first_body["id"]);
    assert_eq!(second_body["version"], first_body["version"]);
    assert_eq!(second_body["events"], first_body["events"]);
    let id = id_of(&first_body);

    // The log holds one event, and the caseworkers' list one file.
    let auditor = app.auditor();
    let events = audit_log(&app, &auditor, 100, 1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["stream_id"], id.as_str());
    let list = get("/v1/cases")
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(list["total"], 1);

    // The same key for a different request: 422, nothing written.
    let reply = send(
        "8c1f-solicitud-1",
        json!({"subject": "Otra cosa", "name": "Ana García"}),
        citizen.clone(),
    )
    .await;
    let problem = assert_problem(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
    );
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));

    // Keys are the caller's: another citizen's same key files another application.
    let others = send("8c1f-solicitud-1", body.clone(), app.citizen(BORIS))
        .await
        .expect(StatusCode::CREATED);
    assert_ne!(others.json()["id"], first_body["id"]);

    // Case commands too: a retried withdrawal is done once.
    let withdraw = || {
        post(format!("{}/withdrawals", case_uri(&id)))
            .bearer(&citizen)
            .header("idempotency-key", "retirada-1")
    };
    let first = withdraw().send(&app).await.ok_json();
    assert_eq!(first["version"], 2);
    assert_eq!(first["replayed"], false);
    let reply = withdraw().send(&app).await.expect(StatusCode::OK);
    assert_eq!(reply.header("idempotent-replayed"), Some("true"));
    let again = reply.json();
    assert_eq!(again["replayed"], true);
    assert_eq!(again["version"], 2);
    assert_eq!(again["events"], first["events"]);

    let events = audit_log(&app, &auditor, 100, 3).await;
    assert_eq!(events.len(), 3, "{events:?}");
    let mine: Vec<&Value> = events
        .iter()
        .filter(|e| e["stream_id"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 2, "one submission and one withdrawal");
}

// ---------------------------------------------------------------------------------------------
// 8b. Concurrency: retries racing their first attempt, many clients at once, read-your-writes
// ---------------------------------------------------------------------------------------------

/// Sends `requests` at once while the log refuses writes, lets them all reach their append, then
/// lets them through together: the interleaving of a client's retry racing its first attempt.
async fn race_appends(app: &TestApp, requests: Vec<Call>) -> Vec<Reply> {
    // Copies sent to one instance run one after the other (its in-process key lock); across
    // instances only the log can tell a retry from a first attempt: each copy goes to its own.
    let mut instances = vec![app.router.clone()];
    while instances.len() < requests.len() {
        instances.push(app.another_instance().await);
    }
    let owner = app.db.pool(2).await;
    let mut gate = owner.begin().await.expect("begin");
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
        .execute(&mut *gate)
        .await
        .expect("hold back appends (reads go on)");
    let expected = requests.len() as i64;
    let tasks: Vec<_> = requests
        .into_iter()
        .zip(instances)
        .map(|(request, router)| tokio::spawn(async move { request.send_to(router).await }))
        .collect();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks WHERE relation = 'events'::regclass AND NOT granted",
        )
        .fetch_one(&owner)
        .await
        .expect("pg_locks");
        if waiting >= expected || tasks.iter().any(|t| t.is_finished()) {
            eprintln!(
                "DEBUG waiting={waiting} finished={}",
                tasks.iter().filter(|t| t.is_finished()).count()
            );
            break;
        }
        tokio::task::yield_now().await;
    }
    gate.commit().await.expect("let the appends through");
    owner.close().await;
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("the request task"));
    }
    replies
}

/// Sends the requests at once, each from its own task, and returns the replies in order.
async fn concurrently(app: &TestApp, requests: Vec<Call>) -> Vec<Reply> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let router = app.router.clone();
            tokio::spawn(async move { request.send_to(router).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("the request task"));
    }
    replies
}

/// A client that retries while its first attempt is still being processed (a timeout, a double
/// click) must get the first result, as the documentation promises for any retry with the same
/// key. Here both copies reach the append before either commits.
#[tokio::test]
async fn retries_that_reach_the_log_together_get_the_first_result() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);
    let auditor = app.auditor();
    let submit = || {
        post("/v1/general-applications")
            .bearer(&citizen)
            .header("idempotency-key", "carrera-1")
            .json(&json!({"subject": "Reserva de espacio", "name": "Ana García"}))
    };

    let replies = race_appends(&app, vec![submit(), submit()]).await;
    for reply in &replies {
        assert!(
            reply.status.is_success(),
            "both copies of the submission get its result: {} {}",
            reply.status,
            reply.text()
        );
    }
    let bodies: Vec<Value> = replies.iter().map(Reply::json).collect();
    assert_eq!(bodies[0]["id"], bodies[1]["id"]);
    assert_eq!(bodies[0]["version"], bodies[1]["version"]);
    assert_eq!(
        bodies.iter().filter(|b| b["replayed"] == true).count(),
        1,
        "exactly one of them is the replay: {bodies:?}"
    );
    let id = id_of(&bodies[0]);
    assert_eq!(audit_log(&app, &auditor, 100, 1).await.len(), 1);

    // The same for a command on the file.
    let withdraw = || {
        post(format!("{}/withdrawals", case_uri(&id)))
            .bearer(&citizen)
            .header("idempotency-key", "retirada-carrera")
    };
    let replies = race_appends(&app, vec![withdraw(), withdraw()]).await;
    for reply in &replies {
        assert!(
            reply.status.is_success(),
            "both copies of the withdrawal get its result: {} {}",
            reply.status,
            reply.text()
        );
        assert_eq!(reply.json()["version"], 2);
    }
    assert_eq!(audit_log(&app, &auditor, 100, 2).await.len(), 2);
}

/// The same as above when the copies arrive a moment apart, so that one copy looks for an earlier
/// result before the first copy has committed, and reads the file after it has: it must still get
/// the first result, not a refusal decided on a state that already holds its own first attempt.
#[tokio::test]
async fn copies_of_one_request_sent_at_once_all_get_the_first_result() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);
    let mut failures = Vec::new();
    let mut files = Vec::new();
    for round in 0..10 {
        let key = format!("doble-clic-{round}");
        let replies = concurrently(
            &app,
            (0..4)
                .map(|_| {
                    post("/v1/general-applications")
                        .bearer(&citizen)
                        .header("idempotency-key", &key)
                        .json(&json!({"subject": "Reserva de espacio", "name": "Ana García"}))
                })
                .collect(),
        )
        .await;
        let mut ids = std::collections::BTreeSet::new();
        for reply in &replies {
            if reply.status.is_success() {
                ids.insert(id_of(&reply.json()));
            } else {
                failures.push(format!(
                    "submission {round}: {} {}",
                    reply.status,
                    reply.text()
                ));
            }
        }
        assert!(ids.len() <= 1, "one key names one file: {ids:?}");
        files.extend(ids);
    }
    for (round, id) in files.iter().enumerate() {
        let key = format!("retirada-{round}");
        let replies = concurrently(
            &app,
            (0..4)
                .map(|_| {
                    post(format!("{}/withdrawals", case_uri(id)))
                        .bearer(&citizen)
                        .header("idempotency-key", &key)
                })
                .collect(),
        )
        .await;
        for reply in &replies {
            if !reply.status.is_success() {
                failures.push(format!(
                    "withdrawal {round}: {} {}",
                    reply.status,
                    reply.text()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} copies were not answered with the first result:\n{}",
        failures.len(),
        4 * (10 + files.len()),
        failures.join("\n")
    );
}

/// More clients at once than the service's pool has connections (8 here): each is answered
/// promptly (not after the pool's 10-second acquire timeout) and reads its own write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn more_concurrent_commands_than_pool_connections_are_answered_promptly() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let caseworker = app.caseworker();
    let started = std::time::Instant::now();
    let replies = concurrently(
        &app,
        (0..16)
            .map(|n| {
                post("/v1/general-applications")
                    .bearer(&caseworker)
                    .json(&json!({
                        "subject": format!("Solicitud {n}"),
                        "applicant": {"document": ANA, "name": "Ana García"},
                    }))
            })
            .collect(),
    )
    .await;
    let elapsed = started.elapsed();
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 201),
        "every application is filed: {statuses:?}"
    );
    assert!(
        elapsed < StdDuration::from_secs(5),
        "16 concurrent submissions took {elapsed:?}"
    );
    for reply in &replies {
        let id = id_of(&reply.json());
        get(case_uri(&id))
            .bearer(&caseworker)
            .send(&app)
            .await
            .expect(StatusCode::OK);
    }
}

/// The handler catches the read models up before answering "so the caller reads its own write"
/// (docs/ARCHITECTURE.md). The log's reading watermark is held back by every transaction still
/// running in the database cluster (another request, another service, another database of the
/// same server), so a command that commits while another transaction runs must still answer only
/// once its own write can be read.
#[tokio::test]
async fn a_command_is_readable_as_soon_as_it_is_answered_even_while_another_transaction_runs() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);

    // Another transaction that holds a transaction id, as every writer does while it runs.
    let owner = app.db.pool(2).await;
    let mut other = owner.begin().await.expect("begin");
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *other)
        .await
        .expect("take a transaction id");

    // The application is filed while it runs...
    let submitting = {
        let request = post("/v1/general-applications")
            .bearer(&citizen)
            .json(&json!({"subject": "Poda", "name": "Ana García"}));
        let router = app.router.clone();
        tokio::spawn(async move { request.send_to(router).await })
    };
    // ...and the other transaction ends once the application's event is in the log.
    loop {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&owner)
            .await
            .expect("count events");
        if count > 0 || submitting.is_finished() {
            break;
        }
        tokio::task::yield_now().await;
    }
    other.rollback().await.expect("rollback");
    let reply = submitting
        .await
        .expect("the request task")
        .expect(StatusCode::CREATED);
    let id = id_of(&reply.json());
    owner.close().await;

    // Once answered, the write is readable, and the file can be acted on.
    let read = get(case_uri(&id)).bearer(&citizen).send(&app).await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "GET of the file just filed: {}",
        read.text()
    );
    let folder = get("/v1/carpeta")
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        folder["files"].as_array().map(Vec::len),
        Some(1),
        "the folder holds the file just filed: {folder}"
    );
    post(format!("{}/withdrawals", case_uri(&id)))
        .bearer(&citizen)
        .send(&app)
        .await
        .expect(StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// 9. The caseworkers' list
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
    let list = query("procedure=building_permit".into()).await;
    assert_eq!(list["total"], 0);
    assert_eq!(list["items"], json!([]));
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
// 10. Domain refusals
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
    assert_eq!(case["version"], 3);
    assert_eq!(case["state"], "withdrawn");
}

// ---------------------------------------------------------------------------------------------
// 11. Operations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn operations_endpoints_answer() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;

    let health = get("/health").send(&app).await.ok_json();
    assert_eq!(health["status"], "ok");
    let ready = get("/ready").send(&app).await.ok_json();
    assert_eq!(ready["status"], "ok");

    let reply = get("/openapi.json").send(&app).await.expect(StatusCode::OK);
    assert!(reply
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json")));
    let document = reply.json();
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/v1/cases/{id}",
        "/v1/cases",
        "/v1/general-applications",
        "/v1/carpeta",
        "/v1/audit/verify",
    ] {
        assert!(paths.contains_key(path), "{path} is documented");
    }

    let reply = get("/metrics").send(&app).await.expect(StatusCode::OK);
    assert!(reply
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain")));
    let text = reply.text();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/health\""),
        "requests are counted per route: {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// 12. Deadlines
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deadlines_are_computed_by_the_legal_calendar() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let citizen = app.citizen(ANA);

    let result = get("/v1/deadlines?from=2026-07-20&amount=10&unit=business-days")
        .bearer(&citizen)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(result["due_date"], "2026-08-03", "{result}");
    assert_eq!(
        result["due_date"],
        business_days_after(day(2026, 7, 20), 10).to_string()
    );
    assert!(result["steps"].as_array().is_some_and(|s| !s.is_empty()));

    let reply = get("/v1/deadlines?from=2026-07-20&amount=10&unit=fortnights")
        .bearer(&citizen)
        .send(&app)
        .await;
    let problem = assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    assert_eq!(problem_fields(&problem), vec!["unit"], "{problem}");
    let reply = get("/v1/deadlines?from=2026-07-20&amount=0&unit=business-days")
        .bearer(&citizen)
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    for query in [
        "from=20-07-2026&amount=10&unit=business-days",
        "from=2026-07-20&amount=ten&unit=business-days",
        "from=2026-07-20&unit=business-days",
    ] {
        let reply = get(format!("/v1/deadlines?{query}"))
            .bearer(&citizen)
            .send(&app)
            .await;
        assert_problem(&reply, StatusCode::BAD_REQUEST, "malformed-request");
    }
    let reply = get("/v1/deadlines?from=2026-07-20&amount=10&unit=business-days")
        .send(&app)
        .await;
    assert_unauthenticated(&reply);
}

// ---------------------------------------------------------------------------------------------
// 13. Audit: verification and paging
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn verification_finds_a_tampered_event() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let auditor = app.auditor();
    let first = register(&app, ANA, "Poda").await;
    let reply = post("/v1/general-applications")
        .bearer(&app.caseworker())
        .json(&json!({"subject": "Vado", "applicant": {"document": BORIS, "name": "Boris"}}))
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let second = reply.json();
    let tampered = second["events"][0]["position"]
        .as_i64()
        .expect("a position");
    ask_to_fix(&app, &first, "Falta el DNI").await;
    post(format!("{}/withdrawals", case_uri(&id_of(&second))))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .expect(StatusCode::OK);

    let report = get("/v1/audit/verify")
        .bearer(&auditor)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["events_checked"], 4, "{report}");
    assert_eq!(report["first_failure"], Value::Null);
    assert_eq!(report["failures"], json!([]));

    // Someone with the owner's rights rewrites history behind the service's back.
    let owner = app.db.pool(2).await;
    for statement in [
        "ALTER TABLE events DISABLE TRIGGER events_append_only".to_owned(),
        format!(
            "UPDATE events SET payload = jsonb_set(payload, '{{subject}}', '\"x\"') WHERE position = {tampered}"
        ),
        "ALTER TABLE events ENABLE TRIGGER events_append_only".to_owned(),
    ] {
        sqlx::query(&statement)
            .execute(&owner)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    owner.close().await;

    let report = get("/v1/audit/verify")
        .bearer(&auditor)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(
        report["first_failure"]["position"], tampered,
        "the first failure names the tampered event: {report}"
    );
    assert_eq!(report["first_failure"]["stream_id"], id_of(&second));
    assert!(report["first_failure"]["reason"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert!(report["failures"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f["position"] == tampered)));

    // Another council's auditor learns that something failed, and where, but not which file.
    let report = get("/v1/audit/verify")
        .bearer(&app.token(Role::Auditor, LEGANES, "auditor-leganes"))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_failure"]["position"], tampered);
    assert!(
        report["first_failure"].get("stream_id").is_none(),
        "{report}"
    );
    assert_ne!(report["first_failure"]["tenant"], MADRID);
}

#[tokio::test]
async fn the_audit_stream_pages_through_every_event_once_in_order() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let auditor = app.auditor();
    let caseworker = app.caseworker();
    let mut ids = Vec::new();
    for (applicant, subject) in [(ANA, "Uno"), (BORIS, "Dos"), (CARMEN, "Tres")] {
        ids.push(register(&app, applicant, subject).await);
    }
    // Another council's event, between Madrid's: never shown to Madrid's auditor.
    register_in(&app, LEGANES, ELENA, "Leganés").await;
    ask_to_fix(&app, &ids[0], "Falta el DNI").await;
    post(format!("{}/withdrawals", case_uri(&ids[1])))
        .bearer(&caseworker)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    post(format!("{}/resolutions", case_uri(&ids[2])))
        .bearer(&caseworker)
        .json(&json!({"decision": "denied", "grounds": "No procede"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let expected = 6;

    let all = audit_log(&app, &auditor, 1000, expected).await;
    assert_eq!(all.len(), expected, "{all:?}");
    let positions = |events: &[Value]| -> Vec<i64> {
        events
            .iter()
            .map(|e| e["position"].as_i64().expect("a position"))
            .collect()
    };
    let all_positions = positions(&all);
    assert!(
        all_positions.windows(2).all(|w| w[0] < w[1]),
        "in order, each once: {all_positions:?}"
    );
    assert!(all.iter().all(|e| e["metadata"].is_object()));
    for id in &ids {
        assert!(all.iter().any(|e| e["stream_id"] == id.as_str()));
    }

    // Page by page, two and then one at a time: the same events, once each, in the same order.
    for limit in [2, 1, 4] {
        let paged = audit_log(&app, &auditor, limit, expected).await;
        assert_eq!(
            positions(&paged),
            all_positions,
            "pages of {limit} hold every event once, in order"
        );
        assert_eq!(paged, all);
    }

    // Reading on from the last event: nothing more yet.
    let last = *all_positions.last().expect("events");
    let page = get(format!("/v1/audit/events?after={last}"))
        .bearer(&auditor)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(page["events"], json!([]));
    assert!(page.get("next_after").is_none_or(Value::is_null));

    // Leganés' auditor reads only Leganés' event.
    let leganes = audit_log(
        &app,
        &app.token(Role::Auditor, LEGANES, "auditor-leganes"),
        1000,
        1,
    )
    .await;
    assert_eq!(leganes.len(), 1);
    assert!(leganes
        .iter()
        .all(|e| !all_positions.contains(&e["position"].as_i64().expect("position"))));
}

#[path = "api/accounts.rs"]
mod accounts;

#[path = "api/timers.rs"]
mod timers;

#[path = "api/calendars.rs"]
mod calendars;

#[path = "api/padron.rs"]
mod padron;

#[path = "api/openapi.rs"]
mod openapi;

#[path = "api/rebuild.rs"]
mod rebuild;

#[path = "api/registry.rs"]
mod registry;
