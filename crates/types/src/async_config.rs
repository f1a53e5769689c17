//! FC's async-invoke-config, as the SDKs send and read it and as the store keeps it: retries, event age,
//! destinations. What the queue does with it (the retry policy, delivering destination events) is the
//! `queue` crate's business.

use serde::{Deserialize, Serialize};

use crate::fields::{opaque, Field, Nested, Shape};
use crate::FcError;

/// FC's defaults: three retries, events kept for a day.
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_MAX_AGE_SECONDS: u64 = 86_400;
/// FC's bounds.
pub const MAX_RETRIES: u32 = 8;
pub const MAX_AGE_SECONDS: std::ops::RangeInclusive<u64> = 1..=86_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    /// `acs:fc:<region>:<account>:services/<service>[.<qualifier>]/functions/<function>`
    pub destination: String,
}

/// The function a destination ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationFunction {
    pub service: String,
    pub qualifier: String,
    pub function: String,
}

impl Destination {
    /// The service, qualifier and function an FC destination ARN names.
    pub fn function(&self) -> Option<DestinationFunction> {
        let rest = self.destination.strip_prefix("acs:fc:")?;
        let path = rest.splitn(3, ':').nth(2)?;
        let rest = path.strip_prefix("services/")?;
        let (service, function) = rest.split_once("/functions/")?;
        let (service, qualifier) = service.split_once('.').unwrap_or((service, "LATEST"));
        Some(DestinationFunction {
            service: service.to_string(),
            qualifier: qualifier.to_string(),
            function: function.to_string(),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationConfig {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub on_success: Option<Destination>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub on_failure: Option<Destination>,
}

/// The stored config (the body of PUT .../async-invoke-config).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncInvokeConfig {
    #[serde(default)]
    pub max_async_retry_attempts: Option<u32>,
    #[serde(default)]
    pub max_async_event_age_in_seconds: Option<u64>,
    #[serde(default)]
    pub destination_config: Option<DestinationConfig>,
    #[serde(default)]
    pub stateful_invocation: Option<bool>,
}

/// One function's stored config with its times (epoch milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncConfigRow {
    pub config: AsyncInvokeConfig,
    pub created_ms: i64,
    pub modified_ms: i64,
}

static DESTINATION: Shape = Shape { fields: &[opaque("destination")] };
static DESTINATIONS: Shape = Shape {
    fields: &[
        Field { name: "onSuccess", nested: Nested::Object(&DESTINATION) },
        Field { name: "onFailure", nested: Nested::Object(&DESTINATION) },
    ],
};
/// The keys an async-invoke-config body may carry.
pub static ASYNC_CONFIG_SHAPE: Shape = Shape {
    fields: &[
        opaque("maxAsyncRetryAttempts"),
        opaque("maxAsyncEventAgeInSeconds"),
        Field { name: "destinationConfig", nested: Nested::Object(&DESTINATIONS) },
        opaque("statefulInvocation"),
    ],
};

impl AsyncInvokeConfig {
    pub fn validate(&self) -> Result<(), FcError> {
        if self.max_async_retry_attempts.is_some_and(|r| r > MAX_RETRIES) {
            return Err(FcError::invalid(format!("maxAsyncRetryAttempts must be between 0 and {MAX_RETRIES}")));
        }
        if self.max_async_event_age_in_seconds.is_some_and(|a| !MAX_AGE_SECONDS.contains(&a)) {
            return Err(FcError::invalid("maxAsyncEventAgeInSeconds must be between 1 and 86400"));
        }
        for d in self.destinations() {
            if d.function().is_none() {
                return Err(FcError::invalid(format!(
                    "destination '{}' is not supported; use a function: \
                     acs:fc:<region>:<account>:services/<service>/functions/<function>",
                    d.destination.chars().take(256).collect::<String>()
                )));
            }
        }
        Ok(())
    }

    fn destinations(&self) -> impl Iterator<Item = &Destination> {
        self.destination_config.iter().flat_map(|d| [&d.on_success, &d.on_failure]).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_name_functions() {
        let d = Destination { destination: "acs:fc:cn-local:123:services/s.LATEST/functions/f".into() };
        let named = DestinationFunction { service: "s".into(), qualifier: "LATEST".into(), function: "f".into() };
        assert_eq!(d.function(), Some(named.clone()));
        let d = Destination { destination: "acs:fc:::services/s/functions/f".into() };
        assert_eq!(d.function(), Some(named));
        let bad = AsyncInvokeConfig {
            destination_config: Some(DestinationConfig {
                on_success: Some(Destination { destination: "acs:mns:::/queues/q".into() }),
                on_failure: None,
            }),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        assert!(AsyncInvokeConfig { max_async_retry_attempts: Some(9), ..Default::default() }.validate().is_err());
    }
}
