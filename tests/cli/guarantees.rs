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

use crate::common::{hostless, isolated, state, strace_works, Run, TestRepo, TASKS_FILE};

const PLAN: &str = "# Tasks: Guarantees\n\n## Phase 1: Parallel\n\n\
- [ ] T001 [P] Edit `src/a.txt`\n\
- [ ] T002 [P] Edit `src/b.txt`\n\
- [ ] T003 [P] Edit `src/c.txt`\n\
- [ ] T004 [P] Fill `src/data/`\n\
- [ ] T005 [P] Write `src/out/`\n\
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
    // A dry run says so too.
    let dry = repo.par(&["finish", "T002", "--dry-run"]).success();
    assert!(
        hostless(&dry.stderr).contains(
            "warning: finish would refuse this landing: T002 cannot land: it changes a path another task holds\n  \
             src/a.txt: locked by T001 (tester@host)\n"
        ),
        "{}",
        dry.stderr
    );
    let run = repo.par(&["finish", "T002"]);
    assert_eq!(
        run.refusal_in(&repo),
        "exit 3\n\
         error: T002 cannot land: it changes a path another task holds\n  \
         src/a.txt: locked by T001 (tester@host)\n\
         hint: a commit reached par/T002 without the pre-commit check (git am, cherry-pick, merge, --no-verify, no hook); \
         take the change out of par/T002, or wait until T001 lands or is aborted and finish again\n\
         hint: to take it out, in T002's worktree: git restore --source=\"$(git merge-base HEAD main)\" \
         --staged --worktree -- src/a.txt && git commit -m \"Leave T001's files alone\"\n\
         hint: nothing changed: main and par/T002 are as they were\n"
    );
    assert_eq!(untouched(&repo, "T002"), before);
    assert_eq!(repo.read("src/a.txt"), "a\n");

    // The hint works as written, through the pre-commit hook: putting another
    // task's file back as it was at the fork point takes nothing from it.
    let command = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("hint: to take it out, in T002's worktree: "))
        .unwrap();
    let undo = isolated("sh", &repo.home).current_dir(&wts[1]).args(["-c", command]).output().unwrap();
    assert!(undo.status.success(), "{}", String::from_utf8_lossy(&undo.stderr));
    // Changing the file again is still refused by the hook.
    std::fs::write(wts[1].join("src/a.txt"), "a, changed again\n").unwrap();
    let again = repo.try_git_in(&wts[1], &["commit", "-q", "-am", "Change a.txt again"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("src/a.txt: locked by T001"), "{}", again.stderr);
    repo.git_in(&wts[1], &["checkout", "--", "src/a.txt"]);
    repo.par(&["finish", "T002"]).success();
    assert_eq!(repo.git(&["show", "main:src/a.txt"]), "a\n", "T001's file never changed on main");
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
        run.refusal_in(&repo),
        "exit 3\n\
         error: T003 cannot land: it changes a path another task holds\n  \
         src/b.txt: locked by T002 (tester@host)\n\
         hint: a commit reached par/T003 without the pre-commit check (git am, cherry-pick, merge, --no-verify, no hook); \
         take the change out of par/T003, or wait until T002 lands or is aborted and finish again\n\
         hint: to take it out, in T003's worktree: git restore --source=\"$(git merge-base HEAD main)\" \
         --staged --worktree -- src/b.txt && git commit -m \"Leave T002's files alone\"\n\
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
        run.refusal_in(&repo),
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
fn a_task_that_declared_no_path_lands_what_nobody_holds_and_nothing_another_holds() {
    let plan = format!("{PLAN}- [ ] T007 [P] Think hard\n");
    let repo =
        TestRepo::with_files(&[(TASKS_FILE, plan.as_str()), ("src/a.txt", "a\n"), ("src/b.txt", "b\n")]);
    let wts = start(&repo, &["T001", "T007"]);
    // No hook: nothing acquired at commit time; the landing takes what nobody holds.
    commit_file(&repo, &wts[1], "notes/idea.md", "an idea\n", false);
    commit_file(&repo, &wts[1], "src/a.txt", "a by T007\n", false);
    let run = repo.par(&["finish", "T007"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        hostless(&run.stderr).starts_with(
            "error: T007 cannot land: it changes a path another task holds\n  src/a.txt: locked by T001 (tester@host)\n"
        ),
        "{}",
        run.stderr
    );
    repo.git_in(&wts[1], &["reset", "-q", "--hard", "HEAD~1"]);
    repo.par(&["finish", "T007"]).success();
    assert_eq!(repo.git(&["show", "main:notes/idea.md"]), "an idea\n");
}

#[test]
fn removing_a_lock_on_a_path_the_branch_changed_is_refused() {
    let repo = repo();
    let t1 = start(&repo, &["T001"]).remove(0);
    commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
    let run = repo.par(&["lock", "T001", "--remove", "src/a.txt"]);
    assert_eq!(
        run.refusal_in(&repo),
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
    std::os::unix::fs::symlink(&elsewhere, repo.path("src/data")).unwrap();
    repo.commit_all("src/data links elsewhere");
    let t4 = start(&repo, &["T004"]).remove(0);
    std::fs::remove_file(t4.join("src/data")).unwrap();
    commit_file(&repo, &t4, "src/data/__init__.py", "# the task's own\n", false);

    repo.par(&["finish", "T004"]).success();
    assert_eq!(
        listing(&elsewhere),
        [("__init__.py".into(), "".into()), ("x.txt".into(), "precious\n".into())]
    );
    let data = std::fs::symlink_metadata(repo.path("src/data")).unwrap();
    assert!(data.is_dir(), "src/data is a real directory now");
    assert_eq!(repo.read("src/data/__init__.py"), "# the task's own\n");
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
}

#[test]
fn an_untracked_symlinked_directory_in_the_main_worktree_stops_the_landing() {
    let repo = repo();
    let elsewhere = outside(&repo, "elsewhere");
    let t5 = start(&repo, &["T005"]).remove(0);
    commit_file(&repo, &t5, "src/out/__init__.py", "# the task's own\n", false);
    std::os::unix::fs::symlink(&elsewhere, repo.path("src/out")).unwrap();

    let before = untouched(&repo, "T005");
    let run = repo.par(&["finish", "T005"]);
    assert_eq!(
        run.refusal_in(&repo),
        "exit 1\n\
         error: the worktree of main ([TMP]/repo) has untracked working tree files that T005's landing would overwrite:\n  \
         src/out (a symbolic link; git-par never writes through one)\n\
         hint: move or remove them (`mv [TMP]/repo/src/out [TMP]/repo/src/out.aside`), then run `git par finish T005` again\n\
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

// ---------------------------------------------------------------------------
// 3. A commit racing a landing cannot revert it.

/// A repository where main has a commit `side` conflicts with on README.md.
fn conflicting_side(repo: &TestRepo) {
    repo.git(&["switch", "-q", "-c", "side"]);
    repo.write("README.md", "side\n");
    repo.commit_all("side edits README");
    repo.git(&["switch", "-q", "main"]);
    repo.write("README.md", "main\n");
    repo.commit_all("main edits README");
}

#[test]
fn an_operation_in_progress_on_main_stops_the_landing() {
    // (operation, how to start it, how to end it)
    let cases: [(&str, &[&str], &[&str]); 5] = [
        ("merge", &["merge", "-q", "side"], &["merge", "--abort"]),
        ("cherry-pick", &["cherry-pick", "side"], &["cherry-pick", "--abort"]),
        ("revert", &["revert", "--no-edit", "HEAD~1"], &["revert", "--abort"]),
        ("rebase", &["rebase", "-q", "side"], &["rebase", "--abort"]),
        ("bisect", &["bisect", "start", "HEAD", "HEAD~3"], &["bisect", "reset"]),
    ];
    for (op, begin, end) in cases {
        let repo = repo();
        conflicting_side(&repo);
        if op == "revert" {
            repo.write("README.md", "main again\n");
            repo.commit_all("main edits README again");
        }
        let t1 = start(&repo, &["T001"]).remove(0);
        commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
        let started = repo.try_git_in(&repo.root, begin);
        assert!(started.code != 0 || op == "bisect", "{op} should stop half-way: {}", started.stderr);

        let before = untouched(&repo, "T001");
        let run = repo.par(&["finish", "T001"]);
        let (verb, how) = match op {
            "bisect" => ("bisect".to_string(), "end it with `git bisect reset`".to_string()),
            op => (
                op.to_string(),
                format!("finish it (`git {op} --continue`) or abort it (`git {op} --abort`)"),
            ),
        };
        assert_eq!(
            run.refusal_in(&repo),
            format!(
                "exit 1\n\
                 error: a {verb} is in progress in the worktree of main ([TMP]/repo)\n\
                 hint: {how} there, then run `git par finish T001` again\n\
                 hint: nothing changed: main is as it was\n"
            ),
            "{op}"
        );
        assert_eq!(untouched(&repo, "T001"), before, "{op}");

        repo.git(end);
        repo.par(&["finish", "T001"]).success();
        assert_eq!(repo.git(&["show", "main:src/a.txt"]), "a by T001\n", "{op}");
    }
}

const RACE_TASKS: usize = 50;

/// `git commit -a` in the main worktree racing 50 landings: a commit made
/// after main moved but before its worktree caught up would commit the old
/// files on top of the landing and silently revert it. The racer watches
/// main's ref and commits the instant it moves (and now and then anyway);
/// each of its commits must land before the landing (which then merges
/// it), after it (on top of the new files), or fail on git's own
/// "index.lock': File exists".
#[test]
fn a_commit_racing_a_landing_never_reverts_it() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    let mut plan = String::from("# Tasks: Race\n\n## Phase 1\n\n");
    for n in 1..=RACE_TASKS {
        plan.push_str(&format!("- [ ] T{n:03} [P] Write `src/t{n}.txt`\n"));
    }
    let repo = TestRepo::with_files(&[(TASKS_FILE, plan.as_str()), ("README.md", "race\n")]);
    let main_ref = repo.path(".git/refs/heads/main");
    let (mut refused, mut stale, mut committed, mut retried) = (0, 0, 0, 0);
    for n in 1..=RACE_TASKS {
        let id = format!("T{n:03}");
        let wt = start(&repo, &[&id]).remove(0);
        commit_file(&repo, &wt, &format!("src/t{n}.txt"), &format!("task {n}\n"), false);
        let stop = AtomicBool::new(false);
        // How often the racer commits anyway: it backs off when it starves
        // the landing (a loaded machine makes the landing slower than it).
        let every_ms = std::sync::atomic::AtomicU64::new(30);
        let (outcomes, finished) = std::thread::scope(|s| {
            let racer = s.spawn(|| {
                let mut outcomes = Vec::new();
                let mut seen = std::fs::read_to_string(&main_ref).unwrap_or_default();
                let mut last = Instant::now();
                while !stop.load(Ordering::SeqCst) {
                    let now = std::fs::read_to_string(&main_ref).unwrap_or_default();
                    let every = Duration::from_millis(every_ms.load(Ordering::SeqCst));
                    if now != seen || last.elapsed() > every {
                        let args =
                            ["commit", "-a", "-q", "--allow-empty", "--no-verify", "-m", "racing commit"];
                        outcomes.push(repo.try_git_in(&repo.root, &args));
                        seen = std::fs::read_to_string(&main_ref).unwrap_or_default();
                        last = Instant::now();
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
                outcomes
            });
            let mut finished = repo.par(&["finish", &id]);
            // Commits that keep moving main can starve a landing (exit 3): retry.
            while finished.code == 3 && finished.stderr.contains("kept moving") {
                retried += 1;
                let every = every_ms.load(Ordering::SeqCst);
                assert!(every < 60_000, "finish {id} kept being starved: {}", finished.stderr);
                every_ms.store(every * 2, Ordering::SeqCst);
                finished = repo.par(&["finish", &id]);
            }
            stop.store(true, Ordering::SeqCst);
            (racer.join().unwrap(), finished)
        });
        assert_eq!(finished.code, 0, "finish {id}: {}", finished.stderr);
        for run in outcomes {
            if run.code == 0 {
                committed += 1;
            } else if run.stderr.contains("index.lock': File exists") {
                refused += 1;
            } else {
                // It read main before the landing moved it: git refuses to move
                // main from under the landing, and nothing is committed.
                assert!(
                    run.stderr.contains("fatal: cannot lock ref 'HEAD': is at "),
                    "a racing commit failed otherwise: {}",
                    run.stderr
                );
                stale += 1;
            }
        }
        // Every landing so far is still on main, and in its worktree.
        for m in 1..=n {
            let file = format!("src/t{m}.txt");
            assert_eq!(
                repo.git(&["show", &format!("main:{file}")]),
                format!("task {m}\n"),
                "round {n}: T{m:03} was reverted"
            );
        }
        assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "", "round {n}");
    }
    eprintln!(
        "{RACE_TASKS} landings raced by {committed} commits that went through, {refused} that met the index lock, \
         {stale} that git refused as based on the old main ({retried} finishes retried)"
    );
    assert!(committed > 0 && refused > 0, "the race did not happen: {committed} commits, {refused} refused");
}

// ---------------------------------------------------------------------------
// 6. Directory locks cover submodule pointers.

/// Stages a submodule pointer (a gitlink) at `path` in `wt`.
fn stage_gitlink(repo: &TestRepo, wt: &Path, path: &str) {
    let commit = repo.rev("HEAD");
    repo.git_in(wt, &["update-index", "--add", "--cacheinfo", &format!("160000,{commit},{path}")]);
}

#[test]
fn a_submodule_pointer_in_a_locked_directory_is_refused_by_the_hook_and_the_landing() {
    let repo = repo();
    repo.par(&["hook", "install"]).success();
    let wts = start(&repo, &["T006", "T001"]);
    stage_gitlink(&repo, &wts[1], "vendor/lib");
    let run = repo.try_git_in(&wts[1], &["commit", "-q", "-m", "vendor the lib"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        hostless(&run.stderr).contains("\n  vendor/lib: locked by T006 (tester@host)\n"),
        "{}",
        run.stderr
    );
    repo.git_in(&wts[1], &["commit", "-q", "--no-verify", "-m", "vendor the lib"]);
    let run = repo.par(&["finish", "T001"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        hostless(&run.stderr).contains("\n  vendor/lib: locked by T006 (tester@host)\n"),
        "{}",
        run.stderr
    );
    assert!(repo.git(&["ls-tree", "main", "vendor/lib"]).is_empty());
}

#[test]
fn moving_a_submodule_pointer_out_of_a_locked_directory_does_not_land() {
    let repo = repo();
    stage_gitlink(&repo, &repo.root, "vendor/lib");
    repo.git(&["commit", "-q", "-m", "the lib is a submodule"]);
    let wts = start(&repo, &["T006", "T002"]);
    // T002 moves the pointer elsewhere, with no hook to stop it.
    repo.git_in(&wts[1], &["rm", "-q", "--cached", "vendor/lib"]);
    stage_gitlink(&repo, &wts[1], "third_party/lib");
    repo.git_in(&wts[1], &["commit", "-q", "-m", "move the lib"]);
    let before = untouched(&repo, "T002");
    let run = repo.par(&["finish", "T002"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        hostless(&run.stderr).contains("\n  vendor/lib: locked by T006 (tester@host)\n"),
        "{}",
        run.stderr
    );
    assert_eq!(untouched(&repo, "T002"), before);
}

// ---------------------------------------------------------------------------
// 7. No lock of git-par's own is left stuck.

/// Runs `finish ID` with `GIT_PAR_TEST_CRASH_AT=point` (it aborts there, as a kill would).
fn crash_finish(repo: &TestRepo, id: &str, point: &str) {
    let out =
        repo.par_command(&repo.root, &["finish", id]).env("GIT_PAR_TEST_CRASH_AT", point).output().unwrap();
    assert!(!out.status.success(), "finish {id} was not cut at {point}");
}

#[test]
fn the_index_lock_of_a_killed_landing_is_removed_by_doctor_repair() {
    for (point, lands) in [("main-index-locked", false), ("main-moved", true)] {
        let repo = repo();
        let t1 = start(&repo, &["T001"]).remove(0);
        commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
        crash_finish(&repo, "T001", point);
        // git-par held the main worktree's index lock: git cannot commit.
        let lock = repo.path(".git/index.lock");
        assert!(lock.exists(), "{point}");
        let run = repo.try_git_in(&repo.root, &["commit", "-q", "--allow-empty", "-m", "blocked"]);
        assert!(run.stderr.contains("index.lock': File exists"), "{point}: {}", run.stderr);

        let run = repo.par(&["doctor"]);
        assert_eq!(run.code, 1, "{point}");
        assert!(
            run.stdout
                .contains(&format!("; it also removes the lock file the finish left, {}\n", lock.display())),
            "{point}: {}",
            run.stdout
        );
        assert!(!run.stdout.contains("git command is running"), "{point}: {}", run.stdout);
        repo.par(&["doctor", "--repair"]).success();
        assert!(!lock.exists(), "{point}");
        assert_eq!(repo.git(&["show", "main:src/a.txt"]) == "a by T001\n", lands, "{point}");
        assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "", "{point}");
        repo.git(&["commit", "-q", "--allow-empty", "-m", "git commits again"]);
    }
}

#[test]
fn another_processes_index_lock_is_left_alone() {
    let repo = repo();
    let t1 = start(&repo, &["T001"]).remove(0);
    commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
    crash_finish(&repo, "T001", "landing-commit");
    // Not git-par's: some git that is running, or died, holds it.
    let lock = repo.path(".git/index.lock");
    std::fs::write(&lock, "someone else's index").unwrap();
    let run = repo.par(&["doctor", "--repair"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("problem: {} exists: a git command is running", lock.display())),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), "someone else's index");
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active");
}

/// Runs `git par finish ID` under strace, killed (SIGKILL) by the kernel at
/// the first of `syscalls` on `lock`: what a `kill -9` at that very moment does.
fn finish_killed_at(repo: &TestRepo, id: &str, lock: &Path, syscalls: &str) -> Run {
    let out = crate::common::isolated("strace", &repo.home)
        .current_dir(&repo.root)
        .args(["-f", "-o", "/dev/null", "-P"])
        .arg(lock)
        .args(["-e", &format!("trace={syscalls}"), "-e", &format!("inject={syscalls}:signal=KILL"), "--"])
        .arg(crate::common::bin())
        .args(["finish", id])
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

#[test]
fn a_landing_killed_while_libgit2_moved_main_leaves_no_ref_lock_after_repair() {
    if !strace_works() {
        eprintln!("skipped: strace is not available here");
        return;
    }
    let repo = repo();
    let t1 = start(&repo, &["T001"]).remove(0);
    commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
    let main = repo.rev("main");
    let lock = repo.path(".git/refs/heads/main.lock");
    let run = finish_killed_at(&repo, "T001", &lock, "rename,renameat,renameat2");
    assert_ne!(run.code, 0, "{}", run.stderr);
    // libgit2 had written the landing into main's lock and not yet renamed it.
    let written = std::fs::read_to_string(&lock).expect("main.lock is left");
    assert_eq!(repo.rev("main"), main);
    let blocked = repo.try_git_in(&repo.root, &["commit", "-q", "--allow-empty", "-m", "blocked"]);
    assert_ne!(blocked.code, 0);
    let journal: serde_json::Value = serde_json::from_str(&repo.read(".git/par/journal/T001.json")).unwrap();
    assert_eq!(journal["landing"].as_str(), Some(written.trim()));

    repo.par(&["doctor", "--repair"]).success();
    assert!(!lock.exists());
    assert_eq!(repo.rev("main"), main, "not landed: rolled back");
    assert_eq!(state(&repo)["tasks"]["T001"]["state"], "active");
    repo.par(&["finish", "T001"]).success();
    repo.git(&["commit", "-q", "--allow-empty", "-m", "git commits again"]);
}

#[test]
fn a_landing_killed_as_it_let_go_of_main_worktrees_index_lock_is_completed_by_doctor() {
    if !strace_works() {
        eprintln!("skipped: strace is not available here");
        return;
    }
    let repo = repo();
    let t1 = start(&repo, &["T001"]).remove(0);
    commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
    let lock = repo.path(".git/index.lock");
    let run = finish_killed_at(&repo, "T001", &lock, "unlink,unlinkat");
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(lock.exists(), "killed as it removed the lock");
    assert_eq!(repo.git(&["show", "main:src/a.txt"]), "a by T001\n", "main had moved");
    repo.par(&["doctor", "--repair"]).success();
    assert!(!lock.exists());
    assert_eq!(repo.git(&["show", "main:src/a.txt"]), "a by T001\n");
    assert_eq!(repo.read("src/a.txt"), "a by T001\n");
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
    repo.git(&["commit", "-q", "--allow-empty", "-m", "git commits again"]);
}

// ---------------------------------------------------------------------------
// 4. tasks.md from a task branch: only the task's own checkbox and result line.

#[test]
fn a_task_branch_changes_only_its_own_entry_in_tasks_md() {
    let repo = repo();
    let t3 = start(&repo, &["T003"]).remove(0);
    commit_file(&repo, &t3, "src/c.txt", "c by T003\n", false);
    repo.par(&["finish", "T003"]).success();
    let main_plan = repo.git(&["show", &format!("main:{TASKS_FILE}")]);
    let t1 = start(&repo, &["T001"]).remove(0);
    commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
    // The agent ticks itself, and also: ticks T002, unticks T003, moves T004
    // onto T001's file, and adds a task (a duplicate of its own ID) and another.
    let edited = main_plan
        .replace("- [ ] T001 [P] Edit `src/a.txt`", "- [x] T001 [P] Edit `src/a.txt`")
        .replace("- [ ] T002 [P] Edit `src/b.txt`", "- [x] T002 [P] Edit `src/b.txt`")
        .replace("- [X] T003 [P] Edit `src/c.txt`", "- [ ] T003 [P] Edit `src/c.txt`")
        .replace("- [ ] T004 [P] Fill `src/data/`", "- [ ] T004 [P] Fill `src/data/` and `src/a.txt`")
        + "- [ ] T001 [P] Sneak in `src/b.txt`\n- [ ] T099 [P] Invent work in `src/z.txt`\n";
    commit_file(&repo, &t1, TASKS_FILE, &edited, false);

    let run = repo.par(&["finish", "T001"]).success();
    let landed = repo.git(&["show", &format!("main:{TASKS_FILE}")]);
    let want = main_plan.replace(
        "- [ ] T001 [P] Edit `src/a.txt`\n",
        &format!(
            // Its own tick is the landing's: with two T001 lines on the branch, which is its own is unclear.
            "- [X] T001 [P] Edit `src/a.txt`\n  - par: merged {} (2 commits, 1 file) · logs/parallel/T001.log\n",
            &repo.rev("main^2")[..7]
        ),
    );
    assert_eq!(landed, want);
    assert_eq!(repo.read(TASKS_FILE), landed);
    assert!(
        run.stderr.starts_with(
            "warning: edits of T001 to tasks.md outside its own checkbox were dropped (git-par owns the task file):\n\
             --- tasks.md (landed)\n+++ tasks.md (task branch)\n"
        ),
        "{}",
        run.stderr
    );
    for line in [
        "+- [x] T002 [P] Edit `src/b.txt`",
        "+- [ ] T003 [P] Edit `src/c.txt`",
        "+- [ ] T004 [P] Fill `src/data/` and `src/a.txt`",
        "+- [ ] T001 [P] Sneak in `src/b.txt`",
        "+- [ ] T099 [P] Invent work in `src/z.txt`",
    ] {
        assert!(run.stderr.contains(&format!("\n{line}\n")), "{line} not shown as dropped:\n{}", run.stderr);
    }
    // The plan still reads as before: T002 to do, T003 done, T004 on src/data/ only.
    let listed = repo.par(&["--json", "list"]).success().json();
    let tasks = listed["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 6);
    assert_eq!(tasks[1]["state"], "todo");
    assert_eq!(tasks[2]["state"], "done");
    assert_eq!(tasks[3]["paths"], json!(["src/data/"]));
}

#[test]
fn a_tasks_md_that_would_not_parse_or_is_gone_never_lands() {
    for (what, damage) in [("not UTF-8", Some(&b"- [ ] T001 \xff\xfe broken\n"[..])), ("deleted", None)] {
        let repo = repo();
        let t1 = start(&repo, &["T001"]).remove(0);
        commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
        match damage {
            Some(bytes) => std::fs::write(t1.join(TASKS_FILE), bytes).unwrap(),
            None => std::fs::remove_file(t1.join(TASKS_FILE)).unwrap(),
        }
        repo.git_in(&t1, &["add", "-A"]);
        repo.git_in(&t1, &["commit", "-q", "-m", "damage tasks.md"]);
        repo.par(&["finish", "T001"]).success();
        let landed = repo.git(&["show", &format!("main:{TASKS_FILE}")]);
        assert!(landed.starts_with(PLAN.split("- [ ] T001").next().unwrap()), "{what}: {landed}");
        assert!(landed.contains("- [X] T001 [P] Edit `src/a.txt`\n  - par: merged "), "{what}: {landed}");
        assert!(landed.contains("- [ ] T006 [P] Update the submodule"), "{what}: {landed}");
        repo.par(&["list"]).success();
    }
}

// ---------------------------------------------------------------------------
// 5. Text from tasks.md or from paths never runs and never controls the terminal.

#[test]
fn the_command_template_is_filled_in_one_pass_with_quoted_words() {
    // (A path holding `{tests}` itself is refused by the path reader as a
    // placeholder; the one-pass fill has its unit test in workflow.rs.)
    let plan = "# T\n\n## P\n\n- [ ] T001 [P] Edit [paths: tests/test_a;b.py]\n";
    let repo = TestRepo::with_files(&[(TASKS_FILE, plan), ("README.md", "x\n")]);
    repo.git(&["config", "par.command", "run {id} {paths} -- {tests}"]);
    let shown = repo.par(&["--json", "show", "T001"]).success().json();
    assert_eq!(shown["tasks"][0]["paths"], json!(["tests/test_a;b.py"]));
    assert_eq!(shown["tasks"][0]["command"], "run T001 'tests/test_a;b.py' -- 'tests/test_a;b.py'");
}

/// Control characters a terminal would act on: ESC (colors, clear screen,
/// OSC title), BEL, CR (overwrite the line), and CSI as one C1 character.
const CONTROLS: [char; 4] = ['\x1b', '\x07', '\r', '\u{9b}'];

#[track_caller]
fn assert_inert(what: &str, text: &str) {
    assert!(!text.contains(CONTROLS), "{what} lets control characters through:\n{text:?}");
}

#[test]
fn control_characters_from_tasks_md_and_paths_never_reach_the_terminal() {
    let evil = "Clear \x1b[2J title \x1b]0;pwned\x07 over\rwrite csi \u{9b}31m";
    let plan = format!(
        "# Tasks\n\n## Phase 1\n\n- [ ] T001 [P] {evil} in `src/a.txt`\n- [ ] T002 [P] Edit `src/b.txt`\n"
    );
    let repo =
        TestRepo::with_files(&[(TASKS_FILE, plan.as_str()), ("src/a.txt", "a\n"), ("src/b.txt", "b\n")]);
    repo.par(&["hook", "install"]).success();
    let odd_path = "src/\x1b]0;path\x07\x1b[31mred.txt";
    repo.par(&["start", "T001", "--path", odd_path]).success();
    repo.par(&["start", "T002"]).success();
    let t1 = repo.worktree("T001");

    for args in [
        &["list"][..],
        &["list", "--all"],
        &["show", "T001"],
        &["plan"],
        &["ready"],
        &["lock-status"],
        &["deps", "--format", "mermaid"],
    ] {
        let run = repo.par(args);
        assert_inert(&format!("{args:?}"), &run.stdout);
        assert_inert(&format!("{args:?}"), &run.stderr);
    }
    let shown = repo.par(&["show", "T001"]).success();
    assert!(
        shown.stdout.contains("Clear \\x1b[2J title \\x1b]0;pwned\\x07 over\\x0dwrite csi \\u{9b}31m"),
        "{}",
        shown.stdout
    );
    // JSON keeps the exact text, every control character escaped as JSON escapes it.
    let listed = repo.par(&["--json", "list"]).success();
    assert_inert("list --json", &listed.stdout);
    assert!(listed.json()["tasks"][0]["description"].as_str().unwrap().contains(evil));

    // A hook refusal names the path as git-par sees it, written out.
    let stolen = t1.join("src/b\x1b[2J.txt");
    std::fs::write(&stolen, "x\n").unwrap();
    repo.git_in(&t1, &["add", "-A"]);
    let refused = repo.try_git_in(&t1, &["commit", "-q", "-m", "out of scope"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert_inert("the hook's refusal", &refused.stderr);
    assert!(refused.stderr.contains("src/b\\x1b[2J.txt"), "{}", refused.stderr);
    repo.git_in(&t1, &["reset", "-q", "--hard"]);
    std::fs::remove_file(&stolen).ok();

    // The task's files and commit subjects, in finish's messages and the landing commit.
    std::fs::write(t1.join(odd_path), "red\n").unwrap();
    std::fs::write(t1.join("src/a.txt"), "a by T001\n").unwrap();
    repo.git_in(&t1, &["add", "-A"]);
    repo.git_in(&t1, &["commit", "-q", "-m", "subject \x1b]8;;http://evil\x07link\x1b]8;;\x07"]);
    let dry = repo.par(&["finish", "T001", "--dry-run"]).success();
    assert_inert("finish --dry-run", &dry.stdout);
    assert_inert("finish --dry-run", &dry.stderr);
    let landed = repo.par(&["finish", "T001"]).success();
    assert_inert("finish", &landed.stdout);
    assert_inert("finish", &landed.stderr);
    let message = repo.git(&["log", "-1", "--format=%B", "main"]);
    assert_inert("the landing commit's message", &message);
    assert!(message.starts_with("T001: Clear \\x1b[2J title"), "{message}");
    let log = repo.read("logs/parallel/T001.log");
    assert_inert("the task's log", &log);
}

// ---------------------------------------------------------------------------
// 8. Messages that lead somewhere.

#[test]
fn abort_force_during_a_live_finish_is_refused_and_finish_says_what_happened() {
    let repo = repo();
    let t1 = start(&repo, &["T001"]).remove(0);
    commit_file(&repo, &t1, "src/a.txt", "a by T001\n", false);
    // While the finish verifies, an abort --force is refused: it would pull
    // the worktree from under the landing.
    let mut finishing = repo
        .par_command(&repo.root, &["finish", "T001", "--verify", "sleep 1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !repo.read(".git/par/state.json").contains("\"finishing\"") && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let run = repo.par(&["abort", "T001", "--force"]);
    assert_eq!(
        run.refusal_in(&repo),
        "exit 1\n\
         error: T001 is being finished right now (`git par finish T001` holds the merge queue)\n\
         hint: wait for it to land or stop; if it hangs, stop that process, run `git par doctor --repair`, then `git par abort T001`\n"
    );
    assert!(finishing.wait().unwrap().success());

    // An abort (here: its locks broken and its worktree removed) that gets in
    // anyway, while the landing verifies, gives a finish that says so.
    let t2 = start(&repo, &["T002"]).remove(0);
    commit_file(&repo, &t2, "src/b.txt", "b by T002\n", false);
    let verify =
        format!("git par unlock T002 --force >/dev/null 2>&1; git worktree remove --force {}", t2.display());
    let main = repo.rev("main");
    let run = repo.par(&["finish", "T002", "--verify", &verify]);
    assert_eq!(
        run.refusal_in(&repo),
        format!("exit 1\nVerifying: {}\n", repo.normalize(&verify))
            + "error: T002 was aborted (or its locks broken) while it was being finished; nothing landed\n\
         hint: `git par lock-status` shows the active tasks; `git par start T002` starts it again\n"
    );
    assert!(!run.stderr.contains("No such file or directory"));
    assert_eq!(repo.rev("main"), main);
    repo.par(&["doctor"]);
    assert!(!repo.path(".git/par/journal/T002.json").exists());
}

#[test]
fn doctor_on_a_moved_worktree_says_how_to_move_it_back() {
    let repo = repo();
    let t1 = start(&repo, &["T001"]).remove(0);
    let elsewhere = repo.tmp.path().join("elsewhere");
    repo.git(&["worktree", "move", t1.to_str().unwrap(), elsewhere.to_str().unwrap()]);
    let run = repo.par(&["doctor"]);
    assert_eq!(
        run.refusal_in(&repo),
        "exit 1\nerror: 1 problem found\nhint: 1 needs a person: follow its `fix:` lines\n"
    );
    assert_eq!(
        repo.normalize(&run.stdout),
        "problem: T001's worktree is not at [TMP]/repo.par/T001 but at [TMP]/elsewhere (moved with `git worktree move`?)\n  \
         fix: move it back where git-par keeps it: `git worktree move [TMP]/elsewhere [TMP]/repo.par/T001`\n"
    );
    // finish and abort say the same, rather than suggest a `git worktree add` git refuses.
    commit_file(&repo, &elsewhere, "src/a.txt", "a by T001\n", false);
    for (verb, args) in [("finish", &["finish", "T001"][..]), ("abort", &["abort", "T001", "--force"])] {
        let run = repo.par(args);
        assert_eq!(
            run.refusal_in(&repo),
            format!(
                "exit 1\n\
                 error: the worktree of T001 is not at [TMP]/repo.par/T001 but at [TMP]/elsewhere (moved with `git worktree move`?)\n\
                 hint: move it back where git-par keeps it: `git worktree move [TMP]/elsewhere [TMP]/repo.par/T001`, then run `git par {verb} T001` again\n"
            )
        );
    }
    // The suggested command works.
    repo.git(&["worktree", "move", elsewhere.to_str().unwrap(), t1.to_str().unwrap()]);
    repo.par(&["doctor"]).success();
    repo.par(&["finish", "T001"]).success();
}

#[test]
fn a_task_file_that_is_a_symlink_or_outside_the_repository_is_refused() {
    let repo = repo();
    let outside = repo.tmp.path().join("plan.md");
    std::fs::write(&outside, PLAN).unwrap();
    let run = repo.par(&["--tasks", outside.to_str().unwrap(), "start", "T001"]);
    assert_eq!(
        run.refusal_in(&repo),
        "exit 1\n\
         error: the task file [TMP]/plan.md is outside the repository at [TMP]/repo\n\
         hint: git-par ticks the task file in the landing commit: keep it in the repository (e.g. specs/NNN-feature/tasks.md) and pass that with --tasks\n"
    );
    assert!(!repo.path(".git/par/state.json").exists() || state(&repo)["tasks"] == json!({}));

    std::fs::remove_file(repo.path(TASKS_FILE)).unwrap();
    std::os::unix::fs::symlink(&outside, repo.path(TASKS_FILE)).unwrap();
    repo.commit_all("tasks.md is a link");
    let run = repo.par(&["start", "T001"]);
    assert_eq!(
        run.refusal_in(&repo),
        "exit 1\n\
         error: the task file specs/001-demo/tasks.md is a symbolic link (to [TMP]/plan.md)\n\
         hint: git-par ticks the task file in the landing commit and never writes through a link: make it the file itself\n"
    );
}

#[test]
fn start_and_hook_status_warn_when_commits_go_unchecked() {
    let repo = repo();
    let run = repo.par(&["start", "T001"]).success();
    assert!(
        run.stderr.contains(
            "warning: no git-par pre-commit hook is installed, so commits in T001's worktree are not checked against the locks (finish still checks what lands)\n\
             hint: install it with `git par hook install`\n"
        ),
        "{}",
        run.stderr
    );
    let run = repo.par(&["hook", "status"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(
            "warning: 1 task is active (T001) and its commits are not checked against the locks (finish still checks what lands)\n"
        ),
        "{}",
        run.stderr
    );
    repo.par(&["hook", "install"]).success();
    let run = repo.par(&["start", "T002"]).success();
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
    let run = repo.par(&["hook", "status"]).success();
    assert!(!run.stderr.contains("warning:"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------
// Beyond the list: other routes around the hook, kills at other moments.

/// Each route brings T001's file (which T001 holds) onto T002's branch
/// without a pre-commit hook ever seeing it; the landing must refuse it.
#[test]
fn other_routes_around_the_hook_are_refused_at_the_landing() {
    let routes: [&str; 5] = ["stash then fast-forward", "reset --soft", "revert", "pull", "merge"];
    for route in routes {
        let repo = repo();
        repo.par(&["hook", "install"]).success();
        // A commit on main that changed src/a.txt, for revert to undo.
        repo.write("src/a.txt", "a, changed on main\n");
        repo.commit_all("main changes a.txt");
        let wts = start(&repo, &["T001", "T002"]);
        let (t1, t2) = (&wts[0], &wts[1]);
        commit_file(&repo, t1, "src/a.txt", "a by T001\n", false);
        match route {
            "stash then fast-forward" => {
                std::fs::write(t2.join("src/a.txt"), "a, stashed by T002\n").unwrap();
                repo.git_in(t2, &["stash", "-q"]);
                repo.git_in(t2, &["merge", "-q", "--ff-only", "stash@{0}"]);
            }
            "reset --soft" => {
                // The branch moves to T001's commit; the files follow without a commit.
                repo.git_in(t2, &["reset", "-q", "--soft", "par/T001"]);
                repo.git_in(t2, &["restore", "--staged", "--worktree", "."]);
            }
            "revert" => {
                repo.git_in(t2, &["revert", "--no-edit", "main"]);
            }
            "pull" => {
                repo.git_in(
                    t2,
                    &["pull", "-q", "--no-rebase", "--no-edit", repo.root.to_str().unwrap(), "par/T001"],
                );
            }
            _ => {
                repo.git_in(t2, &["merge", "-q", "--no-edit", "par/T001"]);
            }
        }
        let before = untouched(&repo, "T002");
        let run = repo.par(&["finish", "T002"]);
        assert_eq!(run.code, 3, "{route}: {}", run.stderr);
        assert!(
            hostless(&run.stderr).starts_with(
                "error: T002 cannot land: it changes a path another task holds\n  src/a.txt: locked by T001 (tester@host)\n"
            ),
            "{route}: {}",
            run.stderr
        );
        assert_eq!(untouched(&repo, "T002"), before, "{route}");
    }
}

#[test]
fn a_landing_killed_as_it_let_go_of_the_task_worktrees_index_lock_is_rolled_back_by_doctor() {
    if !strace_works() {
        eprintln!("skipped: strace is not available here");
        return;
    }
    let repo = repo();
    let wts = start(&repo, &["T001", "T002"]);
    commit_file(&repo, &wts[0], "src/a.txt", "a by T001\n", false);
    commit_file(&repo, &wts[1], "src/b.txt", "b by T002\n", false);
    repo.par(&["finish", "T001"]).success();
    let tip = repo.rev("par/T002");
    // Merging main into T002 updates T002's worktree under its index lock.
    let gitdir = repo.git_in(&wts[1], &["rev-parse", "--absolute-git-dir"]).trim().to_string();
    let lock = Path::new(&gitdir).join("index.lock");
    let run = finish_killed_at(&repo, "T002", &lock, "unlink,unlinkat");
    assert_ne!(run.code, 0, "{}", run.stderr);
    assert!(lock.exists());
    let blocked = repo.try_git_in(&wts[1], &["commit", "-q", "--allow-empty", "-m", "blocked"]);
    assert!(blocked.stderr.contains("index.lock': File exists"), "{}", blocked.stderr);
    repo.par(&["doctor", "--repair"]).success();
    assert!(!lock.exists());
    assert_eq!(repo.rev("par/T002"), tip, "rolled back");
    assert_eq!(repo.git_in(&wts[1], &["status", "--porcelain"]), "");
    repo.par(&["finish", "T002"]).success();
}
