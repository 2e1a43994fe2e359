//! The distributed torture run (ignored by default; `GIT_PAR_TORTURE_SECS`
//! bounds it, default 60): 4 clones × 4 workers race start, commit, finish
//! and abort over one `file://` remote, with finishes killed (as by kill -9)
//! and repaired by `doctor --repair` on their machine. Then, on every version
//! in the history of `refs/par/state`, no two active tasks overlap; on the
//! remote main every landed task is there exactly once and ticked exactly
//! once, and `git fsck` is clean everywhere.
//!
//! `cargo test --test cli -- --ignored remote::torture --nocapture`

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::servers::Transport;
use super::{git, spawn, ticks, write, Cluster, Machine};

const MACHINES: usize = 4;
const WORKERS: usize = 4;
const TASKS: usize = 48;
const DIRS: usize = 10;

fn id(i: usize) -> String {
    format!("T{:03}", i + 1)
}

/// Task `i` writes its own file in directory `i % DIRS`, which it locks whole:
/// tasks of one directory exclude each other, and never conflict in content.
fn dir(i: usize) -> String {
    format!("src/d{}/", i % DIRS)
}

fn plan() -> String {
    let mut text = String::from("# Tasks\n\n## Phase 1\n\n");
    for i in 0..TASKS {
        text.push_str(&format!("- [ ] {} [P] Write {}\n", id(i), dir(i)));
    }
    text
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[derive(Default)]
struct Ledger {
    /// Tasks a finish reported landed (exit 0).
    landed: BTreeSet<String>,
    counts: BTreeMap<&'static str, usize>,
}

impl Ledger {
    fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }
}

fn worker(m: &Machine, seed: u64, deadline: Instant, ledger: &Mutex<Ledger>, kills: &AtomicUsize) {
    let mut rng = Rng(seed | 1);
    let count = |what| ledger.lock().expect("ledger").count(what);
    while Instant::now() < deadline {
        let i = rng.below(TASKS);
        let task = id(i);
        let start = m.par(&["start", &task]);
        match start.code {
            0 => count("started"),
            3 => {
                count("start busy");
                continue;
            }
            _ => {
                count("start refused");
                continue;
            }
        }
        let wt = m.worktree(&task);
        write(&wt.join(dir(i)).join(format!("{task}.txt")), &format!("{task} by {}\n", m.host));
        git(&m.home, &wt, &["add", "-A"]);
        git(&m.home, &wt, &["commit", "-q", "-m", &format!("{task} work")]);
        if rng.below(5) == 0 {
            m.par(&["abort", &task, "--force"]).success();
            count("aborted");
            continue;
        }
        if rng.below(8) == 0 {
            // kill -9 in the middle of a finish, then repair on this machine.
            let child = spawn(m.par_command(&m.root, &["finish", &task, "--wait", "120"]));
            std::thread::sleep(Duration::from_millis(20 + rng.below(400) as u64));
            let pid = child.id();
            let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
            let out = child.wait_with_output().expect("wait");
            kills.fetch_add(1, Ordering::SeqCst);
            count("killed");
            if out.status.success() {
                ledger.lock().expect("ledger").landed.insert(task.clone());
            }
            let repair = m.par(&["doctor", "--repair", "--json"]);
            if repair.code != 0 {
                // Another worker's finish may hold things up; say so, the checks decide.
                eprintln!(
                    "{}: doctor --repair after killing {task}: {}{}",
                    m.host, repair.stdout, repair.stderr
                );
                count("repair left problems");
            }
            // Whatever the repair decided, the task is landed or active again.
            let status = m.par(&["lock-status", "--json"]);
            let active = status.code == 0
                && status.json()["tasks"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|r| r["id"] == task.as_str()));
            if !active {
                continue;
            }
        }
        loop {
            let finish = m.par(&["finish", &task, "--wait", "120"]);
            match finish.code {
                0 => {
                    let mut l = ledger.lock().expect("ledger");
                    l.landed.insert(task.clone());
                    l.count("landed");
                    break;
                }
                3 if Instant::now() < deadline + Duration::from_secs(60) => {
                    count("finish busy");
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    eprintln!("{}: finish {task} exited {}: {}", m.host, finish.code, finish.stderr);
                    count("finish failed");
                    let _ = m.par(&["abort", &task, "--force"]);
                    break;
                }
            }
        }
    }
}

fn overlapping(state: &Value) -> Option<String> {
    let tasks = state["tasks"].as_object()?;
    let locks: Vec<(&String, Vec<&str>)> = tasks
        .iter()
        .map(|(id, t)| {
            (
                id,
                t["locks"]
                    .as_array()
                    .map(|l| l.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default(),
            )
        })
        .collect();
    for (n, (a, la)) in locks.iter().enumerate() {
        for (b, lb) in &locks[n + 1..] {
            for x in la {
                for y in lb {
                    if x.starts_with(y) || y.starts_with(x) {
                        return Some(format!("{a} ({x}) and {b} ({y})"));
                    }
                }
            }
        }
    }
    None
}

#[test]
#[ignore = "long: GIT_PAR_TORTURE_SECS=120 cargo test --test cli -- --ignored remote::torture"]
fn torture_four_machines_four_workers_one_remote() {
    let secs = std::env::var("GIT_PAR_TORTURE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut files = Vec::new();
    for d in 0..DIRS {
        files.push(format!("src/d{d}/.keep"));
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let cluster = Cluster::new(Transport::File, &plan(), &files).expect("file://");
    let machines: Vec<Arc<Machine>> =
        (0..MACHINES).map(|n| Arc::new(cluster.machine(&format!("m{n}")))).collect();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let kills = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let seed = std::env::var("GIT_PAR_TORTURE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64)
    });
    eprintln!("torture: {MACHINES} machines × {WORKERS} workers, {TASKS} tasks, {secs} s, seed {seed}");
    let mut threads = Vec::new();
    for (n, m) in machines.iter().enumerate() {
        for w in 0..WORKERS {
            let (m, ledger, kills) = (m.clone(), ledger.clone(), kills.clone());
            let seed = seed.wrapping_add(((n * WORKERS + w) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            threads.push(std::thread::spawn(move || worker(&m, seed, deadline, &ledger, &kills)));
        }
    }
    for t in threads {
        t.join().expect("worker");
    }
    let ran = started.elapsed();
    // Quiesce: every machine repairs what its own killed finishes left.
    for m in &machines {
        m.par(&["doctor", "--repair"]);
    }
    // And then each machine is consistent: nothing left for a person.
    for m in &machines {
        let doctor = m.par(&["doctor", "--json"]);
        assert_eq!(doctor.code, 0, "{}: doctor after the run:\n{}{}", m.host, doctor.stdout, doctor.stderr);
    }

    // 1. No two active tasks overlap in any version of the state.
    let versions = cluster.git(&["rev-list", "refs/par/state"]);
    let versions: Vec<&str> = versions.lines().collect();
    for commit in &versions {
        let text = cluster.git(&["show", &format!("{commit}:state.json")]);
        let state: Value = serde_json::from_str(&text).expect("state.json");
        if let Some(overlap) = overlapping(&state) {
            panic!("state {commit} has overlapping active tasks: {overlap}");
        }
    }
    // 2. On the remote main: every landed task once, ticked once, its file there.
    let tasks_md = cluster.git(&["show", "main:specs/001-demo/tasks.md"]);
    let trailers = cluster.git(&["log", "--format=%(trailers:key=Par-Task,valueonly)", "main"]);
    let mut landings: BTreeMap<String, usize> = BTreeMap::new();
    for t in trailers.lines().map(str::trim).filter(|t| !t.is_empty()) {
        *landings.entry(t.to_string()).or_default() += 1;
    }
    let ledger = ledger.lock().expect("ledger");
    for (task, n) in &landings {
        assert_eq!(*n, 1, "{task} landed {n} times");
        assert_eq!(ticks(&tasks_md, task), (1, 1), "{task} in tasks.md:\n{tasks_md}");
        let i: usize = task[1..].parse::<usize>().expect("id") - 1;
        let file = format!("main:{}{task}.txt", dir(i));
        cluster.git(&["cat-file", "-e", &file]);
    }
    for task in &ledger.landed {
        assert!(landings.contains_key(task), "{task} reported landed but is not on main");
    }
    for i in 0..TASKS {
        let task = id(i);
        if !landings.contains_key(&task) {
            assert_eq!(ticks(&tasks_md, &task), (0, 0), "{task} ticked but not landed");
        }
    }
    // 3. fsck clean on the remote and on every machine.
    cluster.git(&["fsck", "--no-progress"]);
    for m in &machines {
        m.git(&["fsck", "--no-progress"]);
    }
    eprintln!(
        "torture: ran {:.0} s; {} state versions checked; {} tasks landed on main ({} by finishes that exited 0); {} finishes killed; {:?}",
        ran.as_secs_f64(),
        versions.len(),
        landings.len(),
        ledger.landed.len(),
        kills.load(Ordering::SeqCst),
        ledger.counts
    );
    assert!(!landings.is_empty(), "nothing landed in {secs} s");
}
