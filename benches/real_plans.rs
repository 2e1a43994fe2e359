//! Scores path extraction on real spec-kit plans against hand labels
//! (DESIGN §10): `GIT_PAR_REAL_PLANS=DIR cargo bench --bench real_plans`.
//!
//! `benches/real-plans/manifest.tsv` names, per plan, the public repository,
//! the commit where its tasks.md was written and its path; `<name>.labels`
//! holds, per task, the repository paths it creates or modifies (a
//! directory only when the task edits an unspecified set of files under
//! it; `-` for a task that writes nothing). The plans' text is not kept
//! here: DIR holds a clone of each repository (named by the manifest's
//! `dir` column); the tasks.md and plan.md are read from the commit that
//! added the tasks.md, the tracked tree from its parent, or from the commit
//! the manifest's optional seventh column names (for a plan committed after
//! its code: the commit before the code, so the new files are not yet
//! there). Without DIR, or without a clone, the plan is skipped.
//!
//! For each plan: tasks exactly right (locks equal the labels), written
//! paths covered (each label inside some lock of its task), locks right
//! (each lock equals a label, is a labelled directory, or lies inside one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use git_par::tasks::{self, paths::Context, Options};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Plan {
    name: String,
    repository: String,
    dir: String,
    commit: String,
    tasks: String,
    held_out: bool,
    /// The commit whose tree is the repository before the feature.
    before: String,
}

#[derive(Default, Clone, Copy)]
struct Score {
    tasks: usize,
    exact: usize,
    written: usize,
    covered: usize,
    locks: usize,
    right: usize,
}

impl Score {
    fn add(&mut self, other: Score) {
        self.tasks += other.tasks;
        self.exact += other.exact;
        self.written += other.written;
        self.covered += other.covered;
        self.locks += other.locks;
        self.right += other.right;
    }

    fn row(&self, what: &str) -> String {
        let pct = |a: usize, b: usize| {
            if b == 0 {
                "—".to_string()
            } else {
                format!("{:.1}%", 100.0 * a as f64 / b as f64)
            }
        };
        format!(
            "| {what} | {} | {} ({}/{}) | {} ({}/{}) | {} ({}/{}) |",
            self.tasks,
            pct(self.exact, self.tasks),
            self.exact,
            self.tasks,
            pct(self.covered, self.written),
            self.covered,
            self.written,
            pct(self.right, self.locks),
            self.right,
            self.locks
        )
    }
}

fn main() -> Result<()> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/real-plans");
    let Some(snapshots) = std::env::var_os("GIT_PAR_REAL_PLANS").map(PathBuf::from) else {
        eprintln!("real plans: skipped (set GIT_PAR_REAL_PLANS to a directory of clones; see benches/real-plans/manifest.tsv)");
        return Ok(());
    };
    let verbose = std::env::args().any(|a| a == "--verbose");
    let wanted: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let mut tuned = Score::default();
    let mut held = Score::default();
    let mut rows = Vec::new();
    for plan in manifest(&here.join("manifest.tsv"))? {
        if !wanted.is_empty() && !wanted.iter().any(|w| plan.name.contains(w.as_str())) {
            continue;
        }
        let repo = snapshots.join(&plan.dir);
        if !repo.join(".git").exists() {
            eprintln!("real plans: {} skipped (no clone at {})", plan.name, repo.display());
            continue;
        }
        let labels = labels(&here.join(format!("{}.labels", plan.name)))?;
        let score = score(&plan, &repo, &labels, verbose)?;
        rows.push(score.row(&format!(
            "{} ({}{})",
            plan.name,
            plan.repository,
            if plan.held_out { ", held out" } else { "" }
        )));
        if plan.held_out {
            held.add(score)
        } else {
            tuned.add(score)
        }
    }
    println!(
        "| plan | tasks | exactly right | written paths covered | locks right |\n|---|---:|---:|---:|---:|"
    );
    for row in rows {
        println!("{row}");
    }
    println!("{}", tuned.row("**all tuned-on plans**"));
    println!("{}", held.row("**held-out plans**"));
    Ok(())
}

fn manifest(path: &Path) -> Result<Vec<Plan>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 6 {
            return Err(format!("{}: a line needs 6 tab-separated fields: {line}", path.display()).into());
        }
        out.push(Plan {
            name: f[0].to_string(),
            repository: f[1].to_string(),
            dir: f[2].to_string(),
            commit: f[3].to_string(),
            tasks: f[4].to_string(),
            held_out: f[5] == "held-out",
            before: f.get(6).filter(|c| !c.is_empty()).map_or(format!("{}~1", f[3]), |c| c.to_string()),
        });
    }
    Ok(out)
}

/// `ID path path...` per line; `-` for nothing written.
fn labels(path: &Path) -> Result<BTreeMap<String, Vec<String>>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let Some(id) = words.next() else { continue };
        let paths: Vec<String> = words.filter(|w| *w != "-").map(str::to_string).collect();
        out.insert(id.to_string(), paths);
    }
    Ok(out)
}

fn git(repo: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git").arg("-C").arg(repo).args(args).output()?;
    if !out.status.success() {
        return Err(
            format!("git {args:?} in {}: {}", repo.display(), String::from_utf8_lossy(&out.stderr)).into()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether lock `lock` covers labelled path `label`.
fn covers(lock: &str, label: &str) -> bool {
    lock == label || (lock.ends_with('/') && label.starts_with(lock))
}

fn score(plan: &Plan, repo: &Path, labels: &BTreeMap<String, Vec<String>>, verbose: bool) -> Result<Score> {
    let text = git(repo, &["show", &format!("{}:{}", plan.commit, plan.tasks)])?;
    let plan_md_path = plan.tasks.replace("tasks.md", "plan.md");
    let plan_md = git(repo, &["show", &format!("{}:{}", plan.commit, plan_md_path)]).ok();
    // The repository before the feature: plan and code often land in one commit.
    let tracked = git(repo, &["ls-tree", "-r", "--name-only", &plan.before])?;
    let context = Context::new(tracked.lines().map(str::to_string), plan_md.as_deref());
    if std::env::args().any(|a| a == "--plan") {
        eprintln!("{}: plan.md tree: {:?}", plan.name, context.planned());
        eprintln!("{}: written by the feature: {:?}", plan.name, context.plan_written());
    }
    let options = Options { context: Some(Arc::new(context)), ..Options::default() };
    let file = match tasks::read(&text, &options) {
        Ok(file) => file,
        Err(_) => tasks::parse::parse(&text, &options),
    };
    let mut s = Score::default();
    for task in &file.tasks {
        let Some(expected) = labels.get(&task.id) else {
            eprintln!("{}: {} has no label", plan.name, task.id);
            continue;
        };
        s.tasks += 1;
        let mut got = task.paths.clone();
        got.sort();
        let mut want = expected.clone();
        want.sort();
        if got == want {
            s.exact += 1;
        } else if verbose {
            eprintln!(
                "{} {}: got {:?} want {:?} rejected {:?}",
                plan.name, task.id, got, want, task.rejected_paths
            );
        }
        s.written += want.len();
        s.covered += want.iter().filter(|l| got.iter().any(|g| covers(g, l))).count();
        s.locks += got.len();
        s.right += got.iter().filter(|g| want.iter().any(|l| *g == l || covers(l, g))).count();
    }
    Ok(s)
}
