//! `ferric sbox -d codeDir -t runtime` (also the shell's `sbox` verb, as fcli has it): an interactive
//! shell in the sandbox a function of that runtime gets, with the code directory writable at `/code`,
//! so `npm install` or `pip install -t .` run with the interpreter, paths and confinement the function
//! will have. The shell is the host's `bash` (or `sh`) from the read-only `/usr`; it runs as the code
//! directory's owner, so what it writes is the user's. The session is a pseudo-terminal of its own
//! (`terminal.rs`) whose far end the sandbox makes the shell's controlling terminal.
//!
//! It needs a mount namespace (there is no `/code` without one): with `--sandbox off`, or on a machine
//! without namespaces, it says so and stops.

mod terminal;

use std::io::IsTerminal;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use ferric_invoker::Runtimes;
use ferric_sandbox::{Limits, Network, SpawnSpec};

/// Bounds of a session: room for a package manager, still bounded.
const LIMITS: Limits = Limits { memory_mb: 2048, pids: 512, open_files: 4096, tmp_mb: 1024 };

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric sbox -d ./code -t nodejs20        # then: npm install
  ferric sbox -d ./code -t python3         # then: pip install -t . requests
  exit                                     # (inside) back to where you were

The code directory is /code inside, writable; the rest is the function's sandbox (read-only /usr, a
private /tmp as HOME, the host's network so package managers can download). Needs a sandbox with a mount
namespace: not with --sandbox off.")]
pub struct SboxArgs {
    /// The code directory, mounted writable at /code.
    #[arg(short = 'd', long)]
    code_dir: PathBuf,
    /// The runtime whose sandbox to enter: nodejs20, python3, ...
    #[arg(short = 't', long)]
    runtime: String,
    /// strict or best-effort, as for 'ferric serve' ('off' has no sandbox to enter).
    #[arg(long, env = "FERRIC_SANDBOX", default_value = "best-effort")]
    sandbox: String,
}

pub fn run(args: &SboxArgs) -> Result<()> {
    let (shell, shell_args) = shell();
    // The directory and the runtime first: they are what a user can get wrong from any terminal.
    let session = Session::new(&args.code_dir, &args.runtime, shell, shell_args.iter().map(Into::into).collect())?;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        bail!("sbox is an interactive shell: run it from a terminal");
    }
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let code = tokio.block_on(async {
        let Some((process, pty)) = session.start(&args.sandbox).await? else {
            bail!("{}", no_namespace(&args.sandbox, &session.scratch).await);
        };
        say(&format!("sbox: {} at {} (/code); 'exit' leaves\r\n", args.runtime, session.code_dir.display()));
        let exit = terminal::relay(pty, process).await?;
        Ok::<_, anyhow::Error>(exit.code)
    })?;
    if code != 0 {
        say(&format!("sbox: the shell exited with {code}\n"));
    }
    Ok(())
}

/// Runs `program args` once in the sandbox `sbox` opens (`code_dir` writable at `/code`, the runtime's
/// interpreter, the host's network), its output copied to stdout; `ferric build` installs dependencies
/// this way. `Ok(None)`: this sandbox has no mount namespace, so nothing ran.
pub fn run_once(
    code_dir: &Path,
    runtime: &str,
    sandbox: &str,
    command: &[&str],
    extra_env: &[(String, String)],
) -> Result<Option<i32>> {
    let (program, args) = command.split_first().context("no command")?;
    let args = args.iter().map(Into::into).collect();
    let mut session = Session::new(code_dir, runtime, PathBuf::from(program), args)?;
    session.extra_env = extra_env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    tokio.block_on(async {
        let Some((process, pty)) = session.start(sandbox).await? else { return Ok(None) };
        let mut reader = std::fs::File::from(pty);
        let output = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            let mut out = std::io::stdout();
            // EIO once the sandbox (and every copy of the far end) is gone.
            while let Ok(n @ 1..) = std::io::Read::read(&mut reader, &mut buf) {
                if std::io::Write::write_all(&mut out, &buf[..n]).is_err() {
                    break;
                }
            }
        });
        let exit = process.wait().await;
        let _ = tokio::task::spawn_blocking(move || output.join()).await;
        Ok(Some(exit.code))
    })
}

/// What a session needs before its sandbox starts.
struct Session {
    code_dir: PathBuf,
    runtime: String,
    interpreter: PathBuf,
    program: PathBuf,
    args: Vec<std::ffi::OsString>,
    /// Added to [`environment`]'s.
    extra_env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    scratch: tempfile::TempDir,
}

impl Session {
    fn new(code_dir: &Path, runtime: &str, program: PathBuf, args: Vec<std::ffi::OsString>) -> Result<Session> {
        let code_dir = code_dir.canonicalize().with_context(|| format!("no directory {}", code_dir.display()))?;
        if !code_dir.is_dir() {
            bail!("{} is not a directory", code_dir.display());
        }
        let runtimes = Runtimes::discover(None, None);
        let Some(interpreter) = runtimes.for_runtime(runtime) else {
            bail!("{}", runtimes.refusal(runtime));
        };
        let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
        std::fs::create_dir_all(scratch.path().join("runtime")).context("cannot make the session's directories")?;
        let interpreter = interpreter.path.clone();
        Ok(Session { code_dir, runtime: runtime.into(), interpreter, program, args, extra_env: Vec::new(), scratch })
    }

    /// Starts the program on a pseudo-terminal of its own; `None` without a mount namespace.
    async fn start(&self, sandbox: &str) -> Result<Option<(ferric_sandbox::Process, OwnedFd)>> {
        let sandbox = crate::commands::serve::start_sandbox(sandbox, self.scratch.path()).await?;
        if !sandbox.features().mountns {
            return Ok(None);
        }
        let (control, _peer) = std::os::unix::net::UnixStream::pair().context("cannot make a control socket")?;
        let spec = SpawnSpec {
            program: self.program.clone(),
            args: self.args.clone(),
            env: environment(&self.runtime, &self.interpreter).into_iter().chain(self.extra_env.clone()).collect(),
            code_dir: self.code_dir.clone(),
            layer_dirs: Vec::new(),
            runtime_dir: self.scratch.path().join("runtime"),
            scratch_dir: self.scratch.path().to_path_buf(),
            control: OwnedFd::from(control),
            limits: LIMITS,
            network: Network::Host,
        };
        let pty = terminal::Pty::open()?;
        let tools = vec![self.interpreter.clone()];
        let process = sandbox.spawn_terminal(spec, pty.far_end, tools).await.context("cannot start the session")?;
        Ok(Some((process, pty.near_end)))
    }
}

/// Why there is no session here.
async fn no_namespace(mode: &str, scratch: &tempfile::TempDir) -> String {
    let summary = match crate::commands::serve::start_sandbox(mode, scratch.path()).await {
        Ok(sandbox) => sandbox.summary(),
        Err(e) => e.to_string(),
    };
    format!(
        "sbox needs a sandbox with a mount namespace, and {} (sandbox: {summary}); install the dependencies \
         on this machine instead, or with 'ferric build'",
        if mode == "off" { "--sandbox off has none" } else { "this machine has none" },
    )
}

fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The host's bash, without its start-up files (they are not in the sandbox's `/etc` anyway), else sh.
fn shell() -> (PathBuf, Vec<&'static str>) {
    for bash in ["/usr/bin/bash", "/bin/bash"] {
        if Path::new(bash).exists() {
            return (bash.into(), vec!["--norc", "--noprofile", "-i"]);
        }
    }
    ("/bin/sh".into(), vec!["-i"])
}

/// The function's environment where it matters to installing (`PATH` with the runtime's interpreter
/// and the package's own tools, `HOME` in the private `/tmp`), and a prompt that says where you are.
fn environment(runtime: &str, interpreter: &Path) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    let bin = interpreter.parent().map(|p| p.display().to_string()).unwrap_or_default();
    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm".into());
    [
        ("PATH", format!("/code/node_modules/.bin:{bin}:/usr/local/bin:/usr/bin:/bin")),
        ("HOME", "/tmp".into()),
        ("TMPDIR", "/tmp".into()),
        ("LANG", "C.UTF-8".into()),
        ("TERM", term),
        ("PS1", format!("sbox({runtime}):\\w\\$ ")),
        ("FC_FUNC_CODE_PATH", "/code".into()),
        ("FC_RUNTIME_VERSION", runtime.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into()))
    .collect()
}
