//! `ferric bench invoke`: noop Node.js, Python, PHP, Java and custom-runtime functions through InvokeFunction
//! (Node and Python also through anonymous HTTP triggers), and a bare Node `http` server as the baseline, measured in one run on one machine:
//! warm p50/p99 at one connection, throughput at N connections, and cold start (first invocation of a
//! freshly created function, and create → first result).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use ferric_client::Client;
use ferric_types::signature::{self, SignedParts};
use reqwest::Method;
use serde_json::json;

use super::load;
use super::percentile;
use super::server::{ServerProcess, ACCOUNT, KEY_ID, KEY_SECRET};

#[derive(Args, Debug)]
pub struct InvokeArgs {
    /// Timed requests per latency measurement (after 10% warm-up).
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Connections for the throughput measurement.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds per throughput measurement.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Cold starts measured per runtime.
    #[arg(long, default_value_t = 7)]
    cold: usize,
}

pub(super) const NODE_EVENT: &str = "exports.handler = (event, context, callback) => callback(null, 'ok');\n";
pub(super) const NODE_HTTP: &str = "exports.handler = (req, resp, context) => resp.send('ok');\n";
pub(super) const PY_EVENT: &str = "def handler(event, context):\n    return 'ok'\n";
const PHP_EVENT: &str = "<?php\nfunction handler($event, $context) { return 'ok'; }\n";
const PY_HTTP: &str = "def handler(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n";

pub(super) fn zip(file: &str, source: &str) -> Result<Vec<u8>> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        zip.start_file(file, zip::write::SimpleFileOptions::default())?;
        zip.write_all(source.as_bytes())?;
        zip.finish()?;
    }
    Ok(cursor.into_inner())
}

pub(super) async fn create(
    client: &Client,
    name: &str,
    runtime: &str,
    file: &str,
    source: &str,
    http: bool,
) -> Result<()> {
    client.create_function("bench", name, runtime, "index.handler", &zip(file, source)?).await?;
    if http {
        let trigger = json!({"triggerName": "web", "triggerType": "http",
                             "triggerConfig": {"authType": "anonymous", "methods": ["GET", "POST"]}});
        client.call(Method::POST, &format!("/services/bench/functions/{name}/triggers"), &[], Some(&trigger)).await?;
    }
    Ok(())
}

/// A signed InvokeFunction request, replayable for the 15 minutes its Date is valid.
pub(super) fn invoke_request(host: &str, function: &str) -> Vec<u8> {
    signed_invoke(host, function, false)
}

/// The same, as an async invocation (`X-Fc-Invocation-Type: Async`, signed like every `x-fc-*` header).
pub(super) fn signed_invoke(host: &str, function: &str, asynchronous: bool) -> Vec<u8> {
    let path = format!("/2016-08-15/services/bench/functions/{function}/invocations");
    let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let mut fc: Vec<(&str, &str)> = vec![("x-fc-account-id", ACCOUNT)];
    if asynchronous {
        fc.push(("x-fc-invocation-type", "Async"));
    }
    let headers = signature::canonical_fc_headers(fc.iter().copied());
    let extra = if asynchronous { "x-fc-invocation-type: Async\r\n" } else { "" };
    let to_sign = signature::string_to_sign(&SignedParts {
        method: "POST",
        content_md5: "",
        content_type: "application/octet-stream",
        date: &date,
        canonical_headers: &headers,
        resource: &path,
    });
    let auth = format!("FC {KEY_ID}:{}", signature::sign(KEY_SECRET, &to_sign));
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nDate: {date}\r\nAuthorization: {auth}\r\nx-fc-account-id: {ACCOUNT}\r\n\
         {extra}Content-Type: application/octet-stream\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

pub(super) fn get_request(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

/// A bare Node `http` server answering `ok`: the floor any FaaS on this machine is measured against.
struct Baseline(Child, String);

impl Baseline {
    fn start(node: &str) -> Result<Baseline> {
        let script = "require('http').createServer((q, s) => s.end('ok'))\
                      .listen(0, '127.0.0.1', function () { console.log(this.address().port); });";
        let mut child =
            Command::new(node).args(["-e", script]).env_clear().stdout(Stdio::piped()).spawn().context("start node")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        let port: u16 = line.trim().parse().context("baseline port")?;
        Ok(Baseline(child, format!("127.0.0.1:{port}")))
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Row {
    name: &'static str,
    p50: Duration,
    p99: Duration,
    rps: f64,
}

async fn measure(name: &'static str, addr: &str, request: &[u8], args: &InvokeArgs) -> Result<Row> {
    let times = load::latencies(addr, request, args.samples / 10, args.samples).await?;
    let rps = load::throughput(addr, request, args.connections, Duration::from_secs(args.seconds)).await?;
    eprintln!("bench: {name} done");
    Ok(Row { name, p50: percentile(&times, 0.5), p99: percentile(&times, 0.99), rps })
}

/// Creates function `name` in service `bench` from `package` and invokes it once with an empty event:
/// (the first invocation alone, create → first result).
pub(super) async fn first_invoke(
    client: &Client,
    name: &str,
    runtime: &str,
    handler: &str,
    package: &[u8],
) -> Result<(Duration, Duration)> {
    let created = Instant::now();
    client.create_function("bench", name, runtime, handler, package).await?;
    let invoked = Instant::now();
    let response = client
        .send(Method::POST, &format!("/services/bench/functions/{name}/invocations"), &[], &[], Some(Vec::new()))
        .await?;
    anyhow::ensure!(
        response.status == 200 && response.header("x-fc-error-type").is_none(),
        "cold invoke of {runtime} failed: {}",
        String::from_utf8_lossy(&response.body)
    );
    Ok((invoked.elapsed(), created.elapsed()))
}

/// Medians of `n` [`first_invoke`]s of fresh functions named `<prefix>-<i>`, `package(i)` giving each its
/// own code, so nothing is shared with a warm instance.
pub(super) async fn cold_starts(
    client: &Client,
    prefix: &str,
    runtime: &str,
    handler: &str,
    n: usize,
    package: impl Fn(usize) -> Result<Vec<u8>>,
) -> Result<(Duration, Duration)> {
    let (mut first, mut total) = (Vec::new(), Vec::new());
    for i in 0..n {
        let (alone, whole) = first_invoke(client, &format!("{prefix}-{i}"), runtime, handler, &package(i)?).await?;
        first.push(alone);
        total.push(whole);
    }
    first.sort();
    total.sort();
    Ok((percentile(&first, 0.5), percentile(&total, 0.5)))
}

/// Median cold start of `runtime` with `source` as `file`: (first invocation alone, create → first result).
pub(super) async fn cold_start(
    client: &Client,
    runtime: &str,
    file: &str,
    source: &str,
    n: usize,
    tag: &str,
) -> Result<(Duration, Duration)> {
    let comment = if file.ends_with(".py") { "#" } else { "//" };
    let prefix = format!("cold{tag}-{}", runtime.replace('.', "-"));
    cold_starts(client, &prefix, runtime, "index.handler", n, |i| zip(file, &format!("{source}\n{comment} {i}\n")))
        .await
}

pub(super) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub async fn run(args: InvokeArgs) -> Result<()> {
    let node = which("node").context("node is needed for the baseline")?;
    let server = ServerProcess::start()?;
    let client = server.client();
    let host = server.endpoint.trim_start_matches("http://").to_string();
    client.create_service(&json!({"serviceName": "bench"})).await?;
    create(&client, "node-event", "nodejs20", "index.js", NODE_EVENT, false).await?;
    create(&client, "py-event", "python3.10", "index.py", PY_EVENT, false).await?;
    create(&client, "php-event", "php7.2", "index.php", PHP_EVENT, false).await?;
    create(&client, "node-http", "nodejs20", "index.js", NODE_HTTP, true).await?;
    create(&client, "py-http", "python3.10", "index.py", PY_HTTP, true).await?;
    let java_class = super::java::compile()?;
    if let Some(class) = &java_class {
        client
            .create_function(
                "bench",
                "java-event",
                super::java::RUNTIME,
                super::java::HANDLER_NAME,
                &super::java::package(class, "warm")?,
            )
            .await?;
    }
    let customs = super::custom::servers()?;
    for (i, custom) in customs.iter().enumerate() {
        custom.create(&client, &format!("custom-event-{i}")).await?;
    }
    let baseline = Baseline::start(&node)?;

    let mut rows =
        vec![measure("bare node http (baseline)", &baseline.1, &get_request(&baseline.1, "/"), &args).await?];
    rows.push(measure("ferric /healthz (no function)", &host, &get_request(&host, "/healthz"), &args).await?);
    rows.push(measure("invoke nodejs20", &host, &invoke_request(&host, "node-event"), &args).await?);
    rows.push(measure("invoke python3.10", &host, &invoke_request(&host, "py-event"), &args).await?);
    rows.push(measure("invoke php7.2", &host, &invoke_request(&host, "php-event"), &args).await?);
    if java_class.is_some() {
        rows.push(measure("invoke java11", &host, &invoke_request(&host, "java-event"), &args).await?);
    }
    for (i, custom) in customs.iter().enumerate() {
        let request = invoke_request(&host, &format!("custom-event-{i}"));
        rows.push(measure(custom.label, &host, &request, &args).await?);
    }
    rows.push(
        measure("http trigger nodejs20", &host, &get_request(&host, "/2016-08-15/proxy/bench/node-http/"), &args)
            .await?,
    );
    rows.push(
        measure("http trigger python3.10", &host, &get_request(&host, "/2016-08-15/proxy/bench/py-http/"), &args)
            .await?,
    );
    let (node_cold, node_total) = cold_start(&client, "nodejs20", "index.js", NODE_EVENT, args.cold, "").await?;
    let (py_cold, py_total) = cold_start(&client, "python3.10", "index.py", PY_EVENT, args.cold, "").await?;
    let (php_cold, php_total) = cold_start(&client, "php7.2", "index.php", PHP_EVENT, args.cold, "").await?;
    let java_cold = match &java_class {
        Some(class) => Some(super::java::cold_start(&client, class, args.cold).await?),
        None => None,
    };
    let mut custom_cold = Vec::new();
    for (i, custom) in customs.iter().enumerate() {
        custom_cold.push((custom.label, custom.cold_start(&client, &format!("cold-custom-{i}"), args.cold).await?));
    }
    let (rss, peak) = server.rss_mb()?;

    let base = &rows[0];
    println!(
        "invoke benchmark: {} samples at 1 connection, {} connections for {} s, {} cold starts (medians)",
        args.samples, args.connections, args.seconds, args.cold
    );
    println!(
        "{:<28} {:>9} {:>9} {:>10} {:>12} {:>12}",
        "path", "p50 µs", "p99 µs", "req/s", "p50 vs base", "rps vs base"
    );
    for row in &rows {
        println!(
            "{:<28} {:>9.0} {:>9.0} {:>10.0} {:>11.2}x {:>11.2}x",
            row.name,
            us(row.p50),
            us(row.p99),
            row.rps,
            row.p50.as_secs_f64() / base.p50.as_secs_f64(),
            row.rps / base.rps
        );
    }
    println!(
        "targets: warm p50 <= 200 µs, >= 8000 req/s at 16 connections, cold start <= 40 ms Node / <= 20 ms Python"
    );
    for row in &rows[2..] {
        let ok = us(row.p50) <= 200.0 && row.rps >= 8000.0;
        println!(
            "  {:<28} p50 {:>6.0} µs, {:>6.0} req/s  {}",
            row.name,
            us(row.p50),
            row.rps,
            if ok { "ok" } else { "MISS" }
        );
    }
    let mark = |d: Duration, target_ms: f64| if d.as_secs_f64() * 1000.0 <= target_ms { "ok" } else { "MISS" };
    println!(
        "cold start nodejs20:   first invoke {:>6.1} ms ({}), create -> first result {:>6.1} ms",
        node_cold.as_secs_f64() * 1000.0,
        mark(node_cold, 40.0),
        node_total.as_secs_f64() * 1000.0
    );
    println!(
        "cold start python3.10: first invoke {:>6.1} ms ({}), create -> first result {:>6.1} ms",
        py_cold.as_secs_f64() * 1000.0,
        mark(py_cold, 20.0),
        py_total.as_secs_f64() * 1000.0
    );
    println!(
        "cold start php7.2:     first invoke {:>6.1} ms, create -> first result {:>6.1} ms",
        php_cold.as_secs_f64() * 1000.0,
        php_total.as_secs_f64() * 1000.0
    );
    match java_cold {
        Some((cold, total)) => println!(
            "cold start java11:     first invoke {:>6.1} ms (a JVM per instance), create -> first result {:>6.1} ms",
            cold.as_secs_f64() * 1000.0,
            total.as_secs_f64() * 1000.0
        ),
        None => println!("cold start java11: skipped (no JDK at /usr/bin/javac)"),
    }
    for (label, (cold, total)) in custom_cold {
        println!(
            "cold start {label}: first invoke {:>6.1} ms, create -> first result {:>6.1} ms",
            cold.as_secs_f64() * 1000.0,
            total.as_secs_f64() * 1000.0
        );
    }
    println!("server RSS {rss:.1} MB (peak {peak:.1} MB), excluding runtime processes");
    Ok(())
}

fn which(program: &str) -> Option<String> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file()).map(|p| p.display().to_string())
    })
}
