//! The Java runtime: which JDK runs `java8`/`java11`, building Ferric's runtime classes
//! (`runtimes/java/src`, plain Java with no dependencies) with that JDK's `javac`, and the JVM's command line.
//!
//! The classes are built at the first Java instance start, not at `cargo build` (javac is not guaranteed
//! there), into `<data-dir>/runtimes/java/classes-<hash of the sources>/`, so a changed runtime gets a new
//! directory and an unchanged one is never built twice. Instances see that directory read-only.

use std::path::{Path, PathBuf};

use crate::discovery::Interpreter;

/// FC's Java runtime strings; both run on any installed JDK of their version or newer.
pub const RUNTIMES: &[&str] = &["java8", "java11"];

/// The JDK's `java`, resolved out of `/etc/alternatives` (instances see only `/usr` and a curated `/etc`),
/// with `javac` beside it; its version from the JDK's `release` file, which costs no JVM start.
pub(crate) fn find_jdk() -> Option<Interpreter> {
    let mut candidates: Vec<PathBuf> = vec!["/usr/bin/java".into()];
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("java")));
    }
    for candidate in candidates {
        let Ok(path) = candidate.canonicalize() else { continue };
        let Some(home) = path.parent().and_then(Path::parent) else { continue };
        if !path.parent().is_some_and(|bin| bin.join("javac").exists()) {
            continue;
        }
        let Ok(release) = std::fs::read_to_string(home.join("release")) else { continue };
        let version =
            release.lines().find_map(|l| l.strip_prefix("JAVA_VERSION=")).map(|v| v.trim_matches('"').to_string());
        if let Some(version) = version {
            return Some(Interpreter { path, version });
        }
    }
    None
}

/// The JDK, if it is new enough for `runtime` (`java8` on 8+, `java11` on 11+).
pub(crate) fn runs<'a>(jdk: &'a Interpreter, runtime: &str) -> Option<&'a Interpreter> {
    let wanted: u32 = runtime.strip_prefix("java")?.parse().ok()?;
    let mut parts = jdk.version.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    let major = if first == 1 { parts.next()?.parse().ok()? } else { first };
    (RUNTIMES.contains(&runtime) && major >= wanted).then_some(jdk)
}

/// The embedded Java sources, with their paths below `runtimes/java/src`.
fn sources() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    crate::bootstrap::FILES.iter().filter_map(|(path, bytes)| Some((path.strip_prefix("java/src/")?, *bytes)))
}

/// FNV-1a over every source's path and bytes: names the class directory.
fn sources_hash() -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, bytes) in sources() {
        for b in path.as_bytes().iter().chain([0u8].iter()).chain(bytes.iter()) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x100_0000_01b3);
        }
    }
    hash
}

/// The directory (below the runtimes directory) of the built classes.
pub(crate) fn classes_dir_name() -> String {
    format!("java/classes-{:016x}", sources_hash())
}

/// Builds the runtime classes with the JDK's `javac` unless this version of them is built already.
/// Blocking (a few seconds, once); concurrent callers each build into their own directory and the first
/// rename wins.
pub(crate) fn ensure_built(jdk: &Interpreter, runtimes_dir: &Path) -> Result<PathBuf, String> {
    let target = runtimes_dir.join(classes_dir_name());
    if target.join("ferric/runtime/Bootstrap.class").exists() {
        return Ok(target);
    }
    let javac = jdk.path.with_file_name("javac");
    let staging = runtimes_dir.join(format!("java/.build-{}", uuid::Uuid::new_v4().simple()));
    let src = staging.join("src");
    let out = staging.join("classes");
    let result = (|| {
        let mut files = Vec::new();
        for (path, bytes) in sources() {
            let file = src.join(path);
            std::fs::create_dir_all(file.parent().expect("below src")).map_err(|e| e.to_string())?;
            std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
            files.push(file);
        }
        let output = std::process::Command::new(&javac)
            .args(["--release", "8", "-Xlint:-options", "-encoding", "UTF-8", "-nowarn", "-d"])
            .arg(&out)
            .args(&files)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", javac.display()))?;
        if !output.status.success() {
            return Err(format!("javac failed: {}", String::from_utf8_lossy(&output.stderr)));
        }
        match std::fs::rename(&out, &target) {
            Ok(()) => Ok(()),
            Err(_) if target.join("ferric/runtime/Bootstrap.class").exists() => Ok(()),
            Err(e) => Err(format!("cannot place the Java runtime at {}: {e}", target.display())),
        }
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result.map(|()| target)
}

/// The JVM's arguments: one JVM per instance, sized to the function's memory.
pub(crate) fn jvm_args(memory_mb: u32, classes: &str) -> Vec<String> {
    // The heap gets most of the memory; metaspace, code cache, stacks and buffers the rest.
    let heap = (u64::from(memory_mb) * 3 / 4).max(32);
    vec![
        format!("-Xmx{heap}m"),
        // One GC thread and no JIT tiers past C1: faster starts and fewer threads for small instances.
        "-XX:+UseSerialGC".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-Xshare:auto".into(),
        // No /tmp/hsperfdata_<user> file per JVM.
        "-XX:-UsePerfData".into(),
        // A full heap ends the instance (the invoker reports the exit) rather than leaving it half-working.
        "-XX:+ExitOnOutOfMemoryError".into(),
        // The runtime points a FileDescriptor at fd 3 (see runtimes/java/README.md).
        "--add-opens".into(),
        "java.base/java.io=ALL-UNNAMED".into(),
        "-cp".into(),
        classes.into(),
        "ferric.runtime.Bootstrap".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java8_and_java11_run_on_newer_jdks_only() {
        let jdk = |v: &str| Interpreter { path: "/x/bin/java".into(), version: v.into() };
        assert!(runs(&jdk("17.0.15"), "java8").is_some() && runs(&jdk("17.0.15"), "java11").is_some());
        assert!(runs(&jdk("1.8.0_392"), "java8").is_some() && runs(&jdk("1.8.0_392"), "java11").is_none());
        assert!(runs(&jdk("17"), "java17").is_none(), "only FC's strings");
        assert!(sources().any(|(p, _)| p == "ferric/runtime/Bootstrap.java"));
        assert!(sources().any(|(p, _)| p == "com/aliyun/fc/runtime/Context.java"));
    }

    #[test]
    fn the_runtime_builds_once_with_the_installed_jdk() {
        let Some(jdk) = find_jdk() else {
            assert!(std::env::var_os("CI").is_none(), "no JDK: run scripts/setup-sdks");
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let built = ensure_built(&jdk, dir.path()).expect("build");
        assert!(built.join("javax/servlet/http/HttpServletRequest.class").exists());
        let stamp =
            std::fs::metadata(built.join("ferric/runtime/Bootstrap.class")).expect("stat").modified().expect("mtime");
        assert_eq!(ensure_built(&jdk, dir.path()).expect("cached"), built);
        let again =
            std::fs::metadata(built.join("ferric/runtime/Bootstrap.class")).expect("stat").modified().expect("mtime");
        assert_eq!(stamp, again, "not rebuilt");
    }
}
