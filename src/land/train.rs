//! The merge train (DESIGN §6 "Trains"): finishes that overlap in time
//! queue in order of arrival and are verified in parallel, each on exactly
//! the tree it would land.
//!
//! Invariants:
//! - The queue (`train/queue.json`) lists the entries in arrival order. It
//!   is read and written only under `train/queue.lock`, held for an instant.
//! - An entry is alive while its finish holds `train/<ID>.member`, for the
//!   whole finish (the kernel lets go when the process dies). The next
//!   reader of the queue drops a dead entry; `doctor` leaves the journal of
//!   a live member alone. A finish joining for a task whose member lock it
//!   holds drops any older entry of that task: its finish is dead.
//! - An entry builds its landing on the landing of the live entry just ahead
//!   of it (on main when none is): its base. It publishes base and landing,
//!   then verifies the landing checked out in its own worktree. Entries
//!   behind build on what it published, so the verifies overlap.
//! - Main moves only under the merge lock, by compare-and-swap from the
//!   entry's base to its landing, once no live entry is ahead of it: main
//!   only ever moves to a landing whose tree was verified exactly.
//! - When the entry ahead publishes another landing, or leaves without
//!   landing (ejected: a conflict, a failed verify, a kill), the base is
//!   stale: the entry puts its branch back, builds on the new base and
//!   verifies again.
//! - Waiting blocks, never polls: on the signal lock of the entry ahead
//!   (`train/<seq>.<epoch>.signal`), which its finish holds while what it
//!   published is current and lets go of when that changes or it leaves.
//!   Signals are not locks for mutual exclusion: a waiter that finds one
//!   deleted or new only wakes early and reads the queue again — which is
//!   why, unlike git-par's other lock files, they are deleted.

use std::fs;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use git2::Oid;
use serde::{Deserialize, Serialize};

use super::error::LandError;
use super::journal::{Journal, Step};
use super::queue::with_merge_lock;
use super::sync::complete;
use super::{
    commit_point, kept_moving, prepare, refuse_not_synced, run_landing, unprepare, verify_prepared, Checked,
    Landing, Progress, Request, MAX_ATTEMPTS,
};
use crate::flock::{self, Held, Mode, Wait};
use crate::journal::crash_point;
use crate::repo::{self as git};
use crate::state::ParDir;
use crate::workspace::Workspace;

/// Lands `req` through the train: joins it, then builds, verifies and lands
/// as the module's invariants say; a failure ejects it (the landing rolled
/// back as any refused finish is) and wakes the entries behind.
pub(super) fn land(ws: &Workspace, req: &Request, progress: &dyn Fn(Progress<'_>)) -> Result<Landing> {
    let par = ws.par();
    par.create()?;
    let mut member = Member::join(par, &req.id, progress)?;
    if Journal::exists(par, &req.id) {
        return Err(LandError::NeedsRepair { id: req.id.clone() }.into());
    }
    // Asked again under the merge lock, before main moves; asked here too
    // so that nothing is built on a main whose worktree a dead finish left behind.
    refuse_not_synced(ws, req)?;
    let landed = run_landing(ws, req, progress, &mut |checked, journal| {
        ride(ws, req, checked, journal, &mut member, progress)
    });
    member.leave()?;
    landed
}

/// Steps 3–7 in the train, from the journal `run_landing` wrote.
fn ride(
    ws: &Workspace,
    req: &Request,
    checked: &Checked,
    journal: &mut Journal,
    member: &mut Member<'_>,
    progress: &dyn Fn(Progress<'_>),
) -> Result<Landing> {
    let (repo, par) = (&ws.repo, ws.par());
    let sigs = git::signatures(&repo.git)?;
    let main_ref = format!("refs/heads/{}", req.main_branch);
    let started = Instant::now();
    let deadline = req.wait.map(|limit| (started + limit, limit));
    let mut events = Vec::new();
    let told = std::cell::RefCell::new(None::<String>);
    // Says once what it waits for, again only when that changes.
    let waiting = |task: &str| {
        if told.borrow().as_deref() != Some(task) {
            progress(Progress::Waiting { holder: Some(task) });
            *told.borrow_mut() = Some(task.to_string());
        }
    };
    let mut moved = 0;
    loop {
        // The base: the landing of the live entry just ahead, or main.
        let (base, ahead) = loop {
            let view = member.look()?;
            if events.is_empty() {
                let ahead = view.ahead.iter().map(|e| e.task.clone()).collect();
                let joined = TrainEvent::Joined { position: view.ahead.len() + 1, ahead };
                progress(Progress::Train(&joined));
                events.push(joined);
            }
            match view.ahead.last() {
                None => {
                    let main = git::ref_target(&repo.git, &main_ref)?
                        .with_context(|| format!("the main branch '{}' disappeared", req.main_branch))?;
                    break (main, None);
                }
                Some(entry) => match entry.landing() {
                    Some(landing) => break (landing, Some(entry.clone())),
                    None => {
                        waiting(&entry.task);
                        member.wait_for(entry, deadline)?;
                    }
                },
            }
        };
        let prepared = match prepare(ws, req, checked, journal, base, &sigs, progress) {
            Ok(prepared) => prepared,
            Err(e) => match ahead.as_ref().filter(|_| refused_on_what_is_built(&e)) {
                // A speculative base can be stale: the entry ahead may have
                // built on an entry ejected since, whose work it still
                // carries (this task's own, from an earlier finish of it).
                // Only main refuses for good: wait for the entry ahead to
                // build again or leave, then build on what it has then.
                Some(entry) => {
                    waiting(&entry.task);
                    member.wait_for(entry, deadline)?;
                    let rebuilt = TrainEvent::Rebuilt { because: entry.task.clone() };
                    progress(Progress::Train(&rebuilt));
                    events.push(rebuilt);
                    continue;
                }
                None => return Err(e),
            },
        };
        member.publish(Some((base, prepared.built.landing)))?;
        {
            let _slot = match &req.verify {
                Some(_) => Some(verify_slot(par, req.train_depth, member.seq)?),
                None => None,
            };
            verify_prepared(ws, req, checked, journal, progress)?;
        }
        let verified =
            TrainEvent::Verified { base: base.to_string(), landing: prepared.built.landing.to_string() };
        progress(Progress::Train(&verified));
        events.push(verified);

        // Its turn comes when those ahead have landed on exactly this base.
        let stale = loop {
            let view = member.look()?;
            match view.ahead.last() {
                Some(entry) if entry.landing() == Some(base) => {
                    waiting(&entry.task);
                    member.wait_for(entry, deadline)?;
                }
                Some(entry) => break Some(entry.task.clone()),
                None => break None,
            }
        };
        if stale.is_none() {
            let remaining = deadline.map(|(until, _)| until.saturating_duration_since(Instant::now()));
            let landed = with_merge_lock(par, &req.id, remaining, progress, || {
                refuse_not_synced(ws, req)?;
                let Some((main_lock, mut warnings)) = commit_point(ws, req, checked, journal, &prepared)?
                else {
                    return Ok(None);
                };
                journal.advance(par, Step::Landed)?;
                crash_point("main-moved")?;
                // The entry behind may go as soon as main has moved.
                if let Err(e) = member.leave() {
                    warnings.push(format!("could not leave the merge train: {e:#}"));
                }
                complete(ws, journal, main_lock, &mut warnings)?;
                Ok(Some(warnings))
            })?;
            if let Some(warnings) = landed {
                let mut info = prepared.built.landing_info;
                info.commit = Some(prepared.built.landing);
                info.warnings.extend(warnings);
                let done = TrainEvent::Landed { commit: prepared.built.landing.to_string() };
                progress(Progress::Train(&done));
                events.push(done);
                info.train = events;
                return Ok(info);
            }
        }
        // Main is not where it was verified to move from: build again.
        let rebuilt = match stale.or(ahead.map(|entry| entry.task)) {
            Some(task) => {
                let rebuilt = TrainEvent::Rebuilt { because: task };
                progress(Progress::Train(&rebuilt));
                rebuilt
            }
            None => {
                // Moved by something else than the train: as a finish outside it says.
                moved += 1;
                if moved >= MAX_ATTEMPTS {
                    return Err(kept_moving(ws, req));
                }
                progress(Progress::Retrying { attempt: moved });
                TrainEvent::Rebuilt { because: req.main_branch.clone() }
            }
        };
        events.push(rebuilt);
        member.publish(None)?;
        unprepare(ws, req, checked, journal)?;
    }
}

/// Whether `e` refuses the landing for what it was built on (a conflict,
/// a path of another task's): final on main, maybe stale on a speculative base.
fn refused_on_what_is_built(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<LandError>(),
        Some(LandError::Conflict { .. } | LandError::ReplayConflict { .. } | LandError::Scope { .. })
    )
}

/// The train's queue, as `train/queue.json` holds it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Queue {
    version: u32,
    /// The sequence number of the next entry: arrival order.
    next: u64,
    entries: Vec<Entry>,
}

/// One finish in the train.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Entry {
    pub(super) task: String,
    pub(super) seq: u64,
    pub(super) pid: u32,
    /// Bumped each time it publishes: names its current signal.
    pub(super) epoch: u64,
    /// What it builds on, once it has built.
    pub(super) base: Option<String>,
    /// Its landing commit, once built (and while it is current).
    pub(super) landing: Option<String>,
}

impl Entry {
    pub(super) fn landing(&self) -> Option<Oid> {
        self.landing.as_deref().and_then(|l| Oid::from_str(l).ok())
    }
}

/// What happened to an entry in the train, in order (`--json` reports them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum TrainEvent {
    /// Joined the queue: its position (1: first) and the tasks ahead.
    Joined { position: usize, ahead: Vec<String> },
    /// Built its landing on `base` and verified it there.
    Verified { base: String, landing: String },
    /// Its base went stale because of `task` ahead: built and verified again.
    Rebuilt { because: String },
    /// Main moved to its landing.
    Landed { commit: String },
}

/// This finish's place in the train, left when dropped.
pub(super) struct Member<'a> {
    par: &'a ParDir,
    task: String,
    pub(super) seq: u64,
    epoch: u64,
    signal: Option<Held>,
    _member: Held,
    left: bool,
}

/// What a look at the queue shows an entry.
pub(super) struct View {
    /// The live entries ahead, in order.
    pub(super) ahead: Vec<Entry>,
}

impl<'a> Member<'a> {
    /// Joins the train as `task`: waits while another finish of the same
    /// task is in it, then takes the next place.
    pub(super) fn join(par: &'a ParDir, task: &str, progress: &dyn Fn(Progress<'_>)) -> Result<Member<'a>> {
        let dir = par.train_dir();
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let member_path = par.train_member(task);
        let member = match Held::try_acquire(&member_path, Mode::Exclusive)? {
            Some(held) => held,
            None => {
                progress(Progress::Waiting { holder: Some(task) });
                Held::acquire(&member_path, Mode::Exclusive)?
            }
        };
        let mut joined = None;
        with_queue(par, |queue| {
            // Any older entry of this task is a dead finish: we hold its membership.
            queue.entries.retain(|e| e.task != task);
            let seq = queue.next;
            queue.next += 1;
            let signal = Held::acquire(&par.train_signal(seq, 0), Mode::Exclusive)?;
            queue.entries.push(Entry {
                task: task.to_string(),
                seq,
                pid: std::process::id(),
                epoch: 0,
                base: None,
                landing: None,
            });
            joined = Some((seq, signal));
            Ok(())
        })?;
        let (seq, signal) = joined.context("joining the merge train")?;
        Ok(Member {
            par,
            task: task.to_string(),
            seq,
            epoch: 0,
            signal: Some(signal),
            _member: member,
            left: false,
        })
    }

    /// The live entries ahead of this one.
    pub(super) fn look(&self) -> Result<View> {
        let mut ahead = Vec::new();
        with_queue(self.par, |queue| {
            ahead = queue.entries.iter().filter(|e| e.seq < self.seq).cloned().collect();
            Ok(())
        })?;
        Ok(View { ahead })
    }

    /// Publishes what this entry builds on and lands (`None`: it is
    /// building again), waking the entry behind it.
    pub(super) fn publish(&mut self, built: Option<(Oid, Oid)>) -> Result<()> {
        let epoch = self.epoch + 1;
        let signal = Held::acquire(&self.par.train_signal(self.seq, epoch), Mode::Exclusive)?;
        with_queue(self.par, |queue| {
            if let Some(entry) = queue.entries.iter_mut().find(|e| e.seq == self.seq) {
                entry.epoch = epoch;
                entry.base = built.map(|(base, _)| base.to_string());
                entry.landing = built.map(|(_, landing)| landing.to_string());
            }
            Ok(())
        })?;
        let old = self.signal.replace(signal);
        drop(old);
        let _ = fs::remove_file(self.par.train_signal(self.seq, self.epoch));
        self.epoch = epoch;
        Ok(())
    }

    /// Leaves the train (landed or ejected), waking the entry behind.
    pub(super) fn leave(&mut self) -> Result<()> {
        if self.left {
            return Ok(());
        }
        self.left = true;
        let seq = self.seq;
        let result = with_queue(self.par, |queue| {
            queue.entries.retain(|e| e.seq != seq);
            Ok(())
        });
        self.signal = None;
        let _ = fs::remove_file(self.par.train_signal(self.seq, self.epoch));
        result
    }

    /// Blocks until `ahead` publishes something else or leaves, or until
    /// `deadline` (then [`LandError::QueueBusy`]).
    pub(super) fn wait_for(&self, ahead: &Entry, deadline: Option<(Instant, Duration)>) -> Result<()> {
        let path = self.par.train_signal(ahead.seq, ahead.epoch);
        let Some((until, limit)) = deadline else {
            drop(Held::acquire(&path, Mode::Shared)?);
            return Ok(());
        };
        if Held::try_acquire(&path, Mode::Shared)?.is_some() {
            return Ok(());
        }
        // The kernel wakes the waiting thread; this one only keeps the deadline.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(Held::acquire(&path, Mode::Shared).map(drop));
        });
        match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(done) => done,
            Err(_) => Err(LandError::QueueBusy {
                id: self.task.clone(),
                waited: limit,
                holder: Some(ahead.task.clone()),
            }
            .into()),
        }
    }
}

impl Drop for Member<'_> {
    fn drop(&mut self) {
        let _ = self.leave();
    }
}

/// Runs `f` on the queue under its lock, dropping dead entries first, and
/// writes it back (whole: a crash leaves one version or the other).
fn with_queue(par: &ParDir, f: impl FnOnce(&mut Queue) -> Result<()>) -> Result<()> {
    let lock = par.train_queue_lock();
    flock::with(&lock, Mode::Exclusive, Wait::Block, &mut flock::quietly, || {
        let path = par.train_queue();
        let mut queue: Queue = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Queue::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        queue.version = 1;
        let mut alive = Vec::with_capacity(queue.entries.len());
        for entry in queue.entries {
            // Free membership: its finish is gone.
            let dead = Held::try_acquire(&par.train_member(&entry.task), Mode::Exclusive)?.is_some();
            if dead {
                let _ = fs::remove_file(par.train_signal(entry.seq, entry.epoch));
            } else {
                alive.push(entry);
            }
        }
        queue.entries = alive;
        f(&mut queue)?;
        let temp = path.with_extension("json.tmp");
        let text = serde_json::to_vec(&queue).context("writing the train queue")?;
        fs::write(&temp, text).with_context(|| format!("writing {}", temp.display()))?;
        fs::rename(&temp, &path).with_context(|| format!("renaming {} to {}", temp.display(), path.display()))
    })
}

/// Whether a finish of `task` is in the train right now (its finish holds its membership).
pub fn is_member(par: &ParDir, task: &str) -> bool {
    let path = par.train_member(task);
    path.exists() && matches!(Held::try_acquire(&path, Mode::Exclusive), Ok(None))
}

/// Takes one of the `depth` verify slots, waiting for one when all are taken.
pub(super) fn verify_slot(par: &ParDir, depth: usize, seq: u64) -> Result<Held> {
    let depth = depth.max(1);
    for n in 0..depth {
        if let Some(held) = Held::try_acquire(&par.train_slot(n), Mode::Exclusive)? {
            return Ok(held);
        }
    }
    Held::acquire(&par.train_slot(seq as usize % depth), Mode::Exclusive)
}
