//! Worktree and branch creation and removal for tasks.
//!
//! Worktrees are created and removed with the user's own `git` (`git
//! worktree add/remove/prune`), so hooks (`post-checkout`), filters (LFS,
//! `core.autocrlf`), sparse checkout and git's own bookkeeping behave exactly
//! as they do for `git worktree add`. Reading refs and history uses git2.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::{git_cli, Repo};

/// A worktree as `git worktree list --porcelain` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeRecord {
    pub path: PathBuf,
    /// The checked-out commit (`None` for a bare entry or an unborn branch).
    pub head: Option<String>,
    /// The checked-out branch, without `refs/heads/`.
    pub branch: Option<String>,
    pub bare: bool,
    /// Why git would prune this record (its directory is gone), if it would.
    pub prunable: Option<String>,
    pub locked: bool,
}

/// A commit, shortly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommitSummary {
    /// Abbreviated to 7 hex digits.
    pub short: String,
    pub subject: String,
}

impl std::fmt::Display for CommitSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.short, self.subject)
    }
}

impl Repo {
    /// Creates `branch` at `base` and checks it out in a new worktree at `path`
    /// (`git worktree add -b`). git refuses an existing branch or path.
    pub fn add_worktree(&self, branch: &str, path: &Path, base: &str) -> Result<()> {
        let path_text = path_arg(path)?;
        git_cli(&self.main_root, &["worktree", "add", "--quiet", "-b", branch, path_text, base])
            .with_context(|| format!("creating worktree {} on branch {branch}", path.display()))?;
        Ok(())
    }

    /// Removes the worktree at `path`, discarding its changes (`git worktree
    /// remove --force`); the caller has already checked nothing of value is lost.
    pub fn remove_worktree(&self, path: &Path) -> Result<()> {
        let path_text = path_arg(path)?;
        git_cli(&self.main_root, &["worktree", "remove", "--force", path_text])
            .with_context(|| format!("removing worktree {}", path.display()))?;
        Ok(())
    }

    /// Removes the worktree at `path` whatever state a process that died
    /// left it in: locked by a `git worktree add` that never finished, half
    /// checked out, half removed (its `.git` link gone), or never created.
    /// Its changes are discarded; the caller knows nothing of value is there.
    pub fn discard_worktree(&self, path: &Path) -> Result<()> {
        let path_text = path_arg(path)?;
        self.remove_half_made_records(path)?;
        self.unlock_records(path)?;
        if path.exists() {
            if let Err(e) = git_cli(&self.main_root, &["worktree", "remove", "--force", "--force", path_text])
            {
                if intact(path) {
                    return Err(e).with_context(|| format!("removing worktree {}", path.display()));
                }
                // No longer a worktree git can remove: only what is left of one.
                std::fs::remove_dir_all(path).with_context(|| format!("removing {}", path.display()))?;
            }
        }
        self.prune_worktrees()
    }

    /// Whether `path` is a whole worktree: its `.git` links to a whole record.
    pub fn worktree_intact(&self, path: &Path) -> bool {
        intact(path)
    }

    /// Whether git's record of the worktree at `path` is locked (`git worktree lock`).
    pub fn worktree_locked(&self, path: &Path) -> bool {
        self.records_of(path).iter().any(|r| r.join("locked").exists())
    }

    /// git's records (`.git/worktrees/<name>`) of the worktree at `path`.
    fn records_of(&self, path: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.common_dir.join("worktrees")) else { return Vec::new() };
        let wanted = canonical(path);
        entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|record| {
                let Ok(gitdir) = std::fs::read_to_string(record.join("gitdir")) else { return false };
                // Relative with `worktree.useRelativePaths`.
                let link = record.join(gitdir.trim());
                link.parent().map(canonical).as_ref() == Some(&wanted)
            })
            .collect()
    }

    /// Removes the records `git worktree add` killed at its very start left
    /// for `path`: named after it (`T004`, `T0041`...), with no `gitdir` yet,
    /// so that git neither lists nor prunes them, while libgit2 still counts
    /// them when it asks whether a branch is checked out (and refuses to
    /// delete it).
    fn remove_half_made_records(&self, path: &Path) -> Result<()> {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return Ok(()) };
        let Ok(entries) = std::fs::read_dir(self.common_dir.join("worktrees")) else { return Ok(()) };
        for entry in entries.flatten() {
            let record = entry.path();
            let own = entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_prefix(name))
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()));
            let linked = std::fs::read_to_string(record.join("gitdir")).is_ok_and(|g| !g.trim().is_empty());
            if own && !linked {
                std::fs::remove_dir_all(&record).with_context(|| format!("removing {}", record.display()))?;
            }
        }
        Ok(())
    }

    /// Unlocks git's records of the worktree at `path`: `git worktree add`
    /// locks a worktree while it makes it, and prune skips locked records.
    /// Done by hand (removing `locked`, as `git worktree unlock` does): while
    /// `add` has left a record half written, git cannot even list worktrees.
    fn unlock_records(&self, path: &Path) -> Result<()> {
        for record in self.records_of(path) {
            let locked = record.join("locked");
            match std::fs::remove_file(&locked) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("removing {}", locked.display()))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Drops git's records of worktrees whose directories are gone (`git worktree prune`).
    pub fn prune_worktrees(&self) -> Result<()> {
        git_cli(&self.main_root, &["worktree", "prune"]).context("pruning worktree records")?;
        Ok(())
    }

    /// Every worktree git knows, the main one first.
    pub fn worktrees(&self) -> Result<Vec<WorktreeRecord>> {
        // `-z` (git ≥ 2.36) keeps paths with newlines intact; older git gets the line format.
        let (text, sep) = match git_cli(&self.main_root, &["worktree", "list", "--porcelain", "-z"]) {
            Ok(text) => (text, '\0'),
            Err(_) => (
                git_cli(&self.main_root, &["worktree", "list", "--porcelain"])
                    .context("listing worktrees")?,
                '\n',
            ),
        };
        Ok(parse_worktree_list(&text, sep))
    }

    /// Removes the lock file (`refs/heads/<branch>.lock`) a git process that
    /// died while moving `branch` left; git refuses to touch the branch
    /// while it is there. Only for a task branch whose git-par process is
    /// known to be dead: nothing else writes it.
    pub fn clear_branch_lock(&self, branch: &str) -> Result<()> {
        let lock = self.common_dir.join("refs/heads").join(format!("{branch}.lock"));
        match std::fs::remove_file(&lock) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", lock.display()))
            }
            _ => Ok(()),
        }
    }

    /// Whether the local branch exists.
    pub fn branch_exists(&self, branch: &str) -> Result<bool> {
        Ok(self.branch_tip(branch)?.is_some())
    }

    /// Deletes a local branch whatever it holds (`git branch -D`).
    pub fn delete_branch(&self, branch: &str) -> Result<()> {
        let mut found = self
            .git
            .find_branch(branch, git2::BranchType::Local)
            .with_context(|| format!("finding branch {branch}"))?;
        found.delete().with_context(|| format!("deleting branch {branch}"))
    }

    /// The commits reachable from `tip` but from none of `landed` (e.g. the
    /// main branch tip and the task's base), newest first.
    pub fn commits_not_in(&self, tip: git2::Oid, landed: &[git2::Oid]) -> Result<Vec<CommitSummary>> {
        let mut walk = self.git.revwalk().context("walking history")?;
        walk.push(tip).with_context(|| format!("walking history from {tip}"))?;
        for oid in landed {
            // A base that no longer exists hides nothing; the others still count.
            let _ = walk.hide(*oid);
        }
        let mut commits = Vec::new();
        for oid in walk {
            let oid = oid.context("walking history")?;
            let commit = self.git.find_commit(oid).with_context(|| format!("reading commit {oid}"))?;
            commits.push(CommitSummary {
                short: oid.to_string()[..7].to_string(),
                subject: commit.summary().unwrap_or("").to_string(),
            });
        }
        Ok(commits)
    }
}

/// What a worktree has checked out, read from the worktree itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorktreeHead {
    /// HEAD names a commit, on a branch or detached.
    Commit { oid: git2::Oid, detached: bool },
    /// HEAD names a branch that does not exist (deleted behind git's back);
    /// `last` is the newest commit the worktree's HEAD log recorded, if any.
    Unborn { branch: String, last: Option<git2::Oid> },
    /// The worktree cannot be opened or its HEAD read.
    Unknown,
}

/// Reads a worktree's HEAD. When its branch is gone, the worktree's own HEAD
/// log (which `git reflog` refuses to show on an unborn branch) still names
/// the last commit it had checked out.
pub fn worktree_head(path: &Path) -> WorktreeHead {
    let Ok(repo) = git2::Repository::open(path) else { return WorktreeHead::Unknown };
    let head = match repo.head() {
        Ok(head) => match head.target() {
            Some(oid) => WorktreeHead::Commit { oid, detached: !head.is_branch() },
            None => WorktreeHead::Unknown,
        },
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
            let Some(target) =
                repo.find_reference("HEAD").ok().and_then(|head| head.symbolic_target().map(str::to_string))
            else {
                return WorktreeHead::Unknown;
            };
            let branch = target.strip_prefix("refs/heads/").unwrap_or(&target).to_string();
            // Entry 0 is the newest; an entry that moved HEAD to nothing is skipped.
            let last = repo.reflog("HEAD").ok().and_then(|log| {
                log.iter()
                    .map(|entry| entry.id_new())
                    .find(|oid| !oid.is_zero() && repo.find_commit(*oid).is_ok())
            });
            WorktreeHead::Unborn { branch, last }
        }
        Err(_) => WorktreeHead::Unknown,
    };
    head
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

/// `path` with symbolic links resolved, as far as it exists.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(full) = path.canonicalize() {
        return full;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => canonical(parent).join(name),
        _ => path.to_path_buf(),
    }
}

/// Whether `path/.git` links to a whole record of a worktree: `git worktree
/// add` killed half-way, or a removal killed half-way, leaves one without
/// some of these files.
fn intact(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path.join(".git")) else { return false };
    text.strip_prefix("gitdir:").is_some_and(|dir| {
        let record = path.join(Path::new(dir.trim()));
        ["HEAD", "gitdir", "commondir"].iter().all(|f| record.join(f).is_file())
    })
}

fn path_arg(path: &Path) -> Result<&str> {
    path.to_str().with_context(|| format!("the path {} is not valid UTF-8", path.display()))
}

/// Parses `git worktree list --porcelain` (records separated by an empty entry).
fn parse_worktree_list(text: &str, sep: char) -> Vec<WorktreeRecord> {
    let mut records = Vec::new();
    let mut current: Option<WorktreeRecord> = None;
    for line in text.split(sep) {
        if line.is_empty() {
            records.extend(current.take());
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        if key == "worktree" {
            records.extend(current.take());
            current = Some(WorktreeRecord {
                path: PathBuf::from(value),
                head: None,
                branch: None,
                bare: false,
                prunable: None,
                locked: false,
            });
            continue;
        }
        let Some(record) = current.as_mut() else { continue };
        match key {
            "HEAD" => record.head = Some(value.to_string()),
            "branch" => record.branch = Some(value.strip_prefix("refs/heads/").unwrap_or(value).to_string()),
            "bare" => record.bare = true,
            "locked" => record.locked = true,
            "prunable" => record.prunable = Some(value.to_string()),
            _ => {}
        }
    }
    records.extend(current);
    records
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
    fn parses_worktree_list() {
        let text = "worktree /r\0HEAD abc\0branch refs/heads/main\0\0\
                    worktree /r.par/T1\0HEAD def\0branch refs/heads/par/T1\0prunable gitdir file points to non-existent location\0\0\
                    worktree /x\0HEAD 123\0detached\0locked\0\0";
        let list = parse_worktree_list(text, '\0');
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].branch.as_deref(), Some("main"));
        assert_eq!(list[1].path, PathBuf::from("/r.par/T1"));
        assert_eq!(list[1].branch.as_deref(), Some("par/T1"));
        assert!(list[1].prunable.is_some());
        assert_eq!(list[2].branch, None);
        assert!(list[2].locked);
        let lines = "worktree /r\nHEAD abc\nbranch refs/heads/main\n\n";
        assert_eq!(parse_worktree_list(lines, '\n').len(), 1);
    }

    #[test]
    fn parses_status() {
        let text = " M a.py\0R  new.py\0old.py\0?? dir/x\0A  b c.txt\0";
        assert_eq!(parse_status(text), vec!["a.py", "new.py", "dir/x", "b c.txt"]);
    }
}
