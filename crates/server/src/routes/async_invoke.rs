//! FC's async invocation resources: `async-invoke-config` (retries, event age, destinations) and
//! `stateful-async-invocations` (what happened to each accepted event). The rules are the control
//! plane's (`control::async_config`, `control::invocations`); here they are parsed and rendered.

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use ferric_store::{Job, JobFilter, JobStatus};
use ferric_types::async_config::{AsyncConfigRow, AsyncInvokeConfig, ASYNC_CONFIG_SHAPE};
use ferric_types::fields::parse_body;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{json, no_content, query_map, JobPath, Params, PathQualifier, ReadPath};
use crate::control::async_config;
use crate::control::{functions, invocations, FunctionRef};
use crate::error::ApiError;
use crate::state::AppState;

/// FC's async-invoke-config object. Fields that were never set are left out rather than sent as `null`
/// (the SDKs read them as absent either way; the spec types them as plain integers, objects, booleans).
fn config_view(f: &FunctionRef, qualifier: &str, row: &AsyncConfigRow) -> Value {
    let mut view = serde_json::to_value(&row.config).unwrap_or_else(|_| json!({}));
    if let Value::Object(fields) = &mut view {
        fields.retain(|_, value| !value.is_null());
    }
    view["service"] = json!(f.service);
    view["function"] = json!(f.function);
    view["qualifier"] = json!(qualifier);
    view["createdTime"] = json!(ferric_types::time::iso8601(row.created_ms));
    view["lastModifiedTime"] = json!(ferric_types::time::iso8601(row.modified_ms));
    view
}

/// The function, which must exist for any of these routes.
async fn existing(state: &AppState, f: &FunctionRef) -> Result<(), ApiError> {
    functions::require(state.control(), &f.account, &f.service, &f.function).await.map(drop)
}

pub async fn put_config(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(q): PathQualifier,
    body: Body,
) -> Result<Response, ApiError> {
    existing(&state, &f).await?;
    let body = crate::body::read(body, state.config().max_body_bytes).await?;
    let config: AsyncInvokeConfig = parse_body(&body, &ASYNC_CONFIG_SHAPE)?;
    let row = async_config::put(state.control(), &f, &q, config).await?;
    Ok(json(StatusCode::OK, &config_view(&f, &q, &row), None))
}

pub async fn get_config(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(q): PathQualifier,
) -> Result<Response, ApiError> {
    existing(&state, &f).await?;
    let row = async_config::require(state.control(), &f, &q).await?;
    Ok(json(StatusCode::OK, &config_view(&f, &q, &row), None))
}

pub async fn delete_config(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(q): PathQualifier,
) -> Result<Response, ApiError> {
    existing(&state, &f).await?;
    async_config::delete(state.control(), &f, &q).await?;
    Ok(no_content())
}

/// ListFunctionAsyncInvokeConfigs: a bare `{service}` lists every qualifier's config (the SDKs send no
/// qualifier here), `{service}.{q}` only that qualifier's.
pub async fn list_configs(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    NamedQualifier(named): NamedQualifier,
    uri: Uri,
) -> Result<Response, ApiError> {
    existing(&state, &f).await?;
    let mut query = query_map(&uri);
    let limit = super::page_limit("limit", query.remove("limit").as_deref())?;
    let (configs, next_token): (Vec<Value>, Option<String>) = match named {
        Some(q) => {
            let rows = async_config::get(state.control(), &f, &q).await?;
            (rows.iter().map(|row| config_view(&f, &q, row)).collect(), None)
        }
        None => {
            let token = query.remove("nextToken").filter(|t| !t.is_empty()).map(|t| t.chars().take(256).collect());
            let page = async_config::list(state.control(), &f, token, limit).await?;
            (page.items.iter().map(|(q, row)| config_view(&f, q, row)).collect(), page.next_token)
        }
    };
    // FC answers `"nextToken": ""` on the last page (the Python SDK's own test reads the key).
    Ok(json(StatusCode::OK, &json!({ "configs": configs, "nextToken": next_token.unwrap_or_default() }), None))
}

/// FC's stateful async invocation object.
fn invocation_view(job: &Job) -> Value {
    json!({
        "invocationId": job.id,
        "requestId": job.request_id,
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

#[derive(Deserialize)]
pub(crate) struct InvocationId {
    invocation: String,
}

#[derive(Deserialize)]
struct ServiceSegment {
    service: String,
}

/// The qualifier a stateful-invocation path names (`svc.prod`), or `None` for a bare `svc`: a bare path
/// reaches the invocations of every qualifier, so an event sent to an alias is never hidden from a caller
/// who did not name it; a named one (LATEST included) reaches only that qualifier's.
pub(crate) struct NamedQualifier(Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for NamedQualifier {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
        let Params(ServiceSegment { service }) = Params::from_request_parts(parts, &()).await?;
        let name = ferric_types::name::QualifiedName::parse("service", &service)?;
        Ok(NamedQualifier(name.qualifier))
    }
}

pub async fn get_invocation(
    State(state): State<AppState>,
    JobPath(f): JobPath,
    NamedQualifier(q): NamedQualifier,
    Params(InvocationId { invocation }): Params<InvocationId>,
) -> Result<Response, ApiError> {
    let job = invocations::require(state.control(), &f, q.as_deref(), &invocation).await?;
    Ok(json(StatusCode::OK, &invocation_view(&job), None))
}

/// StopStatefulAsyncInvocation: an invocation that has not started is stopped; a running one finishes.
pub async fn stop_invocation(
    State(state): State<AppState>,
    JobPath(f): JobPath,
    NamedQualifier(q): NamedQualifier,
    Params(InvocationId { invocation }): Params<InvocationId>,
) -> Result<Response, ApiError> {
    invocations::stop(state.control(), &f, q.as_deref(), &invocation).await?;
    Ok(no_content())
}

/// Re-drives a dead letter: a failed, expired or stopped invocation runs again from scratch (Ferric's own
/// route, `POST /ferric/v1/services/{service}/functions/{function}/stateful-async-invocations/{id}/redrive`).
pub async fn redrive_invocation(
    State(state): State<AppState>,
    JobPath(f): JobPath,
    NamedQualifier(q): NamedQualifier,
    Params(InvocationId { invocation }): Params<InvocationId>,
) -> Result<Response, ApiError> {
    let job = invocations::redrive(state.control(), &f, q.as_deref(), &invocation).await?;
    Ok(json(StatusCode::OK, &invocation_view(&job), None))
}

pub async fn list_invocations(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    NamedQualifier(qualifier): NamedQualifier,
    uri: Uri,
) -> Result<Response, ApiError> {
    existing(&state, &f).await?;
    let mut q = query_map(&uri);
    let status = match q.remove("status").filter(|s| !s.is_empty()) {
        Some(s) => Some(JobStatus::parse(&s).ok_or_else(|| ApiError::invalid(format!("status '{s}' is not valid")))?),
        None => None,
    };
    let limit = super::page_limit("limit", q.remove("limit").as_deref())?;
    let next_token = q.remove("nextToken").filter(|s| !s.is_empty()).map(|s| s.chars().take(256).collect());
    let page = invocations::list(state.control(), &f, JobFilter { status, qualifier }, next_token, limit).await?;
    let mut body = json!({ "invocations": page.items.iter().map(invocation_view).collect::<Vec<_>>() });
    if let Some(token) = page.next_token {
        body["nextToken"] = json!(token);
    }
    Ok(json(StatusCode::OK, &body, None))
}
