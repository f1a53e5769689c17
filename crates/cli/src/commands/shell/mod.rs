//! `ferric shell`: fcli's interactive shell. A current resource (`/services/demo/functions/hello`) in
//! the prompt, fcli's verbs and flags, tab completion of verbs and of the server's names, history in
//! `~/.fcli/history`. The same verbs run without a terminal, for scripts and tests: `ferric shell -c
//! "mks demo; cd demo"`, or commands piped on standard input; there the first failing command stops
//! the rest and the exit status says so, as `sh -e` does.
//!
//! Line editing is rustyline: synchronous like the rest of the client (the shell blocks on one
//! request at a time), small, with a plain `Completer` trait and file history built in; reedline
//! would bring crossterm and an event loop for features (menus, multi-line) this shell does not use.
//!
//! Layout:
//! - `verbs.rs`: every verb as a clap subcommand (flags, `--help` with an example, `help`).
//! - `path.rs`: the current resource and how relative, absolute and `..` paths move from it.
//! - `navigate.rs`: `cd`, `ls`, `info`, `rm`. `resources.rs`: `mks`/`ups`, `mkf`/`upf`, `mkt`/`upt`.
//! - `run.rs`: `invk`, `logs`. `sbox.rs`: `sbox`. `complete.rs`: tab completion.

mod complete;
mod navigate;
mod path;
mod resources;
mod run;
mod sbox;
mod verbs;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use clap::error::ErrorKind;
use clap::Args;
use ferric_client::Client;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use path::ResourcePath;
use verbs::Verb;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric shell                                     # interactive: 'help' lists the verbs
  ferric shell -c 'mks demo; cd demo; mkf hello -h index.handler -t nodejs20 -d ./code; invk -s hi'
  ferric shell < setup.fcli                        # one command per line")]
pub struct ShellArgs {
    /// Run these commands (separated by ';' or newlines) and exit; the first that fails stops the rest.
    #[arg(short = 'c', long = "command")]
    command: Option<String>,
}

/// How long the names fetched for completion are trusted; the shell's own writes forget them at once.
const NAMES_TTL: Duration = Duration::from_secs(5);

/// The shell's state: where it stands, the client, and the names cache. Shared (`Rc`) with the
/// completer, which runs on the same thread inside `readline`.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    client: RefCell<Option<Client>>,
    cwd: RefCell<ResourcePath>,
    names: RefCell<HashMap<ResourcePath, (Instant, Vec<String>)>>,
}

/// What the loop does after a command.
enum Flow {
    Continue,
    Clear,
    Exit,
}

impl Session {
    fn new() -> Result<Session> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Session {
            runtime,
            client: RefCell::new(None),
            cwd: RefCell::new(ResourcePath::default()),
            names: RefCell::new(HashMap::new()),
        })
    }

    /// The configured client, resolved on first use (and again after `config`).
    pub fn client(&self) -> Result<Client> {
        if let Some(client) = self.client.borrow().as_ref() {
            return Ok(client.clone());
        }
        let client = crate::config::client()?;
        *self.client.borrow_mut() = Some(client.clone());
        Ok(client)
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub fn cwd(&self) -> ResourcePath {
        self.cwd.borrow().clone()
    }

    pub fn set_cwd(&self, path: ResourcePath) {
        *self.cwd.borrow_mut() = path;
    }

    /// After a write: the next completion asks the server again.
    pub fn forget_names(&self) {
        self.names.borrow_mut().clear();
    }

    /// The names of `parent`'s children, for completion: cached briefly, empty when the server cannot
    /// be asked (a completion never prints an error into the line being edited).
    pub fn child_names(&self, parent: &ResourcePath) -> Vec<String> {
        if let Some((at, names)) = self.names.borrow().get(parent) {
            if at.elapsed() < NAMES_TTL {
                return names.clone();
            }
        }
        let Ok(client) = self.client() else { return Vec::new() };
        let names = match self.block_on(crate::commands::ls::list(&client, &parent.parts())) {
            Ok((items, columns)) => navigate::names_of(&items, columns),
            Err(_) => return Vec::new(),
        };
        self.names.borrow_mut().insert(parent.clone(), (Instant::now(), names.clone()));
        names
    }

    /// One line: its commands in order, stopping at the first that fails.
    fn execute_line(&self, line: &str) -> Result<Flow> {
        for command in split_commands(line) {
            let words = shlex::split(&command).ok_or_else(|| anyhow!("unbalanced quotes in: {command}"))?;
            if words.is_empty() {
                continue;
            }
            match self.execute(&words)? {
                Flow::Continue => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Continue)
    }

    fn execute(&self, words: &[String]) -> Result<Flow> {
        let verb = match verbs::parse(words) {
            Ok(verb) => verb,
            Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
                print!("{}", e.render());
                return Ok(Flow::Continue);
            }
            Err(e) if e.kind() == ErrorKind::InvalidSubcommand => {
                return Err(anyhow!("unknown verb '{}'; 'help' lists them", words[0]));
            }
            Err(e) => return Err(anyhow!("{}", e.render().to_string().trim_end())),
        };
        if let Some(message) = verbs::cloud_only(&verb) {
            println!("{message}");
            return Ok(Flow::Continue);
        }
        match verb {
            Verb::Cd(a) => navigate::cd(self, &a)?,
            Verb::Ls(a) => navigate::ls(self, &a)?,
            Verb::Pwd => println!("{}", self.cwd()),
            Verb::Info(a) => navigate::info(self, &a)?,
            Verb::Rm(a) => navigate::rm(self, &a)?,
            Verb::Mks(a) => resources::service(self, &a, true)?,
            Verb::Ups(a) => resources::service(self, &a, false)?,
            Verb::Mkf(a) => resources::function(self, &a, true)?,
            Verb::Upf(a) => resources::function(self, &a, false)?,
            Verb::Mkt(a) => resources::trigger(self, &a, true)?,
            Verb::Upt(a) => resources::trigger(self, &a, false)?,
            Verb::Invk(a) => run::invk(self, &a)?,
            Verb::Logs(a) => run::logs(self, &a)?,
            Verb::Sbox(a) => sbox::run(&a)?,
            Verb::Config(a) => {
                crate::commands::config::run(a)?;
                *self.client.borrow_mut() = None;
                self.forget_names();
            }
            Verb::Help { verb } => verbs::help(verb.as_deref())?,
            Verb::Clear => return Ok(Flow::Clear),
            Verb::Exit => return Ok(Flow::Exit),
            _ => {}
        }
        Ok(Flow::Continue)
    }
}

/// Splits a line at `;` and newlines outside quotes, as a shell would.
fn split_commands(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        let current = out.last_mut().expect("out always holds the command being read");
        match (c, quote) {
            _ if escaped => {
                escaped = false;
                current.push(c);
            }
            ('\\', q) if q != Some('\'') => {
                escaped = true;
                current.push(c);
            }
            ('\'' | '"', None) => {
                quote = Some(c);
                current.push(c);
            }
            (c, Some(q)) if c == q => {
                quote = None;
                current.push(c);
            }
            (';' | '\n', None) => out.push(String::new()),
            _ => current.push(c),
        }
    }
    out.retain(|c| !c.trim().is_empty());
    out
}

pub fn run(args: ShellArgs) -> Result<()> {
    let session = Rc::new(Session::new()?);
    if let Some(script) = &args.command {
        return script_mode(&session, script);
    }
    if !std::io::stdin().is_terminal() {
        let mut script = String::new();
        std::io::stdin().read_to_string(&mut script).context("cannot read commands from stdin")?;
        return script_mode(&session, &script);
    }
    interactive(session)
}

/// Every command in turn; the first error ends the run with that command named.
fn script_mode(session: &Session, script: &str) -> Result<()> {
    for command in split_commands(script) {
        match session.execute_line(&command) {
            Ok(Flow::Exit) => return Ok(()),
            Ok(Flow::Clear | Flow::Continue) => {}
            Err(e) => return Err(e.context(format!("'{}' failed", command.trim()))),
        }
    }
    Ok(())
}

fn interactive(session: Rc<Session>) -> Result<()> {
    let config = Config::builder().auto_add_history(true).completion_type(CompletionType::List).build();
    let mut editor: Editor<complete::ShellHelper, FileHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(complete::ShellHelper::new(Rc::clone(&session))));
    let history = history_path();
    if let Some(path) = &history {
        // A first run has no history yet.
        let _ = editor.load_history(path);
    }
    println!("Welcome to Ferric, a function compute of your own. 'help' lists the verbs, 'exit' leaves.");
    if let Err(e) = session.client() {
        println!("{e:#}\n(use 'config' to set the endpoint and key)");
    }
    loop {
        let prompt = format!("ferric:{}> ", session.cwd());
        let line = match editor.readline(&prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e).context("cannot read the command line"),
        };
        if let Some(path) = &history {
            if let Err(e) = editor.save_history(path) {
                eprintln!("warning: cannot save the history in {}: {e}", path.display());
            }
        }
        match session.execute_line(&line) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Clear) => editor.clear_screen()?,
            Ok(Flow::Exit) => break,
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
    Ok(())
}

/// `~/.fcli/history`, beside the configuration fcli and fun share (the directory made if needed).
fn history_path() -> Option<PathBuf> {
    let path = crate::config::fcli_config_path().ok()?.with_file_name("history");
    let dir = path.parent()?;
    if !dir.is_dir() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).ok()?;
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::split_commands;

    #[test]
    fn commands_split_at_semicolons_and_newlines_outside_quotes() {
        assert_eq!(split_commands("mks demo; cd demo\npwd"), ["mks demo", " cd demo", "pwd"]);
        assert_eq!(split_commands("invk -s 'a;b'; ls"), ["invk -s 'a;b'", " ls"]);
        assert_eq!(split_commands(r#"invk -s "x\";y""#), [r#"invk -s "x\";y""#]);
        assert!(split_commands(" ; \n").is_empty());
    }
}
