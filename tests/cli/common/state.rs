//! Readers of what git-par keeps on disk (the state file, the event log), a
//! snapshot of everything a refused command must leave as it was, and a way
//! to write a task's entry in the state directly.

use std::fs;
use std::path::Path;

use serde_json::Value;

use git_par::state::{ActiveTask, LocalBackend, Owner, ParDir, TaskStatus, Transact as _};

use super::plans::TASKS_FILE;
use super::TestRepo;

/// Everything a refused command must leave as it was: the state file, the
/// branches, git's worktrees, the worktree directory, the events.
pub fn disk(repo: &TestRepo) -> String {
    let state = fs::read_to_string(repo.path(".git/par/state.json")).unwrap_or_else(|_| "<no state>".into());
    let events = fs::read_to_string(repo.path(".git/par/events.jsonl")).unwrap_or_default();
    let branches = repo.git(&["branch", "--list", "--format=%(refname) %(objectname)"]);
    let worktrees = repo.git(&["worktree", "list", "--porcelain"]);
    let par_dir = repo.root.parent().unwrap().join("repo.par");
    let mut listing: Vec<String> = match fs::read_dir(&par_dir) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => vec!["<no repo.par>".into()],
    };
    listing.sort();
    format!(
        "state:\n{state}\nevents:\n{events}\nbranches:\n{branches}\nworktrees:\n{worktrees}\nrepo.par: {listing:?}\n"
    )
}

/// Asserts that `git par ARGS` is refused with `code`, exactly `stderr`,
/// nothing on stdout, and nothing changed on disk.
#[track_caller]
pub fn assert_refused(repo: &TestRepo, args: &[&str], code: i32, stderr: &str) {
    let before = disk(repo);
    let run = repo.par(args);
    assert_eq!(run.snapshot(), format!("exit: {code}\n--- stdout\n--- stderr\n{stderr}"), "git par {args:?}");
    assert_eq!(disk(repo), before, "git par {args:?} changed the disk");
}

/// The parsed state file.
pub fn state(repo: &TestRepo) -> Value {
    serde_json::from_str(&repo.read(".git/par/state.json")).expect("state.json parses")
}

/// `user@host` of the owner of an active task.
pub fn owner(repo: &TestRepo, id: &str) -> String {
    let state = state(repo);
    let owner = &state["tasks"][id]["owner"];
    format!("{}@{}", owner["user"].as_str().unwrap(), owner["host"].as_str().unwrap())
}

/// The events of events.jsonl.
pub fn events(repo: &TestRepo) -> Vec<Value> {
    fs::read_to_string(repo.path(".git/par/events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("event parses"))
        .collect()
}

/// Rewrites a task's entry in the state (to test how the check finds the current task).
pub fn record(repo: &TestRepo, id: &str, branch: &str, worktree: &Path, locks: &[&str]) {
    let base = repo.rev("main");
    LocalBackend::new(ParDir::new(repo.root.join(".git/par")))
        .update(|state| {
            state.main_branch = Some("main".to_string());
            state.tasks_file = Some(TASKS_FILE.to_string());
            state.tasks.insert(
                id.to_string(),
                ActiveTask {
                    id: id.to_string(),
                    branch: branch.to_string(),
                    worktree: worktree.to_path_buf(),
                    base: base.clone(),
                    locks: locks.iter().map(|l| l.to_string()).collect(),
                    owner: Owner { user: "tester".to_string(), host: "host".to_string() },
                    started_at: "2026-01-01T00:00:00Z".to_string(),
                    state: TaskStatus::Active,
                    blocked_reason: None,
                },
            );
            Ok(())
        })
        .unwrap();
}

/// Whether the lock index in the `.git/par` at `par` (read against one
/// snapshot of `state.json`, so a writer meanwhile cannot make it look
/// wrong) is used (`Some`) and then whether it describes that state
/// exactly (`Some(true)`); `None` when the hook would not use it (missing,
/// lagging behind the state, or damaged).
pub fn lock_index_agrees(par: &Path) -> Option<bool> {
    use git_par::state::lock_index::{self, LockIndex, LockTable};
    let read = lock_index::read_stamped(&par.join("state.json")).ok()??;
    let index = LockIndex::read(&par.join("state.locks"), &read.stamp)?;
    let state: git_par::state::State = serde_json::from_slice(&read.bytes).ok()?;
    Some(index.table() == Some(LockTable::of(&state)))
}
