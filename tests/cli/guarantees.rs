//! The guarantees hold on every route (DESIGN §6, §7): whatever way the
//! commits took onto a task branch (`git am`, `cherry-pick`, `merge`,
//! `--no-verify`, a repository without the hook), the landing enforces the
//! locks; nothing outside the repository is written or deleted; a commit
//! racing a landing cannot revert it; tasks.md from a task branch changes
//! only that task's own entry; text from tasks.md or from paths never runs
//! and never controls the terminal; directory locks cover submodule
//! pointers; git-par's own lock files do not stay stuck after a kill; and
//! the messages lead somewhere.
//!
//! One section per point of the issue that asked for them, each test a real
//! repository, real git commands and the real binary.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::check::hostless;
use crate::common::{Run, TestRepo};

const TASKS_FILE: &str = "specs/001-demo/tasks.md";

const PLAN: &str = "# Tasks: Guarantees\n\n## Phase 1: Parallel\n\n\
- [ ] T001 [P] Edit `src/a.txt`\n\
- [ ] T002 [P] Edit `src/b.txt`\n\
- [ ] T003 [P] Edit `src/c.txt`\n\
- [ ] T004 [P] Fill `data/`\n\
- [ ] T005 [P] Write `out/`\n\
- [ ] T006 [P] Update the submodule in `vendor/lib/`\n";

fn repo() -> TestRepo {
    TestRepo::with_files(&[
        (TASKS_FILE, PLAN),
        ("README.md", "guarantees\n"),
        ("src/a.txt", "a\n"),
        ("src/b.txt", "b\n"),
        ("src/c.txt", "c\n"),
    ])
}

/// Writes `content` to `rel` in the worktree `wt` and commits it there,
/// with or without the pre-commit hook.
fn commit_file(repo: &TestRepo, wt: &Path, rel: &str, content: &str, no_verify: bool) -> String {
    let path = wt.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    repo.git_in(wt, &["add", "-A"]);
    let mut args = vec!["commit", "-q", "-m", "work"];
    if no_verify {
        args.push("--no-verify");
    }
    repo.git_in(wt, &args);
    repo.git_in(wt, &["rev-parse", "HEAD"]).trim().to_string()
}

fn start(repo: &TestRepo, ids: &[&str]) -> Vec<PathBuf> {
    let mut args = vec!["start"];
    args.extend(ids);
    repo.par(&args).success();
    ids.iter().map(|id| repo.worktree(id)).collect()
}

fn state(repo: &TestRepo) -> serde_json::Value {
    serde_json::from_str(&repo.read(".git/par/state.json")).unwrap()
}

/// Exit code and stderr, the temporary directory and host name replaced.
fn refusal(repo: &TestRepo, run: &Run) -> String {
    let base = repo.root.parent().unwrap().to_string_lossy().into_owned();
    hostless(&format!("exit {}\n{}", run.code, run.stderr)).replace(&base, "[TMP]")
}

/// What `main` and the task's branch point at, and the task's state: what a
/// refused landing must leave as it was.
fn untouched(repo: &TestRepo, id: &str) -> (String, String, serde_json::Value) {
    (repo.rev("main"), repo.rev(&format!("par/{id}")), state(repo)["tasks"][id]["state"].clone())
}

// ---------------------------------------------------------------------------
// 1. The landing re-checks the locks.

#[test]
fn a_patch_applied_with_git_am_to_another_tasks_file_does_not_land() {
    let repo = repo();
    repo.par(&["hook", "install"]).success();
    let wts = start(&repo, &["T001", "T002"]);
    // The patch is made in a clone and applied with `git am`, which runs no pre-commit hook.
    let scratch = repo.tmp.path().join("scratch");
    repo.git(&["clone", "-q", repo.root.to_str().unwrap(), scratch.to_str().unwrap()]);
    std::fs::write(scratch.join("src/a.txt"), "a, patched by someone\n").unwrap();
    repo.git_in(&scratch, &["commit", "-q", "-am", "Patch a.txt"]);
    let patch = repo.git_in(&scratch, &["format-patch", "-1", "--stdout"]);
    std::fs::write(repo.tmp.path().join("a.patch"), patch).unwrap();
    repo.git_in(&wts[1], &["am", "-q", repo.tmp.path().join("a.patch").to_str().unwrap()]);
    assert_eq!(repo.git_in(&wts[1], &["log", "-1", "--format=%s"]), "Patch a.txt\n");

    let before = untouched(&repo, "T002");
    let run = repo.par(&["finish", "T002"]);
    assert_eq!(
        refusal(&repo, &run),
        "exit 3\n\
         error: T002 cannot land: it changes a path another task holds\n  \
         src/a.txt: locked by T001 (tester@host)\n\
         hint: a commit reached par/T002 without the pre-commit check (git am, cherry-pick, merge, --no-verify, no hook); \
         take the change out of par/T002, or wait until T001 lands or is aborted and finish again\n\
         hint: nothing changed: main and par/T002 are as they were\n"
    );
    assert_eq!(untouched(&repo, "T002"), before);
    assert_eq!(repo.read("src/a.txt"), "a\n");
}

#[test]
fn a_task_based_on_another_tasks_branch_cannot_land_that_tasks_work() {
    let repo = repo();
    let t2 = start(&repo, &["T002"]).remove(0);
    commit_file(&repo, &t2, "src/b.txt", "b by T002, unfinished\n", false);
    repo.par(&["start", "T003", "--base", "par/T002"]).success();
    let t3 = repo.worktree("T003");
    commit_file(&repo, &t3, "src/c.txt", "c by T003\n", false);

    let before = untouched(&repo, "T003");
    let run = repo.par(&["finish", "T003"]);
    assert_eq!(
        refusal(&repo, &run),
        "exit 3\n\
         error: T003 cannot land: it changes a path another task holds\n  \
         src/b.txt: locked by T002 (tester@host)\n\
         hint: a commit reached par/T003 without the pre-commit check (git am, cherry-pick, merge, --no-verify, no hook); \
         take the change out of par/T003, or wait until T002 lands or is aborted and finish again\n\
         hint: nothing changed: main and par/T003 are as they were\n"
    );
    assert_eq!(untouched(&repo, "T003"), before);

    // Once T002 has landed, T003's branch brings nothing of T002's any more.
    repo.par(&["finish", "T002"]).success();
    repo.par(&["finish", "T003"]).success();
    assert_eq!(repo.git(&["show", "main:src/c.txt"]), "c by T003\n");
}

#[test]
fn a_path_outside_the_tasks_locks_lands_only_as_par_enforce_scope_says() {
    let repo = repo();
    let t1 = start(&repo, &["T001"]).remove(0);
    repo.par(&["hook", "install"]).success();
    // --no-verify skips the hook that would have refused it.
    commit_file(&repo, &t1, "notes.txt", "not T001's\n", true);

    let before = untouched(&repo, "T001");
    let run = repo.par(&["finish", "T001"]);
    assert_eq!(
        refusal(&repo, &run),
        "exit 1\n\
         error: T001 cannot land: it changes a path outside its locks\n  \
         notes.txt: outside the locks of T001\n\
         hint: to make it part of T001: git par lock T001 --add notes.txt\n\
         hint: or take the change out of par/T001; `git config par.enforceScope warn` lets such paths land with a warning\n\
         hint: nothing changed: main and par/T001 are as they were\n"
    );
    assert_eq!(untouched(&repo, "T001"), before);

    repo.git(&["config", "par.enforceScope", "warn"]);
    let run = repo.par(&["finish", "T001"]).success();
    assert!(
        run.stderr.starts_with(
            "warning: notes.txt is outside the locks of T001 and landed anyway (par.enforceScope = warn)\n"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(repo.git(&["show", "main:notes.txt"]), "not T001's\n");

    // With `off` the scope is not checked; another task's path still is.
    repo.git(&["config", "par.enforceScope", "off"]);
    let wts = start(&repo, &["T002", "T003"]);
    commit_file(&repo, &wts[0], "more-notes.txt", "anyone's\n", true);
    let run = repo.par(&["finish", "T002"]).success();
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
    commit_file(&repo, &wts[1], "src/c.txt", "c by T003\n", false);
    commit_file(&repo, &wts[1], "src/a.txt", "a by T003\n", true);
    repo.par(&["start", "T001"]).code(1); // already done
    repo.par(&["finish", "T003"]).success(); // nobody holds src/a.txt any more
}

#[test]
fn removing_a_lock_on_a_path_the_branch_changed_is_refused() {
    let repo = repo();
    let t1 = start(&repo, &["T001"]).remove(0);
    commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
    let run = repo.par(&["lock", "T001", "--remove", "src/a.txt"]);
    assert_eq!(
        refusal(&repo, &run),
        "exit 1\n\
         error: cannot remove src/a.txt from the locks of T001: par/T001 already changes src/a.txt\n\
         hint: another task could then change it too; take the change out of par/T001 first, or keep the lock\n"
    );
    assert_eq!(state(&repo)["tasks"]["T001"]["locks"], json!(["src/a.txt"]));
    // A lock the branch does not use can go.
    repo.par(&["lock", "T001", "--add", "src/b.txt"]).success();
    repo.par(&["lock", "T001", "--remove", "src/b.txt"]).success();
}

// ---------------------------------------------------------------------------
// 2. Nothing outside the repository is written or deleted.

/// A directory outside the repository holding a file a landing must not touch.
fn outside(repo: &TestRepo, name: &str) -> PathBuf {
    let dir = repo.tmp.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x.txt"), "precious\n").unwrap();
    // Empty, so a prefix of whatever a task writes at that name.
    std::fs::write(dir.join("__init__.py"), "").unwrap();
    dir
}

fn listing(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_tracked_symlink_replaced_by_a_directory_lands_without_following_the_link() {
    let repo = repo();
    let elsewhere = outside(&repo, "elsewhere");
    std::os::unix::fs::symlink(&elsewhere, repo.path("data")).unwrap();
    repo.commit_all("data links elsewhere");
    let t4 = start(&repo, &["T004"]).remove(0);
    std::fs::remove_file(t4.join("data")).unwrap();
    commit_file(&repo, &t4, "data/__init__.py", "# the task's own\n", false);

    repo.par(&["finish", "T004"]).success();
    assert_eq!(
        listing(&elsewhere),
        [("__init__.py".into(), "".into()), ("x.txt".into(), "precious\n".into())]
    );
    let data = std::fs::symlink_metadata(repo.path("data")).unwrap();
    assert!(data.is_dir(), "data is a real directory now");
    assert_eq!(repo.read("data/__init__.py"), "# the task's own\n");
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
}

#[test]
fn an_untracked_symlinked_directory_in_the_main_worktree_stops_the_landing() {
    let repo = repo();
    let elsewhere = outside(&repo, "elsewhere");
    let t5 = start(&repo, &["T005"]).remove(0);
    commit_file(&repo, &t5, "out/__init__.py", "# the task's own\n", false);
    std::os::unix::fs::symlink(&elsewhere, repo.path("out")).unwrap();

    let before = untouched(&repo, "T005");
    let run = repo.par(&["finish", "T005"]);
    assert_eq!(
        refusal(&repo, &run),
        "exit 1\n\
         error: the worktree of main ([TMP]/repo) has untracked working tree files that T005's landing would overwrite:\n  \
         out (a symbolic link; git-par never writes through one)\n\
         hint: move or remove them (`mv [TMP]/repo/out [TMP]/repo/out.aside`), then run `git par finish T005` again\n\
         hint: nothing changed: main and par/T005 are as they were\n"
    );
    assert_eq!(untouched(&repo, "T005"), before);
    assert_eq!(
        listing(&elsewhere),
        [("__init__.py".into(), "".into()), ("x.txt".into(), "precious\n".into())]
    );
}

#[test]
fn an_ignored_symlink_in_a_task_worktree_is_not_written_through_when_main_is_merged_in() {
    let repo = repo();
    repo.write(".gitignore", "gen\n");
    repo.commit_all("ignore gen");
    let elsewhere = outside(&repo, "elsewhere");
    let wts = start(&repo, &["T001", "T005"]);
    // Main gains gen/__init__.py (a forced add past the ignore rule)...
    repo.par(&["lock", "T005", "--add", "gen/"]).success();
    std::fs::create_dir_all(wts[1].join("gen")).unwrap();
    std::fs::write(wts[1].join("gen/__init__.py"), "# generated\n").unwrap();
    repo.git_in(&wts[1], &["add", "-f", "gen/__init__.py"]);
    repo.git_in(&wts[1], &["commit", "-q", "-m", "gen"]);
    repo.par(&["finish", "T005"]).success();
    // ...while T001's worktree has an ignored symlink where main's gen/ goes.
    commit_file(&repo, &wts[0], "src/a.txt", "a by T001\n", false);
    std::os::unix::fs::symlink(&elsewhere, wts[0].join("gen")).unwrap();

    let before = untouched(&repo, "T001");
    let run = repo.par(&["finish", "T001"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("gen (a symbolic link; git-par never writes through one)"), "{}", run.stderr);
    assert_eq!(untouched(&repo, "T001"), before);
    assert_eq!(
        listing(&elsewhere),
        [("__init__.py".into(), "".into()), ("x.txt".into(), "precious\n".into())]
    );
}
