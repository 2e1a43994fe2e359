//! Driving tmux for `git par tmux`: one session, one window, tiled panes.
//!
//! Safety: text from tasks.md never reaches a shell. Each pane runs
//! `cat <banner file>; exec $SHELL`, where the banner file (written by
//! git-par, control characters written out) holds the task's description and
//! recommended command as data. Only paths git-par chose are quoted into
//! the pane's command line. tmux expands formats in some arguments (a
//! pane's start directory, a session's name), and `#(cmd)` in a format runs
//! `cmd`: those arguments go through [`literal`], which escapes `#`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result};

use crate::workflow::shell_quote;

/// Why panes cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TmuxError {
    /// `tmux -V` does not run.
    NotInstalled,
    /// A session of that name is there already.
    SessionExists { name: String },
    /// tmux would read the name as something else.
    InvalidName { name: String },
}

impl std::fmt::Display for TmuxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TmuxError::NotInstalled => f.write_str("tmux is not installed or cannot be run"),
            TmuxError::SessionExists { name } => write!(f, "a tmux session named '{name}' already exists"),
            TmuxError::InvalidName { name } => write!(f, "invalid tmux session name '{name}'"),
        }
    }
}

impl std::error::Error for TmuxError {}

/// One pane to open.
#[derive(Debug, Clone)]
pub struct Pane {
    pub task: String,
    /// The pane's starting directory (the task's worktree).
    pub dir: PathBuf,
    /// `NAME=VALUE` pairs exported in the pane.
    pub env: Vec<(String, String)>,
    /// The text shown when the pane opens.
    pub banner: String,
}

/// What was opened.
#[derive(Debug, Clone)]
pub struct Opened {
    pub session: String,
    /// tmux pane IDs (`%3`), in the order of the panes given.
    pub pane_ids: Vec<String>,
}

/// Checks that tmux can be run ([`TmuxError::NotInstalled`] when it cannot).
pub fn require_tmux() -> Result<()> {
    match Command::new("tmux").arg("-V").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err(TmuxError::NotInstalled.into()),
    }
}

/// Whether a session of that exact name exists.
pub fn has_session(name: &str) -> bool {
    Command::new("tmux")
        .args(["has-session", "-t", &format!("={name}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Opens the panes in session `name`: a new session, or (with `add`) new
/// panes in the existing session's current window. Banners are written
/// under `banner_dir`.
pub fn open(name: &str, panes: &[Pane], add: bool, banner_dir: &Path) -> Result<Opened> {
    validate_session_name(name)?;
    let exists = has_session(name);
    if exists && !add {
        return Err(TmuxError::SessionExists { name: name.to_string() }.into());
    }
    fs::create_dir_all(banner_dir).with_context(|| format!("creating {}", banner_dir.display()))?;
    let target = format!("={name}:");
    let mut pane_ids = Vec::new();
    for (i, pane) in panes.iter().enumerate() {
        let banner = banner_dir.join(format!("{}.txt", pane.task));
        fs::write(&banner, crate::text::escape_controls(&pane.banner).as_bytes())
            .with_context(|| format!("writing {}", banner.display()))?;
        let shell_command =
            format!("cat {}; exec \"${{SHELL:-/bin/sh}}\"", shell_quote(&banner.to_string_lossy()));
        let mut args: Vec<String> = if i == 0 && !exists {
            vec!["new-session".into(), "-d".into(), "-s".into(), literal(name), "-n".into(), "tasks".into()]
        } else {
            vec!["split-window".into(), "-t".into(), target.clone()]
        };
        args.extend(["-P".into(), "-F".into(), "#{pane_id}".into()]);
        args.extend(["-c".into(), literal(&pane.dir.to_string_lossy())]);
        for (key, value) in &pane.env {
            args.extend(["-e".into(), format!("{key}={value}")]);
        }
        args.push(shell_command);
        let out = tmux(&args)?;
        pane_ids.push(out.trim().to_string());
        // Re-tile after every split so the next split has room.
        tmux(&["select-layout".into(), "-t".into(), target.clone(), "tiled".into()])?;
    }
    Ok(Opened { session: name.to_string(), pane_ids })
}

/// A pane running a command.
#[derive(Debug, Clone)]
pub struct RunningPane {
    /// tmux's pane ID (`%3`).
    pub id: String,
    /// The PID of the pane's command, the leader of its process group.
    pub pid: u32,
}

/// Runs `argv` (executed directly, no shell in between) in a new pane of
/// session `name` starting in `dir`: a new session when there is none, else
/// a pane split off its window (a new window when the window is full).
pub fn run_in_pane(name: &str, dir: &Path, argv: &[String]) -> Result<RunningPane> {
    validate_session_name(name)?;
    let target = format!("={name}:");
    let tail = |mut args: Vec<String>| {
        args.extend(["-P".into(), "-F".into(), "#{pane_id} #{pane_pid}".into()]);
        args.extend(["-c".into(), literal(&dir.to_string_lossy())]);
        args.extend(argv.iter().cloned());
        args
    };
    let attempts = [
        tail(vec!["split-window".into(), "-t".into(), target.clone()]),
        tail(vec!["new-window".into(), "-t".into(), target.clone()]),
        tail(vec![
            "new-session".into(),
            "-d".into(),
            "-s".into(),
            literal(name),
            "-n".into(),
            "agents".into(),
        ]),
    ];
    // The session comes and goes with its last pane: try what fits now.
    let first = if has_session(name) { 0 } else { 2 };
    let mut last_error = None;
    for args in &attempts[first..] {
        match tmux(args) {
            Ok(out) => {
                let mut fields = out.split_whitespace();
                let (Some(id), Some(pid)) = (fields.next(), fields.next().and_then(|p| p.parse().ok()))
                else {
                    anyhow::bail!("tmux printed no pane for {}: {out}", args.join(" "));
                };
                let _ = tmux(&["select-layout".into(), "-t".into(), target.clone(), "tiled".into()]);
                return Ok(RunningPane { id: id.to_string(), pid });
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("tmux opened no pane")))
}

/// Appends everything pane `pane` shows to the file `log`.
pub fn pipe_pane(pane: &str, log: &Path) -> Result<()> {
    // tmux expands formats in the command, and runs it with /bin/sh.
    let command = format!("cat >> {}", literal(&shell_quote(&log.to_string_lossy())));
    tmux(&["pipe-pane".into(), "-t".into(), pane.to_string(), "-o".into(), command]).map(drop)
}

/// Wakes whoever waits on `tmux wait-for CHANNEL` (or the next to wait).
pub fn signal(channel: &str) -> Result<()> {
    tmux(&["wait-for".into(), "-S".into(), channel.to_string()]).map(drop)
}

/// Attaches the terminal to the session, or switches the client when
/// already inside tmux (never nesting).
pub fn attach(name: &str) -> Result<()> {
    let inside = std::env::var_os("TMUX").is_some_and(|v| !v.is_empty());
    let verb = if inside { "switch-client" } else { "attach-session" };
    let status = Command::new("tmux")
        .args([verb, "-t", &format!("={name}")])
        .status()
        .with_context(|| format!("running tmux {verb}"))?;
    if !status.success() {
        anyhow::bail!("tmux {verb} -t {name} failed");
    }
    Ok(())
}

fn tmux(args: &[String]) -> Result<String> {
    let out = Command::new("tmux").args(args).output().context("running tmux")?;
    if !out.status.success() {
        anyhow::bail!("tmux {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn validate_session_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains([':', '.']) || name.chars().any(char::is_control) {
        return Err(TmuxError::InvalidName { name: name.to_string() }.into());
    }
    Ok(())
}

/// `text` as tmux reads it literally where it expands formats: `#` is
/// doubled, so `#(cmd)` or `#{var}` stays text.
fn literal(text: &str) -> String {
    text.replace('#', "##")
}

#[cfg(test)]
mod tests {

    #[test]
    fn formats_are_escaped() {
        assert_eq!(super::literal("/r/proj#(touch x)#{pane_id}"), "/r/proj##(touch x)##{pane_id}");
    }
}
