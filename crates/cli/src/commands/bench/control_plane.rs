//! `ferric bench control-plane`: creates N functions (distinct 1 KB zips) through the FC API, then measures
//! GetFunction and ListFunctions (pages of 100) at that size, and the server's resident memory. The server
//! runs as a separate `ferric serve` process so its RSS is its own.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Args;
use ferric_client::Client;
use reqwest::Method;

use super::percentile;
use super::server::ServerProcess;

#[derive(Args, Debug)]
pub struct ControlPlaneArgs {
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

pub async fn run(args: ControlPlaneArgs) -> Result<()> {
    if args.functions == 0 || args.concurrency == 0 {
        bail!("--functions and --concurrency must be at least 1");
    }
    let server = ServerProcess::start()?;
    let client = server.client();
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
