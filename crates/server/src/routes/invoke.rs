//! `POST /2016-08-15/services/{service}/functions/{function}/invocations`: InvokeFunction.
//!
//! A sync call answers 200 with the function's bytes (never labelled `application/json`, or the Node SDK
//! would parse them), or 200 with `X-Fc-Error-Type` and FC's error JSON when the function failed. An
//! `X-Fc-Invocation-Type: Async` call answers 202 with an empty body and runs in the background. Both are
//! one [`Invocation`] through the data plane.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::{PathQualifier, ReadPath};
use crate::dataplane::{Finished, Input, Invocation, LogType, Mode, Outcome, Payload, Target};
use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::state::AppState;

fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers.get(name).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case(value))
}

/// The invocation headers FC sends with every answer.
pub(super) fn invocation_headers(response: &mut Response, finished: &Finished) {
    let (version, outcome) = (&finished.version, &finished.response);
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
    // Ferric's own (FC has none): only a cold invocation carries it, so a warm one drops a function's.
    match outcome.init_duration {
        Some(init) => put("x-fc-init-duration", init.as_micros().div_ceil(1000).max(1).to_string()),
        None => drop(headers.remove("x-fc-init-duration")),
    }
}

pub async fn invoke(
    State(state): State<AppState>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    ReadPath(f): ReadPath,
    PathQualifier(qualifier): PathQualifier,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let mode = if header_is(&headers, "x-fc-invocation-type", "Async") {
        // The caller may name the invocation (FC's stateful async invocation id); else it is the request id.
        let id = headers.get("x-fc-stateful-async-invocation-id").and_then(|v| v.to_str().ok());
        Mode::Async { id: id.filter(|id| !id.is_empty()).map(str::to_string) }
    } else {
        Mode::Sync
    };
    let log_type = if header_is(&headers, "x-fc-log-type", "Tail") { LogType::Tail } else { LogType::None };
    let invocation = Invocation {
        target: Target { account: f.account, service: f.service, function: f.function, qualifier },
        request_id,
        input: Input::Event(Payload::Body(body)),
        mode,
        log_type,
        span: crate::dataplane::opentracing::span_from_headers(&headers)?,
    };
    let finished = match state.plane().invoke(invocation).await? {
        Outcome::Accepted => return Ok(StatusCode::ACCEPTED.into_response()),
        Outcome::Finished(finished) => finished,
    };
    let outcome = &finished.response;
    let content_type = if outcome.error.is_some() { "application/json" } else { "application/octet-stream" };
    let mut response = (StatusCode::OK, outcome.body.clone()).into_response();
    response.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    invocation_headers(&mut response, &finished);
    if let Some(value) = finished.log_tail.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        response.headers_mut().insert(HeaderName::from_static("x-fc-log-result"), value);
    }
    Ok(response)
}
