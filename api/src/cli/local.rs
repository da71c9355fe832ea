//! Subcommands that need no database: minting a token for local use, computing a deadline.

use std::io::Write;
use std::process::ExitCode;

use chrono::{NaiveDate, NaiveTime};
use expedientes_domain::calendar::{DeadlineRequest, HolidayCalendar, Unit};
use expedientes_domain::MunicipalityCode;

use super::usage;
use crate::auth::{Assurance, Keys, Role};
use crate::config::Config;

pub(super) fn token(
    role: Role,
    tenant: &str,
    subject: &str,
    assurance: Assurance,
    ttl: u64,
) -> ExitCode {
    let tenant: MunicipalityCode = match tenant.parse() {
        Ok(t) => t,
        Err(e) => return usage(e),
    };
    if role == Role::Citizen {
        if let Err(e) = subject.parse::<expedientes_domain::DocumentNumber>() {
            return usage(format!("a citizen's subject is their document number: {e}"));
        }
    } else if subject.trim().is_empty() {
        return usage("the subject must not be empty");
    }
    if ttl == 0 || ttl > crate::auth::MAX_TOKEN_LIFETIME {
        return usage(format!(
            "--ttl must be from 1 second to {} seconds ({} hours): the service refuses longer tokens",
            crate::auth::MAX_TOKEN_LIFETIME,
            crate::auth::MAX_TOKEN_LIFETIME / 3600
        ));
    }
    let config = match Config::from_env(false) {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let keys = Keys::from_secret(&config.signing_key);
    println!(
        "{}",
        keys.mint(role, &tenant, subject.trim(), assurance, ttl)
    );
    ExitCode::SUCCESS
}

pub(super) fn deadline(
    from: &str,
    amount: i64,
    unit: &str,
    at: Option<&str>,
    municipality: Option<String>,
    residence: Option<String>,
) -> ExitCode {
    let Ok(from) = NaiveDate::parse_from_str(from, "%Y-%m-%d") else {
        return usage(format!("--from '{from}' is not a date: use YYYY-MM-DD"));
    };
    if amount < 1 {
        return usage("--amount must be at least 1");
    }
    let Ok(amount) = u32::try_from(amount) else {
        return usage("--amount is too large");
    };
    let unit: Unit = match unit.parse() {
        Ok(u) => u,
        Err(e) => return usage(e),
    };
    let at = match at
        .map(|t| NaiveTime::parse_from_str(t, "%H:%M"))
        .transpose()
    {
        Ok(t) => t,
        Err(_) => return usage("--at must be a time as HH:MM"),
    };
    let request = DeadlineRequest {
        from,
        at,
        amount,
        unit,
        seat: municipality,
        residence,
    };
    match HolidayCalendar::bundled().compute(&request) {
        Ok(result) => {
            let json = serde_json::to_string(&result).expect("a result serialises");
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{json}");
            ExitCode::SUCCESS
        }
        Err(e) => usage(e),
    }
}
