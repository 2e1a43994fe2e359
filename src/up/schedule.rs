//! Which tasks `git par up` starts next, and the schedule `--dry-run` shows.
//! Pure: it reads the task file and a snapshot of the run, and decides.
//!
//! The rules are `plan`'s (DESIGN §8), applied to what runs now rather than
//! to a wave: a task starts when its dependencies have landed, it is
//! selected (`--only`, `--until`), no class it belongs to is at its limit
//! among the running tasks, its paths overlap no lock of an active task nor
//! of a task picked in the same pass, and there is a free job. A task that
//! declares no path may touch anything, so it runs alone: it starts only
//! when nothing of this run is in flight, and nothing starts beside it.
//! Of the tasks that may start, those with the longest chain of tasks
//! waiting behind them go first (critical path first, as list schedulers
//! do), then file order: deterministic, and a story's last task does not
//! wait behind another story's `[P]` tasks.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::locks::Pattern;
use crate::tasks::{Task, TaskFile};
use crate::workflow::Classes;

/// The tasks a run may take: all of them, or those `--only` and `--until` name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    ids: Option<HashSet<String>>,
}

impl Selection {
    /// Every task of the file.
    pub fn all() -> Selection {
        Selection { ids: None }
    }

    /// `only` (when not empty), intersected with `until` and everything it
    /// depends on, transitively (when given). Unknown IDs are the caller's to refuse.
    pub fn new(file: &TaskFile, only: &[String], until: Option<&str>) -> Selection {
        let mut ids: Option<HashSet<String>> = (!only.is_empty()).then(|| only.iter().cloned().collect());
        if let Some(until) = until {
            let needed = ancestors(file, until);
            ids = Some(match ids {
                Some(only) => only.intersection(&needed).cloned().collect(),
                None => needed,
            });
        }
        Selection { ids }
    }

    /// Whether the run may take task `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.as_ref().map_or(true, |ids| ids.contains(id))
    }
}

/// `id` and every task it depends on, directly or not.
fn ancestors(file: &TaskFile, id: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut groups_seen = HashSet::new();
    let mut stack = vec![id.to_string()];
    while let Some(id) = stack.pop() {
        let Some(task) = file.get(&id) else { continue };
        if !seen.insert(id) {
            continue;
        }
        stack.extend(task.deps.iter().cloned());
        for &g in &task.after {
            // A group is expanded once, however many tasks wait for it.
            if groups_seen.insert(g) {
                if let Some(group) = file.groups.get(g) {
                    stack.extend(group.tasks.iter().map(|&t| file.tasks[t].id.clone()));
                }
            }
        }
    }
    seen
}

/// The run at one moment, as the scheduler sees it.
#[derive(Debug, Clone, Copy)]
pub struct Board<'a> {
    pub file: &'a TaskFile,
    pub selection: &'a Selection,
    /// Landed during this run (the file read may not show it yet).
    pub landed: &'a HashSet<String>,
    /// This run's tasks in flight: an agent running, or landing.
    pub in_flight: &'a HashSet<String>,
    /// How many agents run now (a landing task runs none).
    pub agents: usize,
    /// Tasks this run will not start: blocked, failed to start, active for someone else.
    pub excluded: &'a HashSet<String>,
    /// The locks of every active task (this run's and others').
    pub held: &'a [(String, Vec<Pattern>)],
}

/// The limits a run keeps to.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Agents at once (`--jobs`).
    pub jobs: usize,
    pub classes: &'a Classes,
}

impl Board<'_> {
    fn done(&self, task: &Task) -> bool {
        task.is_done() || self.landed.contains(&task.id)
    }

    /// Whether every dependency of `task` has landed; `group_done` per group.
    fn deps_landed(&self, task: &Task, group_done: &[bool]) -> bool {
        task.deps.iter().all(|d| self.file.get(d).map_or(true, |t| self.done(t)))
            && task.after.iter().all(|&g| group_done.get(g).copied().unwrap_or(true))
    }

    fn group_done(&self) -> Vec<bool> {
        self.file.groups.iter().map(|g| g.tasks.iter().all(|&t| self.done(&self.file.tasks[t]))).collect()
    }

    /// Whether the run could still start `task` some day (it is not theirs to skip).
    fn open(&self, task: &Task) -> bool {
        self.selection.contains(&task.id)
            && !self.done(task)
            && !self.in_flight.contains(&task.id)
            && !self.excluded.contains(&task.id)
    }
}

/// A task's lock patterns as `plan` reads them; paths that do not compile are left out.
pub fn patterns(task: &Task) -> Vec<Pattern> {
    task.paths.iter().filter_map(|p| Pattern::compile(p.clone()).ok()).collect()
}

/// The tasks to start now, in file order: as many as the free jobs allow.
pub fn next(board: &Board, rules: &Rules) -> Vec<String> {
    let free = rules.jobs.saturating_sub(board.agents);
    if free == 0 {
        return Vec::new();
    }
    let flying: Vec<&Task> = board.in_flight.iter().filter_map(|id| board.file.get(id)).collect();
    if flying.iter().any(|t| t.paths.is_empty()) {
        return Vec::new();
    }
    let mut class_counts: BTreeMap<String, usize> = BTreeMap::new();
    for task in &flying {
        for class in rules.classes.of(task) {
            *class_counts.entry(class).or_insert(0) += 1;
        }
    }
    let group_done = board.group_done();
    let mut picked: Vec<String> = Vec::new();
    let mut picked_patterns: Vec<Pattern> = Vec::new();
    let chains = chains_behind(board.file);
    let mut order: Vec<usize> = (0..board.file.tasks.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(chains[i]), i));
    for task in order.into_iter().map(|i| &board.file.tasks[i]) {
        if picked.len() == free {
            break;
        }
        if !board.open(task)
            || !board.deps_landed(task, &group_done)
            || board.file.duplicate(&task.id).is_some()
        {
            continue;
        }
        if task.paths.is_empty() {
            if board.in_flight.is_empty() && picked.is_empty() {
                return vec![task.id.clone()];
            }
            continue;
        }
        let classes = rules.classes.of(task);
        let within_limits = classes.iter().all(|c| match rules.classes.limits.get(c) {
            Some(limit) => class_counts.get(c).copied().unwrap_or(0) < *limit,
            None => true,
        });
        if !within_limits {
            continue;
        }
        let mine = patterns(task);
        let clash = |p: &Pattern| {
            board.held.iter().any(|(holder, held)| holder != &task.id && held.iter().any(|q| p.overlaps(q)))
                || picked_patterns.iter().any(|q| p.overlaps(q))
        };
        if mine.iter().any(clash) {
            continue;
        }
        for class in classes {
            *class_counts.entry(class).or_insert(0) += 1;
        }
        picked_patterns.extend(mine);
        picked.push(task.id.clone());
    }
    picked
}

/// For each task (by position), the number of tasks on the longest chain
/// that starts with it: itself and what waits for it, transitively. Linear:
/// a group is one node between its tasks and those waiting for it.
pub fn chains_behind(file: &TaskFile) -> Vec<usize> {
    let n = file.tasks.len();
    // Nodes: tasks 0..n, then groups n..n+groups. Edges point from a task to what waits for it.
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n + file.groups.len()];
    for (i, task) in file.tasks.iter().enumerate() {
        for dep in &task.deps {
            if let Some(d) = file.position(dep) {
                next[d].push(i);
            }
        }
        for &g in &task.after {
            if g < file.groups.len() {
                next[n + g].push(i);
            }
        }
    }
    for (g, group) in file.groups.iter().enumerate() {
        for &t in &group.tasks {
            next[t].push(n + g);
        }
    }
    let mut length: Vec<Option<usize>> = vec![None; next.len()];
    for start in 0..next.len() {
        let mut stack = vec![(start, false)];
        while let Some((node, expanded)) = stack.pop() {
            if length[node].is_some() {
                continue;
            }
            if expanded {
                let longest = next[node].iter().filter_map(|&m| length[m]).max().unwrap_or(0);
                length[node] = Some(longest + usize::from(node < n));
            } else {
                stack.push((node, true));
                // No cycles: reading the file refuses them.
                stack.extend(next[node].iter().filter(|&&m| length[m].is_none()).map(|&m| (m, false)));
            }
        }
    }
    length.into_iter().take(n).map(|l| l.unwrap_or(1)).collect()
}

/// Why a task the run could take has not started, for the summary.
pub fn why_waiting(board: &Board, id: &str) -> String {
    let Some(task) = board.file.get(id) else { return "not in the task file".to_string() };
    let group_done = board.group_done();
    let mut waits: Vec<String> = Vec::new();
    for dep in board.file.all_deps(task) {
        if board.done(dep) {
            continue;
        }
        let why = if board.excluded.contains(&dep.id) {
            "blocked or held elsewhere"
        } else if !board.selection.contains(&dep.id) {
            "not selected"
        } else {
            "not landed"
        };
        waits.push(format!("{} ({why})", dep.id));
        if waits.len() == 3 {
            break;
        }
    }
    if !waits.is_empty() || !board.deps_landed(task, &group_done) {
        return format!("waits for {}", waits.join(", "));
    }
    let mine = patterns(task);
    let holders: Vec<&str> = board
        .held
        .iter()
        .filter(|(holder, held)| holder != id && mine.iter().any(|p| held.iter().any(|q| p.overlaps(q))))
        .map(|(holder, _)| holder.as_str())
        .collect();
    if !holders.is_empty() {
        return format!("its paths are held by {}", holders.join(", "));
    }
    "not started".to_string()
}

/// The schedule `--dry-run` shows: waves of tasks that would run together
/// if every agent took the same time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Simulation {
    /// Task IDs by wave; the first holds the tasks already active for this run.
    pub waves: Vec<Vec<String>>,
    /// Selected tasks the run would never start, with why.
    pub never: Vec<(String, String)>,
    /// Tasks on the longest dependency chain among those to run.
    pub critical_path: usize,
}

/// Plays the run in lockstep: each wave starts what [`next`] allows, all
/// its agents take one unit of time, and all of them land before the next
/// wave. With agents of equal length L that is the run's ideal wall time:
/// `waves.len() × L`. `adopted` are this run's active tasks (they run
/// first); `held` the locks of every active task.
pub fn simulate(
    file: &TaskFile,
    selection: &Selection,
    rules: &Rules,
    adopted: &[String],
    excluded: &HashSet<String>,
    held: &[(String, Vec<Pattern>)],
) -> Simulation {
    let mut landed: HashSet<String> = HashSet::new();
    let mut waves: Vec<Vec<String>> = Vec::new();
    let adopted: Vec<String> = adopted.iter().filter(|id| selection.contains(id)).cloned().collect();
    // Locks of tasks that are not this run's stay held throughout.
    let foreign: Vec<(String, Vec<Pattern>)> =
        held.iter().filter(|(id, _)| !adopted.contains(id)).cloned().collect();
    loop {
        let mut wave: Vec<String> = if waves.is_empty() { adopted.clone() } else { Vec::new() };
        let in_flight: HashSet<String> = wave.iter().cloned().collect();
        let mut wave_held = foreign.clone();
        wave_held.extend(held.iter().filter(|(id, _)| in_flight.contains(id)).cloned());
        let board = Board {
            file,
            selection,
            landed: &landed,
            in_flight: &in_flight,
            agents: wave.len(),
            excluded,
            held: &wave_held,
        };
        wave.extend(next(&board, rules));
        if wave.is_empty() {
            break;
        }
        landed.extend(wave.iter().cloned());
        waves.push(wave);
    }
    let in_flight = HashSet::new();
    let board = Board {
        file,
        selection,
        landed: &landed,
        in_flight: &in_flight,
        agents: 0,
        excluded,
        held: &foreign,
    };
    let never = file
        .tasks
        .iter()
        .filter(|t| board.open(t) && file.duplicate(&t.id).is_none())
        .map(|t| (t.id.clone(), why_waiting(&board, &t.id)))
        .chain(
            file.tasks
                .iter()
                .filter(|t| selection.contains(&t.id) && !t.is_done() && file.duplicate(&t.id).is_some())
                .map(|t| (t.id.clone(), "its ID is used by several tasks".to_string())),
        )
        .collect();
    let critical_path = critical_path(file, selection);
    Simulation { waves, never, critical_path }
}

/// The number of tasks on the longest chain of dependencies among the
/// selected tasks not done yet (done tasks take no time). Iterative, so a
/// long chain cannot overflow the stack; a group is measured once.
pub fn critical_path(file: &TaskFile, selection: &Selection) -> usize {
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    enum Node {
        Task(usize),
        Group(usize),
    }
    let mut memo: HashMap<Node, usize> = HashMap::new();
    let children = |node: Node| -> Vec<Node> {
        match node {
            Node::Task(i) => {
                let task = &file.tasks[i];
                let mut out: Vec<Node> =
                    task.deps.iter().filter_map(|d| file.position(d)).map(Node::Task).collect();
                out.extend(task.after.iter().map(|&g| Node::Group(g)));
                out
            }
            Node::Group(g) => file
                .groups
                .get(g)
                .map(|g| g.tasks.iter().map(|&t| Node::Task(t)).collect())
                .unwrap_or_default(),
        }
    };
    let weight = |node: Node| match node {
        Node::Task(i) => {
            let task = &file.tasks[i];
            usize::from(!task.is_done() && selection.contains(&task.id))
        }
        Node::Group(_) => 0,
    };
    let mut best = 0;
    for start in 0..file.tasks.len() {
        let mut stack = vec![(Node::Task(start), false)];
        while let Some((node, expanded)) = stack.pop() {
            if memo.contains_key(&node) {
                continue;
            }
            if expanded {
                let longest = children(node).iter().filter_map(|c| memo.get(c)).copied().max().unwrap_or(0);
                memo.insert(node, longest + weight(node));
            } else {
                stack.push((node, true));
                // Dependencies cannot form a cycle (reading the file refuses one).
                stack
                    .extend(children(node).into_iter().filter(|c| !memo.contains_key(c)).map(|c| (c, false)));
            }
        }
        best = best.max(memo.get(&Node::Task(start)).copied().unwrap_or(0));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> TaskFile {
        crate::tasks::read(text, &crate::tasks::Options::default()).unwrap()
    }

    fn classes(flags: &[&str]) -> Classes {
        let flags: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        Classes::new(&BTreeMap::new(), &BTreeMap::new(), &flags).unwrap()
    }

    struct Run {
        landed: HashSet<String>,
        in_flight: HashSet<String>,
        excluded: HashSet<String>,
        held: Vec<(String, Vec<Pattern>)>,
        selection: Selection,
    }

    impl Run {
        fn new() -> Run {
            Run {
                landed: HashSet::new(),
                in_flight: HashSet::new(),
                excluded: HashSet::new(),
                held: Vec::new(),
                selection: Selection::all(),
            }
        }

        /// Starts `id` as the run loop does: in flight, its paths held.
        fn start(&mut self, file: &TaskFile, id: &str) {
            self.in_flight.insert(id.to_string());
            self.held.push((id.to_string(), patterns(file.get(id).unwrap())));
        }

        fn land(&mut self, id: &str) {
            self.in_flight.remove(id);
            self.held.retain(|(h, _)| h != id);
            self.landed.insert(id.to_string());
        }

        fn next(&self, file: &TaskFile, jobs: usize, classes: &Classes) -> Vec<String> {
            let board = Board {
                file,
                selection: &self.selection,
                landed: &self.landed,
                in_flight: &self.in_flight,
                agents: self.in_flight.len(),
                excluded: &self.excluded,
                held: &self.held,
            };
            next(&board, &Rules { jobs, classes })
        }
    }

    const PLAN: &str = "\
## Phase 1: Setup

- [ ] T001 Create the skeleton in src/app/__init__.py

## Phase 2: Foundational

- [ ] T002 [P] Model in src/app/a.py
- [ ] T003 [P] Model in src/app/b.py
- [ ] T004 [P] Model in src/app/c.py
- [ ] T005 [P] [HTTP] Fetch in src/app/d.py
- [ ] T006 [P] [HTTP] Fetch in src/app/e.py
- [ ] T007 Wire them in src/app/wire.py

## Phase 3: Polish

- [ ] T008 [P] Docs in docs/a.md
- [ ] T009 [P] Docs in docs/b.md
";

    #[test]
    fn dependencies_land_before_anything_waiting_for_them_starts() {
        let file = read(PLAN);
        let classes = classes(&[]);
        let mut run = Run::new();
        assert_eq!(run.next(&file, 4, &classes), ["T001"]);
        run.start(&file, "T001");
        assert!(run.next(&file, 4, &classes).is_empty(), "T002.. wait for T001 to land");
        run.land("T001");
        // One HTTP task at a time; four jobs.
        assert_eq!(run.next(&file, 4, &classes), ["T002", "T003", "T004", "T005"]);
        for id in ["T002", "T003", "T004", "T005"] {
            run.start(&file, id);
        }
        assert!(run.next(&file, 4, &classes).is_empty(), "no free job");
        run.land("T002");
        assert!(run.next(&file, 4, &classes).is_empty(), "T006 is HTTP like the running T005");
        run.land("T005");
        assert_eq!(run.next(&file, 4, &classes), ["T006"]);
        run.start(&file, "T006");
        for id in ["T003", "T004", "T006"] {
            run.land(id);
        }
        assert_eq!(run.next(&file, 4, &classes), ["T007"]);
    }

    #[test]
    fn the_job_bound_counts_agents_not_landings() {
        let file = read(PLAN);
        let classes = classes(&["http=9"]);
        let mut run = Run::new();
        run.landed.insert("T001".into());
        assert_eq!(run.next(&file, 2, &classes), ["T002", "T003"]);
        let board = Board {
            file: &file,
            selection: &run.selection,
            landed: &run.landed,
            in_flight: &HashSet::from(["T002".to_string(), "T003".to_string()]),
            agents: 1,
            excluded: &run.excluded,
            held: &run.held,
        };
        assert_eq!(next(&board, &Rules { jobs: 2, classes: &classes }), ["T004"]);
    }

    #[test]
    fn locks_of_active_tasks_and_of_picked_tasks_keep_others_out() {
        let file = read(
            "## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] B in src/a.py\n- [ ] T003 [P] C in src/\n- [ ] T004 [P] D in docs/x.md\n",
        );
        let classes = classes(&[]);
        let mut run = Run::new();
        assert_eq!(run.next(&file, 8, &classes), ["T001", "T004"]);
        // Someone else's task holds docs/.
        run.held.push(("T099".into(), vec![Pattern::new("docs/").unwrap()]));
        assert_eq!(run.next(&file, 8, &classes), ["T001"]);
        run.start(&file, "T001");
        assert!(run.next(&file, 8, &classes).is_empty());
        run.land("T001");
        assert_eq!(run.next(&file, 8, &classes), ["T002"]);
    }

    #[test]
    fn a_task_without_paths_runs_alone() {
        let file = read(
            "## Phase 1\n\n- [ ] T001 [P] A in src/a.py\n- [ ] T002 [P] Tidy up everything\n- [ ] T003 [P] C in src/c.py\n",
        );
        let classes = classes(&[]);
        let mut run = Run::new();
        assert_eq!(run.next(&file, 4, &classes), ["T001", "T003"]);
        run.start(&file, "T001");
        assert!(!run.next(&file, 4, &classes).contains(&"T002".to_string()));
        run.land("T001");
        // Nothing in flight: the pathless task goes, and alone.
        assert_eq!(run.next(&file, 4, &classes), ["T002"]);
        run.start(&file, "T002");
        assert!(run.next(&file, 4, &classes).is_empty());
        run.land("T002");
        assert_eq!(run.next(&file, 4, &classes), ["T003"]);
    }

    #[test]
    fn excluded_and_unselected_tasks_are_not_started_and_say_why_others_wait() {
        let file = read(PLAN);
        let classes = classes(&[]);
        let mut run = Run::new();
        run.excluded.insert("T001".into());
        assert!(run.next(&file, 4, &classes).is_empty());
        let board = Board {
            file: &file,
            selection: &run.selection,
            landed: &run.landed,
            in_flight: &run.in_flight,
            agents: 0,
            excluded: &run.excluded,
            held: &run.held,
        };
        assert_eq!(why_waiting(&board, "T002"), "waits for T001 (blocked or held elsewhere)");
        run.excluded.clear();
        run.selection = Selection::new(&file, &["T002".to_string()], None);
        assert!(run.next(&file, 4, &classes).is_empty());
        run.landed.insert("T001".into());
        assert_eq!(run.next(&file, 4, &classes), ["T002"]);
    }

    #[test]
    fn until_selects_a_task_and_everything_it_needs() {
        let file = read(PLAN);
        let sel = Selection::new(&file, &[], Some("T007"));
        let mut ids: Vec<&str> =
            file.tasks.iter().map(|t| t.id.as_str()).filter(|id| sel.contains(id)).collect();
        ids.sort();
        assert_eq!(ids, ["T001", "T002", "T003", "T004", "T005", "T006", "T007"]);
        let both = Selection::new(&file, &["T001".to_string(), "T009".to_string()], Some("T007"));
        assert!(both.contains("T001") && !both.contains("T009") && !both.contains("T002"));
    }

    #[test]
    fn the_dry_run_plays_equal_agents_in_lockstep() {
        let file = read(PLAN);
        let classes = classes(&[]);
        let rules = Rules { jobs: 3, classes: &classes };
        let sim = simulate(&file, &Selection::all(), &rules, &[], &HashSet::new(), &[]);
        assert_eq!(
            sim.waves,
            vec![
                vec!["T001".to_string()],
                vec!["T002".into(), "T003".into(), "T004".into()],
                vec!["T005".into()],
                vec!["T006".into()],
                vec!["T007".into()],
                vec!["T008".into(), "T009".into()],
            ]
        );
        assert!(sim.never.is_empty());
        assert_eq!(sim.critical_path, 4, "T001 → a phase-2 task → T007 → a phase-3 task");

        let wide = Rules { jobs: 8, classes: &classes };
        let sim = simulate(&file, &Selection::all(), &wide, &[], &HashSet::new(), &[]);
        assert_eq!(sim.waves.len(), 5, "{:?}", sim.waves);
    }

    #[test]
    fn the_dry_run_starts_with_adopted_tasks_and_names_what_never_runs() {
        let file = read(PLAN);
        let classes = classes(&[]);
        let rules = Rules { jobs: 2, classes: &classes };
        let held = vec![("T001".to_string(), patterns(file.get("T001").unwrap()))];
        let sim = simulate(&file, &Selection::all(), &rules, &["T001".to_string()], &HashSet::new(), &held);
        assert_eq!(sim.waves[0], ["T001"]);
        assert_eq!(sim.waves[1], ["T002", "T003"]);

        let excluded = HashSet::from(["T007".to_string()]);
        let sim = simulate(&file, &Selection::all(), &rules, &[], &excluded, &[]);
        let never: Vec<&str> = sim.never.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(never, ["T008", "T009"]);
        assert_eq!(sim.never[0].1, "waits for T007 (blocked or held elsewhere)");
    }

    #[test]
    fn tasks_with_longer_chains_behind_them_go_first() {
        let file = read(
            "## Phase 1\n\n- [ ] T001 [P] A in a.py\n- [ ] T002 [P] B in b.py\n- [ ] T003 [P] C in c.py\n\
             - [ ] T004 [P] D in d.py (depends on T003)\n- [ ] T005 [P] E in e.py (depends on T004)\n",
        );
        assert_eq!(chains_behind(&file), [1, 1, 3, 2, 1]);
        let classes = classes(&[]);
        let run = Run::new();
        assert_eq!(run.next(&file, 2, &classes), ["T003", "T001"]);
        // Through a group: the last task of a phase waits for the whole group.
        assert_eq!(chains_behind(&read(PLAN)), [4, 3, 3, 3, 3, 3, 2, 1, 1]);
    }

    #[test]
    fn the_critical_path_skips_done_tasks_and_survives_long_chains() {
        let file = read("## P\n\n- [X] T1 a in a.py\n- [ ] T2 b in b.py\n- [ ] T3 c in c.py\n");
        assert_eq!(critical_path(&file, &Selection::all()), 2);
        let mut text = String::from("## P\n\n");
        for i in 1..=20_000 {
            text.push_str(&format!("- [ ] T{i} step in f{i}.py\n"));
        }
        let file = read(&text);
        assert_eq!(critical_path(&file, &Selection::all()), 20_000);
    }
}
