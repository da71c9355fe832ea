//! Operations: liveness, readiness, metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`; `degraded` when a read model set events aside (it serves every other stream); or
    /// what is wrong.
    pub status: String,
    /// The read models that set events aside, with how many (`expedientes projection-failures`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stuck: Vec<StuckModel>,
}

/// A read model with events set aside.
#[derive(Debug, Serialize, ToSchema)]
pub struct StuckModel {
    /// The model.
    pub model: String,
    /// Events it could not apply (and later events of their streams).
    pub set_aside: i64,
}

/// The process is alive.
#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)), tag = "operations")]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        stuck: Vec::new(),
    })
}

/// The service can serve: the database answers and the schema is migrated (503 otherwise). A read
/// model that set events aside makes it `degraded` (still 200: every other stream is served), and
/// is named.
#[utoipa::path(get, path = "/ready", responses((status = 200, description = "Ready (or degraded, naming the stuck read models)", body = Health),
    (status = 503, description = "Not ready: the database does not answer or is not migrated", body = Health)), tag = "operations")]
pub async fn ready(State(state): State<AppState>) -> Response {
    let check = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT FROM information_schema.tables WHERE table_name = 'events')",
    )
    .fetch_one(&state.pool)
    .await;
    match check {
        Ok(true) => {
            let stuck: Vec<StuckModel> = sqlx::query_as::<_, (String, i64)>(
                "SELECT model, count(*) FROM projection_failures WHERE resolved_at IS NULL
                 GROUP BY model ORDER BY model",
            )
            .fetch_all(&state.pool)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(model, set_aside)| StuckModel { model, set_aside })
            .collect();
            Json(Health {
                status: if stuck.is_empty() { "ok" } else { "degraded" }.into(),
                stuck,
            })
            .into_response()
        }
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "the database is not migrated".into(),
                stuck: Vec::new(),
            }),
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "the database does not answer".into(),
                    stuck: Vec::new(),
                }),
            )
                .into_response()
        }
    }
}

/// Prometheus metrics, on the operations address only (`metrics_router`).
pub async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are not enabled").into_response(),
    }
}
