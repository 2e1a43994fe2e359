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
//! - Main moves only under the merge lock, by compare-and-swap, to the
//!   landing of an entry whose verify passed on exactly that tree: main only
//!   ever moves to a landing whose tree was verified exactly. It moves from
//!   the entry's base once no live entry is ahead of it; or, batching under
//!   saturation, from main itself over the entries ahead when each of those
//!   is built on the one before (the first on main), has not failed, is not
//!   verifying right now, and has the same verify command: the entry's
//!   verify ran on a tree that has all of theirs, and they land with it
//!   (their journal's landing is then in main's history: each completes
//!   without verifying, and `doctor --repair` completes it after a kill).
//!   The finish that moves main brings the main worktree along, its journal
//!   recording the whole move (`batch`).
//! - When verify slots are all taken (`par.trainDepth`), the next one goes to
//!   the entry furthest behind that waits for one: its verify covers the
//!   most entries, which its landing may take along; and an entry with one
//!   behind it whose verify passed (none failed in between) takes no slot. 16 finishes with a
//!   1-second verify on 2 slots then land in about two verify times, not eight.
//! - A failed verify ejects its entry only once the entries ahead have landed
//!   as it was built on them (it was its own failure); before that it waits,
//!   and is built and verified again if one of them leaves without landing.
//!   (An entry is landed along by one behind only before its own verify
//!   began, so never one whose verify failed.)
//! - A published landing is taken back (to build again, or ejected) only
//!   under the merge lock, after checking that main does not have it: an
//!   entry behind decides to land it under that lock too, so a landing is
//!   never both rolled back and landed.
//! - When the entry ahead publishes another landing, or leaves without
//!   landing (ejected: a conflict, a failed verify, a kill), the base is
//!   stale: the entry puts its branch back, builds on the new base and
//!   verifies again.
//! - Waiting blocks, never polls: on the signal locks of the entries it
//!   waits for (`train/<seq>.<epoch>.signal`: the entry ahead, the holders
//!   of verify slots, the entry behind next in line for a slot), which each
//!   finish holds while what it published is current and lets go of when
//!   that changes (its landing, a slot taken or given back, a failed
//!   verify) or it leaves.
//!   Signals are not locks for mutual exclusion: a waiter that finds one
//!   deleted or new only wakes early and reads the queue again — which is
//!   why, unlike git-par's other lock files, they are deleted.

use std::fs;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use git2::Oid;
use serde::{Deserialize, Serialize};

use super::error::LandError;
use super::journal::BatchMove;
use super::journal::{Journal, Step};
use super::queue::with_merge_lock;
use super::sync::complete;
use super::{
    changed_paths, commit_point, kept_moving, move_main, prepare, refuse_not_synced, run_landing, unprepare,
    verify_prepared, Checked, Landing, Part, Prepared, Progress, Request, MAX_ATTEMPTS,
};
use crate::flock::{self, Held, Mode, Wait};
use crate::journal::{crash_point, is_crash};
use crate::repo::{self as git};
use crate::state::ParDir;
use crate::workspace::Workspace;

/// Lands `req` through the train: joins it, then builds, verifies and lands
/// as the module's invariants say; a failure ejects it (the landing rolled
/// back as any refused finish is) and wakes the entries behind.
pub(super) fn land(ws: &Workspace, req: &Request, progress: &dyn Fn(Progress<'_>)) -> Result<Landing> {
    let par = ws.par();
    par.create()?;
    let mut member = Member::join(par, &req.id, req.verify.as_deref(), progress)?;
    if Journal::exists(par, &req.id) {
        return Err(LandError::NeedsRepair { id: req.id.clone() }.into());
    }
    // Asked again under the merge lock, before main moves; asked here too
    // so that nothing is built on a main whose worktree a dead finish left behind.
    refuse_not_synced(ws, req)?;
    let landed = run_landing(ws, req, progress, &mut |checked, journal| {
        let mut rider = Rider {
            ws,
            req,
            checked,
            member: &mut member,
            progress,
            events: Vec::new(),
            told: None,
            deadline: req.wait.map(|limit| (Instant::now() + limit, limit)),
            main_ref: format!("refs/heads/{}", req.main_branch),
        };
        rider.ride(journal)
    });
    member.leave()?;
    landed
}

/// A finish riding the train, from the journal `run_landing` wrote.
struct Rider<'a, 'p> {
    ws: &'a Workspace,
    req: &'a Request,
    checked: &'a Checked,
    member: &'a mut Member<'p>,
    progress: &'a dyn Fn(Progress<'_>),
    events: Vec<TrainEvent>,
    /// What it said it waits for, said again only when that changes.
    told: Option<String>,
    deadline: Option<(Instant, Duration)>,
    main_ref: String,
}

/// How a landing built and published ends its ride, or goes round again.
enum Ride {
    Landed(Box<Landing>),
    /// Its base went stale (because of this task ahead; `None`: main moved
    /// on its own): build again.
    Stale(Option<String>),
}

/// How the wait for a verify slot ended.
enum SlotWait {
    Slot(Held),
    /// An entry behind landed it.
    Carried,
    Stale(Option<String>),
}

/// How the commit point under the merge lock went.
enum LandNow {
    Landed(Box<Landing>),
    /// The entries ahead changed meanwhile: look again.
    Again,
    /// The swap failed: main moved, or its ref is locked.
    Moved,
}

/// What the entries ahead let a verified entry do.
enum Chain {
    /// Land now, main moving from where it is to its landing, with these
    /// entries ahead (none when it is first): each built on the one before,
    /// the first on main, none verifying or failed, all with the same verify command.
    Lands(Vec<Entry>),
    /// Wait for this entry (the last one ahead) to land or leave.
    Wait(Entry),
    Stale(Option<String>),
}

impl Rider<'_, '_> {
    /// Steps 3–7.
    fn ride(&mut self, journal: &mut Journal) -> Result<Landing> {
        let (ws, req, checked, progress) = (self.ws, self.req, self.checked, self.progress);
        let sigs = git::signatures(&ws.repo.git)?;
        let mut moved = 0;
        loop {
            // The base: the landing of the live entry just ahead, or main.
            let (base, ahead) = loop {
                let (view, main) = self.look()?;
                if self.events.is_empty() {
                    let tasks = view.ahead.iter().map(|e| e.task.clone()).collect();
                    self.event(TrainEvent::Joined { position: view.ahead.len() + 1, ahead: tasks });
                }
                match view.ahead.last() {
                    None => break (main, None),
                    Some(entry) => match entry.landing() {
                        Some(landing) => break (landing, Some(entry.clone())),
                        None => {
                            self.say_waiting(&entry.task);
                            self.wait(std::slice::from_ref(entry))?;
                        }
                    },
                }
            };
            let prepared = match prepare(ws, req, checked, journal, base, &sigs, progress) {
                Ok(prepared) => prepared,
                Err(e) => match ahead.as_ref().filter(|_| refused_on_what_is_built(&e)) {
                    // A speculative base can be stale: the entry ahead may
                    // have built on an entry ejected since, whose work it
                    // still carries (this task's own, from an earlier finish
                    // of it). Only main refuses for good: wait for the entry
                    // ahead to build again or leave, then build on what it has then.
                    Some(entry) => {
                        self.say_waiting(&entry.task);
                        self.wait(std::slice::from_ref(entry))?;
                        self.event(TrainEvent::Rebuilt { because: entry.task.clone() });
                        continue;
                    }
                    None => return Err(e),
                },
            };
            // On disk before an entry behind can land it with its own verify.
            journal.save(ws.par())?;
            self.member.publish(Some((base, prepared.built.landing)))?;
            // From here on an entry behind may land it: every way out
            // decides that first, under the merge lock.
            let stale = match self.verify_and_land(journal, &prepared, base) {
                Ok(Ride::Landed(landing)) => return Ok(*landing),
                Ok(Ride::Stale(because)) => because,
                Err(e) if is_crash(&e) => return Err(e),
                Err(e) => return self.settle(journal, &prepared, e),
            };
            // Main is not where it was verified to move from: build again.
            let rebuilt = match stale.or(ahead.map(|entry| entry.task)) {
                Some(task) => TrainEvent::Rebuilt { because: task },
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
            self.event(rebuilt);
            unprepare(ws, req, checked, journal)?;
        }
    }

    /// Step 4 and the commit point of a published landing built on `base`.
    fn verify_and_land(&mut self, journal: &mut Journal, prepared: &Prepared, base: Oid) -> Result<Ride> {
        let (ws, req, checked, progress) = (self.ws, self.req, self.checked, self.progress);
        let landing = prepared.built.landing;
        let mut slot = None;
        let mut failure = None;
        if req.verify.is_some() {
            match self.take_slot(base, landing)? {
                SlotWait::Slot(held) => slot = Some(held),
                SlotWait::Carried => {
                    return self.carried(journal, prepared).map(|l| Ride::Landed(Box::new(l)))
                }
                SlotWait::Stale(because) => return self.stale(journal, prepared, because),
            }
        }
        match verify_prepared(ws, req, checked, journal, progress) {
            Ok(()) => {
                self.event(TrainEvent::Verified { base: base.to_string(), landing: landing.to_string() });
            }
            Err(e) if is_crash(&e) => return Err(e),
            Err(e) => failure = Some(e),
        }
        let mut marked = false;
        loop {
            let (view, main) = self.look()?;
            if self.has(main, landing) {
                drop(slot.take());
                return self.carried(journal, prepared).map(|l| Ride::Landed(Box::new(l)));
            }
            let wait_for = match &failure {
                None => match chain(&view.ahead, main, base, req.verify.as_deref()) {
                    Chain::Lands(carry) => match self.land_now(
                        journal,
                        prepared,
                        base,
                        view.ahead.is_empty() && carry.is_empty(),
                        &mut slot,
                    )? {
                        LandNow::Landed(landing) => return Ok(Ride::Landed(landing)),
                        // Something changed under the lock: look again (after a wait if it is to wait).
                        LandNow::Again => continue,
                        // The swap failed (main moved, or its ref is locked): build again, as a finish does.
                        LandNow::Moved => {
                            drop(slot.take());
                            return self.stale(journal, prepared, None);
                        }
                    },
                    Chain::Wait(entry) => entry,
                    Chain::Stale(because) => {
                        drop(slot.take());
                        return self.stale(journal, prepared, because);
                    }
                },
                // A failed verify is its own once the entries ahead have
                // landed as it was built on them; it may also be landed by
                // an entry behind that passed, before that.
                Some(_) => match view.ahead.last() {
                    None if main == base => {
                        drop(slot.take());
                        return match self.leave_chain(journal, prepared)? {
                            Some(landing) => Ok(Ride::Landed(Box::new(landing))),
                            None => Err(failure.take().unwrap_or_else(|| anyhow::anyhow!("verify failed"))),
                        };
                    }
                    None => {
                        drop(slot.take());
                        return self.stale(journal, prepared, None);
                    }
                    Some(entry) if entry.landing() == Some(base) => entry.clone(),
                    Some(entry) => {
                        let because = Some(entry.task.clone());
                        drop(slot.take());
                        return self.stale(journal, prepared, because);
                    }
                },
            };
            if !marked {
                // Its verify slot goes to the entry that waits for one.
                drop(slot.take());
                let failed = failure.is_some();
                self.member.update(|e| {
                    e.slot = false;
                    e.failed = failed;
                    e.passed = !failed;
                })?;
                marked = true;
                continue;
            }
            self.say_waiting(&wait_for.task);
            // Woken when the entry ahead lands or leaves, or when a verify
            // slot changes hands (an entry behind landing this one lets go of its slot).
            let mut watch = vec![wait_for];
            watch.extend(view.ahead.iter().chain(&view.behind).filter(|e| e.slot).cloned());
            self.wait(&watch)?;
        }
    }

    /// Takes a verify slot: when none is free, the entry furthest behind
    /// that waits for one gets the next (its verify covers the most entries
    /// ahead of it, which its landing may take along).
    fn take_slot(&mut self, base: Oid, landing: Oid) -> Result<SlotWait> {
        let par = self.ws.par();
        let depth = self.req.train_depth.max(1);
        self.member.update(|e| e.wants_slot = true)?;
        loop {
            let (view, main) = self.look()?;
            let outcome = if self.has(main, landing) {
                Some(SlotWait::Carried)
            } else {
                match view.ahead.last() {
                    Some(entry) if entry.landing() != Some(base) => {
                        Some(SlotWait::Stale(Some(entry.task.clone())))
                    }
                    None if main != base => Some(SlotWait::Stale(None)),
                    _ => None,
                }
            };
            if let Some(outcome) = outcome {
                self.member.update(|e| e.wants_slot = false)?;
                return Ok(outcome);
            }
            let deeper = view.behind.iter().rev().find(|e| e.wants_slot).cloned();
            // An entry behind whose verify passed, with none failed in
            // between, lands this one along when its turn comes: no verify
            // of its own is needed while it is there.
            let covered = view
                .behind
                .iter()
                .take_while(|e| !e.failed && e.verify == self.req.verify)
                .filter(|e| e.passed && e.landing().is_some())
                .last()
                .cloned();
            if deeper.is_none() && covered.is_none() {
                for n in 0..depth {
                    if let Some(held) = Held::try_acquire(&par.train_slot(n), Mode::Exclusive)? {
                        self.member.update(|e| {
                            e.wants_slot = false;
                            e.slot = true;
                        })?;
                        return Ok(SlotWait::Slot(held));
                    }
                }
            }
            let mut watch: Vec<Entry> =
                view.ahead.iter().chain(&view.behind).filter(|e| e.slot).cloned().collect();
            if let Some(holder) = watch.first() {
                self.say_waiting(&holder.task.clone());
            }
            watch.extend(deeper);
            watch.extend(covered);
            watch.extend(view.ahead.last().cloned());
            if watch.is_empty() {
                // The slots are held by finishes leaving the train: wait for one.
                let held = Held::acquire(&par.train_slot(self.member.seq as usize % depth), Mode::Exclusive)?;
                self.member.update(|e| {
                    e.wants_slot = false;
                    e.slot = true;
                })?;
                return Ok(SlotWait::Slot(held));
            }
            self.wait(&watch)?;
        }
    }

    /// The commit point under the merge lock, once the chain ahead allows
    /// it; `None` when something changed meanwhile (look again).
    fn land_now(
        &mut self,
        journal: &mut Journal,
        prepared: &Prepared,
        base: Oid,
        first: bool,
        slot: &mut Option<Held>,
    ) -> Result<LandNow> {
        let (ws, req, checked, progress) = (self.ws, self.req, self.checked, self.progress);
        let par = ws.par();
        let landing = prepared.built.landing;
        let remaining = self.deadline.map(|(until, _)| until.saturating_duration_since(Instant::now()));
        enum Under {
            Landed(Vec<String>, Vec<String>),
            Carried,
            Again,
            Moved,
        }
        let under = with_merge_lock(par, &req.id, remaining, progress, || {
            refuse_not_synced(ws, req)?;
            // First in the train (no entry can come ahead of it): the swap
            // itself checks main, and the queue need not be read again.
            let carry = if first {
                Vec::new()
            } else {
                let (view, main) = self.look()?;
                if self.has(main, landing) {
                    return Ok(Under::Carried);
                }
                match chain(&view.ahead, main, base, req.verify.as_deref()) {
                    Chain::Lands(carry) => carry,
                    _ => return Ok(Under::Again),
                }
            };
            let moved = if carry.is_empty() {
                commit_point(ws, req, checked, journal, prepared)?
            } else {
                let main = carry.first().and_then(Entry::base).context("an entry ahead without a base")?;
                // Main moves over the entries ahead too: this journal records that move.
                journal.batch = Some(BatchMove { base: main.to_string(), tip: landing.to_string() });
                journal.save(par)?;
                let state = ws.state().load()?;
                let mut paths = Vec::new();
                for entry in &carry {
                    let (Some(from), Some(to)) = (entry.base(), entry.landing()) else {
                        return Ok(Under::Again);
                    };
                    paths.push(changed_paths(&ws.repo, from, to)?);
                }
                let branches: Vec<String> = carry
                    .iter()
                    .map(|e| state.tasks.get(&e.task).map_or_else(|| e.task.clone(), |t| t.branch.clone()))
                    .collect();
                let mut parts: Vec<Part<'_>> = carry
                    .iter()
                    .zip(&branches)
                    .zip(&paths)
                    .map(|((e, branch), paths)| Part { id: &e.task, branch, scope: req.enforce_scope, paths })
                    .collect();
                parts.push(Part::of(req, checked, &prepared.paths));
                let all = changed_paths(&ws.repo, main, landing)?;
                let moved = move_main(ws, req, checked, journal, &parts, main, landing, &all)?;
                if moved.is_none() {
                    journal.batch = None;
                    journal.save(par)?;
                }
                moved
            };
            let Some((main_lock, mut warnings)) = moved else { return Ok(Under::Moved) };
            journal.advance(par, Step::Landed)?;
            crash_point("main-moved")?;
            // The entries behind (and those it took along) may go as soon as main has moved.
            drop(slot.take());
            if let Err(e) = self.member.leave() {
                warnings.push(format!("could not leave the merge train: {e:#}"));
            }
            complete(ws, journal, main_lock, &mut warnings)?;
            Ok(Under::Landed(warnings, carry.into_iter().map(|e| e.task).collect()))
        })?;
        match under {
            Under::Again => Ok(LandNow::Again),
            Under::Moved => Ok(LandNow::Moved),
            Under::Carried => self.carried(journal, prepared).map(|l| LandNow::Landed(Box::new(l))),
            Under::Landed(warnings, carried) => {
                let mut info = prepared.landed(warnings);
                if !carried.is_empty() {
                    self.event(TrainEvent::Carrying { tasks: carried });
                }
                self.event(TrainEvent::Landed { commit: landing.to_string() });
                info.train = std::mem::take(&mut self.events);
                Ok(LandNow::Landed(Box::new(info)))
            }
        }
    }

    /// Completes a landing that an entry behind landed with its own: main
    /// has it, and that finish brought the main worktree along.
    fn carried(&mut self, journal: &mut Journal, prepared: &Prepared) -> Result<Landing> {
        let ws = self.ws;
        let main = git::ref_target(&ws.repo.git, &self.main_ref)?.map(|m| m.to_string()).unwrap_or_default();
        journal.carried = true;
        journal.advance(ws.par(), Step::Landed)?;
        crash_point("main-moved")?;
        let mut warnings = Vec::new();
        if let Err(e) = self.member.leave() {
            warnings.push(format!("could not leave the merge train: {e:#}"));
        }
        complete(ws, journal, None, &mut warnings)?;
        let mut info = prepared.landed(warnings);
        self.event(TrainEvent::Carried { main });
        self.event(TrainEvent::Landed { commit: prepared.built.landing.to_string() });
        info.train = std::mem::take(&mut self.events);
        Ok(info)
    }

    /// Its base went stale: it takes its landing back, unless an entry
    /// behind has landed it meanwhile.
    fn stale(&mut self, journal: &mut Journal, prepared: &Prepared, because: Option<String>) -> Result<Ride> {
        Ok(match self.leave_chain(journal, prepared)? {
            Some(landing) => Ride::Landed(Box::new(landing)),
            None => Ride::Stale(because),
        })
    }

    /// After an error: the landing is rolled back (by `run_landing`) unless
    /// an entry behind has landed it.
    fn settle(&mut self, journal: &mut Journal, prepared: &Prepared, e: anyhow::Error) -> Result<Landing> {
        match self.leave_chain(journal, prepared) {
            Ok(Some(landing)) => Ok(landing),
            Ok(None) => Err(e),
            Err(also) => Err(e.context(format!("and leaving the merge train failed: {also:#}"))),
        }
    }

    /// Takes its published landing back, under the merge lock, where an
    /// entry behind decides to land it: either that has happened (then it
    /// is completed: `Some`), or no entry can land it any more.
    fn leave_chain(&mut self, journal: &mut Journal, prepared: &Prepared) -> Result<Option<Landing>> {
        let (ws, req, progress) = (self.ws, self.req, self.progress);
        let landing = prepared.built.landing;
        let carried = with_merge_lock(ws.par(), &req.id, None, progress, || {
            let main = git::ref_target(&ws.repo.git, &self.main_ref)?;
            if main.is_some_and(|main| self.has(main, landing)) {
                return Ok(true);
            }
            self.member.publish(None)?;
            Ok(false)
        })?;
        if carried {
            return self.carried(journal, prepared).map(Some);
        }
        Ok(None)
    }

    /// Main, and the live entries ahead whose landing main does not have
    /// yet (those an entry behind landed are still finishing up), and behind.
    fn look(&self) -> Result<(View, Oid)> {
        let main = git::ref_target(&self.ws.repo.git, &self.main_ref)?
            .with_context(|| format!("the main branch '{}' disappeared", self.req.main_branch))?;
        let mut view = self.member.look()?;
        view.ahead.retain(|e| !e.landing().is_some_and(|l| self.has(main, l)));
        Ok((view, main))
    }

    /// Whether `main` is `landing` or has it in its history.
    fn has(&self, main: Oid, landing: Oid) -> bool {
        main == landing || self.ws.repo.git.graph_descendant_of(main, landing).unwrap_or(false)
    }

    fn event(&mut self, event: TrainEvent) {
        (self.progress)(Progress::Train(&event));
        self.events.push(event);
    }

    /// Says once what it waits for, again only when that changes.
    fn say_waiting(&mut self, task: &str) {
        if self.told.as_deref() != Some(task) {
            (self.progress)(Progress::Waiting { holder: Some(task) });
            self.told = Some(task.to_string());
        }
    }

    /// Blocks until one of `entries` publishes something else or leaves,
    /// or until the deadline (then [`LandError::QueueBusy`]).
    fn wait(&self, entries: &[Entry]) -> Result<()> {
        self.member.wait_any(entries, self.deadline)
    }
}

/// What the entries `ahead` (live, not landed) let an entry built on `base`
/// and verified by `verify` do, main being at `main`.
fn chain(ahead: &[Entry], main: Oid, base: Oid, verify: Option<&str>) -> Chain {
    let Some(last) = ahead.last() else {
        return if base == main { Chain::Lands(Vec::new()) } else { Chain::Stale(None) };
    };
    if last.landing() != Some(base) {
        return Chain::Stale(Some(last.task.clone()));
    }
    let mut on = main;
    for entry in ahead {
        // Not one verifying right now (its verdict is near: it is waited
        // for), nor one that failed.
        let linked = entry.base() == Some(on)
            && !entry.failed
            && !entry.slot
            && verify.is_some()
            && entry.verify.as_deref() == verify;
        match entry.landing() {
            Some(landing) if linked => on = landing,
            _ => return Chain::Wait(last.clone()),
        }
    }
    Chain::Lands(ahead.to_vec())
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
    /// Its verify command: an entry behind verified by the same command may land it.
    #[serde(default)]
    pub(super) verify: Option<String>,
    /// Waiting for a verify slot.
    #[serde(default)]
    pub(super) wants_slot: bool,
    /// Holding a verify slot.
    #[serde(default)]
    pub(super) slot: bool,
    /// Its verify failed on its current landing.
    #[serde(default)]
    pub(super) failed: bool,
    /// Its verify passed on its current landing (and it waits for its turn).
    #[serde(default)]
    pub(super) passed: bool,
}

impl Entry {
    pub(super) fn landing(&self) -> Option<Oid> {
        self.landing.as_deref().and_then(|l| Oid::from_str(l).ok())
    }

    pub(super) fn base(&self) -> Option<Oid> {
        self.base.as_deref().and_then(|b| Oid::from_str(b).ok())
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
    /// Its landing took these entries ahead along, their trees being part
    /// of the tree it verified (before they had verified theirs).
    Carrying { tasks: Vec<String> },
    /// An entry behind, verified on a tree built on its landing, took it
    /// along: main (here as it found it) has its landing.
    Carried { main: String },
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
    /// The live entries behind, in order.
    pub(super) behind: Vec<Entry>,
}

impl<'a> Member<'a> {
    /// Joins the train as `task`: waits while another finish of the same
    /// task is in it, then takes the next place.
    pub(super) fn join(
        par: &'a ParDir,
        task: &str,
        verify: Option<&str>,
        progress: &dyn Fn(Progress<'_>),
    ) -> Result<Member<'a>> {
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
                verify: verify.map(str::to_string),
                wants_slot: false,
                slot: false,
                failed: false,
                passed: false,
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

    /// The live entries ahead of this one and behind it.
    pub(super) fn look(&self) -> Result<View> {
        let (mut ahead, mut behind) = (Vec::new(), Vec::new());
        with_queue(self.par, |queue| {
            ahead = queue.entries.iter().filter(|e| e.seq < self.seq).cloned().collect();
            behind = queue.entries.iter().filter(|e| e.seq > self.seq).cloned().collect();
            Ok(())
        })?;
        Ok(View { ahead, behind })
    }

    /// Publishes what this entry builds on and lands (`None`: it is
    /// building again), waking the entries that wait on it.
    pub(super) fn publish(&mut self, built: Option<(Oid, Oid)>) -> Result<()> {
        self.update(|entry| {
            entry.base = built.map(|(base, _)| base.to_string());
            entry.landing = built.map(|(_, landing)| landing.to_string());
            entry.failed = false;
            entry.passed = false;
        })
    }

    /// Changes this entry in the queue, waking the entries that wait on it.
    pub(super) fn update(&mut self, change: impl FnOnce(&mut Entry)) -> Result<()> {
        if self.left {
            return Ok(());
        }
        let epoch = self.epoch + 1;
        let signal = Held::acquire(&self.par.train_signal(self.seq, epoch), Mode::Exclusive)?;
        with_queue(self.par, |queue| {
            if let Some(entry) = queue.entries.iter_mut().find(|e| e.seq == self.seq) {
                entry.epoch = epoch;
                change(entry);
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

    /// Blocks until one of `entries` publishes something else or leaves,
    /// or until `deadline` (then [`LandError::QueueBusy`]).
    pub(super) fn wait_any(&self, entries: &[Entry], deadline: Option<(Instant, Duration)>) -> Result<()> {
        let paths: Vec<_> = entries.iter().map(|e| self.par.train_signal(e.seq, e.epoch)).collect();
        for path in &paths {
            if Held::try_acquire(path, Mode::Shared)?.is_some() {
                return Ok(());
            }
        }
        // The kernel wakes the waiting threads; this one keeps the deadline.
        // A thread left waiting lets go as soon as it gets its lock.
        let (tx, rx) = std::sync::mpsc::channel();
        for path in paths {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let _ = tx.send(Held::acquire(&path, Mode::Shared).map(drop));
            });
        }
        drop(tx);
        let received = match deadline {
            None => rx.recv().map_err(|_| None),
            Some((until, _)) => {
                rx.recv_timeout(until.saturating_duration_since(Instant::now())).map_err(Some)
            }
        };
        match received {
            Ok(done) => done,
            Err(Some(std::sync::mpsc::RecvTimeoutError::Timeout)) => Err(LandError::QueueBusy {
                id: self.task.clone(),
                waited: deadline.map_or(Duration::ZERO, |(_, limit)| limit),
                holder: entries.first().map(|e| e.task.clone()),
            }
            .into()),
            Err(_) => Ok(()),
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
