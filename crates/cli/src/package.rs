//! A function's code package: its `CodeUri` zipped the same way every time, so the zip's CRC-64/XZ (FC's
//! `codeChecksum`, computed by the same function the server uses) tells whether the code changed since
//! the last deploy without uploading it.
//!
//! Same bytes every time: entries in sorted path order, a fixed timestamp (the zip epoch, 1980-01-01), the
//! permission bits reduced to "executable or not". Left out: `.git`, `.ferric` (a local server's data
//! directory, which a `CodeUri: ./` beside it would otherwise sweep in), `.fun` and `.env` (it holds keys).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub(crate) const SKIPPED_NAMES: &[&str] = &[".git", ".ferric", ".fun", ".env"];

/// A zip ready to upload.
#[derive(Debug, Clone)]
pub struct Package {
    pub zip: Vec<u8>,
    /// CRC-64/XZ of `zip` as FC writes it: an unsigned decimal.
    pub checksum: String,
}

/// Zips `code_uri`: a directory's files, a single file by its name, or an existing `.zip` as it is.
pub fn build(code_uri: &Path) -> Result<Package> {
    let meta = std::fs::metadata(code_uri).with_context(|| format!("cannot read {}", code_uri.display()))?;
    let zip = if meta.is_file() && code_uri.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip")) {
        std::fs::read(code_uri).with_context(|| format!("cannot read {}", code_uri.display()))?
    } else if meta.is_file() {
        let name = code_uri.file_name().and_then(|n| n.to_str()).context("the code file has no UTF-8 name")?;
        zip_files(&[(name.to_string(), code_uri.to_path_buf())])?
    } else {
        let mut files = Vec::new();
        collect(code_uri, "", &mut files)?;
        files.sort();
        if files.is_empty() {
            bail!("{} holds no files", code_uri.display());
        }
        zip_files(&files)?
    };
    let checksum = ferric_store::code::crc64_xz(&zip).to_string();
    Ok(Package { zip, checksum })
}

/// The files under `dir` as (path inside the zip, path on disk). Symlinked files are followed; symlinked
/// directories are not (a link to `..` would never end).
fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            bail!("{} has a file whose name is not UTF-8", dir.display());
        };
        if SKIPPED_NAMES.contains(&name) {
            continue;
        }
        let path = entry.path();
        let inner = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
        let kind = entry.file_type().with_context(|| format!("cannot read {}", path.display()))?;
        if kind.is_dir() {
            collect(&path, &inner, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push((inner, path));
        }
    }
    Ok(())
}

fn zip_files(files: &[(String, PathBuf)]) -> Result<Vec<u8>> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        for (name, path) in files {
            let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let mode = std::fs::metadata(path)?.permissions().mode();
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(zip::DateTime::default())
                .unix_permissions(if mode & 0o111 != 0 { 0o755 } else { 0o644 });
            zip.start_file(name.as_str(), options).context("cannot write the zip")?;
            zip.write_all(&bytes).context("cannot write the zip")?;
        }
        zip.finish().context("cannot write the zip")?;
    }
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_tree_gives_the_same_checksum_and_a_change_another() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("lib")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join(".ferric")).expect("mkdir");
        std::fs::write(dir.path().join("index.js"), "exports.handler = () => {}").expect("write");
        std::fs::write(dir.path().join("lib/a.js"), "1").expect("write");
        std::fs::write(dir.path().join(".env"), "ACCESS_KEY_SECRET=x").expect("write");
        std::fs::write(dir.path().join(".ferric/ferric.db"), "db").expect("write");
        let first = build(dir.path()).expect("zip");
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("lib/a.js"), "1").expect("rewrite, same bytes");
        assert_eq!(build(dir.path()).expect("zip").checksum, first.checksum);
        std::fs::write(dir.path().join("lib/a.js"), "2").expect("write");
        assert_ne!(build(dir.path()).expect("zip").checksum, first.checksum);

        let archive = zip::ZipArchive::new(std::io::Cursor::new(first.zip)).expect("archive");
        let names: Vec<&str> = archive.file_names().collect();
        assert_eq!(names, ["index.js", "lib/a.js"], "sorted, without .env and .ferric");
    }
}
