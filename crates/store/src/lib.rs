//! Persistence for Ferric: resource metadata and code packages.
//!
//! The server talks to metadata through one trait, [`MetadataStore`], so the embedded SQLite default and a
//! PostgreSQL cluster store are chosen by URL and never by `cfg` in callers. Code packages live on the
//! filesystem, content-addressed by their CRC-64/XZ checksum, extracted once and shared read-only by every
//! instance that runs them. Invocation logs are kept here too, bounded by age, count and size, and so are
//! async invocations (jobs), committed before the caller is told they were accepted.
//!
//! Layout:
//! - `metadata`: the [`MetadataStore`] trait, list queries and pages, [`StoreError`].
//! - `versions`: the [`VersionStore`] part of the trait: published versions and aliases.
//! - `provision`: [`ProvisionStore`], its supertrait for provision and on-demand configs.
//! - `account`: [`AccountStore`], its supertrait for custom domains and service tags.
//! - `layers`: [`LayerStore`], its supertrait for layer versions.
//! - `sqlite`: the SQLite implementation (WAL, one writer connection, a small pool of readers).
//! - `code`: the content-addressed code-package store and safe zip extraction.

mod account;
pub mod code;
mod layers;
mod metadata;
mod provision;
pub mod sqlite;
mod versions;

pub use account::{AccountStore, DomainUpdate, TaggedService};
pub use layers::{LayerStore, LayerVersionPage};
pub use metadata::{
    open, FunctionSearch, FunctionUpdate, Job, JobFilter, JobStatus, ListQuery, LogQuery, LogRecord, MetadataStore,
    Page, QueueDepth, ServiceUpdate, StoreError, TriggerUpdate,
};
pub use provision::{ProvisionFilter, ProvisionStore};
pub use versions::{AliasUpdate, VersionQuery, VersionStore};
