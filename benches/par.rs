//! The benchmark command: `cargo bench --bench par [-- SECTION...]`.
//!
//! Generates its own repositories in a temporary directory and times the
//! release `git-par` binary side by side with plain git on the same
//! repository, in one run, printing medians and ratios as a markdown table
//! (copied into BENCHMARKS.md). Sections: list, deps, lock-status, check,
//! start, scale (check and start with 1,000 active tasks), finish, up, remote.
//! Each figure is the median of several runs; DESIGN §10 holds the targets.
//!
//! `GIT_PAR_BENCH_BIN=/path/to/git-par` measures that binary instead of this
//! build (the same measurements, for a before/after run back to back).
//! `GIT_PAR_BENCH_BASELINE=/path/to/older/git-par` adds, to the `list` and
//! `deps` sections, the same measurements of that binary, taken in the same
//! run and interleaved with this build's, so that a before/after comparison
//! sees the same machine load.

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
    if wanted("deps") {
        deps(&base, &mut report)?;
    }
    if wanted("check") || wanted("lock-status") {
        hook_and_status(&base, &mut report)?;
    }
    if wanted("start") {
        start(&base, &mut report)?;
    }
    if wanted("scale") || wanted("check") || wanted("start") {
        scale(&base, &mut report)?;
    }
    if wanted("finish") {
        finish(&base, &mut report, false)?;
        finish(&base, &mut report, true)?;
    }
    if wanted("train") {
        train(&base, &mut report)?;
    }
    if wanted("remote") {
        remote(&base, &mut report)?;
    }
    if wanted("up") {
        up(&base, &mut report)?;
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

/// The binary measured: this build, or `GIT_PAR_BENCH_BIN` (an older
/// build, to run the same measurements on it back to back).
fn par_bin() -> PathBuf {
    std::env::var_os("GIT_PAR_BENCH_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_git-par")), PathBuf::from)
}

/// The binary to compare with (`GIT_PAR_BENCH_BASELINE`), if any.
fn baseline_bin() -> Option<PathBuf> {
    std::env::var_os("GIT_PAR_BENCH_BASELINE").map(PathBuf::from).filter(|p| p.exists())
}

/// Medians of `runs` interleaved runs of `git-par ARGS` with this build and
/// with the baseline (after one warm-up of each).
fn interleaved(dir: &Path, args: &[&str], runs: usize, baseline: &Path) -> Result<(Duration, Duration)> {
    let run_with = |bin: &Path| -> Result<Duration> {
        let mut c = cmd(bin, dir);
        c.args(args);
        let start = Instant::now();
        run(c)?;
        Ok(start.elapsed())
    };
    run_with(&par_bin())?;
    run_with(baseline)?;
    let (mut ours, mut theirs) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        ours.push(run_with(&par_bin())?);
        theirs.push(run_with(baseline)?);
    }
    ours.sort();
    theirs.sort();
    Ok((ours[runs / 2], theirs[runs / 2]))
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
        if let Some(baseline) = baseline_bin() {
            let (ours, theirs) = interleaved(&dir, &["--json", "list"], 15, &baseline)?;
            report.row(
                &format!("list --json, {n} tasks: this build vs the baseline (in the plain-git column), interleaved"),
                ours,
                Some(theirs),
                target,
            );
        }
    }
    Ok(())
}

/// `phases` phases of `width` `[P]` tasks each; with `stories`, every phase
/// after the first names a user story (so each waits for the first only).
fn wide_plan(phases: usize, width: usize, stories: bool) -> String {
    let mut md = String::from("# Tasks: wide\n");
    let mut n = 0;
    for phase in 1..=phases {
        let title =
            if stories && phase > 1 { format!("User Story {}", phase - 1) } else { "Setup".to_string() };
        let _ = write!(md, "\n## Phase {phase}: {title}\n\n");
        for _ in 0..width {
            n += 1;
            let _ = writeln!(md, "- [ ] T{n:05} [P] Implement part {n} in `src/p{phase}/f{n}.rs`");
        }
    }
    md
}

/// Runs `git-par ARGS` under `/usr/bin/time`: wall time, peak RSS in MB and stdout bytes.
fn measured(dir: &Path, args: &[&str]) -> Result<(Duration, Option<f64>, usize)> {
    let timer = Path::new("/usr/bin/time");
    let start = Instant::now();
    let out = if timer.exists() {
        let mut c = cmd(timer, dir);
        c.arg("-f").arg("maxrss_kb=%M").arg(par_bin()).args(args).stdout(Stdio::piped());
        c.output()?
    } else {
        let mut c = cmd(par_bin(), dir);
        c.args(args).stdout(Stdio::piped());
        c.output()?
    };
    let elapsed = start.elapsed();
    if !out.status.success() {
        return Err(format!("git-par {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    Ok((elapsed, rss, out.stdout.len()))
}

/// Dependencies stay linear: phase and `[P]` group boundaries are barriers
/// (DESIGN §3, §10). Each case is the median of 5 runs; peak RSS is the largest.
fn deps(base: &Path, report: &mut Report) -> Result<()> {
    eprintln!("dependencies at scale");
    let cases: [(&str, String, &str); 3] = [
        ("list --json, 10 phases of 3,000 [P] tasks", wide_plan(10, 3_000, false), "< 1 s, < 200 MB"),
        (
            "list --json, 10,000 tasks: setup + 99 story phases of 100 [P]",
            wide_plan(100, 100, true),
            "< 50 ms",
        ),
        (
            "list --json, 10,000 tasks, T00001 depends on T05001",
            {
                let mut plan = generated_plan(10_000);
                plan = plan.replacen("Implement part 1 in", "Implement part 1 (depends on T05001) in", 1);
                plan
            },
            "no cycle reported",
        ),
    ];
    for (i, (what, plan, target)) in cases.into_iter().enumerate() {
        let dir = base.join(format!("deps-{i}"));
        init_repo(&dir, &[("specs/001-gen/tasks.md".to_string(), plan)])?;
        let mut times = Vec::new();
        let mut peak: Option<f64> = None;
        let mut bytes = 0;
        for _ in 0..5 {
            let (time, rss, out) = measured(&dir, &["--json", "list"])?;
            times.push(time);
            peak = match (peak, rss) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            bytes = out;
        }
        times.sort();
        let rss = peak
            .map_or("peak RSS unknown (no /usr/bin/time)".to_string(), |mb| format!("peak RSS {mb:.0} MB"));
        report.row(
            &format!("{what} ({rss}, {:.1} MB of JSON)", bytes as f64 / 1e6),
            times[times.len() / 2],
            None,
            target,
        );
        if let Some(baseline) = baseline_bin() {
            let (ours, theirs) = interleaved(&dir, &["--json", "list"], 9, &baseline)?;
            report.row(
                &format!("{what}: this build vs the baseline (plain-git column)"),
                ours,
                Some(theirs),
                target,
            );
        }
    }
    Ok(())
}

/// A repository of `files` files in directories of 100, committed through
/// `git fast-import` (much faster than writing and adding them), plus
/// `extra` files, checked out on `main`.
fn big_repo(dir: &Path, files: usize, extra: &[(String, String)]) -> Result<()> {
    fs::create_dir_all(dir)?;
    git(dir, &["init", "-q", "-b", "main"])?;
    let mut stream = String::from(
        "commit refs/heads/main\ncommitter bench <bench@example.com> 1767225600 +0000\ndata 7\ninitial\n",
    );
    let mut add = |path: &str, content: &str| {
        let _ = write!(stream, "M 100644 inline {path}\ndata {}\n{content}\n", content.len());
    };
    for n in 0..files {
        add(
            &format!("src/mod_{:03}/file_{:02}.rs", n / 100, n % 100),
            &format!("module {} file {}", n / 100, n % 100),
        );
    }
    for (path, content) in extra {
        add(path, content);
    }
    let mut c = cmd("git", dir);
    c.args(["fast-import", "--quiet"]).stdin(Stdio::piped());
    let mut child = c.spawn()?;
    std::io::Write::write_all(child.stdin.as_mut().ok_or("no stdin")?, stream.as_bytes())?;
    drop(child.stdin.take());
    if !child.wait()?.success() {
        return Err("git fast-import failed".into());
    }
    git(dir, &["reset", "-q", "--hard", "main"])
}

/// `check --staged` and commits with the hook, in a 10,000-file repository
/// with 100 active tasks (each locking a file, a directory and a glob), and
/// `lock-status` over those tasks. The 100 tasks are written into the state
/// directly: `check` reads only the index and the state, so their worktrees
/// need not exist; the task the commits happen in (T000) is started for real.
fn hook_and_status(base: &Path, report: &mut Report) -> Result<()> {
    eprintln!("check --staged, commit with the hook, lock-status");
    let dir = base.join("hook");
    let mut plan = String::from("## Phase 1\n\n- [ ] T000 [P] Work on `src/mod_099/`\n");
    for i in 1..100 {
        let _ = writeln!(plan, "- [ ] T{i:03} [P] Task {i}");
    }
    big_repo(
        &dir,
        10_000,
        &[("specs/001-bench/tasks.md".to_string(), plan), ("README.md".to_string(), "bench\n".to_string())],
    )?;
    par(&dir, &["start", "T000"])?;
    let state_path = dir.join(".git/par/state.json");
    let mut state: serde_json::Value = serde_json::from_slice(&fs::read(&state_path)?)?;
    let tasks = state["tasks"].as_object_mut().ok_or("no tasks in state")?;
    let template = tasks.get("T000").cloned().ok_or("T000 not started")?;
    for i in 1..100 {
        let id = format!("T{i:03}");
        let mut task = template.clone();
        task["id"] = id.clone().into();
        task["branch"] = format!("par/{id}").into();
        task["worktree"] = base.join("hook.par").join(&id).display().to_string().into();
        task["locks"] = serde_json::json!([
            format!("src/mod_{:03}/file_0{}.rs", i % 99, i % 10),
            format!("docs/{id}/"),
            format!("src/mod_{:03}/file_[5-9]*.rs", i % 99),
        ]);
        tasks.insert(id, task);
    }
    fs::write(&state_path, serde_json::to_vec(&state)?)?;

    // check --staged on main, a change to a file nobody locks staged.
    fs::write(dir.join("README.md"), "bench, changed\n")?;
    git(&dir, &["add", "README.md"])?;
    let check = median(51, || par(&dir, &["check", "--staged"]))?;
    let plain = median(51, || git(&dir, &["diff", "--cached", "--name-status", "-M"]))?;
    report.row(
        "check --staged, 10k files, 100 tasks (vs git diff --cached --name-status)",
        check,
        Some(plain),
        "< 10 ms",
    );
    let status = median(21, || par(&dir, &["lock-status"]))?;
    let list = median(21, || git(&dir, &["worktree", "list"]))?;
    report.row("lock-status, 100 tasks (vs git worktree list)", status, Some(list), "—");

    // A commit in T000's worktree with the git-par hook vs a no-op hook.
    let worktree = base.join("hook.par").join("T000");
    let hooks = dir.join(".git/hooks");
    let mut n = 0;
    let mut commit = || -> Result<()> {
        n += 1;
        fs::write(worktree.join("src/mod_099/file_00.rs"), format!("change {n}\n"))?;
        git(&worktree, &["add", "src/mod_099/file_00.rs"])?;
        git(&worktree, &["commit", "-q", "-m", "change"])
    };
    fs::create_dir_all(&hooks)?;
    let noop = hooks.join("pre-commit");
    fs::write(&noop, "#!/bin/sh\nexit 0\n")?;
    make_executable(&noop)?;
    let without = median(21, &mut commit)?;
    fs::remove_file(&noop)?;
    par(&dir, &["hook", "install"])?;
    let with = median(21, &mut commit)?;
    report.row(
        "commit with the git-par hook (vs a no-op hook), 10k files, 100 tasks",
        with,
        Some(without),
        "≤ 1.3×",
    );
    Ok(())
}

fn make_executable(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// `start` against `git worktree add -b` on the same 10,000-file repository,
/// alternating so that both see the same repository state.
fn start(base: &Path, report: &mut Report) -> Result<()> {
    eprintln!("start vs git worktree add -b");
    let dir = base.join("start");
    let runs = 15;
    let mut plan = String::from("## Phase 1\n\n");
    for i in 0..=runs {
        let _ = writeln!(plan, "- [ ] T{i:03} [P] Task {i} in `src/mod_{i:03}/file_00.rs`");
    }
    big_repo(&dir, 10_000, &[("specs/001-bench/tasks.md".to_string(), plan)])?;
    let mut par_times = Vec::new();
    let mut git_times = Vec::new();
    for i in 0..=runs {
        let t = Instant::now();
        par(&dir, &["start", &format!("T{i:03}")])?;
        par_times.push(t.elapsed());
        let path = base.join("plain").join(format!("w{i}"));
        let path = path.to_string_lossy();
        let t = Instant::now();
        git(&dir, &["worktree", "add", "-q", "-b", &format!("plain/{i}"), &path, "main"])?;
        git_times.push(t.elapsed());
    }
    // The first pair warms the caches.
    par_times.remove(0);
    git_times.remove(0);
    par_times.sort();
    git_times.sort();
    report.row(
        "start (vs git worktree add -b), 10k files",
        par_times[par_times.len() / 2],
        Some(git_times[git_times.len() / 2]),
        "≤ 1.2×",
    );
    Ok(())
}

/// `finish` against the plain-git sequence it replaces: `git merge --no-ff`
/// in the main worktree, `git worktree remove`, `git branch -d`. Each round
/// starts a task and a plain worktree from the same main, commits one file
/// in each, and lands both. With `main_moved`, a commit lands on main after
/// they start, so finish first merges main into the task (plain git's merge
/// costs the same either way).
fn finish(base: &Path, report: &mut Report, main_moved: bool) -> Result<()> {
    eprintln!(
        "finish vs git merge --no-ff + worktree remove + branch -d{}",
        if main_moved { ", main moved" } else { "" }
    );
    let dir = base.join(if main_moved { "finish-moved" } else { "finish" });
    let runs = 11;
    let mut plan = String::from("## Phase 1\n\n");
    for i in 0..=runs {
        let _ = writeln!(plan, "- [ ] T{i:03} [P] Task {i} in `src/mod_{i:03}/file_01.rs`");
    }
    big_repo(&dir, 10_000, &[("specs/001-bench/tasks.md".to_string(), plan)])?;
    let mut par_times = Vec::new();
    let mut git_times = Vec::new();
    for i in 0..=runs {
        let id = format!("T{i:03}");
        par(&dir, &["start", &id])?;
        let task_wt = base.join(if main_moved { "finish-moved.par" } else { "finish.par" }).join(&id);
        let plain_wt = base.join("plain-finish").join(format!("{}{i}", if main_moved { "m" } else { "w" }));
        let plain_branch = format!("plain-finish/{}{i}", if main_moved { "m" } else { "w" });
        git(&dir, &["worktree", "add", "-q", "-b", &plain_branch, &plain_wt.to_string_lossy(), "main"])?;
        fs::write(task_wt.join(format!("src/mod_{i:03}/file_01.rs")), "changed by the task\n")?;
        git(&task_wt, &["commit", "-q", "--no-verify", "-am", "task work"])?;
        fs::write(plain_wt.join(format!("src/mod_{i:03}/file_02.rs")), "changed by plain git\n")?;
        git(&plain_wt, &["commit", "-q", "--no-verify", "-am", "plain work"])?;
        if main_moved {
            fs::write(dir.join(format!("src/mod_{:03}/file_03.rs", 50 + i)), "main moves on\n")?;
            git(&dir, &["commit", "-q", "--no-verify", "-am", "main moves on"])?;
        }
        let t = Instant::now();
        git(&dir, &["merge", "-q", "--no-ff", "--no-verify", "-m", "plain landing", &plain_branch])?;
        git(&dir, &["worktree", "remove", &plain_wt.to_string_lossy()])?;
        git(&dir, &["branch", "-q", "-d", &plain_branch])?;
        git_times.push(t.elapsed());
        let t = Instant::now();
        par(&dir, &["finish", &id])?;
        par_times.push(t.elapsed());
    }
    par_times.remove(0);
    git_times.remove(0);
    par_times.sort();
    git_times.sort();
    report.row(
        &format!(
            "finish (vs git merge --no-ff + worktree remove + branch -d), 10k files{}",
            if main_moved { ", main moved" } else { "" }
        ),
        par_times[par_times.len() / 2],
        Some(git_times[git_times.len() / 2]),
        "≤ 1.5×",
    );
    Ok(())
}

/// How many finishes race in the merge-train rows.
const TRAIN_TASKS: usize = 16;

/// The merge train (issue 16): `TRAIN_TASKS` finishes started at once, each
/// with a verify, landing through the train (at the default depth, the
/// number of cores, and at depth 16) and with `--no-train`, against the sum
/// of the verify times (what strictly one-at-a-time verifying costs at
/// least). Once with `sleep 1` (waiting: overlaps whatever the cores) and
/// once with a CPU-bound verify (bounded by the cores).
fn train(base: &Path, report: &mut Report) -> Result<()> {
    let cpu = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done";
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (label, verify) in [("verify `sleep 1`", "sleep 1"), ("CPU-bound verify", cpu)] {
        eprintln!("{TRAIN_TASKS} concurrent finishes, {label}");
        // The sum of the verify times, each run alone.
        let mut one = Duration::ZERO;
        for _ in 0..3 {
            let start = Instant::now();
            run({
                let mut c = cmd("sh", base);
                c.args(["-c", verify]);
                c
            })?;
            one += start.elapsed();
        }
        let sum = one / 3 * TRAIN_TASKS as u32;
        let depths: [(String, Vec<&str>, Option<usize>); 4] = [
            (format!("train, default depth ({cores} cores)"), vec![], None),
            ("train, par.trainDepth = 16".to_string(), vec![], Some(16)),
            ("--no-train".to_string(), vec!["--no-train"], None),
            ("one `finish` of all 16 (a batch)".to_string(), vec!["batch"], None),
        ];
        for (how, extra, depth) in depths {
            let batch = extra == ["batch"];
            let slug: String =
                format!("train-{label}-{how}").chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            let dir = base.join(slug);
            let mut plan = String::from("## Phase 1\n\n");
            for i in 1..=TRAIN_TASKS {
                let _ = writeln!(plan, "- [ ] T{i:03} [P] Task {i} in `src/t{i:03}.txt`");
            }
            init_repo(
                &dir,
                &[("specs/001-bench/tasks.md".to_string(), plan), ("README.md".into(), "bench\n".into())],
            )?;
            if let Some(depth) = depth {
                git(&dir, &["config", "par.trainDepth", &depth.to_string()])?;
            }
            let ids: Vec<String> = (1..=TRAIN_TASKS).map(|i| format!("T{i:03}")).collect();
            for (i, id) in ids.iter().enumerate() {
                par(&dir, &["start", id])?;
                let wt = dir
                    .parent()
                    .ok_or("no parent")?
                    .join(format!("{}.par", dir.file_name().and_then(|n| n.to_str()).unwrap_or("")))
                    .join(id);
                fs::create_dir_all(wt.join("src"))?;
                fs::write(wt.join(format!("src/t{:03}.txt", i + 1)), "work\n")?;
                git(&wt, &["add", "-A"])?;
                git(&wt, &["commit", "-q", "--no-verify", "-m", "task work"])?;
            }
            let start = Instant::now();
            let children = if batch {
                let mut c = cmd(par_bin(), &dir);
                c.arg("finish").args(&ids).args(["--verify", verify]);
                vec![c.spawn()?]
            } else {
                ids.iter()
                    .map(|id| {
                        let mut c = cmd(par_bin(), &dir);
                        c.args(["finish", id, "--verify", verify]).args(&extra);
                        c.spawn()
                    })
                    .collect::<std::io::Result<Vec<_>>>()?
            };
            for child in children {
                let out = child.wait_with_output()?;
                if !out.status.success() {
                    return Err(format!("finish failed: {}", String::from_utf8_lossy(&out.stderr)).into());
                }
            }
            let took = start.elapsed();
            let log = cmd("git", &dir)
                .args(["log", "--format=%(trailers:key=Par-Task,valueonly)", "main"])
                .stdout(Stdio::piped())
                .output()?;
            let landed = String::from_utf8_lossy(&log.stdout);
            if landed.lines().filter(|l| !l.trim().is_empty()).count() != TRAIN_TASKS {
                return Err(format!("{how}: not all {TRAIN_TASKS} tasks landed:\n{landed}").into());
            }
            let target = match (verify, depth, batch) {
                ("sleep 1", None, false) if extra.is_empty() => "≤ 2.5 s",
                _ => "—",
            };
            report.row(
                &format!(
                    "{TRAIN_TASKS} concurrent finishes, {label}, {how} (vs the sum of the verify times)"
                ),
                took,
                Some(sum),
                target,
            );
        }
    }
    Ok(())
}

/// A `git daemon` serving `root` on 127.0.0.1 (killed when dropped), or
/// `None` when git has no daemon here.
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn daemon(root: &Path) -> Result<Option<(Daemon, u16)>> {
    let exec = Command::new("git").arg("--exec-path").output()?;
    let program = PathBuf::from(String::from_utf8_lossy(&exec.stdout).trim()).join("git-daemon");
    if !program.is_file() {
        return Ok(None);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(program)
        .args(["--enable=receive-pack", "--reuseaddr", "--listen=127.0.0.1", "--export-all"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", root.display()))
        .arg(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let daemon = Daemon(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return Err("git daemon did not listen".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Some((daemon, port)))
}

fn git_out(dir: &Path, args: &[&str]) -> Result<String> {
    let mut c = cmd("git", dir);
    c.args(args).stdout(Stdio::piped());
    let out = c.output()?;
    if !out.status.success() {
        return Err(format!("git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Remote mode (DESIGN §9, §10) on a loopback remote (`git daemon` on
/// 127.0.0.1, else `file://`): a lock change and a start against a bare
/// `git fetch` + `git push` of one ref to the same remote, and a landing
/// against plain git's landing plus `git push` of main. Each pair runs
/// interleaved, round by round.
fn remote(base: &Path, report: &mut Report) -> Result<()> {
    let root = base.join("remote-srv");
    fs::create_dir_all(&root)?;
    let seed = base.join("remote-seed");
    let runs = 11;
    let mut plan = String::from("## Phase 1\n\n");
    for i in 0..=runs {
        let _ = writeln!(plan, "- [ ] T{i:03} [P] Task {i} in `src/mod_{i:03}/file_00.rs`");
    }
    big_repo(&seed, 2_000, &[("specs/001-bench/tasks.md".to_string(), plan)])?;
    git(&root, &["clone", "-q", "--bare", &seed.to_string_lossy(), "plan.git"])?;
    let served = daemon(&root)?;
    let (url, how) = match &served {
        Some((_, port)) => (format!("git://127.0.0.1:{port}/plan.git"), "git daemon on 127.0.0.1"),
        None => (format!("file://{}", root.join("plan.git").display()), "file://"),
    };
    eprintln!("remote mode, {how}");
    let dir = base.join("remote-clone");
    git(base, &["clone", "-q", &url, &dir.to_string_lossy()])?;
    git(&dir, &["config", "par.remote", "origin"])?;
    // The first start creates refs/par/state.
    par(&dir, &["start", "T000"])?;
    let plain_fetch_push = |round: usize| -> Result<Duration> {
        let head = git_out(&dir, &["rev-parse", "HEAD^{tree}"])?;
        let commit = git_out(&dir, &["commit-tree", &head, "-m", &format!("plain {round}")])?;
        let t = Instant::now();
        git(&dir, &["fetch", "-q", "origin", "+refs/par/state:refs/bench/state"])?;
        git(&dir, &["push", "-q", "origin", &format!("+{commit}:refs/bench/plain")])?;
        Ok(t.elapsed())
    };

    // A lock change: one fetch, one push.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for i in 0..=runs {
        let t = Instant::now();
        par(&dir, &["lock", "T000", "--add", &format!("src/mod_{:03}/file_01.rs", 50 + i)])?;
        ours.push(t.elapsed());
        theirs.push(plain_fetch_push(i)?);
    }
    report.row(
        &format!("remote: lock change (vs git fetch + git push of one ref), {how}"),
        median_of(ours),
        Some(median_of(theirs)),
        "≤ 1.5×",
    );

    // A start: one fetch, one push, and the worktree (as `git worktree add -b`).
    let (mut ours, mut theirs, mut plain_add) = (Vec::new(), Vec::new(), Vec::new());
    for i in 1..=runs {
        let t = Instant::now();
        par(&dir, &["start", &format!("T{i:03}")])?;
        ours.push(t.elapsed());
        let fetch_push = plain_fetch_push(100 + i)?;
        let path = base.join("remote-plain").join(format!("w{i}"));
        let t = Instant::now();
        git(&dir, &["worktree", "add", "-q", "-b", &format!("plain/{i}"), &path.to_string_lossy(), "main"])?;
        let add = t.elapsed();
        plain_add.push(add);
        theirs.push(fetch_push + add);
    }
    report.row(
        &format!("remote: start (vs git worktree add -b + git fetch + git push of one ref), {how}"),
        median_of(ours),
        Some(median_of(theirs)),
        "≤ 1.5×",
    );

    // A landing: one atomic push of main and the state, against plain git's
    // landing (merge --no-ff, worktree remove, branch -d) and `git push` of main.
    let (mut ours, mut theirs, mut pushes) = (Vec::new(), Vec::new(), Vec::new());
    for i in 1..=runs {
        let id = format!("T{i:03}");
        let task_wt = base.join("remote-clone.par").join(&id);
        fs::write(task_wt.join(format!("src/mod_{i:03}/file_00.rs")), "changed by the task\n")?;
        git(&task_wt, &["commit", "-q", "--no-verify", "-am", "task work"])?;
        let plain_wt = base.join("remote-plain").join(format!("w{i}"));
        fs::write(plain_wt.join(format!("src/mod_{:03}/file_02.rs", i)), "changed by plain git\n")?;
        git(&plain_wt, &["commit", "-q", "--no-verify", "-am", "plain work"])?;
        let t = Instant::now();
        par(&dir, &["finish", &id])?;
        ours.push(t.elapsed());
        let t = Instant::now();
        git(&dir, &["merge", "-q", "--no-ff", "--no-verify", "-m", "plain landing", &format!("plain/{i}")])?;
        git(&dir, &["worktree", "remove", &plain_wt.to_string_lossy()])?;
        git(&dir, &["branch", "-q", "-d", &format!("plain/{i}")])?;
        let p = Instant::now();
        git(&dir, &["push", "-q", "origin", "main"])?;
        pushes.push(p.elapsed());
        theirs.push(t.elapsed());
    }
    report.row(
        &format!(
            "remote: finish (vs git merge --no-ff + worktree remove + branch -d + git push of main), {how}"
        ),
        median_of(ours),
        Some(median_of(theirs)),
        "≤ 1.5×",
    );
    report.row(&format!("remote: git push of main alone, {how}"), median_of(pushes), None, "—");
    Ok(())
}

fn median_of(mut times: Vec<Duration>) -> Duration {
    // The first round warms the caches.
    if times.len() > 2 {
        times.remove(0);
    }
    times.sort();
    times[times.len() / 2]
}

/// A 40-task plan in the shape of a spec-kit one: setup, a wide
/// foundational phase, three user stories (independent of each other, each
/// a `[P]` group then sequential tasks) and polish; every task names its file.
fn shaped_plan() -> String {
    let mut md = String::from("# Tasks: shaped like a real plan\n");
    let mut n = 0;
    let mut task = |md: &mut String, parallel: bool, story: Option<&str>, what: &str| {
        n += 1;
        let p = if parallel { "[P] " } else { "" };
        let s = story.map(|s| format!("[{s}] ")).unwrap_or_default();
        let _ = writeln!(md, "- [ ] T{n:03} {p}{s}{what} in `src/part{n:03}.py`");
    };
    md.push_str("\n## Phase 1: Setup\n\n");
    task(&mut md, false, None, "Create the project skeleton");
    task(&mut md, true, None, "Configure linting");
    task(&mut md, true, None, "Configure the test runner");
    md.push_str("\n## Phase 2: Foundational\n\n");
    for _ in 0..8 {
        task(&mut md, true, None, "Foundational model");
    }
    task(&mut md, false, None, "Wire the foundation together");
    for (story, title) in [("US1", "Browse"), ("US2", "Search"), ("US3", "Export")] {
        let _ = write!(md, "\n## Phase: User Story {} - {title} (Priority: P1)\n\n", &story[2..]);
        for _ in 0..6 {
            task(&mut md, true, Some(story), "Story piece");
        }
        task(&mut md, false, Some(story), "Story endpoint");
    }
    md.push_str("\n## Phase 6: Polish\n\n");
    for _ in 0..7 {
        task(&mut md, true, None, "Polish");
    }
    md
}

/// `git par up` on [`shaped_plan`] with agents that sleep a fixed time, then
/// write their file and commit (through the hook). Two figures:
/// - with `--jobs 1` nothing overlaps, so the run's wall time beyond the
///   agents' own is what up adds per task (start, landing, scheduling);
/// - with `--jobs 4`, the wall time against the ideal schedule of the
///   dependency graph: `--dry-run`'s waves × the agents' mean time.
fn up(base: &Path, report: &mut Report) -> Result<()> {
    eprintln!("up: 40 tasks, stand-in agents");
    let agent = base.join("up-agent.sh");
    fs::write(
        &agent,
        "#!/bin/sh\nsleep \"$AGENT_SLEEP\"\nprintf '%s\\n' \"$GIT_PAR_TASK_PATHS\" | while IFS= read -r p; do mkdir -p \"$(dirname \"$p\")\"; echo done >> \"$p\"; done\n\
         git add -A && git commit -q -m \"$GIT_PAR_TASK\"\n",
    )?;
    make_executable(&agent)?;
    let plan = shaped_plan();
    let mut readme = vec![("specs/001-bench/tasks.md".to_string(), plan)];
    readme.push(("README.md".to_string(), "bench\n".to_string()));
    for (jobs, sleep) in [(1, "0.2"), (4, "1")] {
        let dir = base.join(format!("up-{jobs}"));
        init_repo(&dir, &readme)?;
        par(&dir, &["hook", "install"])?;
        let dry = Command::new(par_bin())
            .current_dir(&dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["--json", "up", "--dry-run", "--jobs", &jobs.to_string()])
            .output()?;
        let dry: serde_json::Value = serde_json::from_slice(&dry.stdout)?;
        let waves = dry["ideal"].as_u64().ok_or("no ideal in --dry-run")? as f64;
        let mut c = cmd(par_bin(), &dir);
        c.args(["--json", "up", "--jobs", &jobs.to_string(), "--agent", &agent.to_string_lossy()])
            .env("AGENT_SLEEP", sleep)
            .env("PATH", path_with_par()?)
            .stdout(Stdio::piped());
        let t = Instant::now();
        let out = c.output()?;
        let wall = t.elapsed();
        if !out.status.success() {
            let said = String::from_utf8_lossy(&out.stdout);
            return Err(
                format!("up --jobs {jobs} failed: {}", said.lines().last().unwrap_or_default()).into()
            );
        }
        let mut agent_secs = Vec::new();
        let mut landed = 0;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let event: serde_json::Value = serde_json::from_str(line)?;
            match event["event"].as_str() {
                Some("agent-exited") => agent_secs.push(event["seconds"].as_f64().unwrap_or(0.0)),
                Some("landed") => landed += 1,
                _ => {}
            }
        }
        if landed != 40 {
            return Err(format!("up --jobs {jobs} landed {landed} of 40 tasks").into());
        }
        let total: f64 = agent_secs.iter().sum();
        let mean = total / agent_secs.len() as f64;
        if jobs == 1 {
            let per_task = Duration::from_secs_f64((wall.as_secs_f64() - total) / 40.0);
            report.row(
                "up --jobs 1, 40 tasks: wall time beyond the agents', per task",
                per_task,
                None,
                "< 100 ms",
            );
        } else {
            let ideal = Duration::from_secs_f64(waves * mean);
            eprintln!("  {waves} waves × {mean:.3} s mean agent time");
            report.row(
                &format!(
                    "up --jobs 4, 40 tasks, {sleep} s agents: wall (vs the ideal schedule, {waves} waves)"
                ),
                wall,
                Some(ideal),
                "≤ 1.2×",
            );
        }
    }
    Ok(())
}

/// PATH with the benchmarked `git-par` first, for the hook the agents' commits run.
fn path_with_par() -> Result<std::ffi::OsString> {
    let mut dirs = vec![par_bin().parent().ok_or("no directory")?.to_path_buf()];
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    Ok(std::env::join_paths(dirs)?)
}

/// A plan of 1,100 tasks, each naming one file of a `big_repo`.
fn scale_plan() -> String {
    let mut plan = String::from("## Phase 1\n\n");
    for i in 0..1_100 {
        let _ =
            writeln!(plan, "- [ ] T{i:04} [P] Task {i} in `src/mod_{:03}/file_{:02}.rs`", i % 10, i % 100);
    }
    plan
}

/// Makes `n` tasks active in the repository at `dir`: T0000 started for
/// real, the others written into the state as copies of it, each locking a
/// file, a directory and a glob, with an (empty) worktree directory.
fn active_tasks(dir: &Path, n: usize) -> Result<()> {
    par(dir, &["start", "T0000"])?;
    let state_path = dir.join(".git/par/state.json");
    let mut state: serde_json::Value = serde_json::from_slice(&fs::read(&state_path)?)?;
    let tasks = state["tasks"].as_object_mut().ok_or("no tasks in state")?;
    let template = tasks.get("T0000").cloned().ok_or("T0000 not started")?;
    let worktrees = dir.with_extension("par");
    for i in 1..n {
        let id = format!("T{i:04}");
        let worktree = worktrees.join(&id);
        fs::create_dir_all(&worktree)?;
        let mut task = template.clone();
        task["id"] = id.clone().into();
        task["branch"] = format!("par/{id}").into();
        task["worktree"] = worktree.display().to_string().into();
        task["locks"] = serde_json::json!([
            format!("state/{id}.txt"),
            format!("docs/{id}/"),
            format!("src/mod_{:03}/gen_{id}_[5-9]*.rs", i % 10),
        ]);
        tasks.insert(id, task);
    }
    fs::write(&state_path, serde_json::to_vec(&state)?)?;
    Ok(())
}

/// The hot paths as active tasks grow: `check --staged` on main with 1,000
/// active tasks against plain git, and against the same check with 10
/// active tasks (alternating, so the ratio is what the thousand tasks add:
/// the hook reads the lock index, not the state); and `start` with 10 and
/// with 1,000 active tasks on the same plan, alternating, so that what
/// `start` adds per active task shows as the ratio. The tasks are written
/// into the state directly, so the first check (a warm-up run) finds no
/// lock index and makes it.
fn scale(base: &Path, report: &mut Report) -> Result<()> {
    eprintln!("1,000 active tasks: check --staged, start");
    let plan = ("specs/001-bench/tasks.md".to_string(), scale_plan());
    let (dir, few_dir) = (base.join("scale-check"), base.join("scale-check-10"));
    for (dir, n) in [(&dir, 1_000), (&few_dir, 10)] {
        big_repo(dir, 10_000, &[plan.clone(), ("README.md".to_string(), "bench\n".to_string())])?;
        active_tasks(dir, n)?;
        fs::write(dir.join("README.md"), "bench, changed\n")?;
        git(dir, &["add", "README.md"])?;
    }
    let check = median(51, || par(&dir, &["check", "--staged"]))?;
    let plain = median(51, || git(&dir, &["diff", "--cached", "--name-only"]))?;
    report.row(
        "check --staged on main, 10k files, 1,000 active tasks (vs git diff --cached --name-only)",
        check,
        Some(plain),
        "≤ 1.5×",
    );
    let (mut few_checks, mut many_checks) = (Vec::new(), Vec::new());
    par(&few_dir, &["check", "--staged"])?;
    par(&dir, &["check", "--staged"])?;
    for _ in 0..51 {
        for (dir, times) in [(&few_dir, &mut few_checks), (&dir, &mut many_checks)] {
            let t = Instant::now();
            par(dir, &["check", "--staged"])?;
            times.push(t.elapsed());
        }
    }
    report.row(
        "check --staged on main with 1,000 active tasks (vs the same check with 10), 10k files",
        median_of(many_checks),
        Some(median_of(few_checks)),
        "flat (≈ 1×)",
    );

    let (few, many) = (base.join("scale-start-10"), base.join("scale-start-1000"));
    for (dir, n) in [(&few, 10), (&many, 1_000)] {
        big_repo(dir, 1_000, std::slice::from_ref(&plan))?;
        active_tasks(dir, n)?;
    }
    let runs = 11;
    let (mut few_times, mut many_times) = (Vec::new(), Vec::new());
    for i in 0..=runs {
        let id = format!("T{:04}", 1_001 + i);
        for (dir, times) in [(&few, &mut few_times), (&many, &mut many_times)] {
            let t = Instant::now();
            par(dir, &["start", &id])?;
            times.push(t.elapsed());
        }
    }
    for times in [&mut few_times, &mut many_times] {
        times.remove(0);
        times.sort();
    }
    report.row(
        "start with 1,000 active tasks (vs the same start with 10), 1k files",
        many_times[runs / 2],
        Some(few_times[runs / 2]),
        "flat (≈ 1×)",
    );
    Ok(())
}
