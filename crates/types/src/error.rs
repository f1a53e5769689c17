//! FC's error codes and the HTTP status each one travels with.
//!
//! The official SDKs branch on `ErrorCode` (fun recreates a service on `ServiceNotFound`, the Python SDK
//! retries any 500/502/504 for half a minute), so every predictable failure must carry the exact code and a
//! 4xx status. The server turns an [`FcError`] into the `{"ErrorCode","ErrorMessage"}` body in one place.

use std::fmt;

/// An FC error code. The string form is what goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidArgument,
    MissingRequiredHeader,
    PathNotSupported,
    EntityTooLarge,
    LimitExceeded,
    AccessDenied,
    SignatureNotMatch,
    InvalidAccessKeyId,
    RequestTimeTooSkewed,
    ServiceNotFound,
    FunctionNotFound,
    TriggerNotFound,
    ServiceAlreadyExists,
    FunctionAlreadyExists,
    TriggerAlreadyExists,
    ServiceNotEmpty,
    FunctionNotEmpty,
    PreconditionFailed,
    /// An HTTP trigger does not accept the request's method.
    MethodNotAllowed,
    /// Throttled: no instance could take the request in time.
    ResourceExhausted,
    /// No async-invoke-config is set for the function.
    AsyncConfigNotExists,
    StatefulAsyncInvocationNotFound,
    VersionNotFound,
    AliasNotFound,
    AliasAlreadyExists,
    /// No on-demand config is set for the function and qualifier.
    OnDemandConfigNotFound,
    // Custom domains.
    DomainNameNotFound,
    DomainNameAlreadyExists,
    /// A request on a custom domain whose path no route serves.
    DomainRouteNotFound,
    /// A layer, or a version of it, that does not exist.
    LayerNotFound,
    /// A Ferric-only resource (such as a code download) that does not exist.
    NotFound,
    /// Transport-level refusals, answered before a request reaches a route (`server::conn`).
    RequestHeaderFieldsTooLarge,
    UriTooLong,
    RequestTimeout,
    /// The server holds as many connections as it may and none of them is idle.
    TooManyConnections,
    InternalServerError,
}

impl ErrorCode {
    /// Every code, so a test can hold `api/openapi.yaml`'s `Error.ErrorCode` enum to the codes sent.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidArgument,
        ErrorCode::MissingRequiredHeader,
        ErrorCode::PathNotSupported,
        ErrorCode::EntityTooLarge,
        ErrorCode::LimitExceeded,
        ErrorCode::AccessDenied,
        ErrorCode::SignatureNotMatch,
        ErrorCode::InvalidAccessKeyId,
        ErrorCode::RequestTimeTooSkewed,
        ErrorCode::ServiceNotFound,
        ErrorCode::FunctionNotFound,
        ErrorCode::TriggerNotFound,
        ErrorCode::ServiceAlreadyExists,
        ErrorCode::FunctionAlreadyExists,
        ErrorCode::TriggerAlreadyExists,
        ErrorCode::ServiceNotEmpty,
        ErrorCode::FunctionNotEmpty,
        ErrorCode::PreconditionFailed,
        ErrorCode::MethodNotAllowed,
        ErrorCode::ResourceExhausted,
        ErrorCode::AsyncConfigNotExists,
        ErrorCode::StatefulAsyncInvocationNotFound,
        ErrorCode::VersionNotFound,
        ErrorCode::AliasNotFound,
        ErrorCode::AliasAlreadyExists,
        ErrorCode::OnDemandConfigNotFound,
        ErrorCode::DomainNameNotFound,
        ErrorCode::DomainNameAlreadyExists,
        ErrorCode::DomainRouteNotFound,
        ErrorCode::LayerNotFound,
        ErrorCode::NotFound,
        ErrorCode::RequestHeaderFieldsTooLarge,
        ErrorCode::UriTooLong,
        ErrorCode::RequestTimeout,
        ErrorCode::TooManyConnections,
        ErrorCode::InternalServerError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "InvalidArgument",
            ErrorCode::MissingRequiredHeader => "MissingRequiredHeader",
            ErrorCode::PathNotSupported => "PathNotSupported",
            ErrorCode::EntityTooLarge => "EntityTooLarge",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::AccessDenied => "AccessDenied",
            ErrorCode::SignatureNotMatch => "SignatureNotMatch",
            ErrorCode::InvalidAccessKeyId => "InvalidAccessKeyID",
            ErrorCode::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            ErrorCode::ServiceNotFound => "ServiceNotFound",
            ErrorCode::FunctionNotFound => "FunctionNotFound",
            ErrorCode::TriggerNotFound => "TriggerNotFound",
            ErrorCode::ServiceAlreadyExists => "ServiceAlreadyExists",
            ErrorCode::FunctionAlreadyExists => "FunctionAlreadyExists",
            ErrorCode::TriggerAlreadyExists => "TriggerAlreadyExists",
            ErrorCode::ServiceNotEmpty => "ServiceNotEmpty",
            ErrorCode::FunctionNotEmpty => "FunctionNotEmpty",
            ErrorCode::PreconditionFailed => "PreconditionFailed",
            ErrorCode::ResourceExhausted => "ResourceExhausted",
            ErrorCode::MethodNotAllowed => "MethodNotAllowed",
            ErrorCode::NotFound => "NotFound",
            ErrorCode::AsyncConfigNotExists => "AsyncConfigNotExists",
            ErrorCode::StatefulAsyncInvocationNotFound => "StatefulAsyncInvocationNotFound",
            ErrorCode::VersionNotFound => "VersionNotFound",
            ErrorCode::AliasNotFound => "AliasNotFound",
            ErrorCode::AliasAlreadyExists => "AliasAlreadyExists",
            ErrorCode::OnDemandConfigNotFound => "OnDemandConfigNotFound",
            ErrorCode::DomainNameNotFound => "DomainNameNotFound",
            ErrorCode::DomainNameAlreadyExists => "DomainNameAlreadyExists",
            ErrorCode::DomainRouteNotFound => "DomainRouteNotFound",
            ErrorCode::LayerNotFound => "LayerNotFound",
            ErrorCode::RequestHeaderFieldsTooLarge => "RequestHeaderFieldsTooLarge",
            ErrorCode::UriTooLong => "URITooLong",
            ErrorCode::RequestTimeout => "RequestTimeout",
            ErrorCode::TooManyConnections => "TooManyConnections",
            ErrorCode::InternalServerError => "InternalServerError",
        }
    }

    /// The HTTP status FC answers with. Only a genuine server fault is a 5xx.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidArgument
            | ErrorCode::PathNotSupported
            | ErrorCode::EntityTooLarge
            | ErrorCode::LimitExceeded => 400,
            // The headers Ferric requires are the signature's (Authorization, Date): their absence is
            // an authentication failure like the others, so it shares their 403.
            ErrorCode::MissingRequiredHeader
            | ErrorCode::AccessDenied
            | ErrorCode::SignatureNotMatch
            | ErrorCode::InvalidAccessKeyId
            | ErrorCode::RequestTimeTooSkewed => 403,
            ErrorCode::ServiceNotFound
            | ErrorCode::FunctionNotFound
            | ErrorCode::TriggerNotFound
            | ErrorCode::NotFound
            | ErrorCode::AsyncConfigNotExists
            | ErrorCode::StatefulAsyncInvocationNotFound
            | ErrorCode::VersionNotFound
            | ErrorCode::AliasNotFound
            | ErrorCode::OnDemandConfigNotFound
            | ErrorCode::DomainNameNotFound
            | ErrorCode::DomainRouteNotFound
            | ErrorCode::LayerNotFound => 404,
            ErrorCode::ServiceAlreadyExists
            | ErrorCode::FunctionAlreadyExists
            | ErrorCode::TriggerAlreadyExists
            | ErrorCode::AliasAlreadyExists
            | ErrorCode::ServiceNotEmpty
            | ErrorCode::FunctionNotEmpty
            | ErrorCode::DomainNameAlreadyExists => 409,
            ErrorCode::PreconditionFailed => 412,
            ErrorCode::ResourceExhausted => 429,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::UriTooLong => 414,
            ErrorCode::RequestHeaderFieldsTooLarge => 431,
            // Overload, not a fault; 503 tells clients to come back, and SDKs retry it.
            ErrorCode::TooManyConnections => 503,
            ErrorCode::InternalServerError => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as FC reports it: a code and a message meant for the API user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcError {
    pub code: ErrorCode,
    pub message: String,
}

impl FcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        FcError { code, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        FcError::new(ErrorCode::InvalidArgument, message)
    }

    pub fn service_not_found(service: &str) -> Self {
        FcError::new(ErrorCode::ServiceNotFound, format!("service '{service}' does not exist"))
    }

    pub fn function_not_found(service: &str, function: &str) -> Self {
        FcError::new(
            ErrorCode::FunctionNotFound,
            format!("function '{function}' does not exist in service '{service}'"),
        )
    }

    pub fn trigger_not_found(function: &str, trigger: &str) -> Self {
        FcError::new(ErrorCode::TriggerNotFound, format!("trigger '{trigger}' does not exist in function '{function}'"))
    }

    pub fn version_not_found(service: &str, version: &str) -> Self {
        FcError::new(ErrorCode::VersionNotFound, format!("version '{version}' of service '{service}' does not exist"))
    }

    pub fn alias_not_found(service: &str, alias: &str) -> Self {
        FcError::new(ErrorCode::AliasNotFound, format!("alias '{alias}' of service '{service}' does not exist"))
    }

    pub fn domain_not_found(domain: &str) -> Self {
        FcError::new(ErrorCode::DomainNameNotFound, format!("domain name '{domain}' does not exist"))
    }

    pub fn precondition_failed() -> Self {
        FcError::new(ErrorCode::PreconditionFailed, "the resource being modified has been changed")
    }

    pub fn internal() -> Self {
        FcError::new(ErrorCode::InternalServerError, "an internal error has occurred. Please retry.")
    }
}

impl fmt::Display for FcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for FcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predictable_errors_are_never_5xx() {
        for code in [
            ErrorCode::InvalidArgument,
            ErrorCode::ServiceNotFound,
            ErrorCode::FunctionNotEmpty,
            ErrorCode::PreconditionFailed,
            ErrorCode::RequestTimeTooSkewed,
        ] {
            assert!(code.status() < 500, "{code}");
        }
        assert_eq!(ErrorCode::InvalidAccessKeyId.as_str(), "InvalidAccessKeyID");
    }

    #[test]
    fn all_lists_every_code() {
        // No wildcard arm: a new variant does not compile here until it is sorted in, and then `ALL`
        // must hold it for this test to pass.
        fn listed(code: ErrorCode) -> bool {
            match code {
                ErrorCode::InvalidArgument
                | ErrorCode::MissingRequiredHeader
                | ErrorCode::PathNotSupported
                | ErrorCode::EntityTooLarge
                | ErrorCode::LimitExceeded
                | ErrorCode::AccessDenied
                | ErrorCode::SignatureNotMatch
                | ErrorCode::InvalidAccessKeyId
                | ErrorCode::RequestTimeTooSkewed
                | ErrorCode::ServiceNotFound
                | ErrorCode::FunctionNotFound
                | ErrorCode::TriggerNotFound
                | ErrorCode::ServiceAlreadyExists
                | ErrorCode::FunctionAlreadyExists
                | ErrorCode::TriggerAlreadyExists
                | ErrorCode::ServiceNotEmpty
                | ErrorCode::FunctionNotEmpty
                | ErrorCode::PreconditionFailed
                | ErrorCode::MethodNotAllowed
                | ErrorCode::ResourceExhausted
                | ErrorCode::AsyncConfigNotExists
                | ErrorCode::StatefulAsyncInvocationNotFound
                | ErrorCode::VersionNotFound
                | ErrorCode::AliasNotFound
                | ErrorCode::AliasAlreadyExists
                | ErrorCode::OnDemandConfigNotFound
                | ErrorCode::DomainNameNotFound
                | ErrorCode::DomainNameAlreadyExists
                | ErrorCode::DomainRouteNotFound
                | ErrorCode::LayerNotFound
                | ErrorCode::NotFound
                | ErrorCode::RequestHeaderFieldsTooLarge
                | ErrorCode::UriTooLong
                | ErrorCode::RequestTimeout
                | ErrorCode::TooManyConnections
                | ErrorCode::InternalServerError => ErrorCode::ALL.contains(&code),
            }
        }
        assert!(ErrorCode::ALL.iter().all(|c| listed(*c)));
        assert_eq!(ErrorCode::ALL.len(), 36, "a code was added to the match but not to ALL");
    }
}
