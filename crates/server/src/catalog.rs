//! The data plane's view of functions: resolved function versions and their HTTP trigger, cached so an
//! invocation does not read the database. Control-plane writes invalidate entries; a generation counter
//! keeps a lookup that raced with an invalidation from caching what it read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ferric_invoker::FunctionVersion;
use ferric_store::{ListQuery, MetadataStore};
use ferric_triggers::{HttpTriggerConfig, TriggerType};
use ferric_types::FcError;

use crate::error::ApiError;

type Key = (String, String, String);

/// A function ready to invoke, and its HTTP trigger if it has one.
pub struct Resolved {
    pub version: Arc<FunctionVersion>,
    pub http_trigger: Option<HttpTriggerConfig>,
}

#[derive(Default)]
pub struct Catalog {
    entries: RwLock<HashMap<Key, Arc<Resolved>>>,
    generation: AtomicU64,
}

impl Catalog {
    pub async fn resolve(
        &self,
        store: &dyn MetadataStore,
        code_root: &std::path::Path,
        account: &str,
        service: &str,
        function: &str,
    ) -> Result<Arc<Resolved>, ApiError> {
        let key = (account.to_string(), service.to_string(), function.to_string());
        if let Some(hit) = self.entries.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(hit.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let svc = store.get_service(account, service).await?.ok_or_else(|| FcError::service_not_found(service))?;
        let f = store
            .get_function(account, service, function)
            .await?
            .ok_or_else(|| FcError::function_not_found(service, function))?;
        let mut http_trigger = None;
        let triggers =
            store.list_triggers(account, service, function, ListQuery { limit: 100, ..Default::default() }).await?;
        for trigger in triggers.items {
            if trigger.spec.trigger_type == TriggerType::Http {
                http_trigger = HttpTriggerConfig::from_value(&trigger.spec.trigger_config).ok();
            }
        }
        let resolved = Arc::new(Resolved {
            version: Arc::new(FunctionVersion {
                key_cache: Default::default(),
                account_id: account.to_string(),
                service: service.to_string(),
                function: function.to_string(),
                qualifier: "LATEST".to_string(),
                code_dir: code_root.join(&f.code.checksum),
                code_checksum: f.code.checksum,
                spec: f.spec,
                log_project: svc.spec.log_config.project,
                log_store: svc.spec.log_config.logstore,
                internet_access: svc.spec.internet_access,
            }),
            http_trigger,
        });
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(key, resolved.clone());
        }
        Ok(resolved)
    }

    /// Forgets one function (its spec, code or triggers changed).
    pub fn invalidate_function(&self, account: &str, service: &str, function: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let key = (account.to_string(), service.to_string(), function.to_string());
        self.entries.write().unwrap_or_else(|p| p.into_inner()).remove(&key);
    }

    /// Forgets every function of a service (the service's settings reach each function's context).
    pub fn invalidate_service(&self, account: &str, service: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.write().unwrap_or_else(|p| p.into_inner()).retain(|(a, s, _), _| !(a == account && s == service));
    }
}
