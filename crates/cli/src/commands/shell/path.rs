//! The shell's current resource and how a typed path moves from it. fcli shows resources as a tree,
//! `/services/demo/functions/hello/triggers/web`; users also type the short form (`demo/hello`), so
//! both are read: the collection word a level expects (`services` at the root, `functions` in a
//! service, `triggers` in a function) is skipped once, which leaves a service literally named
//! `services` reachable as `/services/services`.

use std::fmt;

use anyhow::{bail, Result};

/// The collection word below each depth.
const COLLECTIONS: [&str; 3] = ["services", "functions", "triggers"];

/// The resource the shell stands on: the root, a service, a function or a trigger.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResourcePath {
    names: Vec<String>,
}

impl ResourcePath {
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn parts(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }

    /// The path `input` names, read from `self` (absolute when it starts with `/`).
    pub fn resolve(&self, input: &str) -> Result<ResourcePath> {
        let mut names = if input.starts_with('/') { Vec::new() } else { self.names.clone() };
        let mut skipped = false;
        for segment in input.split('/').filter(|s| !s.is_empty() && *s != ".") {
            if segment == ".." {
                names.pop();
                skipped = false;
                continue;
            }
            if !skipped && COLLECTIONS.get(names.len()) == Some(&segment) {
                skipped = true;
                continue;
            }
            if names.len() == COLLECTIONS.len() {
                bail!("'{input}' goes below a trigger, which has no children");
            }
            names.push(segment.to_string());
            skipped = false;
        }
        Ok(ResourcePath { names })
    }

    /// `resolve`, then check the result is a `want` (`service`, `function`, `trigger`).
    pub fn require(&self, input: &str, want: Kind) -> Result<ResourcePath> {
        let path = self.resolve(input)?;
        if path.kind() != want {
            bail!("'{input}' is {path} (the {}), not a {want}", path.kind());
        }
        Ok(path)
    }

    pub fn kind(&self) -> Kind {
        match self.names.len() {
            0 => Kind::Root,
            1 => Kind::Service,
            2 => Kind::Function,
            _ => Kind::Trigger,
        }
    }

    /// A child by its exact name (no collection word is skipped: the name comes from the server).
    pub fn child(&self, name: &str) -> ResourcePath {
        let mut names = self.names.clone();
        names.push(name.to_string());
        ResourcePath { names }
    }

    pub fn parent(&self) -> ResourcePath {
        let mut names = self.names.clone();
        names.pop();
        ResourcePath { names }
    }

    /// The last name (the resource's own), empty at the root.
    pub fn name(&self) -> &str {
        self.names.last().map_or("", String::as_str)
    }
}

/// What a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Root,
    Service,
    Function,
    Trigger,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Root => "root",
            Kind::Service => "service",
            Kind::Function => "function",
            Kind::Trigger => "trigger",
        })
    }
}

impl fmt::Display for ResourcePath {
    /// fcli's long form: `/`, `/services/demo`, `/services/demo/functions/hello`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.names.is_empty() {
            return f.write_str("/");
        }
        for (collection, name) in COLLECTIONS.iter().zip(&self.names) {
            write!(f, "/{collection}/{name}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str) -> ResourcePath {
        ResourcePath::default().resolve(path).expect("resolves")
    }

    #[test]
    fn long_short_relative_and_parent_paths() {
        assert_eq!(at("/services/demo/functions/hello").names(), ["demo", "hello"]);
        assert_eq!(at("demo/hello").to_string(), "/services/demo/functions/hello");
        assert_eq!(at("demo/hello/web").to_string(), "/services/demo/functions/hello/triggers/web");
        let hello = at("demo/hello");
        assert_eq!(hello.resolve("..").expect("up").to_string(), "/services/demo");
        assert_eq!(hello.resolve("../other").expect("sibling").names(), ["demo", "other"]);
        assert_eq!(hello.resolve("/").expect("root").to_string(), "/");
        assert_eq!(hello.resolve("triggers/web").expect("child").kind(), Kind::Trigger);
        assert_eq!(at("/services").kind(), Kind::Root);
        assert_eq!(at("/services/services").names(), ["services"]);
        assert_eq!(at("..").kind(), Kind::Root);
        assert!(at("a/b/c").resolve("d").is_err());
        assert!(hello.require("..", Kind::Function).is_err());
        assert_eq!(hello.require(".", Kind::Function).expect("self"), hello);
    }
}
