//! Main merged into a task branch in memory, as `git merge` would, naming
//! each conflict in git's words. A file whose merge the caller resolved
//! itself (tasks.md, which git-par owns) is given as text.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context as _, Result};
use git2::{Oid, Repository};

use super::objects::{read_text, tree_of};

/// A file that conflicts when main is merged into a task branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub path: String,
    /// How it conflicts, in git's words ("both modified", "deleted on main", ...).
    pub kind: String,
}

/// What merging main into the task branch gives.
pub enum Integration {
    /// The merged tree.
    Clean { tree: Oid },
    /// Files that need a human; a file the caller merges itself is never among them.
    Conflicts(Vec<Conflict>),
}

/// A file whose merge the caller makes itself when both sides changed it:
/// its path, and what turns (base, main, task) texts into the merged text.
pub struct OwnMerge<'a> {
    pub path: &'a str,
    pub merge: &'a mut dyn FnMut(&str, &str, &str) -> String,
}

/// Merges `main` into `task` in memory (rename detection on), the file of
/// `own` merged by its function. Writes blobs and trees, nothing else.
pub fn merge_into_task(
    repo: &Repository,
    task: Oid,
    main: Oid,
    own: Option<OwnMerge<'_>>,
) -> Result<Integration> {
    let ours = repo.find_commit(task).with_context(|| format!("reading commit {task}"))?;
    let theirs = repo.find_commit(main).with_context(|| format!("reading commit {main}"))?;
    let mut opts = git2::MergeOptions::new();
    opts.find_renames(true).fail_on_conflict(false);
    let mut index = repo
        .merge_commits(&ours, &theirs, Some(&opts))
        .with_context(|| format!("merging {main} into {task}"))?;

    if let Some(OwnMerge { path, merge }) = own {
        let base = repo
            .merge_base(task, main)
            .with_context(|| format!("finding the merge base of {task} and {main}"))?;
        let text = |commit: Oid| -> Result<Option<String>> { read_text(repo, tree_of(repo, commit)?, path) };
        if let (Some(base_text), Some(main_text), Some(task_text)) = (text(base)?, text(main)?, text(task)?) {
            if base_text != main_text && base_text != task_text {
                set_index_text(repo, &mut index, path, &merge(&base_text, &main_text, &task_text))?;
            }
        }
    }

    if index.has_conflicts() {
        return Ok(Integration::Conflicts(conflicts(repo, &index)?));
    }
    let tree = index.write_tree_to(repo).context("writing the merged tree")?;
    Ok(Integration::Clean { tree })
}

fn set_index_text(repo: &Repository, index: &mut git2::Index, path: &str, text: &str) -> Result<()> {
    let blob = repo.blob(text.as_bytes()).with_context(|| format!("writing {path}"))?;
    let mut entry = match index.get_path(Path::new(path), 0) {
        Some(entry) => entry,
        None => {
            let conflict =
                index.conflicts().context("reading merge conflicts")?.filter_map(|c| c.ok()).find_map(|c| {
                    [c.our, c.their, c.ancestor].into_iter().flatten().find(|e| e.path == path.as_bytes())
                });
            match conflict {
                Some(entry) => entry,
                None => return Ok(()),
            }
        }
    };
    let _ = index.conflict_remove(Path::new(path));
    entry.id = blob;
    entry.flags &= !0x3000; // stage 0
    entry.file_size = text.len() as u32;
    index.add(&entry).with_context(|| format!("resolving {path}"))
}

fn conflicts(repo: &Repository, index: &git2::Index) -> Result<Vec<Conflict>> {
    let mut out = BTreeSet::new();
    for conflict in index.conflicts().context("reading merge conflicts")? {
        let c = conflict.context("reading a merge conflict")?;
        let path_of =
            |e: &Option<git2::IndexEntry>| e.as_ref().map(|e| String::from_utf8_lossy(&e.path).into_owned());
        let (base, ours, theirs) = (path_of(&c.ancestor), path_of(&c.our), path_of(&c.their));
        let binary = [&c.ancestor, &c.our, &c.their]
            .into_iter()
            .flatten()
            .any(|e| repo.find_blob(e.id).is_ok_and(|b| b.is_binary()));
        let mut kind = match (&base, &ours, &theirs) {
            (Some(_), Some(_), Some(_)) => "both modified".to_string(),
            (None, Some(_), Some(_)) => "both added".to_string(),
            (Some(_), Some(_), None) => "deleted on main, changed by the task".to_string(),
            (Some(_), None, Some(_)) => "deleted by the task, changed on main".to_string(),
            // A rename/rename: libgit2 reports the old name and each new one separately.
            (Some(_), None, None) => "renamed differently by the task and on main".to_string(),
            (None, Some(_), None) => "the task's new name for a file main renamed too".to_string(),
            (None, None, Some(_)) => "main's new name for a file the task renamed too".to_string(),
            (None, None, None) => "conflict".to_string(),
        };
        if let (Some(o), Some(t)) = (&ours, &theirs) {
            if o != t {
                kind = format!("renamed differently: {o} (task) / {t} (main)");
            }
        } else if let (Some(b), Some(o), None) = (&base, &ours, &theirs) {
            if b != o {
                kind = format!("renamed to {o} by the task, deleted on main");
            }
        } else if let (Some(b), None, Some(t)) = (&base, &ours, &theirs) {
            if b != t {
                kind = format!("renamed to {t} on main, deleted by the task");
            }
        }
        if binary {
            kind.push_str(" (binary)");
        }
        let path = ours.or(theirs).or(base).unwrap_or_default();
        out.insert((path, kind));
    }
    Ok(out.into_iter().map(|(path, kind)| Conflict { path, kind }).collect())
}

/// What replaying a task's commits onto main gives.
pub enum Replay {
    /// The last replayed commit: `main` itself when nothing was left to replay.
    Clean { tip: Oid },
    /// The commit that does not apply on top of main, and its conflicts.
    Conflicts { commit: Oid, files: Vec<Conflict> },
}

/// Replays the commits of `task` that `main` lacks onto `main`, oldest
/// first, as `git rebase` does: merge commits are left out, a commit that
/// becomes empty is dropped, each keeps its author and message, and
/// `committer` commits them. The file `keep` (tasks.md, which git-par owns)
/// keeps main's version throughout. Writes blobs, trees and commits, no refs.
pub fn replay(
    repo: &Repository,
    task: Oid,
    main: Oid,
    keep: Option<&str>,
    committer: &git2::Signature<'_>,
) -> Result<Replay> {
    let mut walk = repo.revwalk().context("walking history")?;
    walk.push(task).with_context(|| format!("walking from {task}"))?;
    walk.hide(main).with_context(|| format!("walking from {task}"))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE).context("walking history")?;
    let ids = walk.collect::<Result<Vec<_>, _>>().context("walking history")?;
    let main_tree = repo.find_commit(main).with_context(|| format!("reading commit {main}"))?.tree_id();
    let kept = match keep {
        Some(path) => repo
            .find_tree(main_tree)
            .with_context(|| format!("reading tree {main_tree}"))?
            .get_path(Path::new(path))
            .ok()
            .map(|e| (e.id(), e.filemode())),
        None => None,
    };
    let mut onto = repo.find_commit(main).with_context(|| format!("reading commit {main}"))?;
    let mut opts = git2::MergeOptions::new();
    opts.find_renames(true).fail_on_conflict(false);
    for id in ids {
        let commit = repo.find_commit(id).with_context(|| format!("reading commit {id}"))?;
        if commit.parent_count() > 1 {
            continue;
        }
        let mut index = repo
            .cherrypick_commit(&commit, &onto, 0, Some(&opts))
            .with_context(|| format!("replaying {id} onto {}", onto.id()))?;
        if let Some(path) = keep {
            keep_entry(&mut index, path, kept)?;
        }
        if index.has_conflicts() {
            return Ok(Replay::Conflicts { commit: id, files: conflicts(repo, &index)? });
        }
        let tree = index.write_tree_to(repo).context("writing a replayed tree")?;
        if tree == onto.tree_id() {
            continue;
        }
        let tree = repo.find_tree(tree).with_context(|| format!("reading tree {tree}"))?;
        let message = commit.message_raw().unwrap_or("");
        let new = repo
            .commit(None, &commit.author(), committer, message, &tree, &[&onto])
            .with_context(|| format!("writing the replay of {id}"))?;
        onto = repo.find_commit(new).with_context(|| format!("reading commit {new}"))?;
    }
    Ok(Replay::Clean { tip: onto.id() })
}

/// Sets `path` in `index` to `entry` (id and mode), or removes it when
/// `None`, dropping any conflict on it.
fn keep_entry(index: &mut git2::Index, path: &str, entry: Option<(Oid, i32)>) -> Result<()> {
    let _ = index.conflict_remove(Path::new(path));
    let _ = index.remove_path(Path::new(path));
    let Some((id, mode)) = entry else { return Ok(()) };
    let entry = git2::IndexEntry {
        ctime: git2::IndexTime::new(0, 0),
        mtime: git2::IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: mode as u32,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: 0,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    };
    index.add(&entry).with_context(|| format!("keeping main's {path}"))
}
