//! The pre-commit hook (DESIGN §7): installing it where git will run it, and
//! deciding which paths a commit may touch.
//!
//! Invariants:
//! - A `pre-commit` hook that is not git-par's is never overwritten or
//!   deleted: `install` renames it to `pre-commit.par-orig` (same bytes, same
//!   mode, same inode) and the wrapper runs it first; `uninstall` renames it
//!   back. A rename is atomic, so no step leaves a half-written hook.
//! - Installing twice is installing once: the wrapper is recognised by its
//!   marker line and rewritten only when its text changed.
//! - A wrapper someone edited after git-par wrote it (its bytes are not any
//!   wrapper git-par ever wrote) is neither rewritten nor removed: `install`
//!   and `uninstall` refuse, change nothing, and say how to set the edited
//!   file aside, so the user's text is never lost.
//! - A hook inside a worktree (a relative `core.hooksPath`) is added to the
//!   shared `.git/info/exclude` before it is written, unless git already
//!   ignores it, so it is never committed by `git add -A` and never makes a
//!   task's worktree look dirty to `finish` or `abort`.
//! - The check reads the state and the given paths only; it never looks at
//!   the working tree.

use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::config::EnforceScope;
use crate::locks::{self, PathHolders};
use crate::repo::index::{self, GitDirs};
use crate::repo::Repo;
use crate::state::lock_index::{LockTable, TaskLocks};
use crate::state::{State, StateBackend, Transact as _};

/// The hook git-par installs.
pub const HOOK_NAME: &str = "pre-commit";
/// The name an existing hook is kept under while git-par's wrapper runs it.
pub const ORIGINAL_NAME: &str = "pre-commit.par-orig";
/// The line that marks a hook file as git-par's wrapper.
const MARKER: &str = "# git-par-hook: pre-commit";

/// The wrapper installed as `pre-commit`. It runs the hook it replaced
/// first (same arguments and stdin; its failure stops the commit), then the
/// check. When `git-par` is not on PATH it warns and lets the commit
/// through: a missing tool must not make a repository uncommittable, and
/// `git par hook uninstall` is the way to stop the warning.
const WRAPPER: &str = r#"#!/bin/sh
# git-par-hook: pre-commit v1
# Installed by `git par hook install`: refuses commits that touch paths
# locked by another git-par task, or paths outside this task's locks.
# `git par hook uninstall` removes it and puts back the hook it replaced,
# which is kept next to it as pre-commit.par-orig and runs first.

# Parameter expansion rather than `dirname`: one fork less on every commit.
case $0 in */*) orig="${0%/*}/pre-commit.par-orig" ;; *) orig=pre-commit.par-orig ;; esac
if [ -f "$orig" ] && [ -x "$orig" ]; then
    "$orig" "$@" || exit $?
fi

if command -v git-par >/dev/null 2>&1; then
    exec git-par check --staged
fi
echo "warning: git-par is not on PATH, so this commit was not checked against its locks" >&2
echo "hint: install git-par, or remove this hook with \`git par hook uninstall\`" >&2
exit 0
"#;

/// The wrappers earlier versions of git-par wrote, byte for byte: still
/// git-par's own, so `install` replaces them and `uninstall` removes them.
const OLD_WRAPPERS: [&str; 1] = [r#"#!/bin/sh
# git-par-hook: pre-commit v1
# Installed by `git par hook install`: refuses commits that touch paths
# locked by another git-par task, or paths outside this task's locks.
# `git par hook uninstall` removes it and puts back the hook it replaced,
# which is kept next to it as pre-commit.par-orig and runs first.

orig="$(dirname -- "$0")/pre-commit.par-orig"
if [ -f "$orig" ] && [ -x "$orig" ]; then
    "$orig" "$@" || exit $?
fi

if command -v git-par >/dev/null 2>&1; then
    exec git-par check --staged
fi
echo "warning: git-par is not on PATH, so this commit was not checked against its locks" >&2
echo "hint: install git-par, or remove this hook with \`git par hook uninstall\`" >&2
exit 0
"#];

/// The name an edited wrapper is told to be moved to before `install` or `uninstall`.
pub const MODIFIED_NAME: &str = "pre-commit.par-modified";

/// Why the hook cannot be installed or removed, or a path checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookError {
    /// git-par's wrapper was edited since it was written; removing or
    /// reinstalling it would lose that (`aside`: where to move it first).
    Modified { hook: PathBuf, aside: PathBuf, uninstall: bool },
    /// The hook file (`rel`, in the worktree) is tracked by the repository.
    Tracked { rel: PathBuf },
    /// A foreign hook is installed and the name it would be kept under is taken.
    OriginalTaken { hook: PathBuf, original: PathBuf },
    /// A path to check lies outside the worktree at `root`.
    Outside { path: PathBuf, root: PathBuf },
    /// A path to check is a directory.
    Directory { path: PathBuf },
    /// A path to check cannot be a lock.
    Unlockable { path: PathBuf, reason: String },
}

impl std::fmt::Display for HookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HookError::Modified { hook, uninstall, .. } => write!(
                f,
                "{} is git-par's hook with changes made after it was installed; {} would lose them",
                hook.display(),
                if *uninstall { "removing it" } else { "reinstalling it" }
            ),
            HookError::Tracked { rel } => write!(
                f,
                "{} is tracked by the repository, so installing a hook there would change committed files",
                rel.display()
            ),
            HookError::OriginalTaken { hook, original } => write!(
                f,
                "{} is not git-par's hook, and {} is already taken",
                hook.display(),
                original.display()
            ),
            HookError::Outside { path, root } => {
                write!(f, "'{}' is outside the repository at {}", path.display(), root.display())
            }
            HookError::Directory { path } => write!(f, "'{}' is a directory", path.display()),
            HookError::Unlockable { path, reason } => {
                write!(f, "cannot check '{}': {reason}", path.display())
            }
        }
    }
}

impl std::error::Error for HookError {}

/// Where git looks for hooks from the current worktree.
#[derive(Debug, Clone)]
pub struct HooksDir {
    pub dir: PathBuf,
    /// `core.hooksPath` as configured, if set.
    pub configured: Option<String>,
    /// Whether every worktree of the repository uses this directory. A
    /// relative `core.hooksPath` is resolved by git against the root of the
    /// worktree committing, so each worktree has its own.
    pub shared: bool,
}

impl HooksDir {
    /// The hook file.
    pub fn hook(&self) -> PathBuf {
        self.dir.join(HOOK_NAME)
    }

    /// Where a replaced hook is kept.
    pub fn original(&self) -> PathBuf {
        self.dir.join(ORIGINAL_NAME)
    }
}

/// Resolves the hooks directory as git does: `core.hooksPath` (a leading
/// `~/` is the home directory; relative to the worktree root, where git runs
/// hooks), else `hooks/` in the common git directory.
pub fn hooks_dir(repo: &Repo) -> Result<HooksDir> {
    hooks_dir_of(repo, &repo.root)
}

/// The hooks directory git uses when committing in the worktree at `root`.
fn hooks_dir_of(repo: &Repo, root: &Path) -> Result<HooksDir> {
    let configured = index::config_string(&repo.git, "core.hooksPath")?;
    let Some(value) = configured.clone().filter(|v| !v.is_empty()) else {
        return Ok(HooksDir { dir: repo.common_dir.join("hooks"), configured, shared: true });
    };
    let expanded = expand_home(&value);
    let shared = expanded.is_absolute();
    let dir = if shared { expanded } else { root.join(expanded) };
    Ok(HooksDir { dir, configured, shared })
}

/// `path` relative to the root of `repo`'s worktree, when it lies inside it.
fn inside_worktree(repo: &Repo, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(&repo.root).ok()?;
    rel.components().all(|part| matches!(part, Component::Normal(_))).then(|| rel.to_path_buf())
}

fn expand_home(value: &str) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (value.strip_prefix('~'), home) {
        (Some(""), Some(home)) => home,
        (Some(rest), Some(home)) if rest.starts_with('/') => home.join(rest.trim_start_matches('/')),
        _ => PathBuf::from(value),
    }
}

/// What occupies the `pre-commit` slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No hook.
    Absent,
    /// git-par's wrapper as git-par wrote it; `current` is false when an older version of it.
    Ours { current: bool },
    /// git-par's wrapper (its marker line is there) edited since it was written.
    Modified,
    /// Someone else's hook.
    Foreign,
}

/// What is installed in a hooks directory.
#[derive(Debug, Clone)]
pub struct HookStatus {
    pub found: Found,
    /// The hook the wrapper runs first, when there is one.
    pub original: Option<PathBuf>,
}

/// Looks at the hook slot of `hooks`.
pub fn status(hooks: &HooksDir) -> Result<HookStatus> {
    let found = inspect(&hooks.hook())?;
    let original = hooks.original();
    let original = exists(&original)?.then_some(original);
    Ok(HookStatus { found, original })
}

fn inspect(hook: &Path) -> Result<Found> {
    let meta = match fs::symlink_metadata(hook) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Found::Absent),
        Err(e) => return Err(e).with_context(|| format!("reading {}", hook.display())),
    };
    if !meta.is_file() {
        return Ok(Found::Foreign);
    }
    let bytes = fs::read(hook).with_context(|| format!("reading {}", hook.display()))?;
    let marked = bytes.split(|b| *b == b'\n').take(3).any(|line| line.starts_with(MARKER.as_bytes()));
    Ok(if !marked {
        Found::Foreign
    } else if bytes == WRAPPER.as_bytes() {
        Found::Ours { current: true }
    } else if OLD_WRAPPERS.iter().any(|old| bytes == old.as_bytes()) {
        Found::Ours { current: false }
    } else {
        Found::Modified
    })
}

impl Found {
    /// Whether git-par's wrapper is in the slot (as written, or edited since).
    pub fn is_ours(self) -> bool {
        matches!(self, Found::Ours { .. } | Found::Modified)
    }
}

/// The refusal to rewrite or remove a wrapper the user edited: nothing is
/// changed, and the way out keeps the edited file (moved to `aside`).
fn modified(hooks: &HooksDir, uninstall: bool) -> HookError {
    HookError::Modified { hook: hooks.hook(), aside: hooks.dir.join(MODIFIED_NAME), uninstall }
}

fn exists(path: &Path) -> Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// The wrapper was written; `original` is the kept hook it runs first.
    Fresh { original: Option<PathBuf> },
    /// An older wrapper was replaced by the current one.
    Updated,
    /// The current wrapper was already there; nothing changed.
    Unchanged,
}

/// What `install` did, and what it told git to ignore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    pub installed: Installed,
    /// The hook, relative to the worktree root, when `install` added it to
    /// `.git/info/exclude`: a hook inside the worktree (a relative
    /// `core.hooksPath`) would otherwise be an untracked file that `git add
    /// -A` commits and that keeps `finish` and `abort` from seeing a clean worktree.
    pub excluded: Option<PathBuf>,
}

/// Installs the wrapper in `hooks`, keeping an existing hook as
/// `pre-commit.par-orig`. Refuses to edit a hook file tracked by the
/// repository (a relative `core.hooksPath` inside the worktree), or a
/// wrapper edited since git-par wrote it.
pub fn install(repo: &Repo, hooks: &HooksDir) -> Result<Install> {
    let hook = hooks.hook();
    let original = hooks.original();
    let found = inspect(&hook)?;
    if found == Found::Modified {
        return Err(modified(hooks, false).into());
    }
    let inside = inside_worktree(repo, &hook);
    if let Some(rel) = &inside {
        if index::is_tracked(&repo.git, rel)? {
            return Err(HookError::Tracked { rel: rel.clone() }.into());
        }
    }
    if found == Found::Foreign && exists(&original)? {
        return Err(HookError::OriginalTaken { hook, original }.into());
    }
    // Before the hook exists, so that it never shows up as untracked.
    let excluded = match &inside {
        Some(rel) if crate::repo::exclude::exclude_file(&repo.git, rel, "the git-par pre-commit hook")? => {
            Some(rel.clone())
        }
        _ => None,
    };
    let installed = write_wrapper(hooks, found)?;
    Ok(Install { installed, excluded })
}

/// Puts the wrapper in the hook slot, moving a foreign hook (`found`) to
/// `pre-commit.par-orig` first.
fn write_wrapper(hooks: &HooksDir, found: Found) -> Result<Installed> {
    let hook = hooks.hook();
    let original = hooks.original();
    if found == (Found::Ours { current: true }) {
        return Ok(Installed::Unchanged);
    }
    fs::create_dir_all(&hooks.dir).with_context(|| format!("creating {}", hooks.dir.display()))?;
    // Written beside the hook first, so the user's hook is only moved once
    // the wrapper is ready to take its place.
    let staged = hooks.dir.join("pre-commit.par-new");
    write_executable(&staged, WRAPPER)?;
    if found == Found::Foreign {
        if let Err(e) = fs::rename(&hook, &original) {
            let _ = fs::remove_file(&staged);
            return Err(e).with_context(|| format!("moving {} to {}", hook.display(), original.display()));
        }
    }
    if let Err(e) = fs::rename(&staged, &hook) {
        let _ = fs::remove_file(&staged);
        if found == Found::Foreign {
            let _ = fs::rename(&original, &hook);
        }
        return Err(e).with_context(|| format!("installing {}", hook.display()));
    }
    Ok(match found {
        Found::Ours { .. } | Found::Modified => Installed::Updated,
        Found::Absent | Found::Foreign => {
            Installed::Fresh { original: exists(&original)?.then_some(original) }
        }
    })
}

fn write_executable(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", path.display()))?;
    }
    Ok(())
}

/// Installs git-par's hook in the task worktree just created at `worktree`
/// when the main worktree has it through a relative `core.hooksPath`: git
/// then resolves the hooks directory in each worktree, and a new worktree
/// has none. Returns the hook installed; `None` when nothing was needed (the
/// hooks directory serves every worktree, the main worktree does not have
/// git-par's hook, or the hook file is tracked by the repository).
pub fn install_for_new_worktree(repo: &Repo, worktree: &Path) -> Result<Option<PathBuf>> {
    let main = hooks_dir_of(repo, &repo.main_root)?;
    if main.shared || !inspect(&main.hook())?.is_ours() {
        return Ok(None);
    }
    let task = Repo::discover(worktree)?;
    let hooks = hooks_dir(&task)?;
    if let Some(rel) = inside_worktree(&task, &hooks.hook()) {
        if index::is_tracked(&task.git, &rel)? {
            return Ok(None);
        }
    }
    install(&task, &hooks)?;
    Ok(Some(hooks.hook()))
}

/// Whether git-par's hook is in the slot git uses for commits in the
/// worktree at `root` (as written, or edited since).
pub fn installed_for(repo: &Repo, root: &Path) -> Result<bool> {
    Ok(inspect(&hooks_dir_of(repo, root)?.hook())?.is_ours())
}

/// What `uninstall` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uninstalled {
    /// The wrapper was removed; `restored` is the hook put back in its place.
    Removed { restored: Option<PathBuf> },
    /// git-par's hook was not installed; nothing changed.
    NotInstalled,
}

/// Removes the wrapper and puts back the hook it replaced, untouched. A
/// kept original whose wrapper was deleted is put back too; a foreign hook
/// is never touched. Refuses, changing nothing, when the wrapper was edited
/// since git-par wrote it.
pub fn uninstall(hooks: &HooksDir) -> Result<Uninstalled> {
    let hook = hooks.hook();
    let original = hooks.original();
    let found = inspect(&hook)?;
    if found == Found::Foreign {
        return Ok(Uninstalled::NotInstalled);
    }
    if found == Found::Modified {
        return Err(modified(hooks, true).into());
    }
    if exists(&original)? {
        // One rename replaces the wrapper: there is never a moment without a hook.
        fs::rename(&original, &hook)
            .with_context(|| format!("restoring {} as {}", original.display(), hook.display()))?;
        return Ok(Uninstalled::Removed { restored: Some(hook) });
    }
    if found == Found::Absent {
        return Ok(Uninstalled::NotInstalled);
    }
    fs::remove_file(&hook).with_context(|| format!("removing {}", hook.display()))?;
    Ok(Uninstalled::Removed { restored: None })
}

/// The first `git-par` executable on PATH, as the wrapper would find it.
pub fn git_par_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("git-par"))
        .find(|candidate| crate::repo::is_executable(candidate))
}

/// Why a path may not be committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Another active task holds it.
    Locked,
    /// The current task's locks do not cover it.
    OutOfScope,
}

/// The task holding a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub task: String,
    /// `user@host`.
    pub owner: String,
}

/// One path that breaks the locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub reason: Reason,
    /// Who holds the path (`None` for a path outside the task's locks that nobody holds).
    pub holder: Option<Holder>,
    /// Whether it refuses the commit (false: `par.enforceScope = warn`).
    pub refuses: bool,
}

/// The outcome of checking paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The task whose worktree (or branch) the check ran in.
    pub task: Option<String>,
    pub violations: Vec<Violation>,
    /// Lock patterns in the state that no longer compile, with their task; they lock nothing.
    pub broken_locks: Vec<(String, String)>,
    /// Paths outside the task's locks that no other task holds, to be added
    /// to its locks (`par.enforceScope = acquire`); see [`acquire`].
    pub acquire: Vec<String>,
}

impl Verdict {
    /// Whether the paths must be refused.
    pub fn refused(&self) -> bool {
        self.violations.iter().any(|v| v.refuses)
    }
}

/// The active task this worktree belongs to: its worktree is this one
/// (compared canonically), or its branch is checked out here.
pub fn current_task<'t, 'a>(table: &'t LockTable<'a>, dirs: &GitDirs) -> Option<&'t TaskLocks<'a>> {
    if let Some(branch) = dirs.head_branch() {
        if let Some(task) = table.tasks.iter().find(|t| t.branch == branch) {
            return Some(task);
        }
    }
    if dirs.is_main_worktree() {
        // A task's worktree is always a linked one: spare every commit on
        // main comparing (let alone resolving) each active task's worktree.
        return None;
    }
    if let Some(task) = table.tasks.iter().find(|t| t.worktree == dirs.root) {
        return Some(task);
    }
    let here = fs::canonicalize(&dirs.root).ok()?;
    table.tasks.iter().find(|t| fs::canonicalize(t.worktree).is_ok_and(|there| there == here))
}

/// Checks repository-relative `paths` against the active tasks' locks, as
/// seen from task `me` (or from outside any task). The task file is
/// git-par's own and is never refused.
pub fn check(state: &State, me: Option<&str>, scope: EnforceScope, paths: &[String]) -> Verdict {
    check_table(&LockTable::of(state), me, scope, paths)
}

/// [`check`] against the locks of `table` (a state's, or its lock index's).
pub fn check_table(
    table: &LockTable<'_>,
    me: Option<&str>,
    scope: EnforceScope,
    paths: &[String],
) -> Verdict {
    let tasks_file = table.tasks_file.and_then(|f| locks::normalize(f).ok());
    let mut holders = PathHolders::new(paths);
    for (i, task) in table.tasks.iter().enumerate() {
        for pattern in table.locks_of(task) {
            holders.add(i, pattern);
        }
    }
    let (held, broken) = holders.finish();
    let broken_locks =
        broken.into_iter().map(|(i, pattern)| (table.tasks[i].id.to_string(), pattern)).collect();
    let mut violations = Vec::new();
    let mut acquire = Vec::new();
    for (path, held) in paths.iter().zip(held) {
        if tasks_file.as_deref() == Some(path.as_str()) {
            continue;
        }
        let mut mine = false;
        let mut locked_elsewhere = false;
        for task in held.into_iter().map(|i| &table.tasks[i]) {
            if Some(task.id) == me {
                mine = true;
            } else {
                locked_elsewhere = true;
                violations.push(Violation {
                    path: path.clone(),
                    reason: Reason::Locked,
                    holder: Some(Holder { task: task.id.to_string(), owner: task.owner.to_string() }),
                    refuses: true,
                });
            }
        }
        if me.is_some() && !mine && !locked_elsewhere && scope == EnforceScope::Acquire {
            acquire.push(path.clone());
        } else if me.is_some() && !mine && !locked_elsewhere && scope != EnforceScope::Off {
            violations.push(Violation {
                path: path.clone(),
                reason: Reason::OutOfScope,
                holder: None,
                refuses: scope == EnforceScope::Error,
            });
        }
    }
    Verdict { task: me.map(str::to_string), violations, broken_locks, acquire }
}

/// Adds `paths` to the locks of task `me` in one state transaction, after
/// checking again, under the state lock, that no other task holds any of
/// them (another commit may have acquired one since [`check`] read the
/// state). Returns the paths another task holds now: then nothing is added.
pub fn acquire(state: &dyn StateBackend, me: &str, paths: &[String]) -> anyhow::Result<Vec<Violation>> {
    state.update(|state| {
        let verdict = check(state, Some(me), EnforceScope::Acquire, paths);
        let taken: Vec<Violation> = verdict.violations.into_iter().filter(|v| v.refuses).collect();
        if !taken.is_empty() {
            return Ok(taken);
        }
        if let Some(task) = state.tasks.get_mut(me) {
            for path in verdict.acquire {
                if !task.locks.contains(&path) {
                    task.locks.push(path);
                }
            }
        }
        Ok(Vec::new())
    })
}

/// `path` (relative to `cwd`, or absolute) as a normalised path relative to
/// the worktree root. A path outside the worktree is refused (exit 1, as
/// `lock` refuses one); a directory is a usage error: a lock is checked per file.
pub fn repo_relative(path: &Path, cwd: &Path, root: &Path) -> Result<String> {
    let absolute = clean(&cwd.join(path));
    let rel = match absolute.strip_prefix(root) {
        Ok(rel) => Some(rel.to_path_buf()),
        // Through a symlink: compare real paths.
        Err(_) => real_path(&absolute).and_then(|real| {
            let root = root.canonicalize().ok()?;
            real.strip_prefix(root).ok().map(Path::to_path_buf)
        }),
    };
    let outside = || HookError::Outside { path: path.to_path_buf(), root: root.to_path_buf() };
    let Some(rel) = rel else { return Err(outside().into()) };
    let text = rel.to_string_lossy();
    if text.is_empty() {
        return Err(outside().into());
    }
    if path.to_string_lossy().ends_with('/') || absolute.is_dir() {
        return Err(HookError::Directory { path: path.to_path_buf() }.into());
    }
    locks::normalize(&text)
        .map_err(|reason| HookError::Unlockable { path: path.to_path_buf(), reason }.into())
}

/// Applies `.` and `..` without touching the file system.
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The real path of `path`: its longest existing ancestor canonicalised, plus the rest.
fn real_path(path: &Path) -> Option<PathBuf> {
    let mut rest = Vec::new();
    let mut existing = path;
    loop {
        if let Ok(real) = existing.canonicalize() {
            return Some(rest.iter().rev().fold(real, |acc: PathBuf, part| acc.join(part)));
        }
        rest.push(existing.file_name()?.to_owned());
        existing = existing.parent()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{ActiveTask, Owner, TaskStatus};

    fn task(id: &str, locks: &[&str]) -> ActiveTask {
        ActiveTask {
            id: id.to_string(),
            branch: format!("par/{id}"),
            worktree: PathBuf::from(format!("/nowhere/{id}")),
            base: String::new(),
            locks: locks.iter().map(|l| l.to_string()).collect(),
            owner: Owner { user: "u".to_string(), host: "h".to_string() },
            started_at: String::new(),
            state: TaskStatus::Active,
            blocked_reason: None,
        }
    }

    fn state(tasks: Vec<ActiveTask>) -> State {
        State {
            tasks_file: Some("specs/001/tasks.md".to_string()),
            tasks: tasks.into_iter().map(|t| (t.id.clone(), t)).collect(),
            ..State::default()
        }
    }

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| p.to_string()).collect()
    }

    fn summary(verdict: &Verdict) -> Vec<(String, Reason, Option<String>, bool)> {
        verdict
            .violations
            .iter()
            .map(|v| (v.path.clone(), v.reason, v.holder.as_ref().map(|h| h.task.clone()), v.refuses))
            .collect()
    }

    #[test]
    fn main_is_refused_only_locked_paths() {
        let s = state(vec![task("T1", &["src/a.py"]), task("T2", &["docs/"])]);
        let v = check(&s, None, EnforceScope::Error, &paths(&["README.md", "docs/x.md", "src/a.py"]));
        assert_eq!(
            summary(&v),
            vec![
                ("docs/x.md".to_string(), Reason::Locked, Some("T2".to_string()), true),
                ("src/a.py".to_string(), Reason::Locked, Some("T1".to_string()), true),
            ]
        );
        assert!(v.refused());
    }

    #[test]
    fn a_task_may_touch_its_own_paths_only() {
        let s = state(vec![task("T1", &["src/**/*.py"]), task("T2", &["docs/"])]);
        let v = check(&s, Some("T1"), EnforceScope::Error, &paths(&["src/x/a.py", "docs/y.md", "notes.txt"]));
        assert_eq!(
            summary(&v),
            vec![
                ("docs/y.md".to_string(), Reason::Locked, Some("T2".to_string()), true),
                ("notes.txt".to_string(), Reason::OutOfScope, None, true),
            ]
        );
    }

    #[test]
    fn enforce_scope_warn_and_off() {
        let s = state(vec![task("T1", &["src/"]), task("T2", &["docs/"])]);
        let files = paths(&["docs/y.md", "notes.txt"]);
        let warn = check(&s, Some("T1"), EnforceScope::Warn, &files);
        assert_eq!(summary(&warn)[1], ("notes.txt".to_string(), Reason::OutOfScope, None, false));
        assert!(warn.refused(), "another task's path still refuses");
        let off = check(&s, Some("T1"), EnforceScope::Off, &paths(&["notes.txt"]));
        assert!(off.violations.is_empty() && !off.refused());
    }

    #[test]
    fn the_task_file_is_never_refused() {
        let s = state(vec![task("T1", &["src/"]), task("T2", &["specs/"])]);
        assert!(check(&s, Some("T1"), EnforceScope::Error, &paths(&["specs/001/tasks.md"]))
            .violations
            .is_empty());
        assert!(check(&s, None, EnforceScope::Error, &paths(&["specs/001/tasks.md"])).violations.is_empty());
    }

    #[test]
    fn globs_match_only_below_their_literal_directory() {
        let s = state(vec![task("T1", &["src/a/*.rs"]), task("T2", &["docs/**/x.md"])]);
        let v =
            check(&s, None, EnforceScope::Error, &paths(&["docs/q/r/x.md", "src/a/m.rs", "src/a/b/m.rs"]));
        assert_eq!(
            summary(&v),
            vec![
                ("docs/q/r/x.md".to_string(), Reason::Locked, Some("T2".to_string()), true),
                ("src/a/m.rs".to_string(), Reason::Locked, Some("T1".to_string()), true),
            ]
        );
    }

    #[test]
    fn paths_are_made_repository_relative() {
        let root = Path::new("/r");
        assert_eq!(repo_relative(Path::new("a/../b.txt"), Path::new("/r/sub"), root).unwrap(), "sub/b.txt");
        assert_eq!(repo_relative(Path::new("/r/x/y"), Path::new("/elsewhere"), root).unwrap(), "x/y");
        assert!(repo_relative(Path::new("../../etc/passwd"), Path::new("/r/sub"), root).is_err());
    }

    #[test]
    fn home_is_expanded_in_hooks_path() {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        if let Some(home) = home {
            assert_eq!(expand_home("~/hooks"), home.join("hooks"));
        }
        assert_eq!(expand_home(".githooks"), PathBuf::from(".githooks"));
        assert_eq!(expand_home("/abs/hooks"), PathBuf::from("/abs/hooks"));
    }
}
