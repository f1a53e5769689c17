//! FC's request signature: `Authorization: FC <accessKeyId>:<base64(HMAC-SHA256(secret, StringToSign))>`.
//!
//! ```text
//! StringToSign = METHOD \n CONTENT-MD5 \n CONTENT-TYPE \n DATE \n CanonicalizedFCHeaders CanonicalizedResource
//! ```
//! The official SDKs never sign the query of an API path; HTTP-trigger paths (`/proxy/`) sign the sorted,
//! form-decoded `key=value` lines of the query after the path, with a trailing newline when there are none.
//! Signing lives here so the server (verifying) and the client (signing) share one definition.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `x-fc-*` header lines: lower-cased names, sorted, values verbatim (empty values included).
pub fn canonical_fc_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut lines: Vec<(String, &str)> = headers
        .into_iter()
        .filter_map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            lower.starts_with("x-fc-").then_some((lower, value))
        })
        .collect();
    lines.sort();
    let mut out = String::new();
    for (name, value) in lines {
        out.push_str(&name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out
}

/// The resource of an HTTP-trigger request: the decoded path, then one sorted `key=value` line per
/// query pair (`+` decodes to a space, as Python and Go encode it).
pub fn proxy_resource(decoded_path: &str, raw_query: &str) -> String {
    let mut lines: Vec<String> = form_urlencoded::parse(raw_query.as_bytes())
        .map(
            |(k, v)| {
                if v.is_empty() && !raw_query_has_equals(raw_query, &k) {
                    k.into_owned()
                } else {
                    format!("{k}={v}")
                }
            },
        )
        .collect();
    lines.sort();
    let mut out = String::with_capacity(decoded_path.len() + 1 + raw_query.len());
    out.push_str(decoded_path);
    out.push('\n');
    out.push_str(&lines.join("\n"));
    out
}

/// A bare `key` (no `=`) signs as `key`; `key=` signs as `key=`.
fn raw_query_has_equals(raw_query: &str, key: &str) -> bool {
    raw_query.split('&').any(|pair| {
        let (k, has_eq) = match pair.split_once('=') {
            Some((k, _)) => (k, true),
            None => (pair, false),
        };
        has_eq && form_urlencoded::parse(format!("{k}=").as_bytes()).any(|(dk, _)| dk == key)
    })
}

/// Percent-decodes a request path once, as the SDKs sign it.
pub fn decode_path(raw_path: &str) -> String {
    percent_encoding::percent_decode_str(raw_path).decode_utf8_lossy().into_owned()
}

/// The parts of a request that are signed.
pub struct SignedParts<'a> {
    pub method: &'a str,
    pub content_md5: &'a str,
    pub content_type: &'a str,
    pub date: &'a str,
    pub canonical_headers: &'a str,
    pub resource: &'a str,
}

pub fn string_to_sign(parts: &SignedParts<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}{}",
        parts.method.to_ascii_uppercase(),
        parts.content_md5,
        parts.content_type,
        parts.date,
        parts.canonical_headers,
        parts.resource
    )
}

/// The raw HMAC-SHA256 of a string to sign.
pub fn hmac_sha256(secret: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The base64 signature the SDKs put after `FC <keyId>:`.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()))
}

/// Splits `FC <keyId>:<signature>`.
pub fn parse_authorization(header: &str) -> Option<(&str, &str)> {
    let rest = header.strip_prefix("FC ")?;
    let (key_id, signature) = rest.split_once(':')?;
    (!key_id.is_empty() && !signature.is_empty()).then_some((key_id.trim(), signature.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sdk_vectors() {
        assert_eq!(
            sign("test-secret", "GET\n\napplication/json\nMon, 02 Jan 2006 15:04:05 GMT\n/2016-08-15/services"),
            "DvzQSDG12iuUCrFJUqjorj7p1rvxcOnbo/Kj03uW+aQ="
        );
        let headers = canonical_fc_headers([("X-Fc-Account-Id", "1234567890")]);
        let s = string_to_sign(&SignedParts {
            method: "get",
            content_md5: "",
            content_type: "",
            date: "Mon, 02 Jan 2006 15:04:05 GMT",
            canonical_headers: &headers,
            resource: "/2016-08-15/services/svc",
        });
        assert_eq!(sign("test-secret", &s), "nn5n3v3+OcgpbMd06GflZphm4rtt9ig4CYkAa1VmZfc=");
    }

    #[test]
    fn proxy_resource_matches_signed_url_vector() {
        let resource = proxy_resource(
            "/2016-08-15/proxy/service.LATEST/func/abc 123",
            "x=xyz&a=123+45&x-fc-access-key-id=akID&x-fc-expires=1583221068&x-fc-security-token=stsToken&x=456",
        );
        assert_eq!(
            resource,
            "/2016-08-15/proxy/service.LATEST/func/abc 123\na=123 45\nx-fc-access-key-id=akID\n\
             x-fc-expires=1583221068\nx-fc-security-token=stsToken\nx=456\nx=xyz"
        );
        let headers = canonical_fc_headers([("x-fc-trace-id", "trace-id")]);
        let s = string_to_sign(&SignedParts {
            method: "GET",
            content_md5: "ef5b43a0fe1d5b401b62c3ba33a7a3d6",
            content_type: "text/json",
            date: "1583221068",
            canonical_headers: &headers,
            resource: &resource,
        });
        assert_eq!(sign("S9MWOBG0AOWHSO9HPASP216QOPHT5YR4NLH3A", &s), "QFdNhz0Dl+onUM/MvpX940WFH3H8OHayZHbby1c01aI=");
        assert_eq!(proxy_resource("/p", ""), "/p\n");
        assert_eq!(proxy_resource("/p", "flag&b="), "/p\nb=\nflag");
    }

    #[test]
    fn empty_header_values_are_canonicalised() {
        assert_eq!(
            canonical_fc_headers([("X-Fc-Trace-Id", "t"), ("x-fc-account-id", ""), ("Date", "d")]),
            "x-fc-account-id:\nx-fc-trace-id:t\n"
        );
        assert_eq!(parse_authorization("FC key:sig="), Some(("key", "sig=")));
        assert_eq!(parse_authorization("Bearer x"), None);
    }
}
