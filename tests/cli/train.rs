//! The merge train (issue 16, DESIGN §6 "Trains"): concurrent finishes
//! verified in parallel, each on exactly the tree it would land, landing in
//! arrival order; a failing entry ejected and those behind verified again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

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
        repo.par(&["start", id]).success();
        let wt = repo.worktree(id);
        std::fs::create_dir_all(wt.join("src")).unwrap();
        std::fs::write(wt.join(format!("src/t{}.txt", i + 1)), format!("task {}\n", i + 1)).unwrap();
        repo.git_in(&wt, &["add", "-A"]);
        repo.git_in(&wt, &["commit", "-q", "-m", &format!("Create t{}", i + 1)]);
    }
    (repo, ids)
}

/// A verify that records `<task> <tree>` of what it runs on, takes a
/// while, and fails for `failing`.
fn verify_command(log: &Path, failing: &str) -> String {
    format!(
        "echo \"$GIT_PAR_TASK $(git rev-parse 'HEAD^{{tree}}')\" >> '{}'; sleep 1; test \"$GIT_PAR_TASK\" != '{failing}'",
        log.display()
    )
}

fn verified_trees(log: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect()
}

/// Spawns `finish` for each id, in this order, each once the one before
/// has joined the train (its place in the queue is what arrival means).
fn spawn_in_order(repo: &TestRepo, ids: &[String], verify: &str) -> Vec<Child> {
    let queue = repo.root.join(".git/par/train/queue.json");
    let mut children = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let child = repo
            .par_command(&repo.root, &["--json", "finish", id, "--verify", verify])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        children.push(child);
        // Joined: the queue has it (or it is already gone, having landed).
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            let text = std::fs::read_to_string(&queue).unwrap_or_default();
            if text.contains(&format!("\"task\":\"{id}\"")) || landed(repo).len() > n {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    children
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

/// Every first-parent commit main moved to, with its tree.
fn landed_trees(repo: &TestRepo) -> BTreeMap<String, String> {
    repo.git(&[
        "log",
        "--first-parent",
        "--format=%H %T %(trailers:key=Par-Task,valueonly,separator=)",
        "main",
    ])
    .lines()
    .filter_map(|l| {
        let mut parts = l.split_whitespace();
        let (_, tree, task) = (parts.next()?, parts.next()?, parts.next()?);
        Some((task.to_string(), tree.to_string()))
    })
    .collect()
}

fn state(repo: &TestRepo) -> serde_json::Value {
    serde_json::from_str(&repo.read(".git/par/state.json")).unwrap()
}

fn ticks(repo: &TestRepo, id: &str) -> usize {
    repo.git(&["show", &format!("main:{TASKS_FILE}")]).matches(&format!("- [X] {id} ")).count()
}

#[test]
fn six_concurrent_finishes_land_in_arrival_order_and_the_failing_third_is_ejected() {
    let (repo, ids) = repo_with_work(6);
    repo.git(&["config", "par.trainDepth", "6"]);
    let log: PathBuf = repo.root.parent().unwrap().join("verified");
    let verify = verify_command(&log, "T003");
    let children = spawn_in_order(&repo, &ids, &verify);
    let mut outputs = BTreeMap::new();
    for (id, child) in ids.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        outputs.insert(id.clone(), out);
    }
    for (id, out) in &outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if id == "T003" {
            assert_eq!(out.status.code(), Some(1), "{id}: {stderr}");
            assert!(stderr.contains("error: verify failed (exit 1)"), "{stderr}");
        } else {
            assert!(out.status.success(), "{id}: {stderr}");
        }
    }
    // Landed in arrival order, the third left out and still active.
    assert_eq!(landed(&repo), ["T001", "T002", "T004", "T005", "T006"]);
    assert_eq!(state(&repo)["tasks"]["T003"]["state"], "active");
    assert_eq!(repo.rev("par/T003"), repo.git_in(&repo.worktree("T003"), &["rev-parse", "HEAD"]).trim());
    // Every tree main moved to is one a verify ran on.
    let seen = verified_trees(&log);
    let trees = landed_trees(&repo);
    assert_eq!(trees.len(), 5, "{trees:?}");
    for (task, tree) in &trees {
        assert!(seen.contains(tree), "{task} landed tree {tree}, which no verify saw: {seen:?}");
    }
    for id in &ids {
        assert_eq!(ticks(&repo, id), usize::from(id != "T003"), "{id}");
    }
    // The entries behind the ejected one were verified again, without it.
    let t4: serde_json::Value = serde_json::from_slice(&outputs["T004"].stdout).unwrap();
    assert_eq!(t4["train"]["position"], 4);
    let events: Vec<&str> =
        t4["train"]["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(events.contains(&"rebuilt"), "{t4}");
    assert_eq!(events.last(), Some(&"landed"));
    repo.git(&["fsck", "--no-progress", "--strict"]);
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
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

/// Members of a train killed with SIGKILL at random moments, then `doctor
/// --repair`: main only moved to trees a verify saw, every task is landed
/// and ticked exactly once or active and not ticked, nothing is left
/// finishing, and the rest then lands.
#[test]
fn a_train_member_killed_at_random_moments_then_doctor_repair_keeps_the_invariants() {
    let seed = std::env::var("GIT_PAR_TORTURE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    eprintln!("train kill: seed {seed} (replay with GIT_PAR_TORTURE_SEED={seed})");
    let mut rng = Rng(seed);
    for round in 0..3 {
        let (repo, ids) = repo_with_work(5);
        repo.git(&["config", "par.trainDepth", "5"]);
        let log = repo.root.parent().unwrap().join("verified");
        let verify = format!(
            "echo \"$GIT_PAR_TASK $(git rev-parse 'HEAD^{{tree}}')\" >> '{}'; sleep 0.{}",
            log.display(),
            2 + rng.below(5)
        );
        let mut children = spawn_in_order(&repo, &ids, &verify);
        let victim = rng.below(ids.len() as u64) as usize;
        std::thread::sleep(Duration::from_millis(rng.below(1200)));
        let _ = children[victim].kill();
        let mut codes = Vec::new();
        for (id, child) in ids.iter().zip(children) {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            // Landed, killed, or refused because the killed one needs a repair.
            assert!(
                out.status.success()
                    || out.status.code().is_none()
                    || stderr.contains("git par doctor --repair"),
                "seed {seed} round {round}: {id} exited {:?}: {stderr}",
                out.status.code()
            );
            codes.push((id.clone(), out.status.code()));
        }
        repo.par(&["doctor", "--repair"]);
        let run = repo.par(&["doctor"]);
        assert_eq!(run.code, 0, "seed {seed} round {round} ({codes:?}): after --repair: {}", run.stdout);

        let check = |stage: &str| {
            let seen = verified_trees(&log);
            let trees = landed_trees(&repo);
            for (task, tree) in &trees {
                assert!(
                    seen.contains(tree),
                    "seed {seed} round {round} {stage}: {task} landed unverified tree {tree}"
                );
            }
            let landed = landed(&repo);
            let state = state(&repo);
            for id in &ids {
                let times = landed.iter().filter(|t| *t == id).count();
                assert!(times <= 1, "seed {seed} round {round} {stage}: {id} landed {times} times");
                assert_eq!(ticks(&repo, id), times, "seed {seed} round {round} {stage}: {id} ticks");
                match state["tasks"].get(id.as_str()) {
                    Some(task) => {
                        assert_eq!(
                            times, 0,
                            "seed {seed} round {round} {stage}: {id} landed and still in the state"
                        );
                        assert_eq!(task["state"], "active", "seed {seed} round {round} {stage}: {id}");
                    }
                    None => assert_eq!(
                        times, 1,
                        "seed {seed} round {round} {stage}: {id} neither landed nor active"
                    ),
                }
            }
            repo.git(&["fsck", "--no-progress", "--strict"]);
        };
        check("after the repair");
        // The rest lands, each exactly once, still only on verified trees.
        let active: Vec<String> =
            ids.iter().filter(|id| state(&repo)["tasks"].get(id.as_str()).is_some()).cloned().collect();
        for id in &active {
            repo.par(&["finish", id, "--verify", &verify]).success();
        }
        check("after finishing the rest");
        assert_eq!(landed(&repo).len(), ids.len());
        assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
    }
}

#[test]
fn no_train_lands_one_at_a_time_and_a_bad_depth_is_refused() {
    let (repo, _) = repo_with_work(2);
    repo.git(&["config", "par.trainDepth", "zero"]);
    let before = repo.rev("main");
    let run = repo.par(&["finish", "T001"]).code(2);
    assert_eq!(
        run.stderr,
        "error: par.trainDepth = zero is not a whole number of 1 or more\n\
hint: set it with `git config par.trainDepth 4` (1 lands one at a time), or pass --no-train\n"
    );
    assert_eq!(repo.rev("main"), before);
    // --no-train: the old queue, no train in the result.
    let run = repo.par(&["--json", "finish", "T001", "--no-train"]).success();
    assert!(run.json().get("train").is_none(), "{}", run.stdout);
    repo.git(&["config", "par.trainDepth", "3"]);
    let run = repo.par(&["--json", "finish", "T002"]).success();
    assert_eq!(run.json()["train"]["position"], 1);
    assert_eq!(landed(&repo), ["T001", "T002"]);
}

/// A verify that records `<task> <tree> pass|fail` of what it runs on,
/// takes `secs`, and fails when the tree has `failing_file`.
fn tree_verify(log: &Path, secs: &str, failing_file: &str) -> String {
    format!(
        "t=$(git rev-parse 'HEAD^{{tree}}'); sleep {secs}; if test -e '{failing_file}'; then echo \"$GIT_PAR_TASK $t fail\" >> '{log}'; exit 1; fi; echo \"$GIT_PAR_TASK $t pass\" >> '{log}'",
        log = log.display()
    )
}

/// The trees a verify passed on.
fn passed_trees(log: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.ends_with(" pass"))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect()
}

/// Every tree main's ref moved to through git-par, by its reflog: a batch
/// or an entry landing those ahead of it moves main over landings it never
/// points at, so the first-parent history is not where main was.
fn main_moves(repo: &TestRepo) -> Vec<String> {
    repo.git(&["reflog", "show", "--format=%T %gs", "refs/heads/main"])
        .lines()
        .filter(|l| l.contains(" git-par "))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect()
}

/// Under saturation (8 finishes, 2 verify slots) the entry furthest behind
/// gets the next slot, and its passing verify lands the entries ahead that
/// had not verified yet along with it: fewer verifies than tasks, main
/// only at trees a verify passed on, every task landed and ticked once, in
/// arrival order.
#[test]
fn under_saturation_a_passing_verify_lands_the_unverified_entries_ahead_with_it() {
    let (repo, ids) = repo_with_work(8);
    repo.git(&["config", "par.trainDepth", "2"]);
    let log: PathBuf = repo.root.parent().unwrap().join("verified");
    let verify = tree_verify(&log, "2", "never-there");
    let children = spawn_in_order(&repo, &ids, &verify);
    let mut carried = Vec::new();
    for (id, child) in ids.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{id}: {}", String::from_utf8_lossy(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let events: Vec<&str> = json["train"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(events.last(), Some(&"landed"), "{id}: {json}");
        assert_eq!(json["commit"].as_str().map(str::len), Some(40), "{id}: {json}");
        if events.contains(&"carried") {
            carried.push(id.clone());
        }
    }
    assert_eq!(landed(&repo), ids);
    let runs = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(runs < ids.len(), "{runs} verifies for {} tasks: nothing was landed along", ids.len());
    assert!(!carried.is_empty(), "no entry was landed by one behind it");
    let passed = passed_trees(&log);
    let moves = main_moves(&repo);
    assert!(moves.len() < ids.len(), "main moved once per task: {moves:?}");
    for tree in &moves {
        assert!(passed.contains(tree), "main moved to tree {tree}, which no verify passed on");
    }
    for id in &ids {
        assert_eq!(ticks(&repo, id), 1, "{id}");
    }
    assert_eq!(state(&repo)["tasks"], serde_json::json!({}));
    repo.git(&["fsck", "--no-progress", "--strict"]);
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
}

/// A verify that fails because of what an entry ahead brings does not
/// eject the entries behind it: they wait, and once the culprit (whose own
/// verify failed on a base that landed) is ejected, they are verified again
/// without it and land. Under saturation, so the entries furthest behind
/// verify (and fail) first.
#[test]
fn entries_failing_because_of_one_ahead_are_verified_again_without_it_not_ejected() {
    let (repo, ids) = repo_with_work(6);
    repo.git(&["config", "par.trainDepth", "2"]);
    let log: PathBuf = repo.root.parent().unwrap().join("verified");
    let verify = tree_verify(&log, "0.5", "src/t3.txt");
    let children = spawn_in_order(&repo, &ids, &verify);
    for (id, child) in ids.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if id == "T003" {
            assert_eq!(out.status.code(), Some(1), "{id}: {stderr}");
            assert!(stderr.contains("error: verify failed (exit 1)"), "{stderr}");
        } else {
            assert!(out.status.success(), "{id}: {stderr}");
        }
    }
    assert_eq!(landed(&repo), ["T001", "T002", "T004", "T005", "T006"]);
    assert_eq!(state(&repo)["tasks"]["T003"]["state"], "active");
    assert_eq!(ticks(&repo, "T003"), 0);
    let passed = passed_trees(&log);
    for tree in main_moves(&repo) {
        assert!(passed.contains(&tree), "main moved to tree {tree}, which no verify passed on");
    }
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
}

/// Under saturation, members killed at random moments (one landing others
/// along, one being landed, one waiting for a slot...), then `doctor
/// --repair`: main only moved to trees a verify passed on, every task is
/// landed and ticked once (and released) or active and not ticked, and
/// the rest then lands.
#[test]
fn a_saturated_train_killed_at_random_moments_then_doctor_repair_keeps_the_invariants() {
    let seed = std::env::var("GIT_PAR_TORTURE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    eprintln!("saturated train kill: seed {seed} (replay with GIT_PAR_TORTURE_SEED={seed})");
    let mut rng = Rng(seed);
    for round in 0..3 {
        let context = format!("seed {seed} round {round}");
        let (repo, ids) = repo_with_work(6);
        repo.git(&["config", "par.trainDepth", "2"]);
        let log = repo.root.parent().unwrap().join("verified");
        let verify = tree_verify(&log, &format!("0.{}", 3 + rng.below(4)), "never-there");
        let mut children = spawn_in_order(&repo, &ids, &verify);
        std::thread::sleep(Duration::from_millis(300 + rng.below(1500)));
        let victim = rng.below(ids.len() as u64) as usize;
        let _ = children[victim].kill();
        for (id, child) in ids.iter().zip(children) {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                out.status.success()
                    || out.status.code().is_none()
                    || stderr.contains("git par doctor --repair"),
                "{context}: {id} exited {:?}: {stderr}",
                out.status.code()
            );
        }
        repo.par(&["doctor", "--repair"]);
        let run = repo.par(&["doctor"]);
        assert_eq!(run.code, 0, "{context}: after --repair: {}", run.stdout);
        let check = |stage: &str| {
            let passed = passed_trees(&log);
            for tree in main_moves(&repo) {
                assert!(passed.contains(&tree), "{context} {stage}: main moved to unverified tree {tree}");
            }
            let landed = landed(&repo);
            let state = state(&repo);
            for id in &ids {
                let times = landed.iter().filter(|t| *t == id).count();
                assert!(times <= 1, "{context} {stage}: {id} landed {times} times");
                assert_eq!(ticks(&repo, id), times, "{context} {stage}: {id} ticks");
                match state["tasks"].get(id.as_str()) {
                    Some(task) => {
                        assert_eq!(times, 0, "{context} {stage}: {id} landed and still in the state");
                        assert_eq!(task["state"], "active", "{context} {stage}: {id}");
                    }
                    None => assert_eq!(times, 1, "{context} {stage}: {id} neither landed nor active"),
                }
            }
            repo.git(&["fsck", "--no-progress", "--strict"]);
        };
        check("after the repair");
        let active: Vec<String> =
            ids.iter().filter(|id| state(&repo)["tasks"].get(id.as_str()).is_some()).cloned().collect();
        for id in &active {
            repo.par(&["finish", id, "--verify", &verify]).success();
        }
        check("after finishing the rest");
        assert_eq!(landed(&repo).len(), ids.len(), "{context}");
        assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "", "{context}");
    }
}

/// Waits until `id`'s entry in the train has published a landing.
fn wait_published(repo: &TestRepo, id: &str) {
    let queue = repo.root.join(".git/par/train/queue.json");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let text = std::fs::read_to_string(&queue).unwrap_or_default();
        let queue: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let published = queue["entries"]
            .as_array()
            .is_some_and(|entries| entries.iter().any(|e| e["task"] == id && e["landing"].is_string()));
        if published {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("{id} never published a landing in {}", queue.display());
}

/// Found by the 16-worker race (seeds 1796589564645253517 and others): a task's
/// finish ejected for a failing verify, finished again at once, found the
/// entry ahead still verifying a landing built on its own ejected work; its
/// commits, replayed onto that, conflicted with themselves and the finish was
/// refused. A conflict on a speculative base is not final: the finish waits
/// for the entry ahead to build again, then lands.
#[test]
fn a_task_finished_again_after_its_ejection_is_not_refused_for_the_stale_base_ahead() {
    let (repo, ids) = repo_with_work(3);
    // Main moves after T001 started: its commits are replayed, as copies.
    repo.par(&["finish", "T003"]).success();
    repo.git(&["config", "par.trainDepth", "4"]);
    // Two commits of one file: replayed onto a tree that already has the
    // second's content, the first conflicts.
    let wt = repo.worktree("T001");
    std::fs::write(wt.join("src/t1.txt"), "task 1\nmore\n").unwrap();
    repo.git_in(&wt, &["commit", "-q", "-am", "More t1"]);
    let finish = |id: &str, verify: &str| {
        repo.par_command(&repo.root, &["finish", id, "--strategy", "rebase", "--verify", verify])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = finish(&ids[0], "sleep 1; exit 1");
    wait_published(&repo, "T001");
    let behind = finish(&ids[1], "sleep 3");
    wait_published(&repo, "T002");
    let out = first.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    // T002 is still verifying the landing it built on T001's ejected one.
    let again = repo.par(&["finish", "T001", "--strategy", "rebase", "--verify", "true"]);
    assert_eq!(again.code, 0, "{}", again.snapshot());
    let out = behind.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(landed(&repo), ["T003", "T002", "T001"]);
    assert_eq!(repo.git(&["show", "main:src/t1.txt"]), "task 1\nmore\n");
    assert_eq!(repo.git(&["show", "main:src/t2.txt"]), "task 2\n");
    for id in &ids {
        assert_eq!(ticks(&repo, id), 1, "{id}");
    }
    assert!(again.stderr.contains("Waiting for the merge queue: T002 is landing"), "{}", again.stderr);
    repo.git(&["fsck", "--no-progress", "--strict"]);
}
