//! One module per verb. A command takes the opened [`Workspace`] and the
//! [`Ui`], resolves its inputs, calls the domain, and renders the result; it
//! holds no algorithm.

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
mod sync;
mod tmux;
mod up;

use crate::command_error::Refusal;
use anyhow::{Context as _, Result};
use git_par::workspace::{LoadedTasks, Options, Workspace};

use crate::cli::{Cli, Command};
use crate::output::Ui;

/// The instructions `git par agent-guide` prints; the README's "For agents" block is this text.
pub const AGENT_GUIDE: &str = include_str!("../../docs/agent-guide.md");

/// Runs the parsed command line.
pub fn run(cli: Cli, ui: &Ui) -> Result<()> {
    let cwd = match &cli.dir {
        Some(dir) => std::env::current_dir().context("reading the current directory")?.join(dir),
        None => std::env::current_dir().context("reading the current directory")?,
    };
    let options = Options {
        cwd,
        tasks: cli.tasks.clone(),
        strict_phases: cli.strict_phases,
        remote: cli.remote.clone(),
    };
    match cli.command {
        // Commands that need no repository.
        Command::Completions(args) => completions::completions(&args, ui),
        Command::Man(args) => completions::man(&args, ui),
        Command::AgentGuide(_) => ui.out(AGENT_GUIDE),
        Command::Demo(args) => demo::run(&args, &options, ui),
        // Run by every commit: opens the repository only when git-par has state.
        Command::Check(args) => check::run(&args, &options, ui),
        command => {
            let ws = &open(options)?;
            for problem in &ws.config.problems {
                ui.warn(problem);
            }
            match command {
                Command::List(args) => list::list(&args, ws, ui),
                Command::Show(args) => list::show(&args, ws, ui),
                Command::Ready(args) => list::ready(&args, ws, ui),
                Command::Plan(args) => plan::run(&args, ws, ui),
                Command::Deps(args) => deps::run(&args, ws, ui),
                Command::Start(args) => start::run(&args, ws, ui),
                Command::Lock(args) => lock::run(&args, ws, ui),
                Command::Finish(args) => {
                    git_par::land::catch_interrupts()?;
                    finish::run(&args, ws, ui)
                }
                Command::Abort(args) => abort::run(&args, ws, ui),
                Command::Block(args) => block::block(&args, ws, ui),
                Command::Unblock(args) => block::unblock(&args, ws, ui),
                Command::Unlock(args) => lock::unlock(&args, ws, ui),
                Command::LockStatus(args) => lock_status::run(&args, ws, ui),
                Command::Hook(args) => hook::run(&args, ws, ui),
                Command::Run(args) => run::run(&args, ws, ui),
                Command::Tmux(args) => tmux::run(&args, ws, ui),
                Command::Doctor(args) => doctor::run(&args, ws, ui),
                Command::Sync(args) => sync::sync(&args, ws, ui),
                Command::Log(args) => sync::log(&args, ws, ui),
                Command::Up(args) => up::run(&args, ws, ui),
                Command::Lint(args) => lint::run(&args, ws, ui),
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

/// Opens the workspace around `options.cwd`.
fn open(options: Options) -> Result<Workspace> {
    if !options.cwd.is_dir() {
        return Err(Refusal::usage(format!(
            "cannot change to '{}': no such directory",
            options.cwd.display()
        ))
        .into());
    }
    Workspace::open(options)
}

/// Finds and reads the task file, telling the reader what it should know
/// about it (a task ID used twice).
fn tasks(ws: &Workspace, ui: &Ui) -> Result<LoadedTasks> {
    let loaded = ws.tasks()?;
    for warning in &loaded.warnings {
        ui.warn(warning);
    }
    Ok(loaded)
}
