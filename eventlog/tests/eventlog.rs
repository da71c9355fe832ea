//! The event log against a real PostgreSQL: one private database per test.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use expedientes_eventlog::{
    AppendError, AppendRequest, Cursor, EventLog, Metadata, NewEvent, StreamAppend, Until, MIGRATOR,
};
use expedientes_tests::TestDatabase;
use serde_json::json;
use sqlx::{Executor, PgPool};
use uuid::Uuid;

async fn log() -> (EventLog, PgPool) {
    let db = TestDatabase::create(&MIGRATOR).await;
    let pool = db.pool(24).await;
    (EventLog::new(pool.clone()), pool)
}

/// Waits until `count` events are below the watermark. The watermark is cluster-wide: a transaction
/// of a test running in parallel (in another database) holds it back for a moment.
async fn wait_visible(log: &EventLog, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while log
        .read_after(Cursor::START, 100_000, None, None)
        .await
        .unwrap()
        .len()
        < count
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn metadata(command_id: Option<Uuid>) -> Metadata {
    Metadata {
        actor_id: "E0001".into(),
        actor_role: "caseworker".into(),
        on_behalf_of: None,
        channel: Some("test".into()),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        command_id,
    }
}

fn event(n: usize) -> NewEvent {
    NewEvent {
        event_type: "something_happened".into(),
        schema_version: 1,
        payload: json!({ "n": n, "text": "x".repeat(200) }),
    }
}

fn request(
    stream_id: Uuid,
    expected_version: i32,
    events: Vec<NewEvent>,
    command_id: Option<Uuid>,
) -> AppendRequest {
    AppendRequest {
        tenant: "28079".parse().unwrap(),
        metadata: metadata(command_id),
        request_hash: command_id.map(|c| c.as_bytes().to_vec()),
        streams: vec![StreamAppend {
            stream_type: "test_case".into(),
            stream_id,
            expected_version,
            events,
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tailing_reader_sees_every_event_once_under_16_concurrent_writers() {
    // Without grouping, so that 16 transactions really race; then with it.
    let (grouped, pool) = log().await;
    tail_while_16_write(&EventLog::without_batching(pool)).await;
    tail_while_16_write(&grouped).await;
}

async fn tail_while_16_write(log: &EventLog) {
    let log = log.clone();
    // The reader starts from the beginning: it also reads what earlier calls wrote.
    let already: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(log.pool())
        .await
        .unwrap();
    let mut written_so_far = already as usize;
    for round in 0..4 {
        let done = Arc::new(AtomicBool::new(false));
        let expected = Arc::new(AtomicUsize::new(0));
        let reader = {
            let log = log.clone();
            let done = done.clone();
            let expected = expected.clone();
            tokio::spawn(async move {
                let mut cursor = Cursor::START;
                let mut seen = Vec::new();
                let mut deadline = None;
                loop {
                    let batch = log.read_after(cursor, 97, None, None).await.unwrap();
                    for e in &batch {
                        assert!(e.cursor() > cursor, "reading order goes forward");
                        cursor = e.cursor();
                        seen.push((e.position, e.stream_id, e.version));
                    }
                    if batch.is_empty() {
                        if done.load(Ordering::SeqCst) {
                            // Every writer has finished. An empty read is not proof of having read
                            // everything (a transaction of anyone's, even autovacuum's, may hold the
                            // watermark back for a moment): read on until every committed event is
                            // seen. A skipped event is never seen, whatever the wait.
                            if seen.len() >= expected.load(Ordering::SeqCst) {
                                break;
                            }
                            let limit = *deadline
                                .get_or_insert_with(|| Instant::now() + Duration::from_secs(20));
                            if Instant::now() > limit {
                                break;
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                seen
            })
        };
        let mut writers = Vec::new();
        for w in 0..16 {
            let log = log.clone();
            writers.push(tokio::spawn(async move {
                let streams: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
                let mut versions = vec![0; streams.len()];
                let mut written = Vec::new();
                for i in 0..40 {
                    let s = (i + w) % streams.len();
                    let count = 1 + i % 3;
                    let events = (0..count).map(event).collect();
                    let appended = log
                        .append(request(
                            streams[s],
                            versions[s],
                            events,
                            Some(Uuid::new_v4()),
                        ))
                        .await
                        .unwrap();
                    versions[s] += count as i32;
                    written.extend(
                        appended
                            .events
                            .iter()
                            .map(|e| (e.position, e.stream_id, e.version)),
                    );
                }
                written
            }));
        }
        let mut written = HashSet::new();
        for w in writers {
            written.extend(w.await.unwrap());
        }
        written_so_far += written.len();
        // The reader starts from the beginning of the log: it must see every round's events.
        expected.store(written_so_far, Ordering::SeqCst);
        done.store(true, Ordering::SeqCst);
        let seen = reader.await.unwrap();
        let unique: HashSet<_> = seen.iter().copied().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "round {round}: an event was read twice"
        );
        let missing: Vec<_> = written.difference(&unique).collect();
        assert!(
            missing.is_empty(),
            "round {round}: the reader skipped {missing:?}"
        );
        // Every stream is seen in version order.
        let mut last: HashMap<Uuid, i32> = HashMap::new();
        for (_, stream, version) in &seen {
            let previous = last.insert(*stream, *version).unwrap_or(0);
            assert_eq!(
                *version,
                previous + 1,
                "round {round}: stream {stream} read out of order"
            );
        }
    }
    let report = log.verify().await.unwrap();
    assert!(report.ok, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_with_the_same_expected_version_one_wins_nothing_half_written() {
    let (log, pool) = log().await;
    for _ in 0..20 {
        let stream = Uuid::new_v4();
        log.append(request(stream, 0, vec![event(0)], None))
            .await
            .unwrap();
        let a = log.append(request(stream, 1, vec![event(1), event(2), event(3)], None));
        let b = log.append(request(stream, 1, vec![event(4), event(5)], None));
        let (a, b) = tokio::join!(a, b);
        let (winner, loser) = match (a, b) {
            (Ok(w), Err(l)) => (w, l),
            (Err(l), Ok(w)) => (w, l),
            other => panic!("exactly one writer must win: {other:?}"),
        };
        assert!(
            matches!(loser, AppendError::Conflict { stream_id, expected_version: 1 } if stream_id == stream),
            "{loser:?}"
        );
        let stored = log.load_stream("28079", stream, Until::End).await.unwrap();
        assert_eq!(
            stored.len(),
            1 + winner.events.len(),
            "only the winner's events are stored"
        );
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_id = $1")
            .bind(stream)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(count as usize, stored.len());
    }
}

#[tokio::test]
async fn stale_and_future_expected_versions_conflict() {
    let (log, _) = log().await;
    let stream = Uuid::new_v4();
    log.append(request(stream, 0, vec![event(0), event(1)], None))
        .await
        .unwrap();
    for expected in [0, 1, 3, 7] {
        let err = log
            .append(request(stream, expected, vec![event(9)], None))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppendError::Conflict { .. }),
            "expected {expected}: {err:?}"
        );
    }
    let ok = log
        .append(request(stream, 2, vec![event(2)], None))
        .await
        .unwrap();
    assert_eq!(ok.version_of(stream), Some(3));
}

#[tokio::test]
async fn a_stream_cannot_change_tenant_or_type() {
    let (log, _) = log().await;
    let stream = Uuid::new_v4();
    log.append(request(stream, 0, vec![event(0)], None))
        .await
        .unwrap();
    let mut other_tenant = request(stream, 1, vec![event(1)], None);
    other_tenant.tenant = "28074".parse().unwrap();
    assert!(matches!(
        log.append(other_tenant).await.unwrap_err(),
        AppendError::WrongStream { .. }
    ));
    let mut other_type = request(stream, 1, vec![event(1)], None);
    other_type.streams[0].stream_type = "another".into();
    assert!(matches!(
        log.append(other_type).await.unwrap_err(),
        AppendError::WrongStream { .. }
    ));
}

#[tokio::test]
async fn the_same_command_id_appends_once_and_returns_the_same_result() {
    let (log, pool) = log().await;
    let stream = Uuid::new_v4();
    let command = Uuid::new_v4();
    let first = log
        .append(request(stream, 0, vec![event(0), event(1)], Some(command)))
        .await
        .unwrap();
    assert!(!first.replayed);
    let second = log
        .append(request(stream, 0, vec![event(0), event(1)], Some(command)))
        .await
        .unwrap();
    assert!(second.replayed);
    assert_eq!(first.events, second.events);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 2);

    // Reused for another request: refused, nothing written.
    let mut other = request(stream, 2, vec![event(5)], Some(command));
    other.request_hash = Some(vec![1, 2, 3]);
    assert!(matches!(
        log.append(other).await.unwrap_err(),
        AppendError::CommandIdReused { .. }
    ));

    // Sent concurrently: still once.
    let stream = Uuid::new_v4();
    let command = Uuid::new_v4();
    let results = futures::future::join_all(
        (0..8).map(|_| log.append(request(stream, 0, vec![event(0)], Some(command)))),
    )
    .await;
    let results: Vec<_> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|r| !r.replayed).count(), 1);
    assert!(results.iter().all(|r| r.events == results[0].events));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_grouped_into_one_commit_keep_their_own_outcomes() {
    let (log, pool) = log().await;
    for _ in 0..10 {
        let shared = Uuid::new_v4();
        log.append(request(shared, 0, vec![event(0)], None))
            .await
            .unwrap();
        let reused = Uuid::new_v4();
        let first = log
            .append(request(Uuid::new_v4(), 0, vec![event(0)], Some(reused)))
            .await
            .unwrap();
        // 24 independent appends, 4 racing on one stream, 4 retries of one command: sent at once.
        let mut requests = Vec::new();
        for _ in 0..24 {
            requests.push(request(
                Uuid::new_v4(),
                0,
                vec![event(1), event(2)],
                Some(Uuid::new_v4()),
            ));
        }
        for _ in 0..4 {
            requests.push(request(shared, 1, vec![event(3)], None));
        }
        for _ in 0..4 {
            requests.push(request(
                first.events[0].stream_id,
                0,
                vec![event(0)],
                Some(reused),
            ));
        }
        let results = futures::future::join_all(requests.into_iter().map(|r| log.append(r))).await;
        let independent = &results[..24];
        assert!(independent
            .iter()
            .all(|r| matches!(r, Ok(a) if !a.replayed && a.events.len() == 2)));
        let racing = &results[24..28];
        assert_eq!(racing.iter().filter(|r| r.is_ok()).count(), 1, "{racing:?}");
        assert!(racing
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, AppendError::Conflict { .. })));
        for retry in &results[28..] {
            let retry = retry.as_ref().unwrap();
            assert!(retry.replayed);
            assert_eq!(retry.events, first.events);
        }
        assert_eq!(
            log.load_stream("28079", shared, Until::End)
                .await
                .unwrap()
                .len(),
            2
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 10 * (1 + 1 + 48 + 1));
    assert!(log.verify().await.unwrap().ok);
}

#[tokio::test]
async fn appending_to_two_streams_is_atomic() {
    let (log, _) = log().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    log.append(request(b, 0, vec![event(0)], None))
        .await
        .unwrap();
    let mut both = request(a, 0, vec![event(1)], None);
    both.streams.push(StreamAppend {
        stream_type: "test_case".into(),
        stream_id: b,
        expected_version: 0, // stale: b is at 1
        events: vec![event(2)],
    });
    let err = log.append(both.clone()).await.unwrap_err();
    assert!(
        matches!(err, AppendError::Conflict { stream_id, .. } if stream_id == b),
        "{err:?}"
    );
    assert!(log
        .load_stream("28079", a, Until::End)
        .await
        .unwrap()
        .is_empty());
    both.streams[1].expected_version = 1;
    let ok = log.append(both).await.unwrap();
    assert_eq!((ok.version_of(a), ok.version_of(b)), (Some(1), Some(2)));
}

#[tokio::test]
async fn metadata_and_database_time_are_recorded() {
    let (log, _) = log().await;
    let stream = Uuid::new_v4();
    let command = Uuid::new_v4();
    let mut req = request(stream, 0, vec![event(0)], Some(command));
    req.metadata.on_behalf_of = Some("12345678Z".into());
    req.metadata.causation_id = Some(Uuid::new_v4());
    log.append(req.clone()).await.unwrap();
    let stored = log.load_stream("28079", stream, Until::End).await.unwrap();
    let m: Metadata = serde_json::from_value(stored[0].metadata.clone()).unwrap();
    assert_eq!(m, req.metadata);
    let age = chrono::Utc::now() - stored[0].recorded_at;
    assert!(age.num_seconds().abs() < 60);
    // The stream can be loaded as it was at a version or a moment.
    log.append(request(stream, 1, vec![event(1)], None))
        .await
        .unwrap();
    assert_eq!(
        log.load_stream("28079", stream, Until::Version(1))
            .await
            .unwrap()
            .len(),
        1
    );
    let before = log
        .load_stream(
            "28079",
            stream,
            Until::Time(stored[0].recorded_at - chrono::Duration::seconds(1)),
        )
        .await
        .unwrap();
    assert!(before.is_empty());
    // Another tenant sees nothing of it.
    assert!(log
        .load_stream("28074", stream, Until::End)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn update_delete_and_truncate_fail_even_for_the_owner() {
    let (log, pool) = log().await;
    let stream = Uuid::new_v4();
    log.append(request(stream, 0, vec![event(0)], Some(Uuid::new_v4())))
        .await
        .unwrap();
    wait_visible(&log, 1).await;
    log.seal(1000).await.unwrap().unwrap();
    for table in ["events", "seals"] {
        for statement in [
            format!("UPDATE {table} SET recorded_at = now()"),
            format!("DELETE FROM {table}"),
            format!("DELETE FROM {table} WHERE false"),
            format!("TRUNCATE {table}"),
        ] {
            let statement = statement.replace("seals SET recorded_at", "seals SET sealed_at");
            let err = pool.execute(statement.as_str()).await.unwrap_err();
            let code = err.as_database_error().and_then(|e| e.code()).unwrap();
            assert_eq!(code, "EL000", "{statement}: {err}");
        }
    }
    // The runtime role cannot even try: no privilege.
    let mut conn = pool.acquire().await.unwrap();
    conn.execute("SET ROLE expedientes_runtime").await.unwrap();
    let err = conn
        .execute("UPDATE events SET payload = '{}'")
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).unwrap(),
        "42501"
    );
    let err = conn.execute("DROP TABLE events").await.unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).unwrap(),
        "42501"
    );
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn verify_names_an_event_altered_with_the_triggers_disabled() {
    let (log, pool) = log().await;
    let mut positions = Vec::new();
    for _ in 0..5 {
        let appended = log
            .append(request(
                Uuid::new_v4(),
                0,
                vec![event(0), event(1), event(2)],
                None,
            ))
            .await
            .unwrap();
        positions.extend(appended.events.iter().map(|e| e.position));
    }
    wait_visible(&log, 15).await;
    log.seal(1000).await.unwrap();
    assert!(log.verify().await.unwrap().ok);
    let target = positions[7];
    pool.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        .await
        .unwrap();
    sqlx::query("UPDATE events SET payload = jsonb_set(payload, '{n}', '99') WHERE position = $1")
        .bind(target)
        .execute(&pool)
        .await
        .unwrap();
    pool.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
        .await
        .unwrap();
    let report = log.verify().await.unwrap();
    assert!(!report.ok);
    let first = report.first_failure.unwrap();
    assert_eq!(first.position, Some(target), "{first:?}");
    assert!(first.reason.contains("altered"), "{first:?}");
}

#[tokio::test]
async fn verify_reports_a_removed_event_through_the_chain_or_the_seal() {
    let (log, pool) = log().await;
    let stream = Uuid::new_v4();
    let appended = log
        .append(request(stream, 0, vec![event(0), event(1), event(2)], None))
        .await
        .unwrap();
    wait_visible(&log, 3).await;
    log.seal(1000).await.unwrap().unwrap();
    pool.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        .await
        .unwrap();
    // The middle event: the next one's chain breaks.
    sqlx::query("DELETE FROM events WHERE position = $1")
        .bind(appended.events[1].position)
        .execute(&pool)
        .await
        .unwrap();
    let report = log.verify().await.unwrap();
    assert_eq!(
        report.first_failure.unwrap().position,
        Some(appended.events[2].position)
    );
    // The last event: only the seal shows it.
    sqlx::query("DELETE FROM events WHERE position = $1")
        .bind(appended.events[2].position)
        .execute(&pool)
        .await
        .unwrap();
    let report = log.verify().await.unwrap();
    assert!(!report.ok);
    let first = report.first_failure.unwrap();
    assert_eq!(first.seal_id, Some(1), "{first:?}");
}

#[tokio::test]
async fn seals_chain_and_cover_everything_once() {
    let (log, _) = log().await;
    for _ in 0..10 {
        log.append(request(Uuid::new_v4(), 0, vec![event(0)], None))
            .await
            .unwrap();
    }
    wait_visible(&log, 10).await;
    let first = log.seal(4).await.unwrap().unwrap();
    let second = log.seal(100).await.unwrap().unwrap();
    assert_eq!(first.event_count + second.event_count, 10);
    assert_eq!(second.from, first.to);
    assert!(
        log.seal(100).await.unwrap().is_none(),
        "nothing new to seal"
    );
    let report = log.verify().await.unwrap();
    assert!(
        report.ok && report.seals_checked == 2 && report.events_checked == 10,
        "{report:?}"
    );
    assert_eq!(
        report.latest_seal_digest.as_deref(),
        Some(second.digest.as_str())
    );
}

mod padron_blocking {
    //! The padrón's blocking rule under concurrency: opening a removal file changes the file and
    //! the person's inscription in one append, so a renewal sent at the same moment either lands
    //! before the opening or is refused, in every history.

    use super::*;
    use chrono::NaiveDate;
    use expedientes_domain::padron::FileRefusal;
    use expedientes_domain::padron::{
        Actor, Dwelling, FileCommand, Inscription, InscriptionCommand, InscriptionRefusal, Person,
        RemovalBasis, RemovalFile, ResidenceStatus,
    };
    use expedientes_domain::user_account::{IdentityDocument, Nationality};
    use expedientes_eventlog::{CommandError, CommandRequest, Streams};

    /// A refusal by either aggregate of a two-stream command.
    #[derive(Debug, thiserror::Error)]
    enum Refusal {
        #[error(transparent)]
        File(#[from] FileRefusal),
        #[error(transparent)]
        Inscription(#[from] InscriptionRefusal),
    }

    /// Opens a removal file and marks the inscription, in one command.
    fn open_file(
        log: &expedientes_eventlog::EventLog,
        file: Uuid,
        inscription: Uuid,
        marked: Uuid,
    ) -> impl std::future::Future<
        Output = Result<expedientes_eventlog::CommandOutcome, CommandError<Refusal>>,
    > + '_ {
        log.run(
            request(file),
            Streams::of::<RemovalFile>(file).and::<Inscription>(inscription),
            move |decision| {
                decision.handle::<RemovalFile>(
                    file,
                    FileCommand::Open {
                        entry: None,
                        case_number: "28079/2026/000001".parse().unwrap(),
                        sia_code: "999999".parse().unwrap(),
                        person: party(),
                        inscription,
                        basis: RemovalBasis::ExOfficio {
                            reason: "nobody else lives there".into(),
                        },
                        on: d(3, 2),
                        max_time_due: d(6, 2),
                        max_time_rule: None,
                    },
                )?;
                decision.handle::<Inscription>(
                    inscription,
                    InscriptionCommand::RecordRemovalFileOpened {
                        file: marked,
                        on: d(3, 2),
                    },
                )?;
                Ok(())
            },
        )
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn request(stream_id: Uuid) -> CommandRequest {
        CommandRequest {
            tenant: "28079".parse().unwrap(),
            stream_id,
            expected_version: None,
            metadata: metadata(Some(Uuid::new_v4())),
            request_hash: None,
        }
    }

    pub(super) fn card() -> IdentityDocument {
        IdentityDocument::ResidenceCard {
            number: "X1234567L".parse().unwrap(),
        }
    }

    pub(super) fn party() -> expedientes_domain::CaseParty {
        expedientes_domain::CaseParty {
            document: "X1234567L".parse().unwrap(),
            name: "Bilal Haddad".into(),
            role: expedientes_domain::PartyRole::Interested,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_renewal_is_recorded_while_a_removal_file_is_open() {
        let (log, _) = log().await;
        let mut renewals_before = 0;
        let mut renewals_refused = 0;
        for _ in 0..40 {
            let inscription = Uuid::new_v4();
            log.execute::<Inscription>(request(inscription), |_, _| InscriptionCommand::Inscribe {
                entry: None,
                person: Person {
                    name: "Bilal Haddad".into(),
                    birth_date: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
                    nationality: Nationality::NonEu,
                    document: card(),
                },
                residence: ResidenceStatus::NonEuTemporary,
                dwelling: Dwelling {
                    key: "9872023VK4797S0001WX".into(),
                    address: "Calle de Toledo 10".into(),
                },
                declares_nobody_else: false,
                actor: Actor::Themselves,
                on: d(1, 10),
                at: chrono::Utc::now(),
            })
            .await
            .unwrap();
            let file = Uuid::new_v4();
            let open = open_file(&log, file, inscription, file);
            let renew = log.execute::<Inscription>(request(inscription), |_, _| {
                InscriptionCommand::Renew {
                    entry: None,
                    document: card(),
                    actor: Actor::Themselves,
                    on: d(3, 2),
                }
            });
            let (opened, renewed) = tokio::join!(open, renew);
            opened.unwrap();
            match renewed {
                Ok(_) => renewals_before += 1,
                Err(CommandError::Refused(InscriptionRefusal::BlockedByRemovalFile)) => {
                    renewals_refused += 1
                }
                Err(other) => panic!("unexpected: {other:?}"),
            }
            // In the history, no renewal follows the opening.
            let history = log
                .load_stream("28079", inscription, Until::End)
                .await
                .unwrap();
            let opened_at = history
                .iter()
                .position(|e| e.event_type == "removal_file_opened")
                .expect("the opening is recorded on the inscription");
            assert!(
                history[opened_at..]
                    .iter()
                    .all(|e| e.event_type != "renewed"),
                "a renewal was recorded while the file was open: {:?}",
                history.iter().map(|e| &e.event_type).collect::<Vec<_>>()
            );
            // And the file's opening and the inscription's mark are one atomic append.
            let file_events = log.load_stream("28079", file, Until::End).await.unwrap();
            assert_eq!(file_events.len(), 1);
            assert_eq!(
                file_events[0].transaction_id,
                history[opened_at].transaction_id
            );
            // A second renewal now is refused.
            let again = log
                .execute::<Inscription>(request(inscription), |_, _| InscriptionCommand::Renew {
                    entry: None,
                    document: card(),
                    actor: Actor::Themselves,
                    on: d(3, 3),
                })
                .await;
            assert!(matches!(
                again,
                Err(CommandError::Refused(
                    InscriptionRefusal::BlockedByRemovalFile
                ))
            ));
        }
        assert_eq!(renewals_before + renewals_refused, 40);
        eprintln!("renewals before the opening: {renewals_before}, refused: {renewals_refused}");
        // A refused half refuses the whole: opening a second file while one is open appends nothing.
        let inscription = Uuid::new_v4();
        let refused = open_file(&log, Uuid::new_v4(), inscription, Uuid::new_v4()).await;
        assert!(matches!(
            refused,
            Err(CommandError::Refused(Refusal::Inscription(
                InscriptionRefusal::NotInscribed
            )))
        ));
    }
}

mod command_path {
    //! The one decide→append path (`EventLog::run`) on commands that change two streams of the
    //! padrón at once (a removal file and the person's inscription): `If-Match` pins the primary
    //! stream only, a conflicting change on the second stream makes the whole command be decided
    //! again, a command id answers its first outcome whatever streams it changed, and a refusal by
    //! any aggregate refuses the whole command.

    use super::padron_blocking::{card, party};
    use super::*;
    use chrono::NaiveDate;
    use expedientes_domain::lpac::notification::ActKind;
    use expedientes_domain::padron::{
        renewal_due, Actor, Dwelling, FileCommand, FileRefusal, Inscription, InscriptionCommand,
        InscriptionRefusal, NotificationOutcome, Person, RemovalBasis, RemovalFile,
        ResidenceStatus,
    };
    use expedientes_domain::user_account::Nationality;
    use expedientes_eventlog::{CommandError, CommandOutcome, CommandRequest, Streams};

    /// A refusal by either aggregate of a two-stream command.
    #[derive(Debug, thiserror::Error)]
    enum Refusal {
        #[error(transparent)]
        File(#[from] FileRefusal),
        #[error(transparent)]
        Inscription(#[from] InscriptionRefusal),
    }

    const TENANT: &str = "28079";

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    /// The day the test inscriptions are made (their renewal is due two years later).
    fn inscribed_on() -> NaiveDate {
        d(1, 10)
    }

    /// A command on `primary`, with a fresh command id and no digest.
    fn command(primary: Uuid, expected_version: Option<i32>) -> CommandRequest {
        CommandRequest {
            tenant: TENANT.parse().unwrap(),
            stream_id: primary,
            expected_version,
            metadata: metadata(Some(Uuid::new_v4())),
            request_hash: None,
        }
    }

    fn opening(inscription: Uuid) -> FileCommand {
        FileCommand::Open {
            entry: None,
            case_number: "28079/2026/000001".parse().unwrap(),
            sia_code: "999999".parse().unwrap(),
            person: party(),
            inscription,
            basis: RemovalBasis::ExOfficio {
                reason: "nobody else lives there".into(),
            },
            on: d(3, 2),
            max_time_due: d(6, 2),
            max_time_rule: None,
        }
    }

    /// A new inscription (at version 1) of a non-EU temporary resident, who must renew.
    async fn inscribe(log: &EventLog) -> Uuid {
        let inscription = Uuid::new_v4();
        let outcome = log
            .execute::<Inscription>(command(inscription, None), |_, _| {
                InscriptionCommand::Inscribe {
                    entry: None,
                    person: Person {
                        name: "Bilal Haddad".into(),
                        birth_date: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
                        nationality: Nationality::NonEu,
                        document: card(),
                    },
                    residence: ResidenceStatus::NonEuTemporary,
                    dwelling: Dwelling {
                        key: "9872023VK4797S0001WX".into(),
                        address: "Calle de Toledo 10".into(),
                    },
                    declares_nobody_else: false,
                    actor: Actor::Themselves,
                    on: inscribed_on(),
                    at: chrono::Utc::now(),
                }
            })
            .await
            .unwrap();
        assert_eq!(outcome.version, 1);
        inscription
    }

    /// Opens `file` against `inscription` and marks the inscription, in one command.
    async fn open_file(
        log: &EventLog,
        request: CommandRequest,
        file: Uuid,
        inscription: Uuid,
    ) -> Result<CommandOutcome, CommandError<Refusal>> {
        log.run(
            request,
            Streams::of::<RemovalFile>(file).and::<Inscription>(inscription),
            move |decision| {
                decision.handle::<RemovalFile>(file, opening(inscription))?;
                decision.handle::<Inscription>(
                    inscription,
                    InscriptionCommand::RecordRemovalFileOpened { file, on: d(3, 2) },
                )?;
                Ok(())
            },
        )
        .await
    }

    /// The notification of a file's opening, delivered on paper on 9 March.
    fn notified() -> FileCommand {
        FileCommand::RecordNotificationEffect {
            notification: Some(Uuid::from_u128(1)),
            act: ActKind::Opening,
            outcome: NotificationOutcome::Delivered,
            on: d(3, 9),
            hearing_due: Some(d(3, 30)),
        }
    }

    /// An inscription with a removal file open against it, notified on paper, the person having
    /// alleged: the file is at version 3 (opened, notified, allegations), the inscription at 2
    /// (inscribed, removal file opened). Returns (file, inscription).
    async fn file_in_hearing(log: &EventLog) -> (Uuid, Uuid) {
        let inscription = inscribe(log).await;
        let file = Uuid::new_v4();
        open_file(log, command(file, Some(0)), file, inscription)
            .await
            .unwrap();
        log.execute::<RemovalFile>(command(file, Some(1)), |_, _| notified())
            .await
            .unwrap();
        let alleged = log
            .execute::<RemovalFile>(command(file, Some(2)), |_, _| {
                FileCommand::RecordAllegations {
                    entry: None,
                    summary: "sigo viviendo aquí".into(),
                    on: d(3, 10),
                }
            })
            .await
            .unwrap();
        assert_eq!(alleged.version, 3);
        (file, inscription)
    }

    /// The person regularised their situation: the file is archived (two events) and the
    /// inscription's block lifted (one event), in one command addressed to the file. `decided`
    /// counts the decisions; `before_deciding` runs at the start of each one.
    async fn regularise(
        log: &EventLog,
        request: CommandRequest,
        file: Uuid,
        inscription: Uuid,
        decided: &AtomicUsize,
        mut before_deciding: impl FnMut(usize),
    ) -> Result<CommandOutcome, CommandError<Refusal>> {
        log.run(
            request,
            Streams::of::<RemovalFile>(file).and::<Inscription>(inscription),
            |decision| {
                let call = decided.fetch_add(1, Ordering::SeqCst) + 1;
                before_deciding(call);
                decision.handle::<RemovalFile>(
                    file,
                    FileCommand::RecordRegularised {
                        on: d(3, 20),
                        appeals: Vec::new(),
                    },
                )?;
                decision.handle::<Inscription>(
                    inscription,
                    InscriptionCommand::RecordRemovalFileClosed { file, on: d(3, 20) },
                )?;
                Ok(())
            },
        )
        .await
    }

    /// The renewal warning letter of `inscription` (a timer's command, allowed while a removal
    /// file is open): a change to the inscription that any other writer may make at any moment.
    async fn send_renewal_warning(log: &EventLog, inscription: Uuid) -> CommandOutcome {
        log.execute::<Inscription>(command(inscription, None), |_, _| {
            InscriptionCommand::SendRenewalWarning {
                due: renewal_due(inscribed_on()),
                on: d(3, 15),
            }
        })
        .await
        .unwrap()
    }

    async fn count(pool: &PgPool, stream: Uuid) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_id = $1")
            .bind(stream)
            .fetch_one(pool)
            .await
            .unwrap()
    }

    async fn total(pool: &PgPool) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    async fn event_types(log: &EventLog, stream: Uuid) -> Vec<String> {
        log.load_stream(TENANT, stream, Until::End)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    #[tokio::test]
    async fn a_stale_if_match_on_the_primary_of_a_two_stream_command_appends_nothing() {
        // Given a removal file at version 3 and its inscription at version 2.
        let (log, pool) = log().await;
        let (file, inscription) = file_in_hearing(&log).await;
        let before = total(&pool).await;
        assert_eq!(
            (count(&pool, file).await, count(&pool, inscription).await),
            (3, 2)
        );

        // When the regularisation is sent with If-Match 2 (the caller saw the file before its
        // notification).
        let decided = AtomicUsize::new(0);
        let stale = regularise(
            &log,
            command(file, Some(2)),
            file,
            inscription,
            &decided,
            |_| {},
        )
        .await;

        // Then it answers the version it expected and the one the file is at.
        assert!(
            matches!(
                stale,
                Err(CommandError::VersionMismatch {
                    expected: 2,
                    actual: 3
                })
            ),
            "{stale:?}"
        );
        // And nothing was appended on either stream.
        assert_eq!(count(&pool, file).await, 3);
        assert_eq!(count(&pool, inscription).await, 2);
        assert_eq!(total(&pool).await, before);

        // When it is sent again with the file's current version.
        let outcome = regularise(
            &log,
            command(file, Some(3)),
            file,
            inscription,
            &decided,
            |_| {},
        )
        .await
        .unwrap();

        // Then both streams change together.
        assert_eq!((outcome.stream_id, outcome.version), (file, 5));
        assert_eq!(
            outcome
                .events
                .iter()
                .map(|e| (e.stream_id, e.version))
                .collect::<Vec<_>>(),
            vec![(file, 4), (file, 5), (inscription, 3)]
        );
        assert_eq!(total(&pool).await, before + 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_conflicting_change_on_the_second_stream_makes_the_command_be_decided_again() {
        // Given a removal file at version 3 and its inscription at version 2.
        let (log, pool) = log().await;
        let (file, inscription) = file_in_hearing(&log).await;

        // When the regularisation, pinned to the file's version 3, is decided while another
        // writer changes the inscription: during the first decision (after both streams were
        // loaded, before the append), the inscription's renewal warning is recorded, so the first
        // attempt's append expects the inscription at 2 while it is at 3 (a conflict on the
        // second stream only; the file is not touched).
        let decided = AtomicUsize::new(0);
        let mut competing = None;
        let outcome = regularise(
            &log,
            command(file, Some(3)),
            file,
            inscription,
            &decided,
            |call| {
                if call == 1 {
                    let log = log.clone();
                    competing = Some(tokio::task::block_in_place(move || {
                        tokio::runtime::Handle::current()
                            .block_on(send_renewal_warning(&log, inscription))
                    }));
                }
            },
        )
        .await
        .unwrap();

        // Then the competing change landed on the inscription at version 3.
        let competing = competing.expect("the competing change was made");
        assert_eq!((competing.stream_id, competing.version), (inscription, 3));
        // And the command was decided again on fresh state (exactly once more) and succeeded.
        assert_eq!(decided.load(Ordering::SeqCst), 2);
        assert!(!outcome.replayed);
        // With the file moved on from the pinned version 3 by this command only, and the
        // inscription's mark after the competing change.
        assert_eq!((outcome.stream_id, outcome.version), (file, 5));
        assert_eq!(
            outcome
                .events
                .iter()
                .map(|e| (e.stream_id, e.version))
                .collect::<Vec<_>>(),
            vec![(file, 4), (file, 5), (inscription, 4)]
        );
        assert_eq!(
            event_types(&log, file).await,
            [
                "opened",
                "notified",
                "allegations_filed",
                "regularised",
                "resolved"
            ]
        );
        assert_eq!(
            event_types(&log, inscription).await,
            [
                "inscribed",
                "removal_file_opened",
                "renewal_warning_sent",
                "removal_file_closed"
            ]
        );
        // Nothing of the stale first decision was stored.
        assert_eq!(total(&pool).await, 3 + 2 + 1 + 3);
        // And the command's events on both streams are one atomic append.
        let history = log.load_stream(TENANT, file, Until::End).await.unwrap();
        let marks = log
            .load_stream(TENANT, inscription, Until::End)
            .await
            .unwrap();
        assert_eq!(history[3].transaction_id, marks[3].transaction_id);
        assert_eq!(history[4].transaction_id, marks[3].transaction_id);
        assert_ne!(marks[2].transaction_id, marks[3].transaction_id);
    }

    #[tokio::test]
    async fn a_multi_stream_command_sent_twice_is_carried_out_once_and_a_reused_id_is_refused() {
        // Given an inscription and a command opening a removal file against it, with a command
        // id and a request digest.
        let (log, pool) = log().await;
        let inscription = inscribe(&log).await;
        let file = Uuid::new_v4();
        let mut request = command(file, None);
        request.request_hash = Some(b"open the removal file".to_vec());

        // When it is sent.
        let first = open_file(&log, request.clone(), file, inscription)
            .await
            .unwrap();

        // Then it changed both streams.
        assert!(!first.replayed);
        assert_eq!((first.stream_id, first.version), (file, 1));
        assert_eq!(
            first
                .events
                .iter()
                .map(|e| (e.stream_id, e.version))
                .collect::<Vec<_>>(),
            vec![(file, 1), (inscription, 2)]
        );
        let after_first = total(&pool).await;
        assert_eq!(after_first, 3);

        // When the inscription moves on and the same request (same id, same digest) comes again.
        send_renewal_warning(&log, inscription).await;
        let decided = AtomicUsize::new(0);
        let second = log
            .run(
                request.clone(),
                Streams::of::<RemovalFile>(file).and::<Inscription>(inscription),
                |decision| {
                    decided.fetch_add(1, Ordering::SeqCst);
                    decision.handle::<RemovalFile>(file, opening(inscription))?;
                    decision.handle::<Inscription>(
                        inscription,
                        InscriptionCommand::RecordRemovalFileOpened { file, on: d(3, 2) },
                    )?;
                    Ok::<(), Refusal>(())
                },
            )
            .await
            .unwrap();

        // Then it answers the first outcome: same events (streams, versions, positions), replayed,
        // and nothing is appended (nor decided: a second opening would be refused).
        assert!(second.replayed);
        assert_eq!(second.events, first.events);
        assert_eq!((second.stream_id, second.version), (file, 1));
        assert_eq!(decided.load(Ordering::SeqCst), 0);
        assert_eq!(total(&pool).await, after_first + 1);
        assert_eq!(count(&pool, file).await, 1);
        assert_eq!(count(&pool, inscription).await, 3);

        // When the same command id comes with another digest, for a command that would otherwise
        // be carried out (a file against another person).
        let other_person = inscribe(&log).await;
        let other_file = Uuid::new_v4();
        let before = total(&pool).await;
        let mut reused = request.clone();
        reused.stream_id = other_file;
        reused.request_hash = Some(b"open another removal file".to_vec());
        let refused = open_file(&log, reused, other_file, other_person).await;

        // Then the id is refused as reused, and nothing is appended on either stream.
        assert!(
            matches!(refused, Err(CommandError::CommandIdReused)),
            "{refused:?}"
        );
        assert_eq!(count(&pool, other_file).await, 0);
        assert_eq!(count(&pool, other_person).await, 1);
        assert_eq!(total(&pool).await, before);
    }

    #[tokio::test]
    async fn the_earlier_outcome_of_a_command_that_left_its_primary_unchanged_names_the_primary() {
        // Given a removal file opened alone (version 1), without the inscription's mark (version 1).
        let (log, pool) = log().await;
        let inscription = inscribe(&log).await;
        let file = Uuid::new_v4();
        log.execute::<RemovalFile>(command(file, Some(0)), |_, _| opening(inscription))
            .await
            .unwrap();

        // When a command addressed to the file records the mark on the inscription the file names
        // (the file itself gets no event).
        let mut request = command(file, Some(1));
        request.request_hash = Some(b"mark the inscription".to_vec());
        let outcome = log
            .run(
                request.clone(),
                Streams::of::<RemovalFile>(file).and::<Inscription>(inscription),
                |decision| {
                    let named = decision
                        .state::<RemovalFile>(file)
                        .inscription
                        .expect("the file names its inscription");
                    decision.handle::<Inscription>(
                        named,
                        InscriptionCommand::RecordRemovalFileOpened { file, on: d(3, 2) },
                    )?;
                    Ok::<(), Refusal>(())
                },
            )
            .await
            .unwrap();
        assert_eq!(count(&pool, file).await, 1);
        assert_eq!(count(&pool, inscription).await, 2);
        assert_eq!((outcome.stream_id, outcome.version), (file, 1));
        assert!(!outcome.created());

        // Then its earlier outcome names the file (not the inscription) at the file's version,
        // with the inscription's event.
        let earlier = log
            .earlier_outcome::<Refusal>(&request)
            .await
            .unwrap()
            .expect("the command was carried out");
        assert!(earlier.replayed);
        assert_eq!((earlier.stream_id, earlier.version), (file, 1));
        assert_eq!(earlier.events, outcome.events);
        assert_eq!(
            earlier
                .events
                .iter()
                .map(|e| (e.stream_id, e.version))
                .collect::<Vec<_>>(),
            vec![(inscription, 2)]
        );

        // When the file moves on, the earlier outcome still names the file, at the version it is
        // at now (the command did not set one).
        log.execute::<RemovalFile>(command(file, Some(1)), |_, _| notified())
            .await
            .unwrap();
        let later = log
            .earlier_outcome::<Refusal>(&request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((later.stream_id, later.version), (file, 2));
        assert_eq!(later.events, outcome.events);
    }

    #[tokio::test]
    async fn a_refusal_by_the_second_aggregate_refuses_the_whole_command() {
        // Given an inscription with a removal file already open against it.
        let (log, pool) = log().await;
        let inscription = inscribe(&log).await;
        let first_file = Uuid::new_v4();
        open_file(&log, command(first_file, None), first_file, inscription)
            .await
            .unwrap();
        let before = total(&pool).await;

        // When a second file is opened against it: the file accepts its opening, the inscription
        // refuses a second open file.
        let second_file = Uuid::new_v4();
        let file_accepted = AtomicBool::new(false);
        let refused = log
            .run(
                command(second_file, None),
                Streams::of::<RemovalFile>(second_file).and::<Inscription>(inscription),
                |decision| {
                    decision.handle::<RemovalFile>(second_file, opening(inscription))?;
                    file_accepted.store(true, Ordering::SeqCst);
                    decision.handle::<Inscription>(
                        inscription,
                        InscriptionCommand::RecordRemovalFileOpened {
                            file: second_file,
                            on: d(3, 5),
                        },
                    )?;
                    Ok::<(), Refusal>(())
                },
            )
            .await;

        // Then the whole command is refused with the inscription's reason.
        assert!(
            matches!(
                refused,
                Err(CommandError::Refused(Refusal::Inscription(
                    InscriptionRefusal::FileAlreadyOpen
                )))
            ),
            "{refused:?}"
        );
        assert!(
            file_accepted.load(Ordering::SeqCst),
            "the file's half was decided"
        );
        // And the file accepted by its own aggregate was not opened: nothing on either stream.
        assert_eq!(count(&pool, second_file).await, 0);
        assert_eq!(count(&pool, inscription).await, 2);
        assert_eq!(total(&pool).await, before);
        assert!(log
            .load_aggregate::<RemovalFile>(TENANT, second_file, Until::End)
            .await
            .map(|loaded| loaded.version == 0)
            .unwrap());
    }
}
