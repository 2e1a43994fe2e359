//! git-par: run the tasks of a spec-kit `tasks.md` in parallel without the
//! parallel work stepping on itself. This library is the domain; the
//! command layer (the clap definitions, one module per verb, the terminal
//! and JSON rendering) is the `git-par` binary, and nothing here imports it.
//!
//! Module map:
//! - [`workspace`]: the opened repository, its configuration, state and task file;
//! - [`tasks`]: tasks.md parsing, dependencies, discovery and lossless editing;
//! - [`state`]: the state file and its transactions; [`locks`]: lock patterns;
//! - [`lifecycle`]: start, lock, block, abort and unlock tasks; [`logs`]: task logs and blockers;
//!   (with [`lifecycle::intent`], the record of a start or abort in progress);
//! - [`doctor`]: finding and repairing inconsistencies;
//! - [`repo`]: everything that talks to git; [`land`]: the merge queue;
//! - [`hook`]: the pre-commit hook; [`workflow`]: plan waves, recommended commands;
//! - [`tmux`]: panes per task; [`flock`]: file locks; [`journal`]: operations in progress;
//! - [`text`]: outside text (tasks.md, paths, commit messages) made safe to show;
//! - [`up`]: `git par up`, the run of a whole plan by agents; [`prepare`]: new worktrees made ready.

// The library's unit tests check whole messages, hints included, through the
// command layer's mapping (src/command_error.rs), compiled here for them
// alone; it names the library `git_par`, as the binary does.
extern crate self as git_par;
#[cfg(test)]
#[allow(dead_code)]
mod command_error;

pub mod config;
pub mod doctor;
pub mod flock;
pub mod hook;
pub mod journal;
pub mod land;
pub mod lifecycle;
pub mod locks;
pub mod logs;
pub mod prepare;
pub mod repo;
pub mod shell;
pub mod state;
pub mod tasks;
pub mod text;
pub mod tmux;
pub mod up;
pub mod workflow;
pub mod workspace;
