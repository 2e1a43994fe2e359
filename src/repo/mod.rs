//! The only module that talks to git: git2 for local work, the user's own
//! `git` for what must behave exactly like git (worktrees, network).
//!
//! - [`identity`]: who a commit is by; [`objects`]: commits and trees;
//! - [`merge`]: main merged into a task in memory; [`checkout`]: a worktree
//!   moved between two trees for the paths that changed;
//! - [`refs`]: compare-and-swap, branches; [`worktree`]: adding, removing
//!   and reading worktrees, committing in one; [`status`]: what is
//!   uncommitted or in progress there;
//! - [`index`]: the staged paths the pre-commit check reads; [`index_lock`]:
//!   git's index lock, taken as git takes it; [`exclude`]: `info/exclude`;
//! - [`remote`]: fetch and push through the user's `git`, state commits.

pub mod checkout;
pub mod exclude;
pub mod identity;
pub mod index;
pub mod index_lock;
pub mod merge;
pub mod objects;
pub mod refs;
pub mod remote;
pub mod status;
pub mod worktree;

pub use self::checkout::{checkout, in_the_way, Blocked, InTheWay};
pub use self::identity::{signatures, Signatures};
pub use self::merge::{merge_into_task, replay, Conflict, Integration, Replay};
pub use self::objects::{
    changes, commit, read_text, short, task_commits, touched_paths, tracks, tree_has, tree_of, with_entry_of,
    with_file, Change, CommitSummary,
};
pub use self::refs::{compare_and_swap, ref_target};
pub use self::status::{
    changed_since, operation_in_progress, operation_on_branch, uncommitted, uncommitted_files,
};
pub use self::worktree::{
    checked_out_branch, commit_everything, stash_everything, worktree_head, worktree_of_branch, Commit,
    WorktreeHead, WorktreeRecord,
};

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result};

/// Why a repository cannot be worked in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoError {
    /// No repository around the directory (git's reason is the cause).
    NotARepository { dir: PathBuf },
    /// A repository without a working tree.
    Bare { git_dir: PathBuf },
    /// A revision that names nothing (git's reason is the cause).
    UnknownRevision { rev: String },
}

impl std::fmt::Display for RepoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RepoError::NotARepository { dir } => write!(f, "not a git repository: {}", dir.display()),
            RepoError::Bare { git_dir } => {
                write!(f, "{} is a bare repository; git-par needs a working tree", git_dir.display())
            }
            RepoError::UnknownRevision { rev } => write!(f, "cannot resolve revision '{rev}'"),
        }
    }
}

impl std::error::Error for RepoError {}

/// An opened repository, seen from one of its worktrees.
pub struct Repo {
    /// The repository opened at the current worktree.
    pub git: git2::Repository,
    /// The top of the current worktree.
    pub root: PathBuf,
    /// The common git directory shared by all worktrees (`.git`).
    pub common_dir: PathBuf,
    /// The top of the main worktree.
    pub main_root: PathBuf,
}

impl Repo {
    /// Opens the repository containing `dir`; refuses bare repositories.
    pub fn discover(dir: &Path) -> Result<Repo> {
        let git = git2::Repository::discover(dir).map_err(|e| {
            let not_a_repository = RepoError::NotARepository { dir: dir.to_path_buf() };
            // Nothing found says all there is to say; another failure (a
            // broken .git) keeps libgit2's reason.
            match e.code() {
                git2::ErrorCode::NotFound => anyhow::Error::new(not_a_repository),
                _ => anyhow::Error::new(e).context(not_a_repository),
            }
        })?;
        let Some(workdir) = git.workdir() else {
            return Err(RepoError::Bare { git_dir: git.path().to_path_buf() }.into());
        };
        let root = strip_trailing_slash(workdir);
        let common_dir = strip_trailing_slash(git.commondir());
        let main_root = if git.is_worktree() {
            let main = git2::Repository::open(&common_dir)
                .with_context(|| format!("opening the main repository at {}", common_dir.display()))?;
            match main.workdir() {
                Some(dir) => strip_trailing_slash(dir),
                None => root.clone(),
            }
        } else {
            root.clone()
        };
        Ok(Repo { git, root, common_dir, main_root })
    }

    /// The branch checked out in the current worktree; `None` when HEAD is detached.
    pub fn current_branch(&self) -> Result<Option<String>> {
        head_branch(&self.git)
    }

    /// The branch checked out in the main worktree; `None` when detached.
    pub fn main_worktree_branch(&self) -> Result<Option<String>> {
        if self.main_root == self.root {
            return self.current_branch();
        }
        let main = git2::Repository::open(&self.main_root)
            .with_context(|| format!("opening the main worktree at {}", self.main_root.display()))?;
        head_branch(&main)
    }

    /// The files tracked at the main worktree's HEAD, `/`-separated and
    /// relative to the root; none on an unborn branch.
    pub fn tracked_files(&self) -> Result<Vec<String>> {
        let opened;
        let git = if self.main_root == self.root {
            &self.git
        } else {
            opened = git2::Repository::open(&self.main_root)
                .with_context(|| format!("opening the main worktree at {}", self.main_root.display()))?;
            &opened
        };
        let head = match git.head() {
            Ok(head) => head,
            Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => {
                return Ok(Vec::new())
            }
            Err(e) => return Err(e).context("reading HEAD"),
        };
        let tree = head.peel_to_tree().context("reading the tree at HEAD")?;
        let mut files = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() != Some(git2::ObjectType::Tree) {
                if let Some(name) = entry.name() {
                    // Not `format!`: this runs for every file of the tree.
                    let mut path = String::with_capacity(dir.len() + name.len());
                    path.push_str(dir);
                    path.push_str(name);
                    files.push(path);
                }
            }
            git2::TreeWalkResult::Ok
        })
        .context("walking the tree at HEAD")?;
        Ok(files)
    }

    /// Resolves a revision to a commit.
    pub fn resolve_commit(&self, rev: &str) -> Result<git2::Oid> {
        let obj = self.git.revparse_single(rev).map_err(|e| {
            anyhow::Error::new(e).context(RepoError::UnknownRevision { rev: rev.to_string() })
        })?;
        let commit = obj.peel_to_commit().with_context(|| format!("'{rev}' does not name a commit"))?;
        Ok(commit.id())
    }

    /// Runs the user's `git` in `dir` with `args`; fails with its stderr.
    pub fn git_cli(&self, dir: &Path, args: &[&str]) -> Result<String> {
        git_cli(dir, args)
    }
}

/// Runs the user's `git` in `dir` with `args` and returns its stdout; a
/// non-zero exit becomes an error carrying git's stderr.
pub fn git_cli(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .with_context(|| format!("running git {}", args.join(" ")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        anyhow::bail!("git {} failed: {}", args.join(" "), stderr.trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether `path` is a file git would run as a hook or program: executable by someone.
pub fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

fn head_branch(git: &git2::Repository) -> Result<Option<String>> {
    let head = match git.find_reference("HEAD") {
        Ok(head) => head,
        Err(e) => return Err(e).context("reading HEAD"),
    };
    match head.symbolic_target() {
        Some(target) => Ok(target.strip_prefix("refs/heads/").map(str::to_string)),
        None => Ok(None),
    }
}

/// `path` with symbolic links resolved, as far as it exists (the rest as
/// written): how paths of worktrees, which may be gone, are compared.
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(full) = path.canonicalize() {
        return full;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => canonical(parent).join(name),
        _ => path.to_path_buf(),
    }
}

fn strip_trailing_slash(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    let trimmed = s.trim_end_matches('/');
    if trimmed.is_empty() {
        PathBuf::from("/")
    } else {
        PathBuf::from(trimmed)
    }
}
