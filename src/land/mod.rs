//! The merge queue: landing a finished task on the main branch (DESIGN §6).
//!
//! Invariants:
//! - One landing at a time. Everything from reading main to moving it runs
//!   under the merge queue's lock (`queue.rs`), which names its holder for
//!   those who wait.
//! - Main moves only by a compare-and-swap from the commit the landing was
//!   built and verified on, through the state backend's commit point
//!   ([`crate::state::StateBackend::land_dyn`]): the lock check and the move
//!   are one step. That swap is the commit point: before it, the landing has
//!   not happened; after it, it has, whatever else fails.
//! - Before the commit point the only visible changes are to the task's own
//!   branch and worktree (main merged into them, step 3), and a finish that
//!   stops puts both back: it lands entirely or changes nothing but leaving
//!   unreachable objects — and a stash entry holding the files a failed
//!   `--verify` wrote, which would otherwise be lost or stop the rollback.
//! - tasks.md is changed only inside the landing commit; the main worktree
//!   gets it, like every other landed path, by a checkout of exactly the
//!   paths that changed, which never overwrites local changes.
//! - A journal (`journal.rs`) is written before each step that changes
//!   something, with the commits before and after. After a crash,
//!   [`recover`] decides from the refs whether the commit point was passed,
//!   then rolls back or completes. Every step is safe to redo.
//! - The task's locks are released, and its `finish` event recorded, in one
//!   state change after the main worktree has the landing (step 7).

use std::fs;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use git2::Oid;

use crate::config::EnforceScope;
use crate::journal::{crash_point, is_crash};
use crate::repo::index_lock::{self, IndexLock};
use crate::repo::Repo;
use crate::repo::{self as git, Change};
use crate::state::{self, ActiveTask, Lock, MainMove, State, SwapHooks, TaskStatus, Transact as _};
use crate::tasks;
use crate::workspace::Workspace;

mod batch;
mod build;
mod check;
mod error;
mod follow;
mod journal;
mod message;
mod queue;
mod sync;
mod train;
mod verify;
pub use self::batch::{finish_batch, Batch, BatchProgress, Outcome};
use self::build::{build, integrate};
use self::check::{check, in_the_way, main_worktree_ready, Checked};
pub use self::error::{Held, LandError, Resume, Stash};
pub use self::journal::{
    interrupted, is_journal_temp, left_behind, recover, remove_journal_temp, stale_journal_temps, HeldLock,
    Interrupted, Journal, Recovery, Step,
};
use self::journal::{lock_index, unlock_index};
use self::message::{landing_message, plural, result_line, strategy_name, unified};
pub use self::queue::landing_now;
use self::queue::{live_holder, with_merge_lock};
use self::sync::{complete, main_update_failed, rollback};
pub use self::train::{is_member, TrainEvent};
pub use self::verify::catch_interrupts;
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
    /// Main fast-forwards to the task's tip, and the tick is its own commit;
    /// lands as `Rebase` when main has moved since the task's base.
    Ff,
    /// The task's commits replayed onto main, the last with the tick and
    /// the `Par-Task` trailer: a linear history.
    Rebase,
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
    /// How many verifies of the merge train may run at once (`par.trainDepth`);
    /// 1 (`--no-train`) lands strictly one at a time, verify included.
    pub train_depth: usize,
}

/// `par.trainDepth`: how many verifies of the merge train run at once; the
/// number of cores when unset (or not a whole number of 1 or more, which
/// `finish` refuses).
pub fn train_depth(ws: &Workspace) -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let value = git::index::config_string(&ws.repo.git, "par.trainDepth")?;
    Ok(value.and_then(|v| v.trim().parse::<usize>().ok()).filter(|n| *n >= 1).unwrap_or(cores))
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
    /// What happened to it in the merge train (empty without one).
    pub train: Vec<TrainEvent>,
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
    /// The task's commits were replayed onto main (`rebase`).
    Rebased { main: &'a str, commit: Oid },
    /// `ff` was asked for, but main has moved since the task's base: it lands as `rebase`.
    NotFastForward { main: &'a str },
    /// Running the verify command.
    Verifying { command: &'a str },
    /// Main moved while landing; starting again from step 3.
    Retrying { attempt: usize },
    /// Something happened to it in the merge train.
    Train(&'a TrainEvent),
}

/// Runs `git par finish`: lands the task, or with `dry_run` shows what would land.
pub fn finish(ws: &Workspace, req: &Request, progress: &dyn Fn(Progress<'_>)) -> Result<Landing> {
    // Refuse an unknown task before queueing behind other landings.
    let state = ws.state().load()?;
    active_task(ws, &state, req)?;
    if req.dry_run {
        return dry_run(ws, &state, req);
    }
    if let Some(remote) = ws.state().remote() {
        // Remote mode lands one at a time by an atomic push (the train is
        // local): the merge lock is held throughout, as with --no-train.
        remote.set_wait(req.wait.unwrap_or(crate::state::remote::DEFAULT_WAIT));
        let req = Request { train_depth: 1, ..req.clone() };
        return with_merge_lock(ws.par(), &req.id, req.wait, progress, || land(ws, &req, progress));
    }
    if req.train_depth > 1 {
        return train::land(ws, req, progress);
    }
    with_merge_lock(ws.par(), &req.id, req.wait, progress, || land(ws, req, progress))
}

/// The active task `req` names; a task that is not active is refused,
/// saying so when it has already landed.
fn active_task<'a>(ws: &Workspace, state: &'a State, req: &Request) -> Result<&'a ActiveTask> {
    if !state.tasks.contains_key(&req.id) && landed_before(ws, req) {
        return Err(LandError::AlreadyLanded { id: req.id.clone(), main: req.main_branch.clone() }.into());
    }
    active(state, &req.id)
}

/// Whether a task that is not active landed: ticked in main's tasks.md, or
/// its last start, finish or abort in `events.jsonl` is a finish.
fn landed_before(ws: &Workspace, req: &Request) -> bool {
    let repo = &ws.repo;
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
    let Ok(events) = ws.events() else { return false };
    state::last_event(&events, &req.id, &["start", "finish", "abort"]) == Some("finish")
}

fn active<'a>(state: &'a State, id: &str) -> Result<&'a ActiveTask> {
    if let Some(task) = state.tasks.get(id) {
        return Ok(task);
    }
    Err(LandError::NotActive { id: id.to_string(), active: state.tasks.keys().cloned().collect() }.into())
}

/// The steps a test can crash a finish at, in order ([`crate::journal::CRASH_ENV`]).
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

#[cfg(test)]
thread_local! {
    /// Runs just before the swap of main: lets a test move main under a landing.
    static TEST_BEFORE_SWAP: std::cell::RefCell<Option<Box<dyn FnMut()>>> = std::cell::RefCell::new(None);
}

fn land(ws: &Workspace, req: &Request, progress: &dyn Fn(Progress<'_>)) -> Result<Landing> {
    refuse_unrepaired(ws, req)?;
    run_landing(ws, req, progress, &mut |checked, journal| land_steps(ws, req, checked, journal, progress))
}

/// Refuses a landing while a finish of this task died unrepaired, or one
/// that died past its commit point left the main worktree behind. Only
/// meaningful under the merge lock, when no finish is at its commit point.
fn refuse_unrepaired(ws: &Workspace, req: &Request) -> Result<()> {
    if Journal::exists(ws.par(), &req.id) {
        return Err(LandError::NeedsRepair { id: req.id.clone() }.into());
    }
    refuse_not_synced(ws, req)
}

/// Refuses a landing while a finish that died past its commit point left
/// the main worktree behind (under the merge lock: that finish is dead).
fn refuse_not_synced(ws: &Workspace, req: &Request) -> Result<()> {
    // Its finish is dead: main has its landing, the main worktree does not,
    // and what looks like local changes there would undo it. (A train member
    // still alive is between the swap and the sync only under the merge lock.)
    // (A carried landing's main worktree was brought along by the finish that landed it.)
    if let Some(other) = interrupted(ws)?
        .into_iter()
        .find(|i| !i.live && i.committed && !i.journal.carried && i.journal.step < Step::Synced)
    {
        let (task, main) = (other.journal.task, other.journal.main_branch);
        return Err(LandError::NotSynced { task, main, id: req.id.clone() }.into());
    }
    Ok(())
}

/// Steps 2 to 7 around `steps`: checks the task, writes the journal and marks
/// the task finishing, then runs `steps`; when they fail before the commit
/// point, puts everything back.
fn run_landing(
    ws: &Workspace,
    req: &Request,
    progress: &dyn Fn(Progress<'_>),
    steps: &mut dyn FnMut(&Checked, &mut Journal) -> Result<Landing>,
) -> Result<Landing> {
    // In a train this runs outside the merge lock, and the check looks at
    // main's worktree, which a landing at its commit point is rewriting:
    // it takes the lock for the check (as a finish outside the train holds it throughout).
    let checked = if req.train_depth > 1 {
        with_merge_lock(ws.par(), &req.id, req.wait, progress, || {
            check(ws, &ws.state().load()?, req, true, progress)
        })?
    } else {
        check(ws, &ws.state().load()?, req, true, progress)?
    };
    let mut journal = start_journal(ws, req, &checked)?;
    let result = set_status(ws, &req.id, TaskStatus::Finishing).and_then(|()| {
        crash_point("started")?;
        steps(&checked, &mut journal)
    });
    result.map_err(|e| give_back(ws, req, &mut journal, e))
}

/// Step 2's record: writes the journal of `req`'s landing, before the task
/// is marked finishing (which [`give_back`] undoes).
fn start_journal(ws: &Workspace, req: &Request, checked: &Checked) -> Result<Journal> {
    let journal = Journal {
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
        batch: None,
        carried: false,
    };
    journal.save(ws.par())?;
    Ok(journal)
}

/// The error a landing of `req` that stopped with `e` returns: before the
/// commit point, once everything it changed is put back (the task active
/// again); after it, saying that the task landed and what finishes it.
fn give_back(ws: &Workspace, req: &Request, journal: &mut Journal, e: anyhow::Error) -> anyhow::Error {
    if is_crash(&e) || is_uncertain(&e) {
        return e;
    }
    if journal.step >= Step::Landed {
        return e.context(format!(
            "{} landed on {}, but finishing up failed; run `git par doctor --repair`",
            req.id, req.main_branch
        ));
    }
    let mut warnings = Vec::new();
    match ws.state().load() {
        Ok(state) if !state.tasks.contains_key(&req.id) => {
            // Its worktree and branch may be gone too: whatever failed
            // here failed because of that, and is no news.
            let _ = rollback(ws, journal, &mut warnings);
            return LandError::AbortedMeanwhile { id: req.id.clone() }.into();
        }
        Ok(_) => {}
        Err(load) => return e.context(format!("and reading the state failed: {load:#}")),
    }
    match rollback(ws, journal, &mut warnings) {
        Ok(()) if warnings.is_empty() => e,
        Ok(()) => e.context(warnings.join("; ")),
        Err(undo) => {
            e.context(format!("and putting things back failed: {undo:#}; run `git par doctor --repair`"))
        }
    }
}

/// Whether `e` says the landing's push may have happened: then nothing is
/// rolled back, and `doctor --repair` asks the remote.
fn is_uncertain(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<crate::state::remote::PushUncertain>().is_some())
}

fn set_status(ws: &Workspace, id: &str, status: TaskStatus) -> Result<()> {
    ws.state().update(|state| {
        if let Some(task) = state.tasks.get_mut(id) {
            task.state = status;
        }
        Ok(())
    })
}

fn land_steps(
    ws: &Workspace,
    req: &Request,
    checked: &Checked,
    journal: &mut Journal,
    progress: &dyn Fn(Progress<'_>),
) -> Result<Landing> {
    let repo = &ws.repo;
    let sigs = git::signatures(&repo.git)?;
    let main_ref = format!("refs/heads/{}", req.main_branch);
    let mut attempt = 0;
    let (prepared, main_lock, scope_warnings) = loop {
        attempt += 1;
        follow::follow_remote_main(ws, req, checked, journal)?;
        let main_old = git::ref_target(&repo.git, &main_ref)?
            .with_context(|| format!("the main branch '{}' disappeared", req.main_branch))?;
        let prepared = prepare(ws, req, checked, journal, main_old, &sigs, progress)?;
        verify_prepared(ws, req, checked, journal, progress)?;
        if let Some((main_lock, warnings)) = commit_point(ws, req, checked, journal, &prepared)? {
            break (prepared, main_lock, warnings);
        }
        if attempt >= MAX_ATTEMPTS {
            return Err(kept_moving(ws, req));
        }
        unprepare(ws, req, checked, journal)?;
        progress(Progress::Retrying { attempt });
    };
    journal.advance(ws.par(), Step::Landed)?;
    crash_point("main-moved")?;

    // Steps 6 (worktree) and 7.
    let mut warnings = scope_warnings;
    complete(ws, journal, main_lock, &mut warnings)?;
    Ok(prepared.landed(warnings))
}

/// A landing built on a base (and, once verified, ready for the commit point).
pub(super) struct Prepared {
    /// The commit main is to move from.
    base: Oid,
    built: build::Built,
    /// What changes on main, from `base` to the landing.
    paths: Vec<String>,
}

impl Prepared {
    /// What a finish reports once this landing is on main.
    fn landed(&self, warnings: Vec<String>) -> Landing {
        let mut info = self.built.landing_info.clone();
        info.commit = Some(self.built.landing);
        info.warnings.extend(warnings);
        info
    }
}

/// Steps 3 and 5 on `base` (main, or in a train the landing of the entry
/// ahead): puts main and the task together, builds the landing commit,
/// checks its paths against the locks, and moves the task's branch and
/// worktree to it, for the verify to see exactly the tree that lands.
/// Nothing outside the task has moved.
fn prepare(
    ws: &Workspace,
    req: &Request,
    checked: &Checked,
    journal: &mut Journal,
    base: Oid,
    sigs: &git::Signatures,
    progress: &dyn Fn(Progress<'_>),
) -> Result<Prepared> {
    let repo = &ws.repo;
    let branch = &checked.task.branch;
    let head = checked.task_tip;
    let tested = integrate(repo, req, checked, base, head, sigs)?;
    let built = build(repo, req, base, head, &tested, sigs)?;
    // What would land is known now: refuse before anything moves or a
    // verify runs when it breaks the locks or cannot reach main's worktree.
    let paths = changed_paths(repo, base, built.landing)?;
    guard::enforce(&mut ws.state().load()?, &req.id, branch, &req.main_branch, req.enforce_scope, &paths)?;
    let main_now = git::ref_target(&repo.git, &format!("refs/heads/{}", req.main_branch))?;
    // In a train, another entry may be bringing main's worktree to its
    // landing right now: that worktree is looked at only under the merge
    // lock, at the commit point.
    let alone = req.train_depth <= 1;
    if let Some(main_wt) = checked.main_worktree.as_ref().filter(|_| alone && main_now == Some(base)) {
        let (from, to) = (git::tree_of(&repo.git, base)?, git::tree_of(&repo.git, built.landing)?);
        let blocked = git::in_the_way(main_wt, from, to, &paths)?;
        if !blocked.is_empty() {
            let doing = format!("{}'s landing", req.id);
            return Err(in_the_way(&req.main_branch, main_wt, doing, blocked, req, branch).into());
        }
    }
    journal.main_old = Some(base.to_string());
    journal.landing = Some(built.landing.to_string());
    journal.commits = built.landing_info.commits.len();
    journal.files = built.landing_info.files.len();
    journal.worktree_tick = built.worktree_tick.clone();
    journal.strategy = strategy_name(tested.strategy).to_string();
    let mut under_test = head;
    if built.landing != head {
        // The task's worktree gets exactly the tree that lands, for the
        // verify, as a commit of its own: the landing commit (its trailer
        // says the task landed) is seen on no branch before main has it.
        let landing = repo
            .git
            .find_commit(built.landing)
            .with_context(|| format!("reading commit {}", built.landing))?;
        let parents: Vec<Oid> = landing.parent_ids().collect();
        let message = format!("git-par: the landing of {} under test (not landed)\n", req.id);
        under_test = git::commit(&repo.git, landing.tree_id(), &parents, &message, sigs)?;
        journal.task_head = Some(under_test.to_string());
        journal.advance(ws.par(), Step::TaskMerged)?;
        crash_point("task-merge-commit")?;
        move_task_branch(ws, journal, req, checked, head, under_test)?;
    }
    if req.strategy == Strategy::Ff && tested.strategy == Strategy::Rebase {
        progress(Progress::NotFastForward { main: &req.main_branch });
    }
    // On a train's speculative base, it is not main that was merged in.
    if tested.merged && main_now == Some(base) {
        let (main, commit) = (req.main_branch.as_str(), under_test);
        progress(match tested.strategy {
            Strategy::Rebase => Progress::Rebased { main, commit },
            _ => Progress::MergedMain { main, commit },
        });
    }
    Ok(Prepared { base, built, paths })
}

/// Step 4: the verify, in the task's worktree, which has the landing checked out.
fn verify_prepared(
    ws: &Workspace,
    req: &Request,
    checked: &Checked,
    journal: &mut Journal,
    progress: &dyn Fn(Progress<'_>),
) -> Result<()> {
    if let Some(command) = &req.verify {
        progress(Progress::Verifying { command });
        verify(ws.par(), command, &checked.task.worktree, &req.id)?;
    }
    crash_point("verified")?;
    journal.advance(ws.par(), Step::Landing)?;
    crash_point("landing-commit")
}

/// Puts the task's branch and worktree back at its own tip after a landing
/// that lost the compare-and-swap, to prepare again on the new main.
fn unprepare(ws: &Workspace, req: &Request, checked: &Checked, journal: &mut Journal) -> Result<()> {
    journal.landing = None;
    if let Some(moved) = Journal::oid(&journal.task_head) {
        // The journal names the landing until the branch is back at the tip.
        journal.advance(ws.par(), Step::TaskMerged)?;
        move_task_branch(ws, journal, req, checked, moved, checked.task_tip)?;
        journal.task_head = None;
    }
    journal.advance(ws.par(), Step::Started)
}

/// Step 6: the commit point. Moves main from the prepared base to the
/// landing, with the lock check, in one step of the state; `None` when main
/// is no longer at the base (nothing moved, the main worktree put back).
fn commit_point(
    ws: &Workspace,
    req: &Request,
    checked: &Checked,
    journal: &mut Journal,
    prepared: &Prepared,
) -> Result<Option<(Option<IndexLock>, Vec<String>)>> {
    #[cfg(test)]
    TEST_BEFORE_SWAP.with(|h| h.borrow_mut().as_mut().map(|f| f()));
    let part = Part::of(req, checked, &prepared.paths);
    move_main(ws, req, checked, journal, &[part], prepared.base, prepared.built.landing, &prepared.paths)
}

/// One task whose landing main moves over at a commit point.
struct Part<'a> {
    id: &'a str,
    branch: &'a str,
    scope: Option<EnforceScope>,
    /// What its landing changes, from the commit it was built on.
    paths: &'a [String],
}

impl<'a> Part<'a> {
    fn of(req: &'a Request, checked: &'a Checked, paths: &'a [String]) -> Part<'a> {
        Part { id: &req.id, branch: &checked.task.branch, scope: req.enforce_scope, paths }
    }
}

/// The commit point of `parts`, whose landings were built one on the other
/// from `main_old` up to `landing` (a batch, or a train entry landing those
/// ahead of it; usually one task): the locks of each are checked and main
/// moves once, from `main_old` to `landing` (`landed_paths` between them),
/// in one step of the state. `req`, `checked` and `journal` are those of
/// the finish that moves main: its journal records the main worktree's
/// index lock and update.
#[allow(clippy::too_many_arguments)]
fn move_main(
    ws: &Workspace,
    req: &Request,
    checked: &Checked,
    journal: &mut Journal,
    parts: &[Part<'_>],
    main_old: Oid,
    landing: Oid,
    landed_paths: &[String],
) -> Result<Option<(Option<IndexLock>, Vec<String>)>> {
    let repo = &ws.repo;
    let main_ref = format!("refs/heads/{}", req.main_branch);

    // The main worktree's index is locked first, as git locks it, and its
    // files and index are brought to the landing before main moves, the
    // lock held throughout: a `git commit` there that sees main at the
    // landing also sees its files (one that read the old index while main
    // moved would put them back on top).
    let main_lock = match &checked.main_worktree {
        Some(wt) => {
            let whose = format!("the worktree of {}", req.main_branch);
            Some(lock_index(ws.par(), journal, wt, &whose, Resume::Finish(req.id.clone()))?)
        }
        None => None,
    };
    crash_point("main-index-locked")?;
    if git::ref_target(&repo.git, &main_ref)? != Some(main_old) {
        // Moved since the base was read: nothing to check the worktree against.
        drop(main_lock);
        unlock_index(ws.par(), journal)?;
        return Ok(None);
    }
    main_worktree_ready(repo, req, checked, main_old, landing, landed_paths)?;
    let ids: Vec<&str> = parts.iter().map(|p| p.id).collect();
    let log = match parts.len() {
        1 => format!("git-par finish {}: {}", req.id, journal.strategy),
        n => format!("git-par finish {}: a batch of {n}", ids.join(" ")),
    };
    let (main_tree, landing_tree) = (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, landing)?);
    // The locks are checked, and main moved, in one step of the state:
    // no task can take a path this landing changes in between.
    let mut warnings = Vec::new();
    // Remote mode: the task is released in the state pushed with main (a
    // batch does not land in remote mode).
    let release = (ws.state().releases_at_commit_point() && parts.len() == 1)
        .then(|| sync::finish_event(journal, landing));
    let moved = {
        let main_move =
            MainMove { repo: &repo.git, refname: &main_ref, old: main_old, new: landing, log: &log };
        let mut ahead = MainWorktreeAhead {
            ws,
            journal,
            target: checked.main_worktree.as_deref().zip(main_lock.as_ref()),
            trees: (main_tree, landing_tree),
            paths: landed_paths,
            req,
        };
        let landed = ws.state().land_dyn(&main_move, &mut ahead, &mut |state, events| {
            warnings.clear();
            for part in parts {
                let (id, branch, scope) = (part.id, part.branch, part.scope);
                warnings.extend(guard::enforce(state, id, branch, &req.main_branch, scope, part.paths)?);
            }
            if let Some(finished) = &release {
                state.tasks.remove(&req.id);
                state.acquiring.remove(&req.id);
                state.landed.insert(req.id.clone());
                events.push(finished.clone());
            }
            Ok(())
        })?;
        match landed {
            Some(recorded) => {
                recorded.check()?;
                true
            }
            None => false,
        }
    };
    if moved {
        return Ok(Some((main_lock, warnings)));
    }
    drop(main_lock);
    unlock_index(ws.par(), journal)?;
    Ok(None)
}

/// The main worktree brought to the landing inside the commit point, under
/// its index lock, and back when main had moved on (DESIGN §6: a `git
/// commit` there that sees main at the landing also sees its files).
struct MainWorktreeAhead<'a> {
    ws: &'a Workspace,
    journal: &'a mut Journal,
    /// The worktree with main checked out, and its index lock, when there is one.
    target: Option<(&'a Path, &'a IndexLock)>,
    /// Main's tree and the landing's.
    trees: (Oid, Oid),
    /// What changes between them.
    paths: &'a [String],
    req: &'a Request,
}

impl SwapHooks for MainWorktreeAhead<'_> {
    fn before_swap(&mut self) -> Result<()> {
        let Some((wt, lock)) = self.target else { return Ok(()) };
        let (from, to) = self.trees;
        let par = self.ws.par();
        self.journal.main_ahead = true;
        self.journal.save(par)?;
        let ahead = par.with_lock(Lock::Sync, || git::checkout(wt, from, to, self.paths, lock));
        if let Err(e) = ahead {
            if e.downcast_ref::<git::Blocked>().is_some() {
                // Refused before writing anything: nothing to bring back.
                self.journal.main_ahead = false;
                self.journal.save(par)?;
            }
            return Err(main_update_failed(
                e,
                &self.req.main_branch,
                wt,
                Resume::Finish(self.req.id.clone()),
            ));
        }
        crash_point("main-worktree-ahead")
    }

    fn swap_lost(&mut self) -> Result<()> {
        let Some((wt, lock)) = self.target else { return Ok(()) };
        let (from, to) = self.trees;
        // Main moved under the landing: its worktree goes back first.
        self.ws.par().with_lock(Lock::Sync, || git::checkout(wt, to, from, self.paths, lock))?;
        self.journal.main_ahead = false;
        self.journal.save(self.ws.par())
    }
}

/// The refusal of a landing that lost the compare-and-swap on main too often.
fn kept_moving(ws: &Workspace, req: &Request) -> anyhow::Error {
    let lock = ws.repo.common_dir.join("refs/heads").join(format!("{}.lock", req.main_branch));
    if lock_stays(&lock) {
        // Not main moving: a lock a git that died left, which no retry clears.
        let (id, main) = (req.id.clone(), req.main_branch.clone());
        return LandError::MainLocked { id, main, lock }.into();
    }
    LandError::MainMoved { id: req.id.clone(), main: req.main_branch.clone() }.into()
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
    ws: &Workspace,
    journal: &mut Journal,
    req: &Request,
    checked: &Checked,
    old: Oid,
    new: Oid,
) -> Result<()> {
    let repo = &ws.repo;
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
            ws.par(),
            journal,
            wt,
            &format!("the worktree of {}", checked.task.id),
            Resume::Finish(req.id.clone()),
        )?;
        let updated = git::checkout(wt, old_tree, new_tree, &paths, &lock);
        drop(lock);
        unlock_index(ws.par(), journal)?;
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
fn dry_run(ws: &Workspace, state: &State, req: &Request) -> Result<Landing> {
    let repo = &ws.repo;
    let checked = check(ws, state, req, false, &|_| {})?;
    let odb = repo.git.odb().context("opening the object database")?;
    let _mempack = odb.add_new_mempack_backend(1000).context("setting up an in-memory object store")?;
    let sigs = git::signatures(&repo.git)?;
    let main_ref = format!("refs/heads/{}", req.main_branch);
    let main = git::ref_target(&repo.git, &main_ref)?.with_context(|| format!("reading {main_ref}"))?;
    let tested = integrate(repo, req, &checked, main, checked.task_tip, &sigs)?;
    let built = build(repo, req, main, checked.task_tip, &tested, &sigs)?;
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
