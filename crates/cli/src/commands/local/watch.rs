//! `local start`'s reload. The template and every served function's CodeUri are watched (inotify through
//! `notify`); a burst of changes (an editor's save is several events) is debounced into one reload,
//! which rebuilds the routing table with a new generation in every pool key, so the next request starts
//! an instance on the new code, and retires the old lines so their instances drain. A template that no
//! longer loads keeps the previous table serving, with the errors printed.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedReceiver;

use super::start::{build, routes_text, say, Shared};

/// Long enough to fold one save into one reload, short enough to feel immediate.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Names whose changes are tools' own bookkeeping, not the function's code (Python writes
/// `__pycache__` into the code directory when the sandbox is off).
const IGNORED: &[&str] = &[".git", "__pycache__", ".ferric"];

pub(super) async fn reload_on_change(shared: Arc<Shared>) {
    let mut generation = shared.table.read().unwrap_or_else(|p| p.into_inner()).generation;
    loop {
        let watched = shared.table.read().unwrap_or_else(|p| p.into_inner()).watched.clone();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _watcher = match watch(&watched, move |event| drop(tx.send(event))) {
            Ok(watcher) => watcher,
            Err(e) => {
                say(&format!("cannot watch for changes ({e}); serving without reload\n"));
                return;
            }
        };
        let Some(changed) = next_change(&mut rx, &watched).await else { return };
        generation += 1;
        let (template, scratch) = (shared.template.clone(), shared.scratch.clone());
        let built = tokio::task::spawn_blocking(move || build(&template, &scratch, generation)).await;
        let what = describe(&changed);
        match built {
            Ok(Ok(table)) => {
                let mut current = shared.table.write().unwrap_or_else(|p| p.into_inner());
                // Retired before the swap, under the lock: no request can open a new-generation pool
                // that the retire would then drain.
                for version in current.versions() {
                    shared.invoker.retire(&version.account_id, &version.service, &version.function);
                }
                let routes_changed = current.route_names() != table.route_names();
                let count = table.route_names().len();
                *current = Arc::new(table);
                drop(current);
                say(&format!(
                    "reloaded after a change to {what}: {count} HTTP function(s), new code from the next request\n"
                ));
                if routes_changed {
                    say(&routes_text(&shared.table.read().unwrap_or_else(|p| p.into_inner()), shared.addr));
                }
            }
            Ok(Err(e)) => {
                say(&format!("not reloaded after a change to {what}, still serving the previous code: {e:#}\n"))
            }
            Err(e) => say(&format!("not reloaded after a change to {what}: {e}\n")),
        }
    }
}

/// The paths of the next burst of changes: from the first relevant event until none has come for
/// [`DEBOUNCE`]. `None` when the watcher has gone.
async fn next_change(rx: &mut UnboundedReceiver<notify::Result<Event>>, watched: &[PathBuf]) -> Option<Vec<PathBuf>> {
    let mut changed = Vec::new();
    while changed.is_empty() {
        match rx.recv().await? {
            Ok(event) => collect(event, watched, &mut changed),
            Err(e) => say(&format!("watching for changes: {e}\n")),
        }
    }
    let mut quiet_from = tokio::time::Instant::now() + DEBOUNCE;
    loop {
        match tokio::time::timeout_at(quiet_from, rx.recv()).await {
            Ok(Some(Ok(event))) => {
                let before = changed.len();
                collect(event, watched, &mut changed);
                if changed.len() > before {
                    quiet_from = tokio::time::Instant::now() + DEBOUNCE;
                }
            }
            Ok(Some(Err(_))) => {}
            Ok(None) | Err(_) => return Some(changed),
        }
    }
}

/// Adds an event's relevant paths. Access events (inotify's open and close, which every instance start
/// and every directory walk causes, the watcher's own included) change nothing and are dropped.
fn collect(event: Event, watched: &[PathBuf], changed: &mut Vec<PathBuf>) {
    if matches!(event.kind, EventKind::Access(_)) {
        return;
    }
    for path in event.paths {
        if relevant(&path, watched) && !changed.contains(&path) {
            changed.push(path);
        }
    }
}

/// Directories recursively; a file (the template, a zip CodeUri) through its directory, because editors
/// replace a file by renaming a new one over it, which ends a watch on the file itself.
fn watch(
    paths: &[PathBuf],
    handler: impl FnMut(notify::Result<Event>) + Send + 'static,
) -> notify::Result<RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(handler)?;
    for path in paths {
        let absolute = absolute(path);
        if absolute.is_dir() {
            watcher.watch(&absolute, RecursiveMode::Recursive)?;
        } else if let Some(parent) = absolute.parent() {
            watcher.watch(parent, RecursiveMode::NonRecursive)?;
        }
    }
    Ok(watcher)
}

/// A changed path that is one of the watched files or inside a watched directory, and not bookkeeping.
fn relevant(changed: &Path, watched: &[PathBuf]) -> bool {
    let ignored = changed.components().any(|c| matches!(c, Component::Normal(n) if IGNORED.iter().any(|i| n == *i)));
    !ignored
        && watched.iter().map(|w| absolute(w)).any(|w| if w.is_dir() { changed.starts_with(&w) } else { changed == w })
}

fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// A changed path, and how many more: one that still exists, not an editor's temporary file.
fn describe(changed: &[PathBuf]) -> String {
    let shown = changed.iter().find(|p| p.exists()).unwrap_or(&changed[0]);
    let first = shown.display().to_string();
    match changed.len() {
        1 => first,
        n => format!("{first} (+{} more)", n - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bookkeeping_and_unwatched_paths_do_not_reload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let code = dir.path().join("code");
        std::fs::create_dir_all(code.join("__pycache__")).expect("mkdir");
        let template = dir.path().join("template.yml");
        std::fs::write(&template, "x").expect("write");
        let watched = vec![template.clone(), code.clone()];
        let code = code.canonicalize().expect("canonical");
        let template = template.canonicalize().expect("canonical");
        assert!(relevant(&code.join("index.js"), &watched));
        assert!(relevant(&template, &watched));
        assert!(!relevant(&code.join("__pycache__/index.cpython-311.pyc"), &watched));
        assert!(!relevant(&template.with_file_name("notes.txt"), &watched));
    }
}
