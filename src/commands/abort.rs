//! `abort`: stop a task, remove its worktree and branch, release its locks.

use anyhow::Result;

use crate::cli::AbortArgs;
use crate::output::Ui;
use git_par::lifecycle;
use git_par::workspace::Workspace;

/// Runs `git par abort`.
pub fn run(args: &AbortArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let aborted = lifecycle::abort(ws, &args.id, args.keep_branch, args.force)?;
    for warning in &aborted.warnings {
        ui.warn(warning);
    }
    if ui.json {
        return ui.json(&aborted);
    }
    if !aborted.discarded_commits.is_empty() || !aborted.discarded_files.is_empty() {
        ui.warn(&format!(
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
    ui.status(&format!("aborted {}: {worktree}, {branch}; its locks are released", aborted.id));
    Ok(())
}
