//! Account-level resources beside the service tree: custom domains and service tags.
//!
//! A separate trait (a supertrait of [`crate::MetadataStore`]) so these resources sit in their own files
//! and every `dyn MetadataStore` still reaches them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use ferric_types::custom_domain::{CustomDomain, CustomDomainSpec};
use ferric_types::FcError;

use crate::metadata::{ListQuery, Page, StoreError};

/// Applied to the stored spec inside the write transaction.
pub type DomainUpdate = Box<dyn FnOnce(&mut CustomDomainSpec) -> Result<(), FcError> + Send>;

/// A service and its tags, for ListTaggedResources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedService {
    pub service: String,
    pub tags: BTreeMap<String, String>,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Domain names are unique across accounts (compared without case): a Host has one owner.
    /// `DomainNameAlreadyExists` whoever holds it.
    async fn create_custom_domain(
        &self,
        account: &str,
        name: &str,
        spec: CustomDomainSpec,
    ) -> Result<CustomDomain, StoreError>;
    /// Another account's domain is not found.
    async fn get_custom_domain(&self, account: &str, name: &str) -> Result<Option<CustomDomain>, StoreError>;
    async fn list_custom_domains(&self, account: &str, query: ListQuery) -> Result<Page<CustomDomain>, StoreError>;
    async fn update_custom_domain(
        &self,
        account: &str,
        name: &str,
        update: DomainUpdate,
    ) -> Result<CustomDomain, StoreError>;
    async fn delete_custom_domain(&self, account: &str, name: &str) -> Result<(), StoreError>;
    /// Every domain of every account: the Host routing table maps a host to its owner, which is the one
    /// read that crosses accounts by design.
    async fn all_custom_domains(&self) -> Result<Vec<CustomDomain>, StoreError>;

    /// Adds or replaces tags on a service (`ServiceNotFound`; at most 20 tags in all).
    async fn tag_service(&self, account: &str, service: &str, tags: BTreeMap<String, String>)
        -> Result<(), StoreError>;
    /// Removes the given keys, or every tag with `all`.
    async fn untag_service(&self, account: &str, service: &str, keys: Vec<String>, all: bool)
        -> Result<(), StoreError>;
    async fn service_tags(&self, account: &str, service: &str) -> Result<BTreeMap<String, String>, StoreError>;
    /// Services with at least one tag, by name.
    async fn list_tagged_services(&self, account: &str, query: ListQuery) -> Result<Page<TaggedService>, StoreError>;
}
