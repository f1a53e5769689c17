//! Starting one confined child process. This is the only crate with `unsafe`: the code that runs between
//! `fork` and `exec` in the child, and the signals sent to process groups.
//!
//! Today a spawn wires the runtime's control socket to fd 3, puts the child in a session (and process
//! group) of its own so the whole instance can be killed at once, clears the environment, and applies
//! rlimits (`RLIMIT_DATA` is the memory bound until cgroups arrive: `RLIMIT_AS` breaks V8's reservations).
//! Namespaces, cgroups, landlock and seccomp join with the sandbox issue, behind the same [`spawn`].
//!
//! Layout:
//! - [`SpawnSpec`], [`Limits`]: what to start and how to bound it.
//! - [`spawn`]: start it (`pre_exec` does the fd and rlimit work in the child).
//! - [`kill_group`]: SIGKILL every process of an instance.

#![deny(unsafe_code)]

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Stdio;

use thiserror::Error;

/// The descriptor number a runtime finds its control socket on.
pub const CONTROL_FD: i32 = 3;

#[derive(Debug, Error)]
pub enum SandboxError {
    #[error("cannot start {program}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// Resource bounds applied in the child before `exec`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `RLIMIT_DATA` in bytes: heap and private writable mappings.
    pub data_bytes: Option<u64>,
    /// `RLIMIT_NOFILE`.
    pub open_files: Option<u64>,
    /// `RLIMIT_CORE` is always 0: a crashing function must not write core files into its code directory.
    pub no_core_dumps: bool,
}

/// One process to start.
pub struct SpawnSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The whole environment: nothing is inherited.
    pub env: Vec<(OsString, OsString)>,
    pub cwd: PathBuf,
    /// Becomes fd [`CONTROL_FD`] in the child.
    pub control: OwnedFd,
    pub limits: Limits,
}

/// Starts the process with stdin from `/dev/null` and stdout/stderr piped.
pub fn spawn(spec: SpawnSpec) -> Result<tokio::process::Child, SandboxError> {
    let SpawnSpec { program, args, env, cwd, control, limits } = spec;
    let mut command = tokio::process::Command::new(&program);
    command
        .args(&args)
        .env_clear()
        .envs(env)
        .current_dir(&cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let control_fd = control.as_raw_fd();
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the forked child before exec and calls only async-signal-safe functions
    // (dup2, fcntl, setsid, setrlimit) on plain integers; it allocates nothing and touches no locks.
    unsafe {
        command.pre_exec(move || child_setup(control_fd, limits));
    }
    let child =
        command.spawn().map_err(|source| SandboxError::Spawn { program: program.display().to_string(), source })?;
    // The child has its copy; ours closes here.
    drop(control);
    Ok(child)
}

/// Runs in the child between fork and exec.
#[allow(unsafe_code)]
fn child_setup(control_fd: i32, limits: Limits) -> std::io::Result<()> {
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
        let set = |resource, value: u64| -> std::io::Result<()> {
            let limit = libc::rlimit { rlim_cur: value as libc::rlim_t, rlim_max: value as libc::rlim_t };
            if libc::setrlimit(resource, &limit) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        };
        if let Some(bytes) = limits.data_bytes {
            set(libc::RLIMIT_DATA, bytes)?;
        }
        if let Some(files) = limits.open_files {
            set(libc::RLIMIT_NOFILE, files)?;
        }
        if limits.no_core_dumps {
            set(libc::RLIMIT_CORE, 0)?;
        }
    }
    Ok(())
}

/// Sends SIGKILL to every process in the group `pgid` leads (each instance is its own session).
pub fn kill_group(pgid: u32) {
    let Ok(pgid) = i32::try_from(pgid) else { return };
    if pgid <= 1 {
        return;
    }
    #[allow(unsafe_code)]
    // SAFETY: kill takes plain integers; a negative pid addresses the process group. Errors (already gone)
    // are irrelevant here.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;
    use tokio::io::AsyncReadExt;

    fn sh(script: &str, control: OwnedFd, limits: Limits) -> tokio::process::Child {
        spawn(SpawnSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
            env: vec![("ONLY".into(), "this".into())],
            cwd: std::env::temp_dir(),
            control,
            limits,
        })
        .expect("spawn")
    }

    #[tokio::test]
    async fn control_socket_is_fd_3_and_environment_is_cleared() {
        let (ours, theirs) = UnixStream::pair().expect("socketpair");
        let mut child = sh(
            "echo \"$ONLY ${HOME:-nohome}\" >&3; ulimit -d",
            theirs.into(),
            Limits { data_bytes: Some(256 << 20), ..Limits::default() },
        );
        let mut out = String::new();
        child.stdout.take().expect("stdout").read_to_string(&mut out).await.expect("read");
        assert!(child.wait().await.expect("wait").success());
        let mut from_fd3 = String::new();
        ours.set_nonblocking(false).expect("blocking");
        std::io::Read::read_to_string(&mut &ours, &mut from_fd3).expect("read fd 3");
        assert_eq!(from_fd3, "this nohome\n");
        assert_eq!(out.trim(), "262144", "RLIMIT_DATA in KiB");
    }

    #[tokio::test]
    async fn kill_group_reaches_grandchildren() {
        let (_ours, theirs) = UnixStream::pair().expect("socketpair");
        let mut child = sh("sleep 30 & sleep 30; wait", theirs.into(), Limits::default());
        let pid = child.id().expect("pid");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        kill_group(pid);
        let status =
            tokio::time::timeout(std::time::Duration::from_secs(5), child.wait()).await.expect("dies").expect("wait");
        assert!(!status.success());
        // The orphaned grandchild is reaped by init shortly after the kill.
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
