//! The messages of `runtimes/PROTOCOL.md`, both directions: what a runtime sends ([`FromRuntime`]) and what
//! the invoker sends ([`ToRuntime`]). Frames carry them as their JSON header (`frame`).

use std::collections::BTreeMap;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::exchange::{HttpRequest, InvokeContext};
use crate::FunctionVersion;

/// Messages a runtime sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FromRuntime {
    Ready {
        #[serde(default)]
        runtime: String,
    },
    Log {
        #[serde(rename = "requestId", default)]
        request_id: String,
        /// Bytes of this request's output the runtime dropped just before this body (it could not send
        /// them fast enough); the body is then the end of what it dropped from.
        #[serde(default)]
        dropped: u64,
    },
    Result {
        id: u64,
        #[serde(default)]
        http: Option<HttpResponseHead>,
    },
    Error {
        id: u64,
        #[serde(rename = "errorType", default)]
        error_type: String,
    },
}

/// Status and headers an HTTP handler answered with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpResponseHead {
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, Vec<String>>,
}

fn ok_status() -> u16 {
    200
}

/// Messages the invoker sends. The body of an `invoke` (the event) travels beside the header, in the frame.
///
/// Serialised with the keys sorted and `type` last, the order the runtimes have always received (that of
/// a `serde_json::Map`), so the frames are byte for byte those the untyped headers made; a test holds it.
#[derive(Debug)]
pub(crate) enum ToRuntime<'a> {
    /// A stem cell only, before `init`: the whole environment the instance would have started with.
    Specialize { env: &'a [(String, String)] },
    /// Once, right after `ready`: what stays fixed for the life of the instance.
    Init(Init<'a>),
    /// Runs the function's initializer, at most once per instance.
    Initialize { id: u64, request_id: &'a str },
    /// One invocation; `http` describes an HTTP trigger's request.
    /// `service` and `tracing` are sent only when set, so a plain request's frame is what it always was.
    Invoke { id: u64, request_id: &'a str, http: Option<&'a HttpRequest>, context: &'a InvokeContext },
}

#[derive(Debug)]
pub(crate) struct Init<'a> {
    pub account_id: &'a str,
    pub function: InitFunction<'a>,
    /// As configured (not clamped to 1): the runtime sizes its own concurrency from it.
    pub instance_concurrency: u32,
    pub region: &'a str,
    pub service: InitService<'a>,
}

/// Fields in key order (see [`ToRuntime`]).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InitFunction<'a> {
    pub handler: &'a str,
    pub initialization_timeout: u32,
    pub initializer: Option<&'a str>,
    pub memory: u32,
    pub name: &'a str,
    pub timeout: u32,
}

/// Fields in key order (see [`ToRuntime`]).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InitService<'a> {
    pub log_project: &'a str,
    pub log_store: &'a str,
    pub name: &'a str,
    pub qualifier: &'a str,
    pub version_id: &'a str,
}

impl<'a> Init<'a> {
    pub fn new(version: &'a FunctionVersion, region: &'a str) -> Init<'a> {
        let spec = &version.spec;
        Init {
            account_id: &version.account_id,
            function: InitFunction {
                handler: &spec.handler,
                initialization_timeout: spec.initialization_timeout,
                initializer: spec.initializer.as_deref(),
                memory: spec.memory_size,
                name: &version.function,
                timeout: spec.timeout,
            },
            instance_concurrency: spec.instance_concurrency,
            region,
            service: InitService {
                log_project: &version.log_project,
                log_store: &version.log_store,
                name: &version.service,
                qualifier: &version.qualifier,
                version_id: "",
            },
        }
    }
}

/// The per-request part of `context.service` (see [`InvokeContext`]).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestService<'a> {
    qualifier: &'a str,
    version_id: &'a str,
}

/// Ferric issues no STS credentials: a function sees FC's fields, empty.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Credentials {
    access_key_id: &'static str,
    access_key_secret: &'static str,
    security_token: &'static str,
}

const NO_CREDENTIALS: Credentials = Credentials { access_key_id: "", access_key_secret: "", security_token: "" };

/// An [`HttpRequest`] with its keys in key order (see [`ToRuntime`]).
#[derive(Serialize)]
struct HttpWire<'a> {
    #[serde(rename = "clientIP")]
    client_ip: &'a str,
    headers: &'a BTreeMap<String, Vec<String>>,
    host: &'a str,
    method: &'a str,
    path: &'a str,
    queries: &'a BTreeMap<String, Vec<String>>,
    #[serde(rename = "requestURI")]
    request_uri: &'a str,
}

impl<'a> From<&'a HttpRequest> for HttpWire<'a> {
    fn from(h: &'a HttpRequest) -> HttpWire<'a> {
        HttpWire {
            client_ip: &h.client_ip,
            headers: &h.headers,
            host: &h.host,
            method: &h.method,
            path: &h.path,
            queries: &h.queries,
            request_uri: &h.request_uri,
        }
    }
}

impl Serialize for ToRuntime<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ToRuntime::Specialize { env } => {
                let mut s = serializer.serialize_struct("Specialize", 2)?;
                let env: BTreeMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                s.serialize_field("env", &env)?;
                s.serialize_field("type", "specialize")?;
                s.end()
            }
            ToRuntime::Init(init) => {
                let mut s = serializer.serialize_struct("Init", 6)?;
                s.serialize_field("accountId", init.account_id)?;
                s.serialize_field("function", &init.function)?;
                s.serialize_field("instanceConcurrency", &init.instance_concurrency)?;
                s.serialize_field("region", init.region)?;
                s.serialize_field("service", &init.service)?;
                s.serialize_field("type", "init")?;
                s.end()
            }
            ToRuntime::Initialize { id, request_id } => {
                let mut s = serializer.serialize_struct("Initialize", 4)?;
                s.serialize_field("credentials", &NO_CREDENTIALS)?;
                s.serialize_field("id", id)?;
                s.serialize_field("requestId", request_id)?;
                s.serialize_field("type", "initialize")?;
                s.end()
            }
            ToRuntime::Invoke { id, request_id, http, context } => {
                let mut s = serializer.serialize_struct("Invoke", 7)?;
                s.serialize_field("credentials", &NO_CREDENTIALS)?;
                s.serialize_field("http", &http.map(HttpWire::from))?;
                s.serialize_field("id", id)?;
                s.serialize_field("requestId", request_id)?;
                if let Some(qualifier) = &context.qualifier {
                    let version_id = context.version_id.as_deref().unwrap_or("");
                    s.serialize_field("service", &RequestService { qualifier, version_id })?;
                }
                if let Some(tracing) = &context.tracing {
                    s.serialize_field("tracing", tracing)?;
                }
                s.serialize_field("type", "invoke")?;
                s.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn version() -> FunctionVersion {
        let mut spec = ferric_types::function::FunctionSpec {
            runtime: "nodejs20".into(),
            handler: "index.handler".into(),
            initializer: Some("index.init".into()),
            instance_concurrency: 4,
            ..Default::default()
        };
        spec.environment_variables.insert("A".into(), "b".into());
        FunctionVersion {
            key_cache: Default::default(),
            account_id: "1234567890123456".into(),
            service: "s\"vc".into(),
            function: "f\u{e9}".into(),
            qualifier: "LATEST".into(),
            spec,
            log_project: "p".into(),
            log_store: "l".into(),
            code_dir: "/code".into(),
            code_checksum: "42".into(),
            layer_dirs: Vec::new(),
            internet_access: true,
        }
    }

    /// The headers exactly as the invoker built them before the messages were typed (`json!`, a sorted
    /// map), so every frame a runtime reads is unchanged byte for byte.
    #[test]
    fn typed_messages_encode_byte_for_byte_as_the_untyped_ones_did() {
        for initializer in [Some("index.init".to_string()), None] {
            let mut version = version();
            version.spec.initializer = initializer;
            let old = json!({
                "type": "init",
                "function": {
                    "name": version.function,
                    "handler": version.spec.handler,
                    "memory": version.spec.memory_size,
                    "timeout": version.spec.timeout,
                    "initializer": version.spec.initializer,
                    "initializationTimeout": version.spec.initialization_timeout,
                },
                "service": {
                    "name": version.service,
                    "logProject": version.log_project,
                    "logStore": version.log_store,
                    "qualifier": version.qualifier,
                    "versionId": "",
                },
                "region": "local",
                "accountId": version.account_id,
                "instanceConcurrency": version.spec.instance_concurrency,
            });
            let new = ToRuntime::Init(Init::new(&version, "local"));
            assert_eq!(serde_json::to_vec(&new).expect("new"), serde_json::to_vec(&old).expect("old"));
        }

        let untyped = |kind: &str, id: u64, extra: serde_json::Value| {
            let mut header = json!({
                "type": kind,
                "id": id,
                "requestId": "r-1",
                "credentials": {"accessKeyId": "", "accessKeySecret": "", "securityToken": ""},
            });
            if let (Some(map), serde_json::Value::Object(more)) = (header.as_object_mut(), extra) {
                map.extend(more);
            }
            serde_json::to_vec(&header).expect("old")
        };
        let initialize = ToRuntime::Initialize { id: 1, request_id: "r-1" };
        assert_eq!(serde_json::to_vec(&initialize).expect("new"), untyped("initialize", 1, json!({})));

        let plain = InvokeContext::default();
        let invoke = ToRuntime::Invoke { id: u64::MAX, request_id: "r-1", http: None, context: &plain };
        assert_eq!(serde_json::to_vec(&invoke).expect("new"), untyped("invoke", u64::MAX, json!({ "http": null })));

        let mut http = HttpRequest {
            method: "POST".into(),
            path: "/sub/p\u{e4}th".into(),
            request_uri: "/2016-08-15/proxy/s/f/sub/path?a=1&b=%22".into(),
            client_ip: "127.0.0.1".into(),
            host: "127.0.0.1:8080".into(),
            ..Default::default()
        };
        http.headers.insert("x-custom".into(), vec!["a".into(), "b\"\n".into()]);
        http.headers.insert("content-type".into(), vec!["text/plain".into()]);
        http.queries.insert("a".into(), vec!["1".into()]);
        let invoke = ToRuntime::Invoke { id: 2, request_id: "r-1", http: Some(&http), context: &plain };
        assert_eq!(serde_json::to_vec(&invoke).expect("new"), untyped("invoke", 2, json!({ "http": &http })));

        let env = [("B".to_string(), "2".to_string()), ("A".to_string(), "\"1\"".to_string())];
        let specialize = ToRuntime::Specialize { env: &env };
        let expected = json!({"type": "specialize", "env": {"A": "\"1\"", "B": "2"}});
        assert_eq!(serde_json::to_vec(&specialize).expect("new"), serde_json::to_vec(&expected).expect("old"));
    }

    /// The per-request qualifier and tracing ride in the invoke frame, under FC's context names.
    #[test]
    fn an_invoke_carries_the_named_qualifier_and_tracing() {
        let mut baggages = BTreeMap::new();
        baggages.insert("k".to_string(), "v".to_string());
        let context = InvokeContext {
            qualifier: Some("prod".into()),
            version_id: Some("3".into()),
            tracing: Some(crate::TracingContext {
                open_tracing_span_context: "abc:def:0:1".into(),
                open_tracing_span_baggages: baggages,
                jaeger_endpoint: "http://jaeger:14268/api/traces".into(),
            }),
        };
        let invoke = ToRuntime::Invoke { id: 3, request_id: "r-1", http: None, context: &context };
        let value: serde_json::Value = serde_json::to_value(&invoke).expect("encode");
        assert_eq!(value["service"], json!({"qualifier": "prod", "versionId": "3"}));
        assert_eq!(
            value["tracing"],
            json!({"openTracingSpanContext": "abc:def:0:1", "openTracingSpanBaggages": {"k": "v"},
                   "jaegerEndpoint": "http://jaeger:14268/api/traces"})
        );
        let text = String::from_utf8(serde_json::to_vec(&invoke).expect("encode")).expect("utf8");
        assert!(text.ends_with(r#""type":"invoke"}"#), "type stays last: {text}");
    }
}
