//! An HTTP trigger's rules: the function must have one, an `authType: function` trigger needs the
//! account's own FC signature, and the method must be one the trigger allows.

use ferric_triggers::AuthType;
use ferric_types::ErrorCode;

use super::Target;
use crate::catalog::Resolved;
use crate::error::ApiError;

/// Who sent an HTTP trigger's request, as far as its signature says.
pub enum Caller {
    /// A valid FC signature of this account.
    Signed(String),
    /// A signature that did not verify, and why.
    BadSignature(ApiError),
    /// No signature.
    Unsigned,
}

pub(super) fn check(resolved: &Resolved, target: &Target, method: &str, caller: Caller) -> Result<(), ApiError> {
    let Some(trigger) = &resolved.http_trigger else {
        return Err(ApiError::new(
            ErrorCode::TriggerNotFound,
            format!("function '{}' of service '{}' has no HTTP trigger", target.function, target.service),
        ));
    };
    if trigger.auth_type == AuthType::Function {
        match caller {
            Caller::Signed(signer) if signer == target.account => {}
            Caller::BadSignature(e) => return Err(e),
            _ => {
                return Err(ApiError::new(
                    ErrorCode::MissingRequiredHeader,
                    "required HTTP header Authorization was not specified (this HTTP trigger's authType is function)",
                ))
            }
        }
    }
    if !trigger.allows(method) {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("method {method} is not allowed by this HTTP trigger; allowed: {}", trigger.methods.join(", ")),
        ));
    }
    Ok(())
}
