//! `git par doctor`: reports inconsistencies, repairs only what holds no work.

use std::fs;

use serde_json::json;

use crate::common::{disk, state, write_at, TestRepo, PLAN};

#[test]
fn a_clean_repository() {
    let repo = TestRepo::with_tasks(PLAN);
    let run = repo.par(&["doctor"]).success();
    assert_eq!(run.snapshot(), "exit: 0\n--- stdout\n--- stderr\nno problems found\n");
    repo.par(&["start", "T001"]).success();
    let run = repo.par(&["--json", "doctor"]).success();
    assert_eq!(run.json(), json!({"version": 1, "findings": [], "clean": true}));
}

#[test]
fn finds_and_repairs_what_is_safe() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    repo.par(&["start", "T002"]).success();
    repo.par(&["start", "T003"]).success();
    let (wt1, wt2, wt3) = (repo.worktree("T001"), repo.worktree("T002"), repo.worktree("T003"));
    // T001: worktree and branch gone (a crash before the worktree existed looks the same).
    fs::remove_dir_all(&wt1).unwrap();
    repo.git(&["worktree", "prune"]);
    repo.git(&["branch", "-D", "par/T001"]);
    // T002: worktree deleted by hand; git's record of it is left behind.
    fs::remove_dir_all(&wt2).unwrap();
    // T003: its locks broken; its worktree holds work nobody tracks now.
    write_at(&wt3.join("docs/guide.md"), "draft\n");
    repo.par(&["unlock", "T003", "--force"]).success();
    // A temp file left by a writer that died.
    fs::write(repo.path(".git/par/state.json.tmp.4242"), "{").unwrap();

    let before = disk(&repo);
    let run = repo.par(&["doctor"]).code(1);
    assert_eq!(disk(&repo), before, "diagnosing changes nothing");
    let tmp = repo.path(".git/par/state.json.tmp.4242");
    assert_eq!(
        run.stdout,
        format!(
            "problem: T001 is active but its worktree {wt1} and branch par/T001 are gone\n  \
               fix: `git par doctor --repair`\n\
             problem: T002 is active but its worktree {wt2} is gone (branch par/T002 remains)\n  \
               fix: recreate it with `git worktree prune && git worktree add {wt2} par/T002`, \
             or stop the task with `git par abort T002 --keep-branch`\n\
             problem: {wt3} is a worktree on branch par/T003 that no active task owns\n  \
               fix: it may hold work: check it, then `git worktree remove {wt3}` if nothing in it is needed\n\
             problem: git still records a worktree at {wt2} (gitdir file points to non-existent location)\n  \
               fix: `git par doctor --repair`\n\
             problem: {tmp} was left by a git-par that died while writing\n  \
               fix: `git par doctor --repair`\n",
            wt1 = wt1.display(),
            wt2 = wt2.display(),
            wt3 = wt3.display(),
            tmp = tmp.display(),
        )
    );
    assert_eq!(
        run.stderr,
        "error: 5 problems found\n\
         hint: `git par doctor --repair` fixes 3 of them safely\n\
         hint: 2 need a person: follow their `fix:` lines\n"
    );

    let run = repo.par(&["--json", "doctor", "--repair"]).code(1);
    let json = run.json();
    let summary: Vec<(String, bool)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().to_string(), f["repaired"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("stale-task".to_string(), true),
            ("worktree-missing".to_string(), false),
            ("orphan-worktree".to_string(), false),
            ("stale-worktree-record".to_string(), true),
            ("temp-file".to_string(), true),
        ]
    );
    assert_eq!(json["findings"][0]["repair"], json!({"action": "drop-state-entry", "task": "T001"}));
    assert_eq!(json["findings"][1]["repair"], json!(null));
    assert_eq!(json["clean"], false);
    assert_eq!(run.stderr, "error: 2 problems remain\nhint: 2 need a person: follow their `fix:` lines\n");

    // What was repaired is gone; what holds work is untouched.
    assert_eq!(state(&repo)["tasks"].as_object().unwrap().keys().collect::<Vec<_>>(), vec!["T002"]);
    assert!(!tmp.exists());
    assert_eq!(repo.git(&["worktree", "list", "--porcelain"]).matches("prunable").count(), 0);
    assert_eq!(fs::read_to_string(wt3.join("docs/guide.md")).unwrap(), "draft\n");
    assert!(!repo.git(&["branch", "--list", "par/T002"]).is_empty());

    // The person follows the advice; then all is clean.
    repo.par(&["abort", "T002", "--keep-branch"]).success();
    repo.git(&["worktree", "remove", "--force", wt3.to_str().unwrap()]);
    let run = repo.par(&["doctor", "--repair"]).success();
    assert_eq!(run.snapshot(), "exit: 0\n--- stdout\n--- stderr\nno problems found\n");
}

#[test]
fn repair_reports_what_it_did() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    let wt1 = repo.worktree("T001");
    fs::remove_dir_all(&wt1).unwrap();
    repo.git(&["worktree", "prune"]);
    repo.git(&["branch", "-D", "par/T001"]);
    let run = repo.par(&["doctor", "--repair"]).success();
    assert_eq!(
        run.snapshot(),
        format!(
            "exit: 0\n--- stdout\nrepaired: T001 is active but its worktree {} and branch par/T001 are gone \
             (dropped T001 from the state)\n--- stderr\n",
            wt1.display()
        )
    );
    assert_eq!(state(&repo)["tasks"], json!({}));
}

#[test]
fn a_stray_directory_in_the_worktree_dir_is_reported_never_removed() {
    let repo = TestRepo::with_tasks(PLAN);
    let stray = repo.root.parent().unwrap().join("repo.par/notes");
    write_at(&stray.join("keep.txt"), "mine\n");
    let run = repo.par(&["doctor", "--repair"]).code(1);
    assert_eq!(
        run.stdout,
        format!(
            "problem: {s} is a directory (not a git worktree) that no active task owns\n  \
               fix: it may hold work: check it, then remove or move it ({s})\n",
            s = stray.display()
        )
    );
    assert_eq!(fs::read_to_string(stray.join("keep.txt")).unwrap(), "mine\n");
}

#[test]
fn an_unreadable_state_file_is_reported() {
    let repo = TestRepo::with_tasks(PLAN);
    write_at(&repo.path(".git/par/state.json"), "{not json");
    let run = repo.par(&["--json", "doctor", "--repair"]).code(1);
    let json = run.json();
    assert_eq!(json["findings"][0]["kind"], "bad-state");
    assert_eq!(json["findings"][0]["repaired"], false);
    assert_eq!(repo.read(".git/par/state.json"), "{not json");
}

#[test]
fn a_worktree_kept_by_finish_keep_is_a_note_not_a_problem() {
    let repo = TestRepo::with_tasks(PLAN);
    let wt1 = repo.worktree("T001");
    repo.par(&["start", "T001"]).success();
    write_at(&wt1.join("src/app/models.py"), "model\n");
    repo.git_in(&wt1, &["add", "-A"]);
    repo.git_in(&wt1, &["commit", "-q", "-m", "model"]);
    repo.par(&["finish", "T001", "--keep"]).success();
    let run = repo.par(&["doctor"]).success();
    assert_eq!(
        run.snapshot(),
        format!(
            "exit: 0\n--- stdout\n\
             note: {wt} is the worktree of T001, kept after it landed on main\n  \
               hint: remove it once you no longer need it: `git worktree remove {wt}` and `git branch -d par/T001`\n\
             --- stderr\nno problems found\n",
            wt = wt1.display()
        )
    );
    let run = repo.par(&["--json", "doctor", "--repair"]).success();
    let json = run.json();
    assert_eq!(json["clean"], true);
    assert_eq!(json["findings"][0]["kind"], "kept-worktree");
    assert_eq!(json["findings"][0]["severity"], "note");
    assert_eq!(json["findings"][0]["task"], "T001");
    assert!(wt1.is_dir(), "a note is never repaired away");

    // Without a recorded finish: a clean worktree whose branch is all on main
    // is a note; with uncommitted work in it, it is a problem again.
    repo.par(&["start", "T002"]).success();
    repo.par(&["unlock", "T002", "--force"]).success();
    let wt2 = repo.worktree("T002");
    let run = repo.par(&["doctor"]).success();
    assert!(
        run.stdout.contains(&format!(
            "note: {} is a worktree on branch par/T002 that no active task owns; it holds nothing that is not on main\n",
            wt2.display()
        )),
        "{}",
        run.stdout
    );
    write_at(&wt2.join("src/app/views.py"), "draft\n");
    let run = repo.par(&["--json", "doctor"]).code(1);
    let kinds: Vec<(String, String)> = run.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().to_string(), f["severity"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        kinds,
        vec![("kept-worktree".into(), "note".into()), ("orphan-worktree".into(), "problem".into())]
    );
}

#[test]
fn a_branch_deleted_by_hand_is_recreated_at_the_worktrees_last_commit() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    let wt = repo.worktree("T001");
    write_at(&wt.join("src/app/models.py"), "model\n");
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "model"]);
    let tip = repo.rev("par/T001");
    // git refuses `branch -D` on a checked-out branch; this leaves the worktree's HEAD unborn.
    repo.git(&["update-ref", "-d", "refs/heads/par/T001"]);
    let run = repo.par(&["doctor"]).code(1);
    assert_eq!(
        run.stdout,
        format!(
            "problem: T001 is active but its branch par/T001 is gone (worktree {wt} remains)\n  \
               fix: recreate it at the worktree's last commit (from its HEAD log) with \
             `git branch par/T001 {tip}`, or stop the task with `git par abort T001`\n",
            wt = wt.display()
        )
    );
    // Following the advice brings back the branch with the task's commit, and a clean worktree.
    repo.git(&["branch", "par/T001", &tip]);
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");
    repo.par(&["doctor"]).success();

    // A detached worktree whose branch is gone: recreate at its HEAD, then switch.
    repo.git_in(&wt, &["checkout", "-q", "--detach"]);
    repo.git(&["branch", "-D", "par/T001"]);
    let run = repo.par(&["--json", "doctor"]).code(1);
    assert_eq!(
        run.json()["findings"][0]["advice"],
        format!(
            "recreate it at the worktree's HEAD with `git branch par/T001 {tip}`, then \
             `git -C {} switch par/T001`, or stop the task with `git par abort T001`",
            wt.display()
        )
    );
}

#[test]
fn repairing_a_finish_whose_locks_were_broken_says_the_task_is_not_active() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    let wt = repo.worktree("T001");
    write_at(&wt.join("src/app/models.py"), "model\n");
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "model"]);
    let crashed = repo
        .par_command(&repo.root, &["finish", "T001"])
        .env("GIT_PAR_TEST_CRASH_AT", "landing-commit")
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    repo.par(&["unlock", "T001", "--force"]).success();
    let run = repo.par(&["doctor"]).code(1);
    let pid = run.stdout.split("(pid ").nth(1).unwrap().split(',').next().unwrap().to_string();
    let interrupted = format!(
        "`git par finish T001` was interrupted (pid {pid}, step Landing): it had not landed on main, \
         so --repair rolls it back; T001 stays inactive (its locks were broken)"
    );
    assert_eq!(
        run.snapshot(),
        format!(
            "exit: 1\n--- stdout\nproblem: {interrupted}\n  fix: `git par doctor --repair`\n\
             --- stderr\nerror: 1 problem found\nhint: `git par doctor --repair` fixes 1 of them safely\n"
        )
    );
    let run = repo.par(&["doctor", "--repair"]).success();
    assert_eq!(
        run.stdout,
        format!(
            "repaired: {interrupted} (rolled the finish back; T001 is not active (its locks had been broken), \
             its branch and worktree are as they were before the finish)\n"
        )
    );
    assert_eq!(state(&repo)["tasks"], json!({}));
    // What is left is a worktree nobody owns, holding the task's commit: one problem, in good grammar.
    let run = repo.par(&["doctor", "--repair"]).code(1);
    assert_eq!(run.stderr, "error: 1 problem remains\nhint: 1 needs a person: follow its `fix:` lines\n");
}
