//! The rules an entry name and a symlink target must follow before anything touches the disk.
//!
//! Both checks are lexical and run on the zip's own strings; the extractor then creates exactly the
//! normalised components, never following anything already on disk, so what is checked here is what lands.

use super::error::PathProblem;
use super::CodeError;

/// Linux's `NAME_MAX`; longer components fail at `open(2)` with a server-looking error.
const MAX_COMPONENT_BYTES: usize = 255;

/// Leaves room under `PATH_MAX` (4096) for `<data-dir>/code/.staging-<uuid>/` in front of the entry.
const MAX_NAME_BYTES: usize = 3072;

/// `PATH_MAX` minus the terminating NUL: the longest target `symlink(2)` accepts.
pub(crate) const MAX_SYMLINK_TARGET_BYTES: usize = 4095;

/// Resolves `.`, `..` and empty components of a zip entry name and returns what is left, which may be
/// empty (the package root).
///
/// `\` counts as a separator: some Windows tools write it, and reading it literally would let `..\x`
/// through as a harmless-looking file name that a later Windows-side unzip would treat as an escape.
pub(crate) fn normalize_entry_name(name: &str) -> Result<Vec<&str>, CodeError> {
    let refuse = |reason| CodeError::UnsafePath { name: name.to_owned(), reason };
    if name.contains('\0') {
        return Err(refuse(PathProblem::Nul));
    }
    if name.starts_with(['/', '\\']) {
        return Err(refuse(PathProblem::Absolute));
    }
    if has_drive_prefix(name) {
        return Err(refuse(PathProblem::Drive));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(refuse(PathProblem::TooLong));
    }
    let mut components = Vec::new();
    for component in name.split(['/', '\\']) {
        match component {
            "" | "." => {}
            ".." => {
                if components.pop().is_none() {
                    return Err(refuse(PathProblem::Escapes));
                }
            }
            _ if component.len() > MAX_COMPONENT_BYTES => return Err(refuse(PathProblem::TooLong)),
            _ => components.push(component),
        }
    }
    Ok(components)
}

/// `C:`, `c:foo`: a drive letter followed by a colon at the start of the name.
fn has_drive_prefix(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// Whether a symlink at `link` (normalised components, the link's own name last) pointing at `target`
/// stays inside the package root.
///
/// Stricter than lexical resolution on purpose: `..` is allowed only as a leading run. Once a target
/// descends through a name, that name may itself be a symlink to a shallower directory, and a `..` after
/// it would climb from wherever that link points, not from where the text suggests (`d/b -> ..` then
/// `d/a -> b/../..` resolves lexically to the root but really to its parent). Leading `..` start from the
/// link's own directory, which the extractor guarantees is a real directory, so counting them is exact;
/// and descending through names, links or not, can only reach places that are themselves checked.
pub(crate) fn symlink_target_is_safe(link: &[&str], target: &str) -> bool {
    if target.is_empty() || target.len() > MAX_SYMLINK_TARGET_BYTES || target.starts_with('/') || target.contains('\0')
    {
        return false;
    }
    let depth = link.len().saturating_sub(1);
    let mut ups = 0;
    let mut descended = false;
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." if descended => return false,
            ".." => ups += 1,
            _ => descended = true,
        }
    }
    ups <= depth
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(name: &str) -> Option<PathProblem> {
        match normalize_entry_name(name) {
            Err(CodeError::UnsafePath { reason, .. }) => Some(reason),
            Err(other) => panic!("unexpected error {other:?}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn normalises_harmless_names() {
        let cases: [(&str, &[&str]); 7] = [
            ("index.js", &["index.js"]),
            ("a/b/c.py", &["a", "b", "c.py"]),
            ("./a//b/", &["a", "b"]),
            ("a/../b", &["b"]),
            ("a\\b", &["a", "b"]),
            ("./", &[]),
            ("a/..", &[]),
        ];
        for (name, want) in cases {
            let got = normalize_entry_name(name).expect("harmless name");
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn refuses_hostile_names() {
        assert_eq!(problem("../x"), Some(PathProblem::Escapes));
        assert_eq!(problem("a/../../x"), Some(PathProblem::Escapes));
        assert_eq!(problem("..\\x"), Some(PathProblem::Escapes));
        assert_eq!(problem("/etc/passwd"), Some(PathProblem::Absolute));
        assert_eq!(problem("\\x"), Some(PathProblem::Absolute));
        assert_eq!(problem("C:\\x"), Some(PathProblem::Drive));
        assert_eq!(problem("c:x"), Some(PathProblem::Drive));
        assert_eq!(problem("a\0b"), Some(PathProblem::Nul));
        assert_eq!(problem(&"x".repeat(256)), Some(PathProblem::TooLong));
        assert_eq!(problem(&"a/".repeat(2000)), Some(PathProblem::TooLong));
        assert_eq!(problem(&"x".repeat(255)), None);
    }

    #[test]
    fn symlink_targets_stay_inside() {
        assert!(symlink_target_is_safe(&["lib.so"], "lib.so.1"));
        assert!(symlink_target_is_safe(&["a", "b", "l"], "../../x"));
        assert!(symlink_target_is_safe(&["a", "l"], ".."));
        assert!(symlink_target_is_safe(&["a", "l"], "./b/c"));
        assert!(!symlink_target_is_safe(&["l"], ".."));
        assert!(!symlink_target_is_safe(&["a", "l"], "../../x"));
        assert!(!symlink_target_is_safe(&["l"], "/etc/passwd"));
        assert!(!symlink_target_is_safe(&["l"], ""));
        assert!(!symlink_target_is_safe(&["a", "b", "l"], "c/../.."));
        assert!(!symlink_target_is_safe(&["l"], "a\0b"));
    }
}
