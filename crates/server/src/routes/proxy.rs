//! `ANY /2016-08-15/proxy/{service}[.qualifier]/{function}/{path...}`: HTTP triggers.
//!
//! The method, sub-path, headers, query and body reach the function's HTTP handler; its status, headers
//! and body come back unchanged. `authType: function` triggers need FC's signature with the proxy
//! resource rule (sorted query lines); `anonymous` ones need none.
//!
//! The account: the signer's, when the request is signed; otherwise a non-empty `x-fc-account-id`
//! header, a numeric first label of the Host (FC's `<account>.<region>.fc...` form), or the server's
//! default account.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferric_invoker::HttpRequest;
use ferric_types::name::{validate_name, NameRule};
use ferric_types::signature;
use ferric_types::ErrorCode;

use super::invoke::invocation_headers;
use super::qualified_service;
use crate::dataplane::{Caller, Finished, Input, Invocation, LogType, Mode, Outcome, Target};
use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::state::AppState;

const PREFIX: &str = "/2016-08-15/proxy/";

/// Headers that describe one hop, not the function's answer.
const HOP_BY_HOP: &[&str] = &["connection", "content-length", "transfer-encoding", "keep-alive", "upgrade"];

/// `(service segment, function, sub-path)` of a proxy path, the sub-path still percent-encoded.
fn split_path(raw: &str) -> Option<(String, String, String)> {
    let rest = raw.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(3, '/');
    let service = signature::decode_path(parts.next()?);
    let function = signature::decode_path(parts.next().filter(|f| !f.is_empty())?);
    let sub = format!("/{}", parts.next().unwrap_or(""));
    Some((service, function, sub))
}

fn fallback_account(state: &AppState, request: &Request) -> Result<String, ApiError> {
    claimed_account(state, request)
        .ok_or_else(|| ApiError::new(ErrorCode::AccessDenied, "no account to resolve the function in"))
}

fn claimed_account(state: &AppState, request: &Request) -> Option<String> {
    let headers = request.headers();
    let claimed = headers.get("x-fc-account-id").and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
    if let Some(account) = claimed {
        return Some(account.to_string());
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let label = host.split('.').next().unwrap_or("");
    if host.contains('.') && !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()) && label.len() > 4 {
        return Some(label.to_string());
    }
    state.config().keyring.default_account().map(str::to_string)
}

fn multi_map<'a>(pairs: impl Iterator<Item = (String, String)> + 'a) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

pub async fn proxy(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    request: Request,
) -> Result<Response, ApiError> {
    let raw_path = request.uri().path().to_string();
    let raw_query = request.uri().query().unwrap_or("").to_string();
    let (service_segment, function, sub_path) = split_path(&raw_path)
        .ok_or_else(|| ApiError::invalid("an HTTP trigger path is /2016-08-15/proxy/{service}/{function}/{path}"))?;
    let (service, qualifier) = qualified_service(&service_segment)?;

    let signed = request.headers().contains_key(header::AUTHORIZATION).then(|| {
        let resource = signature::proxy_resource(&signature::decode_path(&raw_path), &raw_query);
        crate::auth::verify(&state, request.method(), request.headers(), &resource)
    });
    let (account, caller) = match signed {
        Some(Ok(account)) => (account.clone(), Caller::Signed(account)),
        Some(Err(e)) => (fallback_account(&state, &request)?, Caller::BadSignature(e)),
        None => (fallback_account(&state, &request)?, Caller::Unsigned),
    };
    validate_name("function", &function, NameRule::Lenient)?;

    let (parts, body) = request.into_parts();
    let span = crate::dataplane::opentracing::span_from_headers(&parts.headers)?;
    let http = http_request(&parts, &raw_query, signature::decode_path(&sub_path), peer);
    let invocation = Invocation {
        target: Target { account: account.clone(), service, function, qualifier },
        request_id,
        input: Input::Http { request: http, body, caller },
        mode: Mode::Sync,
        log_type: LogType::None,
        span,
    };
    let Outcome::Finished(finished) = state.plane().invoke(invocation).await? else {
        return Err(ferric_types::FcError::internal().into());
    };
    Ok(respond(&finished, account))
}

/// The request a function's HTTP handler sees; `path` is the decoded path it is told it was called on.
pub(super) fn http_request(
    parts: &axum::http::request::Parts,
    raw_query: &str,
    path: String,
    peer: SocketAddr,
) -> HttpRequest {
    let headers = multi_map(
        parts.headers.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string()))),
    );
    let queries =
        multi_map(form_urlencoded::parse(raw_query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())));
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    HttpRequest {
        method: parts.method.as_str().to_string(),
        path,
        request_uri: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string()),
        client_ip: peer.ip().to_canonical().to_string(),
        host,
        headers,
        queries,
    }
}

/// The function's answer as the HTTP client sees it: its status, headers and body, or FC's 502.
pub(super) fn respond(finished: &Finished, account: String) -> Response {
    let outcome = &finished.response;
    let mut response = match (&outcome.error, &outcome.http) {
        (None, Some(head)) => {
            let status = StatusCode::from_u16(head.status).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut response = (status, outcome.body.clone()).into_response();
            let out = response.headers_mut();
            // The function's own Content-Type replaces the default, never joins it.
            if head.headers.keys().any(|k| k.eq_ignore_ascii_case("content-type")) {
                out.remove(header::CONTENT_TYPE);
            }
            for (name, values) in &head.headers {
                let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else { continue };
                if HOP_BY_HOP.contains(&name.as_str()) {
                    continue;
                }
                for value in values {
                    if let Ok(value) = HeaderValue::from_str(value) {
                        out.append(name.clone(), value);
                    }
                }
            }
            response
        }
        // A runtime that answered without a response head: its bytes with a plain 200.
        (None, None) => (StatusCode::OK, outcome.body.clone()).into_response(),
        (Some(_), _) => {
            let mut response = (StatusCode::BAD_GATEWAY, outcome.body.clone()).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
    };
    invocation_headers(&mut response, finished);
    response.extensions_mut().insert(crate::auth::Account(account));
    response
}

#[cfg(test)]
mod tests {
    use super::split_path;

    #[test]
    fn splits_service_function_and_sub_path() {
        assert_eq!(
            split_path("/2016-08-15/proxy/svc.LATEST/fn/a%20b/c"),
            Some(("svc.LATEST".into(), "fn".into(), "/a%20b/c".into()))
        );
        assert_eq!(split_path("/2016-08-15/proxy/svc/fn"), Some(("svc".into(), "fn".into(), "/".into())));
        assert_eq!(split_path("/2016-08-15/proxy/svc/fn/"), Some(("svc".into(), "fn".into(), "/".into())));
        assert_eq!(split_path("/2016-08-15/proxy/svc"), None);
        assert_eq!(split_path("/2016-08-15/proxy/svc/"), None);
    }
}
