//! The plan: what `deploy` will create, update, leave alone or (with `--prune`) delete, found by reading
//! the server and comparing. A function is compared on its configuration and its code checksum: the local
//! package is zipped deterministically (`crate::package`), so an unchanged tree has an unchanged CRC-64/XZ
//! and is not uploaded.
//!
//! What `--prune` deletes is bounded by the template: functions of the template's services that the
//! template no longer lists, triggers of its functions that it no longer lists, and custom domains it no
//! longer declares whose every route leads to one of its services. Services the template does not name
//! are never touched (they may belong to another project in the same account), nor are domains that route
//! to any other service (shared with another project) or to none.

use std::collections::BTreeSet;
use std::fmt;

use anyhow::{Context, Result};
use ferric_client::{Client, ClientError};
use serde_json::{json, Map, Value};

use crate::package::{self, Package};
use crate::template::{DomainDef, EventDef, EventKind, FunctionDef, ServiceDef, Template};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create,
    /// With what differs.
    Update(Vec<String>),
    Unchanged,
    /// A trigger whose type changed: FC cannot change a trigger's type, so it is deleted and created.
    Replace,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Service(String),
    Function(String, String),
    Trigger(String, String, String),
    Domain(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Service(s) => write!(f, "service  {s}"),
            Target::Function(s, n) => write!(f, "function {s}/{n}"),
            Target::Trigger(s, n, t) => write!(f, "trigger  {s}/{n}/{t}"),
            Target::Domain(d) => write!(f, "domain   {d}"),
        }
    }
}

#[derive(Debug)]
pub struct Step {
    pub action: Action,
    pub target: Target,
    /// The create or update body (for a function: without `code`, which `package` supplies).
    pub body: Value,
    /// The package to upload: on create, and on update when the code changed.
    pub package: Option<Package>,
}

impl Step {
    pub fn line(&self) -> String {
        let (mark, word) = match &self.action {
            Action::Create => ("+", "create".to_string()),
            Action::Update(what) => ("~", format!("update ({})", what.join(", "))),
            Action::Unchanged => ("=", "unchanged".to_string()),
            Action::Replace => ("±", "replace (trigger type changed)".to_string()),
            Action::Delete => ("-", "delete".to_string()),
        };
        let size = match &self.package {
            Some(p) => format!(", upload {}", human_bytes(p.zip.len())),
            None => String::new(),
        };
        format!("  {mark} {:<40} {word}{size}", self.target.to_string())
    }
}

pub fn human_bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / f64::from(1 << 10)),
        n => format!("{n} B"),
    }
}

/// Reads a resource; `Ok(None)` when it does not exist.
async fn get_optional(result: Result<Value, ClientError>) -> Result<Option<Value>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(ClientError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn plan(client: &Client, template: &Template, prune: bool) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    for service in &template.services {
        let existing = get_optional(client.get_service(&service.name).await).await?;
        let body = service_body(service);
        let action = match &existing {
            None => Action::Create,
            Some(current) => compare(current, &body, &[("description", json!("")), ("internetAccess", json!(true))]),
        };
        steps.push(Step { action, target: Target::Service(service.name.clone()), body, package: None });
        for function in &service.functions {
            plan_function(client, service, function, existing.is_some(), &mut steps).await?;
        }
        if prune && existing.is_some() {
            prune_functions(client, service, &mut steps).await?;
        }
    }
    // Domains last: their routes name the functions above.
    for domain in &template.domains {
        steps.push(plan_domain(client, domain).await?);
    }
    if prune {
        prune_domains(client, template, &mut steps).await?;
    }
    Ok(steps)
}

/// FC's body for a custom domain; `routes` in the order the template lists them.
pub(crate) fn domain_body(domain: &DomainDef) -> Value {
    let routes: Vec<Value> = domain
        .routes
        .iter()
        .map(|r| {
            let mut route = json!({
                "path": r.path,
                "serviceName": r.service,
                "functionName": r.function,
                "qualifier": r.qualifier.clone().unwrap_or_default(),
            });
            // An empty list would allow no method; absent, the trigger's methods decide.
            if !r.methods.is_empty() {
                route["methods"] = json!(r.methods);
            }
            route
        })
        .collect();
    json!({ "domainName": domain.name, "protocol": domain.protocol, "routeConfig": { "routes": routes } })
}

/// The routes as compared: absent and empty qualifiers and method lists are the same.
fn routes_of(body: &Value) -> Vec<(String, String, String, String, Vec<String>)> {
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let routes = body.pointer("/routeConfig/routes").and_then(Value::as_array).cloned().unwrap_or_default();
    routes
        .iter()
        .map(|r| {
            let methods = r.get("methods").and_then(Value::as_array).cloned().unwrap_or_default();
            let methods = methods.iter().filter_map(Value::as_str).map(str::to_string).collect();
            (text(r, "path"), text(r, "serviceName"), text(r, "functionName"), text(r, "qualifier"), methods)
        })
        .collect()
}

async fn plan_domain(client: &Client, domain: &DomainDef) -> Result<Step> {
    let body = domain_body(domain);
    let path = format!("/custom-domains/{}", domain.name);
    let existing =
        get_optional(async { client.call(reqwest::Method::GET, &path, &[], None).await?.json() }.await).await?;
    let action = match existing {
        None => Action::Create,
        Some(current) => {
            let mut what = Vec::new();
            if current.get("protocol") != body.get("protocol") {
                what.push("protocol".to_string());
            }
            if routes_of(&current) != routes_of(&body) {
                what.push("routes".to_string());
            }
            if what.is_empty() {
                Action::Unchanged
            } else {
                Action::Update(what)
            }
        }
    };
    Ok(Step { action, target: Target::Domain(domain.name.clone()), body, package: None })
}

fn service_body(service: &ServiceDef) -> Value {
    let mut body = json!({ "serviceName": service.name, "description": service.description });
    if let Some(access) = service.internet_access {
        body["internetAccess"] = json!(access);
    }
    body
}

/// The configuration FC would store, with FC's defaults for what the template leaves out, so that an
/// omitted property compares equal to the default the server holds.
pub(crate) fn function_body(f: &FunctionDef) -> Value {
    json!({
        "functionName": f.name,
        "description": f.description,
        "runtime": f.runtime,
        "handler": f.handler,
        "memorySize": f.memory_size.unwrap_or(128),
        "timeout": f.timeout.unwrap_or(3),
        "initializer": f.initializer.clone().unwrap_or_default(),
        "initializationTimeout": f.initialization_timeout.unwrap_or(3),
        "instanceConcurrency": f.instance_concurrency.unwrap_or(1),
        "environmentVariables": f.environment_variables,
    })
}

/// `Unchanged`, or `Update` naming each key of `desired` whose value differs on the server (`null` or
/// missing on the server counts as the default given).
fn compare(current: &Value, desired: &Value, defaults: &[(&str, Value)]) -> Action {
    let mut differs = Vec::new();
    if let Some(map) = desired.as_object() {
        for (key, want) in map {
            if key.ends_with("Name") {
                continue;
            }
            let default = defaults.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
            let have = match current.get(key) {
                None | Some(Value::Null) => default,
                Some(v) => v.clone(),
            };
            let empty_map = |v: &Value| v.as_object().is_some_and(Map::is_empty);
            if have != *want && !(empty_map(want) && have.is_null()) {
                differs.push(key.clone());
            }
        }
    }
    if differs.is_empty() {
        Action::Unchanged
    } else {
        Action::Update(differs)
    }
}

async fn plan_function(
    client: &Client,
    service: &ServiceDef,
    function: &FunctionDef,
    service_exists: bool,
    steps: &mut Vec<Step>,
) -> Result<()> {
    let package = package::build(&function.code_uri)
        .with_context(|| format!("cannot package function {}/{}", service.name, function.name))?;
    let existing = if service_exists {
        get_optional(client.get_function(&service.name, &function.name).await).await?
    } else {
        None
    };
    let body = function_body(function);
    let target = Target::Function(service.name.clone(), function.name.clone());
    let (action, package) = match &existing {
        None => (Action::Create, Some(package)),
        Some(current) => {
            let mut action = compare(current, &body, &[("initializer", json!(""))]);
            let code_changed = current.get("codeChecksum").and_then(Value::as_str) != Some(&package.checksum);
            if code_changed {
                action = match action {
                    Action::Update(mut what) => {
                        what.insert(0, "code".into());
                        Action::Update(what)
                    }
                    _ => Action::Update(vec!["code".into()]),
                };
            }
            (action, code_changed.then_some(package))
        }
    };
    steps.push(Step { action, target, body, package });

    let triggers = match &existing {
        Some(_) => {
            list_all(client.list_triggers(&service.name, &function.name, &[("limit", "100")]).await?, "triggers")
        }
        None => Vec::new(),
    };
    for event in &function.events {
        let body = trigger_body(event);
        let current = triggers.iter().find(|t| t.get("triggerName").and_then(Value::as_str) == Some(&event.name));
        let action = match current {
            None => Action::Create,
            Some(t) if t.get("triggerType") != body.get("triggerType") => Action::Replace,
            Some(t) => {
                let mut desired = body.clone();
                if let Some(map) = desired.as_object_mut() {
                    map.remove("triggerType");
                }
                compare(t, &desired, &[])
            }
        };
        let target = Target::Trigger(service.name.clone(), function.name.clone(), event.name.clone());
        steps.push(Step { action, target, body, package: None });
    }
    let wanted: BTreeSet<&str> = function.events.iter().map(|e| e.name.as_str()).collect();
    for t in &triggers {
        let name = t.get("triggerName").and_then(Value::as_str).unwrap_or_default();
        if !wanted.contains(name) {
            steps.push(delete_trigger(&service.name, &function.name, name));
        }
    }
    Ok(())
}

/// Marks for deletion only with `--prune`: the caller filters `Delete` steps of triggers out otherwise.
fn delete_trigger(service: &str, function: &str, name: &str) -> Step {
    Step {
        action: Action::Delete,
        target: Target::Trigger(service.into(), function.into(), name.into()),
        body: Value::Null,
        package: None,
    }
}

fn trigger_body(event: &EventDef) -> Value {
    let (kind, config) = match &event.kind {
        EventKind::Timer { cron_expression, payload, enable } => {
            let mut config = json!({ "cronExpression": cron_expression, "enable": enable });
            if let Some(payload) = payload {
                config["payload"] = json!(payload);
            }
            ("timer", config)
        }
        EventKind::Http { auth_type, methods } => ("http", json!({ "authType": auth_type, "methods": methods })),
    };
    let mut body = json!({ "triggerName": event.name, "triggerType": kind, "triggerConfig": config });
    if let Some(q) = &event.qualifier {
        body["qualifier"] = json!(q);
    }
    body
}

fn list_all(page: Value, key: &str) -> Vec<Value> {
    page.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Server domains the template does not declare (any more) whose routes all lead to its services.
async fn prune_domains(client: &Client, template: &Template, steps: &mut Vec<Step>) -> Result<()> {
    let declared: BTreeSet<&str> = template.domains.iter().map(|d| d.name.as_str()).collect();
    let ours: BTreeSet<&str> = template.services.iter().map(|s| s.name.as_str()).collect();
    let mut token = String::new();
    loop {
        let mut query = vec![("limit", "100")];
        if !token.is_empty() {
            query.push(("nextToken", token.as_str()));
        }
        let page = client.call(reqwest::Method::GET, "/custom-domains", &query, None).await?.json()?;
        for domain in list_all(page.clone(), "customDomains") {
            let name = domain.get("domainName").and_then(Value::as_str).unwrap_or_default().to_string();
            let routes = routes_of(&domain);
            if declared.contains(name.as_str())
                || routes.is_empty()
                || !routes.iter().all(|(_, service, ..)| ours.contains(service.as_str()))
            {
                continue;
            }
            steps.push(Step { action: Action::Delete, target: Target::Domain(name), body: Value::Null, package: None });
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(next) if !next.is_empty() => token = next.to_string(),
            _ => return Ok(()),
        }
    }
}

/// The service's functions the template no longer lists, each after its triggers.
async fn prune_functions(client: &Client, service: &ServiceDef, steps: &mut Vec<Step>) -> Result<()> {
    let wanted: BTreeSet<&str> = service.functions.iter().map(|f| f.name.as_str()).collect();
    let mut token = String::new();
    loop {
        let mut query = vec![("limit", "100")];
        if !token.is_empty() {
            query.push(("nextToken", token.as_str()));
        }
        let page = client.list_functions(&service.name, &query).await?;
        for f in list_all(page.clone(), "functions") {
            let name = f.get("functionName").and_then(Value::as_str).unwrap_or_default().to_string();
            if wanted.contains(name.as_str()) {
                continue;
            }
            for t in list_all(client.list_triggers(&service.name, &name, &[("limit", "100")]).await?, "triggers") {
                let trigger = t.get("triggerName").and_then(Value::as_str).unwrap_or_default();
                steps.push(delete_trigger(&service.name, &name, trigger));
            }
            steps.push(Step {
                action: Action::Delete,
                target: Target::Function(service.name.clone(), name),
                body: Value::Null,
                package: None,
            });
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(next) if !next.is_empty() => token = next.to_string(),
            _ => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_on_the_server_compare_equal_to_omitted_properties() {
        let f =
            FunctionDef { name: "f".into(), runtime: "nodejs20".into(), handler: "i.h".into(), ..Default::default() };
        let server = json!({"functionName": "f", "description": "", "runtime": "nodejs20", "handler": "i.h",
            "memorySize": 128, "timeout": 3, "initializer": "", "initializationTimeout": 3,
            "instanceConcurrency": 1, "environmentVariables": {}, "codeChecksum": "1"});
        assert_eq!(compare(&server, &function_body(&f), &[]), Action::Unchanged);
        let bigger = FunctionDef { memory_size: Some(256), timeout: Some(60), ..f };
        assert_eq!(
            compare(&server, &function_body(&bigger), &[]),
            Action::Update(vec!["memorySize".into(), "timeout".into()])
        );
    }
}
