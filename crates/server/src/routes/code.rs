//! GetFunctionCode and the download it points to. The URL's signing and checking are the control
//! plane's (`control::code`); here is where the URL's host comes from.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{json, query_map, Params, PathQualifier, ReadPath};
use crate::control::{code, versions};
use crate::error::ApiError;
use crate::state::AppState;

/// `host[:port]` as the client reached us. The Node SDK sends a Host without the port, so the port the
/// server listens on is added when the header has none.
pub(crate) fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = &state.config().public_url {
        return base.trim_end_matches('/').to_string();
    }
    let local = state.inner().local_addr.get().copied();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).filter(|h| {
        !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    });
    match (host, local) {
        (Some(h), Some(addr)) if !h.contains(':') || (h.starts_with('[') && h.ends_with(']')) => {
            format!("http://{h}:{}", addr.port())
        }
        (Some(h), _) => format!("http://{h}"),
        (None, Some(addr)) => format!("http://{addr}"),
        (None, None) => "http://127.0.0.1".to_string(),
    }
}

pub async fn get_function_code(
    State(state): State<AppState>,
    ReadPath(f): ReadPath,
    PathQualifier(qualifier): PathQualifier,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let function = versions::function(state.control(), &f.account, &f.service, &f.function, &qualifier).await?;
    let checksum = &function.code.checksum;
    let path = code::signed_path(state.control(), checksum, state.config().code_url_ttl);
    let url = format!("{}{path}", public_base(&state, &headers));
    Ok(json(StatusCode::OK, &serde_json::json!({ "url": url, "checksum": checksum }), None))
}

pub async fn download(
    State(state): State<AppState>,
    Params(checksum): Params<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let query = query_map(request.uri());
    let expires = query.get("expires").and_then(|e| e.parse::<u64>().ok());
    let file =
        code::open_signed(state.control(), &checksum, expires, query.get("signature").map(String::as_str)).await?;
    let length = file.metadata().await.map_err(|e| ApiError::internal("reading a code package", &e))?.len();
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{checksum}.zip\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
