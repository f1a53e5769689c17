//! `api/openapi.yaml` is the checked-in contract: every route the server answers must be described there,
//! with each method it accepts. The probe asks the real server, so a route added without a spec entry
//! (or a spec entry the server does not serve) fails here.

use ferric_testkit::{repo_root, TestServer};

/// HTTP triggers answer every method; the spec describes these.
const PROXY_METHODS: &[&str] = &["get", "post", "put", "delete", "patch", "head", "options"];

/// (spec path, concrete path to probe, methods)
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("/healthz", "/healthz", &["get"]),
    ("/2016-08-15/services", "/2016-08-15/services", &["get", "post"]),
    ("/2016-08-15/services/{serviceName}", "/2016-08-15/services/s", &["get", "put", "delete"]),
    ("/2016-08-15/services/{serviceName}/functions", "/2016-08-15/services/s/functions", &["get", "post"]),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}",
        "/2016-08-15/services/s/functions/f",
        &["get", "put", "delete"],
    ),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/code",
        "/2016-08-15/services/s/functions/f/code",
        &["get"],
    ),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/triggers",
        "/2016-08-15/services/s/functions/f/triggers",
        &["get", "post"],
    ),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/triggers/{triggerName}",
        "/2016-08-15/services/s/functions/f/triggers/t",
        &["get", "put", "delete"],
    ),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/invocations",
        "/2016-08-15/services/s/functions/f/invocations",
        &["post"],
    ),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/provision-config",
        "/2016-08-15/services/s/functions/f/provision-config",
        &["get", "put"],
    ),
    ("/2016-08-15/provision-configs", "/2016-08-15/provision-configs", &["get"]),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/on-demand-config",
        "/2016-08-15/services/s/functions/f/on-demand-config",
        &["get", "put", "delete"],
    ),
    ("/2016-08-15/on-demand-configs", "/2016-08-15/on-demand-configs", &["get"]),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/instances",
        "/2016-08-15/services/s/functions/f/instances",
        &["get"],
    ),
    ("/2016-08-15/proxy/{serviceName}/{functionName}", "/2016-08-15/proxy/s/f", PROXY_METHODS),
    ("/2016-08-15/proxy/{serviceName}/{functionName}/", "/2016-08-15/proxy/s/f/", PROXY_METHODS),
    ("/2016-08-15/proxy/{serviceName}/{functionName}/{path}", "/2016-08-15/proxy/s/f/x", PROXY_METHODS),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/async-invoke-config",
        "/2016-08-15/services/s/functions/f/async-invoke-config",
        &["get", "put", "delete"],
    ),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/async-invoke-configs",
        "/2016-08-15/services/s/functions/f/async-invoke-configs",
        &["get"],
    ),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/stateful-async-invocations",
        "/2016-08-15/services/s/functions/f/stateful-async-invocations",
        &["get"],
    ),
    (
        "/2016-08-15/services/{serviceName}/functions/{functionName}/stateful-async-invocations/{invocationId}",
        "/2016-08-15/services/s/functions/f/stateful-async-invocations/i",
        &["get", "put"],
    ),
    ("/2016-08-15/custom-domains", "/2016-08-15/custom-domains", &["get", "post"]),
    ("/2016-08-15/layers", "/2016-08-15/layers", &["get"]),
    ("/2016-08-15/layers/{layerName}/versions", "/2016-08-15/layers/l/versions", &["get", "post"]),
    ("/2016-08-15/layers/{layerName}/versions/{version}", "/2016-08-15/layers/l/versions/1", &["get", "delete"]),
    ("/2016-08-15/layers/{layerName}/acl", "/2016-08-15/layers/l/acl", &["put"]),
    ("/2016-08-15/layerarn/{arn}", "/2016-08-15/layerarn/x", &["get"]),
    ("/2016-08-15/custom-domains/{domainName}", "/2016-08-15/custom-domains/a.example.test", &["get", "put", "delete"]),
    ("/2016-08-15/tag", "/2016-08-15/tag", &["get", "post", "delete"]),
    ("/2016-08-15/tags", "/2016-08-15/tags", &["get"]),
    ("/2016-08-15/account-settings", "/2016-08-15/account-settings", &["get"]),
    ("/2016-08-15/reservedCapacities", "/2016-08-15/reservedCapacities", &["get"]),
    ("/2016-08-15/services/{serviceName}/tempCodeBucketToken", "/2016-08-15/services/s/tempCodeBucketToken", &["get"]),
    ("/2016-08-15/tempBucketToken", "/2016-08-15/tempBucketToken", &["get"]),
    ("/ferric/v1/logs/follow", "/ferric/v1/logs/follow", &["get"]),
    (
        "/ferric/v1/services/{serviceName}/functions/{functionName}/stateful-async-invocations/{invocationId}/redrive",
        "/ferric/v1/services/s/functions/f/stateful-async-invocations/i/redrive",
        &["post"],
    ),
    ("/ferric/v1/code/{checksum}", "/ferric/v1/code/1", &["get"]),
    ("/ferric/v1/logs", "/ferric/v1/logs", &["get"]),
    ("/api/v1/func/", "/api/v1/func/", &["post"]),
    ("/api/v1/func", "/api/v1/func", &["get"]),
    ("/api/v1/func/update", "/api/v1/func/update", &["post"]),
    ("/api/v1/func/delete", "/api/v1/func/delete", &["post"]),
    ("/api/v1/func/list", "/api/v1/func/list", &["get"]),
    ("/api/v1/func/config", "/api/v1/func/config", &["post"]),
];

/// The methods the spec lists under one path.
fn spec_methods(spec: &str, path: &str) -> Vec<String> {
    let header = format!("\n  {path}:\n");
    let start =
        spec.find(&header).unwrap_or_else(|| panic!("api/openapi.yaml does not describe {path}")) + header.len();
    spec[start..]
        .lines()
        .take_while(|line| line.is_empty() || line.starts_with("    "))
        .filter_map(|line| line.strip_prefix("    ").and_then(|l| l.strip_suffix(':')))
        .filter(|key| ["get", "put", "post", "delete", "patch", "head", "options"].contains(key))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn every_served_route_is_in_the_spec() {
    let spec = std::fs::read_to_string(repo_root().join("api/openapi.yaml")).expect("api/openapi.yaml");
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for (spec_path, probe, methods) in ROUTES {
        let listed = spec_methods(&spec, spec_path);
        for method in *methods {
            assert!(listed.iter().any(|m| m == method), "{method} {spec_path} is served but not in the spec");
            let response = http
                .request(method.to_uppercase().parse().expect("method"), format!("{}{probe}", server.endpoint))
                .send()
                .await
                .expect("send");
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            assert_ne!(body["ErrorCode"], "PathNotSupported", "{method} {probe} is in the spec but not served");
        }
    }
}

/// The `ErrorCode` enum of the spec's `Error` schema, in order.
fn spec_error_codes(spec: &str) -> Vec<String> {
    let schema = spec.find("\n    Error:\n").expect("api/openapi.yaml has schemas.Error");
    let rest = &spec[schema..];
    let enum_at = rest.find("enum:\n").expect("Error.ErrorCode has an enum") + "enum:\n".len();
    rest[enum_at..]
        .lines()
        .map_while(|line| line.trim_start().strip_prefix("- "))
        .map(|code| code.trim().to_string())
        .collect()
}

#[test]
fn every_error_code_sent_is_in_the_spec_enum() {
    let spec = std::fs::read_to_string(repo_root().join("api/openapi.yaml")).expect("api/openapi.yaml");
    let listed = spec_error_codes(&spec);
    let sent: Vec<&str> = ferric_types::ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    for code in &sent {
        assert!(listed.iter().any(|l| l == code), "ErrorCode {code} is sent but not in Error.ErrorCode's enum");
    }
    for code in &listed {
        assert!(sent.contains(&code.as_str()), "Error.ErrorCode's enum lists {code}, which the server never sends");
    }
}
