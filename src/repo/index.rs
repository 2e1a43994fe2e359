//! Reading what is staged: the index against HEAD, for the pre-commit check.
//!
//! This is the hot path of every commit (DESIGN §7, §10), so it does the
//! least it can: [`GitDirs::locate`] finds `.git` with a few `stat`s and no
//! git2 at all (enough to see that git-par has no state and stop), and
//! [`staged_paths`] reads the index once and never looks at the working tree.

use std::cmp::Ordering;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// Where a worktree's git files are, found without opening the repository.
#[derive(Debug, Clone)]
pub struct GitDirs {
    /// The worktree's own git directory (`.git`, or `.git/worktrees/<name>`).
    pub git_dir: PathBuf,
    /// The common git directory shared by all worktrees.
    pub common_dir: PathBuf,
    /// The top of the worktree.
    pub root: PathBuf,
}

impl GitDirs {
    /// Whether this is the repository's main worktree (its git directory is
    /// the common one), not one added with `git worktree add`.
    pub fn is_main_worktree(&self) -> bool {
        self.git_dir == self.common_dir
    }

    /// Walks up from `dir` to the first `.git` (a directory, or a file saying
    /// `gitdir: ...`). `None` when there is none or it is not understood; the
    /// caller then opens the repository the slow way, which explains why.
    pub fn locate(dir: &Path) -> Option<GitDirs> {
        for root in dir.ancestors() {
            let dotgit = root.join(".git");
            let Ok(meta) = fs::metadata(&dotgit) else { continue };
            let git_dir = if meta.is_dir() {
                dotgit
            } else {
                let text = fs::read_to_string(&dotgit).ok()?;
                root.join(text.strip_prefix("gitdir:")?.trim())
            };
            if !git_dir.join("HEAD").is_file() {
                return None;
            }
            let common_dir = match fs::read_to_string(git_dir.join("commondir")) {
                Ok(text) => git_dir.join(text.trim()),
                Err(_) => git_dir.clone(),
            };
            return Some(GitDirs { git_dir, common_dir, root: root.to_path_buf() });
        }
        None
    }

    /// The directories of an opened repository.
    pub fn of(repo: &super::Repo) -> GitDirs {
        GitDirs {
            git_dir: repo.git.path().to_path_buf(),
            common_dir: repo.common_dir.clone(),
            root: repo.root.clone(),
        }
    }

    /// The branch checked out in this worktree, read from `HEAD`; `None` when detached.
    pub fn head_branch(&self) -> Option<String> {
        let head = fs::read_to_string(self.git_dir.join("HEAD")).ok()?;
        head.trim_end().strip_prefix("ref: refs/heads/").map(str::to_string)
    }

    /// Opens the repository of this worktree.
    pub fn open(&self) -> Result<git2::Repository> {
        git2::Repository::open(&self.root)
            .with_context(|| format!("opening the repository at {}", self.root.display()))
    }
}

/// One string setting from the git config visible to `git` (all levels).
pub fn config_string(git: &git2::Repository, key: &str) -> Result<Option<String>> {
    let config = git.config().context("reading git config")?;
    match config.get_string(key) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading git config {key}")),
    }
}

/// A staged path and what the index holds there.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    path: Vec<u8>,
    staged: Staged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Staged {
    /// Added or changed to this blob (or commit, for a submodule) and mode.
    Content(git2::Oid, u32),
    Deleted,
    /// A merge conflict not yet resolved.
    Unmerged,
}

/// The repository-relative paths whose staged content differs from HEAD:
/// added, modified, deleted, type-changed, unmerged. A rename is a deletion
/// of its old path and an addition of its new one, so both sides are listed
/// without paying for rename detection, which would list the same paths.
///
/// `index_file` is the index git asked the hook to look at
/// (`GIT_INDEX_FILE`: `git commit -a` and `git commit PATH` stage into a
/// temporary index); `None` reads the worktree's own index.
///
/// While a merge is being concluded (`MERGE_HEAD` exists), a path whose
/// staged content is exactly the merged-in side's is not listed: the commit
/// brings it in, it does not author it.
///
/// The index is read by [`IndexFile`], which skips every directory whose
/// cached tree (the index's `TREE` extension) equals HEAD's, as git does;
/// an index it does not understand (split, sparse, a future extension) is
/// compared by the user's `git diff-index` instead.
pub fn staged_paths(git: &git2::Repository, index_file: Option<&Path>) -> Result<Vec<String>> {
    staged_paths_since(git, index_file, None)
}

/// [`staged_paths`], leaving out the paths the index puts back exactly as
/// they were at commit `base` (a task's fork point from main): a commit that
/// undoes a change the branch made earlier takes nothing from anyone, and
/// refusing it would leave no way to take a stray change out.
pub fn staged_paths_since(
    git: &git2::Repository,
    index_file: Option<&Path>,
    base: Option<git2::Oid>,
) -> Result<Vec<String>> {
    let index_path = index_file.map_or_else(|| git.path().join("index"), Path::to_path_buf);
    let changes = match IndexFile::read(&index_path)? {
        Some(index) => {
            let head = head_tree(git)?;
            let mut walk = Walk { git, index: &index, out: Vec::new() };
            walk.dir(b"", head.as_ref(), index.cache.as_ref(), &index.entries)?;
            walk.out
        }
        None => diff_index_cli(git, &index_path)?,
    };
    let base_tree = match base {
        Some(oid) => Some(
            git.find_commit(oid)
                .and_then(|commit| commit.tree())
                .with_context(|| format!("reading the tree of the task's base {oid}"))?,
        ),
        None => None,
    };
    let changes = changes
        .into_iter()
        .filter(|change| !base_tree.as_ref().is_some_and(|tree| same_as_merged_in(tree, change)))
        .collect();
    finish(git, changes)
}

/// Where this task's branch forked from main (`git merge-base HEAD main`),
/// when both can be read; without it every staged change is checked.
pub fn fork_point(git: &git2::Repository, main: Option<&str>) -> Option<git2::Oid> {
    let head = git.head().ok()?.target()?;
    let main = git.find_branch(main?, git2::BranchType::Local).ok()?.get().target()?;
    git.merge_base(head, main).ok()
}

/// [`staged_paths`] as computed by the user's `git diff-index`, for an
/// index [`IndexFile`] cannot read (and to test that it agrees with git).
pub fn staged_paths_by_git(git: &git2::Repository, index_file: Option<&Path>) -> Result<Vec<String>> {
    let index_path = index_file.map_or_else(|| git.path().join("index"), Path::to_path_buf);
    let changes = diff_index_cli(git, &index_path)?;
    finish(git, changes)
}

fn finish(git: &git2::Repository, changes: Vec<Change>) -> Result<Vec<String>> {
    let merged_in = merge_head_tree(git)?;
    let mut paths: Vec<String> = changes
        .into_iter()
        .filter(|change| !merged_in.as_ref().is_some_and(|tree| same_as_merged_in(tree, change)))
        .map(|change| String::from_utf8_lossy(&change.path).into_owned())
        .collect();
    paths.sort();
    paths.dedup();
    Ok(paths)
}

fn head_tree(git: &git2::Repository) -> Result<Option<git2::Tree<'_>>> {
    match git.head() {
        Ok(head) => Ok(Some(head.peel_to_tree().context("reading the tree of HEAD")?)),
        Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => Ok(None),
        Err(e) => Err(e).context("reading HEAD"),
    }
}

/// The tree of `MERGE_HEAD`, when a merge is in progress in this worktree.
fn merge_head_tree(git: &git2::Repository) -> Result<Option<git2::Tree<'_>>> {
    let path = git.path().join("MERGE_HEAD");
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let Some(Ok(oid)) = text.lines().next().map(|line| git2::Oid::from_str(line.trim())) else {
        return Ok(None);
    };
    let commit = git.find_commit(oid).with_context(|| format!("reading MERGE_HEAD {oid}"))?;
    Ok(Some(commit.tree().with_context(|| format!("reading the tree of MERGE_HEAD {oid}"))?))
}

/// Whether the staged side of a change is what the merged-in tree has there
/// (absent there too, for a deletion).
/// Whether `change` leaves its path exactly as it is in `tree`.
fn same_as_merged_in(tree: &git2::Tree<'_>, change: &Change) -> bool {
    let entry = std::str::from_utf8(&change.path).ok().and_then(|path| tree.get_path(Path::new(path)).ok());
    match (change.staged, entry) {
        (Staged::Content(oid, mode), Some(entry)) => {
            entry.id() == oid && canonical_mode(entry.filemode() as u32) == canonical_mode(mode)
        }
        (Staged::Deleted, None) => true,
        _ => false,
    }
}

/// The mode as git compares it: regular files are 644 or 755.
fn canonical_mode(mode: u32) -> u32 {
    match mode & 0o170000 {
        0o100000 if mode & 0o100 != 0 => 0o100755,
        0o100000 => 0o100644,
        kind => kind,
    }
}

/// `git diff-index --cached` against HEAD (or the empty tree on an unborn branch).
fn diff_index_cli(git: &git2::Repository, index_path: &Path) -> Result<Vec<Change>> {
    const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    let dir = git.workdir().unwrap_or_else(|| git.path());
    let base = if head_tree(git)?.is_some() { "HEAD" } else { EMPTY_TREE };
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["diff-index", "--cached", "-z", "--no-renames", "--ita-invisible-in-index", base])
        .env("GIT_INDEX_FILE", index_path)
        .output()
        .context("running git diff-index")?;
    if !output.status.success() {
        anyhow::bail!("git diff-index --cached failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let mut changes = Vec::new();
    let mut fields = output.stdout.split(|b| *b == 0);
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let meta = String::from_utf8_lossy(meta);
        let parts: Vec<&str> = meta.trim_start_matches(':').split_whitespace().collect();
        let staged = match parts.as_slice() {
            [_, _, _, _, status] if status.starts_with('U') => Staged::Unmerged,
            [_, _, _, _, status] if status.starts_with('D') => Staged::Deleted,
            [_, mode, _, oid, _] => Staged::Content(
                git2::Oid::from_str(oid).context("reading git diff-index output")?,
                u32::from_str_radix(mode, 8).context("reading git diff-index output")?,
            ),
            _ => anyhow::bail!("unexpected git diff-index output: {meta}"),
        };
        changes.push(Change { path: path.to_vec(), staged });
    }
    Ok(changes)
}

/// One index entry: where its fixed fields start in [`IndexFile::data`],
/// and where its path is (in `data`, or in `arena` for a version 4 index).
#[derive(Debug, Clone, Copy)]
struct Entry {
    at: u32,
    start: u32,
    end: u32,
}

/// A node of the index's cached trees: the tree a directory of the index
/// would make, when still valid.
#[derive(Debug, Clone)]
struct CacheNode {
    name: Vec<u8>,
    oid: Option<git2::Oid>,
    children: Vec<CacheNode>,
}

const OID_LEN: usize = 20;
/// Deeper cached trees than this are not believed (and not recursed into).
const MAX_DEPTH: usize = 1024;

/// A git index file (versions 2 to 4), read for what the check needs:
/// entries (path, mode, object, stage, intent-to-add) and the cached trees.
/// Fields are decoded when asked for, so reading 10,000 entries costs one
/// pass that only finds where each path is.
#[derive(Debug)]
struct IndexFile {
    data: Vec<u8>,
    /// Version 4 paths, which are prefix-compressed in `data`.
    arena: Vec<u8>,
    entries: Vec<Entry>,
    cache: Option<CacheNode>,
}

impl IndexFile {
    /// Reads the index at `path`; a missing file is an empty index.
    /// `Ok(None)` when it uses something this reader does not handle.
    fn read(path: &Path) -> Result<Option<IndexFile>> {
        match fs::read(path) {
            Ok(data) => Ok(IndexFile::parse(data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Some(IndexFile { data: Vec::new(), arena: Vec::new(), entries: Vec::new(), cache: None }))
            }
            Err(e) => Err(e).with_context(|| format!("reading the index {}", path.display())),
        }
    }

    fn parse(data: Vec<u8>) -> Option<IndexFile> {
        // The trailing checksum is not verified: git does not either, by default.
        let body_end = data.len().checked_sub(OID_LEN)?;
        u32::try_from(data.len()).ok()?;
        let body = &data[..body_end];
        if body.get(..4)? != b"DIRC" {
            return None;
        }
        let version = be32(body, 4)?;
        if !(2..=4).contains(&version) {
            return None;
        }
        let count = be32(body, 8)? as usize;
        let mut entries = Vec::with_capacity(count.min(body.len() / 62));
        let mut arena = Vec::new();
        let mut previous: Vec<u8> = Vec::new();
        let mut pos = 12;
        for _ in 0..count {
            let mode = be32(body, pos + 24)?;
            let flags = be16(body, pos + 60)?;
            let mut cursor = pos + 62;
            if flags & 0x4000 != 0 {
                if version < 3 {
                    return None;
                }
                be16(body, cursor)?;
                cursor += 2;
            }
            if mode & 0o170000 == 0o040000 {
                // A sparse-index directory entry: let git expand it.
                return None;
            }
            let at = pos as u32;
            if version == 4 {
                let (strip, used) = varint(body.get(cursor..)?)?;
                cursor += used;
                let len = body.get(cursor..)?.iter().position(|b| *b == 0)?;
                let keep = previous.len().checked_sub(usize::try_from(strip).ok()?)?;
                previous.truncate(keep);
                previous.extend_from_slice(&body[cursor..cursor + len]);
                let start = arena.len() as u32;
                arena.extend_from_slice(&previous);
                entries.push(Entry { at, start, end: arena.len() as u32 });
                pos = cursor + len + 1;
            } else {
                let len = match usize::from(flags & 0xfff) {
                    0xfff => body.get(cursor..)?.iter().position(|b| *b == 0)?,
                    len if body.get(cursor + len) == Some(&0) => len,
                    _ => return None,
                };
                entries.push(Entry { at, start: cursor as u32, end: (cursor + len) as u32 });
                // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
                pos += (cursor - pos + len + 8) & !7;
            }
        }
        let mut cache = None;
        while pos + 8 <= body.len() {
            let signature = body.get(pos..pos + 4)?;
            let size = be32(body, pos + 4)? as usize;
            let ext = body.get(pos + 8..(pos + 8).checked_add(size)?)?;
            if signature == b"TREE" {
                let mut rest = ext;
                // A cached tree that does not parse only costs speed.
                cache = CacheNode::parse(&mut rest, 0);
            } else if !signature[0].is_ascii_uppercase() {
                // A required extension (split index, sparse...): let git read it.
                return None;
            }
            pos += 8 + size;
        }
        if version != 4 {
            arena = Vec::new();
        }
        Some(IndexFile { data, arena, entries, cache })
    }

    fn path(&self, entry: &Entry) -> &[u8] {
        let paths = if self.arena.is_empty() { &self.data } else { &self.arena };
        &paths[entry.start as usize..entry.end as usize]
    }

    fn mode(&self, entry: &Entry) -> u32 {
        be32(&self.data, entry.at as usize + 24).unwrap_or(0)
    }

    fn oid(&self, entry: &Entry) -> &[u8] {
        let at = entry.at as usize + 40;
        &self.data[at..at + OID_LEN]
    }

    fn flags(&self, entry: &Entry) -> u16 {
        be16(&self.data, entry.at as usize + 60).unwrap_or(0)
    }

    fn stage(&self, entry: &Entry) -> u8 {
        ((self.flags(entry) >> 12) & 3) as u8
    }

    /// `git add -N`: recorded, but not part of the next commit.
    fn intent_to_add(&self, entry: &Entry) -> bool {
        self.flags(entry) & 0x4000 != 0 && be16(&self.data, entry.at as usize + 62).unwrap_or(0) & 0x2000 != 0
    }

    /// What the index holds for a stage-0 entry.
    fn content(&self, entry: &Entry) -> Staged {
        Staged::Content(
            git2::Oid::from_bytes(self.oid(entry)).unwrap_or_else(|_| git2::Oid::zero()),
            self.mode(entry),
        )
    }
}

impl CacheNode {
    /// `name NUL entry_count SP subtree_count LF [oid]`, then the subtrees.
    fn parse(rest: &mut &[u8], depth: usize) -> Option<CacheNode> {
        if depth > MAX_DEPTH {
            return None;
        }
        let name = take_until(rest, 0)?.to_vec();
        let entry_count: i64 = std::str::from_utf8(take_until(rest, b' ')?).ok()?.parse().ok()?;
        let subtrees: usize = std::str::from_utf8(take_until(rest, b'\n')?).ok()?.parse().ok()?;
        let oid = if entry_count >= 0 {
            let (oid, tail) = (rest.get(..OID_LEN)?, rest.get(OID_LEN..)?);
            *rest = tail;
            Some(git2::Oid::from_bytes(oid).ok()?)
        } else {
            None
        };
        let mut children = Vec::new();
        for _ in 0..subtrees {
            children.push(CacheNode::parse(rest, depth + 1)?);
        }
        Some(CacheNode { name, oid, children })
    }

    fn child(&self, name: &[u8]) -> Option<&CacheNode> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn take_until<'a>(rest: &mut &'a [u8], end: u8) -> Option<&'a [u8]> {
    let at = rest.iter().position(|b| *b == end)?;
    let (field, tail) = (&rest[..at], &rest[at + 1..]);
    *rest = tail;
    Some(field)
}

fn be32(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

/// git's offset varint (index v4 path prefixes): value and bytes used.
fn varint(data: &[u8]) -> Option<(u64, usize)> {
    let mut used = 0;
    let mut byte = *data.get(used)?;
    used += 1;
    let mut value = u64::from(byte & 0x7f);
    while byte & 0x80 != 0 {
        byte = *data.get(used)?;
        used += 1;
        value = value.checked_add(1)?.checked_mul(128)? + u64::from(byte & 0x7f);
    }
    Some((value, used))
}

/// The index compared with HEAD one directory at a time, in the order both
/// are sorted in (a directory sorts as its name plus `/`).
struct Walk<'a> {
    git: &'a git2::Repository,
    index: &'a IndexFile,
    out: Vec<Change>,
}

impl Walk<'_> {
    /// Compares `entries` (every index entry under `prefix`) with `tree`.
    fn dir(
        &mut self,
        prefix: &[u8],
        tree: Option<&git2::Tree<'_>>,
        cache: Option<&CacheNode>,
        entries: &[Entry],
    ) -> Result<()> {
        if let (Some(tree), Some(cache)) = (tree, cache) {
            if cache.oid == Some(tree.id()) {
                return Ok(());
            }
        }
        let items: Vec<git2::TreeEntry<'_>> = tree.map(|t| t.iter().collect()).unwrap_or_default();
        let (mut i, mut t) = (0, 0);
        loop {
            let here = entries.get(i).map(|entry| {
                let rest = &self.index.path(entry)[prefix.len()..];
                match rest.iter().position(|b| *b == b'/') {
                    Some(slash) => (&rest[..slash], true),
                    None => (rest, false),
                }
            });
            let there =
                items.get(t).map(|item| (item.name_bytes(), item.kind() == Some(git2::ObjectType::Tree)));
            let order = match (here, there) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((a, a_dir)), Some((b, b_dir))) => tree_order(a, a_dir, b, b_dir),
            };
            // The index entries of this name: one file's stages, or a directory's contents.
            let end = match here {
                Some((name, is_dir)) if order != Ordering::Greater => {
                    let mut full = prefix.to_vec();
                    full.extend_from_slice(name);
                    if is_dir {
                        full.push(b'/');
                        i + entries[i..].partition_point(|e| self.index.path(e).starts_with(&full))
                    } else {
                        i + entries[i..].partition_point(|e| self.index.path(e) == full.as_slice())
                    }
                }
                _ => i,
            };
            match order {
                Ordering::Less => self.added(&entries[i..end]),
                Ordering::Greater => self.deleted(prefix, &items[t])?,
                Ordering::Equal => {
                    let item = &items[t];
                    if item.kind() == Some(git2::ObjectType::Tree) {
                        let mut sub = prefix.to_vec();
                        sub.extend_from_slice(item.name_bytes());
                        let child = cache.and_then(|c| c.child(item.name_bytes()));
                        sub.push(b'/');
                        if child.and_then(|c| c.oid) != Some(item.id()) {
                            let subtree = self.git.find_tree(item.id()).with_context(|| {
                                format!("reading tree {} of HEAD", String::from_utf8_lossy(&sub))
                            })?;
                            self.dir(&sub, Some(&subtree), child, &entries[i..end])?;
                        }
                    } else {
                        self.file(item, &entries[i..end]);
                    }
                }
            }
            if order != Ordering::Greater {
                i = end;
            }
            if order != Ordering::Less {
                t += 1;
            }
        }
        Ok(())
    }

    /// A path in both HEAD and the index.
    fn file(&mut self, item: &git2::TreeEntry<'_>, stages: &[Entry]) {
        let index = self.index;
        let Some(first) = stages.first() else { return };
        let path = index.path(first).to_vec();
        let staged = if stages.iter().any(|e| index.stage(e) != 0) {
            Staged::Unmerged
        } else if index.intent_to_add(first) {
            Staged::Deleted
        } else if index.oid(first) == item.id().as_bytes()
            && canonical_mode(index.mode(first)) == canonical_mode(item.filemode() as u32)
        {
            return;
        } else {
            index.content(first)
        };
        self.out.push(Change { path, staged });
    }

    /// Index entries with nothing at their path in HEAD.
    fn added(&mut self, entries: &[Entry]) {
        let index = self.index;
        for entry in entries.iter().filter(|e| !index.intent_to_add(e)) {
            let staged = if index.stage(entry) != 0 { Staged::Unmerged } else { index.content(entry) };
            let change = Change { path: index.path(entry).to_vec(), staged };
            if self.out.last() != Some(&change) {
                self.out.push(change);
            }
        }
    }

    /// A file or directory of HEAD with nothing at its path in the index.
    fn deleted(&mut self, prefix: &[u8], item: &git2::TreeEntry<'_>) -> Result<()> {
        let mut path = prefix.to_vec();
        path.extend_from_slice(item.name_bytes());
        if item.kind() != Some(git2::ObjectType::Tree) {
            self.out.push(Change { path, staged: Staged::Deleted });
            return Ok(());
        }
        let tree = self
            .git
            .find_tree(item.id())
            .with_context(|| format!("reading tree {} of HEAD", String::from_utf8_lossy(&path)))?;
        path.push(b'/');
        for entry in tree.iter() {
            self.deleted(&path, &entry)?;
        }
        Ok(())
    }
}

/// git's tree order: a directory sorts as its name followed by `/`.
fn tree_order(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> Ordering {
    let a = a.iter().chain(if a_dir { &b"/"[..] } else { &b""[..] });
    let b = b.iter().chain(if b_dir { &b"/"[..] } else { &b""[..] });
    a.cmp(b)
}

/// Whether `rel` (relative to the worktree root) is tracked in the worktree's index.
pub fn is_tracked(git: &git2::Repository, rel: &Path) -> Result<bool> {
    let index = git.index().with_context(|| format!("reading the index of {}", git.path().display()))?;
    Ok(index.get_path(rel, 0).is_some())
}

/// Whether git ignores `rel` (relative to the worktree root) in this worktree.
pub fn is_ignored(git: &git2::Repository, rel: &Path) -> Result<bool> {
    git.is_path_ignored(rel).with_context(|| format!("reading the ignore rules for {}", rel.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_as_git_writes_them() {
        assert_eq!(varint(&[0x00]), Some((0, 1)));
        assert_eq!(varint(&[0x7f]), Some((127, 1)));
        assert_eq!(varint(&[0x80, 0x00]), Some((128, 2)));
        assert_eq!(varint(&[0x80, 0x7f]), Some((255, 2)));
        assert_eq!(varint(&[0x80]), None);
    }

    #[test]
    fn directories_sort_after_names_they_prefix() {
        assert_eq!(tree_order(b"a-b", false, b"a", true), Ordering::Less);
        assert_eq!(tree_order(b"a", false, b"a", true), Ordering::Less);
        assert_eq!(tree_order(b"a0", false, b"a", true), Ordering::Greater);
        assert_eq!(tree_order(b"a", true, b"a", true), Ordering::Equal);
    }

    #[test]
    fn garbage_is_not_an_index() {
        assert!(IndexFile::parse(Vec::new()).is_none());
        assert!(IndexFile::parse(vec![0u8; 64]).is_none());
        let mut truncated = b"DIRC\0\0\0\x02\0\0\0\x05".to_vec();
        truncated.extend_from_slice(&[0u8; 20]);
        assert!(IndexFile::parse(truncated).is_none());
    }

    #[test]
    fn modes_are_compared_canonically() {
        assert_eq!(canonical_mode(0o100664), 0o100644);
        assert_eq!(canonical_mode(0o100775), 0o100755);
        assert_eq!(canonical_mode(0o120000), 0o120000);
        assert_eq!(canonical_mode(0o160000), 0o160000);
    }
}
