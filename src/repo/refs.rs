//! Refs: the compare-and-swap that moves a branch only from the commit it
//! was read at, reading a ref, and branches (their tips, deleting one only
//! while it is where it was seen, the lock file a git that died left).

use anyhow::{Context as _, Result};
use git2::{Oid, Repository};
use std::path::{Path, PathBuf};

use super::Repo;

/// Moves `refname` from `old` to `new` only if it still points at `old`.
/// Returns false when it does not (someone else moved it). A ref another
/// process holds locked for a moment (a `git pack-refs` of a background
/// `git gc --auto` locks every ref it packs) is tried again for a while
/// before that counts as moved.
pub fn compare_and_swap(repo: &Repository, refname: &str, old: Oid, new: Oid, log: &str) -> Result<bool> {
    match while_locked(|| repo.reference_matching(refname, new, true, old, log)) {
        Ok(_) => Ok(true),
        Err(e) if e.code() == git2::ErrorCode::Modified || e.code() == git2::ErrorCode::Locked => {
            // Modified: it moved; Locked for long: a writer is mid-update,
            // or died there. Either way, not ours to move now.
            Ok(false)
        }
        Err(e) => Err(e).with_context(|| format!("moving {refname} from {old} to {new}")),
    }
}

/// Runs `op` on a ref, again while another process holds the ref locked,
/// for up to [`REF_LOCK_WAIT`]; then what it last returned.
fn while_locked<T>(mut op: impl FnMut() -> Result<T, git2::Error>) -> Result<T, git2::Error> {
    let started = std::time::Instant::now();
    loop {
        match op() {
            Err(e) if e.code() == git2::ErrorCode::Locked && started.elapsed() < REF_LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            done => return done,
        }
    }
}

/// How long a ref another process locked is waited for.
const REF_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The commit a ref points at, if it exists.
pub fn ref_target(repo: &Repository, refname: &str) -> Result<Option<Oid>> {
    match repo.find_reference(refname) {
        Ok(r) => Ok(r.resolve().ok().and_then(|r| r.target())),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {refname}")),
    }
}

impl Repo {
    /// The commit a local branch points at, if the branch exists.
    pub fn branch_tip(&self, branch: &str) -> Result<Option<Oid>> {
        match self.git.find_branch(branch, git2::BranchType::Local) {
            Ok(b) => Ok(b.get().target()),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading branch {branch}")),
        }
    }

    /// Whether the local branch exists.
    pub fn branch_exists(&self, branch: &str) -> Result<bool> {
        Ok(self.branch_tip(branch)?.is_some())
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
}

impl Repo {
    /// Deletes local branch `name` if it still points at `expected`, the
    /// commit the caller saw there (never a commit made since). Returns
    /// whether it did: a branch that is gone or moved is left as it is; one
    /// checked out in a worktree is refused, as git refuses it.
    ///
    /// Not `git2::Branch::delete`: to find the branch checked out, libgit2
    /// reads every worktree's record and takes one it cannot read (because
    /// another process is removing it at that moment, `git worktree remove`
    /// of anything) for one that has the branch checked out, so it refused
    /// now and then while other worktrees came and went.
    pub fn delete_branch(&self, name: &str, expected: Oid) -> Result<bool> {
        if let Some(worktree) = self.checked_out_in(name, None)? {
            anyhow::bail!(
                "the branch {name} is checked out (or being rebased or bisected) in {}",
                worktree.display()
            );
        }
        let refname = format!("refs/heads/{name}");
        let deleted = while_locked(|| {
            let mut reference = self.git.find_reference(&refname)?;
            if reference.target() != Some(expected) {
                return Ok(false);
            }
            // Deleted only from `expected`: libgit2 compares under the ref's lock.
            reference.delete().map(|()| true)
        });
        match deleted {
            Ok(true) => {
                remove_branch_config(&self.git, name);
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) if matches!(e.code(), git2::ErrorCode::NotFound | git2::ErrorCode::Modified) => Ok(false),
            Err(e) => Err(e).with_context(|| format!("deleting branch {name}")),
        }
    }

    /// The worktree other than `except` that has local branch `name`
    /// checked out (or is rebasing or bisecting it), if any: deleting the
    /// branch would be refused.
    pub fn checked_out_elsewhere(&self, name: &str, except: &Path) -> Result<Option<PathBuf>> {
        self.checked_out_in(name, Some(except))
    }

    /// The worktree (the main one included, `except` left out) that has
    /// branch `name` checked out, or is rebasing or bisecting it. A worktree
    /// whose directory is gone (it is pruned before a branch is deleted) or
    /// whose record cannot be read right now has nothing checked out.
    fn checked_out_in(&self, name: &str, except: Option<&Path>) -> Result<Option<PathBuf>> {
        let refname = format!("refs/heads/{name}");
        let except = except.map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()));
        let worktrees = super::worktree::worktrees_on_disk(&self.common_dir, &self.main_root)?;
        Ok(worktrees.into_iter().find_map(|(top, gitdir)| {
            let read = |file: &str| std::fs::read_to_string(gitdir.join(file)).unwrap_or_default();
            let has = read("HEAD").trim().strip_prefix("ref:").map(str::trim) == Some(refname.as_str())
                || ["rebase-merge/head-name", "rebase-apply/head-name"]
                    .iter()
                    .any(|f| read(f).trim() == refname)
                || read("BISECT_START").trim() == name;
            let excepted = except.is_some() && std::fs::canonicalize(&top).ok() == except;
            (has && !excepted).then_some(top)
        }))
    }
}

/// Drops the `branch.<name>.*` settings of a deleted branch (`git branch -u`
/// made them), as `git branch -D` does. Best effort: a section left behind
/// changes nothing a branch made again would not set anew.
fn remove_branch_config(repo: &Repository, name: &str) {
    let prefix = format!("branch.{name}.");
    let Ok(config) = repo.config().and_then(|c| c.open_level(git2::ConfigLevel::Local)) else { return };
    let mut names = Vec::new();
    if let Ok(mut entries) = config.entries(None) {
        while let Some(Ok(entry)) = entries.next() {
            if let Some(key) = entry.name().filter(|k| k.starts_with(&prefix)) {
                names.push(key.to_string());
            }
        }
    }
    let mut config = config;
    for key in names {
        let _ = config.remove_multivar(&key, ".*");
    }
}
