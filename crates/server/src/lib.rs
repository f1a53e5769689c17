//! Ferric's HTTP edge: the only crate that knows HTTP.
//!
//! A request passes the request-id layer (every response carries `X-Fc-Request-Id`), then authentication
//! (FC's HMAC signature; the account comes from the access key), then a route file that turns it into a
//! typed command, validates it and hands it to the control plane. Every error becomes FC's
//! `{"ErrorCode","ErrorMessage"}` body in one place, `error.rs`.
//!
//! Layout:
//! - `config`: [`ServerConfig`] and the [`Keyring`] of access keys.
//! - `state`: [`AppState`], opened from the data directory.
//! - `auth`: signature verification as the official SDKs sign.
//! - `api2021/`: the 2021-04-06 API: the same routes behind the ACS3 signature, errors in its shape.
//! - `error`: [`ApiError`] and the status mapping.
//! - `conn`: accepting connections, their timeouts and cap, and heads refused in FC's format.
//! - `access_log`: one line per request.
//! - `body`: bounded request bodies.
//! - `control/`: the control plane: every write with its rules, store calls and cache invalidation, one
//!   file per resource; reads too, so routes never see the store.
//! - `dataplane/`: the one pipeline every invocation takes (invoke, HTTP trigger, timer, async job).
//! - `catalog`: the data plane's cache of resolved functions, invalidated by control-plane writes.
//! - `runner`: the queue's `Runner` (one invocation through the data plane) and the timers' source.
//! - `metrics`: what `/metrics` reports and the per-function history behind the console's charts.
//! - `logsink`: invocation logs written to the store off the invoke path, with retention.
//! - `console/`: the web console at `/console` (embedded page, session sign-in, CSRF, the FC routes
//!   behind the session).
//! - `routes/`: one file per resource: services, functions, triggers, code, invoke, proxy (HTTP
//!   triggers), logs, form, health.

mod access_log;
mod api2021;
mod auth;
mod body;
mod catalog;
mod config;
mod conn;
mod console;
mod control;
mod dataplane;
mod domains;
mod error;
mod logsink;
pub mod metrics;
mod peer;
mod request_id;
mod routes;
mod runner;
mod state;

use std::future::Future;

pub use access_log::TARGET as ACCESS_LOG_TARGET;
pub use config::{AccessKey, Keyring, ServerConfig};
pub use conn::{ConnLimits, HeadLimits};
pub use error::ApiError;
pub use logsink::Retention;
pub use request_id::RequestId;
pub use state::{AppState, StateError};

/// Serves the API on `listener` until `shutdown` completes, then drains in-flight requests.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        let _ = state.inner().local_addr.set(addr);
    }
    let closing = state.inner().closing.clone();
    let shutdown = async move {
        shutdown.await;
        let _ = closing.send(true);
    };
    let sweeper = state.clone();
    tokio::spawn(async move { control::code::sweep_unreferenced(sweeper.control()).await });
    let served = conn::Served {
        limits: state.config().connections,
        stats: state.inner().conn_stats.clone(),
        access_log: state.config().access_log,
        router: routes::router(state),
    };
    conn::serve(listener, served, shutdown).await
}
