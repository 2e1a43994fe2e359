//! The `git-par` binary: the command layer. It parses the command line
//! ([`cli`]), opens the [`git_par::workspace::Workspace`], runs one verb
//! ([`commands`]) and renders what the domain returned ([`output`]), turning
//! the domain's typed errors into `error:`/`hint:` lines and exit codes. The
//! domain is the library (`git_par`); nothing in it can reach these modules.

mod cli;
mod command_error;
mod commands;
mod completion;
mod man;
mod output;

use clap::Parser as _;

fn main() {
    std::process::exit(run(std::env::args_os()));
}

/// Parses the command line, runs the command, and returns the exit code.
fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
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
        Err(err) if err.downcast_ref::<crate::command_error::ChildExit>().is_some() => {
            crate::command_error::exit_code(&err)
        }
        Err(err) => {
            ui.error(&err);
            if ui.json {
                // A script asked for JSON: give it a document to read on failure too.
                let _ = ui.json_error(&err);
            }
            crate::command_error::exit_code(&err)
        }
    }
}
