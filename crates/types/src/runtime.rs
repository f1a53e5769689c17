//! The runtime strings FC knows.
//!
//! The FC API accepts at create time every runtime FC has ever offered, so existing templates and the
//! official SDKs' own tests (which create `python2.7`, `nodejs4.4`, `custom` functions) work, plus the
//! versions this server itself offers (`python3.11` when that is the installed Python, though FC never
//! had it). Whether a function *runs* is decided at invoke time: a `pythonX.Y` or `nodejsN` function runs
//! on an installed interpreter of that version or newer, never on an older one. The form API stores its
//! `Runtime` as a free string. Every refusal names what this server runs ([`invalid_runtime_message`]).

/// The language family a runtime string belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Node,
    Python,
    Java,
    Php,
    Dotnet,
    Go,
    Custom,
}

/// A runtime string FC knows, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime(String);

/// Every runtime string FC has documented, in FC's spelling.
pub const KNOWN_RUNTIMES: &[&str] = &[
    "nodejs4.4",
    "nodejs6",
    "nodejs8",
    "nodejs10",
    "nodejs12",
    "nodejs14",
    "nodejs16",
    "nodejs18",
    "nodejs20",
    "python2.7",
    "python3",
    "python3.9",
    "python3.10",
    "python3.12",
    "java8",
    "java11",
    "php7.2",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "go1",
    "custom",
    "custom.debian10",
    "custom.debian11",
    "custom.debian12",
    "custom-container",
];

/// FC's exact message for an unknown runtime (the SDKs' tests look for it in the message).
pub const INVALID_RUNTIME_MESSAGE: &str = "Runtime is set to an invalid value";

/// FC's message, then the value and what this server runs.
pub fn invalid_runtime_message(value: &str, offered: &[String]) -> String {
    let value: String = value.chars().take(64).collect();
    format!(
        "{INVALID_RUNTIME_MESSAGE}: '{value}'. This server runs {}; other runtimes FC documents are accepted but cannot run here",
        if offered.is_empty() { "none (no Node.js or Python 3 was found)".to_string() } else { offered.join(", ") }
    )
}

impl Runtime {
    /// A runtime FC has documented, or a well-formed version of the Node.js or Python 3 family
    /// (`nodejs22`, `python3.11`): a server may offer one FC never had, because it is what is installed.
    pub fn parse(value: &str) -> Option<Runtime> {
        let well_formed = |rest: Option<&str>, dotted: bool| {
            rest.is_some_and(|r| {
                let mut parts = r.split('.');
                let ok = |p: Option<&str>| {
                    p.is_some_and(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
                };
                match (parts.next(), parts.next(), parts.next()) {
                    (major, None, None) => ok(major),
                    (major, minor, None) => dotted && ok(major) && ok(minor),
                    _ => false,
                }
            })
        };
        let known = KNOWN_RUNTIMES.contains(&value)
            || well_formed(value.strip_prefix("nodejs"), true)
            || value.strip_prefix("python3.").is_some_and(|minor| well_formed(Some(minor), false));
        known.then(|| Runtime(value.to_string()))
    }

    /// Whether FC itself has documented this runtime string.
    pub fn is_documented(&self) -> bool {
        KNOWN_RUNTIMES.contains(&self.0.as_str())
    }

    /// The language version a Node.js or Python runtime asks for: `nodejs20` → (20, 0), `nodejs4.4` →
    /// (4, 4), `python3.11` → (3, 11), `python3` → (3, 0).
    pub fn version(&self) -> Option<(u32, u32)> {
        let rest = self.0.strip_prefix("nodejs").or_else(|| self.0.strip_prefix("python"))?;
        let mut parts = rest.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
        Some((major, minor))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn family(&self) -> Family {
        let s = self.0.as_str();
        if s.starts_with("nodejs") {
            Family::Node
        } else if s.starts_with("python") {
            Family::Python
        } else if s.starts_with("java") {
            Family::Java
        } else if s.starts_with("php") {
            Family::Php
        } else if s.starts_with("dotnet") {
            Family::Dotnet
        } else if s.starts_with("go") {
            Family::Go
        } else {
            Family::Custom
        }
    }

    /// The file extension of a handler module in this runtime (`index.handler` → `index.py`).
    pub fn module_extension(&self) -> Option<&'static str> {
        match self.family() {
            Family::Node => Some("js"),
            Family::Python => Some("py"),
            Family::Php => Some("php"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_and_rejects_others() {
        assert!(Runtime::parse("python3.9").is_some());
        assert!(Runtime::parse("custom-container").is_some());
        assert!(Runtime::parse("10").is_none());
        assert!(Runtime::parse("Python3").is_none());
        assert_eq!(Runtime::parse("nodejs20").map(|r| r.family()), Some(Family::Node));
        assert_eq!(Runtime::parse("python2.7").and_then(|r| r.module_extension()), Some("py"));
        for free in ["ws", "python", "python3.", "python3.x", "nodejs", "nodejs20.1.2", "python4.1", "python3.11.2"] {
            assert!(Runtime::parse(free).is_none(), "{free}");
        }
    }

    #[test]
    fn versions_of_known_families_parse_and_are_not_documented() {
        let r = Runtime::parse("python3.11").expect("well formed");
        assert!(!r.is_documented());
        assert_eq!(r.version(), Some((3, 11)));
        assert_eq!(Runtime::parse("nodejs22").and_then(|r| r.version()), Some((22, 0)));
        assert_eq!(Runtime::parse("nodejs4.4").and_then(|r| r.version()), Some((4, 4)));
        assert_eq!(Runtime::parse("python3").and_then(|r| r.version()), Some((3, 0)));
        assert!(Runtime::parse("python3.10").expect("known").is_documented());
        let message = invalid_runtime_message("ws", &["nodejs20".into(), "python3.11".into()]);
        assert!(message.starts_with(INVALID_RUNTIME_MESSAGE) && message.contains("'ws'"), "{message}");
        assert!(message.contains("nodejs20, python3.11"), "{message}");
    }
}
