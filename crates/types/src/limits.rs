//! The bounds Ferric enforces on resource specs, with FC's published values.

use std::ops::RangeInclusive;

/// `memorySize` in MB: FC allocates in 64 MB steps.
pub const MEMORY_SIZE_MB: RangeInclusive<u32> = 128..=32768;
pub const MEMORY_SIZE_STEP_MB: u32 = 64;
/// `timeout` in seconds (FC's performance instances allow a day).
pub const TIMEOUT_SECONDS: RangeInclusive<u32> = 1..=86400;
/// `initializationTimeout` in seconds.
pub const INITIALIZATION_TIMEOUT_SECONDS: RangeInclusive<u32> = 1..=600;
/// `instanceConcurrency`: requests one instance serves at once.
pub const INSTANCE_CONCURRENCY: RangeInclusive<u32> = 1..=100;
/// Total bytes of environment variable names and values (FC: 4 KB).
pub const ENVIRONMENT_BYTES: usize = 4096;
/// `description` characters.
pub const DESCRIPTION_CHARS: usize = 256;
/// `handler` / `initializer` characters.
pub const HANDLER_CHARS: usize = 128;
/// Longest runtime string stored (the form API's are free text); FC's longest is `custom-container`.
pub const RUNTIME_CHARS: usize = 64;
/// Bytes of a trigger's `triggerConfig` once serialised.
pub const TRIGGER_CONFIG_BYTES: usize = 16 * 1024;
/// Bytes of any other free-form string field (role, ARNs, nested config values).
pub const SHORT_STRING_BYTES: usize = 1024;
/// Page size bounds for list operations.
pub const LIST_LIMIT: RangeInclusive<u32> = 1..=100;
pub const LIST_DEFAULT_LIMIT: u32 = 20;
