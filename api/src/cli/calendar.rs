//! Changes to the council's calendar typed at a terminal (recorded as events with the actor and
//! the source).

use std::process::ExitCode;

use chrono::NaiveDate;
use expedientes_domain::MunicipalityCode;
use expedientes_eventlog::EventLog;

use super::{failure, usage, CalendarChange};
use crate::config::Config;

pub(super) async fn calendar(config: &Config, change: CalendarChange) -> ExitCode {
    use expedientes_domain::council_calendar::{self, Command as CalendarCommand, CouncilCalendar};
    use expedientes_eventlog::{CommandError, CommandRequest, Metadata};

    let (tenant, actor, command) = match change {
        CalendarChange::PublishYear {
            tenant,
            actor,
            file,
            source,
        } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => return usage(format!("cannot read {}: {e}", file.display())),
            };
            let year = match expedientes_domain::calendar::YearCalendar::from_json(&text) {
                Ok(y) => y,
                Err(e) => return usage(format!("{}: {e}", file.display())),
            };
            let at = chrono::Utc::now();
            (
                tenant,
                actor,
                CalendarCommand::PublishYear {
                    calendar: year,
                    source,
                    at,
                },
            )
        }
        CalendarChange::SetLocal {
            tenant,
            actor,
            year,
            municipality,
            days,
            source,
        } => {
            let municipality = match municipality.parse() {
                Ok(m) => m,
                Err(e) => return usage(e),
            };
            let mut parsed = Vec::new();
            for day in &days {
                match NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d") {
                    Ok(d) => parsed.push(d),
                    Err(_) => return usage(format!("--days: '{day}' is not a date (YYYY-MM-DD)")),
                }
            }
            let at = chrono::Utc::now();
            (
                tenant,
                actor,
                CalendarCommand::SetLocalDays {
                    year,
                    municipality,
                    days: parsed,
                    source,
                    at,
                },
            )
        }
    };
    let tenant: MunicipalityCode = match tenant.parse() {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    if actor.trim().is_empty() {
        return usage("--actor must name the administrator");
    }
    let pool = match crate::connect(&config.database_url, true, 2).await {
        Ok(p) => p,
        Err(e) => return failure(format!("cannot connect to the database: {e}")),
    };
    let result = EventLog::new(pool)
        .execute::<CouncilCalendar>(
            CommandRequest {
                tenant: tenant.clone(),
                stream_id: council_calendar::stream_id(&tenant),
                expected_version: None,
                metadata: Metadata {
                    actor_id: actor.trim().to_owned(),
                    actor_role: "admin".into(),
                    channel: Some("cli".into()),
                    correlation_id: uuid::Uuid::new_v4(),
                    command_id: Some(uuid::Uuid::new_v4()),
                    ..Metadata::default()
                },
                request_hash: None,
            },
            move |_, _| command.clone(),
        )
        .await;
    match result {
        Ok(outcome) => {
            eprintln!(
                "expedientes: calendar of {tenant} changed (version {})",
                outcome.version
            );
            ExitCode::SUCCESS
        }
        Err(CommandError::Refused(refusal)) => usage(refusal),
        Err(e) => failure(e),
    }
}
