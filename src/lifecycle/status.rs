//! `lock-status`: the active tasks, and whether their worktree or branch is gone.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::state::{ActiveTask, TaskStatus};
use crate::workspace::Workspace;

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
    let state = ws.state().load()?;
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
