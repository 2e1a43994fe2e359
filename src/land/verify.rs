//! Step 4 of a landing: the user's verify command, run in the task's worktree.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::{LandError, Stash};
use crate::repo::{self as git};
use crate::state::ParDir;
/// Lines of a failed `--verify` shown in the error.
pub(super) const VERIFY_TAIL: usize = 20;

/// Step 4: runs the user's verify command in the task's worktree.
pub(super) fn verify(par: &ParDir, command: &str, worktree: &Path, id: &str) -> Result<()> {
    let dir = par.verify_dir();
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let out_path = par.verify_output(id);
    let out = fs::File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
    // One file for both streams keeps their lines in order.
    let status = crate::shell::sh_in(worktree, out, &out_path)?
        .arg("-c")
        .arg(command)
        .env("GIT_PAR_TASK", id)
        .status()
        .with_context(|| format!("running `sh -c {command}`"))?;
    let output = fs::read(&out_path).unwrap_or_default();
    let _ = fs::remove_file(&out_path);
    // Whatever the command changed goes to the stash: the rollback then puts
    // the worktree back exactly, and nothing the command wrote is lost.
    let dirty = git::uncommitted(worktree, None)?;
    let stash = if dirty.is_empty() {
        None
    } else {
        let message = format!("git-par: changes made by --verify of {id}");
        Some(match git::stash_everything(worktree, &message) {
            Ok(()) => Stash::Saved { message },
            Err(e) => Stash::Failed { reason: format!("{e:#}") },
        })
    };
    let (id, command) = (id.to_string(), command.to_string());
    if status.success() {
        if dirty.is_empty() {
            return Ok(());
        }
        let worktree = worktree.to_path_buf();
        return Err(LandError::VerifyChanged { id, command, status: dirty, worktree, stash }.into());
    }
    let text = String::from_utf8_lossy(&output);
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(VERIFY_TAIL)..].join("\n");
    let (code, worktree) = (status.code(), worktree.to_path_buf());
    Err(LandError::VerifyFailed { id, command, code, tail, worktree, stash }.into())
}
