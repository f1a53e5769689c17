//! Stateful async invocations: accepting one (its id is unique in the account), reading them, stopping
//! one that has not started, and re-driving a dead letter.

use ferric_store::{Job, JobFilter, Page};
use ferric_types::name::{validate_name, NameRule};
use ferric_types::{ErrorCode, FcError};

use super::{Control, FunctionRef};
use crate::error::ApiError;

/// Commits an accepted async invocation (on disk before the caller hears 202) and wakes a worker. A
/// caller-chosen id (FC's stateful async invocation id) must be new in the account.
pub async fn accept(ctl: &Control, job: Job, caller_named: bool) -> Result<(), ApiError> {
    if caller_named {
        validate_name("invocation", &job.id, NameRule::Lenient)?;
        if ctl.store().get_job(&job.account_id, &job.id).await?.is_some() {
            return Err(ApiError::new(
                ErrorCode::InvalidArgument,
                format!("stateful async invocation '{}' already exists", job.id),
            ));
        }
    }
    Ok(ctl.parts().queue.enqueue(job).await?)
}

/// The invocation, when it belongs to this function and, when the path names a qualifier, was enqueued
/// for that qualifier (as the caller wrote it: an alias stays its name).
pub async fn require(ctl: &Control, target: &FunctionRef, qualifier: Option<&str>, id: &str) -> Result<Job, ApiError> {
    validate_name("invocation", id, NameRule::Lenient)?;
    match ctl.store().get_job(&target.account, id).await? {
        Some(job)
            if job.service == target.service
                && job.function == target.function
                && qualifier.is_none_or(|q| q == job.qualifier) =>
        {
            Ok(job)
        }
        _ => Err(ApiError::new(
            ErrorCode::StatefulAsyncInvocationNotFound,
            format!("stateful async invocation '{id}' does not exist"),
        )),
    }
}

pub async fn list(
    ctl: &Control,
    target: &FunctionRef,
    filter: JobFilter,
    next_token: Option<String>,
    limit: u32,
) -> Result<Page<Job>, ApiError> {
    let FunctionRef { account, service, function } = target;
    Ok(ctl.store().list_jobs(account, service, function, filter, next_token, limit).await?)
}

/// StopStatefulAsyncInvocation: an invocation that has not started is stopped; a running one finishes.
pub async fn stop(ctl: &Control, target: &FunctionRef, qualifier: Option<&str>, id: &str) -> Result<(), ApiError> {
    let job = require(ctl, target, qualifier, id).await?;
    if !ctl.store().stop_job(&target.account, &job.id, ferric_types::time::now_ms()).await? {
        return Err(FcError::invalid(format!(
            "stateful async invocation '{id}' is {} and cannot be stopped",
            job.status.as_str()
        ))
        .into());
    }
    Ok(())
}

/// Re-drives a dead letter: a failed, expired or stopped invocation runs again from scratch.
pub async fn redrive(ctl: &Control, target: &FunctionRef, qualifier: Option<&str>, id: &str) -> Result<Job, ApiError> {
    let job = require(ctl, target, qualifier, id).await?;
    if !ctl.store().redrive_job(&target.account, &job.id, ferric_types::time::now_ms()).await? {
        return Err(FcError::invalid(format!(
            "stateful async invocation '{id}' is {}; only Failed, Expired or Stopped ones can be re-driven",
            job.status.as_str()
        ))
        .into());
    }
    ctl.parts().queue.wake();
    require(ctl, target, qualifier, id).await
}
