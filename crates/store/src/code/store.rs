//! The on-disk store: `<root>/<checksum>.zip` beside `<root>/<checksum>/`, both read-only.
//!
//! A package is present when both exist. `put` builds everything under temporary names and renames the
//! extracted directory into place before the zip, so a crash (or a failed zip write) leaves at worst a
//! complete directory without its zip: `put` adopts it and `list` reports it for garbage collection.
//! `remove` deletes the zip first for the same reason. Temporary names start with a dot and checksums are
//! digits, so the two never collide; `open` deletes whatever temporaries a crash left behind.
//!
//! Nothing is fsynced. The durability target is a process crash (`kill -9`), which the page cache
//! survives; a power loss may lose recently stored packages. An fsync per file would cap the control plane
//! far below the 500 creates per second it must sustain.

use std::collections::BTreeSet;
use std::fs::{self, File, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::checksum::{crc64_xz, require_checksum};
use super::extract::extract;
use super::{CodeError, CodeLimits};

const STAGING_PREFIX: &str = ".staging-";
const TEMP_ZIP_PREFIX: &str = ".tmp-";
const TRASH_PREFIX: &str = ".trash-";

/// A stored package as FC describes it: `codeChecksum` and `codeSize`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CodePackage {
    /// CRC-64/XZ of the zip, as an unsigned decimal.
    pub checksum: String,
    /// Size of the zip in bytes.
    pub size: u64,
}

/// A handle to the code directory. Cloning is shallow (one reference count); every method does blocking
/// file I/O, so async callers go through `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct CodeStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    limits: CodeLimits,
}

impl CodeStore {
    /// Opens (creating if needed) the store at `root` and deletes temporaries left by a crash.
    pub fn open(root: PathBuf, limits: CodeLimits) -> Result<CodeStore, CodeError> {
        fs::create_dir_all(&root).map_err(|e| CodeError::io(&root, e))?;
        for item in fs::read_dir(&root).map_err(|e| CodeError::io(&root, e))? {
            let item = item.map_err(|e| CodeError::io(&root, e))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let path = item.path();
            if name.starts_with(STAGING_PREFIX) || name.starts_with(TRASH_PREFIX) {
                tracing::info!(path = %path.display(), "removing leftover code staging directory");
                remove_tree(&path)?;
            } else if name.starts_with(TEMP_ZIP_PREFIX) {
                tracing::info!(path = %path.display(), "removing leftover code temp file");
                remove_file_if_present(&path)?;
            }
        }
        Ok(CodeStore { inner: Arc::new(Inner { root, limits }) })
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    pub fn limits(&self) -> &CodeLimits {
        &self.inner.limits
    }

    /// Stores and extracts `zip` unless the same bytes are already stored. Everything is validated in a
    /// staging directory before anything gets its final name; on error nothing new remains in the root.
    pub fn put(&self, zip: &[u8]) -> Result<CodePackage, CodeError> {
        let limits = &self.inner.limits;
        let size = zip.len() as u64;
        if size > limits.max_zip_bytes {
            return Err(CodeError::ZipTooLarge { size, limit: limits.max_zip_bytes });
        }
        let package = CodePackage { checksum: crc64_xz(zip).to_string(), size };
        let zip_path = self.root().join(format!("{}.zip", package.checksum));
        let target = self.root().join(&package.checksum);
        if zip_path.exists() && target.is_dir() {
            return Ok(package);
        }
        if !target.is_dir() {
            let staging = TempPath::new(self.root(), STAGING_PREFIX, "");
            fs::create_dir(&staging.path).map_err(|e| CodeError::io(&staging.path, e))?;
            extract(zip, &staging.path, limits)?;
            self.publish_dir(staging, &target)?;
        }
        let temp_zip = TempPath::new(self.root(), TEMP_ZIP_PREFIX, ".zip");
        write_read_only(&temp_zip.path, zip)?;
        fs::rename(&temp_zip.path, &zip_path).map_err(|e| CodeError::io(&zip_path, e))?;
        temp_zip.keep();
        tracing::debug!(checksum = %package.checksum, size, "stored code package");
        Ok(package)
    }

    /// Renames a finished staging directory to `target`. Losing the race to a concurrent `put` of the same
    /// bytes is success: content addressing makes the winner's tree identical.
    fn publish_dir(&self, staging: TempPath, target: &Path) -> Result<(), CodeError> {
        match fs::rename(&staging.path, target) {
            Ok(()) => {
                staging.keep();
                Ok(())
            }
            Err(_) if target.is_dir() => Ok(()),
            Err(e) => Err(CodeError::io(target, e)),
        }
    }

    /// `<root>/<checksum>.zip`, the package as uploaded.
    pub fn zip_path(&self, checksum: &str) -> Result<PathBuf, CodeError> {
        Ok(self.root().join(format!("{}.zip", require_checksum(checksum)?)))
    }

    /// `<root>/<checksum>/`, the read-only extracted tree instances run from.
    pub fn extracted_dir(&self, checksum: &str) -> Result<PathBuf, CodeError> {
        Ok(self.root().join(require_checksum(checksum)?))
    }

    /// Whether the package is fully present (zip and extracted tree). False for a malformed checksum.
    pub fn contains(&self, checksum: &str) -> bool {
        match (self.zip_path(checksum), self.extracted_dir(checksum)) {
            (Ok(zip), Ok(dir)) => zip.is_file() && dir.is_dir(),
            _ => false,
        }
    }

    /// Deletes the package; a missing one is not an error. The tree is renamed aside before it is deleted
    /// so a crash midway never leaves a half-deleted tree under a checksum name.
    pub fn remove(&self, checksum: &str) -> Result<(), CodeError> {
        let zip_path = self.zip_path(checksum)?;
        let dir = self.extracted_dir(checksum)?;
        remove_file_if_present(&zip_path)?;
        let trash = TempPath::new(self.root(), TRASH_PREFIX, "");
        match fs::rename(&dir, &trash.path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {
                trash.keep();
                return Ok(());
            }
            Err(e) => return Err(CodeError::io(&dir, e)),
        }
        let result = remove_tree(&trash.path);
        trash.keep();
        result
    }

    /// Checksums with anything on disk (zip, tree or both), sorted: the candidates for garbage collection.
    pub fn list(&self) -> Result<Vec<String>, CodeError> {
        let root = self.root();
        let mut found = BTreeSet::new();
        for item in fs::read_dir(root).map_err(|e| CodeError::io(root, e))? {
            let item = item.map_err(|e| CodeError::io(root, e))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let stem = name.strip_suffix(".zip").unwrap_or(name);
            if require_checksum(stem).is_ok() {
                found.insert(stem.to_owned());
            }
        }
        Ok(found.into_iter().collect())
    }
}

/// Writes a new file and makes it 0444; the zip is never modified in place.
fn write_read_only(path: &Path, bytes: &[u8]) -> Result<(), CodeError> {
    let io = |e| CodeError::io(path, e);
    let mut file = File::create_new(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.set_permissions(Permissions::from_mode(0o444)).map_err(io)
}

fn remove_file_if_present(path: &Path) -> Result<(), CodeError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(CodeError::io(path, e)),
        _ => Ok(()),
    }
}

/// Deletes a tree that may be sealed read-only: directories are made writable again first (unlinking
/// needs write permission on the parent), without following symlinks.
pub(crate) fn remove_tree(path: &Path) -> Result<(), CodeError> {
    match make_writable(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        other => other.map_err(|e| CodeError::io(path, e))?,
    }
    fs::remove_dir_all(path).map_err(|e| CodeError::io(path, e))
}

fn make_writable(dir: &Path) -> std::io::Result<()> {
    fs::set_permissions(dir, Permissions::from_mode(0o755))?;
    for item in fs::read_dir(dir)? {
        let item = item?;
        if item.file_type()?.is_dir() {
            make_writable(&item.path())?;
        }
    }
    Ok(())
}

/// A uniquely named temporary in the root, deleted on drop unless kept: every early return of `put`
/// cleans up after itself.
struct TempPath {
    path: PathBuf,
    armed: bool,
}

impl TempPath {
    fn new(root: &Path, prefix: &str, suffix: &str) -> Self {
        TempPath { path: root.join(format!("{prefix}{}{suffix}", uuid::Uuid::new_v4())), armed: true }
    }

    /// The path was renamed away or is handled by the caller; leave it alone.
    fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let result = match fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.is_dir() => remove_tree(&self.path),
            Ok(_) => remove_file_if_present(&self.path),
            Err(_) => Ok(()),
        };
        if let Err(error) = result {
            tracing::warn!(%error, "could not remove code store temporary; open() will retry");
        }
    }
}
