//! One line per request, at `info` on the `ferric::access` target: method, path, status, duration,
//! request id, account and user agent. The CLI decides how the lines look (`--access-log text|json`) or
//! turns them off.
//!
//! The path is logged without its query: GetFunctionCode's download URLs carry their signature there,
//! and a query may hold anything a client put in it. Signatures live in headers, which are never logged
//! but for the user agent.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::Account;
use crate::state::AppState;

/// The tracing target of access lines.
pub const TARGET: &str = "ferric::access";

/// Longest path and user agent written; the rest is cut.
const MAX_FIELD: usize = 512;

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !wanted(state.config().access_log) {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().clone();
    let path = clip(request.uri().path());
    let agent = request.headers().get(header::USER_AGENT).map(|v| clip(&String::from_utf8_lossy(v.as_bytes())));
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| *peer);
    let response = next.run(request).await;
    let request_id = response.headers().get("x-fc-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    let account = response.extensions().get::<Account>().map_or("-", |Account(a)| a.as_str());
    tracing::info!(
        target: TARGET,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        duration_ms = (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        request_id,
        account,
        user_agent = agent.as_deref().unwrap_or("-"),
        peer = %peer.map_or_else(|| "-".to_string(), |p| p.to_string()),
    );
    response
}

/// The access line of a request refused before it reached a route (`conn`).
pub fn refused(peer: SocketAddr, status: u16, request_id: &str) {
    tracing::info!(
        target: TARGET,
        method = "-",
        path = "-",
        status,
        duration_ms = 0.0,
        request_id,
        account = "-",
        user_agent = "-",
        peer = %peer,
    );
}

/// Whether a request's line is written: access lines are on, and the log level lets `info` lines of
/// [`TARGET`] through. When it does not (`--log warn`), the line's fields are not even built.
fn wanted(access_log: bool) -> bool {
    access_log && tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

/// At most [`MAX_FIELD`] characters, control characters shown as `?` so a line stays one line.
fn clip(text: &str) -> String {
    text.chars().take(MAX_FIELD).map(|c| if c.is_control() { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_built_only_when_the_log_level_lets_them_through() {
        use tracing_subscriber::filter::{LevelFilter, Targets};
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::Layer;
        let with = |level: LevelFilter| {
            let filter = Targets::new().with_target(TARGET, level);
            tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().with_filter(filter))
        };
        tracing::subscriber::with_default(with(LevelFilter::INFO), || {
            assert!(wanted(true));
            assert!(!wanted(false), "--access-log off");
        });
        tracing::subscriber::with_default(with(LevelFilter::WARN), || assert!(!wanted(true)));
    }

    #[test]
    fn clipped_fields_stay_on_one_line() {
        assert_eq!(clip("a\nb\u{7}c"), "a?b?c");
        assert_eq!(clip(&"x".repeat(2000)).len(), MAX_FIELD);
    }
}
