//! `up`: whole plans run by stand-in agents (shell scripts) that succeed,
//! fail, hang, collide and step out of their scope, with real processes,
//! signals and kills.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Run, TestRepo};

/// The stand-in agent. Its behaviour per task comes from `$AGENT_DIR/behave`
/// (lines `ID ACTION`); it records when it starts and ends in `$AGENT_DIR/times`.
const AGENT: &str = r#"#!/bin/sh
times="$AGENT_DIR/times"
stamp() { echo "$GIT_PAR_TASK $1 $(date +%s.%N)" >> "$times"; }
stamp start
echo "$$" > "$AGENT_DIR/$GIT_PAR_TASK.pid"
{
  echo "task=$GIT_PAR_TASK"
  echo "description=$GIT_PAR_TASK_DESCRIPTION"
  echo "file=$GIT_PAR_TASK_FILE"
  echo "log=$GIT_PAR_LOG"
  echo "retry=$GIT_PAR_RETRY_REASON"
  echo "cwd=$(pwd)"
  printf 'paths=%s\n' "$GIT_PAR_TASK_PATHS"
} > "$AGENT_DIR/$GIT_PAR_TASK.env"
action=$(awk -v id="$GIT_PAR_TASK" '$1 == id { print $2 }' "$AGENT_DIR/behave" 2>/dev/null)
sleep "${AGENT_SLEEP:-0.3}"
case "$action" in
  fail) echo "stand-in agent: cannot do $GIT_PAR_TASK"; stamp end; exit 1 ;;
  hang) sleep 60; stamp end; exit 0 ;;
  outside) echo "changed by $GIT_PAR_TASK" >> README.md; stamp end; exit 0 ;;
  shared)
    if [ -n "$GIT_PAR_RETRY_REASON" ]; then
      git merge -q -X theirs --no-edit "$MAIN_BRANCH" >/dev/null 2>&1 || exit 2
    fi
    echo "$GIT_PAR_TASK was here" > shared.txt
    git add shared.txt && git commit -q -m "$GIT_PAR_TASK: shared" || exit 3 ;;
  failonce) if [ -z "$GIT_PAR_RETRY_REASON" ]; then echo "first try fails"; stamp end; exit 4; fi ;;
  long) sleep 1 ;;
  lockmain)
    # Another git command holds the main worktree's index for a while (11 s: past a landing's 10 s wait).
    touch "$GIT_PAR_MAIN/.git/index.lock"
    (sleep 11; rm -f "$GIT_PAR_MAIN/.git/index.lock") >/dev/null 2>&1 &
    ;;
  needsprep) [ -f prepared.txt ] || { echo "the worktree was not prepared"; stamp end; exit 9; } ;;
  selfblock) git-par block "$GIT_PAR_TASK" "needs a decision from a human" >/dev/null 2>&1; stamp end; exit "${BLOCK_EXIT:-0}" ;;
  selfabort) cd / && git-par -C "$GIT_PAR_MAIN" abort --force "$GIT_PAR_TASK" >/dev/null 2>&1; stamp end; exit 0 ;;
esac
printf '%s\n' "$GIT_PAR_TASK_PATHS" | while IFS= read -r p; do
  [ -z "$p" ] && continue
  mkdir -p "$(dirname "$p")"
  echo "written by $GIT_PAR_TASK" >> "$p"
done
echo "stand-in agent: $GIT_PAR_TASK done"
git add -A && git commit -q -m "$GIT_PAR_TASK: work"
stamp end
"#;

/// A repository with a plan, the pre-commit hook, and a stand-in agent.
struct Fixture {
    repo: TestRepo,
    agent_dir: PathBuf,
    agent: PathBuf,
}

impl Fixture {
    fn new(tasks: &str) -> Fixture {
        let repo = TestRepo::with_tasks(tasks);
        repo.par(&["hook", "install"]).success();
        let agent_dir = repo.tmp.path().join("agent");
        fs::create_dir_all(&agent_dir).unwrap();
        let agent = agent_dir.join("agent.sh");
        fs::write(&agent, AGENT).unwrap();
        let mut perms = fs::metadata(&agent).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        fs::set_permissions(&agent, perms).unwrap();
        fs::write(agent_dir.join("behave"), "").unwrap();
        Fixture { repo, agent_dir, agent }
    }

    fn behave(&self, lines: &str) {
        fs::write(self.agent_dir.join("behave"), lines).unwrap();
    }

    fn command(&self, args: &[&str], sleep: &str) -> Command {
        let mut cmd = self.repo.par_command(&self.repo.root, args);
        cmd.env("AGENT_DIR", &self.agent_dir)
            .env("AGENT_SLEEP", sleep)
            .env("MAIN_BRANCH", "main")
            .env("GIT_PAR_MAIN", &self.repo.root);
        cmd
    }

    /// `git par --json up ARGS --agent <stand-in>`.
    fn up(&self, args: &[&str], sleep: &str) -> Run {
        let mut all = vec!["--json", "up", "--agent", self.agent.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = self.command(&all, sleep).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn spawn_up(&self, args: &[&str], sleep: &str, out: &Path) -> Child {
        let mut all = vec!["--json", "up", "--agent", self.agent.to_str().unwrap()];
        all.extend_from_slice(args);
        let mut cmd = self.command(&all, sleep);
        cmd.stdout(fs::File::create(out).unwrap()).stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.spawn().unwrap()
    }

    /// (task, start, end) of every agent run, in the order they started.
    fn runs(&self) -> Vec<(String, f64, Option<f64>)> {
        let text = fs::read_to_string(self.agent_dir.join("times")).unwrap_or_default();
        let mut runs: Vec<(String, f64, Option<f64>)> = Vec::new();
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let (task, what, at) = (parts[0], parts[1], parts[2].parse::<f64>().unwrap());
            match what {
                "start" => runs.push((task.to_string(), at, None)),
                _ => {
                    let run = runs.iter_mut().rev().find(|r| r.0 == task && r.2.is_none()).unwrap();
                    run.2 = Some(at);
                }
            }
        }
        runs
    }

    fn starts(&self, task: &str) -> usize {
        self.runs().iter().filter(|r| r.0 == task).count()
    }

    fn wait_for_starts(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.runs().len() < n {
            assert!(Instant::now() < deadline, "agents did not start: {:?}", self.runs());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn tasks_md(&self) -> String {
        self.repo.read("specs/001-demo/tasks.md")
    }

    fn ticked(&self) -> Vec<String> {
        self.tasks_md()
            .lines()
            .filter_map(|l| l.strip_prefix("- [X] "))
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect()
    }

    fn state(&self) -> serde_json::Value {
        let path = self.repo.path(".git/par/state.json");
        fs::read(path)
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or(serde_json::json!({"tasks": {}}))
    }

    fn active(&self) -> Vec<(String, String)> {
        let state = self.state();
        let mut out: Vec<(String, String)> = state["tasks"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v["state"].as_str().unwrap().to_string())).collect())
            .unwrap_or_default();
        out.sort();
        out
    }
}

/// The JSON Lines of a run, each checked for `"version": 1`.
fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}\n{stdout}"));
            assert_eq!(value["version"], 1, "{line}");
            assert!(value["at"].is_string(), "{line}");
            value
        })
        .collect()
}

fn of<'a>(events: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

fn task_ids(events: &[&serde_json::Value]) -> Vec<String> {
    let mut ids: Vec<String> = events.iter().map(|e| e["task"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

/// Seconds since the epoch of an event's `at`.
fn at(event: &serde_json::Value) -> f64 {
    let time = humantime::parse_rfc3339(event["at"].as_str().unwrap()).unwrap();
    time.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Whether process `pid` runs: it exists and is not a zombie waiting for
/// whoever adopted it to reap it.
fn running(pid: &str) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let state = stat[stat.rfind(')').unwrap() + 1..].split_whitespace().next().unwrap_or("");
    !matches!(state, "Z" | "X")
}

/// The most agents running at once.
fn max_overlap(runs: &[(String, f64, Option<f64>)]) -> usize {
    let mut points: Vec<(f64, i32)> = Vec::new();
    for (_, start, end) in runs {
        points.push((*start, 1));
        points.push((end.unwrap_or(f64::MAX), -1));
    }
    points.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (mut now, mut most) = (0i32, 0i32);
    for (_, delta) in points {
        now += delta;
        most = most.max(now);
    }
    most as usize
}

/// A plan in the shape of a spec-kit one: a setup task, a wide [P] phase,
/// a task that waits for all of it, and a story phase.
const PLAN: &str = "# Tasks

## Phase 1: Setup

- [ ] T001 Create the package in src/pkg/__init__.py

## Phase 2: Foundational

- [ ] T002 [P] Model a in src/pkg/a.py
- [ ] T003 [P] Model b in src/pkg/b.py
- [ ] T004 [P] Model c in src/pkg/c.py
- [ ] T005 [P] Model d in src/pkg/d.py
- [ ] T006 [P] Model e in src/pkg/e.py
- [ ] T007 [P] Model f in src/pkg/f.py
- [ ] T008 Wire the models in src/pkg/wire.py

## Phase 3: User Story 1 - Use it (Priority: P1)

- [ ] T009 [P] [US1] Command in src/pkg/cli.py
- [ ] T010 [P] [US1] Tests in tests/test_cli.py
";

/// Each task's direct dependencies in PLAN.
fn plan_deps() -> BTreeMap<&'static str, Vec<&'static str>> {
    let phase2 = ["T002", "T003", "T004", "T005", "T006", "T007"];
    let mut deps = BTreeMap::new();
    for id in phase2 {
        deps.insert(id, vec!["T001"]);
    }
    deps.insert("T008", phase2.to_vec());
    deps.insert("T009", vec!["T008"]);
    deps.insert("T010", vec!["T008"]);
    deps
}

#[test]
fn the_whole_plan_lands_in_dependency_order_with_jobs_1_to_4() {
    for jobs in 1..=4 {
        let fx = Fixture::new(PLAN);
        if jobs > 1 {
            // The [P] phase's agents take long enough for every job to be seen in use.
            fx.behave("T002 long\nT003 long\nT004 long\nT005 long\nT006 long\nT007 long\n");
        }
        let jobs_text = jobs.to_string();
        let run = fx.up(&["--jobs", &jobs_text], "0.5");
        assert_eq!(run.code, 0, "--jobs {jobs}\n{}\n{}", run.stdout, run.stderr);
        let events = lines(&run.stdout);
        let landed = of(&events, "landed");
        assert_eq!(landed.len(), 10, "--jobs {jobs}: {}", run.stdout);
        assert_eq!(
            fx.ticked(),
            ["T001", "T002", "T003", "T004", "T005", "T006", "T007", "T008", "T009", "T010"]
        );
        assert!(fx.active().is_empty(), "{:?}", fx.active());
        assert_eq!(fx.repo.git(&["status", "--porcelain"]), "", "the main worktree is clean");

        // No agent started before every one of its dependencies had landed.
        let landed_at: HashMap<String, f64> =
            landed.iter().map(|e| (e["task"].as_str().unwrap().to_string(), at(e))).collect();
        let runs = fx.runs();
        assert_eq!(runs.len(), 10, "each agent ran once: {runs:?}");
        for (task, start, _) in &runs {
            for dep in &plan_deps().get(task.as_str()).cloned().unwrap_or_default() {
                assert!(
                    landed_at[*dep] <= *start,
                    "--jobs {jobs}: {task} started at {start} before {dep} landed at {}",
                    landed_at[*dep]
                );
            }
        }
        // The bound holds, and is used: six [P] tasks are ready at once.
        assert_eq!(max_overlap(&runs), jobs, "--jobs {jobs}: {runs:?}");

        // The stream: planned first, finished last, each task started → agent-exited → landed.
        assert_eq!(events[0]["event"], "planned");
        assert_eq!(events[0]["tasks"], 10);
        let last = events.last().unwrap();
        assert_eq!(last["event"], "finished");
        assert_eq!(
            (last["exit"].as_i64(), last["landed"].as_u64(), last["blocked"].as_u64()),
            (Some(0), Some(10), Some(0))
        );
        for task in ["T001", "T005", "T010"] {
            let kinds: Vec<&str> =
                events.iter().filter(|e| e["task"] == task).map(|e| e["event"].as_str().unwrap()).collect();
            assert_eq!(kinds, ["started", "agent-exited", "landed"], "{task}");
        }
    }
}

#[test]
fn failures_are_blocked_with_their_reason_and_the_rest_goes_on() {
    let fx = Fixture::new(
        "## Phase 1

- [ ] T001 [P] Works in src/ok.py
- [ ] T002 [P] Fails in src/fail.py
- [ ] T003 [P] Hangs in src/hang.py
- [ ] T004 [P] Steps out of its scope in src/scope.py
- [ ] T005 [P] Works too in src/ok2.py
- [ ] T006 [P] Needs the failing one in src/after_fail.py (depends on T002)
- [ ] T007 [P] Needs a working one in src/after_ok.py (depends on T005)
",
    );
    fx.behave("T002 fail\nT003 hang\nT004 outside\n");
    let run = fx.up(&["--jobs", "3", "--timeout", "1.5"], "0.2");
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let events = lines(&run.stdout);
    assert_eq!(task_ids(&of(&events, "landed")), ["T001", "T005", "T007"]);
    assert_eq!(task_ids(&of(&events, "blocked")), ["T002", "T003", "T004"]);
    assert_eq!(fx.ticked(), ["T001", "T005", "T007"]);
    assert_eq!(fx.starts("T006"), 0, "T006 waits for the blocked T002");
    assert_eq!(
        fx.active(),
        [
            ("T002".to_string(), "blocked".to_string()),
            ("T003".into(), "blocked".into()),
            ("T004".into(), "blocked".into())
        ]
    );

    let reason = |task: &str| {
        of(&events, "blocked").iter().find(|e| e["task"] == task).unwrap()["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(reason("T002"), "the agent exited with status 1: stand-in agent: cannot do T002");
    assert_eq!(reason("T003"), "the agent ran longer than --timeout 1.5s and was stopped");
    assert!(
        reason("T004")
            .starts_with("landing failed: the pre-commit hook refused the commit of T004's changes"),
        "{}",
        reason("T004")
    );
    assert!(reason("T004").contains("README.md"), "the hook names the path: {}", reason("T004"));

    // The hanging agent was stopped, not left behind.
    let exited = of(&events, "agent-exited");
    let hang = exited.iter().find(|e| e["task"] == "T003").unwrap();
    assert_eq!(hang["timed_out"], true);
    assert!(hang.get("exit").is_none());
    let pid = fs::read_to_string(fx.agent_dir.join("T003.pid")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while running(pid.trim()) {
        assert!(Instant::now() < deadline, "the hanging agent still runs");
        std::thread::sleep(Duration::from_millis(20));
    }

    // blockers.md says why, one entry per task.
    let blockers = fx.repo.read("logs/parallel/blockers.md");
    for (task, why) in
        [("T002", "cannot do T002"), ("T003", "--timeout 1.5s"), ("T004", "pre-commit hook refused")]
    {
        let line = blockers
            .lines()
            .find(|l| l.contains(&format!("**{task}**")))
            .unwrap_or_else(|| panic!("{blockers}"));
        assert!(line.contains(why), "{line}");
    }
    // The task's log holds its agent's output and what git-par did.
    let log = fx.repo.read("logs/parallel/T002.log");
    assert!(log.contains("stand-in agent: cannot do T002"), "{log}");
    assert!(log.contains(" agent T002 exit 1 after "), "{log}");

    // The summary: every task, its result, and the waiting one with why.
    let last = events.last().unwrap();
    let rows: Vec<(String, String)> = last["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["task"].as_str().unwrap().to_string(), r["result"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        rows,
        [
            ("T001", "landed"),
            ("T002", "blocked"),
            ("T003", "blocked"),
            ("T004", "blocked"),
            ("T005", "landed"),
            ("T006", "waiting"),
            ("T007", "landed")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let t006 = &last["tasks"][5];
    assert_eq!(t006["reason"], "waits for T002 (blocked or held elsewhere)");

    // Run again: nothing can start, the blocked ones are reported, exit 1.
    let again = fx.up(&[], "0.1");
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(of(&lines(&again.stdout), "started").is_empty());
}

#[test]
fn two_tasks_that_collide_at_landing_one_lands_and_the_other_is_blocked_or_retried() {
    let plan = "## Phase 1

- [ ] T001 [P] One in src/one.py
- [ ] T002 [P] Two in src/two.py
";
    for retries in [0, 1] {
        let fx = Fixture::new(plan);
        // Both agents write shared.txt, which neither task locks: only the merge can catch it.
        fx.repo.git(&["config", "par.enforceScope", "off"]);
        fx.behave("T001 shared\nT002 shared\n");
        let retries_text = retries.to_string();
        let run = fx.up(&["--jobs", "2", "--retries", &retries_text], "0.3");
        let events = lines(&run.stdout);
        let landed = task_ids(&of(&events, "landed"));
        if retries == 0 {
            assert_eq!(run.code, 1, "{}", run.stdout);
            assert_eq!(landed.len(), 1);
            let blocked = of(&events, "blocked");
            assert_eq!(blocked.len(), 1);
            let reason = blocked[0]["reason"].as_str().unwrap();
            assert!(
                reason.starts_with("landing failed: ")
                    && reason.contains("conflicts with main")
                    && reason.contains("shared.txt"),
                "{reason}"
            );
            let loser = blocked[0]["task"].as_str().unwrap();
            let blockers = fx.repo.read("logs/parallel/blockers.md");
            let entry = blockers
                .lines()
                .find(|l| l.contains(&format!("**{loser}**")))
                .unwrap_or_else(|| panic!("{blockers}"));
            assert!(entry.contains("shared.txt"), "{entry}");
        } else {
            // The retry is told why, merges main in, and lands.
            assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
            assert_eq!(landed, ["T001", "T002"]);
            let retried = of(&events, "retried");
            assert_eq!(retried.len(), 1);
            assert_eq!(retried[0]["attempt"], 2);
            let loser = retried[0]["task"].as_str().unwrap();
            let env = fs::read_to_string(fx.agent_dir.join(format!("{loser}.env"))).unwrap();
            assert!(env.contains("retry=landing failed: ") && env.contains("shared.txt"), "{env}");
            assert_eq!(fx.repo.read("shared.txt"), format!("{loser} was here\n"));
        }
    }
}

#[test]
fn a_failed_agent_runs_again_with_the_reason_until_retries_run_out() {
    // No [P]: T002 waits for T001.
    let fx =
        Fixture::new("## Phase 1\n\n- [ ] T001 Flaky in src/flaky.py\n- [ ] T002 Broken in src/broken.py\n");
    fx.behave("T001 failonce\nT002 fail\n");
    let run = fx.up(&["--retries", "2"], "0.1");
    assert_eq!(run.code, 1, "{}", run.stdout);
    let events = lines(&run.stdout);
    assert_eq!(task_ids(&of(&events, "landed")), ["T001"]);
    assert_eq!((fx.starts("T001"), fx.starts("T002")), (2, 3));
    let retried: Vec<(String, i64)> = of(&events, "retried")
        .iter()
        .map(|e| (e["task"].as_str().unwrap().to_string(), e["attempt"].as_i64().unwrap()))
        .collect();
    assert_eq!(retried, [("T001".to_string(), 2), ("T002".into(), 2), ("T002".into(), 3)]);
    let env = fs::read_to_string(fx.agent_dir.join("T001.env")).unwrap();
    assert!(env.contains("retry=the agent exited with status 4: first try fails\n"), "{env}");
    let blocked = of(&events, "blocked");
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0]["reason"], "the agent exited with status 1: stand-in agent: cannot do T002");
    assert_eq!(fx.ticked(), ["T001"]);
}

#[test]
fn the_agent_gets_the_task_in_its_environment_and_placeholders_as_quoted_words() {
    let fx = Fixture::new(
        "## Phase 1\n\n- [ ] T001 Make $(touch pwned) `touch pwned2` work in `src/a b.py` and tests/test_x.py\n",
    );
    let out = fx.repo.tmp.path().join("argv");
    // The command prints each argument it got on its own line.
    let agent = format!(
        "printf '%s\\n' {{id}} {{paths}} {{tests}} {{description}} > {} && {}",
        out.display(),
        fx.agent.display()
    );
    let run = fx
        .repo
        .par_command(&fx.repo.root, &["--json", "up", "--agent", &agent])
        .env("AGENT_DIR", &fx.agent_dir)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "T001\nsrc/a b.py\ntests/test_x.py\ntests/test_x.py\nMake $(touch pwned) `touch pwned2` work in `src/a b.py` and tests/test_x.py\n"
    );
    let env = fs::read_to_string(fx.agent_dir.join("T001.env")).unwrap();
    let worktree = fx.repo.worktree("T001");
    assert!(env.contains("task=T001\n"), "{env}");
    assert!(
        env.contains(
            "description=Make $(touch pwned) `touch pwned2` work in `src/a b.py` and tests/test_x.py\n"
        ),
        "{env}"
    );
    assert!(env.contains(&format!("file={}\n", worktree.join("specs/001-demo/tasks.md").display())), "{env}");
    assert!(env.contains(&format!("log={}\n", fx.repo.path("logs/parallel/T001.log").display())), "{env}");
    assert!(env.contains("retry=\n"), "{env}");
    assert!(env.contains(&format!("cwd={}\n", worktree.display())), "{env}");
    assert!(env.contains("paths=src/a b.py\ntests/test_x.py\n"), "one path per line: {env}");
    for dir in [fx.repo.root.clone(), worktree, fx.repo.tmp.path().to_path_buf()] {
        assert!(!dir.join("pwned").exists() && !dir.join("pwned2").exists(), "text from tasks.md ran");
    }
    let log = fx.repo.read("logs/parallel/T001.log");
    assert!(log.contains("stand-in agent: T001 done"), "the agent's output is in the log: {log}");
}

#[test]
fn the_agent_comes_from_the_flag_or_par_agent_and_nowhere_else() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 Do it in src/a.py\n");
    let run = fx.repo.par(&["up"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("error: no agent command"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: pass one with --agent CMD, or set it once with `git config par.agent CMD`"),
        "{}",
        run.stderr
    );
    assert!(!fx.repo.path(".git/par/state.json").exists(), "nothing started");

    fx.repo.git(&["config", "par.agent", fx.agent.to_str().unwrap()]);
    let run = fx.repo.par_command(&fx.repo.root, &["up"]).env("AGENT_DIR", &fx.agent_dir).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(fx.ticked(), ["T001"]);
    // Not a terminal: one line per event on stderr, the summary table on stdout.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("started T001 in "), "{stderr}");
    assert!(stderr.contains("T001: agent exited 0 after "), "{stderr}");
    assert!(stderr.contains("landed T001 as "), "{stderr}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.starts_with("task  result      time  commit or reason\nT001  landed  "), "{stdout}");
}

#[test]
fn only_and_until_choose_the_tasks() {
    let fx = Fixture::new(PLAN);
    let run = fx.up(&["--until", "T003"], "0.1");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.ticked(), ["T001", "T003"]);
    let run = fx.up(&["--only", "T005", "T006"], "0.1");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.ticked(), ["T001", "T003", "T005", "T006"]);
    // A selected task whose dependency is not selected waits, and says so.
    let run = fx.up(&["--only", "T009"], "0.1");
    assert_eq!(run.code, 0);
    let events = lines(&run.stdout);
    let row = &events.last().unwrap()["tasks"][0];
    assert_eq!((row["task"].as_str(), row["result"].as_str()), (Some("T009"), Some("waiting")));
    assert_eq!(row["reason"], "waits for T008 (not selected)");
    // Everything selected is done: nothing to run, exit 0.
    let run =
        fx.repo.par_command(&fx.repo.root, &["up", "--until", "T003", "--agent", "false"]).output().unwrap();
    assert_eq!(run.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.starts_with("0 task(s) to run, 4 at a time\nfinished in "), "{stderr}");
    assert!(stderr.ends_with("s: 0 landed\nnothing to run: every task selected is done\n"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&run.stdout), "");
    let run = fx.up(&["--only", "T404"], "0.1");
    assert_eq!(run.code, 1);
    let err = run.json();
    assert_eq!(err["error"]["message"], "no task T404 in specs/001-demo/tasks.md");
}

#[test]
fn dry_run_shows_waves_and_the_ideal_time_and_changes_nothing() {
    let fx = Fixture::new(PLAN);
    let run = fx.repo.par(&["up", "--dry-run", "--jobs", "4"]).success();
    assert_eq!(
        run.stdout,
        "wave  1  T001\nwave  2  T002 T003 T004 T005\nwave  3  T006 T007\nwave  4  T008\nwave  5  T009 T010\n\n\
         10 task(s) in 5 wave(s) with --jobs 4: with agents that each take a time L, the run takes about 5 L \
         (the longest chain of dependencies is 4 L)\n"
    );
    let json = fx.repo.par(&["--json", "up", "--dry-run", "--jobs", "8"]).success().json();
    assert_eq!(json["ideal"], 4);
    assert_eq!(json["critical_path"], 4);
    assert_eq!(json["waves"][1].as_array().unwrap().len(), 6);
    assert!(!fx.repo.path(".git/par/state.json").exists());
    assert_eq!(fx.repo.git(&["worktree", "list"]).lines().count(), 1);
}

#[test]
fn a_kill_9_loses_nothing_and_up_resumes() {
    // Killed while two agents run: when they are still running at the
    // resume, it waits for them; when they have ended, it lands them.
    for wait_for_agents in [false, true] {
        let fx = Fixture::new(PLAN);
        let out = fx.repo.tmp.path().join("up.jsonl");
        let mut up = fx.spawn_up(&["--jobs", "2"], "1.5", &out);
        fx.wait_for_starts(1);
        up.kill().unwrap();
        up.wait().unwrap();
        // T001 runs alone (T002.. wait for it): one active task, its agent going on.
        assert_eq!(fx.active(), [("T001".to_string(), "active".to_string())]);
        if wait_for_agents {
            let deadline = Instant::now() + Duration::from_secs(10);
            while fx.runs()[0].2.is_none() {
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let run = fx.up(&["--jobs", "3"], "0.2");
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let events = lines(&run.stdout);
        let adopted = of(&events, "adopted");
        assert_eq!(adopted.len(), 1);
        assert_eq!(adopted[0]["task"], "T001");
        assert_eq!(adopted[0]["then"], if wait_for_agents { "landing" } else { "running" });
        assert_eq!(fx.starts("T001"), 1, "the agent that was running was not run twice");
        assert_eq!(fx.ticked().len(), 10);
        assert!(fx.active().is_empty());
        assert_eq!(
            fx.repo
                .git(&["log", "--first-parent", "--format=%s", "main"])
                .lines()
                .filter(|l| l.starts_with("T001:"))
                .count(),
            1
        );
    }
}

#[test]
fn a_kill_9_between_agents_runs_the_interrupted_ones_again() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/b.py\n");
    let out = fx.repo.tmp.path().join("up.jsonl");
    let mut up = fx.spawn_up(&["--jobs", "2"], "30", &out);
    fx.wait_for_starts(2);
    up.kill().unwrap();
    up.wait().unwrap();
    // The agents die too (say, the machine rebooted): nothing recorded their end.
    for task in ["T001", "T002"] {
        let pid = fs::read_to_string(fx.agent_dir.join(format!("{task}.pid"))).unwrap();
        let stat = fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap();
        let pgid: i32 =
            stat[stat.rfind(')').unwrap() + 1..].split_whitespace().nth(2).unwrap().parse().unwrap();
        // SAFETY: a plain system call on integers.
        assert_eq!(unsafe { libc::killpg(pgid, libc::SIGKILL) }, 0);
    }
    std::thread::sleep(Duration::from_millis(200));
    let run = fx.up(&["--jobs", "2"], "0.2");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let events = lines(&run.stdout);
    let adopted = of(&events, "adopted");
    assert_eq!(adopted.iter().map(|e| e["then"].as_str().unwrap()).collect::<Vec<_>>(), ["rerun", "rerun"]);
    assert_eq!((fx.starts("T001"), fx.starts("T002")), (2, 2));
    let env = fs::read_to_string(fx.agent_dir.join("T001.env")).unwrap();
    assert!(
        env.contains("retry=the previous `git par up` stopped before this task's agent finished"),
        "{env}"
    );
    assert_eq!(fx.ticked(), ["T001", "T002"]);
}

#[test]
fn ctrl_c_stops_launching_and_lets_running_agents_finish_and_land() {
    let fx = Fixture::new(PLAN);
    let out = fx.repo.tmp.path().join("up.jsonl");
    let mut up = fx.spawn_up(&["--jobs", "1"], "1", &out);
    fx.wait_for_starts(1);
    // As a terminal does: SIGINT to the whole foreground process group.
    let pgid = up.id().to_string();
    Command::new("kill").args(["-INT", "--", &format!("-{pgid}")]).status().unwrap();
    let status = up.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let runs = fx.runs();
    assert_eq!(runs.len(), 1, "nothing started after Ctrl-C: {runs:?}");
    assert!(runs[0].2.is_some(), "the running agent was not interrupted: {runs:?}");
    assert_eq!(fx.ticked(), ["T001"], "and it landed");
    assert!(fx.active().is_empty());
    let events = lines(&fs::read_to_string(&out).unwrap());
    assert_eq!(of(&events, "interrupted").len(), 1);
    let last = events.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["exit"].as_i64(), last["interrupted"].as_bool()),
        (Some("finished"), Some(130), Some(true))
    );
}

#[test]
fn a_second_ctrl_c_stops_the_agents_and_their_tasks_stay_active_for_the_next_run() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/b.py\n- [ ] T003 [P] C in src/c.py\n");
    let out = fx.repo.tmp.path().join("up.jsonl");
    let mut up = fx.spawn_up(&["--jobs", "2"], "30", &out);
    fx.wait_for_starts(2);
    let pid = up.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(up.try_wait().unwrap().is_none(), "the first Ctrl-C waits for the agents");
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let started = Instant::now();
    let status = up.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(10), "the agents were stopped");
    assert!(fx.runs().iter().all(|r| r.2.is_none()), "no agent finished: {:?}", fx.runs());
    assert_eq!(fx.active(), [("T001".to_string(), "active".to_string()), ("T002".into(), "active".into())]);
    let events = lines(&fs::read_to_string(&out).unwrap());
    assert_eq!(of(&events, "interrupted").len(), 2);
    let rows = &events.last().unwrap()["tasks"];
    assert_eq!(rows[0]["result"], "active");
    assert_eq!(rows[2]["result"], "waiting");

    let run = fx.up(&["--jobs", "2"], "0.2");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fx.ticked(), ["T001", "T002", "T003"]);
    assert_eq!((fx.starts("T001"), fx.starts("T002"), fx.starts("T003")), (2, 2, 1));
}

#[test]
fn one_up_at_a_time() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 A in src/a.py\n");
    let out = fx.repo.tmp.path().join("up.jsonl");
    let mut up = fx.spawn_up(&[], "2", &out);
    fx.wait_for_starts(1);
    let second = fx.up(&[], "0.1");
    assert_eq!(second.code, 3, "{}", second.stderr);
    assert_eq!(second.json()["error"]["message"], "another `git par up` is running in this repository");
    assert_eq!(up.wait().unwrap().code(), Some(0));
    assert_eq!(fx.starts("T001"), 1);
}

/// A tmux server private to one test (its own socket directory).
struct Tmux {
    dir: PathBuf,
    home: PathBuf,
}

impl Tmux {
    fn new(repo: &TestRepo) -> Option<Tmux> {
        if !Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()) {
            eprintln!("skipped: tmux is not installed");
            return None;
        }
        let dir = repo.tmp.path().join("tmux");
        fs::create_dir_all(&dir).unwrap();
        Some(Tmux { dir, home: repo.home.clone() })
    }

    fn tmux(&self, args: &[&str]) -> Run {
        let out = crate::common::isolated("tmux", &self.home)
            .env("TMUX_TMPDIR", &self.dir)
            .args(args)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

#[test]
fn with_tmux_each_agent_runs_in_a_pane_and_its_output_reaches_the_log() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/b.py\n- [ ] T003 C in src/c.py\n");
    let Some(tmux) = Tmux::new(&fx.repo) else { return };
    let out = fx.repo.tmp.path().join("up.jsonl");
    let all = ["--json", "up", "--tmux", "--jobs", "2", "--agent", fx.agent.to_str().unwrap()];
    let mut cmd = fx.command(&all, "1.5");
    cmd.env("TMUX_TMPDIR", &tmux.dir).stdout(fs::File::create(&out).unwrap()).stderr(Stdio::piped());
    let mut up = cmd.spawn().unwrap();
    fx.wait_for_starts(2);
    let panes = tmux.tmux(&["list-panes", "-s", "-t", "=git-par-up", "-F", "#{pane_current_path}"]);
    assert_eq!(panes.code, 0, "{}", panes.stderr);
    let mut dirs: Vec<&str> = panes.stdout.lines().collect();
    dirs.sort();
    let expected = [fx.repo.worktree("T001"), fx.repo.worktree("T002")];
    assert_eq!(dirs, expected.iter().map(|p| p.to_str().unwrap()).collect::<Vec<_>>());
    let status = up.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(up.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("tmux attach -t git-par-up"), "{stderr}");
    assert_eq!(fx.ticked(), ["T001", "T002", "T003"]);
    for task in ["T001", "T002", "T003"] {
        let log = fx.repo.read(&format!("logs/parallel/{task}.log"));
        assert!(
            log.contains(&format!("stand-in agent: {task} done")),
            "the pane's output is in the log: {log}"
        );
    }
    let events = lines(&fs::read_to_string(&out).unwrap());
    assert!(of(&events, "agent-exited").iter().all(|e| e["exit"] == 0));
}

#[test]
fn on_a_terminal_a_live_view_shows_each_running_task_and_the_progress() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/b.py\n- [ ] T003 [P] C in src/c.py\n");
    let Some(tmux) = Tmux::new(&fx.repo) else { return };
    fx.behave("T003 fail\n");
    let script = fx.repo.tmp.path().join("run-up.sh");
    fs::write(
        &script,
        format!(
            "cd {} && AGENT_DIR={} AGENT_SLEEP=2 git-par up --jobs 2 --agent {}; echo \"exit $?\"; sleep 30\n",
            fx.repo.root.display(),
            fx.agent_dir.display(),
            fx.agent.display()
        ),
    )
    .unwrap();
    let started = tmux.tmux(&[
        "new-session",
        "-d",
        "-s",
        "view",
        "-x",
        "120",
        "-y",
        "30",
        "sh",
        script.to_str().unwrap(),
    ]);
    assert_eq!(started.code, 0, "{}", started.stderr);
    let capture = || tmux.tmux(&["capture-pane", "-p", "-t", "=view:"]).stdout;
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = capture();
            if screen.contains(needle) {
                return screen;
            }
            assert!(Instant::now() < deadline, "never showed {needle:?}:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // While two agents run: a line each, with elapsed time and last log line.
    let screen = wait_for("2 running");
    assert!(screen.contains("0 landed · 0 blocked · 2 running · 1 waiting"), "{screen}");
    let screen = wait_for("1.0s");
    let t001 = screen
        .lines()
        .find(|l| l.contains(" T001 ") && l.contains("attempt 1:"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(t001.contains("s  "), "its elapsed time and last log line: {t001}\n{screen}");
    let screen = wait_for("exit 1");
    assert!(screen.contains("landed T001 as "), "{screen}");
    assert!(screen.contains("blocked T003: the agent exited with status 1"), "{screen}");
    assert!(screen.contains("task  result      time  commit or reason"), "{screen}");
}

#[test]
fn a_task_without_paths_runs_alone_and_class_limits_hold() {
    let fx = Fixture::new(
        "## Phase 1

- [ ] T001 [P] Tidy up everything
- [ ] T002 [P] [HTTP] Fetch a into src/a.py
- [ ] T003 [P] [HTTP] Fetch b into src/b.py
- [ ] T004 [P] Compute c in src/c.py
",
    );
    let run = fx.up(&["--jobs", "4"], "0.4");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fx.ticked(), ["T001", "T002", "T003", "T004"]);
    let runs = fx.runs();
    let span = |task: &str| {
        let r = runs.iter().find(|r| r.0 == task).unwrap();
        (r.1, r.2.unwrap())
    };
    let overlap = |a: (f64, f64), b: (f64, f64)| a.0 < b.1 && b.0 < a.1;
    for other in ["T002", "T003", "T004"] {
        assert!(
            !overlap(span("T001"), span(other)),
            "T001 declares no path and ran beside {other}: {runs:?}"
        );
    }
    assert!(!overlap(span("T002"), span("T003")), "two [HTTP] tasks ran at once: {runs:?}");
    assert!(overlap(span("T002"), span("T004")), "the jobs were not used: {runs:?}");
}

#[test]
fn a_failing_verify_blocks_the_task_with_its_output() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/b.py\n");
    let verify = "if [ \"$GIT_PAR_TASK\" = T002 ]; then echo 'test_b: 1 failed'; exit 1; fi";
    let run = fx.up(&["--verify", verify], "0.1");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let events = lines(&run.stdout);
    assert_eq!(task_ids(&of(&events, "landed")), ["T001"]);
    let blocked = of(&events, "blocked");
    let reason = blocked[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("landing failed: verify failed (exit 1)") && reason.contains("test_b: 1 failed"),
        "{reason}"
    );
    assert_eq!(fx.ticked(), ["T001"]);
    let blockers = fx.repo.read("logs/parallel/blockers.md");
    assert!(blockers.lines().any(|l| l.contains("**T002**") && l.contains("test_b: 1 failed")), "{blockers}");
    // main never saw T002's work.
    assert!(!fx.repo.path("src/b.py").exists());
}

#[test]
fn tasks_that_lock_the_same_path_never_run_together() {
    let fx = Fixture::new(
        "## Phase 1

- [ ] T001 [P] Create the config parser in src/config.py
- [ ] T002 [P] Add validation to the config parser in src/config.py
- [ ] T003 [P] Log in src/log.py
",
    );
    let run = fx.up(&["--jobs", "3"], "0.6");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fx.ticked(), ["T001", "T002", "T003"]);
    let runs = fx.runs();
    let span = |task: &str| {
        let r = runs.iter().find(|r| r.0 == task).unwrap();
        (r.1, r.2.unwrap())
    };
    let overlap = |a: (f64, f64), b: (f64, f64)| a.0 < b.1 && b.0 < a.1;
    assert!(!overlap(span("T001"), span("T002")), "both lock src/config.py and ran at once: {runs:?}");
    assert!(overlap(span("T001"), span("T003")), "the free job was not used: {runs:?}");
    // T002 started from a main that had T001's work.
    assert_eq!(fx.repo.read("src/config.py"), "written by T001\nwritten by T002\n");
}

#[test]
fn a_task_its_agent_blocks_or_aborts_is_reported_so_and_not_blocked_again() {
    for exit in ["0", "3"] {
        let fx = Fixture::new(
            "## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/b.py\n- [ ] T003 C in src/c.py (depends on T001)\n",
        );
        fx.behave("T001 selfblock\n");
        let mut all = vec!["--json", "up", "--retries", "1", "--agent", fx.agent.to_str().unwrap()];
        all.extend_from_slice(&["--jobs", "2"]);
        let out = fx.command(&all, "0.2").env("BLOCK_EXIT", exit).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "exit {exit}: {stdout}");
        let events = lines(&stdout);
        let blocked = of(&events, "blocked");
        assert_eq!(blocked.len(), 1, "{stdout}");
        assert_eq!(blocked[0]["task"], "T001");
        assert_eq!(blocked[0]["reason"], "needs a decision from a human", "the agent's own reason");
        assert!(of(&events, "retried").is_empty(), "a blocked task is not run again: {stdout}");
        assert_eq!(fx.starts("T001"), 1);
        assert_eq!(task_ids(&of(&events, "landed")), ["T002"]);
        assert_eq!(fx.active(), [("T001".to_string(), "blocked".to_string())]);
        let blockers = fx.repo.read("logs/parallel/blockers.md");
        assert_eq!(blockers.matches("**T001**").count(), 1, "blocked once: {blockers}");
        assert_eq!(fx.starts("T003"), 0, "T003 waits for the blocked T001");
    }

    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/b.py\n");
    fx.behave("T001 selfabort\n");
    let run = fx.up(&["--jobs", "2"], "0.2");
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let events = lines(&run.stdout);
    assert_eq!(task_ids(&of(&events, "landed")), ["T002"]);
    assert!(of(&events, "blocked").is_empty(), "{}", run.stdout);
    let row = &events.last().unwrap()["tasks"][0];
    assert_eq!((row["task"].as_str(), row["result"].as_str()), (Some("T001"), Some("failed")));
    assert!(row["reason"].as_str().unwrap().starts_with("no longer active"), "{row}");
    assert!(fx.active().is_empty());
    assert!(!fx.repo.path("logs/parallel/blockers.md").exists());
}

#[test]
fn a_landing_refused_for_a_passing_reason_is_tried_again() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 A in src/a.py\n");
    fx.behave("T001 lockmain\n");
    let run = fx.up(&[], "0.1");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let events = lines(&run.stdout);
    let warnings = of(&events, "warning");
    assert_eq!(warnings.len(), 1, "{}", run.stdout);
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(message.starts_with("T001: landing again shortly: the index of "), "{message}");
    assert!(message.contains("index.lock exists"), "{message}");
    assert_eq!(task_ids(&of(&events, "landed")), ["T001"]);
    assert!(of(&events, "blocked").is_empty() && of(&events, "retried").is_empty(), "{}", run.stdout);
    assert_eq!(fx.starts("T001"), 1, "the agent ran once");
    assert_eq!(fx.ticked(), ["T001"]);
}

#[test]
fn a_kill_9_during_par_setup_prepares_the_worktree_again_before_the_agent_runs() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 A in src/a.py\n");
    fx.behave("T001 needsprep\n");
    let exclude = fx.repo.path(".git/info/exclude");
    let mut text = fs::read_to_string(&exclude).unwrap_or_default();
    text.push_str("prepared.txt\n");
    fs::write(&exclude, text).unwrap();
    fx.repo.git(&["config", "par.setup", "echo setup >> \"$AGENT_DIR/setups\"; sleep 3; touch prepared.txt"]);
    let out = fx.repo.tmp.path().join("up.jsonl");
    let mut up = fx.spawn_up(&[], "0.1", &out);
    let setups = fx.agent_dir.join("setups");
    let deadline = Instant::now() + Duration::from_secs(20);
    // (The shell creates the file before it writes the line.)
    while fs::read_to_string(&setups).unwrap_or_default() != "setup\n" {
        assert!(Instant::now() < deadline, "par.setup never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    // `up` and its setup die together (the machine rebooted, say).
    let pgid = i32::try_from(up.id()).unwrap();
    // SAFETY: a plain system call on integers.
    assert_eq!(unsafe { libc::killpg(pgid, libc::SIGKILL) }, 0);
    up.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(fx.active(), [("T001".to_string(), "active".to_string())]);
    assert!(!fx.repo.worktree("T001").join("prepared.txt").exists());
    assert!(fx.runs().is_empty(), "no agent ran yet");

    let run = fx.up(&[], "0.1");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let events = lines(&run.stdout);
    assert_eq!(of(&events, "adopted")[0]["then"], "rerun");
    let log = fx.repo.read("logs/parallel/T001.log");
    assert_eq!(fs::read_to_string(&setups).unwrap(), "setup\nsetup\n", "the setup ran again: {log}");
    assert_eq!(fx.starts("T001"), 1);
    assert_eq!(fx.ticked(), ["T001"]);
}

#[test]
fn tasks_land_with_the_strategy_par_strategy_names() {
    let fx = Fixture::new("## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/b.py\n");
    fx.repo.git(&["config", "par.strategy", "rebase"]);
    let run = fx.up(&["--jobs", "2"], "0.3");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(fx.ticked(), ["T001", "T002"]);
    // Rebased: a linear main, the last commit of each task carrying its trailer.
    assert_eq!(fx.repo.git(&["rev-list", "--merges", "main"]), "");
    let trailers = fx.repo.git(&["log", "--format=%(trailers:key=Par-Task,valueonly)", "main"]);
    let mut landed: Vec<&str> = trailers.lines().filter(|l| !l.is_empty()).collect();
    landed.sort();
    assert_eq!(landed, ["T001", "T002"]);

    fx.repo.git(&["config", "par.strategy", "sideways"]);
    let run = fx.repo.par(&["up", "--agent", "true"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("error: par.strategy = sideways is not one of merge, squash, ff, rebase"),
        "{}",
        run.stderr
    );
}

/// Agents that finish together wait to land together: their landings ride
/// the merge train, which under saturation lands several with one verify
/// (a verify behind takes the unverified entries ahead along).
#[test]
fn landings_that_wait_together_are_landed_with_fewer_verifies_than_tasks() {
    let mut plan = String::from("## Phase 1\n\n");
    for i in 1..=6 {
        plan.push_str(&format!("- [ ] T00{i} [P] Task {i} in src/t{i}.txt\n"));
    }
    let fx = Fixture::new(&plan);
    fx.repo.git(&["config", "par.trainDepth", "2"]);
    let log = fx.agent_dir.join("verified");
    let verify = format!("echo \"$GIT_PAR_TASK\" >> '{}'; sleep 1", log.display());
    let run = fx.up(&["--jobs", "6", "--verify", &verify], "0.1");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(task_ids(&of(&lines(&run.stdout), "landed")).len(), 6);
    assert_eq!(fx.ticked().len(), 6);
    let runs = fs::read_to_string(&log).unwrap().lines().count();
    assert!(runs < 6, "{runs} verifies for 6 landings that waited together");
}
