//! `lint`: the problems of the task file, before a run starts.

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::Context;
use crate::cli::LintArgs;
use crate::error::{self, Refusal};
use crate::tasks::lint::{self, Finding, Kind};
use crate::tasks::{self, discover};

#[derive(Serialize)]
struct LintJson<'a> {
    tasks_file: &'a str,
    tasks: usize,
    problems: &'a [Finding],
}

/// Runs `git par lint`.
pub fn run(_args: &LintArgs, cx: &Context) -> Result<()> {
    let found = discover::find(&cx.discovery())?;
    let text = cx.store.with_shared_lock(crate::land::SYNC_LOCK, || discover::read_text(&found.path))?;
    let options = cx.task_options(&found.path)?;
    let (findings, count) = match tasks::read(&text, &options) {
        Ok(file) => (lint::check(&file, options.context.as_deref()), file.tasks.len()),
        // A cycle stops the dependency resolution, not the report.
        Err(err) => {
            let message = error::refusal(&err).map_or_else(|| format!("{err:#}"), |r| r.message.clone());
            let count = tasks::parse::parse(&text, &options).tasks.len();
            let cycle =
                Finding { kind: Kind::Cycle, task: None, line: None, message, candidates: Vec::new() };
            (vec![cycle], count)
        }
    };
    if cx.ui.json {
        cx.ui.json(&LintJson { tasks_file: &found.rel, tasks: count, problems: &findings })?;
    } else {
        let mut out = String::new();
        for f in &findings {
            let at = f.line.map_or_else(|| found.rel.clone(), |line| format!("{}:{line}", found.rel));
            out.push_str(&format!("{at}: {}: {}\n", kind_word(f.kind), f.message));
            if !f.candidates.is_empty() {
                out.push_str(&format!("    candidates: {}\n", f.candidates.join(", ")));
            }
        }
        cx.ui.out(&out).context("printing the lint report")?;
    }
    if findings.is_empty() {
        cx.ui.status(&format!("{}: {count} tasks, no problem found", found.rel));
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
