//! What several of the cli's test binaries share: a real `ferric serve` started the way a user starts
//! it, read up to a line of its banner.

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
