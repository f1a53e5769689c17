//! A session's terminal: a pseudo-terminal pair whose far end the sandbox makes the shell's controlling
//! terminal, this process's own terminal in raw mode (so ^C, ^D and line editing reach the shell inside,
//! whose pty line discipline acts on them), two threads copying bytes both ways until the shell ends,
//! and this terminal's size passed on when it changes.
//! rustix gives the pty and termios calls safely (the cli has no unsafe code).

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use rustix::event::{poll, PollFd, PollFlags};
use rustix::fs::{Mode, OFlags};
use rustix::pty::OpenptFlags;
use rustix::termios::{tcgetattr, tcgetwinsize, tcsetattr, tcsetwinsize, OptionalActions, Termios};

/// How often the input thread looks up from `poll` to see whether the session has ended.
const POLL: rustix::event::Timespec = rustix::event::Timespec { tv_sec: 0, tv_nsec: 100_000_000 };

pub struct Pty {
    /// The side this process reads and writes.
    pub near_end: OwnedFd,
    /// The side the shell gets as its stdin, stdout and stderr.
    pub far_end: OwnedFd,
}

impl Pty {
    /// A new pair, the far end as wide and tall as this terminal.
    pub fn open() -> Result<Pty> {
        let near_end = rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .context("cannot open a pseudo-terminal")?;
        rustix::pty::grantpt(&near_end).context("grantpt")?;
        rustix::pty::unlockpt(&near_end).context("unlockpt")?;
        let name = rustix::pty::ptsname(&near_end, Vec::new()).context("ptsname")?;
        let far_end = rustix::fs::open(name.as_c_str(), OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC, Mode::empty())
            .context("cannot open the pseudo-terminal's far end")?;
        if let Ok(size) = tcgetwinsize(std::io::stdin()) {
            let _ = tcsetwinsize(&far_end, size);
        }
        Ok(Pty { near_end, far_end })
    }
}

/// This terminal in raw mode until dropped.
struct RawMode(Termios);

impl RawMode {
    fn enter() -> Result<RawMode> {
        let saved = tcgetattr(std::io::stdin()).context("cannot read the terminal's mode")?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(std::io::stdin(), OptionalActions::Now, &raw).context("cannot put the terminal in raw mode")?;
        Ok(RawMode(saved))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &self.0);
    }
}

/// Copies this terminal to the session and back until the session's process ends, then gives its exit.
pub async fn relay(near_end: OwnedFd, process: ferric_sandbox::Process) -> Result<ferric_sandbox::Exit> {
    let raw = RawMode::enter()?;
    let done = Arc::new(AtomicBool::new(false));
    let mut reader = std::fs::File::from(near_end.try_clone().context("dup the pty")?);
    let near_end_copy = near_end.try_clone().context("dup the pty")?;
    let output = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        let mut out = std::io::stdout();
        // EIO once every far-end descriptor is closed: the session is over.
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            if out.write_all(&buf[..n]).and_then(|()| out.flush()).is_err() {
                break;
            }
        }
    });
    let input = {
        let done = done.clone();
        let mut writer = std::fs::File::from(near_end);
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            let mut buf = [0u8; 4096];
            while !done.load(Ordering::Acquire) {
                let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
                match poll(&mut fds, Some(&POLL)) {
                    Ok(0) | Err(rustix::io::Errno::INTR) => continue,
                    Ok(_) => {}
                    Err(_) => break,
                }
                // Read from the descriptor itself: std's buffered stdin would keep bytes the shell
                // after the session (rustyline) should get.
                match rustix::io::read(stdin.as_fd(), &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if writer.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        })
    };
    // A resized terminal resizes the session's, and the kernel tells the shell inside (SIGWINCH).
    let resize = {
        let pty = near_end_copy;
        let mut window = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
            .context("cannot watch the terminal's size")?;
        tokio::spawn(async move {
            while window.recv().await.is_some() {
                if let Ok(size) = tcgetwinsize(std::io::stdin()) {
                    let _ = tcsetwinsize(&pty, size);
                }
            }
        })
    };
    let exit = process.wait().await;
    resize.abort();
    // The output thread ends at EIO, right after the namespace (and every copy of the far end) is gone;
    // waiting for it keeps the shell's last bytes before our next prompt.
    let _ = tokio::task::spawn_blocking(move || output.join()).await;
    done.store(true, Ordering::Release);
    let _ = tokio::time::timeout(Duration::from_secs(2), tokio::task::spawn_blocking(move || input.join())).await;
    drop(raw);
    Ok(exit)
}
