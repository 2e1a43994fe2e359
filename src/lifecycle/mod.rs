//! The life of a task before it lands: start, change its locks, block and
//! unblock it, abort it, break its locks.
//!
//! Invariants:
//! - The state entry is the lock. A task is recorded in one state
//!   transaction ([`crate::state::Transact`]) that also checks its
//!   locks against every other active task, so of two racing starts for
//!   overlapping paths exactly one is recorded; the other is refused (exit 3)
//!   before it creates anything.
//! - Branches and worktrees are created only after the task is recorded; if
//!   creating any of them fails, everything this `start` created is removed
//!   and its state entries dropped. Starting several tasks is all-or-nothing.
//! - Worktrees are added, removed and pruned only under the worktrees lock
//!   ([`crate::workspace::Workspace::with_worktrees_locked`]); a start holds it from recording
//!   its tasks to creating their worktrees, an abort from deciding to
//!   removing its task from the state.
//!   Lock order: the worktrees lock first, then the state lock, never the reverse.
//! - A start or an abort that dies half-way leaves an intent
//!   ([`intent`]) that `doctor --repair` resolves: the start undone,
//!   the abort completed. A task is recorded, and checked against the task
//!   file and the disk, inside the state transaction, so a racing finish or
//!   start of the same task is seen.
//! - Every refusal happens before anything changes on disk.
//! - `abort` never throws away uncommitted changes or commits that are not
//!   on the main branch unless forced, and says what would be lost.
//! - Each change of the state records its event in the same transaction.
//! - These functions never print; they return what happened (warnings
//!   included) for the command to render.

mod abort;
mod block;
pub mod intent;
mod locks;
mod start;
mod status;

use anyhow::Result;

pub use self::abort::{abort, AbortError, Aborted, Loss};
pub use self::block::{block, unblock, BlockChange, BlockError};
use self::locks::describe_pairs;
pub use self::locks::{change_locks, conflicts, unlock, Conflict, LockChange, LockError, Unlocked};
pub use self::start::{
    prepare_worktree, start, StartError, StartOptions, StartOutcome, Started, START_CRASH_POINTS,
};
pub use self::status::{heartbeat, on_other_machine, staleness, status, StatusRow};
use crate::state::{ActiveTask, State};

/// The steps a test can crash an abort at ([`abort`]), in order.
pub const ABORT_CRASH_POINTS: &[&str] = &["abort-worktree-removed", "abort-branch-deleted"];

/// Why a verb cannot act on a task, whichever verb it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError {
    /// The task is not active.
    NotActive { id: String },
    /// A finish holds the task.
    Finishing { id: String },
    /// Other active tasks hold paths the task asked for (exit 3).
    Busy { id: String, conflicts: Vec<Conflict> },
    /// The pattern is the task file, which git-par owns.
    TaskFile { text: String },
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskError::NotActive { id } => write!(f, "{id} is not active"),
            TaskError::Finishing { id } => write!(f, "{id} is being finished"),
            TaskError::Busy { id, conflicts } => {
                let held: Vec<String> = conflicts
                    .iter()
                    .map(|c| format!("{} held by {} ({})", describe_pairs(&c.pairs), c.holder, c.owner))
                    .collect();
                write!(f, "{id} needs paths another task holds: {}", held.join("; "))
            }
            TaskError::TaskFile { text } => {
                write!(f, "cannot lock '{text}': it is the task file, which git-par owns")
            }
        }
    }
}

impl std::error::Error for TaskError {}

fn active_entry<'s>(state: &'s mut State, id: &str) -> Result<&'s mut ActiveTask> {
    state.tasks.get_mut(id).ok_or_else(|| TaskError::NotActive { id: id.to_string() }.into())
}

fn short(hex: &str) -> &str {
    hex.get(..7).unwrap_or(hex)
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(",")
    }
}
