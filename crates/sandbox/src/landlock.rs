//! Landlock, through its three system calls: the runtime may read and execute only the trees it is given,
//! write only its scratch space, and (ABI 6+) may neither signal processes outside its domain nor reach
//! abstract unix sockets made outside it. It backs up the mount namespace: with a fresh root the paths are
//! already all there is; without one (no mount namespace) landlock is the filesystem boundary.

use std::ffi::CString;
use std::path::{Path, PathBuf};

const CREATE_RULESET_VERSION: u32 = 1;
const RULE_PATH_BENEATH: libc::c_int = 1;

const EXECUTE: u64 = 1 << 0;
const WRITE_FILE: u64 = 1 << 1;
const READ_FILE: u64 = 1 << 2;
const READ_DIR: u64 = 1 << 3;
/// Everything ABI 1 handles: execute, read, write and every make/remove.
const ABI1_ALL: u64 = (1 << 13) - 1;
const REFER: u64 = 1 << 13;
const TRUNCATE: u64 = 1 << 14;
const IOCTL_DEV: u64 = 1 << 15;
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// What a tree may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// List directories (and nothing beneath gets more than that).
    List,
    /// Read, list and execute.
    ReadExec,
    /// Read and write files that exist (devices like `/dev/null`).
    ReadWriteFiles,
    /// Everything, including making and removing entries.
    Full,
}

/// The landlock ABI this kernel offers, 0 when none.
pub(crate) fn abi() -> u32 {
    #[allow(unsafe_code)]
    // SAFETY: the version query takes a null attribute pointer and size 0 by definition.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(version).unwrap_or(0)
}

/// Restricts the calling process (and what it execs) to `rules`. Requires `no_new_privs` first.
/// Paths that do not exist are skipped: not every machine has every tree.
pub(crate) fn restrict(abi: u32, rules: &[(PathBuf, Access)]) -> std::io::Result<()> {
    if abi == 0 {
        return Ok(());
    }
    let mut handled = ABI1_ALL;
    if abi >= 2 {
        handled |= REFER;
    }
    if abi >= 3 {
        handled |= TRUNCATE;
    }
    if abi >= 5 {
        handled |= IOCTL_DEV;
    }
    let attr = RulesetAttr {
        handled_access_fs: handled,
        handled_access_net: 0,
        scoped: if abi >= 6 { SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL } else { 0 },
    };
    // Older ABIs reject attribute bytes they do not know, so the struct is cut to what they read.
    let size = if abi >= 6 {
        24
    } else if abi >= 4 {
        16
    } else {
        8
    };
    #[allow(unsafe_code)]
    // SAFETY: attr lives across the call and `size` never exceeds its length.
    let ruleset = unsafe { libc::syscall(libc::SYS_landlock_create_ruleset, &attr as *const RulesetAttr, size, 0u32) };
    if ruleset < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let ruleset = ruleset as libc::c_int;
    let result = add_rules(ruleset, handled, rules).and_then(|()| {
        #[allow(unsafe_code)]
        // SAFETY: restrict_self takes the ruleset descriptor and zero flags.
        let rc = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0u32) };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    });
    #[allow(unsafe_code)]
    // SAFETY: closing the ruleset descriptor we created.
    unsafe {
        libc::close(ruleset);
    }
    result
}

fn add_rules(ruleset: libc::c_int, handled: u64, rules: &[(PathBuf, Access)]) -> std::io::Result<()> {
    for (path, access) in rules {
        let Some(fd) = open_path(path) else { continue };
        let is_dir = std::fs::metadata(path).is_ok_and(|m| m.is_dir());
        let mut allowed = match access {
            Access::List => READ_DIR,
            Access::ReadExec => EXECUTE | READ_FILE | READ_DIR,
            Access::ReadWriteFiles => READ_FILE | WRITE_FILE | READ_DIR | TRUNCATE | IOCTL_DEV,
            Access::Full => u64::MAX,
        } & handled;
        if !is_dir {
            // Rules on files may only carry file rights.
            allowed &= EXECUTE | READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV;
        }
        let attr = PathBeneathAttr { allowed_access: allowed, parent_fd: fd };
        #[allow(unsafe_code)]
        // SAFETY: attr is a packed struct that outlives the call; fd is ours and closed right after.
        let rc = unsafe {
            let rc = libc::syscall(
                libc::SYS_landlock_add_rule,
                ruleset,
                RULE_PATH_BENEATH,
                &attr as *const PathBeneathAttr,
                0u32,
            );
            libc::close(fd);
            rc
        };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn open_path(path: &Path) -> Option<libc::c_int> {
    let c_path = CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    #[allow(unsafe_code)]
    // SAFETY: open with a NUL-terminated path and integer flags.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    (fd >= 0).then_some(fd)
}
