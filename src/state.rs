//! The state of a run: which tasks are active, what they lock, where their
//! worktrees are. Lives in the common git directory, `.git/par/`.
//!
//! Invariants:
//! - Every read-modify-write of `state.json` happens inside [`Store::transact`],
//!   under an exclusive fd-lock on `state.lock`, a sidecar that is never deleted
//!   (deleting it would let two processes lock two different inodes).
//! - `state.json` is replaced by write-temp-then-rename, so a reader that takes
//!   no lock ([`Store::load`]) still never sees half a file.
//! - No two active tasks hold conflicting locks: callers check conflicts
//!   against the state they are handed inside the same transaction.
//! - `events.jsonl` is append-only; each event is one line written with one
//!   `write` on an `O_APPEND` file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
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
        let host = gethostname::gethostname().to_string_lossy().into_owned();
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
}

impl Default for State {
    fn default() -> Self {
        State {
            version: STATE_VERSION,
            main_branch: None,
            tasks_file: None,
            tasks: BTreeMap::new(),
            acquiring: BTreeSet::new(),
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

/// The state directory of one repository.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in `dir` (normally `.git/par`); nothing is created until written.
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// The directory holding the state.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of `state.json`.
    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// Path of `events.jsonl`.
    pub fn events_path(&self) -> PathBuf {
        self.dir.join("events.jsonl")
    }

    /// Whether git-par has ever written state here.
    pub fn exists(&self) -> bool {
        self.state_path().exists()
    }

    /// Reads the state without locking; a missing file is the empty state.
    pub fn load(&self) -> Result<State> {
        let path = self.state_path();
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

    /// Runs `f` on the current state under the state lock and writes the
    /// result back if `f` changed it and returned `Ok`. An error from `f`
    /// leaves the state as it was.
    pub fn transact<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        self.with_lock("state.lock", || {
            let before = self.load()?;
            let mut state = before.clone();
            let value = f(&mut state)?;
            if state != before {
                self.write(&state)?;
            }
            Ok(value)
        })
    }

    /// Runs `f` while holding the exclusive fd-lock on the sidecar `name`
    /// (created if missing, never deleted). Blocks until the lock is free.
    pub fn with_lock<T>(&self, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let path = self.dir.join(name);
        let file = self.open_sidecar(&path)?;
        let mut lock = fd_lock::RwLock::new(file);
        let _guard = lock.write().with_context(|| format!("locking {}", path.display()))?;
        f()
    }

    /// Runs `f` holding the shared fd-lock on the sidecar `name`: readers
    /// share it, a writer holding it exclusively ([`Store::with_lock`]) keeps
    /// them out. With no store yet (no writer ever ran) or no way to open the
    /// sidecar (a read-only repository), `f` runs without it.
    pub fn with_shared_lock<T>(&self, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if !self.dir.is_dir() {
            return f();
        }
        let path = self.dir.join(name);
        let Ok(file) = self.open_sidecar(&path).or_else(|_| File::open(&path)) else { return f() };
        let lock = fd_lock::RwLock::new(file);
        let _guard = lock.read().with_context(|| format!("locking {}", path.display()))?;
        f()
    }

    /// Opens (creating if needed) a lock sidecar file in the store.
    pub fn open_sidecar(&self, path: &Path) -> Result<File> {
        fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))
    }

    fn write(&self, state: &State) -> Result<()> {
        let path = self.state_path();
        let tmp = self.dir.join(format!("state.json.tmp.{}", std::process::id()));
        let mut json = serde_json::to_vec_pretty(state).context("serialising the state")?;
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

    /// Appends one event to `events.jsonl`: `{"at", "event", "task", "who", ...fields}`.
    pub fn record(&self, event: &str, task: &str, fields: serde_json::Value) -> Result<()> {
        let mut line = serde_json::json!({
            "at": now(),
            "event": event,
            "task": task,
            "who": Owner::current().to_string(),
        });
        if let (Some(line), serde_json::Value::Object(extra)) = (line.as_object_mut(), fields) {
            line.extend(extra);
        }
        let mut bytes = serde_json::to_vec(&line).context("serialising an event")?;
        bytes.push(b'\n');
        fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        let path = self.events_path();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.write_all(&bytes).with_context(|| format!("appending to {}", path.display()))
    }
}

/// The current time, RFC 3339 in UTC to the second.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}
