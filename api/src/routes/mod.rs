//! The HTTP surface: routes, middleware (request ids, tracing, metrics, problem details) and the
//! OpenAPI document generated from the handlers.

pub mod accounts;
pub mod audit;
pub mod calendars;
pub mod carpeta;
pub mod cases;
pub mod corrections;
pub mod deadlines;
pub mod documents;
pub mod general_application;
pub mod notifications;
pub mod ops;
pub mod padron;
pub mod registry;
pub mod representations;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::BodyExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The document's frame: what is not generated from the handlers.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "expedientes",
        description = "Event-sourced case management for Spanish city councils (Ley 39/2015): \
        general applications, alta de usuario, padrón. Errors are RFC 9457 problems; commands take Idempotency-Key \
        and, on an addressed file, If-Match."
    ),
    components(schemas(Problem, crate::problem::FieldError))
)]
struct ApiDoc;

/// The routes shared by every procedure: case files, Mi Carpeta, audit, deadlines, calendars,
/// operations.
fn common_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cases::list_cases))
        .routes(routes!(cases::get_case))
        .routes(routes!(cases::case_events))
        .routes(routes!(corrections::correct_case))
        .routes(routes!(registry::case_entries))
        .routes(routes!(registry::verify_code))
        .routes(routes!(carpeta::carpeta))
        .routes(routes!(audit::audit_events))
        .routes(routes!(audit::audit_corrections))
        .routes(routes!(audit::verify))
        .routes(routes!(deadlines::compute))
        .routes(routes!(calendars::get_year, calendars::publish_year))
        .routes(routes!(calendars::set_local_days))
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
}

/// Every route with its OpenAPI entry: the common ones and each procedure's.
fn api_routes() -> OpenApiRouter<AppState> {
    crate::procedures::PROCEDURES.iter().fold(
        OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(common_routes()),
        |router, plugin| router.merge((plugin.routes)()),
    )
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut document = api_routes().split_for_parts().1;
    crate::openapi::Conventions.modify(&mut document);
    crate::openapi::procedure_names(&mut document, &crate::procedures::registry().names());
    crate::openapi::bound_input_strings(&mut document);
    document
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such resource; see /openapi.json".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The largest request body accepted (a document's upload has its own, larger limit).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The longest a request may take, its body included (then 503).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole router.
pub fn router(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let (routes, _) = api_routes().split_for_parts();
    let document = std::sync::Arc::new(openapi_document());
    routes
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json((*document).clone()) }
            }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The outer cap is the largest body any route takes (a document); each route's extractor
        // applies its own (1 MiB for JSON, `DefaultBodyLimit` below).
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(
            expedientes_domain::lpac::document::MAX_BYTES as usize + 64 * 1024,
        ))
        // A request (its body included) that takes longer is cut: a slow client cannot hold a
        // connection and a handler's resources for ever.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
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
        // Answers hold personal data: no cache keeps them; no browser guesses their type.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// The operations router, served on its own address (`EXPEDIENTES_METRICS_ADDR`, loopback by
/// default) so that the public one never exposes the service's internals: `GET /metrics`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .fallback(not_found)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
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
            503 => ApiError::Unavailable,
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
