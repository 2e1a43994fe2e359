//! The workspace: everything a run of git-par works on, opened once. The
//! repository around the current directory, its `par.*` configuration, the
//! state of the run, the task file, and the global options.
//!
//! The command layer builds one and hands it to the domain; the domain never
//! sees how it is rendered. Nothing here prints: what a reader should know
//! (a duplicated task ID) comes back as warnings with the value.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::config::Config;
use crate::repo::Repo;
use crate::state::{remote, Event, LocalBackend, Lock, ParDir, RemoteBackend, State, StateBackend};
use crate::tasks::discover::TaskFileError;
use crate::tasks::{self, TaskFile};

/// The main worktree has a detached HEAD and nothing else names the main branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetachedMain;

impl std::fmt::Display for DetachedMain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the main worktree has a detached HEAD, so there is no branch to land tasks on")
    }
}

impl std::error::Error for DetachedMain {}

/// What the global options say, before any repository is opened.
#[derive(Debug, Clone)]
pub struct Options {
    /// The directory git-par runs in (`-C DIR` applied).
    pub cwd: PathBuf,
    /// `--tasks FILE`.
    pub tasks: Option<PathBuf>,
    /// `--strict-phases`.
    pub strict_phases: bool,
    /// `--remote NAME`: keep the state on that remote (else `par.remote`).
    pub remote: Option<String>,
}

/// An opened repository with its configuration and state: what every verb
/// that works on a repository starts from.
pub struct Workspace {
    pub options: Options,
    pub repo: Repo,
    pub config: Config,
    /// `.git/par`: this machine's own files (journal, lock files).
    par: ParDir,
    /// Where the state of the run is kept.
    backend: Box<dyn StateBackend>,
}

/// A task file found and read.
pub struct LoadedTasks {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Path relative to the main worktree's root, `/`-separated.
    pub rel: String,
    /// The file's text (BOM and line endings as they are).
    pub text: String,
    pub file: TaskFile,
    /// What the reader should be told (a task ID used twice).
    pub warnings: Vec<String>,
}

impl Workspace {
    /// Opens the repository around `options.cwd`, which must be a directory.
    pub fn open(options: Options) -> Result<Workspace> {
        let repo = Repo::discover(&options.cwd)?;
        let config = Config::load(&repo)?;
        let par = ParDir::in_git_dir(&repo.common_dir);
        let remote = options.remote.as_ref().or(config.remote.as_ref()).filter(|r| !r.is_empty());
        let backend: Box<dyn StateBackend> = match remote {
            Some(remote) => Box::new(RemoteBackend::open(&repo.common_dir, remote, par.clone())?),
            None => {
                remote::leave_remote_mode(&par)?;
                Box::new(LocalBackend::new(par.clone()))
            }
        };
        Ok(Workspace { options, repo, config, par, backend })
    }

    /// Where the state of the run is kept.
    pub fn state(&self) -> &dyn StateBackend {
        self.backend.as_ref()
    }

    /// `.git/par`, with this machine's journal and lock files.
    pub fn par(&self) -> &ParDir {
        &self.par
    }

    /// Finds the task file (DESIGN §3) and reads it.
    pub fn tasks(&self) -> Result<LoadedTasks> {
        let found = tasks::discover::find(&self.discovery())?;
        let text = self.read_task_text(&found.path)?;
        let options = self.task_options(&found.path)?;
        let file = tasks::read(&text, &options)
            .with_context(|| format!("reading tasks from {}", found.path.display()))?;
        let mut warnings = Vec::new();
        if let Some(dup) = file.duplicates.first() {
            let more = match file.duplicates.len() {
                1 => String::new(),
                n => format!(" (and {} more duplicated IDs)", n - 1),
            };
            warnings.push(format!(
                "task ID {} is used on {} of {}{more}; it cannot be started or finished until it is renamed",
                dup.id,
                dup.lines_text(),
                found.rel
            ));
        }
        if file.tasks.is_empty() {
            // (A duplicated ID needs tasks: there is no warning to lose here.)
            return Err(TaskFileError::NoTasks { rel: found.rel, notes: file.notes }.into());
        }
        Ok(LoadedTasks { path: found.path, rel: found.rel, text, file, warnings })
    }

    /// The text of the task file at `path`, read while no landing rewrites it.
    pub fn read_task_text(&self, path: &Path) -> Result<String> {
        // A landing rewrites the main worktree's tasks.md in place: never read it half written.
        self.par.with_shared_lock(Lock::Sync, || tasks::discover::read_text(path))
    }

    /// How to read the task file at `path`: its paths resolved against the
    /// tracked tree at HEAD and the `plan.md` beside it.
    pub fn task_options(&self, path: &Path) -> Result<tasks::Options> {
        let tracked = self.repo.tracked_files()?;
        let plan_path = path.with_file_name("plan.md");
        let plan = match std::fs::read_to_string(&plan_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("reading {}", plan_path.display())),
        };
        let context = tasks::paths::Context::new(tracked, plan.as_deref());
        Ok(tasks::Options {
            strict_phases: self.options.strict_phases,
            root: Some(self.repo.main_root.clone()),
            context: Some(std::sync::Arc::new(context)),
        })
    }

    /// The inputs of task-file discovery, from flags, config, environment and state.
    pub fn discovery(&self) -> tasks::discover::Sources {
        let recorded = self.state().tasks_file();
        tasks::discover::Sources {
            cwd: self.options.cwd.clone(),
            root: self.repo.main_root.clone(),
            flag: self.options.tasks.clone(),
            config: self.config.tasks.clone(),
            env_feature_dir: std::env::var_os("SPECIFY_FEATURE_DIRECTORY").map(PathBuf::from),
            recorded,
            branch: self.repo.current_branch().ok().flatten(),
        }
    }

    /// The main worktree's root.
    pub fn main_root(&self) -> &Path {
        &self.repo.main_root
    }

    /// The branch tasks land on (DESIGN §5): the one recorded in `state`, else
    /// `par.mainBranch`, else the branch checked out in the main worktree.
    pub fn main_branch(&self, state: &State) -> Result<String> {
        if let Some(branch) = &state.main_branch {
            return Ok(branch.clone());
        }
        if let Some(branch) = &self.config.main_branch {
            return Ok(branch.clone());
        }
        match self.repo.main_worktree_branch()? {
            Some(branch) => Ok(branch),
            None => Err(DetachedMain.into()),
        }
    }

    /// Where a task's worktree goes: `par.worktreeDir/<ID>` (relative to the
    /// main worktree's root), else `<parent>/<repo>.par/<ID>`.
    pub fn worktree_path(&self, id: &str) -> PathBuf {
        self.worktree_dir().join(id)
    }

    /// The directory holding the tasks' worktrees.
    pub fn worktree_dir(&self) -> PathBuf {
        let root = self.main_root();
        match &self.config.worktree_dir {
            Some(dir) => root.join(dir),
            None => {
                let name = root
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "repo".into());
                root.parent().unwrap_or(root).join(format!("{name}.par"))
            }
        }
    }

    /// Runs `f` holding the worktrees lock ([`Lock::Worktrees`]), which every
    /// git-par process holds while it adds, removes or prunes worktrees: `git
    /// worktree add` is not safe against a concurrent one (it reads the other
    /// worktrees' half-written records), and `prune` must not run while a
    /// worktree is half made. Lock order: this one first, then the state's.
    pub fn with_worktrees_locked<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.par.with_lock(Lock::Worktrees, f)
    }

    /// The task logs' directory (`par.logDir`) in the main worktree.
    pub fn log_dir(&self) -> &str {
        &self.config.log_dir
    }

    /// Appends a lifecycle line (`<at> <event> <id> <details>`) to the task's
    /// log; a failure becomes a warning: the state already changed.
    pub fn log(&self, warnings: &mut Vec<String>, at: &str, event: &str, id: &str, details: &str) {
        let line = crate::logs::lifecycle_line(at, event, id, details);
        if let Err(e) = crate::logs::append(self.main_root(), &self.config.log_dir, id, &line) {
            warnings.push(format!("could not write the log of {id}: {e:#}"));
        }
    }

    /// The recorded history of the run, oldest first.
    pub fn events(&self) -> Result<Vec<Event>> {
        self.state().events()
    }
}
