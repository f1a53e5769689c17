//! `ferric bench sandbox`: the price of confinement. Two servers run side by side, one with the sandbox
//! (`best-effort`, the default) and one with `--sandbox off`; rounds alternate between them so machine
//! noise hits both alike. Reports warm p50 at one connection and the median cold start per runtime, and
//! the ratios against the targets (warm within 5%, cold start at most 2 ms more).

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::invoke::{cold_start, create, invoke_request, us, NODE_EVENT, PY_EVENT};
use super::server::ServerProcess;
use super::{load, percentile};

#[derive(Args, Debug)]
pub struct SandboxArgs {
    /// Timed warm requests per round and server.
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    /// Cold starts per round, server and runtime.
    #[arg(long, default_value_t = 5)]
    cold: usize,
    /// Rounds, alternating between the two servers.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// Medians collected for one server.
#[derive(Default)]
struct Figures {
    warm_node: Vec<Duration>,
    warm_python: Vec<Duration>,
    cold_node: Vec<Duration>,
    cold_python: Vec<Duration>,
}

struct Target {
    server: ServerProcess,
    host: String,
    figures: Figures,
    label: &'static str,
}

impl Target {
    async fn start(label: &'static str, extra: &[&str]) -> Result<Target> {
        let server = ServerProcess::start_with(extra)?;
        let client = server.client();
        client.create_service(&json!({"serviceName": "bench"})).await?;
        create(&client, "node-event", "nodejs20", "index.js", NODE_EVENT, false).await?;
        create(&client, "py-event", "python3.10", "index.py", PY_EVENT, false).await?;
        let host = server.endpoint.trim_start_matches("http://").to_string();
        Ok(Target { server, host, figures: Figures::default(), label })
    }

    async fn round(&mut self, round: usize, args: &SandboxArgs) -> Result<()> {
        let warm = |function: &'static str| {
            let request = invoke_request(&self.host, function);
            let host = self.host.clone();
            async move {
                let times = load::latencies(&host, &request, args.samples / 10, args.samples).await?;
                anyhow::Ok(percentile(&times, 0.5))
            }
        };
        self.figures.warm_node.push(warm("node-event").await?);
        self.figures.warm_python.push(warm("py-event").await?);
        let client = self.server.client();
        // Each round's cold functions get fresh names and packages.
        let tag = format!("-r{round}");
        let node = tagged(NODE_EVENT, round);
        let python = tagged(PY_EVENT, round);
        let (node, _) = cold_start(&client, "nodejs20", "index.js", &node, args.cold, &tag).await?;
        let (python, _) = cold_start(&client, "python3.10", "index.py", &python, args.cold, &tag).await?;
        self.figures.cold_node.push(node);
        self.figures.cold_python.push(python);
        eprintln!("bench: {} round {} done", self.label, round + 1);
        Ok(())
    }
}

/// Makes every round's packages distinct, so no instance or extracted code is shared between rounds.
fn tagged(source: &str, round: usize) -> String {
    let comment = if source.contains("def ") { "#" } else { "//" };
    format!("{source}{comment} round {round}\n")
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    percentile(&values, 0.5)
}

pub async fn run(args: SandboxArgs) -> Result<()> {
    let mut on = Target::start("sandbox best-effort", &[]).await?;
    let mut off = Target::start("sandbox off", &["--sandbox", "off"]).await?;
    for round in 0..args.rounds.max(1) {
        // Alternate which goes first, so warm-up and drift favour neither.
        if round % 2 == 0 {
            on.round(round, &args).await?;
            off.round(round, &args).await?;
        } else {
            off.round(round, &args).await?;
            on.round(round, &args).await?;
        }
    }
    println!(
        "sandbox benchmark: {} rounds; per round {} warm samples at 1 connection and {} cold starts per runtime \
         (medians of round medians)",
        args.rounds, args.samples, args.cold
    );
    println!("{:<24} {:>12} {:>12} {:>10} {:>10}", "measure", "sandbox on", "sandbox off", "ratio", "delta");
    let rows = [
        ("warm p50 nodejs20", on.figures.warm_node, off.figures.warm_node),
        ("warm p50 python3.10", on.figures.warm_python, off.figures.warm_python),
        ("cold start nodejs20", on.figures.cold_node, off.figures.cold_node),
        ("cold start python3.10", on.figures.cold_python, off.figures.cold_python),
    ];
    let mut verdicts = Vec::new();
    for (name, with, without) in rows {
        let (with, without) = (median(with), median(without));
        let ratio = with.as_secs_f64() / without.as_secs_f64().max(1e-9);
        let delta_ms = (with.as_secs_f64() - without.as_secs_f64()) * 1000.0;
        println!("{name:<24} {:>9.0} µs {:>9.0} µs {ratio:>9.3}x {delta_ms:>+8.2} ms", us(with), us(without));
        let ok = if name.starts_with("warm") { ratio <= 1.05 } else { delta_ms <= 2.0 };
        verdicts.push(format!("  {name:<24} {}", if ok { "ok" } else { "MISS" }));
    }
    println!("targets: warm p50 within 5% of off; cold start at most 2 ms more");
    for verdict in verdicts {
        println!("{verdict}");
    }
    Ok(())
}
