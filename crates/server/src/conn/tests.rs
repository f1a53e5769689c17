//! The guard and the connection task over in-memory pipes, with tokio's clock paused: every timeout is
//! exact, and the tests take no wall-clock time.

use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

const LIMITS: ConnLimits = ConnLimits {
    header_timeout: Duration::from_secs(10),
    body_timeout: Duration::from_secs(20),
    keep_alive: Duration::from_secs(30),
    max_connections: 8,
    head: HeadLimits { max_head_bytes: 4096, max_uri_bytes: 512, max_headers: 16 },
};

fn router() -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(100)).await;
                "slow"
            }),
        )
        .route("/echo", post(|body: axum::body::Bytes| async move { body }))
}

/// A connection served in the background, and the client's end of it.
fn connect() -> (DuplexStream, Arc<ConnStats>, tokio::task::JoinHandle<()>) {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let stats = Arc::new(ConnStats::default());
    let served = Served { router: router(), limits: LIMITS, stats: stats.clone(), access_log: false };
    let (_tx, closing) = tokio::sync::watch::channel(false);
    let peer = "127.0.0.1:9".parse().expect("addr");
    let task = tokio::spawn(async move {
        let _tx = _tx;
        serve_connection(server, peer, Arc::new(Conn::new()), served, closing).await;
    });
    (client, stats, task)
}

/// Reads one response (head and a body of its Content-Length) off the client's end.
async fn response(client: &mut DuplexStream) -> String {
    let mut text = Vec::new();
    let mut byte = [0u8; 1];
    while !text.ends_with(b"\r\n\r\n") {
        assert_eq!(
            client.read(&mut byte).await.expect("read"),
            1,
            "closed mid-head: {}",
            String::from_utf8_lossy(&text)
        );
        text.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&text).to_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length: ")).map_or(0, |v| v.trim().parse().expect("length"));
    let mut body = vec![0u8; length];
    client.read_exact(&mut body).await.expect("body");
    text.extend_from_slice(&body);
    String::from_utf8_lossy(&text).into_owned()
}

async fn closed(client: &mut DuplexStream) -> bool {
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await.is_ok() && rest.is_empty()
}

fn assert_fc_error(response: &str, status: &str, code: &str) {
    assert!(response.starts_with(&format!("HTTP/1.1 {status}")), "{response}");
    assert!(response.contains("x-fc-request-id: "), "{response}");
    assert!(response.contains("content-type: application/json"), "{response}");
    assert!(response.contains(&format!("\"ErrorCode\":\"{code}\"")), "{response}");
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_closes_after_the_keep_alive_time_and_not_before() {
    let (mut client, stats, _task) = connect();
    client.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.expect("write");
    assert!(response(&mut client).await.ends_with("ok"));
    tokio::time::sleep(LIMITS.keep_alive - Duration::from_secs(1)).await;
    client.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await.expect("write");
    assert!(response(&mut client).await.ends_with("ok"), "still open just before the keep-alive time");
    let started = tokio::time::Instant::now();
    assert!(closed(&mut client).await);
    assert_eq!(started.elapsed(), LIMITS.keep_alive);
    assert_eq!(stats.total(Bite::Idle), 1);
}

#[tokio::test(start_paused = true)]
async fn a_head_trickled_a_byte_at_a_time_is_answered_408_at_the_header_timeout() {
    let (mut client, _stats, _task) = connect();
    let started = tokio::time::Instant::now();
    for b in b"GET / HTTP/1.1\r\nx-slow: aaaaaaaaaaaaaaaa".iter().take(9) {
        client.write_all(&[*b]).await.expect("write");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let answer = response(&mut client).await;
    assert_eq!(started.elapsed(), LIMITS.header_timeout);
    assert_fc_error(&answer, "408", "RequestTimeout");
    assert!(closed(&mut client).await);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_body_ends_the_connection_after_the_body_timeout() {
    let (mut client, _stats, task) = connect();
    client.write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n01234").await.expect("write");
    let started = tokio::time::Instant::now();
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest).await;
    assert_eq!(started.elapsed(), LIMITS.body_timeout);
    task.await.expect("connection task ends");
}

#[tokio::test(start_paused = true)]
async fn a_long_request_is_not_cut_by_the_idle_clock() {
    let (mut client, _stats, _task) = connect();
    client.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n").await.expect("write");
    assert!(response(&mut client).await.ends_with("slow"));
}

#[tokio::test(start_paused = true)]
async fn bad_heads_get_fc_errors_with_a_request_id() {
    let cases: [(Vec<u8>, &str, &str); 4] = [
        (
            format!("GET / HTTP/1.1\r\nx-big: {}\r\n\r\n", "b".repeat(5000)).into_bytes(),
            "431",
            "RequestHeaderFieldsTooLarge",
        ),
        (format!("GET /{} HTTP/1.1\r\n\r\n", "p".repeat(600)).into_bytes(), "414", "URITooLong"),
        (b"GET / HTTP/1.1\r\nx-bin: a\x01b\r\n\r\n".to_vec(), "400", "InvalidArgument"),
        (b"GET / HTTP/1.1\r\ncontent-length: x\r\n\r\n".to_vec(), "400", "InvalidArgument"),
    ];
    for (request, status, code) in cases {
        let (mut client, _stats, _task) = connect();
        client.write_all(&request).await.expect("write");
        assert_fc_error(&response(&mut client).await, status, code);
        assert!(closed(&mut client).await);
    }
}

#[tokio::test(start_paused = true)]
async fn pipelined_requests_are_all_answered_and_a_bad_one_refused_after_them() {
    let (mut client, _stats, _task) = connect();
    client
        .write_all(
            b"POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
              POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nde\
              GET / HTTP/1.1\r\nx-bin: \x01\r\n\r\n",
        )
        .await
        .expect("write");
    assert!(response(&mut client).await.ends_with("abc"));
    assert!(response(&mut client).await.ends_with("de"));
    assert_fc_error(&response(&mut client).await, "400", "InvalidArgument");
}

#[tokio::test(start_paused = true)]
async fn an_evicted_idle_connection_closes_at_once() {
    let (client, server) = tokio::io::duplex(4096);
    let conn = Arc::new(Conn::new());
    let served = Served { router: router(), limits: LIMITS, stats: Arc::default(), access_log: false };
    let (_tx, closing) = tokio::sync::watch::channel(false);
    let task =
        tokio::spawn(serve_connection(server, "127.0.0.1:9".parse().expect("addr"), conn.clone(), served, closing));
    tokio::task::yield_now().await;
    let registry = Registry::default();
    registry.lock().insert(1, conn);
    assert!(registry.evict_one());
    tokio::time::timeout(Duration::from_secs(1), task).await.expect("closed at once").expect("task");
    drop(client);
}
