//! `block` and `unblock`: a task's blocker, recorded in the state and in
//! the blockers file.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use serde_json::json;

use crate::logs;
use crate::state::{self, Event, Owner, TaskStatus, Transact as _};
use crate::workspace::Workspace;

use super::{active_entry, TaskError};

/// Why a blocker cannot be recorded or cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockError {
    /// The reason is empty (a usage error).
    NoReason { id: String },
    /// The task to unblock is not blocked.
    NotBlocked { id: String },
}

impl std::fmt::Display for BlockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockError::NoReason { .. } => f.write_str("a blocker needs a reason"),
            BlockError::NotBlocked { id } => write!(f, "{id} is not blocked"),
        }
    }
}

impl std::error::Error for BlockError {}

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
        return Err(BlockError::NoReason { id: id.to_string() }.into());
    }
    let at = state::now();
    let mut warnings = Vec::new();
    let ((), recorded) = ws.state().transact(|state, events| {
        let task = active_entry(state, id)?;
        if task.state == TaskStatus::Finishing {
            return Err(TaskError::Finishing { id: id.to_string() }.into());
        }
        task.state = TaskStatus::Blocked;
        task.blocked_reason = Some(reason.clone());
        events.push(Event::new(&at, "block", id, json!({"reason": reason})));
        Ok(())
    })?;
    recorded.warn(&mut warnings);
    let blockers_file = write_blocker(ws, &mut warnings, &at, id, &reason);
    ws.log(&mut warnings, &at, "block", id, &reason);
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
    let at = state::now();
    let mut warnings = Vec::new();
    let ((), recorded) = ws.state().transact(|state, events| {
        let task = active_entry(state, id)?;
        if task.state != TaskStatus::Blocked {
            return Err(BlockError::NotBlocked { id: id.to_string() }.into());
        }
        task.state = TaskStatus::Active;
        let previous = task.blocked_reason.take();
        events.push(Event::new(&at, "unblock", id, json!({"previous_reason": previous})));
        Ok(())
    })?;
    recorded.warn(&mut warnings);
    let blockers_file = write_blocker(ws, &mut warnings, &at, id, "unblocked");
    ws.log(&mut warnings, &at, "unblock", id, "");
    Ok(BlockChange { id: id.to_string(), state: TaskStatus::Active, reason: None, blockers_file, warnings })
}

pub(super) fn write_blocker(
    ws: &Workspace,
    warnings: &mut Vec<String>,
    at: &str,
    id: &str,
    text: &str,
) -> PathBuf {
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
