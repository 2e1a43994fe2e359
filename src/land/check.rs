//! Step 2 of a landing: the task's branch and worktree are there and clean,
//! main exists, and the worktree with main checked out can take the landing.

use std::path::{Path, PathBuf};

use anyhow::Result;
use git2::Oid;

use super::{active_task, Progress, Request};
use crate::error::Refusal;
use crate::repo::land::{self as git};
use crate::repo::Repo;
use crate::state::{ActiveTask, State, Store, TaskStatus};

// ---------------------------------------------------------------------------
// Steps 2–7.

/// What the checks of step 2 found.
pub(super) struct Checked {
    pub(super) task: ActiveTask,
    pub(super) prev_status: TaskStatus,
    pub(super) task_tip: Oid,
    /// The worktree that has the main branch checked out, if any.
    pub(super) main_worktree: Option<PathBuf>,
}

/// Step 2: the task's branch and worktree are there and clean (committing
/// first with `--commit`), main exists, and the worktree with main checked
/// out has no changes in the paths the task changes.
pub(super) fn check(
    repo: &Repo,
    store: &Store,
    state: &State,
    req: &Request,
    act: bool,
    progress: &dyn Fn(Progress<'_>),
) -> Result<Checked> {
    let id = &req.id;
    let task = active_task(repo, store, state, req)?.clone();
    if task.state == TaskStatus::Blocked {
        let why = task.blocked_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
        return Err(Refusal::failed(format!("{id} is blocked{why}"))
            .hint(format!("clear the blocker with `git par unblock {id}` first"))
            .into());
    }
    // A task left "finishing" with no journal was being finished by a process
    // that died before changing anything.
    let prev_status = if task.state == TaskStatus::Finishing { TaskStatus::Active } else { task.state };

    let main_ref = format!("refs/heads/{}", req.main_branch);
    let Some(main_tip) = git::ref_target(&repo.git, &main_ref)? else {
        return Err(Refusal::failed(format!("the main branch '{}' does not exist", req.main_branch))
            .hint(format!(
                "create it (`git branch {} <commit>`) or land elsewhere with `git config par.mainBranch BRANCH`",
                req.main_branch
            ))
            .into());
    };
    let branch_ref = format!("refs/heads/{}", task.branch);
    let Some(mut task_tip) = git::ref_target(&repo.git, &branch_ref)? else {
        return Err(Refusal::failed(format!("the branch {} of {id} is gone", task.branch))
            .hint(format!(
                "recreate it at the task's last commit (`git branch {} <commit>`, see `git reflog`), or drop the task with `git par abort {id}`",
                task.branch
            ))
            .into());
    };
    let wt = &task.worktree;
    if !wt.join(".git").exists() {
        if let Some(moved) = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &task.branch)? {
            return Err(moved_refusal(id, &moved, wt, &format!("git par finish {id}")).into());
        }
        return Err(Refusal::failed(format!("the worktree of {id} is missing: {}", wt.display()))
            .hint(format!(
                "recreate it with `git worktree prune && git worktree add {} {}`, or drop the task with `git par abort {id}`",
                wt.display(),
                task.branch
            ))
            .into());
    }
    match git::checked_out_branch(wt)? {
        Some(b) if b == task.branch => {}
        other => {
            let what = other.map(|b| format!("branch {b}")).unwrap_or_else(|| "a detached HEAD".to_string());
            return Err(Refusal::failed(format!(
                "the worktree of {id} ({}) has {what} checked out, not {}",
                wt.display(),
                task.branch
            ))
            .hint(format!("switch back with `git -C {} switch {}`", wt.display(), task.branch))
            .into());
        }
    }
    if let Some(op) = git::operation_in_progress(wt)? {
        return Err(Refusal::failed(format!(
            "a {op} is in progress in the worktree of {id} ({})",
            wt.display()
        ))
        .hint(format!(
            "finish it (`git -C {} commit`) or abort it, then run `git par finish {id}` again",
            wt.display()
        ))
        .into());
    }
    let dirty = git::uncommitted(wt, None)?;
    if !dirty.is_empty() {
        match (&req.commit, act) {
            (Some(message), true) => {
                let commit_yourself =
                    format!("commit them yourself in {}, then run `git par finish {id}` again", wt.display());
                let committed = git::commit_everything(wt, message).map_err(|e| {
                    Refusal::failed(format!("committing the changes of {id} failed: {e:#}"))
                        .hint(commit_yourself.clone())
                })?;
                if let git::Commit::Refused { output, by_hook } = committed {
                    progress(Progress::CommitRefused { output: &output });
                    let refusal = if by_hook {
                        Refusal::failed(format!("the pre-commit hook refused the commit of {id}'s changes")).hint(
                            format!(
                                "fix the files it names, or add them to the task with `git par lock {id} --add PATH`; \
                                 then run `git par finish {id} --commit \"MESSAGE\"` again"
                            ),
                        )
                    } else {
                        Refusal::failed(format!("git commit failed on the changes of {id}"))
                            .hint(commit_yourself)
                    };
                    return Err(refusal.hint("nothing was committed, and the index is as it was").into());
                }
                progress(Progress::Committed { files: dirty.len() });
                task_tip = git::ref_target(&repo.git, &branch_ref)?.unwrap_or(task_tip);
            }
            (Some(_), false) => {}
            (None, _) => {
                return Err(Refusal::failed(format!(
                    "the worktree of {id} has uncommitted changes:\n{}",
                    list_status(&dirty)
                ))
                .hint(format!("commit them, or let finish do it: `git par finish {id} --commit \"MESSAGE\"`"))
                .into());
            }
        }
    }

    refuse_operation_on_main(repo, req)?;
    let main_worktree = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &req.main_branch)?;
    if let Some(main_wt) = &main_worktree {
        let base = repo.git.merge_base(task_tip, main_tip).unwrap_or(main_tip);
        let mut checked = git::touched_paths(
            &repo.git,
            git::tree_of(&repo.git, base)?,
            git::tree_of(&repo.git, task_tip)?,
        )?;
        // The landing commit changes tasks.md when main tracks it; an
        // untracked one is ticked in place, so local edits to it are fine.
        if let Some(file) = req.tasks_file.as_ref().filter(|f| git::tracks(&repo.git, main_tip, f)) {
            checked.push(file.clone());
        }
        checked.sort();
        checked.dedup();
        check_main_worktree(main_wt, &checked, req)?;
    }
    Ok(Checked { task, prev_status, task_tip, main_worktree })
}

/// The refusal for a task whose worktree was moved (`git worktree move`)
/// from `expected` to `moved`: the way out is moving it back, then `again`.
pub fn moved_refusal(id: &str, moved: &Path, expected: &Path, again: &str) -> Refusal {
    let quote = |p: &Path| crate::workflow::shell_quote(&p.to_string_lossy());
    Refusal::failed(format!(
        "the worktree of {id} is not at {} but at {} (moved with `git worktree move`?)",
        expected.display(),
        moved.display()
    ))
    .hint(format!(
        "move it back where git-par keeps it: `git worktree move {} {}`, then run `{again}` again",
        quote(moved),
        quote(expected)
    ))
}

/// Refuses a landing while a rebase, merge, cherry-pick, revert, bisect or
/// `git am` is in progress on the main branch in any worktree: it would
/// move main, or leave its worktree half-way, under the landing.
pub(super) fn refuse_operation_on_main(repo: &Repo, req: &Request) -> Result<()> {
    let Some((dir, op)) = git::operation_on_branch(&repo.common_dir, &repo.main_root, &req.main_branch)?
    else {
        return Ok(());
    };
    let how = match op.as_str() {
        "bisect" => "end it with `git bisect reset`".to_string(),
        "conflict resolution" => "resolve the conflicts and commit, or `git reset --merge`".to_string(),
        op => format!("finish it (`{op} --continue`) or abort it (`{op} --abort`)", op = git_verb(op)),
    };
    Err(Refusal::failed(format!(
        "a {op} is in progress in the worktree of {} ({})",
        req.main_branch,
        dir.display()
    ))
    .hint(format!("{how} there, then run `git par finish {}` again", req.id))
    .hint(format!("nothing changed: {} is as it was", req.main_branch))
    .into())
}

/// The git command of an operation in progress (`rebase` → `git rebase`).
pub(super) fn git_verb(op: &str) -> String {
    if op.starts_with("git ") {
        op.to_string()
    } else {
        format!("git {op}")
    }
}

/// The refusal for what is in the way of updating a worktree (`whose`,
/// at `dir`) for `doing`: nothing is written through a symbolic link, and
/// nothing untracked is overwritten.
pub(super) fn in_the_way_refusal(
    whose: &str,
    dir: &Path,
    doing: &str,
    blocked: &[git::InTheWay],
    req: &Request,
    branch: &str,
) -> Refusal {
    let list: Vec<String> = blocked.iter().map(|b| format!("  {} ({})", b.path, b.what)).collect();
    let moves: Vec<String> = blocked
        .iter()
        .map(|b| {
            let path = dir.join(&b.path).display().to_string();
            format!(
                "mv {} {}",
                crate::workflow::shell_quote(&path),
                crate::workflow::shell_quote(&format!("{path}.aside"))
            )
        })
        .collect();
    Refusal::failed(format!(
        "the worktree of {whose} ({}) has untracked working tree files that {doing} would overwrite:\n{}",
        dir.display(),
        list.join("\n")
    ))
    .hint(format!(
        "move or remove them (`{}`), then run `git par finish {}` again",
        moves.join(" && "),
        req.id
    ))
    .hint(format!("nothing changed: {} and {branch} are as they were", req.main_branch))
}

pub(super) fn check_main_worktree(dir: &Path, paths: &[String], req: &Request) -> Result<()> {
    let dirty = git::uncommitted(dir, Some(paths))?;
    if dirty.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = dirty.iter().map(|(_, p)| p.as_str()).collect();
    Err(Refusal::failed(format!(
        "the worktree of {} ({}) has uncommitted changes in files {} would change:\n{}",
        req.main_branch,
        dir.display(),
        req.id,
        list_status(&dirty)
    ))
    .hint(format!(
        "commit or stash them (`git -C {} stash push --include-untracked -- {}`), then run `git par finish {}` again",
        dir.display(),
        names.join(" "),
        req.id
    ))
    .into())
}

pub(super) fn list_status(entries: &[(String, String)]) -> String {
    entries.iter().map(|(code, path)| format!("  {code} {path}")).collect::<Vec<_>>().join("\n")
}

/// Checks, holding the main worktree's index lock just before main moves,
/// that nothing in progress or in the way stops bringing the worktree from
/// `main_old` to `landing`: no rebase, merge, cherry-pick, revert, bisect
/// or `git am` on main anywhere; main still checked out where it was; no
/// local changes in the paths that change; nothing to write through.
pub(super) fn main_worktree_ready(
    repo: &Repo,
    req: &Request,
    checked: &Checked,
    main_old: Oid,
    landing: Oid,
    paths: &[String],
) -> Result<()> {
    refuse_operation_on_main(repo, req)?;
    let Some(wt) = &checked.main_worktree else { return Ok(()) };
    let now = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &req.main_branch)?;
    if now.as_deref() != Some(wt.as_path()) {
        return Err(Refusal::failed(format!(
            "{} was checked out in {} and no longer is",
            req.main_branch,
            wt.display()
        ))
        .hint(format!("run `git par finish {}` again", req.id))
        .into());
    }
    check_main_worktree(wt, paths, req)?;
    let (from, to) = (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, landing)?);
    let blocked = git::in_the_way(wt, from, to, paths)?;
    if !blocked.is_empty() {
        let doing = format!("{}'s landing", req.id);
        return Err(
            in_the_way_refusal(&req.main_branch, wt, &doing, &blocked, req, &checked.task.branch).into()
        );
    }
    Ok(())
}
