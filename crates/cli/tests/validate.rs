//! `ferric validate` as a user runs it: the seed's own template, a template with many mistakes (every one
//! reported with its YAML path), and the help of every client command.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ferric");

fn ferric(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN).args(args).current_dir(dir).env_clear().env("HOME", dir).output().expect("run ferric")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_seed_example_is_valid_and_its_api_gateway_becomes_a_custom_domain() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed");
    let out = ferric(&dir, &["validate"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    // The Api's path is a route of a domain, and its backend function gets the HTTP trigger it needs.
    assert!(
        stdout.contains("template.yml is valid: 1 services, 1 functions, 1 triggers, 1 custom domains"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Resources.HelloworldGroup: Aliyun::Serverless::Api: served as the custom domain helloworldgroup.api.internal"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Resources.HelloworldGroup.Properties.StageName: skipped:"), "{stdout}");
}

const BAD: &str = r#"
ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Resources:
  demo:
    Type: 'Aliyun::Serverless::Service'
    Properties:
      Description: 42
      InternetAccess: maybe
      Role: acs:ram::1:role/x
    hello:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index
        Runtime: ruby2.7
        CodeUri: ./missing
        MemorySize: 200
        Timeout: 0
        EnvironmentVariables:
          A: [1]
        Colour: blue
      Events:
        web:
          Type: HTTP
          Properties:
            AuthType: nobody
            Methods: [GET, FETCH]
        tick:
          Type: Timer
          Properties:
            Payload: x
        bucket:
          Type: OSS
          Properties: {}
  1bad:
    Type: 'Aliyun::Serverless::Service'
  logs:
    Type: 'Aliyun::Serverless::Log'
  stray:
    Type: 'Aliyun::Serverless::Function'
"#;

#[test]
fn every_error_is_reported_with_its_yaml_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("template.yml"), BAD).expect("write");
    let out = ferric(dir.path(), &["validate"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);
    for expected in [
        "Resources.demo.Properties.Description: must be a string, not a number",
        "Resources.demo.Properties.InternetAccess: must be true or false, not a string",
        "Resources.demo.hello.Properties.Handler: 'index' must be file.function",
        "Resources.demo.hello.Properties.Runtime: unknown runtime 'ruby2.7'",
        "Resources.demo.hello.Properties.CodeUri: './missing' does not exist",
        "Resources.demo.hello.Properties.MemorySize: must be a multiple of 64",
        "Resources.demo.hello.Properties.Timeout: must be between 1 and 86400",
        "Resources.demo.hello.Properties.EnvironmentVariables.A: must be a string, not a list",
        "Resources.demo.hello.Properties.Colour: unknown function property",
        "Resources.demo.hello.Events.web.Properties.AuthType: must be ANONYMOUS or FUNCTION",
        "Resources.demo.hello.Events.web.Properties.Methods[1]: 'FETCH' is not an HTTP method",
        "Resources.demo.hello.Events.tick.Properties.CronExpression: is required",
        "Resources.1bad: service name '1bad' must start with a letter or '_'",
        "Resources.stray: a function must be nested under its Aliyun::Serverless::Service",
        "is not valid: 14 errors",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    for skipped in [
        "Resources.demo.Properties.Role: skipped: Ferric needs no RAM role",
        "Resources.demo.hello.Events.bucket: skipped: OSS event: Ferric has no Object Storage Service",
        "Resources.logs: skipped: Aliyun::Serverless::Log: Ferric has no Log Service",
    ] {
        assert!(stdout.contains(skipped), "missing {skipped:?} in:\n{stdout}");
    }
}

#[test]
fn yaml_that_does_not_parse_is_one_error_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("t.yml"), "Resources: [unclosed\n").expect("write");
    let out = ferric(dir.path(), &["validate", "-t", "t.yml"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("not valid YAML") && stderr.contains("line"), "{stderr}");
}

#[test]
fn every_client_command_has_an_example_in_its_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    for command in ["config", "validate", "build", "deploy", "invoke", "logs", "ls", "info", "shell", "sbox"] {
        let out = ferric(dir.path(), &[command, "--help"]);
        let help = text(&out.stdout);
        assert!(out.status.success() && help.contains("Examples:"), "{command}:\n{help}");
    }
    for command in [&["local"][..], &["local", "invoke"], &["local", "start"]] {
        let out = ferric(dir.path(), &[command, &["--help"]].concat());
        assert!(text(&out.stdout).contains("Examples:"), "{command:?}");
    }
}
