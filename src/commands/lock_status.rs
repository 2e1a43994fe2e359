//! `lock-status`: the active tasks and the paths they hold.

use std::time::{Duration, SystemTime};

use anyhow::Result;
use serde::Serialize;

use crate::cli::LockStatusArgs;
use crate::output::Style;
use crate::output::Ui;
use git_par::lifecycle::{self, StatusRow};
use git_par::workspace::Workspace;

#[derive(Serialize)]
struct Body<'a> {
    tasks: &'a [StatusRow],
}

/// Runs `git par lock-status`.
pub fn run(args: &LockStatusArgs, ws: &Workspace, ui: &Ui) -> Result<()> {
    let mut rows = lifecycle::status(ws)?;
    if args.stale {
        rows.retain(|r| r.stale);
    }
    if ui.json {
        return ui.json(&Body { tasks: &rows });
    }
    if rows.is_empty() {
        ui.status(if args.stale {
            "no stale tasks"
        } else {
            "no active tasks (`git par start ID` starts one)"
        });
        return Ok(());
    }
    let now = SystemTime::now();
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.id.clone(),
                serde_json::to_value(r.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                r.branch.clone(),
                r.owner.clone(),
                age(&r.started_at, now),
                if r.locks.is_empty() { "-".to_string() } else { r.locks.join(", ") },
            ]
        })
        .collect();
    let header = ["ID", "STATE", "BRANCH", "OWNER", "AGE", "LOCKS"].map(str::to_string);
    let mut widths = header.clone().map(|h| h.len());
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 6]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        text.trim_end().to_string() + "\n"
    };
    let mut out = ui.paint(Style::Bold, line(&header).trim_end()) + "\n";
    for (cells, row) in table.iter().zip(&rows) {
        out.push_str(&line(cells));
        if let Some(reason) = &row.blocked_reason {
            out.push_str(&format!("    blocked: {reason}\n"));
        }
        if let Some(why) = &row.stale_reason {
            out.push_str(&ui.paint(Style::Warning, &format!("    stale: {why}")));
            out.push('\n');
        }
    }
    if rows.iter().any(|r| r.stale) {
        ui.hint("`git par doctor` explains stale tasks and repairs what is safe");
    }
    ui.out(&out)
}

/// How long ago an RFC 3339 time was, shortly: `42s`, `5m`, `3h`, `2d`.
fn age(started_at: &str, now: SystemTime) -> String {
    let Ok(then) = humantime::parse_rfc3339(started_at) else { return "?".to_string() };
    let secs = now.duration_since(then).unwrap_or(Duration::ZERO).as_secs();
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_short() {
        let now = humantime::parse_rfc3339("2026-01-03T00:00:00Z").unwrap();
        assert_eq!(age("2026-01-02T23:59:30Z", now), "30s");
        assert_eq!(age("2026-01-02T23:50:00Z", now), "10m");
        assert_eq!(age("2026-01-02T00:00:00Z", now), "24h");
        assert_eq!(age("2026-01-01T00:00:00Z", now), "2d");
        assert_eq!(age("garbage", now), "?");
        assert_eq!(age("2027-01-01T00:00:00Z", now), "0s");
    }
}
