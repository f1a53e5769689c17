//! `sbox -d codeDir -t runtime`: fcli's shell inside a runtime's sandbox with the code directory
//! writable. Its flags are taken now so scripts and `--help` read as they will; starting the
//! sandbox with an interactive terminal is still to do (issue 14).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct SboxArgs {
    /// The code directory, mounted writable at /code.
    #[arg(short = 'd', long)]
    code_dir: PathBuf,
    /// The runtime whose sandbox to enter: nodejs20, python3, ...
    #[arg(short = 't', long)]
    runtime: String,
}

pub fn run(args: &SboxArgs) -> Result<()> {
    bail!(
        "sbox is not in Ferric yet: install dependencies for {} in {} on this machine, or with 'ferric build' \
         once it lands (issue 14)",
        args.runtime,
        args.code_dir.display()
    )
}
