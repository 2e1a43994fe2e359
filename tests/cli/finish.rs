//! `git par finish`: the merge queue, run as the real binary.

use std::path::PathBuf;

use serde_json::json;

use crate::common::{state, TestRepo, TASKS_FILE};

const TASKS: &str = "# Tasks: Demo\n\n## Phase 1: Parallel work\n\n\
- [ ] T001 [P] Create src/t1.txt\n- [ ] T002 [P] Create src/t2.txt\n- [ ] T003 [P] Create src/t3.txt\n\
- [ ] T004 [P] Create src/t4.txt\n- [ ] T005 [P] Create src/t5.txt\n- [ ] T006 [P] Create src/t6.txt\n\
- [ ] T007 [P] Create src/t7.txt\n- [ ] T008 [P] Create src/t8.txt\n";

fn repo() -> TestRepo {
    TestRepo::with_tasks(TASKS)
}

/// Starts `id` and returns its worktree.
fn begin(repo: &TestRepo, id: &str) -> PathBuf {
    let run = repo.par(&["start", id]).success();
    let wt = repo.worktree(id);
    assert_eq!(run.stdout.trim(), wt.to_string_lossy());
    wt
}

/// Begins `id` and commits its file in its worktree.
fn work(repo: &TestRepo, id: &str) -> PathBuf {
    let n: usize = id[1..].parse().unwrap();
    repo.task_with_commit(id, &format!("src/t{n}.txt"), &format!("task {n}\n"), &format!("Create t{n}"))
}

fn landed_count(repo: &TestRepo, id: &str) -> usize {
    repo.git(&["log", "--format=%H", "--grep", &format!("^Par-Task: {id}$"), "main"]).lines().count()
}

#[test]
fn lands_a_task_and_prints_the_commit() {
    let repo = repo();
    let wt = work(&repo, "T001");
    let tip = repo.rev("par/T001");

    let run = repo.par(&["--json", "finish", "T001"]).success();
    let commit = repo.rev("main");
    let mut landed = run.json();
    let train = landed.as_object_mut().unwrap().remove("train").unwrap();
    assert_eq!(
        landed,
        json!({"version": 1, "task": "T001", "commit": commit, "strategy": "merge",
               "commits": 1, "files": 1, "main_branch": "main"})
    );
    // Alone in the merge train: first, verified on main, landed.
    let main_before = repo.rev("main^1");
    assert_eq!(
        train,
        json!({"position": 1, "events": [
            {"event": "joined", "position": 1, "ahead": []},
            {"event": "verified", "base": main_before, "landing": commit},
            {"event": "landed", "commit": commit}]})
    );
    assert_eq!(run.stderr, format!("Landed T001 on main as {} (merge, 1 commit, 1 file)\n", &commit[..7]));
    assert_eq!(repo.rev("main^2"), tip);
    let tasks = repo.git(&["show", &format!("main:{TASKS_FILE}")]);
    assert!(tasks.contains(&format!(
        "- [X] T001 [P] Create src/t1.txt\n  - par: merged {} (1 commit, 1 file) · logs/parallel/T001.log\n- [ ] T002",
        &tip[..7]
    )));
    assert_eq!(repo.read(TASKS_FILE), tasks, "the main worktree is up to date");
    assert_eq!(repo.read("src/t1.txt"), "task 1\n");
    assert!(!wt.exists());
    assert_eq!(repo.git(&["branch", "--list", "par/*"]), "");
    assert_eq!(state(&repo)["tasks"], json!({}));
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
}

#[test]
fn human_output_is_the_commit_on_stdout() {
    let repo = repo();
    work(&repo, "T002");
    let run = repo.par(&["finish", "T002", "--strategy", "squash", "--keep"]).success();
    assert_eq!(run.stdout, format!("{}\n", repo.rev("main")));
    assert_eq!(repo.git(&["log", "-1", "--format=%P", "main"]).split_whitespace().count(), 1);
    assert!(repo.worktree("T002").exists(), "--keep keeps the worktree");
    assert_eq!(state(&repo)["tasks"], json!({}), "--keep still releases the task");
}

#[test]
fn dry_run_shows_what_would_land_and_changes_nothing() {
    let repo = repo();
    work(&repo, "T001");
    let before = (repo.rev("main"), repo.rev("par/T001"), repo.read(".git/par/state.json"));
    let objects = repo.git(&["count-objects", "-v"]);
    let run = repo.par(&["finish", "T001", "--dry-run"]).success();
    let tip = repo.rev("par/T001");
    assert_eq!(
        run.snapshot_in(&repo),
        format!(
            "exit: 0\n--- stdout\n\
T001: Create src/t1.txt\n\nMerges 1 commit:\n  {short} Create t1\n\nPar-Task: T001\n\n\
Files:\n  A src/t1.txt\n\n\
--- a/{TASKS_FILE}\n+++ b/{TASKS_FILE}\n@@ -2,7 +2,8 @@\n \n ## Phase 1: Parallel work\n \n\
-- [ ] T001 [P] Create src/t1.txt\n\
+- [X] T001 [P] Create src/t1.txt\n\
+  - par: merged {short} (1 commit, 1 file) · logs/parallel/T001.log\n \
- [ ] T002 [P] Create src/t2.txt\n - [ ] T003 [P] Create src/t3.txt\n - [ ] T004 [P] Create src/t4.txt\n\
--- stderr\nDry run: T001 would land on main like this; nothing was changed\n",
            short = &tip[..7]
        )
    );
    assert_eq!((repo.rev("main"), repo.rev("par/T001"), repo.read(".git/par/state.json")), before);
    assert_eq!(repo.git(&["count-objects", "-v"]), objects, "not even an object was written");

    let json = repo.par(&["--json", "finish", "T001", "--dry-run"]).success().json();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["commit"], serde_json::Value::Null);
    assert_eq!(json["paths"], json!([{"status": "A", "path": "src/t1.txt"}]));
}

#[test]
fn a_conflict_lists_the_files_and_leaves_everything_as_it_was() {
    let repo = repo();
    let wt = begin(&repo, "T003");
    std::fs::write(wt.join("README.md"), "demo, by the task\n").unwrap();
    repo.git_in(&wt, &["commit", "-q", "-am", "Task edits README"]);
    repo.write("README.md", "demo, on main\n");
    repo.commit_all("Main edits README");
    let before = (repo.rev("main"), repo.rev("par/T003"));

    let run = repo.par(&["finish", "T003"]).code(1);
    assert_eq!(
        run.snapshot_in(&repo),
        "exit: 1\n--- stdout\n--- stderr\n\
error: T003 conflicts with main in 1 file:\n  README.md  both modified\n\
hint: resolve them in the task's worktree: `cd [TMP]/repo.par/T003 && git merge main`, fix the files, `git commit`, then run `git par finish T003` again\n\
hint: nothing changed: main and par/T003 are as they were\n"
    );
    assert_eq!((repo.rev("main"), repo.rev("par/T003")), before);
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");
    assert_eq!(state(&repo)["tasks"]["T003"]["state"], "active");
    assert!(!repo.path(".git/par/journal/T003.json").exists());
}

#[test]
fn a_failing_verify_shows_its_tail_and_lands_nothing() {
    let repo = repo();
    work(&repo, "T001");
    let before = repo.rev("main");
    let run =
        repo.par(&["finish", "T001", "--verify", "for i in 1 2 3; do echo line $i; done; exit 4"]).code(1);
    assert_eq!(
        run.snapshot_in(&repo),
        "exit: 1\n--- stdout\n--- stderr\n\
Verifying: for i in 1 2 3; do echo line $i; done; exit 4\n\
error: verify failed (exit 4): `for i in 1 2 3; do echo line $i; done; exit 4`; its last lines:\nline 1\nline 2\nline 3\n\
hint: fix the task in its worktree ([TMP]/repo.par/T001), commit, and run `git par finish T001` again\n"
    );
    assert_eq!(repo.rev("main"), before);
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active");
    // par.verify is the default.
    repo.git(&["config", "par.verify", "test -f src/t1.txt"]);
    repo.par(&["finish", "T001"]).success();
}

#[test]
fn bad_input_is_refused_with_a_hint() {
    let repo = repo();
    let run = repo.par(&["finish", "T001"]).code(1);
    assert_eq!(
        run.stderr,
        "error: T001 is not active\nhint: start it first with `git par start T001`; no task is active\n"
    );

    let wt = work(&repo, "T001");
    std::fs::write(wt.join("src/t1.txt"), "edited\n").unwrap();
    let run = repo.par(&["finish", "T001"]).code(1);
    assert_eq!(
        run.stderr,
        "error: the worktree of T001 has uncommitted changes:\n   M src/t1.txt\n\
hint: commit them, or let finish do it: `git par finish T001 --commit \"MESSAGE\"`\n"
    );
    repo.git_in(&wt, &["checkout", "--", "src/t1.txt"]);

    repo.write("src/t1.txt", "in the way\n");
    let run = repo.par(&["finish", "T001"]).code(1);
    assert_eq!(
        run.snapshot_in(&repo),
        "exit: 1\n--- stdout\n--- stderr\n\
error: the worktree of main ([TMP]/repo) has uncommitted changes in files T001 would change:\n  ?? src/t1.txt\n\
hint: commit or stash them (`git -C [TMP]/repo stash push --include-untracked -- src/t1.txt`), then run `git par finish T001` again\n"
    );
    std::fs::remove_file(repo.path("src/t1.txt")).unwrap();

    repo.git(&["config", "par.mainBranch", "trunk"]);
    let mut st = state(&repo);
    st["main_branch"] = json!("trunk");
    std::fs::write(repo.path(".git/par/state.json"), st.to_string()).unwrap();
    let run = repo.par(&["finish", "T001"]).code(1);
    assert_eq!(
        run.stderr,
        "error: the main branch 'trunk' does not exist\n\
hint: create it (`git branch trunk <commit>`) or land elsewhere with `git config par.mainBranch BRANCH`\n"
    );
    st["main_branch"] = json!("main");
    std::fs::write(repo.path(".git/par/state.json"), st.to_string()).unwrap();

    let run = repo.par(&["finish", "T001", "--wait=-1"]).code(2);
    assert!(run.stderr.starts_with("error: --wait -1: not a number of seconds\n"), "{}", run.stderr);

    std::fs::remove_dir_all(&wt).unwrap();
    let run = repo.par(&["finish", "T001"]).code(1);
    assert_eq!(
        run.snapshot_in(&repo),
        "exit: 1\n--- stdout\n--- stderr\n\
error: the worktree of T001 is missing: [TMP]/repo.par/T001\n\
hint: recreate it with `git worktree prune && git worktree add [TMP]/repo.par/T001 par/T001`, or drop the task with `git par abort T001`\n"
    );
    repo.git(&["worktree", "prune"]);
    repo.git(&["branch", "-q", "-D", "par/T001"]);
    let run = repo.par(&["finish", "T001"]).code(1);
    assert_eq!(
        run.stderr,
        "error: the branch par/T001 of T001 is gone\n\
hint: recreate it at the task's last commit (`git branch par/T001 <commit>`, see `git reflog`), or drop the task with `git par abort T001`\n"
    );
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active");
    assert_eq!(landed_count(&repo, "T001"), 0);
}

#[test]
fn a_busy_queue_names_the_landing_task_and_exits_3_after_wait() {
    let repo = repo();
    work(&repo, "T001");
    work(&repo, "T002");
    // T001 holds the queue while its verify runs.
    let flag = repo.root.parent().unwrap().join("verifying");
    let verify = format!("touch {}; sleep 3", flag.display());
    let mut slow = repo.par_command(&repo.root, &["finish", "T001", "--verify", &verify]).spawn().unwrap();
    while !flag.exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let run = repo.par(&["finish", "T002", "--wait", "0.5"]).code(3);
    assert_eq!(
        run.stderr,
        "Waiting for the merge queue: T001 is landing\n\
error: the merge queue stayed busy for 0.5s (T001 is landing)\n\
hint: retry later, or wait longer with `git par finish T002 --wait SECS`\n"
    );
    // A running finish is not an interrupted one.
    let doctor = repo.par(&["doctor"]).success();
    assert_eq!(doctor.stderr, "no problems found\n");
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "finishing");
    assert!(slow.wait().unwrap().success());
    repo.par(&["finish", "T002"]).success();
    assert_eq!((landed_count(&repo, "T001"), landed_count(&repo, "T002")), (1, 1));
}

#[test]
fn eight_concurrent_finishes_all_land_exactly_once() {
    let repo = repo();
    let ids: Vec<String> = (1..=8).map(|n| format!("T00{n}")).collect();
    for id in &ids {
        work(&repo, id);
    }
    let children: Vec<_> = ids
        .iter()
        .map(|id| {
            repo.par_command(&repo.root, &["--json", "finish", id])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (id, child) in ids.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{id}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let tasks = repo.read(TASKS_FILE);
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(landed_count(&repo, id), 1, "{id}");
        assert!(
            tasks.contains(&format!("- [X] {id} [P] Create src/t{}.txt\n  - par: merged ", n + 1)),
            "{tasks}"
        );
        assert_eq!(repo.read(&format!("src/t{}.txt", n + 1)), format!("task {}\n", n + 1));
    }
    assert_eq!(tasks.matches("  - par: ").count(), 8);
    assert_eq!(tasks, repo.git(&["show", &format!("main:{TASKS_FILE}")]));
    assert_eq!(state(&repo)["tasks"], json!({}));
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
    repo.git(&["fsck", "--no-progress", "--strict"]);
}

/// `finish` killed at each step, then `doctor --repair`: main has the task
/// once or not at all, tasks.md and the state agree, nothing is stuck or lost.
#[test]
fn a_finish_killed_at_any_step_is_repaired_by_doctor() {
    assert_eq!(
        git_par::land::CRASH_POINTS.len(),
        13,
        "a crash point was added or removed: update this test's doc"
    );
    for &point in git_par::land::CRASH_POINTS {
        let repo = repo();
        let wt = work(&repo, "T001");
        let tip = repo.rev("par/T001");
        repo.write("other.txt", "main moved\n");
        repo.commit_all("Main moves on");
        let crashed = repo
            .par_command(&repo.root, &["finish", "T001", "--verify", "true"])
            .env("GIT_PAR_TEST_CRASH_AT", point)
            .output()
            .unwrap();
        assert!(!crashed.status.success(), "{point}: finish was not killed");

        repo.par(&["doctor", "--repair"]).success();
        assert!(!repo.path(".git/index.lock").exists(), "{point}: git-par's index lock is left");
        let landed = landed_count(&repo, "T001");
        let must_land =
            ["main-moved", "main-synced", "released", "worktree-removed", "cleaned"].contains(&point);
        assert_eq!(landed, usize::from(must_land), "{point}");
        let tasks = repo.read(TASKS_FILE);
        assert_eq!(tasks.contains("- [X] T001"), must_land, "{point}: tasks.md disagrees");
        assert_eq!(tasks, repo.git(&["show", &format!("main:{TASKS_FILE}")]), "{point}");
        assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "", "{point}");
        assert!(!repo.path(".git/par/journal/T001.json").exists(), "{point}");
        if must_land {
            assert_eq!(state(&repo)["tasks"], json!({}), "{point}");
            assert!(!wt.exists(), "{point}");
        } else {
            assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active", "{point}");
            assert_eq!(repo.rev("par/T001"), tip, "{point}");
            assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "", "{point}");
            // No lock is stuck: the task lands now.
            repo.par(&["finish", "T001", "--wait", "5"]).success();
            assert_eq!(landed_count(&repo, "T001"), 1, "{point}");
        }
        repo.git(&["fsck", "--no-progress", "--strict"]);
    }
}

#[test]
fn an_agent_finishes_from_inside_its_worktree_with_commit() {
    let repo = repo();
    let wt = begin(&repo, "T004");
    std::fs::create_dir_all(wt.join("src")).unwrap();
    std::fs::write(wt.join("src/t4.txt"), "task 4\n").unwrap();
    let run = repo.par_in(&wt.join("src"), &["--json", "finish", "T004", "--commit", "Create t4"]).success();
    assert_eq!(run.json()["commits"], 1);
    assert!(run.stderr.starts_with("Committed 1 changed file in the worktree of T004\n"), "{}", run.stderr);
    assert_eq!(repo.git(&["log", "-1", "--format=%s", "main^2"]), "Create t4\n");
    assert!(!wt.exists());
    assert_eq!(repo.read("src/t4.txt"), "task 4\n");
}

#[test]
fn doctor_reports_an_interrupted_finish_and_what_repair_will_do() {
    for (point, landed) in [("landing-commit", false), ("main-moved", true)] {
        let repo = repo();
        work(&repo, "T002");
        let crashed = repo
            .par_command(&repo.root, &["finish", "T002"])
            .env("GIT_PAR_TEST_CRASH_AT", point)
            .output()
            .unwrap();
        assert!(!crashed.status.success());
        let run = repo.par(&["--json", "doctor"]).code(1);
        let findings = run.json()["findings"].clone();
        assert_eq!(findings.as_array().unwrap().len(), 1, "{point}: {findings}");
        assert_eq!(findings[0]["kind"], "interrupted-finish");
        assert_eq!(findings[0]["task"], "T002");
        assert_eq!(
            findings[0]["repair"],
            json!({"action": "recover-finish", "task": "T002", "landed": landed})
        );
        // finish itself refuses until it is repaired.
        let run = repo.par(&["finish", "T002"]).code(1);
        assert_eq!(
            run.stderr,
            "error: an interrupted finish of T002 needs repair first\n\
             hint: run `git par doctor --repair`, then finish again if the task is still active\n"
        );
        let run = repo.par(&["doctor", "--repair"]).success();
        let done = if landed {
            "completed the landing of T002"
        } else {
            "rolled the finish back; T002 is active again"
        };
        assert!(run.stdout.starts_with("repaired: `git par finish T002` was interrupted"), "{}", run.stdout);
        assert!(run.stdout.ends_with(&format!("({done})\n")), "{}", run.stdout);
        repo.par(&["doctor"]).success();
    }
}

#[test]
fn a_task_branch_cannot_delete_tasks_from_the_plan() {
    let plan = "- [X] T001 done `a.py`\n- [ ] T002 [P] b `b.py`\n- [ ] T003 [P] c `c.py`\n";
    let repo = TestRepo::with_tasks(plan);
    repo.par(&["start", "T002", "T003"]).success();
    let wt = repo.worktree("T002");
    // The agent rewrote tasks.md and lost every task line, its own included.
    std::fs::write(wt.join(TASKS_FILE), "").unwrap();
    std::fs::write(wt.join("b.py"), "b\n").unwrap();
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "--no-verify", "-m", "b"]);
    let tip = repo.rev("par/T002");

    let run = repo.par(&["finish", "T002"]).success();
    let commit = repo.rev("main");
    assert_eq!(
        run.stderr,
        format!(
            "warning: edits of T002 to tasks.md outside its own checkbox were dropped (git-par owns the task file):\n\
--- tasks.md (landed)\n+++ tasks.md (task branch)\n@@ -1,3 +0,0 @@\n\
-- [X] T001 done `a.py`\n-- [ ] T002 [P] b `b.py`\n-- [ ] T003 [P] c `c.py`\n\
Landed T002 on main as {} (merge, 1 commit, 1 file)\n",
            &commit[..7]
        )
    );
    assert_eq!(
        repo.git(&["show", &format!("main:{TASKS_FILE}")]),
        format!(
            "- [X] T001 done `a.py`\n- [X] T002 [P] b `b.py`\n  - par: merged {} (1 commit, 1 file) · logs/parallel/T002.log\n\
- [ ] T003 [P] c `c.py`\n",
            &tip[..7]
        )
    );
    // T003, still active, lands and is ticked as usual.
    let wt3 = repo.worktree("T003");
    std::fs::write(wt3.join("c.py"), "c\n").unwrap();
    repo.par(&["finish", "T003", "--commit", "c"]).success();
    let tasks = repo.read(TASKS_FILE);
    assert!(
        tasks.contains("- [X] T001 done") && tasks.contains("- [X] T003 [P] c `c.py`\n  - par: merged "),
        "{tasks}"
    );
}

#[test]
fn a_commit_the_hook_refuses_leaves_the_index_as_it_was() {
    let repo = repo();
    repo.par(&["hook", "install"]).success();
    let wt = begin(&repo, "T001");
    // Staged, unstaged on top, and untracked outside the task's locks.
    std::fs::create_dir_all(wt.join("src")).unwrap();
    std::fs::write(wt.join("src/t1.txt"), "staged\n").unwrap();
    repo.git_in(&wt, &["add", "src/t1.txt"]);
    std::fs::write(wt.join("src/t1.txt"), "staged\nand not\n").unwrap();
    std::fs::write(wt.join("other.txt"), "not T001's\n").unwrap();
    let index = |repo: &TestRepo| {
        (repo.git_in(&wt, &["status", "--porcelain"]), repo.git_in(&wt, &["diff", "--cached"]))
    };
    let before = index(&repo);
    assert_eq!(before.0, "AM src/t1.txt\n?? other.txt\n");
    let tip = repo.rev("par/T001");

    let run = repo.par(&["finish", "T001", "--commit", "wip"]).code(1);
    assert_eq!(
        run.stderr,
        "error: commit refused: 1 staged path is outside the locks of T001\n  other.txt: outside the locks of T001\n\
hint: to make it part of T001: git par lock T001 --add other.txt\n\
hint: to leave it out of this commit: git restore --staged -- other.txt\n\
error: the pre-commit hook refused the commit of T001's changes\n\
hint: fix the files it names, or add them to the task with `git par lock T001 --add PATH`; \
then run `git par finish T001 --commit \"MESSAGE\"` again\n\
hint: nothing was committed, and the index is as it was\n"
    );
    assert_eq!(index(&repo), before);
    assert_eq!(repo.rev("par/T001"), tip);
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active");

    // Done the way the hint says, it lands.
    repo.par(&["lock", "T001", "--add", "other.txt"]).success();
    repo.par(&["finish", "T001", "--commit", "wip"]).success();
    assert_eq!(repo.read("other.txt"), "not T001's\n");
}

#[test]
fn files_a_failed_verify_changed_are_stashed_and_the_worktree_put_back() {
    let repo = repo();
    let wt = work(&repo, "T001");
    let tip = repo.rev("par/T001");
    repo.write("README.md", "demo, on main\n");
    repo.commit_all("Main edits README");
    let before = repo.rev("main");

    // Fails after editing a file main changed (so it holds main's text) and adding one.
    let verify = "echo checked >> README.md; echo out > report.txt; exit 1";
    let run = repo.par(&["finish", "T001", "--verify", verify]).code(1);
    let merged = repo.git(&["log", "-1", "--format=%h", "stash@{0}^1"]);
    assert_eq!(
        run.snapshot_in(&repo),
        format!(
            "exit: 1\n--- stdout\n--- stderr\n\
Merged main with the task to test what lands ({})\nVerifying: {verify}\n\
error: verify failed (exit 1): `{verify}`; its last lines:\n(no output)\n\
hint: fix the task in its worktree ([TMP]/repo.par/T001), commit, and run `git par finish T001` again\n\
hint: the files it changed are saved in stash@{{0}} (\"git-par: changes made by --verify of T001\"): \
see them with `git -C [TMP]/repo.par/T001 stash show -p --include-untracked stash@{{0}}`\n",
            merged.trim()
        )
    );
    // The branch and the worktree are as they were, main untouched.
    assert_eq!((repo.rev("main"), repo.rev("par/T001")), (before, tip.clone()));
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");
    assert_eq!(std::fs::read_to_string(wt.join("README.md")).unwrap(), "demo\n");
    // Nothing is lost: the stash has both files.
    assert_eq!(
        repo.git_in(&wt, &["stash", "list"]),
        "stash@{0}: On par/T001: git-par: changes made by --verify of T001\n"
    );
    assert_eq!(
        repo.git_in(&wt, &["stash", "show", "--name-status", "--include-untracked", "stash@{0}"]),
        "M\tREADME.md\nA\treport.txt\n"
    );
    assert_eq!(repo.git_in(&wt, &["show", "stash@{0}:README.md"]), "demo, on main\nchecked\n");

    // A verify that passes but writes files is refused the same way.
    let run = repo.par(&["finish", "T001", "--verify", "echo out > report.txt"]).code(1);
    assert!(
        run.stderr.contains(
            "error: `echo out > report.txt` changed files in the worktree of T001:\n  ?? report.txt\n"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.ends_with("stash show -p --include-untracked stash@{0}`\n"), "{}", run.stderr);
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");
    assert_eq!(repo.git_in(&wt, &["stash", "list"]).lines().count(), 2);
    assert_eq!(repo.rev("par/T001"), tip);
}

#[test]
fn a_task_with_nothing_to_merge_says_no_merge_and_landing_twice_is_refused() {
    let repo = repo();
    begin(&repo, "T003");
    repo.write("other.txt", "main moved\n");
    repo.commit_all("Main moves on");
    // No commits of its own: the branch only moves up to main, nothing is merged.
    let run = repo.par(&["finish", "T003", "--strategy", "ff"]).success();
    let commit = repo.rev("main");
    assert_eq!(run.stderr, format!("Landed T003 on main as {} (ff, 0 commits, 0 files)\n", &commit[..7]));

    let run = repo.par(&["finish", "T003"]).code(1);
    assert_eq!(
        run.stderr,
        "error: T003 has already landed\nhint: see its landing with `git log --grep 'Par-Task: T003' main`\n"
    );
    // Ticked by hand (no finish recorded) counts too; a task never started does not.
    // T003's tick is gone from this version: its recorded finish still counts.
    repo.write(TASKS_FILE, &TASKS.replace("- [ ] T005", "- [X] T005"));
    repo.commit_all("T005 done by hand");
    let run = repo.par(&["finish", "T003"]).code(1);
    assert!(run.stderr.starts_with("error: T003 has already landed\n"), "{}", run.stderr);
    let run = repo.par(&["finish", "T005"]).code(1);
    assert!(run.stderr.starts_with("error: T005 has already landed\n"), "{}", run.stderr);
    let run = repo.par(&["finish", "T006"]).code(1);
    assert!(run.stderr.starts_with("error: T006 is not active\n"), "{}", run.stderr);
}

/// Ctrl-C during the verify (found by a new user: the finish died, left the
/// task `finishing` until `doctor --repair`, and the verify ran on as an
/// orphan): the verify is stopped, process group and all, the landing rolled
/// back as for a failed verify, exit 130; the task stays active and lands later.
#[test]
fn ctrl_c_during_the_verify_stops_it_and_rolls_the_landing_back() {
    let repo = repo();
    let wt = work(&repo, "T001");
    let (before, tip) = (repo.rev("main"), repo.rev("par/T001"));
    let pid_file = repo.root.parent().unwrap().join("verify.pid");
    let verify = format!("echo $$ > '{}'; exec sleep 30", pid_file.display());
    let child = repo
        .par_command(&repo.root, &["finish", "T001", "--verify", &verify])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let verify_pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file).ok().and_then(|t| t.trim().parse::<i32>().ok())
        {
            break pid;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the verify never started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    // SIGINT to git-par alone, as `kill -INT` or `timeout` would send it.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "the finish waited for the verify");
    assert!(
        stderr.contains("error: interrupted during the verify (`echo ")
            && stderr.contains("it was stopped, and nothing of T001 landed\n")
            && stderr.contains(
                "hint: T001 is active as it was; run `git par finish T001` again when you are ready\n"
            ),
        "{stderr}"
    );
    // The verify is gone (not left running as an orphan).
    let alive = std::path::Path::new(&format!("/proc/{verify_pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{verify_pid}/stat")).unwrap_or_default().contains(") Z ");
    assert!(!alive, "the verify (pid {verify_pid}) still runs");
    assert_eq!(repo.rev("main"), before);
    assert_eq!(repo.rev("par/T001"), tip);
    assert_eq!(repo.git_in(&wt, &["rev-parse", "HEAD"]).trim(), tip);
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active");
    repo.par(&["doctor"]).success();
    repo.par(&["finish", "T001", "--verify", "true"]).success();
    assert_eq!(landed_count(&repo, "T001"), 1);
}

#[test]
fn a_mistyped_id_is_named_among_the_active_tasks() {
    let repo = repo();
    work(&repo, "T001");
    work(&repo, "T002");
    let run = repo.par(&["finish", "T1"]).code(1);
    assert_eq!(run.stderr, "error: T1 is not active\nhint: did you mean T001? active tasks: T001, T002\n");
    // Another number is another task: no guess.
    let run = repo.par(&["finish", "T009"]).code(1);
    assert_eq!(
        run.stderr,
        "error: T009 is not active\nhint: active tasks: T001, T002; see `git par lock-status`\n"
    );
}

/// A file the task declares that git ignores (`backend/.env`) is in no
/// commit: the landing removing the worktree would lose it without a word.
/// It is refused, nothing changed, until it is committed with `add -f`,
/// kept with `--keep`, or is just the copy preparation brought in.
#[test]
fn a_declared_file_that_git_ignores_is_not_lost_with_the_worktree() {
    let plan = "- [ ] T001 [P] Create `backend/.env` and `backend/app.py`\n- [ ] T002 [P] Create `backend/.env.example`\n";
    let repo = TestRepo::with_files(&[(TASKS_FILE, plan), (".gitignore", ".env\n"), ("README.md", "x\n")]);
    repo.write("backend/.env", "FROM_MAIN=1\n");
    repo.git(&["config", "par.copy", "backend/.env"]);
    let wt = begin(&repo, "T001");
    // The copy of main's file, unchanged, loses nothing: T002 shows below.
    assert_eq!(std::fs::read_to_string(wt.join("backend/.env")).unwrap(), "FROM_MAIN=1\n");
    std::fs::write(wt.join("backend/.env"), "SECRET=1\n").unwrap();
    std::fs::write(wt.join("backend/app.py"), "app\n").unwrap();
    repo.git_in(&wt, &["add", "backend/app.py"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "app"]);
    let main = repo.rev("main");

    let run = repo.par(&["finish", "T001"]).code(1);
    assert!(
        run.stderr.starts_with(
            "error: T001 wrote a file it declares that git ignores; it is in no commit, and removing the worktree would lose it:\n  !! backend/.env\n"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("add -f -- backend/.env"), "{}", run.stderr);
    assert!(run.stderr.contains("`git par finish T001 --keep`"), "{}", run.stderr);
    assert_eq!(repo.rev("main"), main);
    assert_eq!(std::fs::read_to_string(wt.join("backend/.env")).unwrap(), "SECRET=1\n");
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active");

    // Kept, nothing is lost: it lands.
    repo.par(&["finish", "T001", "--keep"]).success();
    assert_eq!(std::fs::read_to_string(wt.join("backend/.env")).unwrap(), "SECRET=1\n");

    // Left as preparation copied it, it is no work of the task's: it lands.
    let wt2 = begin(&repo, "T002");
    std::fs::write(wt2.join("backend/.env.example"), "SECRET=\n").unwrap();
    repo.git_in(&wt2, &["add", "-A"]);
    repo.git_in(&wt2, &["commit", "-q", "-m", "example"]);
    repo.par(&["lock", "T002", "--add", "backend/.env"]).success();
    repo.par(&["finish", "T002"]).success();
    assert!(!wt2.exists());
}
