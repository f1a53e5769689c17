//! `GET /healthz`: 200 once the server is serving. `GET /metrics`: the server's state in Prometheus text
//! format, starting with what the function sandbox could and could not use on this machine. Neither needs
//! auth, so supervisors and scrapers can poll them; neither reveals anything about accounts or functions.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

pub async fn healthz() -> Response {
    super::json(StatusCode::OK, &serde_json::json!({ "status": "ok" }), None)
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = render(&state.config().invoker.sandbox);
    state.inner().conn_stats.render(&mut text);
    let mut response = (StatusCode::OK, text).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

fn render(sandbox: &ferric_invoker::sandbox::Sandbox) -> String {
    let f = sandbox.features();
    let mut out = String::new();
    let _ = writeln!(out, "# HELP ferric_sandbox_mode The sandbox mode this server runs with.");
    let _ = writeln!(out, "# TYPE ferric_sandbox_mode gauge");
    let _ = writeln!(out, "ferric_sandbox_mode{{mode=\"{}\"}} 1", sandbox.mode().label());
    let _ = writeln!(out, "# HELP ferric_sandbox_feature Whether a sandbox feature is available (1) or not (0).");
    let _ = writeln!(out, "# TYPE ferric_sandbox_feature gauge");
    let features = [
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
    ];
    for (name, on) in features {
        let _ = writeln!(out, "ferric_sandbox_feature{{feature=\"{name}\"}} {}", u8::from(on));
    }
    let _ = writeln!(out, "# HELP ferric_sandbox_landlock_abi The landlock ABI in use (0: none).");
    let _ = writeln!(out, "# TYPE ferric_sandbox_landlock_abi gauge");
    let _ = writeln!(out, "ferric_sandbox_landlock_abi {}", f.landlock);
    let _ = writeln!(out, "# HELP ferric_sandbox_cgroup The cgroup driver in use.");
    let _ = writeln!(out, "# TYPE ferric_sandbox_cgroup gauge");
    let _ = writeln!(out, "ferric_sandbox_cgroup{{driver=\"{}\"}} 1", f.cgroup.label());
    let _ = writeln!(out, "# HELP ferric_sandbox_missing_features Features best-effort mode runs without.");
    let _ = writeln!(out, "# TYPE ferric_sandbox_missing_features gauge");
    let _ = writeln!(out, "ferric_sandbox_missing_features {}", sandbox.missing().len());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unconfined_server_reports_every_feature_missing() {
        let text = super::render(&ferric_invoker::sandbox::Sandbox::off());
        assert!(text.contains("ferric_sandbox_mode{mode=\"off\"} 1"), "{text}");
        assert!(text.contains("ferric_sandbox_feature{feature=\"seccomp\"} 0"), "{text}");
        assert!(text.contains("ferric_sandbox_cgroup{driver=\"none\"} 1"), "{text}");
    }
}
