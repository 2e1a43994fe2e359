//! `hook install | uninstall | status`, and the installed hook run by real commits.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::scenes::{add, commit, files, two_tasks, write};
use crate::common::{bin, isolated, Run, TestRepo};

fn hooks(repo: &TestRepo) -> PathBuf {
    repo.root.join(".git/hooks")
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every file of `dir`: name, mode and bytes (symlinks: their target).
fn listing(dir: &Path) -> Vec<(String, u32, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let bytes = if meta.file_type().is_symlink() {
                fs::read_link(&path).unwrap().into_os_string().into_encoded_bytes()
            } else {
                fs::read(&path).unwrap()
            };
            (path.file_name().unwrap().to_string_lossy().into_owned(), mode(&path), bytes)
        })
        .collect();
    out.sort();
    out
}

fn write_hook(path: &Path, text: &str, mode: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn install_status_uninstall() {
    let repo = files();
    let run = repo.par(&["--json", "hook", "status"]).code(1);
    assert_eq!(
        run.stderr,
        "error: git-par's pre-commit hook is not installed for this worktree
hint: install it with `git par hook install`
"
    );
    let status = run.json_hostless();
    let hook = hooks(&repo).join("pre-commit");
    assert_eq!(
        status,
        json!({
            "version": 1, "action": "status", "hook": "absent", "installed": false,
            "path": hook, "hooks_dir": hooks(&repo), "chained": null, "core_hooks_path": null,
            "worktrees": "all", "git_par": bin()
        })
    );
    let run = repo.par(&["hook", "install"]).success();
    assert_eq!(repo.normalize(&run.snapshot()), "exit: 0\n--- stdout\n--- stderr\ninstalled the git-par pre-commit hook in [TMP]/repo/.git/hooks/pre-commit\n");
    assert_eq!(mode(&hook), 0o755);
    let run = repo.par(&["hook", "status"]).success();
    assert_eq!(
        repo.normalize(&run.stdout),
        "installed: [TMP]/repo/.git/hooks/pre-commit
serves: every worktree (the common hooks directory)
git-par: [BIN]
"
    );
    let status = repo.par(&["--json", "hook", "status"]).success().json_hostless();
    assert_eq!((&status["hook"], &status["installed"]), (&json!("installed"), &json!(true)));
    let run = repo.par(&["--json", "hook", "uninstall"]).success();
    assert_eq!(run.json_hostless()["action"], "removed");
    assert_eq!(run.json_hostless()["hook"], "absent");
    assert!(!hook.exists());
    let run = repo.par(&["hook", "uninstall"]).success();
    assert_eq!(
        repo.normalize(&run.stderr),
        "the git-par pre-commit hook is not installed in [TMP]/repo/.git/hooks; nothing to do\n"
    );
}

#[test]
fn install_twice_is_install_once() {
    let repo = files();
    write_hook(&hooks(&repo).join("pre-commit"), "#!/bin/sh\nexit 0\n", 0o755);
    repo.par(&["hook", "install"]).success();
    let once = listing(&hooks(&repo));
    let run = repo.par(&["--json", "hook", "install"]).success();
    assert_eq!(run.json_hostless()["action"], "unchanged");
    assert_eq!(listing(&hooks(&repo)), once);
    let run = repo.par(&["hook", "install"]).success();
    assert_eq!(
        repo.normalize(&run.stderr),
        "the git-par pre-commit hook is already installed in [TMP]/repo/.git/hooks/pre-commit\n"
    );
    assert_eq!(listing(&hooks(&repo)), once);
    // One uninstall undoes it.
    repo.par(&["hook", "uninstall"]).success();
    assert_eq!(fs::read_to_string(hooks(&repo).join("pre-commit")).unwrap(), "#!/bin/sh\nexit 0\n");
    assert!(!hooks(&repo).join("pre-commit.par-orig").exists());
}

/// The wrapper of the first git-par release, byte for byte.
const WRAPPER_0_1: &str = r#"#!/bin/sh
# git-par-hook: pre-commit v1
# Installed by `git par hook install`: refuses commits that touch paths
# locked by another git-par task, or paths outside this task's locks.
# `git par hook uninstall` removes it and puts back the hook it replaced,
# which is kept next to it as pre-commit.par-orig and runs first.

orig="$(dirname -- "$0")/pre-commit.par-orig"
if [ -f "$orig" ] && [ -x "$orig" ]; then
    "$orig" "$@" || exit $?
fi

if command -v git-par >/dev/null 2>&1; then
    exec git-par check --staged
fi
echo "warning: git-par is not on PATH, so this commit was not checked against its locks" >&2
echo "hint: install git-par, or remove this hook with \`git par hook uninstall\`" >&2
exit 0
"#;

#[test]
fn an_outdated_wrapper_is_replaced() {
    let repo = files();
    let hook = hooks(&repo).join("pre-commit");
    write_hook(&hook, WRAPPER_0_1, 0o755);
    assert_eq!(repo.par(&["--json", "hook", "status"]).success().json_hostless()["hook"], "outdated");
    assert_eq!(repo.par(&["--json", "hook", "install"]).success().json_hostless()["action"], "updated");
    assert!(!hooks(&repo).join("pre-commit.par-orig").exists(), "an old wrapper is not someone's hook");
    assert_eq!(repo.par(&["--json", "hook", "status"]).success().json_hostless()["hook"], "installed");
    // An old wrapper is removed by uninstall as the current one is.
    write_hook(&hook, WRAPPER_0_1, 0o755);
    assert_eq!(repo.par(&["--json", "hook", "uninstall"]).success().json_hostless()["action"], "removed");
    assert!(!hook.exists());
}

#[test]
fn an_edited_wrapper_is_neither_removed_nor_rewritten() {
    let repo = files();
    let hook = hooks(&repo).join("pre-commit");
    write_hook(&hook, "#!/bin/sh\necho theirs\n", 0o755);
    repo.par(&["hook", "install"]).success();
    let mut edited = fs::read(&hook).unwrap();
    edited.extend_from_slice(b"echo user-added-line\n");
    fs::write(&hook, &edited).unwrap();
    let before = listing(&hooks(&repo));

    let status = repo.par(&["--json", "hook", "status"]).success().json_hostless();
    assert_eq!((&status["hook"], &status["installed"]), (&json!("modified"), &json!(true)));
    let run = repo.par(&["hook", "status"]).success();
    assert_eq!(
        repo.normalize(&run.stdout),
        "installed (modified after git-par wrote it; install and uninstall leave it alone): [TMP]/repo/.git/hooks/pre-commit
runs first: [TMP]/repo/.git/hooks/pre-commit.par-orig
serves: every worktree (the common hooks directory)
git-par: [BIN]
"
    );
    let run = repo.par(&["hook", "uninstall"]).code(1);
    assert_eq!(
        repo.normalize(&run.stderr),
        "error: [TMP]/repo/.git/hooks/pre-commit is git-par's hook with changes made after it was installed; removing it would lose them
hint: to keep your changes, move the file aside first: mv [TMP]/repo/.git/hooks/pre-commit [TMP]/repo/.git/hooks/pre-commit.par-modified, then run `git par hook uninstall` again
"
    );
    assert_eq!(listing(&hooks(&repo)), before);
    let run = repo.par(&["hook", "install"]).code(1);
    assert!(
        repo.normalize(&run.stderr).starts_with(
            "error: [TMP]/repo/.git/hooks/pre-commit is git-par's hook with changes made after it was installed; reinstalling it would lose them\n"
        ),
        "{}",
        run.stderr_hostless()
    );
    assert_eq!(listing(&hooks(&repo)), before);

    // The way out the hint gives keeps the edit and restores the original.
    fs::rename(&hook, hooks(&repo).join("pre-commit.par-modified")).unwrap();
    repo.par(&["hook", "uninstall"]).success();
    assert_eq!(fs::read_to_string(&hook).unwrap(), "#!/bin/sh\necho theirs\n");
    assert_eq!(fs::read(hooks(&repo).join("pre-commit.par-modified")).unwrap(), edited);
}

#[test]
fn an_existing_hook_runs_first_and_its_failure_still_blocks() {
    let repo = files();
    let log = repo.root.parent().unwrap().join("original.log");
    let block = repo.root.parent().unwrap().join("BLOCK");
    write_hook(
        &hooks(&repo).join("pre-commit"),
        &format!(
            "#!/bin/sh\necho \"original ran in $(pwd)\" >> '{}'\nif [ -e '{}' ]; then echo 'original says no' >&2; exit 3; fi\n",
            log.display(),
            block.display()
        ),
        0o755,
    );
    let run = repo.par(&["hook", "install"]).success();
    assert_eq!(
        repo.normalize(&run.stderr),
        "installed the git-par pre-commit hook in [TMP]/repo/.git/hooks/pre-commit; \
         the hook it replaced is kept as [TMP]/repo/.git/hooks/pre-commit.par-orig and runs first\n"
    );
    let status = repo.par(&["--json", "hook", "status"]).success().json_hostless();
    assert_eq!(status["chained"], json!(hooks(&repo).join("pre-commit.par-orig")));
    let (t1, _) = two_tasks(&repo);

    // The original refuses: the commit is refused, whatever git-par thinks.
    fs::write(&block, "").unwrap();
    write(&t1, "src/a.py", "mine\n");
    add(&repo, &t1, &["src/a.py"]);
    let run = commit(&repo, &t1, &[]);
    assert_ne!(run.code, 0);
    assert_eq!(run.stderr_hostless(), "original says no\n");
    // The original agrees: the commit passes.
    fs::remove_file(&block).unwrap();
    commit(&repo, &t1, &[]).success();
    // The original agrees but git-par refuses.
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["README.md"]);
    let run = commit(&repo, &t1, &[]).code(1);
    assert!(
        run.stderr_hostless()
            .starts_with("error: commit refused: 1 staged path is outside the locks of T001\n"),
        "{}",
        run.stderr_hostless()
    );
    let t1 = t1.display();
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        format!("original ran in {t1}\noriginal ran in {t1}\noriginal ran in {t1}\n")
    );
}

#[test]
fn the_original_hook_gets_the_same_arguments_and_stdin() {
    let repo = files();
    let log = repo.root.parent().unwrap().join("args.log");
    write_hook(
        &hooks(&repo).join("pre-commit"),
        &format!(
            "#!/bin/sh\nfor a in \"$@\"; do echo \"arg: $a\" >> '{0}'; done\ncat >> '{0}'\n",
            log.display()
        ),
        0o755,
    );
    repo.par(&["hook", "install"]).success();
    let input = repo.root.parent().unwrap().join("input");
    fs::write(&input, "from stdin\n").unwrap();
    let out = isolated("sh", &repo.home)
        .current_dir(&repo.root)
        .args(["-c", r#"exec .git/hooks/pre-commit one "two words" < "$1""#, "sh"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fs::read_to_string(&log).unwrap(), "arg: one\narg: two words\nfrom stdin\n");
}

#[test]
fn uninstall_restores_the_original_byte_for_byte() {
    let repo = files();
    let hook = hooks(&repo).join("pre-commit");
    let original: &[u8] = b"#!/bin/sh\r\n# odd bytes: \xff\xfe\tand no final newline\nexit 0";
    fs::write(&hook, original).unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o750)).unwrap();
    let before = listing(&hooks(&repo));
    repo.par(&["hook", "install"]).success();
    assert_eq!(fs::read(hooks(&repo).join("pre-commit.par-orig")).unwrap(), original);
    let run = repo.par(&["hook", "uninstall"]).success();
    assert_eq!(
        repo.normalize(&run.stderr),
        "removed the git-par pre-commit hook; restored the original [TMP]/repo/.git/hooks/pre-commit\n"
    );
    assert_eq!(fs::read(&hook).unwrap(), original);
    assert_eq!(mode(&hook), 0o750);
    assert_eq!(listing(&hooks(&repo)), before);
}

#[test]
fn a_symlinked_hook_is_restored_as_the_same_symlink() {
    let repo = files();
    write_hook(&repo.root.join("scripts/hook.sh"), "#!/bin/sh\nexit 0\n", 0o755);
    let hook = hooks(&repo).join("pre-commit");
    std::os::unix::fs::symlink("../../scripts/hook.sh", &hook).unwrap();
    let before = listing(&hooks(&repo));
    repo.par(&["hook", "install"]).success();
    let (t1, _) = two_tasks(&repo);
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["README.md"]);
    commit(&repo, &t1, &[]).code(1);
    repo.par(&["hook", "uninstall"]).success();
    assert_eq!(fs::read_link(&hook).unwrap(), Path::new("../../scripts/hook.sh"));
    assert_eq!(listing(&hooks(&repo)), before);
}

#[test]
fn a_foreign_hook_is_never_overwritten() {
    let repo = files();
    let hook = hooks(&repo).join("pre-commit");
    write_hook(&hook, "#!/bin/sh\necho mine\n", 0o755);
    write_hook(&hooks(&repo).join("pre-commit.par-orig"), "#!/bin/sh\necho older\n", 0o755);
    let before = listing(&hooks(&repo));
    let run = repo.par(&["hook", "install"]).code(1);
    assert_eq!(
        repo.normalize(&run.stderr),
        "error: [TMP]/repo/.git/hooks/pre-commit is not git-par's hook, and [TMP]/repo/.git/hooks/pre-commit.par-orig is already taken
hint: move one of them aside, then run `git par hook install` again ([TMP]/repo/.git/hooks/pre-commit)
"
    );
    let run = repo.par(&["--json", "hook", "uninstall"]).success();
    assert_eq!(run.json_hostless()["action"], "not_installed");
    assert_eq!(run.json_hostless()["hook"], "other");
    assert_eq!(listing(&hooks(&repo)), before);
}

#[test]
fn core_hooks_path_absolute() {
    let repo = files();
    let shared = repo.root.parent().unwrap().join("shared hooks");
    repo.git(&["config", "core.hooksPath", shared.to_str().unwrap()]);
    repo.par(&["hook", "install"]).success();
    assert!(shared.join("pre-commit").is_file());
    assert!(!hooks(&repo).join("pre-commit").exists());
    let (t1, _) = two_tasks(&repo);
    let status = repo.par_in(&t1, &["--json", "hook", "status"]).success().json_hostless();
    assert_eq!((&status["hooks_dir"], &status["worktrees"]), (&json!(shared), &json!("all")));
    assert_eq!(status["hook"], "installed");
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["README.md"]);
    commit(&repo, &t1, &[]).code(1);
    write(&repo.root, "src/a.py", "T001's\n");
    add(&repo, &repo.root, &["src/a.py"]);
    commit(&repo, &repo.root, &[]).code(1);
}

#[test]
fn core_hooks_path_under_home() {
    let repo = files();
    repo.git(&["config", "core.hooksPath", "~/my-hooks"]);
    repo.par(&["hook", "install"]).success();
    assert!(repo.home.join("my-hooks/pre-commit").is_file());
    two_tasks(&repo);
    write(&repo.root, "src/a.py", "T001's\n");
    add(&repo, &repo.root, &["src/a.py"]);
    commit(&repo, &repo.root, &[]).code(1);
}

#[test]
fn core_hooks_path_relative_is_per_worktree() {
    let repo = files();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    let run = repo.par(&["hook", "install"]).success();
    assert_eq!(
        repo.normalize(&run.stderr),
        "installed the git-par pre-commit hook in [TMP]/repo/.githooks/pre-commit
added /.githooks/pre-commit to .git/info/exclude, so that git does not offer to commit it
warning: core.hooksPath (.githooks) is relative, so git resolves it in each worktree; this covers this worktree only
hint: task worktrees that `git par start` creates get it too; run `git par hook install` in any other worktree that should be checked
"
    );
    assert!(repo.root.join(".githooks/pre-commit").is_file());
    assert_eq!(repo.git(&["status", "--porcelain"]), "", "the hook is not offered for commit");
    repo.par(&["hook", "status"]).success();
    let (t1, _) = two_tasks(&repo);
    // Main is covered.
    write(&repo.root, "src/a.py", "T001's\n");
    add(&repo, &repo.root, &["src/a.py"]);
    commit(&repo, &repo.root, &[]).code(1);
    // T001's worktree resolves .githooks in itself: `start` put the hook there.
    repo.par_in(&t1, &["hook", "status"]).success();
    // Without it, status says so.
    fs::remove_file(t1.join(".githooks/pre-commit")).unwrap();
    let run = repo.par_in(&t1, &["--json", "hook", "status"]).code(1);
    assert_eq!(
        run.stderr,
        "warning: 2 tasks are active (T001, T002) and their commits are not checked against the locks (finish still checks what lands)\n\
         error: git-par's pre-commit hook is not installed for this worktree
hint: core.hooksPath (.githooks) is relative, so each worktree has its own hooks directory
hint: install it with `git par hook install`
"
    );
    let status = run.json_hostless();
    assert_eq!(
        (&status["hook"], &status["hooks_dir"], &status["worktrees"]),
        (&json!("absent"), &json!(t1.join(".githooks")), &json!("this"))
    );
    let run = repo.par_in(&t1, &["hook", "status"]).code(1);
    assert!(run.stdout.starts_with("not installed: no hook at "), "{}", run.stdout);
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["README.md"]);
    commit(&repo, &t1, &[]).success();
    repo.par_in(&t1, &["hook", "install"]).success();
    repo.par_in(&t1, &["hook", "status"]).success();
    // Ignored there too (one line in the shared exclude file serves every worktree),
    // so `finish` and `abort` see a clean worktree.
    assert_eq!(repo.git_in(&t1, &["status", "--porcelain"]), "");
    write(&t1, "README.md", "still not mine\n");
    add(&repo, &t1, &["README.md"]);
    assert!(t1.join(".githooks/pre-commit").is_file());
    let run = commit(&repo, &t1, &[]).code(1);
    assert!(
        run.stderr_hostless().contains("  README.md: outside the locks of T001\n"),
        "{}",
        run.stderr_hostless()
    );
}

/// What `start` calls after creating a task's worktree (the domain function
/// itself, so that this holds whichever command creates worktrees).
fn install_for_new_worktree(repo: &TestRepo, worktree: &Path) -> Option<PathBuf> {
    let main = git_par::repo::Repo::discover(&repo.root).unwrap();
    git_par::hook::install_for_new_worktree(&main, worktree).unwrap()
}

#[test]
fn a_new_worktree_gets_the_hook_through_a_relative_hooks_path() {
    let repo = files();
    repo.git(&["config", "core.hooksPath", ".husky/_"]);
    // husky keeps its generated directory out of git with a .gitignore inside it.
    write_hook(&repo.root.join(".husky/_/.gitignore"), "*\n", 0o644);
    repo.par(&["hook", "install"]).success();
    // `start` gives each new worktree the hook.
    let (t1, _) = two_tasks(&repo);
    let hook = t1.join(".husky/_/pre-commit");
    assert_eq!(fs::read(&hook).unwrap(), fs::read(repo.root.join(".husky/_/pre-commit")).unwrap());
    assert_eq!(mode(&hook), 0o755);
    repo.par_in(&t1, &["hook", "status"]).success();
    assert_eq!(repo.git_in(&t1, &["status", "--porcelain"]), "");
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["README.md"]);
    let run = commit(&repo, &t1, &[]).code(1);
    assert!(
        run.stderr_hostless().contains("  README.md: outside the locks of T001\n"),
        "{}",
        run.stderr_hostless()
    );
    // Twice is once.
    assert_eq!(install_for_new_worktree(&repo, &t1), Some(hook.clone()));
    assert_eq!(repo.git_in(&t1, &["status", "--porcelain"]), "M  README.md\n");
}

#[test]
fn a_new_worktree_gets_no_hook_when_none_is_needed() {
    let repo = files();
    let (t1, _) = two_tasks(&repo);
    // Hooks shared by every worktree.
    repo.par(&["hook", "install"]).success();
    assert_eq!(install_for_new_worktree(&repo, &t1), None);
    // A relative core.hooksPath, but git-par's hook is not installed in the main worktree.
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    assert_eq!(install_for_new_worktree(&repo, &t1), None);
    assert!(!t1.join(".githooks").exists());
    // The hook file is tracked in the worktree: it is the repository's to change, not git-par's.
    repo.par(&["hook", "install"]).success();
    write_hook(&t1.join(".githooks/pre-commit"), "#!/bin/sh\nexit 0\n", 0o755);
    repo.git_in(&t1, &["add", "-f", ".githooks/pre-commit"]);
    assert_eq!(install_for_new_worktree(&repo, &t1), None);
    assert_eq!(fs::read_to_string(t1.join(".githooks/pre-commit")).unwrap(), "#!/bin/sh\nexit 0\n");
}

#[test]
fn a_tracked_hook_is_not_edited() {
    let repo = files();
    write_hook(&repo.root.join(".githooks/pre-commit"), "#!/bin/sh\nexit 0\n", 0o755);
    repo.commit_all("tracked hook");
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    let run = repo.par(&["hook", "install"]).code(1);
    assert_eq!(
        run.stderr_hostless(),
        "error: .githooks/pre-commit is tracked by the repository, so installing a hook there would change committed files
hint: add the line `git par check --staged || exit 1` to .githooks/pre-commit and commit it, or use the pre-commit framework with git-par's .pre-commit-hooks.yaml
"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

/// PATH without the directory of the git-par under test (nor any other git-par).
fn path_without_git_par() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> =
        std::env::split_paths(&path).filter(|dir| !dir.join("git-par").exists()).collect();
    std::env::join_paths(dirs).unwrap().into_string().unwrap()
}

#[test]
fn without_git_par_on_path_the_hook_warns_and_lets_the_commit_through() {
    let repo = files();
    repo.par(&["hook", "install"]).success();
    let (t1, _) = two_tasks(&repo);
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["README.md"]);
    let out = isolated("git", &repo.home)
        .env("PATH", path_without_git_par())
        .current_dir(&t1)
        .args(["commit", "-q", "-m", "unchecked"])
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(
        run.snapshot(),
        "exit: 0
--- stdout
--- stderr
warning: git-par is not on PATH, so this commit was not checked against its locks
hint: install git-par, or remove this hook with `git par hook uninstall`
"
    );
    assert_eq!(repo.git_in(&t1, &["log", "-1", "--format=%s"]), "unchecked\n");
}

#[test]
fn status_says_when_git_par_is_not_on_path() {
    let repo = files();
    let out = isolated(bin(), &repo.home)
        .env("PATH", path_without_git_par())
        .current_dir(&repo.root)
        .args(["hook", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        repo.normalize(&String::from_utf8_lossy(&out.stdout)),
        "not installed: no hook at [TMP]/repo/.git/hooks/pre-commit
serves: every worktree (the common hooks directory)
git-par: not on PATH (the hook lets commits through with a warning)
"
    );
}

#[test]
fn the_pre_commit_framework_manifest_runs_the_check() {
    let manifest =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml")).unwrap();
    let lines: Vec<&str> = manifest.lines().filter(|l| !l.starts_with('#')).collect();
    for expected in [
        "- id: git-par-check",
        "  language: system",
        "  pass_filenames: false",
        "  always_run: true",
        "  stages: [pre-commit]",
    ] {
        assert!(lines.contains(&expected), "{expected} missing from:\n{manifest}");
    }
    let entry = lines.iter().find_map(|l| l.strip_prefix("  entry: ")).unwrap();
    assert_eq!(entry, "git-par check --staged");
    // Run the entry as the framework does (no file names) where it must refuse, then pass.
    let repo = files();
    let (t1, _) = two_tasks(&repo);
    write(&t1, "README.md", "not mine\n");
    add(&repo, &t1, &["README.md"]);
    let run = |dir: &Path| isolated("sh", &repo.home).current_dir(dir).args(["-c", entry]).output().unwrap();
    let refused = run(&t1);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("  README.md: outside the locks of T001\n"));
    assert_eq!(run(&repo.root).status.code(), Some(0));
}
