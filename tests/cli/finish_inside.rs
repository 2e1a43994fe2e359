//! `finish` run from inside the task's own worktree, which landing removes.

use crate::common::TestRepo;

const TASKS: &str = "## Phase 1\n\n- [ ] T001 [P] Create `src/t1.txt`\n";

fn started() -> (TestRepo, std::path::PathBuf) {
    let repo = TestRepo::with_tasks(TASKS);
    repo.par(&["start", "T001"]).success();
    let wt = repo.worktree("T001");
    std::fs::create_dir_all(wt.join("src")).unwrap();
    std::fs::write(wt.join("src/t1.txt"), "one\n").unwrap();
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "t1"]);
    (repo, wt)
}

#[test]
fn finish_from_inside_the_worktree_is_refused_with_the_way_out() {
    let (repo, wt) = started();
    let main_before = repo.rev("main");
    let tip = repo.rev("par/T001");
    // From a subdirectory of the worktree, as a shell in the tmux pane would be.
    let run = repo.par_in(&wt.join("src"), &["finish", "T001"]).code(1);
    assert_eq!(
        run.stderr,
        format!(
            "error: you are inside the worktree of T001, which finishing removes\n\
             hint: run it from the main worktree: cd {} && git par finish T001\n\
             hint: or keep the worktree and branch: git par finish T001 --keep\n",
            repo.root.display()
        )
    );
    assert_eq!(run.stdout, "");
    // Nothing changed: main, the task branch, its worktree and its state.
    assert_eq!(repo.rev("main"), main_before);
    assert_eq!(repo.rev("par/T001"), tip);
    assert!(wt.is_dir());
    let status = repo.par(&["--json", "lock-status"]).success().json();
    assert_eq!(status["tasks"][0]["id"], "T001");

    // -C names where git-par works, not where the shell is: still refused.
    let run = repo.par_in(&wt, &["-C", repo.root.to_str().unwrap(), "finish", "T001"]).code(1);
    assert!(run.stderr.starts_with("error: you are inside the worktree of T001"), "{}", run.stderr);

    // --dry-run removes nothing, so it runs there.
    repo.par_in(&wt, &["finish", "T001", "--dry-run"]).success();

    // The hint's command lands it.
    repo.par(&["finish", "T001"]).success();
    assert!(!wt.exists());
    assert!(repo.read("specs/001-demo/tasks.md").contains("- [X] T001"));
}

#[test]
fn finish_keep_from_inside_the_worktree_lands_and_keeps_it() {
    let (repo, wt) = started();
    let run = repo.par_in(&wt, &["--json", "finish", "T001", "--keep"]).success();
    assert_eq!(run.json()["task"], "T001");
    assert!(wt.is_dir());
    assert!(repo.read("specs/001-demo/tasks.md").contains("- [X] T001"));
}
