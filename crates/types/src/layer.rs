//! Layers: immutable, numbered versions of a shared code package that functions list by ARN and see
//! merged under `/opt`.
//!
//! A layer version has two names on FC's wire: the old `arn` (`<digest>#<name>#<version>`, where the
//! digest stands for the owning account) and `arnV2`
//! (`acs:fc:<region>:<account>:layers/<name>/versions/<version>`). A function's `layers` and
//! `GET /layerarn/{arn}` accept either.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ErrorCode, FcError};
use crate::fields::{opaque, Field, Nested, Shape};
use crate::function::CodeSource;
use crate::service::check_description;

/// FC's bound on the layers one function may use.
pub const MAX_FUNCTION_LAYERS: usize = 5;
/// Bounds a `compatibleRuntime` list (FC has about 20 runtimes).
pub const MAX_COMPATIBLE_RUNTIMES: usize = 32;
/// FC layer names are at most 64 characters.
pub const MAX_LAYER_NAME: usize = 64;
/// An ARN longer than this is not one (name, region and account bound it far below).
pub const MAX_ARN_LEN: usize = 512;

/// What a publisher sets on a layer version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LayerSpec {
    pub description: String,
    /// Empty: any runtime may use the layer.
    pub compatible_runtime: Vec<String>,
    /// FC's `acl`: 0 private, 1 public.
    pub acl: u8,
    pub license: String,
}

/// A PublishLayerVersion body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PublishLayerRequest {
    pub description: Option<String>,
    pub code: Option<CodeSource>,
    pub compatible_runtime: Option<Vec<String>>,
    pub license: Option<String>,
}

static CODE_SHAPE: Shape = Shape { fields: &[opaque("zipFile"), opaque("ossBucketName"), opaque("ossObjectName")] };

/// The keys a PublishLayerVersion body may carry.
pub static PUBLISH_LAYER_SHAPE: Shape = Shape {
    fields: &[
        opaque("description"),
        Field { name: "code", nested: Nested::Object(&CODE_SHAPE) },
        opaque("compatibleRuntime"),
        opaque("license"),
    ],
};

impl PublishLayerRequest {
    /// The spec it asks for, checked; the code is the caller's to store.
    pub fn spec(&self) -> Result<LayerSpec, FcError> {
        let description = self.description.clone().unwrap_or_default();
        check_description(&description)?;
        let compatible_runtime = self.compatible_runtime.clone().unwrap_or_default();
        if compatible_runtime.len() > MAX_COMPATIBLE_RUNTIMES {
            return Err(FcError::invalid(format!(
                "compatibleRuntime lists {} runtimes, more than {MAX_COMPATIBLE_RUNTIMES}",
                compatible_runtime.len()
            )));
        }
        for runtime in &compatible_runtime {
            if runtime.is_empty() || runtime.len() > 64 || !runtime.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(FcError::invalid(format!(
                    "compatibleRuntime '{}' is not a runtime",
                    runtime.chars().take(64).collect::<String>()
                )));
            }
        }
        let license = self.license.clone().unwrap_or_default();
        if license.len() > 256 {
            return Err(FcError::invalid("license is longer than 256 characters"));
        }
        Ok(LayerSpec { description, compatible_runtime, acl: 0, license })
    }
}

/// Layer names: FC's resource-name characters, a letter or `_` first, at most 64 characters.
pub fn validate_layer_name(name: &str) -> Result<(), FcError> {
    let shown = || name.chars().take(MAX_LAYER_NAME + 8).collect::<String>();
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if name.len() > MAX_LAYER_NAME
        || !first_ok
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(FcError::invalid(format!(
            "layer name '{}' is not valid: 1 to {MAX_LAYER_NAME} letters, digits, '_' and '-', starting with a \
             letter or '_'",
            shown()
        )));
    }
    Ok(())
}

/// A layer version number from a path: a positive decimal.
pub fn parse_layer_version(text: &str) -> Result<u32, FcError> {
    match text.parse::<u32>() {
        Ok(v) if v > 0 && text.len() <= 10 => Ok(v),
        _ => Err(FcError::invalid(format!(
            "layer version '{}' is not valid; expected a positive integer",
            text.chars().take(32).collect::<String>()
        ))),
    }
}

pub fn layer_not_found(name: &str, version: Option<u32>) -> FcError {
    let message = match version {
        Some(v) => format!("layer '{name}' version {v} not found"),
        None => format!("layer '{name}' not found"),
    };
    FcError::new(ErrorCode::LayerNotFound, message)
}

/// The 32 hex digits that stand for an account in the old `arn` form.
pub fn account_digest(account: &str) -> String {
    let digest = Sha256::digest(format!("ferric-layer-owner:{account}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A layer version as an ARN names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerArn {
    /// The owner: an account id (`arnV2`) or its [`account_digest`] (the old form).
    pub owner: ArnOwner,
    pub name: String,
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnOwner {
    Account(String),
    Digest(String),
}

impl LayerArn {
    /// Parses either form; the name and version are checked.
    pub fn parse(text: &str) -> Result<LayerArn, FcError> {
        let bad = |why: &str| {
            let shown: String = text.chars().take(128).collect();
            FcError::invalid(format!(
                "layer ARN '{shown}' is not valid ({why}); expected acs:fc:<region>:<account>:layers/<name>/versions/<n> \
                 or <id>#<name>#<n>"
            ))
        };
        if text.len() > MAX_ARN_LEN {
            return Err(bad("too long"));
        }
        if let Some(rest) = text.strip_prefix("acs:fc:") {
            let mut parts = rest.splitn(3, ':');
            let (Some(_region), Some(account), Some(resource)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(bad("too few parts"));
            };
            let segments: Vec<&str> = resource.split('/').collect();
            let ["layers", name, "versions", version] = segments.as_slice() else {
                return Err(bad("the resource is not layers/<name>/versions/<n>"));
            };
            if account.is_empty() || !account.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(bad("the account is not valid"));
            }
            validate_layer_name(name)?;
            return Ok(LayerArn {
                owner: ArnOwner::Account(account.to_string()),
                name: name.to_string(),
                version: parse_layer_version(version)?,
            });
        }
        let segments: Vec<&str> = text.split('#').collect();
        let [digest, name, version] = segments.as_slice() else {
            return Err(bad("not three '#'-separated parts"));
        };
        if digest.is_empty() || digest.len() > 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the owner id is not hexadecimal"));
        }
        validate_layer_name(name)?;
        Ok(LayerArn {
            owner: ArnOwner::Digest(digest.to_ascii_lowercase()),
            name: name.to_string(),
            version: parse_layer_version(version)?,
        })
    }

    /// Whether the ARN names a layer of `account`.
    pub fn owned_by(&self, account: &str) -> bool {
        match &self.owner {
            ArnOwner::Account(a) => a == account,
            ArnOwner::Digest(d) => *d == account_digest(account),
        }
    }
}

/// The stored code of a layer version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerCode {
    pub checksum: String,
    pub size: u64,
}

/// One published layer version.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerVersion {
    pub account_id: String,
    pub name: String,
    pub version: u32,
    pub spec: LayerSpec,
    pub code: LayerCode,
    pub created_ms: i64,
}

impl LayerVersion {
    pub fn arn(&self) -> String {
        format!("{}#{}#{}", account_digest(&self.account_id), self.name, self.version)
    }

    pub fn arn_v2(&self, region: &str) -> String {
        format!("acs:fc:{region}:{}:layers/{}/versions/{}", self.account_id, self.name, self.version)
    }

    /// Whether a function of `runtime` may use it.
    pub fn allows_runtime(&self, runtime: &str) -> bool {
        self.spec.compatible_runtime.is_empty() || self.spec.compatible_runtime.iter().any(|r| r == runtime)
    }

    /// FC's Layer object. `location` is where the zip can be downloaded.
    pub fn view(&self, region: &str, location: &str) -> serde_json::Value {
        serde_json::json!({
            "layerName": self.name,
            "version": self.version,
            "description": self.spec.description,
            "code": { "repositoryType": "Direct", "location": location },
            "codeSize": self.code.size,
            "codeChecksum": self.code.checksum,
            "createTime": crate::time::iso8601(self.created_ms),
            "acl": self.spec.acl,
            "compatibleRuntime": self.spec.compatible_runtime,
            "arn": self.arn(),
            "arnV2": self.arn_v2(region),
            "license": self.spec.license,
        })
    }
}

/// Checks a function's `layers` list without the store: the count, the ARN forms, no repeats, and the
/// owner (a function uses its own account's layers).
pub fn parse_function_layers(account: &str, layers: &[String]) -> Result<Vec<LayerArn>, FcError> {
    if layers.len() > MAX_FUNCTION_LAYERS {
        return Err(FcError::invalid(format!(
            "a function may use at most {MAX_FUNCTION_LAYERS} layers, got {}",
            layers.len()
        )));
    }
    let mut parsed: Vec<LayerArn> = Vec::with_capacity(layers.len());
    for text in layers {
        let arn = LayerArn::parse(text)?;
        if !arn.owned_by(account) {
            return Err(FcError::new(
                ErrorCode::LayerNotFound,
                format!("layer '{}' version {} of another account is not available here", arn.name, arn.version),
            ));
        }
        if parsed.iter().any(|p| p.name == arn.name) {
            return Err(FcError::invalid(format!("layer '{}' is listed more than once", arn.name)));
        }
        parsed.push(arn);
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_arn_forms_parse_and_name_their_owner() {
        let v2 = LayerArn::parse("acs:fc:cn-hangzhou:123:layers/my-layer/versions/3").expect("v2");
        assert_eq!((v2.name.as_str(), v2.version), ("my-layer", 3));
        assert!(v2.owned_by("123") && !v2.owned_by("124"));
        let old = format!("{}#my-layer#3", account_digest("123"));
        let v1 = LayerArn::parse(&old).expect("v1");
        assert!(v1.owned_by("123") && !v1.owned_by("124"));
        for bad in [
            "",
            "acs:fc:r:1:layers/x/versions/0",
            "acs:fc:r:1:layers/x/versions/1/extra",
            "acs:fc:r:1:services/x",
            "zz#x#1",
            "ab#x",
            "ab#9x#1",
            "acs:fc:r::layers/x/versions/1",
        ] {
            assert!(LayerArn::parse(bad).is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn function_layers_are_bounded_unique_and_owned() {
        let arn = |n: &str| format!("acs:fc:r:1:layers/{n}/versions/1");
        let five: Vec<String> = (0..5).map(|i| arn(&format!("l{i}"))).collect();
        assert_eq!(parse_function_layers("1", &five).expect("five").len(), 5);
        let six: Vec<String> = (0..6).map(|i| arn(&format!("l{i}"))).collect();
        assert!(parse_function_layers("1", &six).is_err());
        assert!(parse_function_layers("1", &[arn("a"), arn("a")]).is_err());
        let err = parse_function_layers("2", &[arn("a")]).expect_err("other account");
        assert_eq!(err.code, ErrorCode::LayerNotFound);
    }

    #[test]
    fn publish_checks_its_fields() {
        let ok = PublishLayerRequest { compatible_runtime: Some(vec!["nodejs20".into()]), ..Default::default() };
        assert_eq!(ok.spec().expect("ok").compatible_runtime, ["nodejs20"]);
        let bad = PublishLayerRequest { compatible_runtime: Some(vec!["no spaces".into()]), ..Default::default() };
        assert!(bad.spec().is_err());
        assert!(validate_layer_name("a-b_c").is_ok());
        assert!(validate_layer_name("1a").is_err());
        assert!(validate_layer_name(&"a".repeat(65)).is_err());
    }
}
