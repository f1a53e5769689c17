//! The SQLite store: the single-node default.
//!
//! One writer connection serialises writes (SQLite allows one writer anyway, and a single connection keeps
//! its prepared-statement cache warm); readers come from a small pool so lists and gets never wait behind a
//! write (WAL). All SQLite work runs on tokio's blocking pool. `synchronous=NORMAL` in WAL mode keeps every
//! committed write across a process crash; only a power loss can drop the last transactions.

mod account;
mod custom_domains;
mod functions;
mod jobs;
mod layers;
mod logs;
mod paging;
mod provision;
mod schema;
mod services;
mod tags;
mod triggers;
mod versions;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ferric_types::async_config::{AsyncConfigRow, AsyncInvokeConfig};
use ferric_types::function::{CodeRef, Function, FunctionSpec};
use ferric_types::service::{Meta, Service, ServiceSpec};
use ferric_types::trigger::{Trigger, TriggerSpec, TriggerType};
use rusqlite::{Connection, OpenFlags};

use crate::metadata::{
    FunctionSearch, FunctionUpdate, Job, JobFilter, JobStatus, ListQuery, LogQuery, LogRecord, MetadataStore, Page,
    ServiceUpdate, StoreError, TriggerUpdate,
};

/// Readers kept open between calls; more may exist briefly under load.
const POOLED_READERS: usize = 4;

pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn db(step: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Database { step, source }
}

fn connect(path: &Path, flags: OpenFlags) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, flags).map_err(db("open database"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(db("set busy timeout"))?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(db("set synchronous"))?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db("enable foreign keys"))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let writer = connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        writer.pragma_update(None, "journal_mode", "WAL").map_err(db("enable WAL"))?;
        writer.execute_batch(schema::SCHEMA).map_err(db("create schema"))?;
        writer.execute_batch(schema::VERSIONS).map_err(db("create version schema"))?;
        writer.execute_batch(schema::PROVISION).map_err(db("create provision schema"))?;
        writer.execute_batch(schema::LAYERS).map_err(db("create layer schema"))?;
        jobs::migrate(&writer)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Runs `f` inside a write transaction on the blocking pool.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db("begin"))?;
            let out = f(&tx)?;
            tx.commit().map_err(db("commit"))?;
            Ok(out)
        })
        .await
        .map_err(|_| StoreError::WorkerStopped)?
    }

    /// Runs `f` on a pooled read connection on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => connect(&inner.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?,
            };
            let out = f(&conn);
            let mut readers = inner.readers.lock().unwrap_or_else(|p| p.into_inner());
            if readers.len() < POOLED_READERS {
                readers.push(conn);
            }
            out
        })
        .await
        .map_err(|_| StoreError::WorkerStopped)?
    }
}

/// A fresh identity for a new resource.
fn new_meta() -> Meta {
    let now = ferric_types::time::now_ms();
    Meta { id: uuid::Uuid::new_v4().to_string(), etag: new_etag(), created_ms: now, modified_ms: now }
}

fn new_etag() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Refuses a write whose `If-Match` names an older version.
fn check_etag(current: &str, if_match: Option<&str>) -> Result<(), StoreError> {
    match if_match {
        Some(expected) if expected.trim_matches('"') != current => {
            Err(ferric_types::FcError::precondition_failed().into())
        }
        _ => Ok(()),
    }
}

fn to_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Corrupt { what, source })
}

fn from_json<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Corrupt { what, source })
}

#[async_trait]
impl MetadataStore for SqliteStore {
    async fn create_service(&self, account: &str, name: &str, spec: ServiceSpec) -> Result<Service, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(move |tx| services::create(tx, &account, &name, spec)).await
    }

    async fn get_service(&self, account: &str, name: &str) -> Result<Option<Service>, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.read(move |c| services::get(c, &account, &name)).await
    }

    async fn list_services(&self, account: &str, query: ListQuery) -> Result<Page<Service>, StoreError> {
        let account = account.to_string();
        self.read(move |c| services::list(c, &account, &query)).await
    }

    async fn update_service(
        &self,
        account: &str,
        name: &str,
        if_match: Option<String>,
        update: ServiceUpdate,
    ) -> Result<Service, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(move |tx| services::update(tx, &account, &name, if_match.as_deref(), update)).await
    }

    async fn delete_service(&self, account: &str, name: &str, if_match: Option<String>) -> Result<(), StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(move |tx| services::delete(tx, &account, &name, if_match.as_deref())).await
    }

    async fn create_function(
        &self,
        account: &str,
        service: &str,
        name: &str,
        spec: FunctionSpec,
        code: CodeRef,
    ) -> Result<Function, StoreError> {
        let (account, service, name) = (account.to_string(), service.to_string(), name.to_string());
        self.write(move |tx| functions::create(tx, &account, &service, &name, spec, code)).await
    }

    async fn get_function(&self, account: &str, service: &str, name: &str) -> Result<Option<Function>, StoreError> {
        let (account, service, name) = (account.to_string(), service.to_string(), name.to_string());
        self.read(move |c| functions::get(c, &account, &service, &name)).await
    }

    async fn list_functions(
        &self,
        account: &str,
        service: &str,
        query: ListQuery,
    ) -> Result<Page<Function>, StoreError> {
        let (account, service) = (account.to_string(), service.to_string());
        self.read(move |c| functions::list(c, &account, &service, &query)).await
    }

    async fn search_functions(
        &self,
        account: &str,
        service: &str,
        search: FunctionSearch,
    ) -> Result<(Vec<Function>, u64), StoreError> {
        let (account, service) = (account.to_string(), service.to_string());
        self.read(move |c| functions::search(c, &account, &service, &search)).await
    }

    async fn update_function(
        &self,
        account: &str,
        service: &str,
        name: &str,
        if_match: Option<String>,
        update: FunctionUpdate,
        code: Option<CodeRef>,
    ) -> Result<(Function, Option<String>), StoreError> {
        let (account, service, name) = (account.to_string(), service.to_string(), name.to_string());
        self.write(move |tx| functions::update(tx, &account, &service, &name, if_match.as_deref(), update, code)).await
    }

    async fn delete_function(
        &self,
        account: &str,
        service: &str,
        name: &str,
        if_match: Option<String>,
    ) -> Result<Function, StoreError> {
        let (account, service, name) = (account.to_string(), service.to_string(), name.to_string());
        self.write(move |tx| functions::delete(tx, &account, &service, &name, if_match.as_deref())).await
    }

    async fn code_in_use(&self, checksum: &str) -> Result<bool, StoreError> {
        let checksum = checksum.to_string();
        self.read(move |c| functions::code_in_use(c, &checksum)).await
    }

    async fn append_logs(&self, records: Vec<LogRecord>) -> Result<(), StoreError> {
        self.write(move |tx| logs::append(tx, &records)).await
    }

    async fn query_logs(&self, account: &str, query: LogQuery) -> Result<Vec<LogRecord>, StoreError> {
        let account = account.to_string();
        self.read(move |c| logs::query(c, &account, &query)).await
    }

    async fn prune_logs(&self, before_ms: i64, keep_newest: u64, keep_bytes: u64) -> Result<u64, StoreError> {
        self.write(move |tx| logs::prune(tx, before_ms, keep_newest, keep_bytes)).await
    }

    async fn enqueue_job(&self, job: Job) -> Result<(), StoreError> {
        self.write(move |tx| jobs::enqueue(tx, &job)).await
    }

    async fn lease_jobs(&self, now_ms: i64, lease_until_ms: i64, limit: u32) -> Result<Vec<Job>, StoreError> {
        self.write(move |tx| jobs::lease(tx, now_ms, lease_until_ms, limit)).await
    }

    async fn finish_job(
        &self,
        id: &str,
        status: JobStatus,
        result: Option<Vec<u8>>,
        error: Option<String>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        self.write(move |tx| jobs::finish(tx, &id, status, result.as_deref(), error.as_deref(), now_ms)).await
    }

    async fn renew_job_lease(&self, id: &str, attempts: u32, lease_until_ms: i64) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.write(move |tx| jobs::renew_lease(tx, &id, attempts, lease_until_ms)).await
    }

    async fn requeue_running(&self) -> Result<u64, StoreError> {
        self.write(jobs::requeue_running).await
    }

    async fn retry_job(&self, id: &str, available_ms: i64, error: String) -> Result<(), StoreError> {
        let id = id.to_string();
        self.write(move |tx| jobs::retry(tx, &id, available_ms, &error)).await
    }

    async fn get_job(&self, account: &str, id: &str) -> Result<Option<Job>, StoreError> {
        let (account, id) = (account.to_string(), id.to_string());
        self.read(move |c| jobs::get(c, &account, &id)).await
    }

    async fn list_jobs(
        &self,
        account: &str,
        service: &str,
        function: &str,
        filter: JobFilter,
        next_token: Option<String>,
        limit: u32,
    ) -> Result<Page<Job>, StoreError> {
        let (account, service, function) = (account.to_string(), service.to_string(), function.to_string());
        self.read(move |c| jobs::list(c, &account, &service, &function, &filter, next_token.as_deref(), limit)).await
    }

    async fn redrive_job(&self, account: &str, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let (account, id) = (account.to_string(), id.to_string());
        self.write(move |tx| jobs::redrive(tx, &account, &id, now_ms)).await
    }

    async fn prune_jobs(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.write(move |tx| jobs::prune(tx, before_ms)).await
    }

    async fn queue_depth(&self, limit: u32) -> Result<Vec<crate::QueueDepth>, StoreError> {
        self.read(move |c| jobs::depth(c, limit)).await
    }

    async fn stop_job(&self, account: &str, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let (account, id) = (account.to_string(), id.to_string());
        self.write(move |tx| jobs::stop(tx, &account, &id, now_ms)).await
    }

    async fn get_async_config(
        &self,
        account: &str,
        service: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<Option<AsyncConfigRow>, StoreError> {
        let key = [account, service, function, qualifier].map(str::to_string);
        self.read(move |c| jobs::get_config(c, [&key[0], &key[1], &key[2], &key[3]])).await
    }

    async fn list_async_configs(
        &self,
        account: &str,
        service: &str,
        function: &str,
        next_token: Option<String>,
        limit: u32,
    ) -> Result<Page<(String, AsyncConfigRow)>, StoreError> {
        let key = [account, service, function].map(str::to_string);
        self.read(move |c| jobs::list_configs(c, [&key[0], &key[1], &key[2]], next_token.as_deref(), limit)).await
    }

    async fn put_async_config(
        &self,
        account: &str,
        service: &str,
        function: &str,
        qualifier: &str,
        config: AsyncInvokeConfig,
    ) -> Result<AsyncConfigRow, StoreError> {
        let key = [account, service, function, qualifier].map(str::to_string);
        let now = ferric_types::time::now_ms();
        self.write(move |tx| jobs::put_config(tx, [&key[0], &key[1], &key[2], &key[3]], &config, now)).await
    }

    async fn delete_async_config(
        &self,
        account: &str,
        service: &str,
        function: &str,
        qualifier: &str,
    ) -> Result<bool, StoreError> {
        let key = [account, service, function, qualifier].map(str::to_string);
        self.write(move |tx| jobs::delete_config(tx, [&key[0], &key[1], &key[2], &key[3]])).await
    }

    async fn referenced_code(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        self.read(functions::referenced_code).await
    }

    async fn get_form_config(&self, account: &str, service: &str, name: &str) -> Result<Option<String>, StoreError> {
        let (account, service, name) = (account.to_string(), service.to_string(), name.to_string());
        self.read(move |c| functions::get_form_config(c, &account, &service, &name)).await
    }

    async fn set_form_config(
        &self,
        account: &str,
        service: &str,
        name: &str,
        config: String,
    ) -> Result<(), StoreError> {
        let (account, service, name) = (account.to_string(), service.to_string(), name.to_string());
        self.write(move |tx| functions::set_form_config(tx, &account, &service, &name, &config)).await
    }

    async fn create_trigger(
        &self,
        account: &str,
        service: &str,
        function: &str,
        name: &str,
        spec: TriggerSpec,
    ) -> Result<Trigger, StoreError> {
        let scope = triggers::Scope::new(account, service, function);
        let name = name.to_string();
        self.write(move |tx| triggers::create(tx, &scope, &name, spec)).await
    }

    async fn get_trigger(
        &self,
        account: &str,
        service: &str,
        function: &str,
        name: &str,
    ) -> Result<Option<Trigger>, StoreError> {
        let scope = triggers::Scope::new(account, service, function);
        let name = name.to_string();
        self.read(move |c| triggers::get(c, &scope, &name)).await
    }

    async fn list_triggers(
        &self,
        account: &str,
        service: &str,
        function: &str,
        query: ListQuery,
    ) -> Result<Page<Trigger>, StoreError> {
        let scope = triggers::Scope::new(account, service, function);
        self.read(move |c| triggers::list(c, &scope, &query)).await
    }

    async fn update_trigger(
        &self,
        account: &str,
        service: &str,
        function: &str,
        name: &str,
        if_match: Option<String>,
        update: TriggerUpdate,
    ) -> Result<Trigger, StoreError> {
        let scope = triggers::Scope::new(account, service, function);
        let name = name.to_string();
        self.write(move |tx| triggers::update(tx, &scope, &name, if_match.as_deref(), update)).await
    }

    async fn triggers_of_type(&self, trigger_type: TriggerType) -> Result<Vec<(String, Trigger)>, StoreError> {
        self.read(move |c| triggers::of_type(c, trigger_type.as_str())).await
    }

    async fn delete_trigger(
        &self,
        account: &str,
        service: &str,
        function: &str,
        name: &str,
        if_match: Option<String>,
    ) -> Result<(), StoreError> {
        let scope = triggers::Scope::new(account, service, function);
        let name = name.to_string();
        self.write(move |tx| triggers::delete(tx, &scope, &name, if_match.as_deref())).await
    }
}
