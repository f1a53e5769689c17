//! GetFunctionCode and the download it points to.
//!
//! FC answers GetFunctionCode with a pre-signed object-storage URL. Ferric answers with a URL of its own,
//! `/ferric/v1/code/{checksum}?expires=..&signature=..`, signed with a key private to the data directory, so
//! a client downloads the exact zip without FC auth until the URL expires. Packages are content-addressed,
//! so the URL binds the checksum and the expiry; anyone holding it already had read access to that code.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ferric_types::ErrorCode;
use subtle::ConstantTimeEq;

use super::functions::{read_service, require};
use super::{json, query_map, Params};
use crate::auth::Account;
use crate::error::ApiError;
use crate::state::AppState;

fn url_signature(state: &AppState, checksum: &str, expires: u64) -> String {
    let mac = ferric_types::signature::hmac_sha256(&state.inner().url_key, format!("{checksum}\n{expires}").as_bytes());
    URL_SAFE_NO_PAD.encode(mac)
}

/// `host[:port]` as the client reached us. The Node SDK sends a Host without the port, so the port the
/// server listens on is added when the header has none.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
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
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    let function = require(&state, &account, &service, &function).await?;
    let expires = chrono::Utc::now().timestamp().max(0) as u64 + state.config().code_url_ttl.as_secs();
    let checksum = &function.code.checksum;
    let url = format!(
        "{}/ferric/v1/code/{checksum}?expires={expires}&signature={}",
        public_base(&state, &headers),
        url_signature(&state, checksum, expires)
    );
    Ok(json(StatusCode::OK, &serde_json::json!({ "url": url, "checksum": checksum }), None))
}

pub async fn download(
    State(state): State<AppState>,
    Params(checksum): Params<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let query = query_map(request.uri());
    let expires = query.get("expires").and_then(|e| e.parse::<u64>().ok());
    let (Some(expires), Some(given)) = (expires, query.get("signature")) else {
        return Err(ApiError::new(ErrorCode::AccessDenied, "the code URL is missing its expires or signature"));
    };
    let expected = url_signature(&state, &checksum, expires);
    if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        return Err(ApiError::new(ErrorCode::SignatureNotMatch, "the code URL signature is not valid"));
    }
    if (chrono::Utc::now().timestamp().max(0) as u64) > expires {
        return Err(ApiError::new(ErrorCode::AccessDenied, "the code URL has expired"));
    }
    let path = state.inner().code.zip_path(&checksum)?;
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::new(ErrorCode::NotFound, "the code package no longer exists"));
        }
        Err(e) => return Err(ApiError::internal("opening a code package", &e)),
    };
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
