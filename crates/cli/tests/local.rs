//! `ferric local invoke` with no server running and no configuration: a template function's result
//! and log, and a function error reported as the server reports it.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ferric");

fn local(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("local")
        .arg("invoke")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .output()
        .expect("run ferric")
}

#[test]
fn a_template_function_runs_with_no_server() {
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    std::fs::write(
        dir.join("template.yml"),
        "ROSTemplateFormatVersion: '2015-09-01'\nTransform: 'Aliyun::Serverless-2018-04-03'\nResources:\n  \
         demo:\n    Type: 'Aliyun::Serverless::Service'\n    hello:\n      Type: 'Aliyun::Serverless::Function'\n      \
         Properties:\n        Handler: index.handler\n        Runtime: nodejs20\n        CodeUri: ./code\n        \
         EnvironmentVariables:\n          GREETING: hi\n    broken:\n      Type: 'Aliyun::Serverless::Function'\n      \
         Properties:\n        Handler: index.broken\n        Runtime: nodejs20\n        CodeUri: ./code\n",
    )
    .expect("template");
    std::fs::create_dir_all(dir.join("code")).expect("mkdir");
    std::fs::write(
        dir.join("code/index.js"),
        "exports.handler = (event, context, callback) => {\n  console.log('local ' + context.service.name);\n  \
         callback(null, process.env.GREETING + ' ' + event);\n};\n\
         exports.broken = (event, context, callback) => callback(new Error('it broke'));\n",
    )
    .expect("code");

    let out = local(dir, &["hello", "-e", "world"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout, "hi world");
    assert!(stderr.contains("FC Invoke Start RequestId") && stderr.contains("[verbose] local demo"), "{stderr}");

    let out = local(dir, &["demo/broken"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success());
    assert!(stdout.contains("\"errorMessage\":\"it broke\""), "{stdout}");
    assert!(stderr.contains("HandledInvocationError"), "{stderr}");

    let out = local(dir, &["missing"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no function 'missing'"));
}

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).expect("entry");
        zip.write_all(body.as_bytes()).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

#[test]
fn a_zip_code_uri_is_unpacked_with_the_servers_checks() {
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    std::fs::write(
        dir.join("template.yml"),
        "ROSTemplateFormatVersion: '2015-09-01'\nTransform: 'Aliyun::Serverless-2018-04-03'\nResources:\n  \
         demo:\n    Type: 'Aliyun::Serverless::Service'\n    zipped:\n      Type: 'Aliyun::Serverless::Function'\n      \
         Properties:\n        Handler: main.handler\n        Runtime: python3\n        CodeUri: ./code.zip\n    \
         escape:\n      Type: 'Aliyun::Serverless::Function'\n      \
         Properties:\n        Handler: index.handler\n        Runtime: python3\n        CodeUri: ./evil.zip\n",
    )
    .expect("template");
    let main = "def handler(event, context):\n    return 'from zip: ' + event.decode()\n";
    std::fs::write(dir.join("code.zip"), zip_of(&[("main.py", main), ("data/note.txt", "kept")])).expect("zip");
    std::fs::write(dir.join("evil.zip"), zip_of(&[("../outside.py", "x = 1\n")])).expect("zip");

    let out = local(dir, &["zipped", "-e", "packed"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout, "from zip: packed");

    let out = local(dir, &["escape"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a zip entry outside the tree is refused");
    assert!(stderr.contains("evil.zip"), "{stderr}");
    assert!(!dir.parent().expect("parent").join("outside.py").exists());
}
