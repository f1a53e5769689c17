//! The data plane: every invocation (InvokeFunction, an HTTP trigger's request, a timer firing, an async
//! job) is one [`Invocation`] and takes one path through [`DataPlane::invoke`]: resolve the function
//! through the catalog (no database read when it is cached), check an HTTP trigger's rules, read the
//! payload within its bound, then either accept it for the queue or run it on the invoker, bound the
//! answer, keep the log and hand back the [`Outcome`]. Timers reach it through the queue: the scheduler
//! enqueues FC's timer event and a worker runs the job here.
//!
//! Layout:
//! - `mod.rs`: [`Invocation`] and its parts, [`DataPlane`], the pipeline.
//! - `http`: an HTTP trigger's rules (auth type, methods) against the caller.

mod http;
pub mod opentracing;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use ferric_invoker::{FunctionVersion, HttpRequest};
use ferric_store::MetadataStore;

pub use http::Caller;

use crate::catalog::Catalog;
use crate::control::Control;
use crate::error::ApiError;
use crate::logsink::LogSink;

/// The function an invocation runs; names already checked at the edge.
#[derive(Debug, Clone)]
pub struct Target {
    pub account: String,
    pub service: String,
    pub function: String,
    /// As the caller wrote it: `LATEST`, a version id or an alias (resolved per request by the catalog).
    pub qualifier: String,
}

/// The bytes of an event: a request body not read yet (read within the mode's bound), or bytes at hand.
pub enum Payload {
    Body(axum::body::Body),
    Bytes(Bytes),
}

pub enum Input {
    /// An event: InvokeFunction's body, or an async job's payload.
    Event(Payload),
    /// A request to the function's HTTP trigger, from `caller`.
    Http { request: HttpRequest, body: axum::body::Body, caller: Caller },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The caller waits for the answer, bounded by FC's sync response limit.
    Sync,
    /// Accepted for the queue: committed, then answered 202. `id` is the caller's stateful invocation id.
    Async { id: Option<String> },
    /// A queue worker runs an accepted async invocation now.
    Queued,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogType {
    None,
    /// The answer carries the end of the log (`X-Fc-Log-Result`).
    Tail,
}

/// One invocation, whichever way it arrived.
pub struct Invocation {
    pub target: Target,
    /// The `x-fc-request-id` the caller sees and `context.requestId`; an async job's id.
    pub request_id: String,
    pub input: Input,
    pub mode: Mode,
    pub log_type: LogType,
    /// The caller's OpenTracing span (`tracing::span_from_headers`); not kept for queued runs.
    pub span: Option<ferric_invoker::TracingContext>,
}

pub enum Outcome {
    /// An async invocation, committed.
    Accepted,
    Finished(Finished),
}

/// What a run produced.
pub struct Finished {
    pub version: Arc<FunctionVersion>,
    /// The answer; its log has gone to the log sink.
    pub response: ferric_invoker::Response,
    /// The base64 of the log's end, when asked for.
    pub log_tail: Option<String>,
}

/// The data plane's handle. Cloning is shallow; its parts are private to this module.
#[derive(Clone)]
pub struct DataPlane {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn MetadataStore>,
    code_root: PathBuf,
    catalog: Arc<Catalog>,
    invoker: ferric_invoker::Invoker,
    logs: LogSink,
    /// Async acceptance is a write, with the control plane's rules.
    control: Control,
    max_sync_payload: usize,
    max_async_payload: usize,
    domains: Arc<crate::domains::DomainTable>,
    metrics: Arc<crate::metrics::Metrics>,
}

/// What the server hands the data plane when it opens.
pub(crate) struct Parts {
    pub store: Arc<dyn MetadataStore>,
    pub code_root: PathBuf,
    pub catalog: Arc<Catalog>,
    pub invoker: ferric_invoker::Invoker,
    pub logs: LogSink,
    pub control: Control,
    pub max_sync_payload: usize,
    pub max_async_payload: usize,
    pub domains: Arc<crate::domains::DomainTable>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl DataPlane {
    pub(crate) fn new(p: Parts) -> DataPlane {
        let Parts {
            store,
            code_root,
            catalog,
            invoker,
            logs,
            control,
            max_sync_payload,
            max_async_payload,
            domains,
            metrics,
        } = p;
        DataPlane {
            inner: Arc::new(Inner {
                store,
                code_root,
                catalog,
                invoker,
                logs,
                control,
                max_sync_payload,
                max_async_payload,
                domains,
                metrics,
            }),
        }
    }

    pub async fn invoke(&self, invocation: Invocation) -> Result<Outcome, ApiError> {
        let Invocation { target, request_id, input, mode, log_type, span } = invocation;
        let inner = &self.inner;
        let resolved = inner
            .catalog
            .resolve(
                inner.store.as_ref(),
                &inner.code_root,
                &target.account,
                &target.service,
                &target.function,
                &ferric_types::version::Qualifier::parse(Some(&target.qualifier)),
            )
            .await?;
        let (payload, http) = match input {
            Input::Event(payload) => (payload, None),
            Input::Http { request, body, caller } => {
                http::check(&resolved, &target, &request.method, caller)?;
                (Payload::Body(body), Some(request))
            }
        };
        let version = resolved.version.clone();
        if let Mode::Async { id } = mode {
            let payload = read(payload, inner.max_async_payload).await?;
            let named = id.is_some();
            let id = id.unwrap_or_else(|| request_id.clone());
            let mut job = ferric_queue::Queue::job(
                &id,
                &target.account,
                &target.service,
                &version.function,
                &target.qualifier,
                payload.to_vec(),
            );
            job.request_id = request_id;
            crate::control::invocations::accept(&inner.control, job, named).await?;
            return Ok(Outcome::Accepted);
        }
        let payload = read(payload, inner.max_sync_payload).await?;
        let context = ferric_invoker::InvokeContext {
            qualifier: Some(target.qualifier.clone()),
            version_id: Some(if version.qualifier == "LATEST" { String::new() } else { version.qualifier.clone() }),
            tracing: opentracing::context(span, resolved.jaeger_endpoint.as_deref()),
        };
        let request = ferric_invoker::Request { request_id: request_id.clone(), payload, http, context };
        let line = crate::metrics::FunctionLabels::new(
            &version.account_id,
            &version.service,
            &version.function,
            &version.qualifier,
        );
        let mut response = match inner.invoker.invoke(version.clone(), request).await {
            Ok(response) => response,
            Err(e) => {
                if matches!(e, ferric_invoker::InvokeError::Throttled(_)) {
                    let throttled = crate::metrics::InvocationResult::Throttled;
                    inner.metrics.invocation(line, throttled, std::time::Duration::ZERO, None);
                }
                return Err(e.into());
            }
        };
        if mode == Mode::Sync {
            enforce_response_limit(&mut response, inner.max_sync_payload);
        }
        let result = crate::metrics::InvocationResult::of(&response);
        inner.metrics.invocation(line, result, response.duration, response.init_duration);
        let log = std::mem::take(&mut response.log);
        let log_tail = (log_type == LogType::Tail)
            .then(|| base64::engine::general_purpose::STANDARD.encode(ferric_invoker::logs::tail(&log)));
        self.keep_log(&version, &request_id, log);
        Ok(Outcome::Finished(Finished { version, response, log_tail }))
    }

    /// The custom domain a request's Host (without its port) names, if any. The server's own host
    /// names never name one, so a domain cannot shadow the API.
    pub async fn custom_domain(
        &self,
        host: &str,
    ) -> Result<Option<Arc<ferric_types::custom_domain::CustomDomain>>, ApiError> {
        let domains = &self.inner.domains;
        if domains.is_api_host(host) {
            return Ok(None);
        }
        Ok(domains.lookup(self.inner.store.as_ref(), host).await?)
    }

    /// Keeps an invocation's log for `/ferric/v1/logs`, off the invoke path.
    fn keep_log(&self, version: &FunctionVersion, request_id: &str, log: Vec<u8>) {
        self.inner.logs.record(ferric_store::LogRecord {
            id: 0,
            account_id: version.account_id.clone(),
            service: version.service.clone(),
            function: version.function.clone(),
            request_id: request_id.to_string(),
            time_ms: ferric_types::time::now_ms(),
            content: log,
        });
    }
}

async fn read(payload: Payload, limit: usize) -> Result<Bytes, ApiError> {
    match payload {
        Payload::Body(body) => crate::body::read(body, limit).await,
        Payload::Bytes(bytes) => Ok(bytes),
    }
}

/// A function may not answer more than FC's sync payload limit; a larger answer becomes FC's error.
fn enforce_response_limit(outcome: &mut ferric_invoker::Response, limit: usize) {
    if outcome.error.is_none() && outcome.body.len() > limit {
        let message = format!(
            "the function's response of {} bytes exceeds the maximum allowed size ({limit} bytes)",
            outcome.body.len()
        );
        outcome.error = Some(ferric_invoker::FunctionError::Unhandled);
        outcome.http = None;
        outcome.body = Bytes::from(serde_json::json!({ "errorMessage": message }).to_string());
    }
}
