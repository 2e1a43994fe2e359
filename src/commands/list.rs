//! `list`, `show` and `ready`: tasks as the file states them.

use anyhow::Result;
use serde::Serialize;

use crate::cli::{ListArgs, ReadyArgs, ShowArgs};
use crate::command_error::Refusal;
use crate::output::{Style, Ui};
use git_par::state::{ActiveTask, State, TaskStatus};
use git_par::tasks::paths::{From, Resolved};
use git_par::tasks::{RejectedPath, Task, TaskFile, TaskState};
use git_par::workflow;
use git_par::workspace::LoadedTasks;
use git_par::workspace::Workspace;

/// A task as `--json` shows it.
#[derive(Serialize)]
pub(super) struct TaskJson<'a> {
    id: &'a str,
    line: usize,
    state: TaskState,
    parallel: bool,
    labels: &'a [String],
    story: Option<&'a str>,
    phase: Option<&'a str>,
    description: &'a str,
    paths: &'a [String],
    /// How each path was resolved (`written`, `root-slash`, `task-dir`, `heading`, `plan`, `tree`).
    resolved: &'a [Resolved],
    rejected_paths: &'a [RejectedPath],
    /// Direct dependencies on single tasks (explicit ones and the task before it).
    deps: &'a [String],
    /// The groups (barriers) it waits for as a whole; their tasks are in the top-level `groups`.
    after: GroupNames<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unfinished_deps: Option<Vec<&'a str>>,
    /// The recommended command (`show` and `ready`); `null` when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<Option<String>>,
    /// Set while the task is started and not yet landed or aborted.
    active: Option<ActiveJson<'a>>,
}

/// What `lock-status` knows of a started task, as `list`/`show` show it.
#[derive(Serialize)]
struct ActiveJson<'a> {
    state: TaskStatus,
    branch: &'a str,
    worktree: &'a std::path::Path,
    owner: String,
    started_at: &'a str,
}

impl<'a> ActiveJson<'a> {
    fn new(task: &'a ActiveTask) -> ActiveJson<'a> {
        ActiveJson {
            state: task.state,
            branch: &task.branch,
            worktree: &task.worktree,
            owner: task.owner.to_string(),
            started_at: &task.started_at,
        }
    }
}

impl<'a> TaskJson<'a> {
    pub(super) fn new(file: &'a TaskFile, task: &'a Task, state: &'a State) -> TaskJson<'a> {
        TaskJson {
            id: &task.id,
            line: task.line,
            state: task.state,
            parallel: task.parallel,
            labels: &task.labels,
            story: task.story.as_deref(),
            phase: phase_title(file, task),
            description: &task.description,
            paths: &task.paths,
            resolved: &task.resolved,
            rejected_paths: &task.rejected_paths,
            deps: &task.deps,
            after: GroupNames { file, groups: &task.after },
            details: None,
            unfinished_deps: None,
            command: None,
            active: state.tasks.get(&task.id).map(ActiveJson::new),
        }
    }

    fn full(file: &'a TaskFile, task: &'a Task, state: &'a State, command: Option<String>) -> TaskJson<'a> {
        TaskJson {
            details: Some(&task.details),
            unfinished_deps: Some(file.unfinished_deps(task)),
            command: Some(command),
            ..TaskJson::new(file, task, state)
        }
    }
}

#[derive(Serialize)]
struct TasksJson<'a> {
    tasks_file: &'a str,
    tasks: Rows<'a>,
    /// The groups the listed tasks wait for, each listed once. After
    /// `tasks`, and keyed `name`/`members`, so that a script scanning for
    /// `{"id":` or `"tasks":[` finds tasks only.
    groups: Vec<GroupJson<'a>>,
}

/// A barrier: the tasks a later task waits for as a whole.
#[derive(Serialize)]
pub(super) struct GroupJson<'a> {
    pub(super) name: &'a str,
    pub(super) members: Vec<&'a str>,
}

/// The names of the groups a task waits for, written as a JSON list
/// without collecting them first.
pub(super) struct GroupNames<'a> {
    file: &'a TaskFile,
    groups: &'a [usize],
}

impl Serialize for GroupNames<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer
            .collect_seq(self.groups.iter().filter_map(|&g| self.file.groups.get(g)).map(|g| g.id.as_str()))
    }
}

/// The tasks of a `list`, `ready` or `show` document, each made into a
/// [`TaskJson`] as it is written: 10,000 of them at once would be 3 MB.
struct Rows<'a> {
    file: &'a TaskFile,
    state: &'a State,
    tasks: &'a [&'a Task],
    /// For `ready` and `show`: the configured command template, to recommend a command.
    template: Option<Option<&'a str>>,
    /// For `show`: the details and the unfinished dependencies too.
    full: bool,
}

impl<'a> Rows<'a> {
    fn row(&self, task: &'a Task) -> TaskJson<'a> {
        let command = self.template.map(|t| workflow::recommended_command(task, t));
        match (self.full, command) {
            (true, Some(command)) => TaskJson::full(self.file, task, self.state, command),
            (_, command) => TaskJson { command, ..TaskJson::new(self.file, task, self.state) },
        }
    }
}

impl Serialize for Rows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.tasks.iter().map(|t| self.row(t)))
    }
}

impl<'a> TasksJson<'a> {
    fn new(file: &'a TaskFile, tasks_file: &'a str, selected: &[&'a Task], tasks: Rows<'a>) -> Self {
        let mut wanted = vec![false; file.groups.len()];
        for task in selected {
            for &g in &task.after {
                if let Some(slot) = wanted.get_mut(g) {
                    *slot = true;
                }
            }
        }
        let groups = file
            .groups
            .iter()
            .zip(wanted)
            .filter(|(_, wanted)| *wanted)
            .map(|(g, _)| GroupJson {
                name: &g.id,
                members: g.tasks.iter().map(|&t| file.tasks[t].id.as_str()).collect(),
            })
            .collect();
        TasksJson { tasks_file, groups, tasks }
    }
}

fn phase_title<'a>(file: &'a TaskFile, task: &Task) -> Option<&'a str> {
    task.phase.and_then(|i| file.phases.get(i)).map(|p| p.title.as_str())
}

/// Runs `git par list`.
pub fn list(args: &ListArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let loaded = super::tasks(ws, ui)?;
    let state = ws.state().load()?;
    let selected: Vec<&Task> = loaded
        .file
        .tasks
        .iter()
        .filter(|t| {
            if args.todo {
                !t.is_done()
            } else if args.parallel {
                t.parallel
            } else {
                true
            }
        })
        .collect();
    let rendered = render_tasks(ui, &loaded, &state, &selected, None);
    // The process ends here: freeing every task's strings one by one is a
    // tenth of a 10,000-task `list`, and the OS takes the memory back at once.
    std::mem::forget(selected);
    std::mem::forget(loaded);
    rendered
}

/// Runs `git par ready`.
/// Started tasks are left out: they are being worked on already.
pub fn ready(_args: &ReadyArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let loaded = super::tasks(ws, ui)?;
    let state = ws.state().load()?;
    let ready: Vec<&Task> = loaded.file.ready().filter(|t| !state.tasks.contains_key(&t.id)).collect();
    if ready.is_empty() && !ui.json {
        let left = loaded.file.tasks.iter().filter(|t| !t.is_done()).count();
        let active =
            loaded.file.tasks.iter().filter(|t| !t.is_done() && state.tasks.contains_key(&t.id)).count();
        if left == 0 {
            ui.status(&format!("every task in {} is done", loaded.rel));
        } else if active > 0 && loaded.file.ready().count() == active {
            ui.status(&format!("no task is ready to start: the {active} ready task(s) are already active"));
            ui.hint("`git par lock-status` shows them; `git par finish ID` lands one");
        } else {
            ui.status(&format!("no task is ready: {left} are waiting on unfinished dependencies"));
            ui.hint("`git par deps` shows what waits on what");
        }
        return Ok(());
    }
    render_tasks(ui, &loaded, &state, &ready, Some(ws.config.command.as_deref()))
}

/// Runs `git par show`.
pub fn show(args: &ShowArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let loaded = super::tasks(ws, ui)?;
    let state = ws.state().load()?;
    let file = &loaded.file;
    let task = find(&loaded, &args.id)?;
    if ui.json {
        let selected = [task];
        let rows = Rows {
            file,
            state: &state,
            tasks: &selected,
            template: Some(ws.config.command.as_deref()),
            full: true,
        };
        return ui.json(&TasksJson::new(file, &loaded.rel, &selected, rows));
    }
    let command = workflow::recommended_command(task, ws.config.command.as_deref());
    let mut out = String::new();
    let labels: String = task.labels.iter().map(|l| format!(" [{l}]")).collect();
    out.push_str(&format!(
        "{}{labels}  {}\n",
        ui.paint(Style::Id, &task.id),
        paint_state(ui, task.state, state_word(task.state))
    ));
    out.push_str(&format!("  {}\n", task.description));
    let mut field = |name: &str, value: String| out.push_str(&format!("  {name:<9} {value}\n"));
    field("file:", format!("{}:{}", loaded.rel, task.line));
    if let Some(active) = state.tasks.get(&task.id) {
        field(
            "active:",
            format!(
                "{} on {} by {} since {}",
                status_word(active.state),
                active.branch,
                active.owner,
                active.started_at
            ),
        );
        field("worktree:", active.worktree.display().to_string());
        if let Some(reason) = &active.blocked_reason {
            field("blocked:", reason.clone());
        }
    }
    if let Some(phase) = phase_title(file, task) {
        field("phase:", phase.to_string());
    }
    if let Some(story) = &task.story {
        field("story:", story.clone());
    }
    field(
        "paths:",
        if task.paths.is_empty() {
            "(none declared: runs alone and acquires locks on what it commits)".to_string()
        } else {
            task.resolved.iter().map(resolved_text).collect::<Vec<_>>().join(", ")
        },
    );
    for rejected in &task.rejected_paths {
        field("ignored:", format!("{} ({})", rejected.path, rejected.reason));
    }
    let deps: Vec<String> = file
        .all_deps(task)
        .into_iter()
        .map(|dep| format!("{} ({})", dep.id, state_word(dep.state)))
        .collect();
    field("deps:", if deps.is_empty() { "(none)".to_string() } else { deps.join(", ") });
    if let Some(command) = command {
        field("command:", command);
    }
    if !task.details.is_empty() {
        out.push_str("  details:\n");
        for detail in &task.details {
            out.push_str(&format!("    {detail}\n"));
        }
    }
    ui.out(&out)
}

/// `src/a.py`, or `pkg/out/json.go (task-dir: json.go)` when resolution changed what was written.
fn resolved_text(r: &Resolved) -> String {
    if r.from == From::Written && r.text == r.path {
        return r.path.clone();
    }
    let from =
        serde_json::to_value(r.from).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    format!("{} ({from}: {})", r.path, r.text)
}

/// The task with this ID, or a refusal naming the file.
pub(super) fn find<'a>(loaded: &'a LoadedTasks, id: &str) -> Result<&'a Task> {
    loaded.file.get(id).ok_or_else(|| unknown_task(loaded, id))
}

/// The refusal for an ID the task file does not have.
pub(super) fn unknown_task(loaded: &LoadedTasks, id: &str) -> anyhow::Error {
    let near: Vec<&str> = loaded
        .file
        .tasks
        .iter()
        .map(|t| t.id.as_str())
        .filter(|known| known.eq_ignore_ascii_case(id))
        .collect();
    let hint = match near.first() {
        Some(known) => format!("task IDs are case-sensitive: did you mean {known}?"),
        None => format!("`git par list` shows the tasks of {}", loaded.rel),
    };
    Refusal::failed(format!("no task {id} in {}", loaded.rel)).hint(hint).into()
}

/// Renders tasks as a list; with `template` (for `ready`), each with its recommended command.
fn render_tasks(
    ui: &Ui,
    loaded: &LoadedTasks,
    state: &State,
    tasks: &[&Task],
    template: Option<Option<&str>>,
) -> Result<()> {
    let file = &loaded.file;
    let command = |task: &Task| template.map(|t| workflow::recommended_command(task, t));
    if ui.json {
        let rows = Rows { file, state, tasks, template, full: false };
        return ui.json(&TasksJson::new(file, &loaded.rel, tasks, rows));
    }
    let width = tasks.iter().map(|t| t.id.chars().count()).max().unwrap_or(4);
    let mut out = String::new();
    let mut phase = None;
    for task in tasks {
        if task.phase != phase {
            phase = task.phase;
            if let Some(title) = phase_title(file, task) {
                out.push_str(&format!("{}\n", ui.paint(Style::Bold, title)));
            }
        }
        out.push_str(&task_line(ui, task, width));
        if let Some(active) = state.tasks.get(&task.id) {
            let note = format!("  ← {} on {}", status_word(active.state), active.branch);
            out.push_str(&ui.paint(Style::Bold, &note));
        }
        out.push('\n');
        if let Some(Some(cmd)) = command(task) {
            out.push_str(&format!("      {}\n", ui.paint(Style::Dim, &format!("$ {cmd}"))));
        }
    }
    ui.out(&out)
}

/// One line for a task: `  [ ] T004 [P] description · paths`.
pub(super) fn task_line(ui: &Ui, task: &Task, width: usize) -> String {
    let mark = match task.state {
        TaskState::Done => "[x]",
        TaskState::Todo => "[ ]",
        TaskState::Partial => "[~]",
    };
    let id = format!("{:<width$}", task.id);
    let parallel = if task.parallel { "[P]" } else { "   " };
    let mut line = format!(
        "  {} {} {} {}",
        paint_state(ui, task.state, mark),
        ui.paint(Style::Id, &id),
        parallel,
        task.description
    );
    if !task.paths.is_empty() {
        line.push_str(&ui.paint(Style::Dim, &format!(" · {}", task.paths.join(", "))));
    }
    line
}

fn status_word(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Active => "active",
        TaskStatus::Blocked => "blocked",
        TaskStatus::Finishing => "finishing",
    }
}

fn state_word(state: TaskState) -> &'static str {
    match state {
        TaskState::Todo => "todo",
        TaskState::Done => "done",
        TaskState::Partial => "partial",
    }
}

fn paint_state(ui: &Ui, state: TaskState, text: &str) -> String {
    let style = match state {
        TaskState::Done => Style::Done,
        TaskState::Todo => Style::Todo,
        TaskState::Partial => Style::Partial,
    };
    ui.paint(style, text)
}
