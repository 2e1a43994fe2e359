//! The tasks.md grammar (DESIGN §3).
//!
//! The file is read line by line (`\n` splits lines, a trailing `\r` is
//! dropped, a leading byte-order mark is skipped). Lines inside fenced code
//! blocks (```` ``` ```` / `~~~`) and HTML comments are never tasks.
//!
//! A task is a list item (`-`, `*`, `+`) with a checkbox (`[ ]`, `[x]`,
//! `[X]`, `[~]`) whose text starts with an ID (`T001`, `T1`, `T041a`,
//! `I1-T001`, `**T001**`, `[T001]`) followed by a space, a colon or the end
//! of the line. Prefix labels (`[P]`, `[US1]`, `[HTTP]`) follow the ID; the
//! first thing that is not a bracketed single word ends them. Lines indented
//! deeper than the task belong to it: bullets are details (a nested checkbox
//! is a detail, not a task), other lines continue the description.
//!
//! `##` and `###` headings open phases; a `###` heading inside a `##` phase
//! that names a user story inherits that story.
//!
//!
//! Paths are found and resolved by [`super::paths`].

pub use super::lines::{bullet, checkbox, classify, heading, indent_of, lines, Classify, Kind, Line};
use super::{paths, Options, Phase, Task, TaskFile};

/// Whether a label names a user story (`US1`, `AUTH-US1`).
pub fn is_story_label(label: &str) -> bool {
    let core = label.rsplit('-').next().unwrap_or(label);
    core.len() > 2 && core.starts_with("US") && core[2..].chars().all(|c| c.is_ascii_digit())
}

/// Length of a task ID at the start of `s` (`T001`, `T041a`, `I1-T001`,
/// `TASK-001`), if any.
pub fn id_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut start = 0;
    // `TASK-001`: the word spelled out, then its number.
    let mut spelled = false;
    // Prefix segments like `I1-`: a capital, then letters or digits, then `-`;
    // never a task number itself, so `T004-T007` stays a range.
    loop {
        let seg = b[start..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        let segment = &b[start..start + seg];
        let task_number = segment.first() == Some(&b'T')
            && segment.len() > 1
            && segment[1..segment.len() - 1].iter().all(u8::is_ascii_digit)
            && segment[1].is_ascii_digit();
        if seg >= 1 && !task_number && b.get(start + seg) == Some(&b'-') && b[start].is_ascii_uppercase() {
            let next = start + seg + 1;
            if segment == b"TASK" && b.get(next).is_some_and(u8::is_ascii_digit) {
                spelled = true;
                start = next - 1;
                break;
            }
            if b.get(next) == Some(&b'T') && b.get(next + 1).is_some_and(u8::is_ascii_digit) {
                start = next;
                break;
            }
            if seg > 8 {
                return None;
            }
            start = next;
            continue;
        }
        break;
    }
    if b.get(start) != Some(&b'T') && !spelled {
        return None;
    }
    let digits = b[start + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut end = start + 1 + digits;
    if b.get(end).is_some_and(u8::is_ascii_alphabetic)
        && !b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric)
    {
        end += 1;
    }
    if b.get(end).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
        return None;
    }
    Some(end)
}

/// Splits a checkbox text into the task ID and what follows it.
fn task_id(text: &str) -> Option<(&str, &str)> {
    let mut s = text;
    let bold = s.starts_with("**");
    if bold {
        s = &s[2..];
    }
    let bracket = s.starts_with('[');
    if bracket {
        s = &s[1..];
    }
    let len = id_len(s)?;
    let id = &s[..len];
    let mut rest = &s[len..];
    if bracket {
        rest = rest.strip_prefix(']')?;
    }
    let colon_inside = bold && rest.starts_with(":**");
    if colon_inside {
        rest = &rest[3..];
    } else if bold {
        rest = rest.strip_prefix("**")?;
    }
    if !(rest.is_empty() || rest.starts_with([' ', '\t', ':'])) {
        return None;
    }
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    Some((id, rest.trim_start()))
}

/// Splits the prefix labels off a task's text: `[P] [US1] Do x` → (`P`, `US1`), `Do x`.
fn prefix_labels(text: &str) -> (Vec<String>, &str) {
    let mut labels = Vec::new();
    let mut rest = text.trim_start();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(end) = inner.find(']') else { break };
        let label = &inner[..end];
        let valid = !label.is_empty()
            && label.len() <= 32
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && label.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let after = &inner[end + 1..];
        if !valid || after.starts_with('(') {
            break;
        }
        labels.push(label.to_string());
        rest = after.trim_start();
    }
    // The vector stays in the task: no room for four labels when it has one.
    labels.shrink_to_fit();
    (labels, rest)
}

/// Drops a separator between the labels and the text: `: x`, `- x`, `— x`.
fn strip_separator(text: &str) -> &str {
    for sep in [":", "-", "–", "—"] {
        if let Some(rest) = text.strip_prefix(sep) {
            if rest.is_empty() || rest.starts_with([' ', '\t']) {
                return rest.trim_start();
            }
        }
    }
    text
}

/// The user story a heading names: `User Story 2` → `US2`, or a `US2` word.
pub fn heading_story(title: &str) -> Option<String> {
    let lower = title.to_lowercase();
    if let Some(at) = lower.find("user story") {
        let after = lower[at + "user story".len()..].trim_start();
        let after = after.strip_prefix('#').unwrap_or(after);
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            return Some(format!("US{digits}"));
        }
    }
    for word in title.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if is_story_label(word) {
            return Some(word.to_string());
        }
    }
    None
}

/// Parses tasks, phases and paths; dependencies are left empty for [`super::deps`].
pub fn parse(text: &str, options: &Options) -> TaskFile {
    // At most one task per `[`: sized once, not grown by copying (a task is
    // a few hundred bytes, and plans have thousands; capacity never touched
    // costs no memory).
    let boxes = text.bytes().filter(|&b| b == b'[').count();
    let mut tasks: Vec<Task> = Vec::with_capacity(boxes);
    let mut phases: Vec<Phase> = Vec::new();
    let mut notes = Vec::new();
    // The latest `##`/`###` heading, not yet added to `phases` until a task needs it.
    let mut heading_phase: Option<Phase> = None;
    let mut phase_index: Option<usize> = None;
    let mut h2_story: Option<String> = None;
    let mut heading_tasks = 0usize;
    // The task being read and its indentation.
    let mut open: Option<(usize, usize)> = None;
    // Whether a blank line has been seen since the open task's last line.
    let mut gap = false;

    // Whether the fenced block being read belongs to the open task.
    let mut code_in_task = false;
    // The heading and prose of each section (for directories a heading
    // gives its tasks), and the section of each task.
    let mut sections: Vec<String> = vec![String::new()];
    let mut section_of: Vec<usize> = Vec::new();

    for (i, line) in Classify::new(text).enumerate() {
        match line.kind {
            Kind::Blank => {
                gap = true;
                code_in_task = false;
                continue;
            }
            Kind::Comment => continue,
            Kind::Code => {
                // A fence opened deeper than the task belongs to it, up to its closing line.
                if let Some((t, indent)) = open {
                    if code_in_task || indent_of(line.raw) > indent {
                        tasks[t].last_line = i;
                        code_in_task = true;
                        continue;
                    }
                    open = None;
                }
                continue;
            }
            Kind::Text => code_in_task = false,
        }
        let visible: &str = &line.visible;
        let indent = indent_of(visible);

        if let Some((t, task_indent)) = open {
            if indent > task_indent {
                add_to_task(&mut tasks[t], visible, gap);
                tasks[t].last_line = i;
                gap = false;
                continue;
            }
            open = None;
        }
        gap = false;

        if let Some((level, title)) = heading(visible) {
            sections.push(title.to_string());
            if level == 2 || level == 3 {
                let own = heading_story(title);
                if level == 2 {
                    h2_story = own.clone();
                }
                let story = own.or_else(|| if level == 3 { h2_story.clone() } else { None });
                heading_phase = Some(Phase { title: title.to_string(), line: i + 1, story });
                phase_index = None;
            }
            if level >= 2
                && title.split([' ', ':']).next().and_then(|w| id_len(w).filter(|&n| n == w.len())).is_some()
            {
                heading_tasks += 1;
            }
            continue;
        }

        let Some((state, after_box)) = checkbox(visible) else {
            if bullet(visible).map_or(true, |item| !item.starts_with('[')) {
                // Prose of the section (a `**Location**: src/x/` line), not a list of tasks.
                if let Some(section) = sections.last_mut() {
                    if section.len() < 4096 {
                        section.push('\n');
                        section.push_str(visible.trim());
                    }
                }
            }
            continue;
        };
        let Some((id, after_id)) = task_id(after_box) else { continue };
        section_of.push(sections.len() - 1);
        if phase_index.is_none() {
            if let Some(p) = heading_phase.take() {
                phases.push(p);
                phase_index = Some(phases.len() - 1);
            }
        }
        let (labels, description) = prefix_labels(after_id);
        let description = strip_separator(description);
        let story = labels
            .iter()
            .find(|l| is_story_label(l))
            .cloned()
            .or_else(|| phase_index.and_then(|p| phases[p].story.clone()));
        tasks.push(Task {
            id: id.to_string(),
            line: i + 1,
            state,
            parallel: labels.iter().any(|l| l == "P"),
            labels,
            story,
            phase: phase_index,
            description: description.trim().to_string(),
            paths: Vec::new(),
            rejected_paths: Vec::new(),
            details: Vec::new(),
            deps: Vec::new(),
            after: Vec::new(),
            resolved: Vec::new(),
            last_line: i,
        });
        open = Some((tasks.len() - 1, indent));
    }

    paths::resolve_tasks(&mut tasks, &sections, &section_of, options);
    if tasks.is_empty() && heading_tasks > 0 {
        notes.push(format!(
            "{heading_tasks} tasks are written as headings (`### T01: ...`); git-par reads only checkbox items like `- [ ] T001 ...`"
        ));
    }
    TaskFile::new(tasks, phases, notes)
}

/// Adds an indented line to a task: a bullet becomes a detail, other text
/// continues the description (or the last detail).
fn add_to_task(task: &mut Task, line: &str, gap: bool) {
    if let Some(item) = bullet(line) {
        task.details.push(item.trim().to_string());
        return;
    }
    let text = line.trim();
    match task.details.last_mut() {
        _ if gap => task.details.push(text.to_string()),
        Some(last) => {
            last.push(' ');
            last.push_str(text);
        }
        None => {
            if !task.description.is_empty() {
                task.description.push(' ');
            }
            task.description.push_str(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::locks;
    use crate::tasks::paths::{normalize, RUNNERS};
    use crate::tasks::{read, render, TaskState};

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tasks").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn rendered(text: &str) -> String {
        render(&read(text, &Options::default()).expect("reads"))
    }

    #[test]
    fn reads_every_id_checkbox_bullet_and_label() {
        let text = fixture("ids-and-labels.md");
        assert_eq!(
            rendered(&text),
            "\
T001 L8-8 todo phase=0
T1 L9-9 done phase=0 deps=T001
T041a L10-10 done phase=0 deps=T1
T046A L11-11 partial phase=0 deps=T041a
I1-T001 L12-12 todo phase=0 deps=T046A
T002 L13-13 todo phase=0 deps=I1-T001
T003 L14-14 todo phase=0 deps=T002
T004 L15-15 todo phase=0 deps=T003
T005 L16-16 todo phase=0 deps=T004
T006 L17-17 todo phase=0 deps=T005
T010 L21-21 todo [P,US1] story=US1 phase=1 deps=T006
T011 L22-22 todo [AUTH-US1,HTTP] story=AUTH-US1 phase=1 deps=T010
T012 L23-23 todo [SETUP] phase=1 deps=T011
T013 L24-24 todo [P] phase=1 deps=T012 paths=app/[id]/page.tsx,docs/pages.md
T014 L25-25 todo [P,CPU] phase=1 deps=T012
T015 L26-26 todo phase=1 deps=T013,T014
T030 L42-49 todo phase=2 deps=T001,T015 paths=src/impact.py
T032 L50-50 todo phase=2 deps=T030
"
        );
        let file = read(&text, &Options::default()).expect("reads");
        let get = |id: &str| file.get(id).expect(id);
        assert_eq!(get("T006").description, "");
        assert_eq!(get("T003").description, "Bold ID with the colon inside");
        assert_eq!(
            get("T013").description,
            "Add the page app/[id]/page.tsx and [the docs](docs/pages.md) [US2]"
        );
        assert_eq!(get("T015").description, "[assigned_to: Dev] [P] A bracket with spaces ends the labels");
        assert_eq!(get("T011").classes().collect::<Vec<_>>(), ["HTTP"]);
        assert_eq!(get("T014").classes().collect::<Vec<_>>(), ["CPU"]);
        assert_eq!(get("T012").classes().collect::<Vec<_>>(), ["SETUP"]);
        let block = get("T030");
        assert_eq!(
            block.description,
            "A task whose description continues on the next line and the one after."
        );
        assert_eq!(
            block.details,
            [
                "**Depends On**: T001",
                "**File Impact**: `src/impact.py`",
                "[ ] T031 A nested checkbox is a detail, not a task",
                "A paragraph after a blank line is a detail too.",
            ]
        );
        let titles: Vec<&str> = file.phases.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["Phase 1: IDs", "Phase 2: Labels", "Phase 4: Blocks"]);
    }

    #[test]
    fn fenced_code_and_html_comments_hold_no_tasks() {
        let text = fixture("code-fences.md");
        assert_eq!(
            rendered(&text),
            "\
T001 L5-5 todo phase=0
T002 L23-26 todo phase=0 deps=T001
T003 L27-30 todo phase=0 deps=T002
T004 L31-31 todo phase=0 deps=T003
"
        );
        let file = read(&text, &Options::default()).expect("reads");
        let t003 = file.get("T003").expect("T003");
        assert_eq!(t003.description, "Real task  and text after it");
        // Text after a comment closes is indented: a detail of the task above, never a task.
        assert_eq!(t003.details, ["[ ] T107 after a comment is not at a line start"]);
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let text = fixture("bom.md");
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(rendered(&text), "T001 L5-5 todo phase=0\nT002 L6-6 done [P] phase=0 deps=T001\n");
        let file = read(&text, &Options::default()).expect("reads");
        assert_eq!(file.phases[0].title, "Phase 1: Setup");
    }

    #[test]
    fn crlf_files_read_like_lf_files() {
        let text = fixture("crlf.md");
        assert!(text.contains("\r\n") && !text.replace("\r\n", "").contains('\n'), "fixture must be CRLF");
        let expected = "\
T001 L5-7 todo [P] phase=0 paths=src/app.py
T002 L8-8 done [P] phase=0 paths=src/lib.py
T003 L12-13 partial phase=1 deps=T001,T002
";
        assert_eq!(rendered(&text), expected);
        assert_eq!(rendered(&text.replace("\r\n", "\n")), expected);
        let file = read(&text, &Options::default()).expect("reads");
        let t001 = file.get("T001").expect("T001");
        assert_eq!(t001.description, "Create `src/app.py` continued here");
        assert_eq!(t001.details, ["a detail"]);
        assert_eq!(file.get("T002").expect("T002").description, "Create `src/lib.py`");
        assert_eq!(file.get("T003").expect("T003").details, ["par: merged 3f2a1c9"]);
    }

    #[test]
    fn any_script_and_emoji() {
        assert_eq!(
            rendered(&fixture("unicode.md")),
            "\
T001 L5-5 todo [P] phase=0 paths=src/данные/загрузка.py
T002 L6-6 todo [P] phase=0 paths=src/中文/模块.py
T003 L7-7 done phase=0 deps=T001,T002 paths=docs/οδηγός.md
T004 L8-8 todo [US1] story=US1 phase=0 deps=T003
T005 L12-12 todo [US1] story=US1 phase=1 deps=T004 paths=app/café/menu.tsx
"
        );
    }

    #[test]
    fn path_heuristics_keep_files_and_drop_prose() {
        let text = fixture("paths.md");
        let absolute = "absolute path: lock patterns are relative to the repository root";
        assert_eq!(
            rendered(&text),
            format!(
                "\
T001 L5-5 todo phase=0 paths=src/models/user.py,tests/test_user.py
T002 L6-6 todo phase=0 deps=T001 paths=src/data/,src/loaders/csv.py
T003 L7-7 todo phase=0 deps=T002 paths=src/**/*.rs,app/[id]/page.tsx,app/(auth)/login/page.tsx
T004 L8-8 todo phase=0 deps=T003 paths=src/api/router.go rejected=../../src/api/handler.go (leaves the repository)
T005 L9-9 todo phase=0 deps=T004 rejected=/api/users (an HTTP route, not a path) rejected=/api/items (an HTTP route, not a path)
T006 L10-10 todo phase=0 deps=T005
T007 L11-11 todo phase=0 deps=T006 rejected=../outside/x.py (leaves the repository) rejected=/home/me/notes.txt ({absolute}) rejected=C:\\Users\\me\\x.py ({absolute}) rejected=tasks.md (tasks.md is owned by git-par)
T008 L12-12 todo phase=0 deps=T007 paths=pyproject.toml,Dockerfile,.github/workflows/ci.yml
T009 L13-13 todo phase=0 deps=T008 paths=internal/cli/,internal/config/
T010 L14-16 todo phase=0 deps=T009 paths=src/detail.py rejected=data/<name>.csv (a placeholder, not a path)
T011 L17-17 todo phase=0 deps=T010 paths=src/bold.py
"
            )
        );
    }

    /// The paths and the rejected paths (with reasons) of a one-task file.
    fn paths_of(description: &str) -> (Vec<String>, Vec<(String, String)>) {
        let file = read(&format!("- [ ] T001 {description}\n"), &Options::default()).expect("reads");
        let task = &file.tasks[0];
        let rejected = task.rejected_paths.iter().map(|r| (r.path.clone(), r.reason.clone())).collect();
        (task.paths.clone(), rejected)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_backticked_path_with_spaces_is_one_path() {
        let command = "looks like a command, not a path";
        let unsure = "a file name with spaces and no directory: too unsure to lock";
        let prose = "looks like prose, not a path";
        let none: &[&str] = &[];
        for (description, paths, rejected) in [
            ("[P] Rewrite `docs/user guide.md` intro", &["docs/user guide.md"][..], &[][..]),
            ("Edit `src/My Component/index.tsx:12`", &["src/My Component/index.tsx"], &[]),
            ("Fill `assets/team photos/`", &["assets/team photos/"], &[]),
            ("Edit `src/a.py src/b.py:3`", &["src/a.py", "src/b.py"], &[]),
            ("Edit `Dockerfile Makefile`", &["Dockerfile", "Makefile"], &[]),
            ("Edit `src/a.py, docs/my file.md, a b`", &["src/a.py", "docs/my file.md"], &[]),
            ("Edit `internal/{cli, git}/`", &["internal/cli/", "internal/git/"], &[]),
            ("Edit `src/a.py and src/b.py`", none, &[("src/a.py and src/b.py", command)]),
            ("Edit `../x/my file.md`", none, &[("../x/my file.md", "leaves the repository")]),
            (
                "Run `doit generate specs/001-x/spec.md`",
                none,
                &[("doit generate specs/001-x/spec.md", command)],
            ),
            ("Run `./gen.py build docs/x.md`", none, &[("./gen.py build docs/x.md", command)]),
            ("Edit `user guide.md`", none, &[("user guide.md", unsure)]),
            ("Say `Export to src/a.py`", none, &[("Export to src/a.py", prose)]),
            ("Say `docs/old dir/ and new/`", none, &[("docs/old dir/ and new/", prose)]),
            // Code, command lines and routes are not paths at all.
            ("Run `cargo test --lib parse`", none, &[]),
            ("Run `pytest tests/unit/test_x.py`", none, &[]),
            ("Run `mytool --fix src/a.py`", none, &[]),
            (
                "Call `GET /api/users/{id}.json`",
                none,
                &[("/api/users/{id}.json", "an HTTP route, not a path")],
            ),
            ("Set `FOO=1 src/a.py`", none, &[]),
            ("Use `$HOME/my dir/a.py`", none, &[]),
            ("See `quickstart.md §5.1 → §5.7` and `net8.0 → net10.0`", none, &[]),
            ("Write `let path = a / b;`", none, &[]),
            ("Open `https://example.com/a b.md`", none, &[]),
        ] {
            let rejected: Vec<(String, String)> =
                rejected.iter().map(|(p, r)| (p.to_string(), r.to_string())).collect();
            assert_eq!(paths_of(description), (strings(paths), rejected), "{description}");
        }
    }

    #[test]
    fn the_runners_are_sorted_for_binary_search() {
        assert!(RUNNERS.windows(2).all(|w| w[0] < w[1]));
        assert!(RUNNERS.binary_search(&"pytest").is_ok());
    }

    #[test]
    fn a_quoted_path_with_spaces_is_one_path() {
        let none: &[&str] = &[];
        for (description, paths, rejected) in [
            ("Edit \"docs/my file.md\"", &["docs/my file.md"][..], &[][..]),
            ("Edit 'docs/my file.md', then \"src/a b/c.py\".", &["docs/my file.md", "src/a b/c.py"], &[]),
            ("Edit (\"docs/my file.md\")", &["docs/my file.md"], &[]),
            ("Edit \"src/a.py src/b.py\"", &["src/a.py", "src/b.py"], &[]),
            (
                "Click \"Export to report.csv\"",
                none,
                &[("Export to report.csv", "a file name with spaces and no directory: too unsure to lock")],
            ),
            // Prose in quotes is read word by word, as before.
            ("Say \"Export to src/a.py\" or \"see src/b.py\"", &["src/a.py", "src/b.py"], &[]),
            ("Say \"Hello, see src/a.py\"", &["src/a.py"], &[]),
            ("Say \"see src/a.py first\" and 'done'", &["src/a.py"], &[]),
            // A task that only runs something reads what it names.
            (
                "Run \"pytest tests/x.py -q\"",
                none,
                &[("tests/x.py", "only read or called by the task, not written")],
            ),
            ("Label \"Save\" in src/ui.py", &["src/ui.py"], &[]),
            // Apostrophes are not quotes.
            ("The user's docs/a.md and the team's src/b.py", &["docs/a.md", "src/b.py"], &[]),
            ("Don't edit 'src/a.py and src/b.py", &["src/a.py", "src/b.py"], &[]),
        ] {
            let rejected: Vec<(String, String)> =
                rejected.iter().map(|(p, r)| (p.to_string(), r.to_string())).collect();
            assert_eq!(paths_of(description), (strings(paths), rejected), "{description}");
        }
    }

    #[test]
    fn a_bare_route_group_keeps_its_parentheses() {
        for (description, paths) in [
            ("Add app/(group)/layout.tsx", &["app/(group)/layout.tsx"][..]),
            ("Add app/(marketing)/(home)/page.tsx.", &["app/(marketing)/(home)/page.tsx"]),
            ("Add (see app/(group)/layout.tsx)", &["app/(group)/layout.tsx"]),
            ("Fill app/(auth)/ first", &["app/(auth)/"]),
            ("Edit (see src/a.py) and (src/b.py), then src/c.py).", &["src/a.py", "src/b.py", "src/c.py"]),
            ("Call load(src/a.py) and f(x)", &[]),
            ("Add app/(group/layout.tsx and app/group)/x.tsx", &[]),
        ] {
            assert_eq!(paths_of(description), (strings(paths), Vec::new()), "{description}");
        }
    }

    #[test]
    fn a_test_id_after_a_file_locks_the_file() {
        assert_eq!(
            paths_of("Fix `tests/test_a.py::test_b` and src/lib.rs::parse, not `std::fs::read`"),
            (strings(&["tests/test_a.py", "src/lib.rs"]), Vec::new())
        );
        let absolute = "absolute path: lock patterns are relative to the repository root";
        assert_eq!(
            paths_of("Call `D:\\App\\app\\jobs.py::run_job(session_id: str)`"),
            (Vec::new(), vec![("D:\\App\\app\\jobs.py".to_string(), absolute.to_string())])
        );
    }

    #[test]
    fn an_anchor_after_a_file_locks_the_file() {
        assert_eq!(
            paths_of("See [setup](docs/guide.md#install), `docs/api.md#get-users` and src/C#/x.cs"),
            (strings(&["docs/guide.md", "docs/api.md", "src/C#/x.cs"]), Vec::new())
        );
    }

    #[test]
    fn absolute_paths_inside_the_root_become_relative() {
        let text = "\
- [ ] T001 Edit /work/repo/src/a.py and `/work/repo/docs/` but not /work/other/b.py
- [ ] T002 Edit `D:\\Projets\\App\\app\\main.py` and d:/projets/app/README.md
- [ ] T003 Edit /work/repo/specs/001-x/tasks.md
";
        let unix =
            read(text, &Options { root: Some("/work/repo/".into()), ..Options::default() }).expect("reads");
        assert_eq!(unix.tasks[0].paths, ["src/a.py", "docs/"]);
        assert_eq!(unix.tasks[0].rejected_paths.len(), 1);
        assert_eq!(unix.tasks[0].rejected_paths[0].path, "/work/other/b.py");
        assert_eq!(unix.tasks[2].paths, Vec::<String>::new());
        assert_eq!(unix.tasks[2].rejected_paths[0].reason, "tasks.md is owned by git-par");
        let windows = read(text, &Options { root: Some("D:\\Projets\\App".into()), ..Options::default() })
            .expect("reads");
        assert_eq!(windows.tasks[1].paths, ["app/main.py", "README.md"]);
        // Without a root every absolute path is reported, never locked.
        let none = read(text, &Options::default()).expect("reads");
        assert!(none.tasks.iter().all(|t| t.paths.is_empty()));
        assert_eq!(none.tasks[1].rejected_paths.len(), 2);
    }

    #[test]
    fn tasks_written_as_headings_get_a_note() {
        let file = read("## Phase 1\n\n### T01: Create the branch\n\n### T02: Verify\n", &Options::default())
            .expect("reads");
        assert!(file.tasks.is_empty());
        assert_eq!(file.notes.len(), 1, "{:?}", file.notes);
        assert!(file.notes[0].starts_with("2 tasks are written as headings"), "{}", file.notes[0]);
    }

    #[test]
    fn story_phases_and_headings() {
        assert_eq!(heading_story("Phase 3: User Story 12 - Sign in (Priority: P1)").as_deref(), Some("US12"));
        assert_eq!(heading_story("Phase 5: US3 — Search").as_deref(), Some("US3"));
        assert_eq!(heading_story("Implementation for user story 2").as_deref(), Some("US2"));
        assert_eq!(heading_story("Phase 6: Polish (USB support)"), None);
        assert_eq!(heading("## Phase 1: Setup ##"), Some((2, "Phase 1: Setup")));
        assert_eq!(heading("#hashtag"), None);
        assert_eq!(heading("    ## indented code"), None);
        // A `###` heading under a story `##` heading inherits the story.
        let file = read("## Phase 3: User Story 1\n\n### Tests\n\n- [ ] T001 Test it\n", &Options::default())
            .expect("reads");
        assert_eq!(file.phases[0].title, "Tests");
        assert_eq!(file.tasks[0].story.as_deref(), Some("US1"));
    }

    #[test]
    fn ids_end_at_a_space_a_colon_or_the_line() {
        for (text, id) in [
            ("T001", Some("T001")),
            ("T001: x", Some("T001")),
            ("**T001**: x", Some("T001")),
            ("**T001:** x", Some("T001")),
            ("[T001] x", Some("T001")),
            ("I1-T001 x", Some("I1-T001")),
            ("TASK-001 x", Some("TASK-001")),
            ("**TASK-012**: x", Some("TASK-012")),
            ("TASK-x", None),
            ("TASK x", None),
            ("TASKS-001 x", None),
            ("AB-C1-T001 x", Some("AB-C1-T001")),
            ("T041a x", Some("T041a")),
            ("T001x2 x", None),
            ("T001ab x", None),
            ("T001-T004 x", None),
            ("T001, x", None),
            ("**T001 x", None),
            ("Tx01 x", None),
            ("T x", None),
            ("", None),
        ] {
            assert_eq!(task_id(text).map(|(id, _)| id), id, "{text:?}");
        }
    }

    #[test]
    fn the_normalise_shortcut_agrees_with_the_lock_normaliser() {
        for path in [
            "src/a.py",
            "src/data/",
            "a",
            "a/",
            "./a",
            "a/./b",
            "a/../b",
            "../a",
            "a//b",
            "/a",
            "~/a",
            "C:/a",
            "a\\b",
            " a",
            "a ",
            ".",
            "./",
            "..",
            "a/..",
            "a/b/..",
            "\u{3000}a",
            "a/.b",
            "...",
            "a/.../b",
            "",
        ] {
            assert_eq!(normalize(path).map(Cow::into_owned), locks::normalize(path), "{path:?}");
        }
    }

    #[test]
    fn separators_before_the_description_go() {
        let file = read(
            "- [ ] T001 [P]: Colon\n- [ ] T002 - Dash\n- [ ] T003 [US1] — Em dash\n- [ ] T004 -flag stays\n",
            &Options::default(),
        )
        .expect("reads");
        let descriptions: Vec<&str> = file.tasks.iter().map(|t| t.description.as_str()).collect();
        assert_eq!(descriptions, ["Colon", "Dash", "Em dash", "-flag stays"]);
    }

    #[test]
    fn no_checkbox_no_task() {
        for line in
            ["- T001 x", "-[ ] T001 x", "- [ ]T001 x", "- [?] T001 x", "1. [ ] T001 x", "- [ ]", "- ["]
        {
            assert!(checkbox(line).and_then(|(_, rest)| task_id(rest)).is_none(), "{line:?}");
        }
        assert_eq!(checkbox("  * [X] T1"), Some((TaskState::Done, "T1")));
        assert_eq!(checkbox("\t+ [~]"), Some((TaskState::Partial, "")));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let text = String::from_utf8_lossy(&bytes);
            let _ = read(&text, &Options::default());
            let _ = read(&text, &Options { strict_phases: true, root: Some("/r".into()), ..Options::default() });
        }

        #[test]
        fn never_panics_on_any_string(text in "\\PC{0,300}") {
            let _ = read(&text, &Options::default());
        }

        #[test]
        fn never_panics_on_task_like_soup(lines in proptest::collection::vec(soup_line(), 0..40)) {
            let text = lines.join("");
            let options = Options { strict_phases: false, root: Some("/repo".into()), ..Options::default() };
            let parsed = parse(&text, &options);
            let resolved = read(&text, &options);
            // Only duplicates and cycles fail, and both need two tasks.
            proptest::prop_assert!(resolved.is_ok() || parsed.tasks.len() > 1);
            for file in [Some(parsed), resolved.ok()].into_iter().flatten() {
                let count = lines::count(&text);
                for task in &file.tasks {
                    proptest::prop_assert!(task.line >= 1 && task.line - 1 <= task.last_line && task.last_line < count);
                    proptest::prop_assert!(!task.deps.contains(&task.id));
                    for path in &task.paths {
                        proptest::prop_assert!(locks::normalize(path).as_deref() == Ok(path.as_str()), "{path}");
                    }
                }
            }
        }
    }

    mod lines {
        pub fn count(text: &str) -> usize {
            super::lines(text).len()
        }
    }

    /// Lines that look like the grammar, in random order and pieces.
    fn soup_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let pieces = prop_oneof![
            Just("- [ ] T001 ".to_string()),
            Just("* [x] T002 [P] ".to_string()),
            Just("+ [~] I1-T003: ".to_string()),
            Just("  - [X] **T004** [US1] [HTTP] ".to_string()),
            Just("- [ ] [T005] ".to_string()),
            Just("## Phase 2: User Story 1\n".to_string()),
            Just("### Tests\n".to_string()),
            Just("## Dependencies\n".to_string()),
            Just("```mermaid\n".to_string()),
            Just("~~~\n".to_string()),
            Just("```\n".to_string()),
            Just("<!-- ".to_string()),
            Just(" -->".to_string()),
            Just("T001 -> T002 → {T003, T004}".to_string()),
            Just("T001-T004 before T005–T009".to_string()),
            Just("T002 --> T001 & T005".to_string()),
            Just("depends on T001, T002".to_string()),
            Just("[deps: T003]".to_string()),
            Just("`src/a.py` src/b/ ../x /home/y C:\\z tasks.md".to_string()),
            Just("[x](../../a.md) app/[id]/page.tsx {a,b}/".to_string()),
            Just("\r\n".to_string()),
            Just("\n".to_string()),
            Just("\u{feff}".to_string()),
            Just("é😀中".to_string()),
            "[ -~]{0,12}".prop_map(|s| s),
        ];
        proptest::collection::vec(pieces, 1..6).prop_map(|v| v.concat())
    }
}
