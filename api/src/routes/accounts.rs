//! Alta de usuario over HTTP: registration by each channel, the single-use links, identity
//! verification and key reset by caseworkers, login with throttling, recovery, unlock, personal
//! data changes in person, the verification queue and the account in Mi Carpeta.
//!
//! Public endpoints (registration without certificate, activation, login, recovery) live under
//! `/v1/councils/{ine}/…`, since their caller has no token to name the council.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use expedientes_domain::user_account::{
    Applicant, Channel, Command, Contact, IdentityDocument, Nationality, Refusal, Representative,
    RequestChannel, UnlockChannel, UserAccount, VerificationMethod,
};
use expedientes_domain::{CaseNumber, MunicipalityCode};
use expedientes_eventlog::{CommandError, CommandOutcome, CommandRequest, Metadata};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Assurance, Caller, Role};
use crate::extract::{parse_json, require_json, resource_id};
use crate::problem::ApiError;
use crate::secrets;
use crate::state::AppState;

/// The stream (and account) id of a person's account in a council: one account per document.
pub fn account_id(tenant: &MunicipalityCode, login_number: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!(
            "expedientes:user_account:{tenant}:{}",
            login_number.trim().to_ascii_uppercase()
        )
        .as_bytes(),
    )
}

/// The client's address (from the connection), for throttling.
#[derive(Debug)]
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        ))
    }
}

/// An optional bearer token: absent is fine, present must be valid.
#[derive(Debug)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(Self(None));
        }
        Caller::from_request_parts(parts, state)
            .await
            .map(|c| Self(Some(c)))
    }
}

fn council(ine: &str) -> Result<MunicipalityCode, ApiError> {
    ine.parse()
        .map_err(|_| ApiError::NotFound("no such council".into()))
}

fn body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, bytes: &[u8]) -> Result<T, ApiError> {
    require_json(headers)?;
    parse_json(bytes)
}

fn refusal(error: CommandError<Refusal>) -> ApiError {
    match error {
        CommandError::Refused(Refusal::AccountLocked) => ApiError::AccountLocked,
        CommandError::Refused(Refusal::PasswordExpired) => ApiError::PasswordExpired,
        CommandError::WrongStream => ApiError::NotFound("no such account".into()),
        other => ApiError::from_command(other, false),
    }
}

async fn execute(
    state: &AppState,
    tenant: &MunicipalityCode,
    account: Uuid,
    actor: (&str, &str),
    on_behalf_of: Option<String>,
    channel: &str,
    command: Command,
) -> Result<CommandOutcome, CommandError<Refusal>> {
    let outcome = state
        .log
        .execute::<UserAccount>(
            CommandRequest {
                tenant: tenant.clone(),
                stream_id: account,
                expected_version: None,
                metadata: Metadata {
                    actor_id: actor.0.to_owned(),
                    actor_role: actor.1.to_owned(),
                    on_behalf_of,
                    channel: Some(channel.to_owned()),
                    correlation_id: Uuid::new_v4(),
                    causation_id: None,
                    command_id: Some(Uuid::new_v4()),
                },
                request_hash: None,
            },
            move |_, _| command.clone(),
        )
        .await;
    if outcome.is_ok() {
        if let Err(error) = state.runner.settle(std::time::Duration::from_secs(2)).await {
            tracing::warn!(%error, "read models could not catch up after a command");
        }
    }
    outcome
}

/// An identity document in a request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    /// `dni`, `passport`, `eu_identity_card`, `residence_card` or `eu_registration_certificate`.
    pub kind: String,
    /// The number.
    pub number: String,
    /// With `eu_registration_certificate`: the passport number.
    pub passport: Option<String>,
}

impl DocumentInput {
    /// The identity document it names, or a validation problem on `field`.
    pub fn parse_document(&self, field: &str) -> Result<IdentityDocument, ApiError> {
        self.parse(field)
    }

    fn parse(&self, field: &str) -> Result<IdentityDocument, ApiError> {
        let bad = |e: expedientes_domain::ParseError| {
            ApiError::invalid_field(&format!("{field}.number"), e.to_string())
        };
        Ok(match self.kind.as_str() {
            "dni" => IdentityDocument::Dni {
                number: self.number.parse().map_err(bad)?,
            },
            "passport" => IdentityDocument::Passport {
                number: self.number.parse().map_err(bad)?,
            },
            "eu_identity_card" => IdentityDocument::EuIdentityCard {
                number: self.number.parse().map_err(bad)?,
            },
            "residence_card" => IdentityDocument::ResidenceCard {
                number: self.number.parse().map_err(bad)?,
            },
            "eu_registration_certificate" => IdentityDocument::EuRegistrationCertificate {
                number: self.number.parse().map_err(bad)?,
                passport: self
                    .passport
                    .as_deref()
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e: expedientes_domain::ParseError| {
                        ApiError::invalid_field(&format!("{field}.passport"), e.to_string())
                    })?,
            },
            _ => {
                return Err(ApiError::invalid_field(
                    &format!("{field}.kind"),
                    "one of dni, passport, eu_identity_card, residence_card, eu_registration_certificate",
                ))
            }
        })
    }
}

/// A registration.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// `online_with_certificate`, `online_without_certificate`, `in_person` or `phone`.
    #[schema(value_type = String)]
    pub channel: Channel,
    /// `natural` or `legal`.
    pub person: String,
    /// Name (or company name).
    pub name: String,
    /// Natural persons: date of birth.
    pub birth_date: Option<NaiveDate>,
    /// Natural persons: `spanish`, `european_union` or `non_eu`.
    #[schema(value_type = Option<String>)]
    pub nationality: Option<Nationality>,
    /// Natural persons: the identity document.
    pub document: Option<DocumentInput>,
    /// Legal persons: the NIF.
    pub nif: Option<String>,
    /// Emancipated minors: the reference of the proof of emancipation.
    pub emancipation_proof: Option<String>,
    /// Mobile phone.
    pub mobile: String,
    /// E-mail.
    pub email: String,
    /// Postal address.
    pub address: String,
    /// A representative, if one acts.
    pub representative: Option<RepresentativeInput>,
    /// Phone channel (caseworkers): the person is already in the council's records.
    #[serde(default)]
    pub known_to_council: bool,
}

/// A representative in a registration.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeInput {
    /// Name.
    pub name: String,
    /// Their identity document.
    pub document: DocumentInput,
    /// The general notarial power's reference.
    pub notarial_power: String,
    /// Both identity documents were presented.
    pub both_documents_presented: bool,
}

/// An account, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountDto {
    /// Its id.
    pub account_id: Uuid,
    /// The document number it logs in with.
    pub login_number: String,
    /// Name.
    pub name: String,
    /// Registration channel.
    pub channel: String,
    /// Its stage.
    pub stage: String,
    /// What the person must do next.
    pub next_step: String,
    /// Registered at.
    pub registered_at: DateTime<Utc>,
    /// Last login.
    pub last_login_at: Option<DateTime<Utc>>,
}

fn next_step(stage: &str) -> &'static str {
    match stage {
        "awaiting_email_confirmation" => {
            "Follow the link sent to your e-mail to activate the account."
        }
        "awaiting_verification" => {
            "Wait for the council to verify your identity (by phone or an appointment)."
        }
        "awaiting_key" => "Wait for the council to send your key by e-mail.",
        "awaiting_password" => "Set your password with the single-use code sent to your e-mail.",
        "active" => "Nothing: your account is active.",
        "locked" => "Unlock your account in person or with an electronic certificate.",
        "expired" => "Recover your password: it expired after a year without use.",
        _ => "",
    }
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    account_id: Uuid,
    login_number: String,
    name: String,
    channel: String,
    stage: String,
    registered_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
}

impl From<AccountRow> for AccountDto {
    fn from(row: AccountRow) -> Self {
        Self {
            next_step: next_step(&row.stage).to_owned(),
            account_id: row.account_id,
            login_number: row.login_number,
            name: row.name,
            channel: row.channel,
            stage: row.stage,
            registered_at: row.registered_at,
            last_login_at: row.last_login_at,
        }
    }
}

const ACCOUNT_COLUMNS: &str =
    "account_id, login_number, name, channel, stage, registered_at, last_login_at";

async fn account_row(
    state: &AppState,
    tenant: &MunicipalityCode,
    account: Uuid,
) -> Result<AccountDto, ApiError> {
    let row: Option<AccountRow> = sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM account_view WHERE account_id = $1 AND tenant = $2"
    ))
    .bind(account)
    .bind(tenant.as_str())
    .fetch_optional(&state.pool)
    .await?;
    row.map(Into::into)
        .ok_or_else(|| ApiError::NotFound("no such account".into()))
}

/// Registers a person in the user-and-password system.
#[utoipa::path(post, path = "/v1/councils/{ine}/accounts", params(("ine" = String, Path)), request_body = RegistrationInput,
    responses((status = 201, body = AccountDto), (status = 409, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)),
    tag = "accounts")]
pub async fn register(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(ine): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let tenant = council(&ine)?;
    let input: RegistrationInput = body(&headers, &bytes)?;
    if let Some(caller) = &caller {
        if caller.tenant != tenant {
            return Err(ApiError::NotFound("no such council".into()));
        }
    }
    // Who may use which channel.
    let (actor, role, document_checked_by, certificate_subject) =
        match (input.channel, &caller) {
            (Channel::OnlineWithoutCertificate, None) => {
                ("anonymous".to_owned(), "citizen", None, None)
            }
            (Channel::OnlineWithCertificate, Some(c))
                if c.role == Role::Citizen && c.assurance == Assurance::High =>
            {
                (c.subject.clone(), "citizen", None, Some(c.subject.clone()))
            }
            (Channel::OnlineWithCertificate, _) => return Err(ApiError::Unauthenticated(
                "registering with an electronic certificate needs a token of assurance level high"
                    .into(),
            )),
            (Channel::InPerson | Channel::Phone, Some(c)) if c.role == Role::Caseworker => (
                c.subject.clone(),
                "caseworker",
                Some(c.subject.clone()),
                None,
            ),
            (Channel::InPerson | Channel::Phone, _) => {
                return Err(ApiError::Forbidden(
                    "in-person and phone registrations are recorded by a caseworker".into(),
                ))
            }
            (Channel::OnlineWithoutCertificate, Some(_)) => {
                ("anonymous".to_owned(), "citizen", None, None)
            }
        };
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            "name",
            "give a name of 1 to 200 characters",
        ));
    }
    let applicant = match input.person.as_str() {
        "natural" => Applicant::Natural {
            name,
            birth_date: input
                .birth_date
                .ok_or_else(|| ApiError::invalid_field("birth_date", "required"))?,
            nationality: input
                .nationality
                .ok_or_else(|| ApiError::invalid_field("nationality", "required"))?,
            document: input
                .document
                .as_ref()
                .ok_or_else(|| ApiError::invalid_field("document", "required"))?
                .parse("document")?,
            emancipation_proof: input.emancipation_proof.clone(),
        },
        "legal" => Applicant::Legal {
            name,
            nif: input.nif.as_deref().unwrap_or_default().parse().map_err(
                |e: expedientes_domain::ParseError| ApiError::invalid_field("nif", e.to_string()),
            )?,
        },
        _ => return Err(ApiError::invalid_field("person", "natural or legal")),
    };
    let representative = match &input.representative {
        Some(r) => Some(Representative {
            name: r.name.trim().to_owned(),
            document: r.document.parse("representative.document")?,
            notarial_power: r.notarial_power.clone(),
            both_documents_presented: r.both_documents_presented,
        }),
        None => None,
    };
    let login = applicant.login_number();
    let account = account_id(&tenant, &login);
    let now = state.clock.now();
    let year = crate::deadlines::local_date(&state, now)
        .format("%Y")
        .to_string()
        .parse()
        .unwrap_or(2026);
    let sequence: i64 = sqlx::query_scalar(
        "INSERT INTO case_number_sequences (tenant, year, last) VALUES ($1, $2, 1)
         ON CONFLICT (tenant, year) DO UPDATE SET last = case_number_sequences.last + 1 RETURNING last",
    )
    .bind(tenant.as_str())
    .bind(year)
    .fetch_one(&state.pool)
    .await?;
    let case_number = CaseNumber::new(&tenant, year, sequence as u64)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let on_behalf_of = representative.as_ref().map(|_| login.clone());
    let command = Command::Register {
        case_number,
        sia_code: state.config.sia_user_account.clone(),
        channel: input.channel,
        applicant,
        contact: Contact {
            mobile: input.mobile.trim().to_owned(),
            email: input.email.trim().to_owned(),
            address: input.address.trim().to_owned(),
        },
        representative,
        known_to_council: input.known_to_council && role == "caseworker",
        document_checked_by,
        certificate_subject,
        at: now,
    };
    let channel = match input.channel {
        Channel::InPerson => "in_person",
        Channel::Phone => "phone",
        _ => "online",
    };
    execute(
        &state,
        &tenant,
        account,
        (&actor, role),
        on_behalf_of,
        channel,
        command,
    )
    .await
    .map_err(refusal)?;
    let dto = account_row(&state, &tenant, account).await?;
    let mut response = (StatusCode::CREATED, Json(dto)).into_response();
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/v1/accounts/{account}")).expect("valid header"),
    );
    Ok(response)
}

/// A single-use code and the new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivationInput {
    /// The code received by e-mail.
    pub token: String,
    /// The new password (8 to 128 characters).
    pub password: String,
}

impl std::fmt::Debug for ActivationInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActivationInput { .. }")
    }
}

/// Follows a single-use link (e-mail confirmation or key activation) and sets the password.
#[utoipa::path(post, path = "/v1/councils/{ine}/accounts/activation", params(("ine" = String, Path)), request_body = ActivationInput,
    responses((status = 204), (status = 410, body = crate::problem::Problem)), tag = "accounts")]
pub async fn activate(
    State(state): State<AppState>,
    Path(ine): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<StatusCode, ApiError> {
    let tenant = council(&ine)?;
    let input: ActivationInput = body(&headers, &bytes)?;
    secrets::check_password_policy(&input.password)?;
    let now = state.clock.now();
    let mut conn = state.pool.acquire().await?;
    let Some((account, kind)) =
        secrets::consume_token(&mut conn, tenant.as_str(), input.token.trim(), now).await?
    else {
        return Err(ApiError::LinkNotValid);
    };
    let command = if kind == "email_confirmation" {
        Command::ConfirmEmail { at: now }
    } else {
        Command::SetPassword { at: now }
    };
    // The password first: if the command then fails, the account is simply not active yet and a
    // new code sets it again; the other order could leave an active account with no password.
    secrets::store_password(&mut conn, tenant.as_str(), account, &input.password, now).await?;
    execute(
        &state,
        &tenant,
        account,
        ("account_holder", "citizen"),
        None,
        "online",
        command,
    )
    .await
    .map_err(refusal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Login credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// Document number.
    pub document: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for LoginInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginInput")
            .field("document", &self.document)
            .finish_non_exhaustive()
    }
}

/// A session token.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    /// A citizen bearer token.
    pub token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
}

/// Failed logins allowed per document number in a window.
pub const MAX_FAILURES_PER_DOCUMENT: i32 = 10;
/// Failed logins allowed per client address in a window.
pub const MAX_FAILURES_PER_ADDRESS: i32 = 30;
/// The throttling window.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
const SESSION_SECONDS: u64 = 3600;

async fn throttled(
    state: &AppState,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let window = now - Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let rows: Vec<(String, i32)> = sqlx::query_as(
        "SELECT key, failures FROM login_throttle WHERE key = ANY($1) AND window_start > $2",
    )
    .bind(keys)
    .bind(window)
    .fetch_all(&state.pool)
    .await?;
    Ok(rows.iter().any(|(key, failures)| {
        let limit = if key.starts_with("doc:") {
            MAX_FAILURES_PER_DOCUMENT
        } else {
            MAX_FAILURES_PER_ADDRESS
        };
        *failures >= limit
    }))
}

async fn record_failure(
    state: &AppState,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let window = now - Duration::minutes(THROTTLE_WINDOW_MINUTES);
    for key in keys {
        sqlx::query(
            "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN login_throttle.window_start > $3 THEN login_throttle.failures + 1 ELSE 1 END,
               window_start = CASE WHEN login_throttle.window_start > $3 THEN login_throttle.window_start ELSE $2 END",
        )
        .bind(key)
        .bind(now)
        .bind(window)
        .execute(&state.pool)
        .await?;
    }
    Ok(())
}

/// Logs in with document number and password; returns a citizen token.
#[utoipa::path(post, path = "/v1/councils/{ine}/sessions", params(("ine" = String, Path)), request_body = LoginInput,
    responses((status = 200, body = SessionDto), (status = 401, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 429, body = crate::problem::Problem)),
    tag = "accounts")]
pub async fn login(
    State(state): State<AppState>,
    Path(ine): Path<String>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<SessionDto>, ApiError> {
    let tenant = council(&ine)?;
    let input: LoginInput = body(&headers, &bytes)?;
    let document = input.document.trim().to_ascii_uppercase();
    let keys = [format!("doc:{tenant}:{document}"), format!("ip:{address}")];
    let now = state.clock.now();
    if throttled(&state, &keys, now).await? {
        return Err(ApiError::TooManyAttempts(
            THROTTLE_WINDOW_MINUTES as u64 * 60,
        ));
    }
    let account = account_id(&tenant, &document);
    let stored = {
        let mut conn = state.pool.acquire().await?;
        secrets::password_hash(&mut conn, account).await?
    };
    let wrong =
        || ApiError::Unauthenticated("the document number or the password is not right".into());
    let Some(stored) = stored else {
        secrets::verify_nothing(&input.password);
        record_failure(&state, &keys, now).await?;
        return Err(wrong());
    };
    let correct = secrets::verify(&input.password, &stored);
    let result = execute(
        &state,
        &tenant,
        account,
        (&document, "citizen"),
        None,
        "online",
        Command::Login {
            password_correct: correct,
            at: now,
        },
    )
    .await;
    match result {
        Ok(_) if correct => {
            let token = state.keys.mint(
                Role::Citizen,
                &tenant,
                &document,
                Assurance::Substantial,
                SESSION_SECONDS,
            );
            Ok(Json(SessionDto {
                token,
                expires_in: SESSION_SECONDS,
            }))
        }
        Ok(_) => {
            record_failure(&state, &keys, now).await?;
            Err(wrong())
        }
        Err(CommandError::Refused(Refusal::WrongStage(_))) => {
            record_failure(&state, &keys, now).await?;
            Err(wrong())
        }
        Err(other) => {
            if !correct {
                record_failure(&state, &keys, now).await?;
            }
            Err(refusal(other))
        }
    }
}

/// A recovery request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryInput {
    /// Document number.
    pub document: String,
}

/// Asks to recover a password online. Always answers 202 (so it does not tell who has an
/// account); a locked account is not recovered online: its holder is told by e-mail to go in
/// person or use a certificate.
#[utoipa::path(post, path = "/v1/councils/{ine}/accounts/recovery", params(("ine" = String, Path)), request_body = RecoveryInput,
    responses((status = 202)), tag = "accounts")]
pub async fn recover(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(ine): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<StatusCode, ApiError> {
    let tenant = council(&ine)?;
    let input: RecoveryInput = body(&headers, &bytes)?;
    let document = input.document.trim().to_ascii_uppercase();
    let channel = match &caller {
        Some(c)
            if c.role == Role::Citizen
                && c.assurance == Assurance::High
                && c.subject == document =>
        {
            RequestChannel::Certificate
        }
        _ => RequestChannel::Online,
    };
    let now = state.clock.now();
    let result = execute(
        &state,
        &tenant,
        account_id(&tenant, &document),
        (&document, "citizen"),
        None,
        "online",
        Command::RequestRecovery { channel, at: now },
    )
    .await;
    match result {
        Ok(_) | Err(CommandError::Refused(_)) => Ok(StatusCode::ACCEPTED),
        Err(other) => Err(refusal(other)),
    }
}

/// How the identity was verified.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerificationInput {
    /// `phone_control_questions` or `in_person_document`.
    #[schema(value_type = String)]
    pub method: VerificationMethod,
}

async fn staff_command(
    state: &AppState,
    caller: &Caller,
    id: &str,
    channel: &str,
    command: impl FnOnce(&str) -> Command,
) -> Result<Json<AccountDto>, ApiError> {
    caller.require(&[Role::Caseworker])?;
    let account = resource_id(id, "account")?;
    account_row(state, &caller.tenant, account).await?;
    execute(
        state,
        &caller.tenant,
        account,
        (&caller.subject, "caseworker"),
        None,
        channel,
        command(&caller.subject),
    )
    .await
    .map_err(refusal)?;
    account_row(state, &caller.tenant, account).await.map(Json)
}

/// A caseworker records how the identity was verified.
#[utoipa::path(post, path = "/v1/accounts/{id}/identity-verifications", params(("id" = Uuid, Path)), request_body = VerificationInput,
    responses((status = 200, body = AccountDto)), security(("bearer" = [])), tag = "accounts")]
pub async fn verify_identity(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<AccountDto>, ApiError> {
    caller.require(&[Role::Caseworker])?;
    let input: VerificationInput = body(&headers, &bytes)?;
    let now = state.clock.now();
    staff_command(&state, &caller, &id, "caseworker_api", |by| {
        Command::VerifyIdentity {
            method: input.method,
            by: by.to_owned(),
            at: now,
        }
    })
    .await
}

/// A caseworker resets the key: a single-use code to set the password is sent by e-mail.
#[utoipa::path(post, path = "/v1/accounts/{id}/key-resets", params(("id" = Uuid, Path)),
    responses((status = 200, body = AccountDto)), security(("bearer" = [])), tag = "accounts")]
pub async fn reset_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AccountDto>, ApiError> {
    let now = state.clock.now();
    staff_command(&state, &caller, &id, "caseworker_api", |by| {
        Command::ResetKey {
            by: by.to_owned(),
            at: now,
        }
    })
    .await
}

/// A caseworker unlocks a locked account (in person).
#[utoipa::path(post, path = "/v1/accounts/{id}/unlocks", params(("id" = Uuid, Path)),
    responses((status = 200, body = AccountDto)), security(("bearer" = [])), tag = "accounts")]
pub async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AccountDto>, ApiError> {
    let now = state.clock.now();
    staff_command(&state, &caller, &id, "in_person", |_| Command::Unlock {
        channel: UnlockChannel::InPerson,
        at: now,
    })
    .await
}

/// New contact data.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// Mobile phone.
    pub mobile: String,
    /// E-mail.
    pub email: String,
    /// Postal address.
    pub address: String,
}

/// Changes the personal data given at registration: in person only, recorded by a caseworker. A
/// citizen asking online is refused.
#[utoipa::path(put, path = "/v1/accounts/{id}/contact", params(("id" = Uuid, Path)), request_body = ContactInput,
    responses((status = 200, body = AccountDto), (status = 409, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "accounts")]
pub async fn change_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<AccountDto>, ApiError> {
    let input: ContactInput = body(&headers, &bytes)?;
    let account = resource_id(&id, "account")?;
    let contact = Contact {
        mobile: input.mobile,
        email: input.email,
        address: input.address,
    };
    let now = state.clock.now();
    match caller.role {
        Role::Caseworker => {
            staff_command(&state, &caller, &id, "in_person", |_| {
                Command::ChangeContact {
                    contact,
                    channel: RequestChannel::InPerson,
                    at: now,
                }
            })
            .await
        }
        Role::Citizen => {
            // Only the holder reaches the account; the domain refuses the online change.
            if account_id(&caller.tenant, &caller.subject) != account {
                return Err(ApiError::NotFound("no such account".into()));
            }
            let channel = if caller.assurance == Assurance::High {
                RequestChannel::Certificate
            } else {
                RequestChannel::Online
            };
            execute(
                &state,
                &caller.tenant,
                account,
                (&caller.subject, "citizen"),
                None,
                "online",
                Command::ChangeContact {
                    contact,
                    channel,
                    at: now,
                },
            )
            .await
            .map_err(refusal)?;
            account_row(&state, &caller.tenant, account).await.map(Json)
        }
        _ => Err(ApiError::Forbidden(
            "this role may not change personal data".into(),
        )),
    }
}

/// The registrations waiting for identity verification, oldest first.
#[utoipa::path(get, path = "/v1/accounts/verification-queue",
    responses((status = 200, body = [AccountDto])), security(("bearer" = [])), tag = "accounts")]
pub async fn verification_queue(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AccountDto>>, ApiError> {
    caller.require(&[Role::Caseworker, Role::Auditor, Role::Admin])?;
    let rows: Vec<AccountRow> = sqlx::query_as(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM account_view WHERE tenant = $1 AND stage = 'awaiting_verification'
         ORDER BY registered_at, account_id LIMIT 500"
    ))
    .bind(caller.tenant.as_str())
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// An account, for staff.
#[utoipa::path(get, path = "/v1/accounts/{id}", params(("id" = Uuid, Path)),
    responses((status = 200, body = AccountDto)), security(("bearer" = [])), tag = "accounts")]
pub async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AccountDto>, ApiError> {
    let account = resource_id(&id, "account")?;
    if caller.role == Role::Citizen && account_id(&caller.tenant, &caller.subject) != account {
        return Err(ApiError::NotFound("no such account".into()));
    }
    account_row(&state, &caller.tenant, account).await.map(Json)
}

/// The citizen's own account in Mi Carpeta: its state and what to do next.
#[utoipa::path(get, path = "/v1/carpeta/account",
    responses((status = 200, body = AccountDto), (status = 404, body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "citizens")]
pub async fn my_account(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AccountDto>, ApiError> {
    caller.require(&[Role::Citizen])?;
    account_row(
        &state,
        &caller.tenant,
        account_id(&caller.tenant, &caller.subject),
    )
    .await
    .map(Json)
}

/// A caseworker records that the holder proved the mobile phone in person (needed for PINs).
#[utoipa::path(post, path = "/v1/accounts/{id}/mobile-verifications", params(("id" = Uuid, Path)),
    responses((status = 200, body = AccountDto)), security(("bearer" = [])), tag = "accounts")]
pub async fn verify_mobile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AccountDto>, ApiError> {
    let now = state.clock.now();
    staff_command(&state, &caller, &id, "in_person", |_| {
        Command::VerifyMobile { at: now }
    })
    .await
}

/// Asks for a one-time PIN by SMS (Cl@ve PIN style), valid for 10 minutes. Always answers 202;
/// a PIN is sent only to an active account with a verified mobile phone.
#[utoipa::path(post, path = "/v1/councils/{ine}/sessions/pin-requests", params(("ine" = String, Path)), request_body = RecoveryInput,
    responses((status = 202)), tag = "accounts")]
pub async fn request_pin(
    State(state): State<AppState>,
    Path(ine): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<StatusCode, ApiError> {
    let tenant = council(&ine)?;
    let input: RecoveryInput = body(&headers, &bytes)?;
    let document = input.document.trim().to_ascii_uppercase();
    let now = state.clock.now();
    let result = execute(
        &state,
        &tenant,
        account_id(&tenant, &document),
        (&document, "citizen"),
        None,
        "online",
        Command::RequestPin { at: now },
    )
    .await;
    match result {
        Ok(_) | Err(CommandError::Refused(_)) => Ok(StatusCode::ACCEPTED),
        Err(other) => Err(refusal(other)),
    }
}

/// A PIN login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinLoginInput {
    /// Document number.
    pub document: String,
    /// The PIN received by SMS.
    pub pin: String,
}

impl std::fmt::Debug for PinLoginInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinLoginInput")
            .field("document", &self.document)
            .finish_non_exhaustive()
    }
}

/// How many tries one PIN allows.
pub const PIN_TRIES: i32 = 3;

/// Logs in with document number and a one-time PIN: once, within 10 minutes, at most three tries.
#[utoipa::path(post, path = "/v1/councils/{ine}/sessions/pin", params(("ine" = String, Path)), request_body = PinLoginInput,
    responses((status = 200, body = SessionDto), (status = 401, body = crate::problem::Problem), (status = 429, body = crate::problem::Problem)),
    tag = "accounts")]
pub async fn login_with_pin(
    State(state): State<AppState>,
    Path(ine): Path<String>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<SessionDto>, ApiError> {
    let tenant = council(&ine)?;
    let input: PinLoginInput = body(&headers, &bytes)?;
    let document = input.document.trim().to_ascii_uppercase();
    let keys = [format!("doc:{tenant}:{document}"), format!("ip:{address}")];
    let now = state.clock.now();
    if throttled(&state, &keys, now).await? {
        return Err(ApiError::TooManyAttempts(
            THROTTLE_WINDOW_MINUTES as u64 * 60,
        ));
    }
    let account = account_id(&tenant, &document);
    let wrong = || ApiError::Unauthenticated("the document number or the PIN is not right".into());
    let live: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT secret_id, hash FROM account_secrets
         WHERE account_id = $1 AND kind = 'pin' AND used_at IS NULL AND expires_at > $2 AND attempts < $3
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(account)
    .bind(now)
    .bind(PIN_TRIES)
    .fetch_optional(&state.pool)
    .await?;
    let Some((secret, hash)) = live else {
        secrets::verify_nothing(&input.pin);
        record_failure(&state, &keys, now).await?;
        return Err(wrong());
    };
    if !secrets::verify(input.pin.trim(), &hash) {
        sqlx::query("UPDATE account_secrets SET attempts = attempts + 1 WHERE secret_id = $1")
            .bind(secret)
            .execute(&state.pool)
            .await?;
        record_failure(&state, &keys, now).await?;
        return Err(wrong());
    }
    // Single use: only the request that marks it used may log in with it.
    let spent = sqlx::query(
        "UPDATE account_secrets SET used_at = $2 WHERE secret_id = $1 AND used_at IS NULL",
    )
    .bind(secret)
    .bind(now)
    .execute(&state.pool)
    .await?;
    if spent.rows_affected() == 0 {
        return Err(wrong());
    }
    execute(
        &state,
        &tenant,
        account,
        (&document, "citizen"),
        None,
        "online_pin",
        Command::Login {
            password_correct: true,
            at: now,
        },
    )
    .await
    .map_err(refusal)?;
    let token = state.keys.mint(
        Role::Citizen,
        &tenant,
        &document,
        Assurance::Substantial,
        SESSION_SECONDS,
    );
    Ok(Json(SessionDto {
        token,
        expires_in: SESSION_SECONDS,
    }))
}
