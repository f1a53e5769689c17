//! Request bodies, read to a bound. Chunked bodies (fun streams its uploads) are read the same way.

use axum::body::{Body, Bytes};
use ferric_types::ErrorCode;
use http_body_util::{BodyExt, Limited};

use crate::error::ApiError;

/// Reads the whole body, refusing it with FC's `EntityTooLarge` once it passes `limit` bytes.
pub async fn read(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(_) => Err(ApiError::invalid("the request body could not be read")),
    }
}

pub fn too_large(limit: usize) -> ApiError {
    ApiError::new(ErrorCode::EntityTooLarge, format!("payload size exceeds maximum allowed size ({limit} bytes)"))
}
