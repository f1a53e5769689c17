//! Invocation logs leave the invoke path through a bounded channel; one task writes them to the store in
//! batches and another prunes them by age and count. A full channel drops a log (and counts it) rather
//! than slowing invocations down.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferric_store::{LogRecord, MetadataStore};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Logs waiting to be written; beyond this, new ones are dropped.
const QUEUE: usize = 32 * 1024;
/// Most logs written in one transaction.
const BATCH: usize = 2048;

#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<Item>,
    dropped: Arc<AtomicU64>,
    /// Live followers (`/ferric/v1/logs/follow`); a slow one skips records rather than slowing anyone.
    live: broadcast::Sender<Arc<LogRecord>>,
}

/// Records a follower may fall behind by before it is told it skipped some.
const FOLLOW_BUFFER: usize = 1024;

enum Item {
    Record(LogRecord),
    /// Write what is queued now and answer: readers see every log of an invocation that has answered.
    Flush(oneshot::Sender<()>),
}

/// How long, how many and how much invocation log is kept. Each invocation's log is itself bounded by the
/// invoker (`InvokerConfig::max_log_bytes`), so these bound the disk the logs can take.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub max_age: Duration,
    pub max_records: u64,
    pub max_bytes: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { max_age: Duration::from_secs(7 * 24 * 3600), max_records: 100_000, max_bytes: 256 * 1024 * 1024 }
    }
}

impl LogSink {
    pub fn start(store: Arc<dyn MetadataStore>, retention: Retention) -> LogSink {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store.clone(), rx));
        tokio::spawn(prune_forever(Arc::downgrade(&store), retention));
        LogSink { tx, dropped: Arc::new(AtomicU64::new(0)), live: broadcast::channel(FOLLOW_BUFFER).0 }
    }

    /// New records from now on, as they are recorded.
    pub fn follow(&self) -> broadcast::Receiver<Arc<LogRecord>> {
        self.live.subscribe()
    }

    pub fn record(&self, record: LogRecord) {
        if self.live.receiver_count() > 0 {
            let _ = self.live.send(Arc::new(record.clone()));
        }
        if self.tx.try_send(Item::Record(record)).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "invocation logs dropped: the log writer is behind");
            }
        }
    }
}

/// How long the writer lets logs accumulate after the first one: one transaction per batch, not per
/// invocation, keeps the writer's share of the CPU small at moderate request rates. Readers never wait
/// for it (`flush`), and a crash loses at most this much: kept at 10 ms, as a 40 ms linger saved about a
/// quarter of the log's disk writes but no measurable CPU, and widened what a crash loses fourfold.
const LINGER: Duration = Duration::from_millis(10);

impl LogSink {
    /// Waits until every log recorded before this call is in the store (bounded to one second).
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Item::Flush(ack)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(1), done).await;
        }
    }
}

async fn write_batches(store: Arc<dyn MetadataStore>, mut rx: mpsc::Receiver<Item>) {
    while let Some(first) = rx.recv().await {
        let mut batch = Vec::new();
        let mut acks = Vec::new();
        let take = |item: Item, batch: &mut Vec<LogRecord>, acks: &mut Vec<oneshot::Sender<()>>| match item {
            Item::Record(record) => batch.push(record),
            Item::Flush(ack) => acks.push(ack),
        };
        take(first, &mut batch, &mut acks);
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH && acks.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(item)) => take(item, &mut batch, &mut acks),
                Ok(None) | Err(_) => break,
            }
        }
        if !batch.is_empty() {
            if let Err(e) = store.append_logs(batch).await {
                tracing::warn!(error = %e, "could not store invocation logs");
            }
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

async fn prune_forever(store: std::sync::Weak<dyn MetadataStore>, retention: Retention) {
    loop {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let Some(store) = store.upgrade() else { return };
        let cutoff = ferric_types::time::now_ms() - i64::try_from(retention.max_age.as_millis()).unwrap_or(i64::MAX);
        if let Err(e) = store.prune_logs(cutoff, retention.max_records, retention.max_bytes).await {
            tracing::warn!(error = %e, "could not prune invocation logs");
        }
    }
}
