//! What can go wrong storing a code package, split by who caused it.
//!
//! Messages of client-caused variants are shown to API users verbatim, so they name the entry and the rule
//! it broke and never mention server paths.

use std::fmt;
use std::path::PathBuf;

/// Why an entry name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// `..` climbs above the package root (after `.`, `..` and empty components are resolved).
    Escapes,
    /// Starts with `/` (or `\`), which would ignore the package root.
    Absolute,
    /// A drive prefix such as `C:\`, which Windows tools would treat as absolute.
    Drive,
    /// A NUL byte, which would truncate the name at the system call.
    Nul,
    /// Nothing left after normalisation (`./`, `a/..`) for an entry that is not a directory.
    Empty,
    /// A component over 255 bytes or a whole name over the store's bound; the file system would refuse it.
    TooLong,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::Escapes => "escapes the code directory",
            PathProblem::Absolute => "is an absolute path",
            PathProblem::Drive => "names a drive",
            PathProblem::Nul => "contains a NUL byte",
            PathProblem::Empty => "has an empty name",
            PathProblem::TooLong => "has a name that is too long",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("code package is not a valid zip archive")]
    NotAZip { source: zip::result::ZipError },

    #[error("code package is {size} bytes, more than the limit of {limit} bytes")]
    ZipTooLarge { size: u64, limit: u64 },

    #[error("code package has more than {limit} entries")]
    TooManyEntries { limit: u64 },

    #[error("code package entry '{name}' {reason}")]
    UnsafePath { name: String, reason: PathProblem },

    #[error("code package symlink '{name}' points to '{target}', outside the code directory")]
    UnsafeSymlink { name: String, target: String },

    /// A file and a directory (or a path through a file or symlink) claim the same name.
    #[error("code package entry '{name}' conflicts with another entry of the same name")]
    ConflictingEntry { name: String },

    /// Encrypted, an unsupported compression method, a bad CRC-32, truncated data.
    #[error("code package entry '{name}' is corrupt or unsupported")]
    CorruptEntry { name: String, source: zip::result::ZipError },

    #[error("code package unpacks to more than {limit} bytes")]
    UnpackedTooLarge { limit: u64 },

    #[error("code package compression ratio exceeds {limit}:1 (at least {ratio}:1), refused as a zip bomb")]
    CompressionRatio { ratio: u64, limit: u64 },

    #[error("invalid code checksum '{checksum}': expected an unsigned decimal")]
    InvalidChecksum { checksum: String },

    /// Building a zip in memory failed; the inputs were already validated, so this is a bug or OOM.
    #[error("building a zip archive failed")]
    BuildZip { source: zip::result::ZipError },

    #[error("code store i/o failed at {}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

impl CodeError {
    /// True when the request (the uploaded bytes or a checksum it names) is at fault: a 4xx, shown verbatim.
    /// False for the store's own failures: a 5xx, logged with the source chain.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, CodeError::Io { .. } | CodeError::BuildZip { .. })
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CodeError::Io { path: path.into(), source }
    }
}
