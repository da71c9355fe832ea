//! The one place where a command meets the log: load the streams it touches, rebuild each
//! aggregate's state, let the pure aggregates decide, append what they decided in one atomic
//! append with the metadata of who asked, and map every outcome to a typed result.
//!
//! A command names a *primary* stream (the file or inscription the caller addressed, whose version
//! `If-Match` pins) and any other streams it must change together with it; a one-stream command is
//! a group of one. Generic over the aggregates (type-erased per stream), so the log still knows no
//! procedure by name.

use std::any::Any;
use std::collections::HashMap;

use esrs::Aggregate;
use expedientes_domain::procedure::DomainEvent;
use expedientes_domain::MunicipalityCode;
use uuid::Uuid;

use crate::{
    AppendError, AppendRequest, AppendedEvent, EventLog, Metadata, NewEvent, StoreError,
    StoredEvent, StreamAppend, Until,
};

/// What happened to a command that was carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// The primary stream it acted on.
    pub stream_id: Uuid,
    /// The primary stream's version after it.
    pub version: i32,
    /// The events it appended, on every stream, in order.
    pub events: Vec<AppendedEvent>,
    /// True when this is the result of an earlier call with the same command id.
    pub replayed: bool,
}

impl CommandOutcome {
    /// Whether this command created its primary stream (its first event is the stream's first).
    pub fn created(&self) -> bool {
        self.events
            .iter()
            .any(|e| e.stream_id == self.stream_id && e.version == 1)
    }
}

/// Why a stream could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The stream is another procedure's.
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
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LoadError {
    fn from(error: sqlx::Error) -> Self {
        LoadError::Store(error.into())
    }
}

/// Why a command was not carried out. Only [`CommandError::Store`] and
/// [`CommandError::Undecodable`] are failures of the system; the others are answers.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// An aggregate refused it (a domain rule).
    #[error(transparent)]
    Refused(E),
    /// The caller's expected version (`If-Match`) is not the primary stream's.
    #[error("the file changed: it is at version {actual}, not {expected}")]
    VersionMismatch {
        /// What the caller expected.
        expected: i32,
        /// What the stream is at.
        actual: i32,
    },
    /// The streams kept changing under the command: it was decided again several times, and
    /// another writer got in first each time.
    #[error("the file kept changing while the command was decided")]
    ConcurrentChange,
    /// The command id was already used for a different request.
    #[error("this idempotency key was already used for a different request")]
    CommandIdReused,
    /// A stream is another tenant's or another procedure's.
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
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E: std::error::Error> From<LoadError> for CommandError<E> {
    fn from(error: LoadError) -> Self {
        match error {
            LoadError::WrongStream => CommandError::WrongStream,
            LoadError::Undecodable { position, reason } => {
                CommandError::Undecodable { position, reason }
            }
            LoadError::Store(e) => CommandError::Store(e),
        }
    }
}

impl<E: std::error::Error> From<sqlx::Error> for CommandError<E> {
    fn from(error: sqlx::Error) -> Self {
        CommandError::Store(error.into())
    }
}

impl<E: std::error::Error> CommandError<E> {
    /// The same error with the refusal mapped (e.g. into a caller's own refusal type).
    pub fn map_refusal<F: std::error::Error>(self, map: impl FnOnce(E) -> F) -> CommandError<F> {
        match self {
            CommandError::Refused(e) => CommandError::Refused(map(e)),
            CommandError::VersionMismatch { expected, actual } => {
                CommandError::VersionMismatch { expected, actual }
            }
            CommandError::ConcurrentChange => CommandError::ConcurrentChange,
            CommandError::CommandIdReused => CommandError::CommandIdReused,
            CommandError::WrongStream => CommandError::WrongStream,
            CommandError::Undecodable { position, reason } => {
                CommandError::Undecodable { position, reason }
            }
            CommandError::Store(e) => CommandError::Store(e),
        }
    }
}

/// How many times a command is decided again on fresh state when another writer got in between.
const RETRIES_ON_CONFLICT: usize = 8;

/// A command to carry out.
#[derive(Debug, Clone)]
pub struct CommandRequest {
    /// The tenant.
    pub tenant: MunicipalityCode,
    /// The primary stream (the file the caller addressed).
    pub stream_id: Uuid,
    /// The version of the primary stream the caller saw (`If-Match`), if it pinned one.
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

type Fold = fn(&[StoredEvent]) -> Result<Box<dyn Any + Send + Sync>, LoadError>;

fn fold<A>(events: &[StoredEvent]) -> Result<Box<dyn Any + Send + Sync>, LoadError>
where
    A: Aggregate,
    A::Event: DomainEvent,
    A::State: Send + Sync + 'static,
{
    let mut state = A::State::default();
    for stored in events {
        if stored.stream_type != A::NAME {
            return Err(LoadError::WrongStream);
        }
        let event: A::Event =
            serde_json::from_value(stored.payload.clone()).map_err(|e| LoadError::Undecodable {
                position: stored.position,
                reason: e.to_string(),
            })?;
        state = A::apply_event(state, event);
    }
    Ok(Box::new(state))
}

/// The streams a command reads and may change, each with its aggregate.
#[derive(Debug, Clone, Default)]
pub struct Streams {
    entries: Vec<(Uuid, &'static str, Fold)>,
}

impl Streams {
    /// One stream of aggregate `A`.
    pub fn of<A>(stream_id: Uuid) -> Self
    where
        A: Aggregate,
        A::Event: DomainEvent,
        A::State: Send + Sync + 'static,
    {
        Self::default().and::<A>(stream_id)
    }

    /// Adds a stream of aggregate `A` (a stream named twice is loaded once).
    pub fn and<A>(mut self, stream_id: Uuid) -> Self
    where
        A: Aggregate,
        A::Event: DomainEvent,
        A::State: Send + Sync + 'static,
    {
        if !self.entries.iter().any(|(id, _, _)| *id == stream_id) {
            self.entries.push((stream_id, A::NAME, fold::<A>));
        }
        self
    }

    /// The stream ids, in the order given.
    pub fn ids(&self) -> Vec<Uuid> {
        self.entries.iter().map(|(id, _, _)| *id).collect()
    }
}

struct LoadedAny {
    stream_type: &'static str,
    state: Box<dyn Any + Send + Sync>,
    version: i32,
}

/// What the decision sees (every stream's state and version) and what it decides (each stream's
/// command, handled at once by the pure aggregate).
pub struct Decision<'a> {
    loaded: &'a HashMap<Uuid, LoadedAny>,
    appends: Vec<StreamAppend>,
}

impl std::fmt::Debug for Decision<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decision")
            .field("streams", &self.loaded.keys().collect::<Vec<_>>())
            .field("appends", &self.appends.len())
            .finish()
    }
}

impl<'a> Decision<'a> {
    fn entry<A: Aggregate>(&self, stream_id: Uuid) -> &'a LoadedAny {
        let loaded = self
            .loaded
            .get(&stream_id)
            .unwrap_or_else(|| panic!("stream {stream_id} was not declared in the command"));
        assert_eq!(
            loaded.stream_type,
            A::NAME,
            "stream {stream_id} was declared with another aggregate"
        );
        loaded
    }

    /// A declared stream's current state.
    pub fn state<A>(&self, stream_id: Uuid) -> &'a A::State
    where
        A: Aggregate,
        A::State: 'static,
    {
        self.entry::<A>(stream_id)
            .state
            .downcast_ref::<A::State>()
            .expect("the state has the declared aggregate's type")
    }

    /// A declared stream's current version (0 when it has no events).
    pub fn version(&self, stream_id: Uuid) -> i32 {
        self.loaded.get(&stream_id).map_or(0, |l| l.version)
    }

    /// Lets aggregate `A` handle `command` on a declared stream; its events (if any) join the
    /// command's one append. A refusal is returned for the caller to pass on with `?`.
    pub fn handle<A>(&mut self, stream_id: Uuid, command: A::Command) -> Result<(), A::Error>
    where
        A: Aggregate,
        A::Event: DomainEvent,
        A::State: 'static,
    {
        assert!(
            self.appends.iter().all(|a| a.stream_id != stream_id),
            "stream {stream_id} handled twice in one command"
        );
        let entry = self.entry::<A>(stream_id);
        let state = self.state::<A>(stream_id);
        let events = A::handle_command(state, command)?;
        if !events.is_empty() {
            self.appends.push(StreamAppend {
                stream_type: A::NAME.to_owned(),
                stream_id,
                expected_version: entry.version,
                events: events
                    .iter()
                    .map(|e| NewEvent {
                        event_type: e.event_type().to_owned(),
                        schema_version: <A::Event as DomainEvent>::SCHEMA_VERSION,
                        payload: serde_json::to_value(e).expect("domain events serialise"),
                    })
                    .collect(),
            });
        }
        Ok(())
    }
}

impl EventLog {
    /// Rebuilds an aggregate's state from its stream (up to `until`).
    pub async fn load_aggregate<A>(
        &self,
        tenant: &str,
        stream_id: Uuid,
        until: Until,
    ) -> Result<Loaded<A::State>, LoadError>
    where
        A: Aggregate,
        A::Event: DomainEvent,
        A::State: Send + Sync + 'static,
    {
        let events = self.load_stream(tenant, stream_id, until).await?;
        let version = events.last().map_or(0, |e| e.version);
        let state = fold::<A>(&events)?
            .downcast::<A::State>()
            .expect("fold builds the aggregate's state");
        Ok(Loaded {
            state: *state,
            version,
        })
    }

    async fn load_all(
        &self,
        tenant: &str,
        streams: &Streams,
    ) -> Result<HashMap<Uuid, LoadedAny>, LoadError> {
        let ids = streams.ids();
        let mut by_stream: HashMap<Uuid, Vec<StoredEvent>> = HashMap::new();
        for event in self.load_streams(tenant, &ids).await? {
            by_stream.entry(event.stream_id).or_default().push(event);
        }
        let mut loaded = HashMap::with_capacity(ids.len());
        for (id, stream_type, fold) in &streams.entries {
            let events = by_stream.remove(id).unwrap_or_default();
            loaded.insert(
                *id,
                LoadedAny {
                    stream_type,
                    version: events.last().map_or(0, |e| e.version),
                    state: fold(&events)?,
                },
            );
        }
        Ok(loaded)
    }

    /// Carries out a command on one stream: `decide` builds the command from the current state
    /// and version (so that what depends on it, such as a deadline, is computed from fresh data).
    /// A group of one of [`EventLog::run`].
    pub async fn execute<A>(
        &self,
        request: CommandRequest,
        mut decide: impl FnMut(&A::State, i32) -> A::Command,
    ) -> Result<CommandOutcome, CommandError<A::Error>>
    where
        A: Aggregate,
        A::Event: DomainEvent,
        A::State: Send + Sync + 'static,
        A::Error: std::error::Error,
    {
        let id = request.stream_id;
        self.run(request, Streams::of::<A>(id), |decision| {
            let command = decide(decision.state::<A>(id), decision.version(id));
            decision.handle::<A>(id, command)
        })
        .await
    }

    /// Carries out a command on one or several streams, atomically: every stream in `streams` is
    /// loaded, `decide` reads their states and lets each aggregate handle its command, and all the
    /// events are appended in one statement with every stream's expected version.
    ///
    /// - A command id used before answers with its first outcome, whatever the command's shape (a
    ///   different request under the same id is [`CommandError::CommandIdReused`]).
    /// - With `request.expected_version` (`If-Match`), the primary stream must be at that version:
    ///   otherwise [`CommandError::VersionMismatch`], and nothing is appended.
    /// - When another writer changes any of the streams in between, the whole command is decided
    ///   again on fresh state (a rule that spans several aggregates is never checked against a
    ///   stale read), as long as the primary stream is still at the pinned version.
    /// - A refusal that follows a concurrent copy of the same command answers with that copy's
    ///   outcome (the refusal would describe its effect).
    pub async fn run<R>(
        &self,
        request: CommandRequest,
        streams: Streams,
        mut decide: impl FnMut(&mut Decision<'_>) -> Result<(), R>,
    ) -> Result<CommandOutcome, CommandError<R>>
    where
        R: std::error::Error,
    {
        assert!(
            streams.ids().contains(&request.stream_id),
            "the primary stream must be one of the command's streams"
        );
        if let Some(outcome) = self.earlier_outcome(&request).await? {
            return Ok(outcome);
        }
        let tenant = request.tenant.as_str().to_owned();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let loaded = self.load_all(&tenant, &streams).await?;
            let primary_version = loaded[&request.stream_id].version;
            if let Some(expected) = request.expected_version {
                if expected != primary_version {
                    return Err(CommandError::VersionMismatch {
                        expected,
                        actual: primary_version,
                    });
                }
            }
            let mut decision = Decision {
                loaded: &loaded,
                appends: Vec::new(),
            };
            if let Err(refusal) = decide(&mut decision) {
                // A copy of this command sent at the same time may have just been carried out.
                if let Some(outcome) = self.earlier_outcome(&request).await? {
                    return Ok(outcome);
                }
                return Err(CommandError::Refused(refusal));
            }
            let mut appends = decision.appends;
            // The primary stream's events first, so its first event carries the request's digest.
            appends.sort_by_key(|a| a.stream_id != request.stream_id);
            if appends.is_empty() {
                return Ok(CommandOutcome {
                    stream_id: request.stream_id,
                    version: primary_version,
                    events: Vec::new(),
                    replayed: false,
                });
            }
            let append = AppendRequest {
                tenant: request.tenant.clone(),
                metadata: request.metadata.clone(),
                request_hash: request.request_hash.clone(),
                streams: appends,
            };
            match self.append(append).await {
                Ok(appended) => {
                    return Ok(CommandOutcome {
                        stream_id: request.stream_id,
                        version: appended
                            .version_of(request.stream_id)
                            .unwrap_or(primary_version),
                        events: appended.events,
                        replayed: appended.replayed,
                    })
                }
                Err(AppendError::Conflict { .. }) if attempt <= RETRIES_ON_CONFLICT => continue,
                Err(AppendError::Conflict { .. }) => return Err(CommandError::ConcurrentChange),
                Err(AppendError::WrongStream { .. }) => return Err(CommandError::WrongStream),
                Err(AppendError::CommandIdReused { .. }) => {
                    return Err(CommandError::CommandIdReused)
                }
                Err(AppendError::Store(e)) => return Err(CommandError::Store(e)),
            }
        }
    }

    /// The first outcome of the request's command id, if it was carried out before.
    pub async fn earlier_outcome<R: std::error::Error>(
        &self,
        request: &CommandRequest,
    ) -> Result<Option<CommandOutcome>, CommandError<R>> {
        let Some(command_id) = request.metadata.command_id else {
            return Ok(None);
        };
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
        // A retry addresses the same primary stream (its digest covers the path); a caller that
        // cannot know it before the command (nil: e.g. an activation code names the account) gets
        // the stream of the command's first event. When the command did not change the primary,
        // its version is the one it has now.
        let stream_id = if request.stream_id.is_nil() {
            events.first().map_or(request.stream_id, |e| e.stream_id)
        } else {
            request.stream_id
        };
        let version = match events
            .iter()
            .filter(|e| e.stream_id == stream_id)
            .map(|e| e.version)
            .max()
        {
            Some(version) => version,
            None => sqlx::query_scalar::<_, Option<i32>>(
                "SELECT max(version) FROM events WHERE tenant = $1 AND stream_id = $2",
            )
            .bind(request.tenant.as_str())
            .bind(stream_id)
            .fetch_one(self.pool())
            .await?
            .unwrap_or(0),
        };
        Ok(Some(CommandOutcome {
            stream_id,
            version,
            events,
            replayed: true,
        }))
    }
}
