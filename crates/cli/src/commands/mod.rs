//! One file per subcommand.

pub mod bench;
pub mod build;
pub mod config;
pub mod deploy;
pub mod env;
pub mod invoke;
pub mod local;
pub mod logs;
pub mod ls;
pub mod sbox;
pub mod serve;
pub mod shell;
pub mod validate;
