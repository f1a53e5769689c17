//! Every response carries `X-Fc-Request-Id`: the SDKs attach it to every error they raise, and later the
//! function context reports the same id.
//!
//! The ids are UUIDs, as FC's are, of version 7: time-ordered. Every invocation's log is stored under its
//! request id, and the log table indexes that id; ids that grow with time are appended at the end of that
//! index instead of landing on a random page of it, which halves what storing a log costs
//! (`logsink`). The SDKs treat the id as an opaque string.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The id of the request being served, available to handlers as an extension.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A new request id: a version-7 UUID, later than every id this process made before it.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = new_id();
    let value = HeaderValue::from_str(&id);
    request.extensions_mut().insert(RequestId(id));
    let mut response = next.run(request).await;
    if let Ok(value) = value {
        response.headers_mut().insert("x-fc-request-id", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::new_id;

    #[test]
    fn ids_are_uuids_that_grow_with_time() {
        let ids: Vec<String> = (0..1000).map(|_| new_id()).collect();
        for id in &ids {
            let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
            assert_eq!(parsed.get_version_num(), 7, "{id}");
            assert_eq!(parsed.hyphenated().to_string(), *id, "lower-case hyphenated, as FC's");
        }
        // Strictly increasing as text, too: the log index compares them as text.
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids out of order");
    }
}
