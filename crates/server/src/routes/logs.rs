//! `GET /ferric/v1/logs`: the logs of past invocations of the caller's account, newest first.
//!
//! Query: `serviceName`, `functionName`, `requestId`, `startTime` / `endTime` (epoch milliseconds or
//! RFC 3339), `limit` (1–100, default 20), `nextToken` (from the previous page). Signed like the FC API.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferric_store::LogQuery;
use serde_json::json;

use super::{json, name_filter, query_map};
use crate::auth::Account;
use crate::error::ApiError;
use crate::state::AppState;

fn time_ms(name: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| ApiError::invalid(format!("{name} must be epoch milliseconds or an RFC 3339 time")))
}

/// Which records a follower wants.
struct Filter {
    account: String,
    service: Option<String>,
    function: Option<String>,
    request_id: Option<String>,
}

impl Filter {
    fn matches(&self, r: &ferric_store::LogRecord) -> bool {
        r.account_id == self.account
            && self.service.as_ref().is_none_or(|s| *s == r.service)
            && self.function.as_ref().is_none_or(|f| *f == r.function)
            && self.request_id.as_ref().is_none_or(|id| *id == r.request_id)
    }
}

fn entry(r: &ferric_store::LogRecord) -> serde_json::Value {
    json!({
        "requestId": r.request_id,
        "serviceName": r.service,
        "functionName": r.function,
        // Never `null` (the spec's `LogEntry.time` is a date-time): an out-of-range time reads as the epoch.
        "time": chrono::DateTime::<chrono::Utc>::from_timestamp_millis(r.time_ms)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "content": String::from_utf8_lossy(&r.content),
    })
}

/// `GET /ferric/v1/logs/follow`: server-sent events, one `log` event per invocation log as it is
/// written (same filters as the list, minus times and paging). A `: keep-alive` comment every 15 s keeps
/// proxies from closing the stream; a follower that falls more than 1024 logs behind gets a `lagged`
/// event with how many it missed. The stream ends when the server shuts down.
pub async fn follow(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut q = query_map(&uri);
    let filter = Filter {
        account: account.0.clone(),
        service: name_filter(&mut q, "serviceName", "service")?,
        function: name_filter(&mut q, "functionName", "function")?,
        request_id: q.remove("requestId").filter(|v| !v.is_empty()),
    };
    let rx = crate::control::logs::follow(state.control());
    let closing = state.inner().closing.subscribe();
    let events = futures_util::stream::unfold((rx, closing, filter), |(mut rx, mut closing, filter)| async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            if *closing.borrow() {
                return None;
            }
            let next = tokio::select! {
                next = tokio::time::timeout(std::time::Duration::from_secs(15), rx.recv()) => next,
                _ = closing.changed() => return None,
            };
            let chunk = match next {
                Err(_) => ": keep-alive\n\n".to_string(),
                Ok(Ok(record)) if filter.matches(&record) => format!("event: log\ndata: {}\n\n", entry(&record)),
                Ok(Ok(_)) => continue,
                Ok(Err(RecvError::Lagged(n))) => format!("event: lagged\ndata: {{\"skipped\":{n}}}\n\n"),
                Ok(Err(RecvError::Closed)) => return None,
            };
            return Some((Ok::<_, std::convert::Infallible>(bytes::Bytes::from(chunk)), (rx, closing, filter)));
        }
    });
    let mut response = axum::body::Body::from_stream(events).into_response();
    let headers = response.headers_mut();
    headers.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("text/event-stream"));
    headers.insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-cache"));
    Ok(response)
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut q = query_map(&uri);
    let service = name_filter(&mut q, "serviceName", "service")?;
    let function = name_filter(&mut q, "functionName", "function")?;
    let request_id = q.remove("requestId").filter(|v| !v.is_empty()).map(|v| v.chars().take(64).collect());
    // An empty time is refused rather than read as "no bound": `startTime=` is a client's mistake.
    let since_ms = q.remove("startTime").map(|t| time_ms("startTime", &t)).transpose()?;
    let until_ms = q.remove("endTime").map(|t| time_ms("endTime", &t)).transpose()?;
    let before_id = match q.remove("nextToken").filter(|v| !v.is_empty()) {
        Some(token) => Some(token.parse::<i64>().map_err(|_| ApiError::invalid("nextToken is not valid"))?),
        None => None,
    };
    let limit = super::page_limit("limit", q.remove("limit").as_deref())?;
    let query = LogQuery { service, function, request_id, since_ms, until_ms, before_id, limit: limit + 1 };
    let mut records = crate::control::logs::query(state.control(), &account.0, query).await?;
    let next_token = (records.len() > limit as usize).then(|| {
        records.truncate(limit as usize);
        records.last().map(|r| r.id.to_string())
    });
    let logs: Vec<serde_json::Value> = records.iter().map(entry).collect();
    let mut body = json!({ "logs": logs });
    if let Some(Some(token)) = next_token {
        body["nextToken"] = json!(token);
    }
    Ok(json(StatusCode::OK, &body, None))
}
