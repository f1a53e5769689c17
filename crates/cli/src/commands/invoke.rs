//! `ferric invoke svc/fn`: invoke a deployed function and print its result and its log, as `fun invoke`
//! does. The log (asked for with `x-fc-log-type: Tail`, decoded from `x-fc-log-result`) and the framing
//! lines go to stderr and the result alone to stdout, so `ferric invoke demo/hello > out.json` keeps just
//! the result.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use ferric_client::{Invocation, InvocationType};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric invoke demo/hello
  ferric invoke demo/hello -e '{\"name\":\"ferric\"}'
  ferric invoke demo/hello -f event.json
  echo hi | ferric invoke demo/hello -s
  ferric invoke demo.prod/hello -t async       # a qualifier after the service name")]
pub struct InvokeArgs {
    /// The function: SERVICE[.QUALIFIER]/FUNCTION.
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
    /// sync: wait for the result and show the log; async: queue the invocation and print its request id.
    #[arg(short = 't', long = "invocation-type", default_value = "sync", value_parser = ["sync", "async", "Sync", "Async"])]
    invocation_type: String,
}

pub fn run(args: InvokeArgs) -> Result<()> {
    let (service, function) = split_function(&args.function)?;
    let event = if args.event_stdin {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("cannot read the event from stdin")?;
        buf
    } else {
        read_event(args.event.as_deref(), args.event_file.as_deref())?
    };
    let kind = invocation_type(&args.invocation_type);
    let client = crate::config::client()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = runtime.block_on(client.invoke_function(service, function, event, kind))?;
    show(service, function, kind, &result, None)
}

/// `sync` / `async`, in either case.
pub fn invocation_type(text: &str) -> InvocationType {
    if text.eq_ignore_ascii_case("async") {
        InvocationType::Async
    } else {
        InvocationType::Sync
    }
}

/// The event: given inline, read from a file, or empty.
pub fn read_event(inline: Option<&str>, file: Option<&Path>) -> Result<Vec<u8>> {
    Ok(match (inline, file) {
        (Some(e), _) => e.as_bytes().to_vec(),
        (None, Some(path)) => std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        (None, None) => Vec::new(),
    })
}

/// Prints an invocation as `fun invoke` does: the log and the framing on stderr, the result on stdout
/// (or into `output`, fcli's `invk -o`); a function error is an `Err` after both are shown.
pub fn show(
    service: &str,
    function: &str,
    kind: InvocationType,
    result: &Invocation,
    output: Option<&Path>,
) -> Result<()> {
    if kind == InvocationType::Async {
        println!("RequestId: {}", result.request_id);
        eprintln!("invoked {service}/{function} asynchronously; see 'ferric logs {service}/{function}'");
        return Ok(());
    }
    if let Some(log) = &result.log {
        eprintln!("========= FC invoke Logs begin =========");
        eprint!("{log}");
        if !log.ends_with('\n') && !log.is_empty() {
            eprintln!();
        }
        eprintln!("========= FC invoke Logs end =========\n");
    }
    if let Some(path) = output {
        std::fs::write(path, &result.body).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("FC Invoke Result: written to {} ({} bytes)", path.display(), result.body.len());
    } else {
        eprintln!("FC Invoke Result:");
        let mut stdout = std::io::stdout();
        stdout.write_all(&result.body)?;
        if stdout.is_terminal() && !result.body.ends_with(b"\n") {
            writeln!(stdout)?;
        }
        stdout.flush()?;
    }
    if let Some(error) = &result.error_type {
        bail!("the function failed: {error} (request {})", result.request_id);
    }
    Ok(())
}

/// `svc/fn` (or fcli's `/services/svc/functions/fn`) into its two names.
pub fn split_function(path: &str) -> Result<(&str, &str)> {
    let parts = super::ls::segments(path);
    match parts.as_slice() {
        [service, function] => Ok((service, function)),
        _ => bail!("'{path}' is not SERVICE/FUNCTION"),
    }
}
