//! `ferric local start`: the template's HTTP-triggered functions on a local port, at fun's routes
//! (`/2016-08-15/proxy/{service}/{function}/{path}`). The HTTP front is the server crate's
//! (`ferric_server::local`, which maps, bounds and answers as the proxy route does); this file owns
//! what it serves: the template's routing table on an in-process invoker, rebuilt on every reload
//! (`watch.rs`).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use clap::Args;
use ferric_invoker::{FunctionVersion, Invoker};
use ferric_server::local::{LocalFunctions, LocalRoute, PREFIX};

use crate::template::EventKind;

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
        say(&format!("serving on http://{addr}; watching for changes (Ctrl-C stops)\n"));
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let served = ferric_server::local::serve_local(listener, shared, shutdown).await;
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

impl LocalFunctions for Shared {
    fn route(&self, service: &str, function: &str) -> Option<LocalRoute> {
        let table = self.table.read().unwrap_or_else(|p| p.into_inner()).clone();
        let route = table.routes.get(&(service.to_string(), function.to_string()))?;
        Some(LocalRoute { version: route.version.clone(), methods: route.methods.clone() })
    }

    fn has_service(&self, service: &str) -> bool {
        self.table.read().unwrap_or_else(|p| p.into_inner()).routes.keys().any(|(s, _)| s == service)
    }

    fn invoker(&self) -> &Invoker {
        &self.invoker
    }

    /// On stderr, as `ferric invoke` shows a function's log.
    fn log(&self, log: &[u8]) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(log);
        let _ = err.flush();
    }

    fn request_id(&self) -> String {
        super::request_id().unwrap_or_else(|_| format!("local-{}", std::process::id()))
    }
}
