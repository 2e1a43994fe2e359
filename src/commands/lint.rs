//! `lint`: the problems of the task file, before a run starts.

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::cli::LintArgs;
use crate::output::Ui;

use crate::command_error::Refusal;
use git_par::tasks::deps::CycleError;
use git_par::tasks::lint::{self, Finding, Kind};
use git_par::tasks::{self, discover};
use git_par::workspace::Workspace;

#[derive(Serialize)]
struct LintJson<'a> {
    tasks_file: &'a str,
    tasks: usize,
    problems: &'a [Finding],
}

/// Runs `git par lint`.
pub fn run(_args: &LintArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let found = discover::find(&ws.discovery())?;
    let text = ws.read_task_text(&found.path)?;
    let options = ws.task_options(&found.path)?;
    let (findings, count) = match tasks::read(&text, &options) {
        Ok(file) => (lint::check(&file, options.context.as_deref()), file.tasks.len()),
        // A cycle stops the dependency resolution, not the report.
        Err(err) => {
            let cycle =
                err.downcast_ref::<CycleError>().or_else(|| err.chain().find_map(|c| c.downcast_ref()));
            let message = cycle.map_or_else(|| format!("{err:#}"), CycleError::to_string);
            let count = tasks::parse::parse(&text, &options).tasks.len();
            let cycle =
                Finding { kind: Kind::Cycle, task: None, line: None, message, candidates: Vec::new() };
            (vec![cycle], count)
        }
    };
    if ui.json {
        ui.json(&LintJson { tasks_file: &found.rel, tasks: count, problems: &findings })?;
    } else {
        let mut out = String::new();
        for f in &findings {
            let at = f.line.map_or_else(|| found.rel.clone(), |line| format!("{}:{line}", found.rel));
            out.push_str(&format!("{at}: {}: {}\n", kind_word(f.kind), f.message));
            if !f.candidates.is_empty() {
                out.push_str(&format!("    candidates: {}\n", f.candidates.join(", ")));
            }
        }
        ui.out(&out).context("printing the lint report")?;
    }
    if findings.is_empty() {
        ui.status(&format!("{}: {count} tasks, no problem found", found.rel));
        return Ok(());
    }
    Err(Refusal::failed(format!("{} problem(s) in {}", findings.len(), found.rel))
        .hint("fix them in the task file (or add a `Files:` line to a task), then run `git par lint` again")
        .into())
}

fn kind_word(kind: Kind) -> &'static str {
    match kind {
        Kind::DuplicateId => "duplicate ID",
        Kind::NoPaths => "no paths",
        Kind::AmbiguousPath => "ambiguous path",
        Kind::MissingDirectory => "missing directory",
        Kind::SharedFile => "shared file",
        Kind::UnknownDependency => "unknown dependency",
        Kind::Cycle => "cycle",
    }
}
