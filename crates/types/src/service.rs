//! Services: the stored spec, the create/update patch and the wire view.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::FcError;
use crate::fields::{opaque, Field, Nested, Shape};
use crate::limits;

/// Identity and bookkeeping every stored resource carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    /// Changes on every write; `If-Match` compares against it.
    pub etag: String,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// FC's values of `logConfig.logBeginRule`: split log lines at a default timestamp pattern, or not at all.
pub const LOG_BEGIN_RULES: &[&str] = &["DefaultRegex", "None"];
/// What FC reports when no rule was set.
pub const DEFAULT_LOG_BEGIN_RULE: &str = "None";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogConfig {
    pub project: String,
    pub logstore: String,
    pub enable_request_metrics: bool,
    pub enable_instance_metrics: bool,
    /// Never empty: an empty or absent rule reads as FC's default, so stored and sent values agree.
    #[serde(deserialize_with = "log_begin_rule")]
    pub log_begin_rule: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            project: String::new(),
            logstore: String::new(),
            enable_request_metrics: false,
            enable_instance_metrics: false,
            log_begin_rule: DEFAULT_LOG_BEGIN_RULE.to_string(),
        }
    }
}

/// `""` and `null` mean "not set" (services stored before the default existed have `""`).
fn log_begin_rule<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let rule = Option::<String>::deserialize(deserializer)?.unwrap_or_default();
    Ok(if rule.is_empty() { DEFAULT_LOG_BEGIN_RULE.to_string() } else { rule })
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VpcConfig {
    pub vpc_id: String,
    #[serde(rename = "vSwitchIds")]
    pub v_switch_ids: Vec<String>,
    pub security_group_id: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MountPoint {
    pub server_addr: String,
    pub mount_dir: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NasConfig {
    pub user_id: i64,
    pub group_id: i64,
    pub mount_points: Vec<MountPoint>,
}

impl Default for NasConfig {
    /// FC reports an unset NAS config with ids of -1.
    fn default() -> Self {
        NasConfig { user_id: -1, group_id: -1, mount_points: Vec::new() }
    }
}

/// What a user can set on a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceSpec {
    pub description: String,
    pub role: String,
    pub log_config: LogConfig,
    pub vpc_config: VpcConfig,
    pub internet_access: bool,
    pub nas_config: NasConfig,
    /// Unset is `{}`, written as FC reads it back: `{"type": null, "params": null}` (both SDK suites
    /// expect those keys).
    #[serde(serialize_with = "tracing_as_fc")]
    pub tracing_config: Value,
}

fn tracing_as_fc<S: serde::Serializer>(value: &Value, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Value::Object(map) if map.is_empty() => {
            let mut empty = Map::new();
            empty.insert("type".to_string(), Value::Null);
            empty.insert("params".to_string(), Value::Null);
            Value::Object(empty).serialize(serializer)
        }
        other => other.serialize(serializer),
    }
}

impl Default for ServiceSpec {
    fn default() -> Self {
        ServiceSpec {
            description: String::new(),
            role: String::new(),
            log_config: LogConfig::default(),
            vpc_config: VpcConfig::default(),
            internet_access: true,
            nas_config: NasConfig::default(),
            tracing_config: Value::Object(Map::new()),
        }
    }
}

/// A CreateService / UpdateService body. `None` means "not given": unchanged on update, default on create.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServicePatch {
    pub service_name: Option<String>,
    pub description: Option<String>,
    pub role: Option<String>,
    pub log_config: Option<LogConfig>,
    pub vpc_config: Option<VpcConfig>,
    pub internet_access: Option<bool>,
    pub nas_config: Option<NasConfig>,
    pub tracing_config: Option<Value>,
}

static LOG_CONFIG: Shape = Shape {
    fields: &[
        opaque("project"),
        opaque("logstore"),
        opaque("enableRequestMetrics"),
        opaque("enableInstanceMetrics"),
        opaque("logBeginRule"),
    ],
};
static VPC_CONFIG: Shape = Shape { fields: &[opaque("vpcId"), opaque("vSwitchIds"), opaque("securityGroupId")] };
static MOUNT_POINT: Shape = Shape { fields: &[opaque("serverAddr"), opaque("mountDir")] };
static NAS_CONFIG: Shape = Shape {
    fields: &[
        opaque("userId"),
        opaque("groupId"),
        Field { name: "mountPoints", nested: Nested::ArrayOf(&MOUNT_POINT) },
    ],
};

/// The keys a service body may carry.
pub static SERVICE_SHAPE: Shape = Shape {
    fields: &[
        opaque("serviceName"),
        opaque("description"),
        opaque("role"),
        Field { name: "logConfig", nested: Nested::Object(&LOG_CONFIG) },
        Field { name: "vpcConfig", nested: Nested::Object(&VPC_CONFIG) },
        opaque("internetAccess"),
        Field { name: "nasConfig", nested: Nested::Object(&NAS_CONFIG) },
        opaque("tracingConfig"),
    ],
};

impl ServiceSpec {
    /// Merges a patch into this spec and checks the result.
    pub fn apply(&mut self, patch: ServicePatch) -> Result<(), FcError> {
        let ServicePatch {
            service_name: _,
            description,
            role,
            log_config,
            vpc_config,
            internet_access,
            nas_config,
            tracing_config,
        } = patch;
        if let Some(v) = description {
            self.description = v;
        }
        if let Some(v) = role {
            self.role = v;
        }
        if let Some(v) = log_config {
            self.log_config = v;
        }
        if let Some(v) = vpc_config {
            self.vpc_config = v;
        }
        if let Some(v) = internet_access {
            self.internet_access = v;
        }
        if let Some(v) = nas_config {
            self.nas_config = v;
        }
        if let Some(mut v) = tracing_config {
            // FC's rendering of "unset" sent back is unset.
            if let Value::Object(map) = &mut v {
                map.retain(|_, field| !field.is_null());
            }
            self.tracing_config = v;
        }
        self.validate()
    }

    fn validate(&self) -> Result<(), FcError> {
        check_description(&self.description)?;
        check_short("role", &self.role)?;
        if !LOG_BEGIN_RULES.contains(&self.log_config.log_begin_rule.as_str()) {
            return Err(FcError::invalid(format!(
                "logConfig.logBeginRule '{}' is not valid; expected one of {}",
                self.log_config.log_begin_rule.chars().take(64).collect::<String>(),
                LOG_BEGIN_RULES.join(", ")
            )));
        }
        if !self.tracing_config.is_object() {
            return Err(FcError::invalid("tracingConfig must be an object"));
        }
        if serde_json::to_string(self).map(|s| s.len()).unwrap_or(usize::MAX) > 64 * 1024 {
            return Err(FcError::invalid("service configuration is larger than 64 KB"));
        }
        Ok(())
    }
}

pub(crate) fn check_description(description: &str) -> Result<(), FcError> {
    if description.chars().count() > limits::DESCRIPTION_CHARS {
        return Err(FcError::invalid(format!("description is longer than {} characters", limits::DESCRIPTION_CHARS)));
    }
    Ok(())
}

pub(crate) fn check_short(field: &str, value: &str) -> Result<(), FcError> {
    if value.len() > limits::SHORT_STRING_BYTES {
        return Err(FcError::invalid(format!("{field} is longer than {} bytes", limits::SHORT_STRING_BYTES)));
    }
    Ok(())
}

/// A stored service.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    pub meta: Meta,
    pub spec: ServiceSpec,
}

/// The JSON FC returns for a service.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView<'a> {
    pub service_name: &'a str,
    pub service_id: &'a str,
    #[serde(flatten)]
    pub spec: &'a ServiceSpec,
    pub created_time: String,
    pub last_modified_time: String,
}

impl Service {
    pub fn view(&self) -> ServiceView<'_> {
        ServiceView {
            service_name: &self.name,
            service_id: &self.meta.id,
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

    #[test]
    fn null_means_unchanged_and_keys_fold() {
        let mut spec = ServiceSpec { description: "keep".into(), ..Default::default() };
        let patch: ServicePatch = parse_body(
            br#"{"description": null, "Role": "r", "logConfig": {"logStore": "ls", "project": "p"}}"#,
            &SERVICE_SHAPE,
        )
        .expect("parses");
        spec.apply(patch).expect("valid");
        assert_eq!(spec.description, "keep");
        assert_eq!(spec.role, "r");
        assert_eq!(spec.log_config.logstore, "ls");
    }

    #[test]
    fn view_always_has_log_config_and_role() {
        let svc = Service {
            name: "s".into(),
            meta: Meta { id: "id".into(), etag: "e".into(), created_ms: 0, modified_ms: 0 },
            spec: ServiceSpec::default(),
        };
        let v = serde_json::to_value(svc.view()).expect("serialises");
        assert_eq!(v["role"], "");
        assert!(v["logConfig"].is_object());
        assert_eq!(v["description"], "");
        assert_eq!(v["internetAccess"], true);
        assert_eq!(v["createdTime"], "1970-01-01T00:00:00Z");
        assert_eq!(v["logConfig"]["logBeginRule"], "None");
        assert_eq!(v["tracingConfig"], serde_json::json!({"type": null, "params": null}));
    }

    #[test]
    fn log_begin_rule_is_fcs_value_never_empty() {
        let mut spec = ServiceSpec::default();
        let patch: ServicePatch =
            parse_body(br#"{"logConfig": {"project": "p", "logBeginRule": ""}}"#, &SERVICE_SHAPE).expect("parses");
        spec.apply(patch).expect("valid");
        assert_eq!(spec.log_config.log_begin_rule, "None");
        let patch: ServicePatch =
            parse_body(br#"{"logConfig": {"logBeginRule": "DefaultRegex"}}"#, &SERVICE_SHAPE).expect("parses");
        spec.apply(patch).expect("valid");
        assert_eq!(spec.log_config.log_begin_rule, "DefaultRegex");
        let patch: ServicePatch =
            parse_body(br#"{"logConfig": {"logBeginRule": "sometimes"}}"#, &SERVICE_SHAPE).expect("parses");
        assert!(spec.apply(patch).is_err());
        // A service stored with the old empty default reads back with FC's value.
        let stored: ServiceSpec =
            serde_json::from_str(r#"{"logConfig": {"logBeginRule": ""}}"#).expect("stored spec parses");
        assert_eq!(stored.log_config.log_begin_rule, "None");
    }
}
