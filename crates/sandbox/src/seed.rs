//! A seed: a fork of the helper, placed in a fresh cgroup ahead of demand (joining a cgroup is the slow
//! part of a spawn). It waits for one [`SeedOrder`], clones the instance's reaper into new namespaces as
//! the helper's own child (`CLONE_PARENT`), reports the reaper's pid and exits.

use std::os::fd::{AsRawFd, OwnedFd};

use crate::confine::{self, Context, Plan};
use crate::seccomp::Filters;
use crate::wire::{self, HelperConfig, Job};

/// What a seed keeps of the helper that forked it.
pub(crate) struct Inherited<'a> {
    pub config: &'a HelperConfig,
    pub filters: Option<&'a Filters>,
    /// The helper's uid and gid, mapped inside user namespaces.
    pub outer: (u32, u32),
    pub helper_pid: i32,
}

/// What a seed is told. Descriptors: control socket, stdout, stderr, report socket.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct SeedOrder {
    pub job: Job,
    pub plan: Plan,
    pub uid: Option<u32>,
    pub hostname: String,
}

/// A seed: waits for its order, clones the reaper as the helper's child, reports its pid, exits.
pub(crate) fn seed_main(helper: Inherited<'_>, socket: OwnedFd) -> ! {
    #[allow(unsafe_code)]
    // SAFETY: prctl with integers and close_range around the one descriptor the seed keeps; `_exit` at the
    // end leaves without running the helper's exit handlers.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        let keep = socket.as_raw_fd() as u32;
        if keep > 3 {
            libc::syscall(libc::SYS_close_range, 3u32, keep - 1, 0u32);
        }
        libc::syscall(libc::SYS_close_range, keep + 1, u32::MAX, 0u32);
    }
    let code = seed_order(&helper, &socket);
    #[allow(unsafe_code)]
    // SAFETY: see above.
    unsafe {
        libc::_exit(code)
    }
}

fn seed_order(helper: &Inherited<'_>, socket: &OwnedFd) -> i32 {
    let Ok(received) = wire::recv(socket.as_raw_fd(), 0) else { return 1 };
    let Ok(order) = serde_json::from_slice::<SeedOrder>(&received.bytes) else { return 1 };
    let Ok([control, stdout, stderr, report]): Result<[OwnedFd; 4], _> = received.fds.try_into() else { return 1 };
    let plan = order.plan;
    let mut flags = (libc::SIGCHLD | libc::CLONE_PARENT) as libc::c_ulong;
    for (on, flag) in [
        (plan.userns, libc::CLONE_NEWUSER),
        (plan.mountns, libc::CLONE_NEWNS),
        (plan.pidns, libc::CLONE_NEWPID),
        (plan.netns, libc::CLONE_NEWNET),
        (plan.ipcns, libc::CLONE_NEWIPC),
        (plan.utsns, libc::CLONE_NEWUTS),
    ] {
        if on {
            flags |= flag as libc::c_ulong;
        }
    }
    let context = Context {
        job: &order.job,
        plan,
        root_mount_point: &helper.config.root_mount_point,
        etc_template: &helper.config.etc_template,
        uid: order.uid,
        outer_uid: helper.outer.0,
        outer_gid: helper.outer.1,
        hostname: &order.hostname,
        filters: helper.filters,
        control: &control,
        stdout: &stdout,
        stderr: &stderr,
        report: &report,
        helper_pid: helper.helper_pid,
    };
    #[allow(unsafe_code)]
    // SAFETY: a fork-like clone (no new stack) of this single-threaded process. CLONE_PARENT makes the
    // reaper the helper's child, so the helper reaps it; the child runs only `reaper`, which never returns.
    let pid = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) } as i32;
    if pid == 0 {
        confine::reaper(&context);
    }
    let message = if pid < 0 { format!("Eclone: {}", std::io::Error::last_os_error()) } else { format!("P{pid}") };
    let _ = wire::send_bytes(report.as_raw_fd(), message.as_bytes(), &[], 0);
    0
}
