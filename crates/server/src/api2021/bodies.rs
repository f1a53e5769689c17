//! The one body difference between the two APIs: a trigger's `triggerConfig` travels as JSON *text* in
//! the 2021-04-06 API (both SDKs' models type it `string`) and as a JSON object in the 2016 one. Requests
//! are converted before the shared trigger routes see them, answers after; everything else passes as is.

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiError;

const FIELD: &str = "triggerConfig";
/// Above a full page of triggers at the largest config each (100 x 16 KiB plus the rest of each view).
const MAX_ANSWER_BYTES: usize = 8 << 20;

/// Whether a (2016-spelled) path is one of the trigger routes.
pub fn is_trigger_path(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        [_, "services", _, "functions", _, "triggers"] | [_, "services", _, "functions", _, "triggers", _]
    )
}

/// A request body whose `triggerConfig` is JSON text, with that text parsed in place. Anything that is
/// not such a body is left for the route to judge.
pub fn trigger_request(body: Bytes) -> Bytes {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let Some(Value::String(text)) = object.get(FIELD) else {
        return body;
    };
    let Ok(parsed) = serde_json::from_str::<Value>(text) else {
        return body;
    };
    object.insert(FIELD.to_string(), parsed);
    serde_json::to_vec(&Value::Object(object)).map(Bytes::from).unwrap_or(body)
}

/// A successful trigger answer (one trigger, or a `triggers` list) with each `triggerConfig` as JSON text.
pub async fn trigger_response(response: Response) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match crate::body::read(body, MAX_ANSWER_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::internal("reading a trigger answer", &std::fmt::Error).into_response(),
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    match value.get_mut("triggers") {
        Some(Value::Array(items)) => items.iter_mut().for_each(stringify),
        _ => stringify(&mut value),
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(value.to_string()))
}

fn stringify(trigger: &mut Value) {
    if let Some(config) = trigger.get_mut(FIELD) {
        if !config.is_string() && !config.is_null() {
            *config = Value::String(config.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_paths_are_recognised() {
        assert!(is_trigger_path("/2016-08-15/services/s/functions/f/triggers"));
        assert!(is_trigger_path("/2016-08-15/services/s/functions/f/triggers/t"));
        assert!(!is_trigger_path("/2016-08-15/services/s/functions/f"));
        assert!(!is_trigger_path("/2016-08-15/services/s/functions/f/triggers/t/x"));
    }

    #[test]
    fn a_text_trigger_config_is_parsed_and_others_pass() {
        let out = trigger_request(Bytes::from_static(br#"{"triggerName":"t","triggerConfig":"{\"a\":1}"}"#));
        assert_eq!(
            serde_json::from_slice::<Value>(&out).expect("a JSON body"),
            serde_json::json!({"triggerName":"t","triggerConfig":{"a":1}})
        );
        for same in [&br#"{"triggerConfig":{"a":1}}"#[..], b"not json", br#"{"triggerConfig":"not json"}"#] {
            assert_eq!(trigger_request(Bytes::copy_from_slice(same)), same);
        }
    }

    #[tokio::test]
    async fn answers_carry_the_config_as_text() {
        let one = (StatusCode::OK, r#"{"triggerName":"t","triggerConfig":{"a":1}}"#).into_response();
        let out = crate::body::read(trigger_response(one).await.into_body(), 1 << 20).await.expect("readable");
        assert_eq!(serde_json::from_slice::<Value>(&out).expect("a JSON body")["triggerConfig"], r#"{"a":1}"#);
        let list = (StatusCode::OK, r#"{"triggers":[{"triggerConfig":{"b":2}}],"nextToken":"n"}"#).into_response();
        let out = crate::body::read(trigger_response(list).await.into_body(), 1 << 20).await.expect("readable");
        assert_eq!(
            serde_json::from_slice::<Value>(&out).expect("a JSON body"),
            serde_json::json!({"triggers":[{"triggerConfig":"{\"b\":2}"}],"nextToken":"n"})
        );
    }
}
