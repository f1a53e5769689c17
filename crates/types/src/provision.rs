//! Provision configs (instances kept warm) and on-demand configs (a cap on instances started by requests),
//! per function and qualifier, with their request bodies and FC's resource strings.
//!
//! Shapes from the official SDKs: fc-python-sdk's `provision_test.py` expects `resource` to be
//! `<account>#<service>#<qualifier>#<function>`; its `on_demand_config_test.py` and fc-java-sdk's test expect
//! `services/<service>.<qualifier>/functions/<function>`, which is also what that list's `prefix` and
//! `startKey` compare with.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FcError;
use crate::fields::{opaque, Shape};

/// Most provisioned instances one function and qualifier may ask for.
pub const MAX_PROVISION_TARGET: u32 = 1000;
/// Largest `maximumInstanceCount` accepted.
pub const MAX_ON_DEMAND_INSTANCES: u32 = 100_000;
/// Most entries in each of `scheduledActions` and `targetTrackingPolicies`.
pub const MAX_POLICIES: usize = 100;
/// Largest serialised size of one policy entry.
const MAX_POLICY_BYTES: usize = 4096;

pub static PROVISION_SHAPE: Shape = Shape {
    fields: &[
        opaque("target"),
        opaque("scheduledActions"),
        opaque("targetTrackingPolicies"),
        opaque("alwaysAllocateCPU"),
    ],
};

pub static ON_DEMAND_SHAPE: Shape = Shape { fields: &[opaque("maximumInstanceCount")] };

/// A PutProvisionConfig body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProvisionRequest {
    pub target: Option<i64>,
    pub scheduled_actions: Option<Vec<Value>>,
    pub target_tracking_policies: Option<Vec<Value>>,
    #[serde(rename = "alwaysAllocateCPU")]
    pub always_allocate_cpu: Option<bool>,
}

/// A stored provision config. The policies are kept and read back as given; only `target` is acted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionSpec {
    pub target: u32,
    #[serde(default)]
    pub scheduled_actions: Vec<Value>,
    #[serde(default)]
    pub target_tracking_policies: Vec<Value>,
    #[serde(default, rename = "alwaysAllocateCPU")]
    pub always_allocate_cpu: bool,
}

impl ProvisionRequest {
    /// Checks the body and gives the spec to store.
    pub fn into_spec(self) -> Result<ProvisionSpec, FcError> {
        let target = self.target.ok_or_else(|| FcError::invalid("target is required"))?;
        let target = u32::try_from(target)
            .ok()
            .filter(|t| *t <= MAX_PROVISION_TARGET)
            .ok_or_else(|| FcError::invalid(format!("target must be between 0 and {MAX_PROVISION_TARGET}")))?;
        let scheduled_actions = policies("scheduledActions", self.scheduled_actions)?;
        let target_tracking_policies = policies("targetTrackingPolicies", self.target_tracking_policies)?;
        Ok(ProvisionSpec {
            target,
            scheduled_actions,
            target_tracking_policies,
            always_allocate_cpu: self.always_allocate_cpu.unwrap_or(true),
        })
    }
}

fn policies(field: &str, given: Option<Vec<Value>>) -> Result<Vec<Value>, FcError> {
    let list = given.unwrap_or_default();
    if list.len() > MAX_POLICIES {
        return Err(FcError::invalid(format!("{field} holds at most {MAX_POLICIES} entries")));
    }
    for entry in &list {
        if !entry.is_object() {
            return Err(FcError::invalid(format!("each entry of {field} must be an object")));
        }
        if entry.to_string().len() > MAX_POLICY_BYTES {
            return Err(FcError::invalid(format!("an entry of {field} is larger than {MAX_POLICY_BYTES} bytes")));
        }
    }
    Ok(list)
}

/// A PutOnDemandConfig body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OnDemandRequest {
    pub maximum_instance_count: Option<i64>,
}

impl OnDemandRequest {
    pub fn into_maximum(self) -> Result<u32, FcError> {
        let count = self.maximum_instance_count.ok_or_else(|| FcError::invalid("maximumInstanceCount is required"))?;
        u32::try_from(count).ok().filter(|c| *c <= MAX_ON_DEMAND_INSTANCES).ok_or_else(|| {
            FcError::invalid(format!("maximumInstanceCount must be between 0 and {MAX_ON_DEMAND_INSTANCES}"))
        })
    }
}

/// One config's place: a function and the qualifier the config was set on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigTarget {
    pub service: String,
    pub qualifier: String,
    pub function: String,
}

impl ConfigTarget {
    /// A provision config's `resource`.
    pub fn provision_resource(&self, account: &str) -> String {
        format!("{account}#{}#{}#{}", self.service, self.qualifier, self.function)
    }

    /// An on-demand config's `resource`, also its list key.
    pub fn on_demand_resource(&self) -> String {
        format!("services/{}.{}/functions/{}", self.service, self.qualifier, self.function)
    }
}

/// A stored provision config with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvisionConfig {
    pub account_id: String,
    pub target: ConfigTarget,
    pub spec: ProvisionSpec,
}

/// A stored on-demand config with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnDemandConfig {
    pub account_id: String,
    pub target: ConfigTarget,
    pub maximum_instance_count: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::parse_body;

    #[test]
    fn a_provision_body_is_checked() {
        let spec =
            parse_body::<ProvisionRequest>(br#"{"Target": 3, "scheduledActions": [{"name": "a"}]}"#, &PROVISION_SHAPE)
                .and_then(ProvisionRequest::into_spec)
                .expect("valid");
        assert_eq!(spec.target, 3);
        assert_eq!(spec.scheduled_actions.len(), 1);
        assert!(spec.target_tracking_policies.is_empty());
        for bad in
            [&br#"{}"#[..], br#"{"target": -1}"#, br#"{"target": 1001}"#, br#"{"target": 1, "scheduledActions": [1]}"#]
        {
            let parsed = parse_body::<ProvisionRequest>(bad, &PROVISION_SHAPE).and_then(ProvisionRequest::into_spec);
            assert!(parsed.is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse_body::<ProvisionRequest>(br#"{"target": "x"}"#, &PROVISION_SHAPE).is_err());
    }

    #[test]
    fn an_on_demand_body_is_checked() {
        let parse =
            |b: &[u8]| parse_body::<OnDemandRequest>(b, &ON_DEMAND_SHAPE).and_then(OnDemandRequest::into_maximum);
        assert_eq!(parse(br#"{"maximumInstanceCount": 0}"#).expect("zero is allowed"), 0);
        assert_eq!(parse(br#"{"maximuminstancecount": 7}"#).expect("any case"), 7);
        assert!(parse(br#"{}"#).is_err());
        assert!(parse(br#"{"maximumInstanceCount": -2}"#).is_err());
    }

    #[test]
    fn resources_are_fcs_strings() {
        let t = ConfigTarget { service: "s".into(), qualifier: "prod".into(), function: "f".into() };
        assert_eq!(t.provision_resource("123"), "123#s#prod#f");
        assert_eq!(t.on_demand_resource(), "services/s.prod/functions/f");
    }
}
