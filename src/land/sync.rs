//! After the commit point (steps 6 and 7): the main worktree brought to the
//! landing, the task released and cleaned up; and the rollback of a landing
//! that did not reach it.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result};
use git2::Oid;

use super::error::{LandError, Resume};
use super::{crash_point, lock_index, plural, unlock_index, Journal, Step};
use crate::repo::index_lock::{self, IndexLock};
use crate::repo::{self as git};
use crate::state::{self, Event, Lock, TaskStatus, Transact as _};
use crate::tasks;
use crate::workspace::Workspace;

/// Steps 6 (the worktree with main checked out) and 7, from wherever the
/// journal says the landing got to. Each part is safe to redo.
/// `main_lock` is the main worktree's index lock when the landing holds it
/// since before main moved; without it (a repair) the lock is taken here.
pub(super) fn complete(
    ws: &Workspace,
    journal: &mut Journal,
    main_lock: Option<IndexLock>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let repo = &ws.repo;
    let landing = Journal::oid(&journal.landing).context("the journal has no landing commit")?;
    if journal.step < Step::Synced {
        // Readers of tasks.md hold this lock shared: the checkout below
        // rewrites files in place, and they must not see one half written.
        ws.par().with_lock(Lock::Sync, || sync_main_worktree(ws, journal, landing, main_lock, warnings))?;
        journal.advance(ws.par(), Step::Synced)?;
        crash_point("main-synced")?;
    }
    let tested = Journal::oid(&journal.task_head).or(Oid::from_str(&journal.task_tip).ok());
    if journal.step < Step::Released {
        // The task's locks go, and the landing is recorded, in one change
        // (in remote mode that change was pushed with main).
        if !ws.state().releases_at_commit_point() {
            let finished = finish_event(journal, landing);
            let ((), recorded) = ws.state().transact(|state, events| {
                state.tasks.remove(&journal.task);
                events.push(finished.clone());
                Ok(())
            })?;
            recorded.check()?;
        }
        journal.advance(ws.par(), Step::Released)?;
        crash_point("released")?;
    }
    if journal.step < Step::Cleaned {
        if journal.keep {
            keep_at_landing(ws, journal, landing, warnings)?;
        }
        if !journal.keep {
            let removed = ws.with_worktrees_locked(|| {
                if repo.worktree_intact(&journal.worktree) {
                    match repo.remove_worktree(&journal.worktree) {
                        Ok(()) => return Ok(()),
                        Err(e) if repo.worktree_locked(&journal.worktree) => return Err(e),
                        Err(_) => {}
                    }
                }
                // A finish killed while removing it leaves half a record or
                // half a directory, which git no longer takes for a worktree
                // (and a record that still holds the branch).
                repo.discard_worktree(&journal.worktree)
            });
            if let Err(e) = removed {
                warnings.push(format!(
                    "could not remove the worktree {}: {e:#}; remove it with `git worktree remove {}`",
                    journal.worktree.display(),
                    journal.worktree.display()
                ));
            }
            crash_point("worktree-removed")?;
            if let Some(tip) = tested {
                match repo.delete_branch(&journal.branch, tip) {
                    Ok(_) => {}
                    Err(e) => warnings.push(format!(
                        "could not delete the branch {}: {e:#}; delete it with `git branch -D {}`",
                        journal.branch, journal.branch
                    )),
                }
            }
        }
        let short_landing = git::short(landing);
        let details = format!(
            "landed on {} as {short_landing} ({}, {} commit{}, {} file{}){}",
            journal.main_branch,
            journal.strategy,
            journal.commits,
            plural(journal.commits),
            journal.files,
            plural(journal.files),
            if journal.keep { "; worktree and branch kept" } else { "" }
        );
        let line = crate::logs::lifecycle_line(&state::now(), "finish", &journal.task, &details);
        if let Err(e) = crate::logs::append(&repo.main_root, &journal.log_dir, &journal.task, &line) {
            warnings.push(format!("could not write the log of {}: {e:#}", journal.task));
        }
        journal.advance(ws.par(), Step::Cleaned)?;
        crash_point("cleaned")?;
    }
    journal.remove(ws.par())
}

/// A kept branch goes from the commit it was verified on to the landing
/// commit, which has the same tree (nothing in its worktree changes): a
/// branch all on main, as `git branch -d` wants it.
fn keep_at_landing(
    ws: &Workspace,
    journal: &Journal,
    landing: Oid,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let repo = &ws.repo;
    let Some(tested) = Journal::oid(&journal.task_head).filter(|t| *t != landing) else { return Ok(()) };
    if git::tree_of(&repo.git, tested)? != git::tree_of(&repo.git, landing)? {
        return Ok(());
    }
    let branch_ref = format!("refs/heads/{}", journal.branch);
    let log = format!("git-par finish {}: kept at its landing", journal.task);
    if let Err(e) = git::compare_and_swap(&repo.git, &branch_ref, tested, landing, &log) {
        warnings.push(format!("{} was kept at the commit it was verified on: {e:#}", journal.branch));
    }
    Ok(())
}

/// The `finish` event of the journal's landing as `landing`.
pub(super) fn finish_event(journal: &Journal, landing: Oid) -> Event {
    let tested = Journal::oid(&journal.task_head).or(Oid::from_str(&journal.task_tip).ok());
    let fields = serde_json::json!({
        "commit": landing.to_string(),
        "strategy": journal.strategy,
        "main_branch": journal.main_branch,
        "commits": journal.commits,
        "files": journal.files,
        "task_tip": tested.map(|t| t.to_string()),
        "kept": journal.keep,
    });
    Event::new(&state::now(), "finish", &journal.task, fields)
}

/// Step 6, the worktree part: brings the worktree that has the main branch
/// checked out from the old main to the landing, and ticks an untracked
/// tasks.md in place.
pub(super) fn sync_main_worktree(
    ws: &Workspace,
    journal: &mut Journal,
    landing: Oid,
    main_lock: Option<IndexLock>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let repo = &ws.repo;
    let main_ref = format!("refs/heads/{}", journal.main_branch);
    // A landing of a batch: main moved once over the whole batch, and the
    // main worktree follows that move (again for each of its landings: a
    // checkout that finds it done writes nothing).
    let (main_old, landing) = match journal.main_move() {
        Some((old, new)) if journal.batch.is_some() => (old, new),
        _ => (Journal::oid(&journal.main_old).context("the journal has no old main")?, landing),
    };
    let main_now = git::ref_target(&repo.git, &main_ref)?;
    if journal.carried {
        // The train entry that landed it brought the main worktree to its own landing.
    } else if main_now == Some(landing) {
        if let Some(wt) = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &journal.main_branch)? {
            let (old_tree, new_tree) =
                (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, landing)?);
            let paths = git::touched_paths(&repo.git, old_tree, new_tree)?;
            let (lock_path, _) = index_lock::paths(&wt)?;
            let held = main_lock.filter(|lock| lock.path() == lock_path);
            match held {
                // Brought up to date before main moved, under this very lock.
                Some(lock) if journal.main_ahead => drop(lock),
                held => {
                    let lock = match held {
                        Some(lock) => lock,
                        None => {
                            let whose = format!("the worktree of {}", journal.main_branch);
                            lock_index(ws.par(), journal, &wt, &whose, Resume::Repair)?
                        }
                    };
                    let updated = git::checkout(&wt, old_tree, new_tree, &paths, &lock);
                    drop(lock);
                    updated.map_err(|e| main_update_failed(e, &journal.main_branch, &wt, Resume::Repair))?;
                }
            }
            unlock_index(ws.par(), journal)?;
        }
    } else {
        warnings.push(format!(
            "{} moved on after the landing; its worktree was left for git to update",
            journal.main_branch
        ));
    }
    if let Some((file, result)) = &journal.worktree_tick {
        let path = repo.main_root.join(file);
        if let Ok(text) = fs::read_to_string(&path) {
            if let Ok(updated) = tasks::edit::land(&text, &journal.task, result) {
                if updated != text {
                    fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))?;
                }
            }
        }
    }
    Ok(())
}

/// Brings the main worktree, which a landing that did not reach the commit
/// point had brought (maybe partly) to the landing, back to main.
pub(super) fn main_worktree_back(
    ws: &Workspace,
    journal: &mut Journal,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let repo = &ws.repo;
    // A batch's first landing records the main worktree's move over the whole batch.
    let Some((main_old, landing)) = journal.main_move() else {
        return Ok(());
    };
    let main_now = git::ref_target(&repo.git, &format!("refs/heads/{}", journal.main_branch))?;
    let wt = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &journal.main_branch)?;
    match (main_now == Some(main_old), wt) {
        (true, Some(wt)) => {
            let (old_tree, new_tree) =
                (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, landing)?);
            let paths = git::touched_paths(&repo.git, old_tree, new_tree)?;
            let whose = format!("the worktree of {}", journal.main_branch);
            let lock = lock_index(ws.par(), journal, &wt, &whose, Resume::Repair)?;
            let back =
                ws.par().with_lock(Lock::Sync, || git::checkout(&wt, new_tree, old_tree, &paths, &lock));
            drop(lock);
            unlock_index(ws.par(), journal)?;
            back.map_err(|e| main_update_failed(e, &journal.main_branch, &wt, Resume::Repair))?;
        }
        (true, None) => {}
        (false, _) => warnings.push(format!(
            "{} moved on while {} was landing; its worktree was left for git to update",
            journal.main_branch, journal.task
        )),
    }
    journal.main_ahead = false;
    journal.save(ws.par())
}

/// The error of a failed update of the worktree `wt` that has `main`
/// checked out, saying what finishes it (`resume`).
pub(super) fn main_update_failed(err: anyhow::Error, main: &str, wt: &Path, resume: Resume) -> anyhow::Error {
    let (main, worktree) = (main.to_string(), wt.to_path_buf());
    if let Some(blocked) = err.downcast_ref::<git::Blocked>() {
        return LandError::MainUpdateBlocked { main, worktree, blocked: blocked.0.clone(), resume }.into();
    }
    anyhow::Error::new(LandError::MainUpdateFailed { main, worktree, resume }).context(format!("{err:#}"))
}

/// Puts back what a landing that did not reach the commit point changed:
/// the task branch and worktree, and the task's status.
pub(super) fn rollback(ws: &Workspace, journal: &mut Journal, warnings: &mut Vec<String>) -> Result<()> {
    let repo = &ws.repo;
    if journal.main_ahead {
        main_worktree_back(ws, journal, warnings)?;
    }
    if let (Some(head), Some(tip)) = (Journal::oid(&journal.task_head), Oid::from_str(&journal.task_tip).ok())
    {
        let branch_ref = format!("refs/heads/{}", journal.branch);
        let now = git::ref_target(&repo.git, &branch_ref)?;
        if now == Some(head) || now == Some(tip) {
            let (head_tree, tip_tree) = (git::tree_of(&repo.git, head)?, git::tree_of(&repo.git, tip)?);
            let paths = git::touched_paths(&repo.git, head_tree, tip_tree)?;
            let restored = if journal.worktree.join(".git").exists() && !paths.is_empty() {
                let (wt, whose) = (journal.worktree.clone(), format!("the worktree of {}", journal.task));
                let resume = Resume::Finish(journal.task.clone());
                let restored = lock_index(ws.par(), journal, &wt, &whose, resume)
                    .and_then(|lock| git::checkout(&wt, head_tree, tip_tree, &paths, &lock));
                unlock_index(ws.par(), journal)?;
                restored
            } else {
                Ok(())
            };
            match restored {
                Ok(()) => {
                    if now == Some(head) {
                        git::compare_and_swap(
                            &repo.git,
                            &branch_ref,
                            head,
                            tip,
                            "git-par finish: roll back",
                        )?;
                    }
                }
                Err(e) => warnings.push(format!(
                    "{} keeps the merge of {} ({}): its worktree could not be put back ({e:#})",
                    journal.branch,
                    journal.main_branch,
                    git::short(head)
                )),
            }
        }
    }
    ws.state().update(|state| {
        if let Some(task) = state.tasks.get_mut(&journal.task) {
            if task.state == TaskStatus::Finishing {
                task.state = journal.prev_status;
            }
        }
        Ok(())
    })?;
    journal.remove(ws.par())
}
