//! `completions` and `man`: generated from the clap definition.

use anyhow::{Context as _, Result};
use clap::CommandFactory as _;
use serde::Serialize;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::command_error::Refusal;
use crate::completion::{self, Shell};
use crate::man;
use crate::output::Ui;

/// Prints the completion script for a shell, or installs it.
pub fn completions(args: &CompletionsArgs, ui: &Ui) -> Result<()> {
    let ours = match args.shell {
        clap_complete::Shell::Bash => Some(Shell::Bash),
        clap_complete::Shell::Zsh => Some(Shell::Zsh),
        clap_complete::Shell::Fish => Some(Shell::Fish),
        _ => None,
    };
    match (ours, args.install) {
        (Some(shell), false) => ui.out(&completion::script(shell, Cli::command())),
        (Some(shell), true) => {
            let installed = completion::install(shell, Cli::command())?;
            ui.status(&format!("Installed the {} completion in {}", args.shell, installed.path.display()));
            if let Some(next) = &installed.next {
                ui.hint(next);
            }
            if ui.json {
                #[derive(Serialize)]
                struct Body<'a> {
                    shell: String,
                    path: &'a std::path::Path,
                }
                return ui.json(&Body { shell: args.shell.to_string(), path: &installed.path });
            }
            ui.out(&format!("{}\n", installed.path.display()))
        }
        (None, true) => {
            Err(Refusal::usage(format!("--install knows bash, zsh and fish, not {}", args.shell))
                .hint(format!(
                    "print the script and put it where {} reads it: `git par completions {}`",
                    args.shell, args.shell
                ))
                .into())
        }
        (None, false) => {
            let mut command = Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(args.shell, &mut command, "git-par", &mut out);
            ui.out(&String::from_utf8_lossy(&out))
        }
    }
}

#[derive(Serialize)]
struct ManJson<'a> {
    directory: &'a std::path::Path,
    pages: Vec<String>,
}

/// Prints `git-par.1`, writes every page into a directory, or installs them.
pub fn man(args: &ManArgs, ui: &Ui) -> Result<()> {
    let pages = man::pages(Cli::command())?;
    if args.install {
        let installed = man::install(&pages)?;
        for note in &installed.notes {
            ui.status(&format!("note: {note}"));
        }
        ui.status(&format!(
            "Installed {} man pages in {}: `man git-par` and `git par --help` open git-par(1)",
            installed.files.len(),
            installed.dir.display()
        ));
        if !installed.checked {
            ui.warn("`manpath` could not be run, so whether man reads this directory is not checked");
        }
        return render_dir(ui, &installed.dir, &pages);
    }
    match &args.out {
        None => {
            let top =
                pages.first().map(|p| String::from_utf8_lossy(&p.roff).into_owned()).unwrap_or_default();
            ui.out(&top)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            for page in &pages {
                let path = dir.join(page.file_name());
                std::fs::write(&path, &page.roff).with_context(|| format!("writing {}", path.display()))?;
            }
            ui.status(&format!("Wrote {} man pages in {}", pages.len(), dir.display()));
            render_dir(ui, dir, &pages)
        }
    }
}

fn render_dir(ui: &Ui, dir: &std::path::Path, pages: &[man::Page]) -> Result<()> {
    if ui.json {
        return ui.json(&ManJson { directory: dir, pages: pages.iter().map(man::Page::file_name).collect() });
    }
    ui.out(&format!("{}\n", dir.display()))
}
