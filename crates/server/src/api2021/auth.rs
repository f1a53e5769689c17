//! ACS3-HMAC-SHA256 verification for the 2021-04-06 API (the scheme is in `ferric_types::acs3`).
//!
//! What a request must carry, as both official SDKs send it: `Authorization`, `x-acs-date` (ISO 8601 UTC,
//! inside the server's clock window), `x-acs-signature-nonce` (each accepted once, `nonce.rs`) and
//! `x-acs-content-sha256` (checked against the body, which is read here once the signature over the
//! claimed hash holds, to the largest body any route takes, and handed on). `host`, those three and every
//! other `x-acs-*` header sent must be among the signed headers. `x-fc-*` headers may travel unsigned (the
//! Node SDK signs only `host`, `content-type` and `x-acs-*`), and so may `content-type` (the Python SDK's
//! aiohttp transport adds one after signing; bodies are decoded whatever it says). The account is the
//! access key's, as with the 2016 signature; STS tokens (`x-acs-security-token`) are refused, there being
//! no STS here.

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use ferric_types::acs3;
use ferric_types::ErrorCode;
use subtle::ConstantTimeEq;

use super::nonce::NonceCache;
use crate::error::ApiError;
use crate::state::AppState;

/// Headers every signature must cover.
const REQUIRED_SIGNED: [&str; 4] = ["host", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce"];
/// More signed headers than any SDK sends is refused before any hashing.
const MAX_SIGNED_HEADERS: usize = 64;
const MAX_NONCE_CHARS: usize = 128;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    match headers.get(name) {
        None => Ok(""),
        Some(v) => v.to_str().map_err(|_| ApiError::invalid(format!("header {name} is not valid text"))),
    }
}

fn required<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    let value = header(headers, name)?;
    if value.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingRequiredHeader,
            format!("required HTTP header {name} was not specified"),
        ));
    }
    Ok(value)
}

fn short(text: &str) -> String {
    text.chars().take(128).collect()
}

/// Verifies an ACS3-signed request and returns its account and its body, read to `body_limit` bytes.
pub async fn verify(
    state: &AppState,
    nonces: &NonceCache,
    parts: &Parts,
    body: Body,
    body_limit: usize,
) -> Result<(String, Bytes), ApiError> {
    let headers = &parts.headers;
    let authorization = required(headers, "authorization")?;
    let Some(auth) = acs3::parse_authorization(authorization) else {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            "malformed Authorization header; expected 'ACS3-HMAC-SHA256 Credential=<accessKeyId>,\
             SignedHeaders=<h1;h2>,Signature=<hex>'",
        ));
    };
    if auth.algorithm != acs3::ALGORITHM {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            format!("signature algorithm '{}' is not supported; use {}", short(auth.algorithm), acs3::ALGORITHM),
        ));
    }
    if !header(headers, "x-acs-security-token")?.is_empty() {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            "STS security tokens are not supported: sign with an access key of this server",
        ));
    }
    check_signed_headers(headers, &auth.signed_headers)?;
    let date = required(headers, "x-acs-date")?;
    let nonce = required(headers, "x-acs-signature-nonce")?;
    if nonce.chars().count() > MAX_NONCE_CHARS {
        return Err(ApiError::invalid(format!("x-acs-signature-nonce is longer than {MAX_NONCE_CHARS} characters")));
    }
    let claimed_hash = required(headers, "x-acs-content-sha256")?;
    let config = state.config();
    let sent_at = check_date(date, config.max_clock_skew)?;
    let Some(key) = config.keyring.get(auth.key_id) else {
        return Err(ApiError::new(
            ErrorCode::InvalidAccessKeyId,
            format!("invalid access key ID '{}'", short(auth.key_id)),
        ));
    };

    let mut values_error = None;
    let block = acs3::canonical_headers(&auth.signed_headers, |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().map_err(|_| values_error = Some(name.to_string())).ok())
            .collect()
    });
    if let Some(name) = values_error {
        return Err(ApiError::invalid(format!("header {name} is not valid text")));
    }
    let canonical = acs3::canonical_request(&acs3::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or(""),
        canonical_headers: &block,
        signed_headers: &auth.signed_headers,
        payload_hash: claimed_hash,
    });
    let expected = acs3::sign(&key.secret, &acs3::string_to_sign(&canonical));
    if !bool::from(expected.as_bytes().ct_eq(auth.signature.to_ascii_lowercase().as_bytes())) {
        return Err(ApiError::new(
            ErrorCode::SignatureNotMatch,
            "The request signature we calculated does not match the signature you provided. \
             Check your access key and signing method.",
        ));
    }

    // Only signed requests reach the cache, so an anonymous flood cannot evict real nonces.
    let window = i64::try_from(config.max_clock_skew.as_secs()).unwrap_or(i64::MAX);
    let forget_at = sent_at.saturating_add(window).saturating_add(1);
    if !nonces.first_use(nonce, Utc::now().timestamp(), forget_at) {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            format!("the signature nonce '{}' has been used already", short(nonce)),
        ));
    }

    // The signature covers the claimed hash, so the body is read only for a signed request.
    let body = crate::body::read(body, body_limit).await?;
    if !acs3::payload_hash(&body).eq_ignore_ascii_case(claimed_hash) {
        return Err(ApiError::new(
            ErrorCode::SignatureNotMatch,
            "x-acs-content-sha256 is not the SHA-256 of the request body",
        ));
    }

    // The 2021 SDKs send header values as JSON text, so a string may arrive quoted.
    let claimed = header(headers, "x-fc-account-id")?.trim_matches('"');
    if !claimed.is_empty() && claimed != key.account_id {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            format!("the access key '{}' does not belong to account '{}'", key.id, short(claimed)),
        ));
    }
    Ok((key.account_id.clone(), body))
}

fn check_signed_headers(headers: &HeaderMap, signed: &[&str]) -> Result<(), ApiError> {
    if signed.len() > MAX_SIGNED_HEADERS {
        return Err(ApiError::invalid(format!("more than {MAX_SIGNED_HEADERS} signed headers")));
    }
    for name in signed {
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ApiError::new(
                ErrorCode::AccessDenied,
                format!("SignedHeaders must list lower-case header names; got '{}'", short(name)),
            ));
        }
    }
    let must: Vec<&str> = REQUIRED_SIGNED
        .into_iter()
        .chain(headers.keys().map(|n| n.as_str()).filter(|n| n.starts_with("x-acs-")))
        .collect();
    if let Some(missing) = must.into_iter().find(|n| !signed.contains(n)) {
        return Err(ApiError::new(ErrorCode::AccessDenied, format!("header {missing} must be signed (SignedHeaders)")));
    }
    Ok(())
}

/// `x-acs-date` (`2006-01-02T15:04:05Z`) as unix seconds, refused outside `max` of the server's clock.
fn check_date(date: &str, max: std::time::Duration) -> Result<i64, ApiError> {
    let Ok(parsed) = DateTime::parse_from_rfc3339(date) else {
        return Err(ApiError::invalid(format!(
            "the x-acs-date header '{}' is not an ISO 8601 UTC time such as '2006-01-02T15:04:05Z'",
            short(date)
        )));
    };
    let now = Utc::now();
    let skew = (now - parsed.with_timezone(&Utc)).num_seconds().unsigned_abs();
    if skew > max.as_secs() {
        return Err(ApiError::new(
            ErrorCode::RequestTimeTooSkewed,
            format!(
                "the difference between the request time '{}' and the current time '{}' is too large",
                short(date),
                now.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        ));
    }
    Ok(parsed.timestamp())
}
