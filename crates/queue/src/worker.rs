//! One job's life once leased: its policy from the stored async-invoke-config, the run under a renewed
//! lease, then finish, retry or expire, and the destination event.

use std::time::Duration;

use ferric_store::{Job, JobStatus};

use crate::policy::{destination_event, Policy};
use crate::{backoff, millis, Queue, QueueConfig, RunOutcome, Runner};

pub(crate) struct Worker<'a> {
    pub queue: &'a Queue,
    pub runner: &'a dyn Runner,
    pub config: &'a QueueConfig,
}

impl Worker<'_> {
    pub async fn process(&self, job: Job) {
        let policy = self.policy(&job).await;
        let age = Duration::from_millis(u64::try_from(self.queue.clock.now_ms() - job.created_ms).unwrap_or(0));
        if age > policy.max_age {
            let error = format!("the event expired after {} s (maxAsyncEventAgeInSeconds)", policy.max_age.as_secs());
            self.finish(&job, JobStatus::Expired, None, Some(error), &policy).await;
            return;
        }
        let outcome = self.run_holding_the_lease(&job).await;
        match outcome.error {
            None => self.finish(&job, JobStatus::Succeeded, Some(outcome.body), None, &policy).await,
            Some(error) if job.attempts < policy.max_attempts() => {
                let at = self.queue.clock.now_ms() + millis(backoff(self.config, job.attempts));
                match self.queue.store.retry_job(&job.id, at, error).await {
                    Ok(()) => self.runner.retried(&job),
                    Err(e) => tracing::warn!(job = %job.id, error = %e, "cannot reschedule an async invocation"),
                }
            }
            Some(error) => self.finish(&job, JobStatus::Failed, Some(outcome.body), Some(error), &policy).await,
        }
    }

    /// The function's async-invoke-config as a policy; FC's defaults when it has none or it cannot be read.
    async fn policy(&self, job: &Job) -> Policy {
        match self.queue.store.get_async_config(&job.account_id, &job.service, &job.function, &job.qualifier).await {
            Ok(Some(row)) => Policy::from(&row.config),
            Ok(None) => Policy::default(),
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "cannot read an async invoke config; using the defaults");
                Policy::default()
            }
        }
    }

    /// Runs the job, renewing its lease every third of the lease while it runs.
    async fn run_holding_the_lease(&self, job: &Job) -> RunOutcome {
        let every = (self.config.lease / 3).max(Duration::from_millis(10));
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let run = self.runner.run(job);
        tokio::pin!(run);
        loop {
            tokio::select! {
                outcome = &mut run => return outcome,
                _ = renew.tick() => {
                    let until = self.queue.clock.now_ms() + millis(self.config.lease);
                    match self.queue.store.renew_job_lease(&job.id, job.attempts, until).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = %job.id, "an async invocation's lease was lost while it ran"),
                        Err(e) => tracing::warn!(job = %job.id, error = %e, "cannot renew an async invocation's lease"),
                    }
                }
            }
        }
    }

    async fn finish(
        &self,
        job: &Job,
        status: JobStatus,
        body: Option<Vec<u8>>,
        error: Option<String>,
        policy: &Policy,
    ) {
        if let Some(destination) = policy.destination(status) {
            let event = destination_event(job, status, body.as_deref(), error.as_deref());
            self.deliver(job, destination, event).await;
        }
        if let Err(e) = self.queue.store.finish_job(&job.id, status, body, error, self.queue.clock.now_ms()).await {
            tracing::warn!(job = %job.id, error = %e, "cannot record the end of an async invocation");
        }
        if matches!(status, JobStatus::Failed | JobStatus::Expired) {
            self.runner.dead_lettered(job, status);
        }
    }

    /// Sends FC's destination event to the function a destination names, as a new async invocation of the
    /// same account. Enqueued through the queue, so a worker wakes for it at once.
    async fn deliver(&self, job: &Job, destination: &ferric_types::async_config::Destination, event: Vec<u8>) {
        let Some(target) = destination.function() else { return };
        let id = uuid::Uuid::new_v4().to_string();
        let next = Queue::job(&id, &job.account_id, &target.service, &target.function, &target.qualifier, event);
        if let Err(e) = self.queue.enqueue(next).await {
            tracing::warn!(job = %job.id, error = %e, "cannot deliver an async invocation's destination event");
        }
    }
}
