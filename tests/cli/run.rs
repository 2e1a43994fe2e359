//! `run`: a command in the task's worktree, teed to its log.

use crate::common::TestRepo;

const TASKS: &str = "## Phase 1\n\n- [ ] T001 [P] Work in src/a.py\n";

#[test]
fn runs_in_the_worktree_tees_output_and_records_the_status() {
    let repo = TestRepo::with_tasks(TASKS);
    repo.par(&["start", "T001"]).success();
    let run = repo.par(&["run", "T001", "--", "sh", "-c", "pwd; echo to-stderr >&2; exit 3"]);
    assert_eq!(run.code, 3, "{}", run.snapshot());
    assert_eq!(run.stdout, format!("{}\n", repo.worktree("T001").display()));
    assert!(run.stderr.starts_with("to-stderr\n"), "{}", run.stderr);
    let log = repo.read("logs/parallel/T001.log");
    let lines: Vec<&str> = log.lines().collect();
    let run_line = lines
        .iter()
        .position(|l| l.ends_with(" run T001 sh -c pwd; echo to-stderr >&2; exit 3"))
        .expect(&log);
    assert!(lines[run_line + 1..].contains(&repo.worktree("T001").display().to_string().as_str()), "{log}");
    assert!(lines[run_line + 1..].contains(&"to-stderr"), "{log}");
    assert!(lines.last().unwrap().ends_with(" exit 3 sh -c pwd; echo to-stderr >&2; exit 3"), "{log}");
    // The log never dirties the main worktree.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn success_exits_0_and_sets_the_task_variable() {
    let repo = TestRepo::with_tasks(TASKS);
    repo.par(&["start", "T001"]).success();
    let run = repo.par(&["run", "T001", "--", "sh", "-c", "echo task=$GIT_PAR_TASK"]).success();
    assert_eq!(run.stdout, "task=T001\n");
}

#[test]
fn inactive_task_and_missing_program_are_refused() {
    let repo = TestRepo::with_tasks(TASKS);
    let run = repo.par(&["run", "T001", "--", "true"]).code(1);
    assert_eq!(
        run.stderr,
        "error: task T001 is not active, so it has no worktree to run in\nhint: start it first: git par start T001\n"
    );
    repo.par(&["start", "T001"]).success();
    let run = repo.par(&["run", "T001", "--", "no-such-program-xyz"]).code(1);
    assert!(run.stderr.starts_with("error: cannot run 'no-such-program-xyz'"), "{}", run.stderr);
    repo.par(&["run", "T001"]).code(2);
}

#[test]
fn json_keeps_stdout_to_one_document_and_still_exits_with_the_status() {
    let repo = TestRepo::with_tasks(TASKS);
    repo.par(&["start", "T001"]).success();
    let run = repo.par(&["--json", "run", "T001", "--", "sh", "-c", "echo out; echo err >&2; exit 5"]);
    assert_eq!(run.code, 5, "{}", run.snapshot());
    let json = run.json();
    assert_eq!(json["task"], "T001");
    assert_eq!(json["exit"], 5);
    assert_eq!(json["command"], serde_json::json!(["sh", "-c", "echo out; echo err >&2; exit 5"]));
    assert_eq!(json["log"], repo.path("logs/parallel/T001.log").display().to_string());
    assert!(run.stderr.contains("out\n") && run.stderr.contains("err\n"), "{}", run.stderr);
    // The child's failure is its own, not git-par's: no `error:` line.
    assert!(!run.stderr.contains("error:"), "{}", run.stderr);
}
