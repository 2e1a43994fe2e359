//! `finish` run from inside the task's own worktree, which landing removes:
//! it lands (as `git worktree remove` run from inside removes), then says that
//! the shell's directory is gone and where to `cd`.

use crate::common::TestRepo;

const TASKS: &str = "## Phase 1\n\n- [ ] T001 [P] Create `src/t1.txt`\n";

fn started() -> (TestRepo, std::path::PathBuf) {
    let repo = TestRepo::with_tasks(TASKS);
    let wt = repo.task_with_commit("T001", "src/t1.txt", "one\n", "t1");
    (repo, wt)
}

fn notice(repo: &TestRepo, wt: &std::path::Path) -> String {
    format!(
        "warning: your shell is in {}, which this finish removed with the worktree of T001\n\
         hint: go back to the main worktree: cd {}\n",
        wt.display(),
        repo.root.display()
    )
}

#[test]
fn finish_from_inside_the_worktree_lands_and_says_where_to_cd() {
    let (repo, wt) = started();
    // From a subdirectory of the worktree, as a shell in the tmux pane would be.
    let run = repo.par_in(&wt.join("src"), &["finish", "T001"]).success();
    assert!(run.stderr.ends_with(&notice(&repo, &wt)), "{}", run.stderr);
    assert_eq!(run.stdout.trim(), repo.rev("main"), "stdout is still the landing commit alone");
    assert!(!wt.exists());
    assert!(repo.read("specs/001-demo/tasks.md").contains("- [X] T001"));
}

#[test]
fn the_notice_is_for_the_shell_directory_only() {
    // -C moves git-par, not the shell: a shell in the worktree is told.
    let (repo, wt) = started();
    let run = repo.par_in(&wt, &["-C", repo.root.to_str().unwrap(), "finish", "T001"]).success();
    assert!(run.stderr.ends_with(&notice(&repo, &wt)), "{}", run.stderr);

    // From the main worktree, or with --keep (nothing removed), there is nothing to say.
    let (repo, wt) = started();
    let run = repo.par(&["finish", "T001"]).success();
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
    let (repo2, wt2) = started();
    let run = repo2.par_in(&wt2, &["finish", "T001", "--keep"]).success();
    assert!(!run.stderr.contains("warning:") && wt2.is_dir(), "{}", run.stderr);
    drop((repo, wt));
}

#[test]
fn a_refused_finish_from_inside_removes_nothing_and_says_nothing_of_it() {
    let (repo, wt) = started();
    std::fs::write(wt.join("src/t1.txt"), "uncommitted\n").unwrap();
    let run = repo.par_in(&wt, &["finish", "T001"]).code(1);
    assert!(!run.stderr.contains("your shell is in"), "{}", run.stderr);
    assert!(wt.is_dir());
}
