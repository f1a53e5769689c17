//! Custom domains: create, read, update, delete. A name is checked at the edge with FC's rule, may not
//! be one of the server's own host names, and is unique across accounts. Every write drops the Host
//! routing table, so the next request on any domain sees it at once.

use ferric_store::{ListQuery, Page};
use ferric_types::custom_domain::{validate_domain_name, CustomDomain, CustomDomainPatch, CustomDomainSpec};
use ferric_types::FcError;

use super::Control;
use crate::error::ApiError;

pub async fn create(ctl: &Control, account: &str, patch: CustomDomainPatch) -> Result<CustomDomain, ApiError> {
    let name = patch.domain_name.clone().ok_or_else(|| ApiError::invalid("domainName is required"))?;
    validate_domain_name(&name)?;
    if ctl.parts().domains.is_api_host(name.strip_prefix("*.").unwrap_or(&name)) {
        return Err(ApiError::invalid(format!(
            "domain name '{name}' is this server's own host name; a custom domain may not take the API's name"
        )));
    }
    let mut spec = CustomDomainSpec::default();
    spec.apply(patch)?;
    let created = ctl.store().create_custom_domain(account, &name, spec).await?;
    ctl.parts().domains.invalidate();
    Ok(created)
}

pub async fn list(ctl: &Control, account: &str, query: ListQuery) -> Result<Page<CustomDomain>, ApiError> {
    Ok(ctl.store().list_custom_domains(account, query).await?)
}

pub async fn require(ctl: &Control, account: &str, name: &str) -> Result<CustomDomain, ApiError> {
    ctl.store().get_custom_domain(account, name).await?.ok_or_else(|| FcError::domain_not_found(name).into())
}

/// A `domainName` in the body must match the path: a domain cannot be renamed.
pub async fn update(
    ctl: &Control,
    account: &str,
    name: &str,
    mut patch: CustomDomainPatch,
) -> Result<CustomDomain, ApiError> {
    if let Some(body_name) = patch.domain_name.take().filter(|n| n != name) {
        return Err(ApiError::invalid(format!(
            "domainName '{body_name}' in the body differs from the path's '{name}'"
        )));
    }
    let updated = ctl.store().update_custom_domain(account, name, Box::new(move |spec| spec.apply(patch))).await?;
    ctl.parts().domains.invalidate();
    Ok(updated)
}

pub async fn delete(ctl: &Control, account: &str, name: &str) -> Result<(), ApiError> {
    ctl.store().delete_custom_domain(account, name).await?;
    ctl.parts().domains.invalidate();
    Ok(())
}
