//! `abort`: stop a task, remove its worktree and branch, release its locks.

use anyhow::Result;

use crate::cli::AbortArgs;
use crate::lifecycle;

/// Runs `git par abort`.
pub fn run(args: &AbortArgs, cx: &super::Context) -> Result<()> {
    let aborted = lifecycle::abort(cx, &args.id, args.keep_branch, args.force)?;
    for warning in &aborted.warnings {
        cx.ui.warn(warning);
    }
    if cx.ui.json {
        return cx.ui.json(&aborted);
    }
    if !aborted.discarded_commits.is_empty() || !aborted.discarded_files.is_empty() {
        cx.ui.warn(&format!(
            "discarded {} commit(s) and {} uncommitted file(s)",
            aborted.discarded_commits.len(),
            aborted.discarded_files.len()
        ));
    }
    let branch = match (&aborted.branch_tip, aborted.branch_deleted) {
        (Some(tip), true) => format!("deleted branch {} (was {})", aborted.branch, &tip[..7.min(tip.len())]),
        (Some(_), false) => format!("kept branch {}", aborted.branch),
        (None, _) => format!("branch {} was already gone", aborted.branch),
    };
    let worktree = if aborted.worktree_removed {
        format!("removed {}", aborted.worktree.display())
    } else {
        format!("{} was already gone", aborted.worktree.display())
    };
    cx.ui.status(&format!("aborted {}: {worktree}, {branch}; its locks are released", aborted.id));
    Ok(())
}
