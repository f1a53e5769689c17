//! Server configuration, read in one place (the CLI) and handed in whole.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use ferric_invoker::InvokerConfig;
use ferric_store::code::CodeLimits;

use crate::logsink::Retention;

/// One access key and the account it acts for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessKey {
    pub account_id: String,
    pub id: String,
    pub secret: String,
}

/// Access keys by id. The first key's account is the default account (the form API's owner).
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: HashMap<String, AccessKey>,
    default_account: Option<String>,
}

impl Keyring {
    pub fn new(keys: impl IntoIterator<Item = AccessKey>) -> Keyring {
        let mut ring = Keyring::default();
        for key in keys {
            ring.default_account.get_or_insert_with(|| key.account_id.clone());
            ring.keys.insert(key.id.clone(), key);
        }
        ring
    }

    pub fn get(&self, id: &str) -> Option<&AccessKey> {
        self.keys.get(id)
    }

    pub fn default_account(&self) -> Option<&str> {
        self.default_account.as_deref()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    /// `sqlite://PATH`; `None` means `ferric.db` in the data directory.
    pub store_url: Option<String>,
    pub keyring: Keyring,
    pub code_limits: CodeLimits,
    /// Largest JSON request body outside code uploads.
    pub max_body_bytes: usize,
    /// Allowed clock difference between a request's `Date` and the server.
    pub max_clock_skew: Duration,
    /// Lifetime of the download URL GetFunctionCode returns.
    pub code_url_ttl: Duration,
    /// The FC service that holds the form API's functions, in the default account.
    pub form_service: String,
    /// The base URL clients reach this server at (`http://host:port`), for URLs the server hands out.
    /// `None`: derived from the request's Host header and the listening port.
    pub public_url: Option<String>,
    pub invoker: InvokerConfig,
    /// Largest synchronous invocation request and response payload (FC: 32 MB).
    pub max_sync_payload_bytes: usize,
    /// Largest asynchronous invocation payload (FC: 128 KB).
    pub max_async_payload_bytes: usize,
    pub log_retention: Retention,
    pub queue: ferric_queue::QueueConfig,
    /// Client timeouts, the connection cap and request-head bounds.
    pub connections: crate::conn::ConnLimits,
    /// Whether every request is logged on the `ferric::access` target.
    pub access_log: bool,
    /// The bearer token `/metrics` requires; `None` serves it to loopback callers only.
    pub metrics_token: Option<String>,
    /// Function label sets `/metrics` admits before counting new ones in the overflow series.
    pub metrics_max_functions: usize,
}

impl ServerConfig {
    pub fn new(data_dir: PathBuf, keyring: Keyring) -> ServerConfig {
        ServerConfig {
            data_dir: data_dir.clone(),
            store_url: None,
            keyring,
            code_limits: CodeLimits::default(),
            max_body_bytes: 1024 * 1024,
            max_clock_skew: Duration::from_secs(15 * 60),
            code_url_ttl: Duration::from_secs(10 * 60),
            form_service: "default".to_string(),
            public_url: None,
            invoker: InvokerConfig::new(&data_dir),
            max_sync_payload_bytes: 32 * 1024 * 1024,
            max_async_payload_bytes: 128 * 1024,
            log_retention: Retention::default(),
            queue: ferric_queue::QueueConfig::default(),
            connections: crate::conn::ConnLimits::default(),
            access_log: true,
            metrics_token: None,
            metrics_max_functions: crate::metrics::DEFAULT_MAX_FUNCTIONS,
        }
    }

    /// A create/update function body carries the zip as base64 (4 bytes per 3) plus the JSON around it.
    pub fn max_code_body_bytes(&self) -> usize {
        let zip = usize::try_from(self.code_limits.max_zip_bytes).unwrap_or(usize::MAX);
        zip.saturating_mul(4).div_ceil(3).saturating_add(self.max_body_bytes)
    }
}
