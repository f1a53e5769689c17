//! `/2016-08-15/services/{service}/functions[/{function}]`: CreateFunction, ListFunctions, GetFunction,
//! UpdateFunction, DeleteFunction.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use ferric_types::fields::parse_body;
use ferric_types::function::{FunctionPatch, FUNCTION_SHAPE};
use ferric_types::name::{validate_name, NameRule};
use ferric_types::runtime::{invalid_runtime_message, Runtime};
use ferric_types::{FcError, QualifiedName};

use super::{if_match, json, no_content, page_response, ListParams, Params};
use crate::auth::Account;
use crate::control::{self, ZipInput};
use crate::error::ApiError;
use crate::state::AppState;

/// Reads a function body; it may carry a whole code package, so its bound is the code bound.
async fn read_patch(state: &AppState, body: Body) -> Result<FunctionPatch, ApiError> {
    let body = crate::body::read(body, state.config().max_code_body_bytes()).await?;
    Ok(parse_body(&body, &FUNCTION_SHAPE)?)
}

/// The code of a create or update body. Custom containers carry an image instead of code.
fn zip_input(patch: &mut FunctionPatch) -> Result<Option<ZipInput>, ApiError> {
    match patch.code.take() {
        Some(source) => Ok(Some(ZipInput::Base64(source.require_zip()?.to_string()))),
        None => Ok(None),
    }
}

/// The FC API's runtime rule: a runtime FC documents, or one this server offers (`python3.11` when that
/// is the installed Python). A refusal starts with FC's message (the SDKs' suites look for it) and names
/// what this server runs. `None` is absent on update and invalid on create.
fn check_runtime(state: &AppState, runtime: Option<&str>, creating: bool) -> Result<(), ApiError> {
    let Some(runtime) = runtime.or(creating.then_some("")) else { return Ok(()) };
    if Runtime::parse(runtime).is_some_and(|r| r.is_documented()) {
        return Ok(());
    }
    let offered = state.inner().invoker.runtimes().offered();
    if offered.iter().any(|r| r == runtime) {
        return Ok(());
    }
    Err(ApiError::invalid(invalid_runtime_message(runtime, &offered)))
}

/// Resolves `svc[.qualifier]` on read paths. Only `LATEST` exists until versions do.
pub(super) fn read_service(segment: &str) -> Result<String, ApiError> {
    let name = QualifiedName::parse("service", segment)?;
    match name.qualifier.as_deref() {
        None | Some("LATEST") => Ok(name.name),
        Some(other) => Err(ApiError::invalid(format!(
            "qualifier '{other}' is not supported on this server; use LATEST (versions and aliases are not available)"
        ))),
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
    check_runtime(&state, patch.runtime.as_deref(), true)?;
    let zip = match zip_input(&mut patch)? {
        Some(zip) => zip,
        None if patch.runtime.as_deref() == Some("custom-container") => {
            ZipInput::Bytes(ferric_store::code::empty_zip())
        }
        None => return Err(ApiError::invalid("code is required: send code.zipFile with the base64 of a zip")),
    };
    let function = control::create_function(&state, &account.0, &service, NameRule::Fc, patch, zip).await?;
    Ok(json(StatusCode::OK, &function.view(), Some(&function.meta.etag)))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    params: ListParams,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    let page = state.inner().store.list_functions(&account.0, &service, params.into_query()?).await?;
    Ok(page_response("functions", &page, |f| serde_json::to_value(f.view())))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    let function = require(&state, &account, &service, &function).await?;
    Ok(json(StatusCode::OK, &function.view(), Some(&function.meta.etag)))
}

/// The function, or `ServiceNotFound` / `FunctionNotFound` as FC distinguishes them.
pub(super) async fn require(
    state: &AppState,
    account: &Account,
    service: &str,
    function: &str,
) -> Result<ferric_types::function::Function, ApiError> {
    validate_name("function", function, NameRule::Lenient)?;
    let store = &state.inner().store;
    match store.get_function(&account.0, service, function).await? {
        Some(f) => Ok(f),
        None if store.get_service(&account.0, service).await?.is_none() => {
            Err(FcError::service_not_found(service).into())
        }
        None => Err(FcError::function_not_found(service, function).into()),
    }
}

pub async fn update(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    validate_name("function", &function, NameRule::Lenient)?;
    let mut patch = read_patch(&state, body).await?;
    check_runtime(&state, patch.runtime.as_deref(), false)?;
    let zip = zip_input(&mut patch)?;
    let updated =
        control::update_function(&state, &account.0, &service, &function, if_match(&headers), patch, zip).await?;
    Ok(json(StatusCode::OK, &updated.view(), Some(&updated.meta.etag)))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    validate_name("function", &function, NameRule::Lenient)?;
    control::delete_function(&state, &account.0, &service, &function, if_match(&headers)).await?;
    Ok(no_content())
}
