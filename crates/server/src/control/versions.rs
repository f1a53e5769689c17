//! Versions: publishing a snapshot, listing and deleting them, and reading a service or function as a
//! qualifier (`LATEST`, a version id, an alias) names it. A version's snapshot is immutable, so the data
//! plane may cache it for good; a delete forgets it and lets its packages go when nothing else uses them.

use ferric_store::{Page, VersionQuery};
use ferric_types::function::Function;
use ferric_types::service::Service;
use ferric_types::version::{parse_version_id, Qualifier, Version};
use ferric_types::FcError;

use super::{code, functions, services, Control};
use crate::error::ApiError;

pub async fn publish(
    ctl: &Control,
    account: &str,
    service: &str,
    description: String,
    if_match: Option<String>,
) -> Result<Version, ApiError> {
    ferric_types::name::validate_name("service", service, ferric_types::name::NameRule::Lenient)?;
    Ok(ctl.store().publish_version(account, service, description, if_match).await?)
}

pub async fn list(ctl: &Control, account: &str, service: &str, query: VersionQuery) -> Result<Page<Version>, ApiError> {
    Ok(ctl.store().list_versions(account, service, query).await?)
}

/// DeleteVersion: refused while an alias routes to it.
pub async fn delete(ctl: &Control, account: &str, service: &str, id: &str) -> Result<(), ApiError> {
    let Some(number) = parse_version_id(id) else {
        services::require(ctl, account, service).await?;
        return Err(FcError::version_not_found(service, id).into());
    };
    let deleted = ctl.store().delete_version(account, service, number).await?;
    ctl.parts().catalog.invalidate_version(account, service, number);
    let mut checksums: Vec<&str> = deleted.snapshot.code_checksums().collect();
    checksums.sort_unstable();
    checksums.dedup();
    for checksum in checksums {
        code::collect_garbage(ctl, checksum).await;
    }
    super::layers::release_unlisted(ctl, account).await;
    Ok(())
}

/// The version a qualifier reads: none for `LATEST`, the version itself, or an alias's main version.
pub async fn resolve(
    ctl: &Control,
    account: &str,
    service: &str,
    qualifier: &str,
) -> Result<Option<Version>, ApiError> {
    let id = match Qualifier::parse(Some(qualifier)) {
        Qualifier::Latest => return Ok(None),
        Qualifier::Version(id) => id,
        Qualifier::Alias(alias) => {
            let alias = super::aliases::require(ctl, account, service, &alias).await?;
            parse_version_id(&alias.spec.version_id).ok_or_else(FcError::internal)?
        }
    };
    match ctl.store().get_version(account, service, id).await? {
        Some(version) => Ok(Some(version)),
        None => {
            services::require(ctl, account, service).await?;
            Err(FcError::version_not_found(service, &id.to_string()).into())
        }
    }
}

/// GetService with a qualifier.
pub async fn service(ctl: &Control, account: &str, name: &str, qualifier: &str) -> Result<Service, ApiError> {
    match resolve(ctl, account, name, qualifier).await? {
        None => services::require(ctl, account, name).await,
        Some(version) => Ok(version.snapshot.service(name)),
    }
}

/// GetFunction / GetFunctionCode with a qualifier.
pub async fn function(
    ctl: &Control,
    account: &str,
    service: &str,
    name: &str,
    qualifier: &str,
) -> Result<Function, ApiError> {
    match resolve(ctl, account, service, qualifier).await? {
        None => functions::require(ctl, account, service, name).await,
        Some(version) => {
            version.snapshot.function(service, name).ok_or_else(|| FcError::function_not_found(service, name).into())
        }
    }
}

/// ListFunctions of a version (`None` for `LATEST`): FC's paging over the snapshot's sorted names.
pub async fn functions(
    ctl: &Control,
    account: &str,
    service: &str,
    qualifier: &str,
    query: &ferric_store::ListQuery,
) -> Result<Option<Page<Function>>, ApiError> {
    let Some(version) = resolve(ctl, account, service, qualifier).await? else { return Ok(None) };
    let start = query.next_token.as_deref().or(query.start_key.as_deref()).unwrap_or("");
    let prefix = query.prefix.as_deref().unwrap_or("");
    let mut items: Vec<Function> = version
        .snapshot
        .all_functions(service)
        .into_iter()
        .filter(|f| f.name.as_str() >= start && f.name.starts_with(prefix))
        .take(query.limit as usize + 1)
        .collect();
    let next_token = if items.len() > query.limit as usize { items.pop().map(|extra| extra.name) } else { None };
    Ok(Some(Page { items, next_token }))
}
