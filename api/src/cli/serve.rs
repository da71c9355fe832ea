//! The service (`serve`) and the scheduler alone (`scheduler`), with their background loops: read
//! models, timers, notices, seals.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use expedientes_eventlog::EventLog;
use expedientes_projections::{Runner, SystemClock};

use super::{failure, maintenance::run_migrations};
use crate::config::Config;

pub(super) async fn serve(config: Config) -> ExitCode {
    if let Err(e) = run_migrations(&config).await {
        return failure(e);
    }
    if config.signing_key_source != "EXPEDIENTES_SIGNING_KEY" {
        tracing::warn!(source = %config.signing_key_source, "using a development signing key: set EXPEDIENTES_SIGNING_KEY in production");
    }
    if config.staff_identity.is_none() {
        tracing::warn!("staff tokens are accepted signed with the service's key: configure the council's identity provider (EXPEDIENTES_STAFF_JWKS_FILE, _ISSUER, _AUDIENCE) in production");
    }
    let pool = match crate::connect(&config.database_url, true, 32).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect as the runtime role: {e}")),
    };
    let addr = config.addr;
    let projection_interval = config.projection_interval;
    let seal_interval = config.seal_interval;
    let state = crate::build_state(pool, config, Arc::new(SystemClock));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => return failure(format!("cannot listen on {addr}: {e}")),
    };
    tracing::info!(%addr, "serving");
    // The metrics on their own address: a failure to bind it is told, and the service goes on.
    if let Some(metrics_addr) = state.config.metrics_addr {
        match tokio::net::TcpListener::bind(metrics_addr).await {
            Ok(listener) => {
                tracing::info!(%metrics_addr, "serving /metrics");
                let router = crate::routes::metrics_router(state.clone());
                let limits = crate::server::Limits {
                    max_connections: 64,
                    ..state.config.limits
                };
                tokio::spawn(crate::server::serve(
                    listener,
                    router,
                    limits,
                    tokio_util_shutdown(),
                ));
            }
            Err(e) => tracing::warn!(%metrics_addr, error = %e, "cannot serve /metrics there"),
        }
    }
    let shutdown = tokio_util_shutdown();
    tokio::spawn(projection_loop(state.runner.clone(), projection_interval));
    tokio::spawn(scheduler_loop(
        state.scheduler.clone(),
        state.runner.clone(),
        SCHEDULER_INTERVAL,
    ));
    tokio::spawn(seal_loop(state.log.clone(), seal_interval));
    tokio::spawn(notices_loop(state.clone()));
    let limits = state.config.limits;
    crate::server::serve(listener, crate::router(state), limits, shutdown).await;
    ExitCode::SUCCESS
}

async fn tokio_util_shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// How often the scheduler looks for due timers.
const SCHEDULER_INTERVAL: Duration = Duration::from_secs(1);

pub(super) async fn scheduler(config: Config) -> ExitCode {
    if let Err(e) = run_migrations(&config).await {
        return failure(e);
    }
    let pool = match crate::connect(&config.database_url, true, 8).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect as the runtime role: {e}")),
    };
    let state = crate::build_state(pool, config, Arc::new(SystemClock));
    tracing::info!("scheduler running");
    tokio::select! {
        () = scheduler_loop(state.scheduler.clone(), state.runner.clone(), SCHEDULER_INTERVAL) => ExitCode::SUCCESS,
        () = tokio_util_shutdown() => ExitCode::SUCCESS,
    }
}

/// Fires due timers and follow-ups (after bringing the timers model up to date), and publishes
/// their figures.
async fn scheduler_loop(
    scheduler: expedientes_projections::Scheduler,
    runner: Runner,
    interval: Duration,
) {
    loop {
        if let Err(error) = runner.catch_up().await {
            tracing::error!(%error, "read models cannot catch up");
        }
        match scheduler.run_once().await {
            Ok(pass) if pass.handled() > 0 => tracing::info!(?pass, "timers fired"),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "scheduler pass failed"),
        }
        if let Err(error) = scheduler.publish_metrics().await {
            tracing::warn!(%error, "timer metrics unavailable");
        }
        tokio::time::sleep(interval).await;
    }
}

/// Keeps the read models caught up, and publishes their lag.
async fn projection_loop(runner: Runner, interval: Duration) {
    let mut ticks = 0u64;
    loop {
        if let Err(error) = runner.catch_up().await {
            tracing::error!(%error, "read models cannot catch up");
        }
        if ticks % 25 == 0 {
            for model in runner.models() {
                if let Ok(lag) = runner.lag(model.as_ref()).await {
                    metrics::gauge!("projection_lag_events", "model" => model.name())
                        .set(lag.events_behind as f64);
                    metrics::gauge!("projection_lag_seconds", "model" => model.name())
                        .set(lag.seconds_behind);
                    metrics::gauge!("projection_events_set_aside", "model" => model.name())
                        .set(lag.set_aside as f64);
                }
            }
        }
        ticks += 1;
        tokio::time::sleep(interval).await;
    }
}

/// Sends the outbox's notices (with the log sender: it records that a message was sent, never its
/// body; a real e-mail/SMS gateway implements `NoticeSender`).
async fn notices_loop(state: crate::AppState) {
    let sender = crate::notices::LogSender;
    loop {
        match crate::notices::process_outbox(&state, &sender).await {
            Ok(0) => tokio::time::sleep(Duration::from_secs(1)).await,
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, "notices could not be sent");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

/// Seals the log periodically.
async fn seal_loop(log: EventLog, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        loop {
            match log.seal(10_000).await {
                Ok(Some(seal)) => {
                    tracing::info!(seal_id = seal.seal_id, events = seal.event_count, digest = %seal.digest, "sealed");
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::error!(%error, "sealing failed");
                    break;
                }
            }
        }
    }
}
