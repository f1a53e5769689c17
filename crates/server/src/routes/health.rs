//! `GET /healthz`: 200 once the server is serving. No auth, so supervisors and scripts can poll it.

use axum::http::StatusCode;
use axum::response::Response;

pub async fn healthz() -> Response {
    super::json(StatusCode::OK, &serde_json::json!({ "status": "ok" }), None)
}
