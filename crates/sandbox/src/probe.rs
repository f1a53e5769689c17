//! What the machine allows: namespaces (tried in a throwaway child), seccomp, landlock and cgroups, with
//! one line for each thing best-effort mode will do without.

use crate::cgroup::Driver;
use crate::seccomp::{self, Filters};
use crate::wire::Features;

/// What this machine allows, and a line for each thing best-effort mode will do without.
pub(crate) fn probe() -> (Features, Vec<String>, Driver, Option<Filters>) {
    #[allow(unsafe_code)]
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let namespaces = probe_namespaces(root);
    let has = |flag: libc::c_int| namespaces.iter().any(|(f, ok)| *f == flag && *ok);
    let userns = has(libc::CLONE_NEWUSER);
    let mut missing = Vec::new();
    let usable = root || userns;
    if !usable {
        missing.push(
            "user namespaces: not available to this user, so no namespace can be made (instances share the \
             host's filesystem view, processes and network; landlock and seccomp still apply)"
                .to_string(),
        );
    }
    let mut flag = |name: &str, flag: libc::c_int, consequence: &str| -> bool {
        let ok = usable && has(flag);
        if usable && !ok {
            missing.push(format!("{name} namespace: {consequence}"));
        }
        ok
    };
    let mountns = flag("mount", libc::CLONE_NEWNS, "instances see the host's filesystem, guarded by landlock only");
    let pidns = flag("pid", libc::CLONE_NEWPID, "instances can see host processes");
    let netns = flag("network", libc::CLONE_NEWNET, "internetAccess=false cannot be enforced");
    let ipcns = flag("ipc", libc::CLONE_NEWIPC, "instances share System V IPC with the host");
    let utsns = flag("uts", libc::CLONE_NEWUTS, "instances see the host's name");
    let filters = if seccomp::available() {
        match seccomp::compile() {
            Ok(filters) => Some(filters),
            Err(e) => {
                missing.push(format!("seccomp: cannot build the filter: {e}"));
                None
            }
        }
    } else {
        missing.push("seccomp: not supported by this kernel".into());
        None
    };
    let landlock = crate::landlock::abi();
    if landlock == 0 {
        missing.push("landlock: not supported by this kernel".into());
    }
    let overlay =
        std::fs::read_to_string("/proc/filesystems").is_ok_and(|t| t.lines().any(|l| l.ends_with("\toverlay")));
    if mountns && !overlay {
        missing.push(
            "overlayfs: the code, bootstraps and /etc are plain binds, so an instance's /proc/self/mountinfo \
             names their host paths"
                .into(),
        );
    }
    let (driver, cgroup_problem) = Driver::detect();
    if let Some(problem) = cgroup_problem {
        missing.push(format!("{problem}; memory is bounded by RLIMIT_DATA and processes by RLIMIT_NPROC"));
    }
    let features = Features {
        root,
        userns,
        mountns,
        pidns,
        netns,
        ipcns,
        utsns,
        seccomp: filters.is_some(),
        landlock,
        cgroup: driver.kind(),
        overlay,
        // Set by the helper once it has its empty layer (`helper_main`).
        cells: false,
    };
    (features, missing, driver, filters)
}

/// Tries each namespace in a throwaway child (user namespace first when not root).
fn probe_namespaces(root: bool) -> Vec<(libc::c_int, bool)> {
    let flags = [libc::CLONE_NEWNS, libc::CLONE_NEWPID, libc::CLONE_NEWNET, libc::CLONE_NEWIPC, libc::CLONE_NEWUTS];
    #[allow(unsafe_code)]
    // SAFETY: fork of this single-threaded process; the child only calls unshare and _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let mut bits = 0;
        #[allow(unsafe_code)]
        // SAFETY: unshare and _exit with integers. Root tries the namespaces as itself (its instances
        // use no user namespace) and the user namespace last, for the record.
        unsafe {
            let user_ok = !root && libc::unshare(libc::CLONE_NEWUSER) == 0;
            if root || user_ok {
                for (i, flag) in flags.iter().enumerate() {
                    if libc::unshare(*flag) == 0 {
                        bits |= 2 << i;
                    }
                }
            }
            if user_ok || (root && libc::unshare(libc::CLONE_NEWUSER) == 0) {
                bits |= 1;
            }
            libc::_exit(bits);
        }
    }
    let mut status = 0;
    if pid > 0 {
        #[allow(unsafe_code)]
        // SAFETY: waitpid on our child.
        unsafe {
            libc::waitpid(pid, &mut status, 0);
        }
    }
    let bits = if pid > 0 && libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 0 };
    let mut found = vec![(libc::CLONE_NEWUSER, bits & 1 != 0)];
    for (i, flag) in flags.iter().enumerate() {
        found.push((*flag, bits & (2 << i) != 0));
    }
    found
}
