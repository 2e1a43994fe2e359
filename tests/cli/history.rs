//! The history a landing leaves on main (issue 15.4, DESIGN §6 "History"):
//! one landing commit per task, `rebase` linear, `ff` only when main has
//! not moved; every landed tree is the tree the verify saw.

use std::path::PathBuf;

use crate::common::TestRepo;

const TASKS: &str = "# Tasks: Demo\n\n## Phase 1: Parallel work\n\n\
- [ ] T001 [P] Create src/t1.txt\n- [ ] T002 [P] Create src/t2.txt\n";
const TASKS_FILE: &str = "specs/001-demo/tasks.md";

/// A repository where T001 has two commits of its own.
fn task_with_two_commits() -> (TestRepo, PathBuf, Vec<String>) {
    let repo = TestRepo::with_tasks(TASKS);
    repo.par(&["start", "T001"]).success();
    let wt = repo.worktree("T001");
    std::fs::create_dir_all(wt.join("src")).unwrap();
    let mut commits = Vec::new();
    for (n, text) in ["one\n", "one\ntwo\n"].iter().enumerate() {
        std::fs::write(wt.join("src/t1.txt"), text).unwrap();
        repo.git_in(&wt, &["add", "-A"]);
        repo.git_in(&wt, &["commit", "-q", "-m", &format!("T001 step {}", n + 1)]);
        commits.push(repo.git_in(&wt, &["rev-parse", "HEAD"]).trim().to_string());
    }
    (repo, wt, commits)
}

/// Main moves on with a change of its own, away from the task's files.
fn move_main(repo: &TestRepo) -> String {
    repo.write("other.txt", "main moved\n");
    repo.commit_all("Main moves on");
    repo.rev("main")
}

/// A verify command that records the tree it runs on, and the file it records into.
fn recording_verify(repo: &TestRepo) -> (String, PathBuf) {
    let log = repo.root.parent().unwrap().join("verified-trees");
    (format!("git rev-parse 'HEAD^{{tree}}' >> '{}'", log.display()), log)
}

fn verified(log: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(log).unwrap_or_default().lines().map(str::to_string).collect()
}

/// `git rev-list --parents FROM..main`, newest first, as lists of ids.
fn added_since(repo: &TestRepo, from: &str) -> Vec<Vec<String>> {
    repo.git(&["rev-list", "--parents", &format!("{from}..main")])
        .lines()
        .map(|l| l.split(' ').map(str::to_string).collect())
        .collect()
}

fn ticked(repo: &TestRepo, id: &str) -> usize {
    repo.git(&["show", &format!("main:{TASKS_FILE}")]).matches(&format!("- [X] {id} ")).count()
}

#[test]
fn a_clean_merge_landing_adds_the_task_commits_and_one_merge_of_the_tested_tree() {
    let (repo, _wt, commits) = task_with_two_commits();
    let before = move_main(&repo);
    let (verify, log) = recording_verify(&repo);
    let run = repo.par(&["finish", "T001", "--verify", &verify, "--json"]).success();
    assert_eq!(run.json()["strategy"], "merge");

    let added = added_since(&repo, &before);
    // The two task commits as they were, and the landing: no merge of main into the task.
    assert_eq!(added.len(), 3, "{added:?}");
    let landing = &added[0];
    assert_eq!(
        landing[1..],
        [before.clone(), commits[1].clone()],
        "the landing merges main and the task tip"
    );
    assert_eq!(added[1], [commits[1].clone(), commits[0].clone()]);
    assert_eq!(repo.git(&["rev-list", "--merges", "--count", &format!("{before}..main")]).trim(), "1");
    // What lands is what was verified, tasks.md tick included.
    assert_eq!(verified(&log), [repo.rev("main^{tree}")]);
    assert_eq!(ticked(&repo, "T001"), 1);
    assert!(repo.git(&["log", "-1", "--format=%B", "main"]).contains("\nPar-Task: T001\n"));
}

#[test]
fn rebase_lands_a_linear_history_whose_last_commit_carries_the_tick_and_trailer() {
    let (repo, _wt, commits) = task_with_two_commits();
    let before = move_main(&repo);
    let (verify, log) = recording_verify(&repo);
    let run = repo.par(&["finish", "T001", "--strategy", "rebase", "--verify", &verify, "--json"]).success();
    assert_eq!(run.json()["strategy"], "rebase");
    assert!(run.stderr.contains("Rebased the task's commits onto main"), "{}", run.stderr);

    let added = added_since(&repo, &before);
    assert_eq!(added.len(), 2, "{added:?}");
    // Linear: each commit has one parent, the oldest sits on the old main.
    assert_eq!(added[0].len(), 2);
    assert_eq!(added[1], [added[1][0].clone(), before.clone()]);
    assert_eq!(added[0][1], added[1][0]);
    assert!(!commits.contains(&added[0][0]) && !commits.contains(&added[1][0]), "replayed, not reused");
    assert_eq!(repo.git(&["log", "-1", "--format=%B", &added[1][0]]).trim(), "T001 step 1");
    assert_eq!(repo.git(&["log", "-1", "--format=%B", "main"]).trim(), "T001 step 2\n\nPar-Task: T001");
    // The author of each replayed commit is kept; the files are the task's.
    assert_eq!(repo.git(&["show", "main:src/t1.txt"]), "one\ntwo\n");
    assert_eq!(repo.git(&["show", "main:other.txt"]), "main moved\n");
    assert_eq!(verified(&log), [repo.rev("main^{tree}")]);
    assert_eq!(ticked(&repo, "T001"), 1);
    // The task is gone: branch deleted, state empty.
    assert!(repo.try_git_in(&repo.root, &["rev-parse", "--verify", "-q", "par/T001"]).code != 0);
}

#[test]
fn ff_fast_forwards_only_when_main_has_not_moved_and_otherwise_lands_as_rebase() {
    // Main has not moved: the task's commits as they are, then the tick.
    let (repo, _wt, commits) = task_with_two_commits();
    let before = repo.rev("main");
    let (verify, log) = recording_verify(&repo);
    let run = repo.par(&["finish", "T001", "--strategy", "ff", "--verify", &verify, "--json"]).success();
    assert_eq!(run.json()["strategy"], "ff");
    let added = added_since(&repo, &before);
    assert_eq!(added.len(), 3, "{added:?}");
    assert_eq!(added[0][1..], [commits[1].clone()]);
    assert_eq!(added[1], [commits[1].clone(), commits[0].clone()]);
    assert_eq!(added[2], [commits[0].clone(), before.clone()]);
    assert_eq!(verified(&log), [repo.rev("main^{tree}")]);

    // Main has moved: says so, and lands linear as rebase.
    let (repo, _wt, commits) = task_with_two_commits();
    let before = move_main(&repo);
    let (verify, log) = recording_verify(&repo);
    let run = repo.par(&["finish", "T001", "--strategy", "ff", "--verify", &verify, "--json"]).success();
    assert_eq!(run.json()["strategy"], "rebase");
    assert!(
        run.stderr.starts_with(
            "main has moved since T001 branched off, so it cannot fast-forward: it lands as rebase\n"
        ),
        "{}",
        run.stderr
    );
    let added = added_since(&repo, &before);
    assert_eq!(added.len(), 2, "{added:?}");
    assert!(added.iter().all(|c| c.len() == 2), "linear: {added:?}");
    assert_eq!(added[1][1], before);
    assert!(!commits.contains(&added[0][0]));
    assert_eq!(repo.git(&["rev-list", "--merges", "--count", &format!("{before}..main")]).trim(), "0");
    assert_eq!(verified(&log), [repo.rev("main^{tree}")]);
    assert_eq!(ticked(&repo, "T001"), 1);
}

#[test]
fn par_strategy_sets_the_default_and_a_bad_value_is_refused() {
    let (repo, _wt, _) = task_with_two_commits();
    let before = move_main(&repo);
    repo.git(&["config", "par.strategy", "bogus"]);
    let run = repo.par(&["finish", "T001"]).code(2);
    assert_eq!(
        run.stderr,
        "error: par.strategy = bogus is not one of merge, squash, ff, rebase\n\
hint: fix it with `git config par.strategy rebase` (or merge, squash, ff), or pass --strategy\n"
    );
    assert_eq!(repo.rev("main"), before);
    repo.git(&["config", "par.strategy", "rebase"]);
    let run = repo.par(&["finish", "T001", "--json"]).success();
    assert_eq!(run.json()["strategy"], "rebase");
    assert_eq!(added_since(&repo, &before).len(), 2);
    assert_eq!(repo.git(&["rev-list", "--merges", "--count", &format!("{before}..main")]).trim(), "0");
}

#[test]
fn a_conflicting_rebase_is_refused_and_leaves_everything_as_it_was() {
    let (repo, wt, commits) = task_with_two_commits();
    repo.write("src/t1.txt", "main's own t1\n");
    repo.commit_all("Main writes t1 too");
    let before = repo.rev("main");
    let run = repo.par(&["finish", "T001", "--strategy", "rebase", "--verify", "true"]).code(1);
    let base = repo.root.parent().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        run.stderr.replace(&base, "[TMP]"),
        format!(
            "error: T001 does not rebase onto main: its commit {} T001 step 1 conflicts in 1 file:\n  \
src/t1.txt  both added\n\
hint: rebase it in the task's worktree: `cd [TMP]/repo.par/T001 && git rebase main`, fix the files, \
`git rebase --continue`, then run `git par finish T001 --strategy rebase` again; or land it as a merge with `--strategy merge`\n\
hint: nothing changed: main and par/T001 are as they were\n",
            &commits[0][..7]
        )
    );
    assert_eq!((repo.rev("main"), repo.rev("par/T001")), (before, commits[1].clone()));
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");
    let state: serde_json::Value = serde_json::from_str(&repo.read(".git/par/state.json")).unwrap();
    assert_eq!(state["tasks"]["T001"]["state"], "active");
}

#[test]
fn a_merge_of_main_the_user_resolved_lands_and_no_other_merge_is_added() {
    let (repo, wt, _) = task_with_two_commits();
    repo.write("src/t1.txt", "main's own t1\n");
    repo.commit_all("Main writes t1 too");
    repo.par(&["finish", "T001"]).code(1);
    // Resolved the way the hint says: merge main in the worktree, fix, commit.
    let merged = repo.try_git_in(&wt, &["merge", "-q", "main"]);
    assert_ne!(merged.code, 0);
    std::fs::write(wt.join("src/t1.txt"), "resolved\n").unwrap();
    repo.git_in(&wt, &["commit", "-q", "-am", "Merge main, keep ours"]);
    let resolved = repo.git_in(&wt, &["rev-parse", "HEAD"]).trim().to_string();
    let before = move_main(&repo);
    let (verify, log) = recording_verify(&repo);
    repo.par(&["finish", "T001", "--verify", &verify]).success();
    let added = added_since(&repo, &before);
    // The landing merges the user's merge as it is; nothing else is merged.
    assert_eq!(added[0][1..], [before.clone(), resolved.clone()]);
    assert_eq!(
        repo.git(&["rev-list", "--merges", &format!("{before}..main")]).lines().collect::<Vec<_>>(),
        [added[0][0].as_str(), resolved.as_str()]
    );
    assert_eq!(repo.git(&["show", "main:src/t1.txt"]), "resolved\n");
    assert_eq!(verified(&log), [repo.rev("main^{tree}")]);
}

#[test]
fn squash_adds_exactly_one_commit_on_main_whether_or_not_main_moved() {
    for main_moves in [false, true] {
        let (repo, _wt, commits) = task_with_two_commits();
        let before = if main_moves { move_main(&repo) } else { repo.rev("main") };
        let (verify, log) = recording_verify(&repo);
        let run =
            repo.par(&["finish", "T001", "--strategy", "squash", "--verify", &verify, "--json"]).success();
        assert_eq!(run.json()["strategy"], "squash");

        let added = added_since(&repo, &before);
        assert_eq!(added.len(), 1, "main moved: {main_moves}: {added:?}");
        assert_eq!(added[0][1..], *std::slice::from_ref(&before), "one parent, the old main");
        assert!(!commits.contains(&added[0][0]));
        assert_eq!(repo.git(&["rev-list", "--merges", "--count", &format!("{before}..main")]).trim(), "0");
        assert_eq!(repo.git(&["show", "main:src/t1.txt"]), "one\ntwo\n");
        assert_eq!(verified(&log), [repo.rev("main^{tree}")]);
        assert_eq!(ticked(&repo, "T001"), 1);
        assert!(repo.git(&["log", "-1", "--format=%B", "main"]).contains("\nPar-Task: T001\n"));
    }
}

/// A rebased task's tasks.md is the one it forked from: what main gained
/// since (another task ticked) is not an edit of its own to drop and show,
/// while an edit of another task's line still is.
#[test]
fn a_rebased_task_is_not_warned_about_ticks_main_gained_after_it_forked() {
    let plan = "- [ ] T001 [P] Create `src/t1.txt`\n- [ ] T002 [P] Create `src/t2.txt`\n\
- [ ] T003 [P] Create `src/t3.txt`\n- [ ] T004 [P] Create `src/t4.txt`\n";
    let repo = TestRepo::with_tasks(plan);
    repo.par(&["start", "T001", "T002", "T003"]).success();
    for id in ["T001", "T002", "T003"] {
        let wt = repo.worktree(id);
        let n = &id[3..];
        crate::common::write_at(&wt.join(format!("src/t{n}.txt")), "done\n");
        if id == "T003" {
            // An agent reworded another task's line.
            let text = std::fs::read_to_string(wt.join(TASKS_FILE)).unwrap();
            std::fs::write(wt.join(TASKS_FILE), text.replace("`src/t4.txt`", "`src/t4.txt` twice")).unwrap();
        }
        repo.git_in(&wt, &["add", "-A"]);
        repo.git_in(&wt, &["commit", "-q", "--no-verify", "-m", id]);
    }
    repo.par(&["finish", "T001"]).success();
    let run = repo.par(&["finish", "T002", "--strategy", "rebase", "--json"]).success();
    assert!(!run.stderr.contains("were dropped"), "{}", run.stderr);
    assert!(run.json().get("dropped").is_none(), "{}", run.stdout);

    let run = repo.par(&["finish", "T003", "--strategy", "rebase"]).success();
    assert!(run.stderr.contains("were dropped"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("-- [ ] T004 [P] Create `src/t4.txt`\n+- [ ] T004 [P] Create `src/t4.txt` twice\n"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("T001") && !run.stderr.contains("T002"),
        "main's ticks are no edit of T003's:\n{}",
        run.stderr
    );
    assert_eq!(ticked(&repo, "T001") + ticked(&repo, "T002") + ticked(&repo, "T003"), 3);
    assert!(!repo.read(TASKS_FILE).contains("twice"));
}
