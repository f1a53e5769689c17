//! An alias: a name for one version of a service, optionally sending a share of the traffic to other
//! versions (`additionalVersionWeight`, e.g. `{"2": 0.1}`), chosen per request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::FcError;
use crate::fields::{opaque, Shape};
use crate::service::{check_description, Meta};
use crate::version::parse_version_id;

/// What an alias stores.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AliasSpec {
    pub version_id: String,
    pub description: String,
    pub additional_version_weight: BTreeMap<String, f64>,
}

/// A CreateAlias / UpdateAlias body; `None` means "not given". An update replaces the weights whole.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AliasPatch {
    pub alias_name: Option<String>,
    pub version_id: Option<String>,
    pub description: Option<String>,
    pub additional_version_weight: Option<BTreeMap<String, f64>>,
}

/// The keys an alias body may carry.
pub static ALIAS_SHAPE: Shape = Shape {
    fields: &[
        opaque("aliasName"),
        opaque("versionId"),
        opaque("description"),
        opaque("additionalVersionWeight"),
        opaque("resolvePolicy"),
        opaque("routePolicy"),
    ],
};

impl AliasSpec {
    /// Merges a patch and checks the result's shape (whether the versions exist is the store's to say).
    pub fn apply(&mut self, patch: AliasPatch) -> Result<(), FcError> {
        if let Some(version) = patch.version_id {
            self.version_id = version;
        }
        if let Some(description) = patch.description {
            check_description(&description)?;
            self.description = description;
        }
        if let Some(weights) = patch.additional_version_weight {
            self.additional_version_weight = weights;
        }
        if parse_version_id(&self.version_id).is_none() {
            return Err(FcError::invalid(format!("versionId '{}' is not a version id", truncate(&self.version_id))));
        }
        let mut total = 0.0;
        for (version, weight) in &self.additional_version_weight {
            if parse_version_id(version).is_none() {
                return Err(FcError::invalid(format!(
                    "additionalVersionWeight key '{}' is not a version id",
                    truncate(version)
                )));
            }
            if !(0.0..=1.0).contains(weight) {
                return Err(FcError::invalid(format!(
                    "additionalVersionWeight of version '{version}' must be between 0 and 1"
                )));
            }
            total += weight;
        }
        if total > 1.0 + 1e-9 {
            return Err(FcError::invalid("the weights in additionalVersionWeight add up to more than 1"));
        }
        Ok(())
    }

    /// Every version this alias may route to.
    pub fn versions(&self) -> impl Iterator<Item = u64> + '_ {
        std::iter::once(self.version_id.as_str())
            .chain(self.additional_version_weight.keys().map(String::as_str))
            .filter_map(parse_version_id)
    }

    /// The version a request goes to, given a uniform draw in `[0, 1)`: each additional version takes
    /// its weight's share, the main version the rest.
    pub fn pick(&self, draw: f64) -> Option<u64> {
        let mut bound = 0.0;
        for (version, weight) in &self.additional_version_weight {
            bound += weight;
            if draw < bound {
                return parse_version_id(version);
            }
        }
        parse_version_id(&self.version_id)
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}

/// A stored alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub name: String,
    pub meta: Meta,
    pub spec: AliasSpec,
}

/// The JSON FC returns for an alias.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AliasView<'a> {
    pub alias_name: &'a str,
    #[serde(flatten)]
    pub spec: &'a AliasSpec,
    pub created_time: String,
    pub last_modified_time: String,
}

impl Alias {
    pub fn view(&self) -> AliasView<'_> {
        AliasView {
            alias_name: &self.name,
            spec: &self.spec,
            created_time: crate::time::iso8601(self.meta.created_ms),
            last_modified_time: crate::time::iso8601(self.meta.modified_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(weights: &[(&str, f64)]) -> AliasSpec {
        AliasSpec {
            version_id: "1".into(),
            description: String::new(),
            additional_version_weight: weights.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn picks_by_weight() {
        let s = spec(&[("2", 0.3)]);
        assert_eq!(s.pick(0.0), Some(2));
        assert_eq!(s.pick(0.29), Some(2));
        assert_eq!(s.pick(0.3), Some(1));
        assert_eq!(s.pick(0.99), Some(1));
    }

    #[test]
    fn refuses_bad_weights() {
        let mut s = AliasSpec::default();
        let patch = |w: &[(&str, f64)]| AliasPatch {
            version_id: Some("1".into()),
            additional_version_weight: Some(w.iter().map(|(k, v)| (k.to_string(), *v)).collect()),
            ..Default::default()
        };
        assert!(s.apply(patch(&[("2", 1.5)])).is_err());
        assert!(s.apply(patch(&[("x", 0.5)])).is_err());
        assert!(s.apply(patch(&[("2", 0.6), ("3", 0.6)])).is_err());
        assert!(s.apply(patch(&[("2", 0.1)])).is_ok());
        assert!(s.apply(AliasPatch { version_id: Some("v".into()), ..Default::default() }).is_err());
    }
}
