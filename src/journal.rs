//! Records of operations in progress, in `.git/par/journal/`: what a start,
//! an abort or a landing is in the middle of, so that `doctor --repair` can
//! undo or complete it after its process died. And the crash points the
//! tests kill those processes at.
//!
//! Invariants:
//! - A record is written whole: to a temporary file, renamed into place, so
//!   a crash leaves the old version or the new one, never half of either. A
//!   temporary file left behind is a process that died while writing it.
//! - Each kind of record is read, written and removed only under the lock
//!   its operation holds (the worktrees lock for starts and aborts, the
//!   merge lock for landings): whoever holds that lock and finds a record
//!   knows its process is dead.

use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::state::ParDir;

/// A kind of record kept in the journal directory.
pub trait Record: Serialize + DeserializeOwned {
    /// What it is called in messages about a file that does not parse ("intent", "journal").
    const KIND: &'static str;
    /// What it is, as context when it cannot be serialised ("an intent", "the journal").
    const NOUN: &'static str;
    /// The file extensions records of this kind are saved under.
    const EXTENSIONS: &'static [&'static str];

    /// The task it is about.
    fn task(&self) -> &str;

    /// Its file's extension (one of [`Record::EXTENSIONS`]).
    fn extension(&self) -> &'static str;
}

/// Writes `record` (whole: a temporary file renamed into place).
pub fn save<R: Record>(par: &ParDir, record: &R) -> Result<()> {
    let dir = par.journal_dir();
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = par.journal_file(record.task(), record.extension());
    let tmp = par.journal_temp(record.task(), record.extension());
    let json = serde_json::to_vec_pretty(record).with_context(|| format!("serialising {}", R::NOUN))?;
    fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
}

/// Removes the record of `task` with `extension`; already gone is fine.
pub fn remove(par: &ParDir, task: &str, extension: &str) -> Result<()> {
    remove_file(&par.journal_file(task, extension))
}

/// Whether a record of `task` with `extension` exists.
pub fn exists(par: &ParDir, task: &str, extension: &str) -> bool {
    par.journal_file(task, extension).exists()
}

/// Every record of kind `R`, by task.
pub fn list<R: Record>(par: &ParDir) -> Result<Vec<R>> {
    let dir = par.journal_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        let ours = path.extension().and_then(|e| e.to_str()).is_some_and(|e| R::EXTENSIONS.contains(&e));
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if !ours || hidden {
            continue;
        }
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            // Removed since the directory was read: that step completed
            // (landings in a train come and go without a common lock).
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let record: R = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a git-par {}; move it aside", path.display(), R::KIND))?;
        found.push(record);
    }
    found.sort_by(|a, b| a.task().cmp(b.task()));
    Ok(found)
}

/// The temporary files of kind `R` that processes left when they died
/// writing a record. Only meaningful under the lock the kind is written under.
pub fn temps<R: Record>(par: &ParDir) -> Result<Vec<PathBuf>> {
    let dir = par.journal_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut temps = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        if ParDir::is_journal_temp(&entry.file_name().to_string_lossy(), R::EXTENSIONS) {
            temps.push(entry.path());
        }
    }
    temps.sort();
    Ok(temps)
}

/// Removes a file; already gone is fine.
pub fn remove_file(path: &std::path::Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// The environment variable that makes finish, start or abort die at a named step.
pub const CRASH_ENV: &str = "GIT_PAR_TEST_CRASH_AT";

#[cfg(test)]
thread_local! {
    pub(crate) static TEST_CRASH: std::cell::RefCell<Option<&'static str>> = const { std::cell::RefCell::new(None) };
}

/// The error a simulated crash unwinds with in unit tests (no cleanup runs).
#[derive(Debug)]
pub(crate) struct Crashed(&'static str);

impl std::fmt::Display for Crashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "simulated crash at {}", self.0)
    }
}

impl std::error::Error for Crashed {}

/// Dies at `at` when the test environment asks for it (see [`CRASH_ENV`]):
/// as abrupt as `kill -9` in the binary, an error no cleanup catches in unit tests.
pub(crate) fn crash_point(at: &'static str) -> Result<()> {
    #[cfg(test)]
    {
        if TEST_CRASH.with(|c| *c.borrow() == Some(at)) {
            return Err(Crashed(at).into());
        }
    }
    #[cfg(not(test))]
    {
        if std::env::var_os(CRASH_ENV).is_some_and(|v| v == at) {
            // As abrupt as kill -9: no destructors, no cleanup.
            std::process::abort();
        }
    }
    Ok(())
}

/// Whether `err` is a simulated crash.
pub(crate) fn is_crash(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.is::<Crashed>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Note {
        task: String,
    }

    impl Record for Note {
        const KIND: &'static str = "note";
        const NOUN: &'static str = "a note";
        const EXTENSIONS: &'static [&'static str] = &["json"];
        fn task(&self) -> &str {
            &self.task
        }
        fn extension(&self) -> &'static str {
            "json"
        }
    }

    #[test]
    fn a_record_removed_while_the_directory_is_listed_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let par = ParDir::new(tmp.path());
        fs::create_dir_all(par.journal_dir()).unwrap();
        fs::write(par.journal_dir().join("T001.json"), r#"{"task":"T001"}"#).unwrap();
        // Listed by read_dir, gone when read: what a landing that completes
        // between the two looks like.
        std::os::unix::fs::symlink(tmp.path().join("gone"), par.journal_dir().join("T002.json")).unwrap();
        let found: Vec<Note> = list(&par).unwrap();
        assert_eq!(found.iter().map(|n| n.task.as_str()).collect::<Vec<_>>(), ["T001"]);
        // A record that does not parse is still an error.
        fs::write(par.journal_dir().join("T003.json"), "not json").unwrap();
        assert!(list::<Note>(&par).is_err());
    }
}
