//! Starting function instances confined. This is the only crate with `unsafe`: the code that runs between
//! `fork` and `exec`, the namespace and mount work, and the descriptor passing.
//!
//! ## Design
//! The async server never forks to build a sandbox. At start it launches one single-threaded helper (the
//! hidden `ferric sandbox-exec` subcommand) and talks to it over a `SOCK_SEQPACKET` socketpair
//! ([`wire`]). For each instance the helper:
//! 1. makes the instance's cgroup and writes its limits ([`cgroup`]);
//! 2. `clone`s a reaper into new mount, pid, ipc, uts and (for `internetAccess: false`) net namespaces,
//!    plus a user namespace when the server is not root; the helper places the reaper in the cgroup
//!    while it builds a fresh root: read-only `/usr`, a curated `/etc`, the code read-only at `/code`,
//!    the runtime bootstraps at `/opt/ferric/runtime`, a private tmpfs `/tmp`, a minimal `/dev`, `/proc`
//!    ([`confine`]);
//! 3. the reaper (pid 1 of the namespace) forks the runtime, which wires its descriptors, takes a uid
//!    of its own (root mode; in user-namespace mode `exec` leaves it without capabilities), sets
//!    rlimits and `no_new_privs`, enters landlock ([`landlock`]), installs the seccomp filter last
//!    ([`seccomp`]) and `exec`s the interpreter;
//! 4. when the runtime exits, the reaper exits with its status and the kernel kills whatever the function
//!    left behind in the namespace; the helper reports the exit (and whether the OOM killer acted) and
//!    removes the cgroup. The tmpfs `/tmp` goes with the mount namespace.
//!
//! Every feature is probed by the helper when it starts. In `best-effort` mode a missing one is skipped
//! with one warning; `strict` refuses to start without all of them; `off` spawns runtimes directly, as
//! plain child processes (development only).
//!
//! Layout:
//! - [`Sandbox`]: the server's handle (start, spawn, features); [`Process`]: one started instance.
//! - [`helper_main`]: the `sandbox-exec` process.
//! - `direct`: the `off` mode spawn.

#![deny(unsafe_code)]

mod cgroup;
mod confine;
mod direct;
mod helper;
mod landlock;
mod seccomp;
mod wire;

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thiserror::Error;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, Interest};
use tokio::sync::oneshot;

pub use cgroup::CgroupKind;
pub use helper::helper_main;
pub use wire::{Features, Limits, Network};

/// The descriptor number a runtime finds its control socket on.
pub const CONTROL_FD: i32 = 3;
/// Where the function's code appears inside a confined instance.
pub const CODE_DIR: &str = "/code";
/// Where the runtime bootstraps appear inside a confined instance.
pub const RUNTIME_DIR: &str = "/opt/ferric/runtime";
/// The instance's private scratch space inside a confined instance.
pub const TMP_DIR: &str = "/tmp";

#[derive(Debug, Error)]
pub enum SandboxError {
    #[error("cannot start {program}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the sandbox helper: {0}")]
    Helper(String),
    #[error("the sandbox is strict and this machine lacks: {}", .0.join("; "))]
    Unavailable(Vec<String>),
    #[error("the sandbox could not start the instance: {0}")]
    Setup(String),
}

/// How hard the server insists on confinement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refuse to start unless every feature is available.
    Strict,
    /// Use what is available; warn once per missing feature.
    BestEffort,
    /// Start runtimes as plain child processes.
    Off,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "strict" => Some(Mode::Strict),
            "best-effort" => Some(Mode::BestEffort),
            "off" => Some(Mode::Off),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::Strict => "strict",
            Mode::BestEffort => "best-effort",
            Mode::Off => "off",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub mode: Mode,
    /// The helper's command line, without its arguments: the `ferric` binary and `sandbox-exec`.
    pub helper: Vec<OsString>,
    /// A directory the sandbox owns (`<data-dir>/sandbox`): `root/`, the empty directory each instance
    /// mounts its new root over (inside its own mount namespace), and `etc/`, the curated `/etc`.
    pub work_dir: PathBuf,
    /// First uid handed to instances when the server runs as root.
    pub uid_base: u32,
}

/// Resource bounds and placement of one instance.
pub struct SpawnSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The whole environment: nothing is inherited.
    pub env: Vec<(OsString, OsString)>,
    pub code_dir: PathBuf,
    pub runtime_dir: PathBuf,
    /// The instance's own directory on the host: cwd-independent scratch space when there is no mount
    /// namespace (it is `HOME` and `TMPDIR` then).
    pub scratch_dir: PathBuf,
    /// Becomes fd [`CONTROL_FD`] in the child.
    pub control: OwnedFd,
    pub limits: Limits,
    pub network: Network,
}

/// Where an instance sees its files.
#[derive(Debug, Clone)]
pub struct Layout {
    pub code: PathBuf,
    pub runtime: PathBuf,
    pub tmp: PathBuf,
}

/// How an instance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// Exit code, or `128 + signal` when a signal ended it.
    pub code: i32,
    /// The memory limit was hit and the OOM killer acted.
    pub oom: bool,
}

/// A started instance: its output streams, its exit, and how to stop it.
pub struct Process {
    pub pid: u32,
    pub stdout: Option<Box<dyn AsyncRead + Send + Unpin>>,
    pub stderr: Option<Box<dyn AsyncRead + Send + Unpin>>,
    exit: oneshot::Receiver<Exit>,
    killer: Killer,
    memory: MemoryProbe,
}

impl Process {
    /// Waits for the instance to end. An instance whose helper died counts as killed.
    pub async fn wait(self) -> Exit {
        self.exit.await.unwrap_or(Exit { code: 128 + libc::SIGKILL, oom: false })
    }

    pub fn killer(&self) -> Killer {
        self.killer.clone()
    }

    pub fn memory(&self) -> MemoryProbe {
        self.memory.clone()
    }
}

/// Kills every process of one instance.
#[derive(Clone)]
pub struct Killer(KillerInner);

#[derive(Clone)]
enum KillerInner {
    Group(u32),
    Helper { id: u64, helper: Arc<HelperLink> },
}

impl Killer {
    pub fn kill(&self) {
        match &self.0 {
            KillerInner::Group(pgid) => kill_group(*pgid),
            KillerInner::Helper { id, helper } => helper.kill(*id),
        }
    }
}

/// Reads an instance's peak memory use.
#[derive(Clone, Debug)]
pub struct MemoryProbe(Option<PathBuf>, u32);

impl MemoryProbe {
    /// Peak memory in KiB: the cgroup's peak when one tracks the instance, else the runtime's `VmHWM`.
    pub fn peak_kib(&self) -> Option<u64> {
        if let Some(file) = &self.0 {
            let bytes: u64 = std::fs::read_to_string(file).ok()?.trim().parse().ok()?;
            return Some(bytes / 1024);
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.1)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

/// The server's handle on the sandbox. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    mode: Mode,
    helper: Option<Arc<HelperSlot>>,
}

/// The helper in use, and how to start another if it dies (its instances die with it; new ones must not).
struct HelperSlot {
    config: SandboxConfig,
    current: Mutex<Arc<HelperLink>>,
    /// Held while a replacement starts, so concurrent spawns start one, not several.
    restarting: tokio::sync::Mutex<()>,
    /// What the first helper found: the machine does not change under a running server.
    features: Features,
    missing: Vec<String>,
}

impl HelperSlot {
    fn current(&self) -> Arc<HelperLink> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The live helper, started anew if the current one has exited.
    async fn live(&self) -> Result<Arc<HelperLink>, SandboxError> {
        let link = self.current();
        if link.alive.load(Ordering::Acquire) {
            return Ok(link);
        }
        let _one_at_a_time = self.restarting.lock().await;
        let link = self.current();
        if link.alive.load(Ordering::Acquire) {
            return Ok(link);
        }
        let fresh = HelperLink::start(&self.config).await?;
        tracing::warn!("sandbox: the helper had exited; started a new one");
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        Ok(fresh)
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("mode", &self.mode).finish()
    }
}

impl Sandbox {
    /// No confinement: runtimes are plain child processes.
    pub fn off() -> Sandbox {
        Sandbox { mode: Mode::Off, helper: None }
    }

    /// Starts the helper and learns what this machine offers. In strict mode a missing feature is an error.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        if config.mode == Mode::Off {
            return Ok(Sandbox::off());
        }
        let link = HelperLink::start(&config).await?;
        if config.mode == Mode::Strict && !link.missing.is_empty() {
            return Err(SandboxError::Unavailable(link.missing.clone()));
        }
        let slot = HelperSlot {
            features: link.features.clone(),
            missing: link.missing.clone(),
            current: Mutex::new(link),
            restarting: tokio::sync::Mutex::new(()),
            config,
        };
        Ok(Sandbox { mode: slot.config.mode, helper: Some(Arc::new(slot)) })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// What the helper found; all false in `off` mode.
    pub fn features(&self) -> Features {
        self.helper.as_ref().map(|h| h.features.clone()).unwrap_or_default()
    }

    /// The features best-effort mode goes without, one line each.
    pub fn missing(&self) -> Vec<String> {
        self.helper.as_ref().map(|h| h.missing.clone()).unwrap_or_default()
    }

    /// One line for the start-up log: `mode=best-effort userns=yes pidns=yes seccomp=yes landlock=abi7 ...`.
    pub fn summary(&self) -> String {
        let f = self.features();
        let yes = |b: bool| if b { "yes" } else { "no" };
        let landlock = if f.landlock > 0 { format!("abi{}", f.landlock) } else { "no".into() };
        format!(
            "mode={} root={} userns={} mountns={} pidns={} netns={} ipcns={} utsns={} seccomp={} landlock={} cgroup={}",
            self.mode.label(),
            yes(f.root),
            yes(f.userns),
            yes(f.mountns),
            yes(f.pidns),
            yes(f.netns),
            yes(f.ipcns),
            yes(f.utsns),
            yes(f.seccomp),
            landlock,
            f.cgroup.label(),
        )
    }

    /// Where instances see their code, bootstraps and scratch space.
    pub fn layout(&self, code_dir: &Path, runtime_dir: &Path, scratch_dir: &Path) -> Layout {
        if self.helper.as_ref().is_some_and(|h| h.features.mountns) {
            Layout { code: CODE_DIR.into(), runtime: RUNTIME_DIR.into(), tmp: TMP_DIR.into() }
        } else {
            Layout { code: code_dir.to_path_buf(), runtime: runtime_dir.to_path_buf(), tmp: scratch_dir.to_path_buf() }
        }
    }

    /// Whether the instance needs a scratch directory on the host (no private tmpfs).
    pub fn needs_host_scratch(&self) -> bool {
        !self.helper.as_ref().is_some_and(|h| h.features.mountns)
    }

    /// Starts one instance with stdin from `/dev/null` and stdout/stderr piped to the returned process.
    pub async fn spawn(&self, spec: SpawnSpec) -> Result<Process, SandboxError> {
        match &self.helper {
            None => direct::spawn(spec),
            Some(helper) => helper.live().await?.spawn(spec).await,
        }
    }

    /// The helper process's pid (for diagnostics and tests); `None` in `off` mode.
    pub fn helper_pid(&self) -> Option<u32> {
        let link = self.helper.as_ref()?.current();
        let child = link.child.lock().unwrap_or_else(|p| p.into_inner());
        child.as_ref().map(std::process::Child::id)
    }
}

/// Sends SIGKILL to every process in the group `pgid` leads.
pub fn kill_group(pgid: u32) {
    let Ok(pgid) = i32::try_from(pgid) else { return };
    if pgid <= 1 {
        return;
    }
    #[allow(unsafe_code)]
    // SAFETY: kill takes plain integers; a negative pid addresses the process group. Errors (already gone)
    // are irrelevant here.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// A pipe whose read end the server keeps (non-blocking, async) and whose write end goes to the instance.
fn output_pipe() -> std::io::Result<(Box<dyn AsyncRead + Send + Unpin>, OwnedFd)> {
    let mut fds = [0; 2];
    #[allow(unsafe_code)]
    // SAFETY: pipe2 writes two new descriptors into our array.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(unsafe_code)]
    // SAFETY: both descriptors are new and owned by nobody else.
    let (read, write) = unsafe {
        use std::os::fd::FromRawFd;
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    let receiver = tokio::net::unix::pipe::Receiver::from_owned_fd(read)?;
    Ok((Box::new(receiver), write))
}

/// A started instance as the helper reports it: reaper pid, runtime pid, peak-memory file.
type Started = (u32, u32, Option<PathBuf>);

/// What a pending spawn waits for, and where its exit goes afterwards.
struct Waiting {
    started: Option<oneshot::Sender<Result<Started, String>>>,
    exited: Option<oneshot::Sender<Exit>>,
}

/// The server's end of the helper conversation.
struct HelperLink {
    socket: AsyncFd<OwnedFd>,
    features: Features,
    missing: Vec<String>,
    waiting: Mutex<HashMap<u64, Waiting>>,
    next_id: AtomicU64,
    alive: AtomicBool,
    /// Taken (and waited for) once the helper has exited.
    child: Mutex<Option<std::process::Child>>,
}

impl HelperLink {
    async fn start(config: &SandboxConfig) -> Result<Arc<HelperLink>, SandboxError> {
        let helper_error = |e: &dyn std::fmt::Display| SandboxError::Helper(e.to_string());
        let (ours, theirs) = wire::seqpacket_pair().map_err(|e| helper_error(&e))?;
        let root_mount_point = config.work_dir.join("root");
        std::fs::create_dir_all(&root_mount_point).map_err(|e| helper_error(&e))?;
        let helper_config = wire::HelperConfig {
            root_mount_point,
            etc_template: config.work_dir.join("etc"),
            strict: config.mode == Mode::Strict,
            uid_base: config.uid_base,
        };
        let (program, args) = config.helper.split_first().ok_or_else(|| SandboxError::Helper("no helper".into()))?;
        // Handed over by number. No pre_exec closure: the server is never forked for this.
        wire::clear_cloexec(&theirs).map_err(|e| helper_error(&e))?;
        let spawned = std::process::Command::new(program)
            .args(args)
            .arg(theirs.as_raw_fd().to_string())
            .arg(serde_json::to_string(&helper_config).map_err(|e| helper_error(&e))?)
            .env_clear()
            .stdin(std::process::Stdio::null())
            // Its own process group: Ctrl-C at a terminal stops the server (which drains, then closes the
            // socket, which ends the helper), not the helper under the instances still answering.
            .process_group(0)
            .spawn();
        drop(theirs);
        let child = spawned.map_err(|e| SandboxError::Helper(format!("{}: {e}", Path::new(program).display())))?;
        #[allow(unsafe_code)]
        // SAFETY: the AsyncFd owns the socket from here on; nothing else closes or replaces it.
        let socket =
            unsafe { AsyncFd::register_with_interest(ours, Interest::READABLE) }.map_err(|e| helper_error(&e))?;
        let hello = tokio::time::timeout(Duration::from_secs(20), recv_message(&socket))
            .await
            .map_err(|_| SandboxError::Helper("no answer from the helper".into()))?
            .map_err(|e| helper_error(&e))?;
        let Some(wire::FromHelper::Hello { features, missing }) = hello else {
            return Err(SandboxError::Helper("the helper did not introduce itself".into()));
        };
        let link = Arc::new(HelperLink {
            socket,
            features,
            missing,
            waiting: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            alive: AtomicBool::new(true),
            child: Mutex::new(Some(child)),
        });
        tokio::spawn(read_helper(Arc::downgrade(&link)));
        Ok(link)
    }

    async fn spawn(self: &Arc<Self>, spec: SpawnSpec) -> Result<Process, SandboxError> {
        if !self.alive.load(Ordering::Acquire) {
            return Err(SandboxError::Setup("the sandbox helper has exited".into()));
        }
        let program = spec.program.display().to_string();
        let io_error = |source| SandboxError::Spawn { program: program.clone(), source };
        let (stdout, stdout_w) = output_pipe().map_err(io_error)?;
        let (stderr, stderr_w) = output_pipe().map_err(io_error)?;
        let text = |s: OsString| s.into_string().map_err(|s| format!("not UTF-8: {}", s.to_string_lossy()));
        let convert = || -> Result<wire::Job, String> {
            Ok(wire::Job {
                program: spec.program.clone(),
                args: spec.args.iter().cloned().map(text).collect::<Result<_, _>>()?,
                env: spec.env.iter().cloned().map(|(k, v)| Ok((text(k)?, text(v)?))).collect::<Result<_, String>>()?,
                code_dir: spec.code_dir.clone(),
                runtime_dir: spec.runtime_dir.clone(),
                scratch_dir: spec.scratch_dir.clone(),
                limits: spec.limits,
                network: spec.network,
            })
        };
        let job = convert().map_err(SandboxError::Setup)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (started_tx, started_rx) = oneshot::channel();
        let (exited_tx, exited_rx) = oneshot::channel();
        self.lock().insert(id, Waiting { started: Some(started_tx), exited: Some(exited_tx) });
        let message = wire::ToHelper::Spawn { id, job: Box::new(job) };
        let fds = [spec.control.as_raw_fd(), stdout_w.as_raw_fd(), stderr_w.as_raw_fd()];
        if let Err(e) = self.send(&message, &fds).await {
            self.lock().remove(&id);
            return Err(io_error(e));
        }
        // The helper holds its own copies now; ours close here so EOF follows the instance.
        drop((spec.control, stdout_w, stderr_w));
        let started = started_rx.await.unwrap_or_else(|_| Err("the sandbox helper has exited".into()));
        let (pid, runtime_pid, peak_file) = started.map_err(SandboxError::Setup)?;
        Ok(Process {
            pid,
            stdout: Some(stdout),
            stderr: Some(stderr),
            exit: exited_rx,
            killer: Killer(KillerInner::Helper { id, helper: self.clone() }),
            memory: MemoryProbe(peak_file, runtime_pid),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Waiting>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn send(&self, message: &wire::ToHelper, fds: &[i32]) -> std::io::Result<()> {
        let fd = self.socket.get_ref().as_raw_fd();
        loop {
            match wire::send(fd, message, fds, libc::MSG_DONTWAIT) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                other => return other,
            }
        }
    }

    fn kill(&self, id: u64) {
        // A tiny datagram on a socket the helper drains continuously: sending it blocking is fine even
        // from Drop. Errors mean the helper is gone, and its instances with it.
        let _ = wire::send(self.socket.get_ref().as_raw_fd(), &wire::ToHelper::Kill { id }, &[], 0);
    }
}

/// Reads one message; `None` when the helper closed its end.
async fn recv_message(socket: &AsyncFd<OwnedFd>) -> std::io::Result<Option<wire::FromHelper>> {
    loop {
        let mut guard = socket.readable().await?;
        match guard.try_io(|s| wire::recv(s.get_ref().as_raw_fd(), libc::MSG_DONTWAIT)) {
            Ok(Ok(received)) if received.bytes.is_empty() => return Ok(None),
            Ok(Ok(received)) => {
                return serde_json::from_slice(&received.bytes).map(Some).map_err(std::io::Error::other)
            }
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => continue,
        }
    }
}

/// Routes the helper's reports to the spawns and processes waiting for them, until the helper is gone.
async fn read_helper(link: std::sync::Weak<HelperLink>) {
    loop {
        let Some(strong) = link.upgrade() else { return };
        // The task keeps the link (and so the helper) alive until the helper exits or the runtime stops.
        let message = match recv_message(&strong.socket).await {
            Ok(Some(message)) => message,
            Ok(None) | Err(_) => {
                strong.alive.store(false, Ordering::Release);
                tracing::error!("the sandbox helper exited, and its instances with it; the next start replaces it");
                // Pending spawns fail and running instances count as killed (their senders drop here).
                strong.lock().clear();
                let child = strong.child.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(mut child) = child {
                    tokio::task::spawn_blocking(move || child.wait());
                }
                return;
            }
        };
        match message {
            wire::FromHelper::Started { id, pid, runtime_pid, memory_peak_file } => {
                if let Some(sender) = strong.lock().get_mut(&id).and_then(|w| w.started.take()) {
                    let _ = sender.send(Ok((pid, runtime_pid, memory_peak_file)));
                }
            }
            wire::FromHelper::Failed { id, error } => {
                if let Some(mut waiting) = strong.lock().remove(&id) {
                    if let Some(sender) = waiting.started.take() {
                        let _ = sender.send(Err(error));
                    }
                }
            }
            wire::FromHelper::Exited { id, code, oom } => {
                if let Some(mut waiting) = strong.lock().remove(&id) {
                    if let Some(sender) = waiting.exited.take() {
                        let _ = sender.send(Exit { code, oom });
                    }
                }
            }
            wire::FromHelper::Hello { .. } => {}
        }
    }
}
