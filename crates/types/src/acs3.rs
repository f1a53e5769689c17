//! The ACS3-HMAC-SHA256 request signature of Alibaba Cloud's OpenAPI (the 2021-04-06 FC API's SDKs sign
//! with it):
//!
//! ```text
//! CanonicalRequest = METHOD \n PATH \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HexSha256(body)
//! StringToSign     = "ACS3-HMAC-SHA256" \n HexSha256(CanonicalRequest)
//! Authorization    = ACS3-HMAC-SHA256 Credential=<keyId>,SignedHeaders=<h1;h2>,Signature=Hex(HMAC-SHA256(secret, StringToSign))
//! ```
//!
//! The path is signed as it travels (percent-encoded, the SDKs encode each segment). The query is sorted
//! by key with keys and values in RFC 3986 encoding (only `A-Za-z0-9-_.~` left bare, a space as `%20`).
//! Each signed header is one `name:values` line, the name lower-cased, each value trimmed, several values
//! sorted and joined with `,`. The Python SDK signs every header it sets, the Node SDK `host`,
//! `content-type` and the `x-acs-*` ones; the `SignedHeaders` list says which.

use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// The only algorithm accepted (the SDKs' default; SM3 and RSA variants exist but need other keys).
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// RFC 3986 unreserved characters stay bare; everything else is percent-encoded.
const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The parts of an `Authorization: ACS3-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    pub algorithm: &'a str,
    pub key_id: &'a str,
    /// Lower-case header names in the order the client signed them.
    pub signed_headers: Vec<&'a str>,
    pub signature: &'a str,
}

/// Parses `<algorithm> Credential=..,SignedHeaders=..,Signature=..`; `None` when a part is missing,
/// repeated or empty.
pub fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let (algorithm, rest) = value.trim().split_once(' ')?;
    let (mut key_id, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        let slot = match name {
            "Credential" => &mut key_id,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return None,
        };
        if slot.replace(value).is_some() || value.is_empty() {
            return None;
        }
    }
    Some(Authorization {
        algorithm,
        key_id: key_id?,
        signed_headers: signed?.split(';').collect(),
        signature: signature?,
    })
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// `x-acs-content-sha256`: the hex SHA-256 of the body as sent.
pub fn payload_hash(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

/// The canonical query of a raw query string: pairs decoded (`+` is a space, as form encoders write it),
/// re-encoded in RFC 3986, sorted.
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| {
            (utf8_percent_encode(&k, QUERY_ENCODE).to_string(), utf8_percent_encode(&v, QUERY_ENCODE).to_string())
        })
        .collect();
    pairs.sort();
    let lines: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    lines.join("&")
}

/// The canonical header block: one `name:v1,v2\n` line per signed name, values trimmed and sorted.
/// `values(name)` gives every value the request carries for that (lower-case) name.
pub fn canonical_headers<'a>(signed: &[&str], mut values: impl FnMut(&str) -> Vec<&'a str>) -> String {
    let mut out = String::new();
    for name in signed {
        let mut vals: Vec<&str> = values(name).into_iter().map(|v| v.trim_matches(|c| c == ' ' || c == '\t')).collect();
        vals.sort_unstable();
        out.push_str(name);
        out.push(':');
        out.push_str(&vals.join(","));
        out.push('\n');
    }
    out
}

/// What a request contributes to its signature.
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent on the wire (still percent-encoded).
    pub path: &'a str,
    pub raw_query: &'a str,
    /// From [`canonical_headers`].
    pub canonical_headers: &'a str,
    pub signed_headers: &'a [&'a str],
    /// The `x-acs-content-sha256` value.
    pub payload_hash: &'a str,
}

pub fn canonical_request(request: &Request<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        if request.path.is_empty() { "/" } else { request.path },
        canonical_query(request.raw_query),
        request.canonical_headers,
        request.signed_headers.join(";"),
        request.payload_hash
    )
}

pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", payload_hash(canonical_request.as_bytes()))
}

/// The hex signature of a string to sign.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// The whole `Authorization` value for a request (what the SDKs send; the server recomputes it).
pub fn authorization(key_id: &str, secret: &str, request: &Request<'_>) -> String {
    let signature = sign(secret, &string_to_sign(&canonical_request(request)));
    format!("{ALGORITHM} Credential={key_id},SignedHeaders={},Signature={signature}", request.signed_headers.join(";"))
}

#[cfg(test)]
mod tests;
