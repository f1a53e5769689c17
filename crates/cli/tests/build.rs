//! `ferric build` offline: a Node.js function depending on a local package (`file:../greeter`) and a
//! Python function depending on a local wheel, installed into `.fun/build/artifacts/<svc>/<fn>`; then
//! `local invoke` runs the artifacts (the source directories have no dependencies installed).

use std::io::Write;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ferric");

fn ferric(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("npm_config_cache", dir.join(".npm-cache"))
        .env("npm_config_offline", "true")
        .output()
        .expect("run ferric")
}

/// A pure-Python wheel, written as a zip with the files a wheel holds.
fn wheel() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let files = [
        ("pyhello/__init__.py", "def greet(name):\n    return 'py hello ' + name\n"),
        ("pyhello-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: pyhello\nVersion: 1.0\n"),
        (
            "pyhello-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: ferric-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        ("pyhello-1.0.dist-info/RECORD", ""),
    ];
    for (name, body) in files {
        zip.start_file(name, zip::write::SimpleFileOptions::default()).expect("entry");
        zip.write_all(body.as_bytes()).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

#[test]
fn build_installs_local_dependencies_and_local_invoke_uses_the_artifacts() {
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    std::fs::write(
        dir.join("template.yml"),
        "ROSTemplateFormatVersion: '2015-09-01'\nTransform: 'Aliyun::Serverless-2018-04-03'\nResources:\n  \
         app:\n    Type: 'Aliyun::Serverless::Service'\n    node:\n      Type: 'Aliyun::Serverless::Function'\n      \
         Properties:\n        Handler: index.handler\n        Runtime: nodejs20\n        CodeUri: ./node\n    \
         py:\n      Type: 'Aliyun::Serverless::Function'\n      \
         Properties:\n        Handler: main.handler\n        Runtime: python3\n        CodeUri: ./py\n    \
         plain:\n      Type: 'Aliyun::Serverless::Function'\n      \
         Properties:\n        Handler: index.handler\n        Runtime: nodejs20\n        CodeUri: ./plain\n    \
         inside:\n      Type: 'Aliyun::Serverless::Function'\n      \
         Properties:\n        Handler: index.handler\n        Runtime: nodejs20\n        CodeUri: ./inside\n",
    )
    .expect("template");
    for d in ["node", "py", "plain", "greeter", "inside/vendor/greeter"] {
        std::fs::create_dir_all(dir.join(d)).expect("mkdir");
    }
    std::fs::write(dir.join("greeter/package.json"), r#"{"name":"greeter","version":"1.0.0","main":"index.js"}"#)
        .expect("greeter");
    std::fs::write(dir.join("greeter/index.js"), "exports.greet = (n) => 'node hello ' + n;\n").expect("greeter");
    std::fs::write(
        dir.join("node/package.json"),
        r#"{"name":"fn","version":"1.0.0","dependencies":{"greeter":"file:../greeter"}}"#,
    )
    .expect("package.json");
    std::fs::write(
        dir.join("node/index.js"),
        "exports.handler = (e, c, cb) => cb(null, require('greeter').greet(e.toString()));\n",
    )
    .expect("index.js");
    std::fs::write(dir.join("py/pyhello-1.0-py3-none-any.whl"), wheel()).expect("wheel");
    std::fs::write(dir.join("py/requirements.txt"), "./pyhello-1.0-py3-none-any.whl\n").expect("requirements");
    std::fs::write(
        dir.join("py/main.py"),
        "import pyhello\n\ndef handler(event, context):\n    return pyhello.greet(event.decode())\n",
    )
    .expect("main.py");
    std::fs::write(dir.join("plain/index.js"), "exports.handler = (e, c, cb) => cb(null, 'plain');\n").expect("plain");
    // Its local dependency is inside its CodeUri, so the install runs in the sandbox; its own install
    // script records where it ran.
    std::fs::write(
        dir.join("inside/vendor/greeter/package.json"),
        r#"{"name":"greeter","version":"1.0.0","main":"index.js"}"#,
    )
    .expect("vendored greeter");
    std::fs::write(dir.join("inside/vendor/greeter/index.js"), "exports.greet = (n) => 'inside ' + n;\n").expect("js");
    std::fs::write(
        dir.join("inside/package.json"),
        r#"{"name":"fn","version":"1.0.0","dependencies":{"greeter":"file:./vendor/greeter"},
            "scripts":{"postinstall":"node -e \"require('fs').writeFileSync('where.txt', process.cwd() + ' ' + require('os').homedir())\""}}"#,
    )
    .expect("package.json");
    std::fs::write(
        dir.join("inside/index.js"),
        "exports.handler = (e, c, cb) => cb(null, require('greeter').greet(e.toString()));\n",
    )
    .expect("index.js");

    let out = ferric(dir, &["build"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("app/plain: nothing to install") && stdout.contains("Built 3 functions."), "{stdout}");
    assert!(stdout.contains("the local dependency file:../greeter is outside the CodeUri"), "{stdout}");
    assert!(stdout.contains("pip in the python3 sandbox"), "{stdout}");
    let artifacts = dir.join(".fun/build/artifacts/app");
    let greeter = artifacts.join("node/node_modules/greeter");
    assert!(greeter.join("index.js").is_file(), "greeter installed");
    assert!(!greeter.is_symlink(), "copied in, not a link to a path outside the code");
    assert!(artifacts.join("py/pyhello/__init__.py").is_file(), "the wheel installed");
    assert!(!dir.join("node/node_modules").exists() && !dir.join("py/pyhello").exists(), "sources untouched");

    let out = ferric(dir, &["local", "invoke", "node", "-e", "n"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "node hello n", "{}", String::from_utf8_lossy(&out.stderr));
    let inside = artifacts.join("inside");
    let where_ran = std::fs::read_to_string(inside.join("where.txt")).expect("the install script ran");
    assert_eq!(where_ran, "/code /tmp", "npm ran in the sandbox, with the code at /code: {stdout}");
    assert!(inside.join("node_modules/greeter/index.js").is_file(), "installed through the sandbox");
    let owner = |p: &std::path::Path| std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(p).expect("stat"));
    assert_eq!(owner(&inside.join("node_modules")), owner(dir), "what the sandbox wrote is the user's");
    let out = ferric(dir, &["local", "invoke", "inside", "-e", "n"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "inside n", "{}", String::from_utf8_lossy(&out.stderr));
    let out = ferric(dir, &["local", "invoke", "py", "-e", "p"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "py hello p", "{}", String::from_utf8_lossy(&out.stderr));

    // Without the build the source runs, and fails for want of its dependency.
    std::fs::remove_dir_all(dir.join(".fun")).expect("rm .fun");
    let out = ferric(dir, &["local", "invoke", "node", "-e", "n"]);
    assert!(!out.status.success());
}
