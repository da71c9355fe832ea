//! The `expedientes` command line, run as a process: outputs and exit statuses.

use std::collections::HashMap;
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

/// A request over a fresh TCP connection: the status and the body (an HTTP client of 20 lines,
/// enough for a test that must reach the real process).
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, HashMap<String, String>, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}

fn start_service(database_url: &str, addr: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_expedientes"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("EXPEDIENTES_ADDR", addr)
        .env(
            "EXPEDIENTES_SIGNING_KEY",
            "a-test-signing-key-of-at-least-32-bytes",
        )
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the service starts")
}

async fn wait_ready(addr: &str) {
    for _ in 0..300 {
        if let Ok((200, _, _)) = http(addr, "GET", "/health", &[], "").await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the service did not start on {addr}");
}

/// `kill -9` of the service while clients send commands: after a restart every acknowledged
/// command is in the log, and sending every request again with its key appends nothing for those
/// already carried out (each key ends with exactly one file).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_service_killed_under_load_loses_no_acknowledged_command_and_retries_append_nothing() {
    let db = TestDatabase::create(&MIGRATOR).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("an address")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let token = {
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
        String::from_utf8(out.stdout)
            .expect("text")
            .trim()
            .to_owned()
    };
    let mut service = start_service(&db.url, &addr);
    wait_ready(&addr).await;

    // Eight clients file applications, each with its own key, until the service dies.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..8 {
        let (addr, token, stop) = (addr.clone(), token.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut acknowledged = Vec::new();
            for n in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) && n > 0 {
                    break;
                }
                let key = format!("crash-{client}-{n}");
                sent.push(key.clone());
                let auth = format!("Bearer {token}");
                match http(
                    &addr,
                    "POST",
                    "/v1/general-applications",
                    &[
                        ("authorization", &auth),
                        ("content-type", "application/json"),
                        ("idempotency-key", &key),
                    ],
                    r#"{"subject": "Poda de un árbol", "name": "Ana García"}"#,
                )
                .await
                {
                    Ok((201, _, body)) => {
                        let id = serde_json::from_str::<Value>(&body).expect("JSON")["id"]
                            .as_str()
                            .expect("an id")
                            .to_owned();
                        acknowledged.push((key, id));
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            (sent, acknowledged)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    service.kill().expect("kill -9");
    service.wait().expect("the process is gone");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut sent = Vec::new();
    let mut acknowledged = Vec::new();
    for client in clients {
        let (s, a) = client.await.expect("a client");
        sent.extend(s);
        acknowledged.extend(a);
    }
    assert!(
        acknowledged.len() >= 8,
        "commands were acknowledged before the kill: {}",
        acknowledged.len()
    );
    eprintln!(
        "{} requests sent, {} acknowledged before kill -9",
        sent.len(),
        acknowledged.len()
    );

    // Every acknowledged command survived.
    let pool = db.pool(2).await;
    for (key, id) in &acknowledged {
        let found: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE stream_id = $1::uuid")
                .bind(id)
                .fetch_one(&pool)
                .await
                .expect("count");
        assert_eq!(found, 1, "{key} was acknowledged and must be in the log");
    }

    // After a restart, every request sent again with its key: once each, whatever happened.
    let mut service = start_service(&db.url, &addr);
    wait_ready(&addr).await;
    let auth = format!("Bearer {token}");
    for key in &sent {
        let (status, headers, body) = http(
            &addr,
            "POST",
            "/v1/general-applications",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                ("idempotency-key", key),
            ],
            r#"{"subject": "Poda de un árbol", "name": "Ana García"}"#,
        )
        .await
        .expect("the restarted service answers");
        assert_eq!(status, 201, "{key}: {body}");
        if let Some((_, id)) = acknowledged.iter().find(|(k, _)| k == key) {
            assert_eq!(
                headers.get("idempotent-replayed").map(String::as_str),
                Some("true")
            );
            assert_eq!(
                serde_json::from_str::<Value>(&body).unwrap()["id"],
                id.as_str()
            );
        }
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(
        events as usize,
        sent.len(),
        "exactly one file per key: nothing lost, nothing twice"
    );
    service.kill().expect("stop the service");
    let _ = service.wait();
}

/// Without a signing key, `token` makes no new key outside the project's folder: it says how to
/// give one (exit 2) and writes nothing.
#[test]
fn token_refuses_to_make_a_key_outside_the_project() {
    let elsewhere = std::env::temp_dir().join(format!("expedientes-{}", std::process::id()));
    std::fs::create_dir_all(&elsewhere).expect("a folder");
    let out = Command::new(env!("CARGO_BIN_EXE_expedientes"))
        .args([
            "token",
            "--role",
            "caseworker",
            "--tenant",
            "28079",
            "--subject",
            "f-1",
        ])
        .env_remove("EXPEDIENTES_SIGNING_KEY")
        .env_remove("DATABASE_URL")
        .current_dir(&elsewhere)
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("EXPEDIENTES_SIGNING_KEY"));
    assert!(out.stdout.is_empty());
    assert!(
        !elsewhere.join(".expedientes").exists(),
        "no key was written"
    );
    let _ = std::fs::remove_dir_all(&elsewhere);
}

#[test]
fn the_identity_provider_is_not_accepted_with_the_development_key() {
    // A JWKS that loads (a test P-256 public key).
    let jwks = std::env::temp_dir().join(format!("cli-jwks-{}.json", std::process::id()));
    std::fs::write(
        &jwks,
        r#"{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "use": "sig", "alg": "ES256",
        "x": "ImkWY5BENuSWcFoR_MNffd8qOdvpm9eD7I9-Ex1trN8", "y": "3E2ahwYkLeVoUhJKDghqiTf_4ss9XxaGGqpmrtsNI9g"}]}"#,
    )
    .unwrap();
    let run = |signing_key: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_expedientes"));
        // From the project's folder, where the development key lives.
        command
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .args(["verify"])
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .env("EXPEDIENTES_STAFF_JWKS_FILE", &jwks)
            .env("EXPEDIENTES_STAFF_ISSUER", "https://idp.example")
            .env("EXPEDIENTES_STAFF_AUDIENCE", "expedientes")
            .env_remove("EXPEDIENTES_SIGNING_KEY");
        if let Some(key) = signing_key {
            command.env("EXPEDIENTES_SIGNING_KEY", key);
        }
        command.output().expect("the binary runs")
    };
    let refused = run(None);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("identity provider configured"), "{said}");
    // With a key of its own, the configuration is accepted (and the command then meets the
    // unreachable database instead).
    let configured = run(Some("a-test-signing-key-of-at-least-32-bytes"));
    assert!(
        !String::from_utf8_lossy(&configured.stderr).contains("identity provider configured"),
        "{configured:?}"
    );
    std::fs::remove_file(&jwks).ok();
}
