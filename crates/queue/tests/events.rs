//! The runner hears of each retry and each dead letter, once: what `/metrics` counts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ferric_queue::{AsyncInvokeConfig, Queue, QueueConfig, RunOutcome, Runner};
use ferric_store::sqlite::SqliteStore;
use ferric_store::{Job, JobStatus, MetadataStore};

/// Fails every run, and records what the queue told it.
#[derive(Default)]
struct Failing {
    runs: Mutex<u32>,
    retried: Mutex<Vec<u32>>,
    dead: Mutex<Vec<(String, JobStatus)>>,
}

#[async_trait]
impl Runner for Failing {
    async fn run(&self, _job: &Job) -> RunOutcome {
        *self.runs.lock().expect("lock") += 1;
        RunOutcome { body: b"{}".to_vec(), error: Some("UnhandledInvocationError: boom".into()) }
    }

    fn retried(&self, job: &Job) {
        self.retried.lock().expect("lock").push(job.attempts);
    }

    fn dead_lettered(&self, job: &Job, status: JobStatus) {
        self.dead.lock().expect("lock").push((job.id.clone(), status));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_retry_and_the_final_failure_are_reported_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn MetadataStore> = Arc::new(SqliteStore::open(&dir.path().join("db")).expect("open"));
    let config = AsyncInvokeConfig { max_async_retry_attempts: Some(2), ..AsyncInvokeConfig::default() };
    store.put_async_config("a", "s", "f", "LATEST", config).await.expect("config");
    let runner = Arc::new(Failing::default());
    let queue_config = QueueConfig {
        poll: Duration::from_millis(10),
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        ..Default::default()
    };
    let queue = Queue::start(store, runner.clone(), queue_config);
    queue.enqueue(Queue::job("one", "a", "s", "f", "LATEST", b"x".to_vec())).await.expect("enqueue");

    let deadline = Instant::now() + Duration::from_secs(10);
    while runner.dead.lock().expect("lock").is_empty() {
        assert!(Instant::now() < deadline, "the job never ended");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(*runner.runs.lock().expect("lock"), 3, "one run and two retries");
    assert_eq!(*runner.retried.lock().expect("lock"), [1, 2], "told after the first and second failed runs");
    assert_eq!(*runner.dead.lock().expect("lock"), [("one".to_string(), JobStatus::Failed)]);
    assert!(queue.depth(10).await.expect("depth").is_empty(), "nothing waits any more");
}
