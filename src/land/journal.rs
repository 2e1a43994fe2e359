//! The landing's journal (`.git/par/journal/<ID>.json`): how far a finish
//! got, written before each step that changes something, and the repair of
//! a finish that died: rolled back before the commit point, completed after.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;
use git2::Oid;
use serde::{Deserialize, Serialize};

use super::error::{LandError, Resume};
use super::{complete, is_member, live_holder, rollback, with_merge_lock};
use crate::journal::{self, Record};
use crate::repo::index_lock::{self, FileId, IndexLock};
use crate::repo::Repo;
use crate::repo::{self as git};
use crate::state::{Lock, ParDir, TaskStatus};
use crate::workspace::Workspace;

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
    /// The landing is one of a batch (`finish` of several tasks), which
    /// moves main once, from the batch's base to its last landing: this
    /// landing is then in main's history without main pointing at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchMove>,
    /// Main moved to a landing built on this one, by a train entry behind
    /// it whose verify covered it (`train.rs`): that finish brought the main
    /// worktree along.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub carried: bool,
}

/// How main moves for a batch: from `base` to `tip`, the last landing of
/// the batch, built on all the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMove {
    pub base: String,
    pub tip: String,
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

impl Record for Journal {
    const KIND: &'static str = "journal";
    const NOUN: &'static str = "the journal";
    const EXTENSIONS: &'static [&'static str] = &["json"];

    fn task(&self) -> &str {
        &self.task
    }

    fn extension(&self) -> &'static str {
        "json"
    }
}

impl Journal {
    /// Whether a journal of task `id` exists.
    pub(super) fn exists(par: &ParDir, id: &str) -> bool {
        journal::exists(par, id, "json")
    }

    /// Writes it over the old one (whole: a crash leaves one version).
    pub(super) fn save(&self, par: &ParDir) -> Result<()> {
        journal::save(par, self)
    }

    pub(super) fn advance(&mut self, par: &ParDir, step: Step) -> Result<()> {
        self.step = step;
        self.save(par)
    }

    pub(super) fn remove(&self, par: &ParDir) -> Result<()> {
        journal::remove(par, &self.task, "json")
    }

    pub(super) fn oid(text: &Option<String>) -> Option<Oid> {
        text.as_deref().and_then(|t| Oid::from_str(t).ok())
    }

    /// What main moves from and to at this landing's commit point: its own
    /// base and landing, or its batch's.
    pub(super) fn main_move(&self) -> Option<(Oid, Oid)> {
        match &self.batch {
            Some(batch) => Some((Oid::from_str(&batch.base).ok()?, Oid::from_str(&batch.tip).ok()?)),
            None => Some((Self::oid(&self.main_old)?, Self::oid(&self.landing)?)),
        }
    }
}

/// How long a finish waits for a git command holding a worktree's index lock.
pub(super) const INDEX_LOCK_WAIT: Duration = Duration::from_secs(10);

/// Takes the index lock of the worktree at `worktree` (`whose`, for
/// messages) the way git does, recording it in the journal first so that
/// `doctor --repair` can remove it after a kill. Waits a while for a git
/// command holding it; `resume` is what to run again once it is free.
pub(super) fn lock_index(
    par: &ParDir,
    journal: &mut Journal,
    worktree: &Path,
    whose: &str,
    resume: Resume,
) -> Result<IndexLock> {
    let (lock_path, index) = index_lock::paths(worktree)?;
    journal.index_lock = Some(HeldLock { path: lock_path.clone(), id: None, since_ms: now_ms() });
    journal.save(par)?;
    let started = Instant::now();
    loop {
        if let Some(lock) = IndexLock::try_acquire(&lock_path, &index)? {
            if let Some(held) = journal.index_lock.as_mut() {
                held.id = Some(lock.id());
            }
            journal.save(par)?;
            return Ok(lock);
        }
        if started.elapsed() >= INDEX_LOCK_WAIT {
            unlock_index(par, journal)?;
            let (whose, worktree) = (whose.to_string(), worktree.to_path_buf());
            return Err(LandError::IndexLocked { whose, lock: lock_path, worktree, resume }.into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Forgets the journal's index lock once it is committed or given up.
pub(super) fn unlock_index(par: &ParDir, journal: &mut Journal) -> Result<()> {
    if journal.index_lock.take().is_some() {
        journal.save(par)?;
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
    if let Some((_, landing)) = journal.main_move() {
        let lock = repo.common_dir.join("refs/heads").join(format!("{}.lock", journal.main_branch));
        if fs::read_to_string(&lock).is_ok_and(|text| text.trim() == landing.to_string()) {
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
pub fn interrupted(ws: &Workspace) -> Result<Vec<Interrupted>> {
    let journals: Vec<Journal> = journal::list(ws.par())?;
    if journals.is_empty() {
        return Ok(Vec::new());
    }
    let holder = live_holder(ws.par())?;
    let mut out = Vec::new();
    for journal in journals {
        let committed = committed(ws, &journal)?;
        // Holding the merge queue, or riding the train (verifying, waiting).
        let live = holder.as_deref() == Some(journal.task.as_str()) || is_member(ws.par(), &journal.task);
        out.push(Interrupted { journal, committed, live });
    }
    Ok(out)
}

/// The temporary journals (`.<ID>.json.tmp`) of finishes that died while
/// saving their journal. Looked for only while no finish holds the merge
/// lock (a running one may be saving its own): then there are none to report.
pub fn stale_journal_temps(par: &ParDir) -> Result<Vec<PathBuf>> {
    if !par.journal_dir().is_dir() {
        return Ok(Vec::new());
    }
    Ok(par.try_lock(Lock::Merge, || journal::temps::<Journal>(par))?.unwrap_or_default())
}

/// Whether `name` is one of [`stale_journal_temps`].
pub fn is_journal_temp(name: &str) -> bool {
    ParDir::is_journal_temp(name, Journal::EXTENSIONS)
}

/// Removes one of [`stale_journal_temps`], holding the merge lock.
pub fn remove_journal_temp(par: &ParDir, path: &Path, wait: Option<Duration>) -> Result<()> {
    with_merge_lock(par, "doctor", wait, &|_| {}, || journal::remove_file(path))
}

/// Whether the journal's landing passed the commit point: main is at the
/// landing commit or has it in its history. In remote mode the commit
/// point is the push, so the remote's main is asked.
pub(super) fn committed(ws: &Workspace, journal: &Journal) -> Result<bool> {
    let repo = &ws.repo;
    if journal.step >= Step::Landed {
        return Ok(true);
    }
    // Before its own verify, a landing may be in main's history all the
    // same: a train entry behind it landed it with its own (`train.rs`;
    // remote mode has no train).
    if journal.step < Step::Landing && ws.state().remote().is_some() {
        return Ok(false);
    }
    let Some(landing) = Journal::oid(&journal.landing) else { return Ok(false) };
    let main = match ws.state().remote() {
        Some(remote) => Some(remote.fetch_main(&journal.main_branch)?),
        None => git::ref_target(&repo.git, &format!("refs/heads/{}", journal.main_branch))?,
    };
    let Some(main) = main else { return Ok(false) };
    Ok(main == landing || repo.git.graph_descendant_of(main, landing).unwrap_or(false))
}

/// Remote mode: a landing whose push happened before its process died;
/// the local main follows it if it has not moved since.
fn follow_pushed_landing(ws: &Workspace, journal: &Journal) -> Result<()> {
    let (Some(old), Some(landing)) = (Journal::oid(&journal.main_old), Journal::oid(&journal.landing)) else {
        return Ok(());
    };
    if ws.state().remote().is_none() {
        return Ok(());
    }
    let main_ref = format!("refs/heads/{}", journal.main_branch);
    if git::ref_target(&ws.repo.git, &main_ref)? == Some(old) {
        let log = format!("git-par doctor: {} landed on the remote", journal.task);
        git::compare_and_swap(&ws.repo.git, &main_ref, old, landing, &log)?;
    }
    Ok(())
}

/// Repairs the interrupted finish of `task`: completes it if it passed the
/// commit point, rolls it back if not. Holds the merge lock while it works
/// (waiting up to `wait` for a running finish). `None` when there is no
/// journal for `task` (any more).
pub fn recover(ws: &Workspace, task: &str, wait: Option<Duration>) -> Result<Option<Recovery>> {
    let repo = &ws.repo;
    with_merge_lock(ws.par(), "doctor", wait, &|_| {}, || {
        let Some(found) = interrupted(ws)?.into_iter().find(|i| i.journal.task == task) else {
            return Ok(None);
        };
        if found.live {
            // Its finish is alive in the merge train: nothing to repair.
            return Ok(None);
        }
        let mut journal = found.journal;
        let mut warnings = Vec::new();
        // Its finish died, maybe while moving the task branch (we hold the
        // merge lock: no other finish is at it).
        repo.clear_branch_lock(&journal.branch)?;
        // And maybe while it held an index lock or wrote main's ref lock:
        // git could commit nothing while those are there.
        for path in left_behind(repo, &journal) {
            journal::remove_file(&path)?;
        }
        if journal.index_lock.take().is_some() {
            journal.save(ws.par())?;
        }
        if found.committed {
            if journal.step < Step::Landed {
                follow_pushed_landing(ws, &journal)?;
                journal.advance(ws.par(), Step::Landed)?;
            }
            complete(ws, &mut journal, None, &mut warnings)?;
        } else {
            rollback(ws, &mut journal, &mut warnings)?;
        }
        Ok(Some(Recovery { task: journal.task.clone(), completed: found.committed, warnings }))
    })
}
