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
//! - a candidate never has spaces, `://`, placeholders (`<id>`), a leading
//!   `-`, `$`, `@` or `#`, and holds at least one letter;
//! - in backticks, anything with a `/` or `\` is a path, and so is a single
//!   name with a known file extension;
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
//! - `:42` / `#L42` line suffixes are dropped; absolute paths inside
//!   `Options.root` become relative; anything the lock normaliser refuses
//!   (outside the repository, absolute) goes to `rejected_paths` with its
//!   reason, as does any file named `tasks.md` (git-par owns it).

use std::borrow::Cow;
use std::path::Path;

use super::{Options, Phase, RejectedPath, Task, TaskFile, TaskState};
use crate::locks;

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
    // Prefix segments like `I1-`: a letter, then letters or digits, then `-`.
    loop {
        let seg = b[start..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        if seg >= 1 && b.get(start + seg) == Some(&b'-') && b[start].is_ascii_uppercase() {
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

    for (i, line) in lines.iter().enumerate() {
        match line.kind {
            Kind::Blank => {
                gap = true;
                continue;
            }
            Kind::Comment => continue,
            Kind::Code => {
                if let Some((t, indent)) = open {
                    if indent_of(line.raw) > indent || line.fence_info.is_some() {
                        tasks[t].last_line = i;
                        continue;
                    }
                    open = None;
                }
                continue;
            }
            Kind::Text => {}
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
        Some(last) => {
            last.push(' ');
            last.push_str(text);
        }
        None if !gap => {
            if !task.description.is_empty() {
                task.description.push(' ');
            }
            task.description.push_str(text);
        }
        None => task.details.push(text.to_string()),
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
    "server",
    "client",
    "web",
    "api",
    "backend",
    "frontend",
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

/// Fills `paths` and `rejected_paths` from the description and details.
fn collect_paths(task: &mut Task, root: Option<&str>) {
    let mut found: Vec<String> = Vec::new();
    scan_paths(&task.description, &mut found);
    for detail in &task.details {
        if detail.starts_with("par:") {
            continue;
        }
        scan_paths(detail, &mut found);
    }
    for candidate in found.iter().flat_map(|c| expand_braces(c)) {
        let candidate = relative_to_root(&candidate, root).unwrap_or(candidate);
        match locks::normalize(&candidate) {
            Ok(path) if file_name(&path) == "tasks.md" => {
                push_rejected(task, candidate, "tasks.md is owned by git-par".to_string());
            }
            Ok(path) => {
                if !task.paths.contains(&path) {
                    task.paths.push(path);
                }
            }
            Err(reason) => push_rejected(task, candidate, reason),
        }
    }
}

/// Expands `{a,b}` alternatives of a path that is not a glob: `x/{a,b}/` →
/// `x/a/`, `x/b/`. At most 64 results; anything odd is kept as written.
fn expand_braces(path: &str) -> Vec<String> {
    if locks::is_glob(path) || !path.contains('{') {
        return vec![path.to_string()];
    }
    let mut done = Vec::new();
    let mut todo = vec![path.to_string()];
    while let Some(p) = todo.pop() {
        let open = p.find('{');
        let close = open.and_then(|o| p[o..].find('}').map(|c| o + c));
        match (open, close) {
            (Some(o), Some(c)) if p[o + 1..c].contains(',') && !p[o + 1..c].contains('{') => {
                for alt in p[o + 1..c].split(',') {
                    if done.len() + todo.len() >= 64 {
                        return vec![path.to_string()];
                    }
                    todo.push(format!("{}{}{}", &p[..o], alt.trim(), &p[c + 1..]));
                }
            }
            _ => done.push(p),
        }
    }
    done.reverse();
    done
}

fn push_rejected(task: &mut Task, path: String, reason: String) {
    if !task.rejected_paths.iter().any(|r| r.path == path) {
        task.rejected_paths.push(RejectedPath { path, reason });
    }
}

fn file_name(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or(path)
}

/// An absolute path inside `root`, made relative to it.
fn relative_to_root(path: &str, root: Option<&str>) -> Option<String> {
    let root = root?;
    if !(path.starts_with(['/', '\\']) || has_drive(path)) {
        return None;
    }
    let path = path.replace('\\', "/");
    // Windows paths compare without case; ASCII only, so byte offsets stay valid.
    let matches = path.len() > root.len()
        && path.is_char_boundary(root.len())
        && if has_drive(&path) {
            path[..root.len()].eq_ignore_ascii_case(root)
        } else {
            path[..root.len()] == *root
        };
    if !matches {
        return None;
    }
    let rest = path[root.len()..].strip_prefix('/')?;
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The repository root as `relative_to_root` compares it: `/` separators, no trailing `/`.
fn root_text(root: Option<&Path>) -> Option<String> {
    let root = root?.to_str()?.replace('\\', "/");
    let root = root.trim_end_matches('/');
    (!root.is_empty()).then(|| root.to_string())
}

fn has_drive(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
}

/// Finds path candidates in a piece of task text, in order.
pub fn scan_paths(text: &str, out: &mut Vec<String>) {
    // Backtick spans first; the rest of the text is scanned for bare words.
    let mut bare = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        bare.push_str(&rest[..start]);
        let after = &rest[start..];
        let ticks = after.bytes().take_while(|&b| b == b'`').count();
        let body = &after[ticks..];
        let closer = &after[..ticks];
        match body.find(closer) {
            Some(end) => {
                let span = body[..end].trim();
                if let Some(path) = backtick_path(span) {
                    out.push(path);
                }
                bare.push(' ');
                rest = &body[end + ticks..];
            }
            None => {
                bare.push_str(&after[..ticks]);
                rest = body;
            }
        }
    }
    bare.push_str(rest);

    let mut previous = "";
    for word in bare.split_whitespace() {
        let route = HTTP_METHODS.contains(&previous);
        previous = word.trim_matches(|c: char| !c.is_ascii_alphabetic());
        // Cheap filter: every path holds `/`, `\\` or `.`.
        if route || !word.contains(['/', '\\', '.']) {
            continue;
        }
        if let Some(path) = bare_path(link_target(word)) {
            out.push(path);
        }
    }
}

/// A word, or the part of a markdown link `[label](target)` to read as a path.
fn link_target(word: &str) -> &str {
    let Some(at) = word.find("](") else { return word };
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
fn backtick_path(span: &str) -> Option<String> {
    if span.is_empty() || span.contains(char::is_whitespace) {
        return None;
    }
    path_shape(strip_location(span))
}

/// A bare word as a path, if it is one.
fn bare_path(word: &str) -> Option<String> {
    let path = strip_location(trim_word(word));
    if path.contains(['(', ')', '=', '\'']) && !is_windows_absolute(path) {
        return None;
    }
    path_shape(path)
}

/// The rules a candidate must meet to be a path (see the module comment).
fn path_shape(path: &str) -> Option<String> {
    if !plausible(path) {
        return None;
    }
    if is_windows_absolute(path) {
        return Some(path.to_string());
    }
    if !path.contains('/') && !path.contains('\\') {
        return known_file(path).then(|| path.to_string());
    }
    if path.starts_with("//") || path.contains('=') {
        return None;
    }
    if path.starts_with('/') {
        return known_absolute(path).then(|| path.to_string());
    }
    let unix: Cow<str> =
        if path.contains('\\') { Cow::Owned(path.replace('\\', "/")) } else { Cow::Borrowed(path) };
    let first = unix.trim_start_matches("./").split('/').next().unwrap_or("");
    let real = unix.ends_with('/')
        || has_extension(file_name(&unix))
        || unix.starts_with("./")
        || unix.starts_with("../")
        || TOP_DIRS.contains(&first);
    real.then(|| path.to_string())
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

/// Drops a `:42`, `:42:7`, `#L42` location suffix.
fn strip_location(path: &str) -> &str {
    let path = match path.find('#') {
        Some(at)
            if path[at + 1..].starts_with('L')
                && path[at + 2..].starts_with(|c: char| c.is_ascii_digit()) =>
        {
            &path[..at]
        }
        _ => path,
    };
    let mut p = path;
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

/// Basic shape every path has: a letter, no URL, no option flag or variable.
fn plausible(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 300
        && path.chars().any(char::is_alphabetic)
        && !path.contains("://")
        && !path.starts_with("www.")
        && !path.starts_with(['-', '$', '@', '%', '#', '+'])
        && !path.contains(['<', '>', '"', '|'])
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
                && stem.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
                && !stem.chars().all(|c| c.is_ascii_digit() || c == '.')
        }
        None => false,
    }
}
