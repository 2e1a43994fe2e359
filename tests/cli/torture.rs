//! Torture (DESIGN §4–6, §10): real `git-par` processes racing start,
//! commit (through the installed pre-commit hook), finish and abort over a
//! 200-task plan whose paths overlap; and `kill -9` at random moments of
//! start, finish and abort, each followed by `git par doctor --repair`.
//!
//! Some workers take routes the pre-commit hook never sees: a commit with
//! `--no-verify`, a patch applied with `git am`, another task's commit
//! brought in with `git cherry-pick`. Whatever they bring outside the task's
//! own locks must be refused by `finish` (exit 1 or 3), and lands once taken
//! out again; what they bring inside them lands as usual.
//!
//! Checked while it runs (a checker thread samples `state.json` and `git
//! worktree list` every few milliseconds, and every worker checks after each
//! operation): no two active tasks hold overlapping locks. Checked at the end
//! (and after every repair): every landed task is on main exactly once and
//! ticked exactly once; no orphan worktree, branch or journal; no lock stuck;
//! every committed line of a landed task is on main and none of an aborted
//! one; every commit is reachable; `git fsck --strict` is clean; main's
//! worktree is clean. And on main's history (its reflog, every move): each
//! landing changed only paths within its task's locks, and no two tasks that
//! were active at the same time changed one path. The crash runs act as the person only where git
//! itself needs one: a lock file a killed git left (`index.lock`,
//! `packed-refs.lock`, `main.lock`), which doctor names, is removed by hand
//! and counted.
//!
//! The last section pins down, one test each, what the long runs found.
//!
//! The short versions run in `cargo test`. The long ones run for a while:
//!
//! ```sh
//! GIT_PAR_TORTURE_SECS=420 cargo test --test cli torture -- --ignored --nocapture
//! ```
//!
//! (`GIT_PAR_TORTURE_SECS` is the time each long test runs, default 300;
//! every run prints its seed, and `GIT_PAR_TORTURE_SEED=N` replays its plan
//! and choices; the moments of the kills depend on the machine.
//! `GIT_PAR_TORTURE_KEEP=DIR` keeps a failed race's repository in DIR, to
//! read its state, events and main's reflog. Failures that hang on timing
//! show up fastest with three races run side by side on a busy machine.)

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use git_par::locks::Pattern;
use git_par::state::{Lock, ParDir};
use serde_json::Value;

use crate::common::{Run, TestRepo, TASKS_FILE};

const DIRS: usize = 8;
const FILES: usize = 5;
const TASK_COUNT: usize = 200;

// ---------------------------------------------------------------------------
// Seeded randomness.

/// splitmix64: small, seedable, good enough to pick tasks and delays.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `GIT_PAR_TORTURE_SEED`, else a fresh one; printed so a failure can be replayed.
fn seed(test: &str) -> u64 {
    let seed = std::env::var("GIT_PAR_TORTURE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        nanos ^ u64::from(std::process::id()).rotate_left(32)
    });
    eprintln!("{test}: seed {seed} (replay with GIT_PAR_TORTURE_SEED={seed})");
    seed
}

/// How long a long test runs: `GIT_PAR_TORTURE_SECS`, default 300.
fn long_run() -> Duration {
    let secs = std::env::var("GIT_PAR_TORTURE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    Duration::from_secs(secs)
}

// ---------------------------------------------------------------------------
// The plan: 200 [P] tasks over 40 files in 8 directories.

/// One path a task declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decl {
    /// `src/d3/f2.txt`
    File(usize, usize),
    /// `src/d3/`
    Dir(usize),
    /// `src/d3/*.txt`
    DirGlob(usize),
    /// `src/**/f2.txt`
    DeepGlob(usize),
}

fn file(dir: usize, n: usize) -> String {
    format!("src/d{dir}/f{n}.txt")
}

impl Decl {
    fn pattern(self) -> String {
        match self {
            Decl::File(d, f) => file(d, f),
            Decl::Dir(d) => format!("src/d{d}/"),
            Decl::DirGlob(d) => format!("src/d{d}/*.txt"),
            Decl::DeepGlob(f) => format!("src/**/f{f}.txt"),
        }
    }

    /// A file this declaration lets `id` write, picked at random.
    fn target(self, rng: &mut Rng, id: &str) -> String {
        match self {
            Decl::File(d, f) => file(d, f),
            Decl::Dir(d) if rng.chance(30) => format!("src/d{d}/new-{id}.txt"),
            Decl::Dir(d) | Decl::DirGlob(d) => file(d, rng.below(FILES)),
            Decl::DeepGlob(f) => file(rng.below(DIRS), f),
        }
    }
}

#[derive(Debug, Clone)]
struct PlanTask {
    id: String,
    decls: Vec<Decl>,
    patterns: Vec<Pattern>,
}

impl PlanTask {
    fn overlaps(&self, other: &PlanTask) -> bool {
        self.patterns.iter().any(|a| other.patterns.iter().any(|b| a.overlaps(b)))
    }

    fn allows(&self, path: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(path))
    }
}

fn plan(rng: &mut Rng) -> Vec<PlanTask> {
    (1..=TASK_COUNT)
        .map(|n| {
            let mut decls = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let decl = match rng.below(100) {
                    0..=71 => Decl::File(rng.below(DIRS), rng.below(FILES)),
                    72..=83 => Decl::Dir(rng.below(DIRS)),
                    84..=96 => Decl::DirGlob(rng.below(DIRS)),
                    _ => Decl::DeepGlob(rng.below(FILES)),
                };
                if !decls.contains(&decl) {
                    decls.push(decl);
                }
            }
            let patterns = decls.iter().map(|d| Pattern::new(&d.pattern()).expect("pattern")).collect();
            PlanTask { id: format!("T{n:03}"), decls, patterns }
        })
        .collect()
}

fn markdown(tasks: &[PlanTask]) -> String {
    let mut md = String::from("# Tasks: Torture\n\n## Phase 1: Everything at once\n\n");
    for task in tasks {
        let paths: Vec<String> = task.decls.iter().map(|d| format!("`{}`", d.pattern())).collect();
        md.push_str(&format!("- [ ] {} [P] Update {}\n", task.id, paths.join(", ")));
    }
    md
}

/// A repository holding the plan and the 40 files, with the hook installed.
struct Torture {
    repo: TestRepo,
    tasks: Vec<PlanTask>,
}

impl Torture {
    fn new(rng: &mut Rng) -> Torture {
        let tasks = plan(rng);
        let md = markdown(&tasks);
        let mut files =
            vec![(TASKS_FILE.to_string(), md), ("README.md".to_string(), "torture\n".to_string())];
        for d in 0..DIRS {
            for f in 0..FILES {
                files.push((file(d, f), format!("d{d} f{f}\n")));
            }
        }
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
        let repo = TestRepo::with_files(&refs);
        repo.par(&["hook", "install"]).success();
        let t = Torture { repo, tasks };
        // git-par reads the plan as written.
        let listed = t.repo.par(&["--json", "list"]).success().json();
        let listed = listed["tasks"].as_array().expect("tasks");
        assert_eq!(listed.len(), TASK_COUNT);
        for (task, seen) in t.tasks.iter().zip(listed) {
            let paths: Vec<String> = task.decls.iter().map(|d| d.pattern()).collect();
            assert_eq!(seen["id"], task.id.as_str());
            assert_eq!(seen["paths"], serde_json::json!(paths), "{}", task.id);
            assert_eq!(seen["deps"], serde_json::json!([]), "{}", task.id);
        }
        t
    }

    fn task(&self, id: &str) -> &PlanTask {
        self.tasks.iter().find(|t| t.id == id).expect("task of the plan")
    }

    fn state_path(&self) -> PathBuf {
        self.repo.path(".git/par/state.json")
    }

    /// The active tasks of `state.json` (none when it does not exist yet).
    fn state(&self) -> Result<BTreeMap<String, Value>, String> {
        read_state(&self.state_path())
    }
}

fn read_state(path: &Path) -> Result<BTreeMap<String, Value>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("reading state.json: {e}")),
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("state.json does not parse ({e}):\n{text}"))?;
    let tasks = value["tasks"].as_object().ok_or_else(|| format!("state.json has no tasks:\n{text}"))?;
    Ok(tasks.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// The first pair of active tasks whose locks overlap, if any.
fn overlap(state: &BTreeMap<String, Value>) -> Option<String> {
    let mut locks = Vec::new();
    for (id, task) in state {
        let patterns: Vec<Pattern> = task["locks"]
            .as_array()
            .map(|a| a.iter().filter_map(|l| Pattern::compile(l.as_str()?.to_string()).ok()).collect())
            .unwrap_or_default();
        locks.push((id, patterns));
    }
    for (i, (a, pa)) in locks.iter().enumerate() {
        for (b, pb) in &locks[i + 1..] {
            for x in pa {
                if let Some(y) = pb.iter().find(|y| x.overlaps(y)) {
                    return Some(format!(
                        "{a} and {b} are active together with overlapping locks {} and {}",
                        x.as_str(),
                        y.as_str()
                    ));
                }
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// What the workers did, to check against the repository.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    Merge,
    Ff,
    Squash,
    Rebase,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::Merge => "merge",
            Strategy::Ff => "ff",
            Strategy::Squash => "squash",
            Strategy::Rebase => "rebase",
        }
    }

    fn random(rng: &mut Rng) -> Strategy {
        match rng.below(10) {
            0..=5 => Strategy::Merge,
            6 => Strategy::Ff,
            7 => Strategy::Rebase,
            _ => Strategy::Squash,
        }
    }
}

/// One start of a task and the work committed in it.
#[derive(Debug, Clone)]
struct Incarnation {
    id: String,
    worktree: PathBuf,
    /// Commits made in the worktree, oldest first.
    commits: Vec<String>,
    /// (file, line) appended by those commits.
    lines: Vec<(String, String)>,
    strategy: Option<Strategy>,
    /// The commit it started from, when known from the state.
    base: Option<String>,
    /// Landed through a finish with a verify that recorded the trees it saw.
    verified: bool,
}

impl Incarnation {
    fn new(id: &str, worktree: PathBuf) -> Incarnation {
        Incarnation {
            id: id.to_string(),
            worktree,
            commits: Vec::new(),
            lines: Vec::new(),
            strategy: None,
            base: None,
            verified: false,
        }
    }
}

/// Unique line labels across all workers.
static SERIAL: AtomicU64 = AtomicU64::new(0);

/// Appends a unique line to files the task may write, commits through the
/// hook, and records the commit. Returns a failure description.
fn commit_work(t: &Torture, rng: &mut Rng, inc: &mut Incarnation) -> Result<(), String> {
    let task = t.task(&inc.id).clone();
    let mut targets = BTreeSet::new();
    for decl in &task.decls {
        targets.insert(decl.target(rng, &inc.id));
    }
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    let mut appended = Vec::new();
    for target in &targets {
        assert!(task.allows(target), "{target} is not in {}'s locks", inc.id);
        let line = format!("{} line {serial}", inc.id);
        let path = inc.worktree.join(target);
        std::fs::create_dir_all(path.parent().expect("parent")).map_err(|e| format!("mkdir: {e}"))?;
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&line);
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        appended.push((target.clone(), line));
    }
    expect_git(t, &inc.worktree, &["add", "-A"])?;
    let message = format!("{}: work {serial}", inc.id);
    expect_git(t, &inc.worktree, &["commit", "-q", "-m", &message])
        .map_err(|e| format!("a commit inside {}'s locks was refused: {e}", inc.id))?;
    let oid = expect_git(t, &inc.worktree, &["rev-parse", "HEAD"])?.trim().to_string();
    inc.commits.push(oid);
    inc.lines.extend(appended);
    Ok(())
}

/// A route around the pre-commit hook: a commit with `--no-verify`, a
/// patch applied with `git am`, or another active task's commit brought in
/// with `git cherry-pick`. What lies outside the task's locks must not land:
/// `finish` is tried and must refuse (exit 1 or 3), then the change is taken
/// out again. What lies inside them stays, and lands with the task. Returns
/// what was done, to count.
fn bypass(t: &Torture, rng: &mut Rng, inc: &mut Incarnation) -> Result<Bypass, String> {
    let task = t.task(&inc.id).clone();
    let wt = inc.worktree.clone();
    let before = expect_git(t, &wt, &["rev-parse", "HEAD"])?.trim().to_string();
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    let route = rng.below(3);
    let (what, foreign, line) = if route == 2 {
        // Another active task's latest commit.
        let others: Vec<String> =
            expect_git(t, &t.repo.root, &["branch", "--list", "par/*", "--format=%(refname:short)"])?
                .lines()
                .filter(|b| *b != format!("par/{}", inc.id))
                .map(str::to_string)
                .collect();
        if others.is_empty() {
            return Ok(Bypass::Skipped);
        }
        let other = rng.pick(&others).clone();
        let tip = match t
            .repo
            .try_git_in(&t.repo.root, &["rev-parse", "--verify", "-q", &format!("{other}^{{commit}}")])
        {
            run if run.code == 0 => run.stdout.trim().to_string(),
            _ => return Ok(Bypass::Skipped),
        };
        // Only the other task's own work: commits on its branch, not main's.
        let mine = t.repo.try_git_in(&t.repo.root, &["merge-base", "--is-ancestor", &tip, "main"]);
        if mine.code == 0 {
            return Ok(Bypass::Skipped);
        }
        let picked = t.repo.try_git_in(&wt, &["cherry-pick", "--allow-empty", &tip]);
        if picked.code != 0 {
            let _ = t.repo.try_git_in(&wt, &["cherry-pick", "--abort"]);
            expect_git(t, &wt, &["reset", "-q", "--hard", &before])?;
            return Ok(Bypass::Done("cherry-picks that did not apply"));
        }
        ("cherry-picked another task's commit", true, Some((other, String::new())))
    } else {
        // Outside the locks most of the time, inside them sometimes.
        let inside = rng.chance(25);
        let target = if inside {
            task.decls[rng.below(task.decls.len())].target(rng, &inc.id)
        } else {
            match (0..20).map(|_| file(rng.below(DIRS), rng.below(FILES))).find(|f| !task.allows(f)) {
                Some(f) => f,
                None => return Ok(Bypass::Skipped),
            }
        };
        let line = format!("{} bypass {serial}", inc.id);
        let path = wt.join(&target);
        std::fs::create_dir_all(path.parent().expect("parent")).map_err(|e| format!("mkdir: {e}"))?;
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&line);
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        expect_git(t, &wt, &["add", "-A"])?;
        let message = format!("{}: around the hook {serial}", inc.id);
        expect_git(t, &wt, &["commit", "-q", "--no-verify", "-m", &message])?;
        if route == 1 {
            // The same change, as a patch someone sent: `git am` runs no pre-commit hook.
            let patch = expect_git(t, &wt, &["format-patch", "-1", "--stdout"])?;
            let file = t.repo.tmp.path().join(format!("patch-{serial}"));
            std::fs::write(&file, patch).map_err(|e| format!("writing {}: {e}", file.display()))?;
            expect_git(t, &wt, &["reset", "-q", "--hard", &before])?;
            expect_git(t, &wt, &["am", "-q", file.to_str().expect("utf-8 path")])?;
        }
        let what = match (route, inside) {
            (0, true) => "--no-verify commits inside the locks",
            (0, false) => "--no-verify commits outside the locks",
            (_, true) => "git am patches inside the locks",
            (_, false) => "git am patches outside the locks",
        };
        (what, !inside, Some((target, line)))
    };
    let after = expect_git(t, &wt, &["rev-parse", "HEAD"])?.trim().to_string();
    if !foreign {
        inc.commits.push(after);
        inc.lines.extend(line);
        return Ok(Bypass::Done(what));
    }
    let run = t.repo.par(&["finish", &inc.id]);
    if run.code == 0 && route == 2 {
        // The picked task landed meanwhile: main has its change, so the
        // merge of main leaves nothing foreign to land. Only then.
        let other = line.map(|(branch, _)| branch).unwrap_or_default();
        let other_id = other.trim_start_matches("par/");
        let landed = expect_git(
            t,
            &t.repo.root,
            &["log", "main", "--format=%H", "--grep", &format!("^Par-Task: {other_id}$")],
        )?;
        if !landed.trim().is_empty() {
            inc.commits.push(after);
            return Ok(Bypass::Landed("cherry-picks of a task that landed meanwhile, landed with it"));
        }
        // Or the picked commit brought nothing outside this task's own
        // locks (an empty commit, tasks.md only, a change this branch already
        // had): then nothing foreign could land.
        let brought = expect_git(t, &wt, &["diff", "--name-only", &before, &after])?;
        if brought.lines().all(|path| path == TASKS_FILE || task.allows(path)) {
            inc.commits.push(after);
            return Ok(Bypass::Landed("cherry-picks that brought nothing foreign, landed"));
        }
        return Err(fail(&format!("finish {} after it {what} from {other} must be refused", inc.id), &run));
    }
    // Refused for the foreign paths, or before that for a conflict with main
    // over them (another task changed that file meanwhile): nothing lands.
    let refused = (run.code == 1 || run.code == 3)
        && run.stderr.lines().any(|l| {
            l.starts_with(&format!("error: {} cannot land: it changes ", inc.id))
                || l.starts_with(&format!("error: {} conflicts with main in ", inc.id))
        });
    if !refused {
        return Err(fail(&format!("finish {} after it {what} must be refused", inc.id), &run));
    }
    if expect_git(t, &wt, &["rev-parse", "HEAD"])?.trim() != after {
        return Err(format!("the refused finish of {} moved its branch", inc.id));
    }
    expect_git(t, &wt, &["reset", "-q", "--hard", &before])?;
    Ok(Bypass::Done(what))
}

/// What [`bypass`] did.
enum Bypass {
    /// Nothing (no route fit).
    Skipped,
    /// Took a route; the task is as it was, or has the change if it lies within its locks.
    Done(&'static str),
    /// The task landed (a cherry-pick whose task had landed meanwhile).
    Landed(&'static str),
}

/// Stages a file outside the task's locks: the hook must refuse the commit,
/// naming it. Puts the worktree back afterwards.
fn probe_hook(t: &Torture, rng: &mut Rng, inc: &Incarnation) -> Result<(), String> {
    let task = t.task(&inc.id);
    let outside = (0..20).map(|_| file(rng.below(DIRS), rng.below(FILES))).find(|f| !task.allows(f));
    let Some(outside) = outside else { return Ok(()) };
    let path = inc.worktree.join(&outside);
    let mut text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    text.push_str("not mine\n");
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    expect_git(t, &inc.worktree, &["add", "-A"])?;
    let run = t.repo.try_git_in(&inc.worktree, &["commit", "-q", "-m", "outside the locks"]);
    let refused = run.code == 1 && run.stderr.contains(&outside);
    expect_git(t, &inc.worktree, &["reset", "-q", "--hard"])?;
    if refused {
        Ok(())
    } else {
        Err(format!("the hook let {} commit {outside}, outside its locks: {}", inc.id, run.snapshot()))
    }
}

fn expect_git(t: &Torture, dir: &Path, args: &[&str]) -> Result<String, String> {
    let run = t.repo.try_git_in(dir, args);
    if run.code == 0 {
        Ok(run.stdout)
    } else {
        Err(format!("git {args:?} in {} failed:\n{}", dir.display(), run.snapshot()))
    }
}

fn fail(what: &str, run: &Run) -> String {
    format!("{what}:\n{}", run.snapshot())
}

/// Who the repository should agree with at the end.
#[derive(Debug, Default)]
struct Ledger {
    landed: BTreeMap<String, Incarnation>,
    aborted: Vec<Incarnation>,
    /// Tasks active now (the crash test's model; empty at the end of a race).
    active: BTreeMap<String, Incarnation>,
    counts: BTreeMap<&'static str, usize>,
}

impl Ledger {
    fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }
}

// ---------------------------------------------------------------------------
// The checks.

/// Everything that must hold when no git-par process is running.
/// A verify command that records `<task> <tree>` of what it runs on.
fn verify_recording(t: &Torture) -> String {
    format!("echo \"$GIT_PAR_TASK $(git rev-parse 'HEAD^{{tree}}')\" >> '{}'", verified_log(t).display())
}

fn verified_log(t: &Torture) -> PathBuf {
    t.repo.root.parent().expect("parent").join("verified-trees")
}

/// Main moved to a landing of a verified task only with a tree a verify saw.
fn check_verified(t: &Torture, ledger: &Ledger) -> Result<(), String> {
    let seen: BTreeSet<String> = std::fs::read_to_string(verified_log(t))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect();
    let log = expect_git(
        t,
        &t.repo.root,
        &["log", "--first-parent", "--format=%T %(trailers:key=Par-Task,valueonly,separator=)", "main"],
    )?;
    for line in log.lines() {
        let mut parts = line.split_whitespace();
        let (Some(tree), Some(task)) = (parts.next(), parts.next()) else { continue };
        if ledger.landed.get(task).is_some_and(|inc| inc.verified) && !seen.contains(tree) {
            return Err(format!("{task} landed tree {tree}, which no verify saw"));
        }
    }
    Ok(())
}

fn check_quiescent(t: &Torture, ledger: &Ledger, fsck: bool) -> Result<(), String> {
    let repo = &t.repo;
    check_verified(t, ledger)?;
    let state = t.state()?;
    if let Some(problem) = overlap(&state) {
        return Err(problem);
    }
    if crate::common::state::lock_index_agrees(&repo.path(".git/par")) == Some(false) {
        return Err("the lock index disagrees with the state".into());
    }

    // The active tasks are exactly the expected ones, each with its worktree
    // (clean, on its branch) and its branch; no lock is stuck.
    let expected: BTreeSet<&String> = ledger.active.keys().collect();
    let active: BTreeSet<&String> = state.keys().collect();
    if active != expected {
        return Err(format!("active tasks {active:?}, expected {expected:?}"));
    }
    for (id, task) in &state {
        let inc = &ledger.active[id];
        if task["state"] != "active" {
            return Err(format!("{id} is {} with no git-par running", task["state"]));
        }
        let wt = PathBuf::from(task["worktree"].as_str().unwrap_or_default());
        if wt != repo.worktree(id) || !wt.join(".git").exists() {
            return Err(format!("{id}'s worktree {} is missing", wt.display()));
        }
        let head = expect_git(t, &wt, &["symbolic-ref", "HEAD"])?;
        if head.trim() != format!("refs/heads/par/{id}") {
            return Err(format!("{id}'s worktree has {} checked out", head.trim()));
        }
        let status = expect_git(t, &wt, &["status", "--porcelain", "--untracked-files=all"])?;
        if !status.is_empty() {
            return Err(format!("{id}'s worktree is not clean:\n{status}"));
        }
        let tip = expect_git(t, &wt, &["rev-parse", &format!("refs/heads/par/{id}")])?;
        let want = match inc.commits.last() {
            Some(last) => last.clone(),
            None => task["base"].as_str().unwrap_or_default().to_string(),
        };
        if tip.trim() != want {
            return Err(format!("par/{id} is at {}, its last commit is {want}", tip.trim()));
        }
    }
    let branches: BTreeSet<String> =
        expect_git(t, &repo.root, &["branch", "--list", "par/*", "--format=%(refname:short)"])?
            .lines()
            .map(str::to_string)
            .collect();
    let want: BTreeSet<String> = state.keys().map(|id| format!("par/{id}")).collect();
    if branches != want {
        return Err(format!("task branches {branches:?}, active tasks {want:?}"));
    }
    let listed = expect_git(t, &repo.root, &["worktree", "list", "--porcelain"])?;
    let worktrees: BTreeSet<String> =
        listed.lines().filter_map(|l| l.strip_prefix("worktree ")).map(str::to_string).collect();
    let mut want: BTreeSet<String> = state.keys().map(|id| repo.worktree(id).display().to_string()).collect();
    want.insert(repo.root.display().to_string());
    if worktrees != want {
        return Err(format!("git's worktrees {worktrees:?}, expected {want:?}:\n{listed}"));
    }
    let dir = repo.worktree("T001").parent().expect("parent").to_path_buf();
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned())).collect())
        .unwrap_or_default();
    let want: BTreeSet<String> = state.keys().cloned().collect();
    if on_disk != want {
        return Err(format!("{} holds {on_disk:?}, active tasks {want:?}", dir.display()));
    }
    let journal: Vec<String> = std::fs::read_dir(repo.path(".git/par/journal"))
        .map(|d| d.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned())).collect())
        .unwrap_or_default();
    if !journal.is_empty() {
        return Err(format!("journals left: {journal:?}"));
    }

    // Every landed task is on main exactly once, and ticked exactly once.
    let trailers =
        expect_git(t, &repo.root, &["log", "main", "--format=%(trailers:key=Par-Task,valueonly)"])?;
    let mut on_main: BTreeMap<String, usize> = BTreeMap::new();
    for id in trailers.lines().map(str::trim).filter(|l| !l.is_empty()) {
        *on_main.entry(id.to_string()).or_default() += 1;
    }
    if let Some((id, n)) = on_main.iter().find(|(_, n)| **n > 1) {
        return Err(format!("{id} landed {n} times"));
    }
    let landed: BTreeSet<&String> = ledger.landed.keys().collect();
    if on_main.keys().collect::<BTreeSet<_>>() != landed {
        return Err(format!(
            "tasks on main {:?}, tasks landed {landed:?}",
            on_main.keys().collect::<Vec<_>>()
        ));
    }
    let tasks_md = expect_git(t, &repo.root, &["show", &format!("main:{TASKS_FILE}")])?;
    if repo.read(TASKS_FILE) != tasks_md {
        return Err("the main worktree's tasks.md differs from main's".to_string());
    }
    let lines: Vec<&str> = tasks_md.lines().collect();
    for task in &t.tasks {
        let id = &task.id;
        let done = lines.iter().filter(|l| l.starts_with(&format!("- [X] {id} "))).count();
        let todo = lines.iter().filter(|l| l.starts_with(&format!("- [ ] {id} "))).count();
        let results = match lines.iter().position(|l| l.starts_with("- [") && l[6..].starts_with(id.as_str()))
        {
            Some(at) => lines[at + 1..]
                .iter()
                .take_while(|l| !l.starts_with("- ["))
                .filter(|l| l.starts_with("  - par: "))
                .count(),
            None => 0,
        };
        let want = if ledger.landed.contains_key(id) { (1, 0, 1) } else { (0, 1, 0) };
        if (done, todo, results) != want {
            return Err(format!("{id} appears in tasks.md as ({done} done, {todo} todo, {results} result lines), expected {want:?}"));
        }
    }
    let par_lines = lines.iter().filter(|l| l.starts_with("  - par: ")).count();
    if par_lines != ledger.landed.len() {
        return Err(format!("{par_lines} result lines for {} landed tasks", ledger.landed.len()));
    }
    let status = expect_git(t, &repo.root, &["status", "--porcelain", "--untracked-files=all"])?;
    if !status.is_empty() {
        return Err(format!("the main worktree is not clean:\n{status}"));
    }

    // No work lost: landed lines are on main once, aborted ones nowhere; the
    // commits of merged and fast-forwarded tasks are in main's history.
    let mut content: BTreeMap<String, String> = BTreeMap::new();
    for path in expect_git(t, &repo.root, &["ls-tree", "-r", "--name-only", "main", "src"])?.lines() {
        content.insert(path.to_string(), repo.read(path));
    }
    let count = |path: &str, line: &str| {
        content.get(path).map_or(0, |text| text.lines().filter(|l| *l == line).count())
    };
    for inc in ledger.landed.values() {
        for (path, line) in &inc.lines {
            if count(path, line) != 1 {
                return Err(format!(
                    "{}'s line {line:?} is on main {} times in {path}",
                    inc.id,
                    count(path, line)
                ));
            }
        }
    }
    for inc in &ledger.aborted {
        for (path, line) in &inc.lines {
            if count(path, line) != 0 {
                return Err(format!("aborted {}'s line {line:?} is on main in {path}", inc.id));
            }
        }
    }
    let history: BTreeSet<String> =
        expect_git(t, &repo.root, &["rev-list", "main"])?.lines().map(str::to_string).collect();
    // Rebased (and ff when main had moved) commits land as copies: same
    // message, new hash.
    let subjects: BTreeSet<String> = expect_git(t, &repo.root, &["log", "--format=%B%x00", "main"])?
        .split('\0')
        .map(|m| m.trim().to_string())
        .collect();
    for inc in ledger.landed.values().filter(|i| i.strategy != Some(Strategy::Squash)) {
        let replayed = matches!(inc.strategy, Some(Strategy::Rebase | Strategy::Ff));
        for commit in &inc.commits {
            if history.contains(commit) {
                continue;
            }
            let message = expect_git(t, &repo.root, &["log", "-1", "--format=%B", commit])?;
            let message = message.trim();
            let copied =
                subjects.iter().any(|m| m == message || m.starts_with(&format!("{message}\n\nPar-Task: ")));
            if !(replayed && copied) {
                return Err(format!("{}'s commit {commit} is not in main's history", inc.id));
            }
        }
    }
    check_history(t, ledger)?;
    if fsck {
        expect_git(t, &repo.root, &["fsck", "--no-progress", "--strict"])?;
    }
    Ok(())
}

/// The lock invariant on main's history, not only on the state: main's
/// reflog lists every move of main; each move is a landing (its message
/// names the task). A landing's changes (main before it to main after it,
/// tasks.md aside) lie within its task's locks; and two tasks active at the
/// same time (each started before the other landed, by the main tip it
/// started from) changed no path in common.
fn check_history(t: &Torture, ledger: &Ledger) -> Result<(), String> {
    let repo = git2::Repository::open(&t.repo.root).map_err(|e| format!("opening the repository: {e}"))?;
    let reflog = repo.reflog("refs/heads/main").map_err(|e| format!("reading main's reflog: {e}"))?;
    // Oldest first: (main before, main after, task).
    let mut moves: Vec<(git2::Oid, git2::Oid, Option<String>)> = Vec::new();
    for entry in reflog.iter() {
        let message = entry.message().unwrap_or_default().to_string();
        let task =
            message.strip_prefix("git-par finish ").and_then(|m| m.split(':').next()).map(str::to_string);
        moves.push((entry.id_old(), entry.id_new(), task));
    }
    moves.reverse();
    let position: BTreeMap<git2::Oid, usize> =
        moves.iter().enumerate().map(|(i, (_, new, _))| (*new, i)).collect();
    let events = std::fs::read_to_string(t.repo.path(".git/par/events.jsonl")).unwrap_or_default();
    // A start killed after recording its task but before its event, which
    // doctor kept, has no start event: its base was read from the state.
    // The last start of a task is the one that landed: a task aborted and
    // started again was not active in between.
    let mut base_of: BTreeMap<String, String> = BTreeMap::new();
    for line in events.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else { continue };
        if event["event"] == "start" {
            if let (Some(task), Some(base)) = (event["task"].as_str(), event["base"].as_str()) {
                base_of.insert(task.to_string(), base.to_string());
            }
        }
    }
    base_of.extend(ledger.landed.values().filter_map(|i| Some((i.id.clone(), i.base.clone()?))));
    // (task, main position it started at, position it landed at, paths changed)
    let mut landings: Vec<(String, usize, usize, BTreeSet<String>)> = Vec::new();
    for (i, (old, new, task)) in moves.iter().enumerate() {
        if old.is_zero() {
            continue;
        }
        let Some(task) = task else {
            return Err(format!("main moved to {new} by something other than a landing"));
        };
        let tree = |oid: &git2::Oid| repo.find_commit(*oid).and_then(|c| c.tree()).map_err(|e| e.to_string());
        let changed = |from: &git2::Oid, to: &git2::Oid| -> Result<BTreeSet<String>, String> {
            let diff = repo
                .diff_tree_to_tree(Some(&tree(from)?), Some(&tree(to)?), None)
                .map_err(|e| format!("diffing {from}..{to}: {e}"))?;
            let mut paths = BTreeSet::new();
            for delta in diff.deltas() {
                for file in [delta.old_file(), delta.new_file()] {
                    if let Some(path) = file.path().and_then(|p| p.to_str()) {
                        if path != TASKS_FILE {
                            paths.insert(path.to_string());
                        }
                    }
                }
            }
            Ok(paths)
        };
        // One move of main may land several tasks (a batch, or a train
        // entry landing those ahead of it along): each its own landing
        // commit on main's first-parent line, with its trailer.
        let mut parts: Vec<(String, BTreeSet<String>)> = Vec::new();
        if task.contains(' ') {
            let mut line = Vec::new();
            let mut at = *new;
            while at != *old {
                let commit = repo.find_commit(at).map_err(|e| format!("reading {at}: {e}"))?;
                line.push(at);
                at = commit.parent_id(0).map_err(|_| format!("{new} does not descend from {old}"))?;
            }
            line.reverse();
            let mut from = *old;
            for commit in line {
                let message =
                    repo.find_commit(commit).map_err(|e| e.to_string())?.message().unwrap_or("").to_string();
                if let Some(id) = message.lines().find_map(|l| l.strip_prefix("Par-Task: ")) {
                    parts.push((id.trim().to_string(), changed(&from, &commit)?));
                    from = commit;
                }
            }
            let named: Vec<&str> = task.split_whitespace().collect();
            let found: Vec<&str> = parts.iter().map(|(id, _)| id.as_str()).collect();
            if named != found {
                return Err(format!("main's move to {new} names {named:?} but lands {found:?}"));
            }
        } else {
            parts.push((task.clone(), changed(old, new)?));
        }
        for (task, paths) in parts {
            let plan = t.task(&task);
            if let Some(outside) = paths.iter().find(|p| !plan.allows(p)) {
                return Err(format!("the landing of {task} ({new}) changed {outside}, outside its locks"));
            }
            let started = base_of
                .get(&task)
                .and_then(|b| git2::Oid::from_str(b).ok())
                .and_then(|b| {
                    if moves.first().is_some_and(|m| m.0.is_zero() && m.1 == b) {
                        Some(0)
                    } else {
                        position.get(&b).copied()
                    }
                })
                .ok_or_else(|| format!("{task}'s base is not a tip main had"))?;
            landings.push((task, started, i, paths));
        }
    }
    for (i, a) in landings.iter().enumerate() {
        for b in &landings[i + 1..] {
            let concurrent = a.1 < b.2 && b.1 < a.2;
            if let Some(path) = a.3.intersection(&b.3).next().filter(|_| concurrent) {
                return Err(format!(
                    "{} and {} were active together and both changed {path} (main moves: {} started at {}, landed at {}; {} started at {}, landed at {})",
                    a.0, b.0, a.0, a.1, a.2, b.0, b.1, b.2
                ));
            }
        }
    }
    Ok(())
}

/// Samples `state.json` and `git worktree list` until `done`.
fn checker(t: &Torture, done: &AtomicBool, failures: &Mutex<Vec<String>>, samples: &AtomicUsize) {
    let mut n = 0usize;
    while !done.load(Ordering::Relaxed) {
        match t.state() {
            Ok(state) => {
                if let Some(problem) = overlap(&state) {
                    failures.lock().unwrap().push(format!("checker: {problem}"));
                }
                if crate::common::state::lock_index_agrees(&t.repo.path(".git/par")) == Some(false) {
                    failures.lock().unwrap().push("checker: the lock index disagrees with the state".into());
                }
            }
            Err(e) => failures.lock().unwrap().push(format!("checker: {e}")),
        }
        if n % 8 == 0 {
            // Like git-par itself, under its worktrees lock: git's own `worktree
            // list` fails reading a record that a concurrent `add` is writing.
            let par = ParDir::new(t.repo.path(".git/par"));
            let listed = par.with_lock(Lock::Worktrees, || {
                expect_git(t, &t.repo.root, &["worktree", "list", "--porcelain"]).map_err(anyhow::Error::msg)
            });
            match listed.map_err(|e| e.to_string()) {
                Ok(listed) => {
                    let branches: Vec<&str> =
                        listed.lines().filter_map(|l| l.strip_prefix("branch ")).collect();
                    let distinct: BTreeSet<&&str> = branches.iter().collect();
                    if distinct.len() != branches.len() {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("checker: a branch is checked out twice:\n{listed}"));
                    }
                }
                Err(e) => failures.lock().unwrap().push(format!("checker: {e}")),
            }
        }
        n += 1;
        samples.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(3));
    }
}

// ---------------------------------------------------------------------------
// 1. Sixteen workers racing.

/// One worker operation: start a random unlanded task, commit in it (once
/// probing the hook), then finish it (mostly) or abort it. `Ok(false)` when
/// every task has landed.
fn operate(t: &Torture, ledger: &Mutex<Ledger>, rng: &mut Rng) -> Result<bool, String> {
    let candidates: Vec<String> = {
        let ledger = ledger.lock().unwrap();
        t.tasks.iter().map(|t| t.id.clone()).filter(|id| !ledger.landed.contains_key(id)).collect()
    };
    if candidates.is_empty() {
        return Ok(false);
    }
    let id = rng.pick(&candidates).clone();
    operate_on(t, ledger, rng, &id).map(|()| true)
}

fn operate_on(t: &Torture, ledger: &Mutex<Ledger>, rng: &mut Rng, id: &str) -> Result<(), String> {
    let id = id.to_string();
    let run = t.repo.par(&["start", &id]);
    match run.code {
        0 => {}
        3 if run.stderr.starts_with(&format!("error: {id} needs paths another task holds: ")) => {
            ledger.lock().unwrap().count("start busy (exit 3)");
            return Ok(());
        }
        1 if run.stderr.starts_with(&format!("error: {id} is already active"))
            || run.stderr.starts_with(&format!("error: {id} is already done")) =>
        {
            ledger.lock().unwrap().count("start refused (active or done)");
            return Ok(());
        }
        _ => return Err(fail(&format!("start {id}"), &run)),
    }
    ledger.lock().unwrap().count("started");
    let wt = t.repo.worktree(&id);
    if run.stdout != format!("{}\n", wt.display()) {
        return Err(fail(&format!("start {id} printed the wrong worktree"), &run));
    }
    let mut inc = Incarnation::new(&id, wt.clone());
    if rng.chance(15) {
        probe_hook(t, rng, &inc)?;
        ledger.lock().unwrap().count("hook refusals");
    }
    for _ in 0..1 + rng.below(2) {
        commit_work(t, rng, &mut inc)?;
        ledger.lock().unwrap().count("commits");
    }
    if rng.chance(25) {
        match bypass(t, rng, &mut inc)? {
            Bypass::Skipped => {}
            Bypass::Done(what) => ledger.lock().unwrap().count(what),
            Bypass::Landed(what) => {
                inc.strategy = Some(Strategy::Merge);
                let mut ledger = ledger.lock().unwrap();
                ledger.count(what);
                ledger.count("landed");
                if let Some(before) = ledger.landed.insert(id.clone(), inc) {
                    return Err(format!("{id} landed twice (first from {})", before.worktree.display()));
                }
                return Ok(());
            }
        }
    }
    if rng.chance(20) {
        let run = t.repo.par(&["abort", &id]);
        if run.code != 1 || !run.stderr.starts_with(&format!("error: aborting {id} would lose ")) {
            return Err(fail(&format!("abort {id} without --force must refuse to lose its commits"), &run));
        }
        let run = t.repo.par(&["abort", &id, "--force"]);
        if run.code != 0 {
            return Err(fail(&format!("abort {id} --force"), &run));
        }
        let mut ledger = ledger.lock().unwrap();
        ledger.count("aborted");
        ledger.aborted.push(inc);
        return Ok(());
    }
    let strategy = Strategy::random(rng);
    let dir = if rng.chance(30) { wt.clone() } else { t.repo.root.clone() };
    // The verify step: a verify that records the tree it runs on (main may
    // only move to one of those), sometimes failing first, which must leave
    // the task active and main untouched.
    let verify = rng.chance(50).then(|| verify_recording(t));
    if let Some(verify) = verify.as_ref().filter(|_| rng.chance(15)) {
        let failing = format!("{verify}; exit 1");
        let run = t.repo.par_in(&dir, &["finish", &id, "--strategy", strategy.name(), "--verify", &failing]);
        if run.code != 1 || !run.stderr.contains("error: verify failed (exit 1)") {
            return Err(fail(&format!("finish {id} with a failing verify"), &run));
        }
        ledger.lock().unwrap().count("verify failed, task kept");
    }
    let mut args = vec!["finish", id.as_str(), "--strategy", strategy.name()];
    if let Some(verify) = &verify {
        args.extend(["--verify", verify.as_str()]);
    }
    let run = t.repo.par_in(&dir, &args);
    if run.code != 0 {
        return Err(fail(&format!("finish {id} --strategy {}", strategy.name()), &run));
    }
    if run.stderr.contains("warning: could not") {
        return Err(fail(&format!("finish {id} --strategy {} landed with a warning", strategy.name()), &run));
    }
    inc.strategy = Some(strategy);
    inc.verified = verify.is_some();
    let mut ledger = ledger.lock().unwrap();
    ledger.count("landed");
    if let Some(before) = ledger.landed.insert(id.clone(), inc) {
        return Err(format!("{id} landed twice (first from {})", before.worktree.display()));
    }
    Ok(())
}

/// Runs `workers` threads over a fresh repository for `ops` operations each
/// (or until `until`, or until every task has landed), then checks it all.
/// Returns what happened, counted.
fn race(
    test: &str,
    seed: u64,
    workers: usize,
    ops: usize,
    until: Option<Instant>,
) -> BTreeMap<&'static str, usize> {
    let mut rng = Rng(seed);
    let t = Torture::new(&mut rng);
    let ledger = Mutex::new(Ledger::default());
    let failures = Mutex::new(Vec::new());
    let done = AtomicBool::new(false);
    let samples = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| checker(&t, &done, &failures, &samples));
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let mut rng = Rng(seed ^ (w as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
                let (t, ledger, failures) = (&t, &ledger, &failures);
                s.spawn(move || {
                    let mut n = 0;
                    loop {
                        let more = match until {
                            Some(until) => Instant::now() < until,
                            None => n < ops,
                        };
                        if !more || !failures.lock().unwrap().is_empty() {
                            break;
                        }
                        n += 1;
                        let outcome = operate(t, ledger, &mut rng).and_then(|more| {
                            let state = t.state()?;
                            overlap(&state).map_or(Ok(more), Err)
                        });
                        match outcome {
                            Ok(true) => {}
                            Ok(false) => break,
                            Err(e) => {
                                failures.lock().unwrap().push(format!("worker {w}, operation {n}: {e}"))
                            }
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("worker");
        }
        done.store(true, Ordering::Relaxed);
    });
    let mut ledger = ledger.into_inner().unwrap();
    let failures = failures.into_inner().unwrap();
    let samples = samples.load(Ordering::Relaxed);
    eprintln!(
        "{test}: seed {seed}, {workers} workers, {:.1}s, {samples} state samples, {:?}",
        started.elapsed().as_secs_f64(),
        ledger.counts
    );
    let quiescent = if failures.is_empty() { check_quiescent(&t, &ledger, true) } else { Ok(()) };
    if let Some(keep) =
        std::env::var_os("GIT_PAR_TORTURE_KEEP").filter(|_| !failures.is_empty() || quiescent.is_err())
    {
        // A failure seldom replays from its seed alone (the threads' timing
        // decides): keep the repository, its state and events to read.
        let keep = Path::new(&keep).join(seed.to_string());
        let copied = std::process::Command::new("cp").arg("-a").arg(t.repo.tmp.path()).arg(&keep).status();
        eprintln!("{test}: repository kept in {} ({copied:?})", keep.display());
    }
    assert!(failures.is_empty(), "seed {seed}:\n{}", failures.join("\n\n"));
    assert!(samples > 10, "the checker hardly ran");
    assert!(!ledger.landed.is_empty(), "nothing landed");
    if let Err(e) = quiescent {
        panic!("seed {seed}: {e}");
    }
    t.repo.par(&["doctor"]).success();
    *ledger.counts.entry("state samples").or_default() += samples;
    ledger.counts
}

#[test]
fn sixteen_workers_race_over_two_hundred_tasks() {
    race("race", seed("race"), 16, 4, None);
}

/// The long race, repository after repository until the time is up:
/// `GIT_PAR_TORTURE_SECS=420 cargo test --test cli torture -- --ignored --nocapture`.
#[test]
#[ignore = "long; run with --ignored (see the module docs)"]
fn long_race() {
    let until = Instant::now() + long_run();
    let mut rng = Rng(seed("long race"));
    let mut total: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut rounds = 0;
    while Instant::now() < until {
        rounds += 1;
        for (what, n) in race(&format!("long race, repository {rounds}"), rng.next(), 16, 0, Some(until)) {
            *total.entry(what).or_default() += n;
        }
    }
    eprintln!("long race: {rounds} repositories, in total {total:?}");
}

// ---------------------------------------------------------------------------
// 2. kill -9 at random moments, then doctor --repair.

/// How a command is cut short.
#[derive(Debug, Clone)]
enum Cut {
    /// `GIT_PAR_TEST_CRASH_AT=<point>`: the process aborts there.
    At(&'static str),
    /// `kill -9` of its whole process group after this long.
    After(Duration),
    /// Not at all.
    Never,
}

/// Runs git-par in its own process group and cuts it as told. Returns the
/// exit code (`None` when killed) and its output.
fn cut_run(t: &Torture, args: &[&str], cut: &Cut) -> (Option<i32>, Run, Duration) {
    let mut cmd = t.repo.par_command(&t.repo.root, args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    if let Cut::At(point) = cut {
        cmd.env("GIT_PAR_TEST_CRASH_AT", point);
    }
    let started = Instant::now();
    let mut child: Child = cmd.spawn().expect("spawn git-par");
    let mut elapsed = None;
    if let Cut::After(delay) = cut {
        while started.elapsed() < *delay {
            if child.try_wait().expect("wait").is_some() {
                elapsed = Some(started.elapsed());
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if elapsed.is_none() {
            // The whole group: git children die mid-operation too.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
        }
    } else {
        // When it exits, not when its output closes (a child may keep that open).
        while child.try_wait().expect("wait").is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        elapsed = Some(started.elapsed());
    }
    let pgid = child.id();
    let out = child.wait_with_output().expect("wait");
    let elapsed = elapsed.unwrap_or_else(|| started.elapsed());
    if matches!(cut, Cut::After(_)) {
        // A child being forked as the group was killed can escape it; a
        // person would not repair while one runs, so neither do we.
        let group = format!("-{pgid}");
        for _ in 0..1000 {
            if !group_alive(pgid) {
                break;
            }
            STRAGGLERS.fetch_add(1, Ordering::Relaxed);
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (out.status.code(), run, elapsed)
}

/// The git lock file (`….lock`, outside `.git/par`) an error names, if it exists.
fn stale_git_lock(run: &Run) -> Option<PathBuf> {
    let text = format!("{}{}", run.stdout, run.stderr);
    text.split(['\'', '"', ' ', '\n', '`'])
        .filter(|w| w.ends_with(".lock") && w.starts_with('/') && !w.contains("/.git/par/"))
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Whether a process of group `pgid` is still running (zombies waiting for
/// their reaper do not count).
fn group_alive(pgid: u32) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else { return false };
    procs.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { return false };
        // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|at| &stat[at + 1..]) else { return false };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
    })
}

/// Processes found alive in a killed group after its leader died.
static STRAGGLERS: AtomicUsize = AtomicUsize::new(0);

/// The crash test's driver: its model of every task, and typical durations
/// to pick kill moments from.
struct Crasher {
    t: Torture,
    rng: Rng,
    ledger: Ledger,
    /// Typical uncut duration of each verb, in ms.
    typical: BTreeMap<&'static str, u64>,
    /// Every uncut duration of each verb, in ms.
    durations: BTreeMap<&'static str, Vec<u64>>,
    rounds: usize,
    log: Vec<String>,
}

impl Crasher {
    fn new(seed: u64) -> Crasher {
        let mut rng = Rng(seed);
        let t = Torture::new(&mut rng);
        let typical = [("start", 150), ("finish", 300), ("abort", 120)].into_iter().collect();
        Crasher {
            t,
            rng,
            ledger: Ledger::default(),
            typical,
            durations: BTreeMap::new(),
            rounds: 0,
            log: Vec::new(),
        }
    }

    fn cut(&mut self, verb: &'static str) -> Cut {
        if self.rng.chance(10) {
            return Cut::Never;
        }
        let typical = self.typical[verb];
        Cut::After(Duration::from_millis(self.rng.next() % (typical + typical / 4 + 1)))
    }

    fn learn(&mut self, verb: &'static str, elapsed: Duration, code: Option<i32>) {
        if code.is_some() {
            let ms = elapsed.as_millis() as u64;
            self.durations.entry(verb).or_default().push(ms);
            let old = self.typical[verb];
            self.typical.insert(verb, (old * 3 + ms) / 4);
        }
    }

    /// Idle tasks that would not be busy now.
    fn startable(&self) -> Vec<String> {
        let active: Vec<&PlanTask> = self.ledger.active.keys().map(|id| self.t.task(id)).collect();
        self.t
            .tasks
            .iter()
            .filter(|task| {
                !self.ledger.landed.contains_key(&task.id) && !self.ledger.active.contains_key(&task.id)
            })
            .filter(|task| active.iter().all(|a| !a.overlaps(task)))
            .map(|task| task.id.clone())
            .collect()
    }

    /// One round: an operation cut short (or not), `doctor --repair`, and
    /// every check against the model. `forced` names the verb, the task
    /// (else one at random) and the cut (else a random kill).
    fn round(&mut self, forced: Option<(&'static str, Option<String>, Cut)>) -> Result<(), String> {
        self.rounds += 1;
        let (verb, id, cut) = match forced {
            Some((verb, id, cut)) => (verb, id, Some(cut)),
            None => (self.random_verb(), None, None),
        };
        match verb {
            "commit" => {
                let without_work = self.active(false);
                let id = id.unwrap_or_else(|| self.rng.pick(&without_work).clone());
                let mut inc = self.ledger.active.remove(&id).expect("active");
                let result = commit_work(&self.t, &mut self.rng, &mut inc);
                self.ledger.active.insert(id.clone(), inc);
                self.log.push(format!("round {}: commit in {id}", self.rounds));
                return result;
            }
            "start" => self.start(id, cut)?,
            "finish" => self.finish(id, cut)?,
            _ => self.abort(id, cut)?,
        }
        let run = self.t.repo.par(&["doctor"]);
        if run.code != 0 || run.stderr != "no problems found\n" {
            return Err(fail("doctor after --repair", &run));
        }
        check_quiescent(&self.t, &self.ledger, true)
    }

    fn random_verb(&mut self) -> &'static str {
        let (with_work, without_work) = (self.active(true), self.active(false));
        if !without_work.is_empty() && self.rng.chance(50) {
            "commit"
        } else if self.ledger.active.len() < 4 && self.rng.chance(60) {
            "start"
        } else if !with_work.is_empty() && self.rng.chance(75) {
            "finish"
        } else if !self.ledger.active.is_empty() {
            "abort"
        } else {
            "start"
        }
    }

    /// The active tasks with (or without) commits.
    fn active(&self, with_work: bool) -> Vec<String> {
        self.ledger
            .active
            .values()
            .filter(|i| i.commits.is_empty() != with_work)
            .map(|i| i.id.clone())
            .collect()
    }

    /// `doctor --repair`, which must leave nothing for a person but what git
    /// itself leaves to one: a lock file (`index.lock`, `main.lock`) of a git
    /// killed mid-write, which the person removes (counted) before repairing again.
    fn repair(&mut self) -> Result<(), String> {
        let mut run = self.t.repo.par(&["doctor", "--repair"]);
        for _ in 0..3 {
            if run.code == 0 {
                break;
            }
            let Some(lock) = stale_git_lock(&run) else { break };
            self.log.push(format!("round {}: removed a stale {} by hand", self.rounds, lock.display()));
            // git-par's own (main.lock, the main worktree's index.lock) doctor removes itself.
            let name = lock.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            self.ledger.count(match name.as_str() {
                "packed-refs.lock" => "stale git locks removed by hand: packed-refs.lock",
                "index.lock" => "stale git locks removed by hand: an index.lock",
                "main.lock" => "stale git locks removed by hand: main.lock",
                _ => "stale git locks removed by hand: another",
            });
            std::fs::remove_file(&lock).map_err(|e| format!("removing {}: {e}", lock.display()))?;
            run = self.t.repo.par(&["doctor", "--repair"]);
        }
        if run.code != 0 {
            return Err(fail("doctor --repair left problems", &run));
        }
        if !run.stdout.is_empty() {
            self.log.push(format!("round {}: {}", self.rounds, run.stdout.trim()));
        }
        Ok(())
    }

    fn start(&mut self, id: Option<String>, cut: Option<Cut>) -> Result<(), String> {
        let candidates = self.startable();
        if candidates.is_empty() {
            return Ok(());
        }
        let id = id.unwrap_or_else(|| self.rng.pick(&candidates).clone());
        let cut = cut.unwrap_or_else(|| self.cut("start"));
        let (code, run, elapsed) = cut_run(&self.t, &["start", &id], &cut);
        self.learn("start", elapsed, code);
        self.log.push(format!("round {}: start {id} cut {cut:?}: exit {code:?}", self.rounds));
        if code.is_some_and(|c| c != 0) {
            return Err(fail(&format!("start {id}"), &run));
        }
        // Whether the task is active is decided by what survived the repair.
        self.repair()?;
        if let Some(entry) = self.t.state()?.get(&id) {
            let mut inc = Incarnation::new(&id, self.t.repo.worktree(&id));
            inc.base = entry["base"].as_str().map(str::to_string);
            self.ledger.active.insert(id.clone(), inc);
            self.ledger.count(if code == Some(0) { "started" } else { "killed starts kept" });
        } else {
            if code == Some(0) {
                return Err(format!("{id} started, but doctor --repair dropped it"));
            }
            self.ledger.count("killed starts rolled back");
        }
        Ok(())
    }

    fn finish(&mut self, id: Option<String>, cut: Option<Cut>) -> Result<(), String> {
        let with_work = self.active(true);
        if with_work.is_empty() {
            return Ok(());
        }
        let id = id.unwrap_or_else(|| self.rng.pick(&with_work).clone());
        let strategy = Strategy::random(&mut self.rng);
        let cut = cut.unwrap_or_else(|| self.cut("finish"));
        let (code, run, elapsed) = cut_run(&self.t, &["finish", &id, "--strategy", strategy.name()], &cut);
        self.learn("finish", elapsed, code);
        self.log.push(format!(
            "round {}: finish {id} --strategy {} cut {cut:?}: exit {code:?}",
            self.rounds,
            strategy.name()
        ));
        if code.is_some_and(|c| c != 0) {
            return Err(fail(&format!("finish {id}"), &run));
        }
        if run.stderr.contains("warning:") {
            self.log.push(format!("round {}: finish {id} warned: {}", self.rounds, run.stderr.trim()));
        }
        self.repair()?;
        let grep = format!("^Par-Task: {id}$");
        let landed =
            expect_git(&self.t, &self.t.repo.root, &["log", "main", "--format=%H", "--grep", &grep])?;
        if landed.trim().is_empty() {
            if code == Some(0) {
                return Err(format!("finish {id} succeeded but it is not on main"));
            }
            self.ledger.count("killed finishes rolled back");
        } else {
            let mut inc = self.ledger.active.remove(&id).expect("active");
            inc.strategy = Some(strategy);
            self.ledger.landed.insert(id.clone(), inc);
            self.ledger.count(if code == Some(0) { "landed" } else { "killed finishes completed" });
        }
        Ok(())
    }

    fn abort(&mut self, id: Option<String>, cut: Option<Cut>) -> Result<(), String> {
        let active: Vec<String> = self.ledger.active.keys().cloned().collect();
        if active.is_empty() {
            return Ok(());
        }
        let id = id.unwrap_or_else(|| self.rng.pick(&active).clone());
        let cut = cut.unwrap_or_else(|| self.cut("abort"));
        let (code, run, elapsed) = cut_run(&self.t, &["abort", &id, "--force"], &cut);
        self.learn("abort", elapsed, code);
        self.log.push(format!("round {}: abort {id} cut {cut:?}: exit {code:?}", self.rounds));
        if code.is_some_and(|c| c != 0) {
            return Err(fail(&format!("abort {id} --force"), &run));
        }
        self.repair()?;
        if self.t.state()?.contains_key(&id) {
            if code == Some(0) {
                return Err(format!("abort {id} succeeded but it is still active"));
            }
            self.ledger.count("killed aborts undone");
        } else {
            let inc = self.ledger.active.remove(&id).expect("active");
            self.ledger.aborted.push(inc);
            self.ledger.count(if code == Some(0) { "aborted" } else { "killed aborts completed" });
        }
        Ok(())
    }

    /// Starts and commits (uncut) until `n` active tasks have commits.
    fn with_work(&mut self, n: usize) -> Result<Vec<String>, String> {
        while self.active(true).len() < n {
            if let Some(id) = self.active(false).first().cloned() {
                self.round(Some(("commit", Some(id), Cut::Never)))?;
            } else {
                self.round(Some(("start", None, Cut::Never)))?;
            }
        }
        Ok(self.active(true))
    }

    /// Every named crash point once, for determinism. A finish is crashed
    /// right after another task landed, so it has main to merge in.
    fn crash_points(&mut self) -> Result<(), String> {
        for point in git_par::lifecycle::START_CRASH_POINTS {
            self.round(Some(("start", None, Cut::At(point))))?;
        }
        for point in git_par::land::CRASH_POINTS {
            let ids = self.with_work(2)?;
            self.round(Some(("finish", Some(ids[0].clone()), Cut::Never)))?;
            self.round(Some(("finish", Some(ids[1].clone()), Cut::At(point))))?;
        }
        for point in git_par::lifecycle::ABORT_CRASH_POINTS {
            let ids = self.with_work(1)?;
            self.round(Some(("abort", Some(ids[0].clone()), Cut::At(point))))?;
        }
        Ok(())
    }

    /// Lands or aborts whatever is still active, uncut, and checks again.
    fn wind_down(&mut self) -> Result<(), String> {
        for id in self.ledger.active.keys().cloned().collect::<Vec<_>>() {
            let verb = if self.ledger.active[&id].commits.is_empty() { "abort" } else { "finish" };
            self.round(Some((verb, Some(id), Cut::Never)))?;
        }
        if !self.ledger.active.is_empty() {
            return Err(format!("still active after winding down: {:?}", self.ledger.active.keys()));
        }
        check_quiescent(&self.t, &self.ledger, true)
    }
}

fn crash(test: &str, random_rounds: usize, until: Option<Instant>) {
    let seed = seed(test);
    let mut c = Crasher::new(seed);
    let started = Instant::now();
    let outcome = (|| {
        c.crash_points()?;
        let mut n = 0;
        loop {
            let more = match until {
                Some(until) => Instant::now() < until,
                None => n < random_rounds,
            };
            if !more {
                break;
            }
            n += 1;
            c.round(None)?;
        }
        c.wind_down()
    })();
    let spread: Vec<String> = c
        .durations
        .iter_mut()
        .map(|(verb, ms)| {
            ms.sort_unstable();
            format!("{verb} {}/{}/{}", ms[ms.len() / 2], ms[ms.len() * 9 / 10], ms[ms.len() - 1])
        })
        .collect();
    eprintln!(
        "{test}: {} rounds in {:.1}s, uncut ms (median/p90/max) {}, {} stragglers killed again, {:?}",
        c.rounds,
        started.elapsed().as_secs_f64(),
        spread.join(", "),
        STRAGGLERS.load(Ordering::Relaxed),
        c.ledger.counts
    );
    if let Err(e) = outcome {
        let tail: Vec<&String> = c.log.iter().rev().take(8).collect();
        panic!("seed {seed}, round {}: {e}\nlast rounds (newest first):\n{tail:#?}", c.rounds);
    }
}

#[test]
fn kill_nine_at_random_moments_then_doctor_repairs() {
    crash("crash", 12, None);
}

/// The long crash run: `GIT_PAR_TORTURE_SECS=420 cargo test --test cli torture -- --ignored --nocapture`.
#[test]
#[ignore = "long; run with --ignored (see the module docs)"]
fn long_crash() {
    crash("long crash", 0, Some(Instant::now() + long_run()));
}

// ---------------------------------------------------------------------------
// 3. What the torture runs found, pinned down one by one.

const SMALL_PLAN: &str = "# Tasks: Small\n\n## Phase 1: Parallel\n\n\
- [ ] T001 [P] Write `src/one.txt`\n- [ ] T002 [P] Write `src/two.txt`\n- [ ] T003 [P] Write `src/three.txt`\n";

fn small() -> TestRepo {
    TestRepo::with_files(&[
        (TASKS_FILE, SMALL_PLAN),
        ("src/one.txt", "one\n"),
        ("src/two.txt", "two\n"),
        ("src/three.txt", "three\n"),
    ])
}

/// Starts `id` and commits a line to its file; returns the worktree.
fn started_with_work(repo: &TestRepo, id: &str, file: &str) -> PathBuf {
    repo.task_with_commit(id, file, &format!("{id} was here\n"), &format!("{id}: work"))
}

fn par(repo: &TestRepo) -> ParDir {
    ParDir::new(repo.path(".git/par"))
}

/// Spawns git-par with its output captured.
fn spawn(repo: &TestRepo, args: &[&str]) -> Child {
    repo.par_command(&repo.root, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

fn output(child: Child) -> Run {
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Waits until `path` exists or `child` exits (then its output is returned).
fn until_exists(path: &Path, child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() && Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(path.exists(), "{} never appeared", path.display());
    None
}

fn no_trace_of(repo: &TestRepo, id: &str) {
    let state = read_state(&repo.path(".git/par/state.json")).unwrap();
    assert!(!state.contains_key(id), "{id} is still in the state: {state:?}");
    assert_eq!(repo.git(&["branch", "--list", &format!("par/{id}")]), "");
    assert!(!repo.worktree(id).exists(), "{} is left", repo.worktree(id).display());
    let listed = repo.git(&["worktree", "list", "--porcelain"]);
    assert!(!listed.contains(&format!("worktree {}\n", repo.worktree(id).display())), "{listed}");
    let journal: Vec<_> =
        std::fs::read_dir(repo.path(".git/par/journal")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(journal.is_empty(), "{journal:?}");
}

/// A landing rewrites the main worktree's tasks.md in place (libgit2 truncates,
/// then writes): a start reading it then saw no tasks and failed with exit 1.
#[test]
fn a_start_waits_while_a_landing_rewrites_tasks_md() {
    let repo = small();
    repo.par(&["start", "T001"]).success();
    let text = repo.read(TASKS_FILE);
    let child = par(&repo)
        .with_lock(Lock::Sync, || {
            // Half written, as a landing leaves it for a moment.
            std::fs::write(repo.path(TASKS_FILE), "").unwrap();
            let child = spawn(&repo, &["start", "T002"]);
            std::thread::sleep(Duration::from_millis(400));
            std::fs::write(repo.path(TASKS_FILE), &text).unwrap();
            Ok(child)
        })
        .unwrap();
    let run = output(child).success();
    assert_eq!(run.stdout, format!("{}\n", repo.worktree("T002").display()));
}

/// A task that lands between a start reading tasks.md and recording the task
/// was started again (and could land twice).
#[test]
fn a_task_that_lands_while_it_is_being_started_is_not_started() {
    let repo = small();
    repo.par(&["start", "T003"]).success();
    let intent = repo.path(".git/par/journal/T001.start");
    let run = par(&repo)
        .with_lock(Lock::State, || {
            let mut child = spawn(&repo, &["start", "T001"]);
            // It has read tasks.md and the state; it waits for the state lock.
            if until_exists(&intent, &mut child).is_none() {
                // Meanwhile T001 was started, finished and released elsewhere.
                let landed = repo.read(TASKS_FILE).replace("- [ ] T001", "- [X] T001");
                std::fs::write(repo.path(TASKS_FILE), landed).unwrap();
            }
            Ok(child)
        })
        .map(output)
        .unwrap();
    assert_eq!(
        run.snapshot(),
        "exit: 1\n--- stdout\n--- stderr\n\
         error: T001 is already done in specs/001-demo/tasks.md\n\
         hint: untick it in specs/001-demo/tasks.md to do it again\n"
    );
    no_trace_of(&repo, "T001");
}

/// Two starts of one task: the loser saw the winner's new worktree before it
/// saw the winner's state entry, and told the user to remove the directory.
#[test]
fn the_loser_of_two_starts_of_one_task_is_told_it_is_active() {
    let repo = small();
    repo.par(&["start", "T001"]).success();
    let with_t001 = repo.read(".git/par/state.json");
    let state: Value = serde_json::from_str(&with_t001).unwrap();
    let mut without = state.clone();
    without["tasks"].as_object_mut().unwrap().remove("T001");
    // As the loser saw it: the winner's worktree made, its entry not yet.
    std::fs::write(repo.path(".git/par/state.json"), without.to_string()).unwrap();
    let intent = repo.path(".git/par/journal/T001.start");
    let run = par(&repo)
        .with_lock(Lock::State, || {
            let mut child = spawn(&repo, &["start", "T001"]);
            until_exists(&intent, &mut child);
            std::fs::write(repo.path(".git/par/state.json"), &with_t001).unwrap();
            Ok(child)
        })
        .map(output)
        .unwrap();
    let wt = repo.worktree("T001");
    assert_eq!(
        run.snapshot(),
        format!(
            "exit: 1\n--- stdout\n--- stderr\n\
             error: T001 is already active (branch par/T001, worktree {}, started by tester@{})\n\
             hint: work in it: cd {}\n\
             hint: or stop it with `git par abort T001`\n",
            wt.display(),
            state["tasks"]["T001"]["owner"]["host"].as_str().unwrap(),
            wt.display()
        )
    );
    assert!(wt.join(".git").exists(), "the winner's worktree is untouched");
}

fn crashed(repo: &TestRepo, args: &[&str], point: &str) {
    let out = repo.par_command(&repo.root, args).env("GIT_PAR_TEST_CRASH_AT", point).output().unwrap();
    assert_eq!(out.status.code(), None, "{args:?} did not die at {point}");
}

/// A start killed inside `git worktree add -b` leaves a branch, a locked
/// record git cannot even read (no `commondir` yet) and half a directory:
/// `doctor` failed on `git worktree list` and its lock stayed taken.
#[test]
fn doctor_undoes_a_start_killed_inside_git_worktree_add() {
    let repo = small();
    crashed(&repo, &["start", "T001"], "start-recorded");
    // What git had made when it died.
    let wt = repo.worktree("T001");
    let record = repo.path(".git/worktrees/T001");
    repo.git(&["branch", "par/T001"]);
    std::fs::create_dir_all(&record).unwrap();
    std::fs::write(record.join("locked"), "initializing").unwrap();
    std::fs::write(record.join("gitdir"), format!("{}/.git\n", wt.display())).unwrap();
    // Created, not yet written.
    std::fs::write(record.join("commondir"), "").unwrap();
    std::fs::create_dir_all(&wt).unwrap();
    std::fs::write(wt.join(".git"), format!("gitdir: {}\n", record.display())).unwrap();
    assert_ne!(repo.try_git_in(&repo.root, &["worktree", "list"]).code, 0, "git itself is stuck");

    let run = repo.par(&["doctor"]).code(1);
    assert!(run.stdout.starts_with("problem: `git par start T001` was interrupted (pid "), "{}", run.stdout);
    let run = repo.par(&["doctor", "--repair"]).success();
    assert!(run.stdout.contains("(undid the start; T001 is not active)\n"), "{}", run.stdout);
    no_trace_of(&repo, "T001");
    repo.par(&["doctor"]).success();
    repo.par(&["start", "T001"]).success();
}

/// An abort killed between removing the worktree and dropping the task left
/// the task active without its worktree, which `--repair` would not touch.
#[test]
fn doctor_completes_an_abort_killed_half_way() {
    for (point, keep) in
        [("abort-worktree-removed", false), ("abort-branch-deleted", false), ("abort-worktree-removed", true)]
    {
        let repo = small();
        started_with_work(&repo, "T002", "src/two.txt");
        let tip = repo.rev("par/T002");
        let mut args = vec!["abort", "T002", "--force"];
        if keep {
            args.push("--keep-branch");
        }
        crashed(&repo, &args, point);
        let run = repo.par(&["doctor", "--repair"]).success();
        assert!(run.stdout.contains("(completed the abort of T002)\n"), "{point}: {}", run.stdout);
        repo.par(&["doctor"]).success();
        let state = read_state(&repo.path(".git/par/state.json")).unwrap();
        assert!(state.is_empty(), "{point}: {state:?}");
        assert!(!repo.worktree("T002").exists(), "{point}");
        let branch = repo.git(&["branch", "--list", "par/T002"]);
        assert_eq!(branch.is_empty(), !keep, "{point}: {branch}");
        if keep {
            assert_eq!(repo.rev("par/T002"), tip);
        }
        let abort = std::fs::read_to_string(repo.path(".git/par/events.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"event\":\"abort\""))
            .count();
        assert_eq!(abort, 1, "{point}: one abort event");
        repo.par(&["start", "T002"]).code(if keep { 1 } else { 0 });
    }
}

/// A finish killed while it rewrote a landed file in the main worktree
/// leaves it truncated; the checkout of the repair took that for a local
/// change and stopped, so the landing could never be completed.
#[test]
fn doctor_completes_a_landing_killed_while_it_wrote_a_file() {
    let repo = small();
    started_with_work(&repo, "T001", "src/one.txt");
    crashed(&repo, &["finish", "T001"], "main-moved");
    std::fs::write(repo.path("src/one.txt"), "").unwrap();
    repo.par(&["doctor", "--repair"]).success();
    assert_eq!(repo.read("src/one.txt"), "T001 was here\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    no_trace_of(&repo, "T001");
}

/// A finish killed while libgit2 removed the landed worktree leaves half of
/// git's record; the repair could not remove it, and the branch it still
/// held was never deleted.
#[test]
fn doctor_completes_a_landing_killed_while_it_removed_the_worktree() {
    for lost in ["gitdir", "HEAD", "commondir"] {
        let repo = small();
        let wt = started_with_work(&repo, "T001", "src/one.txt");
        crashed(&repo, &["finish", "T001"], "released");
        std::fs::remove_file(repo.path(&format!(".git/worktrees/T001/{lost}"))).unwrap();
        std::fs::remove_file(wt.join("src/two.txt")).unwrap();
        let run = repo.par(&["doctor", "--repair"]);
        assert_eq!(run.code, 0, "{lost}: {}", run.snapshot());
        no_trace_of(&repo, "T001");
        repo.par(&["doctor"]).success();
    }
}

/// A finish killed after main moved but before the main worktree followed
/// made the next finish refuse over "uncommitted changes" to tasks.md and
/// hint to commit or stash them, which would have undone the first landing.
#[test]
fn a_finish_after_a_landing_that_died_half_way_asks_for_the_repair() {
    let repo = small();
    started_with_work(&repo, "T001", "src/one.txt");
    started_with_work(&repo, "T002", "src/two.txt");
    crashed(&repo, &["finish", "T001"], "main-moved");
    let run = repo.par(&["finish", "T002"]);
    assert_eq!(
        run.snapshot(),
        "exit: 1\n--- stdout\n--- stderr\n\
         error: T001 landed on main, but its finish died before updating the main worktree\n\
         hint: run `git par doctor --repair` to complete it (do not commit or stash what `git status` shows there)\n\
         hint: then run `git par finish T002` again\n"
    );
    repo.par(&["doctor", "--repair"]).success();
    repo.par(&["finish", "T002"]).success();
    assert_eq!(repo.read("src/one.txt"), "T001 was here\n");
    assert_eq!(repo.read("src/two.txt"), "T002 was here\n");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

/// A start, abort or finish killed while it wrote its intent or journal
/// leaves the temporary file, which doctor did not know.
#[test]
fn doctor_removes_the_temporary_journals_of_the_dead() {
    let repo = small();
    repo.par(&["start", "T001"]).success();
    let journal = repo.path(".git/par/journal");
    std::fs::create_dir_all(&journal).unwrap();
    for name in [".T002.start.tmp", ".T001.abort.tmp", ".T001.json.tmp"] {
        std::fs::write(journal.join(name), "{\"ta").unwrap();
    }
    let run = repo.par(&["doctor"]).code(1);
    assert_eq!(
        run.stdout.matches("was left by a git-par that died while writing").count(),
        3,
        "{}",
        run.stdout
    );
    repo.par(&["doctor", "--repair"]).success();
    assert_eq!(std::fs::read_dir(&journal).unwrap().count(), 0);
    repo.par(&["doctor"]).success();
}

/// A start killed while `git branch` held the new branch's ref lock: git
/// refuses the branch until the lock is gone, and the repair failed on it.
#[test]
fn doctor_undoes_a_start_killed_while_git_created_its_branch() {
    let repo = small();
    crashed(&repo, &["start", "T001"], "start-recorded");
    repo.git(&["branch", "par/T001"]);
    let tip = repo.rev("par/T001");
    std::fs::write(repo.path(".git/refs/heads/par/T001.lock"), format!("{tip}\n")).unwrap();
    repo.par(&["doctor", "--repair"]).success();
    no_trace_of(&repo, "T001");
    assert!(!repo.path(".git/refs/heads/par/T001.lock").exists());
    repo.par(&["start", "T001"]).success();
}

/// `abort` read the worktree with `git status`, which rewrites the index
/// under `index.lock` when file times changed: killed there, it left the lock
/// and every later `git add` in the worktree failed (and, running, it could
/// make the user's own `git add` fail).
#[test]
fn abort_reads_a_worktree_without_taking_its_index_lock() {
    let repo = small();
    let wt = started_with_work(&repo, "T001", "src/one.txt");
    let index = PathBuf::from(
        repo.git_in(&wt, &["rev-parse", "--path-format=absolute", "--git-path", "index"]).trim(),
    );
    // Same content, new times: `git status` would refresh the index and write it.
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(wt.join("src/one.txt"), "T001 was here\n").unwrap();
    let before = std::fs::read(&index).unwrap();
    let run = repo.par(&["abort", "T001"]).code(1);
    assert!(run.stderr.starts_with("error: aborting T001 would lose 1 commit"), "{}", run.stderr);
    assert_eq!(std::fs::read(&index).unwrap(), before, "the index was rewritten");
}

/// A finish killed while it moved main leaves `refs/heads/main.lock`; every
/// later finish then said "main kept moving ... something outside git-par is
/// committing to main" (exit 3, retry forever), and doctor saw nothing.
#[test]
fn a_lock_left_on_main_is_named_by_finish_and_doctor() {
    let repo = small();
    started_with_work(&repo, "T001", "src/one.txt");
    let lock = repo.path(".git/refs/heads/main.lock");
    std::fs::write(&lock, format!("{}\n", repo.rev("main"))).unwrap();
    let run = repo.par(&["finish", "T001"]);
    assert_eq!(run.code, 1, "{}", run.snapshot());
    assert!(
        run.stderr.ends_with(&format!(
            "error: main is locked: {} exists\n\
             hint: a git command is moving it, or one died while it did; if none is running, remove that file\n\
             hint: then run `git par finish T001` again\n",
            lock.display()
        )),
        "{}",
        run.stderr
    );
    let run = repo.par(&["doctor"]).code(1);
    assert!(
        run.stdout
            .contains(&format!("  fix: if no git command is running, remove it: `rm {}`\n", lock.display())),
        "{}",
        run.stdout
    );
    std::fs::remove_file(&lock).unwrap();
    repo.par(&["doctor"]).success();
    repo.par(&["finish", "T001"]).success();
}

/// A finish killed while it checked out a file the landing adds left it in
/// the main worktree, not yet in the index: the repair's checkout took it for
/// an untracked file in the way and stopped.
#[test]
fn doctor_completes_a_landing_killed_after_it_wrote_a_new_file() {
    for written in ["T001 adds this\n", "T001 add", ""] {
        let repo = small();
        repo.par(&["start", "T001", "--path", "src/new.txt"]).success();
        let wt = repo.worktree("T001");
        std::fs::write(wt.join("src/new.txt"), "T001 adds this\n").unwrap();
        repo.git_in(&wt, &["add", "-A"]);
        repo.git_in(&wt, &["commit", "-q", "-m", "T001: add"]);
        crashed(&repo, &["finish", "T001"], "main-moved");
        std::fs::write(repo.path("src/new.txt"), written).unwrap();
        let run = repo.par(&["doctor", "--repair"]);
        assert_eq!(run.code, 0, "{written:?}: {}", run.snapshot());
        assert_eq!(repo.read("src/new.txt"), "T001 adds this\n");
        assert_eq!(repo.git(&["status", "--porcelain"]), "", "{written:?}");
        no_trace_of(&repo, "T001");
    }
}

/// A start killed as `git worktree add` began leaves a record holding only
/// (part of) its `locked` file: git ignores it, but libgit2 then refused to
/// delete the task's branch ("the current HEAD of a linked repository").
#[test]
fn doctor_undoes_a_start_killed_as_git_worktree_add_began() {
    let repo = small();
    crashed(&repo, &["start", "T001"], "start-recorded");
    repo.git(&["branch", "par/T001"]);
    for (record, locked) in [("T001", ""), ("T0011", "initializing")] {
        let record = repo.path(&format!(".git/worktrees/{record}"));
        std::fs::create_dir_all(&record).unwrap();
        std::fs::write(record.join("locked"), locked).unwrap();
    }
    let run = repo.par(&["doctor", "--repair"]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    no_trace_of(&repo, "T001");
    assert!(!repo.path(".git/worktrees/T001").exists() && !repo.path(".git/worktrees/T0011").exists());
    repo.par(&["start", "T001"]).success();
}

/// A `git worktree add` killed while it deleted a ref leaves
/// `packed-refs.lock`: every later `git worktree add` then waited two seconds
/// for it and `git branch -D` failed, and doctor saw nothing.
#[test]
fn doctor_names_a_packed_refs_lock_git_left() {
    let repo = small();
    repo.par(&["start", "T001"]).success();
    let lock = repo.path(".git/packed-refs.lock");
    std::fs::write(&lock, "").unwrap();
    let run = repo.par(&["doctor", "--repair"]).code(1);
    assert_eq!(
        run.stdout,
        format!(
            "problem: {lock} exists: a git command is running, or one died and left it\n  \
               fix: if no git command is running, remove it: `rm {lock}`\n",
            lock = lock.display()
        )
    );
    std::fs::remove_file(&lock).unwrap();
    repo.par(&["doctor"]).success();
}
