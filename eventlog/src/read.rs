//! Reading: one stream in version order, or the whole log in the commit-safe reading order.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// A place in the reading order: the (transaction id, position) of the last event read.
///
/// Positions are allocated when a transaction inserts, not when it commits, so a transaction that
/// started earlier can commit a lower position after a later one committed a higher position. A
/// reader therefore only reads events whose transaction is older than every transaction still
/// running (the snapshot's xmin), in (transaction id, position) order: whatever commits later has a
/// younger transaction id and sorts after everything already read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Cursor {
    /// The writing transaction's id (`xid8`).
    pub transaction_id: i64,
    /// The event's global position.
    pub position: i64,
}

impl Cursor {
    /// Before the first event.
    pub const START: Cursor = Cursor {
        transaction_id: 0,
        position: 0,
    };
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.transaction_id, self.position)
    }
}

impl FromStr for Cursor {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (t, p) = s
            .split_once('.')
            .ok_or("a cursor looks like <transaction>.<position>")?;
        let transaction_id = t
            .parse()
            .map_err(|_| "the cursor's transaction id is not a number")?;
        let position = p
            .parse()
            .map_err(|_| "the cursor's position is not a number")?;
        if transaction_id < 0 || position < 0 {
            return Err("a cursor is not negative");
        }
        Ok(Self {
            transaction_id,
            position,
        })
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    /// Global position.
    pub position: i64,
    /// The writing transaction's id.
    pub transaction_id: i64,
    /// Tenant (INE code).
    pub tenant: String,
    /// The stream's type.
    pub stream_type: String,
    /// The stream.
    pub stream_id: Uuid,
    /// Version within the stream, from 1.
    pub version: i32,
    /// The event's type.
    pub event_type: String,
    /// The schema version of `payload` (after upcasting).
    pub schema_version: i32,
    /// The payload (after upcasting).
    pub payload: Value,
    /// Who, for whom, how.
    pub metadata: Value,
    /// When the database recorded it.
    pub recorded_at: DateTime<Utc>,
    /// Its hash, hex.
    pub hash: String,
}

impl StoredEvent {
    /// Its place in the reading order.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            transaction_id: self.transaction_id,
            position: self.position,
        }
    }
}

type Upcast = Box<dyn Fn(Value) -> Value + Send + Sync>;

/// Upcasters turn an old payload into the next schema version's shape on read, so aggregates and
/// projections only know the current shape. The stored event is never changed.
#[derive(Default)]
pub struct Upcasters {
    steps: HashMap<(String, String, i32), Upcast>,
}

impl fmt::Debug for Upcasters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upcasters")
            .field("steps", &self.steps.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Upcasters {
    /// Registers how to turn `event_type` of `stream_type` at `from_version` into `from_version + 1`.
    pub fn register(
        &mut self,
        stream_type: &str,
        event_type: &str,
        from_version: i32,
        step: impl Fn(Value) -> Value + Send + Sync + 'static,
    ) {
        self.steps.insert(
            (stream_type.to_owned(), event_type.to_owned(), from_version),
            Box::new(step),
        );
    }

    /// Applies every registered step, in order, from the event's stored version.
    pub fn upcast(&self, event: &mut StoredEvent) {
        while let Some(step) = self.steps.get(&(
            event.stream_type.clone(),
            event.event_type.clone(),
            event.schema_version,
        )) {
            event.payload = step(std::mem::take(&mut event.payload));
            event.schema_version += 1;
        }
    }
}

/// How far to load a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Everything.
    End,
    /// Up to and including this version.
    Version(i32),
    /// Everything recorded at or before this moment (the file as it was then).
    Time(DateTime<Utc>),
}

pub(crate) const COLUMNS: &str = "position, transaction_id::text::bigint AS transaction_id, tenant, stream_type, \
    stream_id, version, event_type, schema_version, payload, metadata, recorded_at, encode(hash, 'hex') AS hash";

pub(crate) fn from_row(row: &sqlx::postgres::PgRow) -> Result<StoredEvent, sqlx::Error> {
    Ok(StoredEvent {
        position: row.try_get("position")?,
        transaction_id: row.try_get("transaction_id")?,
        tenant: row.try_get("tenant")?,
        stream_type: row.try_get("stream_type")?,
        stream_id: row.try_get("stream_id")?,
        version: row.try_get("version")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
        hash: row.try_get("hash")?,
    })
}

pub(crate) async fn load_stream(
    pool: &PgPool,
    upcasters: &Upcasters,
    tenant: &str,
    stream_id: Uuid,
    until: Until,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let (max_version, max_time) = match until {
        Until::End => (None, None),
        Until::Version(v) => (Some(v), None),
        Until::Time(t) => (None, Some(t)),
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM events
         WHERE tenant = $1 AND stream_id = $2
           AND ($3::int IS NULL OR version <= $3)
           AND ($4::timestamptz IS NULL OR recorded_at <= $4)
         ORDER BY version"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant)
        .bind(stream_id)
        .bind(max_version)
        .bind(max_time)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let mut event = from_row(row)?;
            upcasters.upcast(&mut event);
            Ok(event)
        })
        .collect()
}

pub(crate) async fn load_streams(
    pool: &PgPool,
    upcasters: &Upcasters,
    tenant: &str,
    stream_ids: &[Uuid],
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events WHERE tenant = $1 AND stream_id = ANY($2) ORDER BY stream_id, version"
    );
    let rows = sqlx::query(&sql)
        .bind(tenant)
        .bind(stream_ids)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            let mut event = from_row(row)?;
            upcasters.upcast(&mut event);
            Ok(event)
        })
        .collect()
}

pub(crate) async fn read_after<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    upcasters: &Upcasters,
    cursor: Cursor,
    limit: i64,
    tenant: Option<&str>,
    stream_types: Option<&[String]>,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events
         WHERE (transaction_id, position) > ($1::bigint::text::xid8, $2)
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
           AND ($3::text IS NULL OR tenant = $3)
           AND ($4::text[] IS NULL OR stream_type = ANY($4))
         ORDER BY transaction_id, position
         LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(cursor.transaction_id)
        .bind(cursor.position)
        .bind(tenant)
        .bind(stream_types)
        .bind(limit)
        .fetch_all(executor)
        .await?;
    rows.iter()
        .map(|row| {
            let mut event = from_row(row)?;
            upcasters.upcast(&mut event);
            Ok(event)
        })
        .collect()
}

pub(crate) async fn event_at(
    pool: &PgPool,
    upcasters: &Upcasters,
    position: i64,
) -> Result<Option<StoredEvent>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM events WHERE position = $1"))
        .bind(position)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        let mut event = from_row(&row)?;
        upcasters.upcast(&mut event);
        Ok(event)
    })
    .transpose()
}

pub(crate) async fn cursor_at(pool: &PgPool, position: i64) -> Result<Option<Cursor>, sqlx::Error> {
    if position == 0 {
        return Ok(Some(Cursor::START));
    }
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT transaction_id::text::bigint FROM events WHERE position = $1")
            .bind(position)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(transaction_id,)| Cursor {
        transaction_id,
        position,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_and_print() {
        let c: Cursor = "812.44".parse().unwrap();
        assert_eq!(c.to_string(), "812.44");
        assert!("812".parse::<Cursor>().is_err());
        assert!("a.1".parse::<Cursor>().is_err());
        assert!(Cursor::START < c);
    }

    #[test]
    fn upcasters_chain_steps() {
        let mut up = Upcasters::default();
        up.register("s", "e", 1, |mut v| {
            v["b"] = v["a"].clone();
            v
        });
        up.register("s", "e", 2, |mut v| {
            v["c"] = Value::from(3);
            v
        });
        let mut event = StoredEvent {
            position: 1,
            transaction_id: 1,
            tenant: "28079".into(),
            stream_type: "s".into(),
            stream_id: Uuid::nil(),
            version: 1,
            event_type: "e".into(),
            schema_version: 1,
            payload: serde_json::json!({"a": 1}),
            metadata: serde_json::json!({}),
            recorded_at: Utc::now(),
            hash: String::new(),
        };
        up.upcast(&mut event);
        assert_eq!(event.schema_version, 3);
        assert_eq!(event.payload, serde_json::json!({"a": 1, "b": 1, "c": 3}));
    }
}
