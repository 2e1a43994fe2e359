//! File locks: the one way git-par takes its own locks (the state, the
//! worktrees, the main worktree's files while a landing rewrites them, the
//! merge queue) and the files it appends to under a lock (`info/exclude`,
//! the blockers file). cargo's `util/flock.rs` is the model: try the lock;
//! when someone holds it, say what is being waited for, then wait; every
//! error names the file.
//!
//! Invariants:
//! - A lock is an `flock`-style advisory lock on an open file, released when
//!   the function that took it returns (or the process dies: the kernel lets
//!   go of it). A lock file is never deleted: two processes locking two
//!   different inodes of one name would both think they hold it.
//! - The library never prints: what a wait is for goes to the caller's
//!   `busy` callback, which may also give up with an error of its own.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

/// Who else may hold the lock at the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Readers: any number of them, and no writer.
    Shared,
    /// A writer: no one else.
    Exclusive,
}

/// How to wait for a lock someone else holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Block until it is free (the kernel wakes us).
    Block,
    /// Try again after a pause (5 ms, doubling up to 50 ms), calling `busy`
    /// each time: for a caller that gives up after a while.
    Poll,
}

/// What a process waits for, as the `busy` callback of [`acquire`] is told:
/// the lock file, what it guards, and how long this has waited so far.
#[derive(Debug, Clone, Copy)]
pub struct Waiting<'a> {
    pub path: &'a Path,
    /// What the lock guards, for a person ("the state", "the merge queue").
    pub what: &'a str,
    pub waited: Duration,
}

impl std::fmt::Display for Waiting<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "waiting for the lock on {} ({}), which another process holds",
            self.what,
            self.path.display()
        )
    }
}

/// Opens (creating it if needed, never truncating it) the lock file at `path`.
pub fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// Runs `f` holding the lock on the file at `path` (created if missing).
/// When someone else holds it, `busy` is told how long this has waited so
/// far: to say what it waits for, or to give up by
/// returning an error. Then it waits as `wait` says.
pub fn with<T>(
    path: &Path,
    mode: Mode,
    wait: Wait,
    busy: &mut dyn FnMut(Duration) -> Result<()>,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    with_file(open(path)?, path, mode, wait, busy, |_| f())
}

/// [`with`] on a file already open (`path` names it in errors), for a lock
/// on the very file `f` reads and writes, or one opened read-only.
pub fn with_file<T>(
    file: File,
    path: &Path,
    mode: Mode,
    wait: Wait,
    busy: &mut dyn FnMut(Duration) -> Result<()>,
    f: impl FnOnce(&File) -> Result<T>,
) -> Result<T> {
    let what = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    acquire(file, path, &what, mode, wait, &mut |waiting: &Waiting<'_>| busy(waiting.waited), f)
}

/// The lock helper itself (cargo's `flock.rs` `acquire` is the model): runs
/// `f` holding the lock on `file` (at `path`, which guards `what`). When
/// someone else holds it, `busy` is told what is waited for and for how
/// long so far — to say so, or to give up by returning an error — and then
/// it waits as `wait` says.
pub fn acquire<T>(
    file: File,
    path: &Path,
    what: &str,
    mode: Mode,
    wait: Wait,
    busy: &mut dyn FnMut(&Waiting<'_>) -> Result<()>,
    f: impl FnOnce(&File) -> Result<T>,
) -> Result<T> {
    let mut lock = fd_lock::RwLock::new(file);
    let started = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        // The guard lives only inside its arm: `f` runs there, holding it.
        let held = match mode {
            Mode::Exclusive => match lock.try_write() {
                Ok(guard) => return f(&guard),
                Err(e) => e,
            },
            Mode::Shared => match lock.try_read() {
                Ok(guard) => return f(&guard),
                Err(e) => e,
            },
        };
        if held.kind() != ErrorKind::WouldBlock {
            return Err(held).with_context(|| format!("locking {}", path.display()));
        }
        busy(&Waiting { path, what, waited: started.elapsed() })?;
        match wait {
            Wait::Block => break,
            Wait::Poll => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        }
    }
    match mode {
        Mode::Exclusive => {
            let guard = lock.write().with_context(|| format!("locking {}", path.display()))?;
            f(&guard)
        }
        Mode::Shared => {
            let guard = lock.read().with_context(|| format!("locking {}", path.display()))?;
            f(&guard)
        }
    }
}

/// Runs `f` holding the lock at `path` if no one else holds it right now;
/// `None` (and `f` not run) when someone does.
pub fn try_with<T>(path: &Path, mode: Mode, f: impl FnOnce() -> Result<T>) -> Result<Option<T>> {
    let mut lock = fd_lock::RwLock::new(open(path)?);
    let held = match mode {
        Mode::Exclusive => match lock.try_write() {
            Ok(_guard) => return f().map(Some),
            Err(e) => e,
        },
        Mode::Shared => match lock.try_read() {
            Ok(_guard) => return f().map(Some),
            Err(e) => e,
        },
    };
    if held.kind() == ErrorKind::WouldBlock {
        return Ok(None);
    }
    Err(held).with_context(|| format!("locking {}", path.display()))
}

/// Waiting without a word, for the callers that have nothing to say.
pub fn quietly(_: Duration) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_waited_for_or_given_up() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        with(&path, Mode::Exclusive, Wait::Block, &mut quietly, || {
            // Someone else (another open file description) finds it held.
            assert_eq!(try_with(&path, Mode::Exclusive, || Ok(())).unwrap(), None);
            assert_eq!(try_with(&path, Mode::Shared, || Ok(())).unwrap(), None);
            let mut told = Vec::new();
            let err = with(
                &path,
                Mode::Exclusive,
                Wait::Poll,
                &mut |waited| {
                    told.push(waited);
                    if waited >= Duration::from_millis(20) {
                        anyhow::bail!("gave up")
                    }
                    Ok(())
                },
                || Ok(()),
            )
            .unwrap_err();
            assert_eq!(err.to_string(), "gave up");
            assert!(told.len() >= 2 && told.windows(2).all(|w| w[0] < w[1]), "{told:?}");
            Ok(())
        })
        .unwrap();
        assert_eq!(try_with(&path, Mode::Exclusive, || Ok(7)).unwrap(), Some(7));
        // Readers share it.
        with(&path, Mode::Shared, Wait::Block, &mut quietly, || {
            assert_eq!(try_with(&path, Mode::Shared, || Ok(1)).unwrap(), Some(1));
            assert_eq!(try_with(&path, Mode::Exclusive, || Ok(1)).unwrap(), None);
            Ok(())
        })
        .unwrap();
        assert!(path.exists(), "a lock file is never deleted");
    }

    #[test]
    fn a_wait_says_what_it_waits_for() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("state.lock");
        with(&path, Mode::Exclusive, Wait::Block, &mut quietly, || {
            let mut told = Vec::new();
            let err = acquire(
                open(&path)?,
                &path,
                "the state",
                Mode::Shared,
                Wait::Poll,
                &mut |waiting| {
                    told.push(waiting.to_string());
                    anyhow::bail!("gave up after {:?}", waiting.waited)
                },
                |_| Ok(()),
            )
            .unwrap_err();
            assert!(err.to_string().starts_with("gave up after"), "{err}");
            assert_eq!(
                told,
                [format!(
                    "waiting for the lock on the state ({}), which another process holds",
                    path.display()
                )]
            );
            Ok(())
        })
        .unwrap();
    }
}
