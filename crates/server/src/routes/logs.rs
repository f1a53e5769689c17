//! `GET /ferric/v1/logs`: the logs of past invocations of the caller's account, newest first.
//!
//! Query: `serviceName`, `functionName`, `requestId`, `startTime` / `endTime` (epoch milliseconds or
//! RFC 3339), `limit` (1–100, default 20), `nextToken` (from the previous page). Signed like the FC API.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use ferric_store::LogQuery;
use ferric_types::name::{validate_name, NameRule};
use serde_json::json;

use super::{json, query_map};
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

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut q = query_map(&uri);
    let mut name = |key: &str, kind: &'static str| -> Result<Option<String>, ApiError> {
        match q.remove(key).filter(|v| !v.is_empty()) {
            Some(v) => {
                validate_name(kind, &v, NameRule::Lenient)?;
                Ok(Some(v))
            }
            None => Ok(None),
        }
    };
    let service = name("serviceName", "service")?;
    let function = name("functionName", "function")?;
    let request_id = q.remove("requestId").filter(|v| !v.is_empty()).map(|v| v.chars().take(64).collect());
    let since_ms = q.remove("startTime").filter(|v| !v.is_empty()).map(|t| time_ms("startTime", &t)).transpose()?;
    let until_ms = q.remove("endTime").filter(|v| !v.is_empty()).map(|t| time_ms("endTime", &t)).transpose()?;
    let before_id = match q.remove("nextToken").filter(|v| !v.is_empty()) {
        Some(token) => Some(token.parse::<i64>().map_err(|_| ApiError::invalid("nextToken is not valid"))?),
        None => None,
    };
    let limit = match q.remove("limit").filter(|v| !v.is_empty()) {
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| ferric_types::limits::LIST_LIMIT.contains(n))
            .ok_or_else(|| ApiError::invalid("limit must be an integer between 1 and 100"))?,
        None => ferric_types::limits::LIST_DEFAULT_LIMIT,
    };
    let query = LogQuery { service, function, request_id, since_ms, until_ms, before_id, limit: limit + 1 };
    state.inner().logs.flush().await;
    let mut records = state.inner().store.query_logs(&account.0, query).await?;
    let next_token = (records.len() > limit as usize).then(|| {
        records.truncate(limit as usize);
        records.last().map(|r| r.id.to_string())
    });
    let logs: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            json!({
                "requestId": r.request_id,
                "serviceName": r.service,
                "functionName": r.function,
                "time": chrono::DateTime::<chrono::Utc>::from_timestamp_millis(r.time_ms)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                "content": String::from_utf8_lossy(&r.content),
            })
        })
        .collect();
    let mut body = json!({ "logs": logs });
    if let Some(Some(token)) = next_token {
        body["nextToken"] = json!(token);
    }
    Ok(json(StatusCode::OK, &body, None))
}
