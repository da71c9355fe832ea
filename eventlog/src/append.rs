//! Appending: one SQL statement per command, so it is atomic however many events and streams it
//! touches, and costs one round trip.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Metadata, StoreError};

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
    /// The store failed (or the request was malformed, a bug in the caller).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AppendError {
    fn from(error: sqlx::Error) -> Self {
        AppendError::Store(error.into())
    }
}

/// One row per event, from parallel arrays, in order. The trigger sets the transaction id, the
/// time and the hash chain; the unique indexes refuse a stale version and a reused command id.
const INSERT: &str = r#"
INSERT INTO events (tenant, stream_type, stream_id, version, event_type, schema_version, payload,
                    metadata, command_id, command_seq, request_hash)
SELECT e.tenant, e.stream_type, e.stream_id, e.version, e.event_type, e.schema_version, e.payload,
       e.metadata, e.command_id, e.command_seq, e.request_hash
FROM unnest($1::text[], $2::text[], $3::uuid[], $4::int[], $5::text[], $6::int[], $7::jsonb[],
            $8::jsonb[], $9::uuid[], $10::int[], $11::bytea[])
     WITH ORDINALITY AS e(tenant, stream_type, stream_id, version, event_type, schema_version, payload,
                          metadata, command_id, command_seq, request_hash, ord)
ORDER BY e.ord
RETURNING stream_id, version, position
"#;

/// The rows of one or several appends, as parallel arrays.
#[derive(Default)]
struct Rows {
    tenants: Vec<String>,
    stream_types: Vec<String>,
    stream_ids: Vec<Uuid>,
    versions: Vec<i32>,
    event_types: Vec<String>,
    schema_versions: Vec<i32>,
    payloads: Vec<serde_json::Value>,
    metadata: Vec<serde_json::Value>,
    command_ids: Vec<Option<Uuid>>,
    command_seqs: Vec<Option<i32>>,
    request_hashes: Vec<Option<Vec<u8>>>,
}

impl Rows {
    /// Adds a request's events; refuses a malformed request.
    fn push(&mut self, request: &AppendRequest) -> Result<(), AppendError> {
        if request.streams.is_empty() || request.streams.iter().all(|s| s.events.is_empty()) {
            return Err(StoreError::InvalidAppend("nothing to append").into());
        }
        let metadata = serde_json::to_value(&request.metadata).expect("metadata serialises");
        let command_id = request.metadata.command_id;
        let mut seq = 0;
        for (i, stream) in request.streams.iter().enumerate() {
            if request.streams[..i]
                .iter()
                .any(|s| s.stream_id == stream.stream_id)
            {
                return Err(
                    StoreError::InvalidAppend("a stream appears twice in one append").into(),
                );
            }
            if stream.expected_version < 0 {
                return Err(StoreError::InvalidAppend("expected version below 0").into());
            }
            for (offset, event) in stream.events.iter().enumerate() {
                self.tenants.push(request.tenant.to_string());
                self.stream_types.push(stream.stream_type.clone());
                self.stream_ids.push(stream.stream_id);
                self.versions
                    .push(stream.expected_version + 1 + offset as i32);
                self.event_types.push(event.event_type.clone());
                self.schema_versions.push(event.schema_version);
                self.payloads.push(event.payload.clone());
                self.metadata.push(metadata.clone());
                self.command_ids.push(command_id);
                self.command_seqs.push(command_id.map(|_| seq));
                self.request_hashes.push(if seq == 0 {
                    request.request_hash.clone()
                } else {
                    None
                });
                seq += 1;
            }
        }
        Ok(())
    }

    /// Inserts the rows: one autocommit statement, so one transaction, committed (or rolled back
    /// on any error) by the server before it answers; no transaction is ever left open.
    async fn insert(&self, pool: &PgPool) -> Result<Vec<AppendedEvent>, sqlx::Error> {
        let rows = sqlx::query_as::<_, (Uuid, i32, i64)>(INSERT)
            .bind(&self.tenants)
            .bind(&self.stream_types)
            .bind(&self.stream_ids)
            .bind(&self.versions)
            .bind(&self.event_types)
            .bind(&self.schema_versions)
            .bind(&self.payloads)
            .bind(&self.metadata)
            .bind(&self.command_ids)
            .bind(&self.command_seqs)
            .bind(&self.request_hashes)
            .fetch_all(pool)
            .await?;
        Ok(rows.into_iter().map(appended).collect())
    }
}

/// One append, alone in its statement (hence its transaction).
pub(crate) async fn append(pool: &PgPool, request: AppendRequest) -> Result<Appended, AppendError> {
    let mut rows = Rows::default();
    rows.push(&request)?;
    match rows.insert(pool).await {
        Ok(events) => Ok(Appended {
            events,
            replayed: false,
        }),
        Err(error) => match classify(error, &request) {
            Failure::Replay(command_id) => match replay(pool, &request, command_id).await {
                Ok(Some(first)) => Ok(first),
                // The first append of this id rolled back meanwhile: the caller may retry.
                Ok(None) => Err(AppendError::Conflict {
                    stream_id: request.streams[0].stream_id,
                    expected_version: request.streams[0].expected_version,
                }),
                Err(e) => Err(e),
            },
            // A retried command usually meets its own first events' versions before its id: it
            // is a replay, not a conflict, when that id was already recorded.
            Failure::Error(AppendError::Conflict {
                stream_id,
                expected_version,
            }) => match request.metadata.command_id {
                Some(command_id) => match replay(pool, &request, command_id).await {
                    Ok(Some(first)) => Ok(first),
                    Ok(None) => Err(AppendError::Conflict {
                        stream_id,
                        expected_version,
                    }),
                    Err(e) => Err(e),
                },
                None => Err(AppendError::Conflict {
                    stream_id,
                    expected_version,
                }),
            },
            Failure::Error(e) => Err(e),
        },
    }
}

/// Several appends from concurrent callers in one statement, so that they share one commit (group
/// commit): each caller still gets its own result. If the statement fails (a conflict, a replayed
/// command id, anything), each append is retried alone and gets exactly the answer it would have
/// had on its own, so batching never changes an outcome.
pub(crate) async fn append_batch(
    pool: &PgPool,
    requests: Vec<AppendRequest>,
) -> Vec<Result<Appended, AppendError>> {
    let mut rows = Rows::default();
    let mut streams = std::collections::HashSet::new();
    let mut commands = std::collections::HashSet::new();
    let mut together = true;
    for request in &requests {
        // Two appends to one stream, or one command id twice, are left to run alone.
        let distinct = request.streams.iter().all(|s| streams.insert(s.stream_id))
            && request
                .metadata
                .command_id
                .is_none_or(|c| commands.insert((request.tenant.to_string(), c)));
        if !distinct || rows.push(request).is_err() {
            together = false;
            break;
        }
    }
    if together {
        if let Ok(events) = rows.insert(pool).await {
            let mut by_stream: std::collections::HashMap<Uuid, Vec<AppendedEvent>> =
                std::collections::HashMap::new();
            for event in events {
                by_stream.entry(event.stream_id).or_default().push(event);
            }
            return requests
                .iter()
                .map(|request| {
                    let mut events: Vec<AppendedEvent> = request
                        .streams
                        .iter()
                        .flat_map(|s| by_stream.remove(&s.stream_id).unwrap_or_default())
                        .collect();
                    events.sort_by_key(|e| e.position);
                    Ok(Appended {
                        events,
                        replayed: false,
                    })
                })
                .collect();
        }
    }
    futures::future::join_all(requests.into_iter().map(|r| append(pool, r))).await
}

/// The first result of a command id, `None` if no event carries it (its first append rolled back).
async fn replay(
    pool: &PgPool,
    request: &AppendRequest,
    command_id: Uuid,
) -> Result<Option<Appended>, AppendError> {
    let stored_hash: Option<Option<Vec<u8>>> = sqlx::query_scalar(
        "SELECT request_hash FROM events WHERE tenant = $1 AND command_id = $2 AND command_seq = 0",
    )
    .bind(request.tenant.as_str())
    .bind(command_id)
    .fetch_optional(pool)
    .await?;
    let Some(stored_hash) = stored_hash else {
        return Ok(None);
    };
    if stored_hash.as_deref() != request.request_hash.as_deref() {
        return Err(AppendError::CommandIdReused { command_id });
    }
    let rows = sqlx::query_as::<_, (Uuid, i32, i64)>(
        "SELECT stream_id, version, position FROM events
         WHERE tenant = $1 AND command_id = $2 ORDER BY command_seq",
    )
    .bind(request.tenant.as_str())
    .bind(command_id)
    .fetch_all(pool)
    .await?;
    Ok(Some(Appended {
        events: rows.into_iter().map(appended).collect(),
        replayed: true,
    }))
}

fn appended((stream_id, version, position): (Uuid, i32, i64)) -> AppendedEvent {
    AppendedEvent {
        stream_id,
        version,
        position,
    }
}

enum Failure {
    /// The command id was used before: answer with the first result.
    Replay(Uuid),
    Error(AppendError),
}

/// Maps the database's refusals to typed errors. PostgreSQL names the stream in the message (our
/// triggers) or in the detail (the unique violation), which tells which stream of a multi-stream
/// append conflicted.
fn classify(error: sqlx::Error, request: &AppendRequest) -> Failure {
    let Some(db) = error.as_database_error() else {
        return Failure::Error(error.into());
    };
    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
    let constraint = db.constraint().map(str::to_owned);
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
    match (code.as_str(), constraint.as_deref()) {
        ("23505", Some("events_command")) => match request.metadata.command_id {
            Some(id) => Failure::Replay(id),
            None => Failure::Error(error.into()),
        },
        ("23505", Some("events_stream_version")) | ("EL001", _) => {
            Failure::Error(AppendError::Conflict {
                stream_id: stream.stream_id,
                expected_version: stream.expected_version,
            })
        }
        ("EL002", _) => Failure::Error(AppendError::WrongStream {
            stream_id: stream.stream_id,
        }),
        _ => Failure::Error(error.into()),
    }
}
