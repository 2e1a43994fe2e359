//! The only module that talks to git: git2 for local work, the user's own
//! `git` for what must behave exactly like git (worktrees, network).

pub mod index;
pub mod index_lock;
pub mod land;
pub mod worktree;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result};

use crate::flock::{self, Mode, Wait};

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
            anyhow::Error::new(e).context(RepoError::NotARepository { dir: dir.to_path_buf() })
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

    /// The commit a local branch points at, if the branch exists.
    pub fn branch_tip(&self, branch: &str) -> Result<Option<git2::Oid>> {
        match self.git.find_branch(branch, git2::BranchType::Local) {
            Ok(b) => Ok(b.get().target()),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading branch {branch}")),
        }
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
                    files.push(format!("{dir}{name}"));
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

/// Appends `line` under a `# comment` to the repository's `info/exclude`
/// (in the common directory: every worktree reads it) unless a line already
/// there passes `present`. The file itself is locked — git never replaces
/// it — so that concurrent git-par processes add the line once. Returns
/// whether a line was added.
pub fn append_exclude(
    common_dir: &Path,
    line: &str,
    comment: &str,
    present: impl Fn(&str) -> bool,
) -> Result<bool> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let path = common_dir.join("info").join("exclude");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    // Locked itself (git never replaces it), so that concurrent git-par
    // processes add the line once.
    flock::with_file(file, &path, Mode::Exclusive, Wait::Block, &mut flock::quietly, |mut file| {
        let mut text = String::new();
        file.seek(SeekFrom::Start(0)).with_context(|| format!("reading {}", path.display()))?;
        file.read_to_string(&mut text).with_context(|| format!("reading {}", path.display()))?;
        if text.lines().any(present) {
            return Ok(false);
        }
        let newline = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
        file.write_all(format!("{newline}# {comment}\n{line}\n").as_bytes())
            .with_context(|| format!("appending to {}", path.display()))?;
        Ok(true)
    })
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

fn strip_trailing_slash(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    let trimmed = s.trim_end_matches('/');
    if trimmed.is_empty() {
        PathBuf::from("/")
    } else {
        PathBuf::from(trimmed)
    }
}
