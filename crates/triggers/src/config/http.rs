//! `triggerConfig` for HTTP triggers, e.g.
//! `{"authType": "anonymous", "methods": ["GET", "POST"], "disableURLInternet": false}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{as_object, optional_bool, require, string, TriggerConfigError, TriggerType};

/// The methods FC lets an HTTP trigger accept.
const SUPPORTED_METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"];

/// Who may call an HTTP trigger's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthType {
    /// Anyone who can reach the URL.
    Anonymous,
    /// Requests must carry an FC signature, as for the invoke API.
    Function,
}

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Anonymous => "anonymous",
            AuthType::Function => "function",
        }
    }
}

/// A validated HTTP trigger config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTriggerConfig {
    pub auth_type: AuthType,
    /// Upper-case, in the order given, without duplicates, so the router can compare directly
    /// with a request's method.
    pub methods: Vec<String>,
    /// When set, the trigger's public URL is off and only internal invocation reaches it.
    pub disable_url_internet: bool,
}

impl HttpTriggerConfig {
    pub fn from_value(config: &Value) -> Result<HttpTriggerConfig, TriggerConfigError> {
        let config = as_object(config)?;
        let auth_type = string(require(config, "authType", TriggerType::Http)?, "authType")?;
        let auth_type = match auth_type.to_ascii_lowercase().as_str() {
            "anonymous" => AuthType::Anonymous,
            "function" => AuthType::Function,
            _ => return Err(TriggerConfigError::UnsupportedAuthType { auth_type: auth_type.to_owned() }),
        };
        let methods = parse_methods(require(config, "methods", TriggerType::Http)?)?;
        Ok(HttpTriggerConfig {
            auth_type,
            methods,
            disable_url_internet: optional_bool(config, "disableURLInternet")?.unwrap_or(false),
        })
    }

    /// Whether a request with `method` (any case) may use this trigger.
    pub fn allows(&self, method: &str) -> bool {
        self.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
    }
}

fn parse_methods(value: &Value) -> Result<Vec<String>, TriggerConfigError> {
    let items = value
        .as_array()
        .ok_or(TriggerConfigError::WrongType { key: "methods", expected: "an array of HTTP method names" })?;
    if items.is_empty() {
        return Err(TriggerConfigError::NoMethods);
    }
    let mut methods: Vec<String> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let method = item.as_str().ok_or(TriggerConfigError::MethodNotString { index })?;
        let upper = method.to_ascii_uppercase();
        if !SUPPORTED_METHODS.contains(&upper.as_str()) {
            return Err(TriggerConfigError::UnsupportedMethod { method: method.to_owned() });
        }
        if !methods.contains(&upper) {
            methods.push(upper);
        }
    }
    Ok(methods)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(config: Value) -> String {
        HttpTriggerConfig::from_value(&config).expect_err("invalid http config").to_string()
    }

    #[test]
    fn full_config() {
        let config = HttpTriggerConfig::from_value(&json!({
            "authType": "Function",
            "methods": ["get", "POST", "Get", "options"],
            "disableURLInternet": true,
            "authConfig": "",
        }))
        .expect("valid");
        assert_eq!(config.auth_type, AuthType::Function);
        assert_eq!(config.methods, ["GET", "POST", "OPTIONS"]);
        assert!(config.disable_url_internet);
        assert!(config.allows("post"));
        assert!(!config.allows("DELETE"));
    }

    #[test]
    fn minimal_config_and_case_insensitive_keys() {
        let config = HttpTriggerConfig::from_value(&json!({
            "AuthType": "ANONYMOUS",
            "Methods": ["DELETE", "HEAD", "PATCH", "PUT"],
        }))
        .expect("valid");
        assert_eq!(config.auth_type, AuthType::Anonymous);
        assert_eq!(config.methods, ["DELETE", "HEAD", "PATCH", "PUT"]);
        assert!(!config.disable_url_internet);
        assert_eq!(AuthType::Anonymous.as_str(), "anonymous");
    }

    #[test]
    fn rejects_bad_configs() {
        assert_eq!(error(json!({"methods": ["GET"]})), "triggerConfig.authType is required for http triggers");
        assert_eq!(error(json!({"authType": true, "methods": ["GET"]})), "triggerConfig.authType must be a string");
        assert_eq!(
            error(json!({"authType": "jwt", "methods": ["GET"]})),
            "triggerConfig.authType 'jwt' is not supported; supported values: anonymous, function"
        );
        assert_eq!(error(json!({"authType": "anonymous"})), "triggerConfig.methods is required for http triggers");
        assert_eq!(
            error(json!({"authType": "anonymous", "methods": "GET"})),
            "triggerConfig.methods must be an array of HTTP method names"
        );
        assert_eq!(
            error(json!({"authType": "anonymous", "methods": []})),
            "triggerConfig.methods must list at least one HTTP method"
        );
        assert_eq!(
            error(json!({"authType": "anonymous", "methods": ["GET", 1]})),
            "triggerConfig.methods[1] must be a string"
        );
        assert_eq!(
            error(json!({"authType": "anonymous", "methods": ["GET", "FOO"]})),
            "triggerConfig.methods contains unsupported method 'FOO'; supported methods: GET, \
             POST, PUT, DELETE, HEAD, PATCH, OPTIONS"
        );
        assert_eq!(
            error(json!({"authType": "anonymous", "methods": ["GET"], "disableURLInternet": 1})),
            "triggerConfig.disableURLInternet must be a boolean"
        );
    }
}
