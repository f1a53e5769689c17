//! The web console at `/console`: a page, its scripts and styles embedded in the binary
//! (`crates/server/console/`: plain ES modules, plus the committed CodeMirror bundle `editor.js` that
//! `scripts/build-console` rebuilds), and the JSON routes the page calls.
//!
//! The page's API is `/console/api/...`: `session` (sign in, who am I, sign out), `fc/...` — the FC
//! 2016-08-15 and `/ferric/v1` routes themselves, the same handlers as the signed API, mounted behind the
//! session instead of the signature (so every console action goes through the control plane and data
//! plane exactly as an SDK call would, with FC's errors) — and the per-function metrics history. Every
//! response under `/console` carries the security headers: a CSP without inline script, no framing,
//! nosniff, no referrer.

mod metrics;
mod session;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use session::Sessions;

use crate::error::ApiError;
use crate::state::AppState;

/// The console's routes; `fc` is the FC API router without its signature layer.
pub fn router(state: AppState, fc: Router<AppState>) -> Router<AppState> {
    let api = Router::new()
        .nest("/fc", fc)
        .route("/services/{service}/functions/{function}/metrics", get(metrics::history))
        .route_layer(middleware::from_fn_with_state(state, session::require));
    Router::new()
        .route("/console", get(page))
        .route("/console/", get(page))
        .route("/console/assets/{file}", get(asset))
        .route("/console/api/session", get(session::whoami).post(session::sign_in).delete(session::sign_out))
        .nest("/console/api", api)
        .layer(middleware::from_fn(security_headers))
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

pub(crate) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The embedded files: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../console/app.js")),
    ("api.js", "text/javascript; charset=utf-8", include_bytes!("../../console/api.js")),
    ("zip.js", "text/javascript; charset=utf-8", include_bytes!("../../console/zip.js")),
    ("chart.js", "text/javascript; charset=utf-8", include_bytes!("../../console/chart.js")),
    // CodeMirror 6, bundled by scripts/build-console from console/editor/.
    ("editor.js", "text/javascript; charset=utf-8", include_bytes!("../../console/editor.js")),
    ("style.css", "text/css; charset=utf-8", include_bytes!("../../console/style.css")),
];

const INDEX: &[u8] = include_bytes!("../../console/index.html");

/// The page, with a fresh style nonce: CodeMirror writes its styles into a `<style>` element, which
/// `style-src 'self'` alone would block. The nonce reaches the script in a `<meta>`; scripts stay `'self'`.
async fn page() -> Response {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        return ApiError::internal("drawing a style nonce", &std::io::Error::other("no entropy")).into_response();
    }
    let nonce = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes);
    let html = String::from_utf8_lossy(INDEX).replace("{{STYLE_NONCE}}", &nonce);
    let csp = CSP.replace("style-src 'self'", &format!("style-src 'self' 'nonce-{nonce}'"));
    let mut response = (StatusCode::OK, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Result<Response, ApiError> {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        return Err(ApiError::new(
            ferric_types::ErrorCode::NotFound,
            format!("no console asset '{}'", file.chars().take(64).collect::<String>()),
        ));
    };
    let mut response = (StatusCode::OK, *bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
