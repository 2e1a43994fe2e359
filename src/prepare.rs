//! A new task worktree made ready to work in (DESIGN §12): the ignored files
//! `par.copy` names, copied from the main worktree, then `par.setup` run in it.
//!
//! Invariants:
//! - Only files git reports as ignored in the main worktree are copied, and
//!   only into the new worktree: a destination whose directory is (or passes
//!   through) a symlink, or that already exists, is skipped, so nothing
//!   outside the worktree is written and nothing checked out is overwritten.
//! - Files are cloned (copy-on-write) where the filesystem allows it, else
//!   copied; symlinks are copied as symlinks, never followed.
//! - The setup command comes from the config only, never from tasks.md. It
//!   runs with `sh -c` in the worktree, its output appended to the task's
//!   log; a failure is an error, and the caller rolls the start back.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::logs;

/// Lines of a failed setup shown in the error.
const SETUP_TAIL: usize = 20;

/// Why a new worktree could not be made ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrepareError {
    /// A `par.copy` glob does not compile.
    BadGlob { glob: String, reason: String },
    /// `par.setup` failed in the new worktree of `id` (`status`: how it
    /// ended); `tail` is the end of its output, `log` has all of it.
    SetupFailed { id: String, setup: String, status: String, tail: String, log: PathBuf },
}

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrepareError::BadGlob { glob, reason } => {
                write!(f, "par.copy has an invalid glob '{glob}': {reason}")
            }
            PrepareError::SetupFailed { id, setup, status, tail, .. } => {
                let shown = if tail.is_empty() { "(no output)" } else { tail };
                write!(f, "par.setup failed in the new worktree of {id} ({status}): `{setup}`; its last lines:\n{shown}")
            }
        }
    }
}

impl std::error::Error for PrepareError {}

/// What to prepare a new worktree with (`par.copy`, `par.setup`).
#[derive(Debug, Clone, Copy)]
pub struct Preparation<'a> {
    /// Globs of ignored files to copy from the main worktree.
    pub copy: &'a [String],
    /// The command to run in the new worktree.
    pub setup: Option<&'a str>,
    /// The main worktree, where the ignored files are.
    pub main_root: &'a Path,
    /// Directories of the main worktree never copied (task worktrees, logs).
    pub skip: &'a [PathBuf],
}

/// What was done to a worktree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prepared {
    /// Files (and symlinks) copied, repository-relative.
    pub copied: Vec<String>,
    /// How many of them were cloned rather than copied byte by byte.
    pub cloned: usize,
    /// Files matched but not copied, with why.
    pub skipped: Vec<(String, String)>,
}

impl Preparation<'_> {
    /// Whether there is anything to do.
    pub fn is_empty(&self) -> bool {
        self.copy.is_empty() && self.setup.is_none()
    }

    /// Copies the ignored files into `worktree`, then runs the setup there,
    /// its output appended to `log`.
    pub fn apply(&self, id: &str, worktree: &Path, log: &Path) -> Result<Prepared> {
        let mut prepared = Prepared::default();
        if !self.copy.is_empty() {
            prepared = self.copy_ignored(worktree)?;
            let mut said = format!(
                "{} file(s) from the main worktree ({} cloned)",
                prepared.copied.len(),
                prepared.cloned
            );
            for (path, why) in &prepared.skipped {
                said.push_str(&format!("; not {path}: {why}"));
            }
            logs::write_line(log, &logs::lifecycle_line(&crate::state::now(), "copy", id, &said))?;
        }
        if let Some(setup) = self.setup {
            run_setup(id, setup, worktree, log)?;
        }
        Ok(prepared)
    }

    fn copy_ignored(&self, worktree: &Path) -> Result<Prepared> {
        let matcher = Matcher::new(self.copy)?;
        let listing = crate::repo::git_cli(
            self.main_root,
            &["ls-files", "-z", "--others", "--ignored", "--exclude-standard"],
        )
        .with_context(|| format!("listing the ignored files of {}", self.main_root.display()))?;
        let skip: Vec<PathBuf> = self
            .skip
            .iter()
            .filter_map(|d| d.strip_prefix(self.main_root).ok())
            .map(Path::to_path_buf)
            .collect();
        let mut prepared = Prepared::default();
        for rel in listing.split('\0').filter(|p| !p.is_empty() && !p.ends_with('/')) {
            let rel_path = Path::new(rel);
            if !rel_path.components().all(|c| matches!(c, Component::Normal(_)))
                || skip.iter().any(|d| !d.as_os_str().is_empty() && rel_path.starts_with(d))
                || !matcher.selects(rel)
            {
                continue;
            }
            match copy_one(&self.main_root.join(rel_path), worktree, rel_path) {
                Ok(Copied::Cloned) => {
                    prepared.cloned += 1;
                    prepared.copied.push(rel.to_string());
                }
                Ok(Copied::Plain) => prepared.copied.push(rel.to_string()),
                Ok(Copied::Skipped(why)) => prepared.skipped.push((rel.to_string(), why)),
                Err(e) => return Err(e),
            }
        }
        Ok(prepared)
    }
}

/// `par.copy` globs, read as `.gitignore` reads its patterns: one without a
/// `/` matches a name at any depth, one with a `/` matches from the root; a
/// pattern that matches a directory selects everything below it.
struct Matcher {
    anywhere: GlobSet,
    anchored: GlobSet,
}

impl Matcher {
    fn new(globs: &[String]) -> Result<Matcher> {
        let mut anywhere = GlobSetBuilder::new();
        let mut anchored = GlobSetBuilder::new();
        for text in globs {
            let trimmed = text.trim_end_matches('/');
            let pattern = trimmed.trim_start_matches('/');
            let glob = Glob::new(pattern)
                .map_err(|e| PrepareError::BadGlob { glob: text.clone(), reason: e.kind().to_string() })?;
            if trimmed.contains('/') {
                anchored.add(glob);
            } else {
                anywhere.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| b.build().context("compiling par.copy");
        Ok(Matcher { anywhere: build(anywhere)?, anchored: build(anchored)? })
    }

    fn selects(&self, rel: &str) -> bool {
        let mut prefix = String::new();
        for (i, name) in rel.split('/').enumerate() {
            if i > 0 {
                prefix.push('/');
            }
            prefix.push_str(name);
            if self.anywhere.is_match(name) || self.anchored.is_match(&prefix) {
                return true;
            }
        }
        false
    }
}

enum Copied {
    Cloned,
    Plain,
    Skipped(String),
}

/// Copies `source` to `worktree/rel`, creating its directories, unless that
/// would write through a symlink or over something that exists.
fn copy_one(source: &Path, worktree: &Path, rel: &Path) -> Result<Copied> {
    let dest = worktree.join(rel);
    if dest.symlink_metadata().is_ok() {
        return Ok(Copied::Skipped("it exists in the new worktree".to_string()));
    }
    let mut dir = worktree.to_path_buf();
    if let Some(parent) = rel.parent() {
        for part in parent.components() {
            dir.push(part);
            match dir.symlink_metadata() {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Ok(Copied::Skipped(format!("{} is a symlink in the new worktree", dir.display())))
                }
                Ok(meta) if !meta.is_dir() => {
                    return Ok(Copied::Skipped(format!(
                        "{} is not a directory in the new worktree",
                        dir.display()
                    )))
                }
                Ok(_) => {}
                Err(_) => fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?,
            }
        }
    }
    let meta = source.symlink_metadata().with_context(|| format!("reading {}", source.display()))?;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(source).with_context(|| format!("reading {}", source.display()))?;
        symlink(&target, &dest)?;
        return Ok(Copied::Plain);
    }
    if !meta.is_file() {
        return Ok(Copied::Skipped("not a regular file".to_string()));
    }
    if clone_file(source, &dest)? {
        return Ok(Copied::Cloned);
    }
    fs::copy(source, &dest).with_context(|| format!("copying {} to {}", source.display(), dest.display()))?;
    Ok(Copied::Plain)
}

#[cfg(unix)]
fn symlink(target: &Path, dest: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, dest)
        .with_context(|| format!("creating the symlink {}", dest.display()))
}

#[cfg(not(unix))]
fn symlink(_target: &Path, dest: &Path) -> Result<()> {
    anyhow::bail!("cannot copy the symlink {} on this platform", dest.display())
}

/// Clones `source` into a new file `dest` sharing its blocks (Linux
/// `FICLONE`: btrfs, XFS, bcachefs...). Returns false, leaving no file
/// behind, where the filesystem cannot.
#[cfg(target_os = "linux")]
fn clone_file(source: &Path, dest: &Path) -> Result<bool> {
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::io::AsRawFd as _;
    let from = fs::File::open(source).with_context(|| format!("opening {}", source.display()))?;
    let mode = from.metadata().with_context(|| format!("reading {}", source.display()))?.permissions().mode();
    let to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .with_context(|| format!("creating {}", dest.display()))?;
    // SAFETY: both descriptors are open for the duration of the call; FICLONE
    // reads nothing from memory but its integer argument.
    let cloned = unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) } == 0;
    drop(to);
    if !cloned {
        fs::remove_file(dest).with_context(|| format!("removing {}", dest.display()))?;
        return Ok(false);
    }
    fs::set_permissions(dest, fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", dest.display()))?;
    Ok(true)
}

/// Elsewhere `fs::copy` clones where the platform does (macOS `clonefile`).
#[cfg(not(target_os = "linux"))]
fn clone_file(_source: &Path, _dest: &Path) -> Result<bool> {
    Ok(false)
}

/// Runs `par.setup` in the worktree with its output appended to the log.
fn run_setup(id: &str, setup: &str, worktree: &Path, log: &Path) -> Result<()> {
    let at = crate::state::now();
    logs::write_line(log, &logs::lifecycle_line(&at, "setup", id, setup))?;
    let out = logs::open_append(log)?;
    let start = fs::metadata(log).map(|m| m.len()).unwrap_or(0);
    let status = crate::shell::sh_in(worktree, out, log)?
        .arg("-c")
        .arg(setup)
        .env("GIT_PAR_TASK", id)
        .env("GIT_PAR_LOG", log)
        .status()
        .with_context(|| format!("running `sh -c {setup}` in {}", worktree.display()))?;
    let code = status.code().map_or_else(|| "killed by a signal".to_string(), |c| format!("exit {c}"));
    logs::write_line(log, &logs::lifecycle_line(&crate::state::now(), "setup", id, &code))?;
    if status.success() {
        return Ok(());
    }
    let text = fs::read(log)
        .map(|b| b.get(start as usize..).map(<[u8]>::to_vec).unwrap_or_default())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[..lines.len().saturating_sub(1)]
        .iter()
        .rev()
        .take(SETUP_TAIL)
        .rev()
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    Err(PrepareError::SetupFailed {
        id: id.to_string(),
        setup: setup.to_string(),
        status: code,
        tail,
        log: log.to_path_buf(),
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(globs: &[&str]) -> Matcher {
        Matcher::new(&globs.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn globs_read_like_gitignore() {
        let m = matcher(&[".env*", "node_modules/", "/config/local.toml", "build/*.cache"]);
        assert!(m.selects(".env"));
        assert!(m.selects(".env.local"));
        assert!(m.selects("services/api/.env"));
        assert!(m.selects("node_modules/a/index.js"));
        assert!(m.selects("web/node_modules/b.js"));
        assert!(m.selects("config/local.toml"));
        assert!(!m.selects("other/config/local.toml"));
        assert!(m.selects("build/x.cache"));
        assert!(!m.selects("target/debug/app"));
        assert!(!m.selects("envy"));
    }

    #[test]
    fn a_bad_glob_is_refused_with_a_hint() {
        let err = Matcher::new(&["a[".to_string()]).err().unwrap();
        assert!(err.to_string().contains("par.copy has an invalid glob 'a['"), "{err}");
        assert!(matches!(err.downcast_ref::<PrepareError>(), Some(PrepareError::BadGlob { .. })));
    }

    #[test]
    fn copies_stay_inside_the_worktree() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, wt, outside) = (tmp.path().join("src"), tmp.path().join("wt"), tmp.path().join("outside"));
        for dir in [&src, &wt, &outside] {
            fs::create_dir_all(dir).unwrap();
        }
        fs::create_dir_all(src.join("conf")).unwrap();
        fs::write(src.join("conf/.env"), "SECRET=1\n").unwrap();
        fs::write(src.join(".env"), "A=1\n").unwrap();
        std::os::unix::fs::symlink(&outside, wt.join("conf")).unwrap();
        let skipped = copy_one(&src.join("conf/.env"), &wt, Path::new("conf/.env")).unwrap();
        assert!(matches!(skipped, Copied::Skipped(ref why) if why.contains("symlink")));
        assert!(!outside.join(".env").exists());
        assert!(matches!(
            copy_one(&src.join(".env"), &wt, Path::new(".env")).unwrap(),
            Copied::Cloned | Copied::Plain
        ));
        assert_eq!(fs::read_to_string(wt.join(".env")).unwrap(), "A=1\n");
        fs::write(src.join(".env"), "changed\n").unwrap();
        assert!(matches!(copy_one(&src.join(".env"), &wt, Path::new(".env")).unwrap(), Copied::Skipped(_)));
        assert_eq!(fs::read_to_string(wt.join(".env")).unwrap(), "A=1\n");
    }
}
