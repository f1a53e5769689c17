//! The sandbox as the invoker uses it, with `/bin/sh` as the "runtime": each test starts an instance
//! through the real helper binary and checks what the instance can and cannot do.

use std::os::unix::net::UnixStream;
use std::path::Path;

use ferric_sandbox::{Limits, Mode, Network, Sandbox, SandboxConfig, SpawnSpec};
use tokio::io::AsyncReadExt;

async fn sandbox(root: &Path) -> Sandbox {
    Sandbox::start(SandboxConfig {
        mode: Mode::BestEffort,
        helper: vec![env!("CARGO_BIN_EXE_ferric-sandbox-exec").into()],
        work_dir: root.join("sandbox"),
        uid_base: 1_900_000_000,
    })
    .await
    .expect("sandbox starts")
}

/// Runs `script` in a new instance and returns (exit code, stdout+stderr, oom).
async fn run(sandbox: &Sandbox, dir: &Path, script: &str, network: Network, memory_mb: u32) -> (i32, String, bool) {
    let code = dir.join("code");
    let runtime = dir.join("runtime");
    let scratch = dir.join("scratch");
    for d in [&code, &runtime, &scratch] {
        std::fs::create_dir_all(d).expect("dir");
    }
    std::fs::write(code.join("hello.txt"), "hello").expect("code file");
    let (_ours, theirs) = UnixStream::pair().expect("pair");
    let mut process = sandbox
        .spawn(SpawnSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            code_dir: code,
            runtime_dir: runtime,
            layer_dirs: Vec::new(),
            scratch_dir: scratch,
            control: theirs.into(),
            limits: Limits { memory_mb, pids: 64, open_files: 1024, tmp_mb: 16 },
            network,
        })
        .await
        .expect("spawn");
    let mut out = String::new();
    let mut err = String::new();
    let mut stdout = process.stdout.take().expect("stdout");
    let mut stderr = process.stderr.take().expect("stderr");
    let _ = tokio::join!(stdout.read_to_string(&mut out), stderr.read_to_string(&mut err));
    let exit = process.wait().await;
    (exit.code, format!("{out}{err}"), exit.oom)
}

#[tokio::test]
async fn an_instance_sees_only_its_own_world() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = sandbox(dir.path()).await;
    eprintln!("{}", sandbox.summary());
    let (code, out, _) = run(
        &sandbox,
        dir.path(),
        "id -u; id -un; test -e /etc/ssl/private || echo no-private-keys; pwd; cat hello.txt; echo; ls /; \
         ls /proc | grep -c '^[0-9]'; hostname; \
         touch /code/x 2>&1 || echo code-ro; touch /etc/x 2>&1 || echo etc-ro; echo t > /tmp/t && echo tmp-rw",
        Network::Isolated,
        128,
    )
    .await;
    eprintln!("{out}");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("/code\nhello"), "{out}");
    assert!(out.contains("sbx_user\n"), "the instance's uid has a name: {out}");
    assert!(out.contains("no-private-keys"), "root-only /etc entries stay out: {out}");
    assert!(out.contains("code-ro") && out.contains("etc-ro") && out.contains("tmp-rw"), "{out}");
    assert!(!out.contains(&dir.path().display().to_string()), "{out}");
}

#[tokio::test]
async fn an_isolated_instance_has_only_loopback_and_a_host_one_shares_the_network() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = sandbox(dir.path()).await;
    let script = "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '";
    let (code, isolated, _) = run(&sandbox, dir.path(), script, Network::Isolated, 128).await;
    assert_eq!(code, 0, "{isolated}");
    assert_eq!(isolated.trim(), "lo", "an isolated instance sees only lo");
    let (_, host, _) = run(&sandbox, dir.path(), script, Network::Host, 128).await;
    assert!(host.split_whitespace().count() > 1, "a host-network instance sees the host's interfaces: {host}");
}

#[tokio::test]
async fn killing_an_instance_ends_everything_in_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = sandbox(dir.path()).await;
    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).expect("dir");
    let (_ours, theirs) = UnixStream::pair().expect("pair");
    let process = sandbox
        .spawn(SpawnSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "sleep 1234.5678 & sleep 1234.5678 & wait".into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            code_dir: code.clone(),
            runtime_dir: code.clone(),
            layer_dirs: Vec::new(),
            scratch_dir: code,
            control: theirs.into(),
            limits: Limits { memory_mb: 64, pids: 16, open_files: 64, tmp_mb: 1 },
            network: Network::Host,
        })
        .await
        .expect("spawn");
    let memory_readable = process.memory().peak_kib().map(|_| ()).is_some();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    process.killer().kill();
    let exit = tokio::time::timeout(std::time::Duration::from_secs(5), process.wait()).await.expect("exits");
    assert_eq!(exit.code, 128 + libc::SIGKILL, "{exit:?}");
    assert!(memory_readable, "the instance's memory can be read while it runs");
    let left = std::process::Command::new("pgrep").args(["-f", "sleep 1234.5678"]).output().expect("pgrep");
    assert!(left.stdout.is_empty(), "left behind: {}", String::from_utf8_lossy(&left.stdout));
}

#[tokio::test]
async fn a_dead_helper_takes_its_instances_and_is_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = sandbox(dir.path()).await;
    let first = sandbox.helper_pid().expect("helper pid");
    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).expect("dir");
    let spec = |control: UnixStream| SpawnSpec {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), "sleep 1234.9876".into()],
        env: vec![("PATH".into(), "/usr/bin:/bin".into())],
        code_dir: code.clone(),
        runtime_dir: code.clone(),
        layer_dirs: Vec::new(),
        scratch_dir: code.clone(),
        control: control.into(),
        limits: Limits { memory_mb: 64, pids: 16, open_files: 64, tmp_mb: 1 },
        network: Network::Host,
    };
    let (_a, theirs) = UnixStream::pair().expect("pair");
    let orphan = sandbox.spawn(spec(theirs)).await.expect("spawn");
    std::process::Command::new("kill").args(["-KILL", &first.to_string()]).status().expect("kill helper");
    let exit = tokio::time::timeout(std::time::Duration::from_secs(5), orphan.wait()).await.expect("ends");
    assert_eq!(exit.code, 128 + libc::SIGKILL, "an instance of a dead helper counts as killed");
    for _ in 0..100 {
        let left = std::process::Command::new("pgrep").args(["-f", "sleep 1234.9876"]).output().expect("pgrep");
        if left.stdout.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let left = std::process::Command::new("pgrep").args(["-f", "sleep 1234.9876"]).output().expect("pgrep");
    assert!(left.stdout.is_empty(), "the instance died with its helper");
    let (_b, theirs) = UnixStream::pair().expect("pair");
    let next = sandbox.spawn(spec(theirs)).await.expect("a new helper starts the next instance");
    assert_ne!(sandbox.helper_pid(), Some(first));
    next.killer().kill();
    assert_eq!(next.wait().await.code, 128 + libc::SIGKILL);
}

/// Nothing an instance can read names a host path: `/proc/self/mountinfo` shows each mount's root within
/// its filesystem and `/proc/mounts` its options, so the code, the bootstraps and the curated `/etc` must
/// not come from plain binds of host directories.
#[tokio::test]
async fn mount_tables_name_no_host_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = sandbox(dir.path()).await;
    if !sandbox.features().mountns || !sandbox.features().overlay {
        eprintln!("skipped: no mount namespace or no overlayfs here (the probe warns)");
        return;
    }
    let (code, out, _) = run(
        &sandbox,
        dir.path(),
        "cat /proc/self/mountinfo; echo ==; cat /proc/mounts; echo ==; cat /proc/self/mountstats; echo ==; \
         cat /code/hello.txt; echo; ls /code; ls /etc | grep -c . ; ls /etc/ssl >/dev/null && echo etc-ok; ls -a /",
        Network::Host,
        128,
    )
    .await;
    assert_eq!(code, 0, "{out}");
    // Listing matters: an overlay whose empty layer went away lists as empty.
    let after = out.split("hello\n").nth(1).unwrap_or_default();
    assert!(after.starts_with("hello.txt\n"), "the code lists: {out}");
    assert!(after.contains("etc-ok") && !after.contains("\n0\netc-ok"), "/etc lists and works: {out}");
    assert!(!after.contains(".empty"), "no scratch mount point is left in /: {out}");
    let host = dir.path().display().to_string();
    for needle in [host.as_str(), "/sandbox/", "/work", "/.tmp"] {
        for line in out.lines() {
            assert!(!line.contains(needle), "an instance sees the host path {needle:?}: {line}");
        }
    }
}

/// A stem cell starts with an empty `/code`; one bind shows the function's code there (read-only, under
/// the same uid, landlock and seccomp as any instance, and without naming a host path), and the helper
/// refuses a second bind, so a cell never serves a second function.
#[tokio::test]
async fn a_stem_cell_sees_its_code_only_after_its_one_bind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = sandbox(dir.path()).await;
    if !sandbox.supports_cells() {
        assert!(std::env::var_os("CI").is_none() || effective_uid() != 0, "root CI must have stem cells");
        eprintln!("skipped: no stem cells here (not root, or no mount namespace / overlayfs / new mount API)");
        return;
    }
    let code = dir.path().join("code");
    let other = dir.path().join("other");
    let runtime = dir.path().join("runtime");
    for d in [&code, &other, &runtime] {
        std::fs::create_dir_all(d).expect("dir");
    }
    std::fs::write(code.join("hello.txt"), "hello").expect("code file");
    std::fs::write(other.join("other.txt"), "other").expect("other file");
    // The "runtime" lists /code, says ready, waits for one line on its control socket (the specialisation), then
    // looks again: the shell's cwd is the old, empty /code, so it must change into the new one.
    let script =
        "ls -a /code | tr '\\n' ' '; echo; echo ready >&3; read line <&3; cd /code && pwd && cat hello.txt; echo; \
                  touch /code/x 2>&1 || echo code-ro; id -u; cat /proc/self/mountinfo; ls other.txt 2>&1; true";
    let (mut ours, theirs) = UnixStream::pair().expect("pair");
    let mut process = sandbox
        .spawn_cell(SpawnSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            code_dir: other.clone(),
            runtime_dir: runtime,
            layer_dirs: Vec::new(),
            scratch_dir: dir.path().join("scratch"),
            control: theirs.into(),
            limits: Limits { memory_mb: 64, pids: 64, open_files: 1024, tmp_mb: 16 },
            network: Network::Isolated,
        })
        .await
        .expect("spawn cell");
    let mut ready = [0u8; 6];
    std::io::Read::read_exact(&mut ours, &mut ready).expect("the cell says ready");
    let binder = process.binder();
    binder
        .bind(vec![ferric_sandbox::BindMount { host: code.clone(), inside: "/code".into() }])
        .await
        .expect("first bind");
    let second = binder.bind(vec![ferric_sandbox::BindMount { host: other.clone(), inside: "/code".into() }]).await;
    assert!(second.is_err(), "a cell takes one bind");
    std::io::Write::write_all(&mut ours, b"go\n").expect("specialise");
    let mut out = String::new();
    let mut err = String::new();
    let mut stdout = process.stdout.take().expect("stdout");
    let mut stderr = process.stderr.take().expect("stderr");
    let _ = tokio::join!(stdout.read_to_string(&mut out), stderr.read_to_string(&mut err));
    let exit = process.wait().await;
    let out = format!("{out}{err}");
    assert_eq!(exit.code, 0, "{out}");
    assert!(out.starts_with(". .. \n"), "the cell's /code starts empty: {out}");
    assert!(out.contains("/code\nhello\n"), "the bound code is readable: {out}");
    assert!(out.contains("code-ro"), "and read-only: {out}");
    assert!(!out.contains("\n0\n"), "the runtime is not root: {out}");
    assert!(out.contains("No such file"), "the other tree is not there: {out}");
    let host = dir.path().display().to_string();
    for line in out.lines() {
        assert!(!line.contains(&host), "a cell sees the host path: {line}");
    }
}

fn effective_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:"))?.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(u32::MAX)
}
