//! Instance pools, one per function version (code checksum and configuration), and the server-wide
//! memory budget they share.
//!
//! A request takes the most recently used instance with a free concurrency slot; failing that it starts a
//! new instance if the function is under its instance cap and the budget has room (evicting the least
//! recently used idle instance of any function to make room); failing that it waits briefly for a slot,
//! then is throttled. Waiting is bounded in time, never an unbounded queue.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::clock::{Clock, Instant};
use crate::discovery::Interpreter;
use crate::instance::{Instance, StartError};
use crate::{FunctionVersion, Inner};

pub(crate) struct Pool {
    pub version: Arc<FunctionVersion>,
    pub interpreter: Interpreter,
    clock: Clock,
    state: Mutex<PoolState>,
    /// Woken whenever a slot frees up or an instance goes away.
    freed: Notify,
}

#[derive(Default)]
struct PoolState {
    instances: Vec<Arc<Instance>>,
    starting: usize,
    /// A newer version of the function exists: no new requests, instances go once idle.
    retired: bool,
}

pub(crate) enum AcquireError {
    Throttled(String),
    Start(StartError),
}

/// A request's hold on one slot of one instance; the slot frees when it drops.
pub(crate) struct Lease {
    pub pool: Arc<Pool>,
    pub instance: Arc<Instance>,
    /// How long the instance took to start, when this request started it.
    pub started_in: Option<std::time::Duration>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.release(&self.instance);
    }
}

enum Step {
    Reuse(Arc<Instance>),
    Start(tokio::sync::OwnedSemaphorePermit),
    Wait,
}

impl Pool {
    pub fn new(version: Arc<FunctionVersion>, interpreter: Interpreter, clock: Clock) -> Pool {
        Pool { version, interpreter, clock, state: Mutex::new(PoolState::default()), freed: Notify::new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn acquire(self: &Arc<Self>, inner: &Inner) -> Result<Lease, AcquireError> {
        let concurrency = self.version.spec.instance_concurrency.max(1) as usize;
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
        loop {
            let freed = self.freed.notified();
            let step = {
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
                    Step::Reuse(instance)
                } else if state.instances.len() + state.starting < inner.config.max_instances_per_function {
                    match inner.memory.clone().try_acquire_many_owned(memory_mb) {
                        Ok(permit) => {
                            state.starting += 1;
                            Step::Start(permit)
                        }
                        Err(_) => Step::Wait,
                    }
                } else {
                    Step::Wait
                }
            };
            match step {
                Step::Reuse(instance) => return Ok(Lease { pool: self.clone(), instance, started_in: None }),
                Step::Start(permit) => {
                    let begun = self.clock.now();
                    let started = Instance::start(inner, &self.version, &self.interpreter, permit).await;
                    let started_in = Some(begun.elapsed());
                    let mut state = self.lock();
                    state.starting -= 1;
                    return match started {
                        Ok(instance) => {
                            instance.in_flight.store(1, Ordering::Relaxed);
                            state.instances.push(instance.clone());
                            Ok(Lease { pool: self.clone(), instance, started_in })
                        }
                        Err(e) => {
                            drop(state);
                            self.freed.notify_waiters();
                            Err(AcquireError::Start(e))
                        }
                    };
                }
                Step::Wait => {
                    // Memory may be held by idle instances of other functions: free the oldest.
                    let evicted = inner.evict_least_recently_used();
                    let now = self.clock.now();
                    if now >= deadline {
                        return Err(AcquireError::Throttled(format!(
                            "function '{}' has no free instance: all {} are busy or the server's memory budget \
                             of {} MB is in use",
                            self.version.function,
                            self.lock().instances.len(),
                            inner.config.memory_budget_mb
                        )));
                    }
                    // Re-check soon after an eviction (its memory returns when the process is gone).
                    let pause = if evicted { std::time::Duration::from_millis(5) } else { deadline - now };
                    let _ = self.clock.timeout(pause.min(deadline - now), freed).await;
                }
            }
        }
    }

    fn release(&self, instance: &Arc<Instance>) {
        instance.in_flight.fetch_sub(1, Ordering::Relaxed);
        *instance.last_used.lock().unwrap_or_else(|p| p.into_inner()) = self.clock.now();
        let retired = self.lock().retired;
        if retired && instance.in_flight.load(Ordering::Relaxed) == 0 {
            instance.kill();
        }
        self.freed.notify_one();
    }

    /// Stops routing to this version; idle instances go now, busy ones when their requests end.
    pub fn retire(&self) {
        let mut state = self.lock();
        state.retired = true;
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

    /// Kills instances idle since before `cutoff`; returns how many.
    pub fn reap_idle(&self, cutoff: Instant) -> usize {
        let mut state = self.lock();
        let mut reaped = 0;
        for instance in &state.instances {
            let idle = instance.in_flight.load(Ordering::Relaxed) == 0;
            if idle && *instance.last_used.lock().unwrap_or_else(|p| p.into_inner()) < cutoff {
                instance.kill();
                reaped += 1;
            }
        }
        state.instances.retain(|i| i.is_alive());
        reaped
    }

    /// The idle instance unused the longest, with when it was last used.
    pub fn oldest_idle(&self) -> Option<(Instant, Arc<Instance>)> {
        let state = self.lock();
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
