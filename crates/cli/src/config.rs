//! Where the client commands find the endpoint and the key: one resolver, used by every command.
//!
//! The sources and their order are fun's (`src/lib/profile.js` of `@alicloud/fun` 3.x), highest first,
//! field by field:
//!
//! 1. `.env` in the project directory (the current directory);
//! 2. the process environment;
//! 3. `~/.fcli/config.yaml`, the file `fun config`, `fcli` and `ferric config` write;
//! 4. a local server: the data directory `./.ferric` (or `FERRIC_DATA_DIR`), whose `env` file names the
//!    endpoint of the running server and whose `credentials.json` holds the key it generated.
//!
//! In the first two, fun's names (`FC_ENDPOINT`, `ACCOUNT_ID`, `ACCESS_KEY_ID`, `ACCESS_KEY_SECRET`,
//! `REGION`, `DEFAULT_REGION`) come before the `FC_*` names Ferric's banner and the official SDKs' tests use
//! (`FC_ACCOUNT_ID`, `FC_ACCESS_KEY_ID`, `FC_ACCESS_KEY_SECRET`, `FC_REGION`).
//!
//! fun's `TIMEOUT` (seconds per request) and `RETRIES` come from the first three sources too (the names
//! alone; `timeout:` and `retries:` in the file), else a two-minute timeout and fun's 3 retries; the
//! client applies them (`ferric_client::ClientOptions`, which says which failures are retried).
//!
//! The resolver is pure over [`Inputs`] (gathered from the machine by [`Inputs::gather`]), so the order is
//! unit-tested without touching the real environment.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ferric_client::{Client, ClientOptions};
use serde::Deserialize;

/// One configurable value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Endpoint,
    AccountId,
    AccessKeyId,
    AccessKeySecret,
    Region,
}

impl Field {
    pub const ALL: [Field; 5] =
        [Field::Endpoint, Field::AccountId, Field::AccessKeyId, Field::AccessKeySecret, Field::Region];

    /// The variable names read from `.env` and the environment, in order of precedence.
    pub fn env_names(self) -> &'static [&'static str] {
        match self {
            Field::Endpoint => &["FC_ENDPOINT"],
            Field::AccountId => &["ACCOUNT_ID", "FC_ACCOUNT_ID"],
            Field::AccessKeyId => &["ACCESS_KEY_ID", "FC_ACCESS_KEY_ID"],
            Field::AccessKeySecret => &["ACCESS_KEY_SECRET", "FC_ACCESS_KEY_SECRET"],
            Field::Region => &["REGION", "DEFAULT_REGION", "FC_REGION"],
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Endpoint => "endpoint",
            Field::AccountId => "account id",
            Field::AccessKeyId => "access key id",
            Field::AccessKeySecret => "access key secret",
            Field::Region => "region",
        }
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    DotEnv { path: PathBuf, name: &'static str },
    Env(&'static str),
    FcliConfig(PathBuf),
    LocalServer(PathBuf),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::DotEnv { path, name } => write!(f, "{name} in {}", path.display()),
            Source::Env(name) => write!(f, "environment variable {name}"),
            Source::FcliConfig(path) => write!(f, "{}", path.display()),
            Source::LocalServer(path) => write!(f, "local server data in {}", path.display()),
            Source::Default => write!(f, "default"),
        }
    }
}

/// `~/.fcli/config.yaml` as fun and fcli write it, plus Ferric's `account_id` and `region` (fun derives
/// them from an `https://<account>.<region>.fc.aliyuncs.com` endpoint, which a Ferric URL is not).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct FcliConfig {
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// fun writes numbers here; a quoted number reads the same.
    pub timeout: Option<serde_yaml_ng::Value>,
    pub retries: Option<serde_yaml_ng::Value>,
}

/// A YAML scalar as text (`10` and `'10'` alike).
fn scalar_text(value: Option<&serde_yaml_ng::Value>) -> Option<String> {
    match value? {
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

impl FcliConfig {
    fn get(&self, field: Field) -> Option<String> {
        let from_host = |index: usize| {
            let host = self.endpoint.as_deref()?.split("://").nth(1)?.split(['/', ':']).next()?;
            host.ends_with(".fc.aliyuncs.com").then(|| host.split('.').nth(index).map(str::to_string))?
        };
        match field {
            Field::Endpoint => self.endpoint.clone(),
            Field::AccessKeyId => self.access_key_id.clone(),
            Field::AccessKeySecret => self.access_key_secret.clone(),
            Field::AccountId => self.account_id.clone().or_else(|| from_host(0)),
            Field::Region => self.region.clone().or_else(|| from_host(1)),
        }
    }
}

/// What a local `ferric serve` left in its data directory.
#[derive(Debug, Default, Clone)]
pub struct LocalServer {
    pub data_dir: PathBuf,
    /// From `<data-dir>/env`, present only while the server runs.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// From `<data-dir>/credentials.json`.
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialsJson {
    account_id: String,
    access_key_id: String,
    access_key_secret: String,
}

impl LocalServer {
    /// Reads what is there; a missing file is simply absent.
    pub fn read(data_dir: &Path) -> Result<LocalServer> {
        let mut local = LocalServer { data_dir: data_dir.to_path_buf(), ..LocalServer::default() };
        if let Some(text) = read_optional(&data_dir.join(crate::commands::env::FILE))? {
            let words = text.lines().filter_map(|l| l.strip_prefix("export ")).flat_map(str::split_whitespace);
            for word in words {
                if let Some((name, value)) = word.split_once('=') {
                    let value = value.trim_matches('\'').to_string();
                    match name {
                        "FC_ENDPOINT" => local.endpoint = Some(value),
                        "REGION" => local.region = Some(value),
                        _ => {}
                    }
                }
            }
        }
        let creds_path = data_dir.join("credentials.json");
        if let Some(text) = read_optional(&creds_path)? {
            let creds: CredentialsJson =
                serde_json::from_str(&text).with_context(|| format!("{} is not valid", creds_path.display()))?;
            local.account_id = Some(creds.account_id);
            local.access_key_id = Some(creds.access_key_id);
            local.access_key_secret = Some(creds.access_key_secret);
        }
        Ok(local)
    }

    fn get(&self, field: Field) -> Option<String> {
        match field {
            Field::Endpoint => self.endpoint.clone(),
            Field::AccountId => self.account_id.clone(),
            Field::AccessKeyId => self.access_key_id.clone(),
            Field::AccessKeySecret => self.access_key_secret.clone(),
            Field::Region => self.region.clone(),
        }
    }
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Everything the resolver looks at.
#[derive(Debug, Default)]
pub struct Inputs {
    pub dotenv_path: PathBuf,
    pub dotenv: HashMap<String, String>,
    pub env: HashMap<String, String>,
    pub fcli_path: PathBuf,
    pub fcli: Option<FcliConfig>,
    pub local: Option<LocalServer>,
}

/// `~/.fcli/config.yaml`.
pub fn fcli_config_path() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set, so ~/.fcli/config.yaml cannot be found")?;
    Ok(PathBuf::from(home).join(".fcli").join("config.yaml"))
}

impl Inputs {
    /// Reads `.env` in the current directory, the environment, `~/.fcli/config.yaml` and `./.ferric`.
    pub fn gather() -> Result<Inputs> {
        let dotenv_path = PathBuf::from(".env");
        let mut dotenv = HashMap::new();
        if dotenv_path.exists() {
            for item in dotenvy::from_path_iter(&dotenv_path).context("cannot read .env")? {
                let (name, value) = item.context(".env is not valid")?;
                dotenv.insert(name, value);
            }
        }
        let env: HashMap<String, String> = std::env::vars().collect();
        let fcli_path = fcli_config_path()?;
        let fcli = match read_optional(&fcli_path)? {
            Some(text) => Some(
                serde_yaml_ng::from_str::<FcliConfig>(&text)
                    .with_context(|| format!("{} is not valid", fcli_path.display()))?,
            ),
            None => None,
        };
        let data_dir = env.get("FERRIC_DATA_DIR").map_or_else(|| PathBuf::from("./.ferric"), PathBuf::from);
        let local = if data_dir.is_dir() { Some(LocalServer::read(&data_dir)?) } else { None };
        Ok(Inputs { dotenv_path, dotenv, env, fcli_path, fcli, local })
    }
}

/// A value and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub source: Source,
}

/// The resolved configuration, each field with where it came from.
#[derive(Debug, Default)]
pub struct Resolved {
    pub values: Vec<(Field, Option<Setting>)>,
    /// fun's `TIMEOUT`, seconds, and `RETRIES`; always set (a default when nothing gives them).
    pub timeout: Option<Setting>,
    pub retries: Option<Setting>,
}

/// When nothing sets them: two minutes (a sync invoke waits for its function; fun's own default, 10 s,
/// is why its users set `TIMEOUT`) and fun's 3 retries.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 120;
pub const DEFAULT_RETRIES: u32 = 3;
/// Bounds on what may be configured.
const TIMEOUT_SECONDS: std::ops::RangeInclusive<u64> = 1..=86_400;
const RETRIES: std::ops::RangeInclusive<u32> = 0..=10;

/// FC's region when none is configured; the same default as `ferric serve --region`.
pub const DEFAULT_REGION: &str = "local";

/// The first non-empty value of `names` in `.env`, then the environment, then the file's value, then
/// the local server's.
fn lookup(
    inputs: &Inputs,
    names: &'static [&'static str],
    from_file: Option<String>,
    from_local: Option<String>,
) -> Option<Setting> {
    let non_empty = |v: &String| !v.is_empty();
    for name in names {
        if let Some(value) = inputs.dotenv.get(*name).filter(|v| non_empty(v)) {
            let source = Source::DotEnv { path: inputs.dotenv_path.clone(), name };
            return Some(Setting { value: value.clone(), source });
        }
    }
    for name in names {
        if let Some(value) = inputs.env.get(*name).filter(|v| non_empty(v)) {
            return Some(Setting { value: value.clone(), source: Source::Env(name) });
        }
    }
    if let Some(value) = from_file.filter(non_empty) {
        return Some(Setting { value, source: Source::FcliConfig(inputs.fcli_path.clone()) });
    }
    let local = inputs.local.as_ref()?;
    from_local.filter(non_empty).map(|value| Setting { value, source: Source::LocalServer(local.data_dir.clone()) })
}

pub fn resolve(inputs: &Inputs) -> Resolved {
    let pick = |field: Field| -> Option<Setting> {
        let from_file = inputs.fcli.as_ref().and_then(|c| c.get(field));
        let from_local = inputs.local.as_ref().and_then(|l| l.get(field));
        lookup(inputs, field.env_names(), from_file, from_local).or_else(|| {
            (field == Field::Region).then(|| Setting { value: DEFAULT_REGION.into(), source: Source::Default })
        })
    };
    let default = |value: String| Some(Setting { value, source: Source::Default });
    let file = |key: fn(&FcliConfig) -> Option<&serde_yaml_ng::Value>| scalar_text(inputs.fcli.as_ref().and_then(key));
    // The local server's `TIMEOUT`/`RETRIES` are in its line for fun, not read here: they are fun's.
    let timeout = lookup(inputs, &["TIMEOUT"], file(|c| c.timeout.as_ref()), None)
        .or_else(|| default(DEFAULT_TIMEOUT_SECONDS.to_string()));
    let retries = lookup(inputs, &["RETRIES"], file(|c| c.retries.as_ref()), None)
        .or_else(|| default(DEFAULT_RETRIES.to_string()));
    Resolved { values: Field::ALL.iter().map(|&f| (f, pick(f))).collect(), timeout, retries }
}

impl Resolved {
    pub fn get(&self, field: Field) -> Option<&Setting> {
        self.values.iter().find(|(f, _)| *f == field).and_then(|(_, s)| s.as_ref())
    }

    /// A signing client, or one error naming every missing value and how to give it.
    pub fn require_client(&self) -> Result<Client> {
        let missing: Vec<&str> =
            Field::ALL.iter().filter(|f| self.get(**f).is_none()).map(|f| f.env_names()[0]).collect();
        if !missing.is_empty() {
            bail!(
                "not configured: {} missing (run 'ferric config', set the variables or a .env file, \
                 or start 'ferric serve' in this directory)",
                missing.join(", ")
            );
        }
        let value = |f: Field| self.get(f).map(|s| s.value.as_str()).unwrap_or_default();
        Ok(Client::with_options(
            value(Field::Endpoint),
            value(Field::AccountId),
            value(Field::AccessKeyId),
            value(Field::AccessKeySecret),
            self.client_options()?,
        ))
    }

    /// `TIMEOUT` and `RETRIES` as the client takes them; a bad value is an error naming its source.
    pub fn client_options(&self) -> Result<ClientOptions> {
        fn number<T: std::str::FromStr + PartialOrd + fmt::Display>(
            setting: Option<&Setting>,
            name: &str,
            range: &std::ops::RangeInclusive<T>,
            default: T,
        ) -> Result<T> {
            let Some(s) = setting else { return Ok(default) };
            match s.value.trim().parse::<T>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => bail!(
                    "{name} ({}) is '{}': it must be a whole number from {} to {}",
                    s.source,
                    s.value,
                    range.start(),
                    range.end()
                ),
            }
        }
        let timeout = number(self.timeout.as_ref(), "TIMEOUT", &TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS)?;
        let retries = number(self.retries.as_ref(), "RETRIES", &RETRIES, DEFAULT_RETRIES)?;
        Ok(ClientOptions { timeout: std::time::Duration::from_secs(timeout), retries, ..ClientOptions::default() })
    }
}

/// The client every command uses.
pub fn client() -> Result<Client> {
    resolve(&Inputs::gather()?).require_client()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn local() -> LocalServer {
        LocalServer {
            data_dir: PathBuf::from(".ferric"),
            endpoint: Some("http://127.0.0.1:9000".into()),
            region: Some("local".into()),
            account_id: Some("111".into()),
            access_key_id: Some("LOCALKEY".into()),
            access_key_secret: Some("local-secret".into()),
        }
    }

    fn value(r: &Resolved, f: Field) -> (String, Source) {
        let s = r.get(f).expect("set");
        (s.value.clone(), s.source.clone())
    }

    #[test]
    fn dotenv_beats_environment_beats_fcli_config_beats_local_server() {
        let mut inputs = Inputs {
            dotenv_path: PathBuf::from(".env"),
            dotenv: map(&[("ACCESS_KEY_SECRET", "from-dotenv")]),
            env: map(&[("ACCESS_KEY_SECRET", "from-env"), ("ACCESS_KEY_ID", "ENVKEY")]),
            fcli_path: PathBuf::from("/home/u/.fcli/config.yaml"),
            fcli: Some(FcliConfig {
                endpoint: Some("https://123.cn-shanghai.fc.aliyuncs.com".into()),
                access_key_id: Some("FILEKEY".into()),
                access_key_secret: Some("from-file".into()),
                ..FcliConfig::default()
            }),
            local: Some(local()),
        };
        let r = resolve(&inputs);
        assert_eq!(r.get(Field::AccessKeySecret).map(|s| s.value.as_str()), Some("from-dotenv"));
        assert_eq!(value(&r, Field::AccessKeyId), ("ENVKEY".into(), Source::Env("ACCESS_KEY_ID")));
        // fun's rule: the account and region come from an FC endpoint's host.
        assert_eq!(value(&r, Field::AccountId).0, "123");
        assert_eq!(value(&r, Field::Region).0, "cn-shanghai");
        assert_eq!(value(&r, Field::Endpoint).1, Source::FcliConfig("/home/u/.fcli/config.yaml".into()));

        inputs.fcli = None;
        let r = resolve(&inputs);
        assert_eq!(value(&r, Field::Endpoint), ("http://127.0.0.1:9000".into(), Source::LocalServer(".ferric".into())));
        assert_eq!(value(&r, Field::AccountId).0, "111");
        assert_eq!(value(&r, Field::AccessKeyId).0, "ENVKEY");
    }

    #[test]
    fn fun_names_come_before_the_fc_prefixed_ones_and_empty_values_do_not_count() {
        let inputs = Inputs {
            env: map(&[
                ("FC_ACCOUNT_ID", "fc-prefixed"),
                ("ACCOUNT_ID", "fun-name"),
                ("FC_ACCESS_KEY_ID", "FCKEY"),
                ("ACCESS_KEY_ID", ""),
                ("DEFAULT_REGION", "cn-beijing"),
                ("REGION", "cn-hangzhou"),
            ]),
            ..Inputs::default()
        };
        let r = resolve(&inputs);
        assert_eq!(value(&r, Field::AccountId).0, "fun-name");
        assert_eq!(value(&r, Field::AccessKeyId), ("FCKEY".into(), Source::Env("FC_ACCESS_KEY_ID")));
        assert_eq!(value(&r, Field::Region).0, "cn-hangzhou");
    }

    #[test]
    fn a_local_server_alone_is_enough_and_missing_values_are_named_together() {
        let r = resolve(&Inputs { local: Some(local()), ..Inputs::default() });
        assert_eq!(r.require_client().expect("client").endpoint(), "http://127.0.0.1:9000");

        let r = resolve(&Inputs { env: map(&[("FC_ENDPOINT", "http://x")]), ..Inputs::default() });
        assert_eq!(value(&r, Field::Region), (DEFAULT_REGION.into(), Source::Default));
        let err = r.require_client().err().expect("incomplete").to_string();
        assert!(err.contains("ACCOUNT_ID, ACCESS_KEY_ID, ACCESS_KEY_SECRET missing"), "{err}");
    }

    #[test]
    fn timeout_and_retries_follow_the_same_order_with_defaults_and_bounds() {
        let fcli = FcliConfig {
            timeout: Some(serde_yaml_ng::Value::Number(30.into())),
            retries: Some(serde_yaml_ng::Value::String("5".into())),
            ..FcliConfig::default()
        };
        let mut inputs = Inputs {
            dotenv: map(&[("TIMEOUT", "7")]),
            env: map(&[("TIMEOUT", "60"), ("RETRIES", "1")]),
            fcli: Some(fcli),
            local: Some(local()),
            ..Inputs::default()
        };
        let options = resolve(&inputs).client_options().expect("options");
        assert_eq!((options.timeout.as_secs(), options.retries), (7, 1));
        inputs.dotenv.clear();
        inputs.env.clear();
        let options = resolve(&inputs).client_options().expect("options");
        assert_eq!((options.timeout.as_secs(), options.retries), (30, 5), "from ~/.fcli/config.yaml");
        inputs.fcli = None;
        let r = resolve(&inputs);
        assert_eq!(r.timeout.as_ref().map(|s| s.source.clone()), Some(Source::Default));
        let options = r.client_options().expect("options");
        assert_eq!((options.timeout.as_secs(), options.retries), (DEFAULT_TIMEOUT_SECONDS, DEFAULT_RETRIES));
        inputs.env = map(&[("TIMEOUT", "0")]);
        let err = resolve(&inputs).client_options().expect_err("out of range").to_string();
        assert!(err.contains("TIMEOUT (environment variable TIMEOUT) is '0'"), "{err}");
        inputs.env = map(&[("RETRIES", "many")]);
        assert!(resolve(&inputs).client_options().is_err());
    }

    #[test]
    fn the_local_env_file_and_credentials_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("env"),
            "# comment\nexport FC_ENDPOINT=http://127.0.0.1:7 FC_ACCOUNT_ID=1\nexport ACCOUNT_ID=1 REGION='my-region'\n",
        )
        .expect("env");
        std::fs::write(
            dir.path().join("credentials.json"),
            r#"{"accountId":"42","accessKeyId":"FKX","accessKeySecret":"s3cr3t-s3cr3t"}"#,
        )
        .expect("creds");
        let local = LocalServer::read(dir.path()).expect("read");
        assert_eq!(local.endpoint.as_deref(), Some("http://127.0.0.1:7"));
        assert_eq!(local.region.as_deref(), Some("my-region"));
        assert_eq!(local.account_id.as_deref(), Some("42"));
        assert_eq!(local.access_key_secret.as_deref(), Some("s3cr3t-s3cr3t"));
    }
}
