//! `GET /console/api/services/{service}/functions/{function}/metrics[?qualifier=]`: the function's last
//! hour in one-minute buckets, for the console's charts, from [`crate::metrics::Metrics::history`]
//! (without a qualifier, every line of the function summed).

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use ferric_types::name::{validate_name, NameRule};

use crate::error::ApiError;
use crate::routes::ReadPath;
use crate::state::AppState;

pub async fn history(
    State(state): State<AppState>,
    ReadPath(target): ReadPath,
    uri: Uri,
) -> Result<Response, ApiError> {
    let qualifier = crate::routes::query_map(&uri).remove("qualifier").filter(|q| !q.is_empty());
    if let Some(q) = &qualifier {
        if q != "LATEST" {
            validate_name("qualifier", q, NameRule::Lenient)?;
        }
    }
    crate::control::functions::require(state.control(), &target.account, &target.service, &target.function).await?;
    let body = state.inner().metrics.history(&target.account, &target.service, &target.function, qualifier.as_deref());
    Ok(super::no_store(crate::routes::json(StatusCode::OK, &body, None)))
}
