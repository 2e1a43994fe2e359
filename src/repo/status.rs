//! What is uncommitted in a worktree, and what operation is in progress there.
//!
//! Two readers, for two questions. The landing asks whether a worktree is
//! clean where it lands ([`uncommitted`]: libgit2's status, in-process,
//! with a two-letter code per path; it runs on every landing). An abort or
//! `doctor` asks what removing a worktree would throw away
//! ([`uncommitted_files`], [`changed_since`]): that is asked of the user's
//! own `git`, so that it is exactly what `git status` shows, renamed files,
//! submodules and all.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use git2::Repository;

use super::git_cli;

/// Uncommitted changes in the worktree at `dir` (staged, unstaged, untracked
/// files; not ignored ones), limited to `only` when given. Returns
/// `(short status, path)` pairs.
pub fn uncommitted(dir: &Path, only: Option<&[String]>) -> Result<Vec<(String, String)>> {
    if only.is_some_and(|paths| paths.is_empty()) {
        return Ok(Vec::new());
    }
    let repo = Repository::open(dir).with_context(|| format!("opening the worktree {}", dir.display()))?;
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true).include_ignored(false).exclude_submodules(true);
    if let Some(paths) = only {
        for path in paths {
            opts.pathspec(path);
        }
        opts.disable_pathspec_match(true);
    }
    let statuses =
        repo.statuses(Some(&mut opts)).with_context(|| format!("reading the status of {}", dir.display()))?;
    let mut out = Vec::new();
    for entry in statuses.iter() {
        let s = entry.status();
        if s.is_empty() || s == git2::Status::IGNORED {
            continue;
        }
        let code = if s.is_conflicted() {
            "UU"
        } else if s.is_wt_new() && !s.intersects(index_bits()) {
            "??"
        } else if s.intersects(index_bits()) && s.intersects(worktree_bits()) {
            "MM"
        } else if s.intersects(index_bits()) {
            "M "
        } else {
            " M"
        };
        let path = String::from_utf8_lossy(entry.path_bytes()).into_owned();
        out.push((code.to_string(), path));
    }
    Ok(out)
}

fn index_bits() -> git2::Status {
    git2::Status::INDEX_NEW
        | git2::Status::INDEX_MODIFIED
        | git2::Status::INDEX_DELETED
        | git2::Status::INDEX_RENAMED
        | git2::Status::INDEX_TYPECHANGE
}

fn worktree_bits() -> git2::Status {
    git2::Status::WT_MODIFIED
        | git2::Status::WT_DELETED
        | git2::Status::WT_RENAMED
        | git2::Status::WT_TYPECHANGE
}

/// A merge, rebase or similar in progress in the worktree at `dir`, or
/// unresolved conflicts in its index (which stop any checkout there).
pub fn operation_in_progress(dir: &Path) -> Result<Option<String>> {
    let repo = Repository::open(dir).with_context(|| format!("opening the worktree {}", dir.display()))?;
    use git2::RepositoryState as S;
    let op = match repo.state() {
        S::Clean => None,
        S::Merge => Some("merge"),
        S::Revert | S::RevertSequence => Some("revert"),
        S::CherryPick | S::CherryPickSequence => Some("cherry-pick"),
        S::Bisect => Some("bisect"),
        S::Rebase | S::RebaseInteractive | S::RebaseMerge => Some("rebase"),
        S::ApplyMailbox | S::ApplyMailboxOrRebase => Some("git am"),
    };
    if let Some(op) = op {
        return Ok(Some(op.to_string()));
    }
    let index = repo.index().with_context(|| format!("reading the index of {}", dir.display()))?;
    Ok(index.has_conflicts().then(|| "conflict resolution".to_string()))
}

/// A rebase, merge, cherry-pick, revert, bisect or `git am` in progress on
/// `branch` in any worktree of the repository: the worktree and the
/// operation. A rebase or a bisect detaches HEAD while it runs, so it is
/// found by the branch it started from (`rebase-*/head-name`, `BISECT_START`),
/// not by HEAD.
pub fn operation_on_branch(
    common_dir: &Path,
    main_root: &Path,
    branch: &str,
) -> Result<Option<(PathBuf, String)>> {
    let full = format!("refs/heads/{branch}");
    let mut worktrees = vec![(common_dir.to_path_buf(), main_root.to_path_buf())];
    let dir = common_dir.join("worktrees");
    match fs::read_dir(&dir) {
        Ok(entries) => {
            for entry in entries {
                let admin = entry.with_context(|| format!("reading {}", dir.display()))?.path();
                let gitdir = fs::read_to_string(admin.join("gitdir")).unwrap_or_default();
                if let Some(top) = admin.join(gitdir.trim()).parent() {
                    worktrees.push((admin.clone(), top.to_path_buf()));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    }
    let read = |path: PathBuf| fs::read_to_string(path).map(|t| t.trim().to_string()).unwrap_or_default();
    for (admin, top) in worktrees {
        if ["rebase-merge", "rebase-apply"].iter().any(|d| read(admin.join(d).join("head-name")) == full) {
            let am = admin.join("rebase-apply").join("applying").exists();
            return Ok(Some((top, if am { "git am" } else { "rebase" }.to_string())));
        }
        let bisect = read(admin.join("BISECT_START"));
        if bisect == branch || bisect == full {
            return Ok(Some((top, "bisect".to_string())));
        }
        if read(admin.join("HEAD")) == format!("ref: {full}") && top.join(".git").exists() {
            if let Some(op) = operation_in_progress(&top)? {
                return Ok(Some((top, op)));
            }
        }
    }
    Ok(None)
}
/// The files of a worktree with uncommitted changes — modified, staged,
/// deleted, or untracked and not ignored — as `git status` lists them.
/// Without git's optional index lock: a read must not hold the user's
/// `git add` off, nor leave `index.lock` behind if it is killed.
pub fn uncommitted_files(worktree: &Path) -> Result<Vec<String>> {
    let args = ["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all"];
    let text =
        git_cli(worktree, &args).with_context(|| format!("reading the status of {}", worktree.display()))?;
    Ok(parse_status(&text))
}

/// The files of a worktree that differ from `commit` or are untracked (not
/// ignored): [`uncommitted_files`] for a worktree whose HEAD is unborn, where
/// `commit` is the last commit its deleted branch had.
pub fn changed_since(worktree: &Path, commit: git2::Oid) -> Result<Vec<String>> {
    let hex = commit.to_string();
    let tracked = git_cli(worktree, &["--no-optional-locks", "diff", "--name-only", "-z", &hex, "--"])
        .with_context(|| format!("comparing {} with {hex}", worktree.display()))?;
    let untracked = git_cli(worktree, &["ls-files", "--others", "--exclude-standard", "-z"])
        .with_context(|| format!("listing the untracked files of {}", worktree.display()))?;
    let mut files: Vec<String> = tracked
        .split('\0')
        .chain(untracked.split('\0'))
        .filter(|f| !f.is_empty())
        .map(String::from)
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}

/// Parses `git status --porcelain=v1 -z`: `XY path`, and for renames and
/// copies the original path follows as its own entry.
fn parse_status(text: &str) -> Vec<String> {
    let mut files = Vec::new();
    let mut entries = text.split('\0').filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        let Some(path) = entry.get(3..) else { continue };
        let code = &entry[..2];
        files.push(path.to_string());
        if code.contains(['R', 'C']) {
            entries.next();
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let text = " M a.py\0R  new.py\0old.py\0?? dir/x\0A  b c.txt\0";
        assert_eq!(parse_status(text), vec!["a.py", "new.py", "dir/x", "b c.txt"]);
    }
}
