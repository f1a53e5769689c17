//! `sbox -d codeDir -t runtime`: fcli's verb, the same session as `ferric sbox` (`commands/sbox`).

pub use crate::commands::sbox::{run, SboxArgs};
