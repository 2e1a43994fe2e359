//! `git par start`: branch, worktree and locks per task; refusals change nothing.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::{assert_refused, events, owner, state, TestRepo, PLAN, TASKS_FILE};

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// What `start` says when no git-par hook checks the commits in `whose`.
pub fn unhooked(whose: &str) -> String {
    format!(
        "warning: no git-par pre-commit hook is installed, so commits in {whose} are not checked against the locks (finish still checks what lands)\n\
         hint: install it with `git par hook install`\n"
    )
}

#[test]
fn start_creates_branch_worktree_and_state() {
    let repo = TestRepo::with_tasks(PLAN);
    let main = repo.rev("main");
    let run = repo.par(&["start", "T001"]).success();
    let wt = repo.worktree("T001");
    assert_eq!(run.stdout, format!("{}\n", wt.display()));
    assert_eq!(
        run.stderr,
        unhooked("T001's worktree") + "started T001 on branch par/T001 (locks src/app/models.py)\n"
    );

    assert_eq!(repo.rev("par/T001"), main);
    assert_eq!(repo.git_in(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(), "par/T001");
    assert!(wt.join(TASKS_FILE).is_file(), "the worktree is checked out");
    let listed = repo.git(&["worktree", "list", "--porcelain"]);
    assert!(listed.contains(&format!("worktree {}\n", wt.display())), "{listed}");

    let state = state(&repo);
    assert_eq!(state["main_branch"], "main");
    assert_eq!(state["tasks_file"], TASKS_FILE);
    let task = &state["tasks"]["T001"];
    assert_eq!(task["id"], "T001");
    assert_eq!(task["branch"], "par/T001");
    assert_eq!(task["worktree"], path(&wt));
    assert_eq!(task["base"], main.as_str());
    assert_eq!(task["locks"], serde_json::json!(["src/app/models.py"]));
    assert_eq!(task["state"], "active");
    assert_eq!(task["owner"]["user"], "tester");
    let started_at = task["started_at"].as_str().unwrap().to_string();

    let events = events(&repo);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "start");
    assert_eq!(events[0]["task"], "T001");
    assert_eq!(events[0]["locks"], serde_json::json!(["src/app/models.py"]));

    // The task log, kept out of `git status` by .git/info/exclude.
    assert_eq!(
        repo.read("logs/parallel/T001.log"),
        format!(
            "{started_at} start T001 branch par/T001 worktree {} base {} locks src/app/models.py\n",
            wt.display(),
            &main[..7]
        )
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert!(repo.read(".git/info/exclude").ends_with("# git-par task logs\n/logs/parallel/\n"));
    repo.par(&["start", "T002"]).success();
    assert_eq!(repo.read(".git/info/exclude").matches("/logs/parallel/").count(), 1);
}

#[test]
fn start_json_lists_every_task() {
    let repo = TestRepo::with_tasks(PLAN);
    let main = repo.rev("main");
    let run = repo.par(&["--json", "start", "T001", "T003"]).success();
    let (wt1, wt3) = (repo.worktree("T001"), repo.worktree("T003"));
    assert_eq!(
        run.json(),
        serde_json::json!({
            "version": 1,
            "tasks": [
                {"id": "T001", "branch": "par/T001", "worktree": path(&wt1), "base": main,
                 "locks": ["src/app/models.py"]},
                {"id": "T003", "branch": "par/T003", "worktree": path(&wt3), "base": main,
                 "locks": ["docs/guide.md"]},
            ]
        })
    );
    assert_eq!(run.stderr, unhooked("the worktrees of T001, T003"));
}

#[test]
fn extra_paths_go_with_one_task_only() {
    let repo = TestRepo::with_tasks(PLAN);
    assert_refused(
        &repo,
        &["start", "T001", "T003", "--path", "assets/"],
        2,
        "error: --path adds locks to one task; it cannot be given with several IDs\n\
         hint: start the tasks one at a time, or add locks later with `git par lock ID --add GLOB`\n",
    );
}

#[test]
fn plain_output_is_one_path_per_line() {
    let repo = TestRepo::with_tasks(PLAN);
    let run = repo.par(&["start", "T001", "T002"]).success();
    assert_eq!(
        run.stdout,
        format!("{}\n{}\n", repo.worktree("T001").display(), repo.worktree("T002").display())
    );
}

#[test]
fn base_and_extra_paths() {
    let repo = TestRepo::with_tasks(PLAN);
    let first = repo.rev("main");
    repo.write("src/app/models.py", "x = 1\n");
    repo.commit_all("second");
    let run = repo.par(&[
        "--json",
        "start",
        "T003",
        "--base",
        "HEAD~1",
        "--path",
        "./docs/img/",
        "--path",
        "lib\\x.rs",
    ]);
    let json = run.success().json();
    assert_eq!(json["tasks"][0]["base"], first.as_str());
    assert_eq!(json["tasks"][0]["locks"], serde_json::json!(["docs/guide.md", "docs/img/", "lib/x.rs"]));
    assert_eq!(repo.rev("par/T003"), first);
}

#[test]
fn unknown_done_and_active_tasks_are_refused() {
    let repo = TestRepo::with_tasks(PLAN);
    assert_refused(
        &repo,
        &["start", "T999"],
        1,
        "error: no task T999 in specs/001-demo/tasks.md\nhint: `git par list` shows the task IDs\n",
    );
    // A typo of a real ID is named (found by a new user typing T12 for T012).
    assert_refused(
        &repo,
        &["start", "t1"],
        1,
        "error: no task t1 in specs/001-demo/tasks.md\nhint: did you mean T001? `git par list` shows the task IDs\n",
    );
    assert_refused(
        &repo,
        &["start", "T004"],
        1,
        "error: T004 is already done in specs/001-demo/tasks.md\n\
         hint: untick it in specs/001-demo/tasks.md to do it again\n",
    );
    repo.par(&["start", "T001"]).success();
    let wt = repo.worktree("T001");
    let who = owner(&repo, "T001");
    assert_refused(
        &repo,
        &["start", "T001"],
        1,
        &format!(
            "error: T001 is already active (branch par/T001, worktree {wt}, started by {who})\n\
             hint: work in it: cd {wt}\nhint: or stop it with `git par abort T001`\n",
            wt = wt.display()
        ),
    );
    // --force overrides readiness only.
    assert_refused(
        &repo,
        &["start", "T001", "--force"],
        1,
        &format!(
            "error: T001 is already active (branch par/T001, worktree {wt}, started by {who})\n\
             hint: work in it: cd {wt}\nhint: or stop it with `git par abort T001`\n",
            wt = wt.display()
        ),
    );
    assert_refused(
        &repo,
        &["start", "T002", "T999"],
        1,
        "error: no task T999 in specs/001-demo/tasks.md\nhint: `git par list` shows the task IDs\n",
    );
}

#[test]
fn not_ready_names_the_unfinished_dependencies_and_force_overrides() {
    let repo = TestRepo::with_tasks(PLAN);
    assert_refused(
        &repo,
        &["start", "T005"],
        1,
        "error: T005 is not ready: it waits for T001, T002, T003, T007\n\
         hint: finish those first (`git par ready` lists the tasks that can start now)\n\
         hint: or start it anyway with `git par start T005 --force`\n",
    );
    let run = repo.par(&["start", "T005", "--force"]).success();
    assert_eq!(run.stdout, format!("{}\n", repo.worktree("T005").display()));
}

#[test]
fn a_lock_conflict_exits_3_naming_holder_owner_and_paths() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001", "--path", "src/app/"]).success();
    let who = owner(&repo, "T001");
    assert_refused(
        &repo,
        &["start", "T007"],
        3,
        &format!(
            "error: T007 needs paths another task holds: src/app/models.py held by T001 ({who})\n\
             hint: wait until T001 lands or is aborted and retry (`git par lock-status` shows every lock)\n\
             hint: if T001's owner is gone, `git par unlock T001 --force` breaks its locks\n"
        ),
    );
    // Starting several is all-or-nothing: T003 is free but T002 is not.
    assert_refused(
        &repo,
        &["start", "T003", "T002"],
        3,
        &format!(
            "error: T002 needs paths another task holds: src/app/views.py (overlaps src/app/) held by T001 ({who})\n\
             hint: wait until T001 lands or is aborted and retry (`git par lock-status` shows every lock)\n\
             hint: if T001's owner is gone, `git par unlock T001 --force` breaks its locks\n"
        ),
    );
    // A disjoint task still starts.
    repo.par(&["start", "T003"]).success();
}

#[test]
fn two_tasks_of_one_start_that_overlap_are_refused() {
    let repo = TestRepo::with_tasks(PLAN);
    assert_refused(
        &repo,
        &["start", "T001", "T007"],
        1,
        "error: T001 and T007 cannot run together: both lock src/app/models.py\n\
         hint: start one of them now and the other after it lands (`git par start T001`)\n",
    );
}

#[test]
fn bad_patterns_are_refused() {
    let repo = TestRepo::with_tasks(PLAN);
    assert_refused(
        &repo,
        &["start", "T001", "--path", "../elsewhere"],
        1,
        "error: cannot lock '../elsewhere': leaves the repository\n\
         hint: give a path inside the repository, relative to its root\n",
    );
    assert_refused(
        &repo,
        &["start", "T001", "--path", "/etc/passwd"],
        1,
        "error: cannot lock '/etc/passwd': absolute path: lock patterns are relative to the repository root\n\
         hint: give a path inside the repository, relative to its root\n",
    );
    let run = repo.par(&["start", "T001", "--path", "src/[*.rs"]).code(1);
    assert!(run.stderr.starts_with("error: cannot lock 'src/[*.rs': "), "{}", run.stderr);
    assert!(run.stderr.ends_with("\nhint: fix the glob syntax\n"), "{}", run.stderr);
    assert_refused(
        &repo,
        &["start", "T001", "--path", "specs/001-demo/./tasks.md"],
        1,
        "error: cannot lock 'specs/001-demo/./tasks.md': it is the task file, which git-par owns\n\
         hint: lock the files the task changes; `git par finish` ticks the task file for you\n",
    );
    assert!(!repo.path(".git/par/state.json").exists());
}

#[test]
fn a_declared_path_naming_the_task_file_is_not_locked() {
    let repo = TestRepo::with_tasks(
        "## Phase 1\n\n- [ ] T001 Tick the boxes in specs/001-demo/tasks.md and src/a.py\n",
    );
    let run = repo.par(&["--json", "start", "T001"]).success();
    assert_eq!(run.json()["tasks"][0]["locks"], serde_json::json!(["src/a.py"]));
    // The parser already refuses it; either way it is a warning naming the file.
    assert!(run.stderr.starts_with("warning: T001: "), "{}", run.stderr);
    assert!(
        run.stderr.contains("specs/001-demo/tasks.md") && run.stderr.contains("not locked"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().filter(|l| l.starts_with("warning: T001: ")).count(), 1, "{}", run.stderr);
}

#[test]
fn a_task_without_paths_starts_with_a_warning() {
    let repo = TestRepo::with_tasks("## Phase 1\n\n- [ ] T001 Think hard\n");
    let run = repo.par(&["start", "T001"]).success();
    assert_eq!(
        run.stderr,
        "warning: T001 names no paths: its commits will lock what they touch (par.enforceScope = acquire); add locks now with `git par lock T001 --add GLOB`\n"
            .to_string()
            + &unhooked("T001's worktree")
            + "started T001 on branch par/T001 (locks nothing)\n"
    );
    // A task that only checks is expected to name none: no warning (as lint).
    let repo = TestRepo::with_tasks("## Phase 1\n\n- [ ] T001 Run the test suite and confirm it passes\n");
    let run = repo.par(&["start", "T001"]).success();
    assert!(!run.stderr.contains("names no paths"), "{}", run.stderr);
    assert!(run.stderr.ends_with("started T001 on branch par/T001 (locks nothing)\n"), "{}", run.stderr);
}

#[test]
fn an_existing_worktree_path_is_never_overwritten() {
    let repo = TestRepo::with_tasks(PLAN);
    let wt = repo.worktree("T001");
    fs::create_dir_all(&wt).unwrap();
    fs::write(wt.join("precious.txt"), "keep me\n").unwrap();
    assert_refused(
        &repo,
        &["start", "T001"],
        1,
        &format!(
            "error: {} already exists; git-par never overwrites a directory\n\
             hint: move or remove it (`git par doctor` tells whether it holds a task's work)\n\
             hint: or put task worktrees elsewhere with `git config par.worktreeDir DIR`\n",
            wt.display()
        ),
    );
    assert_eq!(fs::read_to_string(wt.join("precious.txt")).unwrap(), "keep me\n");
}

#[test]
fn an_existing_branch_is_refused() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.git(&["branch", "par/T001"]);
    assert_refused(
        &repo,
        &["start", "T001"],
        1,
        "error: branch par/T001 already exists\n\
         hint: if it holds work, rename it (`git branch -m par/T001 par/T001-old`); else delete it (`git branch -D par/T001`)\n",
    );
}

#[test]
fn a_repository_without_commits_is_refused() {
    let repo = TestRepo::empty();
    repo.write(TASKS_FILE, PLAN);
    assert_refused(
        &repo,
        &["start", "T001"],
        1,
        "error: the repository has no commits yet, so main has no tip to branch from\n\
         hint: make a first commit, then start tasks\n",
    );
    assert!(!repo.path(".git/par/state.json").exists());
}

#[test]
fn a_detached_main_worktree_needs_par_main_branch() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.git(&["checkout", "-q", "--detach"]);
    assert_refused(
        &repo,
        &["start", "T001"],
        1,
        "error: the main worktree has a detached HEAD, so there is no branch to land tasks on\n\
         hint: check out the branch tasks should land on, or set `git config par.mainBranch BRANCH`\n",
    );
    repo.git(&["config", "par.mainBranch", "main"]);
    repo.par(&["start", "T001"]).success();
    assert_eq!(state(&repo)["main_branch"], "main");
}

#[test]
fn a_bare_repository_is_refused() {
    let repo = TestRepo::with_tasks(PLAN);
    let bare = repo.root.parent().unwrap().join("bare.git");
    repo.git(&["clone", "-q", "--bare", path(&repo.root), path(&bare)]);
    let run = repo.par_in(&bare, &["start", "T001"]).code(1);
    assert_eq!(
        run.stderr,
        format!(
            "error: {}/ is a bare repository; git-par needs a working tree\nhint: run git-par in a clone with a working tree\n",
            bare.display()
        )
    );
    assert!(!bare.join("par").exists());
}

#[test]
fn the_main_branch_is_the_branch_checked_out_when_the_run_begins() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.git(&["checkout", "-q", "-b", "001-demo"]);
    repo.write("notes.txt", "feature work\n");
    repo.commit_all("feature commit");
    let tip = repo.rev("001-demo");
    repo.par(&["start", "T001"]).success();
    assert_eq!(state(&repo)["main_branch"], "001-demo");
    assert_eq!(repo.rev("par/T001"), tip);
    // Switching branches mid-run does not move the run's main branch.
    repo.git(&["checkout", "-q", "main"]);
    repo.par(&["start", "T002"]).success();
    assert_eq!(repo.rev("par/T002"), tip);
    assert_eq!(state(&repo)["main_branch"], "001-demo");
}

#[test]
fn works_from_a_subdirectory_and_from_another_tasks_worktree() {
    let repo = TestRepo::with_tasks(PLAN);
    let sub = repo.path("specs/001-demo");
    let run = repo.par_in(&sub, &["start", "T001"]).success();
    let wt1 = repo.worktree("T001");
    assert_eq!(run.stdout, format!("{}\n", wt1.display()));
    let run = repo.par_in(&wt1.join("specs"), &["start", "T002"]).success();
    let wt2 = repo.worktree("T002");
    assert_eq!(run.stdout, format!("{}\n", wt2.display()));
    assert_eq!(state(&repo)["tasks"]["T002"]["worktree"], path(&wt2));
    assert_eq!(repo.rev("par/T002"), repo.rev("main"));
    assert!(repo.path("logs/parallel/T002.log").is_file(), "logs go to the main worktree");
    assert!(!wt1.join("logs").exists());
}

#[test]
fn worktree_dir_and_branch_prefix_are_configurable() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.git(&["config", "par.worktreeDir", "../trees"]);
    repo.git(&["config", "par.branchPrefix", "task/"]);
    let run = repo.par(&["start", "T001"]).success();
    let wt = repo.root.join("../trees/T001");
    assert_eq!(run.stdout, format!("{}\n", wt.display()));
    assert!(wt.join(TASKS_FILE).is_file());
    assert_eq!(repo.rev("task/T001"), repo.rev("main"));
}

#[test]
fn a_worktree_dir_inside_the_repository_is_excluded() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.git(&["config", "par.worktreeDir", ".par-trees"]);
    let run = repo.par(&["start", "T001"]).success();
    assert_eq!(run.stdout, format!("{}\n", repo.path(".par-trees/T001").display()));
    assert_eq!(repo.git(&["status", "--porcelain", "--untracked-files=all"]), "");
    assert!(repo.read(".git/info/exclude").ends_with("# git-par task worktrees\n/.par-trees/\n"));
}

#[test]
fn a_failed_worktree_creation_rolls_everything_back() {
    let repo = TestRepo::with_tasks(PLAN);
    // git runs post-checkout in the new worktree; failing it fails `git worktree add`.
    repo.write(
        ".git/hooks/post-checkout",
        "#!/bin/sh\ncase \"$PWD\" in *T002) echo 'hook says no' >&2; exit 1;; esac\n",
    );
    let hook = repo.path(".git/hooks/post-checkout");
    fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let before_branches = repo.git(&["branch", "--list"]);
    let before_worktrees = repo.git(&["worktree", "list", "--porcelain"]);
    let run = repo.par(&["start", "T001", "T002"]).code(1);
    let wt2 = repo.worktree("T002");
    let main = repo.rev("main");
    assert_eq!(
        run.stderr,
        format!(
            "error: could not start T001 T002; nothing was started\n  \
             caused by: creating worktree {wt} on branch par/T002\n  \
             caused by: git worktree add --quiet -b par/T002 {wt} {main} failed: hook says no\n",
            wt = wt2.display()
        )
    );
    assert_eq!(run.stdout, "");
    assert_eq!(repo.git(&["branch", "--list"]), before_branches);
    assert_eq!(repo.git(&["worktree", "list", "--porcelain"]), before_worktrees);
    assert!(!repo.root.parent().unwrap().join("repo.par").exists(), "nothing left behind");
    let state = state(&repo);
    assert_eq!(state["tasks"], serde_json::json!({}));
    assert_eq!(state["main_branch"], Value::Null);
    assert!(events(&repo).is_empty());
    // Once the cause is gone, the same start works.
    fs::remove_file(&hook).unwrap();
    repo.par(&["start", "T001", "T002"]).success();
}

#[test]
fn a_failure_in_the_middle_of_a_start_rolls_back_the_tasks_after_it_too() {
    let repo = TestRepo::with_tasks(
        "## Phase 1\n\n- [ ] T001 [P] a in a.py\n- [ ] T002 [P] b in b.py\n- [ ] T003 [P] c in c.py\n",
    );
    repo.write(
        ".git/hooks/post-checkout",
        "#!/bin/sh\ncase \"$PWD\" in *T002*) echo 'post-checkout fails' >&2; exit 1;; esac\n",
    );
    let hook = repo.path(".git/hooks/post-checkout");
    fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let state_path = repo.path(".git/par/state.json");
    let check = |before_state: Option<String>| {
        let before_branches = repo.git(&["branch", "--list"]);
        let before_worktrees = repo.git(&["worktree", "list", "--porcelain"]);
        let par_dir = repo.root.parent().unwrap().join("repo.par");
        let listing = || fs::read_dir(&par_dir).map(|d| d.count()).ok();
        let before_listing = listing();
        let run = repo.par(&["start", "T001", "T002", "T003"]).code(1);
        assert!(run.stderr.starts_with("error: could not start T001 T002 T003; nothing was started\n"));
        assert_eq!(repo.git(&["branch", "--list"]), before_branches);
        assert_eq!(repo.git(&["worktree", "list", "--porcelain"]), before_worktrees);
        assert_eq!(listing(), before_listing, "nothing left behind in {}", par_dir.display());
        let after_state = fs::read_to_string(&state_path).ok();
        match before_state {
            Some(bytes) => assert_eq!(after_state, Some(bytes)),
            None => {
                let state = serde_json::from_str::<Value>(&after_state.unwrap_or("{}".into())).unwrap();
                assert_eq!(state["tasks"].as_object().map_or(0, |t| t.len()), 0, "{state}");
                assert_eq!(state["main_branch"], Value::Null);
                assert_eq!(state["tasks_file"], Value::Null);
            }
        }
        let status = repo.par(&["--json", "lock-status"]).success();
        assert_eq!(status.json()["tasks"], serde_json::json!([]), "{}", status.stdout);
    };
    // On a fresh repository, and again once a run has recorded its main branch.
    check(None);
    assert!(!repo.root.parent().unwrap().join("repo.par").exists());
    repo.par(&["start", "T001"]).success();
    repo.par(&["abort", "T001"]).success();
    check(Some(fs::read_to_string(&state_path).unwrap()));
}

#[test]
fn extra_paths_are_read_like_tasks_md_paths() {
    let repo = TestRepo::with_tasks(PLAN);
    assert_refused(
        &repo,
        &["start", "T001", "--path", ".git/info/exclude"],
        1,
        "error: cannot lock '.git/info/exclude': inside .git: git's own files are never committed, so there is nothing to lock\n\
         hint: give a path inside the repository, relative to its root\n",
    );
    let docs = format!("{}/docs/", repo.root.display());
    let run = repo
        .par(&["--json", "start", "T001", "--path", &docs, "--path", "src/app/{forms,admin}.py"])
        .success();
    assert_eq!(
        run.json()["tasks"][0]["locks"],
        serde_json::json!(["src/app/models.py", "docs/", "src/app/forms.py", "src/app/admin.py"])
    );
}

#[test]
fn the_state_file_is_one_line_and_a_pretty_one_is_still_read() {
    let repo = TestRepo::with_tasks(PLAN);
    repo.par(&["start", "T001"]).success();
    let text = repo.read(".git/par/state.json");
    assert_eq!(text.matches('\n').count(), 1, "one line, ending with a newline:\n{text}");
    assert!(text.ends_with("}\n"), "{text}");
    // A state file written pretty (by an older git-par) is read as it was.
    let pretty = serde_json::to_string_pretty(&state(&repo)).unwrap() + "\n";
    fs::write(repo.path(".git/par/state.json"), &pretty).unwrap();
    let status = repo.par(&["--json", "lock-status"]).success().json();
    assert_eq!(status["tasks"][0]["id"], "T001", "{status}");
    repo.par(&["start", "T002"]).success();
    let text = repo.read(".git/par/state.json");
    assert_eq!(text.matches('\n').count(), 1, "rewritten as one line:\n{text}");
    assert_eq!(state(&repo)["tasks"].as_object().unwrap().keys().collect::<Vec<_>>(), ["T001", "T002"]);
}
