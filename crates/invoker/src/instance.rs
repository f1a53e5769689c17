//! One running instance: a runtime process, its control socket, and the requests in flight on it.
//!
//! A reader task owns the socket's read half and completes requests as answers arrive (matched by id, so
//! an instance may serve several at once). Log frames are appended to their request's bounded log. A
//! waiter task owns the child process: when it exits, every pending request fails with FC's "Process
//! exited unexpectedly" error and the scratch directory is removed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ferric_sandbox::{Layout, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{oneshot, OwnedSemaphorePermit};

use crate::clock::{Clock, Instant};
use crate::discovery::Interpreter;
use crate::exchange::{HttpRequest, InvokeContext};
use crate::frame::{self, FrameReader};
use crate::launch;
use crate::logs::LogBuffer;
use crate::message::{FromRuntime, HttpResponseHead, Init, ToRuntime};
use crate::spawner::{ExitFuture, Input, Output, ProcessHandle, ProcessSpec, Spawned};
use crate::{FunctionVersion, Inner, InvokerConfig};

/// How a request ended, as the runtime (or its death) reported it.
#[derive(Debug)]
pub(crate) enum Reply {
    Result {
        body: Bytes,
        http: Option<HttpResponseHead>,
    },
    Error {
        error_type: String,
        body: Bytes,
    },
    /// The process exited (or was killed) first.
    Exited,
}

/// What a request asks of the runtime: [`ToRuntime`] without the id and request id, which
/// [`Instance::call`] adds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Call<'a> {
    Initialize,
    Invoke { http: Option<&'a HttpRequest>, context: &'a InvokeContext },
}

struct Pending {
    request_id: String,
    log: LogBuffer,
    reply: oneshot::Sender<(Reply, LogBuffer)>,
}

#[derive(Default)]
struct Requests {
    pending: HashMap<u64, Pending>,
    /// The request most recently sent: stray stdout/stderr output is logged against it.
    latest: Option<u64>,
}

pub(crate) struct Instance {
    pub id: String,
    /// Kills the process and reads its memory.
    process: Arc<dyn ProcessHandle>,
    /// The memory cgroup's OOM killer ended it (set before pending requests are failed).
    oom: AtomicBool,
    writer: tokio::sync::Mutex<Output>,
    requests: Mutex<Requests>,
    next_id: AtomicU64,
    alive: AtomicBool,
    /// Set once the process has been reaped: its pid may then belong to someone else, so it is never
    /// signalled again.
    exited: Arc<AtomicBool>,
    /// Requests currently assigned by the pool (changed under the pool's lock).
    pub in_flight: AtomicUsize,
    pub last_used: Mutex<Instant>,
    /// Peak resident memory in KiB, sampled after answers (it cannot be read after the process died).
    peak_kib: AtomicU64,
    /// When `peak_kib` was last read from /proc, in ms since `born`: reading it costs tens of µs, so
    /// answers sample it at most every [`SAMPLE_EVERY_MS`].
    sampled_ms: AtomicU64,
    born: Instant,
    clock: Clock,
    /// Whether the initializer ran: `Some(Ok)` once done, `Some(Err(body))` when it failed.
    pub initialized: tokio::sync::OnceCell<Result<(), Bytes>>,
    max_log_bytes: usize,
    /// Released when the instance is dropped: this instance's share of the server's memory budget.
    _memory: OwnedSemaphorePermit,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    #[error("cannot prepare the instance directory {path}")]
    Scratch {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the control socket")]
    Socket(#[source] std::io::Error),
    #[error(transparent)]
    Spawn(#[from] ferric_sandbox::SandboxError),
    #[error("the runtime did not become ready: {0}")]
    NotReady(String),
}

/// The environment FC gives a function, in order of precedence (user variables may not override FC's).
fn environment(config: &InvokerConfig, version: &FunctionVersion, id: &str, layout: &Layout) -> Vec<(String, String)> {
    let spec = &version.spec;
    let mut env: Vec<(String, String)> = vec![("LANG".into(), "C.UTF-8".into())];
    for (key, value) in &spec.environment_variables {
        env.push((key.clone(), value.clone()));
    }
    let code = layout.code.display().to_string();
    let tmp = layout.tmp.display().to_string();
    let fixed = [
        ("FC_FUNC_CODE_PATH", code),
        ("FC_FUNCTION_MEMORY_SIZE", spec.memory_size.to_string()),
        ("FC_RUNTIME_VERSION", spec.runtime.clone()),
        ("FC_ACCOUNT_ID", version.account_id.clone()),
        ("FC_FUNCTION_HANDLER", spec.handler.clone()),
        ("FC_FUNCTION_NAME", version.function.clone()),
        ("FC_SERVICE_NAME", version.service.clone()),
        ("FC_QUALIFIER", version.qualifier.clone()),
        ("FC_VER_ID", version.qualifier.clone()),
        ("FC_REGION", config.region.clone()),
        ("FC_INSTANCE_ID", id.to_string()),
        ("FC_SERVER_LOG_LEVEL", "INFO".to_string()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".to_string()),
        ("HOME", tmp.clone()),
        ("TMPDIR", tmp),
        ("FERRIC_CONTROL_FD", ferric_sandbox::CONTROL_FD.to_string()),
    ];
    env.retain(|(key, _)| !fixed.iter().any(|(k, _)| k == key) && key != "NODE_PATH");
    env.extend(fixed.into_iter().map(|(k, v)| (k.to_string(), v)));
    if let Some(init) = &spec.initializer {
        env.push(("FC_FUNCTION_INITIALIZER".into(), init.clone()));
    }
    env
}

/// The limits every instance of a function gets (a stem cell of its memory size too).
pub(crate) fn instance_limits(config: &InvokerConfig, memory_mb: u32) -> Limits {
    Limits { memory_mb, pids: config.max_processes, open_files: 4096, tmp_mb: config.tmp_size_mb }
}

/// A runtime process that has said `ready`.
pub(crate) struct Booted {
    pub reader: FrameReader<Input>,
    pub writer: Output,
    pub stdout: Option<Input>,
    pub stderr: Option<Input>,
    pub handle: Arc<dyn ProcessHandle>,
    pub exit: ExitFuture,
}

/// The parts of a started process the instance keeps watching.
struct Child {
    stdout: Option<Input>,
    stderr: Option<Input>,
    exit: ExitFuture,
}

/// Waits for a just-spawned runtime's `ready`; kills it if it says anything else or nothing in time.
pub(crate) async fn boot(spawned: Spawned, ready_timeout: Duration, clock: Clock) -> Result<Booted, StartError> {
    let Spawned { control: (read_half, writer), stdout, mut stderr, handle: process, exit } = spawned;
    let mut reader = FrameReader::new(read_half);
    let ready = clock.timeout(ready_timeout, reader.next()).await;
    match ready {
        Ok(Ok((FromRuntime::Ready { runtime }, _))) => {
            tracing::debug!(%runtime, "runtime ready");
        }
        Ok(Ok((other, _))) => {
            process.kill();
            return Err(StartError::NotReady(format!("unexpected first message {other:?}")));
        }
        Ok(Err(e)) => {
            process.kill();
            let mut text = String::new();
            if let Some(mut err) = stderr.take() {
                let _ = clock.timeout(Duration::from_millis(200), err.read_to_string(&mut text)).await;
            }
            let detail = text.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
            return Err(StartError::NotReady(format!("{e}; {detail}")));
        }
        Err(_) => {
            process.kill();
            return Err(StartError::NotReady(format!("no answer within {ready_timeout:?}")));
        }
    }
    Ok(Booted { reader, writer, stdout, stderr, handle: process, exit })
}

impl Instance {
    /// Starts a runtime process for `version` and waits for its `ready`.
    pub async fn start(
        inner: &Inner,
        version: &FunctionVersion,
        interpreter: &Interpreter,
        memory: OwnedSemaphorePermit,
    ) -> Result<Arc<Instance>, StartError> {
        let (config, spawner, clock) = (&inner.config, &inner.spawner, inner.clock);
        let id = uuid::Uuid::new_v4().simple().to_string();
        let scratch = config.instances_dir.join(&id);
        if spawner.needs_host_scratch() {
            std::fs::create_dir_all(&scratch)
                .map_err(|source| StartError::Scratch { path: scratch.clone(), source })?;
        }
        let layout = spawner.layout(&version.code_dir, &config.runtimes_dir, &scratch, &version.layer_dirs);

        if version.spec.runtime.starts_with("java") {
            // Ferric's Java runtime jar and its CDS archive are built at first use (`java.rs`).
            crate::java::prepare(spawner.as_ref(), config, interpreter, clock).await.map_err(StartError::NotReady)?;
        }
        let launch = launch::launch(config, version, interpreter, &layout);
        let mut env = environment(config, version, &id, &layout);
        env.retain(|(key, _)| !launch.env.iter().any(|(k, _)| k == key));
        env.extend(launch.env.iter().cloned());
        crate::opt::apply(&version.spec.runtime, &layout.opt, &mut env);
        let cell_key = inner.stem.key(version, interpreter, &launch);
        let cell = match &cell_key {
            Some(key) => inner.stem.take(key, clock, launch.ready_timeout).await,
            None => None,
        };
        let from_cell = match cell {
            Some(cell) => match crate::stem::fill(cell, &version.code_dir, &layout, &env).await {
                Ok(booted) => Some(booted),
                Err(e) => {
                    // A cell that died idle, or a bind the sandbox refused: start the normal way.
                    tracing::warn!(function = %version.function, error = %e, "stem cell unusable");
                    None
                }
            },
            None => None,
        };
        let booted = match from_cell {
            Some(booted) => {
                tracing::debug!(instance = %id, function = %version.function, "instance from a stem cell");
                booted
            }
            None => {
                let spawned = spawner
                    .spawn(ProcessSpec {
                        program: launch.program,
                        args: launch.args.into_iter().map(Into::into).collect(),
                        env: env.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
                        code_dir: version.code_dir.clone(),
                        runtime_dir: config.runtimes_dir.clone(),
                        layer_dirs: version.layer_dirs.clone(),
                        scratch_dir: scratch.clone(),
                        limits: instance_limits(config, version.spec.memory_size),
                        network: launch.network,
                    })
                    .await;
                match spawned {
                    Ok(spawned) => boot(spawned, launch.ready_timeout, clock).await?,
                    Err(e) => {
                        let _ = std::fs::remove_dir_all(&scratch);
                        return Err(e);
                    }
                }
            }
        };
        let Booted { reader, writer: write_half, stdout, stderr, handle: process, exit } = booted;
        let mut child = Child { stdout, stderr, exit };

        let exited = Arc::new(AtomicBool::new(false));
        let instance = Arc::new(Instance {
            id: id.clone(),
            process: process.clone(),
            oom: AtomicBool::new(false),
            writer: tokio::sync::Mutex::new(write_half),
            requests: Mutex::new(Requests::default()),
            next_id: AtomicU64::new(1),
            alive: AtomicBool::new(true),
            exited: exited.clone(),
            in_flight: AtomicUsize::new(0),
            last_used: Mutex::new(clock.now()),
            peak_kib: AtomicU64::new(0),
            sampled_ms: AtomicU64::new(0),
            born: clock.now(),
            clock,
            initialized: tokio::sync::OnceCell::new(),
            max_log_bytes: config.max_log_bytes,
            _memory: memory,
        });
        let init = ToRuntime::Init(Init::new(version, &config.region));
        instance.sample_memory();
        if instance.send(&init, b"").await.is_err() {
            process.kill();
            return Err(StartError::NotReady("the runtime closed its socket before init".into()));
        }

        tokio::spawn(read_answers(Arc::downgrade(&instance), reader));
        for stream in [child.stdout.take(), child.stderr.take()].into_iter().flatten() {
            tokio::spawn(pump_output(Arc::downgrade(&instance), stream));
        }
        let watched = Arc::downgrade(&instance);
        tokio::spawn(async move {
            // The sandbox kills whatever the runtime left behind once it exits.
            let exit = child.exit.await;
            exited.store(true, Ordering::Release);
            if let Some(instance) = watched.upgrade() {
                if exit.oom {
                    instance.oom.store(true, Ordering::Release);
                }
                instance.on_exit();
            }
            if tokio::fs::metadata(&scratch).await.is_ok() {
                let _ = tokio::fs::remove_dir_all(&scratch).await;
            }
        });
        Ok(instance)
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// Kills the whole process group; pending requests fail as the process exits.
    pub fn kill(&self) {
        // The last chance to read its memory use: /proc forgets it once the process is gone.
        self.sample_memory();
        self.alive.store(false, Ordering::Release);
        if !self.exited.load(Ordering::Acquire) {
            self.process.kill();
        }
    }

    /// Whether the memory limit ended this instance.
    pub fn oom_killed(&self) -> bool {
        self.oom.load(Ordering::Acquire)
    }

    fn on_exit(&self) {
        self.alive.store(false, Ordering::Release);
        let pending: Vec<Pending> = {
            let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            requests.pending.drain().map(|(_, p)| p).collect()
        };
        for p in pending {
            let _ = p.reply.send((Reply::Exited, p.log));
        }
    }

    async fn send(&self, header: &ToRuntime<'_>, body: &[u8]) -> std::io::Result<()> {
        let frame = frame::encode(header, body).map_err(std::io::Error::other)?;
        let mut writer = self.writer.lock().await;
        writer.write_all(&frame).await
    }

    /// Sends one `initialize` or `invoke` and returns where its answer (with its log) will arrive.
    pub async fn call(
        &self,
        call: Call<'_>,
        request_id: &str,
        body: &[u8],
        log: LogBuffer,
    ) -> oneshot::Receiver<(Reply, LogBuffer)> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
            requests.pending.insert(id, Pending { request_id: request_id.to_string(), log, reply: tx });
            requests.latest = Some(id);
        }
        let header = match call {
            Call::Initialize => ToRuntime::Initialize { id, request_id },
            Call::Invoke { http, context } => ToRuntime::Invoke { id, request_id, http, context },
        };
        if self.send(&header, body).await.is_err() {
            // The process is gone or going; its exit fails the request (or we do, if it already exited).
            let orphan = self.requests.lock().unwrap_or_else(|p| p.into_inner()).pending.remove(&id);
            if let Some(p) = orphan {
                let _ = p.reply.send((Reply::Exited, p.log));
            }
        }
        rx
    }

    /// Takes back a request that timed out, with the log it had so far.
    pub fn abandon(&self, request_id: &str) -> Option<LogBuffer> {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let id = requests.pending.iter().find(|(_, p)| p.request_id == request_id).map(|(id, _)| *id)?;
        requests.pending.remove(&id).map(|p| p.log)
    }

    fn complete(&self, id: u64, reply: Reply) {
        let pending = self.requests.lock().unwrap_or_else(|p| p.into_inner()).pending.remove(&id);
        let now = self.clock.now().duration_since(self.born).as_millis() as u64;
        if now.saturating_sub(self.sampled_ms.load(Ordering::Relaxed)) >= SAMPLE_EVERY_MS {
            self.sampled_ms.store(now, Ordering::Relaxed);
            self.sample_memory();
        }
        if let Some(p) = pending {
            let _ = p.reply.send((reply, p.log));
        }
    }

    /// Appends to a request's log; `dropped` bytes went missing just before `bytes` (see [`LogBuffer::skip`]).
    fn append_log(&self, request_id: Option<&str>, dropped: u64, bytes: &[u8]) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let requests = &mut *requests;
        let target = match request_id {
            Some(rid) => requests.pending.values_mut().find(|p| p.request_id == rid),
            None => None,
        };
        let target = match target {
            Some(t) => Some(t),
            None => match requests.latest {
                Some(latest) => requests.pending.get_mut(&latest),
                None => None,
            },
        };
        if let Some(p) = target {
            p.log.skip(dropped);
            p.log.push(bytes);
        }
    }

    fn sample_memory(&self) {
        if let Some(kib) = self.process.peak_kib() {
            self.peak_kib.fetch_max(kib, Ordering::Relaxed);
        }
    }

    /// Peak resident memory in MB, as FC's `x-fc-max-memory-usage` reports it.
    pub fn max_memory_mb(&self) -> u64 {
        self.peak_kib.load(Ordering::Relaxed).div_ceil(1024)
    }

    pub fn new_log(&self) -> LogBuffer {
        LogBuffer::new(self.max_log_bytes)
    }
}

impl Drop for Instance {
    /// The last handle gone (its pool dropped it, or the server is stopping): nothing of it may outlive
    /// the server, including children it started.
    fn drop(&mut self) {
        if !self.exited.load(Ordering::Acquire) {
            self.process.kill();
        }
    }
}

/// Memory is re-read at most this often on the answer path.
const SAMPLE_EVERY_MS: u64 = 50;

async fn read_answers(instance: std::sync::Weak<Instance>, mut reader: FrameReader<Input>) {
    loop {
        let next = reader.next().await;
        let Some(instance) = instance.upgrade() else { return };
        match next {
            Ok((FromRuntime::Result { id, http }, body)) => instance.complete(id, Reply::Result { body, http }),
            Ok((FromRuntime::Error { id, error_type }, body)) => {
                instance.complete(id, Reply::Error { error_type, body })
            }
            Ok((FromRuntime::Log { request_id, dropped }, body)) => {
                instance.append_log(Some(&request_id), dropped, &body)
            }
            Ok((FromRuntime::Ready { .. }, _)) => {}
            Err(e) => {
                if instance.is_alive() {
                    tracing::debug!(instance = %instance.id, error = %e, "runtime control socket ended");
                }
                // A runtime that breaks the protocol is not trusted with another request.
                instance.kill();
                return;
            }
        }
    }
}

/// Output written below the bootstrap (child processes, native code) goes to the latest request's log.
async fn pump_output(instance: std::sync::Weak<Instance>, mut stream: Box<dyn tokio::io::AsyncRead + Unpin + Send>) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => match instance.upgrade() {
                Some(instance) => instance.append_log(None, 0, &buffer[..n]),
                None => return,
            },
        }
    }
}
