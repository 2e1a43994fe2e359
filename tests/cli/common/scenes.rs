//! Repositories with the pre-commit hook and tasks locked by hand, and the
//! plain git steps the hook tests take in them.

use std::path::{Path, PathBuf};

use super::plans::{CHECK_PLAN, TASKS_FILE};
use super::{Run, TestRepo};

/// A repository with a few files (spaces and non-ASCII names among them), no hook, no task.
pub fn files() -> TestRepo {
    TestRepo::with_files(&[
        (TASKS_FILE, CHECK_PLAN),
        ("README.md", "demo\n"),
        ("src/a.py", "a\n"),
        ("src/b.py", "b\n"),
        ("docs/b.md", "b\n"),
        ("docs/guide.md", "guide\n"),
        ("src/my file.py", "spaces\n"),
        ("docs/café ü.md", "unicode\n"),
    ])
}

/// `files()` with the hook installed.
pub fn hooked() -> TestRepo {
    let repo = files();
    repo.par(&["hook", "install"]).success();
    repo
}

/// Starts task `id` with `git par start`, locking `locks`; returns its worktree.
pub fn start_locking(repo: &TestRepo, id: &str, locks: &[&str]) -> PathBuf {
    let mut args = vec!["start", id];
    for lock in locks {
        args.extend(["--path", lock]);
    }
    let run = repo.par(&args).success();
    let worktree = PathBuf::from(run.stdout.trim_end());
    assert_eq!(worktree, repo.worktree(id));
    worktree
}

/// The two usual tasks: T001 holds `src/a.py` and `src/*.rs`, T002 holds `docs/`.
pub fn two_tasks(repo: &TestRepo) -> (PathBuf, PathBuf) {
    (start_locking(repo, "T001", &["src/a.py", "src/*.rs"]), start_locking(repo, "T002", &["docs/"]))
}

/// Writes `content` to `rel` in `dir` (creating directories).
pub fn write(dir: &Path, rel: &str, content: &str) {
    super::write_at(&dir.join(rel), content);
}

/// `git commit -m MSG` in `dir`, with whatever is staged, through the hooks.
pub fn commit(repo: &TestRepo, dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["commit", "-q", "-m", "change"];
    all.extend_from_slice(args);
    repo.try_git_in(dir, &all)
}

/// `git add -- PATHS` in `dir`.
pub fn add(repo: &TestRepo, dir: &Path, paths: &[&str]) {
    let mut args = vec!["add", "--"];
    args.extend_from_slice(paths);
    repo.git_in(dir, &args);
}
