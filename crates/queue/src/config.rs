//! FC's async-invoke-config, as the SDKs send and read it, and the retry [`Policy`] it yields.

use std::time::Duration;

use ferric_store::{Job, JobStatus};
use ferric_types::fields::{opaque, Field, Nested, Shape};
use ferric_types::FcError;
use serde::{Deserialize, Serialize};

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

impl Destination {
    /// The service, qualifier and function an FC destination ARN names.
    pub fn function(&self) -> Option<(String, String, String)> {
        let rest = self.destination.strip_prefix("acs:fc:")?;
        let path = rest.splitn(3, ':').nth(2)?;
        let rest = path.strip_prefix("services/")?;
        let (service, function) = rest.split_once("/functions/")?;
        let (service, qualifier) = service.split_once('.').unwrap_or((service, "LATEST"));
        Some((service.to_string(), qualifier.to_string(), function.to_string()))
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
        let destinations = self.destination_config.iter().flat_map(|d| [&d.on_success, &d.on_failure]).flatten();
        for d in destinations {
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

    pub fn policy(&self) -> Policy {
        let destinations = self.destination_config.clone().unwrap_or_default();
        Policy {
            retries: self.max_async_retry_attempts.unwrap_or(DEFAULT_RETRIES),
            max_age: Duration::from_secs(self.max_async_event_age_in_seconds.unwrap_or(DEFAULT_MAX_AGE_SECONDS)),
            on_success: destinations.on_success,
            on_failure: destinations.on_failure,
        }
    }
}

/// How a job is retried and where its result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Retries after the first run.
    pub retries: u32,
    pub max_age: Duration,
    pub on_success: Option<Destination>,
    pub on_failure: Option<Destination>,
}

impl Default for Policy {
    fn default() -> Self {
        AsyncInvokeConfig::default().policy()
    }
}

impl Policy {
    /// Runs in all: the first and the retries.
    pub fn max_attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }
}

/// FC's destination event for a finished invocation.
pub fn destination_event(job: &Job, status: JobStatus, body: Option<&[u8]>, error: Option<&str>) -> Vec<u8> {
    let success = status == JobStatus::Succeeded;
    let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    serde_json::json!({
        "timestamp": ferric_types::time::now_ms(),
        "requestContext": {
            "requestId": job.id,
            "functionArn": format!("acs:fc:::services/{}.{}/functions/{}", job.service, job.qualifier, job.function),
            "condition": if success { "Success" } else if status == JobStatus::Expired { "EventAgeLimitExceeded" } else { "RetryAttemptsExhausted" },
            "approximateInvokeCount": job.attempts,
        },
        "requestPayload": String::from_utf8_lossy(&job.payload),
        "responseContext": {
            "statusCode": 200,
            "functionError": if success { String::new() } else { error.unwrap_or("").to_string() },
        },
        "responsePayload": text(body),
    })
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_destinations() {
        let policy = AsyncInvokeConfig::default().policy();
        assert_eq!(policy.max_attempts(), 4);
        assert_eq!(policy.max_age, Duration::from_secs(86_400));
        let d = Destination { destination: "acs:fc:cn-local:123:services/s.LATEST/functions/f".into() };
        assert_eq!(d.function(), Some(("s".into(), "LATEST".into(), "f".into())));
        let d = Destination { destination: "acs:fc:::services/s/functions/f".into() };
        assert_eq!(d.function(), Some(("s".into(), "LATEST".into(), "f".into())));
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
