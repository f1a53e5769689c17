//! Typed calls beyond the first few: whole-body service and function writes, triggers, invocations and
//! Ferric's log routes. Bodies stay `serde_json::Value` in FC's camelCase, because the callers (the CLI,
//! tests) build them from templates and flags, and the server is the one place that validates them.

use base64::Engine;
use reqwest::Method;
use serde_json::Value;

use crate::{Client, ClientError, Response};

/// `x-fc-invocation-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    Sync,
    Async,
}

/// The answer of InvokeFunction, function errors included (they are HTTP 200 with `x-fc-error-type`).
#[derive(Debug)]
pub struct Invocation {
    pub status: u16,
    pub request_id: String,
    /// `x-fc-error-type` (`HandledInvocationError`, `UnhandledInvocationError`) when the function failed.
    pub error_type: Option<String>,
    /// The decoded `x-fc-log-result`, when the log was asked for (`x-fc-log-type: Tail`, sync only).
    pub log: Option<String>,
    pub body: Vec<u8>,
}

impl Client {
    pub async fn list_services(&self, query: &[(&str, &str)]) -> Result<Value, ClientError> {
        self.call(Method::GET, "/services", query, None).await?.json()
    }

    pub async fn update_service(&self, name: &str, body: &Value) -> Result<Value, ClientError> {
        self.call(Method::PUT, &format!("/services/{name}"), &[], Some(body)).await?.json()
    }

    /// CreateFunction with a full body (`functionName`, `runtime`, `handler`, `code`, ...).
    pub async fn create_function_from(&self, service: &str, body: &Value) -> Result<Value, ClientError> {
        self.call(Method::POST, &format!("/services/{service}/functions"), &[], Some(body)).await?.json()
    }

    /// UpdateFunction; `code` in the body replaces the package, its absence keeps it.
    pub async fn update_function(&self, service: &str, name: &str, body: &Value) -> Result<Value, ClientError> {
        self.call(Method::PUT, &format!("/services/{service}/functions/{name}"), &[], Some(body)).await?.json()
    }

    pub async fn list_triggers(
        &self,
        service: &str,
        function: &str,
        query: &[(&str, &str)],
    ) -> Result<Value, ClientError> {
        self.call(Method::GET, &format!("/services/{service}/functions/{function}/triggers"), query, None).await?.json()
    }

    pub async fn get_trigger(&self, service: &str, function: &str, name: &str) -> Result<Value, ClientError> {
        let path = format!("/services/{service}/functions/{function}/triggers/{name}");
        self.call(Method::GET, &path, &[], None).await?.json()
    }

    pub async fn create_trigger(&self, service: &str, function: &str, body: &Value) -> Result<Value, ClientError> {
        let path = format!("/services/{service}/functions/{function}/triggers");
        self.call(Method::POST, &path, &[], Some(body)).await?.json()
    }

    pub async fn update_trigger(
        &self,
        service: &str,
        function: &str,
        name: &str,
        body: &Value,
    ) -> Result<Value, ClientError> {
        let path = format!("/services/{service}/functions/{function}/triggers/{name}");
        self.call(Method::PUT, &path, &[], Some(body)).await?.json()
    }

    pub async fn delete_trigger(&self, service: &str, function: &str, name: &str) -> Result<(), ClientError> {
        let path = format!("/services/{service}/functions/{function}/triggers/{name}");
        self.call(Method::DELETE, &path, &[], None).await.map(drop)
    }

    /// InvokeFunction with the raw event bytes. A sync call asks for the log tail (`x-fc-log-type: Tail`).
    /// An FC error answer (404, 429, ...) is an `Err`; a function's own error is an `Ok` with `error_type`.
    pub async fn invoke_function(
        &self,
        service: &str,
        function: &str,
        event: Vec<u8>,
        kind: InvocationType,
    ) -> Result<Invocation, ClientError> {
        let path = format!("/services/{service}/functions/{function}/invocations");
        let mut headers = vec![("content-type", "application/octet-stream")];
        match kind {
            InvocationType::Sync => headers.extend([("x-fc-invocation-type", "Sync"), ("x-fc-log-type", "Tail")]),
            InvocationType::Async => headers.push(("x-fc-invocation-type", "Async")),
        }
        let response: Response = self.send(Method::POST, &path, &[], &headers, Some(event)).await?;
        if response.status >= 300 {
            return Err(response.into_error());
        }
        let log = response
            .header("x-fc-log-result")
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        Ok(Invocation {
            status: response.status,
            request_id: response.header("x-fc-request-id").unwrap_or("").to_string(),
            error_type: response.header("x-fc-error-type").map(str::to_string),
            log,
            body: response.body,
        })
    }

    /// `GET /ferric/v1/logs`: one page of invocation logs, newest first (`{"logs": [...], "nextToken"}`).
    pub async fn list_logs(&self, query: &[(&str, &str)]) -> Result<Value, ClientError> {
        let response = self.send_to(Method::GET, "/ferric/v1/logs", query, &[], None).await?;
        if response.status >= 300 {
            return Err(response.into_error());
        }
        response.json()
    }

    /// `GET /ferric/v1/logs/follow`: the open server-sent-event stream of new invocation logs.
    pub async fn follow_logs(&self, query: &[(&str, &str)]) -> Result<reqwest::Response, ClientError> {
        self.open_stream("/ferric/v1/logs/follow", query).await
    }
}
