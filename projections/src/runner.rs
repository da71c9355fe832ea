//! The catch-up runner, rebuild and lag.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use expedientes_eventlog::{Cursor, EventLog, StoredEvent};
use sqlx::{Acquire, PgConnection, Postgres, Transaction};

/// Why a projection could not advance.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// An event could not be understood (a bug, or a missing upcaster): the model stops at it
    /// rather than skip it.
    #[error("read model {model} cannot apply event {position}: {reason}")]
    Undecodable {
        /// The model.
        model: &'static str,
        /// The event's position.
        position: i64,
        /// Why.
        reason: String,
    },
    /// A rebuild would act in the world (send notices the live model never queued), and the
    /// caller did not say how to treat them: nothing was swapped.
    #[error("rebuilding {model} would act {count} time(s) in the world (e.g. send notices the live model does not hold); say how to treat them: perform them, or mark them as done")]
    RebuildWouldAct {
        /// The model.
        model: &'static str,
        /// How many effects.
        count: u64,
    },
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl ProjectionError {
    /// Whether the failure is the event's (it cannot be decoded, or the database refuses a row it
    /// makes: too long for an index, a constraint), not the database's being out of reach.
    pub fn is_poison(&self) -> bool {
        matches!(
            self,
            ProjectionError::Undecodable { .. }
                | ProjectionError::Database(sqlx::Error::Database(_))
        )
    }
}

/// What a rebuild does with effects in the world that the rebuilt model holds but the live one
/// never did (e.g. notices of events the live outbox lost): found just before the swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RebuildEffects {
    /// Refuse the rebuild if there is any (the default): nothing is swapped.
    #[default]
    Refuse,
    /// Keep them to be carried out (e.g. the notices are sent).
    Perform,
    /// Record them as done without carrying them out.
    MarkDone,
}

/// An event's payload as the model's event type: undecodable, the event is set aside by the
/// runner (see [`ProjectionError::Undecodable`]) and the other streams go on.
pub fn decode<E: serde::de::DeserializeOwned>(
    model: &'static str,
    stored: &StoredEvent,
) -> Result<E, ProjectionError> {
    serde_json::from_value(stored.payload.clone()).map_err(|e| ProjectionError::Undecodable {
        model,
        position: stored.position,
        reason: e.to_string(),
    })
}

/// The physical names of a model's tables: the live ones, or the copies being rebuilt.
#[derive(Debug, Clone)]
pub struct Tables {
    names: HashMap<&'static str, String>,
}

impl Tables {
    fn live(model: &dyn ReadModel) -> Self {
        Self {
            names: model
                .tables()
                .iter()
                .map(|t| (*t, (*t).to_owned()))
                .collect(),
        }
    }

    fn rebuild(model: &dyn ReadModel) -> Self {
        Self {
            names: model
                .tables()
                .iter()
                .map(|t| (*t, format!("{t}__rebuild")))
                .collect(),
        }
    }

    /// The physical name of a logical table.
    pub fn get(&self, logical: &str) -> &str {
        self.names
            .get(logical)
            .unwrap_or_else(|| panic!("read model uses undeclared table {logical}"))
    }
}

/// A read model.
#[async_trait]
pub trait ReadModel: Send + Sync {
    /// Its name (the checkpoint's key, and the name `rebuild` takes).
    fn name(&self) -> &'static str;
    /// The stream types it handles; events of other streams are not read.
    fn stream_types(&self) -> Vec<String>;
    /// The tables it owns (all rebuilt together).
    fn tables(&self) -> &'static [&'static str];
    /// Applies a batch of events, in order, inside the transaction that will also store the
    /// checkpoint.
    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError>;

    /// Just before a rebuild's swap (both copies caught up, the live runner stopped): carries over
    /// into the fresh tables what the live ones know of work already done outside the log (a
    /// timer already fired), so that a rebuild never does it again.
    async fn carry_over(
        &self,
        _conn: &mut PgConnection,
        _live: &Tables,
        _fresh: &Tables,
    ) -> Result<(), ProjectionError> {
        Ok(())
    }

    /// After [`ReadModel::carry_over`]: the effects in the world the fresh tables would have that
    /// the live ones do not hold (done or queued), as a count; with `mark_done`, they are recorded
    /// as done instead. Zero for models without effects.
    async fn rebuild_effects(
        &self,
        _conn: &mut PgConnection,
        _live: &Tables,
        _fresh: &Tables,
        _mark_done: bool,
    ) -> Result<u64, ProjectionError> {
        Ok(0)
    }
}

/// How far behind a model is.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Lag {
    /// Events of its stream types not yet applied.
    pub events_behind: i64,
    /// Age of the oldest of them, in seconds (0 when up to date).
    pub seconds_behind: f64,
    /// Events it set aside because it could not apply them (see [`Runner::failures`]).
    pub set_aside: i64,
}

/// An event a model set aside.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct SetAside {
    /// The model.
    pub model: String,
    /// The event's position.
    pub position: i64,
    /// Its tenant.
    pub tenant: String,
    /// Its stream.
    pub stream_id: uuid::Uuid,
    /// Why it could not be applied.
    pub error: String,
    /// When.
    pub failed_at: chrono::DateTime<chrono::Utc>,
}

async fn set_aside(
    tx: &mut Transaction<'static, Postgres>,
    model: &str,
    event: &StoredEvent,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_failures (model, position, transaction_id, tenant, stream_id, error)
         VALUES ($1, $2, $3::bigint::text::xid8, $4, $5, $6) ON CONFLICT (model, position) DO NOTHING",
    )
    .bind(model)
    .bind(event.position)
    .bind(event.transaction_id)
    .bind(&event.tenant)
    .bind(event.stream_id)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Runs read models forward.
#[derive(Clone)]
pub struct Runner {
    log: EventLog,
    models: Vec<Arc<dyn ReadModel>>,
    batch_size: i64,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field(
                "models",
                &self.models.iter().map(|m| m.name()).collect::<Vec<_>>(),
            )
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

impl Runner {
    /// A runner over these models.
    pub fn new(log: EventLog, models: Vec<Arc<dyn ReadModel>>) -> Self {
        Self {
            log,
            models,
            batch_size: 500,
        }
    }

    /// Changes how many events are applied per transaction.
    pub fn with_batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The models.
    pub fn models(&self) -> &[Arc<dyn ReadModel>] {
        &self.models
    }

    /// A model by name.
    pub fn model(&self, name: &str) -> Option<Arc<dyn ReadModel>> {
        self.models.iter().find(|m| m.name() == name).cloned()
    }

    /// Brings every model up to the log's watermark; returns how many events were applied.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        let mut applied = 0;
        for model in &self.models {
            let tables = Tables::live(model.as_ref());
            applied += self
                .catch_up_model(model.as_ref(), model.name(), &tables, &mut |_| {})
                .await?;
        }
        Ok(applied)
    }

    /// Waits (up to `timeout`) until every event committed so far is below the reading watermark,
    /// then catches up: afterwards the read models reflect at least everything committed before the
    /// call. The watermark is held back by any transaction of the cluster still running, so this
    /// is how a command's caller reads its own write, and how tests wait for the models.
    pub async fn settle(&self, timeout: std::time::Duration) -> Result<u64, ProjectionError> {
        let newest: Option<i64> = sqlx::query_scalar(
            "SELECT transaction_id::text::bigint FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1",
        )
        .fetch_optional(self.log.pool())
        .await?;
        if let Some(newest) = newest {
            let deadline = std::time::Instant::now() + timeout;
            loop {
                let visible: bool = sqlx::query_scalar(
                    "SELECT $1::bigint::text::xid8 < pg_snapshot_xmin(pg_current_snapshot())",
                )
                .bind(newest)
                .fetch_one(self.log.pool())
                .await?;
                if visible || std::time::Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
        self.catch_up().await
    }

    async fn catch_up_model(
        &self,
        model: &dyn ReadModel,
        checkpoint: &str,
        tables: &Tables,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64, ProjectionError> {
        let mut applied = 0;
        loop {
            let mut tx = self.log.pool().begin().await?;
            let n = self.step(&mut tx, model, checkpoint, tables).await?;
            tx.commit().await?;
            if n == 0 {
                return Ok(applied);
            }
            applied += n;
            metrics::counter!("projection_events_applied_total", "model" => model.name())
                .increment(n);
            progress(applied);
        }
    }

    /// One batch inside `tx`: lock the checkpoint (one runner per model at a time), read the next
    /// events after it, apply them, move it.
    async fn step(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        model: &dyn ReadModel,
        checkpoint: &str,
        tables: &Tables,
    ) -> Result<u64, ProjectionError> {
        sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(checkpoint)
            .execute(&mut **tx)
            .await?;
        let (transaction_id, position): (i64, i64) = sqlx::query_as(
            "SELECT transaction_id::text::bigint, position FROM projection_checkpoints WHERE name = $1 FOR UPDATE",
        )
        .bind(checkpoint)
        .fetch_one(&mut **tx)
        .await?;
        let cursor = Cursor {
            transaction_id,
            position,
        };
        let types = model.stream_types();
        // Read on the transaction's own connection: waiting for a second one while holding the
        // checkpoint lock could exhaust the pool when many callers catch up at once.
        let events = self
            .log
            .read_after_on(tx, cursor, self.batch_size, None, Some(&types))
            .await?;
        let Some(last) = events.last() else {
            return Ok(0);
        };
        self.apply_isolating(tx, model, checkpoint, tables, &events)
            .await?;
        sqlx::query(
            "UPDATE projection_checkpoints SET transaction_id = $2::bigint::text::xid8, position = $3, updated_at = now()
             WHERE name = $1",
        )
        .bind(checkpoint)
        .bind(last.transaction_id)
        .bind(last.position)
        .execute(&mut **tx)
        .await?;
        Ok(events.len() as u64)
    }

    /// Applies a batch so that no event can stop the model: events of streams already set aside
    /// wait behind them; if the batch fails on what an event holds (it cannot be decoded, or the
    /// database refuses a row it makes), the batch is applied event by event and each event that
    /// fails is set aside in `projection_failures`, with its stream's later events, while every
    /// other stream goes on. A failure of the database itself (unreachable) is returned: nothing
    /// is set aside, and the batch is tried again later.
    async fn apply_isolating(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        model: &dyn ReadModel,
        checkpoint: &str,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let streams: Vec<uuid::Uuid> = events.iter().map(|e| e.stream_id).collect();
        let mut stuck: HashMap<uuid::Uuid, i64> = sqlx::query_as::<_, (uuid::Uuid, i64)>(
            "SELECT stream_id, min(position) FROM projection_failures
             WHERE model = $1 AND resolved_at IS NULL AND stream_id = ANY($2) GROUP BY stream_id",
        )
        .bind(checkpoint)
        .bind(&streams)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();
        if !events.iter().any(|e| stuck.contains_key(&e.stream_id)) {
            sqlx::query("SAVEPOINT batch").execute(&mut **tx).await?;
            match model.apply(tx.acquire().await?, tables, events).await {
                Ok(()) => {
                    sqlx::query("RELEASE SAVEPOINT batch")
                        .execute(&mut **tx)
                        .await?;
                    return Ok(());
                }
                Err(error) if !error.is_poison() => return Err(error),
                Err(_) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT batch")
                        .execute(&mut **tx)
                        .await?;
                }
            }
        }
        for event in events {
            if let Some(first) = stuck.get(&event.stream_id) {
                let reason = format!(
                    "set aside behind event {first} of the same stream, which this model could not apply"
                );
                set_aside(tx, checkpoint, event, &reason).await?;
                continue;
            }
            sqlx::query("SAVEPOINT one").execute(&mut **tx).await?;
            match model
                .apply(tx.acquire().await?, tables, std::slice::from_ref(event))
                .await
            {
                Ok(()) => {
                    sqlx::query("RELEASE SAVEPOINT one")
                        .execute(&mut **tx)
                        .await?;
                }
                Err(error) if !error.is_poison() => return Err(error),
                Err(error) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT one")
                        .execute(&mut **tx)
                        .await?;
                    tracing::error!(model = model.name(), position = event.position, tenant = %event.tenant,
                        stream = %event.stream_id, %error, "a read model set an event aside");
                    metrics::counter!("projection_events_set_aside_total", "model" => model.name())
                        .increment(1);
                    set_aside(tx, checkpoint, event, &error.to_string()).await?;
                    stuck.insert(event.stream_id, event.position);
                }
            }
        }
        Ok(())
    }

    /// The events a model set aside and that no retry has applied yet, oldest first.
    pub async fn failures(&self, model: &str) -> Result<Vec<SetAside>, ProjectionError> {
        Ok(sqlx::query_as::<_, SetAside>(
            "SELECT model, position, tenant, stream_id, error, failed_at FROM projection_failures
             WHERE model = $1 AND resolved_at IS NULL ORDER BY transaction_id, position",
        )
        .bind(model)
        .fetch_all(self.log.pool())
        .await?)
    }

    /// Applies again, in order, the events a model set aside (after the bug or the data that made
    /// them fail was fixed): those that apply now are marked resolved; a stream whose event still
    /// fails stays set aside from it. Returns (applied, still set aside).
    pub async fn retry_failures(
        &self,
        model: &dyn ReadModel,
    ) -> Result<(u64, u64), ProjectionError> {
        let tables = Tables::live(model);
        let mut tx = self.log.pool().begin().await?;
        // The live runner waits meanwhile: the model's checkpoint is held.
        sqlx::query("SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE")
            .bind(model.name())
            .execute(&mut *tx)
            .await?;
        let positions: Vec<i64> = sqlx::query_scalar(
            "SELECT position FROM projection_failures WHERE model = $1 AND resolved_at IS NULL
             ORDER BY transaction_id, position",
        )
        .bind(model.name())
        .fetch_all(&mut *tx)
        .await?;
        let mut failed_streams = std::collections::HashSet::new();
        let (mut applied, mut remaining) = (0, 0);
        for position in positions {
            let Some(event) = self.log.event_at(position).await? else {
                continue;
            };
            if failed_streams.contains(&event.stream_id) {
                remaining += 1;
                continue;
            }
            sqlx::query("SAVEPOINT one").execute(&mut *tx).await?;
            match model
                .apply(tx.acquire().await?, &tables, std::slice::from_ref(&event))
                .await
            {
                Ok(()) => {
                    sqlx::query("RELEASE SAVEPOINT one")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "UPDATE projection_failures SET resolved_at = now() WHERE model = $1 AND position = $2",
                    )
                    .bind(model.name())
                    .bind(position)
                    .execute(&mut *tx)
                    .await?;
                    applied += 1;
                }
                Err(error) if !error.is_poison() => return Err(error),
                Err(error) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT one")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "UPDATE projection_failures SET error = $3, failed_at = now() WHERE model = $1 AND position = $2",
                    )
                    .bind(model.name())
                    .bind(position)
                    .bind(error.to_string())
                    .execute(&mut *tx)
                    .await?;
                    failed_streams.insert(event.stream_id);
                    remaining += 1;
                }
            }
        }
        tx.commit().await?;
        Ok((applied, remaining))
    }

    /// How far behind a model is.
    pub async fn lag(&self, model: &dyn ReadModel) -> Result<Lag, ProjectionError> {
        let (behind, age): (i64, Option<f64>) = sqlx::query_as(
            "SELECT count(*), extract(epoch FROM now() - min(e.recorded_at))::float8
             FROM events e
             LEFT JOIN projection_checkpoints c ON c.name = $1
             WHERE (e.transaction_id, e.position) >
                   (coalesce(c.transaction_id, '0'::xid8), coalesce(c.position, 0))
               AND e.stream_type = ANY($2)",
        )
        .bind(model.name())
        .bind(model.stream_types())
        .fetch_one(self.log.pool())
        .await?;
        let set_aside: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM projection_failures WHERE model = $1 AND resolved_at IS NULL",
        )
        .bind(model.name())
        .fetch_one(self.log.pool())
        .await?;
        Ok(Lag {
            events_behind: behind,
            seconds_behind: age.unwrap_or(0.0).max(0.0),
            set_aside,
        })
    }

    /// Rebuilds a model from position 0 into fresh tables, then swaps them in atomically and moves
    /// the live checkpoint to where the rebuild stopped. Readers see the old tables until the swap.
    /// Needs the owner's privileges (it creates and drops tables): the command line runs it.
    /// `progress` is called with the number of events applied so far.
    pub async fn rebuild(
        &self,
        model: &dyn ReadModel,
        effects: RebuildEffects,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<u64, ProjectionError> {
        let fresh = Tables::rebuild(model);
        let checkpoint = format!("{}__rebuild", model.name());
        {
            let mut tx = self.log.pool().begin().await?;
            for table in model.tables() {
                let copy = fresh.get(table);
                sqlx::query(&format!("DROP TABLE IF EXISTS {copy}"))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&format!("CREATE TABLE {copy} (LIKE {table} INCLUDING ALL)"))
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("DELETE FROM projection_checkpoints WHERE name = $1")
                .bind(&checkpoint)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM projection_failures WHERE model = $1")
                .bind(&checkpoint)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        let mut applied = self
            .catch_up_model(model, &checkpoint, &fresh, progress)
            .await?;

        // The swap: stop the live runner (checkpoint lock), apply what arrived meanwhile, switch.
        let mut tx = self.log.pool().begin().await?;
        sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(model.name())
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT 1 FROM projection_checkpoints WHERE name = $1 FOR UPDATE")
            .bind(model.name())
            .execute(&mut *tx)
            .await?;
        loop {
            let n = self.step(&mut tx, model, &checkpoint, &fresh).await?;
            if n == 0 {
                break;
            }
            applied += n;
            progress(applied);
        }
        // The live copy too, so that both hold the same events when they are compared.
        let live = Tables::live(model);
        while self.step(&mut tx, model, model.name(), &live).await? > 0 {}
        model.carry_over(&mut tx, &live, &fresh).await?;
        let found = model
            .rebuild_effects(&mut tx, &live, &fresh, effects == RebuildEffects::MarkDone)
            .await?;
        if found > 0 && effects == RebuildEffects::Refuse {
            // Dropping the transaction rolls back; the copies are dropped by the next rebuild.
            return Err(ProjectionError::RebuildWouldAct {
                model: model.name(),
                count: found,
            });
        }
        for table in model.tables() {
            let copy = fresh.get(table);
            sqlx::query(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!("DROP TABLE {table}"))
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!("ALTER TABLE {copy} RENAME TO {table}"))
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {}",
                expedientes_eventlog::RUNTIME_ROLE
            ))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE projection_checkpoints live
             SET transaction_id = r.transaction_id, position = r.position, updated_at = now()
             FROM projection_checkpoints r WHERE live.name = $1 AND r.name = $2",
        )
        .bind(model.name())
        .bind(&checkpoint)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM projection_checkpoints WHERE name = $1")
            .bind(&checkpoint)
            .execute(&mut *tx)
            .await?;
        // What the rebuilt tables set aside is now the model's; what the old ones had set aside
        // and the rebuild applied is resolved.
        sqlx::query(
            "UPDATE projection_failures SET resolved_at = now()
             WHERE model = $1 AND resolved_at IS NULL
               AND position NOT IN (SELECT position FROM projection_failures WHERE model = $2)",
        )
        .bind(model.name())
        .bind(&checkpoint)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM projection_failures WHERE model = $1 AND position IN (SELECT position FROM projection_failures WHERE model = $2)")
            .bind(model.name())
            .bind(&checkpoint)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE projection_failures SET model = $1 WHERE model = $2")
            .bind(model.name())
            .bind(&checkpoint)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(applied)
    }
}
