//! A function's `Events`: Timer and HTTP triggers checked with their YAML paths; the event types that
//! need a cloud event source are skipped with why.

use serde_yaml_ng::{Mapping, Value};

use super::parse::{join, type_name, Walk};
use super::{EventDef, EventKind, FunctionDef};

/// Event types fun knows that need a cloud event source.
const CLOUD_EVENTS: &[(&str, &str)] = &[
    ("OSS", "Ferric has no Object Storage Service"),
    ("Log", "Ferric has no Log Service"),
    ("RDS", "Ferric has no RDS"),
    ("MNSTopic", "Ferric has no Message Service (MNS)"),
    ("TableStore", "Ferric has no Table Store"),
    ("CDN", "Ferric has no CDN"),
    ("Datahub", "Ferric has no DataHub"),
    ("Api", "Ferric has no API Gateway; use an HTTP event"),
];

impl Walk<'_> {
    pub(super) fn events(&mut self, f: &mut FunctionDef, value: &Value, path: &str) {
        let Some(events) = self.mapping(value, path) else { return };
        for (name, event) in self.entries(events, path) {
            let here = join(path, &name);
            self.name("trigger", &name, &here);
            let Some(map) = self.mapping(event, &here) else { continue };
            let kind = map.get("Type").and_then(Value::as_str).unwrap_or_default().to_string();
            let props_path = join(&here, "Properties");
            let props = match map.get("Properties") {
                Some(p) => self.mapping(p, &props_path).cloned().unwrap_or_default(),
                None => Mapping::new(),
            };
            let qualifier = props.get("Qualifier").and_then(|q| self.string(q, &join(&props_path, "Qualifier")));
            let kind = match kind.as_str() {
                "Timer" => self.timer(&props, &props_path),
                "HTTP" | "Http" => self.http(&props, &props_path),
                "" => {
                    self.error(&join(&here, "Type"), "is required (Timer or HTTP)");
                    None
                }
                other => {
                    match CLOUD_EVENTS.iter().find(|(k, _)| *k == other) {
                        Some((_, why)) => self.skip(&here, format!("{other} event: {why}")),
                        None => self.error(&join(&here, "Type"), format!("unknown event type '{other}'")),
                    }
                    None
                }
            };
            if let Some(kind) = kind {
                f.events.push(EventDef { name, kind, qualifier });
            }
        }
    }

    fn timer(&mut self, props: &Mapping, path: &str) -> Option<EventKind> {
        let (mut cron, mut payload, mut enable) = (None, None, true);
        for (key, value) in self.entries(props, path) {
            let here = join(path, &key);
            match key.as_str() {
                "CronExpression" => cron = self.string(value, &here),
                "Payload" => payload = self.string(value, &here),
                "Enable" => enable = self.boolean(value, &here).unwrap_or(true),
                "Qualifier" => {}
                "InvocationRole" => self.skip(&here, "Ferric needs no invocation role"),
                _ => self.error(&here, "unknown Timer property"),
            }
        }
        let Some(cron) = cron else {
            self.error(&join(path, "CronExpression"), "is required");
            return None;
        };
        Some(EventKind::Timer { cron_expression: cron, payload, enable })
    }

    fn http(&mut self, props: &Mapping, path: &str) -> Option<EventKind> {
        let (mut auth, mut methods) = (None, None);
        for (key, value) in self.entries(props, path) {
            let here = join(path, &key);
            match key.as_str() {
                "AuthType" => {
                    auth = self.string(value, &here).map(|a| a.to_ascii_lowercase());
                    if auth.as_deref().is_some_and(|a| a != "anonymous" && a != "function") {
                        self.error(&here, "must be ANONYMOUS or FUNCTION");
                    }
                }
                "Methods" => methods = self.methods(value, &here),
                "Qualifier" => {}
                "InvocationRole" => self.skip(&here, "Ferric needs no invocation role"),
                _ => self.error(&here, "unknown HTTP property"),
            }
        }
        if auth.is_none() {
            self.error(&join(path, "AuthType"), "is required (ANONYMOUS or FUNCTION)");
        }
        if methods.is_none() {
            self.error(&join(path, "Methods"), "is required (a list such as [GET, POST])");
        }
        Some(EventKind::Http { auth_type: auth?, methods: methods? })
    }

    pub(super) fn methods(&mut self, value: &Value, path: &str) -> Option<Vec<String>> {
        let Value::Sequence(items) = value else {
            self.error(path, format!("must be a list, not {}", type_name(value)));
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let here = format!("{path}[{i}]");
            let Some(m) = self.string(item, &here) else { continue };
            let upper = m.to_ascii_uppercase();
            if ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"].contains(&upper.as_str()) {
                out.push(upper);
            } else {
                self.error(&here, format!("'{m}' is not an HTTP method"));
            }
        }
        Some(out)
    }
}
