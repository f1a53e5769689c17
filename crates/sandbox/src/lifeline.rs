//! `--sandbox off` instances die with the server, even after `kill -9`. A plain child outlives its parent
//! (and `PR_SET_PDEATHSIG` would not reach the children it starts, and fires when the *thread* that forked
//! exits, which in a tokio server is not the process), so one small watcher process does it: forked once,
//! at the first such spawn, it holds the read end of a pipe whose only write end is the server's
//! (close-on-exec). Each instance registers its process group on the pipe from between its own fork and
//! exec, so no instance runs unregistered; the server unregisters it when it has ended. When the server
//! dies the pipe reaches EOF and the watcher kills every group still registered.
//!
//! The watcher is a fork of a multi-threaded process that never execs: it runs only async-signal-safe
//! calls (read, kill, close, setsid) on memory allocated before the fork.

use std::os::fd::RawFd;
use std::sync::OnceLock;

/// Most instances tracked at once; far above what a memory budget lets one server run.
const CAPACITY: usize = 16 * 1024;

static WRITE_END: OnceLock<Option<RawFd>> = OnceLock::new();

/// The pipe instances register on, starting the watcher on first use; `None` if it could not start.
pub(crate) fn write_end() -> Option<RawFd> {
    *WRITE_END.get_or_init(|| {
        let started = start();
        if let Err(e) = &started {
            tracing::warn!(error = %e, "sandbox off: no watcher, instances will outlive a killed server");
        }
        started.ok()
    })
}

/// Registers the calling process's group (it leads one after `setsid`). Async-signal-safe: runs in the
/// child between fork and exec.
pub(crate) fn register_self(write_end: RawFd) {
    #[allow(unsafe_code)]
    // SAFETY: getpid and write with a 4-byte stack value; a write this small to a pipe is atomic.
    unsafe {
        let pid: i32 = libc::getpid();
        libc::write(write_end, (&pid as *const i32).cast(), 4);
    }
}

/// Forgets a group whose instance has ended (its id may be reused).
pub(crate) fn unregister(pgid: u32) {
    let (Some(fd), Ok(pgid)) = (WRITE_END.get().copied().flatten(), i32::try_from(pgid)) else { return };
    let message = -pgid;
    #[allow(unsafe_code)]
    // SAFETY: write with a 4-byte stack value to a descriptor this module owns for the process's life.
    unsafe {
        libc::write(fd, (&message as *const i32).cast(), 4);
    }
}

fn start() -> std::io::Result<RawFd> {
    let mut fds = [0 as RawFd; 2];
    #[allow(unsafe_code)]
    // SAFETY: pipe2 fills a two-element array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let [read_end, write_end] = fds;
    let mut table = vec![0i32; CAPACITY];
    #[allow(unsafe_code)]
    // SAFETY: fork; the child only runs `watch`, which calls async-signal-safe functions on `table`,
    // allocated above, and never returns.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        watch(read_end, &mut table);
    }
    #[allow(unsafe_code)]
    // SAFETY: closing our copy of the read end; the write end is made non-blocking so a stuck watcher
    // can never stall a spawn (writes then fail, and are ignored).
    unsafe {
        libc::close(read_end);
        if pid < 0 {
            libc::close(write_end);
            return Err(std::io::Error::last_os_error());
        }
        let flags = libc::fcntl(write_end, libc::F_GETFL);
        libc::fcntl(write_end, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    Ok(write_end)
}

/// The watcher. Never returns.
fn watch(read_end: RawFd, table: &mut [i32]) -> ! {
    #[allow(unsafe_code)]
    // SAFETY: close_range and setsid with integers. Every inherited descriptor but the read end goes
    // (holding the server's sockets or an instance's pipes would keep them open); a session of its own
    // keeps terminal signals meant for the server (Ctrl-C) from killing the watcher first.
    unsafe {
        if read_end > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, (read_end - 1) as u32, 0u32);
        }
        libc::syscall(libc::SYS_close_range, (read_end + 1) as u32, u32::MAX, 0u32);
        libc::setsid();
    }
    let mut buffer = [0i32; 256];
    loop {
        #[allow(unsafe_code)]
        // SAFETY: read into a stack buffer of the size given. Writers send whole 4-byte messages (atomic
        // on a pipe), so a read returns whole messages.
        let n = unsafe { libc::read(read_end, buffer.as_mut_ptr().cast(), std::mem::size_of_val(&buffer)) };
        if n == 0 {
            break;
        }
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break;
        }
        for &message in &buffer[..n as usize / 4] {
            if message > 0 {
                if let Some(slot) = table.iter_mut().find(|s| **s == 0) {
                    *slot = message;
                }
            } else if let Some(slot) = table.iter_mut().find(|s| **s == -message) {
                *slot = 0;
            }
        }
    }
    for &pgid in table.iter().filter(|p| **p > 1) {
        #[allow(unsafe_code)]
        // SAFETY: kill with integers; a negative pid addresses the whole process group.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    #[allow(unsafe_code)]
    // SAFETY: ends the watcher without running the server's exit handlers.
    unsafe {
        libc::_exit(0)
    }
}
