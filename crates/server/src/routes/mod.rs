//! The route table, one file per resource, and the small helpers every route shares.

mod account;
mod aliases;
mod async_invoke;
mod code;
mod custom_domains;
mod domain_proxy;
mod form;
mod functions;
mod health;
mod invoke;
mod layers;
mod logs;
mod provision;
pub(crate) mod proxy;
mod services;
mod tags;
mod triggers;
mod versions;

use axum::extract::{FromRequestParts, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use axum::{middleware, Router};
use ferric_store::{ListQuery, Page};
use ferric_types::limits;
use ferric_types::name::{validate_name, NameRule};
use ferric_types::{ErrorCode, QualifiedName};
use serde::{Deserialize, Serialize};

use crate::auth::Account;
use crate::control::FunctionRef;
use crate::error::ApiError;
use crate::state::AppState;

/// The FC API and Ferric's own signed routes, before any authentication layer: the signed API wraps them
/// in the FC signature, the console (`crate::console`) in its session.
fn fc_api() -> Router<AppState> {
    Router::new()
        .route("/2016-08-15/services", get(services::list).post(services::create))
        .route("/2016-08-15/services/{service}", get(services::get).put(services::update).delete(services::delete))
        .route("/2016-08-15/services/{service}/functions", get(functions::list).post(functions::create))
        .route("/2016-08-15/services/{service}/versions", get(versions::list).post(versions::publish))
        .route("/2016-08-15/services/{service}/versions/{version}", delete(versions::delete))
        .route("/2016-08-15/services/{service}/aliases", get(aliases::list).post(aliases::create))
        .route(
            "/2016-08-15/services/{service}/aliases/{alias}",
            get(aliases::get).put(aliases::update).delete(aliases::delete),
        )
        .route(
            "/2016-08-15/services/{service}/functions/{function}",
            get(functions::get).put(functions::update).delete(functions::delete),
        )
        .route("/2016-08-15/services/{service}/functions/{function}/code", get(code::get_function_code))
        .route(
            "/2016-08-15/services/{service}/functions/{function}/triggers",
            get(triggers::list).post(triggers::create),
        )
        .route(
            "/2016-08-15/services/{service}/functions/{function}/triggers/{trigger}",
            get(triggers::get).put(triggers::update).delete(triggers::delete),
        )
        .route("/2016-08-15/services/{service}/functions/{function}/invocations", post(invoke::invoke))
        .route(
            "/2016-08-15/services/{service}/functions/{function}/async-invoke-config",
            get(async_invoke::get_config).put(async_invoke::put_config).delete(async_invoke::delete_config),
        )
        .route(
            "/2016-08-15/services/{service}/functions/{function}/async-invoke-configs",
            get(async_invoke::list_configs),
        )
        .route(
            "/2016-08-15/services/{service}/functions/{function}/stateful-async-invocations",
            get(async_invoke::list_invocations),
        )
        .route(
            "/2016-08-15/services/{service}/functions/{function}/stateful-async-invocations/{invocation}",
            get(async_invoke::get_invocation).put(async_invoke::stop_invocation),
        )
        .route("/2016-08-15/custom-domains", get(custom_domains::list).post(custom_domains::create))
        .route(
            "/2016-08-15/custom-domains/{domain}",
            get(custom_domains::get).put(custom_domains::update).delete(custom_domains::delete),
        )
        .route(
            "/2016-08-15/services/{service}/functions/{function}/provision-config",
            get(provision::get_provision).put(provision::put_provision),
        )
        .route("/2016-08-15/provision-configs", get(provision::list_provisions))
        .route(
            "/2016-08-15/services/{service}/functions/{function}/on-demand-config",
            get(provision::get_on_demand).put(provision::put_on_demand).delete(provision::delete_on_demand),
        )
        .route("/2016-08-15/on-demand-configs", get(provision::list_on_demand))
        .route("/2016-08-15/services/{service}/functions/{function}/instances", get(provision::list_instances))
        .route("/2016-08-15/tag", get(tags::get).post(tags::tag).delete(tags::untag))
        .route("/2016-08-15/tags", get(tags::list))
        .route("/2016-08-15/layers", get(layers::list))
        .route("/2016-08-15/layers/{name}/versions", get(layers::list_versions).post(layers::publish))
        .route("/2016-08-15/layers/{name}/versions/{version}", get(layers::get).delete(layers::delete))
        .route("/2016-08-15/layers/{name}/acl", put(layers::put_acl))
        .route("/2016-08-15/layerarn/{arn}", get(layers::get_by_arn))
        .route("/2016-08-15/account-settings", get(account::settings))
        .route("/2016-08-15/reservedCapacities", get(account::reserved_capacities))
        .route("/2016-08-15/accountConfigs", get(account::configs))
        .route("/2016-08-15/services/{service}/tempCodeBucketToken", get(account::cloud_only))
        .route("/2016-08-15/tempBucketToken", get(account::cloud_only))
        .route("/ferric/v1/logs", get(logs::list))
        .route("/ferric/v1/logs/follow", get(logs::follow))
        .route(
            "/ferric/v1/services/{service}/functions/{function}/stateful-async-invocations/{invocation}/redrive",
            post(async_invoke::redrive_invocation),
        )
}

/// The routes the 2021-04-06 API serves (`crate::api2021` maps its paths onto these): the 2016 ones and
/// the two it spells differently.
fn fc_api_2021() -> Router<AppState> {
    fc_api()
        .route("/2016-08-15/tag", axum::routing::put(tags::untag))
        .route("/2016-08-15/reserved-capacities", get(account::reserved_capacities))
}

pub fn router(state: AppState) -> Router {
    let fc = fc_api().route_layer(middleware::from_fn_with_state(state.clone(), crate::auth::fc_api));

    Router::new()
        .merge(fc)
        .merge(crate::api2021::router(state.clone(), fc_api_2021()))
        .merge(crate::console::router(state.clone(), fc_api()))
        .merge(form::router(state.clone()))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/ferric/v1/code/{checksum}", get(code::download))
        // HTTP triggers authenticate per trigger (anonymous or signed), so they sit outside the FC auth layer.
        .route("/2016-08-15/proxy/{service}/{function}", any(proxy::proxy))
        .route("/2016-08-15/proxy/{service}/{function}/", any(proxy::proxy))
        .route("/2016-08-15/proxy/{service}/{function}/{*path}", any(proxy::proxy))
        .fallback(not_supported)
        .method_not_allowed_fallback(not_supported)
        // Inside the request id and access log, before any route: a custom domain's Host is served by
        // its routes whatever the path (`domain_proxy.rs` says which hosts can be one).
        .layer(middleware::from_fn_with_state(state.clone(), domain_proxy::layer))
        // Outside the custom-domain layer, which marks what it served; inside, routes are templates.
        .layer(middleware::from_fn_with_state(state.clone(), crate::metrics::http::layer))
        .layer(middleware::from_fn(crate::request_id::layer))
        .layer(middleware::from_fn_with_state(state.clone(), crate::access_log::layer))
        .with_state(state)
}

/// FC's answer for a path or method it does not serve.
async fn not_supported(request: Request) -> ApiError {
    let path: String = request.uri().path().chars().take(256).collect();
    ApiError::new(ErrorCode::PathNotSupported, format!("'{}' against '{path}' is not supported", request.method()))
}

/// A JSON request body read to `limit` bytes and checked against its resource's `shape` (FC's body rules:
/// keys without case, `null` = absent, an empty body refused).
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    body: axum::body::Body,
    limit: usize,
    shape: &ferric_types::fields::Shape,
) -> Result<T, ApiError> {
    let bytes = crate::body::read(body, limit).await?;
    Ok(ferric_types::fields::parse_body(&bytes, shape)?)
}

/// A JSON response, with the resource's ETag when it has one.
pub(crate) fn json(status: StatusCode, body: &impl Serialize, etag: Option<&str>) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(bytes) => bytes,
        Err(e) => return ApiError::internal("serialising a response", &e).into_response(),
    };
    let mut response = (status, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(value) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
        headers.insert(header::ETAG, value);
    }
    response
}

pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) fn if_match(headers: &HeaderMap) -> Option<String> {
    headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string).filter(|v| !v.is_empty())
}

/// Path parameters, with a rejection in FC's error format instead of axum's plain text.
pub(crate) struct Params<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Params(value))
            .map_err(|e| ApiError::invalid(format!("invalid request path: {e}")))
    }
}

/// The service of `svc[.qualifier]` on read paths.
pub(crate) fn read_service(segment: &str) -> Result<String, ApiError> {
    Ok(QualifiedName::parse("service", segment)?.name)
}

/// `svc[.qualifier]` split: the service and the qualifier as written (`LATEST` when none).
pub(crate) fn qualified_service(segment: &str) -> Result<(String, String), ApiError> {
    let name = QualifiedName::parse("service", segment)?;
    let qualifier = name.qualifier_or_latest().to_string();
    Ok((name.name, qualifier))
}

#[derive(Deserialize)]
struct ServiceSegment {
    service: String,
}

/// The qualifier of a read path's `{service}` segment (`LATEST` when none).
pub(crate) struct PathQualifier(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathQualifier {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
        let Params(ServiceSegment { service }) = Params::from_request_parts(parts, &()).await?;
        Ok(PathQualifier(qualified_service(&service)?.1))
    }
}

#[derive(Deserialize)]
struct FunctionNames {
    service: String,
    function: String,
}

/// The caller's account and the `{service}/{function}` of a path, names checked.
async fn function_path(parts: &mut axum::http::request::Parts, rule: PathRule) -> Result<FunctionRef, ApiError> {
    let Params(FunctionNames { service, function }) = Params::from_request_parts(parts, &()).await?;
    let service = if rule == PathRule::Write { service } else { read_service(&service)? };
    validate_name("service", &service, NameRule::Lenient)?;
    if rule != PathRule::JobLookup {
        validate_name("function", &function, NameRule::Lenient)?;
    }
    let Some(Account(account)) = parts.extensions.get::<Account>().cloned() else {
        return Err(ApiError::internal("a function route without an account", &std::fmt::Error));
    };
    Ok(FunctionRef { account, service, function })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PathRule {
    /// `{service}` may carry `.LATEST`.
    Read,
    /// Plain names.
    Write,
    /// As `Read`, but the function name is only compared with a job's (an odd one finds no job).
    JobLookup,
}

macro_rules! function_path_extractor {
    ($(#[$doc:meta])* $name:ident, $rule:expr) => {
        $(#[$doc])*
        pub(crate) struct $name(pub FunctionRef);

        impl<S: Send + Sync> axum::extract::FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
                function_path(parts, $rule).await.map($name)
            }
        }
    };
}

function_path_extractor!(
    /// A function on a read path.
    ReadPath,
    PathRule::Read
);
function_path_extractor!(
    /// A function on a write path.
    WritePath,
    PathRule::Write
);
function_path_extractor!(
    /// The function of a stateful async invocation's path.
    JobPath,
    PathRule::JobLookup
);

/// The first value of each query parameter; later duplicates are ignored.
pub(crate) fn query_map(uri: &axum::http::Uri) -> std::collections::HashMap<String, String> {
    let mut map = std::collections::HashMap::new();
    for (key, value) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        map.entry(key.into_owned()).or_insert_with(|| value.into_owned());
    }
    map
}

/// The raw list parameters, as the SDKs name them.
#[derive(Debug, Default)]
pub(crate) struct ListParams {
    limit: Option<String>,
    next_token: Option<String>,
    prefix: Option<String>,
    start_key: Option<String>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ListParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, ApiError> {
        Ok(ListParams::from_map(&mut query_map(&parts.uri)))
    }
}

impl ListParams {
    /// Takes the paging parameters out of a query map that also holds a route's own filters.
    pub(crate) fn from_map(query: &mut std::collections::HashMap<String, String>) -> ListParams {
        ListParams {
            limit: query.remove("limit"),
            next_token: query.remove("nextToken"),
            prefix: query.remove("prefix"),
            start_key: query.remove("startKey"),
        }
    }

    /// Validates paging parameters. An empty `nextToken`, `prefix` or `startKey` means absent (the Go SDK
    /// sends `nextToken=&prefix=`); an empty `limit` is refused (no SDK sends one: Python drops unset
    /// parameters, Node sends what it is given, Go formats an integer).
    pub(crate) fn into_query(self) -> Result<ListQuery, ApiError> {
        let limit = page_limit("limit", self.limit.as_deref())?;
        let bounded = |v: Option<String>| v.filter(|s| !s.is_empty()).map(|s| s.chars().take(256).collect());
        Ok(ListQuery {
            limit,
            next_token: bounded(self.next_token),
            prefix: bounded(self.prefix),
            start_key: bounded(self.start_key),
        })
    }
}

/// A page size: absent means the default; otherwise an integer in FC's 1–100 (so `limit=` is refused).
pub(crate) fn page_limit(field: &str, text: Option<&str>) -> Result<u32, ApiError> {
    match text {
        None => Ok(limits::LIST_DEFAULT_LIMIT),
        Some(t) => t.parse::<u32>().ok().filter(|n| limits::LIST_LIMIT.contains(n)).ok_or_else(|| {
            ApiError::invalid(format!(
                "{field} must be an integer between {} and {}",
                limits::LIST_LIMIT.start(),
                limits::LIST_LIMIT.end()
            ))
        }),
    }
}

/// An optional resource-name filter from a query map; empty means absent, anything else must be a name.
pub(crate) fn name_filter(
    query: &mut std::collections::HashMap<String, String>,
    key: &str,
    kind: &'static str,
) -> Result<Option<String>, ApiError> {
    match query.remove(key).filter(|v| !v.is_empty()) {
        Some(v) => {
            ferric_types::name::validate_name(kind, &v, ferric_types::name::NameRule::Lenient)?;
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

/// A list response: `{"<key>": [...], "nextToken": "..."}` with `nextToken` omitted on the last page.
pub(crate) fn page_response<T>(
    key: &str,
    page: &Page<T>,
    view: impl Fn(&T) -> serde_json::Result<serde_json::Value>,
) -> Response {
    let mut body = serde_json::Map::new();
    let items = match page.items.iter().map(view).collect::<Result<Vec<_>, _>>() {
        Ok(items) => items,
        Err(e) => return ApiError::internal("serialising a list", &e).into_response(),
    };
    body.insert(key.to_string(), serde_json::Value::Array(items));
    if let Some(token) = &page.next_token {
        body.insert("nextToken".to_string(), serde_json::Value::String(token.clone()));
    }
    json(StatusCode::OK, &body, None)
}
