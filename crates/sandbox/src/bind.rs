//! Filling a running stem cell: the helper shows a function's trees read-only inside a cell that was
//! started with an empty `/code`.
//!
//! The cell's root was pivoted into long ago, so no host path can be resolved from inside it. The mounts
//! are therefore made on the host's side and moved in: a forked child of the helper builds each one as a
//! detached read-only overlay with the new mount API (`fsopen`, `fsconfig`, `fsmount`; its layers named
//! by `/proc/self/fd/<n>`, so the cell's mount table shows no host path, as [`crate::rootfs`]' overlays
//! do), then enters the cell's mount namespace (`setns`) and attaches them (`move_mount`). The child exits
//! after; the helper itself never changes namespace. Nothing is left on the host: a detached mount lives
//! only as long as the namespace it is moved into.
//!
//! Why not slave propagation from a per-cell host mount point: those host mount points outlive a helper
//! killed by `kill -9`, and the cell's mount table would name them.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Component, Path};

use crate::confine::{check, cpath, cstring};
use crate::wire::BindMount;

const FSOPEN_CLOEXEC: u32 = 1;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;
const FSMOUNT_CLOEXEC: u32 = 1;
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;

/// Most trees one bind may show (the code and a function's layers).
pub(crate) const MAX_MOUNTS: usize = 8;

/// Whether this kernel offers the new mount API for overlays (probed once by the helper).
pub(crate) fn available() -> bool {
    match fs_open("overlay") {
        Ok(fd) => {
            drop(fd);
            true
        }
        Err(_) => false,
    }
}

/// Whether stem cells can work here: the helper must mount into a running instance as root, with the
/// new mount API and a usable empty layer. Without that the server starts every instance the normal way
/// (nothing is weaker for it, so no line in `missing`).
pub(crate) fn cells_possible(features: &crate::wire::Features, empty_layer: &Path) -> bool {
    features.root && features.mountns && features.overlay && available() && make_empty_layer(empty_layer).is_ok()
}

/// The empty directory stem cells' overlays take as their second layer: made (or checked) at start.
fn make_empty_layer(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o555))?;
    if std::fs::read_dir(path)?.next().is_some() {
        return Err(std::io::Error::other("not empty"));
    }
    Ok(())
}

/// Serves one bind request. `cell` is the instance's reaper pid and its "unbound cell" mark, if the
/// instance exists. Refused for anything but an unbound cell (a normal instance, a bound cell); the mark
/// is cleared before binding, whatever happens next: a half-bound cell is killed by the server, never
/// reused.
pub(crate) fn fill(
    cells: bool,
    cell: Option<(i32, &mut bool)>,
    mounts: &[BindMount],
    empty: &Path,
) -> Result<(), String> {
    if !cells {
        return Err("this sandbox has no stem cells".into());
    }
    validate(mounts)?;
    let (reaper, unbound) = cell.ok_or("no such instance")?;
    if !*unbound {
        return Err("not an unbound stem cell".into());
    }
    *unbound = false;
    bind(reaper, mounts, empty)
}

/// Checks a bind request before anything is forked: a few absolute, plain paths.
pub(crate) fn validate(mounts: &[BindMount]) -> Result<(), String> {
    if mounts.is_empty() || mounts.len() > MAX_MOUNTS {
        return Err(format!("a bind takes 1 to {MAX_MOUNTS} mounts"));
    }
    for mount in mounts {
        let plain = |p: &Path| {
            p.is_absolute() && p.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
        };
        if !plain(&mount.host) || !plain(&mount.inside) || mount.inside == Path::new("/") {
            return Err(format!("not a plain absolute path: {} -> {}", mount.host.display(), mount.inside.display()));
        }
        if !mount.host.is_dir() {
            return Err(format!("not a directory: {}", mount.host.display()));
        }
    }
    Ok(())
}

/// Shows `mounts` inside the mount namespace of `reaper` (a cell's pid 1, the helper's child), each as
/// a read-only overlay of its host tree and `empty`. Blocks until done; runs in a forked child.
fn bind(reaper: i32, mounts: &[BindMount], empty: &Path) -> Result<(), String> {
    let (read, write) = pipe()?;
    // Everything the child needs, prepared before the fork.
    let namespace = cpath(Path::new(&format!("/proc/{reaper}/ns/mnt")))?;
    let targets: Vec<CString> = mounts.iter().map(|m| cpath(&m.inside)).collect::<Result<_, _>>()?;
    #[allow(unsafe_code)]
    // SAFETY: fork of the single-threaded helper; the child only runs `attach` and `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    if pid == 0 {
        drop(read);
        let code = match attach(mounts, empty, &namespace, &targets) {
            Ok(()) => 0,
            Err(message) => {
                #[allow(unsafe_code)]
                // SAFETY: write from a slice we own to our pipe end.
                unsafe {
                    libc::write(write.as_raw_fd(), message.as_ptr().cast(), message.len());
                }
                1
            }
        };
        #[allow(unsafe_code)]
        // SAFETY: ends the forked child without running the helper's exit handlers.
        unsafe {
            libc::_exit(code)
        }
    }
    drop(write);
    let mut message = Vec::new();
    let mut buffer = [0u8; 512];
    loop {
        #[allow(unsafe_code)]
        // SAFETY: read into a buffer we own.
        let n = unsafe { libc::read(read.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
        if n > 0 {
            message.extend_from_slice(&buffer[..n as usize]);
        } else if n == 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            break;
        }
    }
    let mut status = 0;
    #[allow(unsafe_code)]
    // SAFETY: waitpid on the child we just forked (reaped here, before the helper's reap loop can).
    unsafe {
        libc::waitpid(pid, &mut status, 0);
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    if message.is_empty() {
        return Err("the bind child failed".into());
    }
    Err(String::from_utf8_lossy(&message).into_owned())
}

/// The child: builds every overlay on the host's side, then enters the cell and attaches them.
fn attach(mounts: &[BindMount], empty: &Path, namespace: &CString, targets: &[CString]) -> Result<(), String> {
    let empty_fd = open_path(empty)?;
    let mut detached = Vec::with_capacity(mounts.len());
    for mount in mounts {
        let lower = open_path(&mount.host)?;
        let layers = format!("/proc/self/fd/{}:/proc/self/fd/{}", lower.as_raw_fd(), empty_fd.as_raw_fd());
        let context = fs_open("overlay").map_err(|e| format!("fsopen overlay: {e}"))?;
        fs_config(&context, "source", Some("ferric"))?;
        fs_config(&context, "lowerdir", Some(&layers))?;
        fs_create(&context).map_err(|e| format!("{e} (overlay of {})", mount.host.display()))?;
        let mut attributes = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        if crate::rootfs::locked_flags(&mount.host) & libc::MS_NOEXEC != 0 {
            attributes |= MOUNT_ATTR_NOEXEC;
        }
        #[allow(unsafe_code)]
        // SAFETY: fsmount with a configured context descriptor we own; a non-negative result is a new
        // descriptor we then own.
        let fd = unsafe { libc::syscall(libc::SYS_fsmount, context.as_raw_fd(), FSMOUNT_CLOEXEC, attributes) } as RawFd;
        check(fd, "fsmount")?;
        #[allow(unsafe_code)]
        // SAFETY: see above.
        detached.push(unsafe { OwnedFd::from_raw_fd(fd) });
        // The layers stay referenced by the mount itself.
        drop(lower);
    }
    #[allow(unsafe_code)]
    // SAFETY: open and setns with a NUL-terminated path and integers; this child is single-threaded.
    unsafe {
        let ns = libc::open(namespace.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        check(ns, "open the cell's mount namespace")?;
        let entered = libc::setns(ns, libc::CLONE_NEWNS);
        libc::close(ns);
        check(entered, "setns")?;
    }
    for (fd, target) in detached.iter().zip(targets) {
        #[allow(unsafe_code)]
        // SAFETY: move_mount with a detached mount descriptor we own and NUL-terminated paths.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_move_mount,
                fd.as_raw_fd(),
                c"".as_ptr(),
                libc::AT_FDCWD,
                target.as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH,
            )
        } as i32;
        check(rc, &format!("move_mount to {}", target.to_string_lossy()))?;
    }
    Ok(())
}

fn fs_open(name: &str) -> std::io::Result<OwnedFd> {
    let name = CString::new(name).map_err(std::io::Error::other)?;
    #[allow(unsafe_code)]
    // SAFETY: fsopen with a NUL-terminated name; a non-negative result is a new descriptor we own.
    unsafe {
        let fd = libc::syscall(libc::SYS_fsopen, name.as_ptr(), FSOPEN_CLOEXEC) as RawFd;
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

fn fs_config(context: &OwnedFd, key: &str, value: Option<&str>) -> Result<(), String> {
    let key_c = cstring(key.as_bytes())?;
    let value_c = value.map(|v| cstring(v.as_bytes())).transpose()?;
    let value_ptr = value_c.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
    #[allow(unsafe_code)]
    // SAFETY: fsconfig with our context descriptor and NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::syscall(libc::SYS_fsconfig, context.as_raw_fd(), FSCONFIG_SET_STRING, key_c.as_ptr(), value_ptr, 0)
    } as i32;
    check(rc, &format!("fsconfig {key}"))
}

fn fs_create(context: &OwnedFd) -> Result<(), String> {
    #[allow(unsafe_code)]
    // SAFETY: fsconfig's create command takes no key or value.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            context.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    } as i32;
    check(rc, "fsconfig create")
}

fn open_path(path: &Path) -> Result<OwnedFd, String> {
    let c_path = cpath(path)?;
    #[allow(unsafe_code)]
    // SAFETY: open with a NUL-terminated path; a non-negative result is a descriptor we now own.
    unsafe {
        let fd = libc::open(c_path.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC);
        check(fd, &format!("open {}", path.display()))?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0; 2];
    #[allow(unsafe_code)]
    // SAFETY: pipe2 writes two new descriptors into our array; we own both from here.
    unsafe {
        check(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), "pipe")?;
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_absolute_directories_are_bound() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ok = BindMount { host: dir.path().to_path_buf(), inside: "/code".into() };
        assert!(validate(std::slice::from_ref(&ok)).is_ok());
        assert!(validate(&[]).is_err(), "nothing to bind");
        for (host, inside) in [
            (dir.path().to_path_buf(), "code".into()),
            (dir.path().to_path_buf(), "/code/../etc".into()),
            (dir.path().to_path_buf(), "/".into()),
            (dir.path().join("missing"), "/code".into()),
            (dir.path().join(".."), "/code".into()),
        ] {
            assert!(validate(&[BindMount { host, inside }]).is_err());
        }
        assert!(validate(&vec![ok; MAX_MOUNTS + 1]).is_err(), "bounded");
    }
}
