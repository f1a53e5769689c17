//! The Java runtime: which JDK runs `java8`/`java11`, building Ferric's runtime classes
//! (`runtimes/java/src`, plain Java with no dependencies) with that JDK's `javac`, and the JVM's command line.
//!
//! The classes are built at the first Java instance start, not at `cargo build` (javac is not guaranteed
//! there), into `<data-dir>/runtimes/java/runtime-<hash of the sources>.jar`, so a changed runtime gets a
//! new jar and an unchanged one is never built twice. Instances see it read-only.
//!
//! Right after, once per jar and JDK, a training JVM (`ferric.runtime.Train`, in the sandbox like any
//! instance) runs every kind of handler and dumps the classes it loaded into a dynamic class-data-sharing
//! archive, `runtime-<hash>-<jdk hash>.jsa` beside the jar ([`training`]); every instance then maps it
//! (`-XX:SharedArchiveFile`) instead of loading and verifying those classes again. A failed training is
//! recorded (`.jsa.failed`, with the reason) and instances start without an archive.

use std::path::{Path, PathBuf};

use crate::clock::Clock;
use crate::discovery::Interpreter;
use crate::spawner::Spawner;
use crate::InvokerConfig;

mod training;

use training::TRAINING_MEMORY_MB;

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

/// FNV-1a over byte strings, each ended by a 0: names built files after what they are built from.
fn fnv(parts: impl Iterator<Item = impl AsRef<[u8]>>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.as_ref().iter().chain([0u8].iter()) {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x100_0000_01b3);
        }
    }
    hash
}

/// Names the runtime's jar: every source's path and bytes.
fn sources_hash() -> u64 {
    fnv(sources().flat_map(|(path, bytes)| [path.as_bytes(), bytes]))
}

/// The runtime's jar (below the runtimes directory). A jar, not a class directory: CDS archives classes
/// from jars only.
pub(crate) fn jar_name() -> String {
    format!("java/runtime-{:016x}.jar", sources_hash())
}

/// The class-data-sharing archive of that jar on `jdk` (below the runtimes directory): an archive is
/// valid for one JVM build and one jar only.
pub(crate) fn archive_name(jdk: &Interpreter) -> String {
    let jdk_id = fnv([jdk.path.as_os_str().as_encoded_bytes(), jdk.version.as_bytes()].into_iter());
    format!("java/runtime-{:016x}-{:016x}.jsa", sources_hash(), jdk_id)
}

/// Builds the runtime's jar with the JDK's `javac` and `jar` unless this version of it is built already.
/// Blocking (a few seconds, once); concurrent callers each build in their own directory and the first to
/// link its jar into place wins (a link never replaces a jar an archive may already describe).
pub(crate) fn ensure_built(jdk: &Interpreter, runtimes_dir: &Path) -> Result<PathBuf, String> {
    let target = runtimes_dir.join(jar_name());
    if target.exists() {
        return Ok(target);
    }
    let javac = jdk.path.with_file_name("javac");
    let staging = runtimes_dir.join(format!("java/.build-{}", uuid::Uuid::new_v4().simple()));
    let src = staging.join("src");
    let out = staging.join("classes");
    let jar = staging.join("runtime.jar");
    let run = |program: &Path, args: &mut std::process::Command| -> Result<(), String> {
        let output = args
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        if !output.status.success() {
            return Err(format!("{} failed: {}", program.display(), String::from_utf8_lossy(&output.stderr)));
        }
        Ok(())
    };
    let result = (|| {
        let mut files = Vec::new();
        for (path, bytes) in sources() {
            let file = src.join(path);
            std::fs::create_dir_all(file.parent().expect("below src")).map_err(|e| e.to_string())?;
            std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
            files.push(file);
        }
        let mut compile = std::process::Command::new(&javac);
        compile
            .args(["--release", "8", "-Xlint:-options", "-encoding", "UTF-8", "-nowarn", "-d"])
            .arg(&out)
            .args(&files);
        run(&javac, &mut compile)?;
        let jar_tool = jdk.path.with_file_name("jar");
        let mut pack = std::process::Command::new(&jar_tool);
        pack.arg("--create").arg("--file").arg(&jar).arg("-C").arg(&out).arg(".");
        run(&jar_tool, &mut pack)?;
        match std::fs::hard_link(&jar, &target) {
            Ok(()) => Ok(()),
            Err(_) if target.exists() => Ok(()),
            Err(e) => Err(format!("cannot place the Java runtime at {}: {e}", target.display())),
        }
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result.map(|()| target)
}

/// Whether JVMs use a CDS archive: `FERRIC_JAVA_CDS=off` turns it off (to measure what it saves, or to
/// rule it out when a JVM misbehaves).
pub(crate) fn cds_enabled() -> bool {
    std::env::var_os("FERRIC_JAVA_CDS").is_none_or(|v| v != "off")
}

/// What a Java instance needs before its JVM starts: the runtime's jar (built off the async threads),
/// then its class-data-sharing archive (best effort: without one the JVM only starts slower).
pub(crate) async fn prepare(
    spawner: &dyn Spawner,
    config: &InvokerConfig,
    jdk: &Interpreter,
    clock: Clock,
) -> Result<(), String> {
    let (built_by, dir) = (jdk.clone(), config.runtimes_dir.clone());
    tokio::task::spawn_blocking(move || ensure_built(&built_by, &dir)).await.map_err(|e| e.to_string())??;
    if cds_enabled() {
        training::ensure_archive(spawner, config, jdk, clock).await;
    }
    Ok(())
}

/// The JVM's arguments: one JVM per instance, sized to the function's memory, mapping the runtime's
/// class-data-sharing archive when there is one (`archive`, as the instance sees it).
pub(crate) fn jvm_args(memory_mb: u32, jar: &str, archive: Option<&str>) -> Vec<String> {
    let mut args = jvm_options(memory_mb);
    if let Some(archive) = archive {
        args.push(format!("-XX:SharedArchiveFile={archive}"));
        // An archive the JVM cannot use (it checks the JVM build and the jar) costs the speed-up only:
        // its warnings would otherwise land in the function's log.
        args.push("-Xlog:cds=off,cds+dynamic=off".into());
    }
    args.extend(["-cp".into(), jar.into(), "ferric.runtime.Bootstrap".into()]);
    args
}

/// What every JVM of the runtime runs with, the training one included (CDS wants the same GC).
fn jvm_options(memory_mb: u32) -> Vec<String> {
    // The heap gets most of the memory; metaspace, code cache, stacks and buffers the rest.
    let heap = (u64::from(memory_mb) * 3 / 4).max(32);
    vec![
        format!("-Xmx{heap}m"),
        // One GC thread and no JIT tiers past C1: faster starts and fewer threads for small instances.
        "-XX:+UseSerialGC".into(),
        "-XX:TieredStopAtLevel=1".into(),
        // The JDK's own archive, and on top of it the runtime's (`-XX:SharedArchiveFile`): class loading
        // is most of a JVM's start.
        "-Xshare:auto".into(),
        // No /tmp/hsperfdata_<user> file per JVM.
        "-XX:-UsePerfData".into(),
        // A full heap ends the instance (the invoker reports the exit) rather than leaving it half-working.
        "-XX:+ExitOnOutOfMemoryError".into(),
        // The runtime points a FileDescriptor at fd 3 (see runtimes/java/README.md).
        "--add-opens".into(),
        "java.base/java.io=ALL-UNNAMED".into(),
    ]
}

/// The training JVM's arguments: `ferric.runtime.Train` dumps its loaded classes to `dump` (inside the
/// instance) and sends the file back on the control socket.
fn training_args(jar: &str, dump: &str) -> Vec<String> {
    let mut args = jvm_options(TRAINING_MEMORY_MB);
    args.extend(
        ["-XX:+RecordDynamicDumpInfo", "-Xlog:cds=off,cds+dynamic=off", "-cp", jar, "ferric.runtime.Train", dump]
            .map(String::from),
    );
    args
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
        let listing = std::process::Command::new(jdk.path.with_file_name("jar"))
            .arg("--list")
            .arg("--file")
            .arg(&built)
            .output()
            .expect("jar --list");
        let listing = String::from_utf8_lossy(&listing.stdout);
        for class in ["javax/servlet/http/HttpServletRequest.class", "ferric/runtime/Train$Handler.class"] {
            assert!(listing.lines().any(|l| l == class), "{class} in {listing}");
        }
        let stamp = std::fs::metadata(&built).expect("stat").modified().expect("mtime");
        assert_eq!(ensure_built(&jdk, dir.path()).expect("cached"), built);
        let again = std::fs::metadata(&built).expect("stat").modified().expect("mtime");
        assert_eq!(stamp, again, "not rebuilt");
    }
}
