//! Layers: publishing a version (its package stored like a function's, with the same size limits and
//! zip safety), reading, listing and deleting versions, and the check a function's `layers` list must
//! pass. A version is immutable, so nothing cached needs invalidating when one is published.

use ferric_store::{LayerVersionPage, ListQuery, Page};
use ferric_types::layer::{
    layer_not_found, parse_function_layers, validate_layer_name, LayerArn, LayerCode, LayerSpec, LayerVersion,
};
use ferric_types::{ErrorCode, FcError};

use super::code::{self, ZipInput};
use super::Control;
use crate::error::ApiError;

pub async fn publish(
    ctl: &Control,
    account: &str,
    name: &str,
    spec: LayerSpec,
    zip: ZipInput,
) -> Result<LayerVersion, ApiError> {
    validate_layer_name(name)?;
    let shared = code::upload_guard(ctl).await;
    let package = code::put(ctl, zip).await?;
    let code = LayerCode { checksum: package.checksum.clone(), size: package.size };
    let published = ctl.store().publish_layer_version(account, name, spec, code).await;
    drop(shared);
    match published {
        Ok(version) => Ok(version),
        Err(e) => {
            code::collect_garbage(ctl, &package.checksum).await;
            Err(e.into())
        }
    }
}

pub async fn get(ctl: &Control, account: &str, name: &str, version: u32) -> Result<LayerVersion, ApiError> {
    validate_layer_name(name)?;
    ctl.store()
        .get_layer_version(account, name, version)
        .await?
        .ok_or_else(|| layer_not_found(name, Some(version)).into())
}

/// GetLayerVersionByArn: either ARN form, of the caller's account.
pub async fn get_by_arn(ctl: &Control, account: &str, arn: &str) -> Result<LayerVersion, ApiError> {
    let parsed = LayerArn::parse(arn)?;
    if !parsed.owned_by(account) {
        return Err(layer_not_found(&parsed.name, Some(parsed.version)).into());
    }
    get(ctl, account, &parsed.name, parsed.version).await
}

/// ListLayerVersions: `LayerNotFound` when the layer has no version at all, as FC answers.
pub async fn list_versions(
    ctl: &Control,
    account: &str,
    name: &str,
    start_version: u32,
    limit: u32,
) -> Result<LayerVersionPage, ApiError> {
    validate_layer_name(name)?;
    let page = ctl.store().list_layer_versions(account, name, start_version, limit).await?;
    if page.items.is_empty() && start_version <= 1 {
        return Err(layer_not_found(name, None).into());
    }
    Ok(page)
}

pub async fn list(
    ctl: &Control,
    account: &str,
    query: ListQuery,
    public_only: bool,
) -> Result<Page<LayerVersion>, ApiError> {
    Ok(ctl.store().list_layers(account, query, public_only).await?)
}

/// DeleteLayerVersion: a version that a function (or a published version) still lists is only hidden,
/// so those functions keep starting; otherwise it and, when nothing else holds it, its package go.
pub async fn delete(ctl: &Control, account: &str, name: &str, version: u32) -> Result<(), ApiError> {
    validate_layer_name(name)?;
    let (deleted, gone) = ctl.store().delete_layer_version(account, name, version).await?;
    if gone {
        code::collect_garbage(ctl, &deleted.code.checksum).await;
    }
    Ok(())
}

/// After a write that may have dropped the last mention of a hidden (deleted) layer version: removes
/// such versions and their packages. A failure only delays the cleanup to the next such write.
pub(super) async fn release_unlisted(ctl: &Control, account: &str) {
    match ctl.store().purge_unlisted_layers(account).await {
        Ok(released) => {
            for checksum in released {
                code::collect_garbage(ctl, &checksum).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not purge deleted layer versions"),
    }
}

/// PutLayerACL: `public` sets every version's `acl` to 1, else 0.
pub async fn set_acl(ctl: &Control, account: &str, name: &str, public: bool) -> Result<(), ApiError> {
    validate_layer_name(name)?;
    Ok(ctl.store().set_layer_acl(account, name, u8::from(public)).await?)
}

/// The layer versions a function lists, in its order: each must exist in the caller's account and,
/// when it names compatible runtimes, allow the function's.
pub async fn check_function_layers(
    ctl: &Control,
    account: &str,
    runtime: &str,
    layers: &[String],
) -> Result<Vec<LayerVersion>, ApiError> {
    let mut found = Vec::with_capacity(layers.len());
    for arn in parse_function_layers(account, layers)? {
        let version = get(ctl, account, &arn.name, arn.version).await?;
        if !version.allows_runtime(runtime) {
            return Err(FcError::new(
                ErrorCode::InvalidArgument,
                format!(
                    "layer '{}' version {} is not compatible with runtime '{runtime}'; it supports {}",
                    arn.name,
                    arn.version,
                    version.spec.compatible_runtime.join(", ")
                ),
            )
            .into());
        }
        found.push(version);
    }
    Ok(found)
}
