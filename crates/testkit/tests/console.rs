//! The web console's HTTP rules, without a browser: the page and its security headers, sign-in, the
//! session cookie's attributes, CSRF and Origin on every write, sign-out, account isolation, and the
//! console routes reaching the same control plane as the signed API.

use ferric_testkit::{unique, zip_of, TestServer, KEY_ID, KEY_SECRET, OTHER_KEY_ID, OTHER_KEY_SECRET};
use reqwest::header::{HeaderMap, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

struct Console {
    http: reqwest::Client,
    base: String,
    origin: String,
}

/// A signed-in browser's state: the cookie it holds and the CSRF token the page got.
struct Session {
    cookie: String,
    csrf: String,
}

impl Console {
    fn new(server: &TestServer) -> Console {
        Console { http: reqwest::Client::new(), base: server.endpoint.clone(), origin: server.endpoint.clone() }
    }

    async fn sign_in_raw(&self, id: &str, secret: &str, origin: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/console/api/session", self.base))
            .json(&json!({ "accessKeyId": id, "accessKeySecret": secret }));
        if let Some(o) = origin {
            request = request.header(ORIGIN, o);
        }
        request.send().await.expect("send")
    }

    async fn sign_in(&self, id: &str, secret: &str) -> Session {
        let response = self.sign_in_raw(id, secret, Some(&self.origin)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = cookie_pair(response.headers());
        let body: Value = response.json().await.expect("json");
        Session { cookie, csrf: body["csrfToken"].as_str().expect("csrfToken").to_string() }
    }

    /// A console API call as the page makes it: cookie, and for writes the CSRF header and Origin.
    async fn call(
        &self,
        session: Option<&Session>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let write = method != Method::GET;
        let mut request = self.http.request(method, format!("{}/console/api{path}", self.base));
        if let Some(s) = session {
            request = request.header(COOKIE, &s.cookie);
            if write {
                request = request.header("x-ferric-csrf", &s.csrf).header(ORIGIN, &self.origin);
            }
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("send");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// `name=value` of the session cookie a response sets.
fn cookie_pair(headers: &HeaderMap) -> String {
    let set = headers.get(SET_COOKIE).expect("Set-Cookie").to_str().expect("text");
    set.split(';').next().expect("pair").to_string()
}

fn assert_denied(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["ErrorCode"], "AccessDenied", "{body}");
}

#[tokio::test]
async fn the_page_and_its_assets_carry_the_security_headers() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for path in ["/console", "/console/", "/console/assets/app.js", "/console/assets/style.css", "/console/api/session"]
    {
        let response = http.get(format!("{}{path}", server.endpoint)).send().await.expect("send");
        let h = response.headers();
        let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: CSP {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: CSP {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    }
    let page = http.get(format!("{}/console", server.endpoint)).send().await.expect("send");
    let page_csp = page.headers()["content-security-policy"].clone();
    assert!(page.headers()["content-type"].to_str().expect("text").starts_with("text/html"));
    let html = page.text().await.expect("text");
    assert!(html.contains("/console/assets/app.js"));
    assert!(!html.contains("<script>") && !html.contains("style="), "no inline script or style");
    // The page's style nonce is fresh per load and the same in the CSP and the page.
    let csp = page_csp.to_str().expect("text");
    let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a style nonce");
    assert!(html.contains(&format!("content=\"{nonce}\"")), "the page carries its CSP's nonce");
    assert!(!csp.contains("script-src 'self' 'nonce"), "the nonce is for styles only: {csp}");
    let again = http.get(format!("{}/console", server.endpoint)).send().await.expect("send");
    assert!(!again.headers()["content-security-policy"].to_str().expect("text").contains(nonce));
    let js = http.get(format!("{}/console/assets/app.js", server.endpoint)).send().await.expect("send");
    assert!(js.headers()["content-type"].to_str().expect("text").starts_with("text/javascript"));
    let missing = http.get(format!("{}/console/assets/nope.js", server.endpoint)).send().await.expect("send");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: Value = missing.json().await.expect("json");
    assert_eq!(body["ErrorCode"], "NotFound");
}

#[tokio::test]
async fn without_a_session_every_console_route_is_refused() {
    let server = TestServer::start().await;
    let console = Console::new(&server);
    for (method, path) in [
        (Method::GET, "/session"),
        (Method::GET, "/fc/2016-08-15/services"),
        (Method::POST, "/fc/2016-08-15/services"),
        (Method::GET, "/fc/ferric/v1/logs"),
        (Method::GET, "/services/s/functions/f/metrics"),
    ] {
        let (status, body) = console.call(None, method, path, Some(json!({ "serviceName": "x" }))).await;
        assert_denied(status, &body);
    }
    // A forged cookie is no session either.
    let forged = Session { cookie: "ferric_console=abc.def".into(), csrf: "x".into() };
    let (status, body) = console.call(Some(&forged), Method::GET, "/fc/2016-08-15/services", None).await;
    assert_denied(status, &body);
}

#[tokio::test]
async fn sign_in_checks_the_key_and_sets_a_strict_http_only_cookie_without_the_secret() {
    let server = TestServer::start().await;
    let console = Console::new(&server);
    for (id, secret) in [(KEY_ID, "wrong"), ("NOSUCHKEY", KEY_SECRET), (KEY_ID, "")] {
        let response = console.sign_in_raw(id, secret, Some(&console.origin)).await;
        assert!(response.headers().get(SET_COOKIE).is_none());
        let status = response.status();
        assert_denied(status, &response.json().await.expect("json"));
    }
    // Sign-in from another site's page (or with no Origin) is refused even with the right key.
    for origin in [Some("http://evil.example"), None] {
        let response = console.sign_in_raw(KEY_ID, KEY_SECRET, origin).await;
        let status = response.status();
        assert_denied(status, &response.json().await.expect("json"));
    }
    // Bad bodies get FC's errors.
    let response = console
        .http
        .post(format!("{}/console/api/session", console.base))
        .header(ORIGIN, &console.origin)
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.expect("json")["ErrorCode"], "InvalidArgument");
    let response = console
        .http
        .post(format!("{}/console/api/session", console.base))
        .header(ORIGIN, &console.origin)
        .body(vec![b' '; 64 * 1024])
        .send()
        .await
        .expect("send");
    assert_eq!(response.json::<Value>().await.expect("json")["ErrorCode"], "EntityTooLarge");

    let response = console.sign_in_raw(KEY_ID, KEY_SECRET, Some(&console.origin)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let set = response.headers()[SET_COOKIE].to_str().expect("text").to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=28800"] {
        assert!(set.contains(attribute), "{set} lacks {attribute}");
    }
    assert!(!set.contains(KEY_SECRET) && !set.contains(KEY_ID), "{set}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["accountId"], ferric_testkit::ACCOUNT);
    assert!(body.get("accessKeySecret").is_none() && !body.to_string().contains(KEY_SECRET));

    let session = Session { cookie: set.split(';').next().expect("pair").to_string(), csrf: String::new() };
    let (status, me) = console.call(Some(&session), Method::GET, "/session", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["csrfToken"], body["csrfToken"]);
}

#[tokio::test]
async fn writes_need_the_csrf_token_and_a_same_host_origin() {
    let server = TestServer::start().await;
    let console = Console::new(&server);
    let session = console.sign_in(KEY_ID, KEY_SECRET).await;
    let name = unique("console");
    let create = || {
        console.http.post(format!("{}/console/api/fc/2016-08-15/services", console.base)).json(&json!({
            "serviceName": name,
        }))
    };
    let cases = [
        ("no token", create().header(COOKIE, &session.cookie).header(ORIGIN, &console.origin)),
        (
            "wrong token",
            create().header(COOKIE, &session.cookie).header(ORIGIN, &console.origin).header("x-ferric-csrf", "nope"),
        ),
        (
            "foreign origin",
            create()
                .header(COOKIE, &session.cookie)
                .header(ORIGIN, "http://evil.example")
                .header("x-ferric-csrf", &session.csrf),
        ),
        ("no origin", create().header(COOKIE, &session.cookie).header("x-ferric-csrf", &session.csrf)),
    ];
    for (what, request) in cases {
        let response = request.send().await.expect("send");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
        assert_eq!(body["ErrorCode"], "AccessDenied", "{what}");
    }
    assert!(server.client().get_service(&name).await.is_err(), "no refused write reached the control plane");

    let (status, body) = console
        .call(Some(&session), Method::POST, "/fc/2016-08-15/services", Some(json!({ "serviceName": name })))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let seen = server.client().get_service(&name).await.expect("the signed API sees the console's write");
    assert_eq!(seen["serviceName"], name.as_str());
    // FC's own validation and errors come through unchanged.
    let (status, body) = console
        .call(Some(&session), Method::POST, "/fc/2016-08-15/services", Some(json!({ "serviceName": name })))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["ErrorCode"], "ServiceAlreadyExists");
    // A token is bound to its session: another session's token does not pass.
    let other = console.sign_in(KEY_ID, KEY_SECRET).await;
    let mixed = Session { cookie: session.cookie.clone(), csrf: other.csrf.clone() };
    let (status, body) =
        console.call(Some(&mixed), Method::DELETE, &format!("/fc/2016-08-15/services/{name}"), None).await;
    assert_denied(status, &body);
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let server = TestServer::start().await;
    let console = Console::new(&server);
    let session = console.sign_in(KEY_ID, KEY_SECRET).await;
    // Sign-out is a write: without the token it is refused and the session lives on.
    let response = console
        .http
        .delete(format!("{}/console/api/session", console.base))
        .header(COOKIE, &session.cookie)
        .header(ORIGIN, &console.origin)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, _) = console.call(Some(&session), Method::GET, "/fc/2016-08-15/services", None).await;
    assert_eq!(status, StatusCode::OK);

    let response = console
        .http
        .delete(format!("{}/console/api/session", console.base))
        .header(COOKIE, &session.cookie)
        .header(ORIGIN, &console.origin)
        .header("x-ferric-csrf", &session.csrf)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.headers()[SET_COOKIE].to_str().expect("text").contains("Max-Age=0"));
    let (status, body) = console.call(Some(&session), Method::GET, "/fc/2016-08-15/services", None).await;
    assert_denied(status, &body);
}

#[tokio::test]
async fn a_session_acts_for_its_own_account_only() {
    let server = TestServer::start().await;
    let console = Console::new(&server);
    let name = unique("mine");
    server.client().create_service(&json!({ "serviceName": name })).await.expect("create");
    let other = console.sign_in(OTHER_KEY_ID, OTHER_KEY_SECRET).await;
    let (status, body) =
        console.call(Some(&other), Method::GET, &format!("/fc/2016-08-15/services/{name}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["ErrorCode"], "ServiceNotFound");
    let mine = console.sign_in(KEY_ID, KEY_SECRET).await;
    let (status, body) = console.call(Some(&mine), Method::GET, "/fc/2016-08-15/services", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["services"].as_array().expect("array").iter().any(|s| s["serviceName"] == name.as_str()));
}

#[tokio::test]
async fn the_metrics_route_answers_an_hour_of_buckets_for_an_existing_function() {
    let server = TestServer::start().await;
    let console = Console::new(&server);
    let client = server.client();
    let service = unique("metrics");
    client.create_service(&json!({ "serviceName": service })).await.expect("service");
    let zip = zip_of(&[("index.py", "def handler(event, context):\n    return 'ok'\n")]);
    client.create_function(&service, "f", "python3.10", "index.handler", &zip).await.expect("function");
    let session = console.sign_in(KEY_ID, KEY_SECRET).await;
    let (status, body) =
        console.call(Some(&session), Method::GET, &format!("/services/{service}/functions/f/metrics"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["bucketSeconds"], 60);
    let buckets = body["buckets"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 60);
    for key in
        ["startMs", "invocations", "errors", "throttles", "coldStarts", "durationP50Ms", "durationP99Ms", "instances"]
    {
        assert!(buckets[0].get(key).is_some(), "bucket lacks {key}");
    }
    let (status, body) =
        console.call(Some(&session), Method::GET, &format!("/services/{service}/functions/nope/metrics"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["ErrorCode"], "FunctionNotFound");
    let (status, body) = console
        .call(Some(&session), Method::GET, &format!("/services/{service}/functions/f/metrics?qualifier=a%20b"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["ErrorCode"], "InvalidArgument");
}
