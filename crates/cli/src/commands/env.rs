//! `ferric env`: the shell lines that point the SDKs, `fun` and `fcli` at a running server, read from the
//! `env` file `serve` writes in its data directory (`eval "$(ferric env)"`). `serve` prints the same in
//! its banner; a file lets a server started in the background be used without copying from its output.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use ferric_server::AccessKey;

/// The file's name in the data directory.
pub const FILE: &str = "env";

#[derive(Args, Debug)]
pub struct EnvArgs {
    /// The data directory of the server.
    #[arg(long, env = "FERRIC_DATA_DIR", default_value = "./.ferric")]
    data_dir: PathBuf,
    /// Seconds to wait for a server that is still starting to write the file.
    #[arg(long, default_value_t = 30)]
    wait: u64,
}

pub fn run(args: EnvArgs) -> Result<()> {
    let path = args.data_dir.join(FILE);
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    loop {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                print!("{text}");
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!(
                    "no server is running with data directory {} (start one with 'ferric serve')",
                    args.data_dir.display()
                )
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }
}

/// Writes `<data-dir>/env` (mode 0600: it holds the secret), replacing any earlier one at once.
pub fn write(data_dir: &Path, endpoint: &str, key: &AccessKey, region: &str) -> Result<()> {
    let (account, id, secret) = (quote(&key.account_id), quote(&key.id), quote(&key.secret));
    let text = format!(
        "# Written by 'ferric serve': eval \"$(ferric env)\" or . {dir}/{FILE}\n\
         export FC_ENDPOINT={endpoint} FC_ACCOUNT_ID={account} FC_ACCESS_KEY_ID={id} FC_ACCESS_KEY_SECRET={secret}\n\
         # the names fun reads\n\
         {fun}\n",
        dir = data_dir.display(),
        endpoint = quote(endpoint),
        fun = fun_line(endpoint, key, region),
    );
    crate::credentials::write_private(&data_dir.join(FILE), text.as_bytes())
}

/// The line that makes the real `fun` (npm `@alicloud/fun` 3.x) use this server: fun reads `FC_ENDPOINT`,
/// `ACCOUNT_ID`, `ACCESS_KEY_ID`, `ACCESS_KEY_SECRET` and `REGION` (it refuses to run without the last four),
/// and `TIMEOUT` (seconds per request; without it and without `~/.fcli/config.yaml` fun's timeout is
/// NaN) and `RETRIES`. `ferric deploy`, `invoke` and `logs` read the same names.
pub fn fun_line(endpoint: &str, key: &AccessKey, region: &str) -> String {
    format!(
        "export FC_ENDPOINT={} ACCOUNT_ID={} ACCESS_KEY_ID={} ACCESS_KEY_SECRET={} REGION={} TIMEOUT=60 RETRIES=3",
        quote(endpoint),
        quote(&key.account_id),
        quote(&key.id),
        quote(&key.secret),
        quote(region)
    )
}

/// Removes the file when the server stops cleanly, so `ferric env` does not point at a stopped server.
pub fn remove(data_dir: &Path) {
    let _ = std::fs::remove_file(data_dir.join(FILE));
}

/// A word for a POSIX shell: as is when it is plain, else in single quotes.
pub fn quote(value: &str) -> String {
    let plain = !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.,:/@+=%".contains(&b));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_only_what_a_shell_would_misread() {
        assert_eq!(quote("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(quote("it's $x"), r"'it'\''s $x'");
        assert_eq!(quote(""), "''");
    }
}
