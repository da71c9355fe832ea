//! Certificates and volantes of the padrón over HTTP (seed 004): issued for an inscription —
//! individual or collective of its dwelling, current or historical — to the person (their own) or
//! at a counter; a PDF kept in the document store, with a secure verification code anyone can
//! check at `/v1/verification/documents/{code}` (art. 27.3.a LPAC).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use expedientes_domain::lpac::document::Digest;
use expedientes_domain::padron::{
    CertificateCommand, CertificateIssue, CertificateKind, CertificateScope, CertifiedPeriod,
    CertifiedPerson, Inscription, InscriptionEvent, PadronCertificate,
};
use expedientes_domain::VerificationCode;
use expedientes_eventlog::Until;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{row, RegisterRow, REGISTER_COLUMNS};
use crate::auth::Role;
use crate::extract::resource_id;
use crate::pipeline::{CommandContext, CommandResponse, Incoming};
use crate::problem::{ApiError, RefusalProblem};
use crate::state::AppState;

/// The certificate's machine name.
pub const CERTIFICATE: &str = <PadronCertificate as esrs::Aggregate>::NAME;

impl RefusalProblem for expedientes_domain::padron::CertificateRefusal {}

/// The most people a collective document states (a dwelling with more is a matter for the
/// counter: a residence, an institution).
const COLLECTIVE_MAX: usize = 100;

fn location(id: Uuid) -> String {
    format!("/v1/padron/certificates/{id}")
}

/// What is asked for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "volante", "scope": "individual", "historical": false}))]
pub struct CertificateInput {
    /// A certificate (a public document) or a volante (informative).
    pub kind: CertificateKind,
    /// The person alone, or everyone inscribed at their dwelling today.
    pub scope: CertificateScope,
    /// Every period (with the removals and their causes), or only the one in force (default).
    pub historical: Option<bool>,
}

/// The periods of an inscription, from its history: each stretch at one address, and how it ended.
async fn periods(
    state: &AppState,
    tenant: &str,
    inscription: Uuid,
) -> Result<Vec<CertifiedPeriod>, ApiError> {
    let events = state
        .log
        .load_stream(tenant, inscription, Until::End)
        .await?;
    let mut periods: Vec<CertifiedPeriod> = Vec::new();
    let open = |periods: &mut Vec<CertifiedPeriod>, address: &str, from: NaiveDate| {
        periods.push(CertifiedPeriod {
            address: address.to_owned(),
            from,
            until: None,
            removal_cause: None,
        })
    };
    for stored in events {
        if stored.stream_type != <Inscription as esrs::Aggregate>::NAME {
            return Err(ApiError::NotFound("no such inscription".into()));
        }
        let event: InscriptionEvent =
            serde_json::from_value(stored.payload.clone()).map_err(|e| {
                ApiError::Internal(format!("inscription event {}: {e}", stored.position))
            })?;
        match event {
            InscriptionEvent::Inscribed { dwelling, on, .. }
            | InscriptionEvent::Reinscribed { dwelling, on, .. } => {
                open(&mut periods, &dwelling.address, on)
            }
            InscriptionEvent::AddressChanged { dwelling, on, .. } => {
                if let Some(last) = periods.last_mut().filter(|p| p.until.is_none()) {
                    last.until = Some(on);
                }
                open(&mut periods, &dwelling.address, on);
            }
            InscriptionEvent::Removed {
                cause,
                effective_on,
            } => {
                if let Some(last) = periods.last_mut().filter(|p| p.until.is_none()) {
                    last.until = Some(effective_on);
                    last.removal_cause = Some(<&'static str>::from(cause).to_owned());
                }
            }
            // The removal was a material error: the period runs on.
            InscriptionEvent::RemovalCorrected { .. } => {
                if let Some(last) = periods.last_mut() {
                    last.until = None;
                    last.removal_cause = None;
                }
            }
            _ => {}
        }
    }
    Ok(periods)
}

fn spanish_date(day: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    use chrono::Datelike;
    format!(
        "{} de {} de {}",
        day.day(),
        MONTHS[day.month0() as usize],
        day.year()
    )
}

fn cause_text(cause: &str) -> &'static str {
    match cause {
        "death" => "defunción",
        "lapse" => "caducidad",
        "wrong_inscription" => "inscripción indebida",
        "change_of_residence" => "cambio de residencia",
        _ => "otra causa",
    }
}

/// The document's text.
fn render(
    council: &str,
    issue: &CertificateIssue,
    code: &VerificationCode,
) -> (String, Vec<String>) {
    let kind = match issue.kind {
        CertificateKind::Certificate => "CERTIFICADO",
        CertificateKind::Volante => "VOLANTE",
    };
    let title = format!(
        "{kind} DE EMPADRONAMIENTO{}{}",
        match issue.scope {
            CertificateScope::Individual => " INDIVIDUAL",
            CertificateScope::Collective => " COLECTIVO",
        },
        if issue.historical { " HISTÓRICO" } else { "" }
    );
    let mut lines = vec![
        format!(
            "Ayuntamiento con código INE {council}. Según los datos que constan en el Padrón \
             Municipal de Habitantes a {}:",
            spanish_date(issue.as_of)
        ),
        String::new(),
    ];
    for person in &issue.persons {
        lines.push(format!(
            "{}, con documento de identidad {}:",
            person.name, person.document
        ));
        if let Some(since) = person.in_municipality_since {
            lines.push(format!(
                "- inscrito/a en este municipio sin interrupción desde el {}.",
                spanish_date(since)
            ));
        }
        for period in &person.periods {
            lines.push(match (&period.until, &period.removal_cause) {
                (None, _) => format!(
                    "- inscrito/a en {} desde el {}.",
                    period.address,
                    spanish_date(period.from)
                ),
                (Some(until), Some(cause)) => format!(
                    "- inscrito/a en {} del {} al {}, en que causó baja por {}.",
                    period.address,
                    spanish_date(period.from),
                    spanish_date(*until),
                    cause_text(cause)
                ),
                (Some(until), None) => format!(
                    "- inscrito/a en {} del {} al {}.",
                    period.address,
                    spanish_date(period.from),
                    spanish_date(*until)
                ),
            });
        }
        lines.push(String::new());
    }
    lines.push(match issue.kind {
        CertificateKind::Certificate => "Y para que conste, se expide el presente certificado, que tiene el valor de documento público (art. 16.1 de la Ley 7/1985, de Bases del Régimen Local). Expedido mediante actuación administrativa automatizada y autenticado con su código seguro de verificación (arts. 41 y 42.b de la Ley 40/2015).".to_owned(),
        CertificateKind::Volante => "El presente volante tiene carácter meramente informativo de los datos que constan en el Padrón Municipal de Habitantes; no tiene el valor de una certificación.".to_owned(),
    });
    lines.push(String::new());
    lines.push(format!(
        "Código seguro de verificación: {}. Puede comprobar su autenticidad y obtener una copia en \
         la sede electrónica del Ayuntamiento, /v1/verification/documents/{} (art. 27.3.c de la \
         Ley 39/2015).",
        code.as_str(),
        code.as_str()
    ));
    (title, lines)
}

/// Issues a certificate or volante of an inscription: to the person themselves (their own
/// inscription; a collective one of the dwelling where they are inscribed now) or at a counter.
/// A current document is refused (409) for someone not inscribed now: ask for a historical one.
#[utoipa::path(post, path = "/v1/padron/inscriptions/{id}/certificates", params(("id" = Uuid, Path, description = "The inscription")),
    request_body = CertificateInput,
    responses((status = 201, description = "Issued: the document, at `Location`", body = CommandResponse)),
    security(("bearer" = [])), tag = "padron")]
pub async fn issue_certificate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Caseworker, Role::Citizen])?;
    let inscription = resource_id(&id, "inscription")?;
    let found = row(&state, &caller.tenant, inscription).await?;
    if caller.role == Role::Citizen && found.document != caller.subject {
        return Err(ApiError::NotFound("no such inscription".into()));
    }
    let input: CertificateInput = incoming.json()?;
    // Online (seed 004): a volante, at once, to whoever identifies with an electronic
    // certificate; a certificate is issued at a citizen office.
    if caller.role == Role::Citizen {
        if caller.assurance != crate::auth::Assurance::High {
            return Err(ApiError::Forbidden(
                "identify with an electronic certificate (assurance high) to get a volante online"
                    .into(),
            ));
        }
        if input.kind == CertificateKind::Certificate {
            return Err(ApiError::Forbidden(
                "a certificate is issued at a citizen office; online, ask for a volante".into(),
            ));
        }
        if input.scope == CertificateScope::Collective && found.open_removal_file.is_some() {
            return Err(ApiError::Refused {
                detail: "a removal file is open on your inscription: a collective volante of the \
                         dwelling is issued at a citizen office"
                    .into(),
                current_version: None,
            });
        }
    }
    let historical = input.historical.unwrap_or(false);
    if historical && input.scope == CertificateScope::Collective {
        return Err(ApiError::invalid_field(
            "historical",
            "a collective document is of the dwelling as it is today",
        ));
    }
    let tenant = caller.tenant.clone();
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, CERTIFICATE, "issue").await?;
    let id = ctx.new_stream_id();
    if let Some(earlier) = ctx.earlier(&state, id).await? {
        return Ok(earlier.reply(location(id)));
    }
    // `If-Match` names the inscription's version (what is certified), not the new document's.
    ctx.check_if_match_against(found.version)?;
    // Who it states: the person, or everyone inscribed at their dwelling now.
    let rows: Vec<RegisterRow> = match input.scope {
        CertificateScope::Individual => vec![found.clone()],
        CertificateScope::Collective => {
            if found.removed_on.is_some() {
                return Err(ApiError::Refused {
                    detail: "the person is not inscribed now: a collective document is of the \
                             dwelling where one is inscribed"
                        .into(),
                    current_version: None,
                });
            }
            let everyone: Vec<RegisterRow> = sqlx::query_as(&format!(
                "SELECT {REGISTER_COLUMNS} FROM padron_register
                 WHERE tenant = $1 AND dwelling_key = $2 AND removed_on IS NULL
                 ORDER BY inscribed_on, name, inscription_id LIMIT {}",
                COLLECTIVE_MAX + 1
            ))
            .bind(tenant.as_str())
            .bind(&found.dwelling_key)
            .fetch_all(&state.pool)
            .await?;
            // Never a document that leaves someone out.
            if everyone.len() > COLLECTIVE_MAX {
                return Err(ApiError::Refused {
                    detail: format!(
                        "more than {COLLECTIVE_MAX} people are inscribed at this dwelling: its \
                         collective document is issued at a citizen office"
                    ),
                    current_version: None,
                });
            }
            everyone
        }
    };
    // Nothing is issued with a name or address misspelt.
    if rows
        .iter()
        .any(|r| !crate::pdf::representable(&r.name) || !crate::pdf::representable(&r.address))
    {
        return Err(ApiError::Refused {
            detail: "a name or address has letters this document cannot print yet: it is issued \
                     at a citizen office"
                .into(),
            current_version: None,
        });
    }
    let mut persons = Vec::with_capacity(rows.len());
    for person in &rows {
        let mut periods = periods(&state, tenant.as_str(), person.inscription_id).await?;
        // Without a break since the start of the period in force: the first stretch after the
        // last removal, moves within the municipality included.
        let in_municipality_since = match periods.last() {
            Some(last) if last.until.is_none() => periods
                .iter()
                .rposition(|p| p.removal_cause.is_some())
                .map_or(periods.first(), |ended| periods.get(ended + 1))
                .map(|p| p.from),
            _ => None,
        };
        if !historical {
            periods = periods.split_off(periods.len().saturating_sub(1));
        }
        persons.push(CertifiedPerson {
            inscription: person.inscription_id,
            name: person.name.clone(),
            document: person.document.clone(),
            periods,
            in_municipality_since,
        });
    }
    let now = state.clock.now();
    let as_of = crate::deadlines::local_date(&state, now);
    // The code derives from the command, so a retry of this request prints the same document.
    let code = {
        use sha2::Digest as _;
        let mut digest = sha2::Sha256::new();
        digest.update(&state.config.signing_key);
        digest.update(b"\0padron-certificate\0");
        digest.update(ctx.command_id().as_bytes());
        let bytes: [u8; 20] = digest.finalize()[..20]
            .try_into()
            .expect("20 of SHA-256's 32 bytes");
        VerificationCode::from_random(bytes)
    };
    let mut issue = CertificateIssue {
        kind: input.kind,
        scope: input.scope,
        historical,
        inscription,
        persons,
        as_of,
        sha256: Digest::of(b""),
        size: 0,
        verification_code: code.clone(),
        requested_by: caller.subject.clone(),
        at: now,
    };
    // Refused before its bytes are kept (a current one for someone removed, say).
    <PadronCertificate as esrs::Aggregate>::handle_command(
        &Default::default(),
        CertificateCommand::Issue(issue.clone()),
    )
    .map_err(RefusalProblem::into_problem)?;
    let (title, lines) = render(tenant.as_str(), &issue, &code);
    let bytes = crate::pdf::text_document(&title, &lines);
    issue.sha256 = Digest::of(&bytes);
    issue.size = bytes.len() as u64;
    state
        .documents
        .put(tenant.as_str(), &issue.sha256, &bytes)
        .await
        .map_err(|e| ApiError::Internal(format!("the document store: {e}")))?;
    let executed = ctx
        .execute::<PadronCertificate>(&state, id, |_, _| CertificateCommand::Issue(issue.clone()))
        .await?;
    Ok(executed.reply(location(id)))
}

/// A certificate or volante issued.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CertificateDto {
    /// The document.
    pub certificate_id: Uuid,
    /// The inscription it was asked for.
    pub inscription_id: Uuid,
    /// `certificate` or `volante`.
    pub kind: String,
    /// `individual` or `collective`.
    pub scope: String,
    /// Every period, or the one in force.
    pub historical: bool,
    /// The date the register is certified at.
    pub as_of: NaiveDate,
    /// Its secure verification code.
    pub verification_code: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its SHA-256 digest.
    pub sha256: String,
    /// When it was issued.
    pub issued_at: chrono::DateTime<chrono::Utc>,
    /// Who asked.
    #[serde(skip)]
    pub requested_by: String,
}

/// A certificate or volante issued: to staff, or to whoever asked for it. Its PDF is at
/// `/v1/verification/documents/{verification_code}/content`.
#[utoipa::path(get, path = "/v1/padron/certificates/{id}", params(("id" = Uuid, Path, description = "The document")),
    responses((status = 200, description = "The document issued", body = CertificateDto),
              (status = 404, description = "No such document for you", body = crate::problem::Problem)),
    security(("bearer" = [])), tag = "padron")]
pub async fn get_certificate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: crate::auth::Caller,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Caseworker, Role::Auditor, Role::Citizen])?;
    let id = resource_id(&id, "certificate")?;
    let found: Option<CertificateDto> = sqlx::query_as(
        "SELECT certificate_id, inscription_id, kind, scope, historical, as_of, verification_code,
                size, sha256, issued_at, requested_by
         FROM padron_certificates WHERE certificate_id = $1 AND tenant = $2",
    )
    .bind(id)
    .bind(caller.tenant.as_str())
    .fetch_optional(&state.pool)
    .await?;
    let found = found
        .filter(|c| caller.role != Role::Citizen || c.requested_by == caller.subject)
        .ok_or_else(|| ApiError::NotFound("no such certificate".into()))?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(found)).into_response())
}
