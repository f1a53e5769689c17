//! The metadata trait the server consumes, and what travels through it.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use ferric_types::async_config::{AsyncConfigRow, AsyncInvokeConfig};
use ferric_types::function::{CodeRef, Function, FunctionSpec};
use ferric_types::service::{Service, ServiceSpec};
use ferric_types::trigger::{Trigger, TriggerSpec, TriggerType};
use ferric_types::FcError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The request cannot be carried out as asked (not found, exists, not empty, stale ETag, invalid patch).
    #[error(transparent)]
    Rejected(#[from] FcError),
    #[error("database error in {step}")]
    Database {
        step: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("stored {what} is not valid JSON")]
    Corrupt {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("store worker stopped")]
    WorkerStopped,
    #[error("unsupported store url '{url}'; this build supports sqlite://PATH")]
    UnsupportedUrl { url: String },
}

/// A page request of a list operation, already validated by the caller.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub limit: u32,
    /// Opaque to clients: the name of the first item of the next page.
    pub next_token: Option<String>,
    pub prefix: Option<String>,
    /// Inclusive; ignored when `next_token` is given.
    pub start_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Absent on the last page.
    pub next_token: Option<String>,
}

/// The form API's listing: a substring filter with offset paging and a total count.
#[derive(Debug, Clone, Default)]
pub struct FunctionSearch {
    pub name_contains: Option<String>,
    pub offset: u64,
    pub limit: u32,
}

/// One invocation's log, as kept for `/ferric/v1/logs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Assigned by the store; increases with insertion order.
    pub id: i64,
    pub account_id: String,
    pub service: String,
    pub function: String,
    pub request_id: String,
    pub time_ms: i64,
    pub content: Vec<u8>,
}

/// Which logs to read, newest-first paging by id.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub service: Option<String>,
    pub function: Option<String>,
    pub request_id: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Only records with a smaller id (the previous page's last id).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// Which of one function's jobs a list returns: all when both are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub status: Option<JobStatus>,
    /// The qualifier the job was enqueued for, as the caller wrote it (an alias name, a version id, LATEST).
    pub qualifier: Option<String>,
}

/// Where an async invocation is in its life (FC's stateful async invocation statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Enqueued,
    Running,
    Succeeded,
    Failed,
    Stopped,
    Expired,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Enqueued => "Enqueued",
            JobStatus::Running => "Running",
            JobStatus::Succeeded => "Succeeded",
            JobStatus::Failed => "Failed",
            JobStatus::Stopped => "Stopped",
            JobStatus::Expired => "Expired",
        }
    }

    pub fn parse(text: &str) -> Option<JobStatus> {
        [
            JobStatus::Enqueued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Stopped,
            JobStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// How many async invocations of one function line wait to run (`enqueued`, including those backing off
/// before a retry) or are running now: the queue's depth, for metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    pub account_id: String,
    pub service: String,
    pub function: String,
    /// As the invocation named it (`LATEST`, a version or an alias).
    pub qualifier: String,
    pub enqueued: u64,
    pub running: u64,
}

/// One accepted async invocation. It is on disk before the caller hears 202.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The stateful invocation id: the caller's, or else the request id the caller got.
    pub id: String,
    /// The request id of the InvokeFunction call that enqueued the job (FC reports it apart from the
    /// stateful id); also the request id the function sees on every run of the job.
    pub request_id: String,
    pub account_id: String,
    pub service: String,
    pub function: String,
    pub qualifier: String,
    pub payload: Vec<u8>,
    pub status: JobStatus,
    /// Runs started so far (a re-leased run after a crash counts).
    pub attempts: u32,
    pub created_ms: i64,
    /// Not run before this time (backoff).
    pub available_ms: i64,
    /// A running job whose lease passed is taken again: its worker died.
    pub lease_until_ms: i64,
    pub started_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    pub result: Option<Vec<u8>>,
    pub error: Option<String>,
}

/// Applied to the stored spec inside the write transaction, so read-modify-write is atomic.
pub type ServiceUpdate = Box<dyn FnOnce(&mut ServiceSpec) -> Result<(), FcError> + Send>;
pub type FunctionUpdate = Box<dyn FnOnce(&mut FunctionSpec) -> Result<(), FcError> + Send>;
pub type TriggerUpdate = Box<dyn FnOnce(&mut TriggerSpec) -> Result<(), FcError> + Send>;

/// Every resource is scoped by the account that owns it; no method reaches across accounts.
#[async_trait]
pub trait MetadataStore:
    crate::versions::VersionStore
    + crate::account::AccountStore
    + crate::provision::ProvisionStore
    + crate::layers::LayerStore
    + Send
    + Sync
{
    async fn create_service(&self, account: &str, name: &str, spec: ServiceSpec) -> Result<Service, StoreError>;
    async fn get_service(&self, account: &str, name: &str) -> Result<Option<Service>, StoreError>;
    async fn list_services(&self, account: &str, query: ListQuery) -> Result<Page<Service>, StoreError>;
    async fn update_service(
        &self,
        account: &str,
        name: &str,
        if_match: Option<String>,
        update: ServiceUpdate,
    ) -> Result<Service, StoreError>;
    /// Refuses with `ServiceNotEmpty` while functions, versions or aliases exist.
    async fn delete_service(&self, account: &str, name: &str, if_match: Option<String>) -> Result<(), StoreError>;

    async fn create_function(
        &self,
        account: &str,
        service: &str,
        name: &str,
        spec: FunctionSpec,
        code: CodeRef,
    ) -> Result<Function, StoreError>;
    async fn get_function(&self, account: &str, service: &str, name: &str) -> Result<Option<Function>, StoreError>;
    async fn list_functions(
        &self,
        account: &str,
        service: &str,
        query: ListQuery,
    ) -> Result<Page<Function>, StoreError>;
    async fn search_functions(
        &self,
        account: &str,
        service: &str,
        search: FunctionSearch,
    ) -> Result<(Vec<Function>, u64), StoreError>;
    /// Returns the updated function and, when the code changed, the checksum it replaced.
    async fn update_function(
        &self,
        account: &str,
        service: &str,
        name: &str,
        if_match: Option<String>,
        update: FunctionUpdate,
        code: Option<CodeRef>,
    ) -> Result<(Function, Option<String>), StoreError>;
    /// Refuses with `FunctionNotEmpty` while triggers exist; returns the deleted function.
    async fn delete_function(
        &self,
        account: &str,
        service: &str,
        name: &str,
        if_match: Option<String>,
    ) -> Result<Function, StoreError>;
    /// Whether any function or published version of any account still points at this package.
    async fn code_in_use(&self, checksum: &str) -> Result<bool, StoreError>;
    /// Stores invocation logs (ids are assigned by the store).
    async fn append_logs(&self, records: Vec<LogRecord>) -> Result<(), StoreError>;
    /// Reads one account's logs, newest first.
    async fn query_logs(&self, account: &str, query: LogQuery) -> Result<Vec<LogRecord>, StoreError>;
    /// Drops logs older than `before_ms`, all but the newest `keep_newest`, and the oldest beyond
    /// `keep_bytes` of content; returns how many went.
    async fn prune_logs(&self, before_ms: i64, keep_newest: u64, keep_bytes: u64) -> Result<u64, StoreError>;

    /// Stores a new async invocation; returns once it is committed.
    async fn enqueue_job(&self, job: Job) -> Result<(), StoreError>;
    /// Takes up to `limit` runnable jobs (due, or running with an expired lease), marks them running until
    /// `lease_until_ms`, and counts the attempt.
    async fn lease_jobs(&self, now_ms: i64, lease_until_ms: i64, limit: u32) -> Result<Vec<Job>, StoreError>;
    /// Ends a job (succeeded, failed, expired).
    async fn finish_job(
        &self,
        id: &str,
        status: JobStatus,
        result: Option<Vec<u8>>,
        error: Option<String>,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    /// Extends a running job's lease to `lease_until_ms`, only while it is still the run that leased it
    /// (`attempts` unchanged); returns whether it was.
    async fn renew_job_lease(&self, id: &str, attempts: u32, lease_until_ms: i64) -> Result<bool, StoreError>;
    /// Queues again every job left running: at start, their worker was the process that died.
    async fn requeue_running(&self) -> Result<u64, StoreError>;
    /// Puts a failed run back in the queue to run again at `available_ms`.
    async fn retry_job(&self, id: &str, available_ms: i64, error: String) -> Result<(), StoreError>;
    async fn get_job(&self, account: &str, id: &str) -> Result<Option<Job>, StoreError>;
    /// One function's jobs, newest first (by creation, then id), optionally by status and qualifier.
    /// `next_token` is opaque to clients; a malformed one is `Rejected`.
    async fn list_jobs(
        &self,
        account: &str,
        service: &str,
        function: &str,
        filter: JobFilter,
        next_token: Option<String>,
        limit: u32,
    ) -> Result<Page<Job>, StoreError>;
    /// Queues a finished-but-unsuccessful job (failed, expired, stopped) again as if new; returns whether it was.
    async fn redrive_job(&self, account: &str, id: &str, now_ms: i64) -> Result<bool, StoreError>;
    /// Deletes finished jobs (succeeded, failed, expired, stopped) that ended before `before_ms`.
    async fn prune_jobs(&self, before_ms: i64) -> Result<u64, StoreError>;
    /// The queue's depth per function line that has waiting or running jobs, at most `limit` lines.
    async fn queue_depth(&self, limit: u32) -> Result<Vec<QueueDepth>, StoreError>;
    /// Stops a job that has not run yet; returns whether it was stopped.
    async fn stop_job(&self, account: &str, id: &str, now_ms: i64) -> Result<bool, StoreError>;

    /// A function's async-invoke-config, per qualifier.
    async fn get_async_config(
        &self,
        account: &str,
        service: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<AsyncConfigRow>, StoreError>;
    /// A function's async-invoke-configs of every qualifier, ordered by qualifier; `next_token` is the
    /// last qualifier of the previous page.
    async fn list_async_configs(
        &self,
        account: &str,
        service: &str,
        function: &str,
        next_token: Option<String>,
        limit: u32,
    ) -> Result<Page<(String, AsyncConfigRow)>, StoreError>;
    async fn put_async_config(
        &self,
        account: &str,
        service: &str,
        function: &str,
        qualifier: &str,
        config: AsyncInvokeConfig,
    ) -> Result<AsyncConfigRow, StoreError>;
    async fn delete_async_config(
        &self,
        account: &str,
        service: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<bool, StoreError>;

    /// Every package some function or version points at, for sweeping packages a crash left unreferenced.
    async fn referenced_code(&self) -> Result<std::collections::HashSet<String>, StoreError>;

    /// The form API's opaque per-function configuration text.
    async fn get_form_config(&self, account: &str, service: &str, name: &str) -> Result<Option<String>, StoreError>;
    async fn set_form_config(&self, account: &str, service: &str, name: &str, config: String)
        -> Result<(), StoreError>;

    async fn create_trigger(
        &self,
        account: &str,
        service: &str,
        function: &str,
        name: &str,
        spec: TriggerSpec,
    ) -> Result<Trigger, StoreError>;
    async fn get_trigger(
        &self,
        account: &str,
        service: &str,
        function: &str,
        name: &str,
    ) -> Result<Option<Trigger>, StoreError>;
    async fn list_triggers(
        &self,
        account: &str,
        service: &str,
        function: &str,
        query: ListQuery,
    ) -> Result<Page<Trigger>, StoreError>;
    async fn update_trigger(
        &self,
        account: &str,
        service: &str,
        function: &str,
        name: &str,
        if_match: Option<String>,
        update: TriggerUpdate,
    ) -> Result<Trigger, StoreError>;
    /// Every trigger of one type in every account, for the timer scheduler: (account, trigger).
    async fn triggers_of_type(&self, trigger_type: TriggerType) -> Result<Vec<(String, Trigger)>, StoreError>;
    async fn delete_trigger(
        &self,
        account: &str,
        service: &str,
        function: &str,
        name: &str,
        if_match: Option<String>,
    ) -> Result<(), StoreError>;
}

/// Opens the store a URL names: `sqlite://PATH`, or the default `ferric.db` in the data directory.
pub fn open(url: Option<&str>, data_dir: &Path) -> Result<Arc<dyn MetadataStore>, StoreError> {
    match url {
        None => Ok(Arc::new(crate::sqlite::SqliteStore::open(&data_dir.join("ferric.db"))?)),
        Some(url) => match url.strip_prefix("sqlite://") {
            Some(path) => Ok(Arc::new(crate::sqlite::SqliteStore::open(Path::new(path))?)),
            None => Err(StoreError::UnsupportedUrl { url: url.to_string() }),
        },
    }
}
