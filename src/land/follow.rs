//! Remote mode (DESIGN §9): before each try of a landing, the local main
//! branch and the worktree that has it checked out follow the remote's main,
//! as `git pull --ff-only` would, under the rules of §6: uncommitted changes
//! in the paths that change stop it, nothing is written through a symbolic
//! link, and the worktree's index is locked as git locks it while its files
//! and then the branch move. A local main with commits the remote lacks is
//! refused: tasks land on the remote's main.

use anyhow::Result;

use super::check::{check_main_worktree, in_the_way, Checked};
use super::error::Resume;
use super::sync::main_update_failed;
use super::{lock_index, unlock_index, Journal, Request};
use crate::repo::{self as git};
use crate::state::remote::RemoteError;
use crate::state::Lock;
use crate::workspace::Workspace;

/// Brings the local main (and its worktree) up to the remote's main; a no-op
/// in local mode.
pub(super) fn follow_remote_main(
    ws: &Workspace,
    req: &Request,
    checked: &Checked,
    journal: &mut Journal,
) -> Result<()> {
    let Some(remote) = ws.state().remote() else { return Ok(()) };
    let theirs = remote.fetch_main(&req.main_branch)?;
    let repo = &ws.repo;
    let main_ref = format!("refs/heads/{}", req.main_branch);
    let log = format!("git-par finish {}: follow {}/{}", req.id, remote.remote(), req.main_branch);
    let Some(ours) = git::ref_target(&repo.git, &main_ref)? else {
        repo.git.reference(&main_ref, theirs, false, &log).map_err(anyhow::Error::from)?;
        return Ok(());
    };
    if ours == theirs {
        return Ok(());
    }
    if !repo.git.graph_descendant_of(theirs, ours).unwrap_or(false) {
        let (remote, main) = (remote.remote().to_string(), req.main_branch.clone());
        return Err(RemoteError::MainAhead { remote, main }.into());
    }
    let Some(wt) = &checked.main_worktree else {
        git::compare_and_swap(&repo.git, &main_ref, ours, theirs, &log)?;
        return Ok(());
    };
    let (from, to) = (git::tree_of(&repo.git, ours)?, git::tree_of(&repo.git, theirs)?);
    let paths = git::touched_paths(&repo.git, from, to)?;
    check_main_worktree(wt, &paths, req)?;
    let blocked = git::in_the_way(wt, from, to, &paths)?;
    if !blocked.is_empty() {
        let doing = format!("bringing it up to {}/{}", remote.remote(), req.main_branch);
        return Err(in_the_way(&req.main_branch, wt, doing, blocked, req, &checked.task.branch).into());
    }
    let whose = format!("the worktree of {}", req.main_branch);
    let lock = lock_index(ws.par(), journal, wt, &whose, Resume::Finish(req.id.clone()))?;
    let moved = ws
        .par()
        .with_lock(Lock::Sync, || git::checkout(wt, from, to, &paths, &lock))
        .map_err(|e| main_update_failed(e, &req.main_branch, wt, Resume::Finish(req.id.clone())))
        .and_then(|()| git::compare_and_swap(&repo.git, &main_ref, ours, theirs, &log));
    drop(lock);
    unlock_index(ws.par(), journal)?;
    if !moved? {
        anyhow::bail!(
            "{} moved while it was brought up to {}/{}",
            req.main_branch,
            remote.remote(),
            req.main_branch
        );
    }
    Ok(())
}
