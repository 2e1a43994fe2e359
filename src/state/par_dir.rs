//! `.git/par`: the directory git-par keeps its own files in, in the common
//! git directory (every worktree shares it). [`ParDir`] owns every name in
//! it; nothing else joins a file name onto the directory. A new file (the
//! fetched copy of a remote state, say) is a new method here.
//!
//! Layout:
//! - `state.json` (and `state.json.tmp.<pid>` while it is rewritten),
//!   `events.jsonl`: the local state backend's ([`super::local`]);
//! - `state.locks` (and `state.locks.tmp.<pid>`): the lock index of
//!   `state.json` that the hook reads ([`super::lock_index`]);
//! - `state.lock`, `worktrees.lock`, `sync.lock`, `merge.lock`, `remote.lock`: lock files
//!   ([`Lock`]), never deleted;
//! - `landing`: who holds the merge queue, for those who wait;
//! - `journal/<ID>.<kind>` (and `journal/.<ID>.<kind>.tmp` while it is
//!   written): operations in progress ([`crate::journal`]);
//! - `remote` (the name of the remote whose state this repository uses) and
//!   `remote-state.json` (its last fetched copy, which the hook reads) with
//!   its lock index `remote-state.locks`: remote mode's ([`super::remote`]);
//! - `verify/<ID>.out`: a running `--verify`'s output; `tmux/<ID>.txt`: pane banners.
//! - `verify/<ID>.out`: a running `--verify`'s output; `tmux/<ID>.txt`: pane banners;
//! - `up.lock`: held by the one `git par up` of the repository; `up/<ID>.json`,
//!   `up/<ID>.exit`, `up/<ID>.env`: its record of each task's agent ([`crate::up`]).

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::flock::{self, Mode, Wait};

/// git-par's lock files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Every read-modify-write of the state.
    State,
    /// Adding, removing and pruning worktrees (taken before the state lock, never after).
    Worktrees,
    /// The main worktree's files while a landing rewrites them (readers of
    /// its tasks.md hold it shared).
    Sync,
    /// The merge queue: one landing at a time.
    Merge,
    /// Remote mode: the fetched refs (`refs/par/remote/*`, the main branch's
    /// remote-tracking ref) and the copy of the state the hook reads, which
    /// one process at a time fetches or updates.
    Remote,
    /// `git par up`: one run at a time.
    Up,
}

impl Lock {
    /// What the lock guards, as a wait for it is described.
    pub fn what(self) -> &'static str {
        match self {
            Lock::State => "the state",
            Lock::Worktrees => "the task worktrees",
            Lock::Sync => "the main worktree's files",
            Lock::Merge => "the merge queue",
            Lock::Remote => "the fetched copy of the remote state",
            Lock::Up => "the run of `git par up`",
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Lock::State => "state.lock",
            Lock::Worktrees => "worktrees.lock",
            Lock::Sync => "sync.lock",
            Lock::Merge => "merge.lock",
            Lock::Remote => "remote.lock",
            Lock::Up => "up.lock",
        }
    }
}

/// The `.git/par` directory of one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParDir {
    dir: PathBuf,
}

impl ParDir {
    /// The directory `dir` (normally `<common git dir>/par`); nothing is
    /// created until something is written.
    pub fn new(dir: impl Into<PathBuf>) -> ParDir {
        ParDir { dir: dir.into() }
    }

    /// The `par` directory of the repository whose common git directory is `common_dir`.
    pub fn in_git_dir(common_dir: &Path) -> ParDir {
        ParDir::new(common_dir.join("par"))
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Creates the directory if it is not there.
    pub fn create(&self) -> Result<()> {
        fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))
    }

    /// `state.json`.
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Where this process writes the next `state.json` before renaming it into place.
    pub fn state_temp(&self) -> PathBuf {
        self.dir.join(format!("state.json.tmp.{}", std::process::id()))
    }

    /// `state.locks`: the lock index of `state.json`.
    pub fn state_index(&self) -> PathBuf {
        self.dir.join("state.locks")
    }

    /// Where this process writes the next `state.locks`.
    pub fn state_index_temp(&self) -> PathBuf {
        self.dir.join(format!("state.locks.tmp.{}", std::process::id()))
    }

    /// Whether `name` (a file in the directory) is a temporary `state.json`
    /// or lock index.
    pub fn is_state_temp(name: &str) -> bool {
        ["state.json.tmp.", "remote-state.json.tmp.", "state.locks.tmp.", "remote-state.locks.tmp."]
            .iter()
            .any(|prefix| name.starts_with(prefix))
    }

    /// `events.jsonl`.
    pub fn events_file(&self) -> PathBuf {
        self.dir.join("events.jsonl")
    }

    /// `remote`: the remote whose `refs/par/state` holds the state, in remote mode.
    pub fn remote_marker(&self) -> PathBuf {
        self.dir.join("remote")
    }

    /// `remote-state.json`: the last fetched copy of the remote's state.
    pub fn remote_copy(&self) -> PathBuf {
        self.dir.join("remote-state.json")
    }

    /// Where this process writes the next `remote-state.json`.
    pub fn remote_copy_temp(&self) -> PathBuf {
        self.dir.join(format!("remote-state.json.tmp.{}", std::process::id()))
    }

    /// `remote-state.locks`: the lock index of `remote-state.json`.
    pub fn remote_index(&self) -> PathBuf {
        self.dir.join("remote-state.locks")
    }

    /// Where this process writes the next `remote-state.locks`.
    pub fn remote_index_temp(&self) -> PathBuf {
        self.dir.join(format!("remote-state.locks.tmp.{}", std::process::id()))
    }

    /// `landing`: the task (and pid) holding the merge queue.
    pub fn landing_file(&self) -> PathBuf {
        self.dir.join("landing")
    }

    /// `journal/`.
    pub fn journal_dir(&self) -> PathBuf {
        self.dir.join("journal")
    }

    /// `journal/<task>.<extension>`.
    pub fn journal_file(&self, task: &str, extension: &str) -> PathBuf {
        self.journal_dir().join(format!("{task}.{extension}"))
    }

    /// `journal/.<task>.<extension>.tmp`, renamed into place once written.
    pub fn journal_temp(&self, task: &str, extension: &str) -> PathBuf {
        self.journal_dir().join(format!(".{task}.{extension}.tmp"))
    }

    /// Whether `name` (a file in `journal/`) is a temporary record of one of `extensions`.
    pub fn is_journal_temp(name: &str, extensions: &[&str]) -> bool {
        name.starts_with('.') && extensions.iter().any(|ext| name.ends_with(&format!(".{ext}.tmp")))
    }

    /// `verify/`, where `--verify` writes its output.
    pub fn verify_dir(&self) -> PathBuf {
        self.dir.join("verify")
    }

    /// `verify/<task>.out`.
    pub fn verify_output(&self, task: &str) -> PathBuf {
        self.verify_dir().join(format!("{task}.out"))
    }

    /// `train/`, the merge train: its queue, memberships, signals and verify slots.
    pub fn train_dir(&self) -> PathBuf {
        self.dir.join("train")
    }

    /// `train/queue.json`: the train's entries in arrival order.
    pub fn train_queue(&self) -> PathBuf {
        self.train_dir().join("queue.json")
    }

    /// `train/queue.lock`, held for an instant by whoever reads or writes the queue.
    pub fn train_queue_lock(&self) -> PathBuf {
        self.train_dir().join("queue.lock")
    }

    /// `train/<task>.member`: held by the finish of `task` while it is in the train.
    pub fn train_member(&self, task: &str) -> PathBuf {
        self.train_dir().join(format!("{task}.member"))
    }

    /// `train/<seq>.<epoch>.signal`: held by entry `seq` while its published landing is current.
    pub fn train_signal(&self, seq: u64, epoch: u64) -> PathBuf {
        self.train_dir().join(format!("{seq}.{epoch}.signal"))
    }

    /// `train/slot-<n>.lock`: one of the `par.trainDepth` verify slots.
    pub fn train_slot(&self, n: usize) -> PathBuf {
        self.train_dir().join(format!("slot-{n}.lock"))
    }

    /// `tmux/`, the banners of `git par tmux` panes.
    pub fn tmux_dir(&self) -> PathBuf {
        self.dir.join("tmux")
    }

    /// `up/`, where `git par up` keeps its record of each task's agent.
    pub fn up_dir(&self) -> PathBuf {
        self.dir.join("up")
    }

    /// The file of lock `lock`.
    pub fn lock_file(&self, lock: Lock) -> PathBuf {
        self.dir.join(lock.file_name())
    }

    /// Runs `f` holding `lock` exclusively, waiting for it as long as it takes.
    pub fn with_lock<T>(&self, lock: Lock, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.with_lock_waiting(lock, &mut |_| Ok(()), f)
    }

    /// [`ParDir::with_lock`], telling `busy` what it waits for when someone
    /// else holds the lock (the library never prints: the caller may).
    pub fn with_lock_waiting<T>(
        &self,
        lock: Lock,
        busy: &mut dyn FnMut(&flock::Waiting<'_>) -> Result<()>,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.create()?;
        let path = self.lock_file(lock);
        flock::acquire(flock::open(&path)?, &path, lock.what(), Mode::Exclusive, Wait::Block, busy, |_| f())
    }

    /// Runs `f` holding `lock` shared: readers share it, a writer holding it
    /// exclusively keeps them out. With no directory yet (no writer ever
    /// ran) or no way to open the lock file (a read-only repository), `f`
    /// runs without it.
    pub fn with_shared_lock<T>(&self, lock: Lock, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if !self.dir.is_dir() {
            return f();
        }
        let path = self.lock_file(lock);
        let Ok(file) = flock::open(&path).or_else(|_| File::open(&path)) else { return f() };
        flock::acquire(file, &path, lock.what(), Mode::Shared, Wait::Block, &mut |_| Ok(()), |_| f())
    }

    /// Runs `f` holding `lock` exclusively if no one holds it now; `None` if someone does.
    pub fn try_lock<T>(&self, lock: Lock, f: impl FnOnce() -> Result<T>) -> Result<Option<T>> {
        self.create()?;
        flock::try_with(&self.lock_file(lock), Mode::Exclusive, f)
    }
}
