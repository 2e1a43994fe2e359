//! The life of a task before it lands: start, change its locks, block and
//! unblock it, abort it, break its locks.
//!
//! Invariants:
//! - The state entry is the lock. A task is recorded in one
//!   [`Store::transact`](crate::state::Store::transact) that also checks its
//!   locks against every other active task, so of two racing starts for
//!   overlapping paths exactly one is recorded; the other is refused (exit 3)
//!   before it creates anything.
//! - Branches and worktrees are created only after the task is recorded; if
//!   creating any of them fails, everything this `start` created is removed
//!   and its state entries dropped. Starting several tasks is all-or-nothing.
//! - Worktrees are added, removed and pruned only under [`WORKTREES_LOCK`]; a
//!   start holds it from recording its tasks to creating their worktrees,
//!   an abort from deciding to removing its task from the state.
//!   Lock order: [`WORKTREES_LOCK`] first, then the state lock, never the reverse.
//! - A start or an abort that dies half-way leaves an intent
//!   ([`crate::intent`]) that `doctor --repair` resolves: the start undone,
//!   the abort completed. A task is recorded, and checked against the task
//!   file and the disk, inside the state transaction, so a racing finish or
//!   start of the same task is seen.
//! - Every refusal happens before anything changes on disk.
//! - `abort` never throws away uncommitted changes or commits that are not
//!   on the main branch unless forced, and says what would be lost.
//! - These functions never print; they return what happened (warnings
//!   included) for the command to render.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Serialize;
use serde_json::json;

use crate::error::Refusal;
use crate::hook;
use crate::intent::Intent;
use crate::land::crash_point;
use crate::locks::{self, Pattern};
use crate::logs;
use crate::repo::worktree::{self, CommitSummary, WorktreeHead};
use crate::state::{self, ActiveTask, Owner, State, TaskStatus};
use crate::tasks;
use crate::workspace::{LoadedTasks, Workspace};

/// What `git par start` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub ids: Vec<String>,
    /// Extra lock patterns (`--path`); allowed with one task only.
    pub paths: Vec<String>,
    pub base: Option<String>,
    /// Start even if dependencies are unfinished.
    pub force: bool,
}

/// A task that was started.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub id: String,
    pub branch: String,
    pub worktree: PathBuf,
    pub base: String,
    pub locks: Vec<String>,
}

/// The result of a start: the tasks, and things the user should know.
#[derive(Debug, Clone, Default)]
pub struct StartOutcome {
    pub started: Vec<Started>,
    pub warnings: Vec<String>,
    /// Ways out of what the warnings say.
    pub hints: Vec<String>,
}

/// One task about to start.
struct Plan {
    id: String,
    branch: String,
    worktree: PathBuf,
    locks: Vec<Pattern>,
    /// Whether the worktree's parent directory existed before (if not, an
    /// empty one is removed on rollback).
    parent_existed: bool,
    /// It declared no path: its commits acquire locks (DESIGN §7).
    acquire: bool,
}

/// Starts tasks: records them with their locks, then creates their branches
/// and worktrees; all of them or none.
pub fn start(ws: &Workspace, loaded: &LoadedTasks, options: &StartOptions) -> Result<StartOutcome> {
    tasks::discover::require_in_repository(&loaded.path, &loaded.rel, ws.main_root())?;
    let mut warnings = Vec::new();
    let distinct: BTreeSet<&str> = options.ids.iter().map(String::as_str).collect();
    if distinct.len() > 1 && !options.paths.is_empty() {
        // The same extra path on two tasks would be two holders of one lock.
        return Err(Refusal::usage("--path adds locks to one task; it cannot be given with several IDs")
            .hint("start the tasks one at a time, or add locks later with `git par lock ID --add GLOB`")
            .into());
    }
    let mut extra = Vec::new();
    for text in &options.paths {
        for pattern in Pattern::written(text, &roots(ws))? {
            if pattern.as_str() == loaded.rel {
                return Err(task_file_refusal(text).into());
            }
            extra.push(pattern);
        }
    }

    let current = ws.store.load()?;
    let mut seen = BTreeSet::new();
    let mut plans = Vec::new();
    for id in &options.ids {
        if !seen.insert(id.as_str()) {
            continue;
        }
        let Some(task) = loaded.file.get(id) else {
            return Err(Refusal::failed(format!("no task {id} in {}", loaded.rel))
                .hint("`git par list` shows the task IDs")
                .into());
        };
        if let Some(dup) = loaded.file.duplicate(id) {
            return Err(Refusal::failed(format!(
                "task ID {id} is used twice, on {} of {}",
                dup.lines_text(),
                loaded.rel
            ))
            .hint(format!("rename one of them (e.g. {id}a) so every task has its own ID, then start it"))
            .into());
        }
        if task.is_done() {
            return Err(done_refusal(id, &loaded.rel).into());
        }
        if let Some(active) = current.tasks.get(id) {
            return Err(already_active(active).into());
        }
        let waiting = loaded.file.unfinished_deps(task);
        if !waiting.is_empty() && !options.force {
            return Err(Refusal::failed(format!("{id} is not ready: it waits for {}", waiting.join(", ")))
                .hint("finish those first (`git par ready` lists the tasks that can start now)")
                .hint(format!("or start it anyway with `git par start {id} --force`"))
                .into());
        }
        for rejected in &task.rejected_paths {
            warnings.push(format!("{id}: '{}' is not locked: {}", rejected.path, rejected.reason));
        }
        let locks = task_locks(id, &task.paths, &extra, &loaded.rel, &mut warnings);
        if locks.is_empty() {
            warnings.push(format!(
                "{id} names no paths: its commits will lock what they touch (par.enforceScope = acquire); add locks now with `git par lock {id} --add GLOB`"
            ));
        }
        plans.push(plan(ws, id, locks)?);
    }
    refuse_overlaps_between(&plans)?;

    let owner = Owner::current();
    let started_at = state::now();
    // Held from recording to creating, so that `doctor --repair` never sees a
    // task recorded but not yet created, and worktree adds never overlap.
    let base_hex = ws.with_worktrees_locked(|| {
        // Written before the tasks are recorded, removed once their worktrees
        // are made or rolled back: `doctor --repair` undoes a start that died.
        let intents: Vec<Intent> = plans.iter().map(|p| Intent::start(&p.id, &started_at)).collect();
        let created = (|| {
            for intent in &intents {
                intent.save(ws)?;
            }
            let (base, previous) = record_plans(ws, &plans, options, &owner, &started_at, loaded)?;
            crash_point("start-recorded")?;
            create_worktrees(ws, &plans, &base, &started_at, previous)?;
            crash_point("start-created")?;
            Ok(base.to_string())
        })();
        for intent in &intents {
            if let Err(e) = intent.remove(ws) {
                warnings.push(format!("{e:#}; `git par doctor --repair` would undo this start"));
            }
        }
        created
    })?;

    if let Err(e) = logs::ensure_excluded(&ws.repo.common_dir, ws.main_root(), &ws.config.log_dir) {
        warnings.push(format!("could not add the log directory to .git/info/exclude: {e:#}"));
    }
    if let Some(dir) = &ws.config.worktree_dir {
        // Worktrees kept inside the main worktree must not show up in its `git status`.
        if let Err(e) = logs::exclude_dir(&ws.repo.common_dir, ws.main_root(), dir, "git-par task worktrees")
        {
            warnings.push(format!("could not add the worktree directory to .git/info/exclude: {e:#}"));
        }
    }
    // With a relative core.hooksPath each worktree has its own hooks directory:
    // give the new ones git-par's hook too, or their commits go unchecked.
    for plan in &plans {
        if let Err(e) = hook::install_for_new_worktree(&ws.repo, &plan.worktree) {
            warnings.push(format!(
                "{}: could not install the git-par pre-commit hook in {}: {e:#}",
                plan.id,
                plan.worktree.display()
            ));
        }
    }
    // The landing checks the locks either way; the hook only says so sooner.
    let unchecked: Vec<&str> = plans
        .iter()
        .filter(|p| !hook::installed_for(&ws.repo, &p.worktree).unwrap_or(true))
        .map(|p| p.id.as_str())
        .collect();
    let mut hints = Vec::new();
    if !unchecked.is_empty() {
        let whose = match unchecked.as_slice() {
            [one] => format!("{one}'s worktree"),
            many => format!("the worktrees of {}", many.join(", ")),
        };
        warnings.push(format!(
            "no git-par pre-commit hook is installed, so commits in {whose} are not checked against the locks (finish still checks what lands)"
        ));
        hints.push("install it with `git par hook install`".to_string());
    }
    let mut started = Vec::new();
    for plan in plans {
        let locks: Vec<String> = plan.locks.iter().map(|p| p.as_str().to_string()).collect();
        let details = format!(
            "branch {} worktree {} base {} locks {}",
            plan.branch,
            plan.worktree.display(),
            short(&base_hex),
            list_or_dash(&locks)
        );
        let fields =
            json!({"branch": plan.branch, "worktree": plan.worktree, "base": base_hex, "locks": locks});
        chronicle(ws, &mut warnings, &started_at, "start", &plan.id, &details, fields);
        started.push(Started {
            id: plan.id,
            branch: plan.branch,
            worktree: plan.worktree,
            base: base_hex.clone(),
            locks,
        });
    }
    Ok(StartOutcome { started, warnings, hints })
}

/// A run's main branch and task file, as recorded in the state.
type RunIdentity = (Option<String>, Option<String>);

/// Records the tasks with their locks in one state transaction, after
/// checking them against every active task. Returns the base commit and the
/// run's main branch and task file as they were before.
fn record_plans(
    ws: &Workspace,
    plans: &[Plan],
    options: &StartOptions,
    owner: &Owner,
    started_at: &str,
    loaded: &LoadedTasks,
) -> Result<(git2::Oid, RunIdentity)> {
    let tasks_rel = loaded.rel.as_str();
    ws.store.transact(|state| {
        let previous = (state.main_branch.clone(), state.tasks_file.clone());
        if state.tasks.is_empty() {
            // A new run: the main branch and task file are fixed afresh.
            state.main_branch = None;
            state.tasks_file = None;
        } else if let Some(recorded) = state.tasks_file.as_deref().filter(|r| *r != tasks_rel) {
            return Err(Refusal::failed(format!(
                "a run of {recorded} is in progress; {tasks_rel} cannot start tasks until it ends"
            ))
            .hint(format!(
                "finish or abort the active tasks (`git par lock-status`), or use --tasks {recorded}"
            ))
            .into());
        }
        let main_branch = ws.main_branch(state)?;
        let base = resolve_base(ws, options.base.as_deref(), &main_branch)?;
        refuse_landed_meanwhile(ws, plans, loaded)?;
        for plan in plans {
            if let Some(active) = state.tasks.get(&plan.id) {
                return Err(already_active(active).into());
            }
            refuse_existing(ws, plan)?;
            let found = conflicts(&plan.locks, state, &[]);
            if !found.is_empty() {
                return Err(busy(&plan.id, &found).into());
            }
        }
        for plan in plans {
            if plan.acquire {
                state.acquiring.insert(plan.id.clone());
            } else {
                state.acquiring.remove(&plan.id);
            }
            state.tasks.insert(
                plan.id.clone(),
                ActiveTask {
                    id: plan.id.clone(),
                    branch: plan.branch.clone(),
                    worktree: plan.worktree.clone(),
                    base: base.to_string(),
                    locks: plan.locks.iter().map(|p| p.as_str().to_string()).collect(),
                    owner: owner.clone(),
                    started_at: started_at.to_string(),
                    state: TaskStatus::Active,
                    blocked_reason: None,
                },
            );
        }
        state.main_branch = Some(main_branch);
        state.tasks_file = Some(tasks_rel.to_string());
        Ok((base, previous))
    })
}

/// Refuses tasks that landed since the task file was read. Called inside the
/// state transaction: a finish ticks tasks.md before it releases its task, so
/// a task that is no longer active has its tick in the file read now.
fn refuse_landed_meanwhile(ws: &Workspace, plans: &[Plan], loaded: &LoadedTasks) -> Result<()> {
    let text =
        ws.store.with_shared_lock(crate::land::SYNC_LOCK, || tasks::discover::read_text(&loaded.path))?;
    if text == loaded.text {
        return Ok(());
    }
    let options = ws.task_options(&loaded.path)?;
    let file = tasks::read(&text, &options)
        .with_context(|| format!("reading tasks from {}", loaded.path.display()))?;
    for plan in plans {
        if file.get(&plan.id).is_some_and(|t| t.is_done()) {
            return Err(done_refusal(&plan.id, &loaded.rel).into());
        }
    }
    Ok(())
}

fn done_refusal(id: &str, rel: &str) -> Refusal {
    Refusal::failed(format!("{id} is already done in {rel}"))
        .hint(format!("untick it in {rel} to do it again"))
}

/// Creates each task's branch and worktree; if one fails, removes what was
/// created and drops the tasks from the state. Runs under [`WORKTREES_LOCK`].
fn create_worktrees(
    ws: &Workspace,
    plans: &[Plan],
    base: &git2::Oid,
    started_at: &str,
    previous: RunIdentity,
) -> Result<()> {
    let base_hex = base.to_string();
    for (i, plan) in plans.iter().enumerate() {
        if let Err(err) = ws.repo.add_worktree(&plan.branch, &plan.worktree, &base_hex) {
            // Every plan was recorded, but only those up to this one created anything.
            let cleanup = roll_back(ws, &plans[..=i], plans, base, started_at, previous);
            let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
            let mut err = err.context(format!("could not start {}; nothing was started", ids.join(" ")));
            if let Err(cleanup) = cleanup {
                err = err.context(format!(
                    "cleaning up after the failed start also failed ({cleanup:#}); run `git par doctor`"
                ));
            }
            return Err(err);
        }
    }
    Ok(())
}

/// The sidecar lock every git-par process holds while it adds, removes or
/// prunes worktrees: `git worktree add` is not safe against a concurrent
/// one (it reads the other worktrees' half-written records), and `prune`
/// must not run while a worktree is half made.
pub const WORKTREES_LOCK: &str = "worktrees.lock";

/// The roots an absolute lock pattern on the command line may lie in: the
/// current worktree's and the main worktree's.
fn roots(ws: &Workspace) -> Vec<String> {
    let mut roots: Vec<String> = [ws.repo.root.as_path(), ws.main_root()]
        .into_iter()
        .filter_map(|r| locks::root_text(Some(r)))
        .collect();
    roots.dedup();
    roots
}

fn plan(ws: &Workspace, id: &str, locks: Vec<Pattern>) -> Result<Plan> {
    let branch = format!("{}{id}", ws.config.branch_prefix);
    if !git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
        return Err(Refusal::failed(format!("'{branch}' is not a valid branch name"))
            .hint("set `git config par.branchPrefix` to a valid prefix such as `par/`")
            .into());
    }
    let worktree = ws.worktree_path(id);
    let parent_existed = worktree.parent().is_some_and(Path::exists);
    let acquire = locks.is_empty();
    Ok(Plan { id: id.to_string(), branch, worktree, locks, parent_existed, acquire })
}

/// Refuses a task whose worktree path or branch exists. Checked inside the
/// start's transaction, after the task was found not active: earlier, a
/// racing start of the same task could have made them, and the refusal
/// would send the user to remove a live worktree.
fn refuse_existing(ws: &Workspace, plan: &Plan) -> Result<()> {
    if plan.worktree.symlink_metadata().is_ok() {
        return Err(Refusal::failed(format!(
            "{} already exists; git-par never overwrites a directory",
            plan.worktree.display()
        ))
        .hint("move or remove it (`git par doctor` tells whether it holds a task's work)")
        .hint("or put task worktrees elsewhere with `git config par.worktreeDir DIR`")
        .into());
    }
    let branch = &plan.branch;
    if ws.repo.branch_exists(branch)? {
        return Err(Refusal::failed(format!("branch {branch} already exists"))
            .hint(format!(
                "if it holds work, rename it (`git branch -m {branch} {branch}-old`); else delete it (`git branch -D {branch}`)"
            ))
            .into());
    }
    Ok(())
}

/// A task's locks: its declared paths, then the `--path` patterns, without
/// duplicates. Declared paths that cannot be locked are skipped with a warning.
fn task_locks(
    id: &str,
    declared: &[String],
    extra: &[Pattern],
    tasks_rel: &str,
    warnings: &mut Vec<String>,
) -> Vec<Pattern> {
    let mut locks: Vec<Pattern> = Vec::new();
    for text in declared {
        match Pattern::new(text) {
            Ok(p) if p.as_str() == tasks_rel => warnings.push(format!(
                "{id}: {tasks_rel} is not locked: git-par owns the task file and ticks it on finish"
            )),
            Ok(p) => locks.push(p),
            Err(e) => warnings.push(format!("{id}: {e}; not locked")),
        }
    }
    locks.extend(extra.iter().cloned());
    let mut seen = BTreeSet::new();
    locks.retain(|p| seen.insert(p.as_str().to_string()));
    locks
}

fn task_file_refusal(text: &str) -> Refusal {
    Refusal::failed(format!("cannot lock '{text}': it is the task file, which git-par owns"))
        .hint("lock the files the task changes; `git par finish` ticks the task file for you")
}

fn already_active(active: &ActiveTask) -> Refusal {
    Refusal::failed(format!(
        "{} is already active (branch {}, worktree {}, started by {})",
        active.id,
        active.branch,
        active.worktree.display(),
        active.owner
    ))
    .hint(format!("work in it: cd {}", active.worktree.display()))
    .hint(format!("or stop it with `git par abort {}`", active.id))
}

/// Two tasks of one `start` that would lock the same paths cannot run together.
fn refuse_overlaps_between(plans: &[Plan]) -> Result<()> {
    for (i, a) in plans.iter().enumerate() {
        for b in &plans[i + 1..] {
            let pairs = overlapping_pairs(&a.locks, &b.locks);
            if !pairs.is_empty() {
                return Err(Refusal::failed(format!(
                    "{} and {} cannot run together: both lock {}",
                    a.id,
                    b.id,
                    describe_pairs(&pairs)
                ))
                .hint(format!(
                    "start one of them now and the other after it lands (`git par start {}`)",
                    a.id
                ))
                .into());
            }
        }
    }
    Ok(())
}

fn resolve_base(ws: &Workspace, base: Option<&str>, main_branch: &str) -> Result<git2::Oid> {
    if let Some(rev) = base {
        return ws.repo.resolve_commit(rev);
    }
    match ws.repo.branch_tip(main_branch)? {
        Some(tip) => Ok(tip),
        None if no_branches(ws)? => Err(Refusal::failed(format!(
            "the repository has no commits yet, so {main_branch} has no tip to branch from"
        ))
        .hint("make a first commit, then start tasks")
        .into()),
        None => Err(Refusal::failed(format!("the main branch {main_branch} does not exist"))
            .hint("check out the branch tasks should land on, or set `git config par.mainBranch BRANCH`")
            .into()),
    }
}

fn no_branches(ws: &Workspace) -> Result<bool> {
    let mut branches = ws.repo.git.branches(Some(git2::BranchType::Local)).context("listing branches")?;
    Ok(branches.next().is_none())
}

/// Removes what a failed start created (the worktrees and branches of
/// `created`) and drops the state entries of every task it `recorded`.
/// `previous` is the run's main branch and task file before this start, put
/// back when no task remains.
fn roll_back(
    ws: &Workspace,
    created: &[Plan],
    recorded: &[Plan],
    base: &git2::Oid,
    started_at: &str,
    previous: RunIdentity,
) -> Result<()> {
    let mut failures = Vec::new();
    discard_created(ws, created, base, &mut failures);
    let dropped = ws.store.transact(|state| {
        for plan in recorded {
            let ours = state
                .tasks
                .get(&plan.id)
                .is_some_and(|t| t.started_at == started_at && t.worktree == plan.worktree);
            if ours {
                state.tasks.remove(&plan.id);
            }
        }
        if state.tasks.is_empty() {
            (state.main_branch, state.tasks_file) = previous;
        }
        Ok(())
    });
    if let Err(e) = dropped {
        failures.push(format!("{e:#}"));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{}", failures.join("; "))
    }
}

/// Removes the branches and worktrees a failed start created.
fn discard_created(ws: &Workspace, plans: &[Plan], base: &git2::Oid, failures: &mut Vec<String>) {
    for plan in plans {
        // The path did not exist before; if it does now, git made it. git
        // refuses to remove a directory that is not one of its worktrees.
        if plan.worktree.exists() {
            if let Err(e) = ws.repo.remove_worktree(&plan.worktree) {
                failures.push(format!("{e:#}"));
            }
        }
        if matches!(ws.repo.branch_tip(&plan.branch), Ok(Some(tip)) if tip == *base) {
            if let Err(e) = ws.repo.delete_branch(&plan.branch) {
                failures.push(format!("{e:#}"));
            }
        }
    }
    if let Err(e) = ws.repo.prune_worktrees() {
        failures.push(format!("{e:#}"));
    }
    for plan in plans {
        if let Some(parent) = plan.worktree.parent().filter(|_| !plan.parent_existed) {
            // Fails harmlessly when another task's worktree lives there.
            let _ = std::fs::remove_dir(parent);
        }
    }
}

/// Another active task whose locks overlap the ones asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub holder: String,
    pub owner: Owner,
    /// (pattern asked for, pattern held) pairs that overlap.
    pub pairs: Vec<(String, String)>,
}

/// The active tasks (other than those in `skip`) whose locks overlap `mine`.
/// A held pattern that no longer compiles counts as overlapping everything:
/// when unsure, it is a conflict.
pub fn conflicts(mine: &[Pattern], state: &State, skip: &[&str]) -> Vec<Conflict> {
    let mut found = Vec::new();
    for (id, task) in &state.tasks {
        if skip.contains(&id.as_str()) {
            continue;
        }
        let mut pairs = Vec::new();
        for held in &task.locks {
            let held_pattern = Pattern::compile(held.clone()).ok();
            for want in mine {
                if held_pattern.as_ref().map_or(true, |h| h.overlaps(want)) {
                    pairs.push((want.as_str().to_string(), held.clone()));
                }
            }
        }
        if !pairs.is_empty() {
            found.push(Conflict { holder: id.clone(), owner: task.owner.clone(), pairs });
        }
    }
    found
}

fn overlapping_pairs(a: &[Pattern], b: &[Pattern]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for x in a {
        for y in b {
            if x.overlaps(y) {
                pairs.push((x.as_str().to_string(), y.as_str().to_string()));
            }
        }
    }
    pairs
}

/// `a.py, src/b.py (overlaps src/)`: each pattern asked for once, with the
/// held patterns it overlaps unless it is held as such.
fn describe_pairs(pairs: &[(String, String)]) -> String {
    let mut wants: Vec<&str> = Vec::new();
    for (want, _) in pairs {
        if !wants.contains(&want.as_str()) {
            wants.push(want);
        }
    }
    wants
        .iter()
        .map(|want| {
            let held: Vec<&str> = pairs.iter().filter(|(w, _)| w == want).map(|(_, h)| h.as_str()).collect();
            if held.contains(want) {
                want.to_string()
            } else {
                format!("{want} (overlaps {})", held.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The exit-3 refusal for a lock conflict: who holds what, and the way out.
fn busy(id: &str, conflicts: &[Conflict]) -> Refusal {
    let held: Vec<String> = conflicts
        .iter()
        .map(|c| format!("{} held by {} ({})", describe_pairs(&c.pairs), c.holder, c.owner))
        .collect();
    let holders: Vec<&str> = conflicts.iter().map(|c| c.holder.as_str()).collect();
    let mut refusal = Refusal::busy(format!("{id} needs paths another task holds: {}", held.join("; ")))
        .hint(format!(
            "wait until {} lands or is aborted and retry (`git par lock-status` shows every lock)",
            holders.join(", ")
        ));
    for holder in holders {
        refusal = refusal
            .hint(format!("if {holder}'s owner is gone, `git par unlock {holder} --force` breaks its locks"));
    }
    refusal
}

/// How a `lock` changed a task's patterns.
#[derive(Debug, Clone, Serialize)]
pub struct LockChange {
    pub id: String,
    pub locks: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Adds and removes lock patterns of an active task; additions are checked
/// against every other active task in the same transaction.
pub fn change_locks(ws: &Workspace, id: &str, add: &[String], remove: &[String]) -> Result<LockChange> {
    let roots = roots(ws);
    let mut adding = Vec::new();
    for text in add {
        adding.extend(Pattern::written(text, &roots)?);
    }
    let mut removing = Vec::new();
    for text in remove {
        for candidate in locks::expand_written(text, &roots) {
            let normal = locks::normalize(&candidate).map_err(|reason| {
                Refusal::failed(format!("'{candidate}' is not a lock pattern: {reason}"))
                    .hint(format!("`git par lock-status` lists {id}'s locks"))
            })?;
            removing.push((candidate, normal));
        }
    }
    let change = ws.store.transact(|state| {
        let tasks_file = state.tasks_file.clone();
        let others = state.clone();
        let task = active_entry(state, id)?;
        if task.state == TaskStatus::Finishing {
            return Err(finishing(id).into());
        }
        let mut removed = Vec::new();
        for (text, normal) in &removing {
            let Some(at) = task.locks.iter().position(|l| l == normal) else {
                return Err(Refusal::failed(format!("{id} does not lock '{text}'"))
                    .hint(format!("its locks are: {}", list_or_none(&task.locks)))
                    .into());
            };
            removed.push(task.locks.remove(at));
        }
        if !removed.is_empty() {
            refuse_releasing_changed(ws, task, &others, &removing, &removed)?;
        }
        let mut added = Vec::new();
        for pattern in &adding {
            if tasks_file.as_deref() == Some(pattern.as_str()) {
                return Err(task_file_refusal(pattern.as_str()).into());
            }
            if !task.locks.iter().any(|l| l == pattern.as_str()) {
                task.locks.push(pattern.as_str().to_string());
                added.push(pattern.as_str().to_string());
            }
        }
        let found = conflicts(&adding, &others, &[id]);
        if !found.is_empty() {
            return Err(busy(id, &found).into());
        }
        Ok(LockChange { id: id.to_string(), locks: task.locks.clone(), added, removed, warnings: Vec::new() })
    })?;
    let mut change = change;
    if !change.added.is_empty() || !change.removed.is_empty() {
        let details =
            format!("added {} removed {}", list_or_dash(&change.added), list_or_dash(&change.removed));
        let fields = json!({"added": change.added, "removed": change.removed});
        chronicle(ws, &mut change.warnings, &state::now(), "lock", id, &details, fields);
    }
    Ok(change)
}

/// Refuses to release a lock on a path the task's branch already changes:
/// another task could then take and change it too, and the two changes
/// would meet only at the landing. `task` has its locks after the removal.
fn refuse_releasing_changed(
    ws: &Workspace,
    task: &ActiveTask,
    state: &State,
    removing: &[(String, String)],
    removed: &[String],
) -> Result<()> {
    let Some(tip) = ws.repo.branch_tip(&task.branch)? else { return Ok(()) };
    let main_tip = match ws.main_branch(state) {
        Ok(main) => ws.repo.branch_tip(&main)?,
        Err(_) => None,
    };
    let base = main_tip
        .and_then(|main| ws.repo.git.merge_base(tip, main).ok())
        .or_else(|| git2::Oid::from_str(&task.base).ok());
    let Some(base) = base else { return Ok(()) };
    let tree = |commit: git2::Oid| crate::repo::land::tree_of(&ws.repo.git, commit);
    let changed = crate::repo::land::touched_paths(&ws.repo.git, tree(base)?, tree(tip)?)?;
    let kept: Vec<Pattern> = task.locks.iter().filter_map(|l| Pattern::compile(l.clone()).ok()).collect();
    for normal in removed {
        let Ok(pattern) = Pattern::compile(normal.clone()) else { continue };
        let used: Vec<&str> = changed
            .iter()
            .filter(|path| pattern.matches(path) && !kept.iter().any(|k| k.matches(path)))
            .map(String::as_str)
            .collect();
        if used.is_empty() {
            continue;
        }
        let text = removing.iter().find(|(_, n)| n == normal).map_or(normal.as_str(), |(t, _)| t.as_str());
        let shown: Vec<&str> = used.iter().take(5).copied().collect();
        let more = if used.len() > 5 { format!(" and {} more", used.len() - 5) } else { String::new() };
        return Err(Refusal::failed(format!(
            "cannot remove {text} from the locks of {}: {} already changes {}{more}",
            task.id,
            task.branch,
            shown.join(", ")
        ))
        .hint(format!(
            "another task could then change it too; take the change out of {} first, or keep the lock",
            task.branch
        ))
        .into());
    }
    Ok(())
}

/// What `abort` did or would throw away.
#[derive(Debug, Clone, Serialize)]
pub struct Aborted {
    pub id: String,
    pub branch: String,
    pub worktree: PathBuf,
    /// The branch's tip before it was deleted (to recover it with `git branch`).
    pub branch_tip: Option<String>,
    pub branch_deleted: bool,
    pub worktree_removed: bool,
    /// Commits thrown away with `--force` (not on the main branch).
    pub discarded_commits: Vec<CommitSummary>,
    /// Uncommitted files thrown away with `--force`.
    pub discarded_files: Vec<String>,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Stops a task: removes its worktree and (unless `keep_branch`) its branch,
/// and releases its locks. Refuses to lose work unless `force`.
pub fn abort(ws: &Workspace, id: &str, keep_branch: bool, force: bool) -> Result<Aborted> {
    let state = ws.store.load()?;
    let Some(task) = state.tasks.get(id).cloned() else {
        return Err(not_active(id).into());
    };
    if crate::land::landing_now(&ws.store)?.as_deref() == Some(id) {
        // Forced or not: pulling the worktree from under a live landing
        // leaves it nothing sensible to do.
        return Err(Refusal::failed(format!("{id} is being finished right now (`git par finish {id}` holds the merge queue)"))
            .hint(format!("wait for it to land or stop; if it hangs, stop that process, run `git par doctor --repair`, then `git par abort {id}`"))
            .into());
    }
    if task.state == TaskStatus::Finishing && !force {
        return Err(finishing(id)
            .hint(format!("if that finish was interrupted, `git par doctor` shows it; `git par abort {id} --force` aborts anyway"))
            .into());
    }
    let main_branch = ws.main_branch(&state)?;
    let main_tip = ws.repo.branch_tip(&main_branch)?;
    let branch_tip = ws.repo.branch_tip(&task.branch)?;
    let worktree_exists = task.worktree.is_dir();
    if !worktree_exists {
        // Moved, not gone: its work is there, and git will not delete a branch it has checked out.
        let moved = crate::repo::land::worktree_of_branch(&ws.repo.common_dir, ws.main_root(), &task.branch)?;
        if let Some(moved) = moved {
            return Err(crate::land::moved_refusal(
                id,
                &moved,
                &task.worktree,
                &format!("git par abort {id}"),
            )
            .into());
        }
    }

    // Commits that removing the worktree and branch would leave unreachable:
    // the branch's (unless kept), those of a detached HEAD in the worktree,
    // and, when the branch was deleted by hand, those its worktree's HEAD log
    // still names (removing the worktree removes that log).
    let head = if worktree_exists { worktree::worktree_head(&task.worktree) } else { WorktreeHead::Unknown };
    let (worktree_head, gone_branch_tip) = match head {
        WorktreeHead::Commit { oid, detached: true } => (Some(oid), None),
        WorktreeHead::Unborn { branch, last: Some(oid) } if branch == task.branch && branch_tip.is_none() => {
            (Some(oid), Some(oid))
        }
        _ => (None, None),
    };
    let mut files = Vec::new();
    if worktree_exists {
        // On an unborn HEAD every file looks newly added; compare with the
        // branch's last commit instead.
        let found = match gone_branch_tip {
            Some(tip) => worktree::changed_since(&task.worktree, tip),
            None => worktree::uncommitted_files(&task.worktree),
        };
        match found {
            Ok(found) => files = found,
            Err(e) if !force => {
                return Err(Refusal::failed(format!(
                    "cannot tell whether {} holds uncommitted work: {e:#}",
                    task.worktree.display()
                ))
                .hint(format!("`git par abort {id} --force` removes it anyway"))
                .into())
            }
            Err(_) => {}
        }
    }
    let mut tips = Vec::new();
    let mut landed: Vec<git2::Oid> = main_tip.into_iter().collect();
    if let Ok(base) = git2::Oid::from_str(&task.base) {
        landed.push(base);
    }
    match branch_tip {
        Some(tip) if keep_branch => landed.push(tip),
        Some(tip) => tips.push(tip),
        None => {}
    }
    let mut commits = Vec::new();
    for tip in &tips {
        commits.extend(ws.repo.commits_not_in(*tip, &landed)?);
    }
    let on_branch = !commits.is_empty();
    if let Some(head) = worktree_head {
        landed.extend(tips);
        commits.extend(ws.repo.commits_not_in(head, &landed)?);
    }
    if !force && (!commits.is_empty() || !files.is_empty()) {
        let lost = Loss { commits: &commits, on_branch, gone_branch_tip, files: &files };
        return Err(would_lose(id, &main_branch, &task, &lost).into());
    }

    let mut warnings = Vec::new();
    let branch_deleted = ws.with_worktrees_locked(|| {
        // From here the abort is decided: `doctor --repair` completes it if it dies.
        let intent = Intent::abort(&task, keep_branch, branch_tip);
        intent.save(ws)?;
        let done = abort_steps(ws, id, &task, worktree_exists, force, keep_branch, branch_tip);
        // A failed abort changed what it changed; the task stays for the user to retry.
        intent.remove(ws)?;
        done
    })?;
    let tip_hex = branch_tip.map(|t| t.to_string());
    let details = format!(
        "branch {} {} worktree {} removed{}",
        task.branch,
        match (&tip_hex, branch_deleted) {
            (Some(tip), true) => format!("deleted (was {})", short(tip)),
            (Some(_), false) => "kept".to_string(),
            (None, _) => "already gone".to_string(),
        },
        task.worktree.display(),
        if force {
            format!(" forced: {} commits, {} files discarded", commits.len(), files.len())
        } else {
            String::new()
        }
    );
    chronicle(
        ws,
        &mut warnings,
        &state::now(),
        "abort",
        id,
        &details,
        json!({
            "branch": task.branch,
            "worktree": task.worktree,
            "branch_tip": tip_hex,
            "branch_deleted": branch_deleted,
            "forced": force,
            "discarded_commits": commits.len(),
            "discarded_files": files.len(),
        }),
    );
    Ok(Aborted {
        id: id.to_string(),
        branch: task.branch,
        worktree: task.worktree,
        branch_tip: tip_hex,
        branch_deleted,
        worktree_removed: worktree_exists,
        discarded_commits: commits,
        discarded_files: files,
        warnings,
    })
}

/// Removes an aborted task's worktree and (unless kept) branch, then its
/// state entry; runs under [`WORKTREES_LOCK`], so that `doctor --repair`
/// never sees the task without its worktree and checks it out again.
/// Returns whether the branch was deleted.
fn abort_steps(
    ws: &Workspace,
    id: &str,
    task: &ActiveTask,
    worktree_exists: bool,
    force: bool,
    keep_branch: bool,
    branch_tip: Option<git2::Oid>,
) -> Result<bool> {
    if worktree_exists {
        if force {
            // Also what a killed start or abort left half made or half removed.
            ws.repo.discard_worktree(&task.worktree)?;
        } else {
            ws.repo.remove_worktree(&task.worktree)?;
        }
    }
    ws.repo.prune_worktrees()?;
    crash_point("abort-worktree-removed")?;
    let deleted = match branch_tip {
        Some(_) if !keep_branch => {
            ws.repo.delete_branch(&task.branch)?;
            true
        }
        _ => false,
    };
    crash_point("abort-branch-deleted")?;
    ws.store.transact(|state| {
        state.tasks.remove(id);
        Ok(())
    })?;
    Ok(deleted)
}

/// What an abort would throw away.
struct Loss<'a> {
    commits: &'a [CommitSummary],
    /// Whether some of the commits are on the task's branch (so
    /// `--keep-branch` would keep them); the others are on a detached HEAD,
    /// or on the task's branch that was deleted by hand.
    on_branch: bool,
    /// The last commit of the task's branch when it was deleted by hand (from
    /// the worktree's HEAD log), to recreate it.
    gone_branch_tip: Option<git2::Oid>,
    files: &'a [String],
}

fn would_lose(id: &str, main_branch: &str, task: &ActiveTask, loss: &Loss) -> Refusal {
    let (commits, files) = (loss.commits, loss.files);
    let mut lost = Vec::new();
    if !commits.is_empty() {
        let shown: Vec<String> = commits.iter().take(3).map(ToString::to_string).collect();
        let more =
            if commits.len() > 3 { format!(", and {} more", commits.len() - 3) } else { String::new() };
        lost.push(format!(
            "{} not on {main_branch} ({}{more})",
            count(commits.len(), "commit"),
            shown.join(", ")
        ));
    }
    if !files.is_empty() {
        let shown: Vec<&str> = files.iter().take(3).map(String::as_str).collect();
        let more = if files.len() > 3 { format!(", and {} more", files.len() - 3) } else { String::new() };
        lost.push(format!("{} ({}{more})", count(files.len(), "uncommitted file"), shown.join(", ")));
    }
    let mut refusal = Refusal::failed(format!("aborting {id} would lose {}", lost.join(" and ")));
    if loss.on_branch {
        refusal = refusal.hint(format!(
            "land the work with `git par finish {id}`, or keep the commits on {} with --keep-branch",
            task.branch
        ));
    } else if let Some(tip) = loss.gone_branch_tip.filter(|_| !commits.is_empty()) {
        refusal = refusal.hint(format!(
            "its branch {} is gone; recreate it at its last commit with `git branch {} {tip}`, then land the work with `git par finish {id}`",
            task.branch, task.branch
        ));
    } else if !commits.is_empty() {
        refusal = refusal.hint(format!(
            "the worktree's HEAD is detached: save its commits with `git switch -c NAME` in {}",
            task.worktree.display()
        ));
    }
    if !files.is_empty() {
        refusal = refusal.hint(format!("commit or stash the changes in {}", task.worktree.display()));
    }
    refusal.hint("or throw all of it away with --force")
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A task's state after `block` or `unblock`.
#[derive(Debug, Clone, Serialize)]
pub struct BlockChange {
    pub id: String,
    pub state: TaskStatus,
    pub reason: Option<String>,
    pub blockers_file: PathBuf,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Marks an active task blocked (its locks are kept) and appends the reason
/// to the blockers file and the task's log.
pub fn block(ws: &Workspace, id: &str, reason: &str) -> Result<BlockChange> {
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if reason.is_empty() {
        return Err(Refusal::usage("a blocker needs a reason")
            .hint(format!("git par block {id} \"what it waits for\""))
            .into());
    }
    ws.store.transact(|state| {
        let task = active_entry(state, id)?;
        if task.state == TaskStatus::Finishing {
            return Err(finishing(id).into());
        }
        task.state = TaskStatus::Blocked;
        task.blocked_reason = Some(reason.clone());
        Ok(())
    })?;
    let at = state::now();
    let mut warnings = Vec::new();
    let blockers_file = write_blocker(ws, &mut warnings, &at, id, &reason);
    chronicle(ws, &mut warnings, &at, "block", id, &reason, json!({"reason": reason}));
    Ok(BlockChange {
        id: id.to_string(),
        state: TaskStatus::Blocked,
        reason: Some(reason),
        blockers_file,
        warnings,
    })
}

/// Clears a task's blocker and appends a dated "unblocked" entry.
pub fn unblock(ws: &Workspace, id: &str) -> Result<BlockChange> {
    let previous = ws.store.transact(|state| {
        let task = active_entry(state, id)?;
        if task.state != TaskStatus::Blocked {
            return Err(Refusal::failed(format!("{id} is not blocked"))
                .hint(format!("`git par block {id} REASON` records a blocker"))
                .into());
        }
        task.state = TaskStatus::Active;
        Ok(task.blocked_reason.take())
    })?;
    let at = state::now();
    let mut warnings = Vec::new();
    let blockers_file = write_blocker(ws, &mut warnings, &at, id, "unblocked");
    chronicle(ws, &mut warnings, &at, "unblock", id, "", json!({"previous_reason": previous}));
    Ok(BlockChange { id: id.to_string(), state: TaskStatus::Active, reason: None, blockers_file, warnings })
}

fn write_blocker(ws: &Workspace, warnings: &mut Vec<String>, at: &str, id: &str, text: &str) -> PathBuf {
    let who = Owner::current().to_string();
    if let Err(e) = logs::ensure_excluded(&ws.repo.common_dir, ws.main_root(), &ws.config.log_dir) {
        warnings.push(format!("could not add the log directory to .git/info/exclude: {e:#}"));
    }
    match logs::append_blocker(ws.main_root(), &ws.config.log_dir, at, id, &who, text) {
        Ok(path) => path,
        Err(e) => {
            warnings.push(format!("{e:#}"));
            logs::blockers_path(ws.main_root(), &ws.config.log_dir)
        }
    }
}

/// What a forced unlock broke.
#[derive(Debug, Clone, Serialize)]
pub struct Unlocked {
    pub id: String,
    pub previous_owner: Owner,
    pub locks: Vec<String>,
    /// Kept untouched, so no work is lost.
    pub branch: String,
    pub worktree: PathBuf,
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Breaks a task's locks: drops its state entry (and with it its locks) but
/// leaves its branch and worktree untouched. Needs `force`.
pub fn unlock(ws: &Workspace, id: &str, force: bool) -> Result<Unlocked> {
    let state = ws.store.load()?;
    let Some(task) = state.tasks.get(id) else {
        return Err(not_active(id).into());
    };
    if !force {
        return Err(Refusal::failed(format!("breaking {id}'s locks (held by {}) needs --force", task.owner))
            .hint(format!("if {} is gone, `git par unlock {id} --force` releases them; the branch and worktree are kept", task.owner))
            .hint(format!("to stop the task and remove its worktree, use `git par abort {id}`"))
            .into());
    }
    let task = ws.store.transact(|state| state.tasks.remove(id).ok_or_else(|| not_active(id).into()))?;
    let mut warnings = Vec::new();
    let details = format!(
        "forced by {} (owner was {}) locks {}",
        Owner::current(),
        task.owner,
        list_or_dash(&task.locks)
    );
    chronicle(
        ws,
        &mut warnings,
        &state::now(),
        "unlock",
        id,
        &details,
        json!({"forced": true, "previous_owner": task.owner.to_string(), "locks": task.locks,
               "branch": task.branch, "worktree": task.worktree}),
    );
    Ok(Unlocked {
        id: id.to_string(),
        previous_owner: task.owner,
        locks: task.locks,
        branch: task.branch,
        worktree: task.worktree,
        warnings,
    })
}

/// One row of `lock-status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub id: String,
    pub state: TaskStatus,
    pub branch: String,
    pub worktree: PathBuf,
    pub locks: Vec<String>,
    pub owner: String,
    pub started_at: String,
    pub stale: bool,
    /// Why it is stale: "worktree missing", "branch missing", or both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
}

/// The active tasks, with whether their worktree or branch is gone.
pub fn status(ws: &Workspace) -> Result<Vec<StatusRow>> {
    let state = ws.store.load()?;
    let mut rows = Vec::new();
    for task in state.tasks.values() {
        let stale_reason = staleness(ws, task)?;
        rows.push(StatusRow {
            id: task.id.clone(),
            state: task.state,
            branch: task.branch.clone(),
            worktree: task.worktree.clone(),
            locks: task.locks.clone(),
            owner: task.owner.to_string(),
            started_at: task.started_at.clone(),
            stale: stale_reason.is_some(),
            stale_reason,
            blocked_reason: task.blocked_reason.clone(),
        });
    }
    Ok(rows)
}

/// Why an active task is stale (its worktree directory or branch is gone), if it is.
pub fn staleness(ws: &Workspace, task: &ActiveTask) -> Result<Option<String>> {
    let mut gone = Vec::new();
    if !task.worktree.is_dir() {
        gone.push("worktree missing");
    }
    if !ws.repo.branch_exists(&task.branch)? {
        gone.push("branch missing");
    }
    Ok((!gone.is_empty()).then(|| gone.join(", ")))
}

fn active_entry<'s>(state: &'s mut State, id: &str) -> Result<&'s mut ActiveTask> {
    state.tasks.get_mut(id).ok_or_else(|| not_active(id).into())
}

fn not_active(id: &str) -> Refusal {
    Refusal::failed(format!("{id} is not active"))
        .hint(format!("`git par start {id}` starts it; `git par lock-status` lists the active tasks"))
}

fn finishing(id: &str) -> Refusal {
    Refusal::failed(format!("{id} is being finished"))
        .hint(format!("wait for `git par finish {id}` to complete"))
}

/// Appends a lifecycle line to the task's log and an event to events.jsonl,
/// both dated `at`. A failure becomes a warning: the state already changed.
pub(crate) fn chronicle(
    ws: &Workspace,
    warnings: &mut Vec<String>,
    at: &str,
    event: &str,
    id: &str,
    details: &str,
    mut fields: serde_json::Value,
) {
    let line = logs::lifecycle_line(at, event, id, details);
    if let Err(e) = logs::append(ws.main_root(), &ws.config.log_dir, id, &line) {
        warnings.push(format!("could not write the log of {id}: {e:#}"));
    }
    if let Some(map) = fields.as_object_mut() {
        map.insert("at".to_string(), json!(at));
    }
    if let Err(e) = ws.store.record(event, id, fields) {
        warnings.push(format!("could not record the {event} event: {e:#}"));
    }
}

fn short(hex: &str) -> &str {
    hex.get(..7).unwrap_or(hex)
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(",")
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(texts: &[&str]) -> Vec<Pattern> {
        texts.iter().map(|t| Pattern::new(t).unwrap()).collect()
    }

    fn active(id: &str, locks: &[&str]) -> ActiveTask {
        ActiveTask {
            id: id.to_string(),
            branch: format!("par/{id}"),
            worktree: PathBuf::from(format!("/w/{id}")),
            base: "0".repeat(40),
            locks: locks.iter().map(|s| s.to_string()).collect(),
            owner: Owner { user: "u".into(), host: "h".into() },
            started_at: "2026-01-01T00:00:00Z".into(),
            state: TaskStatus::Active,
            blocked_reason: None,
        }
    }

    #[test]
    fn conflicts_name_holder_and_paths() {
        let mut state = State::default();
        state.tasks.insert("T1".into(), active("T1", &["src/"]));
        state.tasks.insert("T2".into(), active("T2", &["docs/a.md"]));
        let found = conflicts(&patterns(&["src/a.py", "lib/x.rs"]), &state, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].holder, "T1");
        assert_eq!(found[0].pairs, vec![("src/a.py".to_string(), "src/".to_string())]);
        assert!(conflicts(&patterns(&["src/a.py"]), &state, &["T1"]).is_empty());
        let refusal = busy("T3", &found);
        assert_eq!(
            refusal.message,
            "T3 needs paths another task holds: src/a.py (overlaps src/) held by T1 (u@h)"
        );
        assert_eq!(refusal.exit, crate::error::Exit::Busy);
    }

    #[test]
    fn a_held_pattern_that_does_not_compile_conflicts() {
        let mut state = State::default();
        state.tasks.insert("T1".into(), active("T1", &["src/[*.rs"]));
        assert_eq!(conflicts(&patterns(&["docs/"]), &state, &[]).len(), 1);
    }

    #[test]
    fn task_locks_skip_the_task_file_and_bad_paths() {
        let mut warnings = Vec::new();
        let declared = vec!["src/a.py".to_string(), "specs/1/tasks.md".to_string(), "../x".to_string()];
        let locks =
            task_locks("T1", &declared, &patterns(&["src/a.py", "docs/"]), "specs/1/tasks.md", &mut warnings);
        let texts: Vec<&str> = locks.iter().map(Pattern::as_str).collect();
        assert_eq!(texts, vec!["src/a.py", "docs/"]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }
}
