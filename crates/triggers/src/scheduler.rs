//! Fires timer triggers: each firing becomes an async invocation with FC's timer event
//! `{"triggerTime", "triggerName", "payload"}`, through the durable queue.
//!
//! The scheduler keeps the next fire time of every enabled timer and sleeps until the earliest. Any
//! change to triggers calls [`Scheduler::reload`], which takes effect at once. Missed runs are not made
//! up: after downtime (or a pause longer than a period) a timer fires at its next scheduled time after
//! now, never in a burst, so a server that was down for a day does not flood its functions.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use ferric_queue::Queue;
use tokio::sync::Notify;

use crate::config::TimerConfig;

/// One enabled or disabled timer trigger, as the source lists it.
#[derive(Debug, Clone)]
pub struct Timer {
    pub account: String,
    pub service: String,
    pub function: String,
    pub qualifier: String,
    pub name: String,
    pub config: TimerConfig,
}

/// Where timers come from: implemented by the owner of the trigger store.
#[async_trait]
pub trait TimerSource: Send + Sync + 'static {
    async fn timers(&self) -> Vec<Timer>;

    /// Told after `timer` fired and its invocation was queued (for metrics; must not block).
    fn fired(&self, _timer: &Timer) {}
}

/// Cloning is shallow.
#[derive(Clone)]
pub struct Scheduler {
    reload: Arc<Notify>,
}

impl Scheduler {
    pub fn start(source: Arc<dyn TimerSource>, queue: Queue) -> Scheduler {
        let reload = Arc::new(Notify::new());
        tokio::spawn(run(source, queue, reload.clone()));
        Scheduler { reload }
    }

    /// Triggers changed: re-read them now.
    pub fn reload(&self) {
        self.reload.notify_one();
    }
}

/// FC's timer event.
pub fn timer_event(timer: &Timer, at: DateTime<Utc>) -> Vec<u8> {
    serde_json::json!({
        "triggerTime": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "triggerName": timer.name,
        "payload": timer.config.payload.clone().unwrap_or_default(),
    })
    .to_string()
    .into_bytes()
}

async fn run(source: Arc<dyn TimerSource>, queue: Queue, reload: Arc<Notify>) {
    loop {
        let now = Utc::now();
        let mut pending: Vec<(DateTime<Utc>, Timer)> = source
            .timers()
            .await
            .into_iter()
            .filter(|t| t.config.enable)
            .filter_map(|t| t.config.schedule.next_after(now).map(|at| (at, t)))
            .collect();
        loop {
            let Some(earliest) = pending.iter().map(|(at, _)| *at).min() else {
                reload.notified().await;
                break;
            };
            let wait = (earliest - Utc::now()).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = reload.notified() => break,
            }
            let now = Utc::now();
            for (at, timer) in pending.iter_mut() {
                if *at > now {
                    continue;
                }
                if fire(&queue, timer, *at).await {
                    source.fired(timer);
                }
                // The next time strictly after now: a late wake-up never fires twice.
                match timer.config.schedule.next_after(now) {
                    Some(next) => *at = next,
                    None => *at = DateTime::<Utc>::MAX_UTC,
                }
            }
        }
    }
}

/// Queues one firing; false when it could not be stored.
async fn fire(queue: &Queue, timer: &Timer, at: DateTime<Utc>) -> bool {
    let id = uuid::Uuid::new_v4().to_string();
    let job =
        Queue::job(&id, &timer.account, &timer.service, &timer.function, &timer.qualifier, timer_event(timer, at));
    match queue.enqueue(job).await {
        Ok(()) => {
            tracing::debug!(trigger = %timer.name, function = %timer.function, %id, "timer fired");
            true
        }
        Err(e) => {
            tracing::warn!(trigger = %timer.name, error = %e, "timer could not enqueue its invocation");
            false
        }
    }
}
