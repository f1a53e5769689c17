//! Ferric's vocabulary: the words every other crate speaks.
//!
//! Resource names and their rules, the stored shape of services, functions and triggers, the runtimes FC
//! knows, the limits Ferric enforces, FC's error codes, and the request-signing algorithm the official SDKs
//! use. Everything here is pure data and pure functions (serde, no I/O), so the server, the client and the
//! tools agree on one definition of each word.
//!
//! Layout:
//! - `name`: resource names, qualifiers (`svc.LATEST`), validation.
//! - `runtime`: the runtime strings FC knows and which language family each belongs to.
//! - `error`: FC error codes with their HTTP status.
//! - `fields`: FC's JSON conventions (case-insensitive keys, null means absent) for request bodies.
//! - `service`, `function`, `trigger`: stored specs, request patches and wire views of each resource.
//! - `version`, `alias`: a service's published versions (immutable snapshots) and the aliases that route to them.
//! - `layer`: layer versions, their two ARN forms and a function's `layers` list.
//! - `async_config`: a function's async-invoke-config (retries, event age, destinations).
//! - `provision`: provision configs (instances kept warm) and on-demand configs (an instance cap).
//! - `custom_domain`: custom domains, their routes and the Host/path match; `tag`: resource ARNs and tags.
//! - `limits`: the bounds Ferric enforces, with FC's values as defaults.
//! - `signature`: the `FC <keyId>:<signature>` HMAC-SHA256 scheme, for signing and verifying; `acs3`: the
//!   2021-04-06 API's ACS3-HMAC-SHA256 scheme.
//! - `time`: the timestamp formats on the wire.

pub mod acs3;
pub mod alias;
pub mod async_config;
pub mod custom_domain;
pub mod error;
pub mod fields;
pub mod function;
pub mod layer;
pub mod limits;
pub mod name;
pub mod provision;
pub mod runtime;
pub mod service;
pub mod signature;
pub mod tag;
pub mod time;
pub mod trigger;
pub mod version;

pub use error::{ErrorCode, FcError};
pub use name::{NameError, QualifiedName};
pub use runtime::Runtime;
