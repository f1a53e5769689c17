//! fun's `template.yml` (`Transform: Aliyun::Serverless-2018-04-03`): the typed form `validate` checks and
//! `deploy` applies.
//!
//! Layout:
//! - `mod.rs`: the model ([`Template`], [`ServiceDef`], [`FunctionDef`], [`EventDef`]) and [`load`].
//! - `domains.rs`: custom domains, and the mapping of `Aliyun::Serverless::Api` onto them.
//! - `events.rs`: a function's `Events` (Timer, HTTP; cloud event sources skipped).
//! - `params.rs`: `Parameters` with their `Default`s, substituted for `!Ref Name` and `${Name}`.
//! - `parse.rs`: the walk over the YAML that builds the model and records every problem with its YAML
//!   path (`Resources.demo.hello.Properties.Runtime`), not just the first.
//!
//! The semantics follow fun's specification (`docs/specs/2018-04-03.md` and the JSON schemas of
//! `src/lib/validate/schema` in `aliyun/fun`): functions are nested under their service, events under
//! their function; property names are PascalCase. Resources Ferric cannot provide (API Gateway, Log
//! Service, Table Store, RAM, ...) are reported as skipped, not as errors, so a cloud template still
//! deploys what Ferric can run.

mod domains;
mod events;
mod params;
mod parse;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The `Transform` fun's 2018-04-03 format declares.
pub const TRANSFORM: &str = "Aliyun::Serverless-2018-04-03";

/// The template's default file name, as fun's.
pub const DEFAULT_FILE: &str = "template.yml";

#[derive(Debug, Clone, Default)]
pub struct Template {
    pub services: Vec<ServiceDef>,
    /// `Aliyun::Serverless::CustomDomain`s, and `Aliyun::Serverless::Api`s mapped onto domains (`domains.rs`).
    pub domains: Vec<DomainDef>,
    /// Resources or properties left out, with why.
    pub skipped: Vec<Note>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceDef {
    pub name: String,
    pub description: String,
    pub internet_access: Option<bool>,
    pub functions: Vec<FunctionDef>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunctionDef {
    pub name: String,
    pub handler: String,
    pub runtime: String,
    /// Absolute, or relative to the template's directory as written; resolved by [`load`].
    pub code_uri: PathBuf,
    pub description: String,
    pub memory_size: Option<u32>,
    pub timeout: Option<u32>,
    pub initializer: Option<String>,
    pub initialization_timeout: Option<u32>,
    pub instance_concurrency: Option<u32>,
    pub environment_variables: BTreeMap<String, String>,
    pub events: Vec<EventDef>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventDef {
    pub name: String,
    pub kind: EventKind,
    pub qualifier: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    Timer { cron_expression: String, payload: Option<String>, enable: bool },
    Http { auth_type: String, methods: Vec<String> },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DomainDef {
    pub name: String,
    pub protocol: String,
    pub routes: Vec<RouteDef>,
    /// The `Aliyun::Serverless::Api` resource this domain stands for.
    pub from_api: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouteDef {
    pub path: String,
    pub service: String,
    pub function: String,
    pub qualifier: Option<String>,
    /// Empty: every method the function's trigger allows.
    pub methods: Vec<String>,
}

/// A problem or a skip, at a YAML path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The outcome of reading a template: the model as far as it could be built, and every error.
#[derive(Debug)]
pub struct Loaded {
    pub template: Template,
    pub errors: Vec<Note>,
}

/// Reads and checks `path`; code paths are resolved against its directory and must exist. A function
/// that `ferric build` built runs from its artifacts (`.fun/build/artifacts/<svc>/<fn>`), with a note.
pub fn load(path: &Path) -> Result<Loaded> {
    let mut loaded = load_source(path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let artifacts = base.join(crate::commands::build::ARTIFACTS);
    for service in &mut loaded.template.services {
        for function in &mut service.functions {
            let built = artifacts.join(&service.name).join(&function.name);
            if built.is_dir() {
                loaded.template.skipped.push(Note {
                    path: format!("Resources.{}.{}", service.name, function.name),
                    message: format!("using the build in {}", built.display()),
                });
                function.code_uri = built;
            }
        }
    }
    Ok(loaded)
}

/// [`load`] without the build's artifacts: the CodeUri as written.
pub fn load_source(path: &Path) -> Result<Loaded> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(parse::parse(&text, &base))
}
