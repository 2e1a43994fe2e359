//! `lock` and `unlock`: change a task's locks, or break them.

use anyhow::Result;

use crate::cli::{LockArgs, UnlockArgs};
use crate::output::Ui;
use git_par::lifecycle;
use git_par::workspace::Workspace;

/// Runs `git par lock`: prints the task's locks after the change, one per line.
pub fn run(args: &LockArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let change = lifecycle::change_locks(ws, &args.id, &args.add, &args.remove)?;
    for warning in &change.warnings {
        ui.warn(warning);
    }
    if ui.json {
        return ui.json(&change);
    }
    for added in &change.added {
        ui.status(&format!("{} now locks {added}", change.id));
    }
    for removed in &change.removed {
        ui.status(&format!("{} released {removed}", change.id));
    }
    ui.out(&change.locks.iter().map(|l| format!("{l}\n")).collect::<String>())
}

/// Runs `git par unlock`.
pub fn unlock(args: &UnlockArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let unlocked = lifecycle::unlock(ws, &args.id, args.force)?;
    for warning in &unlocked.warnings {
        ui.warn(warning);
    }
    if ui.json {
        return ui.json(&unlocked);
    }
    ui.status(&format!(
        "broke the locks of {} (held by {}); its branch {} and worktree {} are kept",
        unlocked.id,
        unlocked.previous_owner,
        unlocked.branch,
        unlocked.worktree.display()
    ));
    ui.hint(&format!(
        "remove the worktree with `git worktree remove {}` once its work is saved",
        unlocked.worktree.display()
    ));
    Ok(())
}
