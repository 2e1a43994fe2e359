//! Worktree and branch creation and removal for tasks.
//!
//! Worktrees are created and removed with the user's own `git` (`git
//! worktree add/remove/prune`), so hooks (`post-checkout`), filters (LFS,
//! `core.autocrlf`), sparse checkout and git's own bookkeeping behave exactly
//! as they do for `git worktree add`. Reading refs and history uses git2.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use git2::Repository;

use super::{canonical, git_cli, Repo};

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

impl Repo {
    /// Creates `branch` at `base` and checks it out in a new worktree at `path`
    /// (`git worktree add -b`). git refuses an existing branch or path.
    pub fn add_worktree(&self, branch: &str, path: &Path, base: &str) -> Result<()> {
        let path_text = path_arg(path)?;
        git_cli(&self.main_root, &["worktree", "add", "--quiet", "-b", branch, path_text, base])
            .with_context(|| format!("creating worktree {} on branch {branch}", path.display()))?;
        Ok(())
    }

    /// Removes the linked worktree at `path`, its files and git's record of
    /// it, discarding its changes (as `git worktree remove --force` does; the
    /// caller has made sure nothing of value is lost). Refuses a locked
    /// worktree, and a directory there that is not a worktree of this
    /// repository; nothing there at all is fine.
    pub fn remove_worktree(&self, path: &Path) -> Result<()> {
        let wanted = canonical(path);
        let names = self.git.worktrees().context("listing worktrees")?;
        for name in names.iter().flatten() {
            // A record that cannot be read is being added or removed by another
            // process right now (`git worktree remove` of another worktree):
            // not the one asked for, which is whole (or is handled below).
            let Ok(wt) = self.git.find_worktree(name) else { continue };
            if canonical(wt.path()) != wanted {
                continue;
            }
            if let git2::WorktreeLockStatus::Locked(reason) =
                wt.is_locked().context("reading worktree lock")?
            {
                anyhow::bail!(
                    "worktree {} is locked{}",
                    path.display(),
                    reason.map(|r| format!(" ({r})")).unwrap_or_default()
                );
            }
            let mut opts = git2::WorktreePruneOptions::new();
            opts.valid(true).working_tree(true);
            return wt
                .prune(Some(&mut opts))
                .with_context(|| format!("removing worktree {}", path.display()));
        }
        if path.symlink_metadata().is_ok() {
            anyhow::bail!("{} is not a worktree of this repository; it was left as it is", path.display());
        }
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

/// The worktree that has `branch` checked out (the main one first), if any.
pub fn worktree_of_branch(common_dir: &Path, main_root: &Path, branch: &str) -> Result<Option<PathBuf>> {
    let wanted = format!("ref: refs/heads/{branch}");
    let head_is =
        |gitdir: &Path| fs::read_to_string(gitdir.join("HEAD")).map(|s| s.trim() == wanted).unwrap_or(false);
    Ok(worktrees_on_disk(common_dir, main_root)?
        .into_iter()
        .find(|(_, gitdir)| head_is(gitdir))
        .map(|(top, _)| top))
}

/// Every worktree whose directory is there, as (its directory, its git
/// directory): the main one first (its git directory is the common one),
/// then the linked ones. A record whose directory is gone, or that cannot
/// be read (another process is adding or removing it right now), is left out.
pub fn worktrees_on_disk(common_dir: &Path, main_root: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let mut found = Vec::new();
    if main_root.join(".git").exists() {
        found.push((main_root.to_path_buf(), common_dir.to_path_buf()));
    }
    let dir = common_dir.join("worktrees");
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let admin = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        let gitdir = fs::read_to_string(admin.join("gitdir")).unwrap_or_default();
        // Relative to the record with `worktree.useRelativePaths`.
        let link = gitdir.trim();
        if let Some(top) = admin.join(link).parent().filter(|top| !link.is_empty() && top.exists()) {
            found.push((top.to_path_buf(), admin));
        }
    }
    Ok(found)
}

/// The branch checked out in the worktree at `dir` (`None`: detached).
pub fn checked_out_branch(dir: &Path) -> Result<Option<String>> {
    let repo = Repository::open(dir).with_context(|| format!("opening the worktree {}", dir.display()))?;
    let head = repo.find_reference("HEAD").with_context(|| format!("reading HEAD in {}", dir.display()))?;
    Ok(head.symbolic_target().and_then(|t| t.strip_prefix("refs/heads/")).map(str::to_string))
}

/// `git stash push --include-untracked -m MSG` in `dir`: every uncommitted
/// change (not ignored files) saved in the stash, the worktree left clean.
pub fn stash_everything(dir: &Path, message: &str) -> Result<()> {
    super::git_cli(dir, &["stash", "push", "--include-untracked", "--quiet", "-m", message])?;
    Ok(())
}

/// How [`commit_everything`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    Done,
    /// `git commit` failed; the index is back as it was.
    Refused {
        /// What git and its hooks printed.
        output: String,
        /// A pre-commit hook refused (not git itself: no `fatal:` line).
        by_hook: bool,
    },
}

/// `git add -A && git commit -m MSG` in `dir`, through the user's git so
/// that their hooks (git-par's own pre-commit check among them) run. When
/// the commit fails the index file is put back byte for byte, so nothing
/// the user had (or had not) staged changes.
pub fn commit_everything(dir: &Path, message: &str) -> Result<Commit> {
    let repo = Repository::open(dir).with_context(|| format!("opening the worktree {}", dir.display()))?;
    let index = repo.path().join("index");
    let saved = match fs::read(&index) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", index.display())),
    };
    let output = super::git_cli(dir, &["add", "-A"]).and_then(|_| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["commit", "-q", "-m", message])
            .stdin(std::process::Stdio::null())
            .output()
            .context("running git commit")
    });
    let output = match output {
        Ok(output) if output.status.success() => return Ok(Commit::Done),
        Ok(output) => output,
        Err(e) => {
            restore_index(&index, saved.as_deref())?;
            return Err(e);
        }
    };
    restore_index(&index, saved.as_deref())?;
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let fatal = text.lines().any(|l| l.starts_with("fatal:"));
    let by_hook = !fatal
        && super::git_cli(dir, &["rev-parse", "--git-path", "hooks/pre-commit"])
            .map(|p| dir.join(p.trim()))
            .is_ok_and(|hook| super::is_executable(&hook));
    Ok(Commit::Refused { output: text, by_hook })
}

/// Puts the index file back as `saved` (absent when `None`), taking git's
/// `index.lock` so no git command sees it half-written.
fn restore_index(index: &Path, saved: Option<&[u8]>) -> Result<()> {
    let Some(bytes) = saved else {
        return match fs::remove_file(index) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", index.display()))
            }
            _ => Ok(()),
        };
    };
    let lock = index.with_file_name("index.lock");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
        .with_context(|| format!("putting the index back: creating {}", lock.display()))?;
    let written = std::io::Write::write_all(&mut file, bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| fs::rename(&lock, index)) {
        let _ = fs::remove_file(&lock);
        return Err(e).with_context(|| format!("putting the index back: writing {}", index.display()));
    }
    Ok(())
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
}
