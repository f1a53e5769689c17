//! `/2016-08-15/services/{service}/aliases[/{alias}]`: CreateAlias, ListAliases, GetAlias, UpdateAlias,
//! DeleteAlias, with ETags as for the other resources.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use ferric_types::alias::{Alias, AliasPatch, ALIAS_SHAPE};
use ferric_types::name::{validate_name, NameRule};
use serde::Deserialize;

use super::{if_match, json, no_content, page_response, ListParams, Params};
use crate::auth::Account;
use crate::control::aliases;
use crate::error::ApiError;
use crate::state::AppState;

fn render(alias: &Alias) -> Response {
    json(StatusCode::OK, &alias.view(), Some(&alias.meta.etag))
}

async fn read_patch(state: &AppState, body: Body) -> Result<AliasPatch, ApiError> {
    super::read_json(body, state.config().max_body_bytes, &ALIAS_SHAPE).await
}

#[derive(Deserialize)]
pub(crate) struct AliasPath {
    service: String,
    alias: String,
}

impl AliasPath {
    fn checked(self) -> Result<(String, String), ApiError> {
        validate_name("service", &self.service, NameRule::Lenient)?;
        validate_name("alias", &self.alias, NameRule::Lenient)?;
        Ok((self.service, self.alias))
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    body: Body,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    let patch = read_patch(&state, body).await?;
    Ok(render(&aliases::create(state.control(), &account.0, &service, patch).await?))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    params: ListParams,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    let page = aliases::list(state.control(), &account.0, &service, params.into_query()?).await?;
    Ok(page_response("aliases", &page, |a| serde_json::to_value(a.view())))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(path): Params<AliasPath>,
) -> Result<Response, ApiError> {
    let (service, alias) = path.checked()?;
    Ok(render(&aliases::require(state.control(), &account.0, &service, &alias).await?))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(path): Params<AliasPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (service, alias) = path.checked()?;
    let patch = read_patch(&state, body).await?;
    let updated = aliases::update(state.control(), &account.0, &service, &alias, if_match(&headers), patch).await?;
    Ok(render(&updated))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(path): Params<AliasPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (service, alias) = path.checked()?;
    aliases::delete(state.control(), &account.0, &service, &alias, if_match(&headers)).await?;
    Ok(no_content())
}
