//! `ferric shell` against a real server (testkit's `TestServer`, in this process): a session scripted
//! through a pseudo-terminal (rexpect makes its own pty, so no terminal needs to be attached), with
//! completion of a verb and of a function name and the history file; the same session through `-c`
//! and through a pipe; a failing command stopping a script; every verb's `--help` with an example.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ferric_testkit::{unique, TestServer, ACCOUNT, KEY_ID, KEY_SECRET};

const BIN: &str = env!("CARGO_BIN_EXE_ferric");

/// `ferric shell ARGS` in `dir` with HOME = `dir` and only the server's settings in the environment.
fn shell_command(dir: &Path, server: &TestServer, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("shell")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env("FC_ENDPOINT", &server.endpoint)
        .env("ACCOUNT_ID", ACCOUNT)
        .env("ACCESS_KEY_ID", KEY_ID)
        .env("ACCESS_KEY_SECRET", KEY_SECRET);
    cmd
}

/// Runs a script through `-c` (or, with `stdin`, through a pipe), off the async runtime.
async fn script(dir: &Path, server: &TestServer, command: Option<&str>, stdin: Option<&str>) -> Output {
    let mut cmd = match command {
        Some(c) => shell_command(dir, server, &["-c", c]),
        None => shell_command(dir, server, &[]),
    };
    let input = stdin.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn ferric shell");
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(input) = input {
            pipe.write_all(input.as_bytes()).expect("write the script");
        }
        drop(pipe);
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("join")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_code(dir: &Path) {
    std::fs::create_dir_all(dir.join("code")).expect("mkdir");
    std::fs::write(
        dir.join("code/index.js"),
        "exports.handler = (event, context, callback) => {\n  console.log('shell says ' + event);\n  \
         callback(null, 'hello ' + event);\n};\n",
    )
    .expect("code");
}

/// The session both non-interactive forms run.
fn session(service: &str) -> String {
    format!(
        "mks {service} -d 'made by the shell'\ncd {service}\npwd\n\
         mkf hello -h index.handler -t nodejs20 -d code -m 256 -e 10\nls\n\
         invk hello -s world\ncd hello; invk -s again -o out.txt\n\
         mkt web -t http --methods GET\nls\ncd ..\ninfo hello\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_sessions_through_dash_c_and_a_pipe() {
    let server = TestServer::start().await;
    let client = server.client();
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    write_code(dir);

    for piped in [false, true] {
        let service = unique("shell-script").replace('-', "_");
        let body = session(&service);
        let out = if piped {
            script(dir, &server, None, Some(&body)).await
        } else {
            script(dir, &server, Some(&body), None).await
        };
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "piped={piped}\n{stdout}\n{stderr}");
        for line in [
            format!("created service /services/{service}"),
            format!("/services/{service}\n"),
            format!("created function /services/{service}/functions/hello"),
            "hello\tnodejs20\tindex.handler\t256".to_string(),
            "hello world\n".to_string(),
            format!("created trigger /services/{service}/functions/hello/triggers/web"),
            "web\thttp".to_string(),
            "memorySize: 256".to_string(),
            "timeout: 10".to_string(),
        ] {
            assert!(stdout.contains(&line), "piped={piped}: missing {line:?} in:\n{stdout}\n{stderr}");
        }
        assert!(stderr.contains("shell says world"), "the log is shown: {stderr}");
        assert_eq!(std::fs::read_to_string(dir.join("out.txt")).expect("-o wrote the result"), "hello again");
        let trigger = client.get_trigger(&service, "hello", "web").await.expect("trigger");
        assert_eq!(trigger["triggerConfig"]["methods"], serde_json::json!(["GET"]));

        // Logs are written in the background: poll.
        let mut logs = String::new();
        for _ in 0..50 {
            let out = script(dir, &server, Some(&format!("cd {service}/hello; logs -d 10m")), None).await;
            logs = text(&out.stdout);
            if logs.contains("shell says again") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(logs.contains("shell says world") && logs.contains("shell says again"), "{logs}");

        let out = script(dir, &server, Some(&format!("rm -r {service}; ls")), None).await;
        assert!(text(&out.stdout).contains(&format!("deleted service /services/{service}")), "{out:?}");
        assert!(client.get_service(&service).await.is_err(), "rm -r deleted the service");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_command_stops_the_script_and_names_itself() {
    let server = TestServer::start().await;
    let project = tempfile::tempdir().expect("tempdir");
    let missing = unique("shell-missing");
    let out = script(project.path(), &server, Some(&format!("pwd; cd {missing}; pwd")), None).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success());
    assert_eq!(stdout, "/\n", "the command after the failure did not run");
    assert!(stderr.contains(&format!("'cd {missing}' failed")) && stderr.contains("ServiceNotFound"), "{stderr}");

    let out = script(project.path(), &server, Some("mkrir myRole; mkl; frobnicate"), None).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("Ferric needs no roles") && stdout.contains("Ferric keeps every invocation's log"));
    assert!(stderr.contains("unknown verb 'frobnicate'"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_verb_has_help_with_an_example() {
    let server = TestServer::start().await;
    let project = tempfile::tempdir().expect("tempdir");
    let out = script(project.path(), &server, Some("help"), None).await;
    let listing = text(&out.stdout);
    let verbs: Vec<String> = listing
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    for verb in [
        "cd", "ls", "pwd", "info", "mks", "ups", "mkf", "upf", "mkt", "upt", "rm", "invk", "logs", "config", "help",
        "clear", "exit", "sbox", "mkrir", "mkrp", "mksr", "attach", "detach", "grant", "mkl",
    ] {
        assert!(verbs.iter().any(|v| v == verb), "help lists {verb}: {listing}");
    }
    let all: Vec<String> = verbs.iter().map(|v| format!("{v} --help")).collect();
    let out = script(project.path(), &server, Some(&all.join("; ")), None).await;
    let helps = text(&out.stdout);
    assert!(out.status.success(), "{helps}\n{}", text(&out.stderr));
    assert_eq!(helps.matches("Examples:").count(), verbs.len(), "{helps}");
    assert!(helps.contains("-h, --handler <HANDLER>") && helps.contains("-e, --timeout <TIMEOUT>"), "{helps}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interactive_session_through_a_pty_with_completion_and_history() {
    let server = TestServer::start().await;
    let client = server.client();
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path().to_path_buf();
    write_code(&dir);
    let service = unique("shell-pty").replace('-', "_");
    let cmd = shell_command(&dir, &server, &[]);
    let svc = service.clone();
    tokio::task::spawn_blocking(move || -> Result<(), rexpect::error::Error> {
        let options = rexpect::reader::Options::new().timeout_ms(Some(30_000)).strip_ansi_escape_codes(true);
        let mut p = rexpect::session::spawn_with_options(cmd, options)?;
        p.exp_string("'help' lists the verbs")?;
        p.exp_string("ferric:/> ")?;
        p.send_line(&format!("mks {svc}"))?;
        p.exp_string(&format!("created service /services/{svc}"))?;
        p.send_line(&format!("cd {svc}"))?;
        p.exp_string(&format!("ferric:/services/{svc}> "))?;
        p.send_line("mkf hello -h index.handler -t nodejs20 -d code")?;
        p.exp_string(&format!("created function /services/{svc}/functions/hello"))?;
        // A verb completes: "pw<Tab>" becomes "pwd ".
        p.send("pw\t")?;
        p.flush()?;
        p.exp_string("pwd")?;
        p.send_line("")?;
        p.exp_string(&format!("\r\n/services/{svc}\r\n"))?;
        // A name completes from the server: "cd hel<Tab>" becomes "cd hello".
        p.send("cd hel\t")?;
        p.flush()?;
        p.exp_string("cd hello")?;
        p.send_line("")?;
        p.exp_string(&format!("ferric:/services/{svc}/functions/hello> "))?;
        p.send_line("invk -s pty")?;
        p.exp_string("hello pty")?;
        p.exp_string("> ")?;
        p.send_line("logs -d 10m")?;
        p.exp_string("> ")?;
        p.send_line("mkf --help")?;
        p.exp_string("mkf hello -h index.handler -t nodejs20 -d ./code")?;
        p.send_line("cd ..; rm hello")?;
        p.exp_string(&format!("deleted function /services/{svc}/functions/hello"))?;
        p.send_line("cd /")?;
        p.exp_string("ferric:/> ")?;
        p.send_line(&format!("rm {svc}"))?;
        p.exp_string(&format!("deleted service /services/{svc}"))?;
        p.send_line("exit")?;
        p.exp_eof()?;
        Ok(())
    })
    .await
    .expect("join")
    .expect("the pty session went as scripted");
    assert!(client.get_service(&service).await.is_err(), "rm deleted the service");
    let history = std::fs::read_to_string(dir.join(".fcli/history")).expect("history saved");
    assert!(history.contains(&format!("mks {service}")) && history.contains("invk -s pty"), "{history}");
}
