//! Instance pools, one per function version (code checksum and configuration), and the server-wide
//! memory budget they share.
//!
//! A request takes the most recently used instance with a free concurrency slot (hot instances stay hot,
//! the rest idle out). When every slot is taken it waits for one if its expected wait is shorter than a
//! cold start (`scale`); otherwise it starts a new instance if the function is under its instance cap and
//! the budget has room (evicting the least recently used idle instance of any function to make room), and
//! failing that waits anyway. Waiting is bounded in time (`--queue-timeout`), then the request is
//! throttled: never an unbounded queue. Idle instances are kept as long as the pool's learned keep-alive
//! (`keepalive`), at most `--idle-timeout`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::{Clock, Instant};
use crate::discovery::Interpreter;
use crate::instance::{Instance, StartError};
use crate::keepalive::KeepAlive;
use crate::scale::{self, Busy, Estimates};
use crate::{FunctionVersion, Inner};

pub(crate) struct Pool {
    pub version: Arc<FunctionVersion>,
    pub interpreter: Interpreter,
    clock: Clock,
    state: Mutex<PoolState>,
    /// Woken whenever a slot frees up or an instance goes away.
    freed: Notify,
}

struct PoolState {
    instances: Vec<Arc<Instance>>,
    starting: usize,
    /// A newer version of the function exists: no new requests, instances go once idle.
    retired: bool,
    estimates: Estimates,
    keep_alive: KeepAlive,
    /// When each request in flight took its slot (a count per instant), for the longest-running one.
    in_flight_since: BTreeMap<Instant, usize>,
    /// Tickets of the requests waiting for a slot, in arrival order.
    waiting: BTreeSet<u64>,
    next_ticket: u64,
    /// Since when nothing has been in flight (None while busy, or before the first request).
    idle_since: Option<Instant>,
    /// Provisioned instances and the on-demand cap (`provision`).
    capacity: Capacity,
}

/// What the provision keeper set on a pool: how many instances it keeps warm (never reaped nor evicted,
/// replaced when they die) and how many more it may start on demand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Capacity {
    pub reserve: usize,
    /// `None`: only `--max-instances-per-function` bounds on-demand instances.
    pub on_demand_cap: Option<usize>,
}

impl PoolState {
    /// Returns the instant the slot is recorded under: the lease must free it under the same one.
    fn took_slot(&mut self, now: Instant) -> Instant {
        if let Some(since) = self.idle_since.take() {
            self.keep_alive.record_gap(now - since);
        }
        *self.in_flight_since.entry(now).or_default() += 1;
        now
    }

    fn freed_slot(&mut self, acquired: Instant, now: Instant) {
        if let Some(count) = self.in_flight_since.get_mut(&acquired) {
            *count -= 1;
            if *count == 0 {
                self.in_flight_since.remove(&acquired);
            }
        }
        self.estimates.record_service(now - acquired);
        if self.in_flight_since.is_empty() {
            self.idle_since = Some(now);
        }
    }
}

pub(crate) enum AcquireError {
    Throttled(String),
    Start(StartError),
}

/// A request's hold on one slot of one instance; the slot frees when it drops.
pub(crate) struct Lease {
    pub pool: Arc<Pool>,
    pub instance: Arc<Instance>,
    /// How long the instance took to start, when this request started it (a cold start).
    pub started_in: Option<Duration>,
    acquired: Instant,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.release(&self.instance, self.acquired);
    }
}

enum Step {
    /// A free slot, taken at this instant.
    Reuse(Arc<Instance>, Instant),
    Start(tokio::sync::OwnedSemaphorePermit),
    /// Wait, re-deciding after at most this long (the wait's estimate may have been too hopeful).
    Wait(Duration),
    /// Starting would pay, but the memory budget is full: evict an idle instance of any function, wait.
    WaitForMemory(Duration),
}

/// A waiting request's place in its pool's queue; leaves the queue when dropped (even if cancelled).
struct Ticket<'a> {
    pool: &'a Pool,
    number: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.pool.lock().waiting.remove(&self.number);
    }
}

/// Re-decide at least this often while waiting.
const RECHECK_MIN: Duration = Duration::from_millis(1);

impl Pool {
    pub fn new(version: Arc<FunctionVersion>, interpreter: Interpreter, clock: Clock, idle_bound: Duration) -> Pool {
        let state = PoolState {
            instances: Vec::new(),
            starting: 0,
            retired: false,
            estimates: Estimates::default(),
            keep_alive: KeepAlive::new(idle_bound),
            in_flight_since: BTreeMap::new(),
            waiting: BTreeSet::new(),
            next_ticket: 0,
            idle_since: None,
            capacity: Capacity::default(),
        };
        Pool { version, interpreter, clock, state: Mutex::new(state), freed: Notify::new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn acquire(self: &Arc<Self>, inner: &Inner) -> Result<Lease, AcquireError> {
        let concurrency = crate::launch::requests_per_instance(&self.version.spec);
        let memory_mb = self.version.spec.memory_size.max(1);
        if memory_mb > inner.config.memory_budget_mb {
            // Waiting could never help: say so at once.
            return Err(AcquireError::Throttled(format!(
                "function '{}' needs {memory_mb} MB, more than this server's whole memory budget of {} MB \
                 (--memory-budget-mb)",
                self.version.function, inner.config.memory_budget_mb
            )));
        }
        let deadline = self.clock.now() + inner.config.queue_timeout;
        let mut ticket: Option<Ticket<'_>> = None;
        loop {
            let freed = self.freed.notified();
            let step = self.decide(inner, concurrency, memory_mb, &mut ticket);
            match step {
                Step::Reuse(instance, acquired) => {
                    return Ok(Lease { pool: self.clone(), instance, started_in: None, acquired });
                }
                Step::Start(permit) => {
                    drop(ticket.take());
                    let begun = self.clock.now();
                    let started = Instance::start(inner, &self.version, &self.interpreter, permit).await;
                    let now = self.clock.now();
                    let mut state = self.lock();
                    state.starting -= 1;
                    return match started {
                        Ok(instance) => {
                            state.estimates.record_start(now - begun);
                            let acquired = state.took_slot(now);
                            instance.in_flight.store(1, Ordering::Relaxed);
                            state.instances.push(instance.clone());
                            let started_in = Some(now - begun);
                            Ok(Lease { pool: self.clone(), instance, started_in, acquired })
                        }
                        Err(e) => {
                            drop(state);
                            self.freed.notify_waiters();
                            Err(AcquireError::Start(e))
                        }
                    };
                }
                Step::Wait(_) | Step::WaitForMemory(_) => {
                    // Memory may be held by idle instances of other functions: free the oldest. Only then:
                    // a wait by choice must not stop an instance that just went idle (maybe this pool's).
                    let (recheck, evicted) = match step {
                        Step::WaitForMemory(recheck) => (recheck, inner.evict_least_recently_used()),
                        Step::Wait(recheck) => (recheck, false),
                        _ => unreachable!("matched above"),
                    };
                    let now = self.clock.now();
                    if now >= deadline {
                        let (instances, capacity) = {
                            let state = self.lock();
                            (state.instances.len(), state.capacity)
                        };
                        let cap = match capacity.on_demand_cap {
                            Some(cap) => format!(", or its on-demand config allows no more than {cap} instances"),
                            None => String::new(),
                        };
                        return Err(AcquireError::Throttled(format!(
                            "function '{}' has no free instance: all {instances} are busy or the server's memory \
                             budget of {} MB is in use{cap}",
                            self.version.function, inner.config.memory_budget_mb
                        )));
                    }
                    // Re-check soon after an eviction (its memory returns when the process is gone).
                    let pause = if evicted { Duration::from_millis(5) } else { recheck };
                    let _ = self.clock.timeout(pause.min(deadline - now), freed).await;
                }
            }
        }
    }

    /// One look at the pool: reuse a free slot, start an instance, or wait (and for how long at most).
    fn decide<'a>(
        &'a self,
        inner: &Inner,
        concurrency: usize,
        memory_mb: u32,
        ticket: &mut Option<Ticket<'a>>,
    ) -> Step {
        let now = self.clock.now();
        let mut state = self.lock();
        state.instances.retain(|i| i.is_alive());
        let reusable = state
            .instances
            .iter()
            .filter(|i| i.in_flight.load(Ordering::Relaxed) < concurrency)
            .max_by_key(|i| *i.last_used.lock().unwrap_or_else(|p| p.into_inner()))
            .cloned();
        if let Some(instance) = reusable {
            instance.in_flight.fetch_add(1, Ordering::Relaxed);
            return Step::Reuse(instance, state.took_slot(now));
        }
        let number = match ticket {
            Some(t) => t.number,
            None => {
                let number = state.next_ticket;
                state.next_ticket += 1;
                state.waiting.insert(number);
                *ticket = Some(Ticket { pool: self, number });
                number
            }
        };
        let busy = Busy {
            slots: state.instances.len() * concurrency,
            starting_slots: state.starting * concurrency,
            ahead: state.waiting.range(..number).count(),
            longest_running: state.in_flight_since.keys().next().map(|t| now - *t).unwrap_or_default(),
        };
        let recheck = (state.estimates.start() / 2).max(RECHECK_MIN);
        let total = state.instances.len() + state.starting;
        // Provisioned instances do not count against the on-demand cap: only those beyond the reserve do.
        let on_demand = total.saturating_sub(state.capacity.reserve);
        let under_cap = total < inner.config.max_instances_per_function
            && state.capacity.on_demand_cap.is_none_or(|cap| on_demand < cap);
        if !under_cap || !scale::should_start(busy, &state.estimates) {
            return Step::Wait(recheck);
        }
        match inner.memory.clone().try_acquire_many_owned(memory_mb) {
            Ok(permit) => {
                tracing::debug!(
                    function = %self.version.function,
                    expected_wait = ?scale::expected_wait(busy, &state.estimates),
                    expected_start = ?state.estimates.start(),
                    service = ?state.estimates.service(),
                    ?busy,
                    "scaling out: waiting would take longer than a cold start"
                );
                state.starting += 1;
                Step::Start(permit)
            }
            Err(_) => Step::WaitForMemory(recheck),
        }
    }

    fn release(&self, instance: &Arc<Instance>, acquired: Instant) {
        let now = self.clock.now();
        instance.in_flight.fetch_sub(1, Ordering::Relaxed);
        *instance.last_used.lock().unwrap_or_else(|p| p.into_inner()) = now;
        let retired = {
            let mut state = self.lock();
            state.freed_slot(acquired, now);
            state.retired
        };
        if retired && instance.in_flight.load(Ordering::Relaxed) == 0 {
            instance.kill();
        }
        self.freed.notify_one();
    }

    /// Stops routing to this version; idle instances go now, busy ones when their requests end.
    pub fn retire(&self) {
        let mut state = self.lock();
        state.retired = true;
        state.capacity = Capacity::default();
        for instance in &state.instances {
            if instance.in_flight.load(Ordering::Relaxed) == 0 {
                instance.kill();
            }
        }
        state.instances.retain(|i| i.is_alive());
    }

    pub fn is_retired_and_empty(&self) -> bool {
        let state = self.lock();
        state.retired && state.starting == 0 && state.instances.iter().all(|i| !i.is_alive())
    }

    /// How long an idle instance of this pool is kept now (learned, at most `--idle-timeout`).
    pub fn keep_alive(&self) -> Duration {
        self.lock().keep_alive.keep_alive()
    }

    /// Kills instances idle for longer than the pool's keep-alive, oldest first, keeping the provisioned
    /// reserve; returns how many.
    pub fn reap_idle(&self, now: Instant) -> usize {
        let mut state = self.lock();
        state.instances.retain(|i| i.is_alive());
        let Some(cutoff) = now.checked_sub(state.keep_alive.keep_alive()) else { return 0 };
        let mut idle: Vec<(Instant, &Arc<Instance>)> = state
            .instances
            .iter()
            .filter(|i| i.in_flight.load(Ordering::Relaxed) == 0)
            .map(|i| (*i.last_used.lock().unwrap_or_else(|p| p.into_inner()), i))
            .filter(|(at, _)| *at < cutoff)
            .collect();
        idle.sort_by_key(|(at, _)| *at);
        let spare = state.instances.len().saturating_sub(state.capacity.reserve);
        let mut reaped = 0;
        for (_, instance) in idle.into_iter().take(spare) {
            instance.kill();
            reaped += 1;
        }
        state.instances.retain(|i| i.is_alive());
        reaped
    }

    /// The idle instance unused the longest, with when it was last used.
    /// None while the pool holds no more than its provisioned reserve: those are never evicted.
    pub fn oldest_idle(&self) -> Option<(Instant, Arc<Instance>)> {
        let state = self.lock();
        let live = state.instances.iter().filter(|i| i.is_alive()).count();
        if live <= state.capacity.reserve {
            return None;
        }
        state
            .instances
            .iter()
            .filter(|i| i.is_alive() && i.in_flight.load(Ordering::Relaxed) == 0)
            .map(|i| (*i.last_used.lock().unwrap_or_else(|p| p.into_inner()), i.clone()))
            .min_by_key(|(t, _)| *t)
    }

    pub fn remove(&self, instance: &Arc<Instance>) {
        instance.kill();
        self.lock().instances.retain(|i| !Arc::ptr_eq(i, instance));
        self.freed.notify_waiters();
    }

    /// Sets what the provision keeper asks of this pool; a retired pool keeps no reserve.
    pub fn set_capacity(&self, capacity: Capacity) {
        let mut state = self.lock();
        if !state.retired {
            state.capacity = capacity;
        }
    }

    #[cfg(test)]
    pub fn capacity(&self) -> Capacity {
        self.lock().capacity
    }

    /// Provisioned instances missing: the reserve (at most `limit`) less the instances live or starting.
    pub fn spares_missing(&self, limit: usize) -> usize {
        let mut state = self.lock();
        state.instances.retain(|i| i.is_alive());
        state.capacity.reserve.min(limit).saturating_sub(state.instances.len() + state.starting)
    }

    /// Counts a spare as starting, before its start is spawned, so the next look sees it.
    pub fn claim_spare(&self) {
        self.lock().starting += 1;
    }

    /// A spare's start ended: an idle instance joins the pool and waiters are told.
    pub fn finish_spare(&self, started: Option<Arc<Instance>>) {
        let mut state = self.lock();
        state.starting -= 1;
        if let Some(instance) = started {
            if state.retired {
                instance.kill();
            } else {
                *instance.last_used.lock().unwrap_or_else(|p| p.into_inner()) = self.clock.now();
                state.instances.push(instance);
            }
        }
        drop(state);
        self.freed.notify_waiters();
    }

    /// The ids of the live instances.
    pub fn instance_ids(&self) -> Vec<String> {
        self.lock().instances.iter().filter(|i| i.is_alive()).map(|i| i.id.clone()).collect()
    }

    pub fn is_retired(&self) -> bool {
        self.lock().retired
    }

    /// Requests holding a slot, as the pool's bookkeeping counts them (tests check it drains to 0).
    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight_since.values().sum()
    }

    pub fn instance_count(&self) -> usize {
        self.lock().instances.iter().filter(|i| i.is_alive()).count()
    }

    /// Live instances, how many of them are idle, and how many are starting, for metrics.
    pub fn counts(&self) -> (usize, usize, usize) {
        let state = self.lock();
        let live: Vec<_> = state.instances.iter().filter(|i| i.is_alive()).collect();
        let idle = live.iter().filter(|i| i.in_flight.load(Ordering::Relaxed) == 0).count();
        (live.len(), idle, state.starting)
    }
}
