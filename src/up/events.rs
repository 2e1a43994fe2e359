//! What happens during `git par up`, as events: what the command renders,
//! as JSON Lines under `--json` (one object per line, `"version": 1`, field
//! names part of the contract) or for a person.

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

/// `0.4s`, `12.3s`, `4m05s`.
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        let whole = seconds.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
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
}
