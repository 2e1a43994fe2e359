//! `demo`: the whole cycle in a throwaway repository, narrated.
//!
//! It runs the real `git-par` binary (this executable) and the user's `git`
//! as a user would, isolated from the user's own git configuration so that
//! nothing outside the demo directory is read or touched. The narrative goes
//! to stderr; the demo repository's path is the one line on stdout.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ChildStderr, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;

use anyhow::{Context as _, Result};

use crate::cli::DemoArgs;
use crate::command_error::Refusal;
use crate::output::{Style, Ui};
use git_par::workflow::shell_quote;
use git_par::workspace::Options;

const PLAN: &str = include_str!("../../fixtures/demo/tasks.md");
const TASKS_FILE: &str = "specs/009-option-optimizer/tasks.md";
const FEATURE_BRANCH: &str = "009-option-optimizer";

/// Runs `git par demo`.
pub fn run(args: &DemoArgs, options: &Options, ui: &Ui) -> Result<()> {
    let base = demo_dir(args, options)?;
    let demo = Demo::new(ui, base.join("option-optimizer"))?;
    demo.walk()?;
    if ui.json {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            repository: &'a Path,
        }
        return ui.json(&Body { repository: &demo.repo });
    }
    ui.out(&format!("{}\n", demo.repo.display()))
}

/// The directory to build in: DIR (which must be empty or new) or a new temporary one.
fn demo_dir(args: &DemoArgs, options: &Options) -> Result<PathBuf> {
    match &args.dir {
        Some(dir) => {
            let dir = options.cwd.join(dir);
            if dir.exists() && fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
                return Err(Refusal::failed(format!("{} exists and is not empty", dir.display()))
                    .hint("give `git par demo` a new or empty directory, or none for a temporary one")
                    .into());
            }
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            Ok(dir)
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("git-par-demo-")
                .tempdir()
                .context("creating a temporary directory for the demo")?;
            Ok(dir.keep())
        }
    }
}

struct Demo<'a> {
    ui: &'a Ui,
    repo: PathBuf,
    exe: PathBuf,
    /// The directory the narrated shell is in, so that a `cd` is shown when it changes.
    cwd: std::cell::RefCell<PathBuf>,
}

impl<'a> Demo<'a> {
    fn new(ui: &'a Ui, repo: PathBuf) -> Result<Demo<'a>> {
        let exe = std::env::current_exe().context("finding the git-par executable")?;
        fs::create_dir_all(&repo).with_context(|| format!("creating {}", repo.display()))?;
        Ok(Demo { ui, repo, exe, cwd: std::cell::RefCell::new(PathBuf::new()) })
    }

    fn walk(&self) -> Result<()> {
        self.step("A spec-kit project on its feature branch, with a tasks.md and no parallel work yet");
        self.setup()?;
        let initial = self.capture(self.git(&self.repo, &["rev-parse", "HEAD"]))?.trim().to_string();
        self.show(&self.repo, &["list"])?;

        self.step("Lint first: what would make a parallel run go wrong (here two [P] tasks write one file)");
        self.show_finding(&self.repo, &["lint"])?;

        self.step("Which [P] tasks can run together? Waves never share a file; HTTP tasks are spread out");
        self.show(&self.repo, &["plan"])?;

        self.step("Install the pre-commit hook that makes every commit respect the locks");
        self.show(&self.repo, &["hook", "install"])?;

        self.step("Start the first three tasks of wave 1: a worktree, a branch and locks each");
        self.show(&self.repo, &["start", "T002", "T003", "T004"])?;

        self.step("Each task works in its own worktree and commits there");
        for (id, path, body) in [
            ("T002", "src/optimizer/data/chains.py", CHAINS),
            ("T003", "src/optimizer/pricing/black_scholes.py", BLACK_SCHOLES),
            ("T004", "src/optimizer/pricing/implied_vol.py", IMPLIED_VOL),
        ] {
            let worktree = self.worktree(id);
            write(&worktree.join(path), body)?;
            self.narrate(&format!("{id}: wrote {path} in {}", worktree.display()));
            self.quiet(self.git(&worktree, &["add", path]))?;
            self.quiet(self.git(&worktree, &["commit", "-q", "-m", &format!("{id}: {path}")]))?;
        }
        self.show(&self.repo, &["lock-status"])?;

        self.step("The hook refuses a commit outside the task's locks, and one on another task's file");
        let t003 = self.worktree("T003");
        write(&t003.join("README.md"), "# Option optimizer\n\nNow with pricing.\n")?;
        self.narrate(&format!("T003: edited README.md in {}", t003.display()));
        self.show_git(&t003, &["add", "README.md"])?;
        self.expect_refusal(&t003, &["commit", "-q", "-m", "T003: README"])?;
        self.show_git(&t003, &["reset", "-q", "--hard"])?;
        write(&t003.join("src/optimizer/pricing/implied_vol.py"), "# T003 should not touch this\n")?;
        self.narrate("T003: edited T004's src/optimizer/pricing/implied_vol.py");
        self.show_git(&t003, &["add", "src/optimizer/pricing/implied_vol.py"])?;
        self.expect_refusal(&t003, &["commit", "-q", "-m", "T003: steal T004's file"])?;
        self.show_git(&t003, &["reset", "-q", "--hard"])?;

        self.step("Finish all three at once: the merge queue lands them one at a time");
        self.finish_together(&["T002", "T003", "T004"])?;
        self.show_git(&self.repo, &["log", "--oneline", "--graph", "-8"])?;

        self.step("tasks.md was ticked by the landings themselves");
        self.show_git(&self.repo, &["diff", &initial, "HEAD", "--", TASKS_FILE])?;
        self.show(&self.repo, &["ready"])?;

        self.step(
            "Let agents finish the plan: `git par up` starts each ready task, runs an agent in it, lands it",
        );
        let agent = self.stand_in_agent()?;
        // Its events (stderr) as they came, then its summary table (stdout).
        let up = ["up", "--jobs", "3", "--agent", &agent.to_string_lossy()];
        let out = self.par(&self.repo, &up).output().context("running git-par")?;
        let swapped = Output { status: out.status, stdout: out.stderr, stderr: out.stdout };
        self.echo(&self.repo, &format!("git par {}", typed(&up)), &swapped);
        if !swapped.status.success() {
            anyhow::bail!("the demo's `git par {}` failed", typed(&up));
        }
        self.show_git(&self.repo, &["log", "--oneline", "--first-parent", "-9"])?;
        self.show(&self.repo, &["list"])?;
        self.tidy()?;
        self.step(&format!("Done. The demo repository is {}", self.repo.display()));
        Ok(())
    }

    /// Runs `git par finish` for each task at the same time, as a shell's
    /// `&` would, and shows their output as it comes, each line marked with
    /// its task; then the order main records they landed in.
    fn finish_together(&self, ids: &[&str]) -> Result<()> {
        let typed: Vec<String> = ids.iter().map(|id| format!("git par finish {id} &")).collect();
        self.prompt(&self.repo, &format!("{} wait", typed.join(" ")));
        let (tx, rx) = mpsc::channel::<String>();
        let mut children = Vec::new();
        let mut readers = Vec::new();
        for id in ids {
            let mut child = self.par(&self.repo, &["finish", id]).spawn().context("running git-par")?;
            for stream in [child.stdout.take().map(Stream::Out), child.stderr.take().map(Stream::Err)]
                .into_iter()
                .flatten()
            {
                let (tx, id) = (tx.clone(), id.to_string());
                readers.push(std::thread::spawn(move || {
                    let lines: Box<dyn BufRead> = match stream {
                        Stream::Out(out) => Box::new(BufReader::new(out)),
                        Stream::Err(err) => Box::new(BufReader::new(err)),
                    };
                    for line in lines.lines().map_while(Result::ok) {
                        let _ = tx.send(format!("[{id}] {line}"));
                    }
                }));
            }
            children.push((id.to_string(), child));
        }
        drop(tx);
        for line in rx {
            self.ui.status(&format!("    {line}"));
        }
        for reader in readers {
            let _ = reader.join();
        }
        for (id, mut child) in children {
            let status = child.wait().with_context(|| format!("waiting for `git par finish {id}`"))?;
            if !status.success() {
                anyhow::bail!("the demo's `git par finish {id}` failed");
            }
        }
        let log = self.capture(self.git(
            &self.repo,
            &["log", "--first-parent", "--reverse", "--format=%(trailers:key=Par-Task,valueonly)"],
        ))?;
        let order: Vec<&str> = log.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        self.narrate(&format!("{FEATURE_BRANCH} records them landed in this order: {}", order.join(", ")));
        Ok(())
    }

    /// Writes the stand-in agent beside the repository and shows it.
    fn stand_in_agent(&self) -> Result<PathBuf> {
        let path = self.repo.with_file_name("stand-in-agent.sh");
        write(&path, STAND_IN_AGENT)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", path.display()))?;
        }
        self.prompt(&self.repo, &format!("cat {}", shell_quote(&path.to_string_lossy())));
        for line in STAND_IN_AGENT.lines() {
            self.ui.status(&format!("    {line}"));
        }
        Ok(path)
    }

    /// Removes the worktrees' parent directory that the landings emptied.
    fn tidy(&self) -> Result<()> {
        let parent = self.repo.with_file_name("option-optimizer.par");
        let empty = fs::read_dir(&parent).map(|mut entries| entries.next().is_none()).unwrap_or(false);
        if empty {
            fs::remove_dir(&parent).with_context(|| format!("removing {}", parent.display()))?;
        }
        Ok(())
    }

    fn setup(&self) -> Result<()> {
        self.quiet(self.git(&self.repo, &["init", "-q", "-b", FEATURE_BRANCH]))?;
        for (key, value) in [
            ("user.name", "git-par demo"),
            ("user.email", "demo@git-par.invalid"),
            ("commit.gpgsign", "false"),
        ] {
            self.quiet(self.git(&self.repo, &["config", key, value]))?;
        }
        write(&self.repo.join(TASKS_FILE), PLAN)?;
        write(&self.repo.join("README.md"), "# Option optimizer\n")?;
        write(&self.repo.join("src/optimizer/__init__.py"), "\"\"\"Option optimizer.\"\"\"\n")?;
        // T001's skeleton: the packages and the test directory the tasks write into.
        write(&self.repo.join("src/optimizer/data/__init__.py"), "")?;
        write(&self.repo.join("src/optimizer/pricing/__init__.py"), "")?;
        write(&self.repo.join("tests/conftest.py"), "")?;
        write(
            &self.repo.join("pyproject.toml"),
            "[project]\nname = \"option-optimizer\"\nversion = \"0.1.0\"\n",
        )?;
        self.quiet(self.git(&self.repo, &["add", "-A"]))?;
        self.quiet(self.git(&self.repo, &["commit", "-q", "-m", "Option optimizer: spec, plan and tasks"]))?;
        Ok(())
    }

    fn worktree(&self, id: &str) -> PathBuf {
        self.repo.with_file_name("option-optimizer.par").join(id)
    }

    /// A command isolated from the user's git configuration.
    fn command(&self, program: &Path, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("SPECIFY_FEATURE_DIRECTORY")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The hook runs `git par`: make sure it finds this very executable.
        if let Some(bin) = self.exe.parent() {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut paths = vec![bin.to_path_buf()];
            paths.extend(std::env::split_paths(&path));
            if let Ok(joined) = std::env::join_paths(paths) {
                cmd.env("PATH", joined);
            }
        }
        cmd
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = self.command(Path::new("git"), dir);
        cmd.args(args);
        cmd
    }

    fn par(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = self.command(&self.exe, dir);
        cmd.args(args);
        cmd
    }

    fn step(&self, text: &str) {
        self.ui.status(&format!("\n{} {text}", self.ui.paint_err(Style::Hint, "==>")));
    }

    fn narrate(&self, text: &str) {
        self.ui.status(&format!("    {text}"));
    }

    /// Runs `git par ARGS` and shows the command and everything it printed.
    fn show(&self, dir: &Path, args: &[&str]) -> Result<()> {
        let out = self.par(dir, args).output().context("running git-par")?;
        self.echo(dir, &format!("git par {}", typed(args)), &out);
        if !out.status.success() {
            anyhow::bail!("the demo's `git par {}` failed", typed(args));
        }
        Ok(())
    }

    /// Runs a check that is expected to find something (exit 1) and shows what it found.
    fn show_finding(&self, dir: &Path, args: &[&str]) -> Result<()> {
        let out = self.par(dir, args).output().context("running git-par")?;
        self.echo(dir, &format!("git par {}", typed(args)), &out);
        if out.status.code() != Some(1) {
            anyhow::bail!("the demo expected `git par {}` to report a problem (exit 1)", typed(args));
        }
        Ok(())
    }

    fn show_git(&self, dir: &Path, args: &[&str]) -> Result<()> {
        let out = self.git(dir, args).output().context("running git")?;
        self.echo(dir, &format!("git {}", typed(args)), &out);
        if !out.status.success() {
            anyhow::bail!("the demo's `git {}` failed", typed(args));
        }
        Ok(())
    }

    /// Runs a git command that the hook must refuse; shows the refusal.
    fn expect_refusal(&self, dir: &Path, args: &[&str]) -> Result<()> {
        let out = self.git(dir, args).output().context("running git commit")?;
        self.echo(dir, &format!("git {}", typed(args)), &out);
        if out.status.success() {
            anyhow::bail!("the demo expected the pre-commit hook to refuse `git {}`", typed(args));
        }
        Ok(())
    }

    /// Shows a command as typed (after a `cd` when it runs somewhere new) and its output.
    fn echo(&self, dir: &Path, shown: &str, out: &Output) {
        self.prompt(dir, shown);
        for stream in [&out.stdout, &out.stderr] {
            for line in String::from_utf8_lossy(stream).lines() {
                self.ui.status(&format!("    {line}"));
            }
        }
    }

    fn prompt(&self, dir: &Path, typed: &str) {
        if self.cwd.borrow().as_path() != dir {
            self.ui.status(&format!(
                "  {} cd {}",
                self.ui.paint_err(Style::Dim, "$"),
                shell_quote(&dir.to_string_lossy())
            ));
            *self.cwd.borrow_mut() = dir.to_path_buf();
        }
        self.ui.status(&format!("  {} {typed}", self.ui.paint_err(Style::Dim, "$")));
    }

    fn capture(&self, mut cmd: Command) -> Result<String> {
        let out = cmd.output().context("running git")?;
        if !out.status.success() {
            anyhow::bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn quiet(&self, cmd: Command) -> Result<()> {
        self.capture(cmd).map(drop)
    }
}

/// Arguments as a user would type them: quoted where the shell needs it, so they can be pasted.
fn typed(args: &[&str]) -> String {
    args.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

enum Stream {
    Out(ChildStdout),
    Err(ChildStderr),
}

fn write(path: &Path, content: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    fs::write(path, content).with_context(|| format!("writing {}", path.display()))
}

/// What `git par up` runs in each task's worktree in the demo: a coding
/// agent would read the task and change the code; this one writes a line
/// into each of the task's files and commits.
const STAND_IN_AGENT: &str = r#"#!/bin/sh
# A stand-in for a coding agent: the task arrives in GIT_PAR_* variables.
printf '%s\n' "$GIT_PAR_TASK_PATHS" | while IFS= read -r path; do
  mkdir -p "$(dirname "$path")"
  printf '# %s: %s\n' "$GIT_PAR_TASK" "$GIT_PAR_TASK_DESCRIPTION" >> "$path"
done
sleep 0.5
git add -A && git commit -q -m "$GIT_PAR_TASK: the agent's work"
"#;

const CHAINS: &str = "\"\"\"Option chains loaded from CSV.\"\"\"\nimport csv\n\n\ndef load_chain(path):\n    with open(path, newline=\"\") as f:\n        return list(csv.DictReader(f))\n";
const BLACK_SCHOLES: &str = "\"\"\"Black-Scholes prices.\"\"\"\nfrom math import erf, exp, log, sqrt\n\n\ndef _n(x):\n    return 0.5 * (1 + erf(x / sqrt(2)))\n\n\ndef call(s, k, t, r, vol):\n    d1 = (log(s / k) + (r + vol * vol / 2) * t) / (vol * sqrt(t))\n    d2 = d1 - vol * sqrt(t)\n    return s * _n(d1) - k * exp(-r * t) * _n(d2)\n";
const IMPLIED_VOL: &str = "\"\"\"Implied volatility by bisection.\"\"\"\n\n\ndef implied_vol(price_fn, target, lo=1e-4, hi=5.0, tol=1e-8):\n    while hi - lo > tol:\n        mid = (lo + hi) / 2\n        lo, hi = (mid, hi) if price_fn(mid) < target else (lo, mid)\n    return (lo + hi) / 2\n";
