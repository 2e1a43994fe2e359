//! `git par lint`: what would make a parallel run go wrong, found before it
//! starts (DESIGN §3). Each finding names its task and line; none is fatal
//! to reading the file, so all of them are reported at once.

use std::collections::HashMap;

use serde::Serialize;

use super::paths::Context;
use super::{parse, Task, TaskFile};

/// The kinds of problem lint reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Two tasks use one ID.
    DuplicateId,
    /// A task names no path: it runs alone and acquires locks as it commits.
    NoPaths,
    /// A name the resolver could not place; `candidates` lists where it could be.
    AmbiguousPath,
    /// A written path's directory neither exists nor is made by an earlier task.
    MissingDirectory,
    /// Two `[P]` tasks of one group write the same path.
    SharedFile,
    /// A dependency names an ID the file does not have.
    UnknownDependency,
    /// Dependencies that wait for each other.
    Cycle,
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// The task it is about, if one.
    pub task: Option<String>,
    /// 1-based line in the task file.
    pub line: Option<usize>,
    pub message: String,
    /// Where an ambiguous path could be.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
}

/// Every problem of a file that was read (dependencies resolved).
pub fn check(file: &TaskFile, cx: Option<&Context>) -> Vec<Finding> {
    let mut out = Vec::new();
    for dup in &file.duplicates {
        out.push(Finding {
            kind: Kind::DuplicateId,
            task: Some(dup.id.clone()),
            line: dup.lines.first().copied(),
            message: format!("task ID {} is used on {}: rename all but one", dup.id, dup.lines_text()),
            candidates: Vec::new(),
        });
    }
    // Directories a task above writes into or locks whole, and every one
    // above them (writing `src/a/b.ts` makes `src/` and `src/a/`).
    let mut made: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut locked_dirs: Vec<&str> = Vec::new();
    for task in &file.tasks {
        let finding = |kind, message: String, candidates: Vec<String>| Finding {
            kind,
            task: Some(task.id.clone()),
            line: Some(task.line),
            message,
            candidates,
        };
        // A task that only runs or checks things writes nothing: running
        // alone is all it needs, and a clean plan lints clean with it.
        if task.paths.is_empty() && !task.is_done() && !super::paths::only_checks(task) {
            out.push(finding(
                Kind::NoPaths,
                format!("{} names no path: it will run alone and lock what it commits", task.id),
                Vec::new(),
            ));
        }
        for rejected in &task.rejected_paths {
            if let Some(rest) = rejected.reason.strip_prefix("ambiguous: could be ") {
                let list = rest.split(" (").next().unwrap_or(rest);
                let candidates = list.split(", ").map(str::to_string).collect();
                out.push(finding(
                    Kind::AmbiguousPath,
                    format!("{}: '{}' could be several paths; write the full path", task.id, rejected.path),
                    candidates,
                ));
            }
        }
        if let Some(cx) = cx.filter(|cx| cx.has_tree()) {
            for path in &task.paths {
                let Some(dir) = parent_dir(path) else { continue };
                let exists = |d: &str| {
                    cx.is_known_dir(d) || made.contains(d) || locked_dirs.iter().any(|l| d.starts_with(l))
                };
                // Writing a file makes its directory: only a directory whose
                // parent is not there either (the path is two levels or more
                // into nothing) says the layout is wrong.
                let implicit = parent_dir(dir).map_or(true, exists);
                if !exists(dir) && !implicit && !task.is_done() {
                    out.push(finding(
                        Kind::MissingDirectory,
                        format!(
                            "{}: {path} is in {dir}, which does not exist and no earlier task writes into",
                            task.id
                        ),
                        Vec::new(),
                    ));
                }
            }
        }
        for path in &task.paths {
            if path.ends_with('/') {
                locked_dirs.push(path);
            }
            let mut dir = parent_dir(path);
            while let Some(d) = dir {
                if !made.insert(d.to_string()) {
                    break;
                }
                dir = parent_dir(d);
            }
        }
        for unknown in unknown_dependencies(task, file) {
            out.push(finding(
                Kind::UnknownDependency,
                format!("{} depends on {unknown}, which is not a task of this file", task.id),
                Vec::new(),
            ));
        }
    }
    shared_files(file, &mut out);
    out
}

/// The directory a path is in (`src/a/` for `src/a/b.py` and for `src/a/b/`).
fn parent_dir(path: &str) -> Option<&str> {
    let trimmed = path.trim_end_matches('/');
    trimmed.rfind('/').map(|at| &path[..=at])
}

/// `[P]` tasks of one group (consecutive, same phase, not done) that write
/// the same file or one inside the other's directory.
fn shared_files(file: &TaskFile, out: &mut Vec<Finding>) {
    let mut start = 0;
    while start < file.tasks.len() {
        let first = &file.tasks[start];
        let mut end = start + 1;
        if first.parallel {
            while end < file.tasks.len() && file.tasks[end].parallel && file.tasks[end].phase == first.phase {
                end += 1;
            }
            group_overlaps(&file.tasks[start..end], out);
        }
        start = end;
    }
}

fn group_overlaps(group: &[Task], out: &mut Vec<Finding>) {
    // Exact paths first (a map), then directory locks against everything (few).
    let mut owner: HashMap<&str, &Task> = HashMap::new();
    let mut dirs: Vec<(&str, &Task)> = Vec::new();
    let mut report = |a: &Task, b: &Task, path: &str| {
        out.push(Finding {
            kind: Kind::SharedFile,
            task: Some(b.id.clone()),
            line: Some(b.line),
            message: format!(
                "{} and {} are [P] in one group but both write {path}; drop [P] from one or split the file",
                a.id, b.id
            ),
            candidates: Vec::new(),
        });
    };
    for task in group.iter().filter(|t| !t.is_done()) {
        for path in &task.paths {
            if let Some(other) = owner.get(path.as_str()).filter(|o| o.id != task.id) {
                report(other, task, path);
            } else {
                owner.insert(path, task);
            }
            if path.ends_with('/') {
                dirs.push((path, task));
            }
        }
    }
    for (dir, holder) in &dirs {
        for task in group.iter().filter(|t| !t.is_done() && t.id != holder.id) {
            if let Some(inside) = task.paths.iter().find(|p| p.starts_with(dir) && p.as_str() != *dir) {
                report(holder, task, inside);
            }
        }
    }
}

/// IDs written after a dependency keyword in a task's text that name no task.
fn unknown_dependencies(task: &Task, file: &TaskFile) -> Vec<String> {
    const KEYS: &[&str] =
        &["depends on", "depend on", "after ", "requires", "blocked by", "deps:", "depends:"];
    let mut out: Vec<String> = Vec::new();
    let texts = std::iter::once(task.description.as_str())
        .chain(task.details.iter().map(String::as_str).filter(|d| !d.starts_with("par:")));
    for text in texts {
        let lower = text.to_ascii_lowercase();
        for key in KEYS {
            for (at, _) in lower.match_indices(key) {
                let rest = &text[at + key.len()..];
                let rest = rest.get(..rest.len().min(80)).unwrap_or(rest);
                for word in rest.split(|c: char| {
                    c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '[' | ']' | '*' | '`')
                }) {
                    let word = word.trim_end_matches(['.', ':']);
                    if word.is_empty() {
                        continue;
                    }
                    if parse::id_len(word) != Some(word.len()) {
                        if word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("&") {
                            continue;
                        }
                        break;
                    }
                    if file.get(word).is_none() && !out.iter().any(|o| o == word) {
                        out.push(word.to_string());
                    }
                }
            }
        }
    }
    out
}
