//! The procedure registry: every procedure declared once, and read by everything that must know
//! them all. The case view, the deadline timers (and so the scheduler) and the outbox take their
//! procedures from one [`Registry`], so a procedure cannot be plugged into one and forgotten in
//! another.
//!
//! A registration is type-erased here: what each part needs from a procedure's events (case
//! effects, timer effects, notices, follow-ups on other streams) and how to carry out the command
//! a fired timer (or a follow-up) implies.

use std::collections::BTreeMap;
use std::sync::Arc;

use expedientes_domain::calendar::HolidayCalendar;
use expedientes_domain::council_calendar::{self, CouncilCalendar};
use expedientes_domain::lpac::RegistryEntry;
use expedientes_domain::procedure::DomainEvent;
use expedientes_domain::{
    CaseEffect, DeadlineRule, FollowUp, MunicipalityCode, Notice, Procedure, TimerContext,
    TimerEffect,
};
use expedientes_eventlog::{CommandError, CommandRequest, EventLog, Metadata, Until};
use futures::future::BoxFuture;

use crate::timers::{firing_command_id, FireOutcome, FireRequest};

type Decode<T> = Arc<dyn Fn(&serde_json::Value) -> Result<Vec<T>, String> + Send + Sync>;
type DecodeFollowUps =
    Arc<dyn Fn(uuid::Uuid, &serde_json::Value) -> Result<Vec<FollowUp>, String> + Send + Sync>;
type Fire = Arc<dyn Fn(EventLog, FireRequest) -> BoxFuture<'static, FireOutcome> + Send + Sync>;
type Move = Arc<dyn Fn(EventLog, MoveRequest) -> BoxFuture<'static, FireOutcome> + Send + Sync>;

/// A deadline the legal calendar's change moves, as handed to its procedure.
#[derive(Debug, Clone)]
pub struct MoveRequest {
    /// The deadline's timer.
    pub timer_id: uuid::Uuid,
    /// The council.
    pub tenant: MunicipalityCode,
    /// The file.
    pub case_id: uuid::Uuid,
    /// The timer's kind.
    pub kind: String,
    /// Its last day until now.
    pub was: chrono::NaiveDate,
    /// Its last day by the calendar now.
    pub due: chrono::NaiveDate,
    /// How it is counted.
    pub rule: DeadlineRule,
    /// The calendar's version that moved it (with the timer, the command's id: a retry moves it
    /// once).
    pub calendar_version: i32,
    /// The calendar.
    pub calendar: Arc<HolidayCalendar>,
    /// Now.
    pub now: chrono::DateTime<chrono::Utc>,
    /// The council's local day now.
    pub today: chrono::NaiveDate,
}

/// One procedure as the projections see it.
#[derive(Clone)]
pub struct Registered {
    /// Its machine name (the stream type of its files).
    pub name: &'static str,
    /// Its name for people.
    pub title: &'static str,
    pub(crate) case_effects: Decode<CaseEffect>,
    pub(crate) timer_effects: Decode<TimerEffect>,
    pub(crate) notices: Decode<Notice>,
    pub(crate) registry_entries: Decode<RegistryEntry>,
    pub(crate) follow_ups: DecodeFollowUps,
    pub(crate) fire: Fire,
    pub(crate) move_deadline: Move,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("name", &self.name)
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

/// Every procedure of the service.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    procedures: BTreeMap<&'static str, Registered>,
}

fn decoder<P, T>(effects: fn(&P::Event) -> Vec<T>) -> Decode<T>
where
    P: Procedure + 'static,
    P::Event: DomainEvent,
    T: 'static,
{
    Arc::new(move |payload| {
        let event: P::Event = serde_json::from_value(payload.clone()).map_err(|e| e.to_string())?;
        Ok(effects(&event))
    })
}

impl Registry {
    /// A registry with no procedure.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a procedure. Declaring one name twice is a bug, refused at start-up.
    pub fn register<P>(mut self) -> Self
    where
        P: Procedure + 'static,
        P::Event: DomainEvent + Send,
        P::Command: Clone + Send + Sync,
        P::Error: std::error::Error + Send + Sync + 'static,
        P::State: Send + Sync + 'static,
    {
        let fire: Fire = Arc::new(|log: EventLog, request: FireRequest| {
            Box::pin(async move {
                let tenant: MunicipalityCode = match request.tenant.parse() {
                    Ok(t) => t,
                    Err(e) => return FireOutcome::Failed(format!("{e}")),
                };
                // The calendar as it is now: a deadline the command carries is computed with
                // the holidays an administrator has published by the time the timer fires.
                let calendar = match log
                    .load_aggregate::<CouncilCalendar>(
                        tenant.as_str(),
                        council_calendar::stream_id(&tenant),
                        Until::End,
                    )
                    .await
                {
                    Ok(loaded) => loaded.state.calendar(),
                    Err(e) => return FireOutcome::Failed(format!("the calendar: {e}")),
                };
                let context = TimerContext {
                    now: request.now,
                    today: request.today,
                    seat: tenant.as_str(),
                    calendar: &calendar,
                };
                // The command is built from the file as it is: loaded here to tell a kind the
                // procedure does not know, and again inside the command's decision.
                let file = match log
                    .load_aggregate::<P>(tenant.as_str(), request.case_id, Until::End)
                    .await
                {
                    Ok(loaded) => loaded.state,
                    Err(e) => return FireOutcome::Failed(format!("the file: {e}")),
                };
                let Some(first) = P::timer_command(&request.kind, &request.data, &file, &context)
                else {
                    return FireOutcome::Unknown;
                };
                let command_id = firing_command_id(request.timer_id, request.generation);
                let result = log
                    .execute::<P>(
                        CommandRequest {
                            tenant: tenant.clone(),
                            stream_id: request.case_id,
                            expected_version: None,
                            metadata: Metadata {
                                actor_id: "scheduler".into(),
                                actor_role: "system".into(),
                                on_behalf_of: None,
                                channel: Some("scheduler".into()),
                                correlation_id: command_id,
                                causation_id: Some(request.timer_id),
                                command_id: Some(command_id),
                            },
                            request_hash: Some(command_id.as_bytes().to_vec()),
                        },
                        |current, _| {
                            // A file changed in between may no longer give a command: the one
                            // built above is then decided (and refused) on the file as it is.
                            P::timer_command(&request.kind, &request.data, current, &context)
                                .unwrap_or_else(|| first.clone())
                        },
                    )
                    .await;
                match result {
                    Ok(_) => FireOutcome::Accepted,
                    Err(CommandError::Refused(refusal)) => {
                        FireOutcome::Refused(refusal.to_string())
                    }
                    Err(other) => FireOutcome::Failed(other.to_string()),
                }
            })
        });
        let move_deadline: Move = Arc::new(|log: EventLog, request: MoveRequest| {
            Box::pin(async move {
                let context = TimerContext {
                    now: request.now,
                    today: request.today,
                    seat: request.tenant.as_str(),
                    calendar: &request.calendar,
                };
                let command = |context: &TimerContext<'_>| {
                    P::move_deadline(
                        &request.kind,
                        request.was,
                        request.due,
                        request.rule.clone(),
                        context,
                    )
                };
                if command(&context).is_none() {
                    return FireOutcome::Unknown;
                }
                let command_id = uuid::Uuid::new_v5(
                    &request.timer_id,
                    format!("calendar/{}/{}", request.calendar_version, request.was).as_bytes(),
                );
                let result = log
                    .execute::<P>(
                        CommandRequest {
                            tenant: request.tenant.clone(),
                            stream_id: request.case_id,
                            expected_version: None,
                            metadata: Metadata {
                                actor_id: "scheduler".into(),
                                actor_role: "system".into(),
                                on_behalf_of: None,
                                channel: Some("calendar".into()),
                                correlation_id: command_id,
                                causation_id: Some(request.timer_id),
                                command_id: Some(command_id),
                            },
                            request_hash: Some(command_id.as_bytes().to_vec()),
                        },
                        |_, _| command(&context).expect("built above from the same request"),
                    )
                    .await;
                match result {
                    Ok(_) => FireOutcome::Accepted,
                    Err(CommandError::Refused(refusal)) => {
                        FireOutcome::Refused(refusal.to_string())
                    }
                    Err(other) => FireOutcome::Failed(other.to_string()),
                }
            })
        });
        let registered = Registered {
            name: P::NAME,
            title: P::TITLE,
            case_effects: decoder::<P, _>(P::case_effects),
            timer_effects: decoder::<P, _>(P::timer_effects),
            notices: decoder::<P, _>(P::notices),
            registry_entries: decoder::<P, _>(P::registry_entries),
            follow_ups: Arc::new(|stream_id, payload| {
                let event: P::Event =
                    serde_json::from_value(payload.clone()).map_err(|e| e.to_string())?;
                Ok(P::follow_ups(stream_id, &event))
            }),
            fire,
            move_deadline,
        };
        assert!(
            self.procedures.insert(P::NAME, registered).is_none(),
            "procedure {} registered twice",
            P::NAME
        );
        self
    }

    /// A procedure by its machine name.
    pub fn get(&self, name: &str) -> Option<&Registered> {
        self.procedures.get(name)
    }

    /// Every procedure, by name.
    pub fn procedures(&self) -> impl Iterator<Item = &Registered> {
        self.procedures.values()
    }

    /// Every procedure's machine name (the stream types the generic read models read), sorted.
    pub fn names(&self) -> Vec<String> {
        self.procedures.keys().map(|k| (*k).to_owned()).collect()
    }
}
