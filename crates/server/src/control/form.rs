//! The form API's own state: the one service its functions live in (made on first use), the listing by
//! substring, and the opaque per-function `FunctionConfig` text. Its creates, updates and deletes are the
//! same commands as the FC API's (`functions`).

use ferric_store::FunctionSearch;
use ferric_types::function::Function;
use ferric_types::service::ServiceSpec;
use ferric_types::{ErrorCode, FcError};

use super::Control;
use crate::error::ApiError;

/// The form service exists on first use.
pub async fn ensure_service(ctl: &Control, account: &str, service: &str) -> Result<(), ApiError> {
    if ctl.store().get_service(account, service).await?.is_none() {
        let spec = ServiceSpec { description: "functions of the /api/v1/func form API".into(), ..Default::default() };
        match ctl.store().create_service(account, service, spec).await {
            Ok(_) => {}
            Err(ferric_store::StoreError::Rejected(e)) if e.code == ErrorCode::ServiceAlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A form function (no `ServiceNotFound`: the form service is an implementation detail).
pub async fn require(ctl: &Control, account: &str, service: &str, name: &str) -> Result<Function, ApiError> {
    super::functions::get(ctl, account, service, name)
        .await?
        .ok_or_else(|| FcError::function_not_found(service, name).into())
}

/// One page of the service's functions whose names contain a substring, and how many match in all.
pub async fn search(
    ctl: &Control,
    account: &str,
    service: &str,
    search: FunctionSearch,
) -> Result<(Vec<Function>, u64), ApiError> {
    Ok(ctl.store().search_functions(account, service, search).await?)
}

/// The stored `FunctionConfig` text, `""` when never set.
pub async fn config(ctl: &Control, account: &str, service: &str, name: &str) -> Result<String, ApiError> {
    Ok(ctl.store().get_form_config(account, service, name).await?.unwrap_or_default())
}

pub async fn set_config(ctl: &Control, account: &str, service: &str, name: &str, text: String) -> Result<(), ApiError> {
    Ok(ctl.store().set_form_config(account, service, name, text).await?)
}
