//! The 2021-04-06 FC API (PyPI `alibabacloud_fc_open20210406`, npm `@alicloud/fc-open20210406`).
//!
//! It is the 2016-08-15 API under another prefix, another signature and another error body, so it is
//! served by the very same route handlers: a request under `/2021-04-06/` is verified here (ACS3,
//! `auth.rs`), its path is mapped onto the 2016 one, and it is run through the FC router that
//! `routes::fc_api_2021` builds (the 2016 routes plus the two the 2021 API spells differently). Errors
//! that router answers in `{"ErrorCode","ErrorMessage"}` leave here as `{"Code","Message","RequestId"}`,
//! the shape the Tea runtime of those SDKs reads, with the same status. The 2016 API is not touched.
//!
//! Bodies: a trigger's `triggerConfig` is JSON text in 2021 (`bodies.rs`).
//!
//! Path mapping: the 2021 API names a qualifier as `?qualifier=` where the 2016 one writes
//! `/services/{service}.{qualifier}/...`, so a `qualifier` query on a `/services/{service}` path becomes
//! that path segment (one already qualified is left as it is).

mod auth;
mod bodies;
mod nonce;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use ferric_types::{ErrorCode, FcError};
use tower::ServiceExt;

use crate::auth::Account;
use crate::error::ApiError;
use crate::request_id::RequestId;
use crate::state::AppState;

pub const PREFIX: &str = "/2021-04-06";
const INNER_PREFIX: &str = "/2016-08-15";

struct Api {
    state: AppState,
    /// The FC routes with their state, no authentication layer: requests reach them verified.
    fc: Router,
    nonces: nonce::NonceCache,
}

/// Mounts `fc` (routes written with the 2016 prefix) at `/2021-04-06` behind the ACS3 signature.
pub fn router(state: AppState, fc: Router<AppState>) -> Router<AppState> {
    let fc = fc
        .route_layer(axum::middleware::from_fn(report_route))
        .fallback(not_supported)
        .method_not_allowed_fallback(not_supported)
        .with_state(state.clone());
    let api = Arc::new(Api { fc, state, nonces: nonce::NonceCache::default() });
    // A nested service, not a route with a wildcard: a route would leave its own path parameters in the
    // request, and the FC router's extractors would see them next to theirs.
    let service = tower::service_fn(move |request: Request| {
        let api = api.clone();
        async move { Ok::<_, std::convert::Infallible>(serve(&api, request).await) }
    });
    Router::new().nest_service(PREFIX, service)
}

async fn serve(api: &Api, request: Request) -> Response {
    let request_id = request.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let (mut parts, body) = request.into_parts();
    // Nesting stripped the prefix; the signature covers the path as sent.
    parts.uri = match with_prefix(&parts.uri) {
        Some(uri) => uri,
        None => return render(ApiError::invalid("the request path is not valid").into_response(), &request_id),
    };
    let config = api.state.config();
    let limit = config.max_code_body_bytes().max(config.max_sync_payload_bytes);
    let (account, body) = match auth::verify(&api.state, &api.nonces, &parts, body, limit).await {
        Ok(verified) => verified,
        Err(e) => return render(e.into_response(), &request_id),
    };
    let sent_path: String = parts.uri.path().chars().take(256).collect();
    parts.uri = match inner_uri(&parts.uri) {
        Some(uri) => uri,
        None => {
            return render(ApiError::invalid("the request path cannot be mapped").into_response(), &request_id);
        }
    };
    parts.extensions.insert(Account(account.clone()));
    parts.extensions.insert(SentPath(sent_path));
    let trigger = bodies::is_trigger_path(parts.uri.path());
    let body = if trigger { bodies::trigger_request(body) } else { body };
    let request = Request::from_parts(parts, Body::from(body));
    let mut response = match api.fc.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if trigger {
        response = bodies::trigger_response(response).await;
    }
    response.extensions_mut().insert(Account(account));
    render(response, &request_id)
}

/// The path as the client sent it, for messages about it.
#[derive(Clone)]
struct SentPath(String);

/// FC's answer for a path or method it does not serve, naming the path the client sent.
async fn not_supported(request: Request) -> ApiError {
    let path = request.extensions().get::<SentPath>().map_or("", |SentPath(p)| p.as_str());
    ApiError::new(ErrorCode::PathNotSupported, format!("'{}' against '{path}' is not supported", request.method()))
}

/// Tells the metrics layer which route served the request, spelled with the 2021 prefix.
async fn report_route(request: Request, next: axum::middleware::Next) -> Response {
    // Axum reports the nested template behind the nesting prefix: `/2021-04-06/2016-08-15/services`.
    let template = request.extensions().get::<axum::extract::MatchedPath>().and_then(|p| {
        let path = p.as_str();
        path.find(INNER_PREFIX).map(|at| format!("{PREFIX}{}", &path[at + INNER_PREFIX.len()..]))
    });
    let mut response = next.run(request).await;
    if let Some(template) = template {
        response.extensions_mut().insert(crate::metrics::http::RouteTemplate(template));
    }
    response
}

/// A response carrying an FC error gets the 2021 error body; any other passes unchanged.
fn render(mut response: Response, request_id: &str) -> Response {
    let Some(error) = response.extensions_mut().remove::<FcError>() else {
        return response;
    };
    let body = serde_json::json!({
        "Code": error.code.as_str(),
        "Message": error.message,
        "RequestId": request_id,
    });
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body.to_string()))
}

/// The nested request's URI with the prefix nesting removed put back.
fn with_prefix(uri: &Uri) -> Option<Uri> {
    let path = if uri.path() == "/" { "" } else { uri.path() };
    let full = match uri.query() {
        Some(q) => format!("{PREFIX}{path}?{q}"),
        None => format!("{PREFIX}{path}"),
    };
    full.parse().ok()
}

/// `/2021-04-06/<rest>?<query>` as the 2016 route that serves it.
fn inner_uri(uri: &Uri) -> Option<Uri> {
    let rest = uri.path().strip_prefix(PREFIX)?;
    let query = uri.query();
    let mut path = format!("{INNER_PREFIX}{rest}");
    if let Some(qualifier) = query.and_then(qualifier_of) {
        if let Some(after) = rest.strip_prefix("/services/") {
            let (service, tail) = after.split_once('/').unwrap_or((after, ""));
            if !service.is_empty() && !service.contains('.') && !service.contains("%2E") && !service.contains("%2e") {
                let encoded = percent_encoding::utf8_percent_encode(&qualifier, percent_encoding::NON_ALPHANUMERIC);
                let slash = if tail.is_empty() && !after.contains('/') { "" } else { "/" };
                path = format!("{INNER_PREFIX}/services/{service}.{encoded}{slash}{tail}");
            }
        }
    }
    let with_query = match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    with_query.parse().ok()
}

fn qualifier_of(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "qualifier")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(uri: &str) -> String {
        inner_uri(&uri.parse().expect("valid in this test")).expect("valid in this test").to_string()
    }

    #[test]
    fn paths_map_onto_the_2016_routes() {
        assert_eq!(mapped("/2021-04-06/services?limit=2"), "/2016-08-15/services?limit=2");
        assert_eq!(mapped("/2021-04-06/custom-domains/a.example"), "/2016-08-15/custom-domains/a.example");
    }

    #[test]
    fn a_qualifier_query_becomes_the_service_segment() {
        assert_eq!(
            mapped("/2021-04-06/services/s/functions/f/invocations?qualifier=prod"),
            "/2016-08-15/services/s.prod/functions/f/invocations?qualifier=prod"
        );
        assert_eq!(mapped("/2021-04-06/services/s?qualifier=1"), "/2016-08-15/services/s.1?qualifier=1");
        assert_eq!(
            mapped("/2021-04-06/services/s.2/functions?qualifier=1"),
            "/2016-08-15/services/s.2/functions?qualifier=1"
        );
        assert_eq!(
            mapped("/2021-04-06/services/s/functions?qualifier="),
            "/2016-08-15/services/s/functions?qualifier="
        );
        assert_eq!(mapped("/2021-04-06/provision-configs?qualifier=a"), "/2016-08-15/provision-configs?qualifier=a");
    }
}
