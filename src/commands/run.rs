//! `run`: a command in a task's worktree, its output teed to the task's log.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};

use serde::Serialize;

use crate::cli::RunArgs;
use crate::command_error::{ChildExit, Refusal};
use crate::output::Ui;
use git_par::logs;
use git_par::state;
use git_par::workspace::Workspace;

#[derive(Serialize)]
struct Body<'a> {
    task: &'a str,
    command: &'a [String],
    exit: i32,
    log: &'a std::path::Path,
}

/// Runs `git par run`. Exits with the command's own status; with `--json`
/// the command's stdout goes to stderr so that stdout holds one document.
pub fn run(args: &RunArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let current = ws.state().load()?;
    let Some(task) = current.tasks.get(&args.id) else {
        return Err(Refusal::failed(format!(
            "task {} is not active, so it has no worktree to run in",
            args.id
        ))
        .hint(format!("start it first: git par start {}", args.id))
        .into());
    };
    if !task.worktree.is_dir() {
        return Err(Refusal::failed(format!(
            "the worktree of {} is gone: {}",
            task.id,
            task.worktree.display()
        ))
        .hint("run `git par doctor` to see what happened")
        .into());
    }
    let root = ws.main_root();
    let log_dir = &ws.config.log_dir;
    logs::ensure_excluded(&ws.repo.common_dir, root, log_dir)?;
    let shown = args.command.join(" ");
    let log =
        logs::append(root, log_dir, &task.id, &logs::lifecycle_line(&state::now(), "run", &task.id, &shown))?;
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .with_context(|| format!("opening {}", log.display()))?;
    let file = Arc::new(Mutex::new(file));

    let (program, rest) =
        args.command.split_first().ok_or_else(|| Refusal::usage("no command given after --"))?;
    let mut child = Command::new(program)
        .args(rest)
        .current_dir(&task.worktree)
        .env("GIT_PAR_TASK", &task.id)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            let _ = logs::append(root, log_dir, &task.id, &format!("cannot run {program}: {e}"));
            anyhow::Error::new(
                Refusal::failed(format!("cannot run '{program}': {e}"))
                    .hint("check the command name; it runs without a shell (use `-- sh -c '...'` for one)"),
            )
        })?;
    let stdout = child.stdout.take().map(|out| {
        let to: Box<dyn Write + Send> =
            if ui.json { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) };
        tee(out, to, Arc::clone(&file))
    });
    let stderr = child.stderr.take().map(|err| tee(err, std::io::stderr(), Arc::clone(&file)));
    let status = child.wait().with_context(|| format!("waiting for {program}"))?;
    for thread in [stdout, stderr].into_iter().flatten() {
        let _ = thread.join();
    }
    let code = exit_code(&status);
    logs::append(root, log_dir, &task.id, &format!("{} exit {code} {shown}", state::now()))?;
    if ui.json {
        ui.json(&Body { task: &task.id, command: &args.command, exit: code, log: &log })?;
    }
    if code != 0 {
        ui.status(&format!("{program} exited with status {code}; output is in {}", log.display()));
        return Err(ChildExit(code).into());
    }
    Ok(())
}

/// Copies `from` to `to` and to the log as it arrives.
fn tee(
    mut from: impl Read + Send + 'static,
    mut to: impl Write + Send + 'static,
    log: Arc<Mutex<std::fs::File>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            let _ = to.write_all(&buf[..n]);
            let _ = to.flush();
            if let Ok(mut log) = log.lock() {
                let _ = log.write_all(&buf[..n]);
            }
        }
    })
}

/// The status as a shell reports it: the exit code, or 128 + the signal.
fn exit_code(status: &std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}
