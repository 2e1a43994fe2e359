//! The benchmark command: `cargo bench --bench par [-- SECTION...]`.
//!
//! Generates its own repositories in a temporary directory and times the
//! release `git-par` binary side by side with plain git on the same
//! repository, in one run, printing medians and ratios as a markdown table
//! (copied into BENCHMARKS.md). Sections: list, lock-status, check, start,
//! finish. Each figure is the median of several runs; DESIGN §10 holds the
//! targets.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wanted = |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let tmp = tempfile::Builder::new().prefix("git-par-bench").tempdir()?;
    let base = fs::canonicalize(tmp.path())?;
    let mut report = Report::default();
    if wanted("list") {
        list(&base, &mut report)?;
    }
    println!("{}", report.render());
    Ok(())
}

/// Rows of `| what | git-par | plain git | ratio | target |`.
#[derive(Default)]
struct Report {
    rows: Vec<[String; 5]>,
}

impl Report {
    fn row(&mut self, what: &str, par: Duration, git: Option<Duration>, target: &str) {
        let ratio = git.map_or("—".to_string(), |g| format!("{:.2}×", par.as_secs_f64() / g.as_secs_f64()));
        let git = git.map_or("—".to_string(), ms);
        self.rows.push([what.to_string(), ms(par), git, ratio, target.to_string()]);
        eprintln!("  {what}: {}", self.rows.last().map(|r| r[1..4].join(" / ")).unwrap_or_default());
    }

    fn render(&self) -> String {
        let mut out =
            String::from("| what | git-par | plain git | ratio | target |\n|---|---:|---:|---:|---|\n");
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The median wall time of `runs` runs of `f` (after one warm-up).
fn median(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn par_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_git-par"))
}

/// A command with an isolated git environment.
fn cmd(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

fn run(mut c: Command) -> Result<()> {
    let out = c.output()?;
    if !out.status.success() {
        return Err(format!("{:?} failed: {}", c, String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let mut c = cmd("git", dir);
    c.args(args);
    run(c)
}

fn par(dir: &Path, args: &[&str]) -> Result<()> {
    let mut c = cmd(par_bin(), dir);
    c.args(args);
    run(c)
}

/// A plan of `n` tasks in phases of 50, half of them `[P]`, each naming a file.
fn generated_plan(n: usize) -> String {
    let mut md = String::from("# Tasks: generated\n");
    for i in 1..=n {
        if (i - 1) % 50 == 0 {
            let _ = write!(md, "\n## Phase {}: Generated\n\n", (i - 1) / 50 + 1);
        }
        let p = if i % 2 == 0 { "[P] " } else { "" };
        let _ = writeln!(md, "- [ ] T{i:05} {p}Implement part {i} in `src/m{}/f{i}.rs`", i % 100);
    }
    md
}

fn init_repo(dir: &Path, files: &[(String, String)]) -> Result<()> {
    fs::create_dir_all(dir)?;
    git(dir, &["init", "-q", "-b", "main"])?;
    for (path, content) in files {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().ok_or("no parent")?)?;
        fs::write(path, content)?;
    }
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-q", "-m", "initial"])
}

fn list(base: &Path, report: &mut Report) -> Result<()> {
    eprintln!("list --json");
    for n in [10_000, 20_000] {
        let dir = base.join(format!("list-{n}"));
        init_repo(&dir, &[("specs/001-gen/tasks.md".to_string(), generated_plan(n))])?;
        let time = median(15, || par(&dir, &["--json", "list"]))?;
        // `git cat-file` of the same file: what reading it through git costs.
        let plain = median(15, || git(&dir, &["cat-file", "-p", "HEAD:specs/001-gen/tasks.md"]))?;
        let target = if n == 10_000 { "< 50 ms" } else { "≈ 2× the 10k figure" };
        report.row(
            &format!("list --json, {n} tasks (vs git cat-file of the file)"),
            time,
            Some(plain),
            target,
        );
    }
    Ok(())
}
