//! `ferric`: a self-hosted Function Compute in one binary.
//!
//! Layout:
//! - `commands/serve`: start the server.
//! - `commands/bench`: the benchmarks.
//! - `commands/env`: the export lines of a running server, from its data directory.
//! - `commands/local/`: `local invoke` and `local start`, template functions run in this process by the
//!   invoker (start: HTTP functions on a local port, reloaded on change).
//! - `commands/shell/`: fcli's interactive shell, reusing the one-shot commands' code.
//! - `commands/sbox/`: a shell in a runtime's sandbox on a pseudo-terminal (also the shell's `sbox`).
//! - `commands/config`, `validate`, `deploy/`, `invoke`, `logs`, `ls` (`ls` and `info`): the client
//!   tools, fun's template workflow and fcli's one-shot verbs, all talking to a server through
//!   `ferric-client`.
//! - `sandbox-exec` (hidden): the sandbox helper `serve` starts, from `ferric-sandbox`.
//! - `config`: the one resolver of endpoint and key the client commands share (fun's sources and order).
//! - `template/`: fun's `template.yml`, parsed and checked with YAML paths.
//! - `package`: a function's code zipped reproducibly, with its CRC-64/XZ.
//! - `credentials`: generated keys and the server's config file.

#![forbid(unsafe_code)]

mod commands;
mod config;
mod credentials;
mod package;
mod template;

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
    /// Show or save the endpoint and access key the other commands use (~/.fcli/config.yaml).
    Config(commands::config::ConfigArgs),
    /// Check a fun template.yml and list every problem with its YAML path.
    Validate(commands::validate::ValidateArgs),
    /// Install each function's package.json / requirements.txt dependencies into .fun/build/artifacts.
    Build(commands::build::BuildArgs),
    /// Deploy a fun template.yml: services, functions and triggers, uploading only changed code.
    Deploy(commands::deploy::DeployArgs),
    /// Invoke a function and print its result and its log.
    Invoke(commands::invoke::InvokeArgs),
    /// Print invocation logs, or follow them live with --tail.
    Logs(commands::logs::LogsArgs),
    /// List services, a service's functions or a function's triggers.
    Ls(commands::ls::LsArgs),
    /// Print one service, function or trigger.
    Info(commands::ls::InfoArgs),
    /// Run a template function here, with no server and no Docker ('local invoke').
    Local(commands::local::LocalArgs),
    /// A shell in a runtime's sandbox with the code directory writable at /code (npm install, pip install -t .).
    Sbox(commands::sbox::SboxArgs),
    /// fcli's interactive shell: cd, ls, mks, mkf, invk, logs, ... ('help' inside lists them).
    Shell(commands::shell::ShellArgs),
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
        Command::Config(args) => commands::config::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Build(args) => commands::build::run(args),
        Command::Deploy(args) => commands::deploy::run(args),
        Command::Invoke(args) => commands::invoke::run(args),
        Command::Logs(args) => commands::logs::run(args),
        Command::Ls(args) => commands::ls::run_ls(args),
        Command::Info(args) => commands::ls::run_info(args),
        Command::Local(args) => commands::local::run(args),
        Command::Shell(args) => commands::shell::run(args),
        Command::Sbox(args) => commands::sbox::run(&args),
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
