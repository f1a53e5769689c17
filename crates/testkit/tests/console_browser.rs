//! The console in headless Chromium through chromedriver (WebDriver): sign in, create a service and a
//! function, edit its code and save it as a new package, invoke it and see the result and its log, see
//! the log list and the charts, be refused without a session and without the CSRF token, sign out.
//! Screenshots of the main pages at 1280×800 and 390×844 go to `target/console-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/setup-sdks` installs them). Without them the
//! test says so and passes, except in CI (`CI=true`), where it fails. The whole run is bounded.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use ferric_testkit::{repo_root, TestServer, KEY_ID, KEY_SECRET};
use serde_json::{json, Value};

/// The whole browser session, start to end (CI runs it on 2 busy cores).
const SUITE_BUDGET: Duration = Duration::from_secs(240);
/// One wait for something to appear on the page.
const WAIT: Duration = Duration::from_secs(30);

/// chromedriver, killed when the test ends.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| PathBuf::from(d).join(program)).find(|p| p.is_file())
}

/// chromedriver and chromium, or `None` (outside CI) when they are not installed.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let found = which("chromedriver").zip(which("chromium"));
    if found.is_none() {
        let reason =
            "chromium and chromedriver are not installed (run scripts/setup-sdks: Debian's chromium, chromium-driver)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("the console browser test cannot run in CI: {reason}");
        }
        eprintln!("SKIPPED console browser test: {reason}");
    }
    found
}

async fn start_driver(chromedriver: &PathBuf) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
}

/// A browser session; `phone` emulates a 390×844 phone screen (a desktop window cannot be that narrow).
async fn browser(driver: &Driver, chromium: &PathBuf, phone: bool) -> Client {
    let mut options = json!({
        "binary": chromium,
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,800", "--no-first-run", "--disable-extensions"],
    });
    if phone {
        options["mobileEmulation"] = json!({ "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 1.0, "touch": true, "mobile": true } });
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("WebDriver session")
}

/// Waits until the element matching `css` shows text containing `want`; returns that text.
async fn wait_text(c: &Client, css: &str, want: &str) -> String {
    let deadline = Instant::now() + WAIT;
    let mut last = String::new();
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            last = e.text().await.unwrap_or_default();
            if last.contains(want) {
                return last;
            }
        }
        if Instant::now() > deadline {
            panic!("'{css}' never showed '{want}'; last text: {last:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait().at_most(WAIT).for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no '{css}': {e}"))
}

async fn fill(c: &Client, css: &str, text: &str) {
    let e = wait_for(c, css).await;
    e.clear().await.expect("clear");
    e.send_keys(text).await.expect("type");
}

async fn click(c: &Client, css: &str) {
    wait_for(c, css).await.click().await.unwrap_or_else(|e| panic!("click '{css}': {e}"));
}

/// Saves a screenshot of the window as it is.
async fn shot(c: &Client, dir: &std::path::Path, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
}

async fn go(c: &Client, base: &str, hash: &str) {
    c.goto(&format!("{base}/console{hash}")).await.expect("goto");
}

/// A same-origin fetch from the page, as a script on it could make; returns the status.
async fn page_fetch(c: &Client, method: &str, path: &str, with_token: Option<&str>) -> u64 {
    let script = r#"
        const [method, path, token, done] = arguments;
        const headers = { 'Content-Type': 'application/json' };
        if (token) headers['X-Ferric-Csrf'] = token;
        fetch(path, { method, headers, body: method === 'GET' ? undefined : '{"serviceName":"csrf_probe"}' })
            .then((r) => done(r.status), (e) => done(String(e)));
    "#;
    let token = with_token.map(Value::from).unwrap_or(Value::Null);
    let v = c.execute_async(script, vec![json!(method), json!(path), token]).await.expect("fetch");
    v.as_u64().unwrap_or_else(|| panic!("fetch failed: {v}"))
}

/// Sizes the window so that the page's viewport (what a screenshot shows) is `width`×`height`.
async fn viewport(c: &Client, width: u32, height: u32) {
    c.set_window_size(width, height).await.expect("window size");
    let frame = c
        .execute("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]", vec![])
        .await
        .expect("frame");
    let extra = |i: usize| frame[i].as_u64().and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
    c.set_window_size(width + extra(0), height + extra(1)).await.expect("window size");
}

/// The sum the invocations chart draws (its `invocations` and `errors` lines), once it is drawn.
async fn invocations_charted(c: &Client) -> f64 {
    wait_for(c, "#charts svg.chart").await;
    let total = c
        .execute("return document.querySelector('#charts svg.chart').dataset.total", vec![])
        .await
        .expect("chart total");
    total.as_str().and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("no chart total: {total}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_chromium() {
    let Some((chromedriver, chromium)) = tools() else { return };
    let server = TestServer::start().await;
    let driver = start_driver(&chromedriver).await;
    let c = browser(&driver, &chromium, false).await;
    let outcome = tokio::time::timeout(SUITE_BUDGET, walk(&c, &server)).await;
    let _ = c.close().await;
    let service = outcome.unwrap_or_else(|_| panic!("the console browser walk took longer than {SUITE_BUDGET:?}"));
    let phone = browser(&driver, &chromium, true).await;
    let outcome = tokio::time::timeout(SUITE_BUDGET, phone_walk(&phone, &server, &service)).await;
    let _ = phone.close().await;
    outcome.unwrap_or_else(|_| panic!("the phone-width walk took longer than {SUITE_BUDGET:?}"));
}

async fn sign_in(c: &Client, base: &str) {
    go(c, base, "").await;
    fill(c, "input[name=accessKeyId]", KEY_ID).await;
    fill(c, "input[name=accessKeySecret]", KEY_SECRET).await;
    click(c, "#sign-in button").await;
    wait_for(c, "#create-service").await;
}

/// The desktop walk; returns the service it made.
async fn walk(c: &Client, server: &TestServer) -> String {
    let dir = repo_root().join("target/console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let base = server.endpoint.as_str();
    viewport(c, 1280, 800).await;

    // Without a session the API refuses, and the page shows the sign-in form.
    c.goto(&format!("{base}/console/api/fc/2016-08-15/services")).await.expect("goto");
    wait_text(c, "body", "AccessDenied").await;
    go(c, base, "").await;
    wait_for(c, "#sign-in").await;
    shot(c, &dir, "01-sign-in-1280x800").await;
    fill(c, "input[name=accessKeyId]", KEY_ID).await;
    fill(c, "input[name=accessKeySecret]", "not-the-secret").await;
    click(c, "#sign-in button").await;
    wait_text(c, "#sign-in .error", "AccessDenied").await;
    fill(c, "input[name=accessKeySecret]", KEY_SECRET).await;
    click(c, "#sign-in button").await;
    wait_for(c, "#create-service").await;

    // The page's script cannot read the cookie (HttpOnly); a write without the CSRF token is refused.
    let cookies = c.execute("return document.cookie", vec![]).await.expect("cookie");
    assert_eq!(cookies, json!(""), "the session cookie is HttpOnly");
    assert_eq!(page_fetch(c, "POST", "/console/api/fc/2016-08-15/services", None).await, 403);
    assert!(server.client().get_service("csrf_probe").await.is_err());

    // A service, then a function from the hello-world template.
    let service = ferric_testkit::unique("console_ui");
    fill(c, "#create-service input[name=serviceName]", &service).await;
    fill(c, "#create-service input[name=description]", "made in the browser").await;
    click(c, "#create-service button").await;
    wait_for(c, "#create-function").await;
    fill(c, "#create-function input[name=functionName]", "hello").await;
    let runtime = wait_for(c, "#create-function select[name=runtime]").await;
    runtime.select_by_value("python3.10").await.expect("runtime");
    click(c, "#create-function button[type=submit]").await;
    wait_for(c, "#function-config").await;
    shot(c, &dir, "03-function-config-1280x800").await;
    let made = server.client().get_function(&service, "hello").await.expect("function exists");
    assert_eq!(made["runtime"], "python3.10");

    go(c, base, &format!("#/s/{service}")).await;
    wait_text(c, "#functions", "hello").await;
    shot(c, &dir, "02-service-1280x800").await;

    // Edit the code in the page and save it as a new package.
    let before = made["codeChecksum"].clone();
    go(c, base, &format!("#/s/{service}/f/hello/code")).await;
    wait_for(c, "#editor .cm-content").await;
    let source =
        c.execute("return document.getElementById('editor').ferricEditor.getValue()", vec![]).await.expect("value");
    let source = source.as_str().unwrap_or_default().to_string();
    assert!(source.contains("def handler"), "the editor shows the package's file: {source}");
    let edited = "def handler(event, context):\n    print('console-marker ' + event.decode())\n    return 'edited:' + event.decode()\n";
    c.execute("document.getElementById('editor').ferricEditor.setValue(arguments[0])", vec![json!(edited)])
        .await
        .expect("set code");
    shot(c, &dir, "04-code-1280x800").await;
    click(c, "#save-code").await;
    wait_text(c, "#code-status", "new code package").await;
    let after = server.client().get_function(&service, "hello").await.expect("function");
    assert_ne!(after["codeChecksum"], before, "saving made a new code package");

    // Invoke with a payload: result, error type, duration, memory and the log.
    go(c, base, &format!("#/s/{service}/f/hello/test")).await;
    wait_for(c, "#payload").await;
    c.execute("document.getElementById('payload').value = arguments[0]", vec![json!("ping")]).await.expect("payload");
    click(c, "#invoke").await;
    wait_text(c, "#invoke-body", "edited:ping").await;
    wait_text(c, "#invoke-log", "console-marker ping").await;
    assert_eq!(wait_text(c, "#invoke-status", "200").await, "200");
    assert_eq!(wait_text(c, "#invoke-error-type", "").await, "—");
    wait_text(c, "#invoke-duration", "ms").await;
    wait_text(c, "#invoke-memory", "MB").await;
    shot(c, &dir, "05-test-invoke-1280x800").await;
    let request_id = wait_text(c, "#invoke-request-id", "").await;
    assert!(!request_id.is_empty());

    // The log list, filtered by the request id, then followed live.
    go(c, base, &format!("#/s/{service}/f/hello/logs")).await;
    wait_text(c, "#log-list", "console-marker ping").await;
    fill(c, "#log-request-id", &request_id).await;
    click(c, "#panel-logs form button[type=submit]").await;
    wait_text(c, "#log-list", &request_id).await;
    fill(c, "#log-request-id", "").await;
    click(c, "#follow").await;
    wait_text(c, "#follow-state", "following").await;
    server
        .client()
        .invoke_function(&service, "hello", b"followed".to_vec(), ferric_client::InvocationType::Sync)
        .await
        .expect("invoke from outside the page");
    wait_text(c, "#log-list", "console-marker followed").await;
    shot(c, &dir, "06-logs-1280x800").await;

    // Triggers: create a timer trigger from the form; it lists and the signed API sees it.
    go(c, base, &format!("#/s/{service}/f/hello/triggers")).await;
    fill(c, "#panel-triggers form.trigger:last-of-type input[name=triggerName]", "every5m").await;
    click(c, "#panel-triggers form.trigger:last-of-type button[type=submit]").await;
    wait_text(c, "#panel-triggers", "every5m (timer)").await;
    shot(c, &dir, "08-triggers-1280x800").await;
    let trigger = server.client().get_trigger(&service, "hello", "every5m").await.expect("trigger exists");
    assert_eq!(trigger["triggerType"], "timer");

    // Async invocations: a stateful one is listed with its status.
    go(c, base, &format!("#/s/{service}/f/hello/async")).await;
    click(c, "#panel-async form button[type=submit]").await;
    wait_text(c, "#panel-async table", "Succeeded").await;
    shot(c, &dir, "09-async-1280x800").await;

    // Versions: publish one from the service page.
    go(c, base, &format!("#/s/{service}")).await;
    click(c, "#versions form.inline button[type=submit]").await;
    wait_text(c, "#versions table", "1").await;

    // Charts of the last hour.
    go(c, base, &format!("#/s/{service}/f/hello/metrics")).await;
    wait_for(c, "#charts svg.chart").await;
    let charts = c.find_all(Locator::Css("#charts svg.chart")).await.expect("charts");
    assert_eq!(charts.len(), 4);
    let before = invocations_charted(c).await;
    assert!(before >= 2.0, "the invocations so far are charted: {before}");
    shot(c, &dir, "07-metrics-1280x800").await;
    // One more invocation moves the chart.
    server
        .client()
        .invoke_function(&service, "hello", b"charted".to_vec(), ferric_client::InvocationType::Sync)
        .await
        .expect("invoke");
    go(c, base, &format!("#/s/{service}/f/hello/config")).await;
    wait_for(c, "#function-config").await;
    go(c, base, &format!("#/s/{service}/f/hello/metrics")).await;
    let deadline = Instant::now() + WAIT;
    while invocations_charted(c).await != before + 1.0 {
        assert!(Instant::now() < deadline, "the invocations chart did not go from {before} to {}", before + 1.0);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Sign out: the page returns to the form and the API refuses again.
    click(c, "#sign-out").await;
    wait_for(c, "#sign-in").await;
    assert_eq!(page_fetch(c, "GET", "/console/api/fc/2016-08-15/services", None).await, 403);
    service
}

/// The main pages at phone width (390×844), in a session of its own.
async fn phone_walk(c: &Client, server: &TestServer, service: &str) {
    let dir = repo_root().join("target/console-screenshots");
    let base = server.endpoint.as_str();
    sign_in(c, base).await;
    let width = c.execute("return window.innerWidth", vec![]).await.expect("width");
    assert_eq!(width, json!(390), "the phone viewport is 390 px wide");
    shot(c, &dir, "10-sign-in-done-390x844").await;
    go(c, base, "#/").await;
    wait_for(c, "#create-service").await;
    wait_text(c, "main", service).await;
    shot(c, &dir, "11-services-390x844").await;
    go(c, base, &format!("#/s/{service}/f/hello/test")).await;
    click(c, "#invoke").await;
    wait_text(c, "#invoke-body", "edited:").await;
    shot(c, &dir, "12-test-invoke-390x844").await;
    let overflow =
        c.execute("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await.expect("width");
    assert!(overflow.as_i64().unwrap_or(0) <= 0, "the page scrolls sideways at phone width: {overflow}");
    go(c, base, &format!("#/s/{service}/f/hello/metrics")).await;
    wait_for(c, "#charts svg.chart").await;
    shot(c, &dir, "13-metrics-390x844").await;
}
