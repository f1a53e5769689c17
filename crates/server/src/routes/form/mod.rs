//! The form API of the product's second spec: `/api/v1/func/...` with multipart/form-data requests and
//! `{"Code":0,"Data":...}` answers.
//!
//! Its functions are ordinary FC functions in one service (`default` unless configured) of the caller's
//! account, so the FC API lists, reads and invokes them too. A loopback client running as the server's
//! own user may call it unsigned and acts for the default account (never a sandboxed function: see
//! `crate::peer`), provided its `Host` is a loopback name and its `Origin`, if any, a loopback origin: a
//! browser page elsewhere can make loopback requests too (DNS rebinding, cross-site form posts). Any
//! other client signs as for the FC API and acts for its own account, whatever its `Host` or `Origin`.
//!
//! Layout:
//! - `mod.rs`: routes, auth, the answer format.
//! - `local`: what makes an unsigned call local (`Host`, `Origin`).
//! - `input`: reading multipart / urlencoded bodies and query strings.
//! - `handlers`: the six operations.

mod handlers;
mod input;
mod local;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};
use ferric_types::ErrorCode;

use crate::auth::Account;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/func", get(handlers::get).post(handlers::create))
        .route("/api/v1/func/", get(handlers::get).post(handlers::create))
        .route("/api/v1/func/update", post(handlers::update))
        .route("/api/v1/func/delete", post(handlers::delete))
        .route("/api/v1/func/list", get(handlers::list))
        .route("/api/v1/func/config", post(handlers::config))
        .route_layer(middleware::from_fn_with_state(state, authenticate))
}

/// An error in the form API's shape: `{"Code": <HTTP status>, "ErrorCode", "Message"}`.
pub struct FormError(pub ApiError);

impl<E: Into<ApiError>> From<E> for FormError {
    fn from(e: E) -> Self {
        FormError(e.into())
    }
}

impl IntoResponse for FormError {
    fn into_response(self) -> Response {
        let fc = self.0 .0;
        let status = fc.code.status();
        let body = serde_json::json!({ "Code": status, "ErrorCode": fc.code.as_str(), "Message": fc.message });
        let mut response =
            (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), body.to_string()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// `{"Code":0}` or `{"Code":0,"Data":...}`.
fn ok(data: Option<serde_json::Value>) -> Response {
    let mut body = serde_json::json!({ "Code": 0 });
    if let Some(data) = data {
        body["Data"] = data;
    }
    super::json(StatusCode::OK, &body, None)
}

/// Only an unsigned request from this machine skips verification; a request that carries a signature is
/// always checked, so a wrong key from loopback is still refused.
fn must_verify(peer: std::net::IpAddr, signed: bool) -> bool {
    // A dual-stack listener sees IPv4 clients as `::ffff:a.b.c.d`.
    signed || !peer.to_canonical().is_loopback()
}

/// Whether an unsigned loopback caller is trusted: it runs as this server's user, and functions cannot
/// (see `crate::peer`).
fn trusted_locally(state: &AppState, peer: SocketAddr) -> bool {
    crate::peer::loopback_trust_possible(&state.config().invoker.sandbox) && crate::peer::is_own_user(peer)
}

async fn authenticate(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Result<Response, FormError> {
    let signed = request.headers().contains_key(header::AUTHORIZATION);
    let account = if must_verify(peer.ip(), signed) || !trusted_locally(&state, peer) {
        let resource = ferric_types::signature::decode_path(request.uri().path());
        crate::auth::verify(&state, request.method(), request.headers(), &resource)?
    } else {
        local::require_local(request.headers())?;
        state
            .config()
            .keyring
            .default_account()
            .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied, "this server has no default account"))?
            .to_string()
    };
    request.extensions_mut().insert(Account(account.clone()));
    let mut response = next.run(request).await;
    response.extensions_mut().insert(Account(account));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::must_verify;

    #[test]
    fn only_unsigned_loopback_skips_verification() {
        assert!(!must_verify("127.0.0.1".parse().expect("ip"), false));
        assert!(!must_verify("::1".parse().expect("ip"), false));
        assert!(must_verify("127.0.0.1".parse().expect("ip"), true));
        assert!(must_verify("192.0.2.10".parse().expect("ip"), false));
        assert!(must_verify("::ffff:192.0.2.10".parse().expect("ip"), false));
        assert!(!must_verify("::ffff:127.0.0.1".parse().expect("ip"), false));
    }
}
