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
//! - `link`: the server's end of the helper conversation; `wire`: its messages.
//! - [`helper_main`] (`helper`): the `sandbox-exec` process; `probe`: what the machine allows; `seed`:
//!   the pre-placed processes that clone reapers; `cgroup`: the drivers.
//! - `confine`: the reaper and the runtime's privilege drop; `rootfs`: the fresh root; `landlock`,
//!   `seccomp`: the last two locks.
//! - `direct`: the `off` mode spawn; `lifeline`: the watcher that kills its instances when the server dies.

#![deny(unsafe_code)]

mod bind;
mod cgroup;
mod confine;
mod direct;
mod helper;
mod landlock;
mod lifeline;
mod link;
mod probe;
mod report;
mod rootfs;
mod seccomp;
mod seed;
mod wire;

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use thiserror::Error;
use tokio::io::AsyncRead;
use tokio::sync::oneshot;

use link::{HelperLink, HelperSlot};

pub use cgroup::CgroupKind;
pub use helper::helper_main;
pub use wire::{BindMount, Features, Limits, Network};

/// The descriptor number a runtime finds its control socket on.
pub const CONTROL_FD: i32 = 3;
/// Where the function's code appears inside a confined instance.
pub const CODE_DIR: &str = "/code";
/// Where the runtime bootstraps appear inside a confined instance.
pub const RUNTIME_DIR: &str = "/opt/ferric/runtime";
/// The instance's private scratch space inside a confined instance.
pub const TMP_DIR: &str = "/tmp";
/// Where a function's layers are merged, as FC mounts them.
pub const OPT_DIR: &str = "/opt";

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
    /// The function's layers on the host, first wins: merged read-only at [`OPT_DIR`] in a mount
    /// namespace; without one the runtime reaches them in place through its search paths.
    pub layer_dirs: Vec<PathBuf>,
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
    /// Where the instance sees its layers, in precedence order: `[/opt]` (merged) in a mount namespace,
    /// each layer's host tree without one, nothing for a function without layers.
    pub opt: Vec<PathBuf>,
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
    binder: Binder,
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

    pub fn binder(&self) -> Binder {
        self.binder.clone()
    }
}

/// Fills a stem cell ([`Sandbox::spawn_cell`]) with its function's trees, once.
#[derive(Clone)]
pub struct Binder(Option<(u64, Arc<HelperLink>)>);

impl Binder {
    /// Shows each `host` directory read-only at its `inside` path in the cell; a cell takes one bind in
    /// its life. Fails for an instance that is not an unbound cell.
    pub async fn bind(&self, mounts: Vec<BindMount>) -> Result<(), SandboxError> {
        match &self.0 {
            Some((id, helper)) => helper.bind(*id, mounts).await,
            None => Err(SandboxError::Setup("not a stem cell".into())),
        }
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
    pub fn layout(&self, code_dir: &Path, runtime_dir: &Path, scratch_dir: &Path, layer_dirs: &[PathBuf]) -> Layout {
        if self.helper.as_ref().is_some_and(|h| h.features.mountns) {
            let opt = if layer_dirs.is_empty() { Vec::new() } else { vec![PathBuf::from(OPT_DIR)] };
            Layout { code: CODE_DIR.into(), runtime: RUNTIME_DIR.into(), tmp: TMP_DIR.into(), opt }
        } else {
            Layout {
                code: code_dir.to_path_buf(),
                runtime: runtime_dir.to_path_buf(),
                tmp: scratch_dir.to_path_buf(),
                opt: layer_dirs.to_vec(),
            }
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
            Some(helper) => helper.live().await?.spawn(spec, false, None).await,
        }
    }

    /// Starts an interactive session (`ferric sbox`): `terminal` (a pty's far end) is its stdin, stdout,
    /// stderr and controlling terminal; `spec.code_dir` is writable at `/code`, and the program runs as
    /// that directory's owner, so what it writes there is the user's (as root: uid 0 without any
    /// capability, `/proc/sys` read-only). `tools`' installations are shown like the program's. The
    /// rest of the confinement is a function's. Needs a mount namespace: without one there is no
    /// `/code` to show, so this refuses.
    pub async fn spawn_terminal(
        &self,
        spec: SpawnSpec,
        terminal: OwnedFd,
        tools: Vec<PathBuf>,
    ) -> Result<Process, SandboxError> {
        match &self.helper {
            Some(helper) if helper.features.mountns => {
                helper.live().await?.spawn(spec, false, Some((terminal, tools))).await
            }
            _ => Err(SandboxError::Setup(format!(
                "a session needs a sandbox with a mount namespace, and this one has none ({})",
                self.summary()
            ))),
        }
    }

    /// Whether [`Sandbox::spawn_cell`] works here: root, a mount namespace, overlayfs and the new mount
    /// API. Without them (user-namespace mode, `--sandbox off`) instances start the normal way.
    pub fn supports_cells(&self) -> bool {
        self.helper.as_ref().is_some_and(|h| h.features.cells)
    }

    /// Starts a stem cell: an instance like [`Sandbox::spawn`]'s whose `/code` is an empty directory
    /// (`spec.code_dir` is unused) until [`Binder::bind`] fills it. The same confinement applies: the
    /// runtime has dropped its uid and entered landlock and seccomp before its `exec`.
    pub async fn spawn_cell(&self, spec: SpawnSpec) -> Result<Process, SandboxError> {
        match &self.helper {
            Some(helper) if helper.features.cells => helper.live().await?.spawn(spec, true, None).await,
            _ => Err(SandboxError::Setup("this sandbox has no stem cells".into())),
        }
    }

    /// The helper process's pid (for diagnostics and tests); `None` in `off` mode.
    pub fn helper_pid(&self) -> Option<u32> {
        self.helper.as_ref()?.current().pid()
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
