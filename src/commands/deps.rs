//! `deps`: the dependency graph as text, Graphviz dot or mermaid.

use anyhow::Result;
use serde::Serialize;

use super::list::GroupJson;
use crate::cli::{DepsArgs, DepsFormat};
use crate::output::Ui;
use git_par::workspace::Workspace;

#[derive(Serialize)]
struct Edge<'a> {
    from: &'a str,
    to: &'a str,
}

#[derive(Serialize)]
struct DepsJson<'a> {
    tasks_file: &'a str,
    /// `from` (a task, or a group of `groups`) must be done before `to` can start.
    edges: Vec<Edge<'a>>,
    /// Barriers: a group is done when all its tasks are.
    groups: Vec<GroupJson<'a>>,
}

/// Runs `git par deps`.
pub fn run(args: &DepsArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let loaded = super::tasks(ws, ui)?;
    let file = &loaded.file;
    if ui.json {
        // One edge per barrier, not one per pair across it: linear in the plan.
        let mut edges: Vec<Edge> = Vec::new();
        for task in &file.tasks {
            edges.extend(task.deps.iter().map(|d| Edge { from: d.as_str(), to: task.id.as_str() }));
            edges.extend(
                task.after
                    .iter()
                    .filter_map(|&g| file.groups.get(g))
                    .map(|g| Edge { from: g.id.as_str(), to: task.id.as_str() }),
            );
        }
        let groups = file
            .groups
            .iter()
            .map(|g| GroupJson {
                name: &g.id,
                members: g.tasks.iter().map(|&t| file.tasks[t].id.as_str()).collect(),
            })
            .collect();
        return ui.json(&DepsJson { tasks_file: &loaded.rel, edges, groups });
    }
    // For people, groups expanded: every task names what it waits for.
    let all: Vec<Vec<&str>> =
        file.tasks.iter().map(|t| file.all_deps(t).into_iter().map(|d| d.id.as_str()).collect()).collect();
    let edges: Vec<Edge> = file
        .tasks
        .iter()
        .zip(&all)
        .flat_map(|(t, deps)| deps.iter().map(move |d| Edge { from: d, to: t.id.as_str() }))
        .collect();
    let mut out = String::new();
    match args.format {
        DepsFormat::Text => {
            for (task, deps) in file.tasks.iter().zip(&all) {
                let mark = if task.is_done() { "x" } else { " " };
                if deps.is_empty() {
                    out.push_str(&format!("[{mark}] {}\n", task.id));
                } else {
                    out.push_str(&format!("[{mark}] {} <- {}\n", task.id, deps.join(", ")));
                }
            }
        }
        DepsFormat::Dot => {
            out.push_str("digraph tasks {\n  rankdir=LR;\n");
            for task in &file.tasks {
                let style = if task.is_done() { ", style=filled, fillcolor=\"#d4f7d4\"" } else { "" };
                out.push_str(&format!("  {} [label={}{style}];\n", quote(&task.id), quote(&task.id)));
            }
            for edge in &edges {
                out.push_str(&format!("  {} -> {};\n", quote(edge.from), quote(edge.to)));
            }
            out.push_str("}\n");
        }
        DepsFormat::Mermaid => {
            out.push_str("graph TD\n");
            for task in &file.tasks {
                let class = if task.is_done() { ":::done" } else { "" };
                out.push_str(&format!("  {}[\"{}\"]{class}\n", mermaid_id(&task.id), task.id));
            }
            for edge in &edges {
                out.push_str(&format!("  {} --> {}\n", mermaid_id(edge.from), mermaid_id(edge.to)));
            }
            out.push_str("  classDef done fill:#d4f7d4\n");
        }
    }
    ui.out(&out)
}

/// A dot string literal.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A mermaid node ID: letters, digits and `_` only.
fn mermaid_id(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}
