//! Service tags, named by ARN. The ARN's account, when it names one, must be the caller's.

use std::collections::BTreeMap;

use ferric_store::{ListQuery, Page, TaggedService};
use ferric_types::tag::{service_of_arn, validate_key, validate_tags, TagRequest, UntagRequest, MAX_TAGS};

use super::Control;
use crate::error::ApiError;

fn arn_of(arn: Option<String>) -> Result<String, ApiError> {
    arn.filter(|a| !a.is_empty()).ok_or_else(|| ApiError::invalid("resourceArn is required"))
}

/// Returns the ARN as given.
pub async fn tag(ctl: &Control, account: &str, request: TagRequest) -> Result<String, ApiError> {
    let arn = arn_of(request.resource_arn)?;
    let service = service_of_arn(&arn, account)?;
    let tags = validate_tags(&request.tags.unwrap_or_default())?;
    ctl.store().tag_service(account, &service, tags).await?;
    Ok(arn)
}

/// `all: true` removes every tag; otherwise `tagKeys` (1-20 keys) names the ones to remove.
pub async fn untag(ctl: &Control, account: &str, request: UntagRequest) -> Result<String, ApiError> {
    let arn = arn_of(request.resource_arn)?;
    let service = service_of_arn(&arn, account)?;
    let all = request.all.unwrap_or(false);
    let keys = request.tag_keys.unwrap_or_default();
    if !all && (keys.is_empty() || keys.len() > MAX_TAGS) {
        return Err(ApiError::invalid(format!("tagKeys must hold 1-{MAX_TAGS} keys unless all is true")));
    }
    keys.iter().try_for_each(|k| validate_key(k))?;
    ctl.store().untag_service(account, &service, keys, all).await?;
    Ok(arn)
}

pub async fn get(
    ctl: &Control,
    account: &str,
    arn: Option<String>,
) -> Result<(String, BTreeMap<String, String>), ApiError> {
    let arn = arn_of(arn)?;
    let service = service_of_arn(&arn, account)?;
    let tags = ctl.store().service_tags(account, &service).await?;
    Ok((arn, tags))
}

pub async fn list(ctl: &Control, account: &str, query: ListQuery) -> Result<Page<TaggedService>, ApiError> {
    Ok(ctl.store().list_tagged_services(account, query).await?)
}
