//! Control-plane commands that are more than one store call: functions with their code packages, and the
//! garbage collection of packages no function uses any more. Both the FC API and the form API use these,
//! so a function behaves the same whichever way it was made.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use ferric_types::function::{CodeRef, Function, FunctionPatch, FunctionSpec};
use ferric_types::name::{validate_name, NameRule};

use crate::error::ApiError;
use crate::state::AppState;

/// Standard base64, tolerant of missing padding (some clients strip it).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A code package as a request carries it.
pub enum ZipInput {
    /// `code.zipFile` of the FC API. Line breaks are allowed (MIME-style encoders wrap lines).
    Base64(String),
    /// Raw zip bytes (a form upload, or a package the server built).
    Bytes(Vec<u8>),
}

/// Decodes, checks, stores and extracts a package on the blocking pool, a bounded number at a time.
async fn put_code(state: &AppState, zip: ZipInput) -> Result<CodeRef, ApiError> {
    let _permit =
        state.inner().code_uploads.acquire().await.map_err(|e| ApiError::internal("upload gate closed", &e))?;
    let code = state.inner().code.clone();
    let package = tokio::task::spawn_blocking(move || {
        let bytes = match zip {
            ZipInput::Bytes(bytes) => bytes,
            ZipInput::Base64(text) => {
                let compact: Vec<u8> = text.into_bytes().into_iter().filter(|b| !b.is_ascii_whitespace()).collect();
                BASE64.decode(compact).map_err(|_| ApiError::invalid("code.zipFile is not valid base64"))?
            }
        };
        code.put(&bytes).map_err(ApiError::from)
    })
    .await
    .map_err(|e| ApiError::internal("code worker panicked", &e))??;
    Ok(CodeRef { checksum: package.checksum, size: package.size })
}

/// A function's spec, code or triggers changed (or it is gone): the data plane forgets what it cached and
/// instances of older versions drain.
pub fn function_changed(state: &AppState, account: &str, service: &str, function: &str, retire: bool) {
    let inner = state.inner();
    inner.catalog.invalidate_function(account, service, function);
    if retire {
        inner.invoker.retire(account, service, function);
    }
}

/// A trigger was created, changed or deleted: timers are re-read at once.
pub fn triggers_changed(state: &AppState, account: &str, service: &str, function: &str) {
    function_changed(state, account, service, function, false);
    state.inner().scheduler.reload();
}

/// A service's settings changed or it is gone.
pub fn service_changed(state: &AppState, account: &str, service: &str) {
    state.inner().catalog.invalidate_service(account, service);
}

/// Removes a package once no function of any account points at it.
pub async fn collect_garbage(state: &AppState, checksum: &str) {
    let inner = state.inner();
    let _exclusive = inner.code_gc.write().await;
    match inner.store.code_in_use(checksum).await {
        Ok(true) => {}
        Ok(false) => {
            let code = inner.code.clone();
            let checksum = checksum.to_string();
            let removed = tokio::task::spawn_blocking(move || code.remove(&checksum)).await;
            if let Ok(Err(e)) = removed {
                tracing::warn!(error = %e, "could not remove an unused code package");
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not check whether a code package is in use"),
    }
}

/// Removes packages no function points at: what a crash between writing a package and inserting its
/// function row leaves behind. Runs in the background after start; uploads wait for it.
pub async fn sweep_unreferenced_code(state: &AppState) {
    let inner = state.inner();
    let _exclusive = inner.code_gc.write().await;
    let referenced = match inner.store.referenced_code().await {
        Ok(set) => set,
        Err(e) => return tracing::warn!(error = %e, "code sweep skipped: cannot list referenced packages"),
    };
    let code = inner.code.clone();
    let swept = tokio::task::spawn_blocking(move || -> Result<usize, ferric_store::code::CodeError> {
        let mut removed = 0;
        for checksum in code.list()? {
            if !referenced.contains(&checksum) {
                code.remove(&checksum)?;
                removed += 1;
            }
        }
        Ok(removed)
    })
    .await;
    match swept {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::info!(removed = n, "removed unreferenced code packages"),
        Ok(Err(e)) => tracing::warn!(error = %e, "code sweep failed"),
        Err(e) => tracing::warn!(error = %e, "code sweep panicked"),
    }
}

pub async fn create_function(
    state: &AppState,
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
    let inner = state.inner();
    // Fail fast before the expensive part when the names alone decide the answer.
    if inner.store.get_function(account, service, &name).await?.is_some() {
        return Err(ApiError::new(
            ferric_types::ErrorCode::FunctionAlreadyExists,
            format!("function '{name}' already exists in service '{service}'"),
        ));
    }
    if inner.store.get_service(account, service).await?.is_none() {
        return Err(ferric_types::FcError::service_not_found(service).into());
    }
    let shared = inner.code_gc.read().await;
    let code = put_code(state, zip).await?;
    let created = inner.store.create_function(account, service, &name, spec, code.clone()).await;
    drop(shared);
    match created {
        Ok(function) => Ok(function),
        Err(e) => {
            collect_garbage(state, &code.checksum).await;
            Err(e.into())
        }
    }
}

pub async fn update_function(
    state: &AppState,
    account: &str,
    service: &str,
    name: &str,
    if_match: Option<String>,
    patch: FunctionPatch,
    zip: Option<ZipInput>,
) -> Result<Function, ApiError> {
    // Validate the spec change before touching code, so a bad field never costs an upload.
    let inner = state.inner();
    let current = inner
        .store
        .get_function(account, service, name)
        .await?
        .ok_or_else(|| ferric_types::FcError::function_not_found(service, name))?;
    let mut preview = current.spec.clone();
    preview.apply(patch.clone())?;

    let shared = inner.code_gc.read().await;
    let code = match zip {
        Some(zip) => Some(put_code(state, zip).await?),
        None => None,
    };
    let new_checksum = code.as_ref().map(|c| c.checksum.clone());
    let updated = inner
        .store
        .update_function(account, service, name, if_match, Box::new(move |spec| spec.apply(patch)), code)
        .await;
    drop(shared);
    function_changed(state, account, service, name, true);
    match updated {
        Ok((function, replaced)) => {
            if let Some(old) = replaced {
                collect_garbage(state, &old).await;
            }
            Ok(function)
        }
        Err(e) => {
            if let Some(checksum) = new_checksum {
                collect_garbage(state, &checksum).await;
            }
            Err(e.into())
        }
    }
}

pub async fn delete_function(
    state: &AppState,
    account: &str,
    service: &str,
    name: &str,
    if_match: Option<String>,
) -> Result<(), ApiError> {
    let deleted = state.inner().store.delete_function(account, service, name, if_match).await?;
    function_changed(state, account, service, name, true);
    collect_garbage(state, &deleted.code.checksum).await;
    Ok(())
}
