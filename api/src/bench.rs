//! `expedientes bench eventlog`: how close appends through the event log (hash chain, idempotency,
//! metadata, stream versions) come to the ceiling of raw single-row INSERT commits into a plain
//! table of the same shape, with 1 and 16 concurrent writers. Both are measured in one run, on one
//! scratch database created on the configured server (and dropped afterwards), with the same
//! payload. The figures are ratios to that ceiling, so they mean the same on any machine.

use std::process::ExitCode;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use expedientes_eventlog::{AppendRequest, EventLog, Metadata, NewEvent, StreamAppend, MIGRATOR};
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

use crate::config::Config;

const RAW_TABLE: &str = "CREATE TABLE bench_raw (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    tenant text NOT NULL, stream_type text NOT NULL, stream_id uuid NOT NULL, version integer NOT NULL,
    event_type text NOT NULL, schema_version integer NOT NULL, payload jsonb NOT NULL, metadata jsonb NOT NULL,
    command_id uuid, recorded_at timestamptz NOT NULL DEFAULT now(), previous_hash bytea, hash bytea,
    UNIQUE (stream_id, version))";

/// The raw table gets the same indexes as `events` (its reading orders and command lookup): the
/// ceiling is a table of the same shape without the log's triggers and idempotency.
const RAW_INDEXES: [&str; 3] = [
    "CREATE INDEX ON bench_raw (transaction_id, position)",
    "CREATE INDEX ON bench_raw (tenant, transaction_id, position)",
    "CREATE INDEX ON bench_raw (tenant, command_id) WHERE command_id IS NOT NULL",
];

fn payload(bytes: usize) -> serde_json::Value {
    json!({ "subject": "Solicitud de prueba", "text": "x".repeat(bytes.saturating_sub(48)) })
}

fn metadata() -> Metadata {
    Metadata {
        actor_id: "E0001".into(),
        actor_role: "caseworker".into(),
        on_behalf_of: Some("12345678Z".into()),
        channel: Some("bench".into()),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        command_id: Some(Uuid::new_v4()),
    }
}

async fn run_for<F, Fut>(writers: usize, seconds: u64, work: F) -> f64
where
    F: Fn(usize, u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (stop, done, work) = (stop.clone(), done.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                work(w, i).await;
                i += 1;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn raw(pool: &PgPool, writers: usize, seconds: u64, bytes: usize) -> f64 {
    let pool = pool.clone();
    let payload = payload(bytes);
    let metadata = serde_json::to_value(metadata()).expect("metadata serialises");
    run_for(writers, seconds, move |_, _| {
        let (pool, payload, metadata) = (pool.clone(), payload.clone(), metadata.clone());
        async move {
            sqlx::query(
                "INSERT INTO bench_raw (tenant, stream_type, stream_id, version, event_type, schema_version, payload, metadata, command_id)
                 VALUES ('28079', 'bench', $1, 1, 'something_happened', 1, $2, $3, $4)",
            )
            .bind(Uuid::new_v4())
            .bind(&payload)
            .bind(&metadata)
            .bind(Uuid::new_v4())
            .execute(&pool)
            .await
            .expect("raw insert");
        }
    })
    .await
}

async fn append(log: &EventLog, writers: usize, seconds: u64, bytes: usize) -> f64 {
    let log = log.clone();
    let payload = payload(bytes);
    // Each writer appends to its own streams, several events per stream, so the hash chain and
    // version checks do real work.
    let streams: Arc<Vec<Uuid>> = Arc::new((0..writers).map(|_| Uuid::new_v4()).collect());
    run_for(writers, seconds, move |w, i| {
        let (log, payload, streams) = (log.clone(), payload.clone(), streams.clone());
        async move {
            let per_stream = 50;
            let stream_id = Uuid::new_v5(&streams[w], &(i / per_stream).to_le_bytes());
            log.append(AppendRequest {
                tenant: "28079".parse().expect("valid"),
                metadata: metadata(),
                request_hash: Some(vec![1; 32]),
                streams: vec![StreamAppend {
                    stream_type: "bench".into(),
                    stream_id,
                    expected_version: (i % per_stream) as i32,
                    events: vec![NewEvent {
                        event_type: "something_happened".into(),
                        schema_version: 1,
                        payload,
                    }],
                }],
            })
            .await
            .expect("append");
        }
    })
    .await
}

/// Runs the benchmark and prints a table, then one JSON line.
pub async fn eventlog(config: &Config, seconds: u64, payload_bytes: usize) -> ExitCode {
    match run(config, seconds.max(1), payload_bytes.clamp(64, 1 << 20)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("expedientes: benchmark failed: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(
    config: &Config,
    seconds: u64,
    bytes: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let base = PgConnectOptions::from_str(&config.database_url)?.disable_statement_logging();
    let name = format!("expedientes_bench_{}", std::process::id());
    let mut admin = PgConnection::connect_with(&base).await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let outcome = measure(base.clone().database(&name), seconds, bytes).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    outcome
}

async fn measure(
    options: PgConnectOptions,
    seconds: u64,
    bytes: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    pool.execute(RAW_TABLE).await?;
    for index in RAW_INDEXES {
        pool.execute(index).await?;
    }
    let log = EventLog::new(pool.clone());
    let server: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&pool)
        .await?;
    let fsync: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&pool)
        .await?;
    eprintln!(
        "bench eventlog: {seconds}s per figure, payload {bytes} bytes, PostgreSQL {server}, synchronous_commit={fsync}, {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    // Warm up both paths.
    raw(&pool, 4, 1, bytes).await;
    append(&log, 4, 1, bytes).await;
    let raw_1 = raw(&pool, 1, seconds, bytes).await;
    let append_1 = append(&log, 1, seconds, bytes).await;
    let raw_16 = raw(&pool, 16, seconds, bytes).await;
    let append_16 = append(&log, 16, seconds, bytes).await;
    let verified = log.verify().await?;
    println!(
        "{:<10} {:>16} {:>16} {:>8}",
        "writers", "raw INSERT/s", "appends/s", "ratio"
    );
    println!(
        "{:<10} {:>16.0} {:>16.0} {:>8.2}",
        1,
        raw_1,
        append_1,
        append_1 / raw_1
    );
    println!(
        "{:<10} {:>16.0} {:>16.0} {:>8.2}",
        16,
        raw_16,
        append_16,
        append_16 / raw_16
    );
    println!(
        "{}",
        json!({
            "bench": "eventlog",
            "payload_bytes": bytes,
            "seconds": seconds,
            "raw_inserts_per_sec_1": raw_1.round(),
            "appends_per_sec_1": append_1.round(),
            "ratio_1": (append_1 / raw_1 * 100.0).round() / 100.0,
            "raw_inserts_per_sec_16": raw_16.round(),
            "appends_per_sec_16": append_16.round(),
            "ratio_16": (append_16 / raw_16 * 100.0).round() / 100.0,
            "log_verified": verified.ok,
        })
    );
    pool.close().await;
    Ok(())
}

/// `expedientes bench timers`: `count` deadline timers due at once, two scheduler instances; the
/// time until every timer has fired and its command's events are in the log, as timers per second
/// and as a ratio to event-log appends per second (two writers) measured in the same run.
pub async fn timers(config: &Config, count: usize) -> ExitCode {
    match run_timers(config, count.max(1)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("expedientes: benchmark failed: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run_timers(config: &Config, count: usize) -> Result<(), Box<dyn std::error::Error>> {
    let base = PgConnectOptions::from_str(&config.database_url)?.disable_statement_logging();
    let name = format!("expedientes_bench_timers_{}", std::process::id());
    let mut admin = PgConnection::connect_with(&base).await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let outcome = measure_timers(config, base.clone().database(&name), count).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    outcome
}

async fn measure_timers(
    config: &Config,
    options: PgConnectOptions,
    count: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    use chrono::{Duration as Days, NaiveDate, TimeZone, Utc};
    use expedientes_domain::general_application::{Event, GeneralApplication};
    use expedientes_domain::procedure::DomainEvent;
    use expedientes_domain::{CaseNumber, CaseParty, PartyRole};
    use expedientes_projections::{ManualClock, ReadModel, Runner, Scheduler};

    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    let log = EventLog::new(pool.clone());
    let tenant: expedientes_domain::MunicipalityCode = "28079".parse()?;
    let opened = Utc
        .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .ok_or("date")?;
    let due = NaiveDate::from_ymd_opt(2026, 3, 16).ok_or("date")?;
    eprintln!("bench timers: preparing {count} files with a running subsanación period…");
    let mut prepared = 0usize;
    while prepared < count {
        let chunk = (count - prepared).min(500);
        let mut streams = Vec::with_capacity(chunk);
        for i in prepared..prepared + chunk {
            let events = [
                Event::Submitted {
                    residence: None,
                    case_number: CaseNumber::new(&tenant, 2026, i as u64 + 1)?,
                    sia_code: "999999".parse()?,
                    parties: vec![CaseParty {
                        document: "12345678Z".parse()?,
                        name: "Ana García".into(),
                        role: PartyRole::Interested,
                    }],
                    subject: "Solicitud".into(),
                    body: String::new(),
                    at: opened,
                    entry: None,
                    resolution_due: NaiveDate::from_ymd_opt(2026, 6, 2).ok_or("date")?,
                    max_time_rule: None,
                    notify_by: None,
                },
                Event::RectificationRequested {
                    residence: None,
                    what: "falta el plano".into(),
                    at: opened,
                    on: None,
                    due,
                    resolution_due_if_unanswered: None,
                },
            ];
            streams.push(StreamAppend {
                stream_type: <GeneralApplication as esrs::Aggregate>::NAME.into(),
                stream_id: Uuid::new_v4(),
                expected_version: 0,
                events: events
                    .iter()
                    .map(|e| NewEvent {
                        event_type: e.event_type().into(),
                        schema_version: 1,
                        payload: serde_json::to_value(e).expect("serialises"),
                    })
                    .collect(),
            });
        }
        log.append(AppendRequest {
            tenant: tenant.clone(),
            metadata: metadata(),
            request_hash: None,
            streams,
        })
        .await?;
        prepared += chunk;
    }
    let timers = Arc::new(crate::timers(config.timezone));
    let models: Vec<Arc<dyn ReadModel>> = vec![timers.clone()];
    Runner::new(log.clone(), models)
        .with_batch_size(5000)
        .settle(std::time::Duration::from_secs(60))
        .await?;
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM deadline_timers WHERE state = 'pending'")
            .fetch_one(&pool)
            .await?;
    eprintln!("bench timers: {pending} timers pending; measuring appends, then firing with two schedulers");

    let appends_per_sec = append(&log, 2, 5, 512).await;
    let clock = Arc::new(ManualClock::new(opened + Days::days(30)));
    let started = Instant::now();
    let fire = |scheduler: Scheduler| async move { scheduler.run_once().await };
    let first = Scheduler::new(log.clone(), timers.clone(), clock.clone()).with_batch_size(100);
    let second = Scheduler::new(log.clone(), timers.clone(), clock.clone()).with_batch_size(100);
    let (a, b) = tokio::join!(fire(first), fire(second));
    let elapsed = started.elapsed().as_secs_f64();
    let (a, b) = (a?, b?);
    let withdrawn: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'deemed_withdrawn'")
            .fetch_one(&pool)
            .await?;
    let timers_per_sec = withdrawn as f64 / elapsed;
    println!("{:<28} {:>12}", "timers fired", a.fired + b.fired);
    println!("{:<28} {:>12}", "commands' events in the log", withdrawn);
    println!("{:<28} {:>12.1}", "seconds", elapsed);
    println!("{:<28} {:>12.0}", "timers/s (2 schedulers)", timers_per_sec);
    println!("{:<28} {:>12.0}", "appends/s (2 writers)", appends_per_sec);
    println!("{:<28} {:>12.2}", "ratio", timers_per_sec / appends_per_sec);
    println!(
        "{}",
        json!({
            "bench": "timers",
            "timers": count,
            "fired": a.fired + b.fired,
            "events_in_log": withdrawn,
            "seconds": (elapsed * 10.0).round() / 10.0,
            "timers_per_sec": timers_per_sec.round(),
            "appends_per_sec_2_writers": appends_per_sec.round(),
            "ratio": (timers_per_sec / appends_per_sec * 100.0).round() / 100.0,
        })
    );
    pool.close().await;
    Ok(())
}

/// `expedientes bench login`: the answer times of a login with an unknown document, with a wrong
/// password on an existing account, and with the right password, measured in one run on a
/// scratch database, interleaved so that they share the machine's state. The first two must be
/// within 10 % of each other (a failed login answers no sooner than
/// `routes::accounts::FAILED_LOGIN_FLOOR`), so timing does not tell who has an account. Run it
/// on a release build.
pub async fn login(config: &Config, samples: usize) -> ExitCode {
    match run_login(config, samples.clamp(5, 1000)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("expedientes: benchmark failed: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run_login(config: &Config, samples: usize) -> Result<(), Box<dyn std::error::Error>> {
    let base = PgConnectOptions::from_str(&config.database_url)?.disable_statement_logging();
    let name = format!("expedientes_bench_login_{}", std::process::id());
    let mut admin = PgConnection::connect_with(&base).await?;
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let outcome = measure_login(config, base.clone().database(&name), samples).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    outcome
}

/// A valid DNI for the number `n`.
fn dni(n: u32) -> String {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let number = 10_000_000 + n;
    format!("{number:08}{}", LETTERS[(number % 23) as usize] as char)
}

async fn measure_login(
    config: &Config,
    options: PgConnectOptions,
    samples: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect_with(options)
        .await?;
    MIGRATOR.run(&pool).await?;
    let mut settings = config.clone();
    settings.sia_codes.clear();
    settings.staff_identity = None;
    let state = crate::build_state(
        pool.clone(),
        settings,
        std::sync::Arc::new(expedientes_projections::SystemClock),
    );
    let router = crate::router(state.clone());
    let tenant: expedientes_domain::MunicipalityCode = "28079".parse()?;
    let caseworker = state.keys.mint(
        crate::auth::Role::Caseworker,
        &tenant,
        "bench-registro",
        crate::auth::Assurance::Substantial,
        3600,
    );
    let send = |path: String, token: Option<&str>, body: serde_json::Value, client: u32| {
        let router = router.clone();
        let token = token.map(str::to_owned);
        async move {
            let mut request = Request::post(path).header("content-type", "application/json");
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let mut request = request.body(Body::from(body.to_string()))?;
            let address =
                std::net::SocketAddr::from(([10, 0, (client >> 8) as u8, client as u8], 40000));
            request.extensions_mut().insert(ConnectInfo(address));
            let started = Instant::now();
            let response = router.oneshot(request).await?;
            let took = started.elapsed();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
            Ok::<_, Box<dyn std::error::Error>>((status, bytes, took))
        }
    };
    // Accounts: each takes at most four wrong passwords, each from its own address (its own
    // login session), well within the per-document limit.
    let accounts = samples / 4 + 1;
    let password = "una contraseña de prueba larga";
    let sender = crate::notices::MemorySender::default();
    eprintln!("bench login: preparing {accounts} active accounts…");
    for n in 0..accounts as u32 {
        let (status, body, _) = send(
            "/v1/councils/28079/accounts".into(),
            Some(&caseworker),
            json!({"channel": "in_person", "person": "natural", "name": "Persona de Prueba",
                "birth_date": "1980-05-01", "nationality": "spanish",
                "document": {"kind": "dni", "number": dni(n)}, "mobile": "+34600111222",
                "email": "prueba@example.es", "address": "Calle Mayor 1, 28013 Madrid"}),
            60_000,
        )
        .await?;
        if status != StatusCode::CREATED {
            return Err(
                format!("registration: {status} {}", String::from_utf8_lossy(&body)).into(),
            );
        }
        let id = serde_json::from_slice::<serde_json::Value>(&body)?["id"]
            .as_str()
            .ok_or("no account id")?
            .to_owned();
        let (status, _, _) = send(
            format!("/v1/accounts/{id}/key-resets"),
            Some(&caseworker),
            json!({}),
            60_000,
        )
        .await?;
        if status != StatusCode::OK {
            return Err(format!("key reset: {status}").into());
        }
        state.runner.settle(Duration::from_secs(20)).await?;
        crate::notices::process_outbox(&state, &sender).await?;
        let code = sender
            .sent()
            .iter()
            .rev()
            .find(|m| m.kind == "activation_link")
            .and_then(|m| {
                m.body
                    .split(|c: char| !c.is_ascii_hexdigit())
                    .find(|w| w.len() == 64)
                    .map(str::to_owned)
            })
            .ok_or("no activation code")?;
        let (status, _, _) = send(
            "/v1/councils/28079/accounts/activation".into(),
            None,
            json!({"token": code, "password": password}),
            60_000,
        )
        .await?;
        if status != StatusCode::OK {
            return Err(format!("activation: {status}").into());
        }
    }
    state.runner.settle(Duration::from_secs(20)).await?;
    let mut unknown = Vec::with_capacity(samples);
    let mut wrong = Vec::with_capacity(samples);
    let mut right = Vec::with_capacity(samples);
    eprintln!("bench login: {samples} logins of each kind, interleaved…");
    for i in 0..samples as u32 {
        let known = dni(i % accounts as u32);
        for (kind, document, secret) in [
            (0, dni(500_000 + i), "cualquier cosa"),
            (1, known.clone(), "una contraseña equivocada"),
            (2, known.clone(), password),
        ] {
            let (status, _, took) = send(
                "/v1/councils/28079/sessions".into(),
                None,
                json!({"document": document, "password": secret}),
                i * 3 + kind,
            )
            .await?;
            let expected = if kind == 2 {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            if status != expected {
                return Err(format!("login kind {kind}: {status}, expected {expected}").into());
            }
            match kind {
                0 => unknown.push(took),
                1 => wrong.push(took),
                _ => right.push(took),
            }
        }
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64() * 1000.0
    };
    let (unknown, wrong, right) = (median(&mut unknown), median(&mut wrong), median(&mut right));
    println!("login medians over {samples} attempts each (ms):");
    println!("  unknown document          {unknown:8.1}");
    println!("  known, wrong password     {wrong:8.1}");
    println!("  known, right password     {right:8.1}");
    println!(
        "  wrong / unknown           {:8.3}   (target: within 10 %)",
        wrong / unknown
    );
    Ok(())
}
