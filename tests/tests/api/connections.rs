//! Connection hygiene, over real TCP: a client that opens connections and never finishes their
//! headers (slowloris) cannot take the service down: such connections are closed after the header
//! timeout, at most so many connections are served at once, and a real request is answered. And
//! the answers' security headers.

use std::time::{Duration as StdTime, Instant};

use expedientes_api::server::{serve, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// Sends a whole request and reads the answer's status line.
async fn status_line(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn half_open_connections_are_closed_and_the_service_keeps_answering() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    let limits = Limits {
        max_connections: 16,
        header_read_timeout: StdTime::from_secs(1),
        shutdown_grace: StdTime::from_secs(1),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app.router.clone(), limits, async {
        let _ = stopped.await;
    }));
    assert_eq!(status_line(addr, "/health").await, "HTTP/1.1 200 OK");

    // Twice as many half-open connections as the service serves at once.
    let mut slow = Vec::new();
    for _ in 0..32 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\nX-Slow: ")
            .await
            .expect("write");
        slow.push(stream);
    }
    // A real request still gets its answer: the half-open ones are closed after the timeout.
    let started = Instant::now();
    let answer = tokio::time::timeout(StdTime::from_secs(10), status_line(addr, "/health"))
        .await
        .expect("answered while slow clients hold connections");
    assert_eq!(answer, "HTTP/1.1 200 OK");
    assert!(
        started.elapsed() < StdTime::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    // And the server closed them (a read ends), without having answered them.
    for mut stream in slow {
        let mut buffer = Vec::new();
        let read = tokio::time::timeout(StdTime::from_secs(10), stream.read_to_end(&mut buffer))
            .await
            .expect("the server closes a connection that does not finish its headers");
        assert!(
            read.is_err() || !String::from_utf8_lossy(&buffer).contains("200 OK"),
            "a half-open request is not served"
        );
    }
    stop.send(()).expect("the server is running");
    server.await.expect("the server stops");
}

#[tokio::test]
async fn answers_are_not_cached_nor_sniffed() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    for reply in [
        get("/v1/cases").bearer(&app.caseworker()).send(&app).await,
        get("/v1/carpeta")
            .bearer(&app.citizen(ANA))
            .send(&app)
            .await,
        get("/v1/cases").send(&app).await,
    ] {
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    }
    // Only JSON is JSON: a look-alike media type is refused.
    let reply = post("/v1/general-applications")
        .bearer(&app.citizen(ANA))
        .raw("application/jsonp", r#"{"subject": "Poda", "name": "Ana"}"#)
        .send(&app)
        .await;
    assert_problem(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );
}
