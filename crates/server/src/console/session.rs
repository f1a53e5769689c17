//! Console sessions: sign-in with an access key, a signed session cookie, CSRF checks, sign-out.
//!
//! The cookie carries only a random session id and its HMAC under a key the process draws at start (so a
//! restart signs everyone out); the access key secret never leaves the server. Sessions live in memory,
//! bounded in number, and expire a fixed time after sign-in. Every request other than GET/HEAD must carry
//! the session's CSRF token in `X-Ferric-Csrf` and an `Origin` naming the host it was sent to: the cookie
//! is `SameSite=Strict` too, so a cross-site page can neither send it nor read the token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ferric_types::ErrorCode;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use tokio::time::Instant;

use crate::auth::Account;
use crate::error::ApiError;
use crate::state::AppState;

pub const COOKIE: &str = "ferric_console";
pub const CSRF_HEADER: &str = "x-ferric-csrf";
/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// Sessions held at once; signing in past it drops the one closest to expiry.
pub const MAX_SESSIONS: usize = 1024;
/// Largest sign-in body.
const MAX_SIGN_IN_BYTES: usize = 4096;

#[derive(Clone)]
struct Session {
    account: String,
    key_id: String,
    csrf: String,
    expires: Instant,
}

/// The live sessions and the key that signs their cookies.
pub struct Sessions {
    key: [u8; 32],
    live: Mutex<HashMap<String, Session>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions { key: random_bytes(), live: Mutex::new(HashMap::new()) }
    }
}

fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    // getrandom fails only without an OS entropy source, where nothing else in the server could run either.
    getrandom::getrandom(&mut bytes).expect("the OS entropy source is available");
    bytes
}

impl Sessions {
    fn mac(&self, id: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Starts a session and returns its cookie value.
    fn start(&self, account: String, key_id: String, now: Instant) -> (String, Session) {
        let id = URL_SAFE_NO_PAD.encode(random_bytes());
        let session =
            Session { account, key_id, csrf: URL_SAFE_NO_PAD.encode(random_bytes()), expires: now + SESSION_TTL };
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if live.len() >= MAX_SESSIONS {
            live.retain(|_, s| s.expires > now);
        }
        if live.len() >= MAX_SESSIONS {
            if let Some(oldest) = live.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| k.clone()) {
                live.remove(&oldest);
            }
        }
        live.insert(id.clone(), session.clone());
        (format!("{id}.{}", self.mac(&id)), session)
    }

    /// The session a cookie value names, if its signature holds and it has not expired.
    fn find(&self, cookie: &str, now: Instant) -> Option<(String, Session)> {
        let (id, mac) = cookie.split_once('.')?;
        if !bool::from(self.mac(id).as_bytes().ct_eq(mac.as_bytes())) {
            return None;
        }
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        match live.get(id) {
            Some(s) if s.expires > now => Some((id.to_string(), s.clone())),
            Some(_) => {
                live.remove(id);
                None
            }
            None => None,
        }
    }

    fn end(&self, id: &str) {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.live.lock().expect("lock").len()
    }
}

/// The session cookie's value in a `Cookie` header, if any.
fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

fn denied(message: &str) -> ApiError {
    ApiError::new(ErrorCode::AccessDenied, message.to_string())
}

/// A write must come from a page of this server: `Origin`'s host and port equal `Host`'s, or `Origin` is
/// the configured public URL's origin (behind a proxy that rewrites `Host`).
fn check_origin(headers: &HeaderMap, public_url: Option<&str>) -> Result<(), ApiError> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Err(denied("a console write needs an Origin header naming this server"));
    };
    let origin_host = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    let same_host = matches!((host, origin_host), (Some(h), Some(o)) if !h.is_empty() && h.eq_ignore_ascii_case(o));
    let public =
        public_url.map(|u| u.trim_end_matches('/')).is_some_and(|u| !u.is_empty() && u.eq_ignore_ascii_case(origin));
    if same_host || public {
        Ok(())
    } else {
        Err(denied("the request's Origin is not this server"))
    }
}

fn check_csrf(state: &AppState, headers: &HeaderMap, session: &Session) -> Result<(), ApiError> {
    check_origin(headers, state.config().public_url.as_deref())?;
    let given = headers.get(CSRF_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    if given.is_empty() || !bool::from(given.ct_eq(session.csrf.as_bytes())) {
        return Err(denied("missing or wrong X-Ferric-Csrf token; reload the console"));
    }
    Ok(())
}

/// Middleware for `/console/api/...` past sign-in: a live session, and for writes its CSRF token and a
/// same-host Origin. Attaches the session's [`Account`] like the FC signature does.
pub async fn require(State(state): State<AppState>, mut request: Request, next: Next) -> Result<Response, ApiError> {
    let sessions = &state.inner().sessions;
    let Some((_, session)) = cookie_value(request.headers()).and_then(|c| sessions.find(c, Instant::now())) else {
        return Err(denied("no console session; sign in at /console"));
    };
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        check_csrf(&state, request.headers(), &session)?;
    }
    request.extensions_mut().insert(Account(session.account.clone()));
    let mut response = next.run(request).await;
    response.extensions_mut().insert(Account(session.account));
    Ok(response)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignIn {
    access_key_id: String,
    access_key_secret: String,
}

fn session_body(session: &Session) -> serde_json::Value {
    serde_json::json!({ "accountId": session.account, "accessKeyId": session.key_id, "csrfToken": session.csrf })
}

fn set_cookie(response: &mut Response, value: &str, max_age: u64, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
}

fn secure_cookies(state: &AppState) -> bool {
    state.config().public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
}

/// `POST /console/api/session` `{"accessKeyId","accessKeySecret"}`: checks the key against the keyring
/// and starts a session. Needs a same-host Origin (no CSRF token exists yet).
pub async fn sign_in(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Body) -> Response {
    match sign_in_inner(&state, &headers, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn sign_in_inner(state: &AppState, headers: &HeaderMap, body: axum::body::Body) -> Result<Response, ApiError> {
    check_origin(headers, state.config().public_url.as_deref())?;
    let bytes = crate::body::read(body, MAX_SIGN_IN_BYTES).await?;
    let form: SignIn = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("sign-in body must be {{\"accessKeyId\",\"accessKeySecret\"}}: {e}")))?;
    let key = state.config().keyring.get(&form.access_key_id);
    // Compare against a dummy when the id is unknown, so the answer takes the same time either way.
    let expected = key.map(|k| k.secret.as_bytes()).unwrap_or(b"\0no such key\0");
    let matches = bool::from(expected.ct_eq(form.access_key_secret.as_bytes()));
    let Some(key) = key.filter(|_| matches) else {
        return Err(denied("the access key id or secret is wrong"));
    };
    let (cookie, session) = state.inner().sessions.start(key.account_id.clone(), key.id.clone(), Instant::now());
    let mut response = super::no_store(crate::routes::json(StatusCode::OK, &session_body(&session), None));
    set_cookie(&mut response, &cookie, SESSION_TTL.as_secs(), secure_cookies(state));
    Ok(response)
}

/// `GET /console/api/session`: who is signed in and the CSRF token (a reloaded page asks again).
pub async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some((_, session)) = cookie_value(&headers).and_then(|c| state.inner().sessions.find(c, Instant::now())) else {
        return Err(denied("no console session; sign in at /console"));
    };
    Ok(super::no_store(crate::routes::json(StatusCode::OK, &session_body(&session), None)))
}

/// `DELETE /console/api/session`: ends the session (CSRF-checked like every write) and clears the cookie.
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let sessions = &state.inner().sessions;
    let Some((id, session)) = cookie_value(&headers).and_then(|c| sessions.find(c, Instant::now())) else {
        return Err(denied("no console session; sign in at /console"));
    };
    check_csrf(&state, &headers, &session)?;
    sessions.end(&id);
    let mut response = crate::routes::no_content();
    set_cookie(&mut response, "", 0, secure_cookies(&state));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_expires_after_its_ttl() {
        let sessions = Sessions::default();
        let (cookie, _) = sessions.start("acct".into(), "key".into(), Instant::now());
        assert!(sessions.find(&cookie, Instant::now()).is_some());
        tokio::time::advance(SESSION_TTL - Duration::from_secs(1)).await;
        assert!(sessions.find(&cookie, Instant::now()).is_some());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(sessions.find(&cookie, Instant::now()).is_none());
        assert_eq!(sessions.len(), 0, "an expired session is dropped when seen");
    }

    #[tokio::test(start_paused = true)]
    async fn a_forged_or_foreign_cookie_finds_nothing() {
        let sessions = Sessions::default();
        let (cookie, _) = sessions.start("acct".into(), "key".into(), Instant::now());
        let (id, _) = cookie.split_once('.').expect("id.mac");
        assert!(sessions.find(&format!("{id}.AAAA"), Instant::now()).is_none());
        assert!(sessions.find(id, Instant::now()).is_none());
        let other = Sessions::default();
        assert!(other.find(&cookie, Instant::now()).is_none(), "another process's key does not verify");
    }

    #[tokio::test(start_paused = true)]
    async fn sessions_are_bounded() {
        let sessions = Sessions::default();
        let (first, _) = sessions.start("a".into(), "k".into(), Instant::now());
        for _ in 0..MAX_SESSIONS {
            tokio::time::advance(Duration::from_millis(1)).await;
            sessions.start("a".into(), "k".into(), Instant::now());
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
        assert!(sessions.find(&first, Instant::now()).is_none(), "the oldest session made room");
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; ferric_console=x.y; b=2")]);
        assert_eq!(cookie_value(&h), Some("x.y"));
        assert_eq!(cookie_value(&headers(&[("cookie", "ferric_consolex=1")])), None);
    }

    #[test]
    fn origin_must_name_the_host() {
        let check =
            |pairs: &[(&'static str, &str)], public: Option<&str>| check_origin(&headers(pairs), public).is_ok();
        assert!(check(&[("host", "127.0.0.1:9000"), ("origin", "http://127.0.0.1:9000")], None));
        assert!(!check(&[("host", "127.0.0.1:9000"), ("origin", "http://evil.example")], None));
        assert!(!check(&[("host", "127.0.0.1:9000")], None));
        assert!(!check(&[("host", "127.0.0.1:9000"), ("origin", "null")], None));
        // Behind a proxy: Host is the backend's, Origin the public URL's.
        let proxied = [("host", "127.0.0.1:9000"), ("origin", "https://fc.example.com")];
        assert!(check(&proxied, Some("https://fc.example.com/")));
        assert!(!check(&proxied, Some("https://other.example.com")));
        assert!(!check(&proxied, None));
    }
}
