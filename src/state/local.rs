//! The state kept in the repository's own `.git/par`: `state.json` and
//! `events.jsonl`, for everyone working on this machine.
//!
//! Invariants:
//! - Every transaction runs under the exclusive lock on `state.lock`; within
//!   it the state is read, changed, and written back only if it changed, by
//!   write-temp-then-rename, so a reader that takes no lock still never sees
//!   half a file.
//! - The events of a transaction are appended after its state is written and
//!   before the lock is let go: one line each, one `write` each on an
//!   `O_APPEND` file, so concurrent writers never interleave inside a line.
//! - The landing's commit point moves main by compare-and-swap under the
//!   same lock, then writes the state: no task can take a path the landing
//!   changes between the check and the move. Here `f` runs once; the retry
//!   of a lost swap is the landing's own (it merges main again first).
//! - After each write of `state.json`, still under the lock, its lock index
//!   ([`super::lock_index`]) is written from the same state: the hook reads
//!   that instead, and only when it names the `state.json` in place.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};

use anyhow::{Context as _, Result};

use super::lock_index::{self, LockIndex};
use super::{
    Event, Lock, MainMove, ParDir, Recorded, State, StateBackend, StateError, SwapHooks, STATE_VERSION,
};
use crate::journal::crash_point;
use crate::repo::compare_and_swap;

/// `.git/par` as a [`StateBackend`].
#[derive(Debug, Clone)]
pub struct LocalBackend {
    par: ParDir,
}

impl LocalBackend {
    /// The state in `par`.
    pub fn new(par: ParDir) -> LocalBackend {
        LocalBackend { par }
    }

    /// The directory the state lives in.
    pub fn par(&self) -> &ParDir {
        &self.par
    }

    /// Whether git-par has ever written state here.
    pub fn exists(&self) -> bool {
        self.par.state_file().exists()
    }

    /// Writes `state` unless `read` (the file as it was read in this
    /// transaction) holds it already, then its lock index.
    fn write(&self, state: &State, read: Option<&lock_index::Read>) -> Result<()> {
        // One line: pretty-printing a thousand tasks costs every transaction
        // time and bytes. `load` reads either form, so older files still parse.
        let mut json = serde_json::to_vec(state).context("serialising the state")?;
        json.push(b'\n');
        if read.is_none() && *state == State::default() {
            // Nothing was there and nothing is to be: no file.
            return Ok(());
        }
        if let Some(read) = read.filter(|read| read.bytes == json) {
            // Unchanged. The index may lag behind it (a writer that died
            // between the two renames): catch it up now.
            if !lock_index::is_current(&self.par.state_index(), &read.stamp) {
                self.write_index(state, &read.stamp);
            }
            return Ok(());
        }
        let path = self.par.state_file();
        let tmp = self.par.state_temp();
        let result = (|| {
            let mut file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
            file.write_all(&json).with_context(|| format!("writing {}", tmp.display()))?;
            file.sync_all().with_context(|| format!("syncing {}", tmp.display()))?;
            fs::rename(&tmp, &path)
                .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result?;
        crash_point("state-written")?;
        if let Some(stamp) = lock_index::Stamp::of_path(&path) {
            self.write_index(state, &stamp);
        }
        Ok(())
    }

    /// Writes the lock index of `state`, whose file has `stamp`. Best
    /// effort: the state is committed already, and an index that did not
    /// follow it is never read (its stamp names the old file).
    fn write_index(&self, state: &State, stamp: &lock_index::Stamp) {
        let _ = lock_index::write(&self.par.state_index(), &self.par.state_index_temp(), state, stamp);
    }

    /// The state and the file it was read from (`None`: no file yet).
    fn load_read(&self) -> Result<(State, Option<lock_index::Read>)> {
        let path = self.par.state_file();
        let Some(read) = lock_index::read_stamped(&path)? else { return Ok((State::default(), None)) };
        let state = parse(&read.bytes, &path)?;
        Ok((state, Some(read)))
    }

    /// The lock index of `state.json` when it describes the file there now.
    pub fn lock_index(&self) -> Option<LockIndex> {
        let stamp = lock_index::Stamp::of_path(&self.par.state_file())?;
        LockIndex::read(&self.par.state_index(), &stamp)
    }

    /// The state for the hook after [`LocalBackend::lock_index`] found no
    /// usable index: read in full, and the index rebuilt from it unless a
    /// writer holds the state (it writes one itself), so that the next
    /// commit reads the index again.
    pub fn load_for_hook(&self) -> Result<State> {
        let (state, read) = self.load_read()?;
        if let Some(read) = read {
            if self.par.path().is_dir() {
                let _ = self.par.try_lock(Lock::State, || {
                    // Rebuilt only from the file still in place: the stamp
                    // and the bytes parsed must be one file's.
                    if lock_index::Stamp::of_path(&self.par.state_file()).as_ref() == Some(&read.stamp) {
                        self.write_index(&state, &read.stamp);
                    }
                    Ok(())
                });
            }
        }
        Ok(state)
    }

    /// Appends `events`, one line each; says which could not be.
    fn append(&self, events: Vec<Event>) -> Recorded {
        let mut recorded = Recorded::default();
        for event in events {
            if let Err(e) = self.append_one(&event) {
                recorded.unrecorded.push((event.event, e));
            }
        }
        recorded
    }

    fn append_one(&self, event: &Event) -> Result<()> {
        let mut bytes = serde_json::to_vec(&event.to_json()).context("serialising an event")?;
        bytes.push(b'\n');
        self.par.create()?;
        let path = self.par.events_file();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.write_all(&bytes).with_context(|| format!("appending to {}", path.display()))
    }
}

/// The state in `bytes`, read from `path`.
fn parse(bytes: &[u8], path: &std::path::Path) -> Result<State> {
    let state: State = serde_json::from_slice(bytes)
        .map_err(|e| anyhow::Error::new(e).context(StateError::Invalid { path: path.to_path_buf() }))?;
    if state.version > STATE_VERSION {
        return Err(StateError::Newer { path: path.to_path_buf(), version: state.version }.into());
    }
    Ok(state)
}

impl StateBackend for LocalBackend {
    fn load(&self) -> Result<State> {
        Ok(self.load_read()?.0)
    }

    fn transact_dyn(&self, f: &mut dyn FnMut(&mut State, &mut Vec<Event>) -> Result<()>) -> Result<Recorded> {
        self.par.with_lock(Lock::State, || {
            // Parsed once and not cloned: whether `f` changed anything is
            // whether the state serialises to other bytes than were read.
            let (mut state, read) = self.load_read()?;
            let mut events = Vec::new();
            f(&mut state, &mut events)?;
            self.write(&state, read.as_ref())?;
            Ok(self.append(events))
        })
    }

    fn land_dyn(
        &self,
        main: &MainMove<'_>,
        hooks: &mut dyn SwapHooks,
        f: &mut dyn FnMut(&mut State, &mut Vec<Event>) -> Result<()>,
    ) -> Result<Option<Recorded>> {
        self.par.with_lock(Lock::State, || {
            let (mut state, read) = self.load_read()?;
            let mut events = Vec::new();
            f(&mut state, &mut events)?;
            hooks.before_swap()?;
            if !compare_and_swap(main.repo, main.refname, main.old, main.new, main.log)? {
                hooks.swap_lost()?;
                return Ok(None);
            }
            self.write(&state, read.as_ref())?;
            Ok(Some(self.append(events)))
        })
    }

    fn record(&self, events: Vec<Event>) -> Result<Recorded> {
        // Appended under the state lock, as a transaction's are; the state
        // itself need not be read to add lines after it.
        self.par.with_lock(Lock::State, || Ok(self.append(events)))
    }

    fn active_ids(&self) -> Result<BTreeSet<String>> {
        if let Some(table) = self.lock_index().as_ref().and_then(|index| index.table()) {
            return Ok(table.tasks.iter().map(|t| t.id.to_string()).collect());
        }
        Ok(self.load()?.tasks.into_keys().collect())
    }

    fn tasks_file(&self) -> Option<String> {
        if let Some((_, tasks_file)) = self.lock_index().as_ref().and_then(|index| index.run()) {
            return tasks_file.map(str::to_string);
        }
        // Skims the file for the one field: every start and lint asks, and
        // building a thousand active tasks to drop them is most of the cost.
        #[derive(serde::Deserialize)]
        struct Run {
            version: u32,
            #[serde(default)]
            tasks_file: Option<String>,
        }
        let bytes = fs::read(self.par.state_file()).ok()?;
        let run: Run = serde_json::from_slice(&bytes).ok()?;
        (run.version <= STATE_VERSION).then_some(run.tasks_file).flatten()
    }

    fn events(&self) -> Result<Vec<Event>> {
        let path = self.par.events_file();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        // A line that does not parse is a writer that died mid-line.
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .filter_map(Event::from_json)
            .collect())
    }
}
