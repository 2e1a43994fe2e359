//! `start`: a branch, a worktree and locks for each task.

use anyhow::Result;
use serde::Serialize;

use crate::cli::StartArgs;
use crate::output::Ui;
use git_par::lifecycle::{self, StartOptions, Started};
use git_par::workspace::Workspace;

#[derive(Serialize)]
struct Body<'a> {
    tasks: &'a [Started],
}

/// Runs `git par start`.
pub fn run(args: &StartArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let options = StartOptions {
        ids: args.ids.clone(),
        paths: args.paths.clone(),
        base: args.base.clone(),
        force: args.force,
    };
    let loaded = super::tasks(ws, ui)?;
    let outcome = lifecycle::start(ws, &loaded, &options)?;
    for warning in &outcome.warnings {
        ui.warn(warning);
    }
    if !outcome.unchecked.is_empty() {
        ui.hint("install it with `git par hook install`");
    }
    if ui.json {
        return ui.json(&Body { tasks: &outcome.started });
    }
    let mut out = String::new();
    for task in &outcome.started {
        let locks = if task.locks.is_empty() { "nothing".to_string() } else { task.locks.join(", ") };
        ui.status(&format!("started {} on branch {} (locks {locks})", task.id, task.branch));
        out.push_str(&format!("{}\n", task.worktree.display()));
    }
    ui.out(&out)
}
