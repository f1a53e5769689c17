//! A custom runtime's instance: the adapter on Python, the package's command and port handed to it, and
//! a network namespace of its own whatever `internetAccess` says.

use std::collections::BTreeMap;

use super::{config, function, harness_with};
use crate::{Interpreter, InvokeError, Runtimes};

fn runtimes() -> Runtimes {
    Runtimes {
        node: None,
        python: Some(Interpreter { path: "/fake/bin/python3".into(), version: "3.11.2".into() }),
        php: None,
        java: None,
    }
}

#[tokio::test(start_paused = true)]
async fn a_custom_instance_runs_the_adapter_with_the_command_isolated() {
    let h = harness_with(config(), runtimes());
    let f = function("f", "c1", |s| {
        s.runtime = "custom.debian10".into();
        s.ca_port = 8080;
        s.initialization_timeout = 7;
        s.environment_variables.insert("FERRIC_CA_PORT".into(), "1".into());
        s.passthrough.insert("customRuntimeConfig".into(), serde_json::json!({"args": ["--fast"]}));
    });
    h.answer(&f, "ok").await;
    let record = h.fake.record();
    let spec = &record.spawns[0];
    assert_eq!(spec.program, std::path::Path::new("/fake/bin/python3"));
    let args: Vec<String> = spec.args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    assert_eq!(args, ["-u", "-B", "/opt/ferric/runtime/custom/bootstrap.py"]);
    let env: BTreeMap<String, String> =
        spec.env.iter().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect();
    assert_eq!(env["FERRIC_CA_PORT"], "8080", "the function's variables cannot override the adapter's");
    assert_eq!(spec.env.iter().filter(|(k, _)| k == "FERRIC_CA_PORT").count(), 1);
    assert_eq!(env["FERRIC_CA_COMMAND"], r#"["/code/bootstrap","--fast"]"#);
    assert_eq!(env["FERRIC_START_TIMEOUT"], "7");
    assert_eq!(env["FERRIC_RUNTIME_API_PORT"], "9001");
    assert!(!env.contains_key("NODE_PATH"));
    assert_eq!(spec.network, ferric_sandbox::Network::Isolated, "a port in the host's namespace is everyone's");
}

#[tokio::test(start_paused = true)]
async fn python2_is_refused_saying_there_is_no_python_2() {
    let h = harness_with(config(), runtimes());
    let f = function("f", "c1", |s| s.runtime = "python2.7".into());
    match h.invoke(&f, "ok").await {
        Err(e @ InvokeError::RuntimeUnavailable { .. }) => {
            let message = e.to_string();
            assert!(message.contains("no Python 2 interpreter exists on this server"), "{message}");
            assert!(message.contains("python3.11 on /fake/bin/python3 (3.11.2)"), "{message}");
            assert!(message.contains("custom, custom.debian10"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
