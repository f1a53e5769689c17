//! `ferric local start`: the template's HTTP-triggered functions on a local port, at fun's routes
//! (`/2016-08-15/proxy/{service}/{function}/{path}`). A request is mapped to the function's HTTP
//! request, bounded and answered by the very functions the server's proxy route uses
//! (`ferric_server::http_trigger`), and run on an in-process invoker; only the store and the data plane
//! are missing, so the routing table is the template's, rebuilt on every reload (`watch.rs`).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use clap::Args;
use ferric_invoker::{FunctionVersion, Invoker};
use ferric_server::{http_trigger, ApiError};
use ferric_types::signature;
use ferric_types::ErrorCode;

use crate::template::EventKind;

/// The server's default bound on a sync request and answer (`--max-sync-payload-bytes`).
const MAX_PAYLOAD_BYTES: usize = 32 * 1024 * 1024;

const PREFIX: &str = "/2016-08-15/proxy/";

#[derive(Args, Debug)]
pub(super) struct StartArgs {
    /// The template.
    #[arg(default_value = "template.yml")]
    template: PathBuf,
    /// The port to listen on (fun's default; 0 picks a free one).
    #[arg(short, long, default_value_t = 8000)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// strict, best-effort or off, as for 'ferric serve'.
    #[arg(long, env = "FERRIC_SANDBOX", default_value = "best-effort")]
    sandbox: String,
}

/// One HTTP function as the template declares it.
pub(super) struct Route {
    version: Arc<FunctionVersion>,
    methods: Vec<String>,
    auth_type: String,
}

/// The routing table of one load of the template; each reload makes a new one with new pool keys.
pub(super) struct Table {
    pub(super) generation: u64,
    routes: BTreeMap<(String, String), Route>,
    /// The directories and files whose changes reload: the template and every function's CodeUri.
    pub(super) watched: Vec<PathBuf>,
}

pub(super) struct Shared {
    pub(super) invoker: Invoker,
    pub(super) table: RwLock<Arc<Table>>,
    pub(super) template: PathBuf,
    pub(super) scratch: PathBuf,
    /// Where it listens, for the route lines a reload prints.
    pub(super) addr: SocketAddr,
}

impl Table {
    pub(super) fn versions(&self) -> impl Iterator<Item = &Arc<FunctionVersion>> {
        self.routes.values().map(|r| &r.version)
    }

    pub(super) fn route_names(&self) -> Vec<&(String, String)> {
        self.routes.keys().collect()
    }
}

pub(super) fn run(args: StartArgs) -> Result<()> {
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let table = build(&args.template, scratch.path(), 1)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let invoker = super::start_invoker(&args.sandbox, scratch.path()).await?;
        let listener = tokio::net::TcpListener::bind((args.host, args.port))
            .await
            .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let addr = listener.local_addr()?;
        say(&routes_text(&table, addr));
        let shared = Arc::new(Shared {
            invoker,
            table: RwLock::new(Arc::new(table)),
            template: args.template.clone(),
            scratch: scratch.path().to_path_buf(),
            addr,
        });
        let watcher = tokio::spawn(super::watch::reload_on_change(shared.clone()));
        let app = axum::Router::new().fallback(handle).with_state(shared);
        say(&format!("serving on http://{addr}; watching for changes (Ctrl-C stops)\n"));
        let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        watcher.abort();
        served.context("the local server stopped")
    })
}

/// Reads the template and builds its routing table; `generation` makes every pool key new.
pub(super) fn build(template: &Path, scratch: &Path, generation: u64) -> Result<Table> {
    let loaded = super::load(template)?;
    let dir = scratch.join(format!("gen-{generation}"));
    let mut routes = BTreeMap::new();
    let mut watched = vec![template.to_path_buf()];
    for service in &loaded.template.services {
        for function in &service.functions {
            let Some((methods, auth_type)) = function.events.iter().find_map(|e| match &e.kind {
                EventKind::Http { auth_type, methods } => Some((methods.clone(), auth_type.clone())),
                _ => None,
            }) else {
                continue;
            };
            let version = super::version(service, function, &dir, format!("local-{generation}"))?;
            watched.push(function.code_uri.clone());
            routes.insert((service.name.clone(), function.name.clone()), Route { version, methods, auth_type });
        }
    }
    if routes.is_empty() {
        say(&format!("{}: no function has an HTTP event; nothing to serve yet\n", template.display()));
    }
    Ok(Table { generation, routes, watched })
}

/// fun's registration lines, one block per function.
pub(super) fn routes_text(table: &Table, addr: SocketAddr) -> String {
    let mut out = String::new();
    for ((service, function), route) in &table.routes {
        out.push_str(&format!(
            "HttpTrigger of {service}/{function} was registered\n\turl: http://{addr}{PREFIX}{service}/{function}/\n\
             \tmethods: {}\n\tauthType: {}\n",
            route.methods.join(", "),
            route.auth_type
        ));
    }
    out
}

/// A line (or lines) on stdout, flushed; a closed stdout must not stop the server.
pub(super) fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let request_id = match super::request_id() {
        Ok(id) => id,
        Err(e) => return ApiError::new(ErrorCode::InternalServerError, e.to_string()).into_response(),
    };
    let mut response = serve(&shared, peer, &request_id, request).await.unwrap_or_else(IntoResponse::into_response);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(HeaderName::from_static("x-fc-request-id"), value);
    }
    response
}

async fn serve(shared: &Shared, peer: SocketAddr, request_id: &str, request: Request) -> Result<Response, ApiError> {
    let raw_path = request.uri().path().to_string();
    let raw_query = request.uri().query().unwrap_or("").to_string();
    let (service, function, sub_path) = split_path(&raw_path).ok_or_else(|| {
        ApiError::new(
            ErrorCode::PathNotSupported,
            format!("'{}' is not a route here: use {PREFIX}{{service}}/{{function}}/{{path}}", truncate(&raw_path)),
        )
    })?;
    let table = shared.table.read().unwrap_or_else(|p| p.into_inner()).clone();
    let route = table.routes.get(&(service.clone(), function.clone())).ok_or_else(|| {
        if table.routes.keys().any(|(s, _)| *s == service) {
            ApiError::new(
                ErrorCode::FunctionNotFound,
                format!(
                    "function '{}' of service '{}' has no HTTP event in the template",
                    truncate(&function),
                    service
                ),
            )
        } else {
            ApiError::new(
                ErrorCode::ServiceNotFound,
                format!("service '{}' has no HTTP function here", truncate(&service)),
            )
        }
    })?;
    let method = request.method().as_str().to_string();
    if !route.methods.iter().any(|m| m.eq_ignore_ascii_case(&method)) {
        return Err(ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("method {method} is not allowed by this HTTP trigger; allowed: {}", route.methods.join(", ")),
        ));
    }
    let (parts, body) = request.into_parts();
    let http = http_trigger::http_request(&parts, &raw_query, signature::decode_path(&sub_path), peer);
    let payload = http_trigger::read_body(body, MAX_PAYLOAD_BYTES).await?;
    let invocation = ferric_invoker::Request { request_id: request_id.to_string(), payload, http: Some(http) };
    let mut outcome = shared.invoker.invoke(route.version.clone(), invocation).await?;
    http_trigger::enforce_response_limit(&mut outcome, MAX_PAYLOAD_BYTES);
    // The function's log, as `ferric invoke` shows it: FC's framing lines around what it printed.
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(&outcome.log);
    let _ = err.flush();
    Ok(http_trigger::answer(&route.version, &outcome))
}

/// `(service, function, sub-path)`; the service may not carry a qualifier here (only `LATEST` exists).
fn split_path(raw: &str) -> Option<(String, String, String)> {
    let rest = raw.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(3, '/');
    let service = signature::decode_path(parts.next()?);
    let service = service.strip_suffix(".LATEST").map(str::to_string).unwrap_or(service);
    let function = signature::decode_path(parts.next().filter(|f| !f.is_empty())?);
    Some((service, function, format!("/{}", parts.next().unwrap_or(""))))
}

/// Names echoed in an error, cut to a sane length.
fn truncate(text: &str) -> String {
    text.chars().take(256).collect()
}

#[cfg(test)]
mod tests {
    use super::split_path;

    #[test]
    fn splits_fun_routes() {
        let split = |p: &str| split_path(p);
        assert_eq!(split("/2016-08-15/proxy/demo/hello/a/b"), Some(("demo".into(), "hello".into(), "/a/b".into())));
        assert_eq!(split("/2016-08-15/proxy/demo.LATEST/hello"), Some(("demo".into(), "hello".into(), "/".into())));
        assert_eq!(split("/2016-08-15/proxy/demo/"), None);
        assert_eq!(split("/other"), None);
    }
}
