//! The conversation between the server and its `sandbox-exec` helper: one JSON message per datagram on a
//! `SOCK_SEQPACKET` socketpair, with descriptors riding along as `SCM_RIGHTS`. Datagrams keep message
//! boundaries, so neither side frames anything, and a closed peer reads as an empty datagram.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::cgroup::CgroupKind;

/// Largest message either side sends: a spawn carries the function's environment (FC bounds it at 4 KiB)
/// and a few paths, so 256 KiB is far above any legal one.
pub(crate) const MAX_MESSAGE: usize = 256 * 1024;
/// Descriptors one spawn passes: control socket, stdout and stderr.
const MAX_FDS: usize = 4;

/// What the helper is told when it starts (its one argument, as JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HelperConfig {
    /// An empty directory the instance's new root is mounted over (each instance in its own mount namespace).
    pub root_mount_point: PathBuf,
    /// Where the helper builds the curated `/etc` every instance binds.
    pub etc_template: PathBuf,
    /// An empty directory the helper makes: the second layer of a stem cell's overlays (`bind`).
    pub empty_layer: PathBuf,
    /// First uid handed to instances when the helper runs as root.
    pub uid_base: u32,
}

/// What the helper found on this machine; sent once, first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Features {
    /// Running as root: instances get a uid of their own instead of a user namespace.
    pub root: bool,
    pub userns: bool,
    pub mountns: bool,
    pub pidns: bool,
    pub netns: bool,
    pub ipcns: bool,
    pub utsns: bool,
    pub seccomp: bool,
    /// The landlock ABI version, 0 when landlock is unavailable.
    pub landlock: u32,
    pub cgroup: CgroupKind,
    /// overlayfs, which shows the data directory's trees inside without naming their host paths.
    pub overlay: bool,
    /// Stem cells: instances started with an empty `/code` that the helper fills later ([`crate::bind`]).
    /// Needs root, a mount namespace, overlayfs and the new mount API (`fsopen`, `move_mount`).
    #[serde(default)]
    pub cells: bool,
}

/// How an instance reaches the network (FC's `internetAccess`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub enum Network {
    /// A network namespace of its own with only `lo`.
    Isolated,
    /// The host's network namespace.
    Host,
}

/// Resource bounds of one instance.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Limits {
    /// The function's `memorySize`: the cgroup memory limit (or, without cgroups, the base of `RLIMIT_DATA`).
    pub memory_mb: u32,
    /// Processes and threads together.
    pub pids: u32,
    pub open_files: u32,
    /// Size of the private `/tmp`.
    pub tmp_mb: u32,
}

/// One instance to start, as the helper receives it. Paths are host paths; the helper maps them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub code_dir: PathBuf,
    pub runtime_dir: PathBuf,
    /// Merged read-only at `/opt`, the first on top.
    #[serde(default)]
    pub layer_dirs: Vec<PathBuf>,
    /// Used as cwd, `HOME` and `TMPDIR` when there is no mount namespace.
    pub scratch_dir: PathBuf,
    pub limits: Limits,
    pub network: Network,
    /// A stem cell: `/code` starts as an empty directory (`code_dir` is unused) and one
    /// [`ToHelper::Bind`] fills it later.
    #[serde(default)]
    pub cell: bool,
    /// An interactive session ([`crate::Sandbox::spawn_terminal`]): the stdout descriptor is a
    /// terminal, which also becomes stdin and the controlling terminal; `/code` is writable and the
    /// runtime runs as its owner.
    #[serde(default)]
    pub terminal: bool,
    /// More programs whose installations outside `/usr` the root shows read-only, as it shows the
    /// program's (a session's shell runs the runtime's interpreter).
    #[serde(default)]
    pub tools: Vec<PathBuf>,
}

/// One tree a [`ToHelper::Bind`] shows read-only inside a stem cell.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BindMount {
    /// A directory on the host (the code store's extracted tree, a layer).
    pub host: PathBuf,
    /// An absolute directory that exists in the cell's root: [`crate::CODE_DIR`], or one a later
    /// change prepares (layers under `/opt`).
    pub inside: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ToHelper {
    /// Descriptors: control socket, stdout write end, stderr write end.
    Spawn {
        id: u64,
        job: Box<Job>,
    },
    Kill {
        id: u64,
    },
    /// Shows `mounts` inside the running stem cell `id`. Answered by [`FromHelper::Bound`]. A cell is
    /// bound at most once: it then belongs to one function for good.
    Bind {
        id: u64,
        mounts: Vec<BindMount>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum FromHelper {
    Hello {
        features: Features,
        /// One line per feature the helper will do without.
        missing: Vec<String>,
    },
    Started {
        id: u64,
        /// The instance's reaper (pid 1 of its namespace), as the server sees it.
        pid: u32,
        /// The runtime process itself, as the server sees it.
        runtime_pid: u32,
        /// The file holding the instance's peak memory in bytes, when a cgroup tracks it.
        memory_peak_file: Option<PathBuf>,
    },
    Failed {
        id: u64,
        error: String,
    },
    /// The answer to a [`ToHelper::Bind`]: `error` is `None` when every mount is in place.
    Bound {
        id: u64,
        error: Option<String>,
    },
    Exited {
        id: u64,
        /// The runtime's exit code, or `128 + signal` when a signal ended it.
        code: i32,
        /// The cgroup's OOM killer ended a process of the instance.
        oom: bool,
    },
}

/// A connected `SOCK_SEQPACKET` pair, both ends close-on-exec.
pub(crate) fn seqpacket_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    #[allow(unsafe_code)]
    // SAFETY: socketpair writes two descriptors into the array we own.
    let rc = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(unsafe_code)]
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sends one message with descriptors. `flags` is `MSG_DONTWAIT` for callers that must not block.
pub(crate) fn send<T: Serialize>(socket: RawFd, message: &T, fds: &[RawFd], flags: i32) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    send_bytes(socket, &bytes, fds, flags)
}

pub(crate) fn send_bytes(socket: RawFd, bytes: &[u8], fds: &[RawFd], flags: i32) -> std::io::Result<()> {
    if bytes.len() > MAX_MESSAGE || fds.len() > MAX_FDS {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "sandbox message too large"));
    }
    let mut iov = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    let mut control = [0u64; 8]; // 64 bytes, aligned for cmsghdr
    #[allow(unsafe_code)]
    // SAFETY: msghdr is plain data; the iovec and control buffer outlive the sendmsg call, and the
    // CMSG_* macros stay inside the control buffer sized by CMSG_SPACE for at most MAX_FDS descriptors.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if !fds.is_empty() {
            let payload = std::mem::size_of_val(fds) as u32;
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(payload) as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(payload) as _;
            std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(cmsg).cast::<RawFd>(), fds.len());
        }
        loop {
            let sent = libc::sendmsg(socket, &msg, flags | libc::MSG_NOSIGNAL);
            if sent >= 0 {
                return Ok(());
            }
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }
}

/// One received datagram: its bytes (empty when the peer closed), the descriptors it carried, and the
/// sender's pid when the socket asked for credentials (`SO_PASSCRED`), translated by the kernel into the
/// receiver's pid namespace.
pub(crate) struct Received {
    pub bytes: Vec<u8>,
    pub fds: Vec<OwnedFd>,
    pub sender_pid: Option<i32>,
}

pub(crate) fn recv(socket: RawFd, flags: i32) -> std::io::Result<Received> {
    let mut bytes = vec![0u8; MAX_MESSAGE];
    let mut iov = libc::iovec { iov_base: bytes.as_mut_ptr().cast(), iov_len: bytes.len() };
    let mut control = [0u64; 8];
    #[allow(unsafe_code)]
    // SAFETY: as in send_bytes; received descriptors are taken into OwnedFd exactly once, and only as many
    // as the kernel says the control message holds.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let received = loop {
            let n = libc::recvmsg(socket, &mut msg, flags | libc::MSG_CMSG_CLOEXEC);
            if n >= 0 {
                break n as usize;
            }
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::Interrupted {
                return Err(error);
            }
        };
        let mut fds = Vec::new();
        let mut sender_pid = None;
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg).cast::<RawFd>();
                let count = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<RawFd>();
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            } else if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_CREDENTIALS {
                let credentials: libc::ucred = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                sender_pid = Some(credentials.pid);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        if msg.msg_flags & libc::MSG_TRUNC != 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "sandbox message truncated"));
        }
        bytes.truncate(received);
        Ok(Received { bytes, fds, sender_pid })
    }
}

/// Makes a descriptor survive `exec` (the helper's socket is handed over this way).
pub(crate) fn clear_cloexec(fd: &impl AsRawFd) -> std::io::Result<()> {
    #[allow(unsafe_code)]
    // SAFETY: fcntl on a descriptor we own, with integer arguments.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFD);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_descriptors_cross_the_pair() {
        let (a, b) = seqpacket_pair().expect("pair");
        let (extra, _keep) = seqpacket_pair().expect("pair");
        send(a.as_raw_fd(), &ToHelper::Kill { id: 7 }, &[extra.as_raw_fd()], 0).expect("send");
        let got = recv(b.as_raw_fd(), 0).expect("recv");
        assert_eq!(got.fds.len(), 1);
        let message: ToHelper = serde_json::from_slice(&got.bytes).expect("json");
        assert!(matches!(message, ToHelper::Kill { id: 7 }));
        drop(a);
        assert!(recv(b.as_raw_fd(), 0).expect("eof").bytes.is_empty(), "a closed peer reads as empty");
    }
}
