//! The `/api/v1/func` form API of the product's second spec, over real multipart requests.

use base64::Engine;
use ferric_store::code::crc64_xz;
use ferric_testkit::{zip_of, TestServer, KEY_ID, KEY_SECRET, OTHER_KEY_ID, OTHER_KEY_SECRET};
use ferric_types::signature::{self, SignedParts};
use reqwest::multipart::{Form, Part};
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
        Form::new().text("FunctionName", "ok").text("Runtime", "ws").text("Handler", "C"),
        Form::new().text("FunctionName", "ok").text("Runtime", "java8").text("Code", "class A {}"),
    ];
    for form in cases {
        let (status, body) = post(&server, "/api/v1/func/", form).await;
        assert_eq!(status, 400);
        assert_eq!(body["Code"], 400);
        assert!(!body["Message"].as_str().expect("message").is_empty());
    }
    let (status, body) = post(&server, "/api/v1/func/delete", Form::new().text("FunctionName", "ghost")).await;
    assert_eq!((status, body["ErrorCode"].as_str()), (404, Some("FunctionNotFound")));
    let form = Form::new().text("FunctionName", "ok").text("FunctionConfig", "!!!");
    assert_eq!(post(&server, "/api/v1/func/config", form).await.0, 400);
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
