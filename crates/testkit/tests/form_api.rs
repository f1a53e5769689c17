//! The `/api/v1/func` form API of the product's second spec, over real multipart requests.

use base64::Engine;
use ferric_store::code::crc64_xz;
use ferric_testkit::{zip_of, TestServer, KEY_ID, KEY_SECRET, OTHER_KEY_ID, OTHER_KEY_SECRET};
use ferric_types::signature::{self, SignedParts};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn post(server: &TestServer, path: &str, form: Form) -> (u16, Value) {
    let response =
        reqwest::Client::new().post(format!("{}{path}", server.endpoint)).multipart(form).send().await.expect("send");
    (response.status().as_u16(), response.json().await.expect("json"))
}

async fn get(server: &TestServer, path_and_query: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{}{path_and_query}", server.endpoint)).await.expect("send");
    (response.status().as_u16(), response.json().await.expect("json"))
}

#[tokio::test]
async fn create_get_update_config_delete() {
    let server = TestServer::start().await;
    let source = "def handler(event, context):\n    return 'form'\n";
    let form = Form::new()
        .text("FunctionName", "0001")
        .text("Code", source)
        .text("Runtime", "python3.9")
        .text("Handler", "index.handler")
        .text("Description", "v1.0.0");
    assert_eq!(post(&server, "/api/v1/func/", form).await, (200, json!({"Code": 0})));

    let (status, body) = get(&server, "/api/v1/func?FunctionName=0001").await;
    assert_eq!(status, 200);
    assert_eq!(body["Code"], 0);
    let data = &body["Data"];
    assert_eq!(data["FunctionName"], "0001");
    assert_eq!(data["Runtime"], "python3.9");
    assert_eq!(data["Description"], "v1.0.0");
    assert_eq!(data["FunctionConfig"], "", "present before any FunctionConfig is set");
    assert_eq!(data["ServiceName"], "default");
    let checksum = data["CodeChecksum"].as_str().expect("checksum");
    let module = server.data_dir().join("code").join(checksum).join("index.py");
    assert_eq!(std::fs::read_to_string(module).expect("module file"), source);

    // The FC API sees the same function in the default service.
    let fc = server.client().get_function("default", "0001").await.expect("visible through FC");
    assert_eq!(fc["description"], "v1.0.0");

    // Code as a base64 zip, and as an uploaded zip file part.
    let zip = zip_of(&[("main.js", "exports.run = (e, c, cb) => cb(null, 'zip')")]);
    let form = Form::new()
        .text("FunctionName", "0001")
        .text("Code", B64.encode(&zip))
        .text("Runtime", "nodejs20")
        .text("Handler", "main.run");
    assert_eq!(post(&server, "/api/v1/func/update", form).await.0, 200);
    let fc = server.client().get_function("default", "0001").await.expect("updated");
    assert_eq!(fc["codeChecksum"], crc64_xz(&zip).to_string());
    assert_eq!(fc["runtime"], "nodejs20");
    let upload = zip_of(&[("index.py", "def handler(e, c): return 'file'")]);
    let form = Form::new()
        .text("FunctionName", "0002")
        .part("Code", Part::bytes(upload.clone()).file_name("code.zip"))
        .text("Runtime", "python3.10");
    assert_eq!(post(&server, "/api/v1/func/", form).await.0, 200);
    assert_eq!(
        server.client().get_function("default", "0002").await.expect("0002")["codeChecksum"],
        crc64_xz(&upload).to_string()
    );

    // FunctionConfig: base64 text, returned decoded; a JSON object applies its FC fields.
    let config = r#"{"memorySize": 256, "timeout": 10, "environmentVariables": {"A": "1"}}"#;
    let form = Form::new().text("FunctionName", "0001").text("FunctionConfig", B64.encode(config));
    assert_eq!(post(&server, "/api/v1/func/config", form).await, (200, json!({"Code": 0})));
    let (_, body) = get(&server, "/api/v1/func?FunctionName=0001").await;
    assert_eq!(body["Data"]["FunctionConfig"], config);
    assert_eq!(body["Data"]["MemorySize"], 256);
    assert_eq!(
        server.client().get_function("default", "0001").await.expect("fn")["environmentVariables"],
        json!({"A": "1"})
    );

    // Delete takes a list.
    let form = Form::new().text("FunctionName", "0001").text("FunctionName", "0002");
    assert_eq!(post(&server, "/api/v1/func/delete", form).await, (200, json!({"Code": 0})));
    let (status, body) = get(&server, "/api/v1/func?FunctionName=0001").await;
    assert_eq!(status, 404);
    assert_eq!(body["Code"], 404);
    assert!(body["Message"].as_str().expect("message").contains("does not exist"));
}

#[tokio::test]
async fn list_filters_pages_and_counts() {
    let server = TestServer::start().await;
    for name in ["alpha", "alphabet", "beta", "gamma-alpha"] {
        let form = Form::new()
            .text("FunctionName", name)
            .text("Code", "exports.handler = () => 1")
            .text("Runtime", "nodejs18");
        assert_eq!(post(&server, "/api/v1/func/", form).await.0, 200, "{name}");
    }
    let (status, body) = get(&server, "/api/v1/func/list").await;
    assert_eq!(status, 200);
    assert_eq!(body["Data"]["Count"], 4);
    let (_, body) = get(&server, "/api/v1/func/list?FunctionName=alpha&Offset=1&Limit=1").await;
    assert_eq!(body["Data"]["Count"], 3);
    let list = body["Data"]["List"].as_array().expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["FunctionName"], "alphabet");
    let (status, body) = get(&server, "/api/v1/func/list?Limit=1000").await;
    assert_eq!((status, body["Code"].as_i64()), (400, Some(400)));
}

#[tokio::test]
async fn errors_have_a_code_and_message() {
    let server = TestServer::start().await;
    let cases = [
        Form::new().text("Code", "x"),
        Form::new().text("FunctionName", "-bad"),
        Form::new().text("FunctionName", "ok").text("Handler", "a/b"),
        Form::new().text("FunctionName", "ok").text("Runtime", "has space"),
    ];
    for form in cases {
        let (status, body) = post(&server, "/api/v1/func/", form).await;
        assert_eq!(status, 400);
        assert_eq!(body["Code"], 400);
        assert!(!body["Message"].as_str().expect("message").is_empty());
    }
    let (status, body) = post(&server, "/api/v1/func/delete", Form::new().text("FunctionName", "ghost")).await;
    assert_eq!((status, body["ErrorCode"].as_str()), (404, Some("FunctionNotFound")));
    let form = Form::new().text("FunctionName", "ghost").text("FunctionConfig", "e30=");
    assert_eq!(post(&server, "/api/v1/func/config", form).await.0, 404);
}

#[tokio::test]
async fn signed_requests_act_for_the_signing_account() {
    let server = TestServer::start().await;
    // A wrongly signed request is refused even from loopback.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/func/list", server.endpoint))
        .header("date", chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .header("authorization", format!("FC {KEY_ID}:bm9wZQ=="))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["ErrorCode"], "SignatureNotMatch");

    // Unsigned loopback calls act for the default account; a signed call for the signer's account.
    let form =
        Form::new().text("FunctionName", "mine").text("Code", "exports.handler = () => 1").text("Runtime", "nodejs20");
    assert_eq!(post(&server, "/api/v1/func/", form).await.0, 200);
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let list_as = |key_id: &'static str, secret: &'static str| {
        let to_sign = signature::string_to_sign(&SignedParts {
            method: "GET",
            content_md5: "",
            content_type: "",
            date: &date,
            canonical_headers: "",
            resource: "/api/v1/func/list",
        });
        reqwest::Client::new()
            .get(format!("{}/api/v1/func/list", server.endpoint))
            .header("date", date.clone())
            .header("authorization", format!("FC {key_id}:{}", signature::sign(secret, &to_sign)))
            .send()
    };
    let mine: Value = list_as(KEY_ID, KEY_SECRET).await.expect("send").json().await.expect("json");
    assert_eq!(mine["Data"]["Count"], 1);
    let theirs: Value = list_as(OTHER_KEY_ID, OTHER_KEY_SECRET).await.expect("send").json().await.expect("json");
    assert_eq!(theirs["Code"], 0);
    assert_eq!(theirs["Data"]["Count"], 0, "another account sees none of the default account's functions");
}

/// Sends one seed example with the seed's own `Host: localhost:8080`.
async fn seed_post(server: &TestServer, path: &str, form: Form) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.endpoint))
        .header("host", "localhost:8080")
        .multipart(form)
        .send()
        .await
        .expect("send");
    (response.status().as_u16(), response.json().await.expect("json"))
}

async fn seed_get(server: &TestServer, path_and_query: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path_and_query}", server.endpoint))
        .header("host", "localhost:8080")
        .send()
        .await
        .expect("send");
    (response.status().as_u16(), response.json().await.expect("json"))
}

fn seed_form(name: &str) -> Form {
    Form::new()
        .text("FunctionName", name.to_string())
        .text("Code", "NlwaSPXsCpTQuh8FxBGH")
        .text("Runtime", "ws")
        .text("Handler", "C")
        .text("Description", "v1.0.0")
}

/// Issue 9: every example of seed 000 (the form API's own spec), verbatim, in its order; `Runtime=ws`
/// was refused. An unknown runtime is stored and refused only when invoked, naming what runs.
#[tokio::test]
async fn every_example_of_the_seed_works_verbatim() {
    let server = TestServer::start().await;
    // 1, 创建函数
    assert_eq!(seed_post(&server, "/api/v1/func/", seed_form("0001")).await, (200, json!({"Code": 0})));
    // 2, 修改函数
    assert_eq!(seed_post(&server, "/api/v1/func/update", seed_form("0001")).await, (200, json!({"Code": 0})));
    let (status, body) = seed_get(&server, "/api/v1/func?FunctionName=0001").await;
    assert_eq!((status, body["Code"].as_i64()), (200, Some(0)));
    assert_eq!(
        (&body["Data"]["Runtime"], &body["Data"]["Handler"], &body["Data"]["Description"]),
        (&json!("ws"), &json!("C"), &json!("v1.0.0")),
        "what the form gave is stored"
    );
    // 4, 获取函数列表 (bare, then with the example's query)
    let (status, body) = seed_get(&server, "/api/v1/func/list").await;
    assert_eq!((status, &body["Data"]["Count"]), (200, &json!(1)));
    assert_eq!(
        seed_get(&server, "/api/v1/func/list?FunctionName=sss").await,
        (200, json!({"Code": 0, "Data": {"List": [], "Count": 0}}))
    );
    // 5, 获取函数
    assert_eq!(seed_post(&server, "/api/v1/func/", seed_form("sss")).await.0, 200);
    let (status, body) = seed_get(&server, "/api/v1/func?FunctionName=sss").await;
    assert_eq!((status, &body["Code"], &body["Data"]["FunctionName"]), (200, &json!(0), &json!("sss")));
    // 6, 增加修改函数配置: the example's placeholder value, then real base64
    let form = Form::new().text("FunctionName", "0001").text("FunctionConfig", "xxxxx");
    assert_eq!(seed_post(&server, "/api/v1/func/config", form).await, (200, json!({"Code": 0})));
    let form = Form::new().text("FunctionName", "0001").text("FunctionConfig", B64.encode(r#"{"timeout": 9}"#));
    assert_eq!(seed_post(&server, "/api/v1/func/config", form).await, (200, json!({"Code": 0})));
    assert_eq!(seed_get(&server, "/api/v1/func?FunctionName=0001").await.1["Data"]["Timeout"], 9);

    // The stored function cannot run here; invoking it says what does.
    let r = server
        .client()
        .send(Method::POST, "/services/default/functions/0001/invocations", &[], &[], Some(Vec::new()))
        .await
        .expect("invoke");
    assert_eq!(r.status, 400);
    let message = r.json().expect("json")["ErrorMessage"].as_str().expect("message").to_string();
    assert!(message.contains("'ws'") && message.contains("nodejs20") && message.contains("python3"), "{message}");

    // 3, 删除函数: `FunctionName: ["0001"]`
    let form = Form::new().text("FunctionName", r#"["0001"]"#);
    assert_eq!(seed_post(&server, "/api/v1/func/delete", form).await, (200, json!({"Code": 0})));
    assert_eq!(seed_get(&server, "/api/v1/func?FunctionName=0001").await.0, 404);
}

/// Issue 9: a `text/plain` body created a function; a browser can send one cross-site without a preflight.
#[tokio::test]
async fn posts_need_a_form_body() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let fields = "FunctionName=plain&Runtime=nodejs20&Code=exports.handler%3D()%3D%3E1";
    for content_type in [Some("text/plain"), Some("application/json"), None] {
        let mut request = http.post(format!("{}/api/v1/func/", server.endpoint)).body(fields);
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), 400, "{content_type:?}");
        let body: Value = response.json().await.expect("json");
        assert_eq!((body["Code"].as_i64(), body["ErrorCode"].as_str()), (Some(400), Some("InvalidArgument")));
        assert!(body["Message"].as_str().expect("message").contains("multipart/form-data"), "{body}");
    }
    assert_eq!(get(&server, "/api/v1/func?FunctionName=plain").await.0, 404, "nothing was created");
    let response = http
        .post(format!("{}/api/v1/func/", server.endpoint))
        .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
        .body(fields)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
}

/// Issue 9: a page in a browser could reach the unsigned form API through DNS rebinding (a foreign
/// `Host`) or a cross-site request (a foreign `Origin`). Signed calls are unaffected.
#[tokio::test]
async fn unsigned_calls_need_a_loopback_host_and_origin() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let list = |host: &str, origin: Option<&str>| {
        let mut request = http.get(format!("{}/api/v1/func/list", server.endpoint)).header("host", host);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    for host in ["localhost", "localhost:8080", "LocalHost:1", "127.0.0.1", "127.9.8.7:80", "[::1]", "[::1]:8080"] {
        assert_eq!(list(host, None).await.expect("send").status(), 200, "Host: {host}");
    }
    for origin in ["http://localhost:3000", "http://127.0.0.1:8080", "https://[::1]", "http://localhost"] {
        assert_eq!(list("localhost", Some(origin)).await.expect("send").status(), 200, "Origin: {origin}");
    }
    let refused = [
        ("evil.example", None),
        ("localhost.evil.example", None),
        ("127.0.0.1.evil.example:80", None),
        ("192.168.1.9", None),
        ("localhost", Some("http://evil.example")),
        ("localhost", Some("null")),
        ("localhost", Some("http://localhost.evil.example")),
    ];
    for (host, origin) in refused {
        let response = list(host, origin).await.expect("send");
        assert_eq!(response.status(), 403, "Host: {host}, Origin: {origin:?}");
        let body: Value = response.json().await.expect("json");
        assert_eq!((body["Code"].as_i64(), body["ErrorCode"].as_str()), (Some(403), Some("AccessDenied")));
    }
    let form = Form::new().text("FunctionName", "x").text("Code", "exports.handler = () => 1");
    let response = http
        .post(format!("{}/api/v1/func/", server.endpoint))
        .header("origin", "http://evil.example")
        .multipart(form)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 403);
    assert_eq!(get(&server, "/api/v1/func?FunctionName=x").await.0, 404, "nothing was created");

    // A signed call may come through any name (a proxy, a remote client).
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let to_sign = signature::string_to_sign(&SignedParts {
        method: "GET",
        content_md5: "",
        content_type: "",
        date: &date,
        canonical_headers: "",
        resource: "/api/v1/func/list",
    });
    let response = http
        .get(format!("{}/api/v1/func/list", server.endpoint))
        .header("host", "fc.example.com")
        .header("origin", "https://console.example.com")
        .header("date", date.clone())
        .header("authorization", format!("FC {KEY_ID}:{}", signature::sign(KEY_SECRET, &to_sign)))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
}
