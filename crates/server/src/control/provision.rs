//! Provision configs (instances kept warm), on-demand configs (a cap on instances started by requests) and
//! the instance list. The store keeps the configs; the invoker acts on them (`ferric_invoker` `provision`),
//! told at every write and, at start-up, of every stored config. The invoker finds what a configured line
//! runs through [`CatalogResolver`], over the data plane's cache, so an update of the function or a moved
//! alias moves the provisioned instances without any call from here.
//!
//! Qualifiers: both configs are set on an alias or `LATEST`, as FC documents them ("the alias"); a version
//! id is refused. A provision config needs its alias to exist, since instances must start from it; an
//! on-demand config does not (fc-java-sdk's own test sets them on qualifiers that are no alias).

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use ferric_invoker::{ConfigLine, FunctionVersion, InstanceInfo, VersionResolver};
use ferric_store::{ListQuery, Page, ProvisionFilter};
use ferric_types::provision::{ConfigTarget, OnDemandConfig, ProvisionConfig, ProvisionSpec};
use ferric_types::version::Qualifier;
use ferric_types::{ErrorCode, FcError};

use super::{Control, FunctionRef, Inner};
use crate::error::ApiError;

/// A provision config as FC answers it, with what runs now.
pub struct ProvisionView {
    pub spec: ProvisionSpec,
    pub current: usize,
    pub current_error: Option<String>,
}

fn line(account: &str, target: &ConfigTarget) -> ConfigLine {
    ConfigLine {
        account_id: account.to_string(),
        service: target.service.clone(),
        qualifier: target.qualifier.clone(),
        function: target.function.clone(),
    }
}

/// A config's place, after the function exists and the qualifier is one a config may be set on.
async fn config_target(
    ctl: &Control,
    f: &FunctionRef,
    qualifier: &str,
    alias_must_exist: bool,
) -> Result<ConfigTarget, ApiError> {
    super::functions::require(ctl, &f.account, &f.service, &f.function).await?;
    match Qualifier::parse(Some(qualifier)) {
        Qualifier::Latest => {}
        Qualifier::Version(_) => {
            return Err(ApiError::invalid(format!(
                "qualifier '{qualifier}' is a version: provisioned and on-demand configs are set on an alias or LATEST"
            )))
        }
        Qualifier::Alias(alias) => {
            ferric_types::name::validate_name("qualifier", &alias, ferric_types::name::NameRule::Lenient)?;
            if alias_must_exist {
                super::aliases::require(ctl, &f.account, &f.service, &alias).await?;
            }
        }
    }
    Ok(ConfigTarget { service: f.service.clone(), qualifier: qualifier.to_string(), function: f.function.clone() })
}

/// The view of a line's config; no config is a target of 0.
fn view(ctl: &Control, account: &str, target: &ConfigTarget, spec: Option<ProvisionSpec>) -> ProvisionView {
    let spec = spec.unwrap_or(ProvisionSpec {
        target: 0,
        scheduled_actions: Vec::new(),
        target_tracking_policies: Vec::new(),
        always_allocate_cpu: true,
    });
    let (current, current_error) = ctl.parts().invoker.provisioned(&line(account, target));
    ProvisionView { current: current.min(spec.target as usize), current_error, spec }
}

pub async fn put_provision(
    ctl: &Control,
    f: &FunctionRef,
    qualifier: &str,
    spec: ProvisionSpec,
    max_instances: usize,
) -> Result<(ConfigTarget, ProvisionView), ApiError> {
    let target = config_target(ctl, f, qualifier, true).await?;
    if spec.target as usize > max_instances {
        return Err(ApiError::new(
            ErrorCode::LimitExceeded,
            format!(
                "target {} is more instances than this server runs for one function ({max_instances}, \
                 --max-instances-per-function)",
                spec.target
            ),
        ));
    }
    ctl.store().put_provision_config(&f.account, &target, spec.clone()).await?;
    ctl.parts().invoker.provision(line(&f.account, &target), spec.target as usize);
    let view = view(ctl, &f.account, &target, Some(spec));
    Ok((target, view))
}

pub async fn get_provision(
    ctl: &Control,
    f: &FunctionRef,
    qualifier: &str,
) -> Result<(ConfigTarget, ProvisionView), ApiError> {
    let target = config_target(ctl, f, qualifier, true).await?;
    let spec = ctl.store().get_provision_config(&f.account, &target).await?;
    let view = view(ctl, &f.account, &target, spec);
    Ok((target, view))
}

pub async fn list_provisions(
    ctl: &Control,
    account: &str,
    filter: ProvisionFilter,
    query: ListQuery,
) -> Result<Page<(ProvisionConfig, ProvisionView)>, ApiError> {
    if filter.qualifier.is_some() && filter.service.is_none() {
        return Err(ApiError::invalid("serviceName is required when qualifier is given"));
    }
    let page = ctl.store().list_provision_configs(account, filter, query).await?;
    let items = page
        .items
        .into_iter()
        .map(|config| {
            let view = view(ctl, account, &config.target, Some(config.spec.clone()));
            (config, view)
        })
        .collect();
    Ok(Page { items, next_token: page.next_token })
}

pub async fn put_on_demand(
    ctl: &Control,
    f: &FunctionRef,
    qualifier: &str,
    maximum: u32,
) -> Result<ConfigTarget, ApiError> {
    let target = config_target(ctl, f, qualifier, false).await?;
    ctl.store().put_on_demand_config(&f.account, &target, maximum).await?;
    ctl.parts().invoker.cap_on_demand(line(&f.account, &target), Some(maximum as usize));
    Ok(target)
}

fn on_demand_not_found(target: &ConfigTarget) -> ApiError {
    ApiError::new(
        ErrorCode::OnDemandConfigNotFound,
        format!("on-demand config of {} does not exist", target.on_demand_resource()),
    )
}

pub async fn get_on_demand(ctl: &Control, f: &FunctionRef, qualifier: &str) -> Result<(ConfigTarget, u32), ApiError> {
    let target = config_target(ctl, f, qualifier, false).await?;
    match ctl.store().get_on_demand_config(&f.account, &target).await? {
        Some(maximum) => Ok((target, maximum)),
        None => Err(on_demand_not_found(&target)),
    }
}

pub async fn delete_on_demand(ctl: &Control, f: &FunctionRef, qualifier: &str) -> Result<(), ApiError> {
    let target = config_target(ctl, f, qualifier, false).await?;
    if !ctl.store().delete_on_demand_config(&f.account, &target).await? {
        return Err(on_demand_not_found(&target));
    }
    ctl.parts().invoker.cap_on_demand(line(&f.account, &target), None);
    Ok(())
}

pub async fn list_on_demand(ctl: &Control, account: &str, query: ListQuery) -> Result<Page<OnDemandConfig>, ApiError> {
    Ok(ctl.store().list_on_demand_configs(account, query).await?)
}

/// The live instances of what a qualifier runs: `LATEST`, one version, or every version an alias routes to.
pub async fn instances(ctl: &Control, f: &FunctionRef, qualifier: &str) -> Result<Vec<InstanceInfo>, ApiError> {
    super::functions::require(ctl, &f.account, &f.service, &f.function).await?;
    let lines: Vec<String> = match Qualifier::parse(Some(qualifier)) {
        Qualifier::Latest => vec!["LATEST".to_string()],
        Qualifier::Version(id) => {
            super::versions::resolve(ctl, &f.account, &f.service, qualifier).await?;
            vec![id.to_string()]
        }
        Qualifier::Alias(alias) => {
            let alias = super::aliases::require(ctl, &f.account, &f.service, &alias).await?;
            std::iter::once(alias.spec.version_id.clone())
                .chain(alias.spec.additional_version_weight.into_keys())
                .collect()
        }
    };
    let all = ctl.parts().invoker.instances(&f.account, &f.service, &f.function);
    Ok(all.into_iter().filter(|i| lines.contains(&i.qualifier)).collect())
}

/// The function is gone: its configs go with it, and the invoker forgets them.
pub async fn forget_function(ctl: &Control, account: &str, service: &str, function: &str) {
    let (provisions, caps) = match ctl.store().delete_function_configs(account, service, function).await {
        Ok(removed) => removed,
        Err(e) => return tracing::warn!(error = %e, "cannot delete a deleted function's provision configs"),
    };
    for target in provisions {
        ctl.parts().invoker.provision(line(account, &target), 0);
    }
    for target in caps {
        ctl.parts().invoker.cap_on_demand(line(account, &target), None);
    }
}

/// At start-up: hands the invoker its resolver and every stored config, so provisioned instances start
/// again after a restart.
pub async fn start(ctl: &Control) {
    let resolver = CatalogResolver { control: Arc::downgrade(&ctl.inner) };
    ctl.parts().invoker.set_version_resolver(Arc::new(resolver));
    let (provisions, caps) = match ctl.store().all_capacity_configs().await {
        Ok(all) => all,
        Err(e) => return tracing::error!(error = %e, "cannot read provision configs; none are started"),
    };
    for p in provisions {
        ctl.parts().invoker.provision(line(&p.account_id, &p.target), p.spec.target as usize);
    }
    for c in caps {
        ctl.parts().invoker.cap_on_demand(line(&c.account_id, &c.target), Some(c.maximum_instance_count as usize));
    }
}

/// The server stopped serving: its instances stop too, provisioned ones included.
pub fn stop(ctl: &Control) {
    ctl.parts().invoker.shutdown();
}

/// What a configured line runs, read through the data plane's cache (a hit costs no store read). Holds
/// the control plane weakly: the invoker holds the resolver, and the control plane the invoker.
struct CatalogResolver {
    control: Weak<Inner>,
}

#[async_trait]
impl VersionResolver for CatalogResolver {
    async fn resolve(&self, line: &ConfigLine) -> Result<Option<Arc<FunctionVersion>>, String> {
        let Some(inner) = self.control.upgrade() else { return Ok(None) };
        let ctl = Control { inner };
        let (store, catalog) = (ctl.store(), &ctl.parts().catalog);
        let (account, service) = (line.account_id.as_str(), line.service.as_str());
        let qualifier = match Qualifier::parse(Some(&line.qualifier)) {
            Qualifier::Alias(alias) => match catalog.alias_main_version(store, account, service, &alias).await {
                Ok(id) => Qualifier::Version(id),
                Err(e) => return gone_or_failed(e),
            },
            other => other,
        };
        let code_root = ctl.parts().code.root();
        match catalog.resolve(store, code_root, account, service, &line.function, &qualifier).await {
            Ok(resolved) => Ok(Some(resolved.version.clone())),
            Err(e) => gone_or_failed(e),
        }
    }
}

fn gone_or_failed(e: ApiError) -> Result<Option<Arc<FunctionVersion>>, String> {
    let FcError { code, message } = e.0;
    match code {
        ErrorCode::ServiceNotFound
        | ErrorCode::FunctionNotFound
        | ErrorCode::AliasNotFound
        | ErrorCode::VersionNotFound => Ok(None),
        _ => Err(message),
    }
}
