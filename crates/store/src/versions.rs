//! Versions and aliases, a trait of their own that [`MetadataStore`](crate::MetadataStore) includes, so
//! a backend implements them in one file beside its other tables.

use async_trait::async_trait;
use ferric_types::alias::{Alias, AliasSpec};
use ferric_types::version::Version;
use ferric_types::FcError;

use crate::metadata::{ListQuery, Page, StoreError};

/// Applied to the stored alias inside the write transaction, so read-modify-write is atomic.
pub type AliasUpdate = Box<dyn FnOnce(&mut AliasSpec) -> Result<(), FcError> + Send>;

/// A page of versions. Ids are compared as numbers; `next_token` and `start_key` are decimal ids.
#[derive(Debug, Clone, Default)]
pub struct VersionQuery {
    pub limit: u32,
    pub next_token: Option<String>,
    /// Inclusive; ignored when `next_token` is given.
    pub start_key: Option<String>,
    /// `FORWARD` lists oldest first; FC's default, `BACKWARD`, newest first.
    pub forward: bool,
}

#[async_trait]
pub trait VersionStore: Send + Sync {
    /// Snapshots the service and every function as one new version, numbered after every version the
    /// service ever had. Refused when nothing changed since the newest existing version.
    async fn publish_version(
        &self,
        account: &str,
        service: &str,
        description: String,
        if_match: Option<String>,
    ) -> Result<Version, StoreError>;
    async fn get_version(&self, account: &str, service: &str, id: u64) -> Result<Option<Version>, StoreError>;
    async fn list_versions(
        &self,
        account: &str,
        service: &str,
        query: VersionQuery,
    ) -> Result<Page<Version>, StoreError>;
    /// Refused while an alias routes to it; returns the deleted version (its packages may be collectable).
    async fn delete_version(&self, account: &str, service: &str, id: u64) -> Result<Version, StoreError>;

    /// Every version the alias names must exist.
    async fn create_alias(
        &self,
        account: &str,
        service: &str,
        name: &str,
        spec: AliasSpec,
    ) -> Result<Alias, StoreError>;
    async fn get_alias(&self, account: &str, service: &str, name: &str) -> Result<Option<Alias>, StoreError>;
    async fn list_aliases(&self, account: &str, service: &str, query: ListQuery) -> Result<Page<Alias>, StoreError>;
    async fn update_alias(
        &self,
        account: &str,
        service: &str,
        name: &str,
        if_match: Option<String>,
        update: AliasUpdate,
    ) -> Result<Alias, StoreError>;
    async fn delete_alias(
        &self,
        account: &str,
        service: &str,
        name: &str,
        if_match: Option<String>,
    ) -> Result<(), StoreError>;
}
