//! Trigger families: what makes a function run other than a direct invoke. This crate owns the
//! rules for each family this server supports — timer schedules (FC's six-field cron with
//! seconds, descriptors and `@every`) and HTTP trigger rules (auth type and allowed methods) —
//! and the validation the control plane applies to `triggerType`/`triggerConfig`. It computes
//! *when* a timer fires and *whether* an HTTP request may use a trigger, and the [`Scheduler`] that
//! fires timers by enqueuing FC's timer event on the durable async queue.
//!
//! Layout:
//! - `cron.rs` (+ `cron/`): [`Schedule`] parsing and next-fire computation with time zones.
//! - `config.rs` (+ `config/`): [`validate_config`] and the typed views ([`TriggerConfig`]:
//!   [`TimerConfig`], [`HttpTriggerConfig`]) per [`TriggerType`].
//! - `scheduler.rs`: [`Scheduler`], fed by a [`TimerSource`] its owner implements.

#![forbid(unsafe_code)]

pub mod config;
pub mod cron;
pub mod scheduler;

pub use config::{
    validate_config, AuthType, HttpTriggerConfig, TimerConfig, TriggerConfig, TriggerConfigError, TriggerType,
};
pub use cron::{Schedule, ScheduleError};
pub use scheduler::{Scheduler, Timer, TimerSource};
