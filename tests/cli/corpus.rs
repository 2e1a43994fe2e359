//! Conformance with real task files from public repositories: every file of
//! `../shared/corpus/tasks-md/` listed in its `expected.tsv` must parse to
//! exactly the expected counts and first/last IDs, and its dependencies must
//! resolve. The corpus is never copied into the project; without it the test
//! passes with a note.

use std::fs;
use std::path::{Path, PathBuf};

use git_par::tasks::{self, Options, TaskState};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/tasks-md")
}

#[derive(Debug, PartialEq, Eq)]
struct Counts {
    tasks: usize,
    done: usize,
    partial: usize,
    parallel: usize,
    first_id: String,
    last_id: String,
}

#[test]
fn every_corpus_file_parses_as_expected() {
    let dir = corpus_dir();
    let expected_path = dir.join("expected.tsv");
    let Ok(expected) = fs::read_to_string(&expected_path) else {
        eprintln!("note: no corpus at {}; skipping the conformance check", dir.display());
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in expected.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = row.split('\t').collect();
        assert_eq!(cols.len(), 7, "malformed row in expected.tsv: {row:?}");
        let want = Counts {
            tasks: cols[1].parse().expect("tasks"),
            done: cols[2].parse().expect("done"),
            partial: cols[3].parse().expect("partial"),
            parallel: cols[4].parse().expect("parallel"),
            first_id: cols[5].to_string(),
            last_id: cols[6].to_string(),
        };
        let path = dir.join(cols[0]);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = match tasks::read(&text, &Options::default()) {
            Ok(file) => file,
            Err(err) => {
                failures.push(format!("{}: dependencies do not resolve: {err:#}", cols[0]));
                continue;
            }
        };
        let count = |state| file.tasks.iter().filter(|t| t.state == state).count();
        let got = Counts {
            tasks: file.tasks.len(),
            done: count(TaskState::Done),
            partial: count(TaskState::Partial),
            parallel: file.tasks.iter().filter(|t| t.parallel).count(),
            first_id: file.tasks.first().map_or("-".to_string(), |t| t.id.clone()),
            last_id: file.tasks.last().map_or("-".to_string(), |t| t.id.clone()),
        };
        if got != want {
            failures.push(format!("{}:\n  want {want:?}\n  got  {got:?}", cols[0]));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "corpus mismatches:\n{}", failures.join("\n"));
    eprintln!("corpus: {checked} files conform");
}
