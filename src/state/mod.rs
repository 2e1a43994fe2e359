//! The state of a run: which tasks are active, what they lock, where their
//! worktrees are; and the [`StateBackend`] that keeps it.
//!
//! Invariants:
//! - Every change happens in a transaction of the backend
//!   ([`StateBackend::transact_dyn`]), on the freshest state, with the events
//!   that record it. A task is recorded, and its locks checked against every
//!   other active task, in one transaction: no two active tasks hold
//!   conflicting locks.
//! - A reader that takes no lock ([`StateBackend::load`]) never sees half a state.
//! - The landing moves main and commits the state as one step
//!   ([`StateBackend::land_dyn`]).
//! - Nothing outside [`par_dir`] knows the names of the files in `.git/par`.

pub mod local;
pub mod lock_index;
pub mod par_dir;
pub mod remote;

pub use self::local::LocalBackend;
pub use self::par_dir::{Lock, ParDir};
pub use self::remote::RemoteBackend;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

/// The version of `state.json`'s layout.
pub const STATE_VERSION: u32 = 1;

/// Where a task stands while it is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Active,
    Blocked,
    Finishing,
}

/// Who holds a task: user and host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub user: String,
    pub host: String,
}

impl Owner {
    /// The user and host running this process.
    pub fn current() -> Owner {
        let user = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
            .or_else(user_from_uid)
            .unwrap_or_else(|| "unknown".to_string());
        // Machines that share a host name (containers, CI runners) tell
        // themselves apart for remote mode's heartbeats with GIT_PAR_HOST.
        let host = std::env::var("GIT_PAR_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned());
        Owner { user, host }
    }
}

/// The login name of this process's user, from `/etc/passwd`, when the
/// environment does not say (cron, containers, `env -i`).
fn user_from_uid() -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let uid = fs::metadata("/proc/self").ok()?.uid();
        let passwd = fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            (fields.nth(1)? == uid.to_string()).then(|| name.to_string())
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.user, self.host)
    }
}

/// A task that has been started and not yet finished or aborted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveTask {
    pub id: String,
    pub branch: String,
    pub worktree: PathBuf,
    /// The commit the branch started from.
    pub base: String,
    /// Normalised lock patterns (see [`crate::locks`]).
    pub locks: Vec<String>,
    pub owner: Owner,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub state: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
}

/// The whole state file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// The branch tasks land on, fixed when the first task starts.
    #[serde(default)]
    pub main_branch: Option<String>,
    /// The task file, relative to the repository root, fixed with the main branch.
    #[serde(default)]
    pub tasks_file: Option<String>,
    /// Active tasks by ID.
    #[serde(default)]
    pub tasks: BTreeMap<String, ActiveTask>,
    /// Active tasks that declared no path: their commits acquire locks on
    /// what they touch (`par.enforceScope = acquire`, DESIGN §7).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub acquiring: BTreeSet<String>,
    /// Remote mode: the tasks of this run (this task file) that landed, so
    /// that no machine starts one again before its tasks.md shows the tick.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub landed: BTreeSet<String>,
    /// Remote mode: when each machine (by host) last changed the state, RFC 3339.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub heartbeats: BTreeMap<String, String>,
}

impl Default for State {
    fn default() -> Self {
        State {
            version: STATE_VERSION,
            main_branch: None,
            tasks_file: None,
            tasks: BTreeMap::new(),
            acquiring: BTreeSet::new(),
            landed: BTreeSet::new(),
            heartbeats: BTreeMap::new(),
        }
    }
}

/// Why the state cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// `state.json` does not parse (the parser's reason is the cause).
    Invalid { path: PathBuf },
    /// `state.json` has a layout this git-par does not know.
    Newer { path: PathBuf, version: u32 },
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::Invalid { path } => write!(f, "{} is not a valid git-par state file", path.display()),
            StateError::Newer { path, version } => {
                write!(f, "{} was written by a newer git-par (state version {version})", path.display())
            }
        }
    }
}

impl std::error::Error for StateError {}

/// One thing that happened to a task, as `events.jsonl` records it:
/// `{"at", "event", "task", "who", ...fields}` on one line.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// RFC 3339, UTC.
    pub at: String,
    /// `start`, `lock`, `block`, `unblock`, `abort`, `unlock`, `finish`.
    pub event: String,
    pub task: String,
    /// `user@host` of the process that recorded it.
    pub who: String,
    /// The rest of the record, by event.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    /// An event of this process's user, with `fields` (a JSON object; anything else is dropped).
    pub fn new(at: &str, event: &str, task: &str, fields: serde_json::Value) -> Event {
        let fields = match fields {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        Event {
            at: at.to_string(),
            event: event.to_string(),
            task: task.to_string(),
            who: Owner::current().to_string(),
            fields,
        }
    }

    /// The record as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = self.fields.clone();
        map.insert("at".into(), self.at.clone().into());
        map.insert("event".into(), self.event.clone().into());
        map.insert("task".into(), self.task.clone().into());
        map.insert("who".into(), self.who.clone().into());
        serde_json::Value::Object(map)
    }

    /// Reads a record back; `None` for anything that is not one.
    pub fn from_json(value: serde_json::Value) -> Option<Event> {
        let serde_json::Value::Object(mut map) = value else { return None };
        let mut take = |key: &str| match map.remove(key) {
            Some(serde_json::Value::String(text)) => Some(text),
            _ => None,
        };
        let (event, task) = (take("event")?, take("task")?);
        let (at, who) = (take("at").unwrap_or_default(), take("who").unwrap_or_default());
        Some(Event { at, event, task, who, fields: map })
    }
}

/// The last of the lifecycle events `kinds` of `task` in `events`, if any.
pub fn last_event<'a>(events: &'a [Event], task: &str, kinds: &[&str]) -> Option<&'a str> {
    events
        .iter()
        .rev()
        .filter(|e| e.task == task && kinds.contains(&e.event.as_str()))
        .map(|e| e.event.as_str())
        .next()
}

/// The landing's commit point: the main branch ref moves from `old` to `new`.
pub struct MainMove<'a> {
    /// The repository the landing commit was written to.
    pub repo: &'a git2::Repository,
    /// `refs/heads/<main>`.
    pub refname: &'a str,
    pub old: git2::Oid,
    pub new: git2::Oid,
    /// The reflog message.
    pub log: &'a str,
}

/// What the landing does on this machine around its commit point, inside it
/// (with the local backend: under the state lock).
pub trait SwapHooks {
    /// The state change is decided and main is about to move: e.g. bring the
    /// main worktree to the landing.
    fn before_swap(&mut self) -> Result<()>;
    /// Main had moved on, so it did not move: undo [`SwapHooks::before_swap`].
    fn swap_lost(&mut self) -> Result<()>;
}

/// Events a committed change could not record: the change itself stands.
#[derive(Debug, Default)]
#[must_use = "events that could not be recorded are a warning or an error"]
pub struct Recorded {
    /// (event, why) for each event not recorded.
    pub unrecorded: Vec<(String, anyhow::Error)>,
}

impl Recorded {
    /// Says what was not recorded, as warnings: the state already changed.
    pub fn warn(self, warnings: &mut Vec<String>) {
        for (event, e) in self.unrecorded {
            warnings.push(format!("could not record the {event} event: {e:#}"));
        }
    }

    /// Fails when an event was not recorded.
    pub fn check(self) -> Result<()> {
        match self.unrecorded.into_iter().next() {
            Some((event, e)) => Err(e.context(format!("recording the {event} event"))),
            None => Ok(()),
        }
    }
}

/// Where the state of a run is kept, and how it changes: the local
/// `.git/par` ([`local::LocalBackend`]) or, later, a ref on a remote.
///
/// A change is a transaction: the function given runs on the freshest state
/// and may run more than once (a lost compare-and-swap is retried), so it
/// must change nothing but the state and events it is handed. The events go
/// with the change: recorded when it commits, not recorded when it does not.
pub trait StateBackend {
    /// The current state (for the local backend: the file, no lock).
    fn load(&self) -> Result<State>;

    /// Runs `f` on the freshest state and commits what it changed with the
    /// events it pushed. An error from `f` changes nothing. Object-safe
    /// core of [`Transact::transact`].
    fn transact_dyn(&self, f: &mut dyn FnMut(&mut State, &mut Vec<Event>) -> Result<()>) -> Result<Recorded>;

    /// The landing's commit point: runs `f` on the freshest state, then
    /// `hooks.before_swap`, then moves main from `main.old` to `main.new` and
    /// commits the state as one step. `None` when main had moved (nothing
    /// committed, `hooks.swap_lost` run).
    fn land_dyn(
        &self,
        main: &MainMove<'_>,
        hooks: &mut dyn SwapHooks,
        f: &mut dyn FnMut(&mut State, &mut Vec<Event>) -> Result<()>,
    ) -> Result<Option<Recorded>>;

    /// Every event recorded, oldest first (a record that does not parse is skipped).
    fn events(&self) -> Result<Vec<Event>>;

    /// Whether the landing's commit point releases the task too (remote
    /// mode: the state pushed with main has the task removed and its
    /// `finish` event), so that nothing is left to release after it.
    fn releases_at_commit_point(&self) -> bool {
        false
    }

    /// The remote backend, when the state lives on a remote.
    fn remote(&self) -> Option<&RemoteBackend> {
        None
    }

    /// Records `events` and changes nothing in the state: what happened
    /// after the transaction that changed it (a start's worktrees made).
    fn record(&self, events: Vec<Event>) -> Result<Recorded> {
        self.transact_dyn(&mut |_, recorded| {
            recorded.extend(events.iter().cloned());
            Ok(())
        })
    }

    /// The IDs of the active tasks: what a command may refuse on before its
    /// transaction (which checks again), read as cheaply as the backend can.
    fn active_ids(&self) -> Result<BTreeSet<String>> {
        Ok(self.load()?.tasks.into_keys().collect())
    }

    /// The task file the run records, if any: all that finding the task
    /// file needs of the state. `None` too when the state cannot be read.
    fn tasks_file(&self) -> Option<String> {
        self.load().ok().and_then(|state| state.tasks_file)
    }
}

/// The generic face of a [`StateBackend`]'s transactions.
pub trait Transact {
    /// Changes the state, recording no event.
    fn update<T>(&self, f: impl FnMut(&mut State) -> Result<T>) -> Result<T>;

    /// Changes the state and records the events `f` pushes with it.
    fn transact<T>(&self, f: impl FnMut(&mut State, &mut Vec<Event>) -> Result<T>) -> Result<(T, Recorded)>;
}

impl<B: StateBackend + ?Sized> Transact for B {
    fn update<T>(&self, mut f: impl FnMut(&mut State) -> Result<T>) -> Result<T> {
        let (value, recorded) = self.transact(|state, _| f(state))?;
        recorded.check()?;
        Ok(value)
    }

    fn transact<T>(
        &self,
        mut f: impl FnMut(&mut State, &mut Vec<Event>) -> Result<T>,
    ) -> Result<(T, Recorded)> {
        let mut out = None;
        let recorded = self.transact_dyn(&mut |state, events| {
            out = Some(f(state, events)?);
            Ok(())
        })?;
        let value = out.context("the state transaction did not run")?;
        Ok((value, recorded))
    }
}

/// The current time, RFC 3339 in UTC to the second.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
