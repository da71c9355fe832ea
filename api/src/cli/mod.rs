//! The command line: `expedientes serve | scheduler | migrate | rebuild | verify | seal | openapi |
//! token | deadline | calendar | demo | bench`. Bad input exits with status 2 and a plain message
//! on stderr; failures with status 1.
//!
//! This module parses the arguments and dispatches; each group of subcommands lives in its own
//! module: `serve` (the service and its background loops), `maintenance` (migrate, rebuild,
//! verify, seal), `calendar` (calendar changes typed at a terminal), `local` (token, deadline:
//! no database needed).

mod calendar;
mod local;
mod maintenance;
mod serve;

use calendar::calendar;
use local::{deadline, token};
use maintenance::{migrate, projection_failures, rebuild, run_migrations, seal, verify};
use serve::{scheduler, serve};

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::auth::{Assurance, Role};
use crate::config::Config;

/// expedientes: event-sourced case management for Spanish city councils.
#[derive(Debug, Parser)]
#[command(name = "expedientes", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Applies the migrations, then serves the API with its read models, timers and seals.
    Serve,
    /// Applies the migrations.
    Migrate,
    /// Runs only the deadline-timer scheduler (and the read models it depends on).
    Scheduler,
    /// Rebuilds a read model (or `all`) from the start of the log into fresh tables, then swaps
    /// them in. Nothing already done is done again: sent notices are not sent again, fired timers
    /// do not fire again.
    Rebuild {
        /// The read model (case_view, deadline_timers, notices_outbox, account_view,
        /// padron_register, padron_certificates, registry_book, notifications, case_documents,
        /// representations), or `all`.
        read_model: String,
        /// What to do with effects the rebuilt model would have that the live one does not hold
        /// (notices of events the live outbox lost): refuse the rebuild, send them, or record them
        /// as done without sending.
        #[arg(long, value_enum, default_value = "refuse")]
        effects: EffectsArg,
    },
    /// Recomputes every hash, chain link and seal; prints the report as JSON (exit 1 if altered).
    Verify,
    /// Seals everything not yet sealed.
    Seal,
    /// The events a read model set aside because it could not apply them: list them, or apply
    /// them again after a fix.
    ProjectionFailures {
        #[command(subcommand)]
        action: FailuresAction,
    },
    /// Prints the OpenAPI document (the one served at /openapi.json).
    Openapi,
    /// Prints a signed token for local use.
    Token {
        /// citizen, caseworker, auditor or admin.
        #[arg(long, value_enum)]
        role: Role,
        /// The council's INE code.
        #[arg(long)]
        tenant: String,
        /// A document number (citizens) or an employee id.
        #[arg(long)]
        subject: String,
        /// Level of assurance.
        #[arg(long, value_enum, default_value = "substantial")]
        assurance: Assurance,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 8 * 3600)]
        ttl: u64,
    },
    /// Computes a legal deadline and prints it as JSON.
    Deadline {
        /// The day of the notification (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// How many units (at least 1).
        #[arg(long)]
        amount: i64,
        /// business-days, calendar-days, months, years or hours.
        #[arg(long)]
        unit: String,
        /// The time of the notification (HH:MM), required for hours.
        #[arg(long)]
        at: Option<String>,
        /// INE code of the body's seat.
        #[arg(long)]
        municipality: Option<String>,
        /// INE code of the person's residence (art. 30.6).
        #[arg(long)]
        residence: Option<String>,
    },
    /// Changes the council's legal calendar (recorded as events with the actor and the source).
    Calendar {
        #[command(subcommand)]
        change: CalendarChange,
    },
    /// Records the residence-confirmation day (and its warning and overdue timers) of the EU
    /// citizens and permanent residents inscribed before such days were recorded; a second run
    /// records nothing.
    ConfirmationDays {
        /// The council (INE code).
        #[arg(long)]
        tenant: String,
    },
    /// Loads a realistic data set for a municipality (inscriptions, renewals due, removal files,
    /// applications) so the service can be tried at once.
    Demo {
        /// The council (INE code).
        #[arg(long, default_value = "28079")]
        tenant: String,
        /// How many inscriptions.
        #[arg(long, default_value_t = 3000)]
        inscriptions: u32,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        which: Bench,
    },
}

#[derive(Debug, Subcommand)]
enum FailuresAction {
    /// Prints the events every read model (or one) set aside, as JSON lines.
    List {
        /// Only this read model.
        #[arg(long)]
        model: Option<String>,
    },
    /// Applies again, in order, the events a read model set aside; those that still fail stay.
    Retry {
        /// The read model.
        model: String,
    },
}

/// See `rebuild --effects`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum EffectsArg {
    /// Refuse the rebuild if it would act.
    Refuse,
    /// Carry the effects out.
    Perform,
    /// Record them as done without carrying them out.
    MarkDone,
}

#[derive(Debug, Subcommand)]
enum CalendarChange {
    /// Adds or replaces a year from a file in the documented format (data/calendars/es-2026.json).
    PublishYear {
        /// The council (INE code).
        #[arg(long)]
        tenant: String,
        /// The administrator making the change (employee id).
        #[arg(long)]
        actor: String,
        /// The year file.
        #[arg(long)]
        file: std::path::PathBuf,
        /// The official publication.
        #[arg(long)]
        source: String,
    },
    /// Sets a municipality's local holidays for a year.
    SetLocal {
        /// The council (INE code).
        #[arg(long)]
        tenant: String,
        /// The administrator making the change (employee id).
        #[arg(long)]
        actor: String,
        /// The year.
        #[arg(long)]
        year: i32,
        /// The municipality (INE code).
        #[arg(long)]
        municipality: String,
        /// The days, comma-separated (YYYY-MM-DD,YYYY-MM-DD).
        #[arg(long, value_delimiter = ',')]
        days: Vec<String>,
        /// The official publication.
        #[arg(long)]
        source: String,
    },
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Raw INSERT commits per second vs event-log appends, with 1 and 16 writers.
    Eventlog {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Payload size in bytes.
        #[arg(long, default_value_t = 512)]
        payload_bytes: usize,
    },
    /// Login answer times: an unknown document, a wrong password, the right password.
    Login {
        /// Logins of each kind.
        #[arg(long, default_value_t = 60)]
        samples: usize,
    },
    /// Deadline timers due at once, fired by two schedulers, vs event-log appends.
    Timers {
        /// How many timers.
        #[arg(long, default_value_t = 100_000)]
        count: usize,
    },
}

/// Bad input: exit 2 with the message.
fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("expedientes: {message}");
    ExitCode::from(2)
}

/// A failure: exit 1 with the message.
fn failure(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("expedientes: {message}");
    ExitCode::from(1)
}

fn init_tracing(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Entry point.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    // Commands that need neither a database nor a runtime.
    match &cli.command {
        Command::Deadline {
            from,
            amount,
            unit,
            at,
            municipality,
            residence,
        } => {
            return deadline(
                from,
                *amount,
                unit,
                at.as_deref(),
                municipality.clone(),
                residence.clone(),
            )
        }
        Command::Token {
            role,
            tenant,
            subject,
            assurance,
            ttl,
        } => return token(*role, tenant, subject, *assurance, *ttl),
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::routes::openapi_document())
                    .expect("the document serialises")
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let config = match Config::from_env(true) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    init_tracing(config.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return failure(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(&config).await,
            Command::Scheduler => scheduler(config).await,
            Command::Rebuild {
                read_model,
                effects,
            } => rebuild(&config, &read_model, effects).await,
            Command::Verify => verify(&config).await,
            Command::Openapi => unreachable!("answered without a database"),
            Command::Seal => seal(&config).await,
            Command::ProjectionFailures { action } => projection_failures(&config, action).await,
            Command::Calendar { change } => calendar(&config, change).await,
            Command::ConfirmationDays { tenant } => {
                let tenant: expedientes_domain::MunicipalityCode = match tenant.parse() {
                    Ok(t) => t,
                    Err(_) => return usage(format!("'{tenant}' is not an INE municipality code")),
                };
                if let Err(e) = run_migrations(&config).await {
                    return failure(e);
                }
                let owner = match crate::connect(&config.database_url, false, 2).await {
                    Ok(p) => p,
                    Err(e) => return failure(format!("cannot connect to the database: {e}")),
                };
                let state = crate::build_state(
                    owner,
                    config.clone(),
                    std::sync::Arc::new(expedientes_projections::SystemClock),
                );
                if let Err(e) = state
                    .runner
                    .settle(std::time::Duration::from_secs(60))
                    .await
                {
                    return failure(format!("the read models are behind: {e}"));
                }
                match crate::routes::padron::record_confirmation_days(&state, &tenant).await {
                    Ok(n) => {
                        eprintln!("expedientes: {n} confirmation days recorded for {tenant}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => failure(e),
                }
            }
            Command::Demo {
                tenant,
                inscriptions,
            } => {
                if let Err(e) = run_migrations(&config).await {
                    return failure(e);
                }
                crate::demo::run(&config, &tenant, inscriptions).await
            }
            Command::Bench {
                which:
                    Bench::Eventlog {
                        seconds,
                        payload_bytes,
                    },
            } => crate::bench::eventlog(&config, seconds, payload_bytes).await,
            Command::Bench {
                which: Bench::Timers { count },
            } => crate::bench::timers(&config, count).await,
            Command::Bench {
                which: Bench::Login { samples },
            } => crate::bench::login(&config, samples).await,
            Command::Deadline { .. } | Command::Token { .. } => unreachable!("handled above"),
        }
    })
}
