//! The queue's [`Runner`]: runs an async invocation through the catalog and the invoker, as a sync
//! invocation would run, and keeps its log. Retries and destinations are the queue's.

use std::sync::Arc;

use async_trait::async_trait;
use ferric_queue::{RunOutcome, Runner};
use ferric_store::{Job, MetadataStore};

use crate::catalog::Catalog;
use crate::logsink::LogSink;

pub struct AsyncRunner {
    pub store: Arc<dyn MetadataStore>,
    pub catalog: Arc<Catalog>,
    pub invoker: ferric_invoker::Invoker,
    pub logs: LogSink,
    pub code_root: std::path::PathBuf,
}

#[async_trait]
impl Runner for AsyncRunner {
    async fn run(&self, job: &Job) -> RunOutcome {
        let failed = |error: String| RunOutcome { body: Vec::new(), error: Some(error) };
        let resolved = match self
            .catalog
            .resolve(self.store.as_ref(), &self.code_root, &job.account_id, &job.service, &job.function)
            .await
        {
            Ok(r) => r,
            Err(e) => return failed(e.0.message),
        };
        let version = resolved.version.clone();
        let request =
            ferric_invoker::Request { request_id: job.id.clone(), payload: job.payload.clone().into(), http: None };
        match self.invoker.invoke(version.clone(), request).await {
            Ok(outcome) => {
                crate::routes::keep_log(&self.logs, &version, &job.id, outcome.log);
                let error =
                    outcome.error.map(|kind| format!("{}: {}", kind.header(), String::from_utf8_lossy(&outcome.body)));
                RunOutcome { body: outcome.body.to_vec(), error }
            }
            Err(e) => failed(e.to_string()),
        }
    }
}

/// The timer scheduler's view of the trigger store: every timer trigger of every account.
pub struct StoredTimers {
    pub store: Arc<dyn MetadataStore>,
}

#[async_trait]
impl ferric_triggers::TimerSource for StoredTimers {
    async fn timers(&self) -> Vec<ferric_triggers::Timer> {
        let triggers = match self.store.triggers_of_type(ferric_triggers::TriggerType::Timer.as_str()).await {
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
