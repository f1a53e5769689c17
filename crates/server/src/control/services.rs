//! Services: a service's settings reach every function's context, so a change forgets them all.

use ferric_store::{ListQuery, Page};
use ferric_types::name::{validate_name, NameRule};
use ferric_types::service::{Service, ServicePatch, ServiceSpec};
use ferric_types::FcError;

use super::Control;
use crate::error::ApiError;

pub async fn create(ctl: &Control, account: &str, patch: ServicePatch) -> Result<Service, ApiError> {
    let name = patch.service_name.clone().ok_or_else(|| ApiError::invalid("serviceName is required"))?;
    validate_name("service", &name, NameRule::Fc)?;
    let mut spec = ServiceSpec::default();
    spec.apply(patch)?;
    Ok(ctl.store().create_service(account, &name, spec).await?)
}

pub async fn list(ctl: &Control, account: &str, query: ListQuery) -> Result<Page<Service>, ApiError> {
    Ok(ctl.store().list_services(account, query).await?)
}

pub async fn require(ctl: &Control, account: &str, name: &str) -> Result<Service, ApiError> {
    ctl.store().get_service(account, name).await?.ok_or_else(|| FcError::service_not_found(name).into())
}

pub async fn update(
    ctl: &Control,
    account: &str,
    name: &str,
    if_match: Option<String>,
    patch: ServicePatch,
) -> Result<Service, ApiError> {
    let updated = ctl.store().update_service(account, name, if_match, Box::new(move |spec| spec.apply(patch))).await?;
    ctl.service_changed(account, name);
    Ok(updated)
}

pub async fn delete(ctl: &Control, account: &str, name: &str, if_match: Option<String>) -> Result<(), ApiError> {
    ctl.store().delete_service(account, name, if_match).await?;
    ctl.service_changed(account, name);
    Ok(())
}
