//! Issue 10: a destination event was written straight to the store, skipping the queue's wake, so the
//! destination waited for the next poll. It is enqueued through the queue now and runs at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ferric_queue::{AsyncInvokeConfig, Destination, Queue, QueueConfig, RunOutcome, Runner};
use ferric_store::sqlite::SqliteStore;
use ferric_store::{Job, MetadataStore};
use ferric_types::async_config::DestinationConfig;

/// Records when each function's run started and ended.
#[derive(Default)]
struct Recorder {
    started: Mutex<HashMap<String, Instant>>,
    ended: Mutex<HashMap<String, Instant>>,
}

#[async_trait]
impl Runner for Recorder {
    async fn run(&self, job: &Job) -> RunOutcome {
        self.started.lock().expect("lock").insert(job.function.clone(), Instant::now());
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.ended.lock().expect("lock").insert(job.function.clone(), Instant::now());
        RunOutcome { body: b"done".to_vec(), error: None }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_destination_runs_within_200_ms_of_its_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn MetadataStore> = Arc::new(SqliteStore::open(&dir.path().join("db")).expect("open"));
    let config = AsyncInvokeConfig {
        destination_config: Some(DestinationConfig {
            on_success: Some(Destination { destination: "acs:fc:::services/s/functions/sink".into() }),
            on_failure: None,
        }),
        ..AsyncInvokeConfig::default()
    };
    store.put_async_config("a", "s", "source", "LATEST", config).await.expect("config");
    let runner = Arc::new(Recorder::default());
    // A poll far longer than the bound: only a wake can start the destination in time.
    let queue = Queue::start(store, runner.clone(), QueueConfig { poll: Duration::from_secs(5), ..Default::default() });
    queue.enqueue(Queue::job("one", "a", "s", "source", "LATEST", b"x".to_vec())).await.expect("enqueue");

    let deadline = Instant::now() + Duration::from_secs(3);
    let started = loop {
        if let Some(at) = runner.started.lock().expect("lock").get("sink").copied() {
            break at;
        }
        assert!(Instant::now() < deadline, "the destination did not run");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let source_ended = runner.ended.lock().expect("lock").get("source").copied().expect("the source ran");
    let delay = started.duration_since(source_ended);
    assert!(delay < Duration::from_millis(200), "the destination started {delay:?} after its source ended");
}
