//! Custom domains: a host name whose HTTP requests are served by functions, chosen per path.
//!
//! The body shapes are the official SDKs' (`fc2.Client.create_custom_domain`, `FC#createCustomDomain`):
//! `domainName`, `protocol`, `apiVersion`, `routeConfig.routes[{path, serviceName, functionName,
//! qualifier, methods}]`, `certConfig{certName, certificate, privateKey}`. The private key is stored but
//! never read back (the Python SDK's `custom_domain_test` asserts `privateKey` is `null`), and a route
//! reads back exactly as sent: `qualifier` always present (`null` when unset), `methods` only when given,
//! so the SDK's `resp['routeConfig'] == route_config` holds.

use serde::{Deserialize, Serialize};

use crate::fields::{opaque, Field, Nested, Shape};
use crate::name::{validate_name, NameRule};
use crate::service::Meta;
use crate::FcError;

/// FC's limit on a custom domain name (its console and docs: up to 256 characters, labels up to 63).
pub const MAX_DOMAIN_LEN: usize = 256;
/// Routes one domain may hold: enough for any site, and it bounds the per-request match.
pub const MAX_ROUTES: usize = 100;
const MAX_PATH_LEN: usize = 2048;
/// Certificates and keys are PEM text; 20 KiB holds a long chain.
const MAX_PEM_LEN: usize = 20 * 1024;

static ROUTE_SHAPE: Shape = Shape {
    fields: &[opaque("path"), opaque("serviceName"), opaque("functionName"), opaque("qualifier"), opaque("methods")],
};
static ROUTE_CONFIG_SHAPE: Shape = Shape { fields: &[Field { name: "routes", nested: Nested::ArrayOf(&ROUTE_SHAPE) }] };
static CERT_SHAPE: Shape = Shape { fields: &[opaque("certName"), opaque("certificate"), opaque("privateKey")] };
pub static CUSTOM_DOMAIN_SHAPE: Shape = Shape {
    fields: &[
        opaque("domainName"),
        opaque("protocol"),
        opaque("apiVersion"),
        Field { name: "routeConfig", nested: Nested::Object(&ROUTE_CONFIG_SHAPE) },
        Field { name: "certConfig", nested: Nested::Object(&CERT_SHAPE) },
    ],
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathConfig {
    pub path: String,
    pub service_name: String,
    pub function_name: String,
    /// `None`: LATEST. Always rendered, as `null` when unset.
    #[serde(default)]
    pub qualifier: Option<String>,
    /// `None`: every method the function's HTTP trigger allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteConfig {
    #[serde(default)]
    pub routes: Vec<PathConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertConfig {
    #[serde(default)]
    pub cert_name: String,
    #[serde(default)]
    pub certificate: String,
    /// Stored, never rendered.
    #[serde(default)]
    pub private_key: String,
}

/// What is stored for a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDomainSpec {
    pub protocol: String,
    pub api_version: String,
    #[serde(default)]
    pub route_config: RouteConfig,
    #[serde(default)]
    pub cert_config: Option<CertConfig>,
}

impl Default for CustomDomainSpec {
    fn default() -> Self {
        CustomDomainSpec {
            protocol: "HTTP".into(),
            api_version: "2016-08-15".into(),
            route_config: RouteConfig::default(),
            cert_config: None,
        }
    }
}

/// A create or update body; absent (or `null`) fields keep their value.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDomainPatch {
    #[serde(default)]
    pub domain_name: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub route_config: Option<RouteConfig>,
    #[serde(default)]
    pub cert_config: Option<CertConfig>,
}

impl CustomDomainSpec {
    /// Applies a patch and checks the result whole (an HTTPS protocol needs a certificate).
    pub fn apply(&mut self, patch: CustomDomainPatch) -> Result<(), FcError> {
        if let Some(protocol) = patch.protocol {
            self.protocol = normalize_protocol(&protocol)?;
        }
        if let Some(version) = patch.api_version {
            if version != "2016-08-15" {
                return Err(FcError::invalid(format!("apiVersion '{version}' is not supported; use 2016-08-15")));
            }
            self.api_version = version;
        }
        if let Some(config) = patch.route_config {
            validate_routes(&config.routes)?;
            self.route_config = config;
        }
        if let Some(cert) = patch.cert_config {
            validate_cert(&cert)?;
            self.cert_config = Some(cert);
        }
        if self.protocol.contains("HTTPS") && self.cert_config.is_none() {
            return Err(FcError::invalid("protocol HTTPS needs certConfig (certName, certificate, privateKey)"));
        }
        Ok(())
    }
}

fn normalize_protocol(protocol: &str) -> Result<String, FcError> {
    match protocol.to_ascii_uppercase().replace(' ', "").as_str() {
        "HTTP" => Ok("HTTP".into()),
        "HTTP,HTTPS" | "HTTPS,HTTP" => Ok("HTTP,HTTPS".into()),
        "HTTPS" => Ok("HTTPS".into()),
        _ => Err(FcError::invalid(format!("protocol '{protocol}' is invalid; use HTTP or HTTP,HTTPS"))),
    }
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];

fn validate_routes(routes: &[PathConfig]) -> Result<(), FcError> {
    if routes.len() > MAX_ROUTES {
        return Err(FcError::invalid(format!("routeConfig has {} routes; at most {MAX_ROUTES}", routes.len())));
    }
    let mut seen = std::collections::HashSet::new();
    for route in routes {
        validate_route_path(&route.path)?;
        if !seen.insert(route.path.as_str()) {
            return Err(FcError::invalid(format!("route path '{}' appears twice", route.path)));
        }
        validate_name("service", &route.service_name, NameRule::Lenient)
            .map_err(|e| FcError::invalid(e.to_string()))?;
        validate_name("function", &route.function_name, NameRule::Lenient)
            .map_err(|e| FcError::invalid(e.to_string()))?;
        if let Some(q) = route.qualifier.as_deref().filter(|q| !q.is_empty()) {
            let ok = q.len() <= 128 && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok {
                return Err(FcError::invalid(format!("route qualifier '{q}' is invalid")));
            }
        }
        for method in route.methods.iter().flatten() {
            if !METHODS.contains(&method.as_str()) {
                return Err(FcError::invalid(format!(
                    "route method '{method}' is invalid; use {}",
                    METHODS.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// A route path is absolute; `*` may only end it, as `/*` (a prefix route).
fn validate_route_path(path: &str) -> Result<(), FcError> {
    let bad = |why: &str| Err(FcError::invalid(format!("route path '{path}' is invalid: {why}")));
    if !path.starts_with('/') {
        return bad("it must start with /");
    }
    if path.len() > MAX_PATH_LEN || path.chars().any(|c| c.is_control() || c == '?' || c == '#') {
        return bad("too long, or it holds a control character, ? or #");
    }
    let star = path.find('*');
    if star.is_some_and(|i| i != path.len() - 1 || !path.ends_with("/*")) {
        return bad("* may only end the path, as /*");
    }
    Ok(())
}

fn validate_cert(cert: &CertConfig) -> Result<(), FcError> {
    if cert.cert_name.is_empty() || cert.cert_name.len() > 128 {
        return Err(FcError::invalid("certConfig.certName is required (1-128 characters)"));
    }
    if cert.certificate.is_empty() || cert.private_key.is_empty() {
        return Err(FcError::invalid("certConfig needs certificate and privateKey (PEM)"));
    }
    if cert.certificate.len() > MAX_PEM_LEN || cert.private_key.len() > MAX_PEM_LEN {
        return Err(FcError::invalid(format!("certConfig PEM text is limited to {MAX_PEM_LEN} bytes")));
    }
    Ok(())
}

/// Why a domain name is refused, or `Ok`. FC's rule: labels of letters, digits and `-` (not first or
/// last), 1-63 characters each, at most 256 in all, a top-level label of letters, at least two labels;
/// a leading `*.` makes a wildcard. Names that would shadow local or FC endpoints are refused too: a
/// custom domain must never capture requests meant for the API itself.
pub fn validate_domain_name(name: &str) -> Result<(), FcError> {
    let bad = |why: &str| Err(FcError::invalid(format!("domain name '{}' is invalid: {why}", truncate(name))));
    if name.is_empty() || name.len() > MAX_DOMAIN_LEN {
        return bad("it must be 1-256 characters");
    }
    let host = name.strip_prefix("*.").unwrap_or(name);
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 {
        return bad("it needs at least two labels, such as api.example.com");
    }
    for label in &labels {
        let ok = (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return bad("each label is 1-63 letters, digits or inner hyphens");
        }
    }
    let tld = labels[labels.len() - 1];
    if !tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.len() < 2 {
        return bad("the top-level label must be letters");
    }
    let lower = host.to_ascii_lowercase();
    for reserved in ["localhost", "fc.aliyuncs.com", "fcapp.run"] {
        if lower == reserved || lower.ends_with(&format!(".{reserved}")) {
            return bad(&format!("names under {reserved} belong to the API endpoint"));
        }
    }
    Ok(())
}

fn truncate(name: &str) -> String {
    name.chars().take(MAX_DOMAIN_LEN).collect()
}

/// A stored custom domain; `account_id` is its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomDomain {
    pub name: String,
    pub account_id: String,
    pub meta: Meta,
    pub spec: CustomDomainSpec,
}

/// The JSON FC returns for a custom domain.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDomainView<'a> {
    pub domain_name: &'a str,
    pub account_id: &'a str,
    pub protocol: &'a str,
    pub api_version: &'a str,
    pub route_config: &'a RouteConfig,
    pub cert_config: Option<CertView<'a>>,
    pub created_time: String,
    pub last_modified_time: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertView<'a> {
    pub cert_name: &'a str,
    pub certificate: &'a str,
    /// Always `null`: a stored key is never handed back.
    pub private_key: Option<&'a str>,
}

impl CustomDomain {
    pub fn view(&self) -> CustomDomainView<'_> {
        CustomDomainView {
            domain_name: &self.name,
            account_id: &self.account_id,
            protocol: &self.spec.protocol,
            api_version: &self.spec.api_version,
            route_config: &self.spec.route_config,
            cert_config: self.spec.cert_config.as_ref().map(|c| CertView {
                cert_name: &c.cert_name,
                certificate: &c.certificate,
                private_key: None,
            }),
            created_time: crate::time::iso8601(self.meta.created_ms),
            last_modified_time: crate::time::iso8601(self.meta.modified_ms),
        }
    }

    /// The route that serves `path`: an exact route first, then the longest `/*` prefix route.
    /// `/a/*` serves `/a` and everything under `/a/`; `/*` serves every path.
    pub fn route_for(&self, path: &str) -> Option<&PathConfig> {
        let routes = &self.spec.route_config.routes;
        if let Some(exact) = routes.iter().find(|r| !r.path.ends_with("/*") && r.path == path) {
            return Some(exact);
        }
        routes
            .iter()
            .filter_map(|r| r.path.strip_suffix('*').map(|prefix| (r, prefix)))
            .filter(|(_, prefix)| path.starts_with(prefix) || path == &prefix[..prefix.len() - 1])
            .max_by_key(|(_, prefix)| prefix.len())
            .map(|(r, _)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::parse_body;

    fn route(path: &str, function: &str) -> PathConfig {
        PathConfig {
            path: path.into(),
            service_name: "s".into(),
            function_name: function.into(),
            qualifier: None,
            methods: None,
        }
    }

    fn domain(routes: Vec<PathConfig>) -> CustomDomain {
        CustomDomain {
            name: "api.example.test".into(),
            account_id: "1".into(),
            meta: Meta { id: String::new(), etag: String::new(), created_ms: 0, modified_ms: 0 },
            spec: CustomDomainSpec { route_config: RouteConfig { routes }, ..Default::default() },
        }
    }

    #[test]
    fn exact_then_longest_prefix() {
        let d = domain(vec![route("/*", "all"), route("/users/*", "users"), route("/users/me", "me")]);
        let pick = |p: &str| d.route_for(p).map(|r| r.function_name.clone());
        assert_eq!(pick("/users/me").as_deref(), Some("me"));
        assert_eq!(pick("/users/1").as_deref(), Some("users"));
        assert_eq!(pick("/users").as_deref(), Some("users"));
        assert_eq!(pick("/usersx").as_deref(), Some("all"));
        assert_eq!(pick("/").as_deref(), Some("all"));
        let d = domain(vec![route("/a", "a")]);
        assert!(d.route_for("/b").is_none());
        assert!(d.route_for("/a/b").is_none());
    }

    #[test]
    fn domain_names() {
        for ok in ["api.example.test", "pythonSDK.cn-hongkong.123.cname-test.fc.aliyun-inc.com", "*.example.com"] {
            assert!(validate_domain_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "localhost",
            "a.localhost",
            "127.0.0.1",
            "1.2.3.4",
            "-a.com",
            "a-.com",
            "a..com",
            "a_b.com",
            "123.cn-local.fc.aliyuncs.com",
            "a.b/c",
            "a.com:80",
            "*.",
            "*.*.com",
        ] {
            assert!(validate_domain_name(bad).is_err(), "{bad}");
        }
        assert!(validate_domain_name(&format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn routes_read_back_as_sent_and_keys_fold() {
        let patch: CustomDomainPatch = parse_body(
            br#"{"DomainName": "a.example.com", "protocol": "HTTP", "routeConfig": {"Routes": [
                {"path": "/a", "serviceName": "s1", "functionName": "f1", "qualifier": null}]}}"#,
            &CUSTOM_DOMAIN_SHAPE,
        )
        .expect("parses");
        let mut spec = CustomDomainSpec::default();
        spec.apply(patch).expect("valid");
        let v = serde_json::to_value(&spec.route_config).expect("serialises");
        assert_eq!(
            v,
            serde_json::json!({"routes": [{"path": "/a", "serviceName": "s1", "functionName": "f1", "qualifier": null}]})
        );
    }

    #[test]
    fn refuses_bad_routes_and_https_without_cert() {
        for path in ["a", "/a*", "/*/b", "/a?b"] {
            let mut spec = CustomDomainSpec::default();
            let patch = CustomDomainPatch {
                route_config: Some(RouteConfig { routes: vec![route(path, "f")] }),
                ..Default::default()
            };
            assert!(spec.apply(patch).is_err(), "{path}");
        }
        let mut spec = CustomDomainSpec::default();
        assert!(spec.apply(CustomDomainPatch { protocol: Some("HTTP,HTTPS".into()), ..Default::default() }).is_err());
    }

    #[test]
    fn private_key_is_never_rendered() {
        let mut d = domain(vec![]);
        d.spec.cert_config =
            Some(CertConfig { cert_name: "c".into(), certificate: "CERT".into(), private_key: "KEY".into() });
        let v = serde_json::to_value(d.view()).expect("serialises");
        assert_eq!(v["certConfig"]["privateKey"], serde_json::Value::Null);
        assert_eq!(v["certConfig"]["certificate"], "CERT");
        assert!(!v.to_string().contains("KEY"));
    }
}
