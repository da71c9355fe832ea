//! The `expedientes` command line, run as a process: outputs and exit statuses.

use std::process::{Command, Output};

use expedientes_eventlog::MIGRATOR;
use expedientes_tests::TestDatabase;
use serde_json::Value;

fn expedientes(args: &[&str], database_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_expedientes"));
    command.args(args).env_remove("DATABASE_URL");
    // A fixed key so that the test never writes a development key file.
    command.env(
        "EXPEDIENTES_SIGNING_KEY",
        "a-test-signing-key-of-at-least-32-bytes",
    );
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command.output().expect("the binary runs")
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object on stdout")
}

#[test]
fn deadline_prints_the_explained_result() {
    let out = expedientes(
        &[
            "deadline",
            "--from",
            "2026-07-20",
            "--amount",
            "10",
            "--unit",
            "business-days",
        ],
        None,
    );
    let result = json(&out);
    assert_eq!(result["due_date"], "2026-08-03");
    assert!(result["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["date"] == "2026-07-25"));
    assert!(result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["article"].is_string()));
    assert!(result["warnings"].is_array());

    let madrid = json(&expedientes(
        &[
            "deadline",
            "--from",
            "2026-05-14",
            "--amount",
            "1",
            "--unit",
            "business-days",
            "--municipality",
            "28079",
        ],
        None,
    ));
    assert_eq!(madrid["due_date"], "2026-05-18");
    assert!(madrid["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["date"] == "2026-05-15" && d["reason"].as_str().unwrap().contains("local")));

    let month = json(&expedientes(
        &[
            "deadline",
            "--from",
            "2026-01-31",
            "--amount",
            "1",
            "--unit",
            "months",
        ],
        None,
    ));
    assert_eq!(month["due_date"], "2026-03-02");

    let hours = json(&expedientes(
        &[
            "deadline",
            "--from",
            "2026-07-24",
            "--at",
            "10:30",
            "--amount",
            "24",
            "--unit",
            "hours",
        ],
        None,
    ));
    assert!(
        hours["due_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-07-27T10:30"),
        "{hours}"
    );

    let future = json(&expedientes(
        &[
            "deadline",
            "--from",
            "2030-03-01",
            "--amount",
            "3",
            "--unit",
            "business-days",
        ],
        None,
    ));
    assert!(future["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("2030")));
}

#[test]
fn invalid_deadline_input_exits_2_with_a_message() {
    for args in [
        vec![
            "deadline",
            "--from",
            "2026-07-20",
            "--amount",
            "0",
            "--unit",
            "business-days",
        ],
        vec![
            "deadline",
            "--from",
            "2026-07-20",
            "--amount",
            "1",
            "--unit",
            "fortnights",
        ],
        vec![
            "deadline",
            "--from",
            "2026-07-20",
            "--amount",
            "25",
            "--unit",
            "hours",
            "--at",
            "10:00",
        ],
        vec![
            "deadline",
            "--from",
            "2026-07-20",
            "--amount",
            "5",
            "--unit",
            "hours",
        ],
        vec![
            "deadline",
            "--from",
            "2026-07-20",
            "--amount",
            "1",
            "--unit",
            "business-days",
            "--municipality",
            "99999",
        ],
        vec![
            "deadline",
            "--from",
            "2026-07-20",
            "--amount",
            "1",
            "--unit",
            "business-days",
            "--residence",
            "2807",
        ],
        vec![
            "deadline",
            "--from",
            "20-07-2026",
            "--amount",
            "1",
            "--unit",
            "business-days",
        ],
        vec!["deadline", "--amount", "1", "--unit", "business-days"],
    ] {
        let out = expedientes(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.trim().len() > 10, "{args:?}: {stderr}");
    }
}

#[test]
fn token_mints_and_refuses_bad_input() {
    let out = expedientes(
        &[
            "token",
            "--role",
            "citizen",
            "--tenant",
            "28079",
            "--subject",
            "12345678Z",
        ],
        None,
    );
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.trim().split('.').count(), 3, "a JWT");
    for args in [
        vec![
            "token",
            "--role",
            "citizen",
            "--tenant",
            "28079",
            "--subject",
            "12345678A",
        ],
        vec![
            "token",
            "--role",
            "caseworker",
            "--tenant",
            "2807",
            "--subject",
            "E1",
        ],
        vec![
            "token",
            "--role",
            "mayor",
            "--tenant",
            "28079",
            "--subject",
            "E1",
        ],
    ] {
        assert_eq!(expedientes(&args, None).status.code(), Some(2), "{args:?}");
    }
}

#[tokio::test]
async fn migrate_verify_and_rebuild_run_against_a_database() {
    let db = TestDatabase::create(&MIGRATOR).await;
    let url = db.url.clone();
    let run = |args: &'static [&'static str]| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || expedientes(args, Some(&url)))
    };
    assert!(run(&["migrate"]).await.unwrap().status.success());
    let calendar = run(&[
        "calendar",
        "set-local",
        "--tenant",
        "28074",
        "--actor",
        "A1",
        "--year",
        "2026",
        "--municipality",
        "28074",
        "--days",
        "2026-07-21,2026-08-17",
        "--source",
        "BOCM 2025",
    ])
    .await
    .unwrap();
    assert!(
        calendar.status.success(),
        "{}",
        String::from_utf8_lossy(&calendar.stderr)
    );
    let refused = run(&[
        "calendar",
        "set-local",
        "--tenant",
        "28074",
        "--actor",
        "A1",
        "--year",
        "2026",
        "--municipality",
        "28074",
        "--days",
        "2027-01-05",
        "--source",
        "BOCM 2025",
    ])
    .await
    .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let verified = run(&["verify"]).await.unwrap();
    let report = json(&verified);
    assert_eq!(report["ok"], true);
    assert_eq!(report["events_checked"], 1);
    let rebuilt = run(&["rebuild", "case_view"]).await.unwrap();
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    let unknown = run(&["rebuild", "nothing"]).await.unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    let sealed = run(&["seal"]).await.unwrap();
    assert!(sealed.status.success());
}

#[test]
fn commands_needing_a_database_say_so_without_one() {
    let out = expedientes(&["verify"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
}

#[tokio::test]
async fn demo_loads_a_municipality_and_is_safe_to_run_twice() {
    let db = TestDatabase::create(&MIGRATOR).await;
    let url = db.url.clone();
    let run = move || {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            expedientes(
                &["demo", "--tenant", "28079", "--inscriptions", "120"],
                Some(&url),
            )
        })
    };
    let first = run().await.unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stderr).contains("120 inscriptions"));
    let second = run().await.unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let pool = db.pool(2).await;
    let (inscriptions, renewals, files): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(renewal_due), count(open_removal_file) FROM padron_register",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(inscriptions, 120, "a second run adds no one twice");
    assert!(
        renewals > 0 && files > 0,
        "{renewals} renewals, {files} files"
    );
    let bad = expedientes(&["demo", "--tenant", "99999"], Some(&db.url));
    assert_eq!(bad.status.code(), Some(2));
}
