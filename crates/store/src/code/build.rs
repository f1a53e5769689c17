//! Zips made by the server itself, for the form API: a single uploaded file, or no code at all.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::entry::normalize_entry_name;
use super::{CodeError, PathProblem};

/// The end-of-central-directory record alone: a valid archive with no entries.
const EMPTY_ZIP: [u8; 22] = [b'P', b'K', 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// Whether `bytes` start like a zip (a local file header, or the end record of an empty archive), as
/// opposed to a single source file the form API should wrap with [`zip_single_file`].
pub fn looks_like_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

pub fn empty_zip() -> Vec<u8> {
    EMPTY_ZIP.to_vec()
}

/// A deflated zip holding `contents` as `file_name` (mode 0644) at the root.
///
/// The timestamp is fixed at the zip epoch, so the same file always gives the same bytes and therefore
/// the same checksum: re-deploying an unchanged file reuses the stored package.
pub fn zip_single_file(file_name: &str, contents: &[u8]) -> Result<Vec<u8>, CodeError> {
    let components = normalize_entry_name(file_name)?;
    if components.is_empty() || file_name.ends_with(['/', '\\']) {
        return Err(CodeError::UnsafePath { name: file_name.to_owned(), reason: PathProblem::Empty });
    }
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644)
        .last_modified_time(DateTime::default())
        .large_file(contents.len() as u64 >= u64::from(u32::MAX));
    let build = || -> zip::result::ZipResult<Vec<u8>> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(contents.len() / 2 + 256)));
        writer.start_file(components.join("/"), options)?;
        writer.write_all(contents)?;
        Ok(writer.finish()?.into_inner())
    };
    build().map_err(|source| CodeError::BuildZip { source })
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn single_file_round_trips() {
        let zip = zip_single_file("index.js", b"exports.handler = () => 1;").expect("builds");
        assert!(looks_like_zip(&zip));
        let mut archive = zip::ZipArchive::new(Cursor::new(&zip)).expect("parses");
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).expect("entry");
        assert_eq!(entry.name(), "index.js");
        assert_eq!(entry.compression(), CompressionMethod::Deflated);
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o644));
        let mut body = String::new();
        entry.read_to_string(&mut body).expect("reads");
        assert_eq!(body, "exports.handler = () => 1;");
        drop(entry);
        let again = zip_single_file("index.js", b"exports.handler = () => 1;").expect("builds");
        assert_eq!(zip, again, "deterministic bytes give a stable checksum");
    }

    #[test]
    fn single_file_refuses_bad_names() {
        for name in ["", "../x", "/x", "dir/"] {
            assert!(matches!(zip_single_file(name, b"x"), Err(CodeError::UnsafePath { .. })), "{name}");
        }
    }

    #[test]
    fn empty_zip_parses_and_is_recognised() {
        let zip = empty_zip();
        assert_eq!(zip.len(), 22);
        assert!(looks_like_zip(&zip));
        let archive = zip::ZipArchive::new(Cursor::new(&zip)).expect("parses");
        assert!(archive.is_empty());
        assert!(!looks_like_zip(b"exports.handler = 1"));
        assert!(!looks_like_zip(b"PK"));
    }
}
