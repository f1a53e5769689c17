//! Trigger families: what makes a function run other than a direct invoke. This crate owns the
//! rules for each family this server supports — timer schedules (FC's six-field cron with
//! seconds, descriptors and `@every`) and HTTP trigger rules (auth type and allowed methods) —
//! and the validation the control plane applies to `triggerType`/`triggerConfig`. It computes
//! *when* a timer fires and *whether* an HTTP request may use a trigger; actually firing goes
//! through the async invocation queue, which lives elsewhere, so nothing here does I/O or keeps
//! a clock.
//!
//! Layout:
//! - `cron.rs` (+ `cron/`): [`Schedule`] parsing and next-fire computation with time zones.
//! - `config.rs` (+ `config/`): [`TriggerType`], [`validate_config`] and the typed views
//!   [`TimerConfig`] and [`HttpTriggerConfig`].

#![forbid(unsafe_code)]

pub mod config;
pub mod cron;

pub use config::{validate_config, AuthType, HttpTriggerConfig, TimerConfig, TriggerConfigError, TriggerType};
pub use cron::{Schedule, ScheduleError};
