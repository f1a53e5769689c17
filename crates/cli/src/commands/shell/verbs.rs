//! The shell's verbs as one clap command, so each has fcli's flags, a `--help` with an example and the
//! same error messages as the one-shot commands. fcli uses `-h` for `--handler`, so clap's own `-h` is
//! taken away from every verb and `--help` alone shows help.

use clap::{Arg, ArgAction, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use super::{navigate, resources, run};
use crate::commands::config::ConfigArgs;

#[derive(Parser, Debug)]
#[command(multicall = true, disable_help_subcommand = true)]
struct Line {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Subcommand, Debug)]
pub enum Verb {
    /// change the current resource
    #[command(after_help = "Examples:
  cd demo                              # into service demo (from the root)
  cd hello                             # into its function hello
  cd ..                                # back up to the service
  cd /services/demo/functions/hello    # fcli's long form works anywhere
  cd                                   # the root")]
    Cd(navigate::CdArgs),
    /// list the child resources of the current resource
    #[command(after_help = "Examples:
  ls                                   # the children of where you are
  ls demo                              # the functions of service demo
  ls /services/demo/functions/hello -o json")]
    Ls(navigate::LsArgs),
    /// display the current resource
    #[command(after_help = "Examples:
  pwd                                  # prints /services/demo/functions/hello")]
    Pwd,
    /// display the resource detail info
    #[command(after_help = "Examples:
  info                                 # the current resource (the connection at the root)
  info hello -o json                   # a function of the current service")]
    Info(navigate::InfoArgs),
    /// create the service
    #[command(after_help = "Examples:
  mks demo -d 'my first service'
  mks private --internet-access false  # its functions get no network")]
    Mks(resources::ServiceArgs),
    /// update the service
    #[command(after_help = "Examples:
  ups demo -d 'a better description'
  ups -d 'the current service'")]
    Ups(resources::ServiceArgs),
    /// create the function
    #[command(after_help = "Examples:
  mkf hello -h index.handler -t nodejs20 -d ./code
  mkf py -h main.handler -t python3 -f code.zip -m 256 -e 10 --env GREETING=hi")]
    Mkf(resources::FunctionArgs),
    /// update the function
    #[command(after_help = "Examples:
  upf hello -d ./code                  # new code, same configuration
  upf -m 512 -e 30                     # the current function's memory and timeout")]
    Upf(resources::FunctionArgs),
    /// create the trigger
    #[command(after_help = "Examples:
  mkt web -t http --auth-type anonymous --methods GET,POST
  mkt nightly -t timer --cron '0 0 3 * * *' --payload '{\"run\":1}'
  mkt web -t http -c trigger.yaml      # the triggerConfig from a YAML or JSON file")]
    Mkt(resources::TriggerArgs),
    /// update the trigger
    #[command(after_help = "Examples:
  upt nightly --enable false
  upt web --methods GET")]
    Upt(resources::TriggerArgs),
    /// delete the resource
    #[command(after_help = "Examples:
  rm hello                             # a function of the current service (after its triggers)
  rm -r /services/demo                 # a service with everything in it")]
    Rm(navigate::RmArgs),
    /// invoke the function
    #[command(after_help = "Examples:
  invk hello -s '{\"name\":\"ferric\"}'
  invk -f event.json -o result.json    # the current function, event from a file, result to a file
  invk hello -t async")]
    Invk(run::InvkArgs),
    /// display the service/function logs
    #[command(after_help = "Examples:
  logs                                 # the current service's or function's latest logs
  logs hello -d 10m                    # the last ten minutes (a bare number is minutes, as in fcli)
  logs --start 2024-05-01T08:00:00Z --end 2024-05-01T09:00:00Z
  logs --tail                          # then follow new ones until Ctrl-C")]
    Logs(run::LogsArgs),
    /// config the shell: show the endpoint and key, or save new ones (~/.fcli/config.yaml)
    #[command(after_help = "Examples:
  config --show
  config --local                       # the key of the server running in ./.ferric
  config --endpoint http://127.0.0.1:8080 --account-id 1234 --access-key-id FK... --access-key-secret ...")]
    Config(ConfigArgs),
    /// display help
    #[command(after_help = "Examples:
  help
  help mkf")]
    Help {
        /// The verb to explain.
        verb: Option<String>,
    },
    /// clear the screen
    #[command(after_help = "Examples:
  clear")]
    Clear,
    /// exit the program
    #[command(
        alias = "quit",
        after_help = "Examples:
  exit"
    )]
    Exit,
    /// a sandbox environment for installing the 3rd party libraries and trouble shooting
    #[command(after_help = "Examples:
  sbox -d ./code -t nodejs20           # then: npm install, exactly as the function will see it
  sbox -d ./code -t python3            # then: pip install -t . requests")]
    Sbox(super::sbox::SboxArgs),
    /// create the invocation role (not needed on Ferric)
    #[command(after_help = "Examples:
  mkrir myRole                         # prints what Ferric does instead")]
    Mkrir(CloudOnly),
    /// create the ram policy (not needed on Ferric)
    #[command(after_help = "Examples:
  mkrp myPolicy                        # prints what Ferric does instead")]
    Mkrp(CloudOnly),
    /// create the service role (not needed on Ferric)
    #[command(after_help = "Examples:
  mksr myRole                          # prints what Ferric does instead")]
    Mksr(CloudOnly),
    /// attach the policy to a role (not needed on Ferric)
    #[command(after_help = "Examples:
  attach -p myPolicy -r myRole         # prints what Ferric does instead")]
    Attach(CloudOnly),
    /// detach the policy from a role (not needed on Ferric)
    #[command(after_help = "Examples:
  detach -p myPolicy -r myRole         # prints what Ferric does instead")]
    Detach(CloudOnly),
    /// grant the permission (not needed on Ferric)
    #[command(after_help = "Examples:
  grant                                # prints what Ferric does instead")]
    Grant(CloudOnly),
    /// create the log project and store (not needed on Ferric: logs are built in)
    #[command(after_help = "Examples:
  mkl myProject                        # prints what Ferric does instead")]
    Mkl(CloudOnly),
}

/// A cloud-only verb's arguments: whatever fcli would take, ignored.
#[derive(Args, Debug)]
pub struct CloudOnly {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _ignored: Vec<String>,
}

/// What Ferric does instead of a cloud-only verb, in one line.
pub fn cloud_only(verb: &Verb) -> Option<&'static str> {
    Some(match verb {
        Verb::Mkrir(_) | Verb::Mksr(_) => {
            "Ferric needs no roles: functions run in their own sandbox and each access key acts only for its account"
        }
        Verb::Mkrp(_) | Verb::Attach(_) | Verb::Detach(_) | Verb::Grant(_) => {
            "Ferric has no RAM policies: an access key can do everything in its own account and nothing outside it"
        }
        Verb::Mkl(_) => {
            "Ferric keeps every invocation's log itself, no log project needed: see 'logs' (or 'ferric logs')"
        }
        _ => return None,
    })
}

/// The verbs as clap builds them, each with `--help` and without `-h`.
fn command() -> clap::Command {
    Line::command().mut_subcommands(|verb| {
        verb.disable_help_flag(true)
            .arg(Arg::new("help").long("help").action(ArgAction::Help).help("Print this help, with examples"))
    })
}

/// One command's words (the verb first) as a [`Verb`]; `Err` carries clap's message, or the help
/// that `--help` asked for (`clap::Error::kind` tells which).
pub fn parse(words: &[String]) -> Result<Verb, clap::Error> {
    let matches = command().try_get_matches_from(words)?;
    Line::from_arg_matches(&matches).map(|line| line.verb)
}

/// Every verb's name, for completion.
pub fn names() -> Vec<String> {
    command().get_subcommands().map(|c| c.get_name().to_string()).collect()
}

/// `help`: the verbs with their one-line descriptions, or one verb's full help.
pub fn help(verb: Option<&str>) -> anyhow::Result<()> {
    let mut cmd = command();
    match verb {
        Some(name) => {
            let sub =
                cmd.find_subcommand_mut(name).ok_or_else(|| anyhow::anyhow!("no verb '{name}'; 'help' lists them"))?;
            println!("{}", sub.render_long_help());
        }
        None => {
            println!("Commands:");
            for sub in cmd.get_subcommands() {
                let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
                println!("  {:<8} {about}", sub.get_name());
            }
            println!("\nFor every verb, 'VERB --help' (or 'help VERB') shows its flags and an example.");
            println!(
                "Paths: relative (hello, ../other), absolute (/services/demo/functions/hello) or short (/demo/hello)."
            );
        }
    }
    Ok(())
}
