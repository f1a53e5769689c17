//! Hostile functions against a real `ferric serve`: every function is untrusted, so each attack below runs
//! as a Node.js and a Python function through the server and must fail, while a bystander function in
//! another service keeps answering (during and after every attack) and `/healthz` stays 200.
//!
//! The suite runs twice: with the server as root (`--sandbox strict`) and as uid 65534 through `setpriv`
//! (`--sandbox best-effort`). The hostile code lives in `tests/hostile/{node,python}`; each handler answers
//! `{"blocked": bool, "detail": "..."}`. Every attack is checked and reported (PASS/FAIL lines on stderr,
//! `cargo test -p ferric-cli --test sandbox -- --nocapture`); the test fails at the end with the list of
//! attacks that got through, each named with its runtime and mode. Heavy attacks (fork bomb, memory, /tmp)
//! never overlap, not even across the two modes.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use base64::Engine;
use ferric_client::Client;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_ferric");
const NODE_CODE: &str = include_str!("hostile/node/index.js");
const PYTHON_CODE: &str = include_str!("hostile/python/index.py");
const NOBODY: u32 = 65534;
/// A fork bomb must be refused before it has this many processes.
const FORK_LIMIT: u64 = 1000;
/// Interpreters outside /root (0700), usable by uid 65534 and inside a sandbox with the host's /usr.
const PYTHON: &str = "/usr/bin/python3.11";
const NODE: &str = "/usr/bin/node";

/// Held by the fork bomb, memory and /tmp attacks so that they never run at once.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[test]
fn hostile_functions_are_confined_when_the_server_runs_as_root() {
    if is_root() {
        run_suite(Launch { label: "server as root, --sandbox strict", sandbox: "strict", as_nobody: false, tag: 1 });
    } else {
        eprintln!(
            "notice: not running as root; the root variant runs the server as this user with --sandbox best-effort"
        );
        run_suite(Launch {
            label: "server as this (non-root) user, --sandbox best-effort",
            sandbox: "best-effort",
            as_nobody: false,
            tag: 1,
        });
    }
}

#[test]
fn hostile_functions_are_confined_when_the_server_runs_unprivileged() {
    if !is_root() {
        eprintln!("notice: skipping the unprivileged variant: it needs root to start the server as uid {NOBODY}");
        return;
    }
    run_suite(Launch {
        label: "server as uid 65534 (setpriv), --sandbox best-effort",
        sandbox: "best-effort",
        as_nobody: true,
        tag: 2,
    });
}

// ---------------------------------------------------------------------------------------------------------
// The attacks.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Rt {
    Node,
    Python,
}

impl Rt {
    fn runtime(self) -> &'static str {
        match self {
            Rt::Node => "nodejs20",
            Rt::Python => "python3.10",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Rt::Node => "node",
            Rt::Python => "python",
        }
    }

    fn tag(self) -> u8 {
        match self {
            Rt::Node => 1,
            Rt::Python => 2,
        }
    }
}

const BOTH: &[Rt] = &[Rt::Node, Rt::Python];
const PYTHON_ONLY: &[Rt] = &[Rt::Python];

/// Services: `hostile` has `internetAccess: false`, `hostile-net` has `internetAccess: true`.
const OFFLINE: &str = "hostile";
const ONLINE: &str = "hostile-net";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// A result with `"blocked": true`.
    Blocked,
    /// `"blocked": true`, or the instance was killed for trying (seccomp may kill instead of refusing).
    BlockedOrKilled,
    /// The invoke must fail with a memory error or the instance's death.
    OutOfMemory,
    /// Fewer than [`FORK_LIMIT`] processes, or an error: the invoke returns either way.
    ForkBomb,
    /// Writing stopped with ENOSPC, or the instance was killed.
    TmpFull,
    /// After the instance exits, nothing it started survives on the host.
    NoChildrenLeft,
}

struct Attack {
    /// Function name prefix (the runtime is appended).
    id: &'static str,
    title: &'static str,
    handler: &'static str,
    runtimes: &'static [Rt],
    service: &'static str,
    memory_mb: u32,
    timeout_s: u32,
    heavy: bool,
    verdict: Verdict,
}

const fn attack(
    id: &'static str,
    title: &'static str,
    handler: &'static str,
    runtimes: &'static [Rt],
    verdict: Verdict,
) -> Attack {
    Attack { id, title, handler, runtimes, service: OFFLINE, memory_mb: 128, timeout_s: 20, heavy: false, verdict }
}

const ATTACKS: &[Attack] = &[
    attack("read-victim", "1 read another function's code", "readVictim", BOTH, Verdict::Blocked),
    attack("read-data", "2 read the data dir", "readDataDir", BOTH, Verdict::Blocked),
    attack("write-outside-tmp", "3 write outside /tmp", "writeOutsideTmp", BOTH, Verdict::Blocked),
    attack("see-processes", "4 see host processes", "seeProcesses", BOTH, Verdict::Blocked),
    attack("signal-server", "5 signal the server and other instances", "signalServer", BOTH, Verdict::Blocked),
    attack("ptrace", "6 ptrace", "ptrace", PYTHON_ONLY, Verdict::BlockedOrKilled),
    attack("mount", "7 mount", "mount", BOTH, Verdict::BlockedOrKilled),
    attack("unshare", "8 unshare a user namespace", "unshare", BOTH, Verdict::BlockedOrKilled),
    attack("kernel-module", "9 load a kernel module", "kernelModule", PYTHON_ONLY, Verdict::BlockedOrKilled),
    attack("network", "10 reach the host network (internetAccess=false)", "netConnect", BOTH, Verdict::Blocked),
    attack("api-port", "11a reach Ferric's API port (internetAccess=false)", "netConnect", BOTH, Verdict::Blocked),
    Attack {
        service: ONLINE,
        ..attack("form-api", "11b unsigned form API (internetAccess=true)", "formApi", BOTH, Verdict::Blocked)
    },
    Attack {
        memory_mb: 512,
        timeout_s: 60,
        heavy: true,
        ..attack("fork-bomb", "12 fork bomb", "forkBomb", BOTH, Verdict::ForkBomb)
    },
    Attack {
        timeout_s: 60,
        heavy: true,
        ..attack("memory", "13 allocate past memorySize 128", "memoryHog", BOTH, Verdict::OutOfMemory)
    },
    Attack {
        memory_mb: 1024,
        timeout_s: 60,
        heavy: true,
        ..attack("tmp-fill", "14 fill /tmp past its size", "tmpFill", BOTH, Verdict::TmpFull)
    },
    attack("leave-child", "15 leave a detached child behind", "leaveChild", BOTH, Verdict::NoChildrenLeft),
    attack("host-paths", "16 find host paths in the mount tables", "hostPaths", BOTH, Verdict::Blocked),
];

// ---------------------------------------------------------------------------------------------------------
// The suite.

#[derive(Clone, Copy)]
struct Launch {
    label: &'static str,
    sandbox: &'static str,
    /// Start the server as uid/gid 65534 through setpriv.
    as_nobody: bool,
    /// Tells the two variants' host-visible names apart (they run concurrently).
    tag: u8,
}

fn run_suite(launch: Launch) {
    let started = Instant::now();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    let mut ctx = Ctx::setup(launch);
    let ran = runtime.block_on(async {
        ctx.check_sandbox_report().await;
        ctx.deploy().await;
        let mut ran = 0;
        for attack in ATTACKS {
            for &rt in attack.runtimes {
                ctx.run(attack, rt).await;
                ran += 1;
            }
        }
        ran
    });
    eprintln!("[{}] {ran} attacks in {:?}", launch.label, started.elapsed());
    if !ctx.failures.is_empty() {
        let log = ctx.server.log_tail(60);
        panic!(
            "[{}] {} problem(s):\n  - {}\n--- last lines of the server's log ---\n{log}",
            launch.label,
            ctx.failures.len(),
            ctx.failures.join("\n  - ")
        );
    }
}

struct Ctx {
    launch: Launch,
    server: Server,
    client: Client,
    http: reqwest::Client,
    /// Unique per run and variant: names of files, mounts and directories attacks try to create.
    token: String,
    victim_dir: PathBuf,
    victim_secret: String,
    /// Code directories of the hostile packages, per runtime (where FC_FUNC_CODE_PATH points on the host).
    hostile_code: Vec<(Rt, PathBuf)>,
    /// TCP listeners the offline functions must not reach: (label, listener).
    listeners: Vec<(String, TcpListener)>,
    /// A process of the server's uid outside any sandbox, for ptrace to try.
    sacrificial: Reaped,
    host_pid_ns: String,
    failures: Vec<String>,
}

impl Ctx {
    fn setup(launch: Launch) -> Ctx {
        let mut failures = Vec::new();
        let supports_sandbox = serve_help().contains("--sandbox");
        if !supports_sandbox {
            failures.push(format!(
                "setup: `ferric serve` has no --sandbox flag; started without `--sandbox {}`",
                launch.sandbox
            ));
        }
        let server = Server::start(launch, supports_sandbox);
        let client = Client::new(&server.endpoint, &server.account, &server.key_id, &server.secret);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("http client");

        let mut listeners = Vec::new();
        let loopback = TcpListener::bind("127.0.0.1:0").expect("bind loopback listener");
        listeners.push(("127.0.0.1".to_string(), loopback));
        match non_loopback_ipv4() {
            Some(ip) => {
                let listener = TcpListener::bind(SocketAddr::new(ip, 0)).expect("bind non-loopback listener");
                listeners.push((ip.to_string(), listener));
            }
            None => eprintln!("notice: no non-loopback IPv4 address; attack 10 only tries 127.0.0.1"),
        }
        for (_, listener) in &listeners {
            listener.set_nonblocking(true).expect("nonblocking listener");
        }

        let mut sleeper = launch.command("sleep");
        let sacrificial = Reaped(sleeper.arg("600").stdin(Stdio::null()).spawn().expect("spawn sleep"));
        let host_pid_ns =
            std::fs::read_link("/proc/self/ns/pid").expect("pid namespace").to_string_lossy().into_owned();
        let token = format!("{}-{}", std::process::id(), launch.tag);
        // Leftovers of an earlier, interrupted run would fail attack 15 for nothing.
        for rt in BOTH {
            kill_pids(&pgrep(&sleep_pattern(launch, *rt)));
        }
        Ctx {
            launch,
            server,
            client,
            http,
            token,
            victim_dir: PathBuf::new(),
            victim_secret: format!("VICTIM-SECRET-{}-{}", std::process::id(), launch.tag),
            hostile_code: Vec::new(),
            listeners,
            sacrificial,
            host_pid_ns,
            failures,
        }
    }

    /// `/metrics` names the mode and what is missing; strict has nothing missing, and a best-effort server
    /// that lacks something has a strict twin (same user, same machine) that refuses to start.
    async fn check_sandbox_report(&mut self) {
        let url = format!("{}/metrics", self.server.endpoint);
        let metrics = match self.http.get(&url).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(e) => {
                self.failures.push(format!("GET /metrics: {e}"));
                return;
            }
        };
        let mode = self.launch.sandbox_mode();
        if !metrics.contains(&format!("ferric_sandbox_mode{{mode=\"{mode}\"}} 1")) {
            self.failures.push(format!("/metrics does not report mode {mode}:\n{metrics}"));
        }
        let missing: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("ferric_sandbox_missing_features "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(u64::MAX);
        if mode == "strict" && missing != 0 {
            self.failures.push(format!("strict mode runs with {missing} missing features:\n{metrics}"));
        }
        if mode == "best-effort" && missing > 0 && missing != u64::MAX {
            let data = tempfile::Builder::new().prefix("ferric-sandbox-strict-").tempdir().expect("data dir");
            if self.launch.as_nobody {
                std::os::unix::fs::chown(data.path(), Some(NOBODY), Some(NOBODY)).expect("chown");
            }
            let output = self
                .launch
                .command(&self.server.binary)
                .args(["serve", "--listen", "127.0.0.1:0", "--sandbox", "strict", "--data-dir"])
                .arg(data.path())
                .stdin(Stdio::null())
                .output()
                .expect("ferric serve --sandbox strict");
            let stderr = String::from_utf8_lossy(&output.stderr);
            if output.status.success() || !stderr.contains("the sandbox is strict") {
                self.failures.push(format!("strict mode started without every feature: {stderr}"));
            }
        }
    }

    /// Services, the victim, the bystanders and one function per attack and runtime.
    async fn deploy(&mut self) {
        let c = &self.client;
        for (name, internet) in [("victim", true), ("bystander", true), (OFFLINE, false), (ONLINE, true)] {
            c.create_service(&json!({"serviceName": name, "internetAccess": internet}))
                .await
                .unwrap_or_else(|e| panic!("create service {name}: {e}"));
        }
        let victim = zip(&[
            ("index.py", b"def handler(event, context):\n    return 'victim'\n".as_slice()),
            ("secret.txt", self.victim_secret.as_bytes()),
        ]);
        let created = create_function(c, "victim", "secret", "python3.10", "index.handler", 128, 10, &victim).await;
        let checksum = created["codeChecksum"].as_str().expect("victim codeChecksum").to_string();
        let fetched = c.get_function("victim", "secret").await.expect("get victim");
        assert_eq!(fetched["codeChecksum"].as_str(), Some(checksum.as_str()), "GetFunction's codeChecksum");
        self.victim_dir = self.server.data_dir().join("code").join(&checksum);
        let on_host = std::fs::read_to_string(self.victim_dir.join("secret.txt")).unwrap_or_default();
        assert_eq!(on_host, self.victim_secret, "the victim's code is at {}", self.victim_dir.display());

        let hello_node = zip(&[("index.js", b"exports.handler = (e, c, cb) => cb(null, 'hello ' + e);\n".as_slice())]);
        let hello_python =
            zip(&[("index.py", b"def handler(event, context):\n    return 'hello ' + event.decode()\n".as_slice())]);
        create_function(c, "bystander", "hello-node", "nodejs20", "index.handler", 128, 10, &hello_node).await;
        create_function(c, "bystander", "hello-python", "python3.10", "index.handler", 128, 10, &hello_python).await;

        let node = zip(&[("index.js", NODE_CODE.as_bytes())]);
        let python = zip(&[("index.py", PYTHON_CODE.as_bytes())]);
        for attack in ATTACKS {
            for &rt in attack.runtimes {
                let code = if rt == Rt::Node { &node } else { &python };
                let created = create_function(
                    c,
                    attack.service,
                    &function_name(attack, rt),
                    rt.runtime(),
                    &format!("index.{}", attack.handler),
                    attack.memory_mb,
                    attack.timeout_s,
                    code,
                )
                .await;
                if !self.hostile_code.iter().any(|(r, _)| *r == rt) {
                    let checksum = created["codeChecksum"].as_str().expect("codeChecksum");
                    self.hostile_code.push((rt, self.server.data_dir().join("code").join(checksum)));
                }
            }
        }

        // The control for 11b: the server's own uid may call the form API unsigned from loopback. The test runs
        // as root, so this holds only when the server does too.
        if !self.launch.as_nobody && is_root() {
            let url = format!("{}/api/v1/func/list?Offset=0&Limit=20", self.server.endpoint);
            let answer = match self.http.get(&url).send().await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            let code = serde_json::from_str::<Value>(&answer).ok().and_then(|v| v["Code"].as_i64());
            if code != Some(0) {
                self.failures.push(format!(
                    "control for 11b: an unsigned loopback form-API call from the server's own uid was refused: {answer}"
                ));
            }
        }
        if let Err(e) = bystander_round(&self.client, 0).await {
            panic!("the bystanders answer before any attack: {e}");
        }
    }

    /// The event every hostile handler gets (each reads the fields it needs).
    fn event(&self, attack: &Attack, rt: Rt) -> Value {
        let targets: Vec<Value> = match attack.id {
            "network" => self
                .listeners
                .iter()
                .map(|(label, l)| json!({"host": label, "port": l.local_addr().expect("addr").port()}))
                .collect(),
            "api-port" => vec![json!({"host": "127.0.0.1", "port": self.server.port})],
            _ => Vec::new(),
        };
        // What no mount table inside may name: the data dir, every code checksum, the sources of /etc.
        let mut host_paths = vec![self.server.data_dir().display().to_string(), "/sandbox/etc".into()];
        for dir in std::iter::once(&self.victim_dir).chain(self.hostile_code.iter().map(|(_, d)| d)) {
            host_paths.extend(dir.file_name().map(|n| n.to_string_lossy().into_owned()));
        }
        let mib = match attack.id {
            "memory" => 400,
            "tmp-fill" => 600,
            _ => 0,
        };
        json!({
            "token": self.token,
            "dataDir": self.server.data_dir(),
            "victimDir": self.victim_dir,
            "serverPid": self.server.pid(),
            "peerPids": children_of(self.server.pid()),
            "apiPort": self.server.port,
            "hostPidNs": self.host_pid_ns,
            "ptracePid": self.sacrificial.0.id(),
            "targets": targets,
            "limit": FORK_LIMIT,
            "mib": mib,
            "sleepArg": sleep_arg(self.launch, rt),
            "hostPaths": host_paths,
        })
    }

    /// Runs one attack with the bystanders calling alongside, checks its verdict and the server's health.
    async fn run(&mut self, attack: &Attack, rt: Rt) {
        let _heavy = if attack.heavy { Some(HEAVY.lock().await) } else { None };
        let function = function_name(attack, rt);
        let what = format!(
            "[{}] attack {} ({}, function {}/{})",
            self.launch.label,
            attack.title,
            rt.label(),
            attack.service,
            function
        );
        let event = self.event(attack, rt).to_string().into_bytes();

        let stop = Arc::new(AtomicBool::new(false));
        let watcher = tokio::spawn(bystander_loop(self.client.clone(), stop.clone()));
        let started = Instant::now();
        let limit = Duration::from_secs(u64::from(attack.timeout_s) + 30);
        let outcome = invoke(&self.client, attack.service, &function, event, limit).await;
        let took = started.elapsed();
        stop.store(true, Ordering::SeqCst);

        let mut problems = Vec::new();
        match &outcome {
            Err(e) => problems.push(format!("the invoke did not return: {e}")),
            Ok(o) => {
                if let Err(e) = self.verdict(attack, rt, o).await {
                    problems.push(e);
                }
            }
        }
        match watcher.await {
            Ok((rounds, errors)) => {
                for e in errors {
                    problems.push(format!("bystander during the attack ({rounds} rounds): {e}"));
                }
            }
            Err(e) => problems.push(format!("bystander task failed: {e}")),
        }
        match healthz(&self.http, &self.server.endpoint).await {
            Ok(200) => {}
            Ok(status) => problems.push(format!("/healthz after the attack: {status}")),
            Err(e) => problems.push(format!("/healthz after the attack: {e}")),
        }
        if let Err(e) = bystander_round(&self.client, 1_000_000).await {
            problems.push(format!("bystander after the attack: {e}"));
        }
        if let Some(code) = self.server.exited() {
            problems.push(format!("the server exited: {code}"));
        }

        if problems.is_empty() {
            eprintln!("PASS {what} in {took:?}");
            if std::env::var_os("SANDBOX_SUITE_VERBOSE").is_some() {
                eprintln!("    answer: {}", outcome.as_ref().map(Outcome::summary).unwrap_or_default());
            }
        } else {
            let summary = outcome.as_ref().map(Outcome::summary).unwrap_or_default();
            eprintln!("FAIL {what} in {took:?}:\n    {}\n    answer: {summary}", problems.join("\n    "));
            self.failures.push(format!("{what}: {}", problems.join("; ")));
        }
    }

    async fn verdict(&self, attack: &Attack, rt: Rt, o: &Outcome) -> Result<(), String> {
        match attack.verdict {
            Verdict::Blocked => o.require_blocked()?,
            Verdict::BlockedOrKilled => {
                if !o.instance_died() {
                    o.require_blocked()?;
                }
            }
            Verdict::OutOfMemory => match &o.error_type {
                None => return Err(format!("the allocation succeeded: {}", o.summary())),
                // Strict mode has a memory cgroup, whose OOM kill is reported as such.
                Some(_) if self.launch.sandbox == "strict" => {
                    let error_type = o.json().and_then(|v| v["errorType"].as_str().map(str::to_string));
                    if error_type.as_deref() != Some("MemoryLimitExceeded") {
                        return Err(format!("not reported as MemoryLimitExceeded: {}", o.summary()));
                    }
                }
                Some(_) => {
                    let body = o.body.to_lowercase();
                    let words = ["memory", "exited", "killed", "allocation failed", "heap", "oom"];
                    if !words.iter().any(|w| body.contains(w)) {
                        return Err(format!("failed, but not for memory: {}", o.summary()));
                    }
                }
            },
            Verdict::ForkBomb => {
                if o.error_type.is_none() {
                    let created = o.json().and_then(|v| v["created"].as_u64());
                    match created {
                        Some(n) if n < FORK_LIMIT => {}
                        Some(n) => return Err(format!("the fork bomb created {n} processes unhindered")),
                        None => return Err(format!("unexpected answer: {}", o.summary())),
                    }
                }
            }
            Verdict::TmpFull => {
                if !o.instance_died() {
                    o.require_blocked()?;
                }
            }
            Verdict::NoChildrenLeft => {
                let pattern = sleep_pattern(self.launch, rt);
                let deadline = Instant::now() + Duration::from_secs(3);
                let mut left = pgrep(&pattern);
                while !left.is_empty() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    left = pgrep(&pattern);
                }
                if !left.is_empty() {
                    kill_pids(&left);
                    return Err(format!(
                        "`{pattern}` still runs on the host 3 s after its instance exited (pids {left:?}; killed now)"
                    ));
                }
            }
        }
        match attack.id {
            "read-victim" if o.body.contains(&self.victim_secret) => {
                return Err("the victim's secret.txt is in the answer".into());
            }
            "read-data" if o.body.contains(&self.server.secret) => {
                return Err("the server's access key secret is in the answer".into());
            }
            "host-paths" if o.body.contains(&self.server.data_dir().display().to_string()) => {
                return Err("the data directory's host path is in the answer".into());
            }
            "network" => {
                for (label, listener) in &self.listeners {
                    if let Ok((_, peer)) = listener.accept() {
                        return Err(format!("the listener on {label} accepted a connection from {peer}"));
                    }
                }
            }
            "write-outside-tmp" => {
                let name = format!("ferric-hostile-{}", self.token);
                let mut dirs: Vec<PathBuf> = ["/etc", "/usr", "/", "/var"].iter().map(PathBuf::from).collect();
                dirs.extend(self.hostile_code.iter().filter(|(r, _)| *r == rt).map(|(_, d)| d.clone()));
                for dir in dirs {
                    let path = dir.join(&name);
                    if path.exists() {
                        let _ = std::fs::remove_file(&path);
                        return Err(format!("{} was created on the host (removed now)", path.display()));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------
// Invoking.

struct Outcome {
    status: u16,
    error_type: Option<String>,
    body: String,
}

impl Outcome {
    fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    fn summary(&self) -> String {
        let mut body = self.body.clone();
        if body.len() > 2000 {
            let mut cut = 2000;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push_str("...");
        }
        format!("HTTP {} x-fc-error-type={:?} body={body}", self.status, self.error_type)
    }

    /// The instance died while handling the request (killed by a limit or by seccomp).
    fn instance_died(&self) -> bool {
        self.error_type.is_some() && self.body.contains("Process exited unexpectedly")
    }

    fn require_blocked(&self) -> Result<(), String> {
        if self.status != 200 || self.error_type.is_some() {
            return Err(format!("the handler did not answer: {}", self.summary()));
        }
        let value = self.json().ok_or_else(|| format!("not JSON: {}", self.summary()))?;
        match value["blocked"].as_bool() {
            Some(true) => Ok(()),
            Some(false) => Err(format!("NOT BLOCKED: {}", value["detail"].as_str().unwrap_or_default())),
            None => Err(format!("no `blocked` in the answer: {}", self.summary())),
        }
    }
}

async fn invoke(
    client: &Client,
    service: &str,
    function: &str,
    event: Vec<u8>,
    limit: Duration,
) -> Result<Outcome, String> {
    let path = format!("/services/{service}/functions/{function}/invocations");
    let sent = client.send(Method::POST, &path, &[], &[], Some(event));
    let response = match tokio::time::timeout(limit, sent).await {
        Err(_) => return Err(format!("no answer within {limit:?}")),
        Ok(Err(e)) => return Err(format!("{e}: {:?}", std::error::Error::source(&e))),
        Ok(Ok(r)) => r,
    };
    Ok(Outcome {
        status: response.status,
        error_type: response.header("x-fc-error-type").map(str::to_string),
        body: String::from_utf8_lossy(&response.body).into_owned(),
    })
}

/// One call to each bystander; `n` makes the answers distinct.
async fn bystander_round(client: &Client, n: u64) -> Result<(), String> {
    for function in ["hello-node", "hello-python"] {
        let event = format!("ping-{n}");
        let o = invoke(client, "bystander", function, event.clone().into_bytes(), Duration::from_secs(20))
            .await
            .map_err(|e| format!("{function}: {e}"))?;
        if o.status != 200 || o.error_type.is_some() || o.body != format!("hello {event}") {
            return Err(format!("{function}: {}", o.summary()));
        }
    }
    Ok(())
}

/// Calls the bystanders until `stop` (at least once); returns the rounds and the failures.
async fn bystander_loop(client: Client, stop: Arc<AtomicBool>) -> (u64, Vec<String>) {
    let mut rounds = 0;
    let mut errors = Vec::new();
    loop {
        rounds += 1;
        if let Err(e) = bystander_round(&client, rounds).await {
            errors.push(e);
            if errors.len() >= 3 {
                break;
            }
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (rounds, errors)
}

async fn healthz(http: &reqwest::Client, endpoint: &str) -> Result<u16, String> {
    let response = http.get(format!("{endpoint}/healthz")).send().await.map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

#[allow(clippy::too_many_arguments)]
async fn create_function(
    client: &Client,
    service: &str,
    name: &str,
    runtime: &str,
    handler: &str,
    memory_mb: u32,
    timeout_s: u32,
    zip: &[u8],
) -> Value {
    let body = json!({
        "functionName": name,
        "runtime": runtime,
        "handler": handler,
        "memorySize": memory_mb,
        "timeout": timeout_s,
        "code": {"zipFile": base64::engine::general_purpose::STANDARD.encode(zip)},
    });
    client
        .call(Method::POST, &format!("/services/{service}/functions"), &[], Some(&body))
        .await
        .and_then(|r| r.json())
        .unwrap_or_else(|e| panic!("create function {service}/{name}: {e}"))
}

fn function_name(attack: &Attack, rt: Rt) -> String {
    format!("{}-{}", attack.id, rt.label())
}

fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        for (name, content) in files {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).expect("zip entry");
            w.write_all(content).expect("zip write");
        }
        w.finish().expect("zip finish");
    }
    out.into_inner()
}

// ---------------------------------------------------------------------------------------------------------
// The server process.

struct Server {
    child: Child,
    endpoint: String,
    port: u16,
    account: String,
    key_id: String,
    secret: String,
    log: PathBuf,
    _logs: tempfile::TempDir,
    /// The binary the server runs: a copy uid 65534 can reach (the checkout may sit below a private
    /// directory) in the unprivileged variant.
    binary: String,
    _bin: Option<tempfile::TempDir>,
    /// Dropped after the server is stopped (see `Drop`).
    data: tempfile::TempDir,
}

impl Launch {
    /// The `--sandbox` value: the variant's, unless `SANDBOX_SUITE_MODE` overrides it (`off` shows that the
    /// suite catches every escape of an unconfined function).
    fn sandbox_mode(&self) -> String {
        match std::env::var("SANDBOX_SUITE_MODE") {
            Ok(mode) if !mode.is_empty() => {
                eprintln!("notice: SANDBOX_SUITE_MODE={mode} replaces --sandbox {}", self.sandbox);
                mode
            }
            _ => self.sandbox.to_string(),
        }
    }

    /// `program` as the server's user: through setpriv for the unprivileged variant.
    fn command(&self, program: &str) -> Command {
        if self.as_nobody {
            let mut c = Command::new("setpriv");
            c.args([
                format!("--reuid={NOBODY}"),
                format!("--regid={NOBODY}"),
                "--clear-groups".into(),
                "--inh-caps=-all".into(),
            ])
            .arg(program);
            c
        } else {
            Command::new(program)
        }
    }
}

impl Server {
    fn start(launch: Launch, supports_sandbox: bool) -> Server {
        let data = tempfile::Builder::new().prefix("ferric-sandbox-data-").tempdir().expect("data dir");
        let logs = tempfile::Builder::new().prefix("ferric-sandbox-log-").tempdir().expect("log dir");
        if launch.as_nobody {
            std::os::unix::fs::chown(data.path(), Some(NOBODY), Some(NOBODY)).expect("chown data dir");
            std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod data dir");
            for parent in data.path().ancestors().skip(1) {
                let mode = std::fs::metadata(parent).expect("parent").permissions().mode();
                assert!(mode & 0o005 == 0o005, "{} is not searchable by uid {NOBODY}", parent.display());
            }
        }
        let log = logs.path().join("server.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let bin_dir = launch.as_nobody.then(|| {
            let dir = tempfile::Builder::new().prefix("ferric-sandbox-bin-").tempdir().expect("bin dir");
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod bin dir");
            std::fs::copy(BIN, dir.path().join("ferric")).expect("copy ferric");
            dir
        });
        let binary =
            bin_dir.as_ref().map_or_else(|| BIN.to_string(), |d| d.path().join("ferric").display().to_string());

        let mut command = launch.command(&binary);
        command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data.path());
        command.args(["--memory-budget-mb", "8192", "--idle-timeout", "600"]);
        if supports_sandbox {
            command.args(["--sandbox", &launch.sandbox_mode()]);
        }
        if Path::new(PYTHON).exists() {
            command.args(["--python", PYTHON]);
        }
        if Path::new(NODE).exists() {
            command.args(["--node", NODE]);
        }
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FERRIC_") {
                command.env_remove(key);
            }
        }
        if launch.as_nobody {
            command.env("HOME", data.path());
        }
        let mut child =
            command.stdout(Stdio::piped()).stderr(log_file).stdin(Stdio::null()).spawn().expect("spawn ferric");

        // Keep reading stdout to its end (a closed pipe would make the server's prints fail).
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("export ") {
                    let _ = tx.send(line);
                }
            }
        });
        let export = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("[{}] ferric serve did not start:\n{text}", launch.label);
            }
        };
        let var = |name: &str| -> String {
            export
                .split_whitespace()
                .find_map(|w| w.strip_prefix(name).and_then(|w| w.strip_prefix('=')))
                .unwrap_or_else(|| panic!("{name} in {export}"))
                .to_string()
        };
        let endpoint = var("FC_ENDPOINT");
        let port = endpoint.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port in endpoint");
        Server {
            child,
            port,
            account: var("FC_ACCOUNT_ID"),
            key_id: var("FC_ACCESS_KEY_ID"),
            secret: var("FC_ACCESS_KEY_SECRET"),
            endpoint,
            log,
            _logs: logs,
            binary,
            _bin: bin_dir,
            data,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn data_dir(&self) -> &Path {
        self.data.path()
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child process killed and reaped when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------------------------------------
// Host helpers.

fn is_root() -> bool {
    // The effective uid is the second field of `Uid:` (this crate forbids the unsafe geteuid call).
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .is_some_and(|euid| euid == "0")
}

fn serve_help() -> String {
    let output = Command::new(BIN).args(["serve", "--help"]).output().expect("ferric serve --help");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The machine's non-loopback IPv4 address: the source address of a route to the internet (no packet is
/// sent), else the first one `hostname -I` lists.
fn non_loopback_ipv4() -> Option<IpAddr> {
    let usable = |ip: IpAddr| ip.is_ipv4() && !ip.is_loopback() && !ip.is_unspecified();
    let routed = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("8.8.8.8:53").and_then(|()| s.local_addr()))
        .ok()
        .map(|a| a.ip())
        .filter(|ip| usable(*ip));
    routed.or_else(|| {
        let output = Command::new("hostname").arg("-I").output().ok()?;
        String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .filter_map(|w| w.parse::<IpAddr>().ok())
            .find(|ip| usable(*ip))
    })
}

/// The direct children of `pid` (the server's instances, or their sandbox helpers).
fn children_of(pid: u32) -> Vec<u32> {
    let mut pids = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return pids };
    for task in tasks.flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        pids.extend(list.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// The argument of the detached `sleep` of attack 15, distinct per variant and runtime.
fn sleep_arg(launch: Launch, rt: Rt) -> String {
    format!("987.6{}{}", launch.tag, rt.tag())
}

fn sleep_pattern(launch: Launch, rt: Rt) -> String {
    format!("sleep {}", sleep_arg(launch, rt).replace('.', "\\."))
}

fn pgrep(pattern: &str) -> Vec<u32> {
    let output = Command::new("pgrep").args(["-f", pattern]).output().expect("pgrep");
    String::from_utf8_lossy(&output.stdout).split_whitespace().filter_map(|p| p.parse().ok()).collect()
}

/// Kills exactly these processes (found by a pattern unique to this suite).
fn kill_pids(pids: &[u32]) {
    for pid in pids {
        let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
    }
}
