//! Lossless edits of tasks.md: tick a task, add or replace its result line.
//!
//! PLACEHOLDER on the `finish` branch: the parser helper's branch owns this
//! file; this minimal version (same signature) is replaced when it merges.

use anyhow::Result;

/// Ticks task `id` (`[X]`) and adds or replaces its `  - par: <result>` line.
pub fn land(text: &str, id: &str, result: &str) -> Result<String> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let Some(at) = lines.iter().position(|l| names(l, id)) else {
        anyhow::bail!("task {id} not found");
    };
    let eol = if lines[at].ends_with("\r\n") { "\r\n" } else { "\n" };
    if let Some(open) = lines[at].find('[') {
        lines[at].replace_range(open + 1..open + 2, "X");
    }
    if !lines[at].ends_with('\n') {
        lines[at].push_str(eol);
    }
    let result_line = format!("  - par: {result}{eol}");
    match lines.get(at + 1) {
        Some(next) if next.trim_start().starts_with("- par: ") => lines[at + 1] = result_line,
        _ => lines.insert(at + 1, result_line),
    }
    Ok(lines.concat())
}

fn names(line: &str, id: &str) -> bool {
    let t = line.trim_start();
    let Some(rest) = t.strip_prefix("- [").or_else(|| t.strip_prefix("* [")) else { return false };
    let rest = rest.get(3..).unwrap_or("").trim_start_matches("**");
    rest.strip_prefix(id).is_some_and(|r| r.is_empty() || r.starts_with([' ', ':', '*', '\r', '\n']))
}
