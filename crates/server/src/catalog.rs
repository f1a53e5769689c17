//! The data plane's view of functions: resolved function versions and their HTTP trigger, cached so an
//! invocation does not read the database. Entries are keyed by the published version they run (`0` for
//! `LATEST`); aliases are cached apart and resolved to a version per request, by their weights, so an
//! alias update changes routing at once without touching the versions' entries (or their pools).
//! Control-plane writes invalidate entries; a generation counter keeps a lookup that raced with an
//! invalidation from caching what it read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ferric_invoker::FunctionVersion;
use ferric_store::{ListQuery, MetadataStore};
use ferric_triggers::{HttpTriggerConfig, TriggerType};
use ferric_types::alias::AliasSpec;
use ferric_types::function::Function;
use ferric_types::service::Service;
use ferric_types::version::Qualifier;
use ferric_types::FcError;

use crate::error::ApiError;

/// `LATEST` in a key: published version ids start at 1.
const LATEST: u64 = 0;

type Key = (String, String, String, u64);
type AliasKey = (String, String, String);

/// A function ready to invoke, and its HTTP trigger if it has one.
pub struct Resolved {
    pub version: Arc<FunctionVersion>,
    pub http_trigger: Option<HttpTriggerConfig>,
    /// The service's Jaeger collector (`tracingConfig`), for `context.tracing.jaegerEndpoint`.
    pub jaeger_endpoint: Option<String>,
}

#[derive(Default)]
pub struct Catalog {
    entries: RwLock<HashMap<Key, Arc<Resolved>>>,
    aliases: RwLock<HashMap<AliasKey, Arc<AliasSpec>>>,
    generation: AtomicU64,
}

/// A uniform draw in `[0, 1)` for weighted alias routing.
fn draw() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

impl Catalog {
    #[allow(clippy::too_many_arguments)]
    pub async fn resolve(
        &self,
        store: &dyn MetadataStore,
        code_root: &std::path::Path,
        account: &str,
        service: &str,
        function: &str,
        qualifier: &Qualifier,
    ) -> Result<Arc<Resolved>, ApiError> {
        let version = match qualifier {
            Qualifier::Latest => LATEST,
            Qualifier::Version(id) => *id,
            Qualifier::Alias(alias) => {
                let spec = self.alias(store, account, service, alias).await?;
                spec.pick(draw()).ok_or_else(FcError::internal)?
            }
        };
        let key = (account.to_string(), service.to_string(), function.to_string(), version);
        if let Some(hit) = self.entries.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(hit.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let (svc, f) = load(store, account, service, function, version).await?;
        let mut http_trigger = None;
        let triggers =
            store.list_triggers(account, service, function, ListQuery { limit: 100, ..Default::default() }).await?;
        for trigger in triggers.items {
            if trigger.spec.trigger_type == TriggerType::Http {
                http_trigger = HttpTriggerConfig::from_value(&trigger.spec.trigger_config).ok();
            }
        }
        let layer_dirs = layer_dirs(store, code_root, account, &f.spec.layers).await?;
        let jaeger_endpoint = crate::dataplane::opentracing::jaeger_endpoint(&svc.spec.tracing_config);
        let resolved = Arc::new(Resolved {
            version: Arc::new(FunctionVersion {
                key_cache: Default::default(),
                account_id: account.to_string(),
                service: service.to_string(),
                function: function.to_string(),
                qualifier: if version == LATEST { "LATEST".to_string() } else { version.to_string() },
                code_dir: code_root.join(&f.code.checksum),
                code_checksum: f.code.checksum,
                layer_dirs,
                spec: f.spec,
                log_project: svc.spec.log_config.project,
                log_store: svc.spec.log_config.logstore,
                internet_access: svc.spec.internet_access,
            }),
            http_trigger,
            jaeger_endpoint,
        });
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(key, resolved.clone());
        }
        Ok(resolved)
    }

    /// The version an alias names first (not a weighted pick): what its provisioned instances run.
    pub async fn alias_main_version(
        &self,
        store: &dyn MetadataStore,
        account: &str,
        service: &str,
        alias: &str,
    ) -> Result<u64, ApiError> {
        let spec = self.alias(store, account, service, alias).await?;
        ferric_types::version::parse_version_id(&spec.version_id).ok_or_else(|| FcError::internal().into())
    }

    async fn alias(
        &self,
        store: &dyn MetadataStore,
        account: &str,
        service: &str,
        alias: &str,
    ) -> Result<Arc<AliasSpec>, ApiError> {
        let key = (account.to_string(), service.to_string(), alias.to_string());
        if let Some(hit) = self.aliases.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(hit.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let found = store.get_alias(account, service, alias).await?;
        let spec = match found {
            Some(a) => Arc::new(a.spec),
            None if store.get_service(account, service).await?.is_none() => {
                return Err(FcError::service_not_found(service).into())
            }
            None => return Err(FcError::alias_not_found(service, alias).into()),
        };
        let mut aliases = self.aliases.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            aliases.insert(key, spec.clone());
        }
        Ok(spec)
    }

    /// Forgets one function in every version (its spec, code or triggers changed).
    pub fn invalidate_function(&self, account: &str, service: &str, function: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(a, s, f, _), _| !(a == account && s == service && f == function));
    }

    /// Forgets every function and alias of a service (the service's settings reach each function's context).
    pub fn invalidate_service(&self, account: &str, service: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(a, s, _, _), _| !(a == account && s == service));
        self.aliases.write().unwrap_or_else(|p| p.into_inner()).retain(|(a, s, _), _| !(a == account && s == service));
    }

    /// An alias changed or is gone: the next request reads its routing again.
    pub fn invalidate_alias(&self, account: &str, service: &str, alias: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        let key = (account.to_string(), service.to_string(), alias.to_string());
        self.aliases.write().unwrap_or_else(|p| p.into_inner()).remove(&key);
    }

    /// A version was deleted.
    pub fn invalidate_version(&self, account: &str, service: &str, version: u64) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(a, s, _, v), _| !(a == account && s == service && *v == version));
    }
}

/// The host trees of a function's layers, in its order. The control plane checked the list when the
/// function was written; a version deleted since then is still found (the store only hides a version a
/// function lists), so only a store that lost it answers `LayerNotFound`.
async fn layer_dirs(
    store: &dyn MetadataStore,
    code_root: &std::path::Path,
    account: &str,
    layers: &[String],
) -> Result<Vec<std::path::PathBuf>, ApiError> {
    let mut dirs = Vec::with_capacity(layers.len());
    for arn in ferric_types::layer::parse_function_layers(account, layers)? {
        let version = store
            .layer_version_in_use(account, &arn.name, arn.version)
            .await?
            .ok_or_else(|| ferric_types::layer::layer_not_found(&arn.name, Some(arn.version)))?;
        dirs.push(code_root.join(&version.code.checksum));
    }
    Ok(dirs)
}

/// The service and function a version (or `LATEST`) has.
async fn load(
    store: &dyn MetadataStore,
    account: &str,
    service: &str,
    function: &str,
    version: u64,
) -> Result<(Service, Function), ApiError> {
    if version == LATEST {
        let svc = store.get_service(account, service).await?.ok_or_else(|| FcError::service_not_found(service))?;
        let f = store
            .get_function(account, service, function)
            .await?
            .ok_or_else(|| FcError::function_not_found(service, function))?;
        return Ok((svc, f));
    }
    let Some(v) = store.get_version(account, service, version).await? else {
        if store.get_service(account, service).await?.is_none() {
            return Err(FcError::service_not_found(service).into());
        }
        return Err(FcError::version_not_found(service, &version.to_string()).into());
    };
    let f = v.snapshot.function(service, function).ok_or_else(|| FcError::function_not_found(service, function))?;
    Ok((v.snapshot.service(service), f))
}
