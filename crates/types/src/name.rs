//! Resource names and qualifiers.
//!
//! FC names (services, functions, triggers) are 1–128 characters of letters, digits, `_` and `-`, and must
//! not start with a digit or `-`. Names never contain `.`, which is why `svc.LATEST` can be split at the
//! first dot. The form API's own example names a function `0001`, so lookups accept a leading digit: only
//! creation through the FC API applies FC's stricter first-character rule.

use thiserror::Error;

pub const MAX_NAME_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("{kind} name must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} name '{name}' is longer than {MAX_NAME_LEN} characters")]
    TooLong { kind: &'static str, name: String },
    #[error("{kind} name '{name}' may contain only letters, digits, '_' and '-'")]
    BadCharacter { kind: &'static str, name: String },
    #[error("{kind} name '{name}' must start with a letter or '_'")]
    BadStart { kind: &'static str, name: String },
    #[error("qualifier '{qualifier}' is not valid")]
    BadQualifier { qualifier: String },
}

/// Which first characters a name may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// FC's rule for new resources: a letter or `_` first.
    Fc,
    /// Lookups and the form API: anything but `-` first, so names like `0001` work.
    Lenient,
}

/// Checks a resource name; `kind` ("service", "function", "trigger") appears in the message.
pub fn validate_name(kind: &'static str, name: &str, rule: NameRule) -> Result<(), NameError> {
    let Some(first) = name.chars().next() else {
        return Err(NameError::Empty { kind });
    };
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { kind, name: truncate(name) });
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return Err(NameError::BadCharacter { kind, name: truncate(name) });
    }
    let bad_start = match rule {
        NameRule::Fc => !(first.is_ascii_alphabetic() || first == '_'),
        NameRule::Lenient => first == '-',
    };
    if bad_start {
        return Err(NameError::BadStart { kind, name: name.to_string() });
    }
    Ok(())
}

/// Keeps hostile names out of log lines and error bodies at full length.
fn truncate(name: &str) -> String {
    name.chars().take(MAX_NAME_LEN + 8).collect()
}

/// A service path segment: `name` or `name.qualifier` (`LATEST`, a version id or an alias).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifiedName {
    pub name: String,
    pub qualifier: Option<String>,
}

impl QualifiedName {
    /// Splits `svc[.qualifier]` at the first dot and validates both parts leniently.
    pub fn parse(kind: &'static str, segment: &str) -> Result<Self, NameError> {
        let (name, qualifier) = match segment.split_once('.') {
            Some((name, qualifier)) => (name, Some(qualifier)),
            None => (segment, None),
        };
        validate_name(kind, name, NameRule::Lenient)?;
        if let Some(q) = qualifier {
            let ok = !q.is_empty()
                && q.len() <= MAX_NAME_LEN
                && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok {
                return Err(NameError::BadQualifier { qualifier: truncate(q) });
            }
        }
        Ok(QualifiedName { name: name.to_string(), qualifier: qualifier.map(str::to_string) })
    }

    /// The qualifier an invocation resolves to when none is given.
    pub fn qualifier_or_latest(&self) -> &str {
        self.qualifier.as_deref().unwrap_or("LATEST")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fc_rule_rejects_leading_digit_and_dash() {
        assert!(validate_name("service", "my-svc_1", NameRule::Fc).is_ok());
        assert!(validate_name("service", "_x", NameRule::Fc).is_ok());
        assert!(matches!(validate_name("service", "1svc", NameRule::Fc), Err(NameError::BadStart { .. })));
        assert!(matches!(validate_name("service", "-svc", NameRule::Fc), Err(NameError::BadStart { .. })));
        assert!(validate_name("function", "0001", NameRule::Lenient).is_ok());
        assert!(validate_name("function", "-1", NameRule::Lenient).is_err());
    }

    #[test]
    fn rejects_bad_characters_and_lengths() {
        assert!(matches!(validate_name("service", "", NameRule::Fc), Err(NameError::Empty { .. })));
        assert!(matches!(validate_name("service", "a.b", NameRule::Fc), Err(NameError::BadCharacter { .. })));
        assert!(validate_name("service", "../etc", NameRule::Lenient).is_err());
        assert!(validate_name("service", "é", NameRule::Lenient).is_err());
        let long = "a".repeat(129);
        assert!(matches!(validate_name("service", &long, NameRule::Fc), Err(NameError::TooLong { .. })));
        assert!(validate_name("service", &"a".repeat(128), NameRule::Fc).is_ok());
    }

    #[test]
    fn splits_qualifier_at_first_dot() {
        let q = QualifiedName::parse("service", "svc.LATEST").expect("valid");
        assert_eq!(q.name, "svc");
        assert_eq!(q.qualifier.as_deref(), Some("LATEST"));
        assert_eq!(QualifiedName::parse("service", "svc").expect("valid").qualifier_or_latest(), "LATEST");
        assert!(QualifiedName::parse("service", "svc.").is_err());
        assert!(QualifiedName::parse("service", "svc.a.b").is_err());
    }
}
