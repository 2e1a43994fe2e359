//! A worktree's `index.lock`, held the way git holds it.
//!
//! git takes `<gitdir>/index.lock` (created with `O_CREAT|O_EXCL`) before it
//! writes a worktree's index, and every git command that would change the
//! index — `git commit`, `git add`, `git checkout`, `git stash` — refuses
//! with "index.lock': File exists" while someone holds it. A landing holds
//! it from before it moves main until the main worktree's files and index
//! are up to date, so nothing can commit the old files on top of the landing.
//!
//! Invariants:
//! - The lock is this process's only if this process created the file; it
//!   is never taken over from someone else.
//! - The new index is written into the lock file itself and renamed over
//!   `index` (git's commit of a lock file): a reader sees the old index or
//!   the new one, never half of one.
//! - A lock given up without a new index (an error, a retry) is removed,
//!   but only while it is still the file this process created.
//! - Its `(device, inode)` identifies it to `doctor --repair` after a kill:
//!   a lock file of the same name made later by someone else is not ours.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// The identity of a lock file: device and inode.
pub type FileId = (u64, u64);

/// A held `index.lock` of one worktree.
#[derive(Debug)]
pub struct IndexLock {
    /// `<gitdir>/index.lock`.
    path: PathBuf,
    /// `<gitdir>/index`.
    index: PathBuf,
    /// Open while held; taken when the new index is committed.
    file: Option<File>,
    id: FileId,
}

/// The lock and index files of the worktree at `worktree`: `(index.lock, index)`.
pub fn paths(worktree: &Path) -> Result<(PathBuf, PathBuf)> {
    let repo = git2::Repository::open(worktree)
        .with_context(|| format!("opening the worktree {}", worktree.display()))?;
    let index = repo.path().join("index");
    Ok((repo.path().join("index.lock"), index))
}

/// The identity of the file at `path` (not following a symlink), if it exists.
pub fn file_id(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        fs::symlink_metadata(path).ok().map(|m| (m.len(), 0))
    }
}

/// The copy of the index that process `pid` checks out with, beside the
/// index or lock `beside` (`index.par-<pid>`), and the lock libgit2 takes
/// to write that copy (`index.par-<pid>.lock`).
pub fn scratch_files(beside: &Path, pid: u32) -> [PathBuf; 2] {
    [
        beside.with_file_name(format!("index.par-{pid}")),
        beside.with_file_name(format!("index.par-{pid}.lock")),
    ]
}

impl IndexLock {
    /// Creates `lock` exclusively, as git does. `Ok(None)` when it exists:
    /// someone else holds the index.
    pub fn try_acquire(lock: &Path, index: &Path) -> Result<Option<IndexLock>> {
        let file = match OpenOptions::new().write(true).create_new(true).open(lock) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("creating {}", lock.display())),
        };
        let id = file_id(lock).with_context(|| format!("reading {}", lock.display()))?;
        Ok(Some(IndexLock { path: lock.to_path_buf(), index: index.to_path_buf(), file: Some(file), id }))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The index it guards.
    pub fn index(&self) -> &Path {
        &self.index
    }

    /// Its `(device, inode)`.
    pub fn id(&self) -> FileId {
        self.id
    }

    /// Writes `bytes` as the new index and renames the lock over the index,
    /// which releases it.
    pub fn commit(mut self, bytes: &[u8]) -> Result<()> {
        let Some(mut file) = self.file.take() else { return Ok(()) };
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written.and_then(|()| fs::rename(&self.path, &self.index)) {
            self.remove();
            return Err(e).with_context(|| {
                format!("writing {} through {}", self.index.display(), self.path.display())
            });
        }
        Ok(())
    }

    /// Removes the lock file if it is still the one this process created.
    fn remove(&self) {
        if file_id(&self.path) == Some(self.id) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            self.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_excludes_others_and_goes_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, index) = (dir.path().join("index.lock"), dir.path().join("index"));
        fs::write(&index, "old").unwrap();
        let held = IndexLock::try_acquire(&lock, &index).unwrap().unwrap();
        assert!(IndexLock::try_acquire(&lock, &index).unwrap().is_none());
        assert_eq!(file_id(&lock), Some(held.id()));
        drop(held);
        assert!(!lock.exists());
        assert_eq!(fs::read_to_string(&index).unwrap(), "old");

        let held = IndexLock::try_acquire(&lock, &index).unwrap().unwrap();
        held.commit(b"new").unwrap();
        assert!(!lock.exists());
        assert_eq!(fs::read_to_string(&index).unwrap(), "new");
    }

    #[test]
    fn a_lock_someone_else_made_in_its_place_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, index) = (dir.path().join("index.lock"), dir.path().join("index"));
        let held = IndexLock::try_acquire(&lock, &index).unwrap().unwrap();
        fs::remove_file(&lock).unwrap();
        fs::write(&lock, "theirs").unwrap();
        drop(held);
        assert_eq!(fs::read_to_string(&lock).unwrap(), "theirs");
    }
}
