//! Representation (arts. 5–6 LPAC) over HTTP: a citizen with an electronic certificate grants a
//! representation apud acta online; a caseworker records one granted apud acta in person or a
//! power shown to them; the principal (or a caseworker) revokes it. Filings in another's name are
//! checked against the representations in force ([`in_force`]).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use expedientes_domain::lpac::representation::{Command, Means, Person, Representation, Scope};
use expedientes_domain::lpac::SubmissionKind;
use expedientes_domain::{DocumentNumber, MunicipalityCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Assurance, Caller, Role};
use crate::extract::resource_id;
use crate::pipeline::{CommandContext, CommandResponse, Incoming};
use crate::problem::{ApiError, RefusalProblem};
use crate::procedures::Plugin;
use crate::routes::general_application::{parse_person, PersonInput};
use crate::state::AppState;

/// Representation's registration.
pub const PLUGIN: Plugin = Plugin {
    name: "representation",
    register: |registry| registry.register::<Representation>(),
    read_models: || {
        vec![std::sync::Arc::new(
            expedientes_projections::Representations,
        )]
    },
    routes: || {
        OpenApiRouter::new()
            .routes(routes!(grant_representation, list_representations))
            .routes(routes!(get_representation))
            .routes(routes!(revoke_representation))
    },
    notice: crate::procedures::no_notices,
};

const NAME: &str = <Representation as esrs::Aggregate>::NAME;

/// Every refusal of a representation answers 409 in its own words.
impl RefusalProblem for expedientes_domain::lpac::representation::Refusal {}

/// How it was accredited, as the request says it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeansInput {
    /// The principal appeared in person before the caseworker (caseworkers only).
    ApudActaInPerson,
    /// The principal grants it online with an electronic certificate (the principal only).
    ApudActaOnline,
    /// A power shown to the caseworker (caseworkers only; say which in `evidence`).
    PowerShown,
}

/// A representation to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"means": "apud_acta_online", "principal_name": "Ana García", "representative": {"document": "00000000T", "name": "Luis Pérez"}, "procedures": ["general_application"], "valid_until": "2027-12-31"}))]
pub struct GrantInput {
    /// How it is accredited.
    pub means: MeansInput,
    /// Who is represented: a caseworker names them; a citizen granting online leaves it out
    /// (they are the principal) and gives `principal_name`.
    pub principal: Option<PersonInput>,
    /// The principal's name, when a citizen grants online.
    #[schema(max_length = 200)]
    pub principal_name: Option<String>,
    /// Who acts for them.
    pub representative: PersonInput,
    /// The procedures it covers (machine names); leave it out for every procedure.
    pub procedures: Option<Vec<String>>,
    /// Its last day in force (at most five years ahead, art. 6.6).
    pub valid_until: NaiveDate,
    /// For a power shown: which (e.g. the notary and protocol number).
    #[schema(max_length = 500)]
    pub evidence: Option<String>,
}

/// A revocation.
#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Ya no gestiona mis asuntos"}))]
pub struct RevokeInput {
    /// Why, if the principal says.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

fn location(id: Uuid) -> String {
    format!("/v1/representations/{id}")
}

fn person(input: &PersonInput, field: &str) -> Result<Person, ApiError> {
    let (document, name) = parse_person(input, field)?;
    Ok(Person { document, name })
}

fn bounded(text: Option<String>, field: &str, max: usize) -> Result<Option<String>, ApiError> {
    match text {
        Some(t) if t.chars().count() > max => Err(ApiError::invalid_field(
            field,
            format!("at most {max} characters"),
        )),
        other => Ok(other),
    }
}

/// Records a representation: a citizen grants one apud acta online (with an electronic
/// certificate, art. 6.1); a caseworker records one granted in person or a power shown.
#[utoipa::path(post, path = "/v1/representations", request_body = GrantInput,
    responses((status = 201, description = "Recorded", body = CommandResponse)),
    security(("bearer" = [])), tag = "representation")]
pub async fn grant_representation(
    State(state): State<AppState>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Citizen, Role::Caseworker])?;
    let input: GrantInput = incoming.json()?;
    let representative = person(&input.representative, "representative")?;
    let evidence = bounded(input.evidence, "evidence", 500)?;
    let known = crate::procedures::registry().names();
    let scope = match input.procedures {
        None => Scope::AllProcedures,
        Some(names) => {
            if let Some(unknown) = names.iter().find(|n| !known.contains(n)) {
                return Err(ApiError::invalid_field(
                    "procedures",
                    format!(
                        "'{}' is not a procedure of this service",
                        unknown.chars().take(64).collect::<String>()
                    ),
                ));
            }
            Scope::Procedures(names)
        }
    };
    let (principal, means) = match (caller.role, input.means) {
        (Role::Citizen, MeansInput::ApudActaOnline) => {
            // Art. 6.1: online apud acta needs the principal's electronic certificate.
            if caller.assurance < Assurance::High {
                return Err(ApiError::Forbidden(
                    "granting a representation online needs an electronic certificate (art. 6.1 LPAC); or appear in person".into(),
                ));
            }
            if input.principal.is_some() {
                return Err(ApiError::invalid_field(
                    "principal",
                    "you grant it for yourself: leave it out",
                ));
            }
            let name = input.principal_name.as_deref().map(str::trim).unwrap_or("");
            if name.is_empty() || name.chars().count() > 200 {
                return Err(ApiError::invalid_field(
                    "principal_name",
                    "give your name (1 to 200 characters)",
                ));
            }
            let document = caller
                .document
                .clone()
                .ok_or_else(|| ApiError::Forbidden("a citizen's token names a document".into()))?;
            (
                Person {
                    document,
                    name: name.to_owned(),
                },
                Means::ApudActaOnline,
            )
        }
        (Role::Citizen, _) => {
            return Err(ApiError::Forbidden(
                "a citizen grants a representation online (apud_acta_online); the other means are recorded by a caseworker".into(),
            ))
        }
        (Role::Caseworker, MeansInput::ApudActaOnline) => {
            return Err(ApiError::invalid_field(
                "means",
                "only the principal grants one online",
            ))
        }
        (_, means) => {
            let principal = input.principal.as_ref().ok_or_else(|| {
                ApiError::invalid_field("principal", "name the person represented")
            })?;
            (
                person(principal, "principal")?,
                match means {
                    MeansInput::PowerShown => Means::PowerShown,
                    _ => Means::ApudActaInPerson,
                },
            )
        }
    };
    let tenant = caller.tenant.clone();
    let now = state.clock.now();
    let today = crate::deadlines::local_date(&state, now);
    let ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "grant")
        .await?
        .on_behalf_of(Some(principal.document.to_string()));
    let id = ctx.new_stream_id();
    if let Some(earlier) = ctx.earlier(&state, id).await? {
        return Ok(earlier.reply(location(id)));
    }
    let entry = if means == Means::ApudActaOnline {
        let calendar = crate::deadlines::calendar_for(&state, &tenant).await?;
        let counts_from = crate::deadlines::registry_entry(&state, &calendar, &tenant, now);
        Some(
            crate::registry_entries::enter(
                &state,
                &tenant,
                SubmissionKind::Representation,
                now,
                counts_from,
            )
            .await?,
        )
    } else {
        None
    };
    let command = Command::Grant {
        principal,
        representative,
        scope,
        means,
        evidence,
        from: today,
        until: input.valid_until,
        entry,
        at: now,
    };
    let executed = ctx
        .execute::<Representation>(&state, id, move |_, _| command.clone())
        .await?;
    Ok(executed.reply(location(id)))
}

/// A representation on record.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct RepresentationDto {
    /// Its id.
    pub representation_id: Uuid,
    /// The principal's document.
    pub principal: String,
    /// The principal's name.
    pub principal_name: String,
    /// The representative's document.
    pub representative: String,
    /// The representative's name.
    pub representative_name: String,
    /// The procedures covered; `null` for every procedure.
    pub procedures: Option<Vec<String>>,
    /// How it was accredited.
    pub means: String,
    /// First day in force.
    pub valid_from: NaiveDate,
    /// Last day in force.
    pub valid_until: NaiveDate,
    /// When it was revoked, if it was.
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

const COLUMNS: &str = "representation_id, principal, principal_name, representative, \
    representative_name, procedures, means, valid_from, valid_until, revoked_at";

/// The representations the caller may see: a citizen's own (as principal or representative);
/// every one of the council for staff. Newest first, at most 500.
#[utoipa::path(get, path = "/v1/representations",
    responses((status = 200, description = "Representations on record", body = [RepresentationDto])),
    security(("bearer" = [])), tag = "representation")]
pub async fn list_representations(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<RepresentationDto>>, ApiError> {
    let own = (caller.role == Role::Citizen).then(|| caller.subject.clone());
    if own.is_none() && !caller.reads_whole_tenant() {
        return Err(ApiError::Forbidden(
            "this role may not read representations".into(),
        ));
    }
    let rows: Vec<RepresentationDto> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM representations
         WHERE tenant = $1 AND ($2::text IS NULL OR principal = $2 OR representative = $2)
         ORDER BY granted_at DESC LIMIT 500"
    ))
    .bind(caller.tenant.as_str())
    .bind(own)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows))
}

/// One representation, to its principal, its representative or staff (404 to anyone else).
#[utoipa::path(get, path = "/v1/representations/{id}",
    params(("id" = Uuid, Path, description = "The representation")),
    responses((status = 200, description = "The representation", body = RepresentationDto)),
    security(("bearer" = [])), tag = "representation")]
pub async fn get_representation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RepresentationDto>, ApiError> {
    let id = resource_id(&id, "representation")?;
    let own = (caller.role == Role::Citizen).then(|| caller.subject.clone());
    if own.is_none() && !caller.reads_whole_tenant() {
        return Err(ApiError::Forbidden(
            "this role may not read representations".into(),
        ));
    }
    let row: Option<RepresentationDto> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM representations
         WHERE representation_id = $1 AND tenant = $2
           AND ($3::text IS NULL OR principal = $3 OR representative = $3)"
    ))
    .bind(id)
    .bind(caller.tenant.as_str())
    .bind(own)
    .fetch_optional(&state.pool)
    .await?;
    row.map(Json)
        .ok_or_else(|| ApiError::NotFound("no such representation".into()))
}

/// The principal revokes a representation (or a caseworker records the revocation).
#[utoipa::path(post, path = "/v1/representations/{id}/revocations", request_body = RevokeInput,
    params(("id" = Uuid, Path, description = "The representation")),
    responses((status = 200, description = "Revoked", body = CommandResponse)),
    security(("bearer" = [])), tag = "representation")]
pub async fn revoke_representation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let id = resource_id(&id, "representation")?;
    let caller = incoming.caller_in(&[Role::Citizen, Role::Caseworker])?;
    let principal: Option<String> = sqlx::query_scalar(
        "SELECT principal FROM representations WHERE representation_id = $1 AND tenant = $2",
    )
    .bind(id)
    .bind(caller.tenant.as_str())
    .fetch_optional(&state.pool)
    .await?;
    // Only the principal revokes; to anyone else another's representation does not exist.
    let principal = principal
        .filter(|p| caller.role == Role::Caseworker || *p == caller.subject)
        .ok_or_else(|| ApiError::NotFound("no such representation".into()))?;
    let input: RevokeInput = incoming.json_or_default()?;
    let reason = bounded(input.reason, "reason", 500)?;
    let tenant = caller.tenant.clone();
    let now = state.clock.now();
    let ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "revoke")
        .await?
        .on_behalf_of(Some(principal));
    let executed = ctx
        .execute::<Representation>(&state, id, move |_, _| Command::Revoke {
            reason: reason.clone(),
            at: now,
        })
        .await?;
    Ok(executed.reply(location(id)))
}

/// Whether `representative` may act for `principal` in `procedure` on `on` (art. 5): a
/// representation on record, not revoked, in force that day, covering the procedure.
pub async fn in_force(
    state: &AppState,
    tenant: &MunicipalityCode,
    principal: &DocumentNumber,
    representative: &DocumentNumber,
    procedure: &str,
    on: NaiveDate,
) -> Result<bool, ApiError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM representations
          WHERE tenant = $1 AND principal = $2 AND representative = $3 AND revoked_at IS NULL
            AND valid_from <= $5 AND valid_until >= $5
            AND (procedures IS NULL OR $4 = ANY(procedures)))",
    )
    .bind(tenant.as_str())
    .bind(principal.as_str())
    .bind(representative.as_str())
    .bind(procedure)
    .bind(on)
    .fetch_one(&state.pool)
    .await?)
}
