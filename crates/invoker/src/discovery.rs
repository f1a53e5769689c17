//! Finding the interpreters this server can run functions on, once, at start.
//!
//! Runtimes must start from absolute paths to real binaries: a pyenv shim costs ~80 ms per start (the
//! interpreter itself ~8 ms), so shims and wrapper scripts are resolved to the interpreter they run.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferric_types::runtime::{Family, Runtime};

/// One usable interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub path: PathBuf,
    /// As the interpreter reports it, e.g. `v20.20.2` or `3.11.2`.
    pub version: String,
}

/// What this server can run.
#[derive(Debug, Clone, Default)]
pub struct Runtimes {
    pub node: Option<Interpreter>,
    pub python: Option<Interpreter>,
    /// Debian's PHP CLI, for `php7.2` (runtimes/php).
    pub php: Option<Interpreter>,
    /// A JDK (`java` with `javac` beside it, which builds the runtime): runs `java8` and `java11`.
    pub java: Option<Interpreter>,
}

impl Runtimes {
    /// Probes the configured paths, then well-known locations, then `PATH`.
    pub fn discover(node: Option<&Path>, python: Option<&Path>) -> Runtimes {
        Runtimes { node: find_node(node), python: find_python(python), php: find_php(), java: crate::java::find_jdk() }
    }

    /// The interpreter for an FC runtime string, if this server offers it: a `nodejsN` or `python3.Y`
    /// function runs on an installed interpreter of that version or newer, never an older one (code
    /// written for 3.12 may not parse on 3.11).
    pub fn for_runtime(&self, runtime: &str) -> Option<&Interpreter> {
        let parsed = Runtime::parse(runtime)?;
        if is_custom(runtime) {
            // The package brings its own server; the adapter in front of it runs on Python 3.
            return self.python.as_ref();
        }
        if parsed.family() == Family::Php {
            // PHP 8 runs php7.2 code (FC's only PHP runtime string); an older PHP than asked never does.
            let wanted = php_version(runtime.strip_prefix("php")?)?;
            let interpreter = self.php.as_ref()?;
            return (wanted <= php_version(&interpreter.version)?).then_some(interpreter);
        }
        if parsed.family() == Family::Java {
            return crate::java::runs(self.java.as_ref()?, runtime);
        }
        let wanted = parsed.version()?;
        let interpreter = match parsed.family() {
            Family::Node => self.node.as_ref()?,
            // python2.7 code does not run on CPython 3.
            Family::Python if runtime.starts_with("python3") => self.python.as_ref()?,
            _ => return None,
        };
        let installed = interpreter.version(parsed.family())?;
        let compatible = match parsed.family() {
            Family::Node => wanted.0 <= installed.0,
            _ => wanted.0 == installed.0 && wanted.1 <= installed.1,
        };
        compatible.then_some(interpreter)
    }

    /// The runtime strings this server can run, for error messages and the start-up log line: the ones FC
    /// documents that an installed interpreter satisfies, plus each interpreter's own version when FC
    /// never had it (`python3.11`).
    pub fn offered(&self) -> Vec<String> {
        let mut offered = Vec::new();
        for (prefix, interpreter, family) in [
            ("nodejs", &self.node, Family::Node),
            ("python3", &self.python, Family::Python),
            ("php", &self.php, Family::Php),
        ] {
            let Some(interpreter) = interpreter else { continue };
            let known = ferric_types::runtime::KNOWN_RUNTIMES.iter().filter(|r| r.starts_with(prefix));
            offered.extend(known.filter(|r| self.for_runtime(r).is_some()).map(|r| r.to_string()));
            let own = match (family, interpreter.version(family)) {
                (Family::Node, Some((major, _))) => Some(format!("nodejs{major}")),
                (Family::Php, _) => None,
                (_, Some((major, minor))) => Some(format!("python{major}.{minor}")),
                _ => None,
            };
            if let Some(own) = own.filter(|own| !offered.contains(own)) {
                offered.push(own);
            }
        }
        if let Some(java) = &self.java {
            offered.extend(
                crate::java::RUNTIMES.iter().filter(|r| crate::java::runs(java, r).is_some()).map(|r| r.to_string()),
            );
        }
        if self.python.is_some() {
            offered.extend(CUSTOM_RUNTIMES.iter().map(|r| r.to_string()));
        }
        offered
    }

    /// Which runtime strings run on which interpreter, for the start-up log line and every refusal:
    /// `nodejs12, nodejs14 on /usr/bin/node (v20.20.2); ...`.
    pub fn describe(&self) -> String {
        let offered = self.offered();
        let mut parts = Vec::new();
        for (interpreter, belongs) in [
            (&self.node, (|r: &str| r.starts_with("nodejs")) as fn(&str) -> bool),
            (&self.python, |r: &str| r.starts_with("python")),
            (&self.php, |r: &str| r.starts_with("php")),
            (&self.java, |r: &str| r.starts_with("java")),
        ] {
            let Some(interpreter) = interpreter else { continue };
            let names: Vec<&str> = offered.iter().map(String::as_str).filter(|r| belongs(r)).collect();
            if !names.is_empty() {
                parts.push(format!("{} on {} ({})", names.join(", "), interpreter.path.display(), interpreter.version));
            }
        }
        if let Some(python) = &self.python {
            parts.push(format!(
                "{}: the package's own bootstrap, in front of which runtimes/custom/bootstrap.py runs on {}",
                CUSTOM_RUNTIMES.join(", "),
                python.path.display()
            ));
        }
        if parts.is_empty() {
            return "no runtime (neither Node.js 18+ nor Python 3 was found)".to_string();
        }
        parts.join("; ")
    }

    /// Why `runtime` cannot run here, naming what can.
    pub fn refusal(&self, runtime: &str) -> String {
        let why = if runtime.starts_with("python2") {
            "no Python 2 interpreter exists on this server (python3 functions run on Python 3)"
        } else {
            "no interpreter for it is installed"
        };
        format!("runtime '{runtime}' is not available on this server: {why}. This server runs {}", self.describe())
    }
}

/// The custom runtimes FC documents that Ferric runs (`custom-container` needs an image, which it does not).
pub const CUSTOM_RUNTIMES: &[&str] = &["custom", "custom.debian10", "custom.debian11", "custom.debian12"];

/// Whether a function of this runtime brings its own HTTP server (FC's custom runtime).
pub fn is_custom(runtime: &str) -> bool {
    CUSTOM_RUNTIMES.contains(&runtime)
}

impl Interpreter {
    /// (major, minor) of `v20.20.2` or `3.11.7`; Node's minor does not matter to FC's runtime names.
    fn version(&self, family: Family) -> Option<(u32, u32)> {
        let mut parts = self.version.trim_start_matches('v').split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = if family == Family::Node { 0 } else { parts.next()?.parse().ok()? };
        Some((major, minor))
    }
}

fn candidates(configured: Option<&Path>, well_known: &[&str], names: &[&str]) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = configured.map(Path::to_path_buf).into_iter().collect();
    list.extend(well_known.iter().map(PathBuf::from));
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            list.extend(names.iter().map(|n| dir.join(n)));
        }
    }
    list
}

/// True for an ELF executable (not a shell-script shim).
fn is_binary(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
        && magic == *b"\x7fELF"
}

fn output(path: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(path).args(args).env_clear().output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn find_node(configured: Option<&Path>) -> Option<Interpreter> {
    for candidate in candidates(configured, &["/usr/bin/node", "/usr/local/bin/node"], &["node", "nodejs"]) {
        let Ok(path) = candidate.canonicalize() else { continue };
        if !is_binary(&path) {
            continue;
        }
        let Some(version) = output(&path, &["--version"]) else { continue };
        let major: u32 = version.trim_start_matches('v').split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
        if major >= 18 {
            return Some(Interpreter { path, version });
        }
    }
    None
}

/// `7.2` / `8.2.7` as (major, minor).
fn php_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Debian's PHP CLI (`/usr/bin/php` is an alternatives link to `php8.2`), PHP 7.2 or newer.
fn find_php() -> Option<Interpreter> {
    let well_known = ["/usr/bin/php", "/usr/bin/php8.2", "/usr/local/bin/php"];
    for candidate in candidates(None, &well_known, &["php"]) {
        let Ok(path) = candidate.canonicalize() else { continue };
        if !is_binary(&path) {
            continue;
        }
        let Some(version) = output(&path, &["-n", "-r", "echo PHP_VERSION;"]) else { continue };
        if php_version(&version).is_some_and(|v| v >= (7, 2)) {
            return Some(Interpreter { path, version });
        }
    }
    None
}

fn find_python(configured: Option<&Path>) -> Option<Interpreter> {
    let probe = "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])";
    for candidate in candidates(configured, &["/usr/bin/python3", "/usr/local/bin/python3"], &["python3"]) {
        let Ok(path) = candidate.canonicalize() else { continue };
        // Shims are run once to learn the interpreter they stand for.
        let Some(text) = output(&path, &["-c", probe]) else { continue };
        let mut lines = text.lines();
        let (Some(executable), Some(version)) = (lines.next(), lines.next()) else { continue };
        let Ok(real) = Path::new(executable).canonicalize() else { continue };
        if is_binary(&real) && version.starts_with('3') {
            return Some(Interpreter { path: real, version: version.to_string() });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_real_interpreters_on_this_machine() {
        let found = Runtimes::discover(None, None);
        let node = found.node.as_ref().expect("node is installed here");
        assert!(node.path.is_absolute() && is_binary(&node.path));
        let python = found.python.as_ref().expect("python3 is installed here");
        assert!(python.path.is_absolute() && is_binary(&python.path));
        assert!(found.for_runtime("nodejs20").is_some());
        assert!(found.for_runtime("python3.9").is_some());
        assert!(found.for_runtime("python2.7").is_none());
        let php = found.php.as_ref().expect("php is installed here (scripts/setup-sdks)");
        assert!(php.path.is_absolute() && is_binary(&php.path) && found.for_runtime("php7.2").is_some());
        assert!(found.offered().iter().any(|r| r == "nodejs18"));
    }

    fn at(node: &str, python: &str) -> Runtimes {
        let interpreter = |version: &str| Interpreter { path: "/x".into(), version: version.into() };
        Runtimes {
            node: Some(interpreter(node)),
            python: Some(interpreter(python)),
            php: Some(interpreter("8.2.7")),
            java: None,
        }
    }

    #[test]
    fn a_runtime_runs_on_its_version_or_newer_and_the_installed_one_is_offered() {
        let runtimes = at("v20.20.2", "3.11.7");
        for runs in ["nodejs4.4", "nodejs20", "python3", "python3.9", "python3.10", "python3.11"] {
            assert!(runtimes.for_runtime(runs).is_some(), "{runs}");
        }
        for refused in ["nodejs22", "python3.12", "python2.7", "java8", "ws"] {
            assert!(runtimes.for_runtime(refused).is_none(), "{refused}");
        }
        let offered = runtimes.offered();
        assert!(offered.iter().any(|r| r == "python3.11"), "{offered:?}");
        assert!(!offered.iter().any(|r| r == "python3.12" || r == "nodejs22"), "{offered:?}");
        for custom in CUSTOM_RUNTIMES {
            assert!(runtimes.for_runtime(custom).is_some() && offered.iter().any(|r| r == custom), "{custom}");
        }
        assert!(runtimes.for_runtime("custom-container").is_none());
        let described = runtimes.describe();
        assert!(described.contains("nodejs20 on /x (v20.20.2)"), "{described}");
        assert!(described.contains("python3.11 on /x (3.11.7)"), "{described}");
        assert!(described.contains("custom, custom.debian10"), "{described}");
        assert!(runtimes.for_runtime("php7.2").is_some() && offered.iter().any(|r| r == "php7.2"), "{offered:?}");
        assert!(described.contains("php7.2 on /x (8.2.7)"), "{described}");
        let old_php = Runtimes {
            php: Some(Interpreter { path: "/x".into(), version: "7.1.3".into() }),
            ..at("v20.0.0", "3.11.7")
        };
        assert!(old_php.for_runtime("php7.2").is_none() && !old_php.offered().iter().any(|r| r.starts_with("php")));
        assert!(runtimes.refusal("python2.7").contains("no Python 2 interpreter exists on this server"));
        let none = Runtimes::default();
        assert!(none.for_runtime("custom").is_none() && none.describe().starts_with("no runtime"));
        assert_eq!(at("v22.1.0", "3.10.0").offered().iter().filter(|r| r.as_str() == "nodejs22").count(), 1);
    }

    #[test]
    fn a_bad_configured_path_falls_back() {
        let found = Runtimes::discover(Some(Path::new("/nonexistent/node")), Some(Path::new("/bin/sh")));
        assert!(found.node.is_some());
        assert!(found.python.is_some());
    }
}
