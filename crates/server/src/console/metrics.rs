//! `GET /console/api/services/{service}/functions/{function}/metrics[?qualifier=]`: the function's last
//! hour in one-minute buckets, for the console's charts.
//!
//! TEMPORARY SOURCE: the per-function history (`metrics::Metrics::history`) is being built on another
//! branch. Until it is merged this answers the documented shape with an hour of all-zero buckets, from
//! [`EmptyHistory`], so the page and its charts work end to end; wiring the real source replaces only
//! [`history_for`].

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use ferric_types::name::{validate_name, NameRule};
use serde::Serialize;

use crate::error::ApiError;
use crate::routes::ReadPath;
use crate::state::AppState;

const BUCKET_SECONDS: i64 = 60;
const BUCKETS: i64 = 60;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub start_ms: i64,
    pub invocations: u64,
    pub errors: u64,
    pub throttles: u64,
    pub cold_starts: u64,
    pub duration_p50_ms: Option<f64>,
    pub duration_p99_ms: Option<f64>,
    pub instances: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct History {
    pub bucket_seconds: i64,
    pub buckets: Vec<Bucket>,
}

/// The temporary stand-in for the metrics history: every bucket of the last hour, all zero.
struct EmptyHistory;

impl EmptyHistory {
    fn last_hour(now_ms: i64) -> History {
        let step = BUCKET_SECONDS * 1000;
        let newest = now_ms - now_ms.rem_euclid(step);
        let buckets = (0..BUCKETS)
            .rev()
            .map(|i| Bucket {
                start_ms: newest - i * step,
                invocations: 0,
                errors: 0,
                throttles: 0,
                cold_starts: 0,
                duration_p50_ms: None,
                duration_p99_ms: None,
                instances: 0,
            })
            .collect();
        History { bucket_seconds: BUCKET_SECONDS, buckets }
    }
}

fn history_for(_state: &AppState, _target: &crate::control::FunctionRef, _qualifier: Option<&str>) -> History {
    EmptyHistory::last_hour(chrono::Utc::now().timestamp_millis())
}

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
    let body = history_for(&state, &target, qualifier.as_deref());
    Ok(super::no_store(crate::routes::json(StatusCode::OK, &body, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_of_minute_buckets_ending_at_the_current_minute() {
        let h = EmptyHistory::last_hour(3_600_000 * 10 + 61_234);
        assert_eq!(h.buckets.len(), 60);
        assert_eq!(h.buckets.last().expect("buckets").start_ms, 3_600_000 * 10 + 60_000);
        assert_eq!(h.buckets[0].start_ms, 3_600_000 * 10 + 60_000 - 59 * 60_000);
    }
}
