//! What happens during `git par up`, as events: the JSON Lines of `--json`
//! (one object per line, `"version": 1`, field names part of the contract)
//! and the one-line human form printed when stderr is not a terminal.

use serde::Serialize;

/// One thing that happened to a task or to the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The run began: how many selected tasks are not done, with how many jobs.
    Planned { tasks: usize, jobs: usize },
    /// A task of an earlier run was taken over: its agent is still running,
    /// exited 0 (it lands now), or is run again.
    Adopted { task: String, then: Adoption },
    /// A task was started and its agent launched (again, on a retry).
    Started { task: String, attempt: u32, worktree: String, log: String },
    /// A task's agent ended. `exit` is absent when it was stopped or killed.
    AgentExited {
        task: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        exit: Option<i32>,
        seconds: f64,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        timed_out: bool,
    },
    /// A task landed on the main branch.
    Landed { task: String, commit: String, seconds: f64 },
    /// A task's agent runs again, told why.
    Retried { task: String, attempt: u32, reason: String },
    /// A task was blocked (recorded in blockers.md), its locks kept.
    Blocked { task: String, reason: String },
    /// A task could not be started; nothing of it is left.
    StartFailed { task: String, reason: String },
    /// Something the user should know that stops nothing.
    Warning { message: String },
    /// Ctrl-C: the first stops launching, the second stops the agents.
    Interrupted { count: usize },
    /// The run ended.
    Finished(Summary),
}

/// What became of a task of an earlier run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Adoption {
    /// Its agent is still running: it is waited for.
    Running,
    /// Its agent exited 0: it lands.
    Landing,
    /// Its agent did not finish: it runs again.
    Rerun,
}

/// The end of a run: one row per task it took or could not take.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// 0 every task taken landed; 1 some were blocked or failed; 130 interrupted.
    pub exit: i32,
    pub interrupted: bool,
    pub landed: usize,
    pub blocked: usize,
    /// Tasks left active (interrupted: `git par up` again resumes them).
    pub active: usize,
    /// Selected tasks never started, with why.
    pub waiting: usize,
    /// Wall time of the run.
    pub seconds: f64,
    pub tasks: Vec<Row>,
}

/// A task's line in the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub task: String,
    pub result: Outcome,
    /// From its start to its landing or blocking; absent when it did not start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// How a task ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Landed,
    Blocked,
    /// Its start was refused or failed (rolled back).
    Failed,
    /// Still active: the run was interrupted before it landed.
    Active,
    /// Never started: waits for something.
    Waiting,
}

impl Outcome {
    /// The word shown in the summary table.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Landed => "landed",
            Outcome::Blocked => "blocked",
            Outcome::Failed => "failed",
            Outcome::Active => "active",
            Outcome::Waiting => "waiting",
        }
    }
}

/// The one-line human form of an event (control characters are the
/// renderer's to write out).
pub fn human(event: &Event) -> String {
    match event {
        Event::Planned { tasks, jobs } => format!("{tasks} task(s) to run, {jobs} at a time"),
        Event::Adopted { task, then } => match then {
            Adoption::Running => {
                format!("{task}: its agent from the last run is still running; waiting for it")
            }
            Adoption::Landing => format!("{task}: its agent from the last run exited 0; landing it"),
            Adoption::Rerun => {
                format!("{task}: its agent from the last run did not finish; running it again")
            }
        },
        Event::Started { task, attempt: 1, worktree, .. } => format!("started {task} in {worktree}"),
        Event::Started { task, attempt, .. } => format!("started {task} again (attempt {attempt})"),
        Event::AgentExited { task, exit: Some(code), seconds, .. } => {
            format!("{task}: agent exited {code} after {}", duration(*seconds))
        }
        Event::AgentExited { task, timed_out: true, seconds, .. } => {
            format!("{task}: agent stopped after {} (--timeout)", duration(*seconds))
        }
        Event::AgentExited { task, seconds, .. } => {
            format!("{task}: agent stopped after {}", duration(*seconds))
        }
        Event::Landed { task, commit, .. } => format!("landed {task} as {}", short(commit)),
        Event::Retried { task, attempt, reason } => format!("retrying {task} (attempt {attempt}): {reason}"),
        Event::Blocked { task, reason } => format!("blocked {task}: {reason}"),
        Event::StartFailed { task, reason } => format!("could not start {task}: {reason}"),
        Event::Warning { message } => format!("warning: {message}"),
        Event::Interrupted { count: 1 } => {
            "interrupted: no new task starts; running agents finish (Ctrl-C again stops them)".to_string()
        }
        Event::Interrupted { .. } => {
            "interrupted again: stopping the agents; their tasks stay active".to_string()
        }
        Event::Finished(summary) => {
            let mut parts = vec![format!("{} landed", summary.landed)];
            for (n, word) in
                [(summary.blocked, "blocked"), (summary.active, "left active"), (summary.waiting, "waiting")]
            {
                if n > 0 {
                    parts.push(format!("{n} {word}"));
                }
            }
            format!("finished in {}: {}", duration(summary.seconds), parts.join(", "))
        }
    }
}

/// The summary as a table: task, result, time, commit or reason.
pub fn table(summary: &Summary) -> String {
    let width = summary.tasks.iter().map(|r| r.task.chars().count()).max().unwrap_or(4).max(4);
    let mut out = format!("{:width$}  {:7}  {:>7}  commit or reason\n", "task", "result", "time");
    for row in &summary.tasks {
        let time = row.seconds.map(duration).unwrap_or_else(|| "-".to_string());
        let last = match (&row.commit, &row.reason) {
            (Some(commit), _) => short(commit).to_string(),
            (None, Some(reason)) => reason.clone(),
            (None, None) => String::new(),
        };
        out.push_str(format!("{:width$}  {:7}  {time:>7}  {last}", row.task, row.result.word()).trim_end());
        out.push('\n');
    }
    out
}

/// `0.4s`, `12.3s`, `4m05s`.
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        let whole = seconds.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

fn short(commit: &str) -> &str {
    commit.get(..7).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_their_names() {
        let json = |e: &Event| serde_json::to_value(e).unwrap();
        let exited = Event::AgentExited { task: "T1".into(), exit: Some(0), seconds: 1.5, timed_out: false };
        assert_eq!(
            json(&exited),
            serde_json::json!({"event": "agent-exited", "task": "T1", "exit": 0, "seconds": 1.5})
        );
        let stopped = Event::AgentExited { task: "T1".into(), exit: None, seconds: 2.0, timed_out: true };
        assert_eq!(
            json(&stopped),
            serde_json::json!({"event": "agent-exited", "task": "T1", "seconds": 2.0, "timed_out": true})
        );
        let adopted = Event::Adopted { task: "T1".into(), then: Adoption::Rerun };
        assert_eq!(json(&adopted), serde_json::json!({"event": "adopted", "task": "T1", "then": "rerun"}));
        let finished = Event::Finished(Summary { exit: 1, blocked: 1, ..Summary::default() });
        assert_eq!(json(&finished)["event"], "finished");
        assert_eq!(json(&finished)["exit"], 1);
    }

    #[test]
    fn the_table_lines_up() {
        let summary = Summary {
            tasks: vec![
                Row {
                    task: "T001".into(),
                    result: Outcome::Landed,
                    seconds: Some(1.25),
                    commit: Some("3f2a1c9aa".into()),
                    reason: None,
                },
                Row {
                    task: "T010".into(),
                    result: Outcome::Blocked,
                    seconds: Some(75.0),
                    commit: None,
                    reason: Some("agent exited 1".into()),
                },
                Row {
                    task: "T011".into(),
                    result: Outcome::Waiting,
                    seconds: None,
                    commit: None,
                    reason: Some("waits for T010".into()),
                },
            ],
            ..Summary::default()
        };
        assert_eq!(
            table(&summary),
            "task  result      time  commit or reason\n\
             T001  landed      1.2s  3f2a1c9\n\
             T010  blocked    1m15s  agent exited 1\n\
             T011  waiting        -  waits for T010\n"
        );
    }
}
