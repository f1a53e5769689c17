//! Why a trigger type or `triggerConfig` was rejected. The server returns these messages to API
//! users verbatim, so each names the offending key the way FC's SDKs spell it.

use thiserror::Error;

use super::TriggerType;
use crate::cron::ScheduleError;

/// A trigger the control plane must refuse to create or update; maps to FC's 400 `InvalidArgument`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TriggerConfigError {
    #[error(transparent)]
    UnsupportedType(#[from] ferric_types::trigger::UnsupportedTriggerType),
    #[error("triggerConfig must be a JSON object")]
    NotAnObject,
    #[error("triggerConfig.{key} is required for {trigger_type} triggers")]
    MissingKey { key: &'static str, trigger_type: TriggerType },
    #[error("triggerConfig.{key} must be {expected}")]
    WrongType { key: &'static str, expected: &'static str },
    /// The schedule's own message is repeated in ours because this text goes to API users as is.
    #[error("triggerConfig.cronExpression: {source}")]
    InvalidCronExpression { source: ScheduleError },
    #[error("triggerConfig.authType '{auth_type}' is not supported; supported values: anonymous, function")]
    UnsupportedAuthType { auth_type: String },
    #[error("triggerConfig.methods must list at least one HTTP method")]
    NoMethods,
    #[error("triggerConfig.methods[{index}] must be a string")]
    MethodNotString { index: usize },
    #[error(
        "triggerConfig.methods contains unsupported method '{method}'; supported methods: \
         GET, POST, PUT, DELETE, HEAD, PATCH, OPTIONS"
    )]
    UnsupportedMethod { method: String },
}
