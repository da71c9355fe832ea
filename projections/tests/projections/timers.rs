//! Deadline timers and the scheduler, proven with a small test aggregate: a countdown that can be
//! suspended, resumed, closed, and expires when its timer fires.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use expedientes_domain::calendar::{HolidayCalendar, Suspension};
use expedientes_domain::procedure::DomainEvent;
use expedientes_domain::{CaseEffect, Procedure, TimerContext, TimerEffect};
use expedientes_eventlog::{CommandRequest, EventLog, Metadata, Until, MIGRATOR};
use expedientes_projections::timers::{firing_command_id, timer_id, MAX_ATTEMPTS};
use expedientes_projections::{ManualClock, ReadModel, Registry, Runner, Scheduler, Timers};
use expedientes_tests::TestDatabase;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug)]
struct Countdown;

#[derive(Debug, Default, Clone)]
struct State {
    due: Option<NaiveDate>,
    suspended: bool,
    closed: bool,
}

#[derive(Debug, Clone)]
enum Command {
    Open { due: NaiveDate },
    Suspend,
    Resume { due: NaiveDate },
    Close,
    Expire { due: NaiveDate },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    Opened { due: NaiveDate },
    Suspended,
    Resumed { due: NaiveDate },
    Closed,
    Expired { due: NaiveDate },
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Event::Opened { .. } => "opened",
            Event::Suspended => "suspended",
            Event::Resumed { .. } => "resumed",
            Event::Closed => "closed",
            Event::Expired { .. } => "expired",
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("closed")]
    Closed,
    #[error("suspended")]
    Suspended,
    #[error("not that period")]
    Stale,
}

impl esrs::Aggregate for Countdown {
    const NAME: &'static str = "countdown";
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Refusal;

    fn handle_command(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
        if state.closed {
            return Err(Refusal::Closed);
        }
        Ok(vec![match command {
            Command::Open { due } => Event::Opened { due },
            Command::Suspend => Event::Suspended,
            Command::Resume { due } => Event::Resumed { due },
            Command::Close => Event::Closed,
            Command::Expire { due } => {
                if state.suspended {
                    return Err(Refusal::Suspended);
                }
                if state.due != Some(due) {
                    return Err(Refusal::Stale);
                }
                Event::Expired { due }
            }
        }])
    }

    fn apply_event(mut state: State, event: Event) -> State {
        match event {
            Event::Opened { due } | Event::Resumed { due } => {
                state.due = Some(due);
                state.suspended = false;
            }
            Event::Suspended => state.suspended = true,
            Event::Closed | Event::Expired { .. } => state.closed = true,
        }
        state
    }
}

impl Procedure for Countdown {
    const TITLE: &'static str = "Countdown (test)";

    fn case_effects(_: &Event) -> Vec<CaseEffect> {
        Vec::new()
    }

    fn timer_effects(event: &Event) -> Vec<TimerEffect> {
        let kind = "countdown".to_owned();
        match event {
            Event::Opened { due } | Event::Resumed { due } => vec![TimerEffect::Set {
                kind,
                fires_on: due.succ_opt().unwrap(),
                data: serde_json::json!({ "due": due }),
            }],
            Event::Suspended => vec![TimerEffect::Suspend { kind }],
            Event::Closed | Event::Expired { .. } => vec![TimerEffect::Cancel { kind }],
        }
    }

    fn timer_command(
        kind: &str,
        data: &serde_json::Value,
        _state: &Self::State,
        _context: &TimerContext<'_>,
    ) -> Option<Command> {
        (kind == "countdown").then(|| Command::Expire {
            due: serde_json::from_value(data["due"].clone()).unwrap(),
        })
    }
}

struct World {
    log: EventLog,
    pool: PgPool,
    runner: Runner,
    timers: Arc<Timers>,
    clock: ManualClock,
}

impl World {
    async fn new() -> Self {
        let db = TestDatabase::create(&MIGRATOR).await;
        let pool = db.pool(16).await;
        let log = EventLog::new(pool.clone());
        let timers = Arc::new(Timers::new(
            Registry::new().register::<Countdown>(),
            chrono_tz::Europe::Madrid,
        ));
        let models: Vec<Arc<dyn ReadModel>> = vec![timers.clone()];
        let runner = Runner::new(log.clone(), models);
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap());
        Self {
            log,
            pool,
            runner,
            timers,
            clock,
        }
    }

    fn scheduler(&self) -> Scheduler {
        Scheduler::new(
            self.log.clone(),
            self.timers.clone(),
            Arc::new(self.clock.clone()),
        )
        .with_batch_size(7)
    }

    async fn send(&self, case: Uuid, command: Command) {
        self.log
            .execute::<Countdown>(
                CommandRequest {
                    tenant: "28079".parse().unwrap(),
                    stream_id: case,
                    expected_version: None,
                    metadata: Metadata {
                        actor_id: "E1".into(),
                        actor_role: "caseworker".into(),
                        correlation_id: Uuid::new_v4(),
                        ..Metadata::default()
                    },
                    request_hash: None,
                },
                move |_, _| command.clone(),
            )
            .await
            .unwrap();
    }

    async fn expirations(&self, case: Uuid) -> usize {
        self.log
            .load_stream("28079", case, Until::End)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.event_type == "expired")
            .count()
    }

    async fn timer_state(&self, case: Uuid) -> String {
        sqlx::query_scalar("SELECT state FROM deadline_timers WHERE timer_id = $1")
            .bind(timer_id(case, "countdown"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    fn at_start_of(&self, day: NaiveDate) {
        // 00:00 in Madrid (UTC+1 in winter).
        self.clock
            .set(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap()) - Duration::hours(1));
    }
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_schedulers_at_once_fire_each_due_timer_once() {
    let world = World::new().await;
    let cases: Vec<Uuid> = (0..120).map(|_| Uuid::new_v4()).collect();
    for case in &cases {
        world.send(*case, Command::Open { due: day(3, 10) }).await;
    }
    world.runner.settle(super::SETTLE).await.unwrap();
    world.at_start_of(day(3, 10));
    assert_eq!(
        world.scheduler().run_once().await.unwrap().handled(),
        0,
        "not due on its last day"
    );
    world.at_start_of(day(3, 11));
    let (first, second) = (world.scheduler(), world.scheduler());
    let (a, b) = tokio::join!(first.run_once(), second.run_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.fired + b.fired, 120);
    assert_eq!(
        a.closed + b.closed + a.failed + b.failed + a.retried + b.retried,
        0
    );
    for case in &cases {
        assert_eq!(world.expirations(*case).await, 1);
        assert_eq!(world.timer_state(*case).await, "fired");
    }
    // The expirations cancel nothing further and fire nothing again.
    world.runner.settle(super::SETTLE).await.unwrap();
    assert_eq!(world.scheduler().run_once().await.unwrap().handled(), 0);
    assert_eq!(world.scheduler().stats().await.unwrap().fired, 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_killed_midway_loses_no_timer_and_fires_none_twice() {
    let world = World::new().await;
    let cases: Vec<Uuid> = (0..60).map(|_| Uuid::new_v4()).collect();
    for case in &cases {
        world.send(*case, Command::Open { due: day(3, 10) }).await;
    }
    world.runner.settle(super::SETTLE).await.unwrap();
    world.at_start_of(day(3, 11));

    // The exact crash window: a timer's command was appended, but the scheduler died before
    // recording it. The next scheduler must not append it again.
    let crashed = cases[0];
    let command_id = firing_command_id(timer_id(crashed, "countdown"), 1);
    world
        .log
        .execute::<Countdown>(
            CommandRequest {
                tenant: "28079".parse().unwrap(),
                stream_id: crashed,
                expected_version: None,
                metadata: Metadata {
                    actor_id: "scheduler".into(),
                    actor_role: "system".into(),
                    command_id: Some(command_id),
                    correlation_id: command_id,
                    ..Metadata::default()
                },
                request_hash: Some(command_id.as_bytes().to_vec()),
            },
            |_, _| Command::Expire { due: day(3, 10) },
        )
        .await
        .unwrap();

    // Then schedulers killed at arbitrary points, again and again, until everything is done.
    let mut kills = 0;
    for round in 0..200u64 {
        let scheduler = world.scheduler();
        let task = tokio::spawn(async move { scheduler.run_once().await });
        tokio::time::sleep(std::time::Duration::from_millis(1 + round % 7)).await;
        if !task.is_finished() {
            kills += 1;
        }
        task.abort();
        let _ = task.await;
        if world.scheduler().stats().await.unwrap().due == 0 {
            break;
        }
        // Let killed schedulers' claims expire now and then, so that the next ones take over.
        if round % 10 == 9 {
            world.clock.advance(Duration::seconds(61));
        }
    }
    // Claims of killed schedulers expire; then the timers they held fire, once.
    world.clock.advance(Duration::seconds(61));
    world.scheduler().run_once().await.unwrap();
    assert!(kills > 0, "the test must actually kill schedulers mid-way");
    for case in &cases {
        assert_eq!(world.expirations(*case).await, 1, "case {case}");
        assert_eq!(world.timer_state(*case).await, "fired");
    }
}

#[tokio::test]
async fn a_deadline_whose_case_closed_before_it_fell_due_fires_nothing() {
    let world = World::new().await;
    let case = Uuid::new_v4();
    world.send(case, Command::Open { due: day(3, 10) }).await;
    world.send(case, Command::Close).await;
    world.runner.settle(super::SETTLE).await.unwrap();
    assert_eq!(world.timer_state(case).await, "closed");
    world.at_start_of(day(4, 1));
    assert_eq!(world.scheduler().run_once().await.unwrap().handled(), 0);
    assert_eq!(world.expirations(case).await, 0);
}

#[tokio::test]
async fn a_command_refused_because_the_case_moved_on_closes_the_timer() {
    let world = World::new().await;
    let case = Uuid::new_v4();
    world.send(case, Command::Open { due: day(3, 10) }).await;
    world.runner.settle(super::SETTLE).await.unwrap();
    // Closed, but the timers model has not seen it yet.
    world.send(case, Command::Close).await;
    world.at_start_of(day(3, 11));
    let pass = world.scheduler().run_once().await.unwrap();
    assert_eq!((pass.fired, pass.closed), (0, 1));
    assert_eq!(world.timer_state(case).await, "closed");
    assert_eq!(world.expirations(case).await, 0);
}

#[tokio::test]
async fn a_suspended_deadline_fires_at_its_moved_date() {
    let world = World::new().await;
    let calendar = HolidayCalendar::bundled();
    let case = Uuid::new_v4();
    let due = day(3, 20);
    world.send(case, Command::Open { due }).await;
    world.send(case, Command::Suspend).await;
    world.runner.settle(super::SETTLE).await.unwrap();
    assert_eq!(world.timer_state(case).await, "suspended");
    // Suspended from 16 March to 25 March (art. 22): the due date moves by the business days lost.
    let suspension = Suspension::new(day(3, 16), day(3, 25)).unwrap();
    let moved = calendar
        .apply_suspension(due, &suspension, Some("28079"), None)
        .unwrap()
        .due_date;
    assert!(moved > due);
    world.at_start_of(due.succ_opt().unwrap());
    assert_eq!(
        world.scheduler().run_once().await.unwrap().handled(),
        0,
        "suspended: nothing fires"
    );
    world.send(case, Command::Resume { due: moved }).await;
    world.runner.settle(super::SETTLE).await.unwrap();
    world.at_start_of(moved);
    assert_eq!(
        world.scheduler().run_once().await.unwrap().handled(),
        0,
        "not before its moved last day ends"
    );
    world.at_start_of(moved.succ_opt().unwrap());
    assert_eq!(world.scheduler().run_once().await.unwrap().fired, 1);
    let events = world
        .log
        .load_stream("28079", case, Until::End)
        .await
        .unwrap();
    assert_eq!(
        events.last().unwrap().payload["due"],
        serde_json::json!(moved)
    );
}

#[tokio::test]
async fn a_failing_timer_is_retried_with_backoff_then_given_up() {
    let world = World::new().await;
    // A timer whose command cannot be sent (its tenant is not an INE code).
    let timer = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO deadline_timers (timer_id, tenant, case_id, stream_type, kind, fires_at, data, state)
         VALUES ($1, '99999', $2, 'countdown', 'countdown', $3, '{\"due\": \"2026-03-01\"}', 'pending')",
    )
    .bind(timer)
    .bind(Uuid::new_v4())
    .bind(world.clock.now_for_test())
    .execute(&world.pool)
    .await
    .unwrap();
    let scheduler = world.scheduler();
    let pass = scheduler.run_once().await.unwrap();
    assert_eq!(pass.retried, 1);
    assert_eq!(
        scheduler.run_once().await.unwrap().handled(),
        0,
        "waits for its backoff"
    );
    for _ in 1..MAX_ATTEMPTS {
        world.clock.advance(Duration::hours(2));
        scheduler.run_once().await.unwrap();
    }
    let (state, attempts): (String, i32) =
        sqlx::query_as("SELECT state, attempts FROM deadline_timers WHERE timer_id = $1")
            .bind(timer)
            .fetch_one(&world.pool)
            .await
            .unwrap();
    assert_eq!((state.as_str(), attempts), ("failed", MAX_ATTEMPTS));
    assert_eq!(scheduler.stats().await.unwrap().failed, 1);
}

trait NowForTest {
    fn now_for_test(&self) -> DateTime<Utc>;
}

impl NowForTest for ManualClock {
    fn now_for_test(&self) -> DateTime<Utc> {
        expedientes_projections::Clock::now(self)
    }
}
