//! Runs the runtimes' own protocol-level suites: `runtimes/node/test` (node --test), `runtimes/python/test`,
//! `runtimes/php/test`, `runtimes/java/test` and `runtimes/custom/test` (pytest from the project's `.venv`, installed by `scripts/setup-sdks`). They
//! drive each bootstrap directly over a socketpair, below the server.

use std::process::Stdio;

use ferric_testkit::repo_root;

fn run(program: &std::path::Path, args: &[&str]) {
    let root = repo_root();
    let output = std::process::Command::new(program)
        .args(args)
        .current_dir(&root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{} {args:?} failed\n--- stdout\n{stdout}\n--- stderr\n{}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn node_bootstrap_suite() {
    run(std::path::Path::new("node"), &["--test", "--test-reporter=dot", "runtimes/node/test/"]);
}

#[test]
fn python_bootstrap_suite() {
    let python = repo_root().join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/setup-sdks (scripts/test does it)", python.display());
    run(&python, &["-m", "pytest", "-q", "-p", "no:cacheprovider", "runtimes/python/test"]);
}

#[test]
fn php_bootstrap_suite() {
    let python = repo_root().join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/setup-sdks (scripts/test does it)", python.display());
    assert!(std::path::Path::new("/usr/bin/php").exists(), "/usr/bin/php is missing: run scripts/setup-sdks");
    run(&python, &["-m", "pytest", "-q", "-p", "no:cacheprovider", "runtimes/php/test"]);
}

#[test]
fn java_runtime_suite() {
    let python = repo_root().join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/setup-sdks (scripts/test does it)", python.display());
    run(&python, &["-m", "pytest", "-q", "-p", "no:cacheprovider", "runtimes/java/test/test_protocol.py"]);
}

#[test]
fn custom_adapter_suite() {
    let python = repo_root().join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run scripts/setup-sdks (scripts/test does it)", python.display());
    run(&python, &["-m", "pytest", "-q", "-p", "no:cacheprovider", "runtimes/custom/test"]);
}
