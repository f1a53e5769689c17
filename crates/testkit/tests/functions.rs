//! Functions and their code packages through the FC API: create, defaults, checksums, updates, garbage
//! collection of packages, hostile zips, limits, and GetFunctionCode's download URL.

use base64::Engine;
use ferric_client::ClientError;
use ferric_store::code::crc64_xz;
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::json;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn code(status_code: Result<impl std::fmt::Debug, ClientError>) -> (u16, String, String) {
    match status_code {
        Err(ClientError::Api { status, code, message, .. }) => (status, code, message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn service(server: &TestServer) -> String {
    let name = unique("svc");
    server.client().create_service(&json!({"serviceName": name})).await.expect("service");
    name
}

/// Directories and zips in the code store, ignoring nothing: a refused upload must leave none behind.
fn code_entries(server: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(server.data_dir().join("code"))
        .expect("code dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn create_reports_checksum_size_and_defaults() {
    let server = TestServer::start().await;
    let svc = service(&server).await;
    let zip = zip_of(&[("index.py", "def handler(event, context):\n    return 'hi'\n")]);
    let created =
        server.client().create_function(&svc, "fn1", "python3.9", "index.handler", &zip).await.expect("create");
    assert_eq!(created["codeChecksum"], crc64_xz(&zip).to_string());
    assert_eq!(created["codeSize"], zip.len() as u64);
    assert_eq!(created["memorySize"], 128);
    assert_eq!(created["timeout"], 3);
    assert_eq!(created["instanceType"], "e1");
    assert_eq!(created["instanceConcurrency"], 1);
    assert_eq!(created["runtime"], "python3.9");
    assert_eq!(created["initializer"], "", "no initializer is \"\", never null");
    assert!(created.get("code").is_none());
    let checksum = created["codeChecksum"].as_str().expect("checksum");
    let extracted = server.data_dir().join("code").join(checksum).join("index.py");
    assert!(std::fs::read_to_string(&extracted).expect("extracted").contains("def handler"));

    let got = server
        .client()
        .call(Method::GET, &format!("/services/{svc}.LATEST/functions/fn1"), &[], None)
        .await
        .expect("get");
    assert!(!got.header("etag").expect("etag").is_empty());
    let (status, code_, message) =
        code(server.client().create_function(&svc, "fn1", "python3.9", "index.handler", &zip).await);
    assert_eq!((status, code_.as_str()), (409, "FunctionAlreadyExists"));
    assert_eq!(message, format!("function 'fn1' already exists in service '{svc}'"));
}

#[tokio::test]
async fn not_found_errors_name_the_missing_resource() {
    let server = TestServer::start().await;
    let svc = service(&server).await;
    let (status, c, message) = code(server.client().get_function(&svc, "ghost").await);
    assert_eq!((status, c.as_str()), (404, "FunctionNotFound"));
    assert_eq!(message, format!("function 'ghost' does not exist in service '{svc}'"));
    let (status, c, _) = code(server.client().get_function("no-such-svc", "ghost").await);
    assert_eq!((status, c.as_str()), (404, "ServiceNotFound"));
    let zip = zip_of(&[("index.js", "exports.handler=(e,c,cb)=>cb(null,'x')")]);
    let (status, c, _) =
        code(server.client().create_function("no-such-svc", "f", "nodejs20", "index.handler", &zip).await);
    assert_eq!((status, c.as_str()), (404, "ServiceNotFound"));
}

#[tokio::test]
async fn validation_uses_fc_messages() {
    let server = TestServer::start().await;
    let svc = service(&server).await;
    let zip = zip_of(&[("index.py", "x")]);
    let (status, c, message) = code(server.client().create_function(&svc, "f", "10", "index.handler", &zip).await);
    assert_eq!((status, c.as_str()), (400, "InvalidArgument"));
    // FC's phrase first (the SDKs' suites look for it), then what this server runs (issue 9).
    assert!(message.starts_with("Runtime is set to an invalid value"), "{message}");
    assert!(message.contains("'10'") && message.contains("nodejs20") && message.contains("python3"), "{message}");
    let f = format!("/services/{svc}/functions/f");
    server.client().create_function(&svc, "f", "python3", "index.handler", &zip).await.expect("create");
    let (status, _, message) = code(server.client().call(Method::PUT, &f, &[], Some(&json!({"runtime": "ws"}))).await);
    assert_eq!(status, 400);
    assert!(message.starts_with("Runtime is set to an invalid value") && message.contains("nodejs20"), "{message}");
    server.client().call(Method::DELETE, &f, &[], None).await.expect("delete");
    let path = format!("/services/{svc}/functions");
    let cases = [
        json!({"functionName": "f", "runtime": "python3", "handler": "index.handler", "code": {"ossBucketName": "b", "ossObjectName": "o"}}),
        json!({"functionName": "f", "runtime": "python3", "handler": "index.handler"}),
        json!({"functionName": "f", "runtime": "python3", "handler": "index.handler", "code": {"zipFile": "%%%not base64"}}),
        json!({"functionName": "f", "runtime": "python3", "handler": "index.handler", "memorySize": 100, "code": {"zipFile": B64.encode(&zip)}}),
        json!({"functionName": "9f", "runtime": "python3", "handler": "index.handler", "code": {"zipFile": B64.encode(&zip)}}),
        json!({"functionName": "f", "runtime": "python3", "handler": "index.handler", "code": {"zipFile": B64.encode(b"not a zip")}}),
    ];
    for body in cases {
        let (status, c, message) = code(server.client().call(Method::POST, &path, &[], Some(&body)).await);
        assert_eq!((status, c.as_str()), (400, "InvalidArgument"), "{body}: {message}");
    }
    let oss = json!({"functionName": "f", "runtime": "python3", "handler": "index.handler", "code": {"ossBucketName": "b", "ossObjectName": "o"}});
    let (_, _, message) = code(server.client().call(Method::POST, &path, &[], Some(&oss)).await);
    assert!(message.contains("not available on this server"), "{message}");
}

#[tokio::test]
async fn update_merges_replaces_code_and_collects_old_packages() {
    let server = TestServer::start().await;
    let client = server.client();
    let svc = service(&server).await;
    let v1 = zip_of(&[("index.js", "exports.handler=(e,c,cb)=>cb(null,'v1')")]);
    let v2 = zip_of(&[("index.js", "exports.handler=(e,c,cb)=>cb(null,'v2')")]);
    let created = client.create_function(&svc, "f", "nodejs20", "index.handler", &v1).await.expect("create");
    let path = format!("/services/{svc}/functions/f");
    let updated = client
        .call(
            Method::PUT,
            &path,
            &[],
            Some(&json!({"environmentVariables": {"A": "1"}, "MemorySize": 256, "timeout": null})),
        )
        .await
        .expect("update")
        .json()
        .expect("json");
    assert_eq!(updated["environmentVariables"], json!({"A": "1"}));
    assert_eq!(updated["memorySize"], 256);
    assert_eq!(updated["timeout"], 3);
    assert_eq!(updated["codeChecksum"], created["codeChecksum"]);
    let cleared = client
        .call(Method::PUT, &path, &[], Some(&json!({"environmentVariables": {}, "code": {"zipFile": B64.encode(&v2)}})))
        .await
        .expect("update")
        .json()
        .expect("json");
    assert_eq!(cleared["environmentVariables"], json!({}));
    assert_eq!(cleared["codeChecksum"], crc64_xz(&v2).to_string());
    let old = created["codeChecksum"].as_str().expect("checksum");
    assert!(!code_entries(&server).iter().any(|e| e.starts_with(old)), "the replaced package is removed");

    client.delete_function(&svc, "f").await.expect("delete");
    assert!(code_entries(&server).is_empty(), "no package outlives its last function: {:?}", code_entries(&server));
}

#[tokio::test]
async fn shared_packages_survive_until_unused() {
    let server = TestServer::start().await;
    let client = server.client();
    let svc = service(&server).await;
    let zip = zip_of(&[("index.py", "shared")]);
    client.create_function(&svc, "a", "python3", "index.handler", &zip).await.expect("a");
    client.create_function(&svc, "b", "python3", "index.handler", &zip).await.expect("b");
    client.delete_function(&svc, "a").await.expect("delete a");
    assert_eq!(code_entries(&server).len(), 2, "zip and tree stay while b uses them");
    client.delete_function(&svc, "b").await.expect("delete b");
    assert!(code_entries(&server).is_empty());
}

#[tokio::test]
async fn hostile_zips_are_refused_and_leave_nothing() {
    let server = TestServer::start().await;
    let svc = service(&server).await;
    for (file, why) in [("../evil.py", "escapes"), ("/abs.py", "absolute")] {
        let zip = zip_of(&[(file, "x")]);
        let (status, c, message) =
            code(server.client().create_function(&svc, "f", "python3", "index.handler", &zip).await);
        assert_eq!((status, c.as_str()), (400, "InvalidArgument"), "{file}");
        assert!(message.contains(why), "{message}");
        assert!(code_entries(&server).is_empty(), "{file} left {:?}", code_entries(&server));
    }
    let bomb = {
        let zeros = "\0".repeat(8 * 1024 * 1024);
        zip_of(&[("zeros.bin", zeros.as_str())])
    };
    let (status, _, message) =
        code(server.client().create_function(&svc, "f", "python3", "index.handler", &bomb).await);
    assert_eq!(status, 400);
    assert!(message.contains("zip bomb"), "{message}");
    assert!(code_entries(&server).is_empty());
    assert!(server.client().get_function(&svc, "f").await.is_err(), "no function row for a refused package");
}

#[tokio::test]
async fn oversized_bodies_get_entity_too_large() {
    let server = TestServer::start_with(|c| {
        c.code_limits.max_zip_bytes = 64 * 1024;
        c.max_body_bytes = 16 * 1024;
    })
    .await;
    let svc = service(&server).await;
    let big = "y".repeat(40 * 1024);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let random: String = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    let zip = zip_of(&[("index.py", &random)]);
    assert!(zip.len() > 64 * 1024);
    let (status, c, _) = code(server.client().create_function(&svc, "f", "python3", "index.handler", &zip).await);
    assert_eq!((status, c.as_str()), (400, "EntityTooLarge"));
    let (status, c, message) =
        code(server.client().create_service(&json!({"serviceName": "big", "description": big})).await);
    assert_eq!((status, c.as_str()), (400, "EntityTooLarge"));
    assert!(message.starts_with("payload size exceeds maximum allowed size"));
}

#[tokio::test]
async fn get_function_code_url_downloads_the_exact_zip() {
    let server = TestServer::start().await;
    let svc = service(&server).await;
    let zip = zip_of(&[("index.py", "def handler(e, c):\n    return e\n")]);
    server.client().create_function(&svc, "f", "python3", "index.handler", &zip).await.expect("create");
    let answer = server
        .client()
        .call(Method::GET, &format!("/services/{svc}/functions/f/code"), &[], None)
        .await
        .expect("code")
        .json()
        .expect("json");
    assert_eq!(answer["checksum"], crc64_xz(&zip).to_string());
    let url = answer["url"].as_str().expect("url");
    assert!(url.starts_with(&server.endpoint), "{url}");
    let http = reqwest::Client::new();
    let downloaded = http.get(url).send().await.expect("download");
    assert_eq!(downloaded.status(), 200);
    assert_eq!(downloaded.bytes().await.expect("bytes").to_vec(), zip);

    let tampered = url.replace("signature=", "signature=x");
    assert_eq!(http.get(&tampered).send().await.expect("send").status(), 403);
    let other_expiry = url.replace("expires=", "expires=9");
    assert_eq!(http.get(&other_expiry).send().await.expect("send").status(), 403);
}

#[tokio::test]
async fn expired_code_urls_are_refused() {
    let server = TestServer::start_with(|c| c.code_url_ttl = std::time::Duration::ZERO).await;
    let svc = service(&server).await;
    let zip = zip_of(&[("index.py", "x")]);
    server.client().create_function(&svc, "f", "python3", "index.handler", &zip).await.expect("create");
    let answer = server
        .client()
        .call(Method::GET, &format!("/services/{svc}/functions/f/code"), &[], None)
        .await
        .expect("code")
        .json()
        .expect("json");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = reqwest::get(answer["url"].as_str().expect("url")).await.expect("send");
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["ErrorMessage"], "the code URL has expired");
}

#[tokio::test]
async fn services_and_functions_refuse_deletion_while_not_empty() {
    let server = TestServer::start().await;
    let client = server.client();
    let svc = service(&server).await;
    let zip = zip_of(&[("index.py", "x")]);
    client.create_function(&svc, "f", "python3", "index.handler", &zip).await.expect("create");
    let (status, c, _) = code(client.delete_service(&svc).await);
    assert_eq!((status, c.as_str()), (409, "ServiceNotEmpty"));
    let trigger = json!({"triggerName": "t", "triggerType": "timer", "triggerConfig": {"cronExpression": "@every 5m", "enable": false}});
    client
        .call(Method::POST, &format!("/services/{svc}/functions/f/triggers"), &[], Some(&trigger))
        .await
        .expect("trigger");
    let (status, c, message) = code(client.delete_function(&svc, "f").await);
    assert_eq!((status, c.as_str()), (409, "FunctionNotEmpty"));
    assert_eq!(message, "function 'f' has active triggers");
    client.call(Method::DELETE, &format!("/services/{svc}/functions/f/triggers/t"), &[], None).await.expect("delete t");
    client.delete_function(&svc, "f").await.expect("delete f");
    client.delete_service(&svc).await.expect("delete svc");
}

#[tokio::test]
async fn packages_left_unreferenced_by_a_crash_are_swept_at_start() {
    let orphan = zip_of(&[("index.py", "orphan")]);
    let kept = zip_of(&[("index.py", "kept")]);
    let server = TestServer::start_with(|config| {
        let store =
            ferric_store::code::CodeStore::open(config.data_dir.join("code"), config.code_limits).expect("code store");
        store.put(&orphan).expect("orphan package");
    })
    .await;
    let svc = service(&server).await;
    server.client().create_function(&svc, "f", "python3", "index.handler", &kept).await.expect("create");
    let orphan_name = crc64_xz(&orphan).to_string();
    for _ in 0..100 {
        if !code_entries(&server).iter().any(|e| e.starts_with(&orphan_name)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let entries = code_entries(&server);
    assert!(!entries.iter().any(|e| e.starts_with(&orphan_name)), "orphan swept: {entries:?}");
    assert_eq!(entries.len(), 2, "the live package stays: {entries:?}");
}
