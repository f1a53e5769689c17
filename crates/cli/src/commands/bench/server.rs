//! A `ferric serve` child process for benchmarks: fresh data directory, fixed keys, free port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};
use ferric_client::Client;

pub const ACCOUNT: &str = "1000000000000001";
pub const KEY_ID: &str = "BENCHKEY";
pub const KEY_SECRET: &str = "bench-secret-0123456789";

/// A `ferric serve` child on a free port with a temporary data directory; killed on drop.
pub struct ServerProcess {
    child: Child,
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    pub fn start() -> Result<ServerProcess> {
        ServerProcess::start_with(&[])
    }

    /// Starts one with extra `serve` flags (`--sandbox off`).
    pub fn start_with(extra: &[&str]) -> Result<ServerProcess> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", "--listen", "127.0.0.1:0", "--log", "warn", "--data-dir"])
            .arg(dir.path())
            .args(extra)
            .args(["--account-id", ACCOUNT, "--access-key-id", KEY_ID, "--access-key-secret", KEY_SECRET])
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

    /// The server process's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Current and peak resident memory in MB, from /proc.
    pub fn rss_mb(&self) -> Result<(f64, f64)> {
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

impl ServerProcess {
    pub fn client(&self) -> Client {
        Client::new(&self.endpoint, ACCOUNT, KEY_ID, KEY_SECRET)
    }
}
