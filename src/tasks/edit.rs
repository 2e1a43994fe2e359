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

/// Why a task's line cannot be edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// The task line has no checkbox.
    NoCheckbox { id: String },
    /// The task's lines end inside a code block or comment, where a result line would not be seen.
    Unclosed { id: String },
    /// No task has that ID.
    NoTask { id: String },
    /// Two tasks have that ID, on these lines.
    UsedTwice { id: String, lines: (usize, usize) },
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditError::NoCheckbox { id } => write!(f, "task {id} has no checkbox to tick"),
            EditError::Unclosed { id } => write!(
                f,
                "cannot record the result of task {id}: its lines end inside a code block or an HTML comment that is not closed"
            ),
            EditError::NoTask { id } => write!(f, "no task {id} in the task file"),
            EditError::UsedTwice { id, lines: (first, second) } => {
                write!(f, "task ID {id} is used twice, on lines {first} and {second}")
            }
        }
    }
}

impl std::error::Error for EditError {}

/// Ticks the task (`[ ]` or `[~]` → `[X]`); a done task is left as it is.
pub fn tick(text: &str, id: &str) -> anyhow::Result<String> {
    let target = find(text, id)?;
    if target.state == TaskState::Done {
        return Ok(text.to_string());
    }
    let Some(open) = target.checkbox else {
        // `find` only returns lines the parser read as checkboxes.
        return Err(EditError::NoCheckbox { id: id.to_string() }.into());
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
        return Err(EditError::Unclosed { id: id.to_string() }.into());
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
        return Err(EditError::NoTask { id: id.to_string() }.into());
    };
    if let Some(other) = matches.next() {
        return Err(EditError::UsedTwice { id: id.to_string(), lines: (task.line, other.line) }.into());
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
    use crate::command_error::refusal;
    use crate::tasks::{read, Task};

    const PLAN: &str = "\
# Tasks

## Phase 1

- [ ] T001 [P] First `src/a.py`
  - a detail
- [~] T002 Second
    - deeper detail

- [x] T003 Done already
  - par: merged 1111111
- [ ] T004 Last";

    #[test]
    fn tick_turns_the_box_and_nothing_else() {
        let out = tick(PLAN, "T001").expect("ticks");
        assert_eq!(out, PLAN.replacen("- [ ] T001", "- [X] T001", 1));
        let out = tick(PLAN, "T002").expect("ticks");
        assert_eq!(out, PLAN.replacen("- [~] T002", "- [X] T002", 1));
        assert_eq!(tick(PLAN, "T003").expect("ticks"), PLAN);
        assert_eq!(
            tick(&tick(PLAN, "T004").expect("ticks"), "T004").expect("ticks"),
            PLAN.replace("- [ ] T004", "- [X] T004")
        );
    }

    #[test]
    fn set_result_inserts_after_the_task_block() {
        let out = set_result(PLAN, "T001", "merged 3f2a1c9 (2 commits, 3 files) · logs/parallel/T001.log")
            .expect("sets");
        assert_eq!(
            out,
            PLAN.replacen(
                "  - a detail\n",
                "  - a detail\n  - par: merged 3f2a1c9 (2 commits, 3 files) · logs/parallel/T001.log\n",
                1
            )
        );
        // The blank line after T002's block stays after the new line.
        let out = set_result(PLAN, "T002", "merged 2222222").expect("sets");
        assert_eq!(
            out,
            PLAN.replacen("    - deeper detail\n", "    - deeper detail\n  - par: merged 2222222\n", 1)
        );
    }

    #[test]
    fn set_result_replaces_an_existing_result_line() {
        let out = set_result(PLAN, "T003", "merged 3333333").expect("sets");
        assert_eq!(out, PLAN.replace("par: merged 1111111", "par: merged 3333333"));
        assert_eq!(set_result(&out, "T003", "merged 3333333").expect("sets"), out);
    }

    #[test]
    fn no_final_newline_stays_without_one() {
        let out = land(PLAN, "T004", "merged 4444444").expect("lands");
        assert_eq!(out, format!("{}\n  - par: merged 4444444", PLAN.replace("- [ ] T004", "- [X] T004")));
        assert_eq!(land(&out, "T004", "merged 4444444").expect("lands"), out);
        let with_newline = format!("{PLAN}\n");
        assert_eq!(land(&with_newline, "T004", "merged 4444444").expect("lands"), format!("{out}\n"));
    }

    #[test]
    fn crlf_bom_trailing_spaces_and_indentation_survive() {
        let text =
            "\u{feff}# T\r\n\r\n  * [ ] T001 Indented task   \r\n    - detail  \r\n  * [ ] T002 Next\r\n";
        let out = land(text, "T001", "merged abc").expect("lands");
        assert_eq!(
            out,
            "\u{feff}# T\r\n\r\n  * [X] T001 Indented task   \r\n    - detail  \r\n    - par: merged abc\r\n  * [ ] T002 Next\r\n"
        );
        assert_eq!(land(&out, "T001", "merged abc").expect("lands"), out);
        let tabbed = "- [ ] T001 a\n\t- [ ] T002 nested is a detail\n";
        assert!(land(tabbed, "T002", "x").is_err());
    }

    #[test]
    fn a_fenced_block_in_the_task_stays_whole() {
        let text = "- [ ] T001 a\n  ```sh\nmake\n```\n- [ ] T002 b\n```\n- [ ] T003 not a task\n```\n";
        let out = set_result(text, "T001", "ok").expect("sets");
        assert_eq!(out, text.replacen("```\n- [ ] T002", "```\n  - par: ok\n- [ ] T002", 1));
        let out = set_result(text, "T002", "ok").expect("sets");
        assert_eq!(out, text.replacen("- [ ] T002 b\n", "- [ ] T002 b\n  - par: ok\n", 1));
    }

    #[test]
    fn the_result_is_one_line() {
        let out = set_result("- [ ] T001 a\n", "T001", "line one\nline two\r\n").expect("sets");
        assert_eq!(out, "- [ ] T001 a\n  - par: line one line two\n");
    }

    #[test]
    fn unknown_and_duplicate_ids_are_refused() {
        let err = tick(PLAN, "T999").expect_err("unknown");
        let refusal = refusal(&err).expect("a refusal");
        assert_eq!(refusal.message, "no task T999 in the task file");
        assert_eq!(refusal.hints, ["`git par list --all` shows the task IDs"]);
        let err = set_result("- [ ] T001 a\n- [ ] T001 b\n", "T001", "x").expect_err("duplicate");
        assert_eq!(refusal_message(&err), "task ID T001 is used twice, on lines 1 and 2");
        // A task inside a code fence is not a task.
        assert!(tick("```\n- [ ] T001 a\n```\n", "T001").is_err());
    }

    fn refusal_message(err: &anyhow::Error) -> String {
        refusal(err).map(|r| r.message.clone()).unwrap_or_default()
    }

    /// Everything but `deps` for tasks other than `id`, and the state of `id`.
    fn others(tasks: &[Task], id: &str) -> Vec<Task> {
        tasks.iter().filter(|t| t.id != id).cloned().collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn edits_are_lossless(
            ids in proptest::collection::vec(0usize..8, 1..8),
            crlf in proptest::prelude::any::<bool>(),
            final_newline in proptest::prelude::any::<bool>(),
            bom in proptest::prelude::any::<bool>(),
            pick in 0usize..8,
            result in "[ -~·]{0,30}",
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut lines = vec!["# Tasks".to_string(), "## Phase 1".to_string()];
            let mut seen = std::collections::HashSet::new();
            for (n, i) in ids.iter().enumerate() {
                if !seen.insert(*i) {
                    continue;
                }
                let state = ["[ ]", "[x]", "[~]"][n % 3];
                lines.push(format!("- {state} T00{i} [P] task `src/f{i}.py`  "));
                if n % 2 == 0 {
                    lines.push(format!("  - detail {n}"));
                }
                if n % 3 == 0 {
                    lines.push("  - par: earlier".to_string());
                }
                if n % 4 == 0 {
                    lines.push(String::new());
                }
            }
            let mut text = lines.join(eol);
            if final_newline {
                text.push_str(eol);
            }
            if bom {
                text.insert(0, '\u{feff}');
            }
            let id = format!("T00{}", ids[pick % ids.len()]);
            let before = read(&text, &Options::default()).expect("reads");
            let out = land(&text, &id, &result).expect("lands");
            let after = read(&out, &Options::default()).expect("reads");

            // Every other task parses exactly as before; those below move down
            // one line when the result line was inserted rather than replaced.
            let target = before.get(&id).expect("the task");
            let inserted = !target.details.iter().any(|d| d.starts_with("par:"));
            let expected: Vec<Task> = others(&before.tasks, &id)
                .into_iter()
                .map(|mut t| {
                    if inserted && t.line > target.line {
                        t.line += 1;
                        t.last_line += 1;
                    }
                    t
                })
                .collect();
            proptest::prop_assert_eq!(others(&after.tasks, &id), expected);

            // The task is done and carries exactly one result line with the result.
            let task = after.get(&id).expect("still there");
            proptest::prop_assert!(task.is_done());
            let results: Vec<&String> = task.details.iter().filter(|d| d.starts_with("par:")).collect();
            proptest::prop_assert_eq!(results.len(), 1);
            let want = format!("par: {}", result.trim());
            proptest::prop_assert_eq!(results[0].trim_end(), want.trim_end());

            // Line endings, the BOM and the final newline are kept; only the edit changed.
            proptest::prop_assert_eq!(out.starts_with('\u{feff}'), bom);
            proptest::prop_assert_eq!(out.ends_with(eol), text.ends_with(eol));
            if crlf {
                proptest::prop_assert!(!out.replace("\r\n", "").contains('\n'));
            } else {
                proptest::prop_assert!(!out.contains('\r'));
            }
            let removed: Vec<&str> = text.lines().filter(|l| !out.lines().any(|o| o == *l)).collect();
            proptest::prop_assert!(removed.len() <= 2, "{:?}", removed);

            // Twice is once.
            proptest::prop_assert_eq!(land(&out, &id, &result).expect("lands"), out);
        }
    }

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
        // A fenced block opened inside a task belongs to it: the line goes after its closing fence.
        assert_eq!(once, "- [ ] T001 x\n  ```\n  code\n```\n  - par: merged\n- [ ] T002 y\n");
        assert_eq!(tasks_of(&once)[0].1.last().map(String::as_str), Some("par: merged"));
        assert_eq!(set_result(&once, "T001", "merged").unwrap(), once);
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
