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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::refusal;
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
}
