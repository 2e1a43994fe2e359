//! Task-file discovery (DESIGN §3): every rule, in order, and its errors.

use crate::common::{Run, TestRepo};

const TASKS: &str = "# Tasks\n\n## Phase 1: Setup\n\n- [ ] T001 Create src/app.py\n";

fn tasks_file(run: Run) -> String {
    let run = run.success();
    run.json()["tasks_file"].as_str().expect("tasks_file").to_string()
}

fn repo_with(paths: &[&str]) -> TestRepo {
    let files: Vec<(&str, &str)> = paths.iter().map(|p| (*p, TASKS)).collect();
    TestRepo::with_files(&files)
}

#[test]
fn the_only_specs_tasks_md_is_found_from_any_subdirectory() {
    let repo = repo_with(&["specs/001-a/tasks.md"]);
    std::fs::create_dir_all(repo.path("src/deep")).unwrap();
    assert_eq!(tasks_file(repo.par_in(&repo.path("src/deep"), &["--json", "list"])), "specs/001-a/tasks.md");
}

#[test]
fn dot_specify_specs_counts_too() {
    let repo = repo_with(&[".specify/specs/004-x/tasks.md"]);
    assert_eq!(tasks_file(repo.par(&["--json", "list"])), ".specify/specs/004-x/tasks.md");
}

#[test]
fn several_candidates_is_an_error_listing_them() {
    let repo = repo_with(&["specs/001-a/tasks.md", "specs/002-b/tasks.md"]);
    let run = repo.par(&["list"]).code(1);
    assert_eq!(
        run.stderr,
        "error: several task files match specs/*/tasks.md: specs/001-a/tasks.md, specs/002-b/tasks.md\n\
         hint: choose one with --tasks, or `git config par.tasks specs/001-a/tasks.md`\n"
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn no_task_file_is_an_error_with_a_hint() {
    let repo = TestRepo::with_files(&[("README.md", "x\n")]);
    let run = repo.par(&["list"]).code(1);
    assert!(run.stderr.starts_with("error: no tasks.md found in "), "{}", run.stderr);
    assert!(run.stderr.contains("hint: pass --tasks FILE"), "{}", run.stderr);
}

#[test]
fn branch_numeric_prefix_chooses_among_several() {
    let repo = repo_with(&["specs/001-a/tasks.md", "specs/009-option-optimizer/tasks.md"]);
    repo.git(&["checkout", "-q", "-b", "009-option-optimizer"]);
    assert_eq!(tasks_file(repo.par(&["--json", "list"])), "specs/009-option-optimizer/tasks.md");
}

#[test]
fn branch_prefix_matching_several_is_an_error() {
    let repo = repo_with(&["specs/009-a/tasks.md", "specs/009-b/tasks.md", "specs/001-c/tasks.md"]);
    repo.git(&["checkout", "-q", "-b", "009-a"]);
    let run = repo.par(&["list"]).code(1);
    assert!(run.stderr.contains("several task files match branch prefix 009"), "{}", run.stderr);
}

#[test]
fn feature_json_beats_the_branch() {
    let repo = repo_with(&["specs/001-a/tasks.md", "specs/002-b/tasks.md"]);
    repo.git(&["checkout", "-q", "-b", "001-a"]);
    repo.write(".specify/feature.json", r#"{"feature_directory": "specs/002-b"}"#);
    assert_eq!(tasks_file(repo.par(&["--json", "list"])), "specs/002-b/tasks.md");
}

#[test]
fn environment_beats_feature_json() {
    let repo = repo_with(&["specs/001-a/tasks.md", "specs/002-b/tasks.md", "specs/003-c/tasks.md"]);
    repo.write(".specify/feature.json", r#"{"feature_directory": "specs/002-b"}"#);
    let out = repo
        .par_command(&repo.root, &["--json", "list"])
        .env("SPECIFY_FEATURE_DIRECTORY", "specs/003-c")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["tasks_file"], "specs/003-c/tasks.md");
}

#[test]
fn environment_pointing_nowhere_falls_through() {
    let repo = repo_with(&["specs/001-a/tasks.md"]);
    let out = repo
        .par_command(&repo.root, &["--json", "list"])
        .env("SPECIFY_FEATURE_DIRECTORY", "specs/999-missing")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["tasks_file"], "specs/001-a/tasks.md");
}

#[test]
fn git_config_beats_environment() {
    let repo = repo_with(&["specs/001-a/tasks.md", "specs/002-b/tasks.md"]);
    repo.git(&["config", "par.tasks", "specs/002-b/tasks.md"]);
    let out = repo
        .par_command(&repo.root, &["--json", "list"])
        .env("SPECIFY_FEATURE_DIRECTORY", "specs/001-a")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["tasks_file"], "specs/002-b/tasks.md");
}

#[test]
fn git_config_naming_a_missing_file_is_an_error() {
    let repo = repo_with(&["specs/001-a/tasks.md"]);
    repo.git(&["config", "par.tasks", "specs/404/tasks.md"]);
    let run = repo.par(&["list"]).code(1);
    assert!(run.stderr.contains("(from git config par.tasks) does not exist"), "{}", run.stderr);
}

#[test]
fn flag_beats_config_and_is_relative_to_the_current_directory() {
    let repo = repo_with(&["specs/001-a/tasks.md", "specs/002-b/tasks.md"]);
    repo.git(&["config", "par.tasks", "specs/001-a/tasks.md"]);
    let dir = repo.path("specs/002-b");
    assert_eq!(
        tasks_file(repo.par_in(&dir, &["--json", "--tasks", "tasks.md", "list"])),
        "specs/002-b/tasks.md"
    );
}

#[test]
fn flag_errors_missing_directory_and_invalid_utf8() {
    let repo = repo_with(&["specs/001-a/tasks.md"]);
    let missing = repo.par(&["--tasks", "nope.md", "list"]).code(1);
    assert!(missing.stderr.contains("(from --tasks) does not exist"), "{}", missing.stderr);
    let dir = repo.par(&["--tasks", "specs", "list"]).code(1);
    assert!(dir.stderr.contains("is a directory"), "{}", dir.stderr);
    std::fs::write(repo.path("bad.md"), b"- [ ] T001 ok\n- [ ] T002 \xff\xfe bad\n").unwrap();
    let bad = repo.par(&["--tasks", "bad.md", "list"]).code(1);
    assert!(bad.stderr.contains("is not valid UTF-8 (line 2"), "{}", bad.stderr);
    assert!(bad.stderr.contains("hint: re-save the file as UTF-8"), "{}", bad.stderr);
}

#[test]
fn a_file_with_no_tasks_is_an_error() {
    let repo = TestRepo::with_files(&[("specs/001-a/tasks.md", "# Tasks\n\nNothing here yet.\n")]);
    let run = repo.par(&["list"]).code(1);
    assert!(run.stderr.starts_with("error: no tasks found in specs/001-a/tasks.md\n"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[test]
fn the_recorded_plan_is_found_from_a_task_branch() {
    // Two plans and a branch without a numeric prefix: only the state says which.
    let repo = repo_with(&["specs/001-a/tasks.md", "specs/002-b/tasks.md"]);
    repo.git(&["checkout", "-q", "-b", "par/T001"]);
    repo.write(
        ".git/par/state.json",
        r#"{"version":1,"main_branch":"main","tasks_file":"specs/002-b/tasks.md","tasks":{}}"#,
    );
    assert_eq!(tasks_file(repo.par(&["--json", "list"])), "specs/002-b/tasks.md");
}
