//! The crate graph of DESIGN.md, enforced: every `ferric-*` dependency edge must be in this table.

use std::collections::{BTreeMap, BTreeSet};

/// crate -> the ferric crates it may depend on (normal dependencies).
const ALLOWED: &[(&str, &[&str])] = &[
    ("types", &[]),
    ("sandbox", &[]),
    ("store", &["types"]),
    ("invoker", &["types", "sandbox"]),
    ("queue", &["types", "store"]),
    ("triggers", &["types", "queue"]),
    ("server", &["types", "store", "invoker", "queue", "triggers"]),
    ("client", &["types"]),
    ("cli", &["types", "sandbox", "store", "invoker", "queue", "triggers", "server", "client"]),
    ("testkit", &["types", "sandbox", "store", "invoker", "queue", "triggers", "server", "client"]),
];

fn ferric_deps(table: Option<&toml::Value>) -> BTreeSet<String> {
    table
        .and_then(toml::Value::as_table)
        .map(|t| t.keys().filter_map(|k| k.strip_prefix("ferric-").map(str::to_string)).collect())
        .unwrap_or_default()
}

#[test]
fn crate_graph_follows_design() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let crates_dir = ferric_testkit::repo_root().join("crates");
    let mut seen = 0;
    for entry in std::fs::read_dir(&crates_dir).expect("crates dir") {
        let dir = entry.expect("entry").path();
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        let name = dir.file_name().and_then(|n| n.to_str()).expect("crate dir name").to_string();
        let parsed: toml::Value = toml::from_str(&text).expect("valid Cargo.toml");
        assert_eq!(
            parsed["package"]["name"].as_str(),
            Some(format!("ferric-{name}").as_str()),
            "crates/{name} must be the package ferric-{name}"
        );
        let may = allowed.get(name.as_str()).unwrap_or_else(|| panic!("crates/{name} is not in DESIGN.md's table"));
        for dep in ferric_deps(parsed.get("dependencies")) {
            assert!(may.contains(&dep.as_str()), "crates/{name} depends on ferric-{dep}, which DESIGN.md forbids");
        }
        if name != "testkit" {
            for dep in ferric_deps(parsed.get("dependencies")) {
                assert_ne!(dep, "testkit", "testkit is a dev-dependency only");
            }
        }
        seen += 1;
    }
    assert!(seen >= 6, "expected the workspace crates, found {seen}");
}

#[test]
fn only_sandbox_may_use_unsafe() {
    let crates_dir = ferric_testkit::repo_root().join("crates");
    for entry in std::fs::read_dir(&crates_dir).expect("crates dir") {
        let dir = entry.expect("entry").path();
        if dir.ends_with("sandbox") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        let parsed: toml::Value = toml::from_str(&text).expect("valid Cargo.toml");
        assert_eq!(
            parsed.get("lints").and_then(|l| l.get("workspace")).and_then(toml::Value::as_bool),
            Some(true),
            "{} must inherit the workspace lints (unsafe_code = forbid)",
            dir.display()
        );
    }
}
