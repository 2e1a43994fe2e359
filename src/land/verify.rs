//! Step 4 of a landing: the user's verify command, run in the task's worktree.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result};

use super::list_status;
use crate::error::Refusal;
use crate::repo::land::{self as git};
use crate::state::Store;
/// Lines of a failed `--verify` shown in the error.
pub(super) const VERIFY_TAIL: usize = 20;

/// Step 4: runs the user's verify command in the task's worktree.
pub(super) fn verify(store: &Store, command: &str, worktree: &Path, id: &str) -> Result<()> {
    let dir = store.dir().join("verify");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let out_path = dir.join(format!("{id}.out"));
    let out = fs::File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
    let err = out.try_clone().with_context(|| format!("opening {}", out_path.display()))?;
    // One file for both streams keeps their lines in order.
    let status = Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(worktree)
        .env("GIT_PAR_TASK", id)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .with_context(|| format!("running `sh -c {command}`"))?;
    let output = fs::read(&out_path).unwrap_or_default();
    let _ = fs::remove_file(&out_path);
    // Whatever the command changed goes to the stash: the rollback then puts
    // the worktree back exactly, and nothing the command wrote is lost.
    let dirty = git::uncommitted(worktree, None)?;
    let saved = if dirty.is_empty() {
        None
    } else {
        let message = format!("git-par: changes made by --verify of {id}");
        Some(match git::stash_everything(worktree, &message) {
            Ok(()) => format!(
                "the files it changed are saved in stash@{{0}} (\"{message}\"): see them with \
                 `git -C {} stash show -p --include-untracked stash@{{0}}`",
                worktree.display()
            ),
            Err(e) => format!(
                "the files it changed are still in the worktree ({}): saving them in the stash failed: {e:#}",
                worktree.display()
            ),
        })
    };
    let refusal = if status.success() {
        if dirty.is_empty() {
            return Ok(());
        }
        Refusal::failed(format!("`{command}` changed files in the worktree of {id}:\n{}", list_status(&dirty)))
            .hint("what is verified must be what lands: make the verify command leave the worktree alone, or ignore what it writes in .gitignore")
    } else {
        let text = String::from_utf8_lossy(&output);
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(VERIFY_TAIL)..].join("\n");
        let code =
            status.code().map(|c| format!("exit {c}")).unwrap_or_else(|| "killed by a signal".to_string());
        let shown = if tail.is_empty() { "(no output)".to_string() } else { tail };
        Refusal::failed(format!("verify failed ({code}): `{command}`; its last lines:\n{shown}")).hint(
            format!(
                "fix the task in its worktree ({}), commit, and run `git par finish {id}` again",
                worktree.display()
            ),
        )
    };
    Err(match saved {
        Some(saved) => refusal.hint(saved),
        None => refusal,
    }
    .into())
}
