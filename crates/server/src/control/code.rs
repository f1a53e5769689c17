//! Code packages: decoding and storing an upload (a bounded number at a time), removing packages no
//! function uses any more, and the signed URL GetFunctionCode hands out.
//!
//! FC answers GetFunctionCode with a pre-signed object-storage URL. Ferric answers with a URL of its own,
//! `/ferric/v1/code/{checksum}?expires=..&signature=..`, signed with a key private to the data directory,
//! so a client downloads the exact zip without FC auth until the URL expires. Packages are
//! content-addressed, so the URL binds the checksum and the expiry; anyone holding it already had read
//! access to that code.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use ferric_types::function::CodeRef;
use ferric_types::ErrorCode;
use subtle::ConstantTimeEq;

use super::Control;
use crate::error::ApiError;

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
pub(super) async fn put(ctl: &Control, zip: ZipInput) -> Result<CodeRef, ApiError> {
    let _permit = ctl.inner.code_uploads.acquire().await.map_err(|e| ApiError::internal("upload gate closed", &e))?;
    let code = ctl.parts().code.clone();
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

/// Holds off garbage collection from a package's write to its row's insert.
pub(super) async fn upload_guard(ctl: &Control) -> tokio::sync::RwLockReadGuard<'_, ()> {
    ctl.inner.code_gc.read().await
}

/// Removes a package once no function of any account points at it.
pub(super) async fn collect_garbage(ctl: &Control, checksum: &str) {
    let _exclusive = ctl.inner.code_gc.write().await;
    match ctl.store().code_in_use(checksum).await {
        Ok(true) => {}
        Ok(false) => {
            let code = ctl.parts().code.clone();
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
pub async fn sweep_unreferenced(ctl: &Control) {
    let _exclusive = ctl.inner.code_gc.write().await;
    let referenced = match ctl.store().referenced_code().await {
        Ok(set) => set,
        Err(e) => return tracing::warn!(error = %e, "code sweep skipped: cannot list referenced packages"),
    };
    let code = ctl.parts().code.clone();
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

fn url_signature(ctl: &Control, checksum: &str, expires: u64) -> String {
    let mac = ferric_types::signature::hmac_sha256(&ctl.parts().url_key, format!("{checksum}\n{expires}").as_bytes());
    URL_SAFE_NO_PAD.encode(mac)
}

fn now_s() -> u64 {
    chrono::Utc::now().timestamp().max(0) as u64
}

/// The path and query of a download URL for `checksum`, valid for `ttl`.
pub fn signed_path(ctl: &Control, checksum: &str, ttl: std::time::Duration) -> String {
    let expires = now_s() + ttl.as_secs();
    format!("/ferric/v1/code/{checksum}?expires={expires}&signature={}", url_signature(ctl, checksum, expires))
}

/// Checks a download URL's signature and expiry; the package's zip file, opened.
pub async fn open_signed(
    ctl: &Control,
    checksum: &str,
    expires: Option<u64>,
    signature: Option<&str>,
) -> Result<tokio::fs::File, ApiError> {
    let (Some(expires), Some(given)) = (expires, signature) else {
        return Err(ApiError::new(ErrorCode::AccessDenied, "the code URL is missing its expires or signature"));
    };
    let expected = url_signature(ctl, checksum, expires);
    if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        return Err(ApiError::new(ErrorCode::SignatureNotMatch, "the code URL signature is not valid"));
    }
    if now_s() > expires {
        return Err(ApiError::new(ErrorCode::AccessDenied, "the code URL has expired"));
    }
    let path = ctl.parts().code.zip_path(checksum)?;
    match tokio::fs::File::open(&path).await {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(ApiError::new(ErrorCode::NotFound, "the code package no longer exists"))
        }
        Err(e) => Err(ApiError::internal("opening a code package", &e)),
    }
}
