//! The `ferric sandbox-exec` process: single-threaded, it probes the machine once, then starts, watches
//! and kills instances on the server's behalf. It never runs async code, so forking it is safe; it exits
//! (killing every instance) when the server's end of the socket closes.

use std::collections::{HashMap, VecDeque};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::cgroup::{Cgroup, Driver};
use crate::confine::Plan;
use crate::report::{collect_reports, report_pair};
use crate::seccomp::Filters;
use crate::wire::{self, Features, FromHelper, HelperConfig, Job, ToHelper};
use crate::{probe, seed};

/// How many distinct uids root mode hands out.
const UID_COUNT: u32 = 65_536;

/// Entry point of `ferric sandbox-exec <fd> <config-json>`; returns the process exit code.
pub fn helper_main(fd: &str, config: &str) -> i32 {
    let Ok(fd) = fd.parse::<RawFd>() else {
        eprintln!("ferric sandbox-exec: internal command, started by `ferric serve`");
        return 2;
    };
    let Ok(config) = serde_json::from_str::<HelperConfig>(config) else {
        eprintln!("ferric sandbox-exec: bad configuration");
        return 2;
    };
    #[allow(unsafe_code)]
    // SAFETY: the server handed this descriptor over by number; nothing else in this process owns it.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // Instances must not inherit it past their own setup.
    #[allow(unsafe_code)]
    // SAFETY: fcntl with integer arguments on our descriptor.
    unsafe {
        libc::fcntl(socket.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
    }
    let signals = match child_signals() {
        Ok(fd) => fd,
        Err(e) => {
            eprintln!("ferric sandbox-exec: signalfd: {e}");
            return 1;
        }
    };
    let (mut features, missing, driver, filters) = probe::probe();
    // Stem cells need the helper to mount into a running instance as root; without that the server
    // starts every instance the normal way (no line in `missing`: nothing is weaker for it).
    features.cells = crate::bind::cells_possible(&features, &config.empty_layer);
    let hello = FromHelper::Hello { features: features.clone(), missing };
    if wire::send(socket.as_raw_fd(), &hello, &[], 0).is_err() {
        return 1;
    }
    let mut helper = Helper {
        socket,
        signals,
        config,
        features,
        driver,
        filters,
        running: HashMap::new(),
        by_id: HashMap::new(),
        dying: Vec::new(),
        free_uids: VecDeque::new(),
        next_uid: 0,
        seeds: VecDeque::new(),
        seed_count: 0,
        pid: std::process::id() as i32,
        #[allow(unsafe_code)]
        // SAFETY: getuid/getgid cannot fail.
        outer: unsafe { (libc::getuid(), libc::getgid()) },
        etc_problem: None,
    };
    // After the hello, so the server's start does not wait for it (copying /etc/ssl and /etc/alternatives
    // takes ~100 ms); a spawn sent meanwhile waits in the socket.
    if helper.features.mountns {
        helper.etc_problem = crate::rootfs::build_etc_template(&helper.config.etc_template)
            .err()
            .map(|e| format!("cannot build the /etc template in {}: {e}", helper.config.etc_template.display()));
    }
    helper.replenish();
    helper.run();
    0
}

struct Running {
    id: u64,
    runtime_pid: i32,
    cgroup: Option<Cgroup>,
    uid: Option<u32>,
    /// A stem cell not yet bound: the one state in which a [`ToHelper::Bind`] is accepted.
    unbound_cell: bool,
}

struct Helper {
    socket: OwnedFd,
    signals: OwnedFd,
    config: HelperConfig,
    features: Features,
    driver: Driver,
    filters: Option<Filters>,
    /// By the reaper's pid.
    running: HashMap<i32, Running>,
    by_id: HashMap<u64, i32>,
    /// Cgroups of ended instances whose last processes were still exiting.
    dying: Vec<Cgroup>,
    free_uids: VecDeque<u32>,
    next_uid: u32,
    seeds: VecDeque<Seed>,
    seed_count: u64,
    pid: i32,
    outer: (u32, u32),
    /// Why the curated `/etc` could not be built: every instance that needs it fails with this.
    etc_problem: Option<String>,
}

/// A process forked ahead of demand, already in its own cgroup, waiting for one [`SeedOrder`]; it clones
/// the instance's reaper (as the helper's child) and exits.
struct Seed {
    pid: i32,
    socket: OwnedFd,
    cgroup: Option<Cgroup>,
}

/// Seeds kept ready: one per spawn that may arrive before the helper has made the next.
const SEEDS: usize = 2;

impl Helper {
    fn run(&mut self) {
        loop {
            let mut fds = [
                libc::pollfd { fd: self.socket.as_raw_fd(), events: libc::POLLIN, revents: 0 },
                libc::pollfd { fd: self.signals.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            ];
            let timeout = if self.dying.is_empty() { -1 } else { 100 };
            #[allow(unsafe_code)]
            // SAFETY: poll over an array we own.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout) };
            if ready < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                break;
            }
            if fds[1].revents != 0 {
                self.drain_signals();
                self.reap();
            }
            self.dying.retain(|cgroup| !cgroup.remove());
            if fds[0].revents != 0 {
                match wire::recv(self.socket.as_raw_fd(), libc::MSG_DONTWAIT) {
                    Ok(received) if received.bytes.is_empty() => break,
                    Ok(received) => self.handle(&received.bytes, received.fds),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => break,
                }
            }
        }
        self.shutdown();
    }

    fn handle(&mut self, bytes: &[u8], fds: Vec<OwnedFd>) {
        let Ok(message) = serde_json::from_slice::<ToHelper>(bytes) else { return };
        match message {
            ToHelper::Spawn { id, job } => {
                let answer = match self.spawn(id, &job, fds) {
                    Ok(started) => started,
                    Err(error) => FromHelper::Failed { id, error },
                };
                let _ = wire::send(self.socket.as_raw_fd(), &answer, &[], 0);
                // The runtime is now loading its code: time to make the next seed.
                self.replenish();
            }
            ToHelper::Bind { id, mounts } => {
                let error = self.bind(id, &mounts).err();
                let _ = wire::send(self.socket.as_raw_fd(), &FromHelper::Bound { id, error }, &[], 0);
            }
            ToHelper::Kill { id } => {
                if let Some(pid) = self.by_id.get(&id) {
                    self.kill_instance(*pid);
                }
            }
        }
    }

    /// Fills the stem cell `id` once (see [`crate::bind::fill`]).
    fn bind(&mut self, id: u64, mounts: &[wire::BindMount]) -> Result<(), String> {
        let cell = self.by_id.get(&id).and_then(|pid| Some((*pid, &mut self.running.get_mut(pid)?.unbound_cell)));
        crate::bind::fill(self.features.cells, cell, mounts, &self.config.empty_layer)
    }

    fn kill_instance(&self, pid: i32) {
        #[allow(unsafe_code)]
        // SAFETY: kill with integers. The pid is our unreaped child, so it cannot have been reused.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        if !self.features.pidns {
            if let Some(running) = self.running.get(&pid) {
                crate::kill_group(running.runtime_pid as u32);
            }
        }
    }

    fn plan(&self, job: &Job, cgroup: bool) -> Plan {
        let f = &self.features;
        let namespaces = f.root || f.userns;
        Plan {
            userns: !f.root && f.userns,
            mountns: namespaces && f.mountns,
            pidns: namespaces && f.pidns,
            netns: namespaces && f.netns && job.network == wire::Network::Isolated,
            utsns: namespaces && f.utsns,
            ipcns: namespaces && f.ipcns,
            cgroup,
            landlock: f.landlock,
            overlay: f.overlay,
        }
    }

    fn spawn(&mut self, id: u64, job: &Job, fds: Vec<OwnedFd>) -> Result<FromHelper, String> {
        let [control, stdout, stderr]: [OwnedFd; 3] =
            fds.try_into().map_err(|_| "a spawn needs three descriptors".to_string())?;
        if let (true, Some(problem)) = (self.features.mountns, &self.etc_problem) {
            return Err(problem.clone());
        }
        if job.cell && !self.features.cells {
            return Err("this sandbox has no stem cells".into());
        }
        let seed = match self.seeds.pop_front() {
            Some(seed) => seed,
            None => self.make_seed()?,
        };
        let Seed { pid: seed_pid, socket: seed_socket, cgroup } = seed;
        let plan = self.plan(job, cgroup.is_some());
        let uid = self.features.root.then(|| self.take_uid());
        let release = |helper: &mut Helper, cgroup: Option<Cgroup>| {
            if let Some(uid) = uid {
                helper.free_uids.push_back(uid);
            }
            if let Some(cgroup) = cgroup {
                helper.dying.push(cgroup);
            }
        };
        if let Some(Err(e)) = cgroup.as_ref().map(|c| c.set_limits(&job.limits)) {
            kill(seed_pid);
            release(self, cgroup);
            return Err(format!("cgroup limits: {e}"));
        }
        let (report_parent, report_child) = match report_pair() {
            Ok(pair) => pair,
            Err(e) => {
                kill(seed_pid);
                release(self, cgroup);
                return Err(format!("report socket: {e}"));
            }
        };
        let order = seed::SeedOrder { job: job.clone(), plan, uid, hostname: format!("c-{:x}-{id}", self.pid) };
        let fds = [control.as_raw_fd(), stdout.as_raw_fd(), stderr.as_raw_fd(), report_child.as_raw_fd()];
        let sent = wire::send(seed_socket.as_raw_fd(), &order, &fds, 0);
        drop((control, stdout, stderr, report_child, seed_socket));
        if let Err(e) = sent {
            kill(seed_pid);
            release(self, cgroup);
            return Err(format!("seed: {e}"));
        }
        match collect_reports(&report_parent) {
            Ok((pid, runtime_pid)) => {
                let memory_peak_file = cgroup.as_ref().map(Cgroup::memory_peak_file);
                self.running.insert(pid, Running { id, runtime_pid, cgroup, uid, unbound_cell: job.cell });
                self.by_id.insert(id, pid);
                Ok(FromHelper::Started { id, pid: pid as u32, runtime_pid: runtime_pid as u32, memory_peak_file })
            }
            Err((pid, error)) => {
                if let Some(pid) = pid {
                    self.abandon(pid);
                }
                kill(seed_pid);
                release(self, cgroup);
                Err(error)
            }
        }
    }

    /// Forks a seed and places it in a fresh cgroup: the slow part of a spawn, done ahead of demand.
    fn make_seed(&mut self) -> Result<Seed, String> {
        self.seed_count += 1;
        let name = format!("{}-{}", self.pid, self.seed_count);
        let cgroup = self.driver.create(&name).map_err(|e| format!("cgroup {name}: {e}"))?;
        let (ours, theirs) = match wire::seqpacket_pair() {
            Ok(pair) => pair,
            Err(e) => {
                self.dying.extend(cgroup);
                return Err(format!("seed socket: {e}"));
            }
        };
        #[allow(unsafe_code)]
        // SAFETY: fork of this single-threaded process; the child runs only `seed_main`, which never returns.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            drop(ours);
            seed::seed_main(
                seed::Inherited {
                    config: &self.config,
                    filters: self.filters.as_ref(),
                    outer: self.outer,
                    helper_pid: self.pid,
                },
                theirs,
            );
        }
        drop(theirs);
        if pid < 0 {
            self.dying.extend(cgroup);
            return Err(format!("fork: {}", std::io::Error::last_os_error()));
        }
        if let Some(e) = cgroup.as_ref().and_then(|c| c.join(pid).err()) {
            kill(pid);
            self.dying.extend(cgroup);
            return Err(format!("joining cgroup {name}: {e}"));
        }
        Ok(Seed { pid, socket: ours, cgroup })
    }

    /// Keeps [`SEEDS`] seeds ready.
    fn replenish(&mut self) {
        while self.seeds.len() < SEEDS {
            match self.make_seed() {
                Ok(seed) => self.seeds.push_back(seed),
                Err(_) => return,
            }
        }
    }

    /// Kills and reaps a reaper whose setup failed.
    fn abandon(&self, pid: i32) {
        #[allow(unsafe_code)]
        // SAFETY: kill and waitpid on our own child.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }

    fn take_uid(&mut self) -> u32 {
        if let Some(uid) = self.free_uids.pop_front() {
            return uid;
        }
        let uid = self.config.uid_base + self.next_uid % UID_COUNT;
        self.next_uid += 1;
        uid
    }

    fn drain_signals(&self) {
        let mut buffer = [0u8; 128 * 8];
        #[allow(unsafe_code)]
        // SAFETY: reads into a buffer we own; the signalfd is non-blocking.
        unsafe {
            while libc::read(self.signals.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) > 0 {}
        }
    }

    /// Reports every instance that has ended.
    fn reap(&mut self) {
        loop {
            let mut status = 0;
            #[allow(unsafe_code)]
            // SAFETY: waitpid writes into our integer.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                return;
            }
            let Some(running) = self.running.remove(&pid) else { continue };
            self.by_id.remove(&running.id);
            if !self.features.pidns {
                crate::kill_group(running.runtime_pid as u32);
            }
            let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) };
            let oom = running.cgroup.as_ref().is_some_and(Cgroup::oom_killed);
            if let Some(uid) = running.uid {
                self.free_uids.push_back(uid);
            }
            if let Some(cgroup) = running.cgroup {
                if !cgroup.remove() {
                    self.dying.push(cgroup);
                }
            }
            let _ = wire::send(self.socket.as_raw_fd(), &FromHelper::Exited { id: running.id, code, oom }, &[], 0);
        }
    }

    /// The server is gone: so are its instances.
    fn shutdown(&mut self) {
        for seed in std::mem::take(&mut self.seeds) {
            kill(seed.pid);
            self.dying.extend(seed.cgroup);
        }
        let pids: Vec<i32> = self.running.keys().copied().collect();
        for pid in &pids {
            self.kill_instance(*pid);
        }
        for pid in pids {
            let mut status = 0;
            #[allow(unsafe_code)]
            // SAFETY: waitpid on our own child.
            unsafe {
                libc::waitpid(pid, &mut status, 0);
            }
            if let Some(running) = self.running.remove(&pid) {
                if let Some(cgroup) = running.cgroup {
                    self.dying.push(cgroup);
                }
            }
        }
        for _ in 0..50 {
            self.dying.retain(|cgroup| !cgroup.remove());
            if self.dying.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// SIGCHLD, blocked and read from a descriptor so the poll loop sees it.
fn child_signals() -> std::io::Result<OwnedFd> {
    #[allow(unsafe_code)]
    // SAFETY: signal set manipulation on a stack value; signalfd returns a new descriptor we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

/// SIGKILL to one of our children (unreaped, so its pid cannot have been reused).
fn kill(pid: i32) {
    #[allow(unsafe_code)]
    // SAFETY: kill with integers.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}
