//! Lossless edits of tasks.md: tick a task, add or replace its result line.
//!
//! Invariants: an edit changes the checkbox character of one task line
//! and/or one `- par: ...` detail line under that task, and no other byte —
//! line endings (a new line takes the file's first ending), trailing spaces,
//! a byte-order mark and a missing final newline all stay. Applying the same
//! edit twice changes nothing the second time.

use super::parse::{self, Kind};
use super::{Options, TaskState};
use crate::error::Refusal;

/// Ticks the task (`[ ]` or `[~]` → `[X]`); a done task is left as it is.
pub fn tick(text: &str, id: &str) -> anyhow::Result<String> {
    let target = find(text, id)?;
    if target.state == TaskState::Done {
        return Ok(text.to_string());
    }
    let line = target.spans[target.line];
    let content = &text[line.0..line.1];
    let Some(open) = checkbox_offset(content) else {
        // `find` only returns lines the parser read as checkboxes.
        return Err(Refusal::failed(format!("task {id} has no checkbox to tick")).into());
    };
    let at = line.0 + open + 1;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..at]);
    out.push('X');
    out.push_str(&text[at + 1..]);
    Ok(out)
}

/// Adds or replaces the task's one result line, `<indent>  - par: <result>`.
pub fn set_result(text: &str, id: &str, result: &str) -> anyhow::Result<String> {
    let target = find(text, id)?;
    let result: String = result.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect();
    let result = result.trim();

    if let Some(existing) = target.result_line {
        let (start, end) = target.spans[existing];
        let content = &text[start..end];
        let Some(par) = content.find("par:") else { return Ok(text.to_string()) };
        let replaced = format!("{}par: {}", &content[..par], result);
        let mut out = String::with_capacity(text.len() + result.len());
        out.push_str(&text[..start]);
        out.push_str(&replaced);
        out.push_str(&text[end..]);
        return Ok(out);
    }

    let task_line = target.spans[target.line];
    let task_content = &text[task_line.0..task_line.1];
    let indent: &str = &task_content[..task_content.len() - task_content.trim_start().len()];
    let new_line = format!("{indent}  - par: {result}");
    let eol = line_ending(text);
    let (_, last_end) = target.spans[target.last_line];
    let mut out = String::with_capacity(text.len() + new_line.len() + 2);
    let after_ending = ending_end(text, last_end);
    if after_ending == last_end {
        // The last line has no ending: it keeps none, the new line neither.
        out.push_str(text);
        out.push_str(eol);
        out.push_str(&new_line);
    } else {
        out.push_str(&text[..after_ending]);
        out.push_str(&new_line);
        out.push_str(eol);
        out.push_str(&text[after_ending..]);
    }
    Ok(out)
}

/// Ticks the task and records its result.
pub fn land(text: &str, id: &str, result: &str) -> anyhow::Result<String> {
    set_result(&tick(text, id)?, id, result)
}

/// Where a task sits in the text.
struct Target {
    state: TaskState,
    /// 0-based lines of the checkbox, the block's end and an existing `par:` detail.
    line: usize,
    last_line: usize,
    result_line: Option<usize>,
    /// Byte ranges of every line's content (without its ending).
    spans: Vec<(usize, usize)>,
}

fn find(text: &str, id: &str) -> anyhow::Result<Target> {
    let file = parse::parse(text, &Options::default());
    let mut matches = file.tasks.iter().filter(|t| t.id == id);
    let Some(task) = matches.next() else {
        return Err(Refusal::failed(format!("no task {id} in the task file"))
            .hint("`git par list --all` shows the task IDs")
            .into());
    };
    if let Some(other) = matches.next() {
        return Err(Refusal::failed(format!(
            "task ID {id} is used twice, on lines {} and {}",
            task.line, other.line
        ))
        .hint(format!("rename one of them (e.g. {id}a) so every task has its own ID"))
        .into());
    }
    let spans = line_spans(text);
    let line = task.line - 1;
    let lines = parse::classify(text);
    let task_indent = parse::indent_of(lines[line].raw);
    let result_line = (line + 1..=task.last_line).find(|&i| {
        let l = &lines[i];
        l.kind == Kind::Text
            && parse::indent_of(l.raw) > task_indent
            && parse::bullet(l.raw).is_some_and(|item| item.starts_with("par:"))
    });
    Ok(Target { state: task.state, line, last_line: task.last_line, result_line, spans })
}

/// Byte ranges of the lines as [`parse::lines`] sees them.
fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let start = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let mut spans = Vec::new();
    let mut at = start;
    for piece in text[start..].split_inclusive('\n') {
        let end = at + piece.len();
        let content = piece.strip_suffix('\n').map_or(piece, |p| p.strip_suffix('\r').unwrap_or(p));
        spans.push((at, at + content.len()));
        at = end;
    }
    if spans.is_empty() {
        spans.push((start, start));
    }
    spans
}

/// The end of the line ending that follows `end` (or `end` without one).
fn ending_end(text: &str, end: usize) -> usize {
    let rest = &text[end..];
    if rest.starts_with("\r\n") {
        end + 2
    } else if rest.starts_with('\n') {
        end + 1
    } else {
        end
    }
}

/// The file's line ending: its first one, `\n` when it has none.
fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The offset of the checkbox's `[` in a task line.
fn checkbox_offset(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let after_bullet = rest.get(1..)?;
    let gap = after_bullet.len() - after_bullet.trim_start().len();
    let at = indent + 1 + gap;
    (line.as_bytes().get(at) == Some(&b'[')).then_some(at)
}
