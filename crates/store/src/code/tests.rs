//! Store-level tests: real zips (hostile ones built with the zip crate's writer) into a temp directory.

use std::collections::BTreeSet;
use std::fs;
use std::io::{Cursor, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::*;

enum Entry<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
}

fn zip_of(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for entry in entries {
        match entry {
            Entry::File(name, body, mode) => {
                writer.start_file(*name, deflated.unix_permissions(*mode)).expect("start file");
                writer.write_all(body).expect("write body");
            }
            Entry::Dir(name) => writer.add_directory(*name, deflated).expect("add dir"),
            Entry::Symlink(name, target) => writer.add_symlink(*name, *target, deflated).expect("add symlink"),
        }
    }
    writer.finish().expect("finish zip").into_inner()
}

fn open_store(limits: CodeLimits) -> (tempfile::TempDir, CodeStore) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = CodeStore::open(tmp.path().join("code"), limits).expect("open store");
    (tmp, store)
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect()
}

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).expect("stat").permissions().mode() & 0o7777
}

/// Puts `zip`, expects a refusal, and checks the root is as empty as before.
fn refused(store: &CodeStore, zip: &[u8]) -> CodeError {
    let before = names_in(store.root());
    let err = store.put(zip).expect_err("hostile zip must be refused");
    assert_eq!(names_in(store.root()), before, "refusal left files behind");
    assert!(err.is_client_error(), "{err:?}");
    err
}

#[test]
fn put_extracts_once_and_is_idempotent() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let zip = zip_of(&[Entry::File("index.js", b"exports.handler = 1;", 0o644)]);
    let package = store.put(&zip).expect("put");
    assert_eq!(package.checksum, crc64_xz(&zip).to_string());
    assert_eq!(package.size, zip.len() as u64);
    assert!(store.contains(&package.checksum));
    let dir = store.extracted_dir(&package.checksum).expect("dir");
    assert_eq!(fs::read(dir.join("index.js")).expect("read"), b"exports.handler = 1;");
    assert_eq!(fs::read(store.zip_path(&package.checksum).expect("zip path")).expect("read zip"), zip);
    let before = names_in(store.root());
    assert_eq!(store.put(&zip).expect("put again"), package);
    assert_eq!(names_in(store.root()), before);
    assert_eq!(before.len(), 2, "{before:?}");
}

#[test]
fn extracted_tree_is_read_only_and_keeps_only_the_exec_bit() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let zip = zip_of(&[
        Entry::File("a/b/c.txt", b"deep", 0o666),
        Entry::Dir("a/d/"),
        Entry::File("run.sh", b"#!/bin/sh\n", 0o755),
        Entry::File("owner-exec", b"x", 0o744),
        Entry::File("setuid", b"x", 0o4777),
        Entry::File("top.txt", b"top", 0o600),
    ]);
    let package = store.put(&zip).expect("put");
    let dir = store.extracted_dir(&package.checksum).expect("dir");
    assert_eq!(fs::read(dir.join("a/b/c.txt")).expect("read"), b"deep");
    assert!(dir.join("a/d").is_dir());
    for (path, mode) in [
        ("", 0o555),
        ("a", 0o555),
        ("a/b", 0o555),
        ("a/d", 0o555),
        ("a/b/c.txt", 0o444),
        ("run.sh", 0o555),
        ("owner-exec", 0o555),
        ("setuid", 0o555),
        ("top.txt", 0o444),
    ] {
        assert_eq!(mode_of(&dir.join(path)), mode, "{path}");
    }
    assert_eq!(mode_of(&store.zip_path(&package.checksum).expect("zip")), 0o444);
}

#[test]
fn empty_zip_gives_an_empty_dir() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let package = store.put(&empty_zip()).expect("put empty");
    let dir = store.extracted_dir(&package.checksum).expect("dir");
    assert!(names_in(&dir).is_empty());
    assert_eq!(package.size, 22);
}

#[test]
fn in_tree_relative_symlinks_are_kept() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let zip = zip_of(&[
        Entry::File("lib/libfoo.so.1", b"elf", 0o755),
        Entry::Symlink("lib/libfoo.so", "libfoo.so.1"),
        Entry::Symlink("bin/foo", "../lib/libfoo.so"),
        Entry::Symlink("lib/self", "."),
    ]);
    let package = store.put(&zip).expect("put");
    let dir = store.extracted_dir(&package.checksum).expect("dir");
    assert_eq!(fs::read_link(dir.join("bin/foo")).expect("readlink"), Path::new("../lib/libfoo.so"));
    assert_eq!(fs::read(dir.join("bin/foo")).expect("follow"), b"elf");
}

#[test]
fn duplicate_names_last_one_wins() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let zip = zip_of(&[
        Entry::File("a.txt", b"first", 0o644),
        Entry::File("./a.txt", b"second", 0o755),
        Entry::Dir("d/"),
        Entry::Dir("./d/"),
    ]);
    let package = store.put(&zip).expect("put");
    let dir = store.extracted_dir(&package.checksum).expect("dir");
    assert_eq!(fs::read(dir.join("a.txt")).expect("read"), b"second");
    assert_eq!(mode_of(&dir.join("a.txt")), 0o555);
}

#[test]
fn refuses_escaping_names() {
    let (_tmp, store) = open_store(CodeLimits::default());
    for (name, reason) in [
        ("../x", PathProblem::Escapes),
        ("a/../../x", PathProblem::Escapes),
        ("/abs", PathProblem::Absolute),
        ("C:\\windows\\x", PathProblem::Drive),
    ] {
        let zip = zip_of(&[Entry::File("ok/first.txt", b"fine", 0o644), Entry::File(name, b"evil", 0o644)]);
        match refused(&store, &zip) {
            CodeError::UnsafePath { name: got, reason: r } => {
                assert_eq!((got.as_str(), r), (name, reason));
            }
            other => panic!("{name}: unexpected {other:?}"),
        }
    }
}

#[test]
fn escape_message_names_the_entry() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let err = refused(&store, &zip_of(&[Entry::File("../etc/passwd", b"x", 0o644)]));
    assert_eq!(err.to_string(), "code package entry '../etc/passwd' escapes the code directory");
}

#[test]
fn refuses_escaping_symlinks() {
    let (_tmp, store) = open_store(CodeLimits::default());
    for entries in [
        vec![Entry::Symlink("l", "/etc/passwd")],
        vec![Entry::Symlink("d/l", "../../x")],
        // Lexically `d`, really the root's parent: `d/b` points at the root.
        vec![Entry::Symlink("d/b", ".."), Entry::Symlink("d/a", "b/..")],
    ] {
        let err = refused(&store, &zip_of(&entries));
        assert!(matches!(err, CodeError::UnsafeSymlink { .. }), "{err:?}");
    }
}

#[test]
fn refuses_writing_through_a_symlink_or_file() {
    let (_tmp, store) = open_store(CodeLimits::default());
    for entries in [
        vec![Entry::Dir("d/"), Entry::Symlink("l", "d"), Entry::File("l/x", b"x", 0o644)],
        vec![Entry::File("a", b"x", 0o644), Entry::File("a/b", b"y", 0o644)],
        vec![Entry::File("a", b"x", 0o644), Entry::Dir("a/")],
    ] {
        let err = refused(&store, &zip_of(&entries));
        assert!(matches!(err, CodeError::ConflictingEntry { .. }), "{err:?}");
    }
}

#[test]
fn refuses_too_many_entries() {
    let limits = CodeLimits { max_entries: 3, ..CodeLimits::default() };
    let (_tmp, store) = open_store(limits);
    let names = ["a", "b", "c", "d"];
    let entries: Vec<_> = names.iter().map(|n| Entry::File(n, b"", 0o644)).collect();
    let err = refused(&store, &zip_of(&entries));
    assert!(matches!(err, CodeError::TooManyEntries { limit: 3 }), "{err:?}");
    store.put(&zip_of(&entries[..3])).expect("three entries are fine");
}

#[test]
fn refuses_unpacked_size_over_the_limit() {
    let limits = CodeLimits { max_unpacked_bytes: 1000, ..CodeLimits::default() };
    let (_tmp, store) = open_store(limits);
    let zip = zip_of(&[Entry::File("a", &[7; 600], 0o644), Entry::File("b", &[7; 600], 0o644)]);
    let err = refused(&store, &zip);
    assert!(matches!(err, CodeError::UnpackedTooLarge { limit: 1000 }), "{err:?}");
}

#[test]
fn refuses_a_ratio_bomb() {
    let (_tmp, store) = open_store(CodeLimits::default());
    // Deflate packs zeros about 1023:1, just over the default limit, long before 500 MiB.
    let zeros = vec![0; 20 * 1024 * 1024];
    let zip = zip_of(&[Entry::File("zeros", &zeros, 0o644)]);
    let err = refused(&store, &zip);
    assert!(matches!(err, CodeError::CompressionRatio { limit: 1000, .. }), "{err:?}");
}

#[test]
fn refuses_a_bomb_entry_hidden_among_incompressible_ones() {
    let limits = CodeLimits { max_ratio: 100, ..CodeLimits::default() };
    let (_tmp, store) = open_store(limits);
    // 200 KiB of noise keeps the whole zip's ratio near 10:1; only the per-entry check sees the bomb.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..200 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let zeros = vec![0; 2 * 1024 * 1024];
    let zip = zip_of(&[Entry::File("noise", &noise, 0o644), Entry::File("zeros", &zeros, 0o644)]);
    assert!(zeros.len() + noise.len() < 100 * zip.len());
    let err = refused(&store, &zip);
    assert!(matches!(err, CodeError::CompressionRatio { limit: 100, .. }), "{err:?}");
}

#[test]
fn refuses_bytes_that_are_not_a_zip() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let err = refused(&store, b"exports.handler = 1;");
    assert!(matches!(err, CodeError::NotAZip { .. }), "{err:?}");
}

#[test]
fn refuses_a_corrupt_entry() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let body = b"hello hello hello hello hello";
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file("a.txt", stored).expect("start");
    writer.write_all(body).expect("write");
    let mut zip = writer.finish().expect("finish").into_inner();
    let at = zip.windows(body.len()).position(|w| w == body).expect("stored body");
    zip[at] ^= 0xff;
    let err = refused(&store, &zip);
    assert!(matches!(err, CodeError::CorruptEntry { .. }), "{err:?}");
}

#[test]
fn refuses_a_zip_over_the_size_limit() {
    let limits = CodeLimits { max_zip_bytes: 10, ..CodeLimits::default() };
    let (_tmp, store) = open_store(limits);
    let err = refused(&store, &empty_zip());
    assert!(matches!(err, CodeError::ZipTooLarge { size: 22, limit: 10 }), "{err:?}");
}

#[test]
fn remove_deletes_zip_and_tree() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let package = store.put(&zip_of(&[Entry::File("a/b.txt", b"x", 0o644)])).expect("put");
    store.remove(&package.checksum).expect("remove");
    assert!(!store.contains(&package.checksum));
    assert!(names_in(store.root()).is_empty());
    store.remove(&package.checksum).expect("removing twice is fine");
    assert!(matches!(store.remove("../x"), Err(CodeError::InvalidChecksum { .. })));
}

#[test]
fn list_reports_every_checksum_on_disk() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let a = store.put(&zip_single_file("a.js", b"a").expect("zip")).expect("put a");
    let b = store.put(&empty_zip()).expect("put b");
    // A complete tree whose zip was lost in a crash is still a GC candidate.
    fs::create_dir(store.root().join("42")).expect("orphan dir");
    fs::write(store.root().join("notes.txt"), b"ignored").expect("stray file");
    let mut want = vec![a.checksum, b.checksum, "42".to_owned()];
    want.sort();
    assert_eq!(store.list().expect("list"), want);
}

#[test]
fn open_removes_leftovers_from_a_crash() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("code");
    let staging = root.join(".staging-leftover");
    fs::create_dir_all(staging.join("sub")).expect("staging");
    fs::write(staging.join("sub/file"), b"x").expect("file");
    fs::set_permissions(staging.join("sub"), fs::Permissions::from_mode(0o555)).expect("chmod");
    fs::set_permissions(&staging, fs::Permissions::from_mode(0o555)).expect("chmod");
    fs::write(root.join(".tmp-leftover.zip"), b"partial").expect("temp zip");
    fs::create_dir(root.join(".trash-leftover")).expect("trash");
    fs::create_dir(root.join("7")).expect("package dir");
    let store = CodeStore::open(root.clone(), CodeLimits::default()).expect("open");
    assert_eq!(names_in(store.root()), BTreeSet::from(["7".to_owned()]));
}

#[test]
fn put_adopts_a_tree_whose_zip_was_lost() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let zip = zip_of(&[Entry::File("x", b"x", 0o644)]);
    let package = store.put(&zip).expect("put");
    fs::remove_file(store.zip_path(&package.checksum).expect("path")).expect("lose zip");
    assert!(!store.contains(&package.checksum));
    store.put(&zip).expect("put again");
    assert!(store.contains(&package.checksum));
}

#[test]
fn concurrent_puts_of_the_same_bytes_agree() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let zip = zip_of(&[Entry::File("a/b/c", b"same", 0o644)]);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (store, zip) = (store.clone(), zip.clone());
            std::thread::spawn(move || store.put(&zip))
        })
        .collect();
    for handle in handles {
        handle.join().expect("thread").expect("put");
    }
    assert_eq!(names_in(store.root()).len(), 2);
}

#[test]
fn paths_require_a_canonical_checksum() {
    let (_tmp, store) = open_store(CodeLimits::default());
    for bad in ["../etc", "1/2", "", "01"] {
        assert!(store.zip_path(bad).is_err(), "{bad}");
        assert!(store.extracted_dir(bad).is_err(), "{bad}");
        assert!(!store.contains(bad));
    }
    assert_eq!(store.extracted_dir("123").expect("valid"), store.root().join("123"));
}

#[test]
fn io_failures_are_not_client_errors() {
    let err = CodeError::Io { path: "/x".into(), source: std::io::Error::other("disk full") };
    assert!(!err.is_client_error());
    assert!(CodeError::UnpackedTooLarge { limit: 1 }.is_client_error());
}

#[test]
fn limits_deserialize_with_defaults() {
    let limits: CodeLimits = serde_json::from_str(r#"{"max_entries": 5}"#).expect("parse");
    assert_eq!(limits.max_entries, 5);
    assert_eq!(limits.max_zip_bytes, CodeLimits::default().max_zip_bytes);
}

/// `cargo test --release -p ferric-store -- --ignored put_throughput --nocapture`
#[test]
#[ignore = "timing, run by hand in release mode"]
fn put_throughput() {
    let (_tmp, store) = open_store(CodeLimits::default());
    let zips: Vec<_> = (0..2000)
        .map(|i| {
            let body = format!("exports.handler = () => {i};{}", " ".repeat(1000));
            zip_of(&[
                Entry::File("index.js", body.as_bytes(), 0o644),
                Entry::File("lib/util.js", b"module.exports = {};", 0o644),
            ])
        })
        .collect();
    let start = std::time::Instant::now();
    for zip in &zips {
        store.put(zip).expect("put");
    }
    let per_second = zips.len() as f64 / start.elapsed().as_secs_f64();
    println!("{per_second:.0} puts/s");
}
