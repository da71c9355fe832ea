//! The padrón over HTTP (first part): inscriptions — inscribe, change address, modify personal data,
//! renew (ENCSARP), resolve a lapse — the register, and the renewals queue. Removal files for wrong
//! inscription are not exposed yet.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Months, NaiveDate};
use expedientes_domain::padron::{
    Actor, Dwelling, Inscription, InscriptionCommand, InscriptionRefusal, Person, RemovalCause,
    ResidenceStatus,
};
use expedientes_domain::user_account::Nationality;
use expedientes_domain::MunicipalityCode;
use expedientes_eventlog::{CommandError, CommandRequest, Metadata};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::extract::{parse_json, require_json, resource_id, ApiQuery};
use crate::problem::ApiError;
use crate::routes::accounts::DocumentInput;
use crate::state::AppState;

/// The inscription (stream) id of a person in a council: one per document number.
pub fn inscription_id(tenant: &MunicipalityCode, document: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!(
            "expedientes:padron:{tenant}:{}",
            document.trim().to_ascii_uppercase()
        )
        .as_bytes(),
    )
}

fn body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> Result<T, ApiError> {
    require_json(headers)?;
    parse_json(bytes)
}

/// Who acted, in a request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActorInput {
    /// `themselves`, `parent`, `legal_representative` or `representative`.
    pub kind: String,
    /// The acting person's document (all but `themselves`).
    pub document: Option<String>,
    /// A representative's written authorisation.
    pub authorisation: Option<String>,
}

impl ActorInput {
    fn parse(&self) -> Result<Actor, ApiError> {
        let document = || {
            self.document
                .clone()
                .filter(|d| !d.trim().is_empty())
                .ok_or_else(|| ApiError::invalid_field("actor.document", "required"))
        };
        Ok(match self.kind.as_str() {
            "themselves" => Actor::Themselves,
            "parent" => Actor::Parent {
                document: document()?,
            },
            "legal_representative" => Actor::LegalRepresentative {
                document: document()?,
            },
            "representative" => Actor::Representative {
                document: document()?,
                authorisation: self.authorisation.clone().unwrap_or_default(),
            },
            _ => {
                return Err(ApiError::invalid_field(
                    "actor.kind",
                    "themselves, parent, legal_representative or representative",
                ))
            }
        })
    }
}

/// An inscription request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InscribeInput {
    /// Full name.
    pub name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// `spanish`, `european_union` or `non_eu`.
    #[schema(value_type = String)]
    pub nationality: Nationality,
    /// `spanish`, `eu_citizen`, `non_eu_permanent` or `non_eu_temporary`.
    #[schema(value_type = String)]
    pub residence: ResidenceStatus,
    /// The identity document.
    pub document: DocumentInput,
    /// The dwelling's stable key (e.g. cadastral reference).
    pub dwelling_key: String,
    /// The address.
    pub address: String,
    /// Who acted.
    pub actor: ActorInput,
    /// Declares that nobody else lives at the dwelling: removal files are opened ex officio for
    /// everyone else inscribed there.
    #[serde(default)]
    pub declares_nobody_else: bool,
    /// A person inscribed at the dwelling who authorises this inscription (their inscription id):
    /// recorded on both inscriptions together; refused while that person has an open removal file.
    pub authorised_by: Option<Uuid>,
}

/// A register row.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct RegisterRow {
    /// The inscription.
    pub inscription_id: Uuid,
    /// Name.
    pub name: String,
    /// Document.
    pub document: String,
    /// Residence status.
    pub residence: String,
    /// Dwelling key.
    pub dwelling_key: String,
    /// Address.
    pub address: String,
    /// Inscribed on.
    pub inscribed_on: NaiveDate,
    /// The last change that counts as renewal.
    pub last_change_on: NaiveDate,
    /// When the inscription must be renewed (non-EU without permanent residence).
    pub renewal_due: Option<NaiveDate>,
    /// Proposed for lapse.
    pub lapse_proposed: bool,
    /// An open removal file.
    pub open_removal_file: Option<Uuid>,
    /// Removed on.
    pub removed_on: Option<NaiveDate>,
    /// Removal cause.
    pub removal_cause: Option<String>,
    /// Version.
    pub version: i32,
}

const REGISTER_COLUMNS: &str = "inscription_id, name, document, residence, dwelling_key, address, inscribed_on, \
    last_change_on, renewal_due, lapse_proposed, open_removal_file, removed_on, removal_cause, version";

async fn row(
    state: &AppState,
    tenant: &MunicipalityCode,
    id: Uuid,
) -> Result<RegisterRow, ApiError> {
    let row: Option<RegisterRow> = sqlx::query_as(&format!(
        "SELECT {REGISTER_COLUMNS} FROM padron_register WHERE inscription_id = $1 AND tenant = $2"
    ))
    .bind(id)
    .bind(tenant.as_str())
    .fetch_optional(&state.pool)
    .await?;
    row.ok_or_else(|| ApiError::NotFound("no such inscription".into()))
}

fn refusal(error: CommandError<InscriptionRefusal>) -> ApiError {
    match error {
        CommandError::WrongStream => ApiError::NotFound("no such inscription".into()),
        other => ApiError::from_command(other, false),
    }
}

async fn run(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    on_behalf_of: Option<String>,
    command: InscriptionCommand,
) -> Result<(), ApiError> {
    state
        .log
        .execute::<Inscription>(
            CommandRequest {
                tenant: caller.tenant.clone(),
                stream_id: id,
                expected_version: None,
                metadata: Metadata {
                    actor_id: caller.subject.clone(),
                    actor_role: caller.role.as_str().into(),
                    on_behalf_of,
                    channel: Some("caseworker_api".into()),
                    correlation_id: Uuid::new_v4(),
                    command_id: Some(Uuid::new_v4()),
                    ..Metadata::default()
                },
                request_hash: None,
            },
            move |_, _| command.clone(),
        )
        .await
        .map_err(refusal)?;
    if let Err(error) = state.runner.settle(std::time::Duration::from_secs(2)).await {
        tracing::warn!(%error, "read models could not catch up after a command");
    }
    Ok(())
}

/// Caseworkers act on any inscription of their council; a citizen identified with a certificate
/// (assurance high) may renew or change the address of their own. Others get 404 or 403.
async fn own_or_caseworker(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<RegisterRow, ApiError> {
    let found = row(state, &caller.tenant, id).await?;
    match caller.role {
        Role::Caseworker => Ok(found),
        Role::Citizen if found.document == caller.subject => {
            if caller.assurance == crate::auth::Assurance::High {
                Ok(found)
            } else {
                Err(ApiError::Forbidden(
                    "identify with an electronic certificate (assurance high) to do this online"
                        .into(),
                ))
            }
        }
        Role::Citizen => Err(ApiError::NotFound("no such inscription".into())),
        _ => Err(ApiError::Forbidden(
            "this role may not change the padrón".into(),
        )),
    }
}

/// A caseworker inscribes a person (at a citizen office, with the documents checked).
#[utoipa::path(post, path = "/v1/padron/inscriptions", request_body = InscribeInput,
    responses((status = 201, body = RegisterRow), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn inscribe(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Caseworker])?;
    let input: InscribeInput = body(&headers, &bytes)?;
    let document = input.document.parse_document("document")?;
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::invalid_field("name", "required"));
    }
    if input.dwelling_key.trim().is_empty() || input.address.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "dwelling_key",
            "a dwelling key and an address are required",
        ));
    }
    let actor = input.actor.parse()?;
    let on_behalf_of = match &actor {
        Actor::Themselves => None,
        _ => Some(document.login_number()),
    };
    let id = inscription_id(&caller.tenant, &document.login_number());
    let now = state.clock.now();
    let on = crate::deadlines::local_date(&state, now);
    let command = InscriptionCommand::Inscribe {
        person: Person {
            name,
            birth_date: input.birth_date,
            nationality: input.nationality,
            document,
        },
        residence: input.residence,
        dwelling: Dwelling {
            key: input.dwelling_key.trim().to_owned(),
            address: input.address.trim().to_owned(),
        },
        declares_nobody_else: input.declares_nobody_else,
        actor,
        on,
        at: now,
    };
    match input.authorised_by {
        None => run(&state, &caller, id, on_behalf_of, command).await?,
        Some(authoriser) => {
            let authoriser_row = row(&state, &caller.tenant, authoriser).await?;
            if authoriser_row.dwelling_key != input.dwelling_key.trim()
                || authoriser_row.removed_on.is_some()
            {
                return Err(ApiError::invalid_field(
                    "authorised_by",
                    "must be someone inscribed at that dwelling",
                ));
            }
            let mut request = file_request(&caller, id);
            request.metadata.on_behalf_of = on_behalf_of;
            state
                .log
                .execute_pair::<Inscription, Inscription>(request, authoriser, move |_, _| {
                    (
                        Some(command.clone()),
                        Some(InscriptionCommand::AuthoriseNewInscription { newcomer: id, on }),
                    )
                })
                .await
                .map_err(|e| match e {
                    CommandError::Refused(PairRefusal::First(r) | PairRefusal::Second(r)) => {
                        ApiError::Refused {
                            detail: r.to_string(),
                            current_version: None,
                        }
                    }
                    CommandError::Infrastructure(e) => e.into(),
                    other => ApiError::Internal(other.to_string()),
                })?;
            settle(&state).await;
        }
    }
    if input.declares_nobody_else {
        let others: Vec<Uuid> = sqlx::query_scalar(
            "SELECT inscription_id FROM padron_register
             WHERE tenant = $1 AND dwelling_key = $2 AND removed_on IS NULL AND inscription_id <> $3
               AND open_removal_file IS NULL",
        )
        .bind(caller.tenant.as_str())
        .bind(input.dwelling_key.trim())
        .bind(id)
        .fetch_all(&state.pool)
        .await?;
        for other in others {
            open_removal_file(
                &state,
                &caller,
                other,
                RemovalBasis::ExOfficio {
                    reason:
                        "a new inscription at the dwelling declared that nobody else lives there"
                            .into(),
                },
            )
            .await?;
        }
    }
    let created = row(&state, &caller.tenant, id).await?;
    let mut response = (StatusCode::CREATED, Json(created)).into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/v1/padron/inscriptions/{id}")).expect("valid header"),
    );
    Ok(response)
}

/// An inscription in the register.
#[utoipa::path(get, path = "/v1/padron/inscriptions/{id}", params(("id" = Uuid, Path)),
    responses((status = 200, body = RegisterRow)), security(("bearer" = [])), tag = "padron")]
pub async fn get_inscription(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RegisterRow>, ApiError> {
    let id = resource_id(&id, "inscription")?;
    let found = row(&state, &caller.tenant, id).await?;
    if caller.role == Role::Citizen && found.document != caller.subject {
        return Err(ApiError::NotFound("no such inscription".into()));
    }
    Ok(Json(found))
}

/// A renewal (ratification of the data and declaration of continued residence).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewInput {
    /// The document shown (the foreigner card takes precedence over the passport).
    pub document: DocumentInput,
    /// Who acted.
    pub actor: ActorInput,
}

/// Renews an inscription (ENCSARP), recorded by a caseworker at a citizen office.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/renewals", params(("id" = Uuid, Path)), request_body = RenewInput,
    responses((status = 200, body = RegisterRow), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn renew(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<RegisterRow>, ApiError> {
    let id = resource_id(&id, "inscription")?;
    own_or_caseworker(&state, &caller, id).await?;
    let input: RenewInput = body(&headers, &bytes)?;
    let document = input.document.parse_document("document")?;
    let actor = input.actor.parse()?;
    let on = crate::deadlines::local_date(&state, state.clock.now());
    run(
        &state,
        &caller,
        id,
        None,
        InscriptionCommand::Renew {
            document,
            actor,
            on,
        },
    )
    .await?;
    row(&state, &caller.tenant, id).await.map(Json)
}

/// A change of address within the municipality.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    /// The dwelling's key.
    pub dwelling_key: String,
    /// The address.
    pub address: String,
    /// Who acted.
    pub actor: ActorInput,
}

/// Changes the address (counts as renewal).
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/address-changes", params(("id" = Uuid, Path)), request_body = AddressInput,
    responses((status = 200, body = RegisterRow), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn change_address(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<RegisterRow>, ApiError> {
    let id = resource_id(&id, "inscription")?;
    own_or_caseworker(&state, &caller, id).await?;
    let input: AddressInput = body(&headers, &bytes)?;
    if input.dwelling_key.trim().is_empty() || input.address.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "dwelling_key",
            "a dwelling key and an address are required",
        ));
    }
    let actor = input.actor.parse()?;
    let on = crate::deadlines::local_date(&state, state.clock.now());
    run(
        &state,
        &caller,
        id,
        None,
        InscriptionCommand::ChangeAddress {
            dwelling: Dwelling {
                key: input.dwelling_key.trim().to_owned(),
                address: input.address.trim().to_owned(),
            },
            actor,
            on,
        },
    )
    .await?;
    row(&state, &caller.tenant, id).await.map(Json)
}

/// Removes an inscription proposed for lapse (a caseworker's resolution, no hearing), effective on
/// the day its notification takes effect.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LapseInput {
    /// The day the resolution's notification took effect.
    pub notified_on: NaiveDate,
}

/// Resolves the lapse of a non-renewed inscription.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/lapse-resolutions", params(("id" = Uuid, Path)), request_body = LapseInput,
    responses((status = 200, body = RegisterRow), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn resolve_lapse(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<RegisterRow>, ApiError> {
    caller.require(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    row(&state, &caller.tenant, id).await?;
    let input: LapseInput = body(&headers, &bytes)?;
    run(
        &state,
        &caller,
        id,
        None,
        InscriptionCommand::Remove {
            cause: RemovalCause::Lapse,
            effective_on: input.notified_on,
        },
    )
    .await?;
    row(&state, &caller.tenant, id).await.map(Json)
}

/// The renewals queue filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RenewalsQuery {
    /// `due` (renewal due in the next 3 months, default) or `expired` (proposed for lapse,
    /// awaiting resolution).
    pub which: Option<String>,
}

/// The caseworkers' renewal queues.
#[utoipa::path(get, path = "/v1/padron/renewals", params(RenewalsQuery),
    responses((status = 200, body = [RegisterRow])), security(("bearer" = [])), tag = "padron")]
pub async fn renewals(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<RenewalsQuery>,
) -> Result<Json<Vec<RegisterRow>>, ApiError> {
    caller.require(&[Role::Caseworker, Role::Auditor, Role::Admin])?;
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let rows: Vec<RegisterRow> = match query.which.as_deref().unwrap_or("due") {
        "due" => {
            let horizon = today.checked_add_months(Months::new(3)).unwrap_or(today);
            sqlx::query_as(&format!(
                "SELECT {REGISTER_COLUMNS} FROM padron_register
                 WHERE tenant = $1 AND removed_on IS NULL AND renewal_due IS NOT NULL AND renewal_due <= $2
                   AND NOT lapse_proposed
                 ORDER BY renewal_due, inscription_id LIMIT 1000"
            ))
            .bind(caller.tenant.as_str())
            .bind(horizon)
            .fetch_all(&state.pool)
            .await?
        }
        "expired" => {
            sqlx::query_as(&format!(
                "SELECT {REGISTER_COLUMNS} FROM padron_register
                 WHERE tenant = $1 AND removed_on IS NULL AND lapse_proposed
                 ORDER BY renewal_due, inscription_id LIMIT 1000"
            ))
            .bind(caller.tenant.as_str())
            .fetch_all(&state.pool)
            .await?
        }
        _ => return Err(ApiError::invalid_field("which", "due or expired")),
    };
    Ok(Json(rows))
}

use expedientes_domain::padron::{
    FileCommand, FileDecision, FileRefusal, NotificationChannel, NotificationOutcome, RemovalBasis,
    RemovalFile,
};
use expedientes_domain::{CaseNumber, CaseParty, PartyRole};
use expedientes_eventlog::PairRefusal;

/// Opening a removal file.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenFileInput {
    /// The inscription concerned.
    pub inscription_id: Uuid,
    /// Ex officio (caseworker): why.
    pub reason: Option<String>,
    /// At request (citizen): what is known of the person's whereabouts.
    pub whereabouts: Option<String>,
}

/// A removal file's step.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileStepInput {
    /// `send_electronic`, `send_paper`, `delivery_failed`, `accessed`, `delivered`, `edict`,
    /// `allegations`, `agreement`, `regularised`, `request_report`, `report_favourable`,
    /// `report_unfavourable`, `resolve_remove`, `resolve_archive`.
    pub step: String,
    /// For allegations: a summary.
    pub summary: Option<String>,
    /// For `accessed`, `delivered`, `edict`: the day the notification took effect (default today).
    pub on: Option<NaiveDate>,
}

/// The outcome of a removal-file command.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileOutcome {
    /// The file (its case view is at /v1/cases/{file_id}).
    pub file_id: Uuid,
    /// Its version.
    pub version: i32,
}

fn file_refusal(error: CommandError<PairRefusal<FileRefusal, InscriptionRefusal>>) -> ApiError {
    ApiError::from_command(error, false)
}

/// Opens a removal file for wrong inscription: ex officio (caseworker, with a reason) or at the
/// request of a person (citizen, with what they know of the person's whereabouts). The file and the
/// person's inscription change together.
#[utoipa::path(post, path = "/v1/padron/removal-files", request_body = OpenFileInput,
    responses((status = 201, body = FileOutcome), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn open_file(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Caseworker, Role::Citizen])?;
    let input: OpenFileInput = body(&headers, &bytes)?;
    row(&state, &caller.tenant, input.inscription_id).await?;
    let basis = match caller.role {
        Role::Caseworker => RemovalBasis::ExOfficio {
            reason: input
                .reason
                .filter(|r| !r.trim().is_empty())
                .ok_or_else(|| ApiError::invalid_field("reason", "say why the file is opened"))?,
        },
        _ => RemovalBasis::Request {
            requester: caller.subject.clone(),
            whereabouts: input.whereabouts.unwrap_or_default(),
        },
    };
    let (file, version) = open_removal_file(&state, &caller, input.inscription_id, basis).await?;
    let outcome = FileOutcome {
        file_id: file,
        version,
    };
    settle(&state).await;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/cases/{file}"))],
        Json(outcome),
    )
        .into_response())
}

/// Opens a removal file against an inscription, changing the file and the inscription together.
async fn open_removal_file(
    state: &AppState,
    caller: &Caller,
    target: Uuid,
    basis: RemovalBasis,
) -> Result<(Uuid, i32), ApiError> {
    let inscription = row(state, &caller.tenant, target).await?;
    let now = state.clock.now();
    let on = crate::deadlines::local_date(state, now);
    let calendar = crate::deadlines::calendar_for(state, &caller.tenant).await?;
    // Art. 21.3: three months unless the council configures otherwise.
    let max_time_due = crate::deadlines::months_after(
        &calendar,
        &caller.tenant,
        on,
        state.config.removal_file_max_months,
    )?;
    let year = on.format("%Y").to_string().parse().unwrap_or(2026);
    let sequence: i64 = sqlx::query_scalar(
        "INSERT INTO case_number_sequences (tenant, year, last) VALUES ($1, $2, 1)
         ON CONFLICT (tenant, year) DO UPDATE SET last = case_number_sequences.last + 1 RETURNING last",
    )
    .bind(caller.tenant.as_str())
    .bind(year)
    .fetch_one(&state.pool)
    .await?;
    let case_number = CaseNumber::new(&caller.tenant, year, sequence as u64)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let person = CaseParty {
        document: inscription
            .document
            .parse()
            .map_err(|_| ApiError::Internal("an inscribed document that does not parse".into()))?,
        name: inscription.name.clone(),
        role: PartyRole::Interested,
    };
    let file = Uuid::new_v4();
    let sia_code = state.config.sia_general_application.clone();
    // At a person's request, the requester's own inscription (if they are inscribed here) records
    // the request in the same append: it refuses while a file is open against them.
    let requester = match &basis {
        RemovalBasis::Request { requester, .. } => {
            let own = inscription_id(&caller.tenant, requester);
            row(state, &caller.tenant, own)
                .await
                .ok()
                .map(|_| own)
                .filter(|own| *own != target)
        }
        RemovalBasis::ExOfficio { .. } => None,
    };
    let mut streams = vec![target];
    streams.extend(requester);
    let outcome = state
        .log
        .execute_group::<RemovalFile, Inscription>(
            file_request(caller, file),
            &streams,
            move |_, _| {
                let mut inscriptions = vec![Some(InscriptionCommand::RecordRemovalFileOpened {
                    file,
                    on,
                })];
                if requester.is_some() {
                    inscriptions.push(Some(InscriptionCommand::RequestRemovalOf {
                        file,
                        target,
                        on,
                    }));
                }
                (
                    Some(FileCommand::Open {
                        case_number: case_number.clone(),
                        sia_code: sia_code.clone(),
                        person: person.clone(),
                        inscription: target,
                        basis: basis.clone(),
                        on,
                        max_time_due,
                    }),
                    inscriptions,
                )
            },
        )
        .await
        .map_err(file_refusal)?;
    settle(state).await;
    Ok((file, outcome.version))
}

async fn file_inscription(state: &AppState, file: Uuid) -> Result<Uuid, ApiError> {
    let inscription: Option<Uuid> = sqlx::query_scalar(
        "SELECT (payload->>'inscription')::uuid FROM events WHERE stream_id = $1 AND version = 1",
    )
    .bind(file)
    .fetch_optional(&state.pool)
    .await?;
    inscription.ok_or_else(|| ApiError::NotFound("no such removal file".into()))
}

fn file_request(caller: &Caller, file: Uuid) -> CommandRequest {
    CommandRequest {
        tenant: caller.tenant.clone(),
        stream_id: file,
        expected_version: None,
        metadata: Metadata {
            actor_id: caller.subject.clone(),
            actor_role: caller.role.as_str().into(),
            channel: Some("caseworker_api".into()),
            correlation_id: Uuid::new_v4(),
            command_id: Some(Uuid::new_v4()),
            ..Metadata::default()
        },
        request_hash: None,
    }
}

async fn settle(state: &AppState) {
    if let Err(error) = state.runner.settle(std::time::Duration::from_secs(2)).await {
        tracing::warn!(%error, "read models could not catch up after a command");
    }
}

/// Records a step of a removal file. Notification dates start the 15 business days of the hearing
/// (legal calendar); the resolution to remove also removes the inscription, atomically.
#[utoipa::path(post, path = "/v1/padron/removal-files/{id}/steps", params(("id" = Uuid, Path)), request_body = FileStepInput,
    responses((status = 200, body = FileOutcome), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn file_step(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<FileOutcome>, ApiError> {
    let file = resource_id(&id, "file")?;
    let case = crate::routes::cases::visible_case(&state, &caller, file).await?;
    if case.procedure != "padron_removal_file" {
        return Err(ApiError::NotFound("no such removal file".into()));
    }
    let input: FileStepInput = body(&headers, &bytes)?;
    let citizen_steps = ["allegations", "agreement", "regularised"];
    if caller.role == Role::Citizen {
        if !citizen_steps.contains(&input.step.as_str()) {
            return Err(ApiError::Forbidden("this step is the council's".into()));
        }
    } else {
        caller.require(&[Role::Caseworker])?;
    }
    let calendar = crate::deadlines::calendar_for(&state, &caller.tenant).await?;
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let hearing = |from: NaiveDate| {
        crate::deadlines::business_days_after(&calendar, &caller.tenant, from, 15)
    };
    let file_command = Some(match input.step.as_str() {
        // A file that lapsed by its timer: its inscription is unblocked (the timer changes only
        // the file).
        "release_lapsed" => {
            let inscription = file_inscription(&state, file).await?;
            let outcome = state
                .log
                .execute_pair::<RemovalFile, Inscription>(
                    file_request(&caller, file),
                    inscription,
                    move |current, _| {
                        let closed = current.stage == expedientes_domain::padron::FileStage::Lapsed;
                        (
                            None,
                            closed.then_some(InscriptionCommand::RecordRemovalFileClosed {
                                file,
                                on: today,
                            }),
                        )
                    },
                )
                .await
                .map_err(file_refusal)?;
            settle(&state).await;
            return Ok(Json(FileOutcome {
                file_id: file,
                version: outcome.version,
            }));
        }
        "send_electronic" => {
            // Deemed rejected after 10 calendar days; the hearing then starts the next day.
            let rejected_on = today + chrono::Days::new(10);
            FileCommand::SendNotification {
                channel: NotificationChannel::Electronic,
                on: today,
                hearing_due_if_rejected: Some(hearing(rejected_on)?),
            }
        }
        "send_paper" => FileCommand::SendNotification {
            channel: NotificationChannel::Paper,
            on: today,
            hearing_due_if_rejected: None,
        },
        "delivery_failed" => FileCommand::RecordFailedDelivery { on: today },
        "accessed" | "delivered" | "edict" => {
            let on = input.on.unwrap_or(today);
            FileCommand::RecordNotified {
                outcome: match input.step.as_str() {
                    "accessed" => NotificationOutcome::Accessed,
                    "delivered" => NotificationOutcome::Delivered,
                    _ => NotificationOutcome::Edict,
                },
                on,
                hearing_due: hearing(on)?,
            }
        }
        "allegations" => FileCommand::RecordAllegations {
            summary: input.summary.unwrap_or_default(),
            on: today,
        },
        "agreement" => FileCommand::RecordAgreement { on: today },
        "regularised" => FileCommand::RecordRegularised { on: today },
        "request_report" => FileCommand::RequestReport { on: today },
        // The aggregate moves the maximum time by the days the report was awaited (art. 22).
        "report_favourable" | "report_unfavourable" => FileCommand::RecordReport {
            favourable: input.step == "report_favourable",
            on: today,
        },
        "resolve_remove" | "resolve_archive" => FileCommand::Resolve {
            decision: if input.step == "resolve_remove" {
                FileDecision::Remove
            } else {
                FileDecision::Archive
            },
            on: today,
        },
        _ => {
            return Err(ApiError::invalid_field(
                "step",
                "not a step of a removal file",
            ))
        }
    });
    // The inscription changes with the file when the file ends.
    let inscription = file_inscription(&state, file).await?;
    let closes: Option<InscriptionCommand> = match file_command.as_ref().expect("a step") {
        FileCommand::Resolve {
            decision: FileDecision::Remove,
            ..
        } => Some(InscriptionCommand::Remove {
            cause: RemovalCause::WrongInscription,
            effective_on: today,
        }),
        FileCommand::Resolve { .. } | FileCommand::RecordRegularised { .. } => {
            Some(InscriptionCommand::RecordRemovalFileClosed { file, on: today })
        }
        _ => None,
    };
    let mut request = file_request(&caller, file);
    if caller.role == Role::Citizen {
        request.metadata.channel = Some("electronic_registry".into());
    }
    let outcome = state
        .log
        .execute_pair::<RemovalFile, Inscription>(request, inscription, move |_, _| {
            (file_command.clone(), closes.clone())
        })
        .await
        .map_err(file_refusal)?;
    settle(&state).await;
    Ok(Json(FileOutcome {
        file_id: file,
        version: outcome.version,
    }))
}

/// New personal data.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonalDataInput {
    /// Name.
    pub name: String,
    /// Identity document.
    pub document: DocumentInput,
    /// Who acted.
    pub actor: ActorInput,
}

/// Modifies personal data (counts as renewal; refused while a removal file is open).
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/personal-data", params(("id" = Uuid, Path)), request_body = PersonalDataInput,
    responses((status = 200, body = RegisterRow), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn modify_personal_data(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<RegisterRow>, ApiError> {
    caller.require(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    row(&state, &caller.tenant, id).await?;
    let input: PersonalDataInput = body(&headers, &bytes)?;
    let document = input.document.parse_document("document")?;
    if input.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "required"));
    }
    let actor = input.actor.parse()?;
    let on = crate::deadlines::local_date(&state, state.clock.now());
    run(
        &state,
        &caller,
        id,
        None,
        InscriptionCommand::ModifyPersonalData {
            name: input.name.trim().to_owned(),
            document,
            actor,
            on,
        },
    )
    .await?;
    row(&state, &caller.tenant, id).await.map(Json)
}

/// Confirms continued residence (EU citizens and non-EU permanent residents).
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/residence-confirmations", params(("id" = Uuid, Path)), request_body = ActorInput,
    responses((status = 200, body = RegisterRow), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn confirm_residence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<RegisterRow>, ApiError> {
    caller.require(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    row(&state, &caller.tenant, id).await?;
    let actor: ActorInput = body(&headers, &bytes)?;
    let actor = actor.parse()?;
    let on = crate::deadlines::local_date(&state, state.clock.now());
    run(
        &state,
        &caller,
        id,
        None,
        InscriptionCommand::ConfirmResidence { actor, on },
    )
    .await?;
    row(&state, &caller.tenant, id).await.map(Json)
}

/// A removal for death or change of residence.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovalInput {
    /// `death` or `change_of_residence` (lapse and wrong inscription have their own procedures).
    pub cause: String,
    /// Effective on.
    pub effective_on: NaiveDate,
}

/// Removes an inscription for death or change of residence.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/removals", params(("id" = Uuid, Path)), request_body = RemovalInput,
    responses((status = 200, body = RegisterRow), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<RegisterRow>, ApiError> {
    caller.require(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    row(&state, &caller.tenant, id).await?;
    let input: RemovalInput = body(&headers, &bytes)?;
    let cause = match input.cause.as_str() {
        "death" => RemovalCause::Death,
        "change_of_residence" => RemovalCause::ChangeOfResidence,
        _ => {
            return Err(ApiError::invalid_field(
                "cause",
                "death or change_of_residence",
            ))
        }
    };
    run(
        &state,
        &caller,
        id,
        None,
        InscriptionCommand::Remove {
            cause,
            effective_on: input.effective_on,
        },
    )
    .await?;
    row(&state, &caller.tenant, id).await.map(Json)
}

/// The citizen's own padrón inscription in Mi Carpeta, with what they must do and by when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyInscription {
    /// The register row.
    pub inscription: RegisterRow,
    /// What to do next, if anything.
    pub next_step: Option<String>,
    /// By when.
    pub due: Option<NaiveDate>,
}

/// The citizen's padrón inscription.
#[utoipa::path(get, path = "/v1/carpeta/padron",
    responses((status = 200, body = MyInscription), (status = 404, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "citizens")]
pub async fn my_inscription(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MyInscription>, ApiError> {
    caller.require(&[Role::Citizen])?;
    let found = row(
        &state,
        &caller.tenant,
        inscription_id(&caller.tenant, &caller.subject),
    )
    .await?;
    let (next_step, due) = if found.removed_on.is_some() {
        (None, None)
    } else if found.open_removal_file.is_some() {
        (
            Some("A removal file is open: see it in your files and regularise or allege by its date.".to_owned()),
            None,
        )
    } else if found.lapse_proposed {
        (Some("Your inscription expired without renewal and is proposed for lapse: renew it at a citizen office now.".to_owned()), found.renewal_due)
    } else if let Some(due) = found.renewal_due {
        (
            Some("Renew your padrón inscription at a citizen office with your foreigner card (or passport).".to_owned()),
            Some(due),
        )
    } else {
        (None, None)
    };
    Ok(Json(MyInscription {
        inscription: found,
        next_step,
        due,
    }))
}

/// Unblocks the inscriptions whose removal file lapsed by its timer (timers change one stream; this
/// follow-up changes the inscription, in the same way the `release_lapsed` step does). Idempotent:
/// the scheduler runs it after each pass. Returns how many were released.
pub async fn release_lapsed_files(state: &AppState) -> Result<u64, ApiError> {
    let rows: Vec<(String, Uuid, Uuid)> = sqlx::query_as(
        "SELECT p.tenant, p.inscription_id, p.open_removal_file FROM padron_register p
         JOIN case_view c ON c.case_id = p.open_removal_file
         WHERE c.state = 'lapsed' AND p.removed_on IS NULL
         LIMIT 500",
    )
    .fetch_all(&state.pool)
    .await?;
    let mut released = 0;
    for (tenant, inscription, file) in rows {
        let Ok(tenant) = tenant.parse::<MunicipalityCode>() else {
            continue;
        };
        let today = crate::deadlines::local_date(state, state.clock.now());
        let request = CommandRequest {
            tenant,
            stream_id: file,
            expected_version: None,
            metadata: Metadata {
                actor_id: "scheduler".into(),
                actor_role: "system".into(),
                channel: Some("scheduler".into()),
                correlation_id: Uuid::new_v4(),
                command_id: Some(Uuid::new_v5(&file, b"release_lapsed")),
                ..Metadata::default()
            },
            request_hash: Some(file.as_bytes().to_vec()),
        };
        let outcome = state
            .log
            .execute_pair::<RemovalFile, Inscription>(
                request,
                inscription,
                move |current, person| {
                    let lapsed = current.stage == expedientes_domain::padron::FileStage::Lapsed;
                    let still_marked = person.open_removal_file == Some(file);
                    (
                        None,
                        (lapsed && still_marked).then_some(
                            InscriptionCommand::RecordRemovalFileClosed { file, on: today },
                        ),
                    )
                },
            )
            .await;
        match outcome {
            Ok(o) if !o.events.is_empty() => released += 1,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%file, %error, "a lapsed file's inscription could not be released")
            }
        }
    }
    if released > 0 {
        settle(state).await;
    }
    Ok(released)
}
