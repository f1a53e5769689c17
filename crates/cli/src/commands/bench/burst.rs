//! `ferric bench burst`: a noop Node.js function behind an anonymous HTTP trigger, hit by a burst of N
//! connections after a quiet start, beside workerd and serverless-offline serving the same noop, in one
//! run. Per target: req/s over the burst, p99 over its first seconds (where scale-out happens), and
//! 1-connection p50 before and after it; for Ferric also the instances the burst started, counted from
//! the server's own `X-Fc-Init-Duration` headers (one per cold start). Rounds alternate the targets, so
//! noise from the shared machine spreads over all of them; figures are medians over rounds.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::invoke::{create, get_request, NODE_HTTP};
use super::load;
use super::peers::{Peer, PeerProcess};
use super::percentile;
use super::server::ServerProcess;

#[derive(Args, Debug)]
pub struct BurstArgs {
    /// Connections during the burst.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds the burst lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The first seconds of the burst whose p99 is reported (the scale-out).
    #[arg(long, default_value_t = 5)]
    head_seconds: u64,
    /// Sequential requests for each 1-connection p50 (before and after the burst).
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Rounds; each runs every target once, in alternating order.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// One target's figures in one round.
#[derive(Debug, Clone, Copy)]
struct Figures {
    rps: f64,
    p99_head: Duration,
    p50_before: Duration,
    p50_after: Duration,
    /// Instances started by the burst (Ferric only).
    started: Option<usize>,
}

async fn measure(addr: &str, request: &[u8], args: &BurstArgs) -> Result<(Figures, usize)> {
    let before = load::latencies(addr, request, args.samples / 10, args.samples).await?;
    let burst = load::burst(
        addr,
        request,
        args.connections,
        Duration::from_secs(args.seconds),
        Duration::from_secs(args.head_seconds),
    )
    .await?;
    let after = load::latencies(addr, request, 0, args.samples).await?;
    let figures = Figures {
        rps: burst.rps,
        p99_head: burst.p99_head,
        p50_before: percentile(&before, 0.5),
        p50_after: percentile(&after, 0.5),
        started: None,
    };
    Ok((figures, burst.cold))
}

async fn ferric_round(args: &BurstArgs) -> Result<Figures> {
    let server = ServerProcess::start()?;
    let client = server.client();
    let host = server.endpoint.trim_start_matches("http://").to_string();
    client.create_service(&json!({"serviceName": "bench"})).await?;
    create(&client, "node-http", "nodejs20", "index.js", NODE_HTTP, true).await?;
    let request = get_request(&host, "/2016-08-15/proxy/bench/node-http/");
    // The first call starts the one instance the quiet phase needs.
    load::latencies(&host, &request, 0, 1).await?;
    let (mut figures, cold) = measure(&host, &request, args).await?;
    figures.started = Some(cold);
    Ok(figures)
}

async fn peer_round(peer: Peer, args: &BurstArgs) -> Result<Figures> {
    let process = PeerProcess::start(peer).await?;
    let request = get_request(&process.addr, "/");
    Ok(measure(&process.addr, &request, args).await?.0)
}

fn median_by<T: Copy>(
    rounds: &[Figures],
    key: impl Fn(&Figures) -> T,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> T {
    let mut values: Vec<T> = rounds.iter().map(key).collect();
    values.sort_by(&cmp);
    values[values.len() / 2]
}

fn median(rounds: &[Figures]) -> Figures {
    Figures {
        rps: median_by(rounds, |f| f.rps, |a, b| a.total_cmp(b)),
        p99_head: median_by(rounds, |f| f.p99_head, Ord::cmp),
        p50_before: median_by(rounds, |f| f.p50_before, Ord::cmp),
        p50_after: median_by(rounds, |f| f.p50_after, Ord::cmp),
        started: rounds[0].started.map(|_| median_by(rounds, |f| f.started.unwrap_or(0), Ord::cmp)),
    }
}

const TARGETS: [Option<Peer>; 3] = [None, Some(Peer::Workerd), Some(Peer::ServerlessOffline)];

fn label(target: Option<Peer>) -> &'static str {
    target.map_or("ferric http trigger", Peer::name)
}

pub async fn run(args: BurstArgs) -> Result<()> {
    anyhow::ensure!(
        args.rounds > 0 && args.connections > 0 && args.seconds > 0,
        "rounds, connections and seconds must be > 0"
    );
    let mut results: Vec<Vec<Figures>> = vec![Vec::new(); TARGETS.len()];
    for peer in [Peer::Workerd, Peer::ServerlessOffline] {
        if !peer.installed() {
            println!("{}: not installed: run scripts/setup-bench", peer.name());
        }
    }
    for round in 0..args.rounds {
        // Alternate the order: round r starts at target r (mod 3).
        for k in 0..TARGETS.len() {
            let i = (round + k) % TARGETS.len();
            let target = TARGETS[i];
            if target.is_some_and(|p| !p.installed()) {
                continue;
            }
            let figures = match target {
                None => ferric_round(&args).await?,
                Some(peer) => peer_round(peer, &args).await?,
            };
            eprintln!("bench: round {} {} done: {:.0} req/s", round + 1, label(target), figures.rps);
            results[i].push(figures);
        }
    }

    println!(
        "burst benchmark: noop Node.js over HTTP, {} connections for {} s (p99 over the first {} s), \
         1-connection p50 over {} requests before and after; medians of {} rounds",
        args.connections, args.seconds, args.head_seconds, args.samples, args.rounds
    );
    println!(
        "{:<22} {:>9} {:>13} {:>10} {:>13} {:>12} {:>12}",
        "target", "req/s", "p99 head ms", "instances", "p50 before µs", "p50 after µs", "after/before"
    );
    let medians: Vec<Option<Figures>> = results.iter().map(|r| (!r.is_empty()).then(|| median(r))).collect();
    for (i, m) in medians.iter().enumerate() {
        let Some(m) = m else { continue };
        println!(
            "{:<22} {:>9.0} {:>13.1} {:>10} {:>13.0} {:>12.0} {:>11.2}x",
            label(TARGETS[i]),
            m.rps,
            m.p99_head.as_secs_f64() * 1000.0,
            m.started.map_or("-".to_string(), |n| n.to_string()),
            m.p50_before.as_secs_f64() * 1e6,
            m.p50_after.as_secs_f64() * 1e6,
            m.p50_after.as_secs_f64() / m.p50_before.as_secs_f64()
        );
    }
    let Some(ferric) = medians[0] else { return Ok(()) };
    for (i, need) in [(1, 1.0), (2, 10.0)] {
        match medians[i] {
            Some(peer) => {
                let ratio = ferric.rps / peer.rps;
                let verdict = if ratio >= need { "ok" } else { "MISS" };
                println!("ferric / {} req/s: {ratio:.2}x (target >= {need}x) {verdict}", label(TARGETS[i]));
            }
            None => println!("ferric / {} req/s: not measured (not installed)", label(TARGETS[i])),
        }
    }
    let ok = |b: bool| if b { "ok" } else { "MISS" };
    let started = ferric.started.unwrap_or(0);
    let drift = ferric.p50_after.as_secs_f64() / ferric.p50_before.as_secs_f64();
    println!(
        "targets: p99 over the first {} s <= 50 ms: {:.1} ms {}; instances started <= 4: {} {}; \
         1-connection p50 after within 10% of before: {:.2}x {}",
        args.head_seconds,
        ferric.p99_head.as_secs_f64() * 1000.0,
        ok(ferric.p99_head <= Duration::from_millis(50)),
        started,
        ok(started <= 4),
        drift,
        ok(drift <= 1.10)
    );
    Ok(())
}
