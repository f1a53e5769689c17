//! The test double of the [`Spawner`]: a recording spawner whose "processes" are in-process fake runtimes.
//!
//! Each fake runtime is a tokio task on the far end of an in-memory duplex pipe, speaking the real frame
//! protocol with the real codec (`ready`, then it reads `init`, `initialize`, `invoke` and answers with
//! `result`, `error` and `log` frames). Nothing touches the OS: no process, no socket, no file, so under
//! `tokio::time::pause()` the clock moves only when every task waits on a timer, and a test is
//! deterministic and takes milliseconds. (A real socketpair would not do: tokio advances paused time while
//! an I/O wake-up is still in the kernel, so a timeout could fire before an answer already sent.)
//!
//! What a fake runtime does with an `invoke` is written in the event, one word and an argument:
//! `echo <text>` answers `<text>`; `whoami` answers the instance's number (spawn order, from 0);
//! `sleep <ms>` answers `slept` after that long; `log <text>` logs a line, then answers `ok`;
//! `fail <text>` answers a handled error; `hang` never answers; `exit` and `oom` end the "process" (the
//! latter as the memory cgroup's OOM killer would); `env <NAME>` answers that variable of its environment
//! (a stem cell's after `specialize`); `code` answers the code directory it sees (a cell's bound one). A
//! kill ends it too.
//!
//! With `cells` set it offers stem cells: `spawn_cell` starts the same fake with no code directory, and
//! its handle takes one `bind` (a second, or one on a normal instance, is refused as the sandbox does).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ferric_sandbox::{BindMount, Exit, Layout};
use serde_json::{json, Value};
use tokio::io::{AsyncWriteExt, DuplexStream, WriteHalf};
use tokio::sync::{oneshot, Notify};

use crate::frame::{self, FrameReader};
use crate::instance::StartError;
use crate::spawner::{BindFuture, ProcessHandle, ProcessSpec, SpawnFuture, Spawned, Spawner};

/// Peak memory every fake instance reports: 10 MB.
pub const PEAK_KIB: u64 = 10 * 1024;

/// What the fake runtimes saw and did, across all instances.
#[derive(Debug, Default)]
pub struct Record {
    /// Every spawn, in order; an instance's number is its index here.
    pub spawns: Vec<ProcessSpec>,
    /// Message headers received, with the number of the instance that received them.
    pub received: Vec<(usize, Value)>,
    /// Instances the invoker killed.
    pub killed: BTreeSet<usize>,
    /// Instances whose "process" has ended, for whatever reason.
    pub exited: BTreeSet<usize>,
    /// Most invocations one instance had running at once.
    pub max_in_flight: BTreeMap<usize, usize>,
    /// Instances started as stem cells.
    pub cells: BTreeSet<usize>,
    /// Every bind accepted, with the instance it filled.
    pub binds: Vec<(usize, Vec<BindMount>)>,
    /// Binds refused (a second one, or on a normal instance).
    pub refused_binds: usize,
}

impl Record {
    /// The `type` of each message instance `n` received, in order.
    pub fn types(&self, n: usize) -> Vec<String> {
        self.received
            .iter()
            .filter(|(i, _)| *i == n)
            .map(|(_, h)| h["type"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

#[derive(Default)]
pub struct FakeSpawner {
    record: Arc<Mutex<Record>>,
    /// When set, spawning fails as a missing interpreter would.
    pub fail_spawns: std::sync::atomic::AtomicBool,
    /// How long a fake runtime takes before it says `ready`, in ms (a cold start's cost).
    pub start_delay_ms: std::sync::atomic::AtomicU64,
    /// Whether it offers stem cells (set before the invoker is made: the invoker asks once).
    pub cells: std::sync::atomic::AtomicBool,
}

impl FakeSpawner {
    pub fn record(&self) -> MutexGuard<'_, Record> {
        self.record.lock().expect("record lock")
    }
}

impl Spawner for FakeSpawner {
    fn layout(
        &self,
        _code: &std::path::Path,
        _runtime: &std::path::Path,
        _scratch: &std::path::Path,
        layers: &[std::path::PathBuf],
    ) -> Layout {
        let opt = if layers.is_empty() { Vec::new() } else { vec!["/opt".into()] };
        Layout { code: "/code".into(), runtime: "/opt/ferric/runtime".into(), tmp: "/tmp".into(), opt }
    }

    fn needs_host_scratch(&self) -> bool {
        false
    }

    fn spawn(&self, spec: ProcessSpec) -> SpawnFuture<'_> {
        Box::pin(self.start(spec, false))
    }

    fn supports_cells(&self) -> bool {
        self.cells.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn spawn_cell(&self, spec: ProcessSpec) -> SpawnFuture<'_> {
        Box::pin(self.start(spec, true))
    }
}

impl FakeSpawner {
    async fn start(&self, spec: ProcessSpec, cell: bool) -> Result<Spawned, StartError> {
        if self.fail_spawns.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StartError::Spawn(ferric_sandbox::SandboxError::Spawn {
                program: spec.program.display().to_string(),
                source: std::io::ErrorKind::NotFound.into(),
            }));
        }
        let env: BTreeMap<String, String> = spec
            .env
            .iter()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
            .collect();
        let code = if cell { None } else { Some(spec.code_dir.display().to_string()) };
        let number = {
            let mut record = self.record();
            record.spawns.push(spec);
            let number = record.spawns.len() - 1;
            if cell {
                record.cells.insert(number);
            }
            number
        };
        let (ours, theirs) = tokio::io::duplex(256 * 1024);
        let (read, write) = tokio::io::split(ours);
        let kill = Arc::new(Notify::new());
        let (exit_tx, exit_rx) = oneshot::channel();
        let start_delay = Duration::from_millis(self.start_delay_ms.load(std::sync::atomic::Ordering::Relaxed));
        let bound = Arc::new(Mutex::new(code));
        let runtime = FakeRuntime {
            number,
            record: self.record.clone(),
            kill: kill.clone(),
            start_delay,
            env: Mutex::new(env),
            code: bound.clone(),
        };
        tokio::spawn(runtime.run(theirs, exit_tx));
        let handle = FakeProcess { number, record: self.record.clone(), kill, unbound_cell: Mutex::new(cell), bound };
        Ok(Spawned {
            control: (Box::new(read), Box::new(write)),
            stdout: None,
            stderr: None,
            handle: Arc::new(handle),
            exit: Box::pin(async move { exit_rx.await.unwrap_or(Exit { code: 137, oom: false }) }),
        })
    }
}

struct FakeProcess {
    number: usize,
    record: Arc<Mutex<Record>>,
    kill: Arc<Notify>,
    /// A stem cell not yet bound: the one state in which a bind is accepted.
    unbound_cell: Mutex<bool>,
    /// The code directory the runtime sees, once there is one.
    bound: Arc<Mutex<Option<String>>>,
}

impl ProcessHandle for FakeProcess {
    fn kill(&self) {
        self.record.lock().expect("record lock").killed.insert(self.number);
        // A permit is stored if the runtime is not waiting yet: a kill is never lost.
        self.kill.notify_one();
    }

    fn peak_kib(&self) -> Option<u64> {
        Some(PEAK_KIB)
    }

    fn bind(&self, mounts: Vec<BindMount>) -> BindFuture<'_> {
        Box::pin(async move {
            let mut unbound = self.unbound_cell.lock().expect("cell lock");
            let mut record = self.record.lock().expect("record lock");
            if !*unbound {
                record.refused_binds += 1;
                return Err(StartError::Spawn(ferric_sandbox::SandboxError::Setup("not an unbound stem cell".into())));
            }
            *unbound = false;
            *self.bound.lock().expect("bound lock") = mounts.first().map(|m| m.host.display().to_string());
            record.binds.push((self.number, mounts));
            Ok(())
        })
    }
}

type Writer = Arc<tokio::sync::Mutex<WriteHalf<DuplexStream>>>;

struct FakeRuntime {
    number: usize,
    record: Arc<Mutex<Record>>,
    kill: Arc<Notify>,
    start_delay: Duration,
    env: Mutex<BTreeMap<String, String>>,
    code: Arc<Mutex<Option<String>>>,
}

impl FakeRuntime {
    async fn run(self, stream: DuplexStream, exit: oneshot::Sender<Exit>) {
        let (read, write) = tokio::io::split(stream);
        let writer: Writer = Arc::new(tokio::sync::Mutex::new(write));
        tokio::time::sleep(self.start_delay).await;
        send(&writer, json!({"type": "ready", "runtime": "fake v1"}), b"").await;
        let mut reader = FrameReader::new(read);
        let in_flight = Arc::new(Mutex::new(0usize));
        let mut tasks = tokio::task::JoinSet::new();
        let status = loop {
            let next = tokio::select! {
                _ = self.kill.notified() => break Exit { code: 128 + 9, oom: false },
                next = reader.next_as::<Value>() => next,
            };
            // A real runtime exits when its control socket reaches EOF.
            let Ok((header, body)) = next else { break Exit { code: 0, oom: false } };
            self.record.lock().expect("record lock").received.push((self.number, header.clone()));
            let id = header["id"].as_u64().unwrap_or_default();
            let request_id = header["requestId"].as_str().unwrap_or_default().to_string();
            match header["type"].as_str() {
                Some("initialize") => send(&writer, json!({"type": "result", "id": id}), b"").await,
                Some("specialize") => {
                    let env = header["env"].as_object().cloned().unwrap_or_default();
                    *self.env.lock().expect("env lock") =
                        env.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string())).collect();
                }
                Some("invoke") => {
                    let event = String::from_utf8_lossy(&body).into_owned();
                    let (word, argument) = event.split_once(' ').unwrap_or((event.as_str(), ""));
                    match word {
                        "exit" => break Exit { code: 1, oom: false },
                        "oom" => break Exit { code: 137, oom: true },
                        _ => {}
                    }
                    let running = {
                        let mut n = in_flight.lock().expect("in-flight lock");
                        *n += 1;
                        let mut record = self.record.lock().expect("record lock");
                        let max = record.max_in_flight.entry(self.number).or_default();
                        *max = (*max).max(*n);
                        in_flight.clone()
                    };
                    let argument = match word {
                        "env" => self.env.lock().expect("env lock").get(argument).cloned().unwrap_or_default(),
                        "code" => self.code.lock().expect("code lock").clone().unwrap_or_default(),
                        _ => argument.to_string(),
                    };
                    let word = if matches!(word, "env" | "code") { "echo".to_string() } else { word.to_string() };
                    let (writer, number) = (writer.clone(), self.number);
                    tasks.spawn(async move {
                        answer(&writer, id, &request_id, &word, &argument, number).await;
                        *running.lock().expect("in-flight lock") -= 1;
                    });
                }
                _ => {}
            }
        };
        // Gone: both ends of the pipe close, the invoker reads EOF, then learns the exit.
        tasks.shutdown().await;
        drop((reader, writer));
        self.record.lock().expect("record lock").exited.insert(self.number);
        let _ = exit.send(status);
    }
}

async fn answer(writer: &Writer, id: u64, request_id: &str, word: &str, argument: &str, number: usize) {
    let result = json!({"type": "result", "id": id});
    match word {
        "echo" => send(writer, result, argument.as_bytes()).await,
        "whoami" => send(writer, result, number.to_string().as_bytes()).await,
        "sleep" => {
            tokio::time::sleep(Duration::from_millis(argument.parse().unwrap_or(0))).await;
            send(writer, result, b"slept").await;
        }
        "log" => {
            let line = format!("{argument}\n");
            send(writer, json!({"type": "log", "requestId": request_id}), line.as_bytes()).await;
            send(writer, result, b"ok").await;
        }
        "fail" => {
            let body = json!({ "errorMessage": argument }).to_string();
            send(writer, json!({"type": "error", "id": id, "errorType": "HandledInvocationError"}), body.as_bytes())
                .await;
        }
        "hang" => std::future::pending::<()>().await,
        _ => send(writer, result, b"ok").await,
    }
}

async fn send(writer: &Writer, header: Value, body: &[u8]) {
    let frame = frame::encode(&header, body).expect("encode");
    // The invoker may have gone; a write into a closed pipe is what a real runtime would see too.
    let _ = writer.lock().await.write_all(&frame).await;
}
