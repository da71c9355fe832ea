//! Inscriptions over HTTP: inscribe, change address, modify personal data, renew (ENCSARP),
//! confirm residence, resolve a lapse, remove for death or change of residence; the register row,
//! the renewal queues and the citizen's own inscription.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Months, NaiveDate};
use expedientes_domain::lpac::notification::{Addressee, CaseRef, Delivery, Notification};
use expedientes_domain::padron::{
    Actor, Dwelling, Inscription, InscriptionCommand, Person, RemovalBasis, RemovalCause,
    ResidenceStatus,
};
use expedientes_domain::user_account::Nationality;
use expedientes_eventlog::Streams;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::PadronRefusal;
use super::{
    inscription_id, inscription_location, own_or_caseworker, row, ActorInput, RegisterRow,
    INSCRIPTION,
};
use crate::auth::Role;
use crate::extract::{resource_id, ApiQuery};
use crate::pipeline::{etag, CommandContext, CommandResponse, Incoming};
use crate::problem::ApiError;
use crate::routes::accounts::DocumentInput;
use crate::state::AppState;

/// An inscription request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Bilal Haddad", "birth_date": "1990-04-02", "nationality": "non_eu",
    "residence": "non_eu_temporary",
    "document": {"kind": "residence_card", "number": "X1234567L"},
    "dwelling_key": "9872023VK4797S0001WX", "address": "Calle de Toledo 10, 2º B",
    "actor": {"kind": "themselves"}
}))]
pub struct InscribeInput {
    /// Full name.
    #[schema(max_length = 200)]
    pub name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Nationality.
    pub nationality: Nationality,
    /// Residence status.
    pub residence: ResidenceStatus,
    /// The identity document.
    pub document: DocumentInput,
    /// The dwelling's stable key (e.g. cadastral reference).
    #[schema(max_length = 64)]
    pub dwelling_key: String,
    /// The address.
    #[schema(max_length = 300)]
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

/// The longest dwelling key accepted (a cadastral reference has 20 characters).
pub const DWELLING_KEY_MAX: usize = 64;
/// The longest address accepted.
pub const ADDRESS_MAX: usize = 300;

fn dwelling(key: &str, address: &str) -> Result<Dwelling, ApiError> {
    if key.trim().is_empty() || address.trim().is_empty() {
        return Err(ApiError::invalid_field(
            "dwelling_key",
            "a dwelling key and an address are required",
        ));
    }
    if key.trim().chars().count() > DWELLING_KEY_MAX
        || key
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() && c != ' ')
    {
        return Err(ApiError::invalid_field(
            "dwelling_key",
            format!("at most {DWELLING_KEY_MAX} characters, without control characters"),
        ));
    }
    if address.trim().chars().count() > ADDRESS_MAX || address.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "address",
            format!("at most {ADDRESS_MAX} characters, without control characters"),
        ));
    }
    Ok(Dwelling {
        key: key.trim().to_owned(),
        address: address.trim().to_owned(),
    })
}

/// A caseworker inscribes a person (at a citizen office, with the documents checked).
#[utoipa::path(post, path = "/v1/padron/inscriptions", request_body = InscribeInput,
    responses((status = 201, description = "Inscribed: the new inscription", body = CommandResponse),
              (status = 200, description = "Inscribed again: a new period of the person's inscription, after a removal", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn inscribe(
    State(state): State<AppState>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let input: InscribeInput = incoming.json()?;
    let document = input.document.parse_document("document")?;
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            "name",
            "give a name of 1 to 200 characters",
        ));
    }
    let dwelling = dwelling(&input.dwelling_key, &input.address)?;
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let birth_date = crate::extract::birth_date("birth_date", input.birth_date, today)?;
    let actor = input.actor.parse()?;
    let on_behalf_of = match &actor {
        Actor::Themselves => None,
        _ => Some(document.login_number()),
    };
    let tenant = caller.tenant.clone();
    let id = inscription_id(&state, &tenant, &document.login_number()).await?;
    let now = state.clock.now();
    let on = crate::deadlines::local_date(&state, now);
    // The hoja padronal presented is an application: entered in the registry (art. 16).
    let ctx = CommandContext::open(&state, &incoming, &tenant, INSCRIPTION, "inscribe")
        .await?
        .on_behalf_of(on_behalf_of);
    // A retry is answered from its first outcome: no second registry number for it.
    let entry = match ctx.earlier(&state, id).await? {
        Some(_) => None,
        None => Some(
            crate::registry_entries::submission_now(
                &state,
                &tenant,
                expedientes_domain::lpac::SubmissionKind::Application,
            )
            .await?,
        ),
    };
    let command = InscriptionCommand::Inscribe {
        entry,
        person: Person {
            name,
            birth_date,
            nationality: input.nationality,
            document,
        },
        residence: input.residence,
        dwelling: dwelling.clone(),
        declares_nobody_else: input.declares_nobody_else,
        actor,
        on,
        at: now,
    };
    let executed = match input.authorised_by {
        None => {
            ctx.execute::<Inscription>(&state, id, move |_, _| command.clone())
                .await?
        }
        Some(authoriser) => {
            let authoriser_row = row(&state, &tenant, authoriser).await?;
            if authoriser_row.dwelling_key != dwelling.key || authoriser_row.removed_on.is_some() {
                return Err(ApiError::invalid_field(
                    "authorised_by",
                    "must be someone inscribed at that dwelling",
                ));
            }
            // Recorded on both inscriptions together.
            ctx.run(
                &state,
                id,
                Streams::of::<Inscription>(id).and::<Inscription>(authoriser),
                |decision| -> Result<(), PadronRefusal> {
                    decision.handle::<Inscription>(id, command.clone())?;
                    decision.handle::<Inscription>(
                        authoriser,
                        InscriptionCommand::AuthoriseNewInscription { newcomer: id, on },
                    )?;
                    Ok(())
                },
            )
            .await?
        }
    };
    if input.declares_nobody_else {
        // Each opening is its own command with an id derived from this one, so a retry of the
        // inscription completes the openings without repeating any.
        let others: Vec<Uuid> = sqlx::query_scalar(
            "SELECT inscription_id FROM padron_register
             WHERE tenant = $1 AND dwelling_key = $2 AND removed_on IS NULL AND inscription_id <> $3
               AND open_removal_file IS NULL",
        )
        .bind(tenant.as_str())
        .bind(&dwelling.key)
        .bind(id)
        .fetch_all(&state.pool)
        .await?;
        for other in others {
            super::removal_files::open_removal_file(
                &state,
                &ctx.derived(super::REMOVAL_FILE, "open", other.as_bytes()),
                other,
                RemovalBasis::ExOfficio {
                    reason:
                        "a new inscription at the dwelling declared that nobody else lives there"
                            .into(),
                },
                super::removal_files::NotifyChoice::default(),
            )
            .await?;
        }
    }
    Ok(executed.reply(inscription_location(id)))
}

/// An inscription in the register.
#[utoipa::path(get, path = "/v1/padron/inscriptions/{id}", params(("id" = Uuid, Path, description = "The inscription")),
    responses((status = 200, description = "The register row", body = RegisterRow,
               headers(("ETag" = String, description = "The inscription's version")))),
    security(("bearer" = [])), tag = "padron")]
pub async fn get_inscription(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = resource_id(&id, "inscription")?;
    let found = row(&state, &caller.tenant, id).await?;
    if caller.role == Role::Citizen && found.document != caller.subject {
        return Err(ApiError::NotFound("no such inscription".into()));
    }
    Ok(([(header::ETAG, etag(found.version))], Json(found)).into_response())
}

/// Carries out an inscription command addressed by the path's id.
async fn inscription_command(
    state: &AppState,
    incoming: &Incoming,
    id: Uuid,
    label: &'static str,
    command: InscriptionCommand,
) -> Result<Response, ApiError> {
    let caller = incoming.caller()?;
    let ctx = CommandContext::open(state, incoming, &caller.tenant, INSCRIPTION, label).await?;
    Ok(ctx
        .execute::<Inscription>(state, id, move |_, _| command.clone())
        .await?
        .reply(inscription_location(id)))
}

/// A renewal (ratification of the data and declaration of continued residence).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"document": {"kind": "residence_card", "number": "X1234567L"}, "actor": {"kind": "themselves"}}))]
pub struct RenewInput {
    /// The document shown (the foreigner card takes precedence over the passport).
    pub document: DocumentInput,
    /// Who acted.
    pub actor: ActorInput,
}

/// Renews an inscription (ENCSARP), recorded by a caseworker at a citizen office.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/renewals", params(("id" = Uuid, Path, description = "The inscription")),
    request_body = RenewInput,
    responses((status = 200, description = "Renewed", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn renew(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let id = resource_id(&id, "inscription")?;
    own_or_caseworker(&state, incoming.caller()?, id).await?;
    let input: RenewInput = incoming.json()?;
    let document = input.document.parse_document("document")?;
    let actor = input.actor.parse()?;
    let on = crate::deadlines::local_date(&state, state.clock.now());
    let tenant = incoming.caller()?.tenant.clone();
    let ctx = CommandContext::open(&state, &incoming, &tenant, INSCRIPTION, "renew").await?;
    if let Some(earlier) = ctx.earlier(&state, id).await? {
        return Ok(earlier.reply(inscription_location(id)));
    }
    // The express renewal is the person's application (art. 16).
    let entry = crate::registry_entries::submission_now(
        &state,
        &tenant,
        expedientes_domain::lpac::SubmissionKind::Application,
    )
    .await?;
    let command = InscriptionCommand::Renew {
        entry: Some(entry),
        document,
        actor,
        on,
    };
    Ok(ctx
        .execute::<Inscription>(&state, id, move |_, _| command.clone())
        .await?
        .reply(inscription_location(id)))
}

/// A change of address within the municipality.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"dwelling_key": "9872023VK4797S0002YZ", "address": "Calle de Atocha 3, 1º A", "actor": {"kind": "themselves"}}))]
pub struct AddressInput {
    /// The dwelling's key.
    #[schema(max_length = 64)]
    pub dwelling_key: String,
    /// The address.
    #[schema(max_length = 300)]
    pub address: String,
    /// Who acted.
    pub actor: ActorInput,
}

/// Changes the address (counts as renewal). While a removal file is open on the inscription, a
/// move to another dwelling that a caseworker records regularises it once its opening was
/// notified: the file is archived and that is notified.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/address-changes", params(("id" = Uuid, Path, description = "The inscription")),
    request_body = AddressInput,
    responses((status = 200, description = "Changed", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn change_address(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let id = resource_id(&id, "inscription")?;
    let found = own_or_caseworker(&state, incoming.caller()?, id).await?;
    let input: AddressInput = incoming.json()?;
    let dwelling = dwelling(&input.dwelling_key, &input.address)?;
    let actor = input.actor.parse()?;
    let on = crate::deadlines::local_date(&state, state.clock.now());
    let change = |regularises| InscriptionCommand::ChangeAddress {
        dwelling: dwelling.clone(),
        actor: actor.clone(),
        on,
        regularises,
    };
    // A move to another dwelling that a caseworker records while a removal file is open
    // regularises it (seed 004): the file is archived, and that notified, in the same append. A
    // move the person records online leaves the file to the caseworker (the person concerned
    // never closes it), as does one recorded before the opening was notified (its notification
    // still under way) or once the file can only lapse.
    let moves_away = !dwelling.key.eq_ignore_ascii_case(&found.dwelling_key);
    let by_caseworker = incoming.caller()?.role == Role::Caseworker;
    let mut file = found
        .open_removal_file
        .filter(|_| moves_away && by_caseworker);
    if let Some(open) = file {
        let loaded = state
            .log
            .load_aggregate::<expedientes_domain::padron::RemovalFile>(
                incoming.caller()?.tenant.as_str(),
                open,
                expedientes_eventlog::Until::End,
            )
            .await
            .map_err(|e| ApiError::Internal(format!("removal file {open}: {e}")))?;
        use expedientes_domain::padron::FileStage as S;
        if !matches!(
            loaded.state.stage,
            S::Hearing | S::AwaitingReport | S::ToResolve
        ) {
            file = None;
        }
    }
    let Some(file) = file else {
        return inscription_command(&state, &incoming, id, "change_address", change(None)).await;
    };
    let caller = incoming.caller()?;
    let ctx = CommandContext::open(
        &state,
        &incoming,
        &caller.tenant,
        INSCRIPTION,
        "change_address",
    )
    .await?;
    if let Some(earlier) = ctx.earlier(&state, id).await? {
        return Ok(earlier.reply(inscription_location(id)));
    }
    let regularised =
        super::removal_files::regularisation(&state, &ctx, file, &dwelling.address).await?;
    let streams = Streams::of::<Inscription>(id)
        .and::<expedientes_domain::padron::RemovalFile>(file)
        .and::<Notification>(regularised.notification);
    let executed = ctx
        .run(
            &state,
            id,
            streams,
            |decision| -> Result<(), PadronRefusal> {
                decision.handle::<Inscription>(id, change(Some(file)))?;
                decision.handle::<expedientes_domain::padron::RemovalFile>(
                    file,
                    expedientes_domain::padron::FileCommand::RecordRegularised {
                        on,
                        appeals: regularised.appeals.clone(),
                    },
                )?;
                decision
                    .handle::<Notification>(regularised.notification, regularised.issue.clone())?;
                Ok(())
            },
        )
        .await?;
    Ok(executed.reply(inscription_location(id)))
}

/// The resolution declaring the lapse of a non-renewed inscription.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"grounds": "No ha renovado su inscripción en el plazo de dos años (art. 16.1 de la Ley 7/1985)"}))]
pub struct LapseInput {
    /// Its reasons (art. 35 LPAC).
    #[schema(max_length = 10000)]
    pub grounds: String,
    /// The body that resolves, before which reposición is brought ("the same body that
    /// resolved" by default).
    #[schema(max_length = 200)]
    pub body: Option<String>,
}

/// Declares, by reasoned resolution and without a hearing (art. 16.1 Ley 7/1985), the lapse of a
/// non-EU inscription the timer proposed for not being renewed. The resolution, with its appeals,
/// is notified by letter to the inscribed address; the inscription is removed for lapse on the day
/// that notification takes effect.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/lapse-resolutions", params(("id" = Uuid, Path, description = "The inscription")),
    request_body = LapseInput,
    responses((status = 200, description = "Resolved: the removal follows its notification", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn resolve_lapse(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    let found = row(&state, &caller.tenant, id).await?;
    let input: LapseInput = incoming.json()?;
    let (grounds, appeals) =
        crate::routes::notifications::resolution_parts(input.grounds, input.body.as_deref())?;
    let tenant = caller.tenant.clone();
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let ctx =
        CommandContext::open(&state, &incoming, &tenant, INSCRIPTION, "resolve_lapse").await?;
    if let Some(earlier) = ctx.earlier(&state, id).await? {
        return Ok(earlier.reply(inscription_location(id)));
    }
    // The resolution is a file of its own for the notification (its number).
    let case_number = crate::case_numbers::next(&state, &tenant, today).await?;
    let act = crate::routes::notifications::resolution_act(
        case_number.as_str(),
        "se declara la caducidad de la inscripción padronal, no renovada en el plazo de dos \
         años, y se acuerda su baja, con efectos desde la fecha de esta notificación (art. 16.1 \
         de la Ley 7/1985)",
        grounds.as_str(),
        &appeals,
        today,
    );
    let (notification, issue) = crate::routes::notifications::prepare(
        &state,
        &ctx,
        CaseRef {
            stream_type: INSCRIPTION.to_owned(),
            stream_id: id,
            case_number,
        },
        crate::routes::notifications::ToNotify {
            act,
            addressee: Some(Addressee {
                document: found.document.parse().map_err(|_| {
                    ApiError::Internal("an inscribed document that does not parse".into())
                })?,
                name: found.name.clone(),
            }),
            delivery: Delivery::Paper {
                address: found.address.clone(),
            },
        },
    )
    .await?;
    let executed = ctx
        .run(
            &state,
            id,
            Streams::of::<Inscription>(id).and::<Notification>(notification),
            |decision| -> Result<(), PadronRefusal> {
                decision.handle::<Inscription>(
                    id,
                    InscriptionCommand::ResolveLapse {
                        grounds: grounds.clone(),
                        appeals: appeals.clone(),
                        notification,
                        on: today,
                    },
                )?;
                decision.handle::<Notification>(notification, issue.clone())?;
                Ok(())
            },
        )
        .await?;
    Ok(executed.reply(inscription_location(id)))
}

/// New personal data.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Bilal Haddad Amrani", "document": {"kind": "residence_card", "number": "X1234567L"}, "actor": {"kind": "themselves"}}))]
pub struct PersonalDataInput {
    /// Name.
    pub name: String,
    /// Identity document.
    pub document: DocumentInput,
    /// Who acted.
    pub actor: ActorInput,
}

/// Modifies personal data (counts as renewal; refused while a removal file is open).
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/personal-data", params(("id" = Uuid, Path, description = "The inscription")),
    request_body = PersonalDataInput,
    responses((status = 200, description = "Modified", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn modify_personal_data(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    row(&state, &caller.tenant, id).await?;
    let input: PersonalDataInput = incoming.json()?;
    let document = input.document.parse_document("document")?;
    if input.name.trim().is_empty() {
        return Err(ApiError::invalid_field("name", "required"));
    }
    // One document, one person: a number another inscription holds is refused.
    let holder: Option<Uuid> = sqlx::query_scalar(
        "SELECT inscription_id FROM padron_register
          WHERE tenant = $1 AND document = $2 AND inscription_id <> $3 LIMIT 1",
    )
    .bind(caller.tenant.as_str())
    .bind(document.login_number())
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    if holder.is_some() {
        return Err(ApiError::Refused {
            detail: "another inscription holds that document number".into(),
            current_version: None,
        });
    }
    let actor = input.actor.parse()?;
    let on = crate::deadlines::local_date(&state, state.clock.now());
    inscription_command(
        &state,
        &incoming,
        id,
        "modify_personal_data",
        InscriptionCommand::ModifyPersonalData {
            name: input.name.trim().to_owned(),
            document,
            actor,
            on,
        },
    )
    .await
}

/// A change of residence status.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"residence": "non_eu_permanent", "evidence": "Tarjeta de residencia de larga duración Y1234567X, expedida el 2 de marzo de 2026"}))]
pub struct ResidenceStatusInput {
    /// The new status.
    pub residence: ResidenceStatus,
    /// What proves it: the resolution or card seen, its date and issuer.
    #[schema(min_length = 1, max_length = 300)]
    pub evidence: String,
}

/// A caseworker records a change of residence status with its evidence (permanent residence
/// granted, nationality obtained…): a non-EU resident without permanent residence renews every two
/// years from it (ENCSARP, art. 16.1 LBRL); any other status ends that duty, its warning and its
/// lapse. Refused while a removal file is open, like any change of personal data.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/residence-status", params(("id" = Uuid, Path, description = "The inscription")),
    request_body = ResidenceStatusInput,
    responses((status = 200, description = "Recorded", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn change_residence_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    row(&state, &caller.tenant, id).await?;
    let input: ResidenceStatusInput = incoming.json()?;
    let evidence = input.evidence.trim();
    if evidence.is_empty()
        || evidence.chars().count() > 300
        || evidence.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_field(
            "evidence",
            "say what proves it, in 1 to 300 characters, without control characters",
        ));
    }
    let on = crate::deadlines::local_date(&state, state.clock.now());
    inscription_command(
        &state,
        &incoming,
        id,
        "change_residence_status",
        InscriptionCommand::ChangeResidenceStatus {
            residence: input.residence,
            evidence: evidence.to_owned(),
            on,
        },
    )
    .await
}

/// Confirms continued residence (EU citizens and non-EU permanent residents).
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/residence-confirmations", params(("id" = Uuid, Path, description = "The inscription")),
    request_body = ActorInput,
    responses((status = 200, description = "Confirmed", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn confirm_residence(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    row(&state, &caller.tenant, id).await?;
    let actor: ActorInput = incoming.json()?;
    let actor = actor.parse()?;
    let on = crate::deadlines::local_date(&state, state.clock.now());
    inscription_command(
        &state,
        &incoming,
        id,
        "confirm_residence",
        InscriptionCommand::ConfirmResidence { actor, on },
    )
    .await
}

/// The causes of removal a caseworker records directly (lapse and wrong inscription have their own
/// procedures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectRemovalCause {
    /// Death.
    Death,
    /// Moved to another municipality.
    ChangeOfResidence,
}

/// A removal for death or change of residence.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"cause": "change_of_residence", "effective_on": "2026-12-01"}))]
pub struct RemovalInput {
    /// Why.
    pub cause: DirectRemovalCause,
    /// Effective on.
    pub effective_on: NaiveDate,
}

/// Removes an inscription for death or change of residence.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/removals", params(("id" = Uuid, Path, description = "The inscription")),
    request_body = RemovalInput,
    responses((status = 200, description = "Removed", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    let found = row(&state, &caller.tenant, id).await?;
    let input: RemovalInput = incoming.json()?;
    // Not before the inscription, nor years ahead (a removal dated in 2030 would remove the
    // inscription at once); a few weeks ahead is a move announced.
    let today = crate::deadlines::local_date(&state, state.clock.now());
    crate::extract::effect_date(
        "effective_on",
        input.effective_on,
        found.inscribed_on,
        today,
    )?;
    inscription_command(
        &state,
        &incoming,
        id,
        "remove",
        InscriptionCommand::Remove {
            cause: match input.cause {
                DirectRemovalCause::Death => RemovalCause::Death,
                DirectRemovalCause::ChangeOfResidence => RemovalCause::ChangeOfResidence,
            },
            effective_on: input.effective_on,
            file: None,
        },
    )
    .await
}

/// A correction of a material error (art. 109.2 LPAC).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"corrects_version": 2, "reason": "La defunción comunicada por el Registro Civil era de otra persona con el mismo nombre"}))]
pub struct CorrectionInput {
    /// The version (in the inscription's history) of the event recorded by mistake: the removal
    /// in force.
    pub corrects_version: i32,
    /// The error and how it was found (art. 35: corrections are reasoned).
    #[schema(max_length = 10000)]
    pub reason: String,
}

/// A caseworker corrects a removal recorded by a material error (a death recorded on the wrong
/// person): nothing is rewritten; a new event names the removal it corrects and why, the
/// inscription is in force again as it was, and its renewal deadlines run again. A removal that
/// a resolution decided (lapse, wrong inscription) is not a material error: refused.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/corrections", params(("id" = Uuid, Path, description = "The inscription")),
    request_body = CorrectionInput,
    responses((status = 200, description = "Corrected", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn correct_inscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker])?;
    let id = resource_id(&id, "inscription")?;
    row(&state, &caller.tenant, id).await?;
    let input: CorrectionInput = incoming.json()?;
    let reason = expedientes_domain::lpac::Reasons::try_from(input.reason)
        .map_err(|e| ApiError::invalid_field("reason", e))?;
    // The version must name the removal in force: the inscription's last removal.
    let named: Option<String> = sqlx::query_scalar(
        "SELECT event_type FROM events WHERE tenant = $1 AND stream_id = $2 AND version = $3",
    )
    .bind(caller.tenant.as_str())
    .bind(id)
    .bind(input.corrects_version)
    .fetch_optional(&state.pool)
    .await?;
    let last_removal: Option<i32> = sqlx::query_scalar(
        "SELECT max(version) FROM events WHERE tenant = $1 AND stream_id = $2 AND event_type = 'removed'",
    )
    .bind(caller.tenant.as_str())
    .bind(id)
    .fetch_one(&state.pool)
    .await?;
    let Some(corrects_type) = named else {
        return Err(ApiError::invalid_field(
            "corrects_version",
            "the inscription has no event with that version",
        ));
    };
    if last_removal != Some(input.corrects_version) {
        return Err(ApiError::invalid_field(
            "corrects_version",
            "only the removal in force can be corrected (name its version)",
        ));
    }
    let today = crate::deadlines::local_date(&state, state.clock.now());
    inscription_command(
        &state,
        &incoming,
        id,
        "correct",
        InscriptionCommand::CorrectRemoval {
            correction: expedientes_domain::lpac::Correction {
                corrects_version: input.corrects_version,
                corrects_type,
                reason,
                by: caller.subject.clone(),
            },
            on: today,
        },
    )
    .await
}

/// Which renewal queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RenewalQueue {
    /// Renewals due in the next three months.
    #[default]
    Due,
    /// Inscriptions proposed for lapse, awaiting resolution.
    Expired,
    /// EU citizens and permanent residents whose residence went unconfirmed past its day: for a
    /// removal file for wrong inscription.
    Unconfirmed,
}

/// The renewals queue filter.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RenewalsQuery {
    /// Which queue (default `due`).
    #[param(inline)]
    pub which: Option<RenewalQueue>,
}

/// The caseworkers' renewal queues.
#[utoipa::path(get, path = "/v1/padron/renewals", params(RenewalsQuery),
    responses((status = 200, description = "The queue, by due date", body = [RegisterRow])), security(("bearer" = [])), tag = "padron")]
pub async fn renewals(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    ApiQuery(query): ApiQuery<RenewalsQuery>,
) -> Result<Json<Vec<RegisterRow>>, ApiError> {
    caller.require(&[Role::Caseworker, Role::Auditor, Role::Admin])?;
    let today = crate::deadlines::local_date(&state, state.clock.now());
    let rows: Vec<RegisterRow> = match query.which.unwrap_or_default() {
        RenewalQueue::Due => {
            let horizon = today.checked_add_months(Months::new(3)).unwrap_or(today);
            sqlx::query_as(&format!(
                "SELECT {} FROM padron_register
                 WHERE tenant = $1 AND removed_on IS NULL AND renewal_due IS NOT NULL AND renewal_due <= $2
                   AND NOT lapse_proposed
                 ORDER BY renewal_due, inscription_id LIMIT 1000",
                super::REGISTER_COLUMNS
            ))
            .bind(caller.tenant.as_str())
            .bind(horizon)
            .fetch_all(&state.pool)
            .await?
        }
        RenewalQueue::Unconfirmed => {
            sqlx::query_as(&format!(
                "SELECT {} FROM padron_register
                 WHERE tenant = $1 AND removed_on IS NULL AND confirmation_overdue
                   AND open_removal_file IS NULL
                 ORDER BY confirmation_due, inscription_id LIMIT 1000",
                super::REGISTER_COLUMNS
            ))
            .bind(caller.tenant.as_str())
            .fetch_all(&state.pool)
            .await?
        }
        RenewalQueue::Expired => {
            sqlx::query_as(&format!(
                "SELECT {} FROM padron_register
                 WHERE tenant = $1 AND removed_on IS NULL AND lapse_proposed
                 ORDER BY renewal_due, inscription_id LIMIT 1000",
                super::REGISTER_COLUMNS
            ))
            .bind(caller.tenant.as_str())
            .fetch_all(&state.pool)
            .await?
        }
    };
    Ok(Json(rows))
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
    responses((status = 200, description = "The inscription and what to do", body = MyInscription),
              (status = 404, description = "You have no inscription in this council's padrón", body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "citizens")]
pub async fn my_inscription(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
) -> Result<Json<MyInscription>, ApiError> {
    caller.require(&[Role::Citizen])?;
    let found = row(
        &state,
        &caller.tenant,
        inscription_id(&state, &caller.tenant, &caller.subject).await?,
    )
    .await?;
    // The inscription is theirs only while it holds their document (a stream found by the
    // document it started with may hold another one now).
    if found.document != caller.subject {
        return Err(ApiError::NotFound("no such inscription".into()));
    }
    let (next_step, due) = if found.removed_on.is_some() {
        (None, None)
    } else if found.open_removal_file.is_some() {
        (
            Some("A removal file is open: see it in your files and regularise or allege by its date.".to_owned()),
            None,
        )
    } else if found.lapse_proposed {
        (Some("Your inscription expired without renewal and is proposed for lapse: renew it at a citizen office now.".to_owned()), found.renewal_due)
    } else if found.confirmation_overdue {
        (Some("Your residence was not confirmed in time: confirm it at a citizen office now, or the council may remove your inscription.".to_owned()), found.confirmation_due)
    } else if let Some(due) = found
        .confirmation_due
        // Said once the warning letter goes, three months before.
        .filter(|due| {
            due.checked_sub_months(Months::new(3))
                .is_some_and(|from| from <= crate::deadlines::local_date(&state, state.clock.now()))
        })
    {
        (
            Some(
                "Confirm your residence at a citizen office with your identity document."
                    .to_owned(),
            ),
            Some(due),
        )
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

/// What to look inscriptions up by (one at least), and the page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindQuery {
    /// The person's document number.
    #[param(max_length = 20)]
    pub document: Option<String>,
    /// The dwelling (cadastral reference or the council's key).
    #[param(max_length = 64)]
    pub dwelling_key: Option<String>,
    /// Part of the person's name (at least 3 characters; any case, accents as written).
    #[param(max_length = 200)]
    pub name: Option<String>,
    /// Part of the address (at least 3 characters).
    #[param(max_length = 300)]
    pub address: Option<String>,
    /// Include removed inscriptions (default true).
    pub include_removed: Option<bool>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Page size, 1 to 200 (default 50).
    pub per_page: Option<u32>,
}

/// A page of the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterPage {
    /// The inscriptions: in force first, then by most recent inscription.
    pub items: Vec<RegisterRow>,
    /// This page.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Inscriptions matching in all.
    pub total: i64,
}

/// A search term for a text column: trimmed, 3 to `max` characters, no control characters, its
/// LIKE wildcards escaped.
fn like_term(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let length = value.chars().count();
    if length < 3 || length > max || value.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            field,
            format!("3 to {max} characters, without control characters"),
        ));
    }
    let escaped = value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Ok(Some(format!("%{escaped}%")))
}

/// Caseworkers search the register by the person's document, name, address or dwelling (an
/// inscription's id cannot be worked out from the document: it is keyed, see
/// `api/src/person_ids.rs`), a page at a time.
#[utoipa::path(get, path = "/v1/padron/inscriptions", params(FindQuery),
    responses((status = 200, description = "The matching inscriptions", body = RegisterPage),
              (status = 422, description = "No filter, or a malformed one", body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn find_inscriptions(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    ApiQuery(query): ApiQuery<FindQuery>,
) -> Result<Json<RegisterPage>, ApiError> {
    caller.require(&[Role::Caseworker, Role::Auditor])?;
    let document = match query.document.as_deref().map(str::trim) {
        None | Some("") => None,
        // A DNI, NIE or NIF as the register keeps it; else a passport or EU identity card's.
        Some(raw) => Some(match raw.parse::<expedientes_domain::DocumentNumber>() {
            Ok(number) => number.to_string(),
            Err(_) => raw
                .parse::<expedientes_domain::identity::PassportNumber>()
                .map_err(|_| {
                    ApiError::invalid_field(
                        "document",
                        "a DNI, NIE or NIF, or a passport or identity card number",
                    )
                })?
                .to_string(),
        }),
    };
    let dwelling = match query.dwelling_key.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(key)
            if key.chars().count() > DWELLING_KEY_MAX || key.chars().any(char::is_control) =>
        {
            return Err(ApiError::invalid_field(
                "dwelling_key",
                format!("at most {DWELLING_KEY_MAX} characters, without control characters"),
            ))
        }
        Some(key) => Some(key.to_owned()),
    };
    let name = like_term("name", query.name.as_deref(), 200)?;
    let address = like_term("address", query.address.as_deref(), ADDRESS_MAX)?;
    if document.is_none() && dwelling.is_none() && name.is_none() && address.is_none() {
        return Err(ApiError::invalid_field(
            "document",
            "give a document number, a name, an address or a dwelling_key",
        ));
    }
    let per_page = query.per_page.unwrap_or(50);
    if !(1..=200).contains(&per_page) {
        return Err(ApiError::invalid_field("per_page", "must be from 1 to 200"));
    }
    let page = query.page.unwrap_or(1);
    if page == 0 || page > 10_000 {
        return Err(ApiError::invalid_field("page", "pages run from 1 to 10000"));
    }
    let filter = "tenant = $1 AND ($2::text IS NULL OR document = $2)
           AND ($3::text IS NULL OR dwelling_key = $3)
           AND ($4::text IS NULL OR name ILIKE $4)
           AND ($5::text IS NULL OR address ILIKE $5)
           AND ($6 OR removed_on IS NULL)";
    let include_removed = query.include_removed.unwrap_or(true);
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM padron_register WHERE {filter}"
    ))
    .bind(caller.tenant.as_str())
    .bind(&document)
    .bind(&dwelling)
    .bind(&name)
    .bind(&address)
    .bind(include_removed)
    .fetch_one(&state.pool)
    .await?;
    let items: Vec<RegisterRow> = sqlx::query_as(&format!(
        "SELECT {} FROM padron_register WHERE {filter}
         ORDER BY removed_on IS NOT NULL, inscribed_on DESC, inscription_id LIMIT $7 OFFSET $8",
        super::REGISTER_COLUMNS
    ))
    .bind(caller.tenant.as_str())
    .bind(&document)
    .bind(&dwelling)
    .bind(&name)
    .bind(&address)
    .bind(include_removed)
    .bind(i64::from(per_page))
    .bind(i64::from(page - 1) * i64::from(per_page))
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(RegisterPage {
        items,
        page,
        per_page,
        total,
    }))
}

/// Staff read an inscription's whole history (every period, every change), in order; citizens
/// read their own through Mi Carpeta.
#[utoipa::path(get, path = "/v1/padron/inscriptions/{id}/history", params(("id" = Uuid, Path, description = "The inscription")),
    responses((status = 200, description = "Its events, in order", body = [crate::routes::cases::EventDto]),
              (status = 404, description = "No such inscription in your council", body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn inscription_history(
    State(state): State<AppState>,
    caller: crate::auth::Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<crate::routes::cases::EventDto>>, ApiError> {
    caller.require(&[Role::Caseworker, Role::Auditor])?;
    let id = resource_id(&id, "inscription")?;
    row(&state, &caller.tenant, id).await?;
    let events = state
        .log
        .load_stream(caller.tenant.as_str(), id, expedientes_eventlog::Until::End)
        .await?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| crate::routes::cases::EventDto::from_stored(e, true))
            .collect(),
    ))
}
