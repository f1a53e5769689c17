//! Requests on a custom domain: a request whose Host (port stripped) is a registered domain is served by
//! the domain's matching route, as an HTTP trigger call of that route's function, whatever its path.
//!
//! - Which requests: only a Host that is a valid domain name and not one of the server's own names
//!   (`localhost`, IP literals, `--public-url`'s host, the machine's host name and names under
//!   `fc.aliyuncs.com` never are). Every other request, and one on an unregistered host, goes on to the
//!   API as before, so a domain can never shadow the API on loopback or on the server's own name.
//! - Which route: the exact path first, then the longest `/*` prefix; none is 404 `DomainRouteNotFound`
//!   (FC's code). A route's `methods`, when set, narrow what the trigger allows.
//! - Who: the domain's owner is the account. As on FC, a custom domain carries no signature of its
//!   own: the function's HTTP trigger decides. `anonymous` needs nothing; `function` needs the owner's
//!   FC signature over the request path as the proxy rule signs it (sorted query lines).
//! - The function sees the request path itself (`/users/1`), not a `/proxy/...` one.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ferric_types::custom_domain::{validate_domain_name, CustomDomain};
use ferric_types::{signature, ErrorCode};

use super::proxy::{http_request, respond};
use super::read_service;
use crate::dataplane::{Caller, Input, Invocation, LogType, Mode, Outcome, Target};
use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::state::AppState;

/// The Host that may name a custom domain, lowercased; `None` for the API's own hosts.
fn domain_host(request: &Request) -> Option<String> {
    let authority = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))?;
    let host = crate::domains::strip_port(authority).trim_end_matches('.').to_ascii_lowercase();
    if host.starts_with('*') || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    validate_domain_name(&host).ok().map(|()| host)
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(host) = domain_host(&request) else {
        return next.run(request).await;
    };
    match state.plane().custom_domain(&host).await {
        Ok(None) => next.run(request).await,
        Ok(Some(domain)) => {
            let mut response = serve(&state, &domain, request).await.unwrap_or_else(IntoResponse::into_response);
            response.extensions_mut().insert(crate::metrics::http::ServedAs("custom_domain"));
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn serve(state: &AppState, domain: &CustomDomain, request: Request) -> Result<Response, ApiError> {
    let raw_path = request.uri().path().to_string();
    let raw_query = request.uri().query().unwrap_or("").to_string();
    let path = signature::decode_path(&raw_path);
    let route = domain.route_for(&path).ok_or_else(|| {
        let shown: String = path.chars().take(256).collect();
        ApiError::new(
            ErrorCode::DomainRouteNotFound,
            format!("no route of custom domain '{}' matches path '{shown}'", domain.name),
        )
    })?;
    let method = request.method().as_str();
    if route.methods.as_ref().is_some_and(|m| !m.iter().any(|allowed| allowed == method)) {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("method {method} is not allowed by the custom domain route '{}'", route.path),
        ));
    }
    let qualifier = route.qualifier.clone().filter(|q| !q.is_empty()).unwrap_or_else(|| "LATEST".into());
    // The same rule as `/proxy/{service}.{qualifier}`: whatever qualifiers the server serves there.
    let service = read_service(&format!("{}.{qualifier}", route.service_name))?;
    let account = domain.account_id.clone();
    let caller = if request.headers().contains_key(header::AUTHORIZATION) {
        let resource = signature::proxy_resource(&path, &raw_query);
        match crate::auth::verify(state, request.method(), request.headers(), &resource) {
            Ok(signer) => Caller::Signed(signer),
            Err(e) => Caller::BadSignature(e),
        }
    } else {
        Caller::Unsigned
    };
    let Some(RequestId(request_id)) = request.extensions().get::<RequestId>().cloned() else {
        return Err(ApiError::internal("a custom domain request without a request id", &std::fmt::Error));
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr)
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
    let (parts, body) = request.into_parts();
    let span = crate::dataplane::opentracing::span_from_headers(&parts.headers)?;
    let http = http_request(&parts, &raw_query, path, peer);
    let invocation = Invocation {
        target: Target { account: account.clone(), service, function: route.function_name.clone(), qualifier },
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
