//! Aliases: CRUD with ETags, every version an alias names must exist. The catalog caches each alias's
//! routing, so every write forgets it there and the next request routes by the new weights.

use ferric_store::{ListQuery, Page};
use ferric_types::alias::{Alias, AliasPatch, AliasSpec};
use ferric_types::name::{validate_name, NameRule};
use ferric_types::FcError;

use super::{services, Control};
use crate::error::ApiError;

pub async fn create(ctl: &Control, account: &str, service: &str, patch: AliasPatch) -> Result<Alias, ApiError> {
    let name = patch.alias_name.clone().ok_or_else(|| ApiError::invalid("aliasName is required"))?;
    validate_name("alias", &name, NameRule::Fc)?;
    if patch.version_id.is_none() {
        return Err(ApiError::invalid("versionId is required"));
    }
    let mut spec = AliasSpec::default();
    spec.apply(patch)?;
    let created = ctl.store().create_alias(account, service, &name, spec).await?;
    ctl.parts().catalog.invalidate_alias(account, service, &name);
    Ok(created)
}

pub async fn require(ctl: &Control, account: &str, service: &str, name: &str) -> Result<Alias, ApiError> {
    validate_name("alias", name, NameRule::Lenient)?;
    match ctl.store().get_alias(account, service, name).await? {
        Some(alias) => Ok(alias),
        None => {
            services::require(ctl, account, service).await?;
            Err(FcError::alias_not_found(service, name).into())
        }
    }
}

pub async fn list(ctl: &Control, account: &str, service: &str, query: ListQuery) -> Result<Page<Alias>, ApiError> {
    Ok(ctl.store().list_aliases(account, service, query).await?)
}

pub async fn update(
    ctl: &Control,
    account: &str,
    service: &str,
    name: &str,
    if_match: Option<String>,
    patch: AliasPatch,
) -> Result<Alias, ApiError> {
    validate_name("alias", name, NameRule::Lenient)?;
    let updated =
        ctl.store().update_alias(account, service, name, if_match, Box::new(move |spec| spec.apply(patch))).await;
    ctl.parts().catalog.invalidate_alias(account, service, name);
    Ok(updated?)
}

pub async fn delete(
    ctl: &Control,
    account: &str,
    service: &str,
    name: &str,
    if_match: Option<String>,
) -> Result<(), ApiError> {
    validate_name("alias", name, NameRule::Lenient)?;
    let deleted = ctl.store().delete_alias(account, service, name, if_match).await;
    ctl.parts().catalog.invalidate_alias(account, service, name);
    Ok(deleted?)
}
