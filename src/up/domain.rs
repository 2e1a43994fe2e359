//! The one place `git par up` reaches the rest of git-par: reading the plan
//! and the state, starting, landing and blocking a task, and the names of
//! its files. Everything else in [`crate::up`] goes through [`Domain`], so a
//! change of the domain's shape (a workspace, typed outcomes, another state
//! backend) changes this file only.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context as _, Result};

use crate::commands::Context;
use crate::config::Config;
use crate::land::{self, Progress, Request};
use crate::lifecycle::{self, StartOptions};
use crate::repo::Repo;
use crate::state::{State, Store};
use crate::tasks::{self, TaskFile};
use crate::{logs, refuse};

/// The plan as read from its file.
pub struct Plan {
    pub file: TaskFile,
    /// The file, absolute.
    pub path: PathBuf,
    /// The file relative to the repository root.
    pub rel: String,
}

/// How a start went, when it did not.
pub enum StartFailure {
    /// Another task holds a path it needs (exit 3): try again later.
    Busy(String),
    /// Refused or failed; nothing was left behind.
    Failed(anyhow::Error),
}

/// The domain as `git par up` uses it.
pub struct Domain<'a> {
    cx: &'a Context<'a>,
}

impl<'a> Domain<'a> {
    pub fn new(cx: &'a Context<'a>) -> Domain<'a> {
        Domain { cx }
    }

    pub fn config(&self) -> &Config {
        &self.cx.config
    }

    pub fn main_root(&self) -> &Path {
        self.cx.main_root()
    }

    /// Finds and reads the task file (warning about duplicate IDs once).
    pub fn plan(&self) -> Result<Plan> {
        let loaded = self.cx.tasks()?;
        tasks::discover::require_in_repository(&loaded.path, &loaded.rel, self.cx.main_root())?;
        Ok(Plan { file: loaded.file, path: loaded.path, rel: loaded.rel })
    }

    /// Reads the task file again (landings tick it, and what they add
    /// changes how paths resolve), without warning again.
    pub fn reread(&self, plan: &Plan) -> Result<TaskFile> {
        let text = self
            .cx
            .store
            .with_shared_lock(crate::land::SYNC_LOCK, || tasks::discover::read_text(&plan.path))?;
        let options = self.cx.task_options(&plan.path)?;
        tasks::read(&text, &options).with_context(|| format!("reading tasks from {}", plan.path.display()))
    }

    /// The active tasks and their locks.
    pub fn state(&self) -> Result<State> {
        self.cx.store.load()
    }

    /// Starts one task (its worktree prepared, DESIGN §12); returns its worktree.
    pub fn start(&self, id: &str) -> Result<(PathBuf, Vec<String>), StartFailure> {
        let options = StartOptions { ids: vec![id.to_string()], ..StartOptions::default() };
        match lifecycle::start(self.cx, &options) {
            Ok(outcome) => match outcome.started.into_iter().next() {
                Some(started) => Ok((started.worktree, outcome.warnings)),
                None => Err(StartFailure::Failed(anyhow::anyhow!("starting {id} started nothing"))),
            },
            Err(err) if crate::error::exit_code(&err) == crate::error::Exit::Busy as i32 => {
                Err(StartFailure::Busy(err.to_string()))
            }
            Err(err) => Err(StartFailure::Failed(err)),
        }
    }

    /// Blocks an active task with `reason` (blockers.md, its log, the state).
    pub fn block(&self, id: &str, reason: &str) -> Result<Vec<String>> {
        Ok(lifecycle::block(self.cx, id, reason)?.warnings)
    }

    /// What lands this run's tasks; it can be sent to another thread.
    pub fn lander(&self, verify: Option<String>) -> Result<Lander> {
        let state = self.cx.store.load()?;
        let main_branch = self.cx.main_branch(&state)?;
        let tasks_file = match &state.tasks_file {
            Some(file) => Some(file.clone()),
            None => Some(self.plan()?.rel),
        };
        let enforce_scope = crate::repo::index::config_string(&self.cx.repo.git, "par.enforceScope")?
            .map(|value| crate::config::EnforceScope::from_config(Some(&value)).unwrap_or_default());
        Ok(Lander {
            main_root: self.cx.main_root().to_path_buf(),
            template: Request {
                id: String::new(),
                strategy: crate::cli::Strategy::Merge,
                verify: verify.or_else(|| self.cx.config.verify.clone()).filter(|v| !v.trim().is_empty()),
                commit: None,
                keep: false,
                wait: None,
                dry_run: false,
                main_branch,
                tasks_file,
                log_dir: self.cx.config.log_dir.clone(),
                enforce_scope,
            },
        })
    }

    /// The log of task `id`.
    pub fn log_path(&self, id: &str) -> PathBuf {
        logs::log_path(self.cx.main_root(), &self.cx.config.log_dir, id)
    }

    /// Keeps the log directory out of `git status`.
    pub fn exclude_logs(&self) -> Result<()> {
        logs::ensure_excluded(&self.cx.repo.common_dir, self.cx.main_root(), &self.cx.config.log_dir)
    }

    /// Where `git par up` keeps its records of each task's agent.
    pub fn run_dir(&self) -> PathBuf {
        self.cx.store.dir().join("up")
    }

    /// Runs `f` as the only `git par up` of this repository; another one
    /// running is refused (exit 3) rather than waited for.
    pub fn exclusive<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let path = self.cx.store.dir().join("up.lock");
        let file: File = self.cx.store.open_sidecar(&path)?;
        let mut lock = fd_lock::RwLock::new(file);
        let guard = match lock.try_write() {
            Ok(guard) => guard,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Err(crate::error::Refusal::busy(
                    "another `git par up` is running in this repository",
                )
                .hint("wait for it to end, or stop it with Ctrl-C; `git par lock-status` shows its tasks")
                .into());
            }
            Err(e) => return Err(e).with_context(|| format!("locking {}", path.display())),
        };
        let result = f();
        drop(guard);
        result
    }
}

/// Lands tasks through the merge queue (DESIGN §6), from any thread.
#[derive(Debug, Clone)]
pub struct Lander {
    main_root: PathBuf,
    template: Request,
}

/// Why a landing did not happen.
#[derive(Debug, Clone)]
pub struct LandFailure {
    /// What went wrong, on one line.
    pub reason: String,
    /// Everything said about it: causes, hints, what a refused commit printed.
    pub details: String,
}

impl Lander {
    /// Lands task `id`, first committing what its agent left uncommitted
    /// with `message` (through the pre-commit hook). Returns the new commit.
    pub fn land(&self, id: &str, message: &str) -> Result<String, LandFailure> {
        let said = Mutex::new(String::new());
        let result = (|| {
            // git2 handles are per thread: each landing opens its own.
            let repo = Repo::discover(&self.main_root)?;
            let store = Store::new(repo.par_dir());
            let request =
                Request { id: id.to_string(), commit: Some(message.to_string()), ..self.template.clone() };
            let note = |p: Progress<'_>| {
                if let Progress::CommitRefused { output } = p {
                    if let Ok(mut said) = said.lock() {
                        said.push_str(output);
                    }
                }
            };
            let landing = land::finish(&repo, &store, &request, &note)?;
            match landing.commit {
                Some(commit) => Ok(commit.to_string()),
                None => refuse!("the landing of {id} made no commit"),
            }
        })();
        result.map_err(|err: anyhow::Error| {
            let said = said.into_inner().unwrap_or_default();
            let mut reason = one_line(&err.to_string());
            // A refused commit says which paths in what it printed: keep that, not its hints.
            let said_lines: Vec<&str> = said
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
                .map(|l| l.strip_prefix("error:").map_or(l, str::trim))
                .collect();
            if !said_lines.is_empty() {
                reason = one_line(&format!("{reason}: {}", said_lines.join("; ")));
            }
            let mut details = format!("{err:#}");
            if let Some(refusal) = crate::error::refusal(&err) {
                for hint in &refusal.hints {
                    details.push_str(&format!("\nhint: {hint}"));
                }
            }
            if !said.is_empty() {
                details.push('\n');
                details.push_str(said.trim_end());
            }
            LandFailure { reason, details }
        })
    }
}

/// Text folded onto one line, and shortened.
pub fn one_line(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    const MAX: usize = 300;
    if folded.chars().count() <= MAX {
        return folded;
    }
    let cut: String = folded.chars().take(MAX).collect();
    format!("{cut}…")
}
