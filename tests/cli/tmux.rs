//! `tmux`: a real tmux server on a private socket directory.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{isolated, Run, TestRepo};

const TASKS: &str = "## Phase 1: Setup

- [ ] T001 [P] Loader in src/loader.py and tests/test_loader.py
- [ ] T002 [P] Pricing in src/pricing.rs
- [ ] T003 [P] Create $(touch pwned-dollar) and `touch pwned-backtick` in src/evil.py
";

/// A tmux server private to one test.
struct Tmux<'a> {
    repo: &'a TestRepo,
    dir: std::path::PathBuf,
}

impl<'a> Tmux<'a> {
    fn new(repo: &'a TestRepo) -> Tmux<'a> {
        let dir = repo.tmp.path().join("tmux");
        std::fs::create_dir_all(&dir).unwrap();
        Tmux { repo, dir }
    }

    fn par(&self, args: &[&str]) -> Run {
        let out =
            self.repo.par_command(&self.repo.root, args).env("TMUX_TMPDIR", &self.dir).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out =
            isolated("tmux", &self.repo.home).env("TMUX_TMPDIR", &self.dir).args(args).output().unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the pane shows `needle`, returning its text.
    fn wait_for(&self, pane: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.tmux(&["capture-pane", "-p", "-J", "-t", pane]);
            if text.contains(needle) || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ =
            isolated("tmux", &self.repo.home).env("TMUX_TMPDIR", &self.dir).args(["kill-server"]).output();
    }
}

fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success())
}

#[test]
fn one_pane_per_task_in_its_worktree_with_its_environment() {
    assert!(tmux_available(), "the tests need tmux (.ci/run installs it)");
    let repo = TestRepo::with_tasks(TASKS);
    repo.git(&["config", "--add", "par.paneEnv", "RUST_LOG=debug"]);
    let tmux = Tmux::new(&repo);
    let json = tmux.par(&["--json", "tmux", "T001", "T002", "--no-attach"]).success().json();
    assert_eq!(json["session"], "git-par");
    let panes = json["panes"].as_array().unwrap();
    assert_eq!(panes.len(), 2);
    assert_eq!(panes[0]["id"], "T001");
    // Both tasks were started by tmux.
    let status = repo.par(&["--json", "lock-status"]).success().json();
    assert_eq!(status["tasks"].as_array().unwrap().len(), 2);

    let listed = tmux.tmux(&["list-panes", "-t", "=git-par:", "-F", "#{pane_id} #{pane_current_path}"]);
    let expected: Vec<String> = ["T001", "T002"]
        .iter()
        .zip(panes)
        .map(|(id, p)| format!("{} {}", p["pane"].as_str().unwrap(), repo.worktree(id).display()))
        .collect();
    assert_eq!(listed.lines().collect::<Vec<_>>(), expected);
    assert_eq!(tmux.tmux(&["list-windows", "-t", "=git-par", "-F", "#{window_name}"]), "tasks\n");

    let first = panes[0]["pane"].as_str().unwrap();
    // Finishing removes the pane's worktree, so the pane says to finish from the main one.
    let finish = format!("finish    cd {} && git par finish T001", repo.root.display());
    let text = tmux.wait_for(first, &finish);
    assert!(text.contains(&finish), "{text}");
    assert!(text.contains("git-par · T001 [P]"), "{text}");
    assert!(
        text.contains("command   pytest tests/test_loader.py -q    (not run: type it to run it)"),
        "{text}"
    );
    assert!(text.contains(&format!("log       {}", repo.path("logs/parallel/T001.log").display())), "{text}");

    tmux.tmux(&[
        "send-keys",
        "-t",
        first,
        "echo \"PP=$PYTHONPATH LOG=$RUST_LOG TASK=$GIT_PAR_TASK\"",
        "Enter",
    ]);
    let text = tmux.wait_for(first, "PP=. LOG=debug TASK=T001");
    assert!(text.contains("PP=. LOG=debug TASK=T001"), "{text}");
}

#[test]
fn text_from_tasks_md_is_shown_never_executed() {
    assert!(tmux_available(), "the tests need tmux (.ci/run installs it)");
    let repo = TestRepo::with_tasks(TASKS);
    let tmux = Tmux::new(&repo);
    let json = tmux.par(&["--json", "tmux", "T003", "--no-attach"]).success().json();
    let pane = json["panes"][0]["pane"].as_str().unwrap().to_string();
    let text = tmux.wait_for(&pane, "&& git par finish T003");
    assert!(
        text.contains("Create $(touch pwned-dollar) and `touch pwned-backtick` in src/evil.py"),
        "{text}"
    );
    std::thread::sleep(Duration::from_millis(200));
    for dir in [repo.root.clone(), repo.worktree("T003"), repo.home.clone()] {
        assert!(!Path::new(&dir).join("pwned-dollar").exists());
        assert!(!Path::new(&dir).join("pwned-backtick").exists());
    }
}

#[test]
fn an_existing_session_is_refused_unless_add() {
    assert!(tmux_available(), "the tests need tmux (.ci/run installs it)");
    let repo = TestRepo::with_tasks(TASKS);
    let tmux = Tmux::new(&repo);
    tmux.par(&["tmux", "T001", "--no-attach", "-s", "work"]).success();
    let run = tmux.par(&["tmux", "T002", "--no-attach", "-s", "work"]).code(1);
    assert_eq!(
        run.stderr,
        "error: a tmux session named 'work' already exists\nhint: add panes to it with --add, or choose another name with -s NAME\n"
    );
    // The refusal started nothing.
    let status = repo.par(&["--json", "lock-status"]).success().json();
    assert_eq!(status["tasks"].as_array().unwrap().len(), 1);
    tmux.par(&["tmux", "T002", "--no-attach", "-s", "work", "--add"]).success();
    assert_eq!(tmux.tmux(&["list-panes", "-t", "=work:", "-F", "#{pane_id}"]).lines().count(), 2);
}

#[test]
fn unknown_task_and_bad_pane_env_change_nothing() {
    assert!(tmux_available(), "the tests need tmux (.ci/run installs it)");
    let repo = TestRepo::with_tasks(TASKS);
    let tmux = Tmux::new(&repo);
    tmux.par(&["tmux", "T001", "T999", "--no-attach"]).code(1);
    repo.git(&["config", "--add", "par.paneEnv", "not valid"]);
    let run = tmux.par(&["tmux", "T001", "--no-attach"]).code(1);
    assert!(run.stderr.contains("invalid par.paneEnv entry 'not valid'"), "{}", run.stderr);
    let status = repo.par(&["--json", "lock-status"]).success().json();
    assert_eq!(status["tasks"].as_array().unwrap().len(), 0);
}

#[test]
fn inside_tmux_it_switches_the_client_instead_of_nesting() {
    assert!(tmux_available(), "the tests need tmux (.ci/run installs it)");
    let repo = TestRepo::with_tasks(TASKS);
    let tmux = Tmux::new(&repo);
    // $TMUX says "inside a tmux client" (socket, server pid, session); this
    // private server has no client attached, so the switch fails — and the
    // failure names the verb used.
    tmux.tmux(&["new-session", "-d", "-s", "outer"]);
    let socket = tmux.tmux(&["display-message", "-p", "-t", "=outer:", "#{socket_path},#{pid},0"]);
    let out = repo
        .par_command(&repo.root, &["tmux", "T001", "-s", "inner"])
        .env("TMUX_TMPDIR", &tmux.dir)
        .env("TMUX", socket.trim())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: tmux switch-client -t inner failed"), "{stderr}");
    assert!(!stderr.contains("attach-session"), "{stderr}");
    // The session itself was made: switching is the only step that needs a client.
    assert_eq!(tmux.tmux(&["list-sessions", "-F", "#{session_name}"]), "inner\nouter\n");
}

#[test]
fn outside_tmux_without_a_terminal_it_does_not_attach_but_says_how() {
    assert!(tmux_available(), "the tests need tmux (.ci/run installs it)");
    let repo = TestRepo::with_tasks(TASKS);
    let tmux = Tmux::new(&repo);
    let run = tmux.par(&["tmux", "T001", "-s", "detached"]).success();
    assert!(
        run.stderr.ends_with("hint: not a terminal, so not attaching: run `tmux attach -t detached`\n"),
        "{}",
        run.stderr
    );
}

/// tmux expands formats in a pane's start directory, and `#(cmd)` in a
/// format runs `cmd`: a repository directory named so must run nothing.
#[test]
fn a_directory_name_is_no_tmux_format() {
    assert!(tmux_available(), "the tests need tmux (.ci/run installs it)");
    let mut repo = TestRepo::with_tasks(TASKS);
    let odd = repo.root.with_file_name("proj#(cd;touch pwned-format)#{pane_id}");
    std::fs::rename(&repo.root, &odd).unwrap();
    repo.root = odd;
    let tmux = Tmux::new(&repo);
    let json = tmux.par(&["--json", "tmux", "T001", "--no-attach"]).success().json();
    let pane = json["panes"][0]["pane"].as_str().unwrap().to_string();
    tmux.wait_for(&pane, "finish    git par finish T001");
    let listed = tmux.tmux(&["list-panes", "-t", "=git-par:", "-F", "#{pane_current_path}"]);
    let worktree = repo.root.with_file_name("proj#(cd;touch pwned-format)#{pane_id}.par").join("T001");
    assert_eq!(listed, format!("{}\n", worktree.display()));
    // A session name is expanded too.
    let json = tmux
        .par(&["--json", "tmux", "T002", "-s", "s#(cd;touch pwned-session)", "--no-attach"])
        .success()
        .json();
    assert_eq!(json["session"], "s#(cd;touch pwned-session)");
    assert_eq!(
        tmux.tmux(&["list-sessions", "-F", "#{session_name}"]),
        "git-par\ns#(cd;touch pwned-session)\n"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(!repo.home.join("pwned-format").exists(), "tmux ran a command from the directory's name");
    assert!(!repo.home.join("pwned-session").exists(), "tmux ran a command from the session's name");
}
