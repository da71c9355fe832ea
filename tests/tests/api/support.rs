//! What every suite of the end-to-end binary shares: the service under test over a private
//! database with a driven clock, the people and councils the tests act as, a request builder and
//! whole replies, the problem-details assertions, a few domain shortcuts (file an application,
//! register one on paper, ask to fix it, read the audit log) and the legal calendar.
//!
//! `api.rs` brings all of it into the crate root, so each suite's `use super::*;` finds it, along
//! with the vocabulary the suites speak (re-exported below).

// The vocabulary the suites share besides these helpers.
pub use std::sync::Arc;
pub use std::time::Duration as StdDuration;

pub use axum::http::{Method, StatusCode};
pub use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
pub use expedientes_api::auth::{Assurance, Role};
pub use expedientes_api::AppState;
pub use serde_json::{json, Value};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request};
use axum::Router;
use chrono::SecondsFormat;
use expedientes_api::config::Config;
use expedientes_domain::calendar::{DeadlineRequest, HolidayCalendar, Unit};
use expedientes_domain::MunicipalityCode;
use expedientes_projections::ManualClock;
use expedientes_tests::TestDatabase;
use http_body_util::BodyExt;
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// The application under test
// ---------------------------------------------------------------------------------------------

/// The key every test's service signs its tokens with.
pub const SIGNING_KEY: &[u8] = b"the-end-to-end-tests-signing-key-0123456789";
/// Madrid: the tenant most tests act in.
pub const MADRID: &str = "28079";
/// Leganés: the other tenant.
pub const LEGANES: &str = "28074";
/// Citizens (valid document numbers).
pub const ANA: &str = "12345678Z";
pub const BORIS: &str = "X1234567L";
pub const CARMEN: &str = "Y1234567X";
pub const DIEGO: &str = "00000000T";
pub const ELENA: &str = "87654321X";

/// The SIA code each procedure is configured with in the tests.
pub const SIA_CODES: &[(&str, &str)] = &[
    ("general_application", "999999"),
    ("user_account", "999998"),
    ("padron_inscription", "999997"),
    ("padron_removal_file", "999996"),
];

/// The service over a private database, with a clock the test drives.
#[derive(Debug)]
pub struct TestApp {
    pub db: TestDatabase,
    pub state: AppState,
    pub clock: ManualClock,
    pub router: Router,
}

impl TestApp {
    /// Builds the service as production does, with the clock stopped at `now`.
    pub async fn start(now: DateTime<Utc>) -> Self {
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
    pub async fn another_instance(&self) -> Router {
        let pool = expedientes_api::connect(&self.db.url, true, 8)
            .await
            .expect("connect as the runtime role");
        let config = (*self.state.config).clone();
        let state = expedientes_api::build_state(pool, config, Arc::new(self.clock.clone()));
        expedientes_api::router(state)
    }

    /// A token signed with the service's key, valid for an hour.
    pub fn token(&self, role: Role, tenant: &str, subject: &str) -> String {
        let tenant: MunicipalityCode = tenant.parse().expect("an INE code");
        self.state
            .keys
            .mint(role, &tenant, subject, Assurance::Substantial, 3600)
    }

    /// A citizen of Madrid.
    pub fn citizen(&self, document: &str) -> String {
        self.token(Role::Citizen, MADRID, document)
    }

    /// A caseworker of Madrid.
    pub fn caseworker(&self) -> String {
        self.token(Role::Caseworker, MADRID, "funcionaria-0042")
    }

    /// An auditor of Madrid.
    pub fn auditor(&self) -> String {
        self.token(Role::Auditor, MADRID, "interventor-0007")
    }

    /// The driven clock's time.
    pub fn clock_now(&self) -> DateTime<Utc> {
        expedientes_projections::Clock::now(&self.clock)
    }
}

/// A UTC instant.
pub fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, 0)
        .single()
        .expect("a valid instant")
}

/// A date.
pub fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
}

/// The local (Madrid) date of an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::Madrid).date_naive()
}

/// The local moment in Madrid of an instant, as a delivery attempt is typed (`2026-03-02T10:00:00`).
pub fn local_moment(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Madrid)
        .naive_local()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Lets the read models catch up and the scheduler carry out whatever is due (a notification's
/// effect reaches its file through a follow-up), until nothing is left; how many fired.
pub async fn drive(app: &TestApp) -> u64 {
    let mut fired = 0;
    loop {
        app.state
            .runner
            .settle(std::time::Duration::from_secs(20))
            .await
            .unwrap();
        let pass = app.state.scheduler.run_once().await.unwrap();
        if pass.fired == 0 {
            return fired;
        }
        fired += pass.fired;
    }
}

/// A file's notification of an act (`opening`, `resolution`), as staff see it.
pub async fn notification_of(app: &TestApp, file: &str, act: &str) -> Value {
    let list = get(format!("/v1/notifications?case={file}"))
        .bearer(&app.caseworker())
        .send(app)
        .await
        .ok_json();
    list.as_array()
        .unwrap()
        .iter()
        .find(|n| n["act_kind"] == act)
        .unwrap_or_else(|| panic!("no {act} notification in {list}"))
        .clone()
}

/// Posts a file's letter today and records it delivered now; the file learns it.
pub async fn deliver_on_paper(app: &TestApp, file: &str, act: &str) -> Value {
    let id = notification_of(app, file, act).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    post(format!("/v1/notifications/{id}/dispatch"))
        .bearer(&app.caseworker())
        .send(app)
        .await
        .expect(StatusCode::OK);
    post(format!("/v1/notifications/{id}/delivery-attempts"))
        .bearer(&app.caseworker())
        .json(&json!({"at": local_moment(app.clock_now()), "result": "delivered", "received_by": "la persona interesada"}))
        .send(app)
        .await
        .expect(StatusCode::OK);
    drive(app).await;
    notification_of(app, file, act).await
}

/// `amount` business days after a notification on `from` at Madrid's seat, by the legal calendar.
pub fn business_days_after(from: NaiveDate, amount: u32) -> NaiveDate {
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
pub fn query_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

// ---------------------------------------------------------------------------------------------
// Requests and replies
// ---------------------------------------------------------------------------------------------

/// A request being built.
#[derive(Debug)]
pub struct Call {
    pub method: Method,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client's address, as the server would see the connection's.
    pub client: Option<std::net::SocketAddr>,
}

pub fn call(method: Method, uri: impl Into<String>) -> Call {
    Call {
        method,
        uri: uri.into(),
        headers: Vec::new(),
        body: Vec::new(),
        client: None,
    }
}

pub fn get(uri: impl Into<String>) -> Call {
    call(Method::GET, uri)
}

pub fn post(uri: impl Into<String>) -> Call {
    call(Method::POST, uri)
}

impl Call {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sent from this address (the connection's, as the server sees it).
    pub fn from(mut self, address: &str) -> Self {
        self.client = Some(format!("{address}:40000").parse().expect("an address"));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// A body with this content type.
    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self.header("content-type", content_type)
    }

    /// A JSON body.
    pub fn json(self, body: &Value) -> Self {
        self.raw(
            "application/json",
            serde_json::to_vec(body).expect("JSON serialises"),
        )
    }

    /// Sends it through the whole router.
    pub async fn send(self, app: &TestApp) -> Reply {
        self.send_to(app.router.clone()).await
    }

    /// Sends it through this router (for requests sent from another task).
    pub async fn send_to(self, router: Router) -> Reply {
        let mut builder = Request::builder().method(self.method).uri(&self.uri);
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut request = builder
            .body(Body::from(self.body))
            .expect("a valid request");
        if let Some(client) = self.client {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(client));
        }
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
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status (showing the body when it differs) and returns the reply.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Self {
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
    pub fn ok_json(self) -> Value {
        self.expect(StatusCode::OK).json()
    }

    /// A command's answer names what it acted on (`Location`): reads it, as a caseworker of
    /// Madrid, and returns it.
    pub async fn follow(self, app: &TestApp) -> Value {
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
pub fn assert_problem(reply: &Reply, status: StatusCode, slug: &str) -> Value {
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
pub fn assert_unauthenticated(reply: &Reply) -> Value {
    let problem = assert_problem(reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(
        reply.header("www-authenticate"),
        Some("Bearer"),
        "a 401 carries the challenge"
    );
    problem
}

/// The fields named by a validation problem.
pub fn problem_fields(problem: &Value) -> Vec<String> {
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

pub fn case_uri(id: &str) -> String {
    format!("/v1/cases/{id}")
}

pub fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_owned()
}

/// A citizen files a general application for themselves; returns the new file's id.
pub async fn submit_own(app: &TestApp, token: &str, subject: &str, name: &str) -> String {
    let reply = post("/v1/general-applications")
        .bearer(token)
        .json(&json!({"subject": subject, "body": "Solicito lo indicado.", "name": name}))
        .send(app)
        .await
        .expect(StatusCode::CREATED);
    id_of(&reply.json())
}

/// A caseworker of `tenant` registers a paper application for `applicant`; returns its id.
pub async fn register_in(app: &TestApp, tenant: &str, applicant: &str, subject: &str) -> String {
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
pub async fn register(app: &TestApp, applicant: &str, subject: &str) -> String {
    register_in(app, MADRID, applicant, subject).await
}

/// A Madrid caseworker asks the applicant to fix the application, and the applicant opens the
/// request's notification at once (its ten days count from today); returns the request's answer.
pub async fn ask_to_fix(app: &TestApp, id: &str, what: &str) -> Value {
    let asked = request_fix(app, id, what).await;
    let applicant = get(case_uri(id))
        .bearer(&app.caseworker())
        .send(app)
        .await
        .ok_json()["parties"][0]["document"]
        .as_str()
        .unwrap()
        .to_owned();
    open_notification(app, id, "rectification_request", &applicant).await;
    asked
}

/// A Madrid caseworker asks the applicant to fix the application; the request is being
/// notified. Returns the command's answer.
pub async fn request_fix(app: &TestApp, id: &str, what: &str) -> Value {
    post(format!("{}/rectification-requests", case_uri(id)))
        .bearer(&app.caseworker())
        .json(&json!({"what": what}))
        .send(app)
        .await
        .ok_json()
}

/// The addressee `document` opens the file's electronic notification of `act` now; the file
/// learns it. Returns the notification as staff then see it.
pub async fn open_notification(app: &TestApp, file: &str, act: &str, document: &str) -> Value {
    drive(app).await;
    let id = notification_of(app, file, act).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    post(format!("/v1/notifications/{id}/access"))
        .bearer(&app.citizen(document))
        .send(app)
        .await
        .expect(StatusCode::OK);
    drive(app).await;
    notification_of(app, file, act).await
}

/// Reads a tenant's whole log through the audit API, `limit` events per page, until at least
/// `at_least` events are visible. The log shows only events of transactions older than every
/// transaction still running in the database cluster (other tests' included), so a just-committed
/// event may take a moment to appear; this waits for the database, not for the test's clock.
pub async fn audit_log(app: &TestApp, token: &str, limit: u32, at_least: usize) -> Vec<Value> {
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

/// A Madrid caseworker records that `principal` granted `representative` a representation apud
/// acta in person, for every procedure, until the end of 2027; returns its id.
pub async fn represent(app: &TestApp, principal: &str, representative: &str) -> String {
    let reply = post("/v1/representations")
        .bearer(&app.caseworker())
        .json(&json!({
            "means": "apud_acta_in_person",
            "principal": {"document": principal, "name": "Persona Representada"},
            "representative": {"document": representative, "name": "Persona Representante"},
            "valid_until": "2027-12-31",
        }))
        .send(app)
        .await
        .expect(StatusCode::CREATED);
    id_of(&reply.json())
}
