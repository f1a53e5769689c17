//! `/2016-08-15/services/{service}/versions[/{version}]`: PublishServiceVersion, ListServiceVersions,
//! DeleteServiceVersion.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use ferric_store::VersionQuery;
use ferric_types::fields::{opaque, parse_body, Shape};
use ferric_types::name::{validate_name, NameRule};
use serde::Deserialize;

use super::{if_match, json, no_content, page_limit, page_response, query_map, Params};
use crate::auth::Account;
use crate::control::versions;
use crate::error::ApiError;
use crate::state::AppState;

static PUBLISH_SHAPE: Shape = Shape { fields: &[opaque("description")] };

#[derive(Deserialize, Default)]
#[serde(default)]
struct PublishBody {
    description: Option<String>,
}

pub async fn publish(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    let body = crate::body::read(body, state.config().max_body_bytes).await?;
    // The SDKs send `{}` without a description; an empty body means the same.
    let parsed: PublishBody = if body.iter().all(u8::is_ascii_whitespace) {
        PublishBody::default()
    } else {
        parse_body(&body, &PUBLISH_SHAPE)?
    };
    let description = parsed.description.unwrap_or_default();
    if description.chars().count() > ferric_types::limits::DESCRIPTION_CHARS {
        return Err(ApiError::invalid(format!(
            "description is longer than {} characters",
            ferric_types::limits::DESCRIPTION_CHARS
        )));
    }
    let version = versions::publish(state.control(), &account.0, &service, description, if_match(&headers)).await?;
    Ok(json(StatusCode::OK, &version.view(), None))
}

pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(service): Params<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    let mut q = query_map(&uri);
    let forward = match q.remove("direction").filter(|d| !d.is_empty()).as_deref() {
        None | Some("BACKWARD") => false,
        Some("FORWARD") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "direction '{}' is not valid; use BACKWARD or FORWARD",
                other.chars().take(32).collect::<String>()
            )))
        }
    };
    let bounded = |v: Option<String>| v.filter(|s| !s.is_empty()).map(|s| s.chars().take(32).collect());
    let query = VersionQuery {
        limit: page_limit("limit", q.remove("limit").as_deref())?,
        next_token: bounded(q.remove("nextToken")),
        start_key: bounded(q.remove("startKey")),
        forward,
    };
    let page = versions::list(state.control(), &account.0, &service, query).await?;
    Ok(page_response("versions", &page, |v| serde_json::to_value(v.view())))
}

#[derive(Deserialize)]
pub(crate) struct VersionPath {
    service: String,
    version: String,
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Params(VersionPath { service, version }): Params<VersionPath>,
) -> Result<Response, ApiError> {
    validate_name("service", &service, NameRule::Lenient)?;
    let version: String = version.chars().take(32).collect();
    versions::delete(state.control(), &account.0, &service, &version).await?;
    Ok(no_content())
}
