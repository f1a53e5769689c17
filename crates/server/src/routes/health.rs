//! `GET /healthz`: 200 once the server is serving, no auth, so supervisors can poll it. `GET /metrics`:
//! the server's state in OpenMetrics text (what Prometheus scrapes): per-function invocations, instances
//! and the queue (`crate::metrics`), the server's own requests and connections, and what the function
//! sandbox could and could not use on this machine.
//!
//! `/metrics` names accounts and functions, and Prometheus cannot sign FC requests, so it has its own
//! rule: with `--metrics-token` every caller must send `Authorization: Bearer <token>`; without one only
//! loopback callers are served (a scraper on the same host, or a tunnel), others get 403 `AccessDenied`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferric_types::ErrorCode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// OpenMetrics 1.0, which Prometheus negotiates and parses natively.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn healthz() -> Response {
    super::json(StatusCode::OK, &serde_json::json!({ "status": "ok" }), None)
}

pub async fn metrics(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| *peer);
    allowed(state.config().metrics_token.as_deref(), request.headers(), peer)?;
    let sandbox = &state.config().invoker.sandbox;
    let conn_stats = state.inner().conn_stats.clone();
    let text = state
        .metrics()
        .render(|registry| {
            register_sandbox(registry, sandbox);
            conn_stats.register(registry);
        })
        .await;
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    Ok(response)
}

/// The token when one is set (compared in constant time), else a loopback peer.
fn allowed(token: Option<&str>, headers: &axum::http::HeaderMap, peer: Option<SocketAddr>) -> Result<(), ApiError> {
    match token {
        Some(token) => {
            let sent = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if bool::from(sent.as_bytes().ct_eq(token.as_bytes())) {
                Ok(())
            } else {
                Err(ApiError::new(ErrorCode::AccessDenied, "/metrics needs 'Authorization: Bearer <--metrics-token>'"))
            }
        }
        None if peer.is_some_and(|p| p.ip().to_canonical().is_loopback()) => Ok(()),
        None => Err(ApiError::new(
            ErrorCode::AccessDenied,
            "/metrics is served to loopback callers only; start the server with --metrics-token to scrape it remotely",
        )),
    }
}

type Labels = [(&'static str, &'static str); 1];

fn register_sandbox(registry: &mut Registry, sandbox: &ferric_invoker::sandbox::Sandbox) {
    let f = sandbox.features();
    let mode = Family::<Labels, Gauge>::default();
    mode.get_or_create(&[("mode", sandbox.mode().label())]).set(1);
    registry.register("ferric_sandbox_mode", "The sandbox mode this server runs with", mode);
    let features = Family::<Labels, Gauge>::default();
    for (name, on) in [
        ("root", f.root),
        ("userns", f.userns),
        ("mountns", f.mountns),
        ("pidns", f.pidns),
        ("netns", f.netns),
        ("ipcns", f.ipcns),
        ("utsns", f.utsns),
        ("seccomp", f.seccomp),
        ("landlock", f.landlock > 0),
        ("cgroup", f.cgroup != ferric_invoker::sandbox::CgroupKind::None),
    ] {
        features.get_or_create(&[("feature", name)]).set(i64::from(on));
    }
    registry.register("ferric_sandbox_feature", "Whether a sandbox feature is available (1) or not (0)", features);
    let abi = Gauge::<i64>::default();
    abi.set(i64::from(f.landlock));
    registry.register("ferric_sandbox_landlock_abi", "The landlock ABI in use (0: none)", abi);
    let cgroup = Family::<Labels, Gauge>::default();
    cgroup.get_or_create(&[("driver", f.cgroup.label())]).set(1);
    registry.register("ferric_sandbox_cgroup", "The cgroup driver in use", cgroup);
    let missing = Gauge::<i64>::default();
    missing.set(i64::try_from(sandbox.missing().len()).unwrap_or(i64::MAX));
    registry.register("ferric_sandbox_missing_features", "Features best-effort mode runs without", missing);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unconfined_server_reports_every_feature_missing() {
        let mut registry = Registry::default();
        register_sandbox(&mut registry, &ferric_invoker::sandbox::Sandbox::off());
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
        assert!(text.contains("ferric_sandbox_mode{mode=\"off\"} 1"), "{text}");
        assert!(text.contains("ferric_sandbox_feature{feature=\"seccomp\"} 0"), "{text}");
        assert!(text.contains("ferric_sandbox_cgroup{driver=\"none\"} 1"), "{text}");
    }

    #[test]
    fn without_a_token_only_loopback_is_served_and_with_one_only_its_bearer() {
        let headers = axum::http::HeaderMap::new();
        let local: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().expect("addr");
        let remote: SocketAddr = "192.0.2.7:5000".parse().expect("addr");
        assert!(allowed(None, &headers, Some(local)).is_ok());
        assert!(allowed(None, &headers, Some(mapped)).is_ok());
        assert!(allowed(None, &headers, Some(remote)).is_err());
        assert!(allowed(None, &headers, None).is_err());
        assert!(allowed(Some("s3cret"), &headers, Some(local)).is_err(), "a token binds loopback too");
        let mut bearer = axum::http::HeaderMap::new();
        bearer.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
        assert!(allowed(Some("s3cret"), &bearer, Some(remote)).is_ok());
        assert!(allowed(Some("s3cre"), &bearer, Some(remote)).is_err());
    }
}
