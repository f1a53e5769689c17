//! The walk over `template.yml`. Every check records a [`Note`] at the value's YAML path and carries on,
//! so one run of `ferric validate` lists every problem.

use std::collections::BTreeMap;
use std::path::Path;

use ferric_types::limits;
use ferric_types::name::{validate_name, NameRule};
use serde_yaml_ng::{Mapping, Value};

use super::{FunctionDef, Loaded, Note, ServiceDef, Template, TRANSFORM};

const SERVICE: &str = "Aliyun::Serverless::Service";
const FUNCTION: &str = "Aliyun::Serverless::Function";

/// Resource types fun knows that name cloud products Ferric does not have, and what to use instead.
fn cloud_only(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Aliyun::Serverless::Log" | "Aliyun::Serverless::Log::Logstore" => {
            "Ferric has no Log Service; invocation logs are built in ('ferric logs')"
        }
        "Aliyun::Serverless::TableStore" | "Aliyun::Serverless::TableStore::Table" => "Ferric has no Table Store",
        "Aliyun::Serverless::MNSTopic" => "Ferric has no Message Service (MNS)",
        "Aliyun::Serverless::Flow" => "Ferric has no Serverless Workflow",
        k if k.starts_with("Aliyun::") || k.starts_with("ALIYUN::") => "Ferric has no such cloud resource",
        _ => return None,
    })
}

/// Service properties that configure cloud products; accepted and left out.
const SERVICE_CLOUD_PROPERTIES: &[(&str, &str)] = &[
    ("Role", "Ferric needs no RAM role"),
    ("Policies", "Ferric needs no RAM policies"),
    ("VpcConfig", "Ferric has no VPC"),
    ("LogConfig", "invocation logs are built in ('ferric logs')"),
    ("NasConfig", "Ferric has no NAS"),
    ("TracingConfig", "Ferric has no Tracing Analysis"),
];

const FUNCTION_CLOUD_PROPERTIES: &[(&str, &str)] = &[
    ("InstanceType", "Ferric has one instance type"),
    ("Layers", "Ferric has no layers yet"),
    ("CAPort", "Ferric runs no custom containers"),
    ("CustomContainerConfig", "Ferric runs no custom containers"),
    ("InstanceLifecycleConfig", "Ferric has no lifecycle hooks yet"),
    ("AsyncConfiguration", "set it with the async-invoke-config API"),
];

pub(super) struct Walk<'a> {
    base: &'a Path,
    errors: Vec<Note>,
    skipped: Vec<Note>,
}

pub fn parse(text: &str, base: &Path) -> Loaded {
    let mut walk = Walk { base, errors: Vec::new(), skipped: Vec::new() };
    let template = match serde_yaml_ng::from_str::<Value>(text) {
        Ok(mut doc) => {
            super::params::substitute(&mut doc, &mut walk.errors);
            walk.template(&doc)
        }
        Err(e) => {
            walk.error("", format!("not valid YAML: {e}"));
            Template::default()
        }
    };
    Loaded { template: Template { skipped: walk.skipped, ..template }, errors: walk.errors }
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

impl Walk<'_> {
    pub(super) fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(Note { path: path.to_string(), message: message.into() });
    }

    /// A line `validate` and `deploy` print that is neither an error nor a skip.
    pub(super) fn note(&mut self, path: &str, message: impl Into<String>) {
        self.skipped.push(Note { path: path.to_string(), message: message.into() });
    }

    pub(super) fn skip(&mut self, path: &str, message: impl Into<String>) {
        self.skipped.push(Note { path: path.to_string(), message: format!("skipped: {}", message.into()) });
    }

    /// The mapping's entries with string keys; other keys are errors.
    pub(super) fn entries<'v>(&mut self, map: &'v Mapping, path: &str) -> Vec<(String, &'v Value)> {
        let mut out = Vec::new();
        for (k, v) in map {
            match k.as_str() {
                Some(k) => out.push((k.to_string(), v)),
                None => self.error(path, format!("keys must be strings, not {}", type_name(k))),
            }
        }
        out
    }

    pub(super) fn mapping<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Mapping> {
        match v {
            Value::Mapping(m) => Some(m),
            other => {
                self.error(path, format!("must be a mapping, not {}", type_name(other)));
                None
            }
        }
    }

    pub(super) fn string(&mut self, v: &Value, path: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.error(path, format!("must be a string, not {}", type_name(other)));
                None
            }
        }
    }

    fn integer(&mut self, v: &Value, path: &str, range: std::ops::RangeInclusive<u32>) -> Option<u32> {
        let n = v.as_u64().and_then(|n| u32::try_from(n).ok());
        match n {
            Some(n) if range.contains(&n) => Some(n),
            _ if v.is_number() || v.as_u64().is_some() => {
                self.error(path, format!("must be between {} and {}", range.start(), range.end()));
                None
            }
            _ => {
                self.error(path, format!("must be an integer, not {}", type_name(v)));
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, v: &Value, path: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.error(path, format!("must be true or false, not {}", type_name(other)));
                None
            }
        }
    }

    pub(super) fn name(&mut self, kind: &'static str, name: &str, path: &str) {
        if let Err(e) = validate_name(kind, name, NameRule::Fc) {
            self.error(path, e.to_string());
        }
    }

    fn template(&mut self, doc: &Value) -> Template {
        let mut template = Template::default();
        let Some(root) = self.mapping(doc, "") else { return template };
        let mut resources = None;
        let mut transform = false;
        for (key, value) in self.entries(root, "") {
            match key.as_str() {
                "ROSTemplateFormatVersion" => {
                    if value.as_str() != Some("2015-09-01") {
                        self.error(&key, "must be '2015-09-01'");
                    }
                }
                "Transform" => {
                    transform = true;
                    if value.as_str() != Some(TRANSFORM) {
                        self.error(&key, format!("must be '{TRANSFORM}'"));
                    }
                }
                "Resources" => resources = Some(value),
                "Description" => {
                    self.string(value, &key);
                }
                "Parameters" => {} // substituted before the walk (`params.rs`)
                "Outputs" | "Conditions" | "Mappings" | "Metadata" | "Globals" => {
                    self.skip(&key, "Ferric does not evaluate template outputs or conditions yet")
                }
                _ => self.error(&key, "unknown top-level key"),
            }
        }
        if !transform {
            self.error("Transform", format!("is required ('{TRANSFORM}')"));
        }
        let Some(resources) = resources else {
            self.error("Resources", "is required");
            return template;
        };
        let Some(resources) = self.mapping(resources, "Resources") else { return template };
        for (name, resource) in self.entries(resources, "Resources") {
            let path = join("Resources", &name);
            let Some(map) = self.mapping(resource, &path) else { continue };
            let kind = map.get("Type").and_then(Value::as_str).unwrap_or_default().to_string();
            match kind.as_str() {
                SERVICE => {
                    if let Some(service) = self.service(&name, map, &path) {
                        template.services.push(service);
                    }
                }
                FUNCTION => self.error(&path, "a function must be nested under its Aliyun::Serverless::Service"),
                super::domains::CUSTOM_DOMAIN => {
                    if let Some(domain) = self.custom_domain(&name, map, &path) {
                        template.domains.push(domain);
                    }
                }
                super::domains::API => {
                    if let Some(domain) = self.api(&name, map, &path) {
                        template.domains.push(domain);
                    }
                }
                "" => self.error(&join(&path, "Type"), "is required"),
                other => match cloud_only(other) {
                    Some(why) => self.skip(&path, format!("{other}: {why}")),
                    None => self.error(&join(&path, "Type"), format!("unknown resource type '{other}'")),
                },
            }
        }
        self.attach_api_triggers(&mut template);
        template
    }

    fn service(&mut self, name: &str, map: &Mapping, path: &str) -> Option<ServiceDef> {
        self.name("service", name, path);
        let mut service = ServiceDef { name: name.to_string(), ..ServiceDef::default() };
        for (key, value) in self.entries(map, path) {
            let here = join(path, &key);
            match key.as_str() {
                "Type" => {}
                "Properties" => self.service_properties(&mut service, value, &here),
                _ => {
                    let Some(child) = self.mapping(value, &here) else { continue };
                    match child.get("Type").and_then(Value::as_str) {
                        Some(FUNCTION) => {
                            if let Some(function) = self.function(&key, child, &here) {
                                service.functions.push(function);
                            }
                        }
                        Some(other) => self.error(
                            &join(&here, "Type"),
                            format!("a service holds only {FUNCTION} resources, not '{other}'"),
                        ),
                        None => self.error(&join(&here, "Type"), "is required"),
                    }
                }
            }
        }
        Some(service)
    }

    fn service_properties(&mut self, service: &mut ServiceDef, value: &Value, path: &str) {
        let Some(props) = self.mapping(value, path) else { return };
        for (key, value) in self.entries(props, path) {
            let here = join(path, &key);
            match key.as_str() {
                "Description" => service.description = self.description(value, &here),
                "InternetAccess" => service.internet_access = self.boolean(value, &here),
                _ => match SERVICE_CLOUD_PROPERTIES.iter().find(|(k, _)| *k == key) {
                    Some((_, why)) => self.skip(&here, *why),
                    None => self.error(&here, "unknown service property"),
                },
            }
        }
    }

    fn description(&mut self, value: &Value, path: &str) -> String {
        let text = self.string(value, path).unwrap_or_default();
        if text.chars().count() > limits::DESCRIPTION_CHARS {
            self.error(path, format!("is longer than {} characters", limits::DESCRIPTION_CHARS));
        }
        text
    }

    fn function(&mut self, name: &str, map: &Mapping, path: &str) -> Option<FunctionDef> {
        self.name("function", name, path);
        let mut function = FunctionDef { name: name.to_string(), ..FunctionDef::default() };
        let mut has_properties = false;
        for (key, value) in self.entries(map, path) {
            let here = join(path, &key);
            match key.as_str() {
                "Type" => {}
                "Properties" => {
                    has_properties = true;
                    self.function_properties(&mut function, value, &here);
                }
                "Events" => self.events(&mut function, value, &here),
                _ => self.error(&here, "unknown key (a function has Type, Properties and Events)"),
            }
        }
        if !has_properties {
            self.error(&join(path, "Properties"), "is required (Handler, Runtime, CodeUri)");
        }
        Some(function)
    }

    fn function_properties(&mut self, f: &mut FunctionDef, value: &Value, path: &str) {
        let Some(props) = self.mapping(value, path) else { return };
        for required in ["Handler", "Runtime", "CodeUri"] {
            if !props.contains_key(required) {
                self.error(&join(path, required), "is required");
            }
        }
        for (key, value) in self.entries(props, path) {
            let here = join(path, &key);
            match key.as_str() {
                "Handler" => f.handler = self.handler(value, &here),
                "Initializer" => f.initializer = Some(self.handler(value, &here)),
                "Runtime" => {
                    let runtime = self.string(value, &here).unwrap_or_default();
                    if !runtime.is_empty() && ferric_types::Runtime::parse(&runtime).is_none() {
                        let known = ferric_types::runtime::KNOWN_RUNTIMES.join(", ");
                        self.error(&here, format!("unknown runtime '{runtime}' (FC's runtimes: {known})"));
                    }
                    f.runtime = runtime;
                }
                "CodeUri" => self.code_uri(f, value, &here),
                "Description" => f.description = self.description(value, &here),
                "MemorySize" => {
                    f.memory_size = self.integer(value, &here, limits::MEMORY_SIZE_MB);
                    if f.memory_size.is_some_and(|m| m % limits::MEMORY_SIZE_STEP_MB != 0) {
                        self.error(&here, format!("must be a multiple of {}", limits::MEMORY_SIZE_STEP_MB));
                    }
                }
                "Timeout" => f.timeout = self.integer(value, &here, limits::TIMEOUT_SECONDS),
                "InitializationTimeout" => {
                    f.initialization_timeout = self.integer(value, &here, limits::INITIALIZATION_TIMEOUT_SECONDS)
                }
                "InstanceConcurrency" => {
                    f.instance_concurrency = self.integer(value, &here, limits::INSTANCE_CONCURRENCY)
                }
                "EnvironmentVariables" => f.environment_variables = self.environment(value, &here),
                _ => match FUNCTION_CLOUD_PROPERTIES.iter().find(|(k, _)| *k == key) {
                    Some((_, why)) => self.skip(&here, *why),
                    None => self.error(&here, "unknown function property"),
                },
            }
        }
    }

    fn handler(&mut self, value: &Value, path: &str) -> String {
        let handler = self.string(value, path).unwrap_or_default();
        if handler.is_empty() || handler.len() > limits::HANDLER_CHARS {
            self.error(path, format!("must be 1 to {} characters", limits::HANDLER_CHARS));
        } else if !handler.contains('.') {
            self.error(path, format!("'{handler}' must be file.function (index.handler)"));
        }
        handler
    }

    fn code_uri(&mut self, f: &mut FunctionDef, value: &Value, path: &str) {
        let Some(uri) = self.string(value, path) else { return };
        if uri.starts_with("oss://") {
            self.error(path, "Ferric cannot fetch code from OSS; give a local file or directory");
            return;
        }
        let resolved = self.base.join(&uri);
        if !resolved.exists() {
            self.error(path, format!("'{uri}' does not exist (relative to the template's directory)"));
        }
        f.code_uri = resolved;
    }

    fn environment(&mut self, value: &Value, path: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(map) = self.mapping(value, path) else { return out };
        for (key, value) in self.entries(map, path) {
            let here = join(path, &key);
            // fun passes scalars through; FC wants strings, so numbers and booleans are written out.
            match value {
                Value::String(s) => drop(out.insert(key, s.clone())),
                Value::Number(n) => drop(out.insert(key, n.to_string())),
                Value::Bool(b) => drop(out.insert(key, b.to_string())),
                other => self.error(&here, format!("must be a string, not {}", type_name(other))),
            }
        }
        let bytes: usize = out.iter().map(|(k, v)| k.len() + v.len()).sum();
        if bytes > limits::ENVIRONMENT_BYTES {
            self.error(path, format!("are larger than {} bytes together", limits::ENVIRONMENT_BYTES));
        }
        out
    }
}
