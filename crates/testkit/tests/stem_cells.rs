//! Stem cells through the real server, real sandbox and real interpreters: functions created after the
//! server has filled its cells start from them (their runtime process is older than the function), each
//! sees only its own code at `/code` and only its own environment, and a cell never serves a second
//! function. Skipped, with a line saying so, where the sandbox has no cells (not root, no mount API).

use base64::Engine;
use ferric_testkit::{unique, zip_of, TestServer};
use reqwest::Method;
use serde_json::{json, Value};

const NODE: &str = r#"
const fs = require('fs');
exports.handler = (event, context, callback) => {
  const other = process.env.OTHER_FILE;
  let otherReadable = true;
  try { fs.readFileSync('/code/' + other); } catch { otherReadable = false; }
  callback(null, JSON.stringify({
    files: fs.readdirSync('/code').sort(),
    mine: fs.readFileSync('/code/' + process.env.MY_FILE, 'utf8'),
    otherReadable,
    secret: process.env.SECRET,
    env: Object.keys(process.env).filter((k) => k.startsWith('SECRET')),
    cwd: process.cwd(),
    uptime: process.uptime(),
    uid: process.getuid(),
  }));
};
"#;

const PYTHON: &str = r#"
import json, os

def handler(event, context):
    with open("/proc/self/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK")
    other = os.environ.get("OTHER_FILE", "")
    return json.dumps({
        "files": sorted(os.listdir("/code")),
        "mine": open("/code/" + os.environ["MY_FILE"]).read(),
        "otherReadable": os.path.exists("/code/" + other),
        "secret": os.environ.get("SECRET"),
        "env": [k for k in os.environ if k.startswith("SECRET")],
        "cwd": os.getcwd(),
        "uptime": uptime,
        "uid": os.getuid(),
    })
"#;

async fn create(server: &TestServer, svc: &str, name: &str, runtime: &str, files: &[(&str, &str)], env: Value) {
    let body = json!({
        "functionName": name, "runtime": runtime, "handler": "index.handler", "environmentVariables": env,
        "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip_of(files))},
    });
    server
        .client()
        .call(Method::POST, &format!("/services/{svc}/functions"), &[], Some(&body))
        .await
        .expect("function");
}

async fn invoke(server: &TestServer, svc: &str, name: &str) -> Value {
    let r = server
        .client()
        .send(Method::POST, &format!("/services/{svc}/functions/{name}/invocations"), &[], &[], Some(Vec::new()))
        .await
        .expect("invoke");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let text: String = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&r.body).into_owned());
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_started_from_cells_see_only_their_own_code_and_env() {
    let mut summary = None;
    let server = TestServer::start_with(|c| {
        c.invoker.stem_cells = 2;
        if !c.invoker.sandbox.supports_cells() {
            summary = Some(c.invoker.sandbox.summary());
        }
    })
    .await;
    if let Some(summary) = summary {
        eprintln!("skipped: this sandbox has no stem cells ({summary})");
        return;
    }
    // The server fills one Node and one Python cell at start.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let svc = unique("stem");
    server.client().create_service(&json!({"serviceName": svc})).await.expect("service");
    for (runtime, code) in [("nodejs20", NODE), ("python3.10", PYTHON)] {
        let file = if runtime.starts_with("python") { "index.py" } else { "index.js" };
        let (f, g) = (format!("f{}", &runtime[..4]), format!("g{}", &runtime[..4]));
        create(
            &server,
            &svc,
            &f,
            runtime,
            &[(file, code), ("a.txt", "A")],
            json!({"SECRET": "a", "MY_FILE": "a.txt", "OTHER_FILE": "b.txt"}),
        )
        .await;
        let first = invoke(&server, &svc, &f).await;
        // The second function right after the first: the pool has refilled (or is refilling) its cell.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        create(
            &server,
            &svc,
            &g,
            runtime,
            &[(file, code), ("b.txt", "B")],
            json!({"SECRET": "b", "MY_FILE": "b.txt", "OTHER_FILE": "a.txt"}),
        )
        .await;
        let second = invoke(&server, &svc, &g).await;
        for (answer, mine, secret) in [(&first, "a.txt", "a"), (&second, "b.txt", "b")] {
            let mut expected = [file, mine];
            expected.sort();
            assert_eq!(answer["files"], json!(expected), "{runtime}: {answer}");
            assert_eq!(answer["mine"], if mine == "a.txt" { "A" } else { "B" });
            assert_eq!(answer["otherReadable"], false, "{runtime}: {answer}");
            assert_eq!(answer["secret"], secret);
            assert_eq!(answer["env"], json!(["SECRET"]));
            assert_eq!(answer["cwd"], "/code");
            assert_ne!(answer["uid"], 0, "{runtime}: not root");
            // Started before the function existed: it came from a cell.
            let uptime = answer["uptime"].as_f64().expect("uptime");
            assert!(uptime > 0.7, "{runtime}: a fresh process ({uptime} s), not a cell: {answer}");
        }
        // Warm calls stay on the same instance and still see only their own code.
        let mut expected = [file, "a.txt"];
        expected.sort();
        assert_eq!(invoke(&server, &svc, &f).await["files"], json!(expected));
    }
}
