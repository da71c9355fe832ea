//! Documents and the electronic file (arts. 26–28 and 70 LPAC) over HTTP: a party or a
//! caseworker adds a document to an open file (its bytes as the body, its type checked against
//! its first bytes); a party's upload is entered in the registry like any other submission. The
//! file's electronic index lists every document in order with its digest and is exportable; each
//! document carries a secure verification code anyone holding it can check, and fetch the copy
//! with (art. 27.3.a), without a login.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use expedientes_domain::lpac::document::{
    Command, Digest, Document, DocumentName, MediaType, Uploader, MAX_BYTES,
};
use expedientes_domain::lpac::notification::CaseRef;
use expedientes_domain::lpac::SubmissionKind;
use expedientes_domain::VerificationCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::extract::{resource_id, ApiQuery};
use crate::pipeline::{CommandContext, CommandResponse, Incoming};
use crate::problem::{ApiError, RefusalProblem};
use crate::procedures::Plugin;
use crate::routes::cases::visible_case;
use crate::state::AppState;

/// Documents' registration.
pub const PLUGIN: Plugin = Plugin {
    name: "case_document",
    register: |registry| registry.register::<Document>(),
    read_models: || vec![std::sync::Arc::new(expedientes_projections::CaseDocuments)],
    routes: || {
        OpenApiRouter::new()
            // An upload's body is the document itself: a larger limit than the JSON one.
            .routes(routes!(add_document, electronic_index))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BYTES as usize))
            .routes(routes!(get_document))
            .routes(routes!(document_content))
            .routes(routes!(verify_document))
            .routes(routes!(verified_document_content))
    },
    notice: crate::procedures::no_notices,
};

const NAME: &str = <Document as esrs::Aggregate>::NAME;

/// A document's refusals are conflicts with the file (409).
impl RefusalProblem for expedientes_domain::lpac::document::Refusal {}

/// `?name=` of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The document's name (1 to 200 characters, no path), e.g. `plano.pdf`.
    pub name: String,
}

fn location(id: Uuid) -> String {
    format!("/v1/documents/{id}")
}

/// Adds a document to an open file: the body is the document (PDF, JPEG or PNG, at most 10 MiB,
/// its `Content-Type` checked against its first bytes). A party (or their representative on the
/// file) or a caseworker. A party's upload gets a registry entry (art. 16), whose receipt code is
/// the document's verification code.
#[utoipa::path(post, path = "/v1/cases/{id}/documents",
    params(("id" = Uuid, Path, description = "The file"), UploadQuery),
    request_body(description = "The document's bytes",
        content((Vec<u8> = "application/pdf"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"))),
    responses((status = 201, description = "Added: the document", body = CommandResponse)),
    security(("bearer" = [])), tag = "documents")]
pub async fn add_document(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    incoming: Incoming,
) -> Result<Response, ApiError> {
    let caller = incoming.caller_in(&[Role::Citizen, Role::Caseworker])?;
    let file = resource_id(&id, "file")?;
    let case = visible_case(&state, caller, file).await?;
    let name = DocumentName::try_from(query.name)
        .map_err(|e| ApiError::invalid_field("name", e.reason))?;
    let media_type = incoming
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(MediaType::from_mime)
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType(
                "a document is application/pdf, image/jpeg or image/png".into(),
            )
        })?;
    let content = incoming.body();
    if content.is_empty() {
        return Err(ApiError::invalid_field("body", "the document is empty"));
    }
    if content.len() as u64 > MAX_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    if !media_type.matches(content) {
        return Err(ApiError::invalid_field(
            "body",
            format!("the content is not a {} document", media_type.mime()),
        ));
    }
    if case.closed_at.is_some() {
        return Err(ApiError::Refused {
            detail: "the file is closed: documents are added to open files".into(),
            current_version: None,
        });
    }
    let tenant = caller.tenant.clone();
    let mut ctx = CommandContext::open(&state, &incoming, &tenant, NAME, "add").await?;
    let document = ctx.new_stream_id();
    if let Some(earlier) = ctx.earlier(&state, document).await? {
        return Ok(earlier.reply(location(document)));
    }
    // `If-Match` names the file's version (the resource in the path), not the new document's.
    ctx.check_if_match_against(case.version)?;
    let sha256 = Digest::of(content);
    state
        .documents
        .put(tenant.as_str(), &sha256, content)
        .await
        .map_err(store_problem)?;
    let now = state.clock.now();
    // A party's upload is a submission: entered in the registry (art. 16), counting from the
    // next business day's first hour when filed on a holiday (art. 31.2.b).
    let entry = if caller.role == Role::Citizen {
        let calendar = crate::deadlines::calendar_for(&state, &tenant).await?;
        let counts_from = crate::deadlines::registry_entry(&state, &calendar, &tenant, now);
        Some(
            crate::registry_entries::enter(
                &state,
                &tenant,
                SubmissionKind::Document,
                now,
                counts_from,
            )
            .await?,
        )
    } else {
        None
    };
    let verification_code = entry.as_ref().map_or_else(
        || VerificationCode::from_random(rand::random()),
        |e| e.verification_code.clone(),
    );
    let case_number = case
        .case_number
        .parse()
        .map_err(|_| ApiError::Internal("a file number that does not parse".into()))?;
    let command = Command::Add {
        case: CaseRef {
            stream_type: case.procedure.clone(),
            stream_id: file,
            case_number,
        },
        name,
        media_type,
        size: content.len() as u64,
        sha256,
        by: Uploader {
            role: if caller.role == Role::Citizen {
                "citizen"
            } else {
                "caseworker"
            }
            .into(),
            subject: caller.subject.clone(),
        },
        entry,
        verification_code,
        at: now,
    };
    let executed = ctx
        .execute::<Document>(&state, document, |_, _| command.clone())
        .await?;
    Ok(executed.reply(location(document)))
}

fn store_problem(error: crate::documents::StoreError) -> ApiError {
    match error {
        crate::documents::StoreError::Database(e) => e.into(),
        other => ApiError::Internal(other.to_string()),
    }
}

/// A document of a file.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DocumentDto {
    /// Its id.
    #[sqlx(rename = "document_id")]
    pub id: Uuid,
    /// The file.
    pub case_id: Uuid,
    /// The file's number.
    pub case_number: String,
    /// Its name.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its SHA-256 digest (hex).
    pub sha256: String,
    /// `citizen` or `caseworker`.
    pub uploaded_by_role: String,
    /// A party's upload: its registry entry's number.
    pub registry_number: Option<String>,
    /// Its secure verification code.
    pub verification_code: String,
    /// When it joined the file.
    pub added_at: DateTime<Utc>,
}

const COLUMNS: &str = "document_id, case_id, case_number, name, media_type, size, sha256,
    uploaded_by_role, registry_number, verification_code, added_at";

/// One line of the electronic index.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndexEntry {
    /// Its place in the file (1, 2, …).
    pub number: usize,
    /// The document.
    #[serde(flatten)]
    pub document: DocumentDto,
}

/// A file's electronic index (art. 70.2): every document in the order it joined the file, with
/// its digest; `index_sha256` is the SHA-256 of the index's lines (number, digest, size, type,
/// moment, id), so a copy of the index can be checked against the file as it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ElectronicIndex {
    /// The file.
    pub case_id: Uuid,
    /// Its number.
    pub case_number: String,
    /// Its procedure.
    pub procedure: String,
    /// The documents, in order.
    pub documents: Vec<IndexEntry>,
    /// The digest of the index.
    pub index_sha256: String,
    /// When the index was produced.
    pub produced_at: DateTime<Utc>,
}

/// The file's electronic index, up to date (parties and staff): also its export.
#[utoipa::path(get, path = "/v1/cases/{id}/documents",
    params(("id" = Uuid, Path, description = "The file")),
    responses((status = 200, description = "The electronic index", body = ElectronicIndex)),
    security(("bearer" = [])), tag = "documents")]
pub async fn electronic_index(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let file = resource_id(&id, "file")?;
    let case = visible_case(&state, &caller, file).await?;
    let rows: Vec<DocumentDto> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM case_documents WHERE tenant = $1 AND case_id = $2
         ORDER BY event_position"
    ))
    .bind(caller.tenant.as_str())
    .bind(file)
    .fetch_all(&state.pool)
    .await?;
    let lines: String = rows
        .iter()
        .enumerate()
        .map(|(i, d)| {
            format!(
                "{}|{}|{}|{}|{}|{}\n",
                i + 1,
                d.sha256,
                d.size,
                d.media_type,
                d.added_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                d.id
            )
        })
        .collect();
    let index = ElectronicIndex {
        case_id: file,
        case_number: case.case_number,
        procedure: case.procedure,
        index_sha256: Digest::of(lines.as_bytes()).as_str().to_owned(),
        documents: rows
            .into_iter()
            .enumerate()
            .map(|(i, document)| IndexEntry {
                number: i + 1,
                document,
            })
            .collect(),
        produced_at: state.clock.now(),
    };
    Ok(Json(index).into_response())
}

/// The document if the caller may see its file.
async fn visible_document(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<DocumentDto, ApiError> {
    let row: Option<DocumentDto> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM case_documents WHERE tenant = $1 AND document_id = $2"
    ))
    .bind(caller.tenant.as_str())
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let row = row.ok_or_else(|| ApiError::NotFound("no such document".into()))?;
    visible_case(state, caller, row.case_id)
        .await
        .map_err(|_| ApiError::NotFound("no such document".into()))?;
    Ok(row)
}

/// A document's record (parties and staff).
#[utoipa::path(get, path = "/v1/documents/{id}",
    params(("id" = Uuid, Path, description = "The document")),
    responses((status = 200, description = "The document", body = DocumentDto)),
    security(("bearer" = [])), tag = "documents")]
pub async fn get_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DocumentDto>, ApiError> {
    let id = resource_id(&id, "document")?;
    Ok(Json(visible_document(&state, &caller, id).await?))
}

async fn content_response(
    state: &AppState,
    tenant: &str,
    sha256: &str,
    media_type: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let digest = Digest::try_from(sha256.to_owned())
        .map_err(|_| ApiError::Internal("a stored digest that does not parse".into()))?;
    let content = state
        .documents
        .get(tenant, &digest)
        .await
        .map_err(store_problem)?
        .ok_or_else(|| ApiError::Internal(format!("the content of {sha256} is missing")))?;
    // RFC 6266 / 5987: the name as UTF-8, percent-encoded.
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}"))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(media_type).map_err(|e| ApiError::Internal(e.to_string()))?,
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::ETAG,
                HeaderValue::from_str(&format!("\"{sha256}\""))
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            ),
        ],
        Body::from(content),
    )
        .into_response())
}

/// The document itself (parties and staff), checked against its digest as it is read.
#[utoipa::path(get, path = "/v1/documents/{id}/content",
    params(("id" = Uuid, Path, description = "The document")),
    responses((status = 200, description = "The document's bytes",
        content_type = "application/octet-stream", body = Vec<u8>)),
    security(("bearer" = [])), tag = "documents")]
pub async fn document_content(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = resource_id(&id, "document")?;
    let row = visible_document(&state, &caller, id).await?;
    content_response(
        &state,
        caller.tenant.as_str(),
        &row.sha256,
        &row.media_type,
        &row.name,
    )
    .await
}

/// What the public check of a document's code shows: what it is and that it is intact, no
/// personal data (not even its name).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct VerifiedDocumentDto {
    /// The code checked.
    pub verification_code: String,
    /// The council (INE code) whose file holds it.
    pub council: String,
    /// The file's procedure.
    pub procedure: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// Its SHA-256 digest: a copy can be checked against it.
    pub sha256: String,
    /// When it joined the file.
    pub added_at: DateTime<Utc>,
}

fn parse_code(code: &str) -> Result<VerificationCode, ApiError> {
    code.trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|e: expedientes_domain::ParseError| ApiError::invalid_field("code", e.reason))
}

/// A document found by its code, with its name (for the copy's file name only).
#[derive(sqlx::FromRow)]
struct ByCode {
    #[sqlx(flatten)]
    found: VerifiedDocumentDto,
    name: String,
}

async fn by_code(state: &AppState, code: &str) -> Result<(VerifiedDocumentDto, String), ApiError> {
    let code = parse_code(code)?;
    let row: Option<ByCode> = sqlx::query_as(
        "SELECT verification_code, tenant AS council, case_type AS procedure, media_type, size,
                sha256, added_at, name
         FROM case_documents WHERE verification_code = $1",
    )
    .bind(code.as_str())
    .fetch_optional(&state.pool)
    .await?;
    // Or a document the council issued itself: a padrón certificate or volante.
    let row =
        match row {
            Some(row) => Some(row),
            None => sqlx::query_as(
                "SELECT verification_code, tenant AS council, 'padron_certificate' AS procedure,
                        'application/pdf' AS media_type, size, sha256, issued_at AS added_at,
                        kind || '-de-empadronamiento.pdf' AS name
                 FROM padron_certificates WHERE verification_code = $1",
            )
            .bind(code.as_str())
            .fetch_optional(&state.pool)
            .await?,
        };
    let row =
        row.ok_or_else(|| ApiError::NotFound("no document has this verification code".into()))?;
    Ok((row.found, row.name))
}

/// Checks a document's secure verification code, without a login (art. 27.3.a).
#[utoipa::path(get, path = "/v1/verification/documents/{code}",
    params(("code" = String, Path, description = "The document's 20-character code")),
    responses((status = 200, description = "The document the code belongs to", body = VerifiedDocumentDto),
              (status = 404, description = "No document has this code")),
    tag = "documents")]
pub async fn verify_document(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<VerifiedDocumentDto>, ApiError> {
    Ok(Json(by_code(&state, &code).await?.0))
}

/// The copy of a document whose code the holder has (the code is the authorisation, art. 27.3.a),
/// checked against its digest.
#[utoipa::path(get, path = "/v1/verification/documents/{code}/content",
    params(("code" = String, Path, description = "The document's 20-character code")),
    responses((status = 200, description = "The document's bytes",
        content_type = "application/octet-stream", body = Vec<u8>),
              (status = 404, description = "No document has this code")),
    tag = "documents")]
pub async fn verified_document_content(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let (found, name) = by_code(&state, &code).await?;
    content_response(
        &state,
        &found.council,
        &found.sha256,
        &found.media_type,
        &name,
    )
    .await
}
