//! Layers against the real server: publish, read, page, fetch by either ARN, delete (numbers never
//! reused); functions that list layers import their modules from `/opt` (Node and Python, the first
//! listed layer winning a conflict, the tree read-only); a function's layers are checked when it is
//! written and travel with its versions; and the refusals (unknown layers, too many, incompatible
//! runtimes, bad or oversized zips, unsafe paths, other accounts).

use base64::Engine;
use ferric_client::{Client, ClientError};
use ferric_testkit::{unique, zip_of, TestServer, ACCOUNT};
use reqwest::Method;
use serde_json::{json, Value};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn call(client: &Client, method: Method, path: &str, query: &[(&str, &str)], body: Option<Value>) -> Value {
    let r = client.call(method, path, query, body.as_ref()).await.unwrap_or_else(|e| panic!("{path}: {e}"));
    if r.body.is_empty() {
        Value::Null
    } else {
        r.json().expect("json")
    }
}

async fn fails(client: &Client, method: Method, path: &str, body: Option<Value>) -> (u16, String) {
    match client.call(method, path, &[], body.as_ref()).await {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        Err(other) => panic!("{path}: not an API error: {other}"),
        Ok(r) => panic!("{path}: unexpectedly {}: {}", r.status, String::from_utf8_lossy(&r.body)),
    }
}

async fn publish(client: &Client, name: &str, files: &[(&str, &str)], runtimes: &[&str]) -> Value {
    let body = json!({
        "description": format!("layer {name}"),
        "code": {"zipFile": b64(&zip_of(files))},
        "compatibleRuntime": runtimes,
    });
    call(client, Method::POST, &format!("/layers/{name}/versions"), &[], Some(body)).await
}

fn encode(arn: &str) -> String {
    percent_encoding::utf8_percent_encode(arn, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_get_list_and_delete_like_fc() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("lib");
    let files = [("python/mod.py", "X = 1\n")];
    let v1 = publish(&client, &name, &files, &["python3.10", "python3"]).await;
    assert_eq!(v1["layerName"], name.as_str());
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["description"], format!("layer {name}"));
    assert_eq!(v1["compatibleRuntime"], json!(["python3.10", "python3"]));
    assert_eq!(v1["acl"], 0);
    assert!(v1["codeSize"].as_u64().expect("number") > 0);
    assert!(v1["codeChecksum"].as_str().expect("string").parse::<u64>().is_ok(), "{v1}");
    assert!(v1["createTime"].as_str().expect("string").ends_with('Z'));
    let arn_v2 = format!("acs:fc:local:{ACCOUNT}:layers/{name}/versions/1");
    assert_eq!(v1["arnV2"], arn_v2.as_str());
    assert!(v1["arn"].as_str().expect("string").ends_with(&format!("#{name}#1")));

    // code.location downloads the very package.
    let location = v1["code"]["location"].as_str().expect("location");
    let zip = reqwest::get(location).await.expect("download").bytes().await.expect("bytes");
    assert_eq!(zip.as_ref(), zip_of(&files).as_slice());

    let v2 = publish(&client, &name, &[("python/mod.py", "X = 2\n")], &[]).await;
    assert_eq!(v2["version"], 2);
    let got = call(&client, Method::GET, &format!("/layers/{name}/versions/2"), &[], None).await;
    assert_eq!(got["codeChecksum"], v2["codeChecksum"]);

    // Both ARN forms find a version.
    for arn in [arn_v2.clone(), v1["arn"].as_str().expect("string").to_string()] {
        let by_arn = call(&client, Method::GET, &format!("/layerarn/{}", encode(&arn)), &[], None).await;
        assert_eq!(by_arn["version"], 1, "{arn}");
    }

    let page = call(&client, Method::GET, &format!("/layers/{name}/versions"), &[("limit", "1")], None).await;
    assert_eq!(page["layers"].as_array().expect("array").len(), 1);
    assert_eq!(page["nextVersion"], 2);
    let rest = call(&client, Method::GET, &format!("/layers/{name}/versions"), &[("startVersion", "2")], None).await;
    assert_eq!(rest["layers"][0]["version"], 2);
    assert!(rest.get("nextVersion").is_none());

    let other = unique("other");
    publish(&client, &other, &files, &[]).await;
    let all = call(&client, Method::GET, "/layers", &[("prefix", &name)], None).await;
    let listed = all["layers"].as_array().expect("array");
    assert_eq!(listed.len(), 1, "{all}");
    assert_eq!((listed[0]["layerName"].as_str(), listed[0]["version"].as_u64()), (Some(name.as_str()), Some(2)));
    let official = call(&client, Method::GET, "/layers", &[("official", "true")], None).await;
    assert_eq!(official["layers"], json!([]));
    let public = call(&client, Method::GET, "/layers", &[("public", "true")], None).await;
    assert_eq!(public["layers"], json!([]));
    call(&client, Method::PUT, &format!("/layers/{name}/acl"), &[("public", "true")], None).await;
    let public = call(&client, Method::GET, "/layers", &[("public", "true")], None).await;
    assert_eq!(public["layers"][0]["acl"], 1);

    // Delete: gone, never renumbered, the other account never sees it.
    let r = client.call(Method::DELETE, &format!("/layers/{name}/versions/1"), &[], None).await.expect("delete");
    assert_eq!(r.status, 204);
    assert_eq!(
        fails(&client, Method::GET, &format!("/layers/{name}/versions/1"), None).await,
        (404, "LayerNotFound".into())
    );
    assert_eq!(
        fails(&client, Method::DELETE, &format!("/layers/{name}/versions/1"), None).await,
        (404, "LayerNotFound".into())
    );
    assert_eq!(publish(&client, &name, &files, &[]).await["version"], 3);
    let stranger = server.other_client();
    assert_eq!(fails(&stranger, Method::GET, &format!("/layers/{name}/versions/2"), None).await.0, 404);
    assert_eq!(fails(&stranger, Method::GET, &format!("/layerarn/{}", encode(&arn_v2)), None).await.0, 404);
    let theirs = call(&stranger, Method::GET, "/layers", &[], None).await;
    assert_eq!(theirs["layers"], json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_in_fcs_format() {
    let server = TestServer::start_with(|c| c.code_limits.max_zip_bytes = 64 * 1024).await;
    let client = server.client();
    let path = "/layers/bad/versions";
    let not_zip = json!({"code": {"zipFile": b64(b"not a zip at all")}});
    assert_eq!(fails(&client, Method::POST, path, Some(not_zip)).await, (400, "InvalidArgument".into()));
    let unsafe_zip = json!({"code": {"zipFile": b64(&zip_of(&[("../escape.txt", "x")]))}});
    assert_eq!(fails(&client, Method::POST, path, Some(unsafe_zip)).await, (400, "InvalidArgument".into()));
    assert_eq!(fails(&client, Method::POST, path, Some(json!({}))).await, (400, "InvalidArgument".into()));
    // A package past the code limit is refused as a function's is.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: String = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    let big = json!({"code": {"zipFile": b64(&zip_of(&[("python/big.py", &noise)]))}});
    assert_eq!(fails(&client, Method::POST, path, Some(big)).await, (400, "EntityTooLarge".into()));
    assert_eq!(fails(&client, Method::POST, "/layers/9starts-with-digit/versions", Some(json!({}))).await.0, 400);
    assert_eq!(fails(&client, Method::GET, "/layers/nope/versions/1", None).await, (404, "LayerNotFound".into()));
    assert_eq!(fails(&client, Method::GET, "/layers/nope/versions", None).await, (404, "LayerNotFound".into()));
    assert_eq!(fails(&client, Method::GET, "/layers/nope/versions/abc", None).await, (400, "InvalidArgument".into()));
    assert_eq!(fails(&client, Method::GET, "/layerarn/garbage", None).await, (400, "InvalidArgument".into()));
    server.stop().await;
}

/// A Node function that reports which modules its layers gave it, and whether `/opt` is writable.
const NODE_PROBE: &str = r#"
const fs = require('fs');
exports.handler = (event, context, callback) => {
  let opt = null, writable = null;
  if (fs.existsSync('/opt/nodejs')) {
    opt = fs.readdirSync('/opt').sort();
    try { fs.writeFileSync('/opt/x', 'x'); writable = true; } catch (e) { writable = e.code; }
  }
  let second = null;
  try { second = require('second'); } catch (e) { second = 'missing'; }
  callback(null, JSON.stringify({ shared: require('shared'), second, opt, writable }));
};
"#;

const PYTHON_PROBE: &str = r#"
import json
def handler(event, context):
    import shared
    try:
        import second
        second = second.NAME
    except ImportError:
        second = "missing"
    return json.dumps({"shared": shared.NAME, "second": second})
"#;

async fn invoke(client: &Client, svc: &str, function: &str) -> Value {
    let r = client
        .send(
            Method::POST,
            &format!("/services/{svc}/functions/{function}/invocations"),
            &[],
            &[],
            Some(b"{}".to_vec()),
        )
        .await
        .expect("invoke");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("x-fc-error-type").is_none(), "{}", String::from_utf8_lossy(&r.body));
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&r.body)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_import_their_layers_from_opt() {
    let server = TestServer::start().await;
    let client = server.client();
    let (first, second) = (unique("first"), unique("second"));
    let a = publish(
        &client,
        &first,
        &[
            ("nodejs/node_modules/shared/index.js", "module.exports = 'first';"),
            ("python/shared.py", "NAME = 'first'\n"),
        ],
        &[],
    )
    .await;
    let b = publish(
        &client,
        &second,
        &[
            ("nodejs/node_modules/shared/index.js", "module.exports = 'second';"),
            ("nodejs/node_modules/second/index.js", "module.exports = 'from-second';"),
            ("python/shared.py", "NAME = 'second'\n"),
            ("python/second.py", "NAME = 'from-second'\n"),
        ],
        &["nodejs20", "nodejs18", "python3.10", "python3.12", "python3"],
    )
    .await;
    // Both ARN forms work in a function's list; the first listed wins a conflict.
    let layers = json!([a["arnV2"], b["arn"]]);
    let svc = unique("layered");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let node = json!({
        "functionName": "node", "runtime": "nodejs20", "handler": "index.handler", "layers": layers,
        "code": {"zipFile": b64(&zip_of(&[("index.js", NODE_PROBE)]))},
    });
    let created = call(&client, Method::POST, &format!("/services/{svc}/functions"), &[], Some(node)).await;
    assert_eq!(created["layers"], layers);
    let out = invoke(&client, &svc, "node").await;
    assert_eq!((out["shared"].as_str(), out["second"].as_str()), (Some("first"), Some("from-second")), "{out}");
    if !out["opt"].is_null() {
        // In a mount namespace the layers are one read-only tree at /opt.
        assert_eq!(out["opt"], json!(["ferric", "nodejs", "python"]), "{out}");
        assert_eq!(out["writable"], "EROFS", "{out}");
    }

    let python = json!({
        "functionName": "py", "runtime": "python3.10", "handler": "index.handler", "layers": [b["arnV2"], a["arnV2"]],
        "code": {"zipFile": b64(&zip_of(&[("index.py", PYTHON_PROBE)]))},
    });
    call(&client, Method::POST, &format!("/services/{svc}/functions"), &[], Some(python)).await;
    let out = invoke(&client, &svc, "py").await;
    assert_eq!((out["shared"].as_str(), out["second"].as_str()), (Some("second"), Some("from-second")), "{out}");

    // A version keeps the layers; LATEST drops one, and its new instances no longer see it.
    call(&client, Method::POST, &format!("/services/{svc}/versions"), &[], Some(json!({}))).await;
    client.update_function(&svc, "node", &json!({"layers": [a["arnV2"]]})).await.expect("update");
    let out = invoke(&client, &svc, "node").await;
    assert_eq!((out["shared"].as_str(), out["second"].as_str()), (Some("first"), Some("missing")), "{out}");
    let v1 = invoke(&client, &format!("{svc}.1"), "node").await;
    assert_eq!(v1["second"], "from-second", "{v1}");
    let cleared = client.update_function(&svc, "node", &json!({"layers": []})).await.expect("clear");
    assert!(cleared.get("layers").is_none(), "{cleared}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_functions_layers_are_checked_when_it_is_written() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("py-only");
    let layer = publish(&client, &name, &[("python/x.py", "")], &["python3.10"]).await;
    let svc = unique("checked");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let create = |layers: Value| {
        json!({
            "functionName": "f", "runtime": "nodejs20", "handler": "index.handler", "layers": layers,
            "code": {"zipFile": b64(&zip_of(&[("index.js", "exports.handler=(e,c,cb)=>cb(null,'ok')")]))},
        })
    };
    let path = format!("/services/{svc}/functions");
    let unknown = format!("acs:fc:local:{ACCOUNT}:layers/{name}/versions/9");
    assert_eq!(
        fails(&client, Method::POST, &path, Some(create(json!([unknown])))).await,
        (404, "LayerNotFound".into())
    );
    assert_eq!(
        fails(&client, Method::POST, &path, Some(create(json!([layer["arnV2"]])))).await,
        (400, "InvalidArgument".into()),
        "a python-only layer on a Node function"
    );
    let six: Vec<String> = (1..=6).map(|i| format!("acs:fc:local:{ACCOUNT}:layers/l{i}/versions/1")).collect();
    assert_eq!(fails(&client, Method::POST, &path, Some(create(json!(six)))).await, (400, "InvalidArgument".into()));
    let theirs = format!("acs:fc:local:2222222222222222:layers/{name}/versions/1");
    assert_eq!(fails(&client, Method::POST, &path, Some(create(json!([theirs])))).await, (404, "LayerNotFound".into()));
    assert_eq!(fails(&client, Method::POST, &path, Some(create(json!(["not-an-arn"])))).await.0, 400);
    // Nothing was created by the refusals; a good list works, then an update is checked too.
    call(&client, Method::POST, &path, &[], Some(create(json!([])))).await;
    let update = client.update_function(&svc, "f", &json!({"layers": [layer["arnV2"]]})).await;
    assert!(matches!(update, Err(ClientError::Api { status: 400, .. })), "{update:?}");

    // A deleted version a function lists is only hidden: the function keeps starting (a fresh instance
    // after the update below), no function can add it, and its package goes once nothing lists it.
    let open = unique("any");
    let module = "exports.handler=(e,c,cb)=>cb(null,String(require('m')))";
    let any = publish(&client, &open, &[("nodejs/node_modules/m/index.js", "module.exports=42")], &[]).await;
    let package = server.data_dir().join("code").join(any["codeChecksum"].as_str().expect("checksum"));
    client
        .update_function(
            &svc,
            "f",
            &json!({"layers": [any["arnV2"]], "code": {"zipFile": b64(&zip_of(&[("index.js", module)]))}}),
        )
        .await
        .expect("update");
    client.call(Method::DELETE, &format!("/layers/{open}/versions/1"), &[], None).await.expect("delete");
    assert_eq!(fails(&client, Method::GET, &format!("/layers/{open}/versions/1"), None).await.0, 404);
    client.update_function(&svc, "f", &json!({"timeout": 10})).await.expect("a new configuration");
    let r = client
        .send(Method::POST, &format!("/services/{svc}/functions/f/invocations"), &[], &[], Some(b"{}".to_vec()))
        .await
        .expect("invoke");
    assert_eq!((r.status, r.body.as_slice()), (200, b"42".as_slice()), "{}", String::from_utf8_lossy(&r.body));
    let again = json!({
        "functionName": "g", "runtime": "nodejs20", "handler": "index.handler", "layers": [any["arnV2"]],
        "code": {"zipFile": b64(&zip_of(&[("index.js", module)]))},
    });
    assert_eq!(fails(&client, Method::POST, &path, Some(again)).await, (404, "LayerNotFound".into()));
    assert!(package.exists(), "the hidden version keeps its package");
    client.update_function(&svc, "f", &json!({"layers": []})).await.expect("drop the layer");
    assert!(!package.exists(), "{} is still there", package.display());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_includes_from_its_layers_and_every_runtime_gets_opt_bin_on_path() {
    let server = TestServer::start().await;
    let client = server.client();
    let name = unique("phplib");
    let layer = publish(
        &client,
        &name,
        &[("php/greet.php", "<?php function greet() { return 'php layer'; }\n"), ("bin/tool", "#!/bin/sh\n")],
        &[],
    )
    .await;
    let svc = unique("phplayered");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let php = "<?php\nrequire_once 'greet.php';\nfunction handler($event, $context) { return greet() . ' ' . getenv('PATH'); }\n";
    let body = json!({
        "functionName": "f", "runtime": "php7.2", "handler": "index.handler", "layers": [layer["arnV2"]],
        "code": {"zipFile": b64(&zip_of(&[("index.php", php)]))},
    });
    call(&client, Method::POST, &format!("/services/{svc}/functions"), &[], Some(body)).await;
    let r = client
        .send(Method::POST, &format!("/services/{svc}/functions/f/invocations"), &[], &[], Some(b"{}".to_vec()))
        .await
        .expect("invoke");
    let text = String::from_utf8_lossy(&r.body).into_owned();
    assert_eq!(r.status, 200, "{text}");
    assert!(r.header("x-fc-error-type").is_none(), "{text}");
    assert!(text.starts_with("php layer "), "{text}");
    assert!(text.ends_with("/bin"), "the layer's bin directory ends PATH: {text}");
    server.stop().await;
}
