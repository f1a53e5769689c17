//! Functions with their code packages. Both the FC API and the form API create, change and delete
//! functions here, so a function behaves the same whichever way it was made.

use ferric_store::{ListQuery, Page};
use ferric_types::function::{Function, FunctionPatch, FunctionSpec};
use ferric_types::name::{validate_name, NameRule};
use ferric_types::runtime::{invalid_runtime_message, Runtime};
use ferric_types::{ErrorCode, FcError};

use super::code::{self, ZipInput};
use super::{Control, FunctionRef};
use crate::error::ApiError;

/// The FC API's runtime rule: a runtime FC documents, or one this server offers (`python3.11` when that
/// is the installed Python). A refusal starts with FC's message (the SDKs' suites look for it) and names
/// what this server runs. `None` is absent on update and invalid on create.
pub fn check_runtime(ctl: &Control, runtime: Option<&str>, creating: bool) -> Result<(), ApiError> {
    let Some(runtime) = runtime.or(creating.then_some("")) else { return Ok(()) };
    if Runtime::parse(runtime).is_some_and(|r| r.is_documented()) {
        return Ok(());
    }
    let offered = ctl.parts().invoker.runtimes().offered();
    if offered.iter().any(|r| r == runtime) {
        return Ok(());
    }
    Err(ApiError::invalid(invalid_runtime_message(runtime, &offered)))
}

/// The function, or `ServiceNotFound` / `FunctionNotFound` as FC distinguishes them.
pub async fn require(ctl: &Control, account: &str, service: &str, function: &str) -> Result<Function, ApiError> {
    validate_name("function", function, NameRule::Lenient)?;
    match ctl.store().get_function(account, service, function).await? {
        Some(f) => Ok(f),
        None if ctl.store().get_service(account, service).await?.is_none() => {
            Err(FcError::service_not_found(service).into())
        }
        None => Err(FcError::function_not_found(service, function).into()),
    }
}

/// A function when it exists; its service is not checked.
pub async fn get(ctl: &Control, account: &str, service: &str, function: &str) -> Result<Option<Function>, ApiError> {
    Ok(ctl.store().get_function(account, service, function).await?)
}

pub async fn list(ctl: &Control, account: &str, service: &str, query: ListQuery) -> Result<Page<Function>, ApiError> {
    Ok(ctl.store().list_functions(account, service, query).await?)
}

/// CreateFunction: the name rule is FC's for the FC API and lenient for the form API.
pub async fn create(
    ctl: &Control,
    account: &str,
    service: &str,
    name_rule: NameRule,
    patch: FunctionPatch,
    zip: ZipInput,
) -> Result<Function, ApiError> {
    let name = patch.function_name.clone().ok_or_else(|| ApiError::invalid("functionName is required"))?;
    validate_name("function", &name, name_rule)?;
    let mut spec = FunctionSpec::default();
    spec.apply(patch)?;
    super::layers::check_function_layers(ctl, account, &spec.runtime, &spec.layers).await?;
    // Fail fast before the expensive part when the names alone decide the answer.
    if ctl.store().get_function(account, service, &name).await?.is_some() {
        return Err(ApiError::new(
            ErrorCode::FunctionAlreadyExists,
            format!("function '{name}' already exists in service '{service}'"),
        ));
    }
    if ctl.store().get_service(account, service).await?.is_none() {
        return Err(FcError::service_not_found(service).into());
    }
    let shared = code::upload_guard(ctl).await;
    let package = code::put(ctl, zip).await?;
    let created = ctl.store().create_function(account, service, &name, spec, package.clone()).await;
    drop(shared);
    match created {
        Ok(function) => Ok(function),
        Err(e) => {
            code::collect_garbage(ctl, &package.checksum).await;
            Err(e.into())
        }
    }
}

/// UpdateFunction: the spec change is validated before any code is stored, so a bad field never costs an
/// upload; instances of the old version drain.
pub async fn update(
    ctl: &Control,
    target: &FunctionRef,
    if_match: Option<String>,
    patch: FunctionPatch,
    zip: Option<ZipInput>,
) -> Result<Function, ApiError> {
    let FunctionRef { account, service, function: name } = target;
    let current = ctl
        .store()
        .get_function(account, service, name)
        .await?
        .ok_or_else(|| FcError::function_not_found(service, name))?;
    let mut preview = current.spec.clone();
    preview.apply(patch.clone())?;
    if preview.layers != current.spec.layers || preview.runtime != current.spec.runtime {
        super::layers::check_function_layers(ctl, account, &preview.runtime, &preview.layers).await?;
    }

    let shared = code::upload_guard(ctl).await;
    let package = match zip {
        Some(zip) => Some(code::put(ctl, zip).await?),
        None => None,
    };
    let new_checksum = package.as_ref().map(|c| c.checksum.clone());
    let updated = ctl
        .store()
        .update_function(account, service, name, if_match, Box::new(move |spec| spec.apply(patch)), package)
        .await;
    drop(shared);
    ctl.function_changed(account, service, name, true);
    match updated {
        Ok((function, replaced)) => {
            if let Some(old) = replaced {
                code::collect_garbage(ctl, &old).await;
            }
            super::layers::release_unlisted(ctl, account).await;
            Ok(function)
        }
        Err(e) => {
            if let Some(checksum) = new_checksum {
                code::collect_garbage(ctl, &checksum).await;
            }
            Err(e.into())
        }
    }
}

/// DeleteFunction: its instances drain and its package goes when no function uses it.
pub async fn delete(ctl: &Control, target: &FunctionRef, if_match: Option<String>) -> Result<(), ApiError> {
    let FunctionRef { account, service, function } = target;
    let deleted = ctl.store().delete_function(account, service, function, if_match).await?;
    ctl.function_changed(account, service, function, true);
    super::provision::forget_function(ctl, account, service, function).await;
    code::collect_garbage(ctl, &deleted.code.checksum).await;
    if !deleted.spec.layers.is_empty() {
        super::layers::release_unlisted(ctl, account).await;
    }
    Ok(())
}
