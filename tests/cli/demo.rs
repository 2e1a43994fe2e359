//! `demo`: the whole cycle, as on a fresh machine (no git identity, no tmux session).

use crate::common::{isolated, TestRepo};

#[test]
fn the_demo_walks_the_whole_cycle() {
    let scratch = TestRepo::empty();
    let dir = scratch.tmp.path().join("demo");
    let out = isolated(crate::common::bin(), &scratch.home)
        .current_dir(scratch.tmp.path())
        // A fresh machine: no identity anywhere.
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .args(["demo", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let repo = dir.join("option-optimizer");
    assert_eq!(stdout, format!("{}\n", repo.display()));

    // The narrative shows every step of DESIGN §8, in order, each command as typed.
    let together = "$ git par finish T002 & git par finish T003 & git par finish T004 & wait\n";
    let steps = [
        &format!("$ cd {}\n", repo.display()),
        "$ git par list",
        // Lint comes before any plan or start, and finds the demo's one shared file.
        "$ git par lint\n",
        "shared file: T002 and T007 are [P] in one group but both write src/optimizer/data/chains.py",
        "$ git par plan",
        "$ git par hook install",
        "$ git par start T002 T003 T004",
        "$ git par lock-status",
        &format!("$ cd {}\n", dir.join("option-optimizer.par/T003").display()),
        "$ git add README.md\n",
        "$ git commit -q -m 'T003: README'\n",
        "README.md: outside the locks of T003",
        "$ git commit -q -m 'T003: steal T004'\\''s file'\n",
        "src/optimizer/pricing/implied_vol.py: locked by T004",
        &format!("$ cd {}\n", repo.display()),
        together,
        "records them landed in this order: ",
        "$ git diff ",
        "+- [X] T002 [P] Load option chains from CSV",
        "Let agents finish the plan",
        "stand-in-agent.sh\n",
        "$ git par up --jobs 3 --agent ",
        "7 task(s) to run, 3 at a time",
        "finished in ",
        "task  result      time  commit or reason",
        "$ git log --oneline --first-parent -9",
        "$ git par list",
    ];
    let mut at = 0;
    for step in steps {
        let found =
            stderr[at..].find(step).unwrap_or_else(|| panic!("missing or out of order: {step}\n{stderr}"));
        at += found + step.len();
    }

    // Quoted so that a shell reads back exactly the arguments that ran.
    let pasted = stderr.lines().find(|l| l.contains("$ git commit -q -m 'T003: steal")).unwrap();
    let words = std::process::Command::new("sh")
        .args(["-c", &format!("for w in {}; do echo \"$w\"; done", pasted.split_once("$ ").unwrap().1)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&words.stdout), "git\ncommit\n-q\n-m\nT003: steal T004's file\n");

    let git = |args: &[&str]| scratch.git_in(&repo, args);

    // The three finishes ran at once: their output is interleaved as it came,
    // and the order shown is the order main records.
    let finishes = &stderr[stderr.find(together).unwrap() + together.len()..];
    let finishes = &finishes[..finishes.find("records them landed").unwrap()];
    let landed_lines: Vec<&str> = finishes
        .lines()
        .filter_map(|l| l.trim().strip_prefix('[').and_then(|l| l.split_once("] Landed ")).map(|(id, _)| id))
        .collect();
    let first_parent =
        git(&["log", "--first-parent", "--reverse", "--format=%(trailers:key=Par-Task,valueonly)"]);
    // The first three on main; `git par up` landed the rest after them.
    let order: Vec<&str> = first_parent.lines().map(str::trim).filter(|l| !l.is_empty()).take(3).collect();
    assert_eq!(landed_lines, order, "{finishes}");
    assert!(
        stderr.contains(&format!("records them landed in this order: {}\n", order.join(", "))),
        "{stderr}"
    );
    for id in ["T002", "T003", "T004"] {
        assert!(finishes.contains(&format!("[{id}] ")), "{finishes}");
    }

    // No directory is left empty: the worktrees' parent went with them.
    assert!(!dir.join("option-optimizer.par").exists());
    let mut empty = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        let entries: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).collect();
        if entries.is_empty() {
            empty.push(d.clone());
        }
        stack.extend(entries.into_iter().filter(|p| p.is_dir() && !p.ends_with(".git")));
    }
    assert_eq!(empty, Vec::<std::path::PathBuf>::new());

    // The three finished by hand and the seven `git par up` ran landed once
    // each, were ticked, and left nothing behind.
    let log = git(&["log", "--format=%(trailers:key=Par-Task,valueonly)"]);
    let mut landed: Vec<&str> = log.lines().filter(|l| !l.is_empty()).collect();
    landed.sort();
    assert_eq!(landed, ["T002", "T003", "T004", "T005", "T006", "T007", "T008", "T009", "T010", "T011"]);
    let tasks = std::fs::read_to_string(repo.join("specs/009-option-optimizer/tasks.md")).unwrap();
    for id in ["T002", "T003", "T004", "T005", "T011"] {
        assert!(tasks.contains(&format!("- [X] {id} ")), "{tasks}");
        assert!(tasks.contains(&format!("· logs/parallel/{id}.log")), "{tasks}");
    }
    assert!(!tasks.contains("- [ ]"), "{tasks}");
    let up = &stderr[stderr.find("$ git par up --jobs 3").unwrap()..];
    assert!(up.contains("    T011  landed  "), "{up}");
    git(&["fsck", "--strict"]);
    assert_eq!(git(&["status", "--porcelain"]), "");
    assert_eq!(git(&["branch", "--list", "par/*"]), "");
    assert_eq!(git(&["worktree", "list", "--porcelain"]).matches("worktree ").count(), 1);
    let status = scratch.par_in(&repo, &["--json", "lock-status"]).success().json();
    assert_eq!(status["tasks"], serde_json::json!([]));
}

#[test]
fn a_non_empty_directory_is_refused() {
    let scratch = TestRepo::empty();
    let run = scratch.par(&["demo", scratch.root.to_str().unwrap()]).code(1);
    assert_eq!(
        run.stderr,
        format!(
            "error: {} exists and is not empty\nhint: give `git par demo` a new or empty directory, or none for a temporary one\n",
            scratch.root.display()
        )
    );
}
