//! Writing resources: `mks`/`ups`, `mkf`/`upf`, `mkt`/`upt`, with fcli's flags. Each verb builds FC's
//! JSON body from the flags given (an update sends only those) and the server validates it, as for
//! every other client; code directories are zipped the way `deploy` zips them (`crate::package`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use base64::Engine;
use clap::Args;
use serde_json::{json, Map, Value};

use super::path::Kind;
use super::Session;

#[derive(Args, Debug)]
pub struct ServiceArgs {
    /// The service: a name (from the root), or a path; `ups` defaults to the current service.
    #[arg(default_value = ".")]
    name: String,
    /// Service description.
    #[arg(short, long)]
    description: Option<String>,
    /// Role ARN, kept for FC compatibility (Ferric needs no roles).
    #[arg(short, long)]
    role: Option<String>,
    /// Log project, kept for FC compatibility (Ferric keeps logs itself).
    #[arg(short = 'p', long)]
    log_project: Option<String>,
    /// Log store, kept for FC compatibility.
    #[arg(short = 'l', long)]
    log_store: Option<String>,
    /// Whether the service's functions may open network connections (FC's default: true).
    #[arg(long)]
    internet_access: Option<bool>,
}

#[derive(Args, Debug)]
pub struct FunctionArgs {
    /// The function: a name in the current service, or a path; `upf` defaults to the current function.
    #[arg(default_value = ".")]
    name: String,
    /// Handler, e.g. index.handler.
    #[arg(short = 'h', long)]
    handler: Option<String>,
    /// Runtime: nodejs20, nodejs18, python3, python3.10, ...
    #[arg(short = 't', long)]
    runtime: Option<String>,
    /// Directory holding the function's code (zipped as 'ferric deploy' zips it).
    #[arg(short = 'd', long, conflicts_with = "code_file")]
    code_dir: Option<PathBuf>,
    /// A zip file (or a single source file) with the function's code.
    #[arg(short = 'f', long)]
    code_file: Option<PathBuf>,
    /// OSS bucket of the code (not available: Ferric has no OSS; use -d or -f).
    #[arg(short = 'b', long)]
    code_bucket: Option<String>,
    /// OSS object of the code (not available: use -d or -f).
    #[arg(short = 'o', long)]
    code_object: Option<String>,
    /// Memory size in MB.
    #[arg(short = 'm', long)]
    memory: Option<u32>,
    /// Timeout in seconds.
    #[arg(short = 'e', long)]
    timeout: Option<u32>,
    /// Function description.
    #[arg(long)]
    description: Option<String>,
    /// Initializer, e.g. index.initializer.
    #[arg(short = 'i', long)]
    initializer: Option<String>,
    /// Initializer timeout in seconds.
    #[arg(long)]
    initialization_timeout: Option<u32>,
    /// An environment variable, KEY=VALUE; repeat for more (an update replaces them all).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// How many requests one instance serves at once.
    #[arg(short = 'c', long)]
    instance_concurrency: Option<u32>,
}

#[derive(Args, Debug)]
pub struct TriggerArgs {
    /// The trigger: a name in the current function, or a path; `upt` defaults to the current trigger.
    #[arg(default_value = ".")]
    name: String,
    /// Trigger type: http or timer (oss, log, mns_topic, ... are cloud-only).
    #[arg(short = 't', long = "type")]
    kind: Option<String>,
    /// The triggerConfig from a YAML or JSON file (flags below override its fields).
    #[arg(short = 'c', long)]
    config: Option<PathBuf>,
    /// timer: cron expression with seconds, or @every 5m.
    #[arg(long)]
    cron: Option<String>,
    /// timer: the event each firing sends.
    #[arg(long)]
    payload: Option<String>,
    /// timer: whether it fires.
    #[arg(long)]
    enable: Option<bool>,
    /// http: anonymous or function (signed requests only).
    #[arg(long)]
    auth_type: Option<String>,
    /// http: the methods it answers, comma-separated.
    #[arg(long, value_delimiter = ',')]
    methods: Vec<String>,
    /// Invocation role, kept for FC compatibility.
    #[arg(short = 'r', long)]
    invocation_role: Option<String>,
    /// Source ARN, kept for FC compatibility.
    #[arg(short = 's', long)]
    source_arn: Option<String>,
    /// The version or alias the trigger invokes.
    #[arg(short = 'q', long)]
    qualifier: Option<String>,
}

/// Sets `key` when the flag was given.
fn put<T: Into<Value>>(body: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        body.insert(key.into(), v.into());
    }
}

pub fn service(session: &Session, args: &ServiceArgs, create: bool) -> Result<()> {
    let target = session.cwd().require(&args.name, Kind::Service)?;
    let mut body = Map::new();
    put(&mut body, "description", args.description.clone());
    put(&mut body, "role", args.role.clone());
    put(&mut body, "internetAccess", args.internet_access);
    if args.log_project.is_some() || args.log_store.is_some() {
        let log = json!({ "project": args.log_project.clone().unwrap_or_default(),
                          "logstore": args.log_store.clone().unwrap_or_default() });
        body.insert("logConfig".into(), log);
    }
    let client = session.client()?;
    let name = target.name();
    if create {
        body.insert("serviceName".into(), name.into());
        session.block_on(client.create_service(&Value::Object(body)))?;
    } else {
        session.block_on(client.update_service(name, &Value::Object(body)))?;
    }
    session.forget_names();
    println!("{} service {target}", if create { "created" } else { "updated" });
    Ok(())
}

pub fn function(session: &Session, args: &FunctionArgs, create: bool) -> Result<()> {
    let target = session.cwd().require(&args.name, Kind::Function)?;
    if args.code_bucket.is_some() || args.code_object.is_some() {
        bail!("Ferric has no OSS to take code from: give the code with -d DIR or -f FILE.zip");
    }
    let mut body = Map::new();
    put(&mut body, "handler", args.handler.clone());
    put(&mut body, "runtime", args.runtime.clone());
    put(&mut body, "memorySize", args.memory);
    put(&mut body, "timeout", args.timeout);
    put(&mut body, "description", args.description.clone());
    put(&mut body, "initializer", args.initializer.clone());
    put(&mut body, "initializationTimeout", args.initialization_timeout);
    put(&mut body, "instanceConcurrency", args.instance_concurrency);
    if !args.env.is_empty() {
        let mut vars = BTreeMap::new();
        for pair in &args.env {
            let (k, v) = pair.split_once('=').with_context(|| format!("--env '{pair}' is not KEY=VALUE"))?;
            vars.insert(k.to_string(), v.to_string());
        }
        body.insert("environmentVariables".into(), json!(vars));
    }
    let code = args.code_dir.as_ref().or(args.code_file.as_ref());
    if let Some(path) = code {
        let package = crate::package::build(path)?;
        let zip = base64::engine::general_purpose::STANDARD.encode(&package.zip);
        body.insert("code".into(), json!({ "zipFile": zip }));
    }
    let names = target.parts();
    let (service, name) = (names[0], names[1]);
    let client = session.client()?;
    if create {
        if args.runtime.is_none() || args.handler.is_none() || code.is_none() {
            bail!("mkf needs -t RUNTIME, -h HANDLER and the code (-d DIR or -f FILE.zip); see 'mkf --help'");
        }
        body.insert("functionName".into(), name.into());
        session.block_on(client.create_function_from(service, &Value::Object(body)))?;
    } else {
        session.block_on(client.update_function(service, name, &Value::Object(body)))?;
    }
    session.forget_names();
    println!("{} function {target}", if create { "created" } else { "updated" });
    Ok(())
}

pub fn trigger(session: &Session, args: &TriggerArgs, create: bool) -> Result<()> {
    let target = session.cwd().require(&args.name, Kind::Trigger)?;
    let names = target.parts();
    let (service, function, name) = (names[0], names[1], names[2]);
    let client = session.client()?;
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let yaml: serde_yaml_ng::Value =
                serde_yaml_ng::from_str(&text).with_context(|| format!("{} is not YAML or JSON", path.display()))?;
            match serde_json::to_value(yaml)? {
                Value::Object(map) => map,
                _ => bail!("{} must hold the triggerConfig mapping", path.display()),
            }
        }
        None if create => Map::new(),
        None => {
            // An update sends the whole triggerConfig: start from the server's.
            let current = session.block_on(client.get_trigger(service, function, name))?;
            current.get("triggerConfig").and_then(Value::as_object).cloned().unwrap_or_default()
        }
    };
    let kind = args.kind.clone().map(|k| k.to_ascii_lowercase());
    if create && kind.as_deref() == Some("http") {
        config.entry("authType").or_insert_with(|| json!("anonymous"));
        config.entry("methods").or_insert_with(|| json!(["GET", "POST"]));
    }
    if create && kind.as_deref() == Some("timer") {
        config.entry("enable").or_insert_with(|| json!(true));
    }
    put(&mut config, "cronExpression", args.cron.clone());
    put(&mut config, "payload", args.payload.clone());
    put(&mut config, "enable", args.enable);
    put(&mut config, "authType", args.auth_type.clone());
    if !args.methods.is_empty() {
        let methods: Vec<String> = args.methods.iter().map(|m| m.trim().to_ascii_uppercase()).collect();
        config.insert("methods".into(), json!(methods));
    }
    let mut body = Map::new();
    put(&mut body, "invocationRole", args.invocation_role.clone());
    put(&mut body, "sourceArn", args.source_arn.clone());
    put(&mut body, "qualifier", args.qualifier.clone());
    body.insert("triggerConfig".into(), Value::Object(config));
    if create {
        let Some(kind) = kind else { bail!("mkt needs -t TYPE (http or timer); see 'mkt --help'") };
        body.insert("triggerName".into(), name.into());
        body.insert("triggerType".into(), kind.into());
        session.block_on(client.create_trigger(service, function, &Value::Object(body)))?;
    } else {
        session.block_on(client.update_trigger(service, function, name, &Value::Object(body)))?;
    }
    session.forget_names();
    println!("{} trigger {target}", if create { "created" } else { "updated" });
    Ok(())
}
