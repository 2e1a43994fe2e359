//! Real processes racing `git par start`: of tasks whose paths overlap,
//! exactly one wins; the losers exit 3 naming the winner; the state and git
//! agree afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;

use git_par::locks::Pattern;

use crate::common::{events, state, TestRepo};

/// Three groups whose tasks all overlap one another (A, B, C) and four
/// tasks that overlap nothing.
const PLAN: &str = "\
# Tasks: Race

## Phase 1: Everything at once

- [ ] T001 [P] Lay out the package in src/a/
- [ ] T002 [P] Write the parser in src/a/x.py
- [ ] T003 [P] Write the deep module in src/a/deep/y.py
- [ ] T004 [P] Write the b module in src/b.py
- [ ] T005 [P] Refactor the b module in src/b.py
- [ ] T006 [P] Write all the docs in docs/
- [ ] T007 [P] Write the guide in docs/guide.md
- [ ] T008 [P] Write the API reference in docs/api/ref.md
- [ ] T009 [P] Write lib/one.rs
- [ ] T010 [P] Write lib/two.rs
- [ ] T011 [P] Write the tests in tests/
- [ ] T012 [P] Write scripts/run.sh
";

/// Extra `--path` per task, making each group a clique.
fn extra(id: &str) -> Option<&'static str> {
    match id {
        "T003" => Some("src/a/**"),
        "T008" => Some("docs/**"),
        _ => None,
    }
}

const GROUPS: [&[&str]; 3] = [&["T001", "T002", "T003"], &["T004", "T005"], &["T006", "T007", "T008"]];
const ALONE: [&str; 4] = ["T009", "T010", "T011", "T012"];

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

fn race_once() {
    let repo = TestRepo::with_tasks(PLAN);
    let ids: Vec<String> = (1..=12).map(|n| format!("T{n:03}")).collect();
    let children: Vec<_> = ids
        .iter()
        .map(|id| {
            let mut args = vec!["start", id.as_str()];
            if let Some(path) = extra(id) {
                args.extend(["--path", path]);
            }
            let mut cmd = repo.par_command(&repo.root, &args);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            (id.clone(), cmd.spawn().expect("spawn git-par"))
        })
        .collect();
    let outcomes: BTreeMap<String, Outcome> = children
        .into_iter()
        .map(|(id, child)| {
            let out = child.wait_with_output().expect("wait");
            let outcome = Outcome {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            };
            (id, outcome)
        })
        .collect();
    let report = || {
        outcomes
            .iter()
            .map(|(id, o)| format!("{id}: exit {} stdout {:?} stderr {:?}", o.code, o.stdout, o.stderr))
            .collect::<Vec<_>>()
            .join("\n")
    };

    let mut winners = BTreeSet::new();
    for group in GROUPS {
        let won: Vec<&str> = group.iter().copied().filter(|id| outcomes[*id].code == 0).collect();
        assert_eq!(won.len(), 1, "group {group:?} must have exactly one winner\n{}", report());
        let winner = won[0];
        winners.insert(winner.to_string());
        for loser in group.iter().filter(|id| **id != winner) {
            let o = &outcomes[*loser];
            assert_eq!(o.code, 3, "{loser} must be refused as busy\n{}", report());
            assert!(o.stdout.is_empty(), "{}", report());
            assert!(
                o.stderr.starts_with(&format!("error: {loser} needs paths another task holds: "))
                    && o.stderr.contains(&format!(" held by {winner} (tester@")),
                "{loser} must name the holder {winner}\n{}",
                report()
            );
        }
    }
    for id in ALONE {
        assert_eq!(outcomes[id].code, 0, "{id} overlaps nothing\n{}", report());
        winners.insert(id.to_string());
    }
    for id in &winners {
        assert_eq!(outcomes[id].stdout, format!("{}\n", repo.worktree(id).display()), "{}", report());
    }

    // The state parses, holds exactly the winners, and no two of them overlap.
    let state = state(&repo);
    let tasks = state["tasks"].as_object().unwrap();
    assert_eq!(tasks.keys().cloned().collect::<BTreeSet<_>>(), winners);
    let locks: Vec<(String, Vec<Pattern>)> = tasks
        .iter()
        .map(|(id, t)| {
            let patterns = t["locks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| Pattern::compile(l.as_str().unwrap().to_string()).unwrap())
                .collect();
            (id.clone(), patterns)
        })
        .collect();
    for (i, (a, pa)) in locks.iter().enumerate() {
        for (b, pb) in &locks[i + 1..] {
            let overlap = pa.iter().any(|x| pb.iter().any(|y| x.overlaps(y)));
            assert!(!overlap, "{a} and {b} are both active with overlapping locks");
        }
    }

    // git's worktrees are exactly the state's.
    let porcelain = repo.git(&["worktree", "list", "--porcelain"]);
    let from_git: BTreeSet<(String, String)> = porcelain
        .split("\n\n")
        .filter(|r| !r.trim().is_empty())
        .skip(1)
        .map(|record| {
            let field =
                |key: &str| record.lines().find_map(|l| l.strip_prefix(key)).unwrap_or_default().to_string();
            (field("worktree "), field("branch refs/heads/"))
        })
        .collect();
    let from_state: BTreeSet<(String, String)> = tasks
        .values()
        .map(|t| (t["worktree"].as_str().unwrap().to_string(), t["branch"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(from_git, from_state);

    let started: BTreeSet<String> = events(&repo)
        .iter()
        .filter(|e| e["event"] == "start")
        .map(|e| e["task"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(started, winners);
    assert_eq!(repo.read(".git/info/exclude").matches("/logs/parallel/").count(), 1);
}

#[test]
fn racing_starts_have_one_winner_per_contested_path() {
    for _ in 0..3 {
        race_once();
    }
}
