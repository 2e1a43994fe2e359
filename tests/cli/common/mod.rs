//! Test helpers: a temporary repository with a host-isolated git
//! environment, and the real `git-par` binary run inside it.

#![allow(dead_code)]

pub mod normalize;
pub mod plans;
pub mod scenes;
pub mod state;

pub use normalize::hostless;
pub use plans::{CHECK_PLAN, LIST_PLAN, PLAN, TASKS_FILE};
pub use state::{assert_refused, disk, events, owner, record, state};

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The built binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_git-par"))
}

/// The fixtures directory of the project.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A command with the isolated environment: no user or system config, fixed
/// identity and dates, no colors, `git-par` first on PATH.
pub fn isolated(program: impl AsRef<OsStr>, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    let bin_dir = bin().parent().map(Path::to_path_buf).unwrap_or_default();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin_dir];
    paths.extend(std::env::split_paths(&path));
    cmd.env_clear()
        .env("PATH", std::env::join_paths(paths).expect("PATH"))
        .env("HOME", home)
        .env("USER", "tester")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("LANG", "C")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .stdin(Stdio::null());
    cmd
}

/// What a command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns self.
    #[track_caller]
    pub fn success(self) -> Run {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// Asserts the exit code and returns self.
    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Parses stdout as JSON and checks `"version": 1`.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let value: serde_json::Value = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr)
        });
        assert_eq!(value["version"], 1, "JSON without version 1: {value}");
        value
    }

    /// Exit code, stdout and stderr in one string, for whole-output assertions.
    pub fn snapshot(&self) -> String {
        format!("exit: {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// A temporary directory holding a repository (`repo/`) and a home (`home/`).
pub struct TestRepo {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
}

impl TestRepo {
    /// An empty repository on branch `main`, with no commits.
    pub fn empty() -> TestRepo {
        let tmp = tempfile::Builder::new().prefix("git-par-test").tempdir().expect("tempdir");
        let base = fs::canonicalize(tmp.path()).expect("canonicalize");
        let root = base.join("repo");
        let home = base.join("home");
        fs::create_dir_all(&root).expect("mkdir repo");
        fs::create_dir_all(&home).expect("mkdir home");
        let repo = TestRepo { tmp, root, home };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A repository whose first commit holds `files` (path, content).
    pub fn with_files(files: &[(&str, &str)]) -> TestRepo {
        let repo = TestRepo::empty();
        for (path, content) in files {
            repo.write(path, content);
        }
        repo.commit_all("initial");
        repo
    }

    /// A repository whose first commit holds `tasks.md` at `specs/001-demo/tasks.md`.
    pub fn with_tasks(tasks: &str) -> TestRepo {
        TestRepo::with_files(&[("specs/001-demo/tasks.md", tasks), ("README.md", "demo\n")])
    }

    /// Path inside the repository.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes a file (creating directories).
    pub fn write(&self, rel: &str, content: &str) {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, content).expect("write");
    }

    /// Reads a file of the repository.
    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    /// Runs git in the repository; panics on failure. Returns stdout.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.root, args)
    }

    /// Runs git in `dir`; panics on failure. Returns stdout.
    #[track_caller]
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let run = Run::from(isolated("git", &self.home).current_dir(dir).args(args).output().expect("git"));
        assert_eq!(run.code, 0, "git {args:?} failed:\n{}", run.stderr);
        run.stdout
    }

    /// Runs git in `dir` and returns what happened, without asserting.
    pub fn try_git_in(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from(isolated("git", &self.home).current_dir(dir).args(args).output().expect("git"))
    }

    /// `git add -A && git commit`.
    pub fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
    }

    /// Runs `git-par ARGS` in the repository root.
    pub fn par(&self, args: &[&str]) -> Run {
        self.par_in(&self.root, args)
    }

    /// Runs `git-par ARGS` in `dir`.
    pub fn par_in(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from(self.par_command(dir, args).output().expect("git-par"))
    }

    /// The `git-par ARGS` command in `dir`, not yet run (to add env or spawn).
    pub fn par_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = isolated(bin(), &self.home);
        cmd.current_dir(dir).args(args);
        cmd
    }

    /// The default worktree of a task: `<parent>/<repo>.par/<ID>`.
    pub fn worktree(&self, id: &str) -> PathBuf {
        self.root.parent().expect("parent").join("repo.par").join(id)
    }

    /// The commit a ref points at.
    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev]).trim().to_string()
    }

    /// Starts task `id`, writes `content` to `rel` in its worktree and commits
    /// it there with `message` (through whatever hooks are installed); returns
    /// the worktree.
    #[track_caller]
    pub fn task_with_commit(&self, id: &str, rel: &str, content: &str, message: &str) -> PathBuf {
        let run = self.par(&["start", id]).success();
        let worktree = self.worktree(id);
        assert_eq!(run.stdout.trim_end(), worktree.to_string_lossy(), "start {id} printed its worktree");
        write_at(&worktree.join(rel), content);
        self.git_in(&worktree, &["add", "-A"]);
        self.git_in(&worktree, &["commit", "-q", "-m", message]);
        worktree
    }
}

/// Writes a file anywhere (e.g. in a task's worktree), creating directories.
pub fn write_at(path: &Path, content: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// Whether strace can run here (it may be missing, or ptrace forbidden).
pub fn strace_works() -> bool {
    Command::new("strace").args(["-f", "-o", "/dev/null", "true"]).output().is_ok_and(|o| o.status.success())
}
