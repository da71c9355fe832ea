//! The append-only event log on PostgreSQL: one `events` table for every stream of every tenant.
//!
//! It sits between the pure domain (whose events it stores as JSON without knowing them) and the
//! projections (which read it in order). What it guarantees, and how, is described in
//! `docs/ARCHITECTURE.md`; in short:
//! - appends are one statement, hence one transaction, for any number of events and streams;
//! - a stale expected version gets [`AppendError::Conflict`], never an overwrite;
//! - a command id is used once per tenant: a retry returns the first result;
//! - readers use a [`Cursor`] of (transaction id, position) below the snapshot's xmin, so no event
//!   committed late is ever skipped;
//! - every event is hash-chained within its stream and ranges of the log are sealed; [`verify`]
//!   recomputes all of it.

mod append;
pub mod batch;
mod command;
mod error;
mod read;
mod seal;
mod verify;

pub use append::{AppendError, AppendRequest, Appended, AppendedEvent, NewEvent, StreamAppend};
pub use command::{
    CommandError, CommandOutcome, CommandRequest, Decision, LoadError, Loaded, Streams,
};
pub use error::StoreError;
pub use read::{Cursor, StoredEvent, Until, Upcasters};
pub use seal::Seal;
pub use verify::{VerificationFailure, VerificationReport};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// The migrations that define the whole schema (the only place it is defined).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The name of the database role the service runs as; it may only read and append to the log.
pub const RUNTIME_ROLE: &str = "expedientes_runtime";

/// Who did something, for whom, through which channel, and why: stored with every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Metadata {
    /// The acting user's id (a document number or an employee id), or `system`.
    pub actor_id: String,
    /// Their role (citizen, caseworker, auditor, admin, system).
    pub actor_role: String,
    /// The person the actor acted for, when acting as a representative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    /// The channel (api, in_person, phone, scheduler…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Groups every event caused by one user request.
    pub correlation_id: Uuid,
    /// The event or request that caused this command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// The command's idempotency id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<Uuid>,
}

/// A handle on the event log.
#[derive(Debug, Clone)]
pub struct EventLog {
    pool: PgPool,
    upcasters: std::sync::Arc<Upcasters>,
    batcher: Option<batch::Batcher>,
}

impl EventLog {
    /// A log over this pool, with no upcasters. Inside a tokio runtime, concurrent appends are
    /// grouped into shared commits (see [`batch`]).
    pub fn new(pool: PgPool) -> Self {
        Self::with_upcasters(pool, Upcasters::default())
    }

    /// A log that writes every append in its own statement, without grouping concurrent appends:
    /// what tests of raw concurrency between writers need.
    pub fn without_batching(pool: PgPool) -> Self {
        Self {
            pool,
            upcasters: Default::default(),
            batcher: None,
        }
    }

    /// A log that upcasts old event payloads on read.
    pub fn with_upcasters(pool: PgPool, upcasters: Upcasters) -> Self {
        let batcher = tokio::runtime::Handle::try_current()
            .ok()
            .map(|runtime| batch::Batcher::start(&runtime, pool.clone()));
        Self {
            pool,
            upcasters: std::sync::Arc::new(upcasters),
            batcher,
        }
    }

    /// The pool it uses.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Appends events (see [`AppendRequest`]).
    pub async fn append(&self, request: AppendRequest) -> Result<Appended, AppendError> {
        match &self.batcher {
            Some(batcher) => batcher.append(&self.pool, request).await,
            None => append::append(&self.pool, request).await,
        }
    }

    /// The events of one stream in version order, up to `max_version` if given.
    pub async fn load_stream(
        &self,
        tenant: &str,
        stream_id: Uuid,
        until: Until,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        read::load_stream(&self.pool, &self.upcasters, tenant, stream_id, until).await
    }

    /// The events of several streams of one tenant, each in version order.
    pub async fn load_streams(
        &self,
        tenant: &str,
        stream_ids: &[Uuid],
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        read::load_streams(&self.pool, &self.upcasters, tenant, stream_ids).await
    }

    /// Up to `limit` events after `cursor` in reading order (commit-safe; see [`Cursor`]),
    /// optionally only one tenant's and only some stream types.
    pub async fn read_after(
        &self,
        cursor: Cursor,
        limit: i64,
        tenant: Option<&str>,
        stream_types: Option<&[String]>,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        read::read_after(
            &self.pool,
            &self.upcasters,
            cursor,
            limit,
            tenant,
            stream_types,
        )
        .await
    }

    /// [`EventLog::read_after`] on a given connection (inside a caller's transaction), so that a
    /// reader holding a transaction does not need a second connection from the pool.
    pub async fn read_after_on(
        &self,
        conn: &mut sqlx::PgConnection,
        cursor: Cursor,
        limit: i64,
        tenant: Option<&str>,
        stream_types: Option<&[String]>,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        read::read_after(conn, &self.upcasters, cursor, limit, tenant, stream_types).await
    }

    /// The event at `position`, if there is one.
    pub async fn event_at(&self, position: i64) -> Result<Option<StoredEvent>, sqlx::Error> {
        read::event_at(&self.pool, &self.upcasters, position).await
    }

    /// The cursor of the event at `position` (for paging by position), `None` if there is none.
    pub async fn cursor_at(&self, position: i64) -> Result<Option<Cursor>, sqlx::Error> {
        read::cursor_at(&self.pool, position).await
    }

    /// Seals the next range of the log (at most `max_events` events), if there is anything new
    /// below the watermark.
    pub async fn seal(&self, max_events: i64) -> Result<Option<Seal>, sqlx::Error> {
        seal::seal(&self.pool, max_events).await
    }

    /// Recomputes every hash, chain link and seal; names the first event that does not match.
    pub async fn verify(&self) -> Result<VerificationReport, sqlx::Error> {
        verify::verify(&self.pool).await
    }
}
