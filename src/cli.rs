//! The command line, as clap definitions. One `Args` struct per verb; its doc
//! comment is the help text. Nothing here does any work, and nothing here
//! depends on the rest of git-par (tests/cli/readme.rs compiles this file alone).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run the tasks of a spec-kit tasks.md in parallel: a worktree per task,
/// advisory path locks, and a merge queue that lands tasks one at a time.
///
/// Exit codes: 0 success; 1 refused or failed; 2 usage error; 3 busy (a lock
/// or the merge queue is held by another task: retry later).
#[derive(Debug, Parser)]
#[command(name = "git-par", bin_name = "git par", version, max_term_width = 100)]
pub struct Cli {
    /// Run as if started in DIR.
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,

    /// The task file to use (default: discovered, see `git par help list`).
    #[arg(long, value_name = "FILE", global = true)]
    pub tasks: Option<PathBuf>,

    /// Print one JSON document (`"version": 1`) on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// When to color output.
    #[arg(long, value_name = "WHEN", default_value = "auto", global = true)]
    pub color: ColorChoice,

    /// Make every phase of tasks.md a barrier for the next.
    #[arg(long, global = true)]
    pub strict_phases: bool,

    /// Keep the state on this git remote, in refs/par/state (default: par.remote).
    #[arg(long, value_name = "NAME", global = true)]
    pub remote: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    List(ListArgs),
    Show(ShowArgs),
    Ready(ReadyArgs),
    Plan(PlanArgs),
    Deps(DepsArgs),
    Lint(LintArgs),
    Start(StartArgs),
    Lock(LockArgs),
    Finish(FinishArgs),
    Abort(AbortArgs),
    Block(BlockArgs),
    Unblock(UnblockArgs),
    Unlock(UnlockArgs),
    LockStatus(LockStatusArgs),
    Check(CheckArgs),
    Hook(HookArgs),
    Run(RunArgs),
    Tmux(TmuxArgs),
    Doctor(DoctorArgs),
    Sync(SyncArgs),
    Log(LogArgs),
    Up(UpArgs),
    Demo(DemoArgs),
    Completions(CompletionsArgs),
    Man(ManArgs),
    AgentGuide(AgentGuideArgs),
}

/// List tasks with their state, dependencies and paths.
///
/// The task file is found in this order: --tasks; `git config par.tasks`;
/// $SPECIFY_FEATURE_DIRECTORY/tasks.md; .specify/feature.json's
/// feature_directory; the task file recorded by a running plan; the current
/// branch's numeric prefix (009-x → specs/009-*/tasks.md); the only
/// specs/*/tasks.md in the repository.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Every task (the default).
    #[arg(long, group = "filter")]
    pub all: bool,
    /// Only tasks not done yet.
    #[arg(long, group = "filter")]
    pub todo: bool,
    /// Only tasks marked [P].
    #[arg(long, group = "filter")]
    pub parallel: bool,
}

/// Show one task in full.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The task ID, e.g. T004.
    pub id: String,
}

/// List unchecked tasks whose dependencies are all done.
#[derive(Debug, Args)]
pub struct ReadyArgs {}

/// Group ready [P] tasks into waves whose tasks touch disjoint paths.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Cap a class of tasks per wave, e.g. `--limit http=1` (default from par.limit.<class>).
    #[arg(long, value_name = "CLASS=N")]
    pub limit: Vec<String>,
}

/// Report what would make a parallel run go wrong, before the first start.
///
/// Duplicate task IDs, tasks that name no path, paths that could be in
/// several places (with the candidates), written paths whose directory
/// neither exists nor is made by an earlier task, [P] tasks of one group
/// that write the same file, dependencies on unknown IDs, and cycles.
/// Exits 1 when it finds a problem; --json for scripts.
#[derive(Debug, Args)]
pub struct LintArgs {}

/// Print the dependency graph.
#[derive(Debug, Args)]
pub struct DepsArgs {
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub format: DepsFormat,
}

/// `deps --format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DepsFormat {
    Text,
    Dot,
    Mermaid,
}

/// Start tasks: a branch and worktree each, and locks on their paths.
///
/// Prints the worktree path of each task, one per line, so that
/// `cd "$(git par start T004)"` works. Starting several tasks is
/// all-or-nothing. Exits 3 when another task holds a path one needs.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Task IDs to start.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Lock this path or glob too (repeatable).
    #[arg(long = "path", value_name = "GLOB")]
    pub paths: Vec<String>,
    /// Branch from REV instead of the tip of the main branch.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Start even if dependencies are unfinished (locks are still checked).
    #[arg(long)]
    pub force: bool,
}

/// Add or remove lock patterns of an active task.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("change").required(true).multiple(true))]
pub struct LockArgs {
    /// The task ID.
    pub id: String,
    /// Lock this path or glob (repeatable). Exits 3 if another task holds it.
    #[arg(long, value_name = "GLOB", group = "change")]
    pub add: Vec<String>,
    /// Release this pattern (repeatable).
    #[arg(long, value_name = "GLOB", group = "change")]
    pub remove: Vec<String>,
}

/// Land a task on the main branch through the merge queue, and tick it in tasks.md.
///
/// Steps: join the merge queue (a train: overlapping finishes verify in
/// parallel); check the trees are clean; put main and the task together (in
/// memory; the task branch gets no merge commit) and check the locks; run
/// --verify on exactly that tree in the task's worktree; move main to the
/// landing commit by compare-and-swap; release locks and remove the
/// worktree and branch. Exits 3 when the queue is busy for longer than
/// --wait, 130 when Ctrl-C stops the verify (nothing lands).
#[derive(Debug, Args)]
pub struct FinishArgs {
    /// The task ID; several land as a batch: built one on the other, one
    /// verify of their combined tree, main moved once (bisecting when the
    /// verify fails, and landing the tasks that pass).
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// How the task lands: a merge commit, one squashed commit, a fast-forward
    /// (as rebase when main has moved), or its commits rebased onto main
    /// (default: par.strategy, else merge).
    #[arg(long, value_name = "STRATEGY")]
    pub strategy: Option<Strategy>,
    /// Run CMD (through `sh -c`) in the task's worktree before landing (default: par.verify).
    #[arg(long, value_name = "CMD")]
    pub verify: Option<String>,
    /// Commit the worktree's uncommitted changes first, with this message.
    #[arg(long, value_name = "MSG")]
    pub commit: Option<String>,
    /// Keep the task's worktree and branch after landing.
    #[arg(long)]
    pub keep: bool,
    /// Wait up to SECS for the merge queue (default: wait forever).
    #[arg(long, value_name = "SECS")]
    pub wait: Option<f64>,
    /// Show what would land and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Land strictly one at a time, verify included, instead of riding the
    /// merge train (which verifies concurrent finishes in parallel, each on
    /// the tree it would land; par.trainDepth bounds how many at once).
    #[arg(long)]
    pub no_train: bool,
}

/// `finish --strategy` values (the landing's own is `land::Strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Strategy {
    Merge,
    Squash,
    Ff,
    Rebase,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Stop a task: release its locks and remove its worktree and branch.
///
/// Refuses to throw away uncommitted changes or commits that did not land
/// unless --force is given, and says what would be lost.
#[derive(Debug, Args)]
pub struct AbortArgs {
    /// The task ID.
    pub id: String,
    /// Keep the task's branch (its commits stay reachable).
    #[arg(long)]
    pub keep_branch: bool,
    /// Throw away uncommitted changes and unlanded commits.
    #[arg(long)]
    pub force: bool,
}

/// Record a blocker for a task in logs/parallel/blockers.md (locks are kept).
#[derive(Debug, Args)]
pub struct BlockArgs {
    /// The task ID.
    pub id: String,
    /// Why the task is blocked.
    #[arg(required = true, value_name = "REASON")]
    pub reason: Vec<String>,
}

/// Clear a task's blocker.
#[derive(Debug, Args)]
pub struct UnblockArgs {
    /// The task ID.
    pub id: String,
}

/// Break the locks of a task, e.g. one whose machine died (recorded in events.jsonl).
#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The task ID.
    pub id: String,
    /// Required: breaking another task's locks is never implicit.
    #[arg(long)]
    pub force: bool,
}

/// Fetch the state from the remote now (remote mode: `par.remote` or --remote).
///
/// Every git-par command fetches it once anyway; the pre-commit hook never
/// does, and checks against the copy the last command fetched.
#[derive(Debug, Args)]
pub struct SyncArgs {}

/// Show the audit log of the remote state: one line per change, newest first.
///
/// The same history as `git log refs/par/remote/state` (remote mode).
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Show at most N changes.
    #[arg(short = 'n', long, value_name = "N")]
    pub max_count: Option<usize>,
}

/// Show the active tasks and the paths they hold.
#[derive(Debug, Args)]
pub struct LockStatusArgs {
    /// Only stale tasks: this machine's whose worktree or branch is gone and,
    /// in remote mode, any whose machine sent no heartbeat for par.lockTTL (default 24h).
    #[arg(long)]
    pub stale: bool,
}

/// Check paths against the locks, as the pre-commit hook does.
///
/// Refuses staged paths locked by another task and, in a task's worktree,
/// staged paths outside the task's own locks (par.enforceScope).
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check the paths staged in the index.
    #[arg(long, conflicts_with = "paths")]
    pub staged: bool,
    /// Paths to check, relative to the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Install, remove or inspect the pre-commit hook.
#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub action: HookAction,
}

#[derive(Debug, Clone, Copy, Subcommand)]
pub enum HookAction {
    /// Install the pre-commit hook (an existing hook is kept and still runs).
    Install,
    /// Remove the hook and restore the one it replaced, byte for byte.
    ///
    /// A git-par hook edited since it was installed is left alone: uninstall
    /// refuses and says how to move the edited file aside first.
    Uninstall,
    /// Say what is installed and where.
    ///
    /// Exits 0 when git-par's hook will run for commits in this worktree,
    /// 1 when it is not installed here.
    Status,
}

/// Run a command in a task's worktree and append its output to the task's log.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The task ID.
    pub id: String,
    /// The command and its arguments (after `--`).
    #[arg(required = true, last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Open one tmux pane per task, each in the task's worktree.
///
/// Tasks not yet started are started first. Each pane shows its task, log
/// path and recommended command without running it.
#[derive(Debug, Args)]
pub struct TmuxArgs {
    /// Task IDs.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// The tmux session name.
    #[arg(short = 's', long = "session", value_name = "NAME", default_value = "git-par")]
    pub session: String,
    /// Do not attach to (or switch to) the session.
    #[arg(long)]
    pub no_attach: bool,
    /// Add panes to an existing session of that name.
    #[arg(long)]
    pub add: bool,
}

/// Find and repair inconsistencies: interrupted finishes, orphaned worktrees, stale locks.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Fix what is safe to fix and say what was done.
    #[arg(long)]
    pub repair: bool,
}

/// Run the whole plan: an agent per task, tasks landed as their agents succeed.
///
/// Keeps up to --jobs tasks running, chosen as `plan` chooses (dependencies
/// landed, class limits, no lock conflict with what runs, a task without
/// paths alone). Each task is started, its agent runs with `sh -c` in the
/// task's worktree (the task in GIT_PAR_TASK, GIT_PAR_TASK_DESCRIPTION,
/// GIT_PAR_TASK_PATHS, GIT_PAR_TASK_FILE, GIT_PAR_LOG, GIT_PAR_RETRY_REASON;
/// its output in the task's log), and when it exits 0 the task lands through
/// the merge queue. A failing agent, landing or verify blocks the task (or
/// runs the agent again, --retries); the run goes on with the rest. Exits 0
/// when every task it took landed, 1 when some were blocked, 130 when
/// interrupted. Ctrl-C once: no new task starts, running agents finish;
/// twice: the agents are stopped, their tasks stay active. Running it again
/// resumes: tasks whose agent exited 0 land, the others run again.
/// --json prints JSON Lines events.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Agents running at once.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// The agent command, run with `sh -c` in each task's worktree (default:
    /// par.agent). {id}, {paths}, {tests}, {description}, {worktree}, {log}
    /// and {task_file} become single shell-quoted words.
    #[arg(long, value_name = "CMD")]
    pub agent: Option<String>,
    /// Run CMD in the task's worktree before each landing (default: par.verify).
    #[arg(long, value_name = "CMD")]
    pub verify: Option<String>,
    /// Only these tasks (repeatable).
    #[arg(long, value_name = "ID", num_args = 1..)]
    pub only: Vec<String>,
    /// Stop after this task: run it and what it depends on, nothing else.
    #[arg(long, value_name = "ID")]
    pub until: Option<String>,
    /// Run a failed task's agent again this many times, told why, before blocking it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// Stop an agent that runs longer than SECS; it counts as failed.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Cap a class of tasks running at once, e.g. `--limit http=1` (default from par.limit.<class>).
    #[arg(long, value_name = "CLASS=N")]
    pub limit: Vec<String>,
    /// Run each agent in a pane of tmux session `git-par-up`, to watch it or type into it.
    #[arg(long)]
    pub tmux: bool,
    /// Print the schedule it would follow (waves, ideal wall time) and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Walk through the whole cycle in a throwaway repository.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to build the demo repository (default: a new temporary directory).
    pub dir: Option<PathBuf>,
}

/// Print or install a shell completion script.
///
/// The bash, zsh and fish scripts complete `git par ...` through git's own
/// completion as well as `git-par ...`: commands, options, their values, and
/// task IDs (from `git par list --json`). `--install` writes the script where
/// the shell looks for it, creating directories: bash-completion's
/// `$XDG_DATA_HOME/bash-completion/completions/git-par` (default
/// ~/.local/share/...), zsh's `$XDG_DATA_HOME/zsh/site-functions/_git-par`
/// (add that directory to fpath), fish's `~/.config/fish/completions/git-par.fish`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish (elvish and powershell: printed only).
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
    /// Write the script where the shell finds it, and print that path.
    #[arg(long)]
    pub install: bool,
}

/// Write the man pages: git-par.1 and one page per command (git-par-start.1, ...).
///
/// With no option, prints git-par.1 on stdout. `--install` puts every page
/// where `man` finds it for this binary, so that `git par --help` (which git
/// turns into `man git-par`) opens it: `<prefix>/share/man/man1` for a
/// binary in `<prefix>/bin` (`~/.cargo/bin` → `~/.cargo/share/man/man1`),
/// else the first writable directory of `manpath`, your own first.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Install the pages where `man` looks for them, and print that directory.
    #[arg(long, conflicts_with = "out")]
    pub install: bool,
    /// Write every page into DIR instead of printing git-par.1.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Print instructions for coding agents, to paste into AGENTS.md, CLAUDE.md and the like.
///
/// What an agent runs and where, how to read exit codes and JSON, how to ask
/// for more paths, and what never to do. The README's "For agents" section
/// holds the same text.
#[derive(Debug, Args)]
pub struct AgentGuideArgs {}
