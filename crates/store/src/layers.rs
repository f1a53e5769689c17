//! Layer versions, a trait of their own that [`MetadataStore`](crate::MetadataStore) includes, so a
//! backend implements them in one file beside its other tables.

use async_trait::async_trait;
use ferric_types::layer::{LayerCode, LayerSpec, LayerVersion};

use crate::metadata::{ListQuery, Page, StoreError};

/// A page of one layer's versions, oldest first.
#[derive(Debug, Clone)]
pub struct LayerVersionPage {
    pub items: Vec<LayerVersion>,
    /// The version the next page starts at; absent on the last page.
    pub next_version: Option<u32>,
}

#[async_trait]
pub trait LayerStore: Send + Sync {
    /// A new version numbered after every version the layer ever had (numbers are never reused).
    async fn publish_layer_version(
        &self,
        account: &str,
        name: &str,
        spec: LayerSpec,
        code: LayerCode,
    ) -> Result<LayerVersion, StoreError>;
    async fn get_layer_version(
        &self,
        account: &str,
        name: &str,
        version: u32,
    ) -> Result<Option<LayerVersion>, StoreError>;
    /// As [`LayerStore::get_layer_version`], but also a deleted version a function still lists: what an
    /// instance of that function mounts.
    async fn layer_version_in_use(
        &self,
        account: &str,
        name: &str,
        version: u32,
    ) -> Result<Option<LayerVersion>, StoreError>;
    /// Versions from `start_version` (inclusive) upwards.
    async fn list_layer_versions(
        &self,
        account: &str,
        name: &str,
        start_version: u32,
        limit: u32,
    ) -> Result<LayerVersionPage, StoreError>;
    /// The newest version of each layer, by layer name; with `public_only`, of layers whose newest version
    /// is public.
    async fn list_layers(
        &self,
        account: &str,
        query: ListQuery,
        public_only: bool,
    ) -> Result<Page<LayerVersion>, StoreError>;
    /// `LayerNotFound` when absent. A version some function (at LATEST or in a published version) still
    /// lists is only hidden: no read but [`LayerStore::layer_version_in_use`] finds it, and its package
    /// stays. Returns the version and whether its row is gone (then its package may be collectable).
    async fn delete_layer_version(
        &self,
        account: &str,
        name: &str,
        version: u32,
    ) -> Result<(LayerVersion, bool), StoreError>;
    /// Removes the account's hidden versions nothing lists any more; returns their packages.
    async fn purge_unlisted_layers(&self, account: &str) -> Result<Vec<String>, StoreError>;
    /// Sets `acl` on every version of the layer (`LayerNotFound` when it has none).
    async fn set_layer_acl(&self, account: &str, name: &str, acl: u8) -> Result<(), StoreError>;
}
