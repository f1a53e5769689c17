//! A service version: an immutable snapshot of the service's settings and of every function's
//! configuration and code, numbered `1, 2, ...` per service and never renumbered (FC's ids are never
//! reused, even after a delete). Triggers are not part of a version: they name a qualifier instead.

use serde::{Deserialize, Serialize};

use crate::function::{CodeRef, Function, FunctionSpec};
use crate::service::{Meta, Service, ServiceSpec};

/// The service as it was when the version was published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSnapshot {
    pub meta: Meta,
    pub spec: ServiceSpec,
}

/// One function as it was when the version was published; its package is kept while a version names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionSnapshot {
    pub name: String,
    pub meta: Meta,
    pub spec: FunctionSpec,
    pub code_checksum: String,
    pub code_size: u64,
}

/// What a version holds. Functions are sorted by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub service: ServiceSnapshot,
    pub functions: Vec<FunctionSnapshot>,
}

impl Snapshot {
    pub fn of(service: &Service, functions: &[Function]) -> Snapshot {
        let mut functions: Vec<FunctionSnapshot> = functions
            .iter()
            .map(|f| FunctionSnapshot {
                name: f.name.clone(),
                meta: f.meta.clone(),
                spec: f.spec.clone(),
                code_checksum: f.code.checksum.clone(),
                code_size: f.code.size,
            })
            .collect();
        functions.sort_by(|a, b| a.name.cmp(&b.name));
        Snapshot { service: ServiceSnapshot { meta: service.meta.clone(), spec: service.spec.clone() }, functions }
    }

    /// Whether publishing `self` after `previous` would change nothing a caller can observe: the same
    /// service settings and the same functions with the same configuration and code. Times and ETags do
    /// not count (an update that set a field to its old value changes nothing).
    pub fn same_content(&self, previous: &Snapshot) -> bool {
        self.service.spec == previous.service.spec
            && self.functions.len() == previous.functions.len()
            && self
                .functions
                .iter()
                .zip(&previous.functions)
                .all(|(a, b)| a.name == b.name && a.spec == b.spec && a.code_checksum == b.code_checksum)
    }

    /// The service as this version has it.
    pub fn service(&self, name: &str) -> Service {
        Service { name: name.to_string(), meta: self.service.meta.clone(), spec: self.service.spec.clone() }
    }

    /// One function as this version has it.
    pub fn function(&self, service: &str, name: &str) -> Option<Function> {
        let f = self.functions.iter().find(|f| f.name == name)?;
        Some(snapshot_function(service, f))
    }

    /// Every function of the version, sorted by name.
    pub fn all_functions(&self, service: &str) -> Vec<Function> {
        self.functions.iter().map(|f| snapshot_function(service, f)).collect()
    }

    /// The packages this version keeps alive.
    pub fn code_checksums(&self) -> impl Iterator<Item = &str> {
        self.functions.iter().map(|f| f.code_checksum.as_str())
    }
}

fn snapshot_function(service: &str, f: &FunctionSnapshot) -> Function {
    Function {
        service: service.to_string(),
        name: f.name.clone(),
        meta: f.meta.clone(),
        spec: f.spec.clone(),
        code: CodeRef { checksum: f.code_checksum.clone(), size: f.code_size },
    }
}

/// A published version of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub id: u64,
    pub description: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub snapshot: Snapshot,
}

/// The JSON FC returns for a version (`versionId` is a decimal string).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionView<'a> {
    pub version_id: String,
    pub description: &'a str,
    pub created_time: String,
    pub last_modified_time: String,
}

impl Version {
    pub fn view(&self) -> VersionView<'_> {
        VersionView {
            version_id: self.id.to_string(),
            description: &self.description,
            created_time: crate::time::iso8601(self.created_ms),
            last_modified_time: crate::time::iso8601(self.modified_ms),
        }
    }
}

/// A version id as clients write it: a positive decimal integer.
pub fn parse_version_id(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().filter(|id| *id > 0)
}

/// What a qualifier names: the live configuration, a published version, or an alias of one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Qualifier {
    Latest,
    Version(u64),
    Alias(String),
}

impl Qualifier {
    /// `None` and `LATEST` are the live configuration; digits are a version; anything else an alias.
    pub fn parse(text: Option<&str>) -> Qualifier {
        match text {
            None | Some("LATEST") => Qualifier::Latest,
            Some(t) => match parse_version_id(t) {
                Some(id) => Qualifier::Version(id),
                None => Qualifier::Alias(t.to_string()),
            },
        }
    }

    /// The qualifier as it is written on the wire.
    pub fn as_wire(&self) -> String {
        match self {
            Qualifier::Latest => "LATEST".to_string(),
            Qualifier::Version(id) => id.to_string(),
            Qualifier::Alias(name) => name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Service {
        Service {
            name: "s".into(),
            meta: Meta { id: "i".into(), etag: "e".into(), created_ms: 1, modified_ms: 2 },
            spec: ServiceSpec::default(),
        }
    }

    #[test]
    fn content_ignores_times_and_etags() {
        let a = Snapshot::of(&service(), &[]);
        let mut later = service();
        later.meta.etag = "f".into();
        later.meta.modified_ms = 9;
        assert!(Snapshot::of(&later, &[]).same_content(&a));
        later.spec.description = "changed".into();
        assert!(!Snapshot::of(&later, &[]).same_content(&a));
    }

    #[test]
    fn qualifiers_parse() {
        assert_eq!(Qualifier::parse(None), Qualifier::Latest);
        assert_eq!(Qualifier::parse(Some("LATEST")), Qualifier::Latest);
        assert_eq!(Qualifier::parse(Some("12")), Qualifier::Version(12));
        assert_eq!(Qualifier::parse(Some("prod")), Qualifier::Alias("prod".into()));
        assert_eq!(parse_version_id("0"), None);
        assert_eq!(parse_version_id("-1"), None);
    }
}
