//! `/2016-08-15/tag` (TagResource, UntagResource, GetResourceTags) and `/2016-08-15/tags`
//! (ListTaggedResources). Only services carry tags, as on FC. The SDKs parse every answer as JSON, so
//! the writes answer 200 with `{"requestId"}` rather than an empty 204.

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use ferric_types::fields::parse_body;
use ferric_types::tag::{service_arn, TagRequest, UntagRequest, TAG_SHAPE, UNTAG_SHAPE};
use serde_json::json as value;

use super::{json, page_response, query_map, ListParams};
use crate::auth::Account;
use crate::control::tags;
use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::state::AppState;

async fn read_body(state: &AppState, body: Body) -> Result<bytes::Bytes, ApiError> {
    crate::body::read(body, state.config().max_body_bytes).await
}

pub async fn tag(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    body: Body,
) -> Result<Response, ApiError> {
    let request: TagRequest = parse_body(&read_body(&state, body).await?, &TAG_SHAPE)?;
    tags::tag(state.control(), &account.0, request).await?;
    Ok(json(StatusCode::OK, &value!({ "requestId": request_id }), None))
}

pub async fn untag(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    body: Body,
) -> Result<Response, ApiError> {
    let request: UntagRequest = parse_body(&read_body(&state, body).await?, &UNTAG_SHAPE)?;
    tags::untag(state.control(), &account.0, request).await?;
    Ok(json(StatusCode::OK, &value!({ "requestId": request_id }), None))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let arn = query_map(&uri).remove("resourceArn");
    let (arn, tags) = tags::get(state.control(), &account.0, arn).await?;
    Ok(json(StatusCode::OK, &value!({ "requestId": request_id, "resourceArn": arn, "tags": tags }), None))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    params: ListParams,
) -> Result<Response, ApiError> {
    let page = tags::list(state.control(), &account.0, params.into_query()?).await?;
    let region = &state.config().invoker.region;
    Ok(page_response("resources", &page, |t| {
        Ok(value!({ "resourceArn": service_arn(region, &account.0, &t.service), "tags": t.tags }))
    }))
}
