//! The git side of landing: in-memory merges, landing commits, the
//! compare-and-swap of a branch, and worktree updates limited to the paths
//! that changed.
//!
//! Everything runs in-process on libgit2 except `--commit` (the user's `git
//! commit`, so their hooks run) and identity fallback (`git var`).

use std::collections::BTreeSet;
use std::ffi::CString;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use git2::{Oid, Repository, Signature};

pub use super::index_lock::IndexLock;
use crate::tasks;

/// Who a commit is by: the user's identity as git would take it.
pub struct Signatures {
    pub author: Signature<'static>,
    pub committer: Signature<'static>,
}

/// The author and committer git would use in `repo`: `GIT_{AUTHOR,COMMITTER}_{NAME,EMAIL,DATE}`,
/// then `{author,committer,user}.{name,email}`; anything else is asked of `git var`.
pub fn signatures(repo: &Repository) -> Result<Signatures> {
    let config = repo.config().and_then(|mut c| c.snapshot()).context("reading git config")?;
    let author = identity(repo, &config, "AUTHOR")?;
    let committer = identity(repo, &config, "COMMITTER")?;
    Ok(Signatures { author, committer })
}

fn identity(repo: &Repository, config: &git2::Config, who: &str) -> Result<Signature<'static>> {
    let env = |key: &str| std::env::var(format!("GIT_{who}_{key}")).ok();
    let conf = |key: &str| {
        config
            .get_string(&format!("{}.{key}", who.to_ascii_lowercase()))
            .ok()
            .or_else(|| config.get_string(&format!("user.{key}")).ok())
    };
    let name = env("NAME").or_else(|| conf("name"));
    let email = env("EMAIL").or_else(|| conf("email")).or_else(|| std::env::var("EMAIL").ok());
    // None: a date git understands and this parser does not.
    let date: Option<Option<(i64, i32)>> = match env("DATE") {
        Some(text) => parse_date(&text).map(Some),
        None => Some(None),
    };
    if let (Some(name), Some(email), Some(date)) = (name, email, date) {
        let sig = match date {
            Some((secs, offset)) => Signature::new(&name, &email, &git2::Time::new(secs, offset)),
            None => Signature::now(&name, &email),
        };
        return sig.with_context(|| {
            format!("building the {} identity '{name} <{email}>'", who.to_ascii_lowercase())
        });
    }
    // Let git decide (and explain when it cannot: "Please tell me who you are").
    let dir = repo.workdir().unwrap_or_else(|| repo.path());
    let line = super::git_cli(dir, &["var", &format!("GIT_{who}_IDENT")])?;
    parse_ident(line.trim()).with_context(|| format!("reading `git var GIT_{who}_IDENT`: {}", line.trim()))
}

fn parse_ident(line: &str) -> Result<Signature<'static>> {
    let (name, rest) = line.split_once(" <").context("no email")?;
    let (email, rest) = rest.split_once('>').context("no email")?;
    let (secs, offset) = parse_date(rest.trim()).context("no date")?;
    Ok(Signature::new(name, email, &git2::Time::new(secs, offset))?)
}

/// Parses the date formats a `GIT_*_DATE` usually holds: `[@]SECS [+ZZZZ]`
/// and ISO 8601 (`2026-01-01T00:00:00Z`, `2026-01-01 10:00:00 +0200`), as
/// (seconds since the epoch, offset in minutes).
fn parse_date(text: &str) -> Option<(i64, i32)> {
    let text = text.trim();
    let raw = text.strip_prefix('@').unwrap_or(text);
    let mut parts = raw.split_whitespace();
    if let Some(secs) = parts.next().and_then(|s| s.parse::<i64>().ok()) {
        let offset = match parts.next() {
            Some(tz) => parse_offset(tz)?,
            None => 0,
        };
        return parts.next().is_none().then_some((secs, offset));
    }
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { text.get(r)?.parse().ok() };
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' {
        return None;
    }
    let (y, mo, d, h, mi) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?);
    let mut rest = &text[16..];
    let mut s = 0;
    if let Some(r) = rest.strip_prefix(':') {
        s = r.get(..2)?.parse().ok()?;
        rest = &r[2..];
    }
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let rest = rest.trim();
    let offset = if rest.is_empty() || rest == "Z" { 0 } else { parse_offset(rest)? };
    let days = days_from_civil(y, mo, d);
    let local = days * 86_400 + h * 3600 + mi * 60 + s;
    Some((local - i64::from(offset) * 60, offset))
}

fn parse_offset(tz: &str) -> Option<i32> {
    let (sign, digits) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    Some(sign * (hours * 60 + minutes))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

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

/// A file that conflicts when main is merged into a task branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub path: String,
    /// How it conflicts, in git's words ("both modified", "deleted on main", ...).
    pub kind: String,
}

/// What merging main into the task branch gives.
pub enum Integration {
    /// The merged tree; `tasks` is set when both sides edited tasks.md and
    /// [`tasks::merge`] merged it.
    Clean { tree: Oid, tasks: Option<tasks::merge::Merged> },
    /// Files that need a human; tasks.md is never among them.
    Conflicts(Vec<Conflict>),
}

/// Merges `main` into `task` in memory (rename detection on), resolving
/// tasks.md with [`tasks::merge::merge`]. Writes blobs and trees, nothing else.
pub fn merge_into_task(
    repo: &Repository,
    task: Oid,
    main: Oid,
    tasks_file: Option<&str>,
) -> Result<Integration> {
    let ours = repo.find_commit(task).with_context(|| format!("reading commit {task}"))?;
    let theirs = repo.find_commit(main).with_context(|| format!("reading commit {main}"))?;
    let mut opts = git2::MergeOptions::new();
    opts.find_renames(true).fail_on_conflict(false);
    let mut index = repo
        .merge_commits(&ours, &theirs, Some(&opts))
        .with_context(|| format!("merging {main} into {task}"))?;

    let mut merged_tasks = None;
    if let Some(file) = tasks_file {
        let base = repo
            .merge_base(task, main)
            .with_context(|| format!("finding the merge base of {task} and {main}"))?;
        let text = |commit: Oid| -> Result<Option<String>> { read_text(repo, tree_of(repo, commit)?, file) };
        if let (Some(base_text), Some(main_text), Some(task_text)) = (text(base)?, text(main)?, text(task)?) {
            if base_text != main_text && base_text != task_text {
                let merged = tasks::merge::merge(&base_text, &main_text, &task_text);
                set_index_text(repo, &mut index, file, &merged.text)?;
                merged_tasks = Some(merged);
            }
        }
    }

    if index.has_conflicts() {
        return Ok(Integration::Conflicts(conflicts(repo, &index)?));
    }
    let tree = index.write_tree_to(repo).context("writing the merged tree")?;
    Ok(Integration::Clean { tree, tasks: merged_tasks })
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

/// Uncommitted changes in the worktree at `dir` (staged, unstaged, untracked
/// files; not ignored ones), limited to `only` when given. Returns
/// `(short status, path)` pairs.
pub fn uncommitted(dir: &Path, only: Option<&[String]>) -> Result<Vec<(String, String)>> {
    if only.is_some_and(|paths| paths.is_empty()) {
        return Ok(Vec::new());
    }
    let repo = Repository::open(dir).with_context(|| format!("opening the worktree {}", dir.display()))?;
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true).include_ignored(false).exclude_submodules(true);
    if let Some(paths) = only {
        for path in paths {
            opts.pathspec(path);
        }
        opts.disable_pathspec_match(true);
    }
    let statuses =
        repo.statuses(Some(&mut opts)).with_context(|| format!("reading the status of {}", dir.display()))?;
    let mut out = Vec::new();
    for entry in statuses.iter() {
        let s = entry.status();
        if s.is_empty() || s == git2::Status::IGNORED {
            continue;
        }
        let code = if s.is_conflicted() {
            "UU"
        } else if s.is_wt_new() && !s.intersects(index_bits()) {
            "??"
        } else if s.intersects(index_bits()) && s.intersects(worktree_bits()) {
            "MM"
        } else if s.intersects(index_bits()) {
            "M "
        } else {
            " M"
        };
        let path = String::from_utf8_lossy(entry.path_bytes()).into_owned();
        out.push((code.to_string(), path));
    }
    Ok(out)
}

fn index_bits() -> git2::Status {
    git2::Status::INDEX_NEW
        | git2::Status::INDEX_MODIFIED
        | git2::Status::INDEX_DELETED
        | git2::Status::INDEX_RENAMED
        | git2::Status::INDEX_TYPECHANGE
}

fn worktree_bits() -> git2::Status {
    git2::Status::WT_MODIFIED
        | git2::Status::WT_DELETED
        | git2::Status::WT_RENAMED
        | git2::Status::WT_TYPECHANGE
}

/// A merge, rebase or similar in progress in the worktree at `dir`, or
/// unresolved conflicts in its index (which stop any checkout there).
pub fn operation_in_progress(dir: &Path) -> Result<Option<String>> {
    let repo = Repository::open(dir).with_context(|| format!("opening the worktree {}", dir.display()))?;
    use git2::RepositoryState as S;
    let op = match repo.state() {
        S::Clean => None,
        S::Merge => Some("merge"),
        S::Revert | S::RevertSequence => Some("revert"),
        S::CherryPick | S::CherryPickSequence => Some("cherry-pick"),
        S::Bisect => Some("bisect"),
        S::Rebase | S::RebaseInteractive | S::RebaseMerge => Some("rebase"),
        S::ApplyMailbox | S::ApplyMailboxOrRebase => Some("git am"),
    };
    if let Some(op) = op {
        return Ok(Some(op.to_string()));
    }
    let index = repo.index().with_context(|| format!("reading the index of {}", dir.display()))?;
    Ok(index.has_conflicts().then(|| "conflict resolution".to_string()))
}

/// A rebase, merge, cherry-pick, revert, bisect or `git am` in progress on
/// `branch` in any worktree of the repository: the worktree and the
/// operation. A rebase or a bisect detaches HEAD while it runs, so it is
/// found by the branch it started from (`rebase-*/head-name`, `BISECT_START`),
/// not by HEAD.
pub fn operation_on_branch(
    common_dir: &Path,
    main_root: &Path,
    branch: &str,
) -> Result<Option<(PathBuf, String)>> {
    let full = format!("refs/heads/{branch}");
    let mut worktrees = vec![(common_dir.to_path_buf(), main_root.to_path_buf())];
    let dir = common_dir.join("worktrees");
    match fs::read_dir(&dir) {
        Ok(entries) => {
            for entry in entries {
                let admin = entry.with_context(|| format!("reading {}", dir.display()))?.path();
                let gitdir = fs::read_to_string(admin.join("gitdir")).unwrap_or_default();
                if let Some(top) = admin.join(gitdir.trim()).parent() {
                    worktrees.push((admin.clone(), top.to_path_buf()));
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    }
    let read = |path: PathBuf| fs::read_to_string(path).map(|t| t.trim().to_string()).unwrap_or_default();
    for (admin, top) in worktrees {
        if ["rebase-merge", "rebase-apply"].iter().any(|d| read(admin.join(d).join("head-name")) == full) {
            let am = admin.join("rebase-apply").join("applying").exists();
            return Ok(Some((top, if am { "git am" } else { "rebase" }.to_string())));
        }
        let bisect = read(admin.join("BISECT_START"));
        if bisect == branch || bisect == full {
            return Ok(Some((top, "bisect".to_string())));
        }
        if read(admin.join("HEAD")) == format!("ref: {full}") && top.join(".git").exists() {
            if let Some(op) = operation_in_progress(&top)? {
                return Ok(Some((top, op)));
            }
        }
    }
    Ok(None)
}

/// Something in a worktree that a checkout would have to write through or
/// over: git refuses such a checkout ("untracked working tree files would
/// be overwritten"), and so does git-par.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InTheWay {
    /// Repository-relative path of the thing in the way.
    pub path: String,
    /// What it is, in words.
    pub what: &'static str,
}

/// The paths in the way of a checkout (see [`in_the_way`]); the error
/// [`checkout`] fails with when it finds some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked(pub Vec<InTheWay>);

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.0.iter().map(|b| format!("{} ({})", b.path, b.what)).collect();
        write!(f, "untracked working tree files would be overwritten: {}", list.join(", "))
    }
}

impl std::error::Error for Blocked {}

const SYMLINK: &str = "a symbolic link; git-par never writes through one";
const FILE_FOR_DIR: &str = "a file where a directory goes";

/// What in the worktree at `workdir` would make moving `paths` from tree
/// `from` to tree `to` write outside the worktree or over something that is
/// not tracked: a symbolic link among a path's leading directories, or at
/// the path itself, that is not the tracked link of `from` or `to`; an
/// untracked file where a directory goes. A tracked link that the move
/// replaces by a directory is not in the way: it is removed, not followed.
pub fn in_the_way(workdir: &Path, from: Oid, to: Oid, paths: &[String]) -> Result<Vec<InTheWay>> {
    let repo =
        Repository::open(workdir).with_context(|| format!("opening the worktree {}", workdir.display()))?;
    let from_tree = repo.find_tree(from).with_context(|| format!("reading tree {from}"))?;
    let to_tree = repo.find_tree(to).with_context(|| format!("reading tree {to}"))?;
    let tracked_link = |tree: &git2::Tree<'_>, rel: &str, target: &Path| -> bool {
        tree.get_path(Path::new(rel)).ok().filter(|e| e.filemode() == 0o120000).is_some_and(|e| {
            repo.find_blob(e.id()).is_ok_and(|b| b.content() == target.as_os_str().as_encoded_bytes())
        })
    };
    let mut found: Vec<InTheWay> = Vec::new();
    let mut note = |path: &str, what: &'static str| {
        if !found.iter().any(|f| f.path == path) {
            found.push(InTheWay { path: path.to_string(), what });
        }
    };
    for path in paths {
        let parts: Vec<&str> = path.split('/').collect();
        for depth in 1..=parts.len() {
            let rel = parts[..depth].join("/");
            let full = workdir.join(&rel);
            let meta = match fs::symlink_metadata(&full) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) if e.raw_os_error() == Some(20) => break, // ENOTDIR: a file above, noted there
                Err(e) => return Err(e).with_context(|| format!("reading {}", full.display())),
            };
            let last = depth == parts.len();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&full).with_context(|| format!("reading {}", full.display()))?;
                let tracked =
                    tracked_link(&from_tree, &rel, &target) || tracked_link(&to_tree, &rel, &target);
                if !tracked {
                    note(&rel, SYMLINK);
                }
                break;
            }
            if !last && !meta.is_dir() {
                let tracked =
                    from_tree.get_path(Path::new(&rel)).is_ok() || to_tree.get_path(Path::new(&rel)).is_ok();
                if !tracked {
                    note(&rel, FILE_FOR_DIR);
                }
                break;
            }
        }
    }
    Ok(found)
}

/// Whether every directory leading to `rel` in `workdir` is a real
/// directory, not a symbolic link (nor missing).
fn real_dirs(workdir: &Path, rel: &str) -> bool {
    let mut dir = workdir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        dir.push(part);
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            _ => return false,
        }
    }
    true
}

/// Moves the worktree at `workdir` from tree `from` to tree `to` for exactly
/// `paths` (index and files), the way `git checkout` switches branches: a
/// file that is neither `from`'s nor `to`'s version is a conflict, and then
/// nothing is written. Other paths and their uncommitted changes are not
/// looked at. Works whatever HEAD says, so it also runs after HEAD's branch
/// moved, and again after a partial run, even one killed while it wrote a
/// file (see [`finish_torn_writes`]).
///
/// The worktree's index lock is held by the caller (`lock`) and stays held:
/// the new index replaces the old one under it, and the caller lets go. No
/// git command can write the index meanwhile. Nothing is written through a
/// symbolic link: what is in the way ([`in_the_way`]) fails the checkout
/// with [`Blocked`] before any write.
pub fn checkout(workdir: &Path, from: Oid, to: Oid, paths: &[String], lock: &IndexLock) -> Result<()> {
    if paths.is_empty() || from == to {
        return Ok(());
    }
    let blocked = in_the_way(workdir, from, to, paths)?;
    if !blocked.is_empty() {
        return Err(Blocked(blocked).into());
    }
    {
        let repo = Repository::open(workdir)
            .with_context(|| format!("opening the worktree {}", workdir.display()))?;
        // Look both trees up first: clear errors, and the raw lookups below cannot miss.
        let from_tree = repo.find_tree(from).with_context(|| format!("reading tree {from}"))?;
        let to_tree = repo.find_tree(to).with_context(|| format!("reading tree {to}"))?;
        finish_torn_writes(&repo, workdir, &from_tree, &to_tree, paths)?;
    }
    // libgit2 writes the index it checks out with through its own
    // `index.lock`, which this process holds: it works on a copy, which
    // then replaces the index.
    let [scratch, _] = super::index_lock::scratch_files(lock.index(), std::process::id());
    let _ = fs::remove_file(&scratch);
    match fs::copy(lock.index(), &scratch) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e)
                .with_context(|| format!("copying {} to {}", lock.index().display(), scratch.display()))
        }
    }
    let mut builder = git2::build::CheckoutBuilder::new();
    builder.safe().disable_pathspec_match(true).update_index(true);
    for path in paths {
        builder.path(path.as_str());
    }
    let done = checkout_with_baseline(workdir, from, to, &scratch, &mut builder)
        .with_context(|| format!("updating {} in {}", summarize(paths), workdir.display()))
        .and_then(|()| lock.replace_index(&scratch));
    if done.is_err() {
        let _ = fs::remove_file(&scratch);
    }
    done
}

/// Completes the files a checkout killed half-way left torn. libgit2 writes a
/// file by truncating it and writing it anew, so a kill leaves a strict prefix
/// of the version it was writing (often an empty file), which is neither
/// `from`'s nor `to`'s and would stop every later checkout as a conflict.
/// Such a file is given the version it is a prefix of. A file `to` adds that
/// is already there (whole or in part, not yet in the index) would stop it as
/// an untracked file in the way: it is removed, and the checkout writes it.
/// Nothing is lost: what is there is part of what is written. Files under a
/// content filter (e.g. `core.autocrlf`) are left to the checkout, which then
/// reports them.
fn finish_torn_writes(
    repo: &Repository,
    workdir: &Path,
    from: &git2::Tree,
    to: &git2::Tree,
    paths: &[String],
) -> Result<()> {
    for path in paths {
        if !real_dirs(workdir, path) {
            continue;
        }
        let file = workdir.join(path);
        let Ok(meta) = fs::symlink_metadata(&file) else { continue };
        if !meta.is_file() {
            continue;
        }
        let blob = |tree: &git2::Tree| -> Option<Vec<u8>> {
            let entry = tree.get_path(Path::new(path)).ok()?;
            let blob = entry.to_object(repo).ok()?.peel_to_blob().ok()?;
            Some(blob.content().to_vec())
        };
        let (old, new) = (blob(from), blob(to));
        let at_least = |v: &Option<Vec<u8>>| v.as_ref().is_some_and(|v| v.len() >= meta.len() as usize);
        if !at_least(&old) && !at_least(&new) {
            continue;
        }
        let bytes = fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        if old.is_none() {
            if new.as_ref().is_some_and(|new| new.starts_with(&bytes)) {
                fs::remove_file(&file).with_context(|| format!("removing {}", file.display()))?;
            }
            continue;
        }
        if old.as_deref() == Some(bytes.as_slice()) || new.as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        let whole = [new, old].into_iter().flatten().find(|v| v.len() > bytes.len() && v.starts_with(&bytes));
        if let Some(whole) = whole {
            fs::write(&file, whole).with_context(|| format!("writing {}", file.display()))?;
        }
    }
    Ok(())
}

fn summarize(paths: &[String]) -> String {
    match paths {
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} other path(s)", rest.len()),
        [] => "nothing".to_string(),
    }
}

/// libgit2's checkout compares the working tree with a baseline it takes
/// from HEAD; git2 does not expose the option that names another baseline,
/// so this one call goes through libgit2-sys.
fn checkout_with_baseline(
    workdir: &Path,
    from: Oid,
    to: Oid,
    index: &Path,
    builder: &mut git2::build::CheckoutBuilder<'_>,
) -> std::result::Result<(), git2::Error> {
    use libgit2_sys as raw;

    struct Guard {
        repo: *mut raw::git_repository,
        index: *mut raw::git_index,
        from: *mut raw::git_tree,
        to: *mut raw::git_tree,
    }
    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFETY: each pointer is null or was returned by the matching lookup/open.
            unsafe {
                if !self.index.is_null() {
                    raw::git_index_free(self.index);
                }
                if !self.from.is_null() {
                    raw::git_tree_free(self.from);
                }
                if !self.to.is_null() {
                    raw::git_tree_free(self.to);
                }
                if !self.repo.is_null() {
                    raw::git_repository_free(self.repo);
                }
            }
        }
    }
    let check =
        |code: std::os::raw::c_int| if code < 0 { Err(git2::Error::last_error(code)) } else { Ok(()) };
    let dir = CString::new(workdir.to_string_lossy().as_bytes())
        .map_err(|_| git2::Error::from_str("a path with a NUL byte"))?;
    let index_path = CString::new(index.to_string_lossy().as_bytes())
        .map_err(|_| git2::Error::from_str("a path with a NUL byte"))?;
    let oid = |id: Oid| {
        let mut raw_id = raw::git_oid { id: [0; raw::GIT_OID_MAX_SIZE] };
        raw_id.id[..id.as_bytes().len()].copy_from_slice(id.as_bytes());
        raw_id
    };
    let (from_id, to_id) = (oid(from), oid(to));
    raw::init();
    let mut g = Guard {
        repo: std::ptr::null_mut(),
        index: std::ptr::null_mut(),
        from: std::ptr::null_mut(),
        to: std::ptr::null_mut(),
    };
    // SAFETY: out-pointers are valid; the guard frees what was allocated;
    // `opts` borrows `builder`'s path strings, which outlive the call.
    unsafe {
        check(raw::git_repository_open(&mut g.repo, dir.as_ptr()))?;
        check(raw::git_index_open(&mut g.index, index_path.as_ptr()))?;
        check(raw::git_repository_set_index(g.repo, g.index))?;
        check(raw::git_tree_lookup(&mut g.from, g.repo, &from_id))?;
        check(raw::git_tree_lookup(&mut g.to, g.repo, &to_id))?;
        let mut opts: raw::git_checkout_options = std::mem::zeroed();
        check(raw::git_checkout_init_options(&mut opts, raw::GIT_CHECKOUT_OPTIONS_VERSION))?;
        builder.configure(&mut opts);
        opts.baseline = g.from;
        check(raw::git_checkout_tree(g.repo, g.to as *const raw::git_object, &opts))?;
    }
    Ok(())
}

/// Moves `refname` from `old` to `new` only if it still points at `old`.
/// Returns false when it does not (someone else moved it). A ref another
/// process holds locked for a moment (a `git pack-refs` of a background
/// `git gc --auto` locks every ref it packs) is tried again for a while
/// before that counts as moved.
pub fn compare_and_swap(repo: &Repository, refname: &str, old: Oid, new: Oid, log: &str) -> Result<bool> {
    let started = std::time::Instant::now();
    loop {
        match repo.reference_matching(refname, new, true, old, log) {
            Ok(_) => return Ok(true),
            Err(e) if e.code() == git2::ErrorCode::Locked && started.elapsed() < REF_LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) if e.code() == git2::ErrorCode::Modified || e.code() == git2::ErrorCode::Locked => {
                // Modified: it moved; Locked for long: a writer is mid-update,
                // or died there. Either way, not ours to move now.
                return Ok(false);
            }
            Err(e) => return Err(e).with_context(|| format!("moving {refname} from {old} to {new}")),
        }
    }
}

/// How long [`compare_and_swap`] waits for a ref another process locked.
const REF_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The commit a ref points at, if it exists.
pub fn ref_target(repo: &Repository, refname: &str) -> Result<Option<Oid>> {
    match repo.find_reference(refname) {
        Ok(r) => Ok(r.resolve().ok().and_then(|r| r.target())),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {refname}")),
    }
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

/// The worktree (top directory) that has `branch` checked out, if any.
/// Reads the HEAD files of the common directory and its `worktrees/*`.
pub fn worktree_of_branch(common_dir: &Path, main_root: &Path, branch: &str) -> Result<Option<PathBuf>> {
    let wanted = format!("ref: refs/heads/{branch}");
    let head_is = |head: &Path| fs::read_to_string(head).map(|s| s.trim() == wanted).unwrap_or(false);
    if head_is(&common_dir.join("HEAD")) && main_root.join(".git").exists() {
        return Ok(Some(main_root.to_path_buf()));
    }
    let dir = common_dir.join("worktrees");
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let admin = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        if head_is(&admin.join("HEAD")) {
            let gitdir = fs::read_to_string(admin.join("gitdir")).unwrap_or_default();
            if let Some(top) = Path::new(gitdir.trim()).parent() {
                if top.exists() {
                    return Ok(Some(top.to_path_buf()));
                }
            }
        }
    }
    Ok(None)
}

/// The branch checked out in the worktree at `dir` (`None`: detached).
pub fn checked_out_branch(dir: &Path) -> Result<Option<String>> {
    let repo = Repository::open(dir).with_context(|| format!("opening the worktree {}", dir.display()))?;
    let head = repo.find_reference("HEAD").with_context(|| format!("reading HEAD in {}", dir.display()))?;
    Ok(head.symbolic_target().and_then(|t| t.strip_prefix("refs/heads/")).map(str::to_string))
}

/// Removes the linked worktree at `path` (its files and its admin entry),
/// like `git worktree remove`. Refuses a locked worktree.
pub fn remove_worktree(repo: &Repository, path: &Path) -> Result<()> {
    let wanted = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let names = repo.worktrees().context("listing worktrees")?;
    for name in names.iter().flatten() {
        let wt = repo.find_worktree(name).with_context(|| format!("reading worktree {name}"))?;
        let here = fs::canonicalize(wt.path()).unwrap_or_else(|_| wt.path().to_path_buf());
        if here != wanted {
            continue;
        }
        if let git2::WorktreeLockStatus::Locked(reason) = wt.is_locked().context("reading worktree lock")? {
            anyhow::bail!(
                "worktree {} is locked{}",
                path.display(),
                reason.map(|r| format!(" ({r})")).unwrap_or_default()
            );
        }
        let mut opts = git2::WorktreePruneOptions::new();
        opts.valid(true).working_tree(true);
        return wt.prune(Some(&mut opts)).with_context(|| format!("removing worktree {}", path.display()));
    }
    // Not registered (already pruned): just its directory, if left over.
    if path.exists() {
        fs::remove_dir_all(path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}

/// Deletes local branch `name` if it still points at `expected`.
pub fn delete_branch(repo: &Repository, name: &str, expected: Oid) -> Result<bool> {
    let mut branch = match repo.find_branch(name, git2::BranchType::Local) {
        Ok(b) => b,
        Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("reading branch {name}")),
    };
    if branch.get().target() != Some(expected) {
        return Ok(false);
    }
    branch.delete().with_context(|| format!("deleting branch {name}"))?;
    Ok(true)
}

/// `git stash push --include-untracked -m MSG` in `dir`: every uncommitted
/// change (not ignored files) saved in the stash, the worktree left clean.
pub fn stash_everything(dir: &Path, message: &str) -> Result<()> {
    super::git_cli(dir, &["stash", "push", "--include-untracked", "--quiet", "-m", message])?;
    Ok(())
}

/// How [`commit_everything`] went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    Done,
    /// `git commit` failed; the index is back as it was.
    Refused {
        /// What git and its hooks printed.
        output: String,
        /// A pre-commit hook refused (not git itself: no `fatal:` line).
        by_hook: bool,
    },
}

/// `git add -A && git commit -m MSG` in `dir`, through the user's git so
/// that their hooks (git-par's own pre-commit check among them) run. When
/// the commit fails the index file is put back byte for byte, so nothing
/// the user had (or had not) staged changes.
pub fn commit_everything(dir: &Path, message: &str) -> Result<Commit> {
    let repo = Repository::open(dir).with_context(|| format!("opening the worktree {}", dir.display()))?;
    let index = repo.path().join("index");
    let saved = match fs::read(&index) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", index.display())),
    };
    let output = super::git_cli(dir, &["add", "-A"]).and_then(|_| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["commit", "-q", "-m", message])
            .stdin(std::process::Stdio::null())
            .output()
            .context("running git commit")
    });
    let output = match output {
        Ok(output) if output.status.success() => return Ok(Commit::Done),
        Ok(output) => output,
        Err(e) => {
            restore_index(&index, saved.as_deref())?;
            return Err(e);
        }
    };
    restore_index(&index, saved.as_deref())?;
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let fatal = text.lines().any(|l| l.starts_with("fatal:"));
    let by_hook = !fatal
        && super::git_cli(dir, &["rev-parse", "--git-path", "hooks/pre-commit"])
            .map(|p| dir.join(p.trim()))
            .is_ok_and(|hook| super::is_executable(&hook));
    Ok(Commit::Refused { output: text, by_hook })
}

/// Puts the index file back as `saved` (absent when `None`), taking git's
/// `index.lock` so no git command sees it half-written.
fn restore_index(index: &Path, saved: Option<&[u8]>) -> Result<()> {
    let Some(bytes) = saved else {
        return match fs::remove_file(index) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", index.display()))
            }
            _ => Ok(()),
        };
    };
    let lock = index.with_file_name("index.lock");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
        .with_context(|| format!("putting the index back: creating {}", lock.display()))?;
    let written = std::io::Write::write_all(&mut file, bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| fs::rename(&lock, index)) {
        let _ = fs::remove_file(&lock);
        return Err(e).with_context(|| format!("putting the index back: writing {}", index.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_formats_git_users_set() {
        assert_eq!(parse_date("2026-01-01T00:00:00Z"), Some((1_767_225_600, 0)));
        assert_eq!(parse_date("@1767225600 +0100"), Some((1_767_225_600, 60)));
        assert_eq!(parse_date("1767225600"), Some((1_767_225_600, 0)));
        assert_eq!(parse_date("2026-01-01 01:00:00 +0100"), Some((1_767_225_600, 60)));
        assert_eq!(parse_date("2026-01-01T01:00:00+01:00"), Some((1_767_225_600, 60)));
        assert_eq!(parse_date("1970-01-01T00:00:00.123Z"), Some((0, 0)));
        assert_eq!(parse_date("Thu, 1 Jan 2026 00:00:00 +0000"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn git_var_idents_parse() {
        let sig = parse_ident("A U Thor <a@example.com> 1767225600 -0130").unwrap();
        assert_eq!(sig.name(), Some("A U Thor"));
        assert_eq!(sig.email(), Some("a@example.com"));
        assert_eq!(sig.when().seconds(), 1_767_225_600);
        assert_eq!(sig.when().offset_minutes(), -90);
    }
}
