//! What makes an unsigned form-API call local: it reached a loopback socket, and it names a loopback
//! host. A browser on this machine reaches loopback sockets for any page it shows, so the socket alone is
//! not enough: DNS rebinding points a foreign name at 127.0.0.1 (the `Host` stays foreign), and a
//! cross-site request carries its page's `Origin`.

use std::net::{Ipv4Addr, Ipv6Addr};

use axum::http::{header, HeaderMap};
use ferric_types::ErrorCode;

use crate::error::ApiError;

/// Refuses an unsigned call whose `Host` is not a loopback name or whose `Origin` is not a loopback
/// origin. A call without `Host` (HTTP/1.0 tools) is not a browser's and passes.
pub(super) fn require_local(headers: &HeaderMap) -> Result<(), ApiError> {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    if let Some(host) = text(header::HOST) {
        if !is_loopback_host(host) {
            return Err(refused(format!("Host '{}' is not a loopback name", shown(host))));
        }
    }
    if let Some(origin) = text(header::ORIGIN) {
        if !is_loopback_origin(origin) {
            return Err(refused(format!("Origin '{}' is not a loopback origin", shown(origin))));
        }
    }
    Ok(())
}

fn refused(why: String) -> ApiError {
    ApiError::new(
        ErrorCode::AccessDenied,
        format!("unsigned form API calls must come from this machine: {why}; sign the request to call from elsewhere"),
    )
}

fn shown(value: &str) -> String {
    value.chars().take(128).collect()
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && text.parse::<u16>().is_ok()
}

/// `localhost`, `127.0.0.0/8` or `[::1]`, each optionally with a port.
fn is_loopback_host(host: &str) -> bool {
    if let Some(rest) = host.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else { return false };
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok && address.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        Some(_) => return false,
        None => host,
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// `http://` or `https://` and a loopback host, nothing after it (`null` is a sandboxed or file page).
fn is_loopback_origin(origin: &str) -> bool {
    let Some((scheme, host)) = origin.split_once("://") else { return false };
    (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) && is_loopback_host(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_and_origins() {
        for host in ["localhost", "LOCALHOST:8080", "127.0.0.1", "127.255.0.1:9000", "[::1]", "[::1]:80"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.evil",
            "10.0.0.1",
            "[::2]",
            "[::1]x",
            "localhost:",
            "localhost:99999",
            "::1",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
        assert!(is_loopback_origin("http://localhost:3000"));
        assert!(is_loopback_origin("https://[::1]"));
        for origin in ["null", "http://evil.example", "file://", "http://localhost/x", "ftp://localhost"] {
            assert!(!is_loopback_origin(origin), "{origin}");
        }
    }
}
