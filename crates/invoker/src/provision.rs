//! Provisioned instances and on-demand caps (FC's provision-config and on-demand-config).
//!
//! A config names a function and the qualifier it was set on (an alias or `LATEST`): a [`ConfigLine`]. The
//! invoker cannot read the store, so the server gives it a [`VersionResolver`] that says which version a
//! line runs now. The keeper task resolves every configured line at once when a config changes and
//! otherwise every [`TICK`], then sets each pool's [`Capacity`] (the sum of the targets of the lines that
//! resolve to it, and the smallest cap) and starts the provisioned instances that are missing, off the
//! request path. Between looks it checks the pools it reserved every [`CHECK`], so a provisioned instance
//! that dies is replaced within one check plus a cold start, an update of the function
//! or a moved alias moves the reserve to the new version's pool (the old pool is retired and drains), and
//! the instances serve requests through the pool like any other (they count in the memory budget).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::instance::Instance;
use crate::pool::{Capacity, Pool};
use crate::{FunctionVersion, Inner, Invoker, PoolKey};

/// How often the keeper looks, when nothing wakes it: the longest a dead provisioned instance stays
/// unreplaced (plus its start).
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// How often, between looks, the keeper counts the live instances of the pools it keeps a reserve in
/// (one lock per pool, no resolving): the longest a dead provisioned instance goes unnoticed.
pub(crate) const CHECK: Duration = Duration::from_millis(100);

/// After a provisioned instance failed to start, the keeper tries that line again no sooner than this.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// A function and the qualifier a config was set on, as written (`LATEST` or an alias name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigLine {
    pub account_id: String,
    pub service: String,
    pub qualifier: String,
    pub function: String,
}

/// One live instance, for ListInstances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    pub instance_id: String,
    /// `LATEST` or the published version it runs.
    pub qualifier: String,
}

/// Tells the keeper what a line runs now. Implemented by the server over its function cache.
#[async_trait]
pub trait VersionResolver: Send + Sync + 'static {
    /// `Ok(None)` when the function, service or alias is gone (its reserve is dropped); `Err` on a
    /// transient failure, when the keeper keeps what the line ran before.
    async fn resolve(&self, line: &ConfigLine) -> Result<Option<Arc<FunctionVersion>>, String>;
}

#[derive(Default)]
struct Lines {
    targets: HashMap<ConfigLine, usize>,
    caps: HashMap<ConfigLine, usize>,
    /// What each line resolved to at the last look.
    resolved: HashMap<ConfigLine, Arc<FunctionVersion>>,
    /// Why the last provisioned start of a line failed, FC's `currentError`.
    errors: HashMap<ConfigLine, String>,
    /// Lines whose last start failed, and when the keeper may try again.
    retry_at: HashMap<ConfigLine, crate::clock::Instant>,
    /// The invoker is shutting down: no line is provisioned any more.
    closed: bool,
    /// The pools the last look gave a reserve, with the lines that asked for it.
    reserved: Vec<(Arc<Pool>, Vec<ConfigLine>)>,
}

/// The configured lines and the keeper's wake-up; shared by the invoker and its keeper task.
#[derive(Default)]
pub(crate) struct Provisions {
    lines: Mutex<Lines>,
    wake: Notify,
    resolver: OnceLock<Arc<dyn VersionResolver>>,
}

impl Provisions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_resolver(&self, resolver: Arc<dyn VersionResolver>) {
        let _ = self.resolver.set(resolver);
        self.wake.notify_one();
    }

    /// `0` stops the line's provisioned instances (they become ordinary idle instances and idle out).
    pub fn set_target(&self, line: ConfigLine, target: usize) {
        let mut lines = self.lock();
        if lines.closed {
            return;
        }
        lines.errors.remove(&line);
        lines.retry_at.remove(&line);
        if target == 0 {
            lines.targets.remove(&line);
        } else {
            lines.targets.insert(line, target);
        }
        drop(lines);
        self.wake.notify_one();
    }

    /// `None` removes the cap.
    pub fn set_cap(&self, line: ConfigLine, cap: Option<usize>) {
        let mut lines = self.lock();
        if lines.closed {
            return;
        }
        match cap {
            Some(cap) => lines.caps.insert(line, cap),
            None => lines.caps.remove(&line),
        };
        drop(lines);
        self.wake.notify_one();
    }

    /// Makes the keeper look now (a function changed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Forgets every line for good; the keeper stops starting instances.
    pub fn close(&self) {
        let mut lines = self.lock();
        lines.closed = true;
        lines.targets.clear();
        lines.caps.clear();
        lines.reserved.clear();
        drop(lines);
        self.wake.notify_one();
    }

    pub fn last_error(&self, line: &ConfigLine) -> Option<String> {
        self.lock().errors.get(line).cloned()
    }

    fn resolved(&self, line: &ConfigLine) -> Option<Arc<FunctionVersion>> {
        self.lock().resolved.get(line).cloned()
    }
}

impl Invoker {
    /// How provisioned lines find the version they run; until it is set, configs are kept but not acted on.
    pub fn set_version_resolver(&self, resolver: Arc<dyn VersionResolver>) {
        self.inner.provisions.set_resolver(resolver);
    }

    /// Keeps `target` instances of what `line` runs warm (0 stops). Acted on at once, off this call.
    pub fn provision(&self, line: ConfigLine, target: usize) {
        self.inner.provisions.set_target(line, target);
    }

    /// Caps the instances started on demand (beyond the provisioned ones) for `line`; `None` lifts it.
    pub fn cap_on_demand(&self, line: ConfigLine, cap: Option<usize>) {
        self.inner.provisions.set_cap(line, cap);
    }

    /// FC's `current` (provisioned instances live, at most the target) and `currentError` of a line.
    pub fn provisioned(&self, line: &ConfigLine) -> (usize, Option<String>) {
        (self.inner.provisioned_current(line), self.inner.provisions.last_error(line))
    }

    /// The live instances of every line of one function (routing pools only, not retired ones draining).
    pub fn instances(&self, account: &str, service: &str, function: &str) -> Vec<InstanceInfo> {
        let mut found = Vec::new();
        for pool in self.inner.pools() {
            let key = pool.version.pool_key().function();
            if key.account_id != account || key.service != service || key.function != function || pool.is_retired() {
                continue;
            }
            found.extend(
                pool.instance_ids()
                    .into_iter()
                    .map(|instance_id| InstanceInfo { instance_id, qualifier: key.qualifier.clone() }),
            );
        }
        found.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        found
    }

    /// The server is stopping: nothing is provisioned any more, and every instance stops (idle ones now,
    /// busy ones as their requests end), so none outlives a server that is gone but whose invoker is
    /// still referenced (as in a test process running many servers).
    pub fn shutdown(&self) {
        self.inner.provisions.close();
        for pool in self.inner.pools() {
            pool.retire();
        }
    }
}

impl Inner {
    /// Live instances of the pool a line last resolved to, at most its target: FC's `current`.
    pub(crate) fn provisioned_current(&self, line: &ConfigLine) -> usize {
        let target = self.provisions.lock().targets.get(line).copied().unwrap_or(0);
        let Some(version) = self.provisions.resolved(line) else { return 0 };
        let pool = self.pools.lock().unwrap_or_else(|p| p.into_inner()).get(version.pool_key()).cloned();
        pool.map_or(0, |p| p.instance_count().min(target))
    }
}

/// Runs until the invoker is dropped: one look per wake-up or per [`TICK`], and a [`CHECK`] for dead
/// provisioned instances in between.
pub(crate) async fn keep_forever(inner: Weak<Inner>, provisions: Arc<Provisions>) {
    loop {
        if provisions.lock().closed {
            return;
        }
        let clock = match inner.upgrade() {
            Some(inner) => {
                look(&inner, &provisions).await;
                inner.clock
            }
            None => return,
        };
        let checks = (TICK.as_millis() / CHECK.as_millis()).max(1);
        for _ in 0..checks {
            if clock.timeout(CHECK, provisions.wake.notified()).await.is_ok() {
                break;
            }
            let Some(inner) = inner.upgrade() else { return };
            let reserved = provisions.lock().reserved.clone();
            for (pool, lines) in &reserved {
                start_missing(&inner, &provisions, pool, lines);
            }
        }
    }
}

/// Resolves every configured line, sets every pool's capacity, and starts what is missing.
async fn look(inner: &Arc<Inner>, provisions: &Provisions) {
    let Some(resolver) = provisions.resolver.get().cloned() else { return };
    let (targets, caps) = {
        let lines = provisions.lock();
        (lines.targets.clone(), lines.caps.clone())
    };
    let mut configured: Vec<&ConfigLine> = targets.keys().chain(caps.keys()).collect();
    configured.sort();
    configured.dedup();
    let mut resolved: HashMap<ConfigLine, Arc<FunctionVersion>> = HashMap::new();
    for line in configured {
        match resolver.resolve(line).await {
            Ok(Some(version)) => drop(resolved.insert(line.clone(), version)),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(?line, error = %e, "cannot resolve a provisioned line; keeping what it ran");
                if let Some(previous) = provisions.resolved(line) {
                    resolved.insert(line.clone(), previous);
                }
            }
        }
    }

    // Each pool's capacity: the targets of every line that runs it add up; the smallest cap applies.
    let mut plan: HashMap<PoolKey, (Arc<FunctionVersion>, Capacity, Vec<ConfigLine>)> = HashMap::new();
    for (line, version) in &resolved {
        let entry = plan
            .entry(version.pool_key().clone())
            .or_insert_with(|| (version.clone(), Capacity::default(), Vec::new()));
        entry.1.reserve += targets.get(line).copied().unwrap_or(0);
        if let Some(cap) = caps.get(line) {
            entry.1.on_demand_cap = Some(entry.1.on_demand_cap.map_or(*cap, |c| c.min(*cap)));
        }
        entry.2.push(line.clone());
    }
    provisions.lock().resolved = resolved;
    for pool in inner.pools() {
        if !plan.contains_key(pool.version.pool_key()) {
            pool.set_capacity(Capacity::default());
        }
    }
    let mut reserved = Vec::new();
    for (version, capacity, lines) in plan.into_values() {
        let pool = match inner.pool_for(&version) {
            Ok(pool) => pool,
            Err(e) => {
                record_error(provisions, &lines, e.to_string(), inner);
                continue;
            }
        };
        pool.set_capacity(capacity);
        start_missing(inner, provisions, &pool, &lines);
        if capacity.reserve > 0 {
            reserved.push((pool, lines));
        }
    }
    let mut state = provisions.lock();
    if !state.closed {
        state.reserved = reserved;
    }
}

fn record_error(provisions: &Provisions, lines: &[ConfigLine], error: String, inner: &Inner) {
    let retry = inner.clock.now() + RETRY_AFTER_FAILURE;
    let mut state = provisions.lock();
    for line in lines {
        state.errors.insert(line.clone(), error.clone());
        state.retry_at.insert(line.clone(), retry);
    }
}

/// Starts the pool's missing provisioned instances, each in a task of its own, as far as the memory
/// budget allows (evicting idle on-demand instances of any function to make room).
fn start_missing(inner: &Arc<Inner>, provisions: &Provisions, pool: &Arc<Pool>, lines: &[ConfigLine]) {
    let now = inner.clock.now();
    let waiting = {
        let state = provisions.lock();
        lines.iter().any(|l| state.retry_at.get(l).is_some_and(|at| *at > now))
    };
    if waiting {
        return;
    }
    let missing = pool.spares_missing(inner.config.max_instances_per_function);
    let memory_mb = pool.version.spec.memory_size.max(1);
    for _ in 0..missing {
        let permit = match inner.memory.clone().try_acquire_many_owned(memory_mb) {
            Ok(permit) => permit,
            Err(_) => {
                // The eviction's memory returns once the process is gone: the next look starts it.
                if !inner.evict_least_recently_used() {
                    let error = format!(
                        "the server's memory budget of {} MB is in use (--memory-budget-mb)",
                        inner.config.memory_budget_mb
                    );
                    provisions.lock().errors.extend(lines.iter().map(|l| (l.clone(), error.clone())));
                }
                return;
            }
        };
        pool.claim_spare();
        let (inner, pool, lines) = (inner.clone(), pool.clone(), lines.to_vec());
        let provisions = Arc::downgrade(&inner.provisions);
        tokio::spawn(async move {
            let started = Instance::start(&inner, &pool.version, &pool.interpreter, permit).await;
            match started {
                Ok(instance) => {
                    tracing::debug!(function = %pool.version.function, instance = %instance.id, "provisioned");
                    pool.finish_spare(Some(instance));
                    if let Some(provisions) = provisions.upgrade() {
                        let mut state = provisions.lock();
                        for line in &lines {
                            state.errors.remove(line);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(function = %pool.version.function, error = %e, "provisioned instance did not start");
                    pool.finish_spare(None);
                    if let Some(provisions) = provisions.upgrade() {
                        record_error(&provisions, &lines, e.to_string(), &inner);
                    }
                }
            }
        });
    }
}
