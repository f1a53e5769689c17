//! The Java runtime's class-data-sharing archive, trained once per runtime jar and JDK.
//!
//! CDS accepts an archive only with the class path it was dumped with, and instances see the jar at the
//! sandbox's path, not the host's: so the training JVM is started through the spawner like an instance,
//! and since its `/tmp` is private, `ferric.runtime.Train` sends the dumped archive back as one `archive`
//! frame on the control socket. Training runs one at a time; a failure is remembered for the life of the
//! process (instances then start without an archive, as before) and logged with its reason.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use ferric_sandbox::{Limits, Network};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::clock::Clock;
use crate::discovery::Interpreter;
use crate::frame::FrameReader;
use crate::spawner::{ProcessSpec, Spawner};
use crate::InvokerConfig;

/// The training JVM's memory (its heap, metaspace and the dump's buffers).
pub(super) const TRAINING_MEMORY_MB: u32 = 512;
/// Bounds one training: a JVM start, four requests and a dump take 1–3 s on an idle machine.
const TRAINING_TIMEOUT: Duration = Duration::from_secs(60);
/// What is kept of the training JVM's stdout and stderr, for the failure's message.
const KEPT_OUTPUT: usize = 16 * 1024;

static TRAINING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static FAILED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// The archive of this runtime jar on `jdk`, trained first if it does not exist yet; None when training
/// failed (now or earlier in this process).
pub(crate) async fn ensure_archive(
    spawner: &dyn Spawner,
    config: &InvokerConfig,
    jdk: &Interpreter,
    clock: Clock,
) -> Option<PathBuf> {
    let archive = config.runtimes_dir.join(super::archive_name(jdk));
    let failed =
        |archive: &Path| FAILED.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|s| s.contains(archive));
    if archive.exists() {
        return Some(archive);
    }
    if failed(&archive) {
        return None;
    }
    let _one_at_a_time = TRAINING.lock().await;
    if archive.exists() {
        return Some(archive);
    }
    if failed(&archive) {
        return None;
    }
    let started = clock.now();
    let outcome = match clock.timeout(TRAINING_TIMEOUT, train(spawner, config, jdk)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("no archive within {TRAINING_TIMEOUT:?}")),
    };
    let placed = outcome.and_then(|bytes| {
        let staging = archive.with_extension(format!("jsa.{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&staging, &bytes)
            .and_then(|()| std::fs::rename(&staging, &archive))
            .map(|()| bytes.len())
            .map_err(|e| {
                let _ = std::fs::remove_file(&staging);
                format!("cannot write {}: {e}", archive.display())
            })
    });
    match placed {
        Ok(size) => {
            let took = clock.now() - started;
            tracing::info!(archive = %archive.display(), size, ?took, "trained the Java runtime's CDS archive");
            Some(archive)
        }
        Err(reason) => {
            tracing::warn!(%reason, "no CDS archive for the Java runtime: JVMs start without one");
            FAILED.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(HashSet::new).insert(archive);
            None
        }
    }
}

/// Runs the training JVM and returns the archive it sent.
async fn train(spawner: &dyn Spawner, config: &InvokerConfig, jdk: &Interpreter) -> Result<Vec<u8>, String> {
    let scratch = config.instances_dir.join(format!("java-training-{}", uuid::Uuid::new_v4().simple()));
    let code = config.runtimes_dir.join("java/training-code");
    std::fs::create_dir_all(&code).map_err(|e| format!("cannot create {}: {e}", code.display()))?;
    if spawner.needs_host_scratch() {
        std::fs::create_dir_all(&scratch).map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    }
    let layout = spawner.layout(&code, &config.runtimes_dir, &scratch, &[]);
    let jar = layout.runtime.join(super::jar_name()).display().to_string();
    let tmp = layout.tmp.display().to_string();
    let dump = layout.tmp.join("ferric-runtime.jsa").display().to_string();
    let env = [
        ("LANG", "C.UTF-8".to_string()),
        ("PATH", "/usr/bin:/bin".to_string()),
        ("HOME", tmp.clone()),
        ("TMPDIR", tmp),
        ("FERRIC_CONTROL_FD", ferric_sandbox::CONTROL_FD.to_string()),
    ];
    let spawned = spawner
        .spawn(ProcessSpec {
            program: jdk.path.clone(),
            args: super::training_args(&jar, &dump).into_iter().map(Into::into).collect(),
            env: env.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            code_dir: code,
            layer_dirs: Vec::new(),
            runtime_dir: config.runtimes_dir.clone(),
            scratch_dir: scratch.clone(),
            limits: Limits {
                memory_mb: TRAINING_MEMORY_MB,
                pids: config.max_processes,
                open_files: 4096,
                tmp_mb: config.tmp_size_mb.max(128),
            },
            network: Network::Isolated,
        })
        .await;
    let mut spawned = match spawned {
        Ok(spawned) => spawned,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(format!("cannot start the training JVM: {e}"));
        }
    };
    let outputs: Vec<_> =
        [spawned.stdout.take(), spawned.stderr.take()].into_iter().flatten().map(keep_output).collect();
    let mut reader = FrameReader::new(spawned.control.0);
    let received = loop {
        match reader.next_as::<serde_json::Value>().await {
            Ok((header, body)) if header["type"] == "archive" => break Ok(body.to_vec()),
            Ok(_) => continue,
            Err(e) => break Err(e.to_string()),
        }
    };
    // The JVM halts once it has sent the archive; a failed one is stopped here.
    spawned.handle.kill();
    let exit = spawned.exit.await;
    let _ = std::fs::remove_dir_all(&scratch);
    match received {
        Ok(archive) if !archive.is_empty() => Ok(archive),
        Ok(_) => Err("the training JVM sent an empty archive".into()),
        Err(e) => {
            let mut said = Vec::new();
            for output in outputs {
                said.push(output.await.unwrap_or_default());
            }
            Err(format!("training JVM ({}, exit {}): {e}; {}", jdk.path.display(), exit.code, said.join(" | ").trim()))
        }
    }
}

/// Reads a stream to its end, keeping its last [`KEPT_OUTPUT`] bytes.
fn keep_output(mut stream: Box<dyn AsyncRead + Send + Unpin>) -> tokio::task::JoinHandle<String> {
    tokio::spawn(async move {
        let (mut kept, mut chunk) = (Vec::new(), vec![0u8; 8192]);
        while let Ok(n) = stream.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&chunk[..n]);
            if kept.len() > KEPT_OUTPUT {
                kept.drain(..kept.len() - KEPT_OUTPUT);
            }
        }
        String::from_utf8_lossy(&kept).into_owned()
    })
}
