//! `ferric local`: a fun `template.yml` run in this process, with no server and no Docker. The invoker
//! crate starts the same runtime bootstrap, in the same sandbox (`--sandbox`, best-effort by default), as
//! `ferric serve` would, so the context, the errors and the log format are the server's.
//!
//! Layout:
//! - `mod.rs`: the arguments, `local invoke`, and what both share: a template function as the invoker's
//!   [`FunctionVersion`], its code tree, request ids.
//! - `start.rs`: `local start`, the template's HTTP functions on a local port, through the server's own
//!   HTTP-trigger mapping (`ferric_server::http_trigger`).
//! - `watch.rs`: `local start`'s reload: the template and every CodeUri watched, changes debounced.

mod start;
mod watch;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use ferric_client::{Invocation, InvocationType};
use ferric_invoker::{FunctionVersion, Invoker, InvokerConfig, Request};
use ferric_types::function::{FunctionPatch, FunctionSpec};

use crate::template::{FunctionDef, Loaded, ServiceDef};

/// The account local functions run in (it only names their pools and appears in nothing they see).
const ACCOUNT: &str = "local";

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric local invoke hello -e '{\"name\":\"ferric\"}'
  ferric local start                              # HTTP functions on http://127.0.0.1:8000
  ferric build && ferric local invoke hello        # runs .fun/build/artifacts when present")]
pub struct LocalArgs {
    #[command(subcommand)]
    command: LocalCommand,
}

#[derive(Subcommand, Debug)]
enum LocalCommand {
    /// Run a template function once, here, and print its result and log.
    #[command(after_help = "Examples:
  ferric local invoke hello -e '{\"name\":\"ferric\"}'
  ferric local invoke demo/hello -f event.json     # SERVICE/FUNCTION when names repeat
  echo hi | ferric local invoke hello -s
  ferric local invoke hello -t other/template.yml --sandbox off

CodeUri may be a directory, a .zip (unpacked with the server's bounds) or a single file.")]
    Invoke(InvokeArgs),
    /// Serve the template's HTTP-triggered functions on a local port, reloading on file changes.
    #[command(after_help = "Examples:
  ferric local start
  ferric local start other/template.yml --port 9000
  curl http://127.0.0.1:8000/2016-08-15/proxy/demo/hello/

Routes are fun's: /2016-08-15/proxy/SERVICE/FUNCTION/PATH. A change to the template or to any CodeUri
reloads: the next request runs the new code in a new instance. authType FUNCTION is not checked here
(there are no keys); methods are.")]
    Start(start::StartArgs),
}

#[derive(Args, Debug)]
struct InvokeArgs {
    /// FUNCTION, or SERVICE/FUNCTION, as the template names it.
    function: String,
    /// The event, given inline.
    #[arg(short, long, conflicts_with_all = ["event_file", "event_stdin"])]
    event: Option<String>,
    /// Read the event from this file.
    #[arg(short = 'f', long, conflicts_with = "event_stdin")]
    event_file: Option<PathBuf>,
    /// Read the event from standard input.
    #[arg(short = 's', long)]
    event_stdin: bool,
    /// The template.
    #[arg(short = 't', long, default_value = "template.yml")]
    template: PathBuf,
    /// strict, best-effort or off, as for 'ferric serve'.
    #[arg(long, env = "FERRIC_SANDBOX", default_value = "best-effort")]
    sandbox: String,
}

pub fn run(args: LocalArgs) -> Result<()> {
    match args.command {
        LocalCommand::Invoke(args) => invoke(args),
        LocalCommand::Start(args) => start::run(args),
    }
}

fn invoke(args: InvokeArgs) -> Result<()> {
    let loaded = load(&args.template)?;
    let (want_service, want_function) = match args.function.split_once('/') {
        Some((s, f)) => (Some(s), f),
        None => (None, args.function.as_str()),
    };
    let found: Vec<_> = loaded
        .template
        .services
        .iter()
        .filter(|s| want_service.is_none_or(|w| w == s.name))
        .flat_map(|s| s.functions.iter().filter(|f| f.name == want_function).map(move |f| (s, f)))
        .collect();
    let (service, function) = match found.as_slice() {
        [one] => *one,
        [] => bail!("{} has no function '{}'", args.template.display(), args.function),
        _ => bail!("'{want_function}' is in more than one service: name it SERVICE/FUNCTION"),
    };
    let event = if args.event_stdin {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("cannot read the event from stdin")?;
        buf
    } else {
        super::invoke::read_event(args.event.as_deref(), args.event_file.as_deref())?
    };
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let version = version(service, function, scratch.path(), "local".into())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = runtime.block_on(async {
        let invoker = start_invoker(&args.sandbox, scratch.path()).await?;
        let request_id = request_id()?;
        let request =
            Request { request_id: request_id.clone(), payload: event.into(), http: None, context: Default::default() };
        let response = invoker.invoke(version, request).await?;
        Ok::<_, anyhow::Error>(Invocation {
            status: 200,
            request_id,
            error_type: response.error.map(|e| e.header().to_string()),
            log: Some(String::from_utf8_lossy(&response.log).into_owned()),
            body: response.body.to_vec(),
        })
    })?;
    super::invoke::show(&service.name, &function.name, InvocationType::Sync, &result, None)
}

/// The template, refused with every error when it is not valid.
fn load(template: &Path) -> Result<Loaded> {
    let loaded = crate::template::load(template)?;
    if !loaded.errors.is_empty() {
        let lines: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
        bail!("{} is not valid (see 'ferric validate'):\n{}", template.display(), lines.join("\n"));
    }
    Ok(loaded)
}

/// An invoker with the sandbox `serve` would start, its instances and scratch files under `scratch`.
async fn start_invoker(sandbox: &str, scratch: &Path) -> Result<Invoker> {
    let mut config = InvokerConfig::new(scratch);
    config.sandbox = super::serve::start_sandbox(sandbox, scratch).await?;
    Invoker::new(config).context("cannot start the runtimes")
}

/// A template function as the invoker runs it: the spec `deploy` would send, checked by the same
/// rules, and its code tree (a zip CodeUri unpacked under `scratch`). `code_checksum` names the pool:
/// a new one gives new instances.
fn version(
    service: &ServiceDef,
    function: &FunctionDef,
    scratch: &Path,
    code_checksum: String,
) -> Result<Arc<FunctionVersion>> {
    let patch: FunctionPatch = serde_json::from_value(super::deploy::function_body(function))?;
    let mut spec = FunctionSpec::default();
    spec.apply(patch).map_err(|e| anyhow::anyhow!("{}: {}", function.name, e.message))?;
    Ok(Arc::new(FunctionVersion {
        key_cache: Default::default(),
        account_id: ACCOUNT.into(),
        service: service.name.clone(),
        function: function.name.clone(),
        qualifier: "LATEST".into(),
        spec,
        log_project: String::new(),
        log_store: String::new(),
        code_dir: code_dir(&function.code_uri, scratch)?,
        code_checksum,
        layer_dirs: Vec::new(),
        internet_access: service.internet_access.unwrap_or(true),
    }))
}

/// The tree the function runs from: a directory as it is; a `.zip` (or a single file, zipped as `deploy`
/// would) unpacked by the server's own code store, with its bounds and its refusal of unsafe entries.
fn code_dir(code_uri: &Path, scratch: &Path) -> Result<PathBuf> {
    if code_uri.is_dir() {
        return code_uri.canonicalize().context("cannot resolve CodeUri");
    }
    let package = crate::package::build(code_uri)?;
    let store = ferric_store::code::CodeStore::open(scratch.join("code"), Default::default())
        .map_err(|e| anyhow::anyhow!("cannot open a scratch code store: {e}"))?;
    let put = store.put(&package.zip).map_err(|e| anyhow::anyhow!("CodeUri {}: {e}", code_uri.display()))?;
    store.extracted_dir(&put.checksum).map_err(|e| anyhow::anyhow!("CodeUri {}: {e}", code_uri.display()))
}

/// A random UUID (v4), the form FC's request ids have.
fn request_id() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| anyhow::anyhow!("no randomness for a request id: {e}"))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}
