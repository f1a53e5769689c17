//! Account-wide reads with nothing to store on one machine, and the routes that only mean a cloud.
//!
//! - `GET /2016-08-15/account-settings`: `{"availableAZs": [...], "defaultRole": ""}`, FC's shape
//!   (`fc2` `get_account_settings` reads `availableAZs`); one zone, named after the region.
//! - `GET /2016-08-15/reservedCapacities`: FC's list shape, always empty: there is no capacity to buy.
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
