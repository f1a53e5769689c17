//! A minimal keep-alive HTTP/1.1 load generator: one pre-built request replayed on persistent
//! connections, so the client costs as little as possible of the machine it shares with the server.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One persistent connection.
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    /// The last response carried `X-Fc-Init-Duration`: its invocation started an instance.
    cold: bool,
}

impl Connection {
    pub async fn open(addr: &str) -> Result<Connection> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("connect {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream, buffer: Vec::with_capacity(16 * 1024), cold: false })
    }

    /// Sends `request` and reads one whole response; returns its status.
    pub async fn round_trip(&mut self, request: &[u8]) -> Result<u16> {
        self.stream.write_all(request).await?;
        self.buffer.clear();
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buffer[..end]).context("response head is not text")?;
                let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).context("no status")?;
                let lower = head.to_ascii_lowercase();
                self.cold = lower.contains("\r\nx-fc-init-duration:");
                let body_start = end + 4;
                if let Some(len) = lower
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                {
                    while self.buffer.len() < body_start + len {
                        self.fill().await?;
                    }
                } else if lower.contains("transfer-encoding: chunked") {
                    while find(&self.buffer[body_start..], b"0\r\n\r\n").is_none() {
                        self.fill().await?;
                    }
                }
                return Ok(status);
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Latencies of `count` sequential requests on one connection (after `warmup` untimed ones), sorted.
pub async fn latencies(addr: &str, request: &[u8], warmup: usize, count: usize) -> Result<Vec<Duration>> {
    let mut conn = Connection::open(addr).await?;
    for _ in 0..warmup {
        expect_ok(conn.round_trip(request).await?)?;
    }
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        expect_ok(conn.round_trip(request).await?)?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times)
}

/// Requests per second over `duration` with `connections` connections each keeping one request in flight.
pub async fn throughput(addr: &str, request: &[u8], connections: usize, duration: Duration) -> Result<f64> {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (addr, request) = (addr.to_string(), request.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection::open(&addr).await?;
            let mut done = 0u64;
            while Instant::now() < deadline {
                expect_ok(conn.round_trip(&request).await?)?;
                done += 1;
            }
            Ok::<u64, anyhow::Error>(done)
        }));
    }
    let started = Instant::now();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// What one burst measured.
pub struct BurstStats {
    pub rps: f64,
    /// p99 latency of the requests sent during the first `head` of the burst (the scale-out).
    pub p99_head: Duration,
    /// Responses that said they paid a cold start (`X-Fc-Init-Duration`): instances the burst started.
    pub cold: usize,
}

/// `connections` connections each keeping one request in flight for `duration`, every latency recorded
/// with when its request was sent.
pub async fn burst(
    addr: &str,
    request: &[u8],
    connections: usize,
    duration: Duration,
    head: Duration,
) -> Result<BurstStats> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (addr, request) = (addr.to_string(), request.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut conn = Connection::open(&addr).await?;
            let (mut head_times, mut done, mut cold) = (Vec::new(), 0u64, 0usize);
            while Instant::now() < deadline {
                let sent = Instant::now();
                expect_ok(conn.round_trip(&request).await?)?;
                if sent.duration_since(started) < head {
                    head_times.push(sent.elapsed());
                }
                done += 1;
                cold += usize::from(conn.cold);
            }
            Ok::<_, anyhow::Error>((head_times, done, cold))
        }));
    }
    let (mut head_times, mut total, mut cold) = (Vec::new(), 0, 0);
    for task in tasks {
        let (times, done, c) = task.await??;
        head_times.extend(times);
        total += done;
        cold += c;
    }
    head_times.sort();
    Ok(BurstStats {
        rps: total as f64 / started.elapsed().as_secs_f64(),
        p99_head: super::percentile(&head_times, 0.99),
        cold,
    })
}

fn expect_ok(status: u16) -> Result<()> {
    if !(200..300).contains(&status) {
        bail!("unexpected HTTP status {status}");
    }
    Ok(())
}
