//! `git par abort`: never loses work without --force.

use std::fs;

use serde_json::json;

use crate::common::{assert_refused, events, state, write_at, TestRepo, PLAN};

fn started(id: &str) -> TestRepo {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", id]).success();
    repo
}

#[test]
fn a_clean_task_is_removed_entirely() {
    let repo = started("T001");
    let wt = repo.worktree("T001");
    let tip = repo.rev("par/T001");
    let run = repo.par(&["abort", "T001"]).success();
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "aborted T001: removed {}, deleted branch par/T001 (was {}); its locks are released\n",
            wt.display(),
            &tip[..7]
        )
    );
    assert!(!wt.exists());
    assert_eq!(repo.git(&["branch", "--list", "par/*"]), "");
    assert_eq!(repo.git(&["worktree", "list", "--porcelain"]).matches("worktree ").count(), 1);
    assert_eq!(state(&repo)["tasks"], json!({}));
    let last = events(&repo).pop().unwrap();
    assert_eq!(last["event"], "abort");
    assert_eq!(last["branch_deleted"], true);
    assert_eq!(last["branch_tip"], tip.as_str());
    let log = repo.read("logs/parallel/T001.log");
    let abort_line = log.lines().nth(1).unwrap();
    let at = last["at"].as_str().unwrap();
    assert_eq!(
        abort_line,
        format!(
            "{at} abort T001 branch par/T001 deleted (was {}) worktree {} removed",
            &tip[..7],
            wt.display()
        )
    );
    // The task can start again.
    repo.par(&["start", "T001"]).success();
}

#[test]
fn uncommitted_changes_and_unlanded_commits_are_not_thrown_away() {
    let repo = started("T001");
    let wt = repo.worktree("T001");
    write_at(&wt.join("src/app/models.py"), "class User: pass\n");
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "Add the user model"]);
    write_at(&wt.join("src/app/models.py"), "class User:\n    name: str\n");
    write_at(&wt.join("notes/todo.txt"), "later\n");
    let commit = repo.rev("par/T001");
    assert_refused(
        &repo,
        &["abort", "T001"],
        1,
        &format!(
            "error: aborting T001 would lose 1 commit not on main ({} Add the user model) \
             and 2 uncommitted files (src/app/models.py, notes/todo.txt)\n\
             hint: land the work with `git par finish T001`, or keep the commits on par/T001 with --keep-branch\n\
             hint: commit or stash the changes in {}\n\
             hint: or throw all of it away with --force\n",
            &commit[..7],
            wt.display()
        ),
    );
    // --keep-branch saves the commits but not the uncommitted files.
    assert_refused(
        &repo,
        &["abort", "T001", "--keep-branch"],
        1,
        &format!(
            "error: aborting T001 would lose 2 uncommitted files (src/app/models.py, notes/todo.txt)\n\
             hint: commit or stash the changes in {}\n\
             hint: or throw all of it away with --force\n",
            wt.display()
        ),
    );
    assert_eq!(fs::read_to_string(wt.join("notes/todo.txt")).unwrap(), "later\n");
}

#[test]
fn keep_branch_keeps_the_commits() {
    let repo = started("T001");
    let wt = repo.worktree("T001");
    write_at(&wt.join("src/app/models.py"), "class User: pass\n");
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "Add the user model"]);
    let tip = repo.rev("par/T001");
    let run = repo.par(&["--json", "abort", "T001", "--keep-branch"]).success();
    assert_eq!(
        run.json(),
        json!({"version": 1, "id": "T001", "branch": "par/T001", "worktree": wt.to_str().unwrap(),
               "branch_tip": tip, "branch_deleted": false, "worktree_removed": true,
               "discarded_commits": [], "discarded_files": []})
    );
    assert_eq!(repo.rev("par/T001"), tip);
    assert!(!wt.exists());
    assert_eq!(state(&repo)["tasks"], json!({}));
}

#[test]
fn force_throws_the_work_away_and_says_so() {
    let repo = started("T001");
    let wt = repo.worktree("T001");
    write_at(&wt.join("a.txt"), "a\n");
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "first"]);
    write_at(&wt.join("b.txt"), "b\n");
    let tip = repo.rev("par/T001");
    let run = repo.par(&["--json", "abort", "T001", "--force"]).success();
    let json = run.json();
    assert_eq!(json["discarded_commits"], json!([{"short": &tip[..7], "subject": "first"}]));
    assert_eq!(json["discarded_files"], json!(["b.txt"]));
    assert_eq!(json["branch_deleted"], true);
    assert!(!wt.exists());
    assert_eq!(repo.git(&["branch", "--list", "par/*"]), "");
    let last = events(&repo).pop().unwrap();
    assert_eq!((last["forced"].clone(), last["discarded_commits"].clone()), (json!(true), json!(1)));
}

#[test]
fn commits_already_on_main_are_not_counted_as_lost() {
    let repo = started("T001");
    let wt = repo.worktree("T001");
    write_at(&wt.join("src/app/models.py"), "x\n");
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "model"]);
    repo.git(&["merge", "-q", "--ff-only", "par/T001"]);
    repo.par(&["abort", "T001"]).success();
    assert_eq!(repo.git(&["branch", "--list", "par/*"]), "");
}

#[test]
fn a_worktree_already_deleted_by_hand_is_fine() {
    let repo = started("T001");
    let wt = repo.worktree("T001");
    fs::remove_dir_all(&wt).unwrap();
    let run = repo.par(&["abort", "T001"]).success();
    assert!(run
        .stderr
        .starts_with(&format!("aborted T001: {} was already gone, deleted branch", wt.display())));
    assert_eq!(repo.git(&["worktree", "list", "--porcelain"]).matches("worktree ").count(), 1, "pruned");
    assert_eq!(state(&repo)["tasks"], json!({}));
}

#[test]
fn abort_from_inside_the_tasks_own_worktree() {
    let repo = started("T001");
    let wt = repo.worktree("T001");
    repo.par_in(&wt.join("specs"), &["abort", "T001"]).success();
    assert!(!wt.exists());
    assert_eq!(state(&repo)["tasks"], json!({}));
}

#[test]
fn aborting_a_task_that_is_not_active_is_refused() {
    let repo = TestRepo::with_tasks(PLAN);
    assert_refused(
        &repo,
        &["abort", "T001"],
        1,
        "error: T001 is not active\n\
         hint: `git par lock-status` lists the active tasks; if T001 is a task of the plan (`git par list`), `git par start T001` starts it\n",
    );
}

#[test]
fn commits_on_a_detached_head_in_the_worktree_count_even_with_keep_branch() {
    let repo = started("T001");
    let wt = repo.worktree("T001");
    repo.git_in(&wt, &["checkout", "-q", "--detach"]);
    write_at(&wt.join("x.txt"), "x\n");
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "detached work"]);
    let head = repo.git_in(&wt, &["rev-parse", "HEAD"]).trim().to_string();
    assert_refused(
        &repo,
        &["abort", "T001", "--keep-branch"],
        1,
        &format!(
            "error: aborting T001 would lose 1 commit not on main ({} detached work)\n\
             hint: the worktree's HEAD is detached: save its commits with `git switch -c NAME` in {}\n\
             hint: or throw all of it away with --force\n",
            &head[..7],
            wt.display()
        ),
    );
    // On another branch, the commits stay reachable from it: nothing is lost.
    repo.git_in(&wt, &["switch", "-q", "-c", "side"]);
    repo.par(&["abort", "T001"]).success();
    assert_eq!(repo.rev("side"), head);
}

#[test]
fn a_branch_deleted_by_hand_is_reported_as_gone_and_its_commits_as_lost() {
    let repo = started("T001");
    let wt = repo.worktree("T001");
    write_at(&wt.join("src/app/models.py"), "class User: pass\n");
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "Add the user model"]);
    let tip = repo.rev("par/T001");
    repo.git(&["update-ref", "-d", "refs/heads/par/T001"]);
    write_at(&wt.join("notes.txt"), "draft\n");
    // The commit only the worktree's HEAD log still names is work; the files
    // of the unborn HEAD are not all "uncommitted", only the new one is.
    assert_refused(
        &repo,
        &["abort", "T001"],
        1,
        &format!(
            "error: aborting T001 would lose 1 commit not on main ({} Add the user model) and 1 uncommitted file (notes.txt)\n\
             hint: its branch par/T001 is gone; recreate it at its last commit with `git branch par/T001 {tip}`, \
             then land the work with `git par finish T001`\n\
             hint: commit or stash the changes in {wt}\n\
             hint: or throw all of it away with --force\n",
            &tip[..7],
            wt = wt.display()
        ),
    );
    let run = repo.par(&["abort", "T001", "--force"]).success();
    assert_eq!(
        run.stderr,
        format!(
            "warning: discarded 1 commit(s) and 1 uncommitted file(s)\n\
             aborted T001: removed {}, branch par/T001 was already gone; its locks are released\n",
            wt.display()
        )
    );
    let log = repo.read("logs/parallel/T001.log");
    assert!(
        log.lines().nth(1).unwrap().contains(" abort T001 branch par/T001 already gone worktree "),
        "{log}"
    );
}

/// libgit2's own branch delete took a worktree record another process was
/// removing at that moment for one with the branch checked out: `git
/// worktree remove` of unrelated worktrees made about one abort in five fail
/// (and a finish leave its branch behind; the long race found that).
#[test]
fn worktrees_removed_meanwhile_by_git_do_not_stop_the_branch_from_being_deleted() {
    let repo = TestRepo::with_tasks(PLAN);
    let others: Vec<_> = (0..100).map(|i| repo.tmp.path().join(format!("other{i}"))).collect();
    for other in &others {
        repo.git(&["worktree", "add", "-q", "--detach", other.to_str().unwrap()]);
    }
    let remover = {
        let (root, home, others) = (repo.root.clone(), repo.home.clone(), others.clone());
        std::thread::spawn(move || {
            for other in &others {
                // git's own `worktree remove` is not safe against a worktree
                // being added or removed meanwhile (the start and abort here):
                // it fails reading that record, and is run again.
                let mut tries = 0;
                while other.exists() && tries < 50 {
                    tries += 1;
                    let _ = crate::common::isolated("git", &home)
                        .current_dir(&root)
                        .args(["worktree", "remove", "--force", other.to_str().unwrap()])
                        .output();
                }
                assert!(!other.exists(), "git worktree remove {} failed {tries} times", other.display());
            }
        })
    };
    let mut aborts = 0;
    while !remover.is_finished() || aborts < 3 {
        // `git worktree add` has the same trouble as git's remove above; a
        // start it fails is rolled back, and tried again.
        let started = (0..20).any(|_| {
            let run = repo.par(&["start", "T001"]);
            assert!(run.code == 0 || run.stderr.contains("creating worktree"), "{}", run.stderr);
            run.code == 0
        });
        assert!(started, "start T001 failed 20 times");
        let run = repo.par(&["abort", "T001"]);
        assert_eq!(run.code, 0, "abort {aborts}: {}", run.stderr);
        assert!(run.stderr.contains("deleted branch par/T001"), "{}", run.stderr);
        assert_eq!(repo.git(&["branch", "--list", "par/*"]), "");
        aborts += 1;
    }
    remover.join().unwrap();
}

#[test]
fn a_branch_checked_out_in_another_worktree_is_kept_and_its_settings_go_with_a_deleted_one() {
    let repo = started("T001");
    let tip = repo.rev("par/T001");
    // Its settings (`git branch -u`) go with it, as with `git branch -D`.
    repo.git(&["config", "branch.par/T001.description", "the model"]);
    repo.par(&["abort", "T001"]).success();
    assert_eq!(repo.git(&["branch", "--list", "par/*"]), "");
    assert_eq!(repo.try_git_in(&repo.root, &["config", "--get", "branch.par/T001.description"]).code, 1);

    // Checked out by hand in a second worktree, the branch is not deleted
    // under it, and the abort is refused before anything is removed.
    repo.par(&["start", "T001"]).success();
    let wt = repo.worktree("T001");
    let second = repo.tmp.path().join("second");
    repo.git_in(&wt, &["checkout", "-q", "--detach"]);
    repo.git(&["worktree", "add", "-q", second.to_str().unwrap(), "par/T001"]);
    let run = repo.par(&["abort", "T001"]).code(1);
    assert!(
        run.stderr.starts_with(&format!(
            "error: T001's branch par/T001 is checked out (or being rebased or bisected) in {}, so it cannot be deleted\n",
            second.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`git par abort T001 --keep-branch`"), "{}", run.stderr);
    assert_eq!(repo.rev("par/T001"), tip);
    assert!(wt.exists(), "the task's worktree is still there");
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active");
    // Kept, the branch stays where the other worktree has it.
    repo.par(&["abort", "T001", "--keep-branch"]).success();
    assert!(!wt.exists());
    assert_eq!(repo.rev("par/T001"), tip);
}
