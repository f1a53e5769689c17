//! How an instance's process is launched for each kind of runtime: the program, its arguments, what it
//! adds to FC's environment, its network, and how long it may take to say `ready`.
//!
//! Node.js, Python and PHP run Ferric's bootstraps. A custom runtime (`custom`, `custom.debian10`, ...) runs
//! `runtimes/custom/bootstrap.py`, an adapter that starts the package's own command *inside the same
//! sandbox* and talks to its HTTP server on `127.0.0.1:<caPort>` there. Its instances always get a
//! network namespace of their own: a port in the host's namespace would be reachable by every local
//! process and collide between instances (see `runtimes/custom/README.md`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ferric_sandbox::{Layout, Network};

use crate::discovery::{is_custom, Interpreter};
use crate::{FunctionVersion, InvokerConfig};

/// What differs between runtimes when an instance starts.
pub(crate) struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Added to FC's environment (and replacing a user variable of the same name).
    pub env: Vec<(String, String)>,
    pub network: Network,
    pub ready_timeout: Duration,
}

/// How many requests one instance of `spec` serves at once: its `instanceConcurrency`, except PHP, whose
/// process runs one request at a time. Letting more into a PHP instance would only queue them in its
/// socket with their timeouts running, and what PHP writes straight to its stderr (`fwrite(STDERR, ...)`
/// bypasses the bootstrap) would land in the log of the latest request rather than the running one.
pub(crate) fn requests_per_instance(spec: &ferric_types::function::FunctionSpec) -> usize {
    if spec.runtime.starts_with("php") {
        return 1;
    }
    spec.instance_concurrency.max(1) as usize
}

/// The runtime API's port inside an instance, unless the function's own server uses it.
const RUNTIME_API_PORT: u32 = 9001;

pub(crate) fn launch(
    config: &InvokerConfig,
    version: &FunctionVersion,
    interpreter: &Interpreter,
    layout: &Layout,
) -> Launch {
    let spec = &version.spec;
    let network = if version.internet_access { Network::Host } else { Network::Isolated };
    let program = interpreter.path.clone();
    let runtime_file = |path: &str| layout.runtime.join(path).display().to_string();
    if spec.runtime.starts_with("nodejs") {
        // V8's old space gets most of the memory; the rest is code, stacks and buffers.
        let heap = (u64::from(spec.memory_size) * 3 / 4).max(32);
        return Launch {
            program,
            args: vec![format!("--max-old-space-size={heap}"), runtime_file("node/bootstrap.js")],
            env: vec![("NODE_PATH".into(), runtime_file("node/node_modules"))],
            network,
            ready_timeout: config.start_timeout,
        };
    }
    if spec.runtime.starts_with("php") {
        // `-n`: no php.ini (the host's /etc/php is not in the sandbox, and must not change a function's
        // behaviour); PHP's own memory_limit is the function's memory, so a runaway script ends in PHP's
        // "Allowed memory size exhausted" fatal before the kernel's limit kills it less legibly; errors are
        // logged by the bootstrap (PHP would print fatal ones past its output buffer).
        let limit = format!("memory_limit={}M", spec.memory_size.max(16));
        let mut args: Vec<String> = ["-n", "-d", &limit, "-d", "display_errors=0"].map(String::from).to_vec();
        if let Some(include) = crate::opt::php_include_path(&layout.opt) {
            args.extend(["-d".to_string(), include]);
        }
        args.push(runtime_file("php/bootstrap.php"));
        return Launch { program, args, env: Vec::new(), network, ready_timeout: config.start_timeout };
    }
    if spec.runtime.starts_with("java") {
        // The archive is there unless its training failed (`java.rs`); the JVM checks it fits.
        let archive = crate::java::archive_name(interpreter);
        let trained = crate::java::cds_enabled() && config.runtimes_dir.join(&archive).exists();
        let archive = trained.then(|| runtime_file(&archive));
        return Launch {
            program,
            args: crate::java::jvm_args(spec.memory_size, &runtime_file(&crate::java::jar_name()), archive.as_deref()),
            env: Vec::new(),
            network,
            // The JVM's own start (~0.3 s idle, more on a loaded machine) comes before `ready`.
            ready_timeout: config.start_timeout * 2,
        };
    }
    let python_args = |file: &str| vec!["-u".into(), "-B".into(), runtime_file(file)];
    if !is_custom(&spec.runtime) {
        return Launch {
            program,
            args: python_args("python/bootstrap.py"),
            env: Vec::new(),
            network,
            ready_timeout: config.start_timeout,
        };
    }
    let start = Duration::from_secs(u64::from(spec.initialization_timeout));
    let api_port = if spec.ca_port == RUNTIME_API_PORT { RUNTIME_API_PORT + 1 } else { RUNTIME_API_PORT };
    let command = serde_json::Value::from(custom_command(spec, &layout.code)).to_string();
    Launch {
        program,
        args: python_args("custom/bootstrap.py"),
        env: vec![
            ("FERRIC_CA_PORT".into(), spec.ca_port.to_string()),
            ("FERRIC_CA_COMMAND".into(), command),
            ("FERRIC_START_TIMEOUT".into(), spec.initialization_timeout.to_string()),
            ("FERRIC_RUNTIME_API_PORT".into(), api_port.to_string()),
        ],
        network: Network::Isolated,
        // The adapter itself gives up after `initializationTimeout`; this only bounds a stuck adapter.
        ready_timeout: start + config.start_timeout,
    }
}

/// FC's `customRuntimeConfig`: `command` (default: the package's `bootstrap`) followed by `args`.
fn custom_command(spec: &ferric_types::function::FunctionSpec, code: &Path) -> Vec<String> {
    let config = spec.passthrough.get("customRuntimeConfig");
    let strings = |key: &str| -> Vec<String> {
        config
            .and_then(|c| c.get(key))
            .and_then(|v| v.as_array())
            .map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let mut command = strings("command");
    if command.is_empty() {
        command.push(code.join("bootstrap").display().to_string());
    }
    command.extend(strings("args"));
    command
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_types::function::FunctionSpec;

    #[test]
    fn php_instances_serve_one_request_at_a_time() {
        let mut spec = FunctionSpec { instance_concurrency: 8, ..FunctionSpec::default() };
        spec.runtime = "php7.2".into();
        assert_eq!(requests_per_instance(&spec), 1);
        spec.runtime = "java11".into();
        assert_eq!(requests_per_instance(&spec), 8);
        spec.instance_concurrency = 0;
        assert_eq!(requests_per_instance(&spec), 1);
    }

    #[test]
    fn the_custom_command_defaults_to_the_bootstrap_and_takes_fc_config() {
        let mut spec = FunctionSpec::default();
        assert_eq!(custom_command(&spec, Path::new("/code")), vec!["/code/bootstrap"]);
        spec.passthrough.insert("customRuntimeConfig".into(), serde_json::json!({"args": ["-v"]}));
        assert_eq!(custom_command(&spec, Path::new("/code")), vec!["/code/bootstrap", "-v"]);
        spec.passthrough
            .insert("customRuntimeConfig".into(), serde_json::json!({"command": ["python3", "app.py"], "args": ["8"]}));
        assert_eq!(custom_command(&spec, Path::new("/code")), vec!["python3", "app.py", "8"]);
    }
}
