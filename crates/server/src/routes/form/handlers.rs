//! The six form operations. Each maps onto the same control-plane commands as the FC API.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Extension;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ferric_store::code::{empty_zip, looks_like_zip, zip_single_file};
use ferric_store::FunctionSearch;
use ferric_types::fields::parse_body;
use ferric_types::function::{Function, FunctionPatch, FUNCTION_SHAPE};
use ferric_types::name::{validate_name, NameRule};
use ferric_types::runtime::Runtime;
use serde_json::{json, Value as Json};

use super::input::{Form, Value};
use super::{ok, FormError};
use crate::auth::Account;
use crate::control::{form, functions, FunctionRef, ZipInput};
use crate::error::ApiError;
use crate::state::AppState;

/// Runtime and handler when a create names none.
const DEFAULT_RUNTIME: &str = "python3.10";
const DEFAULT_HANDLER: &str = "index.handler";

/// Turns the `Code` field into a zip: a zip as base64 text or as an uploaded file, or else the text of one
/// source file named after the handler's module, with the runtime's extension when it has one
/// (`index.handler` in Python → `index.py`; the seed's `Handler=C` with `Runtime=ws` → `C`).
fn code_zip(value: Value, runtime: &str, handler: &str) -> Result<Vec<u8>, ApiError> {
    let bytes = match value {
        Value::File(bytes) => bytes,
        Value::Text(text) => {
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            match STANDARD.decode(&compact) {
                Ok(decoded) if looks_like_zip(&decoded) => decoded,
                _ => text.into_bytes(),
            }
        }
    };
    if looks_like_zip(&bytes) {
        return Ok(bytes);
    }
    let module = handler.rsplit_once('.').map_or(handler, |(module, _)| module);
    let module = if module.is_empty() || module.starts_with('.') { "code" } else { module };
    let file = match Runtime::parse(runtime).and_then(|r| r.module_extension()) {
        Some(extension) => format!("{module}.{extension}"),
        None => module.to_string(),
    };
    Ok(zip_single_file(&file, &bytes)?)
}

/// The required `FunctionName`, checked with the lenient rule (the spec's own example is `0001`).
fn function_name(form: &mut Form) -> Result<String, ApiError> {
    let name = form.require_text("FunctionName")?;
    validate_name("function", &name, NameRule::Lenient)?;
    Ok(name)
}

/// The function fields the form carries, as an FC patch.
fn patch_from(form: &mut Form) -> Result<FunctionPatch, ApiError> {
    Ok(FunctionPatch {
        runtime: form.text("Runtime")?,
        handler: form.text("Handler")?,
        description: form.text("Description")?,
        ..FunctionPatch::default()
    })
}

/// A function as the form API shows it. `config` is the stored `FunctionConfig` text for a single GET
/// (`""` when never set); list items leave that field out (`None`), keeping a page one store read.
fn view(function: &Function, config: Option<String>) -> Json {
    let mut data = json!({
        "FunctionName": function.name,
        "ServiceName": function.service,
        "Runtime": function.spec.runtime,
        "Handler": function.spec.handler,
        "Description": function.spec.description,
        "MemorySize": function.spec.memory_size,
        "Timeout": function.spec.timeout,
        "CodeSize": function.code.size,
        "CodeChecksum": function.code.checksum,
        "CreatedTime": ferric_types::time::iso8601(function.meta.created_ms),
        "LastModifiedTime": ferric_types::time::iso8601(function.meta.modified_ms),
    });
    if let Some(config) = config {
        data["FunctionConfig"] = Json::String(config);
    }
    data
}

fn limit(state: &AppState) -> usize {
    state.config().max_code_body_bytes()
}

pub async fn create(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, FormError> {
    let mut form = Form::read(&headers, body, limit(&state)).await?;
    let name = function_name(&mut form)?;
    let mut patch = patch_from(&mut form)?;
    // Runtime and Handler are free strings here (the seed's own example is `ws` and `C`): stored as given,
    // and a runtime this server cannot run is refused when invoked, naming what runs.
    let runtime = patch.runtime.get_or_insert_with(|| DEFAULT_RUNTIME.to_string()).clone();
    let handler = patch.handler.get_or_insert_with(|| DEFAULT_HANDLER.to_string()).clone();
    let zip = match form.take("Code") {
        Some(value) => code_zip(value, &runtime, &handler)?,
        None => empty_zip(),
    };
    patch.function_name = Some(name);
    let service = &state.config().form_service;
    form::ensure_service(state.control(), &account.0, service).await?;
    functions::create(state.control(), &account.0, service, NameRule::Lenient, patch, ZipInput::Bytes(zip)).await?;
    Ok(ok(None))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, FormError> {
    let mut form = Form::read(&headers, body, limit(&state)).await?;
    let name = function_name(&mut form)?;
    let current = require(&state, &account, &name).await?;
    let patch = patch_from(&mut form)?;
    let zip = match form.take("Code") {
        Some(value) => {
            let runtime = patch.runtime.as_deref().unwrap_or(&current.spec.runtime);
            let handler = patch.handler.as_deref().unwrap_or(&current.spec.handler);
            Some(ZipInput::Bytes(code_zip(value, runtime, handler)?))
        }
        None => None,
    };
    functions::update(state.control(), &target(&state, &account, name), None, patch, zip).await?;
    Ok(ok(None))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, FormError> {
    let mut form = Form::read(&headers, body, limit(&state)).await?;
    let names = form.list("FunctionName")?;
    if names.is_empty() {
        return Err(ApiError::invalid("FunctionName is required").into());
    }
    // All or nothing for the predictable failures: check every name before deleting any.
    for name in &names {
        validate_name("function", name, NameRule::Lenient)?;
        require(&state, &account, name).await?;
    }
    for name in names {
        functions::delete(state.control(), &target(&state, &account, name), None).await?;
    }
    Ok(ok(None))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    uri: Uri,
) -> Result<Response, FormError> {
    let mut query = Form::query(&uri);
    let name_contains = query.text("FunctionName")?;
    let offset = match query.text("Offset")? {
        None => 0,
        Some(t) => t.parse::<u64>().map_err(|_| ApiError::invalid("Offset must be a non-negative integer"))?,
    };
    let limit = crate::routes::page_limit("Limit", query.text("Limit")?.as_deref())?;
    let service = &state.config().form_service;
    let search = FunctionSearch { name_contains, offset, limit };
    let (found, count) = form::search(state.control(), &account.0, service, search).await?;
    let list: Vec<Json> = found.iter().map(|f| view(f, None)).collect();
    Ok(ok(Some(json!({ "List": list, "Count": count }))))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    uri: Uri,
) -> Result<Response, FormError> {
    let name = function_name(&mut Form::query(&uri))?;
    let function = require(&state, &account, &name).await?;
    let config = form::config(state.control(), &account.0, &function.service, &name).await?;
    Ok(ok(Some(view(&function, Some(config)))))
}

/// Stores the `FunctionConfig`, base64 as the seed says. When it decodes to a JSON object, its FC function
/// fields (memorySize, timeout, environmentVariables, initializer, ...) are applied as an UpdateFunction
/// would. Text that is not base64 (the seed's own example is `xxxxx`) is stored as given.
pub async fn config(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, FormError> {
    let mut form = Form::read(&headers, body, state.config().max_body_bytes).await?;
    let name = function_name(&mut form)?;
    let encoded = form.require_text("FunctionConfig")?;
    let compact: String = encoded.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let decoded = STANDARD.decode(compact).ok().and_then(|bytes| String::from_utf8(bytes).ok());
    let service = &state.config().form_service;
    require(&state, &account, &name).await?;
    if let Some(decoded) = &decoded {
        if let Ok(Json::Object(_)) = serde_json::from_str::<Json>(decoded) {
            let mut patch: FunctionPatch = parse_body(decoded.as_bytes(), &FUNCTION_SHAPE)?;
            patch.function_name = None;
            if patch.code.is_some() {
                return Err(
                    ApiError::invalid("FunctionConfig cannot carry code; send Code to /api/v1/func/update").into()
                );
            }
            functions::update(state.control(), &target(&state, &account, name.clone()), None, patch, None).await?;
        }
    }
    form::set_config(state.control(), &account.0, service, &name, decoded.unwrap_or(encoded)).await?;
    Ok(ok(None))
}

async fn require(state: &AppState, account: &Account, name: &str) -> Result<Function, ApiError> {
    form::require(state.control(), &account.0, &state.config().form_service, name).await
}

/// A function of the form service.
fn target(state: &AppState, account: &Account, function: String) -> FunctionRef {
    FunctionRef { account: account.0.clone(), service: state.config().form_service.clone(), function }
}
