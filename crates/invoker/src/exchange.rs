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
    /// The invocation's log, framed by `FC Invoke Start/End RequestId:` lines.
    pub log: Vec<u8>,
}
