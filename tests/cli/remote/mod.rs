//! Remote mode (DESIGN §9): several clones of one remote acting as machines
//! (each its own `GIT_PAR_HOST`), against a bare repository by `file://`,
//! `git daemon` and smart HTTP on 127.0.0.1, each started by the test.

mod servers;
mod torture;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use self::servers::{Server, Transport};
use crate::common::{bin, isolated, Run};

pub const TASKS: &str = "\
# Tasks

## Phase 1

- [ ] T001 [P] Write src/a.py
- [ ] T002 [P] Write src/b.py
- [ ] T003 [P] Write src/a.py and src/c.py
- [ ] T004 [P] Write src/d.py
";

/// A remote and the machines that share it.
pub struct Cluster {
    _tmp: tempfile::TempDir,
    pub base: PathBuf,
    pub home: PathBuf,
    /// The bare repository.
    pub bare: PathBuf,
    pub url: String,
    _server: Server,
}

/// One clone, acting as a machine named `host`.
pub struct Machine {
    pub root: PathBuf,
    pub home: PathBuf,
    pub host: String,
}

impl Cluster {
    /// A remote holding `tasks` (and the files they name) on `main`; `None`
    /// (with the reason printed) when the transport's server is not installed.
    pub fn new(transport: Transport, tasks: &str, files: &[&str]) -> Option<Cluster> {
        if let Some(why) = servers::missing(transport) {
            eprintln!("skipped: {transport:?} remote: {why}");
            return None;
        }
        let tmp = tempfile::Builder::new().prefix("git-par-remote").tempdir().expect("tempdir");
        let base = fs::canonicalize(tmp.path()).expect("canonicalize");
        let home = base.join("home");
        let srv = base.join("srv");
        fs::create_dir_all(&home).expect("mkdir home");
        fs::create_dir_all(&srv).expect("mkdir srv");
        let bare = srv.join("plan.git");
        git(&home, &base, &["init", "-q", "--bare", "-b", "main", &bare.to_string_lossy()]);
        git(&home, &bare, &["config", "http.receivepack", "true"]);
        let seed = base.join("seed");
        git(&home, &base, &["init", "-q", "-b", "main", &seed.to_string_lossy()]);
        write(&seed.join("specs/001-demo/tasks.md"), tasks);
        for file in files {
            write(&seed.join(file), &format!("{file}\n"));
        }
        git(&home, &seed, &["add", "-A"]);
        git(&home, &seed, &["commit", "-q", "-m", "initial"]);
        git(&home, &seed, &["push", "-q", &bare.to_string_lossy(), "main"]);
        let (server, url) = servers::serve(transport, &srv, "plan.git");
        Some(Cluster { _tmp: tmp, base, home, bare, url, _server: server })
    }

    /// The usual remote: [`TASKS`] and its files.
    pub fn plan(transport: Transport) -> Option<Cluster> {
        Cluster::new(transport, TASKS, &["src/a.py", "src/b.py", "src/c.py", "src/d.py"])
    }

    /// A new clone in `remote` mode, as machine `host`.
    pub fn machine(&self, host: &str) -> Machine {
        let root = self.base.join(host);
        git(&self.home, &self.base, &["clone", "-q", &self.url, &root.to_string_lossy()]);
        let machine = Machine { root, home: self.home.clone(), host: host.to_string() };
        machine.git(&["config", "par.remote", "origin"]);
        // Smart HTTP: one request body with a length rather than chunks.
        machine.git(&["config", "http.postBuffer", "104857600"]);
        machine
    }

    /// git in the bare repository.
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.home, &self.bare, args)
    }

    /// The remote's state, `refs/par/state:state.json`.
    pub fn state(&self) -> Value {
        serde_json::from_str(&self.git(&["show", "refs/par/state:state.json"])).expect("state.json")
    }

    /// The subjects of the audit log, oldest first.
    pub fn audit(&self) -> Vec<String> {
        let log = self.git(&["log", "--reverse", "--format=%s", "refs/par/state"]);
        log.lines().map(str::to_string).collect()
    }
}

impl Machine {
    /// `git-par ARGS` in the main worktree.
    pub fn par(&self, args: &[&str]) -> Run {
        self.par_in(&self.root, args)
    }

    /// `git-par ARGS` in `dir`.
    pub fn par_in(&self, dir: &Path, args: &[&str]) -> Run {
        run(self.par_command(dir, args))
    }

    /// The `git-par ARGS` command, not yet run.
    pub fn par_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = isolated(bin(), &self.home);
        cmd.current_dir(dir).args(args).env("GIT_PAR_HOST", &self.host).env("GIT_TERMINAL_PROMPT", "0");
        cmd
    }

    /// git in the main worktree; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.home, &self.root, args)
    }

    /// A task's worktree.
    pub fn worktree(&self, id: &str) -> PathBuf {
        self.root.with_file_name(format!("{}.par", self.host)).join(id)
    }

    /// Writes `file` in the task's worktree and commits it there.
    pub fn work(&self, id: &str, file: &str, content: &str) {
        let wt = self.worktree(id);
        write(&wt.join(file), content);
        git(&self.home, &wt, &["add", "-A"]);
        git(&self.home, &wt, &["commit", "-q", "-m", &format!("{id} work")]);
    }
}

/// Starts `cmd` with its output captured.
pub fn spawn(mut cmd: Command) -> std::process::Child {
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("spawn")
}

fn run(mut cmd: Command) -> Run {
    let output = cmd.output().expect("git-par");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[track_caller]
pub fn git(home: &Path, dir: &Path, args: &[&str]) -> String {
    let run = run({
        let mut cmd = isolated("git", home);
        cmd.current_dir(dir).args(args);
        cmd
    });
    assert_eq!(run.code, 0, "git {args:?} in {} failed:\n{}", dir.display(), run.stderr);
    run.stdout
}

pub fn write(path: &Path, content: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, content).expect("write");
}

/// How many times `id` is ticked, and how many result lines it has, in `text`.
pub fn ticks(text: &str, id: &str) -> (usize, usize) {
    let ticked = text.lines().filter(|l| l.starts_with(&format!("- [X] {id} "))).count();
    let mut result_lines = 0;
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("- [") {
            inside = line.contains(&format!(" {id} "));
        } else if inside && line.trim_start().starts_with("- par:") {
            result_lines += 1;
        }
    }
    (ticked, result_lines)
}

// ---------------------------------------------------------------------------
// Two machines, one plan, over each transport.

fn two_machines(transport: Transport) {
    let Some(cluster) = Cluster::plan(transport) else { return };
    let (a, b) = (cluster.machine("machine-a"), cluster.machine("machine-b"));

    a.par(&["start", "T001"]).success();
    // B overlaps A's src/a.py: refused as busy, naming who holds what.
    let refused = b.par(&["start", "T003"]).code(3);
    assert!(
        refused.stderr.contains("src/a.py held by T001 (tester@machine-a)"),
        "stderr: {}",
        refused.stderr
    );
    b.par(&["start", "T002"]).success();
    let state = cluster.state();
    assert_eq!(state["tasks"]["T001"]["owner"]["host"], "machine-a");
    assert_eq!(state["tasks"]["T002"]["owner"]["host"], "machine-b");
    assert!(state["tasks"].get("T003").is_none());
    assert!(state["heartbeats"]["machine-a"].is_string() && state["heartbeats"]["machine-b"].is_string());
    // The local state is not used in remote mode.
    assert!(!a.root.join(".git/par/state.json").exists());

    a.work("T001", "src/a.py", "A's a\n");
    b.work("T002", "src/b.py", "B's b\n");
    a.par(&["finish", "T001"]).success();
    // B lands on the remote main that has A's landing, merged into its task.
    let landed = b.par(&["finish", "T002", "--json"]).success().json();
    let remote_main = cluster.git(&["rev-parse", "main"]).trim().to_string();
    assert_eq!(landed["commit"], Value::String(remote_main.clone()));
    // B's main branch and main worktree followed the pushed main.
    assert_eq!(b.git(&["rev-parse", "main"]).trim(), remote_main);
    assert_eq!(fs::read_to_string(b.root.join("src/a.py")).expect("a.py"), "A's a\n");
    assert_eq!(fs::read_to_string(b.root.join("src/b.py")).expect("b.py"), "B's b\n");
    assert_eq!(b.git(&["status", "--porcelain"]), "");
    let tasks = cluster.git(&["show", "main:specs/001-demo/tasks.md"]);
    assert_eq!(ticks(&tasks, "T001"), (1, 1), "{tasks}");
    assert_eq!(ticks(&tasks, "T002"), (1, 1), "{tasks}");
    let subjects = cluster.git(&["log", "--format=%s", "main"]);
    assert_eq!(subjects.lines().filter(|s| s.starts_with("T001: ")).count(), 1, "{subjects}");
    assert_eq!(subjects.lines().filter(|s| s.starts_with("T002: ")).count(), 1, "{subjects}");
    assert_eq!(cluster.state()["tasks"], serde_json::json!({}));

    // The audit log is the history of refs/par/state.
    let audit = cluster.audit();
    for expected in [
        "start T001 by tester@machine-a",
        "start T002 by tester@machine-b",
        "finish T001 by tester@machine-a",
        "finish T002 by tester@machine-b",
    ] {
        assert!(audit.iter().any(|s| s == expected), "{expected} not in {audit:#?}");
    }
    assert!(!audit.iter().any(|s| s.contains("T003")), "{audit:#?}");
    // A start is one push: its record and its event in one commit.
    assert_eq!(audit.iter().filter(|s| s.starts_with("start T001")).count(), 1, "{audit:#?}");
    let log = a.par(&["log", "--json"]).success().json();
    let subjects: Vec<&str> =
        log["log"].as_array().expect("log").iter().map(|e| e["subject"].as_str().unwrap_or("")).collect();
    assert_eq!(subjects.first(), Some(&"finish T002 by tester@machine-b"), "{subjects:?}");
    let finish = &log["log"][0]["events"][0];
    assert_eq!(finish["event"], "finish");
    assert_eq!(finish["commit"], Value::String(remote_main));
    cluster.git(&["fsck", "--no-progress"]);
}

#[test]
fn two_machines_over_file_url() {
    two_machines(Transport::File);
}

#[test]
fn two_machines_over_git_daemon() {
    two_machines(Transport::Daemon);
}

#[test]
fn two_machines_over_smart_http() {
    two_machines(Transport::Http);
}

#[test]
fn a_task_landed_from_another_machine_is_not_started_again() {
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let (a, b) = (cluster.machine("machine-a"), cluster.machine("machine-b"));
    b.par(&["sync"]).success();
    a.par(&["start", "T001"]).success();
    a.work("T001", "src/a.py", "A's a\n");
    a.par(&["finish", "T001"]).success();
    // B's tasks.md still shows T001 open; the remote state knows better.
    let tasks = fs::read_to_string(b.root.join("specs/001-demo/tasks.md")).expect("tasks.md");
    assert_eq!(ticks(&tasks, "T001"), (0, 0));
    let run = b.par(&["start", "T001"]).code(1);
    assert!(run.stderr.contains("T001 is already done"), "{}", run.stderr);
    assert!(!b.worktree("T001").exists());
    assert_eq!(cluster.state()["tasks"], serde_json::json!({}));
}

#[test]
fn racing_starts_for_one_path_exactly_one_wins() {
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let (a, b) = (cluster.machine("machine-a"), cluster.machine("machine-b"));
    for round in 0..4 {
        let x = spawn(a.par_command(&a.root, &["start", "T001"]));
        let y = spawn(b.par_command(&b.root, &["start", "T003"]));
        let (x, y) = (x.wait_with_output().expect("wait"), y.wait_with_output().expect("wait"));
        let codes = (x.status.code(), y.status.code());
        let (winner, loser_err, loser_holder) = match codes {
            (Some(0), Some(3)) => {
                (&a, String::from_utf8_lossy(&y.stderr).into_owned(), "T001 (tester@machine-a)")
            }
            (Some(3), Some(0)) => {
                (&b, String::from_utf8_lossy(&x.stderr).into_owned(), "T003 (tester@machine-b)")
            }
            other => panic!(
                "round {round}: exit codes {other:?}\n{}\n{}",
                String::from_utf8_lossy(&x.stderr),
                String::from_utf8_lossy(&y.stderr)
            ),
        };
        assert!(
            loser_err.contains(&format!("src/a.py held by {loser_holder}")),
            "round {round}: {loser_err}"
        );
        let state = cluster.state();
        assert_eq!(state["tasks"].as_object().map(|t| t.len()), Some(1), "round {round}: {state}");
        let id = if winner.host == "machine-a" { "T001" } else { "T003" };
        winner.par(&["abort", id]).success();
    }
}

#[test]
fn a_state_that_keeps_moving_is_busy_after_the_wait() {
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let a = cluster.machine("machine-a");
    a.par(&["start", "T001"]).success();
    a.work("T001", "src/a.py", "A's a\n");
    // Another "machine" moves refs/par/state all the time, each time to a
    // new commit of the same state.
    let tip = cluster.git(&["rev-parse", "refs/par/state"]).trim().to_string();
    let tree = format!("{tip}^{{tree}}");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammer = {
        let (stop, home, bare) = (stop.clone(), cluster.home.clone(), cluster.bare.clone());
        std::thread::spawn(move || {
            let (mut parent, mut n) = (tip, 0);
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let message = format!("other {n}");
                let next = git(&home, &bare, &["commit-tree", &tree, "-p", &parent, "-m", &message]);
                parent = next.trim().to_string();
                git(&home, &bare, &["update-ref", "refs/par/state", &parent]);
                n += 1;
            }
        })
    };
    let started = Instant::now();
    let run = a.par(&["finish", "T001", "--wait", "1"]);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    hammer.join().expect("hammer");
    let run = run.code(3);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(run.stderr.contains("the state on 'origin' kept changing under this command"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: run the command again"), "{}", run.stderr);
    // Nothing landed; once the others are quiet the finish goes through.
    assert_eq!(cluster.git(&["log", "--format=%s", "main"]).lines().count(), 1);
    a.par(&["finish", "T001"]).success();
}

#[test]
fn an_unreachable_remote_is_exit_1_naming_it_never_a_local_fallback() {
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let a = cluster.machine("machine-a");
    a.git(&["remote", "set-url", "origin", &cluster.base.join("gone.git").to_string_lossy()]);
    let run = a.par(&["start", "T001"]).code(1);
    assert!(run.stderr.starts_with("error: cannot reach the remote 'origin': "), "{}", run.stderr);
    assert!(run.stderr.contains("does not appear to be a git repository"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: check that `git fetch origin` works from here"), "{}", run.stderr);
    assert!(!a.root.join(".git/par/state.json").exists());
    assert!(!a.worktree("T001").exists());
    a.par(&["lock-status"]).code(1);
    // Not a remote at all.
    a.git(&["config", "par.remote", "upstream"]);
    let run = a.par(&["lock-status"]).code(1);
    assert!(run.stderr.contains("par.remote names 'upstream', which is not a remote"), "{}", run.stderr);
}

#[test]
fn switching_modes_with_active_tasks_is_refused() {
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let a = cluster.machine("machine-a");
    // Local tasks first, then remote mode asked for.
    a.git(&["config", "--unset", "par.remote"]);
    a.par(&["start", "T001"]).success();
    let run = a.par(&["--remote", "origin", "start", "T002"]).code(1);
    assert!(
        run.stderr.contains(
            "cannot keep the state on 'origin': tasks are active in this repository's local state (T001)"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: finish or abort them first"), "{}", run.stderr);
    assert!(cluster.git(&["for-each-ref", "refs/par/"]).is_empty());
    a.par(&["abort", "T001"]).success();
    // Remote mode with a task, then back to local.
    a.par(&["--remote", "origin", "start", "T002"]).success();
    let run = a.par(&["lock-status"]).code(1);
    assert!(
        run.stderr.contains("the state of this repository lives on 'origin', where tasks are active (T002)"),
        "{}",
        run.stderr
    );
    let local = fs::read_to_string(a.root.join(".git/par/state.json")).expect("the local state of T001");
    assert!(!local.contains("T002"), "{local}");
    a.par(&["--remote", "origin", "abort", "T002"]).success();
    // Nothing active any more: local mode is fine again.
    a.par(&["lock-status"]).success();
}

#[test]
fn the_hook_checks_the_fetched_copy_without_the_network() {
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let (a, b) = (cluster.machine("machine-a"), cluster.machine("machine-b"));
    b.par(&["hook", "install"]).success();
    a.par(&["start", "T001"]).success();
    b.par(&["sync"]).success();
    // The remote is gone: the hook still refuses with the copy sync fetched.
    b.git(&["remote", "set-url", "origin", &cluster.base.join("gone.git").to_string_lossy()]);
    write(&b.root.join("src/a.py"), "B edits a\n");
    b.git(&["add", "src/a.py"]);
    let check = b.par(&["check", "--staged"]).code(1);
    assert!(check.stderr.contains("src/a.py") && check.stderr.contains("T001"), "{}", check.stderr);
    let commit = run({
        let mut cmd = isolated("git", &b.home);
        cmd.current_dir(&b.root).args(["commit", "-q", "-m", "edit a"]).env("GIT_PAR_HOST", "machine-b");
        cmd
    });
    assert_eq!(commit.code, 1, "{}", commit.stderr);
    assert!(commit.stderr.contains("T001"), "{}", commit.stderr);
    // A path nobody holds goes through.
    b.git(&["reset", "-q"]);
    write(&b.root.join("src/b.py"), "B edits b\n");
    b.git(&["add", "src/b.py"]);
    b.par(&["check", "--staged"]).success();
    // And a command that needs the state says the remote is unreachable.
    b.par(&["sync"]).code(1);
}

#[test]
fn stale_locks_show_after_the_ttl_and_unlock_force_is_in_the_audit_log() {
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let (a, b) = (cluster.machine("machine-a"), cluster.machine("machine-b"));
    a.par(&["start", "T001"]).success();
    // Within the default 24 h: not stale, and B does not call it stale for
    // lacking A's worktree.
    let rows = b.par(&["lock-status", "--stale", "--json"]).success().json();
    assert_eq!(rows["tasks"], serde_json::json!([]));
    let rows = b.par(&["lock-status", "--json"]).success().json();
    assert_eq!(rows["tasks"][0]["id"], "T001");
    assert_eq!(rows["tasks"][0]["stale"], false);
    assert!(rows["tasks"][0]["heartbeat"].is_string());
    std::thread::sleep(Duration::from_millis(2100));
    b.git(&["config", "par.lockTTL", "1s"]);
    let rows = b.par(&["lock-status", "--stale", "--json"]).success().json();
    assert_eq!(rows["tasks"][0]["id"], "T001", "{rows}");
    let why = rows["tasks"][0]["stale_reason"].as_str().unwrap_or_default().to_string();
    assert!(why.starts_with("no heartbeat from machine-a for "), "{why}");
    // Nothing expires by itself.
    assert!(cluster.state()["tasks"]["T001"].is_object());
    b.par(&["unlock", "T001"]).code(1);
    b.par(&["unlock", "T001", "--force"]).success();
    assert_eq!(cluster.state()["tasks"], serde_json::json!({}));
    assert_eq!(cluster.audit().last().map(String::as_str), Some("unlock T001 by tester@machine-b"));
    let body = cluster.git(&["log", "-1", "--format=%b", "refs/par/state"]);
    let event: Value = serde_json::from_str(body.trim()).expect("event");
    assert_eq!(event["forced"], true);
    assert_eq!(event["previous_owner"], "tester@machine-a");
    // A's worktree and branch are untouched; B can take the path now.
    assert!(a.worktree("T001").is_dir());
    b.par(&["start", "T003"]).success();
}

#[test]
fn doctor_reports_other_machines_tasks_and_never_drops_them() {
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let (a, b) = (cluster.machine("machine-a"), cluster.machine("machine-b"));
    a.par(&["start", "T001"]).success();
    b.par(&["start", "T002"]).success();
    // B's own task loses its worktree and branch: B's doctor drops it; A's stays.
    fs::remove_dir_all(b.worktree("T002")).expect("rm worktree");
    b.git(&["worktree", "prune"]);
    b.git(&["branch", "-D", "par/T002"]);
    let report = b.par(&["doctor", "--repair", "--json"]).json();
    let findings = report["findings"].as_array().expect("findings");
    let other = findings.iter().find(|f| f["kind"] == "other-machine").expect("other-machine finding");
    assert_eq!(other["task"], "T001");
    assert_eq!(other["severity"], "note");
    assert_eq!(other["repair"], Value::Null);
    let own = findings.iter().find(|f| f["task"] == "T002").expect("T002 finding");
    assert_eq!(own["repaired"], true, "{own}");
    let state = cluster.state();
    assert!(state["tasks"]["T001"].is_object(), "{state}");
    assert!(state["tasks"].get("T002").is_none(), "{state}");
    // A's own doctor sees nothing wrong with its task.
    let report = a.par(&["doctor", "--json"]).success().json();
    assert!(report["findings"].as_array().expect("findings").iter().all(|f| f["task"] != "T001"), "{report}");
}

/// A finish killed (as by kill -9) at `point`; doctor --repair on that machine.
fn killed_landing(point: &str) -> (Cluster, Machine, String) {
    let cluster = Cluster::plan(Transport::File).expect("file:// needs nothing");
    let a = cluster.machine("machine-a");
    a.par(&["start", "T001"]).success();
    a.work("T001", "src/a.py", "A's a\n");
    let before = cluster.git(&["rev-parse", "main"]).trim().to_string();
    let mut cmd = a.par_command(&a.root, &["finish", "T001"]);
    cmd.env("GIT_PAR_TEST_CRASH_AT", point);
    let died = run(cmd);
    assert_ne!(died.code, 0, "{point}: {}", died.stderr);
    let report = a.par(&["doctor", "--repair", "--json"]).json();
    assert!(
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["kind"] == "interrupted-finish" && f["repaired"] == true),
        "{point}: {report}"
    );
    a.par(&["doctor"]).success();
    (cluster, a, before)
}

#[test]
fn a_landing_killed_before_its_push_is_rolled_back_by_doctor() {
    let (cluster, a, before) = killed_landing("landing-commit");
    assert_eq!(cluster.git(&["rev-parse", "main"]).trim(), before);
    assert_eq!(cluster.state()["tasks"]["T001"]["state"], "active");
    assert_eq!(a.git(&["rev-parse", "main"]).trim(), before);
    a.par(&["finish", "T001"]).success();
    let tasks = cluster.git(&["show", "main:specs/001-demo/tasks.md"]);
    assert_eq!(ticks(&tasks, "T001"), (1, 1), "{tasks}");
}

#[test]
fn a_landing_killed_after_its_push_is_completed_by_doctor_asking_the_remote() {
    let (cluster, a, before) = killed_landing("main-moved");
    let main = cluster.git(&["rev-parse", "main"]).trim().to_string();
    assert_ne!(main, before);
    assert_eq!(cluster.state()["tasks"], serde_json::json!({}));
    // The local main and worktree followed; the task's worktree is gone.
    assert_eq!(a.git(&["rev-parse", "main"]).trim(), main);
    assert_eq!(fs::read_to_string(a.root.join("src/a.py")).expect("a.py"), "A's a\n");
    assert_eq!(a.git(&["status", "--porcelain"]), "");
    assert!(!a.worktree("T001").exists());
    let tasks = cluster.git(&["show", "main:specs/001-demo/tasks.md"]);
    assert_eq!(ticks(&tasks, "T001"), (1, 1), "{tasks}");
    assert_eq!(cluster.audit().iter().filter(|s| s.starts_with("finish T001")).count(), 1);
}

#[test]
fn concurrent_finishes_on_two_machines_both_land_once() {
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let (a, b) = (cluster.machine("machine-a"), cluster.machine("machine-b"));
    // A train depth above 1 must not matter: remote landings go one at a
    // time (riding the train, a landing once waited on the lock it held).
    a.git(&["config", "par.trainDepth", "4"]);
    a.par(&["start", "T001"]).success();
    b.par(&["start", "T002"]).success();
    a.work("T001", "src/a.py", "A's a\n");
    b.work("T002", "src/b.py", "B's b\n");
    let started = Instant::now();
    let x = spawn(a.par_command(&a.root, &["finish", "T001"]));
    let y = spawn(b.par_command(&b.root, &["finish", "T002"]));
    let (x, y) = (x.wait_with_output().expect("wait"), y.wait_with_output().expect("wait"));
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stderr));
    assert!(y.status.success(), "{}", String::from_utf8_lossy(&y.stderr));
    assert!(started.elapsed() < Duration::from_secs(60));
    let tasks = cluster.git(&["show", "main:specs/001-demo/tasks.md"]);
    assert_eq!(ticks(&tasks, "T001"), (1, 1), "{tasks}");
    assert_eq!(ticks(&tasks, "T002"), (1, 1), "{tasks}");
    assert_eq!(cluster.git(&["show", "main:src/a.py"]), "A's a\n");
    assert_eq!(cluster.git(&["show", "main:src/b.py"]), "B's b\n");
    assert_eq!(cluster.state()["tasks"], serde_json::json!({}));
    cluster.git(&["fsck", "--no-progress"]);
}

#[test]
fn the_hook_reads_the_lock_index_of_the_fetched_copy_and_never_a_damaged_one() {
    use git_par::state::lock_index::{self, LockIndex, LockTable};
    let Some(cluster) = Cluster::plan(Transport::File) else { return };
    let (a, b) = (cluster.machine("machine-a"), cluster.machine("machine-b"));
    a.par(&["start", "T001"]).success();
    b.par(&["sync"]).success();
    let (copy, index) =
        (b.root.join(".git/par/remote-state.json"), b.root.join(".git/par/remote-state.locks"));
    let agrees = || {
        let read = lock_index::read_stamped(&copy).unwrap().expect("the fetched copy");
        let state = serde_json::from_slice(&read.bytes).unwrap();
        LockIndex::read(&index, &read.stamp).map(|index| index.table() == Some(LockTable::of(&state)))
    };
    assert_eq!(agrees(), Some(true), "sync wrote the index of the copy it fetched");
    write(&b.root.join("src/a.py"), "B edits a\n");
    b.git(&["add", "src/a.py"]);
    let refused = |why: &str| {
        let check = b.par(&["check", "--staged"]);
        assert_eq!(check.code, 1, "{why}: {}", check.stderr);
        assert!(check.stderr.contains("src/a.py: locked by T001"), "{why}: {}", check.stderr);
    };
    refused("the index");
    let text = fs::read_to_string(&index).unwrap();
    fs::write(&index, text.replace("src/a.py", "src/a.px")).unwrap();
    assert_eq!(agrees(), None);
    refused("a damaged index");
    fs::remove_file(&index).unwrap();
    refused("no index");
    // A copy fetched later: the index of the older copy is not used for it.
    fs::write(&index, &text).unwrap();
    a.par(&["lock", "T001", "--add", "src/b.py"]).success();
    b.par(&["sync"]).success();
    assert_eq!(agrees(), Some(true));
    fs::write(&index, &text).unwrap();
    assert_eq!(agrees(), None, "the index of the older copy");
    b.git(&["reset", "-q"]);
    write(&b.root.join("src/b.py"), "B edits b\n");
    b.git(&["add", "src/b.py"]);
    let check = b.par(&["check", "--staged"]).code(1);
    assert!(check.stderr.contains("src/b.py: locked by T001"), "{}", check.stderr);
}
