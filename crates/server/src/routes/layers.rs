//! `/2016-08-15/layers...` and `/2016-08-15/layerarn/{arn}`: PublishLayerVersion, ListLayers,
//! ListLayerVersions, GetLayerVersion, GetLayerVersionByArn, DeleteLayerVersion, PutLayerACL.
//!
//! A layer's `code.location` is a signed download URL of this server, as GetFunctionCode's is.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use ferric_types::layer::{parse_layer_version, LayerVersion, PublishLayerRequest, PUBLISH_LAYER_SHAPE};
use serde::Deserialize;

use super::{json, no_content, page_limit, page_response, query_map, ListParams, Params};
use crate::auth::Account;
use crate::control::{code, layers, ZipInput};
use crate::error::ApiError;
use crate::state::AppState;

/// FC's Layer object with a download URL for this client.
fn view(state: &AppState, headers: &HeaderMap, version: &LayerVersion) -> serde_json::Value {
    let path = code::signed_path(state.control(), &version.code.checksum, state.config().code_url_ttl);
    let location = format!("{}{path}", super::code::public_base(state, headers));
    version.view(&state.config().invoker.region, &location)
}

fn render(state: &AppState, headers: &HeaderMap, version: &LayerVersion) -> Response {
    json(StatusCode::OK, &view(state, headers, version), None)
}

pub async fn publish(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(name): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    ferric_types::layer::validate_layer_name(&name)?;
    // The body carries the whole package, so its bound is the code bound.
    let request: PublishLayerRequest =
        super::read_json(body, state.config().max_code_body_bytes(), &PUBLISH_LAYER_SHAPE).await?;
    let spec = request.spec()?;
    let source = request.code.ok_or_else(|| ApiError::invalid("code is required: send code.zipFile"))?;
    let zip = ZipInput::Base64(source.require_zip()?.to_string());
    let version = layers::publish(state.control(), &account.0, &name, spec, zip).await?;
    Ok(render(&state, &headers, &version))
}

/// `true` or `false`, absent meaning `false`.
fn flag(query: &std::collections::HashMap<String, String>, key: &str) -> Result<bool, ApiError> {
    match query.get(key).map(String::as_str) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::invalid(format!(
            "{key} must be true or false, got '{}'",
            other.chars().take(16).collect::<String>()
        ))),
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    params: ListParams,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = params.into_query()?;
    let q = query_map(&uri);
    let (public, official) = (flag(&q, "public")?, flag(&q, "official")?);
    if official {
        // FC's official layers are Alibaba Cloud's own; this server publishes none.
        return Ok(json(StatusCode::OK, &serde_json::json!({ "layers": [] }), None));
    }
    let page = layers::list(state.control(), &account.0, query, public).await?;
    Ok(page_response("layers", &page, |v| Ok(view(&state, &headers, v))))
}

pub async fn list_versions(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(name): Params<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut q = query_map(&uri);
    let limit = page_limit("limit", q.remove("limit").as_deref())?;
    let start = match q.remove("startVersion").filter(|s| !s.is_empty()) {
        Some(text) => parse_layer_version(&text)?,
        None => 1,
    };
    let page = layers::list_versions(state.control(), &account.0, &name, start, limit).await?;
    let items: Vec<_> = page.items.iter().map(|v| view(&state, &headers, v)).collect();
    let mut body = serde_json::json!({ "layers": items });
    if let Some(next) = page.next_version {
        body["nextVersion"] = next.into();
    }
    Ok(json(StatusCode::OK, &body, None))
}

#[derive(Deserialize)]
pub(crate) struct VersionPath {
    name: String,
    version: String,
}

pub async fn get(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(VersionPath { name, version }): Params<VersionPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let version = layers::get(state.control(), &account.0, &name, parse_layer_version(&version)?).await?;
    Ok(render(&state, &headers, &version))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(VersionPath { name, version }): Params<VersionPath>,
) -> Result<Response, ApiError> {
    layers::delete(state.control(), &account.0, &name, parse_layer_version(&version)?).await?;
    Ok(no_content())
}

pub async fn get_by_arn(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(arn): Params<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let version = layers::get_by_arn(state.control(), &account.0, &arn).await?;
    Ok(render(&state, &headers, &version))
}

/// PutLayerACL: `?public=true|false` on every version of the layer.
pub async fn put_acl(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(name): Params<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let public = flag(&query_map(&uri), "public")?;
    layers::set_acl(state.control(), &account.0, &name, public).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({}), None))
}
