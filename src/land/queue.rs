//! The merge queue: one landing at a time, under the exclusive lock on
//! `merge.lock`; `landing` names the holder for those who wait.

use std::fs;
use std::time::Duration;

use anyhow::Result;

use super::error::LandError;
use super::Progress;
use crate::flock::{self, Mode, Wait};
use crate::state::{Lock, ParDir};

/// Runs `f` holding the merge queue's lock (as `id`), polling while another
/// finish holds it: saying who once per holder, giving up after `wait`.
pub(super) fn with_merge_lock<T>(
    par: &ParDir,
    id: &str,
    wait: Option<Duration>,
    progress: &dyn Fn(Progress<'_>),
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    par.create()?;
    let holder_path = par.landing_file();
    let mut told: Option<Option<String>> = None;
    let mut busy = |waited: Duration| {
        let holder = holder(par);
        if told.as_ref() != Some(&holder) {
            progress(Progress::Waiting { holder: holder.as_deref() });
            told = Some(holder.clone());
        }
        match wait {
            Some(limit) if waited >= limit => {
                Err(LandError::QueueBusy { id: id.to_string(), waited: limit, holder }.into())
            }
            _ => Ok(()),
        }
    };
    flock::with(&par.lock_file(Lock::Merge), Mode::Exclusive, Wait::Poll, &mut busy, || {
        // Best effort: only read by someone waiting, to say who is landing.
        let _ = fs::write(&holder_path, format!("{id} {}\n", std::process::id()));
        let result = f();
        let _ = fs::write(&holder_path, "");
        result
    })
}

/// Which task a live `git par finish` is landing right now (it holds the
/// merge queue), if any; `doctor` when a repair holds it.
pub fn landing_now(par: &ParDir) -> Result<Option<String>> {
    live_holder(par)
}

/// Which task holds the merge lock right now, if any.
pub(super) fn live_holder(par: &ParDir) -> Result<Option<String>> {
    if !par.lock_file(Lock::Merge).exists() {
        return Ok(None);
    }
    match par.try_lock(Lock::Merge, || Ok(()))? {
        Some(()) => Ok(None),
        None => Ok(holder(par)),
    }
}

/// The task the `landing` file names.
fn holder(par: &ParDir) -> Option<String> {
    fs::read_to_string(par.landing_file()).ok().and_then(|s| s.split_whitespace().next().map(str::to_string))
}
