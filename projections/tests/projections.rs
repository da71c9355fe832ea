//! Read models against a real PostgreSQL: incremental catch-up, rebuild and lag.

#[path = "projections/padron.rs"]
mod padron;
#[path = "projections/timers.rs"]
mod timers;

use std::sync::Arc;

/// How long tests wait for the watermark (held back by parallel tests' transactions).
const SETTLE: std::time::Duration = std::time::Duration::from_secs(20);

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use expedientes_domain::general_application::{Command, Decision, GeneralApplication};
use expedientes_domain::lpac::{Appeal, Reasons, RegistryEntry, SubmissionKind};
use expedientes_domain::{
    CaseNumber, CaseParty, PartyRole, RegistryDirection, RegistryNumber, VerificationCode,
};
use expedientes_eventlog::{CommandRequest, EventLog, Metadata, MIGRATOR};
use expedientes_projections::{CaseRow, CaseView, ReadModel, RebuildEffects, Registry, Runner};
use expedientes_tests::TestDatabase;
use sqlx::PgPool;
use uuid::Uuid;

fn party(document: &str) -> CaseParty {
    CaseParty {
        document: document.parse().unwrap(),
        name: "Persona".into(),
        role: PartyRole::Interested,
    }
}

fn request(stream_id: Uuid) -> CommandRequest {
    CommandRequest {
        tenant: "28079".parse().unwrap(),
        stream_id,
        expected_version: None,
        metadata: Metadata {
            actor_id: "E1".into(),
            actor_role: "caseworker".into(),
            correlation_id: Uuid::new_v4(),
            command_id: Some(Uuid::new_v4()),
            ..Metadata::default()
        },
        request_hash: None,
    }
}

async fn make_cases(log: &EventLog, from: u64, count: u64) {
    let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let tenant = "28079".parse().unwrap();
    for i in from..from + count {
        let id = Uuid::new_v4();
        log.execute::<GeneralApplication>(request(id), |_, _| Command::Submit {
            residence: None,
            case_number: CaseNumber::new(&tenant, 2026, i + 1).unwrap(),
            sia_code: "123456".parse().unwrap(),
            parties: vec![party(if i % 2 == 0 { "12345678Z" } else { "X1234567L" })],
            subject: format!("Solicitud {i}"),
            body: String::new(),
            at,
            entry: RegistryEntry {
                number: RegistryNumber::new(&tenant, 2026, RegistryDirection::In, i + 1).unwrap(),
                kind: SubmissionKind::Application,
                presented_at: at,
                counts_from: at,
                // One code per file: the sequence's bytes, in base 32.
                verification_code: VerificationCode::from_random(std::array::from_fn(|k| {
                    (i >> (5 * k.min(12))) as u8 & 31
                })),
            },
            resolution_due: NaiveDate::from_ymd_opt(2026, 6, 2).unwrap(),
            max_time_rule: None,
            notify_by: expedientes_domain::lpac::notification::Delivery::Electronic,
        })
        .await
        .unwrap();
        if i % 3 == 0 {
            log.execute::<GeneralApplication>(request(id), |_, _| Command::RequestRectification {
                what: "falta documentación".into(),
                at: at + Duration::days(1),
                notification: Uuid::new_v5(&id, b"request"),
            })
            .await
            .unwrap();
            // Every other request took effect (notified); the rest are still being notified.
            if i % 2 == 1 {
                log.execute::<GeneralApplication>(request(id), |_, _| {
                    Command::RecordRectificationNotified {
                        notification: Uuid::new_v5(&id, b"request"),
                        outcome: expedientes_domain::lpac::notification::Outcome::Accessed,
                        on: NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
                        at: at + Duration::days(1),
                        due: NaiveDate::from_ymd_opt(2026, 3, 17).unwrap(),
                        rule: expedientes_domain::DeadlineRule::new(
                            NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
                            10,
                            expedientes_domain::calendar::Unit::BusinessDays,
                            None,
                        ),
                        resolution_due_if_unanswered: NaiveDate::from_ymd_opt(2026, 6, 16).unwrap(),
                    }
                })
                .await
                .unwrap();
            }
        }
        if i % 5 == 0 {
            log.execute::<GeneralApplication>(request(id), |_, _| Command::Withdraw {
                at: at + Duration::days(2),
            })
            .await
            .unwrap();
        } else if i % 7 == 1 && i % 3 != 0 {
            log.execute::<GeneralApplication>(request(id), |_, _| Command::Resolve {
                decision: Decision::Granted,
                reasons: Reasons::try_from("procede".to_owned()).unwrap(),
                appeals: Appeal::ending_administrative_route("la Alcaldía"),
                at: at + Duration::days(3),
            })
            .await
            .unwrap();
        }
    }
}

async fn rows(pool: &PgPool) -> Vec<CaseRow> {
    sqlx::query_as(
        "SELECT case_id, tenant, procedure, procedure_title, sia_code, case_number, subject, parties,
                party_documents, state, state_description, opened_at, updated_at, closed_at, citizen_action,
                citizen_action_due, resolution_due, next_deadline, citizen_must_act, version, last_position,
                silence, silence_basis, silence_reached_on
         FROM case_view ORDER BY case_id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn setup() -> (EventLog, Runner, PgPool) {
    let db = TestDatabase::create(&MIGRATOR).await;
    let pool = db.pool(8).await;
    let log = EventLog::new(pool.clone());
    let view: Arc<dyn ReadModel> = Arc::new(CaseView::new(
        Registry::new().register::<GeneralApplication>(),
    ));
    let runner = Runner::new(log.clone(), vec![view]).with_batch_size(7);
    (log, runner, pool)
}

#[tokio::test]
async fn a_rebuilt_projection_equals_the_incremental_one() {
    let (log, runner, pool) = setup().await;
    // Built incrementally, in small batches, interleaved with writes.
    for round in 0..4 {
        make_cases(&log, round * 15, 15).await;
        runner.settle(SETTLE).await.unwrap();
    }
    let incremental = rows(&pool).await;
    assert_eq!(incremental.len(), 60);
    let model = runner.model("case_view").unwrap();
    assert_eq!(runner.lag(model.as_ref()).await.unwrap().events_behind, 0);

    let mut seen = 0;
    let applied = runner
        .rebuild(model.as_ref(), RebuildEffects::Refuse, &mut |n| seen = n)
        .await
        .unwrap();
    assert!(applied > 60 && seen == applied);
    let rebuilt = rows(&pool).await;
    assert_eq!(incremental, rebuilt);

    // The live model keeps going after the swap, from where the rebuild stopped.
    make_cases(&log, 60, 3).await;
    assert!(runner.lag(model.as_ref()).await.unwrap().events_behind >= 3);
    runner.settle(SETTLE).await.unwrap();
    assert_eq!(rows(&pool).await.len(), 63);
    // Caught up again, nothing is applied twice.
    assert_eq!(runner.settle(SETTLE).await.unwrap(), 0);
}

#[tokio::test]
async fn the_case_view_reflects_each_file() {
    let (log, runner, pool) = setup().await;
    make_cases(&log, 0, 6).await;
    runner.settle(SETTLE).await.unwrap();
    let all = rows(&pool).await;
    let find = |n: &str| all.iter().find(|r| r.subject == n).unwrap().clone();
    let awaiting = find("Solicitud 3");
    assert_eq!(awaiting.state, "awaiting_rectification");
    assert!(awaiting.citizen_must_act);
    assert_eq!(
        awaiting.citizen_action_due,
        NaiveDate::from_ymd_opt(2026, 3, 17)
    );
    assert_eq!(awaiting.next_deadline, NaiveDate::from_ymd_opt(2026, 3, 17));
    assert_eq!(awaiting.party_documents, vec!["X1234567L".to_string()]);
    assert_eq!(awaiting.version, 3);
    let withdrawn = find("Solicitud 0");
    assert_eq!(withdrawn.state, "withdrawn");
    assert!(withdrawn.closed_at.is_some() && !withdrawn.citizen_must_act);
    assert_eq!(withdrawn.next_deadline, None);
    let granted = find("Solicitud 1");
    assert_eq!(granted.state, "granted");
    let open = find("Solicitud 2");
    assert_eq!(
        (open.state.as_str(), open.next_deadline),
        ("submitted", NaiveDate::from_ymd_opt(2026, 6, 2))
    );
    assert_eq!(open.sia_code, "123456");
}

#[tokio::test]
async fn two_runners_at_once_apply_each_event_once() {
    let (log, runner, pool) = setup().await;
    make_cases(&log, 0, 30).await;
    let other = runner.clone();
    // Wait for the watermark to pass every event (a runner with no model applies nothing).
    Runner::new(log.clone(), Vec::new())
        .settle(SETTLE)
        .await
        .unwrap();
    let (a, b) = tokio::join!(runner.catch_up(), other.catch_up());
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(a.unwrap() + b.unwrap(), total as u64);
    assert_eq!(rows(&pool).await.len(), 30);
}
