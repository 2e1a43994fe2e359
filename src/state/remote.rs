//! The state on a shared git remote (DESIGN §9): `refs/par/state` there is
//! a commit whose tree holds `state.json` and whose message is the event,
//! so `git log refs/par/state` is the audit log.
//!
//! Invariants:
//! - The remote's ref is the state; nothing here falls back to a local copy.
//!   Every change is: take the fetched version (`refs/par/remote/state`),
//!   apply it, write a commit whose parent is that version, and push it with
//!   `--force-with-lease=refs/par/state:<that oid>` (the empty value when
//!   the ref does not exist yet). A refused lease is a lost race: fetch,
//!   apply again, push again, with jittered back-off, until the wait is
//!   over (then [`RemoteError::Busy`], exit 3). Two machines racing for
//!   overlapping paths: one push wins, the other's change runs again on the
//!   winner's state and is refused there, naming the holder.
//! - The landing's commit point is one `git push --atomic` of the new main
//!   and the new state, each with an explicit lease: both refs move or none.
//! - Every git-par command refreshes the fetched copy once, and writes it to
//!   `.git/par/remote-state.json` (by temp and rename, under the state lock,
//!   only while it is the newest this machine knows), which the pre-commit
//!   hook reads: the hook never touches the network.
//! - Each push renews the heartbeat of the pushing machine (`heartbeats`,
//!   by host). Nothing expires by itself: a stale machine's tasks are only
//!   shown as stale, and broken by `unlock --force`.

use std::cell::{Cell, RefCell};
use std::fs::{self, File};
use std::io::{ErrorKind, Write as _};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result};
use git2::{Oid, Repository};

use super::lock_index::{self, LockIndex};
use super::{
    now, Event, Lock, MainMove, Owner, ParDir, Recorded, State, StateBackend, StateError, SwapHooks,
    STATE_VERSION,
};
use crate::repo::remote::{self as wire, Pushed, Remote, Update};

/// The ref on the remote.
pub const STATE_REF: &str = "refs/par/state";
/// Where this repository keeps the last fetched version of it.
pub const FETCHED_REF: &str = "refs/par/remote/state";
/// The fetch of everything under `refs/par/` on the remote (today: the state).
const STATE_REFSPEC: &str = "+refs/par/*:refs/par/remote/*";
/// A fetched copy younger than this serves a change's first try as it is
/// (the command's own fetch, DESIGN §9's "fetch, change, push"): the lease
/// refuses it if it was not the newest after all, and the retry fetches.
const FRESH: Duration = Duration::from_secs(15);
/// A machine's heartbeat is renewed by a command that reads the state once
/// it is this old (every change renews it anyway).
const RENEW_AFTER: Duration = Duration::from_secs(10 * 60);
/// How long a change retries a lost race when no `--wait` says.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// Why remote mode refused or gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteError {
    /// `par.remote`/`--remote` names no remote of this repository.
    NoSuchRemote { remote: String },
    /// Others kept winning the race for `refs/par/state` for the whole wait.
    Busy { remote: String, waited: Duration },
    /// Turning remote mode on while tasks are active in the local state.
    LocalTasksActive { remote: String, tasks: Vec<String> },
    /// Turning remote mode off (or to another remote) while the remote's state has active tasks.
    RemoteTasksActive { remote: String, tasks: Vec<String> },
    /// The main branch is not on the remote.
    NoRemoteMain { remote: String, main: String },
    /// The local main branch has commits the remote's does not.
    MainAhead { remote: String, main: String },
    /// A remote-only command in local mode.
    NotRemoteMode { command: String },
    /// `refs/par/state` on the remote is not a state commit.
    BadStateCommit { remote: String, commit: String },
}

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemoteError::NoSuchRemote { remote } => {
                write!(f, "par.remote names '{remote}', which is not a remote of this repository")
            }
            RemoteError::Busy { remote, waited } => write!(
                f,
                "the state on '{remote}' kept changing under this command for {}s; other machines are busy",
                waited.as_secs()
            ),
            RemoteError::LocalTasksActive { remote, tasks } => write!(
                f,
                "cannot keep the state on '{remote}': tasks are active in this repository's local state ({})",
                tasks.join(", ")
            ),
            RemoteError::RemoteTasksActive { remote, tasks } => write!(
                f,
                "the state of this repository lives on '{remote}', where tasks are active ({})",
                tasks.join(", ")
            ),
            RemoteError::NoRemoteMain { remote, main } => {
                write!(f, "the remote '{remote}' has no branch '{main}' to land on")
            }
            RemoteError::MainAhead { remote, main } => {
                write!(f, "the local {main} has commits that {remote}/{main} does not have")
            }
            RemoteError::NotRemoteMode { command } => {
                write!(
                    f,
                    "`git par {command}` works in remote mode, and this repository keeps its state locally"
                )
            }
            RemoteError::BadStateCommit { remote, commit } => {
                write!(f, "refs/par/state on '{remote}' ({commit}) is not a git-par state commit")
            }
        }
    }
}

impl std::error::Error for RemoteError {}

/// The landing's push failed without an answer from the server: it may or
/// may not have happened, and only the remote can say (`doctor --repair` asks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushUncertain {
    pub remote: String,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for PushUncertain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the push of the landing to '{}' did not complete, so it may or may not have happened: {}",
            self.remote, self.message
        )
    }
}

impl std::error::Error for PushUncertain {}

/// A version of the state as fetched (or pushed) by this process.
#[derive(Debug, Clone)]
struct Fetched {
    /// `None`: the remote has no state yet.
    oid: Option<Oid>,
    state: State,
    at: Instant,
    /// The main branch fetched with it (into its remote-tracking ref), if any.
    main: Option<String>,
}

/// `refs/par/state` on a remote as a [`StateBackend`].
pub struct RemoteBackend {
    remote: Remote,
    repo: Repository,
    par: ParDir,
    host: String,
    fetched: RefCell<Option<Fetched>>,
    wait: Cell<Duration>,
}

impl RemoteBackend {
    /// The state on `remote` of the repository whose common git directory is
    /// `git_dir`; `par` keeps the copy the hook reads. Refuses a name that is
    /// not a remote, and a switch while the other mode has active tasks.
    pub fn open(git_dir: &Path, remote: &str, par: ParDir) -> Result<RemoteBackend> {
        let repo = Repository::open(git_dir).with_context(|| format!("opening {}", git_dir.display()))?;
        if !Remote::exists(&repo, remote) {
            return Err(RemoteError::NoSuchRemote { remote: remote.to_string() }.into());
        }
        let local = super::LocalBackend::new(par.clone()).load()?;
        if !local.tasks.is_empty() {
            let tasks = local.tasks.into_keys().collect();
            return Err(RemoteError::LocalTasksActive { remote: remote.to_string(), tasks }.into());
        }
        if let Some(previous) = mode_marker(&par)?.filter(|p| p != remote) {
            refuse_leaving(&par, &previous)?;
        }
        write_marker(&par, remote)?;
        Ok(RemoteBackend {
            remote: Remote::new(git_dir, remote),
            repo,
            par,
            host: Owner::current().host,
            fetched: RefCell::new(None),
            wait: Cell::new(DEFAULT_WAIT),
        })
    }

    /// The remote's name.
    pub fn remote(&self) -> &str {
        &self.remote.name
    }

    /// How long a change may retry lost races before it gives up.
    pub fn set_wait(&self, wait: Duration) {
        self.wait.set(wait);
    }

    /// Fetches the state now and returns it with its commit (`None`: no state yet).
    pub fn sync(&self) -> Result<(Option<Oid>, State)> {
        let fetched = self.fetch(None)?;
        Ok((fetched.oid, fetched.state))
    }

    /// Fetches the state and `main` from the remote; returns the remote's `main`.
    pub fn fetch_main(&self, main: &str) -> Result<Oid> {
        if self.fresh_with(main).is_none() {
            self.fetch(Some(main))?;
        }
        crate::repo::ref_target(&self.repo, &self.tracking(main))?.with_context(|| {
            format!("fetching {main} from '{}' left no {}", self.remote.name, self.tracking(main))
        })
    }

    /// The copy at hand when it is fresh and came with `main`: a lease
    /// refuses a push built on it if it was not the newest after all.
    fn fresh_with(&self, main: &str) -> Option<Fetched> {
        let fetched = self.fetched.borrow();
        fetched.as_ref().filter(|f| f.at.elapsed() < FRESH && f.main.as_deref() == Some(main)).cloned()
    }

    /// The audit log, newest first: (commit, time, message).
    pub fn log(&self) -> Result<Vec<(Oid, i64, String)>> {
        match self.current()?.oid {
            Some(tip) => wire::state_history(&self.repo, tip),
            None => Ok(Vec::new()),
        }
    }

    /// The fetched copy, fetching it first if this process has not yet.
    fn current(&self) -> Result<Fetched> {
        if let Some(fetched) = self.fetched.borrow().as_ref() {
            return Ok(fetched.clone());
        }
        let fetched = self.fetch(None)?;
        self.renew_if_old(&fetched.state);
        Ok(fetched)
    }

    /// Fetches the state (and `main`, into its remote-tracking branch) from the remote.
    fn fetch(&self, main: Option<&str>) -> Result<Fetched> {
        if main.is_some() {
            return self.fetch_with(main);
        }
        // The run's main branch comes along: a start or a landing needs it
        // next, and one connection serves both. A main the remote does not
        // have (yet) is no reason to fail a command that only needs the state.
        let hint = self.fetched.borrow().as_ref().and_then(|f| f.state.main_branch.clone());
        let hint = hint.or_else(|| fetched_copy(&self.par).ok().flatten().and_then(|s| s.main_branch));
        match hint.filter(|m| wire::valid_branch_name(m)) {
            Some(main) => match self.fetch_with(Some(&main)) {
                Err(e) if e.downcast_ref::<RemoteError>().is_some() => self.fetch_with(None),
                other => other,
            },
            None => self.fetch_with(None),
        }
    }

    fn fetch_with(&self, main: Option<&str>) -> Result<Fetched> {
        let main_spec = main.map(|m| format!("+refs/heads/{m}:{}", self.tracking(m)));
        let mut specs = vec![STATE_REFSPEC];
        specs.extend(main_spec.as_deref());
        // One fetch at a time on this machine: concurrent fetches fail to
        // lock the refs they update.
        let fetched = self.par.with_lock(Lock::Remote, || {
            if let Err(e) = self.fetch_retrying_local_races(&specs) {
                if let (Some(main), Some(unreachable)) = (main, e.downcast_ref::<wire::Unreachable>()) {
                    if unreachable.message.contains("couldn't find remote ref") {
                        let (remote, main) = (self.remote.name.clone(), main.to_string());
                        return Err(RemoteError::NoRemoteMain { remote, main }.into());
                    }
                }
                return Err(e);
            }
            let oid = crate::repo::ref_target(&self.repo, FETCHED_REF)?;
            let state = match oid {
                Some(oid) => self.parse(oid)?,
                None => State::default(),
            };
            let fetched = Fetched { oid, state, at: Instant::now(), main: main.map(str::to_string) };
            write_copy(&self.par, &fetched.state)?;
            Ok(fetched)
        })?;
        *self.fetched.borrow_mut() = Some(fetched.clone());
        Ok(fetched)
    }

    /// `git fetch`, tried again when it failed on something of this
    /// machine's that another git command was changing at that instant (a
    /// worktree being added, a ref being written), not on the remote.
    fn fetch_retrying_local_races(&self, specs: &[&str]) -> Result<()> {
        let mut tries = 0;
        loop {
            let error = match self.remote.fetch(specs) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            let local = error.downcast_ref::<wire::Unreachable>().is_some_and(|u| {
                ["/worktrees/", "cannot lock ref", "unable to resolve reference"]
                    .iter()
                    .any(|s| u.message.contains(s))
            });
            tries += 1;
            if !local || tries >= 5 {
                return Err(error);
            }
            std::thread::sleep(Duration::from_millis(50 * tries));
        }
    }

    /// `refs/remotes/<remote>/<main>`.
    fn tracking(&self, main: &str) -> String {
        format!("refs/remotes/{}/{main}", self.remote.name)
    }

    fn parse(&self, oid: Oid) -> Result<State> {
        let bad =
            || RemoteError::BadStateCommit { remote: self.remote.name.clone(), commit: oid.to_string() };
        let bytes = wire::read_state_blob(&self.repo, oid).map_err(|e| e.context(bad()))?;
        let state: State =
            serde_json::from_slice(&bytes).map_err(|e| anyhow::Error::new(e).context(bad()))?;
        if state.version > STATE_VERSION {
            let path = format!("{}:{STATE_REF}", self.remote.name).into();
            return Err(StateError::Newer { path, version: state.version }.into());
        }
        Ok(state)
    }

    /// Makes what this process just pushed its copy, and the hook's unless
    /// a newer one arrived meanwhile. Best effort: the push stands whatever
    /// happens here, and the next fetch brings the copies up to date.
    fn adopt(&self, fetched: &Fetched, tracking: Option<(&str, Oid)>) {
        *self.fetched.borrow_mut() = Some(fetched.clone());
        let Some(new) = fetched.oid else { return };
        let _ = self.par.with_lock(Lock::Remote, || {
            if let Some((refname, oid)) = tracking {
                self.repo.reference(refname, oid, true, "git-par: pushed")?;
            }
            if let Some(known) = crate::repo::ref_target(&self.repo, FETCHED_REF)? {
                if known != new && self.repo.graph_descendant_of(known, new).unwrap_or(false) {
                    return Ok(());
                }
            }
            self.repo.reference(FETCHED_REF, new, true, "git-par: pushed")?;
            write_copy(&self.par, &fetched.state)
        });
    }

    /// The fetched copy for a change: the one at hand when it is fresh, else fetched now.
    fn base(&self, refetch: bool) -> Result<Fetched> {
        if !refetch {
            if let Some(fetched) = self.fetched.borrow().as_ref().filter(|f| f.at.elapsed() < FRESH) {
                return Ok(fetched.clone());
            }
        }
        self.fetch(None)
    }

    /// Renews this machine's heartbeat in a state about to be pushed.
    fn renew(&self, state: &mut State) {
        state.heartbeats.insert(self.host.clone(), now());
    }

    /// Renews this machine's heartbeat when it holds tasks and its last
    /// heartbeat is old; best effort (the next change renews it anyway).
    fn renew_if_old(&self, state: &State) {
        let mine = state.tasks.values().any(|t| t.owner.host == self.host);
        let old = match state.heartbeats.get(&self.host) {
            Some(at) => age(at).map_or(true, |age| age > RENEW_AFTER),
            None => true,
        };
        if mine && old {
            let _ = self.transact_dyn(&mut |state, _| {
                state.heartbeats.insert(self.host.clone(), now());
                Ok(())
            });
        }
    }

    /// Writes the commit of `state` on top of `parent`, its message the events.
    fn commit(&self, parent: Option<Oid>, before: &State, state: &State, events: &[Event]) -> Result<Oid> {
        let mut json = serde_json::to_vec_pretty(state).context("serialising the state")?;
        json.push(b'\n');
        let message = message(before, state, events);
        wire::write_state_commit(&self.repo, parent, &json, &message)
    }

    fn busy(&self, started: Instant) -> anyhow::Error {
        RemoteError::Busy { remote: self.remote.name.clone(), waited: started.elapsed() }.into()
    }

    /// Sleeps before the next try; false when the wait is over.
    fn back_off(&self, attempt: u32, started: Instant) -> bool {
        let wait = self.wait.get();
        if started.elapsed() >= wait {
            return false;
        }
        let ceiling = Duration::from_millis(20u64 << attempt.min(5)).min(Duration::from_millis(640));
        let pause = ceiling.mul_f64(0.5 + jitter() / 2.0).min(wait.saturating_sub(started.elapsed()));
        std::thread::sleep(pause);
        true
    }
}

impl StateBackend for RemoteBackend {
    fn load(&self) -> Result<State> {
        Ok(self.current()?.state)
    }

    fn transact_dyn(&self, f: &mut dyn FnMut(&mut State, &mut Vec<Event>) -> Result<()>) -> Result<Recorded> {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            let base = self.base(attempt > 0)?;
            let mut state = base.state.clone();
            let mut events = Vec::new();
            f(&mut state, &mut events)?;
            if state == base.state && events.is_empty() {
                return Ok(Recorded::default());
            }
            self.renew(&mut state);
            let commit = self.commit(base.oid, &base.state, &state, &events)?;
            let update = Update { refname: STATE_REF, new: commit, lease: base.oid };
            match self.remote.push(&[update], false)? {
                Pushed::Done => {
                    let main = base.main.clone();
                    self.adopt(&Fetched { oid: Some(commit), state, at: Instant::now(), main }, None);
                    return Ok(Recorded::default());
                }
                Pushed::Lost if self.back_off(attempt, started) => attempt += 1,
                Pushed::Lost => return Err(self.busy(started)),
            }
        }
    }

    fn land_dyn(
        &self,
        main: &MainMove<'_>,
        hooks: &mut dyn SwapHooks,
        f: &mut dyn FnMut(&mut State, &mut Vec<Event>) -> Result<()>,
    ) -> Result<Option<Recorded>> {
        let branch = main.refname.strip_prefix("refs/heads/").unwrap_or(main.refname);
        let tracking = self.tracking(branch);
        let started = Instant::now();
        let mut ahead = false;
        let mut attempt = 0;
        let result = (|| loop {
            // The landing re-checks against the remote as it is now: a copy
            // of a moment ago serves the first try (the leases catch a stale one).
            let base = match self.fresh_with(branch).filter(|_| attempt == 0) {
                Some(fresh) => fresh,
                None => self.fetch(Some(branch))?,
            };
            if crate::repo::ref_target(&self.repo, &tracking)? != Some(main.old) {
                return Ok(None);
            }
            let mut state = base.state.clone();
            let mut events = Vec::new();
            f(&mut state, &mut events)?;
            self.renew(&mut state);
            let commit = self.commit(base.oid, &base.state, &state, &events)?;
            if !ahead {
                hooks.before_swap()?;
                ahead = true;
            }
            let updates = [
                Update { refname: main.refname, new: main.new, lease: Some(main.old) },
                Update { refname: STATE_REF, new: commit, lease: base.oid },
            ];
            let pushed = self.remote.push(&updates, true).map_err(|e| {
                // The server may have taken it before the line dropped.
                let message = format!("{e:#}");
                e.context(PushUncertain { remote: self.remote.name.clone(), message })
            })?;
            match pushed {
                Pushed::Done => {
                    // The commit point is passed: nothing below may fail the landing.
                    let fetched_main = Some(branch.to_string());
                    let pushed = Fetched { oid: Some(commit), state, at: Instant::now(), main: fetched_main };
                    self.adopt(&pushed, Some((&tracking, main.new)));
                    // The local main follows; one that moved meanwhile (or a
                    // ref that could not be written) is left for the
                    // landing's sync to report.
                    let _ =
                        crate::repo::compare_and_swap(main.repo, main.refname, main.old, main.new, main.log);
                    return Ok(Some(Recorded::default()));
                }
                Pushed::Lost if self.back_off(attempt, started) => attempt += 1,
                Pushed::Lost => return Err(self.busy(started)),
            }
        })();
        match result {
            Ok(Some(recorded)) => Ok(Some(recorded)),
            other => {
                if ahead {
                    hooks.swap_lost()?;
                }
                other
            }
        }
    }

    fn events(&self) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        for (_, _, message) in self.log()?.into_iter().rev() {
            events.extend(
                message
                    .lines()
                    .filter(|line| line.starts_with('{'))
                    .filter_map(|line| serde_json::from_str(line).ok())
                    .filter_map(Event::from_json),
            );
        }
        Ok(events)
    }

    fn releases_at_commit_point(&self) -> bool {
        true
    }

    fn remote(&self) -> Option<&RemoteBackend> {
        Some(self)
    }
}

/// The commit message of a change from `before` to `after` with `events`:
/// a subject a person reads in `git log` (`start T004 by ana@host-a`), then
/// each event as one JSON line.
pub fn message(before: &State, after: &State, events: &[Event]) -> String {
    let who = Owner::current().to_string();
    let mut subject: Vec<String> = Vec::new();
    let mut said = |what: String| {
        if !subject.contains(&what) {
            subject.push(what);
        }
    };
    for event in events {
        said(format!("{} {}", event.event, event.task));
    }
    if events.is_empty() {
        for (id, task) in &after.tasks {
            match before.tasks.get(id) {
                None => said(format!("start {id}")),
                Some(old) if old.locks != task.locks => said(format!("lock {id}")),
                Some(old) if old.state != task.state => {
                    let state = serde_json::to_value(task.state).ok();
                    let state = state.as_ref().and_then(|v| v.as_str()).unwrap_or("change").to_string();
                    said(format!("{state} {id}"))
                }
                Some(_) => {}
            }
        }
        for id in before.tasks.keys().filter(|id| !after.tasks.contains_key(*id)) {
            said(format!("release {id}"));
        }
    }
    let subject = match subject.is_empty() {
        true => format!("heartbeat by {who}"),
        false => format!("{} by {who}", subject.join(", ")),
    };
    let mut text = subject;
    if !events.is_empty() {
        text.push_str("\n\n");
        for event in events {
            text.push_str(&event.to_json().to_string());
            text.push('\n');
        }
    }
    text
}

/// How long ago the RFC 3339 time `at` was; `None` if it does not parse.
pub fn age(at: &str) -> Option<Duration> {
    let then = humantime::parse_rfc3339_weak(at).ok()?;
    Some(SystemTime::now().duration_since(then).unwrap_or_default())
}

/// A number in [0, 1) that differs between processes and moments.
fn jitter() -> f64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher
        .write_u128(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos());
    hasher.write_u32(std::process::id());
    (hasher.finish() % 1_000_000) as f64 / 1_000_000.0
}

// ---------------------------------------------------------------------------
// The mode marker and the copy the hook reads.

/// The remote whose state this repository last used, if it was in remote mode.
pub fn mode_marker(par: &ParDir) -> Result<Option<String>> {
    let path = par.remote_marker();
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().to_string()).filter(|s| !s.is_empty())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_marker(par: &ParDir, remote: &str) -> Result<()> {
    if mode_marker(par)?.as_deref() == Some(remote) {
        return Ok(());
    }
    par.create()?;
    let path = par.remote_marker();
    fs::write(&path, format!("{remote}\n")).with_context(|| format!("writing {}", path.display()))
}

/// The last fetched copy of the remote state, as the hook reads it
/// (`None`: this repository is not in remote mode).
pub fn fetched_copy(par: &ParDir) -> Result<Option<State>> {
    let path = par.remote_copy();
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Ok(par.remote_marker().exists().then(State::default));
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let state = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::Error::new(e).context(StateError::Invalid { path: path.clone() }))?;
    Ok(Some(state))
}

fn write_copy(par: &ParDir, state: &State) -> Result<()> {
    par.create()?;
    let path = par.remote_copy();
    let tmp = par.remote_copy_temp();
    // One line, as the local state: the hook reads it on every commit.
    let mut json = serde_json::to_vec(state).context("serialising the state")?;
    json.push(b'\n');
    let written = (|| {
        let mut file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        file.write_all(&json).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, &path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    // Best effort, as the local index: one that did not follow the copy
    // names the old copy and is never read.
    if let Some(stamp) = lock_index::Stamp::of_path(&path) {
        let _ = lock_index::write(&par.remote_index(), &par.remote_index_temp(), state, &stamp);
    }
    Ok(())
}

/// The lock index of the fetched copy, when it describes the copy there now.
pub fn fetched_index(par: &ParDir) -> Option<LockIndex> {
    let stamp = lock_index::Stamp::of_path(&par.remote_copy())?;
    LockIndex::read(&par.remote_index(), &stamp)
}

/// Whether this repository keeps its state on a remote: what the hook
/// asks before choosing which state to read, without reading one.
pub fn is_remote_mode(par: &ParDir) -> bool {
    par.remote_copy().exists() || par.remote_marker().exists()
}

/// Refuses to leave remote mode (on `remote`) while its last known state
/// has active tasks; otherwise forgets it.
fn refuse_leaving(par: &ParDir, remote: &str) -> Result<()> {
    let copy = fetched_copy(par)?.unwrap_or_default();
    if !copy.tasks.is_empty() {
        let tasks = copy.tasks.into_keys().collect();
        return Err(RemoteError::RemoteTasksActive { remote: remote.to_string(), tasks }.into());
    }
    for path in [par.remote_index(), par.remote_copy(), par.remote_marker()] {
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
        }
    }
    Ok(())
}

/// Opening the local state of a repository that was in remote mode: refused
/// while the remote's last known state has active tasks, else the mode is forgotten.
pub fn leave_remote_mode(par: &ParDir) -> Result<()> {
    match mode_marker(par)? {
        Some(remote) => refuse_leaving(par, &remote),
        None => Ok(()),
    }
}
