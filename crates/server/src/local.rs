//! `ferric local start`'s HTTP front: a template's HTTP functions served at fun's routes
//! (`/2016-08-15/proxy/{service}/{function}/{path}`) on an in-process invoker, with no store, no
//! accounts and no data plane. It is here because only this crate serves HTTP, and so that a request
//! and its answer are mapped, bounded and refused exactly as the server's proxy route does it (the
//! same functions: `routes::proxy::{http_request, answer}`, `body::read`, the response limit). Which
//! functions exist is the caller's ([`LocalFunctions`]: the cli rebuilds its table on every reload).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use ferric_invoker::{FunctionVersion, Invoker};
use ferric_types::signature;
use ferric_types::ErrorCode;

use crate::error::ApiError;

/// fun's route prefix for HTTP functions.
pub const PREFIX: &str = "/2016-08-15/proxy/";

/// One served function: its version (whose pool key names its code) and its trigger's methods.
pub struct LocalRoute {
    pub version: Arc<FunctionVersion>,
    pub methods: Vec<String>,
}

/// What the local front serves, asked per request.
pub trait LocalFunctions: Send + Sync + 'static {
    /// The function `service/function`; `None` when the template has no such HTTP function.
    fn route(&self, service: &str, function: &str) -> Option<LocalRoute>;
    /// Whether some HTTP function of `service` exists (for FC's ServiceNotFound versus FunctionNotFound).
    fn has_service(&self, service: &str) -> bool;
    fn invoker(&self) -> &Invoker;
    /// A finished invocation's log (framed by FC's `FC Invoke Start/End` lines).
    fn log(&self, log: &[u8]);
    /// A request id, FC's form.
    fn request_id(&self) -> String;
}

/// The bound on a request body and on an answer: the server's default `--max-sync-payload-bytes`.
pub const MAX_PAYLOAD_BYTES: usize = 32 * 1024 * 1024;

/// Serves `functions` on `listener` until `shutdown` completes.
pub async fn serve_local(
    listener: tokio::net::TcpListener,
    functions: Arc<dyn LocalFunctions>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = axum::Router::new().fallback(handle).with_state(functions);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

async fn handle(
    State(functions): State<Arc<dyn LocalFunctions>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let request_id = functions.request_id();
    let mut response =
        invoke(functions.as_ref(), peer, &request_id, request).await.unwrap_or_else(IntoResponse::into_response);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(HeaderName::from_static("x-fc-request-id"), value);
    }
    response
}

async fn invoke(
    functions: &dyn LocalFunctions,
    peer: SocketAddr,
    request_id: &str,
    request: Request,
) -> Result<Response, ApiError> {
    let raw_path = request.uri().path().to_string();
    let raw_query = request.uri().query().unwrap_or("").to_string();
    let (service, function, sub_path) = split_path(&raw_path).ok_or_else(|| {
        ApiError::new(
            ErrorCode::PathNotSupported,
            format!("'{}' is not a route here: use {PREFIX}{{service}}/{{function}}/{{path}}", truncate(&raw_path)),
        )
    })?;
    let route = functions.route(&service, &function).ok_or_else(|| {
        if functions.has_service(&service) {
            ApiError::new(
                ErrorCode::FunctionNotFound,
                format!("function '{}' of service '{service}' has no HTTP event in the template", truncate(&function)),
            )
        } else {
            ApiError::new(
                ErrorCode::ServiceNotFound,
                format!("service '{}' has no HTTP function here", truncate(&service)),
            )
        }
    })?;
    let method = request.method().as_str().to_string();
    if !route.methods.iter().any(|m| m.eq_ignore_ascii_case(&method)) {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("method {method} is not allowed by this HTTP trigger; allowed: {}", route.methods.join(", ")),
        ));
    }
    let (parts, body) = request.into_parts();
    let span = crate::dataplane::opentracing::span_from_headers(&parts.headers)?;
    let http = crate::routes::proxy::http_request(&parts, &raw_query, signature::decode_path(&sub_path), peer);
    let payload = crate::body::read(body, MAX_PAYLOAD_BYTES).await?;
    // As the data plane fills it for LATEST; a local service has no tracing config (no Jaeger endpoint).
    let context = ferric_invoker::InvokeContext {
        qualifier: Some("LATEST".into()),
        version_id: Some(String::new()),
        tracing: crate::dataplane::opentracing::context(span, None),
    };
    let invocation = ferric_invoker::Request { request_id: request_id.to_string(), payload, http: Some(http), context };
    let mut outcome = functions.invoker().invoke(route.version.clone(), invocation).await?;
    crate::dataplane::enforce_response_limit(&mut outcome, MAX_PAYLOAD_BYTES);
    functions.log(&outcome.log);
    Ok(crate::routes::proxy::answer(&route.version, &outcome))
}

/// `(service, function, sub-path)`; the service may carry `.LATEST`, the only version here.
fn split_path(raw: &str) -> Option<(String, String, String)> {
    let rest = raw.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(3, '/');
    let service = signature::decode_path(parts.next()?);
    let service = service.strip_suffix(".LATEST").map(str::to_string).unwrap_or(service);
    let function = signature::decode_path(parts.next().filter(|f| !f.is_empty())?);
    Some((service, function, format!("/{}", parts.next().unwrap_or(""))))
}

/// Names echoed in an error, cut to a sane length.
fn truncate(text: &str) -> String {
    text.chars().take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::split_path;

    #[test]
    fn splits_fun_routes() {
        let split = |p: &str| split_path(p);
        assert_eq!(split("/2016-08-15/proxy/demo/hello/a/b"), Some(("demo".into(), "hello".into(), "/a/b".into())));
        assert_eq!(split("/2016-08-15/proxy/demo.LATEST/hello"), Some(("demo".into(), "hello".into(), "/".into())));
        assert_eq!(split("/2016-08-15/proxy/demo/"), None);
        assert_eq!(split("/other"), None);
    }
}
