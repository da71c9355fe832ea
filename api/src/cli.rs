//! The command line: `expedientes serve | migrate | rebuild | verify | seal | token | deadline | bench`.
//! Bad input exits with status 2 and a plain message on stderr; failures with status 1.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use clap::{Parser, Subcommand};
use expedientes_domain::calendar::{DeadlineRequest, HolidayCalendar, Unit};
use expedientes_domain::MunicipalityCode;
use expedientes_eventlog::{EventLog, MIGRATOR};
use expedientes_projections::{RebuildEffects, Runner, SystemClock};
use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;

use crate::auth::{Assurance, Keys, Role};
use crate::config::Config;

/// expedientes: event-sourced case management for Spanish city councils.
#[derive(Debug, Parser)]
#[command(name = "expedientes", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Applies the migrations, then serves the API with its read models, timers and seals.
    Serve,
    /// Applies the migrations.
    Migrate,
    /// Runs only the deadline-timer scheduler (and the read models it depends on).
    Scheduler,
    /// Rebuilds a read model (or `all`) from the start of the log into fresh tables, then swaps
    /// them in. Nothing already done is done again: sent notices are not sent again, fired timers
    /// do not fire again.
    Rebuild {
        /// The read model (case_view, deadline_timers, notices_outbox, account_view,
        /// padron_register), or `all`.
        read_model: String,
        /// What to do with effects the rebuilt model would have that the live one does not hold
        /// (notices of events the live outbox lost): refuse the rebuild, send them, or record them
        /// as done without sending.
        #[arg(long, value_enum, default_value = "refuse")]
        effects: EffectsArg,
    },
    /// Recomputes every hash, chain link and seal; prints the report as JSON (exit 1 if altered).
    Verify,
    /// Seals everything not yet sealed.
    Seal,
    /// Prints the OpenAPI document (the one served at /openapi.json).
    Openapi,
    /// Prints a signed token for local use.
    Token {
        /// citizen, caseworker, auditor or admin.
        #[arg(long, value_enum)]
        role: Role,
        /// The council's INE code.
        #[arg(long)]
        tenant: String,
        /// A document number (citizens) or an employee id.
        #[arg(long)]
        subject: String,
        /// Level of assurance.
        #[arg(long, value_enum, default_value = "substantial")]
        assurance: Assurance,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 8 * 3600)]
        ttl: u64,
    },
    /// Computes a legal deadline and prints it as JSON.
    Deadline {
        /// The day of the notification (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// How many units (at least 1).
        #[arg(long)]
        amount: i64,
        /// business-days, calendar-days, months, years or hours.
        #[arg(long)]
        unit: String,
        /// The time of the notification (HH:MM), required for hours.
        #[arg(long)]
        at: Option<String>,
        /// INE code of the body's seat.
        #[arg(long)]
        municipality: Option<String>,
        /// INE code of the person's residence (art. 30.6).
        #[arg(long)]
        residence: Option<String>,
    },
    /// Changes the council's legal calendar (recorded as events with the actor and the source).
    Calendar {
        #[command(subcommand)]
        change: CalendarChange,
    },
    /// Loads a realistic data set for a municipality (inscriptions, renewals due, removal files,
    /// applications) so the service can be tried at once.
    Demo {
        /// The council (INE code).
        #[arg(long, default_value = "28079")]
        tenant: String,
        /// How many inscriptions.
        #[arg(long, default_value_t = 3000)]
        inscriptions: u32,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        which: Bench,
    },
}

/// See `rebuild --effects`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EffectsArg {
    /// Refuse the rebuild if it would act.
    Refuse,
    /// Carry the effects out.
    Perform,
    /// Record them as done without carrying them out.
    MarkDone,
}

#[derive(Debug, Subcommand)]
enum CalendarChange {
    /// Adds or replaces a year from a file in the documented format (data/calendars/es-2026.json).
    PublishYear {
        /// The council (INE code).
        #[arg(long)]
        tenant: String,
        /// The administrator making the change (employee id).
        #[arg(long)]
        actor: String,
        /// The year file.
        #[arg(long)]
        file: std::path::PathBuf,
        /// The official publication.
        #[arg(long)]
        source: String,
    },
    /// Sets a municipality's local holidays for a year.
    SetLocal {
        /// The council (INE code).
        #[arg(long)]
        tenant: String,
        /// The administrator making the change (employee id).
        #[arg(long)]
        actor: String,
        /// The year.
        #[arg(long)]
        year: i32,
        /// The municipality (INE code).
        #[arg(long)]
        municipality: String,
        /// The days, comma-separated (YYYY-MM-DD,YYYY-MM-DD).
        #[arg(long, value_delimiter = ',')]
        days: Vec<String>,
        /// The official publication.
        #[arg(long)]
        source: String,
    },
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Raw INSERT commits per second vs event-log appends, with 1 and 16 writers.
    Eventlog {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Payload size in bytes.
        #[arg(long, default_value_t = 512)]
        payload_bytes: usize,
    },
    /// Deadline timers due at once, fired by two schedulers, vs event-log appends.
    Timers {
        /// How many timers.
        #[arg(long, default_value_t = 100_000)]
        count: usize,
    },
}

/// Bad input: exit 2 with the message.
fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("expedientes: {message}");
    ExitCode::from(2)
}

/// A failure: exit 1 with the message.
fn failure(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("expedientes: {message}");
    ExitCode::from(1)
}

fn init_tracing(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Entry point.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    // Commands that need neither a database nor a runtime.
    match &cli.command {
        Command::Deadline {
            from,
            amount,
            unit,
            at,
            municipality,
            residence,
        } => {
            return deadline(
                from,
                *amount,
                unit,
                at.as_deref(),
                municipality.clone(),
                residence.clone(),
            )
        }
        Command::Token {
            role,
            tenant,
            subject,
            assurance,
            ttl,
        } => return token(*role, tenant, subject, *assurance, *ttl),
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::routes::openapi_document())
                    .expect("the document serialises")
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = match Config::from_env(true) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    init_tracing(config.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return failure(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(&config).await,
            Command::Scheduler => scheduler(config).await,
            Command::Rebuild {
                read_model,
                effects,
            } => rebuild(&config, &read_model, effects).await,
            Command::Verify => verify(&config).await,
            Command::Openapi => unreachable!("answered without a database"),
            Command::Seal => seal(&config).await,
            Command::Calendar { change } => calendar(&config, change).await,
            Command::Demo {
                tenant,
                inscriptions,
            } => {
                if let Err(e) = run_migrations(&config).await {
                    return failure(e);
                }
                crate::demo::run(&config, &tenant, inscriptions).await
            }
            Command::Bench {
                which:
                    Bench::Eventlog {
                        seconds,
                        payload_bytes,
                    },
            } => crate::bench::eventlog(&config, seconds, payload_bytes).await,
            Command::Bench {
                which: Bench::Timers { count },
            } => crate::bench::timers(&config, count).await,
            Command::Deadline { .. } | Command::Token { .. } => unreachable!("handled above"),
        }
    })
}

fn token(role: Role, tenant: &str, subject: &str, assurance: Assurance, ttl: u64) -> ExitCode {
    let tenant: MunicipalityCode = match tenant.parse() {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    if role == Role::Citizen {
        if let Err(e) = subject.parse::<expedientes_domain::DocumentNumber>() {
            return usage(format!("a citizen's subject is their document number: {e}"));
        }
    } else if subject.trim().is_empty() {
        return usage("the subject must not be empty");
    }
    if ttl == 0 || ttl > 30 * 24 * 3600 {
        return usage("--ttl must be from 1 second to 30 days");
    }
    let config = match Config::from_env(false) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let keys = Keys::from_secret(&config.signing_key);
    println!(
        "{}",
        keys.mint(role, &tenant, subject.trim(), assurance, ttl)
    );
    ExitCode::SUCCESS
}

fn deadline(
    from: &str,
    amount: i64,
    unit: &str,
    at: Option<&str>,
    municipality: Option<String>,
    residence: Option<String>,
) -> ExitCode {
    let Ok(from) = NaiveDate::parse_from_str(from, "%Y-%m-%d") else {
        return usage(format!("--from '{from}' is not a date: use YYYY-MM-DD"));
    };
    if amount < 1 {
        return usage("--amount must be at least 1");
    }
    let Ok(amount) = u32::try_from(amount) else {
        return usage("--amount is too large");
    };
    let unit: Unit = match unit.parse() {
        Ok(u) => u,
        Err(e) => return usage(e),
    };
    let at = match at
        .map(|t| NaiveTime::parse_from_str(t, "%H:%M"))
        .transpose()
    {
        Ok(t) => t,
        Err(_) => return usage("--at must be a time as HH:MM"),
    };
    let request = DeadlineRequest {
        from,
        at,
        amount,
        unit,
        seat: municipality,
        residence,
    };
    match HolidayCalendar::bundled().compute(&request) {
        Ok(result) => {
            let json = serde_json::to_string(&result).expect("a result serialises");
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{json}");
            ExitCode::SUCCESS
        }
        Err(e) => usage(e),
    }
}

async fn migrate(config: &Config) -> ExitCode {
    match run_migrations(config).await {
        Ok(()) => {
            eprintln!("expedientes: migrations applied");
            ExitCode::SUCCESS
        }
        Err(e) => failure(e),
    }
}

async fn run_migrations(config: &Config) -> Result<(), String> {
    let owner = crate::connect(&config.database_url, false, 2)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    MIGRATOR
        .run(&owner)
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    owner.close().await;
    Ok(())
}

async fn serve(config: Config) -> ExitCode {
    if let Err(e) = run_migrations(&config).await {
        return failure(e);
    }
    if config.signing_key_source != "EXPEDIENTES_SIGNING_KEY" {
        tracing::warn!(source = %config.signing_key_source, "using a development signing key: set EXPEDIENTES_SIGNING_KEY in production");
    }
    let pool = match crate::connect(&config.database_url, true, 32).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect as the runtime role: {e}")),
    };
    let addr = config.addr;
    let projection_interval = config.projection_interval;
    let seal_interval = config.seal_interval;
    let state = crate::build_state(pool, config, Arc::new(SystemClock));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => return failure(format!("cannot listen on {addr}: {e}")),
    };
    tracing::info!(%addr, "serving");
    let shutdown = tokio_util_shutdown();
    tokio::spawn(projection_loop(state.runner.clone(), projection_interval));
    tokio::spawn(scheduler_loop(
        state.scheduler.clone(),
        state.runner.clone(),
        SCHEDULER_INTERVAL,
    ));
    tokio::spawn(seal_loop(state.log.clone(), seal_interval));
    tokio::spawn(notices_loop(state.clone()));
    let app = crate::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => failure(format!("server error: {e}")),
    }
}

async fn tokio_util_shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// How often the scheduler looks for due timers.
const SCHEDULER_INTERVAL: Duration = Duration::from_secs(1);

async fn scheduler(config: Config) -> ExitCode {
    if let Err(e) = run_migrations(&config).await {
        return failure(e);
    }
    let pool = match crate::connect(&config.database_url, true, 8).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect as the runtime role: {e}")),
    };
    let state = crate::build_state(pool, config, Arc::new(SystemClock));
    tracing::info!("scheduler running");
    tokio::select! {
        () = scheduler_loop(state.scheduler.clone(), state.runner.clone(), SCHEDULER_INTERVAL) => ExitCode::SUCCESS,
        () = tokio_util_shutdown() => ExitCode::SUCCESS,
    }
}

/// Fires due timers and follow-ups (after bringing the timers model up to date), and publishes
/// their figures.
async fn scheduler_loop(
    scheduler: expedientes_projections::Scheduler,
    runner: Runner,
    interval: Duration,
) {
    loop {
        if let Err(error) = runner.catch_up().await {
            tracing::error!(%error, "read models cannot catch up");
        }
        match scheduler.run_once().await {
            Ok(pass) if pass.handled() > 0 => tracing::info!(?pass, "timers fired"),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "scheduler pass failed"),
        }
        if let Err(error) = scheduler.publish_metrics().await {
            tracing::warn!(%error, "timer metrics unavailable");
        }
        tokio::time::sleep(interval).await;
    }
}

/// Keeps the read models caught up, and publishes their lag.
async fn projection_loop(runner: Runner, interval: Duration) {
    let mut ticks = 0u64;
    loop {
        if let Err(error) = runner.catch_up().await {
            tracing::error!(%error, "read models cannot catch up");
        }
        if ticks % 25 == 0 {
            for model in runner.models() {
                if let Ok(lag) = runner.lag(model.as_ref()).await {
                    metrics::gauge!("projection_lag_events", "model" => model.name())
                        .set(lag.events_behind as f64);
                    metrics::gauge!("projection_lag_seconds", "model" => model.name())
                        .set(lag.seconds_behind);
                }
            }
        }
        ticks += 1;
        tokio::time::sleep(interval).await;
    }
}

/// Sends the outbox's notices (with the log sender: it records that a message was sent, never its
/// body; a real e-mail/SMS gateway implements `NoticeSender`).
async fn notices_loop(state: crate::AppState) {
    let sender = crate::notices::LogSender;
    loop {
        match crate::notices::process_outbox(&state, &sender).await {
            Ok(0) => tokio::time::sleep(Duration::from_secs(1)).await,
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, "notices could not be sent");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

/// Seals the log periodically.
async fn seal_loop(log: EventLog, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        loop {
            match log.seal(10_000).await {
                Ok(Some(seal)) => {
                    tracing::info!(seal_id = seal.seal_id, events = seal.event_count, digest = %seal.digest, "sealed");
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::error!(%error, "sealing failed");
                    break;
                }
            }
        }
    }
}

async fn rebuild(config: &Config, name: &str, effects: EffectsArg) -> ExitCode {
    let owner = match crate::connect(&config.database_url, false, 4).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect to the database: {e}")),
    };
    let state = crate::build_state(owner.clone(), config.clone(), Arc::new(SystemClock));
    let models = if name == "all" {
        state.runner.models().to_vec()
    } else {
        match state.runner.model(name) {
            Some(model) => vec![model],
            None => {
                let names: Vec<_> = state.runner.models().iter().map(|m| m.name()).collect();
                return usage(format!(
                    "no read model '{name}'; there is: {}, or all",
                    names.join(", ")
                ));
            }
        }
    };
    let effects = match effects {
        EffectsArg::Refuse => RebuildEffects::Refuse,
        EffectsArg::Perform => RebuildEffects::Perform,
        EffectsArg::MarkDone => RebuildEffects::MarkDone,
    };
    for model in models {
        let name = model.name();
        let total: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_type = ANY($1)")
                .bind(model.stream_types())
                .fetch_one(&owner)
                .await
                .unwrap_or(0);
        let bar = ProgressBar::new(total.max(0) as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, {eta} left)",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(format!("rebuilding {name}"));
        let result = state
            .runner
            .rebuild(model.as_ref(), effects, &mut |n| {
                bar.set_length(bar.length().unwrap_or(0).max(n));
                bar.set_position(n);
            })
            .await;
        bar.finish();
        match result {
            Ok(n) => eprintln!("expedientes: {name} rebuilt from {n} events and swapped in"),
            Err(e @ expedientes_projections::ProjectionError::RebuildWouldAct { .. }) => {
                return failure(format!(
                    "{e}; nothing was swapped (see --effects perform | mark-done)"
                ))
            }
            Err(e) => return failure(format!("rebuild of {name} failed: {e}")),
        }
    }
    ExitCode::SUCCESS
}

async fn verify(config: &Config) -> ExitCode {
    let pool = match crate::connect(&config.database_url, true, 2).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect to the database: {e}")),
    };
    match EventLog::new(pool).verify().await {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("a report serialises")
            );
            if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => failure(format!("verification could not run: {e}")),
    }
}

async fn calendar(config: &Config, change: CalendarChange) -> ExitCode {
    use expedientes_domain::council_calendar::{self, Command as CalendarCommand, CouncilCalendar};
    use expedientes_eventlog::{CommandError, CommandRequest, Metadata};

    let (tenant, actor, command) = match change {
        CalendarChange::PublishYear {
            tenant,
            actor,
            file,
            source,
        } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => return usage(format!("cannot read {}: {e}", file.display())),
            };
            let year = match expedientes_domain::calendar::YearCalendar::from_json(&text) {
                Ok(y) => y,
                Err(e) => return usage(format!("{}: {e}", file.display())),
            };
            let at = chrono::Utc::now();
            (
                tenant,
                actor,
                CalendarCommand::PublishYear {
                    calendar: year,
                    source,
                    at,
                },
            )
        }
        CalendarChange::SetLocal {
            tenant,
            actor,
            year,
            municipality,
            days,
            source,
        } => {
            let municipality = match municipality.parse() {
                Ok(m) => m,
                Err(e) => return usage(e),
            };
            let mut parsed = Vec::new();
            for day in &days {
                match NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d") {
                    Ok(d) => parsed.push(d),
                    Err(_) => return usage(format!("--days: '{day}' is not a date (YYYY-MM-DD)")),
                }
            }
            let at = chrono::Utc::now();
            (
                tenant,
                actor,
                CalendarCommand::SetLocalDays {
                    year,
                    municipality,
                    days: parsed,
                    source,
                    at,
                },
            )
        }
    };
    let tenant: MunicipalityCode = match tenant.parse() {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    if actor.trim().is_empty() {
        return usage("--actor must name the administrator");
    }
    let pool = match crate::connect(&config.database_url, true, 2).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect to the database: {e}")),
    };
    let result = EventLog::new(pool)
        .execute::<CouncilCalendar>(
            CommandRequest {
                tenant: tenant.clone(),
                stream_id: council_calendar::stream_id(&tenant),
                expected_version: None,
                metadata: Metadata {
                    actor_id: actor.trim().to_owned(),
                    actor_role: "admin".into(),
                    channel: Some("cli".into()),
                    correlation_id: uuid::Uuid::new_v4(),
                    command_id: Some(uuid::Uuid::new_v4()),
                    ..Metadata::default()
                },
                request_hash: None,
            },
            move |_, _| command.clone(),
        )
        .await;
    match result {
        Ok(outcome) => {
            eprintln!(
                "expedientes: calendar of {tenant} changed (version {})",
                outcome.version
            );
            ExitCode::SUCCESS
        }
        Err(CommandError::Refused(refusal)) => usage(refusal),
        Err(e) => failure(e),
    }
}

async fn seal(config: &Config) -> ExitCode {
    let pool = match crate::connect(&config.database_url, true, 2).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect to the database: {e}")),
    };
    let log = EventLog::new(pool);
    let mut sealed = 0;
    loop {
        match log.seal(10_000).await {
            Ok(Some(seal)) => {
                sealed += seal.event_count;
                println!(
                    "{}",
                    serde_json::to_string(&seal).expect("a seal serialises")
                );
            }
            Ok(None) => break,
            Err(e) => return failure(format!("sealing failed: {e}")),
        }
    }
    eprintln!("expedientes: {sealed} events sealed");
    ExitCode::SUCCESS
}
