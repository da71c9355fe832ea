//! Durable deadline timers: a read model of the deadlines each file has running (kept from the
//! events that open, move, suspend or close them), and the scheduler that fires them.
//!
//! Firing sends the command the procedure derives from the timer ([`Procedure::timer_command`])
//! through the event log, with a command id derived from the timer and its generation: however
//! often a timer is claimed (several schedulers, a crash between the append and the bookkeeping,
//! a rebuild of this model), its command takes effect once. Schedulers claim due timers with
//! `FOR UPDATE SKIP LOCKED`, so several can run at once without waiting on each other.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use expedientes_domain::TimerEffect;
use expedientes_eventlog::{EventLog, StoredEvent};
use serde::Serialize;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::clock::Clock;
use crate::registry::Registry;
use crate::runner::{ProjectionError, ReadModel, Tables};

/// What happened when a timer fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FireOutcome {
    /// The command was accepted (or had been, by an earlier claim of the same timer).
    Accepted,
    /// The aggregate refused it: the file moved on. The timer is closed.
    Refused(String),
    /// The procedure does not know this kind of timer.
    Unknown,
    /// A failure to retry later.
    Failed(String),
}

/// A due timer, as handed to its procedure.
#[derive(Debug, Clone)]
pub struct FireRequest {
    /// The timer.
    pub timer_id: Uuid,
    /// Its generation (how many times it was set).
    pub generation: i32,
    /// The tenant.
    pub tenant: String,
    /// The file.
    pub case_id: Uuid,
    /// The kind.
    pub kind: String,
    /// Its data.
    pub data: serde_json::Value,
    /// The firing time.
    pub now: DateTime<Utc>,
    /// The council's local date at the firing time.
    pub today: NaiveDate,
}

/// The timers read model, over every registered procedure.
pub struct Timers {
    registry: Registry,
    timezone: Tz,
}

impl std::fmt::Debug for Timers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timers")
            .field("procedures", &self.registry.names())
            .field("timezone", &self.timezone)
            .finish()
    }
}

/// The command id of a timer's firing: the same for every claim of the same setting.
pub fn firing_command_id(timer_id: Uuid, generation: i32) -> Uuid {
    Uuid::new_v5(&timer_id, &generation.to_le_bytes())
}

/// The id of a file's timer of a kind.
pub fn timer_id(case_id: Uuid, kind: &str) -> Uuid {
    Uuid::new_v5(&case_id, kind.as_bytes())
}

impl Timers {
    /// The name of the model and of its table.
    pub const NAME: &'static str = "deadline_timers";

    /// Timers of the registry's procedures, firing at the start of a day in this time zone.
    pub fn new(registry: Registry, timezone: Tz) -> Self {
        Self { registry, timezone }
    }

    fn fires_at(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
        self.timezone
            .from_local_datetime(&midnight)
            .earliest()
            .map_or_else(
                || Utc.from_utc_datetime(&midnight),
                |t| t.with_timezone(&Utc),
            )
    }
}

#[async_trait]
impl ReadModel for Timers {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn stream_types(&self) -> Vec<String> {
        self.registry.names()
    }

    fn tables(&self) -> &'static [&'static str] {
        &["deadline_timers"]
    }

    /// A setting of a timer that already fired (or was closed, or failed) stays so in the rebuilt
    /// table: its command is not sent again (it would only be a replay of the same command id).
    async fn carry_over(
        &self,
        conn: &mut PgConnection,
        live: &Tables,
        fresh: &Tables,
    ) -> Result<(), ProjectionError> {
        let (live, fresh) = (live.get("deadline_timers"), fresh.get("deadline_timers"));
        sqlx::query(&format!(
            "UPDATE {fresh} f SET state = l.state, outcome = l.outcome, fired_at = l.fired_at,
                    attempts = l.attempts, next_attempt_at = l.next_attempt_at
             FROM {live} l
             WHERE l.timer_id = f.timer_id AND l.generation = f.generation
               AND f.state = 'pending' AND l.state IN ('fired', 'closed', 'failed')"
        ))
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> Result<(), ProjectionError> {
        let table = tables.get("deadline_timers");
        for event in events {
            let Some(procedure) = self.registry.get(&event.stream_type) else {
                continue;
            };
            let effects = (procedure.timer_effects)(&event.payload).map_err(|reason| {
                ProjectionError::Undecodable {
                    model: Self::NAME,
                    position: event.position,
                    reason,
                }
            })?;
            // Follow-ups are timers of their target stream, due at once: the scheduler carries
            // them out with the target procedure's command, once.
            let follow_ups =
                (procedure.follow_ups)(event.stream_id, &event.payload).map_err(|reason| {
                    ProjectionError::Undecodable {
                        model: Self::NAME,
                        position: event.position,
                        reason,
                    }
                })?;
            for follow_up in follow_ups {
                sqlx::query(&format!(
                    "INSERT INTO {table} AS t (timer_id, tenant, case_id, stream_type, kind, fires_at, data, state, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)
                     ON CONFLICT (timer_id) DO UPDATE SET
                       fires_at = EXCLUDED.fires_at, data = EXCLUDED.data, state = 'pending',
                       generation = t.generation + 1, attempts = 0, next_attempt_at = NULL,
                       lease_until = NULL, outcome = NULL, fired_at = NULL, updated_at = EXCLUDED.updated_at"
                ))
                .bind(timer_id(follow_up.stream_id, &follow_up.kind))
                .bind(&event.tenant)
                .bind(follow_up.stream_id)
                .bind(&follow_up.stream_type)
                .bind(&follow_up.kind)
                .bind(self.fires_at(follow_up.on))
                .bind(&follow_up.data)
                .bind(event.recorded_at)
                .execute(&mut *conn)
                .await?;
            }
            for effect in effects {
                match effect {
                    TimerEffect::Set {
                        kind,
                        fires_on,
                        data,
                    } => {
                        sqlx::query(&format!(
                            "INSERT INTO {table} AS t (timer_id, tenant, case_id, stream_type, kind, fires_at, data, state, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)
                             ON CONFLICT (timer_id) DO UPDATE SET
                               fires_at = EXCLUDED.fires_at, data = EXCLUDED.data, state = 'pending',
                               generation = t.generation + 1, attempts = 0, next_attempt_at = NULL,
                               lease_until = NULL, outcome = NULL, fired_at = NULL, updated_at = EXCLUDED.updated_at"
                        ))
                        .bind(timer_id(event.stream_id, &kind))
                        .bind(&event.tenant)
                        .bind(event.stream_id)
                        .bind(&event.stream_type)
                        .bind(&kind)
                        .bind(self.fires_at(fires_on))
                        .bind(&data)
                        .bind(event.recorded_at)
                        .execute(&mut *conn)
                        .await?;
                    }
                    TimerEffect::Suspend { kind } => {
                        sqlx::query(&format!(
                            "UPDATE {table} SET state = 'suspended', updated_at = $2
                             WHERE timer_id = $1 AND state = 'pending'"
                        ))
                        .bind(timer_id(event.stream_id, &kind))
                        .bind(event.recorded_at)
                        .execute(&mut *conn)
                        .await?;
                    }
                    TimerEffect::Cancel { kind } => {
                        sqlx::query(&format!(
                            "UPDATE {table} SET state = 'closed', outcome = 'cancelled: the deadline no longer runs',
                                    updated_at = $2
                             WHERE timer_id = $1 AND state IN ('pending', 'suspended')"
                        ))
                        .bind(timer_id(event.stream_id, &kind))
                        .bind(event.recorded_at)
                        .execute(&mut *conn)
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// What one pass of the scheduler did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SchedulerPass {
    /// Timers whose command was accepted.
    pub fired: u64,
    /// Timers closed because their command was refused (the file moved on) or is unknown.
    pub closed: u64,
    /// Timers that failed and will be retried.
    pub retried: u64,
    /// Timers given up after too many failures.
    pub failed: u64,
    /// Deadlines moved because the council's legal calendar changed.
    pub moved: u64,
}

impl SchedulerPass {
    /// Timers handled.
    pub fn handled(&self) -> u64 {
        self.fired + self.closed + self.retried + self.failed
    }
}

/// The timers' figures, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TimerStats {
    /// Pending (will fire).
    pub pending: i64,
    /// Pending and due now.
    pub due: i64,
    /// Fired.
    pub fired: i64,
    /// Failed for good.
    pub failed: i64,
    /// Age of the oldest due timer, in seconds.
    pub oldest_overdue_seconds: f64,
}

/// How long a scheduler's claim on a timer lasts before another scheduler may take it over.
pub const LEASE: Duration = Duration::seconds(60);

/// After this many failed attempts a timer is marked failed (and shows in metrics).
pub const MAX_ATTEMPTS: i32 = 10;

/// Fires due timers.
#[derive(Clone)]
pub struct Scheduler {
    log: EventLog,
    timers: Arc<Timers>,
    clock: Arc<dyn Clock>,
    batch_size: i64,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("timers", &self.timers)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A scheduler over these timers.
    pub fn new(log: EventLog, timers: Arc<Timers>, clock: Arc<dyn Clock>) -> Self {
        Self {
            log,
            timers,
            clock,
            batch_size: 50,
        }
    }

    /// Changes how many timers one transaction claims.
    pub fn with_batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Counts again the deadlines of every council whose legal calendar changed since its
    /// deadlines were last counted (an administrator published a year, or local holidays): each
    /// pending timer that says how its last day was counted (`rule` in its data) and now falls
    /// on another day is moved by its procedure's command, which the file records. Returns how
    /// many moved. The first pass for a council counts every such deadline once.
    pub async fn recheck_calendars(&self) -> Result<u64, sqlx::Error> {
        let pool = self.log.pool();
        let tenants: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT tenant FROM deadline_timers WHERE state = 'pending' AND data ? 'rule'",
        )
        .fetch_all(pool)
        .await?;
        let now = self.clock.now();
        let today = now.with_timezone(&self.timers.timezone).date_naive();
        let mut moved = 0;
        for tenant in tenants {
            let Ok(code) = tenant.parse::<expedientes_domain::MunicipalityCode>() else {
                continue;
            };
            let stream = expedientes_domain::council_calendar::stream_id(&code);
            let version: i32 = sqlx::query_scalar(
                "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1",
            )
            .bind(stream)
            .fetch_one(pool)
            .await?;
            let checked: Option<i32> =
                sqlx::query_scalar("SELECT version FROM calendar_rechecks WHERE tenant = $1")
                    .bind(&tenant)
                    .fetch_optional(pool)
                    .await?;
            if checked == Some(version) {
                continue;
            }
            let calendar = match self
                .log
                .load_aggregate::<expedientes_domain::council_calendar::CouncilCalendar>(
                    &tenant,
                    stream,
                    expedientes_eventlog::Until::End,
                )
                .await
            {
                Ok(loaded) => Arc::new(loaded.state.calendar()),
                Err(e) => {
                    tracing::warn!(%tenant, error = %e, "the calendar cannot be loaded; deadlines not rechecked");
                    continue;
                }
            };
            let timers = sqlx::query(
                "SELECT timer_id, case_id, stream_type, kind, data FROM deadline_timers
                 WHERE tenant = $1 AND state = 'pending' AND data ? 'rule'",
            )
            .bind(&tenant)
            .fetch_all(pool)
            .await?;
            let mut complete = true;
            for row in timers {
                let data: serde_json::Value = row.try_get("data")?;
                let (Ok(rule), Ok(was)) = (
                    serde_json::from_value::<expedientes_domain::DeadlineRule>(
                        data["rule"].clone(),
                    ),
                    serde_json::from_value::<NaiveDate>(data["due"].clone()),
                ) else {
                    continue;
                };
                let Ok(due) = rule.due(&calendar, &tenant) else {
                    continue;
                };
                if due == was {
                    continue;
                }
                let stream_type: String = row.try_get("stream_type")?;
                let Some(procedure) = self.timers.registry.get(&stream_type) else {
                    continue;
                };
                let request = crate::registry::MoveRequest {
                    timer_id: row.try_get("timer_id")?,
                    tenant: code.clone(),
                    case_id: row.try_get("case_id")?,
                    kind: row.try_get("kind")?,
                    was,
                    due,
                    rule,
                    calendar_version: version,
                    calendar: calendar.clone(),
                    now,
                    today,
                };
                match (procedure.move_deadline)(self.log.clone(), request).await {
                    FireOutcome::Accepted => moved += 1,
                    FireOutcome::Refused(why) => {
                        tracing::info!(%tenant, %why, "a deadline the calendar would move no longer runs")
                    }
                    FireOutcome::Unknown => {}
                    FireOutcome::Failed(why) => {
                        complete = false;
                        tracing::warn!(%tenant, error = %why, "a deadline could not be moved; retried on the next pass");
                    }
                }
            }
            if complete {
                sqlx::query(
                    "INSERT INTO calendar_rechecks (tenant, version, checked_at) VALUES ($1, $2, $3)
                     ON CONFLICT (tenant) DO UPDATE SET version = EXCLUDED.version, checked_at = EXCLUDED.checked_at",
                )
                .bind(&tenant)
                .bind(version)
                .bind(now)
                .execute(pool)
                .await?;
            }
        }
        metrics::counter!("deadlines_moved_by_calendar_total").increment(moved);
        Ok(moved)
    }

    /// Counts again the deadlines a calendar change moved, then fires every timer due now,
    /// batch by batch, until none is left for this scheduler.
    pub async fn run_once(&self) -> Result<SchedulerPass, sqlx::Error> {
        let mut total = SchedulerPass {
            moved: self.recheck_calendars().await?,
            ..SchedulerPass::default()
        };
        loop {
            let pass = self.fire_batch().await?;
            total.fired += pass.fired;
            total.closed += pass.closed;
            total.retried += pass.retried;
            total.failed += pass.failed;
            if pass.handled() == 0 {
                return Ok(total);
            }
        }
    }

    /// Claims one batch of due timers with a short lease, fires them, records each outcome. The
    /// claim is its own short transaction: commands run with no transaction of the scheduler
    /// open. A scheduler that dies leaves its claims to expire; the next one fires them again with
    /// the same command ids, so nothing happens twice.
    pub async fn fire_batch(&self) -> Result<SchedulerPass, sqlx::Error> {
        let now = self.clock.now();
        let rows = sqlx::query(
            "UPDATE deadline_timers SET lease_until = $3
             WHERE timer_id IN (
                 SELECT timer_id FROM deadline_timers
                 WHERE state = 'pending' AND fires_at <= $1
                   AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
                   AND (lease_until IS NULL OR lease_until <= $1)
                 ORDER BY fires_at
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             RETURNING timer_id, tenant, case_id, stream_type, kind, data, generation, attempts",
        )
        .bind(now)
        .bind(self.batch_size)
        .bind(now + LEASE)
        .fetch_all(self.log.pool())
        .await?;
        let mut pass = SchedulerPass::default();
        for row in rows {
            let timer: Uuid = row.try_get("timer_id")?;
            let stream_type: String = row.try_get("stream_type")?;
            let attempts: i32 = row.try_get("attempts")?;
            let generation: i32 = row.try_get("generation")?;
            let request = FireRequest {
                timer_id: timer,
                generation,
                tenant: row.try_get("tenant")?,
                case_id: row.try_get("case_id")?,
                kind: row.try_get("kind")?,
                data: row.try_get("data")?,
                now,
                today: now.with_timezone(&self.timers.timezone).date_naive(),
            };
            let outcome = match self.timers.registry.get(&stream_type) {
                Some(procedure) => (procedure.fire)(self.log.clone(), request).await,
                None => FireOutcome::Unknown,
            };
            let (state, text, next_attempt) = match &outcome {
                FireOutcome::Accepted => {
                    pass.fired += 1;
                    ("fired", "accepted".to_owned(), None)
                }
                FireOutcome::Refused(why) => {
                    pass.closed += 1;
                    ("closed", format!("refused: {why}"), None)
                }
                FireOutcome::Unknown => {
                    pass.failed += 1;
                    (
                        "failed",
                        "the procedure does not know this timer".to_owned(),
                        None,
                    )
                }
                FireOutcome::Failed(why) if attempts + 1 >= MAX_ATTEMPTS => {
                    pass.failed += 1;
                    tracing::error!(%timer, error = %why, "timer failed for good");
                    ("failed", format!("failed: {why}"), None)
                }
                FireOutcome::Failed(why) => {
                    pass.retried += 1;
                    tracing::warn!(%timer, error = %why, "timer failed; will retry");
                    let backoff = Duration::seconds(5 * (1i64 << attempts.clamp(0, 10)))
                        .min(Duration::hours(1));
                    ("pending", format!("retrying: {why}"), Some(now + backoff))
                }
            };
            metrics::counter!("timers_fired_total", "outcome" => state).increment(1);
            // Only this setting of the timer: if it was set again meanwhile, the new one stands.
            sqlx::query(
                "UPDATE deadline_timers SET state = $3, outcome = $4, next_attempt_at = $5, lease_until = NULL,
                        attempts = attempts + 1, fired_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $6 END,
                        updated_at = $6
                 WHERE timer_id = $1 AND generation = $2",
            )
            .bind(timer)
            .bind(generation)
            .bind(state)
            .bind(&text)
            .bind(next_attempt)
            .bind(now)
            .execute(self.log.pool())
            .await?;
        }
        Ok(pass)
    }

    /// The figures for metrics.
    pub async fn stats(&self) -> Result<TimerStats, sqlx::Error> {
        let now = self.clock.now();
        let row = sqlx::query(
            "SELECT count(*) FILTER (WHERE state = 'pending') AS pending,
                    count(*) FILTER (WHERE state = 'pending' AND fires_at <= $1) AS due,
                    count(*) FILTER (WHERE state = 'fired') AS fired,
                    count(*) FILTER (WHERE state = 'failed') AS failed,
                    coalesce(extract(epoch FROM $1 - min(fires_at) FILTER (WHERE state = 'pending' AND fires_at <= $1)), 0)::float8 AS oldest
             FROM deadline_timers",
        )
        .bind(now)
        .fetch_one(self.log.pool())
        .await?;
        Ok(TimerStats {
            pending: row.try_get("pending")?,
            due: row.try_get("due")?,
            fired: row.try_get("fired")?,
            failed: row.try_get("failed")?,
            oldest_overdue_seconds: row.try_get("oldest")?,
        })
    }

    /// Publishes [`Scheduler::stats`] as gauges.
    pub async fn publish_metrics(&self) -> Result<(), sqlx::Error> {
        let stats = self.stats().await?;
        metrics::gauge!("timers_pending").set(stats.pending as f64);
        metrics::gauge!("timers_due").set(stats.due as f64);
        metrics::gauge!("timers_fired").set(stats.fired as f64);
        metrics::gauge!("timers_failed").set(stats.failed as f64);
        metrics::gauge!("timers_oldest_overdue_seconds").set(stats.oldest_overdue_seconds);
        Ok(())
    }
}
