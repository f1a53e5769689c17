//! What the invoker needs from the operating system to run an instance, as a trait the invoker defines
//! (the consumer defines the trait): start a confined runtime process with a control channel, kill it,
//! read its peak memory, learn how it ended. [`ferric_sandbox::Sandbox`] implements it for real; the unit
//! tests' double runs an in-process fake runtime that speaks the real frame protocol.

use std::ffi::OsString;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use ferric_sandbox::{BindMount, Binder, Exit, Killer, Layout, Limits, MemoryProbe, Network, Sandbox, SpawnSpec};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::instance::StartError;

/// A byte stream from the instance (its control channel's read half, its stdout or stderr).
pub(crate) type Input = Box<dyn AsyncRead + Send + Unpin>;
/// The write half of an instance's control channel.
pub(crate) type Output = Box<dyn AsyncWrite + Send + Unpin>;
pub(crate) type SpawnFuture<'a> = Pin<Box<dyn Future<Output = Result<Spawned, StartError>> + Send + 'a>>;
/// Resolves once the process has been reaped (its pid may then be someone else's).
pub(crate) type ExitFuture = Pin<Box<dyn Future<Output = Exit> + Send>>;
pub(crate) type BindFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StartError>> + Send + 'a>>;

/// Starts instances. Called on cold starts only, never per request.
pub(crate) trait Spawner: Send + Sync + 'static {
    /// Where an instance sees its code, the bootstraps and its scratch space.
    fn layout(&self, code_dir: &Path, runtime_dir: &Path, scratch_dir: &Path, layer_dirs: &[PathBuf]) -> Layout;
    /// Whether the instance needs a scratch directory on the host (no private tmpfs).
    fn needs_host_scratch(&self) -> bool;
    /// Starts one runtime process with stdin from `/dev/null`, its control channel on fd 3.
    fn spawn(&self, spec: ProcessSpec) -> SpawnFuture<'_>;
    /// Whether [`Spawner::spawn_cell`] works here (see [`crate::stem`]).
    fn supports_cells(&self) -> bool;
    /// Starts a stem cell: like [`Spawner::spawn`] but with an empty code directory (`spec.code_dir` is
    /// unused) until [`ProcessHandle::bind`] fills it, once.
    fn spawn_cell(&self, spec: ProcessSpec) -> SpawnFuture<'_>;
}

/// One instance's process: [`ferric_sandbox::SpawnSpec`] without the control socket, which the spawner
/// makes (a socketpair for a real process, an in-memory pipe for the test double).
#[derive(Debug, Clone)]
pub(crate) struct ProcessSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The whole environment: nothing is inherited.
    pub env: Vec<(OsString, OsString)>,
    pub code_dir: PathBuf,
    pub runtime_dir: PathBuf,
    pub layer_dirs: Vec<PathBuf>,
    pub scratch_dir: PathBuf,
    pub limits: Limits,
    pub network: Network,
}

/// A started instance.
pub(crate) struct Spawned {
    /// The invoker's end of the control channel.
    pub control: (Input, Output),
    pub stdout: Option<Input>,
    pub stderr: Option<Input>,
    pub handle: Arc<dyn ProcessHandle>,
    pub exit: ExitFuture,
}

/// What can be done to a running instance.
pub(crate) trait ProcessHandle: Send + Sync {
    /// Kills every process of the instance. Callers never call it after `exit` resolved.
    fn kill(&self);
    /// Peak memory in KiB, while the process lives.
    fn peak_kib(&self) -> Option<u64>;
    /// Shows each host tree read-only inside a stem cell; refused for a normal instance or a second time.
    fn bind(&self, mounts: Vec<BindMount>) -> BindFuture<'_>;
}

impl Spawner for Sandbox {
    fn layout(&self, code_dir: &Path, runtime_dir: &Path, scratch_dir: &Path, layer_dirs: &[PathBuf]) -> Layout {
        Sandbox::layout(self, code_dir, runtime_dir, scratch_dir, layer_dirs)
    }

    fn needs_host_scratch(&self) -> bool {
        Sandbox::needs_host_scratch(self)
    }

    fn spawn(&self, spec: ProcessSpec) -> SpawnFuture<'_> {
        Box::pin(sandbox_spawn(self, spec, false))
    }

    fn supports_cells(&self) -> bool {
        Sandbox::supports_cells(self)
    }

    fn spawn_cell(&self, spec: ProcessSpec) -> SpawnFuture<'_> {
        Box::pin(sandbox_spawn(self, spec, true))
    }
}

async fn sandbox_spawn(sandbox: &Sandbox, spec: ProcessSpec, cell: bool) -> Result<Spawned, StartError> {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(StartError::Socket)?;
    ours.set_nonblocking(true).map_err(StartError::Socket)?;
    let socket = tokio::net::UnixStream::from_std(ours).map_err(StartError::Socket)?;
    let ProcessSpec { program, args, env, code_dir, runtime_dir, layer_dirs, scratch_dir, limits, network } = spec;
    let control = theirs.into();
    let spec =
        SpawnSpec { program, args, env, code_dir, runtime_dir, layer_dirs, scratch_dir, control, limits, network };
    let mut process = if cell { sandbox.spawn_cell(spec).await? } else { sandbox.spawn(spec).await? };
    let (read, write) = socket.into_split();
    let handle =
        Arc::new(SandboxProcess { killer: process.killer(), memory: process.memory(), binder: process.binder() });
    Ok(Spawned {
        control: (Box::new(read), Box::new(write)),
        stdout: process.stdout.take(),
        stderr: process.stderr.take(),
        handle,
        exit: Box::pin(process.wait()),
    })
}

struct SandboxProcess {
    killer: Killer,
    memory: MemoryProbe,
    binder: Binder,
}

impl ProcessHandle for SandboxProcess {
    fn kill(&self) {
        self.killer.kill();
    }

    fn peak_kib(&self) -> Option<u64> {
        self.memory.peak_kib()
    }

    fn bind(&self, mounts: Vec<BindMount>) -> BindFuture<'_> {
        Box::pin(async move { Ok(self.binder.bind(mounts).await?) })
    }
}
