//! `sync` and `log`: the remote state fetched now, and its audit log (remote mode).

use anyhow::Result;
use serde::Serialize;

use crate::cli::{LogArgs, SyncArgs};
use crate::output::Ui;
use git_par::state::remote::{RemoteBackend, RemoteError};
use git_par::state::Event;
use git_par::workspace::Workspace;

fn remote<'a>(ws: &'a Workspace, command: &str) -> Result<&'a RemoteBackend> {
    ws.state().remote().ok_or_else(|| RemoteError::NotRemoteMode { command: command.to_string() }.into())
}

#[derive(Serialize)]
struct SyncJson<'a> {
    remote: &'a str,
    /// The state commit fetched; `null` when the remote has no state yet.
    state: Option<String>,
    tasks: Vec<&'a str>,
    heartbeats: &'a std::collections::BTreeMap<String, String>,
}

/// Runs `git par sync`.
pub fn sync(_: &SyncArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let remote = remote(ws, "sync")?;
    let (oid, state) = remote.sync()?;
    if ui.json {
        let tasks = state.tasks.keys().map(String::as_str).collect();
        let body = SyncJson {
            remote: remote.remote(),
            state: oid.map(|o| o.to_string()),
            tasks,
            heartbeats: &state.heartbeats,
        };
        return ui.json(&body);
    }
    let n = state.tasks.len();
    match oid {
        Some(oid) => ui.status(&format!(
            "fetched the state from {} (refs/par/state at {}): {n} active task{}",
            remote.remote(),
            &oid.to_string()[..7],
            if n == 1 { "" } else { "s" }
        )),
        None => {
            ui.status(&format!("{} has no git-par state yet (the first start creates it)", remote.remote()))
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Entry {
    commit: String,
    /// Seconds since the epoch (the commit's time).
    time: i64,
    subject: String,
    events: Vec<serde_json::Value>,
}

/// Runs `git par log`.
pub fn log(args: &LogArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let remote = remote(ws, "log")?;
    let mut history = remote.log()?;
    if let Some(n) = args.max_count {
        history.truncate(n);
    }
    let entries: Vec<Entry> = history
        .into_iter()
        .map(|(oid, time, message)| Entry {
            commit: oid.to_string(),
            time,
            subject: message.lines().next().unwrap_or_default().to_string(),
            events: message
                .lines()
                .filter(|l| l.starts_with('{'))
                .filter_map(|l| serde_json::from_str(l).ok())
                .filter_map(|v| Event::from_json(v).map(|e| e.to_json()))
                .collect(),
        })
        .collect();
    if ui.json {
        return ui.json(&serde_json::json!({"remote": remote.remote(), "log": entries}));
    }
    let mut out = String::new();
    for entry in &entries {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(entry.time.max(0) as u64);
        out.push_str(&format!(
            "{} {} {}\n",
            &entry.commit[..7],
            humantime::format_rfc3339_seconds(at),
            git_par::text::escape_controls(&entry.subject)
        ));
    }
    ui.out(&out)
}
