//! The seccomp filter every runtime gets last, just before `exec`: a deny list of the calls a function
//! never needs and an escape would (debugging other processes, changing mounts or namespaces, kernel
//! modules and images, eBPF, perf, keyrings, userfaultfd, cross-process memory access). Denied calls
//! fail with `EPERM`, so runtimes see an ordinary error rather than a crash. `clone3` answers `ENOSYS`
//! (its flags hide behind a pointer the filter cannot read) and the C library falls back to `clone`,
//! whose flags are checked: no new namespaces.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
};

/// System calls that always fail with `EPERM` inside an instance.
const DENIED: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_userfaultfd,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_syslog,
    libc::SYS_lookup_dcookie,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
];

/// `clone` flags that would make namespaces.
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

/// The two filters, compiled once when the helper starts and installed in every runtime.
pub(crate) struct Filters {
    pub deny: BpfProgram,
    pub clone3: BpfProgram,
}

pub(crate) fn compile() -> Result<Filters, String> {
    let arch = seccompiler::TargetArch::try_from(std::env::consts::ARCH).map_err(|e| e.to_string())?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = DENIED.iter().map(|nr| (*nr, Vec::new())).collect();
    // x86_64 passes clone's flags first (aarch64 too); any namespace bit set is refused.
    let clone_rules = NAMESPACE_FLAGS
        .iter()
        .map(|flag| {
            let bit = *flag as u64;
            SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(bit), bit)
                .and_then(|c| SeccompRule::new(vec![c]))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    rules.insert(libc::SYS_clone, clone_rules);
    let deny = SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32), arch)
        .and_then(BpfProgram::try_from)
        .map_err(|e| e.to_string())?;
    let clone3 = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .and_then(BpfProgram::try_from)
    .map_err(|e| e.to_string())?;
    Ok(Filters { deny, clone3 })
}

impl Filters {
    /// Installs both filters on the calling thread (single-threaded here: the child before `exec`).
    pub fn install(&self) -> std::io::Result<()> {
        for program in [&self.deny, &self.clone3] {
            seccompiler::apply_filter(program).map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        Ok(())
    }
}

/// Whether this kernel takes seccomp filters.
pub(crate) fn available() -> bool {
    #[allow(unsafe_code)]
    // SAFETY: PR_GET_SECCOMP takes no pointers.
    let mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP) };
    mode >= 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn filters_compile_for_this_machine() {
        let filters = super::compile().expect("compile");
        assert!(filters.deny.len() > super::DENIED.len());
        assert!(!filters.clone3.is_empty());
    }
}
