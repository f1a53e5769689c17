//! Provision configs and on-demand configs: a trait of their own that [`crate::MetadataStore`] includes,
//! so a backend implements them in one file beside its other tables.

use async_trait::async_trait;
use ferric_types::provision::{ConfigTarget, OnDemandConfig, ProvisionConfig, ProvisionSpec};

use crate::metadata::{ListQuery, Page, StoreError};

/// ListProvisionConfigs' filters: a service, and with it a qualifier.
#[derive(Debug, Clone, Default)]
pub struct ProvisionFilter {
    pub service: Option<String>,
    pub qualifier: Option<String>,
}

#[async_trait]
pub trait ProvisionStore: Send + Sync {
    /// A target of 0 removes the config: FC has no DeleteProvisionConfig, and a target of 0 is none.
    async fn put_provision_config(
        &self,
        account: &str,
        target: &ConfigTarget,
        spec: ProvisionSpec,
    ) -> Result<(), StoreError>;
    async fn get_provision_config(
        &self,
        account: &str,
        target: &ConfigTarget,
    ) -> Result<Option<ProvisionSpec>, StoreError>;
    /// Sorted by service, qualifier and function; `next_token` is opaque.
    async fn list_provision_configs(
        &self,
        account: &str,
        filter: ProvisionFilter,
        query: ListQuery,
    ) -> Result<Page<ProvisionConfig>, StoreError>;

    async fn put_on_demand_config(&self, account: &str, target: &ConfigTarget, maximum: u32) -> Result<(), StoreError>;
    async fn get_on_demand_config(&self, account: &str, target: &ConfigTarget) -> Result<Option<u32>, StoreError>;
    /// True if there was one.
    async fn delete_on_demand_config(&self, account: &str, target: &ConfigTarget) -> Result<bool, StoreError>;
    /// Sorted by resource (`services/<s>.<q>/functions/<f>`), which `prefix` and `start_key` compare with.
    async fn list_on_demand_configs(&self, account: &str, query: ListQuery)
        -> Result<Page<OnDemandConfig>, StoreError>;

    /// Removes both configs of a function on every qualifier (the function was deleted); returns the
    /// places of the provision configs and of the on-demand configs removed.
    async fn delete_function_configs(
        &self,
        account: &str,
        service: &str,
        function: &str,
    ) -> Result<(Vec<ConfigTarget>, Vec<ConfigTarget>), StoreError>;
    /// Every config of every account, for the invoker at start-up: the one other cross-account read.
    async fn all_capacity_configs(&self) -> Result<(Vec<ProvisionConfig>, Vec<OnDemandConfig>), StoreError>;
}
