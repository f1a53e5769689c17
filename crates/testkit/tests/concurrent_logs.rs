//! Log attribution with `instanceConcurrency` > 1 through the real server, for the runtimes whose
//! concurrent requests share one process (Node.js, Python and PHP here; Java in `java_runtime.rs`): four
//! overlapping requests in one warm instance, each writing interleaved lines through the FC logger and
//! plain stdout/stderr, each Tail holding exactly its own lines, each logger line in FC's format with its
//! own request id.

use ferric_testkit::functions::{create_function, invoke, tail, text};
use ferric_testkit::{zip_of, TestServer};
use serde_json::json;

const NODE: &str = r#"
const instance = Math.random().toString(16).slice(2);
const pause = () => new Promise((resolve) => setTimeout(resolve, 15));
exports.handler = async (event, context) => {
  const tag = event.toString().split(' ')[1];
  for (let i = 0; i < 5; i++) {
    context.logger.info(`logger ${tag} ${i}`);
    console.log(`stdout ${tag} ${i}`);
    await pause();
    console.error(`stderr ${tag} ${i}`);
  }
  return `${tag} ${instance}`;
};
"#;

const PYTHON: &str = r#"
import sys, time, uuid
INSTANCE = uuid.uuid4().hex

def handler(event, context):
    tag = event.decode().split(' ')[1]
    for i in range(5):
        context.getLogger().info('logger %s %d' % (tag, i))
        print('stdout %s %d' % (tag, i))
        time.sleep(0.015)
        sys.stderr.write('stderr %s %d\n' % (tag, i))
    return '%s %s' % (tag, INSTANCE)
"#;

/// PHP serves one request at a time per process: the invoker never overlaps two in one instance (they
/// wait for it or get their own), so what PHP writes to fd 2 itself (`fwrite(STDERR)`, past the
/// bootstrap) lands in the log of the request that wrote it, not that of a request queued behind it.
/// That output travels on a pipe beside the control socket and can race the answer, hence the pause.
const PHP: &str = r#"<?php
$GLOBALS['instance'] = bin2hex(random_bytes(8));
function handler($event, $context) {
    $tag = explode(' ', $event)[1];
    for ($i = 0; $i < 5; $i++) {
        $GLOBALS['fcLogger']->info("logger $tag $i");
        echo "stdout $tag $i\n";
        usleep(15000);
        fwrite(STDERR, "stderr $tag $i\n");
    }
    usleep(150000); // fd 2 is a pipe beside the control socket: let the last line arrive first
    return $tag . ' ' . $GLOBALS['instance'];
}
"#;

/// `info` is how the runtime writes the logger's INFO level (FC's Node.js runtime writes `[info]`);
/// `shared`: whether the four must run at once in the one warm instance.
async fn four_at_once_keep_their_logs(runtime: &str, file: &str, source: &str, info: &str, shared: bool) {
    let server = TestServer::start().await;
    let zip = zip_of(&[(file, source)]);
    let function = json!({"instanceConcurrency": 4, "timeout": 10});
    let svc = create_function(&server, "conc", json!({}), runtime, "index.handler", &zip, function).await;
    let warm = text(&invoke(&server, &svc, "log warm", &[]).await);
    let instance = warm.split(' ').nth(1).unwrap_or_else(|| panic!("{runtime}: {warm}")).to_string();

    let call = |tag: &str| invoke(&server, &svc, format!("log {tag}"), &[("x-fc-log-type", "Tail")]);
    let (a, b, c, d) = tokio::join!(call("a"), call("b"), call("c"), call("d"));
    let tags = ["a", "b", "c", "d"];
    let mut instances = std::collections::BTreeSet::new();
    for (tag, r) in tags.iter().zip([a, b, c, d]) {
        let answer = text(&r);
        let ran_in = answer.strip_prefix(&format!("{tag} ")).unwrap_or_else(|| panic!("{runtime}: {answer}"));
        instances.insert(ran_in.to_string());
        let rid = r.header("x-fc-request-id").expect("rid").to_string();
        let log = tail(&r);
        for i in 0..5 {
            assert!(log.contains(&format!(" {rid} [{info}] logger {tag} {i}")), "{runtime} {tag}/{i} in {log}");
            for stream in ["stdout", "stderr"] {
                let line = format!("{stream} {tag} {i}");
                assert!(log.lines().any(|l| l.ends_with(&line)), "{runtime}: {line:?} in {log}");
            }
        }
        for other in tags.iter().filter(|t| *t != tag) {
            for word in ["logger", "stdout", "stderr"] {
                assert!(!log.contains(&format!("{word} {other} ")), "{runtime}: {other}'s output in {tag}'s: {log}");
            }
        }
        for line in log.lines().filter(|l| l.contains(&format!(" [{info}] "))) {
            assert!(line.contains(&format!(" {rid} [{info}] ")), "{runtime}: its own request id: {line}");
        }
    }
    if shared {
        assert_eq!(instances, [instance].into(), "{runtime}: all four ran at once in the warm instance");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_requests_sharing_an_instance_keep_their_own_logs() {
    four_at_once_keep_their_logs("nodejs20", "index.js", NODE, "info", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_requests_sharing_an_instance_keep_their_own_logs() {
    four_at_once_keep_their_logs("python3.10", "index.py", PYTHON, "INFO", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn php_requests_sharing_an_instance_keep_their_own_logs() {
    four_at_once_keep_their_logs("php7.2", "index.php", PHP, "INFO", false).await;
}
