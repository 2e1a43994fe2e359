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
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use git2::Oid;

use crate::config::EnforceScope;
use crate::repo::index_lock::{self};
use crate::repo::land::{self as git, Change};
use crate::repo::Repo;
use crate::state::{ActiveTask, State, Store, TaskStatus};
use crate::tasks;

mod build;
mod check;
mod error;
mod journal;
mod message;
mod queue;
mod sync;
mod verify;
use self::build::{build, integrate};
use self::check::{check, in_the_way, main_worktree_ready, Checked};
pub use self::error::{Held, LandError, Resume, Stash};
pub use self::journal::{
    interrupted, left_behind, recover, remove_journal_temp, stale_journal_temps, HeldLock, Interrupted,
    Journal, Recovery, Step,
};
use self::journal::{lock_index, unlock_index};
use self::message::{landing_message, plural, result_line, strategy_name, unified};
pub use self::queue::landing_now;
use self::queue::{live_holder, with_merge_lock};
use self::sync::{complete, main_update_failed, rollback};
use self::verify::verify;
/// How many times main may move under a landing before it gives up.
const MAX_ATTEMPTS: usize = 5;

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
        return Err(LandError::AlreadyLanded { id: req.id.clone(), main: req.main_branch.clone() }.into());
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
    Err(LandError::NotActive { id: id.to_string(), active: state.tasks.keys().cloned().collect() }.into())
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

fn land(repo: &Repo, store: &Store, req: &Request, progress: &dyn Fn(Progress<'_>)) -> Result<Landing> {
    if Journal::path(store, &req.id).exists() {
        return Err(LandError::NeedsRepair { id: req.id.clone() }.into());
    }
    // Under the merge lock, so its finish is dead: main has its landing, the
    // main worktree does not, and what looks like local changes there would
    // undo it.
    if let Some(other) =
        interrupted(repo, store)?.into_iter().find(|i| i.committed && i.journal.step < Step::Synced)
    {
        let (task, main) = (other.journal.task, other.journal.main_branch);
        return Err(LandError::NotSynced { task, main, id: req.id.clone() }.into());
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
                return Err(LandError::AbortedMeanwhile { id: req.id.clone() }.into());
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
                return Err(in_the_way(&req.main_branch, main_wt, doing, blocked, req, branch).into());
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
                Some(lock_index(store, journal, wt, &whose, Resume::Finish(req.id.clone()))?)
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
                    return Err(main_update_failed(e, &req.main_branch, wt, Resume::Finish(req.id.clone())));
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
                let (id, main) = (req.id.clone(), req.main_branch.clone());
                return Err(LandError::MainLocked { id, main, lock }.into());
            }
            return Err(LandError::MainMoved { id: req.id.clone(), main: req.main_branch.clone() }.into());
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
            return Err(in_the_way(id, wt, doing, blocked, req, &checked.task.branch).into());
        }
        let lock = lock_index(
            store,
            journal,
            wt,
            &format!("the worktree of {}", checked.task.id),
            Resume::Finish(req.id.clone()),
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
            let why = e.downcast_ref::<LandError>().map_or_else(|| format!("{e:#}"), ToString::to_string);
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
