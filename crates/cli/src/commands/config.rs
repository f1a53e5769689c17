//! `ferric config`: show where each setting comes from, or write `~/.fcli/config.yaml` from flags, from a
//! local server's data directory (`--local`), or from prompts when standard input is a terminal (as
//! `fun config` and fcli's first run do). Keys the file already has (fcli's `api_version`, `debug`,
//! `sls_endpoint`, ...) are kept.

use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::DirBuilderExt;

use anyhow::{Context, Result};
use clap::Args;
use serde_yaml_ng::{Mapping, Value};

use crate::config::{self, Field, Inputs, LocalServer};

#[derive(Args, Debug, Default)]
#[command(after_help = "Examples:
  ferric config                                  # prompts on a terminal; shows the settings otherwise
  ferric config --show                           # each setting and where it comes from
  ferric config --local                          # save the key of the server running in ./.ferric
  ferric config --endpoint http://127.0.0.1:8080 --account-id 1234 \\
                --access-key-id FK... --access-key-secret ...")]
pub struct ConfigArgs {
    /// Print each setting with its source (secrets masked) and change nothing.
    #[arg(long)]
    show: bool,
    /// Save the endpoint and key of the local server whose data directory is ./.ferric (or FERRIC_DATA_DIR).
    #[arg(long)]
    local: bool,
    /// The server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    endpoint: Option<String>,
    /// The account the access key belongs to.
    #[arg(long)]
    account_id: Option<String>,
    /// The access key id.
    #[arg(long)]
    access_key_id: Option<String>,
    /// The access key secret.
    #[arg(long)]
    access_key_secret: Option<String>,
    /// The region (Ferric's default is "local").
    #[arg(long)]
    region: Option<String>,
}

pub fn run(args: ConfigArgs) -> Result<()> {
    let mut values: Vec<(Field, Option<String>)> = vec![
        (Field::Endpoint, args.endpoint.clone()),
        (Field::AccountId, args.account_id.clone()),
        (Field::AccessKeyId, args.access_key_id.clone()),
        (Field::AccessKeySecret, args.access_key_secret.clone()),
        (Field::Region, args.region.clone()),
    ];
    if args.local {
        let data_dir = std::env::var_os("FERRIC_DATA_DIR").map_or_else(|| ".ferric".into(), std::path::PathBuf::from);
        let local = LocalServer::read(&data_dir)?;
        let from_local = [local.endpoint, local.account_id, local.access_key_id, local.access_key_secret, local.region];
        for ((_, slot), value) in values.iter_mut().zip(from_local) {
            if slot.is_none() {
                *slot = value;
            }
        }
        if values[0].1.is_none() {
            anyhow::bail!("no server is running with data directory {} (start 'ferric serve')", data_dir.display());
        }
    }
    let given = values.iter().any(|(_, v)| v.is_some());
    if args.show || (!given && !std::io::stdin().is_terminal()) {
        return show();
    }
    if !given {
        values = prompt()?;
    }
    let path = write(&values)?;
    println!("Saved to {}", path.display());
    Ok(())
}

fn show() -> Result<()> {
    let inputs = Inputs::gather()?;
    let resolved = config::resolve(&inputs);
    for (field, setting) in &resolved.values {
        match setting {
            Some(s) => {
                let shown = if *field == Field::AccessKeySecret { mask(&s.value) } else { s.value.clone() };
                println!("{:<18} {shown}  ({})", format!("{}:", field.label()), s.source);
            }
            None => println!("{:<18} (not set: {})", format!("{}:", field.label()), field.env_names().join(" or ")),
        }
    }
    for (label, setting) in [("timeout (s):", &resolved.timeout), ("retries:", &resolved.retries)] {
        if let Some(s) = setting {
            println!("{label:<18} {}  ({})", s.value, s.source);
        }
    }
    Ok(())
}

/// fun's mask: only the last four characters show.
fn mask(secret: &str) -> String {
    let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("***********{tail}")
}

/// Asks for each value, offering the current one (the secret masked; Enter keeps it).
fn prompt() -> Result<Vec<(Field, Option<String>)>> {
    let resolved = config::resolve(&Inputs::gather()?);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut out = Vec::new();
    for field in Field::ALL {
        let current = resolved.get(field).map(|s| s.value.clone());
        let shown = match (&current, field) {
            (Some(v), Field::AccessKeySecret) => format!(" [{}]", mask(v)),
            (Some(v), _) => format!(" [{v}]"),
            (None, _) => String::new(),
        };
        eprint!("{}{shown}: ", field.label());
        std::io::stderr().flush()?;
        let answer = lines.next().transpose()?.unwrap_or_default();
        let answer = answer.trim();
        out.push((field, if answer.is_empty() { current } else { Some(answer.to_string()) }));
    }
    Ok(out)
}

/// Merges the values into `~/.fcli/config.yaml` (0600, written whole then renamed).
fn write(values: &[(Field, Option<String>)]) -> Result<std::path::PathBuf> {
    let path = config::fcli_config_path()?;
    let mut doc = match std::fs::read_to_string(&path) {
        Ok(text) => serde_yaml_ng::from_str::<Mapping>(&text)
            .with_context(|| format!("{} is not a YAML mapping", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut fresh = Mapping::new();
            // fcli's own keys; api_version as a string, never a YAML date (fcli then fails).
            fresh.insert("api_version".into(), Value::String("2016-08-15".into()));
            fresh.insert("timeout".into(), Value::Number(60.into()));
            fresh.insert("retries".into(), Value::Number(3.into()));
            fresh
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    for (field, value) in values {
        let Some(value) = value else { continue };
        let key = match field {
            Field::Endpoint => "endpoint",
            Field::AccountId => "account_id",
            Field::AccessKeyId => "access_key_id",
            Field::AccessKeySecret => "access_key_secret",
            Field::Region => "region",
        };
        doc.insert(key.into(), Value::String(value.clone()));
        if *field == Field::Endpoint && !value.contains(".fc.aliyuncs.com") {
            // fun uses a file's endpoint only with this flag set.
            doc.insert("enable_custom_endpoint".into(), Value::Bool(true));
        }
    }
    let dir = path.parent().context("config path has no directory")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    crate::credentials::write_private(&path, serde_yaml_ng::to_string(&doc)?.as_bytes())?;
    Ok(path)
}
