//! The example plans several test files share, and where a test repository keeps its tasks.md.

/// Where `TestRepo::with_tasks` and the other fixtures put the task file.
pub const TASKS_FILE: &str = "specs/001-demo/tasks.md";

/// A small plan: T001–T003 and T007 ready in parallel (T007 overlaps T001),
/// T004 done, T005 waits for the phase above, T006 for T005.
pub const PLAN: &str = "\
# Tasks: Demo

## Phase 1: Setup

- [ ] T001 [P] Write the model in src/app/models.py
- [ ] T002 [P] Write the views in src/app/views.py
- [ ] T003 [P] Write the guide in docs/guide.md
- [X] T004 [P] Write the README in README.md
- [ ] T007 [P] Add validation to src/app/models.py

## Phase 2: Core

- [ ] T005 Wire everything together in src/app/main.py
- [ ] T006 Add the entry point in src/app/cli.py
";

/// A plan for reading: a done task, [HTTP] tasks, overlapping paths, a user
/// story phase and a task in progress (`[~]`).
pub const LIST_PLAN: &str = "# Tasks: demo

## Phase 1: Setup

- [x] T001 Create project structure in `src/`
- [ ] T002 [P] Add loader in src/data/loader.py
- [ ] T003 [P] Add pricing in `src/pricing/bs.py`
- [ ] T004 [P] [HTTP] Fetch quotes into src/data/quotes.py
- [ ] T005 [P] [HTTP] Fetch rates into src/data/rates.py
- [ ] T006 [P] Normalise loader output in src/data/loader.py

## Phase 2: User Story 1 - Optimize (Priority: P1)

- [ ] T007 [US1] Optimizer in src/opt/core.py and tests/test_core.py
- [~] T008 [US1] Document the optimizer in docs/optimizer.md
";

/// Three parallel tasks with no declared path (the hook tests lock them by hand).
pub const CHECK_PLAN: &str = "# Tasks: demo

## Phase 1

- [ ] T001 [P] Model
- [ ] T002 [P] Docs
- [ ] T003 [P] Unicode
";
