//! `block` and `unblock`: record and clear a task's blocker.

use anyhow::Result;

use crate::cli::{BlockArgs, UnblockArgs};
use crate::output::Ui;
use git_par::lifecycle::{self, BlockChange};
use git_par::workspace::Workspace;

/// Runs `git par block`.
pub fn block(args: &BlockArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let change = lifecycle::block(ws, &args.id, &args.reason.join(" "))?;
    render(ui, &change, &format!("{} is blocked; its locks are kept", change.id))
}

/// Runs `git par unblock`.
pub fn unblock(args: &UnblockArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let change = lifecycle::unblock(ws, &args.id)?;
    render(ui, &change, &format!("{} is active again", change.id))
}

fn render(ui: &Ui, change: &BlockChange, message: &str) -> Result<()> {
    for warning in &change.warnings {
        ui.warn(warning);
    }
    if ui.json {
        return ui.json(change);
    }
    ui.status(&format!("{message} (recorded in {})", change.blockers_file.display()));
    Ok(())
}
