//! Alta de usuario over HTTP: registration by each channel, the single-use links, identity
//! verification and key reset by caseworkers, login with throttling, recovery, unlock, personal
//! data changes in person, the verification queue and the account in Mi Carpeta.
//!
//! Public endpoints (registration without certificate, activation, login, recovery) live under
//! `/v1/councils/{ine}/…`, since their caller has no token to name the council.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use expedientes_domain::user_account::{
    Applicant, Channel, Command, Contact, IdentityDocument, Nationality, Representative,
    RequestChannel, UnlockChannel, UserAccount, VerificationMethod,
};
use expedientes_domain::MunicipalityCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Assurance, Caller, Role};
use crate::extract::resource_id;
use crate::notices::{NoticeText, Secret};
use crate::pipeline::{CommandContext, CommandResponse, Executed, Incoming, NoInput};
use crate::problem::{ApiError, RefusalProblem};
use crate::procedures::Plugin;
use crate::secrets;
use crate::state::AppState;

/// The alta de usuario's registration: the account aggregate and the accounts read model.
pub const PLUGIN: Plugin = Plugin {
    name: "alta de usuario",
    register: |registry| registry.register::<UserAccount>(),
    read_models: || vec![std::sync::Arc::new(expedientes_projections::Accounts)],
    routes: || {
        OpenApiRouter::new()
            .routes(routes!(register))
            .routes(routes!(activate))
            .routes(routes!(recover))
            .routes(routes!(login))
            .routes(routes!(request_pin))
            .routes(routes!(login_with_pin))
            .routes(routes!(verify_mobile))
            .routes(routes!(verification_queue))
            .routes(routes!(get_account))
            .routes(routes!(verify_identity))
            .routes(routes!(reset_key))
            .routes(routes!(unlock))
            .routes(routes!(change_contact))
            .routes(routes!(my_account))
    },
    notice: account_notice,
};

/// How the account's notices read.
fn account_notice(stream_type: &str, kind: &str) -> Option<NoticeText> {
    use expedientes_domain::user_account::{
        NOTICE_ACTIVATION, NOTICE_EMAIL_CONFIRMATION, NOTICE_PIN,
    };
    if stream_type != NAME {
        return None;
    }
    let text = |subject, body, secret| {
        Some(NoticeText {
            subject,
            body,
            secret,
        })
    };
    match kind {
        NOTICE_ACTIVATION => text(
            "Your key for the council's electronic services",
            "Set your password with this single-use code, valid for {activation_days} days: {secret}",
            Some(Secret::ActivationCode),
        ),
        NOTICE_EMAIL_CONFIRMATION => text(
            "Confirm your registration",
            "Follow this single-use link to activate your account: /activar?token={secret}",
            Some(Secret::EmailConfirmation),
        ),
        NOTICE_PIN => text("", "Your PIN, valid for {pin_minutes} minutes: {secret}", Some(Secret::Pin)),
        "verification_pending" => text(
            "Registration received",
            "Your registration was received. The council will verify your identity before assigning your key.",
            None,
        ),
        "new_registration" => text(
            "New user registration",
            "A person registered online and is waiting for identity verification.",
            None,
        ),
        "account_locked" => text(
            "Account locked",
            "Your account was locked after three wrong passwords. Unlock it in person or with an electronic certificate.",
            None,
        ),
        "password_expired" => text(
            "Password expired",
            "Your password expired after a year without use. Recover it to keep using the service.",
            None,
        ),
        _ => None,
    }
}

const NAME: &str = <UserAccount as esrs::Aggregate>::NAME;

/// A locked account and an expired password have problem types of their own; every other refusal
/// answers 409 in its own words.
impl RefusalProblem for expedientes_domain::user_account::Refusal {
    fn into_problem(self) -> ApiError {
        use expedientes_domain::user_account::Refusal;
        match self {
            Refusal::AccountLocked => ApiError::AccountLocked,
            Refusal::PasswordExpired => ApiError::PasswordExpired,
            other => ApiError::Refused {
                detail: other.to_string(),
                current_version: None,
            },
        }
    }
}

fn location(account: Uuid) -> String {
    format!("/v1/accounts/{account}")
}

fn council(ine: &str) -> Result<MunicipalityCode, ApiError> {
    ine.parse()
        .map_err(|_| ApiError::NotFound("no such council".into()))
}

/// Carries out an account command and answers in the pipeline's shape.
async fn account_command(
    state: &AppState,
    ctx: &CommandContext,
    account: Uuid,
    command: Command,
) -> Result<Executed, ApiError> {
    ctx.execute::<UserAccount>(state, account, move |_, _| command.clone())
        .await
}

/// The kinds of identity document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Spanish DNI.
    Dni,
    /// Passport.
    Passport,
    /// An EU state's national identity card.
    EuIdentityCard,
    /// A foreigner's residence card (NIE).
    ResidenceCard,
    /// The EU citizen registration certificate (with the passport).
    EuRegistrationCertificate,
}

/// A natural or a legal person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    /// A natural person.
    Natural,
    /// A legal person (a company, an association).
    Legal,
}

/// An identity document in a request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    /// The kind of document.
    pub kind: DocumentKind,
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
        Ok(match self.kind {
            DocumentKind::Dni => IdentityDocument::Dni {
                number: self.number.parse().map_err(bad)?,
            },
            DocumentKind::Passport => IdentityDocument::Passport {
                number: self.number.parse().map_err(bad)?,
            },
            DocumentKind::EuIdentityCard => IdentityDocument::EuIdentityCard {
                number: self.number.parse().map_err(bad)?,
            },
            DocumentKind::ResidenceCard => IdentityDocument::ResidenceCard {
                number: self.number.parse().map_err(bad)?,
            },
            DocumentKind::EuRegistrationCertificate => {
                IdentityDocument::EuRegistrationCertificate {
                    number: self.number.parse().map_err(bad)?,
                    passport: self
                        .passport
                        .as_deref()
                        .unwrap_or_default()
                        .parse()
                        .map_err(|e: expedientes_domain::ParseError| {
                            ApiError::invalid_field(&format!("{field}.passport"), e.to_string())
                        })?,
                }
            }
        })
    }
}

/// A registration.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channel": "online_without_certificate", "person": "natural", "name": "Ana García López", "birth_date": "1985-06-15", "nationality": "spanish", "document": {"kind": "dni", "number": "12345678Z"}, "mobile": "+34600111222", "email": "ana@example.org", "address": "Calle de Alcalá 1, 28014 Madrid"}))]
pub struct RegistrationInput {
    /// How the registration is made.
    pub channel: Channel,
    /// A natural or a legal person.
    pub person: PersonKind,
    /// Name (or company name).
    #[schema(max_length = 200)]
    pub name: String,
    /// Natural persons: date of birth.
    pub birth_date: Option<NaiveDate>,
    /// Natural persons: the nationality.
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
    /// The account's version (also its `ETag`).
    pub version: i32,
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
    version: i32,
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
            version: row.version,
        }
    }
}

const ACCOUNT_COLUMNS: &str =
    "account_id, login_number, name, channel, stage, registered_at, last_login_at, version";

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
    responses((status = 201, description = "Registered: the account (its file of alta de usuario)", body = CommandResponse),
              (status = 429, description = "Too many anonymous registrations from this address: retry after Retry-After seconds", body = crate::problem::Problem)),
    tag = "accounts")]
pub async fn register(
    State(state): State<AppState>,
    Path(ine): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let tenant = council(&ine)?;
    let input: RegistrationInput = incoming.json()?;
    let caller = &incoming.caller;
    if let Some(caller) = caller {
        if caller.tenant != tenant {
            return Err(ApiError::NotFound("no such council".into()));
        }
    }
    // Who may use which channel.
    let (actor, role, document_checked_by, certificate_subject) =
        match (input.channel, caller) {
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
    let applicant = match input.person {
        PersonKind::Natural => Applicant::Natural {
            name,
            birth_date: crate::extract::birth_date(
                "birth_date",
                input
                    .birth_date
                    .ok_or_else(|| ApiError::invalid_field("birth_date", "required"))?,
                crate::deadlines::local_date(&state, state.clock.now()),
            )?,
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
        PersonKind::Legal => Applicant::Legal {
            name,
            nif: input.nif.as_deref().unwrap_or_default().parse().map_err(
                |e: expedientes_domain::ParseError| ApiError::invalid_field("nif", e.to_string()),
            )?,
        },
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
    let account = crate::person_ids::account_id(&state, &tenant, &login).await?;
    let on_behalf_of = representative.as_ref().map(|_| login.clone());
    let channel = match input.channel {
        Channel::InPerson => "in_person",
        Channel::Phone => "phone",
        _ => "online",
    };
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "register")
        .await?
        .on_behalf_of(on_behalf_of)
        .channel(channel);
    ctx.metadata.actor_id = actor;
    ctx.metadata.actor_role = role.to_owned();
    if let Some(earlier) = ctx.earlier(&state, account).await? {
        return Ok(earlier.reply(location(account)));
    }
    let now = state.clock.now();
    if incoming.caller.is_none() {
        // Anonymous registrations are counted per client address, refused beyond the limit.
        let keys = [format!(
            "register:{tenant}:{}",
            client_block(&incoming.client)
        )];
        if let Some(retry_after) = throttled(&state, &keys, now).await? {
            return Err(ApiError::TooManyAttempts(retry_after));
        }
        record_failure(&state, &keys, now).await?;
    }
    let today = crate::deadlines::local_date(&state, now);
    // A registration that supersedes an unverified one keeps that file's number (the domain
    // keeps it): no new number is spent for it. Any other registration of an existing account is
    // refused by the domain, so nothing is spent for it either.
    let existing = state
        .log
        .load_aggregate::<UserAccount>(tenant.as_str(), account, expedientes_eventlog::Until::End)
        .await
        .map_err(|e| ApiError::Internal(format!("account {account}: {e}")))?;
    let case_number = match existing.state.case_number.clone() {
        Some(kept) => kept,
        None => crate::case_numbers::next(&state, &tenant, today).await?,
    };
    let mut command = Command::Register {
        entry: None,
        case_number,
        sia_code: state.config.sia_code(NAME),
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
    // Refused on the account as it stands (already registered, say): refused before a registry
    // number is spent for it; decided again in the append.
    <UserAccount as esrs::Aggregate>::handle_command(&existing.state, command.clone())
        .map_err(RefusalProblem::into_problem)?;
    // The registration is an application: entered in the registry (art. 16).
    if let Command::Register { entry, .. } = &mut command {
        *entry = Some(
            crate::registry_entries::submission_now(
                &state,
                &tenant,
                expedientes_domain::lpac::SubmissionKind::Application,
            )
            .await?,
        );
    }
    Ok(account_command(&state, &ctx, account, command)
        .await?
        .reply(location(account)))
}

/// A single-use code and the new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "k3J9…", "password": "una contraseña larga"}))]
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
#[utoipa::path(post, path = "/v1/councils/{ine}/accounts/activation", params(("ine" = String, Path, description = "The council's INE code")),
    request_body = ActivationInput,
    responses((status = 200, description = "The password is set; the account is active", body = CommandResponse),
              (status = 410, description = "The code was already used, expired or is wrong", body = crate::problem::Problem)),
    tag = "accounts")]
pub async fn activate(
    State(state): State<AppState>,
    Path(ine): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let tenant = council(&ine)?;
    let input: ActivationInput = incoming.json()?;
    secrets::check_password_policy(&input.password)?;
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "activate").await?;
    ctx.metadata.actor_id = "account_holder".into();
    // A retry must not spend the code again: it answers what the first request did.
    if let Some(earlier) = ctx.earlier(&state, Uuid::nil()).await? {
        let account = earlier.id();
        return Ok(earlier.reply(location(account)));
    }
    let now = state.clock.now();
    let mut conn = state.pool.acquire().await?;
    let Some((account, kind)) =
        secrets::consume_token(&mut conn, tenant.as_str(), input.token.trim(), now).await?
    else {
        return Err(ApiError::LinkNotValid);
    };
    let on = crate::deadlines::local_date(&state, now);
    let command = if kind == "email_confirmation" {
        Command::ConfirmEmail { at: now, on }
    } else {
        Command::SetPassword { at: now, on }
    };
    // The password first: if the command then fails, the account is simply not active yet and a
    // new code sets it again; the other order could leave an active account with no password.
    secrets::store_password(&mut conn, tenant.as_str(), account, &input.password, now).await?;
    drop(conn);
    Ok(account_command(&state, &ctx, account, command)
        .await?
        .reply(location(account)))
}

/// Login credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"document": "12345678Z", "password": "una contraseña larga"}))]
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
/// Failed logins allowed per document number in a day: someone who spreads guesses over many
/// short windows is still stopped (240 guesses a day otherwise), while the holder, who gets in with
/// the PIN or in person, is never locked out for good by it.
pub const MAX_FAILURES_PER_DOCUMENT_PER_DAY: i32 = 50;
/// Failed logins allowed per client address in a window.
pub const MAX_FAILURES_PER_ADDRESS: i32 = 30;
/// Anonymous registrations (online without a certificate) allowed per client address in a window:
/// each writes a file that can never be deleted.
pub const MAX_REGISTRATIONS_PER_ADDRESS: i32 = 10;
/// The throttling window.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
const DAY_MINUTES: i64 = 24 * 60;
const SESSION_SECONDS: u64 = 3600;

/// The limit and window (minutes) of a throttle key, by its kind.
fn limit_of(key: &str) -> (i32, i64) {
    if key.starts_with("doc:") {
        (MAX_FAILURES_PER_DOCUMENT, THROTTLE_WINDOW_MINUTES)
    } else if key.starts_with("docday:") {
        (MAX_FAILURES_PER_DOCUMENT_PER_DAY, DAY_MINUTES)
    } else if key.starts_with("register:") {
        (MAX_REGISTRATIONS_PER_ADDRESS, THROTTLE_WINDOW_MINUTES)
    } else {
        (MAX_FAILURES_PER_ADDRESS, THROTTLE_WINDOW_MINUTES)
    }
}

/// The client as counted: an IPv4 address, or an IPv6 address's /64 (a host chooses the rest
/// freely, so counting whole addresses would let one machine take a new one per attempt).
fn client_block(client: &str) -> String {
    match client.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => client.to_owned(),
    }
}

/// What a login attempt is counted against: the document (in the window and in the day) and the
/// client's address.
fn login_keys(tenant: &MunicipalityCode, document: &str, client: &str) -> [String; 3] {
    [
        format!("doc:{tenant}:{document}"),
        format!("docday:{tenant}:{document}"),
        format!("ip:{}", client_block(client)),
    ]
}

/// Whether any of `keys` reached its limit in its window; if so, the seconds until the last of
/// those windows ends (the `Retry-After`).
async fn throttled(
    state: &AppState,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<Option<u64>, ApiError> {
    let rows: Vec<(String, i32, DateTime<Utc>)> = sqlx::query_as(
        "SELECT key, failures, window_start FROM login_throttle WHERE key = ANY($1)",
    )
    .bind(keys)
    .fetch_all(&state.pool)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|(key, failures, window_start)| {
            let (limit, minutes) = limit_of(key);
            let ends = *window_start + Duration::minutes(minutes);
            (ends > now && *failures >= limit).then(|| (ends - now).num_seconds().max(1) as u64)
        })
        .max())
}

async fn record_failure(
    state: &AppState,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    for key in keys {
        let window = now - Duration::minutes(limit_of(key).1);
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

/// The login session an attempt belongs to (seed 000): the device it comes from, as a key
/// derived from its address with the service's secret, so the log never holds the address.
/// Attempts from one device while no more than `LOGIN_SESSION_MINUTES` pass between them are
/// one session (the domain decides that part).
fn login_session(state: &AppState, client: &str) -> String {
    use sha2::Digest;
    // An IPv6 device is its /64 (a host chooses the rest freely).
    let device = client_block(client);
    let mut digest = sha2::Sha256::new();
    digest.update(&state.config.signing_key);
    digest.update(b"\0login-session\0");
    digest.update(device.as_bytes());
    digest.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Logs in with document number and password; returns a citizen token.
#[utoipa::path(post, path = "/v1/councils/{ine}/sessions", params(("ine" = String, Path)), request_body = LoginInput,
    responses((status = 200, body = SessionDto), (status = 401, body = crate::problem::Problem),
              (status = 403, body = crate::problem::Problem), (status = 429, body = crate::problem::Problem)),
    tag = "accounts")]
pub async fn login(
    State(state): State<AppState>,
    Path(ine): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    answer_failures_no_sooner(try_login(state, ine, incoming)).await
}

/// A failed login (401) answers no sooner than this after the request arrived, whatever made it
/// fail (an unknown document, a wrong password on an account whose failure is recorded, a locked
/// account): the same answer in the same time, so its timing does not tell who has an account.
/// It is above what any of those paths takes on the service's machines (`expedientes bench
/// login` measures them).
pub const FAILED_LOGIN_FLOOR: std::time::Duration = std::time::Duration::from_millis(250);

async fn answer_failures_no_sooner(
    attempt: impl std::future::Future<Output = Result<Response, ApiError>>,
) -> Result<Response, ApiError> {
    let started = tokio::time::Instant::now();
    let outcome = attempt.await;
    if matches!(outcome, Err(ApiError::Unauthenticated(_))) {
        tokio::time::sleep_until(started + FAILED_LOGIN_FLOOR).await;
    }
    outcome
}

async fn try_login(state: AppState, ine: String, incoming: Incoming) -> Result<Response, ApiError> {
    let tenant = council(&ine)?;
    let input: LoginInput = incoming.json()?;
    let document = input.document.trim().to_ascii_uppercase();
    let keys = login_keys(&tenant, &document, &incoming.client);
    let now = state.clock.now();
    if let Some(retry_after) = throttled(&state, &keys, now).await? {
        return Err(ApiError::TooManyAttempts(retry_after));
    }
    let account = crate::person_ids::account_id(&state, &tenant, &document).await?;
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "login").await?;
    ctx.metadata.actor_id = document.clone();
    let stored = {
        let mut conn = state.pool.acquire().await?;
        secrets::password_hash(&mut conn, account).await?
    };
    let wrong =
        || ApiError::Unauthenticated("the document number or the password is not right".into());
    let session = || {
        Json(SessionDto {
            token: state.keys.mint(
                Role::Citizen,
                &tenant,
                &document,
                Assurance::Substantial,
                SESSION_SECONDS,
            ),
            expires_in: SESSION_SECONDS,
        })
        .into_response()
    };
    let Some(stored) = stored else {
        secrets::verify_nothing(&input.password);
        record_failure(&state, &keys, now).await?;
        return Err(wrong());
    };
    let correct = secrets::verify(&input.password, &stored);
    // A retry of the same request: its attempt was already counted; the password is checked again
    // (it may have changed since) and nothing is appended.
    if let Some(earlier) = ctx.earlier(&state, account).await? {
        if !correct {
            return Err(wrong());
        }
        // Nor does a retry log into an account that is locked or expired now.
        return match account_row(&state, &tenant, account).await?.stage.as_str() {
            "locked" => Err(ApiError::AccountLocked),
            "expired" => Err(ApiError::PasswordExpired),
            "active" => Ok(earlier.mark(session())),
            _ => Err(wrong()),
        };
    }
    let result = ctx
        .run(
            &state,
            account,
            expedientes_eventlog::Streams::of::<UserAccount>(account),
            |decision| -> Result<(), ApiError> {
                decision
                    .handle::<UserAccount>(
                        account,
                        Command::Login {
                            password_correct: correct,
                            at: now,
                            on: crate::deadlines::local_date(&state, now),
                            session: login_session(&state, &incoming.client),
                        },
                    )
                    .map_err(|refusal| match refusal {
                        // An account that cannot log in yet answers as a wrong password does.
                        expedientes_domain::user_account::Refusal::WrongStage(_) => wrong(),
                        other => other.into_problem(),
                    })
            },
        )
        .await;
    match result {
        Ok(executed) if correct => Ok(executed.mark(session())),
        // A wrong password on a locked or expired account answers as an unknown document does:
        // only someone who knows the password learns the account's state.
        Ok(_)
        | Err(ApiError::Unauthenticated(_))
        | Err(ApiError::AccountLocked | ApiError::PasswordExpired)
            if !correct =>
        {
            record_failure(&state, &keys, now).await?;
            Err(wrong())
        }
        Ok(_) | Err(ApiError::Unauthenticated(_)) => {
            record_failure(&state, &keys, now).await?;
            Err(wrong())
        }
        // A wrong password answers as an unknown document does, whatever else went wrong (a
        // conflict, the database): no other status tells that the account exists.
        Err(other) if !correct => {
            tracing::warn!(error = %other, "a failed login could not be recorded");
            let _ = record_failure(&state, &keys, now).await;
            Err(wrong())
        }
        Err(other) => Err(other),
    }
}

/// A recovery request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"document": "12345678Z"}))]
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
    Path(ine): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let tenant = council(&ine)?;
    let input: RecoveryInput = incoming.json()?;
    let document = input.document.trim().to_ascii_uppercase();
    let channel = match &incoming.caller {
        Some(c)
            if c.role == Role::Citizen
                && c.assurance == Assurance::High
                && c.subject == document =>
        {
            RequestChannel::Certificate
        }
        _ => RequestChannel::Online,
    };
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "recover")
        .await?
        .channel("online");
    ctx.metadata.actor_id = document.clone();
    ctx.metadata.actor_role = "citizen".into();
    let now = state.clock.now();
    let account = crate::person_ids::account_id(&state, &tenant, &document).await?;
    let result = account_command(
        &state,
        &ctx,
        account,
        Command::RequestRecovery { channel, at: now },
    )
    .await;
    accepted(result)
}

/// 202 whatever the account's state (so that the answer does not tell who has an account), marked
/// as a replay when it is one.
fn accepted(result: Result<Executed, ApiError>) -> Result<Response, ApiError> {
    match result {
        Ok(executed) => Ok(executed.mark(StatusCode::ACCEPTED.into_response())),
        Err(ApiError::Refused { .. } | ApiError::AccountLocked | ApiError::PasswordExpired) => {
            Ok(StatusCode::ACCEPTED.into_response())
        }
        Err(other) => Err(other),
    }
}

/// How the identity was verified.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"method": "phone_control_questions"}))]
pub struct VerificationInput {
    /// How.
    pub method: VerificationMethod,
}

async fn staff_command(
    state: &AppState,
    incoming: &Incoming,
    id: &str,
    label: &'static str,
    channel: &str,
    command: impl FnOnce(&str) -> Command,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let account = resource_id(id, "account")?;
    account_row(state, &caller.tenant, account).await?;
    let ctx = CommandContext::open(state, incoming, &caller.tenant, NAME, label)
        .await?
        .channel(channel);
    Ok(
        account_command(state, &ctx, account, command(&caller.subject))
            .await?
            .reply(location(account)),
    )
}

/// A caseworker records how the identity was verified.
#[utoipa::path(post, path = "/v1/accounts/{id}/identity-verifications", params(("id" = Uuid, Path, description = "The account")),
    request_body = VerificationInput,
    responses((status = 200, description = "Recorded", body = CommandResponse)), security(("bearer" = [])), tag = "accounts")]
pub async fn verify_identity(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    incoming.caller_in(&[Role::Caseworker])?;
    let input: VerificationInput = incoming.json()?;
    let now = state.clock.now();
    staff_command(
        &state,
        &incoming,
        &id,
        "verify_identity",
        "caseworker_api",
        |by| Command::VerifyIdentity {
            method: input.method,
            by: by.to_owned(),
            at: now,
        },
    )
    .await
}

/// A caseworker resets the key: a single-use code to set the password is sent by e-mail.
#[utoipa::path(post, path = "/v1/accounts/{id}/key-resets", params(("id" = Uuid, Path, description = "The account")),
    request_body(content = Option<NoInput>, description = "No input"),
    responses((status = 200, description = "Recorded; the code is sent", body = CommandResponse)), security(("bearer" = [])), tag = "accounts")]
pub async fn reset_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    incoming.caller_in(&[Role::Caseworker])?;
    let _: NoInput = incoming.json_or_default()?;
    let now = state.clock.now();
    staff_command(
        &state,
        &incoming,
        &id,
        "reset_key",
        "caseworker_api",
        |by| Command::ResetKey {
            by: by.to_owned(),
            at: now,
        },
    )
    .await
}

/// A caseworker unlocks a locked account (in person).
#[utoipa::path(post, path = "/v1/accounts/{id}/unlocks", params(("id" = Uuid, Path, description = "The account")),
    request_body(content = Option<NoInput>, description = "No input"),
    responses((status = 200, description = "Unlocked", body = CommandResponse)), security(("bearer" = [])), tag = "accounts")]
pub async fn unlock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    incoming.caller_in(&[Role::Caseworker])?;
    let _: NoInput = incoming.json_or_default()?;
    let now = state.clock.now();
    staff_command(&state, &incoming, &id, "unlock", "in_person", |_| {
        Command::Unlock {
            channel: UnlockChannel::InPerson,
            at: now,
        }
    })
    .await
}

/// New contact data.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mobile": "+34600333444", "email": "ana.garcia@example.org", "address": "Calle Mayor 5, 28013 Madrid"}))]
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
#[utoipa::path(put, path = "/v1/accounts/{id}/contact", params(("id" = Uuid, Path, description = "The account")), request_body = ContactInput,
    responses((status = 200, description = "Changed", body = CommandResponse)),
    security(("bearer" = [])), tag = "accounts")]
pub async fn change_contact(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller()?;
    let account = resource_id(&id, "account")?;
    let input: ContactInput = incoming.json()?;
    let contact = Contact {
        mobile: input.mobile,
        email: input.email,
        address: input.address,
    };
    let now = state.clock.now();
    match caller.role {
        Role::Caseworker => {
            staff_command(
                &state,
                &incoming,
                &id,
                "change_contact",
                "in_person",
                |_| Command::ChangeContact {
                    contact,
                    channel: RequestChannel::InPerson,
                    at: now,
                },
            )
            .await
        }
        Role::Citizen => {
            // Only the holder reaches the account; the domain refuses the online change.
            if crate::person_ids::account_id(&state, &caller.tenant, &caller.subject).await?
                != account
            {
                return Err(ApiError::NotFound("no such account".into()));
            }
            let channel = if caller.assurance == Assurance::High {
                RequestChannel::Certificate
            } else {
                RequestChannel::Online
            };
            let ctx =
                CommandContext::open(&state, &incoming, &caller.tenant, NAME, "change_contact")
                    .await?
                    .channel("online");
            Ok(account_command(
                &state,
                &ctx,
                account,
                Command::ChangeContact {
                    contact,
                    channel,
                    at: now,
                },
            )
            .await?
            .reply(location(account)))
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
#[utoipa::path(get, path = "/v1/accounts/{id}", params(("id" = Uuid, Path, description = "The account")),
    responses((status = 200, description = "The account", body = AccountDto,
               headers(("ETag" = String, description = "The account's version")))),
    security(("bearer" = [])), tag = "accounts")]
pub async fn get_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let account = resource_id(&id, "account")?;
    if caller.role == Role::Citizen
        && crate::person_ids::account_id(&state, &caller.tenant, &caller.subject).await? != account
    {
        return Err(ApiError::NotFound("no such account".into()));
    }
    let found = account_row(&state, &caller.tenant, account).await?;
    Ok((
        [(
            axum::http::header::ETAG,
            crate::pipeline::etag(found.version),
        )],
        Json(found),
    )
        .into_response())
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
        crate::person_ids::account_id(&state, &caller.tenant, &caller.subject).await?,
    )
    .await
    .map(Json)
}

/// A caseworker records that the holder proved the mobile phone in person (needed for PINs).
#[utoipa::path(post, path = "/v1/accounts/{id}/mobile-verifications", params(("id" = Uuid, Path, description = "The account")),
    request_body(content = Option<NoInput>, description = "No input"),
    responses((status = 200, description = "Recorded", body = CommandResponse)), security(("bearer" = [])), tag = "accounts")]
pub async fn verify_mobile(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    incoming.caller_in(&[Role::Caseworker])?;
    let _: NoInput = incoming.json_or_default()?;
    let now = state.clock.now();
    staff_command(&state, &incoming, &id, "verify_mobile", "in_person", |_| {
        Command::VerifyMobile { at: now }
    })
    .await
}

/// Asks for a one-time PIN by SMS (Cl@ve PIN style), valid for 10 minutes. Always answers 202;
/// a PIN is sent only to an active account with a verified mobile phone.
#[utoipa::path(post, path = "/v1/councils/{ine}/sessions/pin-requests", params(("ine" = String, Path, description = "The council's INE code")),
    request_body = RecoveryInput,
    responses((status = 202, description = "Accepted (whether or not a PIN is sent)")), tag = "accounts")]
pub async fn request_pin(
    State(state): State<AppState>,
    Path(ine): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let tenant = council(&ine)?;
    let input: RecoveryInput = incoming.json()?;
    let document = input.document.trim().to_ascii_uppercase();
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "request_pin")
        .await?
        .channel("online");
    ctx.metadata.actor_id = document.clone();
    ctx.metadata.actor_role = "citizen".into();
    let now = state.clock.now();
    let result = account_command(
        &state,
        &ctx,
        crate::person_ids::account_id(&state, &tenant, &document).await?,
        Command::RequestPin { at: now },
    )
    .await;
    accepted(result)
}

/// A PIN login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"document": "12345678Z", "pin": "123456"}))]
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
    incoming: Incoming,
) -> Result<Response, ApiError> {
    answer_failures_no_sooner(try_login_with_pin(state, ine, incoming)).await
}

async fn try_login_with_pin(
    state: AppState,
    ine: String,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let tenant = council(&ine)?;
    let input: PinLoginInput = incoming.json()?;
    let document = input.document.trim().to_ascii_uppercase();
    let keys = login_keys(&tenant, &document, &incoming.client);
    let now = state.clock.now();
    if let Some(retry_after) = throttled(&state, &keys, now).await? {
        return Err(ApiError::TooManyAttempts(retry_after));
    }
    let account = crate::person_ids::account_id(&state, &tenant, &document).await?;
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "login_with_pin")
        .await?
        .channel("online_pin");
    ctx.metadata.actor_id = document.clone();
    ctx.metadata.actor_role = "citizen".into();
    let session = || {
        Json(SessionDto {
            token: state.keys.mint(
                Role::Citizen,
                &tenant,
                &document,
                Assurance::Substantial,
                SESSION_SECONDS,
            ),
            expires_in: SESSION_SECONDS,
        })
        .into_response()
    };
    // A retry of a PIN login that succeeded (the PIN was spent by it, and the login recorded)
    // gets a session only while the PIN would still be valid, and while the account is active.
    if let Some(earlier) = ctx.earlier(&state, account).await? {
        let first = earlier.outcome.events.first().map(|e| e.position);
        let logged_in_at: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT recorded_at FROM events WHERE position = $1")
                .bind(first)
                .fetch_optional(&state.pool)
                .await?;
        let fresh = logged_in_at.is_some_and(|at| {
            state.clock.now() - at
                <= Duration::minutes(expedientes_domain::user_account::PIN_MINUTES)
        });
        let stage = account_row(&state, &tenant, account).await?.stage;
        let active = stage == "active" || stage == "expired";
        return if fresh && active {
            Ok(earlier.mark(session()))
        } else {
            Err(ApiError::Unauthenticated(
                "the document number or the PIN is not right".into(),
            ))
        };
    }
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
    let executed =
        account_command(&state, &ctx, account, Command::LoginWithPin { at: now }).await?;
    Ok(executed.mark(session()))
}

#[cfg(test)]
mod throttle_tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_block_and_an_ipv4_one_whole() {
        assert_eq!(
            client_block("2001:db8:1:2:aaaa::1"),
            client_block("2001:db8:1:2:ffff:1:2:3")
        );
        assert_ne!(
            client_block("2001:db8:1:2::1"),
            client_block("2001:db8:1:3::1")
        );
        assert_eq!(client_block("192.0.2.7"), "192.0.2.7");
        let keys = login_keys(&"28079".parse().unwrap(), "12345678Z", "2001:db8:1:2::9");
        assert_eq!(keys[2], "ip:2001:db8:1:2::/64");
        assert_eq!(
            limit_of(&keys[1]),
            (MAX_FAILURES_PER_DOCUMENT_PER_DAY, 24 * 60)
        );
    }
}
