//! Code packages: uploaded zips, content-addressed by FC's `codeChecksum` (CRC-64/XZ) and extracted once
//! into a read-only tree that every instance of that code shares.
//!
//! Uploads are hostile until proven otherwise: names that climb out of the tree, symlinks that point out
//! of it, and zip bombs are refused before anything gets its final name, and on refusal nothing remains.
//! All I/O is blocking `std::fs`; async callers use `spawn_blocking`. Unix only (modes and symlinks).
//!
//! Layout:
//! - `checksum`: CRC-64/XZ, one-shot and streaming, and the canonical checksum string.
//! - `store`: [`CodeStore`], the directory of `<checksum>.zip` and `<checksum>/`, with crash-safe renames.
//! - `extract`: unpacking into a staging directory under [`CodeLimits`], then sealing it read-only.
//! - `entry`: the lexical rules for entry names and symlink targets.
//! - `build`: zips the server makes itself (one file, empty) and [`looks_like_zip`].
//! - `error`: [`CodeError`], split into client faults and store faults.

mod build;
mod checksum;
mod entry;
mod error;
mod extract;
mod store;

#[cfg(test)]
mod tests;

pub use build::{empty_zip, looks_like_zip, zip_single_file};
pub use checksum::{crc64_xz, Crc64Digest};
pub use error::{CodeError, PathProblem};
pub use store::{CodePackage, CodeStore};

/// Bounds on what one upload may cost. Defaults follow FC: 100 MiB zipped, 500 MiB unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CodeLimits {
    /// Largest accepted zip, in bytes.
    pub max_zip_bytes: u64,
    /// Largest total of bytes actually written while extracting.
    pub max_unpacked_bytes: u64,
    /// Most entries (files, directories, symlinks) in one zip.
    pub max_entries: u64,
    /// Largest unpacked-to-packed ratio, for the whole zip and for each entry, checked past 1 MiB of output.
    /// Deflate tops out near 1032:1, so the default catches only near-pure padding; nested or overlapping
    /// bombs are caught by `max_unpacked_bytes`.
    pub max_ratio: u64,
}

impl Default for CodeLimits {
    fn default() -> Self {
        CodeLimits {
            max_zip_bytes: 100 * 1024 * 1024,
            max_unpacked_bytes: 500 * 1024 * 1024,
            max_entries: 100_000,
            max_ratio: 1000,
        }
    }
}
