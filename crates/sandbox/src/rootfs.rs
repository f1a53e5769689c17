//! The instance's root filesystem, built by the reaper in its new mount namespace: a tmpfs root holding
//! read-only binds of `/usr`, the curated `/etc` (a template the helper builds once), the code, the
//! runtime bootstraps and the interpreter's installation, a private tmpfs `/tmp`, a minimal `/dev` and a
//! fresh `/proc`; then `pivot_root` into it, the old root detached, and the root itself made read-only.
//!
//! The data directory's trees (code, bootstraps, `/etc`) are not plain binds: `/proc/self/mountinfo` shows a
//! bind's root as its path within the source filesystem, which would name the host's data directory and
//! the code checksum. They come in as read-only overlays instead, whose root is `/` of their own
//! superblock and whose layers are named by `/proc/self/fd/<n>` (see [`overlay_read_only`]).

use std::ffi::CString;
use std::path::{Path, PathBuf};

use crate::confine::{check, cpath, cstring, Context, INSIDE_ID};
use crate::wire::Network;
use crate::{CODE_DIR, OPT_DIR, RUNTIME_DIR, TMP_DIR};

/// Host `/etc` entries a runtime may read; the rest of `/etc` is not there.
const SHARED_ETC: &[&str] = &[
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "ssl",
    "ca-certificates",
    "ca-certificates.conf",
    "alternatives",
    "localtime",
    "timezone",
    "nsswitch.conf",
    "host.conf",
    "gai.conf",
    "protocols",
    "services",
    "mime.types",
];

/// The host-wide knobs under `/proc` a session sees read-only.
const PROC_KERNEL: &[&str] = &["sys", "sysrq-trigger", "bus", "fs", "irq"];

/// Host devices bound into the minimal `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// An interpreter outside `/usr` (pyenv, nvm, /opt) brings its installation: `<root>/bin/<program>`.
pub(crate) fn interpreter_root(program: &Path) -> Option<PathBuf> {
    if program.starts_with("/usr") {
        return None;
    }
    let root = program.parent()?.parent()?;
    (root != Path::new("/")).then(|| root.to_path_buf())
}

/// Mounts the instance's root over the mount point and pivots into it.
pub(crate) fn build_root(ctx: &Context<'_>) -> Result<(), String> {
    let job = ctx.job;
    let root = ctx.root_mount_point;
    let at = |inside: &str| root.join(inside.trim_start_matches('/'));
    mount(None, Path::new("/"), None, libc::MS_REC | libc::MS_PRIVATE, None)?;
    mount(
        Some("tmpfs"),
        root,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
        Some("size=4m,nr_inodes=4096,mode=755"),
    )?;

    for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let host = Path::new("/").join(top);
        match std::fs::symlink_metadata(&host) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&host).map_err(|e| format!("readlink {top}: {e}"))?;
                std::os::unix::fs::symlink(target, at(top)).map_err(|e| format!("symlink {top}: {e}"))?;
            }
            Ok(meta) if meta.is_dir() => bind_read_only(&host, &at(top))?,
            _ => {}
        }
    }
    bind_read_only(Path::new("/usr"), &at("/usr"))?;
    let empty = if ctx.plan.overlay { Some(EmptyLayer::new(&at("/.empty"))?) } else { None };
    build_etc(ctx, root, empty.as_ref())?;
    if job.cell {
        // A stem cell: the helper shows the function's code here later (`bind`).
        make_dir(&at(CODE_DIR))?;
    } else if job.terminal {
        // A session (`ferric sbox`) installs dependencies into the code: the user's own directory.
        bind(&job.code_dir, &at(CODE_DIR), 0)?;
    } else {
        data_read_only(&job.code_dir, &at(CODE_DIR), empty.as_ref())?;
    }
    if !job.layer_dirs.is_empty() {
        // Before the bootstraps: their mount point lies inside the merged tree.
        mount_layers(&job.layer_dirs, &at(OPT_DIR), &at("/.layers-stub"), ctx.plan.overlay)?;
    }
    data_read_only(&job.runtime_dir, &at(RUNTIME_DIR), empty.as_ref())?;
    if let Some(empty) = empty {
        empty.remove()?;
    }
    let mut installs: Vec<PathBuf> = Vec::new();
    for program in std::iter::once(&job.program).chain(&job.tools) {
        match interpreter_root(program) {
            Some(install) if !installs.contains(&install) => installs.push(install),
            _ => {}
        }
    }
    for install in installs {
        bind_read_only(&install, &root.join(install.strip_prefix("/").unwrap_or(&install)))?;
    }
    let tmp = at(TMP_DIR);
    make_dir(&tmp)?;
    let tmp_options = format!("size={}m,mode=1777", job.limits.tmp_mb);
    mount(Some("tmpfs"), &tmp, Some("tmpfs"), libc::MS_NOSUID | libc::MS_NODEV, Some(&tmp_options))?;
    build_dev(&at("/dev"), job.terminal)?;
    let proc_dir = at("/proc");
    make_dir(&proc_dir)?;
    mount(Some("proc"), &proc_dir, Some("proc"), libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC, None)?;
    if job.terminal {
        // A session may run as uid 0 (without capabilities), which the kernel's own files in /proc
        // would still obey: they become read-only, as container runtimes make them.
        for kernel in PROC_KERNEL {
            let path = proc_dir.join(kernel);
            if path.exists() {
                bind(&path, &path, libc::MS_RDONLY)?;
            }
        }
    }

    let old = at("/.old");
    make_dir(&old)?;
    let new_root = cpath(root)?;
    let put_old = cpath(&old)?;
    #[allow(unsafe_code)]
    // SAFETY: pivot_root and chdir with NUL-terminated paths we own.
    unsafe {
        check(libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) as i32, "pivot_root")?;
        check(libc::chdir(c"/".as_ptr()), "chdir /")?;
        check(libc::umount2(c"/.old".as_ptr(), libc::MNT_DETACH), "umount old root")?;
        libc::rmdir(c"/.old".as_ptr());
    }
    // The root itself (the mount points and generated /etc files) becomes read-only last.
    mount(
        None,
        Path::new("/"),
        None,
        libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
        None,
    )
}

/// The generated `/etc` files: the template links them to `/run/ferric`, written per instance.
const GENERATED_ETC: &[&str] = &["passwd", "group", "hostname", "hosts", "resolv.conf"];
pub(crate) const GENERATED_DIR: &str = "/run/ferric";

/// Builds the curated `/etc` template once, when the helper starts: world-readable copies of the
/// [`SHARED_ETC`] entries (symlinks kept as symlinks; nothing only root may read, such as TLS private
/// keys, is copied) and links for the generated files. Each instance then needs one bind, not one per
/// entry (binding each cost about 0.4 ms of every cold start).
pub(crate) fn build_etc_template(template: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(template) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::create_dir_all(template)?;
    for name in SHARED_ETC {
        copy_world_readable(&Path::new("/etc").join(name), &template.join(name))?;
    }
    // Debian's JDKs keep their configuration (jvm.cfg, java.security) in /etc/java-<n>-openjdk.
    for entry in std::fs::read_dir("/etc")?.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("java-") {
            copy_world_readable(&entry.path(), &template.join(&name))?;
        }
    }
    for name in GENERATED_ETC {
        std::os::unix::fs::symlink(Path::new(GENERATED_DIR).join(name), template.join(name))?;
    }
    Ok(())
}

fn copy_world_readable(source: &Path, target: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(source) else { return Ok(()) };
    let mode = meta.permissions().mode();
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(source)?, target)
    } else if meta.is_dir() {
        if mode & 0o005 != 0o005 {
            return Ok(());
        }
        std::fs::create_dir(target)?;
        for entry in std::fs::read_dir(source)? {
            let entry = entry?;
            copy_world_readable(&entry.path(), &target.join(entry.file_name()))?;
        }
        Ok(())
    } else if meta.is_file() && mode & 0o004 != 0 {
        std::fs::copy(source, target).map(drop)
    } else {
        Ok(())
    }
}

/// `/etc` from the template, and this instance's generated files behind its links.
fn build_etc(ctx: &Context<'_>, root: &Path, empty: Option<&EmptyLayer>) -> Result<(), String> {
    data_read_only(ctx.etc_template, &root.join("etc"), empty)?;
    let generated = root.join(GENERATED_DIR.trim_start_matches('/'));
    make_dir(&generated)?;
    let (uid, gid) = ctx.uid.map_or((INSIDE_ID, INSIDE_ID), |u| (u, u));
    let mut files = vec![
        ("passwd", format!("root:x:0:0:root:/root:/bin/sh\nsbx_user:x:{uid}:{gid}:function:{TMP_DIR}:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")),
        ("group", format!("root:x:0:\nsbx_user:x:{gid}:\nnogroup:x:65534:\n")),
        ("hostname", format!("{}\n", ctx.hostname)),
        ("hosts", format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{}\n", ctx.hostname)),
    ];
    if ctx.job.network == Network::Host {
        // Name resolution as the host has it; an isolated instance has nothing to resolve with.
        if let Ok(text) = std::fs::read_to_string("/etc/resolv.conf") {
            files.push(("resolv.conf", text));
        }
    }
    for (name, text) in files {
        std::fs::write(generated.join(name), text).map_err(|e| format!("write /etc/{name}: {e}"))?;
    }
    Ok(())
}

/// `/dev`; a session's also has `tty` (the caller's controlling terminal, its pty).
fn build_dev(dev: &Path, terminal: bool) -> Result<(), String> {
    make_dir(dev)?;
    mount(
        Some("tmpfs"),
        dev,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NOEXEC,
        Some("size=64k,nr_inodes=64,mode=755"),
    )?;
    for name in DEVICES.iter().chain(terminal.then_some(&"tty")) {
        let inside = dev.join(name);
        std::fs::File::create(&inside).map_err(|e| format!("create /dev/{name}: {e}"))?;
        mount(Some(&format!("/dev/{name}")), &inside, None, libc::MS_BIND, None)?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("shm", TMP_DIR),
    ] {
        std::os::unix::fs::symlink(target, dev.join(name)).map_err(|e| format!("symlink /dev/{name}: {e}"))?;
    }
    mount(None, dev, None, libc::MS_REMOUNT | libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_RDONLY, None)
}

/// Binds `source` at `target` (made to match: a directory or an empty file) read-only, keeping the
/// flags the source mount is locked with (a user namespace may not drop `nodev` and the like).
fn bind_read_only(source: &Path, target: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(source).map_err(|e| format!("{}: {e}", source.display()))?;
    if meta.is_dir() {
        make_dir(target)?;
    } else {
        if let Some(parent) = target.parent() {
            make_dir(parent)?;
        }
        std::fs::File::create(target).map_err(|e| format!("create {}: {e}", target.display()))?;
    }
    let source_text = source.to_str().ok_or_else(|| format!("not UTF-8: {}", source.display()))?;
    mount(Some(source_text), target, None, libc::MS_BIND | libc::MS_REC, None)?;
    let mut flags = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV;
    flags |= locked_flags(source);
    mount(None, target, None, flags, None)
}

/// Binds the directory or file `source` at `target` (which exists), `nosuid,nodev` plus `extra` flags
/// (`MS_RDONLY`) and the source's locked ones.
fn bind(source: &Path, target: &Path, extra: libc::c_ulong) -> Result<(), String> {
    if source.is_dir() {
        make_dir(target)?;
    }
    let source_text = source.to_str().ok_or_else(|| format!("not UTF-8: {}", source.display()))?;
    mount(Some(source_text), target, None, libc::MS_BIND | libc::MS_REC, None)?;
    let flags = libc::MS_REMOUNT | libc::MS_BIND | libc::MS_NOSUID | libc::MS_NODEV | extra | locked_flags(source);
    mount(None, target, None, flags, None)
}

/// An empty directory: the second layer every overlay needs (overlayfs refuses a single lower layer
/// without an upper one). It is the root of a tiny read-only tmpfs, mounted on a scratch point in the
/// instance's root and detached once the overlays hold it: a layer must stay a live directory (an
/// overlay whose layer was removed lists as empty), and nothing of it may be left to see.
struct EmptyLayer {
    path: PathBuf,
    fd: std::os::fd::OwnedFd,
}

impl EmptyLayer {
    fn new(path: &Path) -> Result<EmptyLayer, String> {
        make_dir(path)?;
        let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        mount(Some("tmpfs"), path, Some("tmpfs"), flags, Some("size=4k,nr_inodes=1,mode=555"))?;
        Ok(EmptyLayer { path: path.to_path_buf(), fd: open_path(path)? })
    }

    fn remove(self) -> Result<(), String> {
        drop(self.fd);
        let c_path = cpath(&self.path)?;
        #[allow(unsafe_code)]
        // SAFETY: umount2 with a NUL-terminated path we own.
        check(unsafe { libc::umount2(c_path.as_ptr(), libc::MNT_DETACH) }, "umount the empty layer")?;
        std::fs::remove_dir(&self.path).map_err(|e| format!("rmdir {}: {e}", self.path.display()))
    }
}

/// A tree of the data directory, read-only: an overlay where the kernel has overlayfs, else a bind (the
/// probe has warned that the mount tables then name host paths).
fn data_read_only(source: &Path, target: &Path, empty: Option<&EmptyLayer>) -> Result<(), String> {
    match empty {
        Some(empty) => overlay_read_only(source, target, empty),
        None => bind_read_only(source, target),
    }
}

/// Shows the directory `source` read-only at `target` as an overlay of it and an empty layer. Unlike a
/// bind, the mount tables then show `/` as its root, `ferric` as its source and `/proc/self/fd/<n>` as
/// its layers: nothing of the host path. The host mount's `noexec` is kept (a user namespace could
/// otherwise shed it this way).
fn overlay_read_only(source: &Path, target: &Path, empty: &EmptyLayer) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    make_dir(target)?;
    let lower = open_path(source)?;
    let options = format!("lowerdir=/proc/self/fd/{}:/proc/self/fd/{}", lower.as_raw_fd(), empty.fd.as_raw_fd());
    let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | (locked_flags(source) & libc::MS_NOEXEC);
    mount(Some("ferric"), target, Some("overlay"), flags, Some(&options))
        .map_err(|e| format!("{e} (overlay of {})", source.display()))
}

/// Merges the function's layers read-only at `target`, the first listed on top (FC: the layer configured
/// first wins a conflict), as one overlay named like the others (`ferric`, layers by `/proc/self/fd`).
/// The lowest layer is a stub holding only the bootstraps' mount point ([`RUNTIME_DIR`] lies under
/// `/opt`), detached once the overlay holds it. Without overlayfs, layers cannot be merged, and an
/// instance that needs them is refused rather than started without them.
fn mount_layers(layers: &[PathBuf], target: &Path, stub: &Path, overlay: bool) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    if !overlay {
        return Err("this function uses layers, which need overlayfs; the kernel does not offer it".into());
    }
    make_dir(target)?;
    make_dir(stub)?;
    mount(Some("tmpfs"), stub, Some("tmpfs"), libc::MS_NOSUID | libc::MS_NODEV, Some("size=4k,nr_inodes=8,mode=755"))?;
    let inside = RUNTIME_DIR.strip_prefix(OPT_DIR).unwrap_or(RUNTIME_DIR).trim_start_matches('/');
    make_dir(&stub.join(inside))?;
    mount(None, stub, None, libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV, None)?;
    let mut fds = Vec::with_capacity(layers.len() + 1);
    let mut noexec = 0;
    for layer in layers {
        noexec |= locked_flags(layer) & libc::MS_NOEXEC;
        fds.push(open_path(layer)?);
    }
    fds.push(open_path(stub)?);
    let lower: Vec<String> = fds.iter().map(|fd| format!("/proc/self/fd/{}", fd.as_raw_fd())).collect();
    let options = format!("lowerdir={}", lower.join(":"));
    let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | noexec;
    mount(Some("ferric"), target, Some("overlay"), flags, Some(&options)).map_err(|e| format!("{e} (layers)"))?;
    drop(fds);
    let c_stub = cpath(stub)?;
    #[allow(unsafe_code)]
    // SAFETY: umount2 with a NUL-terminated path we own.
    check(unsafe { libc::umount2(c_stub.as_ptr(), libc::MNT_DETACH) }, "umount the layer stub")?;
    std::fs::remove_dir(stub).map_err(|e| format!("rmdir {}: {e}", stub.display()))
}

/// An `O_PATH` descriptor of a directory, closed on exec.
fn open_path(path: &Path) -> Result<std::os::fd::OwnedFd, String> {
    use std::os::fd::FromRawFd;
    let c_path = cpath(path)?;
    #[allow(unsafe_code)]
    // SAFETY: open with a NUL-terminated path; a non-negative result is a descriptor we now own.
    unsafe {
        let fd = libc::open(c_path.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC);
        check(fd, &format!("open {}", path.display()))?;
        Ok(std::os::fd::OwnedFd::from_raw_fd(fd))
    }
}

pub(crate) fn locked_flags(path: &Path) -> libc::c_ulong {
    let Ok(c_path) = cpath(path) else { return 0 };
    #[allow(unsafe_code)]
    // SAFETY: statvfs fills a zeroed struct we own from a NUL-terminated path.
    let f_flag = unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c_path.as_ptr(), &mut stat) != 0 {
            return 0;
        }
        stat.f_flag
    };
    let mut flags = 0;
    for (st, ms) in [
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if f_flag & st != 0 {
            flags |= ms;
        }
    }
    flags
}

fn mount(
    source: Option<&str>,
    target: &Path,
    fs_type: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> Result<(), String> {
    let what = || format!("mount {} on {}", source.unwrap_or("-"), target.display());
    let source_c = source.map(|s| cstring(s.as_bytes())).transpose()?;
    let fs_c = fs_type.map(|s| cstring(s.as_bytes())).transpose()?;
    let data_c = data.map(|s| cstring(s.as_bytes())).transpose()?;
    let target_c = cpath(target)?;
    let ptr = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    #[allow(unsafe_code)]
    // SAFETY: every pointer is null or a NUL-terminated string that outlives the call.
    let rc = unsafe { libc::mount(ptr(&source_c), target_c.as_ptr(), ptr(&fs_c), flags, ptr(&data_c).cast()) };
    if rc != 0 {
        return Err(format!("{}: {}", what(), std::io::Error::last_os_error()));
    }
    Ok(())
}

fn make_dir(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("mkdir {}: {e}", path.display()))
}
