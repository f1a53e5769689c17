//! Stem cells: generic Node.js and Python runtimes started ahead of demand, already inside a ready
//! sandbox with an empty `/code`. A cold start of a function takes one, has the sandbox bind its code
//! (and nothing else) over `/code`, sends `specialize` with the function's whole environment, then `init`
//! as for any instance (`runtimes/PROTOCOL.md`). The interpreter's own start, the bootstrap's loading and
//! the sandbox's setup are then off the request path.
//!
//! - Keyed by what an instance is started with and cannot change later: the program and its arguments
//!   (Node's heap size follows `memorySize`), the runtime's own environment, the memory size (the cgroup
//!   limit) and the network (the namespace is fixed at spawn).
//! - Sized from recent demand (the cold starts of the last [`DEMAND_WINDOW`]): a key needs as many
//!   cells as its largest burst of cold starts, within the `--stem-cells` bound shared by D'Hondt
//!   ([`Stem::targets`]). The default Node and Python keys (128 MB, host network) hold a standing vote,
//!   so a fresh server has cells of each (two, when `--stem-cells` allows: a second cold start right
//!   after the first must not wait for the refill). A key nobody asked for within the window loses its cells.
//! - Refilled by one background task, one cell at a time, never on the request path. Idle cells hold no
//!   memory-budget permit (the instance a cell becomes holds its function's). A cold start that finds
//!   no idle cell of its key while one is being started waits for that one rather than spawning.
//! - A cell serves one function, once: taking it moves it out of the pool, and the sandbox refuses a
//!   second bind. A cell that fails (died while idle, refused bind) is killed and the instance starts the
//!   normal way.
//! - Functions that set NODE_*, PYTHON* or LD_* variables (read by the interpreter at its start) or use
//!   layers (more trees than the code) keep the normal spawn, as does everything where the sandbox has no
//!   cells (`--sandbox off`, user-namespace mode).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ferric_sandbox::{BindMount, Layout, Network};
use tokio::io::AsyncWriteExt;
use tokio::sync::{oneshot, Notify};

use crate::clock::{Clock, Instant};
use crate::discovery::{is_custom, Interpreter, Runtimes};
use crate::instance::{boot, instance_limits, Booted, StartError};
use crate::launch::{self, Launch};
use crate::message::ToRuntime;
use crate::spawner::{ProcessSpec, Spawner};
use crate::{frame, FunctionVersion, Inner, InvokerConfig};

/// Cold starts older than this no longer size the pool.
pub(crate) const DEMAND_WINDOW: Duration = Duration::from_secs(60);
/// The refill task re-plans at least this often, so that old demand ages out.
const REPLAN_EVERY: Duration = Duration::from_secs(5);
/// Most cold starts remembered (a burst cannot grow the record without bound).
const MAX_DEMAND: usize = 1024;
/// After a cell of a key failed to start, that key is not refilled for this long.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Cold starts of one key this close together count as one burst, which needs a cell each.
const BURST: Duration = Duration::from_secs(1);
/// The memory size FC gives a function that names none; the default keys use it.
const DEFAULT_MEMORY_MB: u32 = 128;
/// A refill waits this long after a take while the key still has an idle cell, so that a new cell's
/// interpreter start (tens of ms of CPU) does not compete with the cold start that took one, on a machine
/// with few cores. With no idle cell left it starts at once.
const SETTLE: Duration = Duration::from_millis(25);
/// Cells a key in use (a default key, or one with a cold start in the window) needs at least: a refill
/// takes a whole interpreter start, so the cold start of a second function right after the first
/// finds the second cell rather than waiting for the refill.
const STANDING_NEED: usize = 2;

/// What a cell is started with; only a function started with exactly this may take it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CellKey {
    program: PathBuf,
    args: Vec<String>,
    launch_env: Vec<(String, String)>,
    memory_mb: u32,
    network: Network,
}

/// One idle cell: a runtime that has said `ready` and waits for `specialize`. Dropped unused, it is killed.
pub(crate) struct Cell(Option<Booted>);

impl Cell {
    /// Whether its process has ended while idle (polled without waiting).
    fn has_exited(&mut self) -> bool {
        let Some(booted) = self.0.as_mut() else { return true };
        let mut context = Context::from_waker(Waker::noop());
        matches!(booted.exit.as_mut().poll(&mut context), Poll::Ready(_))
    }
}

impl Drop for Cell {
    fn drop(&mut self) {
        if let Some(booted) = self.0.take() {
            booted.handle.kill();
        }
    }
}

#[derive(Default)]
struct State {
    idle: HashMap<CellKey, Vec<Cell>>,
    /// The key of the cell the refill task is starting, if any.
    starting: Option<CellKey>,
    /// Cold starts that could have used a cell, oldest first.
    demand: VecDeque<(Instant, CellKey)>,
    /// When a cell of a key last failed to start.
    failed: HashMap<CellKey, Instant>,
    /// A cold start waiting for the cell being started (`starting`'s key).
    waiter: Option<oneshot::Sender<Cell>>,
    /// When a cell was last taken (see [`SETTLE`]).
    last_take: Option<Instant>,
}

/// The server's stem cells.
pub(crate) struct Stem {
    /// Most idle (or starting) cells across all keys; 0 when cells are off or unsupported.
    limit: usize,
    /// Keys with a standing vote, in order of preference on a tie.
    defaults: Vec<CellKey>,
    state: Mutex<State>,
    wake: Arc<Notify>,
}

/// What the refill task does next.
struct Plan {
    /// Cells over their key's share, or dead: killed (by drop) outside the lock.
    surplus: Vec<Cell>,
    start: Option<CellKey>,
    /// Nothing to start yet: look again after this long (a settle after a take), unless woken.
    again_in: Option<Duration>,
}

impl Stem {
    pub fn new(config: &InvokerConfig, runtimes: &Runtimes, spawner: &dyn Spawner) -> Stem {
        let limit = if spawner.supports_cells() { config.stem_cells } else { 0 };
        let layout = spawner.layout(Path::new("/"), &config.runtimes_dir, &config.instances_dir, &[]);
        let mut defaults = Vec::new();
        for (runtime, interpreter) in [("nodejs", &runtimes.node), ("python3", &runtimes.python)] {
            let Some(interpreter) = interpreter else { continue };
            let template = template(runtime);
            let launch = launch::launch(config, &template, interpreter, &layout);
            defaults.extend(key_for(&template, interpreter, &launch));
        }
        Stem { limit, defaults, state: Mutex::new(State::default()), wake: Arc::new(Notify::new()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cell key a start of `version` would use, or `None` when it must start the normal way.
    pub fn key(&self, version: &FunctionVersion, interpreter: &Interpreter, launch: &Launch) -> Option<CellKey> {
        if self.limit == 0 {
            return None;
        }
        key_for(version, interpreter, launch)
    }

    /// A cold start of `key`: counts as demand, and takes an idle cell if there is one. If none is idle
    /// but one of this key is being started, waits for that one (at most `wait`): it began before this
    /// request, so it is ready sooner than a spawn begun now would be.
    pub async fn take(&self, key: &CellKey, clock: Clock, wait: Duration) -> Option<Cell> {
        let pending = {
            let mut state = self.state();
            if state.demand.len() >= MAX_DEMAND {
                state.demand.pop_front();
            }
            state.demand.push_back((clock.now(), key.clone()));
            match state.idle.get_mut(key).and_then(Vec::pop) {
                Some(cell) => {
                    state.last_take = Some(clock.now());
                    Err(cell)
                }
                None if state.starting.as_ref() == Some(key) && state.waiter.is_none() => {
                    let (tx, rx) = oneshot::channel();
                    state.waiter = Some(tx);
                    Ok(Some(rx))
                }
                None => Ok(None),
            }
        };
        self.wake.notify_one();
        match pending {
            Err(cell) => Some(cell),
            Ok(Some(rx)) => clock.timeout(wait, rx).await.ok()?.ok(),
            Ok(None) => None,
        }
    }

    /// Idle cells per key (for tests and diagnostics).
    #[cfg(test)]
    pub fn idle_counts(&self) -> Vec<(String, u32, usize)> {
        let name = |key: &CellKey| key.program.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let mut counts: Vec<(String, u32, usize)> =
            self.state().idle.iter().map(|(key, cells)| (name(key), key.memory_mb, cells.len())).collect();
        counts.sort();
        counts
    }

    /// How many cells each key should have. A key needs as many as its largest burst: the most cold
    /// starts it had within one [`BURST`] in the window (a refill takes about one cold start, so a
    /// burst larger than the key's cells waits), and at least [`STANDING_NEED`]; a default key has that need
    /// with no demand at all. When the
    /// needs exceed `limit`, each key gets one seat first (most cold starts first: a burst of one key
    /// must not take the only cell of another), then the rest go by D'Hondt over cold starts, never past
    /// a key's need. Seats nobody needs stay empty: an idle cell costs memory.
    fn targets(&self, demand: &VecDeque<(Instant, CellKey)>) -> Vec<(CellKey, usize)> {
        // (key, votes, need, seats, its cold starts), defaults first: the first of equal quotients wins.
        let mut table: Vec<(CellKey, usize, usize, usize, Vec<Instant>)> =
            self.defaults.iter().map(|k| (k.clone(), 1, STANDING_NEED, 0, Vec::new())).collect();
        for (at, key) in demand {
            match table.iter_mut().find(|row| &row.0 == key) {
                Some(row) => {
                    row.1 += 1;
                    row.4.push(*at);
                }
                None => table.push((key.clone(), 1, STANDING_NEED, 0, vec![*at])),
            }
        }
        for row in table.iter_mut() {
            row.2 = row.2.max(largest_burst(&row.4));
        }
        let mut order: Vec<usize> = (0..table.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(table[i].1));
        for &i in order.iter().take(self.limit) {
            table[i].3 = 1;
        }
        for _ in table.len().min(self.limit)..self.limit {
            let mut best: Option<usize> = None;
            for (i, row) in table.iter().enumerate().filter(|(_, row)| row.3 < row.2) {
                // votes / (seats + 1), compared without division.
                let better = best.is_none_or(|b| row.1 * (table[b].3 + 1) > table[b].1 * (row.3 + 1));
                if better {
                    best = Some(i);
                }
            }
            match best {
                Some(i) => table[i].3 += 1,
                None => break,
            }
        }
        table.into_iter().map(|row| (row.0, row.3)).collect()
    }

    fn plan(&self, now: Instant) -> Plan {
        let mut state = self.state();
        while state.demand.front().is_some_and(|(at, _)| now.duration_since(*at) >= DEMAND_WINDOW) {
            state.demand.pop_front();
        }
        let targets = self.targets(&state.demand);
        let target = |key: &CellKey| targets.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n);
        let mut surplus = Vec::new();
        for (key, cells) in state.idle.iter_mut() {
            let mut i = 0;
            while i < cells.len() {
                if cells[i].has_exited() {
                    surplus.push(cells.remove(i));
                } else {
                    i += 1;
                }
            }
            // Demand for this key has aged out entirely: its cells only cost memory.
            if target(key) == 0 {
                surplus.append(cells);
            }
        }
        state.idle.retain(|_, cells| !cells.is_empty());
        if state.starting.is_some() {
            return Plan { surplus, start: None, again_in: None };
        }
        let have = |state: &State, key: &CellKey| state.idle.get(key).map_or(0, Vec::len);
        let wanted = targets.iter().find(|(key, seats)| {
            have(&state, key) < *seats && state.failed.get(key).is_none_or(|at| now.duration_since(*at) >= RETRY_AFTER)
        });
        let Some((key, _)) = wanted.cloned() else { return Plan { surplus, start: None, again_in: None } };
        let since_take = state.last_take.map(|at| now.duration_since(at));
        if have(&state, &key) > 0 && since_take.is_some_and(|d| d < SETTLE) {
            let again_in = since_take.map(|d| SETTLE - d);
            return Plan { surplus, start: None, again_in };
        }
        let total: usize = state.idle.values().map(Vec::len).sum();
        if total >= self.limit {
            // Make room: one cell of a key holding more than its share.
            let over = state.idle.iter_mut().find(|(k, cells)| cells.len() > target(k)).map(|(_, cells)| cells);
            match over {
                Some(cells) => surplus.push(cells.remove(0)),
                None => return Plan { surplus, start: None, again_in: None },
            }
        }
        state.starting = Some(key.clone());
        Plan { surplus, start: Some(key), again_in: None }
    }

    fn started(&self, key: CellKey, cell: Result<Cell, StartError>, now: Instant) {
        let mut state = self.state();
        state.starting = None;
        let waiter = state.waiter.take();
        match cell {
            Ok(cell) => {
                // To the cold start waiting for it, unless it gave up meanwhile.
                let unclaimed = match waiter {
                    Some(waiter) => waiter.send(cell).err(),
                    None => Some(cell),
                };
                state.idle.entry(key).or_default().extend(unclaimed);
            }
            Err(e) => {
                tracing::warn!(error = %e, "a stem cell did not start");
                state.failed.insert(key, now);
            }
        }
    }
}

/// The most of `times` (in order) that fall within one [`BURST`].
fn largest_burst(times: &[Instant]) -> usize {
    let mut first = 0;
    let mut largest = 0;
    for (last, at) in times.iter().enumerate() {
        while at.duration_since(times[first]) >= BURST {
            first += 1;
        }
        largest = largest.max(last + 1 - first);
    }
    largest
}

/// Whether `version` may start from a cell, and with which key.
fn key_for(version: &FunctionVersion, interpreter: &Interpreter, launch: &Launch) -> Option<CellKey> {
    let spec = &version.spec;
    let generic =
        spec.runtime.starts_with("nodejs") || (spec.runtime.starts_with("python3") && !is_custom(&spec.runtime));
    let layers = spec.passthrough.get("layers").is_some_and(|l| l.as_array().is_none_or(|a| !a.is_empty()));
    let read_at_start = |name: &str| ["NODE_", "PYTHON", "LD_"].iter().any(|p| name.starts_with(p));
    if !generic || layers || spec.environment_variables.keys().any(|k| read_at_start(k)) {
        return None;
    }
    Some(CellKey {
        program: interpreter.path.clone(),
        args: launch.args.clone(),
        launch_env: launch.env.clone(),
        memory_mb: spec.memory_size,
        network: launch.network,
    })
}

/// A function with FC's defaults for `runtime`, to compute the default keys.
fn template(runtime: &str) -> FunctionVersion {
    FunctionVersion {
        key_cache: Default::default(),
        account_id: String::new(),
        service: String::new(),
        function: String::new(),
        qualifier: String::new(),
        spec: ferric_types::function::FunctionSpec {
            runtime: runtime.to_string(),
            memory_size: DEFAULT_MEMORY_MB,
            ..Default::default()
        },
        log_project: String::new(),
        log_store: String::new(),
        code_dir: PathBuf::new(),
        layer_dirs: Vec::new(),
        code_checksum: String::new(),
        internet_access: true,
    }
}

/// Turns a taken cell into `version`'s runtime: binds the code at `layout.code`, sends `specialize` with
/// `env`. `init` is the caller's, as for any instance. On failure the cell is killed.
pub(crate) async fn fill(
    mut cell: Cell,
    code_dir: &Path,
    layout: &Layout,
    env: &[(String, String)],
) -> Result<Booted, StartError> {
    if cell.has_exited() {
        return Err(StartError::NotReady("the stem cell exited while idle".into()));
    }
    let handle = cell.0.as_ref().map(|b| b.handle.clone()).ok_or_else(|| StartError::NotReady("empty cell".into()))?;
    handle.bind(vec![BindMount { host: code_dir.to_path_buf(), inside: layout.code.clone() }]).await?;
    let frame = frame::encode(&ToRuntime::Specialize { env }, b"").map_err(|e| StartError::NotReady(e.to_string()))?;
    let booted = cell.0.as_mut().ok_or_else(|| StartError::NotReady("empty cell".into()))?;
    booted.writer.write_all(&frame).await.map_err(|e| StartError::NotReady(format!("specialize: {e}")))?;
    // Past this point the instance owns the process.
    Ok(cell.0.take().expect("checked above"))
}

/// The generic start of a cell for `key`: the runtime's own environment, no function's.
fn cell_spec(config: &InvokerConfig, layout: &Layout, key: &CellKey, n: u64) -> ProcessSpec {
    let tmp = layout.tmp.display().to_string();
    let mut env: Vec<(String, String)> = vec![
        ("LANG".into(), "C.UTF-8".into()),
        ("FC_FUNC_CODE_PATH".into(), layout.code.display().to_string()),
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("HOME".into(), tmp.clone()),
        ("TMPDIR".into(), tmp),
        ("FERRIC_CONTROL_FD".into(), ferric_sandbox::CONTROL_FD.to_string()),
        // The runtime may load ahead what a function's first request would (specialize replaces the env).
        ("FERRIC_STEM_CELL".into(), "1".into()),
    ];
    env.extend(key.launch_env.iter().cloned());
    ProcessSpec {
        program: key.program.clone(),
        args: key.args.iter().map(Into::into).collect(),
        env: env.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        code_dir: config.runtimes_dir.clone(),
        runtime_dir: config.runtimes_dir.clone(),
        layer_dirs: Vec::new(),
        scratch_dir: config.instances_dir.join(format!("cell-{n}")),
        limits: instance_limits(config, key.memory_mb),
        network: key.network,
    }
}

/// Starts the refill task (nothing when cells are off).
pub(crate) fn start_refill(inner: &Arc<Inner>) {
    if inner.stem.limit > 0 {
        tokio::spawn(refill_forever(Arc::downgrade(inner), inner.stem.wake.clone(), inner.clock));
    }
}

/// Keeps the pool at its planned size, one cell at a time; holds the invoker only while it works.
async fn refill_forever(inner: Weak<Inner>, wake: Arc<Notify>, clock: Clock) {
    let mut started = 0u64;
    loop {
        let Some(inner) = inner.upgrade() else { return };
        let plan = inner.stem.plan(clock.now());
        drop(plan.surplus);
        let Some(key) = plan.start else {
            drop(inner);
            let _ = clock.timeout(plan.again_in.unwrap_or(REPLAN_EVERY), wake.notified()).await;
            continue;
        };
        started += 1;
        let layout = inner.spawner.layout(Path::new("/"), &inner.config.runtimes_dir, &inner.config.instances_dir, &[]);
        let spec = cell_spec(&inner.config, &layout, &key, started);
        let cell = match inner.spawner.spawn_cell(spec).await {
            Ok(spawned) => boot(spawned, inner.config.start_timeout, clock).await.map(|b| Cell(Some(b))),
            Err(e) => Err(e),
        };
        inner.stem.started(key, cell, clock.now());
    }
}
