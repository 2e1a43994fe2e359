//! `lint`, pathless tasks (`plan` alone, locks acquired on commit), and a
//! plan read against the repository, through the real binary.

use serde_json::json;

use crate::common::scenes::{add, commit, write};
use crate::common::TestRepo;

const PLAN: &str = "# Tasks: lint

## Phase 1: Setup

- [ ] T001 [P] Create `src/app.py`
- [ ] T002 [P] Add routes to `src/app.py`
- [ ] T003 [P] Think about naming
- [ ] T001 [P] Write `docs/guide.md`

## Phase 2: Core

- [ ] T004 Extend `helpers.py` (depends on T099)
- [ ] T005 Add `pkg/deep/new/x.go`
- [ ] T006 Run the whole test suite and confirm it passes
";

#[test]
fn lint_reports_every_kind_of_problem_and_exits_1() {
    let repo = TestRepo::with_files(&[
        ("specs/001-demo/tasks.md", PLAN),
        ("lib/helpers.py", "x\n"),
        ("tests/helpers.py", "x\n"),
        ("src/old.py", "x\n"),
    ]);
    let run = repo.par(&["lint"]).code(1);
    assert_eq!(
        run.stdout,
        "\
specs/001-demo/tasks.md:5: duplicate ID: task ID T001 is used on lines 5 and 8: rename all but one
specs/001-demo/tasks.md:7: no paths: T003 names no path: it will run alone and lock what it commits
specs/001-demo/tasks.md:12: no paths: T004 names no path: it will run alone and lock what it commits
specs/001-demo/tasks.md:12: ambiguous path: T004: 'helpers.py' could be several paths; write the full path
    candidates: lib/helpers.py, tests/helpers.py
specs/001-demo/tasks.md:12: unknown dependency: T004 depends on T099, which is not a task of this file
specs/001-demo/tasks.md:13: missing directory: T005: pkg/deep/new/x.go is in pkg/deep/new/, which does not exist and no earlier task writes into
specs/001-demo/tasks.md:6: shared file: T001 and T002 are [P] in one group but both write src/app.py; drop [P] from one or split the file
"
    );
    assert_eq!(
        run.stderr,
        "error: 7 problem(s) in specs/001-demo/tasks.md\nhint: fix them in the task file (or add a `Files:` line to a task), then run `git par lint` again\n"
    );
    let json = repo.par(&["--json", "lint"]).code(1).json();
    assert_eq!(json["version"], 1);
    // T006 only checks: naming no path is no problem for it.
    assert_eq!(json["tasks"], 7);
    let kinds: Vec<&str> =
        json["problems"].as_array().unwrap().iter().map(|p| p["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "duplicate-id",
            "no-paths",
            "no-paths",
            "ambiguous-path",
            "unknown-dependency",
            "missing-directory",
            "shared-file"
        ]
    );
    assert_eq!(json["problems"][3]["candidates"], json!(["lib/helpers.py", "tests/helpers.py"]));
}

#[test]
fn lint_reports_a_cycle_and_passes_a_clean_plan() {
    let repo = TestRepo::with_tasks("## Phase 1\n\n- [ ] T001 A in src/a.py (depends on T002)\n- [ ] T002 B in src/b.py (depends on T001)\n");
    let json = repo.par(&["--json", "lint"]).code(1).json();
    assert_eq!(json["problems"][0]["kind"], "cycle");
    assert!(json["problems"][0]["message"].as_str().unwrap().starts_with("dependency cycle: "), "{json}");

    let clean = TestRepo::with_files(&[
        (
            "specs/001-demo/tasks.md",
            "## Phase 1\n\n- [ ] T001 [P] Edit `src/a.py`\n- [ ] T002 [P] Edit `src/b.py`\n",
        ),
        ("src/a.py", "a\n"),
    ]);
    let run = clean.par(&["lint"]).success();
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "specs/001-demo/tasks.md: 2 tasks, no problem found\n");
}

const PATHLESS: &str = "## Phase 1\n\n- [ ] T001 [P] Edit `src/a.py`\n- [ ] T002 [P] Tidy up whatever needs it\n- [ ] T003 [P] Edit `docs/b.md`\n";

fn pathless_repo() -> TestRepo {
    let repo = TestRepo::with_files(&[
        ("specs/001-demo/tasks.md", PATHLESS),
        ("src/a.py", "a\n"),
        ("docs/b.md", "b\n"),
        ("README.md", "r\n"),
    ]);
    repo.par(&["hook", "install"]).success();
    repo
}

#[test]
fn plan_runs_a_pathless_task_alone() {
    let repo = pathless_repo();
    let json = repo.par(&["--json", "plan"]).success().json();
    assert_eq!(json["waves"], json!([["T001", "T003"], ["T002"]]));
}

#[test]
fn a_pathless_task_acquires_what_it_commits_and_never_what_another_holds() {
    let repo = pathless_repo();
    repo.par(&["start", "T001", "T002"]).success();
    let t2 = repo.worktree("T002");
    // README.md is held by nobody: the commit goes through and T002 now holds it.
    write(&t2, "README.md", "tidied\n");
    add(&repo, &t2, &["README.md"]);
    let run = commit(&repo, &t2, &[]).success();
    assert_eq!(run.stderr, "T002 now locks README.md\n");
    let status = repo.par(&["--json", "lock-status"]).success().json();
    let t2_locks =
        status["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "T002").unwrap()["locks"].clone();
    assert_eq!(t2_locks, json!(["README.md"]));
    // A third task that wants README.md now conflicts with T002 at start.
    repo.write("specs/001-demo/tasks.md", &format!("{PATHLESS}- [ ] T004 [P] Edit `README.md`\n"));
    repo.commit_all("T004");
    repo.par(&["start", "T004"]).code(3);
    // src/a.py is T001's: refused, and nothing of that commit is acquired.
    write(&t2, "src/a.py", "mine?\n");
    write(&t2, "docs/new.md", "new\n");
    add(&repo, &t2, &["src/a.py", "docs/new.md"]);
    let run = commit(&repo, &t2, &[]).code(1);
    assert!(run.stderr_hostless().contains("  src/a.py: locked by T001"), "{}", run.stderr);
    let status = repo.par(&["--json", "lock-status"]).success().json();
    let t2_locks =
        status["tasks"].as_array().unwrap().iter().find(|t| t["id"] == "T002").unwrap()["locks"].clone();
    assert_eq!(t2_locks, json!(["README.md"]));
}

#[test]
fn acquire_can_be_set_for_every_task() {
    let repo = pathless_repo();
    repo.par(&["start", "T001"]).success();
    let t1 = repo.worktree("T001");
    write(&t1, "README.md", "mine now\n");
    add(&repo, &t1, &["README.md"]);
    // The default for a task with paths refuses...
    commit(&repo, &t1, &[]).code(1);
    // ...and acquire takes the path instead.
    repo.git(&["config", "par.enforceScope", "acquire"]);
    commit(&repo, &t1, &[]).success();
    let status = repo.par(&["--json", "lock-status"]).success().json();
    assert_eq!(status["tasks"][0]["locks"], json!(["src/a.py", "README.md"]));
}

/// Dependencies that point far ahead in a big plan are no cycle (issue 16):
/// each closes cycles with file order, broken one file-order link at a time;
/// 1,500 of them need more than the 10,000 links the search once allowed
/// itself before it called the plan a cycle.
#[test]
fn many_dependencies_far_ahead_are_no_cycle() {
    let mut plan = String::from("## Phase 1\n\n");
    for n in 1..=1_600 {
        let extra = if n <= 1_500 { format!(" (depends on T{:05})", n + 100) } else { String::new() };
        plan.push_str(&format!("- [ ] T{n:05} Edit `src/f{n}.py`{extra}\n"));
    }
    let repo = TestRepo::with_files(&[("specs/001-big/tasks.md", &plan), ("src/f1.py", "x\n")]);
    let lint = repo.par(&["--json", "lint"]).success().json();
    assert_eq!(lint["problems"], json!([]), "{lint}");
    let list = repo.par(&["--json", "list"]).success().json();
    let deps = |id: &str| -> Vec<String> {
        let task = list["tasks"].as_array().unwrap().iter().find(|t| t["id"] == id).expect(id);
        task["deps"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect()
    };
    assert!(deps("T00001").contains(&"T00101".to_string()), "{:?}", deps("T00001"));
    assert!(deps("T01500").contains(&"T01600".to_string()), "{:?}", deps("T01500"));
    // Every task before it waits, through the tasks ahead, for T01501.
    assert_eq!(deps("T01501"), Vec::<String>::new());
    assert_eq!(deps("T01502"), ["T01501"]);
}

#[test]
fn a_new_directory_inside_one_that_exists_or_is_made_is_no_problem() {
    let plan = "## Phase 1\n\n\
- [ ] T001 Create `src/index.ts`\n\
- [ ] T002 Create `src/commands/greet.ts`\n\
- [ ] T003 Add `lib/util/strings.ts`\n\
- [ ] T004 Lay out the files under `assets/`\n\
- [ ] T005 Add `assets/icons/app/logo.svg`\n\
- [ ] T006 Add `tools/gen/out/x.ts`\n";
    let repo = TestRepo::with_files(&[("specs/001-demo/tasks.md", plan), ("lib/x.ts", "x\n")]);
    let json = repo.par(&["--json", "lint"]).code(1).json();
    let found: Vec<(String, String)> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["kind"].as_str().unwrap().to_string(), p["task"].as_str().unwrap().to_string()))
        .collect();
    // Writing src/index.ts makes src/, so src/commands/ is one level in; lib/ is tracked;
    // T004 locks assets/ whole. Only tools/gen/out/ is two levels into nothing.
    assert_eq!(found, vec![("missing-directory".to_string(), "T006".to_string())], "{json}");
}
