//! The Java part of `ferric bench invoke`: a noop `StreamRequestHandler` compiled here with the JDK's
//! `javac` (against one-line stand-ins of FC's interfaces, left out of the package: the server's runtime
//! provides the real ones), its warm latency and the JVM's cold start.

use std::time::Duration;

use anyhow::{Context, Result};
use ferric_client::Client;

use super::invoke::cold_starts;

const HANDLER: &str = "package bench;\npublic class Noop implements com.aliyun.fc.runtime.StreamRequestHandler {\n    public void handleRequest(java.io.InputStream in, java.io.OutputStream out, com.aliyun.fc.runtime.Context c) throws java.io.IOException {\n        out.write('o'); out.write('k');\n    }\n}\n";
const STUBS: &[(&str, &str)] = &[
    ("com/aliyun/fc/runtime/Context.java", "package com.aliyun.fc.runtime;\npublic interface Context {}\n"),
    (
        "com/aliyun/fc/runtime/StreamRequestHandler.java",
        "package com.aliyun.fc.runtime;\npublic interface StreamRequestHandler {\n    void handleRequest(java.io.InputStream i, java.io.OutputStream o, Context c) throws java.io.IOException;\n}\n",
    ),
];
pub(super) const RUNTIME: &str = "java11";
pub(super) const HANDLER_NAME: &str = "bench.Noop::handleRequest";

/// The handler's class file, or None when no JDK is installed.
pub(super) fn compile() -> Result<Option<Vec<u8>>> {
    if !std::path::Path::new("/usr/bin/javac").exists() {
        return Ok(None);
    }
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("src/com/aliyun/fc/runtime"))?;
    std::fs::create_dir_all(dir.path().join("src/bench"))?;
    std::fs::write(dir.path().join("src/bench/Noop.java"), HANDLER)?;
    for (path, text) in STUBS {
        std::fs::write(dir.path().join("src").join(path), text)?;
    }
    let status = std::process::Command::new("/usr/bin/javac")
        .args(["--release", "8", "-nowarn", "-Xlint:-options", "-d"])
        .arg(dir.path().join("out"))
        .arg(dir.path().join("src/bench/Noop.java"))
        .arg("-sourcepath")
        .arg(dir.path().join("src"))
        .status()
        .context("javac")?;
    anyhow::ensure!(status.success(), "javac failed on the bench handler");
    Ok(Some(std::fs::read(dir.path().join("out/bench/Noop.class"))?))
}

/// A package of the handler, `salt` making each one distinct (cold starts share nothing).
pub(super) fn package(class: &[u8], salt: &str) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        zip.start_file("bench/Noop.class", zip::write::SimpleFileOptions::default())?;
        zip.write_all(class)?;
        zip.start_file("salt.txt", zip::write::SimpleFileOptions::default())?;
        zip.write_all(salt.as_bytes())?;
        zip.finish()?;
    }
    Ok(cursor.into_inner())
}

/// Median (first invocation alone, create → first result) of `n` fresh Java functions.
pub(super) async fn cold_start(client: &Client, class: &[u8], n: usize) -> Result<(Duration, Duration)> {
    cold_starts(client, "cold-java", RUNTIME, HANDLER_NAME, n, |i| package(class, &format!("cold-{i}"))).await
}
