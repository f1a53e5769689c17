//! Async-invoke-config: retries, event age and destinations of a function's async invocations, per
//! qualifier. The queue reads it when it runs a job, so a change needs no invalidation.

use ferric_types::async_config::{AsyncConfigRow, AsyncInvokeConfig};
use ferric_types::ErrorCode;

use super::{Control, FunctionRef};
use crate::error::ApiError;

/// The qualifier a config is kept under: as the caller wrote it (`LATEST`, a version id or an alias), the
/// same string the queue finds on a job accepted through that qualifier.
pub async fn put(
    ctl: &Control,
    target: &FunctionRef,
    qualifier: &str,
    config: AsyncInvokeConfig,
) -> Result<AsyncConfigRow, ApiError> {
    config.validate()?;
    super::versions::resolve(ctl, &target.account, &target.service, qualifier).await?;
    Ok(ctl.store().put_async_config(&target.account, &target.service, &target.function, qualifier, config).await?)
}

/// The config when one was set.
pub async fn get(ctl: &Control, target: &FunctionRef, qualifier: &str) -> Result<Option<AsyncConfigRow>, ApiError> {
    Ok(ctl.store().get_async_config(&target.account, &target.service, &target.function, qualifier).await?)
}

/// Every qualifier's config of a function, a page at a time.
pub async fn list(
    ctl: &Control,
    target: &FunctionRef,
    next_token: Option<String>,
    limit: u32,
) -> Result<ferric_store::Page<(String, AsyncConfigRow)>, ApiError> {
    let FunctionRef { account, service, function } = target;
    Ok(ctl.store().list_async_configs(account, service, function, next_token, limit).await?)
}

pub async fn require(ctl: &Control, target: &FunctionRef, qualifier: &str) -> Result<AsyncConfigRow, ApiError> {
    get(ctl, target, qualifier).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::AsyncConfigNotExists,
            format!(
                "async invoke config of function '{}' in service '{}' does not exist",
                target.function, target.service
            ),
        )
    })
}

pub async fn delete(ctl: &Control, target: &FunctionRef, qualifier: &str) -> Result<(), ApiError> {
    ctl.store().delete_async_config(&target.account, &target.service, &target.function, qualifier).await?;
    Ok(())
}
