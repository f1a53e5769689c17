//! `triggerConfig` validation for the control plane, per [`TriggerType`] (the type itself is part of the
//! vocabulary, `ferric_types::trigger`). FC accepts a trigger's
//! config as free-form JSON and echoes it back verbatim, so validation only checks the keys this
//! server acts on and leaves unknown keys alone. The typed views ([`TriggerConfig`]: [`TimerConfig`],
//! [`HttpTriggerConfig`]) are the one parsing path: validation is "does the typed view build".
//!
//! Layout:
//! - `error.rs`: [`TriggerConfigError`], whose messages go to API users verbatim.
//! - `timer.rs`: [`TimerConfig`] (`cronExpression`, `payload`, `enable`).
//! - `http.rs`: [`HttpTriggerConfig`] and [`AuthType`] (`authType`, `methods`).

mod error;
mod http;
mod timer;

use serde_json::{Map, Value};

pub use error::TriggerConfigError;
pub use ferric_types::trigger::TriggerType;
pub use http::{AuthType, HttpTriggerConfig};
pub use timer::TimerConfig;

/// A `triggerConfig` read as its type's typed view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerConfig {
    Timer(TimerConfig),
    Http(HttpTriggerConfig),
}

impl TriggerConfig {
    pub fn parse(kind: TriggerType, config: &Value) -> Result<TriggerConfig, TriggerConfigError> {
        match kind {
            TriggerType::Timer => TimerConfig::from_value(config).map(TriggerConfig::Timer),
            TriggerType::Http => HttpTriggerConfig::from_value(config).map(TriggerConfig::Http),
        }
    }
}

/// Checks that `config` is a valid `triggerConfig` for a trigger of type `kind`.
pub fn validate_config(kind: TriggerType, config: &Value) -> Result<(), TriggerConfigError> {
    TriggerConfig::parse(kind, config).map(drop)
}

fn as_object(config: &Value) -> Result<&Map<String, Value>, TriggerConfigError> {
    config.as_object().ok_or(TriggerConfigError::NotAnObject)
}

/// Looks `key` up exactly, then ignoring ASCII case (some clients send `CronExpression`). An
/// explicit JSON `null` counts as absent, which is how SDKs serialise unset optional fields.
fn lookup<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    config
        .get(key)
        .or_else(|| config.iter().find(|(candidate, _)| candidate.eq_ignore_ascii_case(key)).map(|(_, value)| value))
        .filter(|value| !value.is_null())
}

fn require<'a>(
    config: &'a Map<String, Value>,
    key: &'static str,
    trigger_type: TriggerType,
) -> Result<&'a Value, TriggerConfigError> {
    lookup(config, key).ok_or(TriggerConfigError::MissingKey { key, trigger_type })
}

fn string<'a>(value: &'a Value, key: &'static str) -> Result<&'a str, TriggerConfigError> {
    value.as_str().ok_or(TriggerConfigError::WrongType { key, expected: "a string" })
}

fn optional_string<'a>(
    config: &'a Map<String, Value>,
    key: &'static str,
) -> Result<Option<&'a str>, TriggerConfigError> {
    lookup(config, key).map(|value| string(value, key)).transpose()
}

fn optional_bool(config: &Map<String, Value>, key: &'static str) -> Result<Option<bool>, TriggerConfigError> {
    lookup(config, key)
        .map(|value| value.as_bool().ok_or(TriggerConfigError::WrongType { key, expected: "a boolean" }))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_supported_types() {
        assert_eq!(TriggerType::parse("timer"), Ok(TriggerType::Timer));
        assert_eq!(TriggerType::parse("http"), Ok(TriggerType::Http));
        assert_eq!("http".parse::<TriggerType>(), Ok(TriggerType::Http));
        assert_eq!(TriggerType::Timer.as_str(), "timer");
        assert_eq!(TriggerType::Http.to_string(), "http");
    }

    #[test]
    fn unsupported_types_name_the_supported_ones() {
        for kind in ["oss", "log", "cdn_events", "tablestore", "mns_topic", "eventbridge", "HTTP"] {
            let err = TriggerType::parse(kind).expect_err("unsupported");
            assert_eq!(
                err.to_string(),
                format!(
                    "trigger type '{kind}' is not supported by this server; supported types: \
                     timer, http"
                )
            );
        }
    }

    #[test]
    fn serde_uses_wire_names() {
        assert_eq!(json!(TriggerType::Timer), json!("timer"));
        let parsed: TriggerType = serde_json::from_value(json!("http")).expect("valid");
        assert_eq!(parsed, TriggerType::Http);
    }

    #[test]
    fn config_must_be_an_object() {
        for config in [json!(null), json!("{}"), json!([1]), json!(3)] {
            for kind in [TriggerType::Timer, TriggerType::Http] {
                assert_eq!(
                    validate_config(kind, &config).expect_err("not an object").to_string(),
                    "triggerConfig must be a JSON object"
                );
            }
        }
    }

    #[test]
    fn validates_by_kind() {
        let timer = json!({"cronExpression": "0 0 * * * *"});
        let http = json!({"authType": "anonymous", "methods": ["GET"]});
        assert_eq!(validate_config(TriggerType::Timer, &timer), Ok(()));
        assert_eq!(validate_config(TriggerType::Http, &http), Ok(()));
        assert_eq!(
            validate_config(TriggerType::Timer, &http).expect_err("http config is not a timer config").to_string(),
            "triggerConfig.cronExpression is required for timer triggers"
        );
        assert_eq!(
            validate_config(TriggerType::Http, &timer).expect_err("timer config is not an http config").to_string(),
            "triggerConfig.authType is required for http triggers"
        );
    }

    #[test]
    fn lookup_prefers_exact_keys_then_ignores_case() {
        let config = json!({"Payload": "b", "payload": "a", "ENABLE": false, "x": null});
        let config = config.as_object().expect("object");
        assert_eq!(lookup(config, "payload"), Some(&json!("a")));
        assert_eq!(lookup(config, "enable"), Some(&json!(false)));
        assert_eq!(lookup(config, "x"), None);
        assert_eq!(lookup(config, "missing"), None);
    }
}
