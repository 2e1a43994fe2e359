//! `git par block` and `unblock`: a dated entry in blockers.md, locks kept.

use serde_json::json;

use crate::common::{assert_refused, events, owner, state, TestRepo, PLAN};

#[test]
fn block_and_unblock_are_recorded_and_keep_the_locks() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    let who = owner(&repo, "T001");
    let blockers = repo.path("logs/parallel/blockers.md");

    let run = repo.par(&["block", "T001", "waiting", "for", "the API\nkey"]).success();
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!("T001 is blocked; its locks are kept (recorded in {})\n", blockers.display())
    );
    let task = &state(&repo)["tasks"]["T001"];
    assert_eq!(task["state"], "blocked");
    assert_eq!(task["blocked_reason"], "waiting for the API key");
    assert_eq!(task["locks"], json!(["src/app/models.py"]));
    let blocked_at = events(&repo).pop().unwrap()["at"].as_str().unwrap().to_string();

    // Locks are kept while blocked.
    repo.par(&["start", "T007"]).code(3);

    let run = repo.par(&["--json", "unblock", "T001"]).success();
    assert_eq!(
        run.json(),
        json!({"version": 1, "id": "T001", "state": "active", "reason": null,
               "blockers_file": blockers.to_str().unwrap()})
    );
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active");
    assert_eq!(state(&repo)["tasks"]["T001"].get("blocked_reason"), None);
    let last = events(&repo).pop().unwrap();
    assert_eq!(last["event"], "unblock");
    assert_eq!(last["previous_reason"], "waiting for the API key");
    let unblocked_at = last["at"].as_str().unwrap().to_string();

    assert_eq!(
        repo.read("logs/parallel/blockers.md"),
        format!(
            "# Blockers\n\n\
             - {blocked_at} **T001** ({who}): waiting for the API key\n\
             - {unblocked_at} **T001** ({who}): unblocked\n"
        )
    );
    let log: Vec<String> = repo.read("logs/parallel/T001.log").lines().skip(1).map(str::to_string).collect();
    assert_eq!(
        log,
        vec![
            format!("{blocked_at} block T001 waiting for the API key"),
            format!("{unblocked_at} unblock T001")
        ]
    );
    // Logs never dirty the main worktree.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn blockers_go_under_par_log_dir() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.git(&["config", "par.logDir", "var/par-logs"]);
    repo.par(&["start", "T001"]).success();
    repo.par(&["block", "T001", "needs review"]).success();
    assert!(repo.read("var/par-logs/blockers.md").starts_with("# Blockers\n\n- "));
    assert!(repo.path("var/par-logs/T001.log").is_file());
    assert!(!repo.path("logs").exists());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn block_refusals() {
    let repo = TestRepo::with_tasks(PLAN);
    assert_refused(
        &repo,
        &["block", "T001", "why"],
        1,
        "error: T001 is not active\n\
         hint: `git par lock-status` lists the active tasks; if T001 is a task of the plan (`git par list`), `git par start T001` starts it\n",
    );
    repo.par(&["start", "T001"]).success();
    assert_refused(
        &repo,
        &["unblock", "T001"],
        1,
        "error: T001 is not blocked\nhint: `git par block T001 REASON` records a blocker\n",
    );
    assert_refused(
        &repo,
        &["block", "T001", "  "],
        2,
        "error: a blocker needs a reason\nhint: git par block T001 \"what it waits for\"\n",
    );
    repo.par(&["block", "T001"]).code(2);
    assert!(!repo.path("logs/parallel/blockers.md").exists());
}
