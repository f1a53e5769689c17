//! The runtime files, embedded in the binary so `ferric` is one self-contained file (the list is generated
//! by `build.rs` from `runtimes/`), and written to `<data-dir>/runtimes/` at start, only when their content
//! changed, through a rename so a starting instance never reads a half-written file.

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/runtime_files.rs"));

pub fn write_all(dir: &Path) -> std::io::Result<()> {
    for (relative, contents) in FILES {
        let path = dir.join(relative);
        if std::fs::read(&path).map(|old| old == *contents).unwrap_or(false) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = path.with_extension("tmp-ferric");
        std::fs::write(&tmp, contents)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(())
}

/// Byte-compiles the Python runtime's helpers with the interpreter that will run them. Sandboxed instances
/// see the runtime directory read-only, so without this every cold start would compile them again (about
/// 7 ms). Best effort: a failure only costs that time.
pub fn compile_python(python: &Path, dir: &Path) {
    let package = dir.join("python/_ferric_runtime");
    let status = std::process::Command::new(python)
        .args(["-I", "-S", "-c", "import compileall, sys; sys.exit(not compileall.compile_dir(sys.argv[1], quiet=1))"])
        .arg(&package)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        tracing::warn!(dir = %package.display(), "cannot byte-compile the Python runtime; cold starts will be slower");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn embeds_both_bootstraps() {
        let names: Vec<&str> = super::FILES.iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&"node/bootstrap.js"), "{names:?}");
        assert!(names.contains(&"python/bootstrap.py"), "{names:?}");
        assert!(names.contains(&"node/node_modules/raw-body/index.js"), "{names:?}");
        assert!(!names.iter().any(|n| n.contains("/test/")), "{names:?}");
    }
}
