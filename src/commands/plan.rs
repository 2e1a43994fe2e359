//! `plan`: waves of ready `[P]` tasks that can run together.

use anyhow::Result;
use serde::Serialize;

use super::Context;
use crate::cli::PlanArgs;
use crate::output::Style;
use crate::workflow::{self, Classes};

#[derive(Serialize)]
struct PlanJson<'a> {
    tasks_file: &'a str,
    waves: Vec<Vec<String>>,
}

/// Runs `git par plan`.
pub fn run(args: &PlanArgs, cx: &Context) -> Result<()> {
    let classes = Classes::new(&cx.config.classes, &cx.config.limits, &args.limit)?;
    let loaded = cx.tasks()?;
    let state = cx.store.load()?;
    let is_active = |id: &str| state.tasks.contains_key(id);
    let candidates = workflow::candidates(&loaded.file, &is_active);
    let waves = workflow::waves(&candidates, &classes);
    if cx.ui.json {
        let waves = waves.into_iter().map(|w| w.tasks).collect();
        return cx.ui.json(&PlanJson { tasks_file: &loaded.rel, waves });
    }
    if waves.is_empty() {
        let ready = loaded.file.ready().filter(|t| !is_active(&t.id)).count();
        cx.ui.status(&format!(
            "no ready [P] task to plan ({ready} ready task(s) without [P] or already started)"
        ));
        cx.ui.hint("`git par ready` lists every ready task; start one with `git par start ID`");
        return Ok(());
    }
    let ui = cx.ui;
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
