//! Test-only helpers: a real Ferric server on `127.0.0.1:0` with a temporary data directory, clients for
//! two accounts, and zip fixtures. Tests talk to it over real HTTP, as users and the official SDKs do.
//!
//! Layout:
//! - [`TestServer`]: start, endpoint, keys, clients; stops when dropped.
//! - [`zip_of`]: build a zip package in memory.
//! - [`functions`]: create, invoke and read one function `f` (the runtime suites' shared steps).
//! - `tests/`: the integration suites, the layering test and the official-SDK suites' runner.

use std::io::Write;
use std::path::{Path, PathBuf};

use ferric_client::Client;
use ferric_server::{AccessKey, AppState, Keyring, ServerConfig};
use tokio::sync::oneshot;

pub mod functions;

/// The main test account and a second one, for isolation tests.
pub const ACCOUNT: &str = "1234567890123456";
pub const KEY_ID: &str = "TESTKEYID";
pub const KEY_SECRET: &str = "test-secret-0123456789";
pub const OTHER_ACCOUNT: &str = "2222222222222222";
pub const OTHER_KEY_ID: &str = "OTHERKEYID";
pub const OTHER_KEY_SECRET: &str = "other-secret-0123456789";

pub struct TestServer {
    pub endpoint: String,
    pub addr: std::net::SocketAddr,
    data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Starts a server with default limits.
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts a server after `tune` adjusts its config (limits, TTLs).
    pub async fn start_with(tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        TestServer::start_in(tempfile::tempdir().expect("temp dir"), tune).await
    }

    /// Stops this server and starts another on the same data directory, as a restart of `ferric serve`
    /// would: what the store and code directory hold survives, processes do not.
    pub async fn restart_with(mut self, tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let data_dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir().expect("temp dir"));
        self.stop().await;
        TestServer::start_in(data_dir, tune).await
    }

    async fn start_in(data_dir: tempfile::TempDir, tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let keyring = Keyring::new([
            AccessKey { account_id: ACCOUNT.into(), id: KEY_ID.into(), secret: KEY_SECRET.into() },
            AccessKey { account_id: OTHER_ACCOUNT.into(), id: OTHER_KEY_ID.into(), secret: OTHER_KEY_SECRET.into() },
        ]);
        let mut config = ServerConfig::new(data_dir.path().to_path_buf(), keyring);
        config.invoker.sandbox = sandbox(data_dir.path()).await;
        tune(&mut config);
        let state = AppState::open(config).expect("open state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(ferric_server::run(listener, state, async move {
            let _ = stopped.await;
        }));
        TestServer { endpoint: format!("http://{addr}"), addr, data_dir, stop: Some(stop), task: Some(task) }
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// A signing client for the main account.
    pub fn client(&self) -> Client {
        Client::new(&self.endpoint, ACCOUNT, KEY_ID, KEY_SECRET)
    }

    /// A signing client for the second account.
    pub fn other_client(&self) -> Client {
        Client::new(&self.endpoint, OTHER_ACCOUNT, OTHER_KEY_ID, OTHER_KEY_SECRET)
    }

    /// Environment variables the official-SDK suites read.
    pub fn sdk_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FC_ENDPOINT", self.endpoint.clone()),
            ("FC_ACCOUNT_ID", ACCOUNT.into()),
            ("FC_ACCESS_KEY_ID", KEY_ID.into()),
            ("FC_ACCESS_KEY_SECRET", KEY_SECRET.into()),
            ("FERRIC_OTHER_ACCOUNT_ID", OTHER_ACCOUNT.into()),
            ("FERRIC_OTHER_ACCESS_KEY_ID", OTHER_KEY_ID.into()),
            ("FERRIC_OTHER_ACCESS_KEY_SECRET", OTHER_KEY_SECRET.into()),
        ]
    }

    /// Stops accepting, drains, and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The sandbox every test server confines its functions with: best-effort, as `ferric serve` defaults
/// to, through the helper binary cargo builds beside the test executables. `FERRIC_TEST_SANDBOX=off`
/// turns it off (to tell a sandbox problem from another).
pub async fn sandbox(data_dir: &Path) -> ferric_sandbox::Sandbox {
    let mode = std::env::var("FERRIC_TEST_SANDBOX").ok().and_then(|m| ferric_sandbox::Mode::parse(&m));
    let mode = mode.unwrap_or(ferric_sandbox::Mode::BestEffort);
    ferric_sandbox::Sandbox::start(ferric_sandbox::SandboxConfig {
        mode,
        helper: vec![helper_binary().into()],
        work_dir: data_dir.join("sandbox"),
        uid_base: 1_900_000_000,
    })
    .await
    .expect("the sandbox starts")
}

/// `target/<profile>/ferric-sandbox-exec`: test executables live in `target/<profile>/deps`.
fn helper_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target directory");
    let helper = profile_dir.join("ferric-sandbox-exec");
    assert!(helper.exists(), "{} is missing: build the workspace (cargo test --workspace)", helper.display());
    helper
}

/// A zip (deflated) holding the given files.
pub fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, contents) in files {
            zip.start_file(*name, options).expect("zip entry");
            zip.write_all(contents.as_bytes()).expect("zip write");
        }
        zip.finish().expect("zip finish");
    }
    cursor.into_inner()
}

/// A zip (deflated) holding the given files with their Unix modes (an executable `bootstrap` is 0o755).
pub fn zip_with_modes(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, contents, mode) in files {
            zip.start_file(*name, options.unix_permissions(*mode)).expect("zip entry");
            zip.write_all(contents).expect("zip write");
        }
        zip.finish().expect("zip finish");
    }
    cursor.into_inner()
}

/// The repository root, for tests that read project files or run the SDK suites.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// The host pids of the processes of instance `id`, found by its `FC_INSTANCE_ID` (the runtime, and in
/// the sandbox the reaper above it).
pub fn instance_pids(id: &str) -> Vec<u32> {
    let needle = format!("FC_INSTANCE_ID={id}\0");
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let env = std::fs::read(entry.path().join("environ")).ok()?;
            env.windows(needle.len()).any(|w| w == needle.as_bytes()).then_some(pid)
        })
        .collect()
}

/// Whether a process of instance `id` still runs on this machine, found by its `FC_INSTANCE_ID`
/// (inside the sandbox pids belong to the instance's own namespace and say nothing on the host).
pub fn instance_alive(id: &str) -> bool {
    let needle = format!("FC_INSTANCE_ID={id}\0");
    let Ok(entries) = std::fs::read_dir("/proc") else { return false };
    entries.flatten().any(|entry| {
        std::fs::read(entry.path().join("environ"))
            .is_ok_and(|env| env.windows(needle.len()).any(|w| w == needle.as_bytes()))
    })
}

/// A unique resource name for one test.
pub fn unique(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}
