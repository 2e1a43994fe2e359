//! `git par lock` and `git par unlock --force`.

use serde_json::json;

use crate::common::{assert_refused, disk, events, owner, state, write_at, TestRepo, PLAN};

#[test]
fn add_and_remove_patterns() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    let run = repo.par(&["lock", "T001", "--add", "src/app/schema/", "--add", "./tests/**/*.py"]).success();
    assert_eq!(run.stdout, "src/app/models.py\nsrc/app/schema/\ntests/**/*.py\n");
    assert_eq!(run.stderr, "T001 now locks src/app/schema/\nT001 now locks tests/**/*.py\n");
    assert_eq!(
        state(&repo)["tasks"]["T001"]["locks"],
        json!(["src/app/models.py", "src/app/schema/", "tests/**/*.py"])
    );

    let run =
        repo.par(&["--json", "lock", "T001", "--remove", "src/app/models.py", "--add", "src/app/schema/"]);
    assert_eq!(
        run.success().json(),
        json!({"version": 1, "id": "T001", "locks": ["src/app/schema/", "tests/**/*.py"],
               "added": [], "removed": ["src/app/models.py"]})
    );
    let last = events(&repo).pop().unwrap();
    assert_eq!((last["event"].as_str(), last["task"].as_str()), (Some("lock"), Some("T001")));
    assert_eq!(last["removed"], json!(["src/app/models.py"]));
    // The released path is free for another task now.
    repo.par(&["start", "T007"]).success();
}

#[test]
fn adding_a_held_path_exits_3() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    repo.par(&["start", "T003"]).success();
    let who = owner(&repo, "T001");
    assert_refused(
        &repo,
        &["lock", "T003", "--add", "docs/api.md", "--add", "src/**/*.py"],
        3,
        &format!(
            "error: T003 needs paths another task holds: src/**/*.py (overlaps src/app/models.py) held by T001 ({who})\n\
             hint: wait until T001 lands or is aborted and retry (`git par lock-status` shows every lock)\n\
             hint: if T001's owner is gone, `git par unlock T001 --force` breaks its locks\n"
        ),
    );
}

#[test]
fn lock_refusals() {
    let repo = TestRepo::with_tasks(PLAN);
    assert_refused(
        &repo,
        &["lock", "T001", "--add", "src/"],
        1,
        "error: T001 is not active\n\
         hint: `git par lock-status` lists the active tasks; if T001 is a task of the plan (`git par list`), `git par start T001` starts it\n",
    );
    repo.par(&["start", "T001"]).success();
    assert_refused(
        &repo,
        &["lock", "T001", "--remove", "docs/"],
        1,
        "error: T001 does not lock 'docs/'\nhint: its locks are: src/app/models.py\n",
    );
    assert_refused(
        &repo,
        &["lock", "T001", "--add", "specs/001-demo/tasks.md"],
        1,
        "error: cannot lock 'specs/001-demo/tasks.md': it is the task file, which git-par owns\n\
         hint: lock the files the task changes; `git par finish` ticks the task file for you\n",
    );
    assert_refused(
        &repo,
        &["lock", "T001", "--add", "../x"],
        1,
        "error: cannot lock '../x': leaves the repository\n\
         hint: give a path inside the repository, relative to its root\n",
    );
    let run = repo.par(&["lock", "T001"]).code(2);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
}

#[test]
fn unlock_needs_force_and_keeps_the_work() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    let who = owner(&repo, "T001");
    let wt = repo.worktree("T001");
    write_at(&wt.join("src/app/models.py"), "work in progress\n");
    assert_refused(
        &repo,
        &["unlock", "T001"],
        1,
        &format!(
            "error: breaking T001's locks (held by {who}) needs --force\n\
             hint: if {who} is gone, `git par unlock T001 --force` releases them; the branch and worktree are kept\n\
             hint: to stop the task and remove its worktree, use `git par abort T001`\n"
        ),
    );
    let tip = repo.rev("par/T001");
    let run = repo.par(&["unlock", "T001", "--force"]).success();
    assert_eq!(
        run.stderr,
        format!(
            "broke the locks of T001 (held by {who}); its branch par/T001 and worktree {wt} are kept\n\
             hint: remove the worktree with `git worktree remove {wt}` once its work is saved\n",
            wt = wt.display()
        )
    );
    assert_eq!(state(&repo)["tasks"], json!({}));
    assert_eq!(repo.rev("par/T001"), tip);
    assert_eq!(std::fs::read_to_string(wt.join("src/app/models.py")).unwrap(), "work in progress\n");
    let last = events(&repo).pop().unwrap();
    assert_eq!(last["event"], "unlock");
    assert_eq!(last["forced"], true);
    assert_eq!(last["previous_owner"], who.as_str());
    assert_eq!(last["who"], who.as_str());
    // The paths are free again.
    repo.par(&["start", "T007"]).success();
    // Unlocking a task that is not active is refused, even with --force.
    let before = disk(&repo);
    repo.par(&["unlock", "T001", "--force"]).code(1);
    assert_eq!(disk(&repo), before);
}

#[test]
fn command_line_patterns_are_read_like_tasks_md_paths() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    // git's own files are never committed: nothing to lock there.
    for text in [".git/hooks/pre-commit", "./.git/", "src/../.GIT/config", ".git"] {
        assert_refused(
            &repo,
            &["lock", "T001", "--add", text],
            1,
            &format!(
                "error: cannot lock '{text}': inside .git: git's own files are never committed, so there is nothing to lock\n\
                 hint: give a path inside the repository, relative to its root\n"
            ),
        );
    }
    let inside = format!("{}/.git/config", repo.root.display());
    assert_refused(
        &repo,
        &["lock", "T001", "--add", &inside],
        1,
        &format!(
            "error: cannot lock '{inside}': inside .git: git's own files are never committed, so there is nothing to lock\n\
             hint: give a path inside the repository, relative to its root\n"
        ),
    );
    assert_refused(
        &repo,
        &["lock", "T001", "--add", "src/{ok.py,../../out.py}"],
        1,
        "error: cannot lock 'src/../../out.py': leaves the repository\n\
         hint: give a path inside the repository, relative to its root\n",
    );

    // `.github/` is not `.git/`; an absolute path inside the repository is
    // made relative; `{a,b}` without `*`/`?` is a list, with them a glob.
    let schema = format!("{}/src/app/schema/", repo.root.display());
    let run = repo
        .par(&[
            "lock",
            "T001",
            "--add",
            ".github/workflows/ci.yml",
            "--add",
            &schema,
            "--add",
            "src/app/{forms,admin}.py",
            "--add",
            "tests/{unit,e2e}/*.py",
        ])
        .success();
    assert_eq!(
        run.stdout,
        "src/app/models.py\n.github/workflows/ci.yml\nsrc/app/schema/\nsrc/app/forms.py\nsrc/app/admin.py\ntests/{unit,e2e}/*.py\n"
    );
    let run =
        repo.par(&["--json", "lock", "T001", "--remove", "src/app/{forms,admin}.py", "--remove", &schema]);
    assert_eq!(
        run.success().json()["removed"],
        json!(["src/app/forms.py", "src/app/admin.py", "src/app/schema/"])
    );

    // From inside the task's worktree, an absolute path there is relative to it.
    let wt = repo.worktree("T001");
    let guide = format!("{}/docs/guide.md", wt.display());
    let run = repo.par_in(&wt, &["--json", "lock", "T001", "--add", &guide]).success();
    assert_eq!(run.json()["added"], json!(["docs/guide.md"]));
}
