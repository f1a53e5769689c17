//! The client commands against a real server (testkit's `TestServer`, in this process): `deploy` of a
//! template and an incremental redeploy that uploads only the changed function, `invoke` with the log,
//! `logs`, `ls`/`info`, `--prune`, and the configuration sources the binary reads.

use std::path::Path;
use std::process::{Command, Output};

use ferric_testkit::{unique, TestServer, ACCOUNT, KEY_ID, KEY_SECRET};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ferric");

/// Runs `ferric` in `dir` with only `env` (plus PATH, and HOME = `dir`), off the async runtime.
async fn ferric(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let (dir, env) = (dir.to_path_buf(), env.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<Vec<_>>());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &dir)
            .envs(env)
            .output()
            .expect("run ferric")
    })
    .await
    .expect("join")
}

fn fun_env(server: &TestServer) -> Vec<(&'static str, String)> {
    vec![
        ("FC_ENDPOINT", server.endpoint.clone()),
        ("ACCOUNT_ID", ACCOUNT.into()),
        ("ACCESS_KEY_ID", KEY_ID.into()),
        ("ACCESS_KEY_SECRET", KEY_SECRET.into()),
        ("REGION", "local".into()),
    ]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn ok(out: &Output) -> String {
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "failed:\n{stdout}\n{}", text(&out.stderr));
    stdout
}

fn write_project(dir: &Path, service: &str) {
    let template = format!(
        r#"ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Resources:
  {service}:
    Type: 'Aliyun::Serverless::Service'
    Properties:
      Description: deployed by ferric
    steady:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: nodejs20
        CodeUri: ./steady
        MemorySize: 256
    greet:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: nodejs20
        CodeUri: ./greet
        Timeout: 10
        EnvironmentVariables:
          GREETING: hello
      Events:
        web:
          Type: HTTP
          Properties:
            AuthType: ANONYMOUS
            Methods: [GET, POST]
        nightly:
          Type: Timer
          Properties:
            CronExpression: '0 0 3 * * *'
            Enable: false
"#
    );
    std::fs::write(dir.join("template.yml"), template).expect("template");
    for f in ["steady", "greet"] {
        std::fs::create_dir_all(dir.join(f)).expect("mkdir");
    }
    std::fs::write(dir.join("steady/index.js"), "exports.handler = (e, c, cb) => cb(null, 'steady');\n").expect("code");
    write_greet(dir, "v1");
}

fn write_greet(dir: &Path, version: &str) {
    let code = format!(
        "exports.handler = (event, context, callback) => {{\n  console.log('greeting from {version}');\n  \
         callback(null, process.env.GREETING + ' ' + event.toString() + ' {version}');\n}};\n"
    );
    std::fs::write(dir.join("greet/index.js"), code).expect("code");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_then_redeploy_uploads_only_the_changed_function_then_invoke_and_logs() {
    let server = TestServer::start().await;
    let client = server.client();
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    let service = unique("cli-deploy").replace('-', "_");
    write_project(dir, &service);
    let env = fun_env(&server);

    // First deploy: everything is created.
    let out = ferric(dir, &env, &["deploy", "-y"]).await;
    let stdout = ok(&out);
    for line in [
        format!("+ service  {service}"),
        format!("+ function {service}/steady"),
        format!("+ function {service}/greet"),
        format!("+ trigger  {service}/greet/web"),
        format!("+ trigger  {service}/greet/nightly"),
    ] {
        assert!(stdout.contains(&line), "missing {line:?}:\n{stdout}");
    }
    assert!(stdout.contains("5 to create, 0 to update, 0 unchanged, 0 to delete"), "{stdout}");
    let steady = client.get_function(&service, "steady").await.expect("steady");
    let greet = client.get_function(&service, "greet").await.expect("greet");
    assert_eq!(steady["memorySize"], 256);
    assert_eq!(greet["environmentVariables"]["GREETING"], "hello");
    let triggers = client.list_triggers(&service, "greet", &[]).await.expect("triggers");
    assert_eq!(triggers["triggers"].as_array().map(Vec::len), Some(2), "{triggers}");

    // Invoke: the result on stdout, the function's log on stderr.
    let out = ferric(dir, &env, &["invoke", &format!("{service}/greet"), "-e", "world"]).await;
    let stdout = ok(&out);
    let stderr = text(&out.stderr);
    assert_eq!(stdout, "hello world v1");
    assert!(stderr.contains("FC Invoke Start RequestId") && stderr.contains("greeting from v1"), "{stderr}");

    // Change one function's code; a second later, so a rewrite would show in lastModifiedTime.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    write_greet(dir, "v2");
    let out = ferric(dir, &env, &["deploy", "-y"]).await;
    let stdout = ok(&out);
    let stderr = text(&out.stderr);
    assert!(stdout.contains(&format!("= function {service}/steady")), "{stdout}");
    assert!(stdout.contains(&format!("~ function {service}/greet")) && stdout.contains("update (code)"), "{stdout}");
    assert!(stdout.contains("0 to create, 1 to update, 4 unchanged, 0 to delete"), "{stdout}");
    assert!(stderr.contains(&format!("uploading function {service}/greet")), "{stderr}");
    assert!(!stderr.contains("steady"), "the unchanged function is not uploaded: {stderr}");
    let steady_after = client.get_function(&service, "steady").await.expect("steady");
    let greet_after = client.get_function(&service, "greet").await.expect("greet");
    assert_eq!(steady_after["codeChecksum"], steady["codeChecksum"]);
    assert_eq!(steady_after["lastModifiedTime"], steady["lastModifiedTime"], "steady was not rewritten");
    assert_ne!(greet_after["codeChecksum"], greet["codeChecksum"]);

    let out = ferric(dir, &env, &["invoke", &format!("{service}/greet"), "-e", "again"]).await;
    assert_eq!(ok(&out), "hello again v2");

    // Nothing changed: nothing to do.
    let out = ferric(dir, &env, &["deploy", "-y"]).await;
    assert!(ok(&out).contains("Nothing to do."));

    // Logs: both invocations of greet, oldest first (logs are written in the background: poll).
    let mut logs = String::new();
    for _ in 0..50 {
        logs = ok(&ferric(dir, &env, &["logs", &format!("{service}/greet"), "--since", "10m"]).await);
        if logs.contains("greeting from v2") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (v1, v2) = (logs.find("greeting from v1"), logs.find("greeting from v2"));
    assert!(v1.is_some() && v2.is_some() && v1 < v2, "{logs}");
    assert!(logs.contains(&format!("{service}/greet")), "{logs}");

    // ls and info, text and JSON.
    let listed: Value =
        serde_json::from_str(&ok(&ferric(dir, &env, &["ls", &service, "-o", "json"]).await)).expect("ls json");
    let mut names: Vec<&str> =
        listed.as_array().expect("array").iter().filter_map(|f| f["functionName"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["greet", "steady"]);
    let info = ok(&ferric(dir, &env, &["info", &format!("/services/{service}/functions/greet")]).await);
    assert!(info.contains("runtime: nodejs20") && info.contains("timeout: 10"), "{info}");
    let triggers = ok(&ferric(dir, &env, &["ls", &format!("{service}/greet")]).await);
    assert!(triggers.contains("web\thttp") && triggers.contains("nightly\ttimer"), "{triggers}");

    // Prune: drop `steady` and the timer from the template; without a terminal, deletions need -y.
    let template = std::fs::read_to_string(dir.join("template.yml")).expect("read");
    let start = template.find("    steady:").expect("steady");
    let end = template.find("    greet:").expect("greet");
    let mut pruned = format!("{}{}", &template[..start], &template[end..]);
    pruned.truncate(pruned.find("        nightly:").expect("nightly"));
    std::fs::write(dir.join("template.yml"), pruned).expect("write");
    let out = ferric(dir, &env, &["deploy", "--prune"]).await;
    assert!(!out.status.success() && text(&out.stderr).contains("run again with -y"), "{}", text(&out.stderr));
    let stdout = ok(&ferric(dir, &env, &["deploy", "--prune", "-y"]).await);
    assert!(stdout.contains(&format!("- trigger  {service}/greet/nightly")), "{stdout}");
    assert!(stdout.contains(&format!("- function {service}/steady")), "{stdout}");
    assert!(matches!(
        client.get_function(&service, "steady").await,
        Err(ferric_client::ClientError::Api { status: 404, .. })
    ));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_server_dir_alone_configures_the_cli_and_config_saves_the_fcli_file() {
    let server = TestServer::start().await;
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    let service = unique("cli-config").replace('-', "_");
    server.client().create_service(&serde_json::json!({ "serviceName": service })).await.expect("service");

    // What `ferric serve` leaves in ./.ferric: the env file and the generated key.
    let data = dir.join(".ferric");
    std::fs::create_dir_all(&data).expect("mkdir");
    std::fs::write(data.join("env"), format!("export FC_ENDPOINT={} FC_ACCOUNT_ID=x\n", server.endpoint)).expect("env");
    std::fs::write(
        data.join("credentials.json"),
        format!(r#"{{"accountId":"{ACCOUNT}","accessKeyId":"{KEY_ID}","accessKeySecret":"{KEY_SECRET}"}}"#),
    )
    .expect("credentials");
    let listed = ok(&ferric(dir, &[], &["ls"]).await);
    assert!(listed.contains(&service), "{listed}");
    let shown = ok(&ferric(dir, &[], &["config", "--show"]).await);
    assert!(shown.contains("local server data in ./.ferric"), "{shown}");
    assert!(!shown.contains(KEY_SECRET) && shown.contains("***********"), "the secret is masked: {shown}");

    // `config --local` saves it to ~/.fcli/config.yaml, which then serves without ./.ferric.
    ok(&ferric(dir, &[], &["config", "--local"]).await);
    std::fs::remove_dir_all(&data).expect("rm");
    let yaml = std::fs::read_to_string(dir.join(".fcli/config.yaml")).expect("config.yaml");
    assert!(yaml.contains("access_key_id: TESTKEYID") && yaml.contains("api_version: 2016-08-15"), "{yaml}");
    assert!(ok(&ferric(dir, &[], &["ls"]).await).contains(&service));

    // .env beats the environment, which beats the file: a wrong secret in .env breaks the call.
    std::fs::write(dir.join(".env"), "ACCESS_KEY_SECRET=wrong-secret-123\n").expect(".env");
    let env = [("ACCESS_KEY_SECRET", KEY_SECRET.to_string())];
    let out = ferric(dir, &env, &["ls"]).await;
    assert!(!out.status.success(), "the .env secret wins over the environment");
    let shown = ok(&ferric(dir, &env, &["config", "--show"]).await);
    assert!(shown.contains("ACCESS_KEY_SECRET in .env"), "{shown}");
    std::fs::remove_file(dir.join(".env")).expect("rm .env");
    let env = [("FC_ACCESS_KEY_SECRET", "wrong-secret-456".to_string())];
    assert!(!ferric(dir, &env, &["ls"]).await.status.success(), "the environment wins over the file");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_tail_prints_new_invocations_as_they_happen() {
    use std::io::{BufRead, BufReader};

    let server = TestServer::start().await;
    let client = server.client();
    let service = unique("cli-tail").replace('-', "_");
    client.create_service(&serde_json::json!({ "serviceName": service })).await.expect("service");
    let code = "exports.handler = (e, c, cb) => { console.log('tailed ' + e.toString()); cb(null, 'ok'); };";
    let zip = ferric_testkit::zip_of(&[("index.js", code)]);
    client.create_function(&service, "f", "nodejs20", "index.handler", &zip).await.expect("function");

    let project = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(BIN)
        .args(["logs", &format!("{service}/f"), "--tail"])
        .current_dir(project.path())
        .env_clear()
        .env("HOME", project.path())
        .envs(fun_env(&server))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn logs --tail");
    let stdout = child.stdout.take().expect("stdout");
    let reader = tokio::task::spawn_blocking(move || {
        let mut seen = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("tailed second") {
                break;
            }
        }
        seen
    });
    // The follower subscribes when it starts; invoke until its output shows both, or give up.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for event in ["first", "second"] {
        let result = client
            .invoke_function(&service, "f", event.as_bytes().to_vec(), ferric_client::InvocationType::Sync)
            .await
            .expect("invoke");
        assert_eq!(result.body, b"ok");
    }
    let seen = tokio::time::timeout(std::time::Duration::from_secs(20), reader).await.expect("in time").expect("join");
    let _ = child.kill();
    let _ = child.wait();
    let (first, second) = (seen.find("tailed first"), seen.find("tailed second"));
    assert!(first.is_some() && first < second, "{seen}");
    assert!(seen.contains(&format!("{service}/f")), "{seen}");
    server.stop().await;
}

/// A GET to the server whose Host is `host`, as a client resolving a custom domain to it would send.
async fn get_on_host(server: &TestServer, host: &str, path: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.endpoint))
        .header("host", host)
        .send()
        .await
        .expect("request");
    (response.status().as_u16(), response.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_creates_custom_domains_maps_api_paths_skips_cloud_resources_and_reads_parameters() {
    let server = TestServer::start().await;
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    let service = unique("cli-domains").replace('-', "_");
    let domain = format!("{}.ferric.test", service.replace('_', "-"));
    let api = unique("site").replace('-', "_");
    let template = format!(
        r#"ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Parameters:
  Greeting: {{Type: String, Default: bonjour}}
  Memory: {{Type: Number, Default: 256}}
Resources:
  {service}:
    Type: 'Aliyun::Serverless::Service'
    page:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.http
        Runtime: nodejs20
        CodeUri: ./code
        MemorySize: !Ref Memory
        EnvironmentVariables:
          GREETING: '${{Greeting}} from page'
      Events:
        web:
          Type: HTTP
          Properties: {{AuthType: ANONYMOUS, Methods: [GET]}}
    backend:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.http
        Runtime: nodejs20
        CodeUri: ./code
        EnvironmentVariables:
          GREETING: api
  {domain}:
    Type: 'Aliyun::Serverless::CustomDomain'
    Properties:
      Protocol: HTTP
      RouteConfig:
        routes:
          '/pages/*':
            ServiceName: {service}
            FunctionName: page
  {api}:
    Type: 'Aliyun::Serverless::Api'
    Properties:
      StageName: RELEASE
      DefinitionBody:
        '/hello':
          get:
            x-aliyun-apigateway-fc:
              arn: acs:fc:::services/${{{service}.Arn}}/functions/${{backend.Arn}}/
  store:
    Type: 'Aliyun::Serverless::Log'
"#
    );
    std::fs::write(dir.join("template.yml"), &template).expect("template");
    std::fs::create_dir_all(dir.join("code")).expect("mkdir");
    std::fs::write(
        dir.join("code/index.js"),
        "exports.http = (req, resp) => resp.send(process.env.GREETING + ' at ' + req.path);\n",
    )
    .expect("code");
    let env = fun_env(&server);

    let out = ferric(dir, &env, &["deploy", "-y"]).await;
    let stdout = ok(&out);
    let stderr = text(&out.stderr);
    let api_domain = format!("{}.api.internal", api.to_ascii_lowercase().replace('_', "-"));
    for line in [
        format!("+ domain   {domain}"),
        format!("+ domain   {api_domain}"),
        format!("+ trigger  {service}/backend/api-gateway"),
    ] {
        assert!(stdout.contains(&line), "missing {line:?}:\n{stdout}");
    }
    assert!(
        stderr.contains("Resources.store: skipped: Aliyun::Serverless::Log: Ferric has no Log Service"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().filter(|l| l.contains("Resources.store")).count(), 1, "one line per skip: {stderr}");
    let page = server.client().get_function(&service, "page").await.expect("page");
    assert_eq!(page["memorySize"], 256, "!Ref Memory");
    assert_eq!(get_on_host(&server, &domain, "/pages/a").await, (200, "bonjour from page at /pages/a".into()));
    assert_eq!(get_on_host(&server, &api_domain, "/hello").await, (200, "api at /hello".into()));

    // Unchanged domains are left alone; a changed route is an update.
    let out = ferric(dir, &env, &["deploy", "-y"]).await;
    assert!(ok(&out).contains("Nothing to do."), "{}", text(&out.stdout));
    std::fs::write(dir.join("template.yml"), template.replace("'/pages/*'", "'/p/*'")).expect("template");
    let out = ferric(dir, &env, &["deploy", "-y"]).await;
    let stdout = ok(&out);
    assert!(stdout.contains(&format!("~ domain   {domain}")) && stdout.contains("update (routes)"), "{stdout}");
    assert_eq!(get_on_host(&server, &domain, "/p/b").await, (200, "bonjour from page at /p/b".into()));

    // --prune: a domain the template dropped goes (shown in the plan, deleted before functions); one that
    // also routes to another project's service stays, and without --prune nothing is deleted.
    let client = server.client();
    let other = unique("cli-other").replace('-', "_");
    client.create_service(&serde_json::json!({ "serviceName": other })).await.expect("other service");
    let shared = format!("{}.ferric.test", other.replace('_', "-"));
    let shared_routes = serde_json::json!({ "domainName": shared, "protocol": "HTTP", "routeConfig": { "routes": [
        { "path": "/a/*", "serviceName": service, "functionName": "page" },
        { "path": "/b/*", "serviceName": other, "functionName": "x" },
    ] } });
    client.call(reqwest::Method::POST, "/custom-domains", &[], Some(&shared_routes)).await.expect("shared domain");
    let without = template.replace("'/pages/*'", "'/p/*'");
    let start = without.find(&format!("  {domain}:")).expect("domain resource");
    let end = without.find(&format!("  {api}:")).expect("api resource");
    let without = format!("{}{}", &without[..start], &without[end..]);
    std::fs::write(dir.join("template.yml"), &without).expect("template");
    let out = ferric(dir, &env, &["deploy", "-y"]).await;
    assert!(ok(&out).contains("Nothing to do."), "{}", text(&out.stdout));
    let out = ferric(dir, &env, &["deploy", "--prune", "-y"]).await;
    let stdout = ok(&out);
    assert!(stdout.contains(&format!("- domain   {domain}")), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.trim_start().starts_with("- domain")).count(),
        1,
        "only the dropped domain: {stdout}"
    );
    assert!(stdout.contains("1 to delete"), "{stdout}");
    let gone = client.call(reqwest::Method::GET, &format!("/custom-domains/{domain}"), &[], None).await;
    assert!(matches!(gone, Err(ferric_client::ClientError::Api { status: 404, .. })), "{gone:?}");
    client.call(reqwest::Method::GET, &format!("/custom-domains/{shared}"), &[], None).await.expect("shared stays");
    assert_eq!(get_on_host(&server, &api_domain, "/hello").await, (200, "api at /hello".into()));
}
