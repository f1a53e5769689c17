//! The server's end of the helper conversation: starting the `sandbox-exec` helper (and a new one if it
//! dies), sending it spawns and kills, and routing its reports (started, failed, exited) to the spawns
//! and processes waiting for them.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, Interest};
use tokio::sync::oneshot;

use crate::wire::{self, Features};
use crate::{Binder, Exit, Killer, KillerInner, MemoryProbe, Process, SandboxConfig, SandboxError, SpawnSpec};

/// The helper in use, and how to start another if it dies (its instances die with it; new ones must not).
pub(crate) struct HelperSlot {
    pub config: SandboxConfig,
    pub current: Mutex<Arc<HelperLink>>,
    /// Held while a replacement starts, so concurrent spawns start one, not several.
    pub restarting: tokio::sync::Mutex<()>,
    /// What the first helper found: the machine does not change under a running server.
    pub features: Features,
    pub missing: Vec<String>,
}

impl HelperSlot {
    pub fn current(&self) -> Arc<HelperLink> {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The live helper, started anew if the current one has exited.
    pub async fn live(&self) -> Result<Arc<HelperLink>, SandboxError> {
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
    /// A stem cell's bind in progress: `None` answers success.
    bound: Option<oneshot::Sender<Option<String>>>,
}

/// The server's end of the helper conversation.
pub(crate) struct HelperLink {
    socket: AsyncFd<OwnedFd>,
    pub features: Features,
    pub missing: Vec<String>,
    waiting: Mutex<HashMap<u64, Waiting>>,
    next_id: AtomicU64,
    alive: AtomicBool,
    /// Taken (and waited for) once the helper has exited.
    child: Mutex<Option<std::process::Child>>,
}

impl HelperLink {
    /// The helper process's pid, until it has exited.
    pub fn pid(&self) -> Option<u32> {
        self.child.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(std::process::Child::id)
    }

    pub async fn start(config: &SandboxConfig) -> Result<Arc<HelperLink>, SandboxError> {
        let helper_error = |e: &dyn std::fmt::Display| SandboxError::Helper(e.to_string());
        let (ours, theirs) = wire::seqpacket_pair().map_err(|e| helper_error(&e))?;
        let root_mount_point = config.work_dir.join("root");
        std::fs::create_dir_all(&root_mount_point).map_err(|e| helper_error(&e))?;
        let helper_config = wire::HelperConfig {
            root_mount_point,
            etc_template: config.work_dir.join("etc"),
            empty_layer: config.work_dir.join("empty"),
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

    /// Starts one instance; a stem `cell` gets an empty `/code` ([`HelperLink::bind`] fills it). With a
    /// `terminal` it is an interactive session on it (no output pipes).
    pub async fn spawn(
        self: &Arc<Self>,
        spec: SpawnSpec,
        cell: bool,
        terminal: Option<(OwnedFd, Vec<std::path::PathBuf>)>,
    ) -> Result<Process, SandboxError> {
        if !self.alive.load(Ordering::Acquire) {
            return Err(SandboxError::Setup("the sandbox helper has exited".into()));
        }
        let program = spec.program.display().to_string();
        let io_error = |source| SandboxError::Spawn { program: program.clone(), source };
        let (session, tools) = terminal.map_or((None, Vec::new()), |(fd, tools)| (Some(fd), tools));
        let is_terminal = session.is_some();
        let ((stdout, stdout_w), (stderr, stderr_w)) = match session {
            // The session's output goes to its terminal: both "write ends" are that terminal.
            Some(tty) => {
                let copy = tty.try_clone().map_err(io_error)?;
                ((None, tty), (None, copy))
            }
            None => {
                let (out, out_w) = output_pipe().map_err(io_error)?;
                let (err, err_w) = output_pipe().map_err(io_error)?;
                ((Some(out), out_w), (Some(err), err_w))
            }
        };
        let text = |s: OsString| s.into_string().map_err(|s| format!("not UTF-8: {}", s.to_string_lossy()));
        let convert = || -> Result<wire::Job, String> {
            Ok(wire::Job {
                program: spec.program.clone(),
                args: spec.args.iter().cloned().map(text).collect::<Result<_, _>>()?,
                env: spec.env.iter().cloned().map(|(k, v)| Ok((text(k)?, text(v)?))).collect::<Result<_, String>>()?,
                code_dir: spec.code_dir.clone(),
                runtime_dir: spec.runtime_dir.clone(),
                layer_dirs: spec.layer_dirs.clone(),
                scratch_dir: spec.scratch_dir.clone(),
                limits: spec.limits,
                network: spec.network,
                cell,
                terminal: is_terminal,
                tools: tools.clone(),
            })
        };
        let job = convert().map_err(SandboxError::Setup)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (started_tx, started_rx) = oneshot::channel();
        let (exited_tx, exited_rx) = oneshot::channel();
        self.lock().insert(id, Waiting { started: Some(started_tx), exited: Some(exited_tx), bound: None });
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
            stdout,
            stderr,
            exit: exited_rx,
            killer: Killer(KillerInner::Helper { id, helper: self.clone() }),
            binder: Binder(Some((id, self.clone()))),
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

    /// Shows `mounts` inside the running stem cell `id` (once per cell; the helper refuses a second).
    pub async fn bind(&self, id: u64, mounts: Vec<wire::BindMount>) -> Result<(), SandboxError> {
        let (tx, rx) = oneshot::channel();
        match self.lock().get_mut(&id) {
            Some(waiting) if waiting.bound.is_none() => waiting.bound = Some(tx),
            Some(_) => return Err(SandboxError::Setup("a bind of this cell is already under way".into())),
            None => return Err(SandboxError::Setup("the cell has exited".into())),
        }
        let message = wire::ToHelper::Bind { id, mounts };
        if let Err(e) = self.send(&message, &[]).await {
            return Err(SandboxError::Setup(format!("bind: {e}")));
        }
        match rx.await {
            Ok(None) => Ok(()),
            Ok(Some(error)) => Err(SandboxError::Setup(format!("bind: {error}"))),
            Err(_) => Err(SandboxError::Setup("the cell or the sandbox helper exited during its bind".into())),
        }
    }

    pub fn kill(&self, id: u64) {
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
            wire::FromHelper::Bound { id, error } => {
                if let Some(sender) = strong.lock().get_mut(&id).and_then(|w| w.bound.take()) {
                    let _ = sender.send(error);
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
