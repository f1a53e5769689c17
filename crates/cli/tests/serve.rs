//! `ferric serve` as a user runs it: a real process, its output, its files, its signals and its failures.

use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use ferric_testkit::instance_alive;

mod common;

use common::BIN;

/// Starts `ferric serve` on a free port and returns the process and the lines printed before it is ready.
fn start(data_dir: &std::path::Path, extra: &[&str]) -> (Child, Vec<String>) {
    common::serve_until(data_dir, extra, |line| line.starts_with("export "))
}

fn endpoint(lines: &[String]) -> String {
    let export = lines.iter().find(|l| l.starts_with("export ")).expect("export line");
    common::endpoint_in(export).expect("endpoint")
}

fn healthz(endpoint: &str) -> u16 {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    use std::io::{Read, Write};
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn first_start_creates_private_credentials_and_prints_an_export_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let (child, lines) = start(dir.path(), &[]);
    let ep = endpoint(&lines);
    assert_eq!(healthz(&ep), 200);
    eprintln!("ready after {:?}", started.elapsed());
    let export = lines.iter().find(|l| l.starts_with("export ")).expect("export");
    for var in ["FC_ENDPOINT=", "FC_ACCOUNT_ID=", "FC_ACCESS_KEY_ID=", "FC_ACCESS_KEY_SECRET="] {
        assert!(export.contains(var), "{export}");
    }
    let creds = dir.path().join("credentials.json");
    let mode = std::fs::metadata(&creds).expect("credentials").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&creds).expect("read")).expect("json");
    assert!(export.contains(saved["accessKeySecret"].as_str().expect("secret")));
    // The names the real `fun` reads, on one line with the endpoint, in the env file (and the banner).
    let env_file = std::fs::read_to_string(dir.path().join("env")).expect("env file");
    let fun = env_file.lines().find(|l| l.starts_with("export FC_ENDPOINT=") && l.contains(" ACCOUNT_ID="));
    let fun = fun.expect("a fun line");
    for var in ["ACCESS_KEY_ID=", "ACCESS_KEY_SECRET=", "REGION=local", "TIMEOUT=60", "RETRIES=3"] {
        assert!(fun.contains(var), "{fun}");
    }
    assert!(terminate(child).success(), "SIGTERM is a clean exit");

    // A restart on the same data dir reuses the same key.
    let (child, again) = start(dir.path(), &[]);
    assert_eq!(
        again.iter().find(|l| l.starts_with("export ")).map(|l| l.split_whitespace().nth(3).map(str::to_string)),
        Some(export.split_whitespace().nth(3).map(str::to_string))
    );
    assert!(terminate(child).success());
}

#[test]
fn explicit_keys_are_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (child, lines) = start(
        dir.path(),
        &["--account-id", "123456", "--access-key-id", "MYKEY", "--access-key-secret", "my-long-secret"],
    );
    let export = lines.iter().find(|l| l.starts_with("export ")).expect("export");
    assert!(export.contains("FC_ACCOUNT_ID=123456 FC_ACCESS_KEY_ID=MYKEY FC_ACCESS_KEY_SECRET=my-long-secret"));
    assert!(!dir.path().join("credentials.json").exists());
    assert!(terminate(child).success());
}

/// Runs `ferric` with arguments that must fail: one line on stderr, a non-zero exit, no panic.
fn fails(args: &[&str]) -> String {
    let output = Command::new(BIN).args(args).output().expect("run");
    assert!(!output.status.success(), "{args:?} succeeded");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?} printed:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn bad_input_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8");
    assert!(fails(&["serve", "--bogus"]).contains("--bogus"));
    assert!(fails(&["serve", "--listen", "not-an-address"]).contains("not-an-address"));
    assert!(fails(&["serve", "--data-dir", data, "--account-id", "1"]).contains("required"));

    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let under_file = file.join("data");
    let message = fails(&["serve", "--listen", "127.0.0.1:0", "--data-dir", under_file.to_str().expect("utf-8")]);
    assert!(message.contains("cannot create data directory"), "{message}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").to_string();
    let message = fails(&["serve", "--listen", &port, "--data-dir", data]);
    assert!(message.contains("cannot listen on") && message.contains("in use"), "{message}");

    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[[access_keys]]\naccount_id = \"1\"\nid = \"K\"\nsecret = \"short\"\n").expect("write");
    let message =
        fails(&["serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--config", config.to_str().expect("utf-8")]);
    assert!(message.contains("at least 8"), "{message}");
}

#[test]
fn stopping_the_server_stops_its_function_instances() {
    let dir = tempfile::tempdir().expect("tempdir");
    // No stem cells: the instance is found by FC_INSTANCE_ID in /proc/<pid>/environ, and a cell's
    // environ is the generic one it was started with (`specialize` changes the environment in-process).
    let args = ["--account-id", "123456", "--access-key-id", "K1", "--access-key-secret", "secret-123"];
    let (child, lines) = start(dir.path(), &[&args[..], &["--stem-cells", "0"]].concat());
    let endpoint = endpoint(&lines);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let id: String = runtime.block_on(async {
        let client = ferric_client::Client::new(&endpoint, "123456", "K1", "secret-123");
        client.create_service(&serde_json::json!({"serviceName": "s"})).await.expect("service");
        let mut zip = std::io::Cursor::new(Vec::new());
        {
            use std::io::Write;
            let mut w = zip::ZipWriter::new(&mut zip);
            w.start_file("index.js", zip::write::SimpleFileOptions::default()).expect("entry");
            w.write_all(b"exports.handler = (e, c, cb) => cb(null, process.env.FC_INSTANCE_ID);").expect("write");
            w.finish().expect("finish");
        }
        client.create_function("s", "f", "nodejs20", "index.handler", &zip.into_inner()).await.expect("function");
        let r = client
            .send(reqwest::Method::POST, "/services/s/functions/f/invocations", &[], &[], Some(Vec::new()))
            .await
            .expect("invoke");
        String::from_utf8(r.body).expect("instance id")
    });
    assert!(instance_alive(&id), "the instance runs while the server does");
    assert!(terminate(child).success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while instance_alive(&id) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!instance_alive(&id), "instance {id} outlived the server");
}

/// Every accepted async invocation runs at least once, even when the server is killed with SIGKILL
/// while events are queued and running, and restarted on the same data directory.
///
/// The kill waits for a state, not a delay (a fixed sleep let a slow machine drain the queue first): the
/// first events run through, later ones wait at a gate (a file) that opens only after the kill, so at the
/// kill some events have run, some are running and the rest are queued, however slow the machine.
#[test]
fn no_accepted_async_invocation_is_lost_to_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marks = tempfile::tempdir().expect("marks");
    let started = tempfile::tempdir().expect("started");
    let gate = dir.path().join("gate");
    // The function records each run in a host directory, which a sandboxed function cannot reach: this
    // test is about the queue, so its functions run unconfined.
    let keys =
        ["--account-id", "123456", "--access-key-id", "K1", "--access-key-secret", "secret-123", "--sandbox", "off"];
    let (mut child, lines) = start(dir.path(), &keys);
    let endpoint = endpoint(&lines);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let total = 40;
    runtime.block_on(async {
        let client = ferric_client::Client::new(&endpoint, "123456", "K1", "secret-123");
        client.create_service(&serde_json::json!({"serviceName": "s"})).await.expect("service");
        let code = "const fs = require('fs');\nconst env = process.env;\n\
                    exports.handler = (e, c, cb) => {\n\
                    const name = e.toString();\n\
                    fs.writeFileSync(env.STARTED_DIR + '/' + name, c.requestId);\n\
                    const done = () => { fs.writeFileSync(env.MARK_DIR + '/' + name, c.requestId); cb(null, 'ok'); };\n\
                    const free = Number(name.split('-')[1]) < 3;\n\
                    const wait = () => (free || fs.existsSync(env.GATE) ? setTimeout(done, 100) : setTimeout(wait, 20));\n\
                    wait();\n};\n";
        let mut zip = std::io::Cursor::new(Vec::new());
        {
            use std::io::Write;
            let mut w = zip::ZipWriter::new(&mut zip);
            w.start_file("index.js", zip::write::SimpleFileOptions::default()).expect("entry");
            w.write_all(code.as_bytes()).expect("write");
            w.finish().expect("finish");
        }
        use base64::Engine;
        let body = serde_json::json!({
            "functionName": "f", "runtime": "nodejs20", "handler": "index.handler", "instanceConcurrency": 1,
            "timeout": 600,
            "environmentVariables": {
                "MARK_DIR": marks.path().display().to_string(),
                "STARTED_DIR": started.path().display().to_string(),
                "GATE": gate.display().to_string(),
            },
            "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip.into_inner())},
        });
        client.call(reqwest::Method::POST, "/services/s/functions", &[], Some(&body)).await.expect("function");
        for i in 0..total {
            let r = client
                .send(
                    reqwest::Method::POST,
                    "/services/s/functions/f/invocations",
                    &[],
                    &[("x-fc-invocation-type", "Async")],
                    Some(format!("event-{i}").into_bytes()),
                )
                .await
                .expect("invoke");
            assert_eq!(r.status, 202);
        }
    });
    // Some events have run and some are running (the rest are queued behind them).
    let count = |d: &std::path::Path| std::fs::read_dir(d).expect("marks").count();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !(count(marks.path()) >= 1 && count(started.path()) > count(marks.path())) {
        assert!(Instant::now() < deadline, "no event ran within 120 s ({} started)", count(started.path()));
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let done_before = count(marks.path());
    let running_before = count(started.path()) - done_before;
    assert!(done_before < total, "the kill came before the queue drained ({done_before} done)");
    std::fs::write(&gate, b"open").expect("open the gate");

    let (child, _) = start(dir.path(), &keys);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut done = 0;
    while Instant::now() < deadline {
        done = std::fs::read_dir(marks.path()).expect("marks").count();
        if done == total {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(terminate(child).success());
    let missing: Vec<String> =
        (0..total).map(|i| format!("event-{i}")).filter(|m| !marks.path().join(m).exists()).collect();
    assert!(
        missing.is_empty(),
        "lost after SIGKILL: {missing:?} ({done} of {total} ran; {done_before} before the kill, \
         {running_before} running at it)"
    );
}

/// `--sandbox off` is for development, but its instances still die with the server: a busy instance
/// (and a child it started) must not outlive a `kill -9` of the server and run on without its timeout.
#[test]
fn sandbox_off_instances_die_with_a_killed_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys =
        ["--account-id", "123456", "--access-key-id", "K1", "--access-key-secret", "secret-123", "--sandbox", "off"];
    let (mut child, lines) = start(dir.path(), &keys);
    let endpoint = endpoint(&lines);
    // Unique to this test process, so pgrep finds only its own.
    let marker = format!("{}.4321", std::process::id());
    let code = format!(
        "const cp = require('child_process');\n\
         exports.handler = (e, c, cb) => {{ cp.spawn('sleep', ['{marker}'], {{ stdio: 'ignore' }}); \
         setTimeout(() => cb(null, 'late'), 600000); }};\n"
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let client = ferric_client::Client::new(&endpoint, "123456", "K1", "secret-123");
        client.create_service(&serde_json::json!({"serviceName": "s"})).await.expect("service");
        let mut zip = std::io::Cursor::new(Vec::new());
        {
            use std::io::Write;
            let mut w = zip::ZipWriter::new(&mut zip);
            w.start_file("index.js", zip::write::SimpleFileOptions::default()).expect("entry");
            w.write_all(code.as_bytes()).expect("write");
            w.finish().expect("finish");
        }
        use base64::Engine;
        let body = serde_json::json!({
            "functionName": "f", "runtime": "nodejs20", "handler": "index.handler", "timeout": 600,
            "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip.into_inner())},
        });
        client.call(reqwest::Method::POST, "/services/s/functions", &[], Some(&body)).await.expect("function");
        let r = client
            .send(
                reqwest::Method::POST,
                "/services/s/functions/f/invocations",
                &[],
                &[("x-fc-invocation-type", "Async")],
                Some(Vec::new()),
            )
            .await
            .expect("invoke");
        assert_eq!(r.status, 202);
    });
    let pgrep = |pattern: &str| {
        let out = Command::new("pgrep").args(["-f", pattern]).output().expect("pgrep");
        String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect::<Vec<_>>()
    };
    // The invocation is running once its child is: a condition, not a guess at a delay.
    let deadline = Instant::now() + Duration::from_secs(60);
    while pgrep(&format!("sleep {marker}")).is_empty() {
        assert!(Instant::now() < deadline, "the function never started its child");
        std::thread::sleep(Duration::from_millis(50));
    }
    let runtime_pids = pgrep(&format!("{}/runtimes/node", dir.path().display()));
    assert!(!runtime_pids.is_empty(), "the Node runtime runs");
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = Vec::new();
    while Instant::now() < deadline {
        left = pgrep(&format!("sleep {marker}"));
        left.extend(runtime_pids.iter().filter(|p| std::path::Path::new(&format!("/proc/{p}")).exists()).cloned());
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if !left.is_empty() {
        let _ = Command::new("kill").arg("-KILL").args(&left).status();
    }
    assert!(left.is_empty(), "processes outlived the killed server: {left:?}");
}

/// The quickstart: `ferric serve &`, then `eval "$(ferric env)"` sets what the SDKs and `fun` read.
#[test]
fn env_prints_the_exports_of_a_running_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8");
    // Waiting for no server is one clear line, not a hang.
    assert!(fails(&["env", "--data-dir", data, "--wait", "0"]).contains("no server is running"));

    let secret = "it's-$ecret `x`";
    let (child, lines) =
        start(dir.path(), &["--account-id", "123456", "--access-key-id", "K1", "--access-key-secret", secret]);
    let ep = endpoint(&lines);
    let file = dir.path().join("env");
    assert_eq!(std::fs::metadata(&file).expect("env file").permissions().mode() & 0o777, 0o600);
    let script = format!(
        "eval \"$('{BIN}' env --data-dir '{data}')\" && printf '%s|' \"$FC_ENDPOINT\" \"$FC_ACCOUNT_ID\" \
         \"$FC_ACCESS_KEY_ID\" \"$FC_ACCESS_KEY_SECRET\" \"$ACCOUNT_ID\" \"$ACCESS_KEY_ID\" \"$ACCESS_KEY_SECRET\" \
         \"$REGION\""
    );
    let output = Command::new("sh").args(["-c", &script]).env_clear().output().expect("sh");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let expected = format!("{ep}|123456|K1|{secret}|123456|K1|{secret}|local|");
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
    // `. <data-dir>/env` works the same.
    let sourced = Command::new("sh")
        .args(["-c", &format!(". '{}' && printf %s \"$FC_ACCESS_KEY_SECRET\"", file.display())])
        .output()
        .expect("sh");
    assert_eq!(String::from_utf8_lossy(&sourced.stdout), secret);
    assert!(terminate(child).success());
    assert!(!file.exists(), "a stopped server leaves no env file pointing at it");
}
