//! FC's async invocation resources: `async-invoke-config` (retries, event age, destinations) and
//! `stateful-async-invocations` (what happened to each accepted event).

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use ferric_store::{Job, JobStatus};
use ferric_types::async_config::{AsyncConfigRow, AsyncInvokeConfig, ASYNC_CONFIG_SHAPE};
use ferric_types::fields::parse_body;
use ferric_types::name::{validate_name, NameRule};
use ferric_types::{ErrorCode, FcError};
use serde_json::{json, Value};

use super::functions::{read_service, require};
use super::{json, no_content, query_map, Params};
use crate::auth::Account;
use crate::error::ApiError;
use crate::state::AppState;

const QUALIFIER: &str = "LATEST";

/// FC's async-invoke-config object. Fields that were never set are left out rather than sent as `null`
/// (the SDKs read them as absent either way; the spec types them as plain integers, objects, booleans).
fn config_view(service: &str, function: &str, row: &AsyncConfigRow) -> Value {
    let mut view = serde_json::to_value(&row.config).unwrap_or_else(|_| json!({}));
    if let Value::Object(fields) = &mut view {
        fields.retain(|_, value| !value.is_null());
    }
    view["service"] = json!(service);
    view["function"] = json!(function);
    view["qualifier"] = json!(QUALIFIER);
    view["createdTime"] = json!(ferric_types::time::iso8601(row.created_ms));
    view["lastModifiedTime"] = json!(ferric_types::time::iso8601(row.modified_ms));
    view
}

pub async fn put_config(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    require(&state, &account, &service, &function).await?;
    let body = crate::body::read(body, state.config().max_body_bytes).await?;
    let config: AsyncInvokeConfig = parse_body(&body, &ASYNC_CONFIG_SHAPE)?;
    config.validate()?;
    let row = state.inner().store.put_async_config(&account.0, &service, &function, QUALIFIER, config).await?;
    Ok(json(StatusCode::OK, &config_view(&service, &function, &row), None))
}

pub async fn get_config(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    require(&state, &account, &service, &function).await?;
    let Some(row) = state.inner().store.get_async_config(&account.0, &service, &function, QUALIFIER).await? else {
        return Err(ApiError::new(
            ErrorCode::AsyncConfigNotExists,
            format!("async invoke config of function '{function}' in service '{service}' does not exist"),
        ));
    };
    Ok(json(StatusCode::OK, &config_view(&service, &function, &row), None))
}

pub async fn delete_config(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    require(&state, &account, &service, &function).await?;
    state.inner().store.delete_async_config(&account.0, &service, &function, QUALIFIER).await?;
    Ok(no_content())
}

pub async fn list_configs(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    require(&state, &account, &service, &function).await?;
    let configs: Vec<Value> = state
        .inner()
        .store
        .get_async_config(&account.0, &service, &function, QUALIFIER)
        .await?
        .map(|row| config_view(&service, &function, &row))
        .into_iter()
        .collect();
    // One page always: FC answers `"nextToken": ""` here (the Python SDK's own test reads the key).
    Ok(json(StatusCode::OK, &json!({ "configs": configs, "nextToken": "" }), None))
}

/// FC's stateful async invocation object.
fn invocation_view(job: &Job) -> Value {
    json!({
        "invocationId": job.id,
        "requestId": job.id,
        "serviceName": job.service,
        "functionName": job.function,
        "qualifier": job.qualifier,
        "status": job.status.as_str(),
        "startedTime": job.started_ms.unwrap_or(job.created_ms),
        "endTime": job.ended_ms.unwrap_or(0),
        "alreadyRetriedTimes": job.attempts.saturating_sub(1),
        "invocationErrorMessage": job.error.clone().unwrap_or_default(),
        "invocationPayload": String::from_utf8_lossy(&job.payload),
        "destinationStatus": "",
    })
}

async fn require_job(
    state: &AppState,
    account: &Account,
    service: &str,
    function: &str,
    id: &str,
) -> Result<Job, ApiError> {
    validate_name("invocation", id, NameRule::Lenient)?;
    match state.inner().store.get_job(&account.0, id).await? {
        Some(job) if job.service == service && job.function == function => Ok(job),
        _ => Err(ApiError::new(
            ErrorCode::StatefulAsyncInvocationNotFound,
            format!("stateful async invocation '{id}' does not exist"),
        )),
    }
}

pub async fn get_invocation(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function, id)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    let job = require_job(&state, &account, &service, &function, &id).await?;
    Ok(json(StatusCode::OK, &invocation_view(&job), None))
}

/// StopStatefulAsyncInvocation: an invocation that has not started is stopped; a running one finishes.
pub async fn stop_invocation(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function, id)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    let job = require_job(&state, &account, &service, &function, &id).await?;
    if !state.inner().store.stop_job(&account.0, &job.id, ferric_types::time::now_ms()).await? {
        return Err(FcError::invalid(format!(
            "stateful async invocation '{id}' is {} and cannot be stopped",
            job.status.as_str()
        ))
        .into());
    }
    Ok(no_content())
}

/// Re-drives a dead letter: a failed, expired or stopped invocation runs again from scratch (Ferric's own
/// route, `POST /ferric/v1/services/{service}/functions/{function}/stateful-async-invocations/{id}/redrive`).
pub async fn redrive_invocation(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function, id)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    let job = require_job(&state, &account, &service, &function, &id).await?;
    if !state.inner().store.redrive_job(&account.0, &job.id, ferric_types::time::now_ms()).await? {
        return Err(FcError::invalid(format!(
            "stateful async invocation '{id}' is {}; only Failed, Expired or Stopped ones can be re-driven",
            job.status.as_str()
        ))
        .into());
    }
    state.inner().queue.wake();
    let job = require_job(&state, &account, &service, &function, &id).await?;
    Ok(json(StatusCode::OK, &invocation_view(&job), None))
}

pub async fn list_invocations(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    require(&state, &account, &service, &function).await?;
    let mut q = query_map(&uri);
    let status = match q.remove("status").filter(|s| !s.is_empty()) {
        Some(s) => Some(JobStatus::parse(&s).ok_or_else(|| ApiError::invalid(format!("status '{s}' is not valid")))?),
        None => None,
    };
    let limit = super::page_limit("limit", q.remove("limit").as_deref())?;
    let next_token = q.remove("nextToken").filter(|s| !s.is_empty()).map(|s| s.chars().take(256).collect());
    let page = state.inner().store.list_jobs(&account.0, &service, &function, status, next_token, limit).await?;
    let mut body = json!({ "invocations": page.items.iter().map(invocation_view).collect::<Vec<_>>() });
    if let Some(token) = page.next_token {
        body["nextToken"] = json!(token);
    }
    Ok(json(StatusCode::OK, &body, None))
}
