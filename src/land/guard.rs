//! The landing's check of the locks (DESIGN §6): every path the landing
//! changes on main must lie within the task's own locks and outside every
//! other active task's.
//!
//! The pre-commit hook checks commits as they are made, but git runs no
//! pre-commit hook for `merge`, `am`, `cherry-pick`, `revert`, `stash`,
//! `--no-verify`, and a repository may have no hook at all. The landing is
//! the one place every change passes, so it checks again, on what it would
//! land: the difference between main and the landing commit, after the
//! merge. It runs once before `--verify` (so a refusal costs no verify) and
//! once in the state transaction that moves main, against the state that
//! holds at that moment.

use anyhow::Result;

use super::error::{Held, LandError};
use crate::config::EnforceScope;
use crate::hook::{self, Reason};
use crate::state::State;

/// What the landing does with a changed path outside the task's locks that
/// no other task holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutOfScope {
    /// Refuse the landing (exit 1), naming the `git par lock --add` way out.
    Refuse,
    /// Land, and say so.
    Warn,
    /// Land without a word.
    Allow,
    /// Land, the paths taken into the task's locks (a task that declared none).
    Acquire,
}

/// `par.enforceScope` as the landing reads it: the one place the landing
/// decides about scope.
pub(crate) fn out_of_scope(scope: EnforceScope) -> OutOfScope {
    match scope {
        EnforceScope::Error => OutOfScope::Refuse,
        EnforceScope::Warn => OutOfScope::Warn,
        EnforceScope::Off => OutOfScope::Allow,
        EnforceScope::Acquire => OutOfScope::Acquire,
    }
}

/// What the landing of `task` (on branch `branch`, onto `main`) is
/// allowed to change: refuses when one of `paths` is held by another
/// active task (exit 3, naming the holder) or lies outside the task's locks
/// while its scope refuses that (exit 1); otherwise returns the warnings to
/// show. The scope is `configured` (`par.enforceScope`), else `acquire` for
/// a task that declared no path, as the hook has it; acquired paths join
/// the task's locks in `state`. The task file is git-par's own and never refused.
pub(crate) fn enforce(
    state: &mut State,
    task: &str,
    branch: &str,
    main: &str,
    configured: Option<EnforceScope>,
    paths: &[String],
) -> Result<Vec<String>> {
    let scope = EnforceScope::for_task(configured, state.acquiring.contains(task));
    let verdict = hook::check(state, Some(task), EnforceScope::Error, paths);
    let mut held: Vec<Held> = Vec::new();
    let mut outside: Vec<&str> = Vec::new();
    for v in &verdict.violations {
        match (v.reason, &v.holder) {
            (Reason::Locked, Some(h)) => {
                held.push(Held { path: v.path.clone(), holder: h.task.clone(), owner: h.owner.clone() })
            }
            _ => outside.push(&v.path),
        }
    }
    let decision = out_of_scope(scope);
    if held.is_empty() && (outside.is_empty() || decision != OutOfScope::Refuse) {
        if decision == OutOfScope::Acquire {
            if let Some(entry) = state.tasks.get_mut(task) {
                for path in &outside {
                    if !entry.locks.iter().any(|l| l == path) {
                        entry.locks.push(path.to_string());
                    }
                }
            }
        }
        if decision != OutOfScope::Warn {
            return Ok(Vec::new());
        }
        return Ok(outside
            .iter()
            .map(|p| {
                format!("{p} is outside the locks of {task} and landed anyway (par.enforceScope = warn)")
            })
            .collect());
    }
    let refuse_outside = decision == OutOfScope::Refuse && !outside.is_empty();
    let outside = if refuse_outside { outside.iter().map(|p| p.to_string()).collect() } else { Vec::new() };
    let (task, branch, main) = (task.to_string(), branch.to_string(), main.to_string());
    Err(LandError::Scope { task, branch, main, held, outside }.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{ActiveTask, Owner, TaskStatus};

    fn state(tasks: &[(&str, &[&str])]) -> State {
        let mut state = State { tasks_file: Some("specs/1/tasks.md".into()), ..State::default() };
        for (id, locks) in tasks {
            state.tasks.insert(
                id.to_string(),
                ActiveTask {
                    id: id.to_string(),
                    branch: format!("par/{id}"),
                    worktree: format!("/w/{id}").into(),
                    base: String::new(),
                    locks: locks.iter().map(|l| l.to_string()).collect(),
                    owner: Owner { user: "u".into(), host: "h".into() },
                    started_at: String::new(),
                    state: TaskStatus::Active,
                    blocked_reason: None,
                },
            );
        }
        state
    }

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| p.to_string()).collect()
    }

    fn text(err: anyhow::Error) -> (i32, String) {
        let r = crate::command_error::refusal(&err).expect("a refusal");
        (r.exit as i32, format!("{}\n{}", r.message, r.hints.join("\n")))
    }

    #[test]
    fn own_paths_and_the_task_file_land() {
        let mut s = state(&[("T1", &["src/"]), ("T2", &["docs/"])]);
        let ok = enforce(
            &mut s,
            "T1",
            "par/T1",
            "main",
            Some(EnforceScope::Error),
            &paths(&["src/a", "specs/1/tasks.md"]),
        );
        assert_eq!(ok.unwrap(), Vec::<String>::new());
    }

    #[test]
    fn another_tasks_path_is_busy_whatever_the_scope() {
        let mut s = state(&[("T1", &["src/"]), ("T2", &["docs/"])]);
        for scope in [EnforceScope::Error, EnforceScope::Warn, EnforceScope::Off] {
            let err = enforce(&mut s, "T1", "par/T1", "main", Some(scope), &paths(&["docs/x", "src/a"]))
                .unwrap_err();
            let (code, text) = text(err);
            assert_eq!(code, 3);
            assert!(text.starts_with(
                "T1 cannot land: it changes a path another task holds\n  docs/x: locked by T2 (u@h)\n"
            ));
        }
    }

    #[test]
    fn out_of_scope_follows_enforce_scope() {
        let mut s = state(&[("T1", &["src/"])]);
        let files = paths(&["notes b.txt", "src/a"]);
        let (code, text) =
            text(enforce(&mut s, "T1", "par/T1", "main", Some(EnforceScope::Error), &files).unwrap_err());
        assert_eq!(code, 1);
        assert!(text.contains("\nto make it part of T1: git par lock T1 --add 'notes b.txt'\n"), "{text}");
        let warned = enforce(&mut s, "T1", "par/T1", "main", Some(EnforceScope::Warn), &files).unwrap();
        assert_eq!(
            warned,
            ["notes b.txt is outside the locks of T1 and landed anyway (par.enforceScope = warn)"]
        );
        assert!(enforce(&mut s, "T1", "par/T1", "main", Some(EnforceScope::Off), &files).unwrap().is_empty());
    }

    #[test]
    fn a_task_that_declared_no_path_acquires_what_nobody_holds() {
        let mut s = state(&[("T1", &[]), ("T2", &["docs/"])]);
        s.acquiring.insert("T1".into());
        assert!(enforce(&mut s, "T1", "par/T1", "main", None, &paths(&["src/a"])).unwrap().is_empty());
        assert_eq!(s.tasks["T1"].locks, ["src/a"]);
        let (code, _) = text(enforce(&mut s, "T1", "par/T1", "main", None, &paths(&["docs/x"])).unwrap_err());
        assert_eq!(code, 3, "what another task holds is still refused");
        // A configured scope wins, as in the hook.
        let err = enforce(&mut s, "T1", "par/T1", "main", Some(EnforceScope::Error), &paths(&["lib/b"]))
            .unwrap_err();
        assert_eq!(text(err).0, 1);
    }

    #[test]
    fn both_kinds_are_listed_and_busy_wins() {
        let mut s = state(&[("T1", &["src/"]), ("T2", &["docs/"])]);
        let err =
            enforce(&mut s, "T1", "par/T1", "main", Some(EnforceScope::Error), &paths(&["docs/x", "notes"]))
                .unwrap_err();
        let (code, text) = text(err);
        assert_eq!(code, 3);
        assert!(
            text.starts_with(
                "T1 cannot land: it changes 2 paths another task holds or outside its locks\n  \
                 docs/x: locked by T2 (u@h)\n  notes: outside the locks of T1\n"
            ),
            "{text}"
        );
    }
}
