//! What the server counts, for `GET /metrics` (Prometheus scrapes, OpenMetrics text) and for the
//! console's per-function charts ([`Metrics::history`]).
//!
//! Every series of a function is labelled `account`, `service`, `function`, `qualifier`. Invocation and
//! instance series name the line that ran (`LATEST` or a version id: an alias's traffic shows under
//! the versions it picked); queue and timer series name the qualifier their invocation was queued with
//! (it may be an alias, resolved only when the job runs).
//!
//! Cardinality is bounded: at most `max_functions` label sets (`--metrics-max-functions`) are admitted;
//! a new one past the cap takes the place of a line with nothing recorded for an hour (its series are
//! dropped), or else is counted in the one overflow series whose four labels are `_overflow`. Results,
//! states and reasons are closed sets; HTTP series are labelled by route template, method (standard
//! methods, else `other`) and status.
//!
//! Layout: `mod.rs` the [`Metrics`] handle, what the data plane, queue and timers record, and the
//! scrape; `history` the per-minute ring behind the charts; `http` the layer counting the server's own
//! requests.

mod history;
pub(crate) mod http;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use history::{Event, Ring};
pub use history::{FunctionHistory, HistoryBucket};

/// The label set of one function line; `_overflow` in all four for the overflow series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct FunctionLabels {
    pub account: String,
    pub service: String,
    pub function: String,
    pub qualifier: String,
}

impl FunctionLabels {
    pub fn new(account: &str, service: &str, function: &str, qualifier: &str) -> FunctionLabels {
        FunctionLabels {
            account: account.to_string(),
            service: service.to_string(),
            function: function.to_string(),
            qualifier: qualifier.to_string(),
        }
    }

    fn overflow() -> FunctionLabels {
        FunctionLabels::new(OVERFLOW, OVERFLOW, OVERFLOW, OVERFLOW)
    }
}

/// The label value of the overflow series.
pub const OVERFLOW: &str = "_overflow";

/// A function line's labels and one more (the derive flattens only a last field, so they are spelled out).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    account: String,
    service: String,
    function: String,
    qualifier: String,
    result: String,
}

impl ResultLabels {
    fn new(line: &FunctionLabels, result: &str) -> ResultLabels {
        let FunctionLabels { account, service, function, qualifier } = line.clone();
        ResultLabels { account, service, function, qualifier, result: result.to_string() }
    }
}

/// A function line's labels and one more (the derive flattens only a last field, so they are spelled out).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    account: String,
    service: String,
    function: String,
    qualifier: String,
    state: String,
}

impl StateLabels {
    fn new(line: &FunctionLabels, state: &str) -> StateLabels {
        let FunctionLabels { account, service, function, qualifier } = line.clone();
        StateLabels { account, service, function, qualifier, state: state.to_string() }
    }
}

/// A function line's labels and one more (the derive flattens only a last field, so they are spelled out).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    account: String,
    service: String,
    function: String,
    qualifier: String,
    reason: String,
}

impl ReasonLabels {
    fn new(line: &FunctionLabels, reason: &str) -> ReasonLabels {
        let FunctionLabels { account, service, function, qualifier } = line.clone();
        ReasonLabels { account, service, function, qualifier, reason: reason.to_string() }
    }
}

/// How an invocation ended, as `ferric_invocations_total{result}` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationResult {
    Success,
    /// The function reported an error it handled.
    Handled,
    /// It threw, crashed, ran out of memory, could not start, or answered past the size limit.
    Unhandled,
    /// It ran past its timeout.
    Timeout,
    /// No instance was free within the wait: nothing ran.
    Throttled,
}

impl InvocationResult {
    fn label(self) -> &'static str {
        match self {
            InvocationResult::Success => "success",
            InvocationResult::Handled => "handled",
            InvocationResult::Unhandled => "unhandled",
            InvocationResult::Timeout => "timeout",
            InvocationResult::Throttled => "throttled",
        }
    }

    pub fn of(response: &ferric_invoker::Response) -> InvocationResult {
        match response.error {
            None => InvocationResult::Success,
            Some(_) if response.timed_out => InvocationResult::Timeout,
            Some(ferric_invoker::FunctionError::Handled) => InvocationResult::Handled,
            Some(ferric_invoker::FunctionError::Unhandled) => InvocationResult::Unhandled,
        }
    }
}

/// Function lines admitted by default.
pub const DEFAULT_MAX_FUNCTIONS: usize = 1000;
/// Queue depth lines read per scrape, and how long one reading serves.
const DEPTH_LINES: u32 = 1000;
const DEPTH_TTL: Duration = Duration::from_secs(5);
/// How often live instances are sampled into the history.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// The server's time: wall milliseconds at start plus tokio's clock since, so tests pause it.
#[derive(Debug, Clone, Copy)]
struct Clock {
    wall_ms_at_start: i64,
    start: tokio::time::Instant,
}

impl Clock {
    fn start() -> Clock {
        Clock { wall_ms_at_start: ferric_types::time::now_ms(), start: tokio::time::Instant::now() }
    }

    fn now_ms(&self) -> i64 {
        self.wall_ms_at_start + i64::try_from(self.start.elapsed().as_millis()).unwrap_or(i64::MAX / 2)
    }
}

/// The admitted function lines and their hour each.
struct Lines {
    max: usize,
    rings: HashMap<FunctionLabels, Ring>,
    overflow: Ring,
}

/// What the scrape reads live: the invoker's instances and the queue's depth.
struct Sources {
    invoker: ferric_invoker::Invoker,
    queue: ferric_queue::Queue,
}

type Depth = Vec<ferric_store::QueueDepth>;

/// The server's metrics. Shared (`Arc`); recording is a map lookup and a few atomic adds.
pub struct Metrics {
    clock: Clock,
    lines: Mutex<Lines>,
    registry: Registry,
    invocations: Family<ResultLabels, Counter>,
    duration: Family<FunctionLabels, Histogram>,
    cold_starts: Family<FunctionLabels, Counter>,
    init_duration: Family<FunctionLabels, Histogram>,
    retries: Family<FunctionLabels, Counter>,
    dead_letters: Family<ReasonLabels, Counter>,
    timer_firings: Family<FunctionLabels, Counter>,
    http: http::HttpMetrics,
    sources: OnceLock<Sources>,
    depth: tokio::sync::Mutex<Option<(tokio::time::Instant, Arc<Depth>)>>,
}

fn duration_histogram() -> Histogram {
    Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0])
}

fn init_histogram() -> Histogram {
    Histogram::new([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
}

impl Metrics {
    /// Metrics admitting at most `max_functions` function lines (at least one).
    pub fn new(max_functions: usize) -> Metrics {
        let mut registry = Registry::default();
        let invocations = Family::<ResultLabels, Counter>::default();
        let duration = Family::<FunctionLabels, Histogram>::new_with_constructor(duration_histogram as fn() -> _);
        let cold_starts = Family::<FunctionLabels, Counter>::default();
        let init_duration = Family::<FunctionLabels, Histogram>::new_with_constructor(init_histogram as fn() -> _);
        let retries = Family::<FunctionLabels, Counter>::default();
        let dead_letters = Family::<ReasonLabels, Counter>::default();
        let timer_firings = Family::<FunctionLabels, Counter>::default();
        registry.register(
            "ferric_invocations",
            "Invocations by result (success, handled, unhandled, timeout, throttled)",
            invocations.clone(),
        );
        registry.register(
            "ferric_invocation_duration_seconds",
            "How long invocations ran, from the event's arrival at the instance to its answer",
            duration.clone(),
        );
        registry.register("ferric_cold_starts", "Invocations that started an instance", cold_starts.clone());
        registry.register(
            "ferric_init_duration_seconds",
            "How long starting an instance took, for the invocation that waited for it",
            init_duration.clone(),
        );
        registry.register("ferric_async_retries", "Failed async runs queued to run again", retries.clone());
        registry.register(
            "ferric_async_dead_letters",
            "Async invocations that ended without success for good, by reason (failed, expired)",
            dead_letters.clone(),
        );
        registry.register("ferric_timer_firings", "Timer trigger firings queued", timer_firings.clone());
        let http = http::HttpMetrics::register(&mut registry);
        Metrics {
            clock: Clock::start(),
            lines: Mutex::new(Lines { max: max_functions.max(1), rings: HashMap::new(), overflow: Ring::new() }),
            registry,
            invocations,
            duration,
            cold_starts,
            init_duration,
            retries,
            dead_letters,
            timer_firings,
            http,
            sources: OnceLock::new(),
            depth: tokio::sync::Mutex::new(None),
        }
    }

    /// Connects the live sources and starts sampling instances into the history. Call once.
    pub(crate) fn attach(self: &Arc<Self>, invoker: ferric_invoker::Invoker, queue: ferric_queue::Queue) {
        let _ = self.sources.set(Sources { invoker, queue });
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SAMPLE_EVERY).await;
                let Some(metrics) = weak.upgrade() else { return };
                metrics.sample_instances();
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The labels `line` is counted under, admitting it if there is room, and records `event` in its hour.
    fn admit(&self, line: FunctionLabels, event: Option<Event>) -> FunctionLabels {
        let now = self.clock.now_ms();
        let evicted = {
            let mut lines = self.lock();
            let mut evicted = None;
            if !lines.rings.contains_key(&line) && lines.rings.len() >= lines.max {
                evicted = lines.rings.iter().find(|(_, ring)| ring.is_stale(now)).map(|(k, _)| k.clone());
                match &evicted {
                    Some(old) => {
                        lines.rings.remove(old);
                    }
                    None => {
                        if let Some(event) = event {
                            lines.overflow.record(now, event);
                        }
                        return FunctionLabels::overflow();
                    }
                }
            }
            let ring = lines.rings.entry(line.clone()).or_insert_with(Ring::new);
            if let Some(event) = event {
                ring.record(now, event);
            }
            evicted
        };
        if let Some(old) = evicted {
            self.forget(&old);
        }
        line
    }

    /// Drops every series of a line that gave its place to a new one.
    fn forget(&self, line: &FunctionLabels) {
        for result in RESULTS {
            self.invocations.remove(&ResultLabels::new(line, result.label()));
        }
        for reason in ["failed", "expired"] {
            self.dead_letters.remove(&ReasonLabels::new(line, reason));
        }
        self.duration.remove(line);
        self.cold_starts.remove(line);
        self.init_duration.remove(line);
        self.retries.remove(line);
        self.timer_firings.remove(line);
    }

    /// One invocation that reached the invoker, as the caller saw it end.
    pub fn invocation(
        &self,
        line: FunctionLabels,
        result: InvocationResult,
        duration: Duration,
        init: Option<Duration>,
    ) {
        let event = match result {
            InvocationResult::Throttled => Event::Throttle,
            _ => Event::Invocation {
                error: result != InvocationResult::Success,
                cold: init.is_some(),
                duration_ms: duration.as_secs_f64() * 1000.0,
            },
        };
        let labels = self.admit(line, Some(event));
        self.invocations.get_or_create(&ResultLabels::new(&labels, result.label())).inc();
        if result == InvocationResult::Throttled {
            return;
        }
        self.duration.get_or_create(&labels).observe(duration.as_secs_f64());
        if let Some(init) = init {
            self.cold_starts.get_or_create(&labels).inc();
            self.init_duration.get_or_create(&labels).observe(init.as_secs_f64());
        }
    }

    pub(crate) fn retry(&self, line: FunctionLabels) {
        let labels = self.admit(line, None);
        self.retries.get_or_create(&labels).inc();
    }

    pub(crate) fn dead_letter(&self, line: FunctionLabels, status: ferric_store::JobStatus) {
        let reason = if status == ferric_store::JobStatus::Expired { "expired" } else { "failed" };
        let labels = self.admit(line, None);
        self.dead_letters.get_or_create(&ReasonLabels::new(&labels, reason)).inc();
    }

    pub(crate) fn timer_fired(&self, line: FunctionLabels) {
        let labels = self.admit(line, None);
        self.timer_firings.get_or_create(&labels).inc();
    }

    pub(crate) fn http(&self) -> &http::HttpMetrics {
        &self.http
    }

    /// The last hour of a function, per minute; `qualifier: None` sums all its lines. A line never
    /// recorded (or past the cap) gives zero buckets.
    pub fn history(&self, account: &str, service: &str, function: &str, qualifier: Option<&str>) -> FunctionHistory {
        self.sample_instances();
        let now = self.clock.now_ms();
        let lines = self.lock();
        let rings = lines.rings.iter().filter(|(k, _)| {
            k.account == account
                && k.service == service
                && k.function == function
                && qualifier.is_none_or(|q| k.qualifier == q)
        });
        history::summarize(now, rings.map(|(_, ring)| ring))
    }

    /// Records each function line's live instances in its current minute.
    fn sample_instances(&self) {
        let Some(sources) = self.sources.get() else { return };
        for line in sources.invoker.snapshot().into_iter().filter(|l| l.live > 0) {
            let labels = FunctionLabels::new(&line.account, &line.service, &line.function, &line.qualifier);
            self.admit(labels, Some(Event::Instances(line.live as u64)));
        }
    }

    /// The queue's depth, read from the store at most every few seconds.
    async fn depth(&self, queue: &ferric_queue::Queue) -> Arc<Depth> {
        let mut cached = self.depth.lock().await;
        if let Some((at, depth)) = cached.as_ref() {
            if at.elapsed() < DEPTH_TTL {
                return depth.clone();
            }
        }
        let depth = match queue.depth(DEPTH_LINES).await {
            Ok(depth) => Arc::new(depth),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the async queue's depth for /metrics");
                Arc::new(Vec::new())
            }
        };
        *cached = Some((tokio::time::Instant::now(), depth.clone()));
        depth
    }

    /// Everything in OpenMetrics text: the counters, then what is read live (instances, memory, queue
    /// depth), then `more` (the sandbox's features, the connection limits), then `# EOF`.
    pub(crate) async fn render(&self, more: impl FnOnce(&mut Registry)) -> String {
        let mut live = Registry::default();
        if let Some(sources) = self.sources.get() {
            let instances = Family::<StateLabels, Gauge>::default();
            let memory = Family::<FunctionLabels, Gauge>::default();
            for line in sources.invoker.snapshot() {
                let labels = self
                    .admit(FunctionLabels::new(&line.account, &line.service, &line.function, &line.qualifier), None);
                let state = |state: &str| StateLabels::new(&labels, state);
                instances.get_or_create(&state("busy")).inc_by((line.live - line.idle) as i64);
                instances.get_or_create(&state("idle")).inc_by(line.idle as i64);
                memory.get_or_create(&labels).inc_by(i64::try_from(line.reserved_memory_mb * 1024 * 1024).unwrap_or(0));
            }
            let depth = Family::<StateLabels, Gauge>::default();
            for d in self.depth(&sources.queue).await.iter() {
                let labels =
                    self.admit(FunctionLabels::new(&d.account_id, &d.service, &d.function, &d.qualifier), None);
                let state = |state: &str| StateLabels::new(&labels, state);
                depth.get_or_create(&state("enqueued")).inc_by(i64::try_from(d.enqueued).unwrap_or(i64::MAX));
                depth.get_or_create(&state("running")).inc_by(i64::try_from(d.running).unwrap_or(i64::MAX));
            }
            live.register("ferric_instances", "Live function instances, by state (busy, idle)", instances);
            live.register(
                "ferric_memory_reserved_bytes",
                "Memory held against the server's budget by live and starting instances (their memorySize)",
                memory,
            );
            live.register(
                "ferric_async_queue_depth",
                "Async invocations waiting to run (enqueued, including retries backing off) or running",
                depth,
            );
        }
        let admitted = Gauge::<i64>::default();
        admitted.set(i64::try_from(self.lock().rings.len()).unwrap_or(i64::MAX));
        live.register(
            "ferric_metrics_function_lines",
            "Function label sets admitted (the rest are summed in the _overflow series)",
            admitted,
        );
        more(&mut live);
        let mut text = String::new();
        let encoded = prometheus_client::encoding::text::encode_registry(&mut text, &self.registry)
            .and_then(|()| prometheus_client::encoding::text::encode_registry(&mut text, &live))
            .and_then(|()| prometheus_client::encoding::text::encode_eof(&mut text));
        if let Err(e) = encoded {
            tracing::warn!(error = %e, "cannot encode /metrics");
        }
        text
    }
}

const RESULTS: [InvocationResult; 5] = [
    InvocationResult::Success,
    InvocationResult::Handled,
    InvocationResult::Unhandled,
    InvocationResult::Timeout,
    InvocationResult::Throttled,
];

#[cfg(test)]
mod tests;
