//! The user's own commands (a verify, `par.setup`, an agent) run with
//! `sh` in a task's worktree. git exports `GIT_DIR`, `GIT_WORK_TREE` and
//! `GIT_INDEX_FILE` to hooks and aliases; inherited, they would point the
//! command's git at the repository git-par was called from, not the worktree.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result};

/// `sh` in `worktree`, without git's per-repository variables and without
/// stdin, its stdout and stderr both appended to `output` (at `path`, for
/// messages) so their lines stay in order. The caller adds `-c SCRIPT`.
pub fn sh_in(worktree: &Path, output: fs::File, path: &Path) -> Result<Command> {
    let err = output.try_clone().with_context(|| format!("opening {}", path.display()))?;
    let mut command = Command::new("sh");
    command
        .current_dir(worktree)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(err);
    Ok(command)
}
