//! Operators' subcommands: migrate, rebuild read models, verify the log, seal it.

use std::process::ExitCode;
use std::sync::Arc;

use expedientes_eventlog::{EventLog, MIGRATOR};
use expedientes_projections::{RebuildEffects, SystemClock};
use indicatif::{ProgressBar, ProgressStyle};

use super::{failure, usage, EffectsArg, FailuresAction};
use crate::config::Config;

pub(super) async fn migrate(config: &Config) -> ExitCode {
    match run_migrations(config).await {
        Ok(()) => {
            eprintln!("expedientes: migrations applied");
            ExitCode::SUCCESS
        }
        Err(e) => failure(e),
    }
}

pub(super) async fn run_migrations(config: &Config) -> Result<(), String> {
    let owner = crate::connect(&config.database_url, false, 2)
        .await
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    MIGRATOR
        .run(&owner)
        .await
        .map_err(|e| format!("migrations failed: {e}"))?;
    owner.close().await;
    Ok(())
}

pub(super) async fn rebuild(config: &Config, name: &str, effects: EffectsArg) -> ExitCode {
    let owner = match crate::connect(&config.database_url, false, 4).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect to the database: {e}")),
    };
    let state = crate::build_state(owner.clone(), config.clone(), Arc::new(SystemClock));
    let models = if name == "all" {
        state.runner.models().to_vec()
    } else {
        match state.runner.model(name) {
            Some(model) => vec![model],
            None => {
                let names: Vec<_> = state.runner.models().iter().map(|m| m.name()).collect();
                return usage(format!(
                    "no read model '{name}'; there is: {}, or all",
                    names.join(", ")
                ));
            }
        }
    };
    let effects = match effects {
        EffectsArg::Refuse => RebuildEffects::Refuse,
        EffectsArg::Perform => RebuildEffects::Perform,
        EffectsArg::MarkDone => RebuildEffects::MarkDone,
    };
    for model in models {
        let name = model.name();
        let total: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_type = ANY($1)")
                .bind(model.stream_types())
                .fetch_one(&owner)
                .await
                .unwrap_or(0);
        let bar = ProgressBar::new(total.max(0) as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, {eta} left)",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(format!("rebuilding {name}"));
        let result = state
            .runner
            .rebuild(model.as_ref(), effects, &mut |n| {
                bar.set_length(bar.length().unwrap_or(0).max(n));
                bar.set_position(n);
            })
            .await;
        bar.finish();
        match result {
            Ok(n) => eprintln!("expedientes: {name} rebuilt from {n} events and swapped in"),
            Err(e @ expedientes_projections::ProjectionError::RebuildWouldAct { .. }) => {
                return failure(format!(
                    "{e}; nothing was swapped (see --effects perform | mark-done)"
                ))
            }
            Err(e) => return failure(format!("rebuild of {name} failed: {e}")),
        }
    }
    ExitCode::SUCCESS
}

pub(super) async fn verify(config: &Config) -> ExitCode {
    let pool = match crate::connect(&config.database_url, true, 2).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect to the database: {e}")),
    };
    match EventLog::new(pool).verify().await {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("a report serialises")
            );
            if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => failure(format!("verification could not run: {e}")),
    }
}

pub(super) async fn seal(config: &Config) -> ExitCode {
    let pool = match crate::connect(&config.database_url, true, 2).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect to the database: {e}")),
    };
    let log = EventLog::new(pool);
    let mut sealed = 0;
    loop {
        match log.seal(10_000).await {
            Ok(Some(seal)) => {
                sealed += seal.event_count;
                println!(
                    "{}",
                    serde_json::to_string(&seal).expect("a seal serialises")
                );
            }
            Ok(None) => break,
            Err(e) => return failure(format!("sealing failed: {e}")),
        }
    }
    eprintln!("expedientes: {sealed} events sealed");
    ExitCode::SUCCESS
}

pub(super) async fn projection_failures(config: &Config, action: FailuresAction) -> ExitCode {
    let pool = match crate::connect(&config.database_url, true, 4).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect to the database: {e}")),
    };
    let state = crate::build_state(pool, config.clone(), Arc::new(SystemClock));
    let model_named = |name: &str| {
        state.runner.model(name).ok_or_else(|| {
            let names: Vec<_> = state.runner.models().iter().map(|m| m.name()).collect();
            format!("no read model '{name}'; there is: {}", names.join(", "))
        })
    };
    match action {
        FailuresAction::List { model } => {
            let models = match model {
                Some(name) => match model_named(&name) {
                    Ok(m) => vec![m],
                    Err(e) => return usage(e),
                },
                None => state.runner.models().to_vec(),
            };
            for model in models {
                match state.runner.failures(model.name()).await {
                    Ok(failures) => {
                        for set_aside in failures {
                            println!(
                                "{}",
                                serde_json::to_string(&set_aside).expect("a failure serialises")
                            );
                        }
                    }
                    Err(e) => return failure(format!("cannot read the failures: {e}")),
                }
            }
            ExitCode::SUCCESS
        }
        FailuresAction::Retry { model } => {
            let model = match model_named(&model) {
                Ok(m) => m,
                Err(e) => return usage(e),
            };
            match state.runner.retry_failures(model.as_ref()).await {
                Ok((applied, remaining)) => {
                    eprintln!(
                        "expedientes: {} applied {applied} event(s) set aside; {remaining} still set aside",
                        model.name()
                    );
                    if remaining == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => failure(format!("retry failed: {e}")),
            }
        }
    }
}
