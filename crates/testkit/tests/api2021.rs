//! The 2021-04-06 API over real HTTP: ACS3 signatures (what passes, each refusal with its code), the
//! 2021 error body, the paths it spells differently, and the 2016 API left byte-identical beside it.
//! Requests are signed with `ferric_types::acs3`, whose vectors come from the SDKs' own signers.

use ferric_testkit::{TestServer, ACCOUNT, KEY_ID, KEY_SECRET};
use ferric_types::acs3;
use reqwest::Method;
use serde_json::{json, Value};

struct Signed<'a> {
    method: Method,
    path: &'a str,
    query: &'a str,
    body: Vec<u8>,
    date: String,
    nonce: String,
    secret: &'a str,
    extra: Vec<(&'a str, String)>,
    /// Send a different body than the one signed.
    tamper: Option<Vec<u8>>,
    /// Leave these out of the signature (they are still sent).
    unsigned: Vec<&'a str>,
}

impl<'a> Signed<'a> {
    fn new(method: Method, path: &'a str) -> Signed<'a> {
        Signed {
            method,
            path,
            query: "",
            body: Vec::new(),
            date: iso_date(0),
            nonce: uuid::Uuid::new_v4().to_string(),
            secret: KEY_SECRET,
            extra: Vec::new(),
            tamper: None,
            unsigned: Vec::new(),
        }
    }

    async fn send(self, server: &TestServer) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let hash = acs3::payload_hash(&self.body);
        let mut headers: Vec<(&str, String)> = vec![
            ("host", server.addr.to_string()),
            ("x-acs-date", self.date.clone()),
            ("x-acs-signature-nonce", self.nonce.clone()),
            ("x-acs-content-sha256", hash.clone()),
            ("x-acs-version", "2021-04-06".into()),
        ];
        if !self.body.is_empty() {
            headers.push(("content-type", "application/json; charset=utf-8".into()));
        }
        headers.extend(self.extra.iter().cloned());
        let mut signed: Vec<&str> = headers.iter().map(|(n, _)| *n).filter(|n| !self.unsigned.contains(n)).collect();
        signed.sort_unstable();
        let block = acs3::canonical_headers(&signed, |name| {
            headers.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.as_str()).collect()
        });
        let authorization = acs3::authorization(
            KEY_ID,
            self.secret,
            &acs3::Request {
                method: self.method.as_str(),
                path: self.path,
                raw_query: self.query,
                canonical_headers: &block,
                signed_headers: &signed,
                payload_hash: &hash,
            },
        );
        let url = if self.query.is_empty() {
            format!("{}{}", server.endpoint, self.path)
        } else {
            format!("{}{}?{}", server.endpoint, self.path, self.query)
        };
        let mut request = reqwest::Client::new().request(self.method, url).header("authorization", authorization);
        for (name, value) in &headers {
            if *name != "host" {
                request = request.header(*name, value);
            }
        }
        let response = request.body(self.tamper.unwrap_or(self.body)).send().await.expect("send");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.expect("body").to_vec())
    }
}

fn iso_date(offset_secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(offset_secs)).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A 2021 error: its status, `Code`, and a `RequestId` equal to the response's request id header.
fn error_code(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> (u16, String) {
    let body: Value = serde_json::from_slice(body).expect("a JSON error body");
    let keys: Vec<&str> = body.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["Code", "Message", "RequestId"], "{body}");
    assert_eq!(body["RequestId"], headers["x-fc-request-id"].to_str().expect("valid in this test"));
    assert_eq!(headers["content-type"], "application/json");
    (status, body["Code"].as_str().expect("valid in this test").to_string())
}

#[tokio::test]
async fn signed_requests_pass_and_each_refusal_has_its_code() {
    let server = TestServer::start().await;
    let (status, _, body) = Signed::new(Method::GET, "/2021-04-06/services").send(&server).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(serde_json::from_slice::<Value>(&body).expect("a JSON body"), json!({"services": []}));

    let mut wrong = Signed::new(Method::GET, "/2021-04-06/services");
    wrong.secret = "wrong-secret";
    let (s, h, b) = wrong.send(&server).await;
    assert_eq!(error_code(s, &h, &b), (403, "SignatureNotMatch".into()));

    let mut expired = Signed::new(Method::GET, "/2021-04-06/services");
    expired.date = iso_date(-16 * 60);
    let (s, h, b) = expired.send(&server).await;
    assert_eq!(error_code(s, &h, &b), (403, "RequestTimeTooSkewed".into()));
    let mut future = Signed::new(Method::GET, "/2021-04-06/services");
    future.date = iso_date(16 * 60);
    let (s, h, b) = future.send(&server).await;
    assert_eq!(error_code(s, &h, &b), (403, "RequestTimeTooSkewed".into()));
    let mut garbled = Signed::new(Method::GET, "/2021-04-06/services");
    garbled.date = "Wed, 02 Dec 2026 17:00:00 GMT".into();
    let (s, h, b) = garbled.send(&server).await;
    assert_eq!(error_code(s, &h, &b), (400, "InvalidArgument".into()));

    let body = br#"{"serviceName":"tampered"}"#.to_vec();
    let mut tampered = Signed::new(Method::POST, "/2021-04-06/services");
    tampered.body = body.clone();
    tampered.tamper = Some(br#"{"serviceName":"evil"}"#.to_vec());
    let (s, h, b) = tampered.send(&server).await;
    assert_eq!(error_code(s, &h, &b), (403, "SignatureNotMatch".into()));

    let mut unsigned = Signed::new(Method::GET, "/2021-04-06/services");
    unsigned.extra.push(("x-acs-action", "ListServices".into()));
    unsigned.unsigned.push("x-acs-action");
    let (s, h, b) = unsigned.send(&server).await;
    assert_eq!(error_code(s, &h, &b), (403, "AccessDenied".into()));

    // content-type may travel unsigned (aiohttp adds one after the Python SDK has signed).
    let mut loose = Signed::new(Method::POST, "/2021-04-06/services");
    loose.body = br#"{"serviceName":"loose_content_type"}"#.to_vec();
    loose.unsigned.push("content-type");
    let (status, _, body) = loose.send(&server).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

    let mut sts = Signed::new(Method::GET, "/2021-04-06/services");
    sts.extra.push(("x-acs-security-token", "token".into()));
    let (s, h, b) = sts.send(&server).await;
    assert_eq!(error_code(s, &h, &b), (403, "AccessDenied".into()));

    let mut other = Signed::new(Method::GET, "/2021-04-06/services");
    other.extra.push(("x-fc-account-id", "\"9999999999999999\"".into()));
    let (s, h, b) = other.send(&server).await;
    assert_eq!(error_code(s, &h, &b), (403, "AccessDenied".into()));
    let mut own = Signed::new(Method::GET, "/2021-04-06/services");
    own.extra.push(("x-fc-account-id", format!("\"{ACCOUNT}\"")));
    assert_eq!(own.send(&server).await.0, 200);

    let (s, h, b) = reqwest::Client::new()
        .get(format!("{}/2021-04-06/services", server.endpoint))
        .header("x-acs-date", iso_date(0))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r.headers().clone(), r))
        .expect("valid in this test");
    let b = b.bytes().await.expect("readable");
    assert_eq!(error_code(s, &h, &b), (403, "MissingRequiredHeader".into()));
    server.stop().await;
}

#[tokio::test]
async fn each_prefix_takes_only_its_own_signature() {
    let server = TestServer::start().await;
    // The 2016 `FC key:signature` scheme is not accepted under the 2021 prefix...
    let fc = server.client().send_to(Method::GET, "/2021-04-06/services", &[], &[], None).await.expect("send");
    assert_eq!(error_code(fc.status, &fc.headers, &fc.body), (403, "AccessDenied".into()));
    // ...nor ACS3 under the 2016 one, which answers in its own shape.
    let (status, _, body) = Signed::new(Method::GET, "/2016-08-15/services").send(&server).await;
    assert_eq!(status, 403);
    assert_eq!(serde_json::from_slice::<Value>(&body).expect("a JSON body")["ErrorCode"], "AccessDenied");
    server.stop().await;
}

#[tokio::test]
async fn a_nonce_is_accepted_once() {
    let server = TestServer::start().await;
    let nonce = uuid::Uuid::new_v4().to_string();
    let mut first = Signed::new(Method::GET, "/2021-04-06/services");
    first.nonce = nonce.clone();
    assert_eq!(first.send(&server).await.0, 200);
    let mut replay = Signed::new(Method::GET, "/2021-04-06/services");
    replay.nonce = nonce;
    let (s, h, b) = replay.send(&server).await;
    assert_eq!(error_code(s, &h, &b), (403, "AccessDenied".into()));
    server.stop().await;
}

#[tokio::test]
async fn the_2021_paths_reach_the_same_resources_and_the_2016_api_is_unchanged() {
    let server = TestServer::start().await;
    let mut create = Signed::new(Method::POST, "/2021-04-06/services");
    create.body = br#"{"serviceName":"svc2021","description":"made with ACS3"}"#.to_vec();
    assert_eq!(create.send(&server).await.0, 200);
    // The same service, read through the 2016 API with the 2016 client.
    let service = server.client().get_service("svc2021").await.expect("2016 read");
    assert_eq!(service["description"], "made with ACS3");

    let (s, h, b) = Signed::new(Method::GET, "/2021-04-06/services/missing").send(&server).await;
    assert_eq!(error_code(s, &h, &b), (404, "ServiceNotFound".into()));
    let (s, h, b) = Signed::new(Method::GET, "/2021-04-06/no-such-route").send(&server).await;
    assert_eq!(error_code(s, &h, &b), (400, "PathNotSupported".into()));
    let message = serde_json::from_slice::<Value>(&b).expect("a JSON body")["Message"].clone();
    assert_eq!(message, "'GET' against '/2021-04-06/no-such-route' is not supported");

    let (status, _, body) = Signed::new(Method::GET, "/2021-04-06/reserved-capacities").send(&server).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

    // Tags: 2021 untags with PUT /tag.
    let arn = format!("acs:fc:cn-local:{ACCOUNT}:services/svc2021");
    let mut tag = Signed::new(Method::POST, "/2021-04-06/tag");
    tag.body = serde_json::to_vec(&json!({"resourceArn": arn, "tags": {"k": "v"}})).expect("valid in this test");
    let (status, _, body) = tag.send(&server).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let query = format!("resourceArn={}", acs3_query_value(&arn));
    let mut read = Signed::new(Method::GET, "/2021-04-06/tag");
    read.query = &query;
    let (_, _, body) = read.send(&server).await;
    assert_eq!(serde_json::from_slice::<Value>(&body).expect("a JSON body")["tags"], json!({"k": "v"}));
    let mut untag = Signed::new(Method::PUT, "/2021-04-06/tag");
    untag.body = serde_json::to_vec(&json!({"resourceArn": arn, "tagKeys": ["k"]})).expect("valid in this test");
    let (status, _, body) = untag.send(&server).await;
    assert!(status < 300, "{status} {}", String::from_utf8_lossy(&body));
    let mut read = Signed::new(Method::GET, "/2021-04-06/tag");
    read.query = &query;
    let (_, _, body) = read.send(&server).await;
    assert_eq!(serde_json::from_slice::<Value>(&body).expect("a JSON body")["tags"], json!({}));

    // Counted per route under the 2021 spelling.
    let metrics =
        reqwest::get(format!("{}/metrics", server.endpoint)).await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains(r#"route="/2021-04-06/services",method="POST",status="200""#), "{metrics}");
    assert!(metrics.contains(r#"route="/2021-04-06/tag",method="PUT""#), "{metrics}");

    // The 2016 API: its own error body byte for byte, and no PUT /tag.
    let raw = server.client().send(Method::GET, "/services/missing", &[], &[], None).await.expect("raw");
    assert_eq!(raw.status, 404);
    assert_eq!(
        String::from_utf8(raw.body).expect("valid in this test"),
        r#"{"ErrorCode":"ServiceNotFound","ErrorMessage":"service 'missing' does not exist"}"#
    );
    let raw = server.client().send(Method::PUT, "/tag", &[], &[], Some(b"{}".to_vec())).await.expect("raw");
    assert_eq!(raw.status, 400);
    assert!(String::from_utf8(raw.body)
        .expect("valid in this test")
        .starts_with(r#"{"ErrorCode":"PathNotSupported","#));
    server.stop().await;
}

/// A query value as a form encoder sends it (the signature decodes and re-encodes it).
fn acs3_query_value(value: &str) -> String {
    value.replace(':', "%3A").replace('/', "%2F")
}
