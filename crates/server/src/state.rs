//! Shared server state. Cloning [`AppState`] is shallow: one `Arc` increment.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use ferric_store::code::{CodeError, CodeStore};
use ferric_store::StoreError;
use thiserror::Error;

use crate::catalog::Catalog;
use crate::config::ServerConfig;
use crate::control::Control;
use crate::dataplane::DataPlane;
use crate::logsink::LogSink;

#[derive(Debug, Error)]
pub enum StateError {
    #[error("cannot create data directory {path}")]
    CreateDataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the metadata store")]
    OpenStore(#[source] StoreError),
    #[error("cannot open the code store")]
    OpenCode(#[source] CodeError),
    #[error("cannot start the invoker")]
    Invoker(#[source] ferric_invoker::InvokerError),
    #[error("cannot read or create the URL signing key {path}")]
    UrlKey {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// The store, the code store and the catalog are not here: they are private parts of [`Control`] and
/// [`DataPlane`], so routes reach them only through those.
pub(crate) struct Inner {
    pub config: ServerConfig,
    pub control: Control,
    pub plane: DataPlane,
    /// Turns true when the server starts shutting down, so endless responses (log follows) end.
    pub closing: tokio::sync::watch::Sender<bool>,
    /// The address the server listens on, known once `run` starts.
    pub local_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// What the connection limits did, for `/metrics`.
    pub conn_stats: Arc<crate::conn::ConnStats>,
    /// The web console's signed-in sessions.
    pub sessions: crate::console::Sessions,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    /// Opens (creating as needed) the store, the code directory and the URL key in the data directory, and
    /// starts the invoker, the queue, the timers and the log writer. Must run inside a tokio runtime.
    pub fn open(config: ServerConfig) -> Result<AppState, StateError> {
        let dir = &config.data_dir;
        std::fs::create_dir_all(dir)
            .map_err(|source| StateError::CreateDataDir { path: dir.display().to_string(), source })?;
        let store = ferric_store::open(config.store_url.as_deref(), dir).map_err(StateError::OpenStore)?;
        let code = CodeStore::open(dir.join("code"), config.code_limits).map_err(StateError::OpenCode)?;
        let url_key = load_or_create_key(&dir.join("url-signing.key"))?;
        let invoker = ferric_invoker::Invoker::new(config.invoker.clone()).map_err(StateError::Invoker)?;
        let logs = LogSink::start(store.clone(), config.log_retention);
        let catalog = Arc::new(Catalog::default());
        // The queue accepts jobs at once; its workers start once the data plane that runs them exists.
        let queue = ferric_queue::Queue::new(store.clone());
        let metrics = Arc::new(crate::metrics::Metrics::new(config.metrics_max_functions));
        metrics.attach(invoker.clone(), queue.clone());
        let timers = crate::runner::StoredTimers { store: store.clone(), metrics: metrics.clone() };
        let scheduler = ferric_triggers::Scheduler::start(Arc::new(timers), queue.clone());
        let code_root = code.root().to_path_buf();
        let domains =
            Arc::new(crate::domains::DomainTable::new(crate::domains::api_hosts(config.public_url.as_deref())));
        let control = Control::new(crate::control::Parts {
            store: store.clone(),
            code,
            url_key,
            invoker: invoker.clone(),
            catalog: catalog.clone(),
            queue: queue.clone(),
            scheduler,
            logs: logs.clone(),
            domains: domains.clone(),
        });
        // Provisioned instances of stored configs start again, off the start-up path.
        let starting = control.clone();
        tokio::spawn(async move { crate::control::provision::start(&starting).await });
        let plane = DataPlane::new(crate::dataplane::Parts {
            store,
            code_root,
            catalog,
            invoker,
            logs,
            control: control.clone(),
            max_sync_payload: config.max_sync_payload_bytes,
            max_async_payload: config.max_async_payload_bytes,
            domains,
            metrics: metrics.clone(),
        });
        let runner = crate::runner::AsyncRunner { plane: plane.clone(), metrics: metrics.clone() };
        queue.run(Arc::new(runner), config.queue.clone());
        Ok(AppState {
            inner: Arc::new(Inner {
                config,
                control,
                plane,
                closing: tokio::sync::watch::channel(false).0,
                local_addr: std::sync::OnceLock::new(),
                conn_stats: Arc::default(),
                sessions: crate::console::Sessions::default(),
                metrics,
            }),
        })
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    pub(crate) fn control(&self) -> &Control {
        &self.inner.control
    }

    pub(crate) fn plane(&self) -> &DataPlane {
        &self.inner.plane
    }

    /// The server's metrics: `/metrics` and the console's per-function history.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.inner.metrics
    }
}

fn load_or_create_key(path: &Path) -> Result<[u8; 32], StateError> {
    let err = |source| StateError::UrlKey { path: path.display().to_string(), source };
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() == 32 => {
            let mut key = [0u8; 32];
            key.copy_from_slice(&bytes);
            return Ok(key);
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| err(std::io::Error::other(e.to_string())))?;
    let tmp = path.with_extension("tmp");
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(err)?;
    file.write_all(&key).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)?;
    Ok(key)
}
