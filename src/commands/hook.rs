//! `hook install | uninstall | status`: the pre-commit hook in the hooks
//! directory git really uses.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::cli::{HookAction, HookArgs};
use crate::command_error::Refusal;
use crate::output::Ui;
use git_par::hook::{self, Found, HookStatus, HooksDir, Install, Installed, Uninstalled};
use git_par::workspace::Workspace;

/// Runs `git par hook`.
pub fn run(args: &HookArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let hooks = hook::hooks_dir(&ws.repo)?;
    let action = match args.action {
        HookAction::Install => {
            let Install { installed, excluded } = hook::install(&ws.repo, &hooks)?;
            if !ui.json {
                match &installed {
                    Installed::Fresh { original: Some(original) } => ui.status(&format!(
                        "installed the git-par pre-commit hook in {}; the hook it replaced is kept as {} and runs first",
                        hooks.hook().display(),
                        original.display()
                    )),
                    Installed::Fresh { original: None } => ui
                        .status(&format!("installed the git-par pre-commit hook in {}", hooks.hook().display())),
                    Installed::Updated => ui.status(&format!(
                        "updated the git-par pre-commit hook in {}",
                        hooks.hook().display()
                    )),
                    Installed::Unchanged => ui.status(&format!(
                        "the git-par pre-commit hook is already installed in {}",
                        hooks.hook().display()
                    )),
                }
                if let Some(rel) = &excluded {
                    ui.status(&format!(
                        "added /{} to .git/info/exclude, so that git does not offer to commit it",
                        rel.display()
                    ));
                }
                if !hooks.shared {
                    ui.warn(&relative_warning(&hooks));
                    ui.hint(
                        "task worktrees that `git par start` creates get it too; run `git par hook install` in any other worktree that should be checked",
                    );
                }
                if hook::git_par_on_path().is_none() {
                    ui.warn("git-par is not on PATH, so the hook will let commits through unchecked");
                    ui.hint("put the directory holding git-par on PATH");
                }
            }
            match installed {
                Installed::Fresh { .. } => "installed",
                Installed::Updated => "updated",
                Installed::Unchanged => "unchanged",
            }
        }
        HookAction::Uninstall => {
            let removed = hook::uninstall(&hooks)?;
            if !ui.json {
                match &removed {
                    Uninstalled::Removed { restored: Some(restored) } => ui.status(&format!(
                        "removed the git-par pre-commit hook; restored the original {}",
                        restored.display()
                    )),
                    Uninstalled::Removed { restored: None } => ui.status(&format!(
                        "removed the git-par pre-commit hook from {}",
                        hooks.hook().display()
                    )),
                    Uninstalled::NotInstalled => ui.status(&format!(
                        "the git-par pre-commit hook is not installed in {}; nothing to do",
                        hooks.dir.display()
                    )),
                }
            }
            match removed {
                Uninstalled::Removed { .. } => "removed",
                Uninstalled::NotInstalled => "not_installed",
            }
        }
        HookAction::Status => "status",
    };
    let status = hook::status(&hooks)?;
    if ui.json {
        ui.json(&StatusJson::new(action, &hooks, &status))?;
    } else if matches!(args.action, HookAction::Status) {
        ui.out(&status_text(&hooks, &status))?;
    }
    if matches!(args.action, HookAction::Status) && !status.found.is_ours() {
        let active: Vec<String> =
            ws.state().load().map(|s| s.tasks.into_keys().collect()).unwrap_or_default();
        if !active.is_empty() {
            let (n, is, its) = if active.len() == 1 {
                ("1 task".to_string(), "is", "its")
            } else {
                (format!("{} tasks", active.len()), "are", "their")
            };
            ui.warn(&format!(
                "{n} {is} active ({}) and {its} commits are not checked against the locks (finish still checks what lands)",
                active.join(", ")
            ));
        }
        let mut refusal = Refusal::failed("git-par's pre-commit hook is not installed for this worktree");
        if !hooks.shared {
            refusal = refusal.hint(format!(
                "core.hooksPath ({}) is relative, so each worktree has its own hooks directory",
                hooks.configured.as_deref().unwrap_or_default()
            ));
        }
        return Err(refusal.hint("install it with `git par hook install`").into());
    }
    Ok(())
}

fn relative_warning(hooks: &HooksDir) -> String {
    format!(
        "core.hooksPath ({}) is relative, so git resolves it in each worktree; this covers this worktree only",
        hooks.configured.as_deref().unwrap_or_default()
    )
}

#[derive(Serialize)]
struct StatusJson<'a> {
    /// What the command did: installed, updated, unchanged, removed, not_installed, status.
    action: &'static str,
    /// `installed`, `outdated` (an older git-par wrapper), `modified` (git-par's wrapper
    /// edited since), `absent` or `other` (someone else's hook).
    hook: &'static str,
    installed: bool,
    path: PathBuf,
    hooks_dir: &'a Path,
    /// The hook the wrapper runs first.
    chained: Option<&'a Path>,
    core_hooks_path: Option<&'a str>,
    /// `all` worktrees, or `this` one (a relative core.hooksPath).
    worktrees: &'static str,
    /// The git-par the hook will run, as found on PATH.
    git_par: Option<PathBuf>,
}

impl<'a> StatusJson<'a> {
    fn new(action: &'static str, hooks: &'a HooksDir, status: &'a HookStatus) -> StatusJson<'a> {
        StatusJson {
            action,
            hook: found_name(status.found),
            installed: status.found.is_ours(),
            path: hooks.hook(),
            hooks_dir: &hooks.dir,
            chained: status.original.as_deref().filter(|_| status.found.is_ours()),
            core_hooks_path: hooks.configured.as_deref(),
            worktrees: if hooks.shared { "all" } else { "this" },
            git_par: hook::git_par_on_path(),
        }
    }
}

fn found_name(found: Found) -> &'static str {
    match found {
        Found::Ours { current: true } => "installed",
        Found::Ours { current: false } => "outdated",
        Found::Modified => "modified",
        Found::Absent => "absent",
        Found::Foreign => "other",
    }
}

fn status_text(hooks: &HooksDir, status: &HookStatus) -> String {
    let hook = hooks.hook();
    let mut out = match status.found {
        Found::Ours { current: true } => format!("installed: {}\n", hook.display()),
        Found::Ours { current: false } => {
            format!("installed (outdated, run `git par hook install`): {}\n", hook.display())
        }
        Found::Modified => format!(
            "installed (modified after git-par wrote it; install and uninstall leave it alone): {}\n",
            hook.display()
        ),
        Found::Absent => format!("not installed: no hook at {}\n", hook.display()),
        Found::Foreign => format!("not installed: {} is another tool's hook\n", hook.display()),
    };
    if let Some(original) = &status.original {
        let line = match status.found {
            found if found.is_ours() => format!("runs first: {}\n", original.display()),
            _ => format!("left over: {} (`git par hook uninstall` puts it back)\n", original.display()),
        };
        out.push_str(&line);
    }
    out.push_str(&match (&hooks.configured, hooks.shared) {
        (None, _) => "serves: every worktree (the common hooks directory)\n".to_string(),
        (Some(value), true) => format!("serves: every worktree (core.hooksPath = {value})\n"),
        (Some(value), false) => {
            format!("serves: this worktree only (core.hooksPath = {value} is relative to each worktree)\n")
        }
    });
    out.push_str(&match hook::git_par_on_path() {
        Some(path) => format!("git-par: {}\n", path.display()),
        None => "git-par: not on PATH (the hook lets commits through with a warning)\n".to_string(),
    });
    out
}
