//! The composition root of *expedientes*: the JSON API (axum) and the `expedientes` command line.
//! Configuration, authentication and wiring live here; it is the only crate that knows HTTP, and
//! the only place where domain refusals and infrastructure failures become statuses.

pub mod auth;
pub mod bench;
pub mod case_numbers;
pub mod cli;
pub mod config;
pub mod deadlines;
pub mod demo;
pub mod documents;
pub mod extract;
pub mod notices;
pub mod openapi;
pub mod pdf;
pub mod person_ids;
pub mod pipeline;
pub mod problem;
pub mod procedures;
pub mod registry_entries;
pub mod routes;
pub mod secrets;
pub mod server;
pub mod state;

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use expedientes_eventlog::{EventLog, RUNTIME_ROLE};
use expedientes_projections::{
    CaseView, Clock, Outbox, ReadModel, RegistryBook, Runner, Scheduler, Timers,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Executor, PgPool};

pub use routes::router;
pub use state::AppState;

/// Connects to the database. With `runtime_role`, every connection switches to the role that may
/// only read and append to the log (the service); without, it keeps the owner's rights
/// (migrations, rebuilds).
pub async fn connect(
    url: &str,
    runtime_role: bool,
    max_connections: u32,
) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?
        .application_name("expedientes")
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1))
        .log_statements(tracing::log::LevelFilter::Trace);
    let mut pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10));
    if runtime_role {
        pool = pool.after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(format!("SET ROLE {RUNTIME_ROLE}").as_str())
                    .await?;
                Ok(())
            })
        });
    }
    pool.connect_with(options).await
}

/// The process-wide Prometheus recorder (installed once).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .install_recorder()
                .expect("the metrics recorder is installed once")
        })
        .clone()
}

/// The deadline timers of every procedure.
pub fn timers(timezone: chrono_tz::Tz) -> Timers {
    Timers::new(procedures::registry(), timezone)
}

/// Wires the application over a pool that uses the runtime role.
pub fn build_state(pool: PgPool, config: config::Config, clock: Arc<dyn Clock>) -> AppState {
    let log = EventLog::new(pool.clone());
    let registry = procedures::registry();
    for name in config.sia_codes.keys() {
        if registry.get(name).is_none() {
            tracing::warn!(
                variable = %format!("{}{}", config::SIA_PREFIX, name.to_ascii_uppercase()),
                procedures = ?registry.names(),
                "a SIA code is configured for a procedure that does not exist"
            );
        }
    }
    let case_view = Arc::new(CaseView::new(registry.clone()));
    let timers = Arc::new(Timers::new(registry.clone(), config.timezone));
    let mut models: Vec<Arc<dyn ReadModel>> = vec![
        case_view.clone(),
        timers.clone(),
        Arc::new(Outbox::new(registry.clone())),
        Arc::new(RegistryBook::new(registry.clone())),
    ];
    models.extend(procedures::read_models());
    let runner = Runner::new(log.clone(), models);
    let scheduler = Scheduler::new(log.clone(), timers, clock.clone());
    AppState {
        documents: Arc::new(documents::PostgresDocumentStore::new(pool.clone())),
        scheduler,
        keys: match &config.staff_identity {
            Some(staff) => {
                auth::Keys::from_secret(&config.signing_key).with_staff_identity(staff.clone())
            }
            None => auth::Keys::from_secret(&config.signing_key),
        },
        log,
        pool,
        runner,
        case_view,
        calendars: Arc::default(),
        clock,
        config: Arc::new(config),
        metrics: Some(metrics_handle()),
        registry,
        key_locks: Default::default(),
        person_key: Arc::default(),
    }
}
