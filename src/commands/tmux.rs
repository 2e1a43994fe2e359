//! `tmux`: one pane per task, each in the task's worktree.

use std::io::IsTerminal;

use anyhow::Result;
use serde::Serialize;

use crate::cli::TmuxArgs;
use crate::command_error::Refusal;
use crate::output::Ui;
use git_par::lifecycle::{self, StartOptions};
use git_par::tmux::{self, Pane};
use git_par::workspace::Workspace;
use git_par::{logs, workflow};

#[derive(Serialize)]
struct PaneJson<'a> {
    id: &'a str,
    pane: &'a str,
    worktree: String,
}

#[derive(Serialize)]
struct Body<'a> {
    session: &'a str,
    panes: Vec<PaneJson<'a>>,
}

/// Runs `git par tmux`.
pub fn run(args: &TmuxArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    tmux::require_tmux()?;
    // Refuse before starting anything, so a refusal changes nothing.
    if tmux::has_session(&args.session) && !args.add {
        return Err(Refusal::failed(format!("a tmux session named '{}' already exists", args.session))
            .hint("add panes to it with --add, or choose another name with -s NAME")
            .into());
    }
    let env = pane_env(&ws.config.pane_env)?;
    let loaded = super::tasks(ws, ui)?;
    for id in &args.ids {
        super::list::find(&loaded, id)?;
    }
    let state = ws.state().load()?;
    let to_start: Vec<String> =
        args.ids.iter().filter(|id| !state.tasks.contains_key(*id)).cloned().collect();
    if !to_start.is_empty() {
        // Read again, as a start on its own would: the file may have changed since.
        let again = super::tasks(ws, ui)?;
        let options = StartOptions { ids: to_start, ..StartOptions::default() };
        let outcome = lifecycle::start(ws, &again, &options)?;
        for warning in &outcome.warnings {
            ui.warn(warning);
        }
        for started in &outcome.started {
            ui.status(&format!("started {} on branch {}", started.id, started.branch));
        }
    }
    let state = ws.state().load()?;
    let mut panes = Vec::new();
    for id in &args.ids {
        let (Some(task), Some(active)) = (loaded.file.get(id), state.tasks.get(id)) else { continue };
        let log = logs::log_path(ws.main_root(), &ws.config.log_dir, id);
        let command = workflow::recommended_command(task, ws.config.command.as_deref());
        let mut banner = format!("git-par · {}", task.id);
        for label in &task.labels {
            banner.push_str(&format!(" [{label}]"));
        }
        banner.push_str(&format!("\n{}\n\n", task.description));
        banner.push_str(&format!("worktree  {}\n", active.worktree.display()));
        banner.push_str(&format!("branch    {}\n", active.branch));
        banner.push_str(&format!(
            "locks     {}\n",
            if active.locks.is_empty() { "(none)".to_string() } else { active.locks.join(", ") }
        ));
        banner.push_str(&format!("log       {}\n", log.display()));
        match &command {
            Some(cmd) => banner.push_str(&format!("command   {cmd}    (not run: type it to run it)\n")),
            None => banner.push_str("command   (none recommended)\n"),
        }
        // Finishing removes the worktree the pane sits in: finish from the main worktree.
        banner.push_str(&format!(
            "finish    cd {} && git par finish {id}\n\n",
            workflow::shell_quote(&ws.main_root().display().to_string())
        ));
        let mut vars =
            vec![("PYTHONPATH".to_string(), ".".to_string()), ("GIT_PAR_TASK".to_string(), id.clone())];
        vars.extend(env.iter().cloned());
        panes.push(Pane { task: id.clone(), dir: active.worktree.clone(), env: vars, banner });
    }
    let opened = tmux::open(&args.session, &panes, args.add, &ws.par().tmux_dir())?;
    if ui.json {
        let panes = panes
            .iter()
            .zip(&opened.pane_ids)
            .map(|(p, pane)| PaneJson { id: &p.task, pane, worktree: p.dir.display().to_string() })
            .collect();
        ui.json(&Body { session: &opened.session, panes })?;
    } else {
        ui.status(&format!("tmux session '{}': {} pane(s)", opened.session, panes.len()));
    }
    let inside_tmux = std::env::var_os("TMUX").is_some_and(|v| !v.is_empty());
    if args.no_attach {
        return Ok(());
    }
    if !inside_tmux && !std::io::stdin().is_terminal() {
        ui.hint(&format!("not a terminal, so not attaching: run `tmux attach -t {}`", opened.session));
        return Ok(());
    }
    tmux::attach(&opened.session)
}

/// `par.paneEnv` entries as `(NAME, VALUE)`, refusing malformed ones.
fn pane_env(entries: &[String]) -> Result<Vec<(String, String)>> {
    entries
        .iter()
        .map(|entry| {
            let valid = |name: &str| {
                let mut chars = name.chars();
                chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            };
            match entry.split_once('=') {
                Some((name, value)) if valid(name) => Ok((name.to_string(), value.to_string())),
                _ => Err(Refusal::failed(format!("invalid par.paneEnv entry '{entry}'"))
                    .hint(
                        "write each entry as NAME=VALUE, e.g. `git config --add par.paneEnv RUST_LOG=debug`",
                    )
                    .into()),
            }
        })
        .collect()
}
