//! A function version as the invoker runs it, and the keys its instances are pooled under.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::OnceLock;

use ferric_types::function::FunctionSpec;

/// Everything the invoker needs to run one function version; resolved by the caller.
#[derive(Debug, Clone)]
pub struct FunctionVersion {
    /// Filled on first use: see [`FunctionVersion::pool_key`].
    #[doc(hidden)]
    pub key_cache: OnceLock<PoolKey>,
    pub account_id: String,
    pub service: String,
    pub function: String,
    pub qualifier: String,
    pub spec: FunctionSpec,
    pub log_project: String,
    pub log_store: String,
    /// The extracted, read-only code package.
    pub code_dir: PathBuf,
    pub code_checksum: String,
    /// The host trees of the function's layers, in its `layers` order (the first wins a conflict under
    /// `/opt`). Each is an immutable, extracted package.
    pub layer_dirs: Vec<PathBuf>,
    /// The service's `internetAccess`: false puts instances in a network namespace of their own.
    pub internet_access: bool,
}

impl FunctionVersion {
    /// Computed once per version (the caller caches versions), never per request.
    pub(crate) fn pool_key(&self) -> &PoolKey {
        self.key_cache.get_or_init(|| PoolKey {
            function: self.function_key(),
            code_checksum: self.code_checksum.clone(),
            layer_dirs: self.layer_dirs.clone(),
            log_project: self.log_project.clone(),
            log_store: self.log_store.clone(),
            internet_access: self.internet_access,
            spec: self.spec.clone(),
        })
    }

    pub(crate) fn function_key(&self) -> FunctionKey {
        FunctionKey {
            account_id: self.account_id.clone(),
            service: self.service.clone(),
            function: self.function.clone(),
            qualifier: self.qualifier.clone(),
        }
    }
}

/// One line of one function of one account: `LATEST`, or a published version of the service. A new
/// configuration of a line retires that line's older pools; lines never retire each other, so an alias
/// splitting traffic between two versions keeps both warm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct FunctionKey {
    pub account_id: String,
    pub service: String,
    pub function: String,
    pub qualifier: String,
}

/// Which instances may serve a request: those of the same code and the same configuration (every field of
/// the function's spec, and the service settings an instance is started with). A change to any of them
/// is a new version with a pool of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolKey {
    function: FunctionKey,
    code_checksum: String,
    layer_dirs: Vec<PathBuf>,
    log_project: String,
    log_store: String,
    internet_access: bool,
    spec: FunctionSpec,
}

/// JSON values hold no NaN, so spec equality is an equivalence.
impl Eq for PoolKey {}

/// Hashes the function and its code only: equal keys hash equally, and the versions that share a hash
/// are the few of one function with one code package (the spec decides between them by equality).
impl Hash for PoolKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.function.hash(state);
        self.code_checksum.hash(state);
    }
}

impl PoolKey {
    pub(crate) fn function(&self) -> &FunctionKey {
        &self.function
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version() -> FunctionVersion {
        FunctionVersion {
            key_cache: Default::default(),
            account_id: "1".into(),
            service: "s".into(),
            function: "f".into(),
            qualifier: "LATEST".into(),
            spec: FunctionSpec { runtime: "nodejs20".into(), handler: "index.handler".into(), ..Default::default() },
            log_project: String::new(),
            log_store: String::new(),
            code_dir: "/code".into(),
            code_checksum: "1".into(),
            layer_dirs: Vec::new(),
            internet_access: true,
        }
    }

    #[test]
    fn any_change_of_code_or_configuration_is_another_key() {
        let base = version();
        type Change = Box<dyn Fn(&mut FunctionVersion)>;
        let mut changes: Vec<Change> = vec![
            Box::new(|v| v.code_checksum = "2".into()),
            Box::new(|v| v.layer_dirs = vec!["/layer".into()]),
            Box::new(|v| v.account_id = "2".into()),
            Box::new(|v| v.service = "t".into()),
            Box::new(|v| v.function = "g".into()),
            Box::new(|v| v.qualifier = "1".into()),
            Box::new(|v| v.log_store = "l".into()),
            Box::new(|v| v.internet_access = false),
            Box::new(|v| v.spec.memory_size = 256),
            Box::new(|v| v.spec.description = "d".into()),
            Box::new(|v| drop(v.spec.environment_variables.insert("A".into(), "b".into()))),
            Box::new(|v| drop(v.spec.passthrough.insert("layers".into(), serde_json::json!(["x"])))),
        ];
        for change in changes.drain(..) {
            let mut other = version();
            change(&mut other);
            assert_ne!(base.pool_key(), other.pool_key(), "{other:?}");
        }
        let same = version();
        assert_eq!(base.pool_key(), same.pool_key());
        let hash = |k: &PoolKey| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            k.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(base.pool_key()), hash(same.pool_key()));
    }
}
