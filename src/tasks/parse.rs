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
//! Path heuristics (a wrong path costs a needless lock; a missed one costs a
//! missed conflict, so both matter):
//! - candidates are backtick spans, markdown links and bare words of the
//!   description, continuation lines and details (except `par:` result
//!   lines, which git-par writes itself); for a link `[label](target)` the
//!   label wins when it is a path (spec-kit links are relative to the spec
//!   directory, `../../src/x.cs`, while their labels are repository paths);
//! - a candidate never has `://`, placeholders (`<id>`), a leading `-`, `$`,
//!   `@` or `#`, and holds at least one letter;
//! - in backticks, anything with a `/` or `\` is a path, and so is a single
//!   name with a known file extension;
//! - a span with spaces, in backticks or quotes (`"…"`, `'…'`; a quote
//!   opens at the start of a word and closes at the end of one, so
//!   `user's` is no quote), is read whole; a span with `, ` and no `{` is
//!   a list, each item read on its own. It is nothing when it does not
//!   end like a path (an extension, a `/`), holds `$`, `=`, `;`, `&`, starts
//!   with an HTTP method or a well-known program (`cargo`, `pytest`, `npm`,
//!   ...) or has an option flag (`--lib`): that is code, a command line or
//!   prose. A path-shaped span the parser is unsure of is reported in
//!   `rejected_paths`, never locked and never dropped in silence. So it is
//!   - several paths when every word is a whole path (`src/a.py src/b.py`);
//!   - reported as too unsure when it has no `/` or `\` (`user guide.md`
//!     and `open notes.md` cannot be told apart);
//!   - reported as "looks like a command" when its first word is a whole
//!     path (`./gen.py build docs/x.md`) or a lowercase program-like name
//!     followed by a file-like word (`doit generate specs/x/spec.md`);
//!   - reported as "looks like prose" when the spaces are not inside a
//!     name: the first word has no `/` or `\` (`Export to src/a.py`), or a
//!     space touches one (`Saved to /tmp/a b.txt`);
//!   - else one path with spaces (`docs/user guide.md`).
//!
//!   In quotes, what would be nothing, a command or prose is read word by
//!   word like the text around it (`"see src/a.py"`); in backticks it is
//!   not;
//! - a bare word keeps balanced parentheses inside when it has a `/` and
//!   ends with an extension or a `/` (`app/(auth)/login/page.tsx`); a `)`
//!   that closes a parenthesis of the prose (`(see src/a.py)`) is not part
//!   of the word, and other words with parentheses (`load(src/a.py)`) are
//!   not paths;
//! - a bare word with `/` is a path when it ends with `/` (a directory), its
//!   last segment has a lowercase file extension, it starts with `./`/`../`,
//!   or its first segment is a usual top-level directory (`src`, `tests`,
//!   `internal`, ...) — so prose like `and/or`, `read/write/delete` is not;
//!   a bare name without `/` counts only with a known lowercase extension
//!   (`main.py`, not `e.g.`, `1.2.3`, `Node.js` or `SqlDbType.Json`);
//! - the spec-kit documents next to tasks.md (`spec.md`, `plan.md`,
//!   `research.md`, ...) named alone are not repository paths;
//! - a word after an HTTP method (`GET /api/x`) is a route, not a path; an
//!   absolute Unix path counts (as rejected) only under a well-known root
//!   (`/home`, `/usr`, `/tmp`, ...), so `/api/users` is ignored; Windows
//!   paths (`C:\x`, `D:/x`) are always paths;
//! - `{a,b}` alternatives without `*`/`?` are expanded (`internal/{cli,git}/`
//!   → `internal/cli/`, `internal/git/`), since a lock pattern is a glob only
//!   with `*` or `?`;
//! - `:42` / `#L42` line suffixes are dropped, and so are the `#anchor`
//!   and the `::name` after a file with an extension (`docs/a.md#setup`,
//!   `tests/test_a.py::test_b`, a pytest node ID); absolute paths
//!   inside `Options.root` become relative; anything the lock normaliser
//!   refuses (outside the repository, absolute) goes to `rejected_paths`
//!   with its reason, as does any file named `tasks.md` (git-par owns it).

use std::borrow::Cow;

use super::{Options, Phase, RejectedPath, Task, TaskFile, TaskState};
use crate::locks::{self, expand_braces, has_drive, relative_to_root, root_text};

/// Whether a label names a user story (`US1`, `AUTH-US1`).
pub fn is_story_label(label: &str) -> bool {
    let core = label.rsplit('-').next().unwrap_or(label);
    core.len() > 2 && core.starts_with("US") && core[2..].chars().all(|c| c.is_ascii_digit())
}

/// The lines of a text as the parser and the editor see them: split on `\n`,
/// without the `\r` of CRLF and without a leading byte-order mark.
pub fn lines(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

/// What a line is, once fences and comments are accounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Ordinary text (its visible part, comments removed).
    Text,
    /// Blank, or only a comment.
    Blank,
    /// A fence line or a line inside a fenced block.
    Code,
    /// Inside a multi-line HTML comment.
    Comment,
}

/// One classified line.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    /// The line without its ending.
    pub raw: &'a str,
    /// The text with HTML comments removed.
    pub visible: Cow<'a, str>,
    pub kind: Kind,
    /// The info string of the fenced block this line is in (`mermaid`), if any.
    pub fence_info: Option<&'a str>,
    /// Whether a fenced block or an HTML comment is still open after this line.
    pub open_after: bool,
}

/// Classifies every line: fenced code, HTML comments, text.
pub fn classify(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut fence: Option<(char, usize, &str)> = None;
    let mut in_comment = false;
    for raw in lines(text) {
        let trimmed = raw.trim_start();
        if let Some((ch, len, info)) = fence {
            let run = trimmed.chars().take_while(|&c| c == ch).count();
            if run >= len && trimmed[run * ch.len_utf8()..].trim().is_empty() {
                fence = None;
                out.push(Line {
                    raw,
                    visible: Cow::Borrowed(""),
                    kind: Kind::Code,
                    fence_info: None,
                    open_after: false,
                });
            } else {
                out.push(Line {
                    raw,
                    visible: Cow::Borrowed(""),
                    kind: Kind::Code,
                    fence_info: Some(info),
                    open_after: true,
                });
            }
            continue;
        }
        if !in_comment {
            if let Some((ch, len, info)) = fence_open(trimmed) {
                fence = Some((ch, len, info));
                out.push(Line {
                    raw,
                    visible: Cow::Borrowed(""),
                    kind: Kind::Code,
                    fence_info: None,
                    open_after: true,
                });
                continue;
            }
        }
        let (visible, still_open) = strip_comments(raw, in_comment);
        let was_in_comment = in_comment;
        in_comment = still_open;
        let kind = if !visible.trim().is_empty() {
            Kind::Text
        } else if was_in_comment || raw.contains("<!--") {
            Kind::Comment
        } else {
            Kind::Blank
        };
        out.push(Line { raw, visible, kind, fence_info: None, open_after: in_comment });
    }
    out
}

/// A fence opening: three or more backticks or tildes, and its info string.
fn fence_open(trimmed: &str) -> Option<(char, usize, &str)> {
    let ch = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = trimmed.chars().take_while(|&c| c == ch).count();
    if run < 3 {
        return None;
    }
    let info = trimmed[run..].trim();
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some((ch, run, info))
}

/// Removes `<!-- ... -->` parts of a line; says whether a comment stays open.
fn strip_comments(raw: &str, mut in_comment: bool) -> (Cow<'_, str>, bool) {
    if !in_comment && !raw.contains("<!--") {
        return (Cow::Borrowed(raw), false);
    }
    let mut out = String::new();
    let mut rest = raw;
    loop {
        if in_comment {
            match rest.find("-->") {
                Some(end) => {
                    rest = &rest[end + 3..];
                    in_comment = false;
                }
                None => return (Cow::Owned(out), true),
            }
        } else {
            match rest.find("<!--") {
                Some(start) => {
                    out.push_str(&rest[..start]);
                    rest = &rest[start + 4..];
                    in_comment = true;
                }
                None => {
                    out.push_str(rest);
                    return (Cow::Owned(out), false);
                }
            }
        }
    }
}

/// Columns of leading whitespace (a tab advances to the next multiple of 4).
pub fn indent_of(line: &str) -> usize {
    let mut col = 0;
    for c in line.chars() {
        match c {
            ' ' => col += 1,
            '\t' => col += 4 - col % 4,
            _ => break,
        }
    }
    col
}

/// A heading: its level and text, for `#` to `######` followed by a space.
pub fn heading(line: &str) -> Option<(usize, &str)> {
    if indent_of(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let level = t.bytes().take_while(|&b| b == b'#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &t[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    Some((level, rest.trim().trim_end_matches('#').trim()))
}

/// A list bullet: the text after `- `, `* `, `+ ` (or `1. `), if the line is one.
pub fn bullet(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let mut chars = t.char_indices();
    let (_, first) = chars.next()?;
    let after = if matches!(first, '-' | '*' | '+') {
        &t[1..]
    } else if first.is_ascii_digit() {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &t[digits..];
        rest.strip_prefix('.').or_else(|| rest.strip_prefix(')'))?
    } else {
        return None;
    };
    if after.is_empty() {
        return Some("");
    }
    if !after.starts_with([' ', '\t']) {
        return None;
    }
    Some(after.trim_start())
}

/// A checkbox item (only `-`, `*`, `+` bullets): its state and the text after the box.
pub fn checkbox(line: &str) -> Option<(TaskState, &str)> {
    let t = line.trim_start();
    if !t.starts_with(['-', '*', '+']) {
        return None;
    }
    let rest = bullet(line)?;
    let b = rest.as_bytes();
    if b.len() < 3 || b[0] != b'[' || b[2] != b']' {
        return None;
    }
    let state = match b[1] {
        b' ' => TaskState::Todo,
        b'x' | b'X' => TaskState::Done,
        b'~' => TaskState::Partial,
        _ => return None,
    };
    let after = &rest[3..];
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    Some((state, after.trim_start()))
}

/// Length of a task ID at the start of `s` (`T001`, `T041a`, `I1-T001`), if any.
pub fn id_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut start = 0;
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
    if b.get(start) != Some(&b'T') {
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
    let lines = classify(text);
    let mut tasks: Vec<Task> = Vec::new();
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

    for (i, line) in lines.iter().enumerate() {
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

        let Some((state, after_box)) = checkbox(visible) else { continue };
        let Some((id, after_id)) = task_id(after_box) else { continue };
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
            last_line: i,
        });
        open = Some((tasks.len() - 1, indent));
    }

    let root = root_text(options.root.as_deref());
    for task in &mut tasks {
        collect_paths(task, root.as_deref());
    }
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

/// File extensions that make a single name (no `/`) a path.
const EXTENSIONS: &[&str] = &[
    "py",
    "pyi",
    "ipynb",
    "rs",
    "go",
    "js",
    "mjs",
    "cjs",
    "jsx",
    "ts",
    "tsx",
    "mts",
    "cts",
    "vue",
    "svelte",
    "astro",
    "java",
    "kt",
    "kts",
    "scala",
    "groovy",
    "gradle",
    "cs",
    "csproj",
    "sln",
    "fs",
    "vb",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cxx",
    "m",
    "mm",
    "swift",
    "rb",
    "php",
    "pl",
    "lua",
    "r",
    "jl",
    "dart",
    "ex",
    "exs",
    "erl",
    "hs",
    "clj",
    "elm",
    "zig",
    "nim",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "psm1",
    "bat",
    "cmd",
    "sql",
    "prisma",
    "graphql",
    "gql",
    "proto",
    "md",
    "mdx",
    "rst",
    "txt",
    "adoc",
    "json",
    "jsonc",
    "json5",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "env",
    "xml",
    "html",
    "htm",
    "css",
    "scss",
    "sass",
    "less",
    "svg",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "ico",
    "webp",
    "csv",
    "tsv",
    "parquet",
    "lock",
    "mod",
    "sum",
    "tf",
    "tfvars",
    "hcl",
    "dockerfile",
    "make",
    "mk",
    "cmake",
    "properties",
    "plist",
    "gradle",
    "snap",
    "tmpl",
    "j2",
    "jinja",
    "hbs",
    "ejs",
    "pug",
    "wasm",
    "log",
    "pem",
    "example",
    "sample",
    "http",
    "feature",
    "spec",
    "test",
    "bicep",
    "nix",
    "dhall",
    "cue",
    "star",
    "bzl",
];

/// Names that look like files but are products (`Node.js`).
const NOT_FILES: &[&str] = &[
    "node.js",
    "vue.js",
    "next.js",
    "nuxt.js",
    "express.js",
    "d3.js",
    "three.js",
    "chart.js",
    "react.js",
    "angular.js",
    "ember.js",
    "backbone.js",
    "nest.js",
    "socket.io",
    "deno.land",
    "asp.net",
    "vb.net",
    "ado.net",
];

/// Top-level directories that make a bare `a/b` a path even without an extension.
const TOP_DIRS: &[&str] = &[
    "src",
    "lib",
    "libs",
    "app",
    "apps",
    "packages",
    "internal",
    "pkg",
    "cmd",
    "crates",
    "tests",
    "test",
    "spec",
    "specs",
    "docs",
    "doc",
    "scripts",
    "bin",
    "components",
    "pages",
    "public",
    "static",
    "assets",
    "config",
    "migrations",
    "include",
    "examples",
    "benches",
    "fixtures",
    "tools",
    "services",
    "modules",
    "plugins",
    "resources",
    "templates",
    "deploy",
    "infra",
    ".github",
    ".specify",
];

/// The spec-kit documents next to tasks.md: named alone they are not repository paths.
const SPEC_DOCS: &[&str] =
    &["spec.md", "plan.md", "research.md", "data-model.md", "quickstart.md", "checklist.md"];

/// Well-known absolute roots: an absolute path under one is reported, others
/// (`/api/users`) are taken for routes.
const ABSOLUTE_ROOTS: &[&str] = &[
    "home",
    "usr",
    "etc",
    "tmp",
    "var",
    "opt",
    "root",
    "mnt",
    "srv",
    "Users",
    "Volumes",
    "private",
    "bin",
    "lib",
    "dev",
    "proc",
    "workspace",
    "workspaces",
    "work",
    "data",
];

const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Programs whose name starts a command line in backticks (`pytest tests/x.py`):
/// such a span is a command, not a path, and is not reported. Sorted.
const RUNNERS: &[&str] = &[
    "bash",
    "bun",
    "bundle",
    "cargo",
    "cat",
    "cd",
    "cmake",
    "composer",
    "cp",
    "curl",
    "dart",
    "deno",
    "docker",
    "dotnet",
    "flutter",
    "git",
    "go",
    "gradle",
    "helm",
    "jest",
    "kubectl",
    "ls",
    "make",
    "mix",
    "mkdir",
    "mv",
    "mvn",
    "mypy",
    "node",
    "npm",
    "npx",
    "php",
    "pip",
    "pnpm",
    "poetry",
    "pwsh",
    "py",
    "pytest",
    "python",
    "python3",
    "rake",
    "rm",
    "ruby",
    "ruff",
    "sh",
    "sudo",
    "swift",
    "terraform",
    "time",
    "touch",
    "tsc",
    "uv",
    "uvx",
    "vitest",
    "yarn",
    "zsh",
];

/// A path candidate found in task text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate<'a> {
    /// Read as a path: normalised, then locked or rejected.
    Path(&'a str),
    /// Path-shaped, but too unsure to lock: reported with the reason.
    Unsure(&'a str, &'static str),
}

/// Fills `paths` and `rejected_paths` from the description and details.
fn collect_paths(task: &mut Task, root: Option<&str>) {
    let mut found: Vec<Candidate> = Vec::new();
    scan_paths(&task.description, &mut found);
    for detail in &task.details {
        if !detail.starts_with("par:") {
            scan_paths(detail, &mut found);
        }
    }
    let mut paths: Vec<String> = Vec::new();
    let mut rejected: Vec<RejectedPath> = Vec::new();
    let mut reject = |path: String, reason: String| {
        if !rejected.iter().any(|r| r.path == path) {
            rejected.push(RejectedPath { path, reason });
        }
    };
    for candidate in found {
        let written = match candidate {
            Candidate::Path(path) => path,
            Candidate::Unsure(text, reason) => {
                reject(text.to_string(), reason.to_string());
                continue;
            }
        };
        for candidate in expand_braces(written) {
            let candidate = match relative_to_root(&candidate, root) {
                Some(relative) => Cow::Owned(relative),
                None => candidate,
            };
            match normalize(&candidate) {
                Ok(path) if file_name(&path).eq_ignore_ascii_case("tasks.md") => {
                    reject(candidate.into_owned(), "tasks.md is owned by git-par".to_string());
                }
                Ok(path) => {
                    if !paths.iter().any(|p| *p == path) {
                        paths.push(path.into_owned());
                    }
                }
                Err(reason) => reject(candidate.into_owned(), reason),
            }
        }
    }
    task.paths = paths;
    task.rejected_paths = rejected;
}

/// [`locks::normalize`], without its allocations for a path that is
/// already normal (the common case).
fn normalize(path: &str) -> Result<Cow<'_, str>, String> {
    let b = path.as_bytes();
    let unusual = b.is_empty()
        || path.trim().len() != path.len()
        || matches!(b[0], b'/' | b'~')
        || has_drive_letter(b)
        || b.contains(&b'\\')
        || has_bytes(b, b"//")
        || path.split('/').any(|segment| segment == "." || segment == "..")
        || locks::in_git_dir(path);
    let normal = !unusual;
    if normal {
        Ok(Cow::Borrowed(path))
    } else {
        locks::normalize(path).map(Cow::Owned)
    }
}

fn file_name(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or(path)
}

/// Finds path candidates in a piece of task text, in order.
fn scan_paths<'a>(text: &'a str, out: &mut Vec<Candidate<'a>>) {
    let mut previous = "";
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let after = &rest[start..];
        let ticks = after.bytes().take_while(|&b| b == b'`').count();
        let body = &after[ticks..];
        let Some(end) = body.find(&after[..ticks]) else { break };
        scan_bare(&rest[..start], &mut previous, out);
        let span = body[..end].trim();
        if span.contains(char::is_whitespace) {
            spaced_span(span, false, out);
        } else if let Some(path) = backtick_path(span) {
            out.push(Candidate::Path(path));
        }
        previous = "";
        rest = &body[end + ticks..];
    }
    scan_bare(rest, &mut previous, out);
}

/// Reads a backtick or quoted span with spaces in it (see the module comment): one
/// path, several, a command reported as unsure, or nothing. Says whether
/// it took the span.
fn spaced_span<'a>(span: &'a str, quoted: bool, out: &mut Vec<Candidate<'a>>) -> bool {
    if has_bytes(span.as_bytes(), b", ") && !span.contains('{') {
        // A list: each item on its own.
        let before = out.len();
        for item in span.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            if item.contains(char::is_whitespace) {
                spaced_span(item, quoted, out);
            } else if let Some(path) = backtick_path(item) {
                out.push(Candidate::Path(path));
            }
        }
        return out.len() > before;
    }
    let span = strip_location(span);
    if !plausible(span) || span.bytes().any(|b| matches!(b, b';' | b'&' | b'=' | b'`' | b'$')) {
        return false;
    }
    let mut words = span.split_whitespace();
    let Some(first) = words.next() else { return false };
    if HTTP_METHODS.contains(&first) || RUNNERS.binary_search(&first).is_ok() {
        return false;
    }
    let flag = |w: &str| {
        w.strip_prefix('-').is_some_and(|rest| rest.starts_with(|c: char| c == '-' || c.is_alphanumeric()))
    };
    if words.clone().any(flag) {
        return false;
    }
    let shaped = spaced_shape(span);
    let last = words.clone().next_back().unwrap_or(first);
    if !shaped && !known_file(strip_location(last)) {
        return false;
    }
    if complete_path(first) && words.clone().all(complete_path) {
        out.extend(span.split_whitespace().map(|word| Candidate::Path(strip_location(word))));
        return true;
    }
    if !shaped {
        return false;
    }
    let program = first.starts_with(|c: char| c.is_ascii_lowercase())
        && first
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    let file_like = |w: &str| w.contains(['/', '\\']) || has_extension(w);
    if !span.contains(['/', '\\']) {
        out.push(Candidate::Unsure(span, "a file name with spaces and no directory: too unsure to lock"));
        return true;
    }
    let reason = if complete_path(first) || (program && words.any(file_like)) {
        "looks like a command, not a path"
    } else if !first.contains(['/', '\\'])
        || span.as_bytes().windows(2).any(|w| matches!(w, [b' ', b'/' | b'\\'] | [b'/' | b'\\', b' ']))
    {
        // The spaces are not inside a directory or file name: `Saved to /tmp/a b.txt`.
        "looks like prose, not a path"
    } else {
        out.push(Candidate::Path(span));
        return true;
    };
    // Quoted commands and prose are read word by word, like the text around them.
    if quoted {
        return false;
    }
    out.push(Candidate::Unsure(span, reason));
    true
}

/// A whole span with spaces that reads as one path: a directory part and a
/// file with an extension (`docs/user guide.md`), a directory (`docs/my
/// notes/`), or a name with a known extension (`user guide.md`).
fn spaced_shape(span: &str) -> bool {
    let unix: Cow<str> =
        if span.contains('\\') { Cow::Owned(span.replace('\\', "/")) } else { Cow::Borrowed(span) };
    if !unix.contains('/') {
        return known_file(span);
    }
    if unix.starts_with("//") || (unix.starts_with('/') && !known_absolute(&unix)) {
        return false;
    }
    unix.ends_with('/') || has_extension(file_name(&unix))
}

/// A word that is a whole path by itself: a file with an extension, a
/// directory ending in `/`, a known file name (`Dockerfile`).
fn complete_path(word: &str) -> bool {
    let word = strip_location(word);
    if !word.contains(['/', '\\']) {
        // `path_shape` takes such a word only when it is a known file.
        return path_shape(word).is_some();
    }
    (word.ends_with(['/', '\\']) || has_extension(file_name(word))) && path_shape(word).is_some()
}

/// Finds paths outside backticks: a quoted span with spaces is read whole,
/// like a backtick span, the rest word by word. `previous` is the word
/// before (an HTTP method makes a route).
fn scan_bare<'a>(text: &'a str, previous: &mut &'a str, out: &mut Vec<Candidate<'a>>) {
    let mut rest = text;
    'text: loop {
        for word in rest.split_whitespace() {
            let opening = match word.as_bytes().first() {
                Some(b'(' | b'[') => word.trim_start_matches(['(', '[']),
                _ => word,
            };
            if matches!(opening.as_bytes().first(), Some(b'"' | b'\'')) {
                // Where the quote is in `rest`: both are slices of `text`.
                let open = opening.as_ptr() as usize - rest.as_ptr() as usize;
                if let Some(close) = closing_quote(rest, open) {
                    let inner = &rest[open + 1..close];
                    if inner.contains(char::is_whitespace) {
                        if spaced_span(inner, true, out) {
                            *previous = "";
                        } else {
                            scan_bare(inner, previous, out);
                        }
                        rest = &rest[close + 1..];
                        continue 'text;
                    }
                }
            }
            scan_word(word, previous, out);
        }
        break;
    }
}

/// The quote that closes the one at `open`: the same quote at the end of a
/// word, so apostrophes (`the user's file`) are not quotes.
fn closing_quote(text: &str, open: usize) -> Option<usize> {
    let b = text.as_bytes();
    let quote = b[open];
    if !matches!(b.get(open + 1), Some(c) if !c.is_ascii_whitespace() && *c != quote) {
        return None;
    }
    let mut at = open + 1;
    while let Some(close) = b[at..].iter().position(|&c| c == quote).map(|i| at + i) {
        at = close + 1;
        let ends_word = !b[close - 1].is_ascii_whitespace()
            && !matches!(b.get(close + 1), Some(c) if c.is_ascii_alphanumeric() || *c >= 0x80);
        if ends_word {
            return Some(close);
        }
    }
    None
}

/// A bare word as a path candidate; `previous` is the word before.
fn scan_word<'a>(word: &'a str, previous: &mut &'a str, out: &mut Vec<Candidate<'a>>) {
    let before = std::mem::replace(previous, word);
    // Cheap filter: every path holds `/`, `\\` or `.`.
    if !word.bytes().any(|b| matches!(b, b'/' | b'\\' | b'.')) {
        return;
    }
    let method = before.trim_matches(|c: char| !c.is_ascii_alphabetic());
    if HTTP_METHODS.contains(&method) {
        return;
    }
    if let Some(path) = bare_path(link_target(word)) {
        out.push(Candidate::Path(path));
    }
}

/// A word, or the part of a markdown link `[label](target)` to read as a path.
fn link_target(word: &str) -> &str {
    let Some(at) = word.as_bytes().windows(2).position(|w| w == b"](") else { return word };
    let label = word[..at].trim_start_matches(|c: char| c != '[').trim_start_matches('[');
    let target = &word[at + 2..];
    let target = target.find(')').map_or(target, |end| &target[..end]);
    if bare_path(label).is_some() {
        label
    } else {
        target
    }
}

/// A backtick span as a path, if it is one.
fn backtick_path(span: &str) -> Option<&str> {
    if span.is_empty() || span.contains(char::is_whitespace) {
        return None;
    }
    path_shape(strip_location(span))
}

/// A bare word as a path, if it is one.
fn bare_path(word: &str) -> Option<&str> {
    let path = strip_location(trim_word(word));
    if path.bytes().any(|b| matches!(b, b'=' | b'\'')) && !is_windows_absolute(path) {
        return None;
    }
    if path.contains(['(', ')']) && !is_windows_absolute(path) && !route_group(path) {
        return None;
    }
    path_shape(path)
}

/// Parentheses inside a path (`app/(auth)/login/page.tsx`): balanced, and
/// the path has a `/` and ends with an extension or a `/` (a call like
/// `load(src/a.py)` ends with `)`).
fn route_group(path: &str) -> bool {
    let mut depth = 0usize;
    for b in path.bytes() {
        match b {
            b'(' => depth += 1,
            b')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0 && path.contains('/') && (path.ends_with('/') || has_extension(file_name(path)))
}

/// The rules a candidate must meet to be a path (see the module comment).
fn path_shape(path: &str) -> Option<&str> {
    if !plausible(path) {
        return None;
    }
    if is_windows_absolute(path) {
        return Some(path);
    }
    if !path.contains('/') && !path.contains('\\') {
        return known_file(path).then_some(path);
    }
    if path.starts_with("//") || path.contains('=') {
        return None;
    }
    if path.starts_with('/') {
        return known_absolute(path).then_some(path);
    }
    let unix: Cow<str> =
        if path.contains('\\') { Cow::Owned(path.replace('\\', "/")) } else { Cow::Borrowed(path) };
    let mut relative: &str = &unix;
    while let Some(rest) = relative.strip_prefix("./") {
        relative = rest;
    }
    let first = relative.split('/').next().unwrap_or("");
    let real = unix.ends_with('/')
        || has_extension(file_name(&unix))
        || unix.starts_with("./")
        || unix.starts_with("../")
        || TOP_DIRS.contains(&first);
    real.then_some(path)
}

/// Strips punctuation around a bare word, keeping balanced brackets and
/// trailing `*`s that are not the end of a bold/italic pair.
fn trim_word(word: &str) -> &str {
    let stars = word.len() - word.trim_start_matches(['*', '_']).len();
    let mut w = word.trim_start_matches(['(', '[', '{', '"', '\'', '*', '_', '<', '«', '“', '‘']);
    let mut stars_left = stars;
    loop {
        let before = w;
        w = w.trim_end_matches([',', ';', ':', '!', '?', '"', '\'', '>', '»', '”', '’', '…']);
        if stars_left > 0 && w.ends_with(['*', '_']) {
            w = &w[..w.len() - 1];
            stars_left -= 1;
        }
        if w.ends_with('.') && !w.ends_with("..") && !w.ends_with("/.") {
            w = &w[..w.len() - 1];
        }
        for (open, close) in [('(', ')'), ('[', ']'), ('{', '}')] {
            if w.ends_with(close) && w.matches(open).count() < w.matches(close).count() {
                w = &w[..w.len() - 1];
            }
        }
        if w == before {
            return w;
        }
    }
}

/// Drops a `:42`, `:42:7`, `#L42`, `#anchor` location suffix, and the `::name` of a
/// test or symbol in a file (`tests/test_a.py::test_b`).
fn strip_location(path: &str) -> &str {
    let Some(colon) = path.find(':') else { return strip_line_anchor(path) };
    let test_id = path.as_bytes()[colon..].windows(2).position(|w| w == b"::").map(|at| colon + at);
    let path = match test_id {
        Some(at) if has_extension(file_name(&path[..at])) => &path[..at],
        _ => path,
    };
    let mut p = strip_line_anchor(path);
    while let Some(at) = p.rfind(':') {
        let tail = &p[at + 1..];
        if !tail.is_empty() && tail.chars().all(|c| c.is_ascii_digit() || c == '-') && at > 1 {
            p = &p[..at];
        } else {
            break;
        }
    }
    p
}

/// Drops a `#L42` suffix, and any `#anchor` after a file name with an
/// extension (`docs/guide.md#install`).
fn strip_line_anchor(path: &str) -> &str {
    match path.find('#') {
        Some(at)
            if path[at + 1..].starts_with('L')
                && path[at + 2..].starts_with(|c: char| c.is_ascii_digit()) =>
        {
            &path[..at]
        }
        Some(at) if has_extension(file_name(&path[..at])) => &path[..at],
        _ => path,
    }
}

/// `C:` at the start, as the lock normaliser sees a drive.
fn has_drive_letter(b: &[u8]) -> bool {
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Whether `haystack` holds `needle` (short needles: cheaper than `str::contains`).
fn has_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Basic shape every path has: a letter, no URL, no option flag or variable.
fn plausible(path: &str) -> bool {
    let bytes = path.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 300
        && !matches!(bytes[0], b'-' | b'$' | b'@' | b'%' | b'#' | b'+')
        && bytes.iter().any(|&b| b.is_ascii_alphabetic() || b >= 0x80)
        && !bytes.iter().any(|&b| matches!(b, b'<' | b'>' | b'"' | b'|'))
        && !has_bytes(bytes, b"://")
        && !path.starts_with("www.")
}

fn is_windows_absolute(path: &str) -> bool {
    has_drive(path) || path.starts_with("\\\\")
}

fn known_absolute(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    ABSOLUTE_ROOTS.contains(&first) || path.starts_with("~/")
}

fn has_extension(name: &str) -> bool {
    match name.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && !ext.is_empty()
                && ext.len() <= 12
                && ext.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && ext.chars().any(|c| c.is_ascii_lowercase())
        }
        None => false,
    }
}

/// A single name with a known file extension (`main.py`, `Cargo.toml`, `.env`).
fn known_file(name: &str) -> bool {
    if name.contains(['(', ')', '=', '<', '>', '|', '"', '\'', ',', '[', ']', '{', '}', '*', '?']) {
        return false;
    }
    let named = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(name));
    if named(NOT_FILES) || named(SPEC_DOCS) {
        return false;
    }
    if named(&["dockerfile", "makefile", ".gitignore", ".env", ".dockerignore", ".editorconfig"]) {
        return true;
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty()
                && EXTENSIONS.contains(&ext)
                && stem.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
                && !stem.chars().all(|c| c.is_ascii_digit() || c == '.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{read, render};

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
T005 L9-9 todo phase=0 deps=T004
T006 L10-10 todo phase=0 deps=T005
T007 L11-11 todo phase=0 deps=T006 rejected=../outside/x.py (leaves the repository) rejected=/home/me/notes.txt ({absolute}) rejected=C:\\Users\\me\\x.py ({absolute}) rejected=tasks.md (tasks.md is owned by git-par)
T008 L12-12 todo phase=0 deps=T007 paths=pyproject.toml,Dockerfile,.github/workflows/ci.yml
T009 L13-13 todo phase=0 deps=T008 paths=internal/cli/,internal/config/
T010 L14-16 todo phase=0 deps=T009 paths=src/detail.py
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
            ("Call `GET /api/users/{id}.json`", none, &[]),
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
            ("Run \"pytest tests/x.py -q\"", &["tests/x.py"], &[]),
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
            paths_of("Test `tests/test_a.py::test_b` and src/lib.rs::parse, not `std::fs::read`"),
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
            let _ = read(&text, &Options { strict_phases: true, root: Some("/r".into()) });
        }

        #[test]
        fn never_panics_on_any_string(text in "\\PC{0,300}") {
            let _ = read(&text, &Options::default());
        }

        #[test]
        fn never_panics_on_task_like_soup(lines in proptest::collection::vec(soup_line(), 0..40)) {
            let text = lines.join("");
            let options = Options { strict_phases: false, root: Some("/repo".into()) };
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
