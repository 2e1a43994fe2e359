//! Running a task's agent: `sh -c CMD` in the task's worktree, the task in
//! its environment, its output appended to the task's log.
//!
//! Invariants:
//! - The command comes from `--agent` or `par.agent` only. Placeholders
//!   (`{id}`, `{paths}`, ...) are filled in one pass with single
//!   shell-quoted words; text from tasks.md reaches the agent as data (an
//!   environment variable or a quoted word), never as shell code.
//! - Each agent runs in a process group of its own: a Ctrl-C typed in the
//!   terminal reaches `git par up`, which decides, and not the agents.
//! - A small wrapper shell writes the agent's exit status to a file next to
//!   the run record when the agent ends — whether or not `git par up` is
//!   still there to see it — so a `kill -9` of `up` loses nothing: the next
//!   run lands what exited 0, waits for what still runs, and runs the rest again.
//! - The wrapper is fixed text; the agent's command is its argument.

use std::fs;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::tasks::Task;
use crate::workflow::{fill, is_test_file, shell_quote};

/// Runs the agent, then records its status in the file `$2` (temp + rename).
const WRAPPER: &str = r#"sh -c "$1"
code=$?
printf '%s\n' "$code" > "$2.tmp" && mv -f "$2.tmp" "$2"
exit "$code""#;

/// The same in a tmux pane: the environment comes from the file `$3`,
/// written by git-par with every value quoted, and the agent waits for
/// `git par up` to say its pane's output is being logged.
const PANE_WRAPPER: &str = r#". "$3"
tmux wait-for "$4"
sh -c "$GIT_PAR_AGENT_COMMAND"
code=$?
printf '%s\n' "$code" > "$2.tmp" && mv -f "$2.tmp" "$2"
exit "$code""#;

/// Everything an agent is started with.
#[derive(Debug, Clone)]
pub struct Spec {
    pub task: String,
    /// The command, placeholders filled.
    pub command: String,
    pub worktree: PathBuf,
    pub log: PathBuf,
    /// Where the wrapper writes the exit status.
    pub exit_file: PathBuf,
    /// `GIT_PAR_*` variables.
    pub env: Vec<(String, String)>,
}

/// The variables and placeholder values of a task's agent.
pub struct TaskInput<'a> {
    pub task: &'a Task,
    pub worktree: &'a Path,
    /// The task file inside the task's worktree.
    pub task_file: &'a Path,
    pub log: &'a Path,
    /// Why the agent runs again; empty the first time.
    pub retry_reason: &'a str,
}

/// Fills the agent command template and builds its environment.
pub fn spec(template: &str, input: &TaskInput, exit_file: PathBuf) -> Spec {
    let task = input.task;
    let quoted = |items: &[&String]| items.iter().map(|p| shell_quote(p)).collect::<Vec<_>>().join(" ");
    let all: Vec<&String> = task.paths.iter().collect();
    let tests: Vec<&String> = task.paths.iter().filter(|p| is_test_file(p)).collect();
    let text = |p: &Path| p.to_string_lossy().into_owned();
    let values = [
        ("{id}", shell_quote(&task.id)),
        ("{paths}", quoted(&all)),
        ("{tests}", quoted(&tests)),
        ("{description}", shell_quote(&task.description)),
        ("{worktree}", shell_quote(&text(input.worktree))),
        ("{log}", shell_quote(&text(input.log))),
        ("{task_file}", shell_quote(&text(input.task_file))),
    ];
    let env = vec![
        ("GIT_PAR_TASK".to_string(), task.id.clone()),
        ("GIT_PAR_TASK_DESCRIPTION".to_string(), task.description.clone()),
        ("GIT_PAR_TASK_PATHS".to_string(), task.paths.join("\n")),
        ("GIT_PAR_TASK_FILE".to_string(), text(input.task_file)),
        ("GIT_PAR_LOG".to_string(), text(input.log)),
        ("GIT_PAR_RETRY_REASON".to_string(), input.retry_reason.to_string()),
    ];
    Spec {
        task: task.id.clone(),
        command: fill(template, &values),
        worktree: input.worktree.to_path_buf(),
        log: input.log.to_path_buf(),
        exit_file,
        env,
    }
}

/// What `git par up` keeps about a task's agent, next to its exit file, so
/// that the next run knows whether it still runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The wrapper's process ID, which is also its process group.
    pub pid: Option<u32>,
    /// When that process started (Linux: clock ticks since boot), so a
    /// recycled PID is not mistaken for it.
    #[serde(default)]
    pub pid_start: Option<u64>,
    /// 1 for the first run of the agent, 2 for its first retry...
    pub attempt: u32,
    /// Milliseconds since the epoch when the agent was launched.
    pub launched_ms: u64,
    /// The tmux pane it runs in, with `--tmux`.
    #[serde(default)]
    pub pane: Option<String>,
    /// The task's start returned, its worktree prepared (`par.copy`,
    /// `par.setup`): `false` while `up` starts it, so a run killed then
    /// prepares the worktree again before the agent runs.
    #[serde(default)]
    pub prepared: bool,
}

impl Record {
    /// Reads a record; `None` when there is none or it cannot be read.
    pub fn load(path: &Path) -> Option<Record> {
        serde_json::from_slice(&fs::read(path).ok()?).ok()
    }

    /// Writes the record (temp + rename: a reader never sees half of it).
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = path.with_extension("json.tmp");
        let json = serde_json::to_vec(self).context("serialising an agent record")?;
        fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
    }

    /// Whether the agent's wrapper still runs.
    pub fn alive(&self) -> bool {
        self.pid.is_some_and(|pid| {
            alive(pid) && !zombie(pid) && (self.pid_start.is_none() || self.pid_start == start_time(pid))
        })
    }
}

/// The exit status an agent's wrapper wrote, if it did.
pub fn read_exit(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Starts the agent as a child in its own process group, its output
/// appended to the task's log. Returns the child (to wait for) and its PID.
pub fn spawn(spec: &Spec) -> Result<std::process::Child> {
    let _ = fs::remove_file(&spec.exit_file);
    let log = crate::logs::open_append(&spec.log)?;
    let mut command = crate::shell::sh_in(&spec.worktree, log, &spec.log)?;
    command
        .arg("-c")
        .arg(WRAPPER)
        .arg("git-par-agent")
        .arg(&spec.command)
        .arg(&spec.exit_file)
        .envs(spec.env.iter().map(|(k, v)| (k, v)));
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    command
        .spawn()
        .with_context(|| format!("running the agent of {} in {}", spec.task, spec.worktree.display()))
}

/// Starts the agent in a new pane of tmux session `session` (created if
/// needed), its pane's output appended to the task's log. `env_file` is
/// where the quoted environment is written. Returns the pane ID and PID.
pub fn spawn_in_pane(spec: &Spec, session: &str, env_file: &Path) -> Result<(String, u32)> {
    let _ = fs::remove_file(&spec.exit_file);
    let mut env = String::new();
    let mut vars = spec.env.clone();
    vars.push(("GIT_PAR_AGENT_COMMAND".to_string(), spec.command.clone()));
    for (key, value) in &vars {
        env.push_str(&format!("{key}={}\nexport {key}\n", shell_quote(value)));
    }
    env.push_str("unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n");
    if let Some(dir) = env_file.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    fs::write(env_file, env).with_context(|| format!("writing {}", env_file.display()))?;
    let channel = format!("git-par-up-{}-{}-{}", std::process::id(), spec.task, now_ms());
    let argv: Vec<String> = vec![
        "sh".into(),
        "-c".into(),
        PANE_WRAPPER.into(),
        "git-par-agent".into(),
        String::new(),
        spec.exit_file.to_string_lossy().into_owned(),
        env_file.to_string_lossy().into_owned(),
        channel.clone(),
    ];
    let pane = crate::tmux::run_in_pane(session, &spec.worktree, &argv)?;
    let started = crate::tmux::pipe_pane(&pane.id, &spec.log).and_then(|()| crate::tmux::signal(&channel));
    if let Err(e) = started {
        stop(pane.pid, true);
        return Err(e.context(format!("setting up the tmux pane of {}", spec.task)));
    }
    Ok((pane.id, pane.pid))
}

/// Stops an agent's process group: `SIGTERM`, or `SIGKILL` when `kill`.
pub fn stop(pid: u32, kill: bool) {
    #[cfg(unix)]
    {
        let signal = if kill { libc::SIGKILL } else { libc::SIGTERM };
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: killpg takes two integers; an unknown group is an error we ignore.
            unsafe {
                libc::killpg(pid, signal);
            }
        }
    }
}

/// Whether a process with this PID exists.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
        // SAFETY: signal 0 only checks the process exists; EPERM means it does.
        let found = unsafe { libc::kill(pid, 0) } == 0;
        found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

/// When process `pid` started, in clock ticks since boot (Linux), to tell it
/// from a later process given the same PID. `None` where unknown.
pub fn start_time(pid: u32) -> Option<u64> {
    stat_field(pid, 19)?.parse().ok()
}

/// Whether process `pid` has ended and waits to be reaped: an agent whose
/// `git par up` was killed is reaped by whoever adopted it, maybe late.
fn zombie(pid: u32) -> bool {
    stat_field(pid, 0).is_some_and(|state| state == "Z" || state == "X")
}

/// Field `n` of `/proc/PID/stat` counted after the command name (0: the state).
fn stat_field(pid: u32, n: usize) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(n).map(str::to_string)
}

/// The last non-empty line of the log, for the live view.
pub fn last_line(log: &Path) -> Option<String> {
    let mut file = fs::File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    let from = len.saturating_sub(2048);
    file.seek(SeekFrom::Start(from)).ok()?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    text.split(['\n', '\r']).rev().map(str::trim).find(|l| !l.is_empty()).map(str::to_string)
}

/// The last lines of the log after byte `from`, for a failure's reason.
pub fn tail(log: &Path, from: u64, lines: usize) -> Vec<String> {
    let Ok(mut file) = fs::File::open(log) else { return Vec::new() };
    if file.seek(SeekFrom::Start(from)).is_err() {
        return Vec::new();
    }
    let mut buf = Vec::new();
    let _ = file.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    all[all.len().saturating_sub(lines)..].iter().map(|l| l.to_string()).collect()
}

/// The log's length now, to read what an agent adds to it.
pub fn log_len(log: &Path) -> u64 {
    fs::metadata(log).map_or(0, |m| m.len())
}

/// Appends a line to the log.
pub fn log_line(log: &Path, line: &str) -> Result<()> {
    crate::logs::write_line(log, line)
}

/// How long to wait between `SIGTERM` and `SIGKILL`.
pub const GRACE: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    fn task(paths: &[&str], description: &str) -> Task {
        let mut task = crate::tasks::read(
            &format!("## P\n\n- [ ] T004 {description}\n"),
            &crate::tasks::Options::default(),
        )
        .unwrap()
        .tasks
        .remove(0);
        task.paths = paths.iter().map(|s| s.to_string()).collect();
        task
    }

    #[test]
    fn placeholders_are_single_quoted_words_filled_once() {
        let t = task(&["src/a b.py", "tests/test_{id}.py"], "Make $(touch pwned) work; it's {paths}");
        let input = TaskInput {
            task: &t,
            worktree: Path::new("/w/T004"),
            task_file: Path::new("/w/T004/specs/tasks.md"),
            log: Path::new("/r/logs/T004.log"),
            retry_reason: "",
        };
        let spec = spec(
            "agent --task {id} --files {paths} --tests {tests} -m {description} {unknown}",
            &input,
            PathBuf::from("/x"),
        );
        assert_eq!(
            spec.command,
            "agent --task T004 --files 'src/a b.py' 'tests/test_{id}.py' --tests 'tests/test_{id}.py' \
             -m 'Make $(touch pwned) work; it'\\''s {paths}' {unknown}"
        );
        let env: std::collections::HashMap<_, _> = spec.env.into_iter().collect();
        assert_eq!(env["GIT_PAR_TASK_PATHS"], "src/a b.py\ntests/test_{id}.py");
        assert_eq!(env["GIT_PAR_TASK_DESCRIPTION"], "Make $(touch pwned) work; it's {paths}");
        assert_eq!(env["GIT_PAR_RETRY_REASON"], "");
    }

    #[test]
    fn the_wrapper_records_the_exit_status_and_runs_in_its_own_group() {
        let tmp = tempfile::tempdir().unwrap();
        let t = task(&[], "anything");
        let log = tmp.path().join("T004.log");
        let input = TaskInput {
            task: &t,
            worktree: tmp.path(),
            task_file: tmp.path(),
            log: &log,
            retry_reason: "again",
        };
        let exit_file = tmp.path().join("T004.exit");
        let spec = spec(
            "echo \"$GIT_PAR_TASK $GIT_PAR_RETRY_REASON\"; ps -o pgid= -p $$; exit 3",
            &input,
            exit_file.clone(),
        );
        let mut child = spawn(&spec).unwrap();
        let pid = child.id();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(3));
        assert_eq!(read_exit(&exit_file), Some(3));
        let text = fs::read_to_string(&log).unwrap();
        assert!(text.starts_with("T004 again\n"), "{text}");
        assert_eq!(
            text.lines().nth(1).map(str::trim),
            Some(pid.to_string().as_str()),
            "its own process group"
        );
        assert_eq!(last_line(&log).as_deref(), Some(pid.to_string().as_str()));
    }

    #[test]
    fn a_record_knows_a_recycled_pid() {
        let me = std::process::id();
        let record = Record {
            pid: Some(me),
            pid_start: start_time(me),
            attempt: 1,
            launched_ms: 0,
            pane: None,
            prepared: true,
        };
        assert!(record.alive());
        let other = Record { pid_start: start_time(me).map(|t| t + 1), ..record.clone() };
        if start_time(me).is_some() {
            assert!(!other.alive());
        }
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("up/T1.json");
        record.save(&path).unwrap();
        assert_eq!(Record::load(&path), Some(record));
    }
}
