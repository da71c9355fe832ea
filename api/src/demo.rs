//! `expedientes demo`: a realistic data set for one municipality, so the service can be tried at
//! once — inscriptions of several nationalities spread over the last two years (so that renewals
//! fall due in the coming months), a few removal files at different stages, and some general
//! applications. Everything goes through the same aggregates and the event log as real commands.

use std::process::ExitCode;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use expedientes_domain::general_application::{Command as GaCommand, GeneralApplication};
use expedientes_domain::padron::{
    Actor, Dwelling, FileCommand, Inscription, InscriptionCommand, Person, RemovalBasis,
    RemovalFile, ResidenceStatus,
};
use expedientes_domain::user_account::{IdentityDocument, Nationality};
use expedientes_domain::{CaseParty, MunicipalityCode, PartyRole};
use expedientes_eventlog::{CommandRequest, Metadata, Streams};
use expedientes_projections::SystemClock;
use indicatif::{ProgressBar, ProgressStyle};
use uuid::Uuid;

use crate::config::Config;

const GIVEN: [&str; 12] = [
    "Ana", "Luis", "Fatima", "Mohamed", "Wei", "María", "Andrei", "Lucía", "Ibrahim", "Sofía",
    "Carlos", "Nadia",
];
const FAMILY: [&str; 12] = [
    "García",
    "Martínez",
    "El Amrani",
    "Popescu",
    "Chen",
    "López",
    "Rodríguez",
    "Diallo",
    "Sánchez",
    "Haddad",
    "Pérez",
    "Kowalski",
];
const STREETS: [&str; 8] = [
    "Calle de Toledo",
    "Calle de Alcalá",
    "Paseo de las Delicias",
    "Calle de Bravo Murillo",
    "Calle Mayor",
    "Avenida de la Albufera",
    "Calle de Atocha",
    "Calle de Embajadores",
];
const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

fn dni(n: u32) -> String {
    format!("{n:08}{}", DNI_LETTERS[(n % 23) as usize] as char)
}

fn nie(n: u32) -> String {
    let n = n % 10_000_000;
    format!("X{n:07}{}", DNI_LETTERS[(n % 23) as usize] as char)
}

/// A small deterministic generator: the demo is the same every time.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound.max(1)
    }
}

fn request(tenant: &MunicipalityCode, stream: Uuid) -> CommandRequest {
    CommandRequest {
        tenant: tenant.clone(),
        stream_id: stream,
        expected_version: None,
        metadata: Metadata {
            actor_id: "demo".into(),
            actor_role: "caseworker".into(),
            channel: Some("demo".into()),
            correlation_id: Uuid::new_v4(),
            command_id: Some(Uuid::new_v4()),
            ..Metadata::default()
        },
        request_hash: None,
    }
}

/// Loads the demo data set into the configured database for `tenant`.
pub async fn run(config: &Config, tenant: &str, inscriptions: u32) -> ExitCode {
    let tenant: MunicipalityCode = match tenant.parse() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("expedientes: {e}");
            return ExitCode::from(2);
        }
    };
    let pool = match crate::connect(&config.database_url, true, 8).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("expedientes: cannot connect to the database: {e}");
            return ExitCode::from(1);
        }
    };
    let state = crate::build_state(pool, config.clone(), Arc::new(SystemClock));
    match load(&state, &tenant, inscriptions).await {
        Ok(summary) => {
            eprintln!("expedientes: {summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("expedientes: demo data could not be loaded: {e}");
            ExitCode::from(1)
        }
    }
}

async fn load(
    state: &crate::AppState,
    tenant: &MunicipalityCode,
    count: u32,
) -> Result<String, String> {
    let today = crate::deadlines::local_date(state, state.clock.now());
    let mut rng = Lcg(u64::from(count) ^ 0x5eed);
    let bar = ProgressBar::new(u64::from(count));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("inscriptions");
    let mut inscribed = Vec::new();
    let base = 10_000_000 + (rng.next(80_000_000) as u32);
    for i in 0..count {
        let (nationality, residence, document) = match rng.next(10) {
            0..=5 => (
                Nationality::Spanish,
                ResidenceStatus::Spanish,
                IdentityDocument::Dni {
                    number: dni(base + i).parse().map_err(|e| format!("{e}"))?,
                },
            ),
            6 => (
                Nationality::EuropeanUnion,
                ResidenceStatus::EuCitizen,
                IdentityDocument::ResidenceCard {
                    number: nie(base + i).parse().map_err(|e| format!("{e}"))?,
                },
            ),
            7 => (
                Nationality::NonEu,
                ResidenceStatus::NonEuPermanent,
                IdentityDocument::ResidenceCard {
                    number: nie(base + i).parse().map_err(|e| format!("{e}"))?,
                },
            ),
            _ => (
                Nationality::NonEu,
                ResidenceStatus::NonEuTemporary,
                IdentityDocument::ResidenceCard {
                    number: nie(base + i).parse().map_err(|e| format!("{e}"))?,
                },
            ),
        };
        let login = document.login_number();
        let name = format!(
            "{} {}",
            GIVEN[rng.next(12) as usize],
            FAMILY[rng.next(12) as usize]
        );
        let street = STREETS[rng.next(8) as usize];
        let number = 1 + rng.next(120);
        let floor = 1 + rng.next(8);
        let dwelling = Dwelling {
            key: format!("{tenant}-{}-{number}-{floor}", street.replace(' ', "")),
            address: format!("{street} {number}, {floor}º"),
        };
        // Inscribed over the last two years: temporary residents' renewals fall due soon.
        let on = today
            .checked_sub_days(Days::new(rng.next(730)))
            .unwrap_or(today);
        let id = crate::person_ids::inscription_id(state, tenant, &login)
            .await
            .map_err(|e| format!("the person stream key: {e:?}"))?;
        let birth = NaiveDate::from_ymd_opt(
            1950 + rng.next(55) as i32,
            1 + rng.next(12) as u32,
            1 + rng.next(28) as u32,
        )
        .unwrap_or(today);
        let command = InscriptionCommand::Inscribe {
            entry: None,
            person: Person {
                name: name.clone(),
                birth_date: birth,
                nationality,
                document,
            },
            residence,
            dwelling,
            declares_nobody_else: false,
            actor: Actor::Themselves,
            on,
            at: state.clock.now(),
        };
        match state
            .log
            .execute::<Inscription>(request(tenant, id), move |_, _| command.clone())
            .await
        {
            Ok(_) => inscribed.push((id, login, name)),
            // Already loaded by an earlier run.
            Err(expedientes_eventlog::CommandError::Refused(_)) => {}
            Err(e) => return Err(e.to_string()),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    // Removal files on every 40th person, at different stages; a general application on every 25th.
    let calendar = crate::deadlines::calendar_for(state, tenant)
        .await
        .map_err(|e| e.to_string())?;
    let mut files = 0;
    let mut applications = 0;
    for (k, (id, login, name)) in inscribed.iter().enumerate() {
        let party = CaseParty {
            document: login.parse().map_err(|e| format!("{e}"))?,
            name: name.clone(),
            role: PartyRole::Interested,
        };
        if k % 40 == 7 {
            let file = Uuid::new_v4();
            let case_number = crate::case_numbers::next(state, tenant, today)
                .await
                .map_err(|e| e.to_string())?;
            let max_time_due = crate::deadlines::months_after(&calendar, tenant, today, 3)
                .map_err(|e| e.to_string())?;
            let target = *id;
            let sia = state.config.sia_code(crate::routes::padron::REMOVAL_FILE);
            let party = party.clone();
            state
                .log
                .run(
                    request(tenant, file),
                    Streams::of::<RemovalFile>(file).and::<Inscription>(target),
                    |decision| -> Result<(), crate::routes::padron::PadronRefusal> {
                        decision.handle::<RemovalFile>(
                            file,
                            FileCommand::Open {
                                entry: None,
                                case_number: case_number.clone(),
                                sia_code: sia.clone(),
                                person: party.clone(),
                                inscription: target,
                                basis: RemovalBasis::ExOfficio {
                                    reason:
                                        "a new inscription declared that nobody else lives there"
                                            .into(),
                                },
                                on: today,
                                max_time_due,
                                max_time_rule: None,
                            },
                        )?;
                        decision.handle::<Inscription>(
                            target,
                            InscriptionCommand::RecordRemovalFileOpened { file, on: today },
                        )?;
                        Ok(())
                    },
                )
                .await
                .map_err(|e| e.to_string())?;
            files += 1;
        }
        if k % 25 == 3 {
            let case_number = crate::case_numbers::next(state, tenant, today)
                .await
                .map_err(|e| e.to_string())?;
            let resolution_due = crate::deadlines::months_after(&calendar, tenant, today, 3)
                .map_err(|e| e.to_string())?;
            let sia = state
                .config
                .sia_code(<GeneralApplication as esrs::Aggregate>::NAME);
            let party = party.clone();
            let now = state.clock.now();
            let entry = crate::registry_entries::enter(
                state,
                tenant,
                expedientes_domain::lpac::SubmissionKind::Application,
                now,
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
            state
                .log
                .execute::<GeneralApplication>(request(tenant, Uuid::new_v4()), move |_, _| {
                    GaCommand::Submit {
                        residence: None,
                        case_number: case_number.clone(),
                        sia_code: sia.clone(),
                        parties: vec![party.clone()],
                        subject: "Solicitud de poda de arbolado en la vía pública".into(),
                        body: String::new(),
                        at: now,
                        entry: entry.clone(),
                        resolution_due,
                        max_time_rule: None,
                        notify_by: expedientes_domain::lpac::notification::Delivery::Electronic,
                    }
                })
                .await
                .map_err(|e| e.to_string())?;
            applications += 1;
        }
    }
    state
        .runner
        .settle(std::time::Duration::from_secs(30))
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "demo data for {tenant}: {} inscriptions, {files} removal files, {applications} general applications",
        inscribed.len()
    ))
}
