//! `lock` and `unlock`: change a task's locks, or break them.

use anyhow::Result;

use crate::cli::{LockArgs, UnlockArgs};
use crate::lifecycle;

/// Runs `git par lock`: prints the task's locks after the change, one per line.
pub fn run(args: &LockArgs, cx: &super::Context) -> Result<()> {
    let change = lifecycle::change_locks(cx, &args.id, &args.add, &args.remove)?;
    for warning in &change.warnings {
        cx.ui.warn(warning);
    }
    if cx.ui.json {
        return cx.ui.json(&change);
    }
    for added in &change.added {
        cx.ui.status(&format!("{} now locks {added}", change.id));
    }
    for removed in &change.removed {
        cx.ui.status(&format!("{} released {removed}", change.id));
    }
    cx.ui.out(&change.locks.iter().map(|l| format!("{l}\n")).collect::<String>())
}

/// Runs `git par unlock`.
pub fn unlock(args: &UnlockArgs, cx: &super::Context) -> Result<()> {
    let unlocked = lifecycle::unlock(cx, &args.id, args.force)?;
    for warning in &unlocked.warnings {
        cx.ui.warn(warning);
    }
    if cx.ui.json {
        return cx.ui.json(&unlocked);
    }
    cx.ui.status(&format!(
        "broke the locks of {} (held by {}); its branch {} and worktree {} are kept",
        unlocked.id,
        unlocked.previous_owner,
        unlocked.branch,
        unlocked.worktree.display()
    ));
    cx.ui.hint(&format!(
        "remove the worktree with `git worktree remove {}` once its work is saved",
        unlocked.worktree.display()
    ));
    Ok(())
}
