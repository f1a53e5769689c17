//! `ferric bench async`: durable enqueues per second (async InvokeFunction answered 202 only after the
//! event is committed) at N connections, and enqueue → start latency of a noop Node.js function.

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use reqwest::Method;
use serde_json::json;

use super::invoke::{create, signed_invoke, NODE_EVENT};
use super::server::ServerProcess;
use super::{load, percentile};

#[derive(Args, Debug)]
pub struct AsyncArgs {
    /// Connections sending async invocations.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds of enqueueing.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Sequential invocations whose enqueue → start latency is measured.
    #[arg(long, default_value_t = 100)]
    samples: usize,
}

pub async fn run(args: AsyncArgs) -> Result<()> {
    let server = ServerProcess::start()?;
    let client = server.client();
    let host = server.endpoint.trim_start_matches("http://").to_string();
    client.create_service(&json!({"serviceName": "bench"})).await?;
    create(&client, "node-event", "nodejs20", "index.js", NODE_EVENT, false).await?;

    // Enqueue → start: one event at a time on an idle queue.
    let mut latencies = Vec::with_capacity(args.samples);
    for _ in 0..args.samples {
        let sent_ms = chrono::Utc::now().timestamp_millis();
        let r = client
            .send(
                Method::POST,
                "/services/bench/functions/node-event/invocations",
                &[],
                &[("x-fc-invocation-type", "Async")],
                Some(Vec::new()),
            )
            .await?;
        anyhow::ensure!(r.status == 202, "async invoke answered {}", r.status);
        let id = r.header("x-fc-request-id").unwrap_or_default().to_string();
        let path = format!("/services/bench/functions/node-event/stateful-async-invocations/{id}");
        let started = Instant::now();
        loop {
            let record = client.call(Method::GET, &path, &[], None).await?.json()?;
            if record["status"] == "Succeeded" {
                let began = record["startedTime"].as_i64().unwrap_or(sent_ms);
                latencies.push(Duration::from_millis(u64::try_from(began - sent_ms).unwrap_or(0)));
                break;
            }
            anyhow::ensure!(started.elapsed() < Duration::from_secs(10), "invocation {id} did not run");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    latencies.sort();

    let request = signed_invoke(&host, "node-event", true);
    let rate = load::throughput(&host, &request, args.connections, Duration::from_secs(args.seconds)).await?;
    let (rss, _) = server.rss_mb()?;
    println!(
        "async benchmark: {} connections for {} s; {} sequential events for latency",
        args.connections, args.seconds, args.samples
    );
    println!(
        "durable enqueues/s (202 after commit): {rate:>8.0}   target >= 2000  {}",
        if rate >= 2000.0 { "ok" } else { "MISS" }
    );
    println!(
        "enqueue -> start p50 {:>4} ms, p99 {:>4} ms (ms resolution)",
        percentile(&latencies, 0.5).as_millis(),
        percentile(&latencies, 0.99).as_millis()
    );
    println!("server RSS {rss:.1} MB");
    Ok(())
}
