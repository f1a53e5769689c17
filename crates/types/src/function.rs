//! Functions: the stored spec, the create/update patch and the wire view.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::FcError;
use crate::fields::{opaque, Field, Nested, Shape};
use crate::limits;
use crate::runtime::INVALID_RUNTIME_MESSAGE;
use crate::service::{check_description, Meta};

/// FC fields Ferric accepts and echoes without acting on them yet (custom containers, ...).
pub const PASSTHROUGH_FIELDS: &[&str] = &[
    "customContainerConfig",
    "customDNS",
    "customRuntimeConfig",
    "customHealthCheckConfig",
    "instanceLifecycleConfig",
    "cpu",
    "diskSize",
    "gpuMemorySize",
];

/// What a user can set on a function (everything but the code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionSpec {
    pub description: String,
    pub runtime: String,
    pub handler: String,
    /// On the wire (and in the store) a function without one says `""`, as FC does, never `null`.
    #[serde(serialize_with = "empty_if_none", deserialize_with = "none_if_empty", default)]
    pub initializer: Option<String>,
    pub timeout: u32,
    pub initialization_timeout: u32,
    pub memory_size: u32,
    pub instance_concurrency: u32,
    pub instance_type: String,
    pub environment_variables: BTreeMap<String, String>,
    #[serde(rename = "caPort")]
    pub ca_port: u32,
    /// Layer ARNs in the order FC merges them under `/opt` (the first listed wins a conflict). The control
    /// plane checks them against the store; absent on the wire when empty, as FC omits it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<String>,
    /// Accepted FC fields that Ferric stores and echoes verbatim.
    #[serde(flatten)]
    pub passthrough: Map<String, Value>,
}

impl Default for FunctionSpec {
    /// FC's defaults for a new function.
    fn default() -> Self {
        FunctionSpec {
            description: String::new(),
            runtime: String::new(),
            handler: String::new(),
            initializer: None,
            timeout: 3,
            initialization_timeout: 3,
            memory_size: 128,
            instance_concurrency: 1,
            instance_type: "e1".to_string(),
            environment_variables: BTreeMap::new(),
            ca_port: 9000,
            layers: Vec::new(),
            passthrough: Map::new(),
        }
    }
}

fn empty_if_none<S: serde::Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_deref().unwrap_or(""))
}

/// `""` and `null` both mean "no initializer" (functions stored before this rule have `null`).
fn none_if_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|v| !v.is_empty()))
}

/// Where a function's code comes from in a request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CodeSource {
    /// The zip package, base64-encoded.
    pub zip_file: Option<String>,
    pub oss_bucket_name: Option<String>,
    pub oss_object_name: Option<String>,
}

impl CodeSource {
    /// Object-storage sources need Alibaba Cloud OSS, which a self-hosted server does not have.
    pub fn require_zip(&self) -> Result<&str, FcError> {
        if self.oss_bucket_name.is_some() || self.oss_object_name.is_some() {
            return Err(FcError::invalid(
                "object-storage code sources (ossBucketName/ossObjectName) are not available on this server; \
                 send the package as code.zipFile",
            ));
        }
        self.zip_file.as_deref().ok_or_else(|| FcError::invalid("code.zipFile is required"))
    }
}

/// A CreateFunction / UpdateFunction body; `None` means "not given".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FunctionPatch {
    pub function_name: Option<String>,
    pub description: Option<String>,
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub initializer: Option<String>,
    pub timeout: Option<u32>,
    pub initialization_timeout: Option<u32>,
    pub memory_size: Option<u32>,
    pub instance_concurrency: Option<u32>,
    pub instance_type: Option<String>,
    pub environment_variables: Option<BTreeMap<String, String>>,
    #[serde(rename = "caPort")]
    pub ca_port: Option<u32>,
    /// `[]` removes every layer.
    pub layers: Option<Vec<String>>,
    pub code: Option<CodeSource>,
    #[serde(flatten)]
    pub passthrough: Map<String, Value>,
}

static CODE_SHAPE: Shape = Shape { fields: &[opaque("zipFile"), opaque("ossBucketName"), opaque("ossObjectName")] };

/// The keys a function body may carry.
pub static FUNCTION_SHAPE: Shape = Shape {
    fields: &[
        opaque("functionName"),
        opaque("description"),
        opaque("runtime"),
        opaque("handler"),
        opaque("initializer"),
        opaque("timeout"),
        opaque("initializationTimeout"),
        opaque("memorySize"),
        opaque("instanceConcurrency"),
        opaque("instanceType"),
        opaque("environmentVariables"),
        opaque("caPort"),
        Field { name: "code", nested: Nested::Object(&CODE_SHAPE) },
        opaque("customContainerConfig"),
        opaque("customDNS"),
        opaque("customRuntimeConfig"),
        opaque("customHealthCheckConfig"),
        opaque("instanceLifecycleConfig"),
        opaque("layers"),
        opaque("cpu"),
        opaque("diskSize"),
        opaque("gpuMemorySize"),
    ],
};

/// Instance types FC offers; Ferric runs them all as local processes.
const INSTANCE_TYPES: &[&str] = &["e1", "c1", "g1", "fc.gpu.tesla.1", "fc.gpu.ampere.1"];

impl FunctionSpec {
    /// Merges a patch (without its code) into this spec and checks the result.
    pub fn apply(&mut self, patch: FunctionPatch) -> Result<(), FcError> {
        let FunctionPatch {
            function_name: _,
            code: _,
            description,
            runtime,
            handler,
            initializer,
            timeout,
            initialization_timeout,
            memory_size,
            instance_concurrency,
            instance_type,
            environment_variables,
            ca_port,
            layers,
            passthrough,
        } = patch;
        set(&mut self.description, description);
        set(&mut self.runtime, runtime);
        set(&mut self.handler, handler);
        if let Some(v) = initializer {
            // An empty initializer removes it, as FC does.
            self.initializer = (!v.is_empty()).then_some(v);
        }
        set(&mut self.timeout, timeout);
        set(&mut self.initialization_timeout, initialization_timeout);
        set(&mut self.memory_size, memory_size);
        set(&mut self.instance_concurrency, instance_concurrency);
        set(&mut self.instance_type, instance_type);
        set(&mut self.environment_variables, environment_variables);
        set(&mut self.ca_port, ca_port);
        set(&mut self.layers, layers);
        for (key, value) in passthrough {
            if PASSTHROUGH_FIELDS.contains(&key.as_str()) && !value.is_null() {
                self.passthrough.insert(key, value);
            }
        }
        self.validate()
    }

    /// Checks every field against FC's rules.
    pub fn validate(&self) -> Result<(), FcError> {
        check_description(&self.description)?;
        // Which runtimes an API accepts is that API's rule (the FC API's list, the form API's free text,
        // see `runtime`); every stored runtime is at least a short printable string.
        if self.runtime.is_empty()
            || self.runtime.chars().count() > limits::RUNTIME_CHARS
            || !self.runtime.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(FcError::invalid(format!(
                "{INVALID_RUNTIME_MESSAGE}: a runtime is 1 to {} printable characters",
                limits::RUNTIME_CHARS
            )));
        }
        check_entry_point("handler", &self.handler)?;
        if let Some(init) = &self.initializer {
            check_entry_point("initializer", init)?;
        }
        check_range("timeout", self.timeout, &limits::TIMEOUT_SECONDS)?;
        check_range("initializationTimeout", self.initialization_timeout, &limits::INITIALIZATION_TIMEOUT_SECONDS)?;
        check_range("memorySize", self.memory_size, &limits::MEMORY_SIZE_MB)?;
        if !self.memory_size.is_multiple_of(limits::MEMORY_SIZE_STEP_MB) {
            return Err(FcError::invalid(format!(
                "memorySize must be a multiple of {} MB, got {}",
                limits::MEMORY_SIZE_STEP_MB,
                self.memory_size
            )));
        }
        check_range("instanceConcurrency", self.instance_concurrency, &limits::INSTANCE_CONCURRENCY)?;
        if !INSTANCE_TYPES.contains(&self.instance_type.as_str()) {
            return Err(FcError::invalid(format!(
                "instanceType '{}' is not valid; expected one of {}",
                self.instance_type.chars().take(64).collect::<String>(),
                INSTANCE_TYPES.join(", ")
            )));
        }
        check_range("caPort", self.ca_port, &(1..=65535))?;
        check_environment(&self.environment_variables)?;
        if self.layers.len() > crate::layer::MAX_FUNCTION_LAYERS {
            return Err(FcError::invalid(format!(
                "a function may use at most {} layers, got {}",
                crate::layer::MAX_FUNCTION_LAYERS,
                self.layers.len()
            )));
        }
        let extra = serde_json::to_string(&self.passthrough).map(|s| s.len()).unwrap_or(usize::MAX);
        if extra > 64 * 1024 {
            return Err(FcError::invalid("function configuration is larger than 64 KB"));
        }
        Ok(())
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn check_range(field: &str, value: u32, range: &std::ops::RangeInclusive<u32>) -> Result<(), FcError> {
    if !range.contains(&value) {
        return Err(FcError::invalid(format!(
            "{field} must be between {} and {}, got {value}",
            range.start(),
            range.end()
        )));
    }
    Ok(())
}

/// `module.export` (or `pkg.Class::method` for Java): printable, no whitespace, bounded.
fn check_entry_point(field: &str, value: &str) -> Result<(), FcError> {
    if value.is_empty() {
        return Err(FcError::invalid(format!("{field} is required")));
    }
    if value.chars().count() > limits::HANDLER_CHARS
        || !value.chars().all(|c| c.is_ascii_graphic())
        || value.contains('/')
    {
        return Err(FcError::invalid(format!(
            "{field} '{}' is not valid; expected the form 'file.function'",
            value.chars().take(limits::HANDLER_CHARS).collect::<String>()
        )));
    }
    Ok(())
}

fn check_environment(vars: &BTreeMap<String, String>) -> Result<(), FcError> {
    let mut total = 0usize;
    for (key, value) in vars {
        let mut chars = key.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(FcError::invalid(format!(
                "environment variable name '{}' is not valid; use letters, digits and '_', not starting with a digit",
                key.chars().take(64).collect::<String>()
            )));
        }
        total += key.len() + value.len();
    }
    if total > limits::ENVIRONMENT_BYTES {
        return Err(FcError::invalid(format!(
            "environment variables total {total} bytes, more than the limit of {} bytes",
            limits::ENVIRONMENT_BYTES
        )));
    }
    Ok(())
}

/// The code package a function points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRef {
    /// CRC-64/XZ of the zip as an unsigned decimal string (FC's `codeChecksum`).
    pub checksum: String,
    pub size: u64,
}

/// A stored function.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub service: String,
    pub name: String,
    pub meta: Meta,
    pub spec: FunctionSpec,
    pub code: CodeRef,
}

/// The JSON FC returns for a function.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionView<'a> {
    pub function_name: &'a str,
    pub function_id: &'a str,
    #[serde(flatten)]
    pub spec: &'a FunctionSpec,
    pub code_size: u64,
    pub code_checksum: &'a str,
    pub created_time: String,
    pub last_modified_time: String,
}

impl Function {
    pub fn view(&self) -> FunctionView<'_> {
        FunctionView {
            function_name: &self.name,
            function_id: &self.meta.id,
            spec: &self.spec,
            code_size: self.code.size,
            code_checksum: &self.code.checksum,
            created_time: crate::time::iso8601(self.meta.created_ms),
            last_modified_time: crate::time::iso8601(self.meta.modified_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::parse_body;

    fn patch(json: &str) -> FunctionPatch {
        parse_body(json.as_bytes(), &FUNCTION_SHAPE).expect("parses")
    }

    #[test]
    fn defaults_then_patch() {
        let mut spec = FunctionSpec::default();
        spec.apply(patch(r#"{"Runtime":"python3.9","handler":"index.handler","memorySize":null,"CAPort":8080}"#))
            .expect("valid");
        assert_eq!(spec.memory_size, 128);
        assert_eq!(spec.timeout, 3);
        assert_eq!(spec.instance_type, "e1");
        assert_eq!(spec.ca_port, 8080);
    }

    #[test]
    fn rejects_bad_values_with_fc_messages() {
        let base =
            || FunctionSpec { runtime: "nodejs20".into(), handler: "index.handler".into(), ..Default::default() };
        let err = base().apply(patch(r#"{"runtime":"a b"}"#)).expect_err("bad runtime");
        assert!(err.message.starts_with(INVALID_RUNTIME_MESSAGE));
        assert!(base().apply(patch(r#"{"runtime":""}"#)).is_err());
        assert!(base().apply(patch(r#"{"memorySize":100}"#)).is_err());
        assert!(base().apply(patch(r#"{"memorySize":200}"#)).is_err());
        assert!(base().apply(patch(r#"{"timeout":0}"#)).is_err());
        assert!(base().apply(patch(r#"{"instanceConcurrency":101}"#)).is_err());
        assert!(base().apply(patch(r#"{"environmentVariables":{"1A":"x"}}"#)).is_err());
        assert!(base().apply(patch(r#"{"handler":"a b"}"#)).is_err());
        let big = format!(r#"{{"environmentVariables":{{"A":"{}"}}}}"#, "x".repeat(5000));
        assert!(base().apply(patch(&big)).is_err());
    }

    #[test]
    fn empty_environment_clears_and_passthrough_echoes() {
        let mut spec =
            FunctionSpec { runtime: "nodejs20".into(), handler: "index.handler".into(), ..Default::default() };
        spec.apply(patch(r#"{"environmentVariables":{"A":"1"},"layers":["x"],"bogus":1}"#)).expect("valid");
        assert_eq!(spec.environment_variables.len(), 1);
        spec.apply(patch(r#"{"environmentVariables":{}}"#)).expect("valid");
        assert!(spec.environment_variables.is_empty());
        let v = serde_json::to_value(&spec).expect("serialises");
        assert_eq!(v["layers"][0], "x");
        assert!(v.get("bogus").is_none());
    }

    #[test]
    fn no_initializer_is_an_empty_string_on_the_wire() {
        let mut spec =
            FunctionSpec { runtime: "nodejs20".into(), handler: "index.handler".into(), ..Default::default() };
        assert_eq!(serde_json::to_value(&spec).expect("serialises")["initializer"], "");
        spec.apply(patch(r#"{"initializer":"index.init"}"#)).expect("valid");
        let text = serde_json::to_string(&spec).expect("serialises");
        let back: FunctionSpec = serde_json::from_str(&text).expect("round-trips");
        assert_eq!(back.initializer.as_deref(), Some("index.init"));
        spec.apply(patch(r#"{"initializer":""}"#)).expect("valid");
        let text = serde_json::to_string(&spec).expect("serialises");
        let back: FunctionSpec = serde_json::from_str(&text).expect("round-trips");
        assert_eq!(back.initializer, None, "an empty initializer reads back as none, so none runs");
        let old = text.replace(r#""initializer":"""#, r#""initializer":null"#);
        assert_ne!(old, text);
        assert_eq!(serde_json::from_str::<FunctionSpec>(&old).expect("old rows parse").initializer, None);
    }

    #[test]
    fn oss_code_is_refused() {
        let p = patch(r#"{"code":{"ossBucketName":"b","ossObjectName":"o"}}"#);
        let err = p.code.expect("code").require_zip().expect_err("oss refused");
        assert!(err.message.contains("not available on this server"));
    }
}
