//! The lock index the hook reads instead of the state (`.git/par/state.locks`):
//! with a thousand active tasks the hook refuses exactly what the state
//! says; an index that lags behind the state (a writer killed between the
//! two files, by a crash point or by `kill -9` at a random moment), that is
//! damaged, or that is an older one put back, is never trusted.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use git_par::state::{ActiveTask, LocalBackend, Owner, ParDir, StateBackend as _, TaskStatus, Transact as _};

use crate::common::scenes::{add, commit, hooked, start_locking, write};
use crate::common::{Run, TestRepo};

fn backend(repo: &TestRepo) -> LocalBackend {
    LocalBackend::new(ParDir::new(repo.root.join(".git/par")))
}

fn index_path(repo: &TestRepo) -> PathBuf {
    repo.path(".git/par/state.locks")
}

/// Whether the index in place is used and then describes the state in
/// place (`Some(true)`); `None` when the hook would not use it.
fn index_agrees(repo: &TestRepo) -> Option<bool> {
    crate::common::state::lock_index_agrees(&repo.path(".git/par"))
}

/// Records `n` more active tasks (T1000 on) in one transaction, each locking
/// a file, a directory and a glob; their worktrees do not exist.
fn many_tasks(repo: &TestRepo, n: usize) {
    let base = repo.rev("main");
    let nowhere = repo.tmp.path().join("nowhere");
    backend(repo)
        .update(|state| {
            for i in 1000..1000 + n {
                let id = format!("T{i}");
                let task = ActiveTask {
                    id: id.clone(),
                    branch: format!("par/{id}"),
                    worktree: nowhere.join(&id),
                    base: base.clone(),
                    locks: vec![
                        format!("state/{id}.txt"),
                        format!("docs/{id}/"),
                        format!("gen/{id}_[5-9]*.rs"),
                    ],
                    owner: Owner { user: "tester".into(), host: "far".into() },
                    started_at: "2026-01-01T00:00:00Z".into(),
                    state: TaskStatus::Active,
                    blocked_reason: None,
                };
                state.tasks.insert(id, task);
            }
            Ok(())
        })
        .unwrap();
}

/// `git par check --staged` in `dir` (human and JSON) with whatever is staged there.
fn check(repo: &TestRepo, dir: &Path) -> (String, String) {
    let human = repo.par_in(dir, &["check", "--staged"]);
    let json = repo.par_in(dir, &["--json", "check", "--staged"]);
    (human.snapshot(), json.snapshot())
}

/// The check's verdict in `dir` read from the index, and again with the
/// index taken away (read from the state, as before the index existed):
/// asserts they are the same, and that the index was used and rebuilt.
fn check_both_ways(repo: &TestRepo, dir: &Path) -> (String, String) {
    assert_eq!(index_agrees(repo), Some(true), "the index is current before the check");
    let with_index = check(repo, dir);
    fs::remove_file(index_path(repo)).unwrap();
    let from_state = check(repo, dir);
    assert_eq!(with_index, from_state, "the index and the state give other verdicts");
    assert_eq!(index_agrees(repo), Some(true), "the check rebuilt the index it did not find");
    with_index
}

fn staged(repo: &TestRepo, dir: &Path, files: &[&str]) {
    repo.git_in(dir, &["reset", "-q"]);
    for file in files {
        write(dir, file, "changed\n");
    }
    add(repo, dir, files);
}

#[test]
fn with_a_thousand_active_tasks_the_hook_refuses_exactly_what_the_state_says() {
    let repo = hooked();
    let t001 = start_locking(&repo, "T001", &["src/a.py", "src/*.rs"]);
    many_tasks(&repo, 999);
    assert_eq!(backend(&repo).load().unwrap().tasks.len(), 1000);
    // On main: a directory lock, a glob lock, the real task's file, and a free path.
    staged(&repo, &repo.root, &["docs/T1500/x.md", "gen/T1998_7.rs", "gen/T1998_3.rs", "README.md"]);
    let (human, json) = check_both_ways(&repo, &repo.root);
    assert_eq!(
        human,
        "exit: 1\n--- stdout\n--- stderr\nerror: commit refused: 2 staged paths are locked by another task\n  \
         docs/T1500/x.md: locked by T1500 (tester@far)\n  gen/T1998_7.rs: locked by T1998 (tester@far)\n\
         hint: a path locked by another task can be committed once that task finishes or releases it \
         (`git par lock-status` shows who holds what)\n\
         hint: to leave them out of this commit: git restore --staged -- docs/T1500/x.md gen/T1998_7.rs\n"
    );
    assert!(json.contains(r#""holder":{"task":"T1500","owner":"tester@far"}"#), "{json}");
    assert_eq!(commit(&repo, &repo.root, &[]).code, 1, "the hook refuses the commit too");
    staged(&repo, &repo.root, &["src/a.py"]);
    let (human, _) = check_both_ways(&repo, &repo.root);
    assert!(human.starts_with("exit: 1\n") && human.contains("src/a.py: locked by T001"), "{human}");
    staged(&repo, &repo.root, &["gen/T1998_3.rs", "state/T999.txt", "README.md"]);
    assert_eq!(check_both_ways(&repo, &repo.root).0, "exit: 0\n--- stdout\n--- stderr\n");

    // In T001's worktree: another task's file, a path outside its locks, its own glob.
    staged(&repo, &t001, &["state/T1234.txt", "notes.txt", "src/new.rs"]);
    let (human, _) = check_both_ways(&repo, &t001);
    assert_eq!(
        human,
        "exit: 1\n--- stdout\n--- stderr\nerror: commit refused: 2 staged paths are locked by another task or \
         outside the locks of T001\n  notes.txt: outside the locks of T001\n  state/T1234.txt: locked by T1234 \
         (tester@far)\nhint: a path locked by another task can be committed once that task finishes or releases \
         it (`git par lock-status` shows who holds what)\nhint: to make it part of T001: git par lock T001 --add \
         notes.txt\nhint: to leave them out of this commit: git restore --staged -- notes.txt state/T1234.txt\n"
    );
    staged(&repo, &t001, &["src/new.rs", "src/a.py"]);
    assert_eq!(check_both_ways(&repo, &t001).0, "exit: 0\n--- stdout\n--- stderr\n");
    commit(&repo, &t001, &[]).success();
}

/// `git par ARGS` with `GIT_PAR_TEST_CRASH_AT=point`: it aborts there, as a kill would.
fn crash(repo: &TestRepo, args: &[&str], point: &str) {
    let out = repo.par_command(&repo.root, args).env("GIT_PAR_TEST_CRASH_AT", point).output().unwrap();
    assert!(!out.status.success(), "git par {args:?} did not stop at {point}");
}

#[test]
fn a_writer_killed_between_the_state_and_its_index_never_lets_a_locked_path_through() {
    let repo = hooked();
    start_locking(&repo, "T001", &["docs/"]);
    start_locking(&repo, "T002", &["src/a.py"]);
    assert_eq!(index_agrees(&repo), Some(true));

    // The lock is recorded, the index still says T002 holds only src/a.py.
    crash(&repo, &["lock", "T002", "--add", "README.md"], "state-written");
    let state = backend(&repo).load().unwrap();
    assert!(state.tasks["T002"].locks.contains(&"README.md".to_string()), "the change was committed");
    let old = fs::read_to_string(index_path(&repo)).unwrap();
    assert!(!old.contains("README.md"), "the index did not follow:\n{old}");
    assert_eq!(index_agrees(&repo), None, "a lagging index is not used");
    staged(&repo, &repo.root, &["README.md"]);
    let refused = commit(&repo, &repo.root, &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("README.md: locked by T002"), "{}", refused.stderr);
    assert_eq!(index_agrees(&repo), Some(true), "the hook rebuilt it from the state");

    // Killed again; then the next transaction, even one that changes
    // nothing in the state, catches the index up.
    crash(&repo, &["lock", "T002", "--add", "src/b.py"], "state-written");
    assert_eq!(index_agrees(&repo), None);
    backend(&repo).update(|_| Ok(())).unwrap();
    assert_eq!(index_agrees(&repo), Some(true));
    crash(&repo, &["block", "T002", "waiting"], "state-written");
    assert_eq!(index_agrees(&repo), None);
    repo.par(&["unblock", "T002"]).success();
    assert_eq!(index_agrees(&repo), Some(true));
    staged(&repo, &repo.root, &["src/b.py"]);
    assert!(repo.par(&["check", "--staged"]).code(1).stderr.contains("src/b.py: locked by T002"));

    // A start killed there: its task is recorded, so its paths are refused.
    crash(&repo, &["start", "T003", "--path", "src/my file.py"], "state-written");
    assert_eq!(index_agrees(&repo), None);
    staged(&repo, &repo.root, &["src/my file.py"]);
    assert!(repo.par(&["check", "--staged"]).code(1).stderr.contains("locked by T003"));
    repo.par(&["doctor", "--repair"]).success();

    // An abort killed there: T001 is released, so its paths go through.
    crash(&repo, &["abort", "T001", "--force"], "state-written");
    assert!(!backend(&repo).load().unwrap().tasks.contains_key("T001"));
    assert_eq!(index_agrees(&repo), None);
    staged(&repo, &repo.root, &["docs/b.md"]);
    repo.par(&["check", "--staged"]).success();
    assert_eq!(index_agrees(&repo), Some(true));
}

#[test]
fn a_damaged_or_older_index_is_never_trusted() {
    let repo = hooked();
    start_locking(&repo, "T001", &["docs/"]);
    let before_t002 = fs::read(index_path(&repo)).unwrap();
    start_locking(&repo, "T002", &["src/a.py"]);
    let current = fs::read(index_path(&repo)).unwrap();
    staged(&repo, &repo.root, &["src/a.py"]);
    let refused = |why: &str| {
        let run = repo.par(&["check", "--staged"]);
        assert_eq!(run.code, 1, "{why}: {}", run.stderr);
        assert!(run.stderr.contains("src/a.py: locked by T002"), "{why}: {}", run.stderr);
    };
    refused("the current index");
    let text = String::from_utf8(current.clone()).unwrap();
    let damages: Vec<(&str, Vec<u8>)> = vec![
        ("the index of the state before T002 started", before_t002),
        ("truncated", current[..current.len() - 5].to_vec()),
        ("emptied", Vec::new()),
        ("a lock renamed, same length", text.replace("src/a.py", "src/a.px").into_bytes()),
        ("a task's ID changed", text.replace("T002", "T009").into_bytes()),
        ("its length line changed", text.replacen("\n", "\n\n", 3).into_bytes()),
        ("not text", vec![0xff; current.len()]),
    ];
    for (why, bytes) in damages {
        fs::write(index_path(&repo), &bytes).unwrap();
        assert_eq!(index_agrees(&repo), None, "{why}");
        refused(why);
        assert_eq!(fs::read(index_path(&repo)).unwrap(), current, "{why}: rebuilt as it was");
    }
    // A state changed behind git-par's back (same length, same second): the index is not used.
    let state_file = repo.path(".git/par/state.json");
    let state = fs::read_to_string(&state_file).unwrap();
    fs::write(&state_file, state.replace("\"src/a.py\"", "\"src/b.py\"")).unwrap();
    assert_eq!(index_agrees(&repo), None);
    repo.par(&["check", "--staged"]).success();
    staged(&repo, &repo.root, &["src/b.py"]);
    assert!(repo.par(&["check", "--staged"]).code(1).stderr.contains("src/b.py: locked by T002"));
}

/// A small deterministic generator, seeded from the clock (the seed is printed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn kill_9_at_random_moments_never_leaves_an_index_that_disagrees_with_the_state() {
    let repo = hooked();
    many_tasks(&repo, 300);
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("seed {seed}");
    let mut rng = Rng(seed);
    let ids = ["T001", "T002", "T003"];
    let (mut used, mut lagging) = (0, 0);
    for round in 0..36 {
        let id = ids[rng.below(3) as usize];
        let (extra, own) = (format!("extra/{round}.txt"), format!("work/{id}/"));
        let args: Vec<&str> = match rng.below(5) {
            0 => vec!["start", id, "--path", &own],
            1 => vec!["lock", id, "--add", &extra],
            2 => vec!["abort", id, "--force"],
            3 => vec!["block", id, "r"],
            _ => vec!["finish", id],
        };
        let worktree = repo.worktree(id);
        if args[0] == "finish" && worktree.is_dir() {
            // Something to land; the hook is not what this test is about.
            write(&worktree, &format!("work/{id}/{round}.txt"), "work\n");
            repo.git_in(&worktree, &["add", "-A", "work"]);
            let _ = repo.try_git_in(&worktree, &["commit", "-q", "--no-verify", "-m", "work"]);
        }
        let mut child: std::process::Child =
            repo.par_command(&repo.root, &args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.below(60_000)));
        let _ = child.kill();
        let _ = child.wait();
        if repo.root.join(".git/index.lock").exists() {
            // A finish killed while it held the main worktree's index lock
            // leaves it, as git would; doctor removes it (its writer is
            // dead) and the test's own `git reset` needs it gone.
            repo.par(&["doctor", "--repair"]);
            many_tasks(&repo, 300);
        }
        match index_agrees(&repo) {
            Some(agrees) => {
                assert!(agrees, "round {round} (seed {seed}): git par {args:?} left an index that disagrees");
                used += 1;
            }
            None => lagging += 1,
        }
        // Whatever was left, the hook refuses what the state locks: the
        // newest lock of the three tasks, or a recorded task's.
        let state = backend(&repo).load().unwrap();
        let newest = ids
            .iter()
            .filter_map(|id| state.tasks.get(*id))
            .flat_map(|t| t.locks.iter().filter(|l| l.starts_with("extra/")))
            .max_by_key(|l| {
                l.trim_start_matches("extra/").trim_end_matches(".txt").parse::<u32>().unwrap_or(0)
            })
            .or_else(|| state.tasks.get("T1000").map(|t| &t.locks[0]))
            .cloned()
            .expect("a lock to try");
        staged(&repo, &repo.root, &[&newest]);
        let run: Run = repo.par(&["check", "--staged"]);
        assert_eq!(run.code, 1, "round {round} (seed {seed}): {newest} went through\n{}", run.stderr);
        if round % 6 == 5 {
            // Undoes killed starts and finishes (and drops the recorded
            // tasks, whose worktrees never existed: record them again).
            repo.par(&["doctor", "--repair"]);
            many_tasks(&repo, 300);
        }
    }
    eprintln!("index in use after {used} kills, lagging (not used) after {lagging}");
}
