//! The peers `ferric bench burst` runs beside Ferric, each answering `ok` from a noop JavaScript handler
//! over HTTP on a loopback port: workerd (Cloudflare's Workers runtime) and serverless-offline (the
//! Lambda emulator of the Serverless Framework). `scripts/setup-bench` installs both with npm into
//! [`peers_dir`]; a missing one is reported and skipped, never faked.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Where `scripts/setup-bench` installs the peers: `$FERRIC_BENCH_PEERS`, else `~/.cache/ferric/bench-peers`.
pub fn peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FERRIC_BENCH_PEERS") {
        return dir.into();
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    Path::new(&home).join(".cache/ferric/bench-peers")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Workerd,
    ServerlessOffline,
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Peer::Workerd => "workerd",
            Peer::ServerlessOffline => "serverless-offline",
        }
    }

    /// The file that must exist for this peer to run.
    fn entry(self, dir: &Path) -> PathBuf {
        match self {
            Peer::Workerd => dir.join("node_modules/.bin/workerd"),
            Peer::ServerlessOffline => dir.join("node_modules/serverless-offline/package.json"),
        }
    }

    pub fn installed(self) -> bool {
        self.entry(&peers_dir()).exists()
    }
}

/// A running peer; killed on drop.
pub struct PeerProcess {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

const WORKER_JS: &str = "export default { async fetch() { return new Response('ok'); } };\n";

const HANDLER_JS: &str = "exports.noop = async () => ({ statusCode: 200, body: 'ok' });\n";

const SERVERLESS_YML: &str = "service: bench
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
plugins:
  - serverless-offline
functions:
  noop:
    handler: handler.noop
    events:
      - httpApi:
          path: /
          method: get
";

impl PeerProcess {
    pub async fn start(peer: Peer) -> Result<PeerProcess> {
        let peers = peers_dir();
        if !peer.installed() {
            bail!("{} not installed: run scripts/setup-bench", peer.name());
        }
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let mut command = match peer {
            Peer::Workerd => {
                std::fs::write(dir.path().join("worker.js"), WORKER_JS)?;
                let config = format!(
                    "using Workerd = import \"/workerd/workerd.capnp\";\n\
                     const config :Workerd.Config = (\n\
                       services = [(name = \"main\", worker = .worker)],\n\
                       sockets = [(name = \"http\", address = \"127.0.0.1:{port}\", http = (), service = \"main\")],\n\
                     );\n\
                     const worker :Workerd.Worker = (\n\
                       modules = [(name = \"worker\", esModule = embed \"worker.js\")],\n\
                       compatibilityDate = \"2024-01-01\",\n\
                     );\n"
                );
                std::fs::write(dir.path().join("config.capnp"), config)?;
                let mut c = Command::new(peer.entry(&peers));
                c.args(["serve", "config.capnp"]);
                c
            }
            Peer::ServerlessOffline => {
                std::fs::write(dir.path().join("handler.js"), HANDLER_JS)?;
                std::fs::write(dir.path().join("serverless.yml"), SERVERLESS_YML)?;
                #[cfg(unix)]
                std::os::unix::fs::symlink(peers.join("node_modules"), dir.path().join("node_modules"))?;
                let lambda_port = free_port()?;
                let mut c = Command::new("node");
                c.arg(peers.join("node_modules/serverless/bin/serverless.js"))
                    .args(["offline", "start", "--host", "127.0.0.1", "--httpPort", &port.to_string()])
                    .args(["--lambdaPort", &lambda_port.to_string()])
                    .env("SLS_TELEMETRY_DISABLED", "1")
                    .env("SLS_NOTIFICATIONS_MODE", "off")
                    .env("AWS_ACCESS_KEY_ID", "bench")
                    .env("AWS_SECRET_ACCESS_KEY", "bench");
                c
            }
        };
        let child = command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", peer.name()))?;
        let process = PeerProcess { child, addr: format!("127.0.0.1:{port}"), _dir: dir };
        process.wait_ready(peer).await?;
        Ok(process)
    }

    /// Polls until a GET / answers 200 (serverless-offline takes seconds to boot).
    async fn wait_ready(&self, peer: Peer) -> Result<()> {
        let request = format!("GET / HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr).into_bytes();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut conn) = super::load::Connection::open(&self.addr).await {
                if let Ok(200) = conn.round_trip(&request).await {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("{} did not answer on {} within 60 s", peer.name(), self.addr);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
