//! Regressions found by torturing git-par (real processes racing start and
//! finish, `kill -9` at random moments of start, finish and abort), pinned
//! down one by one.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use git_par::state::Store;
use serde_json::Value;

use crate::common::{Run, TestRepo};

const TASKS_FILE: &str = "specs/001-demo/tasks.md";

fn read_state(path: &Path) -> Result<BTreeMap<String, Value>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("reading state.json: {e}")),
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("state.json does not parse ({e}):\n{text}"))?;
    let tasks = value["tasks"].as_object().ok_or_else(|| format!("state.json has no tasks:\n{text}"))?;
    Ok(tasks.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

const SMALL_PLAN: &str = "# Tasks: Small\n\n## Phase 1: Parallel\n\n\
- [ ] T001 [P] Write `src/one.txt`\n- [ ] T002 [P] Write `src/two.txt`\n- [ ] T003 [P] Write `src/three.txt`\n";

fn small() -> TestRepo {
    TestRepo::with_files(&[
        (TASKS_FILE, SMALL_PLAN),
        ("src/one.txt", "one\n"),
        ("src/two.txt", "two\n"),
        ("src/three.txt", "three\n"),
    ])
}

/// Starts `id` and commits a line to its file; returns the worktree.
fn started_with_work(repo: &TestRepo, id: &str, file: &str) -> PathBuf {
    repo.par(&["start", id]).success();
    let wt = repo.worktree(id);
    std::fs::write(wt.join(file), format!("{id} was here\n")).unwrap();
    repo.git_in(&wt, &["commit", "-q", "-am", &format!("{id}: work")]);
    wt
}

fn store(repo: &TestRepo) -> Store {
    Store::new(repo.path(".git/par"))
}

/// Spawns git-par with its output captured.
fn spawn(repo: &TestRepo, args: &[&str]) -> Child {
    repo.par_command(&repo.root, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

fn output(child: Child) -> Run {
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Waits until `path` exists or `child` exits (then its output is returned).
fn until_exists(path: &Path, child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() && Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(path.exists(), "{} never appeared", path.display());
    None
}

fn no_trace_of(repo: &TestRepo, id: &str) {
    let state = read_state(&repo.path(".git/par/state.json")).unwrap();
    assert!(!state.contains_key(id), "{id} is still in the state: {state:?}");
    assert_eq!(repo.git(&["branch", "--list", &format!("par/{id}")]), "");
    assert!(!repo.worktree(id).exists(), "{} is left", repo.worktree(id).display());
    let listed = repo.git(&["worktree", "list", "--porcelain"]);
    assert!(!listed.contains(&format!("worktree {}\n", repo.worktree(id).display())), "{listed}");
    let journal: Vec<_> =
        std::fs::read_dir(repo.path(".git/par/journal")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(journal.is_empty(), "{journal:?}");
}

/// A landing rewrites the main worktree's tasks.md in place (libgit2 truncates,
/// then writes): a start reading it then saw no tasks and failed with exit 1.
#[test]
fn a_start_waits_while_a_landing_rewrites_tasks_md() {
    let repo = small();
    repo.par(&["start", "T001"]).success();
    let text = repo.read(TASKS_FILE);
    let child = store(&repo)
        .with_lock(git_par::land::SYNC_LOCK, || {
            // Half written, as a landing leaves it for a moment.
            std::fs::write(repo.path(TASKS_FILE), "").unwrap();
            let child = spawn(&repo, &["start", "T002"]);
            std::thread::sleep(Duration::from_millis(400));
            std::fs::write(repo.path(TASKS_FILE), &text).unwrap();
            Ok(child)
        })
        .unwrap();
    let run = output(child).success();
    assert_eq!(run.stdout, format!("{}\n", repo.worktree("T002").display()));
}

/// A task that lands between a start reading tasks.md and recording the task
/// was started again (and could land twice).
#[test]
fn a_task_that_lands_while_it_is_being_started_is_not_started() {
    let repo = small();
    repo.par(&["start", "T003"]).success();
    let intent = repo.path(".git/par/journal/T001.start");
    let run = store(&repo)
        .with_lock("state.lock", || {
            let mut child = spawn(&repo, &["start", "T001"]);
            // It has read tasks.md and the state; it waits for the state lock.
            if until_exists(&intent, &mut child).is_none() {
                // Meanwhile T001 was started, finished and released elsewhere.
                let landed = repo.read(TASKS_FILE).replace("- [ ] T001", "- [X] T001");
                std::fs::write(repo.path(TASKS_FILE), landed).unwrap();
            }
            Ok(child)
        })
        .map(output)
        .unwrap();
    assert_eq!(
        run.snapshot(),
        "exit: 1\n--- stdout\n--- stderr\n\
         error: T001 is already done in specs/001-demo/tasks.md\n\
         hint: untick it in specs/001-demo/tasks.md to do it again\n"
    );
    no_trace_of(&repo, "T001");
}

/// Two starts of one task: the loser saw the winner's new worktree before it
/// saw the winner's state entry, and told the user to remove the directory.
#[test]
fn the_loser_of_two_starts_of_one_task_is_told_it_is_active() {
    let repo = small();
    repo.par(&["start", "T001"]).success();
    let with_t001 = repo.read(".git/par/state.json");
    let state: Value = serde_json::from_str(&with_t001).unwrap();
    let mut without = state.clone();
    without["tasks"].as_object_mut().unwrap().remove("T001");
    // As the loser saw it: the winner's worktree made, its entry not yet.
    std::fs::write(repo.path(".git/par/state.json"), without.to_string()).unwrap();
    let intent = repo.path(".git/par/journal/T001.start");
    let run = store(&repo)
        .with_lock("state.lock", || {
            let mut child = spawn(&repo, &["start", "T001"]);
            until_exists(&intent, &mut child);
            std::fs::write(repo.path(".git/par/state.json"), &with_t001).unwrap();
            Ok(child)
        })
        .map(output)
        .unwrap();
    let wt = repo.worktree("T001");
    assert_eq!(
        run.snapshot(),
        format!(
            "exit: 1\n--- stdout\n--- stderr\n\
             error: T001 is already active (branch par/T001, worktree {}, started by tester@{})\n\
             hint: work in it: cd {}\n\
             hint: or stop it with `git par abort T001`\n",
            wt.display(),
            state["tasks"]["T001"]["owner"]["host"].as_str().unwrap(),
            wt.display()
        )
    );
    assert!(wt.join(".git").exists(), "the winner's worktree is untouched");
}

fn crashed(repo: &TestRepo, args: &[&str], point: &str) {
    let out = repo.par_command(&repo.root, args).env("GIT_PAR_TEST_CRASH_AT", point).output().unwrap();
    assert_eq!(out.status.code(), None, "{args:?} did not die at {point}");
}

/// A start killed inside `git worktree add -b` leaves a branch, a locked
/// record git cannot even read (no `commondir` yet) and half a directory:
/// `doctor` failed on `git worktree list` and its lock stayed taken.
#[test]
fn doctor_undoes_a_start_killed_inside_git_worktree_add() {
    let repo = small();
    crashed(&repo, &["start", "T001"], "start-recorded");
    // What git had made when it died.
    let wt = repo.worktree("T001");
    let record = repo.path(".git/worktrees/T001");
    repo.git(&["branch", "par/T001"]);
    std::fs::create_dir_all(&record).unwrap();
    std::fs::write(record.join("locked"), "initializing").unwrap();
    std::fs::write(record.join("gitdir"), format!("{}/.git\n", wt.display())).unwrap();
    // Created, not yet written.
    std::fs::write(record.join("commondir"), "").unwrap();
    std::fs::create_dir_all(&wt).unwrap();
    std::fs::write(wt.join(".git"), format!("gitdir: {}\n", record.display())).unwrap();
    assert_ne!(repo.try_git_in(&repo.root, &["worktree", "list"]).code, 0, "git itself is stuck");

    let run = repo.par(&["doctor"]).code(1);
    assert!(run.stdout.starts_with("problem: `git par start T001` was interrupted (pid "), "{}", run.stdout);
    let run = repo.par(&["doctor", "--repair"]).success();
    assert!(run.stdout.contains("(undid the start; T001 is not active)\n"), "{}", run.stdout);
    no_trace_of(&repo, "T001");
    repo.par(&["doctor"]).success();
    repo.par(&["start", "T001"]).success();
}

/// An abort killed between removing the worktree and dropping the task left
/// the task active without its worktree, which `--repair` would not touch.
#[test]
fn doctor_completes_an_abort_killed_half_way() {
    for (point, keep) in
        [("abort-worktree-removed", false), ("abort-branch-deleted", false), ("abort-worktree-removed", true)]
    {
        let repo = small();
        started_with_work(&repo, "T002", "src/two.txt");
        let tip = repo.rev("par/T002");
        let mut args = vec!["abort", "T002", "--force"];
        if keep {
            args.push("--keep-branch");
        }
        crashed(&repo, &args, point);
        let run = repo.par(&["doctor", "--repair"]).success();
        assert!(run.stdout.contains("(completed the abort of T002)\n"), "{point}: {}", run.stdout);
        repo.par(&["doctor"]).success();
        let state = read_state(&repo.path(".git/par/state.json")).unwrap();
        assert!(state.is_empty(), "{point}: {state:?}");
        assert!(!repo.worktree("T002").exists(), "{point}");
        let branch = repo.git(&["branch", "--list", "par/T002"]);
        assert_eq!(branch.is_empty(), !keep, "{point}: {branch}");
        if keep {
            assert_eq!(repo.rev("par/T002"), tip);
        }
        let abort = std::fs::read_to_string(repo.path(".git/par/events.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"event\":\"abort\""))
            .count();
        assert_eq!(abort, 1, "{point}: one abort event");
        repo.par(&["start", "T002"]).code(if keep { 1 } else { 0 });
    }
}

/// A finish killed while it rewrote a landed file in the main worktree
/// leaves it truncated; the checkout of the repair took that for a local
/// change and stopped, so the landing could never be completed.
#[test]
fn doctor_completes_a_landing_killed_while_it_wrote_a_file() {
    let repo = small();
    started_with_work(&repo, "T001", "src/one.txt");
    crashed(&repo, &["finish", "T001"], "main-moved");
    std::fs::write(repo.path("src/one.txt"), "").unwrap();
    repo.par(&["doctor", "--repair"]).success();
    assert_eq!(repo.read("src/one.txt"), "T001 was here\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    no_trace_of(&repo, "T001");
}

/// A finish killed while libgit2 removed the landed worktree leaves half of
/// git's record; the repair could not remove it, and the branch it still
/// held was never deleted.
#[test]
fn doctor_completes_a_landing_killed_while_it_removed_the_worktree() {
    for lost in ["gitdir", "HEAD", "commondir"] {
        let repo = small();
        let wt = started_with_work(&repo, "T001", "src/one.txt");
        crashed(&repo, &["finish", "T001"], "released");
        std::fs::remove_file(repo.path(&format!(".git/worktrees/T001/{lost}"))).unwrap();
        std::fs::remove_file(wt.join("src/two.txt")).unwrap();
        let run = repo.par(&["doctor", "--repair"]);
        assert_eq!(run.code, 0, "{lost}: {}", run.snapshot());
        no_trace_of(&repo, "T001");
        repo.par(&["doctor"]).success();
    }
}

/// A finish killed after main moved but before the main worktree followed
/// made the next finish refuse over "uncommitted changes" to tasks.md and
/// hint to commit or stash them, which would have undone the first landing.
#[test]
fn a_finish_after_a_landing_that_died_half_way_asks_for_the_repair() {
    let repo = small();
    started_with_work(&repo, "T001", "src/one.txt");
    started_with_work(&repo, "T002", "src/two.txt");
    crashed(&repo, &["finish", "T001"], "main-moved");
    let run = repo.par(&["finish", "T002"]);
    assert_eq!(
        run.snapshot(),
        "exit: 1\n--- stdout\n--- stderr\n\
         error: T001 landed on main, but its finish died before updating the main worktree\n\
         hint: run `git par doctor --repair` to complete it (do not commit or stash what `git status` shows there)\n\
         hint: then run `git par finish T002` again\n"
    );
    repo.par(&["doctor", "--repair"]).success();
    repo.par(&["finish", "T002"]).success();
    assert_eq!(repo.read("src/one.txt"), "T001 was here\n");
    assert_eq!(repo.read("src/two.txt"), "T002 was here\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

/// A start, abort or finish killed while it wrote its intent or journal
/// leaves the temporary file, which doctor did not know.
#[test]
fn doctor_removes_the_temporary_journals_of_the_dead() {
    let repo = small();
    repo.par(&["start", "T001"]).success();
    let journal = repo.path(".git/par/journal");
    std::fs::create_dir_all(&journal).unwrap();
    for name in [".T002.start.tmp", ".T001.abort.tmp", ".T001.json.tmp"] {
        std::fs::write(journal.join(name), "{\"ta").unwrap();
    }
    let run = repo.par(&["doctor"]).code(1);
    assert_eq!(
        run.stdout.matches("was left by a git-par that died while writing").count(),
        3,
        "{}",
        run.stdout
    );
    repo.par(&["doctor", "--repair"]).success();
    assert_eq!(std::fs::read_dir(&journal).unwrap().count(), 0);
    repo.par(&["doctor"]).success();
}

/// A start killed while `git branch` held the new branch's ref lock: git
/// refuses the branch until the lock is gone, and the repair failed on it.
#[test]
fn doctor_undoes_a_start_killed_while_git_created_its_branch() {
    let repo = small();
    crashed(&repo, &["start", "T001"], "start-recorded");
    repo.git(&["branch", "par/T001"]);
    let tip = repo.rev("par/T001");
    std::fs::write(repo.path(".git/refs/heads/par/T001.lock"), format!("{tip}\n")).unwrap();
    repo.par(&["doctor", "--repair"]).success();
    no_trace_of(&repo, "T001");
    assert!(!repo.path(".git/refs/heads/par/T001.lock").exists());
    repo.par(&["start", "T001"]).success();
}

/// `abort` read the worktree with `git status`, which rewrites the index
/// under `index.lock` when file times changed: killed there, it left the lock
/// and every later `git add` in the worktree failed (and, running, it could
/// make the user's own `git add` fail).
#[test]
fn abort_reads_a_worktree_without_taking_its_index_lock() {
    let repo = small();
    let wt = started_with_work(&repo, "T001", "src/one.txt");
    let index = PathBuf::from(
        repo.git_in(&wt, &["rev-parse", "--path-format=absolute", "--git-path", "index"]).trim(),
    );
    // Same content, new times: `git status` would refresh the index and write it.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(wt.join("src/one.txt"), "T001 was here\n").unwrap();
    let before = std::fs::read(&index).unwrap();
    let run = repo.par(&["abort", "T001"]).code(1);
    assert!(run.stderr.starts_with("error: aborting T001 would lose 1 commit"), "{}", run.stderr);
    assert_eq!(std::fs::read(&index).unwrap(), before, "the index was rewritten");
}

/// A finish killed while it moved main leaves `refs/heads/main.lock`; every
/// later finish then said "main kept moving ... something outside git-par is
/// committing to main" (exit 3, retry forever), and doctor saw nothing.
#[test]
fn a_lock_left_on_main_is_named_by_finish_and_doctor() {
    let repo = small();
    started_with_work(&repo, "T001", "src/one.txt");
    let lock = repo.path(".git/refs/heads/main.lock");
    std::fs::write(&lock, format!("{}\n", repo.rev("main"))).unwrap();
    let run = repo.par(&["finish", "T001"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.ends_with(&format!(
            "error: main is locked: {} exists\n\
             hint: a git command is moving it, or one died while it did; if none is running, remove that file\n\
             hint: then run `git par finish T001` again\n",
            lock.display()
        )),
        "{}",
        run.stderr
    );
    let run = repo.par(&["doctor"]).code(1);
    assert!(
        run.stdout
            .contains(&format!("  fix: if no git command is running, remove it: `rm {}`\n", lock.display())),
        "{}",
        run.stdout
    );
    std::fs::remove_file(&lock).unwrap();
    repo.par(&["doctor"]).success();
    repo.par(&["finish", "T001"]).success();
}

/// A finish killed while it checked out a file the landing adds left it in
/// the main worktree, not yet in the index: the repair's checkout took it for
/// an untracked file in the way and stopped.
#[test]
fn doctor_completes_a_landing_killed_after_it_wrote_a_new_file() {
    for written in ["T001 adds this\n", "T001 add", ""] {
        let repo = small();
        repo.par(&["start", "T001", "--path", "src/new.txt"]).success();
        let wt = repo.worktree("T001");
        std::fs::write(wt.join("src/new.txt"), "T001 adds this\n").unwrap();
        repo.git_in(&wt, &["add", "-A"]);
        repo.git_in(&wt, &["commit", "-q", "-m", "T001: add"]);
        crashed(&repo, &["finish", "T001"], "main-moved");
        std::fs::write(repo.path("src/new.txt"), written).unwrap();
        let run = repo.par(&["doctor", "--repair"]);
        assert_eq!(run.code, 0, "{written:?}: {}", run.snapshot());
        assert_eq!(repo.read("src/new.txt"), "T001 adds this\n");
        assert_eq!(repo.git(&["status", "--porcelain"]), "", "{written:?}");
        no_trace_of(&repo, "T001");
    }
}

/// A start killed as `git worktree add` began leaves a record holding only
/// (part of) its `locked` file: git ignores it, but libgit2 then refused to
/// delete the task's branch ("the current HEAD of a linked repository").
#[test]
fn doctor_undoes_a_start_killed_as_git_worktree_add_began() {
    let repo = small();
    crashed(&repo, &["start", "T001"], "start-recorded");
    repo.git(&["branch", "par/T001"]);
    for (record, locked) in [("T001", ""), ("T0011", "initializing")] {
        let record = repo.path(&format!(".git/worktrees/{record}"));
        std::fs::create_dir_all(&record).unwrap();
        std::fs::write(record.join("locked"), locked).unwrap();
    }
    let run = repo.par(&["doctor", "--repair"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    no_trace_of(&repo, "T001");
    assert!(!repo.path(".git/worktrees/T001").exists() && !repo.path(".git/worktrees/T0011").exists());
    repo.par(&["start", "T001"]).success();
}

/// A `git worktree add` killed while it deleted a ref leaves
/// `packed-refs.lock`: every later `git worktree add` then waited two seconds
/// for it and `git branch -D` failed, and doctor saw nothing.
#[test]
fn doctor_names_a_packed_refs_lock_git_left() {
    let repo = small();
    repo.par(&["start", "T001"]).success();
    let lock = repo.path(".git/packed-refs.lock");
    std::fs::write(&lock, "").unwrap();
    let run = repo.par(&["doctor", "--repair"]).code(1);
    assert_eq!(
        run.stdout,
        format!(
            "problem: {lock} exists: a git command is running, or one died and left it\n  \
               fix: if no git command is running, remove it: `rm {lock}`\n",
            lock = lock.display()
        )
    );
    std::fs::remove_file(&lock).unwrap();
    repo.par(&["doctor"]).success();
}
