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
