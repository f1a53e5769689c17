//! Custom domains against the real server: CRUD in FC's wire format, and requests served by `Host`.

use base64::Engine;
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

const NODE_HTTP: &str = r#"
exports.handler = (req, resp, context) => {
  resp.setHeader('content-type', 'application/json');
  resp.send(JSON.stringify({ fn: process.env.WHO, method: req.method, path: req.path, queries: req.queries }));
};
"#;

/// A service with functions `names`, each with an HTTP trigger of `auth`, answering with its name.
async fn service_with(server: &TestServer, names: &[&str], auth: &str) -> String {
    let client = server.client();
    let svc = unique("dom");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    for name in names {
        let body = json!({
            "functionName": name, "runtime": "nodejs20", "handler": "index.handler",
            "environmentVariables": {"WHO": name},
            "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip_of(&[("index.js", NODE_HTTP)]))},
        });
        client.call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body)).await.expect("function");
        let trigger = json!({"triggerName": "web", "triggerType": "http",
                             "triggerConfig": {"authType": auth, "methods": ["GET", "POST"]}});
        client
            .call(Method::POST, &format!("/services/{svc}/functions/{name}/triggers"), &[], Some(&trigger))
            .await
            .expect("trigger");
    }
    svc
}

async fn on_host(server: &TestServer, host: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new().get(format!("{}{path}", server.endpoint)).header("host", host).send().await.expect("send")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_in_fc_wire_format() {
    let server = TestServer::start().await;
    let client = server.client();
    let missing = client.send(Method::GET, "/custom-domains/nothing.example.test", &[], &[], None).await.expect("send");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json().expect("json")["ErrorCode"], "DomainNameNotFound");

    let routes = json!({"routes": [{"path": "/a", "serviceName": "s1", "functionName": "f1", "qualifier": null}]});
    let cert = json!({"certName": "c", "certificate": "-----BEGIN CERTIFICATE-----", "privateKey": "SECRET"});
    let body = json!({"domainName": "Shop.Example.test", "protocol": "HTTP,HTTPS", "routeConfig": routes,
                      "certConfig": cert});
    let created: Value =
        client.call(Method::POST, "/custom-domains", &[], Some(&body)).await.expect("create").json().expect("json");
    assert_eq!(created["domainName"], "Shop.Example.test");
    assert_eq!(created["routeConfig"], routes);
    assert_eq!(created["certConfig"]["privateKey"], Value::Null);
    assert_eq!(created["apiVersion"], "2016-08-15");
    assert!(created["createdTime"].as_str().expect("time").ends_with('Z'));
    assert!(!created.to_string().contains("SECRET"));

    // The name is taken whatever its case and whoever asks.
    for (c, name) in [(&client, "shop.example.test"), (&server.other_client(), "Shop.Example.test")] {
        let dup = c
            .send(Method::POST, "/custom-domains", &[], &[], Some(json!({"domainName": name}).to_string().into_bytes()))
            .await
            .expect("send");
        assert_eq!(dup.status, 409);
        assert_eq!(dup.json().expect("json")["ErrorCode"], "DomainNameAlreadyExists");
    }
    let theirs = server.other_client().send(Method::GET, "/custom-domains/Shop.Example.test", &[], &[], None).await;
    assert_eq!(theirs.expect("send").status, 404);

    let update = json!({"protocol": "HTTP"});
    let updated: Value = client
        .call(Method::PUT, "/custom-domains/Shop.Example.test", &[], Some(&update))
        .await
        .expect("update")
        .json()
        .expect("json");
    assert_eq!(updated["protocol"], "HTTP");
    assert_eq!(updated["routeConfig"], routes);

    for name in ["b.example.test", "c.example.test"] {
        client.call(Method::POST, "/custom-domains", &[], Some(&json!({"domainName": name}))).await.expect("create");
    }
    let page: Value =
        client.call(Method::GET, "/custom-domains", &[("limit", "2")], None).await.expect("list").json().expect("json");
    let names: Vec<&str> =
        page["customDomains"].as_array().expect("list").iter().filter_map(|d| d["domainName"].as_str()).collect();
    assert_eq!(names, ["Shop.Example.test", "b.example.test"]);
    assert_eq!(page["nextToken"], "c.example.test");
    let prefixed: Value = client
        .call(Method::GET, "/custom-domains", &[("prefix", "c.")], None)
        .await
        .expect("list")
        .json()
        .expect("json");
    assert_eq!(prefixed["customDomains"].as_array().expect("list").len(), 1);
    assert!(prefixed.get("nextToken").is_none());

    client.call(Method::DELETE, "/custom-domains/Shop.Example.test", &[], None).await.expect("delete");
    let gone = client.send(Method::DELETE, "/custom-domains/Shop.Example.test", &[], &[], None).await.expect("send");
    assert_eq!(gone.status, 404);

    for bad in ["localhost", "127.0.0.1", "x.localhost", "123.cn-local.fc.aliyuncs.com", "a_b.test"] {
        let r = client
            .send(Method::POST, "/custom-domains", &[], &[], Some(json!({"domainName": bad}).to_string().into_bytes()))
            .await
            .expect("send");
        assert_eq!(r.status, 400, "{bad}");
    }
    let star = json!({"domainName": "d.example.test", "routeConfig": {"routes": [
        {"path": "/a*b", "serviceName": "s", "functionName": "f"}]}});
    let r = client.send(Method::POST, "/custom-domains", &[], &[], Some(star.to_string().into_bytes())).await;
    assert_eq!(r.expect("send").status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_served_by_host_and_path() {
    let server = TestServer::start().await;
    let svc = service_with(&server, &["users", "me", "root"], "anonymous").await;
    let routes = json!({"routes": [
        {"path": "/users/*", "serviceName": svc, "functionName": "users"},
        {"path": "/users/me", "serviceName": svc, "functionName": "me", "qualifier": "LATEST"},
        {"path": "/", "serviceName": svc, "functionName": "root", "methods": ["GET"]},
    ]});
    let body = json!({"domainName": "api.example.test", "protocol": "HTTP", "routeConfig": routes});
    server.client().call(Method::POST, "/custom-domains", &[], Some(&body)).await.expect("create");

    let r = on_host(&server, "api.example.test:8080", "/users/1?x=1").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-fc-request-id"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["fn"], "users");
    assert_eq!(v["path"], "/users/1");
    assert_eq!(v["queries"]["x"], "1");
    let v: Value = on_host(&server, "API.example.test", "/users/me").await.json().await.expect("json");
    assert_eq!(v["fn"], "me");
    let v: Value = on_host(&server, "api.example.test", "/").await.json().await.expect("json");
    assert_eq!(v["fn"], "root");

    // No route: FC's code. A route's methods narrow the trigger's.
    let r = on_host(&server, "api.example.test", "/nothing").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.expect("json")["ErrorCode"], "DomainRouteNotFound");
    let post = reqwest::Client::new()
        .post(format!("{}/", server.endpoint))
        .header("host", "api.example.test")
        .send()
        .await
        .expect("send");
    assert_eq!(post.status(), 405);

    // A domain serves every path, the API's too; the API itself is untouched on other hosts.
    let r = on_host(&server, "api.example.test", "/2016-08-15/services").await;
    assert_eq!(r.json::<Value>().await.expect("json")["ErrorCode"], "DomainRouteNotFound");
    let r = on_host(&server, "other.example.test", "/2016-08-15/services").await;
    assert_eq!(r.status(), 403, "an unregistered host is the API, which wants a signature");
    assert!(server.client().call(Method::GET, "/services", &[], None).await.is_ok());

    // Writes reach routing at once.
    let update = json!({"routeConfig": {"routes": [{"path": "/*", "serviceName": svc, "functionName": "root"}]}});
    server.client().call(Method::PUT, "/custom-domains/api.example.test", &[], Some(&update)).await.expect("update");
    let v: Value = on_host(&server, "api.example.test", "/users/1").await.json().await.expect("json");
    assert_eq!(v["fn"], "root");
    server.client().call(Method::DELETE, "/custom-domains/api.example.test", &[], None).await.expect("delete");
    assert_eq!(on_host(&server, "api.example.test", "/users/1").await.status(), 400, "back to the API");

    // /metrics counts what the domains served under one route label, whatever the path.
    let text = reqwest::get(format!("{}/metrics", server.endpoint)).await.expect("metrics").text().await.expect("text");
    let count = |status: &str| {
        let series =
            format!("ferric_http_requests_total{{route=\"custom_domain\",method=\"GET\",status=\"{status}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&series)).map(str::to_string)
    };
    assert_eq!((count("200").as_deref(), count("404").as_deref()), (Some("4"), Some("2")), "{text}");
    assert!(!text.contains("route=\"/users"), "no raw path is a label");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trigger_auth_type_applies_and_qualifiers_follow_the_proxy_rule() {
    let server = TestServer::start().await;
    let client = server.client();
    let private = service_with(&server, &["f"], "function").await;
    let open = service_with(&server, &["f"], "anonymous").await;
    let routes = json!({"routes": [
        {"path": "/*", "serviceName": private, "functionName": "f"},
        {"path": "/v/*", "serviceName": open, "functionName": "f", "qualifier": "prod"},
    ]});
    let body = json!({"domainName": "private.example.test", "routeConfig": routes});
    client.call(Method::POST, "/custom-domains", &[], Some(&body)).await.expect("create");
    let r = on_host(&server, "private.example.test", "/x").await;
    assert_eq!(r.status(), 403, "authType function needs the owner's signature");

    // The route's qualifier resolves as /proxy/{service}.{qualifier} does: an alias that does not exist yet
    // is not found, and once it exists the route runs the version it names.
    let r = on_host(&server, "private.example.test", "/v/x").await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.expect("json")["ErrorCode"], "AliasNotFound");
    client.call(Method::POST, &format!("/services/{open}/versions"), &[], Some(&json!({}))).await.expect("v1");
    let alias = json!({"aliasName": "prod", "versionId": "1"});
    client.call(Method::POST, &format!("/services/{open}/aliases"), &[], Some(&alias)).await.expect("alias");
    let r = on_host(&server, "private.example.test", "/v/x").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-fc-invocation-service-version"], "1");
}
