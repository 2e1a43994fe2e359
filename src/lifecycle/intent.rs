//! What a `start` or an `abort` is in the middle of, so that `doctor
//! --repair` can undo a start or complete an abort whose process died.
//!
//! Invariants:
//! - An intent (`.git/par/journal/<ID>.start` or `<ID>.abort`) is written,
//!   removed and read only under the worktrees lock, which its process holds
//!   from writing it to removing it. So whoever holds that lock and finds an
//!   intent knows its process is dead.
//! - A start's intent is written before the task is recorded and removed
//!   after its worktree is made (or after a failed start is rolled back): a
//!   state entry with no intent belongs to a start that returned.
//! - An abort's intent is written after its checks passed (nothing is lost,
//!   or `--force` said so) and before it removes anything; it is removed
//!   after the task has left the state.
//! - Undoing a start removes only what the start made: the worktree at its
//!   recorded path, the branch while it is still at the recorded base, the
//!   state entry with the same `started_at`. A branch that moved is kept and
//!   the task stays active.

use std::fs;
use std::path::PathBuf;

use anyhow::Result;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::journal::{self, Record};
use crate::state::{self, ActiveTask, Event, Lock, Transact as _};
use crate::workspace::Workspace;

/// Which command an intent belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Start,
    Abort,
}

impl Verb {
    fn extension(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Abort => "abort",
        }
    }
}

/// A start or abort in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub verb: Verb,
    pub task: String,
    pub pid: u32,
    /// The `started_at` of the state entry it is about.
    pub started_at: String,
    /// Abort: keep the branch.
    #[serde(default)]
    pub keep_branch: bool,
    /// Abort: the branch's tip when the abort checked it.
    #[serde(default)]
    pub branch_tip: Option<String>,
}

impl Record for Intent {
    const KIND: &'static str = "intent";
    const NOUN: &'static str = "an intent";
    const EXTENSIONS: &'static [&'static str] = &["start", "abort"];

    fn task(&self) -> &str {
        &self.task
    }

    fn extension(&self) -> &'static str {
        self.verb.extension()
    }
}

impl Intent {
    /// A start's intent for the task to be recorded with `started_at`.
    pub fn start(task: &str, started_at: &str) -> Intent {
        Intent {
            verb: Verb::Start,
            task: task.to_string(),
            pid: std::process::id(),
            started_at: started_at.to_string(),
            keep_branch: false,
            branch_tip: None,
        }
    }

    /// An abort's intent for `task`.
    pub fn abort(task: &ActiveTask, keep_branch: bool, branch_tip: Option<git2::Oid>) -> Intent {
        Intent {
            verb: Verb::Abort,
            task: task.id.clone(),
            pid: std::process::id(),
            started_at: task.started_at.clone(),
            keep_branch,
            branch_tip: branch_tip.map(|t| t.to_string()),
        }
    }

    /// Writes it (whole: a temporary file renamed into place).
    pub fn save(&self, ws: &Workspace) -> Result<()> {
        journal::save(ws.par(), self)
    }

    /// Removes it; already gone is fine.
    pub fn remove(&self, ws: &Workspace) -> Result<()> {
        journal::remove(ws.par(), &self.task, self.extension())
    }
}

/// The intents left in the journal directory, by task. The caller holds
/// the worktrees lock, so these belong to processes that died.
pub fn interrupted(ws: &Workspace) -> Result<Vec<Intent>> {
    journal::list(ws.par())
}

/// The temporary intents (`.<ID>.start.tmp`) of starts and aborts that died
/// while writing one. The caller holds the worktrees lock.
pub fn temp_files(ws: &Workspace) -> Result<Vec<PathBuf>> {
    journal::temps::<Intent>(ws.par())
}

/// Whether `name` is one of [`temp_files`].
pub fn is_temp_file(name: &str) -> bool {
    state::ParDir::is_journal_temp(name, Intent::EXTENSIONS)
}

/// Removes one of [`temp_files`]; takes the worktrees lock.
pub fn remove_temp_file(ws: &Workspace, path: &std::path::Path) -> Result<()> {
    ws.par().with_lock(Lock::Worktrees, || journal::remove_file(path))
}

/// What [`recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// The intent was gone: its process finished after all.
    Nothing,
    /// The start was undone, or the abort completed: the task is not active.
    Removed,
    /// The task stays active (its branch has commits the start did not make).
    Kept,
}

/// Undoes the interrupted start, or completes the interrupted abort, of
/// `task`. Takes the worktrees lock.
pub fn recover(ws: &Workspace, task: &str, verb: Verb) -> Result<Recovered> {
    ws.with_worktrees_locked(|| {
        let Some(intent) = interrupted(ws)?.into_iter().find(|i| i.task == task && i.verb == verb) else {
            return Ok(Recovered::Nothing);
        };
        let state = ws.state().load()?;
        let entry = state.tasks.get(task).filter(|t| t.started_at == intent.started_at).cloned();
        let outcome = match (entry, verb) {
            // Died before recording the task, or after dropping it.
            (None, _) => Recovered::Removed,
            (Some(entry), Verb::Start) => undo_start(ws, &entry)?,
            (Some(entry), Verb::Abort) => complete_abort(ws, &entry, &intent)?,
        };
        intent.remove(ws)?;
        Ok(outcome)
    })
}

fn undo_start(ws: &Workspace, entry: &ActiveTask) -> Result<Recovered> {
    // `git worktree add -b` killed while it created the branch.
    ws.repo.clear_branch_lock(&entry.branch)?;
    let base = git2::Oid::from_str(&entry.base).ok();
    let tip = ws.repo.branch_tip(&entry.branch)?;
    if tip.is_some() && tip != base {
        // Someone committed on it after all: it is a task with work now.
        return Ok(Recovered::Kept);
    }
    ws.repo.discard_worktree(&entry.worktree)?;
    if let Some(tip) = tip {
        ws.repo.delete_branch(&entry.branch, tip)?;
    }
    drop_entry(ws, entry, None)?.check()?;
    if let Some(parent) = entry.worktree.parent() {
        // Fails harmlessly when other worktrees live there.
        let _ = fs::remove_dir(parent);
    }
    Ok(Recovered::Removed)
}

fn complete_abort(ws: &Workspace, entry: &ActiveTask, intent: &Intent) -> Result<Recovered> {
    ws.repo.clear_branch_lock(&entry.branch)?;
    ws.repo.discard_worktree(&entry.worktree)?;
    let tip = ws.repo.branch_tip(&entry.branch)?;
    let checked = intent.branch_tip.as_deref().and_then(|t| git2::Oid::from_str(t).ok());
    // Only the commits the abort was allowed to drop.
    let delete = match tip.filter(|_| !intent.keep_branch && tip == checked) {
        Some(tip) => ws.repo.delete_branch(&entry.branch, tip)?,
        None => false,
    };
    let at = state::now();
    let fields = json!({"branch": entry.branch, "worktree": entry.worktree, "branch_tip": intent.branch_tip,
                        "branch_deleted": delete, "repaired": true});
    // Its warnings have no one to go to: the repair reports what it did.
    let mut warnings = Vec::new();
    drop_entry(ws, entry, Some(Event::new(&at, "abort", &entry.id, fields)))?.warn(&mut warnings);
    let details = format!(
        "branch {} {} worktree {} removed; completed by doctor --repair",
        entry.branch,
        if delete { "deleted" } else { "kept" },
        entry.worktree.display()
    );
    ws.log(&mut warnings, &at, "abort", &entry.id, &details);
    Ok(Recovered::Removed)
}

/// Drops the task's state entry if it is still the one `entry` recorded,
/// recording `event` with it.
fn drop_entry(ws: &Workspace, entry: &ActiveTask, event: Option<Event>) -> Result<state::Recorded> {
    let (_, recorded) = ws.state().transact(|state, events| {
        if state.tasks.get(&entry.id).is_some_and(|t| t.started_at == entry.started_at) {
            state.tasks.remove(&entry.id);
        }
        events.extend(event.clone());
        Ok(())
    })?;
    Ok(recorded)
}
