//! Triggers. Which types exist and what their configs must hold is decided by the `triggers` crate; the
//! config itself is stored and echoed verbatim. Every change re-reads timers and forgets the function's
//! cached HTTP trigger.

use ferric_store::{ListQuery, Page};
use ferric_triggers::{validate_config, TriggerType};
use ferric_types::name::{validate_name, NameRule};
use ferric_types::trigger::{Trigger, TriggerPatch, TriggerSpec};
use ferric_types::FcError;

use super::{Control, FunctionRef};
use crate::error::ApiError;

/// Checks a spec's config against the rules of its trigger type.
fn check(spec: &TriggerSpec) -> Result<(), FcError> {
    validate_config(spec.trigger_type, &spec.trigger_config).map_err(|e| FcError::invalid(e.to_string()))
}

pub async fn create(ctl: &Control, target: &FunctionRef, patch: TriggerPatch) -> Result<Trigger, ApiError> {
    let FunctionRef { account, service, function } = target;
    let name = patch.trigger_name.clone().ok_or_else(|| ApiError::invalid("triggerName is required"))?;
    validate_name("trigger", &name, NameRule::Fc)?;
    let spec = TriggerSpec::from_create(patch)?;
    check(&spec)?;
    require_qualifier(ctl, target, spec.qualifier.as_deref()).await?;
    if spec.trigger_type == TriggerType::Http {
        require_no_http_trigger(ctl, target, &name).await?;
    }
    let trigger = ctl.store().create_trigger(account, service, function, &name, spec).await?;
    ctl.triggers_changed(account, service, function);
    Ok(trigger)
}

/// A trigger fires its `qualifier`, so it must name one that exists, as FC checks: an unknown alias is
/// `AliasNotFound`, an unknown version `VersionNotFound` (both 404). An alias deleted later is caught
/// when the trigger fires.
async fn require_qualifier(ctl: &Control, target: &FunctionRef, qualifier: Option<&str>) -> Result<(), ApiError> {
    match qualifier.filter(|q| !q.is_empty()) {
        Some(q) => super::versions::resolve(ctl, &target.account, &target.service, q).await.map(drop),
        None => Ok(()),
    }
}

/// FC gives a function at most one HTTP trigger: its URL is the function's address. A trigger of the
/// same name is left to the store, which answers `TriggerAlreadyExists`.
async fn require_no_http_trigger(ctl: &Control, target: &FunctionRef, name: &str) -> Result<(), ApiError> {
    let FunctionRef { account, service, function } = target;
    let mut query = ListQuery { limit: ferric_types::limits::LIST_LIMIT.end().to_owned(), ..Default::default() };
    loop {
        let page = ctl.store().list_triggers(account, service, function, query.clone()).await?;
        if let Some(existing) = page.items.iter().find(|t| t.spec.trigger_type == TriggerType::Http && t.name != name) {
            return Err(ApiError::invalid(format!(
                "function '{function}' already has the HTTP trigger '{}'; a function can have only one",
                existing.name
            )));
        }
        match page.next_token {
            Some(token) => query.next_token = Some(token),
            None => return Ok(()),
        }
    }
}

pub async fn list(ctl: &Control, target: &FunctionRef, query: ListQuery) -> Result<Page<Trigger>, ApiError> {
    Ok(ctl.store().list_triggers(&target.account, &target.service, &target.function, query).await?)
}

/// The trigger, or the outermost missing resource, as FC names it.
pub async fn require(ctl: &Control, target: &FunctionRef, trigger: &str) -> Result<Trigger, ApiError> {
    let FunctionRef { account, service, function } = target;
    match ctl.store().get_trigger(account, service, function, trigger).await? {
        Some(found) => Ok(found),
        None => {
            super::functions::require(ctl, account, service, function).await?;
            Err(FcError::trigger_not_found(function, trigger).into())
        }
    }
}

pub async fn update(
    ctl: &Control,
    target: &FunctionRef,
    trigger: &str,
    if_match: Option<String>,
    patch: TriggerPatch,
) -> Result<Trigger, ApiError> {
    require_qualifier(ctl, target, patch.qualifier.as_deref()).await?;
    let FunctionRef { account, service, function } = target;
    let update = Box::new(move |spec: &mut TriggerSpec| {
        spec.apply(patch)?;
        check(spec)
    });
    let updated = ctl.store().update_trigger(account, service, function, trigger, if_match, update).await?;
    ctl.triggers_changed(account, service, function);
    Ok(updated)
}

pub async fn delete(
    ctl: &Control,
    target: &FunctionRef,
    trigger: &str,
    if_match: Option<String>,
) -> Result<(), ApiError> {
    let FunctionRef { account, service, function } = target;
    ctl.store().delete_trigger(account, service, function, trigger, if_match).await?;
    ctl.triggers_changed(account, service, function);
    Ok(())
}
