//! `ferric build`: fun's build. For each function of the template whose CodeUri is a directory holding a
//! `package.json` or a `requirements.txt`, the directory is copied to `.fun/build/artifacts/<svc>/<fn>`
//! (next to the template, fun's layout) and its dependencies are installed there: `npm install
//! --omit=dev` for Node.js, `python3 -m pip install -r requirements.txt -t <artifacts>` for Python.
//! (`--install-links`: a `file:` dependency is copied in, not linked to a path the sandbox cannot see.)
//! `deploy` and `local invoke` then run the artifacts instead of the CodeUri (`template::load` swaps them).
//!
//! Where it runs (decision): in the runtime's sandbox, as `sbox` opens it (`sbox::run_once`: the artifacts
//! directory writable at `/code`, the runtime's interpreter, read-only `/usr`, the host's network for the
//! registry), so install scripts run confined and see the paths the function will see. Two cases run on
//! the host instead, each said in one line: a sandbox without a mount namespace (`--sandbox off`, or a
//! machine without namespaces), and a package with a local dependency outside its CodeUri (`file:../lib`,
//! `../x.whl`), which the sandbox cannot see. On the host, relative `file:` dependencies of package.json
//! are rewritten to absolute paths in the copy, and pip runs in the code directory, so local (path)
//! dependencies resolve as they do from the source.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::Value;

use crate::template;

/// fun's artifacts directory, relative to the template's directory.
pub const ARTIFACTS: &str = ".fun/build/artifacts";

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric build                     # every function with a package.json or requirements.txt
  ferric build -t app/template.yml
  ferric build && ferric deploy -y # deploy uploads .fun/build/artifacts/<svc>/<fn>

Installs run in the function's sandbox with the code writable at /code (npm install --omit=dev,
pip install -r requirements.txt -t .); with --sandbox off, or a local dependency outside the
CodeUri, on this machine with the npm and python3 on PATH.
Remove .fun/build to deploy the CodeUri directories again.")]
pub struct BuildArgs {
    /// The template whose functions to build.
    #[arg(short, long, default_value = template::DEFAULT_FILE)]
    template: PathBuf,
    /// Where installs run: best-effort or strict (the function's sandbox), or off (this machine).
    #[arg(long, env = "FERRIC_SANDBOX", default_value = "best-effort")]
    sandbox: String,
}

pub fn run(args: BuildArgs) -> Result<()> {
    let loaded = template::load_source(&args.template)?;
    if !loaded.errors.is_empty() {
        let lines: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        bail!("{} is not valid (see 'ferric validate'):\n{}", args.template.display(), lines.join("\n"));
    }
    let base = args.template.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut built = 0;
    for service in &loaded.template.services {
        for function in &service.functions {
            let code = &function.code_uri;
            let (node, python) = (code.join("package.json").is_file(), code.join("requirements.txt").is_file());
            if !code.is_dir() || !(node || python) {
                println!("{}/{}: nothing to install", service.name, function.name);
                continue;
            }
            let out = base.join(ARTIFACTS).join(&service.name).join(&function.name);
            build_one(code, &out, Install { node, python, runtime: &function.runtime, sandbox: &args.sandbox })
                .with_context(|| format!("cannot build {}/{}", service.name, function.name))?;
            println!("{}/{}: built into {}", service.name, function.name, out.display());
            built += 1;
        }
    }
    println!("Built {built} functions.");
    Ok(())
}

struct Install<'a> {
    node: bool,
    python: bool,
    runtime: &'a str,
    sandbox: &'a str,
}

const NPM: &[&str] = &["npm", "install", "--omit=dev", "--install-links", "--no-audit", "--no-fund"];
const PIP: &[&str] = &["-m", "pip", "install", "--no-input", "--disable-pip-version-check", "-r", "requirements.txt"];

fn build_one(code: &Path, out: &Path, how: Install) -> Result<()> {
    let code = code.canonicalize().context("cannot resolve CodeUri")?;
    if out.exists() {
        std::fs::remove_dir_all(out).with_context(|| format!("cannot clear {}", out.display()))?;
    }
    copy_tree(&code, out)?;
    // Absolute: pip runs in the code directory.
    let out = &out.canonicalize().context("cannot resolve the artifacts directory")?;
    let outside = local_deps_outside(&code, how.node, how.python)?;
    if how.sandbox != "off" && outside.is_none() && in_sandbox(out, &how)? {
        return Ok(());
    }
    match (how.sandbox, outside) {
        ("off", _) => println!("  installing on this machine (--sandbox off)"),
        (_, Some(dep)) => println!("  installing on this machine: the local dependency {dep} is outside the CodeUri"),
        _ => println!("  installing on this machine: this sandbox has no mount namespace"),
    }
    if how.node {
        absolute_file_deps(&out.join("package.json"), &code)?;
        install(Command::new(NPM[0]).args(&NPM[1..]).current_dir(out), "npm")?;
    }
    if how.python {
        let mut pip = Command::new("python3");
        install(pip.args(PIP).arg("-t").arg(out).current_dir(&code), "pip")?;
    }
    Ok(())
}

/// Runs the installs in the runtime's sandbox; `false` when it has no mount namespace (nothing ran).
fn in_sandbox(out: &Path, how: &Install) -> Result<bool> {
    // The package managers' own settings pass in, but for paths on this machine the sandbox cannot see.
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, v)| (k.starts_with("npm_config_") || k.starts_with("PIP_")) && !v.starts_with('/'))
        .collect();
    // Through sh, so PATH inside finds the runtime's own npm and python3.
    let mut steps = Vec::new();
    if how.node {
        steps.push(("npm", format!("exec {}", NPM.join(" "))));
    }
    if how.python {
        steps.push(("pip", format!("exec python3 {} -t /code", PIP.join(" "))));
    }
    for (what, command) in steps {
        println!("  {what} in the {} sandbox, /code = {}", how.runtime, out.display());
        let command = ["/bin/sh", "-c", command.as_str()];
        match crate::commands::sbox::run_once(out, how.runtime, how.sandbox, &command, &env)? {
            None => return Ok(false),
            Some(0) => {}
            Some(code) => bail!("{what} failed in the sandbox (exit {code}); its output is above"),
        }
    }
    Ok(true)
}

/// The first local (path) dependency that resolves outside `code`, which a sandbox cannot see.
fn local_deps_outside(code: &Path, node: bool, python: bool) -> Result<Option<String>> {
    let outside = |rel: &str| {
        let path = code.join(rel);
        let resolved = path.canonicalize().unwrap_or(path);
        !resolved.starts_with(code)
    };
    if node {
        let text = std::fs::read_to_string(code.join("package.json"))?;
        let doc: Value = serde_json::from_str(&text).context("package.json is not JSON")?;
        for section in ["dependencies", "optionalDependencies"] {
            let Some(deps) = doc.get(section).and_then(Value::as_object) else { continue };
            for spec in deps.values().filter_map(Value::as_str) {
                if let Some(rel) = spec.strip_prefix("file:").filter(|rel| outside(rel)) {
                    return Ok(Some(format!("file:{rel}")));
                }
            }
        }
    }
    if python {
        let text = std::fs::read_to_string(code.join("requirements.txt"))?;
        for line in text.lines().map(str::trim) {
            let spec = line.strip_prefix("-e").map(str::trim).unwrap_or(line);
            let spec = spec.strip_prefix("file:").unwrap_or(spec);
            if (spec.starts_with('.') || spec.starts_with('/')) && outside(spec) {
                return Ok(Some(spec.to_string()));
            }
        }
    }
    Ok(None)
}

fn install(cmd: &mut Command, what: &str) -> Result<()> {
    let output = cmd.output().with_context(|| format!("cannot run {what} (is it on PATH?)"))?;
    if !output.status.success() {
        bail!("{what} failed:\n{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// Copies `from` into `to`, skipping an existing `node_modules` (the install makes its own) and what a
/// package never holds (`.git`, `.fun`, `.ferric`, `.env`).
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot list {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "node_modules" || name.to_str().is_some_and(|n| crate::package::SKIPPED_NAMES.contains(&n)) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).with_context(|| format!("cannot copy {}", src.display()))?;
        }
    }
    Ok(())
}

/// `"dep": "file:../lib"` would resolve from the artifacts directory; it is made absolute from the source.
fn absolute_file_deps(manifest: &Path, source: &Path) -> Result<()> {
    let text = std::fs::read_to_string(manifest)?;
    let mut doc: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", manifest.display()))?;
    let mut changed = false;
    for section in ["dependencies", "optionalDependencies"] {
        let Some(deps) = doc.get_mut(section).and_then(Value::as_object_mut) else { continue };
        for spec in deps.values_mut() {
            let Some(rel) = spec.as_str().and_then(|s| s.strip_prefix("file:")) else { continue };
            if Path::new(rel).is_absolute() {
                continue;
            }
            *spec = Value::String(format!("file:{}", source.join(rel).display()));
            changed = true;
        }
    }
    if changed {
        std::fs::write(manifest, serde_json::to_vec_pretty(&doc)?)?;
    }
    Ok(())
}
