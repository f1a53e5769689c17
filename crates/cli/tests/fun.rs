//! The real `fun` (npm `@alicloud/fun` 3.x, installed into `tests/fun` by `scripts/setup-sdks`) against a
//! real `ferric serve`, configured with nothing but the banner's fun-ready line pasted into a shell: `fun
//! deploy` of a template with a service, an event function, an HTTP function with its trigger and an
//! `Aliyun::Serverless::CustomDomain` (fun asks for the domain first and creates it on
//! `DomainNameNotFound`), a second deploy (every resource updated in place), and `fun invoke` with the
//! function's log. Every `fun` run is bounded in time and killed past it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
/// One `fun` command: its start (about 1 s of module loading) and a handful of API calls.
const FUN_LIMIT: Duration = Duration::from_secs(120);

fn fun_bin() -> Option<PathBuf> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fun/node_modules/.bin/fun");
    bin.exists().then_some(bin)
}

/// `fun` when installed; `None` (skip) on a developer's machine without it, a failure in CI.
fn fun_or_skip() -> Option<PathBuf> {
    let found = fun_bin();
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(!ci, "tests/fun/node_modules has no fun: run scripts/setup-sdks (it installs @alicloud/fun)");
        eprintln!("skipped: the real fun is not installed (run scripts/setup-sdks)");
    }
    found
}

struct Server {
    child: Child,
    /// The line the banner prints under "For fun ... paste:".
    fun_line: String,
    endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &Path) -> Server {
    let mut paste_next = false;
    let (child, mut lines) = common::serve_until(data_dir, &[], |line| {
        let this_one = paste_next;
        paste_next = line.starts_with("For fun");
        this_one
    });
    let fun_line = lines.pop().expect("the fun line");
    let endpoint = common::endpoint_in(&fun_line).expect("FC_ENDPOINT in the fun line");
    Server { child, fun_line, endpoint }
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Runs `fun <args>` in `project` through `bash -c '<the pasted line>; fun ...'`, with an empty
/// environment otherwise (PATH for node, HOME in the project so no `~/.fcli` is read), killed past the limit.
fn fun(fun: &Path, server: &Server, project: &Path, args: &str) -> Run {
    let script = format!("{}\nexec {} {args}", server.fun_line, fun.display());
    let (out, err) = (project.join(".fun-stdout"), project.join(".fun-stderr"));
    let mut child = Command::new("bash")
        .args(["-c", &script])
        .current_dir(project)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", project)
        // fun's own update check is the test harness's business, not the server's: keep the run offline.
        .env("FUN_DISABLE_VERSION_CHECK", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("spawn bash");
    let deadline = Instant::now() + FUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait fun") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fun {args} ran past {FUN_LIMIT:?}:\n{}", std::fs::read_to_string(&out).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| strip_colours(&std::fs::read_to_string(p).unwrap_or_default());
    Run { ok: status.success(), stdout: read(&out), stderr: read(&err) }
}

/// fun colours its output even into a file; the assertions read the text.
fn strip_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

const TEMPLATE: &str = r#"ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Resources:
  fundemo:
    Type: 'Aliyun::Serverless::Service'
    Properties:
      Description: deployed by the real fun
    hello:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: nodejs12
        CodeUri: ./code
        EnvironmentVariables:
          GREETING: GREETING_VALUE
    web:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.web
        Runtime: nodejs12
        CodeUri: ./code
        EnvironmentVariables:
          GREETING: GREETING_VALUE
      Events:
        page:
          Type: HTTP
          Properties:
            AuthType: ANONYMOUS
            Methods: ['GET', 'POST']
  fun.ferric.test:
    Type: 'Aliyun::Serverless::CustomDomain'
    Properties:
      Protocol: HTTP
      RouteConfig:
        routes:
          '/site/*':
            ServiceName: fundemo
            FunctionName: web
"#;

const CODE: &str = r#"
exports.handler = (event, context, callback) => {
  console.log('event bytes ' + event.length);
  callback(null, process.env.GREETING + ', ' + event.toString() + ' from ' + context.function.name);
};
exports.web = (req, resp, context) => {
  resp.setHeader('content-type', 'text/plain');
  resp.send('web saw ' + req.path + ' (' + process.env.GREETING + ')');
};
"#;

fn write_project(dir: &Path, greeting: &str) {
    std::fs::create_dir_all(dir.join("code")).expect("code dir");
    std::fs::write(dir.join("template.yml"), TEMPLATE.replace("GREETING_VALUE", greeting)).expect("template");
    std::fs::write(dir.join("code/index.js"), CODE).expect("code");
}

/// A request to the server whose Host is the custom domain, as a browser resolving it would send.
fn get_through_domain(endpoint: &str, path: &str) -> (u16, String) {
    common::raw_request(endpoint.trim_start_matches("http://"), "GET", "fun.ferric.test", path)
}

#[test]
fn real_fun_deploys_and_invokes_with_only_the_banner_line() {
    let Some(fun_path) = fun_or_skip() else { return };
    let data = tempfile::tempdir().expect("data dir");
    let project = tempfile::tempdir().expect("project dir");
    let server = serve(data.path());
    assert!(server.fun_line.starts_with("export FC_ENDPOINT=http://127.0.0.1:"), "{}", server.fun_line);

    write_project(project.path(), "hello");
    let deploy = fun(&fun_path, &server, project.path(), "deploy -y");
    assert!(deploy.ok, "fun deploy failed:\n{}\n{}", deploy.stdout, deploy.stderr);
    for line in [
        "service fundemo deploy success",
        "trigger page deploy success",
        "custom domain fun.ferric.test deploy success",
    ] {
        assert!(deploy.stdout.contains(line), "no '{line}' in:\n{}", deploy.stdout);
    }
    let (status, body) = get_through_domain(&server.endpoint, "/site/a");
    assert_eq!((status, body.as_str()), (200, "web saw /site/a (hello)"));

    let invoke = fun(&fun_path, &server, project.path(), "invoke fundemo/hello -e world");
    assert!(invoke.ok, "fun invoke failed:\n{}\n{}", invoke.stdout, invoke.stderr);
    assert!(invoke.stdout.contains("hello, world from hello"), "{}", invoke.stdout);
    // fun prints the function's log tail (X-Fc-Log-Result) between its markers.
    let log = invoke.stdout.split("FC invoke Logs begin").nth(1).and_then(|s| s.split("FC invoke Logs end").next());
    let log = log.unwrap_or_else(|| panic!("no log block in:\n{}", invoke.stdout));
    assert!(log.contains("FC Invoke Start RequestId:") && log.contains("event bytes 5"), "{log}");

    // The second deploy finds everything (GET 200) and updates it in place, the domain too.
    write_project(project.path(), "howdy");
    let again = fun(&fun_path, &server, project.path(), "deploy -y");
    assert!(again.ok, "second fun deploy failed:\n{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("custom domain fun.ferric.test deploy success"), "{}", again.stdout);
    assert_eq!(get_through_domain(&server.endpoint, "/site/b"), (200, "web saw /site/b (howdy)".to_string()));
    let invoke = fun(&fun_path, &server, project.path(), "invoke fundemo/hello -e again");
    assert!(invoke.stdout.contains("howdy, again from hello"), "{}", invoke.stdout);
}

#[test]
fn strips_terminal_colours() {
    assert_eq!(strip_colours("\u{1b}[32mok\u{1b}[39m done"), "ok done");
}
