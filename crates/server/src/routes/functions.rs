//! `/2016-08-15/services/{service}/functions[/{function}]`: CreateFunction, ListFunctions, GetFunction,
//! UpdateFunction, DeleteFunction.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use ferric_types::function::{Function, FunctionPatch, FUNCTION_SHAPE};
use ferric_types::name::{validate_name, NameRule};

use super::{
    if_match, json, no_content, page_response, qualified_service, ListParams, Params, PathQualifier, ReadPath,
    WritePath,
};
use crate::auth::Account;
use crate::control::{functions, versions, ZipInput};
use crate::error::ApiError;
use crate::state::AppState;

fn render(function: &Function) -> Response {
    json(StatusCode::OK, &function.view(), Some(&function.meta.etag))
}

/// Reads a function body; it may carry a whole code package, so its bound is the code bound.
async fn read_patch(state: &AppState, body: Body) -> Result<FunctionPatch, ApiError> {
    super::read_json(body, state.config().max_code_body_bytes(), &FUNCTION_SHAPE).await
}

/// The code of a create or update body. Custom containers carry an image instead of code.
fn zip_input(patch: &mut FunctionPatch) -> Result<Option<ZipInput>, ApiError> {
    match patch.code.take() {
        Some(source) => Ok(Some(ZipInput::Base64(source.require_zip()?.to_string()))),
        None => Ok(None),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    body: Body,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    let mut patch = read_patch(&state, body).await?;
    functions::check_runtime(state.control(), patch.runtime.as_deref(), true)?;
    let zip = match zip_input(&mut patch)? {
        Some(zip) => zip,
        None if patch.runtime.as_deref() == Some("custom-container") => {
            ZipInput::Bytes(ferric_store::code::empty_zip())
        }
        None => return Err(ApiError::invalid("code is required: send code.zipFile with the base64 of a zip")),
    };
    Ok(render(&functions::create(state.control(), &account.0, &service, NameRule::Fc, patch, zip).await?))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    params: ListParams,
) -> Result<Response, ApiError> {
    let (service, qualifier) = qualified_service(&service)?;
    let query = params.into_query()?;
    let page = match versions::functions(state.control(), &account.0, &service, &qualifier, &query).await? {
        Some(page) => page,
        None => functions::list(state.control(), &account.0, &service, query).await?,
    };
    Ok(page_response("functions", &page, |f| serde_json::to_value(f.view())))
}

pub async fn get(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(qualifier): PathQualifier,
) -> Result<Response, ApiError> {
    Ok(render(&versions::function(state.control(), &f.account, &f.service, &f.function, &qualifier).await?))
}

pub async fn update(
    State(state): State<AppState>,
    WritePath(f): WritePath,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let mut patch = read_patch(&state, body).await?;
    functions::check_runtime(state.control(), patch.runtime.as_deref(), false)?;
    let zip = zip_input(&mut patch)?;
    Ok(render(&functions::update(state.control(), &f, if_match(&headers), patch, zip).await?))
}

pub async fn delete(
    State(state): State<AppState>,
    WritePath(f): WritePath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    functions::delete(state.control(), &f, if_match(&headers)).await?;
    Ok(no_content())
}
