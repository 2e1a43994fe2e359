//! One module per verb. A command resolves its inputs through [`Context`],
//! calls the domain, and renders the result; it holds no algorithm.

mod abort;
mod block;
mod check;
mod completions;
mod demo;
mod deps;
mod doctor;
mod finish;
mod hook;
mod lint;
mod list;
mod lock;
mod lock_status;
mod plan;
mod run;
mod start;
mod tmux;
mod up;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::error::Refusal;
use crate::output::Ui;
use crate::repo::Repo;
use crate::state::{State, Store};
use crate::tasks::{self, TaskFile};

/// The instructions `git par agent-guide` prints; the README's "For agents" block is this text.
pub const AGENT_GUIDE: &str = include_str!("../../docs/agent-guide.md");

/// Runs the parsed command line.
pub fn run(cli: Cli, ui: &Ui) -> Result<()> {
    let cwd = match &cli.dir {
        Some(dir) => std::env::current_dir().context("reading the current directory")?.join(dir),
        None => std::env::current_dir().context("reading the current directory")?,
    };
    let inputs = Inputs { cwd, tasks: cli.tasks.clone(), strict_phases: cli.strict_phases };
    match cli.command {
        // Commands that need no repository.
        Command::Completions(args) => completions::completions(&args, ui),
        Command::Man(args) => completions::man(&args, ui),
        Command::AgentGuide(_) => ui.out(AGENT_GUIDE),
        Command::Demo(args) => demo::run(&args, &inputs, ui),
        // Run by every commit: opens the repository only when git-par has state.
        Command::Check(args) => check::run(&args, &inputs, ui),
        command => {
            let cx = Context::open(inputs, ui)?;
            match command {
                Command::List(args) => list::list(&args, &cx),
                Command::Show(args) => list::show(&args, &cx),
                Command::Ready(args) => list::ready(&args, &cx),
                Command::Plan(args) => plan::run(&args, &cx),
                Command::Deps(args) => deps::run(&args, &cx),
                Command::Start(args) => start::run(&args, &cx),
                Command::Lock(args) => lock::run(&args, &cx),
                Command::Finish(args) => finish::run(&args, &cx),
                Command::Abort(args) => abort::run(&args, &cx),
                Command::Block(args) => block::block(&args, &cx),
                Command::Unblock(args) => block::unblock(&args, &cx),
                Command::Unlock(args) => lock::unlock(&args, &cx),
                Command::LockStatus(args) => lock_status::run(&args, &cx),
                Command::Hook(args) => hook::run(&args, &cx),
                Command::Run(args) => run::run(&args, &cx),
                Command::Tmux(args) => tmux::run(&args, &cx),
                Command::Doctor(args) => doctor::run(&args, &cx),
                Command::Up(args) => up::run(&args, &cx),
                Command::Lint(args) => lint::run(&args, &cx),
                Command::Completions(_)
                | Command::Man(_)
                | Command::AgentGuide(_)
                | Command::Demo(_)
                | Command::Check(_) => unreachable_command(),
            }
        }
    }
}

fn unreachable_command() -> Result<()> {
    anyhow::bail!("internal error: command dispatched twice")
}

/// What the global flags say, before any repository is opened.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub cwd: PathBuf,
    pub tasks: Option<PathBuf>,
    pub strict_phases: bool,
}

/// An opened repository with its configuration and state store: what every
/// command that works on a repository starts from.
pub struct Context<'a> {
    pub ui: &'a Ui,
    pub inputs: Inputs,
    pub repo: Repo,
    pub config: Config,
    pub store: Store,
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
}

impl<'a> Context<'a> {
    /// Opens the repository around `inputs.cwd`.
    pub fn open(inputs: Inputs, ui: &'a Ui) -> Result<Context<'a>> {
        if !inputs.cwd.is_dir() {
            return Err(crate::error::Refusal::usage(format!(
                "cannot change to '{}': no such directory",
                inputs.cwd.display()
            ))
            .into());
        }
        let repo = Repo::discover(&inputs.cwd)?;
        let config = Config::load(&repo)?;
        let store = Store::new(repo.par_dir());
        Ok(Context { ui, inputs, repo, config, store })
    }

    /// Finds the task file (DESIGN §3) and reads it.
    pub fn tasks(&self) -> Result<LoadedTasks> {
        let found = tasks::discover::find(&self.discovery())?;
        // A landing rewrites the main worktree's tasks.md in place: never read it half written.
        let text = self
            .store
            .with_shared_lock(crate::land::SYNC_LOCK, || tasks::discover::read_text(&found.path))?;
        let options = self.task_options(&found.path)?;
        let file = tasks::read(&text, &options)
            .with_context(|| format!("reading tasks from {}", found.path.display()))?;
        if let Some(dup) = file.duplicates.first() {
            let more = match file.duplicates.len() {
                1 => String::new(),
                n => format!(" (and {} more duplicated IDs)", n - 1),
            };
            self.ui.warn(&format!(
                "task ID {} is used on {} of {}{more}; it cannot be started or finished until it is renamed",
                dup.id,
                dup.lines_text(),
                found.rel
            ));
        }
        if file.tasks.is_empty() {
            let mut refusal = Refusal::failed(format!("no tasks found in {}", found.rel));
            for note in &file.notes {
                refusal = refusal.hint(note.clone());
            }
            return Err(refusal
                .hint("a task is a list item like `- [ ] T001 [P] Create src/app.py`; pass another file with --tasks")
                .into());
        }
        Ok(LoadedTasks { path: found.path, rel: found.rel, text, file })
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
            strict_phases: self.inputs.strict_phases,
            root: Some(self.repo.main_root.clone()),
            context: Some(std::sync::Arc::new(context)),
        })
    }

    /// The inputs of task-file discovery, from flags, config, environment and state.
    pub fn discovery(&self) -> tasks::discover::Sources {
        let recorded = self.store.load().ok().and_then(|s| s.tasks_file);
        tasks::discover::Sources {
            cwd: self.inputs.cwd.clone(),
            root: self.repo.main_root.clone(),
            flag: self.inputs.tasks.clone(),
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
            None => Err(Refusal::failed(
                "the main worktree has a detached HEAD, so there is no branch to land tasks on",
            )
            .hint("check out the branch tasks should land on, or set `git config par.mainBranch BRANCH`")
            .into()),
        }
    }
}
