//! Service tags, account settings and the cloud-only routes against the real server.

use ferric_testkit::{unique, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_follow_their_service() {
    let server = TestServer::start().await;
    let client = server.client();
    let svc = unique("tagged");
    client.create_service(&json!({"serviceName": svc})).await.expect("service");
    let account = server.sdk_env().into_iter().find(|(k, _)| *k == "FC_ACCOUNT_ID").map(|(_, v)| v).expect("account");
    let arn = format!("acs:fc:local:{account}:services/{svc}");
    let tag = json!({"resourceArn": arn, "tags": {"team": "web", "tier": null}});
    client.call(Method::POST, "/tag", &[], Some(&tag)).await.expect("tag");
    let got: Value =
        client.call(Method::GET, "/tag", &[("resourceArn", &arn)], None).await.expect("get").json().expect("json");
    assert_eq!(got["tags"], json!({"team": "web", "tier": ""}));
    let listed: Value = client.call(Method::GET, "/tags", &[], None).await.expect("list").json().expect("json");
    assert_eq!(listed["resources"][0]["resourceArn"], arn.as_str());

    let other = server.other_client().send(Method::GET, "/tag", &[("resourceArn", &arn)], &[], None).await;
    assert_eq!(other.expect("send").status, 400, "another account's ARN");
    let too_many: serde_json::Map<String, Value> = (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    let r = client
        .send(Method::POST, "/tag", &[], &[], Some(json!({"resourceArn": arn, "tags": too_many}).to_string().into()))
        .await
        .expect("send");
    assert_eq!(r.status, 400);

    // A deleted service takes its tags along.
    client.delete_service(&svc).await.expect("delete");
    client.create_service(&json!({"serviceName": svc})).await.expect("service again");
    let got: Value =
        client.call(Method::GET, "/tag", &[("resourceArn", &arn)], None).await.expect("get").json().expect("json");
    assert_eq!(got["tags"], json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_reads_and_cloud_only_routes() {
    let server = TestServer::start().await;
    let client = server.client();
    let settings: Value =
        client.call(Method::GET, "/account-settings", &[], None).await.expect("settings").json().expect("json");
    assert_eq!(settings["availableAZs"].as_array().expect("zones").len(), 1);
    let rc: Value =
        client.call(Method::GET, "/reservedCapacities", &[], None).await.expect("list").json().expect("json");
    assert_eq!(rc, json!({"reservedCapacities": []}));
    for path in ["/tempBucketToken", "/services/s/tempCodeBucketToken"] {
        let r = client.send(Method::GET, path, &[], &[], None).await.expect("send");
        assert_eq!(r.status, 400, "{path}");
        let body = r.json().expect("json");
        assert_eq!(body["ErrorCode"], "PathNotSupported");
        assert!(body["ErrorMessage"].as_str().expect("message").contains("OSS"));
    }
}
