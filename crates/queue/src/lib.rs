//! Async invocations, at least once and nothing lost.
//!
//! An accepted event is a [`Job`] row committed before the caller hears 202. Workers lease jobs and renew
//! the lease every third of its length while the job runs, so a job that runs longer than a lease (a
//! function may run for a day) is never leased, and run, twice at once; a lease that outlives its worker
//! makes the job leasable again, and at start every job left running by a dead process is queued again.
//! Workers run each job through a [`Runner`] the server provides (the consumer of this crate owns the
//! invoker: a run is one invocation), and the queue does the rest: it reads the function's
//! async-invoke-config from the store, then finishes the job, retries it with exponential backoff, or
//! expires it past its maximum event age, and delivers FC's destination event as a new async invocation
//! through [`Queue::enqueue`], so a destination runs at once rather than at the next poll.
//!
//! Layout:
//! - `lib.rs`: [`Runner`], [`RunOutcome`], [`QueueConfig`], and the dispatch loop ([`Queue`]).
//! - `worker`: one job's life: policy, run under a renewed lease, finish / retry / expire, destination.
//! - `policy`: the [`Policy`] an [`AsyncInvokeConfig`] yields, and FC's destination event.
//! - `clock`: the queue's time (wall time at start, then tokio's clock), so tests drive it.

mod clock;
pub mod policy;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ferric_store::{Job, JobStatus, MetadataStore};
use tokio::sync::{Notify, Semaphore};

use crate::clock::Clock;
use crate::worker::Worker;

pub use ferric_types::async_config::{AsyncInvokeConfig, Destination};
pub use policy::Policy;

/// What one run of a job produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The function's bytes, or FC's error JSON when `error` is set.
    pub body: Vec<u8>,
    /// `Some` when the run failed (a function error, a timeout, a crash, or the function is gone).
    pub error: Option<String>,
}

/// Runs one job's invocation: implemented by the server, which owns the invoker. Retries, event age
/// and destinations are the queue's.
#[async_trait]
pub trait Runner: Send + Sync + 'static {
    async fn run(&self, job: &Job) -> RunOutcome;

    /// Told after a failed run was put back to run again (for metrics; must not block).
    fn retried(&self, _job: &Job) {}

    /// Told after a job ended without success for good: failed with no retries left, or expired past
    /// its maximum event age. These are the queue's dead letters (for metrics; must not block).
    fn dead_lettered(&self, _job: &Job, _status: JobStatus) {}
}

#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// Jobs run at once.
    pub workers: usize,
    /// How long a leased job belongs to its worker without renewal; a running job's worker renews it every
    /// third of this, so it bounds only how long a dead worker's job waits (in a cluster; a single node
    /// requeues at start).
    pub lease: Duration,
    /// How often to look for due jobs when nothing woke the queue.
    pub poll: Duration,
    /// First retry delay; each further retry doubles it, up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Finished invocations (and dead letters) are kept this long, then deleted.
    pub retention: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            workers: 8,
            lease: Duration::from_secs(15 * 60),
            poll: Duration::from_millis(200),
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Cloning is shallow.
#[derive(Clone)]
pub struct Queue {
    store: Arc<dyn MetadataStore>,
    wake: Arc<Notify>,
    clock: Clock,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

impl Queue {
    /// Starts the workers. Jobs a previous process left running are queued again first.
    pub fn start(store: Arc<dyn MetadataStore>, runner: Arc<dyn Runner>, config: QueueConfig) -> Queue {
        let queue = Queue::new(store);
        queue.run(runner, config);
        queue
    }

    /// A queue that accepts jobs but runs none until [`Queue::run`]: for a runner that itself needs the
    /// queue (the server's data plane accepts async invocations through it).
    pub fn new(store: Arc<dyn MetadataStore>) -> Queue {
        Queue { store, wake: Arc::new(Notify::new()), clock: Clock::start() }
    }

    /// Starts the workers and the pruning of finished jobs; call once.
    pub fn run(&self, runner: Arc<dyn Runner>, config: QueueConfig) {
        tokio::spawn(prune_forever(Arc::downgrade(&self.store), config.retention, self.clock));
        tokio::spawn(dispatch(self.clone(), runner, config));
    }

    /// Stores an accepted event; returns once it is committed.
    pub async fn enqueue(&self, job: Job) -> Result<(), ferric_store::StoreError> {
        self.store.enqueue_job(job).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// The queue's depth per function line, at most `limit` lines (a store query: callers cache it).
    pub async fn depth(&self, limit: u32) -> Result<Vec<ferric_store::QueueDepth>, ferric_store::StoreError> {
        self.store.queue_depth(limit).await
    }

    /// Looks for runnable jobs now (after a job was queued again by other means).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A new job for `payload`, runnable now (by the wall clock: callers have no queue at hand). Its request
    /// id is its id; an InvokeFunction call with a stateful id sets its own.
    pub fn job(id: &str, account: &str, service: &str, function: &str, qualifier: &str, payload: Vec<u8>) -> Job {
        let now = ferric_types::time::now_ms();
        Job {
            id: id.to_string(),
            request_id: id.to_string(),
            account_id: account.to_string(),
            service: service.to_string(),
            function: function.to_string(),
            qualifier: qualifier.to_string(),
            payload,
            status: JobStatus::Enqueued,
            attempts: 0,
            created_ms: now,
            available_ms: now,
            lease_until_ms: 0,
            started_ms: None,
            ended_ms: None,
            result: None,
            error: None,
        }
    }
}

async fn dispatch(queue: Queue, runner: Arc<dyn Runner>, config: QueueConfig) {
    match queue.store.requeue_running().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "queued again the async invocations a stopped server left running"),
        Err(e) => tracing::warn!(error = %e, "cannot requeue running async invocations"),
    }
    let slots = Arc::new(Semaphore::new(config.workers.max(1)));
    loop {
        let free = slots.available_permits() as u32;
        let leased = if free == 0 {
            Vec::new()
        } else {
            let now = queue.clock.now_ms();
            let until = now + millis(config.lease);
            match queue.store.lease_jobs(now, until, free).await {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot lease async invocations");
                    Vec::new()
                }
            }
        };
        let busy = leased.len() as u32 == free && free > 0;
        for job in leased {
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let (queue, runner, config) = (queue.clone(), runner.clone(), config.clone());
            tokio::spawn(async move {
                Worker { queue: &queue, runner: runner.as_ref(), config: &config }.process(job).await;
                drop(permit);
                queue.wake();
            });
        }
        if !busy {
            let _ = tokio::time::timeout(config.poll, queue.wake.notified()).await;
        } else {
            // Every slot was filled: wait for one to free up.
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            drop(permit);
        }
    }
}

/// Deletes finished invocations past their retention, once a minute.
async fn prune_forever(store: std::sync::Weak<dyn MetadataStore>, retention: Duration, clock: Clock) {
    loop {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let Some(store) = store.upgrade() else { return };
        let cutoff = clock.now_ms() - millis(retention);
        if let Err(e) = store.prune_jobs(cutoff).await {
            tracing::warn!(error = %e, "cannot prune finished async invocations");
        }
    }
}

/// Exponential backoff after the `attempt`-th failed run.
pub fn backoff(config: &QueueConfig, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    config.backoff.saturating_mul(factor).min(config.max_backoff)
}
