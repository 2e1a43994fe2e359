//! Commits and trees: writing a commit (no ref moves), reading and
//! rewriting a file in a tree, the paths two trees differ in, and the
//! commits of a branch. In-process, on libgit2.

use std::path::Path;

use anyhow::{Context as _, Result};
use git2::{Oid, Repository};

use super::identity::Signatures;
use super::Repo;

/// Writes a commit object (no ref moves).
pub fn commit(
    repo: &Repository,
    tree: Oid,
    parents: &[Oid],
    message: &str,
    sigs: &Signatures,
) -> Result<Oid> {
    let tree = repo.find_tree(tree).with_context(|| format!("reading tree {tree}"))?;
    let parents = parents
        .iter()
        .map(|p| repo.find_commit(*p).with_context(|| format!("reading commit {p}")))
        .collect::<Result<Vec<_>>>()?;
    let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(None, &sigs.author, &sigs.committer, message, &tree, &parent_refs).context("writing a commit")
}

/// The tree of a commit.
pub fn tree_of(repo: &Repository, commit: Oid) -> Result<Oid> {
    Ok(repo.find_commit(commit).with_context(|| format!("reading commit {commit}"))?.tree_id())
}

/// The text of `path` in `tree`; `None` when absent or not UTF-8.
pub fn read_text(repo: &Repository, tree: Oid, path: &str) -> Result<Option<String>> {
    let tree = repo.find_tree(tree).with_context(|| format!("reading tree {tree}"))?;
    let entry = match tree.get_path(Path::new(path)) {
        Ok(entry) => entry,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("looking up {path}")),
    };
    let Ok(blob) = repo.find_blob(entry.id()) else { return Ok(None) };
    Ok(String::from_utf8(blob.content().to_vec()).ok())
}

/// Whether `commit`'s tree has a file at `path`.
pub fn tracks(repo: &Repository, commit: Oid, path: &str) -> bool {
    repo.find_commit(commit).and_then(|c| c.tree()).is_ok_and(|t| t.get_path(Path::new(path)).is_ok())
}

/// `tree` with the file at `path` (which must exist) replaced by `text`, mode kept.
pub fn with_file(repo: &Repository, tree: Oid, path: &str, text: &str) -> Result<Oid> {
    let base = repo.find_tree(tree).with_context(|| format!("reading tree {tree}"))?;
    let mode = match base.get_path(Path::new(path)).map(|e| e.filemode()) {
        Ok(0o100755) => git2::FileMode::BlobExecutable,
        _ => git2::FileMode::Blob,
    };
    let blob = repo.blob(text.as_bytes()).with_context(|| format!("writing {path}"))?;
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert(path, blob, mode);
    update.create_updated(repo, &base).with_context(|| format!("writing a tree with the new {path}"))
}

/// Whether `tree` has an entry at `path`.
pub fn tree_has(repo: &Repository, tree: Oid, path: &str) -> bool {
    repo.find_tree(tree).is_ok_and(|t| t.get_path(Path::new(path)).is_ok())
}

/// `tree` with the entry at `path` made what it is in `from` (removed when
/// `from` has none there).
pub fn with_entry_of(repo: &Repository, tree: Oid, path: &str, from: Oid) -> Result<Oid> {
    let base = repo.find_tree(tree).with_context(|| format!("reading tree {tree}"))?;
    let source = repo.find_tree(from).with_context(|| format!("reading tree {from}"))?;
    let mut update = git2::build::TreeUpdateBuilder::new();
    match source.get_path(Path::new(path)) {
        Ok(entry) => {
            let mode = match entry.filemode() {
                0o100755 => git2::FileMode::BlobExecutable,
                0o120000 => git2::FileMode::Link,
                0o160000 => git2::FileMode::Commit,
                0o040000 => git2::FileMode::Tree,
                _ => git2::FileMode::Blob,
            };
            update.upsert(path, entry.id(), mode);
        }
        Err(_) if base.get_path(Path::new(path)).is_err() => return Ok(tree),
        Err(_) => {
            update.remove(path);
        }
    }
    update.create_updated(repo, &base).with_context(|| format!("writing a tree with {path} as in {from}"))
}

/// One changed path between two trees.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `A`dded, `M`odified, `D`eleted, `R`enamed, `T`ype changed.
    pub status: char,
    pub path: String,
    /// The old path of a rename.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// The paths that differ between two trees; with `renames`, a rename is one change.
pub fn changes(repo: &Repository, old: Oid, new: Oid, renames: bool) -> Result<Vec<Change>> {
    if old == new {
        return Ok(Vec::new());
    }
    let old_tree = repo.find_tree(old).with_context(|| format!("reading tree {old}"))?;
    let new_tree = repo.find_tree(new).with_context(|| format!("reading tree {new}"))?;
    let mut diff = repo
        .diff_tree_to_tree(Some(&old_tree), Some(&new_tree), None)
        .with_context(|| format!("comparing trees {old} and {new}"))?;
    if renames {
        diff.find_similar(Some(git2::DiffFindOptions::new().renames(true))).context("finding renames")?;
    }
    let path = |f: git2::DiffFile<'_>| f.path().map(|p| p.to_string_lossy().replace('\\', "/"));
    let mut out = Vec::new();
    for delta in diff.deltas() {
        let (old_path, new_path) = (path(delta.old_file()), path(delta.new_file()));
        let (status, path, from) = match delta.status() {
            git2::Delta::Added => ('A', new_path, None),
            git2::Delta::Deleted => ('D', old_path, None),
            git2::Delta::Renamed => ('R', new_path, old_path),
            git2::Delta::Typechange => ('T', new_path, None),
            _ => ('M', new_path, None),
        };
        if let Some(path) = path {
            out.push(Change { status, path, from });
        }
    }
    Ok(out)
}

/// Every path two trees differ in (both sides of a rename), sorted.
pub fn touched_paths(repo: &Repository, old: Oid, new: Oid) -> Result<Vec<String>> {
    let mut paths: Vec<String> = changes(repo, old, new, false)?
        .into_iter()
        .flat_map(|c| c.from.into_iter().chain([c.path]))
        .collect();
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// The task's own commits (`tip` not reachable from `hide`), oldest first,
/// merges left out: `(short hash, subject)`.
pub fn task_commits(repo: &Repository, tip: Oid, hide: Oid) -> Result<Vec<(String, String)>> {
    let mut walk = repo.revwalk().context("walking history")?;
    walk.push(tip).with_context(|| format!("walking from {tip}"))?;
    walk.hide(hide).with_context(|| format!("walking from {tip}"))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE).context("walking history")?;
    let mut out = Vec::new();
    for id in walk {
        let id = id.context("walking history")?;
        let commit = repo.find_commit(id).with_context(|| format!("reading commit {id}"))?;
        if commit.parent_count() > 1 {
            continue;
        }
        out.push((short(id), commit.summary().unwrap_or("").to_string()));
    }
    Ok(out)
}

/// The 7-character abbreviation of a commit id.
pub fn short(id: Oid) -> String {
    let mut s = id.to_string();
    s.truncate(7);
    s
}

/// A commit, shortly.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommitSummary {
    /// Abbreviated to 7 hex digits.
    pub short: String,
    pub subject: String,
}

impl std::fmt::Display for CommitSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.short, self.subject)
    }
}

impl Repo {
    /// The commits reachable from `tip` but from none of `landed` (e.g. the
    /// main branch tip and the task's base), newest first.
    pub fn commits_not_in(&self, tip: git2::Oid, landed: &[git2::Oid]) -> Result<Vec<CommitSummary>> {
        let mut walk = self.git.revwalk().context("walking history")?;
        walk.push(tip).with_context(|| format!("walking history from {tip}"))?;
        for oid in landed {
            // A base that no longer exists hides nothing; the others still count.
            let _ = walk.hide(*oid);
        }
        let mut commits = Vec::new();
        for oid in walk {
            let oid = oid.context("walking history")?;
            let commit = self.git.find_commit(oid).with_context(|| format!("reading commit {oid}"))?;
            commits.push(CommitSummary {
                short: oid.to_string()[..7].to_string(),
                subject: commit.summary().unwrap_or("").to_string(),
            });
        }
        Ok(commits)
    }
}
