//! The custom-runtime part of `ferric bench invoke`: FC's custom runtime (`custom.debian10`) with the
//! package's own HTTP server behind Ferric's adapter, once as a shell bootstrap running Python's
//! http.server and once as the std-only Rust server of `examples/custom-runtime-rust` (built here with
//! `rustc -O` when rustc is on PATH): warm latency and cold start.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, Result};
use ferric_client::Client;

use super::invoke::{cold_starts, first_invoke};

pub(super) const RUNTIME: &str = "custom.debian10";
const HANDLER: &str = "index.handler";
const SERVER_PY: &str = r#"import http.server, os

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get('content-length') or 0))
        self.send_response(200)
        self.send_header('content-length', '2')
        self.end_headers()
        self.wfile.write(b'ok')

http.server.HTTPServer(('0.0.0.0', int(os.environ.get('FC_SERVER_PORT', '9000'))), Handler).serve_forever()
"#;
const SHELL_BOOTSTRAP: &str = "#!/bin/sh\nexec python3 -u server.py\n";
const RUST_SERVER: &str = include_str!("../../../../../examples/custom-runtime-rust/main.rs");

/// One of the benchmarked custom runtimes: its row name and its package's files (name, bytes, mode).
pub(super) struct Custom {
    pub label: &'static str,
    files: Vec<(&'static str, Vec<u8>, u32)>,
}

/// The Python server always; the Rust one when `rustc` builds it.
pub(super) fn servers() -> Result<Vec<Custom>> {
    let mut all = vec![Custom {
        label: "custom (python http.server)",
        files: vec![
            ("bootstrap", SHELL_BOOTSTRAP.as_bytes().to_vec(), 0o755),
            ("server.py", SERVER_PY.as_bytes().to_vec(), 0o644),
        ],
    }];
    if let Some(binary) = rust_binary()? {
        all.push(Custom { label: "custom (rust binary)", files: vec![("bootstrap", binary, 0o755)] });
    }
    Ok(all)
}

fn rust_binary() -> Result<Option<Vec<u8>>> {
    let dir = tempfile::tempdir()?;
    let source = dir.path().join("main.rs");
    std::fs::write(&source, RUST_SERVER)?;
    let built = std::process::Command::new("rustc")
        .args(["-O", "--edition", "2021", "-C", "strip=symbols", "-o"])
        .arg(dir.path().join("bootstrap"))
        .arg(&source)
        .status();
    match built {
        Ok(status) if status.success() => Ok(Some(std::fs::read(dir.path().join("bootstrap"))?)),
        Ok(status) => anyhow::bail!("rustc failed on examples/custom-runtime-rust ({status})"),
        Err(_) => {
            eprintln!("bench: no rustc on PATH: the Rust custom runtime is skipped");
            Ok(None)
        }
    }
}

impl Custom {
    /// The package, `salt` making each one distinct.
    pub(super) fn package(&self, salt: &str) -> Result<Vec<u8>> {
        let mut cursor = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut cursor);
            for (name, bytes, mode) in &self.files {
                zip.start_file(*name, zip::write::SimpleFileOptions::default().unix_permissions(*mode))?;
                zip.write_all(bytes)?;
            }
            zip.start_file("salt.txt", zip::write::SimpleFileOptions::default())?;
            zip.write_all(salt.as_bytes())?;
            zip.finish()?;
        }
        Ok(cursor.into_inner())
    }

    /// Creates the warm function `name` and checks it answers (the load loops time any answer).
    pub(super) async fn create(&self, client: &Client, name: &str) -> Result<()> {
        first_invoke(client, name, RUNTIME, HANDLER, &self.package("warm")?).await.context(self.label)?;
        Ok(())
    }

    /// Median (first invocation alone, create → first result) of `n` fresh functions.
    pub(super) async fn cold_start(&self, client: &Client, prefix: &str, n: usize) -> Result<(Duration, Duration)> {
        cold_starts(client, prefix, RUNTIME, HANDLER, n, |i| self.package(&format!("cold-{i}"))).await
    }
}
