//! `check`: what the pre-commit hook runs. Every commit pays for it, so it
//! stops as soon as it knows git-par has no active task, before opening the
//! repository; otherwise it reads the lock index (or, when that does not
//! describe the state in place, the state), git's index and one config key.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::cli::CheckArgs;
use crate::command_error::Refusal;
use crate::output::Ui;
use git_par::config::EnforceScope;
use git_par::hook::{self, Reason, Verdict, Violation};
use git_par::repo::index::{self, GitDirs};
use git_par::repo::Repo;
use git_par::state::lock_index::LockTable;
use git_par::state::{remote, LocalBackend, ParDir, State};
use git_par::workflow::shell_quote;
use git_par::workspace::Options;

/// Runs `git par check`.
pub fn run(args: &CheckArgs, options: &Options, ui: &Ui) -> Result<()> {
    let staged = args.staged || args.paths.is_empty();
    if !options.cwd.is_dir() {
        return Err(Refusal::usage(format!(
            "cannot change to '{}': no such directory",
            options.cwd.display()
        ))
        .into());
    }
    let dirs = match GitDirs::locate(&options.cwd) {
        Some(dirs) => dirs,
        // Not found the quick way: let the full discovery say why (not a repository, bare...).
        None => GitDirs::of(&Repo::discover(&options.cwd)?),
    };
    let par = ParDir::in_git_dir(&dirs.common_dir);
    // Remote mode: the copy the last git-par command fetched; never the network.
    let remote_mode = remote::is_remote_mode(&par);
    let backend = LocalBackend::new(par);
    // The lock index when it describes the state file in place; else the
    // state itself, read in full (which makes the index again).
    let index = if remote_mode { remote::fetched_index(backend.par()) } else { backend.lock_index() };
    let full: State;
    let table = match index.as_ref().and_then(|index| index.table()) {
        Some(table) => table,
        None => {
            full = if remote_mode {
                remote::fetched_copy(backend.par())?.unwrap_or_default()
            } else {
                backend.load_for_hook()?
            };
            LockTable::of(&full)
        }
    };
    let state = &table;
    if state.tasks.is_empty() {
        return render(&Verdict::default(), staged, ui);
    }
    let me = hook::current_task(state, &dirs).map(|task| task.id);
    let git = if staged || me.is_some() { Some(dirs.open()?) } else { None };
    let paths = match &git {
        Some(git) if staged => {
            let index_file = match std::env::var_os("GIT_INDEX_FILE").map(PathBuf::from) {
                // git passes it relative to the directory the hook runs in.
                Some(path) if path.is_relative() => Some(std::env::current_dir()?.join(path)),
                other => other,
            };
            let base = me.and_then(|_| index::fork_point(git, state.main_branch));
            index::staged_paths_since(git, index_file.as_deref(), base)?
        }
        _ => args
            .paths
            .iter()
            .map(|p| hook::repo_relative(p, &options.cwd, &dirs.root))
            .collect::<Result<_>>()?,
    };
    if paths.is_empty() {
        return render(&Verdict { task: me.map(str::to_string), ..Verdict::default() }, staged, ui);
    }
    let scope = match (&git, me) {
        (Some(git), Some(id)) => {
            let configured = index::config_string(git, "par.enforceScope")?.map(|value| {
                EnforceScope::from_config(Some(&value)).unwrap_or_else(|unknown| {
                    ui.warn(&unknown.to_string());
                    ui.hint("set it with `git config par.enforceScope error` (or warn, off, acquire)");
                    EnforceScope::Error
                })
            });
            EnforceScope::for_task(configured, state.task(id).is_some_and(|t| t.acquiring))
        }
        _ => EnforceScope::Error,
    };
    let mut verdict = hook::check_table(state, me, scope, &paths);
    if let (Some(id), false, false, true) = (me, verdict.acquire.is_empty(), verdict.refused(), remote_mode) {
        // The hook stays off the network: the landing takes the paths, in
        // its transaction on the remote state.
        ui.status(&format!("{id} takes {} when it lands", verdict.acquire.join(", ")));
    } else if let (Some(id), false, false) = (me, verdict.acquire.is_empty(), verdict.refused()) {
        // Only a commit that goes through takes its paths; a refused one takes none.
        let taken = hook::acquire(&backend, id, &verdict.acquire)?;
        if taken.is_empty() {
            ui.status(&format!("{id} now locks {}", verdict.acquire.join(", ")));
        }
        verdict.violations.extend(taken);
    }
    render(&verdict, staged, ui)
}

#[derive(Serialize)]
struct CheckJson<'a> {
    task: Option<&'a str>,
    violations: Vec<ViolationJson<'a>>,
}

#[derive(Serialize)]
struct ViolationJson<'a> {
    path: &'a str,
    reason: &'static str,
    holder: Option<HolderJson<'a>>,
    /// `error` refuses; `warning` is reported only (`par.enforceScope = warn`).
    level: &'static str,
}

#[derive(Serialize)]
struct HolderJson<'a> {
    task: &'a str,
    owner: &'a str,
}

fn reason_name(reason: Reason) -> &'static str {
    match reason {
        Reason::Locked => "locked",
        Reason::OutOfScope => "out_of_scope",
    }
}

fn render(verdict: &Verdict, staged: bool, ui: &Ui) -> Result<()> {
    if ui.json {
        let violations = verdict
            .violations
            .iter()
            .map(|v| ViolationJson {
                path: &v.path,
                reason: reason_name(v.reason),
                holder: v.holder.as_ref().map(|h| HolderJson { task: &h.task, owner: &h.owner }),
                level: if v.refuses { "error" } else { "warning" },
            })
            .collect();
        ui.json(&CheckJson { task: verdict.task.as_deref(), violations })?;
    }
    for (task, pattern) in &verdict.broken_locks {
        ui.warn(&format!("lock pattern '{pattern}' of {task} is not a valid glob and locks nothing"));
        ui.hint(&format!("fix it with `git par lock {task} --remove '{pattern}'` and --add a valid one"));
    }
    let me = verdict.task.as_deref().unwrap_or("this task");
    if !ui.json {
        for v in verdict.violations.iter().filter(|v| !v.refuses) {
            ui.warn(&format!("{} is outside the locks of {me} (par.enforceScope = warn)", v.path));
        }
    }
    if !verdict.refused() {
        return Ok(());
    }
    Err(refusal(verdict, staged, me).into())
}

fn refusal(verdict: &Verdict, staged: bool, me: &str) -> Refusal {
    let refused: Vec<&Violation> = verdict.violations.iter().filter(|v| v.refuses).collect();
    let mut paths: Vec<&str> = refused.iter().map(|v| v.path.as_str()).collect();
    paths.dedup();
    let locked = refused.iter().any(|v| v.reason == Reason::Locked);
    let out_of_scope: Vec<&str> =
        refused.iter().filter(|v| v.reason == Reason::OutOfScope).map(|v| v.path.as_str()).collect();
    let what = match (locked, out_of_scope.is_empty()) {
        (true, true) => "locked by another task".to_string(),
        (false, _) => format!("outside the locks of {me}"),
        (true, false) => format!("locked by another task or outside the locks of {me}"),
    };
    let noun = match (staged, paths.len()) {
        (true, 1) => "1 staged path is",
        (false, 1) => "1 path is",
        _ => "",
    };
    let mut message = match noun {
        "" => format!("{} {}paths are {what}", paths.len(), if staged { "staged " } else { "" }),
        noun => format!("{noun} {what}"),
    };
    if staged {
        message = format!("commit refused: {message}");
    }
    for v in &refused {
        let why = match &v.holder {
            Some(holder) => format!("locked by {} ({})", holder.task, holder.owner),
            None => format!("outside the locks of {me}"),
        };
        message.push_str(&format!("\n  {}: {why}", v.path));
    }
    let mut refusal = Refusal::failed(message);
    if locked {
        refusal = refusal.hint(
            "a path locked by another task can be committed once that task finishes or releases it \
             (`git par lock-status` shows who holds what)",
        );
    }
    let them = |n: usize| if n == 1 { "it" } else { "them" };
    if !out_of_scope.is_empty() {
        let adds: Vec<String> = out_of_scope.iter().map(|p| format!("--add {}", shell_quote(p))).collect();
        let them = them(out_of_scope.len());
        refusal = refusal.hint(format!("to make {them} part of {me}: git par lock {me} {}", adds.join(" ")));
    }
    if staged {
        let quoted: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
        let them = them(paths.len());
        // `git commit -a` (or with paths) stages into an index of its own
        // (index.lock, next-index-*): restoring the real one changes nothing.
        let own_index = std::env::var_os("GIT_INDEX_FILE")
            .is_some_and(|f| std::path::Path::new(&f).file_name().is_some_and(|n| n != "index"));
        refusal = if own_index {
            refusal.hint(format!(
                "this commit stages files itself (`git commit -a` or paths): commit without -a, staging only your own files (`git add PATH...`), and leave {} out",
                quoted.join(" ")
            ))
        } else {
            refusal.hint(format!(
                "to leave {them} out of this commit: git restore --staged -- {}",
                quoted.join(" ")
            ))
        };
    }
    refusal
}
