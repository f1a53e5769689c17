//! `ferric serve`: open the data directory, load the keys, bind, print how to connect, serve until
//! SIGINT/SIGTERM, then drain in-flight requests.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use ferric_server::{AccessKey, AppState, Keyring, ServerConfig};

use crate::credentials::{self, ConfigFile};

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "FERRIC_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where metadata, code packages and generated credentials live.
    #[arg(long, env = "FERRIC_DATA_DIR", default_value = "./.ferric")]
    pub data_dir: PathBuf,
    /// Account of the access key given with --access-key-id/--access-key-secret.
    #[arg(long, env = "FERRIC_ACCOUNT_ID", requires_all = ["access_key_id", "access_key_secret"])]
    pub account_id: Option<String>,
    /// Use this access key id instead of the generated one.
    #[arg(long, env = "FERRIC_ACCESS_KEY_ID", requires_all = ["account_id", "access_key_secret"])]
    pub access_key_id: Option<String>,
    /// Secret of --access-key-id.
    #[arg(long, env = "FERRIC_ACCESS_KEY_SECRET", requires_all = ["account_id", "access_key_id"], hide_env_values = true)]
    pub access_key_secret: Option<String>,
    /// TOML file listing more access keys ([[access_keys]] account_id, id, secret).
    /// Default: config.toml in the data directory, when present.
    #[arg(long, env = "FERRIC_CONFIG")]
    pub config: Option<PathBuf>,
    /// Metadata store URL (sqlite://PATH). Default: ferric.db in the data directory.
    #[arg(long, env = "FERRIC_STORE_URL")]
    pub store_url: Option<String>,
    /// Base URL clients use to reach this server, for URLs it hands out (GetFunctionCode).
    #[arg(long, env = "FERRIC_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The longest an idle instance is kept, in seconds: each function learns a shorter keep-alive from the
    /// gaps between its calls (never longer than this).
    #[arg(long, env = "FERRIC_IDLE_TIMEOUT", default_value_t = 300)]
    pub idle_timeout: u64,
    /// Memory all live instances may reserve together (sum of memorySize), in MB. Default: half the host's RAM.
    #[arg(long, env = "FERRIC_MEMORY_BUDGET_MB")]
    pub memory_budget_mb: Option<u32>,
    /// Most instances one function may run at once.
    #[arg(long, env = "FERRIC_MAX_INSTANCES_PER_FUNCTION", default_value_t = 16)]
    pub max_instances_per_function: usize,
    /// Most pre-started generic Node.js and Python runtimes ("stem cells") kept idle across the server,
    /// shared among runtime, memory size and network by recent demand; a cold start binds a function's
    /// code into one. 0 disables them. Only where the sandbox supports them (root with mount namespaces).
    /// The default 4 keeps two of each runtime at 128 MB (about 60 MB of memory in all), so a second
    /// cold start right after a first one does not wait for a refill.
    #[arg(long, env = "FERRIC_STEM_CELLS", default_value_t = 4)]
    pub stem_cells: usize,
    /// Node.js interpreter for nodejs* functions (default: found at start; shims are resolved).
    #[arg(long, env = "FERRIC_NODE")]
    pub node: Option<PathBuf>,
    /// Python 3 interpreter for python3* functions (default: found at start; shims are resolved).
    #[arg(long, env = "FERRIC_PYTHON")]
    pub python: Option<PathBuf>,
    /// The region functions see in context.region and FC_REGION.
    #[arg(long, env = "FERRIC_REGION", default_value = "local")]
    pub region: String,
    /// Threads serving requests (default: one per core).
    #[arg(long, env = "FERRIC_WORKER_THREADS")]
    pub worker_threads: Option<usize>,
    /// How functions are confined: strict (refuse to start unless every sandbox feature is available),
    /// best-effort (use what this machine offers, warn about the rest) or off (plain child processes;
    /// development only: functions can then read anything the server can).
    #[arg(long, env = "FERRIC_SANDBOX", default_value = "best-effort", value_parser = ["strict", "best-effort", "off"])]
    pub sandbox: String,
    /// Log filter (tracing syntax), e.g. info or ferric_server=debug.
    #[arg(long, env = "FERRIC_LOG", default_value = "info")]
    pub log: String,
    /// One line per request on stderr: text (with the rest of the log), json (one object a line) or off.
    #[arg(long, env = "FERRIC_ACCESS_LOG", default_value = "text", value_parser = ["off", "text", "json"])]
    pub access_log: String,
    /// Bearer token GET /metrics requires (Authorization: Bearer TOKEN), from every caller. Without it
    /// /metrics is served to loopback callers only, since it names accounts and functions.
    #[arg(long, env = "FERRIC_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Function label sets (account, service, function, qualifier) /metrics keeps; past it a line idle
    /// for an hour gives up its place, else new ones are summed in one qualifier="_overflow" series.
    #[arg(long, env = "FERRIC_METRICS_MAX_FUNCTIONS", default_value_t = 1000)]
    pub metrics_max_functions: usize,
    /// Seconds a client may take to send a request's head, from its first byte (answered 408).
    #[arg(long, env = "FERRIC_HEADER_TIMEOUT", default_value_t = 20)]
    pub header_timeout: u64,
    /// Seconds a request body may pause while the server waits for it before the connection is closed.
    #[arg(long, env = "FERRIC_BODY_TIMEOUT", default_value_t = 30)]
    pub body_timeout: u64,
    /// Seconds an idle keep-alive connection stays open between requests.
    #[arg(long, env = "FERRIC_KEEP_ALIVE_TIMEOUT", default_value_t = 60)]
    pub keep_alive_timeout: u64,
    /// Most client connections at once (default: half the descriptor limit, at most 10000). At the
    /// limit the longest-idle connection is closed for a new one; if none is idle, 503.
    #[arg(long, env = "FERRIC_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
}

pub fn run(args: ServeArgs) -> Result<()> {
    init_logging(&args.log, &args.access_log)?;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.worker_threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = builder.enable_all().build().context("cannot start tokio")?;
    runtime.block_on(serve(args))
}

/// The server's log on stderr. Access lines (target `ferric::access`) go with it in `text` mode; in
/// `json` mode they are written as JSON objects by a layer of their own, and the text log leaves them out.
fn init_logging(filter: &str, access_log: &str) -> Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let access = ferric_server::ACCESS_LOG_TARGET;
    let text_filter = tracing_subscriber::EnvFilter::try_new(filter).context("invalid --log filter")?;
    let text_filter = match access_log {
        "text" => text_filter,
        _ => text_filter.add_directive(format!("{access}=off").parse().context("access log directive")?),
    };
    let text = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(text_filter);
    let json = (access_log == "json").then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_writer(std::io::stderr)
            .with_filter(tracing_subscriber::filter::Targets::new().with_target(access, tracing::Level::INFO))
    });
    tracing_subscriber::registry().with(text).with(json).init();
    Ok(())
}

/// Half the open-file limit (instances and the store need descriptors too), within 64..=10000.
fn default_max_connections() -> usize {
    // "Max open files            20000                20000                files"
    let soft = std::fs::read_to_string("/proc/self/limits").ok().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse::<usize>().ok()
    });
    (soft.unwrap_or(1024) / 2).clamp(64, 10_000)
}

/// Instances of a root server run as uids from here up (65536 of them), far from real users' ids.
const SANDBOX_UID_BASE: u32 = 1_900_000_000;

async fn serve(args: ServeArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    // Absolute, because the sandbox helper mounts paths under it.
    let data_dir = &args
        .data_dir
        .canonicalize()
        .with_context(|| format!("cannot resolve data directory {}", args.data_dir.display()))?;
    let probe = data_dir.join(".write-test");
    std::fs::write(&probe, b"").with_context(|| format!("data directory {} is not writable", data_dir.display()))?;
    let _ = std::fs::remove_file(&probe);

    let (primary, generated) =
        match (args.account_id.clone(), args.access_key_id.clone(), args.access_key_secret.clone()) {
            (Some(account_id), Some(id), Some(secret)) => {
                let key = AccessKey { account_id, id, secret };
                credentials::check_key(&key)?;
                (key, false)
            }
            _ => credentials::load_or_create(data_dir)?,
        };
    let config_path = args.config.clone().or_else(|| {
        let default = data_dir.join("config.toml");
        default.exists().then_some(default)
    });
    let extra = match &config_path {
        Some(path) => ConfigFile::load(path)?.access_keys,
        None => Vec::new(),
    };
    if extra.iter().any(|k| k.id == primary.id) {
        bail!("access key id '{}' is listed twice", primary.id);
    }
    let keyring = Keyring::new(std::iter::once(primary.clone()).chain(extra));

    let mut config = ServerConfig::new(data_dir.clone(), keyring);
    config.store_url = args.store_url.clone();
    config.public_url = args.public_url.clone();
    config.invoker.idle_timeout = std::time::Duration::from_secs(args.idle_timeout.max(1));
    if let Some(mb) = args.memory_budget_mb {
        config.invoker.memory_budget_mb = mb;
    }
    config.invoker.max_instances_per_function = args.max_instances_per_function.max(1);
    config.invoker.stem_cells = args.stem_cells.min(64);
    config.invoker.node = args.node.clone();
    config.invoker.python = args.python.clone();
    config.invoker.region = args.region.clone();
    config.access_log = args.access_log != "off";
    config.metrics_token = args.metrics_token.clone().filter(|t| !t.is_empty());
    config.metrics_max_functions = args.metrics_max_functions.max(1);
    config.connections.header_timeout = std::time::Duration::from_secs(args.header_timeout.max(1));
    config.connections.body_timeout = std::time::Duration::from_secs(args.body_timeout.max(1));
    config.connections.keep_alive = std::time::Duration::from_secs(args.keep_alive_timeout.max(1));
    config.connections.max_connections = args.max_connections.unwrap_or_else(default_max_connections).max(1);

    // Handlers go in before the banner: a supervisor may signal as soon as it sees the endpoint.
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    // Bound first, so a taken port fails fast, before the sandbox and runtimes are probed.
    config.invoker.sandbox = start_sandbox(&args.sandbox, data_dir).await?;
    let state = AppState::open(config).context("cannot open the data directory")?;
    let shown = if local.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], local.port())) } else { local };
    let endpoint = args.public_url.clone().unwrap_or_else(|| format!("http://{shown}"));

    super::env::write(data_dir, &endpoint, &primary, &args.region)?;
    let quote = super::env::quote;
    let mut banner = format!("Ferric is serving the FC API at {endpoint}\n");
    if generated {
        banner += &format!("Created account and access key in {}/credentials.json\n", data_dir.display());
    }
    banner += &format!(
        "  account id:        {}\n  access key id:     {}\n  access key secret: {}\n\
         Shell variables (also in {}/env): eval \"$(ferric env)\"\n\
         export FC_ENDPOINT={} FC_ACCOUNT_ID={} FC_ACCESS_KEY_ID={} FC_ACCESS_KEY_SECRET={}\n\
         For fun (npm @alicloud/fun) and 'ferric deploy', paste:\n{}\n",
        primary.account_id,
        primary.id,
        primary.secret,
        data_dir.display(),
        quote(&endpoint),
        quote(&primary.account_id),
        quote(&primary.id),
        quote(&primary.secret),
        super::env::fun_line(&endpoint, &primary, &args.region),
    );
    // One write, and its failure ignored: a reader that stops after the first export line (a supervisor,
    // `| head`) must not make the server die of a broken pipe, as `println!` would.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    }
    tracing::info!(%local, data_dir = %data_dir.display(), "ready");

    let served = ferric_server::run(listener, state, shutdown).await.context("server failed");
    super::env::remove(data_dir);
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Starts the sandbox helper (this binary's `sandbox-exec`) and says what it can do.
pub(crate) async fn start_sandbox(mode: &str, data_dir: &std::path::Path) -> Result<ferric_sandbox::Sandbox> {
    let mode = ferric_sandbox::Mode::parse(mode).context("unknown --sandbox mode")?;
    let exe = std::env::current_exe().context("cannot find this binary for the sandbox helper")?;
    let sandbox = ferric_sandbox::Sandbox::start(ferric_sandbox::SandboxConfig {
        mode,
        helper: vec![exe.into(), "sandbox-exec".into()],
        work_dir: data_dir.join("sandbox"),
        uid_base: SANDBOX_UID_BASE,
    })
    .await
    .context("cannot start the function sandbox (--sandbox best-effort or off starts anyway)")?;
    tracing::info!("sandbox: {}", sandbox.summary());
    for missing in sandbox.missing() {
        tracing::warn!("sandbox: without {missing}");
    }
    if mode == ferric_sandbox::Mode::Off {
        tracing::warn!("sandbox: off; functions run as plain processes with this server's rights");
    }
    Ok(sandbox)
}

/// Installs SIGINT and SIGTERM handlers now and returns a future that completes on either.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
    })
}
