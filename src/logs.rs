//! Task logs (`logs/parallel/<ID>.log`) and the blockers file (DESIGN §8).
//!
//! Both live in the main worktree under `par.logDir` (default
//! `logs/parallel`, relative to the main worktree's root unless absolute).
//! git-par only ever appends to them, one whole line per `write` on an
//! `O_APPEND` file, so concurrent writers never interleave inside a line.
//!
//! The log directory is added once to the common `.git/info/exclude`, so logs
//! never show up in `git status` (of the main worktree or of any task's
//! worktree) and are never committed by `git add -A`.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::flock::{self, Mode, Wait};

/// The header of a new blockers file.
const BLOCKERS_HEADER: &str = "# Blockers\n\n";

/// The log directory: `log_dir` under the main worktree's `root`, or `log_dir` itself when absolute.
pub fn log_dir(root: &Path, log_dir: &str) -> PathBuf {
    root.join(log_dir)
}

/// The log file of task `id`.
pub fn log_path(root: &Path, log_dir: &str, id: &str) -> PathBuf {
    self::log_dir(root, log_dir).join(format!("{id}.log"))
}

/// The blockers file.
pub fn blockers_path(root: &Path, log_dir: &str) -> PathBuf {
    self::log_dir(root, log_dir).join("blockers.md")
}

/// Appends `line` (a newline is added) to the log of task `id`, creating the
/// directory and file as needed. Returns the log's path.
pub fn append(root: &Path, log_dir: &str, id: &str, line: &str) -> Result<PathBuf> {
    let path = log_path(root, log_dir, id);
    append_line(&path, line)?;
    Ok(path)
}

/// A lifecycle line: `2026-11-24T10:00:00Z start T004 branch par/T004 ...`.
/// Paths and reasons in `details` have their control characters written
/// out: the log is read in a terminal (`tail -f` in a tmux pane).
pub fn lifecycle_line(at: &str, event: &str, id: &str, details: &str) -> String {
    let details = crate::text::escape_controls(details);
    if details.is_empty() {
        format!("{at} {event} {id}")
    } else {
        format!("{at} {event} {id} {details}")
    }
}

/// Appends a dated entry `- <at> **<id>** (<who>): <text>` to the blockers
/// file, creating it with a `# Blockers` header first. Returns its path.
pub fn append_blocker(
    root: &Path,
    log_dir: &str,
    at: &str,
    id: &str,
    who: &str,
    text: &str,
) -> Result<PathBuf> {
    let path = blockers_path(root, log_dir);
    let file = open_append(&path)?;
    // The header is written by whoever finds the file empty; the file lock
    // keeps two first writers from both writing it.
    let entry = format!("- {at} **{id}** ({who}): {}\n", crate::text::escape_controls(&one_line(text)));
    flock::with_file(file, &path, Mode::Exclusive, Wait::Block, &mut flock::quietly, |mut file| {
        let len = file.metadata().with_context(|| format!("reading {}", path.display()))?.len();
        let bytes = if len == 0 { format!("{BLOCKERS_HEADER}{entry}") } else { entry };
        file.write_all(bytes.as_bytes()).with_context(|| format!("appending to {}", path.display()))
    })?;
    Ok(path)
}

/// Adds the log directory to `<common_dir>/info/exclude` unless a line
/// already names it. Does nothing for a log directory outside the main worktree.
pub fn ensure_excluded(common_dir: &Path, root: &Path, log_dir: &str) -> Result<()> {
    crate::repo::exclude::exclude_dir(common_dir, root, log_dir, "git-par task logs")
}

/// Opens `path` for reading and appending, creating it and its directory.
pub fn open_append(path: &Path) -> Result<fs::File> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

fn append_line(path: &Path, line: &str) -> Result<()> {
    write_line(path, &one_line(line))
}

/// Appends `line` and a newline to the file at `path`, as it is.
pub fn write_line(path: &Path, line: &str) -> Result<()> {
    let mut file = open_append(path)?;
    file.write_all(format!("{line}\n").as_bytes()).with_context(|| format!("appending to {}", path.display()))
}

/// Folds line breaks into spaces so an entry stays one line.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclude_added_once_and_blockers_get_a_header() {
        let tmp = tempfile::tempdir().unwrap();
        let common = tmp.path().join("git");
        let root = tmp.path().join("repo");
        fs::create_dir_all(common.join("info")).unwrap();
        fs::write(common.join("info/exclude"), "*.tmp").unwrap();
        ensure_excluded(&common, &root, "logs/parallel").unwrap();
        ensure_excluded(&common, &root, "logs/parallel/").unwrap();
        assert_eq!(
            fs::read_to_string(common.join("info/exclude")).unwrap(),
            "*.tmp\n# git-par task logs\n/logs/parallel/\n"
        );

        append_blocker(&root, "logs", "2026-01-01T00:00:00Z", "T1", "u@h", "no\naccess").unwrap();
        append_blocker(&root, "logs", "2026-01-02T00:00:00Z", "T1", "u@h", "unblocked").unwrap();
        assert_eq!(
            fs::read_to_string(blockers_path(&root, "logs")).unwrap(),
            "# Blockers\n\n- 2026-01-01T00:00:00Z **T1** (u@h): no access\n\
             - 2026-01-02T00:00:00Z **T1** (u@h): unblocked\n"
        );
        let log = append(&root, "logs", "T1", "a line").unwrap();
        append(&root, "logs", "T1", "another").unwrap();
        assert_eq!(fs::read_to_string(log).unwrap(), "a line\nanother\n");
    }
}
