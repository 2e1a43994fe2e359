//! The merge queue: landing a finished task on the main branch (DESIGN §6).
//!
//! Invariants:
//! - One landing at a time. Everything from reading main to moving it runs
//!   under the exclusive fd-lock on `.git/par/merge.lock` (a sidecar never
//!   deleted); `.git/par/landing` names the holder for those who wait.
//! - Main moves only by a compare-and-swap from the commit the landing was
//!   built and verified on. That swap is the commit point: before it, the
//!   landing has not happened; after it, it has, whatever else fails.
//! - Before the commit point the only visible changes are to the task's own
//!   branch and worktree (main merged into them, step 3), and a finish that
//!   stops puts both back: it lands entirely or changes nothing but leaving
//!   unreachable objects — and a stash entry holding the files a failed
//!   `--verify` wrote, which would otherwise be lost or stop the rollback.
//! - tasks.md is changed only inside the landing commit; the main worktree
//!   gets it, like every other landed path, by a checkout of exactly the
//!   paths that changed, which never overwrites local changes.
//! - A journal (`.git/par/journal/<ID>.json`) is written before each step
//!   that changes something, with the commits before and after. After a
//!   crash, [`recover`] decides from the refs whether the commit point was
//!   passed, then rolls back or completes. Every step is safe to redo.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use git2::Oid;
use serde::{Deserialize, Serialize};

use crate::config::EnforceScope;
use crate::error::Refusal;
use crate::repo::index_lock::{self, FileId, IndexLock};
use crate::repo::land::{self as git, Change, Integration};
use crate::repo::Repo;
use crate::state::{ActiveTask, State, Store, TaskStatus};
use crate::tasks;

/// The longest landing-commit subject, as git's own tools suggest.
const SUBJECT_MAX: usize = 72;
/// How many times main may move under a landing before it gives up.
const MAX_ATTEMPTS: usize = 5;
/// Lines of a failed `--verify` shown in the error.
const VERIFY_TAIL: usize = 20;

/// How a task lands on main (DESIGN §6, step 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// A merge commit: main, then the task's tip.
    Merge,
    /// One commit with main as its only parent.
    Squash,
    /// Main fast-forwards to the task's tip, and the tick is its own commit.
    Ff,
}

/// What `git par finish` was asked to do, resolved by the command.
#[derive(Debug, Clone)]
pub struct Request {
    pub id: String,
    pub strategy: Strategy,
    /// The command to run in the task's worktree before landing (`--verify` or `par.verify`).
    pub verify: Option<String>,
    /// Commit the worktree's changes first with this message.
    pub commit: Option<String>,
    pub keep: bool,
    /// How long to wait for the merge queue; `None` waits forever.
    pub wait: Option<Duration>,
    pub dry_run: bool,
    pub main_branch: String,
    /// tasks.md relative to the repository root, if there is one.
    pub tasks_file: Option<String>,
    /// `par.logDir`: where the task's log is (named in the result line).
    pub log_dir: String,
    /// `par.enforceScope` when set: what the landing does with changed paths
    /// outside the task's locks (unset: as the hook does for the task).
    pub enforce_scope: Option<EnforceScope>,
}

/// What landed (or, with `--dry-run`, would land).
#[derive(Debug, Clone)]
pub struct Landing {
    pub task: String,
    /// The commit main now points at; `None` for a dry run.
    pub commit: Option<Oid>,
    pub strategy: Strategy,
    pub main_branch: String,
    /// The task's commits: (short hash, subject), oldest first.
    pub commits: Vec<(String, String)>,
    /// The files the task changed on main (renames as one).
    pub files: Vec<Change>,
    /// The landing commit's message.
    pub message: String,
    /// Unified diff of tasks.md between old and new main.
    pub tasks_diff: String,
    /// The task branch's edits of tasks.md that did not land (all but its own
    /// checkbox), as a diff from what landed to what the branch had.
    pub dropped: String,
    /// Things that went wrong after the landing and need no action to be correct.
    pub warnings: Vec<String>,
}

/// What a landing reports while it runs (the command renders it on stderr).
#[derive(Debug)]
pub enum Progress<'a> {
    /// Another finish holds the merge queue.
    Waiting { holder: Option<&'a str> },
    /// `--commit` committed the worktree's changes.
    Committed { files: usize },
    /// `--commit` was refused; what git and its hooks printed.
    CommitRefused { output: &'a str },
    /// Main was merged into the task branch.
    MergedMain { main: &'a str, commit: Oid },
    /// Running the verify command.
    Verifying { command: &'a str },
    /// Main moved while landing; starting again from step 3.
    Retrying { attempt: usize },
}

/// Runs `git par finish`: lands the task, or with `dry_run` shows what would land.
pub fn finish(repo: &Repo, store: &Store, req: &Request, progress: &dyn Fn(Progress<'_>)) -> Result<Landing> {
    // Refuse an unknown task before queueing behind other landings.
    let state = store.load()?;
    active_task(repo, store, &state, req)?;
    if req.dry_run {
        return dry_run(repo, store, &state, req);
    }
    with_merge_lock(store, &req.id, req.wait, progress, || land(repo, store, req, progress))
}

/// The active task `req` names; a task that is not active is refused,
/// saying so when it has already landed.
fn active_task<'a>(repo: &Repo, store: &Store, state: &'a State, req: &Request) -> Result<&'a ActiveTask> {
    if !state.tasks.contains_key(&req.id) && landed_before(repo, store, req) {
        return Err(Refusal::failed(format!("{} has already landed", req.id))
            .hint(format!("see its landing with `git log --grep 'Par-Task: {}' {}`", req.id, req.main_branch))
            .into());
    }
    active(state, &req.id)
}

/// Whether a task that is not active landed: ticked in main's tasks.md, or
/// its last start, finish or abort in `events.jsonl` is a finish.
fn landed_before(repo: &Repo, store: &Store, req: &Request) -> bool {
    let ticked = req.tasks_file.as_ref().and_then(|file| {
        let main = git::ref_target(&repo.git, &format!("refs/heads/{}", req.main_branch)).ok().flatten();
        let committed = main
            .and_then(|m| git::tree_of(&repo.git, m).ok())
            .and_then(|tree| git::read_text(&repo.git, tree, file).ok().flatten());
        let text = committed.or_else(|| fs::read_to_string(repo.main_root.join(file)).ok())?;
        let parsed = tasks::parse::parse(&text, &tasks::Options::default());
        parsed.get(&req.id).map(|t| t.is_done())
    });
    if ticked == Some(true) {
        return true;
    }
    let Ok(events) = fs::read_to_string(store.events_path()) else { return false };
    let last = events
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|e| e["task"] == req.id.as_str())
        .filter_map(|e| e["event"].as_str().map(str::to_string))
        .find(|e| ["start", "finish", "abort"].contains(&e.as_str()));
    last.as_deref() == Some("finish")
}

fn active<'a>(state: &'a State, id: &str) -> Result<&'a ActiveTask> {
    if let Some(task) = state.tasks.get(id) {
        return Ok(task);
    }
    let mut refusal = Refusal::failed(format!("{id} is not active"));
    if state.tasks.is_empty() {
        refusal = refusal.hint(format!("start it first with `git par start {id}`; no task is active"));
    } else {
        let ids: Vec<&str> = state.tasks.keys().map(String::as_str).collect();
        refusal = refusal.hint(format!("active tasks: {}; see `git par lock-status`", ids.join(", ")));
    }
    Err(refusal.into())
}

// ---------------------------------------------------------------------------
// Step 1: the merge lock.

/// Runs `f` holding the merge queue's lock, polling while another finish holds it.
fn with_merge_lock<T>(
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
                        let who = holder.map(|h| format!(" ({h} is landing)")).unwrap_or_default();
                        return Err(Refusal::busy(format!(
                            "the merge queue stayed busy for {}{who}",
                            seconds(limit)
                        ))
                        .hint(format!("retry later, or wait longer with `git par finish {id} --wait SECS`"))
                        .into());
                    }
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e).with_context(|| format!("locking {}", path.display())),
        }
    }
}

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
    fn path(store: &Store, id: &str) -> PathBuf {
        store.dir().join("journal").join(format!("{id}.json"))
    }

    fn save(&self, store: &Store) -> Result<()> {
        let path = Journal::path(store, &self.task);
        let dir = store.dir().join("journal");
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = dir.join(format!(".{}.json.tmp", self.task));
        let json = serde_json::to_vec_pretty(self).context("serialising the journal")?;
        // Rename over the old journal so a crash leaves one whole version.
        fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }

    fn advance(&mut self, store: &Store, step: Step) -> Result<()> {
        self.step = step;
        self.save(store)
    }

    fn remove(&self, store: &Store) -> Result<()> {
        let path = Journal::path(store, &self.task);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", path.display()))
            }
            _ => Ok(()),
        }
    }

    fn oid(text: &Option<String>) -> Option<Oid> {
        text.as_deref().and_then(|t| Oid::from_str(t).ok())
    }
}

/// How long a finish waits for a git command holding a worktree's index lock.
const INDEX_LOCK_WAIT: Duration = Duration::from_secs(10);

/// Takes the index lock of the worktree at `worktree` (`whose`, for
/// messages) the way git does, recording it in the journal first so that
/// `doctor --repair` can remove it after a kill. Waits a while for a git
/// command holding it; `again` is the command to run once it is free.
fn lock_index(
    store: &Store,
    journal: &mut Journal,
    worktree: &Path,
    whose: &str,
    again: &str,
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
            return Err(Refusal::busy(format!(
                "the index of {whose} is locked: {} exists",
                lock_path.display()
            ))
            .hint(format!(
                "a git command is running in {}; let it end, then run `{again}` again",
                worktree.display()
            ))
            .hint(format!(
                "if none is, a git command that died left it: remove it (`rm {}`)",
                lock_path.display()
            ))
            .into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Forgets the journal's index lock once it is committed or given up.
fn unlock_index(store: &Store, journal: &mut Journal) -> Result<()> {
    if journal.index_lock.take().is_some() {
        journal.save(store)?;
    }
    Ok(())
}

fn now_ms() -> u64 {
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

/// Which task a live `git par finish` is landing right now (it holds the
/// merge queue), if any; `doctor` when a repair holds it.
pub fn landing_now(store: &Store) -> Result<Option<String>> {
    live_holder(store)
}

/// Which task holds the merge lock right now, if any.
fn live_holder(store: &Store) -> Result<Option<String>> {
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

/// Whether the journal's landing passed the commit point: main is at the
/// landing commit or has it in its history.
fn committed(repo: &Repo, journal: &Journal) -> Result<bool> {
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

// ---------------------------------------------------------------------------
// Crash points (tests only).

/// The sidecar lock a landing holds exclusively while it updates the main
/// worktree's files; readers of the main worktree's tasks.md hold it shared.
pub const SYNC_LOCK: &str = "sync.lock";

/// The environment variable that makes finish, start or abort die at a named step.
pub const CRASH_ENV: &str = "GIT_PAR_TEST_CRASH_AT";

/// The steps a test can crash a finish at, in order.
pub const CRASH_POINTS: &[&str] = &[
    "started",
    "task-merge-commit",
    "task-worktree",
    "task-merged",
    "verified",
    "landing-commit",
    "main-index-locked",
    "main-worktree-ahead",
    "main-moved",
    "main-synced",
    "released",
    "worktree-removed",
    "cleaned",
];

/// The steps a test can crash a start at ([`crate::lifecycle::start`]), in order.
pub const START_CRASH_POINTS: &[&str] = &["start-recorded", "start-created"];

/// The steps a test can crash an abort at ([`crate::lifecycle::abort`]), in order.
pub const ABORT_CRASH_POINTS: &[&str] = &["abort-worktree-removed", "abort-branch-deleted"];

#[cfg(test)]
thread_local! {
    static TEST_CRASH: std::cell::RefCell<Option<&'static str>> = const { std::cell::RefCell::new(None) };
    /// Runs just before the swap of main: lets a test move main under a landing.
    static TEST_BEFORE_SWAP: std::cell::RefCell<Option<Box<dyn FnMut()>>> = std::cell::RefCell::new(None);
}

/// The error a simulated crash unwinds with in unit tests (no cleanup runs).
#[derive(Debug)]
struct Crashed(&'static str);

impl std::fmt::Display for Crashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "simulated crash at {}", self.0)
    }
}

impl std::error::Error for Crashed {}

/// Dies at `at` when the test environment asks for it (see [`CRASH_ENV`]).
pub(crate) fn crash_point(at: &'static str) -> Result<()> {
    #[cfg(test)]
    {
        if TEST_CRASH.with(|c| *c.borrow() == Some(at)) {
            return Err(Crashed(at).into());
        }
    }
    #[cfg(not(test))]
    {
        if std::env::var_os(CRASH_ENV).is_some_and(|v| v == at) {
            // As abrupt as kill -9: no destructors, no cleanup.
            std::process::abort();
        }
    }
    Ok(())
}

fn is_crash(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.is::<Crashed>())
}

// ---------------------------------------------------------------------------
// Steps 2–7.

/// What the checks of step 2 found.
struct Checked {
    task: ActiveTask,
    prev_status: TaskStatus,
    task_tip: Oid,
    /// The worktree that has the main branch checked out, if any.
    main_worktree: Option<PathBuf>,
}

fn land(repo: &Repo, store: &Store, req: &Request, progress: &dyn Fn(Progress<'_>)) -> Result<Landing> {
    if Journal::path(store, &req.id).exists() {
        return Err(Refusal::failed(format!("an interrupted finish of {} needs repair first", req.id))
            .hint("run `git par doctor --repair`, then finish again if the task is still active")
            .into());
    }
    // Under the merge lock, so its finish is dead: main has its landing, the
    // main worktree does not, and what looks like local changes there would
    // undo it.
    if let Some(other) =
        interrupted(repo, store)?.into_iter().find(|i| i.committed && i.journal.step < Step::Synced)
    {
        let task = &other.journal.task;
        return Err(Refusal::failed(format!(
            "{task} landed on {}, but its finish died before updating the main worktree",
            other.journal.main_branch
        ))
        .hint("run `git par doctor --repair` to complete it (do not commit or stash what `git status` shows there)")
        .hint(format!("then run `git par finish {}` again", req.id))
        .into());
    }
    let state = store.load()?;
    let checked = check(repo, store, &state, req, true, progress)?;
    let mut journal = Journal {
        version: 1,
        task: req.id.clone(),
        step: Step::Started,
        pid: std::process::id(),
        started_at: crate::state::now(),
        strategy: strategy_name(req.strategy).to_string(),
        main_branch: req.main_branch.clone(),
        branch: checked.task.branch.clone(),
        worktree: checked.task.worktree.clone(),
        keep: req.keep,
        prev_status: checked.prev_status,
        task_tip: checked.task_tip.to_string(),
        task_head: None,
        main_old: None,
        landing: None,
        commits: 0,
        files: 0,
        worktree_tick: None,
        log_dir: req.log_dir.clone(),
        index_lock: None,
        main_ahead: false,
    };
    journal.save(store)?;
    let marked = set_status(store, &req.id, TaskStatus::Finishing);
    let result = marked.and_then(|()| {
        crash_point("started")?;
        land_steps(repo, store, req, &checked, &mut journal, progress)
    });
    match result {
        Ok(landing) => Ok(landing),
        Err(e) if is_crash(&e) => Err(e),
        Err(e) if journal.step >= Step::Landed => Err(e.context(format!(
            "{} landed on {}, but finishing up failed; run `git par doctor --repair`",
            req.id, req.main_branch
        ))),
        Err(e) => {
            let mut warnings = Vec::new();
            if !store.load()?.tasks.contains_key(&req.id) {
                // Its worktree and branch may be gone too: whatever failed
                // here failed because of that, and is no news.
                let _ = rollback(repo, store, &mut journal, &mut warnings);
                return Err(Refusal::failed(format!(
                    "{} was aborted (or its locks broken) while it was being finished; nothing landed",
                    req.id
                ))
                .hint(format!(
                    "`git par lock-status` shows the active tasks; `git par start {}` starts it again",
                    req.id
                ))
                .into());
            }
            match rollback(repo, store, &mut journal, &mut warnings) {
                Ok(()) if warnings.is_empty() => Err(e),
                Ok(()) => Err(e.context(warnings.join("; "))),
                Err(undo) => Err(e.context(format!(
                    "and putting things back failed: {undo:#}; run `git par doctor --repair`"
                ))),
            }
        }
    }
}

/// Step 2: the task's branch and worktree are there and clean (committing
/// first with `--commit`), main exists, and the worktree with main checked
/// out has no changes in the paths the task changes.
fn check(
    repo: &Repo,
    store: &Store,
    state: &State,
    req: &Request,
    act: bool,
    progress: &dyn Fn(Progress<'_>),
) -> Result<Checked> {
    let id = &req.id;
    let task = active_task(repo, store, state, req)?.clone();
    if task.state == TaskStatus::Blocked {
        let why = task.blocked_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
        return Err(Refusal::failed(format!("{id} is blocked{why}"))
            .hint(format!("clear the blocker with `git par unblock {id}` first"))
            .into());
    }
    // A task left "finishing" with no journal was being finished by a process
    // that died before changing anything.
    let prev_status = if task.state == TaskStatus::Finishing { TaskStatus::Active } else { task.state };

    let main_ref = format!("refs/heads/{}", req.main_branch);
    let Some(main_tip) = git::ref_target(&repo.git, &main_ref)? else {
        return Err(Refusal::failed(format!("the main branch '{}' does not exist", req.main_branch))
            .hint(format!(
                "create it (`git branch {} <commit>`) or land elsewhere with `git config par.mainBranch BRANCH`",
                req.main_branch
            ))
            .into());
    };
    let branch_ref = format!("refs/heads/{}", task.branch);
    let Some(mut task_tip) = git::ref_target(&repo.git, &branch_ref)? else {
        return Err(Refusal::failed(format!("the branch {} of {id} is gone", task.branch))
            .hint(format!(
                "recreate it at the task's last commit (`git branch {} <commit>`, see `git reflog`), or drop the task with `git par abort {id}`",
                task.branch
            ))
            .into());
    };
    let wt = &task.worktree;
    if !wt.join(".git").exists() {
        if let Some(moved) = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &task.branch)? {
            return Err(moved_refusal(id, &moved, wt, &format!("git par finish {id}")).into());
        }
        return Err(Refusal::failed(format!("the worktree of {id} is missing: {}", wt.display()))
            .hint(format!(
                "recreate it with `git worktree prune && git worktree add {} {}`, or drop the task with `git par abort {id}`",
                wt.display(),
                task.branch
            ))
            .into());
    }
    match git::checked_out_branch(wt)? {
        Some(b) if b == task.branch => {}
        other => {
            let what = other.map(|b| format!("branch {b}")).unwrap_or_else(|| "a detached HEAD".to_string());
            return Err(Refusal::failed(format!(
                "the worktree of {id} ({}) has {what} checked out, not {}",
                wt.display(),
                task.branch
            ))
            .hint(format!("switch back with `git -C {} switch {}`", wt.display(), task.branch))
            .into());
        }
    }
    if let Some(op) = git::operation_in_progress(wt)? {
        return Err(Refusal::failed(format!(
            "a {op} is in progress in the worktree of {id} ({})",
            wt.display()
        ))
        .hint(format!(
            "finish it (`git -C {} commit`) or abort it, then run `git par finish {id}` again",
            wt.display()
        ))
        .into());
    }
    let dirty = git::uncommitted(wt, None)?;
    if !dirty.is_empty() {
        match (&req.commit, act) {
            (Some(message), true) => {
                let commit_yourself =
                    format!("commit them yourself in {}, then run `git par finish {id}` again", wt.display());
                let committed = git::commit_everything(wt, message).map_err(|e| {
                    Refusal::failed(format!("committing the changes of {id} failed: {e:#}"))
                        .hint(commit_yourself.clone())
                })?;
                if let git::Commit::Refused { output, by_hook } = committed {
                    progress(Progress::CommitRefused { output: &output });
                    let refusal = if by_hook {
                        Refusal::failed(format!("the pre-commit hook refused the commit of {id}'s changes")).hint(
                            format!(
                                "fix the files it names, or add them to the task with `git par lock {id} --add PATH`; \
                                 then run `git par finish {id} --commit \"MESSAGE\"` again"
                            ),
                        )
                    } else {
                        Refusal::failed(format!("git commit failed on the changes of {id}"))
                            .hint(commit_yourself)
                    };
                    return Err(refusal.hint("nothing was committed, and the index is as it was").into());
                }
                progress(Progress::Committed { files: dirty.len() });
                task_tip = git::ref_target(&repo.git, &branch_ref)?.unwrap_or(task_tip);
            }
            (Some(_), false) => {}
            (None, _) => {
                return Err(Refusal::failed(format!(
                    "the worktree of {id} has uncommitted changes:\n{}",
                    list_status(&dirty)
                ))
                .hint(format!("commit them, or let finish do it: `git par finish {id} --commit \"MESSAGE\"`"))
                .into());
            }
        }
    }

    refuse_operation_on_main(repo, req)?;
    let main_worktree = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &req.main_branch)?;
    if let Some(main_wt) = &main_worktree {
        let base = repo.git.merge_base(task_tip, main_tip).unwrap_or(main_tip);
        let mut checked = git::touched_paths(
            &repo.git,
            git::tree_of(&repo.git, base)?,
            git::tree_of(&repo.git, task_tip)?,
        )?;
        // The landing commit changes tasks.md when main tracks it; an
        // untracked one is ticked in place, so local edits to it are fine.
        if let Some(file) = req.tasks_file.as_ref().filter(|f| git::tracks(&repo.git, main_tip, f)) {
            checked.push(file.clone());
        }
        checked.sort();
        checked.dedup();
        check_main_worktree(main_wt, &checked, req)?;
    }
    Ok(Checked { task, prev_status, task_tip, main_worktree })
}

/// The refusal for a task whose worktree was moved (`git worktree move`)
/// from `expected` to `moved`: the way out is moving it back, then `again`.
pub fn moved_refusal(id: &str, moved: &Path, expected: &Path, again: &str) -> Refusal {
    let quote = |p: &Path| crate::workflow::shell_quote(&p.to_string_lossy());
    Refusal::failed(format!(
        "the worktree of {id} is not at {} but at {} (moved with `git worktree move`?)",
        expected.display(),
        moved.display()
    ))
    .hint(format!(
        "move it back where git-par keeps it: `git worktree move {} {}`, then run `{again}` again",
        quote(moved),
        quote(expected)
    ))
}

/// Refuses a landing while a rebase, merge, cherry-pick, revert, bisect or
/// `git am` is in progress on the main branch in any worktree: it would
/// move main, or leave its worktree half-way, under the landing.
fn refuse_operation_on_main(repo: &Repo, req: &Request) -> Result<()> {
    let Some((dir, op)) = git::operation_on_branch(&repo.common_dir, &repo.main_root, &req.main_branch)?
    else {
        return Ok(());
    };
    let how = match op.as_str() {
        "bisect" => "end it with `git bisect reset`".to_string(),
        "conflict resolution" => "resolve the conflicts and commit, or `git reset --merge`".to_string(),
        op => format!("finish it (`{op} --continue`) or abort it (`{op} --abort`)", op = git_verb(op)),
    };
    Err(Refusal::failed(format!(
        "a {op} is in progress in the worktree of {} ({})",
        req.main_branch,
        dir.display()
    ))
    .hint(format!("{how} there, then run `git par finish {}` again", req.id))
    .hint(format!("nothing changed: {} is as it was", req.main_branch))
    .into())
}

/// The git command of an operation in progress (`rebase` → `git rebase`).
fn git_verb(op: &str) -> String {
    if op.starts_with("git ") {
        op.to_string()
    } else {
        format!("git {op}")
    }
}

/// The refusal for what is in the way of updating a worktree (`whose`,
/// at `dir`) for `doing`: nothing is written through a symbolic link, and
/// nothing untracked is overwritten.
fn in_the_way_refusal(
    whose: &str,
    dir: &Path,
    doing: &str,
    blocked: &[git::InTheWay],
    req: &Request,
    branch: &str,
) -> Refusal {
    let list: Vec<String> = blocked.iter().map(|b| format!("  {} ({})", b.path, b.what)).collect();
    let moves: Vec<String> = blocked
        .iter()
        .map(|b| {
            let path = dir.join(&b.path).display().to_string();
            format!(
                "mv {} {}",
                crate::workflow::shell_quote(&path),
                crate::workflow::shell_quote(&format!("{path}.aside"))
            )
        })
        .collect();
    Refusal::failed(format!(
        "the worktree of {whose} ({}) has untracked working tree files that {doing} would overwrite:\n{}",
        dir.display(),
        list.join("\n")
    ))
    .hint(format!(
        "move or remove them (`{}`), then run `git par finish {}` again",
        moves.join(" && "),
        req.id
    ))
    .hint(format!("nothing changed: {} and {branch} are as they were", req.main_branch))
}

fn check_main_worktree(dir: &Path, paths: &[String], req: &Request) -> Result<()> {
    let dirty = git::uncommitted(dir, Some(paths))?;
    if dirty.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = dirty.iter().map(|(_, p)| p.as_str()).collect();
    Err(Refusal::failed(format!(
        "the worktree of {} ({}) has uncommitted changes in files {} would change:\n{}",
        req.main_branch,
        dir.display(),
        req.id,
        list_status(&dirty)
    ))
    .hint(format!(
        "commit or stash them (`git -C {} stash push --include-untracked -- {}`), then run `git par finish {}` again",
        dir.display(),
        names.join(" "),
        req.id
    ))
    .into())
}

fn list_status(entries: &[(String, String)]) -> String {
    entries.iter().map(|(code, path)| format!("  {code} {path}")).collect::<Vec<_>>().join("\n")
}

fn set_status(store: &Store, id: &str, status: TaskStatus) -> Result<()> {
    store.transact(|state| {
        if let Some(task) = state.tasks.get_mut(id) {
            task.state = status;
        }
        Ok(())
    })
}

fn land_steps(
    repo: &Repo,
    store: &Store,
    req: &Request,
    checked: &Checked,
    journal: &mut Journal,
    progress: &dyn Fn(Progress<'_>),
) -> Result<Landing> {
    let sigs = git::signatures(&repo.git)?;
    let main_ref = format!("refs/heads/{}", req.main_branch);
    let branch = &checked.task.branch;
    let mut attempt = 0;
    let (landing, built, main_lock, scope_warnings) = loop {
        attempt += 1;
        let main_old = git::ref_target(&repo.git, &main_ref)?
            .with_context(|| format!("the main branch '{}' disappeared", req.main_branch))?;
        let head = Journal::oid(&journal.task_head).unwrap_or(checked.task_tip);

        // Step 3: main into the task branch, so what is verified is what lands.
        let (tested, clashes) = integrate(repo, req, checked, main_old, head, &sigs)?;
        // What would land is known now: refuse before anything moves or a
        // verify runs when it breaks the locks or cannot reach main's worktree.
        let changed = changed_paths(repo, main_old, tested)?;
        guard::enforce(&mut store.load()?, &req.id, branch, &req.main_branch, req.enforce_scope, &changed)?;
        if let Some(main_wt) = &checked.main_worktree {
            let (from, to) = (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, tested)?);
            let blocked = git::in_the_way(main_wt, from, to, &changed)?;
            if !blocked.is_empty() {
                let doing = format!("{}'s landing", req.id);
                return Err(
                    in_the_way_refusal(&req.main_branch, main_wt, &doing, &blocked, req, branch).into()
                );
            }
        }
        if tested != head {
            journal.task_head = Some(tested.to_string());
            journal.advance(store, Step::TaskMerged)?;
            crash_point("task-merge-commit")?;
            move_task_branch(repo, store, journal, req, checked, head, tested)?;
            // A task branch with nothing of its own just moved up to main.
            if tested != main_old {
                progress(Progress::MergedMain { main: &req.main_branch, commit: tested });
            }
        }

        // Step 4.
        if let Some(command) = &req.verify {
            progress(Progress::Verifying { command });
            verify(store, command, &checked.task.worktree, &req.id)?;
        }
        crash_point("verified")?;

        // Step 5.
        let built = build(repo, req, main_old, tested, &sigs, clashes)?;
        let landed_paths = changed_paths(repo, main_old, built.landing)?;
        journal.main_old = Some(main_old.to_string());
        journal.landing = Some(built.landing.to_string());
        journal.commits = built.landing_info.commits.len();
        journal.files = built.landing_info.files.len();
        journal.worktree_tick = built.worktree_tick.clone();
        journal.advance(store, Step::Landing)?;
        crash_point("landing-commit")?;
        #[cfg(test)]
        TEST_BEFORE_SWAP.with(|h| h.borrow_mut().as_mut().map(|f| f()));

        // Step 6: the commit point. The main worktree's index is locked
        // first, as git locks it, and its files and index are brought to the
        // landing before main moves, the lock held throughout: a `git commit`
        // there that sees main at the landing also sees its files (one that
        // read the old index while main moved would put them back on top).
        let main_lock = match &checked.main_worktree {
            Some(wt) => {
                let whose = format!("the worktree of {}", req.main_branch);
                Some(lock_index(store, journal, wt, &whose, &format!("git par finish {}", req.id))?)
            }
            None => None,
        };
        crash_point("main-index-locked")?;
        main_worktree_ready(repo, req, checked, main_old, built.landing, &landed_paths)?;
        let log = format!("git-par finish {}: {}", req.id, strategy_name(req.strategy));
        let (main_tree, landing_tree) =
            (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, built.landing)?);
        // The locks are checked, and main moved, in one state transaction:
        // no task can take a path this landing changes in between.
        let (moved, warnings) = store.transact(|state| {
            let warnings =
                guard::enforce(state, &req.id, branch, &req.main_branch, req.enforce_scope, &landed_paths)?;
            if let (Some(wt), Some(lock)) = (&checked.main_worktree, &main_lock) {
                journal.main_ahead = true;
                journal.save(store)?;
                let ahead = store
                    .with_lock(SYNC_LOCK, || git::checkout(wt, main_tree, landing_tree, &landed_paths, lock));
                if let Err(e) = ahead {
                    if e.downcast_ref::<git::Blocked>().is_some() {
                        // Refused before writing anything: nothing to bring back.
                        journal.main_ahead = false;
                        journal.save(store)?;
                    }
                    return Err(main_update_failed(
                        e,
                        &req.main_branch,
                        wt,
                        &format!("`git par finish {}` again", req.id),
                    ));
                }
                crash_point("main-worktree-ahead")?;
            }
            let moved = git::compare_and_swap(&repo.git, &main_ref, main_old, built.landing, &log)?;
            if let (false, Some(wt), Some(lock)) = (moved, &checked.main_worktree, &main_lock) {
                // Main moved under the landing: its worktree goes back first.
                store.with_lock(SYNC_LOCK, || {
                    git::checkout(wt, landing_tree, main_tree, &landed_paths, lock)
                })?;
                journal.main_ahead = false;
                journal.save(store)?;
            }
            Ok((moved, warnings))
        })?;
        if moved {
            break (built.landing, built, main_lock, warnings);
        }
        drop(main_lock);
        unlock_index(store, journal)?;
        if attempt >= MAX_ATTEMPTS {
            let lock = repo.common_dir.join("refs/heads").join(format!("{}.lock", req.main_branch));
            if lock_stays(&lock) {
                // Not main moving: a lock a git that died left, which no retry clears.
                return Err(Refusal::failed(format!("{} is locked: {} exists", req.main_branch, lock.display()))
                    .hint("a git command is moving it, or one died while it did; if none is running, remove that file")
                    .hint(format!("then run `git par finish {}` again", req.id))
                    .into());
            }
            return Err(Refusal::busy(format!(
                "{} kept moving while {} was landing",
                req.main_branch, req.id
            ))
            .hint(format!(
                "something outside git-par is committing to {}; retry `git par finish {}`",
                req.main_branch, req.id
            ))
            .into());
        }
        journal.landing = None;
        if let Some(merged) = Journal::oid(&journal.task_head) {
            // Merge again from the task's own tip, not on top of this merge,
            // so one merge of main lands however often main moved. The
            // journal names the merge until the branch is back at the tip.
            journal.advance(store, Step::TaskMerged)?;
            move_task_branch(repo, store, journal, req, checked, merged, checked.task_tip)?;
            journal.task_head = None;
        }
        journal.advance(store, Step::Started)?;
        progress(Progress::Retrying { attempt });
    };
    journal.advance(store, Step::Landed)?;
    crash_point("main-moved")?;

    // Steps 6 (worktree) and 7.
    let mut warnings = scope_warnings;
    complete(repo, store, journal, main_lock, &mut warnings)?;
    let mut info = built.landing_info;
    info.commit = Some(landing);
    info.warnings.extend(warnings);
    Ok(info)
}

/// Whether the lock file at `path` is there and stays for a second, unchanged:
/// a git command moving a ref holds its lock for an instant only.
fn lock_stays(path: &Path) -> bool {
    let seen = |p: &Path| fs::symlink_metadata(p).ok().map(|m| (index_lock::file_id(p), m.modified().ok()));
    let Some(first) = seen(path) else { return false };
    std::thread::sleep(Duration::from_secs(1));
    seen(path) == Some(first)
}

/// Every path the trees of commits `old` and `new` differ in (both sides
/// of a rename): what a landing from `old` to `new` changes on main.
fn changed_paths(repo: &Repo, old: Oid, new: Oid) -> Result<Vec<String>> {
    git::touched_paths(&repo.git, git::tree_of(&repo.git, old)?, git::tree_of(&repo.git, new)?)
}

/// Checks, holding the main worktree's index lock just before main moves,
/// that nothing in progress or in the way stops bringing the worktree from
/// `main_old` to `landing`: no rebase, merge, cherry-pick, revert, bisect
/// or `git am` on main anywhere; main still checked out where it was; no
/// local changes in the paths that change; nothing to write through.
fn main_worktree_ready(
    repo: &Repo,
    req: &Request,
    checked: &Checked,
    main_old: Oid,
    landing: Oid,
    paths: &[String],
) -> Result<()> {
    refuse_operation_on_main(repo, req)?;
    let Some(wt) = &checked.main_worktree else { return Ok(()) };
    let now = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &req.main_branch)?;
    if now.as_deref() != Some(wt.as_path()) {
        return Err(Refusal::failed(format!(
            "{} was checked out in {} and no longer is",
            req.main_branch,
            wt.display()
        ))
        .hint(format!("run `git par finish {}` again", req.id))
        .into());
    }
    check_main_worktree(wt, paths, req)?;
    let (from, to) = (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, landing)?);
    let blocked = git::in_the_way(wt, from, to, paths)?;
    if !blocked.is_empty() {
        let doing = format!("{}'s landing", req.id);
        return Err(
            in_the_way_refusal(&req.main_branch, wt, &doing, &blocked, req, &checked.task.branch).into()
        );
    }
    Ok(())
}

/// Step 3: the commit to test and land. Main merged into `head` when main has
/// moved since the task's base; `head` itself when not. Returns too the
/// task's tasks.md edits that clashed with main's in that merge (a diff).
fn integrate(
    repo: &Repo,
    req: &Request,
    checked: &Checked,
    main: Oid,
    head: Oid,
    sigs: &git::Signatures,
) -> Result<(Oid, String)> {
    if head == main || repo.git.graph_descendant_of(head, main).context("comparing histories")? {
        return Ok((head, String::new()));
    }
    // A task with no commits of its own: its branch just fast-forwards to main.
    if repo.git.graph_descendant_of(main, head).context("comparing histories")? {
        return Ok((main, String::new()));
    }
    match git::merge_into_task(&repo.git, head, main, req.tasks_file.as_deref())? {
        Integration::Conflicts(conflicts) => {
            let width = conflicts.iter().map(|c| c.path.len()).max().unwrap_or(0);
            let list: Vec<String> =
                conflicts.iter().map(|c| format!("  {:width$}  {}", c.path, c.kind)).collect();
            let wt = checked.task.worktree.display();
            Err(Refusal::failed(format!(
                "{} conflicts with {} in {} file{}:\n{}",
                req.id,
                req.main_branch,
                conflicts.len(),
                plural(conflicts.len()),
                list.join("\n")
            ))
            .hint(format!(
                "resolve them in the task's worktree: `cd {wt} && git merge {}`, fix the files, `git commit`, then run `git par finish {}` again",
                req.main_branch, req.id
            ))
            .hint(format!("nothing changed: {} and {} are as they were", req.main_branch, checked.task.branch))
            .into())
        }
        Integration::Clean { tree, tasks } => {
            let message = format!("Merge branch '{}' into {}", req.main_branch, checked.task.branch);
            let merge = git::commit(&repo.git, tree, &[head, main], &message, sigs)?;
            Ok((merge, tasks.map(|t| t.dropped).unwrap_or_default()))
        }
    }
}

/// Moves the task branch and its worktree from `old` to `new` (checkout
/// first, then the ref, so a crash leaves HEAD's tree or the new one).
fn move_task_branch(
    repo: &Repo,
    store: &Store,
    journal: &mut Journal,
    req: &Request,
    checked: &Checked,
    old: Oid,
    new: Oid,
) -> Result<()> {
    let (old_tree, new_tree) = (git::tree_of(&repo.git, old)?, git::tree_of(&repo.git, new)?);
    let paths = git::touched_paths(&repo.git, old_tree, new_tree)?;
    let wt = &checked.task.worktree;
    if !paths.is_empty() {
        let blocked = git::in_the_way(wt, old_tree, new_tree, &paths)?;
        if !blocked.is_empty() {
            let (id, main) = (&checked.task.id, &req.main_branch);
            let doing = format!("merging {main} into it");
            return Err(in_the_way_refusal(id, wt, &doing, &blocked, req, &checked.task.branch).into());
        }
        let lock = lock_index(
            store,
            journal,
            wt,
            &format!("the worktree of {}", checked.task.id),
            &format!("git par finish {}", req.id),
        )?;
        let updated = git::checkout(wt, old_tree, new_tree, &paths, &lock);
        drop(lock);
        unlock_index(store, journal)?;
        updated?;
    }
    crash_point("task-worktree")?;
    let branch_ref = format!("refs/heads/{}", checked.task.branch);
    let log = format!("git-par finish {}: merge main", checked.task.id);
    if !git::compare_and_swap(&repo.git, &branch_ref, old, new, &log)? {
        anyhow::bail!("{} moved while its task was being finished", checked.task.branch);
    }
    crash_point("task-merged")
}

/// Step 4: runs the user's verify command in the task's worktree.
fn verify(store: &Store, command: &str, worktree: &Path, id: &str) -> Result<()> {
    let dir = store.dir().join("verify");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let out_path = dir.join(format!("{id}.out"));
    let out = fs::File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
    let err = out.try_clone().with_context(|| format!("opening {}", out_path.display()))?;
    // One file for both streams keeps their lines in order.
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(worktree)
        .env("GIT_PAR_TASK", id)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .with_context(|| format!("running `sh -c {command}`"))?;
    let output = fs::read(&out_path).unwrap_or_default();
    let _ = fs::remove_file(&out_path);
    // Whatever the command changed goes to the stash: the rollback then puts
    // the worktree back exactly, and nothing the command wrote is lost.
    let dirty = git::uncommitted(worktree, None)?;
    let saved = if dirty.is_empty() {
        None
    } else {
        let message = format!("git-par: changes made by --verify of {id}");
        Some(match git::stash_everything(worktree, &message) {
            Ok(()) => format!(
                "the files it changed are saved in stash@{{0}} (\"{message}\"): see them with \
                 `git -C {} stash show -p --include-untracked stash@{{0}}`",
                worktree.display()
            ),
            Err(e) => format!(
                "the files it changed are still in the worktree ({}): saving them in the stash failed: {e:#}",
                worktree.display()
            ),
        })
    };
    let refusal = if status.success() {
        if dirty.is_empty() {
            return Ok(());
        }
        Refusal::failed(format!("`{command}` changed files in the worktree of {id}:\n{}", list_status(&dirty)))
            .hint("what is verified must be what lands: make the verify command leave the worktree alone, or ignore what it writes in .gitignore")
    } else {
        let text = String::from_utf8_lossy(&output);
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(VERIFY_TAIL)..].join("\n");
        let code =
            status.code().map(|c| format!("exit {c}")).unwrap_or_else(|| "killed by a signal".to_string());
        let shown = if tail.is_empty() { "(no output)".to_string() } else { tail };
        Refusal::failed(format!("verify failed ({code}): `{command}`; its last lines:\n{shown}")).hint(
            format!(
                "fix the task in its worktree ({}), commit, and run `git par finish {id}` again",
                worktree.display()
            ),
        )
    };
    Err(match saved {
        Some(saved) => refusal.hint(saved),
        None => refusal,
    }
    .into())
}

/// The landing commit, built from the tested commit.
struct Built {
    landing: Oid,
    landing_info: Landing,
    worktree_tick: Option<(String, String)>,
}

/// Step 5: builds the landing commit (and, for ff, the tick commit on top
/// of the task tip) without moving anything.
/// `clashes`: the task's tasks.md edits the merge of step 3 already left out.
fn build(
    repo: &Repo,
    req: &Request,
    main: Oid,
    tested: Oid,
    sigs: &git::Signatures,
    clashes: String,
) -> Result<Built> {
    let git = &repo.git;
    let (main_tree, tested_tree) = (git::tree_of(git, main)?, git::tree_of(git, tested)?);
    let commits = if tested == main { Vec::new() } else { git::task_commits(git, tested, main)? };
    let mut files = git::changes(git, main_tree, tested_tree, true)?;
    // The task's own edits of tasks.md do not land (below).
    files.retain(|c| !req.tasks_file.as_ref().is_some_and(|f| *f == c.path));

    let result = result_line(req, tested, commits.len(), files.len());
    let mut tree = tested_tree;
    let mut description = None;
    let mut tasks_diff = String::new();
    let mut dropped = clashes;
    let mut worktree_tick = None;
    let mut warnings = Vec::new();
    if let Some(file) = &req.tasks_file {
        let task_text = git::read_text(git, tested_tree, file)?;
        // git-par owns tasks.md: what lands is main's version, ticked, with
        // only the task's own checkbox taken from its branch. Other edits
        // (other tasks ticked or changed, tasks added, a file that does not
        // parse) are dropped and shown.
        tree = git::with_entry_of(git, tree, file, main_tree)?;
        if git::tree_has(git, main_tree, file) {
            match git::read_text(git, main_tree, file)? {
                Some(main_text) => {
                    let text = match &task_text {
                        Some(theirs) => tasks::merge::own_checkbox(&main_text, theirs, &req.id),
                        None => main_text.clone(),
                    };
                    if task_text.as_deref() != Some(text.as_str()) {
                        dropped += &match &task_text {
                            Some(theirs) => similar::TextDiff::from_lines(&text, theirs)
                                .unified_diff()
                                .context_radius(1)
                                .header("tasks.md (landed)", "tasks.md (task branch)")
                                .to_string(),
                            None => format!(
                                "{file} on {} is gone or not UTF-8 text; main's version is kept\n",
                                checked_branch(req)
                            ),
                        };
                    }
                    description = describe(&text, &req.id);
                    let updated = match tasks::edit::land(&text, &req.id, &result) {
                        Ok(updated) => updated,
                        Err(e) => {
                            warnings.push(format!("{file} was not updated: {e:#}"));
                            text
                        }
                    };
                    if updated != main_text {
                        tree = git::with_file(git, tree, file, &updated)?;
                    }
                    tasks_diff = unified(&main_text, &updated, file);
                }
                None => warnings
                    .push(format!("{file} on {} is not UTF-8 text, so it was not updated", req.main_branch)),
            }
        } else {
            if task_text.is_some() {
                dropped += &format!(
                    "{file} was added on {}, but {} does not track it: left out\n",
                    checked_branch(req),
                    req.main_branch
                );
            }
            // Not committed: tick the working copy once the task has landed.
            let path = repo.main_root.join(file);
            if let Ok(text) = fs::read_to_string(&path) {
                description = describe(&text, &req.id);
                if let Ok(updated) = tasks::edit::land(&text, &req.id, &result) {
                    tasks_diff = unified(&text, &updated, file);
                }
                worktree_tick = Some((file.clone(), result.clone()));
            }
        }
    }
    let message = landing_message(&req.id, description.as_deref(), &commits, req.strategy);
    let landing = if tested == main {
        // Nothing to merge: a single commit that records the task.
        git::commit(git, tree, &[main], &message, sigs)?
    } else {
        match req.strategy {
            Strategy::Merge => git::commit(git, tree, &[main, tested], &message, sigs)?,
            Strategy::Squash => git::commit(git, tree, &[main], &message, sigs)?,
            // Fast-forward to the task tip, then the tasks.md tick as its own commit.
            Strategy::Ff if tree == tested_tree => tested,
            Strategy::Ff => git::commit(git, tree, &[tested], &message, sigs)?,
        }
    };
    Ok(Built {
        landing,
        landing_info: Landing {
            task: req.id.clone(),
            commit: None,
            strategy: req.strategy,
            main_branch: req.main_branch.clone(),
            commits,
            files,
            message,
            tasks_diff,
            dropped,
            warnings,
        },
        worktree_tick,
    })
}

/// The task branch, as named in messages about what the landing left out.
fn checked_branch(req: &Request) -> String {
    format!("the branch of {}", req.id)
}

fn describe(text: &str, id: &str) -> Option<String> {
    let file = tasks::parse::parse(text, &tasks::Options::default());
    file.get(id).map(|t| t.description.clone()).filter(|d| !d.is_empty())
}

/// The result line written under the task in tasks.md. The landing commit's
/// own hash cannot be in it (the line is part of that commit), so it names
/// the task tip that was merged — the landing commit's second parent for
/// `merge`, the parent of the tick commit for `ff` — and for `squash` the
/// branch name.
fn result_line(req: &Request, tested: Oid, commits: usize, files: usize) -> String {
    let counts = format!("{commits} commit{}, {files} file{}", plural(commits), plural(files));
    let what = match req.strategy {
        _ if commits == 0 && files == 0 => "landed with no changes".to_string(),
        Strategy::Merge => format!("merged {} ({counts})", git::short(tested)),
        Strategy::Ff => format!("fast-forwarded to {} ({counts})", git::short(tested)),
        Strategy::Squash => format!("squashed {} ({counts})", req.id),
    };
    format!("{what} · {}/{}.log", req.log_dir.trim_end_matches('/'), req.id)
}

fn landing_message(
    id: &str,
    description: Option<&str>,
    commits: &[(String, String)],
    strategy: Strategy,
) -> String {
    // Read in terminals (`git log`): text from tasks.md and commit subjects
    // has its control characters written out.
    let safe = crate::text::escape_controls;
    let subject = shorten(&format!("{id}: {}", safe(description.unwrap_or("land the task"))), SUBJECT_MAX);
    let mut body = String::new();
    if commits.is_empty() {
        body.push_str("The task made no commits.\n");
    } else {
        let how = match strategy {
            Strategy::Merge => "Merges",
            Strategy::Squash => "Squashes",
            Strategy::Ff => "Fast-forwards",
        };
        body.push_str(&format!("{how} {} commit{}:\n", commits.len(), plural(commits.len())));
        for (hash, summary) in commits {
            body.push_str(&format!("  {hash} {}\n", safe(summary)));
        }
    }
    format!("{subject}\n\n{body}\nPar-Task: {id}\n")
}

/// Cuts `text` to at most `max` characters, at a word boundary when one is
/// near, marking the cut with `…`.
fn shorten(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    let cut: String = text.chars().take(max - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(at) if cut[..at].chars().count() >= max / 2 => {
            cut[..at].trim_end_matches([',', ';', ':', '-', ' ']).to_string()
        }
        _ => cut,
    };
    format!("{cut}…")
}

/// `30s`, `0.5s`: how long, the way `--wait` takes it.
fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}s")
    } else {
        format!("{}s", format!("{secs:.3}").trim_end_matches('0'))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn unified(before: &str, after: &str, path: &str) -> String {
    if before == after {
        return String::new();
    }
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

fn strategy_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Merge => "merge",
        Strategy::Squash => "squash",
        Strategy::Ff => "ff",
    }
}

/// Steps 6 (the worktree with main checked out) and 7, from wherever the
/// journal says the landing got to. Each part is safe to redo.
/// `main_lock` is the main worktree's index lock when the landing holds it
/// since before main moved; without it (a repair) the lock is taken here.
fn complete(
    repo: &Repo,
    store: &Store,
    journal: &mut Journal,
    main_lock: Option<IndexLock>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let landing = Journal::oid(&journal.landing).context("the journal has no landing commit")?;
    if journal.step < Step::Synced {
        // Readers of tasks.md hold this lock shared: the checkout below
        // rewrites files in place, and they must not see one half written.
        store.with_lock(SYNC_LOCK, || {
            sync_main_worktree(repo, store, journal, landing, main_lock, warnings)
        })?;
        journal.advance(store, Step::Synced)?;
        crash_point("main-synced")?;
    }
    if journal.step < Step::Released {
        store.transact(|state| {
            state.tasks.remove(&journal.task);
            Ok(())
        })?;
        journal.advance(store, Step::Released)?;
        crash_point("released")?;
    }
    if journal.step < Step::Cleaned {
        let tested = Journal::oid(&journal.task_head).or(Oid::from_str(&journal.task_tip).ok());
        if !journal.keep {
            let removed = store.with_lock(crate::lifecycle::WORKTREES_LOCK, || {
                if repo.worktree_intact(&journal.worktree) {
                    match git::remove_worktree(&repo.git, &journal.worktree) {
                        Ok(()) => return Ok(()),
                        Err(e) if repo.worktree_locked(&journal.worktree) => return Err(e),
                        Err(_) => {}
                    }
                }
                // A finish killed while removing it leaves half a record or
                // half a directory, which git no longer takes for a worktree
                // (and a record that still holds the branch).
                repo.discard_worktree(&journal.worktree)
            });
            if let Err(e) = removed {
                warnings.push(format!(
                    "could not remove the worktree {}: {e:#}; remove it with `git worktree remove {}`",
                    journal.worktree.display(),
                    journal.worktree.display()
                ));
            }
            crash_point("worktree-removed")?;
            if let Some(tip) = tested {
                match git::delete_branch(&repo.git, &journal.branch, tip) {
                    Ok(_) => {}
                    Err(e) => warnings.push(format!(
                        "could not delete the branch {}: {e:#}; delete it with `git branch -D {}`",
                        journal.branch, journal.branch
                    )),
                }
            }
        }
        let short_landing = git::short(landing);
        let details = format!(
            "landed on {} as {short_landing} ({}, {} commit{}, {} file{}){}",
            journal.main_branch,
            journal.strategy,
            journal.commits,
            plural(journal.commits),
            journal.files,
            plural(journal.files),
            if journal.keep { "; worktree and branch kept" } else { "" }
        );
        let at = crate::state::now();
        let line = crate::logs::lifecycle_line(&at, "finish", &journal.task, &details);
        if let Err(e) = crate::logs::append(&repo.main_root, &journal.log_dir, &journal.task, &line) {
            warnings.push(format!("could not write the log of {}: {e:#}", journal.task));
        }
        store.record(
            "finish",
            &journal.task,
            serde_json::json!({
                "at": at,
                "commit": landing.to_string(),
                "strategy": journal.strategy,
                "main_branch": journal.main_branch,
                "commits": journal.commits,
                "files": journal.files,
                "task_tip": tested.map(|t| t.to_string()),
                "kept": journal.keep,
            }),
        )?;
        journal.advance(store, Step::Cleaned)?;
        crash_point("cleaned")?;
    }
    journal.remove(store)
}

/// Step 6, the worktree part: brings the worktree that has the main branch
/// checked out from the old main to the landing, and ticks an untracked
/// tasks.md in place.
fn sync_main_worktree(
    repo: &Repo,
    store: &Store,
    journal: &mut Journal,
    landing: Oid,
    main_lock: Option<IndexLock>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let main_ref = format!("refs/heads/{}", journal.main_branch);
    let main_old = Journal::oid(&journal.main_old).context("the journal has no old main")?;
    let main_now = git::ref_target(&repo.git, &main_ref)?;
    if main_now == Some(landing) {
        if let Some(wt) = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &journal.main_branch)? {
            let (old_tree, new_tree) =
                (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, landing)?);
            let paths = git::touched_paths(&repo.git, old_tree, new_tree)?;
            let (lock_path, _) = index_lock::paths(&wt)?;
            let held = main_lock.filter(|lock| lock.path() == lock_path);
            match held {
                // Brought up to date before main moved, under this very lock.
                Some(lock) if journal.main_ahead => drop(lock),
                held => {
                    let lock = match held {
                        Some(lock) => lock,
                        None => {
                            let whose = format!("the worktree of {}", journal.main_branch);
                            lock_index(store, journal, &wt, &whose, "git par doctor --repair")?
                        }
                    };
                    let updated = git::checkout(&wt, old_tree, new_tree, &paths, &lock);
                    drop(lock);
                    updated.map_err(|e| {
                        main_update_failed(e, &journal.main_branch, &wt, "`git par doctor --repair`")
                    })?;
                }
            }
            unlock_index(store, journal)?;
        }
    } else {
        warnings.push(format!(
            "{} moved on after the landing; its worktree was left for git to update",
            journal.main_branch
        ));
    }
    if let Some((file, result)) = &journal.worktree_tick {
        let path = repo.main_root.join(file);
        if let Ok(text) = fs::read_to_string(&path) {
            if let Ok(updated) = tasks::edit::land(&text, &journal.task, result) {
                if updated != text {
                    fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))?;
                }
            }
        }
    }
    Ok(())
}

/// Brings the main worktree, which a landing that did not reach the commit
/// point had brought (maybe partly) to the landing, back to main.
fn main_worktree_back(
    repo: &Repo,
    store: &Store,
    journal: &mut Journal,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let (Some(main_old), Some(landing)) = (Journal::oid(&journal.main_old), Journal::oid(&journal.landing))
    else {
        return Ok(());
    };
    let main_now = git::ref_target(&repo.git, &format!("refs/heads/{}", journal.main_branch))?;
    let wt = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &journal.main_branch)?;
    match (main_now == Some(main_old), wt) {
        (true, Some(wt)) => {
            let (old_tree, new_tree) =
                (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, landing)?);
            let paths = git::touched_paths(&repo.git, old_tree, new_tree)?;
            let whose = format!("the worktree of {}", journal.main_branch);
            let lock = lock_index(store, journal, &wt, &whose, "git par doctor --repair")?;
            let back = store.with_lock(SYNC_LOCK, || git::checkout(&wt, new_tree, old_tree, &paths, &lock));
            drop(lock);
            unlock_index(store, journal)?;
            back.map_err(|e| main_update_failed(e, &journal.main_branch, &wt, "`git par doctor --repair`"))?;
        }
        (true, None) => {}
        (false, _) => warnings.push(format!(
            "{} moved on while {} was landing; its worktree was left for git to update",
            journal.main_branch, journal.task
        )),
    }
    journal.main_ahead = false;
    journal.save(store)
}

/// The error of a failed update of the worktree `wt` that has `main`
/// checked out, saying how to finish it (`then`).
fn main_update_failed(err: anyhow::Error, main: &str, wt: &Path, then: &str) -> anyhow::Error {
    if let Some(blocked) = err.downcast_ref::<git::Blocked>() {
        let list: Vec<String> = blocked.0.iter().map(|b| format!("  {} ({})", b.path, b.what)).collect();
        return Refusal::failed(format!(
            "the worktree of {main} ({}) has untracked working tree files that the landing would overwrite:\n{}",
            wt.display(),
            list.join("\n")
        ))
        .hint(format!("move or remove them, then run {then}"))
        .into();
    }
    anyhow::Error::new(
        Refusal::failed(format!("could not update {main} in {}", wt.display())).hint(format!(
            "commit or stash your changes to those files in {}, then run {then}",
            wt.display()
        )),
    )
    .context(format!("{err:#}"))
}

/// Puts back what a landing that did not reach the commit point changed:
/// the task branch and worktree, and the task's status.
fn rollback(repo: &Repo, store: &Store, journal: &mut Journal, warnings: &mut Vec<String>) -> Result<()> {
    if journal.main_ahead {
        main_worktree_back(repo, store, journal, warnings)?;
    }
    if let (Some(head), Some(tip)) = (Journal::oid(&journal.task_head), Oid::from_str(&journal.task_tip).ok())
    {
        let branch_ref = format!("refs/heads/{}", journal.branch);
        let now = git::ref_target(&repo.git, &branch_ref)?;
        if now == Some(head) || now == Some(tip) {
            let (head_tree, tip_tree) = (git::tree_of(&repo.git, head)?, git::tree_of(&repo.git, tip)?);
            let paths = git::touched_paths(&repo.git, head_tree, tip_tree)?;
            let restored = if journal.worktree.join(".git").exists() && !paths.is_empty() {
                let (wt, whose) = (journal.worktree.clone(), format!("the worktree of {}", journal.task));
                let again = format!("git par finish {}", journal.task);
                let restored = lock_index(store, journal, &wt, &whose, &again)
                    .and_then(|lock| git::checkout(&wt, head_tree, tip_tree, &paths, &lock));
                unlock_index(store, journal)?;
                restored
            } else {
                Ok(())
            };
            match restored {
                Ok(()) => {
                    if now == Some(head) {
                        git::compare_and_swap(
                            &repo.git,
                            &branch_ref,
                            head,
                            tip,
                            "git-par finish: roll back",
                        )?;
                    }
                }
                Err(e) => warnings.push(format!(
                    "{} keeps the merge of {} ({}): its worktree could not be put back ({e:#})",
                    journal.branch,
                    journal.main_branch,
                    git::short(head)
                )),
            }
        }
    }
    store.transact(|state| {
        if let Some(task) = state.tasks.get_mut(&journal.task) {
            if task.state == TaskStatus::Finishing {
                task.state = journal.prev_status;
            }
        }
        Ok(())
    })?;
    journal.remove(store)
}

// ---------------------------------------------------------------------------
// --dry-run.

/// Computes what would land with every object kept in memory: no ref, file,
/// journal or state changes, no objects written.
fn dry_run(repo: &Repo, store: &Store, state: &State, req: &Request) -> Result<Landing> {
    let checked = check(repo, store, state, req, false, &|_| {})?;
    let odb = repo.git.odb().context("opening the object database")?;
    let _mempack = odb.add_new_mempack_backend(1000).context("setting up an in-memory object store")?;
    let sigs = git::signatures(&repo.git)?;
    let main_ref = format!("refs/heads/{}", req.main_branch);
    let main = git::ref_target(&repo.git, &main_ref)?.with_context(|| format!("reading {main_ref}"))?;
    let (tested, clashes) = integrate(repo, req, &checked, main, checked.task_tip, &sigs)?;
    let built = build(repo, req, main, tested, &sigs, clashes)?;
    let mut landing = built.landing_info;
    let changed = changed_paths(repo, main, built.landing)?;
    let branch = &checked.task.branch;
    match guard::enforce(&mut state.clone(), &req.id, branch, &req.main_branch, req.enforce_scope, &changed) {
        Ok(warnings) => landing.warnings.extend(warnings),
        Err(e) => {
            let why = crate::error::refusal(&e).map_or_else(|| format!("{e:#}"), |r| r.message.clone());
            landing.warnings.push(format!("finish would refuse this landing: {why}"));
        }
    }
    let dirty = git::uncommitted(&checked.task.worktree, None)?;
    if !dirty.is_empty() {
        landing.warnings.push(format!(
            "--commit would first commit {} changed file{}, which this preview leaves out",
            dirty.len(),
            plural(dirty.len())
        ));
    }
    Ok(landing)
}

#[cfg(test)]
mod tests;

mod guard;
