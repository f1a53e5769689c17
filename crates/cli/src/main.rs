//! `ferric`: a self-hosted Function Compute in one binary.
//!
//! Layout:
//! - `commands/serve`: start the server.
//! - `commands/bench`: the benchmarks.
//! - `commands/env`: the export lines of a running server, from its data directory.
//! - `sandbox-exec` (hidden): the sandbox helper `serve` starts, from `ferric-sandbox`.
//! - `credentials`: generated keys and the config file.

#![forbid(unsafe_code)]

mod commands;
mod credentials;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ferric", version, about = "A self-hosted Function Compute: the FC API, your functions, no cloud")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (FC 2016-08-15 API and the /api/v1/func form API).
    Serve(Box<commands::serve::ServeArgs>),
    /// Run a benchmark against a fresh server and print the figures.
    Bench(commands::bench::BenchArgs),
    /// Print the export lines for a running server (eval "$(ferric env)").
    Env(commands::env::EnvArgs),
    /// Internal: the single-threaded helper `serve` starts to build function sandboxes.
    #[command(name = "sandbox-exec", hide = true)]
    SandboxExec { fd: String, config: String },
}

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line, not a page of usage: the first line of clap's message plus where to look.
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
            eprintln!("ferric: {first} (see 'ferric --help')");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(*args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Env(args) => commands::env::run(args),
        Command::SandboxExec { fd, config } => {
            let code = ferric_sandbox::helper_main(&fd, &config);
            return std::process::ExitCode::from(u8::try_from(code).unwrap_or(1));
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferric: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
