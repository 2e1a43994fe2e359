//! The landing's journal (`.git/par/journal/<ID>.json`): how far a finish
//! got, written before each step that changes something, and the repair of
//! a finish that died: rolled back before the commit point, completed after.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use git2::Oid;
use serde::{Deserialize, Serialize};

use super::error::{LandError, Resume};
use super::{complete, live_holder, rollback, with_merge_lock};
use crate::repo::index_lock::{self, FileId, IndexLock};
use crate::repo::land::{self as git};
use crate::repo::Repo;
use crate::state::{Store, TaskStatus};

// ---------------------------------------------------------------------------
// The journal.

/// How far a landing got. Ordered: a later step implies the earlier ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Merge lock held, task marked finishing; nothing else changed.
    Started,
    /// A merge of main into the task branch exists (`task_head`); the branch
    /// and worktree may or may not have moved to it.
    TaskMerged,
    /// The landing commit exists; main may or may not have moved to it.
    Landing,
    /// Main points at the landing commit: the commit point is passed.
    Landed,
    /// The worktree with main checked out is up to date.
    Synced,
    /// The task's state entry (its locks) is gone.
    Released,
    /// Worktree and branch removed (unless kept), log and event written.
    Cleaned,
}

/// The record of one finish in progress, in `.git/par/journal/<ID>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    pub task: String,
    pub step: Step,
    pub pid: u32,
    pub started_at: String,
    pub strategy: String,
    pub main_branch: String,
    pub branch: String,
    pub worktree: PathBuf,
    pub keep: bool,
    /// The task's state before finish marked it finishing.
    pub prev_status: TaskStatus,
    /// The task branch's tip before finish touched it.
    pub task_tip: String,
    /// Where finish moved the task branch (its merge of main), if it did.
    #[serde(default)]
    pub task_head: Option<String>,
    /// Main when the landing commit was built.
    #[serde(default)]
    pub main_old: Option<String>,
    /// What main moves to.
    #[serde(default)]
    pub landing: Option<String>,
    #[serde(default)]
    pub commits: usize,
    #[serde(default)]
    pub files: usize,
    /// The result line to write into an untracked tasks.md in the main worktree.
    #[serde(default)]
    pub worktree_tick: Option<(String, String)>,
    /// `par.logDir`, for the task's log.
    #[serde(default)]
    pub log_dir: String,
    /// The index lock this finish holds, or is about to take: after a kill,
    /// `doctor --repair` removes it once it knows the finish is dead.
    #[serde(default)]
    pub index_lock: Option<HeldLock>,
    /// The main worktree was (maybe partly) brought to the landing before
    /// main moved: a rollback brings it back.
    #[serde(default)]
    pub main_ahead: bool,
}

/// An `index.lock` a finish took (see [`crate::repo::index_lock`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLock {
    pub path: PathBuf,
    /// The lock file's `(device, inode)`, once created; `None` while the
    /// finish is about to create it.
    pub id: Option<FileId>,
    /// When the finish set out to take it, in milliseconds since the epoch.
    pub since_ms: u64,
}

impl Journal {
    pub(super) fn path(store: &Store, id: &str) -> PathBuf {
        store.dir().join("journal").join(format!("{id}.json"))
    }

    pub(super) fn save(&self, store: &Store) -> Result<()> {
        let path = Journal::path(store, &self.task);
        let dir = store.dir().join("journal");
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = dir.join(format!(".{}.json.tmp", self.task));
        let json = serde_json::to_vec_pretty(self).context("serialising the journal")?;
        // Rename over the old journal so a crash leaves one whole version.
        fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }

    pub(super) fn advance(&mut self, store: &Store, step: Step) -> Result<()> {
        self.step = step;
        self.save(store)
    }

    pub(super) fn remove(&self, store: &Store) -> Result<()> {
        let path = Journal::path(store, &self.task);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", path.display()))
            }
            _ => Ok(()),
        }
    }

    pub(super) fn oid(text: &Option<String>) -> Option<Oid> {
        text.as_deref().and_then(|t| Oid::from_str(t).ok())
    }
}

/// How long a finish waits for a git command holding a worktree's index lock.
pub(super) const INDEX_LOCK_WAIT: Duration = Duration::from_secs(10);

/// Takes the index lock of the worktree at `worktree` (`whose`, for
/// messages) the way git does, recording it in the journal first so that
/// `doctor --repair` can remove it after a kill. Waits a while for a git
/// command holding it; `resume` is what to run again once it is free.
pub(super) fn lock_index(
    store: &Store,
    journal: &mut Journal,
    worktree: &Path,
    whose: &str,
    resume: Resume,
) -> Result<IndexLock> {
    let (lock_path, index) = index_lock::paths(worktree)?;
    journal.index_lock = Some(HeldLock { path: lock_path.clone(), id: None, since_ms: now_ms() });
    journal.save(store)?;
    let started = Instant::now();
    loop {
        if let Some(lock) = IndexLock::try_acquire(&lock_path, &index)? {
            if let Some(held) = journal.index_lock.as_mut() {
                held.id = Some(lock.id());
            }
            journal.save(store)?;
            return Ok(lock);
        }
        if started.elapsed() >= INDEX_LOCK_WAIT {
            unlock_index(store, journal)?;
            let (whose, worktree) = (whose.to_string(), worktree.to_path_buf());
            return Err(LandError::IndexLocked { whose, lock: lock_path, worktree, resume }.into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Forgets the journal's index lock once it is committed or given up.
pub(super) fn unlock_index(store: &Store, journal: &mut Journal) -> Result<()> {
    if journal.index_lock.take().is_some() {
        journal.save(store)?;
    }
    Ok(())
}

pub(super) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The files a finish that died left that stop git: the index lock it
/// held (the very file it created, by identity), main's ref lock when it
/// holds the landing commit this finish was moving main to (libgit2 writes
/// the new value into the lock, then renames it), and the copy of the index
/// a checkout works on. Only meaningful while holding the merge lock, when
/// the finish that wrote `journal` is known to be dead.
pub fn left_behind(repo: &Repo, journal: &Journal) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Some(held) = &journal.index_lock {
        let ours = match (held.id, index_lock::file_id(&held.path)) {
            (Some(id), Some(now)) => id == now,
            // Killed between recording that it would take the lock and
            // recording the file it made: a lock made since then and still
            // empty is that one (git writes the new index into its lock at
            // once, so a live git's lock is empty only for an instant).
            (None, Some(_)) => fs::symlink_metadata(&held.path).is_ok_and(|meta| {
                let made = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
                meta.len() == 0 && made.is_some_and(|t| t.as_millis() as u64 + 1000 >= held.since_ms)
            }),
            _ => false,
        };
        if ours {
            found.push(held.path.clone());
        }
        found.extend(index_lock::scratch_files(&held.path, journal.pid).into_iter().filter(|p| p.exists()));
    }
    if let Some(landing) = &journal.landing {
        let lock = repo.common_dir.join("refs/heads").join(format!("{}.lock", journal.main_branch));
        if fs::read_to_string(&lock).is_ok_and(|text| text.trim() == landing) {
            found.push(lock);
        }
    }
    found
}

/// A finish that stopped without finishing (the process died).
#[derive(Debug, Clone)]
pub struct Interrupted {
    pub journal: Journal,
    /// Whether main already points at (or past) the landing commit: repair completes it.
    pub committed: bool,
    /// A finish is holding the merge queue for this very task right now.
    pub live: bool,
}

/// What [`recover`] did with one interrupted finish.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub task: String,
    /// True: completed (the task landed); false: rolled back (the task is active again).
    pub completed: bool,
    pub warnings: Vec<String>,
}

/// The interrupted finishes recorded in the journal directory.
pub fn interrupted(repo: &Repo, store: &Store) -> Result<Vec<Interrupted>> {
    let dir = store.dir().join("journal");
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let holder = live_holder(store)?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let journal: Journal = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a git-par journal; move it aside", path.display()))?;
        let committed = committed(repo, &journal)?;
        let live = holder.as_deref() == Some(journal.task.as_str());
        out.push(Interrupted { journal, committed, live });
    }
    out.sort_by(|a, b| a.journal.task.cmp(&b.journal.task));
    Ok(out)
}

/// The temporary journals (`.<ID>.json.tmp`) of finishes that died while
/// saving their journal. Looked for only while no finish holds the merge
/// lock (a running one may be saving its own): then there are none to report.
pub fn stale_journal_temps(store: &Store) -> Result<Vec<PathBuf>> {
    let dir = store.dir().join("journal");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let path = store.dir().join("merge.lock");
    let mut lock = fd_lock::RwLock::new(store.open_sidecar(&path)?);
    let _guard = match lock.try_write() {
        Ok(guard) => guard,
        Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("locking {}", path.display())),
    };
    let mut temps = Vec::new();
    for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".json.tmp") {
            temps.push(entry.path());
        }
    }
    temps.sort();
    Ok(temps)
}

/// Removes one of [`stale_journal_temps`], holding the merge lock.
pub fn remove_journal_temp(store: &Store, path: &Path, wait: Option<Duration>) -> Result<()> {
    with_merge_lock(store, "doctor", wait, &|_| {}, || match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    })
}

/// Whether the journal's landing passed the commit point: main is at the
/// landing commit or has it in its history.
pub(super) fn committed(repo: &Repo, journal: &Journal) -> Result<bool> {
    if journal.step >= Step::Landed {
        return Ok(true);
    }
    if journal.step < Step::Landing {
        return Ok(false);
    }
    let Some(landing) = Journal::oid(&journal.landing) else { return Ok(false) };
    let Some(main) = git::ref_target(&repo.git, &format!("refs/heads/{}", journal.main_branch))? else {
        return Ok(false);
    };
    Ok(main == landing || repo.git.graph_descendant_of(main, landing).unwrap_or(false))
}

/// Repairs the interrupted finish of `task`: completes it if it passed the
/// commit point, rolls it back if not. Holds the merge lock while it works
/// (waiting up to `wait` for a running finish). `None` when there is no
/// journal for `task` (any more).
pub fn recover(repo: &Repo, store: &Store, task: &str, wait: Option<Duration>) -> Result<Option<Recovery>> {
    with_merge_lock(store, "doctor", wait, &|_| {}, || {
        let Some(found) = interrupted(repo, store)?.into_iter().find(|i| i.journal.task == task) else {
            return Ok(None);
        };
        let mut journal = found.journal;
        let mut warnings = Vec::new();
        // Its finish died, maybe while moving the task branch (we hold the
        // merge lock: no other finish is at it).
        repo.clear_branch_lock(&journal.branch)?;
        // And maybe while it held an index lock or wrote main's ref lock:
        // git could commit nothing while those are there.
        for path in left_behind(repo, &journal) {
            match fs::remove_file(&path) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("removing {}", path.display()))
                }
                _ => {}
            }
        }
        if journal.index_lock.take().is_some() {
            journal.save(store)?;
        }
        if found.committed {
            if journal.step < Step::Landed {
                journal.advance(store, Step::Landed)?;
            }
            complete(repo, store, &mut journal, None, &mut warnings)?;
        } else {
            rollback(repo, store, &mut journal, &mut warnings)?;
        }
        Ok(Some(Recovery { task: journal.task.clone(), completed: found.committed, warnings }))
    })
}
