//! `ferric bench`: benchmarks that start a fresh server process and print figures against their targets.
//!
//! `control-plane`: creates N functions (distinct ~1 KB zips) through the FC API, then measures GetFunction
//! and ListFunctions (pages of 100) at that size, and the server's resident memory. The server runs as a
//! separate `ferric serve` process so its RSS is its own.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use ferric_client::Client;
use reqwest::Method;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    which: Which,
}

#[derive(Subcommand, Debug)]
enum Which {
    /// Create N functions, then time Get and List and read the server's RSS.
    ControlPlane(ControlPlaneArgs),
}

#[derive(Args, Debug)]
struct ControlPlaneArgs {
    /// Functions to create.
    #[arg(long, default_value_t = 10_000)]
    functions: usize,
    /// Concurrent create requests.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Get and List requests to time (each).
    #[arg(long, default_value_t = 1_000)]
    samples: usize,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match args.which {
        Which::ControlPlane(a) => runtime.block_on(control_plane(a)),
    }
}

/// A `ferric serve` child on a free port with a temporary data directory; killed on drop.
struct ServerProcess {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    fn start() -> Result<ServerProcess> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", "--listen", "127.0.0.1:0", "--log", "warn", "--data-dir"])
            .arg(dir.path())
            .args(["--account-id", "1000000000000001", "--access-key-id", "BENCHKEY"])
            .args(["--access-key-secret", "bench-secret-0123456789"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start ferric serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut endpoint = None;
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            if let Some(ep) = line.split_whitespace().find_map(|w| w.strip_prefix("FC_ENDPOINT=")) {
                endpoint = Some(ep.to_string());
                break;
            }
        }
        let endpoint = endpoint.context("server did not print its endpoint")?;
        Ok(ServerProcess { child, endpoint, _dir: dir })
    }

    /// Current and peak resident memory in MB, from /proc.
    fn rss_mb(&self) -> Result<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> f64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<f64>().ok())
                .map(|kb| kb / 1024.0)
                .unwrap_or(f64::NAN)
        };
        Ok((field("VmRSS:"), field("VmHWM:")))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 1 KB zip (one stored file) whose content differs per function (distinct packages, as real deploys are).
fn package(i: usize) -> Result<Vec<u8>> {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let body: String = (0..866)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    let source = format!("// function {i}\nexports.handler = (e, c, cb) => cb(null, '{body}');\n");
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file("index.js", stored)?;
        zip.write_all(source.as_bytes())?;
        zip.finish()?;
    }
    Ok(cursor.into_inner())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn time_requests(
    client: &Client,
    samples: usize,
    path: impl Fn(usize) -> (String, Vec<(String, String)>),
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let (p, query) = path(i);
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let started = Instant::now();
        client.call(Method::GET, &p, &query, None).await?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times)
}

async fn control_plane(args: ControlPlaneArgs) -> Result<()> {
    if args.functions == 0 || args.concurrency == 0 {
        bail!("--functions and --concurrency must be at least 1");
    }
    let server = ServerProcess::start()?;
    let client = Client::new(&server.endpoint, "1000000000000001", "BENCHKEY", "bench-secret-0123456789");
    client.create_service(&serde_json::json!({"serviceName": "bench"})).await?;
    let (idle_rss, _) = server.rss_mb()?;
    eprintln!(
        "bench: server at {} (idle RSS {idle_rss:.1} MB); creating {} functions",
        server.endpoint, args.functions
    );

    let packages: Vec<Vec<u8>> = (0..args.functions).map(package).collect::<Result<_>>()?;
    let mean_zip = packages.iter().map(Vec::len).sum::<usize>() / packages.len();
    let packages = Arc::new(packages);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (client, packages, next) = (client.clone(), packages.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= packages.len() {
                    return Ok::<(), anyhow::Error>(());
                }
                client
                    .create_function("bench", &format!("fn-{i:06}"), "nodejs20", "index.handler", &packages[i])
                    .await?;
                if (i + 1) % 1000 == 0 {
                    eprintln!(
                        "bench: {} / {} created ({:.0}/s)",
                        i + 1,
                        packages.len(),
                        (i + 1) as f64 / started.elapsed().as_secs_f64()
                    );
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let create_secs = started.elapsed().as_secs_f64();
    let creates_per_sec = args.functions as f64 / create_secs;

    let n = args.functions;
    let gets = time_requests(&client, args.samples, |i| {
        (format!("/services/bench/functions/fn-{:06}", (i * 7919) % n), Vec::new())
    })
    .await?;
    let lists = time_requests(&client, args.samples, |i| {
        let start = format!("fn-{:06}", (i * 104_729) % n.saturating_sub(100).max(1));
        ("/services/bench/functions".to_string(), vec![("limit".into(), "100".into()), ("startKey".into(), start)])
    })
    .await?;
    let (rss, peak) = server.rss_mb()?;

    let rows = [
        ("creates/s", creates_per_sec, 500.0, true, ""),
        ("GetFunction p50 ms", ms(percentile(&gets, 0.5)), f64::NAN, false, ""),
        ("GetFunction p99 ms", ms(percentile(&gets, 0.99)), f64::NAN, false, ""),
        ("ListFunctions(100) p50 ms", ms(percentile(&lists, 0.5)), 5.0, false, ""),
        ("ListFunctions(100) p99 ms", ms(percentile(&lists, 0.99)), f64::NAN, false, ""),
        ("server RSS MB (after)", rss, 60.0, false, ""),
        ("server peak RSS MB", peak, f64::NAN, false, ""),
    ];
    println!(
        "control-plane benchmark: {n} functions, {mean_zip} B zips, {} concurrent creates, {} samples",
        args.concurrency, args.samples
    );
    println!("{:<28} {:>12} {:>10} {:>16}", "metric", "measured", "target", "ratio to target");
    for (name, value, target, higher_is_better, _) in rows {
        if target.is_nan() {
            println!("{name:<28} {value:>12.2} {:>10} {:>16}", "-", "-");
        } else {
            let ratio = value / target;
            let ok = if higher_is_better { ratio >= 1.0 } else { ratio <= 1.0 };
            println!("{name:<28} {value:>12.2} {target:>10} {ratio:>11.2}x {}", if ok { "ok" } else { "MISS" });
        }
    }
    Ok(())
}
