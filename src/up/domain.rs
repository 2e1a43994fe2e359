//! The one place `git par up` reaches the rest of git-par: reading the plan
//! and the state, starting, landing and blocking a task, and the names of
//! its files. Everything else in [`crate::up`] goes through [`Domain`], so a
//! change of the domain's shape changes this file only.
//!
//! It calls the verbs as a library, through the [`Workspace`], and turns
//! their typed errors into what the scheduler decides on: a start refused
//! because another task holds a path ([`StartFailure::Busy`]), a landing
//! that may succeed if tried again ([`LandFailure::transient`]), a task that
//! someone else landed, aborted or blocked meanwhile.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context as _, Result};

use crate::land::{self, LandError, Progress, Request, Strategy};
use crate::lifecycle::{self, StartError, StartOptions, TaskError};
use crate::logs;
use crate::state::{Lock, State};
use crate::tasks;
use crate::workspace::{self, LoadedTasks, Workspace};

use super::UpError;

/// The plan as read from its file.
pub type Plan = LoadedTasks;

/// How a start went, when it did not.
pub enum StartFailure {
    /// Another task holds a path it needs: try again when something lands.
    Busy,
    /// Someone else started or landed it meanwhile: not this run's to take.
    Taken,
    /// Refused or failed; nothing was left behind.
    Failed(anyhow::Error),
}

/// The domain as `git par up` uses it.
pub struct Domain<'a> {
    ws: &'a Workspace,
}

impl<'a> Domain<'a> {
    pub fn new(ws: &'a Workspace) -> Domain<'a> {
        Domain { ws }
    }

    /// Finds and reads the task file; its warnings (a duplicated ID) come with it.
    pub fn plan(&self) -> Result<Plan> {
        let loaded = self.ws.tasks()?;
        tasks::discover::require_in_repository(&loaded.path, &loaded.rel, self.ws.main_root())?;
        Ok(loaded)
    }

    /// Reads the task file again (landings tick it, and what they add
    /// changes how paths resolve), without its warnings.
    pub fn reread(&self, plan: &Plan) -> Result<Plan> {
        let text = self.ws.read_task_text(&plan.path)?;
        let options = self.ws.task_options(&plan.path)?;
        let file = tasks::read(&text, &options)
            .with_context(|| format!("reading tasks from {}", plan.path.display()))?;
        Ok(LoadedTasks { path: plan.path.clone(), rel: plan.rel.clone(), text, file, warnings: Vec::new() })
    }

    /// The active tasks and their locks.
    pub fn state(&self) -> Result<State> {
        self.ws.state().load()
    }

    /// Starts one task (its worktree prepared, DESIGN §12); returns the
    /// warnings the start gave.
    pub fn start(&self, plan: &Plan, id: &str) -> Result<Vec<String>, StartFailure> {
        let options = StartOptions { ids: vec![id.to_string()], ..StartOptions::default() };
        match lifecycle::start(self.ws, plan, &options) {
            Ok(outcome) if outcome.started.iter().any(|s| s.id == id) => Ok(outcome.warnings),
            Ok(_) => Err(StartFailure::Failed(anyhow::anyhow!("starting {id} started nothing"))),
            Err(err) => Err(start_failure(err)),
        }
    }

    /// Makes an active task's worktree ready again (`par.copy`, `par.setup`).
    pub fn prepare(&self, id: &str, worktree: &std::path::Path) -> Result<()> {
        lifecycle::prepare_worktree(self.ws, id, worktree).map(drop)
    }

    /// Blocks an active task with `reason` (blockers.md, its log, the state).
    pub fn block(&self, id: &str, reason: &str) -> Result<Vec<String>> {
        Ok(lifecycle::block(self.ws, id, reason)?.warnings)
    }

    /// What lands this run's tasks; it can be sent to another thread.
    pub fn lander(&self, plan: &Plan, strategy: Strategy, verify: Option<String>) -> Result<Lander> {
        let state = self.ws.state().load()?;
        let main_branch = self.ws.main_branch(&state)?;
        let tasks_file = Some(state.tasks_file.clone().unwrap_or_else(|| plan.rel.clone()));
        let enforce_scope = crate::repo::index::config_string(&self.ws.repo.git, "par.enforceScope")?
            .map(|value| crate::config::EnforceScope::from_config(Some(&value)).unwrap_or_default());
        Ok(Lander {
            // Each landing opens the workspace again in its own thread: git2
            // handles stay in the thread that opened them.
            options: workspace::Options {
                cwd: self.ws.main_root().to_path_buf(),
                tasks: None,
                strict_phases: self.ws.options.strict_phases,
                remote: self.ws.options.remote.clone(),
            },
            template: Request {
                id: String::new(),
                strategy,
                // Its landings ride the merge train like concurrent finishes.
                train_depth: land::train_depth(self.ws)?,
                verify: verify.or_else(|| self.ws.config.verify.clone()).filter(|v| !v.trim().is_empty()),
                commit: None,
                keep: false,
                wait: None,
                dry_run: false,
                main_branch,
                tasks_file,
                log_dir: self.ws.config.log_dir.clone(),
                enforce_scope,
            },
        })
    }

    /// The log of task `id`.
    pub fn log_path(&self, id: &str) -> PathBuf {
        logs::log_path(self.ws.main_root(), &self.ws.config.log_dir, id)
    }

    /// Keeps the log directory out of `git status`.
    pub fn exclude_logs(&self) -> Result<()> {
        logs::ensure_excluded(&self.ws.repo.common_dir, self.ws.main_root(), &self.ws.config.log_dir)
    }

    /// Where `git par up` keeps its records of each task's agent.
    pub fn run_dir(&self) -> PathBuf {
        self.ws.par().up_dir()
    }

    /// Runs `f` as the only `git par up` of this repository; another one
    /// running is refused ([`UpError::Running`]) rather than waited for.
    pub fn exclusive<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        match self.ws.par().try_lock(Lock::Up, f)? {
            Some(value) => Ok(value),
            None => Err(UpError::Running.into()),
        }
    }
}

/// What the scheduler makes of a refused start.
fn start_failure(err: anyhow::Error) -> StartFailure {
    if matches!(err.downcast_ref::<TaskError>(), Some(TaskError::Busy { .. })) {
        return StartFailure::Busy;
    }
    if matches!(err.downcast_ref::<StartError>(), Some(StartError::Done { .. } | StartError::Active { .. })) {
        return StartFailure::Taken;
    }
    StartFailure::Failed(err)
}

/// Lands tasks through the merge queue (DESIGN §6), from any thread.
#[derive(Debug, Clone)]
pub struct Lander {
    options: workspace::Options,
    template: Request,
}

/// Why a landing did not happen.
#[derive(Debug, Clone)]
pub struct LandFailure {
    /// What the scheduler does about it.
    pub kind: LandFailureKind,
    /// What went wrong, on one line.
    pub reason: String,
    /// Everything said about it: causes, what a refused commit printed.
    pub details: String,
}

/// The landing's outcome, as the scheduler branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandFailureKind {
    /// The task's work cannot land as it is (a conflict, a failing verify,
    /// a refused commit, paths out of its scope...): run its agent again
    /// with the reason, or block it.
    Work,
    /// Something that goes away by itself (main moved under every attempt,
    /// an index locked for a moment): land it again a little later.
    Transient,
    /// The task landed outside this run.
    LandedElsewhere,
    /// The task left the state outside this run (aborted, its locks broken).
    Gone,
    /// Someone blocked the task meanwhile.
    BlockedElsewhere,
}

impl LandFailure {
    /// Whether landing it again later may succeed.
    pub fn transient(&self) -> bool {
        self.kind == LandFailureKind::Transient
    }
}

impl Lander {
    /// Lands task `id`, first committing what its agent left uncommitted
    /// with `message` (through the pre-commit hook). Returns the new commit.
    pub fn land(&self, id: &str, message: &str) -> Result<String, LandFailure> {
        let said = Mutex::new(String::new());
        let request =
            Request { id: id.to_string(), commit: Some(message.to_string()), ..self.template.clone() };
        let note = |p: Progress<'_>| {
            if let Progress::CommitRefused { output } = p {
                if let Ok(mut said) = said.lock() {
                    said.push_str(output);
                }
            }
        };
        let result = Workspace::open(self.options.clone())
            .and_then(|ws| land::finish(&ws, &request, &note))
            .and_then(|landing| match landing.commit {
                Some(commit) => Ok(commit.to_string()),
                None => Err(anyhow::anyhow!("the landing of {id} made no commit")),
            });
        result.map_err(|err| failure(&err, &said.into_inner().unwrap_or_default()))
    }
}

/// A failed landing as the scheduler sees it: its kind decided on the
/// landing's typed error, its reason for blockers.md on one line.
fn failure(err: &anyhow::Error, said: &str) -> LandFailure {
    let kind = match err.downcast_ref::<LandError>() {
        Some(LandError::AlreadyLanded { .. }) => LandFailureKind::LandedElsewhere,
        Some(LandError::NotActive { .. } | LandError::AbortedMeanwhile { .. }) => LandFailureKind::Gone,
        Some(LandError::Blocked { .. }) => LandFailureKind::BlockedElsewhere,
        Some(LandError::MainMoved { .. } | LandError::IndexLocked { .. } | LandError::QueueBusy { .. }) => {
            LandFailureKind::Transient
        }
        _ => LandFailureKind::Work,
    };
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
    if !said.is_empty() {
        details.push('\n');
        details.push_str(said.trim_end());
    }
    LandFailure { kind, reason, details }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_landing_failure_is_classified_on_its_typed_error() {
        let kind = |e: LandError| failure(&anyhow::Error::new(e).context("landing T1"), "").kind;
        let (id, main) = ("T1".to_string(), "main".to_string());
        assert_eq!(
            kind(LandError::MainMoved { id: id.clone(), main: main.clone() }),
            LandFailureKind::Transient
        );
        assert_eq!(
            kind(LandError::AlreadyLanded { id: id.clone(), main: main.clone() }),
            LandFailureKind::LandedElsewhere
        );
        assert_eq!(kind(LandError::AbortedMeanwhile { id: id.clone() }), LandFailureKind::Gone);
        assert_eq!(
            kind(LandError::Blocked { id: id.clone(), reason: Some("why".into()) }),
            LandFailureKind::BlockedElsewhere
        );
        assert_eq!(
            kind(LandError::Dirty { id, status: vec![("M".into(), "a.py".into())] }),
            LandFailureKind::Work
        );
        assert_eq!(failure(&anyhow::anyhow!("disk full"), "").kind, LandFailureKind::Work);
    }

    #[test]
    fn a_refused_commit_keeps_what_the_hook_said_without_its_hints() {
        let err = anyhow::Error::new(LandError::CommitRefused {
            id: "T4".into(),
            worktree: PathBuf::from("/w/T4"),
            by_hook: true,
        });
        let said =
            "error: T4 may not change README.md\nhint: lock it with `git par lock T4 --add README.md`\n";
        let failure = failure(&err, said);
        assert_eq!(
            failure.reason,
            "the pre-commit hook refused the commit of T4's changes: T4 may not change README.md"
        );
        assert!(failure.details.ends_with("hint: lock it with `git par lock T4 --add README.md`"));
    }
}
