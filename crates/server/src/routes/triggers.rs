//! `/2016-08-15/services/{service}/functions/{function}/triggers[/{trigger}]`: CreateTrigger, ListTriggers,
//! GetTrigger, UpdateTrigger, DeleteTrigger. The rules are the control plane's (`control::triggers`).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ferric_types::name::{validate_name, NameRule};
use ferric_types::trigger::{Trigger, TriggerPatch, TRIGGER_SHAPE};
use serde::Deserialize;

use super::{if_match, json, no_content, page_response, ListParams, Params, ReadPath, WritePath};
use crate::control::triggers;
use crate::error::ApiError;
use crate::state::AppState;

fn render(trigger: &Trigger) -> Response {
    json(StatusCode::OK, &trigger.view(), Some(&trigger.meta.etag))
}

async fn read_patch(state: &AppState, body: Body) -> Result<TriggerPatch, ApiError> {
    super::read_json(body, state.config().max_body_bytes, &TRIGGER_SHAPE).await
}

#[derive(Deserialize)]
pub(crate) struct TriggerName {
    trigger: String,
}

/// The `{trigger}` segment, checked with the lookup rule.
fn trigger_name(Params(TriggerName { trigger }): Params<TriggerName>) -> Result<String, ApiError> {
    validate_name("trigger", &trigger, NameRule::Lenient)?;
    Ok(trigger)
}

pub async fn create(State(state): State<AppState>, WritePath(f): WritePath, body: Body) -> Result<Response, ApiError> {
    let patch = read_patch(&state, body).await?;
    Ok(render(&triggers::create(state.control(), &f, patch).await?))
}

pub async fn list(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    params: ListParams,
) -> Result<Response, ApiError> {
    let page = triggers::list(state.control(), &f, params.into_query()?).await?;
    Ok(page_response("triggers", &page, |t| serde_json::to_value(t.view())))
}

pub async fn get(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    trigger: Params<TriggerName>,
) -> Result<Response, ApiError> {
    let trigger = trigger_name(trigger)?;
    Ok(render(&triggers::require(state.control(), &f, &trigger).await?))
}

pub async fn update(
    State(state): State<AppState>,
    WritePath(f): WritePath,
    trigger: Params<TriggerName>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let trigger = trigger_name(trigger)?;
    let patch = read_patch(&state, body).await?;
    Ok(render(&triggers::update(state.control(), &f, &trigger, if_match(&headers), patch).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    WritePath(f): WritePath,
    trigger: Params<TriggerName>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let trigger = trigger_name(trigger)?;
    triggers::delete(state.control(), &f, &trigger, if_match(&headers)).await?;
    Ok(no_content())
}
