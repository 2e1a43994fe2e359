//! `start`: tasks recorded with their locks in one transaction, then their
//! branches and worktrees made; all of them or none.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::Serialize;
use serde_json::json;

use super::intent::Intent;
use crate::hook;
use crate::journal::crash_point;
use crate::locks::Pattern;
use crate::logs;
use crate::state::{self, ActiveTask, Event, Owner, TaskStatus, Transact as _};
use crate::tasks;
use crate::workspace::{LoadedTasks, Workspace};

use super::locks::{conflicts, describe_pairs, overlapping_pairs, roots};
use super::{list_or_dash, short, TaskError};

/// The steps a test can crash a start at ([`start`]), in order.
pub const START_CRASH_POINTS: &[&str] = &["start-recorded", "start-created"];

/// Why tasks cannot start (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// `--path` with several tasks.
    PathWithSeveral,
    /// No task has this ID in the task file `rel`.
    Unknown { id: String, rel: String, similar: Option<String> },
    /// Several tasks have this ID (`lines`: where, in words).
    Duplicate { id: String, lines: String, rel: String },
    /// The task is ticked in the task file.
    Done { id: String, rel: String },
    /// The task is active already.
    Active { task: Box<ActiveTask> },
    /// The task waits for these unfinished tasks.
    NotReady { id: String, waiting: Vec<String> },
    /// The active tasks belong to another task file.
    OtherRun { recorded: String, tasks_file: String },
    /// `par.branchPrefix` makes no valid branch name.
    BadBranch { branch: String },
    /// Something is at the worktree's path already.
    WorktreeExists { path: PathBuf },
    /// The task's branch exists already.
    BranchExists { branch: String },
    /// Two tasks of one start lock the same paths: (pattern of `first`, pattern of `second`) pairs.
    Overlap { first: String, second: String, pairs: Vec<(String, String)> },
    /// The repository has no commit to branch from.
    NoCommits { main: String },
    /// The main branch does not exist.
    NoMainBranch { main: String },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::PathWithSeveral => {
                f.write_str("--path adds locks to one task; it cannot be given with several IDs")
            }
            StartError::Unknown { id, rel, .. } => write!(f, "no task {id} in {rel}"),
            StartError::Duplicate { id, lines, rel } => {
                write!(f, "task ID {id} is used twice, on {lines} of {rel}")
            }
            StartError::Done { id, rel } => write!(f, "{id} is already done in {rel}"),
            StartError::Active { task } => write!(
                f,
                "{} is already active (branch {}, worktree {}, started by {})",
                task.id,
                task.branch,
                task.worktree.display(),
                task.owner
            ),
            StartError::NotReady { id, waiting } => {
                write!(f, "{id} is not ready: it waits for {}", waiting.join(", "))
            }
            StartError::OtherRun { recorded, tasks_file } => {
                write!(f, "a run of {recorded} is in progress; {tasks_file} cannot start tasks until it ends")
            }
            StartError::BadBranch { branch } => write!(f, "'{branch}' is not a valid branch name"),
            StartError::WorktreeExists { path } => {
                write!(f, "{} already exists; git-par never overwrites a directory", path.display())
            }
            StartError::BranchExists { branch } => write!(f, "branch {branch} already exists"),
            StartError::Overlap { first, second, pairs } => {
                write!(f, "{first} and {second} cannot run together: both lock {}", describe_pairs(pairs))
            }
            StartError::NoCommits { main } => {
                write!(f, "the repository has no commits yet, so {main} has no tip to branch from")
            }
            StartError::NoMainBranch { main } => write!(f, "the main branch {main} does not exist"),
        }
    }
}

impl std::error::Error for StartError {}

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
    /// Tasks whose worktree has no git-par pre-commit hook (one of the
    /// warnings says so): their commits are checked only when they land.
    pub unchecked: Vec<String>,
}

/// One task about to start.
pub(super) struct Plan {
    pub(super) id: String,
    pub(super) branch: String,
    pub(super) worktree: PathBuf,
    pub(super) locks: Vec<Pattern>,
    /// Whether the worktree's parent directory existed before (if not, an
    /// empty one is removed on rollback).
    pub(super) parent_existed: bool,
    /// It declared no path: its commits acquire locks (DESIGN §7).
    pub(super) acquire: bool,
}

/// Starts tasks: records them with their locks, then creates their branches
/// and worktrees; all of them or none.
pub fn start(ws: &Workspace, loaded: &LoadedTasks, options: &StartOptions) -> Result<StartOutcome> {
    tasks::discover::require_in_repository(&loaded.path, &loaded.rel, ws.main_root())?;
    let mut warnings = Vec::new();
    let distinct: BTreeSet<&str> = options.ids.iter().map(String::as_str).collect();
    if distinct.len() > 1 && !options.paths.is_empty() {
        // The same extra path on two tasks would be two holders of one lock.
        return Err(StartError::PathWithSeveral.into());
    }
    let mut extra = Vec::new();
    for text in &options.paths {
        for pattern in Pattern::written(text, &roots(ws))? {
            if pattern.as_str() == loaded.rel {
                return Err(TaskError::TaskFile { text: text.to_string() }.into());
            }
            extra.push(pattern);
        }
    }

    // The IDs only (the lock index): the state itself is read once, in the transaction.
    let active = ws.state().active_ids()?;
    let mut seen = BTreeSet::new();
    let mut plans = Vec::new();
    for id in &options.ids {
        if !seen.insert(id.as_str()) {
            continue;
        }
        let Some(task) = loaded.file.get(id) else {
            let similar = crate::tasks::similar_id(id, loaded.file.tasks.iter().map(|t| t.id.as_str()));
            let (id, rel, similar) = (id.clone(), loaded.rel.clone(), similar.map(str::to_string));
            return Err(StartError::Unknown { id, rel, similar }.into());
        };
        if let Some(dup) = loaded.file.duplicate(id) {
            let (id, lines, rel) = (id.clone(), dup.lines_text(), loaded.rel.clone());
            return Err(StartError::Duplicate { id, lines, rel }.into());
        }
        if task.is_done() {
            return Err(StartError::Done { id: id.clone(), rel: loaded.rel.clone() }.into());
        }
        if active.contains(id) {
            if let Some(task) = ws.state().load()?.tasks.remove(id) {
                return Err(StartError::Active { task: Box::new(task) }.into());
            }
        }
        let waiting = loaded.file.unfinished_deps(task);
        if !waiting.is_empty() && !options.force {
            let waiting = waiting.into_iter().map(str::to_string).collect();
            return Err(StartError::NotReady { id: id.clone(), waiting }.into());
        }
        for rejected in &task.rejected_paths {
            warnings.push(format!("{id}: '{}' is not locked: {}", rejected.path, rejected.reason));
        }
        let locks = task_locks(id, &task.paths, &extra, &loaded.rel, &mut warnings);
        // A task that only runs or checks things is expected to name no path (as in lint).
        if locks.is_empty() && !crate::tasks::paths::only_checks(task) {
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
    let (base, previous) = ws.with_worktrees_locked(|| {
        // Written before the tasks are recorded, removed once their worktrees
        // are made or rolled back: `doctor --repair` undoes a start that died.
        let intents: Vec<Intent> = plans.iter().map(|p| Intent::start(&p.id, &started_at)).collect();
        let created = (|| {
            for intent in &intents {
                intent.save(ws)?;
            }
            let (base, previous) = record_plans(ws, &plans, options, &owner, &started_at, loaded)?;
            crash_point("start-recorded")?;
            create_worktrees(ws, &plans, &base, &started_at, previous.clone())?;
            crash_point("start-created")?;
            Ok((base, previous))
        })();
        for intent in &intents {
            if let Err(e) = intent.remove(ws) {
                warnings.push(format!("{e:#}; `git par doctor --repair` would undo this start"));
            }
        }
        created
    })?;
    let base_hex = base.to_string();
    prepare_worktrees(ws, &plans, &base, &started_at, previous)?;

    if let Err(e) = logs::ensure_excluded(&ws.repo.common_dir, ws.main_root(), &ws.config.log_dir) {
        warnings.push(format!("could not add the log directory to .git/info/exclude: {e:#}"));
    }
    if let Some(dir) = &ws.config.worktree_dir {
        // Worktrees kept inside the main worktree must not show up in its `git status`.
        if let Err(e) = crate::repo::exclude::exclude_dir(
            &ws.repo.common_dir,
            ws.main_root(),
            dir,
            "git-par task worktrees",
        ) {
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
    let unchecked: Vec<String> = plans
        .iter()
        .filter(|p| !hook::installed_for(&ws.repo, &p.worktree).unwrap_or(true))
        .map(|p| p.id.clone())
        .collect();
    if !unchecked.is_empty() {
        let whose = match unchecked.as_slice() {
            [one] => format!("{one}'s worktree"),
            many => format!("the worktrees of {}", many.join(", ")),
        };
        warnings.push(format!(
            "no git-par pre-commit hook is installed, so commits in {whose} are not checked against the locks (finish still checks what lands)"
        ));
    }
    let mut started = Vec::new();
    let mut events = Vec::new();
    for plan in plans {
        let locks: Vec<String> = plan.locks.iter().map(|p| p.as_str().to_string()).collect();
        let details = format!(
            "branch {} worktree {} base {} locks {}",
            plan.branch,
            plan.worktree.display(),
            short(&base_hex),
            list_or_dash(&locks)
        );
        ws.log(&mut warnings, &started_at, "start", &plan.id, &details);
        let fields =
            json!({"branch": plan.branch, "worktree": plan.worktree, "base": base_hex, "locks": locks});
        events.push(Event::new(&started_at, "start", &plan.id, fields));
        started.push(Started {
            id: plan.id,
            branch: plan.branch,
            worktree: plan.worktree,
            base: base_hex.clone(),
            locks,
        });
    }
    // Recorded once the tasks are made: a start rolled back has no event
    // (in remote mode they went with the record, which is the audit log).
    let recorded = match ws.state().remote() {
        Some(_) => Ok(Default::default()),
        None => ws.state().record(events),
    };
    match recorded {
        Ok(recorded) => recorded.warn(&mut warnings),
        Err(e) => warnings.push(format!("could not record the start events: {e:#}")),
    }
    Ok(StartOutcome { started, warnings, unchecked })
}

/// A run's main branch and task file, as recorded in the state.
pub(super) type RunIdentity = (Option<String>, Option<String>);

/// Records the tasks with their locks in one state transaction, after
/// checking them against every active task. Returns the base commit and the
/// run's main branch and task file as they were before.
pub(super) fn record_plans(
    ws: &Workspace,
    plans: &[Plan],
    options: &StartOptions,
    owner: &Owner,
    started_at: &str,
    loaded: &LoadedTasks,
) -> Result<(git2::Oid, RunIdentity)> {
    let tasks_rel = loaded.rel.as_str();
    // Remote mode: the start events go with the record, in its one push.
    let with_events = ws.state().remote().is_some();
    let (recorded, landed) = ws.state().transact(|state, events| {
        let previous = (state.main_branch.clone(), state.tasks_file.clone());
        if previous.1.as_deref() != Some(tasks_rel) {
            state.landed.clear();
        }
        if state.tasks.is_empty() {
            // A new run: the main branch and task file are fixed afresh.
            state.main_branch = None;
            state.tasks_file = None;
        } else if let Some(recorded) = state.tasks_file.as_deref().filter(|r| *r != tasks_rel) {
            let (recorded, tasks_file) = (recorded.to_string(), tasks_rel.to_string());
            return Err(StartError::OtherRun { recorded, tasks_file }.into());
        }
        let main_branch = ws.main_branch(state)?;
        let base = resolve_base(ws, options.base.as_deref(), &main_branch)?;
        refuse_landed_meanwhile(ws, plans, loaded)?;
        for plan in plans {
            if let Some(active) = state.tasks.get(&plan.id) {
                return Err(StartError::Active { task: Box::new(active.clone()) }.into());
            }
            if state.landed.contains(&plan.id) {
                // Landed from another machine: this one's tasks.md may not show it yet.
                return Err(StartError::Done { id: plan.id.clone(), rel: tasks_rel.to_string() }.into());
            }
            refuse_existing(ws, plan)?;
            let found = conflicts(&plan.locks, state, &[]);
            if !found.is_empty() {
                return Err(TaskError::Busy { id: plan.id.clone(), conflicts: found }.into());
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
        if with_events {
            for plan in plans {
                let locks: Vec<&str> = plan.locks.iter().map(|p| p.as_str()).collect();
                let fields = json!({"branch": plan.branch, "worktree": plan.worktree, "base": base.to_string(), "locks": locks});
                events.push(Event::new(started_at, "start", &plan.id, fields));
            }
        }
        Ok((base, previous))
    })?;
    landed.check()?;
    Ok(recorded)
}

/// Refuses tasks that landed since the task file was read. Called inside the
/// state transaction: a finish ticks tasks.md before it releases its task, so
/// a task that is no longer active has its tick in the file read now.
pub(super) fn refuse_landed_meanwhile(ws: &Workspace, plans: &[Plan], loaded: &LoadedTasks) -> Result<()> {
    let text = ws.read_task_text(&loaded.path)?;
    if text == loaded.text {
        return Ok(());
    }
    let options = ws.task_options(&loaded.path)?;
    let file = tasks::read(&text, &options)
        .with_context(|| format!("reading tasks from {}", loaded.path.display()))?;
    for plan in plans {
        if file.get(&plan.id).is_some_and(|t| t.is_done()) {
            return Err(StartError::Done { id: plan.id.clone(), rel: loaded.rel.clone() }.into());
        }
    }
    Ok(())
}

/// Creates each task's branch and worktree; if one fails, removes what was
/// created and drops the tasks from the state. Runs under the worktrees lock.
pub(super) fn create_worktrees(
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
            return Err(not_started(err, plans, cleanup));
        }
    }
    Ok(())
}

/// The error of a start that failed for `err` and was rolled back (`cleanup`: how that went).
fn not_started(err: anyhow::Error, plans: &[Plan], cleanup: Result<()>) -> anyhow::Error {
    let ids: Vec<&str> = plans.iter().map(|p| p.id.as_str()).collect();
    let err = err.context(format!("could not start {}; nothing was started", ids.join(" ")));
    match cleanup {
        Ok(()) => err,
        Err(cleanup) => err.context(format!(
            "cleaning up after the failed start also failed ({cleanup:#}); run `git par doctor`"
        )),
    }
}

/// Makes the new worktrees ready to work in (`par.copy`, `par.setup`,
/// DESIGN §12); if that fails for one, the whole start is rolled back as a
/// failed [`create_worktrees`] is. Runs after the worktrees lock is let go,
/// so that a long setup (`npm ci`) holds up no other start or landing.
fn prepare_worktrees(
    ws: &Workspace,
    plans: &[Plan],
    base: &git2::Oid,
    started_at: &str,
    previous: RunIdentity,
) -> Result<()> {
    if ws.config.copy.is_empty() && ws.config.setup.is_none() {
        return Ok(());
    }
    for plan in plans {
        if let Err(err) = prepare_worktree(ws, &plan.id, &plan.worktree) {
            let cleanup =
                ws.with_worktrees_locked(|| roll_back(ws, plans, plans, base, started_at, previous));
            return Err(not_started(err, plans, cleanup));
        }
    }
    Ok(())
}

/// Makes task `id`'s worktree ready to work in (DESIGN §12): the ignored
/// files `par.copy` names copied in, then `par.setup` run there, its output
/// in the task's log. Done by every start; `git par up` does it again for a
/// task whose start it saw begin but not end.
pub fn prepare_worktree(ws: &Workspace, id: &str, worktree: &Path) -> Result<crate::prepare::Prepared> {
    let skip = [ws.worktree_dir(), logs::log_dir(ws.main_root(), &ws.config.log_dir)];
    let preparation = crate::prepare::Preparation {
        copy: &ws.config.copy,
        setup: ws.config.setup.as_deref(),
        main_root: ws.main_root(),
        skip: &skip,
    };
    if preparation.is_empty() {
        return Ok(crate::prepare::Prepared::default());
    }
    let log = logs::log_path(ws.main_root(), &ws.config.log_dir, id);
    preparation.apply(id, worktree, &log)
}

pub(super) fn plan(ws: &Workspace, id: &str, locks: Vec<Pattern>) -> Result<Plan> {
    let branch = format!("{}{id}", ws.config.branch_prefix);
    if !git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
        return Err(StartError::BadBranch { branch }.into());
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
pub(super) fn refuse_existing(ws: &Workspace, plan: &Plan) -> Result<()> {
    if plan.worktree.symlink_metadata().is_ok() {
        return Err(StartError::WorktreeExists { path: plan.worktree.clone() }.into());
    }
    let branch = &plan.branch;
    if ws.repo.branch_exists(branch)? {
        return Err(StartError::BranchExists { branch: branch.clone() }.into());
    }
    Ok(())
}

/// A task's locks: its declared paths, then the `--path` patterns, without
/// duplicates. Declared paths that cannot be locked are skipped with a warning.
pub(super) fn task_locks(
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

/// Two tasks of one `start` that would lock the same paths cannot run together.
pub(super) fn refuse_overlaps_between(plans: &[Plan]) -> Result<()> {
    for (i, a) in plans.iter().enumerate() {
        for b in &plans[i + 1..] {
            let pairs = overlapping_pairs(&a.locks, &b.locks);
            if !pairs.is_empty() {
                return Err(StartError::Overlap { first: a.id.clone(), second: b.id.clone(), pairs }.into());
            }
        }
    }
    Ok(())
}

pub(super) fn resolve_base(ws: &Workspace, base: Option<&str>, main_branch: &str) -> Result<git2::Oid> {
    if let Some(rev) = base {
        return ws.repo.resolve_commit(rev);
    }
    match ws.repo.branch_tip(main_branch)? {
        Some(tip) => Ok(tip),
        None if no_branches(ws)? => Err(StartError::NoCommits { main: main_branch.to_string() }.into()),
        None => Err(StartError::NoMainBranch { main: main_branch.to_string() }.into()),
    }
}

pub(super) fn no_branches(ws: &Workspace) -> Result<bool> {
    let mut branches = ws.repo.git.branches(Some(git2::BranchType::Local)).context("listing branches")?;
    Ok(branches.next().is_none())
}

/// Removes what a failed start created (the worktrees and branches of
/// `created`) and drops the state entries of every task it `recorded`.
/// `previous` is the run's main branch and task file before this start, put
/// back when no task remains.
pub(super) fn roll_back(
    ws: &Workspace,
    created: &[Plan],
    recorded: &[Plan],
    base: &git2::Oid,
    started_at: &str,
    previous: RunIdentity,
) -> Result<()> {
    let mut failures = Vec::new();
    discard_created(ws, created, base, &mut failures);
    let dropped = ws.state().update(|state| {
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
            (state.main_branch, state.tasks_file) = previous.clone();
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
pub(super) fn discard_created(ws: &Workspace, plans: &[Plan], base: &git2::Oid, failures: &mut Vec<String>) {
    for plan in plans {
        // The path did not exist before; if it does now, git made it. git
        // refuses to remove a directory that is not one of its worktrees.
        if plan.worktree.exists() {
            if let Err(e) = ws.repo.remove_worktree(&plan.worktree) {
                failures.push(format!("{e:#}"));
            }
        }
        // Only while it is where the start made it.
        if let Err(e) = ws.repo.delete_branch(&plan.branch, *base) {
            failures.push(format!("{e:#}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(texts: &[&str]) -> Vec<Pattern> {
        texts.iter().map(|t| Pattern::new(t).unwrap()).collect()
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
