//! `check --staged` and `check PATH...`, mostly through real `git commit`s
//! with the hook installed, in real worktrees.

use std::path::Path;

use serde_json::json;

use git_par::state::{LocalBackend, ParDir, Transact as _};

use crate::common::scenes::{add, commit, hooked, start_locking, two_tasks, write};
use crate::common::{record, TestRepo, CHECK_PLAN, TASKS_FILE};

#[test]
fn without_state_check_exits_0_at_once() {
    let repo = hooked();
    write(&repo.root, "docs/b.md", "changed\n");
    add(&repo, &repo.root, &["docs/b.md"]);
    let run = repo.par(&["--json", "check", "--staged"]).success();
    assert_eq!(run.json_hostless(), json!({"version": 1, "task": null, "violations": []}));
    assert_eq!(run.stderr_hostless(), "");
    assert!(!repo.root.join(".git/par").exists(), "check must not create the state");
    commit(&repo, &repo.root, &[]).success();
}

#[test]
fn state_without_tasks_exits_0() {
    let repo = hooked();
    start_locking(&repo, "T002", &["docs/"]);
    LocalBackend::new(ParDir::new(repo.root.join(".git/par")))
        .update(|state| {
            state.tasks.clear();
            Ok(())
        })
        .unwrap();
    write(&repo.root, "docs/b.md", "changed\n");
    add(&repo, &repo.root, &["docs/b.md"]);
    commit(&repo, &repo.root, &[]).success();
}

#[test]
fn an_in_scope_commit_passes() {
    let repo = hooked();
    let (t1, t2) = two_tasks(&repo);
    write(&t1, "src/a.py", "mine\n");
    write(&t1, "src/new.rs", "new\n");
    add(&repo, &t1, &["src/a.py", "src/new.rs"]);
    let run = commit(&repo, &t1, &[]).success();
    assert_eq!(run.stderr_hostless(), "");
    let json = repo.par_in(&t1, &["--json", "check", "--staged"]).success().json_hostless();
    assert_eq!(json, json!({"version": 1, "task": "T001", "violations": []}), "nothing staged");
    write(&t2, "docs/guide.md", "more\n");
    write(&t2, "docs/deep/new.md", "new\n");
    add(&repo, &t2, &["docs"]);
    commit(&repo, &t2, &[]).success();
    assert_eq!(repo.git_in(&t2, &["log", "-1", "--format=%s"]), "change\n");
}

#[test]
fn an_out_of_scope_commit_is_refused() {
    let repo = hooked();
    let (t1, _) = two_tasks(&repo);
    write(&t1, "src/a.py", "mine\n");
    write(&t1, "README.md", "not mine\n");
    write(&t1, "src/sub/x.rs", "not matched by src/*.rs\n");
    add(&repo, &t1, &["src/a.py", "README.md", "src/sub/x.rs"]);
    let head = repo.git_in(&t1, &["rev-parse", "HEAD"]);
    let run = commit(&repo, &t1, &[]).code(1);
    assert_eq!(
        run.stderr_hostless(),
        "error: commit refused: 2 staged paths are outside the locks of T001
  README.md: outside the locks of T001
  src/sub/x.rs: outside the locks of T001
hint: to make them part of T001: git par lock T001 --add README.md --add src/sub/x.rs
hint: to leave them out of this commit: git restore --staged -- README.md src/sub/x.rs
"
    );
    assert_eq!(repo.git_in(&t1, &["rev-parse", "HEAD"]), head, "nothing was committed");
}

#[test]
fn another_tasks_path_is_refused_in_a_worktree() {
    let repo = hooked();
    let (t1, _) = two_tasks(&repo);
    write(&t1, "src/a.py", "mine\n");
    write(&t1, "docs/guide.md", "T002's\n");
    add(&repo, &t1, &["src/a.py", "docs/guide.md"]);
    let run = commit(&repo, &t1, &[]).code(1);
    assert_eq!(
        run.stderr_hostless(),
        "error: commit refused: 1 staged path is locked by another task
  docs/guide.md: locked by T002 (tester@host)
hint: a path locked by another task can be committed once that task finishes or releases it (`git par lock-status` shows who holds what)
hint: to leave it out of this commit: git restore --staged -- docs/guide.md
"
    );
    let json = repo.par_in(&t1, &["--json", "check", "--staged"]).code(1).json_hostless();
    assert_eq!(
        json,
        json!({"version": 1, "task": "T001", "violations": [
            {"path": "docs/guide.md", "reason": "locked", "level": "error",
             "holder": {"task": "T002", "owner": "tester@host"}}
        ]})
    );
}

#[test]
fn main_committing_a_locked_file_is_refused() {
    let repo = hooked();
    two_tasks(&repo);
    write(&repo.root, "src/a.py", "on main\n");
    write(&repo.root, "README.md", "free\n");
    add(&repo, &repo.root, &["src/a.py", "README.md"]);
    let run = commit(&repo, &repo.root, &[]).code(1);
    assert!(run.stderr_hostless().starts_with("error: commit refused: 1 staged path is locked by another task\n  src/a.py: locked by T001 (tester@host)\n"), "{}", run.stderr_hostless());
    // Outside every task, paths nobody holds are free.
    repo.git(&["restore", "--staged", "--", "src/a.py"]);
    commit(&repo, &repo.root, &[]).success();
    assert_eq!(repo.git(&["show", "--name-only", "--format=", "HEAD"]), "README.md\n");
}

#[test]
fn renames_are_checked_on_both_sides() {
    let repo = hooked();
    let (t1, _) = two_tasks(&repo);
    // Into another task's directory: the new side is T002's.
    repo.git_in(&t1, &["mv", "src/a.py", "docs/a.py"]);
    let json = repo.par_in(&t1, &["--json", "check", "--staged"]).code(1).json_hostless();
    assert_eq!(
        json["violations"],
        json!([{"path": "docs/a.py", "reason": "locked", "level": "error",
                "holder": {"task": "T002", "owner": "tester@host"}}])
    );
    commit(&repo, &t1, &[]).code(1);
    repo.git_in(&t1, &["reset", "-q", "--hard"]);
    // Out of another task's directory: the old side is T002's.
    repo.git_in(&t1, &["mv", "docs/b.md", "src/b.rs"]);
    let json = repo.par_in(&t1, &["--json", "check", "--staged"]).code(1).json_hostless();
    assert_eq!(
        json["violations"],
        json!([{"path": "docs/b.md", "reason": "locked", "level": "error",
                "holder": {"task": "T002", "owner": "tester@host"}}])
    );
    commit(&repo, &t1, &[]).code(1);
    repo.git_in(&t1, &["reset", "-q", "--hard"]);
    // Within its own locks, a rename passes.
    repo.git_in(&t1, &["mv", "src/a.py", "src/a.rs"]);
    commit(&repo, &t1, &[]).success();
}

#[test]
fn deletions_are_checked() {
    let repo = hooked();
    let (t1, _) = two_tasks(&repo);
    repo.git_in(&t1, &["rm", "-q", "docs/guide.md"]);
    let run = commit(&repo, &t1, &[]).code(1);
    assert!(
        run.stderr_hostless().contains("  docs/guide.md: locked by T002 (tester@host)\n"),
        "{}",
        run.stderr_hostless()
    );
    repo.git_in(&t1, &["reset", "-q", "--hard"]);
    repo.git(&["rm", "-q", "src/a.py"]);
    let run = commit(&repo, &repo.root, &[]).code(1);
    assert!(
        run.stderr_hostless().contains("  src/a.py: locked by T001 (tester@host)\n"),
        "{}",
        run.stderr_hostless()
    );
    repo.git_in(&t1, &["rm", "-q", "src/a.py"]);
    commit(&repo, &t1, &[]).success();
}

#[test]
fn paths_with_spaces_and_non_ascii_names() {
    let repo = hooked();
    let t1 = start_locking(&repo, "T001", &["src/a.py"]);
    let t3 = start_locking(&repo, "T003", &["docs/café ü.md", "src/my file.py"]);
    write(&t1, "docs/café ü.md", "T003's\n");
    write(&t1, "src/my file.py", "T003's\n");
    write(&t1, "notes/it's mine.txt", "nobody's\n");
    add(&repo, &t1, &["docs", "src", "notes"]);
    let run = commit(&repo, &t1, &[]).code(1);
    assert_eq!(
        run.stderr_hostless(),
        "error: commit refused: 3 staged paths are locked by another task or outside the locks of T001
  docs/café ü.md: locked by T003 (tester@host)
  notes/it's mine.txt: outside the locks of T001
  src/my file.py: locked by T003 (tester@host)
hint: a path locked by another task can be committed once that task finishes or releases it (`git par lock-status` shows who holds what)
hint: to make it part of T001: git par lock T001 --add 'notes/it'\\''s mine.txt'
hint: to leave them out of this commit: git restore --staged -- 'docs/café ü.md' 'notes/it'\\''s mine.txt' 'src/my file.py'
"
    );
    // The hint's command really unstages them.
    repo.git_in(
        &t1,
        &["restore", "--staged", "--", "docs/café ü.md", "notes/it's mine.txt", "src/my file.py"],
    );
    write(&t3, "docs/café ü.md", "mine\n");
    write(&t3, "src/my file.py", "mine\n");
    add(&repo, &t3, &["docs/café ü.md", "src/my file.py"]);
    commit(&repo, &t3, &[]).success();
}

#[test]
fn enforce_scope_warn_and_off() {
    let repo = hooked();
    let (t1, _) = two_tasks(&repo);
    repo.git(&["config", "par.enforceScope", "warn"]);
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["README.md"]);
    let run = commit(&repo, &t1, &[]).success();
    assert_eq!(
        run.stderr_hostless(),
        "warning: README.md is outside the locks of T001 (par.enforceScope = warn)\n"
    );
    let json = repo.par_in(&t1, &["--json", "check", "README.md"]).success().json_hostless();
    assert_eq!(
        json["violations"],
        json!([{"path": "README.md", "reason": "out_of_scope", "holder": null, "level": "warning"}])
    );
    // warn never lets another task's path through.
    write(&t1, "docs/b.md", "T002's\n");
    add(&repo, &t1, &["docs/b.md"]);
    commit(&repo, &t1, &[]).code(1);
    repo.git_in(&t1, &["restore", "--staged", "--", "docs/b.md"]);
    repo.git(&["config", "par.enforceScope", "off"]);
    write(&t1, "README.md", "still not mine\n");
    add(&repo, &t1, &["README.md"]);
    assert_eq!(commit(&repo, &t1, &[]).success().stderr, "");
}

#[test]
fn an_unknown_enforce_scope_warns_once_and_acts_as_error() {
    let repo = hooked();
    let (t1, _) = two_tasks(&repo);
    repo.git(&["config", "par.enforceScope", "bogus"]);
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["README.md"]);
    let run = commit(&repo, &t1, &[]).code(1);
    assert_eq!(
        run.stderr_hostless(),
        "warning: par.enforceScope = bogus is not one of error, warn, off, acquire; using error
hint: set it with `git config par.enforceScope error` (or warn, off, acquire)
error: commit refused: 1 staged path is outside the locks of T001
  README.md: outside the locks of T001
hint: to make it part of T001: git par lock T001 --add README.md
hint: to leave it out of this commit: git restore --staged -- README.md
"
    );
    // A path in scope: the warning still says the setting is not understood, the commit passes.
    repo.git_in(&t1, &["restore", "--staged", "--", "README.md"]);
    write(&t1, "src/a.py", "mine\n");
    add(&repo, &t1, &["src/a.py"]);
    let run = commit(&repo, &t1, &[]).success();
    assert_eq!(
        run.stderr_hostless(),
        "warning: par.enforceScope = bogus is not one of error, warn, off, acquire; using error
hint: set it with `git config par.enforceScope error` (or warn, off, acquire)
"
    );
}

#[test]
fn the_task_file_is_never_refused() {
    let repo = hooked();
    let t1 = start_locking(&repo, "T001", &["src/a.py"]);
    start_locking(&repo, "T002", &["specs/"]);
    write(&t1, TASKS_FILE, &CHECK_PLAN.replace("- [ ] T001", "- [X] T001"));
    add(&repo, &t1, &[TASKS_FILE]);
    commit(&repo, &t1, &[]).success();
    write(&repo.root, TASKS_FILE, &CHECK_PLAN.replace("- [ ] T002", "- [X] T002"));
    add(&repo, &repo.root, &[TASKS_FILE]);
    commit(&repo, &repo.root, &[]).success();
}

#[test]
fn commit_all_and_commit_paths_check_the_index_git_commits() {
    let repo = hooked();
    let (t1, _) = two_tasks(&repo);
    // Nothing out of scope is staged in the worktree's index; `commit -a`
    // stages README.md into a temporary index that the hook must read.
    write(&t1, "src/a.py", "mine\n");
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["src/a.py"]);
    repo.par_in(&t1, &["check", "--staged"]).success();
    let run = commit(&repo, &t1, &["-a"]).code(1);
    assert!(
        run.stderr_hostless().contains("  README.md: outside the locks of T001\n"),
        "{}",
        run.stderr_hostless()
    );
    // `git restore --staged` would change nothing here: the hint says what does.
    assert!(
        run.stderr_hostless().contains(
            "hint: this commit stages files itself (`git commit -a` or paths): commit without -a, staging only your own files (`git add PATH...`), and leave README.md out\n"
        ) && !run.stderr_hostless().contains("git restore --staged"),
        "{}",
        run.stderr_hostless()
    );
    let run = commit(&repo, &t1, &["--", "README.md"]).code(1);
    assert!(
        run.stderr_hostless().contains("  README.md: outside the locks of T001\n"),
        "{}",
        run.stderr_hostless()
    );
    let run = commit(&repo, &t1, &["--", "src/a.py"]).success();
    assert_eq!(run.stderr_hostless(), "");
    assert_eq!(repo.git_in(&t1, &["status", "--porcelain"]), " M README.md\n");
}

#[test]
fn concluding_a_merge_does_not_refuse_what_the_merge_brings_in() {
    let repo = hooked();
    let (t1, _) = two_tasks(&repo);
    write(&t1, "src/a.py", "task side\n");
    add(&repo, &t1, &["src/a.py"]);
    commit(&repo, &t1, &[]).success();
    // Main moves on: README.md (nobody's) and src/a.py (a conflict).
    write(&repo.root, "README.md", "main side\n");
    write(&repo.root, "src/a.py", "main side\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "main moves"]);
    let merge = repo.try_git_in(&t1, &["merge", "-q", "main"]);
    assert_ne!(merge.code, 0, "expected a conflict");
    write(&t1, "src/a.py", "resolved\n");
    add(&repo, &t1, &["src/a.py"]);
    let json = repo.par_in(&t1, &["--json", "check", "--staged"]).success().json_hostless();
    assert_eq!(json["violations"], json!([]));
    repo.git_in(&t1, &["commit", "-q", "--no-edit"]);
    assert_eq!(repo.read("README.md"), "main side\n");
    assert_eq!(std::fs::read_to_string(t1.join("README.md")).unwrap(), "main side\n");
}

#[test]
fn check_paths_are_relative_to_the_current_directory() {
    let repo = hooked();
    let (t1, _) = two_tasks(&repo);
    let sub = t1.join("src");
    let json = repo
        .par_in(&sub, &["--json", "check", "a.py", "../docs/new.md", "../README.md"])
        .code(1)
        .json_hostless();
    assert_eq!(
        json,
        json!({"version": 1, "task": "T001", "violations": [
            {"path": "docs/new.md", "reason": "locked", "level": "error",
             "holder": {"task": "T002", "owner": "tester@host"}},
            {"path": "README.md", "reason": "out_of_scope", "holder": null, "level": "error"}
        ]})
    );
    let run = repo.par_in(&sub, &["check", "a.py", "b.rs"]).success();
    assert_eq!(run.snapshot(), "exit: 0\n--- stdout\n--- stderr\n");
    let run = repo.par_in(&repo.root, &["check", "README.md", "src/a.py"]).code(1);
    assert_eq!(
        run.stderr_hostless(),
        "error: 1 path is locked by another task
  src/a.py: locked by T001 (tester@host)
hint: a path locked by another task can be committed once that task finishes or releases it (`git par lock-status` shows who holds what)
"
    );
}

#[test]
fn check_refuses_directories_and_paths_outside_the_repository() {
    let repo = hooked();
    two_tasks(&repo);
    let run = repo.par(&["check", "src"]).code(2);
    assert_eq!(
        run.stderr_hostless(),
        "error: 'src' is a directory\nhint: name the files you mean to change: locks are checked file by file\n"
    );
    // Outside the repository is a refusal (1), as `lock --add ../x` is.
    for outside in ["../elsewhere.txt", "/etc/passwd"] {
        let run = repo.par(&["check", outside]).code(1);
        assert_eq!(
            repo.normalize(&run.stderr),
            format!(
                "error: '{outside}' is outside the repository at [TMP]/repo
hint: name paths inside the repository, relative to the current directory
"
            )
        );
    }
    repo.par(&["lock", "T001", "--add", "../elsewhere.txt"]).code(1);
}

#[test]
fn the_task_is_found_by_its_worktree_through_a_symlink() {
    let repo = hooked();
    let t1 = start_locking(&repo, "T001", &["src/a.py"]);
    // Recorded through a symlinked parent and with another branch name:
    // only the canonical worktree path can tell the task.
    let link = repo.root.parent().unwrap().join("link");
    std::os::unix::fs::symlink(t1.parent().unwrap(), &link).unwrap();
    record(&repo, "T001", "par/renamed", &link.join("T001"), &["src/a.py"]);
    let json = repo.par_in(&t1, &["--json", "check", "README.md"]).code(1).json_hostless();
    assert_eq!(json["task"], "T001");
    // By branch: a worktree elsewhere that has the task's branch checked out.
    record(&repo, "T001", "par/T001", Path::new("/nowhere/T001"), &["src/a.py"]);
    assert_eq!(repo.par_in(&t1, &["--json", "check", "README.md"]).code(1).json_hostless()["task"], "T001");
    // Neither: main's view (README.md is nobody's).
    record(&repo, "T001", "par/other", Path::new("/nowhere/T001"), &["src/a.py"]);
    let json = repo.par_in(&t1, &["--json", "check", "README.md"]).success().json_hostless();
    assert_eq!(json, json!({"version": 1, "task": null, "violations": []}));
}

/// The index reader agrees with `git diff-index --cached` in every shape of index.
#[test]
fn staged_paths_agree_with_git() {
    let repo = hooked();
    let git = git2::Repository::open(&repo.root).unwrap();
    let check = |what: &str| {
        let ours = git_par::repo::index::staged_paths(&git, None).unwrap();
        let theirs = git_par::repo::index::staged_paths_by_git(&git, None).unwrap();
        assert_eq!(ours, theirs, "{what}");
        ours
    };
    assert_eq!(check("clean"), Vec::<String>::new());
    write(&repo.root, "src/a.py", "changed\n");
    write(&repo.root, "a-b", "sorts before a/\n");
    write(&repo.root, "src/deep/er/x.py", "new\n");
    repo.git(&["add", "-A"]);
    repo.git(&["rm", "-q", "--cached", "docs/guide.md"]);
    repo.git(&["mv", "src/b.py", "docs/b.py"]);
    repo.git(&["update-index", "--chmod=+x", "README.md"]);
    assert_eq!(
        check("edits"),
        ["README.md", "a-b", "docs/b.py", "docs/guide.md", "src/a.py", "src/b.py", "src/deep/er/x.py"]
    );
    // A file becomes a directory, a symlink, an intent-to-add entry.
    repo.git(&["rm", "-q", "--cached", "src/a.py"]);
    std::fs::remove_file(repo.path("src/a.py")).unwrap();
    write(&repo.root, "src/a.py/inner", "now a directory\n");
    std::os::unix::fs::symlink("README.md", repo.path("link")).unwrap();
    repo.git(&["add", "src/a.py/inner", "link"]);
    write(&repo.root, "ita.txt", "later\n");
    repo.git(&["add", "-N", "ita.txt"]);
    let typechanges = check("typechanges");
    assert!(
        typechanges.contains(&"src/a.py".to_string()) && typechanges.contains(&"src/a.py/inner".to_string())
    );
    assert!(!typechanges.contains(&"ita.txt".to_string()), "intent-to-add is not committed");
    // Index version 4 (prefix-compressed paths) and 3.
    repo.git(&["update-index", "--index-version", "4"]);
    assert_eq!(check("v4"), typechanges);
    repo.git(&["update-index", "--index-version", "2"]);
    assert_eq!(check("v2"), typechanges);
    // A split index is read by git.
    repo.git(&["update-index", "--split-index"]);
    assert_eq!(check("split"), typechanges);
    repo.git(&["update-index", "--no-split-index"]);
    // Valid cached trees after a commit, then one directory invalidated.
    repo.git(&["reset", "-q", "--hard"]);
    repo.git(&["commit", "-q", "--allow-empty", "--no-verify", "-m", "tree cached"]);
    assert_eq!(check("cached"), Vec::<String>::new());
    write(&repo.root, "docs/guide.md", "changed\n");
    repo.git(&["add", "docs/guide.md"]);
    assert_eq!(check("one dir"), ["docs/guide.md"]);
    // No cached trees at all.
    std::fs::remove_file(repo.path(".git/index")).unwrap();
    repo.git(&["read-tree", "HEAD"]);
    repo.git(&["rm", "-q", "--cached", "src/my file.py"]);
    assert_eq!(check("no cache"), ["src/my file.py"]);
}

#[test]
fn staged_paths_agree_with_git_on_an_unborn_branch_and_during_conflicts() {
    let repo = TestRepo::empty();
    let git = git2::Repository::open(&repo.root).unwrap();
    let both = || {
        let ours = git_par::repo::index::staged_paths(&git, None).unwrap();
        assert_eq!(ours, git_par::repo::index::staged_paths_by_git(&git, None).unwrap());
        ours
    };
    assert_eq!(both(), Vec::<String>::new());
    repo.write("x/y.txt", "y\n");
    repo.write("z.txt", "z\n");
    repo.git(&["add", "-A"]);
    assert_eq!(both(), ["x/y.txt", "z.txt"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "first"]);
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("z.txt", "side\n");
    repo.commit_all("side");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("z.txt", "main\n");
    repo.commit_all("main");
    assert_ne!(repo.try_git_in(&repo.root, &["merge", "-q", "side"]).code, 0);
    assert_eq!(both(), ["z.txt"]);
}

#[test]
fn a_commit_on_main_does_not_look_at_the_worktrees_of_the_active_tasks() {
    if !crate::common::strace_works() {
        eprintln!("skipped: strace cannot run here");
        return;
    }
    let repo = hooked();
    // Twenty active tasks whose worktrees exist (they are only recorded).
    let elsewhere = repo.root.parent().unwrap().join("elsewhere");
    for i in 1..=20 {
        let id = format!("T{i:03}");
        let worktree = elsewhere.join(&id);
        std::fs::create_dir_all(&worktree).unwrap();
        record(&repo, &id, &format!("par/{id}"), &worktree, &[&format!("docs/{id}.md")]);
    }
    write(&repo.root, "README.md", "changed\n");
    add(&repo, &repo.root, &["README.md"]);
    let trace = repo.tmp.path().join("trace");
    let run = crate::common::Run::from(
        crate::common::isolated("strace", &repo.home)
            .current_dir(&repo.root)
            .args(["-f", "-e", "trace=%file,readlink,readlinkat", "-o"])
            .arg(&trace)
            .arg(crate::common::bin())
            .args(["check", "--staged"])
            .output()
            .unwrap(),
    );
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "", ""));
    let syscalls = std::fs::read_to_string(&trace).unwrap();
    assert!(syscalls.contains("state.json"), "the trace shows the check's own file access:\n{syscalls}");
    let looked: Vec<&str> = syscalls.lines().filter(|l| l.contains("/elsewhere")).collect();
    assert!(looked.is_empty(), "the check on main looked at task worktrees:\n{}", looked.join("\n"));
    // In a task's worktree (found by its path, not its branch) the task is still found.
    repo.git(&["worktree", "add", "-q", "--detach", elsewhere.join("T001").to_str().unwrap()]);
    let t1 = elsewhere.join("T001");
    write(&t1, "src/a.py", "changed\n");
    add(&repo, &t1, &["src/a.py"]);
    let json = repo.par_in(&t1, &["--json", "check", "--staged"]).code(1).json_hostless();
    assert_eq!(json["task"], "T001");
}
