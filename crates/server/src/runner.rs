//! The queue's [`Runner`]: an async job is one [`Invocation`] through the data plane, run now. Retries,
//! event age and destinations are the queue's; the timer scheduler's jobs arrive the same way.

use std::sync::Arc;

use async_trait::async_trait;
use ferric_queue::{RunOutcome, Runner};
use ferric_store::{Job, MetadataStore};

use crate::dataplane::{DataPlane, Input, Invocation, LogType, Mode, Outcome, Payload, Target};
use crate::metrics::{FunctionLabels, Metrics};

pub struct AsyncRunner {
    pub plane: DataPlane,
    pub metrics: Arc<Metrics>,
}

fn line_of(job: &Job) -> FunctionLabels {
    FunctionLabels::new(&job.account_id, &job.service, &job.function, &job.qualifier)
}

#[async_trait]
impl Runner for AsyncRunner {
    async fn run(&self, job: &Job) -> RunOutcome {
        let invocation = Invocation {
            target: Target {
                account: job.account_id.clone(),
                service: job.service.clone(),
                function: job.function.clone(),
                qualifier: job.qualifier.clone(),
            },
            request_id: job.request_id.clone(),
            input: Input::Event(Payload::Bytes(job.payload.clone().into())),
            mode: Mode::Queued,
            log_type: LogType::None,
            span: None,
        };
        let failed = |error: String| RunOutcome { body: Vec::new(), error: Some(error) };
        match self.plane.invoke(invocation).await {
            Ok(Outcome::Finished(finished)) => {
                let response = finished.response;
                let error = response
                    .error
                    .map(|kind| format!("{}: {}", kind.header(), String::from_utf8_lossy(&response.body)));
                RunOutcome { body: response.body.to_vec(), error }
            }
            Ok(Outcome::Accepted) => failed("a queued invocation was accepted instead of run".to_string()),
            Err(e) => failed(describe_failure(job, e.0)),
        }
    }

    fn retried(&self, job: &Job) {
        self.metrics.retry(line_of(job));
    }

    fn dead_lettered(&self, job: &Job, status: ferric_store::JobStatus) {
        self.metrics.dead_letter(line_of(job), status);
    }
}

/// What a job records when it could not run. A qualifier deleted after the job was queued (a timer on an
/// alias that is gone, an event sent to a version since deleted) is said in so many words, with FC's
/// error code, so the record explains why nothing ran.
fn describe_failure(job: &Job, error: ferric_types::FcError) -> String {
    use ferric_types::ErrorCode;
    match error.code {
        ErrorCode::AliasNotFound | ErrorCode::VersionNotFound => format!(
            "{}: {}; this invocation was sent to qualifier '{}' of service '{}', which no longer exists",
            error.code.as_str(),
            error.message,
            job.qualifier,
            job.service
        ),
        _ => error.message,
    }
}

/// The timer scheduler's view of the trigger store: every timer trigger of every account.
pub struct StoredTimers {
    pub store: Arc<dyn MetadataStore>,
    pub metrics: Arc<Metrics>,
}

#[async_trait]
impl ferric_triggers::TimerSource for StoredTimers {
    fn fired(&self, timer: &ferric_triggers::Timer) {
        self.metrics.timer_fired(FunctionLabels::new(
            &timer.account,
            &timer.service,
            &timer.function,
            &timer.qualifier,
        ));
    }

    async fn timers(&self) -> Vec<ferric_triggers::Timer> {
        let triggers = match self.store.triggers_of_type(ferric_triggers::TriggerType::Timer).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read timer triggers");
                return Vec::new();
            }
        };
        triggers
            .into_iter()
            .filter_map(|(account, t)| {
                let config = ferric_triggers::TimerConfig::from_value(&t.spec.trigger_config).ok()?;
                Some(ferric_triggers::Timer {
                    account,
                    service: t.service,
                    function: t.function,
                    qualifier: t.spec.qualifier.clone().filter(|q| !q.is_empty()).unwrap_or_else(|| "LATEST".into()),
                    name: t.name,
                    config,
                })
            })
            .collect()
    }
}
