//! CLI conventions every command inherits: exit codes, JSON, messages.

use crate::common::{bin, isolated, TestRepo};

#[test]
fn usage_error_exits_2() {
    let repo = TestRepo::empty();
    let run = repo.par(&["no-such-command"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.starts_with("error:"), "{}", run.stderr);
}

#[test]
fn a_usage_error_under_json_prints_an_error_document() {
    let repo = TestRepo::empty();
    let run = repo.par(&["--json", "finish"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert_eq!(
        run.json(),
        serde_json::json!({"version": 1, "error": {
            "message": "the following required arguments were not provided: <ID>...",
            "causes": [],
            "hints": ["Usage: git par finish <ID>...", "For more information, try '--help'."],
            "exit": 2,
        }})
    );
    assert!(run.stderr.starts_with("error:"), "clap's text stays on stderr: {}", run.stderr);
    let run = repo.par(&["--json", "strat"]);
    assert_eq!(
        (run.code, run.json()["error"]["hints"][0].clone()),
        (2, "tip: a similar subcommand exists: 'start'".into())
    );
    // Without --json, or with it only after `--`, stdout stays empty; --help is not an error.
    assert_eq!(repo.par(&["finish"]).stdout, "");
    assert_eq!(repo.par(&["run", "T001", "--", "--json"]).stdout, "");
    assert!(!repo.par(&["--json", "--help"]).success().stdout.starts_with('{'), "help text, not JSON");
}

#[test]
fn help_and_version_exit_0() {
    let repo = TestRepo::empty();
    let help = repo.par(&["--help"]).success();
    assert!(help.stdout.contains("Usage: git par"), "{}", help.stdout);
    let version = repo.par(&["--version"]).success();
    assert_eq!(version.stdout.trim(), format!("git-par {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn outside_a_repository_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = isolated(bin(), dir.path())
        .current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .args(["list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: not a git repository: "), "{stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
    // Nothing found says it all: no libgit2 internals.
    assert!(!stderr.contains("class=") && !stderr.contains("caused by"), "{stderr}");
}

/// Config values git-par cannot use are named, with what it does instead,
/// rather than silently replaced; an empty worktree directory is unset (it
/// would put task worktrees inside the repository).
#[test]
fn unusable_config_values_are_warned_about_and_an_empty_worktree_dir_is_unset() {
    let repo =
        crate::common::TestRepo::with_tasks("# Tasks\n\n## Phase 1\n\n- [ ] T001 [P] Create `a.txt`\n");
    repo.git(&["config", "par.lockTTL", "forever"]);
    repo.git(&["config", "par.limit.http", "many"]);
    repo.git(&["config", "par.worktreeDir", ""]);
    let run = repo.par(&["start", "T001"]).success();
    for expected in [
        "warning: par.lockTTL = forever is not a duration (e.g. 24h, 90m, 2days); using 24h\n",
        "warning: par.limit.http = many is not a whole number (e.g. 2); no limit is applied\n",
        "warning: par.worktreeDir is empty; using the default, <repository>.par beside the repository\n",
    ] {
        assert!(run.stderr.contains(expected), "{}", run.snapshot());
    }
    assert_eq!(run.stdout.trim(), repo.worktree("T001").display().to_string());
    assert!(!repo.root.join("T001").exists());
    assert_eq!(repo.git(&["status", "--porcelain", "--", ":!logs"]), "");
}

#[test]
fn bare_repository_is_refused() {
    let repo = TestRepo::empty();
    let bare = repo.root.parent().unwrap().join("bare.git");
    repo.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    let run = repo.par_in(&bare, &["list"]).code(1);
    assert!(run.stderr.contains("bare repository"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[test]
fn missing_dash_c_directory_is_a_usage_error() {
    let repo = TestRepo::empty();
    let run = repo.par(&["-C", "does/not/exist", "list"]).code(2);
    assert!(run.stderr.contains("does/not/exist"), "{}", run.stderr);
}

#[test]
fn completions_and_man_are_generated() {
    let repo = TestRepo::empty();
    for shell in ["bash", "zsh", "fish"] {
        let run = repo.par(&["completions", shell]).success();
        assert!(run.stdout.contains("finish"), "{shell} completion lacks subcommands");
    }
    let man = repo.par(&["man"]).success();
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH git-par"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    let out = repo.root.join("man1");
    repo.par(&["man", "--out", out.to_str().unwrap()]).success();
    assert!(out.join("git-par.1").is_file());
}

#[test]
fn a_failure_under_json_prints_an_error_document() {
    let repo = TestRepo::with_tasks("## Phase 1\n\n- [ ] T001 One in a.py\n");
    let run = repo.par(&["--json", "show", "T999"]).code(1);
    let json = run.json();
    assert_eq!(
        json,
        serde_json::json!({
            "version": 1,
            "error": {
                "message": "no task T999 in specs/001-demo/tasks.md",
                "causes": [],
                "hints": ["`git par list` shows the tasks of specs/001-demo/tasks.md"],
                "exit": 1
            }
        })
    );
    // The human message is still on stderr.
    assert!(run.stderr.starts_with("error: no task T999"), "{}", run.stderr);
    let busy = repo.par(&["--json", "plan", "--limit", "x"]).code(2);
    assert_eq!(busy.json()["error"]["exit"], 2);
}

#[test]
fn a_refusal_is_the_message_and_the_low_level_error_its_cause() {
    let repo = TestRepo::with_tasks("## Phase 1\n\n- [ ] T001 One in a.py\n");
    repo.write(".git/par/state.json", "{ not json");
    let run = repo.par(&["lock-status"]).code(1);
    let path = repo.path(".git/par/state.json");
    assert!(
        run.stderr.starts_with(&format!(
            "error: {} is not a valid git-par state file\n  caused by: ",
            path.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with("hint: run `git par doctor` to inspect it; move it aside to start afresh\n"),
        "{}",
        run.stderr
    );
}
