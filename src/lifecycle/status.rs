//! `lock-status`: the active tasks, and whether they are stale: their
//! worktree or branch is gone (a task of this machine), or, in remote mode,
//! their machine has not renewed its heartbeat for `par.lockTTL`.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::state::{remote, ActiveTask, State, TaskStatus};
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
    /// Remote mode: when the owning machine last renewed its heartbeat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<String>,
}

/// The active tasks, with whether their worktree or branch is gone.
pub fn status(ws: &Workspace) -> Result<Vec<StatusRow>> {
    let state = ws.state().load()?;
    let mut rows = Vec::new();
    for task in state.tasks.values() {
        let stale_reason = staleness(ws, &state, task)?;
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
            heartbeat: ws.state().remote().map(|_| heartbeat(&state, task).to_string()),
        });
    }
    Ok(rows)
}

/// When the machine holding `task` last renewed its heartbeat (its start, if never).
pub fn heartbeat<'a>(state: &'a State, task: &'a ActiveTask) -> &'a str {
    state.heartbeats.get(&task.owner.host).map_or(task.started_at.as_str(), String::as_str)
}

/// Whether `task` is held by another machine (remote mode only: every
/// task is this machine's in local mode).
pub fn on_other_machine(ws: &Workspace, task: &ActiveTask) -> bool {
    ws.state().remote().is_some() && task.owner.host != crate::state::Owner::current().host
}

/// Why an active task is stale, if it is: its worktree directory or branch
/// is gone (a task of this machine), or its machine's heartbeat is older
/// than `par.lockTTL` (remote mode).
pub fn staleness(ws: &Workspace, state: &State, task: &ActiveTask) -> Result<Option<String>> {
    let mut gone = Vec::new();
    if ws.state().remote().is_some() {
        let beat = heartbeat(state, task);
        if let Some(age) = remote::age(beat).filter(|age| *age > ws.config.lock_ttl) {
            let age = humantime::format_duration(std::time::Duration::from_secs(age.as_secs()));
            return Ok(Some(format!("no heartbeat from {} for {age}", task.owner.host)));
        }
        if on_other_machine(ws, task) {
            return Ok(None);
        }
    }
    if !task.worktree.is_dir() {
        gone.push("worktree missing");
    }
    if !ws.repo.branch_exists(&task.branch)? {
        gone.push("branch missing");
    }
    Ok((!gone.is_empty()).then(|| gone.join(", ")))
}
