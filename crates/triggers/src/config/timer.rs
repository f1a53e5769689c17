//! `triggerConfig` for timer triggers, e.g.
//! `{"cronExpression": "CRON_TZ=Asia/Shanghai 0 0 8 * * *", "payload": "{}", "enable": true}`.

use serde_json::Value;

use super::TriggerType;
use super::{as_object, optional_bool, optional_string, require, string, TriggerConfigError};
use crate::cron::Schedule;

/// A validated timer trigger config, with the schedule already parsed so the firing loop never
/// meets a bad expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerConfig {
    /// The expression as the user wrote it, kept for echoing back.
    pub cron_expression: String,
    /// Passed to the function as the event's `payload`.
    pub payload: Option<String>,
    /// A disabled timer keeps its config but does not fire. FC treats a missing `enable` as on.
    pub enable: bool,
    pub schedule: Schedule,
}

impl TimerConfig {
    pub fn from_value(config: &Value) -> Result<TimerConfig, TriggerConfigError> {
        let config = as_object(config)?;
        let expression = require(config, "cronExpression", TriggerType::Timer)?;
        let cron_expression = string(expression, "cronExpression")?;
        let schedule = cron_expression
            .parse::<Schedule>()
            .map_err(|source| TriggerConfigError::InvalidCronExpression { source })?;
        Ok(TimerConfig {
            cron_expression: cron_expression.to_owned(),
            payload: optional_string(config, "payload")?.map(str::to_owned),
            enable: optional_bool(config, "enable")?.unwrap_or(true),
            schedule,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(config: Value) -> String {
        TimerConfig::from_value(&config).expect_err("invalid timer config").to_string()
    }

    #[test]
    fn full_config() {
        let config = TimerConfig::from_value(&json!({
            "cronExpression": "CRON_TZ=Asia/Shanghai 0 0 8 * * *",
            "payload": "{\"hello\":1}",
            "enable": false,
            "qualifier": "LATEST",
        }))
        .expect("valid");
        assert_eq!(config.cron_expression, "CRON_TZ=Asia/Shanghai 0 0 8 * * *");
        assert_eq!(config.payload.as_deref(), Some("{\"hello\":1}"));
        assert!(!config.enable);
        assert_eq!(config.schedule.as_str(), config.cron_expression);
    }

    #[test]
    fn defaults() {
        let config = TimerConfig::from_value(&json!({"cronExpression": "@every 5m", "payload": null})).expect("valid");
        assert_eq!(config.payload, None);
        assert!(config.enable);
    }

    #[test]
    fn keys_are_found_ignoring_case() {
        let config = TimerConfig::from_value(&json!({
            "CronExpression": "0 */5 * * * *",
            "Payload": "p",
            "Enable": false,
        }))
        .expect("valid");
        assert_eq!(config.cron_expression, "0 */5 * * * *");
        assert_eq!(config.payload.as_deref(), Some("p"));
        assert!(!config.enable);
    }

    #[test]
    fn rejects_bad_configs() {
        assert_eq!(error(json!({})), "triggerConfig.cronExpression is required for timer triggers");
        assert_eq!(
            error(json!({"cronExpression": null})),
            "triggerConfig.cronExpression is required for timer triggers"
        );
        assert_eq!(error(json!({"cronExpression": 5})), "triggerConfig.cronExpression must be a string");
        assert_eq!(
            error(json!({"cronExpression": "0 61 * * * *"})),
            "triggerConfig.cronExpression: invalid cron expression '0 61 * * * *': minute value \
             61 out of range 0-59"
        );
        assert!(error(json!({"cronExpression": "0 * * * *"}))
            .contains("FC cron expressions have six fields with seconds first"));
        assert_eq!(
            error(json!({"cronExpression": "@hourly", "payload": {"a": 1}})),
            "triggerConfig.payload must be a string"
        );
        assert_eq!(
            error(json!({"cronExpression": "@hourly", "enable": "true"})),
            "triggerConfig.enable must be a boolean"
        );
    }

    #[test]
    fn schedule_error_stays_a_source() {
        let err = TimerConfig::from_value(&json!({"cronExpression": "0 0 0 * * 8"})).expect_err("no day 8");
        let source = std::error::Error::source(&err).expect("has a source");
        assert!(source.to_string().starts_with("invalid cron expression '0 0 0 * * 8'"));
    }
}
