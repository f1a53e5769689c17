//! Unit tests of pools and instances: the real invoker, pools and instances over the [`fake`] spawner,
//! with tokio's clock paused, so waits of seconds or minutes take no time and happen in a fixed order.
//!
//! Layout: `fake` (the spawner double and its in-process runtimes), `pools` (reuse, concurrency,
//! throttling, the memory budget, versions, reaping), `instances` (timeouts, crashes, initializers,
//! start failures, what an instance is started with), `custom` (how a custom runtime's instance starts),
//! `scaling` (wait or start under load, the most recently used pick, the learned keep-alive, cold starts).
//! `provision`: provisioned instances and on-demand caps.
//! `counts`: what an invocation says about its cold start and timeout, and the instance snapshot.

mod counts;
mod custom;
mod fake;
mod instances;
mod pools;
mod provision;
mod scaling;
mod stem;

use std::sync::Arc;
use std::time::Duration;

use ferric_types::function::FunctionSpec;

use crate::clock::Clock;
use crate::{FunctionVersion, Interpreter, InvokeError, Invoker, InvokerConfig, Request, Response, Runtimes};
use fake::FakeSpawner;

/// The invoker under test and the double it spawns through.
struct Harness {
    invoker: Invoker,
    fake: Arc<FakeSpawner>,
}

fn config() -> InvokerConfig {
    let mut config = InvokerConfig::new(std::path::Path::new("/nonexistent/ferric-invoker-tests"));
    config.memory_budget_mb = 1024;
    config.idle_timeout = Duration::from_secs(300);
    config.queue_timeout = Duration::from_secs(3);
    config.max_instances_per_function = 16;
    config
}

fn harness(config: InvokerConfig) -> Harness {
    let runtimes = Runtimes {
        node: Some(Interpreter { path: "/fake/bin/node".into(), version: "v20.0.0".into() }),
        python: None,
        php: None,
        java: None,
    };
    harness_with(config, runtimes)
}

fn harness_with(config: InvokerConfig, runtimes: Runtimes) -> Harness {
    let fake = Arc::new(FakeSpawner::default());
    let invoker = Invoker::with_spawner(config, runtimes, fake.clone(), Clock);
    Harness { invoker, fake }
}

/// Function `name` with code `checksum`: Node.js, 128 MB, a minute's timeout, one request per instance.
fn function(name: &str, checksum: &str, tweak: impl FnOnce(&mut FunctionSpec)) -> Arc<FunctionVersion> {
    let mut spec = FunctionSpec {
        runtime: "nodejs20".into(),
        handler: "index.handler".into(),
        timeout: 60,
        memory_size: 128,
        instance_concurrency: 1,
        ..Default::default()
    };
    tweak(&mut spec);
    Arc::new(FunctionVersion {
        key_cache: Default::default(),
        account_id: "1234567890123456".into(),
        service: "svc".into(),
        function: name.into(),
        qualifier: "LATEST".into(),
        spec,
        log_project: String::new(),
        log_store: String::new(),
        code_dir: format!("/code/{checksum}").into(),
        code_checksum: checksum.into(),
        layer_dirs: Vec::new(),
        internet_access: true,
    })
}

fn request(event: &str) -> Request {
    Request {
        request_id: uuid::Uuid::new_v4().to_string(),
        payload: event.to_string().into(),
        http: None,
        context: Default::default(),
    }
}

impl Harness {
    async fn invoke(&self, version: &Arc<FunctionVersion>, event: &str) -> Result<Response, InvokeError> {
        self.invoker.invoke(version.clone(), request(event)).await
    }

    /// Invokes and expects an answer (a function error is an answer too).
    async fn answer(&self, version: &Arc<FunctionVersion>, event: &str) -> Response {
        match self.invoke(version, event).await {
            Ok(response) => response,
            Err(e) => panic!("{event}: {e}"),
        }
    }
}

fn text(response: &Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

fn log(response: &Response) -> String {
    String::from_utf8_lossy(&response.log).into_owned()
}

/// Lets every task that can run, run (the fake runtimes, readers, waiters), without moving the clock.
async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}
