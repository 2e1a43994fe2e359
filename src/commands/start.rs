//! `start`: a branch, a worktree and locks for each task.

use anyhow::Result;
use serde::Serialize;

use crate::cli::StartArgs;
use crate::lifecycle::{self, StartOptions, Started};

#[derive(Serialize)]
struct Body<'a> {
    tasks: &'a [Started],
}

/// Runs `git par start`.
pub fn run(args: &StartArgs, cx: &super::Context) -> Result<()> {
    let options = StartOptions {
        ids: args.ids.clone(),
        paths: args.paths.clone(),
        base: args.base.clone(),
        force: args.force,
    };
    let outcome = lifecycle::start(cx, &options)?;
    for warning in &outcome.warnings {
        cx.ui.warn(warning);
    }
    for hint in &outcome.hints {
        cx.ui.hint(hint);
    }
    if cx.ui.json {
        return cx.ui.json(&Body { tasks: &outcome.started });
    }
    let mut out = String::new();
    for task in &outcome.started {
        let locks = if task.locks.is_empty() { "nothing".to_string() } else { task.locks.join(", ") };
        cx.ui.status(&format!("started {} on branch {} (locks {locks})", task.id, task.branch));
        out.push_str(&format!("{}\n", task.worktree.display()));
    }
    cx.ui.out(&out)
}
