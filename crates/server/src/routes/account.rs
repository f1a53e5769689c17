//! Account-wide reads with nothing to store on one machine, and the routes that only mean a cloud.
//!
//! - `GET /2016-08-15/account-settings`: `{"availableAZs": [...], "defaultRole": ""}`, FC's shape
//!   (`fc2` `get_account_settings` reads `availableAZs`); one zone, named after the region.
//! - `GET /2016-08-15/reservedCapacities`: FC's list shape, always empty: there is no capacity to buy.
//! - `GET /2016-08-15/accountConfigs?config=CodeSizeLimit`: the named limits as one object
//!   (`@alicloud/fc2` `getAccountConfigs` reads `data.CodeSizeLimit` before a large layer upload).
//! - `tempCodeBucketToken`, `tempBucketToken`: STS tokens for Alibaba Cloud's OSS, which the SDKs use to
//!   upload code larger than a request body. A 400 that says so, rather than a token for nothing.

use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use ferric_types::ErrorCode;
use serde_json::json as value;

use super::{json, page_limit, query_map};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn settings(State(state): State<AppState>) -> Response {
    let region = &state.config().invoker.region;
    json(StatusCode::OK, &value!({ "availableAZs": [format!("{region}-a")], "defaultRole": "" }), None)
}

pub async fn reserved_capacities(uri: Uri) -> Result<Response, ApiError> {
    page_limit("limit", query_map(&uri).get("limit").map(String::as_str))?;
    Ok(json(StatusCode::OK, &value!({ "reservedCapacities": [] }), None))
}

/// The account configs Ferric knows, by FC's names.
const ACCOUNT_CONFIGS: &[&str] = &["CodeSizeLimit"];

/// GetAccountConfigs: each `config` parameter (the Node SDK repeats it for a list) names one; none names
/// them all. An unknown name is refused rather than left out, so a client never reads a missing limit as 0.
pub async fn configs(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let mut asked: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if key != "config" {
            continue;
        }
        if asked.len() >= ACCOUNT_CONFIGS.len() * 4 {
            return Err(ApiError::invalid("too many 'config' parameters"));
        }
        let name: String = value.chars().take(64).collect();
        if !ACCOUNT_CONFIGS.contains(&name.as_str()) {
            return Err(ApiError::invalid(format!(
                "config '{name}' is not known; known: {}",
                ACCOUNT_CONFIGS.join(", ")
            )));
        }
        asked.push(name);
    }
    if asked.is_empty() {
        asked = ACCOUNT_CONFIGS.iter().map(|n| n.to_string()).collect();
    }
    let mut body = serde_json::Map::new();
    for name in asked {
        let value = match name.as_str() {
            "CodeSizeLimit" => value!(state.config().code_limits.max_zip_bytes),
            _ => continue,
        };
        body.insert(name, value);
    }
    Ok(json(StatusCode::OK, &body, None))
}

pub async fn cloud_only(request: Request) -> ApiError {
    let path: String = request.uri().path().chars().take(256).collect();
    ApiError::new(
        ErrorCode::PathNotSupported,
        format!(
            "'{}' against '{path}' is not supported: it hands out a token for Alibaba Cloud OSS, which a \
             self-hosted Ferric has no use for; send the code inline as code.zipFile instead",
            request.method()
        ),
    )
}
