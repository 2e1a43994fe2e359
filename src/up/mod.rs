//! `git par up`: the operator's loop, run by git-par (DESIGN §11). It keeps
//! up to `--jobs` agents running, each in its own task's worktree, starting
//! the tasks [`schedule`] allows, and lands each task through the merge
//! queue as soon as its agent exits 0.
//!
//! Invariants:
//! - A task is started, landed and blocked only through [`domain`], so the
//!   guarantees of `start`, `finish` and `block` hold for every task of a run.
//! - One `git par up` at a time per repository ([`domain::Domain::exclusive`]).
//! - A failing agent, a refused landing or a failing verify either runs the
//!   agent again with the reason (`--retries`) or blocks the task with it;
//!   the run goes on with whatever does not depend on it.
//! - Nothing of a run lives only in this process: every task it took is in
//!   the state (active until it lands or is blocked) with a record of its
//!   agent under `.git/par/up/`; the agent's exit status is written there by
//!   the agent's wrapper itself. A `kill -9` loses nothing, and the next
//!   `git par up` adopts the active tasks: it lands those whose agent exited
//!   0, waits for agents still running, and runs the others again (first
//!   preparing the worktree again when the run died inside the start).
//! - Ctrl-C (SIGINT or SIGTERM) once: no task or retry starts any more,
//!   running agents finish and land. Twice: the agents are stopped and their
//!   tasks stay active. A landing that fails after a Ctrl-C (its verify may
//!   have been interrupted too) leaves the task active instead of blocking it.

pub mod agent;
mod domain;
pub mod events;
pub mod schedule;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::locks::Pattern;
use crate::logs;
use crate::state::{State, TaskStatus};
use crate::workflow::Classes;
use crate::workspace::Workspace;
use agent::Record;
use domain::{Domain, LandFailure, LandFailureKind, Lander, Plan, StartFailure};
use events::{Adoption, Event, Outcome, Row, Summary};
use schedule::{Board, Rules, Selection};

/// How long the loop waits before looking again at what cannot tell it
/// (timeouts, agents in tmux panes or left by an earlier run, the view).
const TICK: Duration = Duration::from_millis(100);

/// How many times a landing that failed for a passing reason (main moved,
/// an index locked) is tried before the task counts as failed.
const MAX_LANDINGS: u32 = 3;

/// The pause before landing again, times the landings tried.
const RELAND_PAUSE: Duration = Duration::from_secs(1);

/// The exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const INTERRUPTED: i32 = 130;

/// Why `git par up` does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpError {
    /// `--only` or `--until` names a task the task file `rel` does not have.
    UnknownTask { id: String, rel: String },
    /// Another `git par up` runs in this repository (busy).
    Running,
}

impl std::fmt::Display for UpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpError::UnknownTask { id, rel } => write!(f, "no task {id} in {rel}"),
            UpError::Running => f.write_str("another `git par up` is running in this repository"),
        }
    }
}

impl std::error::Error for UpError {}

/// What `git par up` was asked to do, resolved by the command.
#[derive(Debug, Clone)]
pub struct Options {
    /// How each task lands (`par.strategy`).
    pub strategy: crate::land::Strategy,
    /// Agents at once.
    pub jobs: usize,
    /// The agent command template (`--agent` or `par.agent`).
    pub agent: String,
    /// The verify command for landings (`--verify`; `par.verify` otherwise).
    pub verify: Option<String>,
    pub only: Vec<String>,
    pub until: Option<String>,
    /// How many times a task's agent runs again after a failure before the task is blocked.
    pub retries: u32,
    /// An agent running longer is stopped and counts as failed.
    pub timeout: Option<Duration>,
    /// Run each agent in a pane of this tmux session.
    pub tmux: Option<String>,
    pub classes: Classes,
}

/// What watches a run: the command's renderer. It is told what happens
/// and never decides anything.
pub trait Observer {
    /// Something happened.
    fn event(&mut self, event: &Event);
    /// The tasks in flight now, several times a second.
    fn tick(&mut self, _running: &[InFlight<'_>]) {}
}

/// A task in flight, for a live view.
#[derive(Debug, Clone, Copy)]
pub struct InFlight<'a> {
    pub task: &'a str,
    /// Since its agent started, or its landing.
    pub elapsed: Duration,
    /// `false` while its agent runs, `true` while it lands.
    pub landing: bool,
    pub log: &'a Path,
}

/// Counts Ctrl-Cs (SIGINT) and SIGTERMs, and wakes the run on each.
pub struct Interrupts {
    count: Arc<AtomicUsize>,
}

impl Interrupts {
    /// Catches SIGINT and SIGTERM from now on; each one is counted and a
    /// message sent on `wake`.
    fn install(wake: Sender<Message>) -> Result<Interrupts> {
        let count = Arc::new(AtomicUsize::new(0));
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
                .map_err(|e| anyhow::anyhow!("catching Ctrl-C: {e}"))?;
            let counter = Arc::clone(&count);
            std::thread::spawn(move || {
                for _ in signals.forever() {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let _ = wake.send(Message::Signal);
                }
            });
        }
        #[cfg(not(unix))]
        let _ = wake;
        Ok(Interrupts { count })
    }

    fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// What the loop is told by other threads.
enum Message {
    /// An agent (a child of this process) ended.
    Exited {
        task: String,
        attempt: u32,
        code: Option<i32>,
    },
    /// A landing ended.
    Landed {
        task: String,
        result: Result<String, domain::LandFailure>,
    },
    Signal,
}

/// Where a task of this run is.
struct Flight {
    attempt: u32,
    /// Landings tried for this attempt.
    landings: u32,
    /// When the run took it, for the summary's time.
    taken: Instant,
    stage: Stage,
}

enum Stage {
    Agent(Running),
    Landing(Instant),
}

/// An agent that runs.
struct Running {
    pid: Option<u32>,
    launched: Instant,
    /// Where its output starts in the log.
    log_from: u64,
    /// Not a child of this process (in a tmux pane, or left by an earlier
    /// run): looked at every tick rather than waited for.
    watched: Option<Record>,
    /// When it was sent SIGTERM.
    stopping: Option<Instant>,
    timed_out: bool,
}

/// The schedule `--dry-run` prints.
#[derive(Debug, Clone)]
pub struct DryRun {
    pub tasks_file: String,
    pub jobs: usize,
    pub simulation: schedule::Simulation,
}

/// Computes the schedule a run would follow now, changing nothing.
pub fn dry_run(ws: &Workspace, options: &Options) -> Result<DryRun> {
    let domain = &Domain::new(ws);
    let plan = domain.plan()?;
    let selection = select(&plan, options)?;
    let state = domain.state()?;
    let run_dir = domain.run_dir();
    let mut adopted = Vec::new();
    let mut excluded = HashSet::new();
    for (id, task) in &state.tasks {
        if task.state == TaskStatus::Active && Record::load(&record_path(&run_dir, id)).is_some() {
            adopted.push(id.clone());
        } else {
            excluded.insert(id.clone());
        }
    }
    adopted.sort_by_key(|id| plan.file.position(id));
    let held = held_locks(&state);
    let rules = Rules { jobs: options.jobs, classes: &options.classes };
    let simulation = schedule::simulate(&plan.file, &selection, &rules, &adopted, &excluded, &held);
    Ok(DryRun { tasks_file: plan.rel, jobs: options.jobs, simulation })
}

/// Runs the plan. Returns the summary; its `exit` is the process's exit code.
pub fn run(ws: &Workspace, options: &Options, observer: &mut dyn Observer) -> Result<Summary> {
    let domain = &Domain::new(ws);
    domain.exclusive(|| {
        let plan = domain.plan()?;
        let selection = select(&plan, options)?;
        domain.exclude_logs()?;
        let lander = domain.lander(&plan, options.strategy, options.verify.clone())?;
        let (tx, rx) = mpsc::channel();
        let interrupts = Interrupts::install(tx.clone())?;
        let mut run = Run {
            domain,
            options,
            observer,
            run_dir: domain.run_dir(),
            plan,
            selection,
            lander,
            tx,
            interrupts,
            seen_interrupts: 0,
            flights: BTreeMap::new(),
            retries: VecDeque::new(),
            landed: HashSet::new(),
            excluded: HashSet::new(),
            deferred: HashSet::new(),
            rows: HashMap::new(),
            warned: HashSet::new(),
            unprepared: HashSet::new(),
            stale: false,
            began: Instant::now(),
        };
        let tasks =
            run.plan.file.tasks.iter().filter(|t| !t.is_done() && run.selection.contains(&t.id)).count();
        run.emit(Event::Planned { tasks, jobs: options.jobs });
        for message in std::mem::take(&mut run.plan.warnings) {
            run.emit(Event::Warning { message });
        }
        run.adopt()?;
        run.drive(&rx)?;
        Ok(run.finish())
    })
}

/// The tasks `--only` and `--until` select, refusing IDs the plan does not have.
fn select(plan: &Plan, options: &Options) -> Result<Selection> {
    for id in options.only.iter().chain(&options.until) {
        if plan.file.get(id).is_none() {
            return Err(UpError::UnknownTask { id: id.clone(), rel: plan.rel.clone() }.into());
        }
    }
    Ok(Selection::new(&plan.file, &options.only, options.until.as_deref()))
}

/// The compiled locks of every active task.
fn held_locks(state: &State) -> Vec<(String, Vec<Pattern>)> {
    state
        .tasks
        .values()
        .map(|t| (t.id.clone(), t.locks.iter().filter_map(|l| Pattern::new(l).ok()).collect()))
        .collect()
}

fn record_path(run_dir: &Path, id: &str) -> PathBuf {
    run_dir.join(format!("{id}.json"))
}

fn exit_path(run_dir: &Path, id: &str) -> PathBuf {
    run_dir.join(format!("{id}.exit"))
}

fn env_path(run_dir: &Path, id: &str) -> PathBuf {
    run_dir.join(format!("{id}.env"))
}

struct Run<'a, 'o> {
    domain: &'a Domain<'a>,
    options: &'a Options,
    observer: &'o mut dyn Observer,
    run_dir: PathBuf,
    plan: Plan,
    selection: Selection,
    lander: Lander,
    tx: Sender<Message>,
    interrupts: Interrupts,
    /// Interrupts already acted on.
    seen_interrupts: usize,
    flights: BTreeMap<String, Flight>,
    /// Active tasks whose agent runs again when a job is free: (task, attempt, why, taken).
    retries: VecDeque<(String, u32, String, Instant)>,
    landed: HashSet<String>,
    /// Never started by this run: blocked, failed to start, someone else's.
    excluded: HashSet<String>,
    /// Refused as busy: not tried again until something lands or ends.
    deferred: HashSet<String>,
    rows: HashMap<String, Row>,
    /// Warnings already shown (with the task's ID taken out).
    warned: HashSet<String>,
    /// Adopted tasks whose start was cut short: prepared again before their agent runs.
    unprepared: HashSet<String>,
    /// The task file changed since it was read (a landing ticked it).
    stale: bool,
    began: Instant,
}

impl Run<'_, '_> {
    fn emit(&mut self, event: Event) {
        self.observer.event(&event);
    }

    fn warn(&mut self, id: &str, message: String) {
        if self.warned.insert(message.replace(id, "ID")) {
            self.emit(Event::Warning { message });
        }
    }

    /// Takes over this run's tasks left active by an earlier `git par up`.
    fn adopt(&mut self) -> Result<()> {
        let state = self.domain.state()?;
        self.forget_records(&state);
        for (id, task) in &state.tasks {
            let record = Record::load(&record_path(&self.run_dir, id));
            let ours = record.is_some() && self.selection.contains(id);
            match (task.state, record) {
                (TaskStatus::Active, Some(record)) if ours => {
                    let now = Instant::now();
                    if agent::read_exit(&exit_path(&self.run_dir, id)) == Some(0) {
                        self.emit(Event::Adopted { task: id.clone(), then: Adoption::Landing });
                        self.flights.insert(
                            id.clone(),
                            Flight {
                                attempt: record.attempt,
                                landings: 0,
                                taken: now,
                                stage: Stage::Landing(now),
                            },
                        );
                        self.land(id);
                    } else if record.alive() {
                        self.emit(Event::Adopted { task: id.clone(), then: Adoption::Running });
                        let since = Duration::from_millis(agent::now_ms().saturating_sub(record.launched_ms));
                        let launched = now.checked_sub(since).unwrap_or(now);
                        let running = Running {
                            pid: record.pid,
                            launched,
                            log_from: agent::log_len(&self.domain.log_path(id)),
                            watched: Some(record.clone()),
                            stopping: None,
                            timed_out: false,
                        };
                        self.flights.insert(
                            id.clone(),
                            Flight {
                                attempt: record.attempt,
                                landings: 0,
                                taken: now,
                                stage: Stage::Agent(running),
                            },
                        );
                    } else {
                        self.emit(Event::Adopted { task: id.clone(), then: Adoption::Rerun });
                        if !record.prepared {
                            // Killed while the task started: its worktree may be half prepared.
                            self.unprepared.insert(id.clone());
                        }
                        let why =
                            "the previous `git par up` stopped before this task's agent finished".to_string();
                        self.retries.push_back((id.clone(), record.attempt, why, now));
                    }
                }
                (TaskStatus::Blocked, _) => {
                    self.excluded.insert(id.clone());
                    if self.selection.contains(id) && self.plan.file.get(id).is_some() {
                        let reason = task.blocked_reason.clone().unwrap_or_default();
                        self.row(
                            id,
                            Outcome::Blocked,
                            None,
                            None,
                            Some(format!("blocked before this run: {reason}")),
                        );
                    }
                }
                _ => {
                    self.excluded.insert(id.clone());
                }
            }
        }
        Ok(())
    }

    /// Removes the records of tasks that are no longer active.
    fn forget_records(&self, state: &State) {
        let Ok(entries) = std::fs::read_dir(&self.run_dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let id = name.rsplit_once('.').map_or(name.as_str(), |(id, _)| id);
            if !state.tasks.contains_key(id) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// The loop: react to what happened, start what may start, until
    /// nothing runs and nothing more can start.
    fn drive(&mut self, rx: &Receiver<Message>) -> Result<()> {
        loop {
            self.on_interrupts();
            if self.interrupts.count() >= 3 {
                // A third Ctrl-C: leave now; landings in flight are crash-safe (journal).
                return Ok(());
            }
            self.watch_agents();
            if self.seen_interrupts == 0 {
                self.launch()?;
            }
            let idle = self.flights.is_empty() && (self.seen_interrupts > 0 || self.retries.is_empty());
            if idle && (self.seen_interrupts > 0 || !self.launch()?) {
                return Ok(());
            }
            let running: Vec<(String, Duration, bool, PathBuf)> = self
                .flights
                .iter()
                .map(|(id, f)| {
                    let (elapsed, landing) = match &f.stage {
                        Stage::Agent(r) => (r.launched.elapsed(), false),
                        Stage::Landing(since) => (since.elapsed(), true),
                    };
                    (id.clone(), elapsed, landing, self.domain.log_path(id))
                })
                .collect();
            let views: Vec<InFlight> = running
                .iter()
                .map(|(task, elapsed, landing, log)| InFlight {
                    task,
                    elapsed: *elapsed,
                    landing: *landing,
                    log,
                })
                .collect();
            self.observer.tick(&views);
            match rx.recv_timeout(TICK) {
                Ok(message) => {
                    self.handle(message)?;
                    // Whatever else has arrived meanwhile, before deciding anything.
                    while let Ok(message) = rx.try_recv() {
                        self.handle(message)?;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => anyhow::bail!("the run lost its message channel"),
            }
        }
    }

    fn on_interrupts(&mut self) {
        let count = self.interrupts.count();
        while self.seen_interrupts < count.min(2) {
            self.seen_interrupts += 1;
            self.emit(Event::Interrupted { count: self.seen_interrupts });
            if self.seen_interrupts == 2 {
                for flight in self.flights.values_mut() {
                    if let Stage::Agent(running) = &mut flight.stage {
                        if let (Some(pid), None) = (running.pid, running.stopping) {
                            agent::stop(pid, false);
                            running.stopping = Some(Instant::now());
                        }
                    }
                }
            }
        }
    }

    /// Starts retries and new tasks while jobs are free. Returns whether it started anything.
    fn launch(&mut self) -> Result<bool> {
        let mut launched = false;
        while self.agents() < self.options.jobs {
            let Some((id, attempt, reason, taken)) = self.retries.pop_front() else { break };
            self.run_agent(&id, attempt, &reason, taken);
            launched = true;
        }
        if self.agents() >= self.options.jobs {
            return Ok(launched);
        }
        if self.stale {
            self.plan = self.domain.reread(&self.plan)?;
            self.stale = false;
        }
        let state = self.domain.state()?;
        let held = held_locks(&state);
        let in_flight: HashSet<String> = self.flights.keys().cloned().collect();
        let mut excluded = self.excluded.clone();
        excluded.extend(state.tasks.keys().filter(|id| !in_flight.contains(*id)).cloned());
        excluded.extend(self.deferred.iter().cloned());
        excluded.extend(self.retries.iter().map(|(id, ..)| id.clone()));
        let board = Board {
            file: &self.plan.file,
            selection: &self.selection,
            landed: &self.landed,
            in_flight: &in_flight,
            agents: self.agents(),
            excluded: &excluded,
            held: &held,
        };
        let picks =
            schedule::next(&board, &Rules { jobs: self.options.jobs, classes: &self.options.classes });
        for id in picks {
            launched |= self.start(&id)?;
        }
        Ok(launched)
    }

    fn agents(&self) -> usize {
        self.flights.values().filter(|f| matches!(f.stage, Stage::Agent(_))).count()
    }

    /// Starts a task and its agent. Returns whether it started.
    fn start(&mut self, id: &str) -> Result<bool> {
        let taken = Instant::now();
        // Recorded first: a run killed while the task starts still knows it as its own.
        let record = Record {
            pid: None,
            pid_start: None,
            attempt: 1,
            launched_ms: agent::now_ms(),
            pane: None,
            prepared: false,
        };
        let record_file = record_path(&self.run_dir, id);
        record.save(&record_file)?;
        match self.domain.start(&self.plan, id) {
            Ok(warnings) => {
                for warning in warnings {
                    self.warn(id, warning);
                }
                self.run_agent(id, 1, "", taken);
                Ok(true)
            }
            Err(failure) => {
                let _ = std::fs::remove_file(&record_file);
                match failure {
                    StartFailure::Busy => {
                        self.deferred.insert(id.to_string());
                    }
                    StartFailure::Taken => {
                        // Landed or started by someone else meanwhile: not a failure of this run.
                        self.excluded.insert(id.to_string());
                        self.stale = true;
                    }
                    StartFailure::Failed(err) => {
                        let reason = domain::one_line(&format!("{err:#}"));
                        let log = self.domain.log_path(id);
                        let _ = agent::log_line(
                            &log,
                            &logs::lifecycle_line(
                                &crate::state::now(),
                                "up",
                                id,
                                &format!("could not start: {err:#}"),
                            ),
                        );
                        self.excluded.insert(id.to_string());
                        self.row(id, Outcome::Failed, None, None, Some(reason.clone()));
                        self.emit(Event::StartFailed { task: id.to_string(), reason });
                    }
                }
                Ok(false)
            }
        }
    }

    /// Launches the agent of an active task.
    fn run_agent(&mut self, id: &str, attempt: u32, reason: &str, taken: Instant) {
        let launched = self.try_run_agent(id, attempt, reason);
        match launched {
            Ok(running) => {
                self.flights.insert(
                    id.to_string(),
                    Flight { attempt, landings: 0, taken, stage: Stage::Agent(running) },
                );
            }
            Err(err) => {
                let why = format!("could not run the agent: {}", domain::one_line(&format!("{err:#}")));
                self.flights.insert(
                    id.to_string(),
                    Flight { attempt, landings: 0, taken, stage: Stage::Landing(Instant::now()) },
                );
                self.failed(id, why);
            }
        }
    }

    fn try_run_agent(&mut self, id: &str, attempt: u32, reason: &str) -> Result<Running> {
        let state = self.domain.state()?;
        let Some(active) = state.tasks.get(id) else { anyhow::bail!("{id} is not active") };
        let Some(task) = self.plan.file.get(id) else { anyhow::bail!("{id} is not in {}", self.plan.rel) };
        if self.unprepared.remove(id) {
            self.domain.prepare(id, &active.worktree)?;
        }
        let log = self.domain.log_path(id);
        let task_file = active.worktree.join(&self.plan.rel);
        let input = agent::TaskInput {
            task,
            worktree: &active.worktree,
            task_file: &task_file,
            log: &log,
            retry_reason: reason,
        };
        let spec = agent::spec(&self.options.agent, &input, exit_path(&self.run_dir, id));
        let worktree = active.worktree.display().to_string();
        let mut record = Record {
            pid: None,
            pid_start: None,
            attempt,
            launched_ms: agent::now_ms(),
            pane: None,
            prepared: true,
        };
        let record_file = record_path(&self.run_dir, id);
        record.save(&record_file)?;
        let at = crate::state::now();
        agent::log_line(
            &log,
            &logs::lifecycle_line(&at, "agent", id, &format!("attempt {attempt}: {}", spec.command)),
        )?;
        let log_from = agent::log_len(&log);
        let launched = Instant::now();
        let (pid, watched) = match &self.options.tmux {
            Some(session) => {
                let (pane, pid) = agent::spawn_in_pane(&spec, session, &env_path(&self.run_dir, id))?;
                record.pane = Some(pane);
                (pid, true)
            }
            None => {
                let mut child = agent::spawn(&spec)?;
                let pid = child.id();
                let (tx, task) = (self.tx.clone(), id.to_string());
                std::thread::spawn(move || {
                    let code = child.wait().ok().and_then(|s| s.code());
                    let _ = tx.send(Message::Exited { task, attempt, code });
                });
                (pid, false)
            }
        };
        record.pid = Some(pid);
        record.pid_start = agent::start_time(pid);
        record.save(&record_file)?;
        self.emit(Event::Started { task: id.to_string(), attempt, worktree, log: log.display().to_string() });
        Ok(Running {
            pid: Some(pid),
            launched,
            log_from,
            watched: watched.then_some(record),
            stopping: None,
            timed_out: false,
        })
    }

    /// Timeouts, Ctrl-C's stops, and agents this process cannot wait for.
    fn watch_agents(&mut self) {
        let mut ended = Vec::new();
        for (id, flight) in self.flights.iter_mut() {
            let Stage::Agent(running) = &mut flight.stage else { continue };
            if let (Some(timeout), None) = (self.options.timeout, running.stopping) {
                if running.launched.elapsed() > timeout {
                    if let Some(pid) = running.pid {
                        agent::stop(pid, false);
                    }
                    running.stopping = Some(Instant::now());
                    running.timed_out = true;
                }
            }
            if let (Some(since), Some(pid)) = (running.stopping, running.pid) {
                if since.elapsed() > agent::GRACE {
                    agent::stop(pid, true);
                }
            }
            if let Some(record) = &running.watched {
                if !record.alive() {
                    ended.push((id.clone(), flight.attempt, agent::read_exit(&exit_path(&self.run_dir, id))));
                }
            }
        }
        for (task, attempt, code) in ended {
            self.exited(&task, attempt, code);
        }
    }

    fn handle(&mut self, message: Message) -> Result<()> {
        match message {
            Message::Exited { task, attempt, code } => self.exited(&task, attempt, code),
            Message::Landed { task, result } => self.landed(&task, result),
            Message::Signal => {}
        }
        Ok(())
    }

    fn exited(&mut self, id: &str, attempt: u32, code: Option<i32>) {
        let Some(flight) = self.flights.get_mut(id) else { return };
        let Stage::Agent(running) = &flight.stage else { return };
        if flight.attempt != attempt {
            return;
        }
        let seconds = running.launched.elapsed().as_secs_f64();
        let (timed_out, stopped, log_from) =
            (running.timed_out, running.stopping.is_some(), running.log_from);
        flight.stage = Stage::Landing(Instant::now());
        let log = self.domain.log_path(id);
        // What the agent said last, read before git-par adds its own line.
        let said = agent::tail(&log, log_from, 1)
            .last()
            .map(|l| format!(": {}", domain::one_line(l)))
            .unwrap_or_default();
        let how = code.map_or_else(|| "stopped".to_string(), |c| format!("exit {c}"));
        let _ = agent::log_line(
            &log,
            &logs::lifecycle_line(
                &crate::state::now(),
                "agent",
                id,
                &format!("{how} after {}", events::duration(seconds)),
            ),
        );
        self.emit(Event::AgentExited { task: id.to_string(), exit: code, seconds, timed_out });
        if timed_out {
            let limit = self.options.timeout.map(|t| events::duration(t.as_secs_f64())).unwrap_or_default();
            return self.failed(id, format!("the agent ran longer than --timeout {limit} and was stopped"));
        }
        if self.seen_interrupts >= 2 || (stopped && self.seen_interrupts > 0) {
            // Stopped by the second Ctrl-C: the task stays active, the next run starts it again.
            return self.leave_active(id, "interrupted while its agent ran");
        }
        match code {
            Some(0) => self.land(id),
            Some(code) => self.failed(id, format!("the agent exited with status {code}{said}")),
            None => self.failed(id, "the agent was stopped by a signal".to_string()),
        }
    }

    /// Lands a task whose agent exited 0, in a thread of its own.
    fn land(&mut self, id: &str) {
        self.land_after(id, Duration::ZERO);
    }

    /// Lands a task after a pause (to let what made its landing fail pass).
    fn land_after(&mut self, id: &str, pause: Duration) {
        if let Some(flight) = self.flights.get_mut(id) {
            flight.stage = Stage::Landing(Instant::now());
            flight.landings += 1;
        }
        let message = self
            .plan
            .file
            .get(id)
            .map(|t| format!("{id}: {}", t.description))
            .unwrap_or_else(|| format!("{id}: the work of its agent"));
        let message: String = message.chars().take(72).collect();
        let (lander, tx, task) = (self.lander.clone(), self.tx.clone(), id.to_string());
        std::thread::spawn(move || {
            std::thread::sleep(pause);
            let result = lander.land(&task, &message);
            let _ = tx.send(Message::Landed { task, result });
        });
    }

    fn landed(&mut self, id: &str, result: Result<String, LandFailure>) {
        let Some(flight) = self.flights.get(id) else { return };
        let seconds = flight.taken.elapsed().as_secs_f64();
        let landings = flight.landings;
        match result {
            Ok(commit) => {
                self.ended(id);
                self.landed.insert(id.to_string());
                self.row(id, Outcome::Landed, Some(seconds), Some(commit.clone()), None);
                self.emit(Event::Landed { task: id.to_string(), commit, seconds });
            }
            Err(failure) if failure.transient() && landings < MAX_LANDINGS && self.seen_interrupts == 0 => {
                self.emit(Event::Warning {
                    message: format!("{id}: landing again shortly: {}", failure.reason),
                });
                self.land_after(id, RELAND_PAUSE * landings);
            }
            Err(failure) if failure.kind == LandFailureKind::LandedElsewhere => {
                self.ended(id);
                self.landed.insert(id.to_string());
                let reason = "landed outside this run".to_string();
                self.row(id, Outcome::Landed, Some(seconds), None, Some(reason.clone()));
                self.emit(Event::Warning { message: format!("{id}: {reason}") });
            }
            Err(failure) if failure.kind == LandFailureKind::Gone => self.gone(id, seconds, &failure.reason),
            Err(failure) if failure.kind == LandFailureKind::BlockedElsewhere => {
                let reason = self.domain.state().ok().and_then(|s| s.tasks.get(id)?.blocked_reason.clone());
                self.blocked_elsewhere(id, seconds, reason.unwrap_or(failure.reason));
            }
            Err(failure) => {
                let log = self.domain.log_path(id);
                let _ = agent::log_line(
                    &log,
                    &logs::lifecycle_line(
                        &crate::state::now(),
                        "up",
                        id,
                        &format!("landing failed: {}", failure.details),
                    ),
                );
                if self.seen_interrupts > 0 {
                    return self
                        .leave_active(id, &format!("interrupted; its landing failed: {}", failure.reason));
                }
                self.failed(id, format!("landing failed: {}", failure.reason));
            }
        }
    }

    /// A task of this run is no longer active: forget it and its records.
    fn ended(&mut self, id: &str) {
        self.flights.remove(id);
        self.stale = true;
        self.deferred.clear();
        for path in
            [record_path(&self.run_dir, id), exit_path(&self.run_dir, id), env_path(&self.run_dir, id)]
        {
            let _ = std::fs::remove_file(path);
        }
    }

    /// A task's agent or landing failed: run the agent again, or block the task.
    fn failed(&mut self, id: &str, reason: String) {
        let Some(flight) = self.flights.get(id) else { return };
        let seconds = flight.taken.elapsed().as_secs_f64();
        // An agent may block its task itself (`git par block`), or someone
        // abort it meanwhile: that is the outcome, not a failure to act on.
        match self.domain.state().map(|s| s.tasks.get(id).map(|t| (t.state, t.blocked_reason.clone()))) {
            Ok(Some((TaskStatus::Blocked, why))) => {
                return self.blocked_elsewhere(id, seconds, why.unwrap_or(reason));
            }
            Ok(None) => return self.gone(id, seconds, &reason),
            _ => {}
        }
        let Some(flight) = self.flights.remove(id) else { return };
        self.deferred.clear();
        if flight.attempt <= self.options.retries {
            if self.seen_interrupts > 0 {
                self.flights.insert(id.to_string(), flight);
                return self.leave_active(id, &format!("interrupted before its retry: {reason}"));
            }
            let attempt = flight.attempt + 1;
            self.emit(Event::Retried { task: id.to_string(), attempt, reason: reason.clone() });
            self.retries.push_back((id.to_string(), attempt, reason, flight.taken));
            return;
        }
        let seconds = flight.taken.elapsed().as_secs_f64();
        self.excluded.insert(id.to_string());
        match self.domain.block(id, &reason) {
            Ok(warnings) => {
                for warning in warnings {
                    self.warn(id, warning);
                }
                self.row(id, Outcome::Blocked, Some(seconds), None, Some(reason.clone()));
                self.emit(Event::Blocked { task: id.to_string(), reason });
            }
            Err(err) => {
                let reason =
                    format!("{reason}; blocking it failed: {}", domain::one_line(&format!("{err:#}")));
                self.row(id, Outcome::Failed, Some(seconds), None, Some(reason.clone()));
                self.emit(Event::Warning { message: format!("{id}: {reason}") });
            }
        }
    }

    /// The task was blocked outside the run (by its agent, say): it stays
    /// blocked as it is, with its reason, and is not blocked again.
    fn blocked_elsewhere(&mut self, id: &str, seconds: f64, reason: String) {
        self.flights.remove(id);
        self.deferred.clear();
        self.excluded.insert(id.to_string());
        self.row(id, Outcome::Blocked, Some(seconds), None, Some(reason.clone()));
        self.emit(Event::Blocked { task: id.to_string(), reason });
    }

    /// The task left the state outside the run (aborted, its locks broken).
    fn gone(&mut self, id: &str, seconds: f64, why: &str) {
        self.ended(id);
        self.excluded.insert(id.to_string());
        let reason = format!("no longer active (aborted outside this run?): {why}");
        self.row(id, Outcome::Failed, Some(seconds), None, Some(reason.clone()));
        self.emit(Event::Warning { message: format!("{id}: {reason}") });
    }

    /// Leaves a task active for the next run.
    fn leave_active(&mut self, id: &str, why: &str) {
        if let Some(flight) = self.flights.remove(id) {
            let seconds = flight.taken.elapsed().as_secs_f64();
            self.excluded.insert(id.to_string());
            self.row(
                id,
                Outcome::Active,
                Some(seconds),
                None,
                Some(format!("{why}; `git par up` resumes it")),
            );
        }
    }

    fn row(
        &mut self,
        id: &str,
        result: Outcome,
        seconds: Option<f64>,
        commit: Option<String>,
        reason: Option<String>,
    ) {
        self.rows.insert(id.to_string(), Row { task: id.to_string(), result, seconds, commit, reason });
    }

    /// The summary: every task taken, and every selected task not done
    /// that did not start, with why; then the exit code.
    fn finish(mut self) -> Summary {
        // Interrupted hard: what is still in flight stays active.
        let in_flight: Vec<String> = self.flights.keys().cloned().collect();
        for id in in_flight {
            self.leave_active(&id, "interrupted");
        }
        for (id, _, reason, taken) in std::mem::take(&mut self.retries) {
            let seconds = taken.elapsed().as_secs_f64();
            self.row(
                &id,
                Outcome::Active,
                Some(seconds),
                None,
                Some(format!("interrupted before its retry: {reason}")),
            );
        }
        if let Ok(plan) = self.domain.reread(&self.plan) {
            self.plan = plan;
        }
        let held = self.domain.state().map(|s| held_locks(&s)).unwrap_or_default();
        let empty = HashSet::new();
        let board = Board {
            file: &self.plan.file,
            selection: &self.selection,
            landed: &self.landed,
            in_flight: &empty,
            agents: 0,
            excluded: &self.excluded,
            held: &held,
        };
        let mut waiting = Vec::new();
        for task in &self.plan.file.tasks {
            if self.rows.contains_key(&task.id) || task.is_done() || !self.selection.contains(&task.id) {
                continue;
            }
            waiting.push(Row {
                task: task.id.clone(),
                result: Outcome::Waiting,
                seconds: None,
                commit: None,
                reason: Some(schedule::why_waiting(&board, &task.id)),
            });
        }
        let mut tasks: Vec<Row> = self.rows.into_values().chain(waiting).collect();
        tasks.sort_by_key(|r| self.plan.file.position(&r.task));
        let count = |o: Outcome| tasks.iter().filter(|r| r.result == o).count();
        let interrupted = self.seen_interrupts > 0 || self.interrupts.count() > 0;
        let failed = count(Outcome::Blocked) + count(Outcome::Failed);
        let summary = Summary {
            exit: if interrupted {
                INTERRUPTED
            } else if failed > 0 {
                1
            } else {
                0
            },
            interrupted,
            landed: count(Outcome::Landed),
            blocked: count(Outcome::Blocked) + count(Outcome::Failed),
            active: count(Outcome::Active),
            waiting: count(Outcome::Waiting),
            seconds: self.began.elapsed().as_secs_f64(),
            tasks,
        };
        self.observer.event(&Event::Finished(summary.clone()));
        summary
    }
}
