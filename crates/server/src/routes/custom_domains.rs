//! `/2016-08-15/custom-domains[/{domainName}]`: CreateCustomDomain, ListCustomDomains, GetCustomDomain,
//! UpdateCustomDomain, DeleteCustomDomain. fun's deploy asks GetCustomDomain first and creates the domain
//! only on 404 `DomainNameNotFound`, so that code is exact. Serving requests on a domain is
//! `domain_proxy.rs`.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use ferric_types::custom_domain::{validate_domain_name, CustomDomain, CustomDomainPatch, CUSTOM_DOMAIN_SHAPE};

use super::{json, no_content, page_response, ListParams, Params};
use crate::auth::Account;
use crate::control::custom_domains;
use crate::error::ApiError;
use crate::state::AppState;

fn render(domain: &CustomDomain) -> Response {
    json(StatusCode::OK, &domain.view(), Some(&domain.meta.etag))
}

async fn read_patch(state: &AppState, body: Body) -> Result<CustomDomainPatch, ApiError> {
    super::read_json(body, state.config().max_body_bytes, &CUSTOM_DOMAIN_SHAPE).await
}

pub async fn create(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    body: Body,
) -> Result<Response, ApiError> {
    let patch = read_patch(&state, body).await?;
    Ok(render(&custom_domains::create(state.control(), &account.0, patch).await?))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    params: ListParams,
) -> Result<Response, ApiError> {
    let page = custom_domains::list(state.control(), &account.0, params.into_query()?).await?;
    Ok(page_response("customDomains", &page, |d| serde_json::to_value(d.view())))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(name): Params<String>,
) -> Result<Response, ApiError> {
    validate_domain_name(&name)?;
    Ok(render(&custom_domains::require(state.control(), &account.0, &name).await?))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(name): Params<String>,
    body: Body,
) -> Result<Response, ApiError> {
    validate_domain_name(&name)?;
    let patch = read_patch(&state, body).await?;
    Ok(render(&custom_domains::update(state.control(), &account.0, &name, patch).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(name): Params<String>,
) -> Result<Response, ApiError> {
    validate_domain_name(&name)?;
    custom_domains::delete(state.control(), &account.0, &name).await?;
    Ok(no_content())
}
