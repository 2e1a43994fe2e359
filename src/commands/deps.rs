//! `deps`: the dependency graph as text, Graphviz dot or mermaid.

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::cli::{DepsArgs, DepsFormat};

#[derive(Serialize)]
struct Edge<'a> {
    from: &'a str,
    to: &'a str,
}

#[derive(Serialize)]
struct DepsJson<'a> {
    tasks_file: &'a str,
    /// `from` must be done before `to` can start.
    edges: Vec<Edge<'a>>,
}

/// Runs `git par deps`.
pub fn run(args: &DepsArgs, cx: &Context) -> Result<()> {
    let loaded = cx.tasks()?;
    let file = &loaded.file;
    let edges: Vec<Edge> = file
        .tasks
        .iter()
        .flat_map(|t| t.deps.iter().map(move |d| Edge { from: d.as_str(), to: t.id.as_str() }))
        .collect();
    if cx.ui.json {
        return cx.ui.json(&DepsJson { tasks_file: &loaded.rel, edges });
    }
    let mut out = String::new();
    match args.format {
        DepsFormat::Text => {
            for task in &file.tasks {
                let mark = if task.is_done() { "x" } else { " " };
                if task.deps.is_empty() {
                    out.push_str(&format!("[{mark}] {}\n", task.id));
                } else {
                    out.push_str(&format!("[{mark}] {} <- {}\n", task.id, task.deps.join(", ")));
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
    cx.ui.out(&out)
}

/// A dot string literal.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A mermaid node ID: letters, digits and `_` only.
fn mermaid_id(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}
