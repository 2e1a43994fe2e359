//! `completions` and `man`: generated from the clap definition.

use anyhow::{Context as _, Result};
use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::output::Ui;

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs, _ui: &Ui) -> Result<()> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "git-par", &mut out);
    _ui.out(&String::from_utf8_lossy(&out))
}

/// Writes the `git-par.1` man page to stdout or into a directory.
pub fn man(args: &ManArgs, ui: &Ui) -> Result<()> {
    let command = Cli::command().name("git-par");
    let mut page = Vec::new();
    clap_mangen::Man::new(command).render(&mut page).context("rendering the man page")?;
    match &args.out {
        None => ui.out(&String::from_utf8_lossy(&page)),
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let path = dir.join("git-par.1");
            std::fs::write(&path, &page).with_context(|| format!("writing {}", path.display()))?;
            ui.status(&format!("wrote {}", path.display()));
            Ok(())
        }
    }
}
