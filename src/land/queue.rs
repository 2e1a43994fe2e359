//! The merge queue: one landing at a time, under the exclusive lock on
//! `merge.lock`; `landing` names the holder for those who wait.

use std::fs;
use std::io::ErrorKind;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use super::error::LandError;
use super::Progress;
use crate::state::Store;

// ---------------------------------------------------------------------------
// Step 1: the merge lock.

/// Runs `f` holding the merge queue's lock, polling while another finish holds it.
pub(super) fn with_merge_lock<T>(
    store: &Store,
    id: &str,
    wait: Option<Duration>,
    progress: &dyn Fn(Progress<'_>),
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let path = store.dir().join("merge.lock");
    let file = store.open_sidecar(&path)?;
    let mut lock = fd_lock::RwLock::new(file);
    let holder_path = store.dir().join("landing");
    let started = Instant::now();
    let mut told: Option<Option<String>> = None;
    let mut pause = Duration::from_millis(5);
    loop {
        match lock.try_write() {
            Ok(_guard) => {
                // Best effort: only read by someone waiting, to say who is landing.
                let _ = fs::write(&holder_path, format!("{id} {}\n", std::process::id()));
                let result = f();
                let _ = fs::write(&holder_path, "");
                return result;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let holder = fs::read_to_string(&holder_path)
                    .ok()
                    .and_then(|s| s.split_whitespace().next().map(str::to_string));
                if told.as_ref() != Some(&holder) {
                    progress(Progress::Waiting { holder: holder.as_deref() });
                    told = Some(holder.clone());
                }
                if let Some(limit) = wait {
                    if started.elapsed() >= limit {
                        return Err(LandError::QueueBusy { id: id.to_string(), waited: limit, holder }.into());
                    }
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e).with_context(|| format!("locking {}", path.display())),
        }
    }
}

/// Which task a live `git par finish` is landing right now (it holds the
/// merge queue), if any; `doctor` when a repair holds it.
pub fn landing_now(store: &Store) -> Result<Option<String>> {
    live_holder(store)
}

/// Which task holds the merge lock right now, if any.
pub(super) fn live_holder(store: &Store) -> Result<Option<String>> {
    let path = store.dir().join("merge.lock");
    if !path.exists() {
        return Ok(None);
    }
    let file = store.open_sidecar(&path)?;
    let mut lock = fd_lock::RwLock::new(file);
    let busy = match lock.try_write() {
        Ok(_guard) => false,
        Err(e) if e.kind() == ErrorKind::WouldBlock => true,
        Err(e) => return Err(e).with_context(|| format!("locking {}", path.display())),
    };
    if !busy {
        return Ok(None);
    }
    Ok(fs::read_to_string(store.dir().join("landing"))
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string)))
}
