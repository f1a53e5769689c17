//! The server's access keys: generated on first start, given on the command line, or listed in a config file.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{bail, Context, Result};
use ferric_server::AccessKey;
use serde::{Deserialize, Serialize};

/// Writes a file only its owner may read (it holds a secret), whole or not at all: the bytes go to a
/// temporary file beside it, are synced, and the temporary file is renamed over `path`.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).context("a private file needs a file name")?;
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    out.write_all(bytes).and_then(|()| out.sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// `credentials.json` in the data directory, readable by the owner only.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialsFile {
    account_id: String,
    access_key_id: String,
    access_key_secret: String,
}

/// The optional TOML config file: more accounts and keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        let config: ConfigFile =
            toml::from_str(&text).with_context(|| format!("config file {} is not valid", path.display()))?;
        for key in &config.access_keys {
            check_key(key).with_context(|| format!("config file {}", path.display()))?;
        }
        Ok(config)
    }
}

/// Rejects keys the SDKs could not use or that would weaken auth.
pub fn check_key(key: &AccessKey) -> Result<()> {
    if key.account_id.is_empty() || !key.account_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!("account id '{}' must be non-empty letters, digits, '-' or '_'", key.account_id);
    }
    if key.id.is_empty() || !key.id.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        bail!("access key id '{}' must be non-empty printable text without ':'", key.id);
    }
    if key.secret.len() < 8 {
        bail!("the secret of access key '{}' must be at least 8 characters", key.id);
    }
    Ok(())
}

fn random_string(alphabet: &[u8], len: usize) -> Result<String> {
    let mut bytes = vec![0u8; len];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    Ok(bytes.iter().map(|b| alphabet[usize::from(*b) % alphabet.len()] as char).collect())
}

/// Loads the generated key of this data directory, creating it on first start.
/// Returns the key and whether it was created now.
pub fn load_or_create(data_dir: &Path) -> Result<(AccessKey, bool)> {
    let path = data_dir.join("credentials.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let file: CredentialsFile =
                serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
            let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "credentials file is readable by others");
            }
            let key = AccessKey { account_id: file.account_id, id: file.access_key_id, secret: file.access_key_secret };
            check_key(&key).with_context(|| format!("{}", path.display()))?;
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            const DIGITS: &[u8] = b"0123456789";
            const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
            const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            // A 16-digit account id like FC's; key ids start with "FK" (never "STS", which the Node SDK
            // would treat as a temporary credential needing a token).
            let key = AccessKey {
                account_id: format!("1{}", random_string(DIGITS, 15)?),
                id: format!("FK{}", random_string(UPPER, 18)?),
                secret: random_string(ALNUM, 32)?,
            };
            let file = CredentialsFile {
                account_id: key.account_id.clone(),
                access_key_id: key.id.clone(),
                access_key_secret: key.secret.clone(),
            };
            write_private(&path, serde_json::to_string_pretty(&file)?.as_bytes())?;
            Ok((key, true))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}
