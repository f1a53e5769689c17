//! FC's OpenTracing context: the caller's span headers and the service's Jaeger endpoint, which reach the
//! handler as `context.tracing` (`openTracingSpanContext`, `openTracingSpanBaggages`, `jaegerEndpoint`).

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use base64::Engine;
use ferric_invoker::TracingContext;
use serde_json::Value;

use crate::error::ApiError;

pub const SPAN_CONTEXT_HEADER: &str = "x-fc-tracing-opentracing-span-context";
pub const SPAN_BAGGAGES_HEADER: &str = "x-fc-tracing-opentracing-span-baggages";

/// A span context is a short `traceId:spanId:parentId:flags` string; its bound is generous.
const MAX_SPAN_CONTEXT_BYTES: usize = 512;
/// Baggages are base64 of a JSON object of strings.
const MAX_BAGGAGES_BYTES: usize = 4096;

/// The caller's span, when it sent one: both headers are checked here, at the edge, so a malformed
/// one is the caller's 400 rather than a handler's surprise.
pub fn span_from_headers(headers: &HeaderMap) -> Result<Option<TracingContext>, ApiError> {
    let text = |name: &str, max: usize| -> Result<Option<String>, ApiError> {
        let Some(value) = headers.get(name) else { return Ok(None) };
        let value = value.to_str().map_err(|_| ApiError::invalid(format!("{name} must be visible ASCII")))?;
        if value.len() > max {
            return Err(ApiError::invalid(format!("{name} is longer than {max} bytes")));
        }
        Ok(Some(value.trim().to_string()).filter(|v| !v.is_empty()))
    };
    let context = text(SPAN_CONTEXT_HEADER, MAX_SPAN_CONTEXT_BYTES)?;
    let baggages = match text(SPAN_BAGGAGES_HEADER, MAX_BAGGAGES_BYTES)? {
        Some(encoded) => decode_baggages(&encoded)?,
        None => BTreeMap::new(),
    };
    if context.is_none() && baggages.is_empty() {
        return Ok(None);
    }
    Ok(Some(TracingContext {
        open_tracing_span_context: context.unwrap_or_default(),
        open_tracing_span_baggages: baggages,
        jaeger_endpoint: String::new(),
    }))
}

fn decode_baggages(encoded: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let invalid = || ApiError::invalid(format!("{SPAN_BAGGAGES_HEADER} must be base64 of a JSON object of strings"));
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| invalid())?;
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes) else { return Err(invalid()) };
    map.into_iter()
        .map(|(key, value)| match value {
            Value::String(s) => Ok((key, s)),
            _ => Err(invalid()),
        })
        .collect()
}

/// The service's Jaeger collector, when its `tracingConfig` is `{"type": "Jaeger", "params":
/// {"endpoint": ...}}` (FC's only tracing type).
pub fn jaeger_endpoint(tracing_config: &Value) -> Option<String> {
    let kind = tracing_config.get("type").and_then(Value::as_str)?;
    if !kind.eq_ignore_ascii_case("jaeger") {
        return None;
    }
    let endpoint = tracing_config.get("params")?.get("endpoint")?.as_str()?;
    Some(endpoint.to_string()).filter(|e| !e.is_empty())
}

/// What the handler's `context.tracing` holds: the caller's span and the service's endpoint, or `None`
/// (the runtime's empty default) when there is neither.
pub fn context(span: Option<TracingContext>, jaeger_endpoint: Option<&str>) -> Option<TracingContext> {
    match (span, jaeger_endpoint) {
        (None, None) => None,
        (span, endpoint) => {
            let mut tracing = span.unwrap_or_default();
            tracing.jaeger_endpoint = endpoint.unwrap_or("").to_string();
            Some(tracing)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    #[test]
    fn span_headers_are_read_and_checked() {
        let mut headers = HeaderMap::new();
        assert_eq!(span_from_headers(&headers).expect("none"), None);
        headers.insert(SPAN_CONTEXT_HEADER, HeaderValue::from_static("1f:2e:0:1"));
        let encoded = base64::engine::general_purpose::STANDARD.encode(br#"{"user":"u1"}"#);
        headers.insert(SPAN_BAGGAGES_HEADER, HeaderValue::from_str(&encoded).expect("header"));
        let span = span_from_headers(&headers).expect("span").expect("some");
        assert_eq!(span.open_tracing_span_context, "1f:2e:0:1");
        assert_eq!(span.open_tracing_span_baggages.get("user").map(String::as_str), Some("u1"));

        for bad in ["not base64!", &base64::engine::general_purpose::STANDARD.encode(br#"{"n":1}"#)] {
            headers.insert(SPAN_BAGGAGES_HEADER, HeaderValue::from_str(bad).expect("header"));
            assert!(span_from_headers(&headers).is_err(), "{bad}");
        }
        headers.remove(SPAN_BAGGAGES_HEADER);
        headers.insert(SPAN_CONTEXT_HEADER, HeaderValue::from_str(&"x".repeat(600)).expect("header"));
        assert!(span_from_headers(&headers).is_err(), "bounded");
    }

    #[test]
    fn the_jaeger_endpoint_comes_from_a_jaeger_tracing_config() {
        let config = json!({"type": "Jaeger", "params": {"endpoint": "http://j:14268/api/traces"}});
        assert_eq!(jaeger_endpoint(&config).as_deref(), Some("http://j:14268/api/traces"));
        assert_eq!(jaeger_endpoint(&json!({})), None);
        assert_eq!(jaeger_endpoint(&json!({"type": "Other", "params": {"endpoint": "x"}})), None);
        let merged = context(None, Some("http://j")).expect("endpoint alone");
        assert_eq!((merged.open_tracing_span_context.as_str(), merged.jaeger_endpoint.as_str()), ("", "http://j"));
        assert_eq!(context(None, None), None);
    }
}
