//! Per-instance cgroups: memory (the function's `memorySize`, an OOM kill is recorded), pids, and a CPU
//! share proportional to memory, as FC allocates CPU. Three drivers, detected at start:
//! - v2: one unified directory per instance under `<mount>/ferric`;
//! - v1: one directory per controller (`memory`, `pids`, `cpu`), each under `<controller mount>/ferric`;
//! - none: no cgroup can be made here (an unprivileged server without delegation); `RLIMIT_DATA` and
//!   `RLIMIT_NPROC` bound the instance instead.
//!
//! Moving a process into a cgroup is slow and erratic here (0.1 to 16 ms on cgroup v1: the kernel waits
//! for an RCU grace period), while a process born inside pays nothing. So the helper keeps "seeds":
//! processes forked and placed in a fresh cgroup ahead of demand. An instance's reaper is cloned by a seed,
//! born inside, and its limits are written just before; nothing is ever moved per invocation.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::wire::Limits;

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CgroupKind {
    V2,
    V1,
    #[default]
    None,
}

impl CgroupKind {
    pub fn label(self) -> &'static str {
        match self {
            CgroupKind::V2 => "v2",
            CgroupKind::V1 => "v1",
            CgroupKind::None => "none",
        }
    }
}

/// The parent directories this server's instances are created under.
#[derive(Debug, Clone)]
pub(crate) enum Driver {
    V2 { base: PathBuf },
    V1 { memory: PathBuf, pids: PathBuf, cpu: PathBuf },
    None,
}

/// One instance's cgroup directories.
#[derive(Debug)]
pub(crate) struct Cgroup {
    dirs: Vec<PathBuf>,
    kind: CgroupKind,
}

const PARENT: &str = "ferric";

impl Driver {
    /// Finds the cgroup mounts in `/proc/self/mountinfo` and makes (or reuses) `ferric` under them. Any
    /// failure (read-only, not permitted) means no driver: the caller reports it as missing.
    pub fn detect() -> (Driver, Option<String>) {
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut v2 = None;
        let (mut memory, mut pids, mut cpu) = (None, None, None);
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else { continue };
            let mount_point = left.split_whitespace().nth(4).map(PathBuf::from);
            let mut right = right.split_whitespace();
            let fs_type = right.next().unwrap_or("");
            let options = right.nth(1).unwrap_or("");
            let Some(mount_point) = mount_point else { continue };
            match fs_type {
                "cgroup2" => v2 = v2.or(Some(mount_point)),
                "cgroup" => {
                    for option in options.split(',') {
                        match option {
                            "memory" => memory = Some(mount_point.clone()),
                            "pids" => pids = Some(mount_point.clone()),
                            "cpu" => cpu = Some(mount_point.clone()),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if let (Some(memory), Some(pids), Some(cpu)) = (memory, pids, cpu) {
            let dirs = [memory.join(PARENT), pids.join(PARENT), cpu.join(PARENT)];
            return match dirs.iter().try_for_each(|d| ensure_dir(d)) {
                Ok(()) => {
                    let [memory, pids, cpu] = dirs;
                    sweep(&[memory.clone(), pids.clone(), cpu.clone()]);
                    (Driver::V1 { memory, pids, cpu }, None)
                }
                Err(e) => (Driver::None, Some(format!("cgroup v1: cannot create {}: {e}", dirs[0].display()))),
            };
        }
        if let Some(root) = v2 {
            // Controllers live only in a v2 hierarchy that is not also split into v1 controllers.
            let available = fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
            if !["memory", "pids"].iter().all(|c| available.split_whitespace().any(|a| a == *c)) {
                return (Driver::None, Some("cgroup v2: memory and pids controllers are not available".into()));
            }
            let base = root.join(PARENT);
            let ready = ensure_dir(&base)
                .and_then(|()| write(&root.join("cgroup.subtree_control"), "+memory +pids +cpu"))
                .and_then(|()| write(&base.join("cgroup.subtree_control"), "+memory +pids +cpu"));
            return match ready {
                Ok(()) => {
                    sweep(std::slice::from_ref(&base));
                    (Driver::V2 { base }, None)
                }
                Err(e) => (Driver::None, Some(format!("cgroup v2: cannot use {}: {e}", base.display()))),
            };
        }
        (Driver::None, Some("no cgroup hierarchy is mounted".into()))
    }

    pub fn kind(&self) -> CgroupKind {
        match self {
            Driver::V2 { .. } => CgroupKind::V2,
            Driver::V1 { .. } => CgroupKind::V1,
            Driver::None => CgroupKind::None,
        }
    }

    /// Makes an (unlimited) instance cgroup. `None` without a driver.
    pub fn create(&self, name: &str) -> std::io::Result<Option<Cgroup>> {
        let cgroup = match self {
            Driver::None => return Ok(None),
            Driver::V2 { base } => Cgroup { dirs: vec![base.join(name)], kind: CgroupKind::V2 },
            Driver::V1 { memory, pids, cpu } => {
                Cgroup { dirs: vec![memory.join(name), pids.join(name), cpu.join(name)], kind: CgroupKind::V1 }
            }
        };
        for dir in &cgroup.dirs {
            ensure_dir(dir)?;
        }
        Ok(Some(cgroup))
    }
}

impl Cgroup {
    /// Writes the instance's limits: memory (no swap), processes, and a CPU share proportional to memory.
    pub fn set_limits(&self, limits: &Limits) -> std::io::Result<()> {
        let memory = u64::from(limits.memory_mb) << 20;
        // FC allocates CPU in proportion to memory: shares (v1) and weight (v2) scale with memorySize.
        let share = u64::from(limits.memory_mb).max(2);
        match self.kind {
            CgroupKind::V2 => {
                let dir = &self.dirs[0];
                write(&dir.join("memory.max"), &memory.to_string())?;
                let _ = write(&dir.join("memory.swap.max"), "0");
                write(&dir.join("pids.max"), &limits.pids.to_string())?;
                let _ = write(&dir.join("cpu.weight"), &(share * 10_000 / 3072).clamp(1, 10_000).to_string());
            }
            CgroupKind::V1 => {
                let memory_dir = &self.dirs[0];
                write(&memory_dir.join("memory.limit_in_bytes"), &memory.to_string())?;
                // No swap: past the limit the OOM killer acts, as on FC. memsw exists only with swap accounting.
                let _ = write(&memory_dir.join("memory.memsw.limit_in_bytes"), &memory.to_string());
                let _ = write(&memory_dir.join("memory.swappiness"), "0");
                write(&self.dirs[1].join("pids.max"), &limits.pids.to_string())?;
                write(&self.dirs[2].join("cpu.shares"), &share.to_string())?;
            }
            CgroupKind::None => {}
        }
        Ok(())
    }

    /// Places process `pid` (and so everything it forks later) in every directory of the cgroup.
    pub fn join(&self, pid: i32) -> std::io::Result<()> {
        for dir in &self.dirs {
            write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    /// The file the kernel keeps the peak memory use in (bytes).
    pub fn memory_peak_file(&self) -> PathBuf {
        match self.kind {
            CgroupKind::V2 => self.dirs[0].join("memory.peak"),
            _ => self.dirs[0].join("memory.max_usage_in_bytes"),
        }
    }

    /// Whether the OOM killer ended a process in this cgroup.
    pub fn oom_killed(&self) -> bool {
        let (file, key) = match self.kind {
            CgroupKind::V2 => ("memory.events", "oom_kill"),
            _ => ("memory.oom_control", "oom_kill"),
        };
        let text = fs::read_to_string(self.dirs[0].join(file)).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .any(|(k, v)| k == key && v.trim().parse::<u64>().is_ok_and(|n| n > 0))
    }

    /// Removes the directories, which are empty once the instance's processes are gone. False while
    /// some are still exiting: the caller tries again later.
    pub fn remove(&self) -> bool {
        self.dirs.iter().all(|dir| match fs::remove_dir(dir) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        })
    }
}

fn ensure_dir(dir: &Path) -> std::io::Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Existing but not ours to write (another user's server) is as good as missing.
            let probe = dir.join("cgroup.procs");
            fs::OpenOptions::new().write(true).open(probe).map(drop)
        }
        Err(e) => Err(e),
    }
}

fn write(path: &Path, value: &str) -> std::io::Result<()> {
    fs::OpenOptions::new().write(true).open(path)?.write_all(value.as_bytes())
}

/// Removes instance cgroups a crashed helper left behind. Instance cgroups are named `<helper pid>-<n>`,
/// so those of helpers still running (other servers on this machine) are left alone; a directory that
/// still holds processes refuses removal anyway.
fn sweep(parents: &[PathBuf]) {
    for parent in parents {
        let Ok(entries) = fs::read_dir(parent) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(owner) = name.to_str().and_then(|n| n.split_once('-')).map(|(pid, _)| pid) else { continue };
            if owner.parse::<u32>().is_ok() && !Path::new("/proc").join(owner).exists() {
                let _ = fs::remove_dir(entry.path());
            }
        }
    }
}
