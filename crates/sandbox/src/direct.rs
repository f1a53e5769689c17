//! The `off` mode: the runtime is a plain child of the server, in a session of its own (so the whole
//! instance can be killed at once), with a cleared environment and rlimits. `RLIMIT_DATA` bounds memory
//! (`RLIMIT_AS` breaks V8's reservations). Each session is registered with the `lifeline` watcher, so it
//! dies with the server even when the server is killed.

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;

use tokio::sync::oneshot;

use crate::{Exit, Killer, KillerInner, MemoryProbe, Process, SandboxError, SpawnSpec, CONTROL_FD};

pub(crate) fn spawn(spec: SpawnSpec) -> Result<Process, SandboxError> {
    let SpawnSpec { program, args, env, code_dir, control, limits, .. } = spec;
    let mut command = tokio::process::Command::new(&program);
    command
        .args(&args)
        .env_clear()
        .envs(env)
        .current_dir(&code_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let control_fd = control.as_raw_fd();
    // Interpreters need headroom over the function's memory size.
    let data_bytes = (u64::from(limits.memory_mb) + 256) << 20;
    let open_files = u64::from(limits.open_files);
    let lifeline = crate::lifeline::write_end();
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the forked child before exec and calls only async-signal-safe functions
    // (dup2, fcntl, setsid, setrlimit, getpid, write) on plain integers; it allocates nothing and touches
    // no locks.
    unsafe {
        command.pre_exec(move || child_setup(control_fd, data_bytes, open_files, lifeline));
    }
    let mut child =
        command.spawn().map_err(|source| SandboxError::Spawn { program: program.display().to_string(), source })?;
    // The child has its copy; ours closes here.
    drop::<OwnedFd>(control);
    let pid = child.id().unwrap_or(0);
    let stdout = child.stdout.take().map(|s| Box::new(s) as _);
    let stderr = child.stderr.take().map(|s| Box::new(s) as _);
    let (exit_tx, exit_rx) = oneshot::channel();
    tokio::spawn(async move {
        let status = child.wait().await;
        // Children the runtime left behind go with it.
        crate::kill_group(pid);
        crate::lifeline::unregister(pid);
        let code = status.ok().map_or(128 + libc::SIGKILL, |s| {
            use std::os::unix::process::ExitStatusExt;
            s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(libc::SIGKILL))
        });
        let _ = exit_tx.send(Exit { code, oom: false });
    });
    Ok(Process {
        pid,
        stdout,
        stderr,
        exit: exit_rx,
        killer: Killer(KillerInner::Group(pid)),
        memory: MemoryProbe(None, pid),
        binder: crate::Binder(None),
    })
}

/// Runs in the child between fork and exec.
#[allow(unsafe_code)]
fn child_setup(control_fd: i32, data_bytes: u64, open_files: u64, lifeline: Option<i32>) -> std::io::Result<()> {
    // SAFETY: dup2/fcntl/setsid/setrlimit are async-signal-safe and take only integers and a pointer to a
    // stack value that outlives the call.
    unsafe {
        if control_fd == CONTROL_FD {
            let flags = libc::fcntl(CONTROL_FD, libc::F_GETFD);
            if flags < 0 || libc::fcntl(CONTROL_FD, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
        } else if libc::dup2(control_fd, CONTROL_FD) < 0 {
            // dup2 leaves the new descriptor without FD_CLOEXEC, so it survives exec.
            return Err(std::io::Error::last_os_error());
        }
        if libc::setsid() < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // Registered before exec, so no instance ever runs unknown to the watcher.
        if let Some(fd) = lifeline {
            crate::lifeline::register_self(fd);
        }
        let set = |resource, value: u64| -> std::io::Result<()> {
            let limit = libc::rlimit { rlim_cur: value as libc::rlim_t, rlim_max: value as libc::rlim_t };
            if libc::setrlimit(resource, &limit) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        };
        set(libc::RLIMIT_DATA, data_bytes)?;
        set(libc::RLIMIT_NOFILE, open_files)?;
        // A crashing function must not write core files.
        set(libc::RLIMIT_CORE, 0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, Network};
    use std::os::unix::net::UnixStream;
    use tokio::io::AsyncReadExt;

    fn sh(script: &str, control: OwnedFd) -> Process {
        spawn(SpawnSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("ONLY".into(), "this".into())],
            code_dir: std::env::temp_dir(),
            runtime_dir: std::env::temp_dir(),
            layer_dirs: Vec::new(),
            scratch_dir: std::env::temp_dir(),
            control,
            limits: Limits { memory_mb: 0, pids: 64, open_files: 256, tmp_mb: 1 },
            network: Network::Host,
        })
        .expect("spawn")
    }

    #[tokio::test]
    async fn control_socket_is_fd_3_and_environment_is_cleared() {
        let (ours, theirs) = UnixStream::pair().expect("socketpair");
        let mut child = sh("echo \"$ONLY ${HOME:-nohome}\" >&3; ulimit -d", theirs.into());
        let mut out = String::new();
        child.stdout.take().expect("stdout").read_to_string(&mut out).await.expect("read");
        assert_eq!(child.wait().await.code, 0);
        let mut from_fd3 = String::new();
        ours.set_nonblocking(false).expect("blocking");
        std::io::Read::read_to_string(&mut &ours, &mut from_fd3).expect("read fd 3");
        assert_eq!(from_fd3, "this nohome\n");
        assert_eq!(out.trim(), "262144", "RLIMIT_DATA in KiB: 0 MB function + 256 MB headroom");
    }

    #[tokio::test]
    async fn kill_reaches_grandchildren() {
        let (_ours, theirs) = UnixStream::pair().expect("socketpair");
        let child = sh("sleep 30 & sleep 30; wait", theirs.into());
        let pid = child.pid;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        child.killer().kill();
        let exit = tokio::time::timeout(std::time::Duration::from_secs(5), child.wait()).await.expect("dies");
        assert_eq!(exit.code, 128 + libc::SIGKILL);
        let mut left = String::new();
        for _ in 0..100 {
            let out = std::process::Command::new("pgrep").args(["-g", &pid.to_string()]).output().expect("pgrep");
            left = String::from_utf8_lossy(&out.stdout).into_owned();
            if left.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(left.is_empty(), "processes left in the group: {left}");
    }
}
