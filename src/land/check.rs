//! Step 2 of a landing: the task's branch and worktree are there and clean,
//! main exists, and the worktree with main checked out can take the landing.

use std::path::{Path, PathBuf};

use anyhow::Result;
use git2::Oid;

use super::error::LandError;
use super::{active_task, Progress, Request};
use crate::repo::Repo;
use crate::repo::{self as git};
use crate::state::{ActiveTask, State, TaskStatus};
use crate::workspace::Workspace;

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
    ws: &Workspace,
    state: &State,
    req: &Request,
    act: bool,
    progress: &dyn Fn(Progress<'_>),
) -> Result<Checked> {
    let repo = &ws.repo;
    let id = &req.id;
    let task = active_task(ws, state, req)?.clone();
    if task.state == TaskStatus::Blocked {
        return Err(LandError::Blocked { id: id.clone(), reason: task.blocked_reason.clone() }.into());
    }
    // A task left "finishing" with no journal was being finished by a process
    // that died before changing anything.
    let prev_status = if task.state == TaskStatus::Finishing { TaskStatus::Active } else { task.state };

    let main_ref = format!("refs/heads/{}", req.main_branch);
    let Some(main_tip) = git::ref_target(&repo.git, &main_ref)? else {
        return Err(LandError::NoMain { main: req.main_branch.clone() }.into());
    };
    let branch_ref = format!("refs/heads/{}", task.branch);
    let Some(mut task_tip) = git::ref_target(&repo.git, &branch_ref)? else {
        return Err(LandError::BranchGone { id: id.clone(), branch: task.branch.clone() }.into());
    };
    let wt = &task.worktree;
    if !wt.join(".git").exists() {
        if let Some(moved) = git::worktree_of_branch(&repo.common_dir, &repo.main_root, &task.branch)? {
            return Err(LandError::Moved { id: id.clone(), moved, expected: wt.clone() }.into());
        }
        let (id, worktree, branch) = (id.clone(), wt.clone(), task.branch.clone());
        return Err(LandError::WorktreeMissing { id, worktree, branch }.into());
    }
    match git::checked_out_branch(wt)? {
        Some(b) if b == task.branch => {}
        found => {
            let (id, worktree, branch) = (id.clone(), wt.clone(), task.branch.clone());
            return Err(LandError::WrongBranch { id, worktree, found, branch }.into());
        }
    }
    if let Some(op) = git::operation_in_progress(wt)? {
        return Err(LandError::OperationInTask { id: id.clone(), op, worktree: wt.clone() }.into());
    }
    let dirty = git::uncommitted(wt, None)?;
    if !dirty.is_empty() {
        match (&req.commit, act) {
            (Some(message), true) => {
                let committed = git::commit_everything(wt, message).map_err(|e| LandError::CommitFailed {
                    id: id.clone(),
                    worktree: wt.clone(),
                    reason: format!("{e:#}"),
                })?;
                if let git::Commit::Refused { output, by_hook } = committed {
                    progress(Progress::CommitRefused { output: &output });
                    return Err(
                        LandError::CommitRefused { id: id.clone(), worktree: wt.clone(), by_hook }.into()
                    );
                }
                progress(Progress::Committed { files: dirty.len() });
                task_tip = git::ref_target(&repo.git, &branch_ref)?.unwrap_or(task_tip);
            }
            (Some(_), false) => {}
            (None, _) => {
                return Err(LandError::Dirty { id: id.clone(), status: dirty }.into());
            }
        }
    }

    if !req.keep {
        let paths = ignored_work(repo, &task, task_tip)?;
        if !paths.is_empty() {
            return Err(LandError::IgnoredWork { id: id.clone(), worktree: wt.clone(), paths }.into());
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

/// Refuses a landing while a rebase, merge, cherry-pick, revert, bisect or
/// `git am` is in progress on the main branch in any worktree: it would
/// move main, or leave its worktree half-way, under the landing.
pub(super) fn refuse_operation_on_main(repo: &Repo, req: &Request) -> Result<()> {
    let Some((dir, op)) = git::operation_on_branch(&repo.common_dir, &repo.main_root, &req.main_branch)?
    else {
        return Ok(());
    };
    Err(LandError::OperationOnMain { id: req.id.clone(), main: req.main_branch.clone(), op, dir }.into())
}

/// The refusal for what is in the way of updating a worktree (`whose`,
/// at `dir`) for `doing`: nothing is written through a symbolic link, and
/// nothing untracked is overwritten.
pub(super) fn in_the_way(
    whose: &str,
    dir: &Path,
    doing: String,
    blocked: Vec<git::InTheWay>,
    req: &Request,
    branch: &str,
) -> LandError {
    LandError::InTheWay {
        id: req.id.clone(),
        main: req.main_branch.clone(),
        branch: branch.to_string(),
        whose: whose.to_string(),
        dir: dir.to_path_buf(),
        doing,
        blocked,
    }
}

pub(super) fn check_main_worktree(dir: &Path, paths: &[String], req: &Request) -> Result<()> {
    let dirty = git::uncommitted(dir, Some(paths))?;
    if dirty.is_empty() {
        return Ok(());
    }
    let (id, main) = (req.id.clone(), req.main_branch.clone());
    Err(LandError::MainDirty { id, main, dir: dir.to_path_buf(), status: dirty }.into())
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
        let (id, main) = (req.id.clone(), req.main_branch.clone());
        return Err(LandError::NotCheckedOut { id, main, worktree: wt.clone() }.into());
    }
    check_main_worktree(wt, paths, req)?;
    let (from, to) = (git::tree_of(&repo.git, main_old)?, git::tree_of(&repo.git, landing)?);
    let blocked = git::in_the_way(wt, from, to, paths)?;
    if !blocked.is_empty() {
        let doing = format!("{}'s landing", req.id);
        return Err(in_the_way(&req.main_branch, wt, doing, blocked, req, &checked.task.branch).into());
    }
    Ok(())
}

/// The files the task declares (its file locks, not directories or
/// patterns) that are in its worktree but in none of its commits, so git
/// ignores them (the check for uncommitted changes saw the rest), and that
/// the main worktree does not have as they are (preparation copies such
/// files, `.env` for one, into a new worktree: a copy left unchanged loses
/// nothing). Removing the worktree at the landing would lose them.
fn ignored_work(repo: &Repo, task: &ActiveTask, tip: Oid) -> Result<Vec<String>> {
    let tree = git::tree_of(&repo.git, tip)?;
    let mut lost = Vec::new();
    for lock in &task.locks {
        if crate::locks::is_glob(lock) || lock.ends_with('/') || git::tree_has(&repo.git, tree, lock) {
            continue;
        }
        let file = task.worktree.join(lock);
        if !file.symlink_metadata().is_ok_and(|m| m.is_file()) {
            continue;
        }
        if !same_file_contents(&file, &repo.main_root.join(lock)) {
            lost.push(lock.clone());
        }
    }
    Ok(lost)
}

/// Whether the two files have the same bytes (false when either cannot be
/// read), without reading a big file whole.
fn same_file_contents(a: &Path, b: &Path) -> bool {
    use std::io::Read as _;
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else { return false };
    if ma.len() != mb.len() || !mb.is_file() {
        return false;
    }
    let (Ok(fa), Ok(fb)) = (std::fs::File::open(a), std::fs::File::open(b)) else { return false };
    let (mut ra, mut rb) = (std::io::BufReader::new(fa), std::io::BufReader::new(fb));
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let Ok(n) = ra.read(&mut ba) else { return false };
        if n == 0 {
            return rb.read(&mut bb[..1]).is_ok_and(|m| m == 0);
        }
        if rb.read_exact(&mut bb[..n]).is_err() || ba[..n] != bb[..n] {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same_file_contents;

    #[test]
    fn files_are_compared_to_the_last_byte_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let mut big = vec![7u8; 200 * 1024 + 3];
        std::fs::write(&a, &big).unwrap();
        std::fs::write(&b, &big).unwrap();
        assert!(same_file_contents(&a, &b));
        *big.last_mut().unwrap() = 8;
        std::fs::write(&b, &big).unwrap();
        assert!(!same_file_contents(&a, &b));
        std::fs::write(&b, &big[..big.len() - 1]).unwrap();
        assert!(!same_file_contents(&a, &b));
        assert!(!same_file_contents(&a, &dir.path().join("missing")));
        assert!(!same_file_contents(&a, dir.path()));
    }
}
