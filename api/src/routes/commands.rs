//! Commands on general applications (instancia general): submit, ask for subsanación, extend it,
//! fix, resolve, withdraw. Every command goes through `EventLog::execute`, with the caller's
//! identity in the metadata, `If-Match` as the expected version and `Idempotency-Key` as the
//! command id.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Datelike;
use expedientes_domain::general_application::{Command, Decision, GeneralApplication, Refusal};
use expedientes_domain::{CaseNumber, CaseParty, DocumentNumber, PartyRole};
use expedientes_eventlog::{CommandError, CommandOutcome, CommandRequest, Metadata};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::deadlines;
use crate::extract::{idempotency_key, if_match, parse_json, resource_id};
use crate::problem::ApiError;
use crate::routes::cases::visible_case;
use crate::state::AppState;

/// A person named in a request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// DNI, NIE or a legal person's NIF.
    pub document: String,
    /// Full name.
    pub name: String,
}

/// A general application.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// What is asked, in one line.
    pub subject: String,
    /// The application's text.
    #[serde(default)]
    pub body: String,
    /// The applicant. A citizen applying for themselves leaves it out and gives `name`; a
    /// caseworker registering a paper application, or a representative, names the applicant.
    pub applicant: Option<PersonInput>,
    /// The caller's own name, when a citizen applies for themselves or as a representative.
    pub name: Option<String>,
}

/// Ask the applicant to fix the application (art. 68 LPAC: 10 business days).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationRequestInput {
    /// What is missing or wrong.
    pub what: String,
}

/// The applicant's fix.
#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RectificationInput {
    /// A note.
    #[serde(default)]
    pub note: String,
}

/// A resolution.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolutionInput {
    /// `granted` or `denied`.
    pub decision: DecisionInput,
    /// The grounds.
    pub grounds: String,
}

/// A decision.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionInput {
    /// Granted.
    Granted,
    /// Denied.
    Denied,
}

/// Where a command's events landed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppendedDto {
    /// Global position.
    pub position: i64,
    /// Version in the file.
    pub version: i32,
}

/// The outcome of a command.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommandResponse {
    /// The file.
    pub case_id: Uuid,
    /// Its version now (also the ETag).
    pub version: i32,
    /// The events appended.
    pub events: Vec<AppendedDto>,
    /// True when this answers a retry of an earlier request with the same Idempotency-Key.
    pub replayed: bool,
}

/// A command's identity: who, how, the idempotency id and the expected version.
struct Envelope {
    metadata: Metadata,
    request_hash: Vec<u8>,
    expected_version: Option<i32>,
}

fn envelope(
    caller: &Caller,
    headers: &HeaderMap,
    method: &Method,
    uri: &Uri,
    body: &[u8],
) -> Result<Envelope, ApiError> {
    let key = idempotency_key(headers)?;
    let command_id = match &key {
        // Scoped to the caller, so two callers' keys never collide.
        Some(key) => Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            format!("expedientes:{}:{}:{}", caller.tenant, caller.subject, key).as_bytes(),
        ),
        None => Uuid::new_v4(),
    };
    let mut digest = Sha256::new();
    digest.update(method.as_str().as_bytes());
    digest.update(b" ");
    digest.update(uri.path().as_bytes());
    digest.update(b"\n");
    digest.update(body);
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok());
    Ok(Envelope {
        metadata: Metadata {
            actor_id: caller.subject.clone(),
            actor_role: caller.role.as_str().to_owned(),
            on_behalf_of: None,
            channel: Some(match caller.role {
                Role::Citizen => "electronic_registry".to_owned(),
                _ => "caseworker_api".to_owned(),
            }),
            correlation_id: request_id.unwrap_or_else(Uuid::new_v4),
            causation_id: None,
            command_id: Some(command_id),
        },
        request_hash: digest.finalize().to_vec(),
        expected_version: if_match(headers)?,
    })
}

fn map_error(error: CommandError<Refusal>, pinned: bool) -> ApiError {
    ApiError::from_command(error, pinned)
}

async fn respond(
    state: &AppState,
    command: &'static str,
    result: Result<CommandOutcome, CommandError<Refusal>>,
    pinned: bool,
    created: bool,
) -> Result<Response, ApiError> {
    let outcome_label = match &result {
        Ok(_) => "accepted",
        Err(CommandError::Refused(_)) => "refused",
        Err(CommandError::VersionMismatch { .. }) => "conflict",
        Err(_) => "failed",
    };
    metrics::counter!("commands_total", "procedure" => "general_application", "command" => command, "outcome" => outcome_label)
        .increment(1);
    let outcome = result.map_err(|e| map_error(e, pinned))?;
    // Read-your-writes: bring the read models up to this command before answering.
    if let Err(error) = state.runner.settle(std::time::Duration::from_secs(2)).await {
        tracing::warn!(%error, "read models could not catch up after a command");
    }
    let body = CommandResponse {
        case_id: outcome.stream_id,
        version: outcome.version,
        events: outcome
            .events
            .iter()
            .map(|e| AppendedDto {
                position: e.position,
                version: e.version,
            })
            .collect(),
        replayed: outcome.replayed,
    };
    let status = if created && !outcome.replayed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", outcome.version)).expect("valid header"),
    );
    if created {
        headers.insert(
            header::LOCATION,
            HeaderValue::from_str(&format!("/v1/cases/{}", outcome.stream_id))
                .expect("valid header"),
        );
    }
    if outcome.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

fn parse_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    if !body.is_empty() {
        crate::extract::require_json(headers)?;
    }
    parse_json(body)
}

fn parse_person(input: &PersonInput, field: &str) -> Result<(DocumentNumber, String), ApiError> {
    let document = input
        .document
        .parse::<DocumentNumber>()
        .map_err(|e| ApiError::invalid_field(&format!("{field}.document"), e.to_string()))?;
    let name = input.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::invalid_field(
            &format!("{field}.name"),
            "give a name of 1 to 200 characters",
        ));
    }
    Ok((document, name.to_owned()))
}

/// Files a general application.
#[utoipa::path(post, path = "/v1/general-applications", request_body = SubmitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = CommandResponse), (status = 422, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "general applications")]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Citizen, Role::Caseworker])?;
    let input: SubmitRequest = parse_body(&headers, &body)?;
    let mut envelope = envelope(&caller, &headers, &method, &uri, &body)?;
    let subject = input.subject.trim().to_owned();
    if subject.is_empty() || subject.chars().count() > 300 {
        return Err(ApiError::invalid_field(
            "subject",
            "give a subject of 1 to 300 characters",
        ));
    }
    if input.body.len() > 100_000 {
        return Err(ApiError::invalid_field(
            "body",
            "at most 100,000 characters",
        ));
    }
    let parties = match (caller.role, &input.applicant, &caller.document) {
        (Role::Citizen, None, Some(own)) => {
            let name = input.name.as_deref().map(str::trim).unwrap_or("");
            if name.is_empty() {
                return Err(ApiError::invalid_field("name", "give your name"));
            }
            vec![CaseParty {
                document: own.clone(),
                name: name.to_owned(),
                role: PartyRole::Interested,
            }]
        }
        (Role::Citizen, Some(applicant), Some(own)) => {
            // Acting as a representative: the power of attorney is checked by the registry office
            // (not modelled here); the events record who acted for whom.
            let (document, name) = parse_person(applicant, "applicant")?;
            if &document == own {
                return Err(ApiError::invalid_field(
                    "applicant",
                    "leave it out to apply for yourself",
                ));
            }
            let own_name = input.name.as_deref().map(str::trim).unwrap_or("");
            if own_name.is_empty() {
                return Err(ApiError::invalid_field(
                    "name",
                    "give your name as the representative",
                ));
            }
            envelope.metadata.on_behalf_of = Some(document.to_string());
            vec![
                CaseParty {
                    document,
                    name,
                    role: PartyRole::Interested,
                },
                CaseParty {
                    document: own.clone(),
                    name: own_name.to_owned(),
                    role: PartyRole::Representative,
                },
            ]
        }
        (Role::Caseworker, Some(applicant), _) => {
            let (document, name) = parse_person(applicant, "applicant")?;
            envelope.metadata.on_behalf_of = Some(document.to_string());
            envelope.metadata.channel = Some("in_person_registry".into());
            vec![CaseParty {
                document,
                name,
                role: PartyRole::Interested,
            }]
        }
        (Role::Caseworker, None, _) => {
            return Err(ApiError::invalid_field(
                "applicant",
                "name the applicant whose application you register",
            ))
        }
        _ => {
            return Err(ApiError::Forbidden(
                "this role may not file applications".into(),
            ))
        }
    };
    let command_id = envelope.metadata.command_id.expect("set above");
    // The same Idempotency-Key always names the same new file.
    let case_id = Uuid::new_v5(&Uuid::NAMESPACE_OID, command_id.as_bytes());
    let now = state.clock.now();
    let calendar = deadlines::calendar_for(&state, &caller.tenant).await?;
    let filed = deadlines::registry_entry(&state, &calendar, &caller.tenant, now);
    let filed_on = deadlines::local_date(&state, filed);
    // Art. 21.3: three months to resolve when the procedure's rule says nothing else.
    let resolution_due = deadlines::months_after(&calendar, &caller.tenant, filed_on, 3)?;
    let year = filed_on.year();
    let sequence: i64 = sqlx::query_scalar(
        "INSERT INTO case_number_sequences (tenant, year, last) VALUES ($1, $2, 1)
         ON CONFLICT (tenant, year) DO UPDATE SET last = case_number_sequences.last + 1
         RETURNING last",
    )
    .bind(caller.tenant.as_str())
    .bind(year)
    .fetch_one(&state.pool)
    .await?;
    let case_number = CaseNumber::new(&caller.tenant, year, sequence as u64)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let sia_code = state.config.sia_general_application.clone();
    let pinned = envelope.expected_version.is_some();
    let result = state
        .log
        .execute::<GeneralApplication>(
            CommandRequest {
                tenant: caller.tenant.clone(),
                stream_id: case_id,
                expected_version: envelope.expected_version,
                metadata: envelope.metadata,
                request_hash: Some(envelope.request_hash),
            },
            |_, _| Command::Submit {
                case_number: case_number.clone(),
                sia_code: sia_code.clone(),
                parties: parties.clone(),
                subject: subject.clone(),
                body: input.body.clone(),
                at: filed,
                resolution_due,
            },
        )
        .await;
    respond(&state, "submit", result, pinned, true).await
}

/// Which case command a route carries out.
#[derive(Debug, Clone, Copy)]
enum CaseCommand {
    RequestRectification,
    ExtendRectification,
    Rectify,
    Resolve,
    Withdraw,
}

/// The parts of a request a case command needs.
struct Incoming {
    id: String,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

async fn case_command(
    state: AppState,
    caller: Caller,
    incoming: Incoming,
    which: CaseCommand,
) -> Result<Response, ApiError> {
    let Incoming {
        id,
        method,
        uri,
        headers,
        body,
    } = incoming;
    let id = resource_id(&id, "file")?;
    let allowed: &[Role] = match which {
        CaseCommand::RequestRectification
        | CaseCommand::ExtendRectification
        | CaseCommand::Resolve => &[Role::Caseworker],
        CaseCommand::Rectify | CaseCommand::Withdraw => &[Role::Citizen, Role::Caseworker],
    };
    // A citizen who is not a party gets 404 before the role check can tell the file exists.
    let row = visible_case(&state, &caller, id).await?;
    caller.require(allowed)?;
    if row.procedure != <GeneralApplication as esrs::Aggregate>::NAME {
        return Err(ApiError::NotFound("no such general application".into()));
    }
    let envelope = envelope(&caller, &headers, &method, &uri, &body)?;
    let now = state.clock.now();
    let today = deadlines::local_date(&state, now);
    let tenant = caller.tenant.clone();
    let calendar = deadlines::calendar_for(&state, &tenant).await?;
    let request = CommandRequest {
        tenant: caller.tenant.clone(),
        stream_id: id,
        expected_version: envelope.expected_version,
        metadata: envelope.metadata,
        request_hash: Some(envelope.request_hash),
    };
    let pinned = request.expected_version.is_some();
    let (label, result) = match which {
        CaseCommand::RequestRectification => {
            let input: RectificationRequestInput = parse_body(&headers, &body)?;
            if input.what.trim().is_empty() {
                return Err(ApiError::invalid_field("what", "say what must be fixed"));
            }
            // The request is notified electronically when issued; the 10 days start the next day.
            let due = deadlines::business_days_after(&calendar, &tenant, today, 10)?;
            let result = state
                .log
                .execute::<GeneralApplication>(request, |_, _| Command::RequestRectification {
                    what: input.what.trim().to_owned(),
                    at: now,
                    due,
                })
                .await;
            ("request_rectification", result)
        }
        CaseCommand::ExtendRectification => {
            let _: serde::de::IgnoredAny = if body.is_empty() {
                serde::de::IgnoredAny
            } else {
                parse_body(&headers, &body)?
            };
            let mut failure = None;
            let result = state
                .log
                .execute::<GeneralApplication>(request, |current, _| {
                    // Art. 68.2: up to five more business days, counted from the current last day.
                    let from = current.rectification_due.unwrap_or(today);
                    let due = match deadlines::business_days_after(&calendar, &tenant, from, 5) {
                        Ok(d) => d,
                        Err(e) => {
                            failure = Some(e);
                            from
                        }
                    };
                    Command::ExtendRectification { at: now, due }
                })
                .await;
            if let Some(e) = failure {
                return Err(e);
            }
            ("extend_rectification", result)
        }
        CaseCommand::Rectify => {
            let input: RectificationInput = if body.is_empty() {
                RectificationInput::default()
            } else {
                parse_body(&headers, &body)?
            };
            let at = deadlines::registry_entry(&state, &calendar, &tenant, now);
            let result = state
                .log
                .execute::<GeneralApplication>(request, |_, _| Command::Rectify {
                    note: input.note.clone(),
                    at,
                })
                .await;
            ("rectify", result)
        }
        CaseCommand::Resolve => {
            let input: ResolutionInput = parse_body(&headers, &body)?;
            if input.grounds.trim().is_empty() {
                return Err(ApiError::invalid_field(
                    "grounds",
                    "a resolution states its grounds",
                ));
            }
            let decision = match input.decision {
                DecisionInput::Granted => Decision::Granted,
                DecisionInput::Denied => Decision::Denied,
            };
            let result = state
                .log
                .execute::<GeneralApplication>(request, |_, _| Command::Resolve {
                    decision,
                    grounds: input.grounds.trim().to_owned(),
                    at: now,
                })
                .await;
            ("resolve", result)
        }
        CaseCommand::Withdraw => {
            let _: serde::de::IgnoredAny = if body.is_empty() {
                serde::de::IgnoredAny
            } else {
                parse_body(&headers, &body)?
            };
            let result = state
                .log
                .execute::<GeneralApplication>(request, |_, _| Command::Withdraw { at: now })
                .await;
            ("withdraw", result)
        }
    };
    respond(&state, label, result, pinned, false).await
}

macro_rules! case_route {
    ($name:ident, $which:expr, $path:literal, $body:ty, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, request_body = $body,
            params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The file's ETag"),
                   ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
            responses((status = 200, body = CommandResponse), (status = 409, body = crate::problem::Problem),
                      (status = 412, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)),
            security(("bearer" = [])), tag = "general applications")]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(id): Path<String>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            let incoming = Incoming {
                id,
                method,
                uri,
                headers,
                body,
            };
            case_command(state, caller, incoming, $which).await
        }
    };
}

case_route!(
    request_rectification,
    CaseCommand::RequestRectification,
    "/v1/cases/{id}/rectification-requests",
    RectificationRequestInput,
    "A caseworker asks the applicant to fix the application (10 business days)."
);
case_route!(
    extend_rectification,
    CaseCommand::ExtendRectification,
    "/v1/cases/{id}/rectification-extensions",
    serde_json::Value,
    "A caseworker extends the period to fix the application by 5 business days, once."
);
case_route!(
    rectify,
    CaseCommand::Rectify,
    "/v1/cases/{id}/rectifications",
    RectificationInput,
    "The applicant fixes the application."
);
case_route!(
    resolve,
    CaseCommand::Resolve,
    "/v1/cases/{id}/resolutions",
    ResolutionInput,
    "A caseworker resolves."
);
case_route!(
    withdraw,
    CaseCommand::Withdraw,
    "/v1/cases/{id}/withdrawals",
    serde_json::Value,
    "The applicant withdraws (or a caseworker records a withdrawal filed on paper)."
);
