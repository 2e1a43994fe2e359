//! Properties of the tasks.md parser and the lossless editor, checked on
//! generated files by `cargo test` and on arbitrary bytes by the `parse` and
//! `edit` fuzz targets (`fuzz/`), which include this file; so it names items
//! only by `crate::` paths.
//!
//! - parsing never panics; tasks come in line order, their lines are in the
//!   file, their paths are normalised, and resolved dependencies name other
//!   tasks of the file;
//! - `tick`, `set_result` and `land` on one task leave every other task as
//!   it was (ID, state, description, paths, details, dependencies; lines
//!   move down by the one added line at most), leave the text outside the
//!   task's lines byte for byte, make the task done (`tick`, `land`) and
//!   give it the result detail (`set_result`, `land`); `tick` changes one
//!   byte, `set_result` one line; the same edit again changes nothing;
//! - a task ID used twice is refused, never edited;
//! - path resolution against a repository never panics, locks only
//!   normalised paths inside the repository, and is idempotent: a resolved
//!   path declared alone resolves to itself.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::locks;
use crate::tasks::{self, edit, parse, Options, Task, TaskState};

/// At most this many tasks of one file are edited (each edit parses the file a few times).
const MAX_EDITED: usize = 6;

/// Checks the parser's properties on `text`; panics on a violation.
pub(crate) fn check_parse(text: &str) {
    let line_count = parse::lines(text).len().max(1);
    for options in [
        Options::default(),
        Options { strict_phases: true, root: Some(PathBuf::from("/work/repo")), ..Options::default() },
    ] {
        let file = parse::parse(text, &options);
        let mut previous = 0;
        for task in &file.tasks {
            assert!(task.line > previous, "task {} out of order at line {}", task.id, task.line);
            assert!(task.line - 1 <= task.last_line && task.last_line < line_count, "task {} lines", task.id);
            previous = task.line;
            for path in &task.paths {
                assert_eq!(locks::normalize(path).as_deref(), Ok(path.as_str()), "{} path", task.id);
            }
        }
        if let Ok(resolved) = tasks::read(text, &options) {
            for task in &resolved.tasks {
                for dep in &task.deps {
                    assert!(resolved.get(dep).is_some(), "{} depends on unknown {dep}", task.id);
                    assert_ne!(dep, &task.id, "{} depends on itself", task.id);
                }
            }
        }
    }
    // The `parse` fuzz target comes through here: the resolver gets the same bytes.
    check_resolver(text);
}

/// The repository the resolver properties run against: a few tracked
/// files (two share a name) and a plan.md tree.
fn resolver_context() -> std::sync::Arc<tasks::paths::Context> {
    let tracked = [
        "src/app.py",
        "src/util/json.go",
        "lib/helpers.py",
        "tests/helpers.py",
        "apps/web/index.ts",
        "README.md",
        "src/UserService.cs",
        "web/UserService.ts",
        "src/services/order_service.py",
        "Cargo.toml",
        "Cargo.lock",
        "backend/requirements.txt",
        "requirements.txt",
        "specs/001-x/contracts/api.yaml",
    ];
    let plan = "## Project Structure\n\n```text\nrepo/\n├── src/\n│   └── models/\n│       └── user.py\n└── apps/\n    └── api/\n        └── Program.cs\n```\n";
    std::sync::Arc::new(tasks::paths::Context::new(tracked.iter().map(|s| s.to_string()), Some(plan)))
}

/// Checks the resolver on `text` with a repository context: no panic, every
/// locked path normalised and inside the repository, and resolving a
/// path again, declared alone in a `Files:` line, gives it back.
pub(crate) fn check_resolver(text: &str) {
    let options = Options { context: Some(resolver_context()), ..Options::default() };
    let file = parse::parse(text, &options);
    for task in &file.tasks {
        assert_eq!(task.paths.len(), task.resolved.len(), "{}: one resolution per path", task.id);
        for path in &task.paths {
            assert_eq!(locks::normalize(path).as_deref(), Ok(path.as_str()), "{} path {path}", task.id);
            assert!(
                !path.starts_with('/') && !path.split('/').any(|s| s == ".."),
                "{} outside: {path}",
                task.id
            );
        }
        let simple: Vec<&String> = task
            .paths
            .iter()
            .filter(|p| !p.contains([' ', '\t', '`', ',', '{', '}', '[', ']', '(', ')', ';', '*']))
            .collect();
        if simple.is_empty() {
            continue;
        }
        for path in simple {
            let again = format!("- [ ] T001 Change\n  - Files: `{path}`\n");
            let second = parse::parse(&again, &options);
            let got = second.tasks.first().map(|t| t.paths.clone()).unwrap_or_default();
            assert_eq!(
                got,
                std::slice::from_ref(path),
                "{}: resolving {path} again changed it (from {text:?})",
                task.id
            );
        }
    }
}

/// The three edits of tasks.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Tick,
    SetResult,
    Land,
}

impl Edit {
    fn apply(self, text: &str, id: &str, result: &str) -> anyhow::Result<String> {
        match self {
            Edit::Tick => edit::tick(text, id),
            Edit::SetResult => edit::set_result(text, id, result),
            Edit::Land => edit::land(text, id, result),
        }
    }
}

/// Applies every edit to each task of `text` (the first [`MAX_EDITED`]) and
/// checks the editor's properties; panics on a violation.
pub(crate) fn check_edits(text: &str, result: &str) {
    let options = Options::default();
    let before = parse::parse(text, &options);
    let resolved = tasks::read(text, &options).ok();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for task in &before.tasks {
        *uses.entry(task.id.as_str()).or_default() += 1;
    }
    for (k, task) in before.tasks.iter().enumerate().take(MAX_EDITED) {
        if uses[task.id.as_str()] > 1 {
            assert!(edit::tick(text, &task.id).is_err(), "the duplicate ID {} was ticked", task.id);
            assert!(
                edit::set_result(text, &task.id, result).is_err(),
                "the duplicate ID {} was edited",
                task.id
            );
            continue;
        }
        for op in [Edit::Tick, Edit::SetResult, Edit::Land] {
            let out = match op.apply(text, &task.id, result) {
                Ok(out) => out,
                Err(e) if op != Edit::Tick && e.to_string().starts_with("cannot record the result") => {
                    // Refused only when the task's lines end inside a code block or a comment.
                    let lines = parse::classify(text);
                    assert!(lines[task.last_line].open_after, "{op:?} {} refused: {e:#}", task.id);
                    continue;
                }
                Err(e) => panic!("{op:?} {}: {e:#}", task.id),
            };
            check_edit(op, text, &out, &before.tasks, k, result);
            let again = op.apply(&out, &task.id, result).unwrap_or_else(|e| panic!("{op:?} again: {e:#}"));
            assert!(again == out, "{op:?} {} twice is not a no-op:\n{out:?}\n{again:?}", task.id);
            if let Some(resolved) = &resolved {
                let after = tasks::read(&out, &options)
                    .unwrap_or_else(|e| panic!("{op:?} {} broke the dependencies: {e:#}", task.id));
                for (a, b) in resolved.tasks.iter().zip(&after.tasks) {
                    assert_eq!(a.deps, b.deps, "{op:?} {} changed the deps of {}", task.id, a.id);
                }
            }
        }
    }
}

/// The properties of one edit `op` of task `k`, from `text` to `out`.
fn check_edit(op: Edit, text: &str, out: &str, before: &[Task], k: usize, result: &str) {
    let task = &before[k];
    let context = || format!("{op:?} {} of {text:?} gave {out:?}", task.id);
    let after = parse::parse(out, &Options::default()).tasks;
    assert_eq!(after.len(), before.len(), "the task count changed: {}", context());
    let old_lines = parse::lines(text);
    let new_lines = parse::lines(out);
    let Some(added) = new_lines.len().checked_sub(old_lines.len()).filter(|&n| n <= 1) else {
        panic!("lines removed or more than one added: {}", context());
    };

    for (j, (a, b)) in before.iter().zip(&after).enumerate() {
        assert_eq!(a.id, b.id, "{}", context());
        assert_eq!(a.description, b.description, "{}", context());
        assert_eq!(a.paths, b.paths, "{}", context());
        assert_eq!(a.rejected_paths, b.rejected_paths, "{}", context());
        if j != k {
            assert_eq!(a.state, b.state, "{}", context());
            assert_eq!(a.details, b.details, "{}", context());
            assert_eq!(a.line + if j > k { added } else { 0 }, b.line, "{}", context());
        }
    }
    let edited = &after[k];
    assert_eq!(edited.line, task.line, "{}", context());
    match op {
        Edit::Tick | Edit::Land => assert_eq!(edited.state, TaskState::Done, "{}", context()),
        Edit::SetResult => assert_eq!(edited.state, task.state, "{}", context()),
    }
    if op == Edit::Tick {
        assert_eq!(edited.details, task.details, "{}", context());
    } else {
        let written = written_result(result);
        let expected = if written.is_empty() { "par:".to_string() } else { format!("par: {written}") };
        assert!(
            edited.details.iter().any(|d| d.starts_with(&expected)),
            "no {expected:?} detail: {}",
            context()
        );
    }

    let (start, end) = byte_range(text, task.line - 1, task.last_line);
    assert!(start + (text.len() - end) <= out.len(), "{}", context());
    assert!(out.starts_with(&text[..start]), "the text before the task changed: {}", context());
    assert!(out.ends_with(&text[end..]), "the text after the task changed: {}", context());
    match op {
        Edit::Tick => check_tick(text, out, start, task.state),
        Edit::SetResult => check_result_line(&old_lines, &new_lines, task),
        Edit::Land => {}
    }
}

/// A tick changes one byte of the task line, its checkbox, to `X`.
fn check_tick(text: &str, out: &str, line_start: usize, state: TaskState) {
    if state == TaskState::Done {
        assert_eq!(text, out, "ticking a done task changed the text");
        return;
    }
    assert_eq!(text.len(), out.len(), "a tick changed the length of {text:?}");
    let mut changed = text.bytes().zip(out.bytes()).enumerate().filter(|(_, (a, b))| a != b).map(|(i, _)| i);
    let (Some(at), None) = (changed.next(), changed.next()) else {
        panic!("a tick changed other bytes than one: {text:?} → {out:?}");
    };
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    assert!((line_start..line_end).contains(&at), "the tick is not on the task line of {text:?}");
    assert!(matches!(text.as_bytes()[at], b' ' | b'~') && out.as_bytes()[at] == b'X', "{text:?} → {out:?}");
}

/// A result replaces one line of the task, or adds one, and that line is its `par:` line.
fn check_result_line(old: &[&str], new: &[&str], task: &Task) {
    let front = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let back = old.iter().rev().zip(new.iter().rev()).take_while(|(a, b)| a == b).count();
    let back = back.min(old.len().min(new.len()) - front);
    let removed = &old[front..old.len() - back];
    let added = &new[front..new.len() - back];
    if removed.is_empty() && added.is_empty() {
        return; // the same result was there already
    }
    assert!(added.len() == 1 && removed.len() <= 1, "set_result wrote {added:?} in place of {removed:?}");
    // Equal neighbours can make an added line look like it went anywhere
    // among them, but never before the task line or past its block.
    assert!(front >= task.line && front <= task.last_line + 1, "result line outside task {}", task.id);
    let item = parse::bullet(added[0]).unwrap_or_default();
    assert!(item.starts_with("par:"), "not a par line: {:?}", added[0]);
}

/// The result text as `set_result` writes it: one line, trimmed.
fn written_result(result: &str) -> String {
    let flat: String = result.chars().map(|c| if c == '\n' || c == '\r' { ' ' } else { c }).collect();
    flat.trim().replace("<!--", "< !--")
}

/// Byte range of 0-based lines `first..=last` of `text`, the last line's ending included.
fn byte_range(text: &str, first: usize, last: usize) -> (usize, usize) {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let offset = text.len() - body.len();
    let starts: Vec<usize> =
        std::iter::once(offset).chain(body.match_indices('\n').map(|(i, _)| offset + i + 1)).collect();
    (starts[first], starts.get(last + 1).copied().unwrap_or(text.len()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{check_edits, check_parse};

    fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop::sample::select(items).prop_map(str::to_string)
    }

    /// A task line: indentation, bullet, checkbox, ID, separator, labels, description.
    fn task_line() -> impl Strategy<Value = String> {
        (
            pick(&["", "", "  ", "\t", "    ", "\u{b}", "<!-- c -->", "<!-- c -->  "]),
            pick(&["-", "-", "*", "+"]),
            pick(&["[ ]", "[ ]", "[x]", "[X]", "[~]"]),
            pick(&[
                "T001", "T002", "T003", "T004", "T005", "T006", "T7", "T041a", "I1-T001", "**T008**",
                "[T009]",
            ]),
            pick(&[" ", " ", ": ", ""]),
            prop::collection::vec(pick(&["[P] ", "[US1] ", "[HTTP] ", "[AUTH-US2] "]), 0..3),
            prop::collection::vec(
                pick(&[
                    "Create",
                    "src/a.py",
                    "`tests/b.rs`",
                    "depends on T001",
                    "after T002",
                    "app/[id]/page.tsx",
                    "../x",
                    "/home/x",
                    "C:\\x",
                    "émoji 🚀",
                    "internal/{cli,git}/",
                    "[link](../../src/x.cs)",
                    "<!-- note -->",
                    "tasks.md",
                    "  ",
                ]),
                0..4,
            ),
        )
            .prop_map(|(indent, bullet, check, id, sep, labels, words)| {
                format!("{indent}{bullet} {check} {id}{sep}{}{}", labels.concat(), words.join(" "))
            })
    }

    /// Any line a tasks.md may hold, biased towards what the grammar treats specially.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => task_line(),
            3 => (
                pick(&["  ", "    ", "\t", "      "]),
                pick(&["- ", "* ", "", "1. "]),
                pick(&["par: merged abc1234", "**Depends On**: T001", "touches src/c.go", "- [ ] T010 nested", "more text", "```", "<!--", "-->"]),
            )
                .prop_map(|(indent, bullet, text)| format!("{indent}{bullet}{text}")),
            2 => pick(&["## Phase 1: Setup", "### User Story 2", "## Dependencies", "# Tasks", "### T011: heading task"]),
            1 => pick(&["T001 -> T002 -> T003", "T002 blocks T004", "T001-T003 before T005", "T004 --> T005 & T006"]),
            1 => pick(&["```", "~~~mermaid", "  ```", "~~~"]),
            1 => pick(&["<!--", "-->", "<!-- c -->", "text <!-- open"]),
            2 => pick(&["", "", "   "]),
            1 => "\\PC{0,16}",
        ]
    }

    /// A whole file: optional byte-order mark, LF or CRLF (or both), and
    /// after the last line an ending, none, or a lone `\r`.
    fn file() -> impl Strategy<Value = String> {
        (
            any::<bool>(),
            prop::collection::vec((line(), pick(&["\n", "\n", "\r\n"])), 0..16),
            any::<bool>(),
            pick(&["", "\n", "\r\n", "\r"]),
        )
            .prop_map(|(bom, lines, crlf_only, last)| {
                let mut text = String::from(if bom { "\u{feff}" } else { "" });
                let count = lines.len();
                for (i, (line, ending)) in lines.into_iter().enumerate() {
                    text.push_str(&line);
                    if i + 1 == count {
                        text.push_str(&last);
                    } else {
                        text.push_str(if crlf_only { "\r\n" } else { &ending });
                    }
                }
                text
            })
    }

    /// A task line made of words that exercise the resolver's rules.
    fn resolver_line() -> impl Strategy<Value = String> {
        let word = pick(&[
            "Edit",
            "Create",
            "Add",
            "in",
            "uses",
            "per",
            "Copy",
            "to",
            "and",
            ",",
            "etc.",
            "json.go",
            "table.go",
            "`src/util/`",
            "`/packages/db/x.ts`",
            "/etc/hosts",
            "`GET /api/x`",
            "__init__.py",
            "`.{agent}/cmd/`",
            "helpers.py",
            "Program.cs",
            "`apps/web`",
            "`Models/`",
            "`shadcn/ui`",
            "github.com/o/x",
            "`a/{b,c}.ts`",
            "README.md",
            ".gitignore",
            "`node_modules/`",
            "../x.py",
            "C:\\x\\y.cs",
            "`src/a b.py`",
            "**src/b.py**",
            "[paths: src/z.py, lib/]",
            "`research.md/plan.md/x/`",
            "user.py",
            "(see",
            ")",
            "UserService",
            "order_service",
            "OrderPage",
            "for",
            "from",
            "`api.yaml`",
            "contracts/api.yaml",
            "backend",
            "requirements.txt",
            ".editorconfig",
            "`src/models/`",
            "IUserStore<T>",
            "`{repo_root}/src/x.py`",
            "<repo-root>/README.md",
            "`web/Dialog.axaml`",
            "+",
            "`.axaml.cs`",
            "pattern",
            "Dockerfile",
            "generation",
            "TypeScript/Node.js",
            "Cargo.toml",
            "crate",
            "dependency",
            "util/json.go",
            "relative to",
            "`C:\\src\\r\\src\\`",
            "Store.OnSave",
            "models",
            "directory",
            "LICENSE",
            "services/user.py",
            "Store.btnSave_Click",
            "Implement",
            "在src/a.ts中添加",
            "验证tsconfig.json",
            "使用console.log记录",
            "（见",
            "workspaceContains:**/pom.xml",
            "`npm install left-pad`",
            "router",
            "TASK-011",
            "`POST /api/x/[id]/route.ts`",
            "/api/users/route.ts",
            "Task.update()",
            "TaskManager.create_task()",
            "Install",
            "via npm",
            "with uv",
            "`web/`",
        ]);
        (
            pick(&[
                "- [ ] T001 ",
                "- [ ] T002 [P] ",
                "- [x] T003 ",
                "## Phase 2\n- [ ] T004 ",
                "### Orders\n- [ ] T005 Create `src/order_page.py`\n- [ ] T006 ",
                "- [ ] T007 Create `web/OrderPage.tsx`\n- [ ] T008 Create the IUserStore interface in `src/models/`\n- [ ] T009 ",
                "# Tasks\n\nAll paths relative to `/home/me/repo/src/`\n\n## Phase 1\n- [ ] T010 ",
                "## Path Conventions\n\n- Chapter: `docs/ch1/`\n- Index: `README.md`\n\n## Phase 1\n- [ ] T011 ",
                "- [ ] T012 Do it\n  - **Reference**: src/models/ ",
                "- [ ] T013 Do it\n  - **Completed**: 2025-01-01 - ",
                "- [ ] TASK-014 ",
            ]),
            prop::collection::vec(word, 0..10),
        )
            .prop_map(|(head, words)| format!("{head}{}", words.join(" ")))
    }

    fn result() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => "merged [0-9a-f]{7} \\([1-9] commits?, [1-9] files?\\) · logs/parallel/T00[1-9]\\.log",
            1 => "\\PC{0,24}",
            1 => pick(&["", "  x  ", "a\nb", "a\r\nb"]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn parsing_keeps_its_properties(text in file()) {
            check_parse(&text);
        }

        #[test]
        fn parsing_any_text_never_panics(text in "\\PC{0,64}(\n\\PC{0,64}){0,4}") {
            check_parse(&text);
        }

        #[test]
        fn the_resolver_is_total_idempotent_and_stays_inside(lines in prop::collection::vec(resolver_line(), 1..8)) {
            super::check_resolver(&lines.join("\n"));
        }

        #[test]
        fn the_resolver_never_panics_on_any_text(text in "\\PC{0,80}(\n\\PC{0,80}){0,4}") {
            super::check_resolver(&text);
        }

        #[test]
        fn editing_changes_only_the_edited_task(text in file(), result in result()) {
            check_edits(&text, &result);
        }
    }
}
