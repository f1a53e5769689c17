//! `/2016-08-15/services[/{service}]`: CreateService, ListServices, GetService, UpdateService, DeleteService.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use ferric_types::name::{validate_name, NameRule};
use ferric_types::service::{Service, ServicePatch, SERVICE_SHAPE};

use super::{if_match, json, no_content, page_response, qualified_service, ListParams, Params};
use crate::auth::Account;
use crate::control::{services, versions};
use crate::error::ApiError;
use crate::state::AppState;

fn render(service: &Service) -> Response {
    json(StatusCode::OK, &service.view(), Some(&service.meta.etag))
}

async fn read_patch(state: &AppState, body: Body) -> Result<ServicePatch, ApiError> {
    super::read_json(body, state.config().max_body_bytes, &SERVICE_SHAPE).await
}

pub async fn create(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    body: Body,
) -> Result<Response, ApiError> {
    let patch = read_patch(&state, body).await?;
    Ok(render(&services::create(state.control(), &account.0, patch).await?))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    params: ListParams,
) -> Result<Response, ApiError> {
    let page = services::list(state.control(), &account.0, params.into_query()?).await?;
    Ok(page_response("services", &page, |s| serde_json::to_value(s.view())))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
) -> Result<Response, ApiError> {
    let (name, qualifier) = qualified_service(&service)?;
    Ok(render(&versions::service(state.control(), &account.0, &name, &qualifier).await?))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    let patch = read_patch(&state, body).await?;
    Ok(render(&services::update(state.control(), &account.0, &service, if_match(&headers), patch).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    services::delete(state.control(), &account.0, &service, if_match(&headers)).await?;
    Ok(no_content())
}
