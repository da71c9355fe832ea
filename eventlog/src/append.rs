//! Appending: one SQL statement per command, so it is atomic however many events and streams it
//! touches, and costs one round trip.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::Metadata;

/// One event to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Its stable type name (`snake_case`).
    pub event_type: String,
    /// The version of its payload's schema.
    pub schema_version: i32,
    /// Its payload.
    pub payload: Value,
}

/// The events to append to one stream, and the version the writer saw.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAppend {
    /// The stream's type (the aggregate's name).
    pub stream_type: String,
    /// The stream.
    pub stream_id: Uuid,
    /// The version the writer's decision was based on; 0 for a new stream.
    pub expected_version: i32,
    /// The events, in order.
    pub events: Vec<NewEvent>,
}

/// Everything one command appends, to one or several streams of one tenant, atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendRequest {
    /// The tenant (INE code).
    pub tenant: expedientes_domain::MunicipalityCode,
    /// Who, for whom, how; its `command_id` makes the append idempotent.
    pub metadata: Metadata,
    /// A digest of the request that produced the command, to refuse an id reused for another one.
    pub request_hash: Option<Vec<u8>>,
    /// The streams and their events.
    pub streams: Vec<StreamAppend>,
}

/// Where one appended event landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AppendedEvent {
    /// Its stream.
    pub stream_id: Uuid,
    /// Its version in the stream.
    pub version: i32,
    /// Its global position.
    pub position: i64,
}

/// The result of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The events, in order.
    pub events: Vec<AppendedEvent>,
    /// True when the command id had been used before and this is the first call's result.
    pub replayed: bool,
}

impl Appended {
    /// The version a stream reached with this append (or `None` if it was not touched).
    pub fn version_of(&self, stream_id: Uuid) -> Option<i32> {
        self.events
            .iter()
            .filter(|e| e.stream_id == stream_id)
            .map(|e| e.version)
            .max()
    }
}

/// Why an append did not happen. Nothing is written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another writer changed the stream since the version this writer saw.
    #[error(
        "stream {stream_id} is not at version {expected_version}: it was changed by someone else"
    )]
    Conflict {
        /// The stream.
        stream_id: Uuid,
        /// The version the writer expected.
        expected_version: i32,
    },
    /// The stream exists under another tenant or stream type.
    #[error("stream {stream_id} belongs to another tenant or procedure")]
    WrongStream {
        /// The stream.
        stream_id: Uuid,
    },
    /// The command id was used before for a different request.
    #[error("command id {command_id} was already used for a different request")]
    CommandIdReused {
        /// The id.
        command_id: Uuid,
    },
    /// The request itself is malformed (a bug in the caller).
    #[error("invalid append: {0}")]
    Invalid(&'static str),
    /// The database failed.
    #[error("event log unavailable: {0}")]
    Database(#[from] sqlx::Error),
}

const APPEND: &str = r#"
WITH cmd AS (
    INSERT INTO commands (tenant, command_id, request_hash)
    SELECT $1, $2, $3 WHERE $2::uuid IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING 1
), ins AS (
    INSERT INTO events (tenant, stream_type, stream_id, version, event_type, schema_version,
                        payload, metadata, command_id)
    SELECT $1, e.stream_type, e.stream_id, e.version, e.event_type, e.schema_version,
           e.payload, $4, $2
    FROM unnest($5::text[], $6::uuid[], $7::int[], $8::text[], $9::int[], $10::jsonb[])
         WITH ORDINALITY AS e(stream_type, stream_id, version, event_type, schema_version, payload, ord)
    WHERE $2::uuid IS NULL OR EXISTS (SELECT FROM cmd)
    ORDER BY e.ord
    RETURNING stream_id, version, position
)
SELECT stream_id, version, position FROM ins ORDER BY position
"#;

pub(crate) async fn append(pool: &PgPool, request: AppendRequest) -> Result<Appended, AppendError> {
    let mut stream_types = Vec::new();
    let mut stream_ids = Vec::new();
    let mut versions = Vec::new();
    let mut event_types = Vec::new();
    let mut schema_versions = Vec::new();
    let mut payloads = Vec::new();
    for (i, stream) in request.streams.iter().enumerate() {
        if request.streams[..i]
            .iter()
            .any(|s| s.stream_id == stream.stream_id)
        {
            return Err(AppendError::Invalid("a stream appears twice in one append"));
        }
        if stream.expected_version < 0 {
            return Err(AppendError::Invalid("expected version below 0"));
        }
        for (offset, event) in stream.events.iter().enumerate() {
            stream_types.push(stream.stream_type.clone());
            stream_ids.push(stream.stream_id);
            versions.push(stream.expected_version + 1 + offset as i32);
            event_types.push(event.event_type.clone());
            schema_versions.push(event.schema_version);
            payloads.push(event.payload.clone());
        }
    }
    if payloads.is_empty() {
        return Err(AppendError::Invalid("nothing to append"));
    }
    let command_id = request.metadata.command_id;
    let metadata = serde_json::to_value(&request.metadata).expect("metadata serialises");
    let result = sqlx::query_as::<_, (Uuid, i32, i64)>(APPEND)
        .bind(request.tenant.as_str())
        .bind(command_id)
        .bind(request.request_hash.as_deref())
        .bind(&metadata)
        .bind(&stream_types)
        .bind(&stream_ids)
        .bind(&versions)
        .bind(&event_types)
        .bind(&schema_versions)
        .bind(&payloads)
        .fetch_all(pool)
        .await;
    let rows = match result {
        Ok(rows) => rows,
        Err(error) => return Err(classify(error, &request)),
    };
    if !rows.is_empty() {
        return Ok(Appended {
            events: rows.into_iter().map(appended).collect(),
            replayed: false,
        });
    }
    // Nothing inserted although there were events: the command id was used before.
    let command_id = command_id.expect("an append without a command id inserts its events");
    replay(pool, &request, command_id).await
}

async fn replay(
    pool: &PgPool,
    request: &AppendRequest,
    command_id: Uuid,
) -> Result<Appended, AppendError> {
    let stored_hash: Option<Option<Vec<u8>>> = sqlx::query_scalar(
        "SELECT request_hash FROM commands WHERE tenant = $1 AND command_id = $2",
    )
    .bind(request.tenant.as_str())
    .bind(command_id)
    .fetch_optional(pool)
    .await?;
    let Some(stored_hash) = stored_hash else {
        // Not possible with a committed row; treat as a transient failure.
        return Err(AppendError::Database(sqlx::Error::RowNotFound));
    };
    if stored_hash.as_deref() != request.request_hash.as_deref() {
        return Err(AppendError::CommandIdReused { command_id });
    }
    let rows = sqlx::query_as::<_, (Uuid, i32, i64)>(
        "SELECT stream_id, version, position FROM events
         WHERE tenant = $1 AND command_id = $2 ORDER BY position",
    )
    .bind(request.tenant.as_str())
    .bind(command_id)
    .fetch_all(pool)
    .await?;
    Ok(Appended {
        events: rows.into_iter().map(appended).collect(),
        replayed: true,
    })
}

fn appended((stream_id, version, position): (Uuid, i32, i64)) -> AppendedEvent {
    AppendedEvent {
        stream_id,
        version,
        position,
    }
}

/// Maps the database's refusals to typed errors. PostgreSQL names the stream in the message (our
/// triggers) or in the detail (the unique violation), which tells which stream of a multi-stream
/// append conflicted.
fn classify(error: sqlx::Error, request: &AppendRequest) -> AppendError {
    let Some(db) = error.as_database_error() else {
        return AppendError::Database(error);
    };
    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
    let text = match db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        Some(pg) => format!("{} {}", pg.message(), pg.detail().unwrap_or_default()),
        None => db.message().to_owned(),
    };
    let stream = request
        .streams
        .iter()
        .find(|s| text.contains(&s.stream_id.to_string()))
        .or(request.streams.first())
        .expect("an append names at least one stream");
    let conflict = match code.as_str() {
        "23505" => db.constraint() == Some("events_stream_version"),
        "EL001" => true,
        "EL002" => {
            return AppendError::WrongStream {
                stream_id: stream.stream_id,
            }
        }
        _ => false,
    };
    if conflict {
        AppendError::Conflict {
            stream_id: stream.stream_id,
            expected_version: stream.expected_version,
        }
    } else {
        AppendError::Database(error)
    }
}
