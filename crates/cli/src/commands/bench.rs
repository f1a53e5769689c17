//! `ferric bench`: benchmarks that print figures (written next).

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct BenchArgs {}

pub fn run(_args: BenchArgs) -> Result<()> {
    anyhow::bail!("no benchmark yet")
}
