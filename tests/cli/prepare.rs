//! New worktrees made ready to work in (DESIGN §12): `par.copy` brings
//! ignored files over from the main worktree, `par.setup` runs in the new
//! worktree, and a failing setup rolls the start back — for `start`,
//! `tmux` and `up` alike.

use std::fs;

use crate::common::TestRepo;

const TASKS: &str = "## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/b.py\n";

/// A repository whose main worktree holds ignored files, as a real one does.
fn repo() -> TestRepo {
    let repo = TestRepo::with_files(&[
        ("specs/001-demo/tasks.md", TASKS),
        (".gitignore", ".env*\nnode_modules/\nbuild/\nsecrets.txt\n"),
        ("README.md", "demo\n"),
    ]);
    repo.write(".env", "TOKEN=abc\n");
    repo.write(".env.local", "LOCAL=1\n");
    repo.write("services/api/.env", "API=1\n");
    repo.write("node_modules/left-pad/index.js", "module.exports = 1;\n");
    repo.write("build/out.o", "binary\n");
    repo.write("secrets.txt", "not to be copied\n");
    std::os::unix::fs::symlink("left-pad/index.js", repo.path("node_modules/entry.js")).unwrap();
    repo
}

#[test]
fn start_copies_the_ignored_files_par_copy_names_and_runs_par_setup() {
    let repo = repo();
    repo.git(&["config", "--add", "par.copy", ".env*"]);
    repo.git(&["config", "--add", "par.copy", "node_modules"]);
    repo.git(&["config", "par.setup", "echo \"setting up $GIT_PAR_TASK in $(pwd)\"; ls -a > setup-saw.txt"]);
    let run = repo.par(&["start", "T001"]).success();
    let wt = repo.worktree("T001");
    assert_eq!(run.stdout, format!("{}\n", wt.display()));
    assert_eq!(fs::read_to_string(wt.join(".env")).unwrap(), "TOKEN=abc\n");
    assert_eq!(fs::read_to_string(wt.join(".env.local")).unwrap(), "LOCAL=1\n");
    assert_eq!(fs::read_to_string(wt.join("services/api/.env")).unwrap(), "API=1\n");
    assert_eq!(
        fs::read_to_string(wt.join("node_modules/left-pad/index.js")).unwrap(),
        "module.exports = 1;\n"
    );
    assert_eq!(fs::read_link(wt.join("node_modules/entry.js")).unwrap().to_str(), Some("left-pad/index.js"));
    assert!(!wt.join("build").exists(), "build/ is ignored but not named in par.copy");
    assert!(!wt.join("secrets.txt").exists());
    // The setup ran in the worktree, after the copy, its output in the task's log.
    let saw = fs::read_to_string(wt.join("setup-saw.txt")).unwrap();
    assert!(saw.lines().any(|l| l == ".env") && saw.lines().any(|l| l == "node_modules"), "{saw}");
    let log = repo.read("logs/parallel/T001.log");
    assert!(log.contains(&format!("setting up T001 in {}\n", wt.display())), "{log}");
    assert!(log.contains(" setup T001 exit 0\n"), "{log}");
    assert!(log.contains(" copy T001 5 file(s) from the main worktree ("), "{log}");
    // Copies are not changes: the worktree is clean but for what the setup wrote.
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "?? setup-saw.txt\n");
}

#[test]
fn a_failing_setup_rolls_the_start_back() {
    let repo = repo();
    repo.git(&["config", "--add", "par.copy", ".env"]);
    repo.git(&["config", "par.setup", "echo installing; echo 'npm ERR! no network' >&2; exit 7"]);
    let run = repo.par(&["start", "T001", "T002"]).code(1);
    assert!(
        run.stderr.starts_with("error: could not start T001 T002; nothing was started\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("par.setup failed in the new worktree of T001 (exit 7)"), "{}", run.stderr);
    assert!(run.stderr.contains("npm ERR! no network"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: fix the command with `git config par.setup CMD`"), "{}", run.stderr);
    // Nothing is left: no worktree, no branch, no state entry.
    assert!(!repo.worktree("T001").exists() && !repo.worktree("T002").exists());
    assert_eq!(repo.git(&["branch", "--list", "par/*"]), "");
    assert_eq!(repo.git(&["worktree", "list"]).lines().count(), 1);
    let state: serde_json::Value = serde_json::from_str(&repo.read(".git/par/state.json")).unwrap();
    assert_eq!(state["tasks"], serde_json::json!({}));
    // Its output stays in the log to read.
    let log = repo.read("logs/parallel/T001.log");
    assert!(log.contains("installing\nnpm ERR! no network\n"), "{log}");
    assert!(log.contains(" setup T001 exit 7\n"), "{log}");
    // And once fixed, the start goes through.
    repo.git(&["config", "par.setup", "true"]);
    repo.par(&["start", "T001", "T002"]).success();
}

#[test]
fn copies_never_write_through_a_symlink_in_the_new_worktree() {
    let repo = repo();
    let outside = repo.tmp.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    // A tracked symlink where the ignored file's directory would be.
    std::os::unix::fs::symlink(&outside, repo.path("conf")).unwrap();
    repo.git(&["add", "conf"]);
    repo.git(&["commit", "-q", "-m", "conf link"]);
    fs::remove_file(repo.path("conf")).unwrap();
    repo.write("conf/.env", "X=1\n");
    repo.git(&["config", "--add", "par.copy", ".env"]);
    repo.par(&["start", "T001"]).success();
    assert!(!outside.join(".env").exists(), "wrote through the symlink");
    assert_eq!(fs::read_to_string(repo.worktree("T001").join(".env")).unwrap(), "TOKEN=abc\n");
}

#[test]
fn a_bad_copy_glob_is_refused_and_nothing_is_started() {
    let repo = repo();
    repo.git(&["config", "--add", "par.copy", "src/[a"]);
    let run = repo.par(&["start", "T001"]).code(1);
    assert!(run.stderr.contains("par.copy has an invalid glob 'src/[a'"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: fix it with `git config --unset-all par.copy`"), "{}", run.stderr);
    assert!(!repo.worktree("T001").exists());
}

#[test]
fn up_agents_work_in_prepared_worktrees() {
    let repo = repo();
    repo.git(&["config", "--add", "par.copy", ".env"]);
    repo.git(&["config", "par.setup", "mkdir -p build && echo prepared > build/prepared"]);
    repo.par(&["hook", "install"]).success();
    let seen = repo.tmp.path().join("seen");
    fs::create_dir_all(&seen).unwrap();
    let agent = format!(
        "cat .env build/prepared > {}/$GIT_PAR_TASK && mkdir -p src && echo ok >> \"$(printf '%s' \"$GIT_PAR_TASK_PATHS\" | head -n1)\" \
         && git add src && git commit -q -m work",
        seen.display()
    );
    let run = repo.par(&["up", "--agent", &agent]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for task in ["T001", "T002"] {
        assert_eq!(fs::read_to_string(seen.join(task)).unwrap(), "TOKEN=abc\nprepared\n");
    }
}

#[test]
fn tmux_panes_open_in_prepared_worktrees() {
    if !std::process::Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let repo = repo();
    repo.git(&["config", "--add", "par.copy", ".env"]);
    repo.git(&["config", "par.setup", "mkdir -p build && echo prepared > build/prepared"]);
    let dir = repo.tmp.path().join("tmux");
    fs::create_dir_all(&dir).unwrap();
    let out = repo
        .par_command(&repo.root, &["tmux", "T001", "--no-attach"])
        .env("TMUX_TMPDIR", &dir)
        .output()
        .unwrap();
    let _ = crate::common::isolated("tmux", &repo.home).env("TMUX_TMPDIR", &dir).arg("kill-server").output();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let wt = repo.worktree("T001");
    assert_eq!(fs::read_to_string(wt.join(".env")).unwrap(), "TOKEN=abc\n");
    assert_eq!(fs::read_to_string(wt.join("build/prepared")).unwrap(), "prepared\n");
}
