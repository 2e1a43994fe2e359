//! `git par finish`: land a task through the merge queue (DESIGN §6).

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::cli::{self, FinishArgs};
use crate::command_error::Refusal;
use crate::output::{Style, Ui};
use git_par::land::{self, BatchProgress, Landing, Progress, Request, Strategy, TrainEvent};
use git_par::repo::Change;
use git_par::state::State;
use git_par::workflow::shell_quote;
use git_par::workspace::Workspace;

/// Runs `git par finish`.
pub fn run(args: &FinishArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let wait = match args.wait {
        None => None,
        Some(secs) => Some(Duration::try_from_secs_f64(secs).map_err(|_| {
            Refusal::usage(format!("--wait {secs}: not a number of seconds"))
                .hint("pass a duration in seconds, e.g. `--wait 30` or `--wait 0.5`")
        })?),
    };
    let state = ws.state().load()?;
    let inside = worktree_holding_cwd(args, &state);
    let main_branch = ws.main_branch(&state)?;
    let tasks_file = match &state.tasks_file {
        Some(file) => Some(file.clone()),
        None => super::tasks(ws, ui).ok().map(|t| t.rel),
    };
    if let Some(rel) = &tasks_file {
        // A run recorded before such files were refused at start would land without its tick.
        git_par::tasks::discover::require_in_repository(&ws.main_root().join(rel), rel, ws.main_root())?;
    }
    let verify = args.verify.clone().or_else(|| ws.config.verify.clone()).filter(|v| !v.trim().is_empty());
    let strategy = match args.strategy {
        Some(strategy) => strategy,
        None => configured_strategy(ws)?,
    };
    if args.ids.len() > 1 {
        refuse_bad_batch(args)?;
    }
    let id = args.ids.first().cloned().unwrap_or_default();
    let request = Request {
        id: id.clone(),
        strategy: landing_strategy(strategy),
        verify,
        commit: args.commit.clone(),
        keep: args.keep,
        wait,
        dry_run: args.dry_run,
        main_branch,
        tasks_file,
        log_dir: ws.config.log_dir.clone(),
        // Unset lets a task that declared no path acquire, as the hook does; an unknown value is `error`.
        train_depth: if args.no_train { 1 } else { train_depth(ws)? },
        enforce_scope: git_par::repo::index::config_string(&ws.repo.git, "par.enforceScope")?
            .map(|value| git_par::config::EnforceScope::from_config(Some(&value)).unwrap_or_default()),
    };
    if args.ids.len() > 1 {
        let requests: Vec<Request> =
            args.ids.iter().map(|id| Request { id: id.clone(), ..request.clone() }).collect();
        return run_batch(ws, ui, &requests, inside);
    }
    let landing = land::finish(ws, &request, &|p| progress(ui, &request, p))?;
    if !landing.dropped.is_empty() {
        ui.warn(&format!(
            "edits of {} to tasks.md outside its own checkbox were dropped (git-par owns the task file):",
            request.id
        ));
        ui.err(&landing.dropped);
    }
    for warning in &landing.warnings {
        ui.warn(warning);
    }
    if args.dry_run {
        return render_dry_run(ui, &landing);
    }
    render_landed(ui, &landing)?;
    warn_if_inside(ws, ui, inside);
    Ok(())
}

/// Says so when the shell's directory was in a worktree this finish removed.
fn warn_if_inside(ws: &Workspace, ui: &Ui, inside: Option<(String, std::path::PathBuf)>) {
    if let Some((id, worktree)) = inside.filter(|(_, w)| !w.exists()) {
        // Like `git worktree remove` run from inside, the landing went ahead; unlike it, say so.
        ui.warn(&format!(
            "your shell is in {}, which this finish removed with the worktree of {id}",
            worktree.display(),
        ));
        ui.hint(&format!(
            "go back to the main worktree: cd {}",
            shell_quote(&ws.main_root().display().to_string())
        ));
    }
}

/// Refuses what a finish of several tasks cannot do: `--dry-run` (each
/// preview would be of that task alone on main), or a task given twice.
fn refuse_bad_batch(args: &FinishArgs) -> Result<()> {
    if args.dry_run {
        return Err(Refusal::usage("--dry-run previews one task, and several were given")
            .hint(format!("preview them one by one, e.g. `git par finish {} --dry-run`", args.ids[0]))
            .into());
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = args.ids.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(Refusal::usage(format!("{twice} is given twice"))
            .hint("name each task once: `git par finish T002 T003 T004`")
            .into());
    }
    Ok(())
}

/// `git par finish ID...` of several tasks: lands them as a batch, then
/// says task by task what happened. Exits with the code of the first
/// refusal, in the order given (0 when every task landed).
fn run_batch(
    ws: &Workspace,
    ui: &Ui,
    requests: &[Request],
    inside: Option<(String, std::path::PathBuf)>,
) -> Result<()> {
    let batch = land::finish_batch(ws, requests, &|p| match p {
        BatchProgress::Task { id, progress: p } => {
            if let Some(req) = requests.iter().find(|r| r.id == id) {
                progress(ui, req, p);
            }
        }
        BatchProgress::Verifying { tasks, command } => {
            ui.status(&format!("Verifying {} together: {command}", tasks.join(", ")))
        }
        BatchProgress::Bisecting { tasks } => {
            ui.status(&format!("The verify of {} together failed: trying them in halves", tasks.join(", ")))
        }
    })?;
    let mut exit = 0;
    let mut entries = Vec::new();
    let mut stdout = String::new();
    for outcome in &batch.outcomes {
        match &outcome.result {
            Ok(landing) => {
                if !landing.dropped.is_empty() {
                    ui.warn(&format!(
                        "edits of {} to tasks.md outside its own checkbox were dropped (git-par owns the task file):",
                        landing.task
                    ));
                    ui.err(&landing.dropped);
                }
                for warning in &landing.warnings {
                    ui.warn(warning);
                }
                let body = landed_json(landing);
                ui.status(&landed_line(ui, landing, &body));
                stdout.push_str(&format!("{} {}\n", body.commit.clone().unwrap_or_default(), landing.task));
                entries.push(BatchEntry { outcome: "landed", landed: Some(body), refused: None });
            }
            Err(err) => {
                ui.status(&format!("{} was not landed:", outcome.task));
                ui.error(err);
                let code = crate::command_error::exit_code(err);
                if exit == 0 {
                    exit = code;
                }
                let mut chain = err.chain().map(|c| c.to_string());
                let refused = Refused {
                    task: &outcome.task,
                    error: ErrorBody {
                        message: chain.next().unwrap_or_default(),
                        causes: chain.collect(),
                        hints: crate::command_error::refusal(err).map(|r| r.hints).unwrap_or_default(),
                        exit: code,
                    },
                };
                entries.push(BatchEntry { outcome: "refused", landed: None, refused: Some(refused) });
            }
        }
    }
    let landed: Vec<&str> =
        batch.outcomes.iter().filter(|o| o.result.is_ok()).map(|o| o.task.as_str()).collect();
    let verifies = batch.verifies.map(|n| format!(", {n} verify run{}", if n == 1 { "" } else { "s" }));
    ui.status(&format!(
        "Landed {} of {} tasks{}{}",
        landed.len(),
        batch.outcomes.len(),
        if landed.is_empty() { String::new() } else { format!(" ({})", landed.join(", ")) },
        verifies.unwrap_or_default()
    ));
    if ui.json {
        ui.json(&BatchJson { tasks: entries, verifies: batch.verifies })?;
    } else {
        ui.out(&stdout)?;
    }
    warn_if_inside(ws, ui, inside);
    if exit != 0 {
        return Err(crate::command_error::Reported(exit).into());
    }
    Ok(())
}

/// The JSON of a finish of several tasks; the field names are part of the contract.
#[derive(Serialize)]
struct BatchJson<'a> {
    /// One per task, in the order given.
    tasks: Vec<BatchEntry<'a>>,
    /// How many times the verify ran (absent in remote mode, which lands one by one).
    #[serde(skip_serializing_if = "Option::is_none")]
    verifies: Option<usize>,
}

#[derive(Serialize)]
struct BatchEntry<'a> {
    /// `landed` or `refused`.
    outcome: &'static str,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    landed: Option<Landed<'a>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    refused: Option<Refused<'a>>,
}

/// A task of a batch that did not land: why, as the error document says it.
#[derive(Serialize)]
struct Refused<'a> {
    task: &'a str,
    error: ErrorBody,
}

#[derive(Serialize)]
struct ErrorBody {
    message: String,
    causes: Vec<String>,
    hints: Vec<String>,
    exit: i32,
}

/// `par.trainDepth`: how many verifies of the merge train run at once;
/// the number of cores when unset.
fn train_depth(ws: &Workspace) -> Result<usize> {
    let Some(value) = git_par::repo::index::config_string(&ws.repo.git, "par.trainDepth")? else {
        return Ok(std::thread::available_parallelism().map_or(1, |n| n.get()));
    };
    match value.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Refusal::usage(format!("par.trainDepth = {value} is not a whole number of 1 or more"))
            .hint("set it with `git config par.trainDepth 4` (1 lands one at a time), or pass --no-train")
            .into()),
    }
}

/// The landing's strategy for a `--strategy` value.
pub(super) fn landing_strategy(strategy: cli::Strategy) -> Strategy {
    match strategy {
        cli::Strategy::Merge => Strategy::Merge,
        cli::Strategy::Squash => Strategy::Squash,
        cli::Strategy::Ff => Strategy::Ff,
        cli::Strategy::Rebase => Strategy::Rebase,
    }
}

/// `par.strategy`, the default of `--strategy`; merge when unset.
pub(super) fn configured_strategy(ws: &Workspace) -> Result<cli::Strategy> {
    use clap::ValueEnum as _;
    let Some(value) = git_par::repo::index::config_string(&ws.repo.git, "par.strategy")? else {
        return Ok(cli::Strategy::Merge);
    };
    cli::Strategy::from_str(value.trim(), true).map_err(|_| {
        Refusal::usage(format!("par.strategy = {value} is not one of merge, squash, ff, rebase"))
            .hint("fix it with `git config par.strategy rebase` (or merge, squash, ff), or pass --strategy")
            .into()
    })
}

/// The task's worktree when the current directory is inside it: landing
/// removes it, leaving the shell that ran `finish` in a deleted directory.
/// (The process's own directory, not -C: that is where the shell is.)
fn worktree_holding_cwd(args: &FinishArgs, state: &State) -> Option<(String, std::path::PathBuf)> {
    let cwd = std::env::current_dir().ok()?;
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    args.ids.iter().find_map(|id| {
        let task = state.tasks.get(id)?;
        let worktree = std::fs::canonicalize(&task.worktree).ok()?;
        cwd.starts_with(&worktree).then(|| (id.clone(), task.worktree.clone()))
    })
}

fn progress(ui: &Ui, req: &Request, p: Progress<'_>) {
    match p {
        Progress::Waiting { holder: Some("doctor") } => {
            ui.status("Waiting for the merge queue: `git par doctor --repair` is repairing a finish")
        }
        Progress::Waiting { holder: Some(holder) } => {
            ui.status(&format!("Waiting for the merge queue: {holder} is landing"))
        }
        Progress::Waiting { holder: None } => ui.status("Waiting for the merge queue"),
        Progress::Committed { files } => ui.status(&format!(
            "Committed {files} changed file{} in the worktree of {}",
            if files == 1 { "" } else { "s" },
            req.id
        )),
        Progress::CommitRefused { output } => {
            // Shown once, as the hook wrote it; the error line follows.
            ui.err(output);
            if !output.is_empty() && !output.ends_with('\n') {
                ui.err("\n");
            }
        }
        Progress::MergedMain { main, commit } => ui.status(&format!(
            "Merged {main} with the task to test what lands ({})",
            git_par::repo::short(commit)
        )),
        Progress::Rebased { main, commit } => {
            ui.status(&format!("Rebased the task's commits onto {main} ({})", git_par::repo::short(commit)))
        }
        Progress::NotFastForward { main } => ui.status(&format!(
            "{main} has moved since {} branched off, so it cannot fast-forward: it lands as rebase",
            req.id
        )),
        Progress::Verifying { command } => ui.status(&format!("Verifying: {command}")),
        Progress::Train(TrainEvent::Rebuilt { because }) => ui.status(&format!(
            "{because}, ahead of {} in the merge train, did not land as {} was verified on: verifying again",
            req.id, req.id
        )),
        Progress::Train(TrainEvent::Carrying { tasks }) => ui.status(&format!(
            "{} land{} with {}: its verify ran on a tree built on {}",
            tasks.join(", "),
            if tasks.len() == 1 { "s" } else { "" },
            req.id,
            if tasks.len() == 1 { "it" } else { "them" }
        )),
        Progress::Train(TrainEvent::Carried { .. }) => ui.status(&format!(
            "{} landed with a finish behind it in the merge train, whose verify ran on a tree built on it",
            req.id
        )),
        // The position and the rest are for --json; the wait is said as it happens.
        Progress::Train(_) => {}
        Progress::Retrying { attempt } => ui.status(&format!(
            "{} moved while {} was landing; merging again (attempt {})",
            req.main_branch,
            req.id,
            attempt + 1
        )),
    }
}

/// The JSON of a landing; the field names are part of the contract.
#[derive(Serialize)]
struct Landed<'a> {
    task: &'a str,
    commit: Option<String>,
    strategy: &'static str,
    commits: usize,
    files: usize,
    main_branch: &'a str,
    /// The merge train: where it joined and what happened to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    train: Option<Train<'a>>,
}

#[derive(Serialize)]
struct Train<'a> {
    position: usize,
    events: &'a [TrainEvent],
}

/// The JSON of `--dry-run`: what would land.
#[derive(Serialize)]
struct DryRun<'a> {
    #[serde(flatten)]
    landing: Landed<'a>,
    dry_run: bool,
    message: &'a str,
    paths: &'a [Change],
    tasks_diff: &'a str,
    dropped: &'a str,
}

fn landed_json(landing: &Landing) -> Landed<'_> {
    Landed {
        task: &landing.task,
        commit: landing.commit.map(|c| c.to_string()),
        strategy: match landing.strategy {
            Strategy::Merge => "merge",
            Strategy::Squash => "squash",
            Strategy::Ff => "ff",
            Strategy::Rebase => "rebase",
        },
        commits: landing.commits.len(),
        files: landing.files.len(),
        main_branch: &landing.main_branch,
        train: landing.train.first().map(|first| Train {
            position: match first {
                TrainEvent::Joined { position, .. } => *position,
                _ => 1,
            },
            events: &landing.train,
        }),
    }
}

fn render_landed(ui: &Ui, landing: &Landing) -> Result<()> {
    let body = landed_json(landing);
    let commit = body.commit.clone().unwrap_or_default();
    ui.status(&landed_line(ui, landing, &body));
    if ui.json {
        ui.json(&body)
    } else {
        ui.out(&format!("{commit}\n"))
    }
}

/// "Landed T002 on main as abc1234 (merge, 1 commit, 1 file)".
fn landed_line(ui: &Ui, landing: &Landing, body: &Landed<'_>) -> String {
    let commit = body.commit.clone().unwrap_or_default();
    format!(
        "Landed {} on {} as {} ({}, {} commit{}, {} file{})",
        landing.task,
        landing.main_branch,
        ui.paint_err(Style::Bold, &commit[..commit.len().min(7)]),
        body.strategy,
        body.commits,
        if body.commits == 1 { "" } else { "s" },
        body.files,
        if body.files == 1 { "" } else { "s" },
    )
}

fn render_dry_run(ui: &Ui, landing: &Landing) -> Result<()> {
    ui.status(&format!(
        "Dry run: {} would land on {} like this; nothing was changed",
        landing.task, landing.main_branch
    ));
    if ui.json {
        return ui.json(&DryRun {
            landing: landed_json(landing),
            dry_run: true,
            message: &landing.message,
            paths: &landing.files,
            tasks_diff: &landing.tasks_diff,
            dropped: &landing.dropped,
        });
    }
    let mut out = String::new();
    out.push_str(&landing.message);
    out.push_str("\nFiles:\n");
    if landing.files.is_empty() {
        out.push_str("  (none)\n");
    }
    for change in &landing.files {
        match &change.from {
            Some(from) => out.push_str(&format!("  {} {from} -> {}\n", change.status, change.path)),
            None => out.push_str(&format!("  {} {}\n", change.status, change.path)),
        }
    }
    if !landing.tasks_diff.is_empty() {
        out.push('\n');
        out.push_str(&landing.tasks_diff);
    }
    ui.out(&out)
}
