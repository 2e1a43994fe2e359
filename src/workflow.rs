//! The operator's workflow (DESIGN §8): grouping ready `[P]` tasks into
//! waves, task classes and their per-wave limits.
//!
//! A wave is a set of tasks that can run at the same time: no two of its
//! tasks declare overlapping paths (tested with the lock rules of
//! [`crate::locks`]), no class has more tasks in it than its limit, and a
//! task that declares no path is alone in its wave (it may touch anything).
//! Tasks are placed first-fit in file order, so earlier tasks land in
//! earlier waves and the result is deterministic.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::locks::Pattern;
use crate::tasks::{Task, TaskFile};

/// The class limit that applies when neither `--limit` nor config names one.
pub const DEFAULT_LIMITS: [(&str, usize); 1] = [("http", 1)];

/// How labels map to classes and how many of each class a wave may hold.
#[derive(Debug, Clone, Default)]
pub struct Classes {
    /// Class name (lowercase) → labels (as written) that put a task in it.
    pub labels: BTreeMap<String, Vec<String>>,
    /// Class name (lowercase) → tasks of that class per wave.
    pub limits: BTreeMap<String, usize>,
}

impl Classes {
    /// Classes from config (`par.class.<name>`, `par.limit.<class>`), the
    /// defaults, and `--limit CLASS=N` flags, later ones winning.
    pub fn new(
        config_labels: &BTreeMap<String, Vec<String>>,
        config_limits: &BTreeMap<String, usize>,
        flags: &[String],
    ) -> Result<Classes> {
        let mut limits: BTreeMap<String, usize> =
            DEFAULT_LIMITS.iter().map(|(c, n)| (c.to_string(), *n)).collect();
        limits.extend(config_limits.iter().map(|(c, n)| (c.to_ascii_lowercase(), *n)));
        for flag in flags {
            let (class, n) = parse_limit(flag)?;
            limits.insert(class, n);
        }
        Ok(Classes { labels: config_labels.clone(), limits })
    }

    /// The classes a task belongs to: each class label lowercased (`[HTTP]` →
    /// `http`), plus classes whose configured labels the task carries.
    pub fn of(&self, task: &Task) -> Vec<String> {
        let mut classes: Vec<String> = task.classes().map(str::to_ascii_lowercase).collect();
        for (class, labels) in &self.labels {
            if task.labels.iter().any(|l| labels.iter().any(|c| c.eq_ignore_ascii_case(l))) {
                classes.push(class.clone());
            }
        }
        classes.sort();
        classes.dedup();
        classes
    }
}

/// A class limit that is not `CLASS=N` with N at least 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError {
    /// The limit as written.
    pub flag: String,
}

impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid --limit '{}'", self.flag)
    }
}

impl std::error::Error for LimitError {}

fn parse_limit(flag: &str) -> Result<(String, usize)> {
    let usage = || LimitError { flag: flag.to_string() };
    let (class, n) = flag.split_once('=').ok_or_else(usage)?;
    let n: usize = n.trim().parse().map_err(|_| usage())?;
    if class.trim().is_empty() || n == 0 {
        return Err(usage().into());
    }
    Ok((class.trim().to_ascii_lowercase(), n))
}

/// One wave: tasks that can run together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wave {
    /// Task IDs, in file order.
    pub tasks: Vec<String>,
}

#[derive(Default)]
struct Slot {
    /// Holds a task that declared no path: it may touch anything, so it runs alone.
    alone: bool,
    ids: Vec<String>,
    patterns: Vec<Pattern>,
    class_counts: BTreeMap<String, usize>,
}

/// Groups `candidates` (normally the ready, unstarted `[P]` tasks) into waves.
pub fn waves(candidates: &[&Task], classes: &Classes) -> Vec<Wave> {
    let mut slots: Vec<Slot> = Vec::new();
    for task in candidates {
        let patterns: Vec<Pattern> =
            task.paths.iter().filter_map(|p| Pattern::compile(p.clone()).ok()).collect();
        let task_classes = classes.of(task);
        let pathless = task.paths.is_empty();
        let fits = |slot: &Slot| {
            if slot.alone || (pathless && !slot.ids.is_empty()) {
                return false;
            }
            let disjoint = patterns.iter().all(|p| slot.patterns.iter().all(|q| !p.overlaps(q)));
            let within_limits = task_classes.iter().all(|c| match classes.limits.get(c) {
                Some(limit) => slot.class_counts.get(c).copied().unwrap_or(0) < *limit,
                None => true,
            });
            disjoint && within_limits
        };
        let index = match slots.iter().position(fits) {
            Some(i) => i,
            None => {
                slots.push(Slot::default());
                slots.len() - 1
            }
        };
        let slot = &mut slots[index];
        slot.alone = pathless;
        slot.ids.push(task.id.clone());
        slot.patterns.extend(patterns);
        for class in task_classes {
            *slot.class_counts.entry(class).or_insert(0) += 1;
        }
    }
    slots.into_iter().map(|s| Wave { tasks: s.ids }).collect()
}

/// The tasks a plan considers: ready, parallel, and not in `active`.
pub fn candidates<'a>(file: &'a TaskFile, active: &dyn Fn(&str) -> bool) -> Vec<&'a Task> {
    file.ready().filter(|t| t.parallel && !active(&t.id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::TaskState;

    pub(super) fn task(id: &str, labels: &[&str], paths: &[&str]) -> Task {
        Task {
            id: id.to_string(),
            line: 1,
            state: TaskState::Todo,
            parallel: true,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            story: None,
            phase: None,
            description: String::new(),
            paths: paths.iter().map(|s| s.to_string()).collect(),
            rejected_paths: Vec::new(),
            details: Vec::new(),
            deps: Vec::new(),
            after: Vec::new(),
            resolved: Vec::new(),
            last_line: 0,
        }
    }

    fn ids(waves: &[Wave]) -> Vec<Vec<&str>> {
        waves.iter().map(|w| w.tasks.iter().map(String::as_str).collect()).collect()
    }

    #[test]
    fn overlapping_paths_go_to_later_waves() {
        let a = task("T1", &["P"], &["src/a.py"]);
        let b = task("T2", &["P"], &["src/a.py"]);
        let c = task("T3", &["P"], &["src/"]);
        let d = task("T4", &["P"], &["docs/x.md"]);
        let classes = Classes::new(&BTreeMap::new(), &BTreeMap::new(), &[]).unwrap();
        let waves = waves(&[&a, &b, &c, &d], &classes);
        assert_eq!(ids(&waves), vec![vec!["T1", "T4"], vec!["T2"], vec!["T3"]]);
    }

    #[test]
    fn class_limits_spread_tasks() {
        let a = task("T1", &["P", "HTTP"], &["a"]);
        let b = task("T2", &["P", "HTTP"], &["b"]);
        let c = task("T3", &["P", "CPU"], &["c"]);
        let d = task("T4", &["P", "CPU"], &["d"]);
        let classes = Classes::new(&BTreeMap::new(), &BTreeMap::new(), &["cpu=1".to_string()]).unwrap();
        assert_eq!(ids(&waves(&[&a, &b, &c, &d], &classes)), vec![vec!["T1", "T3"], vec!["T2", "T4"]]);
        let unlimited = Classes::new(&BTreeMap::new(), &BTreeMap::new(), &["http=5".to_string()]).unwrap();
        assert_eq!(ids(&waves(&[&a, &b], &unlimited)), vec![vec!["T1", "T2"]]);
    }

    #[test]
    fn configured_class_labels() {
        let a = task("T1", &["P", "FETCH"], &["a"]);
        let b = task("T2", &["P", "FETCH"], &["b"]);
        let labels = BTreeMap::from([("net".to_string(), vec!["FETCH".to_string()])]);
        let limits = BTreeMap::from([("net".to_string(), 1)]);
        let classes = Classes::new(&labels, &limits, &[]).unwrap();
        assert_eq!(classes.of(&a), vec!["fetch", "net"]);
        assert_eq!(ids(&waves(&[&a, &b], &classes)), vec![vec!["T1"], vec!["T2"]]);
    }

    #[test]
    fn bad_limits_are_usage_errors() {
        for flag in ["http", "http=0", "=1", "http=x"] {
            let err = Classes::new(&BTreeMap::new(), &BTreeMap::new(), &[flag.to_string()]).unwrap_err();
            assert_eq!(crate::command_error::exit_code(&err), 2, "{flag}");
        }
    }
}

/// The command to run for a task (DESIGN §8): `par.command` with `{id}`,
/// `{paths}` and `{tests}` filled in, else one derived from the task's
/// paths, else none. It is shown to the operator, never run by git-par.
pub fn recommended_command(task: &Task, template: Option<&str>) -> Option<String> {
    let tests: Vec<&str> = task.paths.iter().map(String::as_str).filter(|p| is_test_file(p)).collect();
    if let Some(template) = template {
        let quoted = |paths: &[&str]| paths.iter().map(|p| shell_quote(p)).collect::<Vec<_>>().join(" ");
        let all: Vec<&str> = task.paths.iter().map(String::as_str).collect();
        let values =
            [("{id}", shell_quote(&task.id)), ("{paths}", quoted(&all)), ("{tests}", quoted(&tests))];
        return Some(fill(template, &values));
    }
    let has_ext = |exts: &[&str]| task.paths.iter().any(|p| exts.iter().any(|e| p.ends_with(e)));
    let python_tests: Vec<&str> = tests.iter().copied().filter(|p| p.ends_with(".py")).collect();
    if !python_tests.is_empty() {
        let files: Vec<String> = python_tests.iter().map(|p| shell_quote(p)).collect();
        return Some(format!("pytest {} -q", files.join(" ")));
    }
    if has_ext(&[".py"]) {
        return Some("pytest -q".to_string());
    }
    if has_ext(&[".rs"]) || task.paths.iter().any(|p| p.ends_with("Cargo.toml")) {
        return Some("cargo test".to_string());
    }
    if has_ext(&[".js", ".jsx", ".ts", ".tsx", ".mjs", ".cjs", ".vue", ".svelte"])
        || task.paths.iter().any(|p| p.ends_with("package.json"))
    {
        return Some("npm test".to_string());
    }
    if has_ext(&[".go"]) {
        return Some("go test ./...".to_string());
    }
    None
}

/// Replaces each placeholder of `values` in `template` in one pass, left to
/// right: a value is never searched again, so a path holding `{tests}` stays
/// the path it is.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while !rest.is_empty() {
        match values.iter().find(|(key, _)| rest.starts_with(key)) {
            Some((key, value)) => {
                out.push_str(value);
                rest = &rest[key.len()..];
            }
            None => {
                let c = rest.chars().next().unwrap_or_default();
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Whether a path names a test file by the usual conventions.
pub fn is_test_file(path: &str) -> bool {
    if path.ends_with('/') {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    stem.starts_with("test_")
        || stem.ends_with("_test")
        || name.contains(".test.")
        || name.contains(".spec.")
        || path.starts_with("tests/")
        || path.contains("/tests/")
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain =
        !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod command_tests {
    use super::*;

    fn task(paths: &[&str]) -> Task {
        tests::task("T004", &[], paths)
    }

    #[test]
    fn derived_commands() {
        let cmd = |paths: &[&str]| recommended_command(&task(paths), None);
        assert_eq!(cmd(&["src/a.py", "tests/test_a.py"]).as_deref(), Some("pytest tests/test_a.py -q"));
        assert_eq!(cmd(&["src/a.py"]).as_deref(), Some("pytest -q"));
        assert_eq!(cmd(&["src/lib.rs"]).as_deref(), Some("cargo test"));
        assert_eq!(cmd(&["web/app.tsx"]).as_deref(), Some("npm test"));
        assert_eq!(cmd(&["cmd/main.go"]).as_deref(), Some("go test ./..."));
        assert_eq!(cmd(&["docs/guide.md"]), None);
        assert_eq!(cmd(&[]), None);
        assert_eq!(cmd(&["tests/test it.py"]).as_deref(), Some("pytest 'tests/test it.py' -q"));
    }

    #[test]
    fn template_is_filled_and_quoted() {
        let t = task(&["src/a b.py", "tests/test_a.py"]);
        assert_eq!(
            recommended_command(&t, Some("make check ID={id} FILES=\"{paths}\" T={tests}")).as_deref(),
            Some("make check ID=T004 FILES=\"'src/a b.py' tests/test_a.py\" T=tests/test_a.py")
        );
    }

    #[test]
    fn the_template_is_filled_in_one_pass() {
        let t = task(&["tests/test_{tests}.py", "src/a;touch x.py", "src/{id}/it's.py"]);
        assert_eq!(
            recommended_command(&t, Some("run {id} {paths} -- {tests} {other}")).as_deref(),
            Some(
                "run T004 'tests/test_{tests}.py' 'src/a;touch x.py' 'src/{id}/it'\\''s.py' -- 'tests/test_{tests}.py' {other}"
            )
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a/b.py"), "a/b.py");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(shell_quote(""), "''");
    }
}
