//! The invoker: runs function code in reusable runtime processes.
//!
//! Every data-plane path (InvokeFunction, HTTP triggers, later timers and async workers) hands the invoker
//! one [`Request`] for one [`FunctionVersion`]. The invoker finds a warm instance of that exact code and
//! configuration or starts one, sends the request over the runtime's control socket
//! (`runtimes/PROTOCOL.md`), enforces the timeout, and returns the [`Response`] with its log. It never reads
//! the database: the caller resolves the function (through a cache) and passes it in.
//!
//! Layout:
//! - `lib.rs`: [`Invoker`], [`InvokerConfig`], the invoke flow.
//! - `version`: [`FunctionVersion`] and the [`PoolKey`] its instances are shared under.
//! - `exchange`: [`Request`], [`Response`] and the function error kinds.
//! - `pool`: instance pools per function version, the memory budget, throttling, idle reaping.
//! - `scale`: whether a request waits for a busy instance or starts one (expected wait vs cold start).
//! - `keepalive`: how long a pool keeps idle instances, learned from its idle gaps.
//! - `provision`: provisioned instances kept warm per configured line, and on-demand caps.
//! - `instance`: one runtime process and the requests in flight on it.
//! - `spawner`: the `Spawner` trait instances start through; the sandbox implements it.
//! - `stem`: stem cells, generic runtimes started ahead of demand that a cold start binds its code into.
//! - `clock`: the invoker's time (tokio's, so tests pause it).
//! - `message`: the protocol's messages, both directions; `frame`: its frame codec.
//! - `discovery`: which interpreters this machine has.
//! - `bootstrap`: the runtime files embedded in the binary and written out at start.
//! - `logs`: the bounded per-invocation log and its tail.

mod bootstrap;
mod clock;
pub mod discovery;
mod exchange;
mod frame;
mod instance;
mod java;
mod keepalive;
mod launch;
pub mod logs;
mod message;
mod opt;
mod pool;
mod provision;
mod scale;
mod spawner;
mod stem;
#[cfg(test)]
mod tests;
mod version;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Semaphore;

pub use discovery::{Interpreter, Runtimes};
pub use exchange::{FunctionError, HttpRequest, InvokeContext, Request, Response, TracingContext};
/// The sandbox instances start in; the server configures it through [`InvokerConfig::sandbox`].
pub use ferric_sandbox as sandbox;
pub use message::HttpResponseHead;
pub use provision::{ConfigLine, InstanceInfo, VersionResolver};
pub use version::{FunctionVersion, PoolKey};

use clock::{Clock, Instant};
use instance::{Call, Reply};
use pool::{AcquireError, Pool};
use spawner::Spawner;
use version::FunctionKey;

/// What [`Invoker::snapshot`] reports for one function line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceCounts {
    pub account: String,
    pub service: String,
    pub function: String,
    /// `LATEST` or a published version id.
    pub qualifier: String,
    /// Instances running (busy or idle).
    pub live: usize,
    /// Live instances with no request in flight.
    pub idle: usize,
    /// Memory held against the server's budget: `memorySize` of every live or starting instance.
    pub reserved_memory_mb: u64,
}

/// Invoker settings; the server composes them into its own config.
#[derive(Debug, Clone)]
pub struct InvokerConfig {
    /// Where the runtime bootstraps are written (`<data-dir>/runtimes`).
    pub runtimes_dir: PathBuf,
    /// Per-instance scratch directories (`<data-dir>/instances`), each removed when its instance dies.
    pub instances_dir: PathBuf,
    /// The longest an unused instance is kept; each pool learns a shorter keep-alive from its idle gaps.
    pub idle_timeout: Duration,
    pub max_instances_per_function: usize,
    /// Sum of `memorySize` over all live instances, in MB.
    pub memory_budget_mb: u32,
    /// How long a request waits for a free instance before it is throttled.
    pub queue_timeout: Duration,
    /// How long a new runtime may take to say `ready`.
    pub start_timeout: Duration,
    pub node: Option<PathBuf>,
    pub python: Option<PathBuf>,
    /// What `context.region` and `FC_REGION` say.
    pub region: String,
    /// Largest log kept for one invocation; the rest is dropped (the tail is always kept).
    pub max_log_bytes: usize,
    /// How instances are confined ([`ferric_sandbox::Sandbox::off`] starts plain child processes).
    pub sandbox: ferric_sandbox::Sandbox,
    /// Processes and threads one instance may have.
    pub max_processes: u32,
    /// Size of each instance's private `/tmp` in MB (FC gives 512).
    pub tmp_size_mb: u32,
    /// Most idle stem cells (pre-started generic runtimes) across the server; 0: none (`stem`).
    pub stem_cells: usize,
}

impl InvokerConfig {
    pub fn new(data_dir: &std::path::Path) -> InvokerConfig {
        InvokerConfig {
            runtimes_dir: data_dir.join("runtimes"),
            instances_dir: data_dir.join("instances"),
            idle_timeout: Duration::from_secs(300),
            max_instances_per_function: 16,
            memory_budget_mb: default_memory_budget_mb(),
            queue_timeout: Duration::from_secs(3),
            start_timeout: Duration::from_secs(10),
            node: None,
            python: None,
            region: "local".to_string(),
            max_log_bytes: 256 * 1024,
            sandbox: ferric_sandbox::Sandbox::off(),
            max_processes: 256,
            tmp_size_mb: 512,
            stem_cells: 0,
        }
    }
}

/// Half of the host's memory, so functions cannot starve the server and the rest of the machine.
fn default_memory_budget_mb() -> u32 {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find(|l| l.starts_with("MemTotal:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .unwrap_or(4 * 1024 * 1024);
    u32::try_from(total_kib / 1024 / 2).unwrap_or(u32::MAX).max(512)
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// `message` says which runtime strings run on which interpreter ([`Runtimes::refusal`]).
    #[error("{message}")]
    RuntimeUnavailable { runtime: String, message: String },
    #[error("{0}")]
    Throttled(String),
}

pub(crate) struct Inner {
    pub config: InvokerConfig,
    pub runtimes: Runtimes,
    pub memory: Arc<Semaphore>,
    /// Starts instances: the sandbox, or the tests' double.
    pub spawner: Arc<dyn Spawner>,
    pub clock: Clock,
    pub stem: stem::Stem,
    pools: Mutex<HashMap<PoolKey, Arc<Pool>>>,
    /// The current pool key of each function; a new key retires the old pools.
    current: Mutex<HashMap<FunctionKey, PoolKey>>,
    /// Provision and on-demand configs, kept by the keeper task.
    provisions: Arc<provision::Provisions>,
}

/// Cloning is shallow.
#[derive(Clone)]
pub struct Invoker {
    inner: Arc<Inner>,
}

#[derive(Debug, thiserror::Error)]
pub enum InvokerError {
    #[error("cannot write the runtime files to {path}")]
    WriteRuntimes {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Invoker {
    /// Discovers interpreters, writes the bootstraps, and starts the idle reaper. Needs a tokio runtime.
    pub fn new(config: InvokerConfig) -> Result<Invoker, InvokerError> {
        bootstrap::write_all(&config.runtimes_dir).map_err(|source| InvokerError::WriteRuntimes {
            path: config.runtimes_dir.display().to_string(),
            source,
        })?;
        // Scratch of instances from a previous run is stale: their processes are gone.
        let _ = std::fs::remove_dir_all(&config.instances_dir);
        let _ = std::fs::create_dir_all(&config.instances_dir);
        let runtimes = Runtimes::discover(config.node.as_deref(), config.python.as_deref());
        if let Some(python) = &runtimes.python {
            bootstrap::compile_python(&python.path, &config.runtimes_dir);
        }
        let describe = |i: &Option<Interpreter>| match i {
            Some(i) => format!("{} ({})", i.path.display(), i.version),
            None => "not found".to_string(),
        };
        tracing::info!(
            node = %describe(&runtimes.node),
            python = %describe(&runtimes.python),
            "runtimes"
        );
        tracing::info!("this server runs {}", runtimes.describe());
        let sandbox = Arc::new(config.sandbox.clone());
        Ok(Invoker::with_spawner(config, runtimes, sandbox, Clock))
    }

    /// An invoker that starts instances through `spawner` and tells time by `clock`, with the runtimes
    /// given rather than discovered. Starts the idle reaper.
    pub(crate) fn with_spawner(
        config: InvokerConfig,
        runtimes: Runtimes,
        spawner: Arc<dyn Spawner>,
        clock: Clock,
    ) -> Invoker {
        let inner = Arc::new(Inner {
            memory: Arc::new(Semaphore::new(config.memory_budget_mb as usize)),
            stem: stem::Stem::new(&config, &runtimes, spawner.as_ref()),
            config,
            runtimes,
            spawner,
            clock,
            pools: Mutex::new(HashMap::new()),
            current: Mutex::new(HashMap::new()),
            provisions: Arc::default(),
        });
        tokio::spawn(reap_forever(Arc::downgrade(&inner)));
        tokio::spawn(provision::keep_forever(Arc::downgrade(&inner), inner.provisions.clone()));
        stem::start_refill(&inner);
        Invoker { inner }
    }

    pub fn runtimes(&self) -> &Runtimes {
        &self.inner.runtimes
    }

    /// Live instances of all functions.
    pub fn instance_count(&self) -> usize {
        self.inner.pools().iter().map(|p| p.instance_count()).sum()
    }

    /// The instances of every function line (`LATEST` or a version) that has a pool, summed over its
    /// pools: one lock per pool, no I/O, so a metrics scrape or a sampler can call it often.
    pub fn snapshot(&self) -> Vec<InstanceCounts> {
        let mut lines: HashMap<FunctionKey, InstanceCounts> = HashMap::new();
        for pool in self.inner.pools() {
            let (live, idle, starting) = pool.counts();
            let key = pool.version.pool_key().function();
            let memory_mb = u64::from(pool.version.spec.memory_size.max(1)) * (live + starting) as u64;
            let line = lines.entry(key.clone()).or_insert_with(|| InstanceCounts {
                account: key.account_id.clone(),
                service: key.service.clone(),
                function: key.function.clone(),
                qualifier: key.qualifier.clone(),
                ..InstanceCounts::default()
            });
            line.live += live;
            line.idle += idle;
            line.reserved_memory_mb += memory_mb;
        }
        lines.into_values().collect()
    }

    /// Stops routing to the `LATEST` line of a function (after an update or delete); instances drain.
    /// Published versions are immutable, so their pools stay until they idle out.
    pub fn retire(&self, account: &str, service: &str, function: &str) {
        let key = FunctionKey {
            account_id: account.to_string(),
            service: service.to_string(),
            function: function.to_string(),
            qualifier: "LATEST".to_string(),
        };
        self.inner.current.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
        for pool in self.inner.pools() {
            if pool.version.pool_key().function() == &key {
                pool.retire();
            }
        }
        // A provisioned LATEST moves to the new configuration now rather than at the keeper's next tick.
        self.inner.provisions.wake();
    }

    pub async fn invoke(&self, version: Arc<FunctionVersion>, request: Request) -> Result<Response, InvokeError> {
        let clock = self.inner.clock;
        let started = clock.now();
        let pool = self.inner.pool_for(&version)?;
        let lease = match pool.acquire(&self.inner).await {
            Ok(lease) => lease,
            Err(AcquireError::Throttled(message)) => return Err(InvokeError::Throttled(message)),
            Err(AcquireError::Start(e)) => {
                tracing::warn!(function = %version.function, error = %e, "instance start failed");
                let mut log = logs::LogBuffer::new(self.inner.config.max_log_bytes);
                log.push_line(&format!("FC Invoke Start RequestId: {}", request.request_id));
                log.push_line(&format!("the function instance could not start: {e}"));
                log.push_line(&format!(
                    "FC Invoke End RequestId: {}, Error: Unhandled function error",
                    request.request_id
                ));
                return Ok(Response {
                    body: error_body(&format!("the function instance could not start: {e}")),
                    error: Some(FunctionError::Unhandled),
                    http: None,
                    duration: started.elapsed(),
                    max_memory_mb: 0,
                    init_duration: None,
                    timed_out: false,
                    log: log.into_bytes(),
                });
            }
        };
        let instance = lease.instance.clone();
        let init_duration = lease.started_in;
        let mut log = instance.new_log();

        if version.spec.initializer.is_some() {
            let mut init_log = None;
            let outcome = instance
                .initialized
                .get_or_init(|| async {
                    let (result, ilog) = self.initialize(&instance, &version, &request.request_id).await;
                    init_log = Some(ilog);
                    result
                })
                .await
                .clone();
            if let Some(ilog) = init_log {
                log.push(&ilog.into_bytes());
            }
            if let Err(body) = outcome {
                // A failed initializer leaves the instance unusable; the next request gets a fresh one.
                lease.pool.remove(&instance);
                log.push_line(&format!("FC Invoke Start RequestId: {}", request.request_id));
                log.push_line(&format!(
                    "FC Invoke End RequestId: {}, Error: Unhandled function error",
                    request.request_id
                ));
                return Ok(Response {
                    body,
                    error: Some(FunctionError::Unhandled),
                    http: None,
                    duration: started.elapsed(),
                    max_memory_mb: instance.max_memory_mb(),
                    init_duration,
                    timed_out: false,
                    log: log.into_bytes(),
                });
            }
        }

        log.push_line(&format!("FC Invoke Start RequestId: {}", request.request_id));
        let invoked = clock.now();
        let call = Call::Invoke { http: request.http.as_ref(), context: &request.context };
        let answer = instance.call(call, &request.request_id, &request.payload, log).await;
        let timeout = Duration::from_secs(u64::from(version.spec.timeout));
        let mut timed_out = false;
        let (body, error, http, mut log) = match clock.timeout(timeout, answer).await {
            Ok(Ok((reply, log))) => {
                let (body, error, http) = self.interpret(reply, &instance, invoked);
                (body, error, http, log)
            }
            Ok(Err(_)) => (crash_body(invoked, &instance), Some(FunctionError::Unhandled), None, instance.new_log()),
            Err(_) => {
                timed_out = true;
                let log = instance.abandon(&request.request_id).unwrap_or_else(|| instance.new_log());
                lease.pool.remove(&instance);
                let body = error_body(&format!(
                    "Function timed out after {} seconds (maxMemoryUsage: {}MB)",
                    version.spec.timeout,
                    instance.max_memory_mb()
                ));
                (body, Some(FunctionError::Unhandled), None, log)
            }
        };
        if !instance.is_alive() {
            lease.pool.remove(&instance);
        }
        let suffix = match error {
            Some(FunctionError::Handled) => ", Error: Handled function error",
            Some(FunctionError::Unhandled) => ", Error: Unhandled function error",
            None => "",
        };
        log.push_line(&format!("FC Invoke End RequestId: {}{suffix}", request.request_id));
        if let Some(init) = lease.started_in {
            log.push_line(&logs::cold_start_line(&request.request_id, init));
        }
        Ok(Response {
            body,
            error,
            http,
            duration: invoked.elapsed(),
            max_memory_mb: instance.max_memory_mb(),
            init_duration,
            timed_out,
            log: log.into_bytes(),
        })
    }

    async fn initialize(
        &self,
        instance: &Arc<instance::Instance>,
        version: &FunctionVersion,
        request_id: &str,
    ) -> (Result<(), Bytes>, logs::LogBuffer) {
        let mut log = instance.new_log();
        log.push_line(&format!("FC Initialize Start RequestId: {request_id}"));
        let clock = self.inner.clock;
        let started = clock.now();
        let answer = instance.call(Call::Initialize, request_id, b"", log).await;
        let timeout = Duration::from_secs(u64::from(version.spec.initialization_timeout));
        let (result, mut log) = match clock.timeout(timeout, answer).await {
            Ok(Ok((Reply::Result { .. }, log))) => (Ok(()), log),
            Ok(Ok((Reply::Error { body, .. }, log))) => (Err(body), log),
            Ok(Ok((Reply::Exited, log))) => (Err(crash_body(started, instance)), log),
            Ok(Err(_)) => (Err(crash_body(started, instance)), instance.new_log()),
            Err(_) => {
                let log = instance.abandon(request_id).unwrap_or_else(|| instance.new_log());
                instance.kill();
                let body = error_body(&format!(
                    "Function initialization timed out after {} seconds (maxMemoryUsage: {}MB)",
                    version.spec.initialization_timeout,
                    instance.max_memory_mb()
                ));
                (Err(body), log)
            }
        };
        let suffix = if result.is_err() { ", Error: Unhandled function error" } else { "" };
        log.push_line(&format!("FC Initialize End RequestId: {request_id}{suffix}"));
        (result, log)
    }

    fn interpret(
        &self,
        reply: Reply,
        instance: &instance::Instance,
        invoked: Instant,
    ) -> (Bytes, Option<FunctionError>, Option<HttpResponseHead>) {
        match reply {
            Reply::Result { body, http } => (body, None, http),
            Reply::Error { error_type, body } => {
                let kind = if error_type == FunctionError::Handled.header() {
                    FunctionError::Handled
                } else {
                    FunctionError::Unhandled
                };
                (body, Some(kind), None)
            }
            Reply::Exited => (crash_body(invoked, instance), Some(FunctionError::Unhandled), None),
        }
    }
}

/// FC's error body for messages Ferric writes itself.
fn error_body(message: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "errorMessage": message }).to_string())
}

/// FC's words for an instance that died mid-request. When the memory limit killed it, an `errorType`
/// says so, so that clients can tell it from an exit or a timeout (the message keeps FC's prefix).
fn crash_body(since: Instant, instance: &instance::Instance) -> Bytes {
    let message = format!(
        "Process exited unexpectedly before completing request (duration: {}ms, maxMemoryUsage: {}MB)",
        since.elapsed().as_millis(),
        instance.max_memory_mb()
    );
    if instance.oom_killed() {
        return Bytes::from(serde_json::json!({ "errorMessage": message, "errorType": OUT_OF_MEMORY }).to_string());
    }
    error_body(&message)
}

/// The `errorType` of an invocation the memory limit ended.
pub const OUT_OF_MEMORY: &str = "MemoryLimitExceeded";

impl Inner {
    fn pools(&self) -> Vec<Arc<Pool>> {
        self.pools.lock().unwrap_or_else(|p| p.into_inner()).values().cloned().collect()
    }

    fn pool_for(&self, version: &Arc<FunctionVersion>) -> Result<Arc<Pool>, InvokeError> {
        let key = version.pool_key();
        if let Some(pool) = self.pools.lock().unwrap_or_else(|p| p.into_inner()).get(key) {
            return Ok(pool.clone());
        }
        let interpreter = self.runtimes.for_runtime(&version.spec.runtime).cloned().ok_or_else(|| {
            let runtime = version.spec.runtime.clone();
            InvokeError::RuntimeUnavailable { message: self.runtimes.refusal(&runtime), runtime }
        })?;
        let previous =
            self.current.lock().unwrap_or_else(|p| p.into_inner()).insert(key.function().clone(), key.clone());
        let pool = {
            let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
            pools
                .entry(key.clone())
                .or_insert_with(|| {
                    Arc::new(Pool::new(version.clone(), interpreter, self.clock, self.config.idle_timeout))
                })
                .clone()
        };
        // A new version of the function: older versions take no more requests and drain.
        if let Some(old) = previous.filter(|old| old != key) {
            if let Some(old_pool) = self.pools.lock().unwrap_or_else(|p| p.into_inner()).get(&old) {
                old_pool.retire();
            }
        }
        Ok(pool)
    }

    /// Stops the idle instance unused the longest, of any function; true if there was one.
    fn evict_least_recently_used(&self) -> bool {
        let oldest = self
            .pools()
            .into_iter()
            .filter_map(|pool| pool.oldest_idle().map(|(at, instance)| (at, pool, instance)))
            .min_by_key(|(at, _, _)| *at);
        match oldest {
            Some((_, pool, instance)) => {
                pool.remove(&instance);
                true
            }
            None => false,
        }
    }

    /// Reaps idle instances past their pool's keep-alive; returns the shortest keep-alive of any pool.
    fn reap(&self) -> Duration {
        let now = self.clock.now();
        let mut shortest = self.config.idle_timeout;
        for pool in self.pools() {
            pool.reap_idle(now);
            shortest = shortest.min(pool.keep_alive());
        }
        self.pools.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, pool| !pool.is_retired_and_empty());
        shortest
    }
}

async fn reap_forever(inner: std::sync::Weak<Inner>) {
    loop {
        let (period, clock) = match inner.upgrade() {
            Some(inner) => {
                let shortest = inner.reap();
                let period = (shortest / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
                (period, inner.clock)
            }
            None => return,
        };
        clock.sleep(period).await;
    }
}
