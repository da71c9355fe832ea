//! The one command pipeline: every endpoint that changes something goes through here.
//!
//! A request becomes an [`Incoming`] (the optional caller, the body, the headers); the handler
//! parses and checks its input, then opens a [`CommandContext`] (who, through which channel, the
//! `Idempotency-Key` as a command id scoped to the caller, a digest of the request, `If-Match`,
//! the correlation id) and carries out the command on one stream or atomically on several with
//! [`CommandContext::run`]. The pipeline then settles the read models (the caller reads its own
//! write), counts `commands_total{procedure,command,outcome}`, and answers in one shape
//! ([`CommandResponse`] with `ETag`, `Location` and `Idempotent-Replayed`).
//!
//! Guarantees, for every command of every procedure (docs/API.md, "Commands"):
//! - the same `Idempotency-Key` from the same caller answers the first result and appends nothing;
//!   the same key with another request is refused (422); copies of one keyed request sent at once
//!   are carried out one after the other in this process, so the later ones find the first result
//!   (also for what a handler does before the command, such as spending a single-use code);
//! - `If-Match` pins the addressed file's version: a stale one answers 412 and appends nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use expedientes_domain::MunicipalityCode;
use expedientes_eventlog::{
    CommandError, CommandOutcome, CommandRequest, Decision, Metadata, Streams,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::OwnedMutexGuard;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::extract::{idempotency_key, if_match, parse_json, require_json};
use crate::problem::{ApiError, RefusalProblem};
use crate::state::AppState;

/// A request to a command endpoint, read whole: the caller if a token was sent (a token that is
/// sent must be valid), the method and path, the headers, the body and the client's address.
#[derive(Debug)]
pub struct Incoming {
    /// The authenticated caller, if any.
    pub caller: Option<Caller>,
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    /// The client's address (for throttling anonymous requests).
    pub client: String,
}

impl FromRequest<AppState> for Incoming {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let caller = crate::auth::optional_caller(&mut parts, state).await?;
        // Behind a trusted reverse proxy, the client it names (EXPEDIENTES_TRUSTED_PROXIES).
        let client = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map_or_else(
                || "unknown".to_owned(),
                |c| {
                    let forwarded = parts
                        .headers
                        .get_all("x-forwarded-for")
                        .iter()
                        .filter_map(|v| v.to_str().ok());
                    crate::config::client_address(
                        &state.config.trusted_proxies,
                        c.0.ip(),
                        forwarded,
                    )
                    .to_string()
                },
            );
        let request = Request::from_parts(parts, body);
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let headers = request.headers().clone();
        let body = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(format!("the body could not be read: {e}"))
            }
        })?;
        Ok(Self {
            caller,
            method,
            path,
            headers,
            body,
            client,
        })
    }
}

impl Incoming {
    /// The authenticated caller, or 401.
    pub fn caller(&self) -> Result<&Caller, ApiError> {
        self.caller.as_ref().ok_or_else(|| {
            ApiError::Unauthenticated("an Authorization: Bearer token is required".into())
        })
    }

    /// The authenticated caller if it has one of these roles: 401 without a token, 403 otherwise.
    pub fn caller_in(&self, roles: &[Role]) -> Result<&Caller, ApiError> {
        let caller = self.caller()?;
        caller.require(roles)?;
        Ok(caller)
    }

    /// The JSON body (`application/json`): 415 for another type, 400 for bad JSON, 422 naming
    /// the field for the wrong shape.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        require_json(&self.headers)?;
        parse_json(&self.body)
    }

    /// The JSON body, or `T::default()` when the body is empty (commands without input).
    pub fn json_or_default<T: serde::de::DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.body.is_empty() {
            Ok(T::default())
        } else {
            self.json()
        }
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The raw body (a document's bytes).
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// No input (the body may be empty or `{}`).
#[derive(Debug, Clone, Default, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({}))]
pub struct NoInput {}

/// Copies of one keyed request in flight in this process, so that they run one after the other.
#[derive(Debug, Clone, Default)]
pub struct KeyLocks(Arc<Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>>);

impl KeyLocks {
    async fn lock(&self, command_id: Uuid) -> KeyGuard {
        let mutex = self
            .0
            .lock()
            .expect("key locks")
            .entry(command_id)
            .or_default()
            .clone();
        let guard = mutex.lock_owned().await;
        KeyGuard {
            locks: self.clone(),
            command_id,
            guard: Some(guard),
        }
    }
}

/// Held while a keyed command runs; forgets the key's lock when nobody else waits on it.
struct KeyGuard {
    locks: KeyLocks,
    command_id: Uuid,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = self.locks.0.lock().expect("key locks");
        if map
            .get(&self.command_id)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            map.remove(&self.command_id);
        }
    }
}

impl std::fmt::Debug for KeyGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyGuard")
            .field("command_id", &self.command_id)
            .finish()
    }
}

/// One command's identity: who, for whom, how, its id, the request's digest and `If-Match`.
#[derive(Debug)]
pub struct CommandContext {
    /// The tenant it acts in.
    pub tenant: MunicipalityCode,
    /// The procedure (for metrics).
    pub procedure: &'static str,
    /// The command (for metrics).
    pub command: &'static str,
    /// Who, for whom, through which channel; the command id.
    pub metadata: Metadata,
    /// Whether the caller sent an `Idempotency-Key`.
    pub keyed: bool,
    digest: Vec<u8>,
    if_match: Option<i32>,
    _guard: Option<KeyGuard>,
}

impl CommandContext {
    /// Opens a command for `incoming` in `tenant`: reads `Idempotency-Key` (the command id, scoped
    /// to the caller and tenant; a random one without it) and `If-Match`, digests the request, and
    /// waits for any copy of the same keyed request still running here.
    pub async fn open(
        state: &AppState,
        incoming: &Incoming,
        tenant: &MunicipalityCode,
        procedure: &'static str,
        command: &'static str,
    ) -> Result<Self, ApiError> {
        let key = idempotency_key(&incoming.headers)?;
        // `If-Match` is honoured where the document declares it: on a command on a resource that
        // exists (one named in the path, or replaced by PUT); elsewhere it is ignored.
        let addressed = incoming.method == Method::PUT
            || incoming
                .path
                .split('/')
                .any(|segment| Uuid::parse_str(segment).is_ok());
        let if_match = if addressed {
            if_match(&incoming.headers)?
        } else {
            None
        };
        let (actor_id, actor_role, channel) = match &incoming.caller {
            Some(caller) => (
                caller.subject.clone(),
                caller.role.as_str().to_owned(),
                match caller.role {
                    Role::Citizen => "electronic_registry",
                    _ => "caseworker_api",
                },
            ),
            None => ("anonymous".to_owned(), "citizen".to_owned(), "online"),
        };
        let command_id = match &key {
            // Scoped to the caller, so two callers' keys never collide.
            Some(key) => Uuid::new_v5(
                &Uuid::NAMESPACE_URL,
                format!("expedientes:{tenant}:{actor_role}:{actor_id}:{key}").as_bytes(),
            ),
            None => Uuid::new_v4(),
        };
        // Keyed with the service's secret: a body may hold a password or a single-use code, and
        // its digest is stored with the first event.
        let mut digest = Sha256::new();
        digest.update(&state.config.signing_key);
        digest.update([0]);
        digest.update(incoming.method.as_str().as_bytes());
        digest.update(b" ");
        digest.update(incoming.path.as_bytes());
        digest.update(b"\n");
        digest.update(&incoming.body);
        let correlation_id = incoming
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Uuid::parse_str(v).ok())
            .unwrap_or_else(Uuid::new_v4);
        let guard = match key {
            Some(_) => Some(state.key_locks.lock(command_id).await),
            None => None,
        };
        Ok(Self {
            tenant: tenant.clone(),
            procedure,
            command,
            metadata: Metadata {
                actor_id,
                actor_role,
                on_behalf_of: None,
                channel: Some(channel.to_owned()),
                correlation_id,
                causation_id: None,
                command_id: Some(command_id),
            },
            keyed: key.is_some(),
            digest: digest.finalize().to_vec(),
            if_match,
            _guard: guard,
        })
    }

    /// A command this one causes (e.g. the removal files an inscription opens ex officio): its id
    /// and digest derive from this command's and `key`, so a retry of this command repeats none
    /// of them; it pins no version.
    pub fn derived(&self, procedure: &'static str, command: &'static str, key: &[u8]) -> Self {
        let command_id = Uuid::new_v5(&self.command_id(), key);
        let mut digest = Sha256::new();
        digest.update(&self.digest);
        digest.update(key);
        Self {
            tenant: self.tenant.clone(),
            procedure,
            command,
            metadata: Metadata {
                command_id: Some(command_id),
                causation_id: self.metadata.command_id,
                ..self.metadata.clone()
            },
            keyed: true,
            digest: digest.finalize().to_vec(),
            if_match: None,
            _guard: None,
        }
    }

    /// The command id (from `Idempotency-Key`, or random).
    pub fn command_id(&self) -> Uuid {
        self.metadata.command_id.expect("set when opened")
    }

    /// The id of a new stream this command creates: the same for every retry of the same keyed
    /// request, so a retry names the same new file.
    pub fn new_stream_id(&self) -> Uuid {
        Uuid::new_v5(&Uuid::NAMESPACE_OID, self.command_id().as_bytes())
    }

    /// Records that the actor acts for this person.
    pub fn on_behalf_of(mut self, person: Option<String>) -> Self {
        self.metadata.on_behalf_of = person;
        self
    }

    /// Overrides the channel (in person, by phone…).
    pub fn channel(mut self, channel: &str) -> Self {
        self.metadata.channel = Some(channel.to_owned());
        self
    }

    /// `If-Match` for a caller that checks it against another resource than the stream the
    /// command appends to (a document added to a file pins the file's version): the version
    /// sent, after which the command no longer pins its own stream.
    fn take_if_match(&mut self) -> Option<i32> {
        self.if_match.take()
    }

    /// Checks `If-Match` against the version of the resource in the path when the command appends
    /// to another stream (a document added to a file, a certificate of an inscription, a file
    /// opened from a request): 412 if they differ; the command then pins nothing of its own.
    pub fn check_if_match_against(&mut self, version: i32) -> Result<(), ApiError> {
        match self.take_if_match() {
            Some(expected) if expected != version => Err(ApiError::PreconditionFailed {
                expected,
                actual: version,
            }),
            _ => Ok(()),
        }
    }

    /// Pins the command to the stream's version `version` (what it was decided against), unless
    /// the caller pinned one with `If-Match`, which is kept (a different one then fails as 412).
    pub fn pin_version(&mut self, version: i32) {
        self.if_match.get_or_insert(version);
    }

    /// Whether the caller pinned a version with `If-Match`.
    pub fn pinned(&self) -> bool {
        self.if_match.is_some()
    }

    fn request(&self, primary: Uuid) -> CommandRequest {
        CommandRequest {
            tenant: self.tenant.clone(),
            stream_id: primary,
            expected_version: self.if_match,
            metadata: self.metadata.clone(),
            request_hash: Some(self.digest.clone()),
        }
    }

    /// The first outcome of this keyed request, if it was carried out before: what a handler
    /// checks before doing anything outside the log (spending a code, counting a failure).
    pub async fn earlier(
        &self,
        state: &AppState,
        primary: Uuid,
    ) -> Result<Option<Executed>, ApiError> {
        if !self.keyed {
            return Ok(None);
        }
        let found = state
            .log
            .earlier_outcome::<std::convert::Infallible>(&self.request(primary))
            .await
            .map_err(|e| ApiError::from_command(e, false))?;
        if found.is_some() {
            metrics::counter!("commands_total", "procedure" => self.procedure, "command" => self.command,
                "outcome" => "replayed")
            .increment(1);
        }
        Ok(found.map(|outcome| Executed {
            outcome,
            procedure: self.procedure,
        }))
    }

    /// Carries out a command on one stream.
    pub async fn execute<A>(
        &self,
        state: &AppState,
        stream: Uuid,
        mut decide: impl FnMut(&A::State, i32) -> A::Command,
    ) -> Result<Executed, ApiError>
    where
        A: esrs::Aggregate,
        A::Event: expedientes_domain::procedure::DomainEvent,
        A::State: Send + Sync + 'static,
        A::Error: RefusalProblem,
    {
        self.run(state, stream, Streams::of::<A>(stream), |decision| {
            let command = decide(decision.state::<A>(stream), decision.version(stream));
            decision.handle::<A>(stream, command)
        })
        .await
    }

    /// Carries out a command on the primary stream and the other declared streams, atomically
    /// (see [`expedientes_eventlog::EventLog::run`]); settles the read models; counts it.
    pub async fn run<R: RefusalProblem>(
        &self,
        state: &AppState,
        primary: Uuid,
        streams: Streams,
        decide: impl FnMut(&mut Decision<'_>) -> Result<(), R>,
    ) -> Result<Executed, ApiError> {
        let result = state.log.run(self.request(primary), streams, decide).await;
        let outcome_label = match &result {
            Ok(o) if o.replayed => "replayed",
            Ok(_) => "accepted",
            Err(CommandError::Refused(_)) => "refused",
            Err(CommandError::VersionMismatch { .. } | CommandError::ConcurrentChange) => {
                "conflict"
            }
            Err(CommandError::CommandIdReused | CommandError::WrongStream) => "rejected",
            Err(_) => "failed",
        };
        metrics::counter!("commands_total", "procedure" => self.procedure, "command" => self.command,
            "outcome" => outcome_label)
        .increment(1);
        let outcome = result.map_err(|e| match e {
            CommandError::Refused(refusal) => refusal.into_problem(),
            other => ApiError::from_command(other, self.pinned()),
        })?;
        settle(state).await;
        Ok(Executed {
            outcome,
            procedure: self.procedure,
        })
    }
}

/// Brings the read models up to what was just written (read-your-writes).
pub async fn settle(state: &AppState) {
    if let Err(error) = state.runner.settle(std::time::Duration::from_secs(2)).await {
        tracing::warn!(%error, "read models could not catch up after a command");
    }
}

/// A command that was carried out (now or, for a retry, earlier).
#[derive(Debug, Clone)]
pub struct Executed {
    /// What the log says of it.
    pub outcome: CommandOutcome,
    /// The procedure.
    pub procedure: &'static str,
}

/// Where a command's event landed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppendedDto {
    /// The stream (file, inscription, account) it was appended to.
    pub stream_id: Uuid,
    /// Global position in the log.
    pub position: i64,
    /// Version in its stream.
    pub version: i32,
}

/// The answer to every command: what it acted on, its version now, and where to read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommandResponse {
    /// The file, inscription or account the command addressed.
    pub id: Uuid,
    /// Its procedure's machine name.
    pub procedure: String,
    /// Its version after the command (also the `ETag`).
    pub version: i32,
    /// Where to read it (also the `Location` header).
    pub location: String,
    /// The events appended, on every stream the command changed, in order.
    pub events: Vec<AppendedDto>,
    /// True when this answers a retry of an earlier request with the same `Idempotency-Key`.
    pub replayed: bool,
}

impl Executed {
    /// The stream the command addressed.
    pub fn id(&self) -> Uuid {
        self.outcome.stream_id
    }

    /// The response: 201 when the command created the addressed resource (also on a replay of
    /// that creation), else 200; `ETag`, `Location`, `Idempotent-Replayed`.
    pub fn reply(self, location: String) -> Response {
        let status = if self.outcome.created() {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        self.respond(status, location)
    }

    /// The response of a command on a resource that always exists (a council's calendar, whose
    /// stream is created by its first change): 200.
    pub fn reply_changed(self, location: String) -> Response {
        self.respond(StatusCode::OK, location)
    }

    fn respond(self, status: StatusCode, location: String) -> Response {
        let body = CommandResponse {
            id: self.outcome.stream_id,
            procedure: self.procedure.to_owned(),
            version: self.outcome.version,
            location: location.clone(),
            events: self
                .outcome
                .events
                .iter()
                .map(|e| AppendedDto {
                    stream_id: e.stream_id,
                    position: e.position,
                    version: e.version,
                })
                .collect(),
            replayed: self.outcome.replayed,
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::ETAG, etag(self.outcome.version));
        if let Ok(value) = HeaderValue::from_str(&location) {
            headers.insert(header::LOCATION, value);
        }
        if self.outcome.replayed {
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        response
    }

    /// Adds `Idempotent-Replayed` to a response of another shape (a login's token, a 202).
    pub fn mark(&self, mut response: Response) -> Response {
        if self.outcome.replayed {
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        response
    }
}

/// A version as an entity tag.
pub fn etag(version: i32) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("a number is a valid header")
}
