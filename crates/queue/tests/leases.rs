//! Issue 9: a lease was 15 minutes and a function may run for a day, so a long async job was leased, and
//! run, a second time while its first run went on. Tokio's paused clock drives the queue's time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ferric_queue::{Queue, QueueConfig, RunOutcome, Runner};
use ferric_store::sqlite::SqliteStore;
use ferric_store::{Job, JobStatus, MetadataStore};

/// A job that runs for `run_for`, counting runs and how many overlap.
struct Slow {
    run_for: Duration,
    runs: AtomicUsize,
    running: AtomicUsize,
    most_at_once: AtomicUsize,
}

#[async_trait]
impl Runner for Slow {
    async fn run(&self, _job: &Job) -> RunOutcome {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.run_for).await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        RunOutcome { body: b"done".to_vec(), error: None }
    }
}

#[tokio::test(start_paused = true)]
async fn a_job_running_ten_leases_long_runs_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn MetadataStore> = Arc::new(SqliteStore::open(&dir.path().join("db")).expect("open"));
    let lease = Duration::from_secs(60);
    let runner = Arc::new(Slow {
        run_for: lease * 10,
        runs: AtomicUsize::new(0),
        running: AtomicUsize::new(0),
        most_at_once: AtomicUsize::new(0),
    });
    let config = QueueConfig { workers: 4, lease, ..QueueConfig::default() };
    let queue = Queue::start(store.clone(), runner.clone(), config);
    queue.enqueue(Queue::job("long", "a", "s", "f", "LATEST", b"x".to_vec())).await.expect("enqueue");

    let mut status = JobStatus::Enqueued;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        status = store.get_job("a", "long").await.expect("get").expect("kept").status;
        if status == JobStatus::Succeeded {
            break;
        }
    }
    assert_eq!(status, JobStatus::Succeeded, "the job finished within 1000 s of tokio time");
    assert_eq!(runner.most_at_once.load(Ordering::SeqCst), 1, "never two runs at once");
    assert_eq!(runner.runs.load(Ordering::SeqCst), 1, "run once");
}
