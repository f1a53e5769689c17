//! What several of the cli's test binaries share: a real `ferric serve` started the way a user starts
//! it, read up to a line of its banner.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_ferric");

/// `ferric serve` on a free port with `extra` arguments, no keys taken from the environment; returns the
/// process and the banner's lines up to and including the first for which `last` is true.
pub fn serve_until(data_dir: &Path, extra: &[&str], mut last: impl FnMut(&str) -> bool) -> (Child, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env_remove("FERRIC_ACCOUNT_ID")
        .env_remove("FERRIC_ACCESS_KEY_ID")
        .env_remove("FERRIC_ACCESS_KEY_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ferric serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read the banner");
        let done = last(&line);
        lines.push(line);
        if done {
            return (child, lines);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the banner ended before the line looked for: {lines:?}");
}

/// The `FC_ENDPOINT=` value in an export line.
pub fn endpoint_in(line: &str) -> Option<String> {
    line.split_whitespace().find_map(|w| w.strip_prefix("FC_ENDPOINT=")).map(str::to_string)
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), as a browser or curl sends it, with
/// the given Host; the status and the body. Raw, so the Host is exactly the test's.
pub fn raw_request(addr: &str, method: &str, host: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(60))).expect("timeout");
    let head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}
