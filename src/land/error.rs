//! Why a landing stops: one [`LandError`] per reason, with what a caller
//! needs to act on it. Display is the message alone; the command layer adds
//! the way out and the exit code. Every refusal before the commit point
//! means main, the task's branch and its worktree are as they were.

use std::path::PathBuf;
use std::time::Duration;

use crate::repo::{Conflict, InTheWay};

/// What to run again once the cause is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// The finish of this task.
    Finish(String),
    /// `doctor --repair`, which completes or rolls back a finish that died.
    Repair,
}

/// What `--verify` left in the worktree after it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stash {
    /// The files it changed were saved in the stash under this message.
    Saved { message: String },
    /// Saving them failed; they are still in the worktree.
    Failed { reason: String },
}

/// A path another task holds, as the landing's check found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub path: String,
    pub holder: String,
    /// `user@host`.
    pub owner: String,
}

/// Why a landing stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LandError {
    /// The task is not active, and it landed before.
    AlreadyLanded { id: String, main: String },
    /// The task is not active; `active` are the tasks that are.
    NotActive { id: String, active: Vec<String> },
    /// A finish of this task died and left its journal.
    NeedsRepair { id: String },
    /// Another finish of this task is running (exit 3).
    FinishRunning { id: String },
    /// Another task (`task`) passed its commit point and its finish died
    /// before the main worktree followed.
    NotSynced { task: String, main: String, id: String },
    /// The task left the state while it was being finished; nothing landed.
    AbortedMeanwhile { id: String },
    /// Another finish held the merge queue for longer than the wait (exit 3).
    QueueBusy { id: String, waited: Duration, holder: Option<String> },
    /// A worktree's index stayed locked by someone else (exit 3).
    IndexLocked { whose: String, lock: PathBuf, worktree: PathBuf, resume: Resume },
    /// Main's ref lock stays: a git that died left it.
    MainLocked { id: String, main: String, lock: PathBuf },
    /// Main moved under every attempt (exit 3).
    MainMoved { id: String, main: String },
    /// The task is blocked.
    Blocked { id: String, reason: Option<String> },
    /// The main branch does not exist.
    NoMain { main: String },
    /// The task's branch is gone.
    BranchGone { id: String, branch: String },
    /// The task's worktree was moved from `expected` to `moved`.
    Moved { id: String, moved: PathBuf, expected: PathBuf },
    /// The task's worktree is gone.
    WorktreeMissing { id: String, worktree: PathBuf, branch: String },
    /// The task's worktree has another branch (`found`, `None`: detached) checked out.
    WrongBranch { id: String, worktree: PathBuf, found: Option<String>, branch: String },
    /// A merge, rebase... is in progress in the task's worktree.
    OperationInTask { id: String, op: String, worktree: PathBuf },
    /// `--commit` could not run.
    CommitFailed { id: String, worktree: PathBuf, reason: String },
    /// `--commit` was refused, by the pre-commit hook or by git.
    CommitRefused { id: String, worktree: PathBuf, by_hook: bool },
    /// The task's worktree has uncommitted changes: (status, path).
    Dirty { id: String, status: Vec<(String, String)> },
    /// Files the task declares (its file locks) that git ignores, written in
    /// its worktree and found nowhere else: removing the worktree would lose them.
    IgnoredWork { id: String, worktree: PathBuf, paths: Vec<String> },
    /// A merge, rebase, bisect... is in progress on main in `dir`.
    OperationOnMain { id: String, main: String, op: String, dir: PathBuf },
    /// Untracked files or links in `dir` (the worktree of `whose`) stand
    /// where `doing` would write.
    InTheWay {
        id: String,
        main: String,
        branch: String,
        whose: String,
        dir: PathBuf,
        doing: String,
        blocked: Vec<InTheWay>,
    },
    /// The main worktree has uncommitted changes where the landing writes: (status, path).
    MainDirty { id: String, main: String, dir: PathBuf, status: Vec<(String, String)> },
    /// Main was checked out in `worktree` and no longer is.
    NotCheckedOut { id: String, main: String, worktree: PathBuf },
    /// Main does not merge into the task cleanly.
    Conflict { id: String, main: String, branch: String, worktree: PathBuf, files: Vec<Conflict> },
    /// One of the task's commits (`commit`: short hash and subject) does
    /// not apply on main (`--strategy rebase`).
    ReplayConflict {
        id: String,
        main: String,
        branch: String,
        worktree: PathBuf,
        commit: String,
        files: Vec<Conflict>,
    },
    /// `--verify` passed but changed files in the worktree.
    VerifyChanged {
        id: String,
        command: String,
        status: Vec<(String, String)>,
        worktree: PathBuf,
        stash: Option<Stash>,
    },
    /// `--verify` failed (`code`: its exit status, `None` when a signal
    /// killed it); `tail` is the end of its output.
    /// Ctrl-C (or SIGTERM) during the verify: the verify was stopped and the landing rolled back.
    Interrupted { id: String, command: String, worktree: PathBuf, stash: Option<Stash> },
    VerifyFailed {
        id: String,
        command: String,
        code: Option<i32>,
        tail: String,
        worktree: PathBuf,
        stash: Option<Stash>,
    },
    /// Bringing the main worktree to the landing would overwrite what is in the way.
    MainUpdateBlocked { main: String, worktree: PathBuf, blocked: Vec<InTheWay>, resume: Resume },
    /// Bringing the main worktree to the landing failed (the checkout's error is the context).
    MainUpdateFailed { main: String, worktree: PathBuf, resume: Resume },
    /// The landing changes paths another task holds (exit 3), or, when its
    /// scope refuses them, paths outside the task's locks.
    Scope {
        task: String,
        branch: String,
        main: String,
        held: Vec<Held>,
        /// Paths outside the task's locks that refuse the landing.
        outside: Vec<String>,
    },
}

impl LandError {
    /// The tasks holding what a [`LandError::Scope`] refusal names, once each.
    pub fn holders(held: &[Held]) -> Vec<&str> {
        let mut holders: Vec<&str> = Vec::new();
        for h in held {
            if !holders.contains(&h.holder.as_str()) {
                holders.push(&h.holder);
            }
        }
        holders
    }
}

impl std::fmt::Display for LandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LandError::AlreadyLanded { id, .. } => write!(f, "{id} has already landed"),
            LandError::NotActive { id, .. } => write!(f, "{id} is not active"),
            LandError::NeedsRepair { id } => write!(f, "an interrupted finish of {id} needs repair first"),
            LandError::FinishRunning { id } => write!(f, "another `git par finish` of {id} is running"),
            LandError::NotSynced { task, main, .. } => write!(
                f,
                "{task} landed on {main}, but its finish died before updating the main worktree"
            ),
            LandError::AbortedMeanwhile { id } => write!(
                f,
                "{id} was aborted (or its locks broken) while it was being finished; nothing landed"
            ),
            LandError::QueueBusy { waited, holder, .. } => {
                let who = holder.as_ref().map(|h| format!(" ({h} is landing)")).unwrap_or_default();
                write!(f, "the merge queue stayed busy for {}{who}", seconds(*waited))
            }
            LandError::IndexLocked { whose, lock, .. } => {
                write!(f, "the index of {whose} is locked: {} exists", lock.display())
            }
            LandError::MainLocked { main, lock, .. } => write!(f, "{main} is locked: {} exists", lock.display()),
            LandError::MainMoved { id, main } => write!(f, "{main} kept moving while {id} was landing"),
            LandError::Blocked { id, reason } => {
                let why = reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
                write!(f, "{id} is blocked{why}")
            }
            LandError::NoMain { main } => write!(f, "the main branch '{main}' does not exist"),
            LandError::BranchGone { id, branch } => write!(f, "the branch {branch} of {id} is gone"),
            LandError::Moved { id, moved, expected } => write!(
                f,
                "the worktree of {id} is not at {} but at {} (moved with `git worktree move`?)",
                expected.display(),
                moved.display()
            ),
            LandError::WorktreeMissing { id, worktree, .. } => {
                write!(f, "the worktree of {id} is missing: {}", worktree.display())
            }
            LandError::WrongBranch { id, worktree, found, branch } => {
                let what = found.as_ref().map(|b| format!("branch {b}")).unwrap_or_else(|| "a detached HEAD".into());
                write!(f, "the worktree of {id} ({}) has {what} checked out, not {branch}", worktree.display())
            }
            LandError::OperationInTask { id, op, worktree } => {
                write!(f, "a {op} is in progress in the worktree of {id} ({})", worktree.display())
            }
            LandError::CommitFailed { id, reason, .. } => {
                write!(f, "committing the changes of {id} failed: {reason}")
            }
            LandError::CommitRefused { id, by_hook: true, .. } => {
                write!(f, "the pre-commit hook refused the commit of {id}'s changes")
            }
            LandError::CommitRefused { id, by_hook: false, .. } => {
                write!(f, "git commit failed on the changes of {id}")
            }
            LandError::Dirty { id, status } => {
                write!(f, "the worktree of {id} has uncommitted changes:\n{}", list_status(status))
            }
            LandError::IgnoredWork { id, paths, .. } => write!(
                f,
                "{id} wrote {} that git ignores; it is in no commit, and removing the worktree would lose it:\n{}",
                if paths.len() == 1 { "a file it declares" } else { "files it declares" },
                paths.iter().map(|p| format!("  !! {p}")).collect::<Vec<_>>().join("\n")
            ),
            LandError::OperationOnMain { main, op, dir, .. } => {
                write!(f, "a {op} is in progress in the worktree of {main} ({})", dir.display())
            }
            LandError::InTheWay { whose, dir, doing, blocked, .. } => write!(
                f,
                "the worktree of {whose} ({}) has untracked working tree files that {doing} would overwrite:\n{}",
                dir.display(),
                list_in_the_way(blocked)
            ),
            LandError::MainDirty { id, main, dir, status } => write!(
                f,
                "the worktree of {main} ({}) has uncommitted changes in files {id} would change:\n{}",
                dir.display(),
                list_status(status)
            ),
            LandError::NotCheckedOut { main, worktree, .. } => {
                write!(f, "{main} was checked out in {} and no longer is", worktree.display())
            }
            LandError::Conflict { id, main, files, .. } => {
                let width = files.iter().map(|c| c.path.len()).max().unwrap_or(0);
                let list: Vec<String> = files.iter().map(|c| format!("  {:width$}  {}", c.path, c.kind)).collect();
                let plural = if files.len() == 1 { "" } else { "s" };
                write!(f, "{id} conflicts with {main} in {} file{plural}:\n{}", files.len(), list.join("\n"))
            }
            LandError::ReplayConflict { id, main, commit, files, .. } => {
                let width = files.iter().map(|c| c.path.len()).max().unwrap_or(0);
                let list: Vec<String> = files.iter().map(|c| format!("  {:width$}  {}", c.path, c.kind)).collect();
                let plural = if files.len() == 1 { "" } else { "s" };
                write!(
                    f,
                    "{id} does not rebase onto {main}: its commit {commit} conflicts in {} file{plural}:\n{}",
                    files.len(),
                    list.join("\n")
                )
            }
            LandError::VerifyChanged { id, command, status, .. } => {
                write!(f, "`{command}` changed files in the worktree of {id}:\n{}", list_status(status))
            }
            LandError::Interrupted { id, command, .. } => write!(
                f,
                "interrupted during the verify (`{command}`): it was stopped, and nothing of {id} landed"
            ),
            LandError::VerifyFailed { command, code, tail, .. } => {
                let code = code.map(|c| format!("exit {c}")).unwrap_or_else(|| "killed by a signal".to_string());
                let shown = if tail.is_empty() { "(no output)" } else { tail };
                write!(f, "verify failed ({code}): `{command}`; its last lines:\n{shown}")
            }
            LandError::MainUpdateBlocked { main, worktree, blocked, .. } => write!(
                f,
                "the worktree of {main} ({}) has untracked working tree files that the landing would overwrite:\n{}",
                worktree.display(),
                list_in_the_way(blocked)
            ),
            LandError::MainUpdateFailed { main, worktree, .. } => {
                write!(f, "could not update {main} in {}", worktree.display())
            }
            LandError::Scope { task, held, outside, .. } => {
                let count = |n: usize| if n == 1 { "a path".to_string() } else { format!("{n} paths") };
                let what = match (held.is_empty(), outside.is_empty()) {
                    (false, true) => format!("{} another task holds", count(held.len())),
                    (true, _) => format!("{} outside its locks", count(outside.len())),
                    (false, false) => {
                        format!("{} another task holds or outside its locks", count(held.len() + outside.len()))
                    }
                };
                write!(f, "{task} cannot land: it changes {what}")?;
                for h in held {
                    write!(f, "\n  {}: locked by {} ({})", h.path, h.holder, h.owner)?;
                }
                for path in outside {
                    write!(f, "\n  {path}: outside the locks of {task}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LandError {}

/// `  M path` lines, one per entry.
pub(super) fn list_status(entries: &[(String, String)]) -> String {
    entries.iter().map(|(code, path)| format!("  {code} {path}")).collect::<Vec<_>>().join("\n")
}

fn list_in_the_way(blocked: &[InTheWay]) -> String {
    blocked.iter().map(|b| format!("  {} ({})", b.path, b.what)).collect::<Vec<_>>().join("\n")
}

/// `30s`, `0.5s`: how long, the way `--wait` takes it.
pub(super) fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}s")
    } else {
        format!("{}s", format!("{secs:.3}").trim_end_matches('0'))
    }
}
