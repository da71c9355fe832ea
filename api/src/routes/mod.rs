//! The HTTP surface: routes, middleware (request ids, tracing, metrics, problem details) and the
//! OpenAPI document generated from the handlers.

pub mod accounts;
pub mod audit;
pub mod calendars;
pub mod carpeta;
pub mod cases;
pub mod deadlines;
pub mod general_application;
pub mod ops;
pub mod padron;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The OpenAPI document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "expedientes", description = "Event-sourced case management for Spanish city councils."),
    paths(
        cases::get_case, cases::case_events, cases::list_cases,
        general_application::submit, general_application::request_rectification, general_application::extend_rectification,
        general_application::rectify, general_application::resolve, general_application::withdraw,
        carpeta::carpeta, audit::audit_events, audit::verify, deadlines::compute,
        calendars::get_year, calendars::publish_year, calendars::set_local_days,
        accounts::register, accounts::activate, accounts::login, accounts::recover, accounts::verify_identity,
        accounts::reset_key, accounts::unlock, accounts::change_contact, accounts::verification_queue,
        accounts::get_account, accounts::my_account, accounts::verify_mobile, accounts::request_pin,
        accounts::login_with_pin, padron::inscriptions::inscribe, padron::inscriptions::get_inscription, padron::inscriptions::renew,
        padron::inscriptions::change_address, padron::inscriptions::resolve_lapse, padron::inscriptions::renewals, padron::removal_files::open_file, padron::removal_files::file_step,
        padron::inscriptions::modify_personal_data, padron::inscriptions::confirm_residence, padron::inscriptions::remove, padron::inscriptions::my_inscription,
        ops::health, ops::ready, ops::metrics,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource; see /openapi.json".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The whole router.
pub fn router(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/v1/cases", get(cases::list_cases))
        .route("/v1/cases/{id}", get(cases::get_case))
        .route("/v1/cases/{id}/events", get(cases::case_events))
        .route("/v1/general-applications", post(general_application::submit))
        .route("/v1/cases/{id}/rectification-requests", post(general_application::request_rectification))
        .route("/v1/cases/{id}/rectification-extensions", post(general_application::extend_rectification))
        .route("/v1/cases/{id}/rectifications", post(general_application::rectify))
        .route("/v1/cases/{id}/resolutions", post(general_application::resolve))
        .route("/v1/cases/{id}/withdrawals", post(general_application::withdraw))
        .route("/v1/carpeta", get(carpeta::carpeta))
        .route("/v1/audit/events", get(audit::audit_events))
        .route("/v1/audit/verify", get(audit::verify))
        .route("/v1/deadlines", get(deadlines::compute))
        .route("/v1/calendars/{year}", get(calendars::get_year).put(calendars::publish_year))
        .route("/v1/calendars/{year}/municipalities/{ine}", axum::routing::put(calendars::set_local_days))
        .route("/v1/councils/{ine}/accounts", post(accounts::register))
        .route("/v1/councils/{ine}/accounts/activation", post(accounts::activate))
        .route("/v1/councils/{ine}/accounts/recovery", post(accounts::recover))
        .route("/v1/councils/{ine}/sessions", post(accounts::login))
        .route("/v1/councils/{ine}/sessions/pin-requests", post(accounts::request_pin))
        .route("/v1/councils/{ine}/sessions/pin", post(accounts::login_with_pin))
        .route("/v1/accounts/{id}/mobile-verifications", post(accounts::verify_mobile))
        .route("/v1/accounts/verification-queue", get(accounts::verification_queue))
        .route("/v1/accounts/{id}", get(accounts::get_account))
        .route("/v1/accounts/{id}/identity-verifications", post(accounts::verify_identity))
        .route("/v1/accounts/{id}/key-resets", post(accounts::reset_key))
        .route("/v1/accounts/{id}/unlocks", post(accounts::unlock))
        .route("/v1/accounts/{id}/contact", axum::routing::put(accounts::change_contact))
        .route("/v1/carpeta/account", get(accounts::my_account))
        .route("/v1/padron/inscriptions", post(padron::inscriptions::inscribe))
        .route("/v1/padron/inscriptions/{id}", get(padron::inscriptions::get_inscription))
        .route("/v1/padron/inscriptions/{id}/renewals", post(padron::inscriptions::renew))
        .route("/v1/padron/inscriptions/{id}/address-changes", post(padron::inscriptions::change_address))
        .route("/v1/padron/inscriptions/{id}/lapse-resolutions", post(padron::inscriptions::resolve_lapse))
        .route("/v1/padron/renewals", get(padron::inscriptions::renewals))
        .route("/v1/padron/inscriptions/{id}/personal-data", post(padron::inscriptions::modify_personal_data))
        .route("/v1/padron/inscriptions/{id}/residence-confirmations", post(padron::inscriptions::confirm_residence))
        .route("/v1/padron/inscriptions/{id}/removals", post(padron::inscriptions::remove))
        .route("/v1/carpeta/padron", get(padron::inscriptions::my_inscription))
        .route("/v1/padron/removal-files", post(padron::removal_files::open_file))
        .route("/v1/padron/removal-files/{id}/steps", post(padron::removal_files::file_step))
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state)
}

/// Records metrics per route, and completes problem responses: the request id as `instance`, and
/// problem+json for the few errors produced outside the handlers (body limit).
async fn observe(State(_state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    metrics::counter!("http_requests_total", "method" => method.to_string(), "route" => route.clone(),
        "status" => status.as_u16().to_string())
    .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method.to_string(), "route" => route)
        .record(started.elapsed().as_secs_f64());
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let (parts, body) = response.into_parts();
    let bytes = match tokio::time::timeout(Duration::from_secs(5), body.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        _ => Default::default(),
    };
    let mut problem: serde_json::Value = if is_problem {
        serde_json::from_slice(&bytes).unwrap_or_default()
    } else {
        // An error produced by a layer, not a handler (e.g. the body limit): make it a problem.
        let error = match parts.status.as_u16() {
            413 => ApiError::PayloadTooLarge,
            404 => ApiError::NotFound("no such resource".into()),
            405 => ApiError::MethodNotAllowed,
            s if s >= 500 => ApiError::Internal(String::from_utf8_lossy(&bytes).into_owned()),
            _ => ApiError::BadRequest(String::from_utf8_lossy(&bytes).into_owned()),
        };
        serde_json::to_value(error.problem()).unwrap_or_default()
    };
    if let (Some(id), Some(object)) = (request_id, problem.as_object_mut()) {
        object.insert(
            "instance".into(),
            serde_json::Value::String(format!("urn:request:{id}")),
        );
    }
    let mut response = Response::from_parts(
        parts,
        Body::from(serde_json::to_vec(&problem).unwrap_or_default()),
    );
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response.into_response()
}
