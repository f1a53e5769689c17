//! `ferric validate`: read `template.yml` and report every problem with its YAML path, and every resource
//! or property Ferric leaves out with why. Needs no server.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use crate::template;

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric validate                  # template.yml in this directory
  ferric validate -t app/template.yml

Errors name the YAML path of the value, e.g.
  Resources.demo.hello.Properties.Runtime: unknown runtime 'ruby2.7' (...)")]
pub struct ValidateArgs {
    /// The template to check.
    #[arg(short, long, default_value = template::DEFAULT_FILE)]
    template: PathBuf,
}

pub fn run(args: ValidateArgs) -> Result<()> {
    let loaded = template::load(&args.template)?;
    for note in &loaded.template.skipped {
        println!("{note}");
    }
    if !loaded.errors.is_empty() {
        for error in &loaded.errors {
            eprintln!("{error}");
        }
        bail!("{} is not valid: {} errors", args.template.display(), loaded.errors.len());
    }
    let functions: usize = loaded.template.services.iter().map(|s| s.functions.len()).sum();
    let triggers: usize = loaded.template.services.iter().flat_map(|s| &s.functions).map(|f| f.events.len()).sum();
    println!(
        "{} is valid: {} services, {functions} functions, {triggers} triggers, {} custom domains",
        args.template.display(),
        loaded.template.services.len(),
        loaded.template.domains.len()
    );
    Ok(())
}
