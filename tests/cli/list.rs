//! `list`, `show` and `ready`.

use serde_json::json;

use crate::common::{TestRepo, LIST_PLAN};

fn ids(value: &serde_json::Value) -> Vec<String> {
    value["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn list_json_has_the_contract_fields() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    let json = repo.par(&["--json", "list"]).success().json();
    assert_eq!(json["tasks_file"], "specs/001-demo/tasks.md");
    assert_eq!(ids(&json), ["T001", "T002", "T003", "T004", "T005", "T006", "T007", "T008"]);
    assert_eq!(
        json["tasks"][3],
        json!({
            "id": "T004", "line": 8, "state": "todo", "parallel": true, "labels": ["P", "HTTP"],
            "story": null, "phase": "Phase 1: Setup",
            "description": "Fetch quotes into src/data/quotes.py",
            "paths": ["src/data/quotes.py"],
            "resolved": [{"path": "src/data/quotes.py", "from": "written", "text": "src/data/quotes.py"}],
            "rejected_paths": [],
            "deps": ["T001"], "after": [], "active": null
        })
    );
    assert_eq!(json["tasks"][6]["story"], "US1");
    // T007 waits for the [P] group of phase 1 as one barrier, listed once at the top.
    assert_eq!(json["tasks"][6]["deps"], json!([]));
    assert_eq!(json["tasks"][6]["after"], json!(["T002..T006"]));
    assert_eq!(
        json["groups"],
        json!([{"name": "T002..T006", "members": ["T002", "T003", "T004", "T005", "T006"]}])
    );
    assert_eq!(json["tasks"][7]["state"], "partial");
    assert_eq!(json["tasks"][0]["state"], "done");
}

#[test]
fn list_filters() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    let todo = repo.par(&["--json", "list", "--todo"]).success().json();
    assert_eq!(ids(&todo), ["T002", "T003", "T004", "T005", "T006", "T007", "T008"]);
    let parallel = repo.par(&["--json", "list", "--parallel"]).success().json();
    assert_eq!(ids(&parallel), ["T002", "T003", "T004", "T005", "T006"]);
    let all = repo.par(&["--json", "list", "--all"]).success().json();
    assert_eq!(ids(&all).len(), 8);
    repo.par(&["list", "--todo", "--parallel"]).code(2);
}

#[test]
fn list_human_output() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    let run = repo.par(&["list"]).success();
    assert_eq!(
        run.stdout,
        "Phase 1: Setup
  [x] T001     Create project structure in `src/` · src/
  [ ] T002 [P] Add loader in src/data/loader.py · src/data/loader.py
  [ ] T003 [P] Add pricing in `src/pricing/bs.py` · src/pricing/bs.py
  [ ] T004 [P] Fetch quotes into src/data/quotes.py · src/data/quotes.py
  [ ] T005 [P] Fetch rates into src/data/rates.py · src/data/rates.py
  [ ] T006 [P] Normalise loader output in src/data/loader.py · src/data/loader.py
Phase 2: User Story 1 - Optimize (Priority: P1)
  [ ] T007     Optimizer in src/opt/core.py and tests/test_core.py · src/opt/core.py, tests/test_core.py
  [~] T008     Document the optimizer in docs/optimizer.md · docs/optimizer.md
"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn ready_lists_tasks_whose_dependencies_are_done() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    let json = repo.par(&["--json", "ready"]).success().json();
    assert_eq!(ids(&json), ["T002", "T003", "T004", "T005", "T006"]);
    assert_eq!(json["tasks"][0]["command"], "pytest -q");
    // Once phase 1 is done, the story phase is ready; the partial task is not done.
    let mut phase1_done = LIST_PLAN.to_string();
    for id in ["T002", "T003", "T004", "T005", "T006"] {
        phase1_done = phase1_done.replace(&format!("- [ ] {id}"), &format!("- [x] {id}"));
    }
    repo.write("specs/001-demo/tasks.md", &phase1_done);
    let json = repo.par(&["--json", "ready"]).success().json();
    assert_eq!(ids(&json), ["T007"]);
    assert_eq!(json["tasks"][0]["command"], "pytest tests/test_core.py -q");
}

#[test]
fn ready_with_nothing_ready_says_why() {
    let repo = TestRepo::with_tasks(&LIST_PLAN.replace("- [ ] T00", "- [x] T00").replace("[~]", "[x]"));
    let run = repo.par(&["ready"]).success();
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "every task in specs/001-demo/tasks.md is done\n");
}

#[test]
fn show_prints_one_task_in_full() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    let run = repo.par(&["show", "T007"]).success();
    assert_eq!(
        run.stdout,
        "T007 [US1]  todo
  Optimizer in src/opt/core.py and tests/test_core.py
  file:     specs/001-demo/tasks.md:14
  phase:    Phase 2: User Story 1 - Optimize (Priority: P1)
  story:    US1
  paths:    src/opt/core.py, tests/test_core.py
  deps:     T002 (todo), T003 (todo), T004 (todo), T005 (todo), T006 (todo)
  command:  pytest tests/test_core.py -q
"
    );
    let json = repo.par(&["--json", "show", "T007"]).success().json();
    assert_eq!(json["tasks"][0]["unfinished_deps"], json!(["T002", "T003", "T004", "T005", "T006"]));
    assert_eq!(json["tasks"][0]["rejected_paths"], json!([]));
}

#[test]
fn unknown_id_is_refused_with_a_hint() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    let run = repo.par(&["show", "T999"]).code(1);
    assert_eq!(
        run.stderr,
        "error: no task T999 in specs/001-demo/tasks.md\nhint: `git par list` shows the tasks of specs/001-demo/tasks.md\n"
    );
    let run = repo.par(&["show", "t002"]).code(1);
    assert!(run.stderr.contains("hint: task IDs are case-sensitive: did you mean T002?"), "{}", run.stderr);
}

#[test]
fn duplicate_ids_warn_once_and_block_only_that_task() {
    let repo = TestRepo::with_tasks(
        "## Phase 1\n\n- [ ] T001 [P] One in src/one.py\n- [ ] T001 [P] Two in src/two.py\n- [ ] T002 [P] Three in src/three.py\n",
    );
    let warning = "warning: task ID T001 is used on lines 3 and 4 of specs/001-demo/tasks.md; it cannot be started or finished until it is renamed\n";
    let run = repo.par(&["list"]).success();
    assert_eq!(run.stderr, warning);
    assert!(run.stdout.contains("T002"), "{}", run.stdout);
    let json = repo.par(&["--json", "list"]).success().json();
    assert_eq!(ids(&json), ["T001", "T001", "T002"]);
    repo.par(&["plan"]).success();
    let run = repo.par(&["start", "T001"]).code(1);
    assert_eq!(
        run.stderr,
        format!("{warning}error: task ID T001 is used twice, on lines 3 and 4 of specs/001-demo/tasks.md\nhint: rename one of them (e.g. T001a) so every task has its own ID, then start it\n")
    );
    // Nothing was started; the other task starts.
    assert_eq!(repo.par(&["--json", "lock-status"]).success().json()["tasks"], json!([]));
    repo.par(&["start", "T002"]).success();
}

#[test]
fn a_cycle_is_refused_naming_it() {
    let repo = TestRepo::with_tasks(
        "## Phase 1\n\n- [ ] T001 [P] One\n- [ ] T002 [P] Two\n\n## Dependencies\n\n- T001 blocks T002\n- T002 blocks T001\n",
    );
    let run = repo.par(&["ready"]).code(1);
    assert!(
        run.stderr.contains("T001 → T002 → T001") || run.stderr.contains("T002 → T001 → T002"),
        "{}",
        run.stderr
    );
}

#[test]
fn started_tasks_are_shown_as_active_and_are_not_ready() {
    let repo = TestRepo::with_tasks(LIST_PLAN);
    repo.par(&["start", "T002"]).success();
    let ready = repo.par(&["--json", "ready"]).success().json();
    assert_eq!(ids(&ready), ["T003", "T004", "T005", "T006"]);

    let json = repo.par(&["--json", "show", "T002"]).success().json();
    let active = &json["tasks"][0]["active"];
    assert_eq!(active["state"], "active");
    assert_eq!(active["branch"], "par/T002");
    assert_eq!(active["worktree"], repo.worktree("T002").display().to_string());
    assert!(active["owner"].as_str().unwrap().starts_with("tester@"), "{active}");
    assert_eq!(json["tasks"][0]["state"], "todo");

    let list = repo.par(&["list", "--parallel"]).success();
    assert!(
        list.stdout.contains(
            "  [ ] T002 [P] Add loader in src/data/loader.py · src/data/loader.py  ← active on par/T002\n"
        ),
        "{}",
        list.stdout
    );
    let show = repo.par(&["show", "T002"]).success();
    assert!(show.stdout.contains("  active:   active on par/T002 by tester@"), "{}", show.stdout);
    assert!(
        show.stdout.contains(&format!("  worktree: {}\n", repo.worktree("T002").display())),
        "{}",
        show.stdout
    );

    repo.par(&["block", "T002", "waiting", "for", "data"]).success();
    let show = repo.par(&["show", "T002"]).success();
    assert!(show.stdout.contains("  blocked:  waiting for data\n"), "{}", show.stdout);
}

#[test]
fn ready_says_when_every_ready_task_is_already_active() {
    let repo = TestRepo::with_tasks("## Phase 1\n\n- [ ] T001 Only task in a.py\n- [ ] T002 Next in b.py\n");
    repo.par(&["start", "T001"]).success();
    let run = repo.par(&["ready"]).success();
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "no task is ready to start: the 1 ready task(s) are already active\nhint: `git par lock-status` shows them; `git par finish ID` lands one\n"
    );
}

#[test]
fn show_reads_a_backticked_path_with_spaces_as_one_path() {
    let repo = TestRepo::with_tasks(
        "## Phase 1\n\n- [ ] T001 [P] Rewrite `docs/user guide.md` intro\n- [ ] T002 [P] Run `doit gen specs/a/spec.md`\n",
    );
    let json = repo.par(&["--json", "show", "T001"]).success().json();
    assert_eq!(json["tasks"][0]["paths"], json!(["docs/user guide.md"]));
    assert_eq!(json["tasks"][0]["rejected_paths"], json!([]));
    let json = repo.par(&["--json", "show", "T002"]).success().json();
    assert_eq!(json["tasks"][0]["paths"], json!([]));
    assert_eq!(
        json["tasks"][0]["rejected_paths"],
        json!([{"path": "doit gen specs/a/spec.md", "reason": "looks like a command, not a path"}])
    );
}

#[test]
fn show_reads_a_quoted_path_with_spaces_as_one_path() {
    let repo = TestRepo::with_tasks("## Phase 1\n\n- [ ] T001 Edit \"docs/my file.md\" and 'src/a b/c.py'\n");
    let json = repo.par(&["--json", "show", "T001"]).success().json();
    assert_eq!(json["tasks"][0]["paths"], json!(["docs/my file.md", "src/a b/c.py"]));
    assert_eq!(json["tasks"][0]["rejected_paths"], json!([]));
}

#[test]
fn show_keeps_the_parentheses_of_a_bare_route_group() {
    let repo = TestRepo::with_tasks("## Phase 1\n\n- [ ] T001 Add app/(group)/layout.tsx (see src/a.py)\n");
    let json = repo.par(&["--json", "show", "T001"]).success().json();
    assert_eq!(json["tasks"][0]["paths"], json!(["app/(group)/layout.tsx", "src/a.py"]));
    assert_eq!(json["tasks"][0]["rejected_paths"], json!([]));
}
