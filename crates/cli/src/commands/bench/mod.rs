//! `ferric bench`: benchmarks that start a fresh server process and print figures beside their targets
//! and a baseline measured in the same run.
//!
//! Layout:
//! - `server`: a `ferric serve` child process on a free port, with its RSS.
//! - `control_plane`: create N functions, then time Get and List.
//! - `invoke`: noop Node.js and Python functions through InvokeFunction and HTTP triggers, beside a bare
//!   Node `http` server.
//! - `async_queue`: durable async enqueues per second and enqueue -> start latency.
//! - `cold`: create → first result with and without stem cells, beside the bare interpreters' start, and
//!   the idle cells' PSS.
//! - `sandbox`: warm latency and cold start with the sandbox on and off, servers side by side.
//! - `burst`: a burst of connections on a noop Node.js HTTP trigger (scale-out, instances started, p50
//!   before and after), beside workerd and serverless-offline (`peers`, installed by `scripts/setup-bench`).
//! - `load`: a minimal keep-alive HTTP/1.1 load generator (latency at 1 connection, throughput at N, bursts).

mod async_queue;
mod burst;
mod cold;
mod control_plane;
mod custom;
mod invoke;
mod java;
mod load;
mod peers;
mod sandbox;
mod server;

use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    which: Which,
}

#[derive(Subcommand, Debug)]
enum Which {
    /// Create N functions, then time Get and List and read the server's RSS.
    ControlPlane(control_plane::ControlPlaneArgs),
    /// Warm latency, throughput and cold start of noop Node.js and Python functions, beside bare Node http.
    Invoke(invoke::InvokeArgs),
    /// Durable async enqueues per second and enqueue -> start latency.
    Async(async_queue::AsyncArgs),
    /// A burst of connections on a noop Node.js HTTP trigger, beside workerd and serverless-offline.
    Burst(burst::BurstArgs),
    /// Create → first result with and without stem cells, beside bare `node -e ''` / `python3 -c ''`.
    Cold(cold::ColdArgs),
    /// What the sandbox costs: warm p50 and cold start with --sandbox best-effort vs off, in one run.
    Sandbox(sandbox::SandboxArgs),
}

pub fn run(args: BenchArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match args.which {
        Which::ControlPlane(a) => runtime.block_on(control_plane::run(a)),
        Which::Invoke(a) => runtime.block_on(invoke::run(a)),
        Which::Async(a) => runtime.block_on(async_queue::run(a)),
        Which::Sandbox(a) => runtime.block_on(sandbox::run(a)),
        Which::Burst(a) => runtime.block_on(burst::run(a)),
        Which::Cold(a) => runtime.block_on(cold::run(a)),
    }
}

/// The value at quantile `p` of sorted samples.
pub(crate) fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    if sorted.is_empty() {
        return std::time::Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}
