//! `.../functions/{f}/provision-config`, `/provision-configs`, `.../functions/{f}/on-demand-config`,
//! `/on-demand-configs` and `.../functions/{f}/instances`. The rules are `control::provision`'s; here
//! they are parsed and rendered in FC's shapes (fc-python-sdk `fc2/client.py` and its tests).

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use ferric_store::ProvisionFilter;
use ferric_types::fields::parse_body;
use ferric_types::provision::{ConfigTarget, OnDemandRequest, ProvisionRequest, ON_DEMAND_SHAPE, PROVISION_SHAPE};
use serde_json::{json as value, Map, Value};

use super::{json, name_filter, no_content, page_limit, query_map, ListParams, PathQualifier, ReadPath};
use crate::auth::Account;
use crate::control::provision::{self, ProvisionView};
use crate::error::ApiError;
use crate::state::AppState;

/// Most instance ids one ListInstances may filter by.
const MAX_INSTANCE_IDS: usize = 100;

fn provision_view(account: &str, target: &ConfigTarget, view: &ProvisionView) -> Value {
    value!({
        "resource": target.provision_resource(account),
        "target": view.spec.target,
        "current": view.current,
        "scheduledActions": view.spec.scheduled_actions,
        "targetTrackingPolicies": view.spec.target_tracking_policies,
        "alwaysAllocateCPU": view.spec.always_allocate_cpu,
        "currentError": view.current_error.clone().unwrap_or_default(),
    })
}

fn on_demand_view(target: &ConfigTarget, maximum: u32) -> Value {
    value!({ "resource": target.on_demand_resource(), "maximumInstanceCount": maximum })
}

/// `{"<key>": [...], "nextToken"}` with both left out when empty, as FC answers these two lists (the
/// Python and Java SDKs' tests read an empty list as an absent key).
fn list_body(key: &str, items: Vec<Value>, next_token: Option<String>) -> Response {
    let mut body = Map::new();
    if !items.is_empty() {
        body.insert(key.to_string(), Value::Array(items));
    }
    if let Some(token) = next_token {
        body.insert("nextToken".to_string(), Value::String(token));
    }
    json(StatusCode::OK, &body, None)
}

async fn read_body(state: &AppState, body: Body) -> Result<bytes::Bytes, ApiError> {
    crate::body::read(body, state.config().max_body_bytes).await
}

pub async fn put_provision(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(q): PathQualifier,
    body: Body,
) -> Result<Response, ApiError> {
    let request: ProvisionRequest = parse_body(&read_body(&state, body).await?, &PROVISION_SHAPE)?;
    let spec = request.into_spec()?;
    let max = state.config().invoker.max_instances_per_function;
    let (target, view) = provision::put_provision(state.control(), &f, &q, spec, max).await?;
    Ok(json(StatusCode::OK, &provision_view(&f.account, &target, &view), None))
}

pub async fn get_provision(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(q): PathQualifier,
) -> Result<Response, ApiError> {
    let (target, view) = provision::get_provision(state.control(), &f, &q).await?;
    Ok(json(StatusCode::OK, &provision_view(&f.account, &target, &view), None))
}

pub async fn list_provisions(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut query = query_map(&uri);
    let filter = ProvisionFilter {
        service: name_filter(&mut query, "serviceName", "service")?,
        qualifier: name_filter(&mut query, "qualifier", "qualifier")?,
    };
    let list = ListParams::from_map(&mut query).into_query()?;
    let page = provision::list_provisions(state.control(), &account.0, filter, list).await?;
    let items = page.items.iter().map(|(config, view)| provision_view(&account.0, &config.target, view)).collect();
    Ok(list_body("provisionConfigs", items, page.next_token))
}

pub async fn put_on_demand(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(q): PathQualifier,
    body: Body,
) -> Result<Response, ApiError> {
    let request: OnDemandRequest = parse_body(&read_body(&state, body).await?, &ON_DEMAND_SHAPE)?;
    let maximum = request.into_maximum()?;
    let target = provision::put_on_demand(state.control(), &f, &q, maximum).await?;
    Ok(json(StatusCode::OK, &on_demand_view(&target, maximum), None))
}

pub async fn get_on_demand(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(q): PathQualifier,
) -> Result<Response, ApiError> {
    let (target, maximum) = provision::get_on_demand(state.control(), &f, &q).await?;
    Ok(json(StatusCode::OK, &on_demand_view(&target, maximum), None))
}

pub async fn delete_on_demand(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(q): PathQualifier,
) -> Result<Response, ApiError> {
    provision::delete_on_demand(state.control(), &f, &q).await?;
    Ok(no_content())
}

pub async fn list_on_demand(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    params: ListParams,
) -> Result<Response, ApiError> {
    let page = provision::list_on_demand(state.control(), &account.0, params.into_query()?).await?;
    let items = page.items.iter().map(|c| on_demand_view(&c.target, c.maximum_instance_count)).collect();
    Ok(list_body("configs", items, page.next_token))
}

/// ListInstances: `limit` (1–100) and `instanceIds` (repeated, or comma-separated) narrow the answer.
pub async fn list_instances(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(q): PathQualifier,
    uri: Uri,
) -> Result<Response, ApiError> {
    let limit = match query_map(&uri).get("limit") {
        None => MAX_INSTANCE_IDS,
        Some(text) => page_limit("limit", Some(text))? as usize,
    };
    let mut wanted: Vec<String> = Vec::new();
    for (key, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if key == "instanceIds" || key == "instanceIds[]" {
            wanted.extend(v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
        }
    }
    if wanted.len() > MAX_INSTANCE_IDS {
        return Err(ApiError::invalid(format!("instanceIds holds at most {MAX_INSTANCE_IDS} ids")));
    }
    let found = provision::instances(state.control(), &f, &q).await?;
    let instances: Vec<Value> = found
        .into_iter()
        .filter(|i| wanted.is_empty() || wanted.contains(&i.instance_id))
        .take(limit)
        .map(|i| value!({ "instanceId": i.instance_id, "versionId": i.qualifier }))
        .collect();
    Ok(json(StatusCode::OK, &value!({ "instances": instances }), None))
}
