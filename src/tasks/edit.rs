//! Lossless edits of tasks.md: tick a task, add or replace its result line.
//!
//! Invariants: an edit changes the checkbox character of one task line
//! and/or one `- par: ...` detail line under that task, and no other byte —
//! line endings (a new line takes the file's first ending), trailing spaces,
//! a byte-order mark and a missing final newline all stay. Applying the same
//! edit twice changes nothing the second time. Every other task parses as
//! before, and the result line is one the parser sees as the task's detail:
//! never inside a code block or an HTML comment, never splitting the task's
//! text.

use super::parse::{self, Kind};
use super::{Options, TaskState};
use crate::error::Refusal;

/// Ticks the task (`[ ]` or `[~]` → `[X]`); a done task is left as it is.
pub fn tick(text: &str, id: &str) -> anyhow::Result<String> {
    let target = find(text, id)?;
    if target.state == TaskState::Done {
        return Ok(text.to_string());
    }
    let Some(open) = target.checkbox else {
        // `find` only returns lines the parser read as checkboxes.
        return Err(Refusal::failed(format!("task {id} has no checkbox to tick")).into());
    };
    let at = open + 1;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..at]);
    out.push('X');
    out.push_str(&text[at + 1..]);
    Ok(out)
}

/// Adds or replaces the task's one result line, `<indent>  - par: <result>`.
pub fn set_result(text: &str, id: &str, result: &str) -> anyhow::Result<String> {
    let target = find(text, id)?;
    let result = result_text(result);
    let result = result.as_str();

    if let Some((existing, par)) = target.result_line {
        let (start, end) = target.spans[existing];
        let content = &text[start..end];
        // A comment opened on the line stays, or the lines it hides would show.
        let replaced = match content[par..].find("<!--") {
            Some(open) => format!("{}par: {} {}", &content[..par], result, &content[par + open..]),
            None => format!("{}par: {}", &content[..par], result),
        };
        let mut out = String::with_capacity(text.len() + result.len());
        out.push_str(&text[..start]);
        out.push_str(&replaced);
        out.push_str(&text[end..]);
        return Ok(out);
    }

    let new_line = format!("{}  - par: {result}", target.indent);
    let Some(at) = target.insert_at else {
        return Err(Refusal::failed(format!(
            "cannot record the result of task {id}: its lines end inside a code block or an HTML comment that is not closed"
        ))
        .hint("close the code block (```) or the comment (-->) under the task in the task file")
        .into());
    };
    let eol = line_ending(text);
    let mut out = String::with_capacity(text.len() + new_line.len() + 2);
    match target.spans.get(at) {
        Some(&(start, _)) => {
            out.push_str(&text[..start]);
            out.push_str(&new_line);
            out.push_str(eol);
            out.push_str(&text[start..]);
        }
        None => {
            let (_, last_end) = target.spans[target.spans.len() - 1];
            match &text[last_end..] {
                // The last line has no ending: it keeps none, the new line neither.
                "" => {
                    out.push_str(text);
                    out.push_str(eol);
                    out.push_str(&new_line);
                }
                // A lone `\r` at the end, which the parser reads as an ending:
                // make it `\r\n`, and the new line has none.
                "\r" => {
                    out.push_str(text);
                    out.push('\n');
                    out.push_str(&new_line);
                }
                _ => {
                    out.push_str(text);
                    out.push_str(&new_line);
                    out.push_str(eol);
                }
            }
        }
    }
    Ok(out)
}

/// The result as one line: line breaks become spaces, and a `<!--` that
/// would hide the lines below it is broken up.
fn result_text(result: &str) -> String {
    let flat: String = result.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect();
    flat.trim().replace("<!--", "< !--")
}

/// Ticks the task and records its result.
pub fn land(text: &str, id: &str, result: &str) -> anyhow::Result<String> {
    set_result(&tick(text, id)?, id, result)
}

/// Where a task sits in the text.
struct Target {
    state: TaskState,
    /// Byte offset of the checkbox's `[` in the text.
    checkbox: Option<usize>,
    /// The task line's indentation, as the parser counts it.
    indent: String,
    /// An existing `par:` detail: its 0-based line, and the offset of
    /// `par:` in the line.
    result_line: Option<(usize, usize)>,
    /// The 0-based line a new result line goes before (the line count for
    /// the end); `None` when no place in the task's lines would be seen.
    insert_at: Option<usize>,
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
    // The parser reads lines without their HTML comments: positions found in
    // that visible text are mapped back to the line as written.
    let raw_at = |i: usize, visible_at: usize| {
        let starts_in_comment = i > 0 && lines[i - 1].open_after;
        raw_offset(lines[i].raw, starts_in_comment, visible_at)
    };
    let visible: &str = &lines[line].visible;
    let checkbox = checkbox_offset(visible)
        .and_then(|at| raw_at(line, at))
        .filter(|&at| lines[line].raw.as_bytes()[at] == b'[')
        .map(|at| spans[line].0 + at);
    // Only the spaces and tabs `parse::indent_of` counts: other leading
    // whitespace (`\u{b}`) would not indent a new line past the task's.
    let indent = visible[..visible.len() - visible.trim_start_matches([' ', '\t']).len()].to_string();
    let task_indent = parse::indent_of(visible);
    let result_line = (line + 1..=task.last_line).find_map(|i| {
        let l = &lines[i];
        let item = parse::bullet(&l.visible).filter(|item| item.starts_with("par:"))?;
        if l.kind != Kind::Text || parse::indent_of(&l.visible) <= task_indent {
            return None;
        }
        let par = raw_at(i, l.visible.len() - item.len())?;
        l.raw[par..].starts_with("par:").then_some((i, par))
    });
    let insert_at = result_place(&lines, line, task.last_line);
    Ok(Target { state: task.state, checkbox, indent, result_line, insert_at, spans })
}

/// The byte of `raw` that is byte `at` of its visible text (HTML comments
/// removed, as `parse::classify` does); `in_comment` says whether the line
/// starts inside a comment.
fn raw_offset(raw: &str, mut in_comment: bool, at: usize) -> Option<usize> {
    let (mut seen, mut pos) = (0, 0);
    loop {
        if in_comment {
            pos += raw[pos..].find("-->")? + 3;
            in_comment = false;
        } else {
            let end = raw[pos..].find("<!--").map_or(raw.len(), |i| pos + i);
            if at < seen + (end - pos) {
                return Some(pos + at - seen);
            }
            seen += end - pos;
            if end == raw.len() {
                return None;
            }
            pos = end + 4;
            in_comment = true;
        }
    }
}

/// Where a new result line of the task on line `first` (its lines run to
/// `last`) is read as the task's detail: the latest place after the task
/// line that is outside code blocks and comments, and that no text line
/// continuing the task follows (it would continue the result instead).
fn result_place(lines: &[parse::Line], first: usize, last: usize) -> Option<usize> {
    let mut continued = false;
    for at in (first + 1..=last + 1).rev() {
        if let Some(next) = lines.get(at).filter(|_| at <= last) {
            if next.kind == Kind::Text {
                continued = parse::bullet(&next.visible).is_none();
            }
        }
        if !continued && !lines[at - 1].open_after {
            return Some(at);
        }
    }
    None
}

/// Byte ranges of the lines as [`parse::lines`] sees them.
fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let start = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let mut spans = Vec::new();
    let mut at = start;
    for piece in text[start..].split_inclusive('\n') {
        let end = at + piece.len();
        // As `parse::lines`: without the `\n`, and without a `\r` before it
        // or at the end of the text.
        let content = piece.strip_suffix('\n').unwrap_or(piece);
        let content = content.strip_suffix('\r').unwrap_or(content);
        spans.push((at, at + content.len()));
        at = end;
    }
    if spans.is_empty() {
        spans.push((start, start));
    }
    spans
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks_of(text: &str) -> Vec<(String, Vec<String>)> {
        let file = parse::parse(text, &Options::default());
        file.tasks.into_iter().map(|t| (t.id, t.details)).collect()
    }

    #[test]
    fn the_result_line_never_goes_into_a_code_block() {
        // Found by the edit property test: the line went between the code
        // and its closing fence, unseen, so every finish added another.
        let text = "- [ ] T001 x\n  ```\n  code\n```\n- [ ] T002 y\n";
        let once = set_result(text, "T001", "merged").unwrap();
        assert_eq!(once, "- [ ] T001 x\n  - par: merged\n  ```\n  code\n```\n- [ ] T002 y\n");
        assert_eq!(set_result(&once, "T001", "merged").unwrap(), once);
    }

    #[test]
    fn the_result_line_never_goes_into_a_comment() {
        let text = "- [ ] T001 x\n  - <!--\n- [ ] T002 hidden\n-->\n- [ ] T003 z\n";
        let once = set_result(text, "T001", "merged").unwrap();
        assert_eq!(once, "- [ ] T001 x\n  - par: merged\n  - <!--\n- [ ] T002 hidden\n-->\n- [ ] T003 z\n");
        assert_eq!(tasks_of(&once).len(), 2);
        assert_eq!(set_result(&once, "T001", "merged").unwrap(), once);
    }

    #[test]
    fn the_result_line_never_continues_the_task_text() {
        let text = "- [ ] T001 x\n  more text\n  ```\n  code\n";
        let once = set_result(text, "T001", "r").unwrap();
        assert_eq!(once, "- [ ] T001 x\n  more text\n  - par: r\n  ```\n  code\n");
    }

    #[test]
    fn a_lone_carriage_return_at_the_end_stays_a_line_ending() {
        // Found by the edit fuzz target: the `\r` the parser read as the
        // task line's ending became part of the line.
        let once = set_result("# T\r\n- [ ] T001 x\r", "T001", "r").unwrap();
        assert_eq!(once, "# T\r\n- [ ] T001 x\r\n  - par: r");
        assert_eq!(parse::lines(&once), ["# T", "- [ ] T001 x", "  - par: r"]);
        assert_eq!(set_result(&once, "T001", "r").unwrap(), once);
    }

    #[test]
    fn the_result_line_is_indented_past_a_task_line_with_other_whitespace() {
        // Found by the edit fuzz target: a vertical tab before the bullet was
        // copied as the indentation, which the parser does not count.
        let once = set_result("\u{b}- [ ] T001 x\n", "T001", "r").unwrap();
        assert_eq!(once, "\u{b}- [ ] T001 x\n  - par: r\n");
        assert_eq!(tasks_of(&once), vec![("T001".to_string(), vec!["par: r".to_string()])]);
        assert_eq!(set_result("\t- [ ] T001 x\n", "T001", "r").unwrap(), "\t- [ ] T001 x\n\t  - par: r\n");
    }

    #[test]
    fn a_task_line_with_a_comment_before_its_bullet_is_edited() {
        let text = "<!-- c -->- [ ] T001 x\n<!--\nc -->- [ ] T002 y\n";
        let ticked = tick(text, "T001").unwrap();
        assert_eq!(ticked, "<!-- c -->- [X] T001 x\n<!--\nc -->- [ ] T002 y\n");
        let ticked = tick(&ticked, "T002").unwrap();
        assert_eq!(ticked, "<!-- c -->- [X] T001 x\n<!--\nc -->- [X] T002 y\n");

        // The new line is indented past the task as the parser sees it.
        let text = "<!-- c -->  - [ ] T001 x\n";
        let landed = land(text, "T001", "r").unwrap();
        assert_eq!(landed, "<!-- c -->  - [X] T001 x\n    - par: r\n");
        assert_eq!(tasks_of(&landed), vec![("T001".to_string(), vec!["par: r".to_string()])]);
        assert_eq!(land(&landed, "T001", "r").unwrap(), landed);

        // A `par:` inside a comment is not the one replaced.
        let text = "- [ ] T001 x\n  - <!-- par: --> par: old\n";
        let once = set_result(text, "T001", "new").unwrap();
        assert_eq!(once, "- [ ] T001 x\n  - <!-- par: --> par: new\n");
    }

    #[test]
    fn a_result_that_cannot_be_seen_is_refused() {
        let err = set_result("- [ ] T001 x <!--\nhidden\n", "T001", "r").unwrap_err();
        assert!(err.to_string().starts_with("cannot record the result of task T001"), "{err}");
    }

    #[test]
    fn a_result_opens_no_comment() {
        let text = "- [ ] T001 x\n- [ ] T002 y\n-->\n";
        let once = set_result(text, "T001", "see <!-- here").unwrap();
        assert_eq!(once, "- [ ] T001 x\n  - par: see < !-- here\n- [ ] T002 y\n-->\n");
        assert_eq!(tasks_of(&once).len(), 2);
    }

    #[test]
    fn replacing_a_result_keeps_the_comment_it_opens() {
        let text = "- [ ] T001 x\n  - par: old <!--\n- [ ] T002 hidden\n-->\n";
        let once = set_result(text, "T001", "new").unwrap();
        assert_eq!(once, "- [ ] T001 x\n  - par: new <!--\n- [ ] T002 hidden\n-->\n");
        assert_eq!(tasks_of(&once), vec![("T001".to_string(), vec!["par: new".to_string()])]);
    }
}
