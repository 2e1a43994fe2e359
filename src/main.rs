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
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; clap decides the code (2 for usage).
            let _ = e.print();
            if e.use_stderr() && asked_for_json(&args) {
                // A script that asked for JSON reads a document on stdout even
                // when its command line was wrong.
                println!("{}", usage_error_json(&e));
            }
            return e.exit_code();
        }
    };
    let ui = output::Ui::new(cli.json, cli.color);
    match commands::run(cli, &ui) {
        Ok(()) => 0,
        Err(err)
            if err.downcast_ref::<crate::command_error::ChildExit>().is_some()
                || err.downcast_ref::<crate::command_error::Reported>().is_some() =>
        {
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

/// Whether `--json` appears among the global options (before a `--`).
fn asked_for_json(args: &[std::ffi::OsString]) -> bool {
    args.iter().skip(1).take_while(|a| *a != "--").any(|a| a == "--json")
}

/// The `error` document of a usage error: clap's message and the usage lines
/// as the hint, exit 2 (as clap's own exit code says).
fn usage_error_json(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    // clap writes the error (over one or more lines), then a tip, the usage and a pointer to --help.
    let is_hint = |l: &&str| l.starts_with("tip:") || l.starts_with("Usage:") || l.starts_with("For more");
    let split = lines.iter().position(is_hint).unwrap_or(lines.len());
    let message = lines[..split].join(" ").trim_start_matches("error: ").to_string();
    let hints = &lines[split..];
    serde_json::json!({
        "version": 1,
        "error": { "message": message, "causes": [], "hints": hints, "exit": e.exit_code() },
    })
    .to_string()
}
