//! Running and watching: `invk` and `logs`, printed by the one-shot `ferric invoke` / `ferric logs`
//! code (`commands::invoke::show`, `commands::logs::print`).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use super::path::Kind;
use super::Session;
use crate::commands::{invoke, logs};

#[derive(Args, Debug)]
pub struct InvkArgs {
    /// The function: a name in the current service, or a path; the current function by default.
    #[arg(default_value = ".")]
    name: String,
    /// The event (payload), given inline.
    #[arg(short = 's', long = "event-str", conflicts_with = "event_file")]
    event: Option<String>,
    /// Read the event from this file.
    #[arg(short = 'f', long)]
    event_file: Option<PathBuf>,
    /// Write the result to this file instead of the screen.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// sync: wait for the result and show the log; async: queue it and print the request id.
    #[arg(short = 't', long = "type", default_value = "sync", value_parser = ["sync", "async", "Sync", "Async"])]
    invocation_type: String,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// A service or function; the current one by default (at the root: every function).
    #[arg(default_value = ".")]
    name: String,
    /// From this time: RFC 3339, epoch milliseconds, or how long ago (10m, 2h).
    #[arg(short = 's', long, conflicts_with = "duration")]
    start: Option<String>,
    /// Until this time: RFC 3339, epoch milliseconds, or how long ago.
    #[arg(short = 'e', long)]
    end: Option<String>,
    /// The most recent span: 30s, 10m, 2h, 1d; a bare number is minutes, as in fcli.
    #[arg(short = 'd', long)]
    duration: Option<String>,
    /// Only the invocation with this request id.
    #[arg(short = 'r', long)]
    request_id: Option<String>,
    /// At most this many past invocations.
    #[arg(short = 'n', long, default_value_t = 20)]
    limit: usize,
    /// Then follow new logs until Ctrl-C.
    #[arg(long, alias = "follow")]
    tail: bool,
}

pub fn invk(session: &Session, args: &InvkArgs) -> Result<()> {
    let target = session.cwd().require(&args.name, Kind::Function)?;
    let names = target.parts();
    let (service, function) = (names[0], names[1]);
    let event = invoke::read_event(args.event.as_deref(), args.event_file.as_deref())?;
    let kind = invoke::invocation_type(&args.invocation_type);
    let client = session.client()?;
    let result = session.block_on(client.invoke_function(service, function, event, kind))?;
    let shown = invoke::show(service, function, kind, &result, args.output.as_deref());
    // The next prompt (or a script's next output) starts on a line of its own.
    if args.output.is_none() && !result.body.ends_with(b"\n") && !std::io::stdout().is_terminal() {
        println!();
    }
    shown
}

pub fn logs(session: &Session, args: &LogsArgs) -> Result<()> {
    let target = session.cwd().resolve(&args.name)?;
    let names = target.parts();
    let (service, function) = match names.as_slice() {
        [] => ("", ""),
        [s] => (*s, ""),
        [s, f] => (*s, *f),
        _ => bail!("logs are kept per service and function; {target} is a trigger (try 'logs ..')"),
    };
    let start = match (&args.start, &args.duration) {
        (Some(start), _) => Some(logs::time_bound(start)),
        (None, Some(d)) if d.chars().all(|c| c.is_ascii_digit()) => Some(logs::time_bound(&format!("{d}m"))),
        (None, Some(d)) => {
            if logs::duration_ms(d).is_none() {
                bail!("-d '{d}' is not a duration such as 30s, 10m, 2h or 1d");
            }
            Some(logs::time_bound(d))
        }
        (None, None) => None,
    };
    let query = logs::LogQuery {
        service: service.into(),
        function: function.into(),
        request_id: args.request_id.clone().unwrap_or_default(),
        start,
        end: args.end.as_deref().map(logs::time_bound),
        limit: args.limit,
        tail: args.tail,
    };
    let client = session.client()?;
    session.block_on(async {
        tokio::select! {
            printed = logs::print(&client, &query) => printed,
            // Ctrl-C ends the follow and returns to the prompt, not the shell.
            _ = tokio::signal::ctrl_c(), if query.tail => Ok(()),
        }
    })
}
