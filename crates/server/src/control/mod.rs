//! The control plane: every write to services, functions, triggers, versions, aliases, async configs and the form API's
//! functions, with the rules each obeys, the store calls that carry it out and the cache invalidation it
//! implies. Routes parse a request into arguments, call one function here and render its answer; they
//! never see the store or the catalog, because only [`Control`] (whose parts are private to this module)
//! holds them. Reads go through here too, so no route needs the store.
//!
//! Layout:
//! - `code`: code packages: decoding, bounded uploads, garbage collection, the signed download URL.
//! - `services`, `functions`, `triggers`: the FC resources.
//! - `versions`, `aliases`: published snapshots of a service and the names that route to them; reads
//!   by qualifier (`LATEST`, a version id, an alias).
//! - `async_config`: async-invoke-config; `invocations`: stateful async invocations (accept, stop, redrive).
//! - `form`: the form API's own service and per-function config text.
//! - `logs`: reading invocation logs, listed and followed.
//! - `layers`: layer versions (publish, read, list, delete, ACL) and the check of a function's `layers`.
//! - `custom_domains`: custom domains and the Host table they feed; `tags`: service tags.
//! - `provision`: provision and on-demand configs (acted on by the invoker) and the instance list.

pub mod aliases;
pub mod async_config;
pub mod code;
pub mod custom_domains;
pub mod form;
pub mod functions;
pub mod invocations;
pub mod layers;
pub mod logs;
pub mod provision;
pub mod services;
pub mod tags;
pub mod triggers;
pub mod versions;

use std::sync::Arc;

use ferric_store::code::CodeStore;
use ferric_store::MetadataStore;
use tokio::sync::{RwLock, Semaphore};

pub use code::ZipInput;

use crate::catalog::Catalog;
use crate::logsink::LogSink;

/// The control plane's handle on shared state. Cloning is shallow. Its parts are reachable only from
/// this module and its children.
#[derive(Clone)]
pub struct Control {
    inner: Arc<Inner>,
}

/// What the server hands the control plane when it opens.
pub(crate) struct Parts {
    pub store: Arc<dyn MetadataStore>,
    pub code: CodeStore,
    /// Signs the download URLs GetFunctionCode hands out; private to this data directory.
    pub url_key: [u8; 32],
    pub invoker: ferric_invoker::Invoker,
    pub catalog: Arc<Catalog>,
    pub queue: ferric_queue::Queue,
    pub scheduler: ferric_triggers::Scheduler,
    pub logs: LogSink,
    /// The Host routing table, dropped on every custom domain write.
    pub domains: Arc<crate::domains::DomainTable>,
}

struct Inner {
    parts: Parts,
    /// Uploads hold it shared from package write to row insert; garbage collection holds it exclusively
    /// between "no function uses this package" and removing it, so a package is never removed under a
    /// function that was just created with it.
    code_gc: RwLock<()>,
    /// Bounds how many code packages are decoded and extracted at once (each may be 100 MiB).
    code_uploads: Semaphore,
}

impl Control {
    pub(crate) fn new(parts: Parts) -> Control {
        Control { inner: Arc::new(Inner { parts, code_gc: RwLock::new(()), code_uploads: Semaphore::new(2) }) }
    }

    fn store(&self) -> &dyn MetadataStore {
        self.inner.parts.store.as_ref()
    }

    fn parts(&self) -> &Parts {
        &self.inner.parts
    }

    /// A function's spec, code or triggers changed (or it is gone): the data plane forgets what it cached
    /// and, with `retire`, instances of older versions drain.
    fn function_changed(&self, account: &str, service: &str, function: &str, retire: bool) {
        self.parts().catalog.invalidate_function(account, service, function);
        if retire {
            self.parts().invoker.retire(account, service, function);
        }
    }

    /// A trigger was created, changed or deleted: timers are re-read at once.
    fn triggers_changed(&self, account: &str, service: &str, function: &str) {
        self.function_changed(account, service, function, false);
        self.parts().scheduler.reload();
    }

    /// A service's settings changed or it is gone.
    fn service_changed(&self, account: &str, service: &str) {
        self.parts().catalog.invalidate_service(account, service);
    }
}

/// One function of one account, its names already checked at the edge.
#[derive(Debug, Clone)]
pub struct FunctionRef {
    pub account: String,
    pub service: String,
    pub function: String,
}
