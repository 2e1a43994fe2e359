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

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};

use anyhow::{Context as _, Result};

use super::{
    Event, Lock, MainMove, ParDir, Recorded, State, StateBackend, StateError, SwapHooks, STATE_VERSION,
};
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

    fn write(&self, state: &State) -> Result<()> {
        let path = self.par.state_file();
        let tmp = self.par.state_temp();
        // One line: pretty-printing a thousand tasks costs every transaction
        // time and bytes. `load` reads either form, so older files still parse.
        let mut json = serde_json::to_vec(state).context("serialising the state")?;
        json.push(b'\n');
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
        result
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

impl StateBackend for LocalBackend {
    fn load(&self) -> Result<State> {
        let path = self.par.state_file();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let state: State = serde_json::from_slice(&bytes)
            .map_err(|e| anyhow::Error::new(e).context(StateError::Invalid { path: path.clone() }))?;
        if state.version > STATE_VERSION {
            return Err(StateError::Newer { path, version: state.version }.into());
        }
        Ok(state)
    }

    fn transact_dyn(&self, f: &mut dyn FnMut(&mut State, &mut Vec<Event>) -> Result<()>) -> Result<Recorded> {
        self.par.with_lock(Lock::State, || {
            let before = self.load()?;
            let mut state = before.clone();
            let mut events = Vec::new();
            f(&mut state, &mut events)?;
            if state != before {
                self.write(&state)?;
            }
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
            let before = self.load()?;
            let mut state = before.clone();
            let mut events = Vec::new();
            f(&mut state, &mut events)?;
            hooks.before_swap()?;
            if !compare_and_swap(main.repo, main.refname, main.old, main.new, main.log)? {
                hooks.swap_lost()?;
                return Ok(None);
            }
            if state != before {
                self.write(&state)?;
            }
            Ok(Some(self.append(events)))
        })
    }

    fn record(&self, events: Vec<Event>) -> Result<Recorded> {
        // Appended under the state lock, as a transaction's are; the state
        // itself need not be read to add lines after it.
        self.par.with_lock(Lock::State, || Ok(self.append(events)))
    }

    fn tasks_file(&self) -> Option<String> {
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
