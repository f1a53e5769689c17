//! The runtime strings FC knows.
//!
//! Every runtime FC has ever offered is accepted at create time, so existing templates and the official
//! SDKs' own tests (which create `python2.7`, `nodejs4.4`, `custom` functions) work; whether this server can
//! *run* one is decided at invoke time.

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

/// FC's exact message for an unknown runtime (the SDKs' tests match it).
pub const INVALID_RUNTIME_MESSAGE: &str = "Runtime is set to an invalid value";

impl Runtime {
    pub fn parse(value: &str) -> Option<Runtime> {
        KNOWN_RUNTIMES.contains(&value).then(|| Runtime(value.to_string()))
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
    }
}
