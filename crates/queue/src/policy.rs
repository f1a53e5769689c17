//! The retry [`Policy`] a function's async-invoke-config yields, and FC's destination event.

use std::time::Duration;

use ferric_store::{Job, JobStatus};
use ferric_types::async_config::{AsyncInvokeConfig, Destination, DEFAULT_MAX_AGE_SECONDS, DEFAULT_RETRIES};

/// How a job is retried and where its result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Retries after the first run.
    pub retries: u32,
    pub max_age: Duration,
    pub on_success: Option<Destination>,
    pub on_failure: Option<Destination>,
}

impl From<&AsyncInvokeConfig> for Policy {
    fn from(config: &AsyncInvokeConfig) -> Policy {
        let destinations = config.destination_config.clone().unwrap_or_default();
        Policy {
            retries: config.max_async_retry_attempts.unwrap_or(DEFAULT_RETRIES),
            max_age: Duration::from_secs(config.max_async_event_age_in_seconds.unwrap_or(DEFAULT_MAX_AGE_SECONDS)),
            on_success: destinations.on_success,
            on_failure: destinations.on_failure,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::from(&AsyncInvokeConfig::default())
    }
}

impl Policy {
    /// Runs in all: the first and the retries.
    pub fn max_attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }

    /// Where a job that ended with `status` sends its destination event.
    pub fn destination(&self, status: JobStatus) -> Option<&Destination> {
        match status {
            JobStatus::Succeeded => self.on_success.as_ref(),
            _ => self.on_failure.as_ref(),
        }
    }
}

/// FC's destination event for a finished invocation.
pub fn destination_event(job: &Job, status: JobStatus, body: Option<&[u8]>, error: Option<&str>) -> Vec<u8> {
    let success = status == JobStatus::Succeeded;
    let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    serde_json::json!({
        "timestamp": ferric_types::time::now_ms(),
        "requestContext": {
            "requestId": job.request_id,
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
    fn defaults() {
        let policy = Policy::default();
        assert_eq!(policy.max_attempts(), 4);
        assert_eq!(policy.max_age, Duration::from_secs(86_400));
        assert_eq!(policy.destination(JobStatus::Succeeded), None);
    }
}
