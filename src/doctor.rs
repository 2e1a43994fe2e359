//! `git par doctor`: finds where the state, git's worktree records and the
//! disk disagree, and repairs what is safe to repair.
//!
//! Invariants:
//! - Diagnosing changes nothing.
//! - A repair never deletes a worktree or a branch: either may hold work.
//!   The safe repairs are: dropping a state entry whose worktree and branch
//!   are both gone; `git worktree prune` (git's records of worktrees whose
//!   directories are gone); removing `state.json.tmp.*` files, which are
//!   looked for and removed under the state lock, so never a live writer's.
//! - Everything else is reported with advice for a person.
//! - A finding is a problem (doctor exits 1 while one remains) or a note,
//!   which is only information: a worktree kept by `finish --keep`, or one
//!   that holds nothing that is not on the main branch, is normal.
//!
//! - An interrupted finish (a journal in `.git/par/journal/` with no live
//!   finish behind it) is repaired by [`land::recover`]: rolled back before
//!   its commit point, completed after it. An interrupted start or abort (an
//!   intent there, see [`intent`]) is undone or completed. Those are the only
//!   repairs that remove worktrees and branches: a landed task's, a start's
//!   own that nobody was told about, or an abort's that its user asked for.
//!
//! Extension point: each check is a [`Check`] in [`CHECKS`], reading the
//! [`Survey`] gathered once. A new kind of problem adds a [`Kind`], a check
//! function to [`CHECKS`], and, if it can be repaired safely, a [`Repair`]
//! variant with its arm in [`apply`].

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::journal;
use crate::land;
use crate::lifecycle::intent::{self, Intent, Recovered, Verb};
use crate::repo::{self as worktree, canonical, WorktreeHead, WorktreeRecord};
use crate::state::{self, ActiveTask, Event, Lock, ParDir, State, TaskStatus, Transact as _};
use crate::workspace::Workspace;

/// What kind of problem a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `state.json` cannot be read.
    BadState,
    /// An active task whose worktree and branch are both gone.
    StaleTask,
    /// An active task whose worktree is gone but whose branch remains.
    WorktreeMissing,
    /// An active task whose branch is gone but whose worktree remains.
    BranchMissing,
    /// A worktree in the worktree directory (or on a task branch) that no active task owns.
    OrphanWorktree,
    /// A git worktree record whose directory is gone.
    StaleWorktreeRecord,
    /// A temporary state file left by a writer that died.
    TempFile,
    /// A lock file of git's (`packed-refs.lock`, `refs/heads/<main>.lock`,
    /// `index.lock`) that a git command holds, or left when it died.
    GitLock,
    /// A `git par finish` that died before it was done (its journal remains).
    InterruptedFinish,
    /// A `git par start` that died before its worktree was made (its intent remains).
    InterruptedStart,
    /// A `git par abort` that died half-way (its intent remains).
    InterruptedAbort,
    /// A worktree no active task owns whose work is on the main branch (a
    /// note): kept by `finish --keep`, or holding nothing main lacks.
    KeptWorktree,
    /// Remote mode: a task another machine holds (a note; a problem when its
    /// heartbeat is older than `par.lockTTL`). Reported, never repaired here.
    OtherMachine,
}

/// Whether a finding needs doing something about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Something is wrong; doctor exits 1 until it is repaired.
    Problem,
    /// Worth knowing, nothing wrong.
    Note,
}

/// A repair `--repair` may apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Repair {
    /// Remove the task's entry (and locks) from the state.
    DropStateEntry { task: String },
    /// `git worktree prune`.
    PruneWorktreeRecords,
    /// Delete a leftover file.
    RemoveFile { path: PathBuf },
    /// Complete (past the commit point) or roll back an interrupted finish.
    RecoverFinish { task: String, landed: bool },
    /// Undo an interrupted start (or, when its branch has commits, keep the task).
    RecoverStart { task: String, undo: bool },
    /// Complete an interrupted abort.
    CompleteAbort { task: String },
}

/// What a recovered finish left, in words: the task may have been landed,
/// put back as it was, or (its locks broken meanwhile) be no task at all.
fn describe_recovery(ws: &Workspace, task: &str, recovery: Option<land::Recovery>) -> String {
    match recovery {
        None => format!("nothing left to do: the finish of {task} had already been recovered"),
        Some(r) if r.completed => format!("completed the landing of {task}"),
        Some(_) => match ws.state().load().ok().and_then(|state| state.tasks.get(task).map(|t| t.state)) {
            Some(TaskStatus::Blocked) => format!("rolled the finish back; {task} is blocked again"),
            Some(_) => format!("rolled the finish back; {task} is active again"),
            None => format!(
                "rolled the finish back; {task} is not active (its locks had been broken), \
                 its branch and worktree are as they were before the finish"
            ),
        },
    }
}

/// One problem found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    pub message: String,
    /// What `--repair` does about it; `None` when it needs a person.
    pub repair: Option<Repair>,
    /// What a person can do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    pub repaired: bool,
    /// Why the repair failed, if it was tried and failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair_error: Option<String>,
    /// What the repair did, in words, once it succeeded.
    #[serde(skip)]
    done: Option<String>,
}

impl Finding {
    fn new(kind: Kind, message: String) -> Finding {
        Finding {
            kind,
            severity: Severity::Problem,
            task: None,
            path: None,
            message,
            repair: None,
            advice: None,
            repaired: false,
            repair_error: None,
            done: None,
        }
    }

    fn note(mut self) -> Finding {
        self.severity = Severity::Note;
        self
    }

    /// Whether this is a problem that is still there (not repaired).
    pub fn remains(&self) -> bool {
        self.severity == Severity::Problem && !self.repaired
    }

    fn task(mut self, id: &str) -> Finding {
        self.task = Some(id.to_string());
        self
    }

    fn path(mut self, path: &Path) -> Finding {
        self.path = Some(path.to_path_buf());
        self
    }

    fn repair(mut self, repair: Repair) -> Finding {
        self.repair = Some(repair);
        self
    }

    fn advice(mut self, advice: String) -> Finding {
        self.advice = Some(advice);
        self
    }

    /// What `--repair` did, in words, when it did something.
    pub fn repaired_text(&self) -> Option<String> {
        self.done.clone().filter(|_| self.repaired)
    }
}

/// What the checks look at, gathered once.
pub struct Survey {
    /// `None` when `state.json` cannot be read (reported as [`Kind::BadState`]).
    pub state: Option<State>,
    pub worktrees: Vec<WorktreeRecord>,
    /// Why git could not list the worktrees (then `worktrees` is empty).
    pub worktrees_error: Option<String>,
    /// Finishes whose journal remains, the running one excluded.
    pub finishes: Vec<land::Interrupted>,
    /// Starts and aborts that died half-way.
    pub intents: Vec<Intent>,
    /// Temporary journals and intents of processes that died writing them.
    pub temps: Vec<PathBuf>,
    /// Tasks whose last start, finish, abort or unlock in `events.jsonl` is a finish.
    pub landed: BTreeSet<String>,
}

/// A check: reads the survey (and the disk), returns its findings, changes nothing.
pub type Check = fn(&Workspace, &Survey) -> Result<Vec<Finding>>;

/// Every check, in report order.
pub const CHECKS: &[Check] = &[
    interrupted_finishes,
    interrupted_starts_and_aborts,
    active_tasks,
    orphan_worktrees,
    worktree_records,
    temp_files,
    git_locks,
];

/// Runs every check.
pub fn diagnose(ws: &Workspace) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let state = match ws.state().load() {
        Ok(state) => Some(state),
        Err(e) => {
            let path = ws.par().state_file();
            findings.push(
                Finding::new(Kind::BadState, format!("{} cannot be read: {e:#}", path.display()))
                    .path(&path)
                    .advice("move it aside (the worktrees and branches are untouched), then run `git par doctor` again".into()),
            );
            None
        }
    };
    // Listing worktrees while another process adds one can read its
    // half-written record; an intent found under this lock is a dead process's.
    let (worktrees, intents, intent_temps) = ws.with_worktrees_locked(|| {
        Ok((ws.repo.worktrees(), intent::interrupted(ws)?, intent::temp_files(ws)?))
    })?;
    let (worktrees, worktrees_error) = match worktrees {
        Ok(list) => (list, None),
        Err(e) => (Vec::new(), Some(format!("{e:#}"))),
    };
    let mut finishes = land::interrupted(ws)?;
    finishes.retain(|f| !f.live);
    let landed = landed_tasks(&ws.events()?);
    let mut temps = intent_temps;
    temps.extend(land::stale_journal_temps(ws.par())?);
    let survey = Survey { state, worktrees, worktrees_error, finishes, intents, temps, landed };
    for check in CHECKS {
        findings.extend(check(ws, &survey)?);
    }
    Ok(findings)
}

/// The tasks whose last lifecycle event (start, finish, abort, unlock) is a finish.
fn landed_tasks(events: &[Event]) -> BTreeSet<String> {
    let tasks: BTreeSet<&str> = events.iter().map(|e| e.task.as_str()).collect();
    tasks
        .into_iter()
        .filter(|task| {
            state::last_event(events, task, &["start", "finish", "abort", "unlock"]) == Some("finish")
        })
        .map(str::to_string)
        .collect()
}

/// Applies the safe repairs of `findings`, marking each as repaired or
/// recording why it failed. Each distinct repair runs once.
pub fn repair(ws: &Workspace, findings: &mut [Finding]) {
    let mut done: Vec<(Repair, Result<String, String>)> = Vec::new();
    for finding in findings.iter_mut() {
        let Some(repair) = finding.repair.clone() else { continue };
        let outcome = match done.iter().find(|(r, _)| *r == repair) {
            Some((_, outcome)) => outcome.clone(),
            None => {
                let outcome = apply(ws, &repair).map_err(|e| format!("{e:#}"));
                done.push((repair, outcome.clone()));
                outcome
            }
        };
        match outcome {
            Ok(text) => {
                finding.repaired = true;
                finding.done = Some(text);
            }
            Err(e) => finding.repair_error = Some(e),
        }
    }
}

/// Applies one repair, re-checking under the state lock that it is still
/// safe; says what it did.
pub fn apply(ws: &Workspace, repair: &Repair) -> Result<String> {
    match repair {
        // Under the worktrees lock, which a start holds from recording a task
        // to creating its worktree: a task being started is never dropped.
        Repair::DropStateEntry { task } => ws.with_worktrees_locked(|| {
            ws.state().update(|state| {
                let still_stale = match state.tasks.get(task) {
                    // Another machine's task is never dropped here.
                    Some(entry) if crate::lifecycle::on_other_machine(ws, entry) => false,
                    Some(entry) => !entry.worktree.exists() && !ws.repo.branch_exists(&entry.branch)?,
                    None => false,
                };
                if still_stale {
                    state.tasks.remove(task);
                    Ok(format!("dropped {task} from the state"))
                } else {
                    Ok(format!("nothing left to do: {task} is no longer stale"))
                }
            })
        }),
        // Done when git can list the worktrees again.
        Repair::PruneWorktreeRecords => ws.with_worktrees_locked(|| {
            ws.repo.prune_worktrees()?;
            ws.repo.worktrees()?;
            Ok("pruned git's stale worktree records (git worktree prune)".to_string())
        }),
        // Takes the merge lock itself (and no other lock is held here), so it
        // waits for a running finish rather than racing it.
        Repair::RecoverFinish { task, .. } => {
            let recovery = land::recover(ws, task, Some(RECOVER_WAIT))?;
            // What the landing left undone is reported, not swallowed.
            if let Some(warnings) = recovery.as_ref().map(|r| &r.warnings).filter(|w| !w.is_empty()) {
                anyhow::bail!("{}", warnings.join("; "));
            }
            Ok(describe_recovery(ws, task, recovery))
        }
        Repair::RecoverStart { task, .. } => Ok(match intent::recover(ws, task, Verb::Start)? {
            Recovered::Nothing => format!("nothing left to do: the start of {task} had ended"),
            Recovered::Removed => format!("undid the start; {task} is not active"),
            Recovered::Kept => format!("kept {task} active: its branch has commits"),
        }),
        Repair::CompleteAbort { task } => Ok(match intent::recover(ws, task, Verb::Abort)? {
            Recovered::Nothing => format!("nothing left to do: the abort of {task} had ended"),
            _ => format!("completed the abort of {task}"),
        }),
        // Each under the lock its writers hold, so never a live writer's.
        Repair::RemoveFile { path } => {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if land::is_journal_temp(&name) {
                land::remove_journal_temp(ws.par(), path, Some(RECOVER_WAIT))?;
            } else if intent::is_temp_file(&name) {
                intent::remove_temp_file(ws, path)?;
            } else {
                ws.par().with_lock(Lock::State, || journal::remove_file(path))?;
            }
            Ok(format!("removed {}", path.display()))
        }
    }
}

/// How long a repair waits for a running finish to leave the merge queue.
const RECOVER_WAIT: Duration = Duration::from_secs(30);

/// Finishes that died: their journal says how far they got, and whether
/// main already has the landing decides between completing and rolling back.
fn interrupted_finishes(ws: &Workspace, survey: &Survey) -> Result<Vec<Finding>> {
    let recorded = |id: &str| survey.state.as_ref().is_some_and(|s| s.tasks.contains_key(id));
    Ok(survey
        .finishes
        .iter()
        .map(|f| {
            let j = &f.journal;
            let what = if f.committed {
                format!(
                    "it had landed on {}, so --repair completes it (locks, worktree, branch)",
                    j.main_branch
                )
            } else if recorded(&j.task) {
                format!(
                    "it had not landed on {}, so --repair rolls it back and {} stays active",
                    j.main_branch, j.task
                )
            } else {
                format!(
                    "it had not landed on {}, so --repair rolls it back; {} stays inactive (its locks were broken)",
                    j.main_branch, j.task
                )
            };
            let locks: Vec<String> = land::left_behind(&ws.repo, j)
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "lock"))
                .map(|p| p.display().to_string())
                .collect();
            let locks = match locks.as_slice() {
                [] => String::new(),
                [one] => format!("; it also removes the lock file the finish left, {one}"),
                many => format!("; it also removes the lock files the finish left, {}", many.join(", ")),
            };
            Finding::new(
                Kind::InterruptedFinish,
                format!(
                    "`git par finish {}` was interrupted (pid {}, step {:?}): {what}{locks}",
                    j.task, j.pid, j.step
                ),
            )
            .task(&j.task)
            .repair(Repair::RecoverFinish { task: j.task.clone(), landed: f.committed })
        })
        .collect())
}

/// Starts and aborts that died: a start is undone (its worktree, its branch
/// while still at its base, its locks), an abort is completed.
fn interrupted_starts_and_aborts(ws: &Workspace, survey: &Survey) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for intent in &survey.intents {
        let id = &intent.task;
        let entry =
            survey.state.as_ref().and_then(|s| s.tasks.get(id)).filter(|t| t.started_at == intent.started_at);
        let finding = match intent.verb {
            Verb::Start => {
                let moved = match entry {
                    Some(task) => {
                        let tip = ws.repo.branch_tip(&task.branch)?;
                        tip.is_some_and(|t| t.to_string() != task.base)
                    }
                    None => false,
                };
                let what = if moved {
                    format!("its branch has new commits, so --repair keeps {id} active")
                } else {
                    format!("--repair removes what it made and releases {id}'s locks")
                };
                Finding::new(
                    Kind::InterruptedStart,
                    format!("`git par start {id}` was interrupted (pid {}): {what}", intent.pid),
                )
                .repair(Repair::RecoverStart { task: id.clone(), undo: !moved })
            }
            Verb::Abort => Finding::new(
                Kind::InterruptedAbort,
                format!(
                    "`git par abort {id}` was interrupted (pid {}): --repair completes it (worktree, {}locks)",
                    intent.pid,
                    if intent.keep_branch { "" } else { "branch, " }
                ),
            )
            .repair(Repair::CompleteAbort { task: id.clone() }),
        };
        findings.push(finding.task(id));
    }
    Ok(findings)
}

/// Active tasks whose worktree or branch is gone (those of an interrupted
/// start or abort excepted: repairing that repairs them).
fn active_tasks(ws: &Workspace, survey: &Survey) -> Result<Vec<Finding>> {
    let Some(state) = &survey.state else { return Ok(Vec::new()) };
    let mut findings = Vec::new();
    for task in state.tasks.values() {
        if survey.intents.iter().any(|i| i.task == task.id && i.started_at == task.started_at) {
            continue;
        }
        if crate::lifecycle::on_other_machine(ws, task) {
            // Its worktree is on its own machine: only its owner repairs it.
            let id = &task.id;
            let beat = crate::lifecycle::heartbeat(state, task);
            let stale = crate::lifecycle::staleness(ws, state, task)?;
            let message = format!("{id} is held by {} on another machine (heartbeat {beat})", task.owner);
            let finding = match stale {
                Some(why) => {
                    Finding::new(Kind::OtherMachine, format!("{message}: stale, {why}")).advice(format!(
                        "ask {} about it; if that machine is gone, `git par unlock {id} --force`",
                        task.owner
                    ))
                }
                None => Finding::new(Kind::OtherMachine, message).note(),
            };
            findings.push(finding.task(id));
            continue;
        }
        let worktree_gone = !task.worktree.is_dir();
        let branch_gone = !ws.repo.branch_exists(&task.branch)?;
        let id = &task.id;
        let finding = match (worktree_gone, branch_gone) {
            (true, true) => Finding::new(
                Kind::StaleTask,
                format!("{id} is active but its worktree {} and branch {} are gone", task.worktree.display(), task.branch),
            )
            .repair(Repair::DropStateEntry { task: id.clone() }),
            (true, false) if moved_to(survey, task).is_some() => {
                let new = moved_to(survey, task).unwrap_or_default();
                Finding::new(
                    Kind::WorktreeMissing,
                    format!(
                        "{id}'s worktree is not at {} but at {} (moved with `git worktree move`?)",
                        task.worktree.display(),
                        new.display()
                    ),
                )
                .advice(format!(
                    "move it back where git-par keeps it: `git worktree move {} {}`",
                    shell_path(&new),
                    shell_path(&task.worktree)
                ))
            }
            (true, false) => Finding::new(
                Kind::WorktreeMissing,
                format!("{id} is active but its worktree {} is gone (branch {} remains)", task.worktree.display(), task.branch),
            )
            .advice(format!(
                "recreate it with `git worktree prune && git worktree add {} {}`, or stop the task with `git par abort {id} --keep-branch`",
                task.worktree.display(),
                task.branch
            )),
            (false, true) => Finding::new(
                Kind::BranchMissing,
                format!("{id} is active but its branch {} is gone (worktree {} remains)", task.branch, task.worktree.display()),
            )
            .advice(format!("{}, or stop the task with `git par abort {id}`", restore_branch(task))),
            (false, false) => continue,
        };
        findings.push(finding.task(id).path(&task.worktree));
    }
    Ok(findings)
}

/// Where the worktree of `task` is now, when git records its branch checked
/// out in a worktree other than the task's (it was moved).
fn moved_to(survey: &Survey, task: &ActiveTask) -> Option<PathBuf> {
    survey
        .worktrees
        .iter()
        .find(|r| {
            r.branch.as_deref() == Some(task.branch.as_str())
                && r.prunable.is_none()
                && r.path != task.worktree
        })
        .map(|r| r.path.clone())
}

fn shell_path(path: &Path) -> String {
    crate::workflow::shell_quote(&path.to_string_lossy())
}

/// How to recreate a task's branch that was deleted by hand, at the last
/// commit its worktree had: `git switch -c` on an unborn HEAD would make an
/// empty branch, so the commit is named exactly.
fn restore_branch(task: &ActiveTask) -> String {
    let (branch, wt) = (&task.branch, task.worktree.display());
    match worktree::worktree_head(&task.worktree) {
        WorktreeHead::Unborn { branch: on, last: Some(oid) } if on == *branch => format!(
            "recreate it at the worktree's last commit (from its HEAD log) with `git branch {branch} {oid}`"
        ),
        WorktreeHead::Commit { oid, .. } => format!(
            "recreate it at the worktree's HEAD with `git branch {branch} {oid}`, then `git -C {wt} switch {branch}`"
        ),
        _ => format!(
            "find the task's last commit in the worktree's HEAD log (`git -C {wt} rev-parse --git-path logs/HEAD` names it), \
             then recreate the branch with `git branch {branch} COMMIT`"
        ),
    }
}

/// Worktrees no active task owns: directories in the worktree directory, and
/// git worktrees on a task branch (`par.branchPrefix`).
fn orphan_worktrees(ws: &Workspace, survey: &Survey) -> Result<Vec<Finding>> {
    let Some(state) = &survey.state else { return Ok(Vec::new()) };
    // A finish that died after releasing its task still owns the worktree it removes on repair.
    // A task's worktree moved elsewhere is reported with its task.
    let known: BTreeSet<PathBuf> = state
        .tasks
        .values()
        .map(|t| canonical(&t.worktree))
        .chain(state.tasks.values().filter_map(|t| moved_to(survey, t)).map(|p| canonical(&p)))
        .chain(survey.finishes.iter().map(|f| canonical(&f.journal.worktree)))
        .collect();
    let mut candidates: BTreeSet<PathBuf> = BTreeSet::new();
    let dir = ws.worktree_dir();
    match fs::read_dir(&dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
                candidates.insert(canonical(&entry.path()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    }
    let prefix = &ws.config.branch_prefix;
    for record in &survey.worktrees {
        let on_task_branch = record.branch.as_deref().is_some_and(|b| b.starts_with(prefix.as_str()));
        if on_task_branch && record.prunable.is_none() {
            candidates.insert(canonical(&record.path));
        }
    }
    let main_branch = ws.main_branch(state).ok();
    let mut findings = Vec::new();
    for path in candidates.into_iter().filter(|p| !known.contains(p)) {
        let record = survey.worktrees.iter().find(|r| canonical(&r.path) == path);
        if let Some(note) = kept_worktree(ws, survey, &path, record, main_branch.as_deref())? {
            findings.push(note);
            continue;
        }
        let what = match record.and_then(|r| r.branch.as_deref()) {
            Some(branch) => format!("worktree on branch {branch}"),
            None if record.is_some() => "worktree".to_string(),
            None => "directory (not a git worktree)".to_string(),
        };
        let advice = match record {
            Some(_) => format!(
                "it may hold work: check it, then `git worktree remove {}` if nothing in it is needed",
                path.display()
            ),
            None => format!("it may hold work: check it, then remove or move it ({})", path.display()),
        };
        findings.push(
            Finding::new(
                Kind::OrphanWorktree,
                format!("{} is a {what} that no active task owns", path.display()),
            )
            .path(&path)
            .advice(advice),
        );
    }
    Ok(findings)
}

/// The note for a worktree on a task branch that no active task owns but
/// whose work is safe: its task landed (`finish --keep` kept it), or it is
/// clean and its branch holds nothing the main branch lacks.
fn kept_worktree(
    ws: &Workspace,
    survey: &Survey,
    path: &Path,
    record: Option<&WorktreeRecord>,
    main_branch: Option<&str>,
) -> Result<Option<Finding>> {
    let Some(branch) = record.and_then(|r| r.branch.as_deref()) else { return Ok(None) };
    let Some(id) = branch.strip_prefix(ws.config.branch_prefix.as_str()) else { return Ok(None) };
    let landed = survey.landed.contains(id);
    let on_main = match main_branch {
        Some(main) => merged_into(ws, branch, main)?,
        None => false,
    };
    let main = main_branch.unwrap_or("the main branch");
    let remove = format!("`git worktree remove {}`", path.display());
    let advice = if on_main {
        format!("remove it once you no longer need it: {remove} and `git branch -d {branch}`")
    } else {
        format!(
            "remove it once you no longer need it: {remove}; {branch} is not merged into {main} \
             (a squash landing, or commits made after it): check `git log {main}..{branch}`, then `git branch -D {branch}`"
        )
    };
    if landed {
        let message = format!("{} is the worktree of {id}, kept after it landed on {main}", path.display());
        return Ok(Some(Finding::new(Kind::KeptWorktree, message).note().task(id).path(path).advice(advice)));
    }
    // Uncommitted changes are work only this worktree holds; unreadable counts as some.
    let clean = worktree::uncommitted_files(path).is_ok_and(|files| files.is_empty());
    if !(on_main && clean) {
        return Ok(None);
    }
    let message = format!(
        "{} is a worktree on branch {branch} that no active task owns; it holds nothing that is not on {main}",
        path.display()
    );
    Ok(Some(Finding::new(Kind::KeptWorktree, message).note().path(path).advice(advice)))
}

/// Whether every commit of `branch` is on `main` (both exist).
fn merged_into(ws: &Workspace, branch: &str, main: &str) -> Result<bool> {
    let (Some(tip), Some(main_tip)) = (ws.repo.branch_tip(branch)?, ws.repo.branch_tip(main)?) else {
        return Ok(false);
    };
    Ok(tip == main_tip
        || ws
            .repo
            .git
            .graph_descendant_of(main_tip, tip)
            .with_context(|| format!("comparing {branch} with {main}"))?)
}

/// git's own records of worktrees whose directories are gone.
fn worktree_records(_ws: &Workspace, survey: &Survey) -> Result<Vec<Finding>> {
    if let Some(error) = &survey.worktrees_error {
        // A `git worktree add` killed half-way leaves a record git cannot
        // read; undoing the interrupted start (repaired before this) removes it.
        return Ok(vec![Finding::new(
            Kind::StaleWorktreeRecord,
            format!("git cannot list the worktrees: {error}"),
        )
        .repair(Repair::PruneWorktreeRecords)
        .advice(
            "if no interrupted start was repaired, remove the record git names from .git/worktrees".into(),
        )]);
    }
    Ok(survey
        .worktrees
        .iter()
        .filter_map(|record| {
            let why = record.prunable.as_ref()?;
            Some(
                Finding::new(
                    Kind::StaleWorktreeRecord,
                    format!("git still records a worktree at {} ({why})", record.path.display()),
                )
                .path(&record.path)
                .repair(Repair::PruneWorktreeRecords),
            )
        })
        .collect())
}

/// `state.json.tmp.*` left in `.git/par` by a writer that died, looked for
/// under the state lock, so a live writer's file is never seen; and the
/// temporary journals and intents the survey found under their own locks.
fn temp_files(ws: &Workspace, survey: &Survey) -> Result<Vec<Finding>> {
    let dir = ws.par().path().to_path_buf();
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    ws.par().with_lock(Lock::State, || {
        let mut findings = Vec::new();
        let entries = fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            if ParDir::is_state_temp(&entry.file_name().to_string_lossy()) {
                paths.push(entry.path());
            }
        }
        paths.sort();
        paths.extend(survey.temps.iter().cloned());
        for path in paths {
            findings.push(
                Finding::new(
                    Kind::TempFile,
                    format!("{} was left by a git-par that died while writing", path.display()),
                )
                .path(&path)
                .repair(Repair::RemoveFile { path: path.clone() }),
            );
        }
        Ok(findings)
    })
}

/// The lock files of git's that stop git and git-par alike when a git
/// command that died leaves them: `packed-refs.lock` (every ref deletion waits
/// for it, then fails), the main branch's, and every worktree's index lock.
/// Reported, never removed: a git command running now holds them too. Those
/// an interrupted finish left (its journal names them) are not listed here:
/// repairing the finish removes them.
fn git_locks(ws: &Workspace, survey: &Survey) -> Result<Vec<Finding>> {
    let owned: BTreeSet<PathBuf> =
        survey.finishes.iter().flat_map(|f| land::left_behind(&ws.repo, &f.journal)).collect();
    let mut paths = vec![ws.repo.common_dir.join("packed-refs.lock"), ws.repo.common_dir.join("index.lock")];
    if let Some(main) = survey.state.as_ref().and_then(|s| ws.main_branch(s).ok()) {
        paths.push(ws.repo.common_dir.join("refs/heads").join(format!("{main}.lock")));
    }
    // The worktrees that repairing an interrupted start, abort or landing removes.
    let removed: BTreeSet<PathBuf> = survey
        .intents
        .iter()
        .map(|i| canonical(&ws.worktree_path(&i.task)))
        .chain(survey.finishes.iter().filter(|f| f.committed).map(|f| canonical(&f.journal.worktree)))
        .collect();
    if let Ok(records) = fs::read_dir(ws.repo.common_dir.join("worktrees")) {
        let mut locks: Vec<PathBuf> = records
            .flatten()
            .map(|r| r.path())
            .filter(|record| {
                let gitdir = fs::read_to_string(record.join("gitdir")).unwrap_or_default();
                let worktree = record.join(gitdir.trim()).parent().map(canonical);
                !worktree.is_some_and(|w| removed.contains(&w))
            })
            .map(|record| record.join("index.lock"))
            .collect();
        locks.sort();
        paths.extend(locks);
    }
    Ok(paths
        .into_iter()
        .filter(|p| p.exists() && !owned.contains(p))
        .map(|path| {
            Finding::new(
                Kind::GitLock,
                format!("{} exists: a git command is running, or one died and left it", path.display()),
            )
            .path(&path)
            .advice(format!("if no git command is running, remove it: `rm {}`", path.display()))
        })
        .collect())
}
