//! `block` and `unblock`: record and clear a task's blocker.

use anyhow::Result;

use crate::cli::{BlockArgs, UnblockArgs};
use crate::lifecycle::{self, BlockChange};

/// Runs `git par block`.
pub fn block(args: &BlockArgs, cx: &super::Context) -> Result<()> {
    let change = lifecycle::block(cx, &args.id, &args.reason.join(" "))?;
    render(cx, &change, &format!("{} is blocked; its locks are kept", change.id))
}

/// Runs `git par unblock`.
pub fn unblock(args: &UnblockArgs, cx: &super::Context) -> Result<()> {
    let change = lifecycle::unblock(cx, &args.id)?;
    render(cx, &change, &format!("{} is active again", change.id))
}

fn render(cx: &super::Context, change: &BlockChange, message: &str) -> Result<()> {
    for warning in &change.warnings {
        cx.ui.warn(warning);
    }
    if cx.ui.json {
        return cx.ui.json(change);
    }
    cx.ui.status(&format!("{message} (recorded in {})", change.blockers_file.display()));
    Ok(())
}
