//! `/2016-08-15/services[/{service}]`: CreateService, ListServices, GetService, UpdateService, DeleteService.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use ferric_types::fields::parse_body;
use ferric_types::name::{validate_name, NameRule};
use ferric_types::service::{ServicePatch, ServiceSpec, SERVICE_SHAPE};
use ferric_types::FcError;

use super::{if_match, json, no_content, page_response, ListParams, Params};
use crate::auth::Account;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = crate::body::read(body, state.config().max_body_bytes).await?;
    let patch: ServicePatch = parse_body(&body, &SERVICE_SHAPE)?;
    let name = patch.service_name.clone().ok_or_else(|| ApiError::invalid("serviceName is required"))?;
    validate_name("service", &name, NameRule::Fc)?;
    let mut spec = ServiceSpec::default();
    spec.apply(patch)?;
    let service = state.inner().store.create_service(&account.0, &name, spec).await?;
    Ok(json(StatusCode::OK, &service.view(), Some(&service.meta.etag)))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    params: ListParams,
) -> Result<Response, ApiError> {
    let page = state.inner().store.list_services(&account.0, params.into_query()?).await?;
    Ok(page_response("services", &page, |s| serde_json::to_value(s.view())))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
) -> Result<Response, ApiError> {
    let name = super::functions::read_service(&service)?;
    let service =
        state.inner().store.get_service(&account.0, &name).await?.ok_or_else(|| FcError::service_not_found(&name))?;
    Ok(json(StatusCode::OK, &service.view(), Some(&service.meta.etag)))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    let body = crate::body::read(body, state.config().max_body_bytes).await?;
    let patch: ServicePatch = parse_body(&body, &SERVICE_SHAPE)?;
    let updated = state
        .inner()
        .store
        .update_service(&account.0, &service, if_match(&headers), Box::new(move |spec| spec.apply(patch)))
        .await?;
    crate::control::service_changed(&state, &account.0, &service);
    Ok(json(StatusCode::OK, &updated.view(), Some(&updated.meta.etag)))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    state.inner().store.delete_service(&account.0, &service, if_match(&headers)).await?;
    crate::control::service_changed(&state, &account.0, &service);
    Ok(no_content())
}
