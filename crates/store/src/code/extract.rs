//! Unpacking one zip into a fresh staging directory, refusing anything hostile on the way.
//!
//! Every limit is enforced on what is actually produced, never on sizes the archive declares: the
//! decompressed stream is counted chunk by chunk and extraction stops at the first chunk over a limit.
//! The staging directory belongs to this call alone, so an in-memory map of what has been created is the
//! whole truth about it; the extractor never asks the disk and therefore never follows a symlink it made.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{Cursor, ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zip::read::ZipFile;
use zip::result::ZipError;
use zip::ZipArchive;

use super::entry::{normalize_entry_name, symlink_target_is_safe, MAX_SYMLINK_TARGET_BYTES};
use super::{CodeError, CodeLimits, PathProblem};

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

/// Ratio checks start above this much output: tiny, highly compressible files (empty `__init__.py`s,
/// JSON full of spaces) are normal and harmless.
const RATIO_GRACE_BYTES: u64 = 1024 * 1024;

/// The smallest central directory header; bounds how many entries a zip of a given size can declare.
const CENTRAL_HEADER_MIN_BYTES: u64 = 46;
const CENTRAL_HEADER_SIGNATURE: &[u8; 4] = b"PK\x01\x02";

const COPY_BUFFER_BYTES: usize = 64 * 1024;

/// Extracts `zip` into `dest`, an empty directory, and makes the result read-only.
///
/// Duplicate names: the later entry wins, as with `unzip -o` and Python's `extractall`; the zip reader
/// already collapses byte-identical names to the last one's data, and names equal after normalisation
/// (`a`, `./a`) are replaced in reader order. A file and a directory claiming one name, or an entry beneath
/// a file or symlink, are refused as [`CodeError::ConflictingEntry`] instead: last-wins there would mean
/// deleting a subtree or writing through a link.
pub(crate) fn extract(zip: &[u8], dest: &Path, limits: &CodeLimits) -> Result<(), CodeError> {
    let zip_len = zip.len() as u64;
    refuse_excess_headers(zip, limits.max_entries)?;
    let mut archive = ZipArchive::new(Cursor::new(zip)).map_err(|source| CodeError::NotAZip { source })?;
    // Unreachable after the header scan, kept so the limit holds even if that scan is ever relaxed.
    if archive.len() as u64 > limits.max_entries {
        return Err(CodeError::TooManyEntries { limit: limits.max_entries });
    }
    let mut tree = Tree::new(dest);
    let mut budget = Budget { limits, zip_len, total: 0 };
    let mut buf = vec![0; COPY_BUFFER_BYTES];
    for index in 0..archive.len() {
        let name = archive.name_for_index(index).unwrap_or_default().to_owned();
        let mut entry =
            archive.by_index(index).map_err(|source| CodeError::CorruptEntry { name: name.clone(), source })?;
        let components = normalize_entry_name(&name)?;
        let file_type = entry.unix_mode().map(|mode| mode & S_IFMT);
        if entry.is_dir() || file_type == Some(S_IFDIR) {
            // `./` or `a/..`: the root itself, which already exists.
            if !components.is_empty() {
                tree.make_dir(&components, &name)?;
            }
            continue;
        }
        if file_type == Some(S_IFLNK) {
            let target = read_symlink_target(&mut entry, &name, &mut budget)?;
            if !symlink_target_is_safe(&components, &target) {
                return Err(CodeError::UnsafeSymlink { name, target });
            }
            let path = tree.place_leaf(&components, &name)?;
            std::os::unix::fs::symlink(&target, &path).map_err(|e| CodeError::io(&path, e))?;
        } else {
            let executable = entry.unix_mode().is_some_and(|mode| mode & 0o111 != 0);
            let path = tree.place_leaf(&components, &name)?;
            write_file(&mut entry, &name, &path, executable, &mut budget, &mut buf)?;
        }
    }
    tree.seal()
}

/// Refuses before parsing when the bytes hold more central directory headers than `max_entries`.
///
/// The zip reader materialises every declared entry up front (a few hundred bytes each), so a 100 MiB
/// archive of empty entries would cost far more memory than its size before `len()` could be checked.
/// Each header it accepts starts with the signature at a distinct offset, so counting signatures is an
/// upper bound; stored nested zips can inflate it, which matters only past the limit. Archives too small
/// to hold that many headers skip the scan.
fn refuse_excess_headers(zip: &[u8], max_entries: u64) -> Result<(), CodeError> {
    let most_possible = zip.len() as u64 / CENTRAL_HEADER_MIN_BYTES;
    if most_possible <= max_entries {
        return Ok(());
    }
    let mut seen = 0u64;
    for window in zip.windows(CENTRAL_HEADER_SIGNATURE.len()) {
        if window == CENTRAL_HEADER_SIGNATURE {
            seen += 1;
            if seen > max_entries {
                return Err(CodeError::TooManyEntries { limit: max_entries });
            }
        }
    }
    Ok(())
}

fn read_symlink_target(
    entry: &mut ZipFile<'_, Cursor<&[u8]>>,
    name: &str,
    budget: &mut Budget<'_>,
) -> Result<String, CodeError> {
    let mut raw = Vec::new();
    // One byte over the limit is enough to know the target is too long.
    let limit = MAX_SYMLINK_TARGET_BYTES as u64 + 1;
    Read::take(&mut *entry, limit).read_to_end(&mut raw).map_err(|e| corrupt(name, e))?;
    budget.charge(raw.len() as u64, raw.len() as u64, entry.compressed_size())?;
    String::from_utf8(raw).map_err(|e| CodeError::UnsafeSymlink {
        name: name.to_owned(),
        target: String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn write_file(
    entry: &mut ZipFile<'_, Cursor<&[u8]>>,
    name: &str,
    path: &Path,
    executable: bool,
    budget: &mut Budget<'_>,
    buf: &mut [u8],
) -> Result<(), CodeError> {
    let io = |e| CodeError::io(path, e);
    // 0600 while writing; the final mode is set with fchmod below, which the umask cannot narrow.
    let mut file: File = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
    let compressed = entry.compressed_size();
    let mut written = 0u64;
    loop {
        let n = match entry.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(corrupt(name, e)),
        };
        written += n as u64;
        budget.charge(written, n as u64, compressed)?;
        file.write_all(&buf[..n]).map_err(io)?;
    }
    let mode = if executable { 0o555 } else { 0o444 };
    file.set_permissions(Permissions::from_mode(mode)).map_err(io)
}

fn corrupt(name: &str, source: std::io::Error) -> CodeError {
    CodeError::CorruptEntry { name: name.to_owned(), source: ZipError::Io(source) }
}

/// Counts actual output against the limits.
struct Budget<'a> {
    limits: &'a CodeLimits,
    zip_len: u64,
    total: u64,
}

impl Budget<'_> {
    /// Charges `chunk` more bytes; `entry_so_far` already includes them.
    fn charge(&mut self, entry_so_far: u64, chunk: u64, compressed: u64) -> Result<(), CodeError> {
        let limits = self.limits;
        self.total = self.total.saturating_add(chunk);
        if self.total > limits.max_unpacked_bytes {
            return Err(CodeError::UnpackedTooLarge { limit: limits.max_unpacked_bytes });
        }
        for (out, input) in [(entry_so_far, compressed), (self.total, self.zip_len)] {
            if out > RATIO_GRACE_BYTES && out > limits.max_ratio.saturating_mul(input) {
                return Err(CodeError::CompressionRatio { ratio: out / input.max(1), limit: limits.max_ratio });
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    /// A file or a symlink: nothing may be created beneath it.
    Leaf,
}

/// What this extraction has created under its root, keyed by normalised `/`-joined relative path.
struct Tree<'a> {
    root: &'a Path,
    kinds: HashMap<String, Kind>,
    dirs: Vec<PathBuf>,
}

impl<'a> Tree<'a> {
    fn new(root: &'a Path) -> Self {
        Tree { root, kinds: HashMap::new(), dirs: Vec::new() }
    }

    fn make_dir(&mut self, components: &[&str], name: &str) -> Result<(), CodeError> {
        self.ensure_dirs(components, name).map(drop)
    }

    /// Makes room for a file or symlink: creates missing parents and, when an earlier entry had the same
    /// name, removes it (last one wins). Returns the absolute path to create.
    fn place_leaf(&mut self, components: &[&str], name: &str) -> Result<PathBuf, CodeError> {
        let Some((leaf, parents)) = components.split_last() else {
            return Err(CodeError::UnsafePath { name: name.to_owned(), reason: PathProblem::Empty });
        };
        let mut key = self.ensure_dirs(parents, name)?;
        if !key.is_empty() {
            key.push('/');
        }
        key.push_str(leaf);
        let path = self.root.join(&key);
        match self.kinds.get(&key) {
            Some(Kind::Dir) => return Err(conflict(name)),
            Some(Kind::Leaf) => fs::remove_file(&path).map_err(|e| CodeError::io(&path, e))?,
            None => {
                self.kinds.insert(key, Kind::Leaf);
            }
        }
        Ok(path)
    }

    /// Creates each missing directory along `components`; returns their joined key.
    fn ensure_dirs(&mut self, components: &[&str], name: &str) -> Result<String, CodeError> {
        let mut key = String::new();
        for component in components {
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(component);
            match self.kinds.get(&key) {
                Some(Kind::Dir) => {}
                Some(Kind::Leaf) => return Err(conflict(name)),
                None => {
                    let path = self.root.join(&key);
                    fs::create_dir(&path).map_err(|e| CodeError::io(&path, e))?;
                    self.kinds.insert(key.clone(), Kind::Dir);
                    self.dirs.push(path);
                }
            }
        }
        Ok(key)
    }

    /// Directories become 0555 last, once nothing more needs to be created in them.
    fn seal(self) -> Result<(), CodeError> {
        for dir in self.dirs.iter().map(PathBuf::as_path).chain([self.root]) {
            fs::set_permissions(dir, Permissions::from_mode(0o555)).map_err(|e| CodeError::io(dir, e))?;
        }
        Ok(())
    }
}

fn conflict(name: &str) -> CodeError {
    CodeError::ConflictingEntry { name: name.to_owned() }
}
