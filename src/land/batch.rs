//! Batches (DESIGN §6 "Trains"): several tasks given to one `finish` land
//! with one verify of their combined tree, bisecting on failure.
//!
//! Invariants:
//! - A batch holds the merge lock from its first check to its last landing,
//!   as a finish with `--no-train` does, rather than riding the train as one
//!   entry: no other landing reaches its commit point meanwhile, so main
//!   stays where the batch read it, and the train keeps its own invariants
//!   untouched (an entry is one task with one journal and one landing, built
//!   on the landing of the entry ahead). Train entries verifying meanwhile
//!   built on the old main: they see it move and build again, as after any
//!   landing. A batch gains nothing from the train: its whole point is that
//!   one verify covers all its tasks.
//! - It also holds the train membership of each of its tasks: their finish
//!   is alive (`doctor` leaves their journals alone, `abort` refuses, and a
//!   second finish of one of them is refused as busy).
//! - Each task keeps its own journal, landing commit, tick and trailer. A
//!   group of tasks is built one on the other from main: each landing on the
//!   landing of the task before it. The verify runs once, in the last task's
//!   worktree, which has the last landing checked out: the group's tree.
//! - Main moves once per group, by compare-and-swap from the group's base to
//!   its last landing, only after that tree was verified: main only ever
//!   moves to a tree a verify saw, and never to one of the landings in
//!   between. Every journal of the group records that move (`batch`): after
//!   it, each landing is in main's history, which is what `doctor --repair`
//!   goes by: a journal whose landing main has is completed, any other one
//!   is rolled back, as for a finish of one task.
//! - A group whose verify fails is put back (each task at its own tip) and
//!   split: its first half lands on main (split again while it fails), then
//!   the second half on the new main. A group of one is landed exactly as a
//!   finish of that task alone: a failing verify refuses it, and it stays active.
//! - A task that cannot be built (a conflict, the locks, the main worktree
//!   in the way...) is refused with its own reason, and the others go on.

use std::fs;

use anyhow::{Context as _, Result};
use git2::Oid;

use super::check::check;
use super::error::LandError;
use super::journal::{BatchMove, Journal, Step};
use super::queue::with_merge_lock;
use super::sync::{complete, main_worktree_back};
use super::verify::verify;
use super::{
    commit_point, give_back, kept_moving, move_main, prepare, refuse_not_synced, set_status, start_journal,
    unprepare, verify_prepared, Checked, Landing, Part, Prepared, Progress, Request, MAX_ATTEMPTS,
};
use crate::flock::{Held, Mode};
use crate::journal::{crash_point, is_crash};
use crate::repo::{self as git};
use crate::state::TaskStatus;
use crate::workspace::Workspace;

/// What a batch reports while it runs (the command renders it on stderr).
#[derive(Debug)]
pub enum BatchProgress<'a> {
    /// What the landing of one of its tasks reports.
    Task { id: &'a str, progress: Progress<'a> },
    /// Verifying the combined tree of `tasks`, once for all of them.
    Verifying { tasks: &'a [String], command: &'a str },
    /// The verify of `tasks` together failed: their halves are tried apart.
    Bisecting { tasks: &'a [String] },
}

/// What happened to one task of a batch: its landing, or why it was refused.
#[derive(Debug)]
pub struct Outcome {
    pub task: String,
    pub result: Result<Landing>,
}

/// What a batch did, task by task in the order they were given.
#[derive(Debug)]
pub struct Batch {
    pub outcomes: Vec<Outcome>,
    /// How many times the verify command ran (`None` in remote mode, where
    /// the tasks land one by one).
    pub verifies: Option<usize>,
}

/// Runs `git par finish ID...` for several tasks: lands them as the
/// module's invariants say. Each request is a task's own (the same options
/// but the ID). An error is one that stops the whole batch (a crash in
/// tests); refusals are in the outcomes.
pub fn finish_batch(ws: &Workspace, reqs: &[Request], progress: &dyn Fn(BatchProgress<'_>)) -> Result<Batch> {
    let Some(first) = reqs.first() else {
        return Ok(Batch { outcomes: Vec::new(), verifies: Some(0) });
    };
    if ws.state().remote().is_some() {
        // Remote mode lands by an atomic push of main, one task at a time.
        let outcomes = reqs
            .iter()
            .map(|req| {
                let id = req.id.as_str();
                let result = super::finish(ws, req, &|p: Progress<'_>| {
                    progress(BatchProgress::Task { id, progress: p })
                });
                Outcome { task: req.id.clone(), result }
            })
            .collect();
        return Ok(Batch { outcomes, verifies: None });
    }
    let par = ws.par();
    par.create()?;
    let dir = par.train_dir();
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let holder = reqs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(",");
    let first_progress = |p: Progress<'_>| progress(BatchProgress::Task { id: &first.id, progress: p });
    let run = with_merge_lock(par, &holder, first.wait, &first_progress, || {
        let mut run = Run::new(ws, reqs, progress)?;
        let all: Vec<usize> = (0..run.items.len()).collect();
        run.land_group(&all)?;
        Ok(run)
    });
    let run = match run {
        Ok(run) => run,
        Err(e) if matches!(e.downcast_ref::<LandError>(), Some(LandError::QueueBusy { .. })) => {
            // Busy for all of them: each is refused as its own finish would be.
            let Some(LandError::QueueBusy { waited, holder, .. }) = e.downcast_ref::<LandError>() else {
                return Err(e);
            };
            let outcomes = reqs
                .iter()
                .map(|req| Outcome {
                    task: req.id.clone(),
                    result: Err(LandError::QueueBusy {
                        id: req.id.clone(),
                        waited: *waited,
                        holder: holder.clone(),
                    }
                    .into()),
                })
                .collect();
            return Ok(Batch { outcomes, verifies: Some(0) });
        }
        Err(e) => return Err(e),
    };
    let verifies = Some(run.verifies);
    let mut results = run.results;
    let outcomes = reqs
        .iter()
        .zip(results.iter_mut())
        .map(|(req, result)| Outcome {
            task: req.id.clone(),
            result: result
                .take()
                .unwrap_or_else(|| Err(anyhow::anyhow!("{} was left out of the batch", req.id))),
        })
        .collect();
    Ok(Batch { outcomes, verifies })
}

/// A task of the batch that passed its checks and has its journal.
struct Item<'a> {
    req: &'a Request,
    /// Its place among the requests.
    at: usize,
    checked: Checked,
    journal: Journal,
    /// Its landing while it is built on the one before it.
    prepared: Option<Prepared>,
    /// Its train membership: its finish is alive.
    _member: Held,
}

/// A batch under way, holding the merge lock.
struct Run<'a> {
    ws: &'a Workspace,
    progress: &'a dyn Fn(BatchProgress<'_>),
    items: Vec<Item<'a>>,
    /// Each request's outcome, once it has one.
    results: Vec<Option<Result<Landing>>>,
    verifies: usize,
    sigs: git::Signatures,
}

impl<'a> Run<'a> {
    /// Step 2 for each task, in order: the ones that pass get their journal
    /// and are marked finishing; the others are refused with their reason.
    fn new(
        ws: &'a Workspace,
        reqs: &'a [Request],
        progress: &'a dyn Fn(BatchProgress<'_>),
    ) -> Result<Run<'a>> {
        let sigs = git::signatures(&ws.repo.git)?;
        let mut run = Run {
            ws,
            progress,
            items: Vec::new(),
            results: reqs.iter().map(|_| None).collect(),
            verifies: 0,
            sigs,
        };
        for (at, req) in reqs.iter().enumerate() {
            let id = req.id.as_str();
            let p = |p: Progress<'_>| progress(BatchProgress::Task { id, progress: p });
            let item = admit(ws, req, &p).and_then(|(member, checked)| {
                let journal = start_journal(ws, req, &checked)?;
                Ok(Item { req, at, checked, journal, prepared: None, _member: member })
            });
            match item {
                Ok(mut item) => {
                    match set_status(ws, id, TaskStatus::Finishing).and_then(|()| crash_point("started")) {
                        Ok(()) => run.items.push(item),
                        Err(e) if is_crash(&e) => return Err(e),
                        Err(e) => run.results[at] = Some(Err(give_back(ws, req, &mut item.journal, e))),
                    }
                }
                Err(e) if is_crash(&e) => return Err(e),
                Err(e) => run.results[at] = Some(Err(e)),
            }
        }
        Ok(run)
    }

    /// Lands the tasks `group` (indexes of items, in order) on main: built
    /// one on the other, verified once, main moved once; split in halves
    /// when the verify fails.
    fn land_group(&mut self, group: &[usize]) -> Result<()> {
        let ws = self.ws;
        let mut moved = 0;
        loop {
            let Some(&first) = group.iter().find(|&&i| self.results[self.items[i].at].is_none()) else {
                return Ok(());
            };
            let main_branch = self.items[first].req.main_branch.clone();
            let main_ref = format!("refs/heads/{main_branch}");
            let base = git::ref_target(&ws.repo.git, &main_ref)?
                .with_context(|| format!("the main branch '{main_branch}' disappeared"))?;
            let built = self.build(group, base)?;
            let Some(&last) = built.last() else { return Ok(()) };
            if built.len() == 1 {
                if self.land_one(last)? {
                    return Ok(());
                }
            } else if !self.verify_together(&built)? {
                for &i in &built {
                    self.unbuild(i)?;
                }
                let (front, back) = built.split_at(built.len() / 2);
                self.land_group(front)?;
                return self.land_group(back);
            } else if self.land_together(&built, base)? {
                return Ok(());
            }
            // Main moved under the batch (not by a landing: we hold the merge lock).
            for &i in &built {
                self.unbuild(i)?;
            }
            moved += 1;
            if moved >= MAX_ATTEMPTS {
                for &i in &built {
                    let e = kept_moving(ws, self.items[i].req);
                    self.refuse(i, e)?;
                }
                return Ok(());
            }
            let id = self.items[first].req.id.as_str();
            (self.progress)(BatchProgress::Task { id, progress: Progress::Retrying { attempt: moved } });
        }
    }

    /// Lands a verified group built on `base`: each journal records the
    /// batch's move, and main moves once. False when main had moved.
    fn land_together(&mut self, built: &[usize], base: Oid) -> Result<bool> {
        let ws = self.ws;
        let Some(&last) = built.last() else { return Ok(true) };
        {
            let tip = self.items[last]
                .prepared
                .as_ref()
                .map(|p| p.built.landing)
                .context("a batch without a landing")?;
            let batch = BatchMove { base: base.to_string(), tip: tip.to_string() };
            for &i in built {
                let journal = &mut self.items[i].journal;
                journal.batch = Some(batch.clone());
                journal.advance(ws.par(), Step::Landing)?;
            }
            crash_point("landing-commit")?;
            match self.commit_group(built, base, tip) {
                Ok(landed) => Ok(landed),
                Err(e) if is_crash(&e) => Err(e),
                Err(_) => {
                    // Refused at the commit point (the main worktree, the
                    // locks): each task is tried on its own, for its own reason.
                    for &i in built {
                        self.unbuild(i)?;
                    }
                    for &i in built {
                        self.land_group(&[i])?;
                    }
                    Ok(true)
                }
            }
        }
    }

    /// Builds the landings of the tasks of `group` not yet decided, each on
    /// the one before, the first on `base`; a task that cannot be built is
    /// refused. The ones built, in order.
    fn build(&mut self, group: &[usize], base: Oid) -> Result<Vec<usize>> {
        let (ws, progress) = (self.ws, self.progress);
        let mut built = Vec::new();
        let mut on = base;
        for &i in group {
            if self.results[self.items[i].at].is_some() {
                continue;
            }
            let item = &mut self.items[i];
            let id = item.req.id.clone();
            let p = |p: Progress<'_>| progress(BatchProgress::Task { id: &id, progress: p });
            match prepare(ws, item.req, &item.checked, &mut item.journal, on, &self.sigs, &p) {
                Ok(prepared) => {
                    on = prepared.built.landing;
                    item.prepared = Some(prepared);
                    built.push(i);
                }
                Err(e) => self.refuse(i, e)?,
            }
        }
        Ok(built)
    }

    /// Runs the verify once in the last task's worktree, which has the
    /// group's tree; whether it passed (true with no verify configured).
    fn verify_together(&mut self, built: &[usize]) -> Result<bool> {
        let Some(&last) = built.last() else { return Ok(true) };
        let item = &self.items[last];
        let Some(command) = item.req.verify.as_deref() else { return Ok(true) };
        let tasks: Vec<String> = built.iter().map(|&i| self.items[i].req.id.clone()).collect();
        (self.progress)(BatchProgress::Verifying { tasks: &tasks, command });
        self.verifies += 1;
        match verify(self.ws.par(), command, &item.checked.task.worktree, &item.req.id) {
            Ok(()) => {
                crash_point("verified")?;
                Ok(true)
            }
            Err(e) if is_crash(&e) => Err(e),
            Err(_) => {
                (self.progress)(BatchProgress::Bisecting { tasks: &tasks });
                Ok(false)
            }
        }
    }

    /// The commit point of a verified group: main moves once, from `base` to
    /// `tip`, then each task is completed in order. False when main had moved.
    fn commit_group(&mut self, built: &[usize], base: Oid, tip: Oid) -> Result<bool> {
        let ws = self.ws;
        let repo = &ws.repo;
        let paths =
            git::touched_paths(&repo.git, git::tree_of(&repo.git, base)?, git::tree_of(&repo.git, tip)?)?;
        let (first, rest) = built.split_first().context("an empty batch")?;
        let moved = {
            let (head, tail) = self.items.split_at_mut(*first + 1);
            let owner = &mut head[*first];
            let mut parts = vec![Part::of(
                owner.req,
                &owner.checked,
                owner.prepared.as_ref().map_or(&[][..], |p| &p.paths[..]),
            )];
            for &i in rest {
                let item = &tail[i - *first - 1];
                parts.push(Part::of(item.req, &item.checked, paths_of(item)));
            }
            move_main(ws, owner.req, &owner.checked, &mut owner.journal, &parts, base, tip, &paths)
        };
        let main_ref = format!("refs/heads/{}", self.items[*first].req.main_branch);
        let (main_lock, warnings) = match moved {
            Ok(Some(moved)) => moved,
            Ok(None) => return Ok(false),
            // Failed after main moved: landed all the same, and completed.
            Err(e) if !is_crash(&e) && git::ref_target(&repo.git, &main_ref)? == Some(tip) => {
                (None, vec![format!("{e:#}")])
            }
            Err(e) => return Err(e),
        };
        for &i in built {
            self.items[i].journal.advance(ws.par(), Step::Landed)?;
        }
        crash_point("main-moved")?;
        let mut main_lock = main_lock;
        for (n, &i) in built.iter().enumerate() {
            let item = &mut self.items[i];
            let mut warnings = if n == 0 { warnings.clone() } else { Vec::new() };
            // The first journal holds the main worktree's lock and brought it to the tip.
            let lock = if n == 0 { main_lock.take() } else { None };
            let done = complete(ws, &mut item.journal, lock, &mut warnings);
            let result = match done {
                Err(e) if is_crash(&e) => return Err(e),
                Err(e) => Err(give_back(ws, item.req, &mut item.journal, e)),
                Ok(()) => {
                    let prepared = item.prepared.take().context("a landing without its build")?;
                    Ok(prepared.landed(warnings))
                }
            };
            self.results[item.at] = Some(result);
        }
        Ok(true)
    }

    /// A group of one: exactly the steps of a finish of that task alone.
    /// False when main had moved (it is built again).
    fn land_one(&mut self, i: usize) -> Result<bool> {
        let (ws, progress) = (self.ws, self.progress);
        let item = &mut self.items[i];
        let id = item.req.id.clone();
        let p = |p: Progress<'_>| progress(BatchProgress::Task { id: &id, progress: p });
        let Some(prepared) = item.prepared.take() else { return Ok(true) };
        if item.req.verify.is_some() {
            self.verifies += 1;
        }
        let item = &mut self.items[i];
        let landed = verify_prepared(ws, item.req, &item.checked, &mut item.journal, &p)
            .and_then(|()| commit_point(ws, item.req, &item.checked, &mut item.journal, &prepared));
        match landed {
            Ok(Some((main_lock, mut warnings))) => {
                let done = item
                    .journal
                    .advance(ws.par(), Step::Landed)
                    .and_then(|()| crash_point("main-moved"))
                    .and_then(|()| complete(ws, &mut item.journal, main_lock, &mut warnings));
                let result = match done {
                    Err(e) if is_crash(&e) => return Err(e),
                    Err(e) => Err(give_back(ws, item.req, &mut item.journal, e)),
                    Ok(()) => Ok(prepared.landed(warnings)),
                };
                self.results[item.at] = Some(result);
                Ok(true)
            }
            Ok(None) => {
                item.prepared = Some(prepared);
                Ok(false)
            }
            Err(e) => self.refuse(i, e).map(|()| true),
        }
    }

    /// Puts a built task back at its own tip (and the main worktree, when
    /// the commit point had begun to bring it to the batch), to be built again.
    fn unbuild(&mut self, i: usize) -> Result<()> {
        let ws = self.ws;
        let item = &mut self.items[i];
        if item.prepared.take().is_none() {
            return Ok(());
        }
        let back = if item.journal.main_ahead {
            main_worktree_back(ws, &mut item.journal, &mut Vec::new())
        } else {
            Ok(())
        };
        item.journal.batch = None;
        match back.and_then(|()| unprepare(ws, item.req, &item.checked, &mut item.journal)) {
            Ok(()) => Ok(()),
            Err(e) if is_crash(&e) => Err(e),
            Err(e) => self.refuse(i, e),
        }
    }

    /// Refuses task `i` with `e`: everything its landing changed is put back.
    fn refuse(&mut self, i: usize, e: anyhow::Error) -> Result<()> {
        if is_crash(&e) {
            return Err(e);
        }
        let item = &mut self.items[i];
        item.prepared = None;
        let e = give_back(self.ws, item.req, &mut item.journal, e);
        self.results[item.at] = Some(Err(e));
        Ok(())
    }
}

/// What the landing of `item` changes, from the landing before it.
fn paths_of<'i>(item: &'i Item<'_>) -> &'i [String] {
    item.prepared.as_ref().map_or(&[][..], |p| &p.paths[..])
}

/// The checks of one task before it joins the batch: its finish is the only
/// one (its membership), no finish of it died unrepaired, no landing left
/// main's worktree behind, and step 2's checks.
fn admit(ws: &Workspace, req: &Request, progress: &dyn Fn(Progress<'_>)) -> Result<(Held, Checked)> {
    let par = ws.par();
    let Some(member) = Held::try_acquire(&par.train_member(&req.id), Mode::Exclusive)? else {
        return Err(LandError::FinishRunning { id: req.id.clone() }.into());
    };
    if Journal::exists(par, &req.id) {
        return Err(LandError::NeedsRepair { id: req.id.clone() }.into());
    }
    refuse_not_synced(ws, req)?;
    let checked = check(ws, &ws.state().load()?, req, true, progress)?;
    Ok((member, checked))
}
