//! Async-invoke-config: retries, event age and destinations of a function's async invocations, per
//! qualifier. The queue reads it when it runs a job, so a change needs no invalidation.

use ferric_types::async_config::{AsyncConfigRow, AsyncInvokeConfig};
use ferric_types::ErrorCode;

use super::{Control, FunctionRef};
use crate::error::ApiError;

/// Only `LATEST` exists until versions do.
pub const QUALIFIER: &str = "LATEST";

pub async fn put(ctl: &Control, target: &FunctionRef, config: AsyncInvokeConfig) -> Result<AsyncConfigRow, ApiError> {
    config.validate()?;
    Ok(ctl.store().put_async_config(&target.account, &target.service, &target.function, QUALIFIER, config).await?)
}

/// The config when one was set.
pub async fn get(ctl: &Control, target: &FunctionRef) -> Result<Option<AsyncConfigRow>, ApiError> {
    Ok(ctl.store().get_async_config(&target.account, &target.service, &target.function, QUALIFIER).await?)
}

pub async fn require(ctl: &Control, target: &FunctionRef) -> Result<AsyncConfigRow, ApiError> {
    get(ctl, target).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::AsyncConfigNotExists,
            format!(
                "async invoke config of function '{}' in service '{}' does not exist",
                target.function, target.service
            ),
        )
    })
}

pub async fn delete(ctl: &Control, target: &FunctionRef) -> Result<(), ApiError> {
    ctl.store().delete_async_config(&target.account, &target.service, &target.function, QUALIFIER).await?;
    Ok(())
}
