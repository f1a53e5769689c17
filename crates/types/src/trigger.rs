//! Triggers: the [`TriggerType`]s this server runs, the stored spec, the create/update patch and the wire
//! view. What a type's `triggerConfig` must contain is the `triggers` crate's business; here the config is
//! opaque JSON that round-trips verbatim (the SDKs' tests compare it for equality).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::error::FcError;
use crate::fields::{opaque, Shape};
use crate::limits;
use crate::service::{check_description, check_short, Meta};

/// The trigger families this server runs, spelled on the wire as FC spells `triggerType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerType {
    Timer,
    Http,
}

/// FC has many more trigger families (oss, log, mns_topic, eventbridge, ...); this server only runs the
/// ones that need no other cloud service.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("trigger type '{trigger_type}' is not supported by this server; supported types: timer, http")]
pub struct UnsupportedTriggerType {
    pub trigger_type: String,
}

impl TriggerType {
    /// Parses FC's `triggerType`. Matching is exact, as FC's is: `Timer` is not a trigger type.
    pub fn parse(s: &str) -> Result<TriggerType, UnsupportedTriggerType> {
        match s {
            "timer" => Ok(TriggerType::Timer),
            "http" => Ok(TriggerType::Http),
            other => Err(UnsupportedTriggerType { trigger_type: other.to_owned() }),
        }
    }

    /// The wire name, as FC spells it in `triggerType`.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerType::Timer => "timer",
            TriggerType::Http => "http",
        }
    }
}

impl FromStr for TriggerType {
    type Err = UnsupportedTriggerType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TriggerType::parse(s)
    }
}

impl fmt::Display for TriggerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerSpec {
    pub trigger_type: TriggerType,
    pub trigger_config: Value,
    /// Timer and HTTP triggers have no event source, so FC reports `null` whatever was sent.
    pub source_arn: Option<String>,
    pub invocation_role: String,
    pub qualifier: Option<String>,
    pub description: String,
}

/// A CreateTrigger / UpdateTrigger body; `None` means "not given".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TriggerPatch {
    pub trigger_name: Option<String>,
    pub trigger_type: Option<String>,
    pub trigger_config: Option<Value>,
    pub source_arn: Option<String>,
    pub invocation_role: Option<String>,
    pub qualifier: Option<String>,
    pub description: Option<String>,
}

/// The keys a trigger body may carry; `triggerConfig` keeps its own keys.
pub static TRIGGER_SHAPE: Shape = Shape {
    fields: &[
        opaque("triggerName"),
        opaque("triggerType"),
        opaque("triggerConfig"),
        opaque("sourceArn"),
        opaque("invocationRole"),
        opaque("qualifier"),
        opaque("description"),
    ],
};

impl TriggerSpec {
    /// A new spec from a create body. The type must be one this server runs (checked after the other
    /// fields); the config is checked by the caller's trigger rules.
    pub fn from_create(patch: TriggerPatch) -> Result<TriggerSpec, FcError> {
        let trigger_type = patch.trigger_type.ok_or_else(|| FcError::invalid("triggerType is required"))?;
        let trigger_config = patch.trigger_config.ok_or_else(|| FcError::invalid("triggerConfig is required"))?;
        let invocation_role = patch.invocation_role.unwrap_or_default();
        let description = patch.description.unwrap_or_default();
        validate(&trigger_config, &invocation_role, patch.qualifier.as_deref(), &description)?;
        Ok(TriggerSpec {
            trigger_type: TriggerType::parse(&trigger_type).map_err(|e| FcError::invalid(e.to_string()))?,
            trigger_config,
            source_arn: None,
            invocation_role,
            qualifier: patch.qualifier,
            description,
        })
    }

    /// Merges an update. The type of a trigger cannot change, as in FC.
    pub fn apply(&mut self, patch: TriggerPatch) -> Result<(), FcError> {
        if let Some(t) = patch.trigger_type {
            if t != self.trigger_type.as_str() {
                return Err(FcError::invalid(format!(
                    "triggerType cannot be changed from '{}'; delete the trigger and create a new one",
                    self.trigger_type
                )));
            }
        }
        if let Some(v) = patch.trigger_config {
            self.trigger_config = v;
        }
        if let Some(v) = patch.invocation_role {
            self.invocation_role = v;
        }
        if let Some(v) = patch.qualifier {
            self.qualifier = Some(v);
        }
        if let Some(v) = patch.description {
            self.description = v;
        }
        validate(&self.trigger_config, &self.invocation_role, self.qualifier.as_deref(), &self.description)
    }
}

fn validate(config: &Value, invocation_role: &str, qualifier: Option<&str>, description: &str) -> Result<(), FcError> {
    check_description(description)?;
    check_short("invocationRole", invocation_role)?;
    if let Some(q) = qualifier {
        check_short("qualifier", q)?;
    }
    if !config.is_object() {
        return Err(FcError::invalid("triggerConfig must be a JSON object"));
    }
    let size = serde_json::to_string(config).map(|s| s.len()).unwrap_or(usize::MAX);
    if size > limits::TRIGGER_CONFIG_BYTES {
        return Err(FcError::invalid(format!("triggerConfig is larger than {} bytes", limits::TRIGGER_CONFIG_BYTES)));
    }
    Ok(())
}

/// A stored trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub service: String,
    pub function: String,
    pub name: String,
    pub meta: Meta,
    pub spec: TriggerSpec,
}

/// The JSON FC returns for a trigger.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerView<'a> {
    pub trigger_name: &'a str,
    pub trigger_id: &'a str,
    #[serde(flatten)]
    pub spec: &'a TriggerSpec,
    pub created_time: String,
    pub last_modified_time: String,
}

impl Trigger {
    pub fn view(&self) -> TriggerView<'_> {
        TriggerView {
            trigger_name: &self.name,
            trigger_id: &self.meta.id,
            spec: &self.spec,
            created_time: crate::time::iso8601(self.meta.created_ms),
            last_modified_time: crate::time::iso8601(self.meta.modified_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::parse_body;
    use serde_json::json;

    #[test]
    fn config_round_trips_and_source_arn_is_dropped() {
        let patch: TriggerPatch = parse_body(
            br#"{"triggerName":"t","triggerType":"timer","sourceArn":"dummy_arn","invocationRole":null,
                 "triggerConfig":{"payload":"x","cronExpression":"@every 5m","enable":true,"Extra":1}}"#,
            &TRIGGER_SHAPE,
        )
        .expect("parses");
        let spec = TriggerSpec::from_create(patch).expect("valid");
        assert_eq!(spec.source_arn, None);
        assert_eq!(spec.invocation_role, "");
        assert_eq!(spec.trigger_config, json!({"payload":"x","cronExpression":"@every 5m","enable":true,"Extra":1}));
    }

    #[test]
    fn type_is_immutable() {
        let mut spec = TriggerSpec {
            trigger_type: TriggerType::Timer,
            trigger_config: json!({}),
            source_arn: None,
            invocation_role: String::new(),
            qualifier: None,
            description: String::new(),
        };
        let patch = TriggerPatch { trigger_type: Some("http".into()), ..Default::default() };
        assert!(spec.apply(patch).is_err());
    }

    #[test]
    fn types_parse_exactly_and_serialise_by_wire_name() {
        assert_eq!(TriggerType::parse("timer"), Ok(TriggerType::Timer));
        assert_eq!("http".parse::<TriggerType>(), Ok(TriggerType::Http));
        assert_eq!(TriggerType::Http.to_string(), "http");
        assert_eq!(json!(TriggerType::Timer), json!("timer"));
        for kind in ["oss", "log", "cdn_events", "tablestore", "mns_topic", "eventbridge", "HTTP"] {
            let err = TriggerType::parse(kind).expect_err("unsupported");
            assert_eq!(
                err.to_string(),
                format!("trigger type '{kind}' is not supported by this server; supported types: timer, http")
            );
        }
    }
}
