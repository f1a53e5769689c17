//! The one place where an error becomes FC's wire format.
//!
//! The SDKs need `{"ErrorCode","ErrorMessage"}` with `Content-Type: application/json` (the Node SDK parses
//! nothing otherwise, the Python SDK crashes on a non-JSON error body). Internal faults are logged with their
//! source chain and answered with a generic 500; everything a client caused is a 4xx.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ferric_store::code::CodeError;
use ferric_store::StoreError;
use ferric_types::{ErrorCode, FcError};

#[derive(Debug)]
pub struct ApiError(pub FcError);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError(FcError::new(code, message))
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError(FcError::invalid(message))
    }

    /// Logs an internal fault with its whole cause chain and hides it from the client.
    pub fn internal(context: &str, error: &(dyn std::error::Error + 'static)) -> ApiError {
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(%chain, "{context}");
        ApiError(FcError::internal())
    }
}

impl From<FcError> for ApiError {
    fn from(e: FcError) -> Self {
        ApiError(e)
    }
}

impl From<ferric_types::NameError> for ApiError {
    fn from(e: ferric_types::NameError) -> Self {
        ApiError::invalid(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(fc) => ApiError(fc),
            other => ApiError::internal("store failure", &other),
        }
    }
}

impl From<CodeError> for ApiError {
    fn from(e: CodeError) -> Self {
        if let CodeError::ZipTooLarge { .. } = e {
            ApiError::new(ErrorCode::EntityTooLarge, e.to_string())
        } else if e.is_client_error() {
            ApiError::invalid(e.to_string())
        } else {
            ApiError::internal("code package failure", &e)
        }
    }
}

/// The JSON error body FC sends.
pub fn error_body(error: &FcError) -> Vec<u8> {
    serde_json::json!({ "ErrorCode": error.code.as_str(), "ErrorMessage": error.message }).to_string().into_bytes()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, error_body(&self.0)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        // The 2021-04-06 API re-renders the same error in its own shape (`api2021`).
        response.extensions_mut().insert(self.0);
        response
    }
}

impl From<ferric_invoker::InvokeError> for ApiError {
    fn from(e: ferric_invoker::InvokeError) -> Self {
        match e {
            ferric_invoker::InvokeError::RuntimeUnavailable { .. } => ApiError::invalid(e.to_string()),
            ferric_invoker::InvokeError::Throttled(message) => ApiError::new(ErrorCode::ResourceExhausted, message),
        }
    }
}
