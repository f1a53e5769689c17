//! Misbehaving clients against the real server: idle connections, heads that never end and bodies that
//! never end are all closed by their timeouts or to make room under the connection cap, while other
//! clients are served meanwhile; heads hyper would refuse with an empty answer get FC's error body.

use std::time::{Duration, Instant};

use ferric_testkit::{TestServer, KEY_ID, KEY_SECRET};
use ferric_types::signature::{self, SignedParts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const EACH: usize = 150;

/// The head of a signed CreateFunction whose chunked body starts and never ends.
fn endless_create_function() -> Vec<u8> {
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let resource = "/2016-08-15/services/slow/functions";
    let to_sign = signature::string_to_sign(&SignedParts {
        method: "POST",
        content_md5: "",
        content_type: "application/json",
        date: &date,
        canonical_headers: "",
        resource,
    });
    format!(
        "POST {resource} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ndate: {date}\r\n\
         authorization: FC {KEY_ID}:{}\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{{\"fun",
        signature::sign(KEY_SECRET, &to_sign)
    )
    .into_bytes()
}

async fn metric(server: &TestServer, limit: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", server.endpoint)).await.expect("metrics").text().await.expect("text");
    let name = format!("ferric_http_connections_closed_total{{limit=\"{limit}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&name)).and_then(|v| v.parse().ok()).expect("metric present")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_half_sent_and_endless_clients_are_closed_while_others_are_served() {
    let server = TestServer::start_with(|config| {
        config.connections.header_timeout = Duration::from_secs(2);
        config.connections.body_timeout = Duration::from_secs(2);
        config.connections.keep_alive = Duration::from_secs(2);
        // Fewer than the misbehaving clients: the cap closes idle ones to admit the rest and the probes.
        config.connections.max_connections = 2 * EACH;
    })
    .await;
    let mut held = Vec::new();
    for i in 0..3 * EACH {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        match i % 3 {
            0 => {}
            1 => stream.write_all(b"POST /api/v1/func/ HTTP/1.1\r\nhost: 127.0.0.1\r\nx-half: ").await.expect("write"),
            _ => stream.write_all(&endless_create_function()).await.expect("write"),
        }
        held.push(stream);
    }

    // Meanwhile other clients are served, each on a new connection, promptly.
    let endpoint = server.endpoint.clone();
    let probes = tokio::spawn(async move {
        let mut slowest = Duration::ZERO;
        for _ in 0..20 {
            let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
            let started = Instant::now();
            let response = client.get(format!("{endpoint}/healthz")).send().await.expect("healthz answers");
            assert_eq!(response.status(), 200);
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        slowest
    });

    // Every misbehaving connection is closed by the server, well within a bounded wait.
    let started = Instant::now();
    for (i, mut stream) in held.into_iter().enumerate() {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "connection {i} (kind {}) still open after {:?}", i % 3, started.elapsed());
    }
    let slowest = probes.await.expect("probes");
    assert!(slowest < Duration::from_secs(2), "a probe waited {slowest:?}");

    for limit in ["idle", "header_timeout", "body_timeout", "evicted"] {
        assert!(metric(&server, limit).await > 0, "no connection was closed for {limit}");
    }
    server.stop().await;
}

#[tokio::test]
async fn transport_refusals_carry_fc_errors_and_a_request_id() {
    let server = TestServer::start().await;
    let long_path = format!("GET /{} HTTP/1.1\r\nhost: x\r\n\r\n", "p".repeat(20_000));
    let large_head = format!("GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "b".repeat(70_000));
    let cases = [
        (long_path.into_bytes(), "414", "URITooLong"),
        (large_head.into_bytes(), "431", "RequestHeaderFieldsTooLarge"),
        (b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-bin: \x7f\r\n\r\n".to_vec(), "400", "InvalidArgument"),
    ];
    for (request, status, code) in cases {
        let mut stream = TcpStream::connect(server.addr).await.expect("connect");
        stream.write_all(&request).await.expect("write");
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .expect("answered and closed")
            .expect("read");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{answer}");
        assert!(answer.contains("x-fc-request-id: "), "{answer}");
        assert!(answer.contains(&format!("{{\"ErrorCode\":\"{code}\",")), "{answer}");
    }
    server.stop().await;
}
