//! One file per subcommand.

pub mod bench;
pub mod env;
pub mod serve;
