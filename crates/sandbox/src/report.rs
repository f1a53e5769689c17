//! The helper's side of a spawn's report channel: the seed, the reaper and the runtime each say on one
//! `SOCK_SEQPACKET` socketpair how far the start got (`confine::report` writes them), and the helper
//! collects them here, bounded by the set-up timeout.

use std::os::fd::{AsRawFd, OwnedFd};

use crate::wire;

/// Longest an instance may take from `clone` to `exec`.
const SETUP_TIMEOUT_MS: i32 = 10_000;

/// Collects the reports of one spawn until the report socket closes (the seed has exited, the reaper
/// keeps no copy and the runtime's closed with `exec`): `P<pid>` from the seed (the reaper's pid), `R`
/// from the runtime just before `exec` (its pid rides along as credentials), or `E<error>` from any.
/// Returns (reaper pid, runtime pid), or the reaper's pid if known and the error.
pub(crate) fn collect_reports(report: &OwnedFd) -> Result<(i32, i32), (Option<i32>, String)> {
    let mut reaper = None;
    let mut runtime = None;
    loop {
        let mut poll = libc::pollfd { fd: report.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        #[allow(unsafe_code)]
        // SAFETY: poll on one descriptor we own.
        let ready = unsafe { libc::poll(&mut poll, 1, SETUP_TIMEOUT_MS) };
        if ready == 0 {
            return Err((reaper, "the instance did not start within 10 s".into()));
        }
        if ready < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err((reaper, format!("poll: {}", std::io::Error::last_os_error())));
        }
        let received = wire::recv(report.as_raw_fd(), 0).map_err(|e| (reaper, format!("report: {e}")))?;
        let (bytes, pid) = (received.bytes, received.sender_pid);
        match bytes.first() {
            None => break,
            Some(b'P') => reaper = std::str::from_utf8(&bytes[1..]).ok().and_then(|p| p.parse().ok()),
            Some(b'R') => runtime = pid,
            Some(b'E') => return Err((reaper, String::from_utf8_lossy(&bytes[1..]).into_owned())),
            Some(_) => return Err((reaper, "garbled report".into())),
        }
    }
    match (reaper, runtime) {
        (Some(reaper), Some(runtime)) => Ok((reaper, runtime)),
        (reaper, _) => Err((reaper, "the instance exited during setup".to_string())),
    }
}

/// The report socketpair; the helper's end asks for the sender's credentials.
pub(crate) fn report_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (parent, child) = wire::seqpacket_pair()?;
    let on: libc::c_int = 1;
    #[allow(unsafe_code)]
    // SAFETY: setsockopt reads an int we own.
    let rc = unsafe {
        libc::setsockopt(
            parent.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PASSCRED,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((parent, child))
}
