//! Resource tags: FC tags services, named by ARN (`acs:fc:<region>:<account>:services/<name>`).
//!
//! The SDKs send the full ARN (`fc2` `tag_test`: `acs:fc:{region}:{account}:services/{name}`) or, as their
//! docs allow, a partial one (`services/<name>`). Limits are FC's: at most 20 tags on a resource, keys of
//! 1-128 characters not starting with `aliyun` or `acs:` (reserved), values up to 256 characters.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::fields::{opaque, Shape};
use crate::name::{validate_name, NameRule};
use crate::FcError;

pub const MAX_TAGS: usize = 20;
const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 256;

pub static TAG_SHAPE: Shape = Shape { fields: &[opaque("resourceArn"), opaque("tags")] };
pub static UNTAG_SHAPE: Shape = Shape { fields: &[opaque("resourceArn"), opaque("tagKeys"), opaque("all")] };

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagRequest {
    #[serde(default)]
    pub resource_arn: Option<String>,
    #[serde(default)]
    pub tags: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagRequest {
    #[serde(default)]
    pub resource_arn: Option<String>,
    #[serde(default)]
    pub tag_keys: Option<Vec<String>>,
    #[serde(default)]
    pub all: Option<bool>,
}

/// The service an ARN names, checked against the caller's account when the ARN carries one.
pub fn service_of_arn(arn: &str, account: &str) -> Result<String, FcError> {
    let bad = |why: &str| {
        let shown: String = arn.chars().take(256).collect();
        Err(FcError::invalid(format!(
            "resourceArn '{shown}' is invalid: {why}; use acs:fc:<region>:<account>:services/<serviceName>"
        )))
    };
    let resource = match arn.strip_prefix("acs:fc:") {
        Some(rest) => {
            let mut parts = rest.splitn(3, ':');
            let (_region, owner, resource) = match (parts.next(), parts.next(), parts.next()) {
                (Some(r), Some(o), Some(res)) => (r, o, res),
                _ => return bad("it has too few parts"),
            };
            if !owner.is_empty() && owner != account {
                return bad("it names another account");
            }
            resource
        }
        None => arn,
    };
    let Some(service) = resource.strip_prefix("services/") else {
        return bad("only services can be tagged");
    };
    if validate_name("service", service, NameRule::Lenient).is_err() {
        return bad("the service name is invalid");
    }
    Ok(service.to_string())
}

/// The full ARN of a service, as GetResourceTags and ListTaggedResources answer it.
pub fn service_arn(region: &str, account: &str, service: &str) -> String {
    format!("acs:fc:{region}:{account}:services/{service}")
}

/// Checks tags to add; a `null` value is the empty string.
pub fn validate_tags(tags: &BTreeMap<String, Option<String>>) -> Result<BTreeMap<String, String>, FcError> {
    if tags.is_empty() || tags.len() > MAX_TAGS {
        return Err(FcError::invalid(format!("tags must hold 1-{MAX_TAGS} entries")));
    }
    let mut out = BTreeMap::new();
    for (key, value) in tags {
        validate_key(key)?;
        let value = value.clone().unwrap_or_default();
        if value.chars().count() > MAX_VALUE {
            return Err(FcError::invalid(format!("the value of tag '{key}' is longer than {MAX_VALUE} characters")));
        }
        out.insert(key.clone(), value);
    }
    Ok(out)
}

pub fn validate_key(key: &str) -> Result<(), FcError> {
    let lower = key.to_ascii_lowercase();
    if key.is_empty() || key.chars().count() > MAX_KEY || lower.starts_with("aliyun") || lower.starts_with("acs:") {
        let shown: String = key.chars().take(MAX_KEY).collect();
        return Err(FcError::invalid(format!(
            "tag key '{shown}' is invalid: 1-{MAX_KEY} characters, not starting with aliyun or acs:"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        assert_eq!(service_of_arn("acs:fc:cn-local:123:services/svc", "123").expect("ok"), "svc");
        assert_eq!(service_of_arn("services/svc", "123").expect("ok"), "svc");
        assert_eq!(service_of_arn("acs:fc:cn-local::services/svc", "123").expect("ok"), "svc");
        assert!(service_of_arn("acs:fc:cn-local:999:services/svc", "123").is_err());
        assert!(service_of_arn("acs:fc:cn-local:123:functions/f", "123").is_err());
        assert!(service_of_arn("acs:fc:cn-local:123:services/a/b", "123").is_err());
        assert!(service_of_arn("acs:fc:x", "123").is_err());
    }

    #[test]
    fn tag_limits() {
        let one = |k: &str| BTreeMap::from([(k.to_string(), Some("v".to_string()))]);
        assert!(validate_tags(&one("k")).is_ok());
        assert!(validate_tags(&one("aliyun-x")).is_err());
        assert!(validate_tags(&one("")).is_err());
        assert!(validate_tags(&BTreeMap::new()).is_err());
        let many: BTreeMap<_, _> = (0..21).map(|i| (format!("k{i}"), None)).collect();
        assert!(validate_tags(&many).is_err());
    }
}
