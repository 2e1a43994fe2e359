//! `plan`: waves of ready `[P]` tasks that can run together.

use anyhow::Result;
use serde::Serialize;

use crate::cli::PlanArgs;
use crate::output::Style;
use crate::output::Ui;
use git_par::workflow::{self, Classes};
use git_par::workspace::Workspace;

#[derive(Serialize)]
struct PlanJson<'a> {
    tasks_file: &'a str,
    waves: Vec<Vec<String>>,
}

/// Runs `git par plan`.
pub fn run(args: &PlanArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let classes = Classes::new(&ws.config.classes, &ws.config.limits, &args.limit)?;
    let loaded = super::tasks(ws, ui)?;
    let state = ws.state().load()?;
    let is_active = |id: &str| state.tasks.contains_key(id);
    let candidates = workflow::candidates(&loaded.file, &is_active);
    let waves = workflow::waves(&candidates, &classes);
    if ui.json {
        let waves = waves.into_iter().map(|w| w.tasks).collect();
        return ui.json(&PlanJson { tasks_file: &loaded.rel, waves });
    }
    if waves.is_empty() {
        let ready = loaded.file.ready().filter(|t| !is_active(&t.id)).count();
        ui.status(&format!(
            "no ready [P] task to plan ({ready} ready task(s) without [P] or already started)"
        ));
        ui.hint("`git par ready` lists every ready task; start one with `git par start ID`");
        return Ok(());
    }
    let mut out = String::new();
    for (n, wave) in waves.iter().enumerate() {
        out.push_str(&format!("{}\n", ui.paint(Style::Bold, &format!("wave {}", n + 1))));
        for id in &wave.tasks {
            let Some(task) = loaded.file.get(id) else { continue };
            let classes = classes.of(task);
            let classes =
                if classes.is_empty() { String::new() } else { format!(" [{}]", classes.join(", ")) };
            let paths =
                if task.paths.is_empty() { "(no paths declared)".to_string() } else { task.paths.join(", ") };
            out.push_str(&format!(
                "  {}{classes} {}\n      {}\n",
                ui.paint(Style::Id, id),
                task.description,
                ui.paint(Style::Dim, &paths)
            ));
        }
    }
    let first = waves[0].tasks.join(" ");
    out.push_str(&format!("\nstart the first wave: git par start {first}\n"));
    ui.out(&out)
}
