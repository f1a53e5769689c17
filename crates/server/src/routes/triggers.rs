//! `/2016-08-15/services/{service}/functions/{function}/triggers[/{trigger}]`: CreateTrigger, ListTriggers,
//! GetTrigger, UpdateTrigger, DeleteTrigger. Which types exist and what their configs must hold is decided
//! by the `triggers` crate; the config itself is stored and echoed verbatim.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use ferric_triggers::{validate_config, TriggerType};
use ferric_types::fields::parse_body;
use ferric_types::name::{validate_name, NameRule};
use ferric_types::trigger::{TriggerPatch, TriggerSpec, TRIGGER_SHAPE};
use ferric_types::FcError;

use super::functions::read_service;
use super::{if_match, json, no_content, page_response, ListParams, Params};
use crate::auth::Account;
use crate::error::ApiError;
use crate::state::AppState;

/// Checks a spec against the rules of its trigger type.
fn check(spec: &TriggerSpec) -> Result<(), FcError> {
    let kind = TriggerType::parse(&spec.trigger_type).map_err(|e| FcError::invalid(e.to_string()))?;
    validate_config(kind, &spec.trigger_config).map_err(|e| FcError::invalid(e.to_string()))
}

fn names(service: &str, function: &str) -> Result<(), ApiError> {
    validate_name("service", service, NameRule::Lenient)?;
    validate_name("function", function, NameRule::Lenient)?;
    Ok(())
}

async fn read_patch(state: &AppState, body: Body) -> Result<TriggerPatch, ApiError> {
    let body = crate::body::read(body, state.config().max_body_bytes).await?;
    Ok(parse_body(&body, &TRIGGER_SHAPE)?)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
    body: Body,
) -> Result<Response, ApiError> {
    names(&service, &function)?;
    let patch = read_patch(&state, body).await?;
    let name = patch.trigger_name.clone().ok_or_else(|| ApiError::invalid("triggerName is required"))?;
    validate_name("trigger", &name, NameRule::Fc)?;
    let spec = TriggerSpec::from_create(patch)?;
    check(&spec)?;
    if spec.trigger_type == TriggerType::Http.as_str() {
        require_no_http_trigger(&state, &account, &service, &function, &name).await?;
    }
    let trigger = state.inner().store.create_trigger(&account.0, &service, &function, &name, spec).await?;
    crate::control::triggers_changed(&state, &account.0, &service, &function);
    Ok(json(StatusCode::OK, &trigger.view(), Some(&trigger.meta.etag)))
}

/// FC gives a function at most one HTTP trigger: its URL is the function's address. A trigger of the
/// same name is left to the store, which answers `TriggerAlreadyExists`.
async fn require_no_http_trigger(
    state: &AppState,
    account: &Account,
    service: &str,
    function: &str,
    name: &str,
) -> Result<(), ApiError> {
    let mut query =
        ferric_store::ListQuery { limit: ferric_types::limits::LIST_LIMIT.end().to_owned(), ..Default::default() };
    loop {
        let page = state.inner().store.list_triggers(&account.0, service, function, query.clone()).await?;
        if let Some(existing) =
            page.items.iter().find(|t| t.spec.trigger_type == TriggerType::Http.as_str() && t.name != name)
        {
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

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function)): Params<(String, String)>,
    params: ListParams,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    names(&service, &function)?;
    let page = state.inner().store.list_triggers(&account.0, &service, &function, params.into_query()?).await?;
    Ok(page_response("triggers", &page, |t| serde_json::to_value(t.view())))
}

pub async fn get(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function, trigger)): Params<(String, String, String)>,
) -> Result<Response, ApiError> {
    let service = read_service(&service)?;
    names(&service, &function)?;
    validate_name("trigger", &trigger, NameRule::Lenient)?;
    let store = &state.inner().store;
    let Some(found) = store.get_trigger(&account.0, &service, &function, &trigger).await? else {
        // Name the outermost missing resource, as FC does.
        super::functions::require(&state, &account, &service, &function).await?;
        return Err(FcError::trigger_not_found(&function, &trigger).into());
    };
    Ok(json(StatusCode::OK, &found.view(), Some(&found.meta.etag)))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function, trigger)): Params<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    names(&service, &function)?;
    validate_name("trigger", &trigger, NameRule::Lenient)?;
    let patch = read_patch(&state, body).await?;
    let updated = state
        .inner()
        .store
        .update_trigger(
            &account.0,
            &service,
            &function,
            &trigger,
            if_match(&headers),
            Box::new(move |spec| {
                spec.apply(patch)?;
                check(spec)
            }),
        )
        .await?;
    crate::control::triggers_changed(&state, &account.0, &service, &function);
    Ok(json(StatusCode::OK, &updated.view(), Some(&updated.meta.etag)))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params((service, function, trigger)): Params<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    names(&service, &function)?;
    validate_name("trigger", &trigger, NameRule::Lenient)?;
    state.inner().store.delete_trigger(&account.0, &service, &function, &trigger, if_match(&headers)).await?;
    crate::control::triggers_changed(&state, &account.0, &service, &function);
    Ok(no_content())
}
