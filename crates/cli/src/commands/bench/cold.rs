//! `ferric bench cold`: create → first result of a fresh noop Node.js and Python function, against the
//! bare interpreter's own start (`node -e ''`, `python3 -c ''`), all in one run:
//! - with stem cells (a server with the default `--stem-cells`): a first function after the pool had time
//!   to fill, and a second function right after it;
//! - with `--stem-cells 0` (the baseline: every instance spawned on the request path).
//!
//! Each create → first result is split into the CreateFunction call (upload, zip extraction, store
//! writes) and the first InvokeFunction, of which `X-Fc-Init-Duration` is the instance start. It also
//! reads the proportional set size of the idle cells (`/proc/<pid>/smaps_rollup`) beside the RSS of a
//! bare idle interpreter.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use ferric_client::Client;
use reqwest::Method;
use serde_json::json;

use super::invoke::{NODE_EVENT, PY_EVENT};
use super::percentile;
use super::server::ServerProcess;

#[derive(Args, Debug)]
pub struct ColdArgs {
    /// Samples per figure (pairs of cold starts per runtime and server; bare interpreter starts).
    #[arg(long, default_value_t = 7)]
    samples: usize,
    /// Pause before each pair, so the pool is full for the first of the pair (ms).
    #[arg(long, default_value_t = 1500)]
    pause_ms: u64,
    /// `--stem-cells` of the server with stem cells (that of `ferric serve` by default).
    #[arg(long, default_value_t = 4)]
    stem_cells: usize,
}

/// One create → first result, in parts.
#[derive(Clone, Copy, Default)]
struct Cold {
    create: Duration,
    invoke: Duration,
    init: Duration,
}

impl Cold {
    fn total(&self) -> Duration {
        self.create + self.invoke
    }
}

#[derive(Default)]
struct Series {
    first: Vec<Cold>,
    second: Vec<Cold>,
}

struct Runtime {
    name: &'static str,
    file: &'static str,
    source: &'static str,
    bare: Vec<Duration>,
    /// Per server label: its series.
    series: Vec<Series>,
}

pub async fn run(args: ColdArgs) -> Result<()> {
    let n = args.samples.max(1);
    // The interpreters the server itself finds (shims such as pyenv's resolved), so the bare start
    // is that of the same binary.
    let found = ferric_invoker::Runtimes::discover(None, None);
    let path = |i: Option<ferric_invoker::Interpreter>| i.map(|i| i.path.display().to_string());
    let node = path(found.node).context("no Node.js interpreter found")?;
    let python = path(found.python).context("no Python 3 interpreter found")?;
    let mut runtimes = [
        Runtime { name: "nodejs20", file: "index.js", source: NODE_EVENT, bare: Vec::new(), series: Vec::new() },
        Runtime { name: "python3.10", file: "index.py", source: PY_EVENT, bare: Vec::new(), series: Vec::new() },
    ];
    let bare_commands: [(&str, &[&str]); 2] = [(&node, &["-e", ""]), (&python, &["-c", ""])];

    let cells_flag = args.stem_cells.to_string();
    let servers = [
        ("stem cells", ServerProcess::start_with(&["--stem-cells", &cells_flag])?),
        ("--stem-cells 0", ServerProcess::start_with(&["--stem-cells", "0"])?),
    ];
    for (_, server) in &servers {
        server.client().create_service(&json!({"serviceName": "bench"})).await?;
    }
    // The default pool fills at start; give it time before reading its memory.
    tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
    let cells = idle_cells(servers[0].1.pid());

    for runtime in runtimes.iter_mut() {
        runtime.series = (0..servers.len()).map(|_| Series::default()).collect();
    }
    for i in 0..n {
        // Interleave everything, so machine noise hits every figure alike.
        for (r, runtime) in runtimes.iter_mut().enumerate() {
            let (program, argv) = bare_commands[r];
            runtime.bare.push(time_command(program, argv)?);
            for (s, (label, server)) in servers.iter().enumerate() {
                tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
                let client = server.client();
                let tag = format!("{}-{s}-{i}", runtime.name.replace('.', "-"));
                let first = cold(&client, runtime, &format!("a{tag}")).await.with_context(|| label.to_string())?;
                let second = cold(&client, runtime, &format!("b{tag}")).await.with_context(|| label.to_string())?;
                if std::env::var_os("FERRIC_BENCH_VERBOSE").is_some() {
                    eprintln!("bench: {label} {} init first {:?} second {:?}", runtime.name, first.init, second.init);
                }
                runtime.series[s].first.push(first);
                runtime.series[s].second.push(second);
            }
        }
        eprintln!("bench: round {} of {n} done", i + 1);
    }

    println!(
        "cold-start benchmark: {n} samples per figure, medians, {} ms pause before each pair, --stem-cells {}",
        args.pause_ms, args.stem_cells
    );
    println!("create → first result = CreateFunction + first InvokeFunction (init = X-Fc-Init-Duration)");
    let targets = [("nodejs20", 0.25), ("python3.10", 0.3)];
    for (runtime, (_, target)) in runtimes.iter().zip(targets) {
        let bare = median(runtime.bare.clone());
        println!();
        println!(
            "{}: bare `{}` {:.1} ms",
            runtime.name,
            if runtime.file.ends_with(".py") { "python3 -c ''" } else { "node -e ''" },
            ms(bare)
        );
        println!("  {:<30} {:>9} {:>9} {:>9} {:>9} {:>8}", "", "total", "create", "invoke", "init", "× bare");
        for (s, (label, _)) in servers.iter().enumerate() {
            for (which, samples) in
                [("first", &runtime.series[s].first), ("second, right after", &runtime.series[s].second)]
            {
                let part = |f: fn(&Cold) -> Duration| median(samples.iter().map(f).collect());
                let total = part(Cold::total);
                let ratio = total.as_secs_f64() / bare.as_secs_f64().max(1e-9);
                let verdict = if *label == "stem cells" {
                    if ratio <= target {
                        " ok"
                    } else {
                        " MISS"
                    }
                } else {
                    ""
                };
                println!(
                    "  {:<30} {:>6.1} ms {:>6.1} ms {:>6.1} ms {:>6.1} ms {:>7.2}×{verdict}",
                    format!("{label}, {which}"),
                    ms(total),
                    ms(part(|c| c.create)),
                    ms(part(|c| c.invoke)),
                    ms(part(|c| c.init)),
                    ratio
                );
            }
        }
        println!("  target with stem cells: ≤ {target}× bare");
    }

    println!();
    println!(
        "idle memory (PSS of each idle stem cell, from /proc/<pid>/smaps_rollup; bare = an idle interpreter's RSS)"
    );
    let bare_rss = [
        ("node", idle_rss(&node, &["-e", "setInterval(() => {}, 1000)"])?),
        ("python3", idle_rss(&python, &["-c", "import time; time.sleep(1000)"])?),
    ];
    for (kind, rss) in bare_rss {
        let mine: Vec<&(String, f64, f64)> = cells.iter().filter(|(k, _, _)| k == kind).collect();
        if mine.is_empty() {
            println!("  {kind}: no idle cell found (does this sandbox offer cells? run as root)");
            continue;
        }
        for (_, pss, rss_cell) in mine {
            let verdict = if *pss <= rss { "ok" } else { "MISS" };
            println!(
                "  {kind:<8} cell PSS {pss:>6.1} MB (RSS {rss_cell:.1} MB)   bare RSS {rss:>6.1} MB   {:.2}×  {verdict}",
                pss / rss
            );
        }
    }
    Ok(())
}

/// Creates `name` and invokes it once.
async fn cold(client: &Client, runtime: &Runtime, name: &str) -> Result<Cold> {
    let source = format!("{}\n{} {name}\n", runtime.source, if runtime.file.ends_with(".py") { "#" } else { "//" });
    let zip = super::invoke::zip(runtime.file, &source)?;
    let created = Instant::now();
    client.create_function("bench", name, runtime.name, "index.handler", &zip).await?;
    let invoked = Instant::now();
    let create = invoked - created;
    let response = client
        .send(Method::POST, &format!("/services/bench/functions/{name}/invocations"), &[], &[], Some(Vec::new()))
        .await?;
    let invoke = invoked.elapsed();
    anyhow::ensure!(
        response.status == 200 && response.header("x-fc-error-type").is_none(),
        "cold invoke failed: {}",
        String::from_utf8_lossy(&response.body)
    );
    let init_ms = response.header("x-fc-init-duration").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Ok(Cold { create, invoke, init: Duration::from_millis(init_ms) })
}

fn time_command(program: &str, args: &[&str]) -> Result<Duration> {
    let started = Instant::now();
    let status = Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::null()).status()?;
    anyhow::ensure!(status.success(), "{program} failed");
    Ok(started.elapsed())
}

/// RSS in MB of an idle interpreter, once it has settled.
fn idle_rss(program: &str, args: &[&str]) -> Result<f64> {
    let mut child = Command::new(program).args(args).stdin(Stdio::null()).stdout(Stdio::null()).spawn()?;
    std::thread::sleep(Duration::from_millis(500));
    let rss = memory_field(child.id(), "status", "VmRSS:");
    let _ = child.kill();
    let _ = child.wait();
    rss.context("cannot read the bare interpreter's RSS")
}

fn memory_field(pid: u32, file: &str, name: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    let kib: f64 = text.lines().find_map(|l| l.strip_prefix(name))?.split_whitespace().next()?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The runtime processes below `server` (its sandbox helper's instances): (interpreter, PSS MB, RSS MB).
/// Called before any function exists, so every one is an idle stem cell.
fn idle_cells(server: u32) -> Vec<(String, f64, f64)> {
    let parent_of = |pid: u32| -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
    };
    let below = |mut pid: u32| {
        for _ in 0..16 {
            match parent_of(pid) {
                Some(p) if p == server => return true,
                Some(p) if p > 1 => pid = p,
                _ => return false,
            }
        }
        false
    };
    let mut cells = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return cells };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let kind = if cmdline.contains("node/bootstrap.js") {
            "node"
        } else if cmdline.contains("python/bootstrap.py") {
            "python3"
        } else {
            continue;
        };
        if !below(pid) {
            continue;
        }
        let pss = memory_field(pid, "smaps_rollup", "Pss:").unwrap_or(f64::NAN);
        let rss = memory_field(pid, "status", "VmRSS:").unwrap_or(f64::NAN);
        cells.push((kind.to_string(), pss, rss));
    }
    cells
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    percentile(&values, 0.5)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
