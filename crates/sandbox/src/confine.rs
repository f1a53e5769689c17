//! What runs inside a new instance, in the two processes a seed's `clone` starts:
//! - the reaper (pid 1 of the instance's pid namespace, a child of the helper through `CLONE_PARENT`)
//!   maps its user namespace, builds the fresh root (`rootfs`), names the host, raises `lo`, forks the runtime, and
//!   then only reaps; it exits with the runtime's status, which ends the namespace and everything left
//!   in it;
//! - the runtime child wires its descriptors, drops privileges (own uid, rlimits, `no_new_privs`,
//!   landlock, seccomp last) and `exec`s the interpreter.
//!
//! Both descend from the single-threaded helper, so they may allocate freely. Any failure is sent to the
//! helper on the report socket as `E<text>`; just before `exec` the runtime sends `R`, which carries its
//! pid (translated by the kernel into the helper's pid namespace) as credentials.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::landlock::{self, Access};
use crate::rootfs;
use crate::seccomp::Filters;
use crate::wire::Job;
use crate::{CODE_DIR, CONTROL_FD, RUNTIME_DIR, TMP_DIR};

/// The uid and gid a runtime has inside its user namespace (user-namespace mode): not 0, so `exec` clears
/// every capability.
pub(crate) const INSIDE_ID: u32 = 1000;

/// The namespaces and features this instance uses.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub(crate) struct Plan {
    pub userns: bool,
    pub mountns: bool,
    pub pidns: bool,
    pub netns: bool,
    pub utsns: bool,
    pub ipcns: bool,
    pub cgroup: bool,
    pub landlock: u32,
    /// Show the data directory's trees as overlays rather than binds (`rootfs`).
    pub overlay: bool,
}

/// Everything the two processes need, prepared by the helper before `clone`.
pub(crate) struct Context<'a> {
    pub job: &'a Job,
    pub plan: Plan,
    pub root_mount_point: &'a Path,
    /// The curated `/etc`, built once by the helper ([`build_etc_template`]).
    pub etc_template: &'a Path,
    /// The runtime's uid and gid in root mode.
    pub uid: Option<u32>,
    /// The helper's own ids, mapped inside the user namespace.
    pub outer_uid: u32,
    pub outer_gid: u32,
    pub hostname: &'a str,
    pub filters: Option<&'a Filters>,
    pub control: &'a OwnedFd,
    pub stdout: &'a OwnedFd,
    pub stderr: &'a OwnedFd,
    pub report: &'a OwnedFd,
    pub helper_pid: i32,
}

/// The reaper. Never returns.
pub(crate) fn reaper(ctx: &Context<'_>) -> ! {
    let code = match prepare_and_reap(ctx) {
        Ok(code) => code,
        Err(message) => {
            report(ctx.report.as_raw_fd(), &format!("E{message}"));
            127
        }
    };
    #[allow(unsafe_code)]
    // SAFETY: _exit ends this forked process without running the helper's exit handlers.
    unsafe {
        libc::_exit(code)
    }
}

fn prepare_and_reap(ctx: &Context<'_>) -> Result<i32, String> {
    #[allow(unsafe_code)]
    // SAFETY: prctl and getppid take integers; the parent-death signal makes the instance die with the
    // helper, and the ppid check closes the race where the helper died before the prctl (in a new pid
    // namespace the parent is outside and reads as 0, so the check only applies without one).
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        if !ctx.plan.pidns && libc::getppid() != ctx.helper_pid {
            return Err("the sandbox helper is gone".into());
        }
    }
    if ctx.plan.userns {
        write_file("/proc/self/setgroups", "deny")?;
        write_file("/proc/self/uid_map", &format!("{INSIDE_ID} {} 1", ctx.outer_uid))?;
        write_file("/proc/self/gid_map", &format!("{INSIDE_ID} {} 1", ctx.outer_gid))?;
    }
    #[allow(unsafe_code)]
    // SAFETY: prctl with integers. Nothing inside may read the reaper's memory or attach to it (after the
    // maps: a non-dumpable process cannot write its own /proc files).
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong);
    }
    if ctx.plan.mountns {
        rootfs::build_root(ctx)?;
    }
    if ctx.plan.utsns {
        let name = ctx.hostname.as_bytes();
        #[allow(unsafe_code)]
        // SAFETY: sethostname reads `len` bytes from a slice we own.
        check(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }, "sethostname")?;
    }
    if ctx.plan.netns {
        loopback_up()?;
    }
    #[allow(unsafe_code)]
    // SAFETY: fork in a single-threaded process; the child only runs `runtime`, which never returns.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if child == 0 {
        runtime(ctx);
    }
    // The reaper keeps no descriptor of the instance: EOF on the runtime's streams means it is gone.
    #[allow(unsafe_code)]
    // SAFETY: closing every descriptor from 3 up in this process, which needs none of them.
    unsafe {
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
    }
    Ok(reap(child, ctx.plan.pidns))
}

/// Reaps until the runtime exits and returns its status as an exit code.
fn reap(runtime: libc::pid_t, pidns: bool) -> i32 {
    loop {
        let mut status = 0;
        #[allow(unsafe_code)]
        // SAFETY: waitpid writes the status into our integer.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return 128 + libc::SIGKILL;
        }
        if pid != runtime {
            continue;
        }
        if !pidns {
            // Without a pid namespace the runtime's session is its group: kill what it left behind.
            crate::kill_group(runtime as u32);
        }
        return if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
    }
}

/// The runtime child: drops everything and execs. Never returns.
fn runtime(ctx: &Context<'_>) -> ! {
    let error = match drop_privileges_and_exec(ctx) {
        Ok(never) => match never {},
        Err(message) => message,
    };
    // Until the descriptors are wired the report socket still has its inherited number.
    let fd = if WIRED.load(Ordering::Relaxed) { 4 } else { ctx.report.as_raw_fd() };
    report(fd, &format!("E{error}"));
    #[allow(unsafe_code)]
    // SAFETY: ends this forked child.
    unsafe {
        libc::_exit(127)
    }
}

enum Never {}

/// Set in the runtime child once fd 4 is the report socket.
static WIRED: AtomicBool = AtomicBool::new(false);

fn drop_privileges_and_exec(ctx: &Context<'_>) -> Result<Never, String> {
    let job = ctx.job;
    // Everything the exec needs is built before the filters go on.
    let program = cstring(job.program.as_os_str().as_encoded_bytes())?;
    let mut argv: Vec<CString> = vec![program.clone()];
    for arg in &job.args {
        argv.push(cstring(arg.as_bytes())?);
    }
    let envp: Vec<CString> =
        job.env.iter().map(|(k, v)| cstring(format!("{k}={v}").as_bytes())).collect::<Result<_, _>>()?;
    let argv_ptrs: Vec<*const libc::c_char> =
        argv.iter().map(|a| a.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    let envp_ptrs: Vec<*const libc::c_char> =
        envp.iter().map(|e| e.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    let cwd = if ctx.plan.mountns { PathBuf::from(CODE_DIR) } else { job.code_dir.clone() };
    let cwd = cstring(cwd.as_os_str().as_encoded_bytes())?;
    let rules = landlock_rules(ctx);

    wire_descriptors(ctx)?;
    #[allow(unsafe_code)]
    // SAFETY: signal-mask and disposition resets with stack values; chdir with a NUL-terminated path.
    unsafe {
        // The helper blocks SIGCHLD and Rust ignores SIGPIPE; a runtime starts with neither.
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        for signal in 1..32 {
            if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                libc::signal(signal, libc::SIG_DFL);
            }
        }
        if !ctx.plan.pidns || job.terminal {
            libc::setsid();
        }
        if job.terminal {
            // The session's terminal becomes its controlling one, so ^C and job control work inside.
            check(libc::ioctl(0, libc::TIOCSCTTY, 0), "TIOCSCTTY")?;
        }
        check(libc::chdir(cwd.as_ptr()), "chdir /code")?;
    }
    set_limits(ctx)?;
    if let Some((uid, gid)) = runtime_ids(ctx)? {
        #[allow(unsafe_code)]
        // SAFETY: id changes with integer arguments. Changing every uid away from 0 clears all capabilities.
        unsafe {
            check(libc::setgroups(0, std::ptr::null()), "setgroups")?;
            check(libc::setresgid(gid, gid, gid), "setresgid")?;
            check(libc::setresuid(uid, uid, uid), "setresuid")?;
        }
        if uid == 0 {
            no_root_capabilities()?;
        }
    }
    #[allow(unsafe_code)]
    // SAFETY: prctl with integer arguments.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }, "no_new_privs")?;
    if ctx.plan.landlock > 0 {
        landlock::restrict(ctx.plan.landlock, &rules).map_err(|e| format!("landlock: {e}"))?;
    }
    report(4, "R");
    if let Some(filters) = ctx.filters {
        filters.install().map_err(|e| format!("seccomp: {e}"))?;
    }
    #[allow(unsafe_code)]
    // SAFETY: execve with NUL-terminated strings and null-terminated pointer arrays that live until the
    // call; it only returns on failure.
    unsafe {
        libc::execve(program.as_ptr(), argv_ptrs.as_ptr(), envp_ptrs.as_ptr());
    }
    Err(format!("exec {}: {}", job.program.display(), std::io::Error::last_os_error()))
}

/// The ids the runtime takes in root mode: its own uid, or for a session the owner of `/code` (the
/// current directory by now), so that what it installs there belongs to the user.
fn runtime_ids(ctx: &Context<'_>) -> Result<Option<(u32, u32)>, String> {
    let Some(uid) = ctx.uid else { return Ok(None) };
    if !ctx.job.terminal {
        return Ok(Some((uid, uid)));
    }
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(".").map_err(|e| format!("stat /code: {e}"))?;
    Ok(Some((meta.uid(), meta.gid())))
}

/// A session run as uid 0 (a root-owned code directory) keeps none of root's capabilities: none in
/// the bounding set, none ambient, and `SECBIT_NOROOT` (locked) so that `exec` grants root none.
fn no_root_capabilities() -> Result<(), String> {
    const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
    const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
    const SECBIT_NO_CAP_AMBIENT_RAISE: libc::c_ulong = 1 << 6;
    const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: libc::c_ulong = 1 << 7;
    let bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    #[allow(unsafe_code)]
    // SAFETY: prctl with integer arguments only.
    unsafe {
        check(libc::prctl(libc::PR_SET_SECUREBITS, bits), "PR_SET_SECUREBITS")?;
        check(libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient caps")?;
        for cap in 0..64 {
            if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 {
                let error = std::io::Error::last_os_error();
                // EINVAL: past the kernel's last capability, so every one is gone.
                if error.raw_os_error() == Some(libc::EINVAL) && cap > 0 {
                    break;
                }
                return Err(format!("drop capability {cap}: {error}"));
            }
        }
    }
    Ok(())
}

/// stdin from /dev/null (a session: its terminal), stdout/stderr to the server's pipes, the control socket at fd 3, the report
/// socket at fd 4 (close-on-exec), and nothing else.
fn wire_descriptors(ctx: &Context<'_>) -> Result<(), String> {
    #[allow(unsafe_code)]
    // SAFETY: descriptor juggling with integers. Sources are first copied above 100 so that no dup2 can
    // overwrite a source that is still needed.
    unsafe {
        let lift = |fd: RawFd| libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 100);
        let (control, stdout, stderr, report) = (
            lift(ctx.control.as_raw_fd()),
            lift(ctx.stdout.as_raw_fd()),
            lift(ctx.stderr.as_raw_fd()),
            lift(ctx.report.as_raw_fd()),
        );
        if [control, stdout, stderr, report].iter().any(|fd| *fd < 0) {
            return Err(format!("dup: {}", std::io::Error::last_os_error()));
        }
        if ctx.job.terminal {
            check(libc::dup2(stdout, 0), "dup2 stdin")?;
        } else {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
            check(null, "open /dev/null")?;
            check(libc::dup2(null, 0), "dup2 stdin")?;
        }
        check(libc::dup2(stdout, 1), "dup2 stdout")?;
        check(libc::dup2(stderr, 2), "dup2 stderr")?;
        check(libc::dup2(control, CONTROL_FD), "dup2 control")?;
        check(libc::dup3(report, 4, libc::O_CLOEXEC), "dup3 report")?;
        libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, 0u32);
    }
    WIRED.store(true, Ordering::Relaxed);
    Ok(())
}

fn set_limits(ctx: &Context<'_>) -> Result<(), String> {
    let limits = ctx.job.limits;
    let mut list = vec![
        (libc::RLIMIT_NOFILE, u64::from(limits.open_files)),
        (libc::RLIMIT_CORE, 0),
        // Counted per user (per user namespace in user-namespace mode): a fork bomb stops here even
        // without a pids cgroup.
        (libc::RLIMIT_NPROC, u64::from(limits.pids)),
    ];
    if !ctx.plan.cgroup {
        // Without a memory cgroup, RLIMIT_DATA is the bound, with headroom for the interpreter itself.
        list.push((libc::RLIMIT_DATA, (u64::from(limits.memory_mb) + 256) << 20));
    }
    for (resource, value) in list {
        let limit = libc::rlimit { rlim_cur: value as libc::rlim_t, rlim_max: value as libc::rlim_t };
        #[allow(unsafe_code)]
        // SAFETY: setrlimit reads a stack value.
        check(unsafe { libc::setrlimit(resource, &limit) }, "setrlimit")?;
    }
    Ok(())
}

fn landlock_rules(ctx: &Context<'_>) -> Vec<(PathBuf, Access)> {
    let job = ctx.job;
    let mut rules: Vec<(PathBuf, Access)> = vec![
        ("/usr".into(), Access::ReadExec),
        ("/etc".into(), Access::ReadExec),
        ("/proc".into(), Access::ReadExec),
        ("/dev".into(), Access::ReadWriteFiles),
    ];
    for dir in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
        rules.push((dir.into(), Access::ReadExec));
    }
    if let Some(root) = rootfs::interpreter_root(&job.program) {
        rules.push((root, Access::ReadExec));
    }
    if ctx.plan.mountns {
        // The fresh root holds only what is listed here, so listing it reveals nothing of the host.
        // A stem cell's `/code` is mounted after this ruleset is made, over the directory the rule below
        // names; landlock skips such hidden mount points when it walks up from a file, so a rule on
        // `/code` would not reach the code. The root's rule covers it instead: in a fresh root that
        // grants nothing more, since every tree in it is readable anyway (and writes stay `/tmp`'s).
        let root = if job.cell { Access::ReadExec } else { Access::List };
        rules.push(("/".into(), root));
        rules.push((rootfs::GENERATED_DIR.into(), Access::ReadExec));
        rules.push((CODE_DIR.into(), if job.terminal { Access::Full } else { Access::ReadExec }));
        rules.push((RUNTIME_DIR.into(), Access::ReadExec));
        if !job.layer_dirs.is_empty() {
            rules.push((crate::OPT_DIR.into(), Access::ReadExec));
        }
        rules.push((TMP_DIR.into(), Access::Full));
    } else {
        rules.push((job.code_dir.clone(), Access::ReadExec));
        rules.push((job.runtime_dir.clone(), Access::ReadExec));
        rules.extend(job.layer_dirs.iter().map(|dir| (dir.clone(), Access::ReadExec)));
        rules.push((job.scratch_dir.clone(), Access::Full));
    }
    rules
}

/// Brings `lo` up in a new network namespace (it starts down).
fn loopback_up() -> Result<(), String> {
    #[allow(unsafe_code)]
    // SAFETY: an AF_INET datagram socket for the interface ioctls, with an ifreq we own; closed after.
    unsafe {
        let socket = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        check(socket, "socket")?;
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let result = if libc::ioctl(socket, libc::SIOCGIFFLAGS, &mut request) < 0 {
            Err(format!("SIOCGIFFLAGS lo: {}", std::io::Error::last_os_error()))
        } else {
            request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            if libc::ioctl(socket, libc::SIOCSIFFLAGS, &request) < 0 {
                Err(format!("SIOCSIFFLAGS lo: {}", std::io::Error::last_os_error()))
            } else {
                Ok(())
            }
        };
        libc::close(socket);
        result
    }
}

/// Sends one report datagram (credentials ride along when the helper asked for them).
fn report(fd: RawFd, text: &str) {
    #[allow(unsafe_code)]
    // SAFETY: send with a slice we own.
    unsafe {
        libc::send(fd, text.as_ptr().cast(), text.len(), libc::MSG_NOSIGNAL);
    }
}

fn write_file(path: &str, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("write {path}: {e}"))
}

pub(crate) fn cstring(bytes: &[u8]) -> Result<CString, String> {
    CString::new(bytes).map_err(|_| "a string holds a NUL byte".to_string())
}

pub(crate) fn cpath(path: &Path) -> Result<CString, String> {
    cstring(path.as_os_str().as_encoded_bytes())
}

pub(crate) fn check(rc: i32, what: &str) -> Result<(), String> {
    if rc < 0 {
        return Err(format!("{what}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}
