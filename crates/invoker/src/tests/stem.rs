//! Stem cells through the real invoker over the fake spawner, clock paused: the pool fills itself off the
//! request path, a cold start takes a cell and binds only its own code into it, a cell serves one
//! function once, the pool stays within `--stem-cells` and follows recent demand, and everything starts
//! the normal way where cells are off, unsupported or unsafe for the function.

use std::sync::atomic::Ordering;

use super::*;
use std::path::Path;

const MS: Duration = Duration::from_millis(1);

fn node_and_python() -> Runtimes {
    Runtimes {
        node: Some(Interpreter { path: "/fake/bin/node".into(), version: "v20.0.0".into() }),
        python: Some(Interpreter { path: "/fake/bin/python3".into(), version: "3.11.2".into() }),
        php: None,
        java: None,
    }
}

/// An invoker with `cells` stem cells over a fake that offers them and takes 50 ms to start a runtime.
fn with_cells(cells: usize, runtimes: Runtimes) -> Harness {
    let mut config = config();
    config.stem_cells = cells;
    let fake = Arc::new(FakeSpawner::default());
    fake.cells.store(true, Ordering::Relaxed);
    fake.start_delay_ms.store(50, Ordering::Relaxed);
    let invoker = Invoker::with_spawner(config, runtimes, fake.clone(), Clock);
    Harness { invoker, fake }
}

impl Harness {
    /// Idle cells as (program, memory size, count).
    fn idle_cells(&self) -> Vec<(String, u32, usize)> {
        self.invoker.inner.stem.idle_counts()
    }

    /// Instances started the normal way (not as cells).
    fn normal_spawns(&self) -> usize {
        let record = self.fake.record();
        record.spawns.len() - record.cells.len()
    }
}

#[tokio::test(start_paused = true)]
async fn a_fresh_invoker_starts_one_cell_per_default_runtime_off_the_request_path() {
    let h = with_cells(2, node_and_python());
    tokio::time::sleep(500 * MS).await;
    let record = h.fake.record();
    assert_eq!(record.cells.len(), 2, "one Node and one Python cell");
    let programs: Vec<String> = record.spawns.iter().map(|s| s.program.display().to_string()).collect();
    assert_eq!(programs, ["/fake/bin/node", "/fake/bin/python3"]);
    for spawn in &record.spawns {
        assert_eq!(spawn.limits.memory_mb, 128);
        let names: Vec<String> = spawn.env.iter().map(|(k, _)| k.to_string_lossy().into_owned()).collect();
        assert!(!names.iter().any(|n| n.starts_with("FC_FUNCTION") || n == "FC_INSTANCE_ID"), "{names:?}");
    }
    drop(record);
    assert_eq!(h.idle_cells(), [("node".to_string(), 128, 1), ("python3".to_string(), 128, 1)]);
    // Idle cells hold none of the memory budget.
    assert_eq!(h.invoker.inner.memory.available_permits(), 1024);
}

#[tokio::test(start_paused = true)]
async fn a_cold_start_takes_a_cell_and_binds_only_its_own_code() {
    let h = with_cells(2, node_and_python());
    tokio::time::sleep(500 * MS).await;
    let f = function("f", "c1", |s| {
        s.environment_variables.insert("GREETING".into(), "hello".into());
    });
    let started = tokio::time::Instant::now();
    let first = h.answer(&f, "env GREETING").await;
    assert_eq!(text(&first), "hello");
    assert!(started.elapsed() < 50 * MS, "the 50 ms runtime start was paid ahead: {:?}", started.elapsed());
    assert!(first.init_duration.is_some(), "still a cold start for the function");
    assert_eq!(h.normal_spawns(), 0);

    {
        let record = h.fake.record();
        assert_eq!(record.binds.len(), 1);
        let (cell, mounts) = &record.binds[0];
        assert!(record.cells.contains(cell));
        assert_eq!(mounts.len(), 1, "the code and nothing else");
        assert_eq!((mounts[0].host.as_path(), mounts[0].inside.as_path()), (Path::new("/code/c1"), Path::new("/code")));
        assert_eq!(record.types(*cell), ["specialize", "init", "invoke"]);
        let specialize = &record.received.iter().find(|(n, _)| n == cell).expect("specialize").1;
        assert_eq!(specialize["env"]["FC_FUNCTION_NAME"], "f");
        assert_eq!(specialize["env"]["FC_FUNCTION_HANDLER"], "index.handler");
    }
    assert_eq!(text(&h.answer(&f, "code").await), "/code/c1");
}

#[tokio::test(start_paused = true)]
async fn each_function_gets_a_cell_of_its_own_and_a_cell_is_never_reused() {
    let h = with_cells(2, node_and_python());
    tokio::time::sleep(500 * MS).await;
    let f = function("f", "c1", |s| {
        s.environment_variables.insert("WHO".into(), "f".into());
    });
    let g = function("g", "c2", |s| {
        s.environment_variables.insert("WHO".into(), "g".into());
    });
    assert_eq!(text(&h.answer(&f, "env WHO").await), "f");
    // The pool refills right after the first take, so the second function finds a cell too.
    tokio::time::sleep(200 * MS).await;
    assert_eq!(text(&h.answer(&g, "env WHO").await), "g");
    assert_eq!(text(&h.answer(&g, "code").await), "/code/c2");
    assert_eq!(text(&h.answer(&f, "code").await), "/code/c1");

    // f's instance dies; its next start takes a fresh cell, never the old process.
    h.answer(&f, "exit").await;
    tokio::time::sleep(200 * MS).await;
    assert_eq!(text(&h.answer(&f, "env WHO").await), "f");
    let record = h.fake.record();
    let cells: Vec<usize> = record.binds.iter().map(|(n, _)| *n).collect();
    assert_eq!(cells.len(), 3);
    let mut unique = cells.clone();
    unique.dedup();
    assert_eq!(unique, cells, "three binds, three different cells");
    assert_eq!(record.refused_binds, 0);
    drop(record);
    assert_eq!(h.normal_spawns(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_pool_stays_within_its_bound_and_follows_recent_demand() {
    let runtimes = Runtimes { python: None, ..node_and_python() };
    let h = with_cells(3, runtimes);
    tokio::time::sleep(500 * MS).await;
    assert_eq!(h.idle_cells(), [("node".to_string(), 128, 2)], "a default key needs two cells");

    // A burst of three 256 MB cold starts within a second: that key needs three, the default keeps its
    // seat, so the bound leaves two.
    for i in 0..3 {
        let f = function(&format!("big{i}"), &format!("b{i}"), |s| s.memory_size = 256);
        h.answer(&f, "ok").await;
        tokio::time::sleep(200 * MS).await;
        let total: usize = h.idle_cells().iter().map(|(_, _, n)| n).sum();
        assert!(total <= 3, "{:?}", h.idle_cells());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(h.idle_cells(), [("node".to_string(), 128, 1), ("node".to_string(), 256, 2)]);
    {
        let record = h.fake.record();
        let alive_cells = record.cells.iter().filter(|n| !record.exited.contains(n)).count();
        // Three idle cells and the instances that came from cells.
        assert_eq!(alive_cells, 3 + record.binds.len(), "surplus cells were killed");
    }

    // A minute without demand: the 256 MB cells go, the default key gets its seats back.
    tokio::time::sleep(stem_window() + Duration::from_secs(10)).await;
    assert_eq!(h.idle_cells(), [("node".to_string(), 128, 2)]);
}

fn stem_window() -> Duration {
    crate::stem::DEMAND_WINDOW
}

#[tokio::test(start_paused = true)]
async fn a_cold_start_right_after_another_waits_for_the_cell_being_refilled() {
    let runtimes = Runtimes { python: None, ..node_and_python() };
    let h = with_cells(1, runtimes);
    tokio::time::sleep(500 * MS).await;
    h.answer(&function("f", "c1", |_| {}), "ok").await;
    // The refill began when f took the cell; g arrives 10 ms later and takes that one when it is ready,
    // before a spawn of its own (50 ms) would be.
    tokio::time::sleep(10 * MS).await;
    let started = tokio::time::Instant::now();
    assert_eq!(text(&h.answer(&function("g", "c2", |_| {}), "code").await), "/code/c2");
    assert!(started.elapsed() < 45 * MS, "{:?}", started.elapsed());
    assert_eq!(h.normal_spawns(), 0);
    assert_eq!(h.fake.record().binds.len(), 2);
}

/// Cold starts of new Node functions, one right after the other.
async fn burst(h: &Harness, tag: &str, names: &[&str]) {
    for name in names {
        let name = format!("{name}{tag}");
        h.answer(&function(&name, &name, |_| {}), "ok").await;
    }
}

/// Two cold starts of two new Node functions, one right after the other.
async fn pair(h: &Harness, tag: &str) {
    burst(h, tag, &["f", "g"]).await;
}

#[tokio::test(start_paused = true)]
async fn a_second_cold_start_right_after_the_first_finds_a_cell() {
    let h = with_cells(4, node_and_python());
    tokio::time::sleep(500 * MS).await;
    assert_eq!(h.idle_cells(), [("node".to_string(), 128, 2), ("python3".to_string(), 128, 2)]);
    let started = tokio::time::Instant::now();
    pair(&h, "1").await;
    assert!(started.elapsed() < 50 * MS, "neither waited for a refill: {:?}", started.elapsed());
    assert_eq!(h.normal_spawns(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_burst_is_met_by_as_many_cells_next_time() {
    let h = with_cells(4, node_and_python());
    tokio::time::sleep(500 * MS).await;
    // The first burst of three finds two cells; the third waits for the refill.
    burst(&h, "1", &["f", "g", "h"]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.idle_cells(), [("node".to_string(), 128, 3), ("python3".to_string(), 128, 1)]);
    let started = tokio::time::Instant::now();
    burst(&h, "2", &["f", "g", "h"]).await;
    assert!(started.elapsed() < 50 * MS, "all took idle cells, none waited for a start: {:?}", started.elapsed());
    let binds = h.fake.record().binds.len();
    assert_eq!(binds, 6);
    assert_eq!(h.normal_spawns(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_one_runtime_leaves_the_other_its_cell() {
    let h = with_cells(2, node_and_python());
    tokio::time::sleep(500 * MS).await;
    for i in 0..4 {
        h.answer(&function(&format!("n{i}"), &format!("c{i}"), |_| {}), "ok").await;
        tokio::time::sleep(300 * MS).await;
    }
    assert_eq!(h.idle_cells(), [("node".to_string(), 128, 1), ("python3".to_string(), 128, 1)]);
    assert_eq!(h.normal_spawns(), 0, "every Node start found a refilled cell");
}

#[tokio::test(start_paused = true)]
async fn functions_that_cannot_use_a_cell_start_the_normal_way() {
    let h = with_cells(2, node_and_python());
    tokio::time::sleep(500 * MS).await;
    let node_options = function("n", "c1", |s| {
        s.environment_variables.insert("NODE_OPTIONS".into(), "--max-old-space-size=64".into());
    });
    let layers = function("l", "c2", |s| {
        s.passthrough.insert("layers".into(), serde_json::json!(["acs:fc:local:1:layers/x/versions/1"]));
    });
    let ld = function("d", "c3", |s| {
        s.environment_variables.insert("LD_PRELOAD".into(), "/tmp/x.so".into());
    });
    for f in [&node_options, &layers, &ld] {
        assert_eq!(text(&h.answer(f, "code").await), f.code_dir.display().to_string());
    }
    assert_eq!(h.normal_spawns(), 3);
    assert!(h.fake.record().binds.is_empty());
    assert_eq!(
        h.idle_cells(),
        [("node".to_string(), 128, 1), ("python3".to_string(), 128, 1)],
        "and they took no cell"
    );
}

#[tokio::test(start_paused = true)]
async fn without_cell_support_or_with_zero_cells_nothing_changes() {
    // The sandbox offers no cells (`--sandbox off`, user-namespace mode).
    let mut config = config();
    config.stem_cells = 2;
    let h = harness_with(config, node_and_python());
    tokio::time::sleep(500 * MS).await;
    let f = function("f", "c1", |_| {});
    assert_eq!(text(&h.answer(&f, "code").await), "/code/c1");
    assert!(h.fake.record().cells.is_empty());
    assert_eq!(h.normal_spawns(), 1);

    // Cells offered, but `--stem-cells 0`.
    let h = with_cells(0, node_and_python());
    tokio::time::sleep(500 * MS).await;
    assert_eq!(text(&h.answer(&f, "code").await), "/code/c1");
    assert!(h.fake.record().cells.is_empty());
}

#[tokio::test(start_paused = true)]
async fn alternating_pairs_of_two_runtimes_find_cells_after_the_first_round() {
    let h = with_cells(4, node_and_python());
    h.fake.start_delay_ms.store(130, Ordering::Relaxed);
    tokio::time::sleep(1500 * MS).await;
    for round in 0..3 {
        for runtime in ["nodejs20", "python3.11"] {
            tokio::time::sleep(3000 * MS).await;
            for name in ["f", "g"] {
                let name = format!("{name}{round}{runtime}");
                let started = tokio::time::Instant::now();
                h.answer(&function(&name, &name, |s| s.runtime = runtime.into()), "ok").await;
                // Round 0's second waits for a refill; from then on each key keeps two cells.
                if round > 0 || name.starts_with('f') {
                    assert!(started.elapsed() < 130 * MS, "{name}: {:?}", started.elapsed());
                }
            }
        }
    }
    assert_eq!(h.normal_spawns(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_refill_lets_the_cold_start_that_took_a_cell_settle_first() {
    let h = with_cells(4, node_and_python());
    tokio::time::sleep(500 * MS).await;
    let spawned = h.fake.record().cells.len();
    h.answer(&function("f", "c1", |_| {}), "ok").await;
    // Another Node cell is idle: the new one waits, so its start does not compete for the CPU.
    tokio::time::sleep(10 * MS).await;
    assert_eq!(h.fake.record().cells.len(), spawned, "no cell started while the cold start settles");
    tokio::time::sleep(200 * MS).await;
    assert_eq!(h.fake.record().cells.len(), spawned + 1);
    assert_eq!(h.idle_cells(), [("node".to_string(), 128, 2), ("python3".to_string(), 128, 2)]);
}
