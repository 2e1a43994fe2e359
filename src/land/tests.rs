//! The landing engine on real temporary repositories, with active tasks
//! written into the state by hand (no `git par start`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use super::*;
use crate::journal::TEST_CRASH;
use crate::state::Owner;

const TASKS: &str = "# Tasks\n\n## Phase 1\n\n- [ ] T001 [P] Add the alpha module in src/alpha.txt\n\
- [ ] T002 [P] Add the beta module in src/beta.txt\n- [ ] T003 [P] Touch the shared file\n";
const TASKS_FILE: &str = "specs/001-demo/tasks.md";

struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    worktrees: PathBuf,
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(tmp.path()).unwrap();
        let root = base.join("repo");
        fs::create_dir_all(&root).unwrap();
        git(&root, &["init", "-q", "-b", "main"]);
        git(&root, &["config", "user.name", "Test User"]);
        git(&root, &["config", "user.email", "test@example.com"]);
        let f = Fixture { _tmp: tmp, root, worktrees: base.join("repo.par") };
        f.write(&f.root, TASKS_FILE, TASKS);
        f.write(&f.root, "shared.txt", "one\ntwo\nthree\n");
        f.write(&f.root, ".gitignore", "logs/\n");
        f.commit(&f.root, "initial");
        f
    }

    fn write(&self, dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn read(&self, dir: &Path, rel: &str) -> String {
        fs::read_to_string(dir.join(rel)).unwrap()
    }

    fn commit(&self, dir: &Path, message: &str) -> String {
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "-q", "-m", message]);
        self.rev(dir, "HEAD")
    }

    fn rev(&self, dir: &Path, rev: &str) -> String {
        git(dir, &["rev-parse", rev]).trim().to_string()
    }

    fn wt(&self, id: &str) -> PathBuf {
        self.worktrees.join(id)
    }

    fn ws(&self) -> Workspace {
        let options = crate::workspace::Options {
            cwd: self.root.clone(),
            tasks: None,
            strict_phases: false,
            remote: None,
        };
        Workspace::open(options).unwrap()
    }

    /// What `git par start` leaves behind: branch, worktree, state entry.
    fn start(&self, id: &str) -> PathBuf {
        let wt = self.wt(id);
        let branch = format!("par/{id}");
        git(&self.root, &["worktree", "add", "-q", "-b", &branch, wt.to_str().unwrap(), "main"]);
        let base = self.rev(&self.root, "main");
        self.ws()
            .state()
            .update(|state| {
                state.main_branch = Some("main".into());
                state.tasks_file = Some(TASKS_FILE.into());
                state.tasks.insert(
                    id.to_string(),
                    ActiveTask {
                        id: id.to_string(),
                        branch: branch.clone(),
                        worktree: wt.clone(),
                        base: base.clone(),
                        locks: vec![],
                        owner: Owner { user: "tester".into(), host: "host".into() },
                        started_at: "2026-01-01T00:00:00Z".into(),
                        state: TaskStatus::Active,
                        blocked_reason: None,
                    },
                );
                Ok(())
            })
            .unwrap();
        wt
    }

    fn request(&self, id: &str) -> Request {
        Request {
            id: id.to_string(),
            strategy: Strategy::Merge,
            train_depth: 1,
            verify: None,
            commit: None,
            keep: false,
            wait: None,
            dry_run: false,
            main_branch: "main".into(),
            tasks_file: Some(TASKS_FILE.into()),
            log_dir: "logs/parallel".into(),
            // The fixture's tasks lock nothing; the landing's lock check has its own tests.
            enforce_scope: Some(crate::config::EnforceScope::Off),
        }
    }

    fn finish(&self, req: &Request) -> Result<Landing> {
        finish(&self.ws(), req, &|_| {})
    }

    fn state(&self) -> State {
        self.ws().state().load().unwrap()
    }

    fn status(&self, dir: &Path) -> String {
        git(dir, &["status", "--porcelain"])
    }

    fn journals(&self) -> usize {
        fs::read_dir(self.root.join(".git/par/journal")).map(|d| d.count()).unwrap_or(0)
    }

    fn landed_count(&self, id: &str) -> usize {
        git(&self.root, &["log", "--format=%H", "--grep", &format!("Par-Task: {id}$"), "main"])
            .lines()
            .count()
    }
}

fn refusal_text(err: &anyhow::Error) -> String {
    let r = crate::command_error::refusal(err).unwrap_or_else(|| panic!("not a refusal: {err:#}"));
    format!("{}\n{}", r.message, r.hints.join("\n"))
}

#[test]
fn a_task_lands_as_a_merge_commit_and_everything_is_cleaned_up() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    let tip = f.commit(&wt, "Add alpha");
    let main_before = f.rev(&f.root, "main");

    let landed = f.finish(&f.request("T001")).unwrap();

    let commit = landed.commit.unwrap().to_string();
    assert_eq!(f.rev(&f.root, "main"), commit);
    assert_eq!(f.rev(&f.root, "main^1"), main_before);
    assert_eq!(f.rev(&f.root, "main^2"), tip);
    assert_eq!(landed.commits, vec![(tip[..7].to_string(), "Add alpha".to_string())]);
    assert_eq!(landed.files.len(), 1);
    let message = git(&f.root, &["log", "-1", "--format=%B", "main"]);
    assert_eq!(
        message,
        format!("T001: Add the alpha module in src/alpha.txt\n\nMerges 1 commit:\n  {} Add alpha\n\nPar-Task: T001\n\n", &tip[..7])
    );
    // The tick is in the landing commit, and the main worktree has it and the file.
    let tasks = git(&f.root, &["show", &format!("main:{TASKS_FILE}")]);
    assert!(tasks.contains(&format!(
        "- [X] T001 [P] Add the alpha module in src/alpha.txt\n  - par: merged {} (1 commit, 1 file) · logs/parallel/T001.log\n",
        &tip[..7]
    )));
    assert_eq!(f.read(&f.root, TASKS_FILE), tasks);
    assert_eq!(f.read(&f.root, "src/alpha.txt"), "alpha\n");
    assert_eq!(f.status(&f.root), "");
    // Step 7.
    assert!(f.state().tasks.is_empty());
    assert!(!wt.exists());
    assert_eq!(git(&f.root, &["branch", "--list", "par/*"]), "");
    assert_eq!(f.journals(), 0);
    assert!(f.read(&f.root, "logs/parallel/T001.log").contains(" finish T001 landed on main as "));
    let events = fs::read_to_string(f.root.join(".git/par/events.jsonl")).unwrap();
    assert!(events.contains("\"event\":\"finish\"") && events.contains(&commit));
}

#[test]
fn main_that_moved_is_merged_into_the_task_first_and_both_land() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    let tip = f.commit(&wt, "Add alpha");
    f.write(&f.root, "shared.txt", "one\ntwo\nthree\nfour\n");
    let main_before = f.commit(&f.root, "Main moves on");

    let mut req = f.request("T001");
    req.keep = true;
    // The verify command sees the merged tree.
    req.verify = Some("grep -q four shared.txt && test -f src/alpha.txt".into());
    let landed = f.finish(&req).unwrap();

    // One landing commit: main and the task's tip as it is, no merge of main into the task.
    assert_eq!(f.rev(&f.root, "main^1"), main_before);
    assert_eq!(f.rev(&f.root, "main^2"), tip);
    assert_eq!(git(&f.root, &["rev-list", "--count", &format!("{main_before}..main")]), "2\n");
    assert_eq!(landed.commits.len(), 1);
    // --keep: the task is done, its branch and worktree stay, at the
    // landing (the tree that was verified).
    assert!(f.state().tasks.is_empty());
    assert_eq!(f.rev(&f.root, "par/T001"), f.rev(&f.root, "main"));
    assert_eq!(f.read(&wt, "shared.txt"), "one\ntwo\nthree\nfour\n");
    assert_eq!(f.status(&wt), "");
    assert_eq!(f.status(&f.root), "");
}

#[test]
fn squash_and_ff_strategies() {
    let f = Fixture::new();
    let wt1 = f.start("T001");
    let wt2 = f.start("T002");
    f.write(&wt1, "src/alpha.txt", "alpha\n");
    f.commit(&wt1, "Add alpha");
    f.write(&wt1, "src/alpha2.txt", "alpha2\n");
    f.commit(&wt1, "Add alpha2");
    f.write(&wt2, "src/beta.txt", "beta\n");
    let beta = f.commit(&wt2, "Add beta");

    let mut req = f.request("T001");
    req.strategy = Strategy::Squash;
    let squashed = f.finish(&req).unwrap().commit.unwrap().to_string();
    assert_eq!(git(&f.root, &["rev-list", "--count", "--parents", "-1", "main"]), "1\n");
    assert_eq!(git(&f.root, &["log", "-1", "--format=%P", "main"]).split_whitespace().count(), 1);
    assert!(git(&f.root, &["show", &format!("main:{TASKS_FILE}")])
        .contains("  - par: squashed T001 (2 commits, 2 files) · logs/parallel/T001.log\n"));
    assert_eq!(f.rev(&f.root, "main"), squashed);

    // T002 started before T001 landed: ff cannot fast-forward, it lands as rebase.
    let mut req = f.request("T002");
    req.strategy = Strategy::Ff;
    let landed = f.finish(&req).unwrap();
    assert_eq!(landed.strategy, Strategy::Rebase);
    let replayed = landed.commit.unwrap().to_string();
    assert_eq!(f.rev(&f.root, "main"), replayed);
    assert_eq!(f.rev(&f.root, "main^"), squashed, "linear, on top of T001's landing");
    assert_ne!(replayed, beta);
    assert_eq!(git(&f.root, &["log", "-1", "--format=%B", "main"]), "Add beta\n\nPar-Task: T002\n\n");
    assert_eq!(
        git(&f.root, &["diff", "--name-only", "main^", "main"]),
        format!("{TASKS_FILE}\nsrc/beta.txt\n")
    );
    assert_eq!(f.landed_count("T001"), 1);
    assert_eq!(f.landed_count("T002"), 1);
    assert_eq!(f.read(&f.root, "src/beta.txt"), "beta\n");
    assert_eq!(f.status(&f.root), "");
}

#[test]
fn a_conflict_stops_before_anything_changes() {
    let f = Fixture::new();
    let wt = f.start("T003");
    f.write(&wt, "shared.txt", "one\nTWO by the task\nthree\n");
    let tip = f.commit(&wt, "Task edits shared");
    f.write(&f.root, "shared.txt", "one\nTWO on main\nthree\n");
    let main_before = f.commit(&f.root, "Main edits shared");

    let err = f.finish(&f.request("T003")).unwrap_err();
    assert_eq!(
        refusal_text(&err),
        format!(
            "T003 conflicts with main in 1 file:\n  shared.txt  both modified\n\
             resolve them in the task's worktree: `cd {} && git merge main`, fix the files, `git commit`, then run `git par finish T003` again\n\
             nothing changed: main and par/T003 are as they were",
            wt.display()
        )
    );
    assert_eq!(f.rev(&f.root, "main"), main_before);
    assert_eq!(f.rev(&f.root, "par/T003"), tip);
    assert_eq!(f.status(&wt), "");
    assert!(!wt.join(".git").is_dir() && !f.root.join(".git/worktrees/T003/MERGE_HEAD").exists());
    assert_eq!(f.state().tasks["T003"].state, TaskStatus::Active);
    assert_eq!(f.journals(), 0);
}

#[test]
fn conflict_kinds_renames_deletions_and_binaries() {
    let f = Fixture::new();
    f.write(&f.root, "doc.txt", "a\nb\nc\nd\ne\nf\ng\nh\n");
    f.write(&f.root, "gone.txt", "x\n");
    f.write(&f.root, "r.txt", "renamed twice\n");
    fs::write(f.root.join("image.bin"), [0u8, 1, 2, 3, 0, 5]).unwrap();
    f.commit(&f.root, "more files");
    let wt = f.start("T003");
    // Task: renames doc.txt (and edits it), modifies gone.txt, changes the binary.
    git(&wt, &["mv", "doc.txt", "docs.txt"]);
    f.write(&wt, "docs.txt", "a\nb\nc\nd\ne\nf\ng\nH\n");
    f.write(&wt, "gone.txt", "x changed\n");
    fs::write(wt.join("image.bin"), [0u8, 9, 9, 9, 0]).unwrap();
    git(&wt, &["mv", "r.txt", "r-task.txt"]);
    let tip = f.commit(&wt, "task");
    // Main: edits doc.txt elsewhere (merges cleanly through the rename), deletes gone.txt, changes the binary.
    f.write(&f.root, "doc.txt", "A\nb\nc\nd\ne\nf\ng\nh\n");
    git(&f.root, &["rm", "-q", "gone.txt"]);
    fs::write(f.root.join("image.bin"), [0u8, 7, 7, 0]).unwrap();
    git(&f.root, &["mv", "r.txt", "r-main.txt"]);
    f.commit(&f.root, "main");

    let err = f.finish(&f.request("T003")).unwrap_err();
    let text = refusal_text(&err);
    assert!(
        text.starts_with(
            "T003 conflicts with main in 5 files:\n\
             \x20 gone.txt    deleted on main, changed by the task\n\
             \x20 image.bin   both modified (binary)\n\
             \x20 r-main.txt  main's new name for a file the task renamed too\n\
             \x20 r-task.txt  the task's new name for a file main renamed too\n\
             \x20 r.txt       renamed differently by the task and on main\n"
        ),
        "{text}"
    );
    assert_eq!(f.rev(&f.root, "par/T003"), tip);
    assert_eq!(f.status(&wt), "");

    // Resolved the way the hint says, the rename and the edit on main both land.
    let merge = Command::new("git").current_dir(&wt).args(["merge", "-q", "main"]).output().unwrap();
    assert!(!merge.status.success());
    git(&wt, &["rm", "-q", "gone.txt", "r-main.txt"]);
    let _ = Command::new("git").current_dir(&wt).args(["rm", "-q", "r.txt"]).output();
    fs::write(wt.join("image.bin"), [0u8, 9, 9, 9, 0]).unwrap();
    git(&wt, &["add", "image.bin", "r-task.txt"]);
    git(&wt, &["commit", "-q", "--no-edit"]);
    f.finish(&f.request("T003")).unwrap();
    assert_eq!(f.read(&f.root, "docs.txt"), "A\nb\nc\nd\ne\nf\ng\nH\n");
    assert!(!f.root.join("doc.txt").exists() && !f.root.join("gone.txt").exists());
}

#[test]
fn a_dirty_task_worktree_is_refused_and_commit_commits_it() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    let err = f.finish(&f.request("T001")).unwrap_err();
    assert_eq!(
        refusal_text(&err),
        "the worktree of T001 has uncommitted changes:\n  ?? src/alpha.txt\n\
         commit them, or let finish do it: `git par finish T001 --commit \"MESSAGE\"`"
    );
    assert_eq!(f.state().tasks["T001"].state, TaskStatus::Active);

    let mut req = f.request("T001");
    req.commit = Some("Add alpha".into());
    let landed = f.finish(&req).unwrap();
    assert_eq!(landed.commits[0].1, "Add alpha");
    assert_eq!(f.read(&f.root, "src/alpha.txt"), "alpha\n");
}

#[test]
fn the_main_worktree_may_not_have_changes_where_the_task_lands_but_keeps_others() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    f.write(&wt, "shared.txt", "one\ntwo\nthree\nfrom the task\n");
    f.commit(&wt, "task");
    // An untracked file the landing would overwrite.
    f.write(&f.root, "src/alpha.txt", "mine\n");
    let main_before = f.rev(&f.root, "main");
    let err = f.finish(&f.request("T001")).unwrap_err();
    let text = refusal_text(&err);
    assert!(text.starts_with(&format!(
        "the worktree of main ({}) has uncommitted changes in files T001 would change:\n  ?? src/alpha.txt\n",
        f.root.display()
    )));
    assert_eq!(f.rev(&f.root, "main"), main_before);
    fs::remove_file(f.root.join("src/alpha.txt")).unwrap();

    // Staged and unstaged work elsewhere survives the landing untouched.
    f.write(&f.root, "notes.txt", "staged\n");
    git(&f.root, &["add", "notes.txt"]);
    f.write(&f.root, ".gitignore", "logs/\n*.tmp\n");
    f.finish(&f.request("T001")).unwrap();
    assert_eq!(f.status(&f.root), " M .gitignore\nA  notes.txt\n");
    assert_eq!(f.read(&f.root, "shared.txt"), "one\ntwo\nthree\nfrom the task\n");
}

#[test]
fn a_failed_verify_puts_the_task_branch_back() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    let tip = f.commit(&wt, "Add alpha");
    f.write(&f.root, "other.txt", "main moved\n");
    let main_before = f.commit(&f.root, "Main moves on");

    let mut req = f.request("T001");
    req.verify = Some("echo checking; test -f other.txt && echo 'it fails' >&2 && exit 3".into());
    let err = f.finish(&req).unwrap_err();
    let text = refusal_text(&err);
    assert!(text.starts_with(
        "verify failed (exit 3): `echo checking; test -f other.txt && echo 'it fails' >&2 && exit 3`; its last lines:\nchecking\nit fails\n"
    ), "{text}");
    assert_eq!(f.rev(&f.root, "main"), main_before);
    assert_eq!(f.rev(&f.root, "par/T001"), tip);
    assert!(!wt.join("other.txt").exists());
    assert_eq!(f.status(&wt), "");
    assert_eq!(f.state().tasks["T001"].state, TaskStatus::Active);
    assert_eq!(f.journals(), 0);
}

#[test]
fn bad_input_is_refused_with_a_hint_and_changes_nothing() {
    let f = Fixture::new();
    let err = f.finish(&f.request("T009")).unwrap_err();
    assert_eq!(
        refusal_text(&err),
        "T009 is not active\nstart it first with `git par start T009`; no task is active"
    );

    let wt = f.start("T001");
    let err = f.finish(&f.request("T009")).unwrap_err();
    assert_eq!(refusal_text(&err), "T009 is not active\nactive tasks: T001; see `git par lock-status`");

    let mut req = f.request("T001");
    req.main_branch = "trunk".into();
    let err = f.finish(&req).unwrap_err();
    assert!(refusal_text(&err).starts_with("the main branch 'trunk' does not exist\n"));

    f.write(&wt, "src/alpha.txt", "alpha\n");
    let tip = f.commit(&wt, "Add alpha");
    fs::remove_dir_all(&wt).unwrap();
    let err = f.finish(&f.request("T001")).unwrap_err();
    assert!(refusal_text(&err).starts_with(&format!("the worktree of T001 is missing: {}\n", wt.display())));

    git(&f.root, &["worktree", "prune"]);
    git(&f.root, &["branch", "-D", "-q", "par/T001"]);
    let err = f.finish(&f.request("T001")).unwrap_err();
    assert!(refusal_text(&err).starts_with("the branch par/T001 of T001 is gone\n"));
    let _ = tip;
    assert_eq!(f.state().tasks["T001"].state, TaskStatus::Active);
    assert_eq!(f.journals(), 0);
}

#[test]
fn dry_run_changes_nothing_not_even_objects() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    let tip = f.commit(&wt, "Add alpha");
    f.write(&f.root, "other.txt", "main moved\n");
    let main_before = f.commit(&f.root, "Main moves on");
    let objects = git(&f.root, &["count-objects", "-v"]);

    let mut req = f.request("T001");
    req.dry_run = true;
    let landing = f.finish(&req).unwrap();
    assert_eq!(landing.commit, None);
    assert_eq!(landing.message.lines().next(), Some("T001: Add the alpha module in src/alpha.txt"));
    assert_eq!(landing.files, vec![Change { status: 'A', path: "src/alpha.txt".into(), from: None }]);
    assert!(landing.tasks_diff.contains("-- [ ] T001 [P]") && landing.tasks_diff.contains("+- [X] T001 [P]"));
    assert_eq!(git(&f.root, &["count-objects", "-v"]), objects);
    assert_eq!(f.rev(&f.root, "main"), main_before);
    assert_eq!(f.rev(&f.root, "par/T001"), tip);
    assert_eq!(f.state().tasks["T001"].state, TaskStatus::Active);
    assert!(!f.root.join(".git/par/merge.lock").exists());
}

#[test]
fn the_task_branch_editing_tasks_md_never_stops_a_landing() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    // The agent ticks its own box and adds a note; main changes the same region.
    let mine = TASKS
        .replace(
            "- [ ] T001 [P] Add the alpha module in src/alpha.txt\n",
            "- [x] T001 [P] Add the alpha module in src/alpha.txt\n",
        )
        .replace(
            "- [ ] T003 [P] Touch the shared file\n",
            "- [ ] T003 [P] Touch the shared file (task note)\n",
        );
    f.write(&wt, TASKS_FILE, &mine);
    f.commit(&wt, "work and tick");
    let theirs = TASKS.replace(
        "- [ ] T003 [P] Touch the shared file\n",
        "- [ ] T003 [P] Touch the shared file (main note)\n",
    );
    f.write(&f.root, TASKS_FILE, &theirs);
    f.commit(&f.root, "main edits tasks.md");

    let landed = f.finish(&f.request("T001")).unwrap();
    let tasks = f.read(&f.root, TASKS_FILE);
    assert!(tasks.contains("(main note)") && !tasks.contains("(task note)"), "{tasks}");
    assert!(
        // The agent's own tick, replayed by ID, is kept as written.
        tasks.contains("- [x] T001 [P] Add the alpha module in src/alpha.txt\n  - par: merged "),
        "{tasks}"
    );
    assert!(
        landed.dropped.contains("+- [ ] T003 [P] Touch the shared file (task note)"),
        "{}",
        landed.dropped
    );
}

/// Kills a finish at each crash point, repairs, and checks the repository is
/// consistent: landed once or not at all, tasks.md and the state agree.
#[test]
fn a_crash_at_any_step_is_repaired() {
    for &point in CRASH_POINTS {
        let f = Fixture::new();
        let wt = f.start("T001");
        f.write(&wt, "src/alpha.txt", "alpha\n");
        let tip = f.commit(&wt, "Add alpha");
        f.write(&f.root, "other.txt", "main moved\n");
        f.commit(&f.root, "Main moves on");
        let mut req = f.request("T001");
        req.verify = Some("true".into());

        TEST_CRASH.with(|c| *c.borrow_mut() = Some(point));
        let err = f.finish(&req).unwrap_err();
        TEST_CRASH.with(|c| *c.borrow_mut() = None);
        assert!(is_crash(&err), "{point}: {err:#}");
        assert_eq!(f.journals(), 1, "{point}");

        let found = interrupted(&f.ws()).unwrap();
        assert_eq!(found.len(), 1, "{point}");
        assert!(!found[0].live);
        let recovered = recover(&f.ws(), "T001", None).unwrap().unwrap();
        assert_eq!(recovered.warnings, Vec::<String>::new(), "{point}");
        let landed = recovered.completed;
        assert_eq!(
            landed,
            CRASH_POINTS.iter().position(|p| *p == point)
                >= CRASH_POINTS.iter().position(|p| *p == "main-moved"),
            "{point}"
        );

        assert_eq!(f.journals(), 0, "{point}");
        assert_eq!(f.landed_count("T001"), usize::from(landed), "{point}");
        let tasks = f.read(&f.root, TASKS_FILE);
        assert_eq!(tasks.contains("- [X] T001"), landed, "{point}");
        assert_eq!(f.status(&f.root), "", "{point}");
        if landed {
            assert!(f.state().tasks.is_empty(), "{point}");
            assert!(!wt.exists(), "{point}");
            assert_eq!(f.read(&f.root, "src/alpha.txt"), "alpha\n");
        } else {
            assert_eq!(f.state().tasks["T001"].state, TaskStatus::Active, "{point}");
            assert_eq!(f.rev(&f.root, "par/T001"), tip, "{point}");
            assert_eq!(f.status(&wt), "", "{point}");
            assert!(!wt.join("other.txt").exists(), "{point}");
            // And the task can land afterwards.
            f.finish(&req).unwrap();
            assert_eq!(f.landed_count("T001"), 1, "{point}");
        }
        git(&f.root, &["fsck", "--no-progress"]);
    }
}

#[test]
fn an_interrupted_finish_of_the_same_task_must_be_repaired_first() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    f.commit(&wt, "Add alpha");
    TEST_CRASH.with(|c| *c.borrow_mut() = Some("started"));
    f.finish(&f.request("T001")).unwrap_err();
    TEST_CRASH.with(|c| *c.borrow_mut() = None);
    let err = f.finish(&f.request("T001")).unwrap_err();
    assert_eq!(
        refusal_text(&err),
        "an interrupted finish of T001 needs repair first\nrun `git par doctor --repair`, then finish again if the task is still active"
    );
}

#[test]
fn the_queue_says_who_holds_it_and_times_out_busy() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    f.commit(&wt, "Add alpha");
    let ws = f.ws();
    let seen = std::cell::RefCell::new(Vec::new());
    let err = with_merge_lock(ws.par(), "T002", None, &|_| {}, || {
        // While T002 holds the queue, T001 waits 0.2 s and gives up with exit 3.
        let mut req = f.request("T001");
        req.wait = Some(Duration::from_millis(200));
        let started = Instant::now();
        let err = finish(&ws, &req, &|p| {
            if let Progress::Waiting { holder } = p {
                seen.borrow_mut().push(holder.map(str::to_string));
            }
        })
        .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200));
        Ok(err)
    })
    .unwrap();
    assert_eq!(crate::command_error::exit_code(&err), 3);
    assert_eq!(*seen.borrow(), vec![Some("T002".to_string())]);
    assert!(refusal_text(&err).starts_with("the merge queue stayed busy for 0.2s (T002 is landing)\n"));
}

#[test]
fn main_moving_during_a_landing_sends_it_back_to_step_3() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    f.commit(&wt, "Add alpha");
    let root = f.root.clone();
    let moves = std::cell::Cell::new(0);
    TEST_BEFORE_SWAP.with(|h| {
        *h.borrow_mut() = Some(Box::new(move || {
            // Someone commits on main between the landing commit and the swap, once.
            if moves.get() == 0 {
                moves.set(1);
                fs::write(root.join("late.txt"), "late\n").unwrap();
                git(&root, &["add", "late.txt"]);
                git(&root, &["commit", "-q", "-m", "Late commit on main"]);
            }
        }))
    });
    let mut req = f.request("T001");
    // Verify runs again on the new merge: the second run sees the late file.
    req.verify = Some("(test -f late.txt && echo late || echo early) >> ../verify-runs".into());
    let retries = std::cell::RefCell::new(Vec::new());
    let landed = finish(&f.ws(), &req, &|p| {
        if let Progress::Retrying { attempt } = p {
            retries.borrow_mut().push(attempt);
        }
    });
    TEST_BEFORE_SWAP.with(|h| *h.borrow_mut() = None);
    landed.unwrap();
    assert_eq!(*retries.borrow(), vec![1]);
    assert_eq!(fs::read_to_string(f.worktrees.join("verify-runs")).unwrap(), "early\nlate\n");
    // The late commit is in main's history, the task landed once on top of it.
    assert_eq!(git(&f.root, &["log", "-1", "--format=%s", "main^1"]), "Late commit on main\n");
    assert_eq!(f.landed_count("T001"), 1);
    assert_eq!(f.read(&f.root, "late.txt"), "late\n");
    assert_eq!(f.status(&f.root), "");
}

/// libgit2 has no directory-rename detection: where `git merge` stops with
/// "CONFLICT (file location)", the landing keeps the task's new file in the
/// directory main renamed away. The README documents this.
#[test]
fn a_directory_renamed_on_main_is_not_followed() {
    let f = Fixture::new();
    f.write(&f.root, "lib/a.txt", "a\n");
    f.commit(&f.root, "lib");
    let wt = f.start("T001");
    f.write(&wt, "lib/new.txt", "new\n");
    f.commit(&wt, "task adds to lib/");
    git(&f.root, &["mv", "lib", "src"]);
    f.commit(&f.root, "main renames lib/ to src/");
    f.finish(&f.request("T001")).unwrap();
    assert_eq!(git(&f.root, &["ls-files", "lib", "src"]), "lib/new.txt\nsrc/a.txt\n");
}

#[test]
fn main_checked_out_nowhere_or_in_a_linked_worktree() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    f.commit(&wt, "Add alpha");
    // The main worktree moves to another branch; main itself lives in a linked worktree.
    git(&f.root, &["switch", "-q", "-c", "elsewhere"]);
    let main_wt = f.worktrees.join("main-wt");
    git(&f.root, &["worktree", "add", "-q", main_wt.to_str().unwrap(), "main"]);
    f.finish(&f.request("T001")).unwrap();
    assert_eq!(f.read(&main_wt, "src/alpha.txt"), "alpha\n");
    assert_eq!(f.status(&main_wt), "");
    assert!(!f.root.join("src/alpha.txt").exists(), "the worktree on another branch is left alone");
    assert_eq!(f.status(&f.root), "");
}

#[test]
fn a_merge_in_progress_in_the_main_worktree_is_refused() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    f.commit(&wt, "Add alpha");
    git(&f.root, &["switch", "-q", "-c", "side"]);
    f.write(&f.root, "shared.txt", "side\n");
    f.commit(&f.root, "side");
    git(&f.root, &["switch", "-q", "main"]);
    f.write(&f.root, "shared.txt", "main\n");
    let main_before = f.commit(&f.root, "main");
    let merge = Command::new("git").current_dir(&f.root).args(["merge", "-q", "side"]).output().unwrap();
    assert!(!merge.status.success());

    let err = f.finish(&f.request("T001")).unwrap_err();
    assert_eq!(
        refusal_text(&err),
        format!(
            "a merge is in progress in the worktree of main ({})\n\
             finish it (`git merge --continue`) or abort it (`git merge --abort`) there, then run `git par finish T001` again\n\
             nothing changed: main is as it was",
            f.root.display()
        )
    );
    assert_eq!(f.rev(&f.root, "main"), main_before);
    assert_eq!(f.state().tasks["T001"].state, TaskStatus::Active);
}

#[test]
fn an_uncommitted_tasks_md_is_ticked_in_the_main_worktree_after_landing() {
    let f = Fixture::new();
    // Untracked and not ignored: it shows as `??` in the main worktree.
    git(&f.root, &["rm", "-q", "--cached", TASKS_FILE]);
    git(&f.root, &["commit", "-q", "-m", "tasks.md is not tracked"]);
    let wt = f.start("T002");
    f.write(&wt, "src/beta.txt", "beta\n");
    f.commit(&wt, "Add beta");
    let landed = f.finish(&f.request("T002")).unwrap();
    assert_eq!(landed.message.lines().next(), Some("T002: Add the beta module in src/beta.txt"));
    let tasks = f.read(&f.root, TASKS_FILE);
    assert!(
        tasks.contains("- [X] T002 [P] Add the beta module in src/beta.txt\n  - par: merged "),
        "{tasks}"
    );
    assert_eq!(git(&f.root, &["ls-files", "specs"]), "");
    assert_eq!(f.status(&f.root), "?? specs/\n");
}

#[test]
fn a_task_without_commits_lands_as_one_commit_that_ticks_it() {
    let f = Fixture::new();
    let wt = f.start("T003");
    f.write(&f.root, "other.txt", "main moved\n");
    let main_before = f.commit(&f.root, "Main moves on");
    let mut req = f.request("T003");
    req.keep = true;
    let landed = f.finish(&req).unwrap();
    assert_eq!(landed.commits, vec![]);
    assert_eq!(f.rev(&f.root, "main^"), main_before);
    assert_eq!(git(&f.root, &["log", "-1", "--format=%P", "main"]).trim(), main_before, "no merge commit");
    assert_eq!(git(&f.root, &["diff", "--name-only", "main^", "main"]), format!("{TASKS_FILE}\n"));
    assert!(f.read(&f.root, TASKS_FILE).contains(
        "- [X] T003 [P] Touch the shared file\n  - par: landed with no changes · logs/parallel/T003.log\n"
    ));
    assert_eq!(
        git(&f.root, &["log", "-1", "--format=%B", "main"]),
        "T003: Touch the shared file\n\nThe task made no commits.\n\nPar-Task: T003\n\n"
    );
    // The kept branch is at the landing, the tree it was verified on.
    assert_eq!(f.rev(&f.root, "par/T003"), f.rev(&f.root, "main"));
    assert_eq!(f.read(&wt, "other.txt"), "main moved\n");
}

#[test]
fn a_commit_git_itself_refuses_puts_the_index_back_and_says_so() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    f.write(&wt, "notes.txt", "staged\n");
    git(&wt, &["add", "notes.txt"]);
    // Signing that cannot work: git fails with `fatal:`, no hook involved.
    git(&f.root, &["config", "commit.gpgSign", "true"]);
    git(&f.root, &["config", "gpg.program", "false"]);
    let mut req = f.request("T001");
    req.commit = Some("Add alpha".into());
    let shown = std::cell::RefCell::new(String::new());
    let err = finish(&f.ws(), &req, &|p| {
        if let Progress::CommitRefused { output } = p {
            shown.borrow_mut().push_str(output);
        }
    })
    .unwrap_err();
    assert!(shown.borrow().contains("fatal:"), "{}", shown.borrow());
    assert_eq!(
        refusal_text(&err),
        format!(
            "git commit failed on the changes of T001\n\
             commit them yourself in {}, then run `git par finish T001` again\n\
             nothing was committed, and the index is as it was",
            wt.display()
        )
    );
    assert_eq!(f.status(&wt), "A  notes.txt\n?? src/\n");
    assert_eq!(f.state().tasks["T001"].state, TaskStatus::Active);
}

#[test]
fn a_retried_landing_merges_main_once() {
    let f = Fixture::new();
    let wt = f.start("T001");
    f.write(&wt, "src/alpha.txt", "alpha\n");
    let tip = f.commit(&wt, "Add alpha");
    // Main moved before the finish (first attempt merges) and moves again before the swap.
    f.write(&f.root, "other.txt", "main moved\n");
    f.commit(&f.root, "Main moves on");
    let root = f.root.clone();
    let moves = std::cell::Cell::new(0);
    TEST_BEFORE_SWAP.with(|h| {
        *h.borrow_mut() = Some(Box::new(move || {
            if moves.get() == 0 {
                moves.set(1);
                fs::write(root.join("late.txt"), "late\n").unwrap();
                git(&root, &["add", "late.txt"]);
                git(&root, &["commit", "-q", "-m", "Late commit on main"]);
            }
        }))
    });
    let retries = std::cell::Cell::new(0);
    let landed = finish(&f.ws(), &f.request("T001"), &|p| {
        if let Progress::Retrying { .. } = p {
            retries.set(retries.get() + 1);
        }
    });
    TEST_BEFORE_SWAP.with(|h| *h.borrow_mut() = None);
    landed.unwrap();
    assert_eq!(retries.get(), 1);
    let late = f.rev(&f.root, "main^1");
    assert_eq!(git(&f.root, &["log", "-1", "--format=%s", &late]), "Late commit on main\n");
    // One landing commit, merging the task's own tip onto the latest main.
    assert_eq!(
        git(&f.root, &["log", "--merges", "--format=%s", "main"]),
        "T001: Add the alpha module in src/alpha.txt\n"
    );
    assert_eq!(f.rev(&f.root, "main^2"), tip);
    assert_eq!(git(&f.root, &["branch", "--list", "par/*"]), "");
    assert!(!wt.exists());
    assert_eq!(f.status(&f.root), "");
}
