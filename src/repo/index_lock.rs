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
//! - A new index replaces `index` by a rename while the lock is still held
//!   ([`IndexLock::replace_index`]): a reader sees the old index or the new
//!   one, never half of one, and no writer can slip in before the holder
//!   lets go. (git itself renames its lock over the index, which lets go in
//!   the same instant; a `git commit` that read the old index just before
//!   could then write it back. Holding on past the rename closes that.)
//! - The lock is removed when dropped, but only while it is still the file
//!   this process created.
//! - Its device, inode and time identify it to `doctor --repair` after a kill:
//!   a lock file of the same name made later by someone else is not ours.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// The identity of a lock file: device, inode, and modification time in
/// nanoseconds (a file made later in its place may get the same inode).
pub type FileId = (u64, u64, u64);

/// A held `index.lock` of one worktree.
#[derive(Debug)]
pub struct IndexLock {
    /// `<gitdir>/index.lock`.
    path: PathBuf,
    /// `<gitdir>/index`.
    index: PathBuf,
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
        fs::symlink_metadata(path).ok().map(|m| {
            (
                m.dev(),
                m.ino(),
                (m.mtime() as u64).wrapping_mul(1_000_000_000).wrapping_add(m.mtime_nsec() as u64),
            )
        })
    }
    #[cfg(not(unix))]
    {
        fs::symlink_metadata(path).ok().map(|m| {
            let at = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            (0, 0, at.map_or(0, |d| d.as_nanos() as u64))
        })
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
        match OpenOptions::new().write(true).create_new(true).open(lock) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("creating {}", lock.display())),
        }
        let Some(id) = file_id(lock) else {
            let _ = fs::remove_file(lock);
            anyhow::bail!("cannot read {} just created", lock.display());
        };
        Ok(Some(IndexLock { path: lock.to_path_buf(), index: index.to_path_buf(), id }))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The index it guards.
    pub fn index(&self) -> &Path {
        &self.index
    }

    /// Its identity.
    pub fn id(&self) -> FileId {
        self.id
    }

    /// Makes the file `new` (a whole index, beside the index) the index, by a
    /// rename; the lock stays held.
    pub fn replace_index(&self, new: &Path) -> Result<()> {
        if let Ok(file) = File::open(new) {
            // On disk before it is the index: a crash leaves one whole index.
            file.sync_all().with_context(|| format!("writing {}", new.display()))?;
        }
        fs::rename(new, &self.index)
            .with_context(|| format!("replacing {} with {}", self.index.display(), new.display()))
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
        self.remove();
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
        let new = dir.path().join("index.new");
        fs::write(&new, "new").unwrap();
        held.replace_index(&new).unwrap();
        assert_eq!(fs::read_to_string(&index).unwrap(), "new");
        assert!(lock.exists(), "still held after the index is replaced");
        drop(held);
        assert!(!lock.exists());
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
