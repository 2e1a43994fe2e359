//! git-par: run the tasks of a spec-kit `tasks.md` in parallel without the
//! parallel work stepping on itself.
//!
//! Module map:
//! - [`cli`]: the clap definitions;
//! - [`commands`]: one thin module per verb (resolve inputs, call the domain, render);
//! - [`tasks`]: tasks.md parsing, dependencies, discovery and lossless editing;
//! - [`state`]: the state file and its transactions; [`locks`]: lock patterns;
//! - [`lifecycle`]: start, lock, block, abort and unlock tasks; [`logs`]: task logs and blockers;
//! - [`intent`]: the record of a start or abort in progress, for `doctor` after a crash;
//! - [`doctor`]: finding and repairing inconsistencies;
//! - [`repo`]: everything that talks to git; [`land`]: the merge queue;
//! - [`hook`]: the pre-commit hook; [`workflow`]: plan waves, logs, blockers, tmux;
//! - [`output`]: terminal and JSON rendering; [`error`]: exit codes and hints;
//! - [`text`]: outside text (tasks.md, paths, commit messages) made safe to show;
//! - [`up`]: `git par up`, the run of a whole plan by agents; [`prepare`]: new worktrees made ready.

pub mod cli;
pub mod commands;
pub mod completion;
pub mod config;
pub mod doctor;
pub mod error;
pub mod hook;
pub mod intent;
pub mod land;
pub mod lifecycle;
pub mod locks;
pub mod logs;
pub mod man;
pub mod output;
pub mod prepare;
pub mod repo;
pub mod state;
pub mod tasks;
pub mod text;
pub mod tmux;
pub mod up;
pub mod workflow;

use clap::Parser as _;

/// Parses the command line, runs the command, and returns the exit code.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; clap decides the code (2 for usage).
            let _ = e.print();
            return e.exit_code();
        }
    };
    let ui = output::Ui::new(cli.json, cli.color);
    match commands::run(cli, &ui) {
        Ok(()) => 0,
        Err(err) if err.downcast_ref::<error::ChildExit>().is_some() => error::exit_code(&err),
        Err(err) => {
            ui.error(&err);
            if ui.json {
                // A script asked for JSON: give it a document to read on failure too.
                let _ = ui.json_error(&err);
            }
            error::exit_code(&err)
        }
    }
}
