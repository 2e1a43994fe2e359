//! `abort`: a task stopped, its worktree and branch removed, its locks
//! released; never losing work unless forced.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use serde_json::json;

use super::intent::Intent;
use crate::journal::crash_point;
use crate::repo::{self as worktree, CommitSummary, WorktreeHead};
use crate::state::{self, ActiveTask, Event, Recorded, TaskStatus, Transact as _};
use crate::workspace::Workspace;

use super::{short, TaskError};

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
    let state = ws.state().load()?;
    let Some(task) = state.tasks.get(id).cloned() else {
        return Err(TaskError::NotActive { id: id.to_string() }.into());
    };
    // Holding the merge queue, or riding the merge train (verifying, waiting).
    if crate::land::landing_now(ws.par())?.as_deref() == Some(id) || crate::land::is_member(ws.par(), id) {
        // Forced or not: pulling the worktree from under a live landing
        // leaves it nothing sensible to do.
        return Err(AbortError::LandingNow { id: id.to_string() }.into());
    }
    if task.state == TaskStatus::Finishing && !force {
        return Err(AbortError::Finishing { id: id.to_string() }.into());
    }
    let main_branch = ws.main_branch(&state)?;
    let main_tip = ws.repo.branch_tip(&main_branch)?;
    let branch_tip = ws.repo.branch_tip(&task.branch)?;
    let worktree_exists = task.worktree.is_dir();
    if !worktree_exists {
        // Moved, not gone: its work is there, and git will not delete a branch it has checked out.
        let moved = crate::repo::worktree_of_branch(&ws.repo.common_dir, ws.main_root(), &task.branch)?;
        if let Some(moved) = moved {
            return Err(
                AbortError::Moved { id: id.to_string(), moved, expected: task.worktree.clone() }.into()
            );
        }
    }

    // Checked out by hand in another worktree, the branch could not be
    // deleted: refused before anything is removed.
    if let (Some(_), false) = (branch_tip, keep_branch) {
        if let Some(other) = ws.repo.checked_out_elsewhere(&task.branch, &task.worktree)? {
            let (id, branch) = (id.to_string(), task.branch.clone());
            return Err(AbortError::CheckedOutElsewhere { id, branch, other }.into());
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
                let (id, worktree, reason) = (id.to_string(), task.worktree.clone(), format!("{e:#}"));
                return Err(AbortError::CannotTell { id, worktree, reason }.into());
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
        return Err(AbortError::WouldLose(Box::new(Loss {
            id: id.to_string(),
            main_branch,
            branch: task.branch.clone(),
            worktree: task.worktree.clone(),
            commits,
            on_branch,
            gone_branch_tip,
            files,
        }))
        .into());
    }

    let mut warnings = Vec::new();
    let tip_hex = branch_tip.map(|t| t.to_string());
    let at = state::now();
    let event = |branch_deleted: bool| {
        let fields = json!({
            "branch": task.branch,
            "worktree": task.worktree,
            "branch_tip": tip_hex,
            "branch_deleted": branch_deleted,
            "forced": force,
            "discarded_commits": commits.len(),
            "discarded_files": files.len(),
        });
        Event::new(&at, "abort", id, fields)
    };
    let steps = Steps { worktree_exists, force, keep_branch, branch_tip };
    let branch_deleted = ws
        .with_worktrees_locked(|| {
            // From here the abort is decided: `doctor --repair` completes it if it dies.
            let intent = Intent::abort(&task, keep_branch, branch_tip);
            intent.save(ws)?;
            let done = abort_steps(ws, &task, &steps, &event);
            // A failed abort changed what it changed; the task stays for the user to retry.
            intent.remove(ws)?;
            done
        })
        .map(|(deleted, recorded)| {
            recorded.warn(&mut warnings);
            deleted
        })?;
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
    ws.log(&mut warnings, &at, "abort", id, &details);
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

/// What an abort decided to do.
#[derive(Clone, Copy)]
struct Steps {
    worktree_exists: bool,
    force: bool,
    keep_branch: bool,
    /// The branch's tip as the abort checked it (`None`: the branch is gone).
    branch_tip: Option<git2::Oid>,
}

/// Removes an aborted task's worktree and (unless kept) branch, then its
/// state entry with the event `event` makes (given whether the branch was
/// deleted); runs under the worktrees lock, so that `doctor --repair` never
/// sees the task without its worktree and checks it out again. Returns
/// whether the branch was deleted.
fn abort_steps(
    ws: &Workspace,
    task: &ActiveTask,
    steps: &Steps,
    event: &dyn Fn(bool) -> Event,
) -> Result<(bool, Recorded)> {
    let Steps { worktree_exists, force, keep_branch, branch_tip } = *steps;
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
    // Only at the tip the abort checked: never a commit made since.
    let deleted = match branch_tip {
        Some(tip) if !keep_branch => ws.repo.delete_branch(&task.branch, tip)?,
        _ => false,
    };
    crash_point("abort-branch-deleted")?;
    let ((), recorded) = ws.state().transact(|state, events| {
        state.tasks.remove(&task.id);
        events.push(event(deleted));
        Ok(())
    })?;
    Ok((deleted, recorded))
}

/// What an abort would throw away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    pub id: String,
    pub main_branch: String,
    pub branch: String,
    pub worktree: PathBuf,
    /// Commits on no branch that stays, newest first.
    pub commits: Vec<CommitSummary>,
    /// Whether some of the commits are on the task's branch (so
    /// `--keep-branch` would keep them); the others are on a detached HEAD,
    /// or on the task's branch that was deleted by hand.
    pub on_branch: bool,
    /// The last commit of the task's branch when it was deleted by hand (from
    /// the worktree's HEAD log), to recreate it.
    pub gone_branch_tip: Option<git2::Oid>,
    /// Uncommitted files.
    pub files: Vec<String>,
}

/// Why a task cannot be aborted (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbortError {
    /// A live finish holds the merge queue for this task.
    LandingNow { id: String },
    /// The task is being finished (or its finish died).
    Finishing { id: String },
    /// The task's worktree was moved from `expected` to `moved`.
    Moved { id: String, moved: PathBuf, expected: PathBuf },
    /// The worktree's status cannot be read.
    CannotTell { id: String, worktree: PathBuf, reason: String },
    /// The abort would throw work away.
    WouldLose(Box<Loss>),
    /// Another worktree (`other`) has the task's branch checked out.
    CheckedOutElsewhere { id: String, branch: String, other: PathBuf },
}

impl std::fmt::Display for AbortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AbortError::LandingNow { id } => {
                write!(f, "{id} is being finished right now (`git par finish {id}` holds the merge queue)")
            }
            AbortError::Finishing { id } => write!(f, "{id} is being finished"),
            AbortError::Moved { id, moved, expected } => write!(
                f,
                "the worktree of {id} is not at {} but at {} (moved with `git worktree move`?)",
                expected.display(),
                moved.display()
            ),
            AbortError::CheckedOutElsewhere { id, branch, other } => write!(
                f,
                "{id}'s branch {branch} is checked out (or being rebased or bisected) in {}, so it cannot be deleted",
                other.display()
            ),
            AbortError::CannotTell { worktree, reason, .. } => {
                write!(f, "cannot tell whether {} holds uncommitted work: {reason}", worktree.display())
            }
            AbortError::WouldLose(loss) => {
                let (commits, files) = (&loss.commits, &loss.files);
                let mut lost = Vec::new();
                if !commits.is_empty() {
                    let shown: Vec<String> = commits.iter().take(3).map(ToString::to_string).collect();
                    let more = if commits.len() > 3 {
                        format!(", and {} more", commits.len() - 3)
                    } else {
                        String::new()
                    };
                    lost.push(format!(
                        "{} not on {} ({}{more})",
                        count(commits.len(), "commit"),
                        loss.main_branch,
                        shown.join(", ")
                    ));
                }
                if !files.is_empty() {
                    let shown: Vec<&str> = files.iter().take(3).map(String::as_str).collect();
                    let more = if files.len() > 3 {
                        format!(", and {} more", files.len() - 3)
                    } else {
                        String::new()
                    };
                    lost.push(format!(
                        "{} ({}{more})",
                        count(files.len(), "uncommitted file"),
                        shown.join(", ")
                    ));
                }
                write!(f, "aborting {} would lose {}", loss.id, lost.join(" and "))
            }
        }
    }
}

impl std::error::Error for AbortError {}

pub(super) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
