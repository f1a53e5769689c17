//! FC request authentication, exactly as the official SDKs sign.
//!
//! The signed resource of an API call is the percent-decoded path without the query (no SDK signs the
//! query there). Every `x-fc-*` header is canonicalised, empty ones too (Go sends an empty
//! `x-fc-account-id`). Content-MD5 is signed as sent but never checked against the body: the Node SDK sends
//! base64 of the hex digest, Go the hex digest. The account is the access key's; a non-empty
//! `x-fc-account-id` naming another account is refused.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use ferric_types::signature::{self, SignedParts};
use ferric_types::ErrorCode;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// The account a request acts for, set by authentication.
#[derive(Debug, Clone)]
pub struct Account(pub String);

/// Middleware for the FC API: verifies the signature and attaches the [`Account`] to the request (for
/// the route) and to the response (for the access log).
pub async fn fc_api(State(state): State<AppState>, mut request: Request, next: Next) -> Result<Response, ApiError> {
    let raw = request.uri().path();
    let resource = signature::decode_path(raw);
    let account = match verify(&state, request.method(), request.headers(), &resource) {
        // The Python SDK signs the decoded path; the Node SDK signs the path as it sends it, and a path
        // segment it encodes itself (GetLayerVersionByArn's `encodeURIComponent(arn)`) then differs.
        // Both name the same resource, and either signature needs the secret.
        Err(ApiError(e)) if e.code == ErrorCode::SignatureNotMatch && raw != resource => {
            verify(&state, request.method(), request.headers(), raw)?
        }
        other => other?,
    };
    request.extensions_mut().insert(Account(account.clone()));
    let mut response = next.run(request).await;
    response.extensions_mut().insert(Account(account));
    Ok(response)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    match headers.get(name) {
        None => Ok(""),
        Some(v) => v.to_str().map_err(|_| ApiError::invalid(format!("header {name} is not valid text"))),
    }
}

/// Checks a signed request against the keyring and returns the account it acts for.
pub fn verify(state: &AppState, method: &Method, headers: &HeaderMap, resource: &str) -> Result<String, ApiError> {
    let config = state.config();
    let authorization = header(headers, "authorization")?;
    if authorization.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingRequiredHeader,
            "required HTTP header Authorization was not specified",
        ));
    }
    let Some((key_id, given)) = signature::parse_authorization(authorization) else {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            "malformed Authorization header; expected 'FC <accessKeyId>:<signature>'",
        ));
    };
    let date = header(headers, "date")?;
    if date.is_empty() {
        return Err(ApiError::new(ErrorCode::MissingRequiredHeader, "required HTTP header Date was not specified"));
    }
    check_skew(date, config.max_clock_skew)?;
    let Some(key) = config.keyring.get(key_id) else {
        return Err(ApiError::new(
            ErrorCode::InvalidAccessKeyId,
            format!("invalid access key ID '{}'", key_id.chars().take(128).collect::<String>()),
        ));
    };

    let mut fc_headers = Vec::new();
    for (name, value) in headers {
        if name.as_str().starts_with("x-fc-") {
            let value = value.to_str().map_err(|_| ApiError::invalid(format!("header {name} is not valid text")))?;
            fc_headers.push((name.as_str(), value));
        }
    }
    let canonical_headers = signature::canonical_fc_headers(fc_headers);
    let string_to_sign = signature::string_to_sign(&SignedParts {
        method: method.as_str(),
        content_md5: header(headers, "content-md5")?,
        content_type: header(headers, "content-type")?,
        date,
        canonical_headers: &canonical_headers,
        resource,
    });
    let expected = signature::sign(&key.secret, &string_to_sign);
    if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
        return Err(ApiError::new(
            ErrorCode::SignatureNotMatch,
            "The request signature we calculated does not match the signature you provided. \
             Check your access key and signing method.",
        ));
    }

    let claimed = header(headers, "x-fc-account-id")?;
    if !claimed.is_empty() && claimed != key.account_id {
        return Err(ApiError::new(
            ErrorCode::AccessDenied,
            format!(
                "the access key '{}' does not belong to account '{}'",
                key.id,
                claimed.chars().take(64).collect::<String>()
            ),
        ));
    }
    Ok(key.account_id.clone())
}

fn check_skew(date: &str, max: std::time::Duration) -> Result<(), ApiError> {
    let Ok(parsed) = DateTime::parse_from_rfc2822(date) else {
        return Err(ApiError::invalid(format!(
            "the Date header '{}' is not an RFC 1123 date such as 'Mon, 02 Jan 2006 15:04:05 GMT'",
            date.chars().take(64).collect::<String>()
        )));
    };
    let now = Utc::now();
    let skew = (now - parsed.with_timezone(&Utc)).num_seconds().unsigned_abs();
    if skew > max.as_secs() {
        return Err(ApiError::new(
            ErrorCode::RequestTimeTooSkewed,
            format!(
                "the difference between the request time '{date}' and the current time '{}' is too large",
                now.format("%a, %d %b %Y %H:%M:%S GMT")
            ),
        ));
    }
    Ok(())
}
