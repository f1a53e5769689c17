//! fun's `TIMEOUT` and `RETRIES` bound and repeat ferric's own requests: against a server that accepts
//! connections and never answers, `ferric ls` with TIMEOUT=1 gives up after a second per try, and tries
//! once more with RETRIES=1 (a GET is safe to repeat); a bad value is refused with its source.

use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ferric");

fn ls(dir: &std::path::Path, endpoint: &str, timeout: &str, retries: &str) -> Output {
    Command::new(BIN)
        .arg("ls")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("FC_ENDPOINT", endpoint)
        .env("ACCOUNT_ID", "1234567890")
        .env("ACCESS_KEY_ID", "KEY")
        .env("ACCESS_KEY_SECRET", "secret")
        .env("TIMEOUT", timeout)
        .env("RETRIES", retries)
        .output()
        .expect("run ferric ls")
}

#[test]
fn timeout_and_retries_are_honoured() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    // Holds every connection open, reading nothing and answering nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let project = tempfile::tempdir().expect("tempdir");

    let started = Instant::now();
    let out = ls(project.path(), &endpoint, "1", "0");
    let took = started.elapsed();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("timed out"), "{stderr}");
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "RETRIES=0: one try");

    let out = ls(project.path(), &endpoint, "1", "1");
    assert!(!out.status.success());
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "RETRIES=1: a second try");

    let out = ls(project.path(), &endpoint, "soon", "1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TIMEOUT (environment variable TIMEOUT) is 'soon'"), "{stderr}");
    assert_eq!(accepted.load(Ordering::SeqCst), 3, "a bad TIMEOUT sends nothing");
}
