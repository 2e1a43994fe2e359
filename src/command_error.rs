//! What the user sees when a command does not succeed: a [`Refusal`] (the
//! message, the `hint:` lines that lead out of it, and the exit code of
//! DESIGN §2), made from the domain's typed errors here and nowhere else, as
//! jj's `command_error.rs` does.
//!
//! Everything travels as an `anyhow::Error`; [`refusal`] finds the domain
//! error in its chain (as the error itself, as context added to a
//! lower-level error, or as the source of another) and maps it. An error
//! with none in it is a failure (exit 1) and has no hints.
//!
//! This module depends on nothing else of the binary, so that the library's
//! own unit tests can compile it and check whole messages, hints included.

use std::fmt;
use std::path::Path;

use git_par::hook::HookError;
use git_par::land::{LandError, Resume, Stash};
use git_par::lifecycle::{AbortError, BlockError, LockError, StartError, TaskError};
use git_par::locks::PatternError;
use git_par::prepare::PrepareError;
use git_par::repo::remote::{ServerRefused, Unreachable};
use git_par::repo::RepoError;
use git_par::state::remote::{PushUncertain, RemoteError};
use git_par::state::StateError;
use git_par::tasks::deps::CycleError;
use git_par::tasks::discover::TaskFileError;
use git_par::tasks::edit::EditError;
use git_par::tmux::TmuxError;
use git_par::up::UpError;
use git_par::workflow::{shell_quote, LimitError};
use git_par::workspace::DetachedMain;

/// The exit codes of DESIGN §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Refused or failed: a human should look.
    Failed = 1,
    /// The command line itself was wrong.
    Usage = 2,
    /// Another task holds what we need; retrying later may succeed.
    Busy = 3,
    /// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
    Interrupted = 130,
}

/// An error the user can act on: what was refused, why, and how to get past it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub exit: Exit,
    pub message: String,
    pub hints: Vec<String>,
}

impl Refusal {
    /// A refusal or failure (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Refusal { exit: Exit::Failed, message: message.into(), hints: Vec::new() }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Refusal { exit: Exit::Usage, message: message.into(), hints: Vec::new() }
    }

    /// Busy: a lock or the merge queue is held by someone else (exit 3).
    pub fn busy(message: impl Into<String>) -> Self {
        Refusal { exit: Exit::Busy, message: message.into(), hints: Vec::new() }
    }

    /// Adds a `hint:` line that names the way out.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

/// A child process's exit status that git-par exits with (`git par run`):
/// not git-par's own failure, so it is not printed as an error.
#[derive(Debug)]
pub struct ChildExit(pub i32);

impl fmt::Display for ChildExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the command exited with status {}", self.0)
    }
}

impl std::error::Error for ChildExit {}

/// A command that has already reported its outcome (`finish` of several
/// tasks, each landed or refused) and exits with this code: nothing more is printed.
#[derive(Debug)]
pub struct Reported(pub i32);

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Reported {}

/// The process exit code for an error.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if let Some(ChildExit(code)) = err.downcast_ref::<ChildExit>() {
        return *code;
    }
    if let Some(Reported(code)) = err.downcast_ref::<Reported>() {
        return *code;
    }
    refusal(err).map_or(Exit::Failed, |r| r.exit) as i32
}

/// The refusal an error stands for, if it is one the user can act on.
pub fn refusal(err: &anyhow::Error) -> Option<Refusal> {
    // `downcast_ref` finds a type as the error or as any layer of context;
    // the chain, as the source of a foreign error.
    macro_rules! find {
        ($($ty:ty => $map:expr),* $(,)?) => {
            $(
                if let Some(e) = err
                    .downcast_ref::<$ty>()
                    .or_else(|| err.chain().find_map(|c| c.downcast_ref::<$ty>()))
                {
                    return Some($map(e));
                }
            )*
        };
    }
    find!(
        Refusal => Refusal::clone,
        RemoteError => remote,
        PushUncertain => push_uncertain,
        Unreachable => unreachable,
        ServerRefused => server_refused,
        LandError => land,
        StartError => start,
        TaskError => task,
        LockError => lock,
        AbortError => abort,
        BlockError => block,
        HookError => hook,
        TaskFileError => task_file,
        EditError => edit,
        PatternError => pattern,
        StateError => state,
        RepoError => repo,
        TmuxError => tmux,
        PrepareError => prepare,
        UpError => up,
        LimitError => limit,
        DetachedMain => detached_main,
        CycleError => cycle,
    );
    None
}

fn cycle(e: &CycleError) -> Refusal {
    failed(e).hint(
        "each task in the cycle waits for the one before it; remove one of these dependencies from the task file",
    )
}

fn quote(path: &Path) -> String {
    shell_quote(&path.to_string_lossy())
}

fn failed(e: &impl ToString) -> Refusal {
    Refusal::failed(e.to_string())
}

fn repo(e: &RepoError) -> Refusal {
    failed(e).hint(match e {
        RepoError::NotARepository { .. } => "run git-par inside a git repository, or pass -C DIR",
        RepoError::Bare { .. } => "run git-par in a clone with a working tree",
        RepoError::UnknownRevision { .. } => "pass a branch, tag or commit that exists",
    })
}

fn remote(e: &RemoteError) -> Refusal {
    match e {
        RemoteError::NoSuchRemote { remote } => failed(e).hint(format!(
            "add it with `git remote add {remote} URL`, or name another with `git config par.remote NAME` (or --remote NAME)"
        )),
        RemoteError::Busy { .. } => Refusal::busy(e.to_string())
            .hint("run the command again; `git par log` shows what the other machines did"),
        RemoteError::LocalTasksActive { .. } => failed(e).hint(
            "finish or abort them first (without par.remote), then turn remote mode on: `git config par.remote NAME`",
        ),
        RemoteError::RemoteTasksActive { remote, .. } => failed(e).hint(format!(
            "finish or abort them first, or keep using it: `git config par.remote {remote}` (or --remote {remote})"
        )),
        RemoteError::NoRemoteMain { remote, main } => {
            failed(e).hint(format!("push it first: `git push {remote} {main}`"))
        }
        RemoteError::MainAhead { remote, main } => failed(e).hint(format!(
            "tasks land on {remote}/{main}: push your commits first (`git push {remote} {main}`), or move them to a branch"
        )),
        RemoteError::NotRemoteMode { .. } => failed(e)
            .hint("keep the state on a shared remote with `git config par.remote origin` (or --remote NAME)"),
        RemoteError::BadStateCommit { remote, .. } => failed(e).hint(format!(
            "look at it with `git fetch {remote} refs/par/state && git log -p FETCH_HEAD`; an administrator can delete the ref to start afresh"
        )),
    }
}

fn push_uncertain(e: &PushUncertain) -> Refusal {
    failed(e).hint(
        "run `git par doctor --repair` once the remote answers: it asks the remote, then completes or rolls back the landing",
    )
}

fn unreachable(e: &Unreachable) -> Refusal {
    failed(e).hint(format!(
        "check that `git fetch {}` works from here; git-par never falls back to a local state in remote mode",
        e.remote
    ))
}

fn server_refused(e: &ServerRefused) -> Refusal {
    failed(e).hint(
        "the server must accept pushes to refs/par/state (and to the main branch); see README \"Several machines\" for hosted servers",
    )
}

fn state(e: &StateError) -> Refusal {
    failed(e).hint(match e {
        StateError::Invalid { .. } => "run `git par doctor` to inspect it; move it aside to start afresh",
        StateError::Newer { .. } => "upgrade git-par",
    })
}

fn pattern(e: &PatternError) -> Refusal {
    failed(e).hint(match e {
        PatternError::Outside { .. } => "give a path inside the repository, relative to its root",
        PatternError::Glob { .. } => "fix the glob syntax",
    })
}

fn limit(e: &LimitError) -> Refusal {
    Refusal::usage(e.to_string()).hint("write it as CLASS=N with N at least 1, e.g. --limit http=1")
}

fn detached_main(e: &DetachedMain) -> Refusal {
    failed(e).hint("check out the branch tasks should land on, or set `git config par.mainBranch BRANCH`")
}

fn task_file(e: &TaskFileError) -> Refusal {
    let why = "git-par ticks the task file in the landing commit";
    let r = failed(e);
    match e {
        TaskFileError::NotFound { .. } => {
            r.hint("pass --tasks FILE, or set it with `git config par.tasks specs/NNN-feature/tasks.md`")
        }
        TaskFileError::Symlink { .. } => {
            r.hint(format!("{why} and never writes through a link: make it the file itself"))
        }
        TaskFileError::Outside { .. } => r.hint(format!(
            "{why}: keep it in the repository (e.g. specs/NNN-feature/tasks.md) and pass that with --tasks"
        )),
        TaskFileError::Directory { .. } => r.hint("pass the tasks.md file itself with --tasks"),
        TaskFileError::Unreadable { .. } => r.hint("check the path, or pass another with --tasks"),
        TaskFileError::NotUtf8 { .. } => r.hint("re-save the file as UTF-8"),
        TaskFileError::NamedDirectory { .. } => r.hint("name the tasks.md file itself"),
        TaskFileError::NamedMissing { .. } => {
            r.hint("check the path; without --tasks git-par looks for specs/*/tasks.md")
        }
        TaskFileError::Several { files, .. } => r.hint(format!(
            "choose one with --tasks, or `git config par.tasks {}`",
            files.first().map_or("FILE", String::as_str)
        )),
        TaskFileError::NoTasks { notes, .. } => {
            let mut r = r;
            for note in notes {
                r = r.hint(note.clone());
            }
            r.hint("a task is a list item like `- [ ] T001 [P] Create src/app.py`; pass another file with --tasks")
        }
    }
}

fn edit(e: &EditError) -> Refusal {
    let r = failed(e);
    match e {
        EditError::NoCheckbox { .. } => r,
        EditError::Unclosed { .. } => {
            r.hint("close the code block (```) or the comment (-->) under the task in the task file")
        }
        EditError::NoTask { .. } => r.hint("`git par list --all` shows the task IDs"),
        EditError::UsedTwice { id, .. } => {
            r.hint(format!("rename one of them (e.g. {id}a) so every task has its own ID"))
        }
    }
}

fn tmux(e: &TmuxError) -> Refusal {
    match e {
        TmuxError::NotInstalled => failed(e)
            .hint("install tmux (e.g. `apt-get install tmux`), or start tasks with `git par start ID`"),
        TmuxError::SessionExists { name } => failed(e).hint(format!(
            "add panes to it with --add, or choose another name with -s NAME (or `tmux kill-session -t {name}`)"
        )),
        TmuxError::InvalidName { .. } => {
            Refusal::usage(e.to_string()).hint("session names cannot be empty or contain ':' or '.'")
        }
    }
}

fn hook(e: &HookError) -> Refusal {
    match e {
        HookError::Modified { hook, aside, uninstall } => failed(e).hint(format!(
            "to keep your changes, move the file aside first: mv {} {}, then run `git par hook {}` again",
            quote(hook),
            quote(aside),
            if *uninstall { "uninstall" } else { "install" }
        )),
        HookError::Tracked { rel } => failed(e).hint(format!(
            "add the line `git par check --staged || exit 1` to {} and commit it, \
             or use the pre-commit framework with git-par's .pre-commit-hooks.yaml",
            rel.display()
        )),
        HookError::OriginalTaken { hook, .. } => failed(e).hint(format!(
            "move one of them aside, then run `git par hook install` again ({})",
            hook.display()
        )),
        HookError::Outside { .. } => {
            failed(e).hint("name paths inside the repository, relative to the current directory")
        }
        HookError::Directory { .. } => Refusal::usage(e.to_string())
            .hint("name the files you mean to change: locks are checked file by file"),
        HookError::Unlockable { .. } => failed(e).hint("name paths inside the repository"),
    }
}

fn task(e: &TaskError) -> Refusal {
    match e {
        // The ID may be no task at all: `start` is suggested only for one.
        TaskError::NotActive { id } => failed(e).hint(format!(
            "`git par lock-status` lists the active tasks; if {id} is a task of the plan (`git par list`), `git par start {id}` starts it"
        )),
        TaskError::Finishing { id } => failed(e).hint(format!("wait for `git par finish {id}` to complete")),
        TaskError::Busy { conflicts, .. } => {
            let holders: Vec<&str> = conflicts.iter().map(|c| c.holder.as_str()).collect();
            let mut r = Refusal::busy(e.to_string()).hint(format!(
                "wait until {} lands or is aborted and retry (`git par lock-status` shows every lock)",
                holders.join(", ")
            ));
            for holder in holders {
                r = r.hint(format!(
                    "if {holder}'s owner is gone, `git par unlock {holder} --force` breaks its locks"
                ));
            }
            r
        }
        TaskError::TaskFile { .. } => {
            failed(e).hint("lock the files the task changes; `git par finish` ticks the task file for you")
        }
    }
}

fn start(e: &StartError) -> Refusal {
    let r = failed(e);
    match e {
        StartError::PathWithSeveral => Refusal::usage(e.to_string())
            .hint("start the tasks one at a time, or add locks later with `git par lock ID --add GLOB`"),
        StartError::Unknown { similar: Some(similar), .. } => {
            r.hint(format!("did you mean {similar}? `git par list` shows the task IDs"))
        }
        StartError::Unknown { .. } => r.hint("`git par list` shows the task IDs"),
        StartError::Duplicate { id, .. } => {
            r.hint(format!("rename one of them (e.g. {id}a) so every task has its own ID, then start it"))
        }
        StartError::Done { rel, .. } => r.hint(format!("untick it in {rel} to do it again")),
        StartError::Active { task } => r
            .hint(format!("work in it: cd {}", task.worktree.display()))
            .hint(format!("or stop it with `git par abort {}`", task.id)),
        StartError::NotReady { id, .. } => r
            .hint("finish those first (`git par ready` lists the tasks that can start now)")
            .hint(format!("or start it anyway with `git par start {id} --force`")),
        StartError::OtherRun { recorded, .. } => r.hint(format!(
            "finish or abort the active tasks (`git par lock-status`), or use --tasks {recorded}"
        )),
        StartError::BadBranch { .. } => {
            r.hint("set `git config par.branchPrefix` to a valid prefix such as `par/`")
        }
        StartError::WorktreeExists { .. } => r
            .hint("move or remove it (`git par doctor` tells whether it holds a task's work)")
            .hint("or put task worktrees elsewhere with `git config par.worktreeDir DIR`"),
        StartError::BranchExists { branch } => r.hint(format!(
            "if it holds work, rename it (`git branch -m {branch} {branch}-old`); else delete it (`git branch -D {branch}`)"
        )),
        StartError::Overlap { first, .. } => r.hint(format!(
            "start one of them now and the other after it lands (`git par start {first}`)"
        )),
        StartError::NoCommits { .. } => r.hint("make a first commit, then start tasks"),
        StartError::NoMainBranch { .. } => {
            r.hint("check out the branch tasks should land on, or set `git config par.mainBranch BRANCH`")
        }
    }
}

fn prepare(e: &PrepareError) -> Refusal {
    match e {
        PrepareError::BadGlob { .. } => failed(e)
            .hint("fix it with `git config --unset-all par.copy` and `git config --add par.copy GLOB`"),
        PrepareError::SetupFailed { log, .. } => failed(e)
            .hint(format!("its whole output is in {}", log.display()))
            .hint("fix the command with `git config par.setup CMD` (or unset it), then start the task again"),
    }
}

fn up(e: &UpError) -> Refusal {
    match e {
        UpError::UnknownTask { .. } => failed(e).hint("`git par list` shows the task IDs"),
        UpError::Running => Refusal::busy(e.to_string())
            .hint("wait for it to end, or stop it with Ctrl-C; `git par lock-status` shows its tasks"),
    }
}

fn lock(e: &LockError) -> Refusal {
    let r = failed(e);
    match e {
        LockError::NotPattern { id, .. } => r.hint(format!("`git par lock-status` lists {id}'s locks")),
        LockError::NotLocked { locks, .. } => {
            let held = if locks.is_empty() { "none".to_string() } else { locks.join(", ") };
            r.hint(format!("its locks are: {held}"))
        }
        LockError::Changed { branch, .. } => r.hint(format!(
            "another task could then change it too; take the change out of {branch} first, or keep the lock"
        )),
        LockError::NeedsForce { id, owner } => r
            .hint(format!(
                "if {owner} is gone, `git par unlock {id} --force` releases them; the branch and worktree are kept"
            ))
            .hint(format!("to stop the task and remove its worktree, use `git par abort {id}`")),
    }
}

fn abort(e: &AbortError) -> Refusal {
    let r = failed(e);
    match e {
        AbortError::LandingNow { id } => r.hint(format!(
            "wait for it to land or stop; if it hangs, stop that process, run `git par doctor --repair`, then `git par abort {id}`"
        )),
        AbortError::Finishing { id } => r
            .hint(format!("wait for `git par finish {id}` to complete"))
            .hint(format!(
                "if that finish was interrupted, `git par doctor` shows it; `git par abort {id} --force` aborts anyway"
            )),
        AbortError::Moved { id, moved, expected } => r.hint(format!(
            "move it back where git-par keeps it: `git worktree move {} {}`, then run `git par abort {id}` again",
            quote(moved),
            quote(expected)
        )),
        AbortError::CheckedOutElsewhere { id, other, .. } => r
            .hint(format!(
                "leave it there first (`git -C {} switch --detach`), or keep the branch: `git par abort {id} --keep-branch`",
                shell_quote(&other.display().to_string())
            ))
            .hint("nothing changed"),
        AbortError::CannotTell { id, .. } => r.hint(format!("`git par abort {id} --force` removes it anyway")),
        AbortError::WouldLose(loss) => {
            let (id, branch, worktree) = (&loss.id, &loss.branch, loss.worktree.display());
            let mut r = r;
            if loss.on_branch {
                r = r.hint(format!(
                    "land the work with `git par finish {id}`, or keep the commits on {branch} with --keep-branch"
                ));
            } else if let Some(tip) = loss.gone_branch_tip.filter(|_| !loss.commits.is_empty()) {
                r = r.hint(format!(
                    "its branch {branch} is gone; recreate it at its last commit with `git branch {branch} {tip}`, then land the work with `git par finish {id}`"
                ));
            } else if !loss.commits.is_empty() {
                r = r.hint(format!(
                    "the worktree's HEAD is detached: save its commits with `git switch -c NAME` in {worktree}"
                ));
            }
            if !loss.files.is_empty() {
                r = r.hint(format!("commit or stash the changes in {worktree}"));
            }
            r.hint("or throw all of it away with --force")
        }
    }
}

fn block(e: &BlockError) -> Refusal {
    match e {
        BlockError::NoReason { id } => {
            Refusal::usage(e.to_string()).hint(format!("git par block {id} \"what it waits for\""))
        }
        BlockError::NotBlocked { id } => {
            failed(e).hint(format!("`git par block {id} REASON` records a blocker"))
        }
    }
}

/// The command that takes up where `resume` says.
fn again(resume: &Resume) -> String {
    match resume {
        Resume::Finish(id) => format!("git par finish {id}"),
        Resume::Repair => "git par doctor --repair".to_string(),
    }
}

/// The hint that says where `--verify` left the files it changed.
/// `r`, with where the verify's changes went when it left any.
fn with_stash_hint(r: Refusal, stash: Option<&Stash>, worktree: &Path) -> Refusal {
    match stash {
        Some(stash) => r.hint(stash_hint(stash, worktree)),
        None => r,
    }
}

fn stash_hint(stash: &Stash, worktree: &Path) -> String {
    match stash {
        Stash::Saved { message } => format!(
            "the files it changed are saved in stash@{{0}} (\"{message}\"): see them with \
             `git -C {} stash show -p --include-untracked stash@{{0}}`",
            worktree.display()
        ),
        Stash::Failed { reason } => format!(
            "the files it changed are still in the worktree ({}): saving them in the stash failed: {reason}",
            worktree.display()
        ),
    }
}

fn land(e: &LandError) -> Refusal {
    let r = failed(e);
    let finish_again = |id: &str| format!("then run `git par finish {id}` again");
    match e {
        LandError::AlreadyLanded { id, main } => {
            r.hint(format!("see its landing with `git log --grep 'Par-Task: {id}' {main}`"))
        }
        LandError::NotActive { id, active } if active.is_empty() => {
            r.hint(format!("start it first with `git par start {id}`; no task is active"))
        }
        LandError::NotActive { id, active } => {
            match git_par::tasks::similar_id(id, active.iter().map(String::as_str)) {
                Some(similar) => r.hint(format!("did you mean {similar}? active tasks: {}", active.join(", "))),
                None => r.hint(format!("active tasks: {}; see `git par lock-status`", active.join(", "))),
            }
        }
        LandError::NeedsRepair { .. } => {
            r.hint("run `git par doctor --repair`, then finish again if the task is still active")
        }
        LandError::FinishRunning { id } => Refusal::busy(e.to_string())
            .hint(format!("let it land or be refused, then see `git par show {id}`")),
        LandError::NotSynced { id, .. } => r
            .hint("run `git par doctor --repair` to complete it (do not commit or stash what `git status` shows there)")
            .hint(finish_again(id)),
        LandError::AbortedMeanwhile { id } => r.hint(format!(
            "`git par lock-status` shows the active tasks; `git par start {id}` starts it again"
        )),
        LandError::QueueBusy { id, .. } => Refusal::busy(e.to_string())
            .hint(format!("retry later, or wait longer with `git par finish {id} --wait SECS`")),
        LandError::IndexLocked { lock, worktree, resume, .. } => Refusal::busy(e.to_string())
            .hint(format!(
                "a git command is running in {}; let it end, then run `{}` again",
                worktree.display(),
                again(resume)
            ))
            .hint(format!("if none is, a git command that died left it: remove it (`rm {}`)", lock.display())),
        LandError::MainLocked { id, .. } => r
            .hint("a git command is moving it, or one died while it did; if none is running, remove that file")
            .hint(finish_again(id)),
        LandError::MainMoved { id, main } => Refusal::busy(e.to_string()).hint(format!(
            "something outside git-par is committing to {main}; retry `git par finish {id}`"
        )),
        LandError::Blocked { id, .. } => r.hint(format!("clear the blocker with `git par unblock {id}` first")),
        LandError::NoMain { main } => r.hint(format!(
            "create it (`git branch {main} <commit>`) or land elsewhere with `git config par.mainBranch BRANCH`"
        )),
        LandError::BranchGone { id, branch } => r.hint(format!(
            "recreate it at the task's last commit (`git branch {branch} <commit>`, see `git reflog`), or drop the task with `git par abort {id}`"
        )),
        LandError::Moved { id, moved, expected } => r.hint(format!(
            "move it back where git-par keeps it: `git worktree move {} {}`, then run `git par finish {id}` again",
            quote(moved),
            quote(expected)
        )),
        LandError::WorktreeMissing { id, worktree, branch } => r.hint(format!(
            "recreate it with `git worktree prune && git worktree add {} {branch}`, or drop the task with `git par abort {id}`",
            worktree.display()
        )),
        LandError::WrongBranch { worktree, branch, .. } => {
            r.hint(format!("switch back with `git -C {} switch {branch}`", worktree.display()))
        }
        LandError::OperationInTask { id, worktree, .. } => r.hint(format!(
            "finish it (`git -C {} commit`) or abort it, then run `git par finish {id}` again",
            worktree.display()
        )),
        LandError::CommitFailed { id, worktree, .. } => r.hint(format!(
            "commit them yourself in {}, then run `git par finish {id}` again",
            worktree.display()
        )),
        LandError::CommitRefused { id, by_hook: true, .. } => r
            .hint(format!(
                "fix the files it names, or add them to the task with `git par lock {id} --add PATH`; \
                 then run `git par finish {id} --commit \"MESSAGE\"` again"
            ))
            .hint("nothing was committed, and the index is as it was"),
        LandError::CommitRefused { id, worktree, by_hook: false } => r
            .hint(format!(
                "commit them yourself in {}, then run `git par finish {id}` again",
                worktree.display()
            ))
            .hint("nothing was committed, and the index is as it was"),
        LandError::Dirty { id, .. } => {
            r.hint(format!("commit them, or let finish do it: `git par finish {id} --commit \"MESSAGE\"`"))
        }
        LandError::IgnoredWork { id, worktree, paths } => {
            let quoted: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
            r.hint(format!(
                "to land it, commit it anyway: `git -C {} add -f -- {} && git -C {} commit`; or copy it where it belongs",
                shell_quote(&worktree.display().to_string()),
                quoted.join(" "),
                shell_quote(&worktree.display().to_string()),
            ))
            .hint(format!("or land the task and keep its worktree: `git par finish {id} --keep`"))
            .hint("nothing changed")
        }
        LandError::OperationOnMain { id, main, op, .. } => {
            let how = match op.as_str() {
                "bisect" => "end it with `git bisect reset`".to_string(),
                "conflict resolution" => "resolve the conflicts and commit, or `git reset --merge`".to_string(),
                op => {
                    let git = if op.starts_with("git ") { op.to_string() } else { format!("git {op}") };
                    format!("finish it (`{git} --continue`) or abort it (`{git} --abort`)")
                }
            };
            r.hint(format!("{how} there, then run `git par finish {id}` again"))
                .hint(format!("nothing changed: {main} is as it was"))
        }
        LandError::InTheWay { id, main, branch, dir, blocked, .. } => {
            let moves: Vec<String> = blocked
                .iter()
                .map(|b| {
                    let path = dir.join(&b.path).display().to_string();
                    format!("mv {} {}", shell_quote(&path), shell_quote(&format!("{path}.aside")))
                })
                .collect();
            r.hint(format!(
                "move or remove them (`{}`), then run `git par finish {id}` again",
                moves.join(" && ")
            ))
            .hint(format!("nothing changed: {main} and {branch} are as they were"))
        }
        LandError::MainDirty { id, dir, status, .. } => {
            let names: Vec<&str> = status.iter().map(|(_, p)| p.as_str()).collect();
            r.hint(format!(
                "commit or stash them (`git -C {} stash push --include-untracked -- {}`), then run `git par finish {id}` again",
                dir.display(),
                names.join(" ")
            ))
        }
        LandError::NotCheckedOut { id, .. } => r.hint(format!("run `git par finish {id}` again")),
        LandError::Conflict { id, main, branch, worktree, .. } => r
            .hint(format!(
                "resolve them in the task's worktree: `cd {} && git merge {main}`, fix the files, `git commit`, then run `git par finish {id}` again",
                worktree.display()
            ))
            .hint(format!("nothing changed: {main} and {branch} are as they were")),
        LandError::ReplayConflict { id, main, branch, worktree, .. } => r
            .hint(format!(
                "rebase it in the task's worktree: `cd {} && git rebase {main}`, fix the files, `git rebase --continue`, then run `git par finish {id} --strategy rebase` again; or land it as a merge with `--strategy merge`",
                worktree.display()
            ))
            .hint(format!("nothing changed: {main} and {branch} are as they were")),
        LandError::VerifyChanged { worktree, stash, .. } => {
            let r = r.hint(
                "what is verified must be what lands: make the verify command leave the worktree alone, or ignore what it writes in .gitignore",
            );
            with_stash_hint(r, stash.as_ref(), worktree)
        }
        LandError::Interrupted { id, worktree, stash, .. } => {
            let r = Refusal { exit: Exit::Interrupted, ..r }.hint(format!(
                "{id} is active as it was; run `git par finish {id}` again when you are ready"
            ));
            with_stash_hint(r, stash.as_ref(), worktree)
        }
        LandError::VerifyFailed { id, worktree, stash, .. } => {
            let r = r.hint(format!(
                "fix the task in its worktree ({}), commit, and run `git par finish {id}` again",
                worktree.display()
            ));
            with_stash_hint(r, stash.as_ref(), worktree)
        }
        LandError::MainUpdateBlocked { resume, .. } => {
            r.hint(format!("move or remove them, then run {}", then(resume)))
        }
        LandError::MainUpdateFailed { worktree, resume, .. } => r.hint(format!(
            "commit or stash your changes to those files in {}, then run {}",
            worktree.display(),
            then(resume)
        )),
        LandError::Scope { task, branch, main, held, outside } => {
            let mut r = if held.is_empty() { r } else { Refusal::busy(e.to_string()) };
            if !held.is_empty() {
                r = r.hint(format!(
                    "a commit reached {branch} without the pre-commit check (git am, cherry-pick, merge, --no-verify, no hook); \
                     take the change out of {branch}, or wait until {} lands or is aborted and finish again",
                    LandError::holders(held).join(", ")
                ));
                let paths: Vec<String> = held.iter().map(|h| shell_quote(&h.path)).collect();
                r = r.hint(format!(
                    "to take it out, in {task}'s worktree: git restore --source=\"$(git merge-base HEAD {main})\" \
                     --staged --worktree -- {} && git commit -m \"Leave {}'s files alone\"",
                    paths.join(" "),
                    LandError::holders(held).join(", ")
                ));
            }
            if !outside.is_empty() {
                let adds: Vec<String> = outside.iter().map(|p| format!("--add {}", shell_quote(p))).collect();
                let them = if outside.len() == 1 { "it" } else { "them" };
                r = r
                    .hint(format!("to make {them} part of {task}: git par lock {task} {}", adds.join(" ")))
                    .hint(format!(
                        "or take the change out of {branch}; `git config par.enforceScope warn` lets such paths land with a warning"
                    ));
            }
            r.hint(format!("nothing changed: {main} and {branch} are as they were"))
        }
    }
}

/// What to run after moving things out of the main worktree's way.
fn then(resume: &Resume) -> String {
    match resume {
        Resume::Finish(id) => format!("`git par finish {id}` again"),
        Resume::Repair => "`git par doctor --repair`".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn a_refusal_is_found_as_error_context_or_cause() {
        let plain: anyhow::Error = Refusal::busy("held").into();
        assert_eq!(exit_code(&plain), 3);

        let as_context = anyhow::Error::new(std::io::Error::other("low level"))
            .context(Refusal::usage("bad flag").hint("use --x"));
        assert_eq!(exit_code(&as_context), 2);
        assert_eq!(as_context.to_string(), "bad flag");
        assert_eq!(refusal(&as_context).map(|r| r.hints), Some(vec!["use --x".to_string()]));

        let wrapped = Err::<(), _>(as_context).context("while starting T004").unwrap_err();
        assert_eq!(exit_code(&wrapped), 2);

        let foreign = anyhow::anyhow!("no refusal here");
        assert_eq!(exit_code(&foreign), 1);
        assert!(refusal(&foreign).is_none());
    }

    #[test]
    fn domain_errors_are_found_in_the_chain_and_mapped() {
        let busy = anyhow::Error::new(LandError::MainMoved { id: "T1".into(), main: "main".into() })
            .context("while landing");
        assert_eq!(exit_code(&busy), 3);
        let r = refusal(&busy).expect("a refusal");
        assert_eq!(r.message, "main kept moving while T1 was landing");
        assert_eq!(r.hints, ["something outside git-par is committing to main; retry `git par finish T1`"]);
        let usage: anyhow::Error = BlockError::NoReason { id: "T2".into() }.into();
        assert_eq!(exit_code(&usage), 2);
        let cycle =
            anyhow::Error::new(CycleError { cycle: "T1 → T2 → T1".into() }).context("reading tasks.md");
        let r = refusal(&cycle).expect("a refusal");
        assert_eq!((r.exit, r.message.as_str()), (Exit::Failed, "dependency cycle: T1 → T2 → T1"));
        assert_eq!(
            r.hints,
            ["each task in the cycle waits for the one before it; remove one of these dependencies from the task file"]
        );
    }
}
