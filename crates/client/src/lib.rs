//! A typed Rust client for the FC 2016-08-15 API, signing requests as the official SDKs do.
//!
//! Ferric's own tools, tests and benchmarks use it; it speaks only the public wire format, so it works
//! against any FC-compatible endpoint.
//!
//! Layout:
//! - `lib.rs`: [`Client`], [`Response`], [`ClientError`], signing, and the first typed calls.
//! - `resources.rs`: the rest of the typed calls: services, functions, triggers, invocations, logs.
//! - `retry.rs`: [`ClientOptions`], fun's `TIMEOUT` and `RETRIES`, and which failures are retried.

use std::time::Duration;

use base64::Engine;
use ferric_types::signature::{self, SignedParts};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use serde_json::Value;
use thiserror::Error;

mod resources;
mod retry;
pub use resources::{Invocation, InvocationType};
pub use retry::ClientOptions;

pub const API_VERSION: &str = "2016-08-15";

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("{code} (HTTP {status}): {message} [request {request_id}]")]
    Api { status: u16, code: String, message: String, request_id: String },
    #[error("request to {url} failed")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("response is not the JSON expected")]
    Decode(#[source] serde_json::Error),
    #[error("invalid header {name}")]
    Header { name: String },
}

/// A raw response: status, headers and body bytes.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Result<Value, ClientError> {
        serde_json::from_slice(&self.body).map_err(ClientError::Decode)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// An FC error answer (`{"ErrorCode","ErrorMessage"}`) as [`ClientError::Api`].
    pub fn into_error(self) -> ClientError {
        let parsed = self.json().unwrap_or(Value::Null);
        let text = |key: &str| parsed.get(key).and_then(Value::as_str).unwrap_or("").to_string();
        ClientError::Api {
            status: self.status,
            code: text("ErrorCode"),
            message: text("ErrorMessage"),
            request_id: self.header("x-fc-request-id").unwrap_or("unknown").to_string(),
        }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    endpoint: String,
    account_id: String,
    key_id: String,
    secret: String,
    options: ClientOptions,
}

impl Client {
    /// A client with the [`ClientOptions`] defaults.
    pub fn new(endpoint: &str, account_id: &str, key_id: &str, secret: &str) -> Client {
        Client::with_options(endpoint, account_id, key_id, secret, ClientOptions::default())
    }

    pub fn with_options(
        endpoint: &str,
        account_id: &str,
        key_id: &str,
        secret: &str,
        options: ClientOptions,
    ) -> Client {
        let http =
            reqwest::Client::builder().timeout(options.timeout).pool_max_idle_per_host(64).build().unwrap_or_default();
        Client {
            http,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            account_id: account_id.to_string(),
            key_id: key_id.to_string(),
            secret: secret.to_string(),
            options,
        }
    }

    pub fn options(&self) -> ClientOptions {
        self.options
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends a signed request to `/2016-08-15{path}`; `path` must already be percent-encoded where needed.
    /// Returns the raw response whatever its status.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Response, ClientError> {
        self.send_to(method, &format!("/{API_VERSION}{path}"), query, headers, body).await
    }

    /// Sends a signed request to a path outside the API version prefix (Ferric's `/ferric/v1/...`),
    /// within the timeout, again after a retryable failure (`retry.rs`), each try signed anew.
    pub async fn send_to(
        &self,
        method: Method,
        full_path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Response, ClientError> {
        if self.options.retries == 0 {
            // The default: no copy of the body kept for a retry that cannot come.
            return self.send_once(method, full_path, query, headers, body).await;
        }
        let mut attempt = 0;
        loop {
            let outcome = self.send_once(method.clone(), full_path, query, headers, body.clone()).await;
            if attempt >= self.options.retries || !retry::retryable(&method, full_path, &outcome) {
                return outcome;
            }
            tokio::time::sleep(self.options.backoff_after(attempt)).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        method: Method,
        full_path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Response, ClientError> {
        let (url, request) = self.signed(method, full_path, query, headers, body)?;
        let response = request.send().await.map_err(|source| ClientError::Transport { url: url.clone(), source })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|source| ClientError::Transport { url, source })?.to_vec();
        Ok(Response { status, headers, body })
    }

    /// Sends a signed GET to `full_path` and hands back the open response, for bodies that stream (the
    /// server-sent events of `/ferric/v1/logs/follow`); an error status becomes [`ClientError::Api`].
    pub async fn open_stream(&self, full_path: &str, query: &[(&str, &str)]) -> Result<reqwest::Response, ClientError> {
        let (url, request) = self.signed(Method::GET, full_path, query, &[], None)?;
        // A stream has no overall deadline: it lasts as long as the caller reads it.
        let request = request.timeout(Duration::from_secs(u64::from(u32::MAX)));
        let response = request.send().await.map_err(|source| ClientError::Transport { url: url.clone(), source })?;
        if response.status().as_u16() >= 300 {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|source| ClientError::Transport { url, source })?.to_vec();
            return Err(Response { status, headers, body }.into_error());
        }
        Ok(response)
    }

    /// The request, signed, ready to send; and its URL for error messages.
    fn signed(
        &self,
        method: Method,
        full_path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<(String, reqwest::RequestBuilder), ClientError> {
        let full_path = full_path.to_string();
        let url = format!("{}{full_path}", self.endpoint);
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let content_type = if body.is_some() { "application/json" } else { "" };
        let mut map = HeaderMap::new();
        let mut put = |name: &str, value: &str| -> Result<(), ClientError> {
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| ClientError::Header { name: name.into() })?;
            let v = HeaderValue::from_str(value).map_err(|_| ClientError::Header { name: name.into() })?;
            map.insert(n, v);
            Ok(())
        };
        put("date", &date)?;
        put("x-fc-account-id", &self.account_id)?;
        if !content_type.is_empty() {
            put("content-type", content_type)?;
        }
        for (name, value) in headers {
            put(name, value)?;
        }
        let fc_headers: Vec<(&str, &str)> =
            map.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
        let canonical = signature::canonical_fc_headers(fc_headers);
        let content_type_sent = map.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        // HTTP-trigger paths sign their query too (sorted `k=v` lines), as the official SDKs do.
        let resource = if full_path.starts_with(&format!("/{API_VERSION}/proxy/")) {
            let encoded: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(query.iter()).finish();
            signature::proxy_resource(&signature::decode_path(&full_path), &encoded)
        } else {
            signature::decode_path(&full_path)
        };
        let string_to_sign = signature::string_to_sign(&SignedParts {
            method: method.as_str(),
            content_md5: "",
            content_type: &content_type_sent,
            date: &date,
            canonical_headers: &canonical,
            resource: &resource,
        });
        let authorization = format!("FC {}:{}", self.key_id, signature::sign(&self.secret, &string_to_sign));
        map.insert(
            reqwest::header::AUTHORIZATION,
            HeaderValue::from_str(&authorization).map_err(|_| ClientError::Header { name: "authorization".into() })?,
        );
        let mut request = self.http.request(method, &url).headers(map).query(query);
        if let Some(body) = body {
            request = request.body(body);
        }
        Ok((url, request))
    }

    /// Sends a request and turns an FC error answer into [`ClientError::Api`].
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Response, ClientError> {
        let body = body.map(|b| b.to_string().into_bytes());
        let response = self.send(method, path, query, &[], body).await?;
        if response.status >= 300 {
            return Err(response.into_error());
        }
        Ok(response)
    }

    pub async fn create_service(&self, body: &Value) -> Result<Value, ClientError> {
        self.call(Method::POST, "/services", &[], Some(body)).await?.json()
    }

    pub async fn get_service(&self, name: &str) -> Result<Value, ClientError> {
        self.call(Method::GET, &format!("/services/{name}"), &[], None).await?.json()
    }

    pub async fn delete_service(&self, name: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, &format!("/services/{name}"), &[], None).await.map(drop)
    }

    /// Creates a function from a zip held in memory.
    pub async fn create_function(
        &self,
        service: &str,
        name: &str,
        runtime: &str,
        handler: &str,
        zip: &[u8],
    ) -> Result<Value, ClientError> {
        let body = serde_json::json!({
            "functionName": name,
            "runtime": runtime,
            "handler": handler,
            "code": { "zipFile": base64::engine::general_purpose::STANDARD.encode(zip) },
        });
        self.call(Method::POST, &format!("/services/{service}/functions"), &[], Some(&body)).await?.json()
    }

    pub async fn get_function(&self, service: &str, name: &str) -> Result<Value, ClientError> {
        self.call(Method::GET, &format!("/services/{service}/functions/{name}"), &[], None).await?.json()
    }

    pub async fn list_functions(&self, service: &str, query: &[(&str, &str)]) -> Result<Value, ClientError> {
        self.call(Method::GET, &format!("/services/{service}/functions"), query, None).await?.json()
    }

    pub async fn delete_function(&self, service: &str, name: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, &format!("/services/{service}/functions/{name}"), &[], None).await.map(drop)
    }
}
