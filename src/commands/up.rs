//! `up`: run the whole plan with agents (DESIGN §11). The scheduler is the
//! library's ([`git_par::up`]); this resolves its options, picks how the
//! run is watched ([`view`]) and prints the summary.

mod view;

use std::io::IsTerminal as _;
use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::cli::UpArgs;
use crate::command_error::{ChildExit, Refusal};
use crate::output::{Style, Ui};
use git_par::up::events::Event;
use git_par::up::{self, Observer, Options};
use git_par::workflow::Classes;
use git_par::workspace::Workspace;
use view::LiveView;

/// The tmux session agents run in with `--tmux`.
const SESSION: &str = "git-par-up";

/// Runs `git par up`.
pub fn run(args: &UpArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let timeout = match args.timeout {
        None => None,
        Some(secs) => {
            Some(Duration::try_from_secs_f64(secs).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
                Refusal::usage(format!("--timeout {secs}: not a number of seconds"))
                    .hint("pass a duration in seconds, e.g. `--timeout 1800`")
            })?)
        }
    };
    let agent = args.agent.clone().or_else(|| ws.config.agent.clone()).filter(|a| !a.trim().is_empty());
    let options = Options {
        strategy: super::finish::landing_strategy(super::finish::configured_strategy(ws)?),
        jobs: usize::from(args.jobs),
        agent: agent.clone().unwrap_or_default(),
        verify: args.verify.clone(),
        only: args.only.clone(),
        until: args.until.clone(),
        retries: args.retries,
        timeout,
        tmux: args.tmux.then(|| SESSION.to_string()),
        classes: Classes::new(&ws.config.classes, &ws.config.limits, &args.limit)?,
    };
    if args.dry_run {
        return render_dry_run(ui, &up::dry_run(ws, &options)?);
    }
    if agent.is_none() {
        return Err(Refusal::usage("no agent command: git par up runs one in each task's worktree")
            .hint("pass one with --agent CMD, or set it once with `git config par.agent CMD`")
            .hint("the README's \"git par up\" section has recipes for coding agents' non-interactive modes")
            .into());
    }
    if args.tmux {
        git_par::tmux::require_tmux()?;
        ui.status(&format!(
            "agents run in tmux session '{SESSION}': watch them with `tmux attach -t {SESSION}`"
        ));
    }
    let mut observer: Box<dyn Observer> = if ui.json {
        Box::new(JsonLines { ui })
    } else if std::io::stderr().is_terminal() {
        Box::new(LiveView::new())
    } else {
        Box::new(Lines { ui })
    };
    let summary = up::run(ws, &options, observer.as_mut())?;
    drop(observer);
    if !ui.json && summary.tasks.is_empty() {
        ui.status("nothing to run: every task selected is done");
    } else if !ui.json {
        ui.out(&view::table(&summary))?;
        if summary.exit == up::INTERRUPTED && summary.active > 0 {
            ui.hint("run `git par up` again to resume the tasks left active");
        } else if summary.blocked > 0 {
            let blockers = git_par::logs::blockers_path(ws.main_root(), ws.log_dir());
            ui.hint(&format!(
                "the reasons are in {}; `git par unblock ID`, then `git par up` again, runs a task's agent again",
                blockers.display()
            ));
        }
    }
    match summary.exit {
        0 => Ok(()),
        code => Err(ChildExit(code).into()),
    }
}

/// Events as JSON Lines on stdout.
struct JsonLines<'a> {
    ui: &'a Ui,
}

impl Observer for JsonLines<'_> {
    fn event(&mut self, event: &Event) {
        let Ok(mut line) = serde_json::to_value(event) else { return };
        if let Some(fields) = line.as_object_mut() {
            let at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
            fields.insert("at".to_string(), serde_json::Value::String(at));
        }
        let _ = self.ui.json_line(&line);
    }
}

/// Events as one human line each on stderr (not a terminal).
struct Lines<'a> {
    ui: &'a Ui,
}

impl Observer for Lines<'_> {
    fn event(&mut self, event: &Event) {
        self.ui.status(&view::human(event));
    }
}

#[derive(Serialize)]
struct DryRunJson<'a> {
    tasks_file: &'a str,
    jobs: usize,
    waves: &'a [Vec<String>],
    /// The wall time in agent lengths when all agents take as long.
    ideal: usize,
    critical_path: usize,
    never: Vec<Never<'a>>,
}

#[derive(Serialize)]
struct Never<'a> {
    task: &'a str,
    reason: &'a str,
}

fn render_dry_run(ui: &Ui, dry: &up::DryRun) -> Result<()> {
    let sim = &dry.simulation;
    if ui.json {
        let never = sim.never.iter().map(|(task, reason)| Never { task, reason }).collect();
        return ui.json(&DryRunJson {
            tasks_file: &dry.tasks_file,
            jobs: dry.jobs,
            waves: &sim.waves,
            ideal: sim.waves.len(),
            critical_path: sim.critical_path,
            never,
        });
    }
    let mut out = String::new();
    for (n, wave) in sim.waves.iter().enumerate() {
        out.push_str(&format!(
            "{}  {}\n",
            ui.paint(Style::Bold, &format!("wave {:>2}", n + 1)),
            wave.join(" ")
        ));
    }
    for (task, reason) in &sim.never {
        out.push_str(&format!("never   {} ({reason})\n", ui.paint(Style::Id, task)));
    }
    let tasks: usize = sim.waves.iter().map(Vec::len).sum();
    out.push_str(&format!(
        "\n{tasks} task(s) in {} wave(s) with --jobs {}: with agents that each take a time L, the run takes about {} L \
         (the longest chain of dependencies is {} L)\n",
        sim.waves.len(),
        dry.jobs,
        sim.waves.len(),
        sim.critical_path
    ));
    ui.out(&out)
}
