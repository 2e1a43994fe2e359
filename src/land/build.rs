//! What lands: main merged into the task (step 3) and the landing commit
//! (step 5), built without moving anything.

use std::fs;

use anyhow::{Context as _, Result};
use git2::Oid;

use super::error::LandError;
use super::{landing_message, result_line, unified, Checked, Landing, Request, Strategy};
use crate::repo::merge::OwnMerge;
use crate::repo::Repo;
use crate::repo::{self as git, Integration};
use crate::tasks;

/// Step 3: what is tested and lands, before the tasks.md update: main and
/// the task's work put together in memory. Nothing is committed on the task
/// branch: a clean landing adds the task's commits and one landing commit.
pub(super) struct Tested {
    /// The tree that lands, less the tasks.md update.
    pub(super) tree: Oid,
    /// The task's side of the landing: its tip, or for `rebase` the last of
    /// its commits replayed onto main (main itself when none is left).
    pub(super) tip: Oid,
    /// Main was merged in, or the commits replayed, to make `tree`.
    pub(super) merged: bool,
    /// How it lands: the requested strategy, but `rebase` for an `ff` that
    /// main moved under.
    pub(super) strategy: Strategy,
    /// The task's tasks.md edits that clashed with main's (a diff).
    pub(super) clashes: String,
}

/// Step 3: puts main and the task branch's `head` together as `req.strategy`
/// says: a merge in memory, or (rebase) the task's commits replayed onto
/// main. Conflicts are refused with the files.
pub(super) fn integrate(
    repo: &Repo,
    req: &Request,
    checked: &Checked,
    main: Oid,
    head: Oid,
    sigs: &git::Signatures,
) -> Result<Tested> {
    let on_main = head == main || repo.git.graph_descendant_of(head, main).context("comparing histories")?;
    let behind = !on_main && repo.git.graph_descendant_of(main, head).context("comparing histories")?;
    let strategy = match req.strategy {
        Strategy::Ff if !on_main && !behind => Strategy::Rebase,
        other => other,
    };
    let tested = |tree, tip, merged, clashes| Tested { tree, tip, merged, strategy, clashes };
    if on_main {
        return Ok(tested(git::tree_of(&repo.git, head)?, head, false, String::new()));
    }
    // A task with no commits of its own: nothing but main lands.
    if behind {
        return Ok(tested(git::tree_of(&repo.git, main)?, main, false, String::new()));
    }
    if strategy == Strategy::Rebase {
        return match git::replay(&repo.git, head, main, req.tasks_file.as_deref(), &sigs.committer)? {
            git::Replay::Clean { tip } => Ok(tested(git::tree_of(&repo.git, tip)?, tip, true, String::new())),
            git::Replay::Conflicts { commit, files } => {
                let summary = repo.git.find_commit(commit).ok().and_then(|c| c.summary().map(str::to_string));
                Err(LandError::ReplayConflict {
                    id: req.id.clone(),
                    main: req.main_branch.clone(),
                    branch: checked.task.branch.clone(),
                    worktree: checked.task.worktree.clone(),
                    commit: format!("{} {}", git::short(commit), summary.unwrap_or_default()),
                    files,
                }
                .into())
            }
        };
    }
    // git-par owns tasks.md: both sides' edits of it are merged by task, never a conflict.
    let mut dropped = String::new();
    let mut merge_tasks = |base: &str, main: &str, task: &str| {
        let merged = tasks::merge::merge(base, main, task);
        dropped = merged.dropped;
        merged.text
    };
    let own = req.tasks_file.as_deref().map(|path| OwnMerge { path, merge: &mut merge_tasks });
    match git::merge_into_task(&repo.git, head, main, own)? {
        Integration::Conflicts(files) => Err(LandError::Conflict {
            id: req.id.clone(),
            main: req.main_branch.clone(),
            branch: checked.task.branch.clone(),
            worktree: checked.task.worktree.clone(),
            files,
        }
        .into()),
        Integration::Clean { tree } => Ok(tested(tree, head, true, dropped)),
    }
}

/// The landing commit, built from the tested commit.
pub(super) struct Built {
    pub(super) landing: Oid,
    pub(super) landing_info: Landing,
    pub(super) worktree_tick: Option<(String, String)>,
}

/// Step 5: builds the landing commit (and, for ff, the tick commit on top
/// of the task tip) without moving anything.
/// `clashes`: the task's tasks.md edits the merge of step 3 already left out.
pub(super) fn build(
    repo: &Repo,
    req: &Request,
    main: Oid,
    head: Oid,
    tested: &Tested,
    sigs: &git::Signatures,
) -> Result<Built> {
    let git = &repo.git;
    let (main_tree, tested_tree) = (git::tree_of(git, main)?, tested.tree);
    let strategy = tested.strategy;
    // The task's own commits (for `rebase`, as they were before the replay).
    let commits = if tested.tip == main { Vec::new() } else { git::task_commits(git, head, main)? };
    let mut files = git::changes(git, main_tree, tested_tree, true)?;
    // The task's own edits of tasks.md do not land (below).
    files.retain(|c| !req.tasks_file.as_ref().is_some_and(|f| *f == c.path));

    let result = result_line(req, strategy, tested.tip, commits.len(), files.len());
    let mut tree = tested_tree;
    let mut description = None;
    let mut tasks_diff = String::new();
    let mut dropped = tested.clashes.clone();
    let mut worktree_tick = None;
    let mut warnings = Vec::new();
    if let Some(file) = &req.tasks_file {
        let task_text = if strategy == Strategy::Rebase {
            // The replay kept main's tasks.md: the task's own edits are on its
            // branch, made to the tasks.md it forked from. Merged into main's
            // as the merge strategy does, so that what main gained since (other
            // tasks ticked) is not taken for the task undoing it.
            let theirs = git::read_text(git, git::tree_of(git, head)?, file)?;
            let fork = git.merge_base(head, main).ok();
            let base = match fork {
                Some(fork) => git::read_text(git, git::tree_of(git, fork)?, file)?,
                None => None,
            };
            match (base, git::read_text(git, main_tree, file)?, theirs) {
                (Some(base), Some(main_text), Some(theirs)) => {
                    let merged = tasks::merge::merge(&base, &main_text, &theirs);
                    dropped += &merged.dropped;
                    Some(merged.text)
                }
                (_, _, theirs) => theirs,
            }
        } else {
            git::read_text(git, tested_tree, file)?
        };
        // git-par owns tasks.md: what lands is main's version, ticked, with
        // only the task's own checkbox taken from its branch. Other edits
        // (other tasks ticked or changed, tasks added, a file that does not
        // parse) are dropped and shown.
        tree = git::with_entry_of(git, tree, file, main_tree)?;
        if git::tree_has(git, main_tree, file) {
            match git::read_text(git, main_tree, file)? {
                Some(main_text) => {
                    let text = match &task_text {
                        Some(theirs) => tasks::merge::own_checkbox(&main_text, theirs, &req.id),
                        None => main_text.clone(),
                    };
                    if task_text.as_deref() != Some(text.as_str()) {
                        dropped += &match &task_text {
                            Some(theirs) => similar::TextDiff::from_lines(&text, theirs)
                                .unified_diff()
                                .context_radius(1)
                                .header("tasks.md (landed)", "tasks.md (task branch)")
                                .to_string(),
                            None => format!(
                                "{file} on {} is gone or not UTF-8 text; main's version is kept\n",
                                checked_branch(req)
                            ),
                        };
                    }
                    description = describe(&text, &req.id);
                    let updated = match tasks::edit::land(&text, &req.id, &result) {
                        Ok(updated) => updated,
                        Err(e) => {
                            warnings.push(format!("{file} was not updated: {e:#}"));
                            text
                        }
                    };
                    if updated != main_text {
                        tree = git::with_file(git, tree, file, &updated)?;
                    }
                    tasks_diff = unified(&main_text, &updated, file);
                }
                None => warnings
                    .push(format!("{file} on {} is not UTF-8 text, so it was not updated", req.main_branch)),
            }
        } else {
            if task_text.is_some() {
                dropped += &format!(
                    "{file} was added on {}, but {} does not track it: left out\n",
                    checked_branch(req),
                    req.main_branch
                );
            }
            // Not committed: tick the working copy once the task has landed.
            let path = repo.main_root.join(file);
            if let Ok(text) = fs::read_to_string(&path) {
                description = describe(&text, &req.id);
                if let Ok(updated) = tasks::edit::land(&text, &req.id, &result) {
                    tasks_diff = unified(&text, &updated, file);
                }
                worktree_tick = Some((file.clone(), result.clone()));
            }
        }
    }
    let mut message = landing_message(&req.id, description.as_deref(), &commits, strategy);
    let landing = if tested.tip == main {
        // Nothing to merge: a single commit that records the task.
        git::commit(git, tree, &[main], &message, sigs)?
    } else {
        match strategy {
            // The task's tip as it is, not main merged into it: one new commit.
            Strategy::Merge => git::commit(git, tree, &[main, tested.tip], &message, sigs)?,
            Strategy::Squash => git::commit(git, tree, &[main], &message, sigs)?,
            // Fast-forward to the task tip, then the tasks.md tick as its own commit.
            Strategy::Ff if tree == tested_tree => tested.tip,
            Strategy::Ff => git::commit(git, tree, &[tested.tip], &message, sigs)?,
            // The last replayed commit again, with the tick and the trailer.
            Strategy::Rebase => {
                let last =
                    git.find_commit(tested.tip).with_context(|| format!("reading commit {}", tested.tip))?;
                let parents: Vec<Oid> = last.parent_ids().collect();
                message = with_trailer(last.message_raw().unwrap_or(""), &req.id);
                let own =
                    git::Signatures { author: last.author().to_owned(), committer: sigs.committer.clone() };
                git::commit(git, tree, &parents, &message, &own)?
            }
        }
    };
    Ok(Built {
        landing,
        landing_info: Landing {
            task: req.id.clone(),
            commit: None,
            strategy,
            main_branch: req.main_branch.clone(),
            commits,
            files,
            message,
            tasks_diff,
            dropped,
            warnings,
            train: Vec::new(),
        },
        worktree_tick,
    })
}

/// The task branch, as named in messages about what the landing left out.
pub(super) fn checked_branch(req: &Request) -> String {
    format!("the branch of {}", req.id)
}

pub(super) fn describe(text: &str, id: &str) -> Option<String> {
    let file = tasks::parse::parse(text, &tasks::Options::default());
    file.get(id).map(|t| t.description.clone()).filter(|d| !d.is_empty())
}

/// `message` with the `Par-Task` trailer, in the trailer block git reads
/// (the last paragraph) when it already ends with one.
pub(super) fn with_trailer(message: &str, id: &str) -> String {
    let body = message.trim_end();
    let last = body.rsplit("\n\n").next().unwrap_or("");
    let is_trailers = body.contains("\n\n")
        && last.lines().all(|l| l.split_once(": ").is_some_and(|(k, _)| !k.is_empty() && !k.contains(' ')));
    let sep = if is_trailers { "\n" } else { "\n\n" };
    format!("{body}{sep}Par-Task: {id}\n")
}
