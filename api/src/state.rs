//! What every handler shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use expedientes_domain::calendar::HolidayCalendar;

use expedientes_eventlog::EventLog;
use expedientes_projections::{CaseView, Clock, Registry, Runner, Scheduler};
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

use crate::auth::Keys;
use crate::config::Config;
use crate::pipeline::KeyLocks;

/// Each council's effective calendar, keyed by INE code, with its stream's version.
pub type CalendarCache = Arc<Mutex<HashMap<String, (i32, Arc<HolidayCalendar>)>>>;

/// The application's shared state.
#[derive(Clone)]
pub struct AppState {
    /// The event log.
    pub log: EventLog,
    /// The pool (runtime role) for read-model queries.
    pub pool: PgPool,
    /// The read models' runner (commands catch it up so a caller reads its own writes).
    pub runner: Runner,
    /// Fires due deadline timers.
    pub scheduler: Scheduler,
    /// The case view (also used to rebuild a file as it was at a moment).
    pub case_view: Arc<CaseView>,
    /// Each council's effective legal calendar, with the version of its stream it reflects.
    pub calendars: CalendarCache,
    /// The token keys.
    pub keys: Keys,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The configuration.
    pub config: Arc<Config>,
    /// The Prometheus registry's handle, when metrics are installed.
    pub metrics: Option<PrometheusHandle>,
    /// Every procedure, declared once (`crate::procedures`).
    pub registry: Registry,
    /// Keyed commands in flight, so that copies of one request run one after the other.
    pub key_locks: KeyLocks,
    /// Where documents' bytes are kept.
    pub documents: Arc<dyn crate::documents::DocumentStore>,
    /// The key person streams' ids are derived with, read from the database on first use.
    pub person_key: Arc<tokio::sync::OnceCell<crate::person_ids::PersonKey>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
