//! Runs the suites in `tests/sdk/` that drive a real Ferric server with the unchanged official SDKs:
//! PyPI `aliyun-fc2` (pytest) and npm `@alicloud/fc2` (node --test), and for the 2021-04-06 API (ACS3
//! signatures) PyPI `alibabacloud_fc_open20210406` and npm `@alicloud/fc-open20210406`.
//! `scripts/setup-sdks` installs them; `scripts/test` runs it first. A missing install is a failure, not a skip: a green run must mean the
//! SDKs were exercised.

use std::path::PathBuf;
use std::process::Stdio;

use ferric_testkit::{repo_root, TestServer};

fn require(path: PathBuf) -> PathBuf {
    assert!(path.exists(), "{} is missing: run scripts/setup-sdks (scripts/test does it for you)", path.display());
    path
}

async fn run_suite(program: PathBuf, args: &[&str], dir: PathBuf) {
    let server = TestServer::start().await;
    let output = tokio::process::Command::new(&program)
        .args(args)
        .current_dir(&dir)
        .envs(server.sdk_env())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Echo the suite's own summary so the cargo log shows what ran.
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{} {args:?} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        program.display()
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_aliyun_fc2() {
    let root = repo_root();
    let python = require(root.join(".venv/bin/python"));
    run_suite(python, &["-m", "pytest", "-q", "-p", "no:cacheprovider", "."], root.join("tests/sdk/python")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_alicloud_fc2() {
    let root = repo_root();
    let dir = root.join("tests/sdk/node");
    require(dir.join("node_modules/@alicloud/fc2/package.json"));
    run_suite(PathBuf::from("node"), &["--test", "--test-reporter=dot"], dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_fc_open20210406() {
    let root = repo_root();
    let python = require(root.join(".venv/bin/python"));
    run_suite(python, &["-m", "pytest", "-q", "-p", "no:cacheprovider", "."], root.join("tests/sdk/python2021")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_fc_open20210406() {
    let root = repo_root();
    let dir = root.join("tests/sdk/node2021");
    require(dir.join("node_modules/@alicloud/fc-open20210406/package.json"));
    run_suite(PathBuf::from("node"), &["--test", "--test-reporter=dot"], dir).await;
}
