//! The one place where a command meets the log: load the stream, rebuild the aggregate's state,
//! let the pure aggregate decide, append what it decided with the metadata of who asked, and map
//! every outcome to a typed result. Generic over the aggregate, so the log still knows no procedure.

use esrs::Aggregate;
use expedientes_domain::procedure::DomainEvent;
use expedientes_domain::MunicipalityCode;
use uuid::Uuid;

use crate::{
    AppendError, AppendRequest, AppendedEvent, EventLog, Metadata, NewEvent, StreamAppend, Until,
};

/// What happened to a command that was carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// The stream it acted on.
    pub stream_id: Uuid,
    /// The stream's version after it.
    pub version: i32,
    /// The events it appended.
    pub events: Vec<AppendedEvent>,
    /// True when this is the result of an earlier call with the same command id.
    pub replayed: bool,
}

/// Why a command was not carried out. Only [`CommandError::Infrastructure`] is a failure of the
/// system; the others are answers.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused it (a domain rule).
    #[error(transparent)]
    Refused(E),
    /// The caller's expected version (`If-Match`) is not the stream's, or the stream kept changing
    /// under the command.
    #[error("the file changed: it is at version {actual}, not {expected}")]
    VersionMismatch {
        /// What the caller expected.
        expected: i32,
        /// What the stream is at.
        actual: i32,
    },
    /// The command id was already used for a different request.
    #[error("this idempotency key was already used for a different request")]
    CommandIdReused,
    /// The stream is another tenant's or another procedure's.
    #[error("no such file")]
    WrongStream,
    /// A stored event could not be decoded (a bug or a missing upcaster).
    #[error("stored event {position} cannot be decoded: {reason}")]
    Undecodable {
        /// Its position.
        position: i64,
        /// Why.
        reason: String,
    },
    /// The database failed.
    #[error("event log unavailable: {0}")]
    Infrastructure(#[from] sqlx::Error),
}

/// A refusal by one of the two aggregates of a two-stream command.
#[derive(Debug, thiserror::Error)]
pub enum PairRefusal<EA: std::error::Error, EB: std::error::Error> {
    /// The first aggregate refused.
    #[error("{0}")]
    First(EA),
    /// The second aggregate refused.
    #[error("{0}")]
    Second(EB),
}

/// How many times a command is re-decided on fresh state when another writer got in between (only
/// when the caller did not pin a version).
const RETRIES_ON_CONFLICT: usize = 3;

/// A command to carry out.
#[derive(Debug, Clone)]
pub struct CommandRequest {
    /// The tenant.
    pub tenant: MunicipalityCode,
    /// The stream (case file).
    pub stream_id: Uuid,
    /// The version the caller saw (`If-Match`), if it pinned one.
    pub expected_version: Option<i32>,
    /// Who, for whom, how, and the command id.
    pub metadata: Metadata,
    /// A digest of the request, to tell a retry from another request reusing the command id.
    pub request_hash: Option<Vec<u8>>,
}

/// A stream's state as rebuilt from the log.
#[derive(Debug)]
pub struct Loaded<S> {
    /// The aggregate's state.
    pub state: S,
    /// The stream's version (0 when empty).
    pub version: i32,
}

impl EventLog {
    /// Rebuilds an aggregate's state from its stream (up to `until`).
    pub async fn load_aggregate<A>(
        &self,
        tenant: &str,
        stream_id: Uuid,
        until: Until,
    ) -> Result<Loaded<A::State>, CommandError<A::Error>>
    where
        A: Aggregate,
        A::Event: DomainEvent,
    {
        let events = self.load_stream(tenant, stream_id, until).await?;
        let mut state = A::State::default();
        let mut version = 0;
        for stored in events {
            if stored.stream_type != A::NAME {
                return Err(CommandError::WrongStream);
            }
            let event: A::Event =
                serde_json::from_value(stored.payload).map_err(|e| CommandError::Undecodable {
                    position: stored.position,
                    reason: e.to_string(),
                })?;
            state = A::apply_event(state, event);
            version = stored.version;
        }
        Ok(Loaded { state, version })
    }

    /// Carries out a command: `decide` builds the command from the current state (so that what
    /// depends on it, such as a deadline, is computed from fresh data), the aggregate handles it,
    /// and its events are appended. On a concurrent change the command is decided again on the
    /// new state, unless the caller pinned a version.
    pub async fn execute<A>(
        &self,
        request: CommandRequest,
        mut decide: impl FnMut(&A::State, i32) -> A::Command,
    ) -> Result<CommandOutcome, CommandError<A::Error>>
    where
        A: Aggregate,
        A::Event: DomainEvent,
        A::Error: std::error::Error,
    {
        if let Some(command_id) = request.metadata.command_id {
            if let Some(outcome) = self.previous_outcome::<A>(&request, command_id).await? {
                return Ok(outcome);
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let loaded = self
                .load_aggregate::<A>(request.tenant.as_str(), request.stream_id, Until::End)
                .await?;
            if let Some(expected) = request.expected_version {
                if expected != loaded.version {
                    return Err(CommandError::VersionMismatch {
                        expected,
                        actual: loaded.version,
                    });
                }
            }
            let command = decide(&loaded.state, loaded.version);
            let events = match A::handle_command(&loaded.state, command) {
                Ok(events) => events,
                Err(refusal) => {
                    // A copy of this command sent at the same time may have just been carried out:
                    // the refusal (e.g. "already submitted") would then describe its effect. Answer
                    // with that first result instead.
                    if let Some(command_id) = request.metadata.command_id {
                        if let Some(outcome) =
                            self.previous_outcome::<A>(&request, command_id).await?
                        {
                            return Ok(outcome);
                        }
                    }
                    return Err(CommandError::Refused(refusal));
                }
            };
            if events.is_empty() {
                return Ok(CommandOutcome {
                    stream_id: request.stream_id,
                    version: loaded.version,
                    events: Vec::new(),
                    replayed: false,
                });
            }
            let new_events = events
                .iter()
                .map(|e| NewEvent {
                    event_type: e.event_type().to_owned(),
                    schema_version: <A::Event as DomainEvent>::SCHEMA_VERSION,
                    payload: serde_json::to_value(e).expect("domain events serialise"),
                })
                .collect();
            let append = AppendRequest {
                tenant: request.tenant.clone(),
                metadata: request.metadata.clone(),
                request_hash: request.request_hash.clone(),
                streams: vec![StreamAppend {
                    stream_type: A::NAME.to_owned(),
                    stream_id: request.stream_id,
                    expected_version: loaded.version,
                    events: new_events,
                }],
            };
            match self.append(append).await {
                Ok(appended) => {
                    return Ok(CommandOutcome {
                        stream_id: request.stream_id,
                        version: appended
                            .version_of(request.stream_id)
                            .unwrap_or(loaded.version),
                        events: appended.events,
                        replayed: appended.replayed,
                    })
                }
                Err(AppendError::Conflict { .. })
                    if request.expected_version.is_none() && attempt <= RETRIES_ON_CONFLICT =>
                {
                    continue
                }
                Err(AppendError::Conflict { .. }) => {
                    let actual = self
                        .load_aggregate::<A>(request.tenant.as_str(), request.stream_id, Until::End)
                        .await?
                        .version;
                    return Err(CommandError::VersionMismatch {
                        expected: request.expected_version.unwrap_or(loaded.version),
                        actual,
                    });
                }
                Err(AppendError::WrongStream { .. }) => return Err(CommandError::WrongStream),
                Err(AppendError::CommandIdReused { .. }) => {
                    return Err(CommandError::CommandIdReused)
                }
                Err(AppendError::Invalid(what)) => {
                    return Err(CommandError::Infrastructure(sqlx::Error::Protocol(
                        what.to_owned(),
                    )))
                }
                Err(AppendError::Database(e)) => return Err(CommandError::Infrastructure(e)),
            }
        }
    }

    async fn previous_outcome<A>(
        &self,
        request: &CommandRequest,
        command_id: Uuid,
    ) -> Result<Option<CommandOutcome>, CommandError<A::Error>>
    where
        A: Aggregate,
        A::Error: std::error::Error,
    {
        let stored: Option<Option<Vec<u8>>> = sqlx::query_scalar(
            "SELECT request_hash FROM events WHERE tenant = $1 AND command_id = $2 AND command_seq = 0",
        )
        .bind(request.tenant.as_str())
        .bind(command_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        if stored.as_deref() != request.request_hash.as_deref() {
            return Err(CommandError::CommandIdReused);
        }
        let rows: Vec<(Uuid, i32, i64)> = sqlx::query_as(
            "SELECT stream_id, version, position FROM events WHERE tenant = $1 AND command_id = $2 ORDER BY command_seq",
        )
        .bind(request.tenant.as_str())
        .bind(command_id)
        .fetch_all(self.pool())
        .await?;
        let events: Vec<AppendedEvent> = rows
            .into_iter()
            .map(|(stream_id, version, position)| AppendedEvent {
                stream_id,
                version,
                position,
            })
            .collect();
        Ok(Some(CommandOutcome {
            stream_id: request.stream_id,
            version: events.iter().map(|e| e.version).max().unwrap_or(0),
            events,
            replayed: true,
        }))
    }

    /// Carries out a command that must change two aggregates together (e.g. opening a removal file
    /// and marking the person's inscription): both streams are loaded, `decide` builds each one's
    /// command (or none) from both states, both aggregates decide, and everything is appended in
    /// one atomic append with both expected versions. A concurrent change of either stream makes
    /// the whole command be decided again on fresh state, so a rule that spans both aggregates is
    /// never checked against a stale read.
    pub async fn execute_pair<A, B>(
        &self,
        request: CommandRequest,
        second: Uuid,
        mut decide: impl FnMut(&A::State, &B::State) -> (Option<A::Command>, Option<B::Command>),
    ) -> Result<CommandOutcome, CommandError<PairRefusal<A::Error, B::Error>>>
    where
        A: Aggregate,
        B: Aggregate,
        A::Event: DomainEvent,
        B::Event: DomainEvent,
        A::Error: std::error::Error,
        B::Error: std::error::Error,
    {
        self.execute_group::<A, B>(request, &[second], |a, others| {
            let (first, other) = decide(a, others[0]);
            (first, vec![other])
        })
        .await
    }

    /// [`EventLog::execute_pair`] with several streams of the second aggregate (e.g. a removal
    /// requested by someone: the file, the inscription concerned and the requester's own
    /// inscription, which refuses while a file is open against them). All or nothing.
    pub async fn execute_group<A, B>(
        &self,
        request: CommandRequest,
        others: &[Uuid],
        mut decide: impl FnMut(&A::State, &[&B::State]) -> (Option<A::Command>, Vec<Option<B::Command>>),
    ) -> Result<CommandOutcome, CommandError<PairRefusal<A::Error, B::Error>>>
    where
        A: Aggregate,
        B: Aggregate,
        A::Event: DomainEvent,
        B::Event: DomainEvent,
        A::Error: std::error::Error,
        B::Error: std::error::Error,
    {
        fn lift<E: std::error::Error, F: std::error::Error>(
            error: CommandError<E>,
        ) -> CommandError<F> {
            match error {
                CommandError::Refused(_) => unreachable!("loading refuses nothing"),
                CommandError::VersionMismatch { expected, actual } => {
                    CommandError::VersionMismatch { expected, actual }
                }
                CommandError::CommandIdReused => CommandError::CommandIdReused,
                CommandError::WrongStream => CommandError::WrongStream,
                CommandError::Undecodable { position, reason } => {
                    CommandError::Undecodable { position, reason }
                }
                CommandError::Infrastructure(e) => CommandError::Infrastructure(e),
            }
        }
        fn encode<E: DomainEvent>(events: &[E]) -> Vec<NewEvent> {
            events
                .iter()
                .map(|e| NewEvent {
                    event_type: e.event_type().to_owned(),
                    schema_version: E::SCHEMA_VERSION,
                    payload: serde_json::to_value(e).expect("domain events serialise"),
                })
                .collect()
        }
        let tenant = request.tenant.as_str().to_owned();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let first = self
                .load_aggregate::<A>(&tenant, request.stream_id, Until::End)
                .await
                .map_err(lift)?;
            let mut loaded = Vec::with_capacity(others.len());
            for other in others {
                loaded.push(
                    self.load_aggregate::<B>(&tenant, *other, Until::End)
                        .await
                        .map_err(lift)?,
                );
            }
            let states: Vec<&B::State> = loaded.iter().map(|l| &l.state).collect();
            let (command_a, commands_b) = decide(&first.state, &states);
            let events_a = match command_a {
                Some(c) => A::handle_command(&first.state, c)
                    .map_err(|e| CommandError::Refused(PairRefusal::First(e)))?,
                None => Vec::new(),
            };
            let mut streams = Vec::new();
            if !events_a.is_empty() {
                streams.push(StreamAppend {
                    stream_type: A::NAME.to_owned(),
                    stream_id: request.stream_id,
                    expected_version: first.version,
                    events: encode(&events_a),
                });
            }
            for ((other, state), command) in others.iter().zip(&loaded).zip(commands_b) {
                let Some(command) = command else { continue };
                let events = B::handle_command(&state.state, command)
                    .map_err(|e| CommandError::Refused(PairRefusal::Second(e)))?;
                if !events.is_empty() {
                    streams.push(StreamAppend {
                        stream_type: B::NAME.to_owned(),
                        stream_id: *other,
                        expected_version: state.version,
                        events: encode(&events),
                    });
                }
            }
            if streams.is_empty() {
                return Ok(CommandOutcome {
                    stream_id: request.stream_id,
                    version: first.version,
                    events: Vec::new(),
                    replayed: false,
                });
            }
            let append = AppendRequest {
                tenant: request.tenant.clone(),
                metadata: request.metadata.clone(),
                request_hash: request.request_hash.clone(),
                streams,
            };
            match self.append(append).await {
                Ok(appended) => {
                    return Ok(CommandOutcome {
                        stream_id: request.stream_id,
                        version: appended
                            .version_of(request.stream_id)
                            .unwrap_or(first.version),
                        events: appended.events,
                        replayed: appended.replayed,
                    })
                }
                Err(AppendError::Conflict { .. }) if attempt <= RETRIES_ON_CONFLICT * 3 => continue,
                Err(AppendError::Conflict { .. }) => {
                    return Err(CommandError::VersionMismatch {
                        expected: first.version,
                        actual: first.version,
                    })
                }
                Err(AppendError::WrongStream { .. }) => return Err(CommandError::WrongStream),
                Err(AppendError::CommandIdReused { .. }) => {
                    return Err(CommandError::CommandIdReused)
                }
                Err(AppendError::Invalid(what)) => {
                    return Err(CommandError::Infrastructure(sqlx::Error::Protocol(
                        what.to_owned(),
                    )))
                }
                Err(AppendError::Database(e)) => return Err(CommandError::Infrastructure(e)),
            }
        }
    }
}
