//! What a `start` or an `abort` is in the middle of, so that `doctor
//! --repair` can undo a start or complete an abort whose process died.
//!
//! Invariants:
//! - An intent (`.git/par/journal/<ID>.start` or `<ID>.abort`) is written,
//!   removed and read only under [`WORKTREES_LOCK`], which its process holds
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
use std::io::ErrorKind;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::lifecycle::{chronicle, WORKTREES_LOCK};
use crate::state::{self, ActiveTask};
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

    fn path(ws: &Workspace, task: &str, verb: Verb) -> PathBuf {
        ws.store.dir().join("journal").join(format!("{task}.{}", verb.extension()))
    }

    /// Writes it (whole: a temporary file renamed into place).
    pub fn save(&self, ws: &Workspace) -> Result<()> {
        let path = Intent::path(ws, &self.task, self.verb);
        let dir = ws.store.dir().join("journal");
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = dir.join(format!(".{}.{}.tmp", self.task, self.verb.extension()));
        let json = serde_json::to_vec_pretty(self).context("serialising an intent")?;
        fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }

    /// Removes it; already gone is fine.
    pub fn remove(&self, ws: &Workspace) -> Result<()> {
        let path = Intent::path(ws, &self.task, self.verb);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", path.display()))
            }
            _ => Ok(()),
        }
    }
}

/// The intents left in the journal directory, by task. The caller holds
/// [`WORKTREES_LOCK`], so these belong to processes that died.
pub fn interrupted(ws: &Workspace) -> Result<Vec<Intent>> {
    let dir = ws.store.dir().join("journal");
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        let ours = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e == "start" || e == "abort");
        if !ours || path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')) {
            continue;
        }
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let intent: Intent = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a git-par intent; move it aside", path.display()))?;
        found.push(intent);
    }
    found.sort_by(|a, b| a.task.cmp(&b.task));
    Ok(found)
}

/// The temporary intents (`.<ID>.start.tmp`) of starts and aborts that died
/// while writing one. The caller holds [`WORKTREES_LOCK`].
pub fn temp_files(ws: &Workspace) -> Result<Vec<PathBuf>> {
    let dir = ws.store.dir().join("journal");
    let Ok(entries) = fs::read_dir(&dir) else { return Ok(Vec::new()) };
    let mut temps = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && (name.ends_with(".start.tmp") || name.ends_with(".abort.tmp")) {
            temps.push(entry.path());
        }
    }
    temps.sort();
    Ok(temps)
}

/// Removes one of [`temp_files`]; takes [`WORKTREES_LOCK`].
pub fn remove_temp_file(ws: &Workspace, path: &std::path::Path) -> Result<()> {
    ws.store.with_lock(WORKTREES_LOCK, || match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    })
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
/// `task`. Takes [`WORKTREES_LOCK`].
pub fn recover(ws: &Workspace, task: &str, verb: Verb) -> Result<Recovered> {
    ws.store.with_lock(WORKTREES_LOCK, || {
        let Some(intent) = interrupted(ws)?.into_iter().find(|i| i.task == task && i.verb == verb) else {
            return Ok(Recovered::Nothing);
        };
        let state = ws.store.load()?;
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
    if tip.is_some() {
        ws.repo.delete_branch(&entry.branch)?;
    }
    drop_entry(ws, entry)?;
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
    let delete = !intent.keep_branch && tip.is_some() && tip == checked;
    if delete {
        ws.repo.delete_branch(&entry.branch)?;
    }
    drop_entry(ws, entry)?;
    let mut warnings = Vec::new();
    let details = format!(
        "branch {} {} worktree {} removed; completed by doctor --repair",
        entry.branch,
        if delete { "deleted" } else { "kept" },
        entry.worktree.display()
    );
    let fields = json!({"branch": entry.branch, "worktree": entry.worktree, "branch_tip": intent.branch_tip,
                        "branch_deleted": delete, "repaired": true});
    chronicle(ws, &mut warnings, &state::now(), "abort", &entry.id, &details, fields);
    Ok(Recovered::Removed)
}

fn drop_entry(ws: &Workspace, entry: &ActiveTask) -> Result<()> {
    ws.store.transact(|state| {
        if state.tasks.get(&entry.id).is_some_and(|t| t.started_at == entry.started_at) {
            state.tasks.remove(&entry.id);
        }
        Ok(())
    })
}
