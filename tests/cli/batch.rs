//! Batches (issue 16 point 2, DESIGN §6 "Trains"): several IDs given to one
//! `finish` land with one verify of their combined tree, main moved once,
//! bisecting on failure; each task its own landing commit and tick.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::common::TestRepo;

const TASKS_FILE: &str = "specs/001-demo/tasks.md";

fn tasks(n: usize) -> String {
    let mut text = String::from("# Tasks: Demo\n\n## Phase 1: Parallel work\n\n");
    for i in 1..=n {
        text.push_str(&format!("- [ ] T{i:03} [P] Create src/t{i}.txt\n"));
    }
    text
}

/// A repository with `n` started tasks, each with one commit of its own file.
fn repo_with_work(n: usize) -> (TestRepo, Vec<String>) {
    let repo = TestRepo::with_tasks(&tasks(n));
    let ids: Vec<String> = (1..=n).map(|i| format!("T{i:03}")).collect();
    for (i, id) in ids.iter().enumerate() {
        repo.task_with_commit(id, &format!("src/t{}.txt", i + 1), &format!("task {}\n", i + 1), "work");
    }
    (repo, ids)
}

/// A verify that records the tree it runs on in `log` (outside the
/// repository), and whether it passed: it fails when `failing_file` is in it.
fn verify_command(log: &Path, failing_file: &str) -> String {
    format!(
        "tree=$(git rev-parse 'HEAD^{{tree}}'); if test -e '{failing_file}'; then echo \"$tree fail\" >> '{log}'; exit 1; fi; echo \"$tree pass\" >> '{log}'",
        log = log.display()
    )
}

/// Every tree a verify ran on, in order.
fn verified_trees(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The trees a verify passed on.
fn passed_trees(log: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.ends_with(" pass"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The tasks landed on main, oldest first, by their landing commits' trailers.
fn landed(repo: &TestRepo) -> Vec<String> {
    let log = repo.git(&[
        "log",
        "--first-parent",
        "--reverse",
        "--format=%(trailers:key=Par-Task,valueonly)%x00",
        "main",
    ]);
    log.split('\0').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The trees main's ref pointed at, by its reflog: every place main was.
fn main_positions(repo: &TestRepo) -> Vec<(String, String)> {
    repo.git(&["reflog", "show", "--format=%T %gs", "refs/heads/main"])
        .lines()
        .map(|l| {
            let (tree, message) = l.split_once(' ').unwrap_or((l, ""));
            (tree.to_string(), message.to_string())
        })
        .collect()
}

fn state(repo: &TestRepo) -> serde_json::Value {
    serde_json::from_str(&repo.read(".git/par/state.json")).unwrap()
}

fn ticks(repo: &TestRepo, id: &str) -> usize {
    repo.git(&["show", &format!("main:{TASKS_FILE}")]).matches(&format!("- [X] {id} ")).count()
}

fn outside(repo: &TestRepo, name: &str) -> PathBuf {
    repo.root.parent().unwrap().join(name)
}

#[test]
fn a_batch_of_three_lands_with_one_verify_and_one_move_of_main() {
    let (repo, ids) = repo_with_work(3);
    let before = main_positions(&repo).len();
    let log = outside(&repo, "verified");
    let verify = verify_command(&log, "nothing-fails");
    let run = repo.par(&["finish", "T001", "T002", "T003", "--verify", &verify]).success();

    // One verify, of the combined tree, which is where main is now.
    let seen = verified_trees(&log);
    assert_eq!(seen.len(), 1, "{seen:?}\n{}", run.snapshot());
    assert_eq!(seen[0], repo.rev("main^{tree}"));
    // Main moved once, to that tree.
    let moves = main_positions(&repo);
    assert_eq!(moves.len(), before + 1, "{moves:?}");
    assert_eq!(moves[0].0, seen[0]);
    assert_eq!(moves[0].1, "git-par finish T001 T002 T003: a batch of 3");
    // Each task its own landing commit, trailer and tick, in the order given.
    assert_eq!(landed(&repo), ids);
    for id in &ids {
        assert_eq!(ticks(&repo, id), 1, "{id}");
        assert!(!repo.worktree(id).exists(), "{id}'s worktree was removed");
    }
    assert_eq!(state(&repo)["tasks"], serde_json::json!({}));
    // The main worktree has every file, and nothing is left behind.
    for i in 1..=3 {
        assert_eq!(repo.read(&format!("src/t{i}.txt")), format!("task {i}\n"));
    }
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
    assert!(!repo.root.join(".git/par/journal").read_dir().is_ok_and(|mut d| d.next().is_some()));
    // Human output: each task landed, one line on stdout per task.
    for id in &ids {
        assert!(run.stderr.contains(&format!("Landed {id} on main as ")), "{}", run.stderr);
    }
    assert!(run.stderr.contains("Verifying T001, T002, T003 together: "), "{}", run.stderr);
    assert!(run.stderr.contains("Landed 3 of 3 tasks (T001, T002, T003), 1 verify run"), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[2].ends_with(" T003") && repo.rev("main").starts_with(&lines[2][..40]), "{}", run.stdout);
    repo.git(&["fsck", "--no-progress", "--strict"]);
}

#[test]
fn a_failing_second_task_is_bisected_out_and_the_others_land() {
    let (repo, ids) = repo_with_work(3);
    let log = outside(&repo, "verified");
    let verify = verify_command(&log, "src/t2.txt");
    let run = repo.par(&["--json", "finish", "T001", "T002", "T003", "--verify", &verify]).code(1);

    assert_eq!(landed(&repo), ["T001", "T003"], "{}", run.snapshot());
    assert_eq!(state(&repo)["tasks"]["T002"]["state"], "active");
    // T002 as it was: its branch at its own tip, checked out in its worktree, clean.
    let t2 = repo.worktree("T002");
    assert_eq!(repo.git_in(&t2, &["rev-parse", "HEAD"]).trim(), repo.rev("par/T002"));
    assert_eq!(repo.git_in(&t2, &["log", "--format=%s", "-1"]).trim(), "work");
    assert_eq!(repo.git_in(&t2, &["status", "--porcelain"]), "");
    assert_eq!(ticks(&repo, "T002"), 0);
    assert_eq!((ticks(&repo, "T001"), ticks(&repo, "T003")), (1, 1));
    // Main only ever moved to trees a verify saw (and never to one with t2).
    let seen = passed_trees(&log);
    for (tree, message) in main_positions(&repo).iter().filter(|(_, m)| m.starts_with("git-par")) {
        assert!(seen.contains(tree), "main moved to unverified tree {tree} ({message}): {seen:?}");
    }
    // All three, then T001 alone (lands), then T002 and T003, T002 alone
    // (refused), T003 alone on the new main (lands).
    assert_eq!(verified_trees(&log).len(), 5);
    assert!(run.stderr.contains("The verify of T001, T002, T003 together failed"), "{}", run.stderr);
    assert!(run.stderr.contains("T002 was not landed:\nerror: verify failed (exit 1)"), "{}", run.stderr);

    // The JSON: one entry per task in the order given, landed or refused with its reason and code.
    let json = run.json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["verifies"], 5);
    let tasks = json["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    assert_eq!(tasks[0]["task"], "T001");
    assert_eq!(tasks[0]["outcome"], "landed");
    assert_eq!(tasks[0]["strategy"], "merge");
    assert_eq!(tasks[0]["main_branch"], "main");
    assert_eq!(tasks[0]["files"], 1);
    assert_eq!(tasks[2]["commit"], repo.rev("main"));
    assert_eq!(tasks[1]["task"], "T002");
    assert_eq!(tasks[1]["outcome"], "refused");
    let message = tasks[1]["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("verify failed (exit 1): `tree="), "{message}");
    assert_eq!(tasks[1]["error"]["exit"], 1);
    assert!(tasks[1].get("commit").is_none(), "{json}");
    let _ = ids;
    // It lands on its own once fixed.
    repo.par(&["finish", "T002"]).success();
    assert_eq!(landed(&repo), ["T001", "T003", "T002"]);
}

#[test]
fn a_task_that_conflicts_or_is_not_active_is_refused_and_the_rest_land_with_one_verify() {
    let repo =
        TestRepo::with_files(&[(TASKS_FILE, &tasks(3)), ("README.md", "demo\n"), ("shared.txt", "one\n")]);
    repo.git(&["config", "par.enforceScope", "off"]);
    repo.task_with_commit("T001", "src/t1.txt", "task 1\n", "work");
    repo.task_with_commit("T002", "shared.txt", "two from T002\n", "work");
    repo.task_with_commit("T003", "src/t3.txt", "task 3\n", "work");
    repo.write("shared.txt", "two from main\n");
    repo.commit_all("main changes shared.txt");
    let log = outside(&repo, "verified");
    let verify = verify_command(&log, "nothing-fails");
    let run = repo.par(&["--json", "finish", "T001", "T002", "T009", "T003", "--verify", &verify]).code(1);

    assert_eq!(landed(&repo), ["T001", "T003"], "{}", run.snapshot());
    assert_eq!(verified_trees(&log).len(), 1, "the two that build are verified together once");
    assert_eq!(verified_trees(&log)[0], repo.rev("main^{tree}"));
    assert_eq!(state(&repo)["tasks"]["T002"]["state"], "active");
    assert_eq!(repo.git_in(&repo.worktree("T002"), &["rev-parse", "HEAD"]).trim(), repo.rev("par/T002"));
    let json = run.json();
    let outcomes: Vec<(&str, &str)> = json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["task"].as_str().unwrap(), t["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes, [("T001", "landed"), ("T002", "refused"), ("T009", "refused"), ("T003", "landed")]);
    let t2 = &json["tasks"][1]["error"];
    assert!(t2["message"].as_str().unwrap().contains("conflict"), "{t2}");
    assert_eq!(json["tasks"][2]["error"]["message"], "T009 is not active");
    assert_eq!(repo.read("shared.txt"), "two from main\n");
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
}

#[test]
fn one_id_is_a_finish_as_before_and_a_bad_batch_is_a_usage_error() {
    let (repo, _) = repo_with_work(2);
    let before = repo.rev("main");
    let run = repo.par(&["finish", "T001", "T002", "--dry-run"]).code(2);
    assert_eq!(
        run.stderr,
        "error: --dry-run previews one task, and several were given\n\
hint: preview them one by one, e.g. `git par finish T001 --dry-run`\n"
    );
    let run = repo.par(&["finish", "T001", "T002", "T001"]).code(2);
    assert!(run.stderr.starts_with("error: T001 is given twice\n"), "{}", run.stderr);
    assert_eq!(repo.rev("main"), before);
    // One ID: the document of one landing, the commit alone on stdout.
    let run = repo.par(&["--json", "finish", "T001"]).success();
    assert_eq!(run.json()["task"], "T001");
    assert!(run.json().get("tasks").is_none());
    let run = repo.par(&["finish", "T002"]).success();
    assert_eq!(run.stdout, format!("{}\n", repo.rev("main")));
}

/// A finish of several tasks aborted (as by kill -9) at each step a finish
/// can crash at, then `doctor --repair`: main is at a verified tree (or
/// where it was), each task landed, ticked once and released, or active
/// and not ticked; the rest then lands.
#[test]
fn a_batch_crashed_at_each_step_then_doctor_repair_keeps_the_invariants() {
    let points = [
        "started",
        "task-merge-commit",
        "task-worktree",
        "task-merged",
        "verified",
        "landing-commit",
        "main-index-locked",
        "main-worktree-ahead",
        "main-moved",
        "main-synced",
        "released",
        "worktree-removed",
        "cleaned",
    ];
    for point in points {
        let (repo, ids) = repo_with_work(3);
        let log = outside(&repo, "verified");
        let verify = verify_command(&log, "nothing-fails");
        let out = repo
            .par_command(&repo.root, &["finish", "T001", "T002", "T003", "--verify", &verify])
            .env("GIT_PAR_TEST_CRASH_AT", point)
            .output()
            .unwrap();
        assert_ne!(
            out.status.code(),
            Some(0),
            "{point}: did not crash: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        repo.par(&["doctor", "--repair"]);
        let run = repo.par(&["doctor"]);
        assert_eq!(run.code, 0, "{point}: after --repair: {}", run.snapshot());
        invariants(&repo, &ids, &log, point);
        finish_the_rest(&repo, &ids, &verify);
        invariants(&repo, &ids, &log, point);
        assert_eq!(landed(&repo).len(), 3, "{point}");
    }
}

/// A small xorshift generator: the seed is printed, and replays with GIT_PAR_TORTURE_SEED.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A batch killed with SIGKILL at a random moment (while it builds,
/// verifies, bisects or lands), then `doctor --repair`: the same invariants.
#[test]
fn a_batch_killed_at_random_moments_then_doctor_repair_keeps_the_invariants() {
    let seed = std::env::var("GIT_PAR_TORTURE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    eprintln!("batch kill: seed {seed} (replay with GIT_PAR_TORTURE_SEED={seed})");
    let mut rng = Rng(seed);
    for round in 0..4 {
        let (repo, ids) = repo_with_work(4);
        let log = outside(&repo, "verified");
        // Fails with T003's file: a bisection, several verifies and landings.
        let verify = format!("sleep 0.{}; {}", 1 + rng.below(3), verify_command(&log, "src/t3.txt"));
        let mut child = repo
            .par_command(&repo.root, &["finish", "T001", "T002", "T003", "T004", "--verify", &verify])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(1500)));
        let _ = child.kill();
        let _ = child.wait();
        let context = format!("seed {seed} round {round}");
        repo.par(&["doctor", "--repair"]);
        let run = repo.par(&["doctor"]);
        assert_eq!(run.code, 0, "{context}: after --repair: {}", run.snapshot());
        invariants(&repo, &ids, &log, &context);
        let rest: Vec<String> = ids.iter().filter(|id| *id != "T003").cloned().collect();
        finish_the_rest(&repo, &rest, &verify);
        invariants(&repo, &ids, &log, &context);
        let mut landed = landed(&repo);
        landed.sort();
        assert_eq!(landed, rest, "{context}");
    }
}

/// Lands the tasks of `ids` still active, in one batch.
fn finish_the_rest(repo: &TestRepo, ids: &[String], verify: &str) {
    let active: Vec<&str> =
        ids.iter().filter(|id| state(repo)["tasks"].get(id.as_str()).is_some()).map(String::as_str).collect();
    if active.is_empty() {
        return;
    }
    let mut args = vec!["finish"];
    args.extend(&active);
    args.extend(["--verify", verify]);
    repo.par(&args).success();
}

fn invariants(repo: &TestRepo, ids: &[String], log: &Path, context: &str) {
    let seen = passed_trees(log);
    for (tree, message) in main_positions(repo).iter().filter(|(_, m)| m.starts_with("git-par")) {
        assert!(seen.contains(tree), "{context}: main moved to unverified tree {tree} ({message})");
    }
    let landed = landed(repo);
    let state = state(repo);
    for id in ids {
        let times = landed.iter().filter(|t| *t == id).count();
        assert!(times <= 1, "{context}: {id} landed {times} times");
        assert_eq!(ticks(repo, id), times, "{context}: {id} ticks");
        match state["tasks"].get(id.as_str()) {
            Some(task) => {
                assert_eq!(times, 0, "{context}: {id} landed and still in the state");
                assert_eq!(task["state"], "active", "{context}: {id}");
                let wt = repo.worktree(id);
                assert_eq!(repo.git_in(&wt, &["rev-parse", "HEAD"]).trim(), repo.rev(&format!("par/{id}")));
                assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "", "{context}: {id}'s worktree");
            }
            None => assert_eq!(times, 1, "{context}: {id} neither landed nor active"),
        }
    }
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "", "{context}: the main worktree");
    repo.git(&["fsck", "--no-progress", "--strict"]);
}
