//! `POST /2016-08-15/services/{service}/functions/{function}/invocations`: InvokeFunction.
//!
//! A sync call answers 200 with the function's bytes (never labelled `application/json`, or the Node SDK
//! would parse them), or 200 with `X-Fc-Error-Type` and FC's error JSON when the function failed. An
//! `X-Fc-Invocation-Type: Async` call answers 202 with an empty body and runs in the background.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::Engine;
use ferric_invoker::{FunctionVersion, InvokeError, Request};
use ferric_types::name::{validate_name, NameRule};
use ferric_types::ErrorCode;

use super::functions::read_service;
use super::Params;
use crate::auth::Account;
use crate::catalog::Resolved;
use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::state::AppState;

/// Resolves a function for the data plane, through the catalog.
pub(super) async fn resolve(
    state: &AppState,
    account: &str,
    service: &str,
    function: &str,
) -> Result<Arc<Resolved>, ApiError> {
    validate_name("function", function, NameRule::Lenient)?;
    let inner = state.inner();
    inner.catalog.resolve(inner.store.as_ref(), inner.code.root(), account, service, function).await
}

/// Keeps an invocation's log for `/ferric/v1/logs`.
pub(super) fn record_log(state: &AppState, version: &FunctionVersion, request_id: &str, log: Vec<u8>) {
    keep_log(&state.inner().logs, version, request_id, log);
}

pub(crate) fn keep_log(logs: &crate::logsink::LogSink, version: &FunctionVersion, request_id: &str, log: Vec<u8>) {
    logs.record(ferric_store::LogRecord {
        id: 0,
        account_id: version.account_id.clone(),
        service: version.service.clone(),
        function: version.function.clone(),
        request_id: request_id.to_string(),
        time_ms: ferric_types::time::now_ms(),
        content: log,
    });
}

impl From<InvokeError> for ApiError {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::RuntimeUnavailable { .. } => ApiError::invalid(e.to_string()),
            InvokeError::Throttled(message) => ApiError::new(ErrorCode::ResourceExhausted, message),
        }
    }
}

/// A function may not answer more than FC's sync payload limit; a larger answer becomes FC's error.
pub(super) fn enforce_response_limit(outcome: &mut ferric_invoker::Response, limit: usize) {
    if outcome.error.is_none() && outcome.body.len() > limit {
        let message = format!(
            "the function's response of {} bytes exceeds the maximum allowed size ({limit} bytes)",
            outcome.body.len()
        );
        outcome.error = Some(ferric_invoker::FunctionError::Unhandled);
        outcome.http = None;
        outcome.body = bytes::Bytes::from(serde_json::json!({ "errorMessage": message }).to_string());
    }
}

fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers.get(name).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case(value))
}

/// The invocation headers FC sends with every answer.
pub(super) fn invocation_headers(
    response: &mut Response,
    version: &FunctionVersion,
    outcome: &ferric_invoker::Response,
) {
    let headers = response.headers_mut();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    put("x-fc-code-checksum", version.code_checksum.clone());
    put("x-fc-invocation-duration", outcome.duration.as_millis().to_string());
    put("x-fc-max-memory-usage", outcome.max_memory_mb.to_string());
    put("x-fc-invocation-service-version", version.qualifier.clone());
    if let Some(kind) = outcome.error {
        put("x-fc-error-type", kind.header().to_string());
    }
}

pub async fn invoke(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Params((service, function)): Params<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    let resolved = resolve(&state, &account.0, &service, &function).await?;
    let version = resolved.version.clone();
    let config = state.config();

    if header_is(&headers, "x-fc-invocation-type", "Async") {
        let payload = crate::body::read(body, config.max_async_payload_bytes).await?;
        // The caller may name the invocation (FC's stateful async invocation id); else it is the request id.
        let id = match headers.get("x-fc-stateful-async-invocation-id").and_then(|v| v.to_str().ok()) {
            Some(id) if !id.is_empty() => {
                validate_name("invocation", id, NameRule::Lenient)?;
                if state.inner().store.get_job(&account.0, id).await?.is_some() {
                    return Err(ApiError::new(
                        ErrorCode::InvalidArgument,
                        format!("stateful async invocation '{id}' already exists"),
                    ));
                }
                id.to_string()
            }
            _ => request_id.clone(),
        };
        let job = ferric_queue::Queue::job(
            &id,
            &account.0,
            &service,
            &version.function,
            &version.qualifier,
            payload.to_vec(),
        );
        state.inner().queue.enqueue(job).await?;
        return Ok(StatusCode::ACCEPTED.into_response());
    }

    let payload = crate::body::read(body, config.max_sync_payload_bytes).await?;
    let request = Request { request_id: request_id.clone(), payload, http: None };
    let mut outcome = state.inner().invoker.invoke(version.clone(), request).await?;
    enforce_response_limit(&mut outcome, config.max_sync_payload_bytes);
    let tail = header_is(&headers, "x-fc-log-type", "Tail")
        .then(|| base64::engine::general_purpose::STANDARD.encode(ferric_invoker::logs::tail(&outcome.log)));
    let content_type = if outcome.error.is_some() { "application/json" } else { "application/octet-stream" };
    let mut response = (StatusCode::OK, outcome.body.clone()).into_response();
    response.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    invocation_headers(&mut response, &version, &outcome);
    if let Some(value) = tail.and_then(|t| HeaderValue::from_str(&t).ok()) {
        response.headers_mut().insert(HeaderName::from_static("x-fc-log-result"), value);
    }
    record_log(&state, &version, &request_id, outcome.log);
    Ok(response)
}
