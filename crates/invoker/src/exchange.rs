//! What goes into an invocation and what comes out of it.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use crate::message::HttpResponseHead;

/// An HTTP-trigger request as the runtime sees it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HttpRequest {
    pub method: String,
    /// The path below the function, percent-decoded, `/` when empty.
    pub path: String,
    #[serde(rename = "requestURI")]
    pub request_uri: String,
    #[serde(rename = "clientIP")]
    pub client_ip: String,
    pub host: String,
    /// Lower-case names.
    pub headers: BTreeMap<String, Vec<String>>,
    pub queries: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Request {
    /// Equals the `x-fc-request-id` the caller sees and `context.requestId`.
    pub request_id: String,
    pub payload: Bytes,
    pub http: Option<HttpRequest>,
    /// What the handler's `context` says of this request alone.
    pub context: InvokeContext,
}

/// The parts of FC's `context` that differ per request on one instance: an alias and the versions it
/// routes to share instances, so the qualifier the caller named travels with each request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvokeContext {
    /// `context.service.qualifier`: as the caller wrote it (an alias stays its name). `None` leaves the
    /// instance's own (its version, from `init`).
    pub qualifier: Option<String>,
    /// `context.service.versionId`: the version the request resolved to (empty for LATEST).
    pub version_id: Option<String>,
    /// `context.tracing`; `None` leaves the runtime's empty default.
    pub tracing: Option<TracingContext>,
}

/// FC's `context.tracing`, with its field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TracingContext {
    /// The caller's `x-fc-tracing-opentracing-span-context` header, as sent.
    pub open_tracing_span_context: String,
    /// The caller's `x-fc-tracing-opentracing-span-baggages` (base64 of a JSON object), decoded.
    pub open_tracing_span_baggages: BTreeMap<String, String>,
    /// The service's `tracingConfig.params.endpoint` when its type is Jaeger.
    pub jaeger_endpoint: String,
}

/// FC's two kinds of function error, named as the `X-Fc-Error-Type` header names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionError {
    Handled,
    Unhandled,
}

impl FunctionError {
    pub fn header(self) -> &'static str {
        match self {
            FunctionError::Handled => "HandledInvocationError",
            FunctionError::Unhandled => "UnhandledInvocationError",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    /// The result bytes, or FC's error JSON when `error` is set.
    pub body: Bytes,
    pub error: Option<FunctionError>,
    /// Status and headers from an HTTP handler.
    pub http: Option<HttpResponseHead>,
    pub duration: Duration,
    pub max_memory_mb: u64,
    /// How long starting the instance took, when this invocation started one (a cold start).
    pub init_duration: Option<Duration>,
    /// The function ran past its timeout and was stopped (`error` is then `Unhandled`).
    pub timed_out: bool,
    /// The invocation's log, framed by `FC Invoke Start/End RequestId:` lines.
    pub log: Vec<u8>,
}
