//! HTTP triggers over real HTTP with real runtimes: anonymous and signed, methods, and the request and
//! response passing through unchanged.

use base64::Engine;
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

async fn http_function(server: &TestServer, runtime: &str, file: &str, code: &str, auth: &str) -> String {
    let client = server.client();
    let svc = unique("web");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let body = json!({
        "functionName": "f", "runtime": runtime, "handler": "index.handler",
        "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip_of(&[(file, code)]))},
    });
    client.call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body)).await.expect("function");
    let trigger = json!({"triggerName": "web", "triggerType": "http",
                         "triggerConfig": {"authType": auth, "methods": ["GET", "POST"]}});
    client
        .call(Method::POST, &format!("/services/{svc}/functions/f/triggers"), &[], Some(&trigger))
        .await
        .expect("trigger");
    svc
}

const NODE_HTTP: &str = r#"
const getRawBody = require('raw-body');
exports.handler = (req, resp, context) => {
  getRawBody(req, (err, body) => {
    resp.setStatusCode(202);
    resp.setHeader('x-echo', req.headers['x-custom'] || '');
    resp.setHeader('content-type', 'application/json');
    resp.send(JSON.stringify({ method: req.method, path: req.path, queries: req.queries, body: body.toString(),
                               requestId: context.requestId }));
  });
};
"#;

const PY_WSGI: &str = r#"
import json
def handler(environ, start_response):
    body = environ['wsgi.input'].read(int(environ.get('CONTENT_LENGTH') or 0))
    start_response('202 Accepted', [('Content-Type', 'application/json'), ('X-Echo', environ.get('HTTP_X_CUSTOM', ''))])
    return json.dumps({'method': environ['REQUEST_METHOD'], 'path': environ['PATH_INFO'],
                       'query': environ['QUERY_STRING'], 'body': body.decode(),
                       'requestId': environ['fc.context'].request_id}).encode()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_triggers_pass_requests_and_responses_through() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for (runtime, file, code) in [("nodejs20", "index.js", NODE_HTTP), ("python3.10", "index.py", PY_WSGI)] {
        let svc = http_function(&server, runtime, file, code, "anonymous").await;
        let url = format!("{}/2016-08-15/proxy/{svc}/f/a%20b/c?x=1&y=2", server.endpoint);
        let r = http.post(&url).header("x-custom", "hello").body("payload").send().await.expect("send");
        assert_eq!(r.status(), 202, "{runtime}");
        assert_eq!(r.headers()["x-echo"], "hello", "{runtime}");
        let rid = r.headers()["x-fc-request-id"].to_str().expect("rid").to_string();
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["method"], "POST");
        assert_eq!(body["path"], "/a b/c", "{runtime}");
        assert_eq!(body["body"], "payload");
        assert_eq!(body["requestId"], rid.as_str());
        let wrong = http.put(&url).send().await.expect("send");
        assert_eq!(wrong.status(), 405, "{runtime}");
        let bare = http.get(format!("{}/2016-08-15/proxy/{svc}/f", server.endpoint)).send().await.expect("send");
        assert_eq!(bare.status(), 202);
        assert_eq!(bare.json::<Value>().await.expect("json")["path"], "/");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_auth_triggers_need_a_signature() {
    let server = TestServer::start().await;
    let svc = http_function(&server, "nodejs20", "index.js", NODE_HTTP, "function").await;
    let unsigned = reqwest::get(format!("{}/2016-08-15/proxy/{svc}/f/p", server.endpoint)).await.expect("send");
    assert_eq!(unsigned.status(), 403);
    let signed = server
        .client()
        .send(Method::GET, &format!("/proxy/{svc}/f/p"), &[("b", "2"), ("a", "x y")], &[], None)
        .await
        .expect("send");
    assert_eq!(signed.status, 202, "{}", String::from_utf8_lossy(&signed.body));
    let body: Value = signed.json().expect("json");
    assert_eq!(body["queries"]["a"], "x y");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_http_handlers_answer_502() {
    let server = TestServer::start().await;
    let code = "exports.handler = (req, resp, context) => { throw new Error('broken'); };\n";
    let svc = http_function(&server, "nodejs20", "index.js", code, "anonymous").await;
    let r = reqwest::get(format!("{}/2016-08-15/proxy/{svc}/f/", server.endpoint)).await.expect("send");
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["x-fc-error-type"], "UnhandledInvocationError");
    let body: Value = r.json().await.expect("json");
    assert!(body["errorMessage"].as_str().expect("message").contains("broken"));
    let none = reqwest::get(format!("{}/2016-08-15/proxy/no-such-svc/f/", server.endpoint)).await.expect("send");
    assert_eq!(none.status(), 404);
}
