//! How a function reaches its layers: the search paths FC adds for each language, pointed at where the
//! instance sees the layers ([`ferric_sandbox::Layout::opt`]: the merged `/opt` in a mount namespace, or
//! each layer's host tree in precedence order with `--sandbox off`, which has no mount namespace to merge
//! them in). FC documents `/opt/nodejs/node_modules`, `/opt/python`, `/opt/php`, `/opt/java/lib` (jars the
//! Java bootstrap loads),
//! `/opt/bin` (on `PATH`) and `/opt/lib` (on `LD_LIBRARY_PATH`).

use std::path::PathBuf;

/// The `nodejs20` of a runtime as FC's per-version layer directory, `node20`.
fn node_dir(runtime: &str) -> Option<String> {
    runtime.strip_prefix("nodejs").filter(|v| !v.is_empty()).map(|v| format!("node{v}"))
}

/// `python3.10` as `3.10`; the bare `python3` names no minor version.
fn python_version(runtime: &str) -> Option<&str> {
    runtime.strip_prefix("python").filter(|v| v.contains('.'))
}

fn joined(paths: impl IntoIterator<Item = String>) -> String {
    paths.into_iter().collect::<Vec<_>>().join(":")
}

/// Where each layer root's entries are, for one variable.
fn under(opt: &[PathBuf], rel: &str) -> Vec<String> {
    opt.iter().map(|root| root.join(rel).display().to_string()).collect()
}

/// Adds the layers' paths to `env` (which already holds the user's variables and the launch's own):
/// the layers come after what the user or the bootstrap set for `PATH`, `PYTHONPATH` and
/// `LD_LIBRARY_PATH`, and before the bootstrap's own modules on `NODE_PATH`.
pub(crate) fn apply(runtime: &str, opt: &[PathBuf], env: &mut Vec<(String, String)>) {
    if opt.is_empty() {
        return;
    }
    let mut extend = |key: &str, paths: Vec<String>, before: bool| {
        let existing = env.iter().position(|(k, _)| k == key).map(|i| env.remove(i).1).filter(|v| !v.is_empty());
        let value = match (existing, before) {
            (None, _) => joined(paths),
            (Some(old), true) => format!("{}:{old}", joined(paths)),
            (Some(old), false) => format!("{old}:{}", joined(paths)),
        };
        env.push((key.to_string(), value));
    };
    extend("PATH", under(opt, "bin"), false);
    extend("LD_LIBRARY_PATH", under(opt, "lib"), false);
    if runtime.starts_with("nodejs") {
        let mut paths = Vec::new();
        for root in opt {
            if let Some(dir) = node_dir(runtime) {
                paths.push(root.join("nodejs").join(dir).join("node_modules").display().to_string());
            }
            paths.push(root.join("nodejs/node_modules").display().to_string());
        }
        extend("NODE_PATH", paths, true);
    } else if runtime.starts_with("python") {
        let mut paths = Vec::new();
        for root in opt {
            paths.push(root.join("python").display().to_string());
            if let Some(version) = python_version(runtime) {
                paths.push(root.join(format!("python/lib/python{version}/site-packages")).display().to_string());
            }
        }
        extend("PYTHONPATH", paths, false);
    } else if runtime.starts_with("java") {
        // Read by the Java bootstrap's class loader (runtimes/java), which adds every jar there.
        extend("FERRIC_JAVA_LAYER_LIBS", under(opt, "java/lib"), false);
    }
}

/// PHP's `include_path` with the layers' `php` directories, for `-d`.
pub(crate) fn php_include_path(opt: &[PathBuf]) -> Option<String> {
    (!opt.is_empty()).then(|| format!("include_path=.:{}", joined(under(opt, "php"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value<'a>(env: &'a [(String, String)], key: &str) -> &'a str {
        env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    #[test]
    fn node_finds_layers_before_the_bootstrap_modules() {
        let mut env = vec![("NODE_PATH".into(), "/rt/node_modules".into()), ("PATH".into(), "/usr/bin".into())];
        apply("nodejs20", &["/opt".into()], &mut env);
        assert_eq!(
            value(&env, "NODE_PATH"),
            "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/rt/node_modules"
        );
        assert_eq!(value(&env, "PATH"), "/usr/bin:/opt/bin");
        assert_eq!(value(&env, "LD_LIBRARY_PATH"), "/opt/lib");
    }

    #[test]
    fn python_gets_every_layer_in_order_after_the_users_path() {
        let mut env = vec![("PYTHONPATH".into(), "/mine".into())];
        apply("python3.10", &["/l1".into(), "/l2".into()], &mut env);
        assert_eq!(
            value(&env, "PYTHONPATH"),
            "/mine:/l1/python:/l1/python/lib/python3.10/site-packages:/l2/python:/l2/python/lib/python3.10/site-packages"
        );
    }

    #[test]
    fn no_layers_change_nothing() {
        let mut env = vec![("PATH".into(), "/usr/bin".into())];
        apply("python3", &[], &mut env);
        assert_eq!(env, vec![("PATH".to_string(), "/usr/bin".to_string())]);
        assert_eq!(php_include_path(&[]), None);
        assert_eq!(php_include_path(&["/opt".into()]).as_deref(), Some("include_path=.:/opt/php"));
    }
}
