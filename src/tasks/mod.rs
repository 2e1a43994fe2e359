//! The task file: a spec-kit `tasks.md`, parsed into tasks with their
//! dependencies, and edited losslessly.
//!
//! - [`parse`] reads the grammar of DESIGN §3 and never fails on content:
//!   prose it cannot read is ignored.
//! - [`deps`] turns explicit notations and the phase / `[P]` order into a
//!   dependency graph; a cycle is the one content error.
//! - [`edit`] ticks a task and writes its result line, changing no other byte.
//! - [`merge`] merges a task branch's edits of tasks.md into main's version.

pub mod deps;
pub mod discover;
pub mod edit;
pub mod lines;
pub mod lint;
pub mod merge;
pub mod parse;
pub mod paths;
#[cfg(test)]
mod proptests;

use std::path::PathBuf;

use serde::Serialize;

/// How to read a task file.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Make every phase a barrier (`--strict-phases`).
    pub strict_phases: bool,
    /// The repository root: absolute paths inside it are made relative.
    pub root: Option<PathBuf>,
    /// What paths are resolved against (tracked tree, plan.md); without it
    /// paths are read as written.
    pub context: Option<std::sync::Arc<paths::Context>>,
}

/// Parses `text` and resolves its dependencies. Fails only on dependency
/// cycles; unreadable prose is ignored, duplicate IDs are recorded in
/// [`TaskFile::duplicates`].
/// The ID among `known` that `typed` was meant as: the same letters and
/// number written differently (`T12`, `t012`, `T0012` → `T012`). A number
/// one digit off is another task, not a typo: no guess then.
pub fn similar_id<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    fn split(id: &str) -> Option<(String, u64)> {
        let digits = id.find(|c: char| c.is_ascii_digit())?;
        let (letters, number) = id.split_at(digits);
        Some((letters.to_ascii_uppercase(), number.parse().ok()?))
    }
    let typed_key = split(typed)?;
    known.into_iter().find(|id| *id != typed && split(id).as_ref() == Some(&typed_key))
}

pub fn read(text: &str, options: &Options) -> anyhow::Result<TaskFile> {
    let mut file = parse::parse(text, options);
    deps::resolve(&mut file, text, options)?;
    Ok(file)
}

/// Whether a task is done, in the checkbox's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// `[ ]`
    Todo,
    /// `[x]` or `[X]`
    Done,
    /// `[~]`: started but not done; counts as not done.
    Partial,
}

/// A path the task names that cannot be locked, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedPath {
    pub path: String,
    pub reason: String,
}

/// One task of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Task {
    /// `T004`, `I1-T001`, `T041a` — as written, without decoration.
    pub id: String,
    /// 1-based line of the checkbox.
    pub line: usize,
    pub state: TaskState,
    /// Carries the `[P]` label.
    pub parallel: bool,
    /// Prefix labels without brackets, in order: `P`, `US1`, `HTTP`.
    pub labels: Vec<String>,
    /// The user story: from a story label (`US1`, `AUTH-US1`), else the phase's.
    pub story: Option<String>,
    /// Index into [`TaskFile::phases`]; `None` before the first heading.
    pub phase: Option<usize>,
    /// The text after the ID and the prefix labels, continuation lines joined by a space.
    pub description: String,
    /// Repository-relative paths the task names, normalised, in order, deduplicated.
    pub paths: Vec<String>,
    /// Paths named but not lockable (outside the repository, absolute).
    pub rejected_paths: Vec<RejectedPath>,
    /// The indented sub-bullets and nested lines under the task, trimmed.
    pub details: Vec<String>,
    /// IDs this task depends on directly, in file order: explicit ones, and
    /// the single task before it when file order implies one. A whole `[P]`
    /// group it waits for is in [`Task::after`] instead.
    pub deps: Vec<String>,
    /// The `[P]` groups (indexes into [`TaskFile::groups`]) this task waits
    /// for as a whole: one barrier per phase or group boundary, not a
    /// dependency on each of their tasks.
    #[serde(skip)]
    pub after: Vec<usize>,
    /// How each of [`Task::paths`] was resolved, in the same order.
    #[serde(skip)]
    pub resolved: Vec<paths::Resolved>,
    /// 0-based index of the last line that belongs to the task (details included).
    #[serde(skip)]
    pub last_line: usize,
}

impl Task {
    /// Whether the checkbox says done.
    pub fn is_done(&self) -> bool {
        self.state == TaskState::Done
    }

    /// Class labels (`HTTP`, `CPU`, ...): every label that is neither `P` nor a story.
    pub fn classes(&self) -> impl Iterator<Item = &str> {
        self.labels
            .iter()
            .map(String::as_str)
            .filter(|l| *l != "P" && Some(*l) != self.story.as_deref() && !parse::is_story_label(l))
    }
}

/// A `##`/`###` heading that opens a phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    /// The heading text without the `#`s.
    pub title: String,
    /// 1-based line of the heading.
    pub line: usize,
    /// The user story the heading names (`US1`), if any.
    pub story: Option<String>,
}

/// A `[P]` group that later tasks wait for as a whole (a barrier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// `T003..T009`: its first and last task in file order.
    pub id: String,
    /// Positions in [`TaskFile::tasks`] of the tasks it waits for, in file order.
    pub tasks: Vec<usize>,
}

/// A task ID written on more than one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub id: String,
    /// 1-based lines of every task with this ID.
    pub lines: Vec<usize>,
}

impl Duplicate {
    /// `lines 5 and 7`, `lines 5, 7 and 9`.
    pub fn lines_text(&self) -> String {
        let lines: Vec<String> = self.lines.iter().map(usize::to_string).collect();
        match lines.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("lines {} and {last}", rest.join(", ")),
            _ => format!("line {}", lines.join("")),
        }
    }
}

/// A parsed task file.
#[derive(Debug, Clone, Default)]
pub struct TaskFile {
    /// Task index by ID, kept in step with `tasks` by [`TaskFile::new`].
    index: IdTable,
    /// Tasks in file order.
    pub tasks: Vec<Task>,
    /// Phases in file order (only headings that precede at least one task need appear).
    pub phases: Vec<Phase>,
    /// Things worth telling the user that are not errors (e.g. "tasks written as headings").
    pub notes: Vec<String>,
    /// The barriers tasks wait for (see [`Task::after`]).
    pub groups: Vec<Group>,
    /// IDs used by more than one task, in file order of their first use.
    pub duplicates: Vec<Duplicate>,
}

impl TaskFile {
    /// Builds a task file and its ID index. With duplicate IDs the first wins
    /// in the index; [`deps::resolve`] reports them.
    pub fn new(tasks: Vec<Task>, phases: Vec<Phase>, notes: Vec<String>) -> TaskFile {
        let mut index = IdTable::with_capacity(tasks.len());
        let mut duplicates: Vec<Duplicate> = Vec::new();
        for (i, task) in tasks.iter().enumerate() {
            match index.insert(&tasks, i) {
                None => {}
                Some(first) => match duplicates.iter_mut().find(|d| d.id == task.id) {
                    Some(dup) => dup.lines.push(task.line),
                    None => duplicates
                        .push(Duplicate { id: task.id.clone(), lines: vec![tasks[first].line, task.line] }),
                },
            }
        }
        TaskFile { index, tasks, phases, notes, groups: Vec::new(), duplicates }
    }

    /// The duplicate entry for `id`, if more than one task uses it.
    pub fn duplicate(&self, id: &str) -> Option<&Duplicate> {
        self.duplicates.iter().find(|d| d.id == id)
    }

    /// The task with this ID.
    pub fn get(&self, id: &str) -> Option<&Task> {
        self.index.get(&self.tasks, id).map(|i| &self.tasks[i])
    }

    /// The position of the task with this ID in [`TaskFile::tasks`].
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(&self.tasks, id)
    }

    /// Unchecked tasks whose dependencies are all done. Linear in the
    /// file: each group's state is decided once, not once per waiting task.
    pub fn ready(&self) -> impl Iterator<Item = &Task> {
        let group_done: Vec<bool> =
            self.groups.iter().map(|g| g.tasks.iter().all(|&t| self.tasks[t].is_done())).collect();
        self.tasks.iter().filter(move |t| {
            !t.is_done()
                && t.deps.iter().all(|d| self.get(d).map_or(true, Task::is_done))
                && t.after.iter().all(|&g| group_done.get(g).copied().unwrap_or(true))
        })
    }

    /// Every task `task` waits for directly: its `deps`, then the tasks of
    /// the groups it waits for, without repeats, in file order.
    pub fn all_deps<'a>(&'a self, task: &'a Task) -> Vec<&'a Task> {
        let mut positions: Vec<usize> = task.deps.iter().filter_map(|d| self.position(d)).collect();
        for &g in &task.after {
            if let Some(group) = self.groups.get(g) {
                positions.extend(&group.tasks);
            }
        }
        positions.sort_unstable();
        positions.dedup();
        positions.into_iter().map(|p| &self.tasks[p]).collect()
    }

    /// The dependencies of `task` (groups expanded) that are not done yet.
    pub fn unfinished_deps<'a>(&'a self, task: &'a Task) -> Vec<&'a str> {
        self.all_deps(task).into_iter().filter(|t| !t.is_done()).map(|t| t.id.as_str()).collect()
    }
}

/// Task positions by ID: an open-addressing table of positions into the
/// tasks, compared with the tasks' own IDs, so that no ID is copied (a
/// map keyed by owned IDs was a tenth of reading a 10,000-task plan).
#[derive(Debug, Clone, Default)]
struct IdTable {
    /// A power of two of slots, at most half full; [`IdTable::EMPTY`] or a position.
    slots: Vec<usize>,
}

impl IdTable {
    const EMPTY: usize = usize::MAX;

    fn with_capacity(n: usize) -> IdTable {
        IdTable { slots: vec![IdTable::EMPTY; (2 * n).next_power_of_two().max(8)] }
    }

    fn start(&self, id: &str) -> usize {
        use std::hash::Hasher as _;
        let mut hasher = paths::FxHasher::default();
        hasher.write(id.as_bytes());
        let hash = hasher.finish();
        // Fx mixes into the high bits: fold them down before masking.
        (hash ^ (hash >> 32)) as usize & (self.slots.len() - 1)
    }

    /// Adds position `i` of `tasks` under its ID; if the ID is already
    /// there, leaves it and returns the position it has.
    fn insert(&mut self, tasks: &[Task], i: usize) -> Option<usize> {
        let id = tasks[i].id.as_str();
        let mask = self.slots.len() - 1;
        let mut at = self.start(id);
        loop {
            match self.slots[at] {
                IdTable::EMPTY => {
                    self.slots[at] = i;
                    return None;
                }
                other if tasks[other].id == id => return Some(other),
                _ => at = (at + 1) & mask,
            }
        }
    }

    fn get(&self, tasks: &[Task], id: &str) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.start(id);
        loop {
            match self.slots[at] {
                IdTable::EMPTY => return None,
                other if tasks.get(other).is_some_and(|t| t.id == id) => return Some(other),
                _ => at = (at + 1) & mask,
            }
        }
    }
}

/// A one-line-per-task rendering for tests: ID, line, state, labels, story,
/// phase, deps, paths and rejected paths.
#[cfg(test)]
pub(crate) fn render(file: &TaskFile) -> String {
    let mut out = String::new();
    for t in &file.tasks {
        let state = match t.state {
            TaskState::Todo => "todo",
            TaskState::Done => "done",
            TaskState::Partial => "partial",
        };
        out.push_str(&format!("{} L{}-{} {}", t.id, t.line, t.last_line + 1, state));
        if !t.labels.is_empty() {
            out.push_str(&format!(" [{}]", t.labels.join(",")));
        }
        if let Some(story) = &t.story {
            out.push_str(&format!(" story={story}"));
        }
        if let Some(phase) = t.phase {
            out.push_str(&format!(" phase={phase}"));
        }
        // Groups expanded: the rendering shows what a task waits for, not how it is stored.
        let deps: Vec<&str> = file.all_deps(t).into_iter().map(|d| d.id.as_str()).collect();
        if !deps.is_empty() {
            out.push_str(&format!(" deps={}", deps.join(",")));
        }
        if !t.paths.is_empty() {
            out.push_str(&format!(" paths={}", t.paths.join(",")));
        }
        for r in &t.rejected_paths {
            out.push_str(&format!(" rejected={} ({})", r.path, r.reason));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod similar_id_tests {
    use super::similar_id;

    #[test]
    fn the_same_number_written_otherwise() {
        let known = ["T001", "T012", "T013", "T120"];
        assert_eq!(similar_id("T12", known), Some("T012"));
        assert_eq!(similar_id("t012", known), Some("T012"));
        assert_eq!(similar_id("T0013", known), Some("T013"));
        assert_eq!(similar_id("T01", known), Some("T001"));
        assert_eq!(similar_id("T009", known), None, "another number is another task");
        assert_eq!(similar_id("T012", known), None, "itself is no suggestion");
        assert_eq!(similar_id("X999", known), None);
        assert_eq!(similar_id("setup", known), None);
    }
}
