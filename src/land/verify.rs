//! Step 4 of a landing: the user's verify command, run in the task's worktree.

use std::fs;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use super::{LandError, Stash};
use crate::repo::{self as git};
use crate::state::ParDir;
/// Lines of a failed `--verify` shown in the error.
pub(super) const VERIFY_TAIL: usize = 20;

/// Step 4: runs the user's verify command in the task's worktree.
pub(super) fn verify(par: &ParDir, command: &str, worktree: &Path, id: &str) -> Result<()> {
    let dir = par.verify_dir();
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let out_path = par.verify_output(id);
    let out = fs::File::create(&out_path).with_context(|| format!("creating {}", out_path.display()))?;
    // One file for both streams keeps their lines in order.
    let mut sh = crate::shell::sh_in(worktree, out, &out_path)?;
    sh.arg("-c").arg(command).env("GIT_PAR_TASK", id);
    let (status, interrupted) = match INTERRUPTS.get() {
        Some(interrupts) => {
            // Its own process group: a Ctrl-C reaches git-par alone, which
            // stops the whole command and rolls the landing back.
            interrupts.run(sh.process_group(0)).with_context(|| format!("running `sh -c {command}`"))?
        }
        None => (sh.status().with_context(|| format!("running `sh -c {command}`"))?, false),
    };
    let output = fs::read(&out_path).unwrap_or_default();
    let _ = fs::remove_file(&out_path);
    // Whatever the command changed goes to the stash: the rollback then puts
    // the worktree back exactly, and nothing the command wrote is lost.
    let dirty = git::uncommitted(worktree, None)?;
    let stash = if dirty.is_empty() {
        None
    } else {
        let message = format!("git-par: changes made by --verify of {id}");
        Some(match git::stash_everything(worktree, &message) {
            Ok(()) => Stash::Saved { message },
            Err(e) => Stash::Failed { reason: format!("{e:#}") },
        })
    };
    let (id, command) = (id.to_string(), command.to_string());
    if interrupted {
        return Err(LandError::Interrupted { id, command, worktree: worktree.to_path_buf(), stash }.into());
    }
    if status.success() {
        if dirty.is_empty() {
            return Ok(());
        }
        let worktree = worktree.to_path_buf();
        return Err(LandError::VerifyChanged { id, command, status: dirty, worktree, stash }.into());
    }
    let text = String::from_utf8_lossy(&output);
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(VERIFY_TAIL)..].join("\n");
    let (code, worktree) = (status.code(), worktree.to_path_buf());
    Err(LandError::VerifyFailed { id, command, code, tail, worktree, stash }.into())
}

/// Ctrl-C (SIGINT) and SIGTERM while a verify runs, once [`catch_interrupts`] was called.
struct Interrupts {
    /// A signal came while a verify ran.
    caught: Arc<AtomicBool>,
    /// No verify runs: a signal does what it does by default (ends git-par).
    outside: Arc<AtomicBool>,
}

static INTERRUPTS: OnceLock<Interrupts> = OnceLock::new();

/// From now on, an interrupt during a verify stops the verify command (its
/// whole process group) and the landing is rolled back as for a failed
/// verify ([`LandError::Interrupted`]); at any other moment it ends the
/// process as before (`doctor --repair` finishes or undoes what it left).
/// For `finish`, which a person may Ctrl-C; `up` has its own handling.
pub fn catch_interrupts() -> Result<()> {
    if INTERRUPTS.get().is_some() {
        return Ok(());
    }
    let interrupts =
        Interrupts { caught: Arc::new(AtomicBool::new(false)), outside: Arc::new(AtomicBool::new(true)) };
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_default(signal, Arc::clone(&interrupts.outside))
            .context("catching Ctrl-C")?;
        signal_hook::flag::register(signal, Arc::clone(&interrupts.caught)).context("catching Ctrl-C")?;
    }
    let _ = INTERRUPTS.set(interrupts);
    Ok(())
}

impl Interrupts {
    /// Runs the verify `command` to its end; on an interrupt, stops its
    /// process group (SIGTERM, then SIGKILL after two seconds). Returns its
    /// status and whether it was interrupted. Interrupts are caught from
    /// before the spawn: one that comes as the verify starts is not fatal.
    fn run(&self, command: &mut Command) -> std::io::Result<(ExitStatus, bool)> {
        self.caught.store(false, Ordering::SeqCst);
        self.outside.store(false, Ordering::SeqCst);
        let result = command.spawn().and_then(|mut child| self.watch(&mut child));
        self.outside.store(true, Ordering::SeqCst);
        result
    }

    fn watch(&self, child: &mut Child) -> std::io::Result<(ExitStatus, bool)> {
        let group = child.id() as libc::pid_t;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok((status, self.caught.load(Ordering::SeqCst)));
            }
            if self.caught.load(Ordering::SeqCst) {
                // SAFETY: kill(2) with a negative pid signals the group the child leads; no memory is touched.
                unsafe { libc::kill(-group, libc::SIGTERM) };
                let until = Instant::now() + Duration::from_secs(2);
                while Instant::now() < until {
                    if let Some(status) = child.try_wait()? {
                        return Ok((status, true));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                // SAFETY: as above.
                unsafe { libc::kill(-group, libc::SIGKILL) };
                return Ok((child.wait()?, true));
            }
            // The verify's own time dominates: a 20 ms look costs nothing.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
