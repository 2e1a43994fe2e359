//! A task's locks: conflicts between tasks, `lock --add/--remove`, and
//! `unlock --force`, which breaks them.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use serde_json::json;

use crate::locks::{self, Pattern};
use crate::state::{self, ActiveTask, Event, Owner, State, TaskStatus, Transact as _};
use crate::workspace::Workspace;

use super::{active_entry, list_or_dash, TaskError};

/// The roots an absolute lock pattern on the command line may lie in: the
/// current worktree's and the main worktree's.
pub(super) fn roots(ws: &Workspace) -> Vec<String> {
    let mut roots: Vec<String> = [ws.repo.root.as_path(), ws.main_root()]
        .into_iter()
        .filter_map(|r| locks::root_text(Some(r)))
        .collect();
    roots.dedup();
    roots
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
            // Most held patterns lie elsewhere: told from their literal
            // parts, without compiling a thousand tasks' globs.
            if !mine.iter().any(|want| want.may_overlap(held)) && locks::surely_compiles(held) {
                continue;
            }
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

pub(super) fn overlapping_pairs(a: &[Pattern], b: &[Pattern]) -> Vec<(String, String)> {
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
pub(super) fn describe_pairs(pairs: &[(String, String)]) -> String {
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

/// Why a task's locks cannot change as asked (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockError {
    /// A pattern to remove is not one (`reason`).
    NotPattern { id: String, candidate: String, reason: String },
    /// The task holds no such pattern; `locks` are the ones it holds.
    NotLocked { id: String, text: String, locks: Vec<String> },
    /// The task's branch already changes `paths` (the first five, `more`
    /// besides) under the pattern to remove.
    Changed { id: String, branch: String, text: String, paths: Vec<String>, more: usize },
    /// Breaking another owner's locks needs force.
    NeedsForce { id: String, owner: Owner },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::NotPattern { candidate, reason, .. } => {
                write!(f, "'{candidate}' is not a lock pattern: {reason}")
            }
            LockError::NotLocked { id, text, .. } => write!(f, "{id} does not lock '{text}'"),
            LockError::Changed { id, branch, text, paths, more } => {
                let more = if *more > 0 { format!(" and {more} more") } else { String::new() };
                write!(
                    f,
                    "cannot remove {text} from the locks of {id}: {branch} already changes {}{more}",
                    paths.join(", ")
                )
            }
            LockError::NeedsForce { id, owner } => {
                write!(f, "breaking {id}'s locks (held by {owner}) needs --force")
            }
        }
    }
}

impl std::error::Error for LockError {}

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
            let normal = locks::normalize(&candidate).map_err(|reason| LockError::NotPattern {
                id: id.to_string(),
                candidate: candidate.clone(),
                reason,
            })?;
            removing.push((candidate, normal));
        }
    }
    let now = state::now();
    let (change, recorded) = ws.state().transact(|state, events| {
        let tasks_file = state.tasks_file.clone();
        let others = state.clone();
        let task = active_entry(state, id)?;
        if task.state == TaskStatus::Finishing {
            return Err(TaskError::Finishing { id: id.to_string() }.into());
        }
        let mut removed = Vec::new();
        for (text, normal) in &removing {
            let Some(at) = task.locks.iter().position(|l| l == normal) else {
                let (id, text, locks) = (id.to_string(), text.clone(), task.locks.clone());
                return Err(LockError::NotLocked { id, text, locks }.into());
            };
            removed.push(task.locks.remove(at));
        }
        if !removed.is_empty() {
            refuse_releasing_changed(ws, task, &others, &removing, &removed)?;
        }
        let mut added = Vec::new();
        for pattern in &adding {
            if tasks_file.as_deref() == Some(pattern.as_str()) {
                return Err(TaskError::TaskFile { text: pattern.as_str().to_string() }.into());
            }
            if !task.locks.iter().any(|l| l == pattern.as_str()) {
                task.locks.push(pattern.as_str().to_string());
                added.push(pattern.as_str().to_string());
            }
        }
        let found = conflicts(&adding, &others, &[id]);
        if !found.is_empty() {
            return Err(TaskError::Busy { id: id.to_string(), conflicts: found }.into());
        }
        if !added.is_empty() || !removed.is_empty() {
            events.push(Event::new(&now, "lock", id, json!({"added": added, "removed": removed})));
        }
        Ok(LockChange { id: id.to_string(), locks: task.locks.clone(), added, removed, warnings: Vec::new() })
    })?;
    let mut change = change;
    recorded.warn(&mut change.warnings);
    if !change.added.is_empty() || !change.removed.is_empty() {
        let details =
            format!("added {} removed {}", list_or_dash(&change.added), list_or_dash(&change.removed));
        ws.log(&mut change.warnings, &now, "lock", id, &details);
    }
    Ok(change)
}

/// Refuses to release a lock on a path the task's branch already changes:
/// another task could then take and change it too, and the two changes
/// would meet only at the landing. `task` has its locks after the removal.
pub(super) fn refuse_releasing_changed(
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
    let tree = |commit: git2::Oid| crate::repo::tree_of(&ws.repo.git, commit);
    let changed = crate::repo::touched_paths(&ws.repo.git, tree(base)?, tree(tip)?)?;
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
        let paths = used.iter().take(5).map(|p| p.to_string()).collect();
        return Err(LockError::Changed {
            id: task.id.clone(),
            branch: task.branch.clone(),
            text: text.to_string(),
            paths,
            more: used.len().saturating_sub(5),
        }
        .into());
    }
    Ok(())
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
    let state = ws.state().load()?;
    let Some(task) = state.tasks.get(id) else {
        return Err(TaskError::NotActive { id: id.to_string() }.into());
    };
    if !force {
        return Err(LockError::NeedsForce { id: id.to_string(), owner: task.owner.clone() }.into());
    }
    let now = state::now();
    let (task, recorded) = ws.state().transact(|state, events| {
        let task = state
            .tasks
            .remove(id)
            .ok_or_else(|| anyhow::Error::from(TaskError::NotActive { id: id.to_string() }))?;
        let fields = json!({"forced": true, "previous_owner": task.owner.to_string(), "locks": task.locks,
                            "branch": task.branch, "worktree": task.worktree});
        events.push(Event::new(&now, "unlock", id, fields));
        Ok(task)
    })?;
    let mut warnings = Vec::new();
    recorded.warn(&mut warnings);
    let details = format!(
        "forced by {} (owner was {}) locks {}",
        Owner::current(),
        task.owner,
        list_or_dash(&task.locks)
    );
    ws.log(&mut warnings, &now, "unlock", id, &details);
    Ok(Unlocked {
        id: id.to_string(),
        previous_owner: task.owner,
        locks: task.locks,
        branch: task.branch,
        worktree: task.worktree,
        warnings,
    })
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
        let busy: anyhow::Error = TaskError::Busy { id: "T3".into(), conflicts: found }.into();
        let refusal = crate::command_error::refusal(&busy).expect("a refusal");
        assert_eq!(
            refusal.message,
            "T3 needs paths another task holds: src/a.py (overlaps src/) held by T1 (u@h)"
        );
        assert_eq!(refusal.exit, crate::command_error::Exit::Busy);
    }

    #[test]
    fn a_held_pattern_that_does_not_compile_conflicts() {
        let mut state = State::default();
        state.tasks.insert("T1".into(), active("T1", &["src/[*.rs"]));
        assert_eq!(conflicts(&patterns(&["docs/"]), &state, &[]).len(), 1);
    }
}
