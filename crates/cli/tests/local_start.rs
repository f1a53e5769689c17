//! `ferric local start` with no server: the template's HTTP function answers at fun's route, a wrong
//! method and an unknown function get FC's errors, and a change to the handler file reloads, so the
//! next request runs the new code.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const TEMPLATE: &str = "ROSTemplateFormatVersion: '2015-09-01'\nTransform: 'Aliyun::Serverless-2018-04-03'\n\
Resources:\n  demo:\n    Type: 'Aliyun::Serverless::Service'\n    web:\n      Type: 'Aliyun::Serverless::Function'\n      \
Properties:\n        Handler: index.handler\n        Runtime: nodejs20\n        CodeUri: ./code\n      \
Events:\n        http:\n          Type: HTTP\n          Properties:\n            AuthType: ANONYMOUS\n            \
Methods: ['GET', 'POST']\n    event:\n      Type: 'Aliyun::Serverless::Function'\n      \
Properties:\n        Handler: index.handler\n        Runtime: nodejs20\n        CodeUri: ./code\n";

fn handler(word: &str) -> String {
    format!(
        "exports.handler = (req, resp, context) => {{\n  console.log('serving ' + req.path);\n  \
         resp.setHeader('content-type', 'text/plain');\n  \
         resp.send('{word} ' + req.method + ' ' + req.path + ' ' + JSON.stringify(req.queries));\n}};\n"
    )
}

/// The process, killed when the test ends however it ends.
struct Local(Child);

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The next stdout line containing `needle`, within `within`.
fn wait_for(lines: &Receiver<String>, needle: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => panic!("no line with '{needle}' within {within:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("ferric local start ended before printing '{needle}'"),
        }
    }
}

fn request(addr: &str, method: &str, path: &str) -> (u16, String) {
    common::raw_request(addr, method, "localhost", path)
}

fn start(dir: &Path) -> (Local, Receiver<String>) {
    let mut child = Command::new(common::BIN)
        .args(["local", "start", "template.yml", "--port", "0"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ferric local start");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (Local(child), rx)
}

#[test]
fn serves_http_functions_and_reloads_a_changed_handler() {
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    std::fs::write(dir.join("template.yml"), TEMPLATE).expect("template");
    std::fs::create_dir_all(dir.join("code")).expect("mkdir");
    std::fs::write(dir.join("code/index.js"), handler("first")).expect("code");

    let (_local, lines) = start(dir);
    let url = wait_for(&lines, "url: http://", Duration::from_secs(30));
    let url = url.trim().trim_start_matches("url: http://").to_string();
    assert!(url.ends_with("/2016-08-15/proxy/demo/web/"), "{url}");
    let (addr, _) = url.split_once('/').expect("host:port/path");
    assert!(wait_for(&lines, "methods:", Duration::from_secs(5)).contains("GET, POST"));
    wait_for(&lines, "serving on", Duration::from_secs(30));

    let (status, body) = request(addr, "GET", "/2016-08-15/proxy/demo/web/a/b?x=1");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, "first GET /a/b {\"x\":\"1\"}");

    let (status, body) = request(addr, "DELETE", "/2016-08-15/proxy/demo/web/");
    assert_eq!(status, 405, "{body}");
    assert!(body.contains("\"ErrorCode\":\"MethodNotAllowed\""), "{body}");
    let (status, body) = request(addr, "GET", "/2016-08-15/proxy/demo/event/");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("\"ErrorCode\":\"FunctionNotFound\""), "{body}");
    let (status, body) = request(addr, "GET", "/elsewhere");
    assert!(body.contains("\"ErrorCode\":\"PathNotSupported\""), "{status} {body}");

    // Nothing changed: serving (instance starts open the code's files) must not reload. The watch is
    // live by now and the debounce is 250 ms, so a second is ample for a spurious reload to show.
    std::thread::sleep(Duration::from_secs(1));
    let (_, body) = request(addr, "GET", "/2016-08-15/proxy/demo/web/");
    assert_eq!(body, "first GET / {}");
    std::thread::sleep(Duration::from_secs(1));
    let early: Vec<String> = lines.try_iter().filter(|l| l.contains("reloaded")).collect();
    assert!(early.is_empty(), "reloaded with nothing changed: {early:?}");

    // A save as editors do it: a new file renamed over the old one.
    std::fs::write(dir.join("code/.index.js.tmp"), handler("second")).expect("new code");
    std::fs::rename(dir.join("code/.index.js.tmp"), dir.join("code/index.js")).expect("rename");
    let reloaded = wait_for(&lines, "reloaded after a change to", Duration::from_secs(30));
    assert!(reloaded.contains("1 HTTP function"), "{reloaded}");
    let (status, body) = request(addr, "POST", "/2016-08-15/proxy/demo/web/");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, "second POST / {}");
    std::thread::sleep(Duration::from_secs(1));
    let extra: Vec<String> = lines.try_iter().filter(|l| l.contains("reloaded")).collect();
    assert!(extra.is_empty(), "one save, more than one reload: {extra:?}");

    // A template that no longer loads keeps the last good code serving.
    std::fs::write(dir.join("template.yml"), TEMPLATE.replace("nodejs20", "cobol85")).expect("bad template");
    wait_for(&lines, "not reloaded after a change to", Duration::from_secs(30));
    let (status, body) = request(addr, "GET", "/2016-08-15/proxy/demo/web/");
    assert_eq!((status, body.as_str()), (200, "second GET / {}"));
}
