//! `git par lock-status`: who holds what.

use std::fs;

use serde_json::json;

use crate::common::{owner, state, TestRepo, PLAN};

#[test]
fn nothing_active_is_a_friendly_line() {
    let repo = TestRepo::with_tasks(PLAN);
    let run = repo.par(&["lock-status"]).success();
    assert_eq!(
        run.snapshot(),
        "exit: 0\n--- stdout\n--- stderr\nno active tasks (`git par start ID` starts one)\n"
    );
    let run = repo.par(&["--json", "lock-status"]).success();
    assert_eq!(run.json(), json!({"version": 1, "tasks": []}));
    assert_eq!(run.stderr, "");
}

#[test]
fn the_table_and_the_json() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    repo.par(&["start", "T003", "--path", "docs/img/"]).success();
    repo.par(&["block", "T003", "needs", "screenshots"]).success();
    let who = owner(&repo, "T001");
    let state = state(&repo);
    let started = |id: &str| state["tasks"][id]["started_at"].as_str().unwrap().to_string();

    let run = repo.par(&["--json", "lock-status"]).success();
    assert_eq!(
        run.json(),
        json!({"version": 1, "tasks": [
            {"id": "T001", "state": "active", "branch": "par/T001",
             "worktree": repo.worktree("T001").to_str().unwrap(), "locks": ["src/app/models.py"],
             "owner": who, "started_at": started("T001"), "stale": false},
            {"id": "T003", "state": "blocked", "branch": "par/T003",
             "worktree": repo.worktree("T003").to_str().unwrap(), "locks": ["docs/guide.md", "docs/img/"],
             "owner": who, "started_at": started("T003"), "stale": false,
             "blocked_reason": "needs screenshots"},
        ]})
    );

    let run = repo.par(&["lock-status"]).success();
    assert_eq!(run.stderr, "");
    // The AGE column depends on the clock; everything else is exact.
    let lines: Vec<String> = run.stdout.lines().map(|l| without_age(l, &who)).collect();
    let pad = " ".repeat(who.len() - "OWNER".len());
    assert_eq!(
        lines,
        vec![
            format!("ID    STATE    BRANCH    OWNER{pad}  AGE  LOCKS"),
            format!("T001  active   par/T001  {who}  <age>  src/app/models.py"),
            format!("T003  blocked  par/T003  {who}  <age>  docs/guide.md, docs/img/"),
            "    blocked: needs screenshots".to_string(),
        ]
    );
}

/// Replaces the AGE cell (after the owner) with `<age>`.
fn without_age(line: &str, who: &str) -> String {
    match line.split_once(&format!("{who}  ")) {
        Some((head, rest)) => {
            let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric()).trim_start();
            format!("{head}{who}  <age>  {rest}")
        }
        None => line.to_string(),
    }
}

#[test]
fn stale_tasks_are_flagged_and_filtered() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    repo.par(&["start", "T002"]).success();
    fs::remove_dir_all(repo.worktree("T002")).unwrap();

    let run = repo.par(&["--json", "lock-status", "--stale"]).success();
    let json = run.json();
    let tasks = json["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["id"], "T002");
    assert_eq!(tasks[0]["stale"], true);
    assert_eq!(tasks[0]["stale_reason"], "worktree missing");

    let all = repo.par(&["--json", "lock-status"]).success().json();
    let stale: Vec<bool> = all["tasks"].as_array().unwrap().iter().map(|t| t["stale"] == true).collect();
    assert_eq!(stale, vec![false, true]);

    let run = repo.par(&["lock-status", "--stale"]).success();
    assert!(run.stdout.ends_with("\n    stale: worktree missing\n"), "{}", run.stdout);
    assert_eq!(run.stdout.lines().count(), 3, "{}", run.stdout);
    assert_eq!(run.stderr, "hint: `git par doctor` explains stale tasks and repairs what is safe\n");

    repo.git(&["worktree", "prune"]);
    repo.git(&["branch", "-D", "par/T002"]);
    let json = repo.par(&["--json", "lock-status", "--stale"]).success().json();
    assert_eq!(json["tasks"][0]["stale_reason"], "worktree missing, branch missing");

    repo.par(&["unlock", "T002", "--force"]).success();
    let run = repo.par(&["lock-status", "--stale"]).success();
    assert_eq!(run.snapshot(), "exit: 0\n--- stdout\n--- stderr\nno stale tasks\n");
}
