//! [`AccountStore`] for SQLite: custom domains and service tags.

use std::collections::BTreeMap;

use async_trait::async_trait;
use ferric_types::custom_domain::{CustomDomain, CustomDomainSpec};

use super::{custom_domains, tags, SqliteStore};
use crate::account::{AccountStore, DomainUpdate, TaggedService};
use crate::metadata::{ListQuery, Page, StoreError};

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_custom_domain(
        &self,
        account: &str,
        name: &str,
        spec: CustomDomainSpec,
    ) -> Result<CustomDomain, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(move |tx| custom_domains::create(tx, &account, &name, spec)).await
    }

    async fn get_custom_domain(&self, account: &str, name: &str) -> Result<Option<CustomDomain>, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.read(move |c| custom_domains::get(c, &account, &name)).await
    }

    async fn list_custom_domains(&self, account: &str, query: ListQuery) -> Result<Page<CustomDomain>, StoreError> {
        let account = account.to_string();
        self.read(move |c| custom_domains::list(c, &account, &query)).await
    }

    async fn update_custom_domain(
        &self,
        account: &str,
        name: &str,
        update: DomainUpdate,
    ) -> Result<CustomDomain, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(move |tx| custom_domains::update(tx, &account, &name, update)).await
    }

    async fn delete_custom_domain(&self, account: &str, name: &str) -> Result<(), StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(move |tx| custom_domains::delete(tx, &account, &name)).await
    }

    async fn all_custom_domains(&self) -> Result<Vec<CustomDomain>, StoreError> {
        self.read(custom_domains::all).await
    }

    async fn tag_service(
        &self,
        account: &str,
        service: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let (account, service) = (account.to_string(), service.to_string());
        self.write(move |tx| tags::tag(tx, &account, &service, tags)).await
    }

    async fn untag_service(
        &self,
        account: &str,
        service: &str,
        keys: Vec<String>,
        all: bool,
    ) -> Result<(), StoreError> {
        let (account, service) = (account.to_string(), service.to_string());
        self.write(move |tx| tags::untag(tx, &account, &service, &keys, all)).await
    }

    async fn service_tags(&self, account: &str, service: &str) -> Result<BTreeMap<String, String>, StoreError> {
        let (account, service) = (account.to_string(), service.to_string());
        self.read(move |c| tags::tags(c, &account, &service)).await
    }

    async fn list_tagged_services(&self, account: &str, query: ListQuery) -> Result<Page<TaggedService>, StoreError> {
        let account = account.to_string();
        self.read(move |c| tags::list_tagged(c, &account, &query)).await
    }
}
